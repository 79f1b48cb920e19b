// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * rtnl.c's reading of link and neighbour messages, on datagrams made by
 * hand as the kernel lays them out: a link's index, name, flags,
 * operstate and MAC, and when it is usable (up, carrier); a neighbour's
 * address of either family, MAC and NUD state, and which states send;
 * deletions, several messages in a datagram, the end of a dump, and what
 * is refused (torn messages and attributes, an NLMSG_ERROR) or skipped
 * (other families, a non-Ethernet address).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>

#include "rtnl.h"

/* A datagram being built, and the events read back from one. */
struct dgram {
	char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t len;
	struct nlmsghdr *cur;
	struct xlb_rtnl_ev ev[8];
	int n_ev;
};

static void *msg(struct dgram *d, __u16 type, size_t hdr)
{
	struct nlmsghdr *h = (void *)(d->buf + d->len);

	memset(h, 0, NLMSG_SPACE(hdr));
	h->nlmsg_type = type;
	h->nlmsg_len = NLMSG_LENGTH(hdr);
	d->cur = h;
	return NLMSG_DATA(h);
}

static void attr(struct dgram *d, __u16 type, const void *data, size_t len)
{
	struct nlmsghdr *h = d->cur;
	struct rtattr *rta = (void *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static void end(struct dgram *d)
{
	d->len += NLMSG_ALIGN(d->cur->nlmsg_len);
}

static const __u8 mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};

static void link(struct dgram *d, __u16 type, int ifindex, const char *name,
		 unsigned int flags, int oper, const void *addr, size_t alen)
{
	struct ifinfomsg *ifi = msg(d, type, sizeof(*ifi));
	__u8 o = oper;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	if (name)
		attr(d, IFLA_IFNAME, name, strlen(name) + 1);
	if (oper >= 0)
		attr(d, IFLA_OPERSTATE, &o, 1);
	if (addr)
		attr(d, IFLA_ADDRESS, addr, alen);
	end(d);
}

static void neigh(struct dgram *d, __u16 type, int family, int ifindex,
		  const char *dst, const void *lladdr, __u16 state)
{
	struct ndmsg *nd = msg(d, type, sizeof(*nd));
	__u8 a[16];

	nd->ndm_family = family;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = state;
	if (dst) {
		assert_int_equal(inet_pton(family, dst, a), 1);
		attr(d, NDA_DST, a, family == AF_INET ? 4 : 16);
	}
	if (lladdr)
		attr(d, NDA_LLADDR, lladdr, 6);
	end(d);
}

static void collect(void *ctx, const struct xlb_rtnl_ev *ev)
{
	struct dgram *d = ctx;

	assert_true(d->n_ev < 8);
	d->ev[d->n_ev++] = *ev;
}

static int parse(struct dgram *d)
{
	return xlb_rtnl_parse(d->buf, d->len, collect, d, NULL);
}

static void test_link_fields(void **state)
{
	struct dgram d = {0};
	const struct xlb_rtnl_link *l;
	const char *why = "x";

	(void)state;
	link(&d, RTM_NEWLINK, 7, "eth1", IFF_UP | IFF_RUNNING | IFF_LOWER_UP,
	     IF_OPER_UP, mac_a, 6);
	assert_int_equal(parse(&d), 0);
	assert_int_equal(d.n_ev, 1);
	assert_int_equal(d.ev[0].kind, XLB_RTNL_LINK);
	l = &d.ev[0].link;
	assert_int_equal(l->ifindex, 7);
	assert_string_equal(l->name, "eth1");
	assert_int_equal(l->operstate, IF_OPER_UP);
	assert_true(l->has_mac);
	assert_memory_equal(l->mac, mac_a, 6);
	assert_false(l->del);
	assert_true(xlb_rtnl_link_usable(l, &why));
	assert_null(why);
}

/* Up and carrier decide; a driver without operstate (UNKNOWN) is fine. */
static void test_link_usable(void **state)
{
	static const struct {
		unsigned int flags;
		int oper;
		__u16 type;
		const char *why;
	} rows[] = {
		{IFF_UP | IFF_LOWER_UP, IF_OPER_UP, RTM_NEWLINK, NULL},
		{IFF_UP | IFF_LOWER_UP, -1, RTM_NEWLINK, NULL},
		{IFF_UP | IFF_LOWER_UP, IF_OPER_UNKNOWN, RTM_NEWLINK, NULL},
		{IFF_LOWER_UP, IF_OPER_DOWN, RTM_NEWLINK, "link down"},
		{IFF_UP, IF_OPER_DOWN, RTM_NEWLINK, "no carrier"},
		{IFF_UP, IF_OPER_UP, RTM_NEWLINK, "no carrier"},
		{IFF_UP | IFF_LOWER_UP, IF_OPER_LOWERLAYERDOWN, RTM_NEWLINK,
		 "no carrier"},
		{IFF_UP | IFF_LOWER_UP, IF_OPER_UP, RTM_DELLINK,
		 "no interface"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct dgram d = {0};
		const char *why = NULL;

		link(&d, rows[i].type, 3, "up0", rows[i].flags, rows[i].oper,
		     mac_a, 6);
		assert_int_equal(parse(&d), 0);
		assert_int_equal(d.n_ev, 1);
		assert_int_equal(xlb_rtnl_link_usable(&d.ev[0].link, &why),
				 !rows[i].why);
		if (rows[i].why)
			assert_string_equal(why, rows[i].why);
		else
			assert_null(why);
	}
}

/* A tunnel's 4-byte address is no MAC; a name too long is cut. */
static void test_link_odd(void **state)
{
	struct dgram d = {0};
	__u8 a4[4] = {198, 18, 0, 1};

	(void)state;
	link(&d, RTM_NEWLINK, 9, "averyveryverylongname", IFF_UP, IF_OPER_UP,
	     a4, 4);
	assert_int_equal(parse(&d), 0);
	assert_int_equal(d.n_ev, 1);
	assert_false(d.ev[0].link.has_mac);
	assert_int_equal(strlen(d.ev[0].link.name), XLB_RTNL_IFNAMSIZ - 1);
}

static void test_neigh_v4_v6(void **state)
{
	struct dgram d = {0};
	struct in6_addr a6;
	__be32 a4 = htonl(0xc6120001);

	(void)state;
	neigh(&d, RTM_NEWNEIGH, AF_INET, 4, "198.18.0.1", mac_a, NUD_REACHABLE);
	neigh(&d, RTM_NEWNEIGH, AF_INET6, 5, "2001:db8::1", mac_a, NUD_STALE);
	neigh(&d, RTM_DELNEIGH, AF_INET, 4, "198.18.0.1", NULL, NUD_FAILED);
	assert_int_equal(parse(&d), 0);
	assert_int_equal(d.n_ev, 3);
	assert_int_equal(d.ev[0].kind, XLB_RTNL_NEIGH);
	assert_int_equal(d.ev[0].neigh.family, XLB_AF_INET);
	assert_int_equal(d.ev[0].neigh.ifindex, 4);
	assert_memory_equal(&d.ev[0].neigh.dst.v4, &a4, 4);
	assert_true(d.ev[0].neigh.has_lladdr);
	assert_memory_equal(d.ev[0].neigh.lladdr, mac_a, 6);
	assert_int_equal(d.ev[0].neigh.state, NUD_REACHABLE);
	assert_false(d.ev[0].neigh.del);
	inet_pton(AF_INET6, "2001:db8::1", &a6);
	assert_int_equal(d.ev[1].neigh.family, XLB_AF_INET6);
	assert_memory_equal(d.ev[1].neigh.dst.bytes, &a6, 16);
	assert_true(d.ev[2].neigh.del);
	assert_false(d.ev[2].neigh.has_lladdr);
}

static void test_neigh_states(void **state)
{
	(void)state;
	assert_true(xlb_rtnl_neigh_usable(NUD_REACHABLE));
	assert_true(xlb_rtnl_neigh_usable(NUD_STALE));
	assert_true(xlb_rtnl_neigh_usable(NUD_DELAY));
	assert_true(xlb_rtnl_neigh_usable(NUD_PROBE));
	assert_true(xlb_rtnl_neigh_usable(NUD_PERMANENT));
	assert_true(xlb_rtnl_neigh_usable(NUD_NOARP));
	assert_false(xlb_rtnl_neigh_usable(NUD_FAILED));
	assert_false(xlb_rtnl_neigh_usable(NUD_INCOMPLETE));
	assert_false(xlb_rtnl_neigh_usable(NUD_NONE));
}

/* A bridge's FDB entry, an entry without an address: skipped. */
static void test_neigh_skipped(void **state)
{
	struct dgram d = {0};

	(void)state;
	neigh(&d, RTM_NEWNEIGH, AF_BRIDGE, 4, NULL, mac_a, NUD_REACHABLE);
	neigh(&d, RTM_NEWNEIGH, AF_INET, 4, NULL, mac_a, NUD_REACHABLE);
	neigh(&d, RTM_NEWNEIGH, AF_INET, 4, "198.18.0.9", mac_a, NUD_STALE);
	assert_int_equal(parse(&d), 0);
	assert_int_equal(d.n_ev, 1);
	assert_int_equal(d.ev[0].neigh.state, NUD_STALE);
}

/* The events before a dump's end are given; its sequence is said. */
static void test_done(void **state)
{
	struct dgram d = {0};
	__u32 seq = 0;

	(void)state;
	link(&d, RTM_NEWLINK, 2, "a", IFF_UP, IF_OPER_UP, mac_a, 6);
	msg(&d, NLMSG_DONE, sizeof(int));
	d.cur->nlmsg_seq = 42;
	end(&d);
	link(&d, RTM_NEWLINK, 3, "b", IFF_UP, IF_OPER_UP, mac_a, 6);
	assert_int_equal(xlb_rtnl_parse(d.buf, d.len, collect, &d, &seq), 1);
	assert_int_equal(seq, 42);
	assert_int_equal(d.n_ev, 1);
}

static void test_refused(void **state)
{
	struct dgram d = {0};
	struct nlmsgerr *e;
	struct rtattr *rta;

	(void)state;
	/* An error answer. */
	e = msg(&d, NLMSG_ERROR, sizeof(*e));
	e->error = -EBUSY;
	end(&d);
	assert_int_equal(parse(&d), -EBUSY);
	/* A torn message: the datagram ends inside it. */
	memset(&d, 0, sizeof(d));
	link(&d, RTM_NEWLINK, 2, "a", IFF_UP, IF_OPER_UP, mac_a, 6);
	d.len -= 8;
	assert_int_equal(parse(&d), -EIO);
	/* A torn attribute: longer than its message. */
	memset(&d, 0, sizeof(d));
	link(&d, RTM_NEWLINK, 2, "a", IFF_UP, IF_OPER_UP, mac_a, 6);
	rta = IFLA_RTA((struct ifinfomsg *)NLMSG_DATA(d.cur));
	rta->rta_len = 200;
	assert_int_equal(parse(&d), -EIO);
	memset(&d, 0, sizeof(d));
	neigh(&d, RTM_NEWNEIGH, AF_INET, 4, "198.18.0.1", mac_a, NUD_STALE);
	d.cur->nlmsg_len -= 4; /* the MAC's attribute cut short */
	assert_int_equal(parse(&d), -EIO);
	assert_int_equal(d.n_ev, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_fields),
		cmocka_unit_test(test_link_usable),
		cmocka_unit_test(test_link_odd),
		cmocka_unit_test(test_neigh_v4_v6),
		cmocka_unit_test(test_neigh_states),
		cmocka_unit_test(test_neigh_skipped),
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
