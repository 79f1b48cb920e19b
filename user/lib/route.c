// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * VIP announcements as blackhole routes in a table of their own, over
 * rtnetlink (see route.h). Each request carries a sequence number and
 * waits for its own answer: a reply to an earlier request that timed out
 * is skipped, never taken for the current one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "route.h"

/* A dump arrives in datagrams of up to a page or so; 64 KiB holds any. */
#define ROUTE_BUF 65536

struct xlb_route {
	int fd;
	__u32 table;
	__u32 seq;
	char buf[ROUTE_BUF];
};

/* A route request: header, rtmsg and room for RTA_TABLE and RTA_DST. */
struct route_req {
	struct nlmsghdr nh;
	struct rtmsg rt;
	char attrs[64];
};

bool xlb_route_table_ok(__u32 table)
{
	return table && table != RT_TABLE_DEFAULT && table != RT_TABLE_MAIN &&
	       table != RT_TABLE_LOCAL;
}

const char *xlb_route_addr_str(__u8 family, const union xlb_addr *a, char *buf,
			       size_t len)
{
	if (!inet_ntop(family == XLB_AF_INET6 ? AF_INET6 : AF_INET, a, buf,
		       len))
		snprintf(buf, len, "?");
	return buf;
}

int xlb_route_open(__u32 table, struct xlb_route **out, struct xlb_err *err)
{
	struct timeval tv = {.tv_sec = XLB_ROUTE_TIMEOUT_MS / 1000,
			     .tv_usec = XLB_ROUTE_TIMEOUT_MS % 1000 * 1000};
	struct xlb_route *r;
	int ret;

	*out = NULL;
	if (!xlb_route_table_ok(table)) {
		xlb_err_set(err, "route table %u is reserved", table);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->table = table;
	r->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (r->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	/* A kernel that never answers must not hang the daemon. */
	if (setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		ret = -errno;
		goto err_close;
	}
	*out = r;
	return 0;

err_close:
	close(r->fd);
err_free:
	free(r);
	xlb_err_set(err, "route table %u: netlink socket: %s", table,
		    strerror(-ret));
	return ret;
}

void xlb_route_close(struct xlb_route *r)
{
	if (!r)
		return;
	close(r->fd);
	free(r);
}

static void add_attr(struct nlmsghdr *nh, unsigned short type, const void *data,
		     size_t len)
{
	struct rtattr *a =
		(struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/*
 * Our route for one address: blackhole (the balancer's XDP program takes
 * the traffic before routing would), scope universe, table in RTA_TABLE
 * since rtm_table has only 8 bits.
 */
static void route_req_init(struct route_req *q, const struct xlb_route *r,
			   __u16 type, __u16 flags, __u8 family,
			   const union xlb_addr *a)
{
	bool v6 = family == XLB_AF_INET6;

	memset(q, 0, sizeof(*q));
	q->nh.nlmsg_len = NLMSG_LENGTH(sizeof(q->rt));
	q->nh.nlmsg_type = type;
	q->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	q->rt.rtm_family = v6 ? AF_INET6 : AF_INET;
	q->rt.rtm_dst_len = v6 ? 128 : 32;
	q->rt.rtm_table = r->table < 256 ? r->table : RT_TABLE_UNSPEC;
	q->rt.rtm_protocol = XLB_RTPROT;
	q->rt.rtm_scope = RT_SCOPE_UNIVERSE;
	q->rt.rtm_type = RTN_BLACKHOLE;
	add_attr(&q->nh, RTA_TABLE, &r->table, sizeof(r->table));
	add_attr(&q->nh, RTA_DST, a, v6 ? 16 : 4);
}

/* Receives one datagram: its length, or -ETIMEDOUT / -errno. */
static int route_recv(struct xlb_route *r)
{
	ssize_t n = recv(r->fd, r->buf, sizeof(r->buf), 0);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT
							       : -errno;
	return n;
}

/*
 * Sends q and calls fn on each message answering it, until the ack (or
 * NLMSG_DONE of a dump): 0 or the kernel's negative errno.
 */
static int route_talk(struct xlb_route *r, struct nlmsghdr *q,
		      void (*fn)(struct nlmsghdr *, void *), void *ctx)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	q->nlmsg_seq = ++r->seq;
	if (sendto(r->fd, q, q->nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		int len = route_recv(r);

		if (len < 0)
			return len;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)r->buf;
		     NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != r->seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error;
			}
			if (fn)
				fn(nh, ctx);
		}
	}
}

static int route_change(struct xlb_route *r, bool add, __u8 family,
			const union xlb_addr *a, struct xlb_err *err)
{
	char s[INET6_ADDRSTRLEN];
	struct route_req q;
	int ret;

	if (family != XLB_AF_INET && family != XLB_AF_INET6) {
		xlb_err_set(err, "route: address family %u", family);
		return -EAFNOSUPPORT;
	}
	if (add)
		route_req_init(&q, r, RTM_NEWROUTE,
			       NLM_F_CREATE | NLM_F_REPLACE, family, a);
	else
		route_req_init(&q, r, RTM_DELROUTE, 0, family, a);
	ret = route_talk(r, &q.nh, NULL, NULL);
	/* Withdrawing what is not there is what the caller wanted. */
	if (!add && ret == -ESRCH)
		ret = 0;
	if (ret)
		xlb_err_set(err, "%s %s in table %u: %s",
			    add ? "announcing" : "withdrawing",
			    xlb_route_addr_str(family, a, s, sizeof(s)),
			    r->table, strerror(-ret));
	return ret;
}

int xlb_route_announce(struct xlb_route *r, __u8 family,
		       const union xlb_addr *a, struct xlb_err *err)
{
	return route_change(r, true, family, a, err);
}

int xlb_route_withdraw(struct xlb_route *r, __u8 family,
		       const union xlb_addr *a, struct xlb_err *err)
{
	return route_change(r, false, family, a, err);
}

/* What a dump collects: our routes of one table. */
struct route_list {
	__u32 table;
	struct xlb_route_entry *v;
	size_t n, cap;
	int ret; /* -ENOMEM once an entry did not fit */
};

/* The entry of one dumped route if it is one of ours in the table. */
static bool route_parse(struct nlmsghdr *nh, __u32 table,
			struct xlb_route_entry *e)
{
	struct rtmsg *rt = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*rt));
	size_t alen = rt->rtm_family == AF_INET6 ? 16 : 4;
	__u32 t = rt->rtm_table;
	bool dst = false;

	if (nh->nlmsg_type != RTM_NEWROUTE || len < 0 ||
	    rt->rtm_protocol != XLB_RTPROT || rt->rtm_type != RTN_BLACKHOLE ||
	    rt->rtm_dst_len != alen * 8 ||
	    (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6))
		return false;
	memset(e, 0, sizeof(*e));
	e->family = rt->rtm_family == AF_INET6 ? XLB_AF_INET6 : XLB_AF_INET;
	for (struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) == 4)
			memcpy(&t, RTA_DATA(a), 4);
		if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) == alen) {
			memcpy(&e->addr, RTA_DATA(a), alen);
			dst = true;
		}
	}
	return dst && t == table;
}

static void route_collect(struct nlmsghdr *nh, void *ctx)
{
	struct route_list *l = ctx;
	struct xlb_route_entry e, *v;

	/* The table changed while the kernel dumped it: not a true list. */
	if (nh->nlmsg_flags & NLM_F_DUMP_INTR)
		l->ret = -EAGAIN;
	if (l->ret || !route_parse(nh, l->table, &e))
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;

		v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->ret = -ENOMEM;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = e;
}

int xlb_route_list(struct xlb_route *r, struct xlb_route_entry **out, size_t *n,
		   struct xlb_err *err)
{
	struct route_list l = {.table = r->table};
	struct route_req q = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
		.nh.nlmsg_type = RTM_GETROUTE,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.rt.rtm_family = AF_UNSPEC, /* both families in one dump */
	};
	int ret = -EAGAIN;

	/* A dump the kernel marks interrupted is taken again. */
	for (int i = 0; i < 5 && ret == -EAGAIN; i++) {
		l.n = 0;
		l.ret = 0;
		ret = route_talk(r, &q.nh, route_collect, &l);
		if (!ret)
			ret = l.ret;
	}
	if (ret) {
		free(l.v);
		xlb_err_set(err, "listing routes of table %u: %s", r->table,
			    strerror(-ret));
		return ret;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

static bool entry_in(const struct xlb_route_entry *e,
		     const struct xlb_route_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].family == e->family &&
		    !memcmp(&v[i].addr, &e->addr, sizeof(e->addr)))
			return true;
	return false;
}

int xlb_route_sync(struct xlb_route *r, const struct xlb_route_entry *want,
		   size_t n, size_t *added, size_t *removed,
		   struct xlb_err *err)
{
	struct xlb_err e2 = {{0}};
	struct xlb_route_entry *have;
	size_t nhave, add = 0, del = 0;
	int ret, first = 0;

	ret = xlb_route_list(r, &have, &nhave, err);
	if (ret)
		return ret;
	/* Announce first: a VIP moving between entries is never unrouted. */
	for (size_t i = 0; i < n; i++) {
		if (entry_in(&want[i], have, nhave) ||
		    entry_in(&want[i], want, i))
			continue;
		ret = xlb_route_announce(r, want[i].family, &want[i].addr,
					 first ? &e2 : err);
		if (!ret)
			add++;
		else if (!first)
			first = ret;
	}
	for (size_t i = 0; i < nhave; i++) {
		if (entry_in(&have[i], want, n))
			continue;
		ret = xlb_route_withdraw(r, have[i].family, &have[i].addr,
					 first ? &e2 : err);
		if (!ret)
			del++;
		else if (!first)
			first = ret;
	}
	free(have);
	if (added)
		*added = add;
	if (removed)
		*removed = del;
	return first;
}
