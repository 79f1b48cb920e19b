/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Weighted Maglev lookup tables (Eisenbud et al., NSDI'16): the table a
 * VIP's ring holds, built from its backend set so that every balancer given
 * the same set builds the same table, and so that a change of the set moves
 * few flows. The table depends only on the set of (family, address, weight);
 * backend ids are merely written into the slots, and the fingerprint lets
 * two hosts with different id allocations check that they agree.
 */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <xlb/types.h>

struct xlb_maglev_backend {
	__u32 id;	     /* value written into the table (backend id) */
	__u32 weight;	     /* 0 = gets no slots */
	union xlb_addr addr; /* identity used for ordering and permutation */
	__u8 family;	     /* XLB_AF_INET or XLB_AF_INET6 */
	/*
	 * Out (down, draining): the backend keeps its weight in the fill,
	 * but each slot it fills goes to the backend not out that comes
	 * first in that slot's own draw (rendezvous hashing weighted by
	 * an exponential race: the least -ln(draw) / weight), whatever
	 * that one's share. So a backend going out moves its own slots
	 * only, spread by weight; coming back it takes exactly those back;
	 * and the table does not depend on the order in which backends
	 * went out. If every backend of weight > 0 is out, every slot
	 * holds XLB_BACKEND_NONE.
	 */
	__u8 out;
};

bool xlb_is_prime(__u32 n);

/*
 * Fills table[0..m) with backend ids. m must be a prime <= XLB_RING_SIZE_MAX
 * (and >= 2); n <= XLB_MAX_BACKENDS. Result depends only on the SET of
 * (family, addr, weight) — never on the order of b[] nor on the ids (ids are
 * just written out). Backends with weight 0 get no slots. If no backend has
 * weight > 0 (or n == 0) the table is filled with XLB_BACKEND_NONE and 0 is
 * returned. Duplicate addresses -> -EINVAL. Returns 0 or a negative errno
 * (-EINVAL bad m / n, -ENOMEM). If fingerprint != NULL, *fingerprint gets a
 * 64-bit hash of the table expressed in backend ADDRESSES per slot (not ids),
 * so two hosts with different id allocations but the same backend set get the
 * same fingerprint.
 *
 * Also -EINVAL: table NULL, b NULL with n > 0, a family other than
 * XLB_AF_INET / XLB_AF_INET6. For XLB_AF_INET only addr.v4 counts; the
 * other twelve bytes are ignored. On error the table is left untouched.
 */
int xlb_maglev_build(const struct xlb_maglev_backend *b, size_t n, __u32 m,
		     __u32 *table, __u64 *fingerprint);

/*
 * A build's working memory (~200 KB at m = 65537), kept for the next
 * build by one caller: malloc returns a block that size to the system at
 * free, and the first touch of each fresh page then costs more than the
 * build's arithmetic (measured in xlbd: 0.75-1.0 ms a build of 100
 * backends against 0.40 ms with the memory kept). Zero-initialised; one
 * thread at a time; xlb_maglev_mem_free releases it.
 */
struct xlb_maglev_mem {
	void *mem;
	size_t len;
};

/* xlb_maglev_build, its working memory taken from and left in *keep. */
int xlb_maglev_build_in(struct xlb_maglev_mem *keep,
			const struct xlb_maglev_backend *b, size_t n, __u32 m,
			__u32 *table, __u64 *fingerprint);

/*
 * The table for b from the table for the same set with fewer backends
 * out: `from` holds what xlb_maglev_build made of b with some of the
 * backends now out not yet out (ids, addresses, families and weights the
 * same); table gets what it makes of b, with its fingerprint (table may
 * be `from`, or another array: a ring's spare half, from its half in
 * force).
 * Only the slots of backends now out are looked at again, so this costs
 * a pass over the table instead of a fill: what a health check failing
 * costs. Every id of b must be below XLB_MAX_BACKENDS. -EINVAL as for
 * xlb_maglev_build, and when a slot of `from` holds an id not in b or
 * that no backend of weight > 0 holds (then table is left untouched, and
 * the caller builds it); -ENOMEM.
 */
int xlb_maglev_repatch_in(struct xlb_maglev_mem *keep,
			  const struct xlb_maglev_backend *b, size_t n, __u32 m,
			  const __u32 *from, __u32 *table, __u64 *fingerprint);
void xlb_maglev_mem_free(struct xlb_maglev_mem *keep);

#endif /* XLB_MAGLEV_H */
