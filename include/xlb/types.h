/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The one definition of everything the XDP programs and userspace share:
 * limits, map keys and values, flag bits and state values. Both sides
 * include this file; nothing here may depend on anything else of xlb.
 *
 * Byte order: every field named addr, port or *_port holds network order
 * (as on the wire), so the data path copies it without swapping. Every
 * other integer is host order.
 */
#ifndef XLB_TYPES_H
#define XLB_TYPES_H

#include <linux/types.h>
#include <linux/bpf.h>

/* Limits: each may be overridden at build time (-DXLB_MAX_VIPS=...). */
#ifndef XLB_MAX_VIPS
#define XLB_MAX_VIPS 512
#endif
/* Backend ids are per (VIP, backend) pair: 100 VIPs of 100 backends fit. */
#ifndef XLB_MAX_BACKENDS
#define XLB_MAX_BACKENDS 16384
#endif
/* Flows over all CPUs (--max-flows default); see xlb_flow_geometry(). */
#ifndef XLB_MAX_FLOWS
#define XLB_MAX_FLOWS (1 << 20)
#endif
#ifndef XLB_MAX_DECAP_ADDRS
#define XLB_MAX_DECAP_ADDRS 64
#endif
/* Maglev table size used when a VIP does not ask for another prime. */
#define XLB_RING_SIZE_DEFAULT 65537
/* Largest table size accepted (a prime); bounds the inner map's memory. */
#define XLB_RING_SIZE_MAX 655373
/* Tables per ring map: the one in force and the one being written. */
#define XLB_RING_HALVES 2
/*
 * Slots per ring map element. An ARRAY spends 8 bytes on an element
 * whatever its value's size, so two 4-byte slots fill one (struct
 * xlb_ring_elem): a ring costs 4 bytes a slot and table, not 8.
 */
#define XLB_RING_SLOTS_PER_ELEM 2
/* Elements of one table (half) of m slots. */
#define XLB_RING_HALF_ELEMS(m)                                                 \
	(((m) + XLB_RING_SLOTS_PER_ELEM - 1) / XLB_RING_SLOTS_PER_ELEM)
/* Entries of the ring map of a VIP whose table has m slots. */
#define XLB_RING_ENTRIES(m) (XLB_RING_HALVES * XLB_RING_HALF_ELEMS(m))
/* Slots tried after the hashed one when its backend is down. */
#define XLB_REPICK_TRIES 8
/*
 * Flags of every ring (inner) map, the template's included: each VIP may
 * have its own size, and the controller writes rings through mmap.
 */
#define XLB_RING_MAP_FLAGS (BPF_F_INNER_MAP | BPF_F_MMAPABLE)
/* Bytes of the offending packet quoted in an ICMP error we originate. */
#define XLB_ICMP_QUOTE 128
/* Bits in the VIP address pre-filter (a power of two). */
#define XLB_VIP_FILTER_BITS  65536
#define XLB_VIP_FILTER_WORDS (XLB_VIP_FILTER_BITS / 64)

/* Address families, as AF_INET/AF_INET6 but usable without libc. */
#define XLB_AF_INET  2
#define XLB_AF_INET6 10

/* Backend id 0 is never allocated: a zeroed ring slot means "no backend". */
#define XLB_BACKEND_NONE 0

/*
 * An address of either family. IPv4 lives in v4 (== v6[0]) with the other
 * words zero, so a key built from a v4 packet compares equal to one built
 * by userspace.
 */
union xlb_addr {
	__be32 v4;
	__be32 v6[4];
	__u8 bytes[16];
};
_Static_assert(sizeof(union xlb_addr) == 16, "xlb_addr size");

/*
 * vips key. port 0 is a port-less VIP: it matches every port of that
 * address and protocol when no exact entry exists. An entry whose proto is
 * IPPROTO_ICMP (v4) or IPPROTO_ICMPV6 (v6), with port 0, marks the address
 * as a VIP address: echo requests to it are answered and ICMP errors about
 * its flows are forwarded. The controller keeps one per VIP address.
 */
struct xlb_vip_key {
	union xlb_addr addr;
	__be16 port;
	__u8 proto;
	__u8 family;
};
_Static_assert(sizeof(struct xlb_vip_key) == 20, "xlb_vip_key size");

/* Per-VIP flag bits (xlb_vip.flags). */
#define XLB_VIP_F_NO_SPORT	(1U << 0) /* hash without the source port */
#define XLB_VIP_F_NO_FLOW_TABLE (1U << 1) /* never read or write flows */
#define XLB_VIP_F_DPORT_ONLY	(1U << 2) /* hash on destination port only */
#define XLB_VIP_F_ALL                                                          \
	(XLB_VIP_F_NO_SPORT | XLB_VIP_F_NO_FLOW_TABLE | XLB_VIP_F_DPORT_ONLY)

/* Encapsulation kinds (xlb_vip.encap, xlb_config.encap). */
enum xlb_encap {
	XLB_ENCAP_DEFAULT = 0, /* per VIP: use xlb_config.encap */
	/*
	 * IP in IP; the outer family is the backend's, the inner the VIP's:
	 * IPIP (4 in 4), IP6IP6, IPv4-in-IPv6, or IPv6-in-IPv4.
	 */
	XLB_ENCAP_IPIP = 1,
	/* GUE variant 1: outer IP, UDP to xlb_config.gue_port, inner IP. */
	XLB_ENCAP_GUE = 2,
	XLB_ENCAP_MAX,
};

/*
 * An element of a ring map: consecutive slots of one table. Slot s of
 * half h of a ring of m slots is word s % XLB_RING_SLOTS_PER_ELEM of
 * element xlb_ring_elem(m, h, s); in a mapping of the ring, that is
 * 4 bytes at h * XLB_RING_HALF_ELEMS(m) * 8 + s * 4.
 */
struct xlb_ring_elem {
	__u32 id[XLB_RING_SLOTS_PER_ELEM];
};
_Static_assert(sizeof(struct xlb_ring_elem) == 8, "xlb_ring_elem size");

static inline __u32 xlb_ring_elem(__u32 m, __u32 half, __u32 s)
{
	return half * XLB_RING_HALF_ELEMS(m) + s / XLB_RING_SLOTS_PER_ELEM;
}

/*
 * vips value. vip_id indexes rings, vip_stats; ring_size is the prime M of
 * the ring the data path indexes with hash % M. A VIP's table size changes
 * only together with its vip_id (a new ring at a new index, then one update
 * of this value), so the two are always read as a consistent pair.
 *
 * A ring holds two complete tables of M slots (halves, XLB_RING_HALVES):
 * the data path reads slot hash % M of half ring_half (xlb_ring_elem()
 * places it). The controller writes a new table into the other half and
 * then flips ring_half here and in vip_info: two plain updates, where swapping
 * an inner map made the kernel wait for an RCU grace period. It rewrites a half
 * only after a grace period since the flip that retired it, so no packet reads
 * a half being written; the byte is read once per pick, so either value is a
 * whole table.
 */
struct xlb_vip {
	__u32 vip_id;
	__u32 flags;
	__u32 ring_size;
	__u8 encap;	/* enum xlb_encap */
	__u8 ring_half; /* 0 or 1: the half of the ring in force */
	__u8 mode;	/* enum xlb_vip_mode (xlb/nat.h): DSR or NAT */
	__u8 pool_id;	/* NAT: the client-NAT pool; DSR: 0 */
};
_Static_assert(sizeof(struct xlb_vip) == 16, "xlb_vip size");

/*
 * vip_info value, indexed by vip_id: the VIP a flow-table entry names, so
 * a packet of an established flow needs no hash lookup of `vips`. The key
 * proves that the entry still belongs to the packet's VIP (ids are
 * reused); a zeroed entry (family 0) is a free id. The controller writes
 * it before the vips entry and clears it after removing that entry.
 */
struct xlb_vip_info {
	struct xlb_vip_key key;
	struct xlb_vip vip;
};
_Static_assert(sizeof(struct xlb_vip_info) == 36, "xlb_vip_info size");

/*
 * Backend states. 0 is an unused id and is treated like down, so a ring
 * slot pointing at a freed or never-set id can never receive traffic.
 */
enum xlb_backend_state {
	XLB_BACKEND_UNUSED = 0,
	XLB_BACKEND_UP = 1,
	XLB_BACKEND_DRAIN = 2, /* keeps its flows, gets no new ones */
	XLB_BACKEND_DOWN = 3, /* its flows are re-picked on their next packet */
};

/* backends value, indexed by backend id. */
struct xlb_backend {
	union xlb_addr addr;
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
	__u8 state;  /* enum xlb_backend_state */
	__u16 flags; /* reserved, 0 */
};
_Static_assert(sizeof(struct xlb_backend) == 20, "xlb_backend size");

/*
 * Health checks through the tunnel: the checker connects to VIP:port from
 * the balancer host with SO_MARK = XLB_HC_MARK(backend id, gue), and the
 * TC egress program (bpf/hc_encap.bpf.c) encapsulates what that socket
 * sends toward that backend as the balancer would, so a check fails
 * exactly when client traffic would. skb->mark layout:
 *   bits 31..16  0x584c ("XL"): the mark is ours; any other value is not,
 *                and the packet is left alone
 *   bit  15      GUE; clear: IP in IP (IPIP, IP6IP6, 4in6, 6in4)
 *   bits 14..0   backend id, an index of `backends`
 * The outer family is the backend's, as for client traffic.
 */
#define XLB_HC_MARK_BASE 0x584c0000U
#define XLB_HC_MARK_MASK 0xffff0000U
#define XLB_HC_MARK_GUE	 0x00008000U
#define XLB_HC_MARK_ID	 0x00007fffU
#define XLB_HC_MARK(id, gue)                                                   \
	(XLB_HC_MARK_BASE | ((gue) ? XLB_HC_MARK_GUE : 0) |                    \
	 (XLB_HC_MARK_ID & (id)))
_Static_assert(XLB_MAX_BACKENDS - 1 <= XLB_HC_MARK_ID,
	       "every backend id fits in the health-check mark");

/*
 * A flow's 5-tuple as seen from the client: what the parsers fill and
 * the flow hash reads; the flow table stores it compactly (xlb/flow.h).
 */
struct xlb_flow_key {
	union xlb_addr src;
	union xlb_addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};
_Static_assert(sizeof(struct xlb_flow_key) == 40, "xlb_flow_key size");

/*
 * A flow-table entry as the tests read and plant it (tests/bpf/setup.c):
 * the way's backend and VIP, and its stamp in ns (XLB_FLOW_STAMP_SHIFT
 * resolution, CLOCK_MONOTONIC_COARSE). The table itself stores struct
 * xlb_flow_way4/6 (xlb/flow.h); no map holds this struct.
 */
struct xlb_flow {
	__u32 backend_id;
	__u32 vip_id; /* the VIP it was hashed under: its vip_info index */
	__u64 last_seen_ns;
};
_Static_assert(sizeof(struct xlb_flow) == 16, "xlb_flow size");

/*
 * config, the single element of an ARRAY: knobs the controller changes at
 * run time. Outer source addresses are the prefix with its host bits taken
 * from the flow hash, so backends spread flows over their receive queues;
 * a prefix length of 0 means "use the address as it is" (the controller
 * puts the interface's own address there when the operator configured no
 * prefix). For IPv6 only the last 32 bits take hash bits.
 */
struct xlb_config {
	__u8 gw_mac[6];	 /* destination MAC of every encapsulated frame */
	__u8 encap;	 /* enum xlb_encap used when a VIP says DEFAULT */
	__u8 ttl;	 /* outer TTL / hop limit, and of ICMP we send */
	__be16 gue_port; /* UDP destination port of GUE */
	__u16 mtu;	 /* largest outer IP packet on the underlay */
	__u8 src4_plen;	 /* outer IPv4 source prefix length */
	__u8 src6_plen;	 /* outer IPv6 source prefix length */
	__u16 pad;
	__be32 src4;	       /* outer IPv4 source prefix */
	__be32 src6[4];	       /* outer IPv6 source prefix */
	__u32 flow_rate_limit; /* new flow inserts per second per CPU; 0 = no
				  limit */
	/*
	 * Uplinks in uplink_set (xlb/uplink.h); 0: none, every frame leaves
	 * by XDP_TX toward gw_mac as before.
	 */
	__u32 n_uplinks;
	__u64 udp_timeout_ns; /* idle time after which a UDP flow re-hashes */
	/*
	 * Source MAC of every frame the balancer sends (the interface's
	 * own). All zero (a config written before this field existed):
	 * the incoming frame's destination MAC is used instead, as before;
	 * the controller always fills it. Last, so the older fields keep
	 * their offsets.
	 */
	__u8 src_mac[6];
	__u16 pad3;
};
_Static_assert(sizeof(struct xlb_config) == 64, "xlb_config size");

/* counters / vip_stats / backend_stats value (per CPU). */
struct xlb_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct xlb_counter) == 16, "xlb_counter size");

/* vip_filter value: one bit per hashed destination address. */
struct xlb_vip_filter {
	__u64 bits[XLB_VIP_FILTER_WORDS];
};
_Static_assert(sizeof(struct xlb_vip_filter) == XLB_VIP_FILTER_BITS / 8,
	       "xlb_vip_filter size");

/* flow_rate value (per CPU): the insert-rate limiter's window. */
struct xlb_flow_rate {
	__u64 window_start_ns;
	__u64 inserts;
};
_Static_assert(sizeof(struct xlb_flow_rate) == 16, "xlb_flow_rate size");

/*
 * flow_clock value (per CPU): the coarse clock as last read and jiffies
 * when it was (bpf/flow.h flow_clock_tick_ns()). The data path's alone.
 */
struct xlb_flow_clock {
	__u64 jiffies;
	__u64 ns;
};
_Static_assert(sizeof(struct xlb_flow_clock) == 16, "xlb_flow_clock size");

/*
 * An address of this backend host that accepts tunnels, as the decap
 * table holds it: the family and the address, the bytes after an IPv4
 * address and the padding zero. A slot of family 0 is empty.
 */
struct xlb_decap_key {
	union xlb_addr addr;
	__u8 family;
	__u8 pad[3];
};
_Static_assert(sizeof(struct xlb_decap_key) == 20, "xlb_decap_key size");

/*
 * decap_addrs is an open hash table of those addresses in a plain ARRAY,
 * so that the data path's lookup is inlined (no kernel jhash, no bucket
 * walk): XLB_DECAP_HALVES tables of XLB_DECAP_BUCKETS buckets of
 * XLB_DECAP_WAYS keys each. The word in decap_active names the table in
 * force (bit 0) and is the multiplier of its hash (the word with bit 0
 * set; include/xlb/decap.h), chosen by the writer so that no bucket of
 * that table holds more than XLB_DECAP_WAYS addresses. A change writes
 * the table not in force and then the word, in one 4-byte write.
 */
#define XLB_DECAP_WAYS	      2
#define XLB_DECAP_BUCKET_BITS 8
#define XLB_DECAP_BUCKETS     (1U << XLB_DECAP_BUCKET_BITS)
#define XLB_DECAP_HALVES      2
/* Entries of decap_addrs: both tables, the one in force and the spare. */
#define XLB_DECAP_ENTRIES (XLB_DECAP_HALVES * XLB_DECAP_BUCKETS)
_Static_assert(
	XLB_MAX_DECAP_ADDRS * 4 <= XLB_DECAP_BUCKETS,
	"decap buckets: four per address, so a multiplier is found fast");

struct xlb_decap_bucket {
	struct xlb_decap_key way[XLB_DECAP_WAYS];
};
_Static_assert(sizeof(struct xlb_decap_bucket) == 40, "xlb_decap_bucket size");

/* decap_config, the single element of an ARRAY on the backend side. */
struct xlb_decap_config {
	__be16 gue_port; /* 0: GUE not accepted */
	__u16 pad;
};
_Static_assert(sizeof(struct xlb_decap_config) == 4, "xlb_decap_config size");

#endif /* XLB_TYPES_H */
