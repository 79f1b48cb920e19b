// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Loading and hooking the health-check tunnel program (see hc_tc.h).
 *
 * bpf_map__reuse_fd() takes whatever map it is given and the verifier
 * only checks sizes, so the shape of the balancer's maps is compared with
 * the program's definitions here first: a map of another version must be
 * refused, not misread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hc_encap.skel.h"
#include "hc_tc.h"

struct xlb_hc_tc {
	struct xlb_hc_encap *skel;
	int ifindex;
	__u32 prog_id;
	char counters_pin[512]; /* "" when not pinned */
};

/* Gives map the balancer's fd, after checking that they agree. */
static int reuse_map(struct bpf_map *map, int fd, struct xlb_err *err)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int ret;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		ret = -errno;
		xlb_err_set(err, "the %s map (fd %d): %s", bpf_map__name(map),
			    fd, strerror(-ret));
		return ret;
	}
	if (info.type != bpf_map__type(map) ||
	    info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.max_entries != bpf_map__max_entries(map)) {
		xlb_err_set(err,
			    "the %s map is not what the health-check program "
			    "expects (type %u, key %u, value %u, %u entries; "
			    "want %u, %u, %u, %u)",
			    bpf_map__name(map), info.type, info.key_size,
			    info.value_size, info.max_entries,
			    bpf_map__type(map), bpf_map__key_size(map),
			    bpf_map__value_size(map),
			    bpf_map__max_entries(map));
		return -EINVAL;
	}
	ret = bpf_map__reuse_fd(map, fd);
	if (ret)
		xlb_err_set(err, "reusing the %s map: %s", bpf_map__name(map),
			    strerror(-ret));
	return ret;
}

/*
 * Opens the program, gives it the balancer's maps and loads it, its
 * counters pinned in pin_dir if given; *had_pin says whether they were
 * pinned there already. On failure h->skel is NULL again.
 */
static int hc_tc_load(struct xlb_hc_tc *h, int backends_fd, int config_fd,
		      const char *pin_dir, bool *had_pin, struct xlb_err *err)
{
	int ret;

	h->skel = xlb_hc_encap__open();
	if (!h->skel) {
		ret = -errno;
		xlb_err_set(err, "opening the health-check object: %s",
			    strerror(-ret));
		return ret;
	}
	ret = reuse_map(h->skel->maps.backends, backends_fd, err);
	ret = ret ?: reuse_map(h->skel->maps.config, config_fd, err);
	if (ret)
		goto err_skel;
	if (pin_dir) {
		snprintf(h->counters_pin, sizeof(h->counters_pin),
			 "%s/hc_counters", pin_dir);
		ret = bpf_map__set_pin_path(h->skel->maps.hc_counters,
					    h->counters_pin);
		if (ret) {
			xlb_err_set(err, "pin path %s: %s", h->counters_pin,
				    strerror(-ret));
			goto err_skel;
		}
		*had_pin = !access(h->counters_pin, F_OK);
	}
	ret = xlb_hc_encap__load(h->skel);
	if (ret) {
		xlb_err_set(err, "loading the health-check program: %s%s%s%s",
			    strerror(-ret),
			    pin_dir ? " (counters pinned at " : "",
			    pin_dir ? h->counters_pin : "",
			    pin_dir ? " by another version? remove them)" : "");
		goto err_skel;
	}
	return 0;

err_skel:
	xlb_hc_encap__destroy(h->skel);
	h->skel = NULL;
	return ret;
}

/* Hooks the loaded program on h's egress, behind a clsact qdisc. */
static int hc_tc_hook(struct xlb_hc_tc *h, struct xlb_err *err)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = h->ifindex,
			    .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XLB_HC_TC_HANDLE,
			    .priority = XLB_HC_TC_PRIO,
			    .flags = BPF_TC_F_REPLACE);
	int ret;

	/* The clsact qdisc: ours or someone else's, either will do. */
	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST) {
		xlb_err_set(err, "creating the clsact qdisc on ifindex %d: %s",
			    h->ifindex, strerror(-ret));
		return ret;
	}
	opts.prog_fd = bpf_program__fd(h->skel->progs.xlb_hc_encap);
	ret = bpf_tc_attach(&hook, &opts);
	if (ret) {
		xlb_err_set(err,
			    "attaching the health-check program on egress of "
			    "ifindex %d (handle %#x, priority %u): %s",
			    h->ifindex, XLB_HC_TC_HANDLE, XLB_HC_TC_PRIO,
			    strerror(-ret));
		return ret;
	}
	h->prog_id = opts.prog_id;
	return 0;
}

int xlb_hc_tc_attach(int ifindex, int backends_fd, int config_fd,
		     const char *pin_dir, struct xlb_hc_tc **out,
		     struct xlb_err *err)
{
	bool had_pin = false;
	struct xlb_hc_tc *h;
	int ret;

	*out = NULL;
	if (ifindex <= 0) {
		xlb_err_set(err, "no interface (ifindex %d)", ifindex);
		return -ENODEV;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	h->ifindex = ifindex;
	ret = hc_tc_load(h, backends_fd, config_fd, pin_dir, &had_pin, err);
	if (ret)
		goto err_free;
	ret = hc_tc_hook(h, err);
	if (ret)
		goto err_unload;
	*out = h;
	return 0;

err_unload:
	/* Only what this call pinned; counters that were there stay. */
	if (pin_dir && !had_pin)
		bpf_map__unpin(h->skel->maps.hc_counters, NULL);
	xlb_hc_encap__destroy(h->skel);
err_free:
	free(h);
	return ret;
}

int xlb_hc_tc_remove(int ifindex, struct xlb_err *err)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XLB_HC_TC_HANDLE,
			    .priority = XLB_HC_TC_PRIO);
	int ret;

	if (ifindex <= 0) {
		if (err)
			xlb_err_set(err, "no interface (ifindex %d)", ifindex);
		return -ENODEV;
	}
	ret = bpf_tc_detach(&hook, &opts);
	/* No filter of ours (ENOENT), or no clsact qdisc at all (EINVAL). */
	if (ret == -ENOENT || ret == -EINVAL)
		return 0;
	if (ret && err)
		xlb_err_set(err,
			    "detaching the health-check program from ifindex "
			    "%d: %s",
			    ifindex, strerror(-ret));
	return ret;
}

void xlb_hc_tc_detach(struct xlb_hc_tc *h, bool remove)
{
	if (!h)
		return;
	if (remove) {
		xlb_hc_tc_remove(h->ifindex, NULL);
		if (h->counters_pin[0])
			bpf_map__unpin(h->skel->maps.hc_counters, NULL);
	}
	xlb_hc_encap__destroy(h->skel);
	free(h);
}

__u32 xlb_hc_tc_prog_id(const struct xlb_hc_tc *h)
{
	return h->prog_id;
}

int xlb_hc_tc_counters_fd(const struct xlb_hc_tc *h)
{
	return bpf_map__fd(h->skel->maps.hc_counters);
}

int xlb_hc_tc_counters(const struct xlb_hc_tc *h, struct xlb_counter *out)
{
	int ncpus = libbpf_num_possible_cpus(), fd, ret = 0;
	struct xlb_counter *v;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	fd = xlb_hc_tc_counters_fd(h);
	for (__u32 id = 0; id < XLB_HC_MAX; id++) {
		out[id].packets = out[id].bytes = 0;
		if (bpf_map_lookup_elem(fd, &id, v)) {
			ret = -errno;
			break;
		}
		for (int c = 0; c < ncpus; c++) {
			out[id].packets += v[c].packets;
			out[id].bytes += v[c].bytes;
		}
	}
	free(v);
	return ret;
}
