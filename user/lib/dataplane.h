/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The balancer's data plane as xlbd sees it: load (or adopt) the XDP
 * program and its pinned maps, and turn a change of the model into map
 * updates in an order the data path can never observe half-done: new
 * backends and rings are in place before a VIP points at them, a removed
 * VIP stops matching before its ring and backends go.
 */
#ifndef XLB_DATAPLANE_H
#define XLB_DATAPLANE_H

#include <stdbool.h>
#include <xdp/libxdp.h>
#include "model.h"

#define XLB_PIN_ROOT "/sys/fs/bpf"

struct xlb_balance;
struct xdp_program;

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
	struct xdp_program *xdp_prog; /* NULL when adopted */
	int ifindex;
	enum xdp_attach_mode mode;
	bool adopted; /* program was already attached when we started */
	__u32 prog_id;
	__u8 gw_mac[6];
	/* Outer sources used when the model configures no prefix: the
	 * interface's own first IPv4 and global IPv6 address (or zero). */
	union xlb_addr if_src4, if_src6;
	char pin_dir[256];
	int vips_fd, vip_info_fd, rings_fd, backends_fd, flows_fd, config_fd,
		filter_fd;
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
	__u32 *keys;	/* 0 .. XLB_RING_SIZE_MAX-1, for batch updates */
};

struct xlb_dp_opts {
	const char *ifname;
	const char *pin_dir;
	enum xdp_attach_mode mode; /* XDP_MODE_NATIVE or XDP_MODE_SKB */
	__u8 gw_mac[6];
	__u32 max_flows; /* 0 = XLB_MAX_FLOWS */
};

/*
 * Mounts bpffs if needed, loads the balancer reusing maps pinned at
 * pin_dir, pins the rest, and attaches the program unless one of ours is
 * attached to the interface already (then it is adopted as it is).
 */
int xlb_dp_open(struct xlb_dp *dp, const struct xlb_dp_opts *o,
		struct xlb_err *err);

/*
 * Gives the VIPs and backends of next that lack one an id, keeping those
 * of the same VIP or (VIP, backend) pair in cur (what the maps hold).
 */
int xlb_dp_assign_ids(struct xlb_dp *dp, const struct xlb_model *cur,
		      struct xlb_model *next, struct xlb_err *err);

/*
 * Makes the maps say what `next` says, given that they said `cur`; every
 * id of next must be assigned. On failure the maps may hold part of the
 * change: the caller applies `cur` again.
 */
int xlb_dp_apply(struct xlb_dp *dp, const struct xlb_model *cur,
		 struct xlb_model *next, struct xlb_err *err);

/*
 * After adoption: removes map entries that no VIP of m explains (left by
 * a state file that was lost or edited), and learns which backend ids
 * flows may still point at.
 */
int xlb_dp_reconcile(struct xlb_dp *dp, const struct xlb_model *m,
		     struct xlb_err *err);

/* Detach (when asked) and release. Maps stay pinned unless detached. */
void xlb_dp_close(struct xlb_dp *dp, bool detach);

/* Mounts bpffs at XLB_PIN_ROOT when dir lies below it and it is missing. */
int xlb_ensure_bpffs(const char *dir, struct xlb_err *err);

#endif /* XLB_DATAPLANE_H */
