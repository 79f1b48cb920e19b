// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Golden cases of the rules the data path keeps for hard packets (issue 8,
 * found by fuzzing): the IP version nibble agrees with the EtherType, the
 * UDP length and the TCP data offset stay inside the IP packet, ICMP is
 * read only inside the IP packet, bytes after the IP packet are not
 * carried into the tunnel, frames leave from the interface's own MAC,
 * ICMP is never sent to an unspecified, multicast, broadcast or loopback
 * source, and an echo request must carry a valid checksum. Rule 8 (an
 * ICMP error about a flow obeys the MTU too) is in cases_icmp.c, beside
 * the other "too big" cases.
 */
#include <stdlib.h>
#include <string.h>
#include "golden.h"

#define NONVIP4 "198.19.5.5"

/*
 * VIP4 and VIP6 :80/tcp and :53/udp with rings (v4 backends for v4 VIPs,
 * v6 for v6), the interface MAC in config when if_mac.
 */
static void setup(struct tc *t, bool if_mac)
{
	struct xlb_config c = base_config();

	if (if_mac)
		memcpy(c.src_mac, MAC_IF, 6);
	set_config(t, &c);
	std_vip(t, VIP4, 80, TCP, 1, 0, 13, false);
	std_vip(t, VIP6, 80, TCP, 2, 0, 13, true);
	add_vip(t, VIP4, 53, UDP, 3, 0, 17, XLB_ENCAP_DEFAULT);
	ring_distinct(t, 3, 17, 3001, false);
	add_vip(t, VIP6, 53, UDP, 4, 0, 17, XLB_ENCAP_DEFAULT);
	ring_distinct(t, 4, 17, 4001, true);
	set_filter_bit(t, NONVIP4);
}

static struct frame *malloc_frame(void)
{
	struct frame *f = malloc(sizeof(*f));

	if (!f)
		abort();
	return f;
}

static __u8 *ip_of(struct frame *f)
{
	return f->d + f->l2;
}

static __u8 *l4_of(struct frame *f)
{
	__u8 *ip = ip_of(f);

	return frame_is_v6(f) ? ip + 40 : ip + (ip[0] & 0xf) * 4;
}

/* Recomputes the IPv4 header checksum after a test changed the header. */
static void ip4_fix(struct frame *f)
{
	__u8 *ip = ip_of(f);
	__u16 c;

	ip[10] = ip[11] = 0;
	c = csum_fold16(csum_add(0, ip, 20));
	ip[10] = c >> 8;
	ip[11] = c & 0xff;
}

static void drop_frame(struct tc *t, const struct frame *f, int verdict)
{
	expect_drop(t, "packet", f, verdict, 0);
}

/* ---- rule 1: the version nibble ---- */

static void version(struct tc *t, bool v6, __u8 ver, const char *dst,
		    int verdict)
{
	struct frame f;
	__u8 *ip;

	setup(t, false);
	build(&f, &(struct pkt){
			  .src = v6 ? CLI6 : CLI4, .dst = dst, .flags = F_SYN});
	ip = ip_of(&f);
	ip[0] = (ver << 4) | (ip[0] & 0xf);
	if (!v6)
		ip4_fix(&f);
	if (verdict == XLB_CNT_PASS_NON_VIP)
		expect_pass(t, "packet", &f, verdict);
	else
		drop_frame(t, &f, verdict);
}

static void ip4_version0(struct tc *t)
{
	version(t, false, 0, VIP4, XLB_CNT_DROP_IP_VERSION);
}

static void ip4_version6(struct tc *t)
{
	version(t, false, 6, VIP4, XLB_CNT_DROP_IP_VERSION);
}

static void ip6_version4(struct tc *t)
{
	version(t, true, 4, VIP6, XLB_CNT_DROP_IP_VERSION);
}

static void ip4_version0_non_vip(struct tc *t)
{
	version(t, false, 0, NONVIP4, XLB_CNT_PASS_NON_VIP);
}

/* ---- rule 2: the UDP length ---- */

static void udp_len(struct tc *t, bool v6, int len_delta, bool ok)
{
	struct pkt p = {.src = v6 ? CLI6 : CLI4,
			.dst = v6 ? VIP6 : VIP4,
			.proto = UDP,
			.dport = 53,
			.payload = 20};
	struct xlb_flow_key k = pkt_key(&p);
	struct frame f;
	__u8 *uh;
	int len;

	setup(t, false);
	build(&f, &p);
	uh = l4_of(&f);
	len = 8 + 20 + len_delta;
	uh[4] = len >> 8;
	uh[5] = len & 0xff;
	if (ok)
		tx_ring_frame(t, "udp", &f, &k,
			      EV(FLOW_MISS) | EV(FLOW_INSERT));
	else
		drop_frame(t, &f, XLB_CNT_DROP_MALFORMED);
}

static void udp4_len0(struct tc *t)
{
	udp_len(t, false, -28, false);
}

static void udp4_len7(struct tc *t)
{
	udp_len(t, false, -21, false);
}

static void udp4_len_beyond(struct tc *t)
{
	udp_len(t, false, 1, false);
}

static void udp6_len_beyond(struct tc *t)
{
	udp_len(t, true, 100, false);
}

static void udp4_len8_inside(struct tc *t)
{
	/* A datagram shorter than the IP payload is legal (RFC 768). */
	udp_len(t, false, -20, true);
}

/* ---- rule 3: the TCP data offset ---- */

static void tcp_doff(struct tc *t, bool v6, __u8 doff, __u32 payload,
		     __u32 trailer, bool ok)
{
	struct pkt p = {.src = v6 ? CLI6 : CLI4,
			.dst = v6 ? VIP6 : VIP4,
			.flags = F_SYN,
			.doff = doff,
			.payload = payload,
			.trailer = trailer};
	struct xlb_flow_key k = pkt_key(&p);
	struct frame f;

	setup(t, false);
	build(&f, &p);
	if (ok)
		tx_ring_frame(t, "tcp", &f, &k, EV(FLOW_INSERT));
	else
		drop_frame(t, &f, XLB_CNT_DROP_MALFORMED);
}

static void tcp4_doff15(struct tc *t)
{
	tcp_doff(t, false, 15, 0, 0, false);
}

static void tcp6_doff6(struct tc *t)
{
	tcp_doff(t, true, 6, 3, 0, false);
}

static void tcp4_doff_in_padding(struct tc *t)
{
	/* The options would end in the L2 padding, past the IP length. */
	tcp_doff(t, false, 8, 4, 8, false);
}

static void tcp4_doff8_fits(struct tc *t)
{
	tcp_doff(t, false, 8, 12, 0, true);
}

/* ---- rule 4: ICMP only inside the IP packet ---- */

static void echo_in_padding(struct tc *t, bool v6)
{
	struct frame f;

	setup(t, false);
	/* IP length leaves 4 ICMP bytes; the frame is padded to 60+. */
	build(&f, &(struct pkt){.src = v6 ? CLI6 : CLI4,
				.dst = v6 ? VIP6 : VIP4,
				.proto = v6 ? ICMP6 : ICMP,
				.icmp_type = v6 ? 128 : 8,
				.len_delta = -4,
				.trailer = 22});
	drop_frame(t, &f, XLB_CNT_DROP_MALFORMED);
}

static void echo4_in_padding(struct tc *t)
{
	echo_in_padding(t, false);
}

static void echo6_in_padding(struct tc *t)
{
	echo_in_padding(t, true);
}

/* ---- rule 5: exactly the IP packet into the tunnel ---- */

static void trimmed(struct tc *t, bool v6, bool vlan, __u32 trailer,
		    __u32 payload, bool gue)
{
	struct xlb_config c;

	setup(t, false);
	c = t->cfg;
	c.encap = gue ? XLB_ENCAP_GUE : XLB_ENCAP_IPIP;
	set_config(t, &c);
	tx_ring(t, "padded",
		&(struct pkt){.src = v6 ? CLI6 : CLI4,
			      .dst = v6 ? VIP6 : VIP4,
			      .flags = F_SYN,
			      .frag_off = 0x4000,
			      .vlan = vlan,
			      .tci = 5,
			      .payload = payload,
			      .trailer = trailer},
		EV(FLOW_INSERT));
}

static void trim6_gue_vlan(struct tc *t)
{
	trimmed(t, true, true, 21, 10, true);
}

static void trim4_at_mtu(struct tc *t)
{
	/* 1480 + 20 outer = MTU 1500 exactly: 30 bytes more would not fit. */
	trimmed(t, false, false, 30, 1480 - 40, false);
}

/* ---- rule 6: frames leave from the interface's MAC ---- */

static const __u8 MAC_BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const __u8 MAC_MCAST[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x09};

static void mac_encap(struct tc *t, const __u8 *dst, bool vlan, bool gue)
{
	struct pkt p = {.src = CLI4,
			.dst = VIP4,
			.flags = F_SYN,
			.vlan = vlan,
			.tci = 3};
	struct xlb_flow_key k = pkt_key(&p);
	struct xlb_config c;
	struct frame f;

	setup(t, true);
	c = t->cfg;
	c.encap = gue ? XLB_ENCAP_GUE : XLB_ENCAP_IPIP;
	set_config(t, &c);
	build(&f, &p);
	memcpy(f.d, dst, 6);
	tx_ring_frame(t, "to a group MAC", &f, &k, EV(FLOW_INSERT));
}

static void mac_encap_bcast(struct tc *t)
{
	mac_encap(t, MAC_BCAST, false, false);
}

static void mac_encap_mcast_vlan_gue(struct tc *t)
{
	mac_encap(t, MAC_MCAST, true, true);
}

static void mac_encap_unicast(struct tc *t)
{
	/* Even to our own MAC: config's wins (they agree on a sane host). */
	mac_encap(t, MAC_SELF, false, false);
}

static void mac_echo(struct tc *t, bool v6)
{
	struct frame f;

	setup(t, true);
	build(&f, &(struct pkt){.src = v6 ? CLI6 : CLI4,
				.dst = v6 ? VIP6 : VIP4,
				.proto = v6 ? ICMP6 : ICMP,
				.icmp_type = v6 ? 128 : 8,
				.payload = 16});
	memcpy(f.d, MAC_BCAST, 6);
	expect_echo_tx(t, "echo", &f);
}

static void mac_echo4(struct tc *t)
{
	mac_echo(t, false);
}

static void mac_echo6(struct tc *t)
{
	mac_echo(t, true);
}

static void mac_too_big(struct tc *t)
{
	struct pkt p = {.src = CLI4,
			.dst = VIP4,
			.frag_off = 0x4000,
			.payload = 1500 - 40};
	struct frame *f = malloc_frame(), *out = malloc_frame();

	setup(t, true);
	build(f, &p);
	memcpy(f->d, MAC_MCAST, 6);
	expect_too_big(out, f, &t->cfg, 1500 - 20);
	run_step(t, PROG_BALANCE,
		 &(struct step){.what = "too big",
				.in = f,
				.action = XDP_TX,
				.out = out,
				.verdict = XLB_CNT_TX_ICMP_TOO_BIG,
				.events = EV(FLOW_MISS) | EV(FLOW_INSERT),
				.vip_id = -1});
	free(f);
	free(out);
}

/* ---- rule 7: no ICMP to a source that is no single host ---- */

static void echo_from(struct tc *t, const char *src)
{
	bool v6 = strchr(src, ':') != NULL;
	struct frame f;

	setup(t, false);
	build(&f, &(struct pkt){.src = src,
				.dst = v6 ? VIP6 : VIP4,
				.proto = v6 ? ICMP6 : ICMP,
				.icmp_type = v6 ? 128 : 8,
				.payload = 8});
	drop_frame(t, &f, XLB_CNT_DROP_ICMP_SRC);
}

static void echo4_from_zero(struct tc *t)
{
	echo_from(t, "0.0.0.0");
}

static void echo4_from_bcast(struct tc *t)
{
	echo_from(t, "255.255.255.255");
}

static void echo4_from_mcast(struct tc *t)
{
	echo_from(t, "224.0.0.9");
}

static void echo4_from_loopback(struct tc *t)
{
	echo_from(t, "127.0.0.1");
}

static void echo4_from_class_e(struct tc *t)
{
	echo_from(t, "240.0.0.1");
}

static void echo6_from_unspec(struct tc *t)
{
	echo_from(t, "::");
}

static void echo6_from_mcast(struct tc *t)
{
	echo_from(t, "ff02::1");
}

static void echo6_from_loopback(struct tc *t)
{
	echo_from(t, "::1");
}

static void too_big_from(struct tc *t, const char *src)
{
	bool v6 = strchr(src, ':') != NULL;
	struct frame *f = malloc_frame();

	setup(t, false);
	build(f, &(struct pkt){.src = src,
			       .dst = v6 ? VIP6 : VIP4,
			       .frag_off = 0x4000,
			       .payload = 1500});
	expect_drop(t, "too big", f, XLB_CNT_DROP_ICMP_SRC,
		    EV(FLOW_MISS) | EV(FLOW_INSERT));
	free(f);
}

static void too_big4_from_mcast(struct tc *t)
{
	too_big_from(t, "224.0.0.9");
}

static void too_big6_from_mcast(struct tc *t)
{
	too_big_from(t, "ff02::1");
}

/* ---- rule 9: the echo request's checksum ---- */

static void echo_csum(struct tc *t, bool v6, __u32 payload, int flip)
{
	struct frame f;

	setup(t, false);
	build(&f, &(struct pkt){.src = v6 ? CLI6 : CLI4,
				.dst = v6 ? VIP6 : VIP4,
				.proto = v6 ? ICMP6 : ICMP,
				.icmp_type = v6 ? 128 : 8,
				.payload = payload});
	if (flip >= 0) {
		l4_of(&f)[flip] ^= 0x01;
		drop_frame(t, &f, XLB_CNT_DROP_ICMP_CSUM);
		return;
	}
	expect_echo_tx(t, "echo", &f);
}

static void echo4_bad_csum(struct tc *t)
{
	echo_csum(t, false, 56, 2);
}

static void echo4_bad_payload(struct tc *t)
{
	/* The last byte of an odd-length payload. */
	echo_csum(t, false, 57, 8 + 56);
}

static void echo6_bad_csum(struct tc *t)
{
	echo_csum(t, true, 56, 3);
}

static void echo6_bad_payload(struct tc *t)
{
	/* Deep in a long message: the sum covers it all. */
	echo_csum(t, true, 1400, 8 + 1000);
}

static void echo4_odd_ok(struct tc *t)
{
	echo_csum(t, false, 301, -1);
}

static void echo6_long_ok(struct tc *t)
{
	echo_csum(t, true, 1403, -1);
}

static void echo6_pseudo_header(struct tc *t)
{
	struct frame f;
	__u8 *ic;
	__u16 c;

	/* A checksum right without the pseudo-header is wrong for ICMPv6. */
	setup(t, false);
	build(&f, &(struct pkt){.src = CLI6,
				.dst = VIP6,
				.proto = ICMP6,
				.icmp_type = 128,
				.payload = 20});
	ic = l4_of(&f);
	ic[2] = ic[3] = 0;
	c = csum_fold16(csum_add(0, ic, 28));
	ic[2] = c >> 8;
	ic[3] = c & 0xff;
	drop_frame(t, &f, XLB_CNT_DROP_ICMP_CSUM);
}

const struct golden_case cases_rules[] = {
	{"rule_ip4_version0_drop", "EtherType IPv4, version 0", PROG_BALANCE,
	 ip4_version0},
	{"rule_ip4_version6_drop", "EtherType IPv4, version 6", PROG_BALANCE,
	 ip4_version6},
	{"rule_ip6_version4_drop", "EtherType IPv6, version 4", PROG_BALANCE,
	 ip6_version4},
	{"rule_ip4_version0_non_vip_pass", "same to another address: passed",
	 PROG_BALANCE, ip4_version0_non_vip},
	{"rule_udp4_len0_drop", "UDP length 0", PROG_BALANCE, udp4_len0},
	{"rule_udp4_len7_drop", "UDP length 7", PROG_BALANCE, udp4_len7},
	{"rule_udp4_len_beyond_drop", "UDP length past the IP payload",
	 PROG_BALANCE, udp4_len_beyond},
	{"rule_udp6_len_beyond_drop", "same, IPv6", PROG_BALANCE,
	 udp6_len_beyond},
	{"rule_udp4_len8_inside_forwarded", "UDP length < IP payload: legal",
	 PROG_BALANCE, udp4_len8_inside},
	{"rule_tcp4_doff15_drop", "data offset 60 in a 20-byte segment",
	 PROG_BALANCE, tcp4_doff15},
	{"rule_tcp6_doff6_drop", "data offset 24 in a 23-byte segment",
	 PROG_BALANCE, tcp6_doff6},
	{"rule_tcp4_doff_in_padding_drop", "options end in the L2 padding",
	 PROG_BALANCE, tcp4_doff_in_padding},
	{"rule_tcp4_doff8_forwarded", "data offset 32, 32 bytes there",
	 PROG_BALANCE, tcp4_doff8_fits},
	{"rule_echo4_in_padding_drop", "ICMP header ends in the padding",
	 PROG_BALANCE, echo4_in_padding},
	{"rule_echo6_in_padding_drop", "ICMPv6 header ends in the padding",
	 PROG_BALANCE, echo6_in_padding},
	{"rule_trim6_gue_vlan", "tagged v6 GUE: padding not carried",
	 PROG_BALANCE, trim6_gue_vlan},
	{"rule_trim4_at_mtu", "MTU-sized packet + padding still fits",
	 PROG_BALANCE, trim4_at_mtu},
	{"rule_mac_encap_bcast", "to ff:ff..: sent from the interface MAC",
	 PROG_BALANCE, mac_encap_bcast},
	{"rule_mac_encap_mcast_vlan_gue", "to a multicast MAC, tagged, GUE",
	 PROG_BALANCE, mac_encap_mcast_vlan_gue},
	{"rule_mac_encap_unicast", "config's MAC also for unicast",
	 PROG_BALANCE, mac_encap_unicast},
	{"rule_mac_echo4", "echo reply from the interface MAC", PROG_BALANCE,
	 mac_echo4},
	{"rule_mac_echo6", "ICMPv6 echo reply from the interface MAC",
	 PROG_BALANCE, mac_echo6},
	{"rule_mac_too_big", "ICMP error from the interface MAC", PROG_BALANCE,
	 mac_too_big},
	{"rule_echo4_from_zero_drop", "echo from 0.0.0.0", PROG_BALANCE,
	 echo4_from_zero},
	{"rule_echo4_from_bcast_drop", "echo from 255.255.255.255",
	 PROG_BALANCE, echo4_from_bcast},
	{"rule_echo4_from_mcast_drop", "echo from 224.0.0.9", PROG_BALANCE,
	 echo4_from_mcast},
	{"rule_echo4_from_loopback_drop", "echo from 127.0.0.1", PROG_BALANCE,
	 echo4_from_loopback},
	{"rule_echo4_from_class_e_drop", "echo from 240.0.0.1", PROG_BALANCE,
	 echo4_from_class_e},
	{"rule_echo6_from_unspec_drop", "echo from ::", PROG_BALANCE,
	 echo6_from_unspec},
	{"rule_echo6_from_mcast_drop", "echo from ff02::1", PROG_BALANCE,
	 echo6_from_mcast},
	{"rule_echo6_from_loopback_drop", "echo from ::1", PROG_BALANCE,
	 echo6_from_loopback},
	{"rule_too_big4_from_mcast_drop", "no frag-needed to 224.0.0.9",
	 PROG_BALANCE, too_big4_from_mcast},
	{"rule_too_big6_from_mcast_drop", "no packet-too-big to ff02::1",
	 PROG_BALANCE, too_big6_from_mcast},
	{"rule_echo4_bad_csum_drop", "checksum field off by one bit",
	 PROG_BALANCE, echo4_bad_csum},
	{"rule_echo4_bad_odd_byte_drop", "last byte of an odd payload changed",
	 PROG_BALANCE, echo4_bad_payload},
	{"rule_echo6_bad_csum_drop", "ICMPv6 checksum off by one bit",
	 PROG_BALANCE, echo6_bad_csum},
	{"rule_echo6_bad_deep_byte_drop", "byte 1008 of 1408 changed",
	 PROG_BALANCE, echo6_bad_payload},
	{"rule_echo6_no_pseudo_header_drop", "sum without pseudo-header",
	 PROG_BALANCE, echo6_pseudo_header},
	{"rule_echo4_odd_length_answered", "309-byte message, valid",
	 PROG_BALANCE, echo4_odd_ok},
	{"rule_echo6_long_answered", "1411-byte message, valid", PROG_BALANCE,
	 echo6_long_ok},
	{0},
};
