/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Egress over several uplinks: what the data path and xlbd share.
 *
 * Without uplinks, every encapsulated frame leaves by XDP_TX through the
 * NIC it came in on, toward config.gw_mac. With an uplink set (xlbd
 * writes uplink_set and the uplink_tx DEVMAP, and config.n_uplinks), a
 * new flow is given the uplink whose recent bytes are furthest below its
 * target share (xlb_uplink_pick), the choice is recorded in the flow's
 * entry (xlb_flow_entry.uplink), and every packet of the flow leaves
 * through it: XDP_TX when it is the receiving NIC, else XDP_REDIRECT
 * through uplink_tx, toward that uplink's gateway MAC, within its MTU.
 * An uplink xlbd marks down is left by each of its flows on the flow's
 * next packet, for the best live one (counted); none live: encapsulated
 * traffic is dropped and counted.
 *
 * Recent bytes are per CPU, in windows of XLB_UPLINK_WINDOW_NS: a CPU's
 * choice weighs this window's bytes and half of the last one's, so it
 * follows current traffic; each CPU converges on the shares by itself,
 * as each carries its own flows. A flow chosen counts a recent flow's
 * mean bytes as pending until as many bytes have gone out
 * (xlb_uplink_charge). The window turns at a choice
 * (xlb_uplink_age), so a packet of a flow that has its uplink only adds
 * its bytes.
 */
#ifndef XLB_UPLINK_H
#define XLB_UPLINK_H

#include <linux/types.h>
#include "types.h"

#ifndef XLB_INLINE
#ifdef __bpf__
#define XLB_INLINE static __attribute__((always_inline)) inline
#else
#define XLB_INLINE static inline
#endif
#endif

/* Uplink ids 1 .. XLB_MAX_UPLINKS - 1; 0 is "none" (a flow not given one). */
#define XLB_MAX_UPLINKS 8
/* Target shares: 1 .. XLB_UPLINK_SHARE_MAX (relative to each other). */
#define XLB_UPLINK_SHARE_MAX 1000
#define XLB_UPLINK_WINDOW_NS (1000ULL * 1000 * 1000)
/*
 * Pending bytes expire this many times as fast as bytes go out: new
 * flows' charges add up, on average, to the bytes going out (a flow's
 * mean is what is charged), so at the same pace the pending sum would
 * wander without bound, and its part would turn the byte rule into a
 * count of flows (off by 5 points under heavy-tailed sizes in the unit
 * simulation); twice as fast it stays near zero but in bursts.
 */
#define XLB_UPLINK_PEND_DRAIN 2

/* A flow's bytes when nothing recent says more (a full frame). */
#define XLB_UPLINK_MIN_CHARGE 1500

/* Slots of xlb_uplink_set.slot (a power of two). */
#define XLB_UPLINK_SLOTS 64
_Static_assert((XLB_MAX_UPLINKS & (XLB_MAX_UPLINKS - 1)) == 0,
	       "uplink ids are masked with XLB_MAX_UPLINKS - 1");

/* Uplink states (xlb_uplink.state). */
enum xlb_uplink_state {
	XLB_UPLINK_UNUSED = 0,
	XLB_UPLINK_UP = 1,
	XLB_UPLINK_DOWN = 2, /* link, carrier or gateway lost: left at once */
};

/* One uplink as the data path uses it. */
struct xlb_uplink {
	__u32 ifindex;	 /* where it leaves (uplink_tx holds the same) */
	__u8 gw_mac[6];	 /* the next hop on it */
	__u8 src_mac[6]; /* the interface's own MAC */
	__u8 state;	 /* enum xlb_uplink_state */
	__u8 pad;
	__u16 mtu;   /* largest outer IP packet on it; 0: config.mtu */
	__u16 share; /* target share, 1 .. XLB_UPLINK_SHARE_MAX */
	__u16 pad2;
};
_Static_assert(sizeof(struct xlb_uplink) == 24, "xlb_uplink size");

/*
 * uplink_set, the single element of an ARRAY: every uplink by id (one
 * lookup per packet that needs them). xlbd writes it whole; a changed
 * byte is read either old or new, and only a gateway MAC changes more
 * than one byte at a time (a frame toward a half-new MAC is lost, as on
 * any gateway change).
 */
struct xlb_uplink_set {
	struct xlb_uplink u[XLB_MAX_UPLINKS];
	/*
	 * Ids of the uplinks up, each in a number of slots by its share
	 * (xlb_uplink_fill_slots): a frame without a flow entry (a VIP
	 * without the flow table, an RST, an ICMP error) leaves by
	 * slot[hash % XLB_UPLINK_SLOTS], so one connection's frames keep
	 * one uplink without an entry. 0 in every slot: none up.
	 */
	__u8 slot[XLB_UPLINK_SLOTS];
};

/*
 * uplink_load value (per CPU, one element): bytes sent per uplink, in
 * the current window and the one before (the rule's), and in all
 * (xlbd's shares, metrics); flows moved off each because it was down.
 */
struct xlb_uplink_load {
	__u64 window_start_ns;
	__u64 cur[XLB_MAX_UPLINKS];
	__u64 prev[XLB_MAX_UPLINKS];
	__u64 bytes[XLB_MAX_UPLINKS];
	__u64 packets[XLB_MAX_UPLINKS];
	__u64 failovers[XLB_MAX_UPLINKS]; /* flows that left it */
	__u64 flows_cur, flows_prev;	  /* choices made, in the two windows */
	/* flows chosen lately: what they are expected to send */
	__u64 pend[XLB_MAX_UPLINKS];
	__u64 sent, sent_seen; /* bytes by all uplinks; at the last choice */
};

/*
 * Recent bytes of uplink i: this window's and half of the last one's,
 * and what the flows just given to it are expected to send.
 */
XLB_INLINE __u64 xlb_uplink_recent(const struct xlb_uplink_load *l, __u32 i)
{
	return l->cur[i] + (l->prev[i] >> 1) + l->pend[i];
}

/*
 * The uplink for a new flow: of those up, the one whose recent bytes are
 * furthest below its share, i.e. the largest (total / bytes_i) x s_i,
 * compared as bytes_i / s_i without a division (an uplink with no bytes
 * yet wins; among those, the larger share). 0 when none is up.
 */
XLB_INLINE __u32 xlb_uplink_pick(const struct xlb_uplink_set *set,
				 const struct xlb_uplink_load *l)
{
	__u64 best_b = 0, b;
	__u32 best = 0, best_s = 0, s;

#ifdef __bpf__
#pragma unroll
#endif
	for (__u32 i = 1; i < XLB_MAX_UPLINKS; i++) {
		if (set->u[i].state != XLB_UPLINK_UP)
			continue;
		s = set->u[i].share ? set->u[i].share : 1;
		b = l ? xlb_uplink_recent(l, i) : 0;
		/* b / s < best_b / best_s, and ties to the larger share */
		if (!best || b * best_s < best_b * s ||
		    (b * best_s == best_b * s && s > best_s)) {
			best = i;
			best_b = b;
			best_s = s;
		}
	}
	return best;
}

/*
 * Fills set->slot from the uplinks up and their shares: each gets slots
 * in proportion to its share (largest remainders for the rest, so one
 * up has at least one while it is among the largest), interleaved so
 * neighbouring hashes spread; every slot 0 when none is up. Userspace
 * calls it before every write of the set.
 */
static inline void xlb_uplink_fill_slots(struct xlb_uplink_set *set)
{
	__u32 total = 0, given = 0, n = 0;
	__u32 want[XLB_MAX_UPLINKS] = {0}, rem[XLB_MAX_UPLINKS] = {0};

	for (__u32 j = 0; j < XLB_UPLINK_SLOTS; j++)
		set->slot[j] = 0;
	for (__u32 i = 1; i < XLB_MAX_UPLINKS; i++)
		if (set->u[i].state == XLB_UPLINK_UP)
			total += set->u[i].share ? set->u[i].share : 1;
	if (!total)
		return;
	for (__u32 i = 1; i < XLB_MAX_UPLINKS; i++) {
		__u32 s = set->u[i].share ? set->u[i].share : 1;

		if (set->u[i].state != XLB_UPLINK_UP)
			continue;
		want[i] = s * XLB_UPLINK_SLOTS / total;
		rem[i] = s * XLB_UPLINK_SLOTS % total + 1;
		given += want[i];
	}
	while (given < XLB_UPLINK_SLOTS) {
		__u32 best = 0;

		for (__u32 i = 1; i < XLB_MAX_UPLINKS; i++)
			if (rem[i] && (!best || rem[i] > rem[best]))
				best = i;
		want[best]++;
		rem[best] = 0;
		given++;
	}
	while (n < XLB_UPLINK_SLOTS)
		for (__u32 i = 1; i < XLB_MAX_UPLINKS && n < XLB_UPLINK_SLOTS;
		     i++)
			if (want[i]) {
				set->slot[n++] = (__u8)i;
				want[i]--;
			}
}

/*
 * Turns the window when due: called before each choice (a new flow, or
 * one leaving a down uplink), never per packet, so the hit path reads no
 * clock. After n windows without a choice, prev is the mean of them.
 */
XLB_INLINE void xlb_uplink_age(struct xlb_uplink_load *l, __u64 now_ns)
{
	__u64 n, d = l->sent - l->sent_seen, p = 0, keep;

	/*
	 * Pending bytes expire as bytes go out, by any uplink: twice as
	 * many in all, each uplink's in proportion to its pending (in
	 * 1/1024ths).
	 */
	l->sent_seen = l->sent;
#ifdef __bpf__
#pragma unroll
#endif
	for (__u32 j = 0; j < XLB_MAX_UPLINKS; j++)
		p += l->pend[j];
	keep = d * XLB_UPLINK_PEND_DRAIN >= p
		       ? 0
		       : 1024 - d * XLB_UPLINK_PEND_DRAIN * 1024 / p;
#ifdef __bpf__
#pragma unroll
#endif
	for (__u32 j = 0; j < XLB_MAX_UPLINKS; j++)
		l->pend[j] = l->pend[j] * keep / 1024;
	if (now_ns - l->window_start_ns < XLB_UPLINK_WINDOW_NS)
		return;
	n = (now_ns - l->window_start_ns) / XLB_UPLINK_WINDOW_NS;
#ifdef __bpf__
#pragma unroll
#endif
	for (__u32 j = 0; j < XLB_MAX_UPLINKS; j++) {
		l->prev[j] = n == 1 ? l->cur[j] : l->cur[j] / n;
		l->cur[j] = 0;
		l->pend[j] >>= 1; /* of flows that never sent */
	}
	l->flows_prev = n == 1 ? l->flows_cur : l->flows_cur / n;
	l->flows_cur = 0;
	l->window_start_ns = now_ns;
}

/*
 * Charges uplink i, just chosen for a new flow, with a recent flow's mean
 * bytes (at least XLB_UPLINK_MIN_CHARGE) as pending: the flows of a burst
 * of connections, chosen before the first of them has sent, then spread
 * by the shares instead of all going to the uplink furthest below its
 * share at the burst's start. Pending bytes expire as bytes go out by
 * any uplink (xlb_uplink_age), each uplink's in proportion to its own:
 * choices that follow the shares add pending in the shares' proportion,
 * and its expiry keeps that proportion, so it biases no uplink.
 */
XLB_INLINE void xlb_uplink_charge(struct xlb_uplink_load *l, __u32 i)
{
	__u64 flows = l->flows_cur + (l->flows_prev >> 1), bytes = 0, c;

	if (i >= XLB_MAX_UPLINKS)
		return;
#ifdef __bpf__
#pragma unroll
#endif
	for (__u32 j = 1; j < XLB_MAX_UPLINKS; j++)
		bytes += xlb_uplink_recent(l, j);
	c = flows ? bytes / flows : 0;
	l->pend[i] += c > XLB_UPLINK_MIN_CHARGE ? c : XLB_UPLINK_MIN_CHARGE;
	l->flows_cur++;
}

/* Adds a sent frame to uplink i's bytes. */
XLB_INLINE void xlb_uplink_account(struct xlb_uplink_load *l, __u32 i,
				   __u32 bytes)
{
	if (i < XLB_MAX_UPLINKS) {
		l->cur[i] += bytes;
		l->bytes[i] += bytes;
		l->packets[i]++;
		l->sent += bytes;
	}
}

#endif /* XLB_UPLINK_H */
