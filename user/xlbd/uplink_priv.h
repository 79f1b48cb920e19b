/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The uplink side's state, shared by its two files and no one else:
 * uplink.c (the model's side, the state rule, writing the maps, what
 * others read) and uplink_watch.c (rtnetlink, gateway probes, the tick).
 */
#ifndef XLBD_UPLINK_PRIV_H
#define XLBD_UPLINK_PRIV_H

#include "rtnl.h"
#include "uplink.h"
#include "xlbd.h"

#define XLBD_UPLINK_TICK_MS 1000

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
	bool attach_failed; /* not tried again on this ifindex */
	const char *why;    /* NULL: up */
	__u64 down_ns;	    /* when it went down (event receipt) */
	__u64 fo_last_us, fo_max_us;
	/* When the last failover's write was done (CLOCK_REALTIME, ms). */
	__u64 fo_at_ms;
	__u64 tick_bytes; /* bytes at the last tick */
	bool ticked;	  /* tick_bytes was read */
	double recent;	  /* bytes lately: each tick's, decayed 0.9 a tick */
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

/* uplink.c: is u on the main interface (d->ifname)? */
bool xlbd_up_is_main(const struct xlbd *d, const struct up *u);
/*
 * uplink.c: evaluates every uplink and writes what changed, in the safe
 * order (nothing before the first dumps are read); 0 or -errno. Called
 * from the loop; stats_fill under d->lock.
 */
int xlbd_up_sync_maps(struct xlbd *d);
void xlbd_up_stats_fill(struct xlbd_uplink *ul);
/* uplink.c: attaches the balancer where an uplink needs it. */
void xlbd_up_attach_all(struct xlbd *d);
/* uplink_watch.c: one datagram to u's gateway's discard port. */
void xlbd_up_probe(const struct up *u);
/* uplink_watch.c: rtnl.c's callback (for a redump). */
void xlbd_up_rtnl_ev(void *ctx, const struct xlb_rtnl_ev *ev);

#endif /* XLBD_UPLINK_PRIV_H */
