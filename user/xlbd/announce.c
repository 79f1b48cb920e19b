// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * VIP announcements. With --route-table N, xlbd keeps in kernel table N
 * one blackhole route per VIP address this node can serve; BIRD's kernel
 * protocol learns the table and its BGP sessions announce the routes to
 * the router, which spreads flows over the nodes (ECMP). A route, not a
 * BIRD command: it needs no control socket, survives a BIRD reload, and
 * reaches the router's FIB in about 12 ms. Routes outlive xlbd and BIRD,
 * so xlbd makes the table exactly what it wants at every change (a
 * route left by an earlier run is withdrawn unless wanted), withdraws
 * everything on a graceful stop (unless --keep-routes), and a drained
 * node announces nothing. The drain survives a restart: a file in the
 * state directory says it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bird.h"
#include "route.h"
#include "text.h"
#include "uplink.h"
#include "xlbd.h"

#define BIRD_TIMEOUT_MS 1000

static void drain_path(const struct xlbd *d, char *buf, size_t len)
{
	const char *slash = strrchr(d->state_path, '/');
	int n = slash ? (int)(slash - d->state_path) : 1;

	snprintf(buf, len, "%.*s/drained", n, slash ? d->state_path : ".");
}

int xlbd_announce_open(struct xlbd *d, struct xlb_err *err)
{
	char path[320];
	int ret;

	drain_path(d, path, sizeof(path));
	d->drained = !access(path, F_OK);
	if (d->drained)
		xlb_log(LOG_NOTICE,
			"drained (%s exists): no VIP is announced "
			"until xlb node undrain",
			path);
	if (!d->route_table)
		return 0;
	ret = xlb_route_open(d->route_table, &d->route, err);
	if (!ret)
		xlb_log(LOG_NOTICE,
			"announcing servable VIPs as routes in "
			"table %u",
			d->route_table);
	return ret;
}

/* Can this VIP (as the maps hold it) take traffic? */
static bool servable(const struct xlb_vip_cfg *v)
{
	if (!v->n_backends)
		return false;
	if (v->all_down == XLB_ALL_DOWN_KEEP)
		return true; /* it keeps its last ring */
	for (size_t j = 0; j < v->n_backends; j++)
		if (v->backends[j].state == XLB_BACKEND_UP &&
		    v->backends[j].weight)
			return true;
	return false;
}

/* Adds v's address to ann (once), on when v is servable and may be. */
static void ann_add(struct xlbd_ann *ann, size_t *n,
		    const struct xlb_vip_cfg *v, const char *why)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (ann[i].family == v->key.family &&
		    !memcmp(&ann[i].addr, &v->key.addr, sizeof(ann[i].addr)))
			break;
	if (i == *n) {
		ann[i] = (struct xlbd_ann){v->key.addr, v->key.family, false,
					   "no serving backend"};
		(*n)++;
	}
	if (ann[i].on)
		return;
	if (why)
		ann[i].why = why;
	else if (servable(v))
		ann[i] = (struct xlbd_ann){v->key.addr, v->key.family, true,
					   NULL};
}

static void log_changes(const struct xlbd_ann *old, size_t n_old,
			const struct xlbd_ann *ann, size_t n)
{
	char a[64];

	for (size_t i = 0; i < n; i++) {
		bool was = false;

		for (size_t k = 0; k < n_old; k++)
			if (old[k].family == ann[i].family &&
			    !memcmp(&old[k].addr, &ann[i].addr,
				    sizeof(ann[i].addr)))
				was = old[k].on;
		if (was == ann[i].on)
			continue;
		xlb_log(LOG_NOTICE, "%s %s%s%s",
			ann[i].on ? "announcing" : "withdrew",
			xlb_format_addr(&ann[i].addr, ann[i].family, a,
					sizeof(a)),
			ann[i].on ? "" : ": ", ann[i].on ? "" : ann[i].why);
	}
}

void xlbd_announce_sync(struct xlbd *d)
{
	const struct xlb_model *m = &d->effective;
	struct xlbd_ann *ann = calloc(m->n_vips + 1, sizeof(*ann));
	struct xlb_route_entry *want = calloc(m->n_vips + 1, sizeof(*want));
	struct xlb_err err = {{0}};
	const char *why = NULL;
	size_t n = 0, k = 0;

	if (!d->route || !ann || !want)
		goto out;
	if (d->stopping)
		why = "stopping";
	else if (d->drained)
		why = "drained";
	else if (!xlbd_uplinks_serving(d))
		why = "no uplink up";
	else
		xlbd_cluster_may_announce(d, &why);
	for (size_t i = 0; i < m->n_vips; i++)
		ann_add(ann, &n, &m->vips[i], why);
	for (size_t i = 0; i < n; i++)
		if (ann[i].on)
			want[k++] = (struct xlb_route_entry){ann[i].family,
							     ann[i].addr};
	if (xlb_route_sync(d->route, want, k, NULL, NULL, &err))
		xlb_log(LOG_ERR, "announcing: %s", err.msg);
	log_changes(d->ann, d->n_ann, ann, n);
	pthread_mutex_lock(&d->lock);
	free(d->ann);
	d->ann = ann;
	d->n_ann = n;
	d->announced = k;
	pthread_mutex_unlock(&d->lock);
	ann = NULL;
out:
	free(ann);
	free(want);
}

void xlbd_announce_stop(struct xlbd *d)
{
	if (!d->route)
		return;
	if (d->keep_routes) {
		xlb_log(LOG_NOTICE, "stopping: the announcements stay "
				    "(--keep-routes)");
	} else {
		d->stopping = true;
		xlbd_announce_sync(d);
	}
	pthread_mutex_lock(&d->lock); /* the metrics thread reads these */
	xlb_route_close(d->route);
	d->route = NULL;
	free(d->ann);
	d->ann = NULL;
	d->n_ann = 0;
	pthread_mutex_unlock(&d->lock);
}

static const char *bird_name(__u8 s)
{
	switch (s) {
	case XLB_BIRD_ABSENT:
		return "absent";
	case XLB_BIRD_PRESENT:
		return "in table";
	case XLB_BIRD_EXPORTED:
		return "exported";
	default:
		return "unknown";
	}
}

json_t *xlbd_announce_status(struct xlbd *d)
{
	struct xlb_route_entry *q = calloc(d->n_ann + 1, sizeof(*q));
	__u8 *state = calloc(d->n_ann + 1, 1);
	struct xlb_err err = {{0}};
	json_t *a = json_array();
	char addr[64];

	for (size_t i = 0; q && i < d->n_ann; i++)
		q[i] = (struct xlb_route_entry){d->ann[i].family,
						d->ann[i].addr};
	if (q && state && d->bird_socket)
		xlb_bird_query(d->bird_socket, q, d->n_ann, BIRD_TIMEOUT_MS,
			       state, &err);
	for (size_t i = 0; state && i < d->n_ann; i++) {
		const struct xlbd_ann *x = &d->ann[i];
		json_t *j =
			json_pack("{s:s, s:s}", "addr",
				  xlb_format_addr(&x->addr, x->family, addr,
						  sizeof(addr)),
				  "state", x->on ? "announced" : "withdrawn");

		if (x->why)
			json_object_set_new(j, "reason", json_string(x->why));
		if (d->bird_socket)
			json_object_set_new(j, "bird",
					    json_string(bird_name(state[i])));
		json_array_append_new(a, j);
	}
	if (err.msg[0])
		xlb_log(LOG_INFO, "asking BIRD: %s", err.msg);
	free(q);
	free(state);
	return a;
}

int xlbd_drain_set(struct xlbd *d, bool drained, struct xlb_err *err)
{
	char path[320];
	FILE *f;

	drain_path(d, path, sizeof(path));
	if (drained) {
		f = fopen(path, "w");
		if (!f || fclose(f)) {
			xlb_err_set(err, "nothing changed: writing %s: %s",
				    path, strerror(errno));
			return -errno;
		}
	} else if (unlink(path) && errno != ENOENT) {
		xlb_err_set(err, "nothing changed: removing %s: %s", path,
			    strerror(errno));
		return -errno;
	}
	if (d->drained != drained)
		xlb_log(LOG_NOTICE, "%s: %s", drained ? "drained" : "undrained",
			drained ? "withdrawing every VIP"
				: "announcing the VIPs it can serve");
	d->drained = drained;
	xlbd_announce_sync(d);
	if (d->cl)
		xlbd_cluster_after_apply(d);
	return 0;
}
