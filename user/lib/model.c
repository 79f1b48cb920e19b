// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The desired state as a data structure: its order, look-ups, life cycle
 * and equality (edits: model_edit.c, rules: model_validate.c). VIPs and
 * backends are kept sorted (addresses compared as the bytes the data path
 * sees) so look-ups are binary searches, output is stable, and two models
 * are equal exactly when their arrays are. IPv4 addresses are always
 * stored with the upper words zero because the maps compare the whole 16
 * bytes. A backend's own check is the one thing a model holds by pointer:
 * copies duplicate it and frees release it, so two models never share one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model_priv.h"

/* ---- keys and order ---------------------------------------------------- */

static size_t addr_len(__u8 family)
{
	return family == XLB_AF_INET ? 4 : 16;
}

static int addr_cmp(const union xlb_addr *a, const union xlb_addr *b,
		    __u8 family)
{
	return memcmp(a->bytes, b->bytes, addr_len(family));
}

int xlb_fam_addr_cmp(__u8 fa, const union xlb_addr *a, __u8 fb,
		     const union xlb_addr *b)
{
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return addr_cmp(a, b, fa);
}

/* Order: family, address bytes, port (host order), protocol. */
int xlb_vip_key_cmp(const struct xlb_vip_key *a, const struct xlb_vip_key *b)
{
	__u16 pa = ntohs(a->port), pb = ntohs(b->port);
	int r = xlb_fam_addr_cmp(a->family, &a->addr, b->family, &b->addr);

	if (r)
		return r;
	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return 0;
}

/* Index of key in m->vips, or where it would go; *found says which. */
size_t xlb_model_vip_search(const struct xlb_model *m,
			    const struct xlb_vip_key *key, bool *found)
{
	size_t lo = 0, hi = m->n_vips;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = xlb_vip_key_cmp(&m->vips[mid].key, key);

		if (!r) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

size_t xlb_vip_backend_search(const struct xlb_vip_cfg *v,
			      const union xlb_addr *addr, __u8 family,
			      bool *found)
{
	size_t lo = 0, hi = v->n_backends;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct xlb_backend_cfg *b = &v->backends[mid];
		int r = xlb_fam_addr_cmp(b->family, &b->addr, family, addr);

		if (!r) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* ---- life cycle -------------------------------------------------------- */

void xlb_model_init(struct xlb_model *m)
{
	memset(m, 0, sizeof(*m));
	m->global.encap = XLB_ENCAP_IPIP;
	m->global.ttl = XLB_TTL_DEFAULT;
	m->global.gue_port = XLB_GUE_PORT_DEFAULT;
	m->global.mtu = XLB_MTU_DEFAULT;
	m->global.udp_timeout_ms = XLB_UDP_TIMEOUT_MS_DEFAULT;
	m->global.flap_count = XLB_FLAP_COUNT_DEFAULT;
	m->global.flap_window_ms = XLB_FLAP_WINDOW_MS_DEFAULT;
	m->global.flap_hold_ms = XLB_FLAP_HOLD_MS_DEFAULT;
	m->global.nat_tcp_timeout_ms = XLB_NAT_TCP_TIMEOUT_MS_DEFAULT;
	m->global.nat_tcp_closing_ms = XLB_NAT_TCP_CLOSING_MS_DEFAULT;
	m->global.nat_udp_timeout_ms = XLB_NAT_UDP_TIMEOUT_MS_DEFAULT;
	m->global.nat_linger_ms = XLB_NAT_LINGER_MS_DEFAULT;
}

void xlb_vip_free_backends(struct xlb_vip_cfg *v)
{
	for (size_t j = 0; j < v->n_backends; j++)
		free(v->backends[j].check);
	free(v->backends);
	v->backends = NULL;
	v->n_backends = 0;
}

/* Leaves m initialised, so a freed model may be used again. */
void xlb_model_free(struct xlb_model *m)
{
	for (size_t i = 0; i < m->n_vips; i++)
		xlb_vip_free_backends(&m->vips[i]);
	free(m->vips);
	free(m->pools);
	free(m->uplinks);
	xlb_model_init(m);
}

/* A heap copy of a backend's own check; NULL stays NULL. */
int xlb_check_dup(const struct xlb_check_cfg *c, struct xlb_check_cfg **out)
{
	*out = NULL;
	if (!c)
		return 0;
	*out = malloc(sizeof(**out));
	if (!*out)
		return -ENOMEM;
	**out = *c;
	return 0;
}

int xlb_model_copy(struct xlb_model *dst, const struct xlb_model *src)
{
	struct xlb_model c;

	xlb_model_init(&c);
	c.global = src->global;
	if (src->n_vips) {
		c.vips = calloc(src->n_vips, sizeof(*c.vips));
		if (!c.vips)
			goto err_nomem;
	}
	for (size_t i = 0; i < src->n_vips; i++) {
		const struct xlb_vip_cfg *sv = &src->vips[i];
		struct xlb_vip_cfg *dv = &c.vips[i];

		*dv = *sv;
		dv->backends = NULL;
		dv->n_backends = 0;
		/* Counted as we go so a failure frees exactly what exists. */
		c.n_vips = i + 1;
		if (!sv->n_backends)
			continue;
		dv->backends = calloc(sv->n_backends, sizeof(*dv->backends));
		if (!dv->backends)
			goto err_nomem;
		for (size_t j = 0; j < sv->n_backends; j++) {
			dv->backends[j] = sv->backends[j];
			dv->backends[j].check = NULL;
			/* Counted as we go, like the VIPs. */
			dv->n_backends = j + 1;
			if (xlb_check_dup(sv->backends[j].check,
					  &dv->backends[j].check))
				goto err_nomem;
		}
	}
	if (src->n_pools) {
		c.pools = calloc(src->n_pools, sizeof(*c.pools));
		if (!c.pools)
			goto err_nomem;
		memcpy(c.pools, src->pools, src->n_pools * sizeof(*c.pools));
		c.n_pools = src->n_pools;
	}
	if (src->n_uplinks) {
		c.uplinks = calloc(src->n_uplinks, sizeof(*c.uplinks));
		if (!c.uplinks)
			goto err_nomem;
		memcpy(c.uplinks, src->uplinks,
		       src->n_uplinks * sizeof(*c.uplinks));
		c.n_uplinks = src->n_uplinks;
	}
	*dst = c;
	return 0;

err_nomem:
	xlb_model_free(&c);
	*dst = c;
	return -ENOMEM;
}

bool xlb_global_equal(const struct xlb_global_cfg *a,
		      const struct xlb_global_cfg *b)
{
	return a->encap == b->encap && a->ttl == b->ttl &&
	       a->gue_port == b->gue_port && a->mtu == b->mtu &&
	       a->src4_plen == b->src4_plen && a->src6_plen == b->src6_plen &&
	       !memcmp(&a->src4, &b->src4, sizeof(a->src4)) &&
	       !memcmp(&a->src6, &b->src6, sizeof(a->src6)) &&
	       a->flow_rate_limit == b->flow_rate_limit &&
	       a->udp_timeout_ms == b->udp_timeout_ms &&
	       a->flap_count == b->flap_count &&
	       a->flap_window_ms == b->flap_window_ms &&
	       a->flap_hold_ms == b->flap_hold_ms &&
	       a->nat_tcp_timeout_ms == b->nat_tcp_timeout_ms &&
	       a->nat_tcp_closing_ms == b->nat_tcp_closing_ms &&
	       a->nat_udp_timeout_ms == b->nat_udp_timeout_ms &&
	       a->nat_linger_ms == b->nat_linger_ms;
}

/* Strings compared up to their NUL: what follows it is not the value. */
#define STR_EQ(a, b, f) (!strncmp((a)->f, (b)->f, sizeof((a)->f)))

bool xlb_check_equal(const struct xlb_check_cfg *a,
		     const struct xlb_check_cfg *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == XLB_CHECK_NONE)
		return true;
	return a->tunnel == b->tunnel && a->port == b->port &&
	       a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->rise == b->rise &&
	       a->fall == b->fall && a->http_status == b->http_status &&
	       STR_EQ(a, b, http_path) && STR_EQ(a, b, http_body) &&
	       STR_EQ(a, b, udp_send) && STR_EQ(a, b, udp_expect) &&
	       STR_EQ(a, b, exec_cmd) && a->tls_verify == b->tls_verify &&
	       STR_EQ(a, b, tls_sni) && STR_EQ(a, b, tls_ca);
}

static bool backend_equal(const struct xlb_backend_cfg *a,
			  const struct xlb_backend_cfg *b, bool with_ids)
{
	/* Its own NONE check (not checked) is not inheriting the VIP's. */
	if (!a->check != !b->check ||
	    (a->check && !xlb_check_equal(a->check, b->check)))
		return false;
	return !xlb_fam_addr_cmp(a->family, &a->addr, b->family, &b->addr) &&
	       a->state == b->state && a->weight == b->weight &&
	       (!with_ids || a->id == b->id);
}

bool xlb_vip_equal(const struct xlb_vip_cfg *a, const struct xlb_vip_cfg *b,
		   bool with_ids)
{
	if (xlb_vip_key_cmp(&a->key, &b->key) || a->flags != b->flags ||
	    a->encap != b->encap || a->ring_size != b->ring_size ||
	    a->n_backends != b->n_backends ||
	    (with_ids && a->vip_id != b->vip_id) ||
	    !xlb_check_equal(&a->check, &b->check) ||
	    a->all_down != b->all_down ||
	    a->slow_start_ms != b->slow_start_ms ||
	    a->on_check_down != b->on_check_down ||
	    !xlb_check_equal(&a->agent, &b->agent) ||
	    a->balance != b->balance ||
	    a->balance_window_ms != b->balance_window_ms ||
	    a->mode != b->mode || !STR_EQ(a, b, pool))
		return false;
	for (size_t i = 0; i < a->n_backends; i++)
		if (!backend_equal(&a->backends[i], &b->backends[i], with_ids))
			return false;
	return true;
}

bool xlb_model_equal(const struct xlb_model *a, const struct xlb_model *b,
		     bool with_ids)
{
	if (!xlb_global_equal(&a->global, &b->global) || a->n_vips != b->n_vips)
		return false;
	for (size_t i = 0; i < a->n_vips; i++)
		if (!xlb_vip_equal(&a->vips[i], &b->vips[i], with_ids))
			return false;
	if (a->n_pools != b->n_pools || a->n_uplinks != b->n_uplinks)
		return false;
	for (size_t i = 0; i < a->n_uplinks; i++)
		if (!xlb_uplink_equal(&a->uplinks[i], &b->uplinks[i], with_ids))
			return false;
	for (size_t i = 0; i < a->n_pools; i++)
		if (!xlb_pool_equal(&a->pools[i], &b->pools[i], with_ids))
			return false;
	return true;
}

bool xlb_uplink_equal(const struct xlb_uplink_cfg *a,
		      const struct xlb_uplink_cfg *b, bool with_ids)
{
	return STR_EQ(a, b, ifname) && a->gw_is_mac == b->gw_is_mac &&
	       (a->gw_is_mac ? !memcmp(a->gw_mac, b->gw_mac, 6)
			     : a->gw_family == b->gw_family &&
				       !memcmp(&a->gw_addr, &b->gw_addr,
					       sizeof(a->gw_addr))) &&
	       a->mtu == b->mtu && a->share == b->share &&
	       (!with_ids || a->id == b->id);
}

bool xlb_pool_equal(const struct xlb_pool_cfg *a, const struct xlb_pool_cfg *b,
		    bool with_ids)
{
	/* subpool_ports is chosen once by xlbd: it is part of the layout. */
	return STR_EQ(a, b, name) && a->family == b->family &&
	       !memcmp(&a->first, &b->first, sizeof(a->first)) &&
	       !memcmp(&a->last, &b->last, sizeof(a->last)) &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       a->refill_percent == b->refill_percent &&
	       (!with_ids || (a->subpool_ports == b->subpool_ports &&
			      a->pool_id == b->pool_id &&
			      a->subpool_base == b->subpool_base &&
			      a->n_subpools == b->n_subpools));
}

/* ---- look-ups ---------------------------------------------------------- */

struct xlb_vip_cfg *xlb_model_vip(const struct xlb_model *m,
				  const struct xlb_vip_key *key)
{
	bool found;
	size_t i = xlb_model_vip_search(m, key, &found);

	return found ? &m->vips[i] : NULL;
}

struct xlb_pool_cfg *xlb_model_pool(const struct xlb_model *m, const char *name)
{
	for (size_t i = 0; i < m->n_pools; i++)
		if (!strncmp(m->pools[i].name, name, XLB_POOL_NAMELEN))
			return &m->pools[i];
	return NULL;
}

struct xlb_backend_cfg *xlb_vip_backend(const struct xlb_vip_cfg *v,
					const union xlb_addr *addr, __u8 family)
{
	bool found;
	size_t i = xlb_vip_backend_search(v, addr, family, &found);

	return found ? &v->backends[i] : NULL;
}

const struct xlb_check_cfg *xlb_backend_check(const struct xlb_vip_cfg *v,
					      const struct xlb_backend_cfg *b)
{
	return b->check ? b->check : &v->check;
}

size_t xlb_model_n_backends(const struct xlb_model *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_vips; i++)
		n += m->vips[i].n_backends;
	return n;
}

/* ---- health check defaults -------------------------------------------- */

void xlb_check_init(struct xlb_check_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = XLB_CHECK_NONE;
	c->tunnel = 1;
	c->interval_ms = XLB_CHECK_INTERVAL_MS_DEFAULT;
	c->timeout_ms = xlb_check_default_timeout(c->interval_ms);
	c->rise = XLB_CHECK_RISE_DEFAULT;
	c->fall = XLB_CHECK_FALL_DEFAULT;
	c->http_status = XLB_CHECK_HTTP_STATUS_DEFAULT;
	c->http_path[0] = '/';
}

__u32 xlb_check_default_timeout(__u32 interval_ms)
{
	__u64 t = (__u64)interval_ms * XLB_CHECK_TIMEOUT_PERCENT / 100;

	if (t > XLB_CHECK_TIMEOUT_MS_CAP)
		return XLB_CHECK_TIMEOUT_MS_CAP;
	return t ? t : 1;
}
