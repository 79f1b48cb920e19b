// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The fuzz suite: a seeded corpus of frames through the real balancer
 * (BPF_PROG_TEST_RUN), each judged by an oracle written independently of
 * the program (oracle.c). The world: VIPs v4 and v6, TCP and UDP, exact
 * and port-less, IPIP, GUE, 4in6 and 6in4; backends up, draining and down;
 * flow entries toward a draining and a down backend; the interface MAC in
 * config. The corpus: structured edge cases (every header field at its
 * boundaries, truncation at every length, padding, VLAN tags, options,
 * fragments, extension headers, ICMP types and quotes) and random header
 * mutations of valid VIP packets from a seeded PRNG.
 *
 * Each frame is one test. It passes when the oracle allows the program's
 * action and output, and exactly one verdict counter grew, by one, of the
 * class of the action (pass_*, drop_*, tx_*). Failures print one line
 * each (capped) with the oracle's reason and the frame in hex; the run
 * closes with per-reason tallies and "fuzz: N passed, N failed".
 *
 *   fuzz [-v] [--seed N] [--count N] [--obj FILE]
 *     --seed N   PRNG seed (default: from the clock; always printed)
 *     --count N  random mutations (default 20000); structured cases run
 *                in addition
 *     --obj FILE judge another build of balance.bpf.o (an older one, to
 *                show what the suite catches)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "oracle.h"
#include "../bpf/harness.h"

#define MAX_SHOWN  20
#define MAX_REASON 64
#define RUN_MAX	   3000 /* larger frames do not fit a test run */

static struct tc world;
static __u64 rng;
static int passed, failed;
static struct {
	const char *why;
	int n;
} tally[MAX_REASON];

static __u64 rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static __u32 rnd_below(__u32 n)
{
	return n ? (__u32)(rnd() % n) : 0;
}

#define CLI4_MCAST "224.0.0.9"
#define VIP4P	   VIP4B /* port-less TCP, v6 backends */
#define VIP6P	   VIP6B /* port-less UDP, v4 backends */

static void setup_world(struct tc *t)
{
	struct xlb_config c = base_config();
	struct xlb_flow_key k;

	memcpy(c.src_mac, MAC_IF, 6);
	set_config(t, &c);
	std_vip(t, VIP4, 80, TCP, 1, 0, 13, false);
	std_vip(t, VIP6, 80, TCP, 2, 0, 13, true);
	add_vip(t, VIP4, 53, UDP, 3, 0, 7, XLB_ENCAP_GUE);
	ring_distinct(t, 3, 7, 3001, false);
	add_vip_addr(t, VIP4P);
	add_vip(t, VIP4P, 0, TCP, 4, XLB_VIP_F_NO_SPORT, 7, XLB_ENCAP_DEFAULT);
	ring_distinct(t, 4, 7, 4001, true);
	add_vip_addr(t, VIP6P);
	add_vip(t, VIP6P, 0, UDP, 5, 0, 7, XLB_ENCAP_DEFAULT);
	ring_distinct(t, 5, 7, 5001, false);
	/* No nine slots in a row without an up backend. */
	set_backend_state(t, 1003, XLB_BACKEND_DRAIN);
	set_backend_state(t, 1005, XLB_BACKEND_DOWN);
	set_backend_state(t, 4002, XLB_BACKEND_DOWN);
	set_backend_state(t, 5003, XLB_BACKEND_DRAIN);
	k = fkey(CLI4, VIP4, 41000, 80, TCP);
	set_flow(t, &k, 1003, 0);
	k = fkey(CLI4, VIP4, 41001, 80, TCP);
	set_flow(t, &k, 1005, 0);
	k = fkey(CLI6, VIP6P, 41002, 5353, UDP);
	set_flow(t, &k, 5003, now_ns());
}

static void count_reason(const char *why)
{
	for (int i = 0; i < MAX_REASON; i++) {
		if (!tally[i].why)
			tally[i].why = why;
		if (!strcmp(tally[i].why, why)) {
			tally[i].n++;
			return;
		}
	}
}

static const char *verdict_class(__u32 id)
{
	return id < XLB_CNT_MAX ? xlb_counter_names[id] : "?";
}

/* Only the verdict counters: stats of every backend cost 16k reads. */
static struct xlb_counter before[XLB_CNT_MAX + 32], after[XLB_CNT_MAX + 32];

/* One frame through the program and the oracle. */
static void run(const char *cls, const __u8 *d, __u32 len)
{
	static __u8 out[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = d, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	__u32 nverdicts = H.ncounters - (XLB_CNT_MAX - XLB_CNT_FIRST_EVENT);
	const char *why = NULL, *want;
	struct expect e;
	__u32 hit = 0, id = 0;
	char detail[96];

	if (len < 14 || len > RUN_MAX || H.ncounters > XLB_CNT_MAX + 32)
		return;
	oracle_expect(&world, d, len, &e);
	if (percpu_sum(H.counters, H.ncounters, before) ||
	    bpf_prog_test_run_opts(H.bal_prog, &opts) ||
	    percpu_sum(H.counters, H.ncounters, after)) {
		why = "test-run-error";
		goto out;
	}
	why = oracle_judge(&world, &e, d, len, opts.retval, out,
			   opts.data_size_out);
	for (__u32 i = 0; i < nverdicts; i++) {
		__u64 dp = after[i].packets - before[i].packets;

		if (dp) {
			hit += dp;
			id = i;
		}
	}
	want = opts.retval == XDP_PASS	 ? "pass_"
	       : opts.retval == XDP_DROP ? "drop_"
					 : "tx_";
	if (!why && hit != 1)
		why = "verdict-count";
	else if (!why && strncmp(verdict_class(id), want, strlen(want)))
		why = "verdict-class";
out:
	if (!why) {
		passed++;
		return;
	}
	failed++;
	/* The oracle's rule names which check the frame broke. */
	snprintf(detail, sizeof(detail), "%s (rule %s)", why,
		 e.why ? e.why : "-");
	count_reason(strdup(detail));
	if (failed <= MAX_SHOWN) {
		printf("FAIL %s: %s, action %u, verdict %s:", cls, detail,
		       opts.retval, hit == 1 ? verdict_class(id) : "none/many");
		for (__u32 i = 0; i < len && i < 96; i++)
			printf(" %02x", d[i]);
		printf("%s\n", len > 96 ? " ..." : "");
	}
}

static void run_frame(const char *cls, const struct frame *f)
{
	run(cls, f->d, f->len);
}

/* ---- templates: valid packets of every kind the world knows ---- */

#define NTPL 24
static struct frame tpl[NTPL];
static int ntpl;

static void ptb_template(struct frame *f, bool v6, __u8 proto, __u16 vport,
			 __u32 payload)
{
	struct frame q;
	__u8 body[1600];
	__u32 n;

	build(&q, &(struct pkt){.src = v6 ? VIP6 : VIP4,
				.dst = v6 ? CLI6 : CLI4,
				.proto = proto,
				.sport = vport,
				.dport = 40000,
				.flags = F_SYN | F_ACK,
				.payload = payload});
	n = q.len - q.l2;
	memset(body, 0, 8);
	body[0] = v6 ? 2 : 3;
	body[1] = v6 ? 0 : 4;
	body[6] = 1400 >> 8;
	body[7] = 1400 & 0xff;
	memcpy(body + 8, q.d + q.l2, n);
	build(f, &(struct pkt){.src = v6 ? RTR6 : RTR4,
			       .dst = v6 ? VIP6 : VIP4,
			       .proto = v6 ? ICMP6 : ICMP,
			       .l4 = body,
			       .l4_len = 8 + n});
}

static void templates(void)
{
	const struct pkt p[] = {
		{.src = CLI4, .dst = VIP4, .flags = F_SYN, .payload = 10},
		{.src = CLI4, .dst = VIP4, .sport = 41000, .payload = 100},
		{.src = CLI4, .dst = VIP4, .sport = 41001, .frag_off = 0x4000},
		{.src = CLI4B,
		 .dst = VIP4,
		 .proto = UDP,
		 .dport = 53,
		 .payload = 40},
		{.src = CLI6,
		 .dst = VIP6,
		 .flags = F_SYN,
		 .doff = 8,
		 .payload = 12},
		{.src = CLI6B,
		 .dst = VIP6,
		 .payload = 300,
		 .vlan = true,
		 .tci = 7},
		{.src = CLI4, .dst = VIP4P, .dport = 443, .payload = 20},
		{.src = CLI6,
		 .dst = VIP6P,
		 .proto = UDP,
		 .sport = 41002,
		 .dport = 5353,
		 .payload = 30},
		{.src = CLI4,
		 .dst = VIP4,
		 .proto = ICMP,
		 .icmp_type = 8,
		 .payload = 33},
		{.src = CLI6,
		 .dst = VIP6,
		 .proto = ICMP6,
		 .icmp_type = 128,
		 .payload = 56,
		 .vlan = true,
		 .tci = 3},
		{.src = CLI4, .dst = VIP4, .frag_off = 0x4000, .payload = 1460},
		{.src = CLI6, .dst = VIP6, .payload = 1440},
		{.src = CLI4, .dst = "198.19.5.5", .flags = F_SYN},
		{.src = CLI6,
		 .dst = VIP6,
		 .proto = ICMP6,
		 .icmp_type = 135,
		 .payload = 16},
		{.src = CLI4, .dst = VIP4, .flags = F_SYN, .trailer = 6},
		{.ethertype = 0x0806},
	};

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		build(&tpl[ntpl++], &p[i]);
	ptb_template(&tpl[ntpl++], false, TCP, 80, 40);
	ptb_template(&tpl[ntpl++], true, TCP, 80, 20);
	ptb_template(&tpl[ntpl++], false, UDP, 53, 1400);
	ptb_template(&tpl[ntpl++], true, TCP, 80, 1460);
}

/* ---- structured edge cases ---- */

static void put16(__u8 *p, __u32 v)
{
	p[0] = (v >> 8) & 0xff;
	p[1] = v & 0xff;
}

/* Field at offset off (from the IP header) set to each boundary value. */
static void boundaries(const char *cls, const struct frame *b, __u32 off,
		       bool wide, const __u32 *vals, int n)
{
	struct frame f;

	for (int i = 0; i < n; i++) {
		f = *b;
		if (f.l2 + off + 2 > f.len)
			return;
		if (wide)
			put16(f.d + f.l2 + off, vals[i]);
		else
			f.d[f.l2 + off] = vals[i];
		run_frame(cls, &f);
	}
}

static void structured(void)
{
	struct frame f;

	for (int t = 0; t < ntpl; t++) {
		const struct frame *b = &tpl[t];
		bool v6 = b->len > b->l2 && (b->d[b->l2] >> 4) == 6;
		__u32 ip_len = b->len - b->l2, hl = v6 ? 40 : 20;
		__u32 lens[] = {0,	1,	    hl - 1, hl,		hl + 7,
				hl + 8, ip_len - 1, ip_len, ip_len + 1, 0xffff};
		__u32 l4lens[] = {0,
				  7,
				  8,
				  9,
				  ip_len - hl - 1,
				  ip_len - hl,
				  ip_len - hl + 1,
				  0xffff};

		run_frame("template", b);
		/* Truncation at every length. */
		for (__u32 n = 14; n < b->len; n++) {
			f = *b;
			f.len = n;
			run_frame("truncated", &f);
		}
		/* Padding and junk after the packet. */
		for (__u32 n = 1; n <= 64; n += 7) {
			f = *b;
			memset(f.d + f.len, n & 1 ? 0 : 0xa5, n);
			f.len += n;
			run_frame("padded", &f);
		}
		/* Every value of the version/IHL byte, of the first L4 bytes.
		 */
		for (__u32 v = 0; v < 256; v++) {
			f = *b;
			f.d[f.l2] = v;
			run_frame("version-ihl", &f);
			f = *b;
			f.d[f.l2 + (v6 ? 6 : 9)] = v;
			run_frame("next-proto", &f);
			f = *b;
			if (f.l2 + hl + 1 < f.len) {
				f.d[f.l2 + hl] = v;
				run_frame("l4-type", &f);
			}
			f = *b;
			if (f.l2 + hl + 12 < f.len) {
				f.d[f.l2 + hl + 12] = v;
				run_frame("tcp-doff", &f);
			}
		}
		/* Length fields at their boundaries. */
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
			lens[i] -= v6 && lens[i] < 0xffff
					   ? (lens[i] >= 40 ? 40 : 0)
					   : 0;
		boundaries("ip-length", b, v6 ? 4 : 2, true, lens,
			   sizeof(lens) / sizeof(lens[0]));
		boundaries("udp-length", b, hl + 4, true, l4lens,
			   sizeof(l4lens) / sizeof(l4lens[0]));
		if (!v6) {
			const __u32 frag[] = {0,      0x4000, 0x2000, 0x0001,
					      0x1fff, 0x6000, 0x8000, 0xffff};

			boundaries("frag", b, 6, true, frag, 8);
		}
		/* Source addresses that name no single host. */
		for (int i = 0; i < 4; i++) {
			static const __u8 s4[4][4] = {{0, 0, 0, 0},
						      {255, 255, 255, 255},
						      {224, 0, 0, 9},
						      {127, 0, 0, 1}};
			static const __u8 s6[4][16] = {
				{0},
				{[0] = 0xff, 0x02, [15] = 1},
				{[15] = 1},
				{[0] = 0xff, 0x05, [15] = 2}};

			f = *b;
			if (f.len < f.l2 + hl)
				break;
			memcpy(f.d + f.l2 + (v6 ? 8 : 12), v6 ? s6[i] : s4[i],
			       v6 ? 16 : 4);
			run_frame("bad-source", &f);
		}
		/* Group destination MACs. */
		f = *b;
		memset(f.d, 0xff, 6);
		run_frame("group-mac", &f);
	}
	/* Options, extension headers and VLAN shapes built whole. */
	for (int w = 1; w <= 10; w++)
		for (int q = 0; q < 2; q++) {
			build(&f, &(struct pkt){.src = CLI4,
						.dst = VIP4,
						.opt_words = w,
						.vlan = q});
			run_frame("ip-options", &f);
		}
	for (int x = 0; x < 256; x++) {
		build(&f, &(struct pkt){.src = CLI6,
					.dst = VIP6,
					.ext = true,
					.ext_type = x});
		run_frame("ipv6-ext", &f);
	}
	for (int q = 0; q < 2; q++) {
		build(&f, &(struct pkt){.src = CLI4,
					.dst = VIP4,
					.vlan = true,
					.tpid = 0x88a8,
					.qinq = q});
		run_frame("vlan", &f);
	}
	for (int ty = 0; ty < 256; ty++)
		for (int v6 = 0; v6 < 2; v6++) {
			build(&f, &(struct pkt){.src = v6 ? CLI6 : CLI4,
						.dst = v6 ? VIP6 : VIP4,
						.proto = v6 ? ICMP6 : ICMP,
						.icmp_type = ty,
						.icmp_code = ty == 3 ? 4 : 0,
						.payload = 28});
			run_frame("icmp-type", &f);
		}
}

/* ---- random mutations of valid packets ---- */

static void mutate(struct frame *f)
{
	__u32 hdr = f->l2 + 80 < f->len ? f->l2 + 80 : f->len;
	__u32 n = 1 + rnd_below(4);

	for (__u32 i = 0; i < n; i++) {
		__u32 off = f->l2 + rnd_below(hdr - f->l2);

		switch (rnd_below(6)) {
		case 0: /* one bit */
			f->d[off] ^= 1 << rnd_below(8);
			break;
		case 1: /* one byte */
			f->d[off] = rnd();
			break;
		case 2: /* a 16-bit field by a small amount */
			if (off + 1 < f->len)
				put16(f->d + off,
				      ((f->d[off] << 8 | f->d[off + 1]) +
				       rnd_below(9) - 4) &
					      0xffff);
			break;
		case 3: /* cut */
			f->len = 14 + rnd_below(f->len - 13);
			hdr = hdr < f->len ? hdr : f->len;
			if (hdr <= f->l2)
				return;
			break;
		case 4: /* padding or junk */
			if (f->len + 64 < FRAME_MAX) {
				__u32 k = 1 + rnd_below(64);

				for (__u32 j = 0; j < k; j++)
					f->d[f->len + j] = rnd();
				f->len += k;
			}
			break;
		default: /* a group destination MAC */
			f->d[0] |= 1;
			break;
		}
	}
}

static void random_frames(__u32 count)
{
	struct frame f;

	for (__u32 i = 0; i < count; i++) {
		f = tpl[rnd_below(ntpl)];
		if (f.len <= f.l2)
			continue;
		mutate(&f);
		run_frame("mutated", &f);
	}
}

int main(int argc, char **argv)
{
	const char *obj = NULL;
	__u64 seed = 0;
	bool have_seed = false;
	__u32 count = 20000;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v")) {
			H.verbose = true;
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
			have_seed = true;
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--obj") && i + 1 < argc) {
			obj = argv[++i];
		} else {
			fprintf(stderr, "usage: fuzz [-v] [--seed N] "
					"[--count N] [--obj FILE]\n");
			return 2;
		}
	}
	if (!have_seed)
		seed = (__u64)time(NULL);
	rng = seed ? seed : 1;
	printf("fuzz: seed %llu, %u random frames%s%s\n",
	       (unsigned long long)seed, count, obj ? ", object " : "",
	       obj ? obj : "");
	libbpf_set_print(harness_print);
	err = harness_init();
	err = err ?: harness_load(obj);
	err = err ?: reset_balance();
	if (err) {
		fprintf(stderr, "fuzz: loading the balancer: %s\n",
			strerror(-err));
		printf("fuzz: 0 passed, 1 failed\n");
		return 1;
	}
	world.name = "fuzz";
	setup_world(&world);
	if (world.failed) {
		fprintf(stderr, "fuzz: setup: %s\n", world.why);
		printf("fuzz: 0 passed, 1 failed\n");
		return 1;
	}
	templates();
	structured();
	random_frames(count);
	for (int i = 0; i < MAX_REASON && tally[i].why; i++)
		printf("  %6d x %s\n", tally[i].n, tally[i].why);
	harness_unload();
	printf("fuzz: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
