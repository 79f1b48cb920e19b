/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Header parsers shared by the XDP programs. They follow xdp-tools'
 * parsing_helpers.h: one cursor walks the frame; each parser checks bounds,
 * advances the cursor past its header, hands back a pointer to it and
 * returns the next protocol, or -1 when the header is cut short (the caller
 * decides what a short header means for its packet).
 */
#ifndef XLB_PARSE_H
#define XLB_PARSE_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct hdr_cursor {
	void *pos;
};

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

#define IP_MF	  0x2000
#define IP_DF	  0x4000
#define IP_OFFSET 0x1fff

static __always_inline int proto_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) ||
	       proto == bpf_htons(ETH_P_8021AD);
}

/*
 * Ethernet with at most one VLAN tag. Returns the network-order EtherType
 * of what follows, or -1 when cut short or tagged twice (QinQ is not ours
 * to unwrap: such frames go to the kernel).
 */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end,
					struct ethhdr **ethhdr)
{
	struct ethhdr *eth = nh->pos;
	struct vlan_hdr *vlh;
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	*ethhdr = eth;
	nh->pos = eth + 1;
	proto = eth->h_proto;
	if (proto_is_vlan(proto)) {
		vlh = nh->pos;
		if ((void *)(vlh + 1) > data_end)
			return -1;
		proto = vlh->h_vlan_encapsulated_proto;
		if (proto_is_vlan(proto))
			return -1;
		nh->pos = vlh + 1;
	}
	return proto;
}

/*
 * The fixed 20 bytes of an IPv4 header; options, if any, are for the
 * caller to judge (ihl is not trusted here). Returns the protocol.
 */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end,
				       struct iphdr **iphdr)
{
	struct iphdr *iph = nh->pos;

	if ((void *)(iph + 1) > data_end)
		return -1;
	*iphdr = iph;
	nh->pos = iph + 1;
	return iph->protocol;
}

/* The fixed 40-byte IPv6 header. Returns the next header. */
static __always_inline int parse_ip6hdr(struct hdr_cursor *nh, void *data_end,
					struct ipv6hdr **ip6hdr)
{
	struct ipv6hdr *ip6h = nh->pos;

	if ((void *)(ip6h + 1) > data_end)
		return -1;
	*ip6hdr = ip6h;
	nh->pos = ip6h + 1;
	return ip6h->nexthdr;
}

/* A TCP header without options (20 bytes). Returns 0. */
static __always_inline int parse_tcphdr(struct hdr_cursor *nh, void *data_end,
					struct tcphdr **tcphdr)
{
	struct tcphdr *th = nh->pos;

	if ((void *)(th + 1) > data_end)
		return -1;
	*tcphdr = th;
	nh->pos = th + 1;
	return 0;
}

/* A UDP header. Returns 0. */
static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end,
					struct udphdr **udphdr)
{
	struct udphdr *uh = nh->pos;

	if ((void *)(uh + 1) > data_end)
		return -1;
	*udphdr = uh;
	nh->pos = uh + 1;
	return 0;
}

/* The 8-byte ICMP or ICMPv6 header. Returns its type. */
static __always_inline int parse_icmphdr(struct hdr_cursor *nh, void *data_end,
					 struct icmphdr **icmphdr)
{
	struct icmphdr *ich = nh->pos;

	if ((void *)(ich + 1) > data_end)
		return -1;
	*icmphdr = ich;
	nh->pos = ich + 1;
	return ich->type;
}

/* DSCP and ECN of an IPv6 header, as an IPv4 TOS byte. */
static __always_inline __u8 ipv6_tclass(const struct ipv6hdr *ip6h)
{
	return (ip6h->priority << 4) | (ip6h->flow_lbl[0] >> 4);
}

#endif /* XLB_PARSE_H */
