// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Glue between the model, the health engine and the policy: which checks
 * run against what (a check through the tunnel is a socket to VIP:port
 * marked with the backend's id, which the TC egress program encapsulates
 * toward that backend), and what a result changes.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xlbd.h"

static void make_target(struct xlbd *d, const struct xlb_vip_cfg *v,
			const struct xlb_backend_cfg *b, struct hc_target *t)
{
	const struct xlb_model *m = &d->model;
	const struct xlb_check_cfg *c = xlb_backend_check(v, b);
	__u8 encap = v->encap ? v->encap : m->global.encap;

	memset(t, 0, sizeof(*t));
	t->id = b->id;
	t->cfg = *c;
	t->port = c->port ? c->port : ntohs(v->key.port);
	/*
	 * A full-NAT backend is reached at its own address, which is where
	 * a plain check goes: it has no tunnel to check, and the balancer's
	 * own sockets never pass its XDP program.
	 */
	if (c->tunnel && v->mode != XLB_VIP_MODE_NAT) {
		t->family = v->key.family;
		t->dst = v->key.addr;
		t->mark = XLB_HC_MARK(b->id, encap == XLB_ENCAP_GUE);
		snprintf(t->ifname, sizeof(t->ifname), "%s", d->ifname);
		/* Room for the outer header (IPv6 + UDP) and TCP options. */
		if (m->global.mtu)
			t->mss = m->global.mtu - 48 - 60;
	} else {
		t->family = b->family;
		t->dst = b->addr;
	}
	xlb_format_addr(&b->addr, b->family, t->env_backend,
			sizeof(t->env_backend));
	xlb_format_vip(&v->key, t->env_vip, sizeof(t->env_vip));
}

/*
 * The agent check of b: plain to the backend's own address (an agent
 * answers for its host, not through the VIP), at the agent port, with
 * the VIP as its request line; its engine id has XLBD_AGENT_ID set.
 */
static void make_agent_target(const struct xlb_vip_cfg *v,
			      const struct xlb_backend_cfg *b,
			      struct hc_target *t)
{
	memset(t, 0, sizeof(*t));
	t->id = b->id | XLBD_AGENT_ID;
	t->cfg = v->agent;
	t->port = v->agent.port ? v->agent.port : XLB_AGENT_PORT_DEFAULT;
	t->family = b->family;
	t->dst = b->addr;
	xlb_format_addr(&b->addr, b->family, t->env_backend,
			sizeof(t->env_backend));
	xlb_format_vip(&v->key, t->env_vip, sizeof(t->env_vip));
}

/* Starts or keeps the check t of slot (a health or an agent check). */
static void want_target(struct xlbd *d, struct hc_target *slot,
			const struct hc_target *t)
{
	/* Unchanged checks keep their schedule. */
	if (slot->id == t->id && !memcmp(slot, t, sizeof(*t)))
		return;
	if (xlb_hc_set(d->hc, t)) {
		xlb_log(LOG_ERR, "cannot start the %s check of %s",
			xlb_check_kind_name(t->cfg.kind), t->env_backend);
		return;
	}
	*slot = *t;
}

/* Bits of a backend id's checks in xlbd_checks_sync's bookkeeping. */
#define RUN_HEALTH 1 /* d->targets[id] */
#define RUN_AGENT  2 /* d->agent_targets[id] */

void xlbd_checks_sync(struct xlbd *d)
{
	/*
	 * running[id]: which of id's targets hold a check. Reading every
	 * target (14 MB) to find the ones to stop took most of a sync.
	 */
	static __u8 wanted[XLB_MAX_BACKENDS], running[XLB_MAX_BACKENDS];
	const struct xlb_model *m = &d->model;
	struct hc_target t;
	__u8 stop;

	memset(wanted, 0, sizeof(wanted));
	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];

		for (size_t j = 0; j < v->n_backends; j++) {
			const struct xlb_backend_cfg *b = &v->backends[j];

			if (v->agent.kind == XLB_CHECK_AGENT) {
				make_agent_target(v, b, &t);
				wanted[b->id] |= RUN_AGENT;
				want_target(d, &d->agent_targets[b->id], &t);
				if (d->agent_targets[b->id].id)
					running[b->id] |= RUN_AGENT;
			}
			if (xlb_backend_check(v, b)->kind == XLB_CHECK_NONE)
				continue;
			make_target(d, v, b, &t);
			wanted[b->id] |= RUN_HEALTH;
			want_target(d, &d->targets[b->id], &t);
			if (d->targets[b->id].id == b->id)
				running[b->id] |= RUN_HEALTH;
		}
	}
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++) {
		stop = running[id] & ~wanted[id];
		if (!stop)
			continue;
		running[id] &= ~stop;
		if ((stop & RUN_HEALTH) && d->targets[id].id == id) {
			xlb_hc_del(d->hc, id);
			memset(&d->targets[id], 0, sizeof(d->targets[id]));
		}
		if ((stop & RUN_AGENT) && d->agent_targets[id].id) {
			xlb_hc_del(d->hc, id | XLBD_AGENT_ID);
			memset(&d->agent_targets[id], 0,
			       sizeof(d->agent_targets[id]));
		}
	}
}

/* An agent's report: logged when it changed something or is malformed. */
static void on_agent(struct xlbd *d, const struct hc_result *r)
{
	char msg[512];
	bool changed;

	pthread_mutex_lock(&d->lock);
	changed = xlb_policy_agent_result(
		d->policy, &d->model, r->id & ~XLBD_AGENT_ID, r->ok, r->reply,
		r->reply_len, r->detail, xlb_now_ms(), msg, sizeof(msg));
	d->agent_reports++;
	pthread_mutex_unlock(&d->lock);
	if (msg[0])
		xlb_log(changed ? LOG_NOTICE : LOG_WARNING, "%s", msg);
	if (changed)
		d->refresh_pending = true;
}

void xlbd_on_result(void *ctx, const struct hc_result *r)
{
	struct xlbd *d = ctx;
	char msg[256];
	bool changed;

	if (r->id & XLBD_AGENT_ID) {
		on_agent(d, r);
		return;
	}
	pthread_mutex_lock(&d->lock);
	changed = xlb_policy_result(d->policy, &d->model, r->id, r->ok,
				    r->latency_us, r->detail, xlb_now_ms(), msg,
				    sizeof(msg));
	pthread_mutex_unlock(&d->lock);
	if (msg[0]) {
		d->health_events++;
		xlb_log(LOG_NOTICE, "%s", msg);
	}
	if (changed && !d->refresh_pending)
		d->detected_ns = xlb_now_ns();
	if (changed)
		d->refresh_pending = true;
}
