// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The shared hashes against fixed vectors. Every golden case computes its
 * expected backend with include/xlb/hash.h, so that header is checked here
 * on its own: against a second, plainly written lookup3 final mix (the
 * kernel's jhash_3words), and against constants computed once outside C
 * (Python, from lookup3.c's hashword() with three words).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "golden.h"

/* lookup3.c: hashword(k, 3, initval), written out as in the paper. */
static __u32 ref_jhash3(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	__u32 x = 0xdeadbeef + (3u << 2) + initval;
	__u32 k[3] = {a, b, c}, v[3];

	for (int i = 0; i < 3; i++)
		v[i] = x + k[i];
#define ROT(w, n) (((w) << (n)) | ((w) >> (32 - (n))))
	/* final(a,b,c) with a = v[0], b = v[1], c = v[2] */
	v[2] ^= v[1], v[2] -= ROT(v[1], 14);
	v[0] ^= v[2], v[0] -= ROT(v[2], 11);
	v[1] ^= v[0], v[1] -= ROT(v[0], 25);
	v[2] ^= v[1], v[2] -= ROT(v[1], 16);
	v[0] ^= v[2], v[0] -= ROT(v[2], 4);
	v[1] ^= v[0], v[1] -= ROT(v[0], 14);
	v[2] ^= v[1], v[2] -= ROT(v[1], 24);
#undef ROT
	return v[2];
}

static void check(struct tc *t, const char *what, __u32 got, __u32 want)
{
	if (got != want)
		fail(t, "%s = 0x%08x, want 0x%08x", what, got, want);
}

static void hash_jhash_vectors(struct tc *t)
{
	static const struct {
		__u32 a, b, c, iv, want;
	} v[] = {
		{1, 2, 3, 0, 0xa46158f5},
		{0, 0, 0, 0, 0x1b68e557},
		{0xdeadbeef, 0x12345678, 6, XLB_HASH_SEED, 0x73f3f978},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "ref_jhash3 #%zu", i);
		check(t, what, ref_jhash3(v[i].a, v[i].b, v[i].c, v[i].iv),
		      v[i].want);
		snprintf(what, sizeof(what), "xlb_jhash_3words #%zu", i);
		check(t, what,
		      xlb_jhash_3words(v[i].a, v[i].b, v[i].c, v[i].iv),
		      v[i].want);
	}
	/* And the two implementations agree away from the vectors. */
	for (__u32 i = 0; i < 1000; i++) {
		__u32 a = i * 2654435761u, b = ~i, c = i << 7;

		if (xlb_jhash_3words(a, b, c, i) != ref_jhash3(a, b, c, i)) {
			fail(t, "xlb_jhash_3words(%u, %u, %u, %u) differs", a,
			     b, c, i);
			break;
		}
	}
}

static void hash_flow_vectors(struct tc *t)
{
	struct xlb_flow_key k4 = fkey(CLI4, VIP4, 40000, 80, TCP);
	struct xlb_flow_key k6 = fkey(CLI6, VIP6, 40000, 80, UDP);
	union xlb_addr v4 = A(VIP4), v6 = A(CLI6);

	check(t, "flow hash v4", xlb_flow_hash(&k4, 0), 0xed5b679b);
	check(t, "flow hash v4 NO_SPORT",
	      xlb_flow_hash(&k4, XLB_VIP_F_NO_SPORT), 0x2d3e5e23);
	check(t, "flow hash v4 DPORT_ONLY",
	      xlb_flow_hash(&k4, XLB_VIP_F_DPORT_ONLY), 0x551073f8);
	check(t, "flow hash v6", xlb_flow_hash(&k6, 0), 0x42d270c3);
	check(t, "filter bit " VIP4, xlb_filter_bit(&v4), 0x2df0);
	check(t, "filter bit " CLI6, xlb_filter_bit(&v6), 0xaf1a);
}

const struct golden_case cases_hash[] = {
	{"hash_jhash_vectors", "xlb_jhash_3words equals lookup3/jhash_3words",
	 PROG_BALANCE, hash_jhash_vectors},
	{"hash_flow_vectors", "flow hash and filter bit of fixed keys",
	 PROG_BALANCE, hash_flow_vectors},
	{0},
};
