// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlbd's side of egress uplinks (uplink.h).
 *
 * State: an uplink is UP when its interface exists, is up (IFF_UP), has
 * a carrier (IFF_LOWER_UP, operstate up or unknown), has a MAC, and its
 * gateway has one: given as a MAC, or the neighbour entry of its address
 * on that interface in a state the kernel sends by (REACHABLE, STALE,
 * DELAY, PROBE, PERMANENT, NOARP). Anything else is DOWN with the first
 * reason that holds ("no interface", "link down", "no carrier", "no MAC
 * address", "gateway unresolved").
 *
 * Events: rtnetlink's link and neighbour messages are read as they come
 * (rtnl.c); the set is computed from them and, when it differs from what
 * uplink_set holds, written at once: the failover path. Its latency is
 * the time from the read's start (the event's receipt) to the write.
 *
 * Resolution: an unresolved gateway, and one whose entry went STALE, is
 * sent one UDP datagram to its discard port from the uplink's interface
 * at once and then every tick (XLBD_UPLINK_TICK_MS): the kernel resolves
 * it (or confirms it, or fails it) and says so by a neighbour event. The
 * balancer's own traffic bypasses the stack, so without these probes an
 * entry would stay STALE however dead the gateway.
 *
 * Attachment: the balancer's program goes on every uplink interface but
 * the main one (dp_uplink.c adopts ours, never replaces another's), so
 * traffic arriving over any uplink is balanced; a removed uplink's
 * interface is left as found (detached only if ours), and xlbd's exit
 * leaves them attached unless it detaches the main one too.
 *
 * Restart: until the first dumps are read, the set in the maps (the
 * previous xlbd's) is left as it is; then the first evaluation writes it.
 * Order of writes: uplink_tx entries before the set names them, the set
 * before config.n_uplinks turns non-zero, n_uplinks 0 before the set is
 * emptied, and a removed id's uplink_tx entry after the set dropped it.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/neighbour.h>

#include "dp_uplink.h"
#include "uplink_priv.h"

/* Wall-clock milliseconds: what a user's clock compares with. */
static __u64 wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

bool xlbd_up_is_main(const struct xlbd *d, const struct up *u)
{
	return !strcmp(u->cfg.ifname, d->ifname);
}

static bool same_gw(const struct xlb_uplink_cfg *a,
		    const struct xlb_uplink_cfg *b)
{
	return a->gw_is_mac == b->gw_is_mac &&
	       (a->gw_is_mac ? !memcmp(a->gw_mac, b->gw_mac, 6)
			     : a->gw_family == b->gw_family &&
				       !memcmp(&a->gw_addr, &b->gw_addr,
					       sizeof(a->gw_addr)));
}

/* ---- state --------------------------------------------------------------- */

static const char *evaluate(const struct up *u)
{
	const char *why = NULL;

	if (!u->ifindex || !u->have_link)
		return "no interface";
	if (!xlb_rtnl_link_usable(&u->link, &why))
		return why;
	if (!u->link.has_mac)
		return "no MAC address";
	if (!u->cfg.gw_is_mac &&
	    (!u->gw_known || !xlb_rtnl_neigh_usable(u->nud)))
		return "gateway unresolved";
	return NULL;
}

static void build_set(struct xlbd_uplink *ul, struct xlb_uplink_set *s)
{
	memset(s, 0, sizeof(*s));
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
		const struct up *u = &ul->up[id];
		struct xlb_uplink *x = &s->u[id];

		if (!u->on)
			continue;
		x->ifindex = u->ifindex;
		x->state = u->why ? XLB_UPLINK_DOWN : XLB_UPLINK_UP;
		x->mtu = u->cfg.mtu;
		x->share = u->cfg.share ? u->cfg.share : 1;
		memcpy(x->src_mac, u->link.mac, 6);
		memcpy(x->gw_mac, u->cfg.gw_is_mac ? u->cfg.gw_mac : u->gw_mac,
		       6);
	}
	xlb_uplink_fill_slots(s);
}

void xlbd_up_stats_fill(struct xlbd_uplink *ul)
{
	__u32 total = 0;

	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++)
		if (ul->up[id].on)
			total +=
				ul->up[id].cfg.share ? ul->up[id].cfg.share : 1;
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
		const struct up *u = &ul->up[id];
		struct xlbd_uplink_stats *st = &ul->stats[id];

		memset(st, 0, sizeof(*st));
		if (!u->on)
			continue;
		st->on = true;
		st->up = !u->why;
		st->share_target =
			(double)(u->cfg.share ? u->cfg.share : 1) / total;
		st->share_measured = u->measured;
		st->failover_us = u->fo_last_us;
	}
	ul->stats_fo_us = ul->fo_last_us;
}

int xlbd_up_sync_maps(struct xlbd *d)
{
	struct xlbd_uplink *ul = d->uplink;
	struct xlb_uplink_set s, old = ul->written;
	__u32 n = 0, old_n = xlb_dp_uplinks_n(d->dp);
	__u64 now;
	int ret = 0, r;

	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
		struct up *u = &ul->up[id];
		const char *why;

		if (!u->on)
			continue;
		n++;
		why = evaluate(u);
		if (why && !u->why)
			u->down_ns = ul->event_ns ? ul->event_ns : xlb_now_ns();
		if (why != u->why && ul->synced)
			xlb_log(why ? LOG_WARNING : LOG_NOTICE,
				"uplink %s (id %u): %s%s", u->cfg.ifname, id,
				why ? "down: " : "up", why ? why : "");
		/* Resolution asked for at once; the tick asks again. */
		if (why && why != u->why && !strcmp(why, "gateway unresolved"))
			xlbd_up_probe(u);
		u->why = why;
	}
	if (!ul->synced)
		return 0;
	build_set(ul, &s);
	/* Entries first: the set never names an id uplink_tx lacks. */
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++)
		if (s.u[id].ifindex && s.u[id].ifindex != old.u[id].ifindex) {
			r = xlb_dp_uplink_tx_write(d->dp, id, s.u[id].ifindex);
			if (r && !ret)
				ret = r;
		}
	if (!n && old_n) {
		r = xlb_dp_uplinks_set_n(d->dp, 0);
		if (r && !ret)
			ret = r;
	}
	if (!ul->written_known || memcmp(&s, &ul->written, sizeof(s))) {
		r = xlb_dp_uplink_set_write(d->dp, &s);
		if (r) {
			xlb_log(LOG_ERR, "writing uplink_set: %s",
				strerror(-r));
			return r; /* the next event or tick tries again */
		}
		now = xlb_now_ns();
		for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
			struct up *u = &ul->up[id];

			if (!u->on || !u->why ||
			    old.u[id].state != XLB_UPLINK_UP)
				continue;
			u->fo_last_us = (now - u->down_ns) / 1000;
			u->fo_at_ms = wall_ms();
			if (u->fo_last_us > u->fo_max_us)
				u->fo_max_us = u->fo_last_us;
			ul->fo_last_us = u->fo_last_us;
			if (ul->fo_last_us > ul->fo_max_us)
				ul->fo_max_us = ul->fo_last_us;
			ul->failovers++;
			xlb_log(LOG_NOTICE,
				"uplink %s down in uplink_set %.3f ms after "
				"the event",
				u->cfg.ifname, u->fo_last_us / 1e3);
		}
		ul->written = s;
		ul->written_known = true;
	}
	/* Removed ids' entries once the set no longer names them. */
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++)
		if (!s.u[id].ifindex && old.u[id].ifindex) {
			r = xlb_dp_uplink_tx_write(d->dp, id, 0);
			if (r && !ret)
				ret = r;
		}
	if (n != old_n && n) {
		r = xlb_dp_uplinks_set_n(d->dp, n);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

void xlbd_up_attach_all(struct xlbd *d)
{
	struct xlbd_uplink *ul = d->uplink;
	struct xlb_err err = {{0}};

	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
		struct up *u = &ul->up[id];

		if (!u->on || !u->ifindex || u->attached || u->attach_failed ||
		    xlbd_up_is_main(d, u))
			continue;
		if (xlb_dp_uplink_attach(d->dp, u->ifindex, &u->adopted,
					 &err)) {
			/* Once per interface: not every second. */
			xlb_log(LOG_ERR, "uplink %s: %s", u->cfg.ifname,
				err.msg);
			u->attach_failed = true;
			continue;
		}
		u->attached = true;
		xlb_log(LOG_INFO, "uplink %s: the balancer %s", u->cfg.ifname,
			u->adopted ? "found attached" : "attached");
	}
}

/* ---- the model's side ---------------------------------------------------- */

int xlbd_uplink_assign(struct xlbd *d, const struct xlb_model *cur,
		       struct xlb_model *next, struct xlb_err *err)
{
	bool taken[XLB_MAX_UPLINKS] = {true};

	(void)d;
	for (size_t i = 0; i < next->n_uplinks; i++) {
		struct xlb_uplink_cfg *u = &next->uplinks[i];

		for (size_t j = 0; !u->id && j < cur->n_uplinks; j++)
			if (!strcmp(cur->uplinks[j].ifname, u->ifname))
				u->id = cur->uplinks[j].id;
		if (u->id >= XLB_MAX_UPLINKS || (u->id && taken[u->id]))
			u->id = 0; /* out of range or twice: a fresh one */
		if (u->id)
			taken[u->id] = true;
	}
	for (size_t i = 0; i < next->n_uplinks; i++) {
		struct xlb_uplink_cfg *u = &next->uplinks[i];
		__u32 id = 1;

		if (u->id)
			continue;
		while (id < XLB_MAX_UPLINKS && taken[id])
			id++;
		if (id == XLB_MAX_UPLINKS) {
			xlb_err_set(err, "no free uplink id (limit %d)",
				    XLB_MAX_UPLINKS - 1);
			return -ENOSPC;
		}
		u->id = id;
		taken[id] = true;
	}
	return 0;
}

/* An uplink no longer in the model: its interface left as found. */
static void up_off(struct xlbd *d, struct up *u)
{
	int ret = 0;

	if (u->attached && u->ifindex && !xlbd_up_is_main(d, u))
		ret = xlb_dp_uplink_detach(d->dp, u->ifindex);
	if (ret)
		xlb_log(LOG_ERR, "uplink %s: detaching: %s", u->cfg.ifname,
			strerror(-ret));
	xlb_log(LOG_INFO, "uplink %s (id %u) removed", u->cfg.ifname,
		u->cfg.id);
	memset(u, 0, sizeof(*u));
}

int xlbd_uplink_apply(struct xlbd *d, const struct xlb_model *cur,
		      const struct xlb_model *next, struct xlb_err *err)
{
	struct xlbd_uplink *ul = d->uplink;
	bool fresh = false;
	int ret;

	(void)cur;
	if (!ul)
		return 0;
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
		struct up *u = &ul->up[id];
		bool keep = false;

		for (size_t i = 0; u->on && i < next->n_uplinks; i++)
			keep |= next->uplinks[i].id == id &&
				!strcmp(next->uplinks[i].ifname, u->cfg.ifname);
		if (u->on && !keep)
			up_off(d, u);
	}
	for (size_t i = 0; i < next->n_uplinks; i++) {
		const struct xlb_uplink_cfg *c = &next->uplinks[i];
		struct up *u;

		if (!c->id || c->id >= XLB_MAX_UPLINKS)
			continue;
		u = &ul->up[c->id];
		if (!u->on) {
			memset(u, 0, sizeof(*u));
			u->on = true;
			u->cfg = *c;
			u->ifindex = if_nametoindex(c->ifname);
			fresh = true;
			xlb_log(LOG_INFO, "uplink %s: id %u", c->ifname, c->id);
			continue;
		}
		if (!same_gw(&u->cfg, c)) {
			u->gw_known = false;
			fresh = true;
		}
		u->cfg = *c;
	}
	/* A new uplink's link and gateway: read them again (async). */
	if (fresh && ul->synced)
		xlb_rtnl_redump(&ul->rtnl, xlbd_up_rtnl_ev, ul);
	xlbd_up_attach_all(d);
	ret = xlbd_up_sync_maps(d);
	xlbd_up_stats_fill(ul); /* apply.c holds d->lock */
	if (ret)
		xlb_err_set(err, "writing the uplinks: %s", strerror(-ret));
	return ret;
}

/* ---- what others read ---------------------------------------------------- */

static const struct up *up_of(const struct xlbd *d,
			      const struct xlb_uplink_cfg *c)
{
	const struct up *u;

	if (!d->uplink || !c->id || c->id >= XLB_MAX_UPLINKS)
		return NULL;
	u = &d->uplink->up[c->id];
	return u->on && !strcmp(u->cfg.ifname, c->ifname) ? u : NULL;
}

static int json_set(json_t *obj, const char *key, json_t *v)
{
	return v ? json_object_set_new(obj, key, v) : -1;
}

int xlbd_uplink_json(struct xlbd *d, const struct xlb_uplink_cfg *c,
		     json_t *obj)
{
	const struct up *u = up_of(d, c);
	const struct xlbd_uplink_stats *st;
	struct xlb_uplink_load l;
	const __u8 *m;
	char mac[18];
	int ret = 0;

	if (!u)
		return json_set(obj, "state", json_string("unknown")) ? -ENOMEM
								      : 0;
	st = &d->uplink->stats[c->id];
	if (xlb_dp_uplink_load_read(d->dp, &l))
		memset(&l, 0, sizeof(l));
	m = c->gw_is_mac ? c->gw_mac : u->gw_mac;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	ret |= json_set(obj, "state", json_string(u->why ? "down" : "up"));
	if (u->why)
		ret |= json_set(obj, "why", json_string(u->why));
	ret |= json_set(obj, "ifindex", json_integer(u->ifindex));
	if (c->gw_is_mac || u->gw_known)
		ret |= json_set(obj, "gw_mac", json_string(mac));
	ret |= json_set(obj, "attached",
			json_boolean(u->attached || xlbd_up_is_main(d, u)));
	ret |= json_set(obj, "bytes", json_integer(l.bytes[c->id]));
	ret |= json_set(obj, "packets", json_integer(l.packets[c->id]));
	ret |= json_set(obj, "failovers", json_integer(l.failovers[c->id]));
	ret |= json_set(obj, "share_target", json_real(st->share_target));
	ret |= json_set(obj, "share_measured", json_real(u->measured));
	ret |= json_set(obj, "failover_latency_us_last",
			json_integer(u->fo_last_us));
	ret |= json_set(obj, "failover_latency_us_max",
			json_integer(u->fo_max_us));
	if (u->fo_at_ms)
		ret |= json_set(obj, "failover_at_ms",
				json_integer((json_int_t)u->fo_at_ms));
	return ret ? -ENOMEM : 0;
}

bool xlbd_uplinks_serving(struct xlbd *d)
{
	bool any = false;

	if (!d->uplink)
		return true;
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
		const struct up *u = &d->uplink->up[id];

		if (!u->on)
			continue;
		any = true;
		if (!u->why)
			return true;
	}
	/* Until the first dumps are read, the running set stands. */
	return !any || !d->uplink->synced;
}

const struct xlbd_uplink_stats *xlbd_uplink_stats(const struct xlbd *d,
						  __u32 id)
{
	if (!d->uplink || !id || id >= XLB_MAX_UPLINKS ||
	    !d->uplink->stats[id].on)
		return NULL;
	return &d->uplink->stats[id];
}

__u64 xlbd_uplink_failover_us(const struct xlbd *d)
{
	return d->uplink ? d->uplink->stats_fo_us : 0;
}
