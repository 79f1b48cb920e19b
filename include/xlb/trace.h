/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Packet capture from the balancer (`xlb trace`): the switch and filters
 * the CLI writes into the pinned `trace` map (the balancer's global
 * xlb_trace_cfg, bpf/trace.h), and the record the
 * program puts into the `trace_events` ring buffer for each packet that
 * passes them. A record holds the frame as it arrived (its first
 * XLB_TRACE_SNAP bytes) and what was done with it: the action, the verdict
 * counter and, for XDP_TX, the first bytes of the frame as it left, which
 * name the backend (the outer or NAT destination).
 */
#ifndef XLB_TRACE_H
#define XLB_TRACE_H

#include <linux/types.h>
#include <xlb/types.h>

/* Bytes of the arriving frame a record keeps (the pcap snap length). */
#ifndef XLB_TRACE_SNAP
#define XLB_TRACE_SNAP 128
#endif
/* Bytes of the leaving frame: VLAN + IPv6 + UDP + GUE + ports fit. */
#define XLB_TRACE_OUT_SNAP 80
/* The ring buffer's size (a power of two of pages): some 1000 records. */
#ifndef XLB_TRACE_RING_BYTES
#define XLB_TRACE_RING_BYTES (256 * 1024)
#endif

/* Which filters of xlb_trace_cfg apply (match bits); all must match. */
#define XLB_TRACE_M_VIP	    (1U << 0) /* destination as it arrived */
#define XLB_TRACE_M_PORT    (1U << 1) /* and its port */
#define XLB_TRACE_M_PROTO   (1U << 2) /* and its protocol */
#define XLB_TRACE_M_BACKEND (1U << 3) /* destination as it left (XDP_TX) */
#define XLB_TRACE_M_REASON  (1U << 4) /* the verdict counter */

/*
 * xlb_trace_cfg. The data path reads `on` once per packet and nothing
 * else while it is 0; the rest only when it is not.
 */
struct xlb_trace_cfg {
	__u32 on;	 /* nonzero: capture */
	__u32 owner_pid; /* the `xlb trace` that turned it on */
	__u32 sample;	 /* keep 1 in N matching packets per CPU; 0, 1: all */
	__u32 match;	 /* XLB_TRACE_M_* */
	union xlb_addr vip;
	union xlb_addr backend;
	__be16 vip_port; /* wire order */
	__u8 vip_proto;	 /* IPPROTO_* */
	__u8 vip_family; /* XLB_AF_* */
	__u8 backend_family;
	__u8 pad;
	__u16 reason; /* enum xlb_counter_id */
};
_Static_assert(sizeof(struct xlb_trace_cfg) == 56, "xlb_trace_cfg size");

/* One captured packet, as the ring buffer carries it. */
struct xlb_trace_event {
	__u64 ts_ns;	 /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 frame_len; /* the arriving frame's length */
	__u32 out_len;	 /* the leaving frame's length (XDP_TX), else 0 */
	__u32 ifindex;	 /* where it arrived */
	__u32 cpu;	 /* which CPU ran it */
	__u32 lost;	 /* records this CPU could not queue (ring full) */
	__u16 reason;	 /* enum xlb_counter_id: the verdict counter */
	__u8 action;	 /* XDP_* */
	__u8 pad;
	__u16 snap_len; /* bytes of data[] filled */
	__u16 out_snap; /* bytes of out[] filled */
	__u32 pad2;
	__u8 data[XLB_TRACE_SNAP];
	__u8 out[XLB_TRACE_OUT_SNAP];
};
_Static_assert(sizeof(struct xlb_trace_event) ==
		       40 + XLB_TRACE_SNAP + XLB_TRACE_OUT_SNAP,
	       "xlb_trace_event size");

/*
 * trace_scratch[0], per CPU: the record of the packet being traced, the
 * count behind 1-in-N sampling, and whether ev holds this packet's
 * arriving frame (a switch flipped on mid-packet must not send another
 * packet's bytes). The records lost on this CPU travel in ev.lost.
 */
struct xlb_trace_scratch {
	struct xlb_trace_event ev;
	__u32 seen;  /* matching packets, for sampling */
	__u32 armed; /* set at entry, cleared at exit */
};
_Static_assert(sizeof(struct xlb_trace_scratch) ==
		       sizeof(struct xlb_trace_event) + 8,
	       "xlb_trace_scratch size");

#endif /* XLB_TRACE_H */
