// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The health checker's probes (see hc_priv.h): one probe of a check, from
 * its start to its verdict. TCP connects; HTTP connects, sends its
 * request and judges the status line and the body; HTTPS is HTTP with a
 * TLS handshake between the connect and the request (hc_tls.c), on the
 * same socket, so through the tunnel alike; UDP sends a datagram
 * and judges the answer; exec runs a command and judges its exit. Every
 * step reads until EAGAIN or a verdict and trusts no event mask, so a
 * stale event (see health.c) does nothing.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "hc_priv.h"

/* ---- ending probes ----------------------------------------------------- */

static void on_reap(struct xlb_watch *w, uint32_t events)
{
	struct hc_reap *r = container_of(w, struct hc_reap, watch);
	pid_t p;

	(void)events;
	p = waitpid(r->pid, NULL, WNOHANG);
	if (p == 0 || (p < 0 && errno == EINTR))
		return;
	epoll_ctl(r->e->epfd, EPOLL_CTL_DEL, r->pidfd, NULL);
	close(r->pidfd);
	*r->pprev = r->next;
	if (r->next)
		r->next->pprev = r->pprev;
	free(r);
}

/*
 * Kills an exec probe's process group. The child is reaped when its pidfd
 * says it has died, never waited for here: even SIGKILL takes a moment,
 * longer if it sleeps in the kernel, and the loop must not stall.
 */
static void exec_stop(struct hc_check *s)
{
	struct xlb_hc *e = s->e;
	struct epoll_event ev = {.events = EPOLLIN};
	struct hc_reap *r;

	if (s->pid <= 0)
		goto out_close;
	kill(-s->pid, SIGKILL);
	r = e->closing || s->fd < 0 ? NULL : malloc(sizeof(*r));
	if (r) {
		r->watch.fn = on_reap;
		r->e = e;
		r->pidfd = s->fd;
		r->pid = s->pid;
		ev.data.ptr = &r->watch;
		if (!epoll_ctl(e->epfd, EPOLL_CTL_MOD, s->fd, &ev)) {
			r->next = e->reaping;
			if (r->next)
				r->next->pprev = &r->next;
			r->pprev = &e->reaping;
			e->reaping = r;
			return;
		}
		free(r);
	}
	/* No pidfd, no memory or shutting down: SIGKILL is quick enough. */
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
out_close:
	if (s->fd >= 0) {
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
}

void hc_probe_stop(struct hc_check *s)
{
	struct xlb_hc *e = s->e;

	if (s->phase == HC_IDLE)
		return;
	if (s->kind == XLB_CHECK_EXEC) {
		exec_stop(s);
	} else if (s->fd >= 0) {
		if (s->ssl)
			hc_tls_end(s);
		/*
		 * RST, not FIN: 10 000 probes a second must not leave as many
		 * TIME_WAIT sockets behind.
		 */
		if (s->kind != XLB_CHECK_UDP) {
			struct linger l = {.l_onoff = 1, .l_linger = 0};

			setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		}
		/*
		 * Explicitly: a copy of the fd in a forked child would keep
		 * the registration alive past close().
		 */
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	s->fd = -1;
	s->pid = 0;
	s->phase = HC_IDLE;
}

void hc_reap_all(struct xlb_hc *e)
{
	struct hc_reap *r;

	while ((r = e->reaping)) {
		e->reaping = r->next;
		kill(-r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, r->pidfd, NULL);
		close(r->pidfd);
		free(r);
	}
}

/* ---- HTTP -------------------------------------------------------------- */

/* "HTTP/1.1 200 OK" -> 200; 0 when the line is not a status line. */
static unsigned int parse_status(const char *line, size_t len)
{
	size_t i = 5;
	unsigned int code = 0;

	if (len < 5 || memcmp(line, "HTTP/", 5))
		return 0;
	while (i < len &&
	       ((line[i] >= '0' && line[i] <= '9') || line[i] == '.'))
		i++;
	if (i == 5 || i + 4 > len || line[i] != ' ')
		return 0;
	for (size_t k = i + 1; k < i + 4; k++) {
		if (line[k] < '0' || line[k] > '9')
			return 0;
		code = code * 10 + (line[k] - '0');
	}
	if (i + 4 < len && line[i + 4] != ' ' && line[i + 4] != '\r')
		return 0;
	return code >= 100 ? code : 0;
}

/* Judges the status line; true when that ended the probe. */
static bool http_judge(struct hc_check *s)
{
	struct hc_spec *sp = s->spec;

	sp->status = parse_status(sp->line, sp->line_len);
	if (!sp->status) {
		hc_probe_end(s, false, "bad response");
		return true;
	}
	if (sp->status != sp->http_status) {
		hc_probe_end(s, false, "HTTP %u", sp->status);
		return true;
	}
	/* No body to look for: the status settles it without the rest. */
	if (!sp->match_len) {
		hc_probe_end(s, true, "ok");
		return true;
	}
	return false;
}

/*
 * Takes n bytes at buf (inside e->rx, with XLB_CHECK_STRLEN bytes of room
 * before it); true when that ended the probe. The body is searched with
 * the previous read's tail in front, so text split across reads is found.
 */
static bool http_feed(struct hc_check *s, char *buf, size_t n)
{
	struct hc_spec *sp = s->spec;
	char *p = buf, *end = buf + n, *win, *hit;
	size_t len, keep;

	while (p < end && sp->hdr_state != HDR_BODY) {
		char c = *p++;

		if (!sp->status) {
			if (c == '\n' || sp->line_len == sizeof(sp->line)) {
				if (http_judge(s))
					return true;
			} else {
				sp->line[sp->line_len++] = c;
			}
		}
		if (c == '\n')
			sp->hdr_state =
				sp->hdr_state == HDR_LINE ? HDR_BOL : HDR_BODY;
		else if (c == '\r' && sp->hdr_state == HDR_BOL)
			sp->hdr_state = HDR_BOL_CR;
		else
			sp->hdr_state = HDR_LINE;
	}
	if (p == end)
		return false;
	win = p - sp->carry_len;
	memcpy(win, sp->sock.carry, sp->carry_len);
	len = sp->carry_len + (end - p);
	hit = memmem(win, len, sp->sock.match, sp->match_len);
	if (hit) {
		hc_probe_end(s, true, "ok");
		return true;
	}
	keep = len < sp->match_len - 1U ? len : sp->match_len - 1U;
	memcpy(sp->sock.carry, win + len - keep, keep);
	sp->carry_len = keep;
	return false;
}

/* EOF or HC_RX_MAX bytes: whatever has not matched by now never will. */
static void http_eof(struct hc_check *s)
{
	struct hc_spec *sp = s->spec;

	if (!sp->status && http_judge(s))
		return;
	hc_probe_end(s, false, "body lacks '%.80s'", sp->sock.match);
}

/* recv, or SSL_read once TLS is on; errors as recv's (hc_tls_recv). */
static ssize_t probe_recv(struct hc_check *s, void *buf, size_t len)
{
	if (s->ssl)
		return hc_tls_recv(s, buf, len);
	return recv(s->fd, buf, len, MSG_DONTWAIT);
}

static ssize_t probe_send(struct hc_check *s, const void *buf, size_t len)
{
	if (s->ssl)
		return hc_tls_send(s, buf, len);
	return send(s->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void http_recv(struct hc_check *s)
{
	struct hc_spec *sp = s->spec;
	char *buf = s->e->rx + XLB_CHECK_STRLEN;
	ssize_t n;

	for (;;) {
		n = probe_recv(s, buf, HC_RX_MAX - sp->rx_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				hc_probe_end(s, false, "recv: %s",
					     hc_tls_strerror(s, errno));
			return;
		}
		if (n == 0) {
			http_eof(s);
			return;
		}
		sp->rx_len += n;
		if (http_feed(s, buf, n))
			return;
		if (sp->rx_len >= HC_RX_MAX) {
			http_eof(s);
			return;
		}
	}
}

/* ---- agent ------------------------------------------------------------- */

/*
 * Reads the agent's reply into the spec's buffer until a newline, EOF or
 * one byte past the limit; any of these ends the probe with what was
 * read, which the policy judges (an empty or over-long line included).
 */
static void agent_recv(struct hc_check *s)
{
	struct hc_spec *sp = s->spec;
	char *buf = sp->sock.carry;
	ssize_t n;

	for (;;) {
		n = recv(s->fd, buf + sp->rx_len,
			 XLB_AGENT_REPLY_MAX + 1 - sp->rx_len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				hc_probe_end(s, false, "recv: %s",
					     strerror(errno));
			return;
		}
		if (n == 0) {
			hc_probe_end(s, true, "ok");
			return;
		}
		sp->rx_len += n;
		if (memchr(buf + sp->rx_len - n, '\n', n) ||
		    sp->rx_len > XLB_AGENT_REPLY_MAX) {
			hc_probe_end(s, true, "ok");
			return;
		}
	}
}

/* The reply of an agent probe into r: up to its first newline. */
static void agent_reply(const struct hc_check *s, struct hc_result *r)
{
	const struct hc_spec *sp = s->spec;
	const char *nl = memchr(sp->sock.carry, '\n', sp->rx_len);
	size_t len = nl ? (size_t)(nl - sp->sock.carry) + 1 : sp->rx_len;

	memcpy(r->reply, sp->sock.carry, len);
	r->reply[len] = '\0';
	r->reply_len = len;
}

/* ---- socket probes ----------------------------------------------------- */

static void tcp_step(struct hc_check *s)
{
	struct hc_spec *sp = s->spec;
	ssize_t n;

	if (s->phase == HC_CONNECT) {
		/*
		 * connect() again, rather than SO_ERROR: it tells done,
		 * pending and failed apart in one call, where SO_ERROR reads
		 * 0 both when connected and when a stale event woke us early.
		 */
		if (connect(s->fd, &sp->addr.sa, sp->addr_len) &&
		    errno != EISCONN) {
			if (errno == EALREADY || errno == EINPROGRESS ||
			    errno == EINTR)
				return;
			hc_probe_end(s, false, "connect: %s", strerror(errno));
			return;
		}
		if (s->kind == XLB_CHECK_TCP) {
			hc_probe_end(s, true, "ok");
			return;
		}
		if (s->kind == XLB_CHECK_HTTPS) {
			if (hc_tls_begin(s))
				return;
			s->phase = HC_TLS;
		} else {
			s->phase = HC_SEND;
		}
	}
	if (s->phase == HC_TLS) {
		if (hc_tls_handshake(s) <= 0)
			return;
		s->phase = HC_SEND;
	}
	if (s->phase == HC_SEND) {
		while (sp->out_done < sp->out_len) {
			n = probe_send(s, sp->sock.out + sp->out_done,
				       sp->out_len - sp->out_done);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					hc_probe_end(s, false, "send: %s",
						     hc_tls_strerror(s, errno));
				return;
			}
			sp->out_done += n;
		}
		s->phase = HC_RECV;
	}
	if (s->kind == XLB_CHECK_AGENT)
		agent_recv(s);
	else
		http_recv(s);
}

static void udp_step(struct hc_check *s)
{
	struct hc_spec *sp = s->spec;
	ssize_t n;

	do
		n = recv(s->fd, s->e->rx, sizeof(s->e->rx), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* An ICMP port unreachable arrives as ECONNREFUSED. */
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			hc_probe_end(s, false, "recv: %s", strerror(errno));
		return;
	}
	if (sp->match_len &&
	    !memmem(s->e->rx, n, sp->sock.match, sp->match_len)) {
		hc_probe_end(s, false, "answer lacks '%.80s'", sp->sock.match);
		return;
	}
	hc_probe_end(s, true, "ok");
}

static void exec_step(struct hc_check *s)
{
	int status;
	pid_t p;

	p = waitpid(s->pid, &status, WNOHANG);
	if (p == 0 || (p < 0 && errno == EINTR))
		return;
	if (p < 0) {
		/* ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN). */
		s->pid = 0;
		hc_probe_end(s, false, "wait: %s", strerror(errno));
		return;
	}
	s->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		hc_probe_end(s, true, "ok");
	else if (WIFEXITED(status))
		hc_probe_end(s, false, "exit %d", WEXITSTATUS(status));
	else
		hc_probe_end(s, false, "signal %d", WTERMSIG(status));
}

void hc_on_probe(struct xlb_watch *w, uint32_t events)
{
	struct hc_check *s = container_of(w, struct hc_check, watch);

	(void)events;
	if (s->phase == HC_IDLE || s->fd < 0)
		return;
	if (s->kind == XLB_CHECK_EXEC)
		exec_step(s);
	else if (s->kind == XLB_CHECK_UDP)
		udp_step(s);
	else
		tcp_step(s);
}

/* ---- starting probes --------------------------------------------------- */

static void sock_start(struct hc_check *s)
{
	struct hc_spec *sp = s->spec;
	bool udp = s->kind == XLB_CHECK_UDP;
	struct epoll_event ev = {.data.ptr = &s->watch};
	ssize_t n;
	int fd;

	/* A CA file that could not be read: every probe says why. */
	if (sp->tls_fail) {
		hc_probe_end(s, false, "%s", sp->tls_fail);
		return;
	}
	fd = socket(sp->addr.sa.sa_family,
		    (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
			    SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		hc_probe_end(s, false, "socket: %s", strerror(errno));
		return;
	}
	/* From here hc_probe_stop closes it. */
	s->fd = fd;
	s->phase = HC_CONNECT;
	hc_sched_update(s);
	sp->out_done = sp->rx_len = sp->status = 0;
	sp->line_len = sp->carry_len = 0;
	sp->hdr_state = HDR_LINE;
	if (sp->mark &&
	    setsockopt(fd, SOL_SOCKET, SO_MARK, &sp->mark, sizeof(sp->mark))) {
		hc_probe_end(s, false, "SO_MARK: %s", strerror(errno));
		return;
	}
	if (sp->ifname[0] && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE,
					sp->ifname, strlen(sp->ifname))) {
		hc_probe_end(s, false, "SO_BINDTODEVICE: %s", strerror(errno));
		return;
	}
	if (sp->mss && !udp) {
		int mss = sp->mss;

		if (setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss,
			       sizeof(mss))) {
			hc_probe_end(s, false, "TCP_MAXSEG: %s",
				     strerror(errno));
			return;
		}
	}
	/*
	 * Edge-triggered: EPOLLOUT would otherwise fire for ever once
	 * connected; every handler reads until EAGAIN or a verdict.
	 */
	ev.events = udp ? EPOLLIN | EPOLLET : EPOLLIN | EPOLLOUT | EPOLLET;
	if (epoll_ctl(s->e->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		hc_probe_end(s, false, "epoll: %s", strerror(errno));
		return;
	}
	if (connect(fd, &sp->addr.sa, sp->addr_len)) {
		if (errno != EINPROGRESS)
			hc_probe_end(s, false, "connect: %s", strerror(errno));
		return;
	}
	if (!udp) {
		tcp_step(s);
		return;
	}
	n = send(fd, sp->sock.out, sp->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		hc_probe_end(s, false, "send: %s", strerror(errno));
		return;
	}
	s->phase = HC_RECV;
}

static void exec_start(struct hc_check *s)
{
	struct xlb_hc *e = s->e;
	struct hc_spec *sp = s->spec;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->watch};
	pid_t pid;
	int ret;

	ret = posix_spawn(&pid, "/bin/sh", &e->spawn_fa, &e->spawn_attr,
			  sp->exec.argv, sp->exec.envp);
	if (ret) {
		hc_probe_end(s, false, "spawn: %s", strerror(ret));
		return;
	}
	/* From here hc_probe_stop kills and reaps it. */
	s->pid = pid;
	s->phase = HC_WAIT;
	s->fd = syscall(SYS_pidfd_open, pid, 0);
	if (s->fd < 0) {
		hc_probe_end(s, false, "pidfd_open: %s", strerror(errno));
		return;
	}
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, s->fd, &ev)) {
		hc_probe_end(s, false, "epoll: %s", strerror(errno));
		return;
	}
	hc_sched_update(s);
}

void hc_probe_start(struct hc_check *s)
{
	if (s->kind == XLB_CHECK_EXEC)
		exec_start(s);
	else
		sock_start(s);
}

/* ---- verdicts ---------------------------------------------------------- */

void hc_probe_end(struct hc_check *s, bool ok, const char *fmt, ...)
{
	struct xlb_hc *e = s->e;
	struct hc_result r = {.id = s->id, .ok = ok};
	__u64 us = (xlb_now_ns() - s->start) / 1000;
	va_list ap;

	r.latency_us = us > 0xffffffffULL ? 0xffffffffU : (__u32)us;
	va_start(ap, fmt);
	vsnprintf(r.detail, sizeof(r.detail), fmt, ap);
	va_end(ap);
	if (ok && s->kind == XLB_CHECK_AGENT)
		agent_reply(s, &r);
	hc_probe_stop(s);
	hc_sched_update(s);
	/* Last: the callback may set or delete any check, this one too. */
	e->fn(e->ctx, &r);
}
