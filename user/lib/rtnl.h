/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A small non-blocking rtnetlink client for what xlbd follows of its
 * uplinks: links (RTNLGRP_LINK: index, name, up, carrier, operstate,
 * MAC) and neighbours of both families (RTNLGRP_NEIGH: address, MAC, NUD
 * state). It dumps both at start and
 * again after the socket overflowed (ENOBUFS: events were lost), and says
 * where each dump begins and ends, so a reader can forget what a dump no
 * longer shows. The parsing is apart from the socket, so hand-made
 * datagrams test it. Plain <linux/rtnetlink.h>, as gateway.c and the
 * agent's rtaddr.c: the messages read are few and libmnl would add a
 * dependency for the attribute walk alone.
 */
#ifndef XLB_RTNL_H
#define XLB_RTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <xlb/types.h>

#define XLB_RTNL_IFNAMSIZ 16

struct xlb_rtnl_link {
	int ifindex;
	char name[XLB_RTNL_IFNAMSIZ]; /* "" when the message had none */
	unsigned int flags;	      /* IFF_* */
	__u8 operstate;		      /* IF_OPER_*; IF_OPER_UNKNOWN if absent */
	bool has_mac;
	__u8 mac[6]; /* IFLA_ADDRESS of an Ethernet-sized address */
	bool del;    /* RTM_DELLINK */
};

struct xlb_rtnl_neigh {
	int ifindex;
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
	union xlb_addr dst;
	bool has_lladdr;
	__u8 lladdr[6];
	__u16 state; /* NUD_* */
	bool del;    /* RTM_DELNEIGH */
};

enum xlb_rtnl_kind {
	XLB_RTNL_LINK,
	XLB_RTNL_NEIGH,
	XLB_RTNL_DUMP_START, /* dump: XLB_RTNL_LINK or XLB_RTNL_NEIGH */
	XLB_RTNL_DUMP_DONE,
};

struct xlb_rtnl_ev {
	enum xlb_rtnl_kind kind;
	enum xlb_rtnl_kind dump; /* of DUMP_START and DUMP_DONE */
	union {
		struct xlb_rtnl_link link;
		struct xlb_rtnl_neigh neigh;
	};
};

typedef void (*xlb_rtnl_fn)(void *ctx, const struct xlb_rtnl_ev *ev);

/*
 * One message into l or n: 0, 1 when it is not for us (another family,
 * an address that is not Ethernet's...), -EIO when it is torn.
 */
int xlb_rtnl_parse_link(const struct nlmsghdr *h, struct xlb_rtnl_link *l);
int xlb_rtnl_parse_neigh(const struct nlmsghdr *h, struct xlb_rtnl_neigh *n);

/*
 * Every message of one datagram, link and neighbour ones given to fn.
 * 0, 1 when an NLMSG_DONE ended it (*done_seq its sequence number), the
 * error of an NLMSG_ERROR, or -EIO when torn.
 */
int xlb_rtnl_parse(const void *buf, size_t len, xlb_rtnl_fn fn, void *ctx,
		   __u32 *done_seq);

/* Link changes: IFF_UP, and a carrier (IFF_LOWER_UP, operstate up). */
bool xlb_rtnl_link_usable(const struct xlb_rtnl_link *l, const char **why);
/* A neighbour entry the kernel sends frames to (not FAILED/INCOMPLETE). */
bool xlb_rtnl_neigh_usable(__u16 state);

struct xlb_rtnl {
	int fd;
	__u32 seq;	    /* the dump under way's, or the last one's */
	int dumping;	    /* 0, or 1 + enum xlb_rtnl_kind of the dump */
	bool redump;	    /* events were lost: dump again after this one */
	bool start_pending; /* the first dump's start not said yet */
	__u64 overflows;    /* ENOBUFS seen */
	char *buf;	    /* one datagram */
};

/* Socket bound to the groups, non-blocking; the first dump started. */
int xlb_rtnl_open(struct xlb_rtnl *r);
void xlb_rtnl_close(struct xlb_rtnl *r);
/*
 * Reads until the socket is empty, giving fn every event and the dumps'
 * edges; starts the next dump (neighbours after links, both again after
 * an overflow). The number of datagrams read, or -errno.
 */
int xlb_rtnl_read(struct xlb_rtnl *r, xlb_rtnl_fn fn, void *ctx);
/*
 * Asks for both dumps again (a reader that starts following something
 * new): now when none is under way, else after it. 0 or -errno.
 */
int xlb_rtnl_redump(struct xlb_rtnl *r, xlb_rtnl_fn fn, void *ctx);

#endif /* XLB_RTNL_H */
