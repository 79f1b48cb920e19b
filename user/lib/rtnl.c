// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The rtnetlink client of rtnl.h: parsing of link and neighbour
 * messages, and the socket that dumps and follows them.
 *
 * One dump at a time (the kernel refuses a second one on a socket with
 * EBUSY): links first, then neighbours (AF_UNSPEC: both families). An
 * ENOBUFS means multicast events were dropped; a dump's own messages
 * are not (they are produced as the socket is read), so the dumps start
 * again once the one under way ends.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "rtnl.h"

/* Room for a datagram of the kernel's (it sends at most a page or 8 KiB
 * per message of a dump; events are smaller). */
#define RTNL_BUF    32768
#define RTNL_RCVBUF (1 << 20)

int xlb_rtnl_parse_link(const struct nlmsghdr *h, struct xlb_rtnl_link *l)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	const struct rtattr *rta;

	if (len < 0)
		return -EIO;
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->operstate = IF_OPER_UNKNOWN;
	l->del = h->nlmsg_type == RTM_DELLINK;
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		size_t n = RTA_PAYLOAD(rta);

		switch (rta->rta_type) {
		case IFLA_IFNAME:
			if (n > sizeof(l->name))
				n = sizeof(l->name);
			memcpy(l->name, RTA_DATA(rta), n);
			l->name[sizeof(l->name) - 1] = '\0';
			break;
		case IFLA_OPERSTATE:
			if (n >= 1)
				l->operstate = *(const __u8 *)RTA_DATA(rta);
			break;
		case IFLA_ADDRESS:
			/* Ethernet's 6 bytes; a tunnel's other sizes skip. */
			if (n == 6) {
				memcpy(l->mac, RTA_DATA(rta), 6);
				l->has_mac = true;
			}
			break;
		}
	}
	/* What is left must be padding, not half an attribute. */
	if (len >= (int)sizeof(struct rtattr))
		return -EIO;
	return l->ifindex > 0 ? 0 : 1;
}

int xlb_rtnl_parse_neigh(const struct nlmsghdr *h, struct xlb_rtnl_neigh *n)
{
	const struct ndmsg *nd = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
	const struct rtattr *rta;
	size_t alen;
	bool dst = false;

	if (len < 0)
		return -EIO;
	memset(n, 0, sizeof(*n));
	if (nd->ndm_family == AF_INET) {
		n->family = XLB_AF_INET;
		alen = 4;
	} else if (nd->ndm_family == AF_INET6) {
		n->family = XLB_AF_INET6;
		alen = 16;
	} else {
		return 1; /* a bridge's FDB entry, say */
	}
	n->ifindex = nd->ndm_ifindex;
	n->state = nd->ndm_state;
	n->del = h->nlmsg_type == RTM_DELNEIGH;
	for (rta = RTM_RTA(nd); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == NDA_DST && RTA_PAYLOAD(rta) == alen) {
			memcpy(n->dst.bytes, RTA_DATA(rta), alen);
			dst = true;
		} else if (rta->rta_type == NDA_LLADDR &&
			   RTA_PAYLOAD(rta) == 6) {
			memcpy(n->lladdr, RTA_DATA(rta), 6);
			n->has_lladdr = true;
		}
	}
	if (len >= (int)sizeof(struct rtattr))
		return -EIO;
	return dst && n->ifindex > 0 ? 0 : 1;
}

int xlb_rtnl_parse(const void *buf, size_t len, xlb_rtnl_fn fn, void *ctx,
		   __u32 *done_seq)
{
	const struct nlmsghdr *h = buf;
	int n = len > 0x7fffffff ? 0x7fffffff : (int)len, ret;
	struct xlb_rtnl_ev ev;

	for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		switch (h->nlmsg_type) {
		case NLMSG_DONE:
			if (done_seq)
				*done_seq = h->nlmsg_seq;
			return 1;
		case NLMSG_ERROR: {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EIO;
			if (e->error)
				return e->error;
			continue;
		}
		case RTM_NEWLINK:
		case RTM_DELLINK:
			memset(&ev, 0, sizeof(ev));
			ev.kind = XLB_RTNL_LINK;
			ret = xlb_rtnl_parse_link(h, &ev.link);
			break;
		case RTM_NEWNEIGH:
		case RTM_DELNEIGH:
			memset(&ev, 0, sizeof(ev));
			ev.kind = XLB_RTNL_NEIGH;
			ret = xlb_rtnl_parse_neigh(h, &ev.neigh);
			break;
		default:
			continue;
		}
		if (ret < 0)
			return ret;
		if (!ret)
			fn(ctx, &ev);
	}
	/* A datagram holds whole messages: anything left is torn. */
	return n > 0 ? -EIO : 0;
}

bool xlb_rtnl_link_usable(const struct xlb_rtnl_link *l, const char **why)
{
	const char *w = NULL;

	if (l->del)
		w = "no interface";
	else if (!(l->flags & IFF_UP))
		w = "link down";
	/* Drivers without operstate say UNKNOWN: IFF_LOWER_UP decides. */
	else if (!(l->flags & IFF_LOWER_UP) ||
		 (l->operstate != IF_OPER_UP &&
		  l->operstate != IF_OPER_UNKNOWN))
		w = "no carrier";
	if (why)
		*why = w;
	return !w;
}

bool xlb_rtnl_neigh_usable(__u16 state)
{
	return state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
			NUD_PERMANENT | NUD_NOARP);
}

/* ---- the socket ---------------------------------------------------------- */

static int dump_start(struct xlb_rtnl *r, enum xlb_rtnl_kind what)
{
	struct {
		struct nlmsghdr h;
		union {
			struct ifinfomsg ifi;
			struct ndmsg nd;
		};
	} req;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = ++r->seq;
	if (what == XLB_RTNL_LINK) {
		req.h.nlmsg_type = RTM_GETLINK;
		req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
		req.ifi.ifi_family = AF_UNSPEC;
	} else {
		req.h.nlmsg_type = RTM_GETNEIGH;
		req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.nd));
		req.nd.ndm_family = AF_UNSPEC;
	}
	if (sendto(r->fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	r->dumping = 1 + what;
	return 0;
}

int xlb_rtnl_open(struct xlb_rtnl *r)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_NEIGH,
	};
	int sz = RTNL_RCVBUF, ret;

	memset(r, 0, sizeof(*r));
	r->buf = malloc(RTNL_BUF);
	if (!r->buf)
		return -ENOMEM;
	r->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       NETLINK_ROUTE);
	if (r->fd < 0) {
		ret = -errno;
		goto err_buf;
	}
	/* A link flap of many interfaces must not overflow at once. */
	if (setsockopt(r->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(r->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		goto err_fd;
	}
	ret = dump_start(r, XLB_RTNL_LINK);
	if (ret)
		goto err_fd;
	r->start_pending = true;
	return 0;

err_fd:
	close(r->fd);
	r->fd = -1;
err_buf:
	free(r->buf);
	r->buf = NULL;
	return ret;
}

void xlb_rtnl_close(struct xlb_rtnl *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	r->fd = -1;
	r->buf = NULL;
}

/* The dump under way ended: the next one, if any. */
static int dump_next(struct xlb_rtnl *r, xlb_rtnl_fn fn, void *ctx)
{
	struct xlb_rtnl_ev ev = {.kind = XLB_RTNL_DUMP_DONE};
	enum xlb_rtnl_kind next = XLB_RTNL_LINK;
	bool more = true;

	ev.dump = r->dumping - 1;
	fn(ctx, &ev);
	if (ev.dump == XLB_RTNL_LINK)
		next = XLB_RTNL_NEIGH;
	else if (r->redump)
		r->redump = false;
	else
		more = false;
	r->dumping = 0;
	if (!more)
		return 0;
	ev = (struct xlb_rtnl_ev){.kind = XLB_RTNL_DUMP_START, .dump = next};
	fn(ctx, &ev);
	return dump_start(r, next);
}

int xlb_rtnl_read(struct xlb_rtnl *r, xlb_rtnl_fn fn, void *ctx)
{
	struct xlb_rtnl_ev start = {.kind = XLB_RTNL_DUMP_START};
	int reads = 0, ret;
	__u32 seq;
	ssize_t n;

	/* The first dump's start, said once its reader is there. */
	if (r->start_pending) {
		r->start_pending = false;
		start.dump = r->dumping - 1;
		fn(ctx, &start);
	}
	for (;;) {
		n = recv(r->fd, r->buf, RTNL_BUF, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			r->overflows++;
			if (r->dumping) {
				r->redump = true;
				continue;
			}
			start.dump = XLB_RTNL_LINK;
			fn(ctx, &start);
			ret = dump_start(r, XLB_RTNL_LINK);
			if (ret)
				return ret;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN ? reads : -errno;
		reads++;
		seq = 0;
		ret = xlb_rtnl_parse(r->buf, n, fn, ctx, &seq);
		if (ret == 1 && r->dumping) {
			ret = dump_next(r, fn, ctx);
			if (ret)
				return ret;
		} else if (ret < 0 && ret != -EIO) {
			/* The dump was refused (EBUSY...): try again later. */
			r->dumping = 0;
			r->redump = false;
			return ret;
		}
	}
}

int xlb_rtnl_redump(struct xlb_rtnl *r, xlb_rtnl_fn fn, void *ctx)
{
	struct xlb_rtnl_ev start = {.kind = XLB_RTNL_DUMP_START,
				    .dump = XLB_RTNL_LINK};

	if (r->dumping) {
		r->redump = true;
		return 0;
	}
	fn(ctx, &start);
	return dump_start(r, XLB_RTNL_LINK);
}
