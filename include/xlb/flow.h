/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The flow table's layout, shared by the data path and by everyone who
 * reads or writes the table from userspace (xlbd's purge, the tests, the
 * benchmark): a per-CPU set-associative table in two plain BPF ARRAYs,
 * flows4 and flows6. One element is one bucket of a few ways; the bucket
 * of a flow is cpu * buckets_per_cpu + (flow hash & (buckets_per_cpu - 1)),
 * with the flow hash of the full 5-tuple (xlb_flow_hash(key, 0), which the
 * data path computes anyway for the outer source). A way holds the full
 * key, compared in the program, and its value; a new flow takes an empty
 * way, else an expired UDP way, else the oldest. buckets_per_cpu is a
 * power of two fixed before load (the program's rodata and the maps'
 * max_entries); xlb_flow_geometry() computes it from --max-flows.
 *
 * Why not a hash map: the kernel's LRU hash costs a jhash of the key, two
 * or three dependent cache misses and LRU list work per packet; a bucket
 * is one indexed load of one to three cache lines, on the CPU's own part.
 * A flow is visible only on its CPU, as with the per-CPU LRU lists before;
 * an evicted flow comes back to the same backend through the ring unless
 * the ring changed.
 */
#ifndef XLB_FLOW_H
#define XLB_FLOW_H

#include <linux/types.h>
#include "types.h"

#ifndef XLB_INLINE
#ifdef __bpf__
#define XLB_INLINE static __attribute__((always_inline)) inline
#else
#define XLB_INLINE static inline
#endif
#endif

/*
 * Ways per bucket. 8 IPv4 ways of 24 bytes are three cache lines; bucket
 * conflicts lose under 1% of flows at half load (4 ways: 3.75%), so the
 * table is sized for twice the flows it is meant to hold at its best.
 * IPv6 ways are twice as wide: 4 of them are the same 192 bytes.
 */
#define XLB_FLOW_WAYS4 8
#define XLB_FLOW_WAYS6 4

/*
 * Way stamps count units of 2^20 ns (1.05 ms) of CLOCK_MONOTONIC_COARSE
 * (bpf_ktime_get_coarse_ns: no clocksource read, a few ns where
 * bpf_ktime_get_ns costs 25 on kvm-clock). 32 bits wrap after 52 days;
 * ages are compared modulo 2^32, so an age is right up to 26 days.
 */
#define XLB_FLOW_STAMP_SHIFT 20
/*
 * CPUs whose parts a miss looks through for the flow (see flow_adopt() in
 * bpf/flow.h); a bound for the verifier, above any machine we run on.
 */
#ifndef XLB_FLOW_PROBE_CPUS
#define XLB_FLOW_PROBE_CPUS 512
#endif
/*
 * A TCP hit rewrites its way's stamp only once it is this many units old
 * (67 ms): eviction's ages stay right to that, and a busy flow does not
 * dirty its bucket's cache line on every packet. UDP stamps move with
 * every unit: their expiry may be set shorter than this.
 */
#define XLB_FLOW_REFRESH 64

/*
 * The part of a way after the addresses and ports. proto ends the key the
 * program compares; proto 0 marks an empty way.
 */
struct xlb_flow_entry {
	__u8 proto;   /* IPPROTO_TCP or IPPROTO_UDP; 0: empty way */
	__u8 uplink;  /* its uplink id (xlb/uplink.h); 0: none chosen */
	__u16 vip_id; /* the VIP it was hashed under: its vip_info index */
	__u32 backend_id;
	__u32 stamp; /* last use, XLB_FLOW_STAMP_SHIFT units */
};
_Static_assert(sizeof(struct xlb_flow_entry) == 12, "xlb_flow_entry size");
_Static_assert(XLB_MAX_VIPS <= 65536, "vip ids fit a way's 16 bits");

/* An IPv4 way: 13 bytes of key (addresses, ports, proto) and its entry. */
struct xlb_flow_way4 {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	struct xlb_flow_entry e;
};
_Static_assert(sizeof(struct xlb_flow_way4) == 24, "xlb_flow_way4 size");

struct xlb_flow_way6 {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	struct xlb_flow_entry e;
};
_Static_assert(sizeof(struct xlb_flow_way6) == 48, "xlb_flow_way6 size");

/* flows4 / flows6 value: one bucket. */
struct xlb_flow_bucket4 {
	struct xlb_flow_way4 way[XLB_FLOW_WAYS4];
};
_Static_assert(sizeof(struct xlb_flow_bucket4) == 192, "bucket4 size");

struct xlb_flow_bucket6 {
	struct xlb_flow_way6 way[XLB_FLOW_WAYS6];
};
_Static_assert(sizeof(struct xlb_flow_bucket6) == 192, "bucket6 size");

/*
 * The key bytes after the addresses (ports, proto) as the low 40 bits of
 * the little-endian word at the way's offset 8 (v4) or 32 (v6); the
 * uplink byte after them is the flow's state, not its key.
 */
#define XLB_FLOW_TAIL_MASK 0xffffffffffULL

XLB_INLINE __u64 xlb_flow_tail(__be16 sport, __be16 dport, __u8 proto)
{
	return (__u64)sport | (__u64)dport << 16 | (__u64)proto << 32;
}

/* Bucket index of a flow hash on a CPU; shift = log2(buckets_per_cpu). */
XLB_INLINE __u32 xlb_flow_bucket(__u32 hash, __u32 cpu, __u32 shift)
{
	return (cpu << shift) | (hash & ((1U << shift) - 1));
}

XLB_INLINE __u32 xlb_flow_stamp(__u64 ns)
{
	return (__u32)(ns >> XLB_FLOW_STAMP_SHIFT);
}

/* The sizes a table for max_flows flows over ncpus possible CPUs takes. */
struct xlb_flow_geometry {
	__u32 shift4, shift6;	  /* log2(buckets per CPU) */
	__u32 buckets4, buckets6; /* max_entries: ncpus << shift */
};

/*
 * max_flows is the total over all CPUs, as --max-flows always was; each
 * CPU's share is rounded up to a power of two of buckets.
 */
XLB_INLINE struct xlb_flow_geometry xlb_flow_geometry(__u32 max_flows,
						      __u32 ncpus)
{
	struct xlb_flow_geometry g = {0};
	__u64 per_cpu = ((__u64)max_flows + ncpus - 1) / (ncpus ? ncpus : 1);

	while (((__u64)XLB_FLOW_WAYS4 << g.shift4) < per_cpu && g.shift4 < 30)
		g.shift4++;
	while (((__u64)XLB_FLOW_WAYS6 << g.shift6) < per_cpu && g.shift6 < 30)
		g.shift6++;
	g.buckets4 = ncpus << g.shift4;
	g.buckets6 = ncpus << g.shift6;
	return g;
}

#endif /* XLB_FLOW_H */
