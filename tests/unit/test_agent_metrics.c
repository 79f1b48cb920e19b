// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the agent's host metrics (user/agent/metrics.c) and of
 * its hooks' output (hook.c): /proc/stat parsing and the CPU delta math,
 * PSI and meminfo, the first number and state word of a hook's output,
 * one real sample of this machine that must be in range, and cgroups:
 * their files' parsers, a made-up cgroup directory sampled at made-up
 * times, and (as root, with cgroup v2) a real cgroup with a busy child.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
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

static void cgroup_parsers(void **state)
{
	uint64_t ns = 0;
	unsigned n = 0;
	double cpus = -1;

	(void)state;
	assert_int_equal(agent_parse_cg_usage("cpu.stat",
					      "usage_usec 1500\n"
					      "user_usec 1000\n",
					      &ns),
			 0);
	assert_int_equal(ns, 1500000);
	assert_int_equal(agent_parse_cg_usage("cpu.stat",
					      "nr_periods 0\nusage_usec 7\n",
					      &ns),
			 0);
	assert_int_equal(ns, 7000);
	assert_int_equal(agent_parse_cg_usage("cpu.stat", "user_usec 1\n", &ns),
			 -EINVAL);
	assert_int_equal(
		agent_parse_cg_usage("cpuacct.usage", "123456789\n", &ns), 0);
	assert_int_equal(ns, 123456789);

	assert_int_equal(agent_parse_cpuset("0-3,8\n", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(agent_parse_cpuset("1", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(agent_parse_cpuset("3-1", &n), -EINVAL);
	assert_int_equal(agent_parse_cpuset("\n", &n), -EINVAL);
	assert_int_equal(agent_parse_cpuset("0-1;2", &n), -EINVAL);

	assert_int_equal(agent_parse_cpu_max("max 100000\n", &cpus), 0);
	assert_true(cpus == 0);
	assert_int_equal(agent_parse_cpu_max("50000 100000\n", &cpus), 0);
	assert_true(cpus == 0.5);
	assert_int_equal(agent_parse_cpu_max("50000 0\n", &cpus), -EINVAL);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A directory that looks like a cgroup v2 limited to one CPU. */
static void cgroup_fake_dir(void **state)
{
	char dir[] = "/tmp/xlb-cg-XXXXXX", path[64];
	struct agent_cg g = {0};
	struct xlb_err err = {{0}};
	const uint64_t s = 1000000000ULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(agent_cgroup_check(dir, &err), -ENOENT);
	assert_int_equal(agent_sample_cgroup(dir, &g, 1 * s), -ENOENT);
	assert_false(g.ok);
	put(dir, "cpu.stat", "usage_usec 1000000\n");
	put(dir, "cpu.max", "100000 100000\n");
	put(dir, "memory.pressure",
	    "some avg10=3.50 avg60=0 avg300=0 "
	    "total=1\nfull avg10=0 avg60=0 avg300=0 "
	    "total=0\n");
	assert_int_equal(agent_cgroup_check(dir, &err), 0);
	assert_int_equal(agent_sample_cgroup(dir, &g, 10 * s), 0);
	assert_true(g.ok && g.has_psi && g.mem_psi_pct == 3.5);
	/* 0.25 s of CPU in 1 s of one CPU. */
	put(dir, "cpu.stat", "usage_usec 1250000\n");
	assert_int_equal(agent_sample_cgroup(dir, &g, 11 * s), 0);
	assert_float_equal(g.cpu_pct, 25, 1e-9);
	/* Its whole CPU, and more than it (rounding): 100. */
	put(dir, "cpu.stat", "usage_usec 2300000\n");
	assert_int_equal(agent_sample_cgroup(dir, &g, 12 * s), 0);
	assert_float_equal(g.cpu_pct, 100, 1e-9);
	assert_int_equal(agent_cgroup_check("relative/x", &err), -EINVAL);
	snprintf(path, sizeof(path), "%s/cpu.stat", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cpu.max", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/memory.pressure", dir);
	unlink(path);
	rmdir(dir);
}

/* Where cgroup v2 is mounted, or NULL. */
static const char *cgroup2_root(void)
{
	static char root[256];
	char dev[64], type[32];
	FILE *f = fopen("/proc/mounts", "r");
	bool found = false;

	while (f && !found &&
	       fscanf(f, "%63s %255s %31s %*[^\n]", dev, root, type) == 3)
		found = !strcmp(type, "cgroup2");
	if (f)
		fclose(f);
	return found ? root : NULL;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A real cgroup with a child spinning in it uses CPU; its idle sibling
 * does not. */
static void cgroup_real(void **state)
{
	const char *root = cgroup2_root();
	char busy[320], idle[320], procs[340], pid_s[16];
	struct agent_cg gb = {0}, gi = {0};
	uint64_t t0, ub0;
	pid_t pid;
	FILE *f;

	(void)state;
	if (geteuid() || !root)
		skip();
	snprintf(busy, sizeof(busy), "%s/xlb-test-busy-%d", root, getpid());
	snprintf(idle, sizeof(idle), "%s/xlb-test-idle-%d", root, getpid());
	if (mkdir(busy, 0755))
		skip(); /* a read-only or delegated hierarchy */
	assert_int_equal(mkdir(idle, 0755), 0);
	pid = fork();
	if (pid == 0) {
		for (;;)
			;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", busy);
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	f = fopen(procs, "w");
	assert_non_null(f);
	fputs(pid_s, f);
	fclose(f);
	assert_int_equal(agent_sample_cgroup(busy, &gb, mono_ns()), 0);
	assert_int_equal(agent_sample_cgroup(idle, &gi, mono_ns()), 0);
	ub0 = gb.usage_ns;
	/* Until the spinner has had 50 ms of CPU, however busy the
	 * machine, or 10 s. */
	t0 = mono_ns();
	while (gb.usage_ns - ub0 < 50000000 &&
	       mono_ns() - t0 < 10000000000ULL) {
		usleep(100000);
		assert_int_equal(agent_sample_cgroup(busy, &gb, mono_ns()), 0);
	}
	assert_int_equal(agent_sample_cgroup(idle, &gi, mono_ns()), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	rmdir(busy);
	rmdir(idle);
	assert_true(gb.usage_ns - ub0 >= 50000000);
	assert_true(gb.cpu_pct > 0);
	assert_true(gi.cpu_pct == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stat_parse),
		cmocka_unit_test(cpu_delta),
		cmocka_unit_test(psi_and_meminfo),
		cmocka_unit_test(hook_output),
		cmocka_unit_test(real_sample),
		cmocka_unit_test(cgroup_parsers),
		cmocka_unit_test(cgroup_fake_dir),
		cmocka_unit_test(cgroup_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
