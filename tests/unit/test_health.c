// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The health checker against real servers that each test starts on
 * loopback (127.0.0.1 and ::1, ephemeral ports): TCP, HTTP, UDP and exec
 * checks, timeouts, the schedule (spread, period, no stacking), replace
 * and delete, and that nothing (fd, child) outlives the engine. One small
 * loop per test epoll_waits on its own set and runs the watches, of the
 * engine and of the test's servers alike, as xlbd's loop does.
 */
#include <errno.h>
#include <dirent.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "health.h"

#define MAX_RESULTS 4096

enum srv_kind {
	SRV_CLOSE, /* accepts and closes */
	SRV_HOLD,  /* accepts and never answers */
	SRV_HTTP,  /* reads a request, answers resp (then resp2 later) */
	SRV_ECHO,  /* UDP: answers "pong <datagram>" */
	SRV_AGENT, /* reads a line, answers resp (then resp2 later) */
};

struct rig;

struct srv {
	struct xlb_watch w;
	struct rig *g;
	int fd;
	enum srv_kind kind;
	const char *resp, *resp2;
	int accepts;
	char last_req[512];
};

/* An accepted connection of a test server. */
struct conn {
	struct xlb_watch w;
	struct srv *s;
	int fd;
	size_t len;
	char buf[512];
	/* What is left to send, from out_at (ms) on, and what comes next. */
	const char *out, *then;
	size_t left;
	long long out_at;
	struct conn *next;
};

struct rig {
	int epfd;
	struct xlb_hc *e;
	struct hc_result res[MAX_RESULTS];
	long long at[MAX_RESULTS]; /* ms since t0 */
	size_t n;
	long long t0;
	struct srv *srvs[16];
	int n_srvs;
	struct conn *conns;
	bool del_all_on_result; /* the callback deletes these ids */
	const __u32 *del_ids;
	int n_del_ids;
	char tmp[32]; /* a file for exec checks' pids, removed at teardown */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void on_result(void *ctx, const struct hc_result *r)
{
	struct rig *g = ctx;

	if (g->n < MAX_RESULTS) {
		g->at[g->n] = now_ms() - g->t0;
		g->res[g->n++] = *r;
	}
	if (g->del_all_on_result) {
		for (int i = 0; i < g->n_del_ids; i++)
			xlb_hc_del(g->e, g->del_ids[i]);
		g->del_all_on_result = false;
	}
}

static int setup(void **state)
{
	struct rig *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(g->epfd >= 0);
	g->e = xlb_hc_new(g->epfd, on_result, g);
	assert_non_null(g->e);
	g->t0 = now_ms();
	*state = g;
	return 0;
}

static void conn_close(struct rig *g, struct conn *c)
{
	struct conn **pp = &g->conns;

	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

static int teardown(void **state)
{
	struct rig *g = *state;

	xlb_hc_free(g->e);
	while (g->conns)
		conn_close(g, g->conns);
	for (int i = 0; i < g->n_srvs; i++) {
		close(g->srvs[i]->fd);
		free(g->srvs[i]);
	}
	close(g->epfd);
	if (g->tmp[0])
		unlink(g->tmp);
	free(g);
	return 0;
}

/* Sends what it can; the rest waits for the next turn of the loop. */
static void conn_flush(struct rig *g, struct conn *c)
{
	ssize_t n = send(c->fd, c->out, c->left, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && errno != EAGAIN) {
		conn_close(g, c);
		return;
	}
	if (n > 0) {
		c->out += n;
		c->left -= n;
	}
	if (c->left)
		return;
	if (!c->then) {
		conn_close(g, c);
		return;
	}
	/* The second part later, so the checker reads the body in two. */
	c->out = c->then;
	c->left = strlen(c->then);
	c->then = NULL;
	c->out_at = now_ms() + 30;
}

/* ---- the test loop ----------------------------------------------------- */

typedef bool (*done_fn)(struct rig *g, const void *arg);

/* Runs the loop until done says so or ms pass; returns done's verdict. */
static bool pump(struct rig *g, int ms, done_fn done, const void *arg)
{
	long long end = now_ms() + ms, now;
	struct epoll_event evs[64];
	int n;

	for (;;) {
		if (done && done(g, arg))
			return true;
		now = now_ms();
		if (now >= end)
			return false;
		for (struct conn *c = g->conns, *next; c; c = next) {
			next = c->next;
			if (c->left && c->out_at <= now)
				conn_flush(g, c);
		}
		n = epoll_wait(g->epfd, evs, 64, end - now > 5 ? 5 : end - now);
		for (int i = 0; i < n; i++) {
			struct xlb_watch *w = evs[i].data.ptr;

			w->fn(w, evs[i].events);
		}
	}
}

static const struct hc_result *first(struct rig *g, __u32 id)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->res[i].id == id)
			return &g->res[i];
	return NULL;
}

static int count_of(struct rig *g, __u32 id)
{
	int n = 0;

	for (size_t i = 0; i < g->n; i++)
		n += g->res[i].id == id;
	return n;
}

struct ids {
	const __u32 *ids;
	int n;
};

static bool all_reported(struct rig *g, const void *arg)
{
	const struct ids *ids = arg;

	for (int i = 0; i < ids->n; i++)
		if (!first(g, ids->ids[i]))
			return false;
	return true;
}

/* Pumps until every id has reported once; fails the test otherwise. */
static void wait_ids(struct rig *g, const __u32 *ids, int n, int ms)
{
	struct ids a = {ids, n};

	assert_true(pump(g, ms, all_reported, &a));
}

static void expect(struct rig *g, __u32 id, bool ok, const char *detail)
{
	const struct hc_result *r = first(g, id);

	assert_non_null(r);
	if (r->ok != ok || strcmp(r->detail, detail))
		fail_msg("check %u: got %s \"%s\", want %s \"%s\"", id,
			 r->ok ? "ok" : "fail", r->detail, ok ? "ok" : "fail",
			 detail);
}

/* ---- test servers ------------------------------------------------------ */

static void on_conn(struct xlb_watch *w, uint32_t events)
{
	struct conn *c = container_of(w, struct conn, w);
	struct rig *g = c->s->g;
	ssize_t n;

	(void)events;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
		 MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		conn_close(g, c);
		return;
	}
	c->len += n;
	c->buf[c->len] = '\0';
	if (!strstr(c->buf, c->s->kind == SRV_AGENT ? "\n" : "\r\n\r\n"))
		return;
	snprintf(c->s->last_req, sizeof(c->s->last_req), "%s", c->buf);
	epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->out = c->s->resp;
	c->left = strlen(c->s->resp);
	c->then = c->s->resp2;
	conn_flush(g, c);
}

static void on_srv(struct xlb_watch *w, uint32_t events)
{
	struct srv *s = container_of(w, struct srv, w);
	struct rig *g = s->g;
	char buf[512];
	int fd;

	(void)events;
	if (s->kind == SRV_ECHO) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n =
			recvfrom(s->fd, buf + 5, sizeof(buf) - 5, MSG_DONTWAIT,
				 (struct sockaddr *)&from, &flen);

		if (n < 0)
			return;
		memcpy(buf, "pong ", 5);
		sendto(s->fd, buf, n + 5, 0, (struct sockaddr *)&from, flen);
		return;
	}
	while ((fd = accept4(s->fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct conn *c;

		s->accepts++;
		if (s->kind == SRV_CLOSE) {
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		assert_non_null(c);
		c->w.fn = on_conn;
		c->s = s;
		c->fd = fd;
		c->next = g->conns;
		g->conns = c;
		if (s->kind == SRV_HTTP || s->kind == SRV_AGENT) {
			struct epoll_event ev = {.events = EPOLLIN,
						 .data.ptr = &c->w};

			assert_int_equal(
				epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev), 0);
		}
	}
}

/* A socket bound to an ephemeral port of addr; *port gets the port. */
static int bound(int family, int type, __u16 *port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len = sizeof(ss);
	int fd, one = 1;

	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
					    sizeof(one)),
				 0);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	len = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(family == AF_INET6
			      ? ((struct sockaddr_in6 *)&ss)->sin6_port
			      : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* Starts a server in the rig's loop; returns it, its port in *port. */
static struct srv *serve(struct rig *g, int family, enum srv_kind kind,
			 int backlog, __u16 *port)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct epoll_event ev = {.events = EPOLLIN};

	assert_non_null(s);
	s->g = g;
	s->kind = kind;
	s->w.fn = on_srv;
	s->fd = bound(family, kind == SRV_ECHO ? SOCK_DGRAM : SOCK_STREAM,
		      port);
	if (kind != SRV_ECHO)
		assert_int_equal(listen(s->fd, backlog), 0);
	/* A listener of backlog 0 is a full queue: never accepted. */
	if (kind == SRV_ECHO || backlog) {
		ev.data.ptr = &s->w;
		assert_int_equal(epoll_ctl(g->epfd, EPOLL_CTL_ADD, s->fd, &ev),
				 0);
	}
	g->srvs[g->n_srvs++] = s;
	return s;
}

/* A port nobody listens on (TCP: bound, so no one can take it). */
static int closed_port(int family, int type, __u16 *port)
{
	int fd = bound(family, type, port);

	if (type == SOCK_DGRAM) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct hc_target target(__u32 id, __u8 kind, const char *addr,
			       __u16 port, __u32 interval_ms, __u32 timeout_ms)
{
	struct hc_target t;
	struct xlb_err err;

	memset(&t, 0, sizeof(t));
	t.id = id;
	t.cfg.kind = kind;
	t.cfg.interval_ms = interval_ms;
	t.cfg.timeout_ms = timeout_ms;
	t.cfg.http_status = 200;
	strcpy(t.cfg.http_path, "/");
	assert_int_equal(xlb_parse_addr(addr, &t.dst, &t.family, &err), 0);
	t.port = port;
	snprintf(t.env_backend, sizeof(t.env_backend), "%s", addr);
	snprintf(t.env_vip, sizeof(t.env_vip), "198.19.0.1:80/tcp");
	return t;
}

static void set(struct rig *g, const struct hc_target *t)
{
	assert_int_equal(xlb_hc_set(g->e, t), 0);
}

/* ---- TCP --------------------------------------------------------------- */

static void tcp_ok_and_refused(struct rig *g, int family, const char *lo)
{
	const __u32 ids[] = {1, 2, 3};
	struct hc_target t;
	__u16 open_port, shut_port;
	int shut;

	serve(g, family, SRV_CLOSE, 64, &open_port);
	shut = closed_port(family, SOCK_STREAM, &shut_port);
	t = target(1, XLB_CHECK_TCP, lo, open_port, 200, 150);
	set(g, &t);
	t = target(2, XLB_CHECK_TCP, lo, shut_port, 200, 150);
	set(g, &t);
	/* The mark is set on the socket (root may); the check still works. */
	t = target(3, XLB_CHECK_TCP, lo, open_port, 200, 150);
	t.mark = 0x1234;
	set(g, &t);
	assert_int_equal(xlb_hc_count(g->e), 3);
	wait_ids(g, ids, 3, 1000);
	close(shut);
	expect(g, 1, true, "ok");
	expect(g, 2, false, "connect: Connection refused");
	if (geteuid() == 0)
		expect(g, 3, true, "ok");
	else
		expect(g, 3, false, "SO_MARK: Operation not permitted");
	assert_true(first(g, 1)->latency_us < 100000);
}

static void test_tcp_v4(void **state)
{
	tcp_ok_and_refused(*state, AF_INET, "127.0.0.1");
}

static void test_tcp_v6(void **state)
{
	tcp_ok_and_refused(*state, AF_INET6, "::1");
}

static void on_ignore(void *ctx, const struct hc_result *r)
{
	(void)ctx;
	(void)r;
}

/*
 * In a network namespace of its own, where accepted sockets take the
 * mark of the SYN that made them (tcp_fwmark_accept): the exit code says
 * what went wrong, 0 if the server saw the check's mark, 77 to skip.
 * Plain calls, no cmocka: this runs in a forked child.
 */
static int mark_child(__u32 mark)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct ifreq ifr = {0};
	struct xlb_hc *e;
	struct hc_target t;
	socklen_t len = sizeof(a);
	__u32 seen = 0;
	int fd, lfd, epfd, cfd = -1;
	long long end;
	FILE *f;

	if (unshare(CLONE_NEWNET))
		return 77;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr))
		return 1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		return 2;
	close(fd);
	f = fopen("/proc/sys/net/ipv4/tcp_fwmark_accept", "w");
	if (!f)
		return 77;
	fputs("1\n", f);
	if (fclose(f))
		return 3;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 8) || getsockname(lfd, (struct sockaddr *)&a, &len))
		return 4;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	e = xlb_hc_new(epfd, on_ignore, NULL);
	if (!e)
		return 5;
	/* HTTP to a server that never answers: the connection stays. */
	t = target(1, XLB_CHECK_HTTP, "127.0.0.1", ntohs(a.sin_port), 50, 45);
	t.mark = mark;
	if (xlb_hc_set(e, &t))
		return 6;
	for (end = now_ms() + 1000; cfd < 0 && now_ms() < end;) {
		struct epoll_event evs[8];
		int n = epoll_wait(epfd, evs, 8, 5);

		for (int i = 0; i < n; i++) {
			struct xlb_watch *w = evs[i].data.ptr;

			w->fn(w, evs[i].events);
		}
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	}
	if (cfd < 0)
		return 7;
	len = sizeof(seen);
	if (getsockopt(cfd, SOL_SOCKET, SO_MARK, &seen, &len))
		return 8;
	xlb_hc_free(e);
	return seen == mark ? 0 : 9;
}

/* The mark reaches the wire: the balancer's TC program keys on it. */
static void test_mark(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(mark_child(0x5a17));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- HTTP -------------------------------------------------------------- */

static void http_checks(struct rig *g, int family, const char *lo)
{
	static char big[20100];
	const __u32 ids[] = {1, 2, 3, 4, 5, 6, 7};
	struct srv *ready, *not_yet, *down, *split, *huge, *junk;
	__u16 p[6];
	char want[128];
	struct hc_target t;

	ready = serve(g, family, SRV_HTTP, 64, &p[0]);
	ready->resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		      "Content-Length: 12\r\n\r\nstatus=ready";
	not_yet = serve(g, family, SRV_HTTP, 64, &p[1]);
	not_yet->resp = "HTTP/1.1 200 OK\r\n\r\nstarting";
	down = serve(g, family, SRV_HTTP, 64, &p[2]);
	down->resp = "HTTP/1.0 503 Service Unavailable\r\n\r\nready";
	/* "ready" split across two writes 30 ms apart. */
	split = serve(g, family, SRV_HTTP, 64, &p[3]);
	split->resp = "HTTP/1.1 200 OK\r\n\r\nstatus=rea";
	split->resp2 = "dy\n";
	/* The text only after 16 KiB: not read, so not found. */
	huge = serve(g, family, SRV_HTTP, 64, &p[4]);
	snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\n\r\n%020000dready", 0);
	huge->resp = big;
	junk = serve(g, family, SRV_HTTP, 64, &p[5]);
	junk->resp = "SSH-2.0-OpenSSH_9.2\r\n";

	for (int i = 0; i < 6; i++) {
		t = target(i + 1, XLB_CHECK_HTTP, lo, p[i], 200, 150);
		strcpy(t.cfg.http_path, "/healthz?full=1");
		strcpy(t.cfg.http_body, "ready");
		set(g, &t);
	}
	/* No body wanted: the status alone decides. */
	t = target(7, XLB_CHECK_HTTP, lo, p[1], 200, 150);
	set(g, &t);
	wait_ids(g, ids, 7, 1000);
	expect(g, 1, true, "ok");
	expect(g, 2, false, "body lacks 'ready'");
	expect(g, 3, false, "HTTP 503");
	expect(g, 4, true, "ok");
	expect(g, 5, false, "body lacks 'ready'");
	expect(g, 6, false, "bad response");
	expect(g, 7, true, "ok");
	snprintf(want, sizeof(want),
		 "GET /healthz?full=1 HTTP/1.0\r\nHost: %s%s%s:%u\r\n"
		 "User-Agent: xlb-check\r\nConnection: close\r\n\r\n",
		 family == AF_INET6 ? "[" : "", lo,
		 family == AF_INET6 ? "]" : "", p[0]);
	assert_string_equal(ready->last_req, want);
}

static void test_http_v4(void **state)
{
	http_checks(*state, AF_INET, "127.0.0.1");
}

static void test_http_v6(void **state)
{
	http_checks(*state, AF_INET6, "::1");
}

/* ---- agent ------------------------------------------------------------- */

/*
 * An agent check sends the VIP as one line and hands back the first line
 * of the answer (newline included), or what came before EOF, or one byte
 * past the limit when no newline came; judging it is the policy's.
 */
static void test_agent(void **state)
{
	static char longer[400];
	struct rig *g = *state;
	const __u32 ids[] = {1, 2, 3, 4, 5};
	struct srv *s[4];
	struct hc_target t;
	__u16 p[5];
	int shut;

	memset(longer, 'x', sizeof(longer) - 1);
	for (int i = 0; i < 4; i++)
		s[i] = serve(g, AF_INET, SRV_AGENT, 64, &p[i]);
	s[0]->resp = "75% up\n";
	s[1]->resp = "50%"; /* then EOF */
	s[2]->resp = longer;
	s[3]->resp = "ready\n";
	s[3]->resp2 = "drain\n";
	shut = closed_port(AF_INET, SOCK_STREAM, &p[4]);
	for (int i = 0; i < 5; i++) {
		t = target(i + 1, XLB_CHECK_AGENT, "127.0.0.1", p[i], 200, 150);
		set(g, &t);
	}
	wait_ids(g, ids, 5, 1000);
	close(shut);
	assert_string_equal(s[0]->last_req, "198.19.0.1:80/tcp\n");
	expect(g, 1, true, "ok");
	assert_string_equal(first(g, 1)->reply, "75% up\n");
	assert_int_equal(first(g, 1)->reply_len, 7);
	expect(g, 2, true, "ok");
	assert_string_equal(first(g, 2)->reply, "50%");
	expect(g, 3, true, "ok");
	assert_int_equal(first(g, 3)->reply_len, XLB_AGENT_REPLY_MAX + 1);
	expect(g, 4, true, "ok");
	assert_string_equal(first(g, 4)->reply, "ready\n");
	expect(g, 5, false, "connect: Connection refused");
	assert_int_equal(first(g, 5)->reply_len, 0);
}

/* ---- UDP --------------------------------------------------------------- */

static void udp_checks(struct rig *g, int family, const char *lo)
{
	const __u32 ids[] = {1, 2, 3, 4};
	struct hc_target t;
	__u16 echo, shut;

	serve(g, family, SRV_ECHO, 0, &echo);
	closed_port(family, SOCK_DGRAM, &shut);
	t = target(1, XLB_CHECK_UDP, lo, echo, 200, 150);
	strcpy(t.cfg.udp_send, "ping");
	strcpy(t.cfg.udp_expect, "pong ping");
	set(g, &t);
	t = target(2, XLB_CHECK_UDP, lo, echo, 200, 150);
	strcpy(t.cfg.udp_send, "ping");
	strcpy(t.cfg.udp_expect, "pang");
	set(g, &t);
	/* Any answer will do. */
	t = target(3, XLB_CHECK_UDP, lo, echo, 200, 150);
	set(g, &t);
	t = target(4, XLB_CHECK_UDP, lo, shut, 200, 150);
	strcpy(t.cfg.udp_send, "ping");
	set(g, &t);
	wait_ids(g, ids, 4, 1000);
	expect(g, 1, true, "ok");
	expect(g, 2, false, "answer lacks 'pang'");
	expect(g, 3, true, "ok");
	expect(g, 4, false, "recv: Connection refused");
}

static void test_udp_v4(void **state)
{
	udp_checks(*state, AF_INET, "127.0.0.1");
}

static void test_udp_v6(void **state)
{
	udp_checks(*state, AF_INET6, "::1");
}

/* ---- exec -------------------------------------------------------------- */

static struct hc_target exec_target(__u32 id, const char *cmd,
				    __u32 interval_ms, __u32 timeout_ms)
{
	struct hc_target t = target(id, XLB_CHECK_EXEC, "127.0.0.1", 8080,
				    interval_ms, timeout_ms);

	snprintf(t.cfg.exec_cmd, sizeof(t.cfg.exec_cmd), "%s", cmd);
	return t;
}

static void test_exec(void **state)
{
	static const char *const cmds[] = {
		"exit 0",
		"exit 3",
		"test \"$XLB_BACKEND\" = 127.0.0.1 && test \"$XLB_PORT\" = 8080"
		" && test \"$XLB_VIP\" = 198.19.0.1:80/tcp"
		" && test \"$PATH\" = /usr/sbin:/usr/bin:/sbin:/bin",
		"test \"$XLB_BACKEND\" = 198.18.9.1",
		/*
		 * Blocked and ignored in this process (as in xlbd): the
		 * child must start with both back to normal. dash unblocks
		 * signals itself, but no shell may undo an ignored one.
		 */
		"kill -TERM $$; sleep 1",
		"kill -PIPE $$; sleep 1",
		/* Own process group; all three stdio fds on /dev/null. */
		"set -- $(cat /proc/$$/stat); test \"$5\" = $$ &&"
		" for f in 0 1 2; do"
		" test \"$(readlink /proc/$$/fd/$f)\" = /dev/null || exit 9;"
		" done",
		"echo should not show; echo nor this >&2",
	};
	static const char *const want[] = {
		"ok",	     "exit 3",	  "ok", "exit 1",
		"signal 15", "signal 13", "ok", "ok",
	};
	const __u32 ids[] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct rig *g = *state;
	struct hc_target t;

	/* Generous times: a shell may take long to start on a busy
	 * machine, and this case is about results, not timing. */
	for (int i = 0; i < 8; i++) {
		t = exec_target(i + 1, cmds[i], 5000, 4900);
		set(g, &t);
	}
	wait_ids(g, ids, 8, 20000);
	for (int i = 0; i < 8; i++)
		expect(g, i + 1, !strcmp(want[i], "ok"), want[i]);
	/* Every child reaped: no zombie (nor anything else) is left. */
	for (int i = 0; i < 8; i++)
		xlb_hc_del(g->e, i + 1);
	pump(g, 100, NULL, NULL);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* An empty file for a check's command to write pids into. */
static const char *make_tmp(struct rig *g)
{
	int fd;

	strcpy(g->tmp, "/tmp/xlb-hc-XXXXXX");
	fd = mkstemp(g->tmp);
	assert_true(fd >= 0);
	close(fd);
	return g->tmp;
}

/* Reads the pids a check's command appended to path. */
static int read_pids(const char *path, pid_t *pids, int max)
{
	FILE *f = fopen(path, "r");
	int n = 0, pid;

	if (!f)
		return 0;
	while (n < max && fscanf(f, "%d", &pid) == 1)
		pids[n++] = pid;
	fclose(f);
	return n;
}

/*
 * The shell is reaped and nothing in its process group still runs. Its
 * killed grandchildren may linger as zombies of init's (a container's
 * init may be slow to reap them): those are dead, so they do not count.
 */
static bool gone(pid_t pid)
{
	struct dirent *de;
	bool alive = false;
	DIR *d;

	if (kill(pid, 0) == 0 || errno != ESRCH)
		return false;
	d = opendir("/proc");
	assert_non_null(d);
	while (!alive && (de = readdir(d))) {
		char path[300], line[512], *p;
		int pgrp = 0;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* pid (comm) state ppid pgrp: comm may hold spaces. */
		p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		fclose(f);
		if (p && sscanf(p + 2, "%*c %*d %d", &pgrp) == 1 &&
		    pgrp == pid && p[2] != 'Z')
			alive = true;
	}
	closedir(d);
	return !alive;
}

struct pidf {
	const char *path;
};

static bool all_gone(struct rig *g, const void *arg)
{
	const struct pidf *pf = arg;
	pid_t pids[16];
	int n = read_pids(pf->path, pids, 16);

	(void)g;
	for (int i = 0; i < n; i++)
		if (!gone(pids[i]))
			return false;
	return n > 0;
}

static void test_exec_timeout_kills(void **state)
{
	struct rig *g = *state;
	const char *path = make_tmp(g);
	const __u32 id = 1;
	const struct hc_result *r;
	struct pidf pf = {path};
	struct hc_target t;
	pid_t pids[16];
	char cmd[128];

	/* The shell and a grandchild in its group, both in for 5 s. */
	snprintf(cmd, sizeof(cmd), "echo $$ >> %s; sleep 5 & sleep 5", path);
	t = exec_target(id, cmd, 300, 200);
	set(g, &t);
	wait_ids(g, &id, 1, 1000);
	r = first(g, id);
	expect(g, id, false, "timeout");
	assert_true(r->latency_us >= 200000 && r->latency_us < 300000);
	xlb_hc_del(g->e, id);
	assert_int_equal(read_pids(path, pids, 16) > 0, 1);
	/* Killed by group and reaped from the loop, without blocking it. */
	assert_true(pump(g, 500, all_gone, &pf));
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

/* xlb_hc_free kills a running child and closes every fd it opened. */
static void test_free_releases_everything(void **state)
{
	struct rig *g = *state;
	const char *path = make_tmp(g);
	struct pidf pf = {path};
	struct hc_target t;
	__u16 port, hold;
	pid_t pids[16];
	int fds_before, fds_after, n;
	char cmd[128];
	DIR *d;

	/* Count our fds without the engine's. */
	xlb_hc_free(g->e);
	g->e = NULL;
	serve(g, AF_INET, SRV_CLOSE, 64, &port);
	serve(g, AF_INET, SRV_HOLD, 64, &hold);
	d = opendir("/proc/self/fd");
	assert_non_null(d);
	for (fds_before = 0; readdir(d);)
		fds_before++;
	closedir(d);

	g->e = xlb_hc_new(g->epfd, on_result, g);
	assert_non_null(g->e);
	snprintf(cmd, sizeof(cmd), "echo $$ >> %s; sleep 5", path);
	t = exec_target(1, cmd, 200, 190);
	set(g, &t);
	t = target(2, XLB_CHECK_TCP, "127.0.0.1", port, 100, 90);
	set(g, &t);
	/* An HTTP probe still waiting for its answer at free time. */
	t = target(3, XLB_CHECK_HTTP, "127.0.0.1", hold, 100, 99);
	set(g, &t);
	for (n = 0; n < 100 && !read_pids(path, pids, 16); n++)
		pump(g, 5, NULL, NULL);
	assert_true(read_pids(path, pids, 16) > 0);
	assert_false(gone(pids[0]));
	xlb_hc_free(g->e);
	g->e = NULL;
	/*
	 * The shell is reaped by then; its group got SIGKILL but may take a
	 * moment to die on a busy machine.
	 */
	assert_int_equal(kill(pids[0], 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_true(pump(g, 500, all_gone, &pf));
	/* The hold server's side of the HTTP probe is the test's fd. */
	while (g->conns)
		conn_close(g, g->conns);
	d = opendir("/proc/self/fd");
	assert_non_null(d);
	for (fds_after = 0; readdir(d);)
		fds_after++;
	closedir(d);
	assert_int_equal(fds_after, fds_before);
}

/* ---- timeouts and the schedule ----------------------------------------- */

static void test_timeouts(void **state)
{
	const __u32 ids[] = {1, 2};
	struct rig *g = *state;
	struct hc_target t;
	struct sockaddr_in a = {.sin_family = AF_INET};
	__u16 full, silent;
	int filler[3];

	/* A queue of one, filled and never accepted: SYNs are dropped. */
	serve(g, AF_INET, SRV_HOLD, 0, &full);
	a.sin_port = htons(full);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 3; i++) {
		filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(filler[i], (struct sockaddr *)&a, sizeof(a));
	}
	usleep(20000);
	serve(g, AF_INET, SRV_HOLD, 64, &silent);
	t = target(1, XLB_CHECK_TCP, "127.0.0.1", full, 1000, 200);
	set(g, &t);
	t = target(2, XLB_CHECK_HTTP, "127.0.0.1", silent, 1000, 200);
	set(g, &t);
	wait_ids(g, ids, 2, 1500);
	for (int i = 0; i < 2; i++) {
		const struct hc_result *r = first(g, ids[i]);

		expect(g, ids[i], false, "timeout");
		assert_true(r->latency_us >= 200000);
		assert_true(r->latency_us < 300000);
	}
	for (int i = 0; i < 3; i++)
		close(filler[i]);
}

/* 100 checks added at once run spread over their interval. */
static void test_first_runs_spread(void **state)
{
	struct rig *g = *state;
	__u32 ids[100];
	struct hc_target t;
	long long first_at[100], lo = 1LL << 60, hi = 0;
	int worst = 0;
	__u16 port;

	serve(g, AF_INET, SRV_CLOSE, 256, &port);
	for (int i = 0; i < 100; i++) {
		ids[i] = 1000 + i;
		t = target(ids[i], XLB_CHECK_TCP, "127.0.0.1", port, 1000, 500);
		set(g, &t);
	}
	g->t0 = now_ms();
	wait_ids(g, ids, 100, 1300);
	for (int i = 0; i < 100; i++) {
		size_t k = 0;

		while (g->res[k].id != ids[i]) /* wait_ids saw it */
			k++;
		first_at[i] = g->at[k];
		lo = first_at[i] < lo ? first_at[i] : lo;
		hi = first_at[i] > hi ? first_at[i] : hi;
	}
	for (int i = 0; i < 100; i++) {
		int in = 0;

		for (int k = 0; k < 100; k++)
			in += first_at[k] >= first_at[i] &&
			      first_at[k] < first_at[i] + 100;
		worst = in > worst ? in : worst;
	}
	assert_true(hi <= 1050);
	assert_true(hi - lo >= 600);
	if (worst > 30)
		fail_msg("%d first runs within 100 ms", worst);
}

/*
 * Runs every interval from the previous start, without drifting: each
 * probe takes some 30 ms (the server sends its body in two), which a
 * schedule counted from the previous end would add to every period.
 */
static void test_period(void **state)
{
	struct rig *g = *state;
	const __u32 id = 7;
	struct hc_target t;
	long long at[16] = {0};
	struct srv *s;
	int n = 0;
	__u16 port;

	s = serve(g, AF_INET, SRV_HTTP, 64, &port);
	s->resp = "HTTP/1.1 200 OK\r\n\r\nrea";
	s->resp2 = "dy";
	t = target(id, XLB_CHECK_HTTP, "127.0.0.1", port, 100, 80);
	strcpy(t.cfg.http_body, "ready");
	set(g, &t);
	g->t0 = now_ms();
	pump(g, 1150, NULL, NULL);
	for (size_t k = 0; k < g->n && n < 16; k++) {
		assert_string_equal(g->res[k].detail, "ok");
		assert_true(g->res[k].latency_us >= 25000);
		at[n++] = g->at[k];
	}
	assert_true(n >= 10 && n <= 12);
	for (int i = 1; i < n; i++)
		if (at[i] - at[i - 1] < 50 || at[i] - at[i - 1] > 150)
			fail_msg("run %d came %lld ms after the previous", i,
				 at[i] - at[i - 1]);
	/* Ten periods later, not ten periods plus ten latencies (300 ms). */
	if (at[n - 1] - at[0] < (n - 1) * 100 - 40 ||
	    at[n - 1] - at[0] > (n - 1) * 100 + 40)
		fail_msg("%d runs in %lld ms", n, at[n - 1] - at[0]);
}

/* A probe still running when the next run is due: that run is skipped. */
static void test_overrun_skips(void **state)
{
	struct rig *g = *state;
	const __u32 id = 9;
	struct hc_target t;
	struct srv *s;
	__u16 port;
	int n;

	s = serve(g, AF_INET, SRV_HOLD, 64, &port);
	t = target(id, XLB_CHECK_HTTP, "127.0.0.1", port, 100, 250);
	set(g, &t);
	pump(g, 1000, NULL, NULL);
	n = count_of(g, id);
	/* Stacked probes would make ten connections and seven timeouts. */
	assert_true(n >= 2 && n <= 4);
	assert_true(s->accepts >= n && s->accepts <= n + 1);
	for (size_t k = 0; k < g->n; k++)
		assert_string_equal(g->res[k].detail, "timeout");
}

/* ---- replace and delete ------------------------------------------------ */

struct since {
	__u32 id;
	size_t from;
};

static bool reported_since(struct rig *g, const void *arg)
{
	const struct since *s = arg;

	for (size_t k = s->from; k < g->n; k++)
		if (g->res[k].id == s->id)
			return true;
	return false;
}

static void test_replace_and_delete(void **state)
{
	struct rig *g = *state;
	struct hc_target t;
	struct srv *hold;
	struct since since = {.id = 5};
	__u16 open_port, hold_port;
	size_t mark;

	serve(g, AF_INET, SRV_CLOSE, 64, &open_port);
	hold = serve(g, AF_INET, SRV_HOLD, 64, &hold_port);
	/* A probe that hangs on a server that never answers... */
	t = target(5, XLB_CHECK_HTTP, "127.0.0.1", hold_port, 300, 250);
	set(g, &t);
	for (int i = 0; i < 100 && !hold->accepts; i++)
		pump(g, 5, NULL, NULL);
	assert_int_equal(hold->accepts, 1);
	assert_int_equal(g->n, 0);
	/* ...is abandoned by a replacement: no timeout ever comes. */
	t = target(5, XLB_CHECK_TCP, "127.0.0.1", open_port, 100, 50);
	set(g, &t);
	assert_int_equal(xlb_hc_count(g->e), 1);
	/* The abandoned socket is closed (RST) at once. */
	{
		char buf[512];
		ssize_t n;

		/* The request first, then the reset. */
		while ((n = recv(g->conns->fd, buf, sizeof(buf), 0)) > 0)
			;
		assert_int_equal(n, -1);
		assert_int_equal(errno, ECONNRESET);
	}
	pump(g, 400, NULL, NULL);
	assert_true(count_of(g, 5) >= 3);
	for (size_t k = 0; k < g->n; k++)
		assert_string_equal(g->res[k].detail, "ok");
	/* After del, silence, and the count says so. */
	xlb_hc_del(g->e, 5);
	xlb_hc_del(g->e, 5); /* unknown ids are ignored */
	assert_int_equal(xlb_hc_count(g->e), 0);
	mark = g->n;
	since.from = mark;
	assert_false(pump(g, 300, reported_since, &since));
	assert_int_equal(g->n, mark);
}

/* The result callback may delete checks, its own and running ones too. */
static void test_delete_from_callback(void **state)
{
	struct rig *g = *state;
	struct hc_target t;
	__u32 ids[50];
	__u16 port;

	serve(g, AF_INET, SRV_CLOSE, 256, &port);
	for (int i = 0; i < 50; i++) {
		ids[i] = 200 + i;
		/* Interval 20, timeout 15: many probes in flight at once. */
		t = target(ids[i], XLB_CHECK_TCP, "127.0.0.1", port, 20, 15);
		set(g, &t);
	}
	pump(g, 60, NULL, NULL);
	assert_true(g->n > 0);
	g->n = 0;
	g->del_ids = ids;
	g->n_del_ids = 50;
	g->del_all_on_result = true;
	pump(g, 200, NULL, NULL);
	assert_int_equal(g->n, 1);
	assert_int_equal(xlb_hc_count(g->e), 0);
	/* The engine still works: slots come back. */
	t = target(1, XLB_CHECK_TCP, "127.0.0.1", port, 50, 40);
	set(g, &t);
	wait_ids(g, &t.id, 1, 500);
	expect(g, 1, true, "ok");
}

static void test_bad_targets(void **state)
{
	struct rig *g = *state;
	struct hc_target t;

	t = target(1, XLB_CHECK_NONE, "127.0.0.1", 80, 100, 50);
	assert_int_equal(xlb_hc_set(g->e, &t), -EINVAL);
	t = target(1, XLB_CHECK_TCP, "127.0.0.1", 0, 100, 50);
	assert_int_equal(xlb_hc_set(g->e, &t), -EINVAL);
	t = target(1, XLB_CHECK_TCP, "127.0.0.1", 80, 0, 50);
	assert_int_equal(xlb_hc_set(g->e, &t), -EINVAL);
	t = target(1, XLB_CHECK_HTTP, "127.0.0.1", 80, 100, 50);
	strcpy(t.cfg.http_path, "/a b\r\nX-Injected: 1");
	assert_int_equal(xlb_hc_set(g->e, &t), -EINVAL);
	t = exec_target(1, "", 100, 50);
	assert_int_equal(xlb_hc_set(g->e, &t), -EINVAL);
	assert_int_equal(xlb_hc_count(g->e), 0);
	t = target(1, XLB_CHECK_TCP, "127.0.0.1", 80, 100, 50);
	assert_int_equal(xlb_hc_set(g->e, &t), 0);
	assert_int_equal(xlb_hc_count(g->e), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tcp_v4),
		T(test_tcp_v6),
		T(test_mark),
		T(test_http_v4),
		T(test_http_v6),
		T(test_agent),
		T(test_udp_v4),
		T(test_udp_v6),
		T(test_exec),
		T(test_exec_timeout_kills),
		T(test_free_releases_everything),
		T(test_timeouts),
		T(test_first_runs_spread),
		T(test_period),
		T(test_overrun_skips),
		T(test_replace_and_delete),
		T(test_delete_from_callback),
		T(test_bad_targets),
	};
	sigset_t mask;

	/* As xlbd: SIGTERM blocked (for its signalfd), SIGPIPE ignored. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
