// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlb_decap: the XDP program on a backend host. It strips the tunnel the
 * balancer put around a client's packet and hands the inner packet to the
 * kernel (XDP_PASS), which delivers it to the VIP on the loopback; the
 * reply then goes straight to the client (direct server return).
 *
 * Accepted tunnels, each only when the outer destination is one of the
 * host's addresses in the decap table (with the right family):
 * - outer IPv4 without options and not a fragment, protocol 4 (IPIP) or
 *   41 (6in4);
 * - outer IPv6 with next header 41 (IP6IP6) or 4 (4in6), no extension
 *   headers;
 * - either of them carrying UDP to decap_config.gue_port (when non-zero):
 *   GUE variant 1, the inner IP header right after the UDP header, its
 *   version nibble saying which family it is.
 * The frame keeps its MAC addresses and VLAN tag; only the EtherType
 * changes to the inner family's. A tunnel to us whose inner header is cut
 * short or of the wrong version is dropped; everything else (not a tunnel,
 * not to us, QinQ, not IP, cut short before the outer header is known)
 * goes to the kernel untouched. Every packet is counted under exactly one
 * counter, with the length of the frame as received.
 */
#include "parse.h"
#include <xlb/types.h>
#include <xlb/counters.h>
#include <xlb/decap.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * The host's addresses that accept tunnels: two tables (halves) of
 * buckets, bucket -> XLB_DECAP_WAYS addresses (struct xlb_decap_bucket).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_DECAP_ENTRIES);
	__type(key, __u32);
	__type(value, struct xlb_decap_bucket);
} decap_addrs SEC(".maps");

/* The decap table in force (bit 0) and its hash multiplier (one word). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} decap_active SEC(".maps");

/* Run-time knobs set by xlb-agent (one element): the GUE port. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_decap_config);
} decap_config SEC(".maps");

/* enum xlb_decap_counter_id -> packets and bytes, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DECAP_MAX);
	__type(key, __u32);
	__type(value, struct xlb_counter);
} decap_counters SEC(".maps");

/* What the outer headers say about a tunnel packet. */
struct tunnel {
	__u32 outer_len; /* outer IP (+ UDP) header bytes to strip */
	__u32 cnt;	 /* enum xlb_decap_counter_id on success */
	__u8 inner_ver;	 /* 4 or 6; 0 for GUE: the inner header says */
};

/* First byte of an IPv4 header of version 4 without options. */
#define IPV4_VER_IHL5 0x45

/* L2 header lengths in 16-bit words, without and with the VLAN tag. */
#define L2_WORDS      (sizeof(struct ethhdr) / 2)
#define L2_VLAN_WORDS ((sizeof(struct ethhdr) + sizeof(struct vlan_hdr)) / 2)

static __always_inline void count(__u32 id, __u32 bytes)
{
	struct xlb_counter *c = bpf_map_lookup_elem(&decap_counters, &id);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/*
 * UDP to the configured GUE port? Reads past the UDP header, so a GUE
 * packet leaves the cursor on the inner header.
 */
static __always_inline bool is_gue(struct hdr_cursor *nh, void *data_end)
{
	struct xlb_decap_config *cfg;
	struct udphdr *uh;
	__u32 zero = 0;

	if (parse_udphdr(nh, data_end, &uh) < 0)
		return false;
	cfg = bpf_map_lookup_elem(&decap_config, &zero);
	return cfg && cfg->gue_port && uh->dest == cfg->gue_port;
}

/*
 * What the outer header (outer_len bytes, IPv6 or not) carries: IP in IP
 * of either family, or GUE. Fills t; -1 when it is no tunnel of ours.
 */
static __always_inline int tunnel_kind(int proto, bool outer_v6,
				       __u32 outer_len, struct hdr_cursor *nh,
				       void *data_end, struct tunnel *t)
{
	t->outer_len = outer_len;
	switch (proto) {
	case IPPROTO_IPIP:
		t->inner_ver = 4;
		t->cnt = outer_v6 ? XLB_DECAP_4IN6 : XLB_DECAP_IPIP;
		return 0;
	case IPPROTO_IPV6:
		t->inner_ver = 6;
		t->cnt = outer_v6 ? XLB_DECAP_IP6IP6 : XLB_DECAP_6IN4;
		return 0;
	case IPPROTO_UDP:
		if (!is_gue(nh, data_end))
			return -1;
		t->outer_len += sizeof(struct udphdr);
		t->inner_ver = 0;
		t->cnt = XLB_DECAP_GUE;
		return 0;
	}
	return -1;
}

/*
 * The bucket at index `bucket` of the table that word names; NULL when
 * there is none.
 */
static __always_inline struct xlb_decap_bucket *bucket_at(__u32 word,
							  __u32 bucket)
{
	__u32 idx = (word & 1) * XLB_DECAP_BUCKETS + bucket;

	return bpf_map_lookup_elem(&decap_addrs, &idx);
}

/*
 * The word of decap_active: the table in force and its multiplier. Read
 * once per packet, so the half and the multiplier belong together; a
 * writer never rewrites the half it names while a packet may read it.
 */
static __always_inline __u32 active_word(void)
{
	__u32 zero = 0, *w = bpf_map_lookup_elem(&decap_active, &zero);

	return w ? *(volatile __u32 *)w : 0;
}

/* Is IPv4 address a one of the host's? (A slot's unused words are 0.) */
static __always_inline bool ours4(__be32 a)
{
	__u32 word = active_word();
	struct xlb_decap_bucket *b =
		bucket_at(word, xlb_decap_bucket4(a, word));

	if (!b)
		return false;
#pragma unroll
	for (int w = 0; w < XLB_DECAP_WAYS; w++)
		if (b->way[w].addr.v4 == a && b->way[w].family == XLB_AF_INET)
			return true;
	return false;
}

/* Is IPv6 address a (read as four words) one of the host's? */
static __always_inline bool ours6(const struct in6_addr *a)
{
	const __u32 *x = (const __u32 *)a;
	__u32 word = active_word();
	struct xlb_decap_bucket *b =
		bucket_at(word, xlb_decap_bucket6(x, word));

	if (!b)
		return false;
#pragma unroll
	for (int w = 0; w < XLB_DECAP_WAYS; w++) {
		const __u32 *y = b->way[w].addr.v6;

		if (!((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) |
		      (x[3] ^ y[3])) &&
		    b->way[w].family == XLB_AF_INET6)
			return true;
	}
	return false;
}

/*
 * The outer IPv4 header: 0 and *t filled when it is a tunnel to one of
 * the host's addresses, -1 to pass the packet. Options and fragments are
 * left to the kernel, which can reassemble.
 */
static __always_inline int outer_ipv4(struct hdr_cursor *nh, void *data_end,
				      struct tunnel *t)
{
	struct iphdr *iph;
	int proto;

	proto = parse_iphdr(nh, data_end, &iph);
	if (proto < 0)
		return -1;
	if (*(__u8 *)iph != IPV4_VER_IHL5 ||
	    (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
		return -1;

	if (tunnel_kind(proto, false, sizeof(*iph), nh, data_end, t) ||
	    !ours4(iph->daddr))
		return -1;
	return 0;
}

/* The outer IPv6 header, as outer_ipv4(); extension headers are passed. */
static __always_inline int outer_ipv6(struct hdr_cursor *nh, void *data_end,
				      struct tunnel *t)
{
	struct ipv6hdr *ip6h;
	int nexthdr;

	nexthdr = parse_ip6hdr(nh, data_end, &ip6h);
	if (nexthdr < 0 || ip6h->version != 6)
		return -1;

	if (tunnel_kind(nexthdr, true, sizeof(*ip6h), nh, data_end, t) ||
	    !ours6(&ip6h->daddr))
		return -1;
	return 0;
}

/*
 * Strips the outer headers of a tunnel to us whose inner packet starts at
 * `inner`. The spent outer header is overwritten with the new L2 header
 * (right before the inner packet) before the head moves, so nothing has
 * to be saved or re-checked after bpf_xdp_adjust_head(); the old and new
 * L2 headers never overlap, as the outer header (>= 20 bytes) is longer
 * than any L2 header we accept (<= 18).
 */
static __always_inline int decap(struct xdp_md *ctx, struct ethhdr *eth,
				 void *inner, void *data_end,
				 const struct tunnel *t, __u32 *cnt)
{
	__u16 *src = (__u16 *)eth, *dst;
	__be16 proto;
	__u8 ver;

	if (inner + 1 > data_end)
		goto malformed;
	ver = *(__u8 *)inner >> 4;
	if (t->inner_ver && ver != t->inner_ver)
		goto malformed;
	if (ver == 4) {
		if (inner + sizeof(struct iphdr) > data_end)
			goto malformed;
		proto = bpf_htons(ETH_P_IP);
	} else if (ver == 6) {
		if (inner + sizeof(struct ipv6hdr) > data_end)
			goto malformed;
		proto = bpf_htons(ETH_P_IPV6);
	} else {
		goto malformed;
	}

	/*
	 * Copied as 16-bit words, aligned wherever the frame starts: the MACs,
	 * the VLAN tag if any, then the inner family's EtherType.
	 */
	if (proto_is_vlan(eth->h_proto)) {
		dst = inner - L2_VLAN_WORDS * 2;
#pragma unroll
		for (int i = 0; i < L2_VLAN_WORDS - 1; i++)
			dst[i] = src[i];
		dst[L2_VLAN_WORDS - 1] = proto;
	} else {
		dst = inner - L2_WORDS * 2;
#pragma unroll
		for (int i = 0; i < L2_WORDS - 1; i++)
			dst[i] = src[i];
		dst[L2_WORDS - 1] = proto;
	}

	if (bpf_xdp_adjust_head(ctx, t->outer_len)) {
		*cnt = XLB_DECAP_DROP_INTERNAL;
		return XDP_DROP;
	}
	*cnt = t->cnt;
	return XDP_PASS;

malformed:
	*cnt = XLB_DECAP_DROP_MALFORMED;
	return XDP_DROP;
}

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 frame_len = data_end - data;
	__u32 cnt = XLB_DECAP_PASS;
	struct hdr_cursor nh = {.pos = data};
	struct tunnel t;
	struct ethhdr *eth;
	int proto, action = XDP_PASS;

	proto = parse_ethhdr(&nh, data_end, &eth);
	if (proto == bpf_htons(ETH_P_IP)) {
		if (outer_ipv4(&nh, data_end, &t) < 0)
			goto out;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if (outer_ipv6(&nh, data_end, &t) < 0)
			goto out;
	} else {
		goto out;
	}
	action = decap(ctx, eth, nh.pos, data_end, &t, &cnt);
out:
	/* The one exit: count the verdict. */
	count(cnt, frame_len);
	return action;
}
