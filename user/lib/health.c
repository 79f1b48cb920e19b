// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The health checker engine (health.h): every check is a slot, every
 * running probe one non-blocking socket or pidfd in the caller's epoll
 * set, and one timerfd wakes the engine for the next due run or timeout.
 *
 * The schedule is a binary min-heap with one entry per check, keyed by
 * the check's next deadline: its next run, or its running probe's timeout
 * when that comes first. An id -> slot hash (open addressing) serves set
 * and del. So every event costs O(log n) whatever the number of checks.
 *
 * Slots live in chunks that neither move nor go back to malloc before
 * hc_engine_free: the caller's epoll batch may still hold an event whose
 * data.ptr is the watch of a slot whose probe has ended (or whose check
 * was deleted by a callback earlier in the same batch). Handlers never
 * trust the event mask for that reason; they ask the fd itself (connect()
 * again, recv, waitpid with WNOHANG), so such a stale event does nothing.
 *
 * A result is always the last thing a path does, after the engine's state
 * is whole again, so the result callback may call hc_engine_set and
 * hc_engine_del (but not hc_engine_free).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "health.h"

#define HC_CHUNK_SHIFT 8
#define HC_CHUNK       (1U << HC_CHUNK_SHIFT)
#define HC_NONE	       0xffffffffU
/* HTTP: bytes read at most before the body is declared to lack the text. */
#define HC_RX_MAX 16384
/* Due checks handled per timer wake-up, so a burst cannot starve the loop. */
#define HC_BATCH 256
/*
 * The timer is armed this late: runs and timeouts due within it are then
 * handled in one wake-up instead of one each. Late, never early, so a
 * timeout never fires before timeout_ms.
 */
#define HC_SLACK_NS 1000000ULL
#define NS_PER_MS   1000000ULL
#define NS_PER_S    1000000000ULL

#define HC_ENV_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

enum hc_phase {
	HC_IDLE,    /* no probe running */
	HC_CONNECT, /* TCP, HTTP: connect() in flight */
	HC_SEND,    /* HTTP: request partly sent */
	HC_RECV,    /* HTTP, UDP: waiting for the answer */
	HC_WAIT,    /* exec: the child runs */
};

/* Header-end matcher states (any of "\n\n", "\n\r\n" ends the header). */
enum { HDR_LINE, HDR_BOL, HDR_BOL_CR, HDR_BODY };

/*
 * A check's configuration in the shape probes use it, with only the
 * strings its kind needs, plus the running HTTP probe's progress (one
 * probe per check at most, so it lives here and not per probe).
 */
struct hc_spec {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr;
	socklen_t addr_len;
	__u32 mark;
	char ifname[16];
	__u16 mss;
	__u16 http_status;
	__u16 out_len;	 /* HTTP request or UDP payload */
	__u16 match_len; /* http_body or udp_expect; 0 = anything */
	__u16 out_done;	 /* HTTP: request bytes sent */
	__u16 rx_len;	 /* HTTP: response bytes read */
	__u16 status;	 /* HTTP: parsed status, 0 = not yet */
	__u8 line_len;
	__u8 hdr_state;
	__u8 carry_len;
	char line[32]; /* HTTP: the start of the status line */
	union {
		struct {
			const char *out;
			const char *match;
			/* The body's last match_len - 1 bytes, across reads. */
			char *carry;
		} sock;
		struct {
			char *argv[4];
			char *envp[5];
		} exec;
	};
	char data[];
};

struct hc_check {
	struct xlb_watch watch; /* the running probe's socket or pidfd */
	struct hc_engine *e;
	struct hc_spec *spec; /* NULL while the slot is free */
	__u64 next_run;	      /* scheduled start, ns of CLOCK_MONOTONIC */
	__u64 start;	      /* the running probe's actual start */
	__u32 interval_ms;
	__u32 timeout_ms;
	__u32 id;
	__u32 heap_pos; /* in e->heap; the next free slot while free */
	int fd;		/* socket or pidfd of the running probe, or -1 */
	pid_t pid;	/* exec: the running child, 0 once reaped */
	__u8 kind;
	__u8 phase;
};

struct hc_heap_ent {
	__u64 key; /* ns: when the check needs attention */
	__u32 slot;
};

struct hc_map_ent {
	__u32 id;
	__u32 slot; /* HC_NONE: empty */
};

/* An abandoned exec child, killed, whose exit is still to be reaped. */
struct hc_reap {
	struct xlb_watch watch;
	struct hc_engine *e;
	struct hc_reap *next, **pprev;
	int pidfd;
	pid_t pid;
};

struct hc_engine {
	int epfd;
	int tfd;
	struct xlb_watch timer_watch;
	hc_result_fn fn;
	void *ctx;
	bool closing; /* hc_engine_free: reap children synchronously */
	struct hc_check **chunks;
	__u32 n_chunks;
	__u32 n_slots;	 /* slots ever handed out */
	__u32 free_slot; /* head of the free list, HC_NONE if empty */
	size_t count;
	struct hc_heap_ent *heap;
	__u32 heap_len, heap_cap;
	struct hc_map_ent *map;
	__u32 map_mask;
	struct hc_reap *reaping;
	__u64 armed; /* absolute expiry the timerfd holds, 0 = none */
	posix_spawnattr_t spawn_attr;
	posix_spawn_file_actions_t spawn_fa;
	/* Receive buffer, with room in front for the body carry-over. */
	char rx[XLB_CHECK_STRLEN + HC_RX_MAX];
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* splitmix64's finaliser: ids 1, 2, 3... land far apart. */
static __u64 mix64(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static struct hc_check *slot_at(const struct hc_engine *e, __u32 idx)
{
	return &e->chunks[idx >> HC_CHUNK_SHIFT][idx & (HC_CHUNK - 1)];
}

/* ---- id -> slot map ---------------------------------------------------- */

static struct hc_map_ent *map_find(const struct hc_engine *e, __u32 id)
{
	__u32 i = mix64(id) & e->map_mask;

	for (;; i = (i + 1) & e->map_mask) {
		if (e->map[i].slot == HC_NONE)
			return NULL;
		if (e->map[i].id == id)
			return &e->map[i];
	}
}

static void map_put(struct hc_map_ent *map, __u32 mask, __u32 id, __u32 slot)
{
	__u32 i = mix64(id) & mask;

	while (map[i].slot != HC_NONE)
		i = (i + 1) & mask;
	map[i].id = id;
	map[i].slot = slot;
}

/* Makes room for one more entry, keeping the load at most one half. */
static int map_reserve(struct hc_engine *e)
{
	__u32 cap = e->map_mask + 1, ncap = cap * 2;
	struct hc_map_ent *map;

	if ((e->count + 1) * 2 <= cap)
		return 0;
	map = malloc(ncap * sizeof(*map));
	if (!map)
		return -ENOMEM;
	for (__u32 i = 0; i < ncap; i++)
		map[i].slot = HC_NONE;
	for (__u32 i = 0; i < cap; i++)
		if (e->map[i].slot != HC_NONE)
			map_put(map, ncap - 1, e->map[i].id, e->map[i].slot);
	free(e->map);
	e->map = map;
	e->map_mask = ncap - 1;
	return 0;
}

/* Backward-shift deletion: no tombstones, so look-ups stay short. */
static void map_remove(struct hc_engine *e, struct hc_map_ent *ent)
{
	__u32 mask = e->map_mask, i = ent - e->map, j = i, home;

	for (;;) {
		e->map[i].slot = HC_NONE;
		for (;;) {
			j = (j + 1) & mask;
			if (e->map[j].slot == HC_NONE)
				return;
			home = mix64(e->map[j].id) & mask;
			/* Stays if its home lies cyclically in (i, j]. */
			if (i <= j ? (i < home && home <= j)
				   : (i < home || home <= j))
				continue;
			break;
		}
		e->map[i] = e->map[j];
		i = j;
	}
}

/* ---- schedule heap ----------------------------------------------------- */

static void heap_place(struct hc_engine *e, __u32 pos, struct hc_heap_ent ent)
{
	e->heap[pos] = ent;
	slot_at(e, ent.slot)->heap_pos = pos;
}

static void heap_fix(struct hc_engine *e, __u32 pos)
{
	struct hc_heap_ent ent = e->heap[pos];
	__u32 child;

	while (pos > 0 && e->heap[(pos - 1) / 2].key > ent.key) {
		heap_place(e, pos, e->heap[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	for (;;) {
		child = 2 * pos + 1;
		if (child >= e->heap_len)
			break;
		if (child + 1 < e->heap_len &&
		    e->heap[child + 1].key < e->heap[child].key)
			child++;
		if (e->heap[child].key >= ent.key)
			break;
		heap_place(e, pos, e->heap[child]);
		pos = child;
	}
	heap_place(e, pos, ent);
}

static int heap_reserve(struct hc_engine *e)
{
	__u32 cap = e->heap_cap ? e->heap_cap * 2 : 64;
	struct hc_heap_ent *heap;

	if (e->heap_len < e->heap_cap)
		return 0;
	heap = realloc(e->heap, cap * sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	e->heap = heap;
	e->heap_cap = cap;
	return 0;
}

static void heap_remove(struct hc_engine *e, __u32 pos)
{
	e->heap_len--;
	if (pos == e->heap_len)
		return;
	heap_place(e, pos, e->heap[e->heap_len]);
	heap_fix(e, pos);
}

/* The timerfd follows the heap's top, armed HC_SLACK_NS late. */
static void arm(struct hc_engine *e)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	__u64 at;

	if (!e->heap_len)
		return;
	at = e->heap[0].key + HC_SLACK_NS;
	/* An earlier expiry is harmless: that wake-up re-arms. */
	if (e->armed && e->armed <= at)
		return;
	its.it_value.tv_sec = at / NS_PER_S;
	its.it_value.tv_nsec = at % NS_PER_S;
	if (!timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		e->armed = at;
}

/* Re-keys a check after its next run or its probe changed. */
static void sched_update(struct hc_check *s)
{
	struct hc_engine *e = s->e;
	__u64 key = s->next_run;

	if (s->phase != HC_IDLE) {
		__u64 deadline = s->start + s->timeout_ms * NS_PER_MS;

		if (deadline < key)
			key = deadline;
	}
	e->heap[s->heap_pos].key = key;
	heap_fix(e, s->heap_pos);
}

/* Next run: the first multiple of the interval past now, never drifting. */
static void advance(struct hc_check *s, __u64 now)
{
	__u64 iv = s->interval_ms * NS_PER_MS;

	if (s->next_run <= now)
		s->next_run += ((now - s->next_run) / iv + 1) * iv;
}

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
	struct hc_engine *e = s->e;
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

/* Releases the running probe, if any, without a result. */
static void probe_stop(struct hc_check *s)
{
	struct hc_engine *e = s->e;

	if (s->phase == HC_IDLE)
		return;
	if (s->kind == XLB_CHECK_EXEC) {
		exec_stop(s);
	} else if (s->fd >= 0) {
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

/* Ends the running probe with a verdict; the caller must return at once. */
__attribute__((format(printf, 3, 4))) static void
probe_end(struct hc_check *s, bool ok, const char *fmt, ...)
{
	struct hc_engine *e = s->e;
	struct hc_result r = {.id = s->id, .ok = ok};
	__u64 us = (now_ns() - s->start) / 1000;
	va_list ap;

	r.latency_us = us > 0xffffffffULL ? 0xffffffffU : (__u32)us;
	va_start(ap, fmt);
	vsnprintf(r.detail, sizeof(r.detail), fmt, ap);
	va_end(ap);
	probe_stop(s);
	sched_update(s);
	/* Last: the callback may set or delete any check, this one too. */
	e->fn(e->ctx, &r);
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
		probe_end(s, false, "bad response");
		return true;
	}
	if (sp->status != sp->http_status) {
		probe_end(s, false, "HTTP %u", sp->status);
		return true;
	}
	/* No body to look for: the status settles it without the rest. */
	if (!sp->match_len) {
		probe_end(s, true, "ok");
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
		probe_end(s, true, "ok");
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
	probe_end(s, false, "body lacks '%.80s'", sp->sock.match);
}

static void http_recv(struct hc_check *s)
{
	struct hc_spec *sp = s->spec;
	char *buf = s->e->rx + XLB_CHECK_STRLEN;
	ssize_t n;

	for (;;) {
		n = recv(s->fd, buf, HC_RX_MAX - sp->rx_len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				probe_end(s, false, "recv: %s",
					  strerror(errno));
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
			probe_end(s, false, "connect: %s", strerror(errno));
			return;
		}
		if (s->kind == XLB_CHECK_TCP) {
			probe_end(s, true, "ok");
			return;
		}
		s->phase = HC_SEND;
	}
	if (s->phase == HC_SEND) {
		while (sp->out_done < sp->out_len) {
			n = send(s->fd, sp->sock.out + sp->out_done,
				 sp->out_len - sp->out_done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					probe_end(s, false, "send: %s",
						  strerror(errno));
				return;
			}
			sp->out_done += n;
		}
		s->phase = HC_RECV;
	}
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
			probe_end(s, false, "recv: %s", strerror(errno));
		return;
	}
	if (sp->match_len &&
	    !memmem(s->e->rx, n, sp->sock.match, sp->match_len)) {
		probe_end(s, false, "answer lacks '%.80s'", sp->sock.match);
		return;
	}
	probe_end(s, true, "ok");
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
		probe_end(s, false, "wait: %s", strerror(errno));
		return;
	}
	s->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		probe_end(s, true, "ok");
	else if (WIFEXITED(status))
		probe_end(s, false, "exit %d", WEXITSTATUS(status));
	else
		probe_end(s, false, "signal %d", WTERMSIG(status));
}

/* The watch of every probe fd; stale events find nothing to do. */
static void on_probe(struct xlb_watch *w, uint32_t events)
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

	fd = socket(sp->addr.sa.sa_family,
		    (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
			    SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		probe_end(s, false, "socket: %s", strerror(errno));
		return;
	}
	/* From here probe_stop closes it. */
	s->fd = fd;
	s->phase = HC_CONNECT;
	sched_update(s);
	sp->out_done = sp->rx_len = sp->status = 0;
	sp->line_len = sp->carry_len = 0;
	sp->hdr_state = HDR_LINE;
	if (sp->mark &&
	    setsockopt(fd, SOL_SOCKET, SO_MARK, &sp->mark, sizeof(sp->mark))) {
		probe_end(s, false, "SO_MARK: %s", strerror(errno));
		return;
	}
	if (sp->ifname[0] && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE,
					sp->ifname, strlen(sp->ifname))) {
		probe_end(s, false, "SO_BINDTODEVICE: %s", strerror(errno));
		return;
	}
	if (sp->mss && !udp) {
		int mss = sp->mss;

		if (setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss,
			       sizeof(mss))) {
			probe_end(s, false, "TCP_MAXSEG: %s", strerror(errno));
			return;
		}
	}
	/*
	 * Edge-triggered: EPOLLOUT would otherwise fire for ever once
	 * connected; every handler reads until EAGAIN or a verdict.
	 */
	ev.events = udp ? EPOLLIN | EPOLLET : EPOLLIN | EPOLLOUT | EPOLLET;
	if (epoll_ctl(s->e->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		probe_end(s, false, "epoll: %s", strerror(errno));
		return;
	}
	if (connect(fd, &sp->addr.sa, sp->addr_len)) {
		if (errno != EINPROGRESS)
			probe_end(s, false, "connect: %s", strerror(errno));
		return;
	}
	if (!udp) {
		tcp_step(s);
		return;
	}
	n = send(fd, sp->sock.out, sp->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		probe_end(s, false, "send: %s", strerror(errno));
		return;
	}
	s->phase = HC_RECV;
}

static void exec_start(struct hc_check *s)
{
	struct hc_engine *e = s->e;
	struct hc_spec *sp = s->spec;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->watch};
	pid_t pid;
	int ret;

	ret = posix_spawn(&pid, "/bin/sh", &e->spawn_fa, &e->spawn_attr,
			  sp->exec.argv, sp->exec.envp);
	if (ret) {
		probe_end(s, false, "spawn: %s", strerror(ret));
		return;
	}
	/* From here probe_stop kills and reaps it. */
	s->pid = pid;
	s->phase = HC_WAIT;
	s->fd = syscall(SYS_pidfd_open, pid, 0);
	if (s->fd < 0) {
		probe_end(s, false, "pidfd_open: %s", strerror(errno));
		return;
	}
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, s->fd, &ev)) {
		probe_end(s, false, "epoll: %s", strerror(errno));
		return;
	}
	sched_update(s);
}

static void on_timer(struct xlb_watch *w, uint32_t events)
{
	struct hc_engine *e = container_of(w, struct hc_engine, timer_watch);
	__u64 ticks, now = now_ns();
	struct hc_check *s;
	ssize_t n;

	(void)events;
	/*
	 * Drains the expiry count; EAGAIN (a stale event) changes nothing:
	 * the heap says what is due either way.
	 */
	n = read(e->tfd, &ticks, sizeof(ticks));
	(void)n;
	e->armed = 0;
	for (int i = 0; i < HC_BATCH && e->heap_len && e->heap[0].key <= now;
	     i++) {
		s = slot_at(e, e->heap[0].slot);
		if (s->phase == HC_IDLE) {
			s->start = now_ns();
			advance(s, s->start);
			if (s->kind == XLB_CHECK_EXEC)
				exec_start(s);
			else
				sock_start(s);
		} else if (s->start + s->timeout_ms * NS_PER_MS <= now) {
			probe_end(s, false, "timeout");
		} else {
			/* Still running when due: skip, never stack. */
			advance(s, now);
			sched_update(s);
		}
	}
	arm(e);
}

/* ---- configuration ----------------------------------------------------- */

static char *put(char **p, const char *s, size_t n)
{
	char *at = *p;

	memcpy(at, s, n);
	at[n] = '\0';
	*p += n + 1;
	return at;
}

/* NAME=value, value at most max bytes (the target's arrays may be full). */
static char *put_env(char **p, const char *name, const char *val, int max)
{
	char *at = *p;

	*p += sprintf(at, "%s=%.*s", name, max, val) + 1;
	return at;
}

static bool path_ok(const char *path)
{
	for (; *path; path++)
		if ((unsigned char)*path <= ' ' || *path == 0x7f)
			return false;
	return true;
}

/* Builds what the probes of t need; 0 or -EINVAL, -ENOMEM. */
static int spec_new(const struct hc_target *t, struct hc_spec **out)
{
	const struct xlb_check_cfg *c = &t->cfg;
	size_t out_len = 0, match_len = 0, size;
	char host[XLB_ADDR_STRLEN + 8], req[512], port[8], *p;
	const char *out_str = "", *match = "", *path;
	struct hc_spec *sp;
	bool sock = c->kind != XLB_CHECK_EXEC;
	int n;

	if (c->kind < XLB_CHECK_TCP || c->kind > XLB_CHECK_EXEC ||
	    !c->interval_ms || !c->timeout_ms)
		return -EINVAL;
	if (sock && ((t->family != XLB_AF_INET && t->family != XLB_AF_INET6) ||
		     !t->port))
		return -EINVAL;
	if (c->kind == XLB_CHECK_HTTP) {
		char a[XLB_ADDR_STRLEN];

		path = c->http_path[0] ? c->http_path : "/";
		if (strnlen(c->http_path, sizeof(c->http_path)) >=
			    sizeof(c->http_path) ||
		    !path_ok(path))
			return -EINVAL;
		xlb_format_addr(&t->dst, t->family, a, sizeof(a));
		/* RFC 7230 Host: brackets for IPv6, the port unless 80. */
		snprintf(host, sizeof(host),
			 t->family == XLB_AF_INET6 ? "[%s]" : "%s", a);
		if (t->port != 80)
			snprintf(host + strlen(host),
				 sizeof(host) - strlen(host), ":%u", t->port);
		n = snprintf(req, sizeof(req),
			     "GET %s HTTP/1.0\r\nHost: %s\r\n"
			     "User-Agent: xlb-check\r\n"
			     "Connection: close\r\n\r\n",
			     path, host);
		if (n < 0 || (size_t)n >= sizeof(req))
			return -EINVAL;
		out_str = req;
		out_len = n;
		match = c->http_body;
		match_len = strnlen(c->http_body, sizeof(c->http_body) - 1);
	} else if (c->kind == XLB_CHECK_UDP) {
		out_str = c->udp_send;
		out_len = strnlen(c->udp_send, sizeof(c->udp_send));
		match = c->udp_expect;
		match_len = strnlen(c->udp_expect, sizeof(c->udp_expect) - 1);
	}
	if (sock) {
		/* out, match and the carry-over (match_len - 1 at most). */
		size = out_len + 1 + 2 * (match_len + 1);
	} else {
		if (!c->exec_cmd[0] ||
		    strnlen(c->exec_cmd, sizeof(c->exec_cmd)) >=
			    sizeof(c->exec_cmd))
			return -EINVAL;
		size = sizeof("sh") + sizeof("-c") + sizeof(c->exec_cmd) +
		       sizeof(HC_ENV_PATH) + sizeof(t->env_backend) +
		       sizeof(t->env_vip) + 3 * 16;
	}
	sp = calloc(1, sizeof(*sp) + size);
	if (!sp)
		return -ENOMEM;
	p = sp->data;
	sp->mark = t->mark;
	memcpy(sp->ifname, t->ifname, sizeof(sp->ifname));
	sp->ifname[sizeof(sp->ifname) - 1] = '\0';
	sp->mss = t->mss;
	sp->http_status = c->http_status ? c->http_status : 200;
	sp->out_len = out_len;
	sp->match_len = match_len;
	if (t->family == XLB_AF_INET6) {
		sp->addr.in6.sin6_family = AF_INET6;
		sp->addr.in6.sin6_port = htons(t->port);
		memcpy(&sp->addr.in6.sin6_addr, t->dst.bytes, 16);
		sp->addr_len = sizeof(sp->addr.in6);
	} else {
		sp->addr.in.sin_family = AF_INET;
		sp->addr.in.sin_port = htons(t->port);
		sp->addr.in.sin_addr.s_addr = t->dst.v4;
		sp->addr_len = sizeof(sp->addr.in);
	}
	if (sock) {
		sp->sock.out = put(&p, out_str, out_len);
		sp->sock.match = put(&p, match, match_len);
		sp->sock.carry = p;
	} else {
		sp->exec.argv[0] = put(&p, "sh", 2);
		sp->exec.argv[1] = put(&p, "-c", 2);
		sp->exec.argv[2] = put(&p, c->exec_cmd, strlen(c->exec_cmd));
		sp->exec.envp[0] = put(&p, HC_ENV_PATH, strlen(HC_ENV_PATH));
		snprintf(port, sizeof(port), "%u", t->port);
		sp->exec.envp[1] = put_env(&p, "XLB_BACKEND", t->env_backend,
					   sizeof(t->env_backend));
		sp->exec.envp[2] =
			put_env(&p, "XLB_VIP", t->env_vip, sizeof(t->env_vip));
		sp->exec.envp[3] = put_env(&p, "XLB_PORT", port, sizeof(port));
	}
	*out = sp;
	return 0;
}

/* Takes a slot, from the free list or a new chunk. */
static int slot_alloc(struct hc_engine *e, __u32 *idx)
{
	struct hc_check **chunks, *chunk;

	if (e->free_slot != HC_NONE) {
		*idx = e->free_slot;
		e->free_slot = slot_at(e, *idx)->heap_pos;
		return 0;
	}
	if (e->n_slots == e->n_chunks * HC_CHUNK) {
		chunks =
			realloc(e->chunks, (e->n_chunks + 1) * sizeof(*chunks));
		if (!chunks)
			return -ENOMEM;
		e->chunks = chunks;
		chunk = calloc(HC_CHUNK, sizeof(*chunk));
		if (!chunk)
			return -ENOMEM;
		for (__u32 i = 0; i < HC_CHUNK; i++) {
			chunk[i].watch.fn = on_probe;
			chunk[i].e = e;
			chunk[i].fd = -1;
		}
		e->chunks[e->n_chunks++] = chunk;
	}
	*idx = e->n_slots++;
	return 0;
}

int hc_engine_set(struct hc_engine *e, const struct hc_target *t)
{
	struct hc_map_ent *m;
	struct hc_spec *sp;
	struct hc_check *s;
	__u32 idx;
	int ret;

	ret = spec_new(t, &sp);
	if (ret)
		return ret;
	m = map_find(e, t->id);
	if (m) {
		s = slot_at(e, m->slot);
		probe_stop(s);
		free(s->spec);
	} else {
		ret = map_reserve(e);
		if (!ret)
			ret = heap_reserve(e);
		if (!ret)
			ret = slot_alloc(e, &idx);
		if (ret) {
			free(sp);
			return ret;
		}
		s = slot_at(e, idx);
		s->id = t->id;
		map_put(e->map, e->map_mask, t->id, idx);
		e->heap[e->heap_len] = (struct hc_heap_ent){.slot = idx};
		s->heap_pos = e->heap_len++;
		e->count++;
	}
	s->spec = sp;
	s->kind = t->cfg.kind;
	s->interval_ms = t->cfg.interval_ms;
	s->timeout_ms = t->cfg.timeout_ms;
	/* Spread over one interval by the id, so a batch does not burst. */
	s->next_run = now_ns() + mix64(t->id) % (s->interval_ms * NS_PER_MS);
	sched_update(s);
	arm(e);
	return 0;
}

void hc_engine_del(struct hc_engine *e, __u32 id)
{
	struct hc_map_ent *m = map_find(e, id);
	struct hc_check *s;
	__u32 idx;

	if (!m)
		return;
	idx = m->slot;
	s = slot_at(e, idx);
	probe_stop(s);
	heap_remove(e, s->heap_pos);
	map_remove(e, m);
	free(s->spec);
	s->spec = NULL;
	s->heap_pos = e->free_slot;
	e->free_slot = idx;
	e->count--;
}

size_t hc_engine_count(const struct hc_engine *e)
{
	return e->count;
}

struct hc_engine *hc_engine_new(int epfd, hc_result_fn fn, void *ctx)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct hc_engine *e;
	sigset_t set;
	int err;

	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->epfd = epfd;
	e->fn = fn;
	e->ctx = ctx;
	e->free_slot = HC_NONE;
	e->timer_watch.fn = on_timer;
	e->map_mask = 63;
	e->map = malloc((e->map_mask + 1) * sizeof(*e->map));
	if (!e->map)
		goto err_free;
	for (__u32 i = 0; i <= e->map_mask; i++)
		e->map[i].slot = HC_NONE;

	/*
	 * Children get their own process group (one kill reaches what the
	 * shell started), no blocked signals and default dispositions: xlbd
	 * blocks SIGTERM for its signalfd and ignores SIGPIPE, and both
	 * would otherwise outlive exec.
	 */
	if (posix_spawnattr_init(&e->spawn_attr))
		goto err_map;
	sigemptyset(&set);
	posix_spawnattr_setsigmask(&e->spawn_attr, &set);
	sigfillset(&set);
	posix_spawnattr_setsigdefault(&e->spawn_attr, &set);
	posix_spawnattr_setpgroup(&e->spawn_attr, 0);
	posix_spawnattr_setflags(
		&e->spawn_attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					POSIX_SPAWN_SETSIGDEF);
	if (posix_spawn_file_actions_init(&e->spawn_fa))
		goto err_attr;
	if (posix_spawn_file_actions_addopen(&e->spawn_fa, 0, "/dev/null",
					     O_RDONLY, 0) ||
	    posix_spawn_file_actions_addopen(&e->spawn_fa, 1, "/dev/null",
					     O_WRONLY, 0) ||
	    posix_spawn_file_actions_adddup2(&e->spawn_fa, 1, 2))
		goto err_fa;

	e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (e->tfd < 0)
		goto err_fa;
	ev.data.ptr = &e->timer_watch;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, e->tfd, &ev))
		goto err_tfd;
	return e;

err_tfd:
	err = errno;
	close(e->tfd);
	errno = err;
err_fa:
	posix_spawn_file_actions_destroy(&e->spawn_fa);
err_attr:
	posix_spawnattr_destroy(&e->spawn_attr);
err_map:
	free(e->map);
err_free:
	free(e);
	return NULL;
}

void hc_engine_free(struct hc_engine *e)
{
	struct hc_reap *r;

	if (!e)
		return;
	e->closing = true;
	for (__u32 i = 0; i < e->n_slots; i++) {
		struct hc_check *s = slot_at(e, i);

		probe_stop(s);
		free(s->spec);
	}
	while ((r = e->reaping)) {
		e->reaping = r->next;
		kill(-r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, r->pidfd, NULL);
		close(r->pidfd);
		free(r);
	}
	for (__u32 i = 0; i < e->n_chunks; i++)
		free(e->chunks[i]);
	free(e->chunks);
	epoll_ctl(e->epfd, EPOLL_CTL_DEL, e->tfd, NULL);
	close(e->tfd);
	posix_spawn_file_actions_destroy(&e->spawn_fa);
	posix_spawnattr_destroy(&e->spawn_attr);
	free(e->heap);
	free(e->map);
	free(e);
}
