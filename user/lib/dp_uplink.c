// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The data plane's uplink maps and the balancer on uplink interfaces
 * (dp_uplink.h).
 *
 * Attaching: the same loaded program as on the main interface, through
 * libxdp (so a multiprog dispatcher there is shared, not replaced), in
 * native mode; when libxdp refuses, the program alone by netlink, and
 * only where no XDP program is (XDP_FLAGS_UPDATE_IF_NOEXIST). A program
 * is "ours" when it is called xlb_balance and uses our vips map:
 * one of another load (its maps unpinned since) is replaced, one of ours
 * is adopted, anything else is left alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <xlb/trace.h> /* the skeleton names xlb_trace_cfg */
#include "balance.skel.h"
#include "dp_priv.h"
#include "dp_uplink.h"
#include "log.h"

#define XLB_PROG_NAME "xlb_balance"

int xlb_dp_uplink_open(struct xlb_dp *dp)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info), zero = 0;
	struct xlb_config c;

	dp->uplink_set_fd = bpf_map__fd(dp->skel->maps.uplink_set);
	dp->uplink_tx_fd = bpf_map__fd(dp->skel->maps.uplink_tx);
	dp->uplink_load_fd = bpf_map__fd(dp->skel->maps.uplink_load);
	/* vips: every load of the balancer uses it (uplink_set may not). */
	if (bpf_obj_get_info_by_fd(dp->vips_fd, &info, &len))
		return -errno;
	dp->vips_id = info.id;
	/* A restart keeps what the running program was given. */
	if (!bpf_map_lookup_elem(dp->config_fd, &zero, &c))
		dp->n_uplinks = c.n_uplinks;
	return 0;
}

int xlb_dp_uplink_set_write(struct xlb_dp *dp, const struct xlb_uplink_set *s)
{
	__u32 zero = 0;

	return bpf_map_update_elem(dp->uplink_set_fd, &zero, s, BPF_ANY)
		       ? -errno
		       : 0;
}

int xlb_dp_uplink_set_read(struct xlb_dp *dp, struct xlb_uplink_set *s)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(dp->uplink_set_fd, &zero, s) ? -errno : 0;
}

int xlb_dp_uplink_tx_write(struct xlb_dp *dp, __u32 id, __u32 ifindex)
{
	if (id >= XLB_MAX_UPLINKS)
		return -EINVAL;
	if (!ifindex)
		return bpf_map_delete_elem(dp->uplink_tx_fd, &id) &&
				       errno != ENOENT
			       ? -errno
			       : 0;
	return bpf_map_update_elem(dp->uplink_tx_fd, &id, &ifindex, BPF_ANY)
		       ? -errno
		       : 0;
}

int xlb_dp_uplink_load_read(struct xlb_dp *dp, struct xlb_uplink_load *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xlb_uplink_load *v;
	__u32 zero = 0;
	int ret = 0;

	memset(sum, 0, sizeof(*sum));
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	/* 424 bytes, a multiple of 8: the per-CPU values lie end to end. */
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp->uplink_load_fd, &zero, v)) {
		ret = -errno;
		goto out;
	}
	for (int c = 0; c < ncpus; c++) {
		if (v[c].window_start_ns > sum->window_start_ns)
			sum->window_start_ns = v[c].window_start_ns;
		sum->flows_cur += v[c].flows_cur;
		sum->flows_prev += v[c].flows_prev;
		for (__u32 i = 0; i < XLB_MAX_UPLINKS; i++) {
			sum->cur[i] += v[c].cur[i];
			sum->prev[i] += v[c].prev[i];
			sum->pend[i] += v[c].pend[i];
			sum->bytes[i] += v[c].bytes[i];
			sum->packets[i] += v[c].packets[i];
			sum->failovers[i] += v[c].failovers[i];
		}
	}
out:
	free(v);
	return ret;
}

int xlb_dp_uplinks_set_n(struct xlb_dp *dp, __u32 n)
{
	struct xlb_config c;
	__u32 zero = 0;

	/* xlbd writes config alone, from its loop: no other writer races. */
	if (bpf_map_lookup_elem(dp->config_fd, &zero, &c))
		return -errno;
	c.n_uplinks = n;
	if (bpf_map_update_elem(dp->config_fd, &zero, &c, BPF_ANY))
		return -errno;
	dp->n_uplinks = n;
	return 0;
}

__u32 xlb_dp_uplinks_n(const struct xlb_dp *dp)
{
	return dp->n_uplinks;
}

/* Does program id use our vips map (is it this load's)? */
static bool uses_our_maps(const struct xlb_dp *dp, __u32 id)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info), ids[64] = {0};
	bool ours = false;
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd < 0)
		return false;
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		for (__u32 i = 0; i < info.nr_map_ids && i < 64; i++)
			ours |= ids[i] == dp->vips_id;
	close(fd);
	return ours;
}

/*
 * What is attached to ifindex: *ours the id of an xlb_balance found
 * (0: none), *others how many other programs, *mode its mode.
 */
static void look(int ifindex, __u32 *ours, int *others,
		 enum xdp_attach_mode *mode)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;

	*ours = 0;
	*others = 0;
	if (!mp || libxdp_get_error(mp))
		return;
	*mode = xdp_multiprog__attach_mode(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), XLB_PROG_NAME))
			*ours = xdp_program__id(p);
		else if (p)
			(*others)++;
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp)) {
			if (!*ours &&
			    !strcmp(xdp_program__name(p), XLB_PROG_NAME))
				*ours = xdp_program__id(p);
			else
				(*others)++;
		}
	}
	xdp_multiprog__close(mp);
}

/*
 * Takes program id off ifindex: through libxdp (a dispatcher's
 * component), else by netlink, and then only if id is still the one
 * there (XDP_FLAGS_REPLACE): a program attached meanwhile stays.
 */
static int detach_id(int ifindex, __u32 id, enum xdp_attach_mode mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	struct xdp_program *p = xdp_program__from_id(id);
	int ret, fd;

	ret = (int)libxdp_get_error(p);
	if (!ret) {
		ret = xdp_program__detach(p, ifindex, mode, 0);
		xdp_program__close(p);
	}
	if (!ret)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	o.old_prog_fd = fd;
	ret = bpf_xdp_detach(ifindex,
			     XDP_FLAGS_REPLACE | (mode == XDP_MODE_SKB
							  ? XDP_FLAGS_SKB_MODE
							  : XDP_FLAGS_DRV_MODE),
			     &o)
		      ? -errno
		      : 0;
	close(fd);
	return ret;
}

int xlb_dp_uplink_attach(struct xlb_dp *dp, int ifindex, bool *adopted,
			 struct xlb_err *err)
{
	enum xdp_attach_mode mode = XDP_MODE_NATIVE;
	struct xdp_program *p;
	char msg[128];
	int others, ret, fd;
	__u32 id;

	*adopted = false;
	look(ifindex, &id, &others, &mode);
	if (id && uses_our_maps(dp, id)) {
		*adopted = true;
		return 0;
	}
	if (id) {
		xlb_log(LOG_NOTICE,
			"ifindex %d: replacing an xlb_balance of an earlier "
			"load (program id %u)",
			ifindex, id);
		ret = detach_id(ifindex, id, mode);
		if (ret) {
			libxdp_strerror(ret, msg, sizeof(msg));
			xlb_err_set(err, "detaching an old xlb_balance: %s",
				    msg);
			return ret;
		}
	}
	p = xdp_program__from_id(dp->xdp.prog_id);
	ret = libxdp_get_error(p);
	if (!ret) {
		ret = xdp_program__attach(p, ifindex, XDP_MODE_NATIVE, 0);
		xdp_program__close(p);
	}
	if (!ret)
		return 0;
	libxdp_strerror(ret, msg, sizeof(msg));
	xlb_log(LOG_INFO, "ifindex %d: libxdp attach: %s; trying alone",
		ifindex, msg);
	/* The skeleton's program is of type XDP when libxdp did not load
	 * it as a dispatcher's extension (adopted, or legacy mode). */
	fd = bpf_program__fd(dp->skel->progs.xlb_balance);
	if (fd < 0 ||
	    bpf_xdp_attach(ifindex, fd,
			   XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
			   NULL)) {
		ret = fd < 0 ? -EBADF : -errno;
		xlb_err_set(err, "attaching the balancer: %s (%s)",
			    strerror(-ret), msg);
		return ret;
	}
	return 0;
}

int xlb_dp_uplink_detach(struct xlb_dp *dp, int ifindex)
{
	enum xdp_attach_mode mode = XDP_MODE_NATIVE;
	int others;
	__u32 id;

	look(ifindex, &id, &others, &mode);
	if (!id || !uses_our_maps(dp, id))
		return 0;
	return detach_id(ifindex, id, mode);
}
