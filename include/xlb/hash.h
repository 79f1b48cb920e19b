/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The hashes both sides must compute identically: the flow hash that picks
 * a ring slot (and the outer source address and GUE source port), and the
 * VIP pre-filter bit of a destination address. The mixing is Bob Jenkins'
 * lookup3 final round (the kernel's jhash_3words), public domain.
 *
 * The hashes read addresses and ports as the raw 32-bit words in memory
 * (network order bytes), so balancers agree on slots only when they share
 * a byte order; every supported target is little-endian.
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include <linux/types.h>
#include "types.h"

#ifdef __bpf__
#define XLB_INLINE static __attribute__((always_inline)) inline
#else
#define XLB_INLINE static inline
#endif

/* Seed shared by every balancer so that their rings agree. */
#define XLB_HASH_SEED 0x786c6231U /* "xlb1" */

#define xlb_rol32(w, s) (((w) << (s)) | ((w) >> (32 - (s))))

XLB_INLINE __u32 xlb_jhash_3words(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	initval += 0xdeadbeef + (3 << 2);
	a += initval;
	b += initval;
	c += initval;
	c ^= b;
	c -= xlb_rol32(b, 14);
	a ^= c;
	a -= xlb_rol32(c, 11);
	b ^= a;
	b -= xlb_rol32(a, 25);
	c ^= b;
	c -= xlb_rol32(b, 16);
	a ^= c;
	a -= xlb_rol32(c, 4);
	b ^= a;
	b -= xlb_rol32(a, 14);
	c ^= b;
	c -= xlb_rol32(b, 24);
	return c;
}

/*
 * The flow hash of a 5-tuple under a VIP's flags. The destination address
 * is left out: each VIP has its own ring. IPv6 sources are mixed down to
 * one word first.
 */
XLB_INLINE __u32 xlb_flow_hash(const struct xlb_flow_key *k, __u32 vip_flags)
{
	__u32 src = k->src.v6[0], ports;

	if (vip_flags & XLB_VIP_F_DPORT_ONLY)
		return xlb_jhash_3words(0, k->dport, k->proto, XLB_HASH_SEED);
	if (k->family == XLB_AF_INET6)
		src = xlb_jhash_3words(k->src.v6[0], k->src.v6[1], k->src.v6[2],
				       k->src.v6[3]);
	if (vip_flags & XLB_VIP_F_NO_SPORT)
		ports = k->dport;
	else
		ports = ((__u32)k->sport << 16) | k->dport;
	return xlb_jhash_3words(src, ports, k->proto, XLB_HASH_SEED);
}

_Static_assert(XLB_VIP_FILTER_BITS == 65536, "filter bit is 16 bits");

/* Pre-filter bit of an address folded to one word (v4: the address). */
XLB_INLINE __u32 xlb_filter_bit32(__u32 folded)
{
	return (folded * 0x9e3779b1U) >> 16;
}

XLB_INLINE __u32 xlb_filter_bit(const union xlb_addr *a)
{
	return xlb_filter_bit32(a->v6[0] ^ a->v6[1] ^ a->v6[2] ^ a->v6[3]);
}

#endif /* XLB_HASH_H */
