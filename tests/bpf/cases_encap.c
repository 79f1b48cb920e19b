// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Golden cases of encapsulation (rule 8): every family combination of IP in
 * IP, GUE over both families with both inner families, VLAN tags, per-VIP
 * encapsulation overriding the default, the outer source taken from the
 * flow hash inside its prefix, and DSCP/ECN copied to the outer header.
 */
#include <arpa/inet.h>
#include <string.h>
#include "golden.h"

/* One VIP of the family of vip, backends of be_v6's, one packet. */
static void one(struct tc *t, const char *vip, bool be_v6, __u8 encap,
		const struct pkt *p, __u64 events)
{
	struct xlb_config c = base_config();
	struct xlb_flow_key k = pkt_key(p);
	__u64 t0 = now_ns(), t1;
	struct xlb_flow v;
	__u32 be;

	c.encap = encap;
	set_config(t, &c);
	std_vip(t, vip, p->dport ? p->dport : 80, p->proto ? p->proto : TCP, 1,
		0, 13, be_v6);
	be = tx_ring(t, "packet", p, events);
	t1 = now_ns();
	if (!(events & (EV(FLOW_INSERT))))
		return;
	expect_flow(t, &k, be);
	if (!get_flow(t, &k, &v))
		return;
	if (v.vip_id != 1)
		fail(t, "inserted vip_id %u, expected 1", v.vip_id);
	/* Every entry carries its stamp: UDP expiry, eviction's age. */
	if (xlb_flow_stamp(v.last_seen_ns) < xlb_flow_stamp(t0) ||
	    xlb_flow_stamp(v.last_seen_ns) > xlb_flow_stamp(t1))
		fail(t, "inserted last_seen_ns %llu not in [%llu, %llu]",
		     (unsigned long long)v.last_seen_ns, (unsigned long long)t0,
		     (unsigned long long)t1);
}

#define SYN_EV	(EV(FLOW_INSERT))
#define MISS_EV (EV(FLOW_MISS) | EV(FLOW_INSERT))

static void tcp4_ipip(struct tc *t)
{
	one(t, VIP4, false, XLB_ENCAP_IPIP,
	    &(struct pkt){.src = CLI4, .dst = VIP4, .flags = F_SYN}, SYN_EV);
}

static void udp4_ipip(struct tc *t)
{
	one(t, VIP4, false, XLB_ENCAP_IPIP,
	    &(struct pkt){.src = CLI4,
			  .dst = VIP4,
			  .proto = UDP,
			  .dport = 53,
			  .payload = 32},
	    MISS_EV);
}

static void tcp6_ip6ip6(struct tc *t)
{
	one(t, VIP6, true, XLB_ENCAP_IPIP,
	    &(struct pkt){.src = CLI6,
			  .dst = VIP6,
			  .dport = 443,
			  .flags = F_SYN,
			  .payload = 10},
	    SYN_EV);
}

static void udp6_ip6ip6(struct tc *t)
{
	one(t, VIP6, true, XLB_ENCAP_IPIP,
	    &(struct pkt){.src = CLI6,
			  .dst = VIP6,
			  .proto = UDP,
			  .dport = 53,
			  .payload = 100},
	    MISS_EV);
}

static void tcp4_4in6(struct tc *t)
{
	one(t, VIP4, true, XLB_ENCAP_IPIP,
	    &(struct pkt){.src = CLI4, .dst = VIP4, .payload = 20}, MISS_EV);
}

static void udp4_4in6(struct tc *t)
{
	one(t, VIP4, true, XLB_ENCAP_IPIP,
	    &(struct pkt){.src = CLI4B,
			  .dst = VIP4,
			  .proto = UDP,
			  .sport = 5353,
			  .dport = 5353,
			  .payload = 3},
	    MISS_EV);
}

static void tcp6_6in4(struct tc *t)
{
	one(t, VIP6, false, XLB_ENCAP_IPIP,
	    &(struct pkt){.src = CLI6, .dst = VIP6, .flags = F_SYN}, SYN_EV);
}

static void udp6_6in4(struct tc *t)
{
	one(t, VIP6, false, XLB_ENCAP_IPIP,
	    &(struct pkt){.src = CLI6B,
			  .dst = VIP6,
			  .proto = UDP,
			  .dport = 4500,
			  .payload = 64},
	    MISS_EV);
}

static void gue4_inner4(struct tc *t)
{
	one(t, VIP4, false, XLB_ENCAP_GUE,
	    &(struct pkt){.src = CLI4, .dst = VIP4, .flags = F_SYN}, SYN_EV);
}

static void gue4_inner6(struct tc *t)
{
	one(t, VIP6, false, XLB_ENCAP_GUE,
	    &(struct pkt){.src = CLI6,
			  .dst = VIP6,
			  .proto = UDP,
			  .dport = 443,
			  .payload = 40},
	    MISS_EV);
}

static void gue6_inner6(struct tc *t)
{
	one(t, VIP6, true, XLB_ENCAP_GUE,
	    &(struct pkt){.src = CLI6, .dst = VIP6, .flags = F_SYN}, SYN_EV);
}

static void gue6_inner4(struct tc *t)
{
	one(t, VIP4, true, XLB_ENCAP_GUE,
	    &(struct pkt){.src = CLI4,
			  .dst = VIP4,
			  .proto = UDP,
			  .dport = 443,
			  .payload = 17},
	    MISS_EV);
}

static void vlan_ipip(struct tc *t)
{
	one(t, VIP4, false, XLB_ENCAP_IPIP,
	    &(struct pkt){.src = CLI4,
			  .dst = VIP4,
			  .flags = F_SYN,
			  .vlan = true,
			  .tci = 100},
	    SYN_EV);
}

static void vlan_gue6(struct tc *t)
{
	one(t, VIP6, true, XLB_ENCAP_GUE,
	    &(struct pkt){.src = CLI6,
			  .dst = VIP6,
			  .flags = F_SYN,
			  .vlan = true,
			  .tci = 0x2123},
	    SYN_EV);
}

static void vlan_8021ad_4in6(struct tc *t)
{
	one(t, VIP4, true, XLB_ENCAP_IPIP,
	    &(struct pkt){.src = CLI4,
			  .dst = VIP4,
			  .flags = F_SYN,
			  .vlan = true,
			  .tpid = 0x88a8,
			  .tci = 7},
	    SYN_EV);
}

static void trailer_trimmed(struct tc *t)
{
	/* 54-byte SYN padded to the 60-byte minimum: the padding stays out. */
	one(t, VIP4, false, XLB_ENCAP_IPIP,
	    &(struct pkt){
		    .src = CLI4, .dst = VIP4, .flags = F_SYN, .trailer = 6},
	    SYN_EV);
}

/* The VIP's own encapsulation wins over the default, both ways. */
static void vip_encap(struct tc *t, __u8 dflt, __u8 mine)
{
	struct xlb_config c = base_config();
	struct pkt p = {
		.src = CLI4, .dst = VIP4, .dport = 8080, .flags = F_SYN};

	c.encap = dflt;
	set_config(t, &c);
	add_vip_addr(t, VIP4);
	add_vip(t, VIP4, 8080, TCP, 2, 0, 17, mine);
	ring_distinct(t, 2, 17, 1, false);
	tx_ring(t, "packet", &p, SYN_EV);
}

static void vip_gue_over_ipip(struct tc *t)
{
	vip_encap(t, XLB_ENCAP_IPIP, XLB_ENCAP_GUE);
}

static void vip_ipip_over_gue(struct tc *t)
{
	vip_encap(t, XLB_ENCAP_GUE, XLB_ENCAP_IPIP);
}

/* Outer source prefixes: the expected source is computed, then pinned. */
static void src_prefix(struct tc *t, bool v6, const char *prefix, __u8 plen,
		       const char *want_fixed)
{
	struct xlb_config c = base_config();
	struct pkt p = {.src = v6 ? CLI6 : CLI4,
			.dst = v6 ? VIP6 : VIP4,
			.flags = F_SYN};
	struct xlb_flow_key k = pkt_key(&p);
	union xlb_addr a = A(prefix), got;
	__u32 host = v6 ? (plen > 96 ? 128 - plen : 32) : 32 - plen;
	__u32 rss;

	/*
	 * A source port whose hash has the bit just above the host bits set,
	 * so taking one bit too many from the hash shows in the address.
	 */
	for (p.sport = 40000; host && host < 32; p.sport++) {
		k = pkt_key(&p);
		if ((rss_of(&k) >> host) & 1)
			break;
	}
	rss = rss_of(&k);

	if (v6) {
		memcpy(c.src6, a.v6, 16);
		c.src6_plen = plen;
		got = outer_src6(&c, rss);
	} else {
		c.src4 = a.v4;
		c.src4_plen = plen;
		memset(&got, 0, sizeof(got));
		got.v4 = outer_src4(&c, rss);
	}
	/* The rule restated on fixed prefixes, so the test cannot drift. */
	if (want_fixed) {
		union xlb_addr w = A(want_fixed);

		if (memcmp(&w, &got, sizeof(w)))
			fail(t, "test bug: outer source of /%u", plen);
	} else if (!memcmp(&a, &got, sizeof(a))) {
		fail(t, "test bug: hash gave no host bits");
	}
	set_config(t, &c);
	std_vip(t, v6 ? VIP6 : VIP4, 80, TCP, 1, 0, 13, v6);
	tx_ring(t, "packet", &p, SYN_EV);
}

static void src4_plen24(struct tc *t)
{
	src_prefix(t, false, "198.18.200.0", 24, NULL);
}

static void src4_plen32(struct tc *t)
{
	src_prefix(t, false, "198.18.200.7", 32, "198.18.200.7");
}

static void src4_plen0(struct tc *t)
{
	src_prefix(t, false, "198.18.200.9", 0, "198.18.200.9");
}

static void src4_plen20(struct tc *t)
{
	src_prefix(t, false, "198.18.192.0", 20, NULL);
}

static void src6_plen64(struct tc *t)
{
	src_prefix(t, true, "2001:db8:ff::", 64, NULL);
}

static void src6_plen112(struct tc *t)
{
	src_prefix(t, true, "2001:db8:ff::", 112, NULL);
}

static void src6_plen128(struct tc *t)
{
	src_prefix(t, true, "2001:db8:ff::5", 128, "2001:db8:ff::5");
}

/* DSCP 46 (EF) and ECN ECT(1): 0xb9, copied to the outer header. */
static void dscp(struct tc *t, const char *vip, bool be_v6)
{
	bool v6 = strchr(vip, ':');

	one(t, vip, be_v6, XLB_ENCAP_IPIP,
	    &(struct pkt){.src = v6 ? CLI6 : CLI4,
			  .dst = vip,
			  .flags = F_SYN,
			  .tos = 0xb9},
	    SYN_EV);
}

static void dscp_4in4(struct tc *t)
{
	dscp(t, VIP4, false);
}

static void dscp_6in6(struct tc *t)
{
	dscp(t, VIP6, true);
}

static void dscp_4in6(struct tc *t)
{
	dscp(t, VIP4, true);
}

static void dscp_6in4(struct tc *t)
{
	dscp(t, VIP6, false);
}

const struct golden_case cases_encap[] = {
	{"encap_tcp4_ipip", "IPv4 TCP SYN, v4 backend: IPIP", PROG_BALANCE,
	 tcp4_ipip},
	{"encap_udp4_ipip", "IPv4 UDP, v4 backend: IPIP", PROG_BALANCE,
	 udp4_ipip},
	{"encap_tcp6_ip6ip6", "IPv6 TCP, v6 backend: IP6IP6", PROG_BALANCE,
	 tcp6_ip6ip6},
	{"encap_udp6_ip6ip6", "IPv6 UDP, v6 backend", PROG_BALANCE,
	 udp6_ip6ip6},
	{"encap_tcp4_4in6", "IPv4 TCP, v6 backend: 4in6", PROG_BALANCE,
	 tcp4_4in6},
	{"encap_udp4_4in6", "IPv4 UDP, v6 backend", PROG_BALANCE, udp4_4in6},
	{"encap_tcp6_6in4", "IPv6 TCP, v4 backend: 6in4", PROG_BALANCE,
	 tcp6_6in4},
	{"encap_udp6_6in4", "IPv6 UDP, v4 backend", PROG_BALANCE, udp6_6in4},
	{"encap_gue4_inner4", "GUE over v4, inner v4", PROG_BALANCE,
	 gue4_inner4},
	{"encap_gue4_inner6", "GUE over v4, inner v6", PROG_BALANCE,
	 gue4_inner6},
	{"encap_gue6_inner6", "GUE over v6, inner v6", PROG_BALANCE,
	 gue6_inner6},
	{"encap_gue6_inner4", "GUE over v6, inner v4", PROG_BALANCE,
	 gue6_inner4},
	{"encap_vlan_ipip", "802.1Q tag kept", PROG_BALANCE, vlan_ipip},
	{"encap_vlan_gue6", "tag kept, GUE over v6", PROG_BALANCE, vlan_gue6},
	{"encap_vlan_8021ad_4in6", "802.1ad tag kept, 4in6", PROG_BALANCE,
	 vlan_8021ad_4in6},
	{"encap_trailer_trimmed", "L2 padding not carried into the tunnel",
	 PROG_BALANCE, trailer_trimmed},
	{"encap_vip_gue_over_ipip", "VIP says GUE, default IPIP", PROG_BALANCE,
	 vip_gue_over_ipip},
	{"encap_vip_ipip_over_gue", "VIP says IPIP, default GUE", PROG_BALANCE,
	 vip_ipip_over_gue},
	{"encap_src4_plen24", "outer v4 source /24 from the hash", PROG_BALANCE,
	 src4_plen24},
	{"encap_src4_plen20", "outer v4 source /20", PROG_BALANCE, src4_plen20},
	{"encap_src4_plen32", "outer v4 source /32 fixed", PROG_BALANCE,
	 src4_plen32},
	{"encap_src4_plen0", "outer v4 source plen 0: as is", PROG_BALANCE,
	 src4_plen0},
	{"encap_src6_plen64", "outer v6 source /64", PROG_BALANCE, src6_plen64},
	{"encap_src6_plen112", "outer v6 source /112", PROG_BALANCE,
	 src6_plen112},
	{"encap_src6_plen128", "outer v6 source /128 fixed", PROG_BALANCE,
	 src6_plen128},
	{"encap_dscp_4in4", "TOS copied to outer v4", PROG_BALANCE, dscp_4in4},
	{"encap_dscp_6in6", "traffic class copied to outer v6", PROG_BALANCE,
	 dscp_6in6},
	{"encap_dscp_4in6", "TOS to outer v6 class", PROG_BALANCE, dscp_4in6},
	{"encap_dscp_6in4", "traffic class to outer TOS", PROG_BALANCE,
	 dscp_6in4},
	{0},
};
