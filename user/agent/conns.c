// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Established TCP connections by local port, from one NETLINK_SOCK_DIAG
 * dump per address family (inet_diag_req_v2, states ESTABLISHED and
 * LISTEN), not /proc/net/tcp: the kernel filters by state and sends
 * binary records, which stays cheap with many thousands of sockets. One
 * dump per sample counts every port at once, so any number of services
 * cost the same. A port counts for the host when something listens on
 * it: the host's connections are those it accepted, not those it opened.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "agent.h"

/* From the kernel's enum tcp_state (include/net/tcp_states.h). */
#define DIAG_TCP_ESTABLISHED 1
#define DIAG_TCP_LISTEN	     10

int agent_conns_init(struct agent_conns *c)
{
	memset(c, 0, sizeof(*c));
	c->by_port = calloc(65536, sizeof(*c->by_port));
	c->listening = calloc(65536 / 8, 1);
	if (!c->by_port || !c->listening) {
		agent_conns_free(c);
		return -ENOMEM;
	}
	return 0;
}

void agent_conns_free(struct agent_conns *c)
{
	free(c->by_port);
	free(c->listening);
	c->by_port = NULL;
	c->listening = NULL;
}

static int dump_request(int fd, __u8 family)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.req = {.sdiag_family = family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = (1U << DIAG_TCP_ESTABLISHED) |
					(1U << DIAG_TCP_LISTEN)},
	};
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* Counts one record; returns 1 at the end of the dump. */
static int count_msg(struct agent_conns *c, const struct nlmsghdr *h)
{
	const struct inet_diag_msg *d;
	unsigned port;

	if (h->nlmsg_type == NLMSG_DONE)
		return 1;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		return e->error ? e->error : -EIO;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*d)))
		return 0;
	d = NLMSG_DATA(h);
	port = ntohs(d->id.idiag_sport);
	if (d->idiag_state == DIAG_TCP_LISTEN)
		c->listening[port / 8] |= 1U << (port % 8);
	else if (d->idiag_state == DIAG_TCP_ESTABLISHED)
		c->by_port[port]++;
	return 0;
}

/* Reads the replies to one dump request until NLMSG_DONE. */
static int dump_read(int fd, struct agent_conns *c)
{
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h;
	ssize_t n;
	int ret;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			ret = count_msg(c, h);
			if (ret)
				return ret < 0 ? ret : 0;
		}
	}
}

int agent_conns_update(struct agent_conns *c)
{
	static const __u8 families[] = {AF_INET, AF_INET6};
	int fd, ret = 0;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	memset(c->by_port, 0, 65536 * sizeof(*c->by_port));
	memset(c->listening, 0, 65536 / 8);
	for (size_t i = 0; i < sizeof(families) && !ret; i++) {
		ret = dump_request(fd, families[i]);
		if (!ret)
			ret = dump_read(fd, c);
		/* A kernel without IPv6 has no IPv6 sockets to count. */
		if (ret == -ENOENT && families[i] == AF_INET6)
			ret = 0;
	}
	close(fd);
	c->host = 0;
	for (unsigned p = 0; p < 65536; p++)
		if (c->listening[p / 8] & (1U << (p % 8)))
			c->host += c->by_port[p];
	return ret;
}
