// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The xlb-agent binary as an operator runs it, reports only (no
 * --interface, so no root and no namespace): usage and config errors
 * exit 2 naming the key, a good config is served on its port, SIGHUP
 * takes a good new file and keeps the old config on a bad one, SIGTERM
 * stops it with status 0. Replies are made predictable with a profile
 * that weighs only a file hook the test writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

extern char **environ;

struct rig {
	char dir[64], cfg[128], hook[128], log[128], bin[256];
	unsigned port;
	pid_t pid;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A port nobody uses right now (the kernel's pick, released). */
static unsigned free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static int setup(void **state)
{
	struct rig *g = calloc(1, sizeof(*g));
	const char *build = getenv("BUILD");

	snprintf(g->dir, sizeof(g->dir), "/tmp/xlb-agent-cli-XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	snprintf(g->cfg, sizeof(g->cfg), "%s/agent.json", g->dir);
	snprintf(g->hook, sizeof(g->hook), "%s/load", g->dir);
	snprintf(g->log, sizeof(g->log), "%s/log", g->dir);
	snprintf(g->bin, sizeof(g->bin), "%s/bin/xlb-agent",
		 build ? build : "build");
	if (access(g->bin, X_OK))
		fail_msg("%s: %s (make all first)", g->bin, strerror(errno));
	g->port = free_port();
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct rig *g = *state;

	if (g->pid > 0) {
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
	}
	unlink(g->cfg);
	unlink(g->hook);
	unlink(g->log);
	rmdir(g->dir);
	free(g);
	return 0;
}

/* Starts the agent with args (NULL-ended), its stderr into g->log. */
static void start(struct rig *g, ...)
{
	char *argv[16] = {g->bin};
	posix_spawn_file_actions_t fa;
	int n = 1;
	va_list ap;

	va_start(ap, g);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, g->log,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(posix_spawn(&g->pid, g->bin, &fa, NULL, argv, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
}

/* The agent's exit status, waiting at most 5 s. */
static int exit_status(struct rig *g)
{
	uint64_t end = now_ms() + 5000;
	int st;

	while (waitpid(g->pid, &st, WNOHANG) == 0) {
		if (now_ms() > end)
			fail_msg("still running after 5 s");
		usleep(10000);
	}
	g->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool log_has(struct rig *g, const char *what)
{
	char buf[4096];
	ssize_t n;
	int fd = open(g->log, O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, what) != NULL;
}

/* The agent's reply to req, "" when it does not listen (yet). */
static const char *ask(struct rig *g, const char *req)
{
	static char buf[128];
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(g->port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	buf[0] = '\0';
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return buf;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		fail_msg("send: %s", strerror(errno));
	while ((n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
		len += n;
	buf[len] = '\0';
	close(fd);
	return buf;
}

/* Asks until the reply is want, or fails after 5 s. */
static void wait_reply(struct rig *g, const char *req, const char *want)
{
	uint64_t end = now_ms() + 5000;
	const char *got;

	while (strcmp((got = ask(g, req)), want)) {
		if (now_ms() > end)
			fail_msg("%s: '%s', expected '%s'", req, got, want);
		usleep(20000);
	}
}

/* A config of one service whose load is the number in the hook file. */
static void write_cfg(struct rig *g, const char *service)
{
	char doc[1024];

	snprintf(doc, sizeof(doc),
		 "{\"sample_ms\": 100,"
		 " \"profiles\": {\"fixed\": {\"hook\": 1}},"
		 " \"services\": [{\"service\": \"%s\","
		 "  \"profile\": \"fixed\", \"hook\": {\"file\": \"%s\","
		 "  \"interval_ms\": 100}}]}",
		 service, g->hook);
	write_file(g->cfg, doc);
}

/* Waits up to 5 s for the log to say what. */
static void wait_log(struct rig *g, const char *what)
{
	uint64_t end = now_ms() + 5000;

	while (!log_has(g, what))
		if (now_ms() > end)
			fail_msg("the log never said '%s'", what);
		else
			usleep(10000);
}

static void usage_and_bad_config(void **state)
{
	struct rig *g = *state;

	start(g, (char *)NULL);
	assert_int_equal(exit_status(g), 2);
	assert_true(log_has(g, "Usage"));

	write_file(g->cfg, "{\"services\": [{\"service\": "
			   "\"198.19.0.1:80/tcp\", \"profile\": \"nope\"}]}");
	start(g, "--config", g->cfg, (char *)NULL);
	assert_int_equal(exit_status(g), 2);
	assert_true(log_has(g, "services[0].profile: no profile named"));

	start(g, "--config", "/nonexistent.json", (char *)NULL);
	assert_int_equal(exit_status(g), 2);
	start(g, "--agent-port", "0", (char *)NULL);
	assert_int_equal(exit_status(g), 2);
}

static void serve_reload_stop(void **state)
{
	struct rig *g = *state;
	char port[8], line[160];

	snprintf(port, sizeof(port), "%u", g->port);
	write_file(g->hook, "30\n");
	write_cfg(g, "198.19.0.1:80/tcp");
	start(g, "--config", g->cfg, "--agent-port", port, (char *)NULL);
	wait_reply(g, "198.19.0.1:80/tcp\n", "70% ready\n");
	assert_true(log_has(g, "1 services"));

	/* The hook moves, the reply follows. */
	write_file(g->hook, "97\n");
	wait_reply(g, "198.19.0.1:80/tcp\n", "3% drain\n");
	write_file(g->hook, "10 down\n");
	wait_reply(g, "198.19.0.1:80/tcp\n", "90% down\n");
	write_file(g->hook, "30\n");
	wait_reply(g, "198.19.0.1:80/tcp\n", "70% ready\n");

	/* A bad file on SIGHUP: the old config stays. */
	write_file(g->cfg, "{\"sample_ms\": 5}");
	kill(g->pid, SIGHUP);
	wait_log(g, "config not reloaded");
	assert_true(log_has(g, "sample_ms: 5 out of range"));
	assert_string_equal(ask(g, "198.19.0.1:80/tcp\n"), "70% ready\n");

	/* A good one: its service answers. */
	write_cfg(g, "198.19.0.2:80/tcp");
	write_file(g->hook, "45\n");
	kill(g->pid, SIGHUP);
	snprintf(line, sizeof(line), "reloaded %s", g->cfg);
	wait_log(g, line);
	wait_reply(g, "198.19.0.2:80/tcp\n", "55% ready\n");

	kill(g->pid, SIGTERM);
	assert_int_equal(exit_status(g), 0);
	assert_true(log_has(g, "reports "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(usage_and_bad_config, setup,
						teardown),
		cmocka_unit_test_setup_teardown(serve_reload_stop, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
