// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the client-NAT sub-pool allocator (user/lib/nat_pool.c):
 * the layout of pools in sub-pools and ids, and the run-time state
 * machine against a stand-in data path that takes ports the way the XDP
 * program does (an atomic add on the sub-pool's next, from the slots of
 * its CPU as xlbd last wrote them). What must hold: a port is never held
 * by two connections at once, a sub-pool goes back only whole, only once
 * its last entry is gone for the linger, and a stolen sub-pool is one
 * that never handed out a port.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "nat_pool.h"

#define NCPU 2
#define T0   100000 /* ms: the tests' clock starts here */

static struct xlb_pool_cfg pool4(const char *name, const char *first,
				 const char *last, __u16 lo, __u16 hi)
{
	struct xlb_pool_cfg p = {
		.family = XLB_AF_INET,
		.port_lo = lo,
		.port_hi = hi,
		.refill_percent = 25,
	};

	snprintf(p.name, sizeof(p.name), "%s", name);
	assert_int_equal(inet_pton(AF_INET, first, &p.first.v4), 1);
	assert_int_equal(inet_pton(AF_INET, last, &p.last.v4), 1);
	return p;
}

/* A model of the pools given (copied), for the layout. */
static void model_of(struct xlb_model *m, const struct xlb_pool_cfg *p,
		     size_t n)
{
	xlb_model_init(m);
	m->n_pools = n;
	m->pools = calloc(n ? n : 1, sizeof(*p));
	assert_non_null(m->pools);
	memcpy(m->pools, p, n * sizeof(*p));
}

/* ---- layout -------------------------------------------------------------- */

static void test_layout_sizes(void **state)
{
	struct xlb_pool_cfg p =
		pool4("big", "198.18.9.1", "198.18.9.4", 1024, 65000);
	struct xlb_model cur, next;
	struct xlb_nat_subpool v;
	struct xlb_err err = {{0}};

	(void)state;
	xlb_model_init(&cur);
	model_of(&next, &p, 1);
	assert_int_equal(xlb_nat_layout(&cur, &next, NCPU, &err), 0);
	p = next.pools[0];
	assert_int_equal(p.subpool_ports, XLB_SUBPOOL_PORTS_DEFAULT);
	assert_int_equal(p.pool_id, 1);
	assert_int_equal(p.subpool_base, 1);
	/* 63977 ports an address: 62 whole sub-pools and one of 489. */
	assert_int_equal(p.n_subpools, 4 * 63);
	xlb_nat_subpool_of(&p, 62, &v);
	assert_int_equal(v.port_first, 1024 + 62 * 1024);
	assert_int_equal(v.count, 489);
	assert_int_equal(ntohl(v.addr.v4), 0xc6120901);
	assert_int_equal(v.pool_id, 1);
	xlb_nat_subpool_of(&p, 63, &v);
	assert_int_equal(v.port_first, 1024);
	assert_int_equal(v.count, 1024);
	assert_int_equal(ntohl(v.addr.v4), 0xc6120902); /* address-major */
	assert_int_equal(v.low_at, 1024 - 256);
	xlb_nat_subpool_of(&p, 4 * 63 - 1, &v);
	assert_int_equal(ntohl(v.addr.v4), 0xc6120904);
	assert_int_equal(v.count, 489);
	/* On 100 CPUs the same pool is cut finer: 4 sub-pools a CPU. */
	assert_true(xlb_nat_choose_subpool_ports(&p, 100) < 1024);
	assert_true(xlb_nat_pool_subpools(
			    &p, xlb_nat_choose_subpool_ports(&p, 100)) >= 400);
	xlb_model_free(&next);
}

static void test_layout_tiny(void **state)
{
	struct xlb_pool_cfg p =
		pool4("tiny", "198.18.9.1", "198.18.9.1", 1024, 1087);
	struct xlb_model next;
	struct xlb_nat_subpool v;
	struct xlb_err err = {{0}};

	(void)state;
	model_of(&next, &p, 1);
	assert_int_equal(xlb_nat_layout(NULL, &next, NCPU, &err), 0);
	p = next.pools[0];
	/* More than one sub-pool for every CPU: 8 of 8 ports. */
	assert_int_equal(p.subpool_ports, 8);
	assert_int_equal(p.n_subpools, 8);
	xlb_nat_subpool_of(&p, 7, &v);
	assert_int_equal(v.port_first, 1080);
	assert_int_equal(v.count, 8);
	assert_int_equal(xlb_nat_threshold(&p), 2);
	/* A pool smaller than the minimum is one sub-pool of itself. */
	p = pool4("tinier", "198.18.9.1", "198.18.9.1", 5000, 5002);
	assert_int_equal(xlb_nat_choose_subpool_ports(&p, NCPU), 3);
	xlb_model_free(&next);
}

static void test_layout_ids(void **state)
{
	struct xlb_pool_cfg p[3] = {
		pool4("a", "198.18.9.1", "198.18.9.1", 1024, 1087),
		pool4("b", "198.18.9.2", "198.18.9.2", 1024, 1087),
		pool4("c", "198.18.9.3", "198.18.9.3", 1024, 1087),
	};
	struct xlb_model cur, next, after;
	struct xlb_err err = {{0}};

	(void)state;
	model_of(&cur, p, 2);
	assert_int_equal(xlb_nat_layout(NULL, &cur, NCPU, &err), 0);
	assert_int_equal(cur.pools[0].pool_id, 1);
	assert_int_equal(cur.pools[1].pool_id, 2);
	assert_int_equal(cur.pools[0].subpool_base, 1);
	assert_int_equal(cur.pools[1].subpool_base, 9);

	/* b changes its ports, c is new: a keeps its ids, b and c get
	 * ids that none of cur's had (b's old ones may still be held). */
	p[1].port_hi = 1151;
	model_of(&next, p, 3);
	assert_int_equal(xlb_nat_layout(&cur, &next, NCPU, &err), 0);
	assert_int_equal(next.pools[0].pool_id, 1);
	assert_int_equal(next.pools[0].subpool_base, 1);
	assert_int_equal(next.pools[1].pool_id, 3);
	assert_int_equal(next.pools[1].subpool_base, 17);
	assert_int_equal(next.pools[1].n_subpools, 8); /* of 16 ports */
	assert_int_equal(next.pools[2].pool_id, 4);
	assert_int_equal(next.pools[2].subpool_base, 25);

	/* Once b's old layout is gone from cur, its ids are free again:
	 * first fit puts a new pool there. */
	model_of(&after, p, 3);
	memcpy(after.pools, next.pools, 3 * sizeof(*p));
	snprintf(after.pools[2].name, XLB_POOL_NAMELEN, "d");
	after.pools[2].pool_id = 0;
	assert_int_equal(xlb_nat_layout(&next, &after, NCPU, &err), 0);
	assert_int_equal(after.pools[2].pool_id, 2);
	assert_int_equal(after.pools[2].subpool_base, 9);

	/* A restore: ids held by the state file are kept as they are. */
	xlb_model_free(&after);
	model_of(&after, next.pools, 3);
	assert_int_equal(xlb_nat_layout(NULL, &after, NCPU, &err), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(after.pools[i].pool_id, next.pools[i].pool_id);
		assert_int_equal(after.pools[i].subpool_base,
				 next.pools[i].subpool_base);
	}
	xlb_model_free(&after);
	xlb_model_free(&next);
	xlb_model_free(&cur);
}

static void test_layout_no_room(void **state)
{
	struct xlb_pool_cfg p =
		pool4("huge", "198.18.0.0", "198.18.127.255", 1024, 1087);
	struct xlb_pool_cfg many[XLB_MAX_POOLS];
	struct xlb_model next;
	struct xlb_err err = {{0}};

	(void)state;
	/* 32768 addresses x 8 sub-pools of 8 ports: past the ids. */
	p.subpool_ports = 8;
	model_of(&next, &p, 1);
	assert_int_equal(xlb_nat_layout(NULL, &next, NCPU, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "no room"));
	assert_int_equal(next.pools[0].pool_id, 0);
	xlb_model_free(&next);
	/* Chosen by xlbd, the sub-pools grow until the pool fits. */
	p.subpool_ports = 0;
	model_of(&next, &p, 1);
	assert_int_equal(xlb_nat_layout(NULL, &next, NCPU, &err), 0);
	assert_int_equal(next.pools[0].subpool_ports, 64);
	assert_int_equal(next.pools[0].n_subpools, 32768);
	xlb_model_free(&next);

	/* One pool more than there are pool ids. */
	for (int i = 0; i < XLB_MAX_POOLS; i++) {
		many[i] = pool4("p", "198.18.9.1", "198.18.9.1", 1024, 1031);
		snprintf(many[i].name, XLB_POOL_NAMELEN, "p%02d", i);
	}
	model_of(&next, many, XLB_MAX_POOLS);
	err.msg[0] = 0;
	assert_int_equal(xlb_nat_layout(NULL, &next, NCPU, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "no free pool id"));
	assert_int_equal(next.pools[XLB_MAX_POOLS - 2].pool_id,
			 XLB_MAX_POOLS - 1);
	xlb_model_free(&next);
}

/* ---- the stand-in data path ------------------------------------------- */

/* A world: the sub-pools (the mmapped map), nat_cpu as last written. */
struct world {
	struct xlb_nat_subpool *subs;
	struct xlb_nat_cpu map[NCPU];
	struct xlb_nat_alloc a;
	struct xlb_pool_cfg p;
	__u64 now;
};

static void world_open(struct world *w, struct xlb_pool_cfg p)
{
	struct xlb_model m;
	struct xlb_err err = {{0}};

	memset(w, 0, sizeof(*w));
	model_of(&m, &p, 1);
	assert_int_equal(xlb_nat_layout(NULL, &m, NCPU, &err), 0);
	w->p = m.pools[0];
	xlb_model_free(&m);
	w->subs = calloc(XLB_MAX_SUBPOOLS, sizeof(*w->subs));
	assert_non_null(w->subs);
	assert_int_equal(xlb_nat_alloc_init(&w->a, &w->p, NCPU, w->subs), 0);
	w->now = T0;
}

static void world_close(struct world *w)
{
	xlb_nat_alloc_free(&w->a);
	free(w->subs);
}

/* What xlbd does after each decision: the dirty values into nat_cpu. */
static void flush(struct world *w)
{
	for (int c = 0; c < NCPU; c++)
		if (w->a.dirty[c]) {
			w->map[c] = w->a.cpu[c];
			w->a.dirty[c] = false;
		}
}

struct port {
	__u32 addr; /* host order */
	__u16 port;
	__u32 subpool;
};

/* The XDP program's allocation with the slots it read (view). */
static bool dp_take(struct world *w, const struct xlb_nat_cpu *view,
		    struct port *out)
{
	for (int s = 0; s < XLB_NAT_SLOTS; s++) {
		struct xlb_nat_subpool *sp = &w->subs[view->subpool[s]];
		__u32 idx;

		if (!view->subpool[s] ||
		    __atomic_load_n(&sp->next, __ATOMIC_ACQUIRE) >= sp->count)
			continue;
		idx = __atomic_fetch_add(&sp->next, 1, __ATOMIC_ACQ_REL);
		if (idx >= sp->count)
			continue;
		out->addr = ntohl(sp->addr.v4);
		out->port = sp->port_first + idx;
		out->subpool = view->subpool[s];
		return true;
	}
	return false;
}

static bool take(struct world *w, int c, struct port *out)
{
	return dp_take(w, &w->map[c], out);
}

static void refill_all(struct world *w)
{
	for (int c = 0; c < NCPU; c++)
		xlb_nat_alloc_refill(&w->a, c, w->now);
	flush(w);
}

static __u32 state_of(struct world *w, __u32 id)
{
	return w->a.sp[id - w->p.subpool_base].state;
}

static void count_none(struct world *w, __u32 live_id, __u32 live_n)
{
	__u32 live[64] = {0};

	assert_true(w->p.n_subpools <= 64);
	if (live_id)
		live[live_id - w->p.subpool_base] = live_n;
	xlb_nat_alloc_count(&w->a, live, w->now, w->now);
}

/* ---- run time ------------------------------------------------------------ */

static void test_alloc_refill(void **state)
{
	struct world w;
	struct port pt;
	__u32 b;

	(void)state;
	world_open(&w, pool4("tiny", "198.18.9.1", "198.18.9.1", 1024, 1087));
	b = w.p.subpool_base;
	xlb_nat_alloc_adopt(&w.a, NULL, w.now);
	flush(&w);
	/* Each CPU has its first sub-pool, the others are free and closed. */
	assert_int_equal(w.map[0].subpool[0], b);
	assert_int_equal(w.map[1].subpool[0], b + 1);
	assert_int_equal(w.subs[b + 2].next, XLB_NAT_NEXT_FREE);
	assert_int_equal(w.subs[b + 2].count, 8);
	assert_int_equal(xlb_nat_alloc_cpu_free(&w.a, 0), 8);
	/* Above the threshold (2 ports) nothing moves. */
	for (int i = 0; i < 6; i++)
		assert_true(take(&w, 0, &pt));
	assert_int_equal(pt.port, 1029);
	assert_int_equal(xlb_nat_alloc_refill(&w.a, 0, w.now), 0);
	/* Below it, a second sub-pool joins the first. */
	assert_true(take(&w, 0, &pt));
	assert_int_equal(xlb_nat_alloc_refill(&w.a, 0, w.now), 1);
	flush(&w);
	assert_int_equal(w.map[0].subpool[0], b);
	assert_int_equal(w.map[0].subpool[1], b + 2);
	assert_int_equal(w.subs[b + 2].next, 0);
	assert_true(take(&w, 0, &pt));
	assert_int_equal(pt.port, 1031); /* the first is used up first */
	assert_true(take(&w, 0, &pt));
	assert_int_equal(pt.subpool, b + 2);
	assert_int_equal(pt.port, 1040);
	/* Used up, it drains when its CPU needs the slot. */
	for (int i = 0; i < 6; i++)
		assert_true(take(&w, 0, &pt));
	assert_int_equal(xlb_nat_alloc_refill(&w.a, 0, w.now), 1);
	flush(&w);
	assert_int_equal(state_of(&w, b), XLB_NAT_SP_DRAINING);
	assert_int_equal(w.map[0].subpool[0], b + 3);
	assert_int_equal(w.a.refills, 2);
	world_close(&w);
}

static void test_reclaim_whole_and_linger(void **state)
{
	struct world w;
	struct port pt;
	__u64 linger = 5000, left;
	__u32 b;

	(void)state;
	world_open(&w, pool4("tiny", "198.18.9.1", "198.18.9.1", 1024, 1087));
	b = w.p.subpool_base;
	xlb_nat_alloc_adopt(&w.a, NULL, w.now);
	flush(&w);
	for (int i = 0; i < 8; i++)
		assert_true(take(&w, 0, &pt));
	refill_all(&w);
	left = w.now;
	assert_int_equal(state_of(&w, b), XLB_NAT_SP_DRAINING);
	/* One entry of eight left: the sub-pool stays, however long. */
	w.now += 60000;
	count_none(&w, b, 1);
	assert_int_equal(xlb_nat_alloc_reclaim(&w.a, linger, w.now), 0);
	/* A count that began within the quarantine proves nothing. */
	w.now = left + 10;
	count_none(&w, 0, 0);
	w.now = left + 20000;
	assert_int_equal(xlb_nat_alloc_reclaim(&w.a, linger, w.now), 0);
	/* The last entry gone: back only after the linger. */
	count_none(&w, 0, 0);
	w.now += linger - 1;
	assert_int_equal(xlb_nat_alloc_reclaim(&w.a, linger, w.now), 0);
	assert_int_equal(state_of(&w, b), XLB_NAT_SP_DRAINING);
	w.now += 1;
	assert_int_equal(xlb_nat_alloc_reclaim(&w.a, linger, w.now), 1);
	assert_int_equal(state_of(&w, b), XLB_NAT_SP_FREE);
	assert_int_equal(w.subs[b].next, XLB_NAT_NEXT_FREE);
	assert_int_equal(w.a.reclaims, 1);
	/* An entry seen again before the linger ends starts it over. */
	for (int i = 0; i < 8; i++)
		assert_true(take(&w, 1, &pt));
	refill_all(&w);
	assert_int_equal(state_of(&w, b + 1), XLB_NAT_SP_DRAINING);
	w.now += 2000;
	count_none(&w, 0, 0);
	w.now += 1000;
	count_none(&w, b + 1, 1);
	count_none(&w, 0, 0);
	w.now += linger - 1;
	assert_int_equal(xlb_nat_alloc_reclaim(&w.a, linger, w.now), 0);
	world_close(&w);
}

/*
 * Headroom for a controller that is away: with plenty of free sub-pools
 * every slot of a CPU is filled, and the data path then goes on through
 * all of them with no refill at all; a pool with no more free sub-pools
 * than CPUs keeps them for refills at the threshold.
 */
static void test_top_up_headroom(void **state)
{
	struct xlb_pool_cfg p = pool4("big", "198.18.9.1", "198.18.9.1", 1024,
				      1024 + 16 * 16 - 1);
	struct world w;
	struct port pt;
	int got = 0, n = 0;

	(void)state;
	p.subpool_ports = 12; /* 21 sub-pools on 2 CPUs */
	world_open(&w, p);
	xlb_nat_alloc_adopt(&w.a, NULL, w.now);
	flush(&w);
	for (int r = 0; r < XLB_NAT_SLOTS; r++)
		for (int c = 0; c < NCPU; c++)
			got += xlb_nat_alloc_top_up(&w.a, c, w.now);
	flush(&w);
	assert_int_equal(got, NCPU * (XLB_NAT_SLOTS - 1));
	assert_int_equal(w.a.topups, got);
	assert_int_equal(w.a.refills, 0);
	for (int s = 0; s < XLB_NAT_SLOTS; s++)
		assert_int_not_equal(w.map[0].subpool[s], 0);
	assert_int_equal(xlb_nat_alloc_cpu_free(&w.a, 0), XLB_NAT_SLOTS * 12);
	/* xlbd away: CPU 0 hands out all it holds, each port once. */
	while (take(&w, 0, &pt))
		n++;
	assert_int_equal(n, XLB_NAT_SLOTS * 12);
	/* Full slots: nothing more to top up, whatever is free. */
	assert_int_equal(xlb_nat_alloc_top_up(&w.a, 0, w.now), 0);

	/* A tiny pool: 8 sub-pools, 2 CPUs, 6 free: fewer than the CPUs'
	 * slots, so kept for refills and steals. */
	world_close(&w);
	world_open(&w, pool4("tiny", "198.18.9.1", "198.18.9.1", 1024, 1087));
	xlb_nat_alloc_adopt(&w.a, NULL, w.now);
	flush(&w);
	got = 0;
	for (int r = 0; r < XLB_NAT_SLOTS; r++)
		for (int c = 0; c < NCPU; c++)
			got += xlb_nat_alloc_top_up(&w.a, c, w.now);
	assert_int_equal(got, 0);
	world_close(&w);
}

static void test_steal_untouched(void **state)
{
	struct xlb_pool_cfg p =
		pool4("four", "198.18.9.1", "198.18.9.1", 1024, 1087);
	struct xlb_nat_cpu stale;
	struct world w;
	struct port pt;
	__u32 b;

	(void)state;
	p.subpool_ports = 16; /* 4 sub-pools: 2 held, 2 free */
	world_open(&w, p);
	b = w.p.subpool_base;
	xlb_nat_alloc_adopt(&w.a, NULL, w.now);
	flush(&w);
	stale = w.map[1];
	/* CPU 0 takes both free ones in turn. */
	for (int r = 0; r < 2; r++) {
		for (int i = 0; i < 16; i++)
			assert_true(take(&w, 0, &pt));
		refill_all(&w);
	}
	assert_int_equal(w.map[0].subpool[0], b + 3);
	for (int i = 0; i < 16; i++)
		assert_true(take(&w, 0, &pt));
	assert_false(take(&w, 0, &pt));
	/* None free: CPU 1's untouched one is closed and taken. */
	refill_all(&w);
	assert_int_equal(w.a.steals, 1);
	assert_int_equal(w.map[1].subpool[0], 0);
	assert_int_equal(state_of(&w, b + 1), XLB_NAT_SP_FREE);
	/* A late XDP program on CPU 1 with the old slot gets nothing. */
	assert_false(dp_take(&w, &stale, &pt));
	/* Handed out only after the quarantine. */
	refill_all(&w);
	assert_int_equal(w.map[0].subpool[0], 0);
	w.now += XLB_NAT_QUARANTINE_MS;
	refill_all(&w);
	assert_int_equal(w.map[0].subpool[0], b + 1);
	assert_true(take(&w, 0, &pt));
	assert_int_equal(pt.port, 1040);
	world_close(&w);
}

static void test_no_steal_touched(void **state)
{
	struct xlb_pool_cfg p =
		pool4("four", "198.18.9.1", "198.18.9.1", 1024, 1087);
	struct world w;
	struct port pt;

	(void)state;
	p.subpool_ports = 32; /* 2 sub-pools, one per CPU */
	world_open(&w, p);
	xlb_nat_alloc_adopt(&w.a, NULL, w.now);
	flush(&w);
	assert_true(take(&w, 1, &pt)); /* CPU 1 has handed out one */
	for (int i = 0; i < 32; i++)
		assert_true(take(&w, 0, &pt));
	refill_all(&w);
	w.now += 5000;
	refill_all(&w);
	assert_int_equal(w.a.steals, 0);
	assert_int_equal(w.map[1].subpool[0], w.p.subpool_base + 1);
	/* CPU 0 waits for its used-up one to drain. */
	assert_int_equal(w.map[0].subpool[0], 0);
	assert_int_equal(state_of(&w, w.p.subpool_base), XLB_NAT_SP_DRAINING);
	world_close(&w);
}

static void test_exhaustion(void **state)
{
	bool seen[64] = {false};
	__u32 live[8] = {0};
	struct world w;
	struct port pt;
	int got = 0;

	(void)state;
	world_open(&w, pool4("tiny", "198.18.9.1", "198.18.9.1", 1024, 1087));
	xlb_nat_alloc_adopt(&w.a, NULL, w.now);
	flush(&w);
	/* Every connection stays: the pool's 64 ports, once each. */
	for (int round = 0; round < 200; round++) {
		while (take(&w, 0, &pt)) {
			assert_true(pt.port >= 1024 && pt.port <= 1087);
			assert_false(seen[pt.port - 1024]);
			seen[pt.port - 1024] = true;
			live[pt.subpool - w.p.subpool_base]++;
			got++;
		}
		xlb_nat_alloc_hint(&w.a, 0);
		w.now += 100;
		/* No reclaim may happen: every entry lives. */
		xlb_nat_alloc_count(&w.a, live, w.now, w.now);
		assert_int_equal(xlb_nat_alloc_reclaim(&w.a, 0, w.now), 0);
		refill_all(&w);
	}
	assert_int_equal(got, 64);
	/* The 65th finds nothing, on either CPU. */
	assert_false(take(&w, 0, &pt));
	assert_false(take(&w, 1, &pt));
	assert_int_equal(w.a.steals, 1);
	world_close(&w);
}

static void test_adopt_restart(void **state)
{
	struct xlb_nat_alloc again;
	struct world w;
	struct port pt;
	__u32 b, next_held, next_draining;

	(void)state;
	world_open(&w, pool4("tiny", "198.18.9.1", "198.18.9.1", 1024, 1087));
	b = w.p.subpool_base;
	xlb_nat_alloc_adopt(&w.a, NULL, w.now);
	flush(&w);
	for (int i = 0; i < 8; i++)
		assert_true(take(&w, 0, &pt));
	refill_all(&w); /* b drains, b+2 on CPU 0 */
	assert_true(take(&w, 0, &pt));
	next_held = w.subs[b + 2].next;
	next_draining = w.subs[b].next;
	/* kill -9: a new allocator from the maps alone. */
	assert_int_equal(xlb_nat_alloc_init(&again, &w.p, NCPU, w.subs), 0);
	xlb_nat_alloc_adopt(&again, w.map, w.now + 10);
	assert_int_equal(again.cpu[0].subpool[0], b + 2);
	assert_int_equal(again.cpu[1].subpool[0], b + 1);
	assert_int_equal(again.sp[2].state, XLB_NAT_SP_CPU);
	assert_int_equal(again.sp[0].state, XLB_NAT_SP_DRAINING);
	assert_int_equal(again.sp[3].state, XLB_NAT_SP_FREE);
	/* Nothing held or draining was reset. */
	assert_int_equal(w.subs[b + 2].next, next_held);
	assert_int_equal(w.subs[b].next, next_draining);
	/* A slot the previous run wrote for a sub-pool of another layout is
	 * emptied, and a half-used one out of every slot drains. */
	w.map[1].subpool[1] = 9999;
	w.subs[b + 5].next = 3;
	xlb_nat_alloc_free(&again);
	assert_int_equal(xlb_nat_alloc_init(&again, &w.p, NCPU, w.subs), 0);
	xlb_nat_alloc_adopt(&again, w.map, w.now + 20);
	assert_int_equal(again.cpu[1].subpool[1], 0);
	assert_int_equal(again.sp[5].state, XLB_NAT_SP_DRAINING);
	assert_int_equal(w.subs[b + 5].next, 3);
	xlb_nat_alloc_free(&again);
	world_close(&w);
}

/* ---- entries' timeouts --------------------------------------------------- */

static void test_idle(void **state)
{
	struct xlb_global_cfg g = {
		.nat_tcp_timeout_ms = 900000,
		.nat_tcp_closing_ms = 120000,
		.nat_udp_timeout_ms = 300000,
		.nat_linger_ms = 10000,
	};
	struct xlb_flow_key k = {.proto = IPPROTO_TCP};
	struct xlb_nat_fwd v = {.stamp = 0xfffffff0U}; /* wraps below */
	struct xlb_nat_timeouts t;
	__u32 sec = ((__u64)1000000000) >> XLB_FLOW_STAMP_SHIFT;

	(void)state;
	xlb_nat_timeouts_of(&g, &t);
	assert_int_equal(t.linger, 9536); /* 10 s in 1.05 ms units */
	/* Established: 15 minutes. */
	assert_false(xlb_nat_idle(&k, &v, v.stamp + 899 * sec, &t));
	assert_true(xlb_nat_idle(&k, &v, v.stamp + 901 * sec, &t));
	/* One FIN: 2 minutes; either side's. */
	v.flags = XLB_NAT_F_FIN_BACKEND;
	assert_false(xlb_nat_idle(&k, &v, v.stamp + 119 * sec, &t));
	assert_true(xlb_nat_idle(&k, &v, v.stamp + 121 * sec, &t));
	/* Both FINs, or an RST: the linger. */
	v.flags = XLB_NAT_F_CLOSED;
	assert_false(xlb_nat_idle(&k, &v, v.stamp + 9 * sec, &t));
	assert_true(xlb_nat_idle(&k, &v, v.stamp + 11 * sec, &t));
	v.flags = XLB_NAT_F_RST;
	assert_true(xlb_nat_idle(&k, &v, v.stamp + 11 * sec, &t));
	/* UDP: its own timeout, whatever the flags say. */
	k.proto = IPPROTO_UDP;
	assert_false(xlb_nat_idle(&k, &v, v.stamp + 299 * sec, &t));
	assert_true(xlb_nat_idle(&k, &v, v.stamp + 301 * sec, &t));
	/* Stamped after our clock read: fresh, not 52 days old. */
	assert_false(xlb_nat_idle(&k, &v, v.stamp - 1, &t));
}

/* ---- simulation ---------------------------------------------------------- */

#define SIM_ADDRS  2
#define SIM_PORTS  64
#define SIM_MAXCON (SIM_ADDRS * SIM_PORTS)
#define LINGER	   200

struct conn {
	struct port pt;
	__u64 ends;    /* when the connection's entry goes */
	__u64 visible; /* when its entry is in the table (the insert) */
};

static unsigned int rnd(unsigned int *seed, unsigned int n)
{
	*seed = *seed * 1103515245 + 12345;
	return (*seed >> 8) % n;
}

/*
 * Two CPUs take ports in random turns, sometimes through slots read a
 * while before (a late XDP program), entries appear some time after
 * their port was taken and live a random time; xlbd's refills, counts and
 * reclaims run at random points between. A port must never be taken while a
 * connection holds it or within the linger after its last one ended.
 */
static void test_simulation(void **state)
{
	static struct conn con[SIM_MAXCON * 2];
	__u64 ended[SIM_ADDRS][SIM_PORTS];
	bool held[SIM_ADDRS][SIM_PORTS];
	struct xlb_pool_cfg p = pool4("sim", "198.18.9.1", "198.18.9.2", 1024,
				      1024 + SIM_PORTS - 1);
	struct xlb_nat_cpu stale[NCPU];
	__u64 taken = 0, failed = 0;
	unsigned int seed = 12345, n = 0;
	struct world w;
	struct port pt;

	(void)state;
	memset(ended, 0, sizeof(ended));
	memset(held, 0, sizeof(held));
	p.subpool_ports = 8;
	world_open(&w, p);
	assert_int_equal(w.p.n_subpools, 16);
	xlb_nat_alloc_adopt(&w.a, NULL, w.now);
	flush(&w);
	memcpy(stale, w.map, sizeof(stale));
	for (int step = 0; step < 200000; step++) {
		unsigned int r = rnd(&seed, 100), c = rnd(&seed, NCPU);
		__u32 live[16] = {0};

		w.now += rnd(&seed, 3);
		/* Connections end. */
		for (unsigned int i = 0; i < n;) {
			struct conn *k = &con[i];
			__u32 a = k->pt.addr - 0xc6120901;

			if (k->ends > w.now) {
				i++;
				continue;
			}
			held[a][k->pt.port - 1024] = false;
			ended[a][k->pt.port - 1024] = w.now;
			con[i] = con[--n];
		}
		if (r < 60) {
			/* Mostly the slots as written; now and then a late
			 * program with those of a few ms ago. */
			bool late = rnd(&seed, 20) == 0;

			__u32 a;

			if (!(late ? dp_take(&w, &stale[c], &pt)
				   : take(&w, c, &pt))) {
				failed++;
				xlb_nat_alloc_hint(&w.a, c);
				continue;
			}
			a = pt.addr - 0xc6120901;
			assert_true(a < SIM_ADDRS);
			if (held[a][pt.port - 1024])
				fail_msg("port %u of address %u taken twice",
					 pt.port, a);
			if (ended[a][pt.port - 1024] &&
			    w.now < ended[a][pt.port - 1024] + LINGER)
				fail_msg("port %u reused within the linger",
					 pt.port);
			held[a][pt.port - 1024] = true;
			assert_true(n < SIM_MAXCON * 2);
			con[n].pt = pt;
			/* Inserts are late by up to 0.9 s here (by µs in
			 * the kernel): the quarantine must cover them. A
			 * tenth of the connections outlive it by far. */
			con[n].visible = w.now + rnd(&seed, 900);
			con[n].ends = con[n].visible +
				      rnd(&seed, rnd(&seed, 10) ? 400 : 5000);
			n++;
			taken++;
		} else if (r < 63) {
			memcpy(stale, w.map, sizeof(stale));
		} else if (r < 80) {
			refill_all(&w);
		} else if (r < 83) {
			/* The sweep: entries in the table now. */
			for (unsigned int i = 0; i < n; i++)
				if (con[i].visible <= w.now)
					live[con[i].pt.subpool -
					     w.p.subpool_base]++;
			xlb_nat_alloc_count(&w.a, live, w.now, w.now);
			xlb_nat_alloc_reclaim(&w.a, LINGER, w.now);
		}
	}
	print_message("%llu taken, %llu refused, %llu refills, %llu "
		      "reclaims, %llu steals\n",
		      (unsigned long long)taken, (unsigned long long)failed,
		      (unsigned long long)w.a.refills,
		      (unsigned long long)w.a.reclaims,
		      (unsigned long long)w.a.steals);
	/* It ran through every transition, many times. */
	assert_true(taken > 5000);
	assert_true(w.a.steals > 0);
	assert_true(failed > 0);
	assert_true(w.a.refills > 1000);
	assert_true(w.a.reclaims > 1000);
	world_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_sizes),
		cmocka_unit_test(test_layout_tiny),
		cmocka_unit_test(test_layout_ids),
		cmocka_unit_test(test_layout_no_room),
		cmocka_unit_test(test_alloc_refill),
		cmocka_unit_test(test_reclaim_whole_and_linger),
		cmocka_unit_test(test_top_up_headroom),
		cmocka_unit_test(test_steal_untouched),
		cmocka_unit_test(test_no_steal_touched),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_adopt_restart),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_simulation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
