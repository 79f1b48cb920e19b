/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Full-NAT in the balancer (include/xlb/nat.h has the shapes and the
 * division of work with xlbd). Client -> VIP becomes NAT address:port ->
 * backend:port, the backend's reply NAT address:port <- backend becomes
 * VIP -> client, and an ICMP error about either is translated with the
 * packet it quotes. Frames keep their size: addresses and ports are
 * rewritten in place, checksums updated incrementally (RFC 1624), and the
 * frame goes out through the gateway (config.gw_mac) by XDP_TX, both ways.
 *
 * Rules:
 * - a connection's entries are made by its first packet: a TCP SYN (not
 *   SYN-ACK) or any UDP packet; another TCP packet without an entry is
 *   dropped (nat_no_entry), as IPVS does, since a fresh port would only
 *   earn it a reset from the backend;
 * - a SYN on an entry whose connection ended (both FINs, or an RST)
 *   reopens it on the same port and backend;
 * - an entry whose backend is down (or whose id now names another
 *   address) drops its packets (nat_backend_down) until xlbd's sweep
 *   removes it; the next new connection is hashed to a live backend;
 * - no port left on this CPU: one of another CPU's sub-pools; none on
 *   any: the new connection is dropped and counted (nat_pool_exhausted),
 *   an existing one is never touched;
 * - a packet to a NAT address without an entry goes to the kernel;
 * - TTLs are left as they are: the balancer is the connection's end
 *   toward the client, as in DSR mode.
 */
#ifndef XLB_BPF_NAT_H
#define XLB_BPF_NAT_H

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include "pkt.h"
#include "ring.h"
#include "csum.h"
#include "encap.h"
#include "flow.h"

#ifndef EEXIST
#define EEXIST 17 /* what a BPF_NOEXIST update of a taken key returns */
#endif

/*
 * CPUs a new connection looks through when its own has no port left (a
 * bound for the verifier; machines with more CPUs look at the first 64).
 */
#ifndef XLB_NAT_PROBE_CPUS
#define XLB_NAT_PROBE_CPUS 64
#endif

/* Offsets of the TCP and UDP checksums in their headers. */
#define NAT_TCP_CSUM 16
#define NAT_UDP_CSUM 6

/* The addresses and ports one IP header and its L4 header get. */
struct nat_rw {
	union xlb_addr src, dst;
	__be16 sport, dport;
};

/* One's complement sum of a change, RFC 1624: ~old + new, in words. */
static __always_inline __u64 csum_chg32(__u64 d, __be32 old, __be32 new)
{
	return d + (__u32)~old + new;
}

static __always_inline __u64 csum_chg16(__u64 d, __be16 old, __be16 new)
{
	return d + (__u16)~old + new;
}

/* A checksum field updated by a sum of changes; returns the new value. */
static __always_inline __u16 csum_apply(__u16 check, __u64 d)
{
	return csum_fold((__u16)~check + d);
}

/* A change of address of the family (IPv4 in v6[0]) into d. */
static __always_inline __u64 csum_chg_addr(__u64 d, bool v6, const __be32 *old,
					   const union xlb_addr *new)
{
	d = csum_chg32(d, old[0], new->v6[0]);
	if (v6) {
		d = csum_chg32(d, old[1], new->v6[1]);
		d = csum_chg32(d, old[2], new->v6[2]);
		d = csum_chg32(d, old[3], new->v6[3]);
	}
	return d;
}

/* Frames leave toward the gateway from our own MAC, VLAN tag kept. */
static __always_inline void nat_macs(struct ethhdr *eth,
				     const struct xlb_config *cfg)
{
	const __u8 *self = cfg_src_mac(cfg);

	if (self)
		__builtin_memcpy(eth->h_source, self, ETH_ALEN);
	else
		__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, cfg->gw_mac, ETH_ALEN);
}

/*
 * Rewrites a TCP or UDP packet's addresses and ports to rw. The L4
 * header follows the fixed IP header (no options or extensions reach
 * here). An IPv4 UDP checksum of 0 (none) stays 0; a computed 0 is sent
 * as 0xffff (RFC 768). Returns 0, or -1 when the headers are not there.
 */
static __always_inline int nat_rewrite(struct xdp_md *ctx, const struct pkt *p,
				       const struct nat_rw *rw,
				       const struct xlb_config *cfg)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l2 = p->l2_len == 18 ? 18 : 14;
	bool v6 = p->key.family == XLB_AF_INET6;
	__be16 *ports, *check;
	__u64 d = 0;
	void *l4;

	/* Each family on its own path: the verifier sees its sizes. */
	if (v6) {
		struct ipv6hdr *ip6h = data + l2;
		__be32 *sa, *da;

		if ((void *)(ip6h + 1) > data_end)
			return -1;
		sa = ip6h->saddr.in6_u.u6_addr32;
		da = ip6h->daddr.in6_u.u6_addr32;
		d = csum_chg_addr(d, true, sa, &rw->src);
		d = csum_chg_addr(d, true, da, &rw->dst);
		__builtin_memcpy(sa, rw->src.v6, 16);
		__builtin_memcpy(da, rw->dst.v6, 16);
		l4 = ip6h + 1;
	} else {
		struct iphdr *iph = data + l2;

		if ((void *)(iph + 1) > data_end)
			return -1;
		d = csum_chg32(d, iph->saddr, rw->src.v4);
		d = csum_chg32(d, iph->daddr, rw->dst.v4);
		iph->check = csum_apply(iph->check, d);
		iph->saddr = rw->src.v4;
		iph->daddr = rw->dst.v4;
		l4 = iph + 1;
	}
	if (p->key.proto == IPPROTO_TCP) {
		if (l4 + sizeof(struct tcphdr) > data_end)
			return -1;
		check = l4 + NAT_TCP_CSUM;
	} else {
		if (l4 + sizeof(struct udphdr) > data_end)
			return -1;
		check = l4 + NAT_UDP_CSUM;
	}
	ports = l4;
	d = csum_chg16(d, ports[0], rw->sport);
	d = csum_chg16(d, ports[1], rw->dport);
	if (p->key.proto == IPPROTO_TCP)
		*check = csum_apply(*check, d);
	else if (*check || v6)
		*check = csum_apply(*check, d) ?: 0xffff;
	ports[0] = rw->sport;
	ports[1] = rw->dport;
	nat_macs(data, cfg);
	return 0;
}

/*
 * Rewrites an ICMP error: the outer addresses to outer->src/dst, the
 * packet it quotes (an IP header without options and at least 8 bytes of
 * TCP or UDP: icmp_err_key() checked) to inner. The quoted IP checksum,
 * the quoted TCP/UDP checksum when it was quoted, and the ICMP checksum
 * (ICMPv6: its pseudo-header too) follow. Returns 0 or -1.
 */
static __always_inline int nat_icmp_rewrite(struct xdp_md *ctx,
					    const struct pkt *p,
					    const struct nat_rw *outer,
					    const struct nat_rw *inner,
					    const struct xlb_config *cfg)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l2 = p->l2_len == 18 ? 18 : 14;
	bool v6 = p->key.family == XLB_AF_INET6;
	__u32 ohlen = v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u64 dout = 0, din = 0, dicmp = 0;
	__be16 *ports, *l4check = NULL;
	struct icmphdr *ich;
	__u32 quoted;
	__u16 old;
	void *il4;

	/*
	 * Addresses, each family on its own path: the quoted ones (and the
	 * quoted IPv4 checksum), then the outer ones (and the outer IPv4
	 * checksum; ICMPv6 sums them in its pseudo-header).
	 */
	if (v6) {
		struct ipv6hdr *o = data + l2, *i;
		__be32 *a;

		if ((void *)(o + 1) > data_end)
			return -1;
		ich = (void *)(o + 1);
		i = (void *)(ich + 1);
		if ((void *)(i + 1) > data_end)
			return -1;
		a = i->saddr.in6_u.u6_addr32;
		din = csum_chg_addr(din, true, a, &inner->src);
		__builtin_memcpy(a, inner->src.v6, 16);
		a = i->daddr.in6_u.u6_addr32;
		din = csum_chg_addr(din, true, a, &inner->dst);
		__builtin_memcpy(a, inner->dst.v6, 16);
		a = o->saddr.in6_u.u6_addr32;
		dout = csum_chg_addr(dout, true, a, &outer->src);
		__builtin_memcpy(a, outer->src.v6, 16);
		a = o->daddr.in6_u.u6_addr32;
		dout = csum_chg_addr(dout, true, a, &outer->dst);
		__builtin_memcpy(a, outer->dst.v6, 16);
		dicmp = din + dout;
		il4 = i + 1;
	} else {
		struct iphdr *o = data + l2, *i;

		if ((void *)(o + 1) > data_end)
			return -1;
		ich = (void *)(o + 1);
		i = (void *)(ich + 1);
		if ((void *)(i + 1) > data_end)
			return -1;
		din = csum_chg32(din, i->saddr, inner->src.v4);
		din = csum_chg32(din, i->daddr, inner->dst.v4);
		i->saddr = inner->src.v4;
		i->daddr = inner->dst.v4;
		old = i->check;
		i->check = csum_apply(old, din);
		dicmp = csum_chg16(din, old, i->check);
		dout = csum_chg32(dout, o->saddr, outer->src.v4);
		dout = csum_chg32(dout, o->daddr, outer->dst.v4);
		o->saddr = outer->src.v4;
		o->daddr = outer->dst.v4;
		o->check = csum_apply(o->check, dout);
		il4 = i + 1;
	}
	if (il4 + 8 > data_end)
		return -1;
	ports = il4;
	/* Bytes of the quoted transport header inside the ICMP packet. */
	quoted = p->ip_len - ohlen * 2 - sizeof(*ich);
	if (p->key.proto == IPPROTO_TCP) {
		if (quoted >= NAT_TCP_CSUM + 2 &&
		    il4 + NAT_TCP_CSUM + 2 <= data_end)
			l4check = il4 + NAT_TCP_CSUM;
	} else {
		l4check = il4 + NAT_UDP_CSUM;
		if (!*l4check && !v6)
			l4check = NULL;
	}

	/* The quoted ports; the quoted L4 checksum covers its addresses. */
	din = csum_chg16(din, ports[0], inner->sport);
	din = csum_chg16(din, ports[1], inner->dport);
	dicmp = csum_chg16(dicmp, ports[0], inner->sport);
	dicmp = csum_chg16(dicmp, ports[1], inner->dport);
	ports[0] = inner->sport;
	ports[1] = inner->dport;
	if (l4check) {
		old = *l4check;
		*l4check = csum_apply(old, din);
		if (p->key.proto == IPPROTO_UDP && !*l4check)
			*l4check = 0xffff;
		dicmp = csum_chg16(dicmp, old, *l4check);
	}
	ich->checksum = csum_apply(ich->checksum, dicmp);
	nat_macs(data, cfg);
	return 0;
}

static __always_inline void nat_event(__u32 kind, __u32 pool_id, __u32 sp)
{
	struct xlb_nat_event ev = {
		.kind = kind,
		.cpu = bpf_get_smp_processor_id(),
		.pool_id = pool_id,
		.subpool = sp,
	};

	/* A hint: when the ring is full xlbd is awake anyway. */
	bpf_ringbuf_output(&nat_events, &ev, sizeof(ev), 0);
}

/*
 * A port of the first of the sub-pools nc holds that has one left (one
 * atomic add on its `next`, so two CPUs never get the same port) into f
 * (address, port, sub-pool). 0, or -1 when none is left.
 */
static __always_inline int nat_take(const struct xlb_nat_cpu *nc, __u32 pool_id,
				    struct xlb_nat_fwd *f)
{
	struct xlb_nat_subpool *sp;
	__u32 id, idx;

	for (int i = 0; i < XLB_NAT_SLOTS; i++) {
		id = nc->subpool[i];
		if (!id)
			continue;
		sp = bpf_map_lookup_elem(&nat_subpools, &id);
		/* Read first: a used-up sub-pool costs no atomic. */
		if (!sp || sp->next >= sp->count)
			continue;
		idx = __sync_fetch_and_add(&sp->next, 1);
		if (idx >= sp->count)
			continue;
		if (idx == sp->low_at)
			nat_event(XLB_NAT_EV_LOW, pool_id, id);
		f->nat_addr = sp->addr;
		f->nat_port = bpf_htons(sp->port_first + idx);
		f->subpool = id;
		return 0;
	}
	return -1;
}

/*
 * A port of this CPU's sub-pools of the pool into f, this CPU's scratch
 * entry; when they are used up, one of another CPU's (the same atomic
 * add: only the cache line is shared), so the pool's ports serve
 * wherever connections arrive, also while xlbd is late or away, and a
 * connection is refused only when no CPU holds a port. xlbd hears of
 * either: LOW with no sub-pool (this CPU wants one), EXHAUSTED (a
 * connection refused). 0, or -1.
 */
static __always_inline int nat_alloc(__u32 pool_id, struct xlb_nat_fwd *f)
{
	__u32 self = bpf_get_smp_processor_id();
	struct xlb_nat_cpu *nc;

	nc = bpf_map_lookup_elem(&nat_cpu, &pool_id);
	if (!nc)
		return -1;
	if (!nat_take(nc, pool_id, f))
		return 0;
	/* A plain bounded loop: bpf_loop's callback frame would not fit. */
	for (__u32 c = 0; c < XLB_NAT_PROBE_CPUS && c < xlb_flow_ncpus; c++) {
		if (c == self)
			continue;
		nc = bpf_map_lookup_percpu_elem(&nat_cpu, &pool_id, c);
		if (!nc)
			break;
		if (!nat_take(nc, pool_id, f)) {
			/* Served; this CPU wants a sub-pool of its own. */
			nat_event(XLB_NAT_EV_LOW, pool_id, 0);
			return 0;
		}
	}
	nat_event(XLB_NAT_EV_EXHAUSTED, pool_id, 0);
	return -1;
}

/* Records what a TCP packet says of the connection's end. */
static __always_inline void nat_track(struct xlb_nat_fwd *f,
				      const struct pkt *p, __u32 fin_bit,
				      __u32 stamp)
{
	__u32 bits = 0;

	if (p->tcp_flags & PKT_FIN)
		bits |= fin_bit;
	if (p->tcp_flags & PKT_RST)
		bits |= XLB_NAT_F_RST;
	/* Either side's CPU may set a bit: or-ed, and only when new. */
	if (bits & ~f->flags)
		__sync_fetch_and_or(&f->flags, bits);
	if (stamp - f->stamp >= XLB_FLOW_REFRESH)
		f->stamp = stamp;
}

/* Does the entry's backend still serve it (up or draining, same host)? */
static __always_inline bool nat_backend_ok(const struct xlb_nat_fwd *f)
{
	__u32 id = f->backend_id;
	struct xlb_backend *be = bpf_map_lookup_elem(&backends, &id);

	return flow_backend_ok(be) && be->addr.v6[0] == f->backend.v6[0] &&
	       be->addr.v6[1] == f->backend.v6[1] &&
	       be->addr.v6[2] == f->backend.v6[2] &&
	       be->addr.v6[3] == f->backend.v6[3];
}

/*
 * A new connection: a backend from the ring, a port from this CPU's
 * sub-pools, the reply's entry and then the request's. Returns the
 * entry, or NULL with *cnt set.
 */
static __always_inline struct xlb_nat_fwd *nat_open(const struct pkt *p,
						    const struct xlb_vip *vip,
						    __u32 hash, __u32 stamp,
						    __u32 *cnt)
{
	struct xlb_backend *be = NULL;
	struct nat_scratch *sc;
	struct xlb_nat_fwd *f;
	bool skipped = false;
	__u32 zero = 0, id;
	long err;

	sc = bpf_map_lookup_elem(&nat_scratch, &zero);
	if (!sc) {
		*cnt = XLB_CNT_DROP_INTERNAL;
		return NULL;
	}
	id = ring_pick(vip, hash, &be, &skipped, cnt);
	if (!id || !be)
		return NULL;
	if (skipped)
		count_event(XLB_CNT_FAILOVER_REPICK);
	__builtin_memset(&sc->fwd, 0, sizeof(sc->fwd));
	if (nat_alloc(vip->pool_id, &sc->fwd)) {
		*cnt = XLB_CNT_DROP_NAT_POOL_EXHAUSTED;
		return NULL;
	}
	sc->fwd.backend_id = id;
	sc->fwd.vip_id = vip->vip_id;
	sc->fwd.stamp = stamp;
	sc->fwd.backend = be->addr;
	sc->rev = (struct xlb_flow_key){
		.src = be->addr,
		.dst = sc->fwd.nat_addr,
		.sport = p->key.dport,
		.dport = sc->fwd.nat_port,
		.proto = p->key.proto,
		.family = p->key.family,
	};
	/* Its value, struct xlb_nat_rev, is the request's key. */
	err = bpf_map_update_elem(&nat_rev, &sc->rev, &p->key, BPF_NOEXIST);
	if (err) {
		/* Taken: a sub-pool reused too early, which xlbd never does. */
		*cnt = err == -EEXIST ? XLB_CNT_DROP_INTERNAL
				      : XLB_CNT_DROP_NAT_TABLE_FULL;
		return NULL;
	}
	err = bpf_map_update_elem(&nat_fwd, &p->key, &sc->fwd, BPF_NOEXIST);
	if (err) {
		bpf_map_delete_elem(&nat_rev, &sc->rev);
		/* Another CPU made it first (a retransmission): use it. */
		f = err == -EEXIST ? bpf_map_lookup_elem(&nat_fwd, &p->key)
				   : NULL;
		if (!f)
			*cnt = XLB_CNT_DROP_NAT_TABLE_FULL;
		return f;
	}
	count_event(XLB_CNT_NAT_INSERT);
	count_new_flow(sc->fwd.vip_id, sc->fwd.backend_id);
	return bpf_map_lookup_elem(&nat_fwd, &p->key);
}

/*
 * Client -> NAT VIP: the connection's entry (made by its first packet),
 * then the rewrite toward its backend.
 */
static __noinline int nat_forward(struct xdp_md *ctx, const struct pkt *p,
				  const struct xlb_vip *vip, __u32 hash,
				  __u32 *cnt)
{
	bool syn = (p->tcp_flags & (PKT_SYN | PKT_ACK)) == PKT_SYN;
	__u32 zero = 0, frame_len, stamp;
	struct xlb_config *cfg;
	struct xlb_nat_fwd *f;
	struct nat_rw rw;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg) {
		*cnt = XLB_CNT_DROP_INTERNAL;
		return XDP_DROP;
	}

	f = bpf_map_lookup_elem(&nat_fwd, &p->key);
	if (!f) {
		if (p->key.proto == IPPROTO_TCP && !syn) {
			*cnt = XLB_CNT_DROP_NAT_NO_ENTRY;
			return XDP_DROP;
		}
		f = nat_open(p, vip, hash, xlb_flow_stamp(flow_clock_ns()),
			     cnt);
		if (!f)
			return XDP_DROP;
	} else if (syn && (f->flags & XLB_NAT_F_RST ||
			   (f->flags & XLB_NAT_F_CLOSED) == XLB_NAT_F_CLOSED)) {
		/* The client reuses its port: a new connection, same way. */
		__sync_fetch_and_and(&f->flags, 0);
		count_event(XLB_CNT_NAT_REOPEN);
	}
	if (!nat_backend_ok(f)) {
		*cnt = XLB_CNT_DROP_NAT_BACKEND_DOWN;
		return XDP_DROP;
	}
	/* A refresh, XLB_FLOW_REFRESH units apart: the tick is enough. */
	stamp = xlb_flow_stamp(flow_clock_tick_ns());
	nat_track(f, p, XLB_NAT_F_FIN_CLIENT, stamp);
	rw.src = f->nat_addr;
	rw.dst = f->backend;
	rw.sport = f->nat_port;
	rw.dport = p->key.dport;
	if (nat_rewrite(ctx, p, &rw, cfg)) {
		*cnt = XLB_CNT_DROP_INTERNAL;
		return XDP_DROP;
	}
	/* The frame kept its size: measured here, where nothing spills it. */
	frame_len = ctx->data_end - ctx->data;
	*cnt = XLB_CNT_TX_NAT;
	count_stat(&vip_stats, vip->vip_id, frame_len);
	count_stat(&backend_stats, f->backend_id, frame_len);
	return XDP_TX;
}

/*
 * Backend -> NAT address: a reply of a connection, rewritten to come from
 * the VIP to the client. No entry: the kernel's (XDP_PASS).
 */
static __noinline int nat_reply(struct xdp_md *ctx, const struct pkt *p,
				__u32 *cnt)
{
	struct xlb_nat_rev *r = bpf_map_lookup_elem(&nat_rev, &p->key);
	struct xlb_config *cfg;
	struct xlb_nat_fwd *f;
	struct nat_rw rw;
	__u32 zero = 0;

	f = r ? bpf_map_lookup_elem(&nat_fwd, &r->fwd) : NULL;
	if (!f) {
		*cnt = XLB_CNT_PASS_NON_VIP;
		return XDP_PASS;
	}
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg) {
		*cnt = XLB_CNT_DROP_INTERNAL;
		return XDP_DROP;
	}
	nat_track(f, p, XLB_NAT_F_FIN_BACKEND,
		  xlb_flow_stamp(flow_clock_tick_ns()));
	rw.src = r->fwd.dst;
	rw.dst = r->fwd.src;
	rw.sport = r->fwd.dport;
	rw.dport = r->fwd.sport;
	if (nat_rewrite(ctx, p, &rw, cfg)) {
		*cnt = XLB_CNT_DROP_INTERNAL;
		return XDP_DROP;
	}
	*cnt = XLB_CNT_TX_NAT_REPLY;
	return XDP_TX;
}

/* Sends a translated ICMP error on its way (nat_icmp_rewrite), counted. */
static __always_inline int
nat_icmp_send(struct xdp_md *ctx, const struct pkt *p,
	      const struct nat_rw *outer, const struct nat_rw *inner,
	      const struct xlb_config *cfg, __u32 *cnt)
{
	if (nat_icmp_rewrite(ctx, p, outer, inner, cfg)) {
		*cnt = XLB_CNT_DROP_INTERNAL;
		return XDP_DROP;
	}
	*cnt = XLB_CNT_TX_NAT_ICMP;
	return XDP_TX;
}

/*
 * An ICMP error to a NAT VIP about what the client got from it (p keyed
 * by the client's flow): to the backend, as if about its own reply.
 */
static __noinline int nat_icmp_in(struct xdp_md *ctx, const struct pkt *p,
				  __u32 *cnt)
{
	struct xlb_nat_fwd *f = bpf_map_lookup_elem(&nat_fwd, &p->key);
	struct nat_rw outer, inner;
	struct xlb_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!f || !cfg) {
		*cnt = XLB_CNT_DROP_ICMP;
		return XDP_DROP;
	}
	outer.src = f->nat_addr;
	outer.dst = f->backend;
	inner.src = f->backend;
	inner.sport = p->key.dport;
	inner.dst = f->nat_addr;
	inner.dport = f->nat_port;
	return nat_icmp_send(ctx, p, &outer, &inner, cfg, cnt);
}

/*
 * An ICMP error to a NAT address about what we sent a backend (p keyed
 * by the backend's reply): to the client, as if about its own packet.
 * No entry: the kernel's.
 */
static __noinline int nat_icmp_out(struct xdp_md *ctx, const struct pkt *p,
				   __u32 *cnt)
{
	struct xlb_nat_rev *r = bpf_map_lookup_elem(&nat_rev, &p->key);
	struct nat_rw outer, inner;
	struct xlb_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!r || !cfg) {
		*cnt = XLB_CNT_PASS_NON_VIP;
		return XDP_PASS;
	}
	outer.src = r->fwd.dst;
	outer.dst = r->fwd.src;
	inner = (struct nat_rw){
		.src = r->fwd.src,
		.dst = r->fwd.dst,
		.sport = r->fwd.sport,
		.dport = r->fwd.dport,
	};
	return nat_icmp_send(ctx, p, &outer, &inner, cfg, cnt);
}

#endif /* XLB_BPF_NAT_H */
