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
#include "maglev.h"
#include "ring_half.h"

/* Who a backend id belongs to, so ids are reused only when safe. */
struct xlb_id_owner {
	struct xlb_vip_key vip;
	union xlb_addr addr;
	__u8 family;
	__u8 in_use;	/* in the current model */
	__u8 ever_used; /* flows may still point at it */
};

/* Threads that build rings beside the caller's, at most (dp_ring.c). */
#define XLB_DP_BUILDERS 3

/*
 * What a thread building rings keeps from one build to the next, so that
 * a storm of rebuilds touches no fresh page: the table (XLB_RING_SIZE_MAX
 * slots) and Maglev's working memory.
 */
struct xlb_dp_builder {
	__u32 *table;
	struct xlb_maglev_mem mg;
	__u64 patched; /* tables it made by patching (xlb_dp_rings_patched) */
};

/* A VIP id's ring as the writer keeps it (dp_ring.c); mem NULL: none. */
struct xlb_dp_ring {
	struct xlb_ring_halves h;
	int fd;
	size_t len;  /* of the mapping */
	__u8 staged; /* this apply wrote the spare half: flip it */
	__u8 fresh;  /* this apply made the map: swap it in */
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
	int vip_flows_fd, backend_flows_fd;
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
	struct xlb_dp_ring ring[XLB_MAX_VIPS];
	__u64 rings_built;
	__u64 front_ns; /* xlb_dp_front_ns */
	/* Ring builders: [0] the caller's, then the helpers' (dp_ring.c). */
	struct xlb_dp_builder builder[XLB_DP_BUILDERS + 1];
	struct xlb_grace *grace; /* frees retired halves (ring_half.h) */
	int grace_outer_fd, grace_inner_fd; /* its wait: dp_ring.c */
	/* What vip_info holds per id (its vips entry says the same), so
	 * unchanged VIPs are not rewritten; family 0: not known. */
	struct xlb_vip_info vip_written[XLB_MAX_VIPS];
	/* Full-NAT (dp_nat.c): its maps, the sub-pools mapped. */
	int nat_fwd_fd, nat_rev_fd, nat_subpools_fd, nat_cpu_fd, nat_events_fd;
	struct xlb_nat_subpool *nat_subpools;
	/* Uplinks (dp_uplink.c): their maps; what config.n_uplinks holds,
	 * kept by every config write; the vips map's id (a program using
	 * it is of this load). */
	int uplink_set_fd, uplink_tx_fd, uplink_load_fd;
	__u32 n_uplinks;
	__u32 vips_id;
};

/*
 * dp_ring.c. open adopts the rings pinned by a previous xlbd and starts
 * the grace thread; close releases them (the maps stay). build makes the
 * tables of the n VIPs v (on every CPU; patch_from[i] set: from the ring
 * in force, see changes.h) and writes each: into the spare
 * half of its ring (fresh[i] = 0; the writer flips the VIP's entries to
 * xlb_dp_ring_half), or into a new map (fresh[i] = 1; the writer swaps
 * dp->ring[id].fd in). commit, once every
 * flip is written, retires the old halves; abort, after a failure, makes
 * the next apply build the rings again (flipping: VIP entries may hold
 * either half).
 */
int xlb_dp_rings_open(struct xlb_dp *dp, struct xlb_err *err);
void xlb_dp_rings_close(struct xlb_dp *dp);
int xlb_dp_rings_build(struct xlb_dp *dp, const struct xlb_vip_cfg *const *v,
		       const struct xlb_vip_cfg *const *patch_from, size_t n,
		       int *fresh, struct xlb_err *err);
__u8 xlb_dp_ring_half(const struct xlb_dp *dp, __u32 id);
void xlb_dp_rings_commit(struct xlb_dp *dp);
void xlb_dp_rings_abort(struct xlb_dp *dp, bool flipping);
/* Forgets id's ring (its map stays wherever it is). */
void xlb_dp_ring_drop(struct xlb_dp *dp, __u32 id);

/* dp_nat.c: the NAT maps' fds and the sub-pools' mapping, at open. */
int xlb_dp_nat_open(struct xlb_dp *dp);
void xlb_dp_nat_close(struct xlb_dp *dp);

/* dp_uplink.c: the uplink maps' fds and config.n_uplinks, at open. */
int xlb_dp_uplink_open(struct xlb_dp *dp);

#endif /* XLB_DP_PRIV_H */
