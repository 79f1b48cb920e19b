/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Packet capture for `xlb trace` (include/xlb/trace.h). While no trace
 * runs the balancer pays an inlined array lookup and a branch at its
 * entry and again at its exit (trace_on(), some 1-2 ns in all by `make
 * bench`): the switch is read twice because carrying it, or the map
 * value's pointer, through xlb_balance makes the verifier walk 2.5 times
 * the states (740k of its 1M instructions). While one runs, xlb_trace_in()
 * keeps the first bytes of the frame as it arrived in this CPU's scratch
 * record, before anything rewrites it, and xlb_trace_out(), after the verdict,
 * adds what was done (action, verdict counter, the leaving frame's headers for
 * XDP_TX), applies the filters and the 1-in-N sampling, and queues the record
 * in trace_events. Both are global functions: the verifier checks each once,
 * not once for every path of xlb_balance that reaches them, and they keep their
 * few locals out of its frame.
 *
 * Filters are evaluated here, on the copied bytes, so a trace of one VIP
 * on a busy host queues only that VIP's packets and the ring does not
 * overflow with the rest.
 */
#ifndef XLB_BPF_TRACE_H
#define XLB_BPF_TRACE_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include "maps.h"

/*
 * `xlb trace`'s switch and filters (include/xlb/trace.h): a global
 * variable in a section of its own, which libbpf makes a one-element
 * array map (".data.trace", pinned as "trace" by the loader so the CLI
 * and every load of the balancer share it). The program reads it at an
 * address fixed at load: no helper call, no null check.
 */
struct xlb_trace_cfg xlb_trace_cfg SEC(".data.trace") = {};

/* Is a trace running? The only cost of tracing when none runs. */
static __always_inline bool trace_on(void)
{
#ifdef XLB_TRACE_NONE /* the bench's baseline (balance_notrace.bpf.c) */
	return false;
#else
	return *(volatile __u32 *)&xlb_trace_cfg.on;
#endif
}

/* The IP destination of a frame's first len bytes, in wire order. */
struct trace_dst {
	union xlb_addr addr;
	__be16 port; /* TCP/UDP destination port, else 0 */
	__u8 proto;
	__u8 family; /* 0: not IP, or cut short */
};

/*
 * Reads the destination from the first len bytes of a frame (at most
 * size, the buffer's length, a constant): Ethernet with up to one tag.
 */
static __always_inline void trace_dst_of(const __u8 *f, __u32 len,
					 const __u32 size, struct trace_dst *d)
{
	__u32 l3 = ETH_HLEN, l4;
	__u16 type;

	__builtin_memset(d, 0, sizeof(*d));
	if (len > size || len < ETH_HLEN + 4)
		return;
	type = f[12] << 8 | f[13];
	if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		type = f[16] << 8 | f[17];
		l3 = ETH_HLEN + 4;
	}
	if (type == ETH_P_IP) {
		if (len < l3 + sizeof(struct iphdr))
			return;
		d->proto = f[l3 + 9];
		__builtin_memcpy(&d->addr.v4, &f[l3 + 16], 4);
		d->family = XLB_AF_INET;
		l4 = l3 + (f[l3] & 0xf) * 4;
	} else if (type == ETH_P_IPV6) {
		if (len < l3 + sizeof(struct ipv6hdr))
			return;
		d->proto = f[l3 + 6];
		__builtin_memcpy(d->addr.v6, &f[l3 + 24], 16);
		d->family = XLB_AF_INET6;
		l4 = l3 + sizeof(struct ipv6hdr);
	} else {
		return;
	}
	if ((d->proto == IPPROTO_TCP || d->proto == IPPROTO_UDP) &&
	    l4 + 4 <= len && l4 + 4 <= size)
		d->port = bpf_htons(f[l4 + 2] << 8 | f[l4 + 3]);
}

static __always_inline bool trace_addr_eq(const struct trace_dst *d,
					  __u8 family, const union xlb_addr *a)
{
	if (d->family != family)
		return false;
	if (family == XLB_AF_INET)
		return d->addr.v4 == a->v4;
	return d->addr.v6[0] == a->v6[0] && d->addr.v6[1] == a->v6[1] &&
	       d->addr.v6[2] == a->v6[2] && d->addr.v6[3] == a->v6[3];
}

/*
 * Keeps the first bytes of the arriving frame (frame_len long) in this
 * CPU's record: 1 when kept, 0 when the packet is not to be traced.
 */
__noinline int xlb_trace_in(struct xdp_md *ctx)
{
	struct xlb_trace_scratch *sc;
	__u32 zero = 0, len, frame_len;

	sc = bpf_map_lookup_elem(&trace_scratch, &zero);
	if (!sc || !ctx)
		return 0;
	/* After the lookup: a packet pointer must not be spilled across it. */
	frame_len = (void *)(long)ctx->data_end - (void *)(long)ctx->data;
	len = frame_len;
	barrier_var(len); /* bounded itself, not through a copy */
	if (len > XLB_TRACE_SNAP)
		len = XLB_TRACE_SNAP;
	if (len < 1 || bpf_xdp_load_bytes(ctx, 0, sc->ev.data, len))
		return 0;
	sc->ev.snap_len = len;
	sc->ev.frame_len = frame_len;
	sc->armed = 1;
	return 1;
}

/*
 * After the verdict: completes the record with what was done, and queues
 * it when it passes the filters and the sampling. Returns 0.
 */
__noinline int xlb_trace_out(struct xdp_md *ctx, __u32 action, __u32 reason)
{
	__u32 zero = 0, len;
	struct xlb_trace_scratch *sc =
		bpf_map_lookup_elem(&trace_scratch, &zero);
	struct xlb_trace_cfg *tc = &xlb_trace_cfg;
	struct trace_dst d;
	void *data, *data_end;

	if (!sc || !tc || !ctx)
		return 0;
	/* Not when the switch was flipped on after the packet's start. */
	if (!sc->armed)
		return 0;
	sc->armed = 0;
	if ((tc->match & XLB_TRACE_M_REASON) && reason != tc->reason)
		return 0;
	if (tc->match & XLB_TRACE_M_VIP) {
		trace_dst_of(sc->ev.data, sc->ev.snap_len, XLB_TRACE_SNAP, &d);
		if (!trace_addr_eq(&d, tc->vip_family, &tc->vip))
			return 0;
		if ((tc->match & XLB_TRACE_M_PROTO) && d.proto != tc->vip_proto)
			return 0;
		if ((tc->match & XLB_TRACE_M_PORT) && d.port != tc->vip_port)
			return 0;
	}
	sc->ev.out_len = 0;
	sc->ev.out_snap = 0;
	if (action == XDP_TX) {
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		len = data_end - data;
		sc->ev.out_len = len;
		if (len > XLB_TRACE_OUT_SNAP)
			len = XLB_TRACE_OUT_SNAP;
		if (len >= 1 && !bpf_xdp_load_bytes(ctx, 0, sc->ev.out, len))
			sc->ev.out_snap = len;
	}
	if (tc->match & XLB_TRACE_M_BACKEND) {
		trace_dst_of(sc->ev.out, sc->ev.out_snap, XLB_TRACE_OUT_SNAP,
			     &d);
		if (!trace_addr_eq(&d, tc->backend_family, &tc->backend))
			return 0;
	}
	if (tc->sample > 1 && sc->seen++ % tc->sample)
		return 0;
	sc->ev.action = action;
	sc->ev.reason = reason;
	sc->ev.ts_ns = bpf_ktime_get_ns();
	sc->ev.ifindex = ctx->ingress_ifindex;
	sc->ev.cpu = bpf_get_smp_processor_id();
	if (bpf_ringbuf_output(&trace_events, &sc->ev, sizeof(sc->ev), 0))
		sc->ev.lost++;
	return 0;
}

#endif /* XLB_BPF_TRACE_H */
