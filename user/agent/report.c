// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * A load report: the request line that names a service, the load H of
 * that service from the last samples, and the reply line of HAProxy's
 * agent-check protocol. Everything here is a pure function of its
 * arguments, so the unit tests drive it with made-up metrics.
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"

const char *const agent_metric_names[AGENT_M_NUM] = {
	[AGENT_M_CPU] = "cpu",	 [AGENT_M_MEM] = "mem",
	[AGENT_M_RUNQ] = "runq", [AGENT_M_CONNS] = "conns",
	[AGENT_M_HOOK] = "hook",
};

int agent_parse_request(const char *line, struct xlb_vip_key *key,
			struct xlb_err *err)
{
	char buf[AGENT_REQUEST_MAX];
	size_t len = strlen(line);

	if (len && line[len - 1] == '\r')
		len--;
	if (len >= sizeof(buf) || len >= XLB_VIP_STRLEN) {
		xlb_err_set(err, "request line too long");
		return -EINVAL;
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	/* Only the printable text of a VIP: no spaces around it, no NUL,
	 * so two spellings of one service cannot both be accepted. */
	for (size_t i = 0; i < len; i++) {
		if (buf[i] <= ' ' || buf[i] > '~') {
			xlb_err_set(err, "request line has a byte 0x%02x",
				    (unsigned char)buf[i]);
			return -EINVAL;
		}
	}
	/* Port-less VIPs ("198.19.0.1/tcp", every port) are xlbd's too. */
	return xlb_parse_vip(buf, key, err) ? -EINVAL : 0;
}

double agent_norm(double raw, double ceiling)
{
	double v;

	if (!(ceiling > 0) || !(raw > 0)) /* also NaN */
		return 0;
	v = raw / ceiling;
	return v > 1 ? 1 : v;
}

double agent_load(const double m[AGENT_M_NUM], const struct agent_profile *p)
{
	double h = 0;

	for (int k = 0; k < AGENT_M_NUM; k++)
		h += p->w[k] * m[k];
	/* The weights sum to 1 within rounding: keep H in 0..1. */
	return h < 0 ? 0 : h > 1 ? 1 : h;
}

int agent_weight_pct(double h)
{
	long n = lround(100.0 * (1.0 - h));

	/* 0% would take the backend out; that is what drain and down
	 * are for, said in words. */
	return n < 1 ? 1 : n > 100 ? 100 : (int)n;
}

int agent_reply(double h, double drain_above, enum agent_word word, char *buf,
		size_t len)
{
	static const char *const words[] = {
		[AGENT_WORD_NONE] = "ready",
		[AGENT_WORD_DRAIN] = "drain",
		[AGENT_WORD_DOWN] = "down",
		[AGENT_WORD_MAINT] = "maint",
	};
	const char *w = words[word];
	int n;

	/* H is a sum of products: 0.7 + 0.2 + 0.05 may fall a hair short
	 * of the 0.95 an operator computed by hand. */
	if (word == AGENT_WORD_NONE && h >= drain_above - 1e-9)
		w = "drain";
	n = snprintf(buf, len, "%d%% %s\n", agent_weight_pct(h), w);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

void agent_metrics_of(const struct agent_view *v,
		      const struct agent_service *svc, double m[AGENT_M_NUM])
{
	const struct agent_cfg *c = v->cfg;
	const struct agent_host *h = v->host;
	const struct agent_hook_state *hs = NULL;
	int hook = svc ? svc->hook : 0;
	int cg = svc && svc->cgroup >= 0 ? svc->cgroup : c->host_cgroup;
	const struct agent_cg *g = cg >= 0 && v->cgroups && v->cgroups[cg].ok
					   ? &v->cgroups[cg]
					   : NULL;
	double conns;

	/* A cgroup that cannot be read leaves the host's figures. */
	m[AGENT_M_CPU] = agent_norm(g ? g->cpu_pct : h->cpu_pct, c->cpu_pct);
	if (g && g->has_psi)
		m[AGENT_M_MEM] = agent_norm(g->mem_psi_pct, c->mem_psi_pct);
	else if (h->has_psi)
		m[AGENT_M_MEM] = agent_norm(h->mem_psi_pct, c->mem_psi_pct);
	else
		m[AGENT_M_MEM] = agent_norm(h->mem_used_pct, c->mem_used_pct);
	m[AGENT_M_RUNQ] = agent_norm(h->runq, c->runq);
	/* UDP has no connections to count. */
	if (!svc)
		conns = v->conns ? v->conns->host : 0;
	else if (svc->key.proto == IPPROTO_TCP && v->conns)
		/* A port-less service has every listening port's. */
		conns = svc->key.port ? v->conns->by_port[ntohs(svc->key.port)]
				      : v->conns->host;
	else
		conns = 0;
	m[AGENT_M_CONNS] =
		agent_norm(conns, svc ? svc->conns_ceiling : c->conns);
	if (v->hooks)
		hs = agent_hooks_state(v->hooks, hook);
	m[AGENT_M_HOOK] =
		hs && hs->ok ? agent_norm(hs->value, c->hooks[hook].ceiling)
			     : 0;
}

int agent_answer(const struct agent_view *v, const struct agent_service *svc,
		 char *buf, size_t len)
{
	const struct agent_cfg *c = v->cfg;
	const struct agent_hook_state *hs = NULL;
	const struct agent_profile *p;
	double m[AGENT_M_NUM];

	agent_metrics_of(v, svc, m);
	p = &c->profiles[svc ? svc->profile : c->host_profile];
	if (v->hooks)
		hs = agent_hooks_state(v->hooks, svc ? svc->hook : 0);
	return agent_reply(agent_load(m, p),
			   svc ? svc->drain_above : c->drain_above,
			   hs ? hs->word : AGENT_WORD_NONE, buf, len);
}
