// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Byte-share correction (policy.h). Maglev shares flows, not bytes: a few
 * heavy flows on one backend give it more than its share of the traffic.
 * Every window, each backend's measured share of its VIP's traffic (per
 * class: bytes, packets) is compared with its target share (its weight
 * over the sum of the serving backends' weights), and a damped integral
 * loop corrects the weight written into the ring. Only new flows follow
 * the ring, so the loop acts on the traffic to come and leaves every
 * established flow where it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy.h"

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/*
 * The loop's gain on the relative error, cut so that a backend with far
 * more than its share is not corrected to nothing in one window (the
 * step bound would catch it; this keeps the renormalisation sane).
 */
static double gain_of(double target, double share)
{
	return clamp(1 + XLB_BALANCE_GAIN * (target - share) / target, 0.1,
		     1 + XLB_BALANCE_GAIN);
}

void xlb_balance_step(size_t n, const double *target, const double *share,
		      double *corr)
{
	double norm = 0;

	for (size_t i = 0; i < n; i++)
		if (target[i] > 0)
			norm += target[i] * corr[i] *
				gain_of(target[i], share[i]);
	if (norm <= 0)
		return;
	for (size_t i = 0; i < n; i++) {
		double next;

		if (target[i] <= 0)
			continue;
		next = corr[i] * gain_of(target[i], share[i]) / norm;
		next = clamp(next, corr[i] - XLB_BALANCE_STEP,
			     corr[i] + XLB_BALANCE_STEP);
		corr[i] = clamp(next, XLB_BALANCE_FLOOR, XLB_BALANCE_CEIL);
	}
}

static __u32 window_of(const struct xlb_vip_cfg *v)
{
	return v->balance_window_ms ? v->balance_window_ms
				    : XLB_BALANCE_WINDOW_MS_DEFAULT;
}

bool xlb_policy_balance_due(const struct xlb_policy *p,
			    const struct xlb_vip_cfg *v, __u64 now_ms)
{
	const struct xlb_balance_vip *bv = &p->bvip[v->vip_id];

	if (!v->balance || !v->vip_id || v->vip_id >= XLB_MAX_VIPS)
		return false;
	return !bv->primed || now_ms - bv->start_ms >= window_of(v);
}

static __u64 class_count(const struct xlb_counter *c, int cls)
{
	return cls == XLB_CLASS_BYTES ? c->bytes : c->packets;
}

static const char *const class_names[] = {"bytes", "packets"};
static const __u64 class_min[] = {XLB_BALANCE_MIN_BYTES,
				  XLB_BALANCE_MIN_PACKETS};

/*
 * The correction in force moves when the loop's has moved by more than
 * the hysteresis (each move rebuilds the ring), or exactly back to 1 when
 * forced (stale). b's fb_set is raised: a sync reads its share record.
 */
static void put_in_force(struct xlb_policy *p, const struct xlb_vip_cfg *v,
			 const struct xlb_backend_cfg *b, const char *why,
			 bool force, xlb_policy_log_fn log, void *ctx,
			 bool *changed)
{
	struct xlb_share *sh = &p->share[b->id];
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN], msg[256];
	double want = 0, cur = sh->corr_pm ? sh->corr_pm : XLB_PM;
	int k = 0;
	__u16 pm;

	p->fb_set[b->id] = 1;
	for (int c = 0; c < XLB_CLASS_MAX; c++)
		if (v->balance & (1u << c)) {
			want += sh->corr[c] ? sh->corr[c] : 1;
			k++;
		}
	pm = (__u16)(want / (k ? k : 1) * XLB_PM + 0.5);
	if (pm == cur || (!force && pm <= cur * (1 + XLB_BALANCE_HYSTERESIS) &&
			  pm >= cur * (1 - XLB_BALANCE_HYSTERESIS))) {
		sh->corr_pm = (__u16)cur;
		return;
	}
	snprintf(msg, sizeof(msg),
		 "backend %s of %s: share correction %.2f -> %.2f (%s)",
		 xlb_format_addr(&b->addr, b->family, as, sizeof(as)),
		 xlb_format_vip(&v->key, vs, sizeof(vs)), cur / XLB_PM,
		 (double)pm / XLB_PM, why);
	sh->corr_pm = pm;
	sh->changes++;
	*changed = true;
	if (log)
		log(ctx, msg);
}

/* No traffic to measure for long: every correction back to 1. */
static void balance_stale(struct xlb_policy *p, const struct xlb_vip_cfg *v,
			  xlb_policy_log_fn log, void *ctx, bool *changed)
{
	for (size_t j = 0; j < v->n_backends; j++) {
		struct xlb_share *sh = &p->share[v->backends[j].id];

		for (int c = 0; c < XLB_CLASS_MAX; c++)
			sh->corr[c] = 1;
		put_in_force(p, v, &v->backends[j],
			     "stale: too little traffic to measure", true, log,
			     ctx, changed);
	}
}

/*
 * This window's counts per backend and class into d (n x XLB_CLASS_MAX),
 * the window's start moved to now; counters that went back (a backend id
 * reused) count nothing.
 */
static void window_deltas(struct xlb_policy *p, const struct xlb_vip_cfg *v,
			  const struct xlb_counter *c, __u64 *d)
{
	for (size_t j = 0; j < v->n_backends; j++) {
		struct xlb_share *sh = &p->share[v->backends[j].id];

		for (int k = 0; k < XLB_CLASS_MAX; k++) {
			__u64 now = class_count(&c[j], k);

			d[j * XLB_CLASS_MAX + k] =
				now >= sh->base[k] ? now - sh->base[k] : 0;
			sh->base[k] = now;
		}
	}
}

/* Targets by weight (agent factor included) of the serving backends. */
static void window_targets(const struct xlb_policy *p,
			   const struct xlb_vip_cfg *v, double *t)
{
	double sum = 0;

	for (size_t j = 0; j < v->n_backends; j++) {
		const struct xlb_backend_cfg *b = &v->backends[j];

		t[j] = xlb_policy_serving(p, v, b)
			       ? b->weight * xlb_policy_agent_factor(p, b->id)
			       : 0;
		sum += t[j];
	}
	for (size_t j = 0; j < v->n_backends; j++)
		t[j] = sum > 0 ? t[j] / sum : 0;
}

/* One class: the shares measured and one step of the loop; false: idle. */
static bool window_class(struct xlb_policy *p, const struct xlb_vip_cfg *v,
			 int k, const __u64 *d, const double *t, double *s,
			 double *corr)
{
	__u64 total = 0;

	for (size_t j = 0; j < v->n_backends; j++)
		if (t[j] > 0)
			total += d[j * XLB_CLASS_MAX + k];
	if (total < class_min[k])
		return false;
	for (size_t j = 0; j < v->n_backends; j++) {
		struct xlb_share *sh = &p->share[v->backends[j].id];

		s[j] = t[j] > 0 ? (double)d[j * XLB_CLASS_MAX + k] / total : 0;
		sh->share[k] = s[j];
		corr[j] = sh->corr[k] ? sh->corr[k] : 1;
	}
	xlb_balance_step(v->n_backends, t, s, corr);
	for (size_t j = 0; j < v->n_backends; j++)
		p->share[v->backends[j].id].corr[k] = corr[j];
	return true;
}

static void window_apply(struct xlb_policy *p, const struct xlb_vip_cfg *v,
			 const double *t, xlb_policy_log_fn log, void *ctx,
			 bool *changed)
{
	char why[96];

	for (size_t j = 0; j < v->n_backends; j++) {
		struct xlb_share *sh = &p->share[v->backends[j].id];
		int k = v->balance & XLB_BALANCE_BYTES ? XLB_CLASS_BYTES
						       : XLB_CLASS_PACKETS;

		sh->target = t[j];
		snprintf(why, sizeof(why), "%s share %.1f%%, target %.1f%%",
			 class_names[k], 100 * sh->share[k], 100 * t[j]);
		put_in_force(p, v, &v->backends[j], why, false, log, ctx,
			     changed);
	}
}

void xlb_policy_balance_window(struct xlb_policy *p, const struct xlb_model *m,
			       size_t vi, const struct xlb_counter *c,
			       __u64 now_ms, xlb_policy_log_fn log, void *ctx,
			       bool *changed)
{
	const struct xlb_vip_cfg *v = &m->vips[vi];
	struct xlb_balance_vip *bv = &p->bvip[v->vip_id];
	size_t n = v->n_backends ? v->n_backends : 1;
	bool measured = false;
	double *t, *s, *corr;
	__u64 *d;

	*changed = false;
	if (!xlb_policy_balance_due(p, v, now_ms) || !c)
		return;
	d = calloc(n * XLB_CLASS_MAX, sizeof(*d));
	t = calloc(3 * n, sizeof(*t));
	if (!d || !t)
		goto out_free;
	s = t + n;
	corr = s + n;
	window_deltas(p, v, c, d);
	bv->start_ms = now_ms;
	if (!bv->primed) {
		bv->primed = 1;
		goto out_free;
	}
	window_targets(p, v, t);
	for (int k = 0; k < XLB_CLASS_MAX; k++)
		if (v->balance & (1u << k))
			measured |= window_class(p, v, k, d, t, s, corr);
	if (measured) {
		bv->idle = 0;
		bv->stale = 0;
		window_apply(p, v, t, log, ctx, changed);
	} else if (++bv->idle >= XLB_AGENT_STALE_INTERVALS && !bv->stale) {
		bv->stale = 1;
		balance_stale(p, v, log, ctx, changed);
	}
out_free:
	free(d);
	free(t);
}

double xlb_policy_correction(const struct xlb_policy *p, __u32 id)
{
	const struct xlb_share *sh = &p->share[id];

	return sh->corr_pm ? (double)sh->corr_pm / XLB_PM : 1.0;
}

const char *xlb_policy_balance_reason(const struct xlb_policy *p,
				      const struct xlb_vip_cfg *v,
				      const struct xlb_backend_cfg *b,
				      char *buf, size_t len)
{
	const struct xlb_balance_vip *bv = &p->bvip[v->vip_id];
	const struct xlb_share *sh = &p->share[b->id];
	int k = v->balance & XLB_BALANCE_BYTES ? XLB_CLASS_BYTES
					       : XLB_CLASS_PACKETS;

	if (!v->balance)
		snprintf(buf, len, "off");
	else if (bv->stale)
		snprintf(buf, len, "stale: no traffic to measure");
	else if (!sh->corr_pm)
		snprintf(buf, len, "measuring");
	else
		snprintf(buf, len, "%s share %.1f%%, target %.1f%%",
			 class_names[k], 100 * sh->share[k], 100 * sh->target);
	return buf;
}
