// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Attaches the decapsulation program to the backend's interface and
 * tells it which of the host's addresses accept tunnels; detaches it on
 * the way out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>
#include "decap.h"
#include "decap.skel.h"
#include "loader.h"
#include "log.h"

struct agent_decap {
	struct xlb_decap *skel;
	struct xlb_xdp xdp;
	const char *ifname;
};

static int add_addr(int fd, const union xlb_addr *a, __u8 family)
{
	struct xlb_decap_key key = {.addr = *a, .family = family};
	char buf[XLB_ADDR_STRLEN];
	__u32 zero = 0;

	if (bpf_map_update_elem(fd, &key, &zero, BPF_ANY)) {
		xlb_log(LOG_ERR, "adding %s: %s",
			xlb_format_addr(a, family, buf, sizeof(buf)),
			strerror(errno));
		return -errno;
	}
	xlb_log(LOG_INFO, "accepting tunnels to %s",
		xlb_format_addr(a, family, buf, sizeof(buf)));
	return 0;
}

/* Every address of the interface accepts tunnels. */
static int add_if_addrs(int fd, const char *ifname)
{
	struct ifaddrs *ifa, *i;
	union xlb_addr a;
	int n = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
			continue;
		memset(&a, 0, sizeof(a));
		if (i->ifa_addr->sa_family == AF_INET) {
			a.v4 = ((struct sockaddr_in *)i->ifa_addr)
				       ->sin_addr.s_addr;
			if (!add_addr(fd, &a, XLB_AF_INET))
				n++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(a.bytes,
			       &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			       16);
			if (!add_addr(fd, &a, XLB_AF_INET6))
				n++;
		}
	}
	freeifaddrs(ifa);
	return n;
}

/* Writes the decap config and the addresses that accept tunnels. */
static int configure(struct xlb_decap *skel, const struct agent_decap_opts *o)
{
	struct xlb_decap_config cfg = {0};
	int addrs_fd = bpf_map__fd(skel->maps.decap_addrs);
	__u32 zero = 0;
	int n;

	cfg.gue_port = htons(o->gue_port);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.decap_config), &zero,
				&cfg, BPF_ANY)) {
		n = -errno;
		xlb_log(LOG_ERR, "writing config: %s", strerror(-n));
		return n;
	}
	n = add_if_addrs(addrs_fd, o->ifname);
	for (int i = 0; i < o->n_extra; i++)
		if (!add_addr(addrs_fd, &o->extra[i], o->extra_family[i]))
			n++;
	if (n <= 0)
		xlb_log(LOG_WARNING,
			"warning: no address accepts tunnels yet "
			"(%s has none; use --address)",
			o->ifname);
	return n;
}

struct agent_decap *agent_decap_attach(const struct agent_decap_opts *o)
{
	struct xlb_xdp_opts xo = {.what = "decap", .prog_name = "xlb_decap"};
	struct agent_decap *d = calloc(1, sizeof(*d));
	struct xlb_err err = {{0}};
	int n;

	if (!d) {
		xlb_log(LOG_ERR, "out of memory");
		return NULL;
	}
	d->ifname = o->ifname;
	d->skel = xlb_decap__open();
	if (!d->skel) {
		xlb_log(LOG_ERR, "opening decap object: %s", strerror(errno));
		goto out_free;
	}
	xo.ifname = o->ifname;
	xo.mode = o->mode;
	if (xlb_xdp_open(&d->xdp, d->skel->obj, &xo, &err)) {
		xlb_log(LOG_ERR, "%s", err.msg);
		goto out_skel;
	}
	n = configure(d->skel, o);
	if (n < 0)
		goto out_detach;
	xlb_log(LOG_NOTICE,
		"decap attached to %s (prog id %u), %d "
		"addresses, GUE port %lu",
		o->ifname, d->xdp.prog_id, n, o->gue_port);
	return d;

out_detach:
	xlb_xdp_close(&d->xdp, true);
out_skel:
	xlb_decap__destroy(d->skel);
out_free:
	free(d);
	return NULL;
}

void agent_decap_detach(struct agent_decap *d)
{
	if (!d)
		return;
	xlb_xdp_close(&d->xdp, true);
	xlb_log(LOG_NOTICE, "decap detached from %s", d->ifname);
	xlb_decap__destroy(d->skel);
	free(d);
}
