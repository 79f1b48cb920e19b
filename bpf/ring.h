/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A VIP's Maglev ring as the data path reads it: the pick of a backend
 * for a new flow, and whether a flow's backend may still serve it.
 */
#ifndef XLB_RING_H
#define XLB_RING_H

#include "maps.h"

/*
 * The backend for a new pick: the ring slot of the hash, or the next slots
 * when its backend is not up, in the half of the ring in force (the walk
 * wraps inside it). Returns the backend id, or 0 with *cnt set.
 */
static __always_inline __u32 ring_pick(const struct xlb_vip *vip, __u32 hash,
				       struct xlb_backend **bep, bool *skipped,
				       __u32 *cnt)
{
	__u32 vip_id = vip->vip_id, size = vip->ring_size, slot, half, idx, id;
	struct xlb_ring_elem *e;
	struct xlb_backend *be;
	void *ring;

	ring = bpf_map_lookup_elem(&maglev_rings, &vip_id);
	if (!ring || !size) {
		*cnt = XLB_CNT_DROP_NO_RING;
		return 0;
	}
	/* Read once: the controller flips it while we run. */
	half = vip->ring_half ? 1 : 0;
	slot = hash % size;
	for (int i = 0; i <= XLB_REPICK_TRIES; i++) {
		idx = xlb_ring_elem(size, half, slot);
		e = bpf_map_lookup_elem(ring, &idx);
		if (!e) {
			/* ring_size larger than the ring: a controller bug. */
			*cnt = XLB_CNT_DROP_NO_RING;
			return 0;
		}
		id = e->id[slot % XLB_RING_SLOTS_PER_ELEM];
		if (id != XLB_BACKEND_NONE) {
			be = bpf_map_lookup_elem(&backends, &id);
			if (be && be->state == XLB_BACKEND_UP) {
				*bep = be;
				*skipped = i > 0;
				return id;
			}
		}
		slot = slot + 1 == size ? 0 : slot + 1;
	}
	*cnt = XLB_CNT_DROP_NO_BACKEND;
	return 0;
}

static __always_inline bool flow_backend_ok(const struct xlb_backend *be)
{
	return be &&
	       (be->state == XLB_BACKEND_UP || be->state == XLB_BACKEND_DRAIN);
}

#endif /* XLB_RING_H */
