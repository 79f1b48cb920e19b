/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Frame rewriting for the balancer: IP-in-IP and GUE encapsulation toward a
 * backend, echo replies in place, and ICMP "too big" errors built from the
 * offending packet, all sent from our MAC. Each builder takes the L2
 * header length (14, or 18 with a VLAN tag) and the outer sizes as
 * compile-time constants, so the verifier sees fixed offsets; callers
 * dispatch on the few combinations.
 */
#ifndef XLB_ENCAP_H
#define XLB_ENCAP_H

#include "parse.h"
#include "csum.h"
#include <xlb/types.h>

/* What an encapsulation needs to know about the packet. */
struct encap_info {
	__u32 ip_len;  /* inner IP packet length (from its header) */
	__u32 rss;     /* flow hash for the outer source and flow label */
	__u8 tos;      /* inner DSCP + ECN, copied to the outer header */
	__u8 inner_v6; /* inner packet is IPv6 */
};

/*
 * Our MAC, the source of every frame we send: config's, or NULL when it
 * is all zero (a config from before the field: the caller then uses the
 * incoming frame's destination, as xlb always did).
 */
static __always_inline const __u8 *cfg_src_mac(const struct xlb_config *cfg)
{
	const __u8 *m = cfg->src_mac;

	return (*(const __u32 *)m | *(const __u16 *)(m + 4)) ? m : NULL;
}

/*
 * Writes the L2 header of a frame whose start moved `moved` bytes toward
 * the head: the old header now sits at data + moved. dst: the next hop
 * (the gateway), or NULL to go back to the sender; src: our MAC, or NULL
 * for the old destination (cfg_src_mac()). The VLAN tag is kept; the
 * EtherType becomes `proto`. Old and new never overlap: moved is at least
 * 20, the L2 header at most 18 bytes.
 */
static __always_inline void write_l2(void *data, const __u32 l2,
				     const __u32 moved, const __u8 *dst,
				     const __u8 *src, __be16 proto)
{
	struct ethhdr *eth = data, *old = data + moved;

	__builtin_memcpy(eth->h_source, src ? src : old->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, dst ? dst : old->h_source, ETH_ALEN);
	if (l2 == sizeof(struct ethhdr) + sizeof(struct vlan_hdr)) {
		struct vlan_hdr *vh = (void *)(eth + 1);
		struct vlan_hdr *vo = (void *)(old + 1);

		eth->h_proto = old->h_proto;
		vh->h_vlan_TCI = vo->h_vlan_TCI;
		vh->h_vlan_encapsulated_proto = proto;
	} else {
		eth->h_proto = proto;
	}
}

/* The outer IPv4 source: the configured prefix, host bits from the hash. */
static __always_inline __be32 outer_src4(const struct xlb_config *cfg,
					 __u32 rss)
{
	__u32 plen = cfg->src4_plen;
	__u32 host = (plen == 0 || plen >= 32) ? 0 : 0xffffffffU >> plen;

	return cfg->src4 | bpf_htonl(rss & host);
}

/* The last word of the outer IPv6 source; only it takes hash bits. */
static __always_inline __be32 outer_src6_last(const struct xlb_config *cfg,
					      __u32 rss)
{
	__u32 plen = cfg->src6_plen, host;

	if (plen == 0 || plen >= 128)
		host = 0;
	else if (plen <= 96)
		host = 0xffffffffU;
	else
		host = 0xffffffffU >> (plen - 96);
	return cfg->src6[3] | bpf_htonl(rss & host);
}

/* Source port of GUE: in the ephemeral range, spread by the flow hash. */
static __always_inline __be16 gue_sport(__u32 rss)
{
	return bpf_htons(0xc000 | (rss & 0x3fff));
}

/*
 * The one builder of outer headers, for the balancer (in the frame) and
 * the health-check tunnel (in a buffer it then stores into the skb):
 * writes every field of the outer IPv4 or IPv6 header at hdr and, with
 * gue, of the UDP header after it. The caller made room for and
 * bounds-checked the outer length. src: the outer source as it is, or
 * NULL for the one derived from config's prefix and the flow hash.
 */
static __always_inline void
outer_write(void *hdr, const bool v6, const bool gue,
	    const struct encap_info *ei, const union xlb_addr *src,
	    const struct xlb_backend *be, const struct xlb_config *cfg)
{
	const __u32 ip_hlen =
		v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	const __u32 olen = ip_hlen + (gue ? sizeof(struct udphdr) : 0);
	__u8 inner_proto = ei->inner_v6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	struct udphdr *uh = hdr + ip_hlen;

	if (v6) {
		struct ipv6hdr *ip6h = hdr;

		/* Version, inner DSCP/ECN, flow label from the flow hash. */
		*(__be32 *)ip6h = bpf_htonl(0x60000000 | (ei->tos << 20) |
					    (ei->rss & 0xfffff));
		ip6h->payload_len = bpf_htons(olen - ip_hlen + ei->ip_len);
		ip6h->nexthdr = gue ? IPPROTO_UDP : inner_proto;
		ip6h->hop_limit = cfg->ttl;
		if (src) {
			__builtin_memcpy(&ip6h->saddr, src->bytes, 16);
		} else {
			__builtin_memcpy(&ip6h->saddr, cfg->src6, 12);
			ip6h->saddr.in6_u.u6_addr32[3] =
				outer_src6_last(cfg, ei->rss);
		}
		__builtin_memcpy(&ip6h->daddr, be->addr.v6, 16);
	} else {
		/*
		 * The header's five words are built and summed in registers,
		 * then stored: reading them back for the checksum stalled on
		 * store forwarding (a tenth of a flow hit in the profile).
		 * Each word is as a little-endian load would see it, which
		 * is all the ones' complement sum needs.
		 */
		__u32 w0 = 0x45 | (__u32)ei->tos << 8 |
			   (__u32)bpf_htons(olen + ei->ip_len) << 16;
		__u32 w1 = (__u32)bpf_htons(IP_DF) << 16; /* id 0 */
		__u8 proto = gue ? IPPROTO_UDP : inner_proto;
		__u32 w2 = cfg->ttl | (__u32)proto << 8;
		__u32 w3 = src ? src->v4 : outer_src4(cfg, ei->rss);
		__u32 w4 = be->addr.v4;
		__u32 *w = hdr;

		w2 |= (__u32)csum_fold((__u64)w0 + w1 + w2 + w3 + w4) << 16;
		w[0] = w0;
		w[1] = w1;
		w[2] = w2;
		w[3] = w3;
		w[4] = w4;
	}
	if (gue) {
		uh->source = gue_sport(ei->rss);
		uh->dest = cfg->gue_port;
		uh->len = bpf_htons(sizeof(*uh) + ei->ip_len);
		/* Zero: the inner packet carries its own checksums. */
		uh->check = 0;
	}
}

/*
 * Prepends the outer header(s) toward backend `be`. l2: 14 or 18; v6: the
 * outer header is IPv6; gue: a UDP header follows it. Bytes after the
 * inner IP packet (L2 padding) are cut first: the tunnel carries exactly
 * the IP packet. Returns 0, or -1 when the frame could not be resized
 * (the packet is then unusable: drop it).
 */
static __always_inline int encap(struct xdp_md *ctx, const __u32 l2,
				 const bool v6, const bool gue,
				 const struct encap_info *ei,
				 const struct xlb_backend *be,
				 const struct xlb_config *cfg)
{
	const __u32 olen =
		(v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) +
		(gue ? sizeof(struct udphdr) : 0);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;

	if (len > l2 + ei->ip_len &&
	    bpf_xdp_adjust_tail(ctx, (int)(l2 + ei->ip_len) - (int)len))
		return -1;
	if (bpf_xdp_adjust_head(ctx, -(int)olen))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + olen + l2 > data_end)
		return -1;

	/* L2 first: the old header lies where the outer IP header goes. */
	write_l2(data, l2, olen, cfg->gw_mac, cfg_src_mac(cfg),
		 v6 ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP));
	outer_write(data + l2, v6, gue, ei, NULL, be, cfg);
	return 0;
}

/* Sends a frame back where it came from, from our MAC (cfg_src_mac()). */
static __always_inline void reply_macs(struct ethhdr *eth,
				       const struct xlb_config *cfg)
{
	const __u8 *self = cfg_src_mac(cfg);
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, self ? self : eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
}

/*
 * Makes room for an ICMP error's headers (hlen bytes before the frame),
 * cuts the frame to len bytes (the quote ends there) and writes its
 * Ethernet header (and VLAN tag) back to the sender with ethertype proto.
 * Returns the frame, or NULL.
 */
static __always_inline void *icmp_make_room(struct xdp_md *ctx, __u32 l2,
					    __u32 hlen, __u32 len,
					    const struct xlb_config *cfg,
					    __be16 proto)
{
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, -(int)hlen))
		return NULL;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + len > data_end)
		return NULL;
	if (bpf_xdp_adjust_tail(ctx, (int)len - (int)(data_end - data)))
		return NULL;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + len > data_end)
		return NULL;
	write_l2(data, l2, hlen, NULL, cfg_src_mac(cfg), proto);
	return data;
}

/*
 * Turns the IPv4 packet (fixed header, at data + l2, at least
 * XLB_ICMP_QUOTE bytes long) into an ICMP "fragmentation needed" error back
 * to its sender from its destination, quoting its first XLB_ICMP_QUOTE
 * bytes. Returns 0 or -1.
 */
static __always_inline int icmp4_too_big(struct xdp_md *ctx, const __u32 l2,
					 __u16 mtu,
					 const struct xlb_config *cfg)
{
	const __u32 hlen = sizeof(struct iphdr) + sizeof(struct icmphdr);
	const __u32 len = l2 + hlen + XLB_ICMP_QUOTE;
	struct iphdr *iph, *orig;
	struct icmphdr *ich;
	__be32 client, vip;
	void *data;

	data = icmp_make_room(ctx, l2, hlen, len, cfg, bpf_htons(ETH_P_IP));
	if (!data)
		return -1;
	orig = data + l2 + hlen;
	client = orig->saddr;
	vip = orig->daddr;

	iph = data + l2;
	iph->version = 4;
	iph->ihl = 5;
	/* Precedence "internetwork control", as the kernel marks its errors. */
	iph->tos = 0xc0;
	iph->tot_len = bpf_htons(hlen + XLB_ICMP_QUOTE);
	iph->id = 0;
	iph->frag_off = 0;
	iph->ttl = cfg->ttl;
	iph->protocol = IPPROTO_ICMP;
	iph->check = 0;
	iph->saddr = vip;
	iph->daddr = client;
	iph->check = ipv4_csum(iph);

	ich = (void *)(iph + 1);
	ich->type = ICMP_DEST_UNREACH;
	ich->code = ICMP_FRAG_NEEDED;
	ich->checksum = 0;
	ich->un.frag.__unused = 0;
	ich->un.frag.mtu = bpf_htons(mtu);
	ich->checksum = csum_fold(bpf_csum_diff(
		NULL, 0, (void *)ich, sizeof(*ich) + XLB_ICMP_QUOTE, 0));
	return 0;
}

/* The IPv6 twin of icmp4_too_big: ICMPv6 "packet too big". */
static __always_inline int icmp6_too_big(struct xdp_md *ctx, const __u32 l2,
					 __u32 mtu,
					 const struct xlb_config *cfg)
{
	const __u32 hlen = sizeof(struct ipv6hdr) + sizeof(struct icmp6hdr);
	const __u32 len = l2 + hlen + XLB_ICMP_QUOTE;
	const __u32 icmp_len = sizeof(struct icmp6hdr) + XLB_ICMP_QUOTE;
	struct ipv6hdr *ip6h, *orig;
	struct icmp6hdr *ich;
	void *data;
	__u64 sum;

	data = icmp_make_room(ctx, l2, hlen, len, cfg, bpf_htons(ETH_P_IPV6));
	if (!data)
		return -1;
	orig = data + l2 + hlen;
	ip6h = data + l2;
	*(__be32 *)ip6h = bpf_htonl(0x60000000);
	ip6h->payload_len = bpf_htons(icmp_len);
	ip6h->nexthdr = IPPROTO_ICMPV6;
	ip6h->hop_limit = cfg->ttl;
	ip6h->saddr = orig->daddr;
	ip6h->daddr = orig->saddr;

	ich = (void *)(ip6h + 1);
	ich->icmp6_type = ICMPV6_PKT_TOOBIG;
	ich->icmp6_code = 0;
	ich->icmp6_cksum = 0;
	ich->icmp6_mtu = bpf_htonl(mtu);
	/* Pseudo-header: both addresses, upper-layer length, next header. */
	sum = bpf_csum_diff(NULL, 0, (void *)&ip6h->saddr, 32, 0);
	sum = bpf_csum_diff(NULL, 0, (void *)ich, icmp_len, sum);
	sum += bpf_htonl(icmp_len);
	sum += bpf_htonl(IPPROTO_ICMPV6);
	ich->icmp6_cksum = csum_fold(sum);
	return 0;
}

#endif /* XLB_ENCAP_H */
