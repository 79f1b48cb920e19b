/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Full-NAT: what the data path and xlbd share about client-NAT pools,
 * their sub-pools and the per-connection NAT entries.
 *
 * A VIP in mode XLB_VIP_MODE_NAT rewrites client -> VIP into
 * NAT address:port -> backend:port (the VIP's port) and the backend's
 * reply back into VIP -> client. The (address, port) pairs come from a
 * pool that xlbd cuts into sub-pools: a block of consecutive ports of one
 * address. Each CPU holds up to XLB_NAT_SLOTS sub-pools of each pool
 * (nat_cpu, per CPU); the data path takes the next port of the first of
 * them that has one left by an atomic add on the sub-pool's `next`, so
 * no lock and no call to userspace is on the way of a new connection.
 * A sub-pool hands out each of its ports once; xlbd gives a CPU another
 * sub-pool when its free ports fall below the pool's threshold (the data
 * path sends a hint through nat_events when a sub-pool crosses it), and
 * takes a sub-pool back into the pool only when it is used up (or was
 * never touched) and no NAT entry holds any of its ports any more, and
 * the linger has passed since the last one went: addresses are never
 * scattered and a port is not reused while the backend may still hold
 * its TIME_WAIT.
 *
 * A connection has two entries, created together by the data path and
 * removed together by xlbd's sweeper: nat_fwd keyed by the client's
 * 5-tuple as it arrives (struct xlb_flow_key: client -> VIP), nat_rev
 * keyed by the backend's reply as it arrives (backend:port -> NAT
 * address:port). Both maps are global hashes: a reply may arrive on
 * another CPU than the request.
 */
#ifndef XLB_NAT_H
#define XLB_NAT_H

#include <linux/types.h>
#include "types.h"

/* Pools: ids 1 .. XLB_MAX_POOLS-1 (0: none). */
#ifndef XLB_MAX_POOLS
#define XLB_MAX_POOLS 64
#endif
/* Sub-pools over all pools: ids 1 .. XLB_MAX_SUBPOOLS-1 (0: none). */
#ifndef XLB_MAX_SUBPOOLS
#define XLB_MAX_SUBPOOLS 65536
#endif
/* NAT connections held at once (entries of nat_fwd and of nat_rev). */
#ifndef XLB_MAX_NAT
#define XLB_MAX_NAT (1 << 20)
#endif
/* Sub-pools of one pool a CPU holds at once (its slots in nat_cpu). */
#define XLB_NAT_SLOTS 4
/* Ports of a sub-pool when the pool does not say (one address each). */
#define XLB_SUBPOOL_PORTS_DEFAULT 1024

/* VIP modes (xlb_vip.mode). */
enum xlb_vip_mode {
	XLB_VIP_MODE_DSR = 0, /* encapsulate; the backend answers directly */
	XLB_VIP_MODE_NAT = 1, /* full-NAT through the VIP's pool */
};

/*
 * nat_subpools value (an mmapable ARRAY indexed by sub-pool id): ports
 * port_first .. port_first + count - 1 of addr. count 0: no sub-pool.
 * next counts the ports handed out; only the data path adds to it
 * (atomically), and a value >= count means used up. xlbd writes a
 * sub-pool only while no CPU holds it, and closes an untouched one it
 * takes back by raising next from 0 to count in one compare-and-swap.
 * The data path sends an XLB_NAT_EV_LOW event when it hands out port
 * index low_at (count minus the pool's threshold).
 */
/*
 * `next` of a sub-pool in the pool, held by no CPU: far above any count,
 * so no port of it is ever taken, and a restarted xlbd tells it from a
 * used-up one (whose next is about count) without counting entries.
 */
#define XLB_NAT_NEXT_FREE 0x80000000U

struct xlb_nat_subpool {
	union xlb_addr addr;
	__u16 port_first; /* host order */
	__u16 count;
	__u32 next;
	__u16 low_at;
	__u8 family;
	__u8 pool_id;
	__u32 pad;
};
_Static_assert(sizeof(struct xlb_nat_subpool) == 32, "xlb_nat_subpool size");

/*
 * nat_cpu value (a PERCPU_ARRAY indexed by pool id): the sub-pools this
 * CPU allocates from, tried in order; 0 is an empty slot. Only xlbd
 * writes it.
 */
struct xlb_nat_cpu {
	__u32 subpool[XLB_NAT_SLOTS];
};
_Static_assert(sizeof(struct xlb_nat_cpu) == 16, "xlb_nat_cpu size");

/* xlb_nat_fwd.flags: what the connection has seen (TCP). */
#define XLB_NAT_F_FIN_CLIENT  (1U << 0) /* FIN from the client */
#define XLB_NAT_F_FIN_BACKEND (1U << 1) /* FIN from the backend */
#define XLB_NAT_F_RST	      (1U << 2) /* RST either way */
#define XLB_NAT_F_CLOSED                                                       \
	(XLB_NAT_F_FIN_CLIENT | XLB_NAT_F_FIN_BACKEND) /* both FINs */

/*
 * nat_fwd value, key struct xlb_flow_key (client -> VIP, as parsed).
 * stamp is the last packet either way in XLB_FLOW_STAMP_SHIFT units of
 * CLOCK_MONOTONIC_COARSE, as the flow table's; the data path refreshes it
 * at most every XLB_FLOW_REFRESH units. flags are set with atomic ors.
 */
struct xlb_nat_fwd {
	union xlb_addr nat_addr;
	union xlb_addr backend; /* the backend's address, for nat_rev's key */
	__be16 nat_port;
	__u16 vip_id;
	__u32 backend_id;
	__u32 subpool; /* the sub-pool nat_port came from */
	__u32 flags;   /* XLB_NAT_F_* */
	__u32 stamp;
	__u32 pad;
};
_Static_assert(sizeof(struct xlb_nat_fwd) == 56, "xlb_nat_fwd size");

/*
 * nat_rev value, key struct xlb_flow_key of the reply as it arrives:
 * src = backend, dst = NAT address, sport = the VIP's port (the port the
 * request went to), dport = NAT port. fwd is the connection's nat_fwd
 * key: what the reply is rewritten to (VIP -> client) and where its
 * state lives.
 */
struct xlb_nat_rev {
	struct xlb_flow_key fwd;
};
_Static_assert(sizeof(struct xlb_nat_rev) == 40, "xlb_nat_rev size");

/* nat_events records (a ring buffer): hints that wake xlbd. */
enum xlb_nat_event_kind {
	/* A sub-pool crossed its threshold, or (subpool 0) the CPU's are
	 * used up and it took a port of another CPU's. */
	XLB_NAT_EV_LOW = 1,
	XLB_NAT_EV_EXHAUSTED = 2, /* a new connection found no port anywhere */
};

struct xlb_nat_event {
	__u32 kind; /* enum xlb_nat_event_kind */
	__u32 cpu;
	__u32 pool_id;
	__u32 subpool; /* EV_LOW: the one that crossed (0: all used up) */
};
_Static_assert(sizeof(struct xlb_nat_event) == 16, "xlb_nat_event size");
/* Bytes of the nat_events ring (a power of two, a multiple of pages). */
#define XLB_NAT_EVENTS_BYTES (64 * 1024)

#endif /* XLB_NAT_H */
