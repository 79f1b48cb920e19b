// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The client-NAT sub-pool allocator (nat_pool.h): the layout of pools in
 * sub-pools and ids, and the run-time state machine of their sub-pools.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "nat_pool.h"

/* ---- layout -------------------------------------------------------------- */

/* The word of the address that counts through the pool (host order). */
static int addr_word(const struct xlb_pool_cfg *p)
{
	return p->family == XLB_AF_INET ? 0 : 3;
}

__u64 xlb_nat_pool_addrs(const struct xlb_pool_cfg *p)
{
	int w = addr_word(p);
	__u32 lo = ntohl(p->first.v6[w]), hi = ntohl(p->last.v6[w]);

	return hi >= lo ? (__u64)hi - lo + 1 : 0;
}

static __u32 pool_ports(const struct xlb_pool_cfg *p)
{
	return p->port_hi >= p->port_lo ? (__u32)p->port_hi - p->port_lo + 1
					: 0;
}

/* Sub-pools of one address: the last may be shorter. */
static __u32 per_addr(const struct xlb_pool_cfg *p, __u32 subpool_ports)
{
	return (pool_ports(p) + subpool_ports - 1) / subpool_ports;
}

__u64 xlb_nat_pool_subpools(const struct xlb_pool_cfg *p, __u32 subpool_ports)
{
	if (!subpool_ports)
		return 0;
	return xlb_nat_pool_addrs(p) * per_addr(p, subpool_ports);
}

/*
 * The size rule. XLB_SUBPOOL_PORTS_DEFAULT (1024) ports: few refills on a
 * busy CPU and few sub-pools to walk. But a CPU needs a second sub-pool
 * when its first runs low, and a used-up one drains for a while (its
 * entries, then the linger) before its ports come back: a pool cut into
 * fewer than XLB_NAT_SUBPOOLS_PER_CPU (4) sub-pools per CPU would have a
 * CPU wait for ports the pool has. So the size is halved until the pool
 * gives that many, down to XLB_NAT_SUBPOOL_PORTS_MIN (8 ports: smaller
 * and a CPU would refill every few connections). 1 address x 64 ports
 * on 2 CPUs: 8 sub-pools of 8. A pool too big for the sub-pool ids at
 * 1024 ports gets larger ones, up to an address's whole port range.
 */
__u32 xlb_nat_choose_subpool_ports(const struct xlb_pool_cfg *p,
				   unsigned int ncpus)
{
	__u32 sp = XLB_SUBPOOL_PORTS_DEFAULT, ports = pool_ports(p);
	__u64 want = (__u64)XLB_NAT_SUBPOOLS_PER_CPU * (ncpus ? ncpus : 1);

	while (sp > XLB_NAT_SUBPOOL_PORTS_MIN &&
	       xlb_nat_pool_subpools(p, sp) < want)
		sp /= 2;
	while (sp < ports &&
	       xlb_nat_pool_subpools(p, sp) > XLB_MAX_SUBPOOLS - 1)
		sp *= 2;
	if (sp > ports && ports)
		sp = ports;
	return sp ? sp : 1;
}

static bool layout_sound(const struct xlb_pool_cfg *p)
{
	return p->pool_id && p->pool_id < XLB_MAX_POOLS && p->subpool_ports &&
	       p->subpool_ports <= 65535 && p->subpool_base &&
	       p->n_subpools == xlb_nat_pool_subpools(p, p->subpool_ports) &&
	       (__u64)p->subpool_base + p->n_subpools <= XLB_MAX_SUBPOOLS;
}

static void layout_clear(struct xlb_pool_cfg *p)
{
	p->pool_id = p->subpool_base = p->n_subpools = 0;
}

/* Marks p's ids taken; false when one of them was already. */
static bool layout_take(const struct xlb_pool_cfg *p, bool *pool_taken,
			__u8 *sp_taken, bool check)
{
	if (check && pool_taken[p->pool_id])
		return false;
	for (__u32 i = 0; check && i < p->n_subpools; i++)
		if (sp_taken[p->subpool_base + i])
			return false;
	pool_taken[p->pool_id] = true;
	memset(sp_taken + p->subpool_base, 1, p->n_subpools);
	return true;
}

/* First fit of n consecutive free sub-pool ids: the first, or 0. */
static __u32 first_fit(const __u8 *sp_taken, __u64 n)
{
	__u32 run = 0;

	for (__u32 id = 1; id < XLB_MAX_SUBPOOLS; id++) {
		run = sp_taken[id] ? 0 : run + 1;
		if (run == n)
			return id - run + 1;
	}
	return 0;
}

static int layout_new(struct xlb_pool_cfg *p, bool *pool_taken, __u8 *sp_taken,
		      unsigned int ncpus, struct xlb_err *err)
{
	__u32 ports = p->subpool_ports, id = 1;
	__u64 n;

	if (!ports)
		ports = xlb_nat_choose_subpool_ports(p, ncpus);
	if (ports > 65535) {
		xlb_err_set(err,
			    "pool %s: a sub-pool holds at most 65535 ports",
			    p->name);
		return -EINVAL;
	}
	n = xlb_nat_pool_subpools(p, ports);
	while (id < XLB_MAX_POOLS && pool_taken[id])
		id++;
	if (id == XLB_MAX_POOLS) {
		xlb_err_set(err, "pool %s: no free pool id (limit %d)", p->name,
			    XLB_MAX_POOLS - 1);
		return -ENOSPC;
	}
	p->subpool_base =
		n && n < XLB_MAX_SUBPOOLS ? first_fit(sp_taken, n) : 0;
	if (!p->subpool_base) {
		xlb_err_set(err,
			    "pool %s: no room for its %llu sub-pools of %u "
			    "ports (%d sub-pool ids over all pools): use "
			    "larger sub-pools or fewer addresses",
			    p->name, (unsigned long long)n, ports,
			    XLB_MAX_SUBPOOLS - 1);
		return -ENOSPC;
	}
	p->subpool_ports = ports;
	p->pool_id = id;
	p->n_subpools = n;
	layout_take(p, pool_taken, sp_taken, false);
	return 0;
}

int xlb_nat_layout(const struct xlb_model *cur, struct xlb_model *next,
		   unsigned int ncpus, struct xlb_err *err)
{
	bool pool_taken[XLB_MAX_POOLS] = {true};
	__u8 *sp_taken = calloc(XLB_MAX_SUBPOOLS, 1);
	struct xlb_pool_cfg *p, *c;
	int ret = 0;

	if (!sp_taken) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	sp_taken[0] = 1;
	for (size_t i = 0; i < next->n_pools; i++) {
		p = &next->pools[i];
		c = cur ? xlb_model_pool(cur, p->name) : NULL;
		if (c && c->pool_id && xlb_pool_equal(p, c, false) &&
		    (!p->subpool_ports ||
		     p->subpool_ports == c->subpool_ports)) {
			p->subpool_ports = c->subpool_ports;
			p->pool_id = c->pool_id;
			p->subpool_base = c->subpool_base;
			p->n_subpools = c->n_subpools;
		} else if (c || !layout_sound(p)) {
			/* Changed: a new layout beside the old one. */
			layout_clear(p);
		}
	}
	/* cur's ids stay taken: its entries may hold them until swept. */
	for (size_t i = 0; cur && i < cur->n_pools; i++)
		if (layout_sound(&cur->pools[i]))
			layout_take(&cur->pools[i], pool_taken, sp_taken,
				    false);
	for (size_t i = 0; i < next->n_pools; i++) {
		p = &next->pools[i];
		c = cur ? xlb_model_pool(cur, p->name) : NULL;
		if (p->pool_id && !c &&
		    !layout_take(p, pool_taken, sp_taken, true))
			layout_clear(p); /* overlaps another: laid out anew */
	}
	for (size_t i = 0; i < next->n_pools && !ret; i++)
		if (!next->pools[i].pool_id)
			ret = layout_new(&next->pools[i], pool_taken, sp_taken,
					 ncpus, err);
	free(sp_taken);
	return ret;
}

void xlb_nat_subpool_of(const struct xlb_pool_cfg *p, __u32 i,
			struct xlb_nat_subpool *out)
{
	__u32 pa = per_addr(p, p->subpool_ports), k = i % pa;
	int w = addr_word(p);
	__u32 first = p->port_lo + k * p->subpool_ports;
	__u32 count = p->port_hi - first + 1, t = xlb_nat_threshold(p);

	if (count > p->subpool_ports)
		count = p->subpool_ports;
	memset(out, 0, sizeof(*out));
	out->addr = p->first;
	out->addr.v6[w] = htonl(ntohl(p->first.v6[w]) + i / pa);
	out->port_first = first;
	out->count = count;
	out->low_at = count > t ? count - t : 0;
	out->family = p->family;
	out->pool_id = p->pool_id;
}

__u32 xlb_nat_threshold(const struct xlb_pool_cfg *p)
{
	__u32 pct = p->refill_percent ? p->refill_percent
				      : XLB_POOL_REFILL_PERCENT_DEFAULT;
	__u32 full = p->subpool_ports < pool_ports(p) ? p->subpool_ports
						      : pool_ports(p);
	__u32 t = full * pct / 100;

	return t ? t : 1;
}

/* ---- run time ------------------------------------------------------------ */

static __u32 sp_next(const struct xlb_nat_subpool *s)
{
	return __atomic_load_n(&s->next, __ATOMIC_ACQUIRE);
}

static __u32 sp_free(const struct xlb_nat_subpool *s)
{
	__u32 n = sp_next(s);

	return n < s->count ? s->count - n : 0;
}

bool xlb_nat_subpool_close(struct xlb_nat_subpool *sp)
{
	__u32 zero = 0;

	return __atomic_compare_exchange_n(&sp->next, &zero, (__u32)sp->count,
					   false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

static bool in_pool(const struct xlb_nat_alloc *a, __u32 id)
{
	return id >= a->cfg.subpool_base &&
	       id - a->cfg.subpool_base < a->cfg.n_subpools;
}

int xlb_nat_alloc_init(struct xlb_nat_alloc *a, const struct xlb_pool_cfg *p,
		       unsigned int ncpus, struct xlb_nat_subpool *subs)
{
	memset(a, 0, sizeof(*a));
	a->cfg = *p;
	a->ncpus = ncpus;
	a->subs = subs;
	a->sp = calloc(p->n_subpools ? p->n_subpools : 1, sizeof(*a->sp));
	a->cpu = calloc(ncpus, sizeof(*a->cpu));
	a->dirty = calloc(ncpus, sizeof(*a->dirty));
	a->want = calloc(ncpus, sizeof(*a->want));
	if (!a->sp || !a->cpu || !a->dirty || !a->want) {
		xlb_nat_alloc_free(a);
		return -ENOMEM;
	}
	return 0;
}

void xlb_nat_alloc_free(struct xlb_nat_alloc *a)
{
	free(a->sp);
	free(a->cpu);
	free(a->dirty);
	free(a->want);
	a->sp = NULL;
	a->cpu = NULL;
	a->dirty = a->want = NULL;
}

/* What the map holds for id is the layout's sub-pool i (next aside). */
static bool sp_matches(const struct xlb_nat_alloc *a, __u32 i)
{
	const struct xlb_nat_subpool *s = &a->subs[a->cfg.subpool_base + i];
	struct xlb_nat_subpool want;

	xlb_nat_subpool_of(&a->cfg, i, &want);
	return s->count == want.count && s->port_first == want.port_first &&
	       s->family == want.family && s->pool_id == want.pool_id &&
	       !memcmp(&s->addr, &want.addr, sizeof(want.addr));
}

/* Free -> slot s of c: the sub-pool written open first, then the slot. */
static void hand_out(struct xlb_nat_alloc *a, __u32 i, unsigned int c,
		     unsigned int s)
{
	struct xlb_nat_subpool *dst = &a->subs[a->cfg.subpool_base + i];
	struct xlb_nat_subpool v;

	xlb_nat_subpool_of(&a->cfg, i, &v);
	/* Nobody reads it: in no slot, and the quarantine is over. */
	dst->addr = v.addr;
	dst->port_first = v.port_first;
	dst->count = v.count;
	dst->low_at = v.low_at;
	dst->family = v.family;
	dst->pool_id = v.pool_id;
	__atomic_store_n(&dst->next, 0, __ATOMIC_RELEASE);
	a->sp[i].state = XLB_NAT_SP_CPU;
	a->sp[i].cpu = c;
	a->sp[i].slot = s;
	a->sp[i].gone_ms = 0;
	a->cpu[c].subpool[s] = a->cfg.subpool_base + i;
	a->dirty[c] = true;
}

/* Slot s of c is emptied; its sub-pool becomes state st. */
static void take_back(struct xlb_nat_alloc *a, unsigned int c, unsigned int s,
		      enum xlb_nat_sp_state st, __u64 now_ms)
{
	__u32 i = a->cpu[c].subpool[s] - a->cfg.subpool_base;

	a->sp[i].state = st;
	a->sp[i].left_ms = now_ms;
	a->sp[i].gone_ms = 0;
	a->cpu[c].subpool[s] = 0;
	a->dirty[c] = true;
}

/* A free sub-pool out of its quarantine (the lowest id), or -1. */
static long pick_free(const struct xlb_nat_alloc *a, __u64 now_ms, bool *any)
{
	*any = false;
	for (__u32 i = 0; i < a->cfg.n_subpools; i++) {
		const struct xlb_nat_sp *sp = &a->sp[i];

		if (sp->state != XLB_NAT_SP_FREE)
			continue;
		*any = true;
		if (!sp->left_ms ||
		    now_ms >= sp->left_ms + XLB_NAT_QUARANTINE_MS)
			return i;
	}
	return -1;
}

static int empty_slot(const struct xlb_nat_alloc *a, unsigned int c)
{
	for (int s = 0; s < XLB_NAT_SLOTS; s++)
		if (!a->cpu[c].subpool[s])
			return s;
	return -1;
}

/* Sub-pools c holds. */
static int held(const struct xlb_nat_alloc *a, unsigned int c)
{
	int n = 0;

	for (int s = 0; s < XLB_NAT_SLOTS; s++)
		n += !!a->cpu[c].subpool[s];
	return n;
}

void xlb_nat_alloc_adopt(struct xlb_nat_alloc *a, const struct xlb_nat_cpu *cur,
			 __u64 now_ms)
{
	struct xlb_nat_subpool v;
	bool any;
	long i;

	for (unsigned int c = 0; c < a->ncpus; c++) {
		a->dirty[c] = true;
		for (int s = 0; s < XLB_NAT_SLOTS; s++) {
			__u32 id = cur ? cur[c].subpool[s] : 0;
			struct xlb_nat_sp *sp;

			a->cpu[c].subpool[s] = 0;
			if (!id || !in_pool(a, id))
				continue;
			sp = &a->sp[id - a->cfg.subpool_base];
			/* Held twice, or another pool's: leaves the slot and
			 * is judged with the others below. */
			if (sp->state == XLB_NAT_SP_CPU ||
			    !sp_matches(a, id - a->cfg.subpool_base))
				continue;
			sp->state = XLB_NAT_SP_CPU;
			sp->cpu = c;
			sp->slot = s;
			a->cpu[c].subpool[s] = id;
		}
	}
	for (__u32 k = 0; k < a->cfg.n_subpools; k++) {
		struct xlb_nat_subpool *s = &a->subs[a->cfg.subpool_base + k];
		struct xlb_nat_sp *sp = &a->sp[k];

		if (sp->state == XLB_NAT_SP_CPU)
			continue;
		if (!s->count) {
			/* Never written: no entry can hold its ports. */
			xlb_nat_subpool_of(&a->cfg, k, &v);
			v.next = XLB_NAT_NEXT_FREE;
			*s = v;
			sp->state = XLB_NAT_SP_FREE;
		} else if (sp_next(s) >= XLB_NAT_NEXT_FREE ||
			   xlb_nat_subpool_close(s)) {
			/* Free before, or untouched (closed now): free after
			 * the quarantine. */
			__atomic_store_n(&s->next, XLB_NAT_NEXT_FREE,
					 __ATOMIC_RELEASE);
			sp->state = XLB_NAT_SP_FREE;
			sp->left_ms = now_ms;
		} else {
			/* Handed out: its entries decide. */
			sp->state = XLB_NAT_SP_DRAINING;
			sp->left_ms = now_ms;
		}
	}
	for (unsigned int c = 0; c < a->ncpus; c++) {
		if (held(a, c))
			continue;
		i = pick_free(a, now_ms, &any);
		if (i >= 0)
			hand_out(a, i, c, 0);
	}
}

__u32 xlb_nat_alloc_cpu_free(const struct xlb_nat_alloc *a, unsigned int c)
{
	__u32 n = 0;

	for (int s = 0; s < XLB_NAT_SLOTS; s++)
		if (a->cpu[c].subpool[s])
			n += sp_free(&a->subs[a->cpu[c].subpool[s]]);
	return n;
}

void xlb_nat_alloc_hint(struct xlb_nat_alloc *a, unsigned int c)
{
	if (c < a->ncpus)
		a->want[c] = true;
}

/*
 * Closes an untouched sub-pool of a CPU other than c, preferring one that
 * holds more than one: true when one became free.
 */
static bool steal(struct xlb_nat_alloc *a, unsigned int c, __u64 now_ms)
{
	for (int pass = 0; pass < 2; pass++)
		for (unsigned int d = 0; d < a->ncpus; d++) {
			if (d == c || (pass == 0 && held(a, d) < 2))
				continue;
			for (int s = XLB_NAT_SLOTS - 1; s >= 0; s--) {
				__u32 id = a->cpu[d].subpool[s];

				if (!id || !xlb_nat_subpool_close(&a->subs[id]))
					continue;
				/* Not one port of it was handed out. */
				__atomic_store_n(&a->subs[id].next,
						 XLB_NAT_NEXT_FREE,
						 __ATOMIC_RELEASE);
				take_back(a, d, s, XLB_NAT_SP_FREE, now_ms);
				a->steals++;
				return true;
			}
		}
	return false;
}

/* Free sub-pools of the pool that may be handed out now. */
static __u32 ready_free(const struct xlb_nat_alloc *a, __u64 now_ms)
{
	__u32 n = 0;

	for (__u32 i = 0; i < a->cfg.n_subpools; i++) {
		const struct xlb_nat_sp *sp = &a->sp[i];

		n += sp->state == XLB_NAT_SP_FREE &&
		     (!sp->left_ms ||
		      now_ms >= sp->left_ms + XLB_NAT_QUARANTINE_MS);
	}
	return n;
}

int xlb_nat_alloc_top_up(struct xlb_nat_alloc *a, unsigned int c, __u64 now_ms)
{
	int s = c < a->ncpus ? empty_slot(a, c) : -1;
	bool any;
	long i;

	/* Only from plenty: enough for every CPU's slots with some left. */
	if (s < 0 || ready_free(a, now_ms) <= a->ncpus * XLB_NAT_SLOTS)
		return 0;
	i = pick_free(a, now_ms, &any);
	if (i < 0)
		return 0;
	hand_out(a, i, c, s);
	a->topups++;
	return 1;
}

int xlb_nat_alloc_refill(struct xlb_nat_alloc *a, unsigned int c, __u64 now_ms)
{
	bool active = a->want[c], any;
	int s;
	long i;

	if (c >= a->ncpus ||
	    xlb_nat_alloc_cpu_free(a, c) >= xlb_nat_threshold(&a->cfg))
		return 0;
	for (s = 0; s < XLB_NAT_SLOTS; s++) {
		__u32 id = a->cpu[c].subpool[s];

		if (!id)
			continue;
		if (sp_next(&a->subs[id]))
			active = true;
		if (!sp_free(&a->subs[id]))
			take_back(a, c, s, XLB_NAT_SP_DRAINING, now_ms);
	}
	s = empty_slot(a, c);
	if (s < 0)
		return 0; /* four slots with ports left: nothing to add */
	i = pick_free(a, now_ms, &any);
	if (i < 0) {
		/* Free ones in quarantine come soon; else take from an
		 * idle CPU for one that allocates. */
		if (!any && active)
			steal(a, c, now_ms);
		return 0;
	}
	hand_out(a, i, c, s);
	a->want[c] = false;
	a->refills++;
	return 1;
}

void xlb_nat_alloc_count(struct xlb_nat_alloc *a, const __u32 *live,
			 __u64 started_ms, __u64 now_ms)
{
	for (__u32 i = 0; i < a->cfg.n_subpools; i++) {
		struct xlb_nat_sp *sp = &a->sp[i];

		sp->live = live[i];
		if (sp->state != XLB_NAT_SP_DRAINING)
			continue;
		if (live[i])
			sp->gone_ms = 0;
		else if (!sp->gone_ms &&
			 started_ms >= sp->left_ms + XLB_NAT_QUARANTINE_MS)
			/* Only a count that began once no late XDP program
			 * could still make an entry of it says it is empty. */
			sp->gone_ms = now_ms;
	}
}

unsigned int xlb_nat_alloc_reclaim(struct xlb_nat_alloc *a, __u64 linger_ms,
				   __u64 now_ms)
{
	unsigned int n = 0;

	for (__u32 i = 0; i < a->cfg.n_subpools; i++) {
		struct xlb_nat_sp *sp = &a->sp[i];

		if (sp->state != XLB_NAT_SP_DRAINING || !sp->gone_ms ||
		    sp->live || now_ms < sp->gone_ms + linger_ms)
			continue;
		sp->state = XLB_NAT_SP_FREE;
		__atomic_store_n(&a->subs[a->cfg.subpool_base + i].next,
				 XLB_NAT_NEXT_FREE, __ATOMIC_RELEASE);
		n++;
	}
	a->reclaims += n;
	return n;
}

void xlb_nat_alloc_ports(const struct xlb_nat_alloc *a, __u64 *free,
			 __u64 *used)
{
	struct xlb_nat_subpool v;
	__u64 total = 0, f = 0;

	for (__u32 i = 0; i < a->cfg.n_subpools; i++) {
		xlb_nat_subpool_of(&a->cfg, i, &v);
		total += v.count;
		if (a->sp[i].state == XLB_NAT_SP_FREE)
			f += v.count;
		else if (a->sp[i].state == XLB_NAT_SP_CPU)
			f += sp_free(&a->subs[a->cfg.subpool_base + i]);
	}
	*free = f;
	*used = total - f;
}

/* ---- entries ------------------------------------------------------------- */

static __u32 ms_units(__u32 ms)
{
	return ((__u64)ms * 1000000) >> XLB_FLOW_STAMP_SHIFT;
}

void xlb_nat_timeouts_of(const struct xlb_global_cfg *g,
			 struct xlb_nat_timeouts *t)
{
	t->tcp = ms_units(g->nat_tcp_timeout_ms);
	t->closing = ms_units(g->nat_tcp_closing_ms);
	t->linger = ms_units(g->nat_linger_ms);
	t->udp = ms_units(g->nat_udp_timeout_ms);
}

bool xlb_nat_idle(const struct xlb_flow_key *k, const struct xlb_nat_fwd *v,
		  __u32 now, const struct xlb_nat_timeouts *t)
{
	__s32 age = (__s32)(now - v->stamp);
	__u32 limit = t->udp;

	if (k->proto == IPPROTO_TCP) {
		if ((v->flags & XLB_NAT_F_RST) ||
		    (v->flags & XLB_NAT_F_CLOSED) == XLB_NAT_F_CLOSED)
			limit = t->linger;
		else if (v->flags & XLB_NAT_F_CLOSED)
			limit = t->closing;
		else
			limit = t->tcp;
	}
	return age > 0 && (__u32)age > limit;
}
