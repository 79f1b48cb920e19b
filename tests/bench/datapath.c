// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Per-packet cost of the XDP programs. Each scenario is one input frame
 * run through the harness (harness.bpf.c), which restores the frame and
 * tail-calls the program under test, N times per BPF_PROG_TEST_RUN. The
 * floor is the same harness, same frame, tail-calling bench_pass, measured
 * in alternation with the scenario so both see the same machine.
 *
 * A figure for a path the packet did not take is worthless, so every
 * scenario is first run once and its verdict, output length and counter
 * deltas checked; every timed run is checked again by its counters (the
 * expected ones rose by exactly N, no others moved) and by the harness's
 * error count. Any mismatch aborts the benchmark.
 *
 * Time is the thread's CPU time around the syscall divided by N: it has
 * sub-nanosecond resolution (test_run's own duration is whole ns) and does
 * not count time the thread spent preempted by other work.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlb/types.h>
#include <xlb/counters.h>
#include <xlb/hash.h>
#include "balance.skel.h"
#include "decap.skel.h"
#include "bench_harness.skel.h"
#include "bench.h"

#define VIP4	    "198.19.0.1"
#define VIP6	    "2001:db8:1::1"
#define VIP_GUE	    "198.19.0.2"
#define VIP_PORT    80
#define CLIENT4	    "198.18.100.1"
#define CLIENT6	    "2001:db8:100::1"
#define CLIENT_PORT 40000
#define NONVIP4	    "198.18.9.9"
/* Backend host of the decap scenario, and the balancer's outer source. */
#define DECAP_HOST "198.18.1.1"
#define LB_SRC4	   "198.18.255.7"

#define N_BACKENDS 16
#define VIP_ID4	   1
#define VIP_ID6	   2
#define VIP_IDGUE  3
/* Backend ids: 1..16 IPv4 198.18.1.x, 17..32 IPv6 2001:db8:2::x. */
#define BE4_FIRST 1
#define BE6_FIRST (BE4_FIRST + N_BACKENDS)

_Static_assert(sizeof(((struct bench_harness__bss *)0)->frame) ==
		       BENCH_FRAME_MAX,
	       "harness.bpf.c and bench.h agree on the largest frame");

/* Warm-up of new_flow_full_table: more new flows than the table holds. */
#define FULL_TABLE_WARMUP ((__u32)(XLB_MAX_FLOWS + XLB_MAX_FLOWS / 16))

/* The objects a run shares. */
struct dp {
	struct xlb_balance *bal;
	struct xlb_decap *dec;
	struct bench_harness *h;
	int harness_fd, pass_fd, target_fd, counters_fd, dcounters_fd;
	int rings[3];
	struct xlb_vip_filter filter; /* as written to vip_filter */
	int ncpus;
	struct xlb_counter *percpu; /* ncpus values, for reading counters */
	const struct bench_opts *o;
};

enum dp_target { TARGET_BALANCE, TARGET_DECAP };

/* A counter and how much it must rise per packet. */
struct expect_cnt {
	__u32 id;
	__u32 per_packet;
};

struct scenario {
	const char *name;
	enum dp_target target;
	__u32 action;		  /* expected XDP verdict */
	int len_delta;		  /* output length minus input length */
	bool new_flows;		  /* harness writes a new source per packet */
	struct expect_cnt cnt[4]; /* the counters that move; all others stay */
	int n_cnt;
	/* Builds the frame and puts the maps in the scenario's state. */
	int (*prepare)(struct dp *dp, struct bench_frame *f);
	/* NULL, or a check of the maps after the timed runs. */
	int (*check)(struct dp *dp);
};

static const char *const action_names[] = {
	"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"};

static const char *action_name(__u32 a)
{
	return a < 5 ? action_names[a] : "unknown";
}

static void addr_of(int af, const char *s, union xlb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(af, s, a) != 1) {
		fprintf(stderr, "xlb: bench: bad address literal %s\n", s);
		abort();
	}
}

/* Sum over CPUs of counter id of a per-CPU counters map. */
static int read_counter(struct dp *dp, int fd, __u32 id, __u64 *packets)
{
	if (bpf_map_lookup_elem(fd, &id, dp->percpu))
		return -errno;
	*packets = 0;
	for (int c = 0; c < dp->ncpus; c++)
		*packets += dp->percpu[c].packets;
	return 0;
}

/* All counters of the map the target counts in. */
static int snap_counters(struct dp *dp, enum dp_target t, __u64 *v)
{
	int fd = t == TARGET_BALANCE ? dp->counters_fd : dp->dcounters_fd;
	__u32 n = t == TARGET_BALANCE ? XLB_CNT_MAX : XLB_DECAP_MAX;
	int err;

	for (__u32 i = 0; i < n; i++) {
		err = read_counter(dp, fd, i, &v[i]);
		if (err)
			return err;
	}
	return 0;
}

static const char *counter_name(enum dp_target t, __u32 id)
{
	return t == TARGET_BALANCE ? xlb_counter_names[id]
				   : xlb_decap_counter_names[id];
}

/*
 * Did exactly the scenario's counters move, each by per_packet * packets?
 * Prints every mismatch.
 */
static int check_counters(const struct scenario *s, const __u64 *before,
			  const __u64 *after, __u64 packets)
{
	__u32 n = s->target == TARGET_BALANCE ? XLB_CNT_MAX : XLB_DECAP_MAX;
	int bad = 0;

	for (__u32 i = 0; i < n; i++) {
		__u64 want = 0, got = after[i] - before[i];

		for (int j = 0; j < s->n_cnt; j++)
			if (s->cnt[j].id == i)
				want = (__u64)s->cnt[j].per_packet * packets;
		if (got != want) {
			fprintf(stderr,
				"xlb: bench: %s: counter %s rose by %llu, "
				"expected %llu\n",
				s->name, counter_name(s->target, i),
				(unsigned long long)got,
				(unsigned long long)want);
			bad = 1;
		}
	}
	return bad ? -EPROTO : 0;
}

/* One BPF_PROG_TEST_RUN; duration: test_run's own ns per run, or NULL. */
static int test_run(int prog_fd, const struct bench_frame *in, __u32 repeat,
		    __u32 *retval, struct bench_frame *out, __u32 *duration)
{
	__u8 buf[512] = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->data,
		    .data_size_in = in->len, .data_out = buf,
		    .data_size_out = sizeof(buf), .repeat = repeat);
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return -errno;
	*retval = opts.retval;
	if (duration)
		*duration = opts.duration;
	if (out) {
		memset(out, 0, sizeof(*out));
		out->len = opts.data_size_out;
		memcpy(out->data, buf,
		       out->len < BENCH_FRAME_MAX ? out->len : BENCH_FRAME_MAX);
	}
	return 0;
}

static int set_target(struct dp *dp, int prog_fd)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(dp->target_fd, &zero, &prog_fd, BPF_ANY))
		return -errno;
	return 0;
}

/* Gives the harness its frame; new_flows: a new source each packet. */
static void set_frame(struct dp *dp, const struct bench_frame *f,
		      bool new_flows)
{
	memcpy(dp->h->bss->frame, f->data, BENCH_FRAME_MAX);
	dp->h->bss->frame_len = f->len;
	dp->h->bss->seq_rewrite = new_flows;
	/* Host part of the /16 source address, and the source port. */
	dp->h->bss->seq_lo_off = FRAME4_SADDR + 2;
	dp->h->bss->seq_hi_off = FRAME4_SPORT;
}

/*
 * Runs the harness `repeat` times: ns of CPU time per packet, and
 * test_run's own (whole) ns per run as a cross-check.
 */
static int timed_run(struct dp *dp, const struct bench_frame *f, __u32 repeat,
		     __u32 want_action, double *ns, __u32 *kernel_ns)
{
	__u32 retval;
	double t0, t1;
	int err;

	t0 = bench_thread_seconds();
	err = test_run(dp->harness_fd, f, repeat, &retval, NULL, kernel_ns);
	t1 = bench_thread_seconds();
	if (err)
		return err;
	if (dp->h->bss->harness_errors) {
		fprintf(stderr, "xlb: bench: harness failed %llu times\n",
			(unsigned long long)dp->h->bss->harness_errors);
		return -EPROTO;
	}
	if (retval != want_action) {
		fprintf(stderr, "xlb: bench: verdict %s, expected %s\n",
			action_name(retval), action_name(want_action));
		return -EPROTO;
	}
	*ns = (t1 - t0) * 1e9 / repeat;
	return 0;
}

/* One run of the frame straight through the balancer (no harness). */
static int balance_once(struct dp *dp, const struct bench_frame *f,
			__u32 want_action)
{
	__u32 retval;
	int err;

	err = test_run(bpf_program__fd(dp->bal->progs.xlb_balance), f, 1,
		       &retval, NULL, NULL);
	if (err)
		return err;
	if (retval != want_action) {
		fprintf(stderr, "xlb: bench: set-up packet got %s, not %s\n",
			action_name(retval), action_name(want_action));
		return -EPROTO;
	}
	return 0;
}

/* Not for a VIP, and told so by the pre-filter: no hash-map lookup. */
static int prepare_nonvip(struct dp *dp, struct bench_frame *f)
{
	union xlb_addr a;
	__u32 bit;

	addr_of(AF_INET, NONVIP4, &a);
	bit = xlb_filter_bit(&a);
	if (dp->filter.bits[bit / 64] & (1ULL << (bit % 64))) {
		fprintf(stderr,
			"xlb: bench: nonvip_pass: %s shares a "
			"pre-filter bit with a VIP\n",
			NONVIP4);
		return -EPROTO;
	}
	frame_tcp4(f, CLIENT4, NONVIP4, CLIENT_PORT, VIP_PORT, TCPF_ACK);
	return 0;
}

/* The flow of an ACK is put in the table by its SYN, as in real life. */
static int prepare_tcp_hit(struct dp *dp, struct bench_frame *f)
{
	frame_tcp4(f, CLIENT4, VIP4, CLIENT_PORT, VIP_PORT, TCPF_SYN);
	if (balance_once(dp, f, XDP_TX))
		return -EPROTO;
	frame_tcp4(f, CLIENT4, VIP4, CLIENT_PORT, VIP_PORT, TCPF_ACK);
	return 0;
}

static int prepare_syn(struct dp *dp, struct bench_frame *f)
{
	(void)dp;
	frame_tcp4(f, CLIENT4, VIP4, CLIENT_PORT + 1, VIP_PORT, TCPF_SYN);
	return 0;
}

/*
 * SYNs of new flows into a full table: every insert evicts. The table is
 * filled first with more new flows than it holds. With BPF_F_NO_COMMON_LRU
 * each CPU has max_entries / possible CPUs of them, and the benchmark runs
 * on one CPU, so that share is what fills and evicts here.
 */
static int prepare_full_table(struct dp *dp, struct bench_frame *f)
{
	__u64 before, after, entries = 0;
	struct xlb_flow_key k, next;
	__u32 retval = XDP_ABORTED;
	int fd = bpf_map__fd(dp->bal->maps.flows), err;
	void *prev = NULL;

	frame_tcp4(f, "198.18.0.0", VIP4, 0, VIP_PORT, TCPF_SYN);
	set_frame(dp, f, true);
	err = set_target(dp, bpf_program__fd(dp->bal->progs.xlb_balance));
	if (err)
		return err;
	err = read_counter(dp, dp->counters_fd, XLB_CNT_FLOW_INSERT, &before);
	if (err)
		return err;
	err = test_run(dp->harness_fd, f, FULL_TABLE_WARMUP, &retval, NULL,
		       NULL);
	if (err)
		return err;
	err = read_counter(dp, dp->counters_fd, XLB_CNT_FLOW_INSERT, &after);
	if (err)
		return err;
	if (retval != XDP_TX || dp->h->bss->harness_errors ||
	    after - before != FULL_TABLE_WARMUP) {
		fprintf(stderr,
			"xlb: bench: new_flow_full_table: warm-up inserted "
			"%llu flows of %u (verdict %s)\n",
			(unsigned long long)(after - before), FULL_TABLE_WARMUP,
			action_name(retval));
		return -EPROTO;
	}
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		entries++;
	}
	printf("  warm-up: %u new flows inserted, flows holds %llu of %u "
	       "(per-CPU LRU share: %u)\n",
	       FULL_TABLE_WARMUP, (unsigned long long)entries,
	       (__u32)XLB_MAX_FLOWS, (__u32)XLB_MAX_FLOWS / dp->ncpus);
	if (entries < (__u64)XLB_MAX_FLOWS / dp->ncpus / 2) {
		fprintf(stderr, "xlb: bench: new_flow_full_table: the table "
				"did not fill\n");
		return -EPROTO;
	}
	return 0;
}

/*
 * The flow counted as inserted last must be in the table: the balancer
 * does not check bpf_map_update_elem, so the counter alone cannot tell an
 * insert into a full table from a failed one.
 */
static int check_full_table(struct dp *dp)
{
	int seq_fd = bpf_map__fd(dp->h->maps.seq), cpu = sched_getcpu();
	struct xlb_flow_key k = {
		.dport = htons(VIP_PORT),
		.proto = IPPROTO_TCP,
		.family = XLB_AF_INET,
	};
	__u32 zero = 0, last;
	__u64 *seqs;
	struct xlb_flow v;
	int err = 0;

	if (cpu < 0 || cpu >= dp->ncpus)
		return -EINVAL;
	seqs = calloc(dp->ncpus, sizeof(*seqs));
	if (!seqs)
		return -ENOMEM;
	if (bpf_map_lookup_elem(seq_fd, &zero, seqs)) {
		err = -errno;
		goto out;
	}
	/* The floor used sequence numbers too: the last is the balancer's. */
	last = (__u32)(seqs[cpu] - 1);
	addr_of(AF_INET, "198.18.0.0", &k.src);
	k.src.v4 |= htonl(last & 0xffff);
	k.sport = htons(1024 + (last >> 16));
	addr_of(AF_INET, VIP4, &k.dst);
	if (bpf_map_lookup_elem(bpf_map__fd(dp->bal->maps.flows), &k, &v)) {
		fprintf(stderr,
			"xlb: bench: new_flow_full_table: the last new flow "
			"is not in the table\n");
		err = -EPROTO;
	}
out:
	free(seqs);
	return err;
}

static int prepare_ipv6_hit(struct dp *dp, struct bench_frame *f)
{
	frame_tcp6(f, CLIENT6, VIP6, CLIENT_PORT, VIP_PORT, TCPF_SYN);
	if (balance_once(dp, f, XDP_TX))
		return -EPROTO;
	frame_tcp6(f, CLIENT6, VIP6, CLIENT_PORT, VIP_PORT, TCPF_ACK);
	return 0;
}

static int prepare_gue_hit(struct dp *dp, struct bench_frame *f)
{
	frame_tcp4(f, CLIENT4, VIP_GUE, CLIENT_PORT, VIP_PORT, TCPF_SYN);
	if (balance_once(dp, f, XDP_TX))
		return -EPROTO;
	frame_tcp4(f, CLIENT4, VIP_GUE, CLIENT_PORT, VIP_PORT, TCPF_ACK);
	return 0;
}

/* What the balancer sends for the tcp_flow_hit flow, as the backend sees it. */
static int prepare_decap(struct dp *dp, struct bench_frame *f)
{
	struct bench_frame inner = {};

	(void)dp;
	frame_tcp4(&inner, CLIENT4, VIP4, CLIENT_PORT, VIP_PORT, TCPF_ACK);
	frame_ipip(f, LB_SRC4, DECAP_HOST, &inner);
	return 0;
}

static const struct scenario scenarios[] = {
	{
		.name = "nonvip_pass",
		.target = TARGET_BALANCE,
		.action = XDP_PASS,
		.cnt = {{XLB_CNT_PASS_NON_VIP, 1}},
		.n_cnt = 1,
		.prepare = prepare_nonvip,
	},
	{
		.name = "tcp_flow_hit",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 20,
		.cnt = {{XLB_CNT_TX_IPIP, 1}, {XLB_CNT_FLOW_HIT, 1}},
		.n_cnt = 2,
		.prepare = prepare_tcp_hit,
	},
	{
		.name = "tcp_syn_insert",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 20,
		.cnt = {{XLB_CNT_TX_IPIP, 1}, {XLB_CNT_FLOW_INSERT, 1}},
		.n_cnt = 2,
		.prepare = prepare_syn,
	},
	{
		.name = "new_flow_full_table",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 20,
		.new_flows = true,
		.cnt = {{XLB_CNT_TX_IPIP, 1}, {XLB_CNT_FLOW_INSERT, 1}},
		.n_cnt = 2,
		.prepare = prepare_full_table,
		.check = check_full_table,
	},
	{
		.name = "ipv6_flow_hit",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 40,
		.cnt = {{XLB_CNT_TX_IP6IP6, 1}, {XLB_CNT_FLOW_HIT, 1}},
		.n_cnt = 2,
		.prepare = prepare_ipv6_hit,
	},
	{
		.name = "gue_flow_hit",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 28,
		.cnt = {{XLB_CNT_TX_GUE, 1}, {XLB_CNT_FLOW_HIT, 1}},
		.n_cnt = 2,
		.prepare = prepare_gue_hit,
	},
	{
		.name = "decap",
		.target = TARGET_DECAP,
		.action = XDP_PASS,
		.len_delta = -20,
		.cnt = {{XLB_DECAP_IPIP, 1}},
		.n_cnt = 1,
		.prepare = prepare_decap,
	},
};

/*
 * An encapsulated frame goes to the gateway with one of the VIP's backends
 * (198.18.1.1-16 or 2001:db8:2::1-16) as its outer destination.
 */
static int check_tx(const struct scenario *s, const struct bench_frame *out)
{
	static const __u8 gw_mac[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x01};
	const struct ethhdr *eth = (const void *)out->data;
	union xlb_addr be_net, dst = {};
	__u8 host;

	if (out->len < ETH_HLEN + 40 || memcmp(eth->h_dest, gw_mac, ETH_ALEN))
		goto bad;
	if (eth->h_proto == htons(ETH_P_IP)) {
		memcpy(&dst.v4, out->data + ETH_HLEN + 16, 4);
		addr_of(AF_INET, "198.18.1.0", &be_net);
		host = ntohl(dst.v4) & 0xff;
		dst.v4 &= htonl(0xffffff00);
	} else if (eth->h_proto == htons(ETH_P_IPV6)) {
		memcpy(&dst, out->data + ETH_HLEN + 24, 16);
		addr_of(AF_INET6, "2001:db8:2::", &be_net);
		host = dst.bytes[15];
		dst.bytes[15] = 0;
	} else {
		goto bad;
	}
	if (!memcmp(&dst, &be_net, sizeof(dst)) && host >= 1 &&
	    host <= N_BACKENDS)
		return 0;
bad:
	fprintf(stderr,
		"xlb: bench: %s: output is not a tunnel to a backend via the "
		"gateway\n",
		s->name);
	return -EPROTO;
}

const char *bench_datapath_name(size_t i)
{
	return i < sizeof(scenarios) / sizeof(scenarios[0]) ? scenarios[i].name
							    : NULL;
}

/*
 * The one verification run: verdict, output length, counters, and for
 * the pass-through scenarios the output bytes themselves.
 */
static int verify(struct dp *dp, const struct scenario *s,
		  const struct bench_frame *f, int prog_fd)
{
	__u64 before[XLB_CNT_MAX], after[XLB_CNT_MAX];
	struct bench_frame out;
	__u32 retval;
	int err;

	err = set_target(dp, prog_fd);
	if (!err)
		err = snap_counters(dp, s->target, before);
	if (!err)
		err = test_run(dp->harness_fd, f, 1, &retval, &out, NULL);
	if (!err)
		err = snap_counters(dp, s->target, after);
	if (err) {
		fprintf(stderr, "xlb: bench: %s: test run: %s\n", s->name,
			strerror(-err));
		return err;
	}
	if (dp->h->bss->harness_errors || retval != s->action) {
		fprintf(stderr,
			"xlb: bench: %s: verdict %s, expected %s "
			"(harness errors %llu)\n",
			s->name, action_name(retval), action_name(s->action),
			(unsigned long long)dp->h->bss->harness_errors);
		return -EPROTO;
	}
	if ((int)out.len - (int)f->len != s->len_delta) {
		fprintf(stderr,
			"xlb: bench: %s: output of %u bytes from %u, "
			"expected %+d\n",
			s->name, out.len, f->len, s->len_delta);
		return -EPROTO;
	}
	if (s->action == XDP_TX && check_tx(s, &out))
		return -EPROTO;
	if (s->action == XDP_PASS && s->target == TARGET_BALANCE &&
	    memcmp(out.data, f->data, f->len)) {
		fprintf(stderr, "xlb: bench: %s: passed frame was modified\n",
			s->name);
		return -EPROTO;
	}
	if (s->target == TARGET_DECAP &&
	    memcmp(out.data + ETH_HLEN, f->data + ETH_HLEN + 20,
		   out.len - ETH_HLEN)) {
		fprintf(stderr, "xlb: bench: %s: inner packet differs\n",
			s->name);
		return -EPROTO;
	}
	return check_counters(s, before, after, 1);
}

/*
 * Packets per chunk. This VM's speed shifts by up to 2x for seconds at a
 * time (host noise, invisible from inside), so a measurement alternates
 * floor and scenario in chunks: a shift then hits both sides of a pair,
 * and the median of the pairs' ratios ignores the pairs it splits.
 */
#define CHUNK 1000000U

/*
 * One measurement of n packets of the scenario and n of the floor, in
 * alternating chunks. Gives ns per packet of each and appends one ratio
 * per chunk pair to ratios[*n_ratios]. Checks the scenario's counters.
 */
static int measure(struct dp *dp, const struct scenario *s,
		   const struct bench_frame *f, int prog_fd, __u32 n,
		   double *ns, double *floor_ns, double *ratios,
		   __u32 *n_ratios, __u32 *kns, __u32 *kfloor)
{
	__u64 before[XLB_CNT_MAX], after[XLB_CNT_MAX];
	double sum = 0, floor_sum = 0, c_ns, c_floor;
	__u32 done = 0, chunk;
	int err;

	err = snap_counters(dp, s->target, before);
	while (!err && done < n) {
		chunk = n - done < CHUNK ? n - done : CHUNK;
		err = set_target(dp, dp->pass_fd);
		if (!err)
			err = timed_run(dp, f, chunk, XDP_PASS, &c_floor,
					kfloor);
		if (!err)
			err = set_target(dp, prog_fd);
		if (!err)
			err = timed_run(dp, f, chunk, s->action, &c_ns, kns);
		if (err)
			break;
		sum += c_ns * chunk;
		floor_sum += c_floor * chunk;
		if (ratios)
			ratios[(*n_ratios)++] = c_ns / c_floor;
		done += chunk;
	}
	if (!err)
		err = snap_counters(dp, s->target, after);
	if (!err)
		err = check_counters(s, before, after, n);
	*ns = sum / n;
	*floor_ns = floor_sum / n;
	return err;
}

static int run_scenario(struct dp *dp, const struct scenario *s,
			struct bench_result *r)
{
	__u32 n = dp->o->packets, reps = dp->o->reps, kns, kfloor;
	double *ns = calloc(reps, sizeof(*ns));
	double *floor_ns = calloc(reps, sizeof(*floor_ns));
	__u32 max_ratios = reps * (n / CHUNK + 1), n_ratios = 0;
	double *ratios = calloc(max_ratios, sizeof(*ratios));
	double warm_ns, warm_floor;
	struct bench_frame f;
	int prog_fd, err;

	if (!ns || !floor_ns || !ratios) {
		err = -ENOMEM;
		goto out;
	}
	prog_fd = s->target == TARGET_BALANCE
			  ? bpf_program__fd(dp->bal->progs.xlb_balance)
			  : bpf_program__fd(dp->dec->progs.xlb_decap);

	err = s->prepare(dp, &f);
	if (err)
		goto fail;
	set_frame(dp, &f, s->new_flows);
	err = verify(dp, s, &f, prog_fd);
	if (err)
		goto fail;

	/* Warm caches and clocks on a tenth of a measurement, not kept. */
	err = measure(dp, s, &f, prog_fd, n / 10 ? n / 10 : 1, &warm_ns,
		      &warm_floor, NULL, NULL, &kns, &kfloor);
	if (err)
		goto fail;
	for (__u32 i = 0; i < reps; i++) {
		err = measure(dp, s, &f, prog_fd, n, &ns[i], &floor_ns[i],
			      ratios, &n_ratios, &kns, &kfloor);
		if (err)
			goto fail;
		if (dp->o->verbose)
			printf("  %-22s rep %u: %8.2f ns, floor %6.2f ns "
			       "(test_run: %u, %u)\n",
			       s->name, i + 1, ns[i], floor_ns[i], kns, kfloor);
	}
	if (s->check) {
		err = s->check(dp);
		if (err)
			goto fail;
	}
	snprintf(r->scenario, sizeof(r->scenario), "%s", s->name);
	r->is_build = false;
	r->ns_per_packet = bench_median(ns, reps);
	r->floor_ns = bench_median(floor_ns, reps);
	r->ratio = bench_median(ratios, n_ratios);
	/* bench_median sorted ns. */
	r->spread = (ns[reps - 1] - ns[0]) / r->ns_per_packet;
	goto out;
fail:
	fprintf(stderr,
		"xlb: bench: %s: aborted: the path measured is not "
		"the one intended\n",
		s->name);
	if (!err)
		err = -EPROTO;
out:
	free(ns);
	free(floor_ns);
	free(ratios);
	return err;
}

static int update(int fd, const void *k, const void *v, const char *what)
{
	if (bpf_map_update_elem(fd, k, v, BPF_ANY)) {
		fprintf(stderr, "xlb: bench: set %s: %s\n", what,
			strerror(errno));
		return -errno;
	}
	return 0;
}

/* A ring of `size` slots filled round-robin with ids first..first+n-1. */
static int make_ring(struct dp *dp, __u32 vip_id, __u32 first, __u32 n,
		     int *ring_fd)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = XLB_RING_MAP_FLAGS);
	int rings_fd = bpf_map__fd(dp->bal->maps.rings), fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4,
			    XLB_RING_SIZE_DEFAULT, &mo);
	if (fd < 0) {
		fprintf(stderr, "xlb: bench: create ring: %s\n",
			strerror(errno));
		return -errno;
	}
	*ring_fd = fd;
	for (__u32 slot = 0; slot < XLB_RING_SIZE_DEFAULT; slot++) {
		__u32 id = first + slot % n;

		err = update(fd, &slot, &id, "ring slot");
		if (err)
			return err;
	}
	return update(rings_fd, &vip_id, &fd, "rings");
}

/* A VIP on port 80/tcp plus its address's ICMP entry and filter bit. */
static int add_vip(struct dp *dp, int af, const char *addr, __u32 vip_id,
		   __u8 encap, struct xlb_vip_filter *filter)
{
	int fd = bpf_map__fd(dp->bal->maps.vips), err;
	struct xlb_vip_key k = {
		.port = htons(VIP_PORT),
		.proto = IPPROTO_TCP,
		.family = af == AF_INET ? XLB_AF_INET : XLB_AF_INET6,
	};
	struct xlb_vip v = {
		.vip_id = vip_id,
		.ring_size = XLB_RING_SIZE_DEFAULT,
		.encap = encap,
	};
	__u32 bit;

	struct xlb_vip_info info;

	addr_of(af, addr, &k.addr);
	err = update(fd, &k, &v, "vips");
	if (err)
		return err;
	info.key = k;
	info.vip = v;
	err = update(bpf_map__fd(dp->bal->maps.vip_info), &vip_id, &info,
		     "vip_info");
	if (err)
		return err;
	k.port = 0;
	k.proto = af == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	err = update(fd, &k, &v, "vips (address entry)");
	if (err)
		return err;
	bit = xlb_filter_bit(&k.addr);
	filter->bits[bit / 64] |= 1ULL << (bit % 64);
	return 0;
}

/* The balancer's maps as the scenarios expect them. */
static int configure_balancer(struct dp *dp)
{
	struct xlb_config cfg = {
		.gw_mac = {0x02, 0, 0, 0, 0, 0x01},
		.encap = XLB_ENCAP_IPIP,
		.ttl = 64,
		.gue_port = htons(6080),
		.mtu = 1500,
		.src4_plen = 24,
		.src6_plen = 64,
		.flow_rate_limit = 0,
		.udp_timeout_ns = 30ULL * 1000000000ULL,
	};
	struct xlb_vip_filter *filter = &dp->filter;
	union xlb_addr a;
	__u32 zero = 0;
	char s[64];
	int err, fd;

	addr_of(AF_INET, "198.18.255.0", &a);
	cfg.src4 = a.v4;
	addr_of(AF_INET6, "2001:db8:ff::", &a);
	memcpy(cfg.src6, a.v6, sizeof(cfg.src6));
	err = update(bpf_map__fd(dp->bal->maps.config), &zero, &cfg, "config");
	if (err)
		return err;

	fd = bpf_map__fd(dp->bal->maps.backends);
	for (__u32 i = 0; i < N_BACKENDS; i++) {
		struct xlb_backend b = {.family = XLB_AF_INET,
					.state = XLB_BACKEND_UP};
		__u32 id = BE4_FIRST + i;

		snprintf(s, sizeof(s), "198.18.1.%u", i + 1);
		addr_of(AF_INET, s, &b.addr);
		err = update(fd, &id, &b, "backends");
		if (err)
			return err;
		id = BE6_FIRST + i;
		b.family = XLB_AF_INET6;
		snprintf(s, sizeof(s), "2001:db8:2::%x", i + 1);
		addr_of(AF_INET6, s, &b.addr);
		err = update(fd, &id, &b, "backends");
		if (err)
			return err;
	}

	err = make_ring(dp, VIP_ID4, BE4_FIRST, N_BACKENDS, &dp->rings[0]);
	if (!err)
		err = make_ring(dp, VIP_ID6, BE6_FIRST, N_BACKENDS,
				&dp->rings[1]);
	if (!err)
		err = make_ring(dp, VIP_IDGUE, BE4_FIRST, N_BACKENDS,
				&dp->rings[2]);
	if (!err)
		err = add_vip(dp, AF_INET, VIP4, VIP_ID4, XLB_ENCAP_DEFAULT,
			      filter);
	if (!err)
		err = add_vip(dp, AF_INET6, VIP6, VIP_ID6, XLB_ENCAP_DEFAULT,
			      filter);
	if (!err)
		err = add_vip(dp, AF_INET, VIP_GUE, VIP_IDGUE, XLB_ENCAP_GUE,
			      filter);
	if (err)
		return err;
	return update(bpf_map__fd(dp->bal->maps.vip_filter), &zero, filter,
		      "vip_filter");
}

static int configure_decap(struct dp *dp)
{
	struct xlb_decap_config cfg = {.gue_port = htons(6080)};
	struct xlb_decap_key k = {.family = XLB_AF_INET};
	__u32 zero = 0;
	int err;

	addr_of(AF_INET, DECAP_HOST, &k.addr);
	err = update(bpf_map__fd(dp->dec->maps.decap_addrs), &k, &zero,
		     "decap_addrs");
	if (err)
		return err;
	return update(bpf_map__fd(dp->dec->maps.decap_config), &zero, &cfg,
		      "decap_config");
}

static int load(struct dp *dp)
{
	int err;

	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0)
		return dp->ncpus ? dp->ncpus : -EINVAL;
	dp->percpu = calloc(dp->ncpus, sizeof(*dp->percpu));
	if (!dp->percpu)
		return -ENOMEM;

	dp->bal = xlb_balance__open_and_load();
	if (!dp->bal) {
		err = -errno;
		fprintf(stderr,
			"xlb: bench: load the balancer: %s (-v: libbpf log)\n",
			strerror(-err));
		return err;
	}
	dp->dec = xlb_decap__open_and_load();
	if (!dp->dec) {
		err = -errno;
		fprintf(stderr,
			"xlb: bench: load the decapsulator: %s (-v: libbpf "
			"log)\n",
			strerror(-err));
		return err;
	}
	dp->h = bench_harness__open_and_load();
	if (!dp->h) {
		err = -errno;
		fprintf(stderr,
			"xlb: bench: load the harness: %s (-v: libbpf log)\n",
			strerror(-err));
		return err;
	}
	dp->harness_fd = bpf_program__fd(dp->h->progs.bench_harness);
	dp->pass_fd = bpf_program__fd(dp->h->progs.bench_pass);
	dp->target_fd = bpf_map__fd(dp->h->maps.target);
	dp->counters_fd = bpf_map__fd(dp->bal->maps.counters);
	dp->dcounters_fd = bpf_map__fd(dp->dec->maps.decap_counters);

	err = configure_balancer(dp);
	if (!err)
		err = configure_decap(dp);
	return err;
}

static void unload(struct dp *dp)
{
	for (int i = 2; i >= 0; i--)
		if (dp->rings[i] > 0)
			close(dp->rings[i]);
	bench_harness__destroy(dp->h);
	xlb_decap__destroy(dp->dec);
	xlb_balance__destroy(dp->bal);
	free(dp->percpu);
}

int bench_datapath(const struct bench_opts *o, struct bench_result *res,
		   int *n_res)
{
	struct dp dp = {.o = o, .rings = {-1, -1, -1}};
	size_t n = sizeof(scenarios) / sizeof(scenarios[0]);
	bool any = false;
	int err;

	for (size_t i = 0; i < n; i++)
		any |= bench_selected(o, scenarios[i].name);
	if (!any)
		return 0;

	err = load(&dp);
	if (err)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!bench_selected(o, scenarios[i].name))
			continue;
		if (*n_res >= BENCH_MAX_RESULTS) {
			err = -E2BIG;
			break;
		}
		printf("  %s ...\n", scenarios[i].name);
		fflush(stdout);
		err = run_scenario(&dp, &scenarios[i], &res[*n_res]);
		if (err)
			break;
		(*n_res)++;
	}
out:
	unload(&dp);
	return err;
}
