// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The uplink side's watch (uplink_priv.h): rtnetlink's link and neighbour
 * events folded into each uplink's state and the set written at once
 * (the failover path, timed from the read to the write), the probes that
 * resolve gateways and keep their entries honest, and the 1 s tick that
 * probes, retries attaching and measures the shares.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <linux/neighbour.h>

#include "dp_uplink.h"
#include "uplink_priv.h"

/* One datagram to the gateway's discard port: the kernel resolves it. */
void xlbd_up_probe(const struct up *u)
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
			u->attached = u->adopted = u->attach_failed = false;
			u->gw_known = false;
			continue;
		}
		if (l->del || strcmp(l->name, u->cfg.ifname))
			continue;
		if (u->ifindex != l->ifindex) {
			u->gw_known = false; /* a new interface of that name */
			u->attached = u->adopted = u->attach_failed = false;
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

void xlbd_up_rtnl_ev(void *ctx, const struct xlb_rtnl_ev *ev)
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
	ret = xlb_rtnl_read(&ul->rtnl, xlbd_up_rtnl_ev, ul);
	if (ret < 0)
		xlb_log(LOG_WARNING, "rtnetlink: %s", strerror(-ret));
	/* The write first, outside the lock: the metrics thread may hold it
	 * while it renders, and the failover waits for no one. */
	xlbd_up_sync_maps(d);
	ul->event_ns = 0;
	xlbd_up_attach_all(d);
	pthread_mutex_lock(&d->lock);
	xlbd_up_stats_fill(ul);
	pthread_mutex_unlock(&d->lock);
	after_change(d, serving);
}

/* ---- the tick ------------------------------------------------------------ */

/*
 * Measured shares: each uplink's bytes lately, of all: the bytes of each
 * tick, decayed by 0.9 a tick (the last ten seconds or so weigh most), so
 * the share neither jumps with the last second's few frames nor lags
 * minutes behind.
 */
static void measure(struct xlbd *d)
{
	struct xlbd_uplink *ul = d->uplink;
	struct xlb_uplink_load l;
	__u64 delta;
	double total = 0;

	if (xlb_dp_uplink_load_read(d->dp, &l))
		return;
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++) {
		struct up *u = &ul->up[id];

		if (!u->on)
			continue;
		/* From the first tick it is seen on, not from the map's start.
		 */
		delta = u->ticked && l.bytes[id] >= u->tick_bytes
				? l.bytes[id] - u->tick_bytes
				: 0;
		u->tick_bytes = l.bytes[id];
		u->ticked = true;
		u->recent = u->recent * 0.9 + (double)delta;
		total += u->recent;
	}
	for (__u32 id = 1; id < XLB_MAX_UPLINKS; id++)
		if (ul->up[id].on)
			ul->up[id].measured =
				total > 0 ? ul->up[id].recent / total : 0;
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
			xlbd_up_probe(&ul->up[id]);
	/* A dump the kernel refused (EBUSY...) is asked for again. */
	if (!ul->synced && !ul->rtnl.dumping)
		xlb_rtnl_redump(&ul->rtnl, xlbd_up_rtnl_ev, ul);
	xlbd_up_attach_all(d);
	measure(d);
	xlbd_up_sync_maps(d);
	pthread_mutex_lock(&d->lock);
	xlbd_up_stats_fill(ul);
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

		if (!u->on || !u->ifindex || xlbd_up_is_main(d, u))
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
