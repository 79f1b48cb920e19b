// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * VIP announcements as routes (route.c) against the kernel, in a network
 * namespace of the test's own (unshare(CLONE_NEWNET) once, before the
 * first test), so no route of the host is ever touched. Without root the
 * tests are skipped, with the reason. Table 100 as in the example BIRD
 * configs (scripts/bird/).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "bird.h"
#include "clock.h"
#include "route.h"

#define TABLE 100

static const char *no_netns; /* why the tests are skipped, if they are */

static struct xlb_route_entry entry(const char *s)
{
	struct xlb_route_entry e = {0};

	if (inet_pton(AF_INET, s, &e.addr) == 1)
		e.family = XLB_AF_INET;
	else if (inet_pton(AF_INET6, s, &e.addr) == 1)
		e.family = XLB_AF_INET6;
	else
		fail_msg("bad address %s", s);
	return e;
}

static void lo_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(ifr.ifr_name, "lo");
	if (fd >= 0 && !ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (fd >= 0)
		close(fd);
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid())
		no_netns = "needs root for a network namespace";
	else if (unshare(CLONE_NEWNET))
		no_netns = "unshare(CLONE_NEWNET) failed";
	else
		lo_up();
	return 0;
}

/* A handle on an empty table 100, or the test is skipped. */
static struct xlb_route *open_table(void)
{
	struct xlb_err err = {{0}};
	struct xlb_route *r;

	if (no_netns) {
		print_message("skipped: %s\n", no_netns);
		skip();
	}
	assert_int_equal(system("ip route flush table 100 2>/dev/null;"
				"ip -6 route flush table 100 2>/dev/null;"
				"true"),
			 0);
	if (xlb_route_open(TABLE, &r, &err))
		fail_msg("open: %s", err.msg);
	return r;
}

/* Our routes of the table, sorted as text, one per line in buf. */
static const char *listed(struct xlb_route *r, char *buf, size_t len)
{
	struct xlb_err err = {{0}};
	struct xlb_route_entry *v;
	char s[INET6_ADDRSTRLEN];
	size_t n;

	if (xlb_route_list(r, &v, &n, &err))
		fail_msg("list: %s", err.msg);
	buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		xlb_route_addr_str(v[i].family, &v[i].addr, s, sizeof(s));
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			 i ? " " : "", s);
	}
	free(v);
	return buf;
}

/* Does `ip` see the route as we mean it (blackhole, proto 177)? */
static int ip_shows(const char *v, const char *addr)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "ip %s route show table 100 | grep -q '^blackhole %s .*"
		 "proto 177'",
		 v, addr);
	return system(cmd);
}

static void test_reserved_tables(void **state)
{
	__u32 bad[] = {0, 253, 254, 255};
	struct xlb_err err = {{0}};
	struct xlb_route *r = (void *)1;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(xlb_route_open(bad[i], &r, &err), -EINVAL);
		assert_null(r);
		assert_non_null(strstr(err.msg, "reserved"));
	}
	assert_true(xlb_route_table_ok(256));
	assert_true(xlb_route_table_ok(0xffffffff));
}

static void test_announce_withdraw(void **state)
{
	struct xlb_route_entry a = entry("198.19.0.1"),
			       b = entry("2001:db8:100::1");
	struct xlb_route *r = open_table();
	struct xlb_err err = {{0}};
	char buf[512];

	(void)state;
	assert_string_equal(listed(r, buf, sizeof(buf)), "");
	for (int i = 0; i < 2; i++) { /* twice: announcing is idempotent */
		assert_int_equal(xlb_route_announce(r, a.family, &a.addr, &err),
				 0);
		assert_int_equal(xlb_route_announce(r, b.family, &b.addr, &err),
				 0);
	}
	assert_int_equal(ip_shows("-4", "198.19.0.1"), 0);
	assert_int_equal(ip_shows("-6", "2001:db8:100::1"), 0);
	assert_string_equal(listed(r, buf, sizeof(buf)),
			    "198.19.0.1 2001:db8:100::1");
	for (int i = 0; i < 2; i++) { /* twice: absent is no error */
		assert_int_equal(xlb_route_withdraw(r, a.family, &a.addr, &err),
				 0);
		assert_int_equal(xlb_route_withdraw(r, b.family, &b.addr, &err),
				 0);
	}
	assert_string_equal(listed(r, buf, sizeof(buf)), "");
	assert_int_not_equal(ip_shows("-4", "198.19.0.1"), 0);
	xlb_route_close(r);
}

static void test_bad_family(void **state)
{
	struct xlb_route_entry a = entry("198.19.0.1");
	struct xlb_route *r = open_table();
	struct xlb_err err = {{0}};

	(void)state;
	assert_int_equal(xlb_route_announce(r, 7, &a.addr, &err),
			 -EAFNOSUPPORT);
	assert_non_null(strstr(err.msg, "family"));
	xlb_route_close(r);
}

/* A route someone else put in the table outlives sync and withdraw. */
static void test_sync(void **state)
{
	struct xlb_route_entry want1[] = {entry("198.19.0.1"),
					  entry("198.19.0.2"),
					  entry("2001:db8:100::1")};
	struct xlb_route_entry want2[] = {entry("198.19.0.2"),
					  entry("2001:db8:100::2"),
					  entry("2001:db8:100::2")};
	struct xlb_route *r = open_table();
	struct xlb_err err = {{0}};
	struct xlb_route_entry o = entry("198.19.0.9");
	size_t added, removed;
	char buf[512];

	(void)state;
	assert_int_equal(system("ip route add blackhole 198.19.0.9/32 "
				"table 100 proto static"),
			 0);
	assert_int_equal(xlb_route_sync(r, want1, 3, &added, &removed, &err),
			 0);
	assert_int_equal(added, 3);
	assert_int_equal(removed, 0);
	assert_string_equal(listed(r, buf, sizeof(buf)),
			    "198.19.0.1 198.19.0.2 2001:db8:100::1");
	assert_int_equal(xlb_route_sync(r, want2, 3, &added, &removed, &err),
			 0);
	assert_int_equal(added, 1);
	assert_int_equal(removed, 2);
	assert_string_equal(listed(r, buf, sizeof(buf)),
			    "198.19.0.2 2001:db8:100::2");
	/* Again: nothing to do. */
	assert_int_equal(xlb_route_sync(r, want2, 3, &added, &removed, &err),
			 0);
	assert_int_equal(added + removed, 0);
	assert_int_equal(xlb_route_withdraw(r, o.family, &o.addr, &err), 0);
	assert_int_equal(system("ip route show table 100 | grep -q "
				"'^blackhole 198.19.0.9 proto static'"),
			 0);
	assert_int_equal(xlb_route_sync(r, NULL, 0, NULL, &removed, &err), 0);
	assert_int_equal(removed, 2);
	assert_string_equal(listed(r, buf, sizeof(buf)), "");
	assert_int_equal(system("ip route show table 100 | grep -q "
				"'^blackhole 198.19.0.9 proto static'"),
			 0);
	xlb_route_close(r);
}

/* Tables above 255 do not fit rtm_table: RTA_TABLE must carry them. */
static void test_big_table(void **state)
{
	struct xlb_route_entry a = entry("198.19.0.3");
	struct xlb_route *r, *r100 = open_table();
	struct xlb_err err = {{0}};
	char buf[512];

	(void)state;
	assert_int_equal(xlb_route_open(100000, &r, &err), 0);
	assert_int_equal(xlb_route_announce(r, a.family, &a.addr, &err), 0);
	assert_string_equal(listed(r, buf, sizeof(buf)), "198.19.0.3");
	assert_string_equal(listed(r100, buf, sizeof(buf)), "");
	assert_int_equal(system("ip route show table 100000 | grep -q "
				"'^blackhole 198.19.0.3 proto 177'"),
			 0);
	assert_int_equal(xlb_route_withdraw(r, a.family, &a.addr, &err), 0);
	assert_string_equal(listed(r, buf, sizeof(buf)), "");
	xlb_route_close(r);
	xlb_route_close(r100);
}

/* A BIRD that learns table 100, as scripts/bird/balancer.conf does. */
static const char bird_conf[] =
	"router id 198.18.50.2;\n"
	"protocol device {}\n"
	"protocol kernel vips4 { kernel table 100; learn;\n"
	"	ipv4 { import all; export none; }; }\n"
	"protocol kernel vips6 { kernel table 100; learn;\n"
	"	ipv6 { import all; export none; }; }\n";

static char bird_dir[64];
static pid_t bird_pid;

static void bird_stop(void)
{
	char cmd[128];

	if (bird_pid > 0) {
		kill(bird_pid, SIGTERM);
		waitpid(bird_pid, NULL, 0);
		bird_pid = 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", bird_dir);
	if (bird_dir[0] && system(cmd))
		print_message("cannot remove %s\n", bird_dir);
}

/* BIRD in the test's namespace, its control socket up, or a skip. */
static const char *bird_start(void)
{
	static char sock[96];
	char conf[96], pidf[96];
	FILE *f;

	if (access("/usr/sbin/bird", X_OK)) {
		print_message("skipped: /usr/sbin/bird is not installed\n");
		skip();
	}
	strcpy(bird_dir, "/tmp/xlb-test-route.XXXXXX");
	assert_non_null(mkdtemp(bird_dir));
	snprintf(conf, sizeof(conf), "%s/bird.conf", bird_dir);
	snprintf(sock, sizeof(sock), "%s/bird.ctl", bird_dir);
	snprintf(pidf, sizeof(pidf), "%s/bird.pid", bird_dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs(bird_conf, f);
	assert_int_equal(fclose(f), 0);
	bird_pid = fork();
	assert_true(bird_pid >= 0);
	if (!bird_pid) {
		execl("/usr/sbin/bird", "bird", "-f", "-s", sock, "-c", conf,
		      "-P", pidf, (char *)NULL);
		_exit(127);
	}
	for (__u64 end = xlb_now_ms() + 10000; xlb_now_ms() < end;) {
		struct stat st;

		if (!stat(sock, &st) && S_ISSOCK(st.st_mode))
			return sock;
		usleep(10000);
	}
	fail_msg("BIRD's control socket %s did not appear in 10 s", sock);
	return NULL;
}

/* Polls BIRD until it reports want for a, for up to 10 s. */
static void bird_wait_state(const char *sock, const struct xlb_route_entry *a,
			    __u8 want)
{
	struct xlb_err err = {{0}};
	__u8 st = XLB_BIRD_UNKNOWN;

	for (__u64 end = xlb_now_ms() + 10000; xlb_now_ms() < end;) {
		if (!xlb_bird_query(sock, a, 1, 1000, &st, &err) && st == want)
			return;
		usleep(10000);
	}
	fail_msg("BIRD says %s, not %s (%s)", xlb_bird_route_str(st),
		 xlb_bird_route_str(want), err.msg);
}

/* What xlbd announces reaches BIRD's table and leaves it on withdraw. */
static void test_bird_learns(void **state)
{
	struct xlb_route_entry v[] = {entry("198.19.0.1"),
				      entry("2001:db8:100::1")};
	struct xlb_route *r = open_table();
	struct xlb_err err = {{0}};
	const char *sock = bird_start();

	(void)state;
	for (int i = 0; i < 2; i++) {
		bird_wait_state(sock, &v[i], XLB_BIRD_ABSENT);
		assert_int_equal(
			xlb_route_announce(r, v[i].family, &v[i].addr, &err),
			0);
		/* No BGP session up: in the table, exported nowhere. */
		bird_wait_state(sock, &v[i], XLB_BIRD_PRESENT);
		assert_int_equal(
			xlb_route_withdraw(r, v[i].family, &v[i].addr, &err),
			0);
		bird_wait_state(sock, &v[i], XLB_BIRD_ABSENT);
	}
	bird_stop();
	/* BIRD gone: UNKNOWN, and a why. */
	{
		__u8 st = XLB_BIRD_PRESENT;

		assert_int_not_equal(xlb_bird_query(sock, v, 1, 500, &st, &err),
				     0);
		assert_int_equal(st, XLB_BIRD_UNKNOWN);
		assert_non_null(strstr(err.msg, "BIRD at"));
	}
	xlb_route_close(r);
}

static int group_teardown(void **state)
{
	(void)state;
	bird_stop();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserved_tables),
		cmocka_unit_test(test_announce_withdraw),
		cmocka_unit_test(test_bad_family),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_big_table),
		cmocka_unit_test(test_bird_learns),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
