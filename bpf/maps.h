/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The balancer's maps. The controller pins each under its name (default
 * /sys/fs/bpf/xlb/<name>) and is their only writer; keys and values are
 * defined once in include/xlb/types.h.
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xlb/types.h>
#include <xlb/counters.h>
#include <xlb/flow.h>
#include <xlb/nat.h>
#include <xlb/trace.h>
#include <xlb/uplink.h>
#include "maps_shared.h"

/* VIP (address, port, proto) -> id, flags, ring size, encapsulation. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS * 2);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} vips SEC(".maps");

/* vip_id -> its VIP's key and value: flow hits skip the `vips` lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xlb_vip_info);
} vip_info SEC(".maps");

/*
 * The Maglev tables of a VIP: slot -> backend id. Inner maps are ARRAYs
 * of struct xlb_ring_elem (two slots each) with XLB_RING_MAP_FLAGS
 * holding XLB_RING_HALVES tables of the VIP's prime size M each (so VIPs
 * may differ in size); the VIP's ring_half says which one is in force
 * (see struct xlb_vip). A change rewrites the other half and flips the
 * byte; only a new size (a new vip_id) or a new VIP swaps an inner map in.
 */
struct ring_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_RING_ENTRIES(XLB_RING_SIZE_DEFAULT));
	__uint(map_flags, XLB_RING_MAP_FLAGS);
	/*
	 * Sizes, not types: clang's BTF holds only the value struct's name,
	 * and the kernel takes BTF for both key and value or for neither.
	 */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xlb_ring_elem));
};

/*
 * vip_id -> that VIP's ring. Named for its inner maps' layout: an older
 * xlb's `rings` held one slot per element, which a program of this one
 * cannot read (the loader replaces such a program, dataplane.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__array(values, struct ring_inner);
} maglev_rings SEC(".maps");

#ifndef XLB_FLOW_LRU
/*
 * The flow table (connection affinity), per CPU and set-associative:
 * bucket -> XLB_FLOW_WAYS4 IPv4 ways (include/xlb/flow.h). max_entries is
 * possible CPUs << xlb_flow_shift4, set by the loader; mmapable so xlbd
 * scans and clears ways without a syscall per flow.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xlb_flow_bucket4);
} flows4 SEC(".maps");

/* The same for IPv6 flows: XLB_FLOW_WAYS6 wider ways per bucket. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xlb_flow_bucket6);
} flows6 SEC(".maps");
#else
/*
 * The benchmark's baseline only (bpf/flow.h): the LRU hash the table
 * replaced, 5-tuple -> entry, an LRU list per CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_MAX_FLOWS);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_flow_entry);
} flows SEC(".maps");
#endif

/*
 * Bit set of hashed VIP addresses (one element). Traffic whose destination
 * bit is clear is not for a VIP and is passed without a hash-map lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_vip_filter);
} vip_filter SEC(".maps");

/* enum xlb_counter_id -> packets and bytes, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_CNT_MAX);
	__type(key, __u32);
	__type(value, struct xlb_counter);
} counters SEC(".maps");

/* vip_id -> packets and bytes sent to that VIP's backends, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xlb_counter);
} vip_stats SEC(".maps");

/* backend id -> packets and bytes sent to it, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_counter);
} backend_stats SEC(".maps");

/*
 * The coarse clock as last read and jiffies when it was, per CPU (one
 * element): flow_clock_tick_ns() in bpf/flow.h.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_flow_clock);
} flow_clock SEC(".maps");

/* The flow-insert rate limiter's window, per CPU (one element). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_flow_rate);
} flow_rate SEC(".maps");

/*
 * Full-NAT (include/xlb/nat.h): a connection's two entries, created
 * together by the program and removed together by xlbd. Not
 * preallocated: a million entries of both would pin some 300 MB whether
 * a pool exists or not; the kernel's per-CPU element caches keep an
 * insert cheap.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_NAT);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_nat_fwd);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nat_fwd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_NAT);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_nat_rev);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nat_rev SEC(".maps");

/* Sub-pool id -> its address and ports and how many are handed out. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_SUBPOOLS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xlb_nat_subpool);
} nat_subpools SEC(".maps");

/* Pool id -> the sub-pools this CPU allocates from, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_POOLS);
	__type(key, __u32);
	__type(value, struct xlb_nat_cpu);
} nat_cpu SEC(".maps");

/*
 * A new NAT connection's two entries are built here, not on the stack:
 * the program's frames together must stay within 512 bytes. One element
 * per CPU; an XDP program never runs twice at once on a CPU.
 */
struct nat_scratch {
	struct xlb_nat_fwd fwd;
	struct xlb_flow_key rev;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat_scratch);
} nat_scratch SEC(".maps");

/* Hints for xlbd: a sub-pool running low, a pool exhausted. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XLB_NAT_EVENTS_BYTES);
} nat_events SEC(".maps");

/*
 * A traced packet's record is built here, not on the stack (the frames'
 * 512 bytes are spent). Per CPU; the CLI zeroes it when a trace starts.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_trace_scratch);
} trace_scratch SEC(".maps");

/* Captured packets, read by `xlb trace`. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XLB_TRACE_RING_BYTES);
} trace_events SEC(".maps");

/* VIP id -> flows it started (flow-table or NAT inserts), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, __u64);
} vip_flows SEC(".maps");

/* backend id -> flows sent to it (flow-table or NAT inserts), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, __u64);
} backend_flows SEC(".maps");

/* Egress uplinks (include/xlb/uplink.h): all of them, by id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_uplink_set);
} uplink_set SEC(".maps");

/* Uplink id -> its interface, for XDP_REDIRECT. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, XLB_MAX_UPLINKS);
	__type(key, __u32);
	__type(value, __u32);
} uplink_tx SEC(".maps");

/* Bytes per uplink, recent and in all, per CPU (one element). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_uplink_load);
} uplink_load SEC(".maps");

#endif /* XLB_MAPS_H */
