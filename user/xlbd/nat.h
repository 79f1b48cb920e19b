/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xlbd's side of full-NAT (xlb/nat.h): it lays each client-NAT pool out
 * in sub-pools, hands them to CPUs and refills them at their threshold,
 * takes whole sub-pools back, and sweeps expired NAT entries. The data
 * path allocates ports and makes entries; everything else is here.
 */
#ifndef XLBD_NAT_H
#define XLBD_NAT_H

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
 * (their entries removed, their sub-pools cleared).
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

#endif /* XLBD_NAT_H */
