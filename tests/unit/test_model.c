// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the model (user/lib/model.c): the text forms every tool
 * accepts (addresses, VIPs, prefixes, flags, names, numbers), the edits
 * xlbd applies on requests (health checks among them), and the
 * whole-model check. Every rejected
 * input must come back as a negative errno with a message for the
 * operator, and every rejected edit must leave the model exactly as it was,
 * because xlbd relies on both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"
#include "helpers.h"
#include "schema.h"

/* ---- helpers ----------------------------------------------------------- */

static struct xlb_backend_cfg backend(const char *addr, __u32 weight,
				      __u8 state)
{
	struct xlb_err err = {{0}};
	struct xlb_backend_cfg b = {.weight = weight, .state = state};

	if (xlb_parse_addr(addr, &b.addr, &b.family, &err))
		fail_msg("cannot parse address '%s': %s", addr, err.msg);
	return b;
}

static void add_vip(struct xlb_model *m, const char *s, __u32 ring)
{
	struct xlb_vip_cfg v = {.key = vkey(s), .ring_size = ring};
	struct xlb_err err = {{0}};

	if (xlb_model_vip_add(m, &v, &err))
		fail_msg("cannot add VIP %s: %s", s, err.msg);
}

static void add_backend(struct xlb_model *m, const char *vip, const char *addr)
{
	struct xlb_backend_cfg b =
		backend(addr, XLB_WEIGHT_DEFAULT, XLB_BACKEND_UP);
	struct xlb_vip_key k = vkey(vip);
	struct xlb_err err = {{0}};

	if (xlb_model_backend_add(m, &k, &b, &err))
		fail_msg("cannot add %s to %s: %s", addr, vip, err.msg);
}

/*
 * Runs an edit that must fail with want, with a message, leaving the model
 * as it was (ids included).
 */
#define EXPECT_REJECT(m, want, call)                                           \
	do {                                                                   \
		struct xlb_model before_;                                      \
		int ret_;                                                      \
		assert_int_equal(xlb_model_copy(&before_, (m)), 0);            \
		memset(&err, 0, sizeof(err));                                  \
		ret_ = (call);                                                 \
		if (ret_ != (want))                                            \
			fail_msg("%s: got %d, want %d (%s)", #call, ret_,      \
				 (want), err.msg);                             \
		assert_true(err.msg[0] != '\0');                               \
		assert_true(xlb_model_equal(&before_, (m), true));             \
		xlb_model_free(&before_);                                      \
	} while (0)

static void assert_msg_has(const struct xlb_err *err, const char *want)
{
	if (!strstr(err->msg, want))
		fail_msg("message '%s' lacks '%s'", err->msg, want);
}

/* ---- text forms -------------------------------------------------------- */

static void test_vip_text_round_trip(void **state)
{
	static const struct {
		const char *in, *out;
		__u8 family, proto;
		__u16 port;
	} cases[] = {
		{"198.19.0.1:80/tcp", "198.19.0.1:80/tcp", XLB_AF_INET,
		 IPPROTO_TCP, 80},
		{"198.19.0.1:65535/udp", "198.19.0.1:65535/udp", XLB_AF_INET,
		 IPPROTO_UDP, 65535},
		{"[2001:db8::1]:443/udp", "[2001:db8::1]:443/udp", XLB_AF_INET6,
		 IPPROTO_UDP, 443},
		{"198.19.0.1/tcp", "198.19.0.1/tcp", XLB_AF_INET, IPPROTO_TCP,
		 0},
		{"[2001:db8::1]/udp", "[2001:db8::1]/udp", XLB_AF_INET6,
		 IPPROTO_UDP, 0},
		{"198.19.0.1:8080/TCP", "198.19.0.1:8080/tcp", XLB_AF_INET,
		 IPPROTO_TCP, 8080},
		{"[::ffff:198.19.0.1]:1/tcp", "[::ffff:198.19.0.1]:1/tcp",
		 XLB_AF_INET6, IPPROTO_TCP, 1},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xlb_err err = {{0}};
		char buf[XLB_VIP_STRLEN];
		struct xlb_vip_key k, k2;

		memset(&k, 0xaa, sizeof(k));
		if (xlb_parse_vip(cases[i].in, &k, &err))
			fail_msg("'%s' rejected: %s", cases[i].in, err.msg);
		assert_int_equal(k.family, cases[i].family);
		assert_int_equal(k.proto, cases[i].proto);
		/* The key holds the port as on the wire. */
		assert_int_equal(k.port, htons(cases[i].port));
		assert_string_equal(xlb_format_vip(&k, buf, sizeof(buf)),
				    cases[i].out);
		assert_int_equal(xlb_parse_vip(buf, &k2, &err), 0);
		assert_memory_equal(&k, &k2, sizeof(k));
	}
}

static void test_vip_v4_layout(void **state)
{
	struct xlb_vip_key k;
	(void)state;

	memset(&k, 0xff, sizeof(k));
	k = vkey("198.19.0.1:80/tcp");
	/* What the data path builds from a packet: v4 first, zeros after. */
	assert_int_equal(k.addr.v4, inet_addr("198.19.0.1"));
	assert_int_equal(k.addr.v6[1], 0);
	assert_int_equal(k.addr.v6[2], 0);
	assert_int_equal(k.addr.v6[3], 0);
	assert_int_equal(k.port, htons(80));
}

static void test_vip_text_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"198.19.0.1",	      /* no protocol */
		"198.19.0.1:80",      /* no protocol */
		"198.19.0.1:80/",     /* empty protocol */
		"198.19.0.1:80/sctp", /* unknown protocol */
		"198.19.0.1:80/icmp", /* not a VIP protocol */
		"198.19.0.1:0/tcp",   /* port 0 only when left out */
		"198.19.0.1:65536/tcp",
		"198.19.0.1:99999/tcp",
		"198.19.0.1:/tcp",
		"198.19.0.1:80x/tcp",
		"198.19.0.1:+80/tcp",
		"198.19.0.1:-1/tcp",
		"198.19.0.1: 80/tcp",
		"198.19.0.1 :80/tcp",
		"198.19.0.256:80/tcp",
		"198.19.0:80/tcp",
		"[2001:db8::1:443/udp", /* unbalanced */
		"2001:db8::1]:443/udp", /* unbalanced */
		"[2001:db8::1]x/udp",	/* junk after ] */
		"[2001:db8::1]:/udp",
		"[198.19.0.1]:80/tcp", /* brackets are for IPv6 */
		"[]:80/tcp",
		"/tcp",
		":80/tcp",
		"lb.example.com:80/tcp", /* no names */
		"198.19.0.1:80/tcp/tcp",
		"fe80::1%eth0/tcp",
		"2001:db8::1/udp",    /* IPv6 needs brackets */
		"2001:db8::1:80/tcp", /* port 80, or an address? */
		"198.19.0.1:80/tcp ",
	};
	(void)state;

	assert_true(sizeof(bad) / sizeof(bad[0]) >= 15);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xlb_err err = {{0}};
		struct xlb_vip_key k, orig;
		int ret;

		memset(&k, 0x5a, sizeof(k));
		orig = k;
		ret = xlb_parse_vip(bad[i], &k, &err);
		if (ret != -EINVAL)
			fail_msg("'%s' gave %d, want -EINVAL", bad[i], ret);
		if (!err.msg[0])
			fail_msg("'%s' rejected without a message", bad[i]);
		/* A failed parse must not leave half a key behind. */
		assert_memory_equal(&k, &orig, sizeof(k));
	}
}

static void test_vip_text_messages(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key k;
	(void)state;

	xlb_parse_vip("198.19.0.1:80", &k, &err);
	assert_msg_has(&err, "missing protocol");
	xlb_parse_vip("198.19.0.1:99999/tcp", &k, &err);
	assert_msg_has(&err, "bad port '99999'");
	xlb_parse_vip("198.19.0.1:80/sctp", &k, &err);
	assert_msg_has(&err, "'sctp'");
	xlb_parse_vip("198.19.0.300:80/tcp", &k, &err);
	assert_msg_has(&err, "198.19.0.300");
	xlb_parse_vip("2001:db8::1:80/tcp", &k, &err);
	assert_msg_has(&err, "needs brackets");
}

/*
 * Addresses that name no one host are refused as VIPs and backends by
 * the model's one rule, whichever edit or document brings them.
 */
static void test_addr_rules(void **state)
{
	static const struct {
		const char *addr, *why;
	} bad[] = {
		{"0.0.0.0", "unspecified"},
		{"127.0.0.1", "loopback"},
		{"127.1.2.3", "loopback"},
		{"224.0.0.1", "multicast"},
		{"239.255.0.1", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"ff02::1", "multicast"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:0.0.0.0", "unspecified"},
	};
	struct xlb_model m;
	(void)state;

	xlb_model_init(&m);
	add_vip(&m, "198.19.0.1:80/tcp", 7);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xlb_backend_cfg b =
			backend(bad[i].addr, 1, XLB_BACKEND_UP);
		struct xlb_vip_cfg v = {.key.proto = IPPROTO_TCP,
					.key.port = htons(80)};
		struct xlb_err err = {{0}};
		struct xlb_vip_key k = vkey("198.19.0.1:80/tcp");

		v.key.addr = b.addr;
		v.key.family = b.family;
		if (xlb_model_vip_add(&m, &v, &err) != -EINVAL)
			fail_msg("VIP %s accepted", bad[i].addr);
		assert_msg_has(&err, bad[i].why);
		assert_msg_has(&err, "VIP address");
		if (xlb_model_backend_add(&m, &k, &b, &err) != -EINVAL)
			fail_msg("backend %s accepted", bad[i].addr);
		assert_msg_has(&err, bad[i].why);
		assert_msg_has(&err, "backend address");
		assert_int_equal(m.n_vips, 1);
		assert_int_equal(m.vips[0].n_backends, 0);
	}
	/* Unicast of either family, also IPv4-mapped, is fine. */
	add_backend(&m, "198.19.0.1:80/tcp", "198.18.1.1");
	add_backend(&m, "198.19.0.1:80/tcp", "2001:db8::1");
	add_backend(&m, "198.19.0.1:80/tcp", "::ffff:198.18.1.2");
	add_vip(&m, "[2001:db8::1]:80/tcp", 7);
	xlb_model_free(&m);
}

static void test_addr(void **state)
{
	static const char *const bad[] = {
		"",	     "1.2.3",	     "1.2.3.4 ",
		" 1.2.3.4",  "1.2.3.4x",     "1.2.3.4/32",
		"::g",	     "fe80::1%eth0", "1:2:3:4:5:6:7:8:9",
		"localhost",
	};
	struct xlb_err err = {{0}};
	char buf[XLB_ADDR_STRLEN];
	union xlb_addr a;
	__u8 fam;
	(void)state;

	assert_int_equal(xlb_parse_addr("198.18.1.1", &a, &fam, &err), 0);
	assert_int_equal(fam, XLB_AF_INET);
	assert_int_equal(a.v4, inet_addr("198.18.1.1"));
	assert_int_equal(a.v6[1] | a.v6[2] | a.v6[3], 0);
	assert_string_equal(xlb_format_addr(&a, fam, buf, sizeof(buf)),
			    "198.18.1.1");
	assert_int_equal(xlb_parse_addr("2001:DB8:0::1", &a, &fam, &err), 0);
	assert_int_equal(fam, XLB_AF_INET6);
	assert_string_equal(xlb_format_addr(&a, fam, buf, sizeof(buf)),
			    "2001:db8::1");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		if (xlb_parse_addr(bad[i], &a, &fam, &err) != -EINVAL)
			fail_msg("address '%s' accepted", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
}

static void test_prefix(void **state)
{
	static const char *const bad[] = {
		"198.18.0.1/24",
		"198.18.0.0",
		"198.18.0.0/33",
		"198.18.0.0/",
		"198.18.0.0/-1",
		"198.18.0.0/+8",
		"x/24",
		"/24",
		"2001:db8::/129",
		"2001:db8::1/64",
		"",
		"198.18.0.0/24/1",
	};
	struct xlb_err err = {{0}};
	union xlb_addr a;
	__u8 fam, plen;
	(void)state;

	assert_int_equal(
		xlb_parse_prefix("198.18.0.0/24", &a, &fam, &plen, &err), 0);
	assert_int_equal(fam, XLB_AF_INET);
	assert_int_equal(plen, 24);
	assert_int_equal(a.v4, inet_addr("198.18.0.0"));
	assert_int_equal(
		xlb_parse_prefix("2001:db8::/64", &a, &fam, &plen, &err), 0);
	assert_int_equal(fam, XLB_AF_INET6);
	assert_int_equal(plen, 64);
	assert_int_equal(
		xlb_parse_prefix("198.18.0.1/32", &a, &fam, &plen, &err), 0);
	assert_int_equal(plen, 32);
	assert_int_equal(
		xlb_parse_prefix("2001:db8::1/128", &a, &fam, &plen, &err), 0);
	assert_int_equal(plen, 128);

	xlb_parse_prefix("198.18.0.1/24", &a, &fam, &plen, &err);
	assert_string_equal(err.msg, "198.18.0.1/24 has host bits set");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		if (xlb_parse_prefix(bad[i], &a, &fam, &plen, &err) != -EINVAL)
			fail_msg("prefix '%s' accepted", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
}

static void test_flags(void **state)
{
	static const char *const bad[] = {
		"bogus",    "no-sport,bogus", "no-sport,,dport-only",
		",",	    "no-sport,",      "none,no-sport",
		"no_sport",
	};
	struct xlb_err err = {{0}};
	char buf[64];
	__u32 f;
	(void)state;

	/* Every combination prints and reads back to itself. */
	for (__u32 in = 0; in <= XLB_VIP_F_ALL; in++) {
		xlb_format_flags(in, buf, sizeof(buf));
		f = ~0U;
		if (xlb_parse_flags(buf, &f, &err))
			fail_msg("'%s' rejected: %s", buf, err.msg);
		assert_int_equal(f, in);
	}
	assert_string_equal(xlb_format_flags(0, buf, sizeof(buf)), "none");
	assert_string_equal(
		xlb_format_flags(XLB_VIP_F_NO_SPORT | XLB_VIP_F_DPORT_ONLY, buf,
				 sizeof(buf)),
		"no-sport,dport-only");
	assert_int_equal(xlb_parse_flags("no-flow-table", &f, &err), 0);
	assert_int_equal(f, XLB_VIP_F_NO_FLOW_TABLE);
	assert_int_equal(xlb_parse_flags("", &f, &err), 0);
	assert_int_equal(f, 0);
	assert_int_equal(xlb_parse_flags("none", &f, &err), 0);
	assert_int_equal(f, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		f = 1234;
		if (xlb_parse_flags(bad[i], &f, &err) != -EINVAL)
			fail_msg("flags '%s' accepted", bad[i]);
		assert_true(err.msg[0] != '\0');
		assert_int_equal(f, 1234);
	}
	xlb_parse_flags("no-sport,bogus", &f, &err);
	assert_msg_has(&err, "'bogus'");
}

static void test_names(void **state)
{
	struct xlb_err err = {{0}};
	__u8 v;
	(void)state;

	for (__u8 e = 0; e < XLB_ENCAP_MAX; e++) {
		assert_int_equal(xlb_parse_encap(xlb_encap_name(e), &v, &err),
				 0);
		assert_int_equal(v, e);
	}
	assert_string_equal(xlb_encap_name(XLB_ENCAP_GUE), "gue");
	assert_int_equal(xlb_parse_encap("vxlan", &v, &err), -EINVAL);
	assert_msg_has(&err, "'vxlan'");
	assert_int_equal(xlb_parse_encap("", &v, &err), -EINVAL);

	for (__u8 s = XLB_BACKEND_UP; s <= XLB_BACKEND_DOWN; s++) {
		assert_int_equal(xlb_parse_state(xlb_state_name(s), &v, &err),
				 0);
		assert_int_equal(v, s);
	}
	assert_string_equal(xlb_state_name(XLB_BACKEND_DRAIN), "drain");
	assert_int_equal(xlb_parse_state("unused", &v, &err), -EINVAL);
	assert_int_equal(xlb_parse_state("sleeping", &v, &err), -EINVAL);
	assert_msg_has(&err, "'sleeping'");
}

static void test_parse_uint(void **state)
{
	static const char *const bad[] = {
		"",
		"-1",
		"+1",
		" 1",
		"1 ",
		"0x10",
		"1e3",
		"1.0",
		"18446744073709551616",
		"99999999999999999999999999",
	};
	struct xlb_err err = {{0}};
	unsigned long v;
	char big[32];
	(void)state;

	assert_int_equal(xlb_parse_uint("0", 0, 65535, &v, &err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(xlb_parse_uint("65535", 0, 65535, &v, &err), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(xlb_parse_uint("007", 0, 65535, &v, &err), 0);
	assert_int_equal(v, 7);
	snprintf(big, sizeof(big), "%lu", ULONG_MAX);
	assert_int_equal(xlb_parse_uint(big, 0, ULONG_MAX, &v, &err), 0);
	assert_true(v == ULONG_MAX);
	assert_int_equal(xlb_parse_uint("5", 6, 10, &v, &err), -EINVAL);
	assert_int_equal(xlb_parse_uint("65536", 0, 65535, &v, &err), -EINVAL);
	assert_msg_has(&err, "65536");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		v = 42;
		if (xlb_parse_uint(bad[i], 0, ULONG_MAX, &v, &err) != -EINVAL)
			fail_msg("number '%s' accepted", bad[i]);
		assert_true(err.msg[0] != '\0');
		assert_int_equal(v, 42);
	}
}

/* ---- edits ------------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_model m;
	(void)state;

	xlb_model_init(&m);
	assert_int_equal(m.global.encap, XLB_ENCAP_IPIP);
	assert_int_equal(m.global.ttl, 64);
	assert_int_equal(m.global.gue_port, 6080);
	assert_int_equal(m.global.mtu, 1500);
	assert_int_equal(m.global.src4_plen, 0);
	assert_int_equal(m.global.src6_plen, 0);
	assert_int_equal(m.global.flow_rate_limit, 0);
	assert_int_equal(m.global.udp_timeout_ms, 30000);
	assert_int_equal(m.n_vips, 0);
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	xlb_model_free(&m);
}

static void test_vip_add_del(void **state)
{
	struct xlb_vip_key k = vkey("198.19.0.1:80/tcp");
	struct xlb_vip_cfg v = {
		.key = k, .flags = XLB_VIP_F_NO_SPORT, .encap = XLB_ENCAP_GUE};
	struct xlb_backend_cfg b = backend("198.18.1.1", 1, XLB_BACKEND_UP);
	struct xlb_err err = {{0}};
	struct xlb_vip_cfg *got;
	struct xlb_model m;
	(void)state;

	xlb_model_init(&m);
	/* Backends of the argument are not taken over. */
	v.n_backends = 1;
	v.backends = &b;
	assert_int_equal(xlb_model_vip_add(&m, &v, &err), 0);
	got = xlb_model_vip(&m, &k);
	assert_non_null(got);
	assert_int_equal(got->n_backends, 0);
	assert_null(got->backends);
	assert_int_equal(got->ring_size, XLB_RING_SIZE_DEFAULT);
	assert_int_equal(got->flags, XLB_VIP_F_NO_SPORT);
	assert_int_equal(got->encap, XLB_ENCAP_GUE);
	assert_int_equal(xlb_model_validate(&m, &err), 0);

	EXPECT_REJECT(&m, -EEXIST, xlb_model_vip_add(&m, &v, &err));
	assert_string_equal(err.msg, "VIP 198.19.0.1:80/tcp already exists");

	/* Same address, other port or protocol: other VIPs. */
	add_vip(&m, "198.19.0.1:80/udp", 0);
	add_vip(&m, "198.19.0.1/tcp", 0);
	assert_int_equal(m.n_vips, 3);

	k = vkey("198.19.0.9:80/tcp");
	EXPECT_REJECT(&m, -ENOENT, xlb_model_vip_del(&m, &k, &err));
	assert_string_equal(err.msg, "unknown VIP 198.19.0.9:80/tcp");

	k = vkey("198.19.0.1:80/tcp");
	assert_int_equal(xlb_model_vip_del(&m, &k, &err), 0);
	assert_null(xlb_model_vip(&m, &k));
	assert_int_equal(m.n_vips, 2);
	k = vkey("198.19.0.1:80/udp");
	assert_int_equal(xlb_model_vip_del(&m, &k, &err), 0);
	k = vkey("198.19.0.1/tcp");
	assert_int_equal(xlb_model_vip_del(&m, &k, &err), 0);
	assert_int_equal(m.n_vips, 0);
	xlb_model_free(&m);
}

static void test_vip_add_rejects(void **state)
{
	struct xlb_vip_cfg base = {.key = vkey("198.19.0.1:80/tcp")};
	struct xlb_err err = {{0}};
	struct xlb_vip_cfg v;
	struct xlb_model m;
	(void)state;

	xlb_model_init(&m);
	add_vip(&m, "198.19.0.2:80/tcp", 0);

	v = base;
	v.ring_size = 65536;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	assert_string_equal(err.msg, "ring size 65536 is not a prime");
	v.ring_size = 5; /* a prime, but below the minimum */
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	v.ring_size = 655379; /* a prime above the maximum */
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	v.ring_size = 1;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));

	v = base;
	v.key.proto = IPPROTO_ICMP;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	v = base;
	v.key.family = 0;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	v = base;
	v.flags = 1U << 7;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	v = base;
	v.encap = XLB_ENCAP_MAX;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	v = base;
	v.vip_id = XLB_MAX_VIPS;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));

	/* Smallest and largest table sizes are accepted. */
	v = base;
	v.ring_size = XLB_RING_SIZE_MIN;
	assert_int_equal(xlb_model_vip_add(&m, &v, &err), 0);
	v.key = vkey("198.19.0.3:80/tcp");
	v.ring_size = XLB_RING_SIZE_MAX;
	assert_int_equal(xlb_model_vip_add(&m, &v, &err), 0);
	xlb_model_free(&m);
}

static void test_vip_add_normalises(void **state)
{
	struct xlb_vip_cfg v = {.key = vkey("198.19.0.1:80/tcp")};
	struct xlb_vip_key clean = v.key;
	struct xlb_backend_cfg b = backend("198.18.1.1", 1, XLB_BACKEND_UP);
	struct xlb_err err = {{0}};
	struct xlb_model m;
	(void)state;

	/*
	 * Stray bytes after an IPv4 address would make the map key miss
	 * every packet: the model stores the address as the data path
	 * builds it.
	 */
	xlb_model_init(&m);
	v.key.addr.v6[2] = 0xdeadbeef;
	b.addr.v6[3] = 0xdeadbeef;
	assert_int_equal(xlb_model_vip_add(&m, &v, &err), 0);
	assert_int_equal(xlb_model_backend_add(&m, &clean, &b, &err), 0);
	assert_memory_equal(&m.vips[0].key, &clean, sizeof(clean));
	assert_int_equal(m.vips[0].backends[0].addr.v6[3], 0);
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	xlb_model_free(&m);
}

static void test_vip_limit(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_cfg v = {0};
	struct xlb_model m;
	char s[XLB_VIP_STRLEN];
	(void)state;

	xlb_model_init(&m);
	for (unsigned int i = 0; i < XLB_MAX_VIPS - 1; i++) {
		snprintf(s, sizeof(s), "198.19.%u.%u:80/tcp", i / 256, i % 256);
		add_vip(&m, s, 0);
	}
	assert_int_equal(m.n_vips, XLB_MAX_VIPS - 1);
	v.key = vkey("198.20.0.1:80/tcp");
	EXPECT_REJECT(&m, -ENOSPC, xlb_model_vip_add(&m, &v, &err));
	assert_string_equal(err.msg, "too many VIPs (limit 511)");
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	xlb_model_free(&m);
}

static void test_backend_edits(void **state)
{
	const char *vs = "198.19.0.1:80/tcp";
	struct xlb_vip_key k = vkey(vs), unknown = vkey("198.19.0.9:80/tcp");
	struct xlb_backend_cfg b = backend("198.18.1.1", 1, XLB_BACKEND_UP);
	struct xlb_backend_cfg b6 =
		backend("2001:db8:1::1", 5, XLB_BACKEND_DRAIN);
	struct xlb_err err = {{0}};
	struct xlb_backend_cfg *got, bad;
	struct xlb_model m;
	(void)state;

	xlb_model_init(&m);
	add_vip(&m, vs, 0);
	assert_int_equal(xlb_model_backend_add(&m, &k, &b, &err), 0);
	/* An IPv6 backend for an IPv4 VIP is fine: 4-in-6 encapsulation. */
	assert_int_equal(xlb_model_backend_add(&m, &k, &b6, &err), 0);
	got = xlb_vip_backend(xlb_model_vip(&m, &k), &b6.addr, b6.family);
	assert_non_null(got);
	assert_int_equal(got->weight, 5);
	assert_int_equal(got->state, XLB_BACKEND_DRAIN);

	EXPECT_REJECT(&m, -EEXIST, xlb_model_backend_add(&m, &k, &b, &err));
	assert_string_equal(err.msg, "backend 198.18.1.1 already in VIP "
				     "198.19.0.1:80/tcp");
	EXPECT_REJECT(&m, -ENOENT,
		      xlb_model_backend_add(&m, &unknown, &b, &err));
	assert_string_equal(err.msg, "unknown VIP 198.19.0.9:80/tcp");

	bad = backend("198.18.1.2", 70000, XLB_BACKEND_UP);
	EXPECT_REJECT(&m, -EINVAL, xlb_model_backend_add(&m, &k, &bad, &err));
	assert_string_equal(err.msg, "weight 70000 out of range 0..65535");
	bad = backend("198.18.1.2", 1, XLB_BACKEND_UNUSED);
	EXPECT_REJECT(&m, -EINVAL, xlb_model_backend_add(&m, &k, &bad, &err));
	bad = backend("198.18.1.2", 1, 4);
	EXPECT_REJECT(&m, -EINVAL, xlb_model_backend_add(&m, &k, &bad, &err));
	bad = backend("198.18.1.2", 1, XLB_BACKEND_UP);
	bad.family = 7;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_backend_add(&m, &k, &bad, &err));
	bad = backend("198.18.1.2", 1, XLB_BACKEND_UP);
	bad.id = XLB_MAX_BACKENDS;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_backend_add(&m, &k, &bad, &err));
	/* Weight 0 is legal: present but takes no new flows. */
	bad = backend("198.18.1.2", 0, XLB_BACKEND_UP);
	assert_int_equal(xlb_model_backend_add(&m, &k, &bad, &err), 0);

	/* set: weight < 0 and state 0 keep the current value. */
	assert_int_equal(
		xlb_model_backend_set(&m, &k, &b.addr, b.family, 9, 0, &err),
		0);
	got = xlb_vip_backend(xlb_model_vip(&m, &k), &b.addr, b.family);
	assert_int_equal(got->weight, 9);
	assert_int_equal(got->state, XLB_BACKEND_UP);
	assert_int_equal(xlb_model_backend_set(&m, &k, &b.addr, b.family, -1,
					       XLB_BACKEND_DOWN, &err),
			 0);
	got = xlb_vip_backend(xlb_model_vip(&m, &k), &b.addr, b.family);
	assert_int_equal(got->weight, 9);
	assert_int_equal(got->state, XLB_BACKEND_DOWN);
	EXPECT_REJECT(&m, -EINVAL,
		      xlb_model_backend_set(&m, &k, &b.addr, b.family, 70000, 0,
					    &err));
	assert_string_equal(err.msg, "weight 70000 out of range 0..65535");
	EXPECT_REJECT(
		&m, -EINVAL,
		xlb_model_backend_set(&m, &k, &b.addr, b.family, 1, 4, &err));
	EXPECT_REJECT(
		&m, -EINVAL,
		xlb_model_backend_set(&m, &k, &b.addr, b.family, 1, -2, &err));
	bad = backend("198.18.9.9", 1, XLB_BACKEND_UP);
	EXPECT_REJECT(&m, -ENOENT,
		      xlb_model_backend_set(&m, &k, &bad.addr, bad.family, 1, 0,
					    &err));
	assert_string_equal(err.msg,
			    "backend 198.18.9.9 not in VIP 198.19.0.1:80/tcp");
	EXPECT_REJECT(&m, -ENOENT,
		      xlb_model_backend_set(&m, &unknown, &b.addr, b.family, 1,
					    0, &err));

	EXPECT_REJECT(
		&m, -ENOENT,
		xlb_model_backend_del(&m, &k, &bad.addr, bad.family, &err));
	EXPECT_REJECT(
		&m, -ENOENT,
		xlb_model_backend_del(&m, &unknown, &b.addr, b.family, &err));
	/* Same bytes, other family: another backend. */
	EXPECT_REJECT(
		&m, -ENOENT,
		xlb_model_backend_del(&m, &k, &b.addr, XLB_AF_INET6, &err));
	assert_int_equal(xlb_model_backend_del(&m, &k, &b.addr, b.family, &err),
			 0);
	assert_null(xlb_vip_backend(xlb_model_vip(&m, &k), &b.addr, b.family));
	assert_int_equal(xlb_model_vip(&m, &k)->n_backends, 2);
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	xlb_model_free(&m);
}

static void test_backend_limits(void **state)
{
	struct xlb_vip_key small = vkey("198.19.0.1:80/tcp");
	struct xlb_vip_key big = vkey("198.19.0.2:80/tcp");
	struct xlb_err err = {{0}};
	struct xlb_backend_cfg b = {
		.family = XLB_AF_INET, .weight = 1, .state = XLB_BACKEND_UP};
	struct xlb_model m;
	char limit[32];
	unsigned int i;
	(void)state;

	xlb_model_init(&m);
	add_vip(&m, "198.19.0.1:80/tcp", 7);
	add_vip(&m, "198.19.0.2:80/tcp", 0);
	/* A ring cannot hold more backends than it has slots. */
	for (i = 0; i < 7; i++) {
		b.addr.v4 = htonl(0xc6120000 + i);
		assert_int_equal(xlb_model_backend_add(&m, &small, &b, &err),
				 0);
	}
	b.addr.v4 = htonl(0xc6120000 + i);
	EXPECT_REJECT(&m, -ENOSPC, xlb_model_backend_add(&m, &small, &b, &err));

	/* Ids are per (VIP, backend): the limit is over all VIPs. */
	for (i = 0; i < XLB_MAX_BACKENDS - 1 - 7; i++) {
		b.addr.v4 = htonl(0xc6130000 + i);
		assert_int_equal(xlb_model_backend_add(&m, &big, &b, &err), 0);
	}
	b.addr.v4 = htonl(0xc6130000 + i);
	EXPECT_REJECT(&m, -ENOSPC, xlb_model_backend_add(&m, &big, &b, &err));
	snprintf(limit, sizeof(limit), "limit %d", XLB_MAX_BACKENDS - 1);
	assert_msg_has(&err, limit);
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	xlb_model_free(&m);
}

static void test_ids(void **state)
{
	struct xlb_vip_cfg v1 = {.key = vkey("198.19.0.1:80/tcp"), .vip_id = 3};
	struct xlb_vip_cfg v2 = {.key = vkey("198.19.0.2:80/tcp"), .vip_id = 3};
	struct xlb_backend_cfg b = backend("198.18.1.1", 1, XLB_BACKEND_UP);
	struct xlb_err err = {{0}};
	struct xlb_model m;
	(void)state;

	xlb_model_init(&m);
	assert_int_equal(xlb_model_vip_add(&m, &v1, &err), 0);
	EXPECT_REJECT(&m, -EEXIST, xlb_model_vip_add(&m, &v2, &err));
	v2.vip_id = 4;
	assert_int_equal(xlb_model_vip_add(&m, &v2, &err), 0);
	/* Id 0 means "not allocated yet" and may repeat. */
	add_vip(&m, "198.19.0.3:80/tcp", 0);
	add_vip(&m, "198.19.0.4:80/tcp", 0);

	b.id = 10;
	assert_int_equal(xlb_model_backend_add(&m, &v1.key, &b, &err), 0);
	/* The same address in another VIP is another (VIP, backend) pair. */
	EXPECT_REJECT(&m, -EEXIST,
		      xlb_model_backend_add(&m, &v2.key, &b, &err));
	b.id = 11;
	assert_int_equal(xlb_model_backend_add(&m, &v2.key, &b, &err), 0);
	assert_int_equal(xlb_model_validate(&m, &err), 0);

	/* validate finds what a hand-made model got wrong. */
	xlb_model_vip(&m, &v2.key)->backends[0].id = 10;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "id 10");
	xlb_model_vip(&m, &v2.key)->backends[0].id = 11;
	xlb_model_vip(&m, &v2.key)->vip_id = 3;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "vip_id 3");
	xlb_model_free(&m);
}

static void test_sorting(void **state)
{
	/* In the order the model must keep them. */
	static const char *const sorted[] = {
		"198.18.0.1:80/tcp",	"198.18.0.1:80/udp",
		"198.18.0.1:443/tcp",	"198.18.0.2/tcp",
		"198.18.0.2:80/tcp",	"198.19.0.1:53/udp",
		"[2001:db8::]:80/tcp",	"[2001:db8::1]/udp",
		"[2001:db8::1]:80/tcp", "[2001:db8::2]:80/tcp",
	};
	static const char *const backends[] = {
		"198.18.0.1", "198.18.0.2",  "198.18.1.0",    "198.19.0.1",
		"2001:db8::", "2001:db8::1", "2001:db8::1:0",
	};
	const size_t n = sizeof(sorted) / sizeof(sorted[0]);
	const size_t nb = sizeof(backends) / sizeof(backends[0]);
	struct xlb_err err = {{0}};
	char buf[XLB_VIP_STRLEN];
	struct xlb_vip_cfg *v;
	struct xlb_model m;
	size_t order[16];
	(void)state;

	srand(12345);
	for (int round = 0; round < 20; round++) {
		xlb_model_init(&m);
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = rand() % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (size_t i = 0; i < n; i++)
			add_vip(&m, sorted[order[i]], 0);
		for (size_t i = 0; i < n; i++) {
			xlb_format_vip(&m.vips[i].key, buf, sizeof(buf));
			assert_string_equal(buf, sorted[i]);
			assert_ptr_equal(xlb_model_vip(&m, &m.vips[i].key),
					 &m.vips[i]);
		}
		for (size_t i = nb; i-- > 0;)
			add_backend(&m, sorted[round % n],
				    backends[(i * 3 + round) % nb]);
		v = &m.vips[round % n];
		for (size_t i = 0; i < nb; i++) {
			xlb_format_addr(&v->backends[i].addr,
					v->backends[i].family, buf,
					sizeof(buf));
			assert_string_equal(buf, backends[i]);
		}
		assert_int_equal(xlb_model_validate(&m, &err), 0);
		xlb_model_free(&m);
	}
}

static void build_sample(struct xlb_model *m)
{
	xlb_model_init(m);
	add_vip(m, "198.19.0.1:80/tcp", 0);
	add_vip(m, "[2001:db8::1]:443/udp", 251);
	add_backend(m, "198.19.0.1:80/tcp", "198.18.1.1");
	add_backend(m, "198.19.0.1:80/tcp", "2001:db8:1::1");
	add_backend(m, "[2001:db8::1]:443/udp", "198.18.1.2");
	m->vips[0].vip_id = 1;
	m->vips[1].vip_id = 2;
	m->vips[0].backends[0].id = 1;
	m->vips[0].backends[1].id = 2;
	m->vips[1].backends[0].id = 3;
}

static void test_copy_equal(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_model a, b, e1, e2;
	(void)state;

	build_sample(&a);
	assert_int_equal(xlb_model_copy(&b, &a), 0);
	assert_true(xlb_model_equal(&a, &b, true));
	/* Deep: the copy has its own arrays. */
	assert_ptr_not_equal(a.vips, b.vips);
	assert_ptr_not_equal(a.vips[0].backends, b.vips[0].backends);

	b.vips[0].backends[1].weight = 2;
	assert_false(xlb_model_equal(&a, &b, false));
	b.vips[0].backends[1].weight = 1;
	b.vips[1].vip_id = 7;
	assert_false(xlb_model_equal(&a, &b, true));
	assert_true(xlb_model_equal(&a, &b, false));
	b.vips[1].vip_id = a.vips[1].vip_id;
	b.vips[0].backends[0].id = 9;
	assert_false(xlb_model_equal(&a, &b, true));
	assert_true(xlb_model_equal(&a, &b, false));
	b.global.ttl = 63;
	assert_false(xlb_model_equal(&a, &b, false));
	b.global.ttl = 64;
	b.vips[1].flags = XLB_VIP_F_DPORT_ONLY;
	assert_false(xlb_model_equal(&a, &b, false));
	b.vips[1].flags = 0;
	assert_int_equal(xlb_model_backend_del(&b, &b.vips[1].key,
					       &b.vips[1].backends[0].addr,
					       XLB_AF_INET, &err),
			 0);
	assert_false(xlb_model_equal(&a, &b, false));

	/* The copy outlives its source. */
	xlb_model_free(&a);
	assert_int_equal(xlb_model_validate(&b, &err), 0);
	assert_int_equal(b.vips[0].n_backends, 2);
	xlb_model_free(&b);

	xlb_model_init(&e1);
	assert_int_equal(xlb_model_copy(&e2, &e1), 0);
	assert_true(xlb_model_equal(&e1, &e2, true));
	xlb_model_free(&e2);
}

static void test_validate_global(void **state)
{
	struct xlb_err err = {{0}};
	union xlb_addr a;
	struct xlb_model m;
	__u8 fam, plen;
	(void)state;

	build_sample(&m);
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	m.global.ttl = 0;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "ttl");
	m.global.ttl = 255;
	m.global.gue_port = 0;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	m.global.gue_port = 65535;
	m.global.mtu = 575;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "mtu 575");
	m.global.mtu = 0;
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	m.global.mtu = 576;
	m.global.encap = XLB_ENCAP_DEFAULT;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	m.global.encap = XLB_ENCAP_GUE;
	assert_int_equal(xlb_model_validate(&m, &err), 0);

	assert_int_equal(
		xlb_parse_prefix("198.18.0.0/24", &a, &fam, &plen, &err), 0);
	m.global.src4 = a;
	m.global.src4_plen = 8; /* 198.18.0.0/8: host bits set */
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	m.global.src4_plen = 33;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	m.global.src4_plen = 0; /* an address without a length */
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	m.global.src4_plen = 24;
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	m.global.src6_plen = 129;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	m.global.src6_plen = 0;
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	xlb_model_free(&m);
}

static void test_validate_vips(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_cfg saved;
	struct xlb_model m;
	(void)state;

	build_sample(&m);
	/* Out of order (swapped by hand). */
	saved = m.vips[0];
	m.vips[0] = m.vips[1];
	m.vips[1] = saved;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	m.vips[1] = m.vips[0];
	m.vips[0] = saved;
	assert_int_equal(xlb_model_validate(&m, &err), 0);

	/* Two entries for one key. */
	saved = m.vips[1];
	m.vips[1].key = m.vips[0].key;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "198.19.0.1:80/tcp");
	m.vips[1] = saved;

	m.vips[0].ring_size = 65536;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "not a prime");
	m.vips[0].ring_size = 2; /* prime, but below the minimum */
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	m.vips[0].ring_size = 7;
	assert_int_equal(xlb_model_validate(&m, &err), 0);

	m.vips[0].backends[1] = m.vips[0].backends[0];
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "198.18.1.1");
	xlb_model_free(&m);
}

/* ---- checks ------------------------------------------------------------ */

static struct xlb_check_cfg tcp_check(void)
{
	struct xlb_check_cfg c;

	xlb_check_init(&c);
	c.kind = XLB_CHECK_TCP;
	return c;
}

static void test_check_defaults(void **state)
{
	struct xlb_vip_cfg v = {.key = vkey("198.19.0.1:80/tcp")};
	struct xlb_err err = {{0}};
	struct xlb_check_cfg c;
	struct xlb_model m;
	(void)state;

	xlb_check_init(&c);
	assert_int_equal(c.kind, XLB_CHECK_NONE);
	assert_int_equal(c.tunnel, 1);
	assert_int_equal(c.port, 0);
	assert_int_equal(c.interval_ms, 1000);
	/* Long enough for a busy host, still below the interval. */
	assert_int_equal(c.timeout_ms, 900);
	assert_int_equal(c.rise, 2);
	assert_int_equal(c.fall, 3);
	assert_int_equal(c.http_status, 200);
	assert_string_equal(c.http_path, "/");
	assert_string_equal(c.http_body, "");
	assert_string_equal(c.udp_send, "");
	assert_string_equal(c.exec_cmd, "");
	assert_int_equal(xlb_check_validate(&c, &err), 0);

	/* A short interval gets a timeout that fits in it. */
	assert_int_equal(xlb_check_default_timeout(1000), 900);
	assert_int_equal(xlb_check_default_timeout(100), 90);
	assert_int_equal(xlb_check_default_timeout(2000), 1800);
	assert_int_equal(xlb_check_default_timeout(3600000), 2000);
	assert_int_equal(xlb_check_default_timeout(10), 9);
	for (__u32 i = XLB_CHECK_INTERVAL_MS_MIN; i < 5000; i += 7)
		assert_true(xlb_check_default_timeout(i) < i);

	xlb_model_init(&m);
	assert_int_equal(m.global.flap_count, 4);
	assert_int_equal(m.global.flap_window_ms, 60000);
	assert_int_equal(m.global.flap_hold_ms, 30000);
	/* A VIP added with a zeroed check gets the defaults, kind none. */
	assert_int_equal(xlb_model_vip_add(&m, &v, &err), 0);
	xlb_check_init(&c);
	assert_memory_equal(&m.vips[0].check, &c, sizeof(c));
	assert_int_equal(m.vips[0].all_down, XLB_ALL_DOWN_DROP);
	assert_int_equal(m.vips[0].slow_start_ms, 0);
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	xlb_model_free(&m);
}

static void test_check_names(void **state)
{
	static const char *const kinds[] = {"none", "tcp", "http", "udp",
					    "exec"};
	struct xlb_err err = {{0}};
	__u8 v;
	(void)state;

	for (__u8 i = 0; i < 5; i++) {
		assert_int_equal(xlb_parse_check_kind(kinds[i], &v, &err), 0);
		assert_int_equal(v, i);
		assert_string_equal(xlb_check_kind_name(i), kinds[i]);
	}
	assert_int_equal(xlb_parse_check_kind("HTTP", &v, &err), 0);
	assert_int_equal(v, XLB_CHECK_HTTP);
	assert_int_equal(xlb_parse_check_kind("icmp", &v, &err), -EINVAL);
	assert_msg_has(&err, "unknown check kind 'icmp'");
	assert_int_equal(xlb_parse_check_kind("", &v, &err), -EINVAL);
	assert_int_equal(xlb_parse_check_kind(NULL, &v, &err), -EINVAL);
	assert_string_equal(xlb_check_kind_name(9), "unknown");

	assert_int_equal(xlb_parse_all_down("drop", &v, &err), 0);
	assert_int_equal(v, XLB_ALL_DOWN_DROP);
	assert_int_equal(xlb_parse_all_down("keep", &v, &err), 0);
	assert_int_equal(v, XLB_ALL_DOWN_KEEP);
	assert_int_equal(xlb_parse_all_down("hold", &v, &err), -EINVAL);
	assert_msg_has(&err, "expected drop or keep");
	assert_string_equal(xlb_all_down_name(XLB_ALL_DOWN_KEEP), "keep");
	assert_string_equal(xlb_all_down_name(7), "unknown");

	assert_true(xlb_check_field_applies(XLB_CHECK_HTTP, "http_path"));
	assert_false(xlb_check_field_applies(XLB_CHECK_TCP, "http_path"));
	assert_true(xlb_check_field_applies(XLB_CHECK_UDP, "udp_expect"));
	assert_true(xlb_check_field_applies(XLB_CHECK_EXEC, "exec_cmd"));
	assert_true(xlb_check_field_applies(XLB_CHECK_EXEC, "port"));
	assert_false(xlb_check_field_applies(XLB_CHECK_EXEC, "tunnel"));
	assert_false(xlb_check_field_applies(XLB_CHECK_NONE, "rise"));
	assert_true(xlb_check_field_applies(XLB_CHECK_NONE, "kind"));
	assert_false(xlb_check_field_applies(XLB_CHECK_TCP, "bogus"));
	assert_false(xlb_check_field_applies(9, "kind"));
}

static void test_check_validate(void **state)
{
	static const struct {
		const char *what;
		__u8 kind;
		__u32 interval, timeout;	/* 0: keep the default */
		int rise, fall, status, tunnel; /* -1: keep */
		const char *path, *cmd, *send;	/* NULL: keep */
		bool path_unterminated;
		const char *want;
	} bad[] = {
		{"unknown kind", 9, 0, 0, -1, -1, -1, -1, NULL, NULL, NULL,
		 false, "unknown check kind 9"},
		{"interval too short", XLB_CHECK_TCP, 5, 2, -1, -1, -1, -1,
		 NULL, NULL, NULL, false,
		 "interval 5 ms out of range 10..3600000"},
		{"interval too long", XLB_CHECK_TCP, 3600001, 0, -1, -1, -1, -1,
		 NULL, NULL, NULL, false, "interval 3600001 ms"},
		/* -5 as the unsigned field holds it. */
		{"negative interval", XLB_CHECK_TCP, (__u32)-5, 0, -1, -1, -1,
		 -1, NULL, NULL, NULL, false, "out of range 10..3600000"},
		{"timeout = interval", XLB_CHECK_TCP, 1000, 1000, -1, -1, -1,
		 -1, NULL, NULL, NULL, false,
		 "timeout 1000 ms must be shorter than the interval 1000 ms"},
		{"timeout > interval", XLB_CHECK_HTTP, 100, 200, -1, -1, -1, -1,
		 NULL, NULL, NULL, false, "must be shorter than the interval"},
		{"rise 0", XLB_CHECK_TCP, 0, 0, 0, -1, -1, -1, NULL, NULL, NULL,
		 false, "rise 0 out of range 1..100"},
		{"rise 101", XLB_CHECK_TCP, 0, 0, 101, -1, -1, -1, NULL, NULL,
		 NULL, false, "rise 101"},
		{"fall 0", XLB_CHECK_UDP, 0, 0, -1, 0, -1, -1, NULL, NULL, "x",
		 false, "fall 0 out of range 1..100"},
		{"fall 101", XLB_CHECK_TCP, 0, 0, -1, 101, -1, -1, NULL, NULL,
		 NULL, false, "fall 101"},
		{"status 99", XLB_CHECK_HTTP, 0, 0, -1, -1, 99, -1, NULL, NULL,
		 NULL, false, "http_status 99 out of range 100..599"},
		{"status 600", XLB_CHECK_HTTP, 0, 0, -1, -1, 600, -1, NULL,
		 NULL, NULL, false, "http_status 600"},
		{"tunnel 2", XLB_CHECK_TCP, 0, 0, -1, -1, -1, 2, NULL, NULL,
		 NULL, false, "tunnel 2"},
		{"relative path", XLB_CHECK_HTTP, 0, 0, -1, -1, -1, -1,
		 "health", NULL, NULL, false,
		 "http_path 'health' must start with '/'"},
		{"empty path", XLB_CHECK_HTTP, 0, 0, -1, -1, -1, -1, "", NULL,
		 NULL, false, "must start with '/'"},
		{"space in path", XLB_CHECK_HTTP, 0, 0, -1, -1, -1, -1, "/a b",
		 NULL, NULL, false, "space or a control character"},
		{"CRLF in path", XLB_CHECK_HTTP, 0, 0, -1, -1, -1, -1,
		 "/a\r\nHost: x", NULL, NULL, false, "control character"},
		{"unterminated path", XLB_CHECK_TCP, 0, 0, -1, -1, -1, -1, NULL,
		 NULL, NULL, true, "http_path longer than 127 characters"},
		{"exec without a command", XLB_CHECK_EXEC, 0, 0, -1, -1, -1, -1,
		 NULL, "", NULL, false, "an exec check needs a command"},
		{"udp without a payload", XLB_CHECK_UDP, 0, 0, -1, -1, -1, -1,
		 NULL, NULL, "", false, "a udp check needs a payload"},
	};
	struct xlb_vip_key portless = vkey("198.19.0.1/tcp");
	struct xlb_vip_key ported = vkey("198.19.0.1:80/tcp");
	struct xlb_err err = {{0}};
	struct xlb_check_cfg c;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		xlb_check_init(&c);
		c.kind = bad[i].kind;
		if (bad[i].interval)
			c.interval_ms = bad[i].interval;
		if (bad[i].timeout)
			c.timeout_ms = bad[i].timeout;
		if (bad[i].rise >= 0)
			c.rise = bad[i].rise;
		if (bad[i].fall >= 0)
			c.fall = bad[i].fall;
		if (bad[i].status >= 0)
			c.http_status = bad[i].status;
		if (bad[i].tunnel >= 0)
			c.tunnel = bad[i].tunnel;
		if (bad[i].path)
			strcpy(c.http_path, bad[i].path);
		if (bad[i].path_unterminated)
			memset(c.http_path, '/', sizeof(c.http_path));
		strcpy(c.exec_cmd, bad[i].cmd ? bad[i].cmd : "true");
		strcpy(c.udp_send, bad[i].send ? bad[i].send : "ping");
		memset(&err, 0, sizeof(err));
		if (xlb_check_validate(&c, &err) != -EINVAL)
			fail_msg("%s: accepted", bad[i].what);
		if (!strstr(err.msg, bad[i].want))
			fail_msg("%s: message '%s' lacks '%s'", bad[i].what,
				 err.msg, bad[i].want);
		/* The VIP-level check refuses it the same way. */
		assert_int_equal(xlb_vip_check_validate(&ported, &c, &err),
				 -EINVAL);
	}

	/* Good ones of every kind. */
	c = tcp_check();
	assert_int_equal(xlb_check_validate(&c, &err), 0);
	c.interval_ms = 10;
	c.timeout_ms = 9;
	c.rise = c.fall = 100;
	assert_int_equal(xlb_check_validate(&c, &err), 0);
	c.interval_ms = 3600000;
	c.timeout_ms = 1;
	c.rise = c.fall = 1;
	assert_int_equal(xlb_check_validate(&c, &err), 0);
	xlb_check_init(&c);
	c.kind = XLB_CHECK_HTTP;
	strcpy(c.http_path, "/health?full=1");
	strcpy(c.http_body, "ok");
	c.http_status = 204;
	assert_int_equal(xlb_check_validate(&c, &err), 0);
	xlb_check_init(&c);
	c.kind = XLB_CHECK_UDP;
	strcpy(c.udp_send, "ping");
	assert_int_equal(xlb_check_validate(&c, &err), 0);
	xlb_check_init(&c);
	c.kind = XLB_CHECK_EXEC;
	strcpy(c.exec_cmd, "test -e /tmp/up");
	assert_int_equal(xlb_check_validate(&c, &err), 0);
	/* Fields of other kinds are not a TCP check's business. */
	c = tcp_check();
	c.http_status = 0;
	c.http_path[0] = '\0';
	assert_int_equal(xlb_check_validate(&c, &err), 0);
	/* Kind none: nothing else matters (but strings stay terminated). */
	memset(&c, 0, sizeof(c));
	assert_int_equal(xlb_check_validate(&c, &err), 0);
	memset(c.exec_cmd, 'x', sizeof(c.exec_cmd));
	assert_int_equal(xlb_check_validate(&c, &err), -EINVAL);
	assert_msg_has(&err, "exec_cmd longer than 255");

	/* A port-less VIP: network checks need a port of their own. */
	c = tcp_check();
	assert_int_equal(xlb_check_validate(&c, &err), 0);
	assert_int_equal(xlb_vip_check_validate(&portless, &c, &err), -EINVAL);
	assert_msg_has(&err, "VIP 198.19.0.1/tcp has no port: a tcp check");
	c.kind = XLB_CHECK_HTTP;
	assert_int_equal(xlb_vip_check_validate(&portless, &c, &err), -EINVAL);
	c.kind = XLB_CHECK_UDP;
	strcpy(c.udp_send, "ping");
	assert_int_equal(xlb_vip_check_validate(&portless, &c, &err), -EINVAL);
	c.port = 8080;
	assert_int_equal(xlb_vip_check_validate(&portless, &c, &err), 0);
	c = tcp_check();
	assert_int_equal(xlb_vip_check_validate(&ported, &c, &err), 0);
	c.kind = XLB_CHECK_EXEC;
	strcpy(c.exec_cmd, "true");
	assert_int_equal(xlb_vip_check_validate(&portless, &c, &err), 0);
	c.kind = XLB_CHECK_NONE;
	assert_int_equal(xlb_vip_check_validate(&portless, &c, &err), 0);
}

static void test_check_edits(void **state)
{
	struct xlb_vip_key k = vkey("198.19.0.1:80/tcp");
	struct xlb_vip_key k6 = vkey("[2001:db8::1]:443/udp");
	struct xlb_vip_key unknown = vkey("198.19.0.9:80/tcp");
	struct xlb_backend_cfg b1 = backend("198.18.1.1", 1, XLB_BACKEND_UP);
	struct xlb_backend_cfg b2 = backend("2001:db8:1::1", 1, XLB_BACKEND_UP);
	struct xlb_backend_cfg nb = backend("198.18.9.9", 1, XLB_BACKEND_UP);
	struct xlb_err err = {{0}};
	struct xlb_check_cfg c, own, bad;
	struct xlb_vip_cfg *v;
	struct xlb_model m, before;
	(void)state;

	build_sample(&m);
	v = xlb_model_vip(&m, &k);
	/* Nothing checked yet: every backend inherits kind none. */
	assert_ptr_equal(xlb_backend_check(v, &v->backends[0]), &v->check);
	assert_int_equal(xlb_backend_check(v, &v->backends[0])->kind,
			 XLB_CHECK_NONE);

	/* The VIP's check, inherited by both backends. */
	c = tcp_check();
	c.interval_ms = 2000;
	assert_int_equal(xlb_model_check_set(&m, &k, NULL, 0, &c, &err), 0);
	v = xlb_model_vip(&m, &k);
	assert_int_equal(v->check.kind, XLB_CHECK_TCP);
	assert_int_equal(v->check.interval_ms, 2000);
	assert_ptr_equal(xlb_backend_check(v, &v->backends[0]), &v->check);
	assert_ptr_equal(xlb_backend_check(v, &v->backends[1]), &v->check);

	/* One backend's own: the other still inherits. */
	xlb_check_init(&own);
	own.kind = XLB_CHECK_HTTP;
	own.tunnel = 0;
	own.port = 8080;
	strcpy(own.http_path, "/ready");
	assert_int_equal(
		xlb_model_check_set(&m, &k, &b1.addr, b1.family, &own, &err),
		0);
	v = xlb_model_vip(&m, &k);
	assert_non_null(v->backends[0].check);
	assert_ptr_not_equal(v->backends[0].check, &own);
	assert_true(xlb_check_equal(v->backends[0].check, &own));
	assert_ptr_equal(xlb_backend_check(v, &v->backends[0]),
			 v->backends[0].check);
	assert_ptr_equal(xlb_backend_check(v, &v->backends[1]), &v->check);
	assert_int_equal(xlb_model_validate(&m, &err), 0);

	/* Replacing it: the whole definition, in place. */
	own.port = 9090;
	assert_int_equal(
		xlb_model_check_set(&m, &k, &b1.addr, b1.family, &own, &err),
		0);
	assert_int_equal(xlb_model_vip(&m, &k)->backends[0].check->port, 9090);

	/* Rejections change nothing, on the VIP and on either backend. */
	bad = tcp_check();
	bad.timeout_ms = bad.interval_ms;
	EXPECT_REJECT(&m, -EINVAL,
		      xlb_model_check_set(&m, &k, NULL, 0, &bad, &err));
	assert_msg_has(&err, "timeout 1000 ms must be shorter than the "
			     "interval 1000 ms");
	EXPECT_REJECT(
		&m, -EINVAL,
		xlb_model_check_set(&m, &k, &b1.addr, b1.family, &bad, &err));
	EXPECT_REJECT(
		&m, -EINVAL,
		xlb_model_check_set(&m, &k, &b2.addr, b2.family, &bad, &err));
	assert_null(xlb_model_vip(&m, &k)->backends[1].check);
	bad = tcp_check();
	bad.kind = 42;
	EXPECT_REJECT(&m, -EINVAL,
		      xlb_model_check_set(&m, &k, NULL, 0, &bad, &err));
	bad.kind = XLB_CHECK_EXEC;
	EXPECT_REJECT(&m, -EINVAL,
		      xlb_model_check_set(&m, &k, NULL, 0, &bad, &err));
	assert_msg_has(&err, "exec check needs a command");
	EXPECT_REJECT(&m, -ENOENT,
		      xlb_model_check_set(&m, &unknown, NULL, 0, &c, &err));
	assert_msg_has(&err, "unknown VIP 198.19.0.9:80/tcp");
	EXPECT_REJECT(
		&m, -ENOENT,
		xlb_model_check_set(&m, &k, &nb.addr, nb.family, &c, &err));
	assert_msg_has(&err, "backend 198.18.9.9 not in VIP");
	/* The backend of another VIP is not this VIP's. */
	EXPECT_REJECT(
		&m, -ENOENT,
		xlb_model_check_set(&m, &k6, &b2.addr, b2.family, &c, &err));

	/* Kind none on a backend: its own, exempt from the VIP's. */
	xlb_check_init(&c);
	c.interval_ms = 0; /* ignored and stored as the default */
	assert_int_equal(
		xlb_model_check_set(&m, &k, &b2.addr, b2.family, &c, &err), 0);
	v = xlb_model_vip(&m, &k);
	assert_non_null(v->backends[1].check);
	assert_int_equal(xlb_backend_check(v, &v->backends[1])->kind,
			 XLB_CHECK_NONE);
	assert_int_equal(v->backends[1].check->interval_ms, 1000);
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	/* An own none differs from inheriting. */
	assert_int_equal(xlb_model_copy(&before, &m), 0);
	assert_int_equal(xlb_model_check_del(&m, &k, &b2.addr, b2.family, &err),
			 0);
	v = xlb_model_vip(&m, &k);
	assert_null(v->backends[1].check);
	assert_false(xlb_model_equal(&before, &m, true));
	xlb_model_free(&before);
	EXPECT_REJECT(&m, -ENOENT,
		      xlb_model_check_del(&m, &k, &b2.addr, b2.family, &err));
	assert_msg_has(&err, "has no check of its own");
	EXPECT_REJECT(&m, -ENOENT,
		      xlb_model_check_del(&m, &k, &nb.addr, nb.family, &err));
	EXPECT_REJECT(&m, -ENOENT,
		      xlb_model_check_del(&m, &unknown, NULL, 0, &err));

	/* The VIP's back to none; the backend's own stays. */
	assert_int_equal(xlb_model_check_del(&m, &k, NULL, 0, &err), 0);
	v = xlb_model_vip(&m, &k);
	assert_int_equal(v->check.kind, XLB_CHECK_NONE);
	assert_int_equal(v->check.interval_ms, 1000);
	assert_non_null(v->backends[0].check);
	EXPECT_REJECT(&m, -ENOENT, xlb_model_check_del(&m, &k, NULL, 0, &err));
	assert_msg_has(&err, "VIP 198.19.0.1:80/tcp has no check");

	/* Deleting a backend or a VIP frees its own check (valgrind). */
	assert_int_equal(
		xlb_model_backend_del(&m, &k, &b1.addr, b1.family, &err), 0);
	assert_int_equal(
		xlb_model_check_set(&m, &k, &b2.addr, b2.family, &own, &err),
		0);
	assert_int_equal(xlb_model_vip_del(&m, &k, &err), 0);
	xlb_model_free(&m);
}

static void test_check_portless(void **state)
{
	struct xlb_vip_key k = vkey("198.19.0.1/udp");
	struct xlb_backend_cfg b = backend("198.18.1.1", 1, XLB_BACKEND_UP);
	struct xlb_err err = {{0}};
	struct xlb_check_cfg c;
	struct xlb_model m;
	(void)state;

	xlb_model_init(&m);
	add_vip(&m, "198.19.0.1/udp", 0);
	add_backend(&m, "198.19.0.1/udp", "198.18.1.1");
	xlb_check_init(&c);
	c.kind = XLB_CHECK_UDP;
	strcpy(c.udp_send, "ping");
	EXPECT_REJECT(&m, -EINVAL,
		      xlb_model_check_set(&m, &k, NULL, 0, &c, &err));
	assert_msg_has(&err, "has no port");
	EXPECT_REJECT(&m, -EINVAL,
		      xlb_model_check_set(&m, &k, &b.addr, b.family, &c, &err));
	c.port = 53;
	assert_int_equal(xlb_model_check_set(&m, &k, NULL, 0, &c, &err), 0);
	/* The same rule when the model is built by hand. */
	m.vips[0].check.port = 0;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "198.19.0.1/udp: check: VIP 198.19.0.1/udp has "
			     "no port");
	m.vips[0].check.port = 53;
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	xlb_model_free(&m);
}

static void test_vip_set(void **state)
{
	struct xlb_vip_key k = vkey("198.19.0.1:80/tcp");
	struct xlb_vip_key unknown = vkey("198.19.0.9:80/tcp");
	struct xlb_err err = {{0}};
	struct xlb_vip_cfg *v;
	struct xlb_model m;
	(void)state;

	build_sample(&m);
	assert_int_equal(
		xlb_model_vip_set(&m, &k, XLB_ALL_DOWN_KEEP, -1, 5000, &err),
		0);
	v = xlb_model_vip(&m, &k);
	assert_int_equal(v->all_down, XLB_ALL_DOWN_KEEP);
	/* A check-driven down keeps established flows unless told. */
	assert_int_equal(v->on_check_down, XLB_CHECK_DOWN_KEEP);
	assert_int_equal(v->slow_start_ms, 5000);
	/* -1 keeps either. */
	assert_int_equal(xlb_model_vip_set(&m, &k, -1, -1, 0, &err), 0);
	assert_int_equal(v->all_down, XLB_ALL_DOWN_KEEP);
	assert_int_equal(v->slow_start_ms, 0);
	assert_int_equal(
		xlb_model_vip_set(&m, &k, XLB_ALL_DOWN_DROP, -1, -1, &err), 0);
	assert_int_equal(v->all_down, XLB_ALL_DOWN_DROP);
	assert_int_equal(v->slow_start_ms, 0);
	assert_int_equal(xlb_model_vip_set(&m, &k, -1, -1, 3600000, &err), 0);
	assert_int_equal(
		xlb_model_vip_set(&m, &k, -1, XLB_CHECK_DOWN_MOVE, -1, &err),
		0);
	assert_int_equal(v->on_check_down, XLB_CHECK_DOWN_MOVE);
	assert_int_equal(v->slow_start_ms, 3600000);

	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_set(&m, &k, 2, -1, -1, &err));
	assert_msg_has(&err, "all_down 2");
	EXPECT_REJECT(&m, -EINVAL,
		      xlb_model_vip_set(&m, &k, -1, -1, 3600001, &err));
	assert_msg_has(&err, "slow_start_ms 3600001 out of range");
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_set(&m, &k, -1, 2, -1, &err));
	assert_msg_has(&err, "on_check_down 2");
	EXPECT_REJECT(&m, -ENOENT,
		      xlb_model_vip_set(&m, &unknown, 1, 1, 1, &err));

	/* Validation sees them too. */
	m.vips[0].all_down = 2;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	m.vips[0].all_down = 0;
	m.vips[0].slow_start_ms = 3600001;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	xlb_model_free(&m);
}

static void test_global_set(void **state)
{
	static const struct {
		__u32 count, window, hold;
		const char *want;
	} bad[] = {
		{17, 60000, 30000, "flap_count 17 out of range 0..16"},
		{4, 99, 30000, "flap_window_ms 99 out of range 100..86400000"},
		{4, 86400001, 30000, "flap_window_ms 86400001"},
		{4, 60000, 0, "flap_hold_ms 0 out of range"},
		{4, 60000, 86400001, "flap_hold_ms 86400001"},
	};
	struct xlb_err err = {{0}};
	struct xlb_global_cfg g, saved;
	struct xlb_model m;
	(void)state;

	build_sample(&m);
	g = m.global;
	g.flap_count = 0;
	g.flap_window_ms = 100;
	g.flap_hold_ms = 86400000;
	g.ttl = 3;
	assert_int_equal(xlb_model_global_set(&m, &g, &err), 0);
	assert_int_equal(m.global.flap_count, 0);
	assert_int_equal(m.global.ttl, 3);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		g = m.global;
		g.flap_count = bad[i].count;
		g.flap_window_ms = bad[i].window;
		g.flap_hold_ms = bad[i].hold;
		EXPECT_REJECT(&m, -EINVAL, xlb_model_global_set(&m, &g, &err));
		assert_msg_has(&err, bad[i].want);
		/* The same values written by hand fail validation. */
		saved = m.global;
		m.global = g;
		assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
		m.global = saved;
	}
	g = m.global;
	g.ttl = 0;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_global_set(&m, &g, &err));
	xlb_model_free(&m);
}

static void test_check_add_copies(void **state)
{
	struct xlb_vip_key k = vkey("198.19.0.1:80/tcp");
	struct xlb_backend_cfg b = backend("198.18.1.1", 1, XLB_BACKEND_UP);
	struct xlb_vip_cfg v = {.key = k};
	struct xlb_err err = {{0}};
	struct xlb_check_cfg own = tcp_check();
	struct xlb_model m;
	(void)state;

	xlb_model_init(&m);
	/* A VIP with a bad check is not added. */
	v.check = tcp_check();
	v.check.rise = 0;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	assert_msg_has(&err, "check: rise 0");
	v.check.rise = 2;
	v.all_down = 3;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	v.all_down = XLB_ALL_DOWN_KEEP;
	v.slow_start_ms = 10000;
	assert_int_equal(xlb_model_vip_add(&m, &v, &err), 0);
	assert_int_equal(m.vips[0].check.kind, XLB_CHECK_TCP);
	assert_int_equal(m.vips[0].all_down, XLB_ALL_DOWN_KEEP);
	assert_int_equal(m.vips[0].slow_start_ms, 10000);

	/* A backend's own check is copied, never referenced. */
	own.fall = 0;
	b.check = &own;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_backend_add(&m, &k, &b, &err));
	assert_msg_has(&err, "backend 198.18.1.1: check: fall 0");
	own.fall = 5;
	assert_int_equal(xlb_model_backend_add(&m, &k, &b, &err), 0);
	assert_non_null(m.vips[0].backends[0].check);
	assert_ptr_not_equal(m.vips[0].backends[0].check, &own);
	own.fall = 7;
	assert_int_equal(m.vips[0].backends[0].check->fall, 5);

	/* Validation finds a bad own check, with its backend. */
	m.vips[0].backends[0].check->timeout_ms = 5000;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "198.19.0.1:80/tcp: backend 198.18.1.1: check: "
			     "timeout 5000 ms must be shorter");
	xlb_model_free(&m);
}

static void test_check_copy_deep(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_check_cfg own = tcp_check();
	struct xlb_model a, b;
	struct xlb_check_cfg *ca;
	(void)state;

	build_sample(&a);
	own.port = 8080;
	assert_int_equal(xlb_model_check_set(&a, &a.vips[0].key,
					     &a.vips[0].backends[0].addr,
					     a.vips[0].backends[0].family, &own,
					     &err),
			 0);
	assert_int_equal(xlb_model_check_set(&a, &a.vips[0].key,
					     &a.vips[0].backends[1].addr,
					     a.vips[0].backends[1].family, &own,
					     &err),
			 0);
	assert_int_equal(xlb_model_copy(&b, &a), 0);
	assert_true(xlb_model_equal(&a, &b, true));
	/* Each model has its own check objects. */
	assert_non_null(b.vips[0].backends[0].check);
	assert_ptr_not_equal(a.vips[0].backends[0].check,
			     b.vips[0].backends[0].check);
	assert_ptr_not_equal(a.vips[0].backends[1].check,
			     b.vips[0].backends[1].check);
	assert_null(b.vips[1].backends[0].check);

	/* Changing one leaves the other as it was. */
	ca = a.vips[0].backends[0].check;
	b.vips[0].backends[0].check->port = 9090;
	assert_int_equal(ca->port, 8080);
	assert_false(xlb_model_equal(&a, &b, true));
	b.vips[0].backends[0].check->port = 8080;
	assert_true(xlb_model_equal(&a, &b, true));
	b.vips[0].check = tcp_check();
	assert_false(xlb_model_equal(&a, &b, false));
	xlb_check_init(&b.vips[0].check);
	/* Two none checks are equal whatever else they hold. */
	b.vips[0].check.interval_ms = 0;
	assert_true(xlb_model_equal(&a, &b, true));
	b.vips[0].slow_start_ms = 1;
	assert_false(xlb_model_equal(&a, &b, true));
	b.vips[0].slow_start_ms = 0;
	b.vips[0].all_down = XLB_ALL_DOWN_KEEP;
	assert_false(xlb_model_equal(&a, &b, true));
	b.vips[0].all_down = XLB_ALL_DOWN_DROP;
	b.global.flap_hold_ms++;
	assert_false(xlb_model_equal(&a, &b, true));
	b.global.flap_hold_ms--;
	/* Own vs inherited: not equal even when the same values. */
	xlb_model_check_del(&b, &b.vips[0].key, &b.vips[0].backends[0].addr,
			    b.vips[0].backends[0].family, &err);
	assert_false(xlb_model_equal(&a, &b, true));

	/* Freeing one does not touch the other's checks (valgrind). */
	xlb_model_free(&a);
	assert_int_equal(b.vips[0].backends[1].check->port, 8080);
	assert_int_equal(xlb_model_validate(&b, &err), 0);
	/* And a copy of a copy, freed first. */
	assert_int_equal(xlb_model_copy(&a, &b), 0);
	xlb_model_free(&b);
	assert_int_equal(a.vips[0].backends[1].check->port, 8080);
	xlb_model_free(&a);
}

/* ---- client-NAT pools -------------------------------------------------- */

static struct xlb_pool_cfg mkpool(const char *name, const char *addrs)
{
	struct xlb_err err = {{0}};
	struct xlb_pool_cfg p;

	xlb_pool_init(&p);
	snprintf(p.name, sizeof(p.name), "%s", name);
	if (xlb_parse_addr_range(addrs, &p.first, &p.last, &p.family, &err))
		fail_msg("cannot parse addresses '%s': %s", addrs, err.msg);
	return p;
}

static void add_pool(struct xlb_model *m, const char *name, const char *addrs)
{
	struct xlb_pool_cfg p = mkpool(name, addrs);
	struct xlb_err err = {{0}};

	if (xlb_model_pool_add(m, &p, &err))
		fail_msg("cannot add pool %s: %s", name, err.msg);
}

/* A pool alone: refused with a message holding want, or accepted. */
static void pool_bad(struct xlb_pool_cfg p, const char *want)
{
	struct xlb_err err = {{0}};

	if (xlb_pool_validate(&p, &err) != -EINVAL)
		fail_msg("pool %s accepted, want '%s'", p.name, want);
	assert_msg_has(&err, want);
}

static void pool_ok(struct xlb_pool_cfg p)
{
	struct xlb_err err = {{0}};

	if (xlb_pool_validate(&p, &err))
		fail_msg("pool %s refused: %s", p.name, err.msg);
}

static void test_pool_text(void **state)
{
	struct xlb_err err = {{0}};
	union xlb_addr a, b;
	char buf[2 * XLB_ADDR_STRLEN];
	__u16 lo, hi;
	__u8 fam, mode;
	(void)state;

	assert_int_equal(xlb_parse_addr_range("198.18.2.0-198.18.2.15", &a, &b,
					      &fam, &err),
			 0);
	assert_int_equal(fam, XLB_AF_INET);
	assert_string_equal(
		xlb_format_addr_range(&a, &b, fam, buf, sizeof(buf)),
		"198.18.2.0-198.18.2.15");
	assert_int_equal(
		xlb_parse_addr_range("2001:db8::1", &a, &b, &fam, &err), 0);
	assert_int_equal(fam, XLB_AF_INET6);
	/* One address is written as one. */
	assert_string_equal(
		xlb_format_addr_range(&a, &b, fam, buf, sizeof(buf)),
		"2001:db8::1");
	assert_int_equal(xlb_parse_addr_range("198.18.2.1-2001:db8::1", &a, &b,
					      &fam, &err),
			 -EINVAL);
	assert_msg_has(&err, "mixes IPv4 and IPv6");
	assert_int_equal(
		xlb_parse_addr_range("198.18.2.1-", &a, &b, &fam, &err),
		-EINVAL);
	assert_int_equal(xlb_parse_addr_range("", &a, &b, &fam, &err), -EINVAL);

	assert_int_equal(xlb_parse_port_range("1024-65535", &lo, &hi, &err), 0);
	assert_int_equal(lo, 1024);
	assert_int_equal(hi, 65535);
	assert_int_equal(xlb_parse_port_range("80", &lo, &hi, &err), 0);
	assert_int_equal(lo, 80);
	assert_int_equal(hi, 80);
	assert_int_equal(xlb_parse_port_range("0-10", &lo, &hi, &err), -EINVAL);
	assert_int_equal(xlb_parse_port_range("1-65536", &lo, &hi, &err),
			 -EINVAL);
	assert_int_equal(xlb_parse_port_range("5-", &lo, &hi, &err), -EINVAL);
	assert_int_equal(xlb_parse_port_range("-5", &lo, &hi, &err), -EINVAL);

	assert_int_equal(xlb_parse_vip_mode("nat", &mode, &err), 0);
	assert_int_equal(mode, XLB_VIP_MODE_NAT);
	assert_int_equal(xlb_parse_vip_mode("dsr", &mode, &err), 0);
	assert_int_equal(mode, XLB_VIP_MODE_DSR);
	assert_int_equal(xlb_parse_vip_mode("snat", &mode, &err), -EINVAL);
	assert_string_equal(xlb_vip_mode_name(XLB_VIP_MODE_NAT), "nat");
}

/* Each rule of one pool: a case refused for its reason, one accepted. */
static void test_pool_rules(void **state)
{
	struct xlb_pool_cfg p;
	(void)state;

	/* Names. */
	pool_ok(mkpool("nat-1_a.b", "198.18.2.1"));
	pool_bad(mkpool("", "198.18.2.1"), "empty pool name");
	pool_bad(mkpool("a b", "198.18.2.1"), "bad pool name 'a b'");
	pool_bad(mkpool("a/b", "198.18.2.1"), "bad pool name");
	p = mkpool("x", "198.18.2.1");
	memset(p.name, 'a', sizeof(p.name));
	pool_bad(p, "longer than 31");
	memset(p.name, 'a', sizeof(p.name) - 1);
	p.name[sizeof(p.name) - 1] = '\0';
	pool_ok(p);

	/* Order of the range. */
	pool_bad(mkpool("p", "198.18.2.9-198.18.2.1"),
		 "first is after the last");
	pool_ok(mkpool("p", "198.18.2.1-198.18.2.9"));

	/* Unicast, IPv4: every address of the range. */
	pool_bad(mkpool("p", "0.0.0.1"), "0.0.0.0/8");
	pool_bad(mkpool("p", "127.0.0.1"), "loopback");
	pool_bad(mkpool("p", "126.255.255.250-127.0.0.1"), "loopback");
	pool_bad(mkpool("p", "224.0.0.1"), "multicast");
	pool_bad(mkpool("p", "240.0.0.1"), "reserved or broadcast");
	pool_bad(mkpool("p", "255.255.255.255"), "broadcast");
	pool_ok(mkpool("p", "126.255.0.0-126.255.255.255"));
	pool_ok(mkpool("p", "223.255.255.255"));

	/* Unicast, IPv6; and one /96. */
	pool_bad(mkpool("p", "::"), "unspecified");
	pool_bad(mkpool("p", "::-::5"), "unspecified");
	pool_bad(mkpool("p", "::1"), "loopback");
	pool_bad(mkpool("p", "ff02::1-ff02::5"), "multicast");
	pool_bad(mkpool("p", "::ffff:127.0.0.1"), "loopback");
	pool_ok(mkpool("p", "::2-::9"));
	pool_bad(mkpool("p", "2001:db8::1-2001:db8:0:0:1::1"), "one /96");
	pool_ok(mkpool("p", "2001:db8::1:0:0-2001:db8::1:0:ffff"));
	pool_bad(mkpool("p", "2001:db8::1:0:0-2001:db8::1:1:0"),
		 "65537 addresses");

	/* At most 65536 addresses. */
	pool_bad(mkpool("p", "198.18.0.0-198.19.0.0"),
		 "65537 addresses, at most 65536");
	pool_ok(mkpool("p", "198.18.0.0-198.18.255.255"));

	/* Ports. */
	p = mkpool("p", "198.18.2.1");
	p.port_lo = 0;
	pool_bad(p, "ports 0-65535");
	p.port_lo = 2000;
	p.port_hi = 1999;
	pool_bad(p, "ports 2000-1999");
	p.port_hi = 2000;
	pool_ok(p);
	p.port_lo = 1;
	p.port_hi = 65535;
	pool_ok(p);

	/* Sub-pools and their refill. */
	p.port_lo = 1000;
	p.port_hi = 1999;
	p.subpool_ports = 1001;
	pool_bad(p, "subpool_ports 1001 is more than the 1000 ports");
	p.subpool_ports = 1000;
	pool_ok(p);
	p.refill_percent = 0;
	pool_bad(p, "refill_percent 0 out of range 1..90");
	p.refill_percent = 91;
	pool_bad(p, "refill_percent 91");
	p.refill_percent = 90;
	pool_ok(p);

	/* Layout ids. */
	p.pool_id = XLB_MAX_POOLS;
	pool_bad(p, "pool_id");
	p.pool_id = XLB_MAX_POOLS - 1;
	pool_ok(p);
	p.subpool_base = XLB_MAX_SUBPOOLS - 10;
	p.n_subpools = 11;
	pool_bad(p, "beyond the last id");
	p.n_subpools = 10;
	pool_ok(p);

	/* IPv4 with stray upper words would never match. */
	p = mkpool("p", "198.18.2.1");
	p.last.v6[2] = 1;
	pool_bad(p, "non-zero upper words");
	p = mkpool("p", "198.18.2.1");
	p.family = 7;
	pool_bad(p, "family 7");
}

static void test_pool_edits(void **state)
{
	struct xlb_vip_key k = vkey("198.19.0.1:80/tcp");
	struct xlb_err err = {{0}};
	struct xlb_pool_cfg p;
	struct xlb_model m;
	char name[16];
	(void)state;

	xlb_model_init(&m);
	add_pool(&m, "p2", "198.18.2.0-198.18.2.15");
	add_pool(&m, "p1", "198.18.3.0-198.18.3.15");
	/* Kept in name order. */
	assert_int_equal(m.n_pools, 2);
	assert_string_equal(m.pools[0].name, "p1");
	assert_string_equal(m.pools[1].name, "p2");
	assert_ptr_equal(xlb_model_pool(&m, "p2"), &m.pools[1]);
	assert_null(xlb_model_pool_get(&m, "p3", &err));
	assert_msg_has(&err, "unknown pool p3");
	assert_int_equal(xlb_model_validate(&m, &err), 0);

	/* A name taken, an id taken, addresses shared, a bad pool. */
	p = mkpool("p1", "198.18.4.1");
	EXPECT_REJECT(&m, -EEXIST, xlb_model_pool_add(&m, &p, &err));
	assert_msg_has(&err, "pool p1 already exists");
	m.pools[0].pool_id = 5;
	p = mkpool("p3", "198.18.4.1");
	p.pool_id = 5;
	EXPECT_REJECT(&m, -EEXIST, xlb_model_pool_add(&m, &p, &err));
	assert_msg_has(&err, "pool_id 5 of pool p3 is already used by pool p1");
	p = mkpool("p3", "198.18.2.15-198.18.2.20");
	EXPECT_REJECT(&m, -EINVAL, xlb_model_pool_add(&m, &p, &err));
	assert_msg_has(&err, "pool p3: its addresses overlap pool p2's");
	p = mkpool("p3", "198.18.2.16-198.18.2.20");
	assert_int_equal(xlb_model_pool_add(&m, &p, &err), 0);
	p = mkpool("p4", "127.0.0.1");
	EXPECT_REJECT(&m, -EINVAL, xlb_model_pool_add(&m, &p, &err));
	assert_msg_has(&err, "loopback");

	/* A pool holding a VIP's address, either way round. */
	add_vip(&m, "198.19.0.1:80/tcp", 0);
	p = mkpool("p4", "198.19.0.0-198.19.0.9");
	EXPECT_REJECT(&m, -EINVAL, xlb_model_pool_add(&m, &p, &err));
	assert_msg_has(&err,
		       "pool p4: its addresses hold VIP 198.19.0.1:80/tcp");
	add_vip(&m, "198.18.2.5:80/tcp", 0);
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err,
		       "pool p2: its addresses hold VIP 198.18.2.5:80/tcp");
	assert_int_equal(xlb_model_vip_del(&m, &(struct xlb_vip_key){0}, &err),
			 -ENOENT);
	{
		struct xlb_vip_key k2 = vkey("198.18.2.5:80/tcp");

		assert_int_equal(xlb_model_vip_del(&m, &k2, &err), 0);
	}

	/* A pool a VIP names stays; once the VIP is gone it goes. */
	snprintf(m.vips[0].pool, sizeof(m.vips[0].pool), "p1");
	m.vips[0].mode = XLB_VIP_MODE_NAT;
	add_backend(&m, "198.19.0.1:80/tcp", "198.18.31.2");
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	EXPECT_REJECT(&m, -EBUSY, xlb_model_pool_del(&m, "p1", &err));
	assert_string_equal(err.msg,
			    "pool p1 is used by VIP 198.19.0.1:80/tcp");
	EXPECT_REJECT(&m, -ENOENT, xlb_model_pool_del(&m, "p9", &err));
	assert_msg_has(&err, "unknown pool p9");
	assert_int_equal(xlb_model_pool_del(&m, "p2", &err), 0);
	assert_int_equal(xlb_model_vip_del(&m, &k, &err), 0);
	assert_int_equal(xlb_model_pool_del(&m, "p1", &err), 0);
	assert_int_equal(xlb_model_pool_del(&m, "p3", &err), 0);
	assert_int_equal(m.n_pools, 0);
	assert_null(m.pools);

	/* At most XLB_MAX_POOLS - 1. */
	for (unsigned int i = 0; i < XLB_MAX_POOLS - 1; i++) {
		char addr[32];

		snprintf(name, sizeof(name), "p%u", i);
		snprintf(addr, sizeof(addr), "198.18.%u.1", i);
		add_pool(&m, name, addr);
	}
	p = mkpool("last", "198.18.200.1");
	EXPECT_REJECT(&m, -ENOSPC, xlb_model_pool_add(&m, &p, &err));
	assert_msg_has(&err, "too many pools (limit 63)");
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	xlb_model_free(&m);
}

/* The rules between a VIP and its pool, and between pools. */
static void test_pool_vips(void **state)
{
	struct xlb_vip_cfg v = {.key = vkey("198.19.0.1:80/tcp")};
	struct xlb_err err = {{0}};
	struct xlb_pool_cfg tmp;
	struct xlb_model m;
	(void)state;

	xlb_model_init(&m);
	add_pool(&m, "v4", "198.18.2.0-198.18.2.15");
	add_pool(&m, "v6", "2001:db8:2::1-2001:db8:2::ff");

	/* A VIP's mode alone: nat names a pool, dsr none. */
	v.mode = XLB_VIP_MODE_NAT;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	assert_msg_has(&err, "mode nat needs a pool");
	v.mode = XLB_VIP_MODE_DSR;
	snprintf(v.pool, sizeof(v.pool), "v4");
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	assert_msg_has(&err,
		       "pool v4 is for mode nat: a dsr VIP takes no pool");
	v.mode = 2;
	EXPECT_REJECT(&m, -EINVAL, xlb_model_vip_add(&m, &v, &err));
	assert_msg_has(&err, "unknown mode 2");
	v.mode = XLB_VIP_MODE_NAT;
	assert_int_equal(xlb_model_vip_add(&m, &v, &err), 0);
	add_backend(&m, "198.19.0.1:80/tcp", "198.18.31.2");
	assert_int_equal(xlb_model_validate(&m, &err), 0);

	/* The pool must be there... */
	snprintf(m.vips[0].pool, sizeof(m.vips[0].pool), "v9");
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "VIP 198.19.0.1:80/tcp: unknown pool v9");
	/* ...of the VIP's family... */
	snprintf(m.vips[0].pool, sizeof(m.vips[0].pool), "v6");
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "pool v6 is of the other family");
	/* ...and of each backend's. */
	snprintf(m.vips[0].pool, sizeof(m.vips[0].pool), "v4");
	add_backend(&m, "198.19.0.1:80/tcp", "2001:db8:31::2");
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "backend 2001:db8:31::2 is not of its pool v4's "
			     "family");
	/* A dsr VIP mixes families as it always did. */
	m.vips[0].mode = XLB_VIP_MODE_DSR;
	m.vips[0].pool[0] = '\0';
	assert_int_equal(xlb_model_validate(&m, &err), 0);

	/* Pools as a document may hold them: order, ids, overlaps. */
	tmp = m.pools[0];
	m.pools[0] = m.pools[1];
	m.pools[1] = tmp;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "pools out of order at v4");
	m.pools[1] = m.pools[0];
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "pool v6 listed twice");
	m.pools[0] = tmp;
	m.pools[0].pool_id = m.pools[1].pool_id = 3;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "pool_id 3 of pool v6 used twice");
	m.pools[1].pool_id = 4;
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	m.pools[1].family = XLB_AF_INET;
	m.pools[1].first = m.pools[0].last;
	m.pools[1].last = m.pools[0].last;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "overlap");
	xlb_model_free(&m);
}

static void test_nat_timeouts(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_model m;
	(void)state;

	xlb_model_init(&m);
	assert_int_equal(m.global.nat_tcp_timeout_ms,
			 XLB_NAT_TCP_TIMEOUT_MS_DEFAULT);
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	m.global.nat_tcp_timeout_ms = 999;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "nat_tcp_timeout_ms 999 out of range");
	m.global.nat_tcp_timeout_ms = 1000;
	m.global.nat_tcp_closing_ms = XLB_NAT_TIMEOUT_MS_MAX + 1;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "nat_tcp_closing_ms");
	m.global.nat_tcp_closing_ms = XLB_NAT_TIMEOUT_MS_MAX;
	m.global.nat_udp_timeout_ms = 0;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "nat_udp_timeout_ms 0");
	m.global.nat_udp_timeout_ms = 1000;
	m.global.nat_linger_ms = XLB_NAT_LINGER_MS_MAX + 1;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "nat_linger_ms");
	m.global.nat_linger_ms = 0;
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	xlb_model_free(&m);
}

/* ---- egress uplinks ---------------------------------------------------- */

/* An uplink of ifname toward gw, its gateway decoded as the CLI does. */
static struct xlb_uplink_cfg mkuplink(const char *ifname, const char *gw)
{
	const struct xlb_field *f =
		xlb_schema_field(&xlb_uplink_schema, "gateway");
	struct xlb_err err = {{0}};
	struct xlb_uplink_cfg u;

	xlb_uplink_init(&u);
	snprintf(u.ifname, sizeof(u.ifname), "%s", ifname);
	if (gw && xlb_field_from_text(f, gw, false, &u, &err))
		fail_msg("cannot decode gateway '%s': %s", gw, err.msg);
	return u;
}

static void add_uplink(struct xlb_model *m, const char *ifname, const char *gw)
{
	struct xlb_uplink_cfg u = mkuplink(ifname, gw);
	struct xlb_err err = {{0}};

	if (xlb_model_uplink_add(m, &u, &err))
		fail_msg("cannot add uplink %s: %s", ifname, err.msg);
}

/* An uplink alone: refused with a message holding want, or accepted. */
static void uplink_bad(struct xlb_uplink_cfg u, const char *want)
{
	struct xlb_err err = {{0}};

	if (xlb_uplink_validate(&u, &err) != -EINVAL)
		fail_msg("uplink %s accepted, want '%s'", u.ifname, want);
	assert_msg_has(&err, want);
}

static void uplink_ok(struct xlb_uplink_cfg u)
{
	struct xlb_err err = {{0}};

	if (xlb_uplink_validate(&u, &err))
		fail_msg("uplink %s refused: %s", u.ifname, err.msg);
}

/* MACs, and the gateway's one string that is a MAC or an address. */
static void test_uplink_text(void **state)
{
	const struct xlb_field *f =
		xlb_schema_field(&xlb_uplink_schema, "gateway");
	struct xlb_err err = {{0}};
	struct xlb_uplink_cfg u;
	char buf[XLB_MAC_STRLEN];
	__u8 mac[6];
	(void)state;

	assert_int_equal(xlb_parse_mac("02:AB:cd:00:00:ff", mac, &err), 0);
	assert_int_equal(mac[1], 0xab);
	assert_int_equal(mac[5], 0xff);
	assert_string_equal(xlb_format_mac(mac, buf, sizeof(buf)),
			    "02:ab:cd:00:00:ff");
	assert_int_equal(xlb_parse_mac("02:00:00:00:00", mac, &err), -EINVAL);
	assert_msg_has(&err, "bad MAC '02:00:00:00:00'");
	assert_int_equal(xlb_parse_mac("02:00:00:00:00:001", mac, &err),
			 -EINVAL);
	assert_int_equal(xlb_parse_mac("02-00-00-00-00-01", mac, &err),
			 -EINVAL);
	assert_int_equal(xlb_parse_mac("0g:00:00:00:00:01", mac, &err),
			 -EINVAL);
	assert_int_equal(xlb_parse_mac("2:0:0:0:0:1", mac, &err), -EINVAL);

	u = mkuplink("eth1", "02:00:00:00:00:01");
	assert_true(u.gw_is_mac);
	assert_int_equal(u.gw_family, 0);
	/* An address replaces the MAC whole, and the other way round. */
	assert_int_equal(xlb_field_from_text(f, "198.18.0.1", false, &u, &err),
			 0);
	assert_false(u.gw_is_mac);
	assert_int_equal(u.gw_family, XLB_AF_INET);
	assert_int_equal(u.gw_mac[5], 0);
	assert_int_equal(xlb_field_from_text(f, "fe80::1", false, &u, &err), 0);
	assert_int_equal(u.gw_family, XLB_AF_INET6);
	assert_int_equal(
		xlb_field_from_text(f, "02:00:00:00:00:07", false, &u, &err),
		0);
	assert_true(u.gw_is_mac);
	assert_int_equal(u.gw_family, 0);
	assert_int_equal(xlb_field_from_text(f, "router1", false, &u, &err),
			 -EINVAL);
	assert_msg_has(&err, "bad gateway 'router1'");
	/* A refused one leaves what was there. */
	assert_true(u.gw_is_mac);
	assert_int_equal(u.gw_mac[5], 7);
}

/* Each rule of one uplink: a case refused for its reason, one accepted. */
static void test_uplink_rules(void **state)
{
	struct xlb_uplink_cfg u;
	(void)state;

	uplink_ok(mkuplink("eth1", "02:00:00:00:00:01"));
	/* The interface: the kernel's names. */
	uplink_bad(mkuplink("", "02:00:00:00:00:01"), "empty interface name");
	uplink_ok(mkuplink("abcdefghijklmno", "02:00:00:00:00:01"));
	u = mkuplink("x", "02:00:00:00:00:01");
	memset(u.ifname, 'a', sizeof(u.ifname));
	uplink_bad(u, "longer than 15");
	uplink_bad(mkuplink(".", "02:00:00:00:00:01"),
		   "bad interface name '.'");
	uplink_bad(mkuplink("..", "02:00:00:00:00:01"), "bad interface name");
	uplink_bad(mkuplink("a/b", "02:00:00:00:00:01"), "bad interface name");
	uplink_bad(mkuplink("eth0:1", "02:00:00:00:00:01"),
		   "bad interface name");
	uplink_bad(mkuplink("a b", "02:00:00:00:00:01"), "bad interface name");
	uplink_bad(mkuplink("a\tb", "02:00:00:00:00:01"), "bad interface name");
	uplink_bad(mkuplink("a\x01", "02:00:00:00:00:01"),
		   "bad interface name");
	uplink_ok(mkuplink("bond0.100", "02:00:00:00:00:01"));
	uplink_ok(mkuplink("enp1s0f1-x_y", "02:00:00:00:00:01"));

	/* The gateway: required, the next hop's own. */
	uplink_bad(mkuplink("eth1", NULL), "uplink eth1: no gateway");
	uplink_bad(mkuplink("eth1", "01:00:5e:00:00:01"), "is multicast");
	uplink_bad(mkuplink("eth1", "ff:ff:ff:ff:ff:ff"), "is multicast");
	uplink_bad(mkuplink("eth1", "00:00:00:00:00:00"), "is zero");
	uplink_ok(mkuplink("eth1", "00:00:00:00:00:01"));
	uplink_bad(mkuplink("eth1", "0.0.0.0"), "unspecified");
	uplink_bad(mkuplink("eth1", "127.0.0.1"), "loopback");
	uplink_bad(mkuplink("eth1", "224.0.0.1"), "multicast");
	uplink_bad(mkuplink("eth1", "255.255.255.255"), "broadcast");
	uplink_bad(mkuplink("eth1", "::"), "unspecified");
	uplink_bad(mkuplink("eth1", "::1"), "loopback");
	uplink_bad(mkuplink("eth1", "ff02::2"), "gateway address ff02::2 is "
						"multicast");
	uplink_ok(mkuplink("eth1", "198.18.0.254"));
	uplink_ok(mkuplink("eth1", "fe80::1"));
	u = mkuplink("eth1", "198.18.0.254");
	u.gw_family = 7;
	uplink_bad(u, "gateway family 7");

	/* MTU: 0 (the global one) or an IPv4 host's least and up. */
	u = mkuplink("eth1", "02:00:00:00:00:01");
	u.mtu = 575;
	uplink_bad(u, "mtu 575 out of range 576..65535");
	u.mtu = 576;
	uplink_ok(u);
	u.mtu = 65535;
	uplink_ok(u);
	u.mtu = 0;
	uplink_ok(u);

	/* Share: 1 .. XLB_UPLINK_SHARE_MAX. */
	u.share = 0;
	uplink_bad(u, "share 0 out of range 1..1000");
	u.share = XLB_UPLINK_SHARE_MAX + 1;
	uplink_bad(u, "share 1001 out of range");
	u.share = XLB_UPLINK_SHARE_MAX;
	uplink_ok(u);

	/* Id: xlbd's, below XLB_MAX_UPLINKS (0: not yet given). */
	u.id = XLB_MAX_UPLINKS;
	uplink_bad(u, "id 8 out of range 1..7");
	u.id = XLB_MAX_UPLINKS - 1;
	uplink_ok(u);
}

/* Add, set and del; a refused edit changes nothing. */
static void test_uplink_edits(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_uplink_cfg u;
	struct xlb_model m, before;
	char name[8];
	(void)state;

	xlb_model_init(&m);
	add_uplink(&m, "eth2", "198.18.0.254");
	add_uplink(&m, "eth1", "02:00:00:00:00:01");
	assert_int_equal(m.n_uplinks, 2);
	assert_string_equal(m.uplinks[0].ifname, "eth1");
	assert_non_null(xlb_model_uplink(&m, "eth2"));
	assert_null(xlb_model_uplink(&m, "eth3"));
	assert_null(xlb_model_uplink_get(&m, "eth3", &err));
	assert_msg_has(&err, "unknown uplink eth3");
	m.uplinks[1].id = 3; /* as xlbd gives it */
	assert_int_equal(xlb_model_copy(&before, &m), 0);

	/* Refused: the same interface, a bad one, an id taken. */
	u = mkuplink("eth1", "02:00:00:00:00:09");
	assert_int_equal(xlb_model_uplink_add(&m, &u, &err), -EEXIST);
	assert_msg_has(&err, "uplink eth1 already exists");
	u = mkuplink("eth3", "01:00:00:00:00:09");
	assert_int_equal(xlb_model_uplink_add(&m, &u, &err), -EINVAL);
	assert_msg_has(&err, "uplink eth3: gateway MAC 01:00:00:00:00:09");
	u = mkuplink("eth3", "02:00:00:00:00:09");
	u.id = 3;
	assert_int_equal(xlb_model_uplink_add(&m, &u, &err), -EEXIST);
	assert_msg_has(&err, "id 3 of uplink eth3 is already used by uplink "
			     "eth2");
	assert_true(xlb_model_equal(&m, &before, true));

	/* Set: new settings, the id kept whatever the request says. */
	u = mkuplink("eth2", "02:00:00:00:00:02");
	u.share = 5;
	u.mtu = 9000;
	assert_int_equal(xlb_model_uplink_set(&m, &u, &err), 0);
	assert_true(m.uplinks[1].gw_is_mac);
	assert_int_equal(m.uplinks[1].share, 5);
	assert_int_equal(m.uplinks[1].mtu, 9000);
	assert_int_equal(m.uplinks[1].id, 3);
	assert_int_equal(m.n_uplinks, 2);
	xlb_model_free(&before);
	assert_int_equal(xlb_model_copy(&before, &m), 0);
	u.share = 0;
	assert_int_equal(xlb_model_uplink_set(&m, &u, &err), -EINVAL);
	assert_msg_has(&err, "uplink eth2: share 0");
	u = mkuplink("eth3", "02:00:00:00:00:02");
	assert_int_equal(xlb_model_uplink_set(&m, &u, &err), -ENOENT);
	assert_msg_has(&err, "unknown uplink eth3");
	assert_true(xlb_model_equal(&m, &before, true));

	/* Del. */
	assert_int_equal(xlb_model_uplink_del(&m, "eth3", &err), -ENOENT);
	assert_msg_has(&err, "unknown uplink eth3");
	assert_int_equal(xlb_model_uplink_del(&m, "eth1", &err), 0);
	assert_int_equal(m.n_uplinks, 1);
	assert_string_equal(m.uplinks[0].ifname, "eth2");
	assert_int_equal(xlb_model_uplink_del(&m, "eth2", &err), 0);
	assert_int_equal(m.n_uplinks, 0);
	assert_null(m.uplinks);

	/* The limit: XLB_MAX_UPLINKS - 1, id 0 being "none". */
	for (int i = 0; i < XLB_MAX_UPLINKS - 1; i++) {
		snprintf(name, sizeof(name), "eth%d", i);
		add_uplink(&m, name, "02:00:00:00:00:01");
	}
	u = mkuplink("eth9", "02:00:00:00:00:01");
	assert_int_equal(xlb_model_uplink_add(&m, &u, &err), -ENOSPC);
	assert_msg_has(&err, "too many uplinks (limit 7)");
	assert_int_equal(m.n_uplinks, XLB_MAX_UPLINKS - 1);
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	xlb_model_free(&before);
	xlb_model_free(&m);
}

/* The whole model's rules, on a model made by hand (as a file could). */
static void test_uplinks_validate(void **state)
{
	struct xlb_uplink_cfg ups[XLB_MAX_UPLINKS];
	struct xlb_err err = {{0}};
	struct xlb_model m;
	(void)state;

	xlb_model_init(&m);
	m.uplinks = ups;
	ups[0] = mkuplink("eth1", "02:00:00:00:00:01");
	ups[1] = mkuplink("eth2", "02:00:00:00:00:02");
	ups[0].id = 1;
	ups[1].id = 2;
	m.n_uplinks = 2;
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	ups[1].id = 1;
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "id 1 of uplink eth2 used twice");
	ups[1] = ups[0];
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "uplink eth1 listed twice");
	ups[1] = mkuplink("eth0", "02:00:00:00:00:02");
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "uplinks out of order at eth0");
	ups[1] = mkuplink("eth2", NULL);
	assert_int_equal(xlb_model_validate(&m, &err), -EINVAL);
	assert_msg_has(&err, "uplink eth2: no gateway");
	for (int i = 0; i < XLB_MAX_UPLINKS; i++) {
		char name[8];

		snprintf(name, sizeof(name), "eth%d", i);
		ups[i] = mkuplink(name, "02:00:00:00:00:01");
	}
	m.n_uplinks = XLB_MAX_UPLINKS - 1;
	assert_int_equal(xlb_model_validate(&m, &err), 0);
	m.n_uplinks = XLB_MAX_UPLINKS;
	assert_int_equal(xlb_model_validate(&m, &err), -ENOSPC);
	assert_msg_has(&err, "too many uplinks (limit 7)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vip_text_round_trip),
		cmocka_unit_test(test_vip_v4_layout),
		cmocka_unit_test(test_vip_text_bad),
		cmocka_unit_test(test_vip_text_messages),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_addr_rules),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_vip_add_del),
		cmocka_unit_test(test_vip_add_rejects),
		cmocka_unit_test(test_vip_add_normalises),
		cmocka_unit_test(test_vip_limit),
		cmocka_unit_test(test_backend_edits),
		cmocka_unit_test(test_backend_limits),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_sorting),
		cmocka_unit_test(test_copy_equal),
		cmocka_unit_test(test_validate_global),
		cmocka_unit_test(test_validate_vips),
		cmocka_unit_test(test_check_defaults),
		cmocka_unit_test(test_check_names),
		cmocka_unit_test(test_check_validate),
		cmocka_unit_test(test_check_edits),
		cmocka_unit_test(test_check_portless),
		cmocka_unit_test(test_vip_set),
		cmocka_unit_test(test_global_set),
		cmocka_unit_test(test_check_add_copies),
		cmocka_unit_test(test_check_copy_deep),
		cmocka_unit_test(test_pool_text),
		cmocka_unit_test(test_pool_rules),
		cmocka_unit_test(test_pool_edits),
		cmocka_unit_test(test_pool_vips),
		cmocka_unit_test(test_nat_timeouts),
		cmocka_unit_test(test_uplink_text),
		cmocka_unit_test(test_uplink_rules),
		cmocka_unit_test(test_uplink_edits),
		cmocka_unit_test(test_uplinks_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
