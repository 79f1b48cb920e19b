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
#include "loader.h"
#include "model.h"

/* The balancer's data plane: opaque, read through the accessors below. */
struct xlb_dp;

/* Maps other modules read or hand on (counters, the TC program). */
enum xlb_dp_map {
	XLB_DP_BACKENDS,
	XLB_DP_CONFIG,
	XLB_DP_COUNTERS,
	XLB_DP_VIP_STATS,
	XLB_DP_BACKEND_STATS,
	XLB_DP_VIP_FLOWS,
	XLB_DP_BACKEND_FLOWS,
};

struct xlb_dp_opts {
	const char *ifname;
	const char *pin_dir;
	enum xdp_attach_mode mode; /* XDP_MODE_NATIVE or XDP_MODE_SKB */
	__u8 gw_mac[6];
	__u32 max_flows; /* 0 = XLB_MAX_FLOWS */
};

/* A data plane to open; xlb_dp_free releases it after xlb_dp_close. */
struct xlb_dp *xlb_dp_new(void);
void xlb_dp_free(struct xlb_dp *dp);

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
 * The same, with a gate: the rings are built first, where no packet
 * reads them (spare halves, new maps of ids no VIP entry names yet);
 * then gate(ctx) is waited for (a save finishing meanwhile), and only if
 * it returns 0 does anything a packet sees change. Else its error is
 * returned with nothing visible written.
 */
int xlb_dp_apply_gated(struct xlb_dp *dp, const struct xlb_model *cur,
		       struct xlb_model *next,
		       int (*gate)(void *ctx, struct xlb_err *err), void *ctx,
		       struct xlb_err *err);

/*
 * After adoption: removes map entries that no VIP of m explains (left by
 * a state file that was lost or edited), and learns which backend ids
 * flows may still point at.
 */
int xlb_dp_reconcile(struct xlb_dp *dp, const struct xlb_model *m,
		     struct xlb_err *err);

/* Detach (when asked) and release. Maps stay pinned unless detached. */
void xlb_dp_close(struct xlb_dp *dp, bool detach);

/* The last table built for a VIP id (0: none), for `ring show`, metrics. */
__u64 xlb_dp_fingerprint(const struct xlb_dp *dp, __u32 vip_id);
/* Rings built since the start (tables written into the maps), and how
 * many of them by patching the table in force (backends gone out). */
__u64 xlb_dp_rings_built(const struct xlb_dp *dp);
__u64 xlb_dp_rings_patched(const struct xlb_dp *dp);
/*
 * When the last apply had written the config and the backends (a
 * backend's new state: packets avoid a down one from then on, before
 * its rings are rebuilt), in xlb_now_ns() time; 0 before any.
 */
__u64 xlb_dp_front_ns(const struct xlb_dp *dp);
/* Ring slots a backend id holds in its VIP's last table. */
__u32 xlb_dp_slots(const struct xlb_dp *dp, __u32 backend_id);
const __u8 *xlb_dp_gw_mac(const struct xlb_dp *dp);
int xlb_dp_map_fd(const struct xlb_dp *dp, enum xlb_dp_map map);
int xlb_dp_ifindex(const struct xlb_dp *dp);
/* "native" or "generic": how the program is attached. */
const char *xlb_dp_xdp_mode(const struct xlb_dp *dp);
__u32 xlb_dp_prog_id(const struct xlb_dp *dp);
const char *xlb_dp_pin_dir(const struct xlb_dp *dp);
/* The program was attached already when we started (a restart). */
bool xlb_dp_adopted(const struct xlb_dp *dp);

/*
 * After a restart: down[id] = 1 for every backend of m that the checks
 * had taken down, as the maps remember it: down (on_check_down move), or
 * drain where the operator said up (keep). What the checks took down
 * stays down until they say otherwise. down has XLB_MAX_BACKENDS entries;
 * the ids of backends not in m are left as they are.
 */
void xlb_dp_restart_down(const struct xlb_dp *dp, const struct xlb_model *m,
			 __u8 *down);

#endif /* XLB_DATAPLANE_H */
