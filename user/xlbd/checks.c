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
	if (c->tunnel) {
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

void xlbd_checks_sync(struct xlbd *d)
{
	/* running[id]: d->targets[id] holds a check. Reading every target
	 * (14 MB) to find the ones to stop took most of a sync. */
	static __u8 wanted[XLB_MAX_BACKENDS], running[XLB_MAX_BACKENDS];
	const struct xlb_model *m = &d->model;
	struct hc_target t;

	memset(wanted, 0, sizeof(wanted));
	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];

		for (size_t j = 0; j < v->n_backends; j++) {
			const struct xlb_backend_cfg *b = &v->backends[j];

			if (xlb_backend_check(v, b)->kind == XLB_CHECK_NONE)
				continue;
			make_target(d, v, b, &t);
			wanted[b->id] = 1;
			/* Unchanged checks keep their schedule. */
			if (d->targets[b->id].id == b->id &&
			    !memcmp(&d->targets[b->id], &t, sizeof(t)))
				continue;
			if (xlb_hc_set(d->hc, &t)) {
				xlb_log(LOG_ERR, "cannot start the check of %s",
					t.env_backend);
				continue;
			}
			d->targets[b->id] = t;
			running[b->id] = 1;
		}
	}
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++) {
		if (wanted[id] || !running[id])
			continue;
		running[id] = 0;
		if (d->targets[id].id != id)
			continue;
		xlb_hc_del(d->hc, id);
		memset(&d->targets[id], 0, sizeof(d->targets[id]));
	}
}

void xlbd_on_result(void *ctx, const struct hc_result *r)
{
	struct xlbd *d = ctx;
	char msg[256];
	bool changed;

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
