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
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

extern char **environ;

struct rig {
	char dir[64], out[96], sock[96], bin[256];
};

static int setup(void **state)
{
	struct rig *g = calloc(1, sizeof(*g));
	const char *build = getenv("BUILD");

	snprintf(g->dir, sizeof(g->dir), "/tmp/xlb-pool-cli-XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	snprintf(g->out, sizeof(g->out), "%s/out", g->dir);
	/* Nobody listens there: a request that passes the CLI fails, 1. */
	snprintf(g->sock, sizeof(g->sock), "%s/none.sock", g->dir);
	snprintf(g->bin, sizeof(g->bin), "%s/bin/xlb", build ? build : "build");
	if (access(g->bin, X_OK))
		fail_msg("%s: %s (make all first)", g->bin, strerror(errno));
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct rig *g = *state;

	unlink(g->out);
	rmdir(g->dir);
	free(g);
	return 0;
}

/*
 * Runs xlb -s SOCK ARGS... (NULL-ended), its stdout and stderr into
 * g->out; its exit status, and what it printed in buf.
 */
static int run(struct rig *g, char *buf, size_t len, ...)
{
	char *argv[24] = {g->bin, "-s", g->sock};
	posix_spawn_file_actions_t fa;
	int n = 3, st;
	va_list ap;
	pid_t pid;
	FILE *f;
	size_t got;

	va_start(ap, len);
	while (n < 23 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, g->out,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	assert_int_equal(posix_spawn(&pid, g->bin, &fa, NULL, argv, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	f = fopen(g->out, "r");
	assert_non_null(f);
	got = fread(buf, 1, len - 1, f);
	buf[got] = '\0';
	fclose(f);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/*
 * The same with a stand-in xlbd on g->sock: it takes one request (into
 * req) and answers reply ({"ok": true, "result": ...}).
 */
static int ask(struct rig *g, const char *reply, char *req, size_t req_len,
	       char *buf, size_t len, ...)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char *argv[24] = {g->bin, "-s", g->sock};
	posix_spawn_file_actions_t fa;
	int n = 3, st, lfd, fd;
	size_t got = 0;
	ssize_t r;
	va_list ap;
	pid_t pid;
	FILE *f;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", g->sock);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	unlink(g->sock);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	va_start(ap, len);
	while (n < 23 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, g->out,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	assert_int_equal(posix_spawn(&pid, g->bin, &fa, NULL, argv, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	/* One line: the request. */
	while (got < req_len - 1 && (r = read(fd, req + got, 1)) == 1 &&
	       req[got] != '\n')
		got++;
	req[got] = '\0';
	assert_int_equal(write(fd, reply, strlen(reply)),
			 (ssize_t)strlen(reply));
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	close(lfd);
	unlink(g->sock);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	f = fopen(g->out, "r");
	assert_non_null(f);
	got = fread(buf, 1, len - 1, f);
	buf[got] = '\0';
	fclose(f);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void has(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("'%s' lacks '%s'", text, want);
}

/* The CLI refused it itself, saying want. */
#define REFUSED(g, want, ...)                                                  \
	do {                                                                   \
		char out_[1024];                                               \
		int st_ =                                                      \
			run(g, out_, sizeof(out_), __VA_ARGS__, (char *)NULL); \
		if (st_ != 2 || !strstr(out_, want))                           \
			fail_msg("exit %d, want 2 and '%s': %s", st_, want,    \
				 out_);                                        \
	} while (0)

/* The CLI took it and asked xlbd (which is not there). */
#define ASKED(g, ...)                                                          \
	do {                                                                   \
		char out_[1024];                                               \
		int st_ =                                                      \
			run(g, out_, sizeof(out_), __VA_ARGS__, (char *)NULL); \
		if (st_ != 1 || !strstr(out_, "cannot reach xlbd"))            \
			fail_msg("exit %d, want 1 (xlbd asked): %s", st_,      \
				 out_);                                        \
	} while (0)

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
		cmocka_unit_test_setup_teardown(test_pool_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_other_commands, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vip_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_requests, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
