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
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <linux/neighbour.h>

#include "dp_uplink.h"
#include "rtnl.h"
#include "uplink.h"
#include "xlbd.h"

#define XLBD_UPLINK_TICK_MS 1000

/* One uplink id as xlbd follows it. */
struct up {
	bool on;
	struct xlb_uplink_cfg cfg;
	int ifindex; /* 0: no such interface */
	struct xlb_rtnl_link link;
	bool have_link;
	bool gw_known; /* a neighbour entry of the gateway is known */
	__u16 nud;
	__u8 gw_mac[6];
	bool seen_link, seen_gw; /* the dump under way showed them */
	bool attached, adopted;
	const char *why; /* NULL: up */
	__u64 down_ns;	 /* when it went down (event receipt) */
	__u64 fo_last_us, fo_max_us;
	__u64 tick_bytes; /* bytes at the last tick */
	double measured;
};

struct xlbd_uplink {
	struct xlbd *d;
	struct xlb_rtnl rtnl;
	struct xlb_watch rtnl_watch;
	int timer_fd;
	struct xlb_watch timer_watch;
	bool synced; /* the first dumps are read */
	struct up up[XLB_MAX_UPLINKS];
	struct xlb_uplink_set written;
	bool written_known;
	__u64 event_ns; /* the receipt of the events being handled */
	__u64 fo_last_us, fo_max_us, failovers;
	struct xlbd_uplink_stats stats[XLB_MAX_UPLINKS]; /* under d->lock */
	__u64 stats_fo_us;				 /* under d->lock */
};

static bool is_main(const struct xlbd *d, const struct up *u)
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

/* One datagram to the gateway's discard port: the kernel resolves it. */
static void probe(const struct up *u)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons(9)};
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(9)};
	bool v6 = u->cfg.gw_family == XLB_AF_INET6;
	int fd;

	if (u->cfg.gw_is_mac || !u->ifindex)
		return;
	fd = socket(v6 ? AF_INET6 : AF_INET,
		    SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	/* Out of this interface, whatever the routes say. */
	setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, u->cfg.ifname,
		   strlen(u->cfg.ifname));
	if (v6) {
		memcpy(&s6.sin6_addr, u->cfg.gw_addr.bytes, 16);
		s6.sin6_scope_id = u->ifindex;
		sendto(fd, "", 1, 0, (struct sockaddr *)&s6, sizeof(s6));
	} else {
		s4.sin_addr.s_addr = u->cfg.gw_addr.v4;
		sendto(fd, "", 1, 0, (struct sockaddr *)&s4, sizeof(s4));
	}
	close(fd);
}

static bool needs_probe(const struct up *u)
{
	return !u->cfg.gw_is_mac && u->ifindex &&
	       (!u->gw_known || !xlb_rtnl_neigh_usable(u->nud) ||
		(u->nud & NUD_STALE));
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
}

/* The metrics' copy; the caller holds d->lock. */
static void stats_fill(struct xlbd_uplink *ul)
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

/*
 * Evaluates every uplink and writes what changed, in the safe order.
 * Before the first dumps are read nothing is written (see the top).
 */
static int sync_maps(struct xlbd *d)
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
			probe(u);
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

/* ---- rtnetlink ----------------------------------------------------------- */

static void on_link(struct xlbd_uplink *ul, const struct xlb_rtnl_link *l)
{
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
		struct up *u = &ul->up[id];

		if (!u->on)
			continue;
		if (l->ifindex == u->ifindex &&
		    (l->del ||
		     (l->name[0] && strcmp(l->name, u->cfg.ifname)))) {
			/* Gone, or renamed: not this uplink's any more. */
			u->ifindex = 0;
			u->have_link = false;
			u->attached = u->adopted = false;
			u->gw_known = false;
			continue;
		}
		if (l->del || strcmp(l->name, u->cfg.ifname))
			continue;
		if (u->ifindex != l->ifindex) {
			u->gw_known = false; /* a new interface of that name */
			u->attached = u->adopted = false;
		}
		u->ifindex = l->ifindex;
		u->link = *l;
		u->have_link = true;
		u->seen_link = true;
	}
}

static bool gw_is(const struct up *u, const struct xlb_rtnl_neigh *n)
{
	return !u->cfg.gw_is_mac && u->ifindex == n->ifindex &&
	       u->cfg.gw_family == n->family &&
	       !memcmp(&u->cfg.gw_addr, &n->dst,
		       n->family == XLB_AF_INET ? 4 : 16);
}

static void on_neigh(struct xlbd_uplink *ul, const struct xlb_rtnl_neigh *n)
{
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
		struct up *u = &ul->up[id];

		if (!u->on || !gw_is(u, n))
			continue;
		u->seen_gw = true;
		if (n->del) {
			u->gw_known = false;
			continue;
		}
		u->gw_known = true;
		u->nud = n->state;
		/* A FAILED entry keeps no MAC; keep the last for the set. */
		if (n->has_lladdr)
			memcpy(u->gw_mac, n->lladdr, 6);
		else if (xlb_rtnl_neigh_usable(n->state) &&
			 !(n->state & NUD_NOARP))
			u->gw_known = false;
	}
}

static void on_rtnl_ev(void *ctx, const struct xlb_rtnl_ev *ev)
{
	struct xlbd_uplink *ul = ctx;

	switch (ev->kind) {
	case XLB_RTNL_LINK:
		on_link(ul, &ev->link);
		break;
	case XLB_RTNL_NEIGH:
		on_neigh(ul, &ev->neigh);
		break;
	case XLB_RTNL_DUMP_START:
		for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
			if (ev->dump == XLB_RTNL_LINK)
				ul->up[id].seen_link = false;
			else
				ul->up[id].seen_gw = false;
		}
		break;
	case XLB_RTNL_DUMP_DONE:
		/* What the dump did not show is gone. */
		for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
			struct up *u = &ul->up[id];

			if (!u->on || (ev->dump == XLB_RTNL_LINK ? u->seen_link
								 : u->seen_gw))
				continue;
			if (ev->dump == XLB_RTNL_LINK) {
				u->ifindex = 0;
				u->have_link = false;
			} else {
				u->gw_known = false;
			}
		}
		if (ev->dump == XLB_RTNL_NEIGH && !ul->synced) {
			ul->synced = true;
			xlb_log(LOG_INFO, "uplinks: links and neighbours read");
		}
		break;
	}
}

/* Attaches the balancer where an uplink needs it and it is not yet. */
static void attach_all(struct xlbd *d)
{
	struct xlbd_uplink *ul = d->uplink;
	struct xlb_err err = {{0}};

	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
		struct up *u = &ul->up[id];

		if (!u->on || !u->ifindex || u->attached || is_main(d, u))
			continue;
		if (xlb_dp_uplink_attach(d->dp, u->ifindex, &u->adopted,
					 &err)) {
			xlb_log(LOG_ERR, "uplink %s: %s", u->cfg.ifname,
				err.msg);
			continue;
		}
		u->attached = true;
		xlb_log(LOG_INFO, "uplink %s: the balancer %s", u->cfg.ifname,
			u->adopted ? "found attached" : "attached");
	}
}

/* A change of serving is an announcement change. */
static void after_change(struct xlbd *d, bool was_serving)
{
	if (xlbd_uplinks_serving(d) != was_serving)
		xlbd_announce_sync(d);
}

static void on_rtnl(struct xlb_watch *w, uint32_t events)
{
	struct xlbd_uplink *ul =
		container_of(w, struct xlbd_uplink, rtnl_watch);
	struct xlbd *d = ul->d;
	bool serving = xlbd_uplinks_serving(d);
	int ret;

	(void)events;
	ul->event_ns = xlb_now_ns();
	ret = xlb_rtnl_read(&ul->rtnl, on_rtnl_ev, ul);
	if (ret < 0)
		xlb_log(LOG_WARNING, "rtnetlink: %s", strerror(-ret));
	attach_all(d);
	pthread_mutex_lock(&d->lock);
	sync_maps(d);
	stats_fill(ul);
	pthread_mutex_unlock(&d->lock);
	ul->event_ns = 0;
	after_change(d, serving);
}

/* ---- the tick ------------------------------------------------------------ */

/* Measured shares: each uplink's bytes since the last tick, of all. */
static void measure(struct xlbd *d)
{
	struct xlbd_uplink *ul = d->uplink;
	struct xlb_uplink_load l;
	__u64 delta[XLB_MAX_UPLINKS] = {0}, total = 0;

	if (xlb_dp_uplink_load_read(d->dp, &l))
		return;
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
		struct up *u = &ul->up[id];

		if (!u->on)
			continue;
		delta[id] = l.bytes[id] >= u->tick_bytes
				    ? l.bytes[id] - u->tick_bytes
				    : 0;
		u->tick_bytes = l.bytes[id];
		total += delta[id];
	}
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++)
		if (ul->up[id].on)
			ul->up[id].measured =
				total ? (double)delta[id] / total : 0;
}

static void on_tick(struct xlb_watch *w, uint32_t events)
{
	struct xlbd_uplink *ul =
		container_of(w, struct xlbd_uplink, timer_watch);
	struct xlbd *d = ul->d;
	bool serving = xlbd_uplinks_serving(d);
	uint64_t x;

	(void)events;
	if (read(ul->timer_fd, &x, sizeof(x)) != sizeof(x))
		return;
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++)
		if (ul->up[id].on && needs_probe(&ul->up[id]))
			probe(&ul->up[id]);
	attach_all(d);
	measure(d);
	pthread_mutex_lock(&d->lock);
	sync_maps(d);
	stats_fill(ul);
	pthread_mutex_unlock(&d->lock);
	after_change(d, serving);
}

int xlbd_uplink_init(struct xlbd *d)
{
	struct itimerspec its = {
		.it_interval.tv_sec = XLBD_UPLINK_TICK_MS / 1000,
		.it_value.tv_sec = XLBD_UPLINK_TICK_MS / 1000,
	};
	struct xlbd_uplink *ul;
	int ret;

	ul = calloc(1, sizeof(*ul));
	if (!ul)
		return -ENOMEM;
	ul->d = d;
	ul->timer_fd = -1;
	ul->rtnl.fd = -1;
	d->uplink = ul;
	ret = xlb_dp_uplink_set_read(d->dp, &ul->written);
	ul->written_known = !ret;
	ret = xlb_rtnl_open(&ul->rtnl);
	if (ret)
		return ret;
	ul->timer_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ul->timer_fd < 0)
		return -errno;
	ret = xlbd_watch_add(d, ul->rtnl.fd, &ul->rtnl_watch, on_rtnl);
	if (!ret)
		ret = xlbd_watch_add(d, ul->timer_fd, &ul->timer_watch,
				     on_tick);
	if (!ret && timerfd_settime(ul->timer_fd, 0, &its, NULL))
		ret = -errno;
	return ret;
}

void xlbd_uplink_free(struct xlbd *d)
{
	struct xlbd_uplink *ul = d->uplink;

	if (!ul)
		return;
	/* With the main program detached, the others go too. */
	for (__u32 id = 1; id < XLB_MAX_UPLINKS && d->detach_on_exit; id++) {
		struct up *u = &ul->up[id];
		int ret;

		if (!u->on || !u->ifindex || is_main(d, u))
			continue;
		ret = xlb_dp_uplink_detach(d->dp, u->ifindex);
		if (ret)
			xlb_log(LOG_ERR, "uplink %s: detaching: %s",
				u->cfg.ifname, strerror(-ret));
	}
	xlb_rtnl_close(&ul->rtnl);
	if (ul->timer_fd >= 0)
		close(ul->timer_fd);
	free(ul);
	d->uplink = NULL;
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

	if (u->attached && u->ifindex && !is_main(d, u))
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
		xlb_rtnl_redump(&ul->rtnl, on_rtnl_ev, ul);
	attach_all(d);
	ret = sync_maps(d);
	stats_fill(ul); /* apply.c holds d->lock */
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
			json_boolean(u->attached || is_main(d, u)));
	ret |= json_set(obj, "bytes", json_integer(l.bytes[c->id]));
	ret |= json_set(obj, "packets", json_integer(l.packets[c->id]));
	ret |= json_set(obj, "failovers", json_integer(l.failovers[c->id]));
	ret |= json_set(obj, "share_target", json_real(st->share_target));
	ret |= json_set(obj, "share_measured", json_real(u->measured));
	ret |= json_set(obj, "failover_latency_us_last",
			json_integer(u->fo_last_us));
	ret |= json_set(obj, "failover_latency_us_max",
			json_integer(u->fo_max_us));
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
