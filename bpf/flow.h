/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The flow table's lookup and insert (layout: include/xlb/flow.h). The
 * lookup is inlined: one array lookup of the CPU's bucket and an unrolled
 * compare of its ways' keys, two (IPv4) or five (IPv6) 64-bit words each.
 * The insert is a global function, verified once rather than on every
 * path of xlb_balance that reaches it.
 *
 * Built with -DXLB_FLOW_LRU (the benchmark's second object only) the same
 * calls use the kernel LRU hash the table replaced, so the two can be
 * measured in one run; xlbd never loads that variant.
 */
#ifndef XLB_BPF_FLOW_H
#define XLB_BPF_FLOW_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <xlb/flow.h>
#include "maps.h"

/* log2(buckets per CPU) of flows4 / flows6: set by the loader. */
const volatile __u32 xlb_flow_shift4 = 0;
const volatile __u32 xlb_flow_shift6 = 0;
/* Possible CPUs, the parts of each table: set by the loader. */
const volatile __u32 xlb_flow_ncpus = 1;
/*
 * Non-zero: packets of one flow may reach several CPUs (veth, generic
 * XDP), so flow_other() keeps the parts coherent. Zero where the NIC
 * steers each flow to one CPU (RSS), as Katran assumes: then a flow is
 * only ever on its CPU and misses and SYNs need not look elsewhere.
 */
const volatile __u32 xlb_flow_coherent = 0;

/* The clock of way stamps, UDP expiry and the insert-rate window. */
static __always_inline __u64 flow_clock_ns(void)
{
	return bpf_ktime_get_coarse_ns();
}

/*
 * The same clock for what needs it only to the tick (a refresh of a stamp
 * XLB_FLOW_REFRESH units old): the helper call cost a TCP flow hit some
 * 8 ns of 55, and the coarse clock moves only at ticks, so it is read
 * again only when jiffies (an inlined load) moved. The tick bumps jiffies
 * just before the clock: a read that finds the clock where it was is
 * taken as one between the two, and the next call reads again. One that
 * finds the previous tick's time after an idle spell cannot tell: the
 * clock then stays that tick behind until the next (and a stamp written
 * from it up to a tick back).
 */
static __always_inline __u64 flow_clock_tick_ns(void)
{
	__u32 zero = 0;
	struct xlb_flow_clock *c = bpf_map_lookup_elem(&flow_clock, &zero);
	__u64 j = bpf_jiffies64(), ns;

	if (!c)
		return flow_clock_ns();
	if (c->jiffies == j && c->ns)
		return c->ns;
	ns = flow_clock_ns();
	if (ns != c->ns)
		c->jiffies = j;
	c->ns = ns;
	return ns;
}

#ifndef XLB_FLOW_LRU

static __always_inline __u64 flow_addrs4(const struct xlb_flow_key *k)
{
	return (__u64)k->src.v4 | (__u64)k->dst.v4 << 32;
}

/* The entry of the packet's flow on this CPU, or NULL. */
static __always_inline struct xlb_flow_entry *
flow_lookup(const struct xlb_flow_key *k, __u32 hash)
{
	__u32 cpu = bpf_get_smp_processor_id(), idx;
	__u64 tail = xlb_flow_tail(k->sport, k->dport, k->proto);

	if (k->family == XLB_AF_INET) {
		struct xlb_flow_bucket4 *b;
		__u64 a = flow_addrs4(k);

		idx = xlb_flow_bucket(hash, cpu, xlb_flow_shift4);
		b = bpf_map_lookup_elem(&flows4, &idx);
		if (!b)
			return NULL;
#pragma unroll
		for (int i = 0; i < XLB_FLOW_WAYS4; i++) {
			__u64 *w = (__u64 *)&b->way[i];

			if (w[0] == a && (w[1] & XLB_FLOW_TAIL_MASK) == tail)
				return &b->way[i].e;
		}
		return NULL;
	} else {
		const __u64 *s = (const __u64 *)k->src.v6;
		const __u64 *d = (const __u64 *)k->dst.v6;
		struct xlb_flow_bucket6 *b;

		idx = xlb_flow_bucket(hash, cpu, xlb_flow_shift6);
		b = bpf_map_lookup_elem(&flows6, &idx);
		if (!b)
			return NULL;
#pragma unroll
		for (int i = 0; i < XLB_FLOW_WAYS6; i++) {
			__u64 *w = (__u64 *)&b->way[i];

			if (w[0] == s[0] && w[1] == s[1] && w[2] == d[0] &&
			    w[3] == d[1] && (w[4] & XLB_FLOW_TAIL_MASK) == tail)
				return &b->way[i].e;
		}
		return NULL;
	}
}

/*
 * The way a new flow takes in a bucket: its own (a re-hash), else the
 * first empty one, else an expired UDP one, else the oldest. Ranks are
 * kept in one variable so the unrolled loop stays a chain of compares.
 */
#define FLOW_VICTIM(b, ways, nwords, nw, now, udp_ttl, pick)                   \
	do {                                                                   \
		const __u64 *n = (const __u64 *)(nw);                          \
		__u32 oldest = 0, age;                                         \
		int rank = -1;                                                 \
		_Pragma("unroll") for (int i = 0; i < (ways); i++)             \
		{                                                              \
			const __u64 *w = (const __u64 *)&(b)->way[i];          \
			bool same = (w[nwords - 1] & XLB_FLOW_TAIL_MASK) ==    \
				    (n[nwords - 1] & XLB_FLOW_TAIL_MASK);      \
                                                                               \
			_Pragma("unroll") for (int j = 0; j < nwords - 1; j++) \
				same = same && w[j] == n[j];                   \
			if (same) {                                            \
				pick = i;                                      \
				break;                                         \
			}                                                      \
			if (rank == 2)                                         \
				continue;                                      \
			if (!(b)->way[i].e.proto) {                            \
				pick = i;                                      \
				rank = 2;                                      \
				continue;                                      \
			}                                                      \
			age = (now) - (b)->way[i].e.stamp;                     \
			if ((b)->way[i].e.proto == IPPROTO_UDP && (udp_ttl) && \
			    age > (udp_ttl)) {                                 \
				if (rank < 1) {                                \
					pick = i;                              \
					rank = 1;                              \
				}                                              \
				continue;                                      \
			}                                                      \
			if (rank < 1 && (rank < 0 || age > oldest)) {          \
				pick = i;                                      \
				oldest = age;                                  \
				rank = 0;                                      \
			}                                                      \
		}                                                              \
	} while (0)

/*
 * Stores nw in bucket idx of flows4. udp_ttl: the UDP timeout in stamp
 * units, 0 for none. 0, or -1 when the bucket does not exist.
 */
__noinline int xlb_flow_insert4(__u32 idx, const struct xlb_flow_way4 *nw,
				__u32 udp_ttl)
{
	struct xlb_flow_bucket4 *b;
	int pick = 0;

	if (!nw)
		return -1;
	b = bpf_map_lookup_elem(&flows4, &idx);
	if (!b)
		return -1;
	FLOW_VICTIM(b, XLB_FLOW_WAYS4, 2, nw, nw->e.stamp, udp_ttl, pick);
	if (pick < 0 || pick >= XLB_FLOW_WAYS4)
		return -1;
	b->way[pick] = *nw;
	return 0;
}

__noinline int xlb_flow_insert6(__u32 idx, const struct xlb_flow_way6 *nw,
				__u32 udp_ttl)
{
	struct xlb_flow_bucket6 *b;
	int pick = 0;

	if (!nw)
		return -1;
	b = bpf_map_lookup_elem(&flows6, &idx);
	if (!b)
		return -1;
	FLOW_VICTIM(b, XLB_FLOW_WAYS6, 5, nw, nw->e.stamp, udp_ttl, pick);
	if (pick < 0 || pick >= XLB_FLOW_WAYS6)
		return -1;
	b->way[pick] = *nw;
	return 0;
}

/*
 * The flow of way nw (its key) in the other CPUs' parts of flows4, at
 * bucket offset off. forget: empties every copy there (a SYN re-hashed it
 * here, so theirs are stale). Else copies the first one found into this
 * CPU's bucket, its stamp kept so that an idle UDP flow still expires (the
 * caller looks it up again). 0 when copied, -1 otherwise.
 */
__noinline int xlb_flow_other4(__u32 off, const struct xlb_flow_way4 *nw,
			       __u32 cpu, __u32 forget)
{
	struct xlb_flow_way4 w;
	__u32 ncpus = xlb_flow_ncpus, idx;

	if (!nw)
		return -1;
	for (__u32 c = 0; c < XLB_FLOW_PROBE_CPUS && c < ncpus; c++) {
		struct xlb_flow_bucket4 *b;
		int pick = -1;

		if (c == cpu)
			continue;
		idx = (c << xlb_flow_shift4) | off;
		b = bpf_map_lookup_elem(&flows4, &idx);
		if (!b)
			continue;
#pragma unroll
		for (int i = 0; i < XLB_FLOW_WAYS4; i++) {
			const __u64 *x = (const __u64 *)&b->way[i];
			const __u64 *n = (const __u64 *)nw;

			if (x[0] == n[0] &&
			    ((x[1] ^ n[1]) & XLB_FLOW_TAIL_MASK) == 0) {
				pick = i;
				break;
			}
		}
		if (pick < 0 || pick >= XLB_FLOW_WAYS4)
			continue;
		if (forget) {
			/* One byte store: the owner sees it whole or empty. */
			b->way[pick].e.proto = 0;
			continue;
		}
		w = b->way[pick];
		/* The owner may have rewritten it since the compare. */
		if (w.saddr != nw->saddr || w.daddr != nw->daddr ||
		    w.sport != nw->sport || w.dport != nw->dport ||
		    w.e.proto != nw->e.proto)
			return -1;
		return xlb_flow_insert4((cpu << xlb_flow_shift4) | off, &w, 0);
	}
	return -1;
}

__noinline int xlb_flow_other6(__u32 off, const struct xlb_flow_way6 *nw,
			       __u32 cpu, __u32 forget)
{
	struct xlb_flow_way6 w;
	__u32 ncpus = xlb_flow_ncpus, idx;

	if (!nw)
		return -1;
	for (__u32 c = 0; c < XLB_FLOW_PROBE_CPUS && c < ncpus; c++) {
		struct xlb_flow_bucket6 *b;
		int pick = -1;

		if (c == cpu)
			continue;
		idx = (c << xlb_flow_shift6) | off;
		b = bpf_map_lookup_elem(&flows6, &idx);
		if (!b)
			continue;
#pragma unroll
		for (int i = 0; i < XLB_FLOW_WAYS6; i++) {
			const __u64 *x = (const __u64 *)&b->way[i];
			const __u64 *n = (const __u64 *)nw;

			if (x[0] == n[0] && x[1] == n[1] && x[2] == n[2] &&
			    x[3] == n[3] &&
			    ((x[4] ^ n[4]) & XLB_FLOW_TAIL_MASK) == 0) {
				pick = i;
				break;
			}
		}
		if (pick < 0 || pick >= XLB_FLOW_WAYS6)
			continue;
		if (forget) {
			b->way[pick].e.proto = 0;
			continue;
		}
		w = b->way[pick];
		if (w.saddr[0] != nw->saddr[0] || w.saddr[1] != nw->saddr[1] ||
		    w.saddr[2] != nw->saddr[2] || w.saddr[3] != nw->saddr[3] ||
		    w.daddr[0] != nw->daddr[0] || w.daddr[1] != nw->daddr[1] ||
		    w.daddr[2] != nw->daddr[2] || w.daddr[3] != nw->daddr[3] ||
		    w.sport != nw->sport || w.dport != nw->dport ||
		    w.e.proto != nw->e.proto)
			return -1;
		return xlb_flow_insert6((cpu << xlb_flow_shift6) | off, &w, 0);
	}
	return -1;
}

/*
 * Keeps the CPUs' parts coherent where packets of one flow reach several
 * CPUs (the NIC does not steer by flow: veth, generic XDP; or its RSS
 * table changed). A miss here copies the flow's entry from another CPU,
 * so its backend is kept (0: copied, look it up again); a SYN, re-hashed
 * here, empties the other CPUs' copies, which would send the rest of the
 * new connection to the old one's backend. Only misses and SYNs pay, one
 * bucket read per other CPU (a cache miss each in a big table): so only
 * where xlb_flow_coherent says flows are not steered to one CPU.
 */
static __always_inline int flow_other(const struct xlb_flow_key *k, __u32 hash,
				      bool forget)
{
	__u32 cpu = bpf_get_smp_processor_id();

	if (xlb_flow_ncpus < 2 || !xlb_flow_coherent)
		return -1;
	if (k->family == XLB_AF_INET) {
		struct xlb_flow_way4 nw = {
			.saddr = k->src.v4,
			.daddr = k->dst.v4,
			.sport = k->sport,
			.dport = k->dport,
			.e = {.proto = k->proto},
		};

		return xlb_flow_other4(
			xlb_flow_bucket(hash, 0, xlb_flow_shift4), &nw, cpu,
			forget);
	} else {
		struct xlb_flow_way6 nw = {
			.sport = k->sport,
			.dport = k->dport,
			.e = {.proto = k->proto},
		};

		__builtin_memcpy(nw.saddr, k->src.v6, 16);
		__builtin_memcpy(nw.daddr, k->dst.v6, 16);
		return xlb_flow_other6(
			xlb_flow_bucket(hash, 0, xlb_flow_shift6), &nw, cpu,
			forget);
	}
}

/* Stores the packet's flow on this CPU: backend id under vip_id. */
static __always_inline void flow_insert(const struct xlb_flow_key *k,
					__u32 hash, __u32 backend_id,
					__u32 vip_id, __u32 now, __u32 udp_ttl)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct xlb_flow_entry e = {
		.proto = k->proto,
		.vip_id = vip_id,
		.backend_id = backend_id,
		.stamp = now,
	};

	if (k->family == XLB_AF_INET) {
		struct xlb_flow_way4 nw = {
			.saddr = k->src.v4,
			.daddr = k->dst.v4,
			.sport = k->sport,
			.dport = k->dport,
			.e = e,
		};

		xlb_flow_insert4(xlb_flow_bucket(hash, cpu, xlb_flow_shift4),
				 &nw, udp_ttl);
	} else {
		struct xlb_flow_way6 nw = {
			.sport = k->sport,
			.dport = k->dport,
			.e = e,
		};

		__builtin_memcpy(nw.saddr, k->src.v6, 16);
		__builtin_memcpy(nw.daddr, k->dst.v6, 16);
		xlb_flow_insert6(xlb_flow_bucket(hash, cpu, xlb_flow_shift6),
				 &nw, udp_ttl);
	}
}

#else /* XLB_FLOW_LRU: the benchmark's baseline */

/* The LRU hash is shared by every CPU: no other copies. */
static __always_inline int flow_other(const struct xlb_flow_key *k, __u32 hash,
				      bool forget)
{
	return -1;
}

/* The LRU hash's value is a way's entry: the same fields to the caller. */
static __always_inline struct xlb_flow_entry *
flow_lookup(const struct xlb_flow_key *k, __u32 hash)
{
	(void)hash;
	return bpf_map_lookup_elem(&flows, k);
}

static __always_inline void flow_insert(const struct xlb_flow_key *k,
					__u32 hash, __u32 backend_id,
					__u32 vip_id, __u32 now, __u32 udp_ttl)
{
	struct xlb_flow_entry e = {
		.proto = k->proto,
		.vip_id = vip_id,
		.backend_id = backend_id,
		.stamp = now,
	};

	(void)hash;
	(void)udp_ttl;
	bpf_map_update_elem(&flows, k, &e, BPF_ANY);
}

#endif /* XLB_FLOW_LRU */

#endif /* XLB_BPF_FLOW_H */
