// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The etcd client's watch (see etcd.h): one streaming POST to /v3/watch
 * that stays open. The gateway answers one JSON object per line, which
 * may come cut across curl's writes; it reads requests from the body the
 * same way, so the body is sent chunked and kept open: after the
 * create_request it carries a progress_request whenever the stream was
 * quiet for a while (etcd's own progress notifications come every ten
 * minutes by default, far too rarely to tell a quiet stream from a dead
 * one). The transfer runs in a curl multi handle polled every 100 ms, so
 * that the stop flag and the idle deadline are seen in time whatever
 * curl is waiting for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "etcd_priv.h"

#define WATCH_POLL_MS 100

struct watch {
	CURL *e;
	curl_socket_t fd; /* the connection's, -1: none yet */
	const char *ep;
	xlb_etcd_watch_fn fn;
	void *ctx;
	struct etcd_buf in;  /* received, not yet a whole line */
	struct etcd_buf out; /* requests to send, from out_off on */
	size_t out_off;
	bool out_paused; /* the read callback paused the upload */
	bool got;	 /* etcd answered: no other endpoint to try */
	bool end;	 /* ret is the watch's result */
	int ret;
	__u64 last_rx, last_ask;
	int64_t *compact_rev;
	struct xlb_err *err;
};

/* Ends the watch with ret (the first reason wins). */
static void watch_end(struct watch *w, int ret)
{
	if (w->end)
		return;
	w->end = true;
	w->ret = ret;
}

static int events_call(struct watch *w, const json_t *evs, int64_t hrev)
{
	size_t n = json_array_size(evs), i;
	struct xlb_etcd_event *ev = calloc(n, sizeof(*ev));
	const json_t *e;
	int ret = 0;

	if (!ev) {
		xlb_err_set(w->err, "watch: out of memory");
		return -ENOMEM;
	}
	json_array_foreach(evs, i, e)
	{
		const char *t = json_string_value(json_object_get(e, "type"));

		/* PUT is type 0: the gateway leaves it out. */
		ev[i].type = t && !strcmp(t, "DELETE") ? XLB_ETCD_DELETE
						       : XLB_ETCD_PUT;
		if (etcd_kv_parse(json_object_get(e, "kv"), &ev[i].kv)) {
			xlb_err_set(w->err, "watch: %s: a malformed event",
				    w->ep);
			ret = -EIO;
			goto out;
		}
	}
	ret = w->fn(w->ctx, ev, n, hrev);
out:
	for (i = 0; i < n; i++)
		etcd_kv_clear(&ev[i].kv);
	free(ev);
	return ret;
}

/*
 * The errno of a cancelled watch: etcd says why in a gRPC error's text
 * ("rpc error: code = Unauthenticated desc = ..."). A forgotten token
 * has its own, so that the watch authenticates again.
 */
static int cancel_errno(const char *why)
{
	if (!why)
		return -ECANCELED;
	if (strstr(why, "invalid auth token"))
		return -EKEYEXPIRED;
	if (strstr(why, "code = Unauthenticated") ||
	    strstr(why, "code = PermissionDenied"))
		return -EACCES;
	return -ECANCELED;
}

/* A result: events for the callback, or the watch cancelled. */
static void on_result(struct watch *w, const json_t *r)
{
	int64_t hrev = etcd_int(json_object_get(r, "header"), "revision");
	const json_t *evs = json_object_get(r, "events");
	int64_t crev = etcd_int(r, "compact_revision");
	const char *why;
	int ret;

	if (json_is_true(json_object_get(r, "canceled"))) {
		if (crev > 0) {
			if (w->compact_rev)
				*w->compact_rev = crev;
			xlb_err_set(w->err,
				    "watch: %s: the start revision is "
				    "compacted (up to %lld)",
				    w->ep, (long long)crev);
			watch_end(w, -ESTALE);
			return;
		}
		why = json_string_value(json_object_get(r, "cancel_reason"));
		xlb_err_set(w->err, "watch: %s: cancelled by etcd: %s", w->ep,
			    why ?: "no reason given");
		watch_end(w, cancel_errno(why));
		return;
	}
	if (!json_array_size(evs))
		return; /* created or progress: the stream is alive */
	ret = events_call(w, evs, hrev);
	if (ret)
		watch_end(w, ret);
}

static void on_line(struct watch *w, const char *line, size_t len)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	const json_t *r = json_object_get(j, "result");
	char *s;

	if (json_is_object(r)) {
		on_result(w, r);
	} else if (j) {
		r = json_object_get(j, "error");
		s = json_dumps(json_is_object(r) ? r : j, JSON_COMPACT);
		watch_end(w, etcd_answer_error(w->ep, 200, s ? s : "",
					       s ? strlen(s) : 0, w->err));
		xlb_err_prefix(w->err, "watch");
		free(s);
	} else {
		xlb_err_set(w->err, "watch: %s: a line not JSON: %.40s", w->ep,
			    line);
		watch_end(w, -EIO);
	}
	json_decref(j);
}

static size_t watch_write(char *d, size_t sz, size_t n, void *ud)
{
	struct watch *w = ud;
	long status = 0;
	char *nl;
	size_t k;

	w->last_rx = xlb_now_ms();
	if (etcd_buf_add(&w->in, d, sz * n)) {
		xlb_err_set(w->err, "watch: out of memory");
		watch_end(w, -ENOMEM);
		return 0;
	}
	/* An error answer is read whole when the transfer ends. */
	curl_easy_getinfo(w->e, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return sz * n;
	w->got = true;
	while (!w->end && (nl = memchr(w->in.p, '\n', w->in.len))) {
		k = (size_t)(nl - w->in.p) + 1;
		on_line(w, w->in.p, k - 1);
		memmove(w->in.p, w->in.p + k, w->in.len - k + 1);
		w->in.len -= k;
	}
	/* A slow callback is not a quiet stream. */
	w->last_rx = xlb_now_ms();
	return w->end ? 0 : sz * n;
}

/* The request body: what is queued, then a pause until there is more. */
static size_t watch_read(char *d, size_t sz, size_t n, void *ud)
{
	struct watch *w = ud;
	size_t k = w->out.len - w->out_off;

	if (!k) {
		w->out_paused = true;
		return CURL_READFUNC_PAUSE;
	}
	if (k > sz * n)
		k = sz * n;
	memcpy(d, w->out.p + w->out_off, k);
	w->out_off += k;
	return k;
}

/* Queues one request line and wakes the upload up if it sleeps. */
static int watch_send(struct watch *w, const json_t *req)
{
	char *s = json_dumps(req, JSON_COMPACT);
	int ret = -ENOMEM;

	if (s && !etcd_buf_add(&w->out, s, strlen(s)) &&
	    !etcd_buf_add(&w->out, "\n", 1))
		ret = 0;
	free(s);
	if (!ret && w->out_paused) {
		w->out_paused = false;
		curl_easy_pause(w->e, CURLPAUSE_CONT);
	}
	return ret;
}

/* How a transfer that ended by itself ends the watch. */
static void transfer_done(struct watch *w, CURLcode cr, const char *why)
{
	long status = 0;

	if (w->end)
		return; /* it was ended from a callback */
	curl_easy_getinfo(w->e, CURLINFO_RESPONSE_CODE, &status);
	if (cr == CURLE_OK && status != 200) {
		watch_end(w, etcd_answer_error(w->ep, status, w->in.p,
					       w->in.len, w->err));
		w->got = status < 500; /* a refusal is etcd's answer */
		xlb_err_prefix(w->err, "watch");
		return;
	}
	if (cr == CURLE_OK) {
		xlb_err_set(w->err, "watch: %s: etcd ended the stream", w->ep);
		watch_end(w, -ECONNRESET);
		return;
	}
	xlb_err_set(w->err, "watch: %s: %s", w->ep,
		    why[0] ? why : curl_easy_strerror(cr));
	watch_end(w, cr == CURLE_COULDNT_CONNECT      ? -ECONNREFUSED
		     : cr == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
						      : -ECONNRESET);
}

/* Keeps the socket (CURLINFO_ACTIVESOCKET has it only once done). */
static int watch_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose)
{
	struct watch *w = ud;

	if (purpose == CURLSOCKTYPE_IPCXN)
		w->fd = fd;
	return CURL_SOCKOPT_OK;
}

/*
 * Whether etcd closed the connection. curl (7.88) does not look for the
 * end of the answer while the body it sends is paused: without this, a
 * member killed under a quiet watch would show only at the next progress
 * request.
 */
static bool peer_closed(struct watch *w)
{
	ssize_t r;
	char b;

	if (w->fd < 0)
		return false;
	/* 0: an orderly close; an error: a reset (a killed process). */
	r = recv(w->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR);
}

/*
 * Between transfers' turns: the stop flag, the idle deadline, the
 * connection, and a progress request when the stream has been quiet for
 * idle_ms / 3.
 */
static void watch_tick(struct watch *w, unsigned idle_ms,
		       const volatile int *stop)
{
	static const char ask[] = "{\"progress_request\":{}}";
	__u64 now = xlb_now_ms();
	json_t *req;

	/* Atomic, not only volatile: set by another thread. */
	if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED)) {
		xlb_err_set(w->err, "watch: stopped");
		watch_end(w, -EINTR);
	} else if (now - w->last_rx >= idle_ms) {
		xlb_err_set(w->err, "watch: %s: nothing for %u ms", w->ep,
			    idle_ms);
		watch_end(w, -ETIMEDOUT);
	} else if (w->got && peer_closed(w)) {
		xlb_err_set(w->err, "watch: %s: etcd closed the connection",
			    w->ep);
		watch_end(w, -ECONNRESET);
	} else if (w->got && now - w->last_rx >= idle_ms / 3 &&
		   now - w->last_ask >= idle_ms / 3) {
		w->last_ask = now;
		req = json_loads(ask, 0, NULL);
		if (!req || watch_send(w, req)) {
			xlb_err_set(w->err, "watch: out of memory");
			watch_end(w, -ENOMEM);
		}
		json_decref(req);
	}
}

/* Runs the transfer w->e until the watch ends. */
static void watch_run(struct watch *w, unsigned idle_ms,
		      const volatile int *stop, const char *why)
{
	CURLM *m = curl_multi_init();
	const CURLMsg *msg;
	int running = 1, left;

	if (!m || curl_multi_add_handle(m, w->e)) {
		xlb_err_set(w->err, "watch: out of memory");
		watch_end(w, -ENOMEM);
	}
	while (!w->end) {
		if (curl_multi_perform(m, &running)) {
			xlb_err_set(w->err, "watch: curl_multi_perform failed");
			watch_end(w, -EIO);
			break;
		}
		while ((msg = curl_multi_info_read(m, &left)))
			if (msg->msg == CURLMSG_DONE)
				transfer_done(w, msg->data.result, why);
		if (w->end || !running)
			break;
		watch_tick(w, idle_ms, stop);
		if (!w->end)
			curl_multi_poll(m, NULL, 0, WATCH_POLL_MS, NULL);
	}
	if (m) {
		curl_multi_remove_handle(m, w->e);
		curl_multi_cleanup(m);
	}
}

/* {"create_request": {...}}: the prefix from start_rev, with progress. */
static json_t *create_req(const char *prefix, int64_t start_rev)
{
	json_t *cr = json_pack("{sb}", "progress_notify", 1);
	char num[24];

	snprintf(num, sizeof(num), "%lld", (long long)start_rev);
	if (cr && (etcd_set_key(cr, prefix, true) ||
		   (start_rev > 0 && json_object_set_new(cr, "start_revision",
							 json_string(num))))) {
		json_decref(cr);
		return NULL;
	}
	return cr ? json_pack("{so}", "create_request", cr) : NULL;
}

/* The watch on endpoint i; w->got when etcd answered there. */
static int watch_at(struct xlb_etcd *c, size_t i, const json_t *req,
		    const char *tok, struct watch *w, unsigned idle_ms,
		    const volatile int *stop)
{
	/*
	 * hasleader: etcd ends the stream when its member loses quorum,
	 * instead of leaving it open and silent. curl's own "Expect:
	 * 100-continue" stays: without it (curl 7.88) no answer is read
	 * while the body is paused, open.
	 */
	struct curl_slist *h, *hdrs = NULL;
	char why[CURL_ERROR_SIZE];

	w->ep = c->eps[i];
	w->last_rx = w->last_ask = xlb_now_ms();
	h = curl_slist_append(NULL, "Grpc-Metadata-hasleader: true");
	hdrs = h ? curl_slist_append(h, "Transfer-Encoding: chunked") : NULL;
	w->e = hdrs ? etcd_easy(c, i, "/v3/watch", tok, true, &hdrs, why)
		    : NULL;
	if (!w->e || watch_send(w, req)) {
		xlb_err_set(w->err, "watch: out of memory");
		watch_end(w, -ENOMEM);
		goto out;
	}
	curl_easy_setopt(w->e, CURLOPT_READFUNCTION, watch_read);
	curl_easy_setopt(w->e, CURLOPT_READDATA, w);
	curl_easy_setopt(w->e, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(w->e, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->e, CURLOPT_SOCKOPTFUNCTION, watch_sockopt);
	curl_easy_setopt(w->e, CURLOPT_SOCKOPTDATA, w);
	watch_run(w, idle_ms, stop, why);
out:
	curl_easy_cleanup(w->e);
	curl_slist_free_all(hdrs ? hdrs : h);
	return w->ret;
}

/*
 * The watch on endpoint i with a fresh struct watch, authenticating
 * again once if etcd forgot the token. *next when another endpoint may
 * do better.
 */
static int watch_ep(struct xlb_etcd *c, size_t i, const json_t *req,
		    struct watch *proto, unsigned idle_ms,
		    const volatile int *stop, bool *next)
{
	struct watch w;
	char *tok;
	int ret;

	for (int tries = 0; tries < 2; tries++) {
		w = *proto;
		ret = etcd_token(c, i, tries > 0, &tok, next, w.err);
		if (ret)
			break;
		ret = watch_at(c, i, req, tok, &w, idle_ms, stop);
		*next = !w.got && ret != -EINTR && ret != -ENOMEM;
		free(tok);
		etcd_buf_free(&w.in);
		etcd_buf_free(&w.out);
		if (w.got)
			etcd_answered(c, i);
		if (ret != -EKEYEXPIRED)
			break;
	}
	return ret == -EKEYEXPIRED ? -EACCES : ret;
}

int xlb_etcd_watch(struct xlb_etcd *c, const char *prefix, int64_t start_rev,
		   unsigned idle_ms, const volatile int *stop,
		   xlb_etcd_watch_fn fn, void *ctx, int64_t *compact_rev,
		   struct xlb_err *err)
{
	struct watch proto = {.fn = fn, .ctx = ctx, .err = err, .fd = -1};
	json_t *req = create_req(prefix, start_rev);
	size_t first = etcd_first(c);
	struct etcd_whys why = {.len = 0};
	bool next = true;
	int ret = -ENOMEM;

	proto.compact_rev = compact_rev;
	idle_ms = idle_ms ? idle_ms : 15000;
	/* Until one endpoint answers, the others get their turn. */
	for (size_t k = 0; req && next && k < c->n_eps; k++) {
		ret = watch_ep(c, (first + k) % c->n_eps, req, &proto, idle_ms,
			       stop, &next);
		if (next)
			etcd_why_add(&why, err);
	}
	if (!req)
		xlb_err_set(err, "watch: out of memory");
	else if (ret && next)
		xlb_err_set(err, "watch: no etcd endpoint answered: %s",
			    why.msg);
	json_decref(req);
	return ret;
}
