/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The client-NAT sub-pool allocator (xlb/nat.h), as pure logic: how a
 * pool is cut into sub-pools and which ids they get (the layout), and
 * which CPU holds which sub-pool as ports are handed out (the run-time
 * state machine). It touches no map: the sub-pools it reads and writes
 * are an array of struct xlb_nat_subpool the caller hands in (the mapped
 * nat_subpools in xlbd, a plain array in the tests, where a simulated
 * data path adds to the same `next` fields), and it keeps the nat_cpu
 * values of its pool for the caller to write. Live NAT entries per
 * sub-pool come in as counts from the caller's sweep.
 *
 * A sub-pool is in one of three states:
 *   free      in no slot; its ports are all free; its `next` stays
 *             XLB_NAT_NEXT_FREE until it is handed out again
 *   cpu       in slot s of CPU c; the data path takes ports from it
 *   draining  taken out of its slot (used up, or left over after a
 *             restart); entries may still hold its ports
 * free -> cpu: next = 0 written, then the slot (refill), only once the
 *   sub-pool left its last slot XLB_NAT_QUARANTINE_MS ago, so that no XDP
 *   program still running with the old slot can add to it unseen.
 * cpu -> draining: the slot is used up (next >= count) and the CPU needs
 *   the slot for a new one.
 * cpu -> free: a steal: next raised from 0 to count in one
 *   compare-and-swap, so not one of its ports was or will be handed out.
 * draining -> free: a count that began after the quarantine saw no entry
 *   of it, and nat_linger_ms passed since (reclaim).
 * Ports go back only with their whole sub-pool, and a port is handed out
 * again only after its sub-pool was seen empty: never twice at once.
 */
#ifndef XLB_NAT_POOL_H
#define XLB_NAT_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <xlb/flow.h>
#include <xlb/nat.h>

#include "model.h"

/* After it leaves a slot, a sub-pool is not handed out for this long. */
#define XLB_NAT_QUARANTINE_MS 1000
/* The smallest sub-pool the layout chooses (a pool may still be smaller). */
#define XLB_NAT_SUBPOOL_PORTS_MIN 8
/* Sub-pools per CPU the chosen size aims for (see nat_pool.c). */
#define XLB_NAT_SUBPOOLS_PER_CPU 4

/* ---- layout -------------------------------------------------------------- */

/* Addresses of p (they differ only in their last 32 bits). */
__u64 xlb_nat_pool_addrs(const struct xlb_pool_cfg *p);
/* Sub-pools of p at subpool_ports ports each (0 when that is 0). */
__u64 xlb_nat_pool_subpools(const struct xlb_pool_cfg *p, __u32 subpool_ports);
/* The sub-pool size xlbd chooses for p on ncpus CPUs when p says none. */
__u32 xlb_nat_choose_subpool_ports(const struct xlb_pool_cfg *p,
				   unsigned int ncpus);
/*
 * Gives every pool of next that lacks them its pool id, sub-pool size and
 * sub-pool ids: those of the same pool in cur when its settings are the
 * same, else fresh ones (first fit, ids of cur's pools never reused in
 * the same change). A pool of next that has ids and is not in cur (a
 * restore) keeps them when they are sound. 0, or -ENOSPC / -EINVAL with
 * err set.
 */
int xlb_nat_layout(const struct xlb_model *cur, struct xlb_model *next,
		   unsigned int ncpus, struct xlb_err *err);
/* Sub-pool i (0 .. n_subpools-1) of p as written when handed out. */
void xlb_nat_subpool_of(const struct xlb_pool_cfg *p, __u32 i,
			struct xlb_nat_subpool *out);
/* Free ports of a CPU under which it gets another sub-pool (>= 1). */
__u32 xlb_nat_threshold(const struct xlb_pool_cfg *p);

/* ---- run time ------------------------------------------------------------ */

enum xlb_nat_sp_state {
	XLB_NAT_SP_FREE = 0,
	XLB_NAT_SP_CPU,
	XLB_NAT_SP_DRAINING,
};

/* The allocator's view of one sub-pool of its pool. */
struct xlb_nat_sp {
	__u8 state; /* enum xlb_nat_sp_state */
	__u8 slot;  /* XLB_NAT_SP_CPU: its slot on cpu */
	__u32 cpu;
	__u64 left_ms; /* when it last left a slot (0: never held) */
	__u64 gone_ms; /* draining: first count after quarantine with none */
	__u32 live;    /* entries the last count saw */
};

/* One pool's allocator; subs is indexed by global sub-pool id. */
struct xlb_nat_alloc {
	struct xlb_pool_cfg cfg;
	unsigned int ncpus;
	struct xlb_nat_subpool *subs;
	struct xlb_nat_sp *sp;	 /* cfg.n_subpools, by id - subpool_base */
	struct xlb_nat_cpu *cpu; /* ncpus: what nat_cpu[pool_id] must hold */
	bool *dirty;		 /* ncpus: cpu[] changed since written */
	bool *want;		 /* ncpus: the data path asked (an event) */
	__u64 refills, reclaims, steals;
	__u64 topups; /* slots filled for headroom, not at the threshold */
};

int xlb_nat_alloc_init(struct xlb_nat_alloc *a, const struct xlb_pool_cfg *p,
		       unsigned int ncpus, struct xlb_nat_subpool *subs);
void xlb_nat_alloc_free(struct xlb_nat_alloc *a);

/*
 * Takes the pool up from what the maps hold: held (cur[c], the nat_cpu
 * values of the pool's id; NULL: none) and the sub-pools themselves. A
 * sub-pool in a slot stays there; one out of every slot that was handed
 * out (next > 0) drains; the rest are written closed and are free. Then
 * every CPU without a sub-pool gets one. A new pool is the same with
 * nothing held. Marks the CPUs whose values must be written.
 */
void xlb_nat_alloc_adopt(struct xlb_nat_alloc *a, const struct xlb_nat_cpu *cur,
			 __u64 now_ms);

/* Free ports of CPU c: sum over its slots of count - min(next, count). */
__u32 xlb_nat_alloc_cpu_free(const struct xlb_nat_alloc *a, unsigned int c);
/* The data path asked for c (an event): it may take from others. */
void xlb_nat_alloc_hint(struct xlb_nat_alloc *a, unsigned int c);
/*
 * Refills CPU c when its free ports fall below the threshold: used-up
 * slots drain, a free sub-pool goes into an empty slot. With none free,
 * an untouched sub-pool of another CPU is stolen (free after the
 * quarantine) when c is allocating (holds a touched sub-pool, or asked).
 * 1 when c got a sub-pool, else 0.
 */
int xlb_nat_alloc_refill(struct xlb_nat_alloc *a, unsigned int c, __u64 now_ms);
/*
 * Headroom for a controller that is away (restarting, stopped, slow):
 * the data path hands out only the ports its CPUs hold, so while the
 * pool has more free sub-pools than all CPUs' slots, an empty slot of c
 * gets one (one per call; refills at the threshold come first, and a
 * smaller pool keeps its sub-pools for those and for steals, which a
 * CPU holding several untouched ones would make slow). 1 when c got a
 * sub-pool, else 0.
 */
int xlb_nat_alloc_top_up(struct xlb_nat_alloc *a, unsigned int c, __u64 now_ms);
/*
 * A count of live entries per sub-pool of the pool (live[i] for id
 * subpool_base + i), made by a sweep that began at started_ms.
 */
void xlb_nat_alloc_count(struct xlb_nat_alloc *a, const __u32 *live,
			 __u64 started_ms, __u64 now_ms);
/* Draining sub-pools empty for linger_ms go back to free: how many. */
unsigned int xlb_nat_alloc_reclaim(struct xlb_nat_alloc *a, __u64 linger_ms,
				   __u64 now_ms);

/* Closes an untouched sub-pool (next 0 -> count): true if it was. */
bool xlb_nat_subpool_close(struct xlb_nat_subpool *sp);

/* Ports of the pool that CPUs may still hand out, and those that not. */
void xlb_nat_alloc_ports(const struct xlb_nat_alloc *a, __u64 *free,
			 __u64 *used);

/* ---- entries ------------------------------------------------------------- */

/* NAT entries' idle timeouts in stamp units (xlb/flow.h). */
struct xlb_nat_timeouts {
	__u32 tcp;     /* established */
	__u32 closing; /* one FIN seen */
	__u32 linger;  /* both FINs, or an RST */
	__u32 udp;
};

void xlb_nat_timeouts_of(const struct xlb_global_cfg *g,
			 struct xlb_nat_timeouts *t);
/*
 * Whether the entry (k, v) has been idle past its timeout at now (stamp
 * units, CLOCK_MONOTONIC_COARSE as the data path stamps). Ages are
 * modulo 2^32; a stamp after now (the data path wrote it after our clock
 * read) is not idle.
 */
bool xlb_nat_idle(const struct xlb_flow_key *k, const struct xlb_nat_fwd *v,
		  __u32 now, const struct xlb_nat_timeouts *t);

#endif /* XLB_NAT_POOL_H */
