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
 * integer arithmetic on the set of (family, address, weight, out): every
 * host builds the same table whatever its order of backends or ids.
 *
 * A backend out (down, draining) is not removed: it fills its slots as
 * the others, which are then each given to the first backend of the
 * slot's own weighted draw (mg_patch). A failure moves exactly the failed
 * backend's slots, and is a pass over the table in force rather than a
 * fill (xlb_maglev_repatch_in).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "maglev_priv.h"

/* Ranks are stored per slot as 16 bits to keep the fill in cache. */
_Static_assert(XLB_MAX_BACKENDS < 0xffff, "ranks must fit in 16 bits");
/* A step's advance computes next + skip - m in 32 bits, sign bit = wrapped. */
_Static_assert(XLB_RING_SIZE_MAX < (1U << 30), "next + skip must not wrap");

/* A backend as the builder sees it: its address as two comparable words. */
struct mg_ent {
	__u64 hi;   /* address bytes 0-7, big-endian: < is memcmp order */
	__u64 lo;   /* address bytes 8-15 */
	__u64 hash; /* of (family, address): offset, skip, fingerprint */
	__u32 weight;
	__u32 idx; /* position in the caller's array */
	__u8 family;
	__u8 out;
};

/*
 * The backends short of quota, in step order, one array per field: a step
 * reads next[] for every member but the rest only for the few that claim,
 * and the advance of next[] by skip[] is then one loop the compiler
 * vectorises. A member that reaches its quota stays in place as a dead
 * entry until its class is compacted (see mg_compact): it looks at slot m,
 * which is always taken, with skip m, which keeps it there.
 *
 * Which slots are free is a byte per slot (vacant), or a bit (bits) when
 * the table is large and its classes small. With a byte a look is a load
 * and an add, where a bit takes a shift, a variable shift (which wants its
 * count in cl, so a move too) and a mask: 15-30% fewer instructions for
 * the whole build. But the bytes outgrow L1 (64 KB at m = 65537) and at
 * m = 655373 L2 too (640 KB, beside the 1.3 MB slot array), and a step of
 * a few members cannot overlap the misses: there, with 10 backends the
 * bytes were 15% slower, with 1000 of equal weight as fast or faster.
 */
struct mg_fill {
	__u32 *next; /* slot its next look is at */
	__u32 *skip;
	__u32 *left;  /* quota not yet claimed */
	__u32 *rank;  /* position in address order: what a slot records */
	__u32 *cand;  /* a step's members that saw a free slot */
	__u8 *vacant; /* 1 while the slot is free; 0 from m on */
	__u64 *bits;  /* or a bit per slot, likewise */
	bool bytes;   /* which of the two is in use */
	__u16 *slot;  /* the rank that claimed each slot */
	__u32 m;
};

/*
 * Backends of one stepping rate (their weight cut to MG_RATE_BITS
 * significant bits) step together, in address order. A class's k-th step
 * is at time (2k + 1) / (2 * rate): heavier backends step more often, and
 * the times depend on the backend's own weight only. A backend looks at
 * most m times (then it has seen every slot), so numerators stay below
 * 2^22.
 */
struct mg_class {
	__u32 num; /* 2k + 1 for its next step */
	__u32 rate;
	__u32 first; /* its members: [first, end) */
	__u32 end;
	__u32 live; /* members still short of quota; the rest are dead */
	/* What a step adds to its time as mg_clock counts it. */
	unsigned __int128 inc;
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
/*
 * Rates 1..15, then 8..15 times 2^1..2^28: the most classes there can be.
 * A class's index fits in the low byte of its time (mg_clock).
 */
#define MG_MAX_CLASSES (15 + 8 * 28)
_Static_assert(MG_MAX_CLASSES <= 256, "class index in 8 bits");
/*
 * The advance of a step goes in blocks of this many members, which -O2
 * vectorises (it does not vectorise a loop that would need a scalar
 * remainder), then one by one for the rest.
 */
#define MG_LANES 8
/* Slots patched together by mg_patch_slots: its arrays stay in L1. */
#define MG_PATCH_CHUNK 1024
/* Interpolation points of mg_neglog's table: 2^MG_LOG_BITS + 1. */
#define MG_LOG_BITS 8
/* The byte map up to this size, and beyond it for classes this large. */
#define MG_BYTES_UPTO (1U << 17)
#define MG_BYTES_FROM 64

bool xlb_is_prime(__u32 n)
{
	/* Every VIP's size is tested at each edit and build, and nearly
	 * all are one size: the last prime found is remembered (per
	 * thread: ring builders call this too). 86 divisions at 65537. */
	static _Thread_local __u32 last;
	__u64 i;

	if (n == last)
		return true;
	if (n < 4)
		return n >= 2;
	if (n % 2 == 0 || n % 3 == 0)
		return false;
	for (i = 5; i * i <= n; i += 6)
		if (n % i == 0 || n % (i + 2) == 0)
			return false;
	last = n;
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

/*
 * The classes' step times as integers, for a heap that compares without
 * multiplying (the cross-multiplied compare of two fractions, with its
 * unpredictable branches, took as long as the looks with weights spread
 * over 1..1000). A rate is an odd d <= 15 times 2^e, so every rate
 * divides Q = 45045 * 2^emax (45045 = 9 * 5 * 7 * 11 * 13), and the time
 * num / (2 * rate) in units of 1 / (2 * Q) is num * (Q / rate), exact.
 * Below 2^21 * 2^16 * 2^31: the time shifted by 8 fits 128 bits, and the
 * low byte takes the class index. Classes are indexed fastest first, so
 * at equal times the faster steps first, as before.
 */
static void mg_clock(struct mg_class *cls, __u32 ncls, unsigned __int128 *heap)
{
	__u32 i, e, emax = 0;
	unsigned __int128 per;

	for (i = 0; i < ncls; i++) {
		e = __builtin_ctz(cls[i].rate);
		emax = e > emax ? e : emax;
	}
	for (i = 0; i < ncls; i++) {
		e = __builtin_ctz(cls[i].rate);
		per = (unsigned __int128)(45045 / (cls[i].rate >> e))
		      << (emax - e);
		cls[i].inc = per << 9;	/* num += 2 */
		heap[i] = per << 8 | i; /* num = 1 */
	}
	/* All at their first step, fastest first: sorted, so a heap. */
}

/* Restores the heap after its top's time grew or its top was replaced. */
static void mg_sift_down(unsigned __int128 *h, __u32 n)
{
	unsigned __int128 top = h[0];
	__u32 i = 0, c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && h[c + 1] < h[c])
			c++;
		if (h[c] >= top)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = top;
}

/*
 * Every member's next look: next + skip, less m unless that wraps, with no
 * branch or compare. Saying that the first loop runs whole lanes, and that
 * the arrays do not overlap, lets -O2 vectorise it.
 */
static void mg_advance(__u32 *restrict next, const __u32 *restrict skip,
		       __u32 len, __u32 m)
{
	__u32 p, s, whole = len & ~(MG_LANES - 1);

	for (p = 0; p < whole; p++) {
		s = next[p] + skip[p] - m;
		next[p] = s + (m & -(s >> 31));
	}
	for (; p < len; p++) {
		s = next[p] + skip[p] - m;
		next[p] = s + (m & -(s >> 31));
	}
}

/*
 * One step of a class: each member looks at its next slot and claims it if
 * free. Returns the number of slots claimed.
 *
 * Whether a look finds a free slot is a coin toss for much of the fill, so
 * a branch on it mispredicts. The first pass therefore only notes, without
 * branching, which members saw a free slot; the second claims for those, in
 * order, re-checking the slot since an earlier member of the same step may
 * have just taken it. That is the same outcome as one member at a time.
 * Late in the fill most looks find the slot taken: the first pass is then
 * nearly all the work, a load of next[] and one of the map per member.
 */
static inline bool mg_is_vacant(const struct mg_fill *f, __u32 s)
{
	return f->bytes ? f->vacant[s] : (f->bits[s >> 6] >> (s & 63)) & 1;
}

static inline void mg_take(const struct mg_fill *f, __u32 s)
{
	if (f->bytes)
		f->vacant[s] = 0;
	else
		f->bits[s >> 6] &= ~(1ULL << (s & 63));
}

/* The first pass of a step on the byte map: members that saw a free slot. */
static __u32 mg_look_bytes(const __u32 *restrict next, __u32 len,
			   const __u8 *restrict vacant, __u32 *restrict cand)
{
	__u32 p, n = 0;

	for (p = 0; p + 4 <= len; p += 4) {
		__u32 s0 = next[p], s1 = next[p + 1], s2 = next[p + 2],
		      s3 = next[p + 3];

		cand[n] = p;
		n += vacant[s0];
		cand[n] = p + 1;
		n += vacant[s1];
		cand[n] = p + 2;
		n += vacant[s2];
		cand[n] = p + 3;
		n += vacant[s3];
	}
	for (; p < len; p++) {
		cand[n] = p;
		n += vacant[next[p]];
	}
	return n;
}

/* The same on the bitmap. */
static __u32 mg_look_bits(const __u32 *restrict next, __u32 len,
			  const __u64 *restrict bits, __u32 *restrict cand)
{
	__u32 p, n = 0, s;

	for (p = 0; p < len; p++) {
		s = next[p];
		cand[n] = p;
		n += (bits[s >> 6] >> (s & 63)) & 1;
	}
	return n;
}

static __u32 mg_step(struct mg_class *c, const struct mg_fill *f)
{
	__u32 *restrict next = f->next + c->first;
	__u32 *restrict skip = f->skip + c->first;
	__u32 *restrict left = f->left + c->first;
	const __u32 *restrict rank = f->rank + c->first;
	__u32 len = c->end - c->first, m = f->m, n, claimed = 0, p, i, s;

	if (f->bytes)
		n = mg_look_bytes(next, len, f->vacant, f->cand);
	else
		n = mg_look_bits(next, len, f->bits, f->cand);
	for (i = 0; i < n; i++) {
		p = f->cand[i];
		s = next[p];
		if (!mg_is_vacant(f, s))
			continue;
		mg_take(f, s);
		f->slot[s] = rank[p];
		claimed++;
		if (!--left[p]) {
			next[p] = skip[p] = m;
			c->live--;
		}
	}
	mg_advance(next, skip, len, m);
	return claimed;
}

/*
 * Drops a class's dead members once they are a sixteenth of it, keeping
 * the others' order. Dropping each as it finishes cost a copy of the
 * class per death (a third of the steps' time at m = 65537); left in
 * place, a dead member costs one look per step: 1.06 looks per live one
 * at a sixteenth, 1.09 at a quarter, with equal weights.
 */
static void mg_compact(struct mg_class *c, const struct mg_fill *f)
{
	__u32 p, keep = c->first, len = c->end - c->first, dead = len - c->live;

	if (!dead || dead < len / 16)
		return;
	for (p = c->first; p < c->end; p++) {
		if (!f->left[p])
			continue;
		f->next[keep] = f->next[p];
		f->skip[keep] = f->skip[p];
		f->left[keep] = f->left[p];
		f->rank[keep] = f->rank[p];
		keep++;
	}
	c->end = keep;
}

/*
 * The end of the fill, when few slots are free, replayed event by event:
 * stepping would spend ~m / free looks on taken slots per claim, while the
 * distance from a backend to a free slot is one modular multiplication.
 * Each backend's next claim is its earliest look at a slot still free;
 * taking them in time order (and rank order within a step) claims exactly
 * what stepping would have.
 *
 * The looks a backend makes at taken slots change nothing, and free slots
 * only get taken, so its claims are always at the nearest slots still free
 * as measured from where it stood when the tail began. A backend keeps
 * the MG_NEAR nearest, which cover its few remaining claims and the slots
 * others take first, and measures again, to the slots then free, only if
 * it runs out.
 */
#define MG_NEAR 16

struct mg_tail {
	__u32 num; /* its first look in the tail is at time num / (2 * rate) */
	__u32 rate;
	__u32 hit;    /* num of its look at target */
	__u32 target; /* the first slot still free that it looks at */
	__u32 left;
	__u32 rank;
	__u64 key;   /* hit << 16 | rank: the order of steps within one rate */
	__u32 from;  /* slot of its first look in the tail */
	__u32 inv;   /* skip^-1 mod m: looks per slot of distance */
	__u32 inv_q; /* floor(inv * 2^32 / m), for mg_mulmod */
	__u32 used;  /* near[] entries already claimed or passed */
	__u32 nnear;
	/* The nearest free slots, looks from `from` << 20 | slot, ascending. */
	__u64 near[MG_NEAR];
};

_Static_assert(XLB_RING_SIZE_MAX <= (1U << 20),
	       "near[] packs slots in 20 bits");

/* What the backends of the tail share: the slots still free. */
struct mg_pool {
	__u32 *free_slot; /* in no order; a free slot's table entry holds */
	__u32 nfree;	  /* its index here until it is claimed */
	const struct mg_fill *fill; /* whose map says which are free */
	__u64 *dist;		    /* scratch: a distance per free slot */
	__u32 m;
};

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
 * a * inv mod m for a, inv < m, with inv_q = floor(inv * 2^32 / m)
 * (Shoup): q is the quotient or one less, so one subtraction corrects it.
 * Products stay below 2^52; no division and no 128-bit multiply.
 */
static inline __u32 mg_mulmod(__u32 a, __u32 inv, __u32 inv_q, __u32 m)
{
	__u64 q = ((__u64)a * inv_q) >> 32;
	__u32 r = (__u64)a * inv - q * m;

	return r >= m ? r - m : r;
}

/*
 * Measures the distance from b to every free slot and keeps the MG_NEAR
 * nearest, in order. Distances spread evenly over [0, m), so about
 * 2 * MG_NEAR fall below 2 * MG_NEAR * m / nfree: those are gathered
 * without a branch and sorted; in the rare case too few do, the bound
 * doubles. Every slot below the bound is kept, so the list is always the
 * true start of b's order.
 */
static void mg_measure(struct mg_tail *b, const struct mg_pool *pl)
{
	__u32 i, k, n, s, d, m = pl->m;
	__u64 bound = (__u64)2 * MG_NEAR * m / (pl->nfree ? pl->nfree : 1);

	for (;;) {
		for (i = 0, n = 0; i < pl->nfree; i++) {
			s = pl->free_slot[i];
			d = mg_mulmod(s >= b->from ? s - b->from
						   : s + m - b->from,
				      b->inv, b->inv_q, m);
			pl->dist[n] = (__u64)d << 20 | s;
			n += d < bound;
		}
		if (n >= MG_NEAR || n == pl->nfree)
			break;
		bound *= 2;
	}
	b->nnear = 0;
	for (i = 0; i < n; i++) {
		__u64 x = pl->dist[i];

		if (b->nnear == MG_NEAR && x >= b->near[MG_NEAR - 1])
			continue;
		k = b->nnear < MG_NEAR ? b->nnear++ : MG_NEAR - 1;
		for (; k && b->near[k - 1] > x; k--)
			b->near[k] = b->near[k - 1];
		b->near[k] = x;
	}
	b->used = 0;
}

/* Sets b's target: the nearest slot still free on its permutation. */
static void mg_aim(struct mg_tail *b, const struct mg_pool *pl)
{
	__u64 d;

	for (;;) {
		if (b->used == b->nnear)
			mg_measure(b, pl);
		d = b->near[b->used];
		if (mg_is_vacant(pl->fill, d & ((1U << 20) - 1)))
			break;
		b->used++;
	}
	b->target = d & ((1U << 20) - 1);
	b->hit = b->num + 2 * (__u32)(d >> 20);
	b->key = (__u64)b->hit << 16 | b->rank;
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

/*
 * After a claim of slot s: those that were heading for it head for their
 * next free slot, and the one that claims next is returned (NULL when
 * none is left). With one rate, as with equal weights, the order is that
 * of the keys, a minimum that does not branch on data; otherwise times
 * are compared by cross-multiplying.
 */
static struct mg_tail *mg_next_taker(struct mg_tail *tail, __u32 nb, __u32 s,
				     const struct mg_pool *pl, bool one_rate)
{
	__u32 i, b = 0;

	for (i = 0; i < nb; i++) {
		if (tail[i].target == s)
			mg_aim(&tail[i], pl);
		if (one_rate)
			b = tail[i].key < tail[b].key ? i : b;
		else if (mg_tail_before(&tail[i], &tail[b]))
			b = i;
	}
	return nb ? &tail[b] : NULL;
}

/*
 * Every slot still free, in free_slot; returns how many. A word of the
 * map at a time, since nearly all are taken by now; the maps show nothing
 * free from m on.
 */
static __u32 mg_free_slots(const struct mg_fill *f, __u32 *free_slot)
{
	__u32 k, j, nfree = 0, m = f->m;
	__u64 x;

	for (k = 0; k < m; k += f->bytes ? 8 : 64) {
		if (f->bytes)
			memcpy(&x, f->vacant + k, sizeof(x));
		else
			x = f->bits[k >> 6];
		if (!x)
			continue;
		for (j = k; j < k + (f->bytes ? 8 : 64); j++)
			if (mg_is_vacant(f, j))
				free_slot[nfree++] = j;
	}
	return nfree;
}

static void mg_finish(const struct mg_class *cls, __u32 ncls,
		      const struct mg_fill *f, struct mg_tail *tail,
		      struct mg_pool *pl)
{
	__u32 m = f->m, nb = 0, i, p, s;
	struct mg_tail *b;
	bool one_rate;

	pl->nfree = mg_free_slots(f, pl->free_slot);
	pl->fill = f;
	pl->m = m;
	for (i = 0; i < ncls; i++) {
		for (p = cls[i].first; p < cls[i].end; p++) {
			if (!f->left[p])
				continue;
			b = &tail[nb++];
			b->num = cls[i].num;
			b->rate = cls[i].rate;
			b->left = f->left[p];
			b->rank = f->rank[p];
			b->from = f->next[p];
			b->inv = mg_inverse(f->skip[p], m);
			b->inv_q = ((__u64)b->inv << 32) / m;
			b->nnear = b->used = 0;
			b->target = m;
		}
	}
	for (i = 1; i < nb && tail[i].rate == tail[0].rate; i++)
		;
	one_rate = i >= nb;
	/* Until claimed, a free slot's entry holds its index in free_slot. */
	for (i = 0; i < pl->nfree; i++)
		f->slot[pl->free_slot[i]] = i;
	/* No slot is m: all aim now. Quotas add up to m: every free slot
	 * has a taker. */
	for (b = mg_next_taker(tail, nb, m, pl, one_rate); b;
	     b = mg_next_taker(tail, nb, s, pl, one_rate)) {
		s = b->target;
		mg_take(f, s);
		/* The last free slot takes its place: measures stay short. */
		i = f->slot[s];
		pl->free_slot[i] = pl->free_slot[--pl->nfree];
		f->slot[pl->free_slot[i]] = i;
		f->slot[s] = b->rank;
		if (!--b->left)
			*b = tail[--nb];
	}
}

/*
 * Quotas by largest remainder: floor(m * w / W) each, and the slots left
 * over to the largest remainders, the lower rank first on a tie. Products
 * stay below 2^20 * 2^32, and W below 2^44.
 */
static void mg_quotas(const struct mg_ent *ent, size_t nact, __u32 m,
		      __u32 *quota, __u64 *key)
{
	__u64 total = 0, left = m;
	size_t i;

	for (i = 0; i < nact; i++)
		total += ent[i].weight;
	for (i = 0; i < nact; i++) {
		__u64 share = (__u64)m * ent[i].weight;

		quota[i] = share / total;
		left -= quota[i];
		/* Ascending key: largest remainder, then lowest rank. */
		key[i] = (total - 1 - share % total) << 16 | i;
	}
	if (!left)
		return;
	qsort(key, nact, sizeof(*key), mg_u64_cmp);
	for (i = 0; i < left; i++)
		quota[key[i] & 0xffff]++;
}

/*
 * Free slots when the fill switches from stepping to events. Stepping
 * spends ~m / free looks per claim; the tail a distance per free slot and
 * backend left, and about as many backends are left as a third of the
 * free slots. Both are near m^(1/2) per claim at sqrt(m), which measured
 * best: 256 at m = 65537, 809 at m = 655373.
 */
static __u32 mg_tail_at(__u32 m)
{
	__u32 t = 0, bit;

	for (bit = 1U << 15; bit; bit >>= 1)
		if ((t + bit) * (t + bit) <= m)
			t += bit;
	return t;
}

/* Bytes for n items of size sz, rounded up to keep 16-byte alignment. */
static size_t mg_sz(size_t n, size_t sz)
{
	return (n * sz + 15) & ~(size_t)15;
}

/*
 * The working memory of one build, in one allocation: the fill touches
 * nothing else. Arrays of n are indexed by the caller's order (ent before
 * sorting) or by rank (quota, first, skip, ids, key); the fill's arrays
 * of n by step order.
 */
struct mg_work {
	struct mg_ent *ent;
	__u32 *quota, *first, *skip, *ids;
	__u64 *key;
	/* Out backends' slots (mg_patch): by rank, whether out and whether
	 * it holds a slot after; the ranks not out, in order; a rank by id
	 * (xlb_maglev_repatch_in). */
	__u8 *out, *held;
	__u32 *up;
	__u16 *rank_of;
	/* mg_patch_slots': a chunk's slots, best draws and backends, the
	 * slots' own hashes. */
	__u32 *patch_at, *patch_who;
	__u64 *patch_best, *patch_mix;
	struct mg_fill fill;
	struct mg_class *cls;
	unsigned __int128 *heap; /* class step times, see mg_clock */
	struct mg_tail *tail;
	struct mg_pool pool;
};

static int mg_work_alloc(struct mg_work *w, struct xlb_maglev_mem *keep,
			 size_t n, __u32 m)
{
	/* Each backend in the tail still needs a free slot: ntail. */
	size_t pad = (m / 8 + 1) * 8, tail_at = mg_tail_at(m),
	       ncls = n < MG_MAX_CLASSES ? n : MG_MAX_CLASSES,
	       ntail = n < tail_at ? n : tail_at;
	const struct {
		void **at;
		size_t sz;
	} part[] = {
		{(void **)&w->ent, mg_sz(n, sizeof(*w->ent))},
		{(void **)&w->quota, mg_sz(n, sizeof(*w->quota))},
		{(void **)&w->first, mg_sz(n, sizeof(*w->first))},
		{(void **)&w->skip, mg_sz(n, sizeof(*w->skip))},
		{(void **)&w->ids, mg_sz(n, sizeof(*w->ids))},
		{(void **)&w->key, mg_sz(n, sizeof(*w->key))},
		{(void **)&w->out, mg_sz(n, sizeof(*w->out))},
		{(void **)&w->held, mg_sz(n, sizeof(*w->held))},
		{(void **)&w->up, mg_sz(n, sizeof(*w->up))},
		{(void **)&w->rank_of,
		 mg_sz(XLB_MAX_BACKENDS, sizeof(*w->rank_of))},
		{(void **)&w->patch_at,
		 mg_sz(MG_PATCH_CHUNK, sizeof(*w->patch_at))},
		{(void **)&w->patch_who,
		 mg_sz(MG_PATCH_CHUNK, sizeof(*w->patch_who))},
		{(void **)&w->patch_best,
		 mg_sz(MG_PATCH_CHUNK, sizeof(*w->patch_best))},
		{(void **)&w->patch_mix,
		 mg_sz(MG_PATCH_CHUNK, sizeof(*w->patch_mix))},
		{(void **)&w->fill.next, mg_sz(n, sizeof(*w->fill.next))},
		{(void **)&w->fill.skip, mg_sz(n, sizeof(*w->fill.skip))},
		{(void **)&w->fill.left, mg_sz(n, sizeof(*w->fill.left))},
		{(void **)&w->fill.rank, mg_sz(n, sizeof(*w->fill.rank))},
		{(void **)&w->fill.cand, mg_sz(n, sizeof(*w->fill.cand))},
		{(void **)&w->fill.vacant, mg_sz(pad, sizeof(*w->fill.vacant))},
		{(void **)&w->fill.bits,
		 mg_sz(pad / 64 + 1, sizeof(*w->fill.bits))},
		{(void **)&w->fill.slot, mg_sz(m, sizeof(*w->fill.slot))},
		{(void **)&w->cls, mg_sz(ncls, sizeof(*w->cls))},
		{(void **)&w->heap, mg_sz(ncls, sizeof(*w->heap))},
		{(void **)&w->tail, mg_sz(ntail, sizeof(*w->tail))},
		{(void **)&w->pool.free_slot,
		 mg_sz(tail_at, sizeof(*w->pool.free_slot))},
		{(void **)&w->pool.dist, mg_sz(tail_at, sizeof(*w->pool.dist))},
	};
	size_t i, total = 0;
	char *p;

	for (i = 0; i < sizeof(part) / sizeof(part[0]); i++)
		total += part[i].sz;
	if (keep->len < total) {
		free(keep->mem);
		keep->len = 0;
		keep->mem = malloc(total);
		if (!keep->mem)
			return -ENOMEM;
		keep->len = total;
	}
	p = keep->mem;
	for (i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
		*part[i].at = p;
		p += part[i].sz;
	}
	w->fill.m = m;
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
		ent[i].out = !!b[i].out;
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

/* Each rank's quota, hash, id and permutation (by rank). */
static void mg_seed(struct mg_work *w, const struct xlb_maglev_backend *b,
		    size_t nact, __u32 m)
{
	struct mg_ent *ent = w->ent;

	mg_quotas(ent, nact, m, w->quota, w->key);
	for (size_t i = 0; i < nact; i++) {
		__u64 h = mg_mix(MG_SEED ^ ent[i].family);

		h = mg_mix(h ^ ent[i].hi);
		h = mg_mix(h ^ ent[i].lo);
		ent[i].hash = h;
		w->ids[i] = b[ent[i].idx].id;
		/* Halves of one 64-bit hash: independent enough, one mix. */
		w->first[i] = (__u32)(h >> 32) % m;
		w->skip[i] = (__u32)h % (m - 1) + 1;
	}
}

/*
 * Step order: fastest class first, address order within a class. The key
 * packs (~rate, rank) so one integer sort yields both; with equal weights
 * it is already sorted. Fills the fill's arrays and cls; returns the class
 * count.
 */
static __u32 mg_order(struct mg_work *w, size_t nact)
{
	const struct mg_fill *f = &w->fill;
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

		if (!w->quota[rank])
			continue;
		if (!ncls || cls[ncls - 1].rate != rate) {
			if (ncls)
				cls[ncls - 1].end = np;
			cls[ncls].num = 1;
			cls[ncls].rate = rate;
			cls[ncls].first = np;
			cls[ncls].live = 0;
			ncls++;
		}
		f->next[np] = w->first[rank];
		f->skip[np] = w->skip[rank];
		f->left[np] = w->quota[rank];
		f->rank[np] = rank;
		np++;
		cls[ncls - 1].live++;
	}
	if (ncls)
		cls[ncls - 1].end = np;
	return ncls;
}

/* Every slot to a rank (w->fill.slot), in lockstep, then the tail. */
static void mg_fill(struct mg_work *w, __u32 ncls, __u32 m)
{
	const struct mg_fill *f = &w->fill;
	struct mg_class *cls = w->cls, *c;
	unsigned __int128 *heap = w->heap;
	__u32 i, left, nh = ncls, live = 0, tail_at = mg_tail_at(m);

	for (i = 0; i < ncls; i++)
		live += cls[i].live;
	w->fill.bytes = m <= MG_BYTES_UPTO || live >= MG_BYTES_FROM * ncls;
	/* Slot m is the dead members' look; none from there is free. */
	if (f->bytes) {
		memset(f->vacant, 1, m);
		memset(f->vacant + m, 0, 8 - m % 8);
	} else {
		memset(f->bits, 0xff, (m >> 6) * sizeof(*f->bits));
		f->bits[m >> 6] = (1ULL << (m & 63)) - 1;
	}
	mg_clock(cls, ncls, heap);
	for (left = m; left > tail_at;) {
		c = &cls[heap[0] & 0xff];
		left -= mg_step(c, f);
		c->num += 2;
		if (c->live) {
			heap[0] += c->inc;
			mg_compact(c, f);
		} else {
			heap[0] = heap[--nh];
		}
		mg_sift_down(heap, nh);
	}
	if (left)
		mg_finish(cls, ncls, f, w->tail, &w->pool);
}

/*
 * Where an out backend's slot goes. Not to the next backend of the
 * fill's order of looks at it: the backends that looked before the out
 * one and passed it over had met their quota, so they are the ones that
 * finished early, and with 10 of 100 out one of them took 13% over its
 * share. Each slot ranks the backends by a draw of its own instead
 * (rendezvous hashing, weighted by an exponential race): the backend
 * whose -ln(draw) / weight is least takes it, the lower address on a
 * tie. The draws do not depend on the fill, so the slots spread by
 * weight; a backend's rank in a slot does not depend on the others, so
 * a backend going out moves only the slots it held.
 */

/*
 * Slot s's draw for the backend of address hash h: of h and mg_slot(s),
 * both mixed already, so one multiply and shift does (the slots of 100
 * of 1000 backends spread over the 900 others with a chi-square of 885
 * for 899 degrees of freedom, as uniform; mg_mix's two rounds: 876).
 */
static inline __u64 mg_slot(__u32 s)
{
	return mg_mix(MG_SEED + s);
}

static inline __u64 mg_draw(__u64 h, __u64 slot_mix)
{
	__u64 x = (h ^ slot_mix) * 0xbf58476d1ce4e5b9ULL;

	return x ^ (x >> 31);
}

/*
 * log2(1 + i / 2^MG_LOG_BITS) in Q32 for i = 0..2^MG_LOG_BITS, by the
 * bit-by-bit method: integers only, so every host has the same table
 * (its interpolation errs by under 3e-6). Made once, at the first
 * weighted patch (mg_log_once).
 */
static __u64 mg_log2t[(1U << MG_LOG_BITS) + 1];
static pthread_once_t mg_log_once = PTHREAD_ONCE_INIT;

static void mg_log_table(void)
{
	__u64 *t = mg_log2t;

	for (__u32 i = 0; i < (1U << MG_LOG_BITS); i++) {
		/* 1 + i / 256 in Q62 */
		__u64 x = (1ULL << 62) + ((__u64)i << (62 - MG_LOG_BITS)),
		      r = 0;

		for (int bit = 31; bit >= 0; bit--) {
			x = (__u64)(((unsigned __int128)x * x) >> 62);
			if (x >= 1ULL << 63) {
				x >>= 1;
				r |= 1ULL << bit;
			}
		}
		t[i] = r;
	}
	t[1U << MG_LOG_BITS] = 1ULL << 32;
}

/* -log2(u / 2^64) in Q32 for u > 0: below 65 * 2^32. */
static inline __u64 mg_neglog(__u64 u, const __u64 *t)
{
	int e = __builtin_clzll(u);
	__u64 mant = u << e; /* 1.f in Q63 */
	__u32 i = (mant >> (63 - MG_LOG_BITS)) & ((1U << MG_LOG_BITS) - 1);
	__u64 frac = (mant >> (31 - MG_LOG_BITS)) & 0xffffffffULL;
	__u64 l = t[i] + (((t[i + 1] - t[i]) * frac) >> 32);

	return ((__u64)(e + 1) << 32) - l;
}

/*
 * The out backends' slots, MG_PATCH_CHUNK at a time: backend by backend
 * over the chunk, each slot's best so far kept (independent iterations).
 * With equal weights the least -ln(draw) is the greatest draw.
 */
static void mg_patch_slots(struct mg_work *w, __u32 nup, __u32 m, bool equal)
{
	__u16 *slot = w->fill.slot;
	__u32 *at = w->patch_at, *who = w->patch_who, np, s = 0, j, p;
	__u64 *best = w->patch_best, *mix = w->patch_mix, d, h, wj;

	if (!equal)
		pthread_once(&mg_log_once, mg_log_table);
	while (s < m) {
		for (np = 0; s < m && np < MG_PATCH_CHUNK; s++)
			if (w->out[slot[s]])
				at[np++] = s;
		for (p = 0; p < np; p++) {
			mix[p] = mg_slot(at[p]);
			best[p] = equal ? 0 : ~0ULL;
			who[p] = 0;
		}
		for (j = 0; j < nup; j++) {
			h = w->ent[w->up[j]].hash;
			wj = w->ent[w->up[j]].weight;
			for (p = 0; p < np; p++) {
				d = mg_draw(h, mix[p]);
				if (equal) {
					/* Strictly greater: the lower rank
					 * keeps a tie. */
					who[p] = d > best[p] ? j : who[p];
					best[p] = d > best[p] ? d : best[p];
					continue;
				}
				d = mg_neglog(d | 1, mg_log2t);
				/* d / wj < best / w(who): cross-multiplied,
				 * below 2^39 * 2^32 each. */
				if ((unsigned __int128)d *
					    w->ent[w->up[who[p]]].weight <
				    (unsigned __int128)best[p] * wj) {
					best[p] = d;
					who[p] = j;
				}
			}
		}
		for (p = 0; p < np; p++) {
			slot[at[p]] = w->up[who[p]];
			w->held[slot[at[p]]] = 1;
		}
	}
}

/*
 * The out backends' slots, each to the backend not out that ranks first
 * in it (above). Since that rank is fixed by the set, patching only the
 * slots of the backends newly out gives what patching the fill gives
 * (xlb_maglev_repatch_in). Returns false when no backend is out (held[]
 * then unset); else fills held[], and sets *empty when none is left to
 * take the slots.
 */
static bool mg_patch(struct mg_work *w, size_t nact, __u32 m, bool *empty)
{
	__u32 nup = 0, i;
	bool equal = true, any = false;

	*empty = false;
	for (i = 0; i < nact; i++) {
		w->out[i] = w->ent[i].out;
		/* Slots are only ever taken from the out: the others keep
		 * their quota's, and hold more if they take some. */
		w->held[i] = !w->out[i] && w->quota[i];
		any |= w->out[i];
		if (w->out[i])
			continue;
		w->up[nup++] = i;
		equal &= w->ent[i].weight == w->ent[w->up[0]].weight;
	}
	if (!any)
		return false;
	if (!nup) {
		*empty = true;
		return true;
	}
	mg_patch_slots(w, nup, m, equal);
	return true;
}

/*
 * The table, and its fingerprint if asked for. A backend outweighed to
 * zero slots, or out, must not count, or the fingerprint would depend on
 * more than the per-slot addresses (who holds one: by quota, or held[]
 * after a patch); then the ranks of those that hold slots are
 * renumbered after the table is written. Otherwise one pass over the
 * slots does both. Reuses cand and key, which the fill no longer needs.
 */
static void mg_output(struct mg_work *w, size_t nact, __u32 m, __u32 *table,
		      __u64 *fingerprint, bool patched)
{
	__u32 *map = w->fill.cand, nused = 0;
	__u16 *slot = w->fill.slot;
	size_t i;

	for (i = 0; i < nact; i++) {
		if (patched ? !w->held[i] : !w->quota[i])
			continue;
		map[i] = nused;
		w->key[nused++] = w->ent[i].hash;
	}
	if (nused == nact && fingerprint) {
		*fingerprint = xlb_maglev_fingerprint(w->key, nused, slot, m,
						      w->ids, table);
		return;
	}
	if (!fingerprint) {
		for (i = 0; i < m; i++)
			table[i] = w->ids[slot[i]];
		return;
	}
	for (i = 0; i < m; i++) {
		table[i] = w->ids[slot[i]];
		slot[i] = map[slot[i]];
	}
	*fingerprint =
		xlb_maglev_fingerprint(w->key, nused, slot, m, NULL, NULL);
}

int xlb_maglev_build(const struct xlb_maglev_backend *b, size_t n, __u32 m,
		     __u32 *table, __u64 *fingerprint)
{
	struct xlb_maglev_mem once = {0};
	int err = xlb_maglev_build_in(&once, b, n, m, table, fingerprint);

	xlb_maglev_mem_free(&once);
	return err;
}

void xlb_maglev_mem_free(struct xlb_maglev_mem *keep)
{
	free(keep->mem);
	keep->mem = NULL;
	keep->len = 0;
}

/* Every slot empty: no backend of weight > 0, or every one out. */
static void mg_none(__u32 m, __u32 *table, __u64 *fingerprint)
{
	for (__u32 i = 0; i < m; i++)
		table[i] = XLB_BACKEND_NONE;
	if (fingerprint)
		*fingerprint =
			xlb_maglev_fingerprint(NULL, 0, NULL, m, NULL, NULL);
}

static int mg_check(const struct xlb_maglev_backend *b, size_t n, __u32 m,
		    const __u32 *table)
{
	if (m < 2 || m > XLB_RING_SIZE_MAX || !xlb_is_prime(m))
		return -EINVAL;
	if (n > XLB_MAX_BACKENDS || !table || (n && !b))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (b[i].family != XLB_AF_INET && b[i].family != XLB_AF_INET6)
			return -EINVAL;
	return 0;
}

/* The out backends' slots moved, then the table and fingerprint. */
static void mg_finish_table(struct mg_work *w, size_t nact, __u32 m,
			    __u32 *table, __u64 *fingerprint)
{
	bool empty, patched = mg_patch(w, nact, m, &empty);

	if (empty)
		mg_none(m, table, fingerprint);
	else
		mg_output(w, nact, m, table, fingerprint, patched);
}

/*
 * What a build and a repatch begin with, once their arguments are
 * checked: the working memory, the backends in address order and
 * seeded. *nact 0: none has weight, every slot is empty (written).
 */
static int mg_begin(struct mg_work *w, struct xlb_maglev_mem *keep,
		    const struct xlb_maglev_backend *b, size_t n, __u32 m,
		    __u32 *table, __u64 *fingerprint, size_t *nact)
{
	int err = mg_work_alloc(w, keep, n, m);

	if (!err)
		err = mg_load(w, b, n, nact);
	if (err)
		return err;
	if (*nact)
		mg_seed(w, b, *nact, m);
	else
		mg_none(m, table, fingerprint);
	return 0;
}

int xlb_maglev_build_in(struct xlb_maglev_mem *keep,
			const struct xlb_maglev_backend *b, size_t n, __u32 m,
			__u32 *table, __u64 *fingerprint)
{
	struct mg_work w;
	size_t nact = 0;
	int err = mg_check(b, n, m, table);

	if (!err)
		err = mg_begin(&w, keep, b, n, m, table, fingerprint, &nact);
	if (err || !nact)
		return err;
	mg_fill(&w, mg_order(&w, nact), m);
	mg_finish_table(&w, nact, m, table, fingerprint);
	return 0;
}

int xlb_maglev_repatch_in(struct xlb_maglev_mem *keep,
			  const struct xlb_maglev_backend *b, size_t n, __u32 m,
			  const __u32 *from, __u32 *table, __u64 *fingerprint)
{
	struct mg_work w;
	__u16 *rank_of, *slot;
	size_t i, nact = 0;
	int err = from ? mg_check(b, n, m, table) : -EINVAL;

	for (i = 0; !err && i < n; i++)
		if (b[i].id >= XLB_MAX_BACKENDS)
			err = -EINVAL;
	if (!err)
		err = mg_begin(&w, keep, b, n, m, table, fingerprint, &nact);
	if (err || !nact)
		return err;
	/* The table as ranks, as the fill leaves it; an id that no
	 * backend of weight > 0 has: not a table of this set. */
	rank_of = w.rank_of;
	slot = w.fill.slot;
	memset(rank_of, 0xff, XLB_MAX_BACKENDS * sizeof(*rank_of));
	for (i = 0; i < nact; i++)
		rank_of[w.ids[i]] = i;
	for (__u32 s = 0; s < m; s++) {
		if (from[s] >= XLB_MAX_BACKENDS || rank_of[from[s]] == 0xffff)
			return -EINVAL;
		slot[s] = rank_of[from[s]];
	}
	mg_finish_table(&w, nact, m, table, fingerprint);
	return 0;
}
