// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the agent's config (user/agent/config.c): the defaults
 * and built-in profiles, every documented key read, profiles validated
 * (weights in 0..1 summing to 1), and bad documents refused with the
 * path of the offending key. The example config in scripts/ must load.
 */
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent.h"

static struct agent_cfg *cfg_of(const char *text)
{
	struct xlb_err err = {{0}};
	struct agent_cfg *c = agent_cfg_parse(text, &err);

	if (!c)
		fail_msg("config refused: %s", err.msg);
	return c;
}

static const struct agent_profile *profile(const struct agent_cfg *c,
					   const char *name)
{
	for (int i = 0; i < c->n_profiles; i++)
		if (!strcmp(c->profiles[i].name, name))
			return &c->profiles[i];
	fail_msg("no profile %s", name);
	return NULL;
}

static void defaults(void **state)
{
	struct agent_cfg *c = cfg_of("{}");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	(void)state;
	assert_int_equal(c->listen_port, 5555);
	assert_int_equal(c->sample_ms, 1000);
	assert_true(c->cpu_pct == 100 && c->mem_psi_pct == 25 &&
		    c->mem_used_pct == 100 && c->conns == 1000);
	assert_true(c->runq == 2.0 * cpus);
	assert_true(c->drain_above == 0.95);
	assert_string_equal(c->profiles[c->host_profile].name, "default");
	assert_true(profile(c, "cpu-heavy")->w[AGENT_M_CPU] == 0.7);
	assert_true(profile(c, "io-heavy")->w[AGENT_M_CONNS] == 0.6);
	assert_int_equal(c->n_services, 0);
	assert_int_equal(c->n_hooks, 1);
	assert_null(c->hooks[0].command);
	assert_true(agent_cfg_weighs(c, AGENT_M_CONNS));
	assert_false(agent_cfg_weighs(c, AGENT_M_HOOK));
	agent_cfg_free(c);
	/* Nobody weighs connections: the agent need not count them. */
	c = cfg_of("{\"profiles\": {\"default\": {\"cpu\": 1}, \"m\":"
		   " {\"mem\": 1}}, \"services\": [{\"service\":"
		   " \"198.19.0.1:80/tcp\", \"profile\": \"m\"}]}");
	assert_false(agent_cfg_weighs(c, AGENT_M_CONNS));
	assert_true(agent_cfg_weighs(c, AGENT_M_MEM));
	agent_cfg_free(c);
}

static void every_key(void **state)
{
	struct agent_cfg *c = cfg_of(
		"{\"listen_port\": 6000, \"sample_ms\": 500,"
		" \"drain_above\": 0.9,"
		" \"ceilings\": {\"cpu_pct\": 80, \"mem_psi_pct\": 10,"
		"  \"mem_used_pct\": 90, \"runq\": 8, \"conns\": 300},"
		" \"profiles\": {\"default\": {\"cpu\": 1},"
		"  \"mine\": {\"cpu\": 0.25, \"mem\": 0.25, \"runq\": 0.25,"
		"   \"hook\": 0.25}},"
		" \"hook\": {\"command\": \"echo 1\", \"ceiling\": 10,"
		"  \"interval_ms\": 2000, \"timeout_ms\": 300},"
		" \"services\": ["
		"  {\"service\": \"198.19.0.1:80/tcp\", \"profile\": \"mine\","
		"   \"conns_ceiling\": 20, \"drain_above\": 0.5,"
		"   \"hook\": {\"file\": \"/tmp/x\"}},"
		"  {\"service\": \"[2001:db8::1]:53/udp\"}]}");
	const struct agent_service *s;

	(void)state;
	assert_int_equal(c->listen_port, 6000);
	assert_int_equal(c->sample_ms, 500);
	assert_true(c->drain_above == 0.9 && c->cpu_pct == 80 &&
		    c->mem_psi_pct == 10 && c->mem_used_pct == 90 &&
		    c->runq == 8 && c->conns == 300);
	assert_true(profile(c, "default")->w[AGENT_M_CPU] == 1);
	assert_true(profile(c, "default")->w[AGENT_M_CONNS] == 0);
	assert_true(profile(c, "mine")->w[AGENT_M_HOOK] == 0.25);
	assert_string_equal(c->hooks[0].command, "echo 1");
	assert_true(c->hooks[0].ceiling == 10);
	assert_int_equal(c->hooks[0].interval_ms, 2000);
	assert_int_equal(c->hooks[0].timeout_ms, 300);
	assert_int_equal(c->n_services, 2);
	s = &c->services[0];
	assert_string_equal(s->name, "198.19.0.1:80/tcp");
	assert_string_equal(c->profiles[s->profile].name, "mine");
	assert_true(s->conns_ceiling == 20 && s->drain_above == 0.5);
	assert_string_equal(c->hooks[s->hook].file, "/tmp/x");
	/* A hook's defaults: ceiling 100, the sample interval, 1 s. */
	assert_true(c->hooks[s->hook].ceiling == 100);
	assert_int_equal(c->hooks[s->hook].interval_ms, 500);
	assert_int_equal(c->hooks[s->hook].timeout_ms, 500);
	s = &c->services[1];
	assert_string_equal(s->name, "[2001:db8::1]:53/udp");
	assert_int_equal(s->profile, c->host_profile);
	assert_true(s->conns_ceiling == 300 && s->drain_above == 0.9);
	assert_int_equal(s->hook, 0);
	assert_ptr_equal(agent_cfg_service(c, &s->key), s);
	agent_cfg_free(c);
}

static void profile_validation(void **state)
{
	static const struct {
		double w[AGENT_M_NUM];
		bool ok;
	} cases[] = {
		{{1, 0, 0, 0, 0}, true},
		{{0.7, 0.1, 0, 0.2, 0}, true},
		{{0.1, 0.2, 0.3, 0.4, 0}, true},
		{{0.2, 0.2, 0.2, 0.2, 0.2}, true},
		{{0.5, 0.5 + 1e-9, 0, 0, 0}, true}, /* decimals of a file */
		{{0, 0, 0, 0, 0}, false},
		{{0.5, 0.4, 0, 0, 0}, false},
		{{0.7, 0.2, 0.2, 0, 0}, false},
		{{1.5, -0.5, 0, 0, 0}, false},
		{{NAN, 1, 0, 0, 0}, false},
		{{2, 0, 0, 0, 0}, false},
	};
	struct agent_profile p = {"p", {0}};
	struct xlb_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(p.w, cases[i].w, sizeof(p.w));
		err.msg[0] = '\0';
		if ((agent_profile_validate(&p, &err) == 0) != cases[i].ok)
			fail_msg("case %zu: %s", i,
				 cases[i].ok ? err.msg : "accepted");
		if (!cases[i].ok && !err.msg[0])
			fail_msg("case %zu refused without a reason", i);
	}
}

/* Each bad document is refused with a message that names its key. */
static void bad_documents(void **state)
{
	static const struct {
		const char *doc;
		const char *msg; /* a part of the message */
	} cases[] = {
		{"", "line 1"},
		{"[]", "expected a JSON object"},
		{"{\"listen_prot\": 1}", "unknown key 'listen_prot'"},
		{"{\"listen_port\": 0}", "listen_port: 0 out of range"},
		{"{\"listen_port\": 70000}", "listen_port"},
		{"{\"listen_port\": \"5555\"}", "listen_port: expected an int"},
		{"{\"sample_ms\": 10}", "sample_ms: 10 out of range"},
		{"{\"sample_ms\": 1.5}", "sample_ms: expected an integer"},
		{"{\"drain_above\": 1.5}", "drain_above: 1.5 out of range"},
		{"{\"ceilings\": []}", "ceilings: expected an object"},
		{"{\"ceilings\": {\"cpu\": 1}}", "ceilings: unknown key 'cpu'"},
		{"{\"ceilings\": {\"cpu_pct\": 0}}", "ceilings.cpu_pct: 0 out"},
		{"{\"ceilings\": {\"conns\": -1}}", "ceilings.conns"},
		{"{\"ceilings\": {\"runq\": \"x\"}}",
		 "ceilings.runq: expected"},
		{"{\"profiles\": {\"p\": {\"cpu\": 0.5}}}",
		 "profiles.p: weights sum to 0.5, not 1"},
		{"{\"profiles\": {\"p\": {\"cpu\": 0.5, \"disk\": 0.5}}}",
		 "profiles.p: unknown key 'disk'"},
		{"{\"profiles\": {\"p\": {\"cpu\": 1.5}}}",
		 "profiles.p.cpu: 1.5 out of range"},
		{"{\"profiles\": {\"p\": 1}}",
		 "profiles.p: expected an object"},
		{"{\"profiles\": {\"\": {\"cpu\": 1}}}", "name must be"},
		{"{\"profiles\": {\"default\": {\"hook\": 1}}}",
		 "profiles.default: profile 'default' weighs hook but no hook"},
		{"{\"hook\": {}}", "hook: expected one of command and file"},
		{"{\"hook\": {\"command\": \"x\", \"file\": \"y\"}}",
		 "hook: expected one of"},
		{"{\"hook\": {\"command\": \"\"}}", "hook: command: expected"},
		{"{\"hook\": {\"command\": \"x\", \"timeout\": 1}}",
		 "hook: unknown key 'timeout'"},
		{"{\"hook\": {\"file\": \"x\", \"ceiling\": 0}}",
		 "hook.ceiling: 0 out of range"},
		{"{\"services\": {}}", "services: expected an array"},
		{"{\"services\": [1]}", "services[0]: expected an object"},
		{"{\"services\": [{}]}", "services[0].service: expected a str"},
		{"{\"services\": [{\"service\": \"198.19.0.1/icmp\"}]}",
		 "services[0].service: unknown protocol 'icmp'"},
		{"{\"services\": [{\"service\": \"x:80/tcp\"}]}",
		 "services[0].service: "},
		{"{\"services\": [{\"service\": \"198.19.0.1:80/tcp\","
		 " \"profile\": \"nope\"}]}",
		 "services[0].profile: no profile named 'nope'"},
		{"{\"services\": [{\"service\": \"198.19.0.1:80/tcp\"},"
		 " {\"service\": \"198.19.0.1:80/tcp\"}]}",
		 "services[1].service: '198.19.0.1:80/tcp' is listed twice"},
		{"{\"services\": [{\"service\": \"198.19.0.1:80/tcp\","
		 " \"conns_ceiling\": 0}]}",
		 "services[0].conns_ceiling: 0 out of range"},
		{"{\"services\": [{\"service\": \"198.19.0.1:80/tcp\","
		 " \"wieght\": 1}]}",
		 "services[0]: unknown key 'wieght'"},
		{"{\"profiles\": {\"h\": {\"hook\": 1}}, \"services\": ["
		 "{\"service\": \"198.19.0.1:80/tcp\", \"profile\": \"h\"}]}",
		 "services[0].profile: profile 'h' weighs hook but no hook"},
		{"{\"services\": [{\"service\": \"198.19.0.1:80/tcp\","
		 " \"hook\": {\"file\": \"x\", \"interval_ms\": 5}}]}",
		 "services[0].hook.interval_ms: 5 out of range"},
		{"{\"sample_ms\": 500, \"sample_ms\": 600}", "duplicate"},
		{"{\"cgroup\": \"relative/dir\"}",
		 "cgroup: 'relative/dir' is not an absolute path"},
		{"{\"cgroup\": \"/nonexistent\"}",
		 "cgroup: '/nonexistent' has no readable cpu.stat"},
		{"{\"cgroup\": 5}", "cgroup: expected a cgroup's directory"},
		{"{\"services\": [{\"service\": \"198.19.0.1:80/tcp\","
		 " \"cgroup\": \"/nonexistent\"}]}",
		 "services[0].cgroup: '/nonexistent' has no readable"},
	};
	struct xlb_err err;
	struct agent_cfg *c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.msg[0] = '\0';
		c = agent_cfg_parse(cases[i].doc, &err);
		if (c) {
			agent_cfg_free(c);
			fail_msg("accepted: %s", cases[i].doc);
		}
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("%s: '%s' lacks '%s'", cases[i].doc, err.msg,
				 cases[i].msg);
	}
}

/* A service's hook weighed by its profile is enough; so is the host's. */
static void hook_of_service_or_host(void **state)
{
	struct agent_cfg *c =
		cfg_of("{\"profiles\": {\"h\": {\"hook\": 0.5, \"cpu\": 0.5}},"
		       " \"hook\": {\"file\": \"/tmp/host\"},"
		       " \"services\": [{\"service\": \"198.19.0.1:80/tcp\","
		       " \"profile\": \"h\"}]}");

	(void)state;
	assert_int_equal(c->services[0].hook, 0);
	agent_cfg_free(c);
}

static void example_loads(void **state)
{
	struct xlb_err err = {{0}};
	struct agent_cfg *c;

	(void)state;
	c = agent_cfg_load("scripts/xlb-agent.example.json", &err);
	if (!c)
		fail_msg("%s", err.msg);
	assert_true(c->n_services >= 3);
	agent_cfg_free(c);
	c = agent_cfg_load("/nonexistent/agent.json", &err);
	assert_null(c);
	assert_non_null(strstr(err.msg, "/nonexistent/agent.json: No such"));
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

/* The host's cgroup and a service's replace the host's CPU and memory
 * for whoever names them; one that cannot be read leaves the host's. */
static void cgroups_replace_host_figures(void **state)
{
	char a[] = "/tmp/xlb-cga-XXXXXX", b[] = "/tmp/xlb-cgb-XXXXXX";
	char doc[512], path[64];
	struct agent_host host = {.cpu_pct = 10, .has_psi = true};
	struct agent_cg cg[2] = {
		{.ok = true, .cpu_pct = 50, .has_psi = true, .mem_psi_pct = 5},
		{.ok = true, .cpu_pct = 90},
	};
	struct agent_view v = {.host = &host, .cgroups = cg};
	struct agent_cfg *c;
	double m[AGENT_M_NUM];

	(void)state;
	assert_non_null(mkdtemp(a));
	assert_non_null(mkdtemp(b));
	put(a, "cpu.stat", "usage_usec 1\n");
	put(b, "cpuacct.usage", "1\n");
	snprintf(doc, sizeof(doc),
		 "{\"cgroup\": \"%s\", \"services\": ["
		 "{\"service\": \"198.19.0.1:80/tcp\", \"cgroup\": \"%s\"},"
		 "{\"service\": \"198.19.0.1:81/tcp\"}]}",
		 a, b);
	c = cfg_of(doc);
	assert_int_equal(c->n_cgroups, 2);
	assert_int_equal(c->host_cgroup, 0);
	assert_string_equal(c->cgroups[0], a);
	assert_int_equal(c->services[0].cgroup, 1);
	assert_int_equal(c->services[1].cgroup, -1);
	v.cfg = c;

	agent_metrics_of(&v, NULL, m); /* the host: cgroup a */
	assert_float_equal(m[AGENT_M_CPU], 0.5, 1e-9);
	assert_float_equal(m[AGENT_M_MEM], 0.2, 1e-9);
	agent_metrics_of(&v, &c->services[0], m); /* its own, b: no PSI */
	assert_float_equal(m[AGENT_M_CPU], 0.9, 1e-9);
	assert_float_equal(m[AGENT_M_MEM], 0, 1e-9);
	agent_metrics_of(&v, &c->services[1], m); /* the host's, a */
	assert_float_equal(m[AGENT_M_CPU], 0.5, 1e-9);
	cg[0].ok = false;
	agent_metrics_of(&v, &c->services[1], m); /* the machine's */
	assert_float_equal(m[AGENT_M_CPU], 0.1, 1e-9);
	agent_cfg_free(c);
	snprintf(path, sizeof(path), "%s/cpu.stat", a);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cpuacct.usage", b);
	unlink(path);
	rmdir(a);
	rmdir(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_key),
		cmocka_unit_test(profile_validation),
		cmocka_unit_test(bad_documents),
		cmocka_unit_test(hook_of_service_or_host),
		cmocka_unit_test(example_loads),
		cmocka_unit_test(cgroups_replace_host_figures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
