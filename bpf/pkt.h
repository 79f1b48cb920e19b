/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * What the balancer's parsers learnt about a packet, and the counting
 * every path of it shares: one verdict per packet, events on the side.
 */
#ifndef XLB_PKT_H
#define XLB_PKT_H

#include "maps.h"

#define PKT_SYN (1 << 0)
#define PKT_ACK (1 << 1)
#define PKT_RST (1 << 2)
#define PKT_FIN (1 << 3)

/* What the parsers learnt about the packet. */
struct pkt {
	struct xlb_flow_key key;
	__u32 l2_len;
	__u32 ip_len;
	__u8 tos;
	__u8 tcp_flags; /* PKT_* */
	__u8 df;	/* IPv4 "don't fragment" */
	/*
	 * An ICMP error keyed by the packet it quotes: ICMP_ERR_PTB ("too
	 * big", which DSR forwards too) or ICMP_ERR_OTHER (full-NAT only).
	 */
	__u8 icmp_err;
};

#define ICMP_ERR_PTB   1
#define ICMP_ERR_OTHER 2

/* Returned by the parsers: the packet is for a VIP, call forward(). */
#define XLB_FORWARD (-1)

static __always_inline void count_event(__u32 id)
{
	struct xlb_counter *c = bpf_map_lookup_elem(&counters, &id);

	if (c)
		c->packets++;
}

static __always_inline void count_stat(void *map, __u32 id, __u32 bytes)
{
	struct xlb_counter *c = bpf_map_lookup_elem(map, &id);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/*
 * A flow that just got its table entry: one more for its VIP and its
 * backend. Only at inserts, never on a flow hit, so `xlb top` can show
 * new flows per second.
 */
static __always_inline void count_new_flow(__u32 vip_id, __u32 backend_id)
{
	__u64 *n = bpf_map_lookup_elem(&vip_flows, &vip_id);

	if (n)
		(*n)++;
	n = bpf_map_lookup_elem(&backend_flows, &backend_id);
	if (n)
		(*n)++;
}

#endif /* XLB_PKT_H */
