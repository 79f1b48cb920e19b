// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The data plane's full-NAT maps (dp_nat.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xlb/trace.h> /* the skeleton names xlb_trace_cfg */
#include "balance.skel.h"
#include "dp_nat.h"
#include "dp_priv.h"

/* Entries per batch of the walk: a few hundred KiB of keys and values. */
#define NAT_BATCH 1024

static size_t subpools_len(void)
{
	size_t page = sysconf(_SC_PAGESIZE);

	return (XLB_MAX_SUBPOOLS * sizeof(struct xlb_nat_subpool) + page - 1) /
	       page * page;
}

int xlb_dp_nat_open(struct xlb_dp *dp)
{
	void *p;

	dp->nat_fwd_fd = bpf_map__fd(dp->skel->maps.nat_fwd);
	dp->nat_rev_fd = bpf_map__fd(dp->skel->maps.nat_rev);
	dp->nat_subpools_fd = bpf_map__fd(dp->skel->maps.nat_subpools);
	dp->nat_cpu_fd = bpf_map__fd(dp->skel->maps.nat_cpu);
	dp->nat_events_fd = bpf_map__fd(dp->skel->maps.nat_events);
	p = mmap(NULL, subpools_len(), PROT_READ | PROT_WRITE, MAP_SHARED,
		 dp->nat_subpools_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	dp->nat_subpools = p;
	return 0;
}

void xlb_dp_nat_close(struct xlb_dp *dp)
{
	if (dp->nat_subpools)
		munmap(dp->nat_subpools, subpools_len());
	dp->nat_subpools = NULL;
}

struct xlb_nat_subpool *xlb_dp_nat_subpools(struct xlb_dp *dp)
{
	return dp->nat_subpools;
}

int xlb_dp_nat_ncpus(void)
{
	return libbpf_num_possible_cpus();
}

/* struct xlb_nat_cpu is 16 bytes: per-CPU values are laid at 8-byte
 * multiples, so an array of them is the map's per-CPU value as it is. */
int xlb_dp_nat_cpu_read(struct xlb_dp *dp, __u32 pool_id, struct xlb_nat_cpu *v)
{
	return bpf_map_lookup_elem(dp->nat_cpu_fd, &pool_id, v) ? -errno : 0;
}

int xlb_dp_nat_cpu_write(struct xlb_dp *dp, __u32 pool_id,
			 const struct xlb_nat_cpu *v)
{
	return bpf_map_update_elem(dp->nat_cpu_fd, &pool_id, v, BPF_ANY)
		       ? -errno
		       : 0;
}

int xlb_dp_nat_walk(struct xlb_dp *dp, xlb_dp_nat_walk_fn fn, void *ctx)
{
	struct xlb_flow_key *keys = calloc(NAT_BATCH, sizeof(*keys));
	struct xlb_nat_fwd *vals = calloc(NAT_BATCH, sizeof(*vals));
	__u32 in = 0, out = 0, n;
	bool first = true, last = false;
	int ret = 0;

	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (!last && !ret) {
		n = NAT_BATCH;
		if (bpf_map_lookup_batch(dp->nat_fwd_fd, first ? NULL : &in,
					 &out, keys, vals, &n, NULL)) {
			if (errno != ENOENT) {
				ret = -errno;
				break;
			}
			last = true; /* n holds the table's last entries */
		}
		first = false;
		in = out;
		for (__u32 i = 0; i < n && !ret; i++)
			ret = fn(&keys[i], &vals[i], ctx);
	}
out:
	free(keys);
	free(vals);
	return ret;
}

int xlb_dp_nat_get(struct xlb_dp *dp, const struct xlb_flow_key *k,
		   struct xlb_nat_fwd *v)
{
	return bpf_map_lookup_elem(dp->nat_fwd_fd, k, v) ? -errno : 0;
}

void xlb_nat_rev_key(const struct xlb_flow_key *k, const struct xlb_nat_fwd *v,
		     struct xlb_flow_key *rk)
{
	memset(rk, 0, sizeof(*rk));
	rk->src = v->backend;
	rk->dst = v->nat_addr;
	rk->sport = k->dport;
	rk->dport = v->nat_port;
	rk->proto = k->proto;
	rk->family = k->family;
}

int xlb_dp_nat_delete(struct xlb_dp *dp, const struct xlb_flow_key *k,
		      const struct xlb_nat_fwd *v)
{
	struct xlb_flow_key rk;
	int ret = 0;

	/* The request's side first: nothing new hangs off the reply's. */
	if (bpf_map_delete_elem(dp->nat_fwd_fd, k))
		ret = -errno;
	if (ret && ret != -ENOENT)
		return ret;
	/* A reply's entry the data path failed to make is no error. */
	xlb_nat_rev_key(k, v, &rk);
	if (bpf_map_delete_elem(dp->nat_rev_fd, &rk) && errno != ENOENT && !ret)
		ret = -errno;
	return ret;
}

int xlb_dp_nat_events_fd(const struct xlb_dp *dp)
{
	return dp->nat_events_fd;
}

const struct xlb_backend *xlb_dp_backend_written(const struct xlb_dp *dp,
						 __u32 id)
{
	return id < XLB_MAX_BACKENDS ? &dp->written[id] : NULL;
}
