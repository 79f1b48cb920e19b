// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The weight policy (see policy.h). State is kept per backend id; the
 * position of each id in the model is indexed at every sync, so a check
 * result costs O(1) whatever the number of backends.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "policy.h"

/*
 * Agents and share loops follow the model: a backend whose VIP lost its
 * agent check or its loop forgets them, so that getting them back starts
 * from the configured weight; a VIP id reused starts a fresh window.
 */
static void sync_feedback(struct xlb_policy *p, const struct xlb_model *m)
{
	static __u8 vip_used[XLB_MAX_VIPS];

	memset(vip_used, 0, sizeof(vip_used));
	for (__u32 id = 0; id < XLB_MAX_BACKENDS; id++) {
		const struct xlb_vip_cfg *v =
			p->pos_valid[id] ? &m->vips[p->pos_vip[id]] : NULL;
		struct xlb_agent *a = &p->agent[id];

		if (v && v->vip_id < XLB_MAX_VIPS && v->balance)
			vip_used[v->vip_id] = 1;
		/* Nothing of its records set, nor to be: not read. */
		if (!p->fb_set[id] && (!v || v->agent.kind != XLB_CHECK_AGENT))
			continue;
		if (!v || v->agent.kind != XLB_CHECK_AGENT) {
			if (a->enabled)
				memset(a, 0, sizeof(*a));
		} else if (!a->enabled) {
			memset(a, 0, sizeof(*a));
			a->enabled = 1;
			a->factor_pm = a->reported_pm = XLB_PM;
		}
		if ((!v || !v->balance) && p->share[id].corr_pm)
			memset(&p->share[id], 0, sizeof(p->share[id]));
		p->fb_set[id] = a->enabled || p->share[id].corr_pm;
	}
	for (__u32 i = 0; i < XLB_MAX_VIPS; i++)
		if (!vip_used[i])
			memset(&p->bvip[i], 0, sizeof(p->bvip[i]));
}

void xlb_policy_sync(struct xlb_policy *p, const struct xlb_model *m,
		     bool trust_new, __u64 now_ms)
{
	/* A backend that served before its check was configured keeps
	 * serving until the check says otherwise; only new ones wait. */
	memcpy(p->was_valid, p->pos_valid, sizeof(p->was_valid));
	memset(p->pos_valid, 0, sizeof(p->pos_valid));
	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];

		for (size_t j = 0; j < v->n_backends; j++) {
			const struct xlb_backend_cfg *b = &v->backends[j];
			struct xlb_health *h;
			bool checked;

			if (!b->id || b->id >= XLB_MAX_BACKENDS)
				continue;
			h = &p->h[b->id];
			p->pos_vip[b->id] = i;
			p->pos_backend[b->id] = j;
			p->pos_valid[b->id] = 1;
			checked =
				xlb_backend_check(v, b)->kind != XLB_CHECK_NONE;
			if (checked && !p->checked[b->id]) {
				memset(h, 0, sizeof(*h));
				h->checked = p->checked[b->id] = 1;
				h->state = (trust_new || p->was_valid[b->id]) &&
							   !p->start_down[b->id]
						   ? XLB_HEALTH_UP
						   : XLB_HEALTH_DOWN;
				h->seen_up = h->state == XLB_HEALTH_UP;
				h->changed_ms = now_ms;
				snprintf(h->last_detail, sizeof(h->last_detail),
					 "%s", "not checked yet");
			} else if (!checked && p->checked[b->id]) {
				memset(h, 0, sizeof(*h));
				h->changed_ms = now_ms;
				p->checked[b->id] = 0;
			}
		}
	}
	/* Ids no longer in the model start afresh if they are reused. Only
	 * those of the last sync can hold state: reading every id's
	 * record (4 MB) was most of a sync. */
	for (__u32 id = 0; id < XLB_MAX_BACKENDS; id++)
		if (!p->pos_valid[id] && p->was_valid[id] &&
		    (p->checked[id] || p->h[id].changed_ms)) {
			memset(&p->h[id], 0, sizeof(p->h[id]));
			p->checked[id] = 0;
		}
	sync_feedback(p, m);
}

/* Records a change of state; true when it makes the backend a flapper. */
static bool record_flap(struct xlb_health *h, const struct xlb_global_cfg *g,
			__u64 now_ms)
{
	__u32 recent = 0;

	if (h->n_flaps < XLB_FLAP_HISTORY)
		h->n_flaps++;
	memmove(&h->flaps[1], &h->flaps[0],
		(XLB_FLAP_HISTORY - 1) * sizeof(h->flaps[0]));
	h->flaps[0] = now_ms;
	if (!g->flap_count)
		return false;
	for (__u32 i = 0; i < h->n_flaps; i++)
		if (now_ms - h->flaps[i] <= g->flap_window_ms)
			recent++;
	return recent >= g->flap_count;
}

bool xlb_policy_result(struct xlb_policy *p, const struct xlb_model *m,
		       __u32 id, bool ok, __u32 latency_us, const char *detail,
		       __u64 now_ms, char *msg, size_t msg_len)
{
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];
	const struct xlb_check_cfg *c;
	const struct xlb_backend_cfg *b;
	const struct xlb_vip_cfg *v;
	struct xlb_health *h;
	__u8 before;

	if (msg_len)
		msg[0] = '\0';
	if (id >= XLB_MAX_BACKENDS || !p->pos_valid[id] || !p->h[id].checked)
		return false;
	v = &m->vips[p->pos_vip[id]];
	b = &v->backends[p->pos_backend[id]];
	c = xlb_backend_check(v, b);
	h = &p->h[id];
	h->last_ok = ok;
	h->has_result = 1;
	h->last_latency_us = latency_us;
	snprintf(h->last_detail, sizeof(h->last_detail), "%s", detail);
	if (ok) {
		h->fail_run = 0;
		if (h->ok_run < 255)
			h->ok_run++;
	} else {
		h->ok_run = 0;
		if (h->fail_run < 255)
			h->fail_run++;
	}
	if (h->held) {
		if (now_ms < h->hold_until_ms)
			return false;
		/* Released: it must earn `rise` good results afresh. */
		h->held = 0;
		h->n_flaps = 0;
		h->ok_run = ok;
	}

	before = h->state;
	if (h->state == XLB_HEALTH_UP && h->fail_run >= c->fall)
		h->state = XLB_HEALTH_DOWN;
	else if (h->state == XLB_HEALTH_DOWN && h->ok_run >= c->rise)
		h->state = XLB_HEALTH_UP;
	if (h->state == before)
		return false;

	h->changed_ms = now_ms;
	h->transitions++;
	xlb_format_vip(&v->key, vip, sizeof(vip));
	xlb_format_addr(&b->addr, b->family, addr, sizeof(addr));
	/* Coming up for the first time is not flapping. */
	if (h->seen_up && record_flap(h, &m->global, now_ms)) {
		h->held = 1;
		h->hold_until_ms = now_ms + m->global.flap_hold_ms;
		if (h->state == XLB_HEALTH_UP) {
			h->state = XLB_HEALTH_DOWN;
			h->transitions++;
		}
		snprintf(msg, msg_len,
			 "backend %s of %s flapping: held down for %u ms (%s)",
			 addr, vip, m->global.flap_hold_ms, detail);
		return before != h->state;
	}
	if (h->state == XLB_HEALTH_UP) {
		/* New or recovered, it is cold: slow start either way. */
		h->up_ms = now_ms;
		h->seen_up = 1;
	}
	snprintf(
		msg, msg_len, "backend %s of %s is %s after %u %s check%s (%s)",
		addr, vip, h->state == XLB_HEALTH_UP ? "up" : "down",
		h->state == XLB_HEALTH_UP ? c->rise : c->fall,
		ok ? "good" : "failed",
		(h->state == XLB_HEALTH_UP ? c->rise : c->fall) == 1 ? "" : "s",
		detail);
	return true;
}

/* Is the backend serving as far as its checks go? */
static bool healthy(const struct xlb_health *h)
{
	return !h->checked || (h->state == XLB_HEALTH_UP && !h->held);
}

static bool all_down(const struct xlb_policy *p, const struct xlb_vip_cfg *v);

/*
 * Its weight during slow start, in the VIP's scaled units (weight x
 * XLB_SLOW_START_SCALE): step k of the ramp gives k tenths of it.
 */
static __u32 ramp(__u32 scaled, __u64 since_ms, __u32 slow_ms)
{
	__u64 step;

	if (!slow_ms || !scaled || since_ms >= slow_ms)
		return scaled;
	step = since_ms * XLB_SLOW_START_STEPS / slow_ms + 1;
	scaled = (__u32)((__u64)scaled * step / XLB_SLOW_START_STEPS);
	return scaled ? scaled : 1;
}

__u32 xlb_policy_scale(const struct xlb_vip_cfg *v)
{
	if (v->agent.kind == XLB_CHECK_AGENT || v->balance)
		return XLB_FEEDBACK_SCALE;
	return v->slow_start_ms ? XLB_SLOW_START_SCALE : 1;
}

bool xlb_policy_serving(const struct xlb_policy *p, const struct xlb_vip_cfg *v,
			const struct xlb_backend_cfg *b)
{
	const struct xlb_agent *a = &p->agent[b->id];

	(void)v;
	return b->state == XLB_BACKEND_UP && healthy(&p->h[b->id]) &&
	       (!a->enabled || !a->fresh || a->state == XLB_AGENT_SERVE);
}

/*
 * What the agent and the share loop make of a serving backend's weight
 * (in the VIP's scaled units) and state. A weight the factors cut to 0
 * while the agent asked for more than 0% keeps one unit: 0 is "no new
 * flows", which only the agent's "0%" or "drain" says.
 */
static void feedback(const struct xlb_policy *p, const struct xlb_vip_cfg *v,
		     struct xlb_backend_cfg *b)
{
	const struct xlb_agent *a = &p->agent[b->id];
	const struct xlb_share *sh = &p->share[b->id];
	__u64 w = b->weight;

	if (a->enabled && a->fresh) {
		if (a->state == XLB_AGENT_MAINT)
			b->state = XLB_BACKEND_DOWN;
		else if (a->state == XLB_AGENT_DOWN)
			b->state = v->on_check_down == XLB_CHECK_DOWN_MOVE
					   ? XLB_BACKEND_DOWN
					   : XLB_BACKEND_DRAIN;
		else if (a->state == XLB_AGENT_DRAIN)
			b->state = XLB_BACKEND_DRAIN;
		w = w * a->factor_pm / XLB_PM;
	}
	if (v->balance && sh->corr_pm)
		w = w * sh->corr_pm / XLB_PM;
	if (!w && b->weight && (!a->enabled || !a->fresh || a->factor_pm))
		w = 1;
	b->weight = (__u32)w;
}

int xlb_policy_effective(const struct xlb_policy *p, const struct xlb_model *m,
			 __u64 now_ms, struct xlb_model *out)
{
	int ret = xlb_model_copy(out, m);

	if (ret)
		return ret;
	for (size_t i = 0; i < out->n_vips; i++) {
		struct xlb_vip_cfg *v = &out->vips[i];
		__u32 scale = xlb_policy_scale(v);

		for (size_t j = 0; j < v->n_backends; j++)
			v->backends[j].weight *= scale;
		/* Every candidate down and the VIP says keep: trust none of
		 * the checks rather than serve nothing. */
		if (v->all_down == XLB_ALL_DOWN_KEEP && all_down(p, v))
			continue;
		for (size_t j = 0; j < v->n_backends; j++) {
			struct xlb_backend_cfg *b = &v->backends[j];
			const struct xlb_health *h = &p->h[b->id];

			if (b->state != XLB_BACKEND_UP)
				continue;
			/* Out of the ring either way; keep: its flows stay. */
			if (h->checked && !healthy(h)) {
				b->state =
					v->on_check_down == XLB_CHECK_DOWN_MOVE
						? XLB_BACKEND_DOWN
						: XLB_BACKEND_DRAIN;
				continue;
			}
			if (h->checked && h->up_ms)
				b->weight = ramp(b->weight, now_ms - h->up_ms,
						 v->slow_start_ms);
			feedback(p, v, b);
		}
	}
	return 0;
}

__u64 xlb_policy_next_change(const struct xlb_policy *p,
			     const struct xlb_model *m, __u64 now_ms)
{
	__u64 next = 0;

	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];
		__u32 slow = v->slow_start_ms;

		for (size_t j = 0; slow && j < v->n_backends; j++) {
			const struct xlb_health *h = &p->h[v->backends[j].id];
			__u64 since, step, at;

			if (!h->checked || !healthy(h) || !h->up_ms)
				continue;
			since = now_ms - h->up_ms;
			if (since >= slow)
				continue;
			step = since * XLB_SLOW_START_STEPS / slow + 1;
			at = h->up_ms + (step * slow + XLB_SLOW_START_STEPS -
					 1) / XLB_SLOW_START_STEPS;
			if (!next || at < next)
				next = at;
		}
	}
	return next;
}

/* Are all of the VIP's operator-up backends down by their checks? */
static bool all_down(const struct xlb_policy *p, const struct xlb_vip_cfg *v)
{
	size_t candidates = 0;

	for (size_t j = 0; j < v->n_backends; j++) {
		const struct xlb_backend_cfg *b = &v->backends[j];

		if (b->state != XLB_BACKEND_UP)
			continue;
		candidates++;
		if (healthy(&p->h[b->id]))
			return false;
	}
	return candidates > 0;
}

const char *xlb_policy_health_name(const struct xlb_health *h)
{
	if (!h->checked)
		return "unchecked";
	return healthy(h) ? "up" : "down";
}

const char *xlb_policy_reason(const struct xlb_policy *p,
			      const struct xlb_vip_cfg *v,
			      const struct xlb_backend_cfg *b, __u64 now_ms)
{
	const struct xlb_health *h = &p->h[b->id];

	if (b->state == XLB_BACKEND_DOWN)
		return "operator: down";
	if (b->state == XLB_BACKEND_DRAIN)
		return "operator: drain";
	if (!h->checked)
		return "no check";
	if (h->held)
		return "flapping: held down";
	if (h->state != XLB_HEALTH_UP) {
		if (v->all_down == XLB_ALL_DOWN_KEEP && all_down(p, v))
			return "all down: last ring kept";
		return h->transitions || h->fail_run ? "check failed"
						     : "awaiting checks";
	}
	if (h->up_ms && v->slow_start_ms &&
	    now_ms - h->up_ms < v->slow_start_ms)
		return "slow start";
	return h->has_result ? "check ok" : "restored: not checked yet";
}
