// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Golden cases of what is not balanced (rules 1-4): frames the parser
 * does not take, the pre-filter, VIP lookup misses and the port-less VIP,
 * and the drop-or-pass rule for fragments, IP options, IPv6 extension
 * headers and malformed headers, to a VIP address and to any other.
 */
#include <string.h>
#include "golden.h"

/* VIP4 and VIP6 :80/tcp with rings, and a non-VIP address in the filter. */
#define NONVIP4 "198.19.5.5"
#define NONVIP6 "2001:db8:1::55"

static void setup(struct tc *t)
{
	struct xlb_config c = base_config();

	set_config(t, &c);
	std_vip(t, VIP4, 80, TCP, 1, 0, 13, false);
	std_vip(t, VIP6, 80, TCP, 2, 0, 13, true);
	/* Its filter bit is set, but it is no VIP address. */
	set_filter_bit(t, NONVIP4);
	set_filter_bit(t, NONVIP6);
}

static void pass(struct tc *t, const struct pkt *p, int verdict)
{
	struct frame f;

	setup(t);
	build(&f, p);
	expect_pass(t, "packet", &f, verdict);
}

static void drop(struct tc *t, const struct pkt *p, int verdict)
{
	struct frame f;

	setup(t);
	build(&f, p);
	expect_drop(t, "packet", &f, verdict, 0);
}

static void arp(struct tc *t)
{
	pass(t, &(struct pkt){.ethertype = 0x0806}, XLB_CNT_PASS_UNPARSED);
}

static void qinq(struct tc *t)
{
	pass(t,
	     &(struct pkt){.src = CLI4,
			   .dst = VIP4,
			   .flags = F_SYN,
			   .vlan = true,
			   .tpid = 0x88a8,
			   .tci = 10,
			   .qinq = true},
	     XLB_CNT_PASS_UNPARSED);
}

static void eth_only(struct tc *t)
{
	pass(t, &(struct pkt){.src = CLI4, .dst = VIP4, .cut = 14},
	     XLB_CNT_PASS_UNPARSED);
}

static void ip4_cut(struct tc *t)
{
	/* 14 + 16: the source address is there, the destination is not. */
	pass(t, &(struct pkt){.src = CLI4, .dst = VIP4, .cut = 30},
	     XLB_CNT_PASS_UNPARSED);
}

static void ip6_cut(struct tc *t)
{
	pass(t, &(struct pkt){.src = CLI6, .dst = VIP6, .cut = 14 + 39},
	     XLB_CNT_PASS_UNPARSED);
}

static void vlan_cut(struct tc *t)
{
	pass(t,
	     &(struct pkt){.src = CLI4,
			   .dst = VIP4,
			   .vlan = true,
			   .tci = 5,
			   .cut = 16},
	     XLB_CNT_PASS_UNPARSED);
}

static void filter_unset(struct tc *t)
{
	struct frame f;

	setup(t);
	/* The VIP entries stay; only the pre-filter forgets them. */
	clear_filter(t);
	build(&f, &(struct pkt){.src = CLI4, .dst = VIP4, .flags = F_SYN});
	expect_pass(t, "packet", &f, XLB_CNT_PASS_NON_VIP);
	if (flow_count(t))
		fail(t, "a flow was stored for a filtered packet");
}

static void non_vip(struct tc *t)
{
	pass(t,
	     &(struct pkt){.src = CLI4, .dst = "198.19.99.99", .flags = F_SYN},
	     XLB_CNT_PASS_NON_VIP);
}

static void non_vip6_bit_set(struct tc *t)
{
	pass(t, &(struct pkt){.src = CLI6, .dst = NONVIP6, .proto = UDP},
	     XLB_CNT_PASS_NON_VIP);
}

static void other_port(struct tc *t)
{
	pass(t, &(struct pkt){.src = CLI4, .dst = VIP4, .dport = 81},
	     XLB_CNT_PASS_NON_VIP);
}

static void other_proto(struct tc *t)
{
	pass(t, &(struct pkt){.src = CLI6, .dst = VIP6, .proto = UDP},
	     XLB_CNT_PASS_NON_VIP);
}

static void gre(struct tc *t)
{
	pass(t,
	     &(struct pkt){
		     .src = CLI4, .dst = VIP4, .proto = 47, .payload = 24},
	     XLB_CNT_PASS_NON_VIP);
}

static void portless(struct tc *t)
{
	struct xlb_config c = base_config();
	struct pkt p = {.src = CLI4, .dst = VIP4B, .dport = 8443};

	set_config(t, &c);
	add_vip_addr(t, VIP4B);
	add_vip(t, VIP4B, 0, TCP, 4, 0, 13, XLB_ENCAP_DEFAULT);
	ring_distinct(t, 4, 13, 1, false);
	tx_ring(t, "port 8443", &p, EV(FLOW_MISS) | EV(FLOW_INSERT));
	p.dport = 22;
	p.flags = F_SYN;
	tx_ring(t, "port 22", &p, EV(FLOW_INSERT));
}

static void exact_beats_portless(struct tc *t)
{
	struct xlb_config c = base_config();
	struct pkt p = {
		.src = CLI6, .dst = VIP6B, .dport = 443, .flags = F_SYN};
	struct xlb_flow_key k = pkt_key(&p);
	const struct xlb_vip *v;

	set_config(t, &c);
	add_vip_addr(t, VIP6B);
	/* Port-less first, so a scan in insertion order finds it first. */
	add_vip(t, VIP6B, 0, TCP, 4, 0, 13, XLB_ENCAP_DEFAULT);
	add_vip(t, VIP6B, 443, TCP, 5, 0, 17, XLB_ENCAP_DEFAULT);
	ring_distinct(t, 4, 13, 1, true);
	ring_distinct(t, 5, 17, 101, true);
	v = vip_of(t, &k);
	if (!v || v->vip_id != 5)
		fail(t, "test bug: exact VIP not chosen");
	tx_ring(t, "port 443", &p, EV(FLOW_INSERT));
	p.dport = 444;
	tx_ring(t, "port 444", &p, EV(FLOW_INSERT));
}

static void frag4_first(struct tc *t)
{
	drop(t,
	     &(struct pkt){.src = CLI4,
			   .dst = VIP4,
			   .frag_off = 0x2000,
			   .payload = 32},
	     XLB_CNT_DROP_FRAGMENT);
}

static void frag4_later(struct tc *t)
{
	static const __u8 data[40] = {1, 2, 3, 4};

	drop(t,
	     &(struct pkt){.src = CLI4,
			   .dst = VIP4,
			   .frag_off = 185,
			   .l4 = data,
			   .l4_len = sizeof(data)},
	     XLB_CNT_DROP_FRAGMENT);
}

static void frag4_last(struct tc *t)
{
	static const __u8 data[16] = {9};

	drop(t,
	     &(struct pkt){.src = CLI4,
			   .dst = VIP4,
			   .proto = UDP,
			   .frag_off = 0x4000 | 3,
			   .l4 = data,
			   .l4_len = sizeof(data)},
	     XLB_CNT_DROP_FRAGMENT);
}

static void frag4_non_vip(struct tc *t)
{
	pass(t, &(struct pkt){.src = CLI4, .dst = NONVIP4, .frag_off = 0x2000},
	     XLB_CNT_PASS_NON_VIP);
}

static void df_not_fragment(struct tc *t)
{
	struct xlb_config c = base_config();

	set_config(t, &c);
	std_vip(t, VIP4, 80, TCP, 1, 0, 13, false);
	tx_ring(t, "df syn",
		&(struct pkt){.src = CLI4,
			      .dst = VIP4,
			      .flags = F_SYN,
			      .frag_off = 0x4000},
		EV(FLOW_INSERT));
}

static void frag6(struct tc *t)
{
	drop(t,
	     &(struct pkt){
		     .src = CLI6, .dst = VIP6, .ext = true, .ext_type = 44},
	     XLB_CNT_DROP_FRAGMENT);
}

static void ip4_options(struct tc *t)
{
	drop(t,
	     &(struct pkt){
		     .src = CLI4, .dst = VIP4, .opt_words = 2, .flags = F_SYN},
	     XLB_CNT_DROP_IP_OPTIONS);
}

static void ip4_options_non_vip(struct tc *t)
{
	pass(t, &(struct pkt){.src = CLI4, .dst = NONVIP4, .opt_words = 1},
	     XLB_CNT_PASS_NON_VIP);
}

static void ip6_hbh(struct tc *t)
{
	drop(t,
	     &(struct pkt){
		     .src = CLI6, .dst = VIP6, .ext = true, .ext_type = 0},
	     XLB_CNT_DROP_IPV6_EXT);
}

static void ip6_dstopts(struct tc *t)
{
	drop(t,
	     &(struct pkt){.src = CLI6,
			   .dst = VIP6,
			   .proto = UDP,
			   .ext = true,
			   .ext_type = 60},
	     XLB_CNT_DROP_IPV6_EXT);
}

static void ip4_options1(struct tc *t)
{
	drop(t,
	     &(struct pkt){
		     .src = CLI4, .dst = VIP4, .opt_words = 1, .proto = UDP},
	     XLB_CNT_DROP_IP_OPTIONS);
}

/* Every extension header of the list, by its next-header value. */
static void ip6_ext(struct tc *t, __u8 type)
{
	drop(t,
	     &(struct pkt){
		     .src = CLI6, .dst = VIP6, .ext = true, .ext_type = type},
	     XLB_CNT_DROP_IPV6_EXT);
}

static void ip6_routing(struct tc *t)
{
	ip6_ext(t, 43);
}

static void ip6_ah(struct tc *t)
{
	ip6_ext(t, 51);
}

static void ip6_mobility(struct tc *t)
{
	ip6_ext(t, 135);
}

static void ip6_hip(struct tc *t)
{
	ip6_ext(t, 139);
}

static void ip6_shim6(struct tc *t)
{
	ip6_ext(t, 140);
}

static void non_vip_vlan(struct tc *t)
{
	pass(t,
	     &(struct pkt){.src = CLI6,
			   .dst = "2001:db8:99::9",
			   .vlan = true,
			   .tci = 77,
			   .payload = 30},
	     XLB_CNT_PASS_NON_VIP);
}

static void ip6_ext_non_vip(struct tc *t)
{
	pass(t,
	     &(struct pkt){
		     .src = CLI6, .dst = NONVIP6, .ext = true, .ext_type = 0},
	     XLB_CNT_PASS_NON_VIP);
}

static void tcp_cut(struct tc *t)
{
	drop(t, &(struct pkt){.src = CLI4, .dst = VIP4, .l4_cut = 12},
	     XLB_CNT_DROP_MALFORMED);
}

static void tcp6_cut(struct tc *t)
{
	drop(t, &(struct pkt){.src = CLI6, .dst = VIP6, .l4_cut = 19},
	     XLB_CNT_DROP_MALFORMED);
}

static void udp_cut(struct tc *t)
{
	drop(t,
	     &(struct pkt){.src = CLI4, .dst = VIP4, .proto = UDP, .l4_cut = 6},
	     XLB_CNT_DROP_MALFORMED);
}

static void tcp_doff(struct tc *t)
{
	drop(t,
	     &(struct pkt){.src = CLI4, .dst = VIP4, .doff = 4, .payload = 8},
	     XLB_CNT_DROP_MALFORMED);
}

static void tcp_cut_non_vip(struct tc *t)
{
	pass(t, &(struct pkt){.src = CLI4, .dst = NONVIP4, .l4_cut = 12},
	     XLB_CNT_PASS_NON_VIP);
}

static void tot_len_beyond(struct tc *t)
{
	drop(t, &(struct pkt){.src = CLI4, .dst = VIP4, .len_delta = 1},
	     XLB_CNT_DROP_MALFORMED);
}

static void tot_len_beyond_non_vip(struct tc *t)
{
	pass(t, &(struct pkt){.src = CLI4, .dst = NONVIP4, .len_delta = 40},
	     XLB_CNT_PASS_NON_VIP);
}

static void tot_len_short(struct tc *t)
{
	/* tot_len 19: less than the 20-byte header. */
	drop(t, &(struct pkt){.src = CLI4, .dst = VIP4, .len_delta = -21},
	     XLB_CNT_DROP_MALFORMED);
}

static void ihl4(struct tc *t)
{
	drop(t, &(struct pkt){.src = CLI4, .dst = VIP4, .ihl = 4},
	     XLB_CNT_DROP_MALFORMED);
}

static void ip6_len_beyond(struct tc *t)
{
	drop(t, &(struct pkt){.src = CLI6, .dst = VIP6, .len_delta = 1},
	     XLB_CNT_DROP_MALFORMED);
}

const struct golden_case cases_parse[] = {
	{"parse_arp_pass", "not IP: untouched", PROG_BALANCE, arp},
	{"parse_qinq_pass", "two tags: untouched", PROG_BALANCE, qinq},
	{"parse_eth_only_pass", "14-byte frame", PROG_BALANCE, eth_only},
	{"parse_ip4_cut_pass", "IPv4 cut before the addresses", PROG_BALANCE,
	 ip4_cut},
	{"parse_ip6_cut_pass", "IPv6 cut before the addresses", PROG_BALANCE,
	 ip6_cut},
	{"parse_vlan_cut_pass", "tag cut short", PROG_BALANCE, vlan_cut},
	{"filter_bit_unset_pass", "VIP not in the pre-filter: passed",
	 PROG_BALANCE, filter_unset},
	{"non_vip_pass", "traffic to another address untouched", PROG_BALANCE,
	 non_vip},
	{"non_vip6_bit_set_pass", "filter bit set, no VIP: passed",
	 PROG_BALANCE, non_vip6_bit_set},
	{"vip_miss_port_pass", "VIP address, other port", PROG_BALANCE,
	 other_port},
	{"vip_miss_proto_pass", "VIP address, other protocol", PROG_BALANCE,
	 other_proto},
	{"vip_gre_pass", "GRE to a VIP address", PROG_BALANCE, gre},
	{"vip_portless_any_port", "port-less VIP takes every port",
	 PROG_BALANCE, portless},
	{"vip_exact_beats_portless", "exact port wins, others port-less",
	 PROG_BALANCE, exact_beats_portless},
	{"frag4_first_drop", "MF set", PROG_BALANCE, frag4_first},
	{"frag4_later_drop", "offset != 0", PROG_BALANCE, frag4_later},
	{"frag4_last_df_drop", "offset != 0 with DF", PROG_BALANCE, frag4_last},
	{"frag4_non_vip_pass", "fragment to another address", PROG_BALANCE,
	 frag4_non_vip},
	{"frag4_df_only_forwarded", "DF alone is no fragment", PROG_BALANCE,
	 df_not_fragment},
	{"frag6_drop", "IPv6 fragment header", PROG_BALANCE, frag6},
	{"ip4_options_drop", "IHL 7", PROG_BALANCE, ip4_options},
	{"ip4_options_non_vip_pass", "options to another address", PROG_BALANCE,
	 ip4_options_non_vip},
	{"ip6_hbh_drop", "hop-by-hop header", PROG_BALANCE, ip6_hbh},
	{"ip6_dstopts_drop", "destination options header", PROG_BALANCE,
	 ip6_dstopts},
	{"ip4_options_ihl6_drop", "IHL 6, UDP", PROG_BALANCE, ip4_options1},
	{"ip6_routing_drop", "routing header (43)", PROG_BALANCE, ip6_routing},
	{"ip6_ah_drop", "authentication header (51)", PROG_BALANCE, ip6_ah},
	{"ip6_mobility_drop", "mobility header (135)", PROG_BALANCE,
	 ip6_mobility},
	{"ip6_hip_drop", "host identity protocol (139)", PROG_BALANCE, ip6_hip},
	{"ip6_shim6_drop", "shim6 (140)", PROG_BALANCE, ip6_shim6},
	{"non_vip_vlan_pass", "tagged v6 to another address untouched",
	 PROG_BALANCE, non_vip_vlan},
	{"ip6_ext_non_vip_pass", "extension header to another address",
	 PROG_BALANCE, ip6_ext_non_vip},
	{"tcp_cut_drop", "12-byte TCP header to a VIP", PROG_BALANCE, tcp_cut},
	{"tcp6_cut_drop", "19-byte TCP header to a v6 VIP", PROG_BALANCE,
	 tcp6_cut},
	{"udp_cut_drop", "6-byte UDP header to a VIP", PROG_BALANCE, udp_cut},
	{"tcp_doff4_drop", "TCP data offset 4", PROG_BALANCE, tcp_doff},
	{"tcp_cut_non_vip_pass", "short TCP to another address", PROG_BALANCE,
	 tcp_cut_non_vip},
	{"ip4_tot_len_beyond_drop", "tot_len past the frame", PROG_BALANCE,
	 tot_len_beyond},
	{"ip4_tot_len_beyond_non_vip_pass", "same, another address",
	 PROG_BALANCE, tot_len_beyond_non_vip},
	{"ip4_tot_len_short_drop", "tot_len below the header", PROG_BALANCE,
	 tot_len_short},
	{"ip4_ihl4_drop", "IHL 4", PROG_BALANCE, ihl4},
	{"ip6_payload_len_beyond_drop", "payload_len past the frame",
	 PROG_BALANCE, ip6_len_beyond},
	{0},
};
