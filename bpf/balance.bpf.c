// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlb_balance: the XDP load balancer. For a packet to a VIP it finds the
 * backend (flow table, else the VIP's Maglev ring), encapsulates the packet
 * toward it and sends it back out (XDP_TX); everything not for a VIP goes
 * to the kernel untouched. The decisions live here; parsing, rewriting and
 * hashing are helpers in parse.h, encap.h, csum.h and xlb/hash.h.
 *
 * Rules for what is not plainly a TCP/UDP packet to a VIP:
 * - not IP, two VLAN tags, or cut short before the addresses: pass;
 * - destination not a VIP address: pass, untouched, whatever its state;
 * - to a VIP address but malformed (IP version not the EtherType's,
 *   lengths inconsistent, L4 header cut short or reaching past the IP
 *   packet: UDP length, TCP data offset), fragmented, with IPv4 options or
 *   IPv6 extension headers: drop (XDP cannot reassemble, and a fragment
 *   cannot be hashed to the same backend as its first part);
 * - ICMP to a VIP address, read only within the IP packet: echo answered
 *   when its checksum is valid, "too big" errors forwarded to the flow's
 *   backend when they fit the MTU encapsulated, neighbour discovery
 *   passed, the rest dropped;
 * - no ICMP (echo reply, "too big") to a source that is no single host:
 *   unspecified, loopback, multicast, broadcast or class E (RFC 1122
 *   3.2.2, RFC 4443 2.4(e)): dropped;
 * - only the IP packet goes into the tunnel: bytes after it (L2 padding)
 *   are cut; frames leave from config.src_mac (when set).
 * Every packet is counted under exactly one verdict counter.
 */
#include "parse.h"
#include "csum.h"
#include "encap.h"
#include "maps.h"
#include "pkt.h"
#include "ring.h"
#include "flow.h"
#include "nat.h"
#include "uplink.h"
#include "trace.h"
#include <xlb/hash.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define NSEC_PER_SEC 1000000000ULL

/* ICMPv6 neighbour discovery: router solicitation .. redirect (RFC 4861). */
#define ICMPV6_ND_FIRST 133
#define ICMPV6_ND_LAST	137

/* Is the destination's bit set in the VIP pre-filter? */
static __always_inline bool filter_has(__u32 folded)
{
	__u32 zero = 0, bit = xlb_filter_bit32(folded);
	struct xlb_vip_filter *f;

	/* Folded before the lookup: else four IPv6 words wait on the stack. */
	barrier_var(bit);
	f = bpf_map_lookup_elem(&vip_filter, &zero);
	return f && ((f->bits[bit >> 6] >> (bit & 63)) & 1);
}

/* Is the destination a VIP address (does it have the ICMP entry)? */
static __always_inline bool is_vip_addr(const struct pkt *p)
{
	struct xlb_vip_key vk = {
		.addr = p->key.dst,
		.family = p->key.family,
		.proto = p->key.family == XLB_AF_INET6 ? IPPROTO_ICMPV6
						       : IPPROTO_ICMP,
	};

	return bpf_map_lookup_elem(&vips, &vk) != NULL;
}

/* A rule-breaking packet: dropped when it is for a VIP address. */
static __always_inline int drop_if_vip(const struct pkt *p, __u32 reason,
				       __u32 *cnt)
{
	if (is_vip_addr(p)) {
		*cnt = reason;
		return XDP_DROP;
	}
	*cnt = XLB_CNT_PASS_NON_VIP;
	return XDP_PASS;
}

/* The VIP of the packet's destination: exact port first, then port-less. */
static __always_inline struct xlb_vip *vip_lookup(const struct pkt *p)
{
	struct xlb_vip_key vk = {
		.addr = p->key.dst,
		.port = p->key.dport,
		.proto = p->key.proto,
		.family = p->key.family,
	};
	struct xlb_vip *vip = bpf_map_lookup_elem(&vips, &vk);

	if (vip)
		return vip;
	vk.port = 0;
	return bpf_map_lookup_elem(&vips, &vk);
}

/*
 * Does a flow's vip_info entry still describe the packet's VIP? The flow
 * key holds the destination, so this is the check vip_lookup() would make.
 * A VIP that stopped using the flow table no longer honours its entries.
 */
static __always_inline bool vip_info_matches(const struct xlb_vip_info *vi,
					     const struct pkt *p)
{
	const struct xlb_vip_key *k = &vi->key;
	/* Both 8-byte aligned: the array's value and the stack's key. */
	const __u64 *a = (const __u64 *)k->addr.v6;
	const __u64 *d = (const __u64 *)p->key.dst.v6;

	return a[0] == d[0] && a[1] == d[1] && k->family == p->key.family &&
	       k->proto == p->key.proto &&
	       (k->port == p->key.dport || !k->port) &&
	       !(vi->vip.flags & XLB_VIP_F_NO_FLOW_TABLE);
}

/* May a flow not yet in the table be inserted now (per-CPU rate limit)? */
static __always_inline bool insert_allowed(const struct xlb_config *cfg,
					   __u64 *now)
{
	__u32 zero = 0;
	struct xlb_flow_rate *rl;

	if (!cfg->flow_rate_limit)
		return true;
	rl = bpf_map_lookup_elem(&flow_rate, &zero);
	if (!rl)
		return true;
	if (!*now)
		*now = flow_clock_ns();
	if (*now - rl->window_start_ns >= NSEC_PER_SEC) {
		rl->window_start_ns = *now;
		rl->inserts = 0;
	}
	if (rl->inserts >= cfg->flow_rate_limit)
		return false;
	rl->inserts++;
	return true;
}

/*
 * A packet of flow f (not a SYN): its backend's id, with *bep, or 0 when
 * the flow must be picked again: expired (UDP), or its backend died
 * (*failover). Its own function so that a hit, the common case, carries
 * none of the re-pick's state.
 */
static __always_inline __u32 flow_hit(const struct pkt *p,
				      const struct xlb_config *cfg,
				      struct xlb_flow_entry *f,
				      struct xlb_backend **bep, bool *failover)
{
	__u32 id, stamp, udp_ttl = cfg->udp_timeout_ns >> XLB_FLOW_STAMP_SHIFT;

	/*
	 * Its age: UDP expiry needs it to the unit; eviction only roughly,
	 * so a TCP hit stores it once XLB_FLOW_REFRESH units old and rarely
	 * dirties its bucket's cache line, and reads the clock only to the
	 * tick.
	 */
	if (p->key.proto == IPPROTO_UDP) {
		stamp = xlb_flow_stamp(flow_clock_ns());
		if (cfg->udp_timeout_ns && stamp - f->stamp > udp_ttl) {
			count_event(XLB_CNT_FLOW_UDP_EXPIRED);
			return 0;
		}
		if (stamp != f->stamp)
			f->stamp = stamp;
	} else {
		stamp = xlb_flow_stamp(flow_clock_tick_ns());
		if (stamp - f->stamp >= XLB_FLOW_REFRESH)
			f->stamp = stamp;
	}
	count_event(XLB_CNT_FLOW_HIT);
	id = f->backend_id;
	*bep = bpf_map_lookup_elem(&backends, &id);
	if (flow_backend_ok(*bep))
		return id;
	/* Its backend died: leave it on this very packet. */
	*failover = true;
	return 0;
}

/*
 * The backend of a TCP/UDP packet to a VIP, keeping the flow table's
 * promises: affinity for established flows, a re-hash for every SYN,
 * failover of flows whose backend died, expiry of idle UDP flows. f is
 * the packet's flow entry when forward() found a valid one; fhash is the
 * flow hash of the full 5-tuple (the table's bucket), hash the ring's.
 */
static __always_inline __u32 pick_backend(const struct pkt *p,
					  const struct xlb_vip *vip,
					  const struct xlb_config *cfg,
					  __u32 hash, __u32 fhash,
					  struct xlb_flow_entry *f,
					  struct xlb_backend **bep, __u32 *cnt)
{
	bool use_table = !(vip->flags & XLB_VIP_F_NO_FLOW_TABLE);
	bool syn = (p->tcp_flags & (PKT_SYN | PKT_ACK)) == PKT_SYN;
	bool found = false, failover = false, skipped = false;
	__u32 id, udp_ttl = cfg->udp_timeout_ns >> XLB_FLOW_STAMP_SHIFT;
	__u64 now = 0;

	if (use_table && !syn) {
		if (f) {
			id = flow_hit(p, cfg, f, bep, &failover);
			if (id)
				return id;
			found = true;
		} else {
			count_event(XLB_CNT_FLOW_MISS);
		}
	}
	id = ring_pick(vip, hash, bep, &skipped, cnt);
	if (!id)
		return 0;
	if (failover || skipped)
		count_event(XLB_CNT_FAILOVER_REPICK);
	if (!use_table || (p->tcp_flags & PKT_RST))
		return id;
	if (!found && !insert_allowed(cfg, &now)) {
		count_event(XLB_CNT_FLOW_INSERT_LIMITED);
		return id;
	}
	/* A new entry's stamp is exact, whatever a TCP hit read. */
	if (!now)
		now = flow_clock_ns();
	flow_insert(&p->key, fhash, id, vip->vip_id, xlb_flow_stamp(now),
		    cfg->udp_timeout_ns ? (udp_ttl ?: 1) : 0);
	if (syn)
		flow_other(&p->key, fhash, true);
	count_event(XLB_CNT_FLOW_INSERT);
	count_new_flow(vip->vip_id, id);
	return id;
}

/* The backend an ICMP error about a flow goes to: no table changes. */
static __always_inline __u32 pick_backend_quiet(const struct pkt *p,
						const struct xlb_vip *vip,
						__u32 hash, __u32 fhash,
						struct xlb_backend **bep,
						__u32 *cnt)
{
	struct xlb_flow_entry *f;
	bool skipped;
	__u32 id;

	if (!(vip->flags & XLB_VIP_F_NO_FLOW_TABLE)) {
		f = flow_lookup(&p->key, fhash);
		if (f) {
			id = f->backend_id;
			*bep = bpf_map_lookup_elem(&backends, &id);
			if (flow_backend_ok(*bep))
				return id;
		}
	}
	return ring_pick(vip, hash, bep, &skipped, cnt);
}

/* Dispatches to the encap() variant of this L2 length and outer header. */
static __always_inline int encap_any(struct xdp_md *ctx, const struct pkt *p,
				     const struct encap_info *ei, bool v6,
				     bool gue, const struct xlb_backend *be,
				     const struct xlb_config *cfg)
{
	if (p->l2_len == sizeof(struct ethhdr)) {
		if (v6)
			return gue ? encap(ctx, 14, true, true, ei, be, cfg)
				   : encap(ctx, 14, true, false, ei, be, cfg);
		return gue ? encap(ctx, 14, false, true, ei, be, cfg)
			   : encap(ctx, 14, false, false, ei, be, cfg);
	}
	if (v6)
		return gue ? encap(ctx, 18, true, true, ei, be, cfg)
			   : encap(ctx, 18, true, false, ei, be, cfg);
	return gue ? encap(ctx, 18, false, true, ei, be, cfg)
		   : encap(ctx, 18, false, false, ei, be, cfg);
}

/*
 * May ICMP be sent to the packet's source? Not when it names no single
 * host: unspecified, loopback, multicast, broadcast or class E (RFC 1122
 * 3.2.2), nor IPv6 unspecified, loopback or multicast (RFC 4443 2.4(e)).
 */
static __always_inline bool icmp_dest_ok(const struct pkt *p)
{
	const union xlb_addr *a = &p->key.src;

	if (p->key.family == XLB_AF_INET) {
		__u8 first = a->bytes[0];

		return first != 0 && first != 127 && first < 224;
	}
	if (a->bytes[0] == 0xff)
		return false;
	return a->v6[0] | a->v6[1] | a->v6[2] | (a->v6[3] & ~bpf_htonl(1));
}

/* Answers a packet too large for the tunnel with an ICMP error. */
static __always_inline int too_big(struct xdp_md *ctx, const struct pkt *p,
				   const struct xlb_config *cfg, __u32 path_mtu,
				   __u32 olen, __u32 *cnt)
{
	bool vlan = p->l2_len != sizeof(struct ethhdr);
	__u32 mtu = path_mtu - olen;
	int err;

	if (p->ip_len < XLB_ICMP_QUOTE ||
	    (p->key.family == XLB_AF_INET && !p->df)) {
		*cnt = XLB_CNT_DROP_TOO_BIG;
		return XDP_DROP;
	}
	if (!icmp_dest_ok(p)) {
		*cnt = XLB_CNT_DROP_ICMP_SRC;
		return XDP_DROP;
	}
	if (p->key.family == XLB_AF_INET)
		err = vlan ? icmp4_too_big(ctx, 18, mtu, cfg)
			   : icmp4_too_big(ctx, 14, mtu, cfg);
	else
		err = vlan ? icmp6_too_big(ctx, 18, mtu, cfg)
			   : icmp6_too_big(ctx, 14, mtu, cfg);
	if (err) {
		*cnt = XLB_CNT_DROP_INTERNAL;
		return XDP_DROP;
	}
	*cnt = XLB_CNT_TX_ICMP_TOO_BIG;
	return XDP_TX;
}

/*
 * Encapsulates p toward backend be (id be_id) of VIP vip_id and counts
 * it: its verdict counter into *cnt, a forwarded "too big", the VIP's
 * and the backend's packets and bytes. forward() and xlb_egress share
 * it. 0, or -1 (and DROP_INTERNAL) when the frame could not be resized.
 */
static __always_inline int
encap_counted(struct xdp_md *ctx, const struct pkt *p, __u32 fhash, bool v6,
	      bool gue, const struct xlb_backend *be,
	      const struct xlb_config *cfg, __u32 vip_id, __u32 be_id,
	      __u32 frame_len, __u32 *cnt)
{
	struct encap_info ei;

	ei.ip_len = p->ip_len;
	ei.tos = p->tos;
	ei.inner_v6 = p->key.family == XLB_AF_INET6;
	ei.rss = fhash;
	if (encap_any(ctx, p, &ei, v6, gue, be, cfg)) {
		*cnt = XLB_CNT_DROP_INTERNAL;
		return -1;
	}
	if (gue)
		*cnt = XLB_CNT_TX_GUE;
	else if (v6)
		*cnt = ei.inner_v6 ? XLB_CNT_TX_IP6IP6 : XLB_CNT_TX_4IN6;
	else
		*cnt = ei.inner_v6 ? XLB_CNT_TX_6IN4 : XLB_CNT_TX_IPIP;
	if (p->icmp_err)
		count_event(XLB_CNT_ICMP_PTB_FORWARDED);
	count_stat(&vip_stats, vip_id, frame_len);
	count_stat(&backend_stats, be_id, frame_len);
	return 0;
}

/*
 * Sends a packet for a VIP to its backend. Inlined once, from the exit of
 * xlb_balance, so its eight encap() variants exist only once.
 */
static __always_inline int forward(struct xdp_md *ctx, const struct pkt *p,
				   __u32 frame_len, __u32 *cnt)
{
	__u8 icmp_err = p->icmp_err;
	struct xlb_vip_info *vi;
	struct xlb_backend *be = NULL;
	struct xlb_flow_entry *f = NULL;
	struct xlb_vip *vip = NULL;
	struct xlb_config *cfg;
	__u32 zero = 0, hash, fhash, id, olen, vip_id;
	bool v6, gue;
	__u8 kind;

	/*
	 * The table's bucket comes from the hash of the full 5-tuple, which
	 * the outer source needs anyway: no VIP lookup before the table.
	 * An established flow names its VIP: an array lookup and a key
	 * compare instead of hashing into `vips`. A SYN re-hashes anyway.
	 */
	fhash = xlb_flow_hash(&p->key, 0);
	if (!icmp_err && (p->tcp_flags & (PKT_SYN | PKT_ACK)) != PKT_SYN) {
		f = flow_lookup(&p->key, fhash);
		if (!f && !flow_other(&p->key, fhash, false))
			f = flow_lookup(&p->key, fhash);
		if (f) {
			vip_id = f->vip_id;
			vi = bpf_map_lookup_elem(&vip_info, &vip_id);
			if (vi && vip_info_matches(vi, p))
				vip = &vi->vip;
			/*
			 * A port-less VIP yields to an exact one added since:
			 * only its flows pay for the lookup that tells.
			 */
			if (vip && !vi->key.port) {
				vip = vip_lookup(p);
				if (vip && vip->vip_id != vip_id)
					vip = NULL;
			}
			if (!vip)
				f = NULL; /* its VIP changed: hash again */
		}
	}
	if (!vip)
		vip = vip_lookup(p);
	if (!vip) {
		if (!icmp_err) /* maybe a reply to a NAT address */
			return nat_reply(ctx, p, cnt);
		*cnt = XLB_CNT_DROP_ICMP;
		return XDP_DROP;
	}
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg) {
		*cnt = XLB_CNT_DROP_INTERNAL;
		return XDP_DROP;
	}

	/* Flags that coarsen the ring hash must not coarsen RSS spreading. */
	hash = vip->flags & (XLB_VIP_F_NO_SPORT | XLB_VIP_F_DPORT_ONLY)
		       ? xlb_flow_hash(&p->key, vip->flags)
		       : fhash;
	if (vip->mode == XLB_VIP_MODE_NAT)
		return icmp_err ? nat_icmp_in(ctx, p, cnt)
				: nat_forward(ctx, p, vip, hash, cnt);
	if (icmp_err == ICMP_ERR_OTHER) {
		*cnt = XLB_CNT_DROP_ICMP;
		return XDP_DROP;
	}
	if (icmp_err)
		id = pick_backend_quiet(p, vip, hash, fhash, &be, cnt);
	else
		id = pick_backend(p, vip, cfg, hash, fhash, f, &be, cnt);
	if (!id || !be)
		return XDP_DROP;

	kind = vip->encap != XLB_ENCAP_DEFAULT ? vip->encap : cfg->encap;
	gue = kind == XLB_ENCAP_GUE;
	v6 = be->family == XLB_AF_INET6;
	olen = (v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) +
	       (gue ? sizeof(struct udphdr) : 0);
	/* Uplinks: the rest is xlb_egress's (uplink.h). */
	if (cfg->n_uplinks)
		return egress_stash(p, vip->vip_id, id, fhash, frame_len, v6,
				    gue, cnt);
	if (cfg->mtu && p->ip_len + olen > cfg->mtu) {
		/* Never an ICMP error about an ICMP error. */
		if (icmp_err) {
			*cnt = XLB_CNT_DROP_TOO_BIG;
			return XDP_DROP;
		}
		return too_big(ctx, p, cfg, cfg->mtu, olen, cnt);
	}

	if (encap_counted(ctx, p, fhash, v6, gue, be, cfg, vip->vip_id, id,
			  frame_len, cnt))
		return XDP_DROP;
	return XDP_TX;
}

/* TCP or UDP ports and flags into p; -1 when the header is cut short. */
static __always_inline int parse_l4(struct hdr_cursor *nh, void *data_end,
				    struct pkt *p, __u32 l3_hlen)
{
	struct tcphdr *th;
	struct udphdr *uh;

	if (p->key.proto == IPPROTO_TCP) {
		/* The data offset must stay inside the IP packet. */
		if (parse_tcphdr(nh, data_end, &th) < 0 || th->doff < 5 ||
		    p->ip_len < l3_hlen + th->doff * 4)
			return -1;
		p->key.sport = th->source;
		p->key.dport = th->dest;
		p->tcp_flags =
			(th->syn ? PKT_SYN : 0) | (th->ack ? PKT_ACK : 0) |
			(th->rst ? PKT_RST : 0) | (th->fin ? PKT_FIN : 0);
		return 0;
	}
	/* 8 <= UDP length <= IP payload (shorter is legal: RFC 768). */
	if (parse_udphdr(nh, data_end, &uh) < 0 ||
	    bpf_ntohs(uh->len) < sizeof(*uh) ||
	    p->ip_len < l3_hlen + bpf_ntohs(uh->len))
		return -1;
	p->key.sport = uh->source;
	p->key.dport = uh->dest;
	return 0;
}

/*
 * An ICMP error quoting a packet the VIP sent: key p by that packet's flow
 * as the client sent it. inner points at the quoted IP header, of which
 * room bytes are inside the ICMP packet's IP length.
 */
static __always_inline int icmp_err_key(struct pkt *p, void *inner,
					void *data_end, __u32 room)
{
	__u32 qhlen = p->key.family == XLB_AF_INET ? sizeof(struct iphdr)
						   : sizeof(struct ipv6hdr);
	__be16 *ports;
	__u8 proto;

	/* The quoted header and 8 bytes of its transport header. */
	if (room < qhlen + 8)
		return -1;
	if (p->key.family == XLB_AF_INET) {
		struct iphdr *iph = inner;

		if ((void *)(iph + 1) > data_end || iph->ihl != 5)
			return -1;
		proto = iph->protocol;
		p->key.src.v4 = iph->daddr;
		p->key.dst.v4 = iph->saddr;
		ports = (void *)(iph + 1);
	} else {
		struct ipv6hdr *ip6h = inner;

		if ((void *)(ip6h + 1) > data_end)
			return -1;
		proto = ip6h->nexthdr;
		__builtin_memcpy(p->key.src.v6, &ip6h->daddr, 16);
		__builtin_memcpy(p->key.dst.v6, &ip6h->saddr, 16);
		ports = (void *)(ip6h + 1);
	}
	/* Eight bytes of the quoted transport header must be there. */
	if ((void *)ports + 8 > data_end)
		return -1;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -1;
	p->key.proto = proto;
	p->key.sport = ports[1];
	p->key.dport = ports[0];
	return 0;
}

/*
 * Errors about a packet (RFC 792, RFC 4443): destination unreachable
 * (with "fragmentation needed"), time exceeded, parameter problem, and
 * ICMPv6's "packet too big".
 */
static __always_inline bool icmp_is_error(bool v6, int type)
{
	if (v6)
		return type >= ICMPV6_DEST_UNREACH && type <= ICMPV6_PARAMPROB;
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB;
}

/*
 * The folded checksum of len bytes at offset off of the frame, seed added:
 * 0 when the stretch carries a valid checksum, -1 when it cannot be read.
 * A global function: the verifier checks its loops once, not once for
 * every path of xlb_balance that reaches an echo request.
 */
__noinline int xlb_csum_check(struct xdp_md *ctx, __u32 off, __u32 len,
			      __u32 seed)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 sum;

	if (off > XLB_CSUM_MAX)
		return -1;
	if (csum_packet(data + off, len, data_end, seed, &sum) < 0)
		return -1;
	return csum_fold(sum);
}

/* Is the ICMP (v4) or ICMPv6 (pseudo-header too) checksum valid? */
static __always_inline bool icmp_csum_ok(struct xdp_md *ctx,
					 const struct pkt *p, void *l3,
					 __u32 hlen, __u32 len, void *data_end)
{
	__u64 sum = 0;

	if (p->key.family == XLB_AF_INET6) {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > data_end)
			return false;
		sum = bpf_csum_diff(NULL, 0, (void *)&ip6h->saddr, 32, 0);
		sum += bpf_htonl(len);
		sum += bpf_htonl(IPPROTO_ICMPV6);
	}
	/* The ICMP header follows the fixed IP header (no options here). */
	return xlb_csum_check(ctx, p->l2_len + hlen, len,
			      csum_fold(sum) ^ 0xffff) == 0;
}

/* ICMP and ICMPv6 to a VIP address, read within the IP packet only. */
static __always_inline int handle_icmp(struct xdp_md *ctx, struct pkt *p,
				       struct hdr_cursor *nh, void *data_end,
				       struct ethhdr *eth, void *l3, __u32 *cnt)
{
	bool v6 = p->key.family == XLB_AF_INET6;
	__u32 hlen = v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	struct xlb_config *cfg;
	struct icmphdr *ich;
	__u32 zero = 0;
	__u16 old;
	int type;

	bool vip_addr = is_vip_addr(p);

	type = parse_icmphdr(nh, data_end, &ich);
	if (!vip_addr) {
		/* An error about a NAT connection comes to a NAT address. */
		if (type >= 0 && p->ip_len >= hlen + sizeof(*ich) &&
		    icmp_is_error(v6, type) &&
		    !icmp_err_key(p, ich + 1, data_end,
				  p->ip_len - hlen - sizeof(*ich)))
			return nat_icmp_out(ctx, p, cnt);
		*cnt = XLB_CNT_PASS_NON_VIP;
		return XDP_PASS;
	}
	if (type < 0 || p->ip_len < hlen + sizeof(*ich)) {
		*cnt = XLB_CNT_DROP_MALFORMED;
		return XDP_DROP;
	}

	if (type == (v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO)) {
		if (!icmp_dest_ok(p)) {
			*cnt = XLB_CNT_DROP_ICMP_SRC;
			return XDP_DROP;
		}
		if (!icmp_csum_ok(ctx, p, l3, hlen, p->ip_len - hlen,
				  data_end)) {
			*cnt = XLB_CNT_DROP_ICMP_CSUM;
			return XDP_DROP;
		}
		cfg = bpf_map_lookup_elem(&config, &zero);
		if (!cfg) {
			*cnt = XLB_CNT_DROP_INTERNAL;
			return XDP_DROP;
		}
		if (v6) {
			struct ipv6hdr *ip6h = l3;
			struct in6_addr tmp = ip6h->saddr;

			ip6h->saddr = ip6h->daddr;
			ip6h->daddr = tmp;
			ip6h->hop_limit = cfg->ttl;
		} else {
			struct iphdr *iph = l3;
			__be32 tmp = iph->saddr;

			iph->saddr = iph->daddr;
			iph->daddr = tmp;
			iph->ttl = cfg->ttl;
			iph->check = 0;
			iph->check = ipv4_csum(iph);
		}
		/* Swapped addresses leave the pseudo-header sum unchanged. */
		old = *(__u16 *)ich;
		ich->type = v6 ? ICMPV6_ECHO_REPLY : ICMP_ECHOREPLY;
		csum_replace2((__u16 *)&ich->checksum, old, *(__u16 *)ich);
		reply_macs(eth, cfg);
		*cnt = XLB_CNT_TX_ICMP_ECHO;
		return XDP_TX;
	}

	/* DSR forwards "too big" only; full-NAT translates every error. */
	if (icmp_is_error(v6, type)) {
		if (icmp_err_key(p, ich + 1, data_end,
				 p->ip_len - hlen - sizeof(*ich)) < 0) {
			*cnt = XLB_CNT_DROP_ICMP;
			return XDP_DROP;
		}
		p->icmp_err =
			(v6 && type == ICMPV6_PKT_TOOBIG) ||
					(!v6 && type == ICMP_DEST_UNREACH &&
					 ich->code == ICMP_FRAG_NEEDED)
				? ICMP_ERR_PTB
				: ICMP_ERR_OTHER;
		return XLB_FORWARD;
	}

	if (v6 && type >= ICMPV6_ND_FIRST && type <= ICMPV6_ND_LAST) {
		*cnt = XLB_CNT_PASS_ICMP_ND;
		return XDP_PASS;
	}
	*cnt = XLB_CNT_DROP_ICMP;
	return XDP_DROP;
}

static __always_inline int handle_ipv4(struct xdp_md *ctx, struct pkt *p,
				       struct hdr_cursor *nh, void *data,
				       void *data_end, struct ethhdr *eth,
				       __u32 *cnt)
{
	struct iphdr *iph;
	__u32 avail, hlen;

	if (parse_iphdr(nh, data_end, &iph) < 0) {
		*cnt = XLB_CNT_PASS_UNPARSED;
		return XDP_PASS;
	}
	if (!filter_has(iph->daddr)) {
		*cnt = XLB_CNT_PASS_NON_VIP;
		return XDP_PASS;
	}
	/* Only from here on: non-VIP traffic should not pay for it. */
	__builtin_memset(p, 0, sizeof(*p));
	p->key.family = XLB_AF_INET;
	p->key.src.v4 = iph->saddr;
	p->key.dst.v4 = iph->daddr;
	p->key.proto = iph->protocol;
	p->l2_len = (void *)iph - data;
	p->ip_len = bpf_ntohs(iph->tot_len);
	p->tos = iph->tos;
	p->df = !!(iph->frag_off & bpf_htons(IP_DF));

	if (iph->version != 4)
		return drop_if_vip(p, XLB_CNT_DROP_IP_VERSION, cnt);
	avail = data_end - (void *)iph;
	hlen = iph->ihl * 4;
	if (iph->ihl < 5 || p->ip_len < hlen || p->ip_len > avail)
		return drop_if_vip(p, XLB_CNT_DROP_MALFORMED, cnt);
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return drop_if_vip(p, XLB_CNT_DROP_FRAGMENT, cnt);
	if (iph->ihl != 5)
		return drop_if_vip(p, XLB_CNT_DROP_IP_OPTIONS, cnt);

	switch (iph->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (parse_l4(nh, data_end, p, sizeof(*iph)) < 0)
			return drop_if_vip(p, XLB_CNT_DROP_MALFORMED, cnt);
		return XLB_FORWARD;
	case IPPROTO_ICMP:
		return handle_icmp(ctx, p, nh, data_end, eth, iph, cnt);
	}
	*cnt = XLB_CNT_PASS_NON_VIP;
	return XDP_PASS;
}

/* IPv6 extension headers that may precede the transport header. */
static __always_inline bool ipv6_is_ext(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case 135: /* mobility */
	case 139: /* host identity */
	case 140: /* shim6 */
		return true;
	}
	return false;
}

static __always_inline int handle_ipv6(struct xdp_md *ctx, struct pkt *p,
				       struct hdr_cursor *nh, void *data,
				       void *data_end, struct ethhdr *eth,
				       __u32 *cnt)
{
	struct ipv6hdr *ip6h;
	__u32 *d;
	int nexthdr;

	nexthdr = parse_ip6hdr(nh, data_end, &ip6h);
	if (nexthdr < 0) {
		*cnt = XLB_CNT_PASS_UNPARSED;
		return XDP_PASS;
	}
	d = ip6h->daddr.in6_u.u6_addr32;
	if (!filter_has(d[0] ^ d[1] ^ d[2] ^ d[3])) {
		*cnt = XLB_CNT_PASS_NON_VIP;
		return XDP_PASS;
	}
	__builtin_memset(p, 0, sizeof(*p));
	p->key.family = XLB_AF_INET6;
	__builtin_memcpy(p->key.src.v6, &ip6h->saddr, 16);
	__builtin_memcpy(p->key.dst.v6, &ip6h->daddr, 16);
	p->key.proto = nexthdr;
	p->l2_len = (void *)ip6h - data;
	p->ip_len = bpf_ntohs(ip6h->payload_len) + sizeof(*ip6h);
	p->tos = ipv6_tclass(ip6h);

	if (ip6h->version != 6)
		return drop_if_vip(p, XLB_CNT_DROP_IP_VERSION, cnt);
	if (p->ip_len > (__u32)(data_end - (void *)ip6h))
		return drop_if_vip(p, XLB_CNT_DROP_MALFORMED, cnt);
	switch (nexthdr) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (parse_l4(nh, data_end, p, sizeof(*ip6h)) < 0)
			return drop_if_vip(p, XLB_CNT_DROP_MALFORMED, cnt);
		return XLB_FORWARD;
	case IPPROTO_ICMPV6:
		return handle_icmp(ctx, p, nh, data_end, eth, ip6h, cnt);
	case IPPROTO_FRAGMENT:
		return drop_if_vip(p, XLB_CNT_DROP_FRAGMENT, cnt);
	}
	if (ipv6_is_ext(nexthdr))
		return drop_if_vip(p, XLB_CNT_DROP_IPV6_EXT, cnt);
	*cnt = XLB_CNT_PASS_NON_VIP;
	return XDP_PASS;
}

SEC("xdp")
int xlb_balance(struct xdp_md *ctx)
{
	void *data, *data_end;
	__u32 frame_len, cnt = XLB_CNT_PASS_UNPARSED;
	struct hdr_cursor nh;
	struct ethhdr *eth;
	struct pkt p;
	int proto, action = XDP_PASS;

	/*
	 * The frame as it arrived, while `xlb trace` runs (trace.h); first,
	 * so that nothing of ours has to live across the call.
	 */
	if (trace_on())
		xlb_trace_in(ctx);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	frame_len = data_end - data;
	nh.pos = data;
	proto = parse_ethhdr(&nh, data_end, &eth);
	if (proto == bpf_htons(ETH_P_IP))
		action = handle_ipv4(ctx, &p, &nh, data, data_end, eth, &cnt);
	else if (proto == bpf_htons(ETH_P_IPV6))
		action = handle_ipv6(ctx, &p, &nh, data, data_end, eth, &cnt);

	if (action == XLB_FORWARD)
		action = forward(ctx, &p, frame_len, &cnt);
	if (action == XLB_EGRESS) {
		/* Counts and traces the packet itself; returns only on error.
		 */
		bpf_tail_call(ctx, &egress_prog, 0);
		action = XDP_DROP;
		cnt = XLB_CNT_DROP_INTERNAL;
	}
	/* The one exit: count the verdict. */
	count_stat(&counters, cnt, frame_len);
	if (trace_on())
		xlb_trace_out(ctx, action, cnt);
	return action;
}

/*
 * The way out over uplinks (uplink.h): the packet xlb_balance handed to
 * egress_scratch leaves by its flow's uplink, within that uplink's MTU,
 * toward its gateway.
 */
SEC("xdp")
int xlb_egress(struct xdp_md *ctx)
{
	__u32 zero = 0, cnt = XLB_CNT_DROP_INTERNAL, frame_len = 0, olen, up;
	struct xlb_uplink_load *load;
	struct xlb_uplink_set *set;
	struct egress_scratch *s;
	struct xlb_backend *be;
	struct xlb_config *cfg;
	const struct xlb_uplink *u;
	struct ethhdr *eth;
	int action = XDP_DROP;
	__u32 mtu;

	s = bpf_map_lookup_elem(&egress_scratch, &zero);
	cfg = bpf_map_lookup_elem(&config, &zero);
	set = bpf_map_lookup_elem(&uplink_set, &zero);
	load = bpf_map_lookup_elem(&uplink_load, &zero);
	if (!s || !cfg || !set || !load)
		goto out;
	frame_len = s->frame_len;
	be = bpf_map_lookup_elem(&backends, &s->backend_id);
	if (!be)
		goto out;
	up = uplink_choose(set, load, s) & (XLB_MAX_UPLINKS - 1);
	if (!up) {
		cnt = XLB_CNT_DROP_NO_UPLINK;
		goto out;
	}
	u = &set->u[up];
	olen = (s->v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) +
	       (s->gue ? sizeof(struct udphdr) : 0);
	mtu = u->mtu ?: cfg->mtu;
	if (mtu && s->p.ip_len + olen > mtu) {
		/* Never an ICMP error about an ICMP error. */
		if (s->p.icmp_err)
			cnt = XLB_CNT_DROP_TOO_BIG;
		else
			action = too_big(ctx, &s->p, cfg, mtu, olen, &cnt);
		goto out;
	}

	if (encap_counted(ctx, &s->p, s->fhash, s->v6, s->gue, be, cfg,
			  s->vip_id, s->backend_id, frame_len, &cnt))
		goto out;
	/* The uplink's MACs over those encap() wrote from the config. */
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end) {
		cnt = XLB_CNT_DROP_INTERNAL; /* never: encap() checked it */
		goto out;
	}
	__builtin_memcpy(eth->h_dest, u->gw_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, u->src_mac, ETH_ALEN);
	/* The frame as it leaves: L2, the outer header(s), the IP packet. */
	xlb_uplink_account(load, up, s->p.l2_len + olen + s->p.ip_len);
	if (u->ifindex == ctx->ingress_ifindex)
		action = XDP_TX;
	else
		action = bpf_redirect_map(&uplink_tx, up, XDP_DROP);
out:
	count_stat(&counters, cnt, frame_len);
	if (trace_on())
		xlb_trace_out(ctx, action, cnt);
	return action;
}
