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
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlb/types.h>
#include <xlb/uplink.h>
#include <xlb/counters.h>
#include <xlb/hash.h>
#include <xlb/decap.h>
#include <xlb/nat.h>
#include <xlb/trace.h>
#include "loader.h"
#include "balance.skel.h"
#include "decap.skel.h"
#include "bench_harness.skel.h"
#include "bench_balance_lru.skel.h"
#include "bench_balance_notrace.skel.h"
#include "flows.h"
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

#define N_BACKENDS    16
#define VIP_ID4	      1
#define VIP_ID6	      2
#define VIP_IDGUE     3
#define VIP_IDNAT     4
#define RINGS_PER_BAL 4
/* A full-NAT VIP and the address of its pool (one sub-pool, every CPU). */
#define VIP_NAT	 "198.19.0.3"
#define NAT4	 "198.18.200.1"
#define NAT_POOL 1
#define NAT_SP	 1
/* Backend ids: 1..16 IPv4 198.18.1.x, 17..32 IPv6 2001:db8:2::x. */
#define BE4_FIRST 1
#define BE6_FIRST (BE4_FIRST + N_BACKENDS)

_Static_assert(sizeof(((struct bench_harness__bss *)0)->frame) ==
		       BENCH_FRAME_MAX,
	       "harness.bpf.c and bench.h agree on the largest frame");

/*
 * Warm-up of new_flow_full_table: new flows, four times the ways of the
 * bench CPU, so that nearly every bucket has been filled (a bucket gets
 * 32 inserts on average for its 8 ways), or the LRU share evicts.
 */
#define FULL_TABLE_WARMUP(ncpus) ((__u32)(4ULL * XLB_MAX_FLOWS / (ncpus)))
/* flow_hit_many: active flows per CPU (a power of two, <= order[]). */
#define MANY_FLOWS (1U << 18)
/* tcp_flow_hit_2cpu: measurements of one and of two CPUs. */
#define DEFAULT_SCALING_REPS 3
_Static_assert(sizeof(((struct bench_harness__bss *)0)->order) ==
		       MANY_FLOWS * sizeof(__u32),
	       "the harness's order holds MANY_FLOWS");

/*
 * A balancer as the benchmark uses it: the one xlbd loads (its flow
 * table: flows4/flows6) or the LRU baseline built from the same source.
 */
struct bal {
	const char *what;
	struct bpf_object *obj;
	int prog_fd, vips, vip_info, rings, backends, config, filter;
	int counters;
	int flows;		/* the LRU baseline's hash; -1 for the table */
	struct xlb_flows table; /* the table, mapped */
};

enum { BAL_TABLE, BAL_LRU, BAL_NOTRACE, N_BAL };

/* The objects a run shares. */
struct dp {
	struct xlb_balance *skel;
	struct bench_balance_lru *lru_skel;
	struct bench_balance_notrace *notrace_skel;
	struct bal b[N_BAL];
	struct bal *cur; /* the balancer of the scenario being run */
	struct xlb_decap *dec;
	struct bench_harness *h;
	int harness_fd, pass_fd, target_fd, dcounters_fd;
	int cpu; /* the CPU the process is pinned to */
	int rings[RINGS_PER_BAL * N_BAL];
	struct xlb_vip_filter filter; /* as written to vip_filter */
	int ncpus;
	struct xlb_counter *percpu; /* ncpus values, for reading counters */
	const struct bench_opts *o;
	struct ring_buffer *trace_rb; /* trace_events, while a trace runs */
	__u64 trace_records;	      /* read from it */
};

enum dp_target { TARGET_BALANCE, TARGET_DECAP };

/*
 * `xlb trace` running during a scenario (bpf/trace.h): off, as in
 * production; on with a VIP filter the packets miss (what a trace costs
 * the rest of the traffic); on with one they match, 1 in TRACE_SAMPLE
 * recorded (the ring, drained between chunks, never overflows: a chunk
 * records fewer than it holds).
 */
enum dp_trace { TRACE_OFF, TRACE_MISS, TRACE_SAMPLED };
#define TRACE_SAMPLE 1024

/* A counter and how much it must rise per packet. */
struct expect_cnt {
	__u32 id;
	__u32 per_packet;
};

struct scenario {
	const char *name;
	enum dp_target target;
	__u32 action;	/* expected XDP verdict */
	int len_delta;	/* output length minus input length */
	bool new_flows; /* harness writes a new source per packet */
	bool many;	/* harness picks sources from order[] */
	bool to_client; /* XDP_TX back to CLIENT4 (a NAT reply) */
	int bal;	/* BAL_TABLE or BAL_LRU */
	enum dp_trace trace;
	int uplinks;		  /* an uplink set of this many (xlb_egress) */
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
	int fd = t == TARGET_BALANCE ? dp->cur->counters : dp->dcounters_fd;
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

/*
 * Gives the harness its frame; new_flows: a new source each packet (or,
 * with many, one of order[]).
 */
static void set_frame_many(struct dp *dp, const struct bench_frame *f,
			   bool new_flows, bool many)
{
	memcpy(dp->h->bss->frame, f->data, BENCH_FRAME_MAX);
	dp->h->bss->frame_len = f->len;
	dp->h->bss->seq_rewrite = new_flows || many;
	dp->h->bss->order_mask = many ? MANY_FLOWS - 1 : 0;
	/* Host part of the /16 source address, and the source port. */
	dp->h->bss->seq_lo_off = FRAME4_SADDR + 2;
	dp->h->bss->seq_hi_off = FRAME4_SPORT;
}

static void set_frame(struct dp *dp, const struct bench_frame *f,
		      bool new_flows)
{
	set_frame_many(dp, f, new_flows, false);
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

	err = test_run(dp->cur->prog_fd, f, 1, &retval, NULL, NULL);
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

/* Puts the harness's per-CPU sequence number back to 0 on every CPU. */
static int reset_seq(struct dp *dp)
{
	__u64 *zero = calloc(dp->ncpus, sizeof(*zero));
	__u32 key = 0;
	int err = 0;

	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(bpf_map__fd(dp->h->maps.seq), &key, zero,
				BPF_ANY))
		err = -errno;
	free(zero);
	return err;
}

/* The flow of the harness's sequence number v (see harness.bpf.c). */
static struct xlb_flow_key seq_key(__u32 v)
{
	struct xlb_flow_key k = {
		.dport = htons(VIP_PORT),
		.proto = IPPROTO_TCP,
		.family = XLB_AF_INET,
	};

	addr_of(AF_INET, "198.18.0.0", &k.src);
	k.src.v4 |= htonl(v & 0xffff);
	k.sport = htons(1024 + (v >> 16));
	addr_of(AF_INET, VIP4, &k.dst);
	return k;
}

/* Is the flow of key in the balancer's table on this CPU? */
static bool has_flow(struct dp *dp, const struct xlb_flow_key *k)
{
	struct xlb_flow_entry e;

	if (dp->cur->flows >= 0)
		return !bpf_map_lookup_elem(dp->cur->flows, k, &e);
	return xlb_flows_get(&dp->cur->table, dp->cpu, k, NULL);
}

/* Flows held on this CPU, and how many the CPU's share can hold. */
static void flow_fill(struct dp *dp, __u64 *held, __u64 *room)
{
	struct xlb_flows *t = &dp->cur->table;
	struct xlb_flow_key k, next;
	void *prev = NULL;

	*held = 0;
	if (dp->cur->flows >= 0) {
		while (!bpf_map_get_next_key(dp->cur->flows, prev, &next)) {
			k = next;
			prev = &k;
			(*held)++;
		}
		*room = XLB_MAX_FLOWS / dp->ncpus;
		return;
	}
	*room = (__u64)XLB_FLOW_WAYS4 << t->shift4;
	for (__u64 i = 0; i < (1ULL << t->shift4); i++) {
		const struct xlb_flow_bucket4 *b =
			&t->b4[((__u64)dp->cpu << t->shift4) + i];

		for (int w = 0; w < XLB_FLOW_WAYS4; w++)
			*held += !!b->way[w].e.proto;
	}
}

/*
 * Sends n SYNs of new flows (sequence numbers from 0) through the
 * balancer: each must be counted as inserted.
 */
static int insert_flows(struct dp *dp, struct bench_frame *f, __u32 n,
			const char *what)
{
	__u32 retval = XDP_ABORTED;
	__u64 before, after;
	int err;

	frame_tcp4(f, "198.18.0.0", VIP4, 0, VIP_PORT, TCPF_SYN);
	set_frame(dp, f, true);
	err = reset_seq(dp);
	err = err ?: set_target(dp, dp->cur->prog_fd);
	err = err
		      ?: read_counter(dp, dp->cur->counters,
				      XLB_CNT_FLOW_INSERT, &before);
	err = err ?: test_run(dp->harness_fd, f, n, &retval, NULL, NULL);
	err = err
		      ?: read_counter(dp, dp->cur->counters,
				      XLB_CNT_FLOW_INSERT, &after);
	if (err)
		return err;
	if (retval != XDP_TX || dp->h->bss->harness_errors ||
	    after - before != n) {
		fprintf(stderr,
			"xlb: bench: %s: warm-up inserted %llu flows of %u "
			"(verdict %s)\n",
			what, (unsigned long long)(after - before), n,
			action_name(retval));
		return -EPROTO;
	}
	return 0;
}

/*
 * SYNs of new flows into a full table: every insert evicts. The table is
 * filled first with new flows, four times the ways (or LRU share) of the
 * bench CPU: flows are per CPU (the table's part of the CPU, the LRU's
 * BPF_F_NO_COMMON_LRU list), and the benchmark runs on one CPU, so that
 * share is what fills and evicts here.
 */
static int prepare_full_table(struct dp *dp, struct bench_frame *f)
{
	__u32 n = FULL_TABLE_WARMUP(dp->ncpus);
	__u64 held, room;
	int err;

	err = insert_flows(dp, f, n, "new_flow_full_table");
	if (err)
		return err;
	flow_fill(dp, &held, &room);
	printf("  warm-up: %u new flows inserted, this CPU's share holds "
	       "%llu of %llu (%.2f%%)\n",
	       n, (unsigned long long)held, (unsigned long long)room,
	       100.0 * held / room);
	if (held < room - room / 100) {
		fprintf(stderr, "xlb: bench: new_flow_full_table: the table "
				"did not fill\n");
		return -EPROTO;
	}
	/* Sequence numbers go on from n: every flow measured is new. */
	frame_tcp4(f, "198.18.0.0", VIP4, 0, VIP_PORT, TCPF_SYN);
	return 0;
}

/*
 * The flow counted as inserted last must be in the table: the balancer
 * does not check its insert, so the counter alone cannot tell an insert
 * into a full table from a failed one.
 */
static int check_full_table(struct dp *dp)
{
	int seq_fd = bpf_map__fd(dp->h->maps.seq);
	struct xlb_flow_key k;
	__u32 zero = 0;
	__u64 *seqs;
	int err = 0;

	seqs = calloc(dp->ncpus, sizeof(*seqs));
	if (!seqs)
		return -ENOMEM;
	if (bpf_map_lookup_elem(seq_fd, &zero, seqs)) {
		err = -errno;
		goto out;
	}
	/* The floor used sequence numbers too: the last is the balancer's. */
	k = seq_key((__u32)(seqs[dp->cpu] - 1));
	if (!has_flow(dp, &k)) {
		fprintf(stderr,
			"xlb: bench: new_flow_full_table: the last new flow "
			"is not in the table\n");
		err = -EPROTO;
	}
out:
	free(seqs);
	return err;
}

/*
 * Hits spread over MANY_FLOWS active flows of this CPU in random order:
 * the production case that one hot flow (tcp_flow_hit) hides, where each
 * lookup goes to memory. The flows are inserted by their SYNs; the few a
 * set-associative bucket could not keep (more flows hashed to it than it
 * has ways) are replaced in the order by flows that are there, so every
 * packet measured is a hit.
 */
static int prepare_many(struct dp *dp, struct bench_frame *f)
{
	__u32 *order = dp->h->bss->order, *held, n_held = 0, lost;
	unsigned int seed = 14;
	int err;

	if (dp->cur->flows < 0)
		xlb_flows_clear(&dp->cur->table, 0);
	err = insert_flows(dp, f, MANY_FLOWS, "flow_hit_many");
	if (err)
		return err;
	held = calloc(MANY_FLOWS, sizeof(*held));
	if (!held)
		return -ENOMEM;
	for (__u32 v = 0; v < MANY_FLOWS; v++) {
		struct xlb_flow_key k = seq_key(v);

		if (has_flow(dp, &k))
			held[n_held++] = v;
	}
	lost = MANY_FLOWS - n_held;
	if (n_held < MANY_FLOWS / 2) {
		fprintf(stderr,
			"xlb: bench: flow_hit_many: only %u flows "
			"of %u held\n",
			n_held, MANY_FLOWS);
		free(held);
		return -EPROTO;
	}
	for (__u32 i = 0; i < MANY_FLOWS; i++)
		order[i] = i < n_held ? held[i] : held[rand_r(&seed) % n_held];
	for (__u32 i = MANY_FLOWS - 1; i > 0; i--) {
		__u32 j = rand_r(&seed) % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	free(held);
	printf("  %s: %u flows active on this CPU (%u displaced by bucket "
	       "conflicts, %.2f%%)\n",
	       dp->cur->what, n_held, lost, 100.0 * lost / MANY_FLOWS);
	frame_tcp4(f, "198.18.0.0", VIP4, 0, VIP_PORT, TCPF_ACK);
	return 0;
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

/* A map of the scenario's balancer by name (those without a struct bal fd). */
static int bal_map(struct dp *dp, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(dp->cur->obj, name);

	return m ? bpf_map__fd(m) : -1;
}

/* An established full-NAT connection: the client's next packet. */
static int prepare_nat_hit(struct dp *dp, struct bench_frame *f)
{
	frame_tcp4(f, CLIENT4, VIP_NAT, CLIENT_PORT, VIP_PORT, TCPF_SYN);
	if (balance_once(dp, f, XDP_TX))
		return -EPROTO;
	frame_tcp4(f, CLIENT4, VIP_NAT, CLIENT_PORT, VIP_PORT, TCPF_ACK);
	return 0;
}

/* The backend's reply on that connection, to the NAT address and port. */
static int prepare_nat_reply(struct dp *dp, struct bench_frame *f)
{
	struct xlb_flow_key k = {.sport = htons(CLIENT_PORT),
				 .dport = htons(VIP_PORT),
				 .proto = IPPROTO_TCP,
				 .family = XLB_AF_INET};
	char be[INET_ADDRSTRLEN], nat[INET_ADDRSTRLEN];
	struct xlb_nat_fwd e;
	int err = prepare_nat_hit(dp, f);

	if (err)
		return err;
	addr_of(AF_INET, CLIENT4, &k.src);
	addr_of(AF_INET, VIP_NAT, &k.dst);
	if (bpf_map_lookup_elem(bal_map(dp, "nat_fwd"), &k, &e)) {
		fprintf(stderr, "xlb: bench: nat_reply: no connection\n");
		return -EPROTO;
	}
	inet_ntop(AF_INET, &e.backend.v4, be, sizeof(be));
	inet_ntop(AF_INET, &e.nat_addr.v4, nat, sizeof(nat));
	frame_tcp4(f, be, nat, VIP_PORT, ntohs(e.nat_port), TCPF_ACK);
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
		/* The flow's uplink is the receiving NIC: XDP_TX. */
		.name = "tcp_flow_hit_uplinks4",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 20,
		.uplinks = 4,
		.cnt = {{XLB_CNT_TX_IPIP, 1}, {XLB_CNT_FLOW_HIT, 1}},
		.n_cnt = 2,
		.prepare = prepare_tcp_hit,
	},
	{
		.name = "nonvip_pass_trace_miss",
		.target = TARGET_BALANCE,
		.action = XDP_PASS,
		.trace = TRACE_MISS,
		.cnt = {{XLB_CNT_PASS_NON_VIP, 1}},
		.n_cnt = 1,
		.prepare = prepare_nonvip,
	},
	{
		.name = "tcp_flow_hit_trace_miss",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 20,
		.trace = TRACE_MISS,
		.cnt = {{XLB_CNT_TX_IPIP, 1}, {XLB_CNT_FLOW_HIT, 1}},
		.n_cnt = 2,
		.prepare = prepare_tcp_hit,
	},
	{
		.name = "tcp_flow_hit_trace_1in1k",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 20,
		.trace = TRACE_SAMPLED,
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
		.name = "flow_hit_many",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 20,
		.many = true,
		.cnt = {{XLB_CNT_TX_IPIP, 1}, {XLB_CNT_FLOW_HIT, 1}},
		.n_cnt = 2,
		.prepare = prepare_many,
	},
	/*
	 * The same two without the trace's code (balance_notrace.bpf.c):
	 * what tracing costs while no trace runs.
	 */
	{
		.name = "nonvip_pass_notrace",
		.target = TARGET_BALANCE,
		.action = XDP_PASS,
		.bal = BAL_NOTRACE,
		.cnt = {{XLB_CNT_PASS_NON_VIP, 1}},
		.n_cnt = 1,
		.prepare = prepare_nonvip,
	},
	{
		.name = "tcp_flow_hit_notrace",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 20,
		.bal = BAL_NOTRACE,
		.cnt = {{XLB_CNT_TX_IPIP, 1}, {XLB_CNT_FLOW_HIT, 1}},
		.n_cnt = 2,
		.prepare = prepare_tcp_hit,
	},
	/* The same on the LRU hash the table replaced (balance_lru.bpf.c). */
	{
		.name = "flow_hit_many_lru",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 20,
		.many = true,
		.bal = BAL_LRU,
		.cnt = {{XLB_CNT_TX_IPIP, 1}, {XLB_CNT_FLOW_HIT, 1}},
		.n_cnt = 2,
		.prepare = prepare_many,
	},
	{
		.name = "tcp_flow_hit_lru",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 20,
		.bal = BAL_LRU,
		.cnt = {{XLB_CNT_TX_IPIP, 1}, {XLB_CNT_FLOW_HIT, 1}},
		.n_cnt = 2,
		.prepare = prepare_tcp_hit,
	},
	{
		.name = "new_flow_full_table_lru",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.len_delta = 20,
		.new_flows = true,
		.bal = BAL_LRU,
		.cnt = {{XLB_CNT_TX_IPIP, 1}, {XLB_CNT_FLOW_INSERT, 1}},
		.n_cnt = 2,
		.prepare = prepare_full_table,
		.check = check_full_table,
	},
	{
		.name = "nat_flow_hit",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.cnt = {{XLB_CNT_TX_NAT, 1}},
		.n_cnt = 1,
		.prepare = prepare_nat_hit,
	},
	{
		.name = "nat_reply_hit",
		.target = TARGET_BALANCE,
		.action = XDP_TX,
		.to_client = true,
		.cnt = {{XLB_CNT_TX_NAT_REPLY, 1}},
		.n_cnt = 1,
		.prepare = prepare_nat_reply,
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

/* A NAT reply goes to the gateway toward CLIENT4, from VIP_NAT. */
static int check_to_client(const struct scenario *s,
			   const struct bench_frame *out)
{
	static const __u8 gw_mac[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x01};
	const struct ethhdr *eth = (const void *)out->data;
	union xlb_addr cli, vip;

	addr_of(AF_INET, CLIENT4, &cli);
	addr_of(AF_INET, VIP_NAT, &vip);
	if (out->len >= ETH_HLEN + 20 &&
	    !memcmp(eth->h_dest, gw_mac, ETH_ALEN) &&
	    eth->h_proto == htons(ETH_P_IP) &&
	    !memcmp(out->data + ETH_HLEN + 12, &vip.v4, 4) &&
	    !memcmp(out->data + ETH_HLEN + 16, &cli.v4, 4))
		return 0;
	fprintf(stderr,
		"xlb: bench: %s: output is not VIP -> client via the "
		"gateway\n",
		s->name);
	return -EPROTO;
}

/* Figures beside the scenarios: not a packet path each. */
static const char *const extra_names[] = {"bytes_per_flow",
					  "tcp_flow_hit_2cpu"};

const char *bench_datapath_name(size_t i)
{
	size_t n = sizeof(scenarios) / sizeof(scenarios[0]);

	if (i < n)
		return scenarios[i].name;
	i -= n;
	return i < sizeof(extra_names) / sizeof(extra_names[0]) ? extra_names[i]
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
	if (s->action == XDP_TX && !s->to_client && check_tx(s, &out))
		return -EPROTO;
	if (s->to_client && check_to_client(s, &out))
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

static int update(int fd, const void *k, const void *v, const char *what);

static int trace_count(void *ctx, void *data, size_t len)
{
	struct dp *dp = ctx;

	(void)data;
	(void)len;
	dp->trace_records++;
	return 0;
}

/* Empties trace_events (outside the timed runs). */
static int trace_drain(struct dp *dp)
{
	return dp->trace_rb && ring_buffer__consume(dp->trace_rb) < 0 ? -EIO
								      : 0;
}

/*
 * The scenario's trace: the switch, a filter of VIP4 (every scenario
 * traced sends to VIP4 or to NONVIP4) or of an address nothing is sent to,
 * and the ring's reader. Off: nothing to do, the maps stay as they are.
 */
static int trace_start(struct dp *dp, const struct scenario *s)
{
	struct xlb_trace_cfg c = {
		.on = 1, .match = XLB_TRACE_M_VIP, .vip_family = XLB_AF_INET};
	__u32 zero = 0;
	int err;

	if (s->trace == TRACE_OFF)
		return 0;
	addr_of(AF_INET, s->trace == TRACE_MISS ? "198.19.99.99" : VIP4,
		&c.vip);
	if (s->trace == TRACE_SAMPLED)
		c.sample = TRACE_SAMPLE;
	dp->trace_rb = ring_buffer__new(bal_map(dp, "trace_events"),
					trace_count, dp, NULL);
	if (!dp->trace_rb)
		return -errno;
	err = trace_drain(dp);
	dp->trace_records = 0;
	return err
		       ?: update(bal_map(dp, ".data.trace"), &zero, &c,
				 "trace_cfg");
}

/*
 * An uplink set of s->uplinks (bpf/uplink.h): every frame then goes
 * through xlb_egress. Uplink 1 is the receiving interface (test_run's
 * loopback) with the largest share, so a new flow with no bytes on any
 * chooses it and leaves by XDP_TX, as the scenario checks.
 */
static int uplinks_set(struct dp *dp, const struct scenario *s, bool on)
{
	struct xlb_uplink_set set = {0};
	struct xlb_uplink_load *load;
	struct xlb_config cfg;
	__u32 zero = 0;
	int err, fd = bal_map(dp, "config");

	if (!s->uplinks)
		return 0;
	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		return -errno;
	for (int i = 1; on && i <= s->uplinks && i < XLB_MAX_UPLINKS; i++) {
		set.u[i] = (struct xlb_uplink){
			.ifindex = i == 1 ? 1 : 1000 + i,
			/* uplink 1's gateway is config's, as verify() expects
			 */
			.gw_mac = {0x02, 0, 0, 0, i == 1 ? 0 : 0x10, (__u8)i},
			.src_mac = {0x02, 0, 0, 0, 0x20, (__u8)i},
			.state = XLB_UPLINK_UP,
			.share = i == 1 ? XLB_UPLINK_SHARE_MAX : 1};
	}
	xlb_uplink_fill_slots(&set);
	load = calloc(dp->ncpus, sizeof(*load));
	if (!load)
		return -ENOMEM;
	cfg.n_uplinks = on ? (__u32)s->uplinks : 0;
	err = update(bal_map(dp, "uplink_set"), &zero, &set, "uplink_set");
	err = err
		      ?: update(bal_map(dp, "uplink_load"), &zero, load,
				"uplink_load");
	err = err ?: update(fd, &zero, &cfg, "config");
	free(load);
	return err;
}

/* Off again. Did the packets give records exactly when they match? */
static int trace_stop(struct dp *dp, const struct scenario *s)
{
	struct xlb_trace_cfg off = {0};
	__u32 zero = 0;
	int err;

	if (s->trace == TRACE_OFF)
		return 0;
	err = update(bal_map(dp, ".data.trace"), &zero, &off, "trace_cfg");
	err = err ?: trace_drain(dp);
	if (!err && (s->trace == TRACE_MISS) != !dp->trace_records) {
		fprintf(stderr, "xlb: bench: %s: %llu trace records\n", s->name,
			(unsigned long long)dp->trace_records);
		err = -EPROTO;
	}
	ring_buffer__free(dp->trace_rb);
	dp->trace_rb = NULL;
	return err;
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
		err = trace_drain(dp);
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
	dp->cur = &dp->b[s->bal];
	prog_fd = s->target == TARGET_BALANCE
			  ? dp->cur->prog_fd
			  : bpf_program__fd(dp->dec->progs.xlb_decap);

	err = uplinks_set(dp, s, true);
	err = err ?: s->prepare(dp, &f);
	if (!err)
		err = trace_start(dp, s);
	if (err)
		goto fail;
	set_frame_many(dp, &f, s->new_flows, s->many);
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
	if (trace_stop(dp, s) && !err)
		err = -EIO;
	if (uplinks_set(dp, s, false) && !err)
		err = -EIO;
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

/*
 * A ring of XLB_RING_SIZE_DEFAULT slots, its half 0 (the VIPs' ring_half)
 * filled round-robin with ids first..first+n-1.
 */
static int make_ring(struct dp *dp, __u32 vip_id, __u32 first, __u32 n,
		     int *ring_fd)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = XLB_RING_MAP_FLAGS);
	const __u32 m = XLB_RING_SIZE_DEFAULT;
	int rings_fd = dp->cur->rings, fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4,
			    sizeof(struct xlb_ring_elem), XLB_RING_ENTRIES(m),
			    &mo);
	if (fd < 0) {
		fprintf(stderr, "xlb: bench: create ring: %s\n",
			strerror(errno));
		return -errno;
	}
	*ring_fd = fd;
	for (__u32 slot = 0; slot < m; slot += XLB_RING_SLOTS_PER_ELEM) {
		struct xlb_ring_elem e = {{0}};
		__u32 k = xlb_ring_elem(m, 0, slot);

		for (__u32 w = 0; w < XLB_RING_SLOTS_PER_ELEM; w++)
			e.id[w] = slot + w < m ? first + (slot + w) % n : 0;
		err = update(fd, &k, &e, "ring slot");
		if (err)
			return err;
	}
	return update(rings_fd, &vip_id, &fd, "maglev_rings");
}

/* A VIP on port 80/tcp plus its address's ICMP entry and filter bit. */
static int add_vip(struct dp *dp, int af, const char *addr, __u32 vip_id,
		   __u8 encap, struct xlb_vip_filter *filter)
{
	int fd = dp->cur->vips, err;
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
	err = update(dp->cur->vip_info, &vip_id, &info, "vip_info");
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

/*
 * VIP_NAT in full-NAT mode with pool NAT_POOL: one sub-pool of every
 * port from 1024 of NAT4, in the first slot of every CPU (the bench runs
 * on one), and NAT4 in the filter for the replies.
 */
static int configure_nat(struct dp *dp, struct xlb_vip_filter *filter)
{
	struct xlb_vip_key k = {.port = htons(VIP_PORT),
				.proto = IPPROTO_TCP,
				.family = XLB_AF_INET};
	struct xlb_nat_subpool sp = {.port_first = 1024,
				     .count = 65535 - 1024 + 1,
				     .low_at = 0xffff,
				     .family = XLB_AF_INET,
				     .pool_id = NAT_POOL};
	struct xlb_vip_info info;
	struct xlb_nat_cpu *pc;
	__u32 id = VIP_IDNAT, key = NAT_SP, bit;
	int err;

	addr_of(AF_INET, VIP_NAT, &k.addr);
	addr_of(AF_INET, NAT4, &sp.addr);
	if (bpf_map_lookup_elem(dp->cur->vip_info, &id, &info))
		return -errno;
	info.vip.mode = XLB_VIP_MODE_NAT;
	info.vip.pool_id = NAT_POOL;
	err = update(dp->cur->vips, &k, &info.vip, "vips (nat)");
	err = err ?: update(dp->cur->vip_info, &id, &info, "vip_info (nat)");
	err = err
		      ?: update(bal_map(dp, "nat_subpools"), &key, &sp,
				"nat_subpools");
	if (err)
		return err;
	pc = calloc(dp->ncpus, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	for (int c = 0; c < dp->ncpus; c++)
		pc[c].subpool[0] = NAT_SP;
	key = NAT_POOL;
	err = update(bal_map(dp, "nat_cpu"), &key, pc, "nat_cpu");
	free(pc);
	bit = xlb_filter_bit(&sp.addr);
	filter->bits[bit / 64] |= 1ULL << (bit % 64);
	return err;
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
	int err, fd, *rings;

	addr_of(AF_INET, "198.18.255.0", &a);
	cfg.src4 = a.v4;
	addr_of(AF_INET6, "2001:db8:ff::", &a);
	memcpy(cfg.src6, a.v6, sizeof(cfg.src6));
	err = update(dp->cur->config, &zero, &cfg, "config");
	if (err)
		return err;

	fd = dp->cur->backends;
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

	rings = &dp->rings[RINGS_PER_BAL * (dp->cur - dp->b)];
	err = make_ring(dp, VIP_ID4, BE4_FIRST, N_BACKENDS, &rings[0]);
	if (!err)
		err = make_ring(dp, VIP_ID6, BE6_FIRST, N_BACKENDS, &rings[1]);
	if (!err)
		err = make_ring(dp, VIP_IDGUE, BE4_FIRST, N_BACKENDS,
				&rings[2]);
	if (!err)
		err = add_vip(dp, AF_INET, VIP4, VIP_ID4, XLB_ENCAP_DEFAULT,
			      filter);
	if (!err)
		err = add_vip(dp, AF_INET6, VIP6, VIP_ID6, XLB_ENCAP_DEFAULT,
			      filter);
	if (!err)
		err = add_vip(dp, AF_INET, VIP_GUE, VIP_IDGUE, XLB_ENCAP_GUE,
			      filter);
	if (!err)
		err = make_ring(dp, VIP_IDNAT, BE4_FIRST, N_BACKENDS,
				&rings[3]);
	if (!err)
		err = add_vip(dp, AF_INET, VIP_NAT, VIP_IDNAT,
			      XLB_ENCAP_DEFAULT, filter);
	if (!err)
		err = configure_nat(dp, filter);
	if (err)
		return err;
	return update(dp->cur->filter, &zero, filter, "vip_filter");
}

static int configure_decap(struct dp *dp)
{
	struct xlb_decap_config cfg = {.gue_port = htons(6080)};
	struct xlb_decap_key k = {.family = XLB_AF_INET};
	struct xlb_decap_bucket tab[XLB_DECAP_BUCKETS];
	int fd = bpf_map__fd(dp->dec->maps.decap_addrs);
	__u32 zero = 0, active;
	int err;

	addr_of(AF_INET, DECAP_HOST, &k.addr);
	err = xlb_decap_build(tab, &k, 1, 0, &active);
	for (__u32 i = 0; i < XLB_DECAP_BUCKETS && !err; i++)
		err = update(fd, &i, &tab[i], "decap_addrs");
	err = err
		      ?: update(bpf_map__fd(dp->dec->maps.decap_active), &zero,
				&active, "decap_active");
	return err
		       ?: update(bpf_map__fd(dp->dec->maps.decap_config), &zero,
				 &cfg, "decap_config");
}

/* The fds a scenario needs, by name: both objects have the same maps. */
static int bind_bal(struct bal *b, const char *what, struct bpf_object *obj)
{
	struct bpf_program *prog =
		bpf_object__find_program_by_name(obj, "xlb_balance");
	struct bpf_map *lru = bpf_object__find_map_by_name(obj, "flows");

	b->what = what;
	b->obj = obj;
	b->prog_fd = prog ? bpf_program__fd(prog) : -1;
	b->vips = bpf_map__fd(bpf_object__find_map_by_name(obj, "vips"));
	b->vip_info =
		bpf_map__fd(bpf_object__find_map_by_name(obj, "vip_info"));
	b->rings =
		bpf_map__fd(bpf_object__find_map_by_name(obj, "maglev_rings"));
	b->backends =
		bpf_map__fd(bpf_object__find_map_by_name(obj, "backends"));
	b->config = bpf_map__fd(bpf_object__find_map_by_name(obj, "config"));
	b->filter =
		bpf_map__fd(bpf_object__find_map_by_name(obj, "vip_filter"));
	b->counters =
		bpf_map__fd(bpf_object__find_map_by_name(obj, "counters"));
	b->flows = lru ? bpf_map__fd(lru) : -1;
	/* Uplinks' tail call (xlb_egress) into its slot. */
	if (xlb_egress_bind(obj))
		return -ENOENT;
	if (lru)
		return 0;
	return xlb_flows_open(
		&b->table,
		bpf_map__fd(bpf_object__find_map_by_name(obj, "flows4")),
		bpf_map__fd(bpf_object__find_map_by_name(obj, "flows6")));
}

/* Opens, sizes for XLB_MAX_FLOWS (as xlbd by default) and loads obj. */
static int load_bal(struct dp *dp, struct bpf_object *obj, int i,
		    const char *what)
{
	int err;

	err = xlb_flows_size(obj, XLB_MAX_FLOWS);
	err = err ?: bpf_object__load(obj);
	err = err ?: bind_bal(&dp->b[i], what, obj);
	if (err) {
		fprintf(stderr, "xlb: bench: load %s: %s (-v: libbpf log)\n",
			what, strerror(-err));
		return err;
	}
	dp->cur = &dp->b[i];
	return configure_balancer(dp);
}

static int load(struct dp *dp)
{
	int err;

	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0)
		return dp->ncpus ? dp->ncpus : -EINVAL;
	dp->cpu = sched_getcpu();
	if (dp->cpu < 0 || dp->cpu >= dp->ncpus)
		return -EINVAL;
	dp->percpu = calloc(dp->ncpus, sizeof(*dp->percpu));
	if (!dp->percpu)
		return -ENOMEM;

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
	dp->dcounters_fd = bpf_map__fd(dp->dec->maps.decap_counters);

	dp->skel = xlb_balance__open();
	dp->lru_skel = bench_balance_lru__open();
	dp->notrace_skel = bench_balance_notrace__open();
	if (!dp->skel || !dp->lru_skel || !dp->notrace_skel)
		return -errno;
	err = load_bal(dp, dp->skel->obj, BAL_TABLE, "the flow table");
	err = err
		      ?: load_bal(dp, dp->lru_skel->obj, BAL_LRU,
				  "the LRU baseline");
	err = err
		      ?: load_bal(dp, dp->notrace_skel->obj, BAL_NOTRACE,
				  "the no-trace baseline");
	err = err ?: configure_decap(dp);
	dp->cur = &dp->b[BAL_TABLE];
	return err;
}

static void unload(struct dp *dp)
{
	for (int i = RINGS_PER_BAL * N_BAL - 1; i >= 0; i--)
		if (dp->rings[i] > 0)
			close(dp->rings[i]);
	for (int i = 0; i < N_BAL; i++)
		xlb_flows_close(&dp->b[i].table);
	bench_harness__destroy(dp->h);
	xlb_decap__destroy(dp->dec);
	bench_balance_lru__destroy(dp->lru_skel);
	bench_balance_notrace__destroy(dp->notrace_skel);
	xlb_balance__destroy(dp->skel);
	free(dp->percpu);
}

/* The kernel's own account of a map's memory (fdinfo "memlock"). */
static __u64 map_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void memory_row(struct bench_result *r, const char *name, __u64 bytes,
		       __u64 flows)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->scenario, sizeof(r->scenario), "%s", name);
	r->is_memory = true;
	r->bytes_per_flow = flows ? (double)bytes / flows : 0;
	r->flows_per_gib =
		r->bytes_per_flow ? 1073741824.0 / r->bytes_per_flow : 0;
}

/*
 * Bytes per flow of each table as the kernel accounts it (key, value and
 * per-element overhead: the LRU's htab_elem and buckets, the table's
 * empty ways included), over the flows it can hold.
 */
static int bench_memory(struct dp *dp, struct bench_result *res, int *n_res)
{
	struct xlb_flows *t = &dp->b[BAL_TABLE].table;
	__u64 ways4 = (__u64)dp->ncpus * XLB_FLOW_WAYS4 << t->shift4;
	__u64 ways6 = (__u64)dp->ncpus * XLB_FLOW_WAYS6 << t->shift6;

	if (*n_res + 3 > BENCH_MAX_RESULTS)
		return -E2BIG;
	memory_row(&res[(*n_res)++], "bytes_per_flow_v4",
		   map_memlock(bpf_map__fd(dp->skel->maps.flows4)), ways4);
	memory_row(&res[(*n_res)++], "bytes_per_flow_v6",
		   map_memlock(bpf_map__fd(dp->skel->maps.flows6)), ways6);
	memory_row(&res[(*n_res)++], "bytes_per_flow_lru",
		   map_memlock(dp->b[BAL_LRU].flows), XLB_MAX_FLOWS);
	return 0;
}

struct cpu_run {
	struct dp *dp;
	const struct bench_frame *f;
	pthread_barrier_t *start;
	int cpu;
	__u32 n;
	double secs;
	int err;
};

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One CPU's share of tcp_flow_hit_2cpu: pinned, warmed, then timed. */
static void *cpu_run(void *p)
{
	struct cpu_run *c = p;
	__u32 retval = 0;
	cpu_set_t set;
	double t0;

	CPU_ZERO(&set);
	CPU_SET(c->cpu, &set);
	c->err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	/* The flow is per CPU: the first packet here inserts it. */
	if (!c->err)
		c->err = test_run(c->dp->harness_fd, c->f, 10000, &retval, NULL,
				  NULL);
	pthread_barrier_wait(c->start);
	if (c->err)
		return NULL;
	t0 = wall_seconds();
	c->err = test_run(c->dp->harness_fd, c->f, c->n, &retval, NULL, NULL);
	c->secs = wall_seconds() - t0;
	if (!c->err && retval != XDP_TX)
		c->err = -EPROTO;
	return NULL;
}

/* Mpps of tcp_flow_hit on ncpu CPUs at once (the bench CPU first). */
static int run_cpus(struct dp *dp, const struct bench_frame *f, int ncpu,
		    double *mpps)
{
	struct cpu_run c[2];
	pthread_barrier_t start;
	pthread_t th[2];
	int err = 0;

	pthread_barrier_init(&start, NULL, ncpu);
	for (int i = 0; i < ncpu; i++) {
		c[i] = (struct cpu_run){.dp = dp,
					.f = f,
					.start = &start,
					.cpu = (dp->cpu + i) % dp->ncpus,
					.n = dp->o->packets};
		if (pthread_create(&th[i], NULL, cpu_run, &c[i]))
			return -EAGAIN;
	}
	*mpps = 0;
	for (int i = 0; i < ncpu; i++) {
		pthread_join(th[i], NULL);
		err = err ?: c[i].err;
		if (!c[i].err)
			*mpps += c[i].n / c[i].secs / 1e6;
	}
	pthread_barrier_destroy(&start);
	return err;
}

/*
 * tcp_flow_hit on one CPU, then on two at once, each thread pinned to its
 * CPU and timed by the wall clock: does the table scale with CPUs (per-CPU
 * buckets, no shared line written)? Verdicts are checked, counters not
 * (the second CPU inserts its copy of the flow once).
 */
static int bench_two_cpus(struct dp *dp, struct bench_result *r)
{
	double one[DEFAULT_SCALING_REPS], two[DEFAULT_SCALING_REPS];
	struct bench_frame f = {};
	int err;

	if (dp->ncpus < 2) {
		printf("  tcp_flow_hit_2cpu: one CPU only, skipped\n");
		return 1;
	}
	dp->cur = &dp->b[BAL_TABLE];
	err = prepare_tcp_hit(dp, &f);
	if (err)
		return err;
	set_frame(dp, &f, false);
	err = set_target(dp, dp->cur->prog_fd);
	for (int i = 0; !err && i < DEFAULT_SCALING_REPS; i++) {
		err = run_cpus(dp, &f, 1, &one[i]);
		err = err ?: run_cpus(dp, &f, 2, &two[i]);
	}
	if (err) {
		fprintf(stderr, "xlb: bench: tcp_flow_hit_2cpu: %s\n",
			strerror(-err));
		return err;
	}
	memset(r, 0, sizeof(*r));
	snprintf(r->scenario, sizeof(r->scenario), "tcp_flow_hit_2cpu");
	r->is_scaling = true;
	r->mpps_one = bench_median(one, DEFAULT_SCALING_REPS);
	r->mpps_two = bench_median(two, DEFAULT_SCALING_REPS);
	return 0;
}

int bench_datapath(const struct bench_opts *o, struct bench_result *res,
		   int *n_res)
{
	struct dp dp = {.o = o, .rings = {-1, -1, -1, -1, -1, -1}};
	size_t n = sizeof(scenarios) / sizeof(scenarios[0]);
	bool any = false;
	int err;

	for (size_t i = 0; bench_datapath_name(i); i++)
		any |= bench_selected(o, bench_datapath_name(i));
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
	if (!err && bench_selected(o, "bytes_per_flow"))
		err = bench_memory(&dp, res, n_res);
	if (!err && bench_selected(o, "tcp_flow_hit_2cpu")) {
		if (*n_res >= BENCH_MAX_RESULTS)
			err = -E2BIG;
		printf("  tcp_flow_hit_2cpu ...\n");
		fflush(stdout);
		err = err ?: bench_two_cpus(&dp, &res[*n_res]);
		if (!err)
			(*n_res)++;
		else if (err > 0)
			err = 0;
	}
out:
	unload(&dp);
	return err;
}
