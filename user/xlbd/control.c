// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The control socket's server, inside the event loop: no client can make
 * xlbd wait. Every connection is non-blocking, with its own buffer, a
 * deadline for its whole request (XLB_CTL_TIMEOUT_MS) and another for
 * its whole answer; a request larger than XLB_CTL_MAX_MSG is refused;
 * at most XLB_CTL_MAX_CLIENTS are served at once, and one more drops the
 * one that has waited longest. One timerfd, armed for the earliest
 * deadline, drops the late ones. A request is handled as soon as its
 * newline (or the client's end of writing) arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "ctl.h"
#include "xlbd.h"

struct ctl_client {
	int fd; /* -1: free slot */
	bool answering;
	bool deferred; /* its handler answers later (xlbd_ctl_answer) */
	__u32 serial;  /* which connection of this slot: a late answer's */
	char *buf;     /* the request, then the answer */
	size_t len, cap, sent;
	__u64 deadline_ms;
	struct xlb_watch watch;
	struct xlbd_ctl *srv;
};

struct xlbd_ctl {
	struct xlbd *d;
	int lfd, timer_fd;
	struct xlb_watch listen_watch, timer_watch;
	struct ctl_client clients[XLB_CTL_MAX_CLIENTS];
	struct ctl_client *current; /* whose request is being handled */
	__u32 serial;
};

static void client_close(struct ctl_client *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(c->srv->d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
	c->len = c->cap = c->sent = 0;
	c->answering = false;
	c->deferred = false;
}

/* The timer fires at the earliest deadline of a connection, if any. */
static void arm_timer(struct xlbd_ctl *s)
{
	__u64 next = 0, now = xlb_now_ms(), in;
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	for (int i = 0; i < XLB_CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0 &&
		    (!next || s->clients[i].deadline_ms < next))
			next = s->clients[i].deadline_ms;
	if (next) {
		in = next > now ? next - now : 1;
		its.it_value.tv_sec = in / 1000;
		its.it_value.tv_nsec = (in % 1000) * 1000000;
	}
	timerfd_settime(s->timer_fd, 0, &its, NULL);
}

/* Sends what the socket takes now; closes when the answer is out. */
static void client_write(struct ctl_client *c)
{
	while (c->sent < c->len) {
		ssize_t n = send(c->fd, c->buf + c->sent, c->len - c->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0)
			break;
		c->sent += n;
	}
	client_close(c);
}

/* Turns the connection around: resp (consumed) is its answer. */
static void client_answer(struct ctl_client *c, json_t *resp)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = &c->watch};
	size_t len;
	char *text = xlb_ctl_encode(resp, &len);

	json_decref(resp);
	free(c->buf);
	c->buf = text;
	if (!text || epoll_ctl(c->srv->d->epfd, EPOLL_CTL_MOD, c->fd, &ev)) {
		client_close(c);
		return;
	}
	c->len = c->cap = len;
	c->sent = 0;
	c->answering = true;
	c->deadline_ms = xlb_now_ms() + XLB_CTL_TIMEOUT_MS;
	client_write(c);
}

/* A whole request line is in the buffer: handle it. */
static void client_request(struct ctl_client *c, size_t len)
{
	struct xlb_err err = {{0}};
	json_t *req, *resp;
	int ret;

	ret = xlb_ctl_parse_request(c->buf, len, &req, &err);
	if (ret) {
		resp = xlb_ctl_error(ret, err.msg);
	} else {
		c->srv->current = c;
		resp = xlbd_handle(c->srv->d, req);
		c->srv->current = NULL;
		json_decref(req);
	}
	if (!resp && c->deferred) {
		/* Nothing to read or write until the answer: only a
		 * hang-up (always reported) or the deadline ends it. */
		struct epoll_event ev = {.events = 0, .data.ptr = &c->watch};

		epoll_ctl(c->srv->d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		c->deadline_ms = xlb_now_ms() + XLB_CTL_DEFER_MS;
		return;
	}
	client_answer(c, resp ? resp : xlb_ctl_error(-ENOMEM, "out of memory"));
}

__u64 xlbd_ctl_defer(struct xlbd *d)
{
	struct ctl_client *c = d->ctl ? d->ctl->current : NULL;

	if (!c)
		return 0;
	c->deferred = true;
	c->serial = ++d->ctl->serial ? d->ctl->serial : ++d->ctl->serial;
	return (__u64)(c - d->ctl->clients) << 32 | c->serial;
}

void xlbd_ctl_answer(struct xlbd *d, __u64 token, json_t *resp)
{
	size_t slot = token >> 32;
	struct ctl_client *c;

	if (!d->ctl || !token || slot >= XLB_CTL_MAX_CLIENTS) {
		json_decref(resp);
		return;
	}
	c = &d->ctl->clients[slot];
	if (c->fd < 0 || !c->deferred || c->serial != (__u32)token) {
		json_decref(resp); /* the client gave up or was dropped */
		return;
	}
	c->deferred = false;
	client_answer(c, resp);
	arm_timer(d->ctl);
}

/* Room for more of the request: doubling, up to the largest one. */
static int client_grow(struct ctl_client *c)
{
	size_t cap = c->cap ? c->cap * 2 : 4096;
	char *p;

	if (c->len < c->cap)
		return 0;
	if (c->cap > XLB_CTL_MAX_MSG)
		return -EMSGSIZE;
	if (cap > (size_t)XLB_CTL_MAX_MSG + 1)
		cap = (size_t)XLB_CTL_MAX_MSG + 1;
	p = realloc(c->buf, cap);
	if (!p)
		return -ENOMEM;
	c->buf = p;
	c->cap = cap;
	return 0;
}

static void client_read(struct ctl_client *c)
{
	ssize_t n = 0;
	char *nl;

	for (;;) {
		if (client_grow(c)) {
			client_answer(c, xlb_ctl_error(-EMSGSIZE,
						       "request too large"));
			return;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;
		nl = memchr(c->buf + c->len, '\n', n);
		c->len += n;
		if (nl) {
			client_request(c, nl - c->buf);
			return;
		}
	}
	/* The client's end of writing ends its request, if it sent one. */
	if (n == 0 && c->len)
		client_request(c, c->len);
	else
		client_close(c);
}

static void on_client(struct xlb_watch *w, uint32_t events)
{
	struct ctl_client *c = container_of(w, struct ctl_client, watch);

	if (c->fd < 0)
		return;
	if (c->answering)
		client_write(c);
	else if (c->deferred)
		client_close(c); /* hung up before its answer */
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_read(c);
	arm_timer(c->srv);
}

/* A free slot, or the one that has waited longest for its request. */
static struct ctl_client *client_slot(struct xlbd_ctl *s)
{
	struct ctl_client *oldest = NULL;

	for (int i = 0; i < XLB_CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &s->clients[i];

		if (c->fd < 0)
			return c;
		if (!oldest || c->deadline_ms < oldest->deadline_ms)
			oldest = c;
	}
	xlb_log(LOG_NOTICE,
		"control socket: %d connections at once: dropping the one "
		"that waited longest",
		XLB_CTL_MAX_CLIENTS);
	client_close(oldest);
	return oldest;
}

static void on_listen(struct xlb_watch *w, uint32_t events)
{
	struct xlbd_ctl *s = container_of(w, struct xlbd_ctl, listen_watch);
	struct epoll_event ev = {.events = EPOLLIN};
	struct ctl_client *c;
	int fd;

	(void)events;
	while ((fd = accept4(s->lfd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		c = client_slot(s);
		ev.data.ptr = &c->watch;
		if (epoll_ctl(s->d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline_ms = xlb_now_ms() + XLB_CTL_TIMEOUT_MS;
	}
	arm_timer(s);
}

/* Drops the connections past their deadline. */
static void on_timer(struct xlb_watch *w, uint32_t events)
{
	struct xlbd_ctl *s = container_of(w, struct xlbd_ctl, timer_watch);
	__u64 now = xlb_now_ms(), n;

	(void)events;
	if (read(s->timer_fd, &n, sizeof(n)) != sizeof(n))
		return;
	for (int i = 0; i < XLB_CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &s->clients[i];

		if (c->fd < 0 || c->deadline_ms > now)
			continue;
		xlb_log(LOG_INFO, "control socket: dropping a client: %s",
			c->answering  ? "it did not read its answer"
			: c->deferred ? "its answer did not come in time"
				      : "no request in time");
		client_close(c);
	}
	arm_timer(s);
}

static int watch_fd(struct xlbd *d, int fd, struct xlb_watch *w,
		    void (*fn)(struct xlb_watch *, uint32_t))
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};

	w->fn = fn;
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int xlbd_ctl_start(struct xlbd *d, int lfd, struct xlb_err *err)
{
	struct xlbd_ctl *s = calloc(1, sizeof(*s));
	int ret;

	if (!s) {
		xlb_err_set(err, "control socket: out of memory");
		return -ENOMEM;
	}
	s->d = d;
	s->lfd = lfd;
	for (int i = 0; i < XLB_CTL_MAX_CLIENTS; i++) {
		s->clients[i].fd = -1;
		s->clients[i].srv = s;
		s->clients[i].watch.fn = on_client;
	}
	s->timer_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ret = s->timer_fd < 0 ? -errno : 0;
	/* accept4 until EAGAIN: the listening socket must not block. */
	if (!ret && fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK))
		ret = -errno;
	if (!ret)
		ret = watch_fd(d, s->timer_fd, &s->timer_watch, on_timer);
	if (!ret)
		ret = watch_fd(d, lfd, &s->listen_watch, on_listen);
	if (ret) {
		xlb_err_set(err, "control socket: %s", strerror(-ret));
		if (s->timer_fd >= 0)
			close(s->timer_fd);
		free(s);
		return ret;
	}
	d->ctl = s;
	return 0;
}

void xlbd_ctl_stop(struct xlbd *d)
{
	struct xlbd_ctl *s = d->ctl;

	if (!s)
		return;
	for (int i = 0; i < XLB_CTL_MAX_CLIENTS; i++)
		client_close(&s->clients[i]);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, s->lfd, NULL);
	close(s->timer_fd);
	free(s);
	d->ctl = NULL;
}
