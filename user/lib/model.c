// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The desired state and its text forms. Every edit validates a candidate
 * first and touches the model only once nothing can fail any more, so a
 * rejected request leaves the model exactly as it was and xlbd can apply
 * edits to a copy without having to undo anything. VIPs and backends are
 * kept sorted (addresses compared as the bytes the data path sees) so
 * look-ups are binary searches, output is stable, and two models are equal
 * exactly when their arrays are. IPv4 addresses are always stored with the
 * upper words zero because the maps compare the whole 16 bytes. A
 * backend's own check is the one thing a model holds by pointer: copies
 * duplicate it and frees release it, so two models never share one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maglev.h"
#include "model.h"

void xlb_err_set(struct xlb_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* Puts "what: " in front of the message already in err. */
static void err_prefix(struct xlb_err *err, const char *what)
{
	char old[sizeof(err->msg)];

	if (!err)
		return;
	memcpy(old, err->msg, sizeof(old));
	xlb_err_set(err, "%s: %s", what, old);
}

/* ---- addresses and keys ------------------------------------------------ */

static bool family_ok(__u8 family)
{
	return family == XLB_AF_INET || family == XLB_AF_INET6;
}

static size_t addr_len(__u8 family)
{
	return family == XLB_AF_INET ? 4 : 16;
}

/* An IPv4 address whose upper words are not zero would never match. */
static bool addr_stray(const union xlb_addr *a, __u8 family)
{
	return family == XLB_AF_INET && (a->v6[1] || a->v6[2] || a->v6[3]);
}

/*
 * Why an address can be no VIP and no backend, or NULL: unspecified,
 * loopback, multicast or the limited broadcast (also IPv4-mapped) never
 * name one host reachable through the tunnel.
 */
static const char *addr_unusable(const union xlb_addr *a, __u8 family)
{
	static const __u8 mapped[12] = {[10] = 0xff, [11] = 0xff};
	static const __u8 zero[16];
	const __u8 *b = a->bytes;

	if (family == XLB_AF_INET6 && !memcmp(b, mapped, sizeof(mapped)))
		b += 12;
	else if (family == XLB_AF_INET6) {
		if (!memcmp(b, zero, 16))
			return "unspecified";
		if (!memcmp(b, zero, 15) && b[15] == 1)
			return "loopback";
		return b[0] == 0xff ? "multicast" : NULL;
	}
	if (!b[0] && !b[1] && !b[2] && !b[3])
		return "unspecified";
	if (b[0] == 127)
		return "loopback";
	if ((b[0] & 0xf0) == 0xe0)
		return "multicast";
	if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
		return "broadcast";
	return NULL;
}

int xlb_addr_check(const union xlb_addr *a, __u8 family, const char *what,
		   struct xlb_err *err)
{
	const char *why = addr_unusable(a, family);
	char buf[XLB_ADDR_STRLEN];

	if (!why)
		return 0;
	xlb_err_set(err, "%s address %s is %s: expected a unicast address",
		    what, xlb_format_addr(a, family, buf, sizeof(buf)), why);
	return -EINVAL;
}

static void addr_normalise(union xlb_addr *a, __u8 family)
{
	if (family == XLB_AF_INET)
		a->v6[1] = a->v6[2] = a->v6[3] = 0;
}

static int addr_cmp(const union xlb_addr *a, const union xlb_addr *b,
		    __u8 family)
{
	return memcmp(a->bytes, b->bytes, addr_len(family));
}

static int fam_addr_cmp(__u8 fa, const union xlb_addr *a, __u8 fb,
			const union xlb_addr *b)
{
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return addr_cmp(a, b, fa);
}

/* Order: family, address bytes, port (host order), protocol. */
static int vip_key_cmp(const struct xlb_vip_key *a, const struct xlb_vip_key *b)
{
	__u16 pa = ntohs(a->port), pb = ntohs(b->port);
	int r = fam_addr_cmp(a->family, &a->addr, b->family, &b->addr);

	if (r)
		return r;
	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return 0;
}

/* Index of key in m->vips, or where it would go; *found says which. */
static size_t vip_search(const struct xlb_model *m,
			 const struct xlb_vip_key *key, bool *found)
{
	size_t lo = 0, hi = m->n_vips;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = vip_key_cmp(&m->vips[mid].key, key);

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

static size_t backend_search(const struct xlb_vip_cfg *v,
			     const union xlb_addr *addr, __u8 family,
			     bool *found)
{
	size_t lo = 0, hi = v->n_backends;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct xlb_backend_cfg *b = &v->backends[mid];
		int r = fam_addr_cmp(b->family, &b->addr, family, addr);

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
}

static void vip_free_backends(struct xlb_vip_cfg *v)
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
		vip_free_backends(&m->vips[i]);
	free(m->vips);
	xlb_model_init(m);
}

/* A heap copy of a backend's own check; NULL stays NULL. */
static int check_dup(const struct xlb_check_cfg *c, struct xlb_check_cfg **out)
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
			if (check_dup(sv->backends[j].check,
				      &dv->backends[j].check))
				goto err_nomem;
		}
	}
	*dst = c;
	return 0;

err_nomem:
	xlb_model_free(&c);
	*dst = c;
	return -ENOMEM;
}

static bool global_equal(const struct xlb_global_cfg *a,
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
	       a->flap_hold_ms == b->flap_hold_ms;
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
	       STR_EQ(a, b, exec_cmd);
}

static bool backend_equal(const struct xlb_backend_cfg *a,
			  const struct xlb_backend_cfg *b, bool with_ids)
{
	/* Its own NONE check (not checked) is not inheriting the VIP's. */
	if (!a->check != !b->check ||
	    (a->check && !xlb_check_equal(a->check, b->check)))
		return false;
	return !fam_addr_cmp(a->family, &a->addr, b->family, &b->addr) &&
	       a->state == b->state && a->weight == b->weight &&
	       (!with_ids || a->id == b->id);
}

static bool vip_equal(const struct xlb_vip_cfg *a, const struct xlb_vip_cfg *b,
		      bool with_ids)
{
	if (vip_key_cmp(&a->key, &b->key) || a->flags != b->flags ||
	    a->encap != b->encap || a->ring_size != b->ring_size ||
	    a->n_backends != b->n_backends ||
	    (with_ids && a->vip_id != b->vip_id) ||
	    !xlb_check_equal(&a->check, &b->check) ||
	    a->all_down != b->all_down ||
	    a->slow_start_ms != b->slow_start_ms ||
	    a->on_check_down != b->on_check_down)
		return false;
	for (size_t i = 0; i < a->n_backends; i++)
		if (!backend_equal(&a->backends[i], &b->backends[i], with_ids))
			return false;
	return true;
}

bool xlb_model_equal(const struct xlb_model *a, const struct xlb_model *b,
		     bool with_ids)
{
	if (!global_equal(&a->global, &b->global) || a->n_vips != b->n_vips)
		return false;
	for (size_t i = 0; i < a->n_vips; i++)
		if (!vip_equal(&a->vips[i], &b->vips[i], with_ids))
			return false;
	return true;
}

/* ---- look-ups ---------------------------------------------------------- */

struct xlb_vip_cfg *xlb_model_vip(const struct xlb_model *m,
				  const struct xlb_vip_key *key)
{
	bool found;
	size_t i = vip_search(m, key, &found);

	return found ? &m->vips[i] : NULL;
}

struct xlb_backend_cfg *xlb_vip_backend(const struct xlb_vip_cfg *v,
					const union xlb_addr *addr, __u8 family)
{
	bool found;
	size_t i = backend_search(v, addr, family, &found);

	return found ? &v->backends[i] : NULL;
}

const struct xlb_check_cfg *xlb_backend_check(const struct xlb_vip_cfg *v,
					      const struct xlb_backend_cfg *b)
{
	return b->check ? b->check : &v->check;
}

static size_t total_backends(const struct xlb_model *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_vips; i++)
		n += m->vips[i].n_backends;
	return n;
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

/* ---- value checks ------------------------------------------------------ */

static int check_ring_size(__u32 ring, size_t n_backends, struct xlb_err *err)
{
	if (ring < XLB_RING_SIZE_MIN || ring > XLB_RING_SIZE_MAX) {
		xlb_err_set(err, "ring size %u out of range %u..%u", ring,
			    XLB_RING_SIZE_MIN, XLB_RING_SIZE_MAX);
		return -EINVAL;
	}
	/* Maglev needs a prime so every permutation visits every slot. */
	if (!xlb_is_prime(ring)) {
		xlb_err_set(err, "ring size %u is not a prime", ring);
		return -EINVAL;
	}
	if (ring < n_backends) {
		xlb_err_set(err,
			    "ring size %u is smaller than the %zu backends",
			    ring, n_backends);
		return -EINVAL;
	}
	return 0;
}

/* ---- checks ------------------------------------------------------------ */

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

#define KIND_BIT(k) (1u << (k))
#define KINDS_NET                                                              \
	(KIND_BIT(XLB_CHECK_TCP) | KIND_BIT(XLB_CHECK_HTTP) |                  \
	 KIND_BIT(XLB_CHECK_UDP))
#define KINDS_ANY (KINDS_NET | KIND_BIT(XLB_CHECK_EXEC))

static const struct {
	const char *field;
	unsigned int kinds;
} check_fields[] = {
	{"kind", KINDS_ANY | KIND_BIT(XLB_CHECK_NONE)},
	{"tunnel", KINDS_NET},
	/* An exec check gets it as XLB_PORT. */
	{"port", KINDS_ANY},
	{"interval_ms", KINDS_ANY},
	{"timeout_ms", KINDS_ANY},
	{"rise", KINDS_ANY},
	{"fall", KINDS_ANY},
	{"http_path", KIND_BIT(XLB_CHECK_HTTP)},
	{"http_status", KIND_BIT(XLB_CHECK_HTTP)},
	{"http_body", KIND_BIT(XLB_CHECK_HTTP)},
	{"udp_send", KIND_BIT(XLB_CHECK_UDP)},
	{"udp_expect", KIND_BIT(XLB_CHECK_UDP)},
	{"exec_cmd", KIND_BIT(XLB_CHECK_EXEC)},
};

bool xlb_check_field_applies(__u8 kind, const char *field)
{
	if (kind >= XLB_CHECK_KIND_MAX)
		return false;
	for (size_t i = 0; i < sizeof(check_fields) / sizeof(check_fields[0]);
	     i++)
		if (!strcmp(check_fields[i].field, field))
			return check_fields[i].kinds & KIND_BIT(kind);
	return false;
}

/* A string field must end inside its array: readers use strlen. */
static int check_str(const char *name, const char *s, size_t size,
		     struct xlb_err *err)
{
	if (memchr(s, '\0', size))
		return 0;
	xlb_err_set(err, "%s longer than %zu characters", name, size - 1);
	return -EINVAL;
}

#define CHECK_STR(c, f, err) check_str(#f, (c)->f, sizeof((c)->f), err)

int xlb_check_validate(const struct xlb_check_cfg *c, struct xlb_err *err)
{
	if (c->kind >= XLB_CHECK_KIND_MAX) {
		xlb_err_set(err,
			    "unknown check kind %u: expected none, tcp, http, "
			    "udp or exec",
			    c->kind);
		return -EINVAL;
	}
	if (CHECK_STR(c, http_path, err) || CHECK_STR(c, http_body, err) ||
	    CHECK_STR(c, udp_send, err) || CHECK_STR(c, udp_expect, err) ||
	    CHECK_STR(c, exec_cmd, err))
		return -EINVAL;
	/* No check: the rest is never used, so never a reason to refuse. */
	if (c->kind == XLB_CHECK_NONE)
		return 0;
	if (c->tunnel > 1) {
		xlb_err_set(err, "tunnel %u: expected 0 (plain) or 1",
			    c->tunnel);
		return -EINVAL;
	}
	if (c->interval_ms < XLB_CHECK_INTERVAL_MS_MIN ||
	    c->interval_ms > XLB_CHECK_INTERVAL_MS_MAX) {
		xlb_err_set(err, "interval %u ms out of range %u..%u",
			    c->interval_ms, XLB_CHECK_INTERVAL_MS_MIN,
			    XLB_CHECK_INTERVAL_MS_MAX);
		return -EINVAL;
	}
	if (!c->timeout_ms) {
		xlb_err_set(err, "timeout 0 ms: expected at least 1 ms");
		return -EINVAL;
	}
	/* A probe still running when the next is due would pile up. */
	if (c->timeout_ms >= c->interval_ms) {
		xlb_err_set(err,
			    "timeout %u ms must be shorter than the interval "
			    "%u ms",
			    c->timeout_ms, c->interval_ms);
		return -EINVAL;
	}
	if (!c->rise || c->rise > XLB_CHECK_RUN_MAX) {
		xlb_err_set(err, "rise %u out of range 1..%u", c->rise,
			    XLB_CHECK_RUN_MAX);
		return -EINVAL;
	}
	if (!c->fall || c->fall > XLB_CHECK_RUN_MAX) {
		xlb_err_set(err, "fall %u out of range 1..%u", c->fall,
			    XLB_CHECK_RUN_MAX);
		return -EINVAL;
	}
	switch (c->kind) {
	case XLB_CHECK_HTTP:
		if (c->http_status < 100 || c->http_status > 599) {
			xlb_err_set(err, "http_status %u out of range 100..599",
				    c->http_status);
			return -EINVAL;
		}
		if (c->http_path[0] != '/') {
			xlb_err_set(err, "http_path '%s' must start with '/'",
				    c->http_path);
			return -EINVAL;
		}
		/* It goes into the request line as it is. */
		for (const char *p = c->http_path; *p; p++) {
			if ((unsigned char)*p <= ' ' || *p == 0x7f) {
				xlb_err_set(err,
					    "http_path '%s' has a space or a "
					    "control character",
					    c->http_path);
				return -EINVAL;
			}
		}
		break;
	case XLB_CHECK_UDP:
		if (!c->udp_send[0]) {
			xlb_err_set(err, "a udp check needs a payload to send "
					 "(udp_send)");
			return -EINVAL;
		}
		break;
	case XLB_CHECK_EXEC:
		if (!c->exec_cmd[0]) {
			xlb_err_set(err,
				    "an exec check needs a command (exec_cmd)");
			return -EINVAL;
		}
		break;
	}
	return 0;
}

int xlb_vip_check_validate(const struct xlb_vip_key *k,
			   const struct xlb_check_cfg *c, struct xlb_err *err)
{
	char vs[XLB_VIP_STRLEN];
	int ret = xlb_check_validate(c, err);

	if (ret)
		return ret;
	if (!k->port && !c->port && c->kind < XLB_CHECK_KIND_MAX &&
	    (KINDS_NET & KIND_BIT(c->kind))) {
		xlb_err_set(err,
			    "VIP %s has no port: a %s check needs a port of "
			    "its own",
			    xlb_format_vip(k, vs, sizeof(vs)),
			    xlb_check_kind_name(c->kind));
		return -EINVAL;
	}
	return 0;
}

/* Everything about a VIP but its backends and the uniqueness of its id. */
static int check_vip(const struct xlb_vip_cfg *v, struct xlb_err *err)
{
	const struct xlb_vip_key *k = &v->key;

	if (!family_ok(k->family)) {
		xlb_err_set(err, "VIP address family %u is not IPv4 or IPv6",
			    k->family);
		return -EINVAL;
	}
	if (addr_stray(&k->addr, k->family)) {
		xlb_err_set(err, "IPv4 VIP address has non-zero upper words");
		return -EINVAL;
	}
	if (xlb_addr_check(&k->addr, k->family, "VIP", err))
		return -EINVAL;
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP) {
		xlb_err_set(err,
			    "VIP protocol %u not supported: expected tcp "
			    "or udp",
			    k->proto);
		return -EINVAL;
	}
	if (v->flags & ~XLB_VIP_F_ALL) {
		xlb_err_set(err, "unknown VIP flags 0x%x",
			    v->flags & ~XLB_VIP_F_ALL);
		return -EINVAL;
	}
	if (v->encap >= XLB_ENCAP_MAX) {
		xlb_err_set(err,
			    "unknown encap %u: expected default, ipip or "
			    "gue",
			    v->encap);
		return -EINVAL;
	}
	if (v->vip_id >= XLB_MAX_VIPS) {
		xlb_err_set(err, "vip_id %u out of range 1..%u", v->vip_id,
			    XLB_MAX_VIPS - 1);
		return -EINVAL;
	}
	if (v->all_down != XLB_ALL_DOWN_DROP &&
	    v->all_down != XLB_ALL_DOWN_KEEP) {
		xlb_err_set(err, "unknown all_down %u: expected drop or keep",
			    v->all_down);
		return -EINVAL;
	}
	if (v->on_check_down > XLB_CHECK_DOWN_MOVE) {
		xlb_err_set(err,
			    "unknown on_check_down %u: expected keep or move",
			    v->on_check_down);
		return -EINVAL;
	}
	if (v->slow_start_ms > XLB_SLOW_START_MS_MAX) {
		xlb_err_set(err, "slow_start_ms %u out of range 0..%u",
			    v->slow_start_ms, XLB_SLOW_START_MS_MAX);
		return -EINVAL;
	}
	if (xlb_vip_check_validate(&v->key, &v->check, err)) {
		err_prefix(err, "check");
		return -EINVAL;
	}
	return check_ring_size(v->ring_size, v->n_backends, err);
}

/* A backend's own check, with "backend ADDR: check: " on its message. */
static int check_backend_check(const struct xlb_vip_cfg *v,
			       const struct xlb_backend_cfg *b,
			       struct xlb_err *err)
{
	char as[XLB_ADDR_STRLEN], what[XLB_ADDR_STRLEN + 32];

	if (!b->check || !xlb_vip_check_validate(&v->key, b->check, err))
		return 0;
	snprintf(what, sizeof(what), "backend %s: check",
		 xlb_format_addr(&b->addr, b->family, as, sizeof(as)));
	err_prefix(err, what);
	return -EINVAL;
}

static int check_backend(const struct xlb_backend_cfg *b, struct xlb_err *err)
{
	if (!family_ok(b->family)) {
		xlb_err_set(err,
			    "backend address family %u is not IPv4 or "
			    "IPv6",
			    b->family);
		return -EINVAL;
	}
	if (addr_stray(&b->addr, b->family)) {
		xlb_err_set(err,
			    "IPv4 backend address has non-zero upper words");
		return -EINVAL;
	}
	if (xlb_addr_check(&b->addr, b->family, "backend", err))
		return -EINVAL;
	if (b->state != XLB_BACKEND_UP && b->state != XLB_BACKEND_DRAIN &&
	    b->state != XLB_BACKEND_DOWN) {
		xlb_err_set(err,
			    "bad backend state %u: expected up, drain or "
			    "down",
			    b->state);
		return -EINVAL;
	}
	if (b->weight > XLB_WEIGHT_MAX) {
		xlb_err_set(err, "weight %u out of range 0..%u", b->weight,
			    XLB_WEIGHT_MAX);
		return -EINVAL;
	}
	if (b->id >= XLB_MAX_BACKENDS) {
		xlb_err_set(err, "backend id %u out of range 1..%u", b->id,
			    XLB_MAX_BACKENDS - 1);
		return -EINVAL;
	}
	return 0;
}

/* A source prefix: zero when unset, and never with host bits set. */
static int check_source(const char *name, const union xlb_addr *a, __u8 family,
			__u8 plen, struct xlb_err *err)
{
	unsigned int max = family == XLB_AF_INET ? 32 : 128;
	char buf[XLB_ADDR_STRLEN];

	if (plen > max) {
		xlb_err_set(err, "%s prefix length %u out of range 0..%u", name,
			    plen, max);
		return -EINVAL;
	}
	if (addr_stray(a, family)) {
		xlb_err_set(err, "%s has non-zero upper words", name);
		return -EINVAL;
	}
	for (unsigned int bit = plen; bit < max; bit++) {
		if (!(a->bytes[bit / 8] & (0x80 >> (bit % 8))))
			continue;
		xlb_format_addr(a, family, buf, sizeof(buf));
		if (!plen)
			xlb_err_set(err, "%s %s has no prefix length", name,
				    buf);
		else
			xlb_err_set(err, "%s %s/%u has host bits set", name,
				    buf, plen);
		return -EINVAL;
	}
	return 0;
}

static int check_global(const struct xlb_global_cfg *g, struct xlb_err *err)
{
	if (g->encap != XLB_ENCAP_IPIP && g->encap != XLB_ENCAP_GUE) {
		xlb_err_set(err,
			    "encap %s is for VIPs only: expected ipip or "
			    "gue",
			    xlb_encap_name(g->encap));
		return -EINVAL;
	}
	if (!g->ttl) {
		xlb_err_set(err, "ttl 0 out of range 1..255");
		return -EINVAL;
	}
	if (!g->gue_port) {
		xlb_err_set(err, "gue_port 0 out of range 1..65535");
		return -EINVAL;
	}
	/* The smallest datagram every IPv4 host must accept (RFC 791). */
	if (g->mtu && g->mtu < 576) {
		xlb_err_set(err,
			    "mtu %u out of range: 0 (no check) or "
			    "576..65535",
			    g->mtu);
		return -EINVAL;
	}
	if (check_source("source_v4", &g->src4, XLB_AF_INET, g->src4_plen,
			 err) ||
	    check_source("source_v6", &g->src6, XLB_AF_INET6, g->src6_plen,
			 err))
		return -EINVAL;
	if (g->flap_count > XLB_FLAP_COUNT_MAX) {
		xlb_err_set(err, "flap_count %u out of range 0..%u (0: off)",
			    g->flap_count, XLB_FLAP_COUNT_MAX);
		return -EINVAL;
	}
	if (g->flap_window_ms < XLB_FLAP_MS_MIN ||
	    g->flap_window_ms > XLB_FLAP_MS_MAX) {
		xlb_err_set(err, "flap_window_ms %u out of range %u..%u",
			    g->flap_window_ms, XLB_FLAP_MS_MIN,
			    XLB_FLAP_MS_MAX);
		return -EINVAL;
	}
	if (g->flap_hold_ms < XLB_FLAP_MS_MIN ||
	    g->flap_hold_ms > XLB_FLAP_MS_MAX) {
		xlb_err_set(err, "flap_hold_ms %u out of range %u..%u",
			    g->flap_hold_ms, XLB_FLAP_MS_MIN, XLB_FLAP_MS_MAX);
		return -EINVAL;
	}
	return 0;
}

/* ---- edits ------------------------------------------------------------- */

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
	if (!nv.ring_size)
		nv.ring_size = XLB_RING_SIZE_DEFAULT;
	ret = check_vip(&nv, err);
	if (ret)
		return ret;
	xlb_format_vip(&nv.key, vs, sizeof(vs));
	pos = vip_search(m, &nv.key, &found);
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
	size_t pos = vip_search(m, key, &found);

	if (!found) {
		xlb_err_set(err, "unknown VIP %s",
			    xlb_format_vip(key, vs, sizeof(vs)));
		return -ENOENT;
	}
	vip_free_backends(&m->vips[pos]);
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
	ret = check_backend(&nb, err);
	if (!ret)
		ret = check_backend_check(v, b, err);
	if (ret)
		return ret;
	xlb_format_addr(&nb.addr, nb.family, as, sizeof(as));
	pos = backend_search(v, &nb.addr, nb.family, &found);
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
	if (total_backends(m) >= XLB_MAX_BACKENDS - 1) {
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
	if (check_dup(b->check, &nb.check)) {
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
	*pos = backend_search(*vp, addr, family, &found);
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
	if (!b) {
		v->check = cc;
		return 0;
	}
	if (!b->check && check_dup(&cc, &b->check)) {
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

int xlb_model_global_set(struct xlb_model *m, const struct xlb_global_cfg *g,
			 struct xlb_err *err)
{
	int ret = check_global(g, err);

	if (!ret)
		m->global = *g;
	return ret;
}

/* ---- whole-model check ------------------------------------------------- */

static bool bit_test_set(__u64 *bits, __u32 n)
{
	bool was = bits[n / 64] & (1ULL << (n % 64));

	bits[n / 64] |= 1ULL << (n % 64);
	return was;
}

static int validate_vip(const struct xlb_vip_cfg *v, __u64 *backend_ids,
			struct xlb_err *err)
{
	char as[XLB_ADDR_STRLEN];
	int ret, cmp;

	for (size_t j = 0; j < v->n_backends; j++) {
		const struct xlb_backend_cfg *b = &v->backends[j];

		ret = check_backend(b, err);
		if (!ret)
			ret = check_backend_check(v, b, err);
		if (ret)
			return ret;
		xlb_format_addr(&b->addr, b->family, as, sizeof(as));
		cmp = j ? fam_addr_cmp(v->backends[j - 1].family,
				       &v->backends[j - 1].addr, b->family,
				       &b->addr)
			: -1;
		if (!cmp) {
			xlb_err_set(err, "backend %s listed twice", as);
			return -EINVAL;
		}
		if (cmp > 0) {
			xlb_err_set(err, "backends out of order at %s", as);
			return -EINVAL;
		}
		if (b->id && bit_test_set(backend_ids, b->id)) {
			xlb_err_set(err, "backend id %u of %s used twice",
				    b->id, as);
			return -EINVAL;
		}
	}
	return 0;
}

int xlb_model_validate(const struct xlb_model *m, struct xlb_err *err)
{
	__u64 vip_ids[(XLB_MAX_VIPS + 63) / 64] = {0};
	char vs[XLB_VIP_STRLEN];
	__u64 *backend_ids;
	int ret;

	ret = check_global(&m->global, err);
	if (ret)
		return ret;
	if (m->n_vips > XLB_MAX_VIPS - 1) {
		xlb_err_set(err, "too many VIPs (limit %u)", XLB_MAX_VIPS - 1);
		return -ENOSPC;
	}
	if (total_backends(m) > XLB_MAX_BACKENDS - 1) {
		xlb_err_set(err, "too many backends (limit %u over all VIPs)",
			    XLB_MAX_BACKENDS - 1);
		return -ENOSPC;
	}
	/* Heap: XLB_MAX_BACKENDS may be raised far beyond a stack's worth. */
	backend_ids = calloc((XLB_MAX_BACKENDS + 63) / 64, sizeof(__u64));
	if (!backend_ids) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];

		ret = check_vip(v, err);
		if (ret) {
			/* The key itself may be what is wrong. */
			if (family_ok(v->key.family))
				err_prefix(err, xlb_format_vip(&v->key, vs,
							       sizeof(vs)));
			goto out;
		}
		xlb_format_vip(&v->key, vs, sizeof(vs));
		if (i && vip_key_cmp(&m->vips[i - 1].key, &v->key) >= 0) {
			if (!vip_key_cmp(&m->vips[i - 1].key, &v->key))
				xlb_err_set(err, "VIP %s listed twice", vs);
			else
				xlb_err_set(err, "VIPs out of order at %s", vs);
			ret = -EINVAL;
			goto out;
		}
		if (v->vip_id && bit_test_set(vip_ids, v->vip_id)) {
			xlb_err_set(err, "vip_id %u of VIP %s used twice",
				    v->vip_id, vs);
			ret = -EINVAL;
			goto out;
		}
		ret = validate_vip(v, backend_ids, err);
		if (ret) {
			err_prefix(err, vs);
			goto out;
		}
	}
out:
	free(backend_ids);
	return ret;
}

/* ---- text forms -------------------------------------------------------- */

int xlb_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out, struct xlb_err *err)
{
	unsigned long v = 0;
	bool over = false;

	if (!s || !*s) {
		xlb_err_set(err, "expected a number %lu..%lu, not ''", min,
			    max);
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		unsigned int d = (unsigned char)*p - '0';

		/* Digits only: strtoul would take signs, spaces and 0x. */
		if (d > 9) {
			xlb_err_set(err, "bad number '%s': expected %lu..%lu",
				    s, min, max);
			return -EINVAL;
		}
		if (v > (ULONG_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (over || v < min || v > max) {
		xlb_err_set(err, "number %s out of range %lu..%lu", s, min,
			    max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int xlb_parse_addr(const char *s, union xlb_addr *a, __u8 *family,
		   struct xlb_err *err)
{
	union xlb_addr tmp;

	memset(&tmp, 0, sizeof(tmp));
	if (!s || !*s) {
		xlb_err_set(err, "empty address");
		return -EINVAL;
	}
	if (inet_pton(AF_INET, s, &tmp.v4) == 1) {
		*family = XLB_AF_INET;
	} else if (inet_pton(AF_INET6, s, tmp.bytes) == 1) {
		*family = XLB_AF_INET6;
	} else {
		xlb_err_set(err, "bad address '%s': expected IPv4 or IPv6", s);
		return -EINVAL;
	}
	*a = tmp;
	return 0;
}

const char *xlb_format_addr(const union xlb_addr *a, __u8 family, char *buf,
			    size_t len)
{
	int af = family == XLB_AF_INET	  ? AF_INET
		 : family == XLB_AF_INET6 ? AF_INET6
					  : -1;

	if (af < 0 || !inet_ntop(af, a->bytes, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static const char *proto_name(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

#define VIP_SYNTAX "expected ADDR[:PORT]/tcp|udp"

int xlb_parse_vip(const char *s, struct xlb_vip_key *k, struct xlb_err *err)
{
	char buf[XLB_VIP_STRLEN];
	const char *proto, *port = NULL;
	char *addr, *slash, *close;
	struct xlb_vip_key key;
	unsigned long p = 0;

	memset(&key, 0, sizeof(key));
	if (!s || !*s) {
		xlb_err_set(err, "empty VIP: " VIP_SYNTAX);
		return -EINVAL;
	}
	if (strlen(s) >= sizeof(buf)) {
		xlb_err_set(err, "VIP '%.32s...' too long: " VIP_SYNTAX, s);
		return -EINVAL;
	}
	strcpy(buf, s);
	slash = strrchr(buf, '/');
	if (!slash) {
		xlb_err_set(err, "missing protocol in '%s': " VIP_SYNTAX, s);
		return -EINVAL;
	}
	*slash = '\0';
	proto = slash + 1;
	if (!strcasecmp(proto, "tcp")) {
		key.proto = IPPROTO_TCP;
	} else if (!strcasecmp(proto, "udp")) {
		key.proto = IPPROTO_UDP;
	} else {
		xlb_err_set(err,
			    "unknown protocol '%s' in '%s': expected tcp "
			    "or udp",
			    proto, s);
		return -EINVAL;
	}

	addr = buf;
	if (*addr == '[') {
		close = strchr(addr, ']');
		if (!close) {
			xlb_err_set(err, "unbalanced '[' in '%s': " VIP_SYNTAX,
				    s);
			return -EINVAL;
		}
		*close = '\0';
		addr++;
		if (close[1] == ':') {
			port = close + 2;
		} else if (close[1]) {
			xlb_err_set(err,
				    "unexpected '%s' after ']' in "
				    "'%s': " VIP_SYNTAX,
				    close + 1, s);
			return -EINVAL;
		}
	} else if (strchr(addr, ']')) {
		xlb_err_set(err, "unbalanced ']' in '%s': " VIP_SYNTAX, s);
		return -EINVAL;
	} else {
		char *colon = strchr(addr, ':');

		/*
		 * Two colons or more: IPv6 without brackets. Refused, since
		 * "2001:db8::1:80" is an address and may be meant as a port.
		 */
		if (colon && strchr(colon + 1, ':')) {
			xlb_err_set(err,
				    "IPv6 address in '%s' needs brackets: "
				    "[ADDR]:PORT/PROTO, or [ADDR]/PROTO for "
				    "every port",
				    s);
			return -EINVAL;
		}
		if (colon) {
			*colon = '\0';
			port = colon + 1;
		}
	}
	if (!*addr) {
		xlb_err_set(err, "missing address in '%s': " VIP_SYNTAX, s);
		return -EINVAL;
	}
	if (xlb_parse_addr(addr, &key.addr, &key.family, err))
		return -EINVAL;
	if (buf[0] == '[' && key.family != XLB_AF_INET6) {
		xlb_err_set(err, "brackets in '%s' are for IPv6 addresses only",
			    s);
		return -EINVAL;
	}
	/* Port 0 is only ever written by leaving the port out. */
	if (port && xlb_parse_uint(port, 1, 65535, &p, NULL)) {
		xlb_err_set(err,
			    "bad port '%s' in '%s': expected 1..65535 "
			    "(leave it out for every port)",
			    port, s);
		return -EINVAL;
	}
	key.port = htons(p);
	*k = key;
	return 0;
}

const char *xlb_format_vip(const struct xlb_vip_key *k, char *buf, size_t len)
{
	char as[XLB_ADDR_STRLEN], pn[8];
	const char *proto = proto_name(k->proto, pn, sizeof(pn));
	bool v6 = k->family == XLB_AF_INET6;

	xlb_format_addr(&k->addr, k->family, as, sizeof(as));
	if (k->port)
		snprintf(buf, len, "%s%s%s:%u/%s", v6 ? "[" : "", as,
			 v6 ? "]" : "", ntohs(k->port), proto);
	else
		snprintf(buf, len, "%s%s%s/%s", v6 ? "[" : "", as,
			 v6 ? "]" : "", proto);
	return buf;
}

int xlb_parse_prefix(const char *s, union xlb_addr *a, __u8 *family, __u8 *plen,
		     struct xlb_err *err)
{
	char buf[XLB_ADDR_STRLEN + 8];
	union xlb_addr addr;
	unsigned long len;
	const char *slash;
	__u8 fam;

	if (!s || !*s) {
		xlb_err_set(err, "empty prefix: expected ADDR/LEN");
		return -EINVAL;
	}
	slash = strchr(s, '/');
	if (!slash) {
		xlb_err_set(err,
			    "missing prefix length in '%s': expected "
			    "ADDR/LEN",
			    s);
		return -EINVAL;
	}
	if ((size_t)(slash - s) >= sizeof(buf)) {
		xlb_err_set(err, "bad prefix '%.32s...'", s);
		return -EINVAL;
	}
	memcpy(buf, s, slash - s);
	buf[slash - s] = '\0';
	if (xlb_parse_addr(buf, &addr, &fam, err)) {
		err_prefix(err, "bad prefix");
		return -EINVAL;
	}
	if (xlb_parse_uint(slash + 1, 0, fam == XLB_AF_INET ? 32 : 128, &len,
			   NULL)) {
		xlb_err_set(err,
			    "bad prefix length '%s' in '%s': expected "
			    "0..%u",
			    slash + 1, s, fam == XLB_AF_INET ? 32 : 128);
		return -EINVAL;
	}
	for (unsigned long bit = len; bit < addr_len(fam) * 8; bit++) {
		if (addr.bytes[bit / 8] & (0x80 >> (bit % 8))) {
			xlb_err_set(err, "%s has host bits set", s);
			return -EINVAL;
		}
	}
	*a = addr;
	*family = fam;
	*plen = len;
	return 0;
}

static const struct {
	const char *name;
	__u32 bit;
} flag_names[] = {
	{"no-sport", XLB_VIP_F_NO_SPORT},
	{"no-flow-table", XLB_VIP_F_NO_FLOW_TABLE},
	{"dport-only", XLB_VIP_F_DPORT_ONLY},
};

#define N_FLAGS (sizeof(flag_names) / sizeof(flag_names[0]))

int xlb_parse_flags(const char *s, __u32 *flags, struct xlb_err *err)
{
	const char *p = s ? s : "";
	__u32 f = 0;

	if (!*p || !strcasecmp(p, "none")) {
		*flags = 0;
		return 0;
	}
	for (;;) {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < N_FLAGS; i++)
			if (strlen(flag_names[i].name) == n &&
			    !strncasecmp(p, flag_names[i].name, n))
				break;
		if (i == N_FLAGS) {
			xlb_err_set(err,
				    "unknown flag '%.*s': expected "
				    "no-sport, no-flow-table, dport-only "
				    "or none",
				    (int)n, p);
			return -EINVAL;
		}
		f |= flag_names[i].bit;
		if (!p[n])
			break;
		p += n + 1;
	}
	*flags = f;
	return 0;
}

const char *xlb_format_flags(__u32 flags, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	if (!flags) {
		snprintf(buf, len, "none");
		return buf;
	}
	for (size_t i = 0; i < N_FLAGS; i++) {
		if (!(flags & flag_names[i].bit))
			continue;
		flags &= ~flag_names[i].bit;
		if (off < len)
			off += snprintf(buf + off, len - off, "%s%s",
					off ? "," : "", flag_names[i].name);
	}
	/* Bits without a name still show, so nothing is hidden. */
	if (flags && off < len)
		snprintf(buf + off, len - off, "%s0x%x", off ? "," : "", flags);
	return buf;
}

/* The index in [first, end) of names whose entry is s (any case), or -1. */
static int name_index(const char *const *names, int first, int end,
		      const char *s)
{
	for (int i = first; s && i < end; i++)
		if (names[i] && !strcasecmp(s, names[i]))
			return i;
	return -1;
}

static const char *const encap_names[XLB_ENCAP_MAX] = {
	[XLB_ENCAP_DEFAULT] = "default",
	[XLB_ENCAP_IPIP] = "ipip",
	[XLB_ENCAP_GUE] = "gue",
};

int xlb_parse_encap(const char *s, __u8 *encap, struct xlb_err *err)
{
	int i = name_index(encap_names, 0, XLB_ENCAP_MAX, s);

	if (i >= 0) {
		*encap = i;
		return 0;
	}
	xlb_err_set(err, "unknown encap '%s': expected default, ipip or gue",
		    s ? s : "");
	return -EINVAL;
}

const char *xlb_encap_name(__u8 encap)
{
	return encap < XLB_ENCAP_MAX ? encap_names[encap] : "unknown";
}

static const char *const state_names[] = {
	[XLB_BACKEND_UNUSED] = "unused",
	[XLB_BACKEND_UP] = "up",
	[XLB_BACKEND_DRAIN] = "drain",
	[XLB_BACKEND_DOWN] = "down",
};

int xlb_parse_state(const char *s, __u8 *state, struct xlb_err *err)
{
	/* "unused" is the maps' word for a free id, not an operator's. */
	int i = name_index(state_names, XLB_BACKEND_UP, XLB_BACKEND_DOWN + 1,
			   s);

	if (i >= 0) {
		*state = i;
		return 0;
	}
	xlb_err_set(err, "unknown state '%s': expected up, drain or down",
		    s ? s : "");
	return -EINVAL;
}

const char *xlb_state_name(__u8 state)
{
	return state <= XLB_BACKEND_DOWN ? state_names[state] : "unknown";
}

static const char *const check_kind_names[XLB_CHECK_KIND_MAX] = {
	[XLB_CHECK_NONE] = "none", [XLB_CHECK_TCP] = "tcp",
	[XLB_CHECK_HTTP] = "http", [XLB_CHECK_UDP] = "udp",
	[XLB_CHECK_EXEC] = "exec",
};

int xlb_parse_check_kind(const char *s, __u8 *kind, struct xlb_err *err)
{
	int i = name_index(check_kind_names, 0, XLB_CHECK_KIND_MAX, s);

	if (i >= 0) {
		*kind = i;
		return 0;
	}
	xlb_err_set(err,
		    "unknown check kind '%s': expected none, tcp, http, udp "
		    "or exec",
		    s ? s : "");
	return -EINVAL;
}

const char *xlb_check_kind_name(__u8 kind)
{
	return kind < XLB_CHECK_KIND_MAX ? check_kind_names[kind] : "unknown";
}

static const char *const all_down_names[] = {
	[XLB_ALL_DOWN_DROP] = "drop",
	[XLB_ALL_DOWN_KEEP] = "keep",
};

int xlb_parse_all_down(const char *s, __u8 *all_down, struct xlb_err *err)
{
	int i = name_index(all_down_names, 0, XLB_ALL_DOWN_KEEP + 1, s);

	if (i >= 0) {
		*all_down = i;
		return 0;
	}
	xlb_err_set(err, "unknown all_down '%s': expected drop or keep",
		    s ? s : "");
	return -EINVAL;
}

const char *xlb_all_down_name(__u8 all_down)
{
	return all_down <= XLB_ALL_DOWN_KEEP ? all_down_names[all_down]
					     : "unknown";
}

static const char *const check_down_names[] = {
	[XLB_CHECK_DOWN_KEEP] = "keep",
	[XLB_CHECK_DOWN_MOVE] = "move",
};

int xlb_parse_check_down(const char *s, __u8 *on_check_down,
			 struct xlb_err *err)
{
	int i = name_index(check_down_names, 0, XLB_CHECK_DOWN_MOVE + 1, s);

	if (i >= 0) {
		*on_check_down = i;
		return 0;
	}
	xlb_err_set(err, "unknown on_check_down '%s': expected keep or move",
		    s ? s : "");
	return -EINVAL;
}

const char *xlb_check_down_name(__u8 on_check_down)
{
	return on_check_down <= XLB_CHECK_DOWN_MOVE
		       ? check_down_names[on_check_down]
		       : "unknown";
}
