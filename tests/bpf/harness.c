// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The loaded programs and their maps, for the golden runner (main.c), the
 * setup helpers (setup.c) and the fuzz suite (tests/fuzz/): loading (from
 * the skeletons, or the balancer from another build's object file),
 * putting every map back to empty, reading the per-CPU counters, and the
 * failure notes of the case being run.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "golden.h"
#include <xlb/nat.h>
#include <xlb/trace.h>
#include <xlb/uplink.h>
#include "harness.h"
#include "loader.h"
#include "balance.skel.h"
#include "decap.skel.h"
#include "hc_encap.skel.h"

/* Flows the balancer's table is sized for: small, quick to clear. */
#define HARNESS_FLOWS 4096

struct harness H = {.ncounters = XLB_CNT_MAX};

void fail(struct tc *t, const char *fmt, ...)
{
	size_t n = strlen(t->why);
	va_list ap;

	if (n && n + 3 < sizeof(t->why)) {
		strcat(t->why, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(t->why + n, sizeof(t->why) - n, fmt, ap);
	va_end(ap);
	t->failed = true;
}

static int clear_hash(int fd, __u32 key_size)
{
	__u8 key[64];

	(void)key_size;
	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	return 0;
}

/* Zero every entry of an array (per-CPU when percpu), values vsize bytes. */
static int zero_array(int fd, __u32 n, __u32 vsize, bool percpu)
{
	__u32 stride = percpu ? ((vsize + 7) & ~7u) * H.ncpus : vsize;
	void *zero = calloc(1, stride);
	int err = 0;

	if (!zero)
		return -ENOMEM;
	for (__u32 k = 0; k < n && !err; k++)
		if (bpf_map_update_elem(fd, &k, zero, BPF_ANY))
			err = -errno;
	free(zero);
	return err;
}

static int discard(void *ctx, void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

/* Tracing off, its scratch zeroed and its ring read empty. */
static int reset_trace(void)
{
	struct ring_buffer *rb;
	int err = 0;

	err = err
		      ?: zero_array(H.trace_cfg, 1,
				    sizeof(struct xlb_trace_cfg), false);
	err = err
		      ?: zero_array(H.trace_scratch, 1,
				    sizeof(struct xlb_trace_scratch), true);
	if (err)
		return err;
	rb = ring_buffer__new(H.trace_events, discard, NULL, NULL);
	if (!rb)
		return -errno;
	if (ring_buffer__consume(rb) < 0)
		err = -EIO;
	ring_buffer__free(rb);
	return err;
}

int reset_balance(void)
{
	int err = 0;

	err = err ?: clear_hash(H.vips, sizeof(struct xlb_vip_key));
	xlb_flows_clear(&H.flows, 0);
	for (__u32 k = 0; k < XLB_MAX_VIPS; k++) {
		if (H.ring_set[k] && bpf_map_delete_elem(H.rings, &k) &&
		    errno != ENOENT)
			err = err ?: -errno;
		H.ring_set[k] = false;
	}
	err = err
		      ?: zero_array(H.vip_info, XLB_MAX_VIPS,
				    sizeof(struct xlb_vip_info), false);
	err = err
		      ?: zero_array(H.backends, XLB_MAX_BACKENDS,
				    sizeof(struct xlb_backend), false);
	err = err ?: zero_array(H.config, 1, sizeof(struct xlb_config), false);
	err = err
		      ?: zero_array(H.filter, 1, sizeof(struct xlb_vip_filter),
				    false);
	err = err
		      ?: zero_array(H.counters, H.ncounters,
				    sizeof(struct xlb_counter), true);
	err = err
		      ?: zero_array(H.vip_stats, XLB_MAX_VIPS,
				    sizeof(struct xlb_counter), true);
	err = err
		      ?: zero_array(H.backend_stats, XLB_MAX_BACKENDS,
				    sizeof(struct xlb_counter), true);
	err = err
		      ?: zero_array(H.flow_rate, 1,
				    sizeof(struct xlb_flow_rate), true);
	/* An object built before them lacks the new-flow counts. */
	if (H.vip_flows >= 0)
		err = err
			      ?: zero_array(H.vip_flows, XLB_MAX_VIPS,
					    sizeof(__u64), true);
	if (H.backend_flows >= 0)
		err = err
			      ?: zero_array(H.backend_flows, XLB_MAX_BACKENDS,
					    sizeof(__u64), true);
	/* An object built before tracing or full-NAT lacks their maps. */
	if (H.trace_cfg >= 0)
		err = err ?: reset_trace();
	if (H.uplink_set >= 0) {
		err = err
			      ?: zero_array(H.uplink_set, 1,
					    sizeof(struct xlb_uplink_set),
					    false);
		err = err
			      ?: zero_array(H.uplink_load, 1,
					    sizeof(struct xlb_uplink_load),
					    true);
		for (__u32 id = 0; id < XLB_MAX_UPLINKS; id++)
			if (bpf_map_delete_elem(H.uplink_tx, &id) &&
			    errno != ENOENT)
				err = err ?: -errno;
	}
	if (H.nat_fwd < 0)
		return err;
	err = err ?: clear_hash(H.nat_fwd, sizeof(struct xlb_flow_key));
	err = err ?: clear_hash(H.nat_rev, sizeof(struct xlb_flow_key));
	err = err
		      ?: zero_array(H.nat_subpools, GOLDEN_SUBPOOLS,
				    sizeof(struct xlb_nat_subpool), false);
	err = err
		      ?: zero_array(H.nat_cpu, GOLDEN_POOLS,
				    sizeof(struct xlb_nat_cpu), true);
	return err;
}

int reset_decap(void)
{
	int err = 0;

	err = err
		      ?: zero_array(H.decap_addrs, XLB_DECAP_ENTRIES,
				    sizeof(struct xlb_decap_bucket), false);
	err = err ?: zero_array(H.decap_active, 1, sizeof(__u32), false);
	err = err
		      ?: zero_array(H.decap_config, 1,
				    sizeof(struct xlb_decap_config), false);
	err = err
		      ?: zero_array(H.decap_counters, XLB_DECAP_MAX,
				    sizeof(struct xlb_counter), true);
	return err;
}

/* Sums a per-CPU array of xlb_counter into out[0..n). */
int percpu_sum(int fd, __u32 n, struct xlb_counter *out)
{
	struct xlb_counter *v = calloc(H.ncpus, sizeof(*v));
	int err = 0;

	if (!v)
		return -ENOMEM;
	for (__u32 k = 0; k < n; k++) {
		out[k].packets = out[k].bytes = 0;
		if (bpf_map_lookup_elem(fd, &k, v)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < H.ncpus; c++) {
			out[k].packets += v[c].packets;
			out[k].bytes += v[c].bytes;
		}
	}
	free(v);
	return err;
}

int snapshot(enum prog_kind k, struct snap *s)
{
	int err;

	if (k == PROG_DECAP)
		return percpu_sum(H.decap_counters, XLB_DECAP_MAX, s->cnt);
	err = percpu_sum(H.counters, H.ncounters, s->cnt);
	err = err ?: percpu_sum(H.vip_stats, XLB_MAX_VIPS, s->vip);
	err = err ?: percpu_sum(H.backend_stats, XLB_MAX_BACKENDS, s->be);
	return err;
}

int harness_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !H.verbose)
		return 0;
	if (level != LIBBPF_WARN && !H.verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static struct xlb_balance *bal;
static struct xlb_decap *dec;
static struct xlb_hc_encap *hc;
static struct bpf_object *file_obj; /* harness_load(path) */

/* A map's fd by name, or -1 (the caller's later use fails loudly). */
static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -1;
}

/* Fills H from a loaded balancer object, by map name. 0 or -errno. */
static int bind_balance(struct bpf_object *obj, struct bpf_program *prog)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "counters");
	int err;

	H.bal_prog = bpf_program__fd(prog);
	H.vips = map_fd(obj, "vips");
	H.vip_info = map_fd(obj, "vip_info");
	H.rings = map_fd(obj, "maglev_rings");
	H.backends = map_fd(obj, "backends");
	H.config = map_fd(obj, "config");
	H.filter = map_fd(obj, "vip_filter");
	H.counters = map_fd(obj, "counters");
	H.vip_stats = map_fd(obj, "vip_stats");
	H.backend_stats = map_fd(obj, "backend_stats");
	H.flow_rate = map_fd(obj, "flow_rate");
	H.vip_flows = map_fd(obj, "vip_flows");
	H.backend_flows = map_fd(obj, "backend_flows");
	H.nat_fwd = map_fd(obj, "nat_fwd");
	H.nat_rev = map_fd(obj, "nat_rev");
	H.nat_subpools = map_fd(obj, "nat_subpools");
	H.nat_cpu = map_fd(obj, "nat_cpu");
	H.nat_events = map_fd(obj, "nat_events");
	H.trace_cfg = map_fd(obj, ".data.trace");
	H.trace_scratch = map_fd(obj, "trace_scratch");
	H.trace_events = map_fd(obj, "trace_events");
	H.uplink_set = map_fd(obj, "uplink_set");
	H.uplink_tx = map_fd(obj, "uplink_tx");
	H.uplink_load = map_fd(obj, "uplink_load");
	/* Another build's object may count fewer (or more) ids. */
	H.ncounters = m ? bpf_map__max_entries(m) : XLB_CNT_MAX;
	/* ... and may have no uplinks' egress program (-ENOENT). */
	err = xlb_egress_bind(obj);
	if (err && err != -ENOENT)
		return err;
	return xlb_flows_open(&H.flows, map_fd(obj, "flows4"),
			      map_fd(obj, "flows6"));
}

/* The balancer from a file (another build of it), without the others. */
static int load_balance_file(const char *path)
{
	struct bpf_program *prog;
	int err;

	file_obj = bpf_object__open_file(path, NULL);
	if (!file_obj)
		return -errno;
	prog = bpf_object__find_program_by_name(file_obj, "xlb_balance");
	if (!prog)
		return -ENOENT;
	err = xlb_flows_size(file_obj, HARNESS_FLOWS);
	err = err ?: xlb_flows_set_coherent(file_obj, true);
	err = err ?: bpf_object__load(file_obj);
	if (err)
		return err;
	return bind_balance(file_obj, prog);
}

int harness_load(const char *balance_obj)
{
	int err;

	if (balance_obj)
		return load_balance_file(balance_obj);
	bal = xlb_balance__open();
	if (!bal)
		return -errno;
	err = xlb_flows_size(bal->obj, HARNESS_FLOWS);
	/* The rules of both kinds of NIC: coherent covers steered too. */
	err = err ?: xlb_flows_set_coherent(bal->obj, true);
	err = err ?: xlb_balance__load(bal);
	err = err ?: bind_balance(bal->obj, bal->progs.xlb_balance);
	if (err)
		return err;

	dec = xlb_decap__open_and_load();
	if (!dec)
		return -errno;
	H.dec_prog = bpf_program__fd(dec->progs.xlb_decap);
	H.decap_addrs = bpf_map__fd(dec->maps.decap_addrs);
	H.decap_active = bpf_map__fd(dec->maps.decap_active);
	H.decap_config = bpf_map__fd(dec->maps.decap_config);
	H.decap_counters = bpf_map__fd(dec->maps.decap_counters);

	/* As xlbd loads it: over the balancer's own backends and config. */
	hc = xlb_hc_encap__open();
	if (!hc)
		return -errno;
	err = bpf_map__reuse_fd(hc->maps.backends, H.backends);
	err = err ?: bpf_map__reuse_fd(hc->maps.config, H.config);
	err = err ?: xlb_hc_encap__load(hc);
	if (err)
		return err;
	H.hc_prog = bpf_program__fd(hc->progs.xlb_hc_encap);
	H.hc_counters = bpf_map__fd(hc->maps.hc_counters);
	return 0;
}

void harness_unload(void)
{
	xlb_flows_close(&H.flows);
	xlb_hc_encap__destroy(hc);
	xlb_decap__destroy(dec);
	xlb_balance__destroy(bal);
	bpf_object__close(file_obj);
}

int harness_init(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	/*
	 * One CPU for the whole run: the flow-insert limiter and the flow
	 * table are per CPU, and a multi-packet case must see one of each.
	 */
	CPU_ZERO(&set);
	H.cpu = cpu < 0 ? 0 : cpu;
	CPU_SET(H.cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	H.ncpus = libbpf_num_possible_cpus();
	return H.ncpus <= 0 ? (H.ncpus ? H.ncpus : -EINVAL) : 0;
}
