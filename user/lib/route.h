/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * VIP announcements as routes: xlbd puts a blackhole route for each VIP
 * address it can serve (/32, /128) into a routing table of its own, which
 * BIRD's kernel protocol learns and exports by BGP. A route reaches the
 * router in milliseconds and survives restarts of xlbd and BIRD alike, so
 * xlbd withdraws what it no longer wants itself (xlb_route_sync at start).
 * Everything goes through rtnetlink: one socket per table handle, one
 * request at a time, each answered (or timed out) before the next.
 */
#ifndef XLB_ROUTE_H
#define XLB_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "err.h"
#include "xlb/types.h"

/*
 * The rtm_protocol of our routes (0xb1, unassigned in iproute2's
 * rt_protos): it tells our announcements from any other route in the
 * table, so sync never removes a route someone else put there. Add
 * "177 xlb" to /etc/iproute2/rt_protos.d/xlb.conf to see it by name.
 */
#define XLB_RTPROT 177

/* How long one request waits for the kernel's answer. */
#define XLB_ROUTE_TIMEOUT_MS 2000

struct xlb_route;

/* One announced address. */
struct xlb_route_entry {
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
	union xlb_addr addr;
};

/*
 * A handle on the announcements of one table: 1..2^32-1 but 253
 * (default), 254 (main) and 255 (local), which would put blackholes in
 * the host's own routing: -EINVAL.
 */
int xlb_route_open(__u32 table, struct xlb_route **out, struct xlb_err *err);
void xlb_route_close(struct xlb_route *r);

/* Is this a table xlb_route_open accepts? */
bool xlb_route_table_ok(__u32 table);

/*
 * Announces one address (idempotent: a route already there is replaced,
 * whoever put it there) or withdraws our route for it (absent is fine; a
 * route of another protocol for the same address is left alone).
 */
int xlb_route_announce(struct xlb_route *r, __u8 family,
		       const union xlb_addr *a, struct xlb_err *err);
int xlb_route_withdraw(struct xlb_route *r, __u8 family,
		       const union xlb_addr *a, struct xlb_err *err);

/* Every address we announced in the table, both families; *out malloc'd. */
int xlb_route_list(struct xlb_route *r, struct xlb_route_entry **out, size_t *n,
		   struct xlb_err *err);

/*
 * Makes our routes in the table exactly want[0..n): announces the missing,
 * withdraws ours that are not wanted. It carries on past a failed address
 * (one bad route must not keep the others stale) and returns the first
 * error; *added and *removed (may be NULL) count what succeeded.
 */
int xlb_route_sync(struct xlb_route *r, const struct xlb_route_entry *want,
		   size_t n, size_t *added, size_t *removed,
		   struct xlb_err *err);

/* "198.19.0.1" or "2001:db8::1" into buf (INET6_ADDRSTRLEN bytes). */
const char *xlb_route_addr_str(__u8 family, const union xlb_addr *a, char *buf,
			       size_t len);

#endif /* XLB_ROUTE_H */
