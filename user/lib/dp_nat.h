/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The data plane's full-NAT maps (xlb/nat.h) as xlbd's NAT side uses
 * them: the sub-pools mapped, each pool's per-CPU slots, the connections'
 * entry pairs walked in batches and removed together, and the event
 * ring's fd. Decisions are not made here (user/lib/nat_pool.c and
 * user/xlbd/nat.c make them).
 */
#ifndef XLB_DP_NAT_H
#define XLB_DP_NAT_H

#include <xlb/nat.h>
#include "dataplane.h"

/* nat_subpools, mapped read-write: XLB_MAX_SUBPOOLS entries by id. */
struct xlb_nat_subpool *xlb_dp_nat_subpools(struct xlb_dp *dp);
/* CPUs nat_cpu has a value for (possible CPUs), or -errno. */
int xlb_dp_nat_ncpus(void);
/* nat_cpu[pool_id] of every CPU, v having xlb_dp_nat_ncpus() entries. */
int xlb_dp_nat_cpu_read(struct xlb_dp *dp, __u32 pool_id,
			struct xlb_nat_cpu *v);
int xlb_dp_nat_cpu_write(struct xlb_dp *dp, __u32 pool_id,
			 const struct xlb_nat_cpu *v);

/*
 * Calls fn for every nat_fwd entry, read in batches; fn may remove the
 * entry it is given. Stops at fn's first non-zero return and returns it;
 * else 0 or -errno.
 */
typedef int (*xlb_dp_nat_walk_fn)(const struct xlb_flow_key *k,
				  const struct xlb_nat_fwd *v, void *ctx);
int xlb_dp_nat_walk(struct xlb_dp *dp, xlb_dp_nat_walk_fn fn, void *ctx);
/* The entry of k now: 0, -ENOENT or -errno. */
int xlb_dp_nat_get(struct xlb_dp *dp, const struct xlb_flow_key *k,
		   struct xlb_nat_fwd *v);
/*
 * nat_rev's key of the connection (k, v): the backend's reply as it
 * arrives, backend:VIP port -> NAT address:NAT port.
 */
void xlb_nat_rev_key(const struct xlb_flow_key *k, const struct xlb_nat_fwd *v,
		     struct xlb_flow_key *rk);
/*
 * Removes the connection's two entries: 0, -ENOENT when nat_fwd held no
 * k (the reply's entry is removed all the same), or -errno.
 */
int xlb_dp_nat_delete(struct xlb_dp *dp, const struct xlb_flow_key *k,
		      const struct xlb_nat_fwd *v);
/* The nat_events ring's fd (for ring_buffer__new). */
int xlb_dp_nat_events_fd(const struct xlb_dp *dp);
/*
 * What the backends map holds for id (xlbd writes it alone, and keeps a
 * copy): NULL for an id out of range.
 */
const struct xlb_backend *xlb_dp_backend_written(const struct xlb_dp *dp,
						 __u32 id);

#endif /* XLB_DP_NAT_H */
