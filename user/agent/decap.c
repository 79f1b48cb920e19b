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
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>
#include <xlb/decap.h>
#include "decap.h"
#include "decap.skel.h"
#include "loader.h"
#include "log.h"

struct agent_decap {
	struct xlb_decap *skel;
	struct xlb_xdp xdp;
	const char *ifname;
	__u32 active; /* decap_active's word: the table in force */
	bool retired; /* the other table was in force once */
};

/* The addresses that accept tunnels, before they go into the table. */
struct addr_set {
	struct xlb_decap_key key[XLB_MAX_DECAP_ADDRS];
	int n;
};

static void add_addr(struct addr_set *s, const union xlb_addr *a, __u8 family)
{
	struct xlb_decap_key key = {.addr = *a, .family = family};
	char buf[XLB_ADDR_STRLEN];

	xlb_format_addr(a, family, buf, sizeof(buf));
	for (int i = 0; i < s->n; i++)
		if (!memcmp(&s->key[i], &key, sizeof(key)))
			return;
	if (s->n == XLB_MAX_DECAP_ADDRS) {
		xlb_log(LOG_ERR, "adding %s: more than %d addresses", buf,
			XLB_MAX_DECAP_ADDRS);
		return;
	}
	s->key[s->n++] = key;
	xlb_log(LOG_INFO, "accepting tunnels to %s", buf);
}

/* Every address of the interface accepts tunnels. */
static int add_if_addrs(struct addr_set *s, const char *ifname)
{
	struct ifaddrs *ifa, *i;
	union xlb_addr a;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
			continue;
		memset(&a, 0, sizeof(a));
		if (i->ifa_addr->sa_family == AF_INET) {
			a.v4 = ((struct sockaddr_in *)i->ifa_addr)
				       ->sin_addr.s_addr;
			add_addr(s, &a, XLB_AF_INET);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(a.bytes,
			       &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			       16);
			add_addr(s, &a, XLB_AF_INET6);
		}
	}
	freeifaddrs(ifa);
	return 0;
}

/*
 * One RCU grace period: XDP programs run inside RCU read-side sections,
 * so once it is over no packet still reads a table taken out of force
 * before it began. (MEMBARRIER_CMD_GLOBAL is synchronize_rcu().)
 */
static int grace_wait(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		return -errno;
	return 0;
}

/*
 * Puts the table of s in force: writes the table not in force, then the
 * word that names it, so a packet sees the old set or the new one, never
 * a table being written. The table it writes may have been in force
 * before; it waits a grace period first so no packet still reads it.
 */
static int publish(struct agent_decap *d, const struct addr_set *s)
{
	struct xlb_decap_bucket tab[XLB_DECAP_BUCKETS];
	int fd = bpf_map__fd(d->skel->maps.decap_addrs);
	__u32 spare = !(d->active & 1), active, zero = 0;
	int err;

	err = xlb_decap_build(tab, s->key, s->n, spare, &active);
	if (err) {
		xlb_log(LOG_ERR, "building the address table: %s",
			strerror(-err));
		return err;
	}
	if (d->retired && (err = grace_wait())) {
		xlb_log(LOG_ERR, "waiting for readers of the old table: %s",
			strerror(-err));
		return err;
	}
	for (__u32 i = 0; i < XLB_DECAP_BUCKETS; i++) {
		__u32 k = spare * XLB_DECAP_BUCKETS + i;

		if (bpf_map_update_elem(fd, &k, &tab[i], BPF_ANY))
			goto fail;
	}
	fd = bpf_map__fd(d->skel->maps.decap_active);
	if (bpf_map_update_elem(fd, &zero, &active, BPF_ANY))
		goto fail;
	d->active = active;
	d->retired = true;
	return 0;
fail:
	err = -errno;
	xlb_log(LOG_ERR, "writing the address table: %s", strerror(-err));
	return err;
}

/* Writes the decap config and the addresses that accept tunnels. */
static int configure(struct agent_decap *d, const struct agent_decap_opts *o)
{
	struct xlb_decap_config cfg = {0};
	struct addr_set s = {.n = 0};
	__u32 zero = 0;
	int err;

	cfg.gue_port = htons(o->gue_port);
	if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.decap_config), &zero,
				&cfg, BPF_ANY)) {
		err = -errno;
		xlb_log(LOG_ERR, "writing config: %s", strerror(-err));
		return err;
	}
	err = add_if_addrs(&s, o->ifname);
	if (err) {
		xlb_log(LOG_ERR, "reading the addresses of %s: %s", o->ifname,
			strerror(-err));
		return err;
	}
	for (int i = 0; i < o->n_extra; i++)
		add_addr(&s, &o->extra[i], o->extra_family[i]);
	err = publish(d, &s);
	if (err)
		return err;
	if (!s.n)
		xlb_log(LOG_WARNING,
			"warning: no address accepts tunnels yet "
			"(%s has none; use --address)",
			o->ifname);
	return s.n;
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
	n = configure(d, o);
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
