// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The fuzz oracle (see oracle.h). Its parser reads the frame byte by byte
 * with explicit bounds; it shares nothing with bpf/. The rules it applies
 * are the ones balance.bpf.c documents in its opening comment.
 */
#include <string.h>
#include <bpf/bpf.h>
#include "oracle.h"
#include "../bpf/harness.h"

static __u16 g16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static bool is_vip_addr(struct tc *t, bool v6, const __u8 *a)
{
	for (int i = 0; i < t->nvips; i++) {
		const struct xlb_vip_key *k = &t->vkey[i];

		if (k->proto == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) &&
		    k->family == (v6 ? XLB_AF_INET6 : XLB_AF_INET) &&
		    !memcmp(k->addr.bytes, a, v6 ? 16 : 4))
			return true;
	}
	return false;
}

/* RFC 1122 3.2.2 / RFC 4443 2.4(e): does the address name one host? */
static bool unicast(bool v6, const __u8 *a)
{
	static const __u8 zero[16];

	if (!v6)
		return a[0] != 0 && a[0] != 127 && a[0] < 224;
	if (a[0] == 0xff || !memcmp(a, zero, 16))
		return false;
	return memcmp(a, zero, 15) || a[15] != 1;
}

/* One's complement sum check over an ICMP message (pseudo-header v6). */
static bool icmp_sum_ok(bool v6, const __u8 *ip, const __u8 *ic, __u32 n)
{
	__u32 sum = 0;

	if (v6) {
		sum = csum_add(sum, ip + 8, 32);
		sum += n >> 16;
		sum += n & 0xffff;
		sum += IPPROTO_ICMPV6;
	}
	return csum_fold16(csum_add(sum, ic, n)) == 0;
}

static void set_key(struct expect *e, bool v6, const __u8 *src, const __u8 *dst,
		    __u16 sport, __u16 dport, __u8 proto)
{
	memset(&e->key, 0, sizeof(e->key));
	e->key.family = v6 ? XLB_AF_INET6 : XLB_AF_INET;
	memcpy(e->key.src.bytes, src, v6 ? 16 : 4);
	memcpy(e->key.dst.bytes, dst, v6 ? 16 : 4);
	e->key.sport = htons(sport);
	e->key.dport = htons(dport);
	e->key.proto = proto;
}

/* The outer length toward the VIP's backends (one family per ring). */
static __u32 outer_len(struct tc *t, const struct xlb_vip *v)
{
	const struct ring_shadow *r = &t->ring[v->vip_id];
	__u8 kind = v->encap ? v->encap : t->cfg.encap;
	bool be6 = r->size && t->be[r->slot[0]].family == XLB_AF_INET6;

	return (be6 ? 40 : 20) + (kind == XLB_ENCAP_GUE ? 8 : 0);
}

static bool ring_has_up(struct tc *t, const struct xlb_vip *v)
{
	const struct ring_shadow *r = &t->ring[v->vip_id];

	for (__u32 i = 0; i < r->size; i++)
		if (t->be[r->slot[i]].state == XLB_BACKEND_UP)
			return true;
	return false;
}

/* A TCP/UDP packet (or an ICMP error about one) for VIP v. */
static void forward(struct tc *t, struct expect *e, const __u8 *ip, bool df,
		    bool icmp_err)
{
	struct xlb_flow f;
	__u32 olen;

	e->vip = vip_of(t, &e->key);
	if (!e->vip) {
		e->want = icmp_err ? W_DROP : W_PASS;
		e->why = icmp_err ? "icmp-err-no-vip" : "no-vip";
		return;
	}
	if (!(e->vip->flags & XLB_VIP_F_NO_FLOW_TABLE) &&
	    get_flow(t, &e->key, &f) &&
	    t->be[f.backend_id].state == XLB_BACKEND_DRAIN)
		e->drain_ok = f.backend_id;
	if (!ring_has_up(t, e->vip) && !e->drain_ok) {
		e->want = W_DROP;
		e->why = "no-backend";
		return;
	}
	olen = outer_len(t, e->vip);
	e->want = W_ENCAP;
	e->why = icmp_err ? "ptb-forward" : "forward";
	if (!t->cfg.mtu || e->ip_len + olen <= t->cfg.mtu)
		return;
	e->want = W_DROP;
	if (icmp_err)
		e->why = "ptb-over-mtu";
	else if ((!e->v6 && !df) || e->ip_len < XLB_ICMP_QUOTE)
		e->why = "too-big-no-icmp";
	else if (!unicast(e->v6, ip + (e->v6 ? 8 : 12)))
		e->why = "icmp-src";
	else
		e->want = W_TOOBIG, e->why = "too-big";
}

/* TCP or UDP header checks inside the IP packet; false: malformed. */
static const char *l4_bad(__u8 proto, const __u8 *l4, __u32 room,
			  __u32 frame_room)
{
	if (proto == IPPROTO_TCP) {
		if (room < 20 || frame_room < 20)
			return "tcp-short";
		if ((l4[12] >> 4) < 5)
			return "tcp-doff<5";
		if ((l4[12] >> 4) * 4u > room)
			return "tcp-doff";
		return NULL;
	}
	if (room < 8 || frame_room < 8)
		return "udp-short";
	if (g16(l4 + 4) < 8 || g16(l4 + 4) > room)
		return "udp-len";
	return NULL;
}

static void icmp(struct tc *t, struct expect *e, const __u8 *ip, __u32 hl,
		 __u32 avail)
{
	const __u8 *ic = ip + hl, *q;
	__u32 room = e->ip_len - hl, qhl;
	__u8 type, qproto;

	(void)avail;
	if (room < 8) {
		e->want = W_DROP, e->why = "icmp-trunc";
		return;
	}
	type = ic[0];
	if (type == (e->v6 ? 128 : 8)) {
		if (!unicast(e->v6, ip + (e->v6 ? 8 : 12)))
			e->want = W_DROP, e->why = "icmp-src";
		else if (!icmp_sum_ok(e->v6, ip, ic, room))
			e->want = W_DROP, e->why = "echo-csum";
		else
			e->want = W_ECHO, e->why = "echo";
		return;
	}
	if ((e->v6 && type == 2) || (!e->v6 && type == 3 && ic[1] == 4)) {
		q = ic + 8;
		qhl = e->v6 ? 40 : 20;
		e->want = W_DROP, e->why = "icmp-quote";
		if (room < 8 + qhl + 8)
			return;
		if (!e->v6 && (q[0] & 0xf) != 5)
			return;
		qproto = e->v6 ? q[6] : q[9];
		if (qproto != IPPROTO_TCP && qproto != IPPROTO_UDP)
			return;
		/* The quoted packet went VIP -> client: the flow is reversed.
		 */
		set_key(e, e->v6, q + (e->v6 ? 24 : 16), q + (e->v6 ? 8 : 12),
			g16(q + qhl + 2), g16(q + qhl), qproto);
		forward(t, e, ip, false, true);
		return;
	}
	if (e->v6 && type >= 133 && type <= 137)
		e->want = W_PASS, e->why = "nd";
	else
		e->want = W_DROP, e->why = "icmp-other";
}

void oracle_expect(struct tc *t, const __u8 *d, __u32 len, struct expect *e)
{
	__u32 l2 = 14, avail, hl;
	const __u8 *ip;
	__u16 et;
	__u8 proto;
	const char *bad;

	memset(e, 0, sizeof(*e));
	e->want = W_PASS;
	e->why = "not-ip";
	if (len < 14)
		return;
	et = g16(d + 12);
	if (et == 0x8100 || et == 0x88a8) {
		if (len < 18)
			return;
		et = g16(d + 16);
		if (et == 0x8100 || et == 0x88a8)
			return;
		l2 = 18;
	}
	e->l2 = l2;
	ip = d + l2;
	avail = len - l2;
	if (et == 0x0800) {
		if (avail < 20)
			return;
		e->why = "non-vip";
		if (!is_vip_addr(t, false, ip + 16))
			return;
		e->want = W_DROP;
		e->ip_len = g16(ip + 2);
		hl = (ip[0] & 0xf) * 4u;
		if ((ip[0] >> 4) != 4)
			e->why = "ip-version";
		else if (hl < 20 || e->ip_len < hl || e->ip_len > avail)
			e->why = "ip-len";
		else if (g16(ip + 6) & 0x3fff)
			e->why = "fragment";
		else if (hl != 20)
			e->why = "ip-options";
		else
			e->why = NULL;
		if (e->why)
			return;
		proto = ip[9];
	} else if (et == 0x86dd) {
		if (avail < 40)
			return;
		e->why = "non-vip";
		e->v6 = true;
		if (!is_vip_addr(t, true, ip + 24))
			return;
		e->want = W_DROP;
		e->ip_len = g16(ip + 4) + 40u;
		hl = 40;
		proto = ip[6];
		if ((ip[0] >> 4) != 6) {
			e->why = "ip-version";
			return;
		}
		if (e->ip_len > avail) {
			e->why = "ip-len";
			return;
		}
		if (proto == 44) {
			e->why = "fragment";
			return;
		}
		if (proto == 0 || proto == 43 || proto == 60 || proto == 51 ||
		    proto == 135 || proto == 139 || proto == 140) {
			e->why = "ipv6-ext";
			return;
		}
	} else {
		return;
	}

	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		bad = l4_bad(proto, ip + hl, e->ip_len - hl, avail - hl);
		if (bad) {
			e->want = W_DROP, e->why = bad;
			return;
		}
		set_key(e, e->v6, ip + (e->v6 ? 8 : 12), ip + (e->v6 ? 24 : 16),
			g16(ip + hl), g16(ip + hl + 2), proto);
		forward(t, e, ip, e->v6 || (g16(ip + 6) & 0x4000), false);
		return;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (proto == (e->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
			icmp(t, e, ip, hl, avail);
			return;
		}
	}
	e->want = W_PASS;
	e->why = "other-proto";
}

/* ---- judging TX frames ---- */

static bool in_prefix(const __u8 *a, const __u8 *p, __u32 plen)
{
	for (__u32 i = 0; i < plen; i++) {
		__u8 m = 0x80 >> (i % 8);

		if ((a[i / 8] & m) != (p[i / 8] & m))
			return false;
	}
	return true;
}

/* Is backend address a a serving backend of e->vip for this flow? */
static bool serving(struct tc *t, const struct expect *e, bool v6,
		    const __u8 *a)
{
	const struct ring_shadow *r = &t->ring[e->vip->vip_id];

	for (__u32 i = 0; i < r->size; i++) {
		const struct xlb_backend *b = &t->be[r->slot[i]];

		if (b->family != (v6 ? XLB_AF_INET6 : XLB_AF_INET) ||
		    memcmp(b->addr.bytes, a, v6 ? 16 : 4))
			continue;
		if (b->state == XLB_BACKEND_UP ||
		    (b->state == XLB_BACKEND_DRAIN &&
		     r->slot[i] == e->drain_ok))
			return true;
	}
	return false;
}

static const char *l2_reply(struct tc *t, const struct expect *e,
			    const __u8 *in, const __u8 *out, const __u8 *dst)
{
	if (memcmp(out, dst, 6))
		return "dst-mac";
	if (memcmp(out + 6, t->cfg.src_mac, 6))
		return "src-mac";
	if (e->l2 == 18 && memcmp(out + 12, in + 12, 4))
		return "vlan-tag";
	return NULL;
}

static const char *judge_encap(struct tc *t, const struct expect *e,
			       const __u8 *in, const __u8 *out, __u32 out_len)
{
	__u8 kind = e->vip->encap ? e->vip->encap : t->cfg.encap;
	bool gue = kind == XLB_ENCAP_GUE, v6;
	const __u8 *o = out + e->l2, *uh;
	__u32 olen, tos;
	const char *why;

	if (out_len < e->l2 + 20)
		return "encap-short";
	v6 = (o[0] >> 4) == 6;
	olen = (v6 ? 40 : 20) + (gue ? 8 : 0);
	if (out_len != e->l2 + olen + e->ip_len)
		return out_len > e->l2 + olen + e->ip_len ? "encap-trailer"
							  : "encap-length";
	why = l2_reply(t, e, in, out, t->cfg.gw_mac);
	if (why)
		return why;
	if (g16(out + e->l2 - 2) != (v6 ? 0x86dd : 0x0800))
		return "encap-ethertype";
	tos = e->v6 ? (__u8)((in[e->l2] << 4) | (in[e->l2 + 1] >> 4))
		    : in[e->l2 + 1];
	if (v6) {
		if ((__u8)((o[0] << 4) | (o[1] >> 4)) != tos ||
		    g16(o + 4) != olen - 40 + e->ip_len ||
		    o[6] != (gue     ? 17
			     : e->v6 ? 41
				     : 4) ||
		    o[7] != t->cfg.ttl)
			return "encap-ip6-header";
		if (!in_prefix(o + 8, (const __u8 *)t->cfg.src6,
			       t->cfg.src6_plen))
			return "encap-src";
		if (!serving(t, e, true, o + 24))
			return "encap-backend";
	} else {
		if (o[0] != 0x45 || o[1] != tos ||
		    g16(o + 2) != olen + e->ip_len || g16(o + 6) != 0x4000 ||
		    o[8] != t->cfg.ttl ||
		    o[9] != (gue     ? 17
			     : e->v6 ? 41
				     : 4))
			return "encap-ip4-header";
		if (csum_fold16(csum_add(0, o, 20)))
			return "encap-ip4-csum";
		if (!in_prefix(o + 12, (const __u8 *)&t->cfg.src4,
			       t->cfg.src4_plen))
			return "encap-src";
		if (!serving(t, e, false, o + 16))
			return "encap-backend";
	}
	if (gue) {
		uh = o + (v6 ? 40 : 20);
		if (g16(uh) < 0xc000 || memcmp(uh + 2, &t->cfg.gue_port, 2) ||
		    g16(uh + 4) != 8 + e->ip_len || g16(uh + 6))
			return "encap-gue-header";
	}
	if (memcmp(o + olen, in + e->l2, e->ip_len))
		return "encap-inner";
	return NULL;
}

static const char *judge_echo(struct tc *t, const struct expect *e,
			      const __u8 *in, __u32 in_len, const __u8 *out,
			      __u32 out_len)
{
	const __u8 *i = in + e->l2, *o = out + e->l2;
	__u32 hl = e->v6 ? 40 : 20, al = e->v6 ? 16 : 4;
	__u32 sa = e->v6 ? 8 : 12, da = sa + al;
	const char *why;

	if (out_len != in_len)
		return "echo-length";
	why = l2_reply(t, e, in, out, in + 6);
	if (why)
		return why;
	if (memcmp(o + sa, i + da, al) || memcmp(o + da, i + sa, al))
		return "echo-addrs";
	if (o[e->v6 ? 7 : 8] != t->cfg.ttl)
		return "echo-ttl";
	if (!e->v6 && csum_fold16(csum_add(0, o, 20)))
		return "echo-ip-csum";
	if (o[hl] != (e->v6 ? 129 : 0) || o[hl + 1] != i[hl + 1] ||
	    memcmp(o + hl + 4, i + hl + 4, e->ip_len - hl - 4))
		return "echo-message";
	if (!icmp_sum_ok(e->v6, o, o + hl, e->ip_len - hl))
		return "echo-csum-out";
	if (memcmp(out + e->l2 + e->ip_len, in + e->l2 + e->ip_len,
		   in_len - e->l2 - e->ip_len))
		return "echo-padding";
	return NULL;
}

static const char *judge_too_big(struct tc *t, const struct expect *e,
				 const __u8 *in, const __u8 *out, __u32 out_len)
{
	const __u8 *i = in + e->l2, *o = out + e->l2;
	__u32 hl = e->v6 ? 40 : 20, al = e->v6 ? 16 : 4;
	__u32 sa = e->v6 ? 8 : 12, da = sa + al, n = 8 + XLB_ICMP_QUOTE;
	__u32 mtu = t->cfg.mtu - outer_len(t, e->vip);
	const char *why;

	if (out_len != e->l2 + hl + n)
		return "too-big-length";
	why = l2_reply(t, e, in, out, in + 6);
	if (why)
		return why;
	if (memcmp(o + sa, i + da, al) || memcmp(o + da, i + sa, al))
		return "too-big-addrs";
	if (e->v6) {
		if ((o[0] >> 4) != 6 || g16(o + 4) != n || o[6] != 58 ||
		    o[hl] != 2 || o[hl + 1] || g16(o + hl + 4) ||
		    g16(o + hl + 6) != mtu)
			return "too-big-header";
	} else {
		if (o[0] != 0x45 || g16(o + 2) != hl + n || o[9] != 1 ||
		    csum_fold16(csum_add(0, o, 20)) || o[hl] != 3 ||
		    o[hl + 1] != 4 || g16(o + hl + 6) != mtu)
			return "too-big-header";
	}
	if (!icmp_sum_ok(e->v6, o, o + hl, n))
		return "too-big-csum";
	if (memcmp(o + hl + 8, i, XLB_ICMP_QUOTE))
		return "too-big-quote";
	return NULL;
}

const char *oracle_judge(struct tc *t, const struct expect *e, const __u8 *in,
			 __u32 in_len, __u32 action, const __u8 *out,
			 __u32 out_len)
{
	switch (e->want) {
	case W_PASS:
		if (action != XDP_PASS)
			return "want-pass";
		if (out_len != in_len || memcmp(in, out, in_len))
			return "pass-changed";
		return NULL;
	case W_DROP:
		return action == XDP_DROP ? NULL : "want-drop";
	case W_ENCAP:
		if (action != XDP_TX)
			return "want-encap";
		return judge_encap(t, e, in, out, out_len);
	case W_ECHO:
		if (action != XDP_TX)
			return "want-echo";
		return judge_echo(t, e, in, in_len, out, out_len);
	case W_TOOBIG:
		if (action != XDP_TX)
			return "want-too-big";
		return judge_too_big(t, e, in, out, out_len);
	}
	return "oracle-bug";
}
