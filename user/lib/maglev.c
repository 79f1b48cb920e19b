// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The weighted Maglev table builder. As in the paper (Eisenbud et al.,
 * NSDI'16) each backend has its own permutation of the slots, offset +
 * j * skip with both hashed from its address, and claims free slots in that
 * order. Two things differ from the paper's round-robin fill, both because
 * they move fewer slots when the backend set changes:
 *
 * - Each backend's slot count is fixed up front: its weight's share of m by
 *   largest remainders, so every share is within one slot of exact.
 * - Backends advance along their permutations in lockstep by position, not
 *   by claims: at each step every backend short of its quota looks at the
 *   next slot of its permutation and takes it if free. A backend's j-th
 *   look happens at the same time whatever the others did, so when one
 *   leaves, the others pick up its slots without being pushed along their
 *   own permutations; only the last claims of each backend reshuffle.
 *   Removing 1, 5 or 10 of 100 backends (m = 65537) moves 1.28, 1.10 and
 *   1.06 times the ideal share, against 1.57, 1.18 and 1.10 round-robin.
 *
 * A heavier backend steps faster, at a rate set by its own weight only, so
 * removing a backend never reorders anyone else's steps. Everything is
 * integer arithmetic on the set of (family, address, weight): every host
 * builds the same table whatever its order of backends or ids.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "maglev_priv.h"

/* Ranks are stored per slot as 16 bits to keep the fill in cache. */
_Static_assert(XLB_MAX_BACKENDS < 0xffff, "ranks must fit in 16 bits");
_Static_assert(XLB_RING_SIZE_MAX < (1U << 31), "next + skip must not wrap");

/* A backend as the builder sees it: its address as two comparable words. */
struct mg_ent {
	__u64 hi;   /* address bytes 0-7, big-endian: < is memcmp order */
	__u64 lo;   /* address bytes 8-15 */
	__u64 hash; /* of (family, address): offset, skip, fingerprint */
	__u32 weight;
	__u32 idx; /* position in the caller's array */
	__u8 family;
};

/* Where a backend is on its permutation, and how many slots it still needs. */
struct mg_probe {
	__u32 next; /* slot its next look is at */
	__u32 skip;
	__u32 left; /* quota not yet claimed; at 0 it leaves its class */
	__u32 rank; /* position in address order: what a slot records */
};

/*
 * Backends of one stepping rate (their weight cut to MG_RATE_BITS
 * significant bits) step together, in address order. A class's k-th step
 * is at time (2k + 1) / (2 * rate): heavier backends step more often, and
 * the times depend on the backend's own weight only. Times are compared by
 * cross-multiplying; a backend looks at most m times (then it has seen
 * every slot), so numerators stay below 2^22 and products below 2^54.
 */
struct mg_class {
	__u32 num; /* 2k + 1 for its next step */
	__u32 rate;
	__u32 first; /* its backends still short of quota: probe[first..end) */
	__u32 end;
};

/*
 * Significant bits of a weight that set its stepping rate. Exact rates
 * would allow a class per distinct weight, and a heap operation per
 * backend per step when all differ (30 ms for 1000 backends). Four bits
 * keep it to eight classes per power of two; weights up to 15 step at
 * exactly their rate and larger ones within 1/8. With 100 weights drawn
 * from 1..1000, removing ten then moves 1.08x the ideal share (exact rates:
 * 1.07x, one bit: 1.19x).
 */
#define MG_RATE_BITS 4
/* Free slots left when the fill switches from stepping to events. */
#define MG_TAIL 256

bool xlb_is_prime(__u32 n)
{
	__u64 i;

	if (n < 4)
		return n >= 2;
	if (n % 2 == 0 || n % 3 == 0)
		return false;
	for (i = 5; i * i <= n; i += 6)
		if (n % i == 0 || n % (i + 2) == 0)
			return false;
	return true;
}

/* Assembles bytes big-endian so the words compare like the bytes would. */
static __u64 mg_be64(const __u8 *p)
{
	__u64 v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static int mg_ent_cmp(const void *pa, const void *pb)
{
	const struct mg_ent *a = pa, *b = pb;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static int mg_u64_cmp(const void *pa, const void *pb)
{
	__u64 a = *(const __u64 *)pa, b = *(const __u64 *)pb;

	return a < b ? -1 : a > b;
}

static __u32 mg_rate(__u32 w)
{
	int low = 32 - __builtin_clz(w) - MG_RATE_BITS;

	return low > 0 ? w >> low << low : w;
}

/* True when class a steps before class b: earlier, or as early and faster. */
static bool mg_before(const struct mg_class *a, const struct mg_class *b)
{
	__u64 ta = (__u64)a->num * b->rate, tb = (__u64)b->num * a->rate;

	return ta < tb || (ta == tb && a->rate > b->rate);
}

static void mg_sift_down(struct mg_class *h, __u32 n, __u32 i)
{
	struct mg_class tmp;
	__u32 c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && mg_before(&h[c + 1], &h[c]))
			c++;
		if (!mg_before(&h[c], &h[i]))
			return;
		tmp = h[i];
		h[i] = h[c];
		h[c] = tmp;
		i = c;
	}
}

/*
 * One step of a class: each member looks at its next slot and claims it if
 * free. Members that reach their quota are dropped; the rest keep their
 * address order. Returns the number of slots claimed.
 *
 * Whether a look finds a free slot is a coin toss for much of the fill, so
 * a branch on it mispredicts. The first pass therefore only notes, without
 * branching, which members saw a free slot; the second claims for those, in
 * order, re-checking the slot since an earlier member of the same step may
 * have just taken it. That is the same outcome as one member at a time.
 */
static __u32 mg_step(struct mg_class *c, struct mg_probe *restrict probe,
		     __u32 *restrict cand, __u64 *restrict taken,
		     __u16 *restrict slot, __u32 m)
{
	__u32 p, i, n = 0, claimed = 0, done = 0, end = c->end;

	for (p = c->first; p < end; p++) {
		__u32 s = probe[p].next;

		cand[n] = p;
		n += !((taken[s >> 6] >> (s & 63)) & 1);
		s += probe[p].skip;
		s -= s >= m ? m : 0;
		probe[p].next = s;
	}
	for (i = 0; i < n; i++) {
		struct mg_probe *pr = &probe[cand[i]];
		__u32 s = pr->next >= pr->skip ? pr->next - pr->skip
					       : pr->next + m - pr->skip;
		__u64 bit = 1ULL << (s & 63);

		if (taken[s >> 6] & bit)
			continue;
		taken[s >> 6] |= bit;
		slot[s] = pr->rank;
		claimed++;
		done += !--pr->left;
	}
	if (done) {
		__u32 keep = c->first;

		for (p = c->first; p < end; p++)
			if (probe[p].left)
				probe[keep++] = probe[p];
		c->end = keep;
	}
	return claimed;
}

/* skip^-1 mod m (m prime, 0 < skip < m), by extended Euclid. */
static __u32 mg_inverse(__u32 skip, __u32 m)
{
	__s64 r0 = m, r1 = skip, t0 = 0, t1 = 1, q, tmp;

	while (r1) {
		q = r0 / r1;
		tmp = r0 - q * r1;
		r0 = r1;
		r1 = tmp;
		tmp = t0 - q * t1;
		t0 = t1;
		t1 = tmp;
	}
	return t0 < 0 ? t0 + m : t0;
}

/*
 * How many looks after the one at slot from a backend first looks at slot
 * to: (to - from) * skip^-1 mod m. Barrett reduction with r = 2^64 / m;
 * the product is below 2^40, so the quotient is off by at most one.
 */
static inline __u32 mg_distance(__u32 from, __u32 to, __u32 inv, __u32 m,
				__u64 r)
{
	__u64 x = (__u64)(to >= from ? to - from : to + m - from) * inv;
	__u64 v = x - (__u64)(((unsigned __int128)x * r) >> 64) * m;

	return v >= m ? v - m : v;
}

/*
 * The end of the fill, when few slots are free, replayed event by event:
 * stepping would spend ~m / free looks on taken slots per claim, while the
 * distance from each backend to each free slot is one multiplication. Each
 * backend's next claim is its earliest look at a slot still free; taking
 * them in time order (and rank order within a step) claims exactly what
 * stepping would have.
 */
struct mg_tail {
	__u32 num; /* its next look is at time num / (2 * rate) */
	__u32 rate;
	__u32 hit;  /* num of its look at target */
	__u32 next; /* slot of its next look */
	__u32 skip;
	__u32 inv; /* skip^-1 mod m */
	__u32 left;
	__u32 rank;
	__u32 target; /* the first free slot it will look at */
};

static void mg_aim(struct mg_tail *b, const __u32 *free_slot, __u32 nfree,
		   __u32 m, __u64 r)
{
	__u32 i, d, best = m;

	for (i = 0; i < nfree; i++) {
		d = mg_distance(b->next, free_slot[i], b->inv, m, r);
		if (d < best) {
			best = d;
			b->target = free_slot[i];
		}
	}
	b->hit = b->num + 2 * best;
}

/* The order of steps: time, then the faster class, then address. */
static bool mg_tail_before(const struct mg_tail *a, const struct mg_tail *b)
{
	__u64 ta = (__u64)a->hit * b->rate, tb = (__u64)b->hit * a->rate;

	if (ta != tb)
		return ta < tb;
	if (a->rate != b->rate)
		return a->rate > b->rate;
	return a->rank < b->rank;
}

static void mg_finish(const struct mg_class *cls, __u32 ncls,
		      const struct mg_probe *probe, struct mg_tail *tail,
		      __u32 *free_slot, __u64 *taken, __u16 *slot, __u32 m)
{
	__u64 r = ~0ULL / m;
	__u32 nfree = 0, nb = 0, i, p, s;

	for (s = 0; s < m; s++)
		if (!(taken[s >> 6] & (1ULL << (s & 63))))
			free_slot[nfree++] = s;
	for (i = 0; i < ncls; i++) {
		for (p = cls[i].first; p < cls[i].end; p++, nb++) {
			tail[nb].num = cls[i].num;
			tail[nb].rate = cls[i].rate;
			tail[nb].next = probe[p].next;
			tail[nb].skip = probe[p].skip;
			tail[nb].inv = mg_inverse(probe[p].skip, m);
			tail[nb].left = probe[p].left;
			tail[nb].rank = probe[p].rank;
			mg_aim(&tail[nb], free_slot, nfree, m, r);
		}
	}
	/* Quotas add up to m: every free slot has a taker. */
	while (nfree) {
		struct mg_tail *b = &tail[0];

		for (i = 1; i < nb; i++)
			if (mg_tail_before(&tail[i], b))
				b = &tail[i];
		s = b->target;
		taken[s >> 6] |= 1ULL << (s & 63);
		slot[s] = b->rank;
		for (i = 0; free_slot[i] != s; i++)
			;
		free_slot[i] = free_slot[--nfree];

		b->num = b->hit + 2;
		b->next = s + b->skip >= m ? s + b->skip - m : s + b->skip;
		if (!--b->left)
			*b = tail[--nb];
		/* Whoever was heading for s heads for the next free slot. */
		for (i = 0; i < nb; i++)
			if (tail[i].target == s || &tail[i] == b)
				mg_aim(&tail[i], free_slot, nfree, m, r);
	}
}

/*
 * Quotas by largest remainder: floor(m * w / W) each, and the slots left
 * over to the largest remainders, the lower rank first on a tie. Products
 * stay below 2^20 * 2^32, and W below 2^44.
 */
static void mg_quotas(const struct mg_ent *ent, size_t nact, __u32 m,
		      struct mg_probe *probe, __u64 *key)
{
	__u64 total = 0, left = m;
	size_t i;

	for (i = 0; i < nact; i++)
		total += ent[i].weight;
	for (i = 0; i < nact; i++) {
		__u64 share = (__u64)m * ent[i].weight;

		probe[i].left = share / total;
		left -= probe[i].left;
		/* Ascending key: largest remainder, then lowest rank. */
		key[i] = (total - 1 - share % total) << 16 | i;
	}
	if (!left)
		return;
	qsort(key, nact, sizeof(*key), mg_u64_cmp);
	for (i = 0; i < left; i++)
		probe[key[i] & 0xffff].left++;
}

/* Bytes for n items of size sz, rounded up to keep 8-byte alignment. */
static size_t mg_sz(size_t n, size_t sz)
{
	return (n * sz + 7) & ~(size_t)7;
}

/*
 * The working memory of one build, in one allocation: the fill touches
 * nothing else. Arrays of n are indexed by the caller's order (ent before
 * sorting), by rank (tmp, ids, key) or by step order (probe).
 */
struct mg_work {
	struct mg_ent *ent;
	struct mg_probe *probe, *tmp;
	__u64 *taken, *key;
	__u32 *ids, *cand, *free_slot;
	struct mg_class *cls;
	struct mg_tail *tail;
	__u16 *slot;
	size_t words;
	char *mem;
};

static int mg_work_alloc(struct mg_work *w, size_t n, __u32 m)
{
	w->words = (m + 63) / 64;
	w->mem = malloc(
		mg_sz(n, sizeof(*w->ent)) + 2 * mg_sz(n, sizeof(*w->probe)) +
		mg_sz(n, sizeof(*w->key)) + mg_sz(n, sizeof(*w->ids)) +
		mg_sz(w->words, sizeof(*w->taken)) +
		mg_sz(m, sizeof(*w->slot)) + mg_sz(n, sizeof(*w->tail)) +
		mg_sz(n, sizeof(*w->cand)) + mg_sz(n, sizeof(*w->cls)) +
		mg_sz(MG_TAIL, sizeof(*w->free_slot)));
	if (!w->mem)
		return -ENOMEM;
	w->ent = (void *)w->mem;
	w->probe = (void *)((char *)w->ent + mg_sz(n, sizeof(*w->ent)));
	w->tmp = (void *)((char *)w->probe + mg_sz(n, sizeof(*w->probe)));
	w->key = (void *)((char *)w->tmp + mg_sz(n, sizeof(*w->tmp)));
	w->ids = (void *)((char *)w->key + mg_sz(n, sizeof(*w->key)));
	w->taken = (void *)((char *)w->ids + mg_sz(n, sizeof(*w->ids)));
	w->slot =
		(void *)((char *)w->taken + mg_sz(w->words, sizeof(*w->taken)));
	w->tail = (void *)((char *)w->slot + mg_sz(m, sizeof(*w->slot)));
	w->cand = (void *)((char *)w->tail + mg_sz(n, sizeof(*w->tail)));
	w->cls = (void *)((char *)w->cand + mg_sz(n, sizeof(*w->cand)));
	w->free_slot = (void *)((char *)w->cls + mg_sz(n, sizeof(*w->cls)));
	return 0;
}

/*
 * The backends in address order, the draining ones (weight 0) left out;
 * returns how many remain in *nact, or -EINVAL on a duplicate address.
 */
static int mg_load(struct mg_work *w, const struct xlb_maglev_backend *b,
		   size_t n, size_t *nact)
{
	struct mg_ent *ent = w->ent;
	size_t i;

	for (i = 0; i < n; i++) {
		union xlb_addr a = b[i].addr;

		/* A v4 address is its first word; the rest may be garbage. */
		if (b[i].family == XLB_AF_INET)
			a.v6[1] = a.v6[2] = a.v6[3] = 0;
		ent[i].hi = mg_be64(a.bytes);
		ent[i].lo = mg_be64(a.bytes + 8);
		ent[i].weight = b[i].weight;
		ent[i].idx = i;
		ent[i].family = b[i].family;
	}
	/* Address order makes the result independent of the caller's order. */
	qsort(ent, n, sizeof(*ent), mg_ent_cmp);
	for (i = 1; i < n; i++)
		if (!mg_ent_cmp(&ent[i - 1], &ent[i]))
			return -EINVAL;

	/* Draining backends drop out here; ranks count only the others. */
	for (i = 0, *nact = 0; i < n; i++)
		if (ent[i].weight)
			ent[(*nact)++] = ent[i];
	return 0;
}

/* Each rank's quota, hash, id and permutation, in tmp (by rank). */
static void mg_seed(struct mg_work *w, const struct xlb_maglev_backend *b,
		    size_t nact, __u32 m)
{
	struct mg_ent *ent = w->ent;
	struct mg_probe *tmp = w->tmp;

	/* tmp is indexed by rank here; probe gets it in step order later. */
	mg_quotas(ent, nact, m, tmp, w->key);
	for (size_t i = 0; i < nact; i++) {
		__u64 h = mg_mix(MG_SEED ^ ent[i].family);

		h = mg_mix(h ^ ent[i].hi);
		h = mg_mix(h ^ ent[i].lo);
		ent[i].hash = h;
		w->ids[i] = b[ent[i].idx].id;
		/* Halves of one 64-bit hash: independent enough, one mix. */
		tmp[i].next = (__u32)(h >> 32) % m;
		tmp[i].skip = (__u32)h % (m - 1) + 1;
		tmp[i].rank = i;
	}
}

/*
 * Step order: fastest class first, address order within a class. The key
 * packs (~rate, rank) so one integer sort yields both; with equal weights
 * it is already sorted. Fills probe and cls; returns the class count.
 */
static __u32 mg_order(struct mg_work *w, size_t nact)
{
	struct mg_class *cls = w->cls;
	__u64 *key = w->key;
	__u32 np = 0, ncls = 0;
	size_t i;

	for (i = 0; i < nact; i++)
		key[i] = (__u64)(__u32)~mg_rate(w->ent[i].weight) << 16 | i;
	for (i = 1; i < nact && key[i - 1] < key[i]; i++)
		;
	if (i < nact)
		qsort(key, nact, sizeof(*key), mg_u64_cmp);
	for (i = 0; i < nact; i++) {
		__u32 rank = key[i] & 0xffff,
		      rate = mg_rate(w->ent[rank].weight);

		if (!w->tmp[rank].left)
			continue;
		if (!ncls || cls[ncls - 1].rate != rate) {
			cls[ncls].num = 1;
			cls[ncls].rate = rate;
			cls[ncls].first = np;
			ncls++;
		}
		w->probe[np++] = w->tmp[rank];
		cls[ncls - 1].end = np;
	}
	/* All at their first step, fastest first: already a heap. */
	return ncls;
}

/* Every slot to a rank (w->slot), in lockstep, then the tail. */
static void mg_fill(struct mg_work *w, __u32 ncls, __u32 m)
{
	struct mg_class *cls = w->cls;
	__u32 left;

	memset(w->taken, 0, w->words * sizeof(*w->taken));
	for (left = m; left > MG_TAIL;) {
		left -= mg_step(&cls[0], w->probe, w->cand, w->taken, w->slot,
				m);
		cls[0].num += 2;
		if (cls[0].first == cls[0].end)
			cls[0] = cls[--ncls];
		mg_sift_down(cls, ncls, 0);
	}
	if (left)
		mg_finish(cls, ncls, w->probe, w->tail, w->free_slot, w->taken,
			  w->slot, m);
}

/*
 * The fingerprint of a filled table. A backend outweighed to zero slots
 * must not count, or the fingerprint would depend on more than the
 * per-slot addresses; renumber the ranks of those that hold slots.
 * Reuses probe, key and slot, which the fill no longer needs.
 */
static __u64 mg_table_fingerprint(struct mg_work *w, size_t nact, __u32 m)
{
	__u16 *map = (__u16 *)w->probe;
	__u32 nused = 0;
	size_t i;

	for (i = 0; i < nact; i++)
		map[i] = w->tmp[i].left ? 0 : 0xffff;
	for (i = 0; i < nact; i++) {
		if (map[i] == 0xffff)
			continue;
		map[i] = nused;
		w->key[nused++] = w->ent[i].hash;
	}
	if (nused != nact)
		for (i = 0; i < m; i++)
			w->slot[i] = map[w->slot[i]];
	return xlb_maglev_fingerprint(w->key, nused, w->slot, m);
}

int xlb_maglev_build(const struct xlb_maglev_backend *b, size_t n, __u32 m,
		     __u32 *table, __u64 *fingerprint)
{
	struct mg_work w;
	size_t i, nact;
	__u32 ncls;
	int err;

	if (m < 2 || m > XLB_RING_SIZE_MAX || !xlb_is_prime(m))
		return -EINVAL;
	if (n > XLB_MAX_BACKENDS || !table || (n && !b))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (b[i].family != XLB_AF_INET && b[i].family != XLB_AF_INET6)
			return -EINVAL;

	err = mg_work_alloc(&w, n, m);
	if (err)
		return err;
	err = mg_load(&w, b, n, &nact);
	if (err)
		goto out_free;
	if (!nact) {
		for (i = 0; i < m; i++)
			table[i] = XLB_BACKEND_NONE;
		if (fingerprint)
			*fingerprint = xlb_maglev_fingerprint(NULL, 0, NULL, m);
		goto out_free;
	}
	mg_seed(&w, b, nact, m);
	ncls = mg_order(&w, nact);
	mg_fill(&w, ncls, m);
	for (i = 0; i < m; i++)
		table[i] = w.ids[w.slot[i]];
	if (fingerprint)
		*fingerprint = mg_table_fingerprint(&w, nact, m);
out_free:
	free(w.mem);
	return err;
}
