/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xlb-agent's first duty: the decapsulation program on the backend's NIC
 * and the addresses that accept tunnels (every address of the interface,
 * plus any given with --address). The interface's addresses are followed
 * as they come and go (rtnetlink), not only those it had at start.
 */
#ifndef XLB_AGENT_DECAP_H
#define XLB_AGENT_DECAP_H

#include <stdbool.h>
#include <xdp/libxdp.h>
#include "model.h"
#include "watch.h"

#define AGENT_MAX_EXTRA 16

struct agent_decap_opts {
	const char *ifname;
	enum xdp_attach_mode mode;
	unsigned long gue_port;
	union xlb_addr extra[AGENT_MAX_EXTRA];
	__u8 extra_family[AGENT_MAX_EXTRA];
	int n_extra;
};

struct agent_decap;

/* Attaches and configures decap; NULL when that failed (logged). */
struct agent_decap *agent_decap_attach(const struct agent_decap_opts *o);
/* Detaches it again and frees d. */
void agent_decap_detach(struct agent_decap *d);
/*
 * Follows the interface's addresses from now on: a netlink socket in
 * epfd, its events applied to the table as they come (a lost event, and
 * the moment of subscribing, by re-reading them all). 0 or -errno.
 */
int agent_decap_watch(struct agent_decap *d, int epfd);

/* rtaddr.c: an address event of rtnetlink. */
struct agent_rtaddr {
	bool add; /* RTM_NEWADDR; else RTM_DELADDR */
	int ifindex;
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
	union xlb_addr addr;
};

typedef void (*agent_rtaddr_fn)(void *ctx, const struct agent_rtaddr *ev);

/*
 * Calls fn for each IPv4 or IPv6 address event of the datagram buf (other
 * messages are skipped). 0; 1 at NLMSG_DONE; the negative errno of an
 * NLMSG_ERROR; -EIO for a torn message or attribute.
 */
int agent_rtaddr_parse(const void *buf, size_t len, agent_rtaddr_fn fn,
		       void *ctx);

#endif /* XLB_AGENT_DECAP_H */
