// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Benchmark harness: an XDP program that BPF_PROG_TEST_RUN repeats N times
 * and that hands the same input frame to the program under test on every
 * repetition. test_run does not restore the frame between repetitions, so
 * a program that encapsulates would otherwise see its own output from the
 * second round on. The programs under test change a frame only at its
 * head (bpf_xdp_adjust_head: encapsulation prepends, decapsulation strips),
 * so moving the head back by the length difference and copying the
 * original bytes over the frame restores it exactly. Optionally a per-CPU
 * sequence number is written into the frame so every packet is a new flow,
 * or a flow picked by it from a shuffled list, so packets hit many flows.
 * Then it tail-calls slot 0 of `target`: the program under test, or
 * bench_pass for the floor (the harness's own cost).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Largest frame the harness restores; a multiple of 8. */
#define BENCH_FRAME_MAX 128

/*
 * The input frame, set by userspace before each run (global data: read
 * without a helper call, so the floor stays low). Word-aligned so that
 * the copy below reads whole words.
 */
__u8 frame[BENCH_FRAME_MAX] __attribute__((aligned(8)));
/* Its length; 14 <= frame_len <= BENCH_FRAME_MAX. */
__u32 frame_len;
/*
 * Non-zero: write the sequence number into every frame, its low 16 bits
 * (network order) at seq_lo_off and 1024 + its high 16 bits at seq_hi_off
 * (e.g. the host part of a /16 source address and the source port), so
 * that each packet is a new 5-tuple with addresses kept in their prefix.
 */
__u32 seq_rewrite;
__u32 seq_lo_off;
__u32 seq_hi_off;
/*
 * Non-zero (a power of two minus one): write order[seq & order_mask]
 * instead of the sequence number, so packets visit a set of flows in a
 * shuffled order (flow_hit_many) rather than each being new.
 */
__u32 order_mask;
/* Largest order: 256K flows. */
#define BENCH_ORDER_MAX (1U << 18)
__u32 order[BENCH_ORDER_MAX];
/* Repetitions that could not restore or tail-call (must stay 0). */
__u64 harness_errors;

/* Slot 0: the program under test. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

/* The sequence number of seq_rewrite, per CPU (one element). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seq SEC(".maps");

/* Writes a 16-bit network-order value at a bounded offset of the frame. */
static __always_inline int store16(void *data, void *data_end, __u32 off,
				   __u16 val)
{
	__be16 *p;

	if (off > BENCH_FRAME_MAX - 2)
		return -1;
	p = data + off;
	if ((void *)(p + 1) > data_end)
		return -1;
	*p = bpf_htons(val);
	return 0;
}

static __always_inline int rewrite_seq(void *data, void *data_end)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&seq, &zero);
	__u32 v;

	if (!n)
		return -1;
	v = (*n)++;
	if (order_mask)
		v = order[v & order_mask & (BENCH_ORDER_MAX - 1)];
	if (store16(data, data_end, seq_lo_off, v & 0xffff) ||
	    store16(data, data_end, seq_hi_off, 1024 + (v >> 16)))
		return -1;
	return 0;
}

/*
 * Copies frame over the len bytes at data: whole words from the start,
 * then the last word (overlapping) when len is not a multiple of 8.
 */
static __always_inline int copy_frame(void *data, void *data_end, __u32 len)
{
	__u32 off;

#pragma unroll
	for (int i = 0; i < BENCH_FRAME_MAX / 8; i++) {
		if (i * 8 + 8 > len)
			break;
		if (data + i * 8 + 8 > data_end)
			return -1;
		*(__u64 *)(data + i * 8) = *(__u64 *)&frame[i * 8];
	}
	if (len & 7) {
		off = len - 8;
		if (off > BENCH_FRAME_MAX - 8 || data + off + 8 > data_end)
			return -1;
		__builtin_memcpy(data + off, &frame[off], 8);
	}
	return 0;
}

SEC("xdp")
int bench_harness(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = frame_len;
	int delta = (int)(data_end - data) - (int)len;

	if (len < 14 || len > BENCH_FRAME_MAX)
		goto fail;
	/* Positive: the program prepended delta bytes; negative: stripped. */
	if (delta && bpf_xdp_adjust_head(ctx, delta))
		goto fail;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + len != data_end)
		goto fail;

	if (copy_frame(data, data_end, len))
		goto fail;
	if (seq_rewrite && rewrite_seq(data, data_end))
		goto fail;

	bpf_tail_call(ctx, &target, 0);
fail:
	harness_errors++;
	return XDP_ABORTED;
}

/* The floor's target: the cheapest program there is. */
SEC("xdp")
int bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
