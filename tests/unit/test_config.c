// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the JSON config and state files (user/lib/config.c): a
 * model survives the trip to JSON and back (with and without ids), every
 * documented key is read, malformed documents are refused with the path of
 * the offending value, and saving replaces the file atomically: never a
 * temp file left behind, never a damaged old file after a failed save.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "helpers.h"

/* ---- helpers ----------------------------------------------------------- */

static void add_vip(struct xlb_model *m, const char *s, __u32 flags, __u8 encap,
		    __u32 ring, __u32 vip_id)
{
	struct xlb_vip_cfg v = {.key = vkey(s),
				.flags = flags,
				.encap = encap,
				.ring_size = ring,
				.vip_id = vip_id};
	struct xlb_err err = {{0}};

	if (xlb_model_vip_add(m, &v, &err))
		fail_msg("cannot add VIP %s: %s", s, err.msg);
}

static void add_backend(struct xlb_model *m, const char *vip, const char *addr,
			__u32 weight, __u8 state, __u32 id)
{
	struct xlb_backend_cfg b = {.weight = weight, .state = state, .id = id};
	struct xlb_vip_key k = vkey(vip);
	struct xlb_err err = {{0}};

	if (xlb_parse_addr(addr, &b.addr, &b.family, &err) ||
	    xlb_model_backend_add(m, &k, &b, &err))
		fail_msg("cannot add %s to %s: %s", addr, vip, err.msg);
}

static void set_check(struct xlb_model *m, const char *vip, const char *addr,
		      const struct xlb_check_cfg *c)
{
	struct xlb_vip_key k = vkey(vip);
	struct xlb_err err = {{0}};
	union xlb_addr a;
	__u8 fam = 0;

	if ((addr && xlb_parse_addr(addr, &a, &fam, &err)) ||
	    xlb_model_check_set(m, &k, addr ? &a : NULL, fam, c, &err))
		fail_msg("cannot set the check of %s %s: %s", vip,
			 addr ? addr : "", err.msg);
}

/* Checks of every kind, on VIPs and on backends, every field used. */
static void add_checks(struct xlb_model *m)
{
	struct xlb_vip_key k = vkey("198.19.0.1:80/tcp");
	struct xlb_err err = {{0}};
	struct xlb_check_cfg c;

	xlb_check_init(&c);
	c.kind = XLB_CHECK_HTTP;
	c.tunnel = 0;
	c.port = 8080;
	c.interval_ms = 2000;
	c.timeout_ms = 300;
	c.rise = 1;
	c.fall = 5;
	strcpy(c.http_path, "/health?deep=1");
	c.http_status = 204;
	strcpy(c.http_body, "\"ok\"");
	set_check(m, "198.19.0.1:80/tcp", NULL, &c);
	assert_int_equal(xlb_model_vip_set(m, &k, XLB_ALL_DOWN_KEEP,
					   XLB_CHECK_DOWN_MOVE, 30000, &err),
			 0);
	xlb_check_init(&c);
	c.kind = XLB_CHECK_EXEC;
	strcpy(c.exec_cmd, "test -e /run/up-$XLB_BACKEND");
	set_check(m, "198.19.0.1:80/tcp", "198.18.1.2", &c);
	xlb_check_init(&c);
	set_check(m, "198.19.0.1:80/tcp", "2001:db8:1::1", &c);
	xlb_check_init(&c);
	c.kind = XLB_CHECK_UDP;
	c.port = 53;
	c.interval_ms = 100;
	c.timeout_ms = 90;
	strcpy(c.udp_send, "ping");
	strcpy(c.udp_expect, "pong");
	set_check(m, "198.19.0.1/udp", NULL, &c);
	xlb_check_init(&c);
	c.kind = XLB_CHECK_TCP;
	set_check(m, "[2001:db8::1]:443/udp", "2001:db8:1::2", &c);
}

/* A model that uses every feature, every global knob off its default. */
/*
 * Two pools, one with every setting and its layout, one with the
 * defaults, and a nat VIP through the first.
 */
static void add_pools(struct xlb_model *m)
{
	struct xlb_err err = {{0}};
	struct xlb_pool_cfg p;
	struct xlb_vip_key k = vkey("198.19.0.7:80/tcp");
	struct xlb_vip_cfg *v;

	xlb_pool_init(&p);
	snprintf(p.name, sizeof(p.name), "nat4");
	assert_int_equal(xlb_parse_addr_range("198.18.5.0-198.18.5.3", &p.first,
					      &p.last, &p.family, &err),
			 0);
	p.port_lo = 2000;
	p.port_hi = 2999;
	p.subpool_ports = 500;
	p.refill_percent = 10;
	p.pool_id = 2;
	p.subpool_base = 1;
	p.n_subpools = 8;
	assert_int_equal(xlb_model_pool_add(m, &p, &err), 0);
	xlb_pool_init(&p);
	snprintf(p.name, sizeof(p.name), "nat6");
	assert_int_equal(xlb_parse_addr_range("2001:db8:5::1-2001:db8:5::2",
					      &p.first, &p.last, &p.family,
					      &err),
			 0);
	p.pool_id = 1;
	assert_int_equal(xlb_model_pool_add(m, &p, &err), 0);
	add_vip(m, "198.19.0.7:80/tcp", 0, XLB_ENCAP_DEFAULT, 0, 9);
	v = xlb_model_vip(m, &k);
	v->mode = XLB_VIP_MODE_NAT;
	snprintf(v->pool, sizeof(v->pool), "nat4");
	add_backend(m, "198.19.0.7:80/tcp", "198.18.1.7", 1, XLB_BACKEND_UP, 9);
}

static void build_full(struct xlb_model *m)
{
	struct xlb_err err = {{0}};
	struct xlb_global_cfg *g = &m->global;
	__u8 fam;

	xlb_model_init(m);
	g->encap = XLB_ENCAP_GUE;
	g->ttl = 32;
	g->gue_port = 7777;
	g->mtu = 9000;
	assert_int_equal(xlb_parse_prefix("198.18.0.0/24", &g->src4, &fam,
					  &g->src4_plen, &err),
			 0);
	assert_int_equal(xlb_parse_prefix("2001:db8:ff::/64", &g->src6, &fam,
					  &g->src6_plen, &err),
			 0);
	g->flow_rate_limit = 100000;
	g->udp_timeout_ms = 0;
	add_vip(m, "198.19.0.1:80/tcp", XLB_VIP_F_NO_SPORT, XLB_ENCAP_DEFAULT,
		0, 1);
	add_vip(m, "198.19.0.1/udp",
		XLB_VIP_F_DPORT_ONLY | XLB_VIP_F_NO_FLOW_TABLE, XLB_ENCAP_IPIP,
		251, 2);
	add_vip(m, "[2001:db8::1]:443/udp", 0, XLB_ENCAP_GUE, 7, 5);
	add_vip(m, "[2001:db8::2]/tcp", XLB_VIP_F_ALL, XLB_ENCAP_DEFAULT, 0, 0);
	add_backend(m, "198.19.0.1:80/tcp", "198.18.1.1", 1, XLB_BACKEND_UP, 1);
	add_backend(m, "198.19.0.1:80/tcp", "198.18.1.2", 65535,
		    XLB_BACKEND_DRAIN, 2);
	add_backend(m, "198.19.0.1:80/tcp", "2001:db8:1::1", 0,
		    XLB_BACKEND_DOWN, 0);
	add_backend(m, "198.19.0.1/udp", "198.18.1.1", 3, XLB_BACKEND_UP, 4);
	add_backend(m, "[2001:db8::1]:443/udp", "2001:db8:1::2", 7,
		    XLB_BACKEND_UP, 4095);
	g->flap_count = 0;
	g->flap_window_ms = 10000;
	g->flap_hold_ms = 5000;
	g->nat_tcp_timeout_ms = 60000;
	g->nat_linger_ms = 0;
	add_checks(m);
	add_pools(m);
	assert_int_equal(xlb_model_validate(m, &err), 0);
}

static json_t *parse_doc(const char *doc)
{
	json_error_t jerr;
	json_t *j = json_loads(doc, JSON_REJECT_DUPLICATES, &jerr);

	if (!j)
		fail_msg("test document is not JSON: %s: %s", jerr.text, doc);
	return j;
}

static bool model_empty_init(const struct xlb_model *m)
{
	struct xlb_model init;

	xlb_model_init(&init);
	return m->n_vips == 0 && m->vips == NULL &&
	       xlb_model_equal(m, &init, true);
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/xlb-test-config.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) ? -1 : 0;
}

/* Entries of dir but . and ..; the first one found goes to first. */
static int count_entries(const char *dir, char *first, size_t len)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!n && first)
			snprintf(first, len, "%s", e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), n);
	fclose(f);
	return buf;
}

static void write_all(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ---- JSON <-> model ---------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_model m, back;
	json_t *j;
	(void)state;

	build_full(&m);
	j = xlb_model_to_json(&m, true);
	assert_non_null(j);
	if (xlb_model_from_json(j, &back, &err))
		fail_msg("own output rejected: %s", err.msg);
	assert_true(xlb_model_equal(&m, &back, true));
	json_decref(j);
	xlb_model_free(&back);

	/* Without ids: the same model, ids left for xlbd to allocate. */
	j = xlb_model_to_json(&m, false);
	assert_non_null(j);
	assert_null(json_object_get(
		json_array_get(json_object_get(j, "vips"), 0), "vip_id"));
	assert_int_equal(xlb_model_from_json(j, &back, &err), 0);
	assert_true(xlb_model_equal(&m, &back, false));
	assert_false(xlb_model_equal(&m, &back, true));
	for (size_t i = 0; i < back.n_vips; i++) {
		assert_int_equal(back.vips[i].vip_id, 0);
		for (size_t k = 0; k < back.vips[i].n_backends; k++)
			assert_int_equal(back.vips[i].backends[k].id, 0);
	}
	json_decref(j);
	xlb_model_free(&back);
	xlb_model_free(&m);
}

static void test_output_format(void **state)
{
	static const char want[] = "{\n"
				   "  \"global\": {\n"
				   "    \"encap\": \"ipip\",\n"
				   "    \"ttl\": 64,\n"
				   "    \"gue_port\": 6080,\n"
				   "    \"mtu\": 1500,\n"
				   "    \"source_v4\": null,\n"
				   "    \"source_v6\": null,\n"
				   "    \"flow_rate_limit\": 0,\n"
				   "    \"udp_timeout_ms\": 30000,\n"
				   "    \"flap_count\": 4,\n"
				   "    \"flap_window_ms\": 60000,\n"
				   "    \"flap_hold_ms\": 30000,\n"
				   "    \"nat_tcp_timeout_ms\": 900000,\n"
				   "    \"nat_tcp_closing_ms\": 120000,\n"
				   "    \"nat_udp_timeout_ms\": 300000,\n"
				   "    \"nat_linger_ms\": 10000\n"
				   "  },\n"
				   "  \"uplinks\": [],\n"
				   "  \"pools\": [],\n"
				   "  \"vips\": [\n"
				   "    {\n"
				   "      \"vip\": \"[2001:db8::1]:443/udp\",\n"
				   "      \"flags\": \"no-sport,dport-only\",\n"
				   "      \"encap\": \"default\",\n"
				   "      \"ring_size\": 65537,\n"
				   "      \"vip_id\": 3,\n"
				   "      \"check\": {\n"
				   "        \"kind\": \"none\",\n"
				   "        \"tunnel\": true,\n"
				   "        \"port\": 0,\n"
				   "        \"interval_ms\": 1000,\n"
				   "        \"timeout_ms\": 900,\n"
				   "        \"rise\": 2,\n"
				   "        \"fall\": 3,\n"
				   "        \"http_path\": \"/\",\n"
				   "        \"http_status\": 200,\n"
				   "        \"http_body\": \"\",\n"
				   "        \"udp_send\": \"\",\n"
				   "        \"udp_expect\": \"\",\n"
				   "        \"exec_cmd\": \"\",\n"
				   "        \"tls_sni\": \"\",\n"
				   "        \"tls_verify\": false,\n"
				   "        \"tls_ca\": \"\"\n"
				   "      },\n"
				   "      \"all_down\": \"drop\",\n"
				   "      \"on_check_down\": \"keep\",\n"
				   "      \"slow_start_ms\": 0,\n"
				   "      \"agent\": null,\n"
				   "      \"balance\": \"none\",\n"
				   "      \"balance_window_ms\": 0,\n"
				   "      \"mode\": \"dsr\",\n"
				   "      \"pool\": \"\",\n"
				   "      \"backends\": [\n"
				   "        {\n"
				   "          \"addr\": \"198.18.1.1\",\n"
				   "          \"weight\": 1,\n"
				   "          \"state\": \"up\",\n"
				   "          \"id\": 0\n"
				   "        }\n"
				   "      ]\n"
				   "    }\n"
				   "  ]\n"
				   "}";
	struct xlb_model m;
	json_t *j;
	char *text;
	(void)state;

	/* Every key, in a fixed order, so files diff cleanly. */
	xlb_model_init(&m);
	add_vip(&m, "[2001:db8::1]:443/udp",
		XLB_VIP_F_NO_SPORT | XLB_VIP_F_DPORT_ONLY, XLB_ENCAP_DEFAULT, 0,
		3);
	add_backend(&m, "[2001:db8::1]:443/udp", "198.18.1.1", 1,
		    XLB_BACKEND_UP, 0);
	j = xlb_model_to_json(&m, true);
	text = json_dumps(j, JSON_INDENT(2));
	assert_string_equal(text, want);
	free(text);
	json_decref(j);
	xlb_model_free(&m);
}

static void test_every_option(void **state)
{
	static const char doc[] =
		"{ \"global\": { \"encap\": \"gue\", \"ttl\": 32,"
		"  \"gue_port\": 7777, \"mtu\": 9000,"
		"  \"source_v4\": \"198.18.0.0/24\","
		"  \"source_v6\": \"2001:db8:ff::/64\","
		"  \"flow_rate_limit\": 100000, \"udp_timeout_ms\": 0,"
		"  \"flap_count\": 0, \"flap_window_ms\": 10000,"
		"  \"flap_hold_ms\": 5000, \"nat_tcp_timeout_ms\": 60000,"
		"  \"nat_linger_ms\": 0 },"
		"  \"pools\": ["
		"  { \"name\": \"nat6\","
		"    \"addresses\": \"2001:db8:5::1-2001:db8:5::2\","
		"    \"pool_id\": 1 },"
		"  { \"name\": \"nat4\", \"addresses\": "
		"\"198.18.5.0-198.18.5.3\","
		"    \"ports\": \"2000-2999\", \"subpool_ports\": 500,"
		"    \"refill_percent\": 10, \"pool_id\": 2,"
		"    \"subpool_base\": 1, \"n_subpools\": 8 } ],"
		"  \"vips\": ["
		"  { \"vip\": \"198.19.0.7:80/tcp\", \"vip_id\": 9,"
		"    \"mode\": \"nat\", \"pool\": \"nat4\","
		"    \"backends\": [ { \"addr\": \"198.18.1.7\", \"id\": 9 } ] "
		"},"
		"  { \"vip\": \"198.19.0.1:80/tcp\", \"flags\": \"no-sport\","
		"    \"encap\": \"default\", \"vip_id\": 1,"
		"    \"check\": { \"kind\": \"http\", \"tunnel\": false,"
		"      \"port\": 8080, \"interval_ms\": 2000, \"timeout_ms\": "
		"300,"
		"      \"rise\": 1, \"fall\": 5, \"http_path\": "
		"\"/health?deep=1\","
		"      \"http_status\": 204, \"http_body\": \"\\\"ok\\\"\" },"
		"    \"all_down\": \"keep\", \"slow_start_ms\": 30000,"
		"    \"on_check_down\": \"move\","
		"    \"backends\": ["
		"      { \"addr\": \"198.18.1.1\", \"id\": 1 },"
		"      { \"addr\": \"198.18.1.2\", \"weight\": 65535,"
		"        \"state\": \"drain\", \"id\": 2,"
		"        \"check\": { \"kind\": \"exec\","
		"          \"exec_cmd\": \"test -e /run/up-$XLB_BACKEND\" } },"
		"      { \"addr\": \"2001:db8:1::1\", \"weight\": 0,"
		"        \"state\": \"down\", \"check\": { \"kind\": \"none\" "
		"} } ] },"
		"  { \"vip\": \"198.19.0.1/udp\","
		"    \"flags\": [\"dport-only\", \"no-flow-table\"],"
		"    \"encap\": \"ipip\", \"ring_size\": 251, \"vip_id\": 2,"
		"    \"check\": { \"kind\": \"udp\", \"port\": 53,"
		"      \"interval_ms\": 100, \"udp_send\": \"ping\","
		"      \"udp_expect\": \"pong\" },"
		"    \"backends\": [ { \"addr\": \"198.18.1.1\", \"weight\": 3,"
		"                     \"state\": \"up\", \"id\": 4 } ] },"
		"  { \"vip\": \"[2001:db8::1]:443/udp\", \"encap\": \"gue\","
		"    \"ring_size\": 7, \"vip_id\": 5, \"flags\": \"none\","
		"    \"all_down\": \"drop\", \"slow_start_ms\": 0,"
		"    \"check\": { \"kind\": \"none\", \"interval_ms\": 10 },"
		"    \"backends\": [ { \"addr\": \"2001:db8:1::2\","
		"                     \"weight\": 7, \"id\": 4095,"
		"                     \"check\": { \"kind\": \"tcp\" } } ] },"
		"  { \"vip\": \"[2001:db8::2]/tcp\","
		"    \"flags\": \"no-sport,no-flow-table,dport-only\" } ] }";
	struct xlb_err err = {{0}};
	struct xlb_model want, got;
	json_t *j = parse_doc(doc);
	struct xlb_vip_cfg *v;
	struct xlb_vip_key k;
	(void)state;

	build_full(&want);
	if (xlb_model_from_json(j, &got, &err))
		fail_msg("rejected: %s", err.msg);
	assert_true(xlb_model_equal(&want, &got, true));
	assert_int_equal(got.global.gue_port, 7777);
	k = vkey("198.19.0.1:80/tcp");
	v = xlb_model_vip(&got, &k);
	assert_non_null(v);
	assert_int_equal(v->ring_size, XLB_RING_SIZE_DEFAULT);
	/* Defaults of a backend: weight 1, up, the VIP's check. */
	assert_int_equal(v->backends[0].weight, 1);
	assert_int_equal(v->backends[0].state, XLB_BACKEND_UP);
	assert_null(v->backends[0].check);
	/* A check's unwritten timeout: 90% of its interval. */
	assert_int_equal(v->backends[1].check->timeout_ms, 900);
	k = vkey("198.19.0.1/udp");
	v = xlb_model_vip(&got, &k);
	assert_int_equal(v->check.timeout_ms, 90);
	assert_true(v->check.tunnel);
	json_decref(j);
	xlb_model_free(&got);
	xlb_model_free(&want);
}

static void test_defaults(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_model m;
	json_t *j;
	(void)state;

	j = parse_doc("{}");
	assert_int_equal(xlb_model_from_json(j, &m, &err), 0);
	assert_true(model_empty_init(&m));
	json_decref(j);

	j = parse_doc("{\"global\": {}, \"vips\": ["
		      "{\"vip\": \"198.19.0.1:80/tcp\", \"backends\": []}]}");
	assert_int_equal(xlb_model_from_json(j, &m, &err), 0);
	assert_int_equal(m.n_vips, 1);
	assert_int_equal(m.vips[0].flags, 0);
	assert_int_equal(m.vips[0].encap, XLB_ENCAP_DEFAULT);
	assert_int_equal(m.vips[0].ring_size, XLB_RING_SIZE_DEFAULT);
	assert_int_equal(m.vips[0].n_backends, 0);
	assert_int_equal(m.vips[0].check.kind, XLB_CHECK_NONE);
	assert_int_equal(m.vips[0].all_down, XLB_ALL_DOWN_DROP);
	assert_int_equal(m.vips[0].on_check_down, XLB_CHECK_DOWN_KEEP);
	assert_int_equal(m.vips[0].slow_start_ms, 0);
	assert_int_equal(m.global.ttl, XLB_TTL_DEFAULT);
	assert_int_equal(m.global.flap_count, XLB_FLAP_COUNT_DEFAULT);
	assert_int_equal(m.global.flap_window_ms, XLB_FLAP_WINDOW_MS_DEFAULT);
	assert_int_equal(m.global.flap_hold_ms, XLB_FLAP_HOLD_MS_DEFAULT);
	json_decref(j);
	xlb_model_free(&m);

	/* A check object with only its kind: every default. */
	j = parse_doc("{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		      " \"check\": {\"kind\": \"tcp\"}}]}");
	assert_int_equal(xlb_model_from_json(j, &m, &err), 0);
	{
		struct xlb_check_cfg want;

		xlb_check_init(&want);
		want.kind = XLB_CHECK_TCP;
		assert_memory_equal(&m.vips[0].check, &want, sizeof(want));
	}
	json_decref(j);
	xlb_model_free(&m);
}

/*
 * Every key of a check is written, whatever its kind; a backend's only
 * when it has its own; a kind none check shows the defaults even when
 * the model holds something else.
 */
static void test_check_output(void **state)
{
	struct xlb_check_cfg none;
	struct xlb_model m;
	json_t *j, *v, *c;
	char *text;
	(void)state;

	build_full(&m);
	/* Hand-made: a none check with junk, never a reason to refuse. */
	m.vips[3].check.interval_ms = 0;
	j = xlb_model_to_json(&m, true);
	/* Sorted: 198.19.0.1/udp (port 0) comes first. */
	v = json_array_get(json_object_get(j, "vips"), 1);
	c = json_object_get(v, "check");
	assert_int_equal(json_object_size(c), 16);
	text = json_dumps(c, JSON_COMPACT);
	assert_string_equal(
		text, "{\"kind\":\"http\",\"tunnel\":false,\"port\":8080,"
		      "\"interval_ms\":2000,\"timeout_ms\":300,\"rise\":1,"
		      "\"fall\":5,\"http_path\":\"/health?deep=1\","
		      "\"http_status\":204,\"http_body\":\"\\\"ok\\\"\","
		      "\"udp_send\":\"\",\"udp_expect\":\"\",\"exec_cmd\":\"\","
		      "\"tls_sni\":\"\",\"tls_verify\":false,\"tls_ca\":\"\"}");
	free(text);
	assert_string_equal(json_string_value(json_object_get(v, "all_down")),
			    "keep");
	assert_string_equal(
		json_string_value(json_object_get(v, "on_check_down")), "move");
	assert_int_equal(
		json_integer_value(json_object_get(v, "slow_start_ms")), 30000);
	v = json_object_get(v, "backends");
	assert_null(json_object_get(json_array_get(v, 0), "check"));
	assert_non_null(json_object_get(json_array_get(v, 1), "check"));
	c = json_object_get(json_array_get(v, 2), "check");
	assert_string_equal(json_string_value(json_object_get(c, "kind")),
			    "none");
	v = json_array_get(json_object_get(j, "vips"), 3);
	c = json_object_get(v, "check");
	assert_int_equal(json_integer_value(json_object_get(c, "interval_ms")),
			 1000);
	json_decref(j);

	/* xlb_check_encode alone: the same object. */
	xlb_check_init(&none);
	none.rise = 0;
	j = xlb_check_encode(&none);
	assert_int_equal(json_integer_value(json_object_get(j, "rise")), 2);
	json_decref(j);
	xlb_model_free(&m);
}

/* The start of a document with one VIP, for the cases below. */
#define VIPDOC "{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\", "

static void test_malformed(void **state)
{
	static const struct {
		const char *doc;
		const char *want; /* the start of the message */
	} cases[] = {
		{"[]", "top level: expected an object"},
		{"{\"vip\": []}", "top level: unknown key 'vip'"},
		{"{\"global\": []}", "global: expected an object"},
		{"{\"global\": {\"ttl\": \"64\"}}",
		 "global.ttl: expected an integer"},
		{"{\"global\": {\"ttl\": 64.0}}",
		 "global.ttl: expected an integer"},
		{"{\"global\": {\"ttl\": true}}",
		 "global.ttl: expected an integer"},
		{"{\"global\": {\"ttl\": 0}}",
		 "global.ttl: 0 out of range 1..255"},
		{"{\"global\": {\"ttl\": 256}}", "global.ttl: 256 out of"},
		{"{\"global\": {\"gue_port\": -1}}", "global.gue_port: -1"},
		{"{\"global\": {\"mtu\": 100}}", "global: mtu 100"},
		{"{\"global\": {\"encap\": \"default\"}}", "global: encap"},
		{"{\"global\": {\"encap\": \"vxlan\"}}", "global.encap: "},
		{"{\"global\": {\"tll\": 64}}", "global: unknown key 'tll'"},
		{"{\"global\": {\"source_v4\": \"198.18.0.1/24\"}}",
		 "global.source_v4: 198.18.0.1/24 has host bits set"},
		{"{\"global\": {\"source_v4\": \"2001:db8::/64\"}}",
		 "global.source_v4: '2001:db8::/64' is not an IPv4"},
		{"{\"global\": {\"source_v6\": \"198.18.0.0/24\"}}",
		 "global.source_v6: "},
		{"{\"global\": {\"source_v4\": \"198.18.0.0\"}}",
		 "global.source_v4: missing prefix length"},
		{"{\"global\": {\"source_v4\": 24}}",
		 "global.source_v4: expected a string or null"},
		{"{\"global\": {\"udp_timeout_ms\": 4294967296}}",
		 "global.udp_timeout_ms: "},
		{"{\"vips\": {}}", "vips: expected an array"},
		{"{\"pools\": {}}", "pools: expected an array"},
		{"{\"pools\": [1]}", "pools[0]: expected an object"},
		{"{\"pools\": [{\"addresses\": \"198.18.2.1\"}]}",
		 "pools[0]: missing key 'name'"},
		{"{\"pools\": [{\"name\": \"p\", \"addresses\": "
		 "\"198.18.2\"}]}",
		 "pools[0].addresses: bad address"},
		{"{\"pools\": [{\"name\": \"p\", \"addresses\": \"198.18.2.1\","
		 " \"port\": \"1-2\"}]}",
		 "pools[0]: unknown key 'port'"},
		{"{\"pools\": [{\"name\": \"p\", \"addresses\": \"198.18.2.1\","
		 " \"ports\": 80}]}",
		 "pools[0].ports: expected a string"},
		{"{\"pools\": [{\"name\": \"p q\", \"addresses\": "
		 "\"198.18.2.1\"}]}",
		 "pools[0]: bad pool name 'p q'"},
		{"{\"pools\": [{\"name\": \"p\", \"addresses\": "
		 "\"198.18.2.1\"},"
		 " {\"name\": \"p\", \"addresses\": \"198.18.2.2\"}]}",
		 "pools[1]: pool p already exists"},
		{"{\"pools\": [{\"name\": \"p\", \"addresses\": \"198.18.2.1\","
		 " \"refill_percent\": 95}]}",
		 "pools[0].refill_percent: 95 out of range 1..90"},
		{"{\"pools\": [{\"name\": \"p\", \"addresses\": "
		 "\"198.19.0.1\"}],"
		 " \"vips\": [{\"vip\": \"198.19.0.1:80/tcp\"}]}",
		 "pool p: its addresses hold VIP 198.19.0.1:80/tcp"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\", \"mode\": "
		 "\"nat\","
		 " \"pool\": \"x\"}]}",
		 "VIP 198.19.0.1:80/tcp: unknown pool x"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\", \"mode\": "
		 "\"fast\"}]}",
		 "vips[0].mode: unknown mode 'fast'"},
		{"{\"global\": {\"nat_tcp_timeout_ms\": 10}}",
		 "global.nat_tcp_timeout_ms: 10 out of range"},
		{"{\"vips\": [1]}", "vips[0]: expected an object"},
		{"{\"vips\": [{}]}", "vips[0]: missing key 'vip'"},
		{"{\"vips\": [{\"vip\": 80}]}", "vips[0].vip: expected a"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80\"}]}",
		 "vips[0].vip: missing protocol"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\"},"
		 " {\"vip\": \"198.19.0.1:80/tcp\"}]}",
		 "vips[1]: VIP 198.19.0.1:80/tcp already exists"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\", \"vip_id\": 3},"
		 " {\"vip\": \"198.19.0.2:80/tcp\", \"vip_id\": 3}]}",
		 "vips[1]: vip_id 3"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"vip_id\": 512}]}",
		 "vips[0].vip_id: 512 out of range"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"ring_size\": 65536}]}",
		 "vips[0]: ring size 65536 is not a prime"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"ring_size\": 1000000}]}",
		 "vips[0].ring_size: "},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"flags\": \"no-sport,bogus\"}]}",
		 "vips[0].flags: unknown flag 'bogus'"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"flags\": [\"no-sport\", 1]}]}",
		 "vips[0].flags[1]: expected a string"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"flags\": 1}]}",
		 "vips[0].flags: expected"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"encap\": \"vxlan\"}]}",
		 "vips[0].encap: "},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"backend\": []}]}",
		 "vips[0]: unknown key 'backend'"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"backends\": {}}]}",
		 "vips[0].backends: expected an"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"backends\": [\"198.18.1.1\"]}]}",
		 "vips[0].backends[0]: expected an object"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"backends\": [{\"weight\": 1}]}]}",
		 "vips[0].backends[0]: missing key 'addr'"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"backends\": [{\"addr\": \"198.18.1.1\","
		 " \"wieght\": 2}]}]}",
		 "vips[0].backends[0]: unknown key 'wieght'"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"backends\": [{\"addr\": \"198.18.1\"}]}]}",
		 "vips[0].backends[0].addr: bad address"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"backends\": [{\"addr\": \"198.18.1.1\"},"
		 " {\"addr\": \"198.18.1.1\"}]}]}",
		 "vips[0].backends[1]: backend 198.18.1.1 already in VIP "
		 "198.19.0.1:80/tcp"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"backends\": [{\"addr\": \"198.18.1.1\","
		 " \"weight\": 70000}]}]}",
		 "vips[0].backends[0].weight: 70000 out of range 0..65535"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"backends\": [{\"addr\": \"198.18.1.1\","
		 " \"state\": \"sleeping\"}]}]}",
		 "vips[0].backends[0].state: unknown state 'sleeping'"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"backends\": [{\"addr\": \"198.18.1.1\", \"id\": 5}]},"
		 " {\"vip\": \"198.19.0.2:80/tcp\","
		 " \"backends\": [{\"addr\": \"198.18.1.1\", \"id\": 5}]}]}",
		 "vips[1].backends[0]: backend id 5"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
		 " \"ring_size\": 7, \"backends\": ["
		 "{\"addr\": \"198.18.9.1\"}, {\"addr\": \"198.18.9.2\"},"
		 "{\"addr\": \"198.18.9.3\"}, {\"addr\": \"198.18.9.4\"},"
		 "{\"addr\": \"198.18.9.5\"}, {\"addr\": \"198.18.9.6\"},"
		 "{\"addr\": \"198.18.9.7\"}, {\"addr\": \"198.18.9.8\"}]}]}",
		 "vips[0].backends[7]: "},
		{"{\"global\": {\"flap_count\": 17}}",
		 "global.flap_count: 17 out of range 0..16"},
		{"{\"global\": {\"flap_count\": -1}}",
		 "global.flap_count: -1 out of range"},
		{"{\"global\": {\"flap_window_ms\": 99}}",
		 "global.flap_window_ms: 99 out of range 100..86400000"},
		{"{\"global\": {\"flap_hold_ms\": \"30s\"}}",
		 "global.flap_hold_ms: expected an integer"},
		{"{\"global\": {\"flap_cuont\": 1}}",
		 "global: unknown key 'flap_cuont'"},
		{VIPDOC "\"check\": 1}]}", "vips[0].check: expected an object"},
		{VIPDOC "\"check\": {}}]}",
		 "vips[0].check: missing key 'kind'"},
		{VIPDOC "\"check\": {\"kind\": \"icmp\"}}]}",
		 "vips[0].check.kind: unknown check kind 'icmp'"},
		{VIPDOC "\"check\": {\"kind\": 1}}]}",
		 "vips[0].check.kind: expected a string"},
		{VIPDOC
		 "\"check\": {\"kind\": \"tcp\", \"intervall_ms\": 5}}]}",
		 "vips[0].check: unknown key 'intervall_ms'"},
		{VIPDOC
		 "\"check\": {\"kind\": \"tcp\", \"interval_ms\": -5}}]}",
		 "vips[0].check.interval_ms: -5 out of range 10..3600000"},
		{VIPDOC "\"check\": {\"kind\": \"tcp\", \"interval_ms\": 5}}]}",
		 "vips[0].check.interval_ms: 5 out of range"},
		{VIPDOC
		 "\"check\": {\"kind\": \"tcp\", \"interval_ms\": 1.5}}]}",
		 "vips[0].check.interval_ms: expected an integer"},
		{VIPDOC "\"check\": {\"kind\": \"tcp\", \"timeout_ms\": 0}}]}",
		 "vips[0].check.timeout_ms: 0 out of range"},
		{VIPDOC
		 "\"check\": {\"kind\": \"tcp\", \"timeout_ms\": 1000}}]}",
		 "vips[0].check: timeout 1000 ms must be shorter than the "
		 "interval 1000 ms"},
		{VIPDOC "\"check\": {\"kind\": \"tcp\", \"interval_ms\": 200,"
			" \"timeout_ms\": 300}}]}",
		 "vips[0].check: timeout 300 ms must be shorter than the "
		 "interval 200 ms"},
		{VIPDOC "\"check\": {\"kind\": \"tcp\", \"tunnel\": 1}}]}",
		 "vips[0].check.tunnel: expected true or false"},
		{VIPDOC "\"check\": {\"kind\": \"tcp\", \"port\": 65536}}]}",
		 "vips[0].check.port: 65536 out of range 0..65535"},
		{VIPDOC "\"check\": {\"kind\": \"tcp\", \"rise\": 0}}]}",
		 "vips[0].check.rise: 0 out of range 1..100"},
		{VIPDOC "\"check\": {\"kind\": \"tcp\", \"fall\": 101}}]}",
		 "vips[0].check.fall: 101 out of range 1..100"},
		{VIPDOC
		 "\"check\": {\"kind\": \"http\", \"http_status\": 600}}]}",
		 "vips[0].check.http_status: 600 out of range 100..599"},
		{VIPDOC
		 "\"check\": {\"kind\": \"http\", \"http_path\": \"up\"}}]}",
		 "vips[0].check: http_path 'up' must start with '/'"},
		{VIPDOC "\"check\": {\"kind\": \"http\", \"http_path\": 1}}]}",
		 "vips[0].check.http_path: expected a string"},
		{VIPDOC "\"check\": {\"kind\": \"http\", \"http_path\": \"/"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxx"
			"x\"}}]}",
		 "vips[0].check.http_path: longer than 127 characters"},
		{VIPDOC "\"check\": {\"kind\": \"exec\"}}]}",
		 "vips[0].check: an exec check needs a command (exec_cmd)"},
		{VIPDOC "\"check\": {\"kind\": \"udp\"}}]}",
		 "vips[0].check: a udp check needs a payload"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1/tcp\","
		 " \"check\": {\"kind\": \"tcp\"}}]}",
		 "vips[0]: check: VIP 198.19.0.1/tcp has no port: a tcp check "
		 "needs a port of its own"},
		{VIPDOC "\"all_down\": \"maybe\"}]}",
		 "vips[0].all_down: unknown all_down 'maybe'"},
		{VIPDOC "\"all_down\": 1}]}",
		 "vips[0].all_down: expected a string"},
		{VIPDOC "\"on_check_down\": \"stay\"}]}",
		 "vips[0].on_check_down: unknown on_check_down 'stay'"},
		{VIPDOC "\"slow_start_ms\": 3600001}]}",
		 "vips[0].slow_start_ms: 3600001 out of range 0..3600000"},
		{VIPDOC "\"backends\": [{\"addr\": \"198.18.1.1\","
			" \"check\": []}]}]}",
		 "vips[0].backends[0].check: expected an object"},
		{VIPDOC "\"backends\": [{\"addr\": \"198.18.1.1\","
			" \"check\": {\"kind\": \"tcp\", \"rise\": 200}}]}]}",
		 "vips[0].backends[0].check.rise: 200 out of range"},
		{VIPDOC "\"backends\": [{\"addr\": \"198.18.1.1\","
			" \"check\": {\"kind\": \"tcp\", \"chek\": 1}}]}]}",
		 "vips[0].backends[0].check: unknown key 'chek'"},
		{"{\"vips\": [{\"vip\": \"198.19.0.1/tcp\", \"backends\": ["
		 "{\"addr\": \"198.18.1.1\", \"check\": {\"kind\": "
		 "\"http\"}}]}]}",
		 "vips[0].backends[0]: backend 198.18.1.1: check: VIP "
		 "198.19.0.1/tcp has no port"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xlb_err err = {{0}};
		json_t *j = parse_doc(cases[i].doc);
		struct xlb_model m;
		int ret;

		/* Garbage in m first: from_json must initialise it. */
		memset(&m, 0xa5, sizeof(m));
		ret = xlb_model_from_json(j, &m, &err);
		json_decref(j);
		if (ret != -EINVAL)
			fail_msg("%s: got %d, want -EINVAL (%s)", cases[i].doc,
				 ret, err.msg);
		if (strncmp(err.msg, cases[i].want, strlen(cases[i].want)))
			fail_msg("%s:\n got  '%s'\n want '%s...'", cases[i].doc,
				 err.msg, cases[i].want);
		assert_true(model_empty_init(&m));
	}
}

/* ---- files ------------------------------------------------------------- */

static void test_save_load(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_model m, back;
	char path[128], name[256], *text;
	(void)state;

	build_full(&m);
	snprintf(path, sizeof(path), "%s/state.json", tmpdir);
	if (xlb_model_save(path, &m, true, &err))
		fail_msg("save: %s", err.msg);
	/* Nothing but the file itself: the temp file was renamed. */
	assert_int_equal(count_entries(tmpdir, name, sizeof(name)), 1);
	assert_string_equal(name, "state.json");
	if (xlb_model_load(path, &back, &err))
		fail_msg("load: %s", err.msg);
	assert_true(xlb_model_equal(&m, &back, true));
	xlb_model_free(&back);

	/* Overwrite without ids: the file no longer carries any. */
	assert_int_equal(xlb_model_save(path, &m, false, &err), 0);
	assert_int_equal(count_entries(tmpdir, NULL, 0), 1);
	text = read_all(path);
	assert_null(strstr(text, "\"id\""));
	assert_null(strstr(text, "\"vip_id\""));
	assert_non_null(strstr(text, "\"ring_size\": 251"));
	free(text);
	assert_int_equal(xlb_model_load(path, &back, &err), 0);
	assert_true(xlb_model_equal(&m, &back, false));
	xlb_model_free(&back);
	xlb_model_free(&m);
	unlink(path);
}

static void test_load_errors(void **state)
{
	struct xlb_err err = {{0}};
	char path[128], want[256];
	struct xlb_model m;
	(void)state;

	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	assert_int_equal(xlb_model_load(path, &m, &err), -ENOENT);
	assert_true(model_empty_init(&m));

	/* Not JSON: FILE:LINE:COL: message. */
	snprintf(path, sizeof(path), "%s/broken.json", tmpdir);
	write_all(path, "{\n  \"global\": {\n    \"ttl\": 64,,\n  }\n}\n");
	assert_int_equal(xlb_model_load(path, &m, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s:3:", path);
	if (strncmp(err.msg, want, strlen(want)))
		fail_msg("got '%s', want '%s...'", err.msg, want);
	assert_true(model_empty_init(&m));

	/* A key given twice is refused, not silently the last one. */
	write_all(path, "{\"global\": {\"ttl\": 1, \"ttl\": 2}}");
	assert_int_equal(xlb_model_load(path, &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "ttl"));

	/* Valid JSON, bad content: the file and the path inside it. */
	write_all(path, "{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
			" \"backends\": [{\"addr\": \"198.18.1.1\","
			" \"wieght\": 2}]}]}");
	assert_int_equal(xlb_model_load(path, &m, &err), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s: vips[0].backends[0]: unknown key 'wieght'", path);
	assert_string_equal(err.msg, want);
	assert_true(model_empty_init(&m));

	write_all(path, "");
	assert_int_equal(xlb_model_load(path, &m, &err), -EINVAL);
	unlink(path);
}

static void test_save_failures(void **state)
{
	struct xlb_err err = {{0}};
	char path[128], tmp[160], bad[160], *before, *after;
	struct xlb_model old, next;
	struct rlimit rl, small;
	int ret;
	(void)state;

	snprintf(path, sizeof(path), "%s/config.json", tmpdir);
	xlb_model_init(&old);
	add_vip(&old, "198.19.0.1:80/tcp", 0, 0, 0, 0);
	assert_int_equal(xlb_model_save(path, &old, false, &err), 0);
	before = read_all(path);
	build_full(&next);

	/* A directory that does not exist. */
	snprintf(bad, sizeof(bad), "%s/no/such/dir/config.json", tmpdir);
	err.msg[0] = '\0';
	assert_int_equal(xlb_model_save(bad, &next, false, &err), -ENOENT);
	assert_true(err.msg[0] != '\0');

	/* The temp file cannot be created: the old file stays as it was. */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	assert_int_equal(mkdir(tmp, 0700), 0);
	err.msg[0] = '\0';
	assert_int_equal(xlb_model_save(path, &next, false, &err), -EISDIR);
	assert_true(err.msg[0] != '\0');
	assert_int_equal(rmdir(tmp), 0);
	after = read_all(path);
	assert_string_equal(before, after);
	free(after);

	/*
	 * Writing fails half way (file size limit, as a full disk would):
	 * the old file is intact and the partial temp file is gone.
	 */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	small = rl;
	small.rlim_cur = 64;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	ret = xlb_model_save(path, &next, true, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(ret, -EFBIG);
	assert_true(err.msg[0] != '\0');
	after = read_all(path);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(count_entries(tmpdir, NULL, 0), 1);

	/* A directory we may not write to (root may write anywhere). */
	if (geteuid() != 0) {
		assert_int_equal(chmod(tmpdir, 0555), 0);
		ret = xlb_model_save(path, &next, false, &err);
		assert_int_equal(chmod(tmpdir, 0700), 0);
		assert_int_equal(ret, -EACCES);
		after = read_all(path);
		assert_string_equal(before, after);
		free(after);
	}

	free(before);
	xlb_model_free(&next);
	xlb_model_free(&old);
	unlink(path);
}

static void test_save_keeps_mode(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_model m;
	struct stat st;
	char path[128];
	(void)state;

	/* An operator who made the file private keeps it private. */
	snprintf(path, sizeof(path), "%s/private.json", tmpdir);
	write_all(path, "{}");
	assert_int_equal(chmod(path, 0600), 0);
	xlb_model_init(&m);
	assert_int_equal(xlb_model_save(path, &m, true, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	xlb_model_free(&m);
	unlink(path);
}

/*
 * A VIP's agent check and byte-share loop: read as the README writes
 * them, written back the same, and refused in each wrong place.
 */
static void test_agent_and_balance(void **state)
{
	static const char *const bad[] = {
		/* an agent check in the health check's slot */
		"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\", "
		"\"check\": {\"kind\": \"agent\"}}]}",
		/* a health check in the agent's */
		"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\", "
		"\"agent\": {\"kind\": \"tcp\"}}]}",
		/* a backend's own agent */
		"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\", \"backends\": "
		"[{\"addr\": \"198.18.31.2\", \"check\": {\"kind\": "
		"\"agent\"}}]}]}",
		"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\", "
		"\"balance\": \"flows\"}]}",
		"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\", "
		"\"balance_window_ms\": 50}]}",
	};
	struct xlb_err err = {{0}};
	struct xlb_model m, back;
	const struct xlb_vip_cfg *v;
	json_t *j;

	(void)state;
	j = parse_doc("{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\", "
		      "\"check\": {\"kind\": \"http\"}, "
		      "\"agent\": {\"kind\": \"agent\", \"port\": 5555, "
		      "\"interval_ms\": 2000}, \"balance\": \"bytes\", "
		      "\"balance_window_ms\": 10000}]}");
	if (xlb_model_from_json(j, &m, &err))
		fail_msg("refused: %s", err.msg);
	json_decref(j);
	v = &m.vips[0];
	assert_int_equal(v->check.kind, XLB_CHECK_HTTP);
	assert_int_equal(v->agent.kind, XLB_CHECK_AGENT);
	assert_int_equal(v->agent.port, 5555);
	assert_int_equal(v->agent.timeout_ms, 1800);
	assert_int_equal(v->balance, XLB_BALANCE_BYTES);
	assert_int_equal(v->balance_window_ms, 10000);
	j = xlb_model_to_json(&m, false);
	assert_int_equal(xlb_model_from_json(j, &back, &err), 0);
	assert_true(xlb_model_equal(&m, &back, false));
	json_decref(j);
	xlb_model_free(&back);
	xlb_model_free(&m);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = parse_doc(bad[i]);
		if (!xlb_model_from_json(j, &m, &err))
			fail_msg("accepted: %s", bad[i]);
		json_decref(j);
	}
}

/* Pools: read before VIPs, written in name order, ids in state only. */
static void test_pools(void **state)
{
	static const char doc[] =
		"{\"vips\": [{\"vip\": \"198.19.0.1:80/tcp\", \"mode\": "
		"\"nat\","
		" \"pool\": \"b\", \"backends\": [{\"addr\": "
		"\"198.18.1.1\"}]}],"
		" \"pools\": [{\"name\": \"b\", \"addresses\": \"198.18.2.1\"},"
		" {\"name\": \"a\", \"addresses\": "
		"\"2001:db8:5::1-2001:db8:5::8\","
		" \"ports\": \"80\", \"subpool_ports\": 1}]}";
	struct xlb_err err = {{0}};
	struct xlb_model m;
	json_t *j, *pools, *p;
	(void)state;

	j = json_loads(doc, 0, NULL);
	assert_non_null(j);
	if (xlb_model_from_json(j, &m, &err))
		fail_msg("pools after the VIP naming one: %s", err.msg);
	json_decref(j);
	assert_int_equal(m.n_pools, 2);
	assert_string_equal(m.pools[0].name, "a");
	assert_int_equal(m.pools[0].port_lo, 80);
	assert_int_equal(m.pools[0].port_hi, 80);
	/* Defaults of what the document leaves out. */
	assert_int_equal(m.pools[1].port_lo, XLB_POOL_PORT_LO_DEFAULT);
	assert_int_equal(m.pools[1].port_hi, XLB_POOL_PORT_HI_DEFAULT);
	assert_int_equal(m.pools[1].refill_percent,
			 XLB_POOL_REFILL_PERCENT_DEFAULT);
	assert_int_equal(m.vips[0].mode, XLB_VIP_MODE_NAT);
	assert_string_equal(m.vips[0].pool, "b");

	j = xlb_model_to_json(&m, false);
	pools = json_object_get(j, "pools");
	assert_int_equal(json_array_size(pools), 2);
	p = json_array_get(pools, 0);
	assert_string_equal(json_string_value(json_object_get(p, "addresses")),
			    "2001:db8:5::1-2001:db8:5::8");
	assert_string_equal(json_string_value(json_object_get(p, "ports")),
			    "80-80");
	assert_int_equal(
		json_integer_value(json_object_get(p, "subpool_ports")), 1);
	assert_null(json_object_get(p, "pool_id"));
	/* Not chosen yet: not written. */
	p = json_array_get(pools, 1);
	assert_null(json_object_get(p, "subpool_ports"));
	assert_string_equal(json_string_value(json_object_get(p, "addresses")),
			    "198.18.2.1");
	json_decref(j);
	j = xlb_model_to_json(&m, true);
	p = json_array_get(json_object_get(j, "pools"), 1);
	assert_non_null(json_object_get(p, "pool_id"));
	assert_non_null(json_object_get(p, "n_subpools"));
	json_decref(j);
	xlb_model_free(&m);
}

/*
 * Uplinks: written in interface order, a MAC gateway in lower case and
 * an address as one, ids in state files only; a state file read back is
 * the model that was written, ids and all; an error names its entry.
 */
static void test_uplinks(void **state)
{
	static const char doc[] =
		"{\"uplinks\": [{\"interface\": \"eth2\", \"gateway\": "
		"\"2001:db8::FE\", \"mtu\": 9000, \"share\": 3, \"id\": 2},"
		" {\"interface\": \"eth1\", \"gateway\": "
		"\"02:AB:00:00:00:01\", \"id\": 5}]}";
	struct xlb_err err = {{0}};
	struct xlb_model m, back;
	json_t *j, *u;
	(void)state;

	j = json_loads(doc, 0, NULL);
	assert_non_null(j);
	if (xlb_model_from_json(j, &m, &err))
		fail_msg("two uplinks: %s", err.msg);
	json_decref(j);
	assert_int_equal(m.n_uplinks, 2);
	assert_string_equal(m.uplinks[0].ifname, "eth1");
	assert_true(m.uplinks[0].gw_is_mac);
	assert_int_equal(m.uplinks[0].gw_mac[1], 0xab);
	/* Defaults of what the document leaves out. */
	assert_int_equal(m.uplinks[0].share, XLB_UPLINK_SHARE_DEFAULT);
	assert_int_equal(m.uplinks[0].mtu, 0);
	assert_int_equal(m.uplinks[0].id, 5);
	assert_false(m.uplinks[1].gw_is_mac);
	assert_int_equal(m.uplinks[1].gw_family, XLB_AF_INET6);
	assert_int_equal(m.uplinks[1].mtu, 9000);
	assert_int_equal(m.uplinks[1].share, 3);

	j = xlb_model_to_json(&m, false);
	u = json_array_get(json_object_get(j, "uplinks"), 0);
	assert_string_equal(json_string_value(json_object_get(u, "interface")),
			    "eth1");
	assert_string_equal(json_string_value(json_object_get(u, "gateway")),
			    "02:ab:00:00:00:01");
	assert_null(json_object_get(u, "id"));
	u = json_array_get(json_object_get(j, "uplinks"), 1);
	assert_string_equal(json_string_value(json_object_get(u, "gateway")),
			    "2001:db8::fe");
	json_decref(j);

	/* A state file's round trip keeps every setting and id. */
	j = xlb_model_to_json(&m, true);
	if (xlb_model_from_json(j, &back, &err))
		fail_msg("read back: %s", err.msg);
	json_decref(j);
	assert_true(xlb_model_equal(&m, &back, true));
	back.uplinks[1].share = 4;
	assert_false(xlb_model_equal(&m, &back, true));
	xlb_model_free(&back);
	xlb_model_free(&m);

	/* An error says which entry, and no model is left. */
	j = json_loads("{\"uplinks\": [{\"interface\": \"eth1\", "
		       "\"gateway\": \"02:00:00:00:00:01\"}, "
		       "{\"interface\": \"eth1\", "
		       "\"gateway\": \"02:00:00:00:00:02\"}]}",
		       0, NULL);
	assert_int_equal(xlb_model_from_json(j, &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "uplinks[1]"));
	assert_non_null(strstr(err.msg, "already exists"));
	assert_int_equal(m.n_uplinks, 0);
	json_decref(j);
	j = json_loads("{\"uplinks\": {}}", 0, NULL);
	assert_int_equal(xlb_model_from_json(j, &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "uplinks: expected an array"));
	json_decref(j);
	j = json_loads("{\"uplinks\": [{\"interface\": \"eth1\"}]}", 0, NULL);
	assert_int_equal(xlb_model_from_json(j, &m, &err), -EINVAL);
	assert_string_equal(err.msg, "uplinks[0]: missing key 'gateway'");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_output_format),
		cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_check_output),
		cmocka_unit_test(test_agent_and_balance),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_save_failures),
		cmocka_unit_test(test_save_keeps_mode),
		cmocka_unit_test(test_pools),
		cmocka_unit_test(test_uplinks),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
