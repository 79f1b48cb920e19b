// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb uplink` as an operator types it, with no daemon behind the
 * socket: what the CLI refuses itself (exit 2 and why, before asking
 * xlbd) and what it lets through (exit 1: xlbd unreachable), so every
 * rule the CLI checks has a case on each side; the rules themselves are
 * test_model's. A stand-in xlbd answering one request shows what each
 * command asks and how it prints the answer, with and without the
 * run-time members xlbd adds.
 */
#include "cli_rig.h"

static void test_uplink_add(void **state)
{
	struct rig *g = *state;

	ASKED(g, "uplink", "add", "eth1", "--gateway", "02:00:00:00:00:01");
	ASKED(g, "uplink", "add", "eth1", "--gateway", "198.18.0.254", "--mtu",
	      "9000", "--share", "3");
	ASKED(g, "uplink", "add", "bond0.100", "--gateway=fe80::1", "--mtu",
	      "0", "--share", "1000");
	ASKED(g, "uplink", "add", "abcdefghijklmno", "--gateway",
	      "02:00:00:00:00:01", "--mtu", "576");

	REFUSED(g, "missing IFACE", "uplink", "add");
	REFUSED(g, "uplink eth1: missing --gateway MAC|ADDR", "uplink", "add",
		"eth1");
	REFUSED(g, "missing --gateway", "uplink", "add", "eth1", "--share",
		"2");
	REFUSED(g, "unexpected argument", "uplink", "add", "eth1", "eth2",
		"--gateway", "02:00:00:00:00:01");
	REFUSED(g, "bad interface name 'a/b'", "uplink", "add", "a/b",
		"--gateway", "02:00:00:00:00:01");
	REFUSED(g, "bad interface name 'eth0:1'", "uplink", "add", "eth0:1",
		"--gateway", "02:00:00:00:00:01");
	REFUSED(g, "longer than 15", "uplink", "add", "abcdefghijklmnop",
		"--gateway", "02:00:00:00:00:01");
	REFUSED(g, "--gateway: bad gateway '02:00:00:00:00'", "uplink", "add",
		"eth1", "--gateway", "02:00:00:00:00");
	REFUSED(g, "bad gateway 'router1'", "uplink", "add", "eth1",
		"--gateway", "router1");
	REFUSED(g, "gateway MAC 01:00:5e:00:00:01 is multicast", "uplink",
		"add", "eth1", "--gateway", "01:00:5e:00:00:01");
	REFUSED(g, "is zero", "uplink", "add", "eth1", "--gateway",
		"00:00:00:00:00:00");
	REFUSED(g, "gateway address 127.0.0.1 is loopback", "uplink", "add",
		"eth1", "--gateway", "127.0.0.1");
	REFUSED(g, "multicast", "uplink", "add", "eth1", "--gateway",
		"ff02::1");
	REFUSED(g, "mtu 575 out of range 576..65535", "uplink", "add", "eth1",
		"--gateway", "02:00:00:00:00:01", "--mtu", "575");
	REFUSED(g, "--mtu: number 65536 out of range", "uplink", "add", "eth1",
		"--gateway", "02:00:00:00:00:01", "--mtu", "65536");
	REFUSED(g, "--share: number 0 out of range 1..1000", "uplink", "add",
		"eth1", "--gateway", "02:00:00:00:00:01", "--share", "0");
	REFUSED(g, "--share: number 1001 out of range", "uplink", "add", "eth1",
		"--gateway", "02:00:00:00:00:01", "--share", "1001");
	REFUSED(g, "unknown option", "uplink", "add", "eth1", "--gateway",
		"02:00:00:00:00:01", "--id", "3");
}

static void test_uplink_other_commands(void **state)
{
	struct rig *g = *state;
	char out[4096];

	ASKED(g, "uplink", "set", "eth1", "--share", "3");
	ASKED(g, "uplink", "set", "eth1", "--gateway", "198.18.0.1");
	ASKED(g, "uplink", "set", "eth1", "--mtu", "0");
	REFUSED(g, "nothing to set", "uplink", "set", "eth1");
	REFUSED(g, "missing IFACE", "uplink", "set");
	REFUSED(g, "mtu 100 out of range", "uplink", "set", "eth1", "--mtu",
		"100");
	REFUSED(g, "is multicast", "uplink", "set", "eth1", "--gateway",
		"ff:ff:ff:ff:ff:ff");

	ASKED(g, "uplink", "del", "eth1");
	ASKED(g, "uplink", "delete", "eth1");
	ASKED(g, "uplink", "show", "eth1");
	ASKED(g, "uplink", "list");
	ASKED(g, "uplink", "ls");
	ASKED(g, "uplink");
	ASKED(g, "-j", "uplink", "list");
	REFUSED(g, "missing IFACE", "uplink", "del");
	REFUSED(g, "bad interface name '..'", "uplink", "del", "..");
	REFUSED(g, "bad interface name", "uplink", "show", "a b");
	REFUSED(g, "unexpected argument", "uplink", "list", "x");
	REFUSED(g, "unexpected argument", "uplink", "show", "eth1", "eth2");
	REFUSED(g, "unknown command 'up'", "uplink", "up", "eth1");

	/* The help: the grammar and the options the table makes. */
	assert_int_equal(
		run(g, out, sizeof(out), "uplink", "help", (char *)NULL), 0);
	has(out, "xlb uplink add IFACE --gateway MAC|ADDR [--mtu N] "
		 "[--share N]");
	has(out, "xlb uplink set IFACE");
	has(out, "xlb uplink { del | delete } IFACE");
	has(out, "--gateway MAC|ADDR");
	has(out, "--mtu N");
	has(out, "--share N");
}

/* The list's table: the settings, then what xlbd knows at run time. */
static void test_uplink_list(void **state)
{
	static const char full[] =
		"{\"ok\": true, \"result\": {\"uplinks\": ["
		"{\"interface\": \"eth1\", \"gateway\": \"02:00:00:00:00:01\","
		" \"mtu\": 0, \"share\": 1, \"id\": 1, \"state\": \"up\","
		" \"ifindex\": 3, \"gw_mac\": \"02:00:00:00:00:01\","
		" \"bytes\": 1000, \"packets\": 10, \"share_target\": 0.25,"
		" \"share_measured\": 0.5, \"failovers\": 0},"
		"{\"interface\": \"eth2\", \"gateway\": \"198.18.0.254\","
		" \"mtu\": 9000, \"share\": 3, \"id\": 2, \"state\": \"down\","
		" \"why\": \"no carrier\", \"bytes\": 1000, \"packets\": 5,"
		" \"share_target\": 0.75, \"share_measured\": 0.5,"
		" \"failovers\": 4}]}}";
	static const char bare[] =
		"{\"ok\": true, \"result\": {\"uplinks\": ["
		"{\"interface\": \"eth1\", \"gateway\": \"02:00:00:00:00:01\","
		" \"mtu\": 0, \"share\": 1, \"id\": 0}]}}";
	struct rig *g = *state;
	char req[1024], out[4096];

	assert_int_equal(ask(g, full, req, sizeof(req), out, sizeof(out),
			     "uplink", "list", (char *)NULL),
			 0);
	has(req, "\"op\":\"uplink.list\"");
	has(out, "IFACE  GATEWAY               MTU  SHARE  STATE  WHY         "
		 "TARGET%  MEASURED%  BYTES  FAILOVERS\n"
		 "eth1   02:00:00:00:00:01  global      1  up     -           "
		 "   25.0       50.0   1000          0\n"
		 "eth2   198.18.0.254         9000      3  down   no carrier  "
		 "   75.0       50.0   1000          4\n");

	/* JSON: the members as xlbd sent them, shares as fractions. */
	assert_int_equal(ask(g, full, req, sizeof(req), out, sizeof(out), "-j",
			     "uplink", "list", (char *)NULL),
			 0);
	has(out, "{\"uplinks\":[{\"interface\":\"eth1\"");
	has(out, "\"mtu\":0");
	has(out, "\"share_target\":0.75");
	has(out, "\"why\":\"no carrier\"");
	has(out, "\"failovers\":4");
	has(out, "\"gw_mac\":\"02:00:00:00:00:01\"");

	/* Without run-time members: the settings' columns only. */
	assert_int_equal(ask(g, bare, req, sizeof(req), out, sizeof(out),
			     "uplink", "list", (char *)NULL),
			 0);
	has(out, "IFACE  GATEWAY               MTU  SHARE\n"
		 "eth1   02:00:00:00:00:01  global      1\n");
	assert_null(strstr(out, "STATE"));
}

/* What add and set ask, and show's two halves. */
static void test_uplink_requests(void **state)
{
	static const char full[] =
		"{\"ok\": true, \"result\": {\"interface\": \"eth2\","
		" \"gateway\": \"198.18.0.254\", \"mtu\": 9000, \"share\": 3,"
		" \"id\": 2, \"state\": \"down\", \"why\": \"gateway "
		"unresolved\", \"ifindex\": 4, \"bytes\": 123, \"packets\": 2,"
		" \"share_target\": 0.75, \"share_measured\": 0.1,"
		" \"failovers\": 9}}";
	static const char bare[] =
		"{\"ok\": true, \"result\": {\"interface\": \"eth1\","
		" \"gateway\": \"02:00:00:00:00:01\", \"mtu\": 0, \"share\": 1,"
		" \"id\": 0}}";
	static const char ok[] = "{\"ok\": true, \"result\": null}";
	static const char refused[] = "{\"ok\": false, \"error\": \"uplink "
				      "eth1 already exists\", \"code\": 17}";
	struct rig *g = *state;
	char req[1024], out[4096];

	assert_int_equal(ask(g, ok, req, sizeof(req), out, sizeof(out),
			     "uplink", "add", "eth2", "--gateway",
			     "02:AB:00:00:00:01", "--mtu", "9000", "--share",
			     "3", (char *)NULL),
			 0);
	has(req, "\"op\":\"uplink.add\"");
	has(req, "\"interface\":\"eth2\"");
	/* The gateway in its one written form. */
	has(req, "\"gateway\":\"02:ab:00:00:00:01\"");
	has(req, "\"mtu\":9000");
	has(req, "\"share\":3");
	has(out, "added uplink eth2");

	/* set sends what was given, nothing else. */
	assert_int_equal(ask(g, ok, req, sizeof(req), out, sizeof(out),
			     "uplink", "set", "eth2", "--share", "5",
			     (char *)NULL),
			 0);
	has(req, "\"op\":\"uplink.set\"");
	has(req, "\"args\":{\"interface\":\"eth2\",\"share\":5}");

	assert_int_equal(ask(g, ok, req, sizeof(req), out, sizeof(out),
			     "uplink", "del", "eth2", (char *)NULL),
			 0);
	has(req, "\"op\":\"uplink.del\"");
	has(req, "\"args\":{\"interface\":\"eth2\"}");

	assert_int_equal(ask(g, full, req, sizeof(req), out, sizeof(out),
			     "uplink", "show", "eth2", (char *)NULL),
			 0);
	has(req, "\"op\":\"uplink.show\"");
	has(req, "\"interface\":\"eth2\"");
	has(out, "interface:      eth2\n");
	has(out, "gateway:        198.18.0.254\n");
	has(out, "mtu:            9000\n");
	has(out, "share:          3\n");
	has(out, "state:          down\n");
	has(out, "why:            gateway unresolved\n");
	has(out, "target share:   75.0%\n");
	has(out, "measured share: 10.0%\n");
	has(out, "failovers:      9\n");
	assert_int_equal(ask(g, full, req, sizeof(req), out, sizeof(out), "-j",
			     "uplink", "show", "eth2", (char *)NULL),
			 0);
	has(out, "\"share_measured\":0.1");
	has(out, "\"why\":\"gateway unresolved\"");

	/* Without run-time members (an xlbd that adds none yet). */
	assert_int_equal(ask(g, bare, req, sizeof(req), out, sizeof(out),
			     "uplink", "show", "eth1", (char *)NULL),
			 0);
	has(out, "mtu:            global\n");
	assert_null(strstr(out, "state:"));
	assert_null(strstr(out, "target share"));
	assert_null(strstr(out, "failovers"));

	/* xlbd's refusal is the CLI's failure, its words shown. */
	assert_int_equal(ask(g, refused, req, sizeof(req), out, sizeof(out),
			     "uplink", "add", "eth1", "--gateway",
			     "02:00:00:00:00:01", (char *)NULL),
			 1);
	has(out, "uplink eth1 already exists");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_uplink_add, cli_rig_setup,
						cli_rig_teardown),
		cmocka_unit_test_setup_teardown(test_uplink_other_commands,
						cli_rig_setup,
						cli_rig_teardown),
		cmocka_unit_test_setup_teardown(test_uplink_list, cli_rig_setup,
						cli_rig_teardown),
		cmocka_unit_test_setup_teardown(
			test_uplink_requests, cli_rig_setup, cli_rig_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
