/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xlbd's side of full-NAT (xlb/nat.h): it lays each client-NAT pool out
 * in sub-pools, hands them to CPUs and refills them at their threshold,
 * takes whole sub-pools back, and sweeps expired NAT entries. The data
 * path allocates ports and makes entries; everything else is here.
 */
#ifndef XLBD_NAT_H
#define XLBD_NAT_H

#include <stdbool.h>
#include <jansson.h>
#include "model.h"

struct xlbd;

/*
 * Before a model is applied: gives every pool of next that lacks them
 * its pool id, sub-pool size and sub-pool ids (kept from cur for a pool
 * cur has). 0 or -errno with err set (no room for the sub-pools).
 */
int xlbd_nat_assign(struct xlbd *d, const struct xlb_model *cur,
		    struct xlb_model *next, struct xlb_err *err);

/*
 * After a model was applied to the maps: writes the sub-pools of new
 * pools and hands each CPU its first ones, and forgets removed pools
 * (their entries removed, their sub-pools cleared). A pool whose sub-pools
 * the maps hold already (a restart) is taken up as they are: nothing
 * held or draining is reset. Called with d->lock held.
 */
int xlbd_nat_apply(struct xlbd *d, const struct xlb_model *cur,
		   const struct xlb_model *next, struct xlb_err *err);

/* Loop life cycle: the event ring and the sweep timer in d->epfd. */
int xlbd_nat_init(struct xlbd *d);
void xlbd_nat_free(struct xlbd *d);

/*
 * The run-time half of `pool show`/`pool list`: adds to obj what the
 * maps and the allocator say of pool p (sub-pools per CPU, free and
 * used ports, refills, reclaims, entries). 0 or -ENOMEM.
 */
int xlbd_nat_pool_json(struct xlbd *d, const struct xlb_pool_cfg *p,
		       json_t *obj);

/* What the metrics show of a pool: copied under d->lock by the loop. */
struct xlbd_nat_stats {
	bool on;
	__u64 ports_free, ports_used;
	__u64 subpools[3]; /* by enum xlb_nat_sp_state: free, cpu, draining */
	__u64 refills, reclaims, steals;
	__u64 entries;		 /* live NAT entries, last sweep */
	__u64 refill_latency_us; /* the last refill's */
};

/* Under d->lock: pool_id's figures, or NULL when no such pool runs. */
const struct xlbd_nat_stats *xlbd_nat_stats(const struct xlbd *d,
					    __u32 pool_id);
/* "free", "cpu" or "draining": enum xlb_nat_sp_state as shown. */
const char *xlbd_nat_state_name(unsigned int state);

#endif /* XLBD_NAT_H */
