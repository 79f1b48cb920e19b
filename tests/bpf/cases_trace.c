// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Golden cases of packet capture (bpf/trace.h, `xlb trace`): with the
 * switch off nothing reaches the ring; on, one record per packet holding
 * the frame as it arrived, byte for byte, its action and verdict counter,
 * and for XDP_TX the leaving frame's first bytes; the filters by VIP
 * (address, port, protocol), by backend and by verdict keep only what
 * they name; 1-in-N sampling keeps the 1st, N+1st, ... matching packet.
 * The packets themselves must be handled as without a trace: every step
 * checks its output and counters as the other cases do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlb/trace.h>
#include "golden.h"
#include "harness.h"

#define MAX_RECS 32

struct recs {
	int n;
	struct xlb_trace_event ev[MAX_RECS];
};

static int on_rec(void *ctx, void *data, size_t len)
{
	struct recs *r = ctx;

	if (len == sizeof(struct xlb_trace_event) && r->n < MAX_RECS)
		memcpy(&r->ev[r->n], data, len);
	r->n++;
	return 0;
}

/* Empties the trace_events ring into r. */
static void read_recs(struct tc *t, struct recs *r)
{
	struct ring_buffer *rb =
		ring_buffer__new(H.trace_events, on_rec, r, NULL);

	memset(r, 0, sizeof(*r));
	if (!rb) {
		fail(t, "ring_buffer__new: %s", strerror(errno));
		return;
	}
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
}

static void set_trace(struct tc *t, const struct xlb_trace_cfg *c)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(H.trace_cfg, &zero, c, BPF_ANY))
		fail(t, "setup: trace_cfg: %s", strerror(errno));
}

/* Tracing on with the filters of c (c may be NULL: everything). */
static void trace_on(struct tc *t, struct xlb_trace_cfg *c)
{
	struct xlb_trace_cfg all = {0};

	if (!c)
		c = &all;
	c->on = 1;
	set_trace(t, c);
}

static void want_n(struct tc *t, const char *what, const struct recs *r, int n)
{
	if (r->n != n)
		fail(t, "%s: %d records, want %d", what, r->n, n);
}

/* A record of in, arrived whole (up to the snap length), with that fate. */
static void want_rec(struct tc *t, const char *what,
		     const struct xlb_trace_event *e, const struct frame *in,
		     __u32 action, __u32 reason)
{
	__u32 snap = in->len < XLB_TRACE_SNAP ? in->len : XLB_TRACE_SNAP;

	if (e->action != action || e->reason != reason)
		fail(t, "%s: action %u reason %s, want %u %s", what, e->action,
		     e->reason < XLB_CNT_MAX ? xlb_counter_names[e->reason]
					     : "?",
		     action, xlb_counter_names[reason]);
	if (e->frame_len != in->len || e->snap_len != snap ||
	    memcmp(e->data, in->d, snap))
		fail(t, "%s: frame_len %u snap %u, or bytes differ (want %u)",
		     what, e->frame_len, e->snap_len, in->len);
	if (!e->ts_ns)
		fail(t, "%s: no timestamp", what);
}

/* The same for XDP_TX to backend be: the leaving frame's first bytes too. */
static void want_tx_rec(struct tc *t, const char *what,
			const struct xlb_trace_event *e, const struct frame *in,
			const struct xlb_flow_key *k, __u32 be)
{
	struct frame *out = malloc(sizeof(*out));
	__u32 snap;

	if (!out)
		abort();
	expect_encap(out, in, &t->cfg, &t->be[be], false, rss_of(k));
	want_rec(t, what, e, in, XDP_TX, XLB_CNT_TX_IPIP);
	snap = out->len < XLB_TRACE_OUT_SNAP ? out->len : XLB_TRACE_OUT_SNAP;
	if (e->out_len != out->len || e->out_snap != snap ||
	    memcmp(e->out, out->d, snap))
		fail(t, "%s: out_len %u out_snap %u, or bytes differ (want %u)",
		     what, e->out_len, e->out_snap, out->len);
	free(out);
}

/* A SYN from CLI4:sport to dst:dport, built into f, and its key. */
static struct xlb_flow_key syn(struct frame *f, const char *dst, __u16 sport,
			       __u16 dport)
{
	struct pkt p = {.src = CLI4,
			.dst = dst,
			.sport = sport,
			.dport = dport,
			.flags = F_SYN};

	build(f, &p);
	return pkt_key(&p);
}

/* VIP4:80/TCP and VIP4B:80/TCP, rings of distinct IPv4 backends. */
static void two_vips(struct tc *t)
{
	struct xlb_config c = base_config();

	set_config(t, &c);
	std_vip(t, VIP4, 80, TCP, 1, 0, 13, false);
	std_vip(t, VIP4B, 80, TCP, 2, 0, 13, false);
}

/* Off (the default): packets go as ever, and the ring stays empty. */
static void off_no_record(struct tc *t)
{
	struct frame *f = malloc(sizeof(*f));
	struct xlb_flow_key k;
	struct recs r;

	if (!f)
		abort();
	two_vips(t);
	k = syn(f, VIP4, 0, 0);
	tx_ring_frame(t, "to the VIP", f, &k, EV(FLOW_INSERT));
	build(f, &(struct pkt){.src = CLI4, .dst = "198.18.99.9"});
	expect_pass(t, "not a VIP", f, XLB_CNT_PASS_NON_VIP);
	read_recs(t, &r);
	want_n(t, "off", &r, 0);
	free(f);
}

/*
 * On without filters: one record per packet, in order, for TX, PASS and
 * DROP alike, each with the frame as it arrived (a long one cut at the
 * snap length) and what was done.
 */
static void on_every_verdict(struct tc *t)
{
	struct frame *f = malloc(3 * sizeof(*f));
	struct xlb_flow_key k;
	struct recs r;
	__u32 be;

	if (!f)
		abort();
	two_vips(t);
	trace_on(t, NULL);
	k = syn(&f[0], VIP4, 0, 0);
	be = tx_ring_frame(t, "to the VIP", &f[0], &k, EV(FLOW_INSERT));
	build(&f[1],
	      &(struct pkt){.src = CLI4, .dst = "198.18.99.9", .payload = 400});
	expect_pass(t, "not a VIP", &f[1], XLB_CNT_PASS_NON_VIP);
	build(&f[2],
	      &(struct pkt){.src = CLI4, .dst = VIP4, .frag_off = 0x2000});
	expect_drop(t, "fragment", &f[2], XLB_CNT_DROP_FRAGMENT, 0);
	read_recs(t, &r);
	want_n(t, "on", &r, 3);
	if (r.n == 3) {
		want_tx_rec(t, "tx", &r.ev[0], &f[0], &k, be);
		want_rec(t, "pass", &r.ev[1], &f[1], XDP_PASS,
			 XLB_CNT_PASS_NON_VIP);
		want_rec(t, "drop", &r.ev[2], &f[2], XDP_DROP,
			 XLB_CNT_DROP_FRAGMENT);
		if (r.ev[1].out_len || r.ev[1].out_snap)
			fail(t, "pass: out_len %u, want 0", r.ev[1].out_len);
	}
	free(f);
}

/* By VIP address: the other VIP's and non-VIP packets are not kept. */
static void filter_vip(struct tc *t)
{
	struct xlb_trace_cfg c = {.match = XLB_TRACE_M_VIP,
				  .vip_family = XLB_AF_INET};
	struct frame *f = malloc(2 * sizeof(*f));
	struct xlb_flow_key k;
	struct recs r;
	__u32 be;

	if (!f)
		abort();
	two_vips(t);
	c.vip = A(VIP4B);
	trace_on(t, &c);
	k = syn(&f[0], VIP4, 0, 0);
	tx_ring_frame(t, "other VIP", &f[0], &k, EV(FLOW_INSERT));
	k = syn(&f[1], VIP4B, 0, 0);
	be = tx_ring_frame(t, "the VIP", &f[1], &k, EV(FLOW_INSERT));
	build(&f[0], &(struct pkt){.src = CLI4, .dst = "198.18.99.9"});
	expect_pass(t, "not a VIP", &f[0], XLB_CNT_PASS_NON_VIP);
	read_recs(t, &r);
	want_n(t, "VIP4B", &r, 1);
	if (r.n == 1)
		want_tx_rec(t, "VIP4B", &r.ev[0], &f[1], &k, be);
	free(f);
}

/* Port and protocol narrow the VIP: 443 and UDP miss a TCP/80 packet. */
static void filter_vip_port_proto(struct tc *t)
{
	struct xlb_trace_cfg c = {.match = XLB_TRACE_M_VIP | XLB_TRACE_M_PORT |
					   XLB_TRACE_M_PROTO,
				  .vip_family = XLB_AF_INET,
				  .vip_port = htons(443),
				  .vip_proto = TCP};
	struct frame *f = malloc(sizeof(*f));
	struct xlb_flow_key k;
	struct recs r;

	if (!f)
		abort();
	two_vips(t);
	c.vip = A(VIP4);
	trace_on(t, &c);
	k = syn(f, VIP4, 0, 0);
	tx_ring_frame(t, "port 80", f, &k, EV(FLOW_INSERT));
	read_recs(t, &r);
	want_n(t, "port 443", &r, 0);
	c.vip_port = htons(80);
	c.vip_proto = UDP;
	set_trace(t, &c);
	tx_ring_frame(t, "tcp", f, &k, EV(FLOW_INSERT));
	read_recs(t, &r);
	want_n(t, "udp", &r, 0);
	c.vip_proto = TCP;
	set_trace(t, &c);
	tx_ring_frame(t, "tcp/80", f, &k, EV(FLOW_INSERT));
	read_recs(t, &r);
	want_n(t, "tcp/80", &r, 1);
	free(f);
}

/* An IPv6 VIP behind a VLAN tag: the filter reads past the tag. */
static void filter_vip6_vlan(struct tc *t)
{
	struct xlb_trace_cfg c = {.match = XLB_TRACE_M_VIP | XLB_TRACE_M_PORT,
				  .vip_family = XLB_AF_INET6,
				  .vip_port = htons(80)};
	struct pkt p = {.src = CLI6, .dst = VIP6, .flags = F_SYN, .vlan = true};
	struct frame *f = malloc(sizeof(*f));
	struct xlb_flow_key k = pkt_key(&p);
	struct xlb_config cfg;
	struct recs r;

	if (!f)
		abort();
	cfg = base_config();
	set_config(t, &cfg);
	std_vip(t, VIP6, 80, TCP, 1, 0, 13, true);
	c.vip = A(VIP6);
	trace_on(t, &c);
	build(f, &p);
	tx_ring_frame(t, "v6 vlan", f, &k, EV(FLOW_INSERT));
	read_recs(t, &r);
	want_n(t, "v6 vlan", &r, 1);
	if (r.n == 1 && memcmp(r.ev[0].data, f->d, r.ev[0].snap_len))
		fail(t, "v6 vlan: bytes differ");
	free(f);
}

/* By backend: the outer destination as the frame left. */
static void filter_backend(struct tc *t)
{
	struct xlb_trace_cfg c = {.match = XLB_TRACE_M_BACKEND,
				  .backend_family = XLB_AF_INET};
	struct frame *f = malloc(2 * sizeof(*f));
	struct xlb_flow_key k[2];
	struct recs r;
	__u32 be[2] = {0, 0};
	__u16 sport = 40000;

	if (!f)
		abort();
	two_vips(t);
	/* Two flows that the ring sends to two backends. */
	k[0] = syn(&f[0], VIP4, sport, 80);
	be[0] = ring_pick(t, vip1(t, &k[0]), &k[0], &(bool){0});
	do {
		k[1] = syn(&f[1], VIP4, ++sport, 80);
		be[1] = ring_pick(t, vip1(t, &k[1]), &k[1], &(bool){0});
	} while (be[1] == be[0] && sport < 41000);
	c.backend = t->be[be[1]].addr;
	trace_on(t, &c);
	tx_ring_frame(t, "other backend", &f[0], &k[0], EV(FLOW_INSERT));
	tx_ring_frame(t, "the backend", &f[1], &k[1], EV(FLOW_INSERT));
	build(&f[0], &(struct pkt){.src = CLI4, .dst = "198.18.99.9"});
	expect_pass(t, "not a VIP", &f[0], XLB_CNT_PASS_NON_VIP);
	read_recs(t, &r);
	want_n(t, "backend", &r, 1);
	if (r.n == 1)
		want_tx_rec(t, "backend", &r.ev[0], &f[1], &k[1], be[1]);
	free(f);
}

/* By verdict: only the drops counted under that name. */
static void filter_reason(struct tc *t)
{
	struct xlb_trace_cfg c = {.match = XLB_TRACE_M_REASON,
				  .reason = XLB_CNT_DROP_FRAGMENT};
	struct frame *f = malloc(2 * sizeof(*f));
	struct xlb_flow_key k;
	struct recs r;

	if (!f)
		abort();
	two_vips(t);
	trace_on(t, &c);
	k = syn(&f[0], VIP4, 0, 0);
	tx_ring_frame(t, "tx", &f[0], &k, EV(FLOW_INSERT));
	build(&f[1],
	      &(struct pkt){.src = CLI4, .dst = VIP4, .frag_off = 0x2000});
	expect_drop(t, "fragment", &f[1], XLB_CNT_DROP_FRAGMENT, 0);
	build(&f[0], &(struct pkt){.src = CLI4, .dst = VIP4, .opt_words = 1});
	expect_drop(t, "options", &f[0], XLB_CNT_DROP_IP_OPTIONS, 0);
	read_recs(t, &r);
	want_n(t, "drop_fragment", &r, 1);
	if (r.n == 1)
		want_rec(t, "drop_fragment", &r.ev[0], &f[1], XDP_DROP,
			 XLB_CNT_DROP_FRAGMENT);
	free(f);
}

/* 1 in 3 of the matching packets: the 1st, 4th and 7th of 8. */
static void sample_one_in_n(struct tc *t)
{
	struct xlb_trace_cfg c = {.match = XLB_TRACE_M_VIP,
				  .vip_family = XLB_AF_INET,
				  .sample = 3};
	struct frame *f = malloc(sizeof(*f));
	struct xlb_flow_key k;
	struct recs r;

	if (!f)
		abort();
	two_vips(t);
	c.vip = A(VIP4);
	trace_on(t, &c);
	for (int i = 0; i < 8; i++) {
		/* Packets of the other VIP between them do not count. */
		k = syn(f, VIP4B, 0, 0);
		tx_ring_frame(t, "other", f, &k, EV(FLOW_INSERT));
		k = syn(f, VIP4, 1000 + i, 80);
		tx_ring_frame(t, "sampled", f, &k, EV(FLOW_INSERT));
	}
	read_recs(t, &r);
	want_n(t, "1 in 3 of 8", &r, 3);
	for (int i = 0; i < r.n && i < 3; i++) {
		__u8 *tcp = r.ev[i].data + 14 + 20;
		__u16 sport = tcp[0] << 8 | tcp[1];

		if (sport != 1000 + 3 * i)
			fail(t, "record %d: source port %u, want %u", i, sport,
			     1000 + 3 * i);
	}
	free(f);
}

const struct golden_case cases_trace[] = {
	{"trace_off", "switch off: no record", PROG_BALANCE, off_no_record},
	{"trace_on_every_verdict", "one record per packet, TX/PASS/DROP",
	 PROG_BALANCE, on_every_verdict},
	{"trace_filter_vip", "only the VIP's packets", PROG_BALANCE,
	 filter_vip},
	{"trace_filter_vip_port_proto", "port and protocol narrow the VIP",
	 PROG_BALANCE, filter_vip_port_proto},
	{"trace_filter_vip6_vlan", "IPv6 VIP behind a VLAN tag", PROG_BALANCE,
	 filter_vip6_vlan},
	{"trace_filter_backend", "only packets sent to the backend",
	 PROG_BALANCE, filter_backend},
	{"trace_filter_reason", "only that verdict", PROG_BALANCE,
	 filter_reason},
	{"trace_sample", "1 in N of the matching packets", PROG_BALANCE,
	 sample_one_in_n},
	{NULL, NULL, 0, NULL},
};
