// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Edits of the model. Each validates a candidate first (model_validate.c)
 * and touches the model only once nothing can fail any more, so a
 * rejected request leaves the model exactly as it was and xlbd can apply
 * edits to a copy without having to undo anything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model_priv.h"

static void addr_normalise(union xlb_addr *a, __u8 family)
{
	if (family == XLB_AF_INET)
		a->v6[1] = a->v6[2] = a->v6[3] = 0;
}

static const struct xlb_vip_cfg *vip_by_id(const struct xlb_model *m,
					   __u32 vip_id)
{
	for (size_t i = 0; i < m->n_vips; i++)
		if (m->vips[i].vip_id == vip_id)
			return &m->vips[i];
	return NULL;
}

static const struct xlb_backend_cfg *
backend_by_id(const struct xlb_model *m, __u32 id,
	      const struct xlb_vip_cfg **vip)
{
	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];

		for (size_t j = 0; j < v->n_backends; j++) {
			if (v->backends[j].id == id) {
				*vip = v;
				return &v->backends[j];
			}
		}
	}
	return NULL;
}

int xlb_model_vip_add(struct xlb_model *m, const struct xlb_vip_cfg *v,
		      struct xlb_err *err)
{
	char vs[XLB_VIP_STRLEN], os[XLB_VIP_STRLEN];
	const struct xlb_vip_cfg *other;
	struct xlb_vip_cfg nv = *v;
	struct xlb_vip_cfg *vips;
	bool found;
	size_t pos;
	int ret;

	nv.n_backends = 0;
	nv.backends = NULL;
	addr_normalise(&nv.key.addr, nv.key.family);
	/* No check: stored as the defaults, so files show sane values. */
	if (nv.check.kind == XLB_CHECK_NONE)
		xlb_check_init(&nv.check);
	if (nv.agent.kind == XLB_CHECK_NONE)
		xlb_check_init(&nv.agent);
	if (!nv.ring_size)
		nv.ring_size = XLB_RING_SIZE_DEFAULT;
	ret = xlb_vip_cfg_validate(&nv, err);
	if (ret)
		return ret;
	xlb_format_vip(&nv.key, vs, sizeof(vs));
	pos = xlb_model_vip_search(m, &nv.key, &found);
	if (found) {
		xlb_err_set(err, "VIP %s already exists", vs);
		return -EEXIST;
	}
	other = nv.vip_id ? vip_by_id(m, nv.vip_id) : NULL;
	if (other) {
		xlb_err_set(err,
			    "vip_id %u of VIP %s is already used by VIP %s",
			    nv.vip_id, vs,
			    xlb_format_vip(&other->key, os, sizeof(os)));
		return -EEXIST;
	}
	/* vip_id 0 is never used, so one entry less than the maps hold. */
	if (m->n_vips >= XLB_MAX_VIPS - 1) {
		xlb_err_set(err, "too many VIPs (limit %u)", XLB_MAX_VIPS - 1);
		return -ENOSPC;
	}
	vips = realloc(m->vips, (m->n_vips + 1) * sizeof(*vips));
	if (!vips) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	memmove(&vips[pos + 1], &vips[pos], (m->n_vips - pos) * sizeof(*vips));
	vips[pos] = nv;
	m->vips = vips;
	m->n_vips++;
	return 0;
}

int xlb_model_vip_del(struct xlb_model *m, const struct xlb_vip_key *key,
		      struct xlb_err *err)
{
	char vs[XLB_VIP_STRLEN];
	bool found;
	size_t pos = xlb_model_vip_search(m, key, &found);

	if (!found) {
		xlb_err_set(err, "unknown VIP %s",
			    xlb_format_vip(key, vs, sizeof(vs)));
		return -ENOENT;
	}
	xlb_vip_free_backends(&m->vips[pos]);
	memmove(&m->vips[pos], &m->vips[pos + 1],
		(m->n_vips - pos - 1) * sizeof(*m->vips));
	if (!--m->n_vips) {
		free(m->vips);
		m->vips = NULL;
	}
	return 0;
}

int xlb_model_backend_add(struct xlb_model *m, const struct xlb_vip_key *key,
			  const struct xlb_backend_cfg *b, struct xlb_err *err)
{
	char vs[XLB_VIP_STRLEN], os[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];
	const struct xlb_backend_cfg *other;
	const struct xlb_vip_cfg *ov;
	struct xlb_backend_cfg nb = *b, *bs;
	struct xlb_vip_cfg *v;
	bool found;
	size_t pos;
	int ret;

	xlb_format_vip(key, vs, sizeof(vs));
	v = xlb_model_vip(m, key);
	if (!v) {
		xlb_err_set(err, "unknown VIP %s", vs);
		return -ENOENT;
	}
	nb.check = NULL;
	addr_normalise(&nb.addr, nb.family);
	ret = xlb_backend_cfg_validate(&nb, err);
	if (!ret)
		ret = xlb_backend_own_check_validate(v, b, err);
	if (ret)
		return ret;
	xlb_format_addr(&nb.addr, nb.family, as, sizeof(as));
	pos = xlb_vip_backend_search(v, &nb.addr, nb.family, &found);
	if (found) {
		xlb_err_set(err, "backend %s already in VIP %s", as, vs);
		return -EEXIST;
	}
	other = nb.id ? backend_by_id(m, nb.id, &ov) : NULL;
	if (other) {
		xlb_err_set(err,
			    "backend id %u of %s is already used by %s in "
			    "VIP %s",
			    nb.id, as,
			    xlb_format_addr(&other->addr, other->family, os,
					    sizeof(os)),
			    xlb_format_vip(&ov->key, vs, sizeof(vs)));
		return -EEXIST;
	}
	if (xlb_model_n_backends(m) >= XLB_MAX_BACKENDS - 1) {
		xlb_err_set(err, "too many backends (limit %u over all VIPs)",
			    XLB_MAX_BACKENDS - 1);
		return -ENOSPC;
	}
	if (v->n_backends >= v->ring_size) {
		xlb_err_set(err,
			    "VIP %s has as many backends as its ring size "
			    "%u",
			    vs, v->ring_size);
		return -ENOSPC;
	}
	if (xlb_check_dup(b->check, &nb.check)) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	if (nb.check && nb.check->kind == XLB_CHECK_NONE)
		xlb_check_init(nb.check);
	bs = realloc(v->backends, (v->n_backends + 1) * sizeof(*bs));
	if (!bs) {
		free(nb.check);
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	memmove(&bs[pos + 1], &bs[pos], (v->n_backends - pos) * sizeof(*bs));
	bs[pos] = nb;
	v->backends = bs;
	v->n_backends++;
	return 0;
}

/* The VIP and the index of one of its backends, or -ENOENT with err. */
static int find_backend(const struct xlb_model *m,
			const struct xlb_vip_key *key,
			const union xlb_addr *addr, __u8 family,
			struct xlb_vip_cfg **vp, size_t *pos,
			struct xlb_err *err)
{
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];
	bool found;

	*vp = xlb_model_vip(m, key);
	if (!*vp) {
		xlb_err_set(err, "unknown VIP %s",
			    xlb_format_vip(key, vs, sizeof(vs)));
		return -ENOENT;
	}
	*pos = xlb_vip_backend_search(*vp, addr, family, &found);
	if (!found) {
		xlb_err_set(err, "backend %s not in VIP %s",
			    xlb_format_addr(addr, family, as, sizeof(as)),
			    xlb_format_vip(key, vs, sizeof(vs)));
		return -ENOENT;
	}
	return 0;
}

int xlb_model_backend_del(struct xlb_model *m, const struct xlb_vip_key *key,
			  const union xlb_addr *addr, __u8 family,
			  struct xlb_err *err)
{
	struct xlb_vip_cfg *v;
	size_t pos;
	int ret = find_backend(m, key, addr, family, &v, &pos, err);

	if (ret)
		return ret;
	free(v->backends[pos].check);
	memmove(&v->backends[pos], &v->backends[pos + 1],
		(v->n_backends - pos - 1) * sizeof(*v->backends));
	if (!--v->n_backends) {
		free(v->backends);
		v->backends = NULL;
	}
	return 0;
}

int xlb_model_backend_set(struct xlb_model *m, const struct xlb_vip_key *key,
			  const union xlb_addr *addr, __u8 family, long weight,
			  int state, struct xlb_err *err)
{
	struct xlb_vip_cfg *v;
	size_t pos;
	int ret;

	if (weight > XLB_WEIGHT_MAX) {
		xlb_err_set(err, "weight %ld out of range 0..%u", weight,
			    XLB_WEIGHT_MAX);
		return -EINVAL;
	}
	if (state && state != XLB_BACKEND_UP && state != XLB_BACKEND_DRAIN &&
	    state != XLB_BACKEND_DOWN) {
		xlb_err_set(err,
			    "bad backend state %d: expected up, drain or "
			    "down",
			    state);
		return -EINVAL;
	}
	ret = find_backend(m, key, addr, family, &v, &pos, err);
	if (ret)
		return ret;
	if (weight >= 0)
		v->backends[pos].weight = weight;
	if (state)
		v->backends[pos].state = state;
	return 0;
}

static int find_vip(const struct xlb_model *m, const struct xlb_vip_key *key,
		    struct xlb_vip_cfg **vp, struct xlb_err *err)
{
	char vs[XLB_VIP_STRLEN];

	*vp = xlb_model_vip(m, key);
	if (*vp)
		return 0;
	xlb_err_set(err, "unknown VIP %s", xlb_format_vip(key, vs, sizeof(vs)));
	return -ENOENT;
}

struct xlb_vip_cfg *xlb_model_vip_get(const struct xlb_model *m,
				      const struct xlb_vip_key *key,
				      struct xlb_err *err)
{
	struct xlb_vip_cfg *v;

	return find_vip(m, key, &v, err) ? NULL : v;
}

struct xlb_backend_cfg *xlb_model_backend_get(const struct xlb_model *m,
					      const struct xlb_vip_key *key,
					      const union xlb_addr *addr,
					      __u8 family, struct xlb_err *err)
{
	struct xlb_vip_cfg *v;
	size_t pos;

	return find_backend(m, key, addr, family, &v, &pos, err)
		       ? NULL
		       : &v->backends[pos];
}

int xlb_model_vip_set(struct xlb_model *m, const struct xlb_vip_key *k,
		      int all_down, int on_check_down, long slow_start_ms,
		      struct xlb_err *err)
{
	struct xlb_vip_cfg *v;
	int ret;

	if (all_down >= 0 && all_down != XLB_ALL_DOWN_DROP &&
	    all_down != XLB_ALL_DOWN_KEEP) {
		xlb_err_set(err, "unknown all_down %d: expected drop or keep",
			    all_down);
		return -EINVAL;
	}
	if (on_check_down > XLB_CHECK_DOWN_MOVE) {
		xlb_err_set(err,
			    "unknown on_check_down %d: expected keep or move",
			    on_check_down);
		return -EINVAL;
	}
	if (slow_start_ms > XLB_SLOW_START_MS_MAX) {
		xlb_err_set(err, "slow_start_ms %ld out of range 0..%u",
			    slow_start_ms, XLB_SLOW_START_MS_MAX);
		return -EINVAL;
	}
	ret = find_vip(m, k, &v, err);
	if (ret)
		return ret;
	if (all_down >= 0)
		v->all_down = all_down;
	if (on_check_down >= 0)
		v->on_check_down = on_check_down;
	if (slow_start_ms >= 0)
		v->slow_start_ms = slow_start_ms;
	return 0;
}

/* The VIP, and the backend when addr is given (else *bp is NULL). */
static int find_check_owner(const struct xlb_model *m,
			    const struct xlb_vip_key *vip,
			    const union xlb_addr *addr, __u8 family,
			    struct xlb_vip_cfg **vp,
			    struct xlb_backend_cfg **bp, struct xlb_err *err)
{
	size_t pos;
	int ret;

	*bp = NULL;
	if (!addr)
		return find_vip(m, vip, vp, err);
	ret = find_backend(m, vip, addr, family, vp, &pos, err);
	if (!ret)
		*bp = &(*vp)->backends[pos];
	return ret;
}

int xlb_model_check_set(struct xlb_model *m, const struct xlb_vip_key *vip,
			const union xlb_addr *backend, __u8 family,
			const struct xlb_check_cfg *c, struct xlb_err *err)
{
	struct xlb_check_cfg cc = *c;
	struct xlb_backend_cfg *b;
	struct xlb_vip_cfg *v;
	int ret;

	ret = xlb_vip_check_validate(vip, &cc, err);
	if (!ret)
		ret = find_check_owner(m, vip, backend, family, &v, &b, err);
	if (ret)
		return ret;
	if (cc.kind == XLB_CHECK_NONE)
		xlb_check_init(&cc);
	/* The agent has a slot of its own: the health check stays. */
	if (cc.kind == XLB_CHECK_AGENT && b) {
		xlb_err_set(err, "an agent check is the VIP's, asked of each "
				 "of its backends: set it without a backend");
		return -EINVAL;
	}
	if (cc.kind == XLB_CHECK_AGENT) {
		v->agent = cc;
		return 0;
	}
	if (!b) {
		v->check = cc;
		return 0;
	}
	if (!b->check && xlb_check_dup(&cc, &b->check)) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	*b->check = cc;
	return 0;
}

int xlb_model_check_del(struct xlb_model *m, const struct xlb_vip_key *vip,
			const union xlb_addr *backend, __u8 family,
			struct xlb_err *err)
{
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];
	struct xlb_backend_cfg *b;
	struct xlb_vip_cfg *v;
	int ret;

	ret = find_check_owner(m, vip, backend, family, &v, &b, err);
	if (ret)
		return ret;
	xlb_format_vip(&v->key, vs, sizeof(vs));
	if (!b) {
		if (v->check.kind == XLB_CHECK_NONE) {
			xlb_err_set(err, "VIP %s has no check", vs);
			return -ENOENT;
		}
		xlb_check_init(&v->check);
		return 0;
	}
	if (!b->check) {
		xlb_err_set(
			err, "backend %s of VIP %s has no check of its own",
			xlb_format_addr(&b->addr, b->family, as, sizeof(as)),
			vs);
		return -ENOENT;
	}
	free(b->check);
	b->check = NULL;
	return 0;
}

int xlb_model_agent_del(struct xlb_model *m, const struct xlb_vip_key *vip,
			struct xlb_err *err)
{
	char vs[XLB_VIP_STRLEN];
	struct xlb_vip_cfg *v;
	int ret = find_vip(m, vip, &v, err);

	if (ret)
		return ret;
	if (v->agent.kind == XLB_CHECK_NONE) {
		xlb_err_set(err, "VIP %s has no agent check",
			    xlb_format_vip(&v->key, vs, sizeof(vs)));
		return -ENOENT;
	}
	xlb_check_init(&v->agent);
	return 0;
}

int xlb_model_global_set(struct xlb_model *m, const struct xlb_global_cfg *g,
			 struct xlb_err *err)
{
	int ret = xlb_global_cfg_validate(g, err);

	if (!ret)
		m->global = *g;
	return ret;
}
