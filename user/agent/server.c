// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The report server: HAProxy's agent-check protocol on a TCP port. A
 * client connects and may send one request line naming a service
 * ("198.19.0.1:80/tcp\n"); the agent answers one line ("75% ready\n")
 * and closes. A client that sends no full line within
 * AGENT_REQUEST_WAIT_MS, or closes its side first, gets the host's
 * answer, so HAProxy without agent-send works. Everything is
 * non-blocking from the agent's epoll loop: clients wait in accept order,
 * which is also the order of their deadlines, and a client that never
 * sends anything only waits out its own deadline.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "log.h"

struct client {
	struct xlb_watch w;
	struct agent_server *s;
	int fd;
	uint64_t deadline_ms;
	size_t len;
	char buf[AGENT_REQUEST_MAX];
	struct client *prev, *next;
};

struct agent_server {
	struct xlb_watch w;
	int epfd, fd;
	unsigned port;
	struct agent_view view;
	struct agent_counters cnt;
	struct client *head, *tail; /* oldest first */
	int n;
};

static void client_close(struct client *c)
{
	struct agent_server *s = c->s;
	char sink[512];

	/* Unread bytes would turn the close into a reset that can cost
	 * the client the reply: read them first. */
	while (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	s->n--;
	free(c);
}

/*
 * Answers c and closes it. line is its request (without '\n'), or NULL
 * when it sent none.
 */
static void client_answer(struct client *c, const char *line)
{
	struct agent_server *s = c->s;
	const struct agent_service *svc = NULL;
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	char reply[64];
	int n;

	if (!line) {
		s->cnt.silent++;
	} else if (agent_parse_request(line, &key, &err)) {
		s->cnt.malformed++;
		xlb_log(LOG_INFO, "malformed request: %s", err.msg);
	} else if (!(svc = agent_cfg_service(s->view.cfg, &key))) {
		s->cnt.unknown++;
	}
	n = agent_answer(&s->view, svc, reply, sizeof(reply));
	if (n > 0 && send(c->fd, reply, n, MSG_NOSIGNAL | MSG_DONTWAIT) == n) {
		s->cnt.reports++;
		if (svc)
			s->cnt.services++;
		else
			s->cnt.host++;
		xlb_log(LOG_DEBUG, "report for %s: %.*s",
			svc ? svc->name : "the host", n - 1, reply);
	} else {
		s->cnt.send_errors++;
	}
	client_close(c);
}

static void on_client(struct xlb_watch *w, uint32_t events)
{
	struct client *c = container_of(w, struct client, w);
	char *nl;
	ssize_t n;

	(void)events;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_close(c);
		return;
	}
	c->len += n;
	c->buf[c->len] = '\0';
	nl = memchr(c->buf, '\n', c->len);
	if (nl) {
		*nl = '\0';
		client_answer(c, c->buf);
	} else if (n == 0) {
		/* Closed its side: what it sent, if anything, is the line. */
		client_answer(c, c->len ? c->buf : NULL);
	} else if (c->len == sizeof(c->buf) - 1) {
		client_answer(c, c->buf); /* too long: malformed */
	}
}

static void on_accept(struct xlb_watch *w, uint32_t events)
{
	struct agent_server *s = container_of(w, struct agent_server, w);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	struct client *c;
	int fd;

	(void)events;
	while ((fd = accept4(s->fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		if (s->n == AGENT_MAX_CLIENTS) {
			s->cnt.overflow++;
			client_answer(s->head, NULL);
		}
		c->w.fn = on_client;
		c->s = s;
		c->fd = fd;
		c->deadline_ms = xlb_now_ms() + AGENT_REQUEST_WAIT_MS;
		ev.data.ptr = &c->w;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		c->prev = s->tail;
		if (s->tail)
			s->tail->next = c;
		else
			s->head = c;
		s->tail = c;
		s->n++;
	}
}

int agent_server_expire(struct agent_server *s, uint64_t now_ms)
{
	while (s->head && s->head->deadline_ms <= now_ms)
		client_answer(s->head, NULL);
	return s->head ? (int)(s->head->deadline_ms - now_ms) : -1;
}

/* A listening socket on port of every address: IPv6 dual-stack, or IPv4
 * where IPv6 is off. */
static int listen_on(unsigned port, struct xlb_err *err)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons(port),
				  .sin6_addr = IN6ADDR_ANY_INIT};
	struct sockaddr_in a4 = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_ANY)};
	int one = 1, zero = 0, fd;
	bool v6 = true;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && errno == EAFNOSUPPORT) {
		v6 = false;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
	}
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if ((v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
		: bind(fd, (struct sockaddr *)&a4, sizeof(a4))) ||
	    listen(fd, 128))
		goto fail;
	return fd;
fail:
	xlb_err_set(err, "listening on port %u: %s", port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

struct agent_server *agent_server_new(int epfd, unsigned port,
				      struct xlb_err *err)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct sockaddr_in6 a;
	socklen_t alen = sizeof(a);
	struct agent_server *s = calloc(1, sizeof(*s));

	if (!s) {
		xlb_err_set(err, "out of memory");
		return NULL;
	}
	s->epfd = epfd;
	s->w.fn = on_accept;
	s->fd = listen_on(port, err);
	if (s->fd < 0) {
		free(s);
		return NULL;
	}
	/* Port 0 (the tests): the kernel's pick; sin6_port and sin_port
	 * are at the same offset. */
	if (getsockname(s->fd, (struct sockaddr *)&a, &alen) == 0)
		s->port = ntohs(a.sin6_port);
	ev.data.ptr = &s->w;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev)) {
		xlb_err_set(err, "epoll: %s", strerror(errno));
		close(s->fd);
		free(s);
		return NULL;
	}
	return s;
}

void agent_server_set_view(struct agent_server *s, const struct agent_view *v)
{
	s->view = *v;
}

const struct agent_counters *agent_server_counters(const struct agent_server *s)
{
	return &s->cnt;
}

unsigned agent_server_port(const struct agent_server *s)
{
	return s->port;
}

void agent_server_free(struct agent_server *s)
{
	if (!s)
		return;
	while (s->head)
		client_close(s->head);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	free(s);
}
