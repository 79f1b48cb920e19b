// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Golden cases of the backend side (xlb_decap): every tunnel the balancer
 * sends is taken apart into the inner packet, byte for byte, with the L2
 * header kept and its EtherType set to the inner family; anything that is
 * not a tunnel to one of our addresses passes untouched; a tunnel to us
 * whose inner packet is unusable is dropped.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "golden.h"

#define SELF4	"198.18.1.1" /* decap_addrs */
#define SELF6	"2001:db8:b::1"
#define OTHER4	"198.18.1.99"
#define OTHER6	"2001:db8:b::99"
#define LB4	"198.18.200.5" /* the balancer's outer source */
#define LB6	"2001:db8:ff::5"
#define GUEPORT 6080

static void setup(struct tc *t)
{
	decap_add_addr(t, SELF4);
	decap_add_addr(t, SELF6);
	decap_set_port(t, GUEPORT);
}

/* The inner packet a balancer would have sent on. */
static void inner(struct frame *f, bool v6, bool vlan)
{
	build(f, &(struct pkt){.src = v6 ? CLI6 : CLI4,
			       .dst = v6 ? VIP6 : VIP4,
			       .flags = F_PSH | F_ACK,
			       .tos = 0x28,
			       .payload = 77,
			       .vlan = vlan,
			       .tci = 300});
}

static void tunnel(struct frame *out, const struct frame *in, bool v6,
		   const char *dst, bool gue, __u16 port)
{
	struct outer o = {.v6 = v6,
			  .ttl = 64,
			  .gue = gue,
			  .gue_sport = htons(0xc123),
			  .gue_dport = htons(port),
			  .len_of_frame = true};

	addr_parse(v6 ? LB6 : LB4, &o.src);
	addr_parse(dst, &o.dst);
	wrap(out, in, &o);
}

static void decap_ok(struct tc *t, bool outer6, bool inner6, bool gue,
		     bool vlan, int counter)
{
	struct frame in, f, out;
	__u32 olen = (outer6 ? 40 : 20) + (gue ? 8 : 0);

	setup(t);
	inner(&in, inner6, vlan);
	tunnel(&f, &in, outer6, outer6 ? SELF6 : SELF4, gue, GUEPORT);
	expect_decap(&out, &f, olen);
	/* The decapsulated frame is the inner one (MACs as received). */
	if (out.len != in.len || memcmp(out.d, in.d, in.len))
		fail(t, "test bug: decap of the tunnel is not the inner frame");
	run_step(t, PROG_DECAP,
		 &(struct step){.what = "tunnel",
				.in = &f,
				.action = XDP_PASS,
				.out = &out,
				.verdict = counter,
				.vip_id = -1});
}

static void ipip(struct tc *t)
{
	decap_ok(t, false, false, false, false, XLB_DECAP_IPIP);
}

static void ip6ip6(struct tc *t)
{
	decap_ok(t, true, true, false, false, XLB_DECAP_IP6IP6);
}

static void in4in6(struct tc *t)
{
	decap_ok(t, true, false, false, false, XLB_DECAP_4IN6);
}

static void in6in4(struct tc *t)
{
	decap_ok(t, false, true, false, false, XLB_DECAP_6IN4);
}

static void gue4_inner4(struct tc *t)
{
	decap_ok(t, false, false, true, false, XLB_DECAP_GUE);
}

static void gue4_inner6(struct tc *t)
{
	decap_ok(t, false, true, true, false, XLB_DECAP_GUE);
}

static void gue6_inner4(struct tc *t)
{
	decap_ok(t, true, false, true, false, XLB_DECAP_GUE);
}

static void gue6_inner6(struct tc *t)
{
	decap_ok(t, true, true, true, false, XLB_DECAP_GUE);
}

static void vlan_ipip(struct tc *t)
{
	decap_ok(t, false, false, false, true, XLB_DECAP_IPIP);
}

static void vlan_gue6(struct tc *t)
{
	decap_ok(t, true, true, true, true, XLB_DECAP_GUE);
}

static void run_decap(struct tc *t, const struct frame *f, __u32 action,
		      int counter)
{
	run_step(t, PROG_DECAP,
		 &(struct step){.what = "frame",
				.in = f,
				.action = action,
				.verdict = counter,
				.vip_id = -1});
}

static void pass_tunnel(struct tc *t, bool outer6, const char *dst, bool gue,
			__u16 port)
{
	struct frame in, f;

	setup(t);
	inner(&in, false, false);
	tunnel(&f, &in, outer6, dst, gue, port);
	run_decap(t, &f, XDP_PASS, XLB_DECAP_PASS);
}

static void not_ours4(struct tc *t)
{
	pass_tunnel(t, false, OTHER4, false, 0);
}

static void not_ours6_gue(struct tc *t)
{
	pass_tunnel(t, true, OTHER6, true, GUEPORT);
}

static void other_port(struct tc *t)
{
	pass_tunnel(t, false, SELF4, true, GUEPORT + 1);
}

static void port_zero(struct tc *t)
{
	struct frame in, f;

	setup(t);
	decap_set_port(t, 0);
	inner(&in, false, false);
	tunnel(&f, &in, false, SELF4, true, GUEPORT);
	run_decap(t, &f, XDP_PASS, XLB_DECAP_PASS);
	/* Nor is UDP to port 0 taken for GUE. */
	tunnel(&f, &in, true, SELF6, true, 0);
	run_decap(t, &f, XDP_PASS, XLB_DECAP_PASS);
}

static void plain_tcp(struct tc *t)
{
	struct frame f;

	setup(t);
	build(&f, &(struct pkt){.src = CLI4, .dst = SELF4, .flags = F_SYN});
	run_decap(t, &f, XDP_PASS, XLB_DECAP_PASS);
	build(&f, &(struct pkt){.src = CLI6,
				.dst = SELF6,
				.proto = UDP,
				.dport = 53,
				.payload = 12});
	run_decap(t, &f, XDP_PASS, XLB_DECAP_PASS);
}

static void arp(struct tc *t)
{
	struct frame f;

	setup(t);
	build(&f, &(struct pkt){.ethertype = 0x0806});
	run_decap(t, &f, XDP_PASS, XLB_DECAP_PASS);
}

static void fragment(struct tc *t)
{
	struct outer o = {.ttl = 64, .frag_off = 0x2000, .len_of_frame = true};
	struct frame in, f;

	setup(t);
	inner(&in, false, false);
	addr_parse(LB4, &o.src);
	addr_parse(SELF4, &o.dst);
	wrap(&f, &in, &o);
	run_decap(t, &f, XDP_PASS, XLB_DECAP_PASS);
}

/*
 * The host's addresses change while the program runs: each change puts a
 * whole new table in force, and the old addresses stop, the new start.
 */
static void addr_change(struct tc *t)
{
	struct frame in, f, out;

	setup(t);
	inner(&in, false, false);
	decap_add_addr(t, OTHER4);
	decap_del_addr(t, SELF4);
	tunnel(&f, &in, false, SELF4, false, 0);
	run_decap(t, &f, XDP_PASS, XLB_DECAP_PASS);
	tunnel(&f, &in, false, OTHER4, false, 0);
	expect_decap(&out, &f, 20);
	run_step(t, PROG_DECAP,
		 &(struct step){.what = "tunnel to the new address",
				.in = &f,
				.action = XDP_PASS,
				.out = &out,
				.verdict = XLB_DECAP_IPIP,
				.vip_id = -1});
	/* The other family's address stayed through both changes. */
	tunnel(&f, &in, true, SELF6, false, 0);
	expect_decap(&out, &f, 40);
	run_step(t, PROG_DECAP,
		 &(struct step){.what = "tunnel to the kept address",
				.in = &f,
				.action = XDP_PASS,
				.out = &out,
				.verdict = XLB_DECAP_4IN6,
				.vip_id = -1});
}

/* As many addresses as the table holds, each of them accepted. */
static void many_addrs(struct tc *t)
{
	struct frame in, f, out;
	char a[INET6_ADDRSTRLEN];

	setup(t);
	inner(&in, false, false);
	for (int i = 2; i < XLB_MAX_DECAP_ADDRS; i++) {
		snprintf(a, sizeof(a), i & 1 ? "198.18.%d.1" : "2001:db8:%x::1",
			 i);
		decap_add_addr(t, a);
	}
	for (int i = 2; i < XLB_MAX_DECAP_ADDRS; i += 7) {
		snprintf(a, sizeof(a), i & 1 ? "198.18.%d.1" : "2001:db8:%x::1",
			 i);
		tunnel(&f, &in, !(i & 1), a, false, 0);
		expect_decap(&out, &f, i & 1 ? 20 : 40);
		run_step(t, PROG_DECAP,
			 &(struct step){.what = a,
					.in = &f,
					.action = XDP_PASS,
					.out = &out,
					.verdict = i & 1 ? XLB_DECAP_IPIP
							 : XLB_DECAP_4IN6,
					.vip_id = -1});
	}
	tunnel(&f, &in, false, OTHER4, false, 0);
	run_decap(t, &f, XDP_PASS, XLB_DECAP_PASS);
}

/*
 * Three addresses that differ only in the top bit of some of their 32-bit
 * words (as read in memory): a hash of products alone puts them in one
 * bucket under every multiplier, so no table could hold them.
 */
static void alike_addrs(struct tc *t)
{
	static const char *const alike[] = {
		"2001:db8:b::1", /* SELF6 */
		"2001:d38:b::80:0:1",
		"2001:db8:b:80::81",
	};
	struct frame in, f, out;

	setup(t);
	inner(&in, true, false);
	for (unsigned int i = 1; i < sizeof(alike) / sizeof(alike[0]); i++)
		decap_add_addr(t, alike[i]);
	for (unsigned int i = 0; i < sizeof(alike) / sizeof(alike[0]); i++) {
		tunnel(&f, &in, true, alike[i], false, 0);
		expect_decap(&out, &f, 40);
		run_step(t, PROG_DECAP,
			 &(struct step){.what = alike[i],
					.in = &f,
					.action = XDP_PASS,
					.out = &out,
					.verdict = XLB_DECAP_IP6IP6,
					.vip_id = -1});
	}
}

/* A tunnel to us whose inner packet is cut to `keep` bytes. */
static void short_inner(struct tc *t, bool outer6, bool inner6, bool gue,
			__u32 keep)
{
	struct frame in, f;

	setup(t);
	inner(&in, inner6, false);
	in.len = in.l2 + keep;
	tunnel(&f, &in, outer6, outer6 ? SELF6 : SELF4, gue, GUEPORT);
	run_decap(t, &f, XDP_DROP, XLB_DECAP_DROP_MALFORMED);
}

static void ipip_short(struct tc *t)
{
	short_inner(t, false, false, false, 10);
}

static void ip6ip6_short(struct tc *t)
{
	short_inner(t, true, true, false, 30);
}

static void gue_short(struct tc *t)
{
	short_inner(t, false, false, true, 12);
}

static void gue_nibble(struct tc *t, __u8 first)
{
	struct frame in, f;

	setup(t);
	inner(&in, false, false);
	in.d[in.l2] = first;
	tunnel(&f, &in, false, SELF4, true, GUEPORT);
	run_decap(t, &f, XDP_DROP, XLB_DECAP_DROP_MALFORMED);
}

static void gue_nibble5(struct tc *t)
{
	gue_nibble(t, 0x55);
}

static void gue_nibble0(struct tc *t)
{
	/* A GUE variant 0 header: not what the balancer sends. */
	gue_nibble(t, 0x05);
}

const struct golden_case cases_decap[] = {
	{"decap_ipip", "4 in 4", PROG_DECAP, ipip},
	{"decap_ip6ip6", "6 in 6", PROG_DECAP, ip6ip6},
	{"decap_4in6", "4 in 6", PROG_DECAP, in4in6},
	{"decap_6in4", "6 in 4", PROG_DECAP, in6in4},
	{"decap_gue4_inner4", "GUE over v4, inner v4", PROG_DECAP, gue4_inner4},
	{"decap_gue4_inner6", "GUE over v4, inner v6", PROG_DECAP, gue4_inner6},
	{"decap_gue6_inner4", "GUE over v6, inner v4", PROG_DECAP, gue6_inner4},
	{"decap_gue6_inner6", "GUE over v6, inner v6", PROG_DECAP, gue6_inner6},
	{"decap_vlan_ipip", "tag kept", PROG_DECAP, vlan_ipip},
	{"decap_vlan_gue6", "tag kept, GUE over v6", PROG_DECAP, vlan_gue6},
	{"decap_not_ours_pass", "IPIP to another address", PROG_DECAP,
	 not_ours4},
	{"decap_not_ours6_gue_pass", "GUE to another v6 address", PROG_DECAP,
	 not_ours6_gue},
	{"decap_other_port_pass", "UDP to another port", PROG_DECAP,
	 other_port},
	{"decap_gue_port_zero_pass", "GUE not configured", PROG_DECAP,
	 port_zero},
	{"decap_plain_pass", "TCP and UDP to us", PROG_DECAP, plain_tcp},
	{"decap_arp_pass", "ARP", PROG_DECAP, arp},
	{"decap_fragment_pass", "fragment of a tunnel", PROG_DECAP, fragment},
	{"decap_addr_change", "addresses changed at run time", PROG_DECAP,
	 addr_change},
	{"decap_many_addrs", "a full table of addresses", PROG_DECAP,
	 many_addrs},
	{"decap_alike_addrs", "addresses a product hash cannot part",
	 PROG_DECAP, alike_addrs},
	{"decap_ipip_short_drop", "inner IPv4 of 10 bytes", PROG_DECAP,
	 ipip_short},
	{"decap_ip6ip6_short_drop", "inner IPv6 of 30 bytes", PROG_DECAP,
	 ip6ip6_short},
	{"decap_gue_short_drop", "GUE inner of 12 bytes", PROG_DECAP,
	 gue_short},
	{"decap_gue_nibble5_drop", "GUE payload version 5", PROG_DECAP,
	 gue_nibble5},
	{"decap_gue_nibble0_drop", "GUE payload version 0", PROG_DECAP,
	 gue_nibble0},
	{0},
};
