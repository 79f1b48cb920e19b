// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The model's rules: what makes an address, a VIP, a backend, a health
 * check or the global knobs acceptable, and the whole-model validation
 * that adds order, uniqueness of ids and limits. Edits (model_edit.c) run
 * the same per-object rules on their candidates, so a model built by edits
 * always passes xlb_model_validate.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "model_priv.h"

/* ---- addresses --------------------------------------------------------- */

static bool family_ok(__u8 family)
{
	return family == XLB_AF_INET || family == XLB_AF_INET6;
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

/* ---- value rules ------------------------------------------------------ */

static int validate_ring_size(__u32 ring, size_t n_backends,
			      struct xlb_err *err)
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

/* ---- health checks ----------------------------------------------------- */

/* A string field must end inside its array: readers use strlen. */
static int validate_str(const char *name, const char *s, size_t size,
			struct xlb_err *err)
{
	if (memchr(s, '\0', size))
		return 0;
	xlb_err_set(err, "%s longer than %zu characters", name, size - 1);
	return -EINVAL;
}

#define VALIDATE_STR(c, f, err) validate_str(#f, (c)->f, sizeof((c)->f), err)

/*
 * HTTPS: the SNI is a host name (no space, no control character: it goes
 * into the handshake as it is), the CA file an absolute path (xlbd's
 * working directory is no one's business).
 */
static int validate_tls(const struct xlb_check_cfg *c, struct xlb_err *err)
{
	for (const char *p = c->tls_sni; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '/') {
			xlb_err_set(err, "tls_sni '%s' is no host name",
				    c->tls_sni);
			return -EINVAL;
		}
	}
	if (c->tls_verify > 1) {
		xlb_err_set(err, "tls_verify %u: expected 0 or 1",
			    c->tls_verify);
		return -EINVAL;
	}
	if (c->tls_ca[0] && c->tls_ca[0] != '/') {
		xlb_err_set(err, "tls_ca '%s' must be an absolute path",
			    c->tls_ca);
		return -EINVAL;
	}
	return 0;
}

/* What a check's kind needs beyond the fields every kind shares. */
static int validate_kind_needs(const struct xlb_check_cfg *c,
			       struct xlb_err *err)
{
	switch (c->kind) {
	case XLB_CHECK_HTTPS:
		if (validate_tls(c, err))
			return -EINVAL;
		/* The rest is an HTTP check's. */
		__attribute__((fallthrough));
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

int xlb_check_validate(const struct xlb_check_cfg *c, struct xlb_err *err)
{
	if (c->kind >= XLB_CHECK_KIND_MAX) {
		xlb_err_set(err,
			    "unknown check kind %u: expected none, tcp, http, "
			    "https, udp, exec or agent",
			    c->kind);
		return -EINVAL;
	}
	if (VALIDATE_STR(c, http_path, err) ||
	    VALIDATE_STR(c, http_body, err) || VALIDATE_STR(c, udp_send, err) ||
	    VALIDATE_STR(c, udp_expect, err) ||
	    VALIDATE_STR(c, exec_cmd, err) || VALIDATE_STR(c, tls_sni, err) ||
	    VALIDATE_STR(c, tls_ca, err))
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
	return validate_kind_needs(c, err);
}

int xlb_vip_check_validate(const struct xlb_vip_key *k,
			   const struct xlb_check_cfg *c, struct xlb_err *err)
{
	char vs[XLB_VIP_STRLEN];
	int ret = xlb_check_validate(c, err);

	if (ret)
		return ret;
	/* The kinds that open a socket to the port; exec only gets it. */
	if (!k->port && !c->port &&
	    (c->kind == XLB_CHECK_TCP || c->kind == XLB_CHECK_HTTP ||
	     c->kind == XLB_CHECK_UDP || c->kind == XLB_CHECK_HTTPS)) {
		xlb_err_set(err,
			    "VIP %s has no port: a %s check needs a port of "
			    "its own",
			    xlb_format_vip(k, vs, sizeof(vs)),
			    xlb_check_kind_name(c->kind));
		return -EINVAL;
	}
	return 0;
}

/*
 * The inputs of the weight policy: one agent check, in its own slot (a
 * health check of kind agent would be a check that never fails), and the
 * byte-share classes and window.
 */
static int validate_feedback(const struct xlb_vip_cfg *v, struct xlb_err *err)
{
	if (v->check.kind == XLB_CHECK_AGENT) {
		xlb_err_set(err, "check: an agent check goes in the VIP's "
				 "agent slot, beside its health check");
		return -EINVAL;
	}
	if (v->agent.kind != XLB_CHECK_NONE &&
	    v->agent.kind != XLB_CHECK_AGENT) {
		xlb_err_set(err, "agent: kind %s: expected agent or none",
			    xlb_check_kind_name(v->agent.kind));
		return -EINVAL;
	}
	if (xlb_check_validate(&v->agent, err)) {
		xlb_err_prefix(err, "agent");
		return -EINVAL;
	}
	if (v->balance & ~XLB_BALANCE_ALL) {
		xlb_err_set(err, "unknown balance 0x%x", v->balance);
		return -EINVAL;
	}
	if (v->balance_window_ms &&
	    (v->balance_window_ms < XLB_BALANCE_WINDOW_MS_MIN ||
	     v->balance_window_ms > XLB_BALANCE_WINDOW_MS_MAX)) {
		xlb_err_set(err,
			    "balance_window_ms %u out of range: 0 (%u) or "
			    "%u..%u",
			    v->balance_window_ms, XLB_BALANCE_WINDOW_MS_DEFAULT,
			    XLB_BALANCE_WINDOW_MS_MIN,
			    XLB_BALANCE_WINDOW_MS_MAX);
		return -EINVAL;
	}
	return 0;
}

/*
 * A VIP's mode alone: a nat VIP names a pool, a dsr VIP none (a name
 * that does nothing would mislead). Whether the pool is there and fits
 * is the whole model's rule (model_pool.c).
 */
static int validate_mode(const struct xlb_vip_cfg *v, struct xlb_err *err)
{
	if (v->mode != XLB_VIP_MODE_DSR && v->mode != XLB_VIP_MODE_NAT) {
		xlb_err_set(err, "unknown mode %u: expected dsr or nat",
			    v->mode);
		return -EINVAL;
	}
	if (validate_str("pool", v->pool, sizeof(v->pool), err))
		return -EINVAL;
	if (v->mode == XLB_VIP_MODE_NAT && !v->pool[0]) {
		xlb_err_set(err, "mode nat needs a pool (pool)");
		return -EINVAL;
	}
	if (v->mode == XLB_VIP_MODE_DSR && v->pool[0]) {
		xlb_err_set(err,
			    "pool %s is for mode nat: a dsr VIP takes no pool",
			    v->pool);
		return -EINVAL;
	}
	return 0;
}

/* Everything about a VIP but its backends and the uniqueness of its id. */
int xlb_vip_cfg_validate(const struct xlb_vip_cfg *v, struct xlb_err *err)
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
		xlb_err_prefix(err, "check");
		return -EINVAL;
	}
	if (validate_feedback(v, err))
		return -EINVAL;
	if (validate_mode(v, err))
		return -EINVAL;
	return validate_ring_size(v->ring_size, v->n_backends, err);
}

/* A backend's own check, with "backend ADDR: check: " on its message. */
int xlb_backend_own_check_validate(const struct xlb_vip_cfg *v,
				   const struct xlb_backend_cfg *b,
				   struct xlb_err *err)
{
	char as[XLB_ADDR_STRLEN], what[XLB_ADDR_STRLEN + 32];

	if (b->check && b->check->kind == XLB_CHECK_AGENT) {
		xlb_err_set(err, "an agent check is the VIP's (its agent "
				 "slot), asked of each backend");
		goto out_prefix;
	}
	if (!b->check || !xlb_vip_check_validate(&v->key, b->check, err))
		return 0;
out_prefix:
	snprintf(what, sizeof(what), "backend %s: check",
		 xlb_format_addr(&b->addr, b->family, as, sizeof(as)));
	xlb_err_prefix(err, what);
	return -EINVAL;
}

int xlb_backend_cfg_validate(const struct xlb_backend_cfg *b,
			     struct xlb_err *err)
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
static int validate_source(const char *name, const union xlb_addr *a,
			   __u8 family, __u8 plen, struct xlb_err *err)
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

static int validate_nat_ms(const char *name, __u32 ms, __u32 min, __u32 max,
			   struct xlb_err *err)
{
	if (ms >= min && ms <= max)
		return 0;
	xlb_err_set(err, "%s %u out of range %u..%u", name, ms, min, max);
	return -EINVAL;
}

/* Full-NAT's timeouts: an entry forgotten at once would break its flow. */
static int validate_nat_timeouts(const struct xlb_global_cfg *g,
				 struct xlb_err *err)
{
	if (validate_nat_ms("nat_tcp_timeout_ms", g->nat_tcp_timeout_ms,
			    XLB_NAT_TIMEOUT_MS_MIN, XLB_NAT_TIMEOUT_MS_MAX,
			    err) ||
	    validate_nat_ms("nat_tcp_closing_ms", g->nat_tcp_closing_ms,
			    XLB_NAT_TIMEOUT_MS_MIN, XLB_NAT_TIMEOUT_MS_MAX,
			    err) ||
	    validate_nat_ms("nat_udp_timeout_ms", g->nat_udp_timeout_ms,
			    XLB_NAT_TIMEOUT_MS_MIN, XLB_NAT_TIMEOUT_MS_MAX,
			    err) ||
	    validate_nat_ms("nat_linger_ms", g->nat_linger_ms, 0,
			    XLB_NAT_LINGER_MS_MAX, err))
		return -EINVAL;
	return 0;
}

int xlb_global_cfg_validate(const struct xlb_global_cfg *g, struct xlb_err *err)
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
	if (validate_source("source_v4", &g->src4, XLB_AF_INET, g->src4_plen,
			    err) ||
	    validate_source("source_v6", &g->src6, XLB_AF_INET6, g->src6_plen,
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
	return validate_nat_timeouts(g, err);
}

/* ---- whole-model validation -------------------------------------------- */

static bool bit_test_set(__u64 *bits, __u32 n)
{
	bool was = bits[n / 64] & (1ULL << (n % 64));

	bits[n / 64] |= 1ULL << (n % 64);
	return was;
}

static int validate_backends(const struct xlb_vip_cfg *v, __u64 *backend_ids,
			     struct xlb_err *err)
{
	char as[XLB_ADDR_STRLEN];
	int ret, cmp;

	for (size_t j = 0; j < v->n_backends; j++) {
		const struct xlb_backend_cfg *b = &v->backends[j];

		ret = xlb_backend_cfg_validate(b, err);
		if (!ret)
			ret = xlb_backend_own_check_validate(v, b, err);
		if (ret)
			return ret;
		cmp = j ? xlb_fam_addr_cmp(v->backends[j - 1].family,
					   &v->backends[j - 1].addr, b->family,
					   &b->addr)
			: -1;
		/* Formatted only for a message: 10 000 of them were most
		 * of a validation. */
		if (cmp >= 0 || (b->id && bit_test_set(backend_ids, b->id))) {
			xlb_format_addr(&b->addr, b->family, as, sizeof(as));
			if (!cmp)
				xlb_err_set(err, "backend %s listed twice", as);
			else if (cmp > 0)
				xlb_err_set(err, "backends out of order at %s",
					    as);
			else
				xlb_err_set(err,
					    "backend id %u of %s used twice",
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

	ret = xlb_global_cfg_validate(&m->global, err);
	if (ret)
		return ret;
	if (m->n_vips > XLB_MAX_VIPS - 1) {
		xlb_err_set(err, "too many VIPs (limit %u)", XLB_MAX_VIPS - 1);
		return -ENOSPC;
	}
	if (xlb_model_n_backends(m) > XLB_MAX_BACKENDS - 1) {
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

		ret = xlb_vip_cfg_validate(v, err);
		if (ret) {
			/* The key itself may be what is wrong. */
			if (family_ok(v->key.family))
				xlb_err_prefix(err, xlb_format_vip(&v->key, vs,
								   sizeof(vs)));
			goto out;
		}
		xlb_format_vip(&v->key, vs, sizeof(vs));
		if (i && xlb_vip_key_cmp(&m->vips[i - 1].key, &v->key) >= 0) {
			if (!xlb_vip_key_cmp(&m->vips[i - 1].key, &v->key))
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
		ret = validate_backends(v, backend_ids, err);
		if (ret) {
			xlb_err_prefix(err, vs);
			goto out;
		}
	}
	ret = xlb_model_pools_validate(m, err);
	if (!ret)
		ret = xlb_model_uplinks_validate(m, err);
out:
	free(backend_ids);
	return ret;
}
