/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Egress over several uplinks (include/xlb/uplink.h has the shapes, the
 * byte-share rule and what xlbd writes).
 *
 * Its own program, xlb_egress, reached by a tail call: with uplinks set
 * (config.n_uplinks), forward() hands the packet it has parsed and the
 * backend it has picked to egress_scratch and xlb_balance tail-calls
 * xlb_egress, which chooses the uplink, checks the MTU, encapsulates and
 * sends. Not inlined into xlb_balance: the uplink choice's branches after
 * pick_backend cost the verifier its state pruning on every path there
 * (past its million instructions); as a program of its own it is
 * verified once, and without uplinks xlb_balance pays one load and a
 * branch on a field of the config it reads anyway.
 *
 * The choice: a flow with a table entry keeps the uplink its entry
 * names while that is up; an entry naming none (a new flow) or a down
 * one (failover, counted per uplink) gets the byte-share rule's choice,
 * written into the entry, so a flow's packets keep their order on one
 * uplink. A frame without an entry takes the slot its flow hash falls in
 * (xlb_uplink_fill_slots), which is the same for all its packets.
 */
#ifndef XLB_BPF_UPLINK_H
#define XLB_BPF_UPLINK_H

#include "pkt.h"
#include "flow.h"

/* What forward() hands xlb_egress: the packet and the decision. */
struct egress_scratch {
	struct pkt p;
	__u32 backend_id;
	__u32 vip_id;
	__u32 fhash;
	__u32 frame_len;
	__u8 v6;  /* outer header IPv6 */
	__u8 gue; /* a UDP header after it */
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct egress_scratch);
} egress_scratch SEC(".maps");

/*
 * Slot 0: xlb_egress, written by the loader. Pinned like every map, so
 * a program left attached by an xlbd killed keeps reaching it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} egress_prog SEC(".maps");

/* Returned by forward(): tail-call xlb_egress (its scratch is filled). */
#define XLB_EGRESS (-2)

/* Hands the packet to xlb_egress; XLB_EGRESS, or a drop. */
static __always_inline int egress_stash(const struct pkt *p, __u32 vip_id,
					__u32 backend_id, __u32 fhash,
					__u32 frame_len, bool v6, bool gue,
					__u32 *cnt)
{
	__u32 zero = 0;
	struct egress_scratch *s = bpf_map_lookup_elem(&egress_scratch, &zero);

	if (!s) {
		*cnt = XLB_CNT_DROP_INTERNAL;
		return XDP_DROP;
	}
	s->p = *p;
	s->vip_id = vip_id;
	s->backend_id = backend_id;
	s->fhash = fhash;
	s->frame_len = frame_len;
	s->v6 = v6;
	s->gue = gue;
	return XLB_EGRESS;
}

/* The uplink of the slot a flow hash falls in (0: none up). */
static __always_inline __u32 uplink_slot(const struct xlb_uplink_set *set,
					 __u32 hash)
{
	return set->slot[hash & (XLB_UPLINK_SLOTS - 1)] & (XLB_MAX_UPLINKS - 1);
}

/*
 * The uplink a packet leaves by (0: none up), as the file's comment
 * says. Its entry is looked up again here: forward() cannot pass it on
 * (a pointer), nor read its uplink (any read of the entry after
 * pick_backend costs xlb_balance its state pruning).
 */
static __always_inline __u32 uplink_choose(const struct xlb_uplink_set *set,
					   struct xlb_uplink_load *load,
					   const struct egress_scratch *s)
{
	struct xlb_flow_entry *f = NULL;
	__u32 had, pick;

	if (!s->p.icmp_err)
		f = flow_lookup(&s->p.key, s->fhash);
	if (!f)
		return uplink_slot(set, s->fhash);
	had = f->uplink & (XLB_MAX_UPLINKS - 1);
	if (had && set->u[had].state == XLB_UPLINK_UP)
		return had;
	xlb_uplink_age(load, flow_clock_ns());
	pick = xlb_uplink_pick(set, load);
	if (!pick) /* none up: the entry keeps its uplink */
		return 0;
	xlb_uplink_charge(load, pick);
	f->uplink = pick;
	if (had) {
		load->failovers[had]++;
		count_event(XLB_CNT_UPLINK_FAILOVER);
	}
	return pick;
}

#endif /* XLB_BPF_UPLINK_H */
