// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The fingerprint of a Maglev table (maglev.c): a hash of the per-slot
 * backend addresses, so that two hosts with the same backend set can see
 * that they built the same table whatever their backend ids.
 */
#include <stddef.h>

#include "maglev_priv.h"

/* One step of a fingerprint lane: xor, odd multiply and xorshift are each
 * bijective, so a change in any one word always changes the lane. */
static inline __u64 mg_fp_step(__u64 h, __u64 w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 32);
}

/* Four slots' ranks as one word, their ids written out if table. */
static inline __u64 mg_fp_word(const __u16 *r, const __u32 *ids, __u32 *table)
{
	if (table) {
		table[0] = ids[r[0]];
		table[1] = ids[r[1]];
		table[2] = ids[r[2]];
		table[3] = ids[r[3]];
	}
	return (__u64)r[0] | (__u64)r[1] << 16 | (__u64)r[2] << 32 |
	       (__u64)r[3] << 48;
}

/*
 * The fingerprint of a table given as ranks into the list of backends that
 * hold slots, sorted by address; that list is hashed first, so the result
 * is a function of the per-slot addresses only. Four independent lanes let
 * the multiplies overlap. slot == NULL stands for m empty slots.
 *
 * If table is not NULL, table[i] = ids[slot[i]] is written in the same
 * pass, which then reads slot[] once (1.3 MB at the largest size).
 */
__u64 xlb_maglev_fingerprint(const __u64 *addr_hash, __u32 nused,
			     const __u16 *slot, __u32 m, const __u32 *ids,
			     __u32 *table)
{
	__u64 h[4], w, fp = mg_mix(MG_SEED ^ m);
	__u32 i, l;

	for (i = 0; i < nused; i++)
		fp = mg_mix(fp ^ addr_hash[i]);
	if (!slot)
		return fp;
	for (l = 0; l < 4; l++)
		h[l] = fp + l;
	for (i = 0; i + 16 <= m; i += 16)
		for (l = 0; l < 4; l++)
			h[l] = mg_fp_step(
				h[l],
				mg_fp_word(slot + i + 4 * l, ids,
					   table ? table + i + 4 * l : NULL));
	for (; i < m; i += 4) {
		w = 0;
		for (l = 0; l < 4 && i + l < m; l++) {
			if (table)
				table[i + l] = ids[slot[i + l]];
			w |= (__u64)slot[i + l] << (16 * l);
		}
		h[0] = mg_fp_step(h[0], w);
	}
	for (l = 0; l < 4; l++)
		fp = mg_mix(fp ^ h[l]);
	return fp;
}
