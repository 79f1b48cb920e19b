// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Attaches the decapsulation program to the backend's interface and
 * tells it which of the host's addresses accept tunnels; detaches it on
 * the way out. The interface's addresses are followed over rtnetlink
 * (RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR): each batch of events
 * changes the interface's set, and the table is written again only when
 * the set it holds (that one and --address's) changed. A lost event
 * (ENOBUFS) is made good by reading every address again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>
#include <xlb/decap.h>
#include "decap.h"
#include "decap.skel.h"
#include "loader.h"
#include "log.h"

/* The addresses that accept tunnels, before they go into the table. */
struct addr_set {
	struct xlb_decap_key key[XLB_MAX_DECAP_ADDRS];
	int n;
};

struct agent_decap {
	struct xlb_decap *skel;
	struct xlb_xdp xdp;
	const char *ifname;
	unsigned int ifindex;
	__u32 active; /* decap_active's word: the table in force */
	bool retired; /* the other table was in force once */
	/* --address's, kept whatever the interface does. */
	union xlb_addr extra[AGENT_MAX_EXTRA];
	__u8 extra_family[AGENT_MAX_EXTRA];
	int n_extra;
	struct addr_set ifs;   /* the interface's addresses now */
	struct addr_set table; /* what the table in force holds */
	struct xlb_watch nl_w;
	int nlfd; /* rtnetlink, address groups; -1 until watched */
	int epfd;
};

static int find_addr(const struct addr_set *s, const struct xlb_decap_key *k)
{
	for (int i = 0; i < s->n; i++)
		if (!memcmp(&s->key[i], k, sizeof(*k)))
			return i;
	return -1;
}

/* 1 when a is new to s, 0 when it was there, -ENOSPC when s is full. */
static int add_addr(struct addr_set *s, const union xlb_addr *a, __u8 family)
{
	struct xlb_decap_key key = {.addr = *a, .family = family};
	char buf[XLB_ADDR_STRLEN];

	if (find_addr(s, &key) >= 0)
		return 0;
	if (s->n == XLB_MAX_DECAP_ADDRS) {
		xlb_format_addr(a, family, buf, sizeof(buf));
		xlb_log(LOG_ERR, "adding %s: more than %d addresses", buf,
			XLB_MAX_DECAP_ADDRS);
		return -ENOSPC;
	}
	s->key[s->n++] = key;
	return 1;
}

static void del_addr(struct addr_set *s, const union xlb_addr *a, __u8 family)
{
	struct xlb_decap_key key = {.addr = *a, .family = family};
	int i = find_addr(s, &key);

	if (i >= 0)
		s->key[i] = s->key[--s->n];
}

/* Every address of the interface accepts tunnels. */
static int add_if_addrs(struct addr_set *s, const char *ifname)
{
	struct ifaddrs *ifa, *i;
	union xlb_addr a;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
			continue;
		memset(&a, 0, sizeof(a));
		if (i->ifa_addr->sa_family == AF_INET) {
			a.v4 = ((struct sockaddr_in *)i->ifa_addr)
				       ->sin_addr.s_addr;
			add_addr(s, &a, XLB_AF_INET);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(a.bytes,
			       &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			       16);
			add_addr(s, &a, XLB_AF_INET6);
		}
	}
	freeifaddrs(ifa);
	return 0;
}

/*
 * One RCU grace period: XDP programs run inside RCU read-side sections,
 * so once it is over no packet still reads a table taken out of force
 * before it began. (MEMBARRIER_CMD_GLOBAL is synchronize_rcu().)
 */
static int grace_wait(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		return -errno;
	return 0;
}

/*
 * Puts the table of s in force: writes the table not in force, then the
 * word that names it, so a packet sees the old set or the new one, never
 * a table being written. The table it writes may have been in force
 * before; it waits a grace period first so no packet still reads it.
 */
static int publish(struct agent_decap *d, const struct addr_set *s)
{
	struct xlb_decap_bucket tab[XLB_DECAP_BUCKETS];
	int fd = bpf_map__fd(d->skel->maps.decap_addrs);
	__u32 spare = !(d->active & 1), active, zero = 0;
	int err;

	err = xlb_decap_build(tab, s->key, s->n, spare, &active);
	if (err) {
		xlb_log(LOG_ERR, "building the address table: %s",
			strerror(-err));
		return err;
	}
	if (d->retired && (err = grace_wait())) {
		xlb_log(LOG_ERR, "waiting for readers of the old table: %s",
			strerror(-err));
		return err;
	}
	for (__u32 i = 0; i < XLB_DECAP_BUCKETS; i++) {
		__u32 k = spare * XLB_DECAP_BUCKETS + i;

		if (bpf_map_update_elem(fd, &k, &tab[i], BPF_ANY))
			goto fail;
	}
	fd = bpf_map__fd(d->skel->maps.decap_active);
	if (bpf_map_update_elem(fd, &zero, &active, BPF_ANY))
		goto fail;
	d->active = active;
	d->retired = true;
	return 0;
fail:
	err = -errno;
	xlb_log(LOG_ERR, "writing the address table: %s", strerror(-err));
	return err;
}

/* Logs what s adds to or takes from the table in force. */
static void log_changes(const struct agent_decap *d, const struct addr_set *s)
{
	char buf[XLB_ADDR_STRLEN];

	for (int i = 0; i < s->n; i++) {
		if (find_addr(&d->table, &s->key[i]) >= 0)
			continue;
		xlb_format_addr(&s->key[i].addr, s->key[i].family, buf,
				sizeof(buf));
		xlb_log(LOG_INFO, "accepting tunnels to %s", buf);
	}
	for (int i = 0; i < d->table.n; i++) {
		if (find_addr(s, &d->table.key[i]) >= 0)
			continue;
		xlb_format_addr(&d->table.key[i].addr, d->table.key[i].family,
				buf, sizeof(buf));
		xlb_log(LOG_INFO, "no longer accepting tunnels to %s", buf);
	}
}

/*
 * The interface's addresses and --address's into the table, when that
 * changes what it holds (the change set first, then the write).
 */
static int apply(struct agent_decap *d, bool force)
{
	struct addr_set s = d->ifs;
	bool same;
	int err;

	for (int i = 0; i < d->n_extra; i++)
		add_addr(&s, &d->extra[i], d->extra_family[i]);
	same = s.n == d->table.n;
	for (int i = 0; same && i < s.n; i++)
		same = find_addr(&d->table, &s.key[i]) >= 0;
	if (same && !force)
		return s.n;
	log_changes(d, &s);
	err = publish(d, &s);
	if (err)
		return err;
	d->table = s;
	return s.n;
}

/* Writes the decap config and the addresses that accept tunnels. */
static int configure(struct agent_decap *d, const struct agent_decap_opts *o)
{
	struct xlb_decap_config cfg = {0};
	__u32 zero = 0;
	int err, n;

	cfg.gue_port = htons(o->gue_port);
	if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.decap_config), &zero,
				&cfg, BPF_ANY)) {
		err = -errno;
		xlb_log(LOG_ERR, "writing config: %s", strerror(-err));
		return err;
	}
	err = add_if_addrs(&d->ifs, o->ifname);
	if (err) {
		xlb_log(LOG_ERR, "reading the addresses of %s: %s", o->ifname,
			strerror(-err));
		return err;
	}
	memcpy(d->extra, o->extra, sizeof(d->extra));
	memcpy(d->extra_family, o->extra_family, sizeof(d->extra_family));
	d->n_extra = o->n_extra;
	n = apply(d, true);
	if (!n)
		xlb_log(LOG_WARNING,
			"warning: no address accepts tunnels yet "
			"(%s has none; use --address)",
			o->ifname);
	return n;
}

/* ---- following the interface's addresses ------------------------------ */

/* One event: only the decap interface's addresses accept tunnels. */
static void on_rtaddr(void *ctx, const struct agent_rtaddr *ev)
{
	struct agent_decap *d = ctx;

	if ((unsigned int)ev->ifindex != d->ifindex)
		return;
	if (ev->add)
		add_addr(&d->ifs, &ev->addr, ev->family);
	else
		del_addr(&d->ifs, &ev->addr, ev->family);
}

/* Reads every address of the interface again, as at start. */
static int resync(struct agent_decap *d)
{
	struct addr_set s = {.n = 0};
	int err = add_if_addrs(&s, d->ifname);

	if (err) {
		xlb_log(LOG_ERR, "reading the addresses of %s: %s", d->ifname,
			strerror(-err));
		return err;
	}
	d->ifs = s;
	return 0;
}

/* What the kernel's events say, once recv says EAGAIN; then the table. */
static void on_netlink(struct xlb_watch *w, uint32_t events)
{
	struct agent_decap *d = container_of(w, struct agent_decap, nl_w);
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct sockaddr_nl from;
	socklen_t flen;
	bool lost = false;
	ssize_t n;
	int ret;

	(void)events;
	for (;;) {
		flen = sizeof(from);
		n = recvfrom(d->nlfd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* The socket overflowed: events were lost. */
				lost = true;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				xlb_log(LOG_ERR, "rtnetlink: %s",
					strerror(errno));
			break;
		}
		/* Only the kernel speaks for the addresses. */
		if (flen != sizeof(from) || from.nl_pid != 0)
			continue;
		ret = agent_rtaddr_parse(buf, n, on_rtaddr, d);
		if (ret < 0) {
			xlb_log(LOG_WARNING, "rtnetlink: %s; reading again",
				strerror(-ret));
			lost = true;
		}
	}
	if (lost) {
		xlb_log(LOG_NOTICE,
			"rtnetlink events lost: reading the "
			"addresses of %s again",
			d->ifname);
		if (resync(d))
			return;
	}
	apply(d, false);
}

int agent_decap_watch(struct agent_decap *d, int epfd)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &d->nl_w};
	int size = 1 << 20, err;

	d->nlfd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			 NETLINK_ROUTE);
	if (d->nlfd < 0)
		return -errno;
	/* Room for a burst (a whole /64 of addresses, a flush). */
	setsockopt(d->nlfd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(d->nlfd, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	d->nl_w.fn = on_netlink;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, d->nlfd, &ev))
		goto fail;
	d->epfd = epfd;
	/* What changed between start and subscribing. */
	if (!resync(d))
		apply(d, false);
	return 0;
fail:
	err = -errno;
	close(d->nlfd);
	d->nlfd = -1;
	return err;
}

struct agent_decap *agent_decap_attach(const struct agent_decap_opts *o)
{
	struct xlb_xdp_opts xo = {.what = "decap", .prog_name = "xlb_decap"};
	struct agent_decap *d = calloc(1, sizeof(*d));
	struct xlb_err err = {{0}};
	int n;

	if (!d) {
		xlb_log(LOG_ERR, "out of memory");
		return NULL;
	}
	d->ifname = o->ifname;
	d->nlfd = -1;
	d->ifindex = if_nametoindex(o->ifname);
	d->skel = xlb_decap__open();
	if (!d->skel) {
		xlb_log(LOG_ERR, "opening decap object: %s", strerror(errno));
		goto out_free;
	}
	xo.ifname = o->ifname;
	xo.mode = o->mode;
	if (xlb_xdp_open(&d->xdp, d->skel->obj, &xo, &err)) {
		xlb_log(LOG_ERR, "%s", err.msg);
		goto out_skel;
	}
	n = configure(d, o);
	if (n < 0)
		goto out_detach;
	xlb_log(LOG_NOTICE,
		"decap attached to %s (prog id %u), %d "
		"addresses, GUE port %lu",
		o->ifname, d->xdp.prog_id, n, o->gue_port);
	return d;

out_detach:
	xlb_xdp_close(&d->xdp, true);
out_skel:
	xlb_decap__destroy(d->skel);
out_free:
	free(d);
	return NULL;
}

void agent_decap_detach(struct agent_decap *d)
{
	if (!d)
		return;
	if (d->nlfd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->nlfd, NULL);
		close(d->nlfd);
	}
	xlb_xdp_close(&d->xdp, true);
	xlb_log(LOG_NOTICE, "decap detached from %s", d->ifname);
	xlb_decap__destroy(d->skel);
	free(d);
}
