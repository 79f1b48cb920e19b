// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Client-NAT pools in the model: the rules of one pool, the rules between
 * pools and the VIPs that name them, and the edits that add and remove
 * pools. Apart from model_validate.c and model_edit.c because full-NAT
 * is one idea: its rules are read together.
 *
 * A pool's addresses are a range of one family; an IPv6 range lies in
 * one /96 so that an address is its low 32 bits plus a prefix, which is
 * what the allocator (xlbd) numbers sub-pools by.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_priv.h"

void xlb_pool_init(struct xlb_pool_cfg *p)
{
	memset(p, 0, sizeof(*p));
	p->port_lo = XLB_POOL_PORT_LO_DEFAULT;
	p->port_hi = XLB_POOL_PORT_HI_DEFAULT;
	p->refill_percent = XLB_POOL_REFILL_PERCENT_DEFAULT;
}

/* ---- addresses as numbers ---------------------------------------------- */

static __u32 low32(const union xlb_addr *a, __u8 family)
{
	const __u8 *b = family == XLB_AF_INET ? a->bytes : a->bytes + 12;

	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

/* Whether two addresses of a family share the part above low32. */
static bool same_prefix(const union xlb_addr *a, const union xlb_addr *b,
			__u8 family)
{
	return family == XLB_AF_INET || !memcmp(a->bytes, b->bytes, 12);
}

/* Whether addr (of family) lies in p's range. */
static bool pool_holds(const struct xlb_pool_cfg *p, const union xlb_addr *a,
		       __u8 family)
{
	__u32 x = low32(a, family);

	return p->family == family && same_prefix(&p->first, a, family) &&
	       x >= low32(&p->first, family) && x <= low32(&p->last, family);
}

static bool pools_overlap(const struct xlb_pool_cfg *a,
			  const struct xlb_pool_cfg *b)
{
	return a->family == b->family &&
	       same_prefix(&a->first, &b->first, a->family) &&
	       low32(&a->first, a->family) <= low32(&b->last, b->family) &&
	       low32(&b->first, b->family) <= low32(&a->last, a->family);
}

/*
 * Why a range of IPv4 addresses (as numbers) holds one that names no
 * host, or NULL: this network (0/8), loopback (127/8), multicast (224/4)
 * and the reserved 240/4 with the broadcast address in it.
 */
static const char *v4_range_unusable(__u32 first, __u32 last)
{
	static const struct {
		__u32 lo, hi;
		const char *why;
	} bad[] = {
		{0x00000000, 0x00ffffff, "in 0.0.0.0/8"},
		{0x7f000000, 0x7fffffff, "loopback"},
		{0xe0000000, 0xefffffff, "multicast"},
		{0xf0000000, 0xffffffff, "reserved or broadcast"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (first <= bad[i].hi && last >= bad[i].lo)
			return bad[i].why;
	return NULL;
}

static const char *range_unusable(const struct xlb_pool_cfg *p)
{
	static const __u8 mapped[12] = {[10] = 0xff, [11] = 0xff};
	static const __u8 zero[12];
	__u32 first = low32(&p->first, p->family);
	__u32 last = low32(&p->last, p->family);

	if (p->family == XLB_AF_INET)
		return v4_range_unusable(first, last);
	if (p->first.bytes[0] == 0xff)
		return "multicast";
	/* IPv4-mapped: the IPv4 rules, as for VIPs and backends. */
	if (!memcmp(p->first.bytes, mapped, 12))
		return v4_range_unusable(first, last);
	if (!memcmp(p->first.bytes, zero, 12) && first <= 1)
		return first ? "loopback" : "unspecified";
	return NULL;
}

/* ---- one pool ---------------------------------------------------------- */

static int validate_name(const char *name, struct xlb_err *err)
{
	size_t n = strnlen(name, XLB_POOL_NAMELEN);

	if (n == XLB_POOL_NAMELEN) {
		xlb_err_set(err, "pool name longer than %u characters",
			    XLB_POOL_NAMELEN - 1);
		return -EINVAL;
	}
	if (!n) {
		xlb_err_set(err, "empty pool name");
		return -EINVAL;
	}
	/* A word on a command line, in a file and in a log line alike. */
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_.-") != n) {
		xlb_err_set(err,
			    "bad pool name '%s': expected 1..%u of A-Z a-z "
			    "0-9 _ . -",
			    name, XLB_POOL_NAMELEN - 1);
		return -EINVAL;
	}
	return 0;
}

static int validate_addresses(const struct xlb_pool_cfg *p, struct xlb_err *err)
{
	char rs[2 * XLB_ADDR_STRLEN];
	const char *why;
	__u64 n;

	if (p->family != XLB_AF_INET && p->family != XLB_AF_INET6) {
		xlb_err_set(err, "address family %u is not IPv4 or IPv6",
			    p->family);
		return -EINVAL;
	}
	xlb_format_addr_range(&p->first, &p->last, p->family, rs, sizeof(rs));
	if (p->family == XLB_AF_INET &&
	    (p->first.v6[1] || p->first.v6[2] || p->first.v6[3] ||
	     p->last.v6[1] || p->last.v6[2] || p->last.v6[3])) {
		xlb_err_set(err, "IPv4 addresses with non-zero upper words");
		return -EINVAL;
	}
	if (!same_prefix(&p->first, &p->last, p->family)) {
		xlb_err_set(err,
			    "addresses %s: an IPv6 range lies in one /96 "
			    "(its first 96 bits alike)",
			    rs);
		return -EINVAL;
	}
	if (low32(&p->first, p->family) > low32(&p->last, p->family)) {
		xlb_err_set(err, "addresses %s: the first is after the last",
			    rs);
		return -EINVAL;
	}
	why = range_unusable(p);
	if (why) {
		xlb_err_set(err,
			    "addresses %s hold an address that is %s: "
			    "expected unicast addresses",
			    rs, why);
		return -EINVAL;
	}
	n = (__u64)low32(&p->last, p->family) - low32(&p->first, p->family) + 1;
	if (n > XLB_POOL_ADDRS_MAX) {
		xlb_err_set(err, "addresses %s: %llu addresses, at most %u", rs,
			    (unsigned long long)n, XLB_POOL_ADDRS_MAX);
		return -EINVAL;
	}
	return 0;
}

static int validate_layout(const struct xlb_pool_cfg *p, struct xlb_err *err)
{
	if (!p->port_lo || p->port_lo > p->port_hi) {
		xlb_err_set(err,
			    "ports %u-%u: expected LO-HI with 1 <= LO <= HI "
			    "<= 65535",
			    p->port_lo, p->port_hi);
		return -EINVAL;
	}
	if (p->subpool_ports > (__u32)p->port_hi - p->port_lo + 1) {
		xlb_err_set(err,
			    "subpool_ports %u is more than the %u ports of an "
			    "address",
			    p->subpool_ports, p->port_hi - p->port_lo + 1);
		return -EINVAL;
	}
	if (p->refill_percent < 1 || p->refill_percent > 90) {
		xlb_err_set(err, "refill_percent %u out of range 1..90",
			    p->refill_percent);
		return -EINVAL;
	}
	if (p->pool_id >= XLB_MAX_POOLS) {
		xlb_err_set(err, "pool_id %u out of range 1..%u", p->pool_id,
			    XLB_MAX_POOLS - 1);
		return -EINVAL;
	}
	if ((__u64)p->subpool_base + p->n_subpools > XLB_MAX_SUBPOOLS) {
		xlb_err_set(err, "sub-pools %u..%u beyond the last id %u",
			    p->subpool_base,
			    p->subpool_base + p->n_subpools - 1,
			    XLB_MAX_SUBPOOLS - 1);
		return -EINVAL;
	}
	return 0;
}

int xlb_pool_validate(const struct xlb_pool_cfg *p, struct xlb_err *err)
{
	char what[XLB_POOL_NAMELEN + 8];

	if (validate_name(p->name, err))
		return -EINVAL;
	if (!validate_addresses(p, err) && !validate_layout(p, err))
		return 0;
	snprintf(what, sizeof(what), "pool %s", p->name);
	xlb_err_prefix(err, what);
	return -EINVAL;
}

/* ---- between objects --------------------------------------------------- */

/*
 * What forbids p beside the other pools of m (skip: p's own index, or
 * m->n_pools) and its VIPs: a shared address, or a VIP address inside.
 */
static int pool_conflicts(const struct xlb_model *m,
			  const struct xlb_pool_cfg *p, size_t skip,
			  struct xlb_err *err)
{
	char vs[XLB_VIP_STRLEN];

	for (size_t i = 0; i < m->n_pools; i++) {
		if (i == skip || !pools_overlap(p, &m->pools[i]))
			continue;
		xlb_err_set(err, "pool %s: its addresses overlap pool %s's",
			    p->name, m->pools[i].name);
		return -EINVAL;
	}
	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_key *k = &m->vips[i].key;

		if (!pool_holds(p, &k->addr, k->family))
			continue;
		/* A reply to the NAT address must never look like traffic
		 * for a VIP, nor the other way round. */
		xlb_err_set(err, "pool %s: its addresses hold VIP %s", p->name,
			    xlb_format_vip(k, vs, sizeof(vs)));
		return -EINVAL;
	}
	return 0;
}

/* A VIP's own pool rule (the mode's needs) is xlb_vip_cfg_validate's. */
static int vip_pool_check(const struct xlb_model *m,
			  const struct xlb_vip_cfg *v, struct xlb_err *err)
{
	const struct xlb_pool_cfg *p;
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];

	if (v->mode != XLB_VIP_MODE_NAT)
		return 0;
	xlb_format_vip(&v->key, vs, sizeof(vs));
	p = xlb_model_pool(m, v->pool);
	if (!p) {
		xlb_err_set(err, "VIP %s: unknown pool %s", vs, v->pool);
		return -EINVAL;
	}
	if (p->family != v->key.family) {
		xlb_err_set(err, "VIP %s: pool %s is of the other family", vs,
			    p->name);
		return -EINVAL;
	}
	for (size_t j = 0; j < v->n_backends; j++) {
		const struct xlb_backend_cfg *b = &v->backends[j];

		if (b->family == p->family)
			continue;
		xlb_err_set(
			err,
			"VIP %s: backend %s is not of its pool %s's "
			"family: full-NAT does not translate families",
			vs,
			xlb_format_addr(&b->addr, b->family, as, sizeof(as)),
			p->name);
		return -EINVAL;
	}
	return 0;
}

int xlb_model_pools_validate(const struct xlb_model *m, struct xlb_err *err)
{
	__u64 ids[(XLB_MAX_POOLS + 63) / 64] = {0};

	if (m->n_pools > XLB_MAX_POOLS - 1) {
		xlb_err_set(err, "too many pools (limit %u)",
			    XLB_MAX_POOLS - 1);
		return -ENOSPC;
	}
	for (size_t i = 0; i < m->n_pools; i++) {
		const struct xlb_pool_cfg *p = &m->pools[i];
		int cmp;

		if (xlb_pool_validate(p, err))
			return -EINVAL;
		cmp = i ? strcmp(m->pools[i - 1].name, p->name) : -1;
		if (cmp >= 0) {
			xlb_err_set(err,
				    cmp ? "pools out of order at %s"
					: "pool %s listed twice",
				    p->name);
			return -EINVAL;
		}
		if (p->pool_id &&
		    (ids[p->pool_id / 64] >> (p->pool_id % 64)) & 1) {
			xlb_err_set(err, "pool_id %u of pool %s used twice",
				    p->pool_id, p->name);
			return -EINVAL;
		}
		if (p->pool_id)
			ids[p->pool_id / 64] |= 1ULL << (p->pool_id % 64);
	}
	/* Once each is known whole and once: what lies between them. */
	for (size_t i = 0; i < m->n_pools; i++)
		if (pool_conflicts(m, &m->pools[i], i, err))
			return -EINVAL;
	for (size_t i = 0; i < m->n_vips; i++)
		if (vip_pool_check(m, &m->vips[i], err))
			return -EINVAL;
	return 0;
}

/* ---- edits ------------------------------------------------------------- */

static size_t pool_search(const struct xlb_model *m, const char *name,
			  bool *found)
{
	size_t i = 0;
	int cmp = 1;

	while (i < m->n_pools &&
	       (cmp = strncmp(m->pools[i].name, name, XLB_POOL_NAMELEN)) < 0)
		i++;
	*found = i < m->n_pools && !cmp;
	return i;
}

int xlb_model_pool_add(struct xlb_model *m, const struct xlb_pool_cfg *p,
		       struct xlb_err *err)
{
	struct xlb_pool_cfg np = *p, *pools;
	bool found;
	size_t pos;

	if (np.family == XLB_AF_INET) {
		np.first.v6[1] = np.first.v6[2] = np.first.v6[3] = 0;
		np.last.v6[1] = np.last.v6[2] = np.last.v6[3] = 0;
	}
	if (xlb_pool_validate(&np, err))
		return -EINVAL;
	pos = pool_search(m, np.name, &found);
	if (found) {
		xlb_err_set(err, "pool %s already exists", np.name);
		return -EEXIST;
	}
	for (size_t i = 0; np.pool_id && i < m->n_pools; i++) {
		if (m->pools[i].pool_id != np.pool_id)
			continue;
		xlb_err_set(err,
			    "pool_id %u of pool %s is already used by "
			    "pool %s",
			    np.pool_id, np.name, m->pools[i].name);
		return -EEXIST;
	}
	if (m->n_pools >= XLB_MAX_POOLS - 1) {
		xlb_err_set(err, "too many pools (limit %u)",
			    XLB_MAX_POOLS - 1);
		return -ENOSPC;
	}
	if (pool_conflicts(m, &np, m->n_pools, err))
		return -EINVAL;
	pools = realloc(m->pools, (m->n_pools + 1) * sizeof(*pools));
	if (!pools) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	memmove(&pools[pos + 1], &pools[pos],
		(m->n_pools - pos) * sizeof(*pools));
	pools[pos] = np;
	m->pools = pools;
	m->n_pools++;
	return 0;
}

struct xlb_pool_cfg *xlb_model_pool_get(const struct xlb_model *m,
					const char *name, struct xlb_err *err)
{
	struct xlb_pool_cfg *p = xlb_model_pool(m, name);

	if (!p)
		xlb_err_set(err, "unknown pool %s", name);
	return p;
}

int xlb_model_pool_del(struct xlb_model *m, const char *name,
		       struct xlb_err *err)
{
	char vs[XLB_VIP_STRLEN];
	bool found;
	size_t pos = pool_search(m, name, &found);

	if (!found) {
		xlb_err_set(err, "unknown pool %s", name);
		return -ENOENT;
	}
	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];

		if (v->mode != XLB_VIP_MODE_NAT ||
		    strncmp(v->pool, name, XLB_POOL_NAMELEN))
			continue;
		xlb_err_set(err, "pool %s is used by VIP %s", name,
			    xlb_format_vip(&v->key, vs, sizeof(vs)));
		return -EBUSY;
	}
	memmove(&m->pools[pos], &m->pools[pos + 1],
		(m->n_pools - pos - 1) * sizeof(*m->pools));
	if (!--m->n_pools) {
		free(m->pools);
		m->pools = NULL;
	}
	return 0;
}
