// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of a load report (user/agent/report.c): the request line
 * (good and bad), normalisation by ceilings, H of a profile, the weight
 * percent and the reply line, and the whole answer for a service and for
 * the host from a made-up sample (no /proc, no sockets).
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent.h"

static void request_good(void **state)
{
	static const struct {
		const char *line;
		const char *canon; /* its text form */
	} cases[] = {
		{"198.19.0.1:80/tcp", "198.19.0.1:80/tcp"},
		{"198.19.0.1:53/udp", "198.19.0.1:53/udp"},
		{"198.19.0.1:80/tcp\r", "198.19.0.1:80/tcp"},
		{"[2001:db8::10]:80/tcp", "[2001:db8::10]:80/tcp"},
		{"[2001:db8:0::10]:443/udp", "[2001:db8::10]:443/udp"},
		{"198.19.10.10:65535/tcp", "198.19.10.10:65535/tcp"},
		{"198.19.0.1/tcp", "198.19.0.1/tcp"}, /* port-less VIP */
		{"[2001:db8::1]/udp", "[2001:db8::1]/udp"},
	};
	struct xlb_err err = {{0}};
	struct xlb_vip_key k;
	char buf[XLB_VIP_STRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (agent_parse_request(cases[i].line, &k, &err))
			fail_msg("'%s' refused: %s", cases[i].line, err.msg);
		assert_string_equal(xlb_format_vip(&k, buf, sizeof(buf)),
				    cases[i].canon);
	}
}

static void request_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"\r",
		"junk",
		"198.19.0.1",
		"198.19.0.1:0/tcp",
		"198.19.0.1:65536/tcp",
		"198.19.0.1:80",
		"198.19.0.1:80/sctp",
		"198.19.0.1:80/",
		" 198.19.0.1:80/tcp",
		"198.19.0.1:80/tcp ",
		"198.19.0.1:80/tcp\r\r",
		"198.19.0.1:80 /tcp",
		"198.19.0.1:8x/tcp",
		"198.19.0.1:-80/tcp",
		"198.19.0.256:80/tcp",
		"2001:db8::10:80/tcp", /* IPv6 needs brackets */
		"[198.19.0.1]:80/tcp",
		"[2001:db8::10:80/tcp",
		"198.19.0.1:80/tcp\t",
		"198.19.0.1:80\x01/tcp",
		"GET / HTTP/1.0",
		"75%",
		"198.19.0.1:80/icmp",
		"/tcp",
		"198.19.0.1/",
		"[2001:db8:1:2:3:4:5:6:7:8:9:a:b:c:d:e:f:0:1:2:3:4:5:6]:80/tcp",
	};
	struct xlb_err err = {{0}};
	struct xlb_vip_key k;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		if (!agent_parse_request(bad[i], &k, &err))
			fail_msg("'%s' accepted", bad[i]);
		if (!err.msg[0])
			fail_msg("'%s' refused without a reason", bad[i]);
	}
}

static void norm_clamps(void **state)
{
	(void)state;
	assert_true(agent_norm(50, 100) == 0.5);
	assert_true(agent_norm(150, 100) == 1);
	assert_true(agent_norm(-1, 100) == 0);
	assert_true(agent_norm(5, 0) == 0);
	assert_true(agent_norm(0.0 / 0.0, 100) == 0);
}

static void weight_pct_rounds_and_clamps(void **state)
{
	(void)state;
	assert_int_equal(agent_weight_pct(0), 100);
	assert_int_equal(agent_weight_pct(0.25), 75);
	assert_int_equal(agent_weight_pct(0.254), 75);
	assert_int_equal(agent_weight_pct(0.256), 74);
	assert_int_equal(agent_weight_pct(0.995), 1); /* rounds to 0: 1 */
	assert_int_equal(agent_weight_pct(1), 1);
	assert_int_equal(agent_weight_pct(-0.5), 100);
}

static void load_is_weighted_sum(void **state)
{
	struct agent_profile cpu_heavy = {"cpu-heavy",
					  {[AGENT_M_CPU] = 0.7,
					   [AGENT_M_CONNS] = 0.2,
					   [AGENT_M_MEM] = 0.1}};
	struct agent_profile io_heavy = {"io-heavy",
					 {[AGENT_M_CONNS] = 0.6,
					  [AGENT_M_MEM] = 0.3,
					  [AGENT_M_CPU] = 0.1}};
	/* A CPU-bound machine: the same state, two services. */
	double m[AGENT_M_NUM] = {[AGENT_M_CPU] = 0.9,
				 [AGENT_M_MEM] = 0.2,
				 [AGENT_M_CONNS] = 0.1};

	(void)state;
	assert_float_equal(agent_load(m, &cpu_heavy), 0.63 + 0.02 + 0.02, 1e-9);
	assert_float_equal(agent_load(m, &io_heavy), 0.06 + 0.06 + 0.09, 1e-9);
	assert_int_equal(agent_weight_pct(agent_load(m, &cpu_heavy)), 33);
	assert_int_equal(agent_weight_pct(agent_load(m, &io_heavy)), 79);
}

/* The README's example: exactly at the threshold is drain, whatever the
 * rounding of the sum. */
static void drain_at_threshold(void **state)
{
	struct agent_profile cpu_heavy = {"cpu-heavy",
					  {[AGENT_M_CPU] = 0.7,
					   [AGENT_M_CONNS] = 0.2,
					   [AGENT_M_MEM] = 0.1}};
	double m[AGENT_M_NUM] = {
		[AGENT_M_CPU] = 1, [AGENT_M_MEM] = 0.5, [AGENT_M_CONNS] = 1};
	char buf[32];

	(void)state;
	agent_reply(agent_load(m, &cpu_heavy), 0.95, AGENT_WORD_NONE, buf,
		    sizeof(buf));
	assert_string_equal(buf, "5% drain\n");
	m[AGENT_M_MEM] = 0.4;
	agent_reply(agent_load(m, &cpu_heavy), 0.95, AGENT_WORD_NONE, buf,
		    sizeof(buf));
	assert_string_equal(buf, "6% ready\n");
}

static void reply_lines(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(
		agent_reply(0.25, 0.95, AGENT_WORD_NONE, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "75% ready\n");
	agent_reply(0, 0.95, AGENT_WORD_NONE, buf, sizeof(buf));
	assert_string_equal(buf, "100% ready\n");
	agent_reply(0.95, 0.95, AGENT_WORD_NONE, buf, sizeof(buf));
	assert_string_equal(buf, "5% drain\n");
	agent_reply(1, 0.95, AGENT_WORD_NONE, buf, sizeof(buf));
	assert_string_equal(buf, "1% drain\n");
	agent_reply(0.949, 0.95, AGENT_WORD_NONE, buf, sizeof(buf));
	assert_string_equal(buf, "5% ready\n");
	/* The hook's word wins over the threshold either way. */
	agent_reply(0.1, 0.95, AGENT_WORD_DOWN, buf, sizeof(buf));
	assert_string_equal(buf, "90% down\n");
	agent_reply(0.99, 0.95, AGENT_WORD_MAINT, buf, sizeof(buf));
	assert_string_equal(buf, "1% maint\n");
	agent_reply(0.1, 0.95, AGENT_WORD_DRAIN, buf, sizeof(buf));
	assert_string_equal(buf, "90% drain\n");
	/* "90% ready\n" and its NUL need 11 bytes. */
	assert_int_equal(agent_reply(0.1, 0.95, AGENT_WORD_NONE, buf, 10),
			 -ENOSPC);
}

/* A config from text, failing the test when it does not parse. */
static struct agent_cfg *cfg_of(const char *text)
{
	struct xlb_err err = {{0}};
	struct agent_cfg *c = agent_cfg_parse(text, &err);

	if (!c)
		fail_msg("config refused: %s", err.msg);
	return c;
}

static void answer_per_service(void **state)
{
	struct agent_cfg *c = cfg_of(
		"{\"ceilings\": {\"cpu_pct\": 80, \"runq\": 4, \"conns\": 50},"
		" \"services\": ["
		"  {\"service\": \"198.19.0.1:80/tcp\", \"profile\": "
		"\"cpu-heavy\", \"conns_ceiling\": 200},"
		"  {\"service\": \"198.19.0.1:443/tcp\", \"profile\": "
		"\"io-heavy\", \"conns_ceiling\": 20, \"drain_above\": 0.5},"
		"  {\"service\": \"198.19.0.1:80/udp\", \"profile\": "
		"\"io-heavy\"},"
		"  {\"service\": \"198.19.0.2/tcp\", \"profile\": "
		"\"io-heavy\"}]}");
	struct agent_host host = {.cpu_pct = 72, /* 0.9 of 80 */
				  .has_psi = true,
				  .mem_psi_pct = 5, /* 0.2 of 25 */
				  .mem_used_pct = 99,
				  .runq = 2};
	struct agent_conns conns = {0};
	struct agent_view v = {.cfg = c, .host = &host, .conns = &conns};
	struct xlb_vip_key k;
	double m[AGENT_M_NUM];
	char buf[32];

	(void)state;
	assert_int_equal(agent_conns_init(&conns), 0);
	conns.by_port[80] = 20;	 /* 0.1 of 200 */
	conns.by_port[443] = 12; /* 0.6 of 20 */
	conns.host = 40;	 /* 0.8 of 50 */

	assert_int_equal(agent_parse_request("198.19.0.1:80/tcp", &k, NULL), 0);
	agent_metrics_of(&v, agent_cfg_service(c, &k), m);
	assert_float_equal(m[AGENT_M_CPU], 0.9, 1e-9);
	assert_float_equal(m[AGENT_M_MEM], 0.2, 1e-9);
	assert_float_equal(m[AGENT_M_RUNQ], 0.5, 1e-9);
	assert_float_equal(m[AGENT_M_CONNS], 0.1, 1e-9);
	assert_float_equal(m[AGENT_M_HOOK], 0, 1e-9);
	agent_answer(&v, agent_cfg_service(c, &k), buf, sizeof(buf));
	assert_string_equal(buf, "33% ready\n"); /* H = .63 + .02 + .02 */

	/* io-heavy: .6 x .6 + .3 x .2 + .1 x .9 = .51, above its .5. */
	agent_parse_request("198.19.0.1:443/tcp", &k, NULL);
	agent_answer(&v, agent_cfg_service(c, &k), buf, sizeof(buf));
	assert_string_equal(buf, "49% drain\n");

	/* UDP: no connections; .3 x .2 + .1 x .9 = .15. */
	agent_parse_request("198.19.0.1:80/udp", &k, NULL);
	agent_answer(&v, agent_cfg_service(c, &k), buf, sizeof(buf));
	assert_string_equal(buf, "85% ready\n");

	/* Port-less: every listening port's connections, .8 of the
	 * default 50; .6 x .8 + .06 + .09 = .63. */
	agent_parse_request("198.19.0.2/tcp", &k, NULL);
	agent_metrics_of(&v, agent_cfg_service(c, &k), m);
	assert_float_equal(m[AGENT_M_CONNS], 0.8, 1e-9);
	agent_answer(&v, agent_cfg_service(c, &k), buf, sizeof(buf));
	assert_string_equal(buf, "37% ready\n");

	/* The host: default .5 cpu + .2 mem + .1 runq + .2 conns. */
	agent_answer(&v, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "30% ready\n"); /* .45+.04+.05+.16 */

	/* Without PSI, memory is the share not available. */
	host.has_psi = false;
	agent_metrics_of(&v, NULL, m);
	assert_float_equal(m[AGENT_M_MEM], 0.99, 1e-9);
	agent_conns_free(&conns);
	agent_cfg_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_good),
		cmocka_unit_test(request_bad),
		cmocka_unit_test(norm_clamps),
		cmocka_unit_test(weight_pct_rounds_and_clamps),
		cmocka_unit_test(load_is_weighted_sum),
		cmocka_unit_test(drain_at_threshold),
		cmocka_unit_test(reply_lines),
		cmocka_unit_test(answer_per_service),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
