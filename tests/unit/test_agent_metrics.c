// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the agent's host metrics (user/agent/metrics.c) and of
 * its hooks' output (hook.c): /proc/stat parsing and the CPU delta math,
 * PSI and meminfo, the first number and state word of a hook's output,
 * and one real sample of this machine that must be in range.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent.h"

/* A /proc/stat of a 2-CPU machine (kernel 6.x layout). */
static const char stat_a[] = "cpu  100 10 50 800 40 0 5 0 20 0\n"
			     "cpu0 50 5 25 400 20 0 3 0 10 0\n"
			     "cpu1 50 5 25 400 20 0 2 0 10 0\n"
			     "intr 123456 0 9 0 0 0 0 0 0 1 0 0 0 0\n"
			     "ctxt 4242\n"
			     "btime 1700000000\n"
			     "processes 999\n"
			     "procs_running 3\n"
			     "procs_blocked 0\n"
			     "softirq 1 2 3 4 5 6 7 8 9 10 11\n";

static void stat_parse(void **state)
{
	struct agent_cpu_times t;
	unsigned running = 0;

	(void)state;
	assert_int_equal(agent_parse_stat(stat_a, &t, &running), 0);
	/* user+nice+system+idle+iowait+irq+softirq+steal; guest is in
	 * user already. */
	assert_int_equal(t.total, 100 + 10 + 50 + 800 + 40 + 0 + 5 + 0);
	assert_int_equal(t.busy, 100 + 10 + 50 + 5);
	assert_int_equal(running, 3);
	/* An old kernel's four fields. */
	assert_int_equal(agent_parse_stat("cpu 1 2 3 4\nprocs_running 1\n", &t,
					  &running),
			 0);
	assert_int_equal(t.total, 10);
	assert_int_equal(t.busy, 6);
	assert_int_equal(
		agent_parse_stat("cpu 1 2\nprocs_running 1\n", &t, &running),
		-EINVAL);
	assert_int_equal(agent_parse_stat("cpu 1 2 3 4\n", &t, &running),
			 -EINVAL);
	assert_int_equal(agent_parse_stat("intr 1\n", &t, NULL), -EINVAL);
}

static void cpu_delta(void **state)
{
	struct agent_cpu_times a = {.busy = 1000, .total = 4000};
	struct agent_cpu_times b = {.busy = 1300, .total = 4400};
	struct agent_cpu_times idle = {.busy = 1000, .total = 4400};
	struct agent_cpu_times full = {.busy = 1400, .total = 4400};

	(void)state;
	assert_float_equal(agent_cpu_pct(&a, &b), 75, 1e-9);
	assert_float_equal(agent_cpu_pct(&a, &idle), 0, 1e-9);
	assert_float_equal(agent_cpu_pct(&a, &full), 100, 1e-9);
	/* No tick between the samples, or counters that went back. */
	assert_float_equal(agent_cpu_pct(&a, &a), 0, 1e-9);
	assert_float_equal(agent_cpu_pct(&b, &a), 0, 1e-9);
}

static void psi_and_meminfo(void **state)
{
	double v = -1;

	(void)state;
	assert_int_equal(
		agent_parse_psi("some avg10=12.34 avg60=1.00 avg300=0.50 "
				"total=123\nfull avg10=1.00 avg60=0.00 "
				"avg300=0.00 total=5\n",
				&v),
		0);
	assert_float_equal(v, 12.34, 1e-9);
	assert_int_equal(agent_parse_psi("full avg10=1.00\n", &v), -EINVAL);
	assert_int_equal(agent_parse_psi("", &v), -EINVAL);

	assert_int_equal(agent_parse_meminfo("MemTotal:       8000000 kB\n"
					     "MemFree:        1000000 kB\n"
					     "MemAvailable:   2000000 kB\n"
					     "Buffers:          10000 kB\n",
					     &v),
			 0);
	assert_float_equal(v, 75, 1e-9);
	assert_int_equal(agent_parse_meminfo("MemTotal: 100 kB\n", &v),
			 -EINVAL);
	assert_int_equal(agent_parse_meminfo("MemTotal: 0 kB\n"
					     "MemAvailable: 0 kB\n",
					     &v),
			 -EINVAL);
}

static void hook_output(void **state)
{
	static const struct {
		const char *out;
		int ret;
		double value;
		enum agent_word word;
	} cases[] = {
		{"42\n", 0, 42, AGENT_WORD_NONE},
		{"  7.5 \n", 0, 7.5, AGENT_WORD_NONE},
		{"load 12 of 100\n", 0, 12, AGENT_WORD_NONE},
		{".5", 0, 0.5, AGENT_WORD_NONE},
		{"80 drain\n", 0, 80, AGENT_WORD_DRAIN},
		{"DOWN\n", 0, 0, AGENT_WORD_DOWN},
		{"maint 3", 0, 3, AGENT_WORD_MAINT},
		{"3 down\n4 drain\n", 0, 3, AGENT_WORD_DOWN},
		{"downtime 5\n", 0, 5, AGENT_WORD_NONE},
		{"", -EINVAL, 0, AGENT_WORD_NONE},
		{"\n\n", -EINVAL, 0, AGENT_WORD_NONE},
		{"no number here\n", -EINVAL, 0, AGENT_WORD_NONE},
		{"-5\n", -EINVAL, 0, AGENT_WORD_NONE},
	};
	enum agent_word w;
	double v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = agent_parse_hook_output(cases[i].out, &v, &w);

		if (ret != cases[i].ret ||
		    (!ret && (v != cases[i].value || w != cases[i].word)))
			fail_msg("'%s': ret %d value %g word %d", cases[i].out,
				 ret, v, w);
	}
}

/* This machine, twice: everything parses and lies in range. */
static void real_sample(void **state)
{
	struct agent_sampler s = {0};

	(void)state;
	assert_int_equal(agent_sample(&s), 0);
	assert_true(s.have_prev);
	assert_int_equal(agent_sample(&s), 0);
	assert_true(s.host.cpu_pct >= 0 && s.host.cpu_pct <= 100);
	assert_true(s.host.runq >= 0);
	if (s.host.has_psi)
		assert_true(s.host.mem_psi_pct >= 0 &&
			    s.host.mem_psi_pct <= 100);
	else
		assert_true(s.host.mem_used_pct > 0 &&
			    s.host.mem_used_pct <= 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stat_parse),
		cmocka_unit_test(cpu_delta),
		cmocka_unit_test(psi_and_meminfo),
		cmocka_unit_test(hook_output),
		cmocka_unit_test(real_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
