// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit test of the agent's connection count (user/agent/conns.c) against
 * real sockets of this process: listeners on 127.0.0.1 and ::1
 * (ephemeral ports), N established loopback connections to each, then
 * some of them closed. sock_diag needs no privilege and no namespace:
 * the kernel's own view is the judge.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent.h"

#define N_V4 7
#define N_V6 5

struct side {
	int lfd;
	unsigned port;
	int cli[16], srv[16];
	int n;
};

/* A listener on loopback of family af; false when af is unavailable. */
static bool listen_lo(struct side *s, int af)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = af == AF_INET ? sizeof(*a4) : sizeof(*a6);

	ss.ss_family = af;
	if (af == AF_INET)
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		a6->sin6_addr = in6addr_loopback;
	s->lfd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return false;
	if (bind(s->lfd, (struct sockaddr *)&ss, len) || listen(s->lfd, 64) ||
	    getsockname(s->lfd, (struct sockaddr *)&ss, &len)) {
		close(s->lfd);
		return false;
	}
	s->port = ntohs(af == AF_INET ? a4->sin_port : a6->sin6_port);
	return true;
}

static void connect_n(struct side *s, int n)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&ss, &len), 0);
	for (int i = 0; i < n; i++) {
		s->cli[i] = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(s->cli[i] >= 0);
		assert_int_equal(
			connect(s->cli[i], (struct sockaddr *)&ss, len), 0);
		s->srv[i] = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		assert_true(s->srv[i] >= 0);
	}
	s->n = n;
}

static void close_side(struct side *s)
{
	for (int i = 0; i < s->n; i++) {
		if (s->cli[i] >= 0)
			close(s->cli[i]);
		close(s->srv[i]);
	}
	close(s->lfd);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Updates c until port counts want, or 5 s have passed. */
static void wait_count(struct agent_conns *c, unsigned port, uint32_t want)
{
	uint64_t end = now_ms() + 5000;

	do {
		assert_int_equal(agent_conns_update(c), 0);
		if (c->by_port[port] == want)
			return;
		usleep(10000);
	} while (now_ms() < end);
	fail_msg("port %u: %u established, expected %u", port, c->by_port[port],
		 want);
}

static void counts_established_by_port(void **state)
{
	struct side v4 = {0}, v6 = {0};
	struct agent_conns c;
	bool have_v6;

	(void)state;
	assert_int_equal(agent_conns_init(&c), 0);
	assert_true(listen_lo(&v4, AF_INET));
	have_v6 = listen_lo(&v6, AF_INET6);

	/* A listener alone: listening, nothing established. */
	assert_int_equal(agent_conns_update(&c), 0);
	assert_int_equal(c.by_port[v4.port], 0);
	assert_true(c.listening[v4.port / 8] & (1U << (v4.port % 8)));

	connect_n(&v4, N_V4);
	if (have_v6)
		connect_n(&v6, N_V6);
	wait_count(&c, v4.port, N_V4);
	if (have_v6)
		assert_int_equal(c.by_port[v6.port], N_V6);
	/* The host counts accepted connections, not the clients' ends
	 * (their ports are ephemeral, nobody listens there). */
	assert_true(c.host >= N_V4 + (have_v6 ? N_V6 : 0));
	assert_int_equal(c.by_port[ntohs(0)], 0);

	/* Clients that leave: their server ends are no longer
	 * established (CLOSE_WAIT). */
	for (int i = 0; i < 3; i++) {
		close(v4.cli[i]);
		v4.cli[i] = -1;
	}
	wait_count(&c, v4.port, N_V4 - 3);

	close_side(&v4);
	if (have_v6)
		close_side(&v6);
	wait_count(&c, v4.port, 0);
	assert_false(c.listening[v4.port / 8] & (1U << (v4.port % 8)));
	agent_conns_free(&c);
	if (!have_v6)
		print_message("no IPv6 loopback: counted IPv4 only\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_established_by_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
