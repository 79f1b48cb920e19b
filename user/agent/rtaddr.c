// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The address events of rtnetlink (RTM_NEWADDR, RTM_DELADDR), read from
 * one datagram into what decap.c needs: which interface, which address,
 * added or gone. Kept apart from the socket so crafted buffers test it.
 */
#include <errno.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include "decap.h"

/*
 * The address of an ifaddrmsg: IFA_LOCAL when given (on a point-to-point
 * link IFA_ADDRESS is the peer's), else IFA_ADDRESS, as getifaddrs reads
 * it. -EIO when an attribute overruns the message; 1 when it has none.
 */
static int parse_ifa(const struct nlmsghdr *h, struct agent_rtaddr *ev)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa));
	const struct rtattr *rta = IFA_RTA(ifa);
	const void *local = NULL, *addr = NULL;
	size_t alen;

	if (len < 0)
		return -EIO;
	if (ifa->ifa_family == AF_INET) {
		ev->family = XLB_AF_INET;
		alen = 4;
	} else if (ifa->ifa_family == AF_INET6) {
		ev->family = XLB_AF_INET6;
		alen = 16;
	} else {
		return 1;
	}
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (RTA_PAYLOAD(rta) != alen)
			continue;
		if (rta->rta_type == IFA_LOCAL)
			local = RTA_DATA(rta);
		else if (rta->rta_type == IFA_ADDRESS)
			addr = RTA_DATA(rta);
	}
	/* What is left must be padding, not half an attribute. */
	if (len >= (int)sizeof(struct rtattr))
		return -EIO;
	if (!local)
		local = addr;
	if (!local)
		return 1;
	memset(&ev->addr, 0, sizeof(ev->addr));
	memcpy(&ev->addr, local, alen);
	ev->ifindex = ifa->ifa_index;
	ev->add = h->nlmsg_type == RTM_NEWADDR;
	return 0;
}

int agent_rtaddr_parse(const void *buf, size_t len, agent_rtaddr_fn fn,
		       void *ctx)
{
	const struct nlmsghdr *h = buf;
	struct agent_rtaddr ev;
	int n = len > 0x7fffffff ? 0x7fffffff : (int)len, ret;

	for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		switch (h->nlmsg_type) {
		case NLMSG_DONE:
			return 1;
		case NLMSG_ERROR: {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EIO;
			if (e->error)
				return e->error;
			continue;
		}
		case RTM_NEWADDR:
		case RTM_DELADDR:
			ret = parse_ifa(h, &ev);
			if (ret < 0)
				return ret;
			if (!ret)
				fn(ctx, &ev);
			continue;
		default:
			continue;
		}
	}
	/* A datagram holds whole messages: anything left is torn. */
	return n > 0 ? -EIO : 0;
}
