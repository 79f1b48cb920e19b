// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Finding the gateway MAC when the operator did not give one: the IPv4
 * default route through the interface (/proc/net/route), then that
 * address's neighbour entry (/proc/net/arp). When the entry is missing one
 * datagram to the gateway's discard port makes the kernel resolve it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
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

int xlbd_gateway_mac(const char *ifname, __u8 mac[6], char *gw_str,
		     size_t gw_len, struct xlb_err *err)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
	int fd;

	if (default_gateway(ifname, &sin.sin_addr)) {
		xlb_err_set(err,
			    "no IPv4 default route through %s: give "
			    "--gateway-mac",
			    ifname);
		return -ENOENT;
	}
	inet_ntop(AF_INET, &sin.sin_addr, gw_str, gw_len);
	if (!arp_lookup(ifname, gw_str, mac))
		return 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
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
