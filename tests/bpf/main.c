// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The golden-packet runner: loads the programs once (harness.c), and for
 * every case resets all maps, lets the case write its setup, runs
 * its frames through BPF_PROG_TEST_RUN and checks action, output frame and
 * the delta of every counter. One line per case, then "N passed, N failed".
 *
 *   golden [-v] [-p FILE] [FILTER]
 *     -v       hex dumps of mismatching frames, libbpf messages
 *     -p FILE  write every step's input and output frames to a pcap file
 *     FILTER   run only the cases whose name contains it
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "golden.h"
#include "harness.h"

static struct tc the_case;
static FILE *pcap;

/* Appends one frame to the -p capture (classic pcap, Ethernet). */
static void pcap_frame(const __u8 *d, __u32 len)
{
	struct {
		__u32 sec, usec, caplen, len;
	} rec = {0, 0, len, len};

	if (!pcap)
		return;
	fwrite(&rec, sizeof(rec), 1, pcap);
	fwrite(d, 1, len, pcap);
}

static int pcap_open(const char *path)
{
	struct {
		__u32 magic;
		__u16 major, minor;
		__s32 zone;
		__u32 sigfigs, snaplen, linktype;
	} hdr = {0xa1b2c3d4, 2, 4, 0, 0, 65535, 1};

	pcap = fopen(path, "w");
	if (!pcap)
		return -errno;
	fwrite(&hdr, sizeof(hdr), 1, pcap);
	return 0;
}

/* ---- steps ---- */

static const char *action_name(__u32 a)
{
	static const char *const n[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS",
					"XDP_TX", "XDP_REDIRECT"};

	return a < 5 ? n[a] : "XDP_?";
}

static void check_output(struct tc *t, const char *what, const __u8 *got,
			 __u32 got_len, const struct frame *want)
{
	__u32 i, n = got_len < want->len ? got_len : want->len;

	for (i = 0; i < n && got[i] == want->d[i]; i++)
		;
	if (i == n && got_len == want->len)
		return;
	if (i < n)
		fail(t,
		     "%s: output byte %u is %02x, want %02x (len %u, want %u)",
		     what, i, got[i], want->d[i], got_len, want->len);
	else
		fail(t, "%s: output length %u, want %u (equal up to %u)", what,
		     got_len, want->len, n);
	if (H.verbose) {
		hexdump("want", want->d, want->len);
		hexdump("got", got, got_len);
	}
}

static void check_counter(struct tc *t, const char *what, const char *name,
			  const struct xlb_counter *d, __u64 pk, __u64 by,
			  bool bytes)
{
	if (d->packets != pk || (bytes && d->bytes != by)) {
		if (bytes)
			fail(t,
			     "%s: %s +%llu pkts +%llu bytes, want +%llu/+%llu",
			     what, name, (unsigned long long)d->packets,
			     (unsigned long long)d->bytes,
			     (unsigned long long)pk, (unsigned long long)by);
		else
			fail(t, "%s: %s +%llu, want +%llu", what, name,
			     (unsigned long long)d->packets,
			     (unsigned long long)pk);
	}
}

static void delta(struct xlb_counter *d, const struct xlb_counter *a,
		  const struct xlb_counter *b)
{
	d->packets = b->packets - a->packets;
	d->bytes = b->bytes - a->bytes;
}

static struct snap before, after;

void run_step(struct tc *t, enum prog_kind k, const struct step *s)
{
	static __u8 out[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = s->in->d,
		    .data_size_in = s->in->len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	const char *what = s->what ? s->what : "run";
	__u32 len = s->in->len, n;
	const struct frame *want = s->out;
	struct xlb_counter d;
	char name[64];
	int err;

	if (snapshot(k, &before)) {
		fail(t, "%s: reading counters: %s", what, strerror(errno));
		return;
	}
	memset(out, 0, sizeof(out));
	err = bpf_prog_test_run_opts(k == PROG_DECAP ? H.dec_prog : H.bal_prog,
				     &opts);
	if (err) {
		fail(t, "%s: BPF_PROG_TEST_RUN: %s", what, strerror(-err));
		return;
	}
	pcap_frame(s->in->d, s->in->len);
	if (opts.retval == XDP_TX || opts.retval == XDP_PASS)
		pcap_frame(out, opts.data_size_out);
	if (snapshot(k, &after)) {
		fail(t, "%s: reading counters: %s", what, strerror(errno));
		return;
	}
	if (opts.retval != s->action)
		fail(t, "%s: action %s, want %s", what,
		     action_name(opts.retval), action_name(s->action));
	else if (s->action == XDP_TX || s->action == XDP_PASS ||
		 s->action == XDP_REDIRECT) {
		if (!want && s->action == XDP_PASS)
			want = s->in;
		if (want)
			check_output(t, what, out, opts.data_size_out, want);
	}

	n = k == PROG_DECAP ? XLB_DECAP_MAX : XLB_CNT_MAX;
	for (__u32 id = 0; id < n; id++) {
		bool is_verdict = id == (__u32)s->verdict;
		bool is_event = k == PROG_BALANCE && (s->events >> id) & 1;
		bool bytes = k == PROG_DECAP || id < XLB_CNT_FIRST_EVENT;

		if ((s->ignore >> id) & 1)
			continue;
		delta(&d, &before.cnt[id], &after.cnt[id]);
		check_counter(t, what,
			      k == PROG_DECAP ? xlb_decap_counter_names[id]
					      : xlb_counter_names[id],
			      &d, is_verdict + is_event, is_verdict ? len : 0,
			      bytes);
	}
	if (k == PROG_DECAP)
		return;
	for (__u32 id = 0; id < XLB_MAX_VIPS; id++) {
		bool hit = s->vip_id >= 0 && id == (__u32)s->vip_id;

		delta(&d, &before.vip[id], &after.vip[id]);
		snprintf(name, sizeof(name), "vip_stats[%u]", id);
		check_counter(t, what, name, &d, hit, hit ? len : 0, true);
	}
	for (__u32 id = 0; id < XLB_MAX_BACKENDS; id++) {
		bool hit = s->backend && id == s->backend;

		delta(&d, &before.be[id], &after.be[id]);
		snprintf(name, sizeof(name), "backend_stats[%u]", id);
		check_counter(t, what, name, &d, hit, hit ? len : 0, true);
	}
}

/* Rule 8: the TX verdict of an encapsulation. */
static int tx_verdict(bool gue, int vip_family, int be_family)
{
	if (gue)
		return XLB_CNT_TX_GUE;
	if (vip_family == XLB_AF_INET)
		return be_family == XLB_AF_INET ? XLB_CNT_TX_IPIP
						: XLB_CNT_TX_4IN6;
	return be_family == XLB_AF_INET6 ? XLB_CNT_TX_IP6IP6 : XLB_CNT_TX_6IN4;
}

void expect_tx(struct tc *t, const char *what, const struct frame *in,
	       const struct xlb_flow_key *k, __u32 be, __u64 events)
{
	expect_sent(t, what, in, k, be, events, XDP_TX, NULL);
}

void expect_sent(struct tc *t, const char *what, const struct frame *in,
		 const struct xlb_flow_key *k, __u32 be, __u64 events,
		 __u32 action, const struct xlb_uplink *up)
{
	const struct xlb_vip *v = vip_of(t, k);
	struct frame *out = malloc(sizeof(*out));
	__u8 kind;
	bool gue;

	if (!out)
		abort();
	if (!v) {
		fail(t, "%s: test bug: no VIP for the key", what);
		free(out);
		return;
	}
	kind = v->encap != XLB_ENCAP_DEFAULT ? v->encap : t->cfg.encap;
	gue = kind == XLB_ENCAP_GUE;
	expect_encap(out, in, &t->cfg, &t->be[be], gue, rss_of(k));
	if (up) {
		memcpy(out->d, up->gw_mac, 6);
		memcpy(out->d + 6, up->src_mac, 6);
	}
	run_step(
		t, PROG_BALANCE,
		&(struct step){
			.what = what,
			.in = in,
			.action = action,
			.out = out,
			.verdict = tx_verdict(gue, k->family, t->be[be].family),
			.events = events,
			.vip_id = (int)v->vip_id,
			.backend = be,
		});
	free(out);
}

__u32 tx_ring_frame(struct tc *t, const char *what, const struct frame *f,
		    const struct xlb_flow_key *k, __u64 events)
{
	const struct xlb_vip *v = vip_of(t, k);
	bool repick;
	__u32 be;

	if (!v) {
		fail(t, "%s: test bug: no VIP", what);
		return 0;
	}
	be = ring_pick(t, v, k, &repick);
	if (!be) {
		fail(t, "%s: test bug: ring gives no backend", what);
		return 0;
	}
	expect_tx(t, what, f, k, be,
		  events | (repick ? EV(FAILOVER_REPICK) : 0));
	return be;
}

__u32 tx_ring(struct tc *t, const char *what, const struct pkt *p, __u64 events)
{
	struct xlb_flow_key k = pkt_key(p);
	struct frame *f = malloc(sizeof(*f));
	__u32 be;

	if (!f)
		abort();
	build(f, p);
	be = tx_ring_frame(t, what, f, &k, events);
	free(f);
	return be;
}

void expect_echo_tx(struct tc *t, const char *what, const struct frame *in)
{
	struct frame *out = malloc(sizeof(*out));

	if (!out)
		abort();
	expect_echo(out, in, &t->cfg);
	run_step(t, PROG_BALANCE,
		 &(struct step){.what = what,
				.in = in,
				.action = XDP_TX,
				.out = out,
				.verdict = XLB_CNT_TX_ICMP_ECHO,
				.vip_id = -1});
	free(out);
}

void expect_pass(struct tc *t, const char *what, const struct frame *in,
		 int verdict)
{
	run_step(t, PROG_BALANCE,
		 &(struct step){.what = what,
				.in = in,
				.action = XDP_PASS,
				.verdict = verdict,
				.vip_id = -1});
}

void expect_drop(struct tc *t, const char *what, const struct frame *in,
		 int verdict, __u64 events)
{
	run_step(t, PROG_BALANCE,
		 &(struct step){.what = what,
				.in = in,
				.action = XDP_DROP,
				.verdict = verdict,
				.events = events,
				.vip_id = -1});
}

void expect_flow(struct tc *t, const struct xlb_flow_key *k, __u32 backend)
{
	struct xlb_flow v;

	if (!get_flow(t, k, &v))
		fail(t, "flow entry missing, want backend %u", backend);
	else if (v.backend_id != backend)
		fail(t, "flow entry backend %u, want %u", v.backend_id,
		     backend);
	else if (vip_of(t, k) && v.vip_id != vip_of(t, k)->vip_id)
		fail(t, "flow entry vip_id %u, want %u", v.vip_id,
		     vip_of(t, k)->vip_id);
}

void expect_no_flow(struct tc *t, const struct xlb_flow_key *k)
{
	struct xlb_flow v;

	if (get_flow(t, k, &v))
		fail(t, "flow entry present (backend %u), want none",
		     v.backend_id);
}

int flow_count(struct tc *t)
{
	(void)t;
	return (int)xlb_flows_count(&H.flows);
}

/* Entry id of a per-CPU __u64 array on the run's CPU; ~0 when unread. */
static __u64 flows_here(int fd, __u32 id)
{
	__u64 *v = calloc(H.ncpus, sizeof(*v)), n = ~0ULL;

	if (v && !bpf_map_lookup_elem(fd, &id, v))
		n = v[H.cpu];
	free(v);
	return n;
}

void expect_new_flows(struct tc *t, const char *what, __u32 vip_id,
		      __u32 backend, __u64 want)
{
	__u64 v = flows_here(H.vip_flows, vip_id);
	__u64 b = flows_here(H.backend_flows, backend);

	if (v != want)
		fail(t, "%s: vip_flows[%u] %llu, want %llu", what, vip_id,
		     (unsigned long long)v, (unsigned long long)want);
	if (b != want)
		fail(t, "%s: backend_flows[%u] %llu, want %llu", what, backend,
		     (unsigned long long)b, (unsigned long long)want);
}

/* The health-check tunnel's cases (TC egress), in cases_hc.c. */
extern const struct golden_case cases_hc[];

static const struct golden_case *const tables[] = {
	cases_hash,  cases_encap, cases_flow,  cases_ring,
	cases_parse, cases_icmp,  cases_decap, cases_hc,
	cases_rules, cases_nat,	  cases_trace, cases_uplink,
};

int main(int argc, char **argv)
{
	const char *filter = NULL;
	int passed = 0, failed = 0, err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v")) {
			H.verbose = true;
		} else if (!strcmp(argv[i], "-p") && i + 1 < argc) {
			if (pcap_open(argv[++i])) {
				fprintf(stderr, "golden: %s: %s\n", argv[i],
					strerror(errno));
				return 1;
			}
		} else if (!strcmp(argv[i], "-h") || argv[i][0] == '-') {
			fprintf(stderr,
				"usage: golden [-v] [-p FILE] [FILTER]\n");
			return 2;
		} else {
			filter = argv[i];
		}
	}
	libbpf_set_print(harness_print);
	err = harness_init();
	if (err) {
		fprintf(stderr, "golden: possible CPUs: %s\n", strerror(-err));
		return 1;
	}
	err = harness_load(NULL);
	if (err) {
		fprintf(stderr, "golden: loading the programs: %s\n",
			strerror(-err));
		printf("0 passed, 1 failed\n");
		return 1;
	}

	for (size_t ti = 0; ti < sizeof(tables) / sizeof(tables[0]); ti++) {
		for (const struct golden_case *c = tables[ti]; c->name; c++) {
			struct tc *t = &the_case;

			if (filter && !strstr(c->name, filter))
				continue;
			for (int r = 0; r < XLB_MAX_VIPS; r++)
				free(t->ring[r].slot);
			memset(t, 0, sizeof(*t));
			t->name = c->name;
			err = c->prog == PROG_DECAP ? reset_decap()
						    : reset_balance();
			if (err)
				fail(t, "resetting maps: %s", strerror(-err));
			else
				c->fn(t);
			if (t->failed) {
				printf("FAIL %s: %s\n", c->name, t->why);
				failed++;
			} else {
				printf("PASS %s\n", c->name);
				passed++;
			}
			fflush(stdout);
		}
	}
	harness_unload();
	if (pcap)
		fclose(pcap);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
