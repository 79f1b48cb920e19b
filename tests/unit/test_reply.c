// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Agent replies judged strictly: HAProxy's agent-check lines that mean
 * something are parsed to what they mean, and a table of lines that do
 * not is refused, each one, so that no typo ever becomes a weight.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "policy.h"

struct good {
	const char *line;
	int percent, state;
	const char *desc;
};

static const struct good goods[] = {
	{"75%\n", 75, -1, ""},
	{"0%\n", 0, -1, ""},
	{"100%\n", 100, -1, ""},
	{"5%\r\n", 5, -1, ""},
	{"50%", 50, -1, ""}, /* EOF ends a line too (HAProxy's agents) */
	{"up\n", -1, XLB_AGENT_SERVE, ""},
	{"ready\n", -1, XLB_AGENT_SERVE, ""},
	{"drain\n", -1, XLB_AGENT_DRAIN, ""},
	{"down\n", -1, XLB_AGENT_DOWN, ""},
	{"fail\n", -1, XLB_AGENT_DOWN, ""},
	{"stopped\n", -1, XLB_AGENT_DOWN, ""},
	{"maint\n", -1, XLB_AGENT_MAINT, ""},
	{"up 75%\n", 75, XLB_AGENT_SERVE, ""},
	{"75%,drain\n", 75, XLB_AGENT_DRAIN, ""},
	{"ready\tup , 10%\n", 10, XLB_AGENT_SERVE, ""},
	{"  60%  \n", 60, -1, ""},
	{"down # disk full\n", -1, XLB_AGENT_DOWN, " disk full"},
	{"42% #cpu 0.58 conns 12\n", 42, -1, "cpu 0.58 conns 12"},
	{"007%\n", 7, -1, ""},
};

static const char *const bads[] = {
	"",		       /* nothing at all (EOF) */
	"\n",		       /* empty line */
	"\r\n",		       /* empty line */
	"   \n",	       /* only separators */
	"50\n",		       /* a number without % */
	"%\n",		       /* % without a number */
	"101%\n",	       /* above 100 */
	"-1%\n",	       /* negative */
	"+50%\n",	       /* signed */
	"1000%\n",	       /* four digits */
	"50.5%\n",	       /* not an integer */
	"50 %\n",	       /* number and % apart */
	"%50\n",	       /* the wrong way round */
	"50%%\n",	       /* two % */
	"0x10%\n",	       /* hex */
	"50% 60%\n",	       /* two weights */
	"UP\n",		       /* words are lower case, as HAProxy's */
	"upp\n",	       /* unknown word */
	"healthy\n",	       /* unknown word */
	"drain down\n",	       /* states that disagree */
	"up maint\n",	       /* states that disagree */
	"50%;drain\n",	       /* ';' is no separator */
	"# just a note\n",     /* a description alone */
	"50%\x01\n",	       /* control byte */
	"\xc3\xa9t\xc3\xa9\n", /* non-ASCII */
	"50%\n\n",	       /* the probe stops at the first newline: the line
				* handed over never holds a second one, but if it
				* did, the NL inside is a control byte */
	"up\rdown\n",	       /* a CR inside */
	"5\x00%\n",	       /* a NUL inside */
	"\x7f\n",	       /* DEL */
	"ready\x1b[0m\n",      /* an escape sequence */
};

/* The lengths of bads: sizeof would see the NUL of the NUL case. */
static size_t bad_len(size_t i)
{
	/* "5\x00%\n" reads as "5": its length is the literal's. */
	return strcmp(bads[i], "5") ? strlen(bads[i]) : 5;
}

static void test_good_replies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		struct xlb_err why = {{0}};
		struct xlb_agent_report r;
		const struct good *g = &goods[i];

		if (xlb_agent_parse(g->line, strlen(g->line), &r, &why))
			fail_msg("'%s' refused: %s", g->line, why.msg);
		assert_int_equal(r.percent, g->percent);
		assert_int_equal(r.state, g->state);
		assert_string_equal(r.desc, g->desc);
	}
}

static void test_malformed_replies(void **state)
{
	size_t n = sizeof(bads) / sizeof(bads[0]);

	(void)state;
	assert_true(n >= 25);
	for (size_t i = 0; i < n; i++) {
		struct xlb_err why = {{0}};
		struct xlb_agent_report r;

		if (!xlb_agent_parse(bads[i], bad_len(i), &r, &why))
			fail_msg("bad reply %zu '%s' taken as %d%% state %d", i,
				 bads[i], r.percent, r.state);
		assert_true(why.msg[0] != '\0');
	}
}

/* The length limit: XLB_AGENT_REPLY_MAX bytes is a line, one more not. */
static void test_long_replies(void **state)
{
	char line[XLB_AGENT_REPLY_MAX + 2];
	struct xlb_err why = {{0}};
	struct xlb_agent_report r;

	(void)state;
	memset(line, ' ', sizeof(line));
	memcpy(line, "50%", 3);
	line[XLB_AGENT_REPLY_MAX - 1] = '\n';
	assert_int_equal(xlb_agent_parse(line, XLB_AGENT_REPLY_MAX, &r, &why),
			 0);
	assert_int_equal(r.percent, 50);
	line[XLB_AGENT_REPLY_MAX - 1] = ' ';
	assert_int_equal(
		xlb_agent_parse(line, XLB_AGENT_REPLY_MAX + 1, &r, &why),
		-EINVAL);
	assert_non_null(strstr(why.msg, "longer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_replies),
		cmocka_unit_test(test_malformed_replies),
		cmocka_unit_test(test_long_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
