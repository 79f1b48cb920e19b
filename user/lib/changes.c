// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The change set of one apply (see changes.h): no kernel, no writes. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"

__u32 xlb_changes_ring_weight(const struct xlb_backend_cfg *b)
{
	return b->weight;
}

bool xlb_changes_ring_out(const struct xlb_backend_cfg *b)
{
	return b->state != XLB_BACKEND_UP;
}

struct xlb_vip_key xlb_changes_addr_key(const struct xlb_vip_key *k)
{
	struct xlb_vip_key a = {
		.addr = k->addr,
		.family = k->family,
		.proto = k->family == XLB_AF_INET6 ? IPPROTO_ICMPV6
						   : IPPROTO_ICMP,
	};

	return a;
}

bool xlb_changes_has_addr(const struct xlb_model *m,
			  const struct xlb_vip_key *k)
{
	for (size_t i = 0; i < m->n_vips; i++)
		if (m->vips[i].key.family == k->family &&
		    !memcmp(&m->vips[i].key.addr, &k->addr, sizeof(k->addr)))
			return true;
	return false;
}

void xlb_changes_mark_ids(const struct xlb_model *m, __u8 *vip_mark,
			  __u8 *backend_mark)
{
	memset(vip_mark, 0, XLB_MAX_VIPS);
	memset(backend_mark, 0, XLB_MAX_BACKENDS);
	for (size_t i = 0; i < m->n_vips; i++) {
		vip_mark[m->vips[i].vip_id] = 1;
		for (size_t j = 0; j < m->vips[i].n_backends; j++)
			backend_mark[m->vips[i].backends[j].id] = 1;
	}
}

/*
 * Same id, size and (id, weight, address) list, and b's backends out
 * include a's (all of them: same_out); false if either is NULL.
 */
static bool ring_inputs_cover(const struct xlb_vip_cfg *a,
			      const struct xlb_vip_cfg *b, bool same_out)
{
	if (!a || !b || a->vip_id != b->vip_id ||
	    a->ring_size != b->ring_size || a->n_backends != b->n_backends)
		return false;
	for (size_t i = 0; i < a->n_backends; i++) {
		const struct xlb_backend_cfg *x = &a->backends[i];
		const struct xlb_backend_cfg *y = &b->backends[i];
		bool xo = xlb_changes_ring_out(x), yo = xlb_changes_ring_out(y);

		if (x->id != y->id ||
		    xlb_changes_ring_weight(x) != xlb_changes_ring_weight(y) ||
		    x->family != y->family ||
		    memcmp(&x->addr, &y->addr, sizeof(x->addr)) ||
		    (xo && !yo) || (same_out && xo != yo))
			return false;
	}
	return true;
}

bool xlb_changes_more_out(const struct xlb_vip_cfg *was,
			  const struct xlb_vip_cfg *v)
{
	return ring_inputs_cover(was, v, false);
}

static size_t count_backends(const struct xlb_model *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_vips; i++)
		n += m->vips[i].n_backends;
	return n;
}

static int alloc_changes(const struct xlb_model *cur,
			 const struct xlb_model *next, struct xlb_changes *cs)
{
	size_t nb = count_backends(next), cb = count_backends(cur);

	memset(cs, 0, sizeof(*cs));
	/* calloc(0) may return NULL: ask for one element at least. */
	cs->backends = calloc(nb + 1, sizeof(*cs->backends));
	cs->zero_vips = calloc(next->n_vips + 1, sizeof(*cs->zero_vips));
	cs->rings = calloc(next->n_vips + 1, sizeof(*cs->rings));
	cs->patch_from = calloc(next->n_vips + 1, sizeof(*cs->patch_from));
	cs->del_keys = calloc(2 * cur->n_vips + 1, sizeof(*cs->del_keys));
	cs->clear_vips = calloc(cur->n_vips + 1, sizeof(*cs->clear_vips));
	cs->retire = calloc(cb + 1, sizeof(*cs->retire));
	if (!cs->backends || !cs->zero_vips || !cs->rings || !cs->patch_from ||
	    !cs->del_keys || !cs->clear_vips || !cs->retire)
		return -ENOMEM;
	return 0;
}

/* 1. What next needs in place before any of its VIPs points at it. */
static void compute_adds(const struct xlb_written *w,
			 const struct xlb_model *cur,
			 const struct xlb_model *next, struct xlb_changes *cs)
{
	for (size_t i = 0; i < next->n_vips; i++) {
		const struct xlb_vip_cfg *v = &next->vips[i];
		const struct xlb_vip_cfg *c = xlb_model_vip(cur, &v->key);

		for (size_t j = 0; j < v->n_backends; j++) {
			const struct xlb_backend_cfg *b = &v->backends[j];
			struct xlb_change_backend *cb =
				&cs->backends[cs->n_backends++];

			cb->id = b->id;
			cb->entry.addr = b->addr;
			cb->entry.family = b->family;
			cb->entry.state = b->state;
			cb->zero_stats = w->fresh_backend[b->id];
			/* One weight change used to rewrite all of them. */
			cb->write = memcmp(&w->backends[b->id], &cb->entry,
					   sizeof(cb->entry));
			cb->vip = v;
			cb->cfg = b;
		}
		if (w->fresh_vip[v->vip_id])
			cs->zero_vips[cs->n_zero_vips++] = v->vip_id;
		if (ring_inputs_cover(c, v, true) && w->fingerprint[v->vip_id])
			continue;
		cs->patch_from[cs->n_rings] =
			w->fingerprint[v->vip_id] && xlb_changes_more_out(c, v)
				? c
				: NULL;
		cs->rings[cs->n_rings++] = v;
	}
}

/* 3. What cur has and next no longer: its entries, then its ids. */
static void compute_removals(const struct xlb_written *w,
			     const struct xlb_model *cur,
			     const struct xlb_model *next,
			     struct xlb_changes *cs, __u8 *vip_mark,
			     __u8 *backend_mark)
{
	struct xlb_vip_key ak;

	for (size_t i = 0; i < cur->n_vips; i++) {
		const struct xlb_vip_cfg *c = &cur->vips[i];

		if (!xlb_model_vip(next, &c->key))
			cs->del_keys[cs->n_del_keys++] = c->key;
		ak = xlb_changes_addr_key(&c->key);
		if (!xlb_changes_has_addr(next, &ak))
			cs->del_keys[cs->n_del_keys++] = ak;
	}
	xlb_changes_mark_ids(next, vip_mark, backend_mark);
	for (size_t i = 0; i < cur->n_vips; i++) {
		const struct xlb_vip_cfg *c = &cur->vips[i];

		if (!vip_mark[c->vip_id])
			cs->clear_vips[cs->n_clear_vips++] = c->vip_id;
		for (size_t j = 0; j < c->n_backends; j++) {
			__u32 id = c->backends[j].id;
			struct xlb_change_backend *r;

			if (backend_mark[id])
				continue;
			r = &cs->retire[cs->n_retire++];
			r->id = id;
			/* Its address stays readable, for flows naming it. */
			r->entry = w->backends[id];
			r->entry.state = XLB_BACKEND_UNUSED;
			r->write = memcmp(&w->backends[id], &r->entry,
					  sizeof(r->entry));
		}
	}
}

int xlb_changes_compute(const struct xlb_written *w,
			const struct xlb_model *cur,
			const struct xlb_model *next, struct xlb_changes *cs)
{
	__u8 *vip_mark, *backend_mark;
	int ret;

	ret = alloc_changes(cur, next, cs);
	if (ret)
		return ret;
	vip_mark = malloc(XLB_MAX_VIPS);
	backend_mark = malloc(XLB_MAX_BACKENDS);
	if (!vip_mark || !backend_mark) {
		ret = -ENOMEM;
		goto out_marks;
	}
	compute_adds(w, cur, next, cs);
	compute_removals(w, cur, next, cs, vip_mark, backend_mark);

out_marks:
	free(backend_mark);
	free(vip_mark);
	return ret;
}

void xlb_changes_free(struct xlb_changes *cs)
{
	free(cs->backends);
	free(cs->zero_vips);
	free(cs->rings);
	free(cs->patch_from);
	free(cs->del_keys);
	free(cs->clear_vips);
	free(cs->retire);
	memset(cs, 0, sizeof(*cs));
}
