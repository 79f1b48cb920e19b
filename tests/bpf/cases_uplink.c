// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Golden cases of egress over several uplinks (bpf/uplink.h): with
 * config.n_uplinks set, xlb_balance tail-calls xlb_egress, which sends
 * each encapsulated frame by its flow's uplink, toward that uplink's
 * gateway from its MAC: XDP_TX when the uplink is the receiving
 * interface, else XDP_REDIRECT through uplink_tx. A new flow gets the
 * byte-share rule's choice, recorded in its entry and kept while that
 * uplink is up; a flow on a down uplink moves on its next packet
 * (counted); none up drops; a frame without an entry takes its hash's
 * slot; "too big" uses the chosen uplink's MTU.
 *
 * BPF_PROG_TEST_RUN receives on the loopback device: uplink 1 is "lo"
 * (XDP_TX), uplink 2 another interface (XDP_REDIRECT; its uplink_tx
 * entry names lo, which only has to exist: a test run sends nothing).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "golden.h"
#include "harness.h"

#define LO	 1
#define OTHER_IF 4242

static const __u8 GW1[6] = {0x02, 0x00, 0x00, 0x00, 0x01, 0x01};
static const __u8 SRC1[6] = {0x02, 0x00, 0x00, 0x00, 0x01, 0x02};
static const __u8 GW2[6] = {0x02, 0x00, 0x00, 0x00, 0x02, 0x01};
static const __u8 SRC2[6] = {0x02, 0x00, 0x00, 0x00, 0x02, 0x02};

static struct xlb_uplink_set set;

/* Writes set (slots filled as xlbd fills them) and n_uplinks. */
static void write_set(struct tc *t)
{
	struct xlb_config c = t->cfg;
	__u32 zero = 0, n = 0;

	xlb_uplink_fill_slots(&set);
	for (__u32 i = 1; i < XLB_MAX_UPLINKS; i++)
		n += set.u[i].state != XLB_UPLINK_UNUSED;
	if (bpf_map_update_elem(H.uplink_set, &zero, &set, BPF_ANY))
		fail(t, "setup: uplink_set: %s", strerror(errno));
	c.n_uplinks = n;
	set_config(t, &c);
}

static void set_state(struct tc *t, __u32 id, __u8 state)
{
	set.u[id].state = state;
	write_set(t);
}

/*
 * VIP4:80/TCP (ring of 13 IPv4 backends) and two uplinks up: 1 on the
 * receiving interface (share s1, MTU mtu1), 2 elsewhere (share s2).
 */
static void two_uplinks(struct tc *t, __u16 s1, __u16 s2, __u16 mtu1)
{
	__u32 id = 2, lo = LO;

	setup13(t, TCP, 0);
	memset(&set, 0, sizeof(set));
	set.u[1] = (struct xlb_uplink){.ifindex = LO,
				       .state = XLB_UPLINK_UP,
				       .mtu = mtu1,
				       .share = s1};
	memcpy(set.u[1].gw_mac, GW1, 6);
	memcpy(set.u[1].src_mac, SRC1, 6);
	set.u[2] = (struct xlb_uplink){
		.ifindex = OTHER_IF, .state = XLB_UPLINK_UP, .share = s2};
	memcpy(set.u[2].gw_mac, GW2, 6);
	memcpy(set.u[2].src_mac, SRC2, 6);
	if (bpf_map_update_elem(H.uplink_tx, &id, &lo, BPF_ANY))
		fail(t, "setup: uplink_tx: %s", strerror(errno));
	write_set(t);
}

static __u32 action_of(__u32 up)
{
	return set.u[up].ifindex == LO ? XDP_TX : XDP_REDIRECT;
}

/* p must leave by uplink up to the backend its ring gives; returns it. */
static __u32 sent_by(struct tc *t, const char *what, const struct pkt *p,
		     __u32 up, __u64 events)
{
	struct xlb_flow_key k = pkt_key(p);
	struct frame *f = malloc(sizeof(*f));
	bool repick;
	__u32 be;

	if (!f)
		abort();
	build(f, p);
	be = ring_pick(t, vip1(t, &k), &k, &repick);
	expect_sent(t, what, f, &k, be, events, action_of(up), &set.u[up]);
	free(f);
	return be;
}

/* The flow of p names uplink up in its entry. */
static void entry_uplink(struct tc *t, const char *what, const struct pkt *p,
			 __u32 up)
{
	struct xlb_flow_key k = pkt_key(p);
	struct xlb_flow_entry e;

	if (!xlb_flows_get(&H.flows, (__u32)H.cpu, &k, &e))
		fail(t, "%s: no flow entry", what);
	else if (e.uplink != up)
		fail(t, "%s: entry's uplink %u, want %u", what, e.uplink, up);
}

/* This CPU's uplink_load. */
static void load_here(struct tc *t, struct xlb_uplink_load *l)
{
	int n = libbpf_num_possible_cpus();
	struct xlb_uplink_load *all = calloc((size_t)n, sizeof(*all));
	__u32 zero = 0;

	if (!all)
		abort();
	memset(l, 0, sizeof(*l));
	if (bpf_map_lookup_elem(H.uplink_load, &zero, all))
		fail(t, "reading uplink_load: %s", strerror(errno));
	else
		*l = all[H.cpu];
	free(all);
}

#define NEW_FLOW (EV(FLOW_MISS) | EV(FLOW_INSERT))

/*
 * A new flow takes the uplink furthest below its share and keeps it:
 * with no bytes anywhere the larger share wins (2); the next new flow
 * goes to the one still without bytes (1); each flow's later packets
 * stay on its own, whatever the bytes say by then.
 */
static void choice_recorded_kept(struct tc *t)
{
	struct pkt a = {.src = CLI4, .dst = VIP4, .sport = 1000};
	struct pkt b = {.src = CLI4, .dst = VIP4, .sport = 1001};
	struct pkt c = {.src = CLI4, .dst = VIP4, .sport = 1002};

	two_uplinks(t, 1, 3, 0);
	sent_by(t, "a, new", &a, 2, NEW_FLOW);
	entry_uplink(t, "a", &a, 2);
	sent_by(t, "b, new", &b, 1, NEW_FLOW);
	entry_uplink(t, "b", &b, 1);
	/* 1 and 2 now hold one frame each: 2 is the further below 3/4 */
	sent_by(t, "c, new", &c, 2, NEW_FLOW);
	for (int i = 0; i < 3; i++) {
		sent_by(t, "a again", &a, 2, EV(FLOW_HIT));
		sent_by(t, "b again", &b, 1, EV(FLOW_HIT));
	}
	entry_uplink(t, "a after", &a, 2);
	entry_uplink(t, "b after", &b, 1);
}

/* The bytes of each frame sent are its uplink's, on this CPU. */
static void bytes_counted(struct tc *t)
{
	struct pkt a = {
		.src = CLI4, .dst = VIP4, .sport = 1000, .payload = 300};
	struct pkt b = {
		.src = CLI4, .dst = VIP4, .sport = 1001, .payload = 100};
	struct xlb_uplink_load l;
	/* frame 14 + 20 + 20 + payload, plus the outer 20 */
	__u64 fa = 14 + 20 + 20 + 300 + 20, fb = 14 + 20 + 20 + 100 + 20;

	two_uplinks(t, 1, 1, 0);
	/* equal shares, no bytes: the lower id wins the tie */
	sent_by(t, "a", &a, 1, NEW_FLOW);
	sent_by(t, "b", &b, 2, NEW_FLOW);
	sent_by(t, "b again", &b, 2, EV(FLOW_HIT));
	load_here(t, &l);
	if (l.bytes[1] != fa || l.packets[1] != 1)
		fail(t, "uplink 1: %llu bytes %llu packets, want %llu 1",
		     (unsigned long long)l.bytes[1],
		     (unsigned long long)l.packets[1], (unsigned long long)fa);
	if (l.bytes[2] != 2 * fb || l.packets[2] != 2)
		fail(t, "uplink 2: %llu bytes %llu packets, want %llu 2",
		     (unsigned long long)l.bytes[2],
		     (unsigned long long)l.packets[2],
		     (unsigned long long)(2 * fb));
	/*
	 * This window: each frame's bytes. Pending: each new flow's charge
	 * (a full frame, with no flow before it; then the mean of one),
	 * less twice the bytes sent by any uplink before the next choice.
	 */
	if (l.cur[1] != fa || l.cur[2] != 2 * fb || l.flows_cur != 2)
		fail(t, "this window: %llu / %llu bytes, %llu flows",
		     (unsigned long long)l.cur[1], (unsigned long long)l.cur[2],
		     (unsigned long long)l.flows_cur);
	/* b's choice: a's frame took twice its bytes off a's 1500 pending */
	if (l.pend[1] != 1500 * (1024 - 2 * fa * 1024 / 1500) / 1024 ||
	    l.pend[2] != 1500 || l.sent != fa + 2 * fb)
		fail(t, "pending: %llu / %llu bytes, sent %llu",
		     (unsigned long long)l.pend[1],
		     (unsigned long long)l.pend[2], (unsigned long long)l.sent);
}

/*
 * An uplink marked down is left by its flow on the flow's next packet
 * (UPLINK_FAILOVER, failovers[2]), the new one recorded; when it comes
 * back the flow stays where it went.
 */
static void repick_off_down(struct tc *t)
{
	struct pkt a = {.src = CLI4, .dst = VIP4, .sport = 1000};
	struct xlb_uplink_load l;
	__u32 be, be2;

	two_uplinks(t, 1, 3, 0);
	be = sent_by(t, "a, new", &a, 2, NEW_FLOW);
	set_state(t, 2, XLB_UPLINK_DOWN);
	be2 = sent_by(t, "a, 2 down", &a, 1,
		      EV(FLOW_HIT) | EV(UPLINK_FAILOVER));
	if (be2 != be)
		fail(t, "the backend changed with the uplink: %u -> %u", be,
		     be2);
	entry_uplink(t, "after failover", &a, 1);
	load_here(t, &l);
	if (l.failovers[2] != 1 || l.failovers[1] != 0)
		fail(t, "failovers 1: %llu 2: %llu, want 0 1",
		     (unsigned long long)l.failovers[1],
		     (unsigned long long)l.failovers[2]);
	set_state(t, 2, XLB_UPLINK_UP);
	sent_by(t, "a, 2 back", &a, 1, EV(FLOW_HIT));
	entry_uplink(t, "2 back", &a, 1);
}

/* No uplink up: dropped and counted, the flow's entry kept as it was. */
static void all_down(struct tc *t)
{
	struct pkt a = {.src = CLI4, .dst = VIP4, .sport = 1000};
	struct frame f;

	two_uplinks(t, 1, 1, 0);
	sent_by(t, "a, new", &a, 1, NEW_FLOW);
	set.u[1].state = XLB_UPLINK_DOWN;
	set_state(t, 2, XLB_UPLINK_DOWN);
	build(&f, &a);
	expect_drop(t, "all down", &f, XLB_CNT_DROP_NO_UPLINK, EV(FLOW_HIT));
	entry_uplink(t, "kept", &a, 1);
	set_state(t, 2, XLB_UPLINK_UP);
	/* 1 is still down: the flow moves to 2 */
	sent_by(t, "2 back", &a, 2, EV(FLOW_HIT) | EV(UPLINK_FAILOVER));
}

/*
 * "Too big" uses the chosen uplink's MTU: 1200 on uplink 1 answers a
 * 1190-byte DF packet (1190 + 20 > 1200) with its MTU less the tunnel's;
 * the same packet on uplink 2 (config's 1500) is sent.
 */
static void mtu_of_uplink(struct tc *t)
{
	struct pkt a = {.src = CLI4,
			.dst = VIP4,
			.sport = 1000,
			.payload = 1190 - 40,
			.frag_off = 0x4000};
	struct pkt b = {.src = CLI4,
			.dst = VIP4,
			.sport = 1001,
			.payload = 1190 - 40,
			.frag_off = 0x4000};
	struct frame *f = malloc(sizeof(*f)), *out = malloc(sizeof(*out));

	if (!f || !out)
		abort();
	two_uplinks(t, 1, 3, 1200);
	sent_by(t, "a on 2", &a, 2, NEW_FLOW);
	build(f, &b);
	expect_too_big(out, f, &t->cfg, 1200 - 20);
	run_step(t, PROG_BALANCE,
		 &(struct step){.what = "b on 1, too big",
				.in = f,
				.action = XDP_TX,
				.out = out,
				.verdict = XLB_CNT_TX_ICMP_TOO_BIG,
				.events = NEW_FLOW,
				.vip_id = -1});
	entry_uplink(t, "b", &b, 1);
	free(f);
	free(out);
}

/*
 * Frames without an entry (a VIP without the flow table) leave by their
 * hash's slot: the same uplink for every frame of a connection, and
 * shares 1:3 give uplink 2 three slots in four.
 */
static void slot_without_entry(struct tc *t)
{
	struct xlb_config c;
	int on2 = 0;

	two_uplinks(t, 1, 3, 0);
	c = t->cfg;
	std_vip(t, VIP4B, 80, TCP, 2, XLB_VIP_F_NO_FLOW_TABLE, 13, false);
	set_config(t, &c);
	for (__u32 i = 0; i < XLB_UPLINK_SLOTS; i++)
		on2 += set.slot[i] == 2;
	if (on2 != 48)
		fail(t, "uplink 2 has %d of %d slots, want 48", on2,
		     XLB_UPLINK_SLOTS);
	for (__u16 sp = 2000; sp < 2008; sp++) {
		struct pkt p = {.src = CLI4, .dst = VIP4B, .sport = sp};
		struct xlb_flow_key k = pkt_key(&p);
		__u32 up = set.slot[rss_of(&k) % XLB_UPLINK_SLOTS];

		sent_by(t, "no entry", &p, up, 0);
		sent_by(t, "no entry, again", &p, up, 0);
		expect_no_flow(t, &k);
	}
}

/* IPv6 to an IPv6 backend in GUE: the egress program's other encaps. */
static void v6_gue(struct tc *t)
{
	struct pkt a = {.src = CLI6, .dst = VIP6, .sport = 1000};
	struct xlb_config c;

	two_uplinks(t, 1, 3, 0);
	c = t->cfg;
	c.encap = XLB_ENCAP_GUE;
	std_vip(t, VIP6, 80, TCP, 2, 0, 13, true);
	set_config(t, &c);
	sent_by(t, "v6 new", &a, 2, NEW_FLOW);
	sent_by(t, "v6 again", &a, 2, EV(FLOW_HIT));
	entry_uplink(t, "v6", &a, 2);
}

const struct golden_case cases_uplink[] = {
	{"uplink_choice_kept", "new flow by byte share, kept on its uplink",
	 PROG_BALANCE, choice_recorded_kept},
	{"uplink_bytes", "bytes and packets counted per uplink", PROG_BALANCE,
	 bytes_counted},
	{"uplink_down_repick", "a flow leaves a down uplink, counted",
	 PROG_BALANCE, repick_off_down},
	{"uplink_all_down", "none up: dropped and counted", PROG_BALANCE,
	 all_down},
	{"uplink_mtu", "too big by the chosen uplink's MTU", PROG_BALANCE,
	 mtu_of_uplink},
	{"uplink_slot", "no entry: the hash's slot, by share", PROG_BALANCE,
	 slot_without_entry},
	{"uplink_v6_gue", "IPv6 in GUE over an uplink", PROG_BALANCE, v6_gue},
	{NULL, NULL, PROG_BALANCE, NULL},
};
