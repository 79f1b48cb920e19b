// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the model (user/lib/model.c): the text forms every tool
 * accepts (addresses, VIPs, prefixes, flags, names, numbers), the edits
 * xlbd applies on requests, and the whole-model check. Every rejected
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

/* ---- helpers ----------------------------------------------------------- */

static struct xlb_vip_key vkey(const char *s)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key k;

	if (xlb_parse_vip(s, &k, &err))
		fail_msg("cannot parse VIP '%s': %s", s, err.msg);
	return k;
}

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
		{"2001:db8::1/udp", "[2001:db8::1]/udp", XLB_AF_INET6,
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
	assert_msg_has(&err, "4095");
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
		"10.0.0.1:80/tcp",	"10.0.0.1:80/udp",
		"10.0.0.1:443/tcp",	"10.0.0.2/tcp",
		"10.0.0.2:80/tcp",	"198.19.0.1:53/udp",
		"[::1]:80/tcp",		"[2001:db8::1]/udp",
		"[2001:db8::1]:80/tcp", "[2001:db8::2]:80/tcp",
	};
	static const char *const backends[] = {
		"10.0.0.1", "10.0.0.2",	   "10.1.0.0",	    "198.18.0.1",
		"::1",	    "2001:db8::1", "2001:db8::1:0",
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vip_text_round_trip),
		cmocka_unit_test(test_vip_v4_layout),
		cmocka_unit_test(test_vip_text_bad),
		cmocka_unit_test(test_vip_text_messages),
		cmocka_unit_test(test_addr),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
