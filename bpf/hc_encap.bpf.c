// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlb_hc_encap: TC egress on the balancer's NIC, for health checks through
 * the tunnel. The checker connects to VIP:port from the balancer host with
 * SO_MARK naming one backend (XLB_HC_MARK in xlb/types.h); the kernel
 * routes the VIP out of this NIC toward the gateway, and here every packet
 * of that socket is encapsulated toward the backend the mark names, the
 * way xlb_balance does it for client traffic: outer family the backend's,
 * IP in IP or GUE as the mark says, outer TTL from config, DSCP/ECN copied,
 * DF set on IPv4, the flow label and the GUE source port from the flow
 * hash, the destination MAC config.gw_mac. The backend then sees a packet
 * to VIP:port, so the check fails exactly when client traffic would (no
 * decap, VIP missing on the backend). Replies come straight back from the
 * VIP to our own address, which xlb_balance passes to the kernel.
 *
 * Rules:
 * - a mark whose top 16 bits are not ours: TC_ACT_UNSPEC, untouched and
 *   not counted (the host's other traffic; the next filter, if any, runs);
 * - ours, but the frame is not IPv4/IPv6 right after an Ethernet header
 *   without an in-band VLAN tag: dropped (never sent unencapsulated, which
 *   would reach the VIP through the real path and some other backend);
 * - backend id unused (state 0) or beyond the map: dropped; a backend
 *   that is down or draining is still checked (that is how it comes back);
 * - longer than config.mtu once encapsulated (not GSO): dropped, as the
 *   balancer refuses such a client packet;
 * - outer source: the inner packet's source when the families match (the
 *   balancer's own address, so the check needs no other address), else the
 *   balancer's derivation from config.src4/src6 and the flow hash.
 * Every packet with our mark is counted under exactly one hc_counters id,
 * with its length before encapsulation.
 *
 * bpf_skb_adjust_room() with the ENCAP flags records the inner headers
 * and marks the skb as encapsulated, so a TCP checksum still to be
 * finished (CHECKSUM_PARTIAL, csum_start absolute) is finished at the
 * inner header by the NIC or by the stack after this program, and GSO
 * segments the tunnel; across families it also switches skb->protocol to
 * the outer family, whose EtherType is written here.
 */
#include "parse.h"
#include "csum.h"
#include "encap.h"
#include <stddef.h>
#include <linux/pkt_cls.h>
#include <xlb/types.h>
#include <xlb/counters.h>
#include <xlb/hash.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * backends and config are the balancer's maps (maps_shared.h): the loader
 * (user/lib/hc_tc.c) hands over the balancer's fds with
 * bpf_map__reuse_fd(). maps.h is not included: it would create every
 * other balancer map too.
 */
#include "maps_shared.h"

/* enum xlb_hc_counter_id -> packets and bytes, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_HC_MAX);
	__type(key, __u32);
	__type(value, struct xlb_counter);
} hc_counters SEC(".maps");

/* What the inner packet says. */
struct inner {
	struct xlb_flow_key key; /* for the flow hash */
	__u32 ip_len;		 /* bytes from the IP header on */
	__u8 tos;		 /* DSCP + ECN */
};

/* Largest outer header: IPv6 + UDP. */
#define OUTER_MAX (sizeof(struct ipv6hdr) + sizeof(struct udphdr))

static __always_inline void count(__u32 id, __u32 bytes)
{
	struct xlb_counter *c = bpf_map_lookup_elem(&hc_counters, &id);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/*
 * The inner packet, read with bpf_skb_load_bytes() (the skb may be
 * non-linear). Returns 0, or -1 when it is not IPv4/IPv6 right after a
 * plain Ethernet header. Ports are left 0 when there are none to read
 * (not TCP/UDP, a later fragment): they only feed the hash.
 */
static __always_inline int parse_inner(struct __sk_buff *skb, struct inner *in)
{
	__u32 l4 = 0;
	__be16 proto;

	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &proto,
			       sizeof(proto)))
		return -1;
	/*
	 * skb->protocol is what adjust_room and GSO go by: it must agree
	 * with the header (an in-band VLAN tag leaves both non-IP).
	 */
	if (proto != skb->protocol)
		return -1;
	__builtin_memset(&in->key, 0, sizeof(in->key));
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr iph;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &iph, sizeof(iph)) ||
		    iph.version != 4 || iph.ihl < 5)
			return -1;
		in->key.src.v4 = iph.saddr;
		in->key.dst.v4 = iph.daddr;
		in->key.proto = iph.protocol;
		in->key.family = XLB_AF_INET;
		in->tos = iph.tos;
		if (!(iph.frag_off & bpf_htons(IP_OFFSET)))
			l4 = ETH_HLEN + iph.ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6h;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6h, sizeof(ip6h)) ||
		    ip6h.version != 6)
			return -1;
		__builtin_memcpy(in->key.src.bytes, &ip6h.saddr, 16);
		__builtin_memcpy(in->key.dst.bytes, &ip6h.daddr, 16);
		in->key.proto = ip6h.nexthdr;
		in->key.family = XLB_AF_INET6;
		in->tos = ipv6_tclass(&ip6h);
		l4 = ETH_HLEN + sizeof(ip6h);
	} else {
		return -1;
	}
	in->ip_len = skb->len - ETH_HLEN;
	/* sport and dport are adjacent, as in the TCP and UDP headers. */
	if (l4 &&
	    (in->key.proto == IPPROTO_TCP || in->key.proto == IPPROTO_UDP) &&
	    bpf_skb_load_bytes(skb, l4, &in->key.sport, 4))
		in->key.sport = in->key.dport = 0;
	return 0;
}

/*
 * Puts the outer header(s) in front of the inner IP header. v6: the outer
 * header is IPv6; gue: a UDP header follows it. Constant per call site,
 * so every length below is known to the verifier. Returns 0, or -1 once
 * the skb may have been changed (it is then to be dropped).
 */
static __always_inline int push_outer(struct __sk_buff *skb, const bool v6,
				      const bool gue, const struct inner *in,
				      const struct xlb_backend *be,
				      const struct xlb_config *cfg, __u32 rss)
{
	const __u32 ip_hlen =
		v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	const __u32 olen = ip_hlen + (gue ? sizeof(struct udphdr) : 0);
	const __u64 flags = (v6 ? BPF_F_ADJ_ROOM_ENCAP_L3_IPV6
				: BPF_F_ADJ_ROOM_ENCAP_L3_IPV4) |
			    (gue ? BPF_F_ADJ_ROOM_ENCAP_L4_UDP : 0);
	const __be16 eth_proto =
		v6 ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
	const bool inner6 = in->key.family == XLB_AF_INET6;
	struct encap_info ei = {
		.ip_len = in->ip_len,
		.rss = rss,
		.tos = in->tos,
		.inner_v6 = inner6,
	};
	__u8 hdr[OUTER_MAX] __attribute__((aligned(8)));

	__builtin_memset(hdr, 0, sizeof(hdr));
	/* Same family: the inner source (our own address) is the outer. */
	outer_write(hdr, v6, gue, &ei, inner6 == v6 ? &in->key.src : NULL, be,
		    cfg);

	if (bpf_skb_adjust_room(skb, olen, BPF_ADJ_ROOM_MAC, flags))
		return -1;
	/*
	 * The kernel switches skb->protocol to the outer family (GSO and
	 * the qdiscs read it); without that, 4in6 and 6in4 could not be
	 * sent soundly, so a kernel that did not is refused here.
	 */
	if (skb->protocol != eth_proto)
		return -1;
	if (bpf_skb_store_bytes(skb, ETH_HLEN, hdr, olen, 0))
		return -1;
	if (inner6 != v6 &&
	    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto),
				&eth_proto, sizeof(eth_proto), 0))
		return -1;
	return 0;
}

/* The gateway of config, when set; else the kernel's next hop stays. */
static __always_inline int set_gw_mac(struct __sk_buff *skb,
				      const struct xlb_config *cfg)
{
	const __u8 *m = cfg->gw_mac;

	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return 0;
	return bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), m,
				   ETH_ALEN, 0);
}

SEC("tc")
int xlb_hc_encap(struct __sk_buff *skb)
{
	__u32 mark = skb->mark, len = skb->len, zero = 0, id, rss, olen;
	__u32 cnt = XLB_HC_DROP_UNPARSED;
	const struct xlb_backend *be;
	const struct xlb_config *cfg;
	int action = TC_ACT_SHOT, err;
	struct inner in;
	bool v6, gue;

	if ((mark & XLB_HC_MARK_MASK) != XLB_HC_MARK_BASE)
		return TC_ACT_UNSPEC;
	id = mark & XLB_HC_MARK_ID;
	gue = mark & XLB_HC_MARK_GUE;

	if (parse_inner(skb, &in) < 0)
		goto out;
	cnt = XLB_HC_DROP_NO_BACKEND;
	be = bpf_map_lookup_elem(&backends, &id);
	if (!be || be->state == XLB_BACKEND_UNUSED ||
	    (be->family != XLB_AF_INET && be->family != XLB_AF_INET6))
		goto out;
	cnt = XLB_HC_DROP_INTERNAL;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		goto out;

	v6 = be->family == XLB_AF_INET6;
	olen = (v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) +
	       (gue ? sizeof(struct udphdr) : 0);
	/* GSO packets are cut to size after us (gso_size shrinks by olen). */
	if (cfg->mtu && !skb->gso_size && in.ip_len + olen > cfg->mtu) {
		cnt = XLB_HC_DROP_TOO_BIG;
		goto out;
	}

	rss = xlb_flow_hash(&in.key, 0);
	if (v6)
		err = gue ? push_outer(skb, true, true, &in, be, cfg, rss)
			  : push_outer(skb, true, false, &in, be, cfg, rss);
	else
		err = gue ? push_outer(skb, false, true, &in, be, cfg, rss)
			  : push_outer(skb, false, false, &in, be, cfg, rss);
	if (err || set_gw_mac(skb, cfg))
		goto out;

	if (gue)
		cnt = XLB_HC_GUE;
	else if (v6)
		cnt = in.key.family == XLB_AF_INET6 ? XLB_HC_IP6IP6
						    : XLB_HC_4IN6;
	else
		cnt = in.key.family == XLB_AF_INET6 ? XLB_HC_6IN4 : XLB_HC_IPIP;
	action = TC_ACT_OK;
out:
	/* The one exit for our packets: count the verdict. */
	count(cnt, len);
	return action;
}
