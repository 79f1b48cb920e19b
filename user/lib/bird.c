// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * BIRD's control socket (see bird.h): a nonblocking connection whose every
 * wait is bounded by one deadline for the whole conversation, a pure
 * parser of reply lines, and the few commands xlbd needs. The replies
 * depend only on BIRD's reply codes and on the first words of a line, so
 * a column added to "show protocols" or a new time format does not break
 * them; anything else is reported, never guessed.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bird.h"
#include "clock.h"

/* Reply codes (BIRD's doc/reply_codes). */
#define BIRD_OK		 0    /* end of a successful reply */
#define BIRD_WELCOME	 1    /* greeting */
#define BIRD_PROTO_ROW	 1002 /* a row of "show protocols" */
#define BIRD_ROUTE_ROW	 1007 /* "Table X:" and its routes */
#define BIRD_NOT_FOUND	 8001 /* "Network not found" */
#define BIRD_NO_TABLES	 9001 /* also "No valid tables", "syntax error" */
#define BIRD_ERROR_FIRST 8000

/* One reply buffered: "show protocols" of hundreds of sessions fits. */
#define BIRD_BUF 65536

struct bird_conn {
	int fd;
	__u64 deadline; /* ms, xlb_now_ms() */
	size_t len;
	char buf[BIRD_BUF];
};

static const char *const route_names[] = {
	[XLB_BIRD_UNKNOWN] = "unknown",
	[XLB_BIRD_ABSENT] = "absent",
	[XLB_BIRD_PRESENT] = "present",
	[XLB_BIRD_EXPORTED] = "exported",
};

const char *xlb_bird_route_str(__u8 state)
{
	return state <= XLB_BIRD_EXPORTED ? route_names[state] : "?";
}

static int bad_line(struct xlb_err *err, const char *line, size_t len,
		    const char *why)
{
	xlb_err_set(err, "BIRD sent %s: '%.*s'", why,
		    (int)(len > 60 ? 60 : len), line);
	return -EPROTO;
}

/* "NNNN-" or "NNNN " (or a bare "NNNN"): the code, else -1. */
static int line_code(const char *line, size_t len)
{
	int code = 0;

	if (len < 4 || (len > 4 && line[4] != '-' && line[4] != ' '))
		return -1;
	for (int i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)line[i]))
			return -1;
		code = code * 10 + line[i] - '0';
	}
	return code;
}

int xlb_bird_parse_reply(const char *buf, size_t len, int *last,
			 xlb_bird_line_fn fn, void *ctx, struct xlb_err *err)
{
	size_t off = 0;
	int code = -1;

	while (off < len) {
		const char *line = buf + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t ll;

		if (!nl)
			return 0; /* the rest is still on its way */
		ll = nl - line;
		off += ll + 1;
		if (ll && line[0] == '+')
			continue; /* asynchronous, of no reply */
		if (ll && line[0] == ' ') {
			if (code < 0)
				return bad_line(err, line, ll,
						"a continuation of nothing");
			if (fn)
				fn(ctx, code, line + 1, ll - 1);
			continue;
		}
		code = line_code(line, ll);
		if (code < 0)
			return bad_line(err, line, ll, "no reply line");
		if (fn)
			fn(ctx, code, ll > 5 ? line + 5 : "",
			   ll > 5 ? ll - 5 : 0);
		if (ll == 4 || line[4] == ' ') {
			*last = code;
			return off > (size_t)__INT_MAX__ ? -EPROTO : (int)off;
		}
	}
	return 0;
}

/* Waits until fd is ready for ev or the conversation's deadline passed. */
static int bird_wait(struct bird_conn *c, short ev)
{
	struct pollfd p = {.fd = c->fd, .events = ev};
	__u64 now = xlb_now_ms();
	int r;

	if (now >= c->deadline)
		return -ETIMEDOUT;
	r = poll(&p, 1, c->deadline - now);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r ? 0 : -ETIMEDOUT;
}

static int bird_send(struct bird_conn *c, const char *cmd)
{
	char line[256];
	int len = snprintf(line, sizeof(line), "%s\n", cmd), ret;

	if (len >= (int)sizeof(line))
		return -ENAMETOOLONG;
	for (int off = 0; off < len;) {
		ssize_t w = send(c->fd, line + off, len - off, MSG_NOSIGNAL);

		if (w > 0) {
			off += w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		ret = bird_wait(c, POLLOUT);
		if (ret)
			return ret;
	}
	return 0;
}

/* Forwards every line to the caller's fn and keeps the last one's text. */
struct reply_ctx {
	xlb_bird_line_fn fn;
	void *ctx;
	char last[128];
};

static void reply_line(void *ctx, int code, const char *text, size_t len)
{
	struct reply_ctx *r = ctx;

	snprintf(r->last, sizeof(r->last), "%.*s", (int)len, text);
	if (r->fn)
		r->fn(r->ctx, code, text, len);
}

/*
 * Reads until one whole reply is in, then hands its lines to r (fn sees
 * only complete replies) and drops it from the buffer: 0 and its code.
 */
static int bird_reply(struct bird_conn *c, int *code, struct reply_ctx *r,
		      struct xlb_err *err)
{
	for (;;) {
		int n = xlb_bird_parse_reply(c->buf, c->len, code, NULL, NULL,
					     err);
		ssize_t got;

		if (n < 0)
			return n;
		if (n > 0) {
			xlb_bird_parse_reply(c->buf, n, code, reply_line, r,
					     NULL);
			c->len -= n;
			memmove(c->buf, c->buf + n, c->len);
			return 0;
		}
		if (c->len == sizeof(c->buf)) {
			xlb_err_set(err, "BIRD's reply exceeds %d bytes",
				    BIRD_BUF);
			return -EMSGSIZE;
		}
		got = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (got > 0) {
			c->len += got;
			continue;
		}
		if (!got) {
			xlb_err_set(err, "BIRD closed the connection");
			return -ECONNRESET;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		n = bird_wait(c, POLLIN);
		if (n)
			return n;
	}
}

/* One command and its reply; r->last holds the reply's last line. */
static int bird_command(struct bird_conn *c, const char *cmd, int *code,
			struct reply_ctx *r, struct xlb_err *err)
{
	int ret = bird_send(c, cmd);

	if (!ret)
		ret = bird_reply(c, code, r, err);
	if (ret && ret != -EPROTO && ret != -EMSGSIZE && ret != -ECONNRESET)
		xlb_err_set(err, "%s", strerror(-ret));
	if (ret)
		xlb_err_prefix(err, cmd);
	return ret;
}

static void bird_close(struct bird_conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

/* Every error of a public call starts "BIRD at PATH: ". */
static int bird_fail(struct xlb_err *err, const char *path, int ret)
{
	char what[128];

	if (ret) {
		snprintf(what, sizeof(what), "BIRD at %s", path);
		xlb_err_prefix(err, what);
	}
	return ret;
}

/* Connects and reads the greeting, all within timeout_ms. */
static int bird_open(const char *path, unsigned timeout_ms,
		     struct bird_conn **out, struct xlb_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct reply_ctx r = {0};
	struct bird_conn *c;
	int ret, code;

	*out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		xlb_err_set(err, "path too long");
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->len = 0;
	c->deadline = xlb_now_ms() + timeout_ms;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		ret = -errno;
		free(c);
		xlb_err_set(err, "%s", strerror(-ret));
		return ret;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		xlb_err_set(err, "%s", strerror(-ret));
		goto err_close;
	}
	ret = bird_reply(c, &code, &r, err);
	if (!ret && code != BIRD_WELCOME) {
		xlb_err_set(err, "greeted with %04d %s", code, r.last);
		ret = -EPROTO;
	}
	if (ret) {
		if (ret != -EPROTO && ret != -ECONNRESET)
			xlb_err_set(err, "%s", strerror(-ret));
		goto err_close;
	}
	*out = c;
	return 0;

err_close:
	bird_close(c);
	return ret;
}

/* What "show protocols" collects: the rows of BGP and BFD protocols. */
struct protos_ctx {
	struct xlb_bird_proto *v;
	size_t n, cap;
	size_t info_col; /* where the header puts "Info"; 0: not seen */
	int ret;	 /* -ENOMEM once a row did not fit */
};

/* A row's words: name, proto, table, state, since... then Info. */
static bool parse_proto_row(const char *text, size_t len, size_t info_col,
			    struct xlb_bird_proto *p)
{
	char row[512], table[64];
	size_t i;

	snprintf(row, sizeof(row), "%.*s", (int)len, text);
	memset(p, 0, sizeof(*p));
	if (sscanf(row, "%63s %15s %63s %15s", p->name, p->proto, table,
		   p->state) != 4)
		return false;
	/* The info column: where the header says, trimmed. */
	if (info_col && info_col < strlen(row)) {
		for (i = strlen(row); i > info_col && row[i - 1] == ' '; i--)
			;
		snprintf(p->info, sizeof(p->info), "%.*s", (int)(i - info_col),
			 row + info_col);
	}
	return true;
}

static void protos_line(void *ctx, int code, const char *text, size_t len)
{
	struct protos_ctx *c = ctx;
	struct xlb_bird_proto p, *v;
	const char *info;

	if (code == 2002) { /* the header */
		info = memmem(text, len, "Info", 4);
		c->info_col = info ? (size_t)(info - text) : 0;
		return;
	}
	if (code != BIRD_PROTO_ROW || c->ret ||
	    !parse_proto_row(text, len, c->info_col, &p) ||
	    (strcmp(p.proto, "BGP") && strcmp(p.proto, "BFD")))
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;

		v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->ret = -ENOMEM;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = p;
}

/* "show protocols" on an open connection. */
static int bird_protos(struct bird_conn *c, struct protos_ctx *pc,
		       struct xlb_err *err)
{
	struct reply_ctx r = {.fn = protos_line, .ctx = pc};
	int ret, code;

	ret = bird_command(c, "show protocols", &code, &r, err);
	if (!ret && code != BIRD_OK) {
		xlb_err_set(err, "show protocols: %04d %s", code, r.last);
		ret = -EPROTO;
	}
	if (!ret)
		ret = pc->ret;
	if (ret) {
		free(pc->v);
		pc->v = NULL;
		pc->n = 0;
	}
	return ret;
}

int xlb_bird_protocols(const char *sock, unsigned timeout_ms,
		       struct xlb_bird_proto **out, size_t *n,
		       struct xlb_err *err)
{
	struct protos_ctx pc = {0};
	struct bird_conn *c;
	int ret;

	*out = NULL;
	*n = 0;
	ret = bird_open(sock, timeout_ms, &c, err);
	if (ret)
		return bird_fail(err, sock, ret);
	ret = bird_protos(c, &pc, err);
	bird_close(c);
	if (!ret) {
		*out = pc.v;
		*n = pc.n;
	}
	return bird_fail(err, sock, ret);
}

/* Counts the routes of a "show route" reply that are for net. */
struct route_ctx {
	char net[INET6_ADDRSTRLEN + 8];
	size_t hits;
};

static void route_line(void *ctx, int code, const char *text, size_t len)
{
	struct route_ctx *r = ctx;
	size_t nl = strlen(r->net);

	/* Route rows begin with the network; "Table master4:" does not. */
	if (code == BIRD_ROUTE_ROW && len > nl && !memcmp(text, r->net, nl) &&
	    (text[nl] == ' ' || text[nl] == '\t'))
		r->hits++;
}

/*
 * One "show route NET[ export P]": 1 if BIRD shows the route, 0 if not
 * ("Network not found", an empty reply, or "No valid tables": P has no
 * channel of NET's type up), -EBADMSG for any other answer (the
 * conversation is still in step), or the error of the conversation.
 */
static int bird_route(struct bird_conn *c, const char *net, const char *proto,
		      struct xlb_err *err)
{
	struct route_ctx rc = {0};
	struct reply_ctx r = {.fn = route_line, .ctx = &rc};
	char cmd[192];
	int ret, code;

	snprintf(rc.net, sizeof(rc.net), "%s", net);
	if (proto)
		snprintf(cmd, sizeof(cmd), "show route %s export %s", net,
			 proto);
	else
		snprintf(cmd, sizeof(cmd), "show route %s", net);
	ret = bird_command(c, cmd, &code, &r, err);
	if (ret)
		return ret;
	if (code == BIRD_OK)
		return rc.hits > 0;
	if (code == BIRD_NOT_FOUND || (proto && code == BIRD_NO_TABLES &&
				       !strcmp(r.last, "No valid tables")))
		return 0;
	xlb_err_set(err, "%s: %04d %s", cmd, code, r.last);
	return -EBADMSG;
}

/* Is there a BGP protocol up that exports the route of net? */
static int bird_exported(struct bird_conn *c, const char *net,
			 const struct protos_ctx *pc, struct xlb_err *err)
{
	for (size_t i = 0; i < pc->n; i++) {
		const struct xlb_bird_proto *p = &pc->v[i];
		int ret;

		if (strcmp(p->proto, "BGP") || strcmp(p->state, "up"))
			continue;
		ret = bird_route(c, net, p->name, err);
		/* An answer about one session we cannot read: try the next. */
		if (ret == -EBADMSG)
			continue;
		if (ret)
			return ret;
	}
	return 0;
}

/* The state of one address, or the error that leaves it UNKNOWN. */
static int query_one(struct bird_conn *c, const struct xlb_route_entry *e,
		     const struct protos_ctx *pc, __u8 *state,
		     struct xlb_err *err)
{
	char a[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN + 8];
	int ret;

	xlb_route_addr_str(e->family, &e->addr, a, sizeof(a));
	snprintf(net, sizeof(net), "%s/%d", a,
		 e->family == XLB_AF_INET6 ? 128 : 32);
	ret = bird_route(c, net, NULL, err);
	if (ret < 0)
		return ret;
	*state = ret ? XLB_BIRD_PRESENT : XLB_BIRD_ABSENT;
	if (!ret)
		return 0;
	ret = bird_exported(c, net, pc, err);
	if (ret < 0)
		return ret;
	if (ret)
		*state = XLB_BIRD_EXPORTED;
	return 0;
}

int xlb_bird_query(const char *sock, const struct xlb_route_entry *addrs,
		   size_t n, unsigned timeout_ms, __u8 *state,
		   struct xlb_err *err)
{
	struct xlb_err spare = {{0}};
	struct protos_ctx pc = {0};
	struct bird_conn *c;
	int ret, first = 0;

	memset(state, XLB_BIRD_UNKNOWN, n);
	ret = bird_open(sock, timeout_ms, &c, err);
	if (!ret)
		ret = bird_protos(c, &pc, err);
	for (size_t i = 0; !ret && i < n; i++) {
		ret = query_one(c, &addrs[i], &pc, &state[i],
				first ? &spare : err);
		/* One reply not understood: the others may still be. */
		if (ret == -EBADMSG) {
			state[i] = XLB_BIRD_UNKNOWN;
			first = first ? first : ret;
			ret = 0;
		}
	}
	if (ret && first) /* the conversation broke: say that, not the first */
		xlb_err_set(err, "%s", spare.msg);
	free(pc.v);
	bird_close(c);
	return bird_fail(err, sock, ret ? ret : first);
}
