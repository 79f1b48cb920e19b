// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb pool` and `xlb vip --mode/--pool` as an operator types them, with
 * no daemon behind the socket: what the CLI refuses itself (exit 2 and
 * why, before asking xlbd) and what it lets through to xlbd (exit 1:
 * xlbd unreachable), so every rule the CLI checks has a case on each
 * side. The rules themselves are test_model's. A stand-in for xlbd that
 * answers one request shows what a command asks and how it prints the
 * answer, the run-time members of a pool included.
 */
#include "cli_rig.h"

static void test_pool_add(void **state)
{
	struct rig *g = *state;

	ASKED(g, "pool", "add", "nat1", "198.18.2.0-198.18.2.15");
	ASKED(g, "pool", "add", "nat1", "198.18.2.1", "--ports", "2000-2999",
	      "--subpool-ports", "500", "--refill-percent", "90");
	ASKED(g, "pool", "add", "n.6_x-y", "2001:db8:5::1-2001:db8:5::ff");

	REFUSED(g, "missing NAME", "pool", "add");
	REFUSED(g, "missing FIRST[-LAST]", "pool", "add", "nat1");
	REFUSED(g, "unexpected argument", "pool", "add", "nat1", "198.18.2.1",
		"198.18.2.2");
	REFUSED(g, "bad pool name 'a b'", "pool", "add", "a b", "198.18.2.1");
	REFUSED(g, "longer than 31", "pool", "add",
		"abcdefghijklmnopqrstuvwxyz012345", "198.18.2.1");
	REFUSED(g, "mixes IPv4 and IPv6", "pool", "add", "p",
		"198.18.2.1-2001:db8::1");
	REFUSED(g, "bad address", "pool", "add", "p", "198.18.2");
	REFUSED(g, "first is after the last", "pool", "add", "p",
		"198.18.2.9-198.18.2.1");
	REFUSED(g, "loopback", "pool", "add", "p", "127.0.0.1");
	REFUSED(g, "one /96", "pool", "add", "p", "2001:db8::1-2001:db8:1::1");
	REFUSED(g, "at most 65536", "pool", "add", "p",
		"198.18.0.0-198.19.0.0");
	REFUSED(g, "--ports: bad port range", "pool", "add", "p", "198.18.2.1",
		"--ports", "0-10");
	REFUSED(g, "ports 20-10", "pool", "add", "p", "198.18.2.1", "--ports",
		"20-10");
	REFUSED(g, "--refill-percent", "pool", "add", "p", "198.18.2.1",
		"--refill-percent", "91");
	REFUSED(g, "subpool_ports 2000 is more than", "pool", "add", "p",
		"198.18.2.1", "--ports", "1000-1999", "--subpool-ports",
		"2000");
	REFUSED(g, "unknown option", "pool", "add", "p", "198.18.2.1",
		"--pool-id", "3");
}

static void test_pool_other_commands(void **state)
{
	struct rig *g = *state;
	char out[2048];

	ASKED(g, "pool", "del", "nat1");
	ASKED(g, "pool", "delete", "nat1");
	ASKED(g, "pool", "show", "nat1");
	ASKED(g, "pool", "list");
	ASKED(g, "pool", "ls");
	ASKED(g, "pool");
	ASKED(g, "-j", "pool", "list");
	REFUSED(g, "missing NAME", "pool", "del");
	REFUSED(g, "bad pool name", "pool", "show", "a/b");
	REFUSED(g, "unexpected argument", "pool", "list", "x");
	REFUSED(g, "unknown command 'set'", "pool", "set", "p");

	/* The help: the grammar and the options the table makes. */
	assert_int_equal(run(g, out, sizeof(out), "pool", "help", (char *)NULL),
			 0);
	assert_non_null(strstr(out, "xlb pool add NAME FIRST[-LAST]"));
	assert_non_null(strstr(out, "--ports LO-HI"));
	assert_non_null(strstr(out, "--subpool-ports N"));
	assert_non_null(strstr(out, "--refill-percent P"));
	assert_int_equal(run(g, out, sizeof(out), "help", (char *)NULL), 0);
	assert_non_null(strstr(out, "pool"));
}

static void test_vip_mode(void **state)
{
	struct rig *g = *state;

	ASKED(g, "vip", "add", "198.19.0.1:80/tcp", "--mode", "nat", "--pool",
	      "nat1");
	ASKED(g, "vip", "add", "198.19.0.1:80/tcp", "--mode", "dsr");
	ASKED(g, "vip", "set", "198.19.0.1:80/tcp", "--mode", "dsr");
	ASKED(g, "vip", "set", "198.19.0.1:80/tcp", "--pool", "nat2");
	REFUSED(g, "--mode nat needs --pool", "vip", "add", "198.19.0.1:80/tcp",
		"--mode", "nat");
	REFUSED(g, "--pool is for --mode nat", "vip", "add",
		"198.19.0.1:80/tcp", "--pool", "nat1");
	REFUSED(g, "unknown mode 'snat'", "vip", "add", "198.19.0.1:80/tcp",
		"--mode", "snat");
	REFUSED(g, "--pool: longer than 31", "vip", "set", "198.19.0.1:80/tcp",
		"--pool", "abcdefghijklmnopqrstuvwxyz012345");
}

/* What add asks, and show's two halves: the settings and run time. */
static void test_pool_requests(void **state)
{
	static const char full[] =
		"{\"ok\": true, \"result\": {\"name\": \"nat1\", \"pool_id\": "
		"2,"
		" \"addresses\": \"198.18.2.0-198.18.2.15\","
		" \"ports\": \"1024-65535\", \"subpool_ports\": 1024,"
		" \"refill_percent\": 25, \"subpool_base\": 1,"
		" \"n_subpools\": 1008, \"refills\": 7, \"reclaims\": 3,"
		" \"exhausted\": 0, \"entries\": 42,"
		" \"cpus\": [{\"cpu\": 0, \"free\": 900}],"
		" \"subpools\": [{\"id\": 1, \"addr\": \"198.18.2.0\","
		" \"ports\": \"1024-2047\", \"cpu\": 0, \"state\": \"cpu\","
		" \"used\": 124, \"free\": 900}, {\"id\": 2,"
		" \"addr\": \"198.18.2.0\", \"ports\": \"2048-3071\","
		" \"cpu\": -1, \"state\": \"free\", \"used\": 0,"
		" \"free\": 1024}]}}";
	static const char bare[] =
		"{\"ok\": true, \"result\": {\"name\": \"nat1\", \"pool_id\": "
		"0,"
		" \"addresses\": \"198.18.2.1\", \"ports\": \"1024-65535\","
		" \"refill_percent\": 25, \"subpool_base\": 0,"
		" \"n_subpools\": 0}}";
	struct rig *g = *state;
	char req[1024], out[4096];

	assert_int_equal(ask(g, "{\"ok\": true, \"result\": null}", req,
			     sizeof(req), out, sizeof(out), "pool", "add",
			     "nat1", "198.18.2.0-198.18.2.15", "--ports",
			     "2000-2999", "--refill-percent", "10",
			     (char *)NULL),
			 0);
	has(req, "\"op\":\"pool.add\"");
	has(req, "\"name\":\"nat1\"");
	has(req, "\"addresses\":\"198.18.2.0-198.18.2.15\"");
	has(req, "\"ports\":\"2000-2999\"");
	has(req, "\"refill_percent\":10");
	has(out, "added pool nat1");

	assert_int_equal(ask(g, full, req, sizeof(req), out, sizeof(out),
			     "pool", "show", "nat1", (char *)NULL),
			 0);
	has(req, "\"op\":\"pool.show\"");
	has(out, "addresses:      198.18.2.0-198.18.2.15");
	has(out, "sub-pool ports: 1024");
	has(out, "sub-pools:      1008 (ids 1..1008)");
	has(out, "refills:        7");
	has(out, "entries:        42");
	has(out, "CPU  FREE\n  0   900\n");
	/* A sub-pool no CPU holds: "-" in text... */
	has(out, " 2  198.18.2.0  2048-3071    -  free      0  1024\n");
	assert_int_equal(ask(g, full, req, sizeof(req), out, sizeof(out), "-j",
			     "pool", "show", "nat1", (char *)NULL),
			 0);
	/* ...-1 in JSON. */
	has(out, "\"cpu\":-1");
	has(out, "\"cpus\":[{\"cpu\":0,\"free\":900}]");
	has(out, "\"state\":\"free\"");

	/* Without run-time members (an allocator that adds none yet). */
	assert_int_equal(ask(g, bare, req, sizeof(req), out, sizeof(out),
			     "pool", "show", "nat1", (char *)NULL),
			 0);
	has(out, "sub-pool ports: not chosen yet");
	assert_null(strstr(out, "refills"));
	assert_null(strstr(out, "CPU"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pool_add, cli_rig_setup,
						cli_rig_teardown),
		cmocka_unit_test_setup_teardown(test_pool_other_commands,
						cli_rig_setup,
						cli_rig_teardown),
		cmocka_unit_test_setup_teardown(test_vip_mode, cli_rig_setup,
						cli_rig_teardown),
		cmocka_unit_test_setup_teardown(
			test_pool_requests, cli_rig_setup, cli_rig_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
