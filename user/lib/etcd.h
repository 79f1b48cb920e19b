/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A small etcd v3 client over etcd's JSON gateway (/v3/..., libcurl and
 * jansson), for xlbd's cluster mode: desired config in etcd, node
 * advertisements bound to a lease (the heartbeat), a watch on the
 * cluster's prefix.
 *
 * Every function returns 0 or a negative errno and says in err "what
 * failed: why" (the endpoint, the HTTP status, etcd's own message).
 *
 * Endpoints: a unary call tries the endpoint that answered last first,
 * then the others in turn; it moves on when a connection fails, times
 * out (timeout_ms per request) or answers 5xx, and fails only when every
 * endpoint failed. An answer from etcd that refuses the request (a 4xx
 * with etcd's error) is final: it is the cluster's answer, not a node's
 * trouble. etcd's gRPC codes map to errnos: InvalidArgument -EINVAL,
 * NotFound -ENOENT, AlreadyExists -EEXIST, PermissionDenied and
 * Unauthenticated -EACCES, OutOfRange (a compacted or future revision)
 * -ERANGE, FailedPrecondition -EPERM, ResourceExhausted -ENOSPC,
 * DeadlineExceeded -ETIMEDOUT, Unavailable -EAGAIN, others -EIO.
 *
 * Threads: one struct xlb_etcd may be used by several threads at once
 * (say a watch in one and unary calls in another): every call has its
 * own curl handle; the endpoint that answered last and the auth token
 * are behind a lock.
 */
#ifndef XLB_ETCD_H
#define XLB_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Connection settings; strings are copied. */
struct xlb_etcd_opts {
	const char *endpoints;		 /* "http://h:p[,http://h2:p2...]" */
	const char *cacert, *cert, *key; /* TLS files, NULL: none */
	const char *user, *password;	 /* etcd auth, NULL: none */
	unsigned timeout_ms;		 /* per unary request; 0: 2000 */
};

struct xlb_etcd;

/*
 * Endpoints are http:// or https:// URLs with a host and a port, no
 * path; anything else is -EINVAL with the endpoint named. Nothing is
 * sent yet: an unreachable cluster shows at the first call.
 */
int xlb_etcd_new(const struct xlb_etcd_opts *o, struct xlb_etcd **out,
		 struct xlb_err *err);
void xlb_etcd_free(struct xlb_etcd *c);

struct xlb_etcd_kv {
	char *key;	  /* NUL-terminated */
	char *value;	  /* NUL-terminated too (value_len excludes it) */
	size_t value_len; /* values are binary-safe: they may hold NULs */
	int64_t create_rev, mod_rev, version, lease;
};

struct xlb_etcd_kvs {
	struct xlb_etcd_kv *kv;
	size_t n;
	int64_t revision; /* the response header's revision */
};

/* Frees what a get filled and zeroes *kvs; safe on a zeroed struct. */
void xlb_etcd_kvs_free(struct xlb_etcd_kvs *kvs);

/*
 * Range: one key, or every key that starts with key (prefix=true; "/a/b/"
 * then holds "/a/b/c" but not "/a/bx"; "" every key), one consistent read
 * at one revision, keys in byte order. A missing key is n == 0, not an
 * error.
 */
int xlb_etcd_get(struct xlb_etcd *c, const char *key, bool prefix,
		 struct xlb_etcd_kvs *out, struct xlb_err *err);
/* Put, lease 0 = none. *rev (may be NULL) = header revision of the write. */
int xlb_etcd_put(struct xlb_etcd *c, const char *key, const void *val,
		 size_t len, int64_t lease, int64_t *rev, struct xlb_err *err);
/*
 * Compare-and-put in one txn: succeeds only if key's mod_revision ==
 * expect_mod_rev (0: the key must not exist). -ECANCELED when the compare
 * failed (nothing written), with err saying so.
 */
int xlb_etcd_put_if(struct xlb_etcd *c, const char *key, const void *val,
		    size_t len, int64_t expect_mod_rev, int64_t *rev,
		    struct xlb_err *err);
/* Deleting nothing is no error. */
int xlb_etcd_delete(struct xlb_etcd *c, const char *key, bool prefix,
		    int64_t *rev, struct xlb_err *err);
int xlb_etcd_lease_grant(struct xlb_etcd *c, int ttl_s, int64_t *id,
			 struct xlb_err *err);
/*
 * One keep-alive round trip: 0 with *ttl_s the TTL renewed, -ENOENT if
 * the lease has expired or was revoked.
 */
int xlb_etcd_lease_keepalive(struct xlb_etcd *c, int64_t id, int *ttl_s,
			     struct xlb_err *err);
/* -ENOENT when there is no such lease (any more). */
int xlb_etcd_lease_revoke(struct xlb_etcd *c, int64_t id, struct xlb_err *err);
/* For tests and operators; -ERANGE when rev is compacted already. */
int xlb_etcd_compact(struct xlb_etcd *c, int64_t rev, struct xlb_err *err);

enum xlb_etcd_ev_type { XLB_ETCD_PUT = 0, XLB_ETCD_DELETE = 1 };

struct xlb_etcd_event {
	int type;	       /* enum xlb_etcd_ev_type */
	struct xlb_etcd_kv kv; /* DELETE: key and mod_rev (the delete's) */
};

/*
 * Called per watch response that carries events (n >= 1), in order;
 * header_rev is the response's header revision. The events are freed
 * when it returns. Return 0 to go on, anything else to end the watch
 * (xlb_etcd_watch returns that value).
 */
typedef int (*xlb_etcd_watch_fn)(void *ctx, const struct xlb_etcd_event *ev,
				 size_t n, int64_t header_rev);

/*
 * Blocking watch of every key under prefix from start_rev (inclusive).
 * Returns:
 * - the callback's nonzero value when it ended the watch;
 * - -ESTALE when etcd cancelled the watch because start_rev is
 *   compacted, with *compact_rev (may be NULL) set: the caller must
 *   re-read the whole state;
 * - -ECONNRESET, -ETIMEDOUT, -EIO... when the stream broke, etcd lost its
 *   leader (the stream ends a few seconds after quorum loss) or nothing
 *   arrived for idle_ms (0: 15000); -ECONNREFUSED etc. when no endpoint
 *   took the watch;
 * - -EACCES when etcd refused the user (a token it forgot is renewed
 *   once, as for unary calls), -ECANCELED when it cancelled the watch
 *   for another reason (err has etcd's);
 * - -EINTR when *stop (may be NULL) became nonzero, seen within 100 ms.
 * A quiet stream stays alive: the watch asks etcd for a progress
 * notification whenever nothing arrived for a third of idle_ms.
 */
int xlb_etcd_watch(struct xlb_etcd *c, const char *prefix, int64_t start_rev,
		   unsigned idle_ms, const volatile int *stop,
		   xlb_etcd_watch_fn fn, void *ctx, int64_t *compact_rev,
		   struct xlb_err *err);

/* The endpoint that answered last, for logs and status. */
const char *xlb_etcd_endpoint(const struct xlb_etcd *c);

#endif /* XLB_ETCD_H */
