// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Golden cases of ICMP: echo answered in place (rule 10), "fragmentation
 * needed" / "packet too big" about a VIP flow forwarded to the flow's
 * backend and its malformed variants dropped, neighbour discovery passed,
 * other ICMP dropped; and the ICMP error the balancer itself sends when an
 * encapsulated packet would exceed the MTU (rule 9).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "golden.h"

#define NONVIP4 "198.19.5.5"

static void setup(struct tc *t, __u16 mtu, __u8 encap, bool be_v6_for_v4)
{
	struct xlb_config c = base_config();

	c.mtu = mtu;
	c.encap = encap;
	set_config(t, &c);
	std_vip(t, VIP4, 80, TCP, 1, 0, 13, be_v6_for_v4);
	std_vip(t, VIP6, 80, TCP, 2, 0, 13, !be_v6_for_v4);
	add_vip(t, VIP4, 53, UDP, 3, 0, 17, XLB_ENCAP_DEFAULT);
	ring_distinct(t, 3, 17, 3001, be_v6_for_v4);
	set_filter_bit(t, NONVIP4);
}

/* ---- echo ---- */

static void echo(struct tc *t, const struct pkt *p)
{
	struct frame f;

	setup(t, 1500, XLB_ENCAP_IPIP, false);
	build(&f, p);
	expect_echo_tx(t, "echo", &f);
}

static void echo4(struct tc *t)
{
	echo(t, &(struct pkt){.src = CLI4,
			      .dst = VIP4,
			      .proto = ICMP,
			      .icmp_type = 8,
			      .ttl = 57,
			      .payload = 56});
}

static void echo6(struct tc *t)
{
	echo(t, &(struct pkt){.src = CLI6,
			      .dst = VIP6,
			      .proto = ICMP6,
			      .icmp_type = 128,
			      .ttl = 33,
			      .payload = 56});
}

static void echo4_vlan(struct tc *t)
{
	echo(t, &(struct pkt){.src = CLI4,
			      .dst = VIP4,
			      .proto = ICMP,
			      .icmp_type = 8,
			      .vlan = true,
			      .tci = 42,
			      .payload = 13});
}

static void echo4_padded(struct tc *t)
{
	/* 42-byte echo padded to 60: the padding goes back unchanged. */
	echo(t, &(struct pkt){.src = CLI4B,
			      .dst = VIP4,
			      .proto = ICMP,
			      .icmp_type = 8,
			      .trailer = 18});
}

static void echo4_non_vip(struct tc *t)
{
	struct frame f;

	setup(t, 1500, XLB_ENCAP_IPIP, false);
	build(&f, &(struct pkt){.src = CLI4,
				.dst = NONVIP4,
				.proto = ICMP,
				.icmp_type = 8,
				.payload = 8});
	expect_pass(t, "echo", &f, XLB_CNT_PASS_NON_VIP);
}

static void echo6_no_addr_entry(struct tc *t)
{
	struct xlb_config c = base_config();
	struct frame f;

	/* A VIP on the address, but no VIP-address entry for it. */
	set_config(t, &c);
	add_vip(t, VIP6B, 80, TCP, 1, 0, 13, XLB_ENCAP_DEFAULT);
	ring_distinct(t, 1, 13, 1, true);
	build(&f, &(struct pkt){.src = CLI6,
				.dst = VIP6B,
				.proto = ICMP6,
				.icmp_type = 128,
				.payload = 8});
	expect_pass(t, "echo", &f, XLB_CNT_PASS_NON_VIP);
}

/* ---- other ICMP to a VIP address ---- */

static void icmp_to_vip(struct tc *t, bool v6, __u8 type, __u8 code,
			int verdict)
{
	struct frame f;

	setup(t, 1500, XLB_ENCAP_IPIP, false);
	build(&f, &(struct pkt){.src = v6 ? CLI6 : CLI4,
				.dst = v6 ? VIP6 : VIP4,
				.proto = v6 ? ICMP6 : ICMP,
				.icmp_type = type,
				.icmp_code = code,
				.ttl = 255,
				.payload = 24});
	if (verdict == XLB_CNT_PASS_ICMP_ND)
		expect_pass(t, "icmp", &f, verdict);
	else
		expect_drop(t, "icmp", &f, verdict, 0);
}

static void nd_ns(struct tc *t)
{
	icmp_to_vip(t, true, 135, 0, XLB_CNT_PASS_ICMP_ND);
}

static void nd_na(struct tc *t)
{
	icmp_to_vip(t, true, 136, 0, XLB_CNT_PASS_ICMP_ND);
}

static void nd_rs(struct tc *t)
{
	icmp_to_vip(t, true, 133, 0, XLB_CNT_PASS_ICMP_ND);
}

static void icmp6_138(struct tc *t)
{
	icmp_to_vip(t, true, 138, 0, XLB_CNT_DROP_ICMP);
}

static void icmp6_132(struct tc *t)
{
	icmp_to_vip(t, true, 132, 0, XLB_CNT_DROP_ICMP);
}

static void icmp6_unreach(struct tc *t)
{
	icmp_to_vip(t, true, 1, 4, XLB_CNT_DROP_ICMP);
}

static void icmp4_timestamp(struct tc *t)
{
	icmp_to_vip(t, false, 13, 0, XLB_CNT_DROP_ICMP);
}

static void icmp4_port_unreach(struct tc *t)
{
	icmp_to_vip(t, false, 3, 3, XLB_CNT_DROP_ICMP);
}

static void icmp4_echo_reply(struct tc *t)
{
	icmp_to_vip(t, false, 0, 0, XLB_CNT_DROP_ICMP);
}

/* ---- PTB about a VIP flow ---- */

struct ptb {
	bool v6;
	__u8 proto;	/* of the quoted packet; 0 = TCP */
	__u16 vport;	/* quoted source port (the VIP's); 0 = 80 */
	__u32 quote;	/* bytes of the quoted IP packet; 0 = all */
	__u32 payload;	/* L4 payload of the quoted packet */
	__u8 opt_words; /* quoted IPv4 options */
	int len_delta;	/* added to the ICMP packet's IP length */
};

/* A router's "too big" to the VIP about a VIP -> client packet. */
static void ptb_frame(struct frame *f, const struct ptb *x)
{
	struct frame q;
	__u8 body[1024];
	__u32 n;

	build(&q, &(struct pkt){.src = x->v6 ? VIP6 : VIP4,
				.dst = x->v6 ? CLI6 : CLI4,
				.proto = x->proto ? x->proto : TCP,
				.sport = x->vport ? x->vport : 80,
				.dport = 40000,
				.flags = F_SYN | F_ACK,
				.icmp_type = 0,
				.opt_words = x->opt_words,
				.payload = x->payload});
	n = q.len - q.l2;
	if (x->quote && x->quote < n)
		n = x->quote;
	memset(body, 0, 8);
	body[0] = x->v6 ? 2 : 3;
	body[1] = x->v6 ? 0 : 4;
	/* Next-hop MTU 1400: v4 bytes 6-7, v6 bytes 4-7. */
	body[6] = 1400 >> 8;
	body[7] = 1400 & 0xff;
	memcpy(body + 8, q.d + q.l2, n);
	build(f, &(struct pkt){.src = x->v6 ? RTR6 : RTR4,
			       .dst = x->v6 ? VIP6 : VIP4,
			       .proto = x->v6 ? ICMP6 : ICMP,
			       .tos = 0xc0,
			       .l4 = body,
			       .l4_len = 8 + n,
			       .len_delta = x->len_delta});
}

static struct xlb_flow_key ptb_key(const struct ptb *x)
{
	return fkey(x->v6 ? CLI6 : CLI4, x->v6 ? VIP6 : VIP4, 40000,
		    x->vport ? x->vport : 80, x->proto ? x->proto : TCP);
}

static void ptb_fwd(struct tc *t, const struct ptb *x, bool entry, __u16 mtu,
		    __u8 encap)
{
	struct xlb_flow_key k = ptb_key(x);
	const struct xlb_vip *v;
	struct frame f;
	bool repick;
	__u32 be;

	setup(t, mtu, encap, false);
	v = vip_of(t, &k);
	if (!v)
		abort();
	be = ring_pick(t, v, &k, &repick);
	if (entry) {
		/* An entry elsewhere than the ring: the entry must win. */
		be = t->ring[v->vip_id]
			     .slot[(slot_of(v, &k) + 3) % v->ring_size];
		set_flow(t, &k, be, 12345);
	}
	ptb_frame(&f, x);
	expect_tx(t, "ptb", &f, &k, be, EV(ICMP_PTB_FORWARDED));
	if (entry)
		expect_flow(t, &k, be);
	else
		expect_no_flow(t, &k);
}

static void ptb4_entry(struct tc *t)
{
	ptb_fwd(t, &(struct ptb){.payload = 60}, true, 1500, XLB_ENCAP_IPIP);
}

static void ptb4_ring(struct tc *t)
{
	ptb_fwd(t, &(struct ptb){0}, false, 1500, XLB_ENCAP_IPIP);
}

static void ptb4_udp(struct tc *t)
{
	ptb_fwd(t,
		&(struct ptb){
			.proto = UDP, .vport = 53, .payload = 30, .quote = 28},
		false, 1500, XLB_ENCAP_IPIP);
}

static void ptb4_gue(struct tc *t)
{
	ptb_fwd(t, &(struct ptb){.payload = 10}, true, 1500, XLB_ENCAP_GUE);
}

/* Rule 8: too big once encapsulated, and no ICMP error about an error. */
static void ptb_over_mtu(struct tc *t, bool v6, __u32 payload)
{
	struct ptb x = {.v6 = v6, .payload = payload};
	struct frame *f = malloc(sizeof(*f));

	if (!f)
		abort();
	setup(t, 1500, XLB_ENCAP_IPIP, false);
	ptb_frame(f, &x);
	expect_drop(t, "ptb", f, XLB_CNT_DROP_TOO_BIG, 0);
	free(f);
}

static void ptb4_over_mtu(struct tc *t)
{
	/* 20 + 8 + 20 + 20 + 1468 = 1536 bytes, 1556 encapsulated > 1500. */
	ptb_over_mtu(t, false, 1468);
}

static void ptb6_over_mtu(struct tc *t)
{
	/* 40 + 8 + 40 + 20 + 1428 = 1536 bytes, 1576 encapsulated. */
	ptb_over_mtu(t, true, 1428);
}

static void ptb4_at_mtu(struct tc *t)
{
	/* 1480 bytes + 20 outer = 1500: fits, forwarded. */
	ptb_fwd(t, &(struct ptb){.payload = 1412}, false, 1500, XLB_ENCAP_IPIP);
}

static void ptb6_entry(struct tc *t)
{
	ptb_fwd(t, &(struct ptb){.v6 = true, .payload = 100}, true, 1500,
		XLB_ENCAP_IPIP);
}

static void ptb6_ring(struct tc *t)
{
	ptb_fwd(t, &(struct ptb){.v6 = true, .quote = 48}, false, 1500,
		XLB_ENCAP_IPIP);
}

static void ptb_bad(struct tc *t, const struct ptb *x)
{
	struct frame f;

	setup(t, 1500, XLB_ENCAP_IPIP, false);
	ptb_frame(&f, x);
	expect_drop(t, "ptb", &f, XLB_CNT_DROP_ICMP, 0);
}

/* Rule 4: the quoted ports lie past the IP length, in the padding. */
static void ptb4_ports_in_padding(struct tc *t)
{
	ptb_bad(t, &(struct ptb){.quote = 28, .len_delta = -8});
}

static void ptb6_ports_in_padding(struct tc *t)
{
	ptb_bad(t, &(struct ptb){.v6 = true, .quote = 48, .len_delta = -4});
}

static void ptb4_short(struct tc *t)
{
	ptb_bad(t, &(struct ptb){.quote = 27});
}

static void ptb4_inner_icmp(struct tc *t)
{
	ptb_bad(t, &(struct ptb){.proto = ICMP});
}

static void ptb4_vip_miss(struct tc *t)
{
	ptb_bad(t, &(struct ptb){.vport = 81});
}

static void ptb4_inner_options(struct tc *t)
{
	ptb_bad(t, &(struct ptb){.opt_words = 1});
}

static void ptb6_short(struct tc *t)
{
	ptb_bad(t, &(struct ptb){.v6 = true, .quote = 47});
}

static void ptb6_vip_miss(struct tc *t)
{
	ptb_bad(t, &(struct ptb){.v6 = true, .proto = UDP});
}

/* ---- too big once encapsulated ---- */

/*
 * A packet of ip_len bytes to the VIP through an underlay of that MTU.
 * big: ip_len + outer_len > mtu. Events of a new flow's ACK (miss, insert).
 */
static void too_big(struct tc *t, bool v6, bool be_v6, __u8 encap, __u16 mtu,
		    __u32 ip_len, __u16 frag_off, bool vlan)
{
	__u32 olen = (be_v6 ? 40 : 20) + (encap == XLB_ENCAP_GUE ? 8 : 0);
	__u32 hdr = v6 ? 40 + 20 : 20 + 20;
	struct pkt p = {.src = v6 ? CLI6 : CLI4,
			.dst = v6 ? VIP6 : VIP4,
			.payload = ip_len - hdr,
			.frag_off = frag_off,
			.vlan = vlan,
			.tci = 9};
	struct xlb_flow_key k = pkt_key(&p);
	__u64 ev = EV(FLOW_MISS) | EV(FLOW_INSERT);
	struct frame *f = malloc(sizeof(*f)), *out = malloc(sizeof(*out));
	bool repick;
	__u32 be;

	if (!f || !out)
		abort();
	setup(t, mtu, encap, v6 ? !be_v6 : be_v6);
	build(f, &p);
	be = ring_pick(t, vip_of(t, &k), &k, &repick);
	if (t->be[be].family != (be_v6 ? XLB_AF_INET6 : XLB_AF_INET))
		fail(t, "test bug: backend family");
	if (!mtu || ip_len + olen <= mtu) {
		expect_tx(t, "fits", f, &k, be, ev);
	} else if (!v6 && (!(frag_off & 0x4000) || ip_len < XLB_ICMP_QUOTE)) {
		expect_drop(t, "too big", f, XLB_CNT_DROP_TOO_BIG, ev);
	} else {
		expect_too_big(out, f, &t->cfg, mtu - olen);
		run_step(t, PROG_BALANCE,
			 &(struct step){.what = "too big",
					.in = f,
					.action = XDP_TX,
					.out = out,
					.verdict = XLB_CNT_TX_ICMP_TOO_BIG,
					.events = ev,
					.vip_id = -1});
	}
	/* The flow table was updated before the size check. */
	expect_flow(t, &k, be);
	free(f);
	free(out);
}

static void too_big4_df(struct tc *t)
{
	too_big(t, false, false, XLB_ENCAP_IPIP, 576, 557, 0x4000, false);
}

static void fits4_exact(struct tc *t)
{
	too_big(t, false, false, XLB_ENCAP_IPIP, 576, 556, 0x4000, false);
}

static void too_big4_nodf(struct tc *t)
{
	too_big(t, false, false, XLB_ENCAP_IPIP, 576, 600, 0, false);
}

static void too_big4_short(struct tc *t)
{
	too_big(t, false, false, XLB_ENCAP_IPIP, 120, 110, 0x4000, false);
}

static void too_big4_gue(struct tc *t)
{
	too_big(t, false, false, XLB_ENCAP_GUE, 576, 549, 0x4000, false);
}

static void fits4_gue_exact(struct tc *t)
{
	too_big(t, false, false, XLB_ENCAP_GUE, 576, 548, 0x4000, false);
}

static void too_big4_4in6(struct tc *t)
{
	too_big(t, false, true, XLB_ENCAP_IPIP, 1280, 1241, 0x4000, false);
}

static void too_big4_vlan(struct tc *t)
{
	too_big(t, false, false, XLB_ENCAP_IPIP, 1500, 1481, 0x4000, true);
}

static void too_big6(struct tc *t)
{
	too_big(t, true, true, XLB_ENCAP_IPIP, 1280, 1260, 0, false);
}

static void fits6_exact(struct tc *t)
{
	too_big(t, true, true, XLB_ENCAP_IPIP, 1280, 1240, 0, false);
}

static void too_big6_6in4(struct tc *t)
{
	too_big(t, true, false, XLB_ENCAP_IPIP, 1280, 1270, 0, false);
}

static void too_big6_gue_vlan(struct tc *t)
{
	too_big(t, true, true, XLB_ENCAP_GUE, 1400, 1360, 0, true);
}

static void mtu_zero(struct tc *t)
{
	too_big(t, false, false, XLB_ENCAP_IPIP, 0, 1600, 0x4000, false);
}

const struct golden_case cases_icmp[] = {
	{"echo4", "echo request to a v4 VIP answered", PROG_BALANCE, echo4},
	{"echo6", "echo request to a v6 VIP answered", PROG_BALANCE, echo6},
	{"echo4_vlan", "echo reply keeps the tag", PROG_BALANCE, echo4_vlan},
	{"echo4_padded", "echo reply keeps L2 padding", PROG_BALANCE,
	 echo4_padded},
	{"echo4_non_vip_pass", "echo to another address", PROG_BALANCE,
	 echo4_non_vip},
	{"echo6_no_addr_entry_pass", "VIP without address entry", PROG_BALANCE,
	 echo6_no_addr_entry},
	{"icmp6_nd_ns_pass", "neighbour solicitation", PROG_BALANCE, nd_ns},
	{"icmp6_nd_na_pass", "neighbour advertisement", PROG_BALANCE, nd_na},
	{"icmp6_nd_rs_pass", "router solicitation", PROG_BALANCE, nd_rs},
	{"icmp6_138_drop", "type 138, past the ND range", PROG_BALANCE,
	 icmp6_138},
	{"icmp6_132_drop", "type 132, before the ND range", PROG_BALANCE,
	 icmp6_132},
	{"icmp6_unreach_drop", "destination unreachable", PROG_BALANCE,
	 icmp6_unreach},
	{"icmp4_timestamp_drop", "timestamp request", PROG_BALANCE,
	 icmp4_timestamp},
	{"icmp4_port_unreach_drop", "type 3 code 3", PROG_BALANCE,
	 icmp4_port_unreach},
	{"icmp4_echo_reply_drop", "echo reply to a VIP", PROG_BALANCE,
	 icmp4_echo_reply},
	{"ptb4_flow_entry", "frag needed to the flow's backend", PROG_BALANCE,
	 ptb4_entry},
	{"ptb4_ring_pick", "frag needed, no entry: ring", PROG_BALANCE,
	 ptb4_ring},
	{"ptb4_udp", "frag needed about a UDP flow", PROG_BALANCE, ptb4_udp},
	{"ptb4_gue", "frag needed forwarded in GUE", PROG_BALANCE, ptb4_gue},
	{"ptb4_over_mtu_drop", "1536 bytes against MTU 1500: dropped",
	 PROG_BALANCE, ptb4_over_mtu},
	{"ptb6_over_mtu_drop", "same for packet too big", PROG_BALANCE,
	 ptb6_over_mtu},
	{"ptb4_at_mtu_forwarded", "exactly the MTU encapsulated", PROG_BALANCE,
	 ptb4_at_mtu},
	{"ptb4_ports_in_padding_drop", "quoted ports past the IP length",
	 PROG_BALANCE, ptb4_ports_in_padding},
	{"ptb6_ports_in_padding_drop", "same, ICMPv6", PROG_BALANCE,
	 ptb6_ports_in_padding},
	{"ptb6_flow_entry", "packet too big to the flow's backend",
	 PROG_BALANCE, ptb6_entry},
	{"ptb6_ring_pick", "packet too big, 8-byte quote", PROG_BALANCE,
	 ptb6_ring},
	{"ptb4_short_quote_drop", "quote of 7 L4 bytes", PROG_BALANCE,
	 ptb4_short},
	{"ptb4_inner_icmp_drop", "quote of an ICMP packet", PROG_BALANCE,
	 ptb4_inner_icmp},
	{"ptb4_vip_miss_drop", "quote of no VIP's packet", PROG_BALANCE,
	 ptb4_vip_miss},
	{"ptb4_inner_options_drop", "quoted header with options", PROG_BALANCE,
	 ptb4_inner_options},
	{"ptb6_short_quote_drop", "v6 quote of 7 L4 bytes", PROG_BALANCE,
	 ptb6_short},
	{"ptb6_vip_miss_drop", "v6 quote of a UDP non-VIP", PROG_BALANCE,
	 ptb6_vip_miss},
	{"too_big4_df", "DF over MTU: ICMP frag needed", PROG_BALANCE,
	 too_big4_df},
	{"too_big4_fits_exact", "ip_len + 20 == MTU: forwarded", PROG_BALANCE,
	 fits4_exact},
	{"too_big4_nodf_drop", "no DF over MTU: dropped", PROG_BALANCE,
	 too_big4_nodf},
	{"too_big4_short_drop", "over MTU, shorter than the quote",
	 PROG_BALANCE, too_big4_short},
	{"too_big4_gue", "GUE adds 28: ICMP", PROG_BALANCE, too_big4_gue},
	{"too_big4_gue_fits_exact", "GUE, exactly the MTU", PROG_BALANCE,
	 fits4_gue_exact},
	{"too_big4_4in6", "4in6 adds 40", PROG_BALANCE, too_big4_4in6},
	{"too_big4_vlan", "ICMP keeps the tag", PROG_BALANCE, too_big4_vlan},
	{"too_big6", "ICMPv6 packet too big", PROG_BALANCE, too_big6},
	{"too_big6_fits_exact", "ip_len + 40 == MTU", PROG_BALANCE,
	 fits6_exact},
	{"too_big6_6in4", "6in4 adds 20", PROG_BALANCE, too_big6_6in4},
	{"too_big6_gue_vlan", "v6 GUE, tagged", PROG_BALANCE,
	 too_big6_gue_vlan},
	{"too_big_mtu_zero", "MTU 0: no check", PROG_BALANCE, mtu_zero},
	{0},
};
