// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Load reports (policy.h): HAProxy's agent-check replies judged strictly,
 * and what a report, a silent agent or a stale one does to a backend's
 * agent factor and state. A reply that is not exactly understood is a
 * failed report: a weight guessed from half a line would move traffic on
 * a typo.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "policy.h"

/* The state words, HAProxy's. */
static const struct {
	const char *word;
	int state;
} agent_words[] = {
	{"up", XLB_AGENT_SERVE},    {"ready", XLB_AGENT_SERVE},
	{"drain", XLB_AGENT_DRAIN}, {"down", XLB_AGENT_DOWN},
	{"fail", XLB_AGENT_DOWN},   {"stopped", XLB_AGENT_DOWN},
	{"maint", XLB_AGENT_MAINT},
};

static bool is_sep(char c)
{
	return c == ' ' || c == ',' || c == '\t';
}

/* "N%" with N 0..100 written in at most three digits; -1 if not. */
static int parse_percent(const char *w, size_t n)
{
	int v = 0;

	if (n < 2 || n > 4 || w[n - 1] != '%')
		return -1;
	for (size_t i = 0; i + 1 < n; i++) {
		if (w[i] < '0' || w[i] > '9')
			return -1;
		v = v * 10 + (w[i] - '0');
	}
	return v <= 100 ? v : -1;
}

/* One word into r; -EINVAL with why when it means nothing or clashes. */
static int agent_word(const char *w, size_t n, struct xlb_agent_report *r,
		      struct xlb_err *why)
{
	int pct = parse_percent(w, n);

	if (pct >= 0) {
		if (r->percent >= 0) {
			xlb_err_set(why, "two weights");
			return -EINVAL;
		}
		r->percent = pct;
		return 0;
	}
	for (size_t i = 0; i < sizeof(agent_words) / sizeof(agent_words[0]);
	     i++) {
		if (strlen(agent_words[i].word) != n ||
		    strncmp(agent_words[i].word, w, n))
			continue;
		if (r->state >= 0 && r->state != agent_words[i].state) {
			xlb_err_set(why, "state words disagree");
			return -EINVAL;
		}
		r->state = agent_words[i].state;
		return 0;
	}
	xlb_err_set(why, "unknown word '%.*s'", (int)(n > 16 ? 16 : n), w);
	return -EINVAL;
}

/* The line's length without its end ("\n", "\r\n" or EOF); -1 if bad. */
static long line_body(const char *buf, size_t len, struct xlb_err *why)
{
	size_t n = len;

	if (len > XLB_AGENT_REPLY_MAX) {
		xlb_err_set(why, "longer than %d bytes", XLB_AGENT_REPLY_MAX);
		return -1;
	}
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = buf[i];

		if (c == '\t')
			continue;
		if (c < 0x20 || c >= 0x7f) {
			xlb_err_set(why, "byte 0x%02x at %zu", c, i);
			return -1;
		}
	}
	return (long)n;
}

int xlb_agent_parse(const char *buf, size_t len, struct xlb_agent_report *r,
		    struct xlb_err *why)
{
	long n = line_body(buf, len, why);
	const char *p = buf, *end, *hash;

	memset(r, 0, sizeof(*r));
	r->percent = r->state = -1;
	if (n < 0)
		return -EINVAL;
	end = buf + n;
	hash = memchr(buf, '#', n);
	if (hash) {
		snprintf(r->desc, sizeof(r->desc), "%.*s",
			 (int)(end - hash - 1), hash + 1);
		end = hash;
	}
	while (p < end) {
		const char *w;

		while (p < end && is_sep(*p))
			p++;
		for (w = p; p < end && !is_sep(*p);)
			p++;
		if (p > w && agent_word(w, p - w, r, why))
			return -EINVAL;
	}
	if (r->percent < 0 && r->state < 0) {
		xlb_err_set(why, n ? "no weight nor state" : "empty line");
		return -EINVAL;
	}
	return 0;
}

static const char *const agent_state_names[] = {
	[XLB_AGENT_SERVE] = "up",
	[XLB_AGENT_DRAIN] = "drain",
	[XLB_AGENT_DOWN] = "down",
	[XLB_AGENT_MAINT] = "maint",
};

/* "backend ADDR of VIP" for log lines. */
static void who(const struct xlb_policy *p, const struct xlb_model *m, __u32 id,
		char *buf, size_t len)
{
	const struct xlb_vip_cfg *v = &m->vips[p->pos_vip[id]];
	const struct xlb_backend_cfg *b = &v->backends[p->pos_backend[id]];
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];

	snprintf(buf, len, "backend %s of %s",
		 xlb_format_addr(&b->addr, b->family, as, sizeof(as)),
		 xlb_format_vip(&v->key, vs, sizeof(vs)));
}

/*
 * The factor that is put in force for a report of pm: small moves are
 * left out (each would rebuild the ring), but the ends always count, so
 * that "0%" and "100%" mean exactly that.
 */
static __u16 agent_hysteresis(__u16 cur, __u16 pm)
{
	int d = (int)pm - (int)cur;

	if (pm == 0 || pm == XLB_PM || d >= XLB_AGENT_HYSTERESIS_PM ||
	    d <= -XLB_AGENT_HYSTERESIS_PM)
		return pm;
	return cur;
}

/* A malformed reply: counted; logged the 1st, 2nd, 4th, 8th... time. */
static void agent_malformed(struct xlb_agent *a, const char *whom,
			    const struct xlb_err *why, char *msg,
			    size_t msg_len)
{
	a->malformed++;
	snprintf(a->last_error, sizeof(a->last_error), "malformed reply: %s",
		 why->msg);
	if (a->malformed & (a->malformed - 1))
		return;
	snprintf(msg, msg_len,
		 "agent of %s: malformed reply (%s), ignored; %llu so far",
		 whom, why->msg, (unsigned long long)a->malformed);
}

bool xlb_policy_agent_result(struct xlb_policy *p, const struct xlb_model *m,
			     __u32 id, bool answered, const char *reply,
			     size_t len, const char *detail, __u64 now_ms,
			     char *msg, size_t msg_len)
{
	struct xlb_err why = {{0}};
	struct xlb_agent_report r;
	struct xlb_agent *a;
	char whom[XLB_ADDR_STRLEN + XLB_VIP_STRLEN + 16];
	__u16 pm, factor;
	__u8 state;

	if (msg_len)
		msg[0] = '\0';
	if (id >= XLB_MAX_BACKENDS || !p->pos_valid[id] ||
	    !p->agent[id].enabled)
		return false;
	a = &p->agent[id];
	who(p, m, id, whom, sizeof(whom));
	if (!answered) {
		/* Its health check says whether the backend is down. */
		a->failed++;
		snprintf(a->last_error, sizeof(a->last_error), "%s", detail);
		return false;
	}
	if (xlb_agent_parse(reply, len, &r, &why)) {
		agent_malformed(a, whom, &why, msg, msg_len);
		return false;
	}
	a->reports++;
	a->report_ms = now_ms;
	a->last_error[0] = '\0';
	snprintf(a->desc, sizeof(a->desc), "%s", r.desc);
	/* What a reply leaves unsaid stays as the agent last said it. */
	state = r.state >= 0 ? r.state : a->fresh ? a->state : XLB_AGENT_SERVE;
	pm = r.percent >= 0 ? r.percent * 10
	     : a->fresh	    ? a->reported_pm
			    : XLB_PM;
	a->fresh = 1;
	a->reported_pm = pm;
	factor = agent_hysteresis(a->factor_pm, pm);
	if (factor == a->factor_pm && state == a->state)
		return false;
	snprintf(msg, msg_len, "agent of %s: weight %u%% -> %u%%, %s -> %s%s%s",
		 whom, a->factor_pm / 10, factor / 10,
		 agent_state_names[a->state], agent_state_names[state],
		 r.desc[0] ? " #" : "", r.desc);
	a->factor_pm = factor;
	a->state = state;
	a->changes++;
	return true;
}

bool xlb_policy_agent_expire(struct xlb_policy *p, const struct xlb_model *m,
			     __u64 now_ms, xlb_policy_log_fn log, void *ctx)
{
	char whom[XLB_ADDR_STRLEN + XLB_VIP_STRLEN + 16], msg[256];
	bool changed = false;

	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++) {
		struct xlb_agent *a = &p->agent[id];
		__u64 max_age;

		if (!p->pos_valid[id] || !a->enabled || !a->fresh)
			continue;
		max_age = (__u64)XLB_AGENT_STALE_INTERVALS *
			  m->vips[p->pos_vip[id]].agent.interval_ms;
		if (now_ms - a->report_ms <= max_age)
			continue;
		a->fresh = 0;
		a->stale++;
		who(p, m, id, whom, sizeof(whom));
		snprintf(msg, sizeof(msg),
			 "agent of %s: no report for %llu ms, stale: back to "
			 "the configured weight (was %u%%, %s)",
			 whom, (unsigned long long)(now_ms - a->report_ms),
			 a->factor_pm / 10, agent_state_names[a->state]);
		if (log)
			log(ctx, msg);
		if (a->factor_pm != XLB_PM || a->state != XLB_AGENT_SERVE) {
			a->changes++;
			changed = true;
		}
		a->factor_pm = a->reported_pm = XLB_PM;
		a->state = XLB_AGENT_SERVE;
	}
	return changed;
}

double xlb_policy_agent_factor(const struct xlb_policy *p, __u32 id)
{
	const struct xlb_agent *a = &p->agent[id];

	return a->enabled ? (double)a->factor_pm / XLB_PM : 1.0;
}

const char *xlb_policy_agent_reason(const struct xlb_policy *p,
				    const struct xlb_vip_cfg *v,
				    const struct xlb_backend_cfg *b,
				    __u64 now_ms, char *buf, size_t len)
{
	const struct xlb_agent *a = &p->agent[b->id];

	(void)v;
	if (!a->enabled)
		snprintf(buf, len, "no agent");
	else if (!a->fresh && !a->report_ms)
		snprintf(buf, len, "awaiting report%s%s",
			 a->last_error[0] ? ": " : "", a->last_error);
	else if (!a->fresh)
		snprintf(buf, len, "stale (%llu ms): configured weight",
			 (unsigned long long)(now_ms - a->report_ms));
	else
		snprintf(buf, len, "agent: %u%% %s%s%s%s%s",
			 a->reported_pm / 10, agent_state_names[a->state],
			 a->desc[0] ? " #" : "", a->desc,
			 a->last_error[0] ? "; last: " : "", a->last_error);
	return buf;
}
