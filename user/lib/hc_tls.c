// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * TLS for the health checker's HTTPS probes (see hc_priv.h), OpenSSL's
 * SSL objects on the probe's own non-blocking socket: the socket is made
 * exactly as for HTTP (SO_MARK, SO_BINDTODEVICE, MSS: through the tunnel
 * alike), and the handshake, writes and reads only add a layer on it.
 * WANT_READ and WANT_WRITE become EAGAIN, so the probes wait on the fd as
 * they do for plain sockets; no call here blocks.
 *
 * Contexts are shared: one per (verify, CA file) among the checks of an
 * engine, counted, since OpenSSL 3's SSL_CTX_new costs more than a probe.
 * A CA file is keyed by its path and what stat says of it, so a check set
 * after the file changed reads it again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "hc_priv.h"

struct hc_tls_ctx {
	struct hc_tls_ctx *next;
	SSL_CTX *ctx;
	unsigned int refs;
	bool verify;
	/* The CA file and what stat said of it when it was read. */
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	off_t size;
	char ca[XLB_CHECK_CMDLEN];
};

/* OpenSSL's last word on the error in this thread's queue. */
static const char *tls_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r ? r : "TLS error";
}

static SSL_CTX *ctx_new(bool verify, const char *ca, char *why, size_t len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		snprintf(why, len, "tls: %s", tls_reason());
		return NULL;
	}
	/*
	 * Servers that close without close_notify are many and still gave
	 * their answer: EOF ends the body as it does for plain HTTP/1.0.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
			   NULL);
	if (verify && (ca[0] ? !SSL_CTX_load_verify_locations(ctx, ca, NULL)
			     : !SSL_CTX_set_default_verify_paths(ctx))) {
		snprintf(why, len, "tls_ca %.64s: %s", ca[0] ? ca : "(system)",
			 tls_reason());
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int hc_tls_ctx_get(struct xlb_hc *e, const struct xlb_check_cfg *c,
		   struct hc_tls_ctx **out, char *why, size_t len)
{
	const char *ca = c->tls_verify ? c->tls_ca : "";
	struct hc_tls_ctx *t;
	struct stat st = {0};

	ERR_clear_error();
	if (ca[0] && stat(ca, &st)) {
		snprintf(why, len, "tls_ca %.64s: %s", ca, strerror(errno));
		return -errno;
	}
	for (t = e->tls; t; t = t->next) {
		if (t->verify == !!c->tls_verify && !strcmp(t->ca, ca) &&
		    t->dev == st.st_dev && t->ino == st.st_ino &&
		    t->size == st.st_size &&
		    t->mtime.tv_sec == st.st_mtim.tv_sec &&
		    t->mtime.tv_nsec == st.st_mtim.tv_nsec) {
			t->refs++;
			*out = t;
			return 0;
		}
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(why, len, "tls: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	t->ctx = ctx_new(c->tls_verify, ca, why, len);
	if (!t->ctx) {
		free(t);
		return -EINVAL;
	}
	t->verify = c->tls_verify;
	snprintf(t->ca, sizeof(t->ca), "%s", ca);
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->size = st.st_size;
	t->mtime = st.st_mtim;
	t->refs = 1;
	t->next = e->tls;
	e->tls = t;
	*out = t;
	return 0;
}

void hc_tls_ctx_put(struct xlb_hc *e, struct hc_tls_ctx *t)
{
	struct hc_tls_ctx **pp;

	if (!t || --t->refs)
		return;
	for (pp = &e->tls; *pp != t; pp = &(*pp)->next)
		;
	*pp = t->next;
	SSL_CTX_free(t->ctx);
	free(t);
}

int hc_tls_begin(struct hc_check *s)
{
	struct hc_spec *sp = s->spec;
	const char *sni = sp->tls_sni;

	ERR_clear_error();
	s->ssl = SSL_new(sp->tls->ctx);
	if (!s->ssl || !SSL_set_fd(s->ssl, s->fd) ||
	    (sni[0] && !SSL_set_tlsext_host_name(s->ssl, sni)) ||
	    /* Verified, the certificate must name the server asked for. */
	    (sni[0] && sp->tls->verify && !SSL_set1_host(s->ssl, sni))) {
		hc_probe_end(s, false, "tls: %s", tls_reason());
		return -1;
	}
	SSL_set_connect_state(s->ssl);
	return 0;
}

/*
 * An SSL call's failure r as a socket call's: -1 with errno EAGAIN (wait
 * for the fd), EPROTO (a TLS error: tls_strerror says which), or the
 * socket's own; 0 for a clean end of the stream.
 */
static int tls_fail(struct hc_check *s, int r)
{
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (!errno || errno == EAGAIN)
			errno = ECONNRESET;
		return -1;
	default:
		errno = EPROTO;
		return -1;
	}
}

const char *hc_tls_strerror(const struct hc_check *s, int err)
{
	long v;

	if (!s->ssl || err != EPROTO)
		return strerror(err);
	v = SSL_get_verify_result(s->ssl);
	if (v != X509_V_OK)
		return X509_verify_cert_error_string(v);
	return tls_reason();
}

int hc_tls_handshake(struct hc_check *s)
{
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(s->ssl);
	if (r == 1)
		return 1;
	if (tls_fail(s, r) < 0 && errno == EAGAIN)
		return 0;
	if (!errno)
		errno = ECONNRESET;
	hc_probe_end(s, false, "handshake: %s", hc_tls_strerror(s, errno));
	return -1;
}

ssize_t hc_tls_send(struct hc_check *s, const void *buf, size_t len)
{
	size_t n;
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_write_ex(s->ssl, buf, len, &n);
	if (r)
		return n;
	if (!tls_fail(s, r))
		errno = EPIPE;
	return -1;
}

ssize_t hc_tls_recv(struct hc_check *s, void *buf, size_t len)
{
	size_t n;
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_read_ex(s->ssl, buf, len, &n);
	if (r)
		return n;
	return tls_fail(s, r);
}

void hc_tls_end(struct hc_check *s)
{
	/* No close_notify: the socket is reset right after, as for HTTP. */
	SSL_free(s->ssl);
	s->ssl = NULL;
}
