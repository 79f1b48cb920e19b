/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * What the Maglev builder (maglev.c) shares with its fingerprint
 * (maglev_fp.c): the seed and mixer of their hashes, and the fingerprint
 * of a table given as ranks.
 */
#ifndef XLB_MAGLEV_PRIV_H
#define XLB_MAGLEV_PRIV_H

#include <linux/types.h>

#define MG_SEED 0x786c62326d676c76ULL /* "xlb2mglv" */

/* splitmix64's finaliser: a bijection with full avalanche. */
static inline __u64 mg_mix(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/*
 * The fingerprint of a table given as ranks into the list of backends that
 * hold slots, sorted by address; that list is hashed first, so the result
 * is a function of the per-slot addresses only. slot == NULL stands for m
 * empty slots. If table is not NULL, also writes table[i] = ids[slot[i]].
 */
__u64 xlb_maglev_fingerprint(const __u64 *addr_hash, __u32 nused,
			     const __u16 *slot, __u32 m, const __u32 *ids,
			     __u32 *table);

#endif /* XLB_MAGLEV_PRIV_H */
