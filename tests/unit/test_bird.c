// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * BIRD's control protocol (bird.c): the reply parser on canned text
 * (good replies, error codes, truncated and malformed ones), and the
 * queries against a fake BIRD, a forked child that answers each command
 * with canned text as BIRD 2.0.12 did in tests/e2e/bird_configs.sh'
 * topology, or misbehaves (says nothing, closes, sends garbage). The
 * real BIRD is in test_route.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "bird.h"
#include "clock.h"

/* Collects the lines the parser hands out, "code|text" joined by ';'. */
struct lines {
	char s[1024];
};

static void on_line(void *ctx, int code, const char *text, size_t len)
{
	struct lines *l = ctx;
	size_t n = strlen(l->s);

	snprintf(l->s + n, sizeof(l->s) - n, "%s%d|%.*s", n ? ";" : "", code,
		 (int)len, text);
}

/* parse(text, &last, lines): the parser's return value. */
static int parse(const char *text, int *last, struct lines *l,
		 struct xlb_err *err)
{
	memset(l, 0, sizeof(*l));
	*last = -1;
	return xlb_bird_parse_reply(text, strlen(text), last, on_line, l, err);
}

static void test_parse_good(void **state)
{
	const char *route = "1007-Table master4:\n"
			    " 198.19.0.1/32        blackhole [vips4 "
			    "23:12:19.053] * (10)\n"
			    "0000 \n"
			    "0001 next reply\n";
	struct xlb_err err = {{0}};
	struct lines l;
	int last;

	(void)state;
	assert_int_equal(parse("0001 BIRD 2.0.12 ready.\n", &last, &l, &err),
			 24);
	assert_int_equal(last, 1);
	assert_string_equal(l.s, "1|BIRD 2.0.12 ready.");
	/* Only the first reply: the rest is the next one's. */
	assert_int_equal(parse(route, &last, &l, &err),
			 strstr(route, "0001") - route);
	assert_int_equal(last, 0);
	assert_string_equal(l.s, "1007|Table master4:;"
				 "1007|198.19.0.1/32        blackhole [vips4 "
				 "23:12:19.053] * (10);0|");
	/* A bare code ends a reply too; '+' lines belong to none. */
	assert_int_equal(parse("+0023 async\n0000\n", &last, &l, &err), 17);
	assert_int_equal(last, 0);
	assert_string_equal(l.s, "0|");
}

static void test_parse_errors(void **state)
{
	struct xlb_err err = {{0}};
	struct lines l;
	int last;

	(void)state;
	assert_int_equal(parse("8001 Network not found\n", &last, &l, &err),
			 23);
	assert_int_equal(last, 8001);
	assert_int_equal(
		parse("9001 syntax error, unexpected NUM\n", &last, &l, &err),
		34);
	assert_int_equal(last, 9001);
}

static void test_parse_truncated(void **state)
{
	const char *cut[] = {
		"",
		"0000", /* no newline yet */
		"1007-Table master4:\n",
		"1007-Table master4:\n 198.19.0.1/32 blackhole",
		"2002-Name Proto\n1002-device1 Device --- up\n",
	};
	struct xlb_err err = {{0}};
	struct lines l;
	int last;

	(void)state;
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		assert_int_equal(parse(cut[i], &last, &l, &err), 0);
		assert_int_equal(last, -1);
	}
}

static void test_parse_garbage(void **state)
{
	const char *bad[] = {
		"hello\n",	  " continuation first\n", "12a4 x\n",
		"0000x\n",	  "1007-Table\n\n0000 \n", /* an empty line */
		"\x01\x02\x03\n",
	};
	struct xlb_err err = {{0}};
	struct lines l;
	int last;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = 0;
		assert_int_equal(parse(bad[i], &last, &l, &err), -EPROTO);
		assert_non_null(strstr(err.msg, "BIRD sent"));
	}
}

/* One canned answer of the fake BIRD: a command and its reply. */
struct canned {
	const char *cmd;
	const char *reply;
};

static const char *const protocols_reply =
	"2002-Name       Proto      Table      State  Since         Info\n"
	"1002-device1    Device     ---        up     23:12:57.205  \n"
	" vips4      Kernel     master4    up     23:12:57.205  \n"
	" bfd1       BFD        ---        up     23:12:57.205  \n"
	" router4    BGP        ---        up     23:13:16.374  Established   "
	"\n"
	" router6    BGP        ---        start  23:12:57.205  Active        "
	"Socket: Connection closed\n"
	"0000 \n";

/* BIRD with 198.19.0.1 exported by router4 and 198.19.0.2 only present. */
static const struct canned bird_ok[] = {
	{"show protocols", NULL},
	{"show route 198.19.0.1/32",
	 "1007-Table master4:\n 198.19.0.1/32        blackhole [vips4 "
	 "23:13:15.590] * (10)\n0000 \n"},
	{"show route 198.19.0.1/32 export router4",
	 "1007-Table master4:\n 198.19.0.1/32        blackhole [vips4 "
	 "23:13:15.590] * (10)\n0000 \n"},
	{"show route 198.19.0.2/32",
	 "1007-Table master4:\n 198.19.0.2/32        blackhole [vips4 "
	 "23:13:15.590] * (10)\n0000 \n"},
	{"show route 198.19.0.2/32 export router4", "0000 \n"},
	{"show route 198.19.0.3/32", "8001 Network not found\n"},
	{"show route 2001:db8:100::1/128", "9999 something new\n"},
	{NULL, NULL},
};

/* Answers each line read with its canned reply until the client goes. */
static void fake_serve(int fd, const struct canned *c, const char *greeting)
{
	char buf[512];
	size_t len = 0;
	ssize_t n;

	if (greeting && write(fd, greeting, strlen(greeting)) < 0)
		return;
	if (!c) /* says its greeting (if any) and hangs up */
		return;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		char *nl;

		len += n;
		buf[len] = 0;
		while ((nl = strchr(buf, '\n'))) {
			const char *r = "9001 syntax error\n";

			*nl = 0;
			for (size_t i = 0; c && c[i].cmd; i++)
				if (!strcmp(c[i].cmd, buf))
					r = c[i].reply ? c[i].reply
						       : protocols_reply;
			if (write(fd, r, strlen(r)) < 0)
				return;
			len -= nl + 1 - buf;
			memmove(buf, nl + 1, len + 1);
		}
	}
}

/* A fake BIRD on path in a child: serves one connection, then exits. */
static pid_t fake_bird(const char *path, const struct canned *c,
		       const char *greeting)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), fd;
	pid_t pid;

	strcpy(sa.sun_path, path);
	unlink(path);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		fd = accept(lfd, NULL, NULL);
		if (fd >= 0)
			fake_serve(fd, c, greeting);
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void reap(pid_t pid, const char *path)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(path);
}

static char sock_path[64];

static struct xlb_route_entry entry(const char *s)
{
	struct xlb_route_entry e = {0};

	e.family = strchr(s, ':') ? XLB_AF_INET6 : XLB_AF_INET;
	assert_int_equal(
		inet_pton(e.family == XLB_AF_INET6 ? AF_INET6 : AF_INET, s,
			  &e.addr),
		1);
	return e;
}

static void test_query(void **state)
{
	struct xlb_route_entry a[] = {entry("198.19.0.1"), entry("198.19.0.2"),
				      entry("198.19.0.3"),
				      entry("2001:db8:100::1")};
	pid_t pid = fake_bird(sock_path, bird_ok, "0001 BIRD 2.0.12 ready.\n");
	struct xlb_err err = {{0}};
	__u8 st[4];

	(void)state;
	/* The v6 reply is not understood: it alone is UNKNOWN. */
	assert_int_equal(xlb_bird_query(sock_path, a, 4, 2000, st, &err),
			 -EBADMSG);
	assert_int_equal(st[0], XLB_BIRD_EXPORTED);
	assert_int_equal(st[1], XLB_BIRD_PRESENT);
	assert_int_equal(st[2], XLB_BIRD_ABSENT);
	assert_int_equal(st[3], XLB_BIRD_UNKNOWN);
	assert_non_null(strstr(err.msg, "9999 something new"));
	reap(pid, sock_path);
}

static void test_protocols(void **state)
{
	pid_t pid = fake_bird(sock_path, bird_ok, "0001 BIRD 2.0.12 ready.\n");
	struct xlb_err err = {{0}};
	struct xlb_bird_proto *p;
	size_t n;

	(void)state;
	assert_int_equal(xlb_bird_protocols(sock_path, 2000, &p, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].name, "bfd1");
	assert_string_equal(p[0].proto, "BFD");
	assert_string_equal(p[1].name, "router4");
	assert_string_equal(p[1].state, "up");
	assert_string_equal(p[1].info, "Established");
	assert_string_equal(p[2].state, "start");
	assert_string_equal(p[2].info,
			    "Active        Socket: Connection closed");
	free(p);
	reap(pid, sock_path);
}

/* Every way of not being BIRD: all UNKNOWN, an error, in bounded time. */
static void test_query_failures(void **state)
{
	static const struct canned garbage[] = {
		{"show protocols", "HTTP/1.1 400 Bad Request\n"}, {NULL, NULL}};
	static const struct canned silent[] = {{NULL, NULL}};
	static const struct canned cut[] = {
		{"show protocols", "2002-Name Proto\n"}, {NULL, NULL}};
	struct {
		const struct canned *c;
		const char *greeting;
		int ret;
	} cases[] = {
		{garbage, "0001 BIRD 2.0.12 ready.\n", -EPROTO},
		/* A reply begun and never finished. */
		{cut, "0001 BIRD 2.0.12 ready.\n", -ETIMEDOUT},
		{silent, NULL, -ETIMEDOUT},	   /* says nothing */
		{NULL, "0001 BIRD", -ECONNRESET},  /* closes mid-line */
		{NULL, "9999 go away\n", -EPROTO}, /* no greeting */
	};
	struct xlb_route_entry a = entry("198.19.0.1");
	struct xlb_err err = {{0}};
	__u8 st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid_t pid = fake_bird(sock_path, cases[i].c, cases[i].greeting);
		__u64 t0 = xlb_now_ms();

		st = XLB_BIRD_PRESENT;
		err.msg[0] = 0;
		assert_int_equal(
			xlb_bird_query(sock_path, &a, 1, 300, &st, &err),
			cases[i].ret);
		assert_true(xlb_now_ms() - t0 < 1000);
		assert_int_equal(st, XLB_BIRD_UNKNOWN);
		if (!strstr(err.msg, "BIRD"))
			fail_msg("case %zu: error '%s'", i, err.msg);
		reap(pid, sock_path);
	}
	/* A socket left behind by a BIRD that is gone. */
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		strcpy(sa.sun_path, sock_path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)),
				 0);
		close(fd);
		assert_int_equal(
			xlb_bird_query(sock_path, &a, 1, 300, &st, &err),
			-ECONNREFUSED);
		unlink(sock_path);
	}
	assert_int_equal(
		xlb_bird_query("/nonexistent/bird.ctl", &a, 1, 300, &st, &err),
		-ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/bird.ctl"));
}

static int setup(void **state)
{
	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/xlb-test-bird.%d",
		 (int)getpid());
	return 0;
}

/* A failed case leaves its socket behind: not in the shared /tmp. */
static int teardown(void **state)
{
	(void)state;
	unlink(sock_path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_query_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
