/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Internet checksum helpers (RFC 1071, RFC 1624) for the XDP programs:
 * folding, a whole IPv4 header computed inline without a helper call,
 * incremental updates when one 16-bit word changes, and the sum over a
 * variable-length stretch of the packet (to verify a checksum).
 */
#ifndef XLB_CSUM_H
#define XLB_CSUM_H

#include <linux/types.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Checksum of a 20-byte IPv4 header whose check field is zero. */
static __always_inline __u16 ipv4_csum(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u64 sum = 0;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	return csum_fold(sum);
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one changed 16-bit word. */
static __always_inline void csum_replace2(__u16 *sum, __u16 old, __u16 new)
{
	__u32 s = (__u16) ~*sum;

	s += (__u16)~old;
	s += new;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*sum = ~s;
}

/* Longest stretch csum_packet() sums: more than any linear XDP frame. */
#ifndef XLB_CSUM_MAX
#define XLB_CSUM_MAX 4096
#endif
#define XLB_CSUM_CHUNK 64

/*
 * The one's complement sum (unfolded, in memory word order) of len bytes
 * at p, added to seed. p + len must lie before data_end. Returns -1 when
 * the stretch is longer than XLB_CSUM_MAX or runs past data_end. Chunks
 * of XLB_CSUM_CHUNK bytes go through bpf_csum_diff(); the tail is summed
 * in 4-, 2- and 1-byte loads, each bounded for the verifier.
 */
static __always_inline int csum_packet(void *p, __u32 len, void *data_end,
				       __u64 seed, __u64 *sum)
{
	__u32 off = 0;
	__u64 s = seed;
	__u32 last;

	if (len > XLB_CSUM_MAX)
		return -1;
	for (int i = 0; i < XLB_CSUM_MAX / XLB_CSUM_CHUNK; i++) {
		if (off + XLB_CSUM_CHUNK > len)
			break;
		if (p + off + XLB_CSUM_CHUNK > data_end)
			return -1;
		s = (__u32)bpf_csum_diff(NULL, 0, p + off, XLB_CSUM_CHUNK,
					 csum_fold(s) ^ 0xffff);
		off += XLB_CSUM_CHUNK;
	}
	for (int i = 0; i < XLB_CSUM_CHUNK / 4; i++) {
		if (off + 4 > len)
			break;
		if (p + off + 4 > data_end)
			return -1;
		s += *(__u32 *)(p + off);
		off += 4;
	}
	if (off + 2 <= len) {
		if (p + off + 2 > data_end)
			return -1;
		s += *(__u16 *)(p + off);
		off += 2;
	}
	if (off < len) {
		if (p + off + 1 > data_end)
			return -1;
		/* The odd byte, padded with a zero byte (RFC 1071). */
		last = *(__u8 *)(p + off);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		last <<= 8;
#endif
		s += last;
	}
	*sum = s;
	return 0;
}

#endif /* XLB_CSUM_H */
