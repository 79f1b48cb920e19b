// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Golden cases of the health-check tunnel (xlb_hc_encap, TC egress): a
 * frame the balancer host sends with SO_MARK = XLB_HC_MARK(id, gue) leaves
 * encapsulated toward backend id, byte for byte as restated here; frames
 * without our mark pass untouched and uncounted; a marked frame that
 * cannot be encapsulated is dropped, never sent bare, and counted.
 *
 * Each step runs one frame through BPF_PROG_TEST_RUN with the mark in the
 * __sk_buff context, and checks the return code, the output frame and the
 * delta of every hc_counters entry (packets, and bytes = input length).
 * The program reads the balancer's backends and config, which the shared
 * setup helpers write.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "golden.h"
#include "harness.h"

/* The balancer's own addresses: the checker's socket sends from them. */
#define LB4    "198.18.20.2"
#define LB6    "2001:db8:20::2"
#define BE4_ID 7
#define BE6_ID 8
#define NO_ID  9 /* never set: state unused */

/* The next hop the kernel resolved for the VIP (config.gw_mac wins). */
static const __u8 MAC_NH[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};

struct hc_step {
	const char *what;
	const struct frame *in;
	__u32 mark;
	int action;		 /* TC_ACT_* */
	const struct frame *out; /* NULL: the input (when not dropped) */
	int verdict;		 /* enum xlb_hc_counter_id, -1 = none */
};

static const char *act_name(int a)
{
	switch (a) {
	case TC_ACT_UNSPEC:
		return "TC_ACT_UNSPEC";
	case TC_ACT_OK:
		return "TC_ACT_OK";
	case TC_ACT_SHOT:
		return "TC_ACT_SHOT";
	default:
		return "TC_ACT_?";
	}
}

static void hc_run(struct tc *t, const struct hc_step *s)
{
	static __u8 out[FRAME_MAX];
	struct __sk_buff ctx = {.mark = s->mark}, ctx_out;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = s->in->d,
		    .data_size_in = s->in->len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out), .repeat = 1);
	struct xlb_counter before[XLB_HC_MAX], after[XLB_HC_MAX];
	const struct frame *want = s->out ? s->out : s->in;
	__u32 n, i;
	int err;

	if (percpu_sum(H.hc_counters, XLB_HC_MAX, before)) {
		fail(t, "%s: reading hc_counters", s->what);
		return;
	}
	memset(out, 0, sizeof(out));
	err = bpf_prog_test_run_opts(H.hc_prog, &opts);
	if (err) {
		fail(t, "%s: BPF_PROG_TEST_RUN: %s", s->what, strerror(-err));
		return;
	}
	if (percpu_sum(H.hc_counters, XLB_HC_MAX, after)) {
		fail(t, "%s: reading hc_counters", s->what);
		return;
	}
	if ((int)opts.retval != s->action) {
		fail(t, "%s: returned %s (%d), want %s", s->what,
		     act_name((int)opts.retval), (int)opts.retval,
		     act_name(s->action));
	} else if (s->action != TC_ACT_SHOT) {
		n = opts.data_size_out < want->len ? opts.data_size_out
						   : want->len;
		for (i = 0; i < n && out[i] == want->d[i]; i++)
			;
		if (i < n || opts.data_size_out != want->len) {
			fail(t,
			     "%s: output differs at byte %u (len %u, want "
			     "%u)",
			     s->what, i, opts.data_size_out, want->len);
			if (H.verbose) {
				hexdump("want", want->d, want->len);
				hexdump("got", out, opts.data_size_out);
			}
		}
	}
	if (ctx_out.mark != s->mark)
		fail(t, "%s: mark %#x after the run, want %#x", s->what,
		     ctx_out.mark, s->mark);
	for (__u32 id = 0; id < XLB_HC_MAX; id++) {
		__u64 pk = after[id].packets - before[id].packets;
		__u64 by = after[id].bytes - before[id].bytes;
		bool hit = s->verdict >= 0 && id == (__u32)s->verdict;

		if (pk != hit || by != (hit ? s->in->len : 0))
			fail(t, "%s: %s +%llu pkts +%llu bytes, want +%u/+%u",
			     s->what, xlb_hc_counter_names[id],
			     (unsigned long long)pk, (unsigned long long)by,
			     hit, hit ? s->in->len : 0);
	}
}

/* A frame as the host's stack hands it to the NIC: MACs ours -> hop. */
static void egress(struct frame *f, const struct pkt *p)
{
	build(f, p);
	memcpy(f->d, MAC_NH, 6);
	memcpy(f->d + 6, MAC_SELF, 6);
}

static void setup(struct tc *t)
{
	struct xlb_config c = base_config();

	set_config(t, &c);
	set_backend(t, BE4_ID, BE4, XLB_BACKEND_UP);
	set_backend(t, BE6_ID, BE6, XLB_BACKEND_UP);
}

/*
 * What the program must send for `in` (built from p) to backend id: the
 * outer family the backend's; the source the inner one when the families
 * match, else the balancer's prefix with host bits from the flow hash;
 * TTL config.ttl, TOS copied, DF, flow label and GUE source port from the
 * hash of the inner 5-tuple, GUE to config.gue_port with checksum 0; the
 * L2 header ours -> config.gw_mac (or the kernel's hop when unset).
 */
static void expect_hc(struct tc *t, struct frame *out, const struct frame *in,
		      const struct pkt *p, __u32 id, bool gue)
{
	const struct xlb_backend *be = &t->be[id];
	struct xlb_flow_key k = pkt_key(p);
	__u32 rss = rss_of(&k);
	bool gw = memcmp(t->cfg.gw_mac, "\0\0\0\0\0\0", 6);
	struct outer o = {
		.v6 = be->family == XLB_AF_INET6,
		.dst = be->addr,
		.ttl = t->cfg.ttl,
		.tos = frame_tos(in),
		.flow_label = rss & 0xfffff,
		.gue = gue,
		.gue_sport = htons(0xc000 | (rss & 0x3fff)),
		.gue_dport = t->cfg.gue_port,
		.mac_dst = gw ? t->cfg.gw_mac : MAC_NH,
		.mac_src = MAC_SELF,
	};

	if (o.v6 != (k.family == XLB_AF_INET6)) {
		if (o.v6) {
			o.src = outer_src6(&t->cfg, rss);
		} else {
			memset(&o.src, 0, sizeof(o.src));
			o.src.v4 = outer_src4(&t->cfg, rss);
		}
	} else {
		o.src = k.src;
	}
	wrap(out, in, &o);
}

static int tx_counter(bool gue, bool inner6, bool outer6)
{
	if (gue)
		return XLB_HC_GUE;
	if (outer6)
		return inner6 ? XLB_HC_IP6IP6 : XLB_HC_4IN6;
	return inner6 ? XLB_HC_6IN4 : XLB_HC_IPIP;
}

/* One check packet p to backend id, which must leave encapsulated. */
static void hc_tx(struct tc *t, const char *what, const struct pkt *p, __u32 id,
		  bool gue)
{
	struct frame in, out;
	bool inner6 = strchr(p->src, ':') != NULL;

	egress(&in, p);
	expect_hc(t, &out, &in, p, id, gue);
	hc_run(t,
	       &(struct hc_step){
		       .what = what,
		       .in = &in,
		       .mark = XLB_HC_MARK(id, gue),
		       .action = TC_ACT_OK,
		       .out = &out,
		       .verdict = tx_counter(gue, inner6,
					     t->be[id].family == XLB_AF_INET6),
	       });
}

static const struct pkt SYN4 = {
	.src = LB4, .dst = VIP4, .sport = 41000, .flags = F_SYN, .tos = 0x28};
static const struct pkt SYN6 = {
	.src = LB6, .dst = VIP6, .sport = 41000, .flags = F_SYN, .tos = 0x28};

/* ---- cases ---- */

static void unmarked(struct tc *t)
{
	struct frame in;

	setup(t);
	egress(&in, &SYN4);
	hc_run(t, &(struct hc_step){.what = "no mark",
				    .in = &in,
				    .action = TC_ACT_UNSPEC,
				    .verdict = -1});
	egress(&in, &SYN6);
	hc_run(t, &(struct hc_step){.what = "no mark v6",
				    .in = &in,
				    .action = TC_ACT_UNSPEC,
				    .verdict = -1});
}

static void foreign_mark(struct tc *t)
{
	/* Id and GUE bits that would name a backend, other top bits. */
	static const __u32 marks[] = {
		BE4_ID,
		XLB_HC_MARK_GUE | BE4_ID,
		0x584d0000U | BE4_ID,
		0x584b0000U | BE4_ID,
		0xd84c0000U | BE4_ID,
		0x584c0000U << 1 | BE4_ID,
		0xffff8000U | BE4_ID,
	};
	struct frame in;

	setup(t);
	egress(&in, &SYN4);
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		hc_run(t, &(struct hc_step){.what = "foreign mark",
					    .in = &in,
					    .mark = marks[i],
					    .action = TC_ACT_UNSPEC,
					    .verdict = -1});
}

static void ipip(struct tc *t)
{
	setup(t);
	hc_tx(t, "syn", &SYN4, BE4_ID, false);
	hc_tx(t, "request",
	      &(struct pkt){.src = LB4,
			    .dst = VIP4,
			    .sport = 41000,
			    .flags = F_PSH | F_ACK,
			    .payload = 77},
	      BE4_ID, false);
}

static void ip6ip6(struct tc *t)
{
	setup(t);
	hc_tx(t, "syn", &SYN6, BE6_ID, false);
	hc_tx(t, "request",
	      &(struct pkt){.src = LB6,
			    .dst = VIP6,
			    .sport = 41000,
			    .flags = F_PSH | F_ACK,
			    .payload = 77},
	      BE6_ID, false);
}

static void in4in6(struct tc *t)
{
	setup(t);
	hc_tx(t, "syn", &SYN4, BE6_ID, false);
}

static void in6in4(struct tc *t)
{
	setup(t);
	hc_tx(t, "syn", &SYN6, BE4_ID, false);
}

static void gue4(struct tc *t)
{
	setup(t);
	hc_tx(t, "syn", &SYN4, BE4_ID, true);
	hc_tx(t, "udp",
	      &(struct pkt){.src = LB4,
			    .dst = VIP4,
			    .proto = UDP,
			    .sport = 50123,
			    .dport = 5353,
			    .payload = 12},
	      BE4_ID, true);
}

static void gue6(struct tc *t)
{
	setup(t);
	hc_tx(t, "syn", &SYN6, BE6_ID, true);
	hc_tx(t, "udp",
	      &(struct pkt){.src = LB6,
			    .dst = VIP6,
			    .proto = UDP,
			    .sport = 50123,
			    .dport = 5353,
			    .payload = 12},
	      BE6_ID, true);
}

static void gue_cross(struct tc *t)
{
	setup(t);
	hc_tx(t, "4 in gue6", &SYN4, BE6_ID, true);
	hc_tx(t, "6 in gue4", &SYN6, BE4_ID, true);
}

/* Checks must reach a backend that is down: that is how it comes back. */
static void down_and_drain(struct tc *t)
{
	setup(t);
	set_backend_state(t, BE4_ID, XLB_BACKEND_DOWN);
	hc_tx(t, "down", &SYN4, BE4_ID, false);
	set_backend_state(t, BE4_ID, XLB_BACKEND_DRAIN);
	hc_tx(t, "drain", &SYN4, BE4_ID, true);
}

static void unknown_backend(struct tc *t)
{
	static const __u32 ids[] = {NO_ID, XLB_BACKEND_NONE,
				    XLB_MAX_BACKENDS - 1, XLB_HC_MARK_ID};
	struct frame in;

	setup(t);
	egress(&in, &SYN4);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		hc_run(t, &(struct hc_step){.what = "ipip",
					    .in = &in,
					    .mark = XLB_HC_MARK(ids[i], false),
					    .action = TC_ACT_SHOT,
					    .verdict = XLB_HC_DROP_NO_BACKEND});
		hc_run(t, &(struct hc_step){.what = "gue",
					    .in = &in,
					    .mark = XLB_HC_MARK(ids[i], true),
					    .action = TC_ACT_SHOT,
					    .verdict = XLB_HC_DROP_NO_BACKEND});
	}
	/* A retired backend: the controller keeps its address, state 0. */
	set_backend_state(t, BE4_ID, XLB_BACKEND_UNUSED);
	hc_run(t, &(struct hc_step){.what = "removed",
				    .in = &in,
				    .mark = XLB_HC_MARK(BE4_ID, false),
				    .action = TC_ACT_SHOT,
				    .verdict = XLB_HC_DROP_NO_BACKEND});
}

static void not_ip(struct tc *t)
{
	struct frame in;

	setup(t);
	egress(&in, &(struct pkt){.ethertype = 0x0806});
	hc_run(t, &(struct hc_step){.what = "arp",
				    .in = &in,
				    .mark = XLB_HC_MARK(BE4_ID, false),
				    .action = TC_ACT_SHOT,
				    .verdict = XLB_HC_DROP_UNPARSED});
	/* An in-band tag: never sent bare toward the VIP. */
	egress(&in, &(struct pkt){.src = LB4,
				  .dst = VIP4,
				  .flags = F_SYN,
				  .vlan = true,
				  .tci = 300});
	hc_run(t, &(struct hc_step){.what = "vlan",
				    .in = &in,
				    .mark = XLB_HC_MARK(BE4_ID, false),
				    .action = TC_ACT_SHOT,
				    .verdict = XLB_HC_DROP_UNPARSED});
}

/* config.mtu bounds the encapsulated packet, as for client traffic. */
static void too_big(struct tc *t)
{
	struct xlb_config c = base_config();
	struct frame in;
	/* 20 IP + 20 TCP + payload + 20 outer = 1500 exactly. */
	struct pkt fits = {
		.src = LB4, .dst = VIP4, .flags = F_ACK, .payload = 1500 - 60};
	struct pkt over = fits;

	setup(t);
	c.mtu = 1500;
	set_config(t, &c);
	hc_tx(t, "fits", &fits, BE4_ID, false);
	over.payload++;
	egress(&in, &over);
	hc_run(t, &(struct hc_step){.what = "one byte over",
				    .in = &in,
				    .mark = XLB_HC_MARK(BE4_ID, false),
				    .action = TC_ACT_SHOT,
				    .verdict = XLB_HC_DROP_TOO_BIG});
	/* GUE adds 8 more: the packet that fit IPIP does not fit GUE. */
	egress(&in, &fits);
	hc_run(t, &(struct hc_step){.what = "gue over",
				    .in = &in,
				    .mark = XLB_HC_MARK(BE4_ID, true),
				    .action = TC_ACT_SHOT,
				    .verdict = XLB_HC_DROP_TOO_BIG});
}

/* No gateway MAC configured: the kernel's next hop stays. */
static void no_gw_mac(struct tc *t)
{
	struct xlb_config c = base_config();

	setup(t);
	memset(c.gw_mac, 0, sizeof(c.gw_mac));
	set_config(t, &c);
	hc_tx(t, "syn", &SYN4, BE4_ID, false);
}

const struct golden_case cases_hc[] = {
	{"hc_unmarked", "no mark: untouched, TC_ACT_UNSPEC, not counted",
	 PROG_BALANCE, unmarked},
	{"hc_foreign_mark", "other top bits: untouched", PROG_BALANCE,
	 foreign_mark},
	{"hc_ipip", "v4 check, v4 backend: IPIP from our address", PROG_BALANCE,
	 ipip},
	{"hc_ip6ip6", "v6 check, v6 backend: IP6IP6", PROG_BALANCE, ip6ip6},
	{"hc_4in6", "v4 check, v6 backend: 4in6, source from the prefix",
	 PROG_BALANCE, in4in6},
	{"hc_6in4", "v6 check, v4 backend: 6in4", PROG_BALANCE, in6in4},
	{"hc_gue4", "GUE over IPv4, TCP and UDP", PROG_BALANCE, gue4},
	{"hc_gue6", "GUE over IPv6, TCP and UDP", PROG_BALANCE, gue6},
	{"hc_gue_cross", "GUE across families", PROG_BALANCE, gue_cross},
	{"hc_down_drain", "down and draining backends are still checked",
	 PROG_BALANCE, down_and_drain},
	{"hc_unknown_backend", "unused or out-of-range id: dropped, counted",
	 PROG_BALANCE, unknown_backend},
	{"hc_not_ip", "marked non-IP or tagged frame: dropped", PROG_BALANCE,
	 not_ip},
	{"hc_too_big", "over config.mtu encapsulated: dropped", PROG_BALANCE,
	 too_big},
	{"hc_no_gw_mac", "gw_mac unset: the kernel's next hop", PROG_BALANCE,
	 no_gw_mac},
	{0},
};
