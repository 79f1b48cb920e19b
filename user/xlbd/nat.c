// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlbd's side of full-NAT (nat.h): one allocator (user/lib/nat_pool.c)
 * per pool id, driven from the loop by the data path's events and a
 * tick, and the sweeper of NAT entries.
 *
 * Cadence: the tick fires every XLBD_NAT_TICK_MS (100 ms) and refills
 * any CPU below its pool's threshold; an event (a sub-pool crossed its
 * threshold, a pool found exhausted) refills at once. Every
 * XLBD_NAT_SWEEP_TICKS ticks (about a second) the sweeper walks nat_fwd:
 * it removes the connections that are idle past their timeout, whose
 * backend is down or is no longer the one its id names, or whose VIP is
 * gone, and counts the live entries of every sub-pool, from which the
 * allocators reclaim drained sub-pools.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <xlb/flow.h>

#include "dp_nat.h"
#include "nat.h"
#include "nat_pool.h"
#include "xlbd.h"

#define XLBD_NAT_TICK_MS     100
#define XLBD_NAT_SWEEP_TICKS 10

/* One pool id's allocator and what xlbd measures of it. */
struct nat_pool {
	bool on;
	struct xlb_nat_alloc a;
	__u64 *wait_ns; /* per CPU: since when it waits for a refill (0) */
	bool *got;	/* per CPU: scratch of a refill pass */
	__u64 lat_last_us, lat_max_us;
	__u64 entries; /* live entries, last sweep */
	/* Connections refused for want of a port (events: lost ones not). */
	__u64 exhausted;
};

struct xlbd_nat {
	struct xlbd *d;
	int ncpus;
	struct nat_pool pool[XLB_MAX_POOLS];
	struct xlbd_nat_stats stats[XLB_MAX_POOLS]; /* under d->lock */
	struct ring_buffer *rb;
	struct xlb_watch rb_watch;
	int timer_fd;
	struct xlb_watch timer_watch;
	unsigned int ticks;
	__u32 *live; /* the sweep's count per sub-pool id */
	__u64 removed;
};

/* ---- the allocators ------------------------------------------------------ */

static void pool_off(struct nat_pool *np)
{
	xlb_nat_alloc_free(&np->a);
	free(np->wait_ns);
	free(np->got);
	memset(np, 0, sizeof(*np));
}

/* Writes what a pool's CPUs must hold, if anything changed. */
static int pool_write(struct xlbd *d, struct nat_pool *np)
{
	bool dirty = false;
	int ret;

	for (int c = 0; c < d->nat->ncpus; c++)
		dirty |= np->a.dirty[c];
	if (!dirty)
		return 0;
	ret = xlb_dp_nat_cpu_write(d->dp, np->a.cfg.pool_id, np->a.cpu);
	if (ret) {
		xlb_log(LOG_ERR, "pool %s: writing nat_cpu: %s", np->a.cfg.name,
			strerror(-ret));
		return ret; /* still dirty: the next tick writes it */
	}
	for (int c = 0; c < d->nat->ncpus; c++)
		np->a.dirty[c] = false;
	return 0;
}

/* Refills every CPU of a pool that needs it, and times each refill. */
static void pool_refill(struct xlbd *d, struct nat_pool *np)
{
	__u32 t = xlb_nat_threshold(&np->a.cfg);
	__u64 now = xlb_now_ns(), lat;
	bool *got = np->got;

	for (int c = 0; c < d->nat->ncpus; c++) {
		/*
		 * Timed from when the CPU's free ports fall below the
		 * threshold: a hint about one sub-pool of a CPU that holds
		 * others with ports (top-ups) asks for nothing yet.
		 */
		if (xlb_nat_alloc_cpu_free(&np->a, c) >= t)
			np->wait_ns[c] = 0;
		else if (!np->wait_ns[c])
			np->wait_ns[c] = now;
		got[c] = xlb_nat_alloc_refill(&np->a, c, now / 1000000);
		/* Headroom for when xlbd is away; not a refill, not timed. */
		if (!got[c])
			xlb_nat_alloc_top_up(&np->a, c, now / 1000000);
	}
	if (pool_write(d, np))
		return;
	now = xlb_now_ns();
	for (int c = 0; c < d->nat->ncpus; c++) {
		if (!got[c])
			continue;
		lat = np->wait_ns[c] ? (now - np->wait_ns[c]) / 1000 : 0;
		np->wait_ns[c] = 0;
		np->lat_last_us = lat;
		if (lat > np->lat_max_us)
			np->lat_max_us = lat;
	}
}

static int pool_on(struct xlbd *d, const struct xlb_pool_cfg *p)
{
	struct nat_pool *np = &d->nat->pool[p->pool_id];
	struct xlb_nat_subpool *subs = xlb_dp_nat_subpools(d->dp);
	struct xlb_nat_cpu *cur;
	int ret;

	if (!subs)
		return -ENODEV;
	cur = calloc(d->nat->ncpus, sizeof(*cur));
	np->wait_ns = calloc(d->nat->ncpus, sizeof(*np->wait_ns));
	np->got = calloc(d->nat->ncpus, sizeof(*np->got));
	ret = cur && np->wait_ns && np->got ? 0 : -ENOMEM;
	if (!ret)
		ret = xlb_nat_alloc_init(&np->a, p, d->nat->ncpus, subs);
	if (ret) {
		free(np->wait_ns);
		free(np->got);
		np->wait_ns = NULL;
		np->got = NULL;
		free(cur);
		return ret;
	}
	/* What an earlier xlbd left is kept: held stays held, handed-out
	 * drains (nat_pool.h). A new pool's values are all zero. */
	if (xlb_dp_nat_cpu_read(d->dp, p->pool_id, cur))
		memset(cur, 0, d->nat->ncpus * sizeof(*cur));
	xlb_nat_alloc_adopt(&np->a, cur, xlb_now_ms());
	free(cur);
	np->on = true;
	pool_write(d, np);
	return 0;
}

/* ---- the sweeper --------------------------------------------------------- */

/* CLOCK_MONOTONIC_COARSE in stamp units, as the data path stamps. */
static __u32 stamp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((__u64)ts.tv_sec * 1000000000 + ts.tv_nsec) >>
	       XLB_FLOW_STAMP_SHIFT;
}

struct sweep {
	struct xlbd *d;
	const struct xlb_vip_cfg **vip; /* by id: the NAT VIPs in force */
	__u32 now;			/* stamp units */
	struct xlb_nat_timeouts t;
	__u32 only_lo, only_hi; /* remove every entry of these */
	__u64 removed;
};

static const char *why_remove(const struct sweep *s,
			      const struct xlb_flow_key *k,
			      const struct xlb_nat_fwd *v)
{
	const struct xlb_vip_cfg *vip =
		v->vip_id < XLB_MAX_VIPS ? s->vip[v->vip_id] : NULL;
	const struct xlb_backend *be =
		xlb_dp_backend_written(s->d->dp, v->backend_id);

	if (s->only_hi)
		return v->subpool >= s->only_lo && v->subpool < s->only_hi
			       ? "pool removed"
			       : NULL;
	if (!vip || vip->key.family != k->family ||
	    vip->key.proto != k->proto ||
	    memcmp(&vip->key.addr, &k->dst, sizeof(k->dst)) ||
	    (vip->key.port && vip->key.port != k->dport))
		return "VIP gone";
	if (!be || !be->family || be->state == XLB_BACKEND_DOWN ||
	    memcmp(&be->addr, &v->backend, sizeof(v->backend)))
		return "backend down or gone";
	return xlb_nat_idle(k, v, s->now, &s->t) ? "idle" : NULL;
}

static int sweep_one(const struct xlb_flow_key *k, const struct xlb_nat_fwd *v,
		     void *ctx)
{
	struct sweep *s = ctx;
	struct xlbd_nat *n = s->d->nat;
	struct xlb_nat_fwd again;
	int ret;

	if (why_remove(s, k, v)) {
		/* A packet may have refreshed it since the batch was read. */
		if (xlb_dp_nat_get(s->d->dp, k, &again))
			return 0;
		v = &again;
		ret = why_remove(s, k, v) ? xlb_dp_nat_delete(s->d->dp, k, v)
					  : 1;
		s->removed += !ret;
		if (ret < 0 && ret != -ENOENT)
			xlb_log(LOG_WARNING, "removing a NAT entry: %s",
				strerror(-ret));
		if (!ret || ret == -ENOENT)
			return 0;
	}
	if (v->subpool < XLB_MAX_SUBPOOLS)
		n->live[v->subpool]++;
	return 0;
}

static int sweep_walk(struct xlbd *d, struct sweep *s)
{
	const struct xlb_global_cfg *g = &d->effective.global;
	const struct xlb_model *m = &d->effective;
	int ret;

	s->d = d;
	s->vip = calloc(XLB_MAX_VIPS, sizeof(*s->vip));
	if (!s->vip)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_vips; i++)
		if (m->vips[i].mode == XLB_VIP_MODE_NAT &&
		    m->vips[i].vip_id < XLB_MAX_VIPS)
			s->vip[m->vips[i].vip_id] = &m->vips[i];
	xlb_nat_timeouts_of(g, &s->t);
	s->now = stamp_now();
	memset(d->nat->live, 0, XLB_MAX_SUBPOOLS * sizeof(*d->nat->live));
	ret = xlb_dp_nat_walk(d->dp, sweep_one, s);
	free(s->vip);
	d->nat->removed += s->removed;
	return ret;
}

static void stats_fill(struct xlbd *d);
static void stats_copy(struct xlbd *d);

static void sweep(struct xlbd *d)
{
	struct xlbd_nat *n = d->nat;
	__u64 started = xlb_now_ms(), t0 = xlb_now_ns();
	struct sweep s = {0};
	unsigned int reclaimed = 0;
	int ret;

	ret = sweep_walk(d, &s);
	if (ret) {
		xlb_log(LOG_ERR, "sweeping NAT entries: %s", strerror(-ret));
		return; /* no count: nothing is reclaimed on a partial one */
	}
	for (__u32 id = 1; id < XLB_MAX_POOLS; id++) {
		struct nat_pool *np = &n->pool[id];
		const __u32 *live;

		if (!np->on)
			continue;
		live = n->live + np->a.cfg.subpool_base;
		np->entries = 0;
		for (__u32 i = 0; i < np->a.cfg.n_subpools; i++)
			np->entries += live[i];
		xlb_nat_alloc_count(&np->a, live, started, xlb_now_ms());
		reclaimed += xlb_nat_alloc_reclaim(
			&np->a, d->effective.global.nat_linger_ms,
			xlb_now_ms());
	}
	if (s.removed || reclaimed)
		xlb_log(LOG_DEBUG,
			"NAT sweep: %llu connections removed, %u sub-pools "
			"reclaimed in %.3f ms",
			(unsigned long long)s.removed, reclaimed,
			(xlb_now_ns() - t0) / 1e6);
}

/* ---- the loop's side ----------------------------------------------------- */

static void refill_all(struct xlbd *d)
{
	for (__u32 id = 1; id < XLB_MAX_POOLS; id++)
		if (d->nat->pool[id].on)
			pool_refill(d, &d->nat->pool[id]);
}

static void on_tick(struct xlb_watch *w, uint32_t events)
{
	struct xlbd_nat *n = container_of(w, struct xlbd_nat, timer_watch);
	struct xlbd *d;
	uint64_t x;

	(void)events;
	if (read(n->timer_fd, &x, sizeof(x)) != sizeof(x))
		return;
	d = n->d;
	if (++n->ticks % XLBD_NAT_SWEEP_TICKS == 0)
		sweep(d);
	refill_all(d);
	stats_copy(d);
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct xlbd *d = ctx;
	const struct xlb_nat_event *ev = data;
	struct nat_pool *np;

	if (len < sizeof(*ev) || ev->pool_id >= XLB_MAX_POOLS)
		return 0;
	np = &d->nat->pool[ev->pool_id];
	if (!np->on || ev->cpu >= (__u32)d->nat->ncpus)
		return 0;
	if (ev->kind == XLB_NAT_EV_EXHAUSTED)
		np->exhausted++;
	/* The refill's latency counts from here. */
	if (!np->wait_ns[ev->cpu])
		np->wait_ns[ev->cpu] = xlb_now_ns();
	xlb_nat_alloc_hint(&np->a, ev->cpu);
	return 0;
}

static void on_ring(struct xlb_watch *w, uint32_t events)
{
	struct xlbd_nat *n = container_of(w, struct xlbd_nat, rb_watch);
	struct xlbd *d = n->d;

	(void)events;
	if (ring_buffer__consume(n->rb) < 0)
		return;
	refill_all(d);
	stats_copy(d);
}

int xlbd_nat_init(struct xlbd *d)
{
	struct itimerspec its = {
		.it_interval.tv_nsec = XLBD_NAT_TICK_MS * 1000000,
		.it_value.tv_nsec = XLBD_NAT_TICK_MS * 1000000,
	};
	struct xlbd_nat *n;
	int ret;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->d = d; /* for the loop's callbacks */
	n->timer_fd = -1;
	d->nat = n;
	n->ncpus = xlb_dp_nat_ncpus();
	n->live = calloc(XLB_MAX_SUBPOOLS, sizeof(*n->live));
	if (n->ncpus <= 0 || !n->live)
		return n->ncpus < 0 ? n->ncpus : -ENOMEM;
	n->rb = ring_buffer__new(xlb_dp_nat_events_fd(d->dp), on_event, d,
				 NULL);
	if (!n->rb)
		return -errno;
	n->timer_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (n->timer_fd < 0)
		return -errno;
	ret = xlbd_watch_add(d, ring_buffer__epoll_fd(n->rb), &n->rb_watch,
			     on_ring);
	if (!ret)
		ret = xlbd_watch_add(d, n->timer_fd, &n->timer_watch, on_tick);
	if (!ret && timerfd_settime(n->timer_fd, 0, &its, NULL))
		ret = -errno;
	return ret;
}

void xlbd_nat_free(struct xlbd *d)
{
	struct xlbd_nat *n = d->nat;

	if (!n)
		return;
	for (__u32 id = 0; id < XLB_MAX_POOLS; id++)
		if (n->pool[id].on)
			pool_off(&n->pool[id]);
	ring_buffer__free(n->rb);
	if (n->timer_fd >= 0)
		close(n->timer_fd);
	free(n->live);
	free(n);
	d->nat = NULL;
}

/* ---- the model's side ---------------------------------------------------- */

int xlbd_nat_assign(struct xlbd *d, const struct xlb_model *cur,
		    struct xlb_model *next, struct xlb_err *err)
{
	int ncpus = d->nat ? d->nat->ncpus : xlb_dp_nat_ncpus();

	if (!next->n_pools)
		return 0;
	return xlb_nat_layout(cur, next, ncpus > 0 ? ncpus : 1, err);
}

/* The pool of next that is the one on at id, or NULL. */
static const struct xlb_pool_cfg *still_there(const struct nat_pool *np,
					      const struct xlb_model *next)
{
	const struct xlb_pool_cfg *p = xlb_model_pool(next, np->a.cfg.name);

	return p && xlb_pool_equal(p, &np->a.cfg, true) ? p : NULL;
}

/* A removed pool: no CPU takes from it, its connections go. */
static void pool_remove(struct xlbd *d, struct nat_pool *np)
{
	struct xlb_nat_subpool *subs = xlb_dp_nat_subpools(d->dp);
	const struct xlb_pool_cfg *p = &np->a.cfg;
	struct sweep s = {
		.only_lo = p->subpool_base,
		.only_hi = p->subpool_base + p->n_subpools,
	};
	int ret;

	memset(np->a.cpu, 0, d->nat->ncpus * sizeof(*np->a.cpu));
	for (int c = 0; c < d->nat->ncpus; c++)
		np->a.dirty[c] = true;
	pool_write(d, np);
	/* count 0: the data path takes nothing from them any more. */
	memset(subs + p->subpool_base, 0, p->n_subpools * sizeof(*subs));
	ret = sweep_walk(d, &s);
	xlb_log(ret ? LOG_ERR : LOG_INFO,
		"pool %s removed: %llu connections removed%s%s", p->name,
		(unsigned long long)s.removed, ret ? ": " : "",
		ret ? strerror(-ret) : "");
	pool_off(np);
}

int xlbd_nat_apply(struct xlbd *d, const struct xlb_model *cur,
		   const struct xlb_model *next, struct xlb_err *err)
{
	struct xlbd_nat *n = d->nat;
	int ret;

	(void)cur;
	if (!n)
		return 0;
	for (__u32 id = 1; id < XLB_MAX_POOLS; id++)
		if (n->pool[id].on && !still_there(&n->pool[id], next))
			pool_remove(d, &n->pool[id]);
	for (size_t i = 0; i < next->n_pools; i++) {
		const struct xlb_pool_cfg *p = &next->pools[i];

		if (!p->pool_id || p->pool_id >= XLB_MAX_POOLS ||
		    n->pool[p->pool_id].on)
			continue;
		ret = pool_on(d, p);
		if (ret) {
			xlb_err_set(err, "pool %s: %s", p->name,
				    strerror(-ret));
			return ret;
		}
		xlb_log(LOG_INFO,
			"pool %s: id %u, %u sub-pools of %u ports (ids %u..%u)",
			p->name, p->pool_id, p->n_subpools, p->subpool_ports,
			p->subpool_base, p->subpool_base + p->n_subpools - 1);
	}
	stats_fill(d); /* apply.c holds d->lock */
	return 0;
}

/* ---- what others read ---------------------------------------------------- */

static const char *const state_names[] = {
	[XLB_NAT_SP_FREE] = "free",
	[XLB_NAT_SP_CPU] = "cpu",
	[XLB_NAT_SP_DRAINING] = "draining",
};

/* The metrics' copy of every pool; the caller holds d->lock. */
static void stats_fill(struct xlbd *d)
{
	struct xlbd_nat *n = d->nat;

	for (__u32 id = 1; id < XLB_MAX_POOLS; id++) {
		struct nat_pool *np = &n->pool[id];
		struct xlbd_nat_stats *st = &n->stats[id];

		memset(st, 0, sizeof(*st));
		if (!np->on)
			continue;
		st->on = true;
		xlb_nat_alloc_ports(&np->a, &st->ports_free, &st->ports_used);
		for (__u32 i = 0; i < np->a.cfg.n_subpools; i++)
			st->subpools[np->a.sp[i].state]++;
		st->refills = np->a.refills;
		st->reclaims = np->a.reclaims;
		st->steals = np->a.steals;
		st->entries = np->entries;
		st->refill_latency_us = np->lat_last_us;
	}
}

static void stats_copy(struct xlbd *d)
{
	pthread_mutex_lock(&d->lock);
	stats_fill(d);
	pthread_mutex_unlock(&d->lock);
}

const struct xlbd_nat_stats *xlbd_nat_stats(const struct xlbd *d, __u32 pool_id)
{
	if (!d->nat || !pool_id || pool_id >= XLB_MAX_POOLS ||
	    !d->nat->stats[pool_id].on)
		return NULL;
	return &d->nat->stats[pool_id];
}

const char *xlbd_nat_state_name(unsigned int state)
{
	return state < 3 ? state_names[state] : "?";
}

static int json_set(json_t *obj, const char *key, json_t *v)
{
	return v ? json_object_set_new(obj, key, v) : -1;
}

static json_t *subpool_json(const struct nat_pool *np, __u32 i)
{
	const struct xlb_nat_sp *sp = &np->a.sp[i];
	const struct xlb_nat_subpool *s =
		&np->a.subs[np->a.cfg.subpool_base + i];
	__u32 next = __atomic_load_n(&s->next, __ATOMIC_RELAXED);
	__u32 used = 0, free_ports = 0;
	struct xlb_nat_subpool v;
	char addr[64], ports[16];

	xlb_nat_subpool_of(&np->a.cfg, i, &v);
	/* A draining one's ports are neither: held, or waiting. */
	if (sp->state == XLB_NAT_SP_FREE)
		free_ports = v.count;
	else
		used = next < v.count ? next : v.count;
	if (sp->state == XLB_NAT_SP_CPU)
		free_ports = v.count - used;
	snprintf(ports, sizeof(ports), "%u-%u", v.port_first,
		 v.port_first + v.count - 1);
	xlb_format_addr(&v.addr, v.family, addr, sizeof(addr));
	return json_pack("{s:I, s:s, s:s, s:i, s:s, s:I, s:I}", "id",
			 (json_int_t)(np->a.cfg.subpool_base + i), "addr", addr,
			 "ports", ports, "cpu",
			 sp->state == XLB_NAT_SP_CPU ? (int)sp->cpu : -1,
			 "state", state_names[sp->state], "used",
			 (json_int_t)used, "free", (json_int_t)free_ports);
}

int xlbd_nat_pool_json(struct xlbd *d, const struct xlb_pool_cfg *p,
		       json_t *obj)
{
	struct nat_pool *np;
	json_t *subs, *cpus;
	int ret = 0;

	if (!d->nat || !p->pool_id || p->pool_id >= XLB_MAX_POOLS ||
	    !d->nat->pool[p->pool_id].on)
		return 0;
	np = &d->nat->pool[p->pool_id];
	subs = json_array();
	cpus = json_array();
	if (!subs || !cpus) {
		json_decref(subs);
		json_decref(cpus);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < np->a.cfg.n_subpools && !ret; i++)
		ret = json_array_append_new(subs, subpool_json(np, i));
	for (int c = 0; c < d->nat->ncpus && !ret; c++)
		ret = json_array_append_new(
			cpus, json_pack("{s:i, s:I}", "cpu", c, "free",
					(json_int_t)xlb_nat_alloc_cpu_free(
						&np->a, c)));
	ret |= json_set(obj, "subpools", subs);
	ret |= json_set(obj, "cpus", cpus);
	ret |= json_set(obj, "refills", json_integer(np->a.refills));
	ret |= json_set(obj, "reclaims", json_integer(np->a.reclaims));
	ret |= json_set(obj, "steals", json_integer(np->a.steals));
	ret |= json_set(obj, "topups", json_integer(np->a.topups));
	ret |= json_set(obj, "exhausted", json_integer(np->exhausted));
	ret |= json_set(obj, "entries", json_integer(np->entries));
	ret |= json_set(obj, "refill_latency_us_last",
			json_integer(np->lat_last_us));
	ret |= json_set(obj, "refill_latency_us_max",
			json_integer(np->lat_max_us));
	return ret ? -ENOMEM : 0;
}
