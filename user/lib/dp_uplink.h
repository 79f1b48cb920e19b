/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The data plane's uplink maps (xlb/uplink.h) as xlbd's uplink side uses
 * them: uplink_set written whole, uplink_tx entries, uplink_load summed
 * over CPUs, config.n_uplinks kept across every config write, and the
 * balancer's program put on (or found on, or taken off) an uplink's
 * interface other than the main one. Decisions are made in
 * user/xlbd/uplink.c.
 */
#ifndef XLB_DP_UPLINK_H
#define XLB_DP_UPLINK_H

#include <stdbool.h>
#include <xlb/uplink.h>
#include "dataplane.h"
#include "err.h"

int xlb_dp_uplink_set_write(struct xlb_dp *dp, const struct xlb_uplink_set *s);
int xlb_dp_uplink_set_read(struct xlb_dp *dp, struct xlb_uplink_set *s);
/* uplink_tx[id] = ifindex; ifindex 0 removes the entry. */
int xlb_dp_uplink_tx_write(struct xlb_dp *dp, __u32 id, __u32 ifindex);
/*
 * uplink_load of every CPU summed into sum (window_start_ns: the latest
 * CPU's). 0 or -errno.
 */
int xlb_dp_uplink_load_read(struct xlb_dp *dp, struct xlb_uplink_load *sum);

/*
 * config.n_uplinks: set writes it now (the rest of config as it is) and
 * every later config write keeps it; get is what was last written or,
 * after a restart, what the pinned config held.
 */
int xlb_dp_uplinks_set_n(struct xlb_dp *dp, __u32 n);
__u32 xlb_dp_uplinks_n(const struct xlb_dp *dp);

/*
 * The balancer on another interface, native mode. attach adopts a
 * program of ours found there (same maps: *adopted set), replaces one of
 * ours that uses other maps (a previous load's), refuses (-EBUSY) when
 * another XDP program is there, and otherwise attaches ours. detach
 * takes it off only when the program there is ours. 0 or -errno with err.
 */
int xlb_dp_uplink_attach(struct xlb_dp *dp, int ifindex, bool *adopted,
			 struct xlb_err *err);
int xlb_dp_uplink_detach(struct xlb_dp *dp, int ifindex);

#endif /* XLB_DP_UPLINK_H */
