// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Frames for the golden tests: a builder of Ethernet (+ tags) / IPv4 or
 * IPv6 / TCP, UDP, ICMP, ICMPv6 packets with valid checksums, and the
 * builders of the frames the programs must produce (encapsulation, echo
 * reply, ICMP too big, decapsulation). These restate the data-path rules
 * on the test side from the written spec; they share no code with bpf/.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "golden.h"

const __u8 MAC_PEER[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const __u8 MAC_SELF[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const __u8 MAC_GW[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
const __u8 MAC_IF[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};

int addr_parse(const char *s, union xlb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1)
		return XLB_AF_INET;
	if (inet_pton(AF_INET6, s, a->bytes) == 1)
		return XLB_AF_INET6;
	fprintf(stderr, "golden: bad address %s\n", s);
	abort();
}

union xlb_addr A(const char *s) {
	union xlb_addr a;

	addr_parse(s, &a);
	return a;
}

__u32 csum_add(__u32 sum, const void *p, size_t len)
{
	const __u8 *b = p;
	size_t i;

	/* Big-endian 16-bit words, odd byte padded with zero (RFC 1071). */
	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (__u32)b[len - 1] << 8;
	return sum;
}

__u16 csum_fold16(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/* Pseudo-header sum: both addresses, upper-layer length and protocol. */
static __u32 pseudo_sum(bool v6, const union xlb_addr *s,
			const union xlb_addr *d, __u32 len, __u8 proto)
{
	__u32 sum = 0;

	sum = csum_add(sum, s->bytes, v6 ? 16 : 4);
	sum = csum_add(sum, d->bytes, v6 ? 16 : 4);
	sum += len >> 16;
	sum += len & 0xffff;
	sum += proto;
	return sum;
}

/* Checksum field offset inside an L4 header, or -1. */
static int csum_off(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 16;
	case IPPROTO_UDP:
		return 6;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 2;
	}
	return -1;
}

static void l4_csum(__u8 *l4, __u32 len, __u8 proto, bool v6,
		    const union xlb_addr *s, const union xlb_addr *d)
{
	int off = csum_off(proto);
	__u32 sum = 0;
	__u16 c;

	if (off < 0 || len < (__u32)off + 2)
		return;
	put16(l4 + off, 0);
	if (proto != IPPROTO_ICMP)
		sum = pseudo_sum(v6, s, d, len, proto);
	c = csum_fold16(csum_add(sum, l4, len));
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	put16(l4 + off, c);
}

/* Bytes that are easy to tell apart in a hex dump. */
static void fill(__u8 *p, __u32 n, __u8 seed)
{
	for (__u32 i = 0; i < n; i++)
		p[i] = (__u8)(seed + i * 7);
}

static __u32 build_l4(__u8 *l4, const struct pkt *p, __u8 proto)
{
	__u32 n = 0;

	if (p->l4) {
		memcpy(l4, p->l4, p->l4_len);
		return p->l4_len;
	}
	switch (proto) {
	case IPPROTO_TCP:
		put16(l4, p->sport ? p->sport : 40000);
		put16(l4 + 2, p->dport ? p->dport : 80);
		put32(l4 + 4, 0x11223344);
		put32(l4 + 8,
		      (p->flags ? p->flags : F_ACK) & F_ACK ? 0x55667788 : 0);
		l4[12] = (p->doff ? p->doff : 5) << 4;
		l4[13] = p->flags ? p->flags : F_ACK;
		put16(l4 + 14, 65535);
		put16(l4 + 16, 0);
		put16(l4 + 18, 0);
		n = 20;
		break;
	case IPPROTO_UDP:
		put16(l4, p->sport ? p->sport : 40000);
		put16(l4 + 2, p->dport ? p->dport : 80);
		put16(l4 + 4, 8 + p->payload);
		put16(l4 + 6, 0);
		n = 8;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4[0] = p->icmp_type;
		l4[1] = p->icmp_code;
		put16(l4 + 2, 0);
		put16(l4 + 4, 0x4242); /* echo id */
		put16(l4 + 6, 7);      /* echo sequence */
		n = 8;
		break;
	default:
		break;
	}
	fill(l4 + n, p->payload, 0x30);
	return n + p->payload;
}

void build(struct frame *f, const struct pkt *p)
{
	union xlb_addr src, dst;
	__u8 *d, *ip, *l4;
	__u8 proto = p->proto ? p->proto : IPPROTO_TCP;
	__u32 off, l4len, hlen;
	bool v6;

	memset(f, 0, sizeof(*f));
	d = f->d;
	memcpy(d, MAC_SELF, 6);
	memcpy(d + 6, MAC_PEER, 6);
	off = 12;
	if (p->vlan) {
		put16(d + off, p->tpid ? p->tpid : 0x8100);
		put16(d + off + 2, p->tci);
		off += 4;
		if (p->qinq) {
			put16(d + off, 0x8100);
			put16(d + off + 2, p->tci + 1);
			off += 4;
		}
	}
	if (p->ethertype) {
		/* Not IP: an ARP request shape, 28 bytes. */
		put16(d + off, p->ethertype);
		off += 2;
		f->l2 = off;
		put16(d + off, 1);
		put16(d + off + 2, 0x0800);
		d[off + 4] = 6;
		d[off + 5] = 4;
		put16(d + off + 6, 1);
		memcpy(d + off + 8, MAC_PEER, 6);
		fill(d + off + 14, 14, 0xa0);
		f->len = off + 28 + p->trailer;
		goto out;
	}
	v6 = addr_parse(p->src, &src) == XLB_AF_INET6;
	if ((addr_parse(p->dst, &dst) == XLB_AF_INET6) != v6)
		abort();
	put16(d + off, v6 ? 0x86dd : 0x0800);
	off += 2;
	f->l2 = off;
	ip = d + off;

	if (!v6) {
		hlen = 20 + p->opt_words * 4;
		l4 = ip + hlen;
		l4len = build_l4(l4, p, proto);
		l4_csum(l4, l4len, proto, false, &src, &dst);
		if (p->l4_cut)
			l4len = p->l4_cut;
		ip[0] = 0x40 | (p->ihl ? p->ihl : hlen / 4);
		ip[1] = p->tos;
		put16(ip + 2, hlen + l4len + p->len_delta);
		put16(ip + 4, 0x1234);
		put16(ip + 6, p->frag_off);
		ip[8] = p->ttl ? p->ttl : 64;
		ip[9] = proto;
		memcpy(ip + 12, &src.v4, 4);
		memcpy(ip + 16, &dst.v4, 4);
		/* Options: NOPs closed by an end-of-list. */
		memset(ip + 20, 1, hlen - 20);
		if (hlen > 20)
			ip[hlen - 1] = 0;
		put16(ip + 10, csum_fold16(csum_add(0, ip, hlen)));
	} else {
		__u32 ext = p->ext ? 8 : 0;

		hlen = 40;
		l4 = ip + 40 + ext;
		l4len = build_l4(l4, p, proto);
		l4_csum(l4, l4len, proto, true, &src, &dst);
		if (p->l4_cut)
			l4len = p->l4_cut;
		put32(ip, 0x60000000 | (__u32)p->tos << 20 | 0x12345);
		put16(ip + 4, ext + l4len + p->len_delta);
		ip[6] = p->ext ? p->ext_type : proto;
		ip[7] = p->ttl ? p->ttl : 64;
		memcpy(ip + 8, src.bytes, 16);
		memcpy(ip + 24, dst.bytes, 16);
		if (p->ext) {
			/* Hop-by-hop/dest-opts: PadN; fragment: offset 0, M. */
			ip[40] = proto;
			ip[41] = 0;
			if (p->ext_type == 44) {
				put16(ip + 42, 1);
				put32(ip + 44, 0xabcd);
			} else {
				ip[42] = 1;
				ip[43] = 4;
			}
		}
		hlen += ext;
	}
	f->len = off + hlen + l4len;
	fill(d + f->len, p->trailer, 0xe0);
	f->len += p->trailer;
out:
	if (p->cut)
		f->len = p->cut;
}

bool frame_is_v6(const struct frame *f)
{
	return (f->d[f->l2] >> 4) == 6;
}

__u32 frame_ip_len(const struct frame *f)
{
	const __u8 *ip = f->d + f->l2;

	return frame_is_v6(f) ? get16(ip + 4) + 40u : get16(ip + 2);
}

__u8 frame_tos(const struct frame *f)
{
	const __u8 *ip = f->d + f->l2;

	if (frame_is_v6(f))
		return (__u8)((ip[0] << 4) | (ip[1] >> 4));
	return ip[1];
}

void wrap(struct frame *out, const struct frame *in, const struct outer *o)
{
	__u32 ip_len = in->len - in->l2, l2 = in->l2;
	__u32 inner_len = o->len_of_frame ? ip_len : frame_ip_len(in);
	bool inner_v6 = frame_is_v6(in);
	__u32 olen = (o->v6 ? 40 : 20) + (o->gue ? 8 : 0);
	__u8 *ip, proto;

	memset(out, 0, sizeof(*out));
	memcpy(out->d, in->d, l2);
	if (o->mac_dst)
		memcpy(out->d, o->mac_dst, 6);
	if (o->mac_src)
		memcpy(out->d + 6, o->mac_src, 6);
	/* The (innermost) EtherType: the tag's when tagged. */
	put16(out->d + l2 - 2, o->v6 ? 0x86dd : 0x0800);
	out->l2 = l2;
	ip = out->d + l2;
	proto = o->proto   ? o->proto
		: o->gue   ? IPPROTO_UDP
		: inner_v6 ? IPPROTO_IPV6
			   : IPPROTO_IPIP;
	if (!o->v6) {
		ip[0] = 0x45;
		ip[1] = o->tos;
		put16(ip + 2, inner_len + olen);
		put16(ip + 4, 0);
		put16(ip + 6, o->frag_off ? o->frag_off : 0x4000);
		ip[8] = o->ttl;
		ip[9] = proto;
		memcpy(ip + 12, &o->src.v4, 4);
		memcpy(ip + 16, &o->dst.v4, 4);
		put16(ip + 10, csum_fold16(csum_add(0, ip, 20)));
	} else {
		put32(ip, 0x60000000 | (__u32)o->tos << 20 |
				  (o->flow_label & 0xfffff));
		put16(ip + 4, inner_len + olen - 40);
		ip[6] = proto;
		ip[7] = o->ttl;
		memcpy(ip + 8, o->src.bytes, 16);
		memcpy(ip + 24, o->dst.bytes, 16);
	}
	if (o->gue) {
		__u8 *uh = ip + (o->v6 ? 40 : 20);

		memcpy(uh, &o->gue_sport, 2);
		memcpy(uh + 2, &o->gue_dport, 2);
		put16(uh + 4, 8 + inner_len);
		put16(uh + 6, 0);
	}
	/* Exactly the inner IP packet: bytes after it are not carried. */
	if (!o->len_of_frame && inner_len < ip_len)
		ip_len = inner_len;
	memcpy(ip + olen, in->d + l2, ip_len);
	out->len = l2 + olen + ip_len;
}

__be32 outer_src4(const struct xlb_config *c, __u32 rss)
{
	__u32 mask = 0;

	if (c->src4_plen > 0 && c->src4_plen < 32)
		mask = 0xffffffffu >> c->src4_plen;
	return c->src4 | htonl(rss & mask);
}

union xlb_addr outer_src6(const struct xlb_config *c, __u32 rss)
{
	union xlb_addr a;
	__u32 mask = 0;

	memcpy(a.v6, c->src6, 16);
	if (c->src6_plen > 0 && c->src6_plen < 128)
		mask = c->src6_plen <= 96 ? 0xffffffffu
					  : 0xffffffffu >> (c->src6_plen - 96);
	a.v6[3] = c->src6[3] | htonl(rss & mask);
	return a;
}

bool mac_is_zero(const __u8 *m)
{
	static const __u8 zero[6];

	return !memcmp(m, zero, 6);
}

/* Our MAC: config's, or (none configured) the input's destination. */
const __u8 *src_mac(const struct xlb_config *c, const struct frame *in)
{
	return mac_is_zero(c->src_mac) ? in->d : c->src_mac;
}

void expect_encap(struct frame *out, const struct frame *in,
		  const struct xlb_config *c, const struct xlb_backend *be,
		  bool gue, __u32 rss)
{
	struct outer o = {
		.v6 = be->family == XLB_AF_INET6,
		.dst = be->addr,
		.ttl = c->ttl,
		.tos = frame_tos(in),
		.flow_label = rss & 0xfffff,
		.gue = gue,
		.gue_sport = htons(0xc000 | (rss & 0x3fff)),
		.gue_dport = c->gue_port,
		.mac_dst = c->gw_mac,
		.mac_src = src_mac(c, in),
	};

	if (o.v6) {
		o.src = outer_src6(c, rss);
	} else {
		memset(&o.src, 0, sizeof(o.src));
		o.src.v4 = outer_src4(c, rss);
	}
	wrap(out, in, &o);
}

/* Back to the sender: its MAC the destination, ours the source. */
static void reply_macs(__u8 *d, const struct xlb_config *c)
{
	__u8 self[6];

	memcpy(self, mac_is_zero(c->src_mac) ? d : c->src_mac, 6);
	memcpy(d, d + 6, 6);
	memcpy(d + 6, self, 6);
}

void expect_echo(struct frame *out, const struct frame *in,
		 const struct xlb_config *c)
{
	__u8 *ip, *ic, t[16], ttl = c->ttl;
	__u32 ip_len = frame_ip_len(in), hl;

	*out = *in;
	reply_macs(out->d, c);
	ip = out->d + out->l2;
	if (!frame_is_v6(in)) {
		hl = (ip[0] & 0xf) * 4;
		memcpy(t, ip + 12, 4);
		memcpy(ip + 12, ip + 16, 4);
		memcpy(ip + 16, t, 4);
		ip[8] = ttl;
		put16(ip + 10, 0);
		put16(ip + 10, csum_fold16(csum_add(0, ip, hl)));
		ic = ip + hl;
		ic[0] = 0;
		put16(ic + 2, 0);
		put16(ic + 2, csum_fold16(csum_add(0, ic, ip_len - hl)));
	} else {
		union xlb_addr s, d;

		memcpy(t, ip + 8, 16);
		memcpy(ip + 8, ip + 24, 16);
		memcpy(ip + 24, t, 16);
		ip[7] = ttl;
		ic = ip + 40;
		ic[0] = 129;
		memcpy(s.bytes, ip + 8, 16);
		memcpy(d.bytes, ip + 24, 16);
		l4_csum(ic, ip_len - 40, IPPROTO_ICMPV6, true, &s, &d);
	}
}

void expect_too_big(struct frame *out, const struct frame *in,
		    const struct xlb_config *c, __u32 mtu)
{
	const __u8 *oip = in->d + in->l2;
	__u32 l2 = in->l2;
	__u8 *ip, *ic, ttl = c->ttl;

	memset(out, 0, sizeof(*out));
	memcpy(out->d, in->d, l2);
	reply_macs(out->d, c);
	out->l2 = l2;
	ip = out->d + l2;
	if (!frame_is_v6(in)) {
		put16(out->d + l2 - 2, 0x0800);
		ip[0] = 0x45;
		ip[1] = 0xc0;
		put16(ip + 2, 20 + 8 + XLB_ICMP_QUOTE);
		ip[8] = ttl;
		ip[9] = IPPROTO_ICMP;
		memcpy(ip + 12, oip + 16, 4);
		memcpy(ip + 16, oip + 12, 4);
		put16(ip + 10, csum_fold16(csum_add(0, ip, 20)));
		ic = ip + 20;
		ic[0] = 3;
		ic[1] = 4;
		put16(ic + 6, mtu);
		memcpy(ic + 8, oip, XLB_ICMP_QUOTE);
		put16(ic + 2, csum_fold16(csum_add(0, ic, 8 + XLB_ICMP_QUOTE)));
		out->len = l2 + 20 + 8 + XLB_ICMP_QUOTE;
	} else {
		union xlb_addr s, d;

		put16(out->d + l2 - 2, 0x86dd);
		put32(ip, 0x60000000);
		put16(ip + 4, 8 + XLB_ICMP_QUOTE);
		ip[6] = IPPROTO_ICMPV6;
		ip[7] = ttl;
		memcpy(ip + 8, oip + 24, 16);
		memcpy(ip + 24, oip + 8, 16);
		ic = ip + 40;
		ic[0] = 2;
		put32(ic + 4, mtu);
		memcpy(ic + 8, oip, XLB_ICMP_QUOTE);
		memcpy(s.bytes, ip + 8, 16);
		memcpy(d.bytes, ip + 24, 16);
		l4_csum(ic, 8 + XLB_ICMP_QUOTE, IPPROTO_ICMPV6, true, &s, &d);
		out->len = l2 + 40 + 8 + XLB_ICMP_QUOTE;
	}
}

void expect_decap(struct frame *out, const struct frame *in, __u32 outer_len)
{
	__u32 l2 = in->l2;
	const __u8 *inner = in->d + l2 + outer_len;

	memset(out, 0, sizeof(*out));
	memcpy(out->d, in->d, l2);
	put16(out->d + l2 - 2, (inner[0] >> 4) == 6 ? 0x86dd : 0x0800);
	memcpy(out->d + l2, inner, in->len - l2 - outer_len);
	out->l2 = l2;
	out->len = in->len - outer_len;
}

void hexdump(const char *title, const __u8 *d, __u32 len)
{
	printf("    %s (%u bytes):\n", title, len);
	for (__u32 i = 0; i < len; i += 16) {
		printf("    %04x:", i);
		for (__u32 j = i; j < i + 16 && j < len; j++)
			printf(" %02x", d[j]);
		printf("\n");
	}
}
