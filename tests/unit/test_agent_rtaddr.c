// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The agent's reading of rtnetlink address events, on datagrams made by
 * hand as the kernel lays them out: IPv4 (IFA_LOCAL over IFA_ADDRESS),
 * IPv6 (IFA_ADDRESS alone), deletions, several messages in one datagram,
 * what is skipped (other families, other types, no address) and what is
 * refused (torn messages and attributes, an NLMSG_ERROR).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "decap.h"

/* A datagram being built, and the events read back from one. */
struct dgram {
	char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t len;
	struct nlmsghdr *cur;
	struct agent_rtaddr ev[8];
	int n_ev;
};

static struct nlmsghdr *msg(struct dgram *d, __u16 type, int family,
			    int ifindex)
{
	struct nlmsghdr *h = (void *)(d->buf + d->len);
	struct ifaddrmsg *ifa;

	memset(h, 0, NLMSG_SPACE(sizeof(*ifa)));
	h->nlmsg_type = type;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	ifa = NLMSG_DATA(h);
	ifa->ifa_family = family;
	ifa->ifa_index = ifindex;
	ifa->ifa_prefixlen = family == AF_INET6 ? 64 : 24;
	d->cur = h;
	return h;
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

/* Closes the message being built into the datagram. */
static void end(struct dgram *d)
{
	d->len += NLMSG_ALIGN(d->cur->nlmsg_len);
}

static void addr4(struct dgram *d, __u16 type, const char *local,
		  const char *peer, int ifindex)
{
	struct in_addr a;

	msg(d, type, AF_INET, ifindex);
	if (peer) {
		assert_int_equal(inet_pton(AF_INET, peer, &a), 1);
		attr(d, IFA_ADDRESS, &a, 4);
	}
	if (local) {
		assert_int_equal(inet_pton(AF_INET, local, &a), 1);
		attr(d, IFA_LOCAL, &a, 4);
	}
	end(d);
}

static void addr6(struct dgram *d, __u16 type, const char *s, int ifindex)
{
	struct in6_addr a;
	__u32 flags = IFA_F_NODAD;

	msg(d, type, AF_INET6, ifindex);
	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	attr(d, IFA_ADDRESS, &a, 16);
	attr(d, IFA_FLAGS, &flags, sizeof(flags));
	end(d);
}

static void on_ev(void *ctx, const struct agent_rtaddr *ev)
{
	struct dgram *d = ctx;

	assert_true(d->n_ev < 8);
	d->ev[d->n_ev++] = *ev;
}

static int parse(struct dgram *d)
{
	d->n_ev = 0;
	return agent_rtaddr_parse(d->buf, d->len, on_ev, d);
}

static void expect_ev(const struct dgram *d, int i, bool add, int ifindex,
		      const char *addr)
{
	union xlb_addr a;
	__u8 family;
	struct xlb_err err;

	assert_true(i < d->n_ev);
	assert_int_equal(xlb_parse_addr(addr, &a, &family, &err), 0);
	assert_int_equal(d->ev[i].add, add);
	assert_int_equal(d->ev[i].ifindex, ifindex);
	assert_int_equal(d->ev[i].family, family);
	assert_memory_equal(&d->ev[i].addr, &a, sizeof(a));
}

static void test_new_and_del(void **state)
{
	static struct dgram d;

	(void)state;
	memset(&d, 0, sizeof(d));
	addr4(&d, RTM_NEWADDR, "198.18.77.1", "198.18.77.1", 3);
	/* Point-to-point: IFA_ADDRESS is the peer, IFA_LOCAL is ours. */
	addr4(&d, RTM_NEWADDR, "198.18.77.2", "198.18.99.9", 3);
	addr6(&d, RTM_NEWADDR, "2001:db8:77::1", 4);
	addr4(&d, RTM_DELADDR, "198.18.77.1", "198.18.77.1", 3);
	addr6(&d, RTM_DELADDR, "2001:db8:77::1", 4);
	assert_int_equal(parse(&d), 0);
	assert_int_equal(d.n_ev, 5);
	expect_ev(&d, 0, true, 3, "198.18.77.1");
	expect_ev(&d, 1, true, 3, "198.18.77.2");
	expect_ev(&d, 2, true, 4, "2001:db8:77::1");
	expect_ev(&d, 3, false, 3, "198.18.77.1");
	expect_ev(&d, 4, false, 4, "2001:db8:77::1");
}

static void test_skipped(void **state)
{
	static struct dgram d;
	__u8 mac[6] = {0};

	(void)state;
	memset(&d, 0, sizeof(d));
	/* Not an address message (a link), another family, no address. */
	msg(&d, RTM_NEWLINK, AF_UNSPEC, 3);
	end(&d);
	msg(&d, RTM_NEWADDR, AF_PACKET, 3);
	attr(&d, IFA_ADDRESS, mac, sizeof(mac));
	end(&d);
	msg(&d, RTM_NEWADDR, AF_INET, 3);
	end(&d);
	/* An attribute of the wrong size is no address. */
	msg(&d, RTM_NEWADDR, AF_INET, 3);
	attr(&d, IFA_LOCAL, mac, sizeof(mac));
	end(&d);
	addr4(&d, RTM_NEWADDR, "198.18.77.3", NULL, 5);
	assert_int_equal(parse(&d), 0);
	assert_int_equal(d.n_ev, 1);
	expect_ev(&d, 0, true, 5, "198.18.77.3");
	/* An empty datagram says nothing. */
	d.len = 0;
	assert_int_equal(parse(&d), 0);
	assert_int_equal(d.n_ev, 0);
}

static void test_done_and_error(void **state)
{
	static struct dgram d;
	struct nlmsgerr *e;

	(void)state;
	memset(&d, 0, sizeof(d));
	addr4(&d, RTM_NEWADDR, "198.18.77.1", NULL, 3);
	msg(&d, NLMSG_DONE, AF_UNSPEC, 0);
	end(&d);
	addr4(&d, RTM_NEWADDR, "198.18.77.9", NULL, 3);
	/* A dump's end: what follows is not read. */
	assert_int_equal(parse(&d), 1);
	assert_int_equal(d.n_ev, 1);

	memset(&d, 0, sizeof(d));
	msg(&d, NLMSG_ERROR, AF_UNSPEC, 0);
	d.cur->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
	e = NLMSG_DATA(d.cur);
	e->error = -ENOBUFS;
	end(&d);
	assert_int_equal(parse(&d), -ENOBUFS);
	/* An acknowledgement (error 0) is no error. */
	e->error = 0;
	assert_int_equal(parse(&d), 0);
}

static void test_torn(void **state)
{
	static struct dgram d;
	struct rtattr *rta;

	(void)state;
	memset(&d, 0, sizeof(d));
	addr4(&d, RTM_NEWADDR, "198.18.77.1", NULL, 3);
	addr4(&d, RTM_NEWADDR, "198.18.77.2", NULL, 3);
	/* The second message cut short by the datagram's end. */
	d.len -= 4;
	assert_int_equal(parse(&d), -EIO);
	assert_int_equal(d.n_ev, 1);

	/* An attribute longer than its message. */
	memset(&d, 0, sizeof(d));
	addr4(&d, RTM_NEWADDR, "198.18.77.1", NULL, 3);
	rta = IFA_RTA((struct ifaddrmsg *)NLMSG_DATA(d.cur));
	rta->rta_len = 64;
	assert_int_equal(parse(&d), -EIO);
	assert_int_equal(d.n_ev, 0);

	/* A message shorter than its ifaddrmsg. */
	memset(&d, 0, sizeof(d));
	msg(&d, RTM_NEWADDR, AF_INET, 3);
	d.cur->nlmsg_len = NLMSG_LENGTH(2);
	end(&d);
	assert_int_equal(parse(&d), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_and_del),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_done_and_error),
		cmocka_unit_test(test_torn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
