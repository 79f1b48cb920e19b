// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the report server (user/agent/server.c) on loopback: the
 * test is both the clients and the agent's loop (one epoll set it pumps
 * itself), with a made-up sample so every reply is known. A request line
 * gets its service's answer; no line, a half-close, a malformed or
 * unknown line get the host's; a silent client never holds up another;
 * more clients than the limit close the oldest with an answer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent.h"
#include "clock.h"

/* Host: cpu 50% of 100 -> default H .25 -> 75%; cpu-heavy H .35 ->
 * 65%; io-heavy H .05 -> 95%. */
#define HOST_REPLY "75% ready\n"
#define SVC_REPLY  "65% ready\n"
#define IO_REPLY   "95% ready\n"

struct rig {
	int epfd;
	struct agent_cfg *cfg;
	struct agent_host host;
	struct agent_server *srv;
};

static int setup(void **state)
{
	struct xlb_err err = {{0}};
	struct rig *g = calloc(1, sizeof(*g));
	struct agent_view v;

	g->cfg = agent_cfg_parse("{\"services\": ["
				 "{\"service\": \"127.0.0.1:80/tcp\", "
				 "\"profile\": \"cpu-heavy\"},"
				 "{\"service\": \"[::1]:8080/udp\", "
				 "\"profile\": \"io-heavy\"}]}",
				 &err);
	if (!g->cfg)
		fail_msg("%s", err.msg);
	g->host.cpu_pct = 50;
	g->host.has_psi = true;
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	g->srv = agent_server_new(g->epfd, 0, &err);
	if (!g->srv)
		fail_msg("%s", err.msg);
	v = (struct agent_view){.cfg = g->cfg, .host = &g->host};
	agent_server_set_view(g->srv, &v);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct rig *g = *state;

	agent_server_free(g->srv);
	agent_cfg_free(g->cfg);
	close(g->epfd);
	free(g);
	return 0;
}

/* The ready watches of the agent's set, waiting at most ms. */
static void dispatch(struct rig *g, int ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(g->epfd, evs, 64, ms);

	for (int i = 0; i < n; i++) {
		struct xlb_watch *x = evs[i].data.ptr;

		x->fn(x, evs[i].events);
	}
}

/* One pass of the agent's loop, waiting at most ms. */
static void pump(struct rig *g, int ms)
{
	int w = agent_server_expire(g->srv, xlb_now_ms());

	dispatch(g, w >= 0 && w < ms ? w : ms);
	agent_server_expire(g->srv, xlb_now_ms());
}

static int client(struct rig *g)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(agent_server_port(g->srv)),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* What fd received until the agent closed it (pumping meanwhile), or
 * a failure after 5 s. */
static char *reply_of(struct rig *g, int fd)
{
	static char buf[256];
	uint64_t end = xlb_now_ms() + 5000;
	size_t len = 0;
	ssize_t n;

	while (xlb_now_ms() < end) {
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT);
		if (n > 0) {
			len += n;
			continue;
		}
		if (n == 0) {
			buf[len] = '\0';
			close(fd);
			return buf;
		}
		if (errno != EAGAIN)
			fail_msg("recv: %s", strerror(errno));
		pump(g, 10);
	}
	fail_msg("no reply within 5 s");
	return NULL;
}

static const char *ask(struct rig *g, const char *req, size_t len)
{
	int fd = client(g);

	assert_int_equal(send(fd, req, len, 0), (ssize_t)len);
	return reply_of(g, fd);
}

#define ASK(g, s) ask(g, s, strlen(s))

static void service_and_host(void **state)
{
	struct rig *g = *state;
	const struct agent_counters *c = agent_server_counters(g->srv);

	assert_string_equal(ASK(g, "127.0.0.1:80/tcp\n"), SVC_REPLY);
	assert_string_equal(ASK(g, "127.0.0.1:80/tcp\r\n"), SVC_REPLY);
	assert_string_equal(ASK(g, "[::1]:8080/udp\n"), IO_REPLY);
	assert_int_equal(c->services, 3);
	/* Unknown service, malformed, too long: the host. */
	assert_string_equal(ASK(g, "127.0.0.1:81/tcp\n"), HOST_REPLY);
	assert_int_equal(c->unknown, 1);
	assert_string_equal(ASK(g, "hello\n"), HOST_REPLY);
	assert_int_equal(c->malformed, 1);
	{
		char big[AGENT_REQUEST_MAX + 10];

		memset(big, 'x', sizeof(big));
		assert_string_equal(ask(g, big, sizeof(big)), HOST_REPLY);
	}
	assert_int_equal(c->malformed, 2);
	assert_int_equal(c->host, 3);
	assert_int_equal(c->reports, 6);
}

static void silent_and_half_closed(void **state)
{
	struct rig *g = *state;
	const struct agent_counters *c = agent_server_counters(g->srv);
	uint64_t t0 = xlb_now_ms();
	int fd;

	/* HAProxy without agent-send: nothing, the host after the wait. */
	fd = client(g);
	assert_string_equal(reply_of(g, fd), HOST_REPLY);
	assert_true(xlb_now_ms() - t0 >= AGENT_REQUEST_WAIT_MS);
	assert_int_equal(c->silent, 1);

	/* A half-close with nothing: the host at once. */
	fd = client(g);
	shutdown(fd, SHUT_WR);
	assert_string_equal(reply_of(g, fd), HOST_REPLY);
	assert_int_equal(c->silent, 2);

	/* A half-close after a line without '\n': that line. */
	fd = client(g);
	assert_int_equal(send(fd, "127.0.0.1:80/tcp", 16, 0), 16);
	shutdown(fd, SHUT_WR);
	assert_string_equal(reply_of(g, fd), SVC_REPLY);
}

/* A request split over several segments is one line. */
static void split_request(void **state)
{
	struct rig *g = *state;
	int fd = client(g);

	assert_int_equal(send(fd, "127.0.0.1:", 10, 0), 10);
	pump(g, 5);
	assert_int_equal(send(fd, "80/tcp\n", 7, 0), 7);
	assert_string_equal(reply_of(g, fd), SVC_REPLY);
}

/* A client that says nothing does not hold up one that asks. */
static void silent_does_not_stall(void **state)
{
	struct rig *g = *state;
	char buf[32];

	for (int attempt = 0; attempt < 5; attempt++) {
		int quiet = client(g), asker = client(g);
		uint64_t t0 = xlb_now_ms();
		bool pending;

		assert_int_equal(send(asker, "127.0.0.1:80/tcp\n", 17, 0), 17);
		assert_string_equal(reply_of(g, asker), SVC_REPLY);
		pending = recv(quiet, buf, sizeof(buf), MSG_DONTWAIT) < 0 &&
			  errno == EAGAIN;
		/* A machine too busy to answer within the wait proves
		 * nothing either way: try again. */
		if (xlb_now_ms() - t0 >= AGENT_REQUEST_WAIT_MS) {
			reply_of(g, quiet);
			continue;
		}
		assert_true(pending);
		assert_string_equal(reply_of(g, quiet), HOST_REPLY);
		return;
	}
	fail_msg("never answered within %d ms", AGENT_REQUEST_WAIT_MS);
}

/* One client more than the limit: the oldest is answered and closed. */
static void overflow_closes_oldest(void **state)
{
	struct rig *g = *state;
	const struct agent_counters *c = agent_server_counters(g->srv);
	int fds[AGENT_MAX_CLIENTS + 1];
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 3 * AGENT_MAX_CLIENTS)
		skip();
	/* Accepted in order, and none let go at its deadline meanwhile
	 * (no expire), however slow the machine. */
	for (int i = 0; i <= AGENT_MAX_CLIENTS; i++) {
		fds[i] = client(g);
		dispatch(g, 0);
	}
	for (int i = 0; i < 100 && !c->overflow; i++)
		dispatch(g, 10);
	assert_int_equal(c->overflow, 1);
	assert_string_equal(reply_of(g, fds[0]), HOST_REPLY);
	for (int i = 1; i <= AGENT_MAX_CLIENTS; i++)
		assert_string_equal(reply_of(g, fds[i]), HOST_REPLY);
	assert_int_equal(c->reports, AGENT_MAX_CLIENTS + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(service_and_host, setup,
						teardown),
		cmocka_unit_test_setup_teardown(silent_and_half_closed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(split_request, setup, teardown),
		cmocka_unit_test_setup_teardown(silent_does_not_stall, setup,
						teardown),
		cmocka_unit_test_setup_teardown(overflow_closes_oldest, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
