/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xlbd's side of egress uplinks (xlb/uplink.h): it gives uplinks their
 * ids, attaches the balancer to their interfaces, resolves and keeps
 * resolved their gateways, follows their links, carriers and gateways
 * through rtnetlink and writes what it finds into uplink_set, uplink_tx
 * and config.n_uplinks; the data path picks an uplink per new flow.
 */
#ifndef XLBD_UPLINK_H
#define XLBD_UPLINK_H

#include <stdbool.h>
#include <jansson.h>
#include "model.h"

struct xlbd;

/*
 * Before a model is applied: gives every uplink of next that lacks one
 * its id (kept from cur for the same interface). 0 or -errno with err.
 */
int xlbd_uplink_assign(struct xlbd *d, const struct xlb_model *cur,
		       struct xlb_model *next, struct xlb_err *err);

/*
 * After a model was applied: the uplinks of next attached, resolved and
 * written (a gateway not yet resolved is an uplink down until it is);
 * removed ones detached and cleared.
 */
int xlbd_uplink_apply(struct xlbd *d, const struct xlb_model *cur,
		      const struct xlb_model *next, struct xlb_err *err);

/* Loop life cycle: the rtnetlink socket in d->epfd. */
int xlbd_uplink_init(struct xlbd *d);
void xlbd_uplink_free(struct xlbd *d);

/*
 * The run-time half of `uplink list`/`uplink show`: adds to obj what
 * xlbd and the maps say of uplink u: "state" ("up"/"down"), "why" (when
 * down: "link down", "no carrier", "gateway unresolved", ...),
 * "ifindex", "gw_mac", "bytes", "packets", "share_measured" (of the
 * bytes since the last reading, 0..1), "share_target" (0..1),
 * "failovers". 0 or -ENOMEM.
 */
int xlbd_uplink_json(struct xlbd *d, const struct xlb_uplink_cfg *u,
		     json_t *obj);

/* False when uplinks are configured and none is up (announce withdraws). */
bool xlbd_uplinks_serving(struct xlbd *d);

/* What the metrics show of an uplink: copied under d->lock by the loop. */
struct xlbd_uplink_stats {
	bool on, up;
	double share_target, share_measured;
	__u64 failover_us; /* its last down: netlink event to map write */
};

/* Under d->lock: uplink id's figures, or NULL when no such uplink runs. */
const struct xlbd_uplink_stats *xlbd_uplink_stats(const struct xlbd *d,
						  __u32 id);
/* Under d->lock: the last failover's event-to-write latency, in µs. */
__u64 xlbd_uplink_failover_us(const struct xlbd *d);

#endif /* XLBD_UPLINK_H */
