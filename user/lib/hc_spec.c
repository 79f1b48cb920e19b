// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * A check's target in the shape its probes use (see hc_priv.h): the
 * socket address, the HTTP request or UDP payload and the text to look
 * for, or the exec command's argv and environment, in one allocation;
 * an HTTPS check's TLS context besides.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc_priv.h"

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

/* The HTTP request of t into req; its length, or -EINVAL. */
static int http_request(const struct hc_target *t, char *req, size_t size)
{
	const struct xlb_check_cfg *c = &t->cfg;
	bool https = c->kind == XLB_CHECK_HTTPS;
	char host[XLB_CHECK_CMDLEN + 8], a[XLB_ADDR_STRLEN];
	const char *path = c->http_path[0] ? c->http_path : "/";
	int n;

	if (strnlen(c->http_path, sizeof(c->http_path)) >=
		    sizeof(c->http_path) ||
	    !path_ok(path))
		return -EINVAL;
	xlb_format_addr(&t->dst, t->family, a, sizeof(a));
	/*
	 * RFC 7230 Host: brackets for IPv6, the port unless the scheme's.
	 * The SNI when there is one: a virtual host answers for its name.
	 */
	if (https && c->tls_sni[0])
		snprintf(host, sizeof(host), "%.*s", XLB_CHECK_CMDLEN - 1,
			 c->tls_sni);
	else
		snprintf(host, sizeof(host),
			 t->family == XLB_AF_INET6 ? "[%s]" : "%s", a);
	if (t->port != (https ? 443 : 80))
		snprintf(host + strlen(host), sizeof(host) - strlen(host),
			 ":%u", t->port);
	n = snprintf(req, size,
		     "GET %s HTTP/1.0\r\nHost: %s\r\n"
		     "User-Agent: xlb-check\r\n"
		     "Connection: close\r\n\r\n",
		     path, host);
	if (n < 0 || (size_t)n >= size)
		return -EINVAL;
	return n;
}

static void spec_addr(struct hc_spec *sp, const struct hc_target *t)
{
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
}

/* sh -c CMD, with PATH and what the command is checking in its env. */
static void spec_exec(struct hc_spec *sp, const struct hc_target *t)
{
	const char *cmd = t->cfg.exec_cmd;
	char port[8], *p = sp->data;

	sp->exec.argv[0] = put(&p, "sh", 2);
	sp->exec.argv[1] = put(&p, "-c", 2);
	sp->exec.argv[2] = put(&p, cmd, strlen(cmd));
	sp->exec.envp[0] = put(&p, HC_ENV_PATH, strlen(HC_ENV_PATH));
	snprintf(port, sizeof(port), "%u", t->port);
	sp->exec.envp[1] = put_env(&p, "XLB_BACKEND", t->env_backend,
				   sizeof(t->env_backend));
	sp->exec.envp[2] =
		put_env(&p, "XLB_VIP", t->env_vip, sizeof(t->env_vip));
	sp->exec.envp[3] = put_env(&p, "XLB_PORT", port, sizeof(port));
}

/* Whether t can be checked at all, whatever its kind. */
static bool target_ok(const struct hc_target *t)
{
	const struct xlb_check_cfg *c = &t->cfg;

	if (c->kind < XLB_CHECK_TCP || c->kind >= XLB_CHECK_KIND_MAX ||
	    !c->interval_ms || !c->timeout_ms)
		return false;
	if (c->kind == XLB_CHECK_EXEC)
		return c->exec_cmd[0] &&
		       strnlen(c->exec_cmd, sizeof(c->exec_cmd)) <
			       sizeof(c->exec_cmd);
	return (t->family == XLB_AF_INET || t->family == XLB_AF_INET6) &&
	       t->port;
}

void hc_spec_free(struct xlb_hc *e, struct hc_spec *sp)
{
	if (!sp)
		return;
	hc_tls_ctx_put(e, sp->tls);
	free(sp);
}

int hc_spec_new(struct xlb_hc *e, const struct hc_target *t,
		struct hc_spec **out)
{
	const struct xlb_check_cfg *c = &t->cfg;
	size_t out_len = 0, match_len = 0, sni_len = 0, size;
	const char *out_str = "", *match = "";
	bool sock = c->kind != XLB_CHECK_EXEC;
	bool https = c->kind == XLB_CHECK_HTTPS;
	char req[768], why[96] = "", *p;
	struct hc_spec *sp;
	int n;

	if (!target_ok(t) ||
	    strnlen(c->tls_sni, sizeof(c->tls_sni)) >= sizeof(c->tls_sni) ||
	    strnlen(c->tls_ca, sizeof(c->tls_ca)) >= sizeof(c->tls_ca))
		return -EINVAL;
	if (c->kind == XLB_CHECK_HTTP || https) {
		n = http_request(t, req, sizeof(req));
		if (n < 0)
			return n;
		out_str = req;
		out_len = n;
		match = c->http_body;
		match_len = strnlen(c->http_body, sizeof(c->http_body) - 1);
	} else if (c->kind == XLB_CHECK_UDP) {
		out_str = c->udp_send;
		out_len = strnlen(c->udp_send, sizeof(c->udp_send));
		match = c->udp_expect;
		match_len = strnlen(c->udp_expect, sizeof(c->udp_expect) - 1);
	} else if (c->kind == XLB_CHECK_AGENT) {
		/* HAProxy's agents read no request: the line is a bonus. */
		n = snprintf(req, sizeof(req), "%s\n", t->env_vip);
		out_str = req;
		out_len = n;
	}
	if (https)
		sni_len = strlen(c->tls_sni);
	if (sock)
		/*
		 * out, match and the carry-over (match_len - 1 at most), or
		 * an agent's reply (its limit and one byte to see past it);
		 * HTTPS: the SNI and why there is no TLS context.
		 */
		size = out_len + 1 + 2 * (match_len + 1) +
		       (c->kind == XLB_CHECK_AGENT ? XLB_AGENT_REPLY_MAX + 2
						   : 0) +
		       (https ? sni_len + 1 + sizeof(why) : 0);
	else
		size = sizeof("sh") + sizeof("-c") + sizeof(c->exec_cmd) +
		       sizeof(HC_ENV_PATH) + sizeof(t->env_backend) +
		       sizeof(t->env_vip) + 3 * 16;
	sp = calloc(1, sizeof(*sp) + size);
	if (!sp)
		return -ENOMEM;
	sp->mark = t->mark;
	memcpy(sp->ifname, t->ifname, sizeof(sp->ifname));
	sp->ifname[sizeof(sp->ifname) - 1] = '\0';
	sp->mss = t->mss;
	sp->http_status = c->http_status ? c->http_status : 200;
	sp->out_len = out_len;
	sp->match_len = match_len;
	spec_addr(sp, t);
	if (sock) {
		p = sp->data;
		sp->sock.out = put(&p, out_str, out_len);
		sp->sock.match = put(&p, match, match_len);
		if (https) {
			sp->tls_sni = put(&p, c->tls_sni, sni_len);
			/*
			 * A CA file that cannot be read fails the probes
			 * with the reason, where the operator looks, rather
			 * than refusing a check the model found valid.
			 */
			if (hc_tls_ctx_get(e, c, &sp->tls, why, sizeof(why)))
				sp->tls_fail = put(&p, why, strlen(why));
		}
		sp->sock.carry = p;
	} else {
		spec_exec(sp, t);
	}
	*out = sp;
	return 0;
}
