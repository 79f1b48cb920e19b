/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The data plane's state, shared by the files of the module (dataplane.c
 * opens it and hands out ids; the writer changes the maps) and by no one
 * else: the rest of xlb reads it through dataplane.h's accessors.
 */
#ifndef XLB_DP_PRIV_H
#define XLB_DP_PRIV_H

#include "dataplane.h"
#include "flows.h"

/* Who a backend id belongs to, so ids are reused only when safe. */
struct xlb_id_owner {
	struct xlb_vip_key vip;
	union xlb_addr addr;
	__u8 family;
	__u8 in_use;	/* in the current model */
	__u8 ever_used; /* flows may still point at it */
};

struct xlb_dp {
	struct xlb_balance *skel;
	struct xlb_xdp xdp; /* the program, attached or adopted */
	__u8 gw_mac[6];
	/* Outer sources used when the model configures no prefix: the
	 * interface's own first IPv4 and global IPv6 address (or zero). */
	union xlb_addr if_src4, if_src6;
	int vips_fd, vip_info_fd, rings_fd, backends_fd, config_fd, filter_fd;
	struct xlb_flows flows; /* flows4 and flows6, mapped */
	int counters_fd, vip_stats_fd, backend_stats_fd;
	/* Last table built per VIP id: for `ring show` and metrics. */
	__u64 fingerprint[XLB_MAX_VIPS];
	__u32 slots[XLB_MAX_BACKENDS]; /* slots held, per backend id */
	struct xlb_id_owner owner[XLB_MAX_BACKENDS];
	/* Ids allocated by the apply under way: their stats start at 0. */
	__u8 fresh_vip[XLB_MAX_VIPS];
	__u8 fresh_backend[XLB_MAX_BACKENDS];
	/* Ids of the model being applied (scratch for O(1) tests). */
	__u8 vip_mark[XLB_MAX_VIPS];
	__u8 backend_mark[XLB_MAX_BACKENDS];
	/* What the backends map holds, so unchanged entries are not
	 * rewritten (one weight change used to rewrite all of them). */
	struct xlb_backend written[XLB_MAX_BACKENDS];
	__u32 *scratch; /* XLB_RING_SIZE_MAX slots for building tables */
};

#endif /* XLB_DP_PRIV_H */
