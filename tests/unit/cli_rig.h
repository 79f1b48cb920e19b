/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The CLI as an operator runs it, for the tests of `xlb` commands
 * (header-only, as helpers.h): a rig with a socket nobody listens on, so
 * a request that passes the CLI fails with 1 (REFUSED: the CLI said no
 * itself, 2 and why; ASKED: it let the request through), and ask(), a
 * stand-in xlbd that takes one request and gives one answer, to see what
 * a command asks and how it prints the reply. test_pool_cli.c and
 * test_uplink_cli.c use it.
 */
#ifndef XLB_TEST_CLI_RIG_H
#define XLB_TEST_CLI_RIG_H

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

static inline int cli_rig_setup(void **state)
{
	struct rig *g = calloc(1, sizeof(*g));
	const char *build = getenv("BUILD");

	snprintf(g->dir, sizeof(g->dir), "/tmp/xlb-cli-XXXXXX");
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

static inline int cli_rig_teardown(void **state)
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
static inline int run(struct rig *g, char *buf, size_t len, ...)
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
static inline int ask(struct rig *g, const char *reply, char *req,
		      size_t req_len, char *buf, size_t len, ...)
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

static inline void has(const char *text, const char *want)
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

#endif /* XLB_TEST_CLI_RIG_H */
