// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the Maglev table builder (user/lib/maglev.c), each checking
 * what a user of xlb_maglev_build() relies on: bad input refused with the
 * table untouched, every slot holding a backend of the set, shares that
 * follow the weights, few slots moved when the set changes (the measured
 * fractions are printed), and a table and fingerprint that depend on the
 * set of addresses and weights alone, not on order or ids.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"

#define M_DEF	 XLB_RING_SIZE_DEFAULT
#define SENTINEL 0xdeadbeefU

static __u32 *table_new(__u32 m)
{
	__u32 *t = malloc(m * sizeof(*t));
	__u32 i;

	assert_non_null(t);
	for (i = 0; i < m; i++)
		t[i] = SENTINEL;
	return t;
}

/* Backend i of a test set: 198.18.0.0 + i + 1, id i + 1. */
static void set_v4(struct xlb_maglev_backend *b, unsigned int i, __u32 weight)
{
	memset(b, 0, sizeof(*b));
	b->id = i + 1;
	b->weight = weight;
	b->family = XLB_AF_INET;
	b->addr.v4 = htonl(0xc6120000U + i + 1);
}

/* Backend i of a v6 test set: 2001:db8::(i + 1), id i + 1. */
static void set_v6(struct xlb_maglev_backend *b, unsigned int i, __u32 weight)
{
	memset(b, 0, sizeof(*b));
	b->id = i + 1;
	b->weight = weight;
	b->family = XLB_AF_INET6;
	b->addr.v6[0] = htonl(0x20010db8U);
	b->addr.v6[3] = htonl(i + 1);
}

static struct xlb_maglev_backend *set_new(unsigned int n)
{
	struct xlb_maglev_backend *b = calloc(n ? n : 1, sizeof(*b));

	assert_non_null(b);
	return b;
}

/* Weights 1..10, repeating: the mix the shares and disruption tests use. */
static __u32 cyclic_weight(unsigned int i)
{
	return i % 10 + 1;
}

/*
 * Slots per backend for a set whose ids are 1..n. Fails the test on a slot
 * holding anything else, so every caller also checks the table is filled.
 */
static void count_slots(const __u32 *t, __u32 m, unsigned int n, __u32 *cnt)
{
	__u32 s;

	memset(cnt, 0, n * sizeof(*cnt));
	for (s = 0; s < m; s++) {
		assert_in_range(t[s], 1, n);
		cnt[t[s] - 1]++;
	}
}

static __u32 moved(const __u32 *a, const __u32 *b, __u32 m)
{
	__u32 s, n = 0;

	for (s = 0; s < m; s++)
		n += a[s] != b[s];
	return n;
}

static void test_is_prime(void **state)
{
	static const __u32 primes[] = {2,     3,     5,	     7,
				       65521, 65537, 655373, 4294967291U};
	/*
	 * Squares of primes (up to 65521^2) catch an off-by-one at the
	 * square root.
	 */
	static const __u32 others[] = {0,     1,      4,	   9,
				       25,    49,     121,	   65535,
				       65536, 655371, 4293001441U, 4294967295U};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(primes) / sizeof(primes[0]); i++)
		assert_true(xlb_is_prime(primes[i]));
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		assert_false(xlb_is_prime(others[i]));
}

static void test_bad_input(void **state)
{
	unsigned int big_n = XLB_MAX_BACKENDS + 1, i;
	struct xlb_maglev_backend *b = set_new(big_n), dup;
	__u32 *t = table_new(M_DEF), too_big = XLB_RING_SIZE_MAX + 1;
	static const __u32 not_prime[] = {0, 1, 4, 65535, 65536};

	(void)state;
	for (i = 0; i < big_n; i++)
		set_v4(&b[i], i, 1);
	while (!xlb_is_prime(too_big))
		too_big++;

	for (i = 0; i < sizeof(not_prime) / sizeof(not_prime[0]); i++)
		assert_int_equal(xlb_maglev_build(b, 3, not_prime[i], t, NULL),
				 -EINVAL);
	assert_int_equal(xlb_maglev_build(b, 3, too_big, t, NULL), -EINVAL);
	assert_int_equal(xlb_maglev_build(b, big_n, M_DEF, t, NULL), -EINVAL);
	assert_int_equal(xlb_maglev_build(b, 3, M_DEF, NULL, NULL), -EINVAL);
	assert_int_equal(xlb_maglev_build(NULL, 3, M_DEF, t, NULL), -EINVAL);

	b[1].family = 0;
	assert_int_equal(xlb_maglev_build(b, 3, M_DEF, t, NULL), -EINVAL);
	b[1].family = XLB_AF_INET;

	/* Same address, other id and weight: still the same backend. */
	dup = b[0];
	dup.id = 99;
	dup.weight = 5;
	b[2] = dup;
	assert_int_equal(xlb_maglev_build(b, 3, M_DEF, t, NULL), -EINVAL);
	/* A draining duplicate is as much a caller bug. */
	b[2].weight = 0;
	assert_int_equal(xlb_maglev_build(b, 3, M_DEF, t, NULL), -EINVAL);
	/* For v4 only the first word is the address. */
	b[2] = b[0];
	b[2].id = 99;
	b[2].addr.v6[2] = 0x12345678;
	assert_int_equal(xlb_maglev_build(b, 3, M_DEF, t, NULL), -EINVAL);

	for (i = 0; i < M_DEF; i++)
		if (t[i] != SENTINEL)
			fail_msg("slot %u written by a failed build", i);

	/* The largest size and the smallest are accepted. */
	set_v4(&b[2], 2, 1);
	free(t);
	t = table_new(XLB_RING_SIZE_MAX);
	assert_int_equal(xlb_maglev_build(b, 3, XLB_RING_SIZE_MAX, t, NULL), 0);
	assert_int_equal(xlb_maglev_build(b, 1, 2, t, NULL), 0);
	assert_int_equal(t[0], 1);
	assert_int_equal(t[1], 1);
	free(t);
	free(b);
}

/* Every slot names a backend of the set with weight > 0, and each one. */
static void test_slots_hold_the_set(void **state)
{
	struct xlb_maglev_backend *b = set_new(10);
	__u32 *t = table_new(M_DEF), cnt[10] = {0}, s, i, j;

	(void)state;
	for (i = 0; i < 10; i++) {
		set_v4(&b[i], i, 1);
		b[i].id = 1000 + 37 * i;
	}
	b[3].weight = 0;
	assert_int_equal(xlb_maglev_build(b, 10, M_DEF, t, NULL), 0);
	for (s = 0; s < M_DEF; s++) {
		for (j = 0; j < 10 && b[j].id != t[s]; j++)
			;
		if (j == 10)
			fail_msg("slot %u holds id %u, not in the set", s,
				 t[s]);
		else
			cnt[j]++;
	}
	assert_int_equal(cnt[3], 0);
	for (i = 0; i < 10; i++)
		if (i != 3)
			assert_true(cnt[i] > 0);

	/* Fewer slots than backends: each slot a different backend. */
	for (i = 0; i < 5; i++)
		set_v4(&b[i], i, 1);
	assert_int_equal(xlb_maglev_build(b, 5, 3, t, NULL), 0);
	for (s = 0; s < 3; s++)
		assert_in_range(t[s], 1, 5);
	assert_true(t[0] != t[1] && t[1] != t[2] && t[0] != t[2]);
	free(t);
	free(b);
}

static void test_no_backends(void **state)
{
	struct xlb_maglev_backend *b = set_new(4);
	__u32 *t = table_new(M_DEF), i;
	__u64 fp_none, fp_drained, fp_one;

	(void)state;
	assert_int_equal(xlb_maglev_build(NULL, 0, M_DEF, t, &fp_none), 0);
	for (i = 0; i < M_DEF; i++)
		assert_int_equal(t[i], XLB_BACKEND_NONE);

	for (i = 0; i < 4; i++)
		set_v4(&b[i], i, 0);
	for (i = 0; i < M_DEF; i++)
		t[i] = SENTINEL;
	assert_int_equal(xlb_maglev_build(b, 4, M_DEF, t, &fp_drained), 0);
	for (i = 0; i < M_DEF; i++)
		assert_int_equal(t[i], XLB_BACKEND_NONE);
	/* Both tables are all empty slots: one fingerprint. */
	assert_true(fp_none == fp_drained);

	b[2].weight = 1;
	assert_int_equal(xlb_maglev_build(b, 4, M_DEF, t, &fp_one), 0);
	for (i = 0; i < M_DEF; i++)
		assert_int_equal(t[i], 3);
	assert_true(fp_one != fp_none);
	free(t);
	free(b);
}

static void test_equal_shares(void **state)
{
	unsigned int n = 100, i;
	struct xlb_maglev_backend *b = set_new(n);
	__u32 *t = table_new(M_DEF), cnt[100], lo = M_DEF, hi = 0;
	double ideal = (double)M_DEF / n;

	(void)state;
	for (i = 0; i < n; i++)
		set_v4(&b[i], i, 1);
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, t, NULL), 0);
	count_slots(t, M_DEF, n, cnt);
	for (i = 0; i < n; i++) {
		if (cnt[i] < 0.99 * ideal || cnt[i] > 1.01 * ideal)
			fail_msg("backend %u: %u slots, ideal %.1f", i, cnt[i],
				 ideal);
		lo = cnt[i] < lo ? cnt[i] : lo;
		hi = cnt[i] > hi ? cnt[i] : hi;
	}
	/* Quotas are exact, so equal weights differ by one slot at most. */
	assert_in_range(hi - lo, 0, 1);
	free(t);
	free(b);
}

/* Each share within 1% of weight / sum, and within one slot of exact. */
static void check_weighted(const struct xlb_maglev_backend *b, unsigned int n,
			   __u32 m, double tolerance)
{
	__u32 *t = table_new(m), *cnt = calloc(n, sizeof(*cnt));
	__u64 total = 0;
	unsigned int i;

	assert_non_null(cnt);
	for (i = 0; i < n; i++)
		total += b[i].weight;
	assert_int_equal(xlb_maglev_build(b, n, m, t, NULL), 0);
	count_slots(t, m, n, cnt);
	for (i = 0; i < n; i++) {
		double ideal = (double)m * b[i].weight / total;
		__s64 off =
			(__s64)cnt[i] * (__s64)total - (__s64)m * b[i].weight;

		if (cnt[i] < (1 - tolerance) * ideal ||
		    cnt[i] > (1 + tolerance) * ideal)
			fail_msg("backend %u weight %u: %u slots, ideal %.2f",
				 i, b[i].weight, cnt[i], ideal);
		if (off <= -(__s64)total || off >= (__s64)total)
			fail_msg("backend %u weight %u: %u slots, more than "
				 "one from %.2f",
				 i, b[i].weight, cnt[i], ideal);
	}
	free(cnt);
	free(t);
}

static void test_weighted_shares(void **state)
{
	unsigned int n = 100, i;
	struct xlb_maglev_backend *b = set_new(n);

	(void)state;
	for (i = 0; i < n; i++)
		set_v4(&b[i], i, cyclic_weight(i));
	check_weighted(b, n, M_DEF, 0.01);
	check_weighted(b, n, XLB_RING_SIZE_MAX, 0.01);

	/* Weights 1..1000: a weight-1 share is 13 slots, so one slot only. */
	for (i = 0; i < n; i++)
		b[i].weight = (i * 7919) % 1000 + 1;
	check_weighted(b, n, XLB_RING_SIZE_MAX, 1.0);
	free(b);
}

/*
 * Removing k of 100 backends. The ideal is k/N of the slots, those of the
 * removed backends. Keeping every share exact makes the survivors' last
 * claims reshuffle too: 170 to 380 slots here for k = 1 to 10, growing far
 * slower than k. So five and ten removals stay under 1.2x the ideal, but
 * one moves ~1.26x (the paper's round-robin fill: ~1.57x), hence 1.4x.
 */
static void test_disruption(void **state)
{
	static const struct {
		unsigned int k;
		double bound; /* times k/N */
	} cases[] = {{1, 1.4}, {5, 1.2}, {10, 1.2}};
	unsigned int n = 100, i, j, c;
	struct xlb_maglev_backend *b = set_new(n), *rest = set_new(n);
	__u32 *full = table_new(M_DEF), *t = table_new(M_DEF);

	(void)state;
	for (i = 0; i < n; i++)
		set_v4(&b[i], i, 1);
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, full, NULL), 0);

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		unsigned int k = cases[c].k, nrest = 0;
		double frac, ideal = (double)k / n;

		/* Evenly spaced, so not only the first addresses go. */
		for (i = 0; i < n; i++) {
			for (j = 0; j < k && i != j * (n / k) + 3; j++)
				;
			if (j == k)
				rest[nrest++] = b[i];
		}
		assert_int_equal(nrest, n - k);
		assert_int_equal(xlb_maglev_build(rest, nrest, M_DEF, t, NULL),
				 0);
		frac = (double)moved(full, t, M_DEF) / M_DEF;
		print_message("remove %2u of %u: %.4f of slots moved (%.3fx "
			      "k/N, bound %.1fx)\n",
			      k, n, frac, frac / ideal, cases[c].bound);
		/* A removed backend's slots must all move: at least ideal. */
		assert_true(frac >= ideal - 1.0 / M_DEF * k);
		if (frac > cases[c].bound * ideal)
			fail_msg("remove %u: moved %.4f > %.1f * %.4f", k, frac,
				 cases[c].bound, ideal);
	}
	free(t);
	free(full);
	free(rest);
	free(b);
}

/* Taking backends out and putting them back gives the same table. */
static void test_readd_restores(void **state)
{
	unsigned int n = 100, i, nrest = 0;
	struct xlb_maglev_backend *b = set_new(n), *rest = set_new(n);
	__u32 *full = table_new(M_DEF), *t = table_new(M_DEF);
	__u64 fp_full, fp;

	(void)state;
	for (i = 0; i < n; i++)
		set_v4(&b[i], i, cyclic_weight(i));
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, full, &fp_full), 0);

	for (i = 0; i < n; i++)
		if (i % 20 != 7)
			rest[nrest++] = b[i];
	assert_int_equal(xlb_maglev_build(rest, nrest, M_DEF, t, &fp), 0);
	assert_true(moved(full, t, M_DEF) > 0);
	assert_true(fp != fp_full);

	/* Back in, appended rather than where they were. */
	for (i = 7; i < n; i += 20)
		rest[nrest++] = b[i];
	assert_int_equal(nrest, n);
	assert_int_equal(xlb_maglev_build(rest, nrest, M_DEF, t, &fp), 0);
	assert_memory_equal(full, t, M_DEF * sizeof(*t));
	assert_true(fp == fp_full);
	free(t);
	free(full);
	free(rest);
	free(b);
}

static void test_order_and_ids(void **state)
{
	unsigned int n = 100, i, j;
	struct xlb_maglev_backend *b = set_new(n), *o = set_new(n), tmp;
	__u32 *t1 = table_new(M_DEF), *t2 = table_new(M_DEF), s, seed = 1;
	__u64 fp1, fp2;

	(void)state;
	for (i = 0; i < n; i++)
		set_v4(&b[i], i, cyclic_weight(i));
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, t1, &fp1), 0);

	/* Fisher-Yates with a fixed LCG: a reproducible shuffle. */
	memcpy(o, b, n * sizeof(*o));
	for (i = n - 1; i > 0; i--) {
		seed = seed * 1103515245 + 12345;
		j = (seed >> 16) % (i + 1);
		tmp = o[i];
		o[i] = o[j];
		o[j] = tmp;
	}
	assert_true(memcmp(o, b, n * sizeof(*o)) != 0);
	assert_int_equal(xlb_maglev_build(o, n, M_DEF, t2, &fp2), 0);
	assert_memory_equal(t1, t2, M_DEF * sizeof(*t1));
	assert_true(fp1 == fp2);

	/*
	 * Another host numbers the same backends 5000 + (100 - i): other
	 * ids in the table, the same backend in every slot, and so the same
	 * fingerprint.
	 */
	for (i = 0; i < n; i++)
		b[i].id = 5000 + n - i;
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, t2, &fp2), 0);
	assert_true(memcmp(t1, t2, M_DEF * sizeof(*t1)) != 0);
	for (s = 0; s < M_DEF; s++)
		assert_int_equal(t1[s] - 1, 5000 + n - t2[s]);
	assert_true(fp1 == fp2);
	free(t2);
	free(t1);
	free(o);
	free(b);
}

static void test_ipv6_and_mixed(void **state)
{
	unsigned int n = 100, i;
	struct xlb_maglev_backend *b = set_new(n + 2), *v4 = set_new(n);
	__u32 *t1 = table_new(M_DEF), *t2 = table_new(M_DEF);
	__u32 cnt[102];
	__u64 fp1, fp2;

	(void)state;
	for (i = 0; i < n; i++)
		set_v6(&b[i], i, 1);
	check_weighted(b, n, M_DEF, 0.01);

	/* Half and half, weighted. */
	for (i = 0; i < n; i++) {
		if (i % 2)
			set_v6(&b[i], i, cyclic_weight(i));
		else
			set_v4(&b[i], i, cyclic_weight(i));
	}
	check_weighted(b, n, M_DEF, 0.01);

	/*
	 * 198.18.0.1 and the v6 address whose bytes start the same: the
	 * family tells them apart, so they are two backends.
	 */
	set_v4(&b[n], n, 1);
	b[n].addr.v4 = htonl(0xc6120001U);
	b[n + 1] = b[n];
	b[n + 1].id = n + 2;
	b[n + 1].family = XLB_AF_INET6;
	assert_int_equal(b[0].family, XLB_AF_INET);
	b[0].addr.v4 = htonl(0xc612ff00U); /* keep 198.18.0.1 unique */
	assert_int_equal(xlb_maglev_build(b, n + 2, M_DEF, t1, NULL), 0);
	count_slots(t1, M_DEF, n + 2, cnt);
	assert_true(cnt[n] > 0 && cnt[n + 1] > 0);

	/* Bytes 4..15 of a v4 address do not count. */
	for (i = 0; i < n; i++)
		set_v4(&v4[i], i, cyclic_weight(i));
	assert_int_equal(xlb_maglev_build(v4, n, M_DEF, t1, &fp1), 0);
	for (i = 0; i < n; i++)
		v4[i].addr.v6[1 + i % 3] = 0xa5a5a5a5U * (i + 1);
	assert_int_equal(xlb_maglev_build(v4, n, M_DEF, t2, &fp2), 0);
	assert_memory_equal(t1, t2, M_DEF * sizeof(*t1));
	assert_true(fp1 == fp2);
	free(t2);
	free(t1);
	free(v4);
	free(b);
}

static void test_fingerprint_changes(void **state)
{
	unsigned int n = 100, i;
	struct xlb_maglev_backend *b = set_new(n), heavy[2];
	__u32 *t1 = table_new(M_DEF), *t2 = table_new(M_DEF);
	__u64 fp_full, fp;

	(void)state;
	for (i = 0; i < n; i++)
		set_v4(&b[i], i, 1);
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, t1, &fp_full), 0);
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, t2, &fp), 0);
	assert_true(fp == fp_full);

	/* One backend fewer (the last in the array and in address order). */
	assert_int_equal(xlb_maglev_build(b, n - 1, M_DEF, t2, &fp), 0);
	assert_true(fp != fp_full);
	/* One weight changed. */
	b[40].weight = 2;
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, t2, &fp), 0);
	assert_true(moved(t1, t2, M_DEF) > 0);
	assert_true(fp != fp_full);
	/* A backend moved to another address. */
	b[40].weight = 1;
	b[40].addr.v4 = htonl(0xc0a80001U);
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, t2, &fp), 0);
	assert_true(fp != fp_full);

	/*
	 * The largest weight against 1: the light backend's share rounds to
	 * no slot, so the table is the heavy one's alone, fingerprint
	 * included. The light one sorts first, so it is not merely left off
	 * the end of the list.
	 */
	set_v4(&heavy[0], 1, 0xffffffffU);
	set_v4(&heavy[1], 0, 1);
	assert_int_equal(xlb_maglev_build(heavy, 2, M_DEF, t1, &fp_full), 0);
	for (i = 0; i < M_DEF; i++)
		assert_int_equal(t1[i], 2);
	assert_int_equal(xlb_maglev_build(heavy, 1, M_DEF, t2, &fp), 0);
	assert_true(fp == fp_full);
	free(t2);
	free(t1);
	free(b);
}

/*
 * Tables pinned by fingerprint, as built by the first release of this
 * builder: balancers of different versions compare fingerprints, and xlbd
 * keeps flows across a restart by building the same tables, so a faster
 * builder must still build exactly these. Equal, spread (1..1000) and
 * mixed-family weights; the default and largest sizes; a size smaller
 * than the backend count.
 */
static void test_golden_fingerprints(void **state)
{
	static const struct {
		unsigned int n, mix;
		__u32 m;
		__u64 fp;
	} cases[] = {
		{1000, 0, M_DEF, 0x1fbf7f76fb86a661ULL},
		{1000, 0, XLB_RING_SIZE_MAX, 0xc867102f549b53eeULL},
		{1000, 1, M_DEF, 0xfd6d0dd4b4ed6172ULL},
		{1000, 1, XLB_RING_SIZE_MAX, 0x0d89cf11b45f44e5ULL},
		{300, 2, M_DEF, 0x71f5b1b1a9fd937bULL},
		{300, 2, 4099, 0xa7ccd4edd995c928ULL},
		{300, 2, 251, 0xdafbd1ad72008b43ULL},
	};
	struct xlb_maglev_backend *b = set_new(1000);
	__u32 *t = table_new(XLB_RING_SIZE_MAX);
	unsigned int c, i;
	__u64 fp;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (i = 0; i < cases[c].n; i++) {
			if (cases[c].mix == 0)
				set_v4(&b[i], i, 1);
			else if (cases[c].mix == 1)
				set_v4(&b[i], i, (i * 7919) % 1000 + 1);
			else if (i % 2)
				set_v6(&b[i], i, cyclic_weight(i));
			else
				set_v4(&b[i], i, cyclic_weight(i));
		}
		assert_int_equal(
			xlb_maglev_build(b, cases[c].n, cases[c].m, t, &fp), 0);
		if (fp != cases[c].fp)
			fail_msg("n %u mix %u m %u: fingerprint %016llx, "
				 "want %016llx",
				 cases[c].n, cases[c].mix, cases[c].m,
				 (unsigned long long)fp,
				 (unsigned long long)cases[c].fp);
	}
	free(t);
	free(b);
}

/* The largest sizes: every slot valid, every share within one slot. */
static void test_large(void **state)
{
	unsigned int n = 1000, i;
	struct xlb_maglev_backend *b = set_new(XLB_MAX_BACKENDS);

	(void)state;
	for (i = 0; i < n; i++)
		set_v4(&b[i], i, cyclic_weight(i));
	check_weighted(b, n, XLB_RING_SIZE_MAX, 0.01);
	for (i = 0; i < XLB_MAX_BACKENDS; i++)
		set_v6(&b[i], i, 1 + i % 3);
	check_weighted(b, XLB_MAX_BACKENDS, M_DEF, 1.0);
	free(b);
}

/*
 * Memory kept from build to build (what xlbd's ring builders do): each
 * build equals a build in fresh memory, with its fingerprint, whatever
 * the kept memory held before: sets growing and shrinking, other sizes,
 * mixed families, draining backends, an empty set.
 */
static void test_kept_memory(void **state)
{
	static const struct {
		unsigned int n;
		__u32 m;
		bool v6;
	} seq[] = {
		{100, M_DEF, false}, {10, M_DEF, false}, {1000, M_DEF, true},
		{3, 5, false},	     {0, M_DEF, false},	 {99, 655373, false},
		{100, M_DEF, true},  {7, 251, false},
	};
	struct xlb_maglev_backend *b = set_new(1000);
	struct xlb_maglev_mem keep = {0};
	__u32 *t = table_new(655373), *want = table_new(655373);
	__u64 fp, fp_want;

	(void)state;
	for (size_t k = 0; k < sizeof(seq) / sizeof(seq[0]); k++) {
		for (unsigned int i = 0; i < seq[k].n; i++) {
			if (seq[k].v6 && i % 2)
				set_v6(&b[i], i, cyclic_weight(i + k));
			else
				set_v4(&b[i], i, cyclic_weight(i + k));
			if (i % 17 == 3)
				b[i].weight = 0; /* draining */
		}
		assert_int_equal(
			xlb_maglev_build(b, seq[k].n, seq[k].m, want, &fp_want),
			0);
		assert_int_equal(xlb_maglev_build_in(&keep, b, seq[k].n,
						     seq[k].m, t, &fp),
				 0);
		assert_memory_equal(t, want, seq[k].m * sizeof(*t));
		assert_true(fp == fp_want);
		assert_non_null(keep.mem);
	}
	/* A refused build leaves the kept memory usable. */
	assert_int_equal(xlb_maglev_build_in(&keep, b, 3, 4, t, NULL), -EINVAL);
	assert_int_equal(xlb_maglev_build_in(&keep, b, 10, M_DEF, t, &fp), 0);
	assert_int_equal(xlb_maglev_build(b, 10, M_DEF, want, &fp_want), 0);
	assert_memory_equal(t, want, M_DEF * sizeof(*t));
	xlb_maglev_mem_free(&keep);
	assert_null(keep.mem);
	free(t);
	free(want);
	free(b);
}

/*
 * Backends out (down or draining, xlb_maglev_backend.out): only their
 * slots move, exactly the ideal k/N; none of them holds a slot; the rest
 * take them in proportion to weight; the table does not depend on the
 * order they went out in (a build with all out equals the table patched
 * one backend at a time, fingerprints too); all out leaves every slot
 * empty, like no backends at all.
 */
static void check_out(struct xlb_maglev_backend *b, unsigned int n,
		      const unsigned int *outs, unsigned int k)
{
	__u32 *base = table_new(M_DEF), *t = table_new(M_DEF),
	      *step = table_new(M_DEF), *cnt = calloc(n, sizeof(*cnt));
	struct xlb_maglev_mem keep = {0};
	__u64 fp, fp_step = 0, w_up = 0, w_out = 0, moved = 0, owned = 0;
	unsigned int i, j;

	assert_non_null(cnt);
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, base, NULL), 0);
	memcpy(step, base, M_DEF * sizeof(*step));
	/* Out one at a time, in reverse, each a repatch of the last: in
	 * place, or into another table (xlbd's spare half) and back. */
	for (j = k; j-- > 0;) {
		b[outs[j]].out = 1;
		assert_int_equal(xlb_maglev_repatch_in(&keep, b, n, M_DEF, step,
						       j % 2 ? step : t,
						       &fp_step),
				 0);
		if (!(j % 2))
			memcpy(step, t, M_DEF * sizeof(*step));
	}
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, t, &fp), 0);
	assert_memory_equal(t, step, M_DEF * sizeof(*t));
	assert_true(fp == fp_step);
	count_slots(t, M_DEF, n, cnt);
	for (i = 0; i < n; i++) {
		if (b[i].out)
			w_out += b[i].weight;
		else
			w_up += b[i].weight;
	}
	for (__u32 s = 0; s < M_DEF; s++) {
		bool was_out = b[base[s] - 1].out;

		owned += was_out;
		moved += t[s] != base[s];
		/* Only the out backends' slots move. */
		if (!was_out && t[s] != base[s])
			fail_msg("slot %u moved from %u, which is not out", s,
				 base[s]);
	}
	assert_true(moved == owned);
	for (i = 0; i < n; i++) {
		double ideal = (double)M_DEF * b[i].weight / w_up,
		       extra = (double)moved * b[i].weight / w_up;

		if (b[i].out) {
			assert_int_equal(cnt[i], 0);
			continue;
		}
		/*
		 * Each moved slot goes to a backend with probability
		 * weight / w_up: a share within four standard deviations
		 * of that (a bias toward some, as when the slots went to
		 * the next in the fill's order, is 10 and more).
		 */
		if (fabs(cnt[i] - ideal) > 4 * sqrt(extra) + 1)
			fail_msg("backend %u weight %u: %u slots with %u out, "
				 "ideal %.1f",
				 i, b[i].weight, cnt[i], k, ideal);
	}
	print_message("    %u of %u out: %llu slots moved (%.2fx the ideal)\n",
		      k, n, (unsigned long long)moved,
		      (double)moved / ((double)M_DEF * w_out / (w_up + w_out)));
	for (j = 0; j < k; j++)
		b[outs[j]].out = 0;
	xlb_maglev_mem_free(&keep);
	free(cnt);
	free(step);
	free(t);
	free(base);
}

static void test_out(void **state)
{
	static const unsigned int one[] = {41}, five[] = {3, 97, 12, 50, 0},
				  ten[] = {9,  19, 29, 39, 49,
					   59, 69, 79, 89, 99};
	unsigned int n = 100, i;
	struct xlb_maglev_backend *b = set_new(n);
	__u32 *t = table_new(M_DEF), *none = table_new(M_DEF);
	__u64 fp, fp_none;

	(void)state;
	for (i = 0; i < n; i++)
		set_v4(&b[i], i, 1);
	check_out(b, n, one, 1);
	check_out(b, n, five, 5);
	check_out(b, n, ten, 10);
	/* Weighted (several stepping rates), v4 and v6 mixed. */
	for (i = 0; i < n; i++) {
		if (i % 3)
			set_v4(&b[i], i, cyclic_weight(i));
		else
			set_v6(&b[i], i, cyclic_weight(i));
	}
	check_out(b, n, one, 1);
	check_out(b, n, ten, 10);

	/* All out: empty, as with no backend at all. */
	for (i = 0; i < n; i++)
		b[i].out = 1;
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, t, &fp), 0);
	assert_int_equal(xlb_maglev_build(NULL, 0, M_DEF, none, &fp_none), 0);
	assert_memory_equal(t, none, M_DEF * sizeof(*t));
	assert_true(fp == fp_none);
	free(none);
	free(t);
	free(b);
}

/*
 * A repatch refuses a table that is not of its set (an id no backend of
 * weight > 0 has) and leaves it as it was; so does a bad size.
 */
static void test_repatch_refuses(void **state)
{
	unsigned int n = 10, i;
	struct xlb_maglev_backend *b = set_new(n);
	__u32 *t = table_new(M_DEF), *copy = table_new(M_DEF);
	struct xlb_maglev_mem keep = {0};

	(void)state;
	for (i = 0; i < n; i++)
		set_v4(&b[i], i, 1);
	assert_int_equal(xlb_maglev_build(b, n, M_DEF, t, NULL), 0);
	b[4].out = 1;
	b[7].weight = 0; /* drained: it held slots, now it may not */
	memcpy(copy, t, M_DEF * sizeof(*t));
	assert_int_equal(xlb_maglev_repatch_in(&keep, b, n, M_DEF, t, t, NULL),
			 -EINVAL);
	assert_memory_equal(t, copy, M_DEF * sizeof(*t));
	b[7].weight = 1;
	t[M_DEF - 1] = 4242; /* no such id */
	memcpy(copy, t, M_DEF * sizeof(*t));
	assert_int_equal(xlb_maglev_repatch_in(&keep, b, n, M_DEF, t, t, NULL),
			 -EINVAL);
	assert_memory_equal(t, copy, M_DEF * sizeof(*t));
	assert_int_equal(xlb_maglev_repatch_in(&keep, b, n, 65536, t, t, NULL),
			 -EINVAL);
	xlb_maglev_mem_free(&keep);
	free(copy);
	free(t);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_prime),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_slots_hold_the_set),
		cmocka_unit_test(test_no_backends),
		cmocka_unit_test(test_equal_shares),
		cmocka_unit_test(test_weighted_shares),
		cmocka_unit_test(test_disruption),
		cmocka_unit_test(test_readd_restores),
		cmocka_unit_test(test_order_and_ids),
		cmocka_unit_test(test_ipv6_and_mixed),
		cmocka_unit_test(test_fingerprint_changes),
		cmocka_unit_test(test_golden_fingerprints),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_kept_memory),
		cmocka_unit_test(test_out),
		cmocka_unit_test(test_repatch_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
