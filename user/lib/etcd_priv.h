/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * What the etcd client's files share (etcd.c: connection, HTTP and
 * encodings; etcd_kv.c: the unary calls; etcd_watch.c: the watch
 * stream), and no one else sees.
 */
#ifndef XLB_ETCD_PRIV_H
#define XLB_ETCD_PRIV_H

#include <pthread.h>
#include <curl/curl.h>
#include <jansson.h>

#include "etcd.h"

struct xlb_etcd {
	char **eps; /* endpoint URLs, without a trailing '/' */
	size_t n_eps;
	char *cacert, *cert, *key, *user, *password;
	unsigned timeout_ms;
	pthread_mutex_t lock; /* guards cur and token: calls run in threads */
	size_t cur;	      /* the endpoint that answered last */
	char *token;	      /* etcd's auth token, NULL: none yet */
};

/* A growing byte buffer, always NUL-terminated once it holds anything. */
struct etcd_buf {
	char *p;
	size_t len, cap;
};

int etcd_buf_add(struct etcd_buf *b, const void *d, size_t n);
void etcd_buf_free(struct etcd_buf *b);

/* Base64 (etcd's keys and values), NULL when out of memory. */
char *etcd_b64(const void *d, size_t n);
/* Decodes s into a NUL-terminated *out: -EINVAL when s is not base64. */
int etcd_unb64(const char *s, char **out, size_t *len);
/* The int64 field name of o (a JSON string in etcd's answers), 0: none. */
int64_t etcd_int(const json_t *o, const char *name);
/* A kv of a range answer or a watch event; -EINVAL when malformed. */
int etcd_kv_parse(const json_t *j, struct xlb_etcd_kv *kv);
void etcd_kv_clear(struct xlb_etcd_kv *kv);
/* Sets "key" and (prefix) "range_end" in req; -ENOMEM. */
int etcd_set_key(json_t *req, const char *key, bool prefix);

/*
 * A curl handle that POSTs to endpoint i's path with the auth token tok
 * (may be NULL); headers go into *hdrs, freed by the caller after the
 * transfer. Unary handles time out after timeout_ms; streams never (the
 * caller watches them), but their connection does.
 */
CURL *etcd_easy(struct xlb_etcd *c, size_t i, const char *path, const char *tok,
		bool stream, struct curl_slist **hdrs, char *errbuf);
/* The endpoint to try first, and the one that just answered. */
size_t etcd_first(struct xlb_etcd *c);
void etcd_answered(struct xlb_etcd *c, size_t i);
/* A copy of the auth token for endpoint i, authenticating if need be. */
int etcd_token(struct xlb_etcd *c, size_t i, bool renew, char **tok, bool *next,
	       struct xlb_err *err);
/* The errno of an etcd (gRPC) error answer; err says etcd's message. */
int etcd_answer_error(const char *ep, long status, const char *body, size_t len,
		      struct xlb_err *err);

/* Why each endpoint failed, for "no etcd endpoint answered: ...". */
struct etcd_whys {
	char msg[sizeof(((struct xlb_err *)0)->msg)];
	size_t len;
};

/* Adds err's message (the last endpoint's failure). */
void etcd_why_add(struct etcd_whys *w, const struct xlb_err *err);

/*
 * One unary call: POSTs req to path on the endpoints in turn until one
 * answers, *resp is its JSON object. one: the answer is a stream of
 * which the first object is wanted (lease keep-alive), that object
 * without its {"result": ...} wrapping.
 */
int etcd_call(struct xlb_etcd *c, const char *path, const json_t *req, bool one,
	      json_t **resp, struct xlb_err *err);

#endif /* XLB_ETCD_PRIV_H */
