// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The etcd client (see etcd.h): its connection settings, the encodings
 * of etcd's JSON gateway, and the unary POST that tries each endpoint in
 * turn. The calls themselves are in etcd_kv.c, the watch in
 * etcd_watch.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_priv.h"

/* ---- settings ---------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_ret;

/* curl_global_init is not thread-safe on every build: once per process. */
static void curl_init(void)
{
	curl_init_ret = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* "http[s]://host:port" with an optional '/', or -EINVAL saying why. */
static int check_endpoint(const char *ep, struct xlb_err *err)
{
	const char *h, *port;
	char *end;
	long p;

	if (strlen(ep) > 256)
		return xlb_err_path(err, ep, "longer than 256 bytes");
	if (!strncmp(ep, "http://", 7))
		h = ep + 7;
	else if (!strncmp(ep, "https://", 8))
		h = ep + 8;
	else
		return xlb_err_path(err, ep, "not an http:// or https:// URL");
	if (*h == '[') /* an IPv6 address: its colons are not the port's */
		port = strchr(h, ']') ? strchr(h, ']') + 1 : h;
	else
		port = h + strcspn(h, ":/");
	if (port == h || (*h == '[' && port == h + 2))
		return xlb_err_path(err, ep, "no host");
	if (*port != ':')
		return xlb_err_path(err, ep, "no port (etcd's is 2379)");
	errno = 0;
	p = strtol(port + 1, &end, 10);
	if (end == port + 1 || errno || p < 1 || p > 65535 ||
	    (*end && strcmp(end, "/")))
		return xlb_err_path(err, ep, "bad port or a path after it");
	return 0;
}

/* Splits and checks o->endpoints into c->eps. */
static int parse_endpoints(struct xlb_etcd *c, const char *list,
			   struct xlb_err *err)
{
	char *dup = strdup(list), *save = NULL, *tok, **eps;
	int ret = -ENOMEM;

	if (!dup)
		return -ENOMEM;
	for (tok = strtok_r(dup, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		ret = check_endpoint(tok, err);
		if (ret)
			goto out;
		if (tok[strlen(tok) - 1] == '/') /* paths are added to it */
			tok[strlen(tok) - 1] = '\0';
		eps = realloc(c->eps, (c->n_eps + 1) * sizeof(*eps));
		if (!eps || !(eps[c->n_eps] = strdup(tok))) {
			if (eps)
				c->eps = eps;
			ret = -ENOMEM;
			goto out;
		}
		c->eps = eps;
		c->n_eps++;
	}
	ret = 0;
	if (!c->n_eps) {
		xlb_err_set(err, "no etcd endpoint given");
		ret = -EINVAL;
	}
out:
	free(dup);
	return ret;
}

/* A copy of s, or of NULL; false when out of memory. */
static bool dup_opt(char **to, const char *s)
{
	*to = s ? strdup(s) : NULL;
	return !s || *to;
}

int xlb_etcd_new(const struct xlb_etcd_opts *o, struct xlb_etcd **out,
		 struct xlb_err *err)
{
	struct xlb_etcd *c;
	int ret;

	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_ret != CURLE_OK) {
		xlb_err_set(err, "curl_global_init: %s",
			    curl_easy_strerror(curl_init_ret));
		return -EIO;
	}
	if ((o->user != NULL) != (o->password != NULL)) {
		xlb_err_set(err, "etcd auth needs both a user and a password");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : 2000;
	ret = parse_endpoints(c, o->endpoints ? o->endpoints : "", err);
	if (!ret &&
	    (!dup_opt(&c->cacert, o->cacert) || !dup_opt(&c->cert, o->cert) ||
	     !dup_opt(&c->key, o->key) || !dup_opt(&c->user, o->user) ||
	     !dup_opt(&c->password, o->password)))
		ret = -ENOMEM;
	if (ret) {
		if (ret == -ENOMEM)
			xlb_err_set(err, "etcd client: out of memory");
		xlb_etcd_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void xlb_etcd_free(struct xlb_etcd *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_eps; i++)
		free(c->eps[i]);
	free(c->eps);
	free(c->cacert);
	free(c->cert);
	free(c->key);
	free(c->user);
	free(c->password);
	free(c->token);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

size_t etcd_first(struct xlb_etcd *c)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	i = c->cur;
	pthread_mutex_unlock(&c->lock);
	return i;
}

void etcd_answered(struct xlb_etcd *c, size_t i)
{
	pthread_mutex_lock(&c->lock);
	c->cur = i;
	pthread_mutex_unlock(&c->lock);
}

const char *xlb_etcd_endpoint(const struct xlb_etcd *c)
{
	/* The URLs never change: only the index needs the lock. */
	return c->eps[etcd_first((struct xlb_etcd *)c)];
}

/* ---- encodings --------------------------------------------------------- */

int etcd_buf_add(struct etcd_buf *b, const void *d, size_t n)
{
	size_t cap = b->cap ? b->cap : 1024;
	char *p;

	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap != b->cap) {
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void etcd_buf_free(struct etcd_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static const char b64_abc[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64(const void *d, size_t n)
{
	const unsigned char *s = d;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = s[i] << 16;

		v |= (i + 1 < n ? s[i + 1] : 0) << 8;
		v |= i + 2 < n ? s[i + 2] : 0;
		*o++ = b64_abc[v >> 18];
		*o++ = b64_abc[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64_abc[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64_abc[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_val(char ch)
{
	const char *p = ch ? strchr(b64_abc, ch) : NULL;

	return p ? (int)(p - b64_abc) : -1;
}

int etcd_unb64(const char *s, char **out, size_t *len)
{
	size_t n = strlen(s), k = 0;
	unsigned v = 0;
	int bits = 0, x;
	char *o;

	while (n && s[n - 1] == '=')
		n--;
	o = malloc(n * 3 / 4 + 1);
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		x = b64_val(s[i]);
		if (x < 0) {
			free(o);
			return -EINVAL;
		}
		v = (v << 6) | (unsigned)x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (char)(v >> bits);
		}
	}
	o[k] = '\0';
	*out = o;
	*len = k;
	return 0;
}

int64_t etcd_int(const json_t *o, const char *name)
{
	const json_t *v = json_object_get(o, name);

	/* The gateway writes int64 as strings; accept numbers as well. */
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

void etcd_kv_clear(struct xlb_etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

/* A base64 field of j, decoded; "" when absent (etcd omits empties). */
static int b64_field(const json_t *j, const char *name, char **out, size_t *len)
{
	const json_t *v = json_object_get(j, name);

	if (v && !json_is_string(v))
		return -EINVAL;
	return etcd_unb64(v ? json_string_value(v) : "", out, len);
}

int etcd_kv_parse(const json_t *j, struct xlb_etcd_kv *kv)
{
	size_t klen;
	int ret;

	memset(kv, 0, sizeof(*kv));
	if (!json_is_object(j))
		return -EINVAL;
	ret = b64_field(j, "key", &kv->key, &klen);
	if (!ret)
		ret = b64_field(j, "value", &kv->value, &kv->value_len);
	if (ret) {
		etcd_kv_clear(kv);
		return ret;
	}
	kv->create_rev = etcd_int(j, "create_revision");
	kv->mod_rev = etcd_int(j, "mod_revision");
	kv->version = etcd_int(j, "version");
	kv->lease = etcd_int(j, "lease");
	return 0;
}

/*
 * etcd's prefix rule: the range ends at the prefix with its last byte
 * that is not 0xff incremented and what follows cut; a prefix of only
 * 0xff bytes (or "") ranges to the end of the key space, "\0".
 */
static char *range_end(const char *key)
{
	size_t n = strlen(key);
	unsigned char *e = malloc(n + 1);
	char *b;

	if (!e)
		return NULL;
	memcpy(e, key, n);
	while (n && e[n - 1] == 0xff)
		n--;
	if (n)
		e[n - 1]++;
	else
		e[n++] = 0;
	b = etcd_b64(e, n);
	free(e);
	return b;
}

int etcd_set_key(json_t *req, const char *key, bool prefix)
{
	/* etcd wants a key: "every key" is the range from "\0" to "\0". */
	size_t n = *key || !prefix ? strlen(key) : 1;
	char *k = etcd_b64(key, n), *e = NULL;
	int ret = -ENOMEM;

	if (!k || (prefix && !(e = range_end(key))))
		goto out;
	if (json_object_set_new(req, "key", json_string(k)))
		goto out;
	if (e && json_object_set_new(req, "range_end", json_string(e)))
		goto out;
	ret = 0;
out:
	free(k);
	free(e);
	return ret;
}

/* ---- HTTP -------------------------------------------------------------- */

CURL *etcd_easy(struct xlb_etcd *c, size_t i, const char *path, const char *tok,
		bool stream, struct curl_slist **hdrs, char *errbuf)
{
	char url[512], *auth = NULL;
	struct curl_slist *h;
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	/* Endpoints are checked shorter than url, paths are ours. */
	snprintf(url, sizeof(url), "%s%s", c->eps[i], path);
	h = curl_slist_append(*hdrs, "Content-Type: application/json");
	*hdrs = h ? h : *hdrs;
	if (h && tok) {
		/* JWT tokens run to hundreds of bytes: no fixed buffer. */
		h = asprintf(&auth, "Authorization: %s", tok) < 0
			    ? NULL
			    : curl_slist_append(*hdrs, auth);
		*hdrs = h ? h : *hdrs;
		free(auth);
	}
	if (!h) {
		curl_easy_cleanup(e);
		return NULL;
	}
	errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, *hdrs);
	/* Threads: no SIGALRM for DNS timeouts. */
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/*
	 * etcd is spoken to directly: an http_proxy in xlbd's environment
	 * (set for a package manager, say) must not reroute the cluster's
	 * state through a proxy, or fail it there.
	 */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	/*
	 * A dead member must not eat the whole budget before the next
	 * endpoint gets its turn: connecting gets half of it.
	 */
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(c->timeout_ms / 2 ? c->timeout_ms / 2 : 1));
	if (!stream)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	if (c->cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cacert);
	if (c->cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert);
	if (c->key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key);
	return e;
}

/* gRPC status codes (etcd's "code") as errnos, as etcd.h lists them. */
static int code_errno(int64_t code)
{
	switch (code) {
	case 3:
		return -EINVAL;
	case 4:
		return -ETIMEDOUT;
	case 5:
		return -ENOENT;
	case 6:
		return -EEXIST;
	case 7:
	case 16:
		return -EACCES;
	case 8:
		return -ENOSPC;
	case 9:
		return -EPERM;
	case 11:
		return -ERANGE;
	case 14:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

int etcd_answer_error(const char *ep, long status, const char *body, size_t len,
		      struct xlb_err *err)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const json_t *m = json_object_get(j, "message");
	int ret;

	if (!json_is_string(m))
		m = json_object_get(j, "error");
	if (json_is_string(m)) {
		xlb_err_set(err, "%s: %s (HTTP %ld)", ep, json_string_value(m),
			    status);
		ret = code_errno(etcd_int(j, "code"));
		/* Its own errno, so that the caller authenticates again. */
		if (strstr(json_string_value(m), "invalid auth token"))
			ret = -EKEYEXPIRED;
	} else {
		xlb_err_set(err, "%s: HTTP %ld: %.80s", ep, status,
			    body ? body : "");
		ret = status >= 500 ? -EAGAIN : -EIO;
	}
	json_decref(j);
	return ret;
}

/* What a unary transfer collects. */
struct unary {
	struct etcd_buf body;
	bool one;  /* stop at the first line */
	bool done; /* ... and it came */
	bool nomem;
};

static size_t unary_write(char *d, size_t sz, size_t n, void *ud)
{
	struct unary *u = ud;

	if (etcd_buf_add(&u->body, d, sz * n)) {
		u->nomem = true;
		return 0;
	}
	/* A stream (keep-alive) ends here: the transfer is closed. */
	if (u->one && memchr(u->body.p, '\n', u->body.len)) {
		u->done = true;
		return 0;
	}
	return sz * n;
}

/*
 * One POST of body to endpoint i: 0 with *status and u->body when it
 * answered, a negative errno with err set when the transfer failed.
 */
static int http_post(struct xlb_etcd *c, size_t i, const char *path,
		     const char *body, const char *tok, long *status,
		     struct unary *u, struct xlb_err *err)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL;
	CURLcode cr;
	CURL *e;
	int ret = 0;

	e = etcd_easy(c, i, path, tok, false, &hdrs, errbuf);
	if (!e) {
		curl_slist_free_all(hdrs);
		xlb_err_set(err, "%s: out of memory", c->eps[i]);
		return -ENOMEM;
	}
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, unary_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, u);
	cr = curl_easy_perform(e);
	if (cr == CURLE_WRITE_ERROR && u->done)
		cr = CURLE_OK;
	if (cr == CURLE_OK) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	} else {
		xlb_err_set(err, "%s: %s", c->eps[i],
			    errbuf[0] ? errbuf : curl_easy_strerror(cr));
		ret = u->nomem			       ? -ENOMEM
		      : cr == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
		      : cr == CURLE_COULDNT_CONNECT    ? -ECONNREFUSED
						       : -EIO;
	}
	curl_easy_cleanup(e);
	curl_slist_free_all(hdrs);
	return ret;
}

/*
 * One POST to endpoint i and its answer's JSON. *next when another
 * endpoint may do better: this one did not answer or answered 5xx.
 */
static int post_at(struct xlb_etcd *c, size_t i, const char *path,
		   const char *body, const char *tok, bool one, json_t **resp,
		   bool *next, struct xlb_err *err)
{
	struct unary u = {.one = one};
	json_error_t jerr;
	long status = 0;
	int ret;

	*resp = NULL;
	ret = http_post(c, i, path, body, tok, &status, &u, err);
	*next = ret && ret != -ENOMEM;
	if (ret)
		goto out;
	if (status != 200) {
		*next = status >= 500;
		ret = etcd_answer_error(c->eps[i], status, u.body.p, u.body.len,
					err);
		goto out;
	}
	*resp = json_loadb(u.body.p ? u.body.p : "", u.body.len,
			   JSON_DISABLE_EOF_CHECK, &jerr);
	if (!json_is_object(*resp)) {
		xlb_err_set(err, "%s: an answer not JSON: %s", c->eps[i],
			    jerr.text);
		json_decref(*resp);
		*resp = NULL;
		ret = -EIO;
	}
out:
	etcd_buf_free(&u.body);
	return ret;
}

/* ---- calls ------------------------------------------------------------- */

void etcd_why_add(struct etcd_whys *w, const struct xlb_err *err)
{
	if (err && w->len < sizeof(w->msg))
		w->len += snprintf(w->msg + w->len, sizeof(w->msg) - w->len,
				   "%s%s", w->len ? "; " : "", err->msg);
}

/* Asks endpoint i for a token: POST /v3/auth/authenticate. */
static int authenticate(struct xlb_etcd *c, size_t i, char **tok, bool *next,
			struct xlb_err *err)
{
	json_t *req =
		json_pack("{ssss}", "name", c->user, "password", c->password);
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_t *resp = NULL;
	const json_t *t;
	int ret = -ENOMEM;

	*next = false;
	if (!body)
		goto out;
	ret = post_at(c, i, "/v3/auth/authenticate", body, NULL, false, &resp,
		      next, err);
	if (ret) {
		xlb_err_prefix(err, "authenticate");
		goto out;
	}
	t = json_object_get(resp, "token");
	ret = -ENOMEM;
	if (!json_is_string(t) || !(*tok = strdup(json_string_value(t))))
		goto out;
	ret = 0;
out:
	if (ret == -ENOMEM && !*next)
		xlb_err_set(err, "authenticate: %s: no token in the answer",
			    c->eps[i]);
	json_decref(resp);
	free(body);
	json_decref(req);
	return ret;
}

int etcd_token(struct xlb_etcd *c, size_t i, bool renew, char **tok, bool *next,
	       struct xlb_err *err)
{
	int ret;

	*tok = NULL;
	*next = false;
	if (!c->user)
		return 0;
	pthread_mutex_lock(&c->lock);
	if (renew) {
		free(c->token);
		c->token = NULL;
	}
	if (c->token)
		*tok = strdup(c->token);
	pthread_mutex_unlock(&c->lock);
	if (*tok)
		return 0;
	ret = authenticate(c, i, tok, next, err);
	if (ret)
		return ret;
	pthread_mutex_lock(&c->lock);
	free(c->token);
	c->token = strdup(*tok);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* A stream's first object is {"result": ...} or {"error": ...}. */
static int unwrap_result(const char *ep, json_t **resp, struct xlb_err *err)
{
	json_t *r = json_object_get(*resp, "result");
	char *s;
	int ret;

	if (json_is_object(r)) {
		json_incref(r);
		json_decref(*resp);
		*resp = r;
		return 0;
	}
	r = json_object_get(*resp, "error");
	s = json_dumps(json_is_object(r) ? r : *resp, JSON_COMPACT);
	ret = etcd_answer_error(ep, 200, s ? s : "", s ? strlen(s) : 0, err);
	free(s);
	json_decref(*resp);
	*resp = NULL;
	return ret;
}

/* etcd_call on endpoint i, authenticating again once if need be. */
static int call_at(struct xlb_etcd *c, size_t i, const char *path,
		   const char *body, bool one, json_t **resp, bool *next,
		   struct xlb_err *err)
{
	char *tok = NULL;
	int ret;

	for (int tries = 0; tries < 2; tries++) {
		free(tok);
		ret = etcd_token(c, i, tries > 0, &tok, next, err);
		if (ret)
			break;
		ret = post_at(c, i, path, body, tok, one, resp, next, err);
		if (!ret && one)
			ret = unwrap_result(c->eps[i], resp, err);
		if (ret != -EKEYEXPIRED)
			break;
	}
	free(tok);
	return ret == -EKEYEXPIRED ? -EACCES : ret;
}

int etcd_call(struct xlb_etcd *c, const char *path, const json_t *req, bool one,
	      json_t **resp, struct xlb_err *err)
{
	char *body = json_dumps(req, JSON_COMPACT);
	size_t first = etcd_first(c), i;
	struct etcd_whys why = {.len = 0};
	bool next = false;
	int ret = -ENOMEM;

	*resp = NULL;
	if (!body) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	for (size_t k = 0; k < c->n_eps; k++) {
		i = (first + k) % c->n_eps;
		ret = call_at(c, i, path, body, one, resp, &next, err);
		if (!next) {
			/* An answer, even a refusal: this one is alive. */
			if (ret != -ENOMEM)
				etcd_answered(c, i);
			break;
		}
		etcd_why_add(&why, err);
	}
	if (ret && next)
		xlb_err_set(err, "no etcd endpoint answered: %s", why.msg);
	free(body);
	return ret;
}
