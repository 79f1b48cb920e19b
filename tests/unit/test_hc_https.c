// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * HTTPS checks against a real TLS server on loopback: a thread running
 * OpenSSL's server side with a certificate the test makes (EC P-256,
 * self-signed for "backend.test"). Status and body judged as for HTTP,
 * a failed handshake, verification with the right CA, a wrong one, a
 * name that does not match, a CA file that is not there, the SNI the
 * server saw, a handshake that never ends (timeout); and the model's
 * rules of the new fields. The engine runs in the test's own epoll loop
 * (as in test_health.c), the server in its own thread, blocking.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "health.h"
#include "schema.h"

#define MAX_RESULTS 64
/* Generous: the machine may be busy; a passing test never waits it out. */
#define WAIT_MS 20000

/* ---- certificates ------------------------------------------------------ */

struct cert {
	EVP_PKEY *key;
	X509 *x509;
	char path[64]; /* its PEM, a CA file for tls_ca */
};

static struct cert good, other;

static void add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A self-signed certificate for name, its own CA, written to a file. */
static void make_cert(struct cert *c, const char *name, long serial)
{
	char san[128];
	X509_NAME *n;
	FILE *f;
	int fd;

	c->key = EVP_EC_gen("P-256");
	assert_non_null(c->key);
	c->x509 = X509_new();
	assert_non_null(c->x509);
	X509_set_version(c->x509, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c->x509), serial);
	X509_gmtime_adj(X509_getm_notBefore(c->x509), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c->x509), 86400);
	X509_set_pubkey(c->x509, c->key);
	n = X509_get_subject_name(c->x509);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(c->x509, n);
	add_ext(c->x509, NID_basic_constraints, "critical,CA:TRUE");
	snprintf(san, sizeof(san), "DNS:%s", name);
	add_ext(c->x509, NID_subject_alt_name, san);
	assert_true(X509_sign(c->x509, c->key, EVP_sha256()) > 0);

	snprintf(c->path, sizeof(c->path), "/tmp/xlb-test-ca-XXXXXX");
	fd = mkstemp(c->path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, c->x509), 1);
	fclose(f);
}

static void free_cert(struct cert *c)
{
	if (c->path[0])
		unlink(c->path);
	X509_free(c->x509);
	EVP_PKEY_free(c->key);
	memset(c, 0, sizeof(*c));
}

static int group_setup(void **state)
{
	(void)state;
	make_cert(&good, "backend.test", 1);
	make_cert(&other, "backend.test", 2);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free_cert(&good);
	free_cert(&other);
	return 0;
}

/* ---- the TLS server ---------------------------------------------------- */

enum srv_mode {
	SRV_TLS,   /* handshake, read the request, answer resp */
	SRV_PLAIN, /* no TLS: answers resp in clear at once */
	SRV_MUTE,  /* never accepts: the handshake gets no answer */
};

struct srv {
	pthread_t thread;
	bool running;
	int fd;
	__u16 port;
	enum srv_mode mode;
	SSL_CTX *ctx;
	const char *resp;
	pthread_mutex_t lock;
	char sni[128]; /* the last handshake's; "-" = none sent */
	char req[512]; /* the last request */
	int handshakes;
};

static int on_servername(SSL *ssl, int *alert, void *arg)
{
	struct srv *s = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)alert;
	pthread_mutex_lock(&s->lock);
	snprintf(s->sni, sizeof(s->sni), "%s", name ? name : "-");
	pthread_mutex_unlock(&s->lock);
	return SSL_TLSEXT_ERR_OK;
}

static void serve_one(struct srv *s, int c)
{
	char buf[512];
	size_t len = 0, n;
	SSL *ssl;

	if (s->mode == SRV_PLAIN) {
		if (send(c, s->resp, strlen(s->resp), MSG_NOSIGNAL) < 0)
			return;
		/* Let the client's hello arrive before the FIN. */
		recv(c, buf, sizeof(buf), 0);
		return;
	}
	ssl = SSL_new(s->ctx);
	if (!ssl)
		return;
	pthread_mutex_lock(&s->lock);
	snprintf(s->sni, sizeof(s->sni), "-");
	pthread_mutex_unlock(&s->lock);
	SSL_set_fd(ssl, c);
	if (SSL_accept(ssl) != 1)
		goto out;
	pthread_mutex_lock(&s->lock);
	s->handshakes++;
	pthread_mutex_unlock(&s->lock);
	while (len < sizeof(buf) - 1 &&
	       SSL_read_ex(ssl, buf + len, sizeof(buf) - 1 - len, &n)) {
		len += n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	buf[len] = '\0';
	pthread_mutex_lock(&s->lock);
	snprintf(s->req, sizeof(s->req), "%s", buf);
	pthread_mutex_unlock(&s->lock);
	SSL_write_ex(ssl, s->resp, strlen(s->resp), &n);
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	int c;

	for (;;) {
		c = accept(s->fd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL; /* the listener was shut down */
		}
		serve_one(s, c);
		close(c);
	}
}

static struct srv *srv_start(enum srv_mode mode, const char *resp)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	struct srv *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->mode = mode;
	s->resp = resp;
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->sni, sizeof(s->sni), "?");
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	if (mode == SRV_MUTE)
		return s;
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(s->ctx);
	assert_int_equal(SSL_CTX_use_certificate(s->ctx, good.x509), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, good.key), 1);
	SSL_CTX_set_tlsext_servername_callback(s->ctx, on_servername);
	SSL_CTX_set_tlsext_servername_arg(s->ctx, s);
	assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
	s->running = true;
	return s;
}

static void srv_stop(struct srv *s)
{
	if (!s)
		return;
	/* Wakes the blocked accept(); it returns EINVAL and the thread ends. */
	shutdown(s->fd, SHUT_RDWR);
	if (s->running)
		pthread_join(s->thread, NULL);
	close(s->fd);
	SSL_CTX_free(s->ctx);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- the engine's loop ------------------------------------------------- */

struct rig {
	int epfd;
	struct xlb_hc *e;
	struct hc_result res[MAX_RESULTS];
	size_t n;
	struct srv *srv;
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

	if (g->n < MAX_RESULTS)
		g->res[g->n++] = *r;
}

static int setup(void **state)
{
	struct rig *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(g->epfd >= 0);
	g->e = xlb_hc_new(g->epfd, on_result, g);
	assert_non_null(g->e);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct rig *g = *state;

	xlb_hc_free(g->e);
	srv_stop(g->srv);
	close(g->epfd);
	free(g);
	return 0;
}

/* The first result of id, waiting for it up to WAIT_MS. */
static const struct hc_result *result_of(struct rig *g, __u32 id)
{
	long long end = now_ms() + WAIT_MS;
	struct epoll_event evs[16];
	int n;

	for (;;) {
		for (size_t i = 0; i < g->n; i++)
			if (g->res[i].id == id)
				return &g->res[i];
		if (now_ms() >= end)
			fail_msg("check %u: no result within %d ms", id,
				 WAIT_MS);
		n = epoll_wait(g->epfd, evs, 16, 50);
		for (int i = 0; i < n; i++) {
			struct xlb_watch *w = evs[i].data.ptr;

			w->fn(w, evs[i].events);
		}
	}
}

static struct hc_target https_target(__u32 id, __u16 port)
{
	struct hc_target t;
	struct xlb_err err;

	memset(&t, 0, sizeof(t));
	t.id = id;
	xlb_check_init(&t.cfg);
	t.cfg.kind = XLB_CHECK_HTTPS;
	/* Long: the first run is spread over one interval by the id. */
	t.cfg.interval_ms = 1000;
	t.cfg.timeout_ms = 900;
	strcpy(t.cfg.http_path, "/healthz");
	strcpy(t.cfg.http_body, "ready");
	assert_int_equal(xlb_parse_addr("127.0.0.1", &t.dst, &t.family, &err),
			 0);
	t.port = port;
	return t;
}

/* Runs one check of t against a fresh server; its first result. */
static const struct hc_result *run(struct rig *g, struct hc_target *t,
				   enum srv_mode mode, const char *resp)
{
	g->srv = srv_start(mode, resp);
	t->port = g->srv->port;
	assert_int_equal(xlb_hc_set(g->e, t), 0);
	return result_of(g, t->id);
}

static void expect(const struct hc_result *r, bool ok, const char *detail)
{
	if (r->ok != ok || strcmp(r->detail, detail))
		fail_msg("check %u: got %s \"%s\", want %s \"%s\"", r->id,
			 r->ok ? "ok" : "fail", r->detail, ok ? "ok" : "fail",
			 detail);
}

static const char *const ready =
	"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nstatus=ready";

/* ---- the cases --------------------------------------------------------- */

static void test_ok_without_sni(void **state)
{
	struct rig *g = *state;
	struct hc_target t = https_target(1, 0);

	expect(run(g, &t, SRV_TLS, ready), true, "ok");
	pthread_mutex_lock(&g->srv->lock);
	/* No SNI unless asked (HAProxy's check-sni); Host is the address. */
	assert_string_equal(g->srv->sni, "-");
	assert_non_null(strstr(g->srv->req, "GET /healthz HTTP/1.0\r\n"));
	assert_non_null(strstr(g->srv->req, "\r\nHost: 127.0.0.1:"));
	pthread_mutex_unlock(&g->srv->lock);
}

static void test_wrong_status(void **state)
{
	struct rig *g = *state;
	struct hc_target t = https_target(2, 0);

	expect(run(g, &t, SRV_TLS,
		   "HTTP/1.1 503 Service Unavailable\r\n\r\nready"),
	       false, "HTTP 503");
}

static void test_wrong_body(void **state)
{
	struct rig *g = *state;
	struct hc_target t = https_target(3, 0);

	expect(run(g, &t, SRV_TLS, "HTTP/1.1 200 OK\r\n\r\nstarting"), false,
	       "body lacks 'ready'");
}

static void test_status_alone(void **state)
{
	struct rig *g = *state;
	struct hc_target t = https_target(4, 0);

	t.cfg.http_body[0] = '\0';
	t.cfg.http_status = 204;
	expect(run(g, &t, SRV_TLS, "HTTP/1.1 204 No Content\r\n\r\n"), true,
	       "ok");
}

/* A plain HTTP server where TLS was expected: the handshake fails. */
static void test_handshake_fails(void **state)
{
	struct rig *g = *state;
	struct hc_target t = https_target(5, 0);
	const struct hc_result *r;

	r = run(g, &t, SRV_PLAIN, "HTTP/1.1 200 OK\r\n\r\nready");
	assert_false(r->ok);
	if (strncmp(r->detail, "handshake: ", 11))
		fail_msg("detail \"%s\"", r->detail);
}

static void test_verify_right_ca(void **state)
{
	struct rig *g = *state;
	struct hc_target t = https_target(6, 0);

	strcpy(t.cfg.tls_sni, "backend.test");
	t.cfg.tls_verify = 1;
	strcpy(t.cfg.tls_ca, good.path);
	expect(run(g, &t, SRV_TLS, ready), true, "ok");
	pthread_mutex_lock(&g->srv->lock);
	assert_string_equal(g->srv->sni, "backend.test");
	/* A virtual host answers for its name: Host follows the SNI. */
	assert_non_null(strstr(g->srv->req, "\r\nHost: backend.test:"));
	pthread_mutex_unlock(&g->srv->lock);
}

static void test_verify_wrong_ca(void **state)
{
	struct rig *g = *state;
	struct hc_target t = https_target(7, 0);
	const struct hc_result *r;

	strcpy(t.cfg.tls_sni, "backend.test");
	t.cfg.tls_verify = 1;
	strcpy(t.cfg.tls_ca, other.path);
	r = run(g, &t, SRV_TLS, ready);
	assert_false(r->ok);
	if (strncmp(r->detail, "handshake: ", 11))
		fail_msg("detail \"%s\"", r->detail);
	pthread_mutex_lock(&g->srv->lock);
	assert_int_equal(g->srv->handshakes, 0);
	pthread_mutex_unlock(&g->srv->lock);
}

/* Without --verify the wrong CA does not matter: nothing is verified. */
static void test_no_verify_ignores_ca(void **state)
{
	struct rig *g = *state;
	struct hc_target t = https_target(8, 0);

	strcpy(t.cfg.tls_sni, "other.test");
	strcpy(t.cfg.tls_ca, other.path);
	expect(run(g, &t, SRV_TLS, ready), true, "ok");
	pthread_mutex_lock(&g->srv->lock);
	assert_string_equal(g->srv->sni, "other.test");
	pthread_mutex_unlock(&g->srv->lock);
}

static void test_verify_name_mismatch(void **state)
{
	struct rig *g = *state;
	struct hc_target t = https_target(9, 0);

	strcpy(t.cfg.tls_sni, "other.test");
	t.cfg.tls_verify = 1;
	strcpy(t.cfg.tls_ca, good.path);
	expect(run(g, &t, SRV_TLS, ready), false,
	       "handshake: hostname mismatch");
}

static void test_missing_ca_file(void **state)
{
	struct rig *g = *state;
	struct hc_target t = https_target(10, 0);

	t.cfg.tls_verify = 1;
	strcpy(t.cfg.tls_ca, "/nonexistent/ca.pem");
	expect(run(g, &t, SRV_TLS, ready), false,
	       "tls_ca /nonexistent/ca.pem: No such file or directory");
}

/* A server that never answers the hello: the check's timeout ends it. */
static void test_handshake_timeout(void **state)
{
	struct rig *g = *state;
	struct hc_target t = https_target(11, 0);

	t.cfg.timeout_ms = 300;
	expect(run(g, &t, SRV_MUTE, NULL), false, "timeout");
}

/* ---- the model --------------------------------------------------------- */

static void test_model_rules(void **state)
{
	struct xlb_check_cfg c, d;
	struct xlb_err err = {{0}};
	__u8 kind;

	(void)state;
	assert_int_equal(xlb_parse_check_kind("https", &kind, &err), 0);
	assert_int_equal(kind, XLB_CHECK_HTTPS);
	assert_string_equal(xlb_check_kind_name(XLB_CHECK_HTTPS), "https");
	/* Appended: the kinds before it keep their numbers. */
	assert_int_equal(XLB_CHECK_AGENT, 5);
	assert_true(xlb_check_field_applies(XLB_CHECK_HTTPS, "http_path"));
	assert_true(xlb_check_field_applies(XLB_CHECK_HTTPS, "http_body"));
	assert_true(xlb_check_field_applies(XLB_CHECK_HTTPS, "tunnel"));
	assert_true(xlb_check_field_applies(XLB_CHECK_HTTPS, "tls_sni"));
	assert_false(xlb_check_field_applies(XLB_CHECK_HTTP, "tls_verify"));
	assert_false(xlb_check_field_applies(XLB_CHECK_TCP, "tls_ca"));

	xlb_check_init(&c);
	c.kind = XLB_CHECK_HTTPS;
	assert_int_equal(c.tls_verify, 0);
	assert_int_equal(xlb_check_validate(&c, &err), 0);
	d = c;
	strcpy(d.tls_sni, "a.example");
	assert_int_equal(xlb_check_validate(&d, &err), 0);
	assert_false(xlb_check_equal(&c, &d));
	strcpy(d.tls_sni, "a b");
	assert_int_equal(xlb_check_validate(&d, &err), -EINVAL);
	d = c;
	strcpy(d.tls_ca, "ca.pem");
	assert_int_equal(xlb_check_validate(&d, &err), -EINVAL);
	d = c;
	d.tls_verify = 2;
	assert_int_equal(xlb_check_validate(&d, &err), -EINVAL);
	d = c;
	d.tls_verify = 1;
	assert_false(xlb_check_equal(&c, &d));
	/* The HTTP rules hold too. */
	d = c;
	strcpy(d.http_path, "healthz");
	assert_int_equal(xlb_check_validate(&d, &err), -EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ok_without_sni),
		T(test_wrong_status),
		T(test_wrong_body),
		T(test_status_alone),
		T(test_handshake_fails),
		T(test_verify_right_ca),
		T(test_verify_wrong_ca),
		T(test_no_verify_ignores_ca),
		T(test_verify_name_mismatch),
		T(test_missing_ca_file),
		T(test_handshake_timeout),
		cmocka_unit_test(test_model_rules),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
