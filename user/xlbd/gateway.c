// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Finding the gateway MAC when the operator did not give one: the IPv4
 * default route through the interface (/proc/net/route) and that
 * address's neighbour entry (/proc/net/arp), else the IPv6 default route
 * (/proc/net/ipv6_route) and its neighbour entry (rtnetlink: IPv6 has no
 * /proc table), so an IPv6-only balancer starts too. When the entry is
 * missing one datagram to the gateway's discard port makes the kernel
 * resolve it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>
#include "xlbd.h"

int xlbd_parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

static int default_gateway(const char *ifname, struct in_addr *gw)
{
	char line[256], iface[64];
	unsigned int dst, gateway, flags;
	FILE *f = fopen("/proc/net/route", "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %x %x %x", iface, &dst, &gateway,
			   &flags) != 4)
			continue;
		/* 0x2: RTF_GATEWAY; the file holds addresses as in memory. */
		if (!strcmp(iface, ifname) && dst == 0 && (flags & 0x2)) {
			gw->s_addr = gateway;
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

static int arp_lookup(const char *ifname, const char *ip, __u8 mac[6])
{
	char line[256], addr[64], hw[64], dev[64];
	unsigned int type, flags;
	FILE *f = fopen("/proc/net/arp", "r");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %x %x %63s %*s %63s", addr, &type,
			   &flags, hw, dev) != 5)
			continue;
		/* 0x2: ATF_COM, the entry is complete. */
		if (!strcmp(addr, ip) && !strcmp(dev, ifname) &&
		    (flags & 0x2) && !xlbd_parse_mac(hw, mac)) {
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* The IPv6 default route's next hop through ifname. */
static int default_gateway6(const char *ifname, struct in6_addr *gw)
{
	char line[256], dst[33], hop[33], iface[64];
	unsigned int plen, flags;
	FILE *f = fopen("/proc/net/ipv6_route", "r");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%32s %x %*s %*s %32s %*s %*s %*s %x %63s",
			   dst, &plen, hop, &flags, iface) != 5)
			continue;
		/* 0x2: RTF_GATEWAY; addresses as 32 hex digits. */
		if (strcmp(iface, ifname) || plen || !(flags & 0x2) ||
		    strspn(dst, "0") != 32)
			continue;
		for (int i = 0; i < 16; i++) {
			unsigned int b;

			sscanf(hop + 2 * i, "%2x", &b);
			gw->s6_addr[i] = b;
		}
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/* Is nd a usable IPv6 neighbour entry of gw on ifindex? Its MAC then. */
static bool neigh_match(struct nlmsghdr *nh, int ifindex,
			const struct in6_addr *gw, __u8 mac[6])
{
	struct ndmsg *nd = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
	const void *dst = NULL, *ll = NULL;

	if (nh->nlmsg_type != RTM_NEWNEIGH || nd->ndm_ifindex != ifindex ||
	    !(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY |
			       NUD_PROBE | NUD_PERMANENT)))
		return false;
	for (struct rtattr *a =
		     (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == 16)
			dst = RTA_DATA(a);
		if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6)
			ll = RTA_DATA(a);
	}
	if (!dst || !ll || memcmp(dst, gw, 16))
		return false;
	memcpy(mac, ll, 6);
	return true;
}

/* The neighbour table's MAC of gw on ifindex (an RTM_GETNEIGH dump). */
static int ndp_lookup(int ifindex, const struct in6_addr *gw, __u8 mac[6])
{
	struct {
		struct nlmsghdr nh;
		struct ndmsg nd;
	} req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
		.nh.nlmsg_type = RTM_GETNEIGH,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nd.ndm_family = AF_INET6,
	};
	static char buf[32768];
	int fd, ret = -ENOENT;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		goto out;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		int len = n;

		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf;
		     NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE ||
			    nh->nlmsg_type == NLMSG_ERROR)
				goto out;
			if (ret && neigh_match(nh, ifindex, gw, mac))
				ret = 0;
		}
	}
out:
	close(fd);
	return ret;
}

/* The IPv6 gateway's MAC, resolved by the kernel if it must be. */
static int gateway6_mac(const char *ifname, __u8 mac[6], char *gw_str,
			size_t gw_len, struct xlb_err *err)
{
	struct sockaddr_in6 sin = {.sin6_family = AF_INET6,
				   .sin6_port = htons(9)};
	int ifindex = if_nametoindex(ifname), fd;

	if (default_gateway6(ifname, &sin.sin6_addr)) {
		xlb_err_set(err,
			    "no IPv4 or IPv6 default route through %s: give "
			    "--gateway-mac",
			    ifname);
		return -ENOENT;
	}
	inet_ntop(AF_INET6, &sin.sin6_addr, gw_str, gw_len);
	if (!ndp_lookup(ifindex, &sin.sin6_addr, mac))
		return 0;
	sin.sin6_scope_id = ifindex;
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		sendto(fd, "", 0, 0, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
	}
	for (int i = 0; i < 40; i++) {
		usleep(50000);
		if (!ndp_lookup(ifindex, &sin.sin6_addr, mac))
			return 0;
	}
	xlb_err_set(err,
		    "gateway %s on %s did not resolve to a MAC address: give "
		    "--gateway-mac",
		    gw_str, ifname);
	return -EHOSTUNREACH;
}

int xlbd_gateway_mac(const char *ifname, __u8 mac[6], char *gw_str,
		     size_t gw_len, struct xlb_err *err)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
	int fd;

	if (default_gateway(ifname, &sin.sin_addr))
		return gateway6_mac(ifname, mac, gw_str, gw_len, err);
	inet_ntop(AF_INET, &sin.sin_addr, gw_str, gw_len);
	if (!arp_lookup(ifname, gw_str, mac))
		return 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		sendto(fd, "", 0, 0, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
	}
	for (int i = 0; i < 20; i++) {
		usleep(50000);
		if (!arp_lookup(ifname, gw_str, mac))
			return 0;
	}
	xlb_err_set(err,
		    "gateway %s on %s did not resolve to a MAC address: give "
		    "--gateway-mac",
		    gw_str, ifname);
	return -EHOSTUNREACH;
}
