/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The decap table of a backend's addresses (see struct xlb_decap_bucket
 * in types.h): the bucket of an address, which the program and its
 * writers must compute identically, and the writers' table builder.
 *
 * The bucket is the top bits of a multiplicative hash of the address's
 * 32-bit words (raw, network-order bytes) under an odd multiplier the
 * writer picks; an IPv6 address's words are mixed in one at a time with
 * a shift between the products, so that no pair of addresses shares a
 * bucket under every multiplier (with products alone, words that differ
 * only in their top bits would). The builder tries multipliers until
 * every bucket holds at most XLB_DECAP_WAYS addresses, which with at
 * most one address per four buckets takes about two tries at the worst
 * and one in practice.
 */
#ifndef XLB_DECAP_H
#define XLB_DECAP_H

#include <linux/types.h>
#include "types.h"

#ifdef __bpf__
#define XLB_DECAP_INLINE static __attribute__((always_inline)) inline
#else
#define XLB_DECAP_INLINE static inline
#endif

/* Bucket of IPv4 address a in the table of word `active`. */
XLB_DECAP_INLINE __u32 xlb_decap_bucket4(__u32 a, __u32 active)
{
	return (a * (active | 1)) >> (32 - XLB_DECAP_BUCKET_BITS);
}

/* Bucket of IPv6 address w (its four words) in the table of `active`. */
XLB_DECAP_INLINE __u32 xlb_decap_bucket6(const __u32 *w, __u32 active)
{
	__u32 m = active | 1, h = w[0];

	h *= m;
	h = (h ^ (h >> 16)) + w[1];
	h *= m;
	h = (h ^ (h >> 16)) + w[2];
	h *= m;
	h = (h ^ (h >> 16)) + w[3];
	return (h * m) >> (32 - XLB_DECAP_BUCKET_BITS);
}

#ifndef __bpf__
#include <errno.h>
#include <string.h>

/* Multipliers tried before a builder gives up (it never has to). */
#define XLB_DECAP_TRIES 4096

/*
 * Builds the table of half `half` holding the n keys (zero beyond the
 * address; duplicates are kept once) into tab[XLB_DECAP_BUCKETS]; *active is
 * then the word that puts it in force. 0, or -ENOSPC (more than
 * XLB_MAX_DECAP_ADDRS addresses, or no multiplier found).
 */
static inline int xlb_decap_build(struct xlb_decap_bucket *tab,
				  const struct xlb_decap_key *keys, int n,
				  __u32 half, __u32 *active)
{
	if (n > XLB_MAX_DECAP_ADDRS)
		return -ENOSPC;
	for (__u32 t = 1; t <= XLB_DECAP_TRIES; t++) {
		/* Odd multipliers spread by the golden ratio. */
		__u32 a = ((t * 0x9e3779b9U) & ~1U) | (half & 1);
		int i, w;

		memset(tab, 0, XLB_DECAP_BUCKETS * sizeof(*tab));
		for (i = 0; i < n; i++) {
			const struct xlb_decap_key *k = &keys[i];
			struct xlb_decap_bucket *b =
				&tab[k->family == XLB_AF_INET6
					     ? xlb_decap_bucket6(k->addr.v6, a)
					     : xlb_decap_bucket4(k->addr.v4,
								 a)];

			for (w = 0; w < XLB_DECAP_WAYS; w++)
				if (!b->way[w].family ||
				    !memcmp(&b->way[w], &keys[i],
					    sizeof(keys[i])))
					break;
			if (w == XLB_DECAP_WAYS)
				break;
			b->way[w] = keys[i];
		}
		if (i == n) {
			*active = a;
			return 0;
		}
	}
	return -ENOSPC;
}
#endif

#endif /* XLB_DECAP_H */
