// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The balancer's data plane (see dataplane.h): opening it through the
 * loader (loader.c), its ids, and what others may read of it; the maps
 * are written by dp_write.c.
 *
 * Ids: a VIP id indexes its ring and stats; a backend id belongs to one
 * (VIP, backend address) pair, so a state or weight is per VIP. Flows
 * point at backend ids, so an id whose pair is removed is not handed to a
 * different address while a flow may still name it: it is reused for the
 * same pair, and otherwise only once no fresh id is left, after the flows
 * pointing at it are deleted.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <xlb/trace.h> /* the skeleton names xlb_trace_cfg */
#include "balance.skel.h"
#include "dp_priv.h"
#include "log.h"

#define XLB_PROG_NAME "xlb_balance"

/* The interface's addresses, the outer source when none is configured. */
static void learn_if_addrs(struct xlb_dp *dp, const char *ifname)
{
	struct ifaddrs *ifa, *i;
	struct in6_addr *a6;

	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
			continue;
		if (i->ifa_addr->sa_family == AF_INET && !dp->if_src4.v4) {
			dp->if_src4.v4 = ((struct sockaddr_in *)i->ifa_addr)
						 ->sin_addr.s_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a6 = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			if (!IN6_IS_ADDR_LINKLOCAL(a6) && !dp->if_src6.v6[0])
				memcpy(dp->if_src6.bytes, a6, 16);
		}
	}
	freeifaddrs(ifa);
}

/* Learns which backend ids a flow may still point at (their entry is set). */
static void learn_backend_ids(struct xlb_dp *dp)
{
	struct xlb_backend be;

	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++) {
		struct xlb_id_owner *o = &dp->owner[id];

		if (bpf_map_lookup_elem(dp->backends_fd, &id, &be))
			continue;
		dp->written[id] = be;
		if (!be.family)
			continue;
		o->ever_used = 1;
		o->addr = be.addr;
		o->family = be.family;
	}
}

/*
 * A pinned flow table of another shape (another CPU count, --max-flows or
 * version) cannot be reused: libbpf would refuse the load, and a table
 * read with the wrong geometry would misplace every flow. A running
 * program that is being adopted keeps the table it has, so only its size
 * may differ, and the pinned size wins; otherwise the old table is
 * unpinned and a fresh one starts, with a log line either way.
 */
static int check_pinned_flows(struct bpf_object *obj, const char *pin_dir,
			      bool adopting, struct xlb_err *err)
{
	static const char *const names[] = {"flows4", "flows6"};
	struct bpf_map_info info;
	struct bpf_map *map;
	__u32 len, want;
	char path[512];
	int fd;

	(void)err;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		map = bpf_object__find_map_by_name(obj, names[i]);
		snprintf(path, sizeof(path), "%s/%s", pin_dir, names[i]);
		fd = bpf_obj_get(path);
		if (!map || fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		want = bpf_map__max_entries(map);
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			close(fd);
			continue;
		}
		close(fd);
		if (info.type == bpf_map__type(map) &&
		    info.key_size == bpf_map__key_size(map) &&
		    info.value_size == bpf_map__value_size(map) &&
		    info.map_flags == bpf_map__map_flags(map)) {
			if (info.max_entries == want)
				continue;
			if (adopting) {
				xlb_log(LOG_WARNING,
					"%s: keeping the running program's "
					"table of %u buckets, not %u: "
					"--max-flows takes effect once the "
					"program is detached",
					path, info.max_entries, want);
				bpf_map__set_max_entries(map, info.max_entries);
				continue;
			}
		}
		xlb_log(LOG_WARNING,
			"%s: pinned flow table has another shape (%u buckets "
			"of %u bytes, want %u of %u): starting a fresh table, "
			"established flows re-hash through their rings",
			path, info.max_entries, info.value_size, want,
			bpf_map__value_size(map));
		if (unlink(path) && errno != ENOENT)
			xlb_log(LOG_WARNING, "%s: %s", path, strerror(errno));
	}
	return 0;
}

/*
 * Pinned maps of an older layout that no program of this version uses:
 * `rings` held one slot per element (now maglev_rings, two). Any program
 * that used them was replaced by then (the loader's layout_map).
 */
static void unpin_old_maps(const char *pin_dir)
{
	static const char *const names[] = {"rings"};
	char path[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, names[i]);
		if (!unlink(path))
			xlb_log(LOG_NOTICE,
				"%s: an older xlb's map, unpinned: its VIPs' "
				"rings are built anew",
				path);
		else if (errno != ENOENT)
			xlb_log(LOG_WARNING, "%s: %s", path, strerror(errno));
	}
}

static int before_load(struct bpf_object *obj, const char *pin_dir,
		       bool adopting, struct xlb_err *err)
{
	unpin_old_maps(pin_dir);
	return check_pinned_flows(obj, pin_dir, adopting, err);
}

/*
 * Does the interface steer each flow to one CPU? Not veth (a packet is
 * processed on the CPU that sent it) nor generic XDP (wherever the stack
 * runs); a physical NIC's RSS does.
 */
static bool flows_steered(const char *ifname, enum xdp_attach_mode mode)
{
	struct ethtool_drvinfo info = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr = {0};
	bool veth = true;
	int fd;

	if (mode == XDP_MODE_SKB)
		return false;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		veth = !strcmp(info.driver, "veth");
	close(fd);
	return !veth;
}

/* The map fds the writer uses, once the object is loaded. */
static void get_map_fds(struct xlb_dp *dp)
{
	dp->vips_fd = bpf_map__fd(dp->skel->maps.vips);
	dp->vip_info_fd = bpf_map__fd(dp->skel->maps.vip_info);
	dp->rings_fd = bpf_map__fd(dp->skel->maps.maglev_rings);
	dp->backends_fd = bpf_map__fd(dp->skel->maps.backends);
	dp->config_fd = bpf_map__fd(dp->skel->maps.config);
	dp->filter_fd = bpf_map__fd(dp->skel->maps.vip_filter);
	dp->counters_fd = bpf_map__fd(dp->skel->maps.counters);
	dp->vip_stats_fd = bpf_map__fd(dp->skel->maps.vip_stats);
	dp->backend_stats_fd = bpf_map__fd(dp->skel->maps.backend_stats);
	dp->vip_flows_fd = bpf_map__fd(dp->skel->maps.vip_flows);
	dp->backend_flows_fd = bpf_map__fd(dp->skel->maps.backend_flows);
}

int xlb_dp_open(struct xlb_dp *dp, const struct xlb_dp_opts *o,
		struct xlb_err *err)
{
	struct xlb_xdp_opts xo = {
		.what = "the balancer",
		.ifname = o->ifname,
		.prog_name = XLB_PROG_NAME,
		.pin_dir = o->pin_dir,
		.adopt_map = "vips",
		.layout_map = "maglev_rings",
		.mode = o->mode,
		.before_load = before_load,
	};
	int ret;

	memcpy(dp->gw_mac, o->gw_mac, sizeof(dp->gw_mac));
	dp->skel = xlb_balance__open();
	if (!dp->skel) {
		ret = -errno;
		xlb_err_set(err, "opening the balancer object: %s",
			    strerror(-ret));
		return ret;
	}
	ret = xlb_flows_size(dp->skel->obj,
			     o->max_flows ? o->max_flows : XLB_MAX_FLOWS);
	if (!ret) {
		bool steered = flows_steered(o->ifname, o->mode);

		xlb_log(LOG_INFO, "%s steers %s: flow table %s", o->ifname,
			steered ? "each flow to one CPU" : "no flow to a CPU",
			steered ? "per CPU" : "per CPU, kept coherent");
		ret = xlb_flows_set_coherent(dp->skel->obj, !steered);
	}
	if (ret) {
		xlb_err_set(err, "sizing the flow table: %s", strerror(-ret));
		goto err_skel;
	}
	ret = xlb_xdp_open(&dp->xdp, dp->skel->obj, &xo, err);
	if (ret)
		goto err_skel;
	ret = xlb_egress_bind(dp->skel->obj);
	if (ret) {
		xlb_err_set(err, "binding the uplinks' egress program: %s",
			    strerror(-ret));
		xlb_xdp_close(&dp->xdp, !dp->xdp.adopted);
		goto err_skel;
	}
	learn_if_addrs(dp, o->ifname);
	get_map_fds(dp);
	ret = xlb_flows_open(&dp->flows, bpf_map__fd(dp->skel->maps.flows4),
			     bpf_map__fd(dp->skel->maps.flows6));
	if (ret) {
		xlb_err_set(err, "mapping the flow table: %s", strerror(-ret));
		xlb_xdp_close(&dp->xdp, false);
		goto err_skel;
	}
	learn_backend_ids(dp);
	ret = xlb_dp_nat_open(dp);
	if (ret) {
		xlb_err_set(err, "mapping nat_subpools: %s", strerror(-ret));
		goto err_xdp;
	}
	ret = xlb_dp_uplink_open(dp);
	if (ret) {
		xlb_err_set(err, "reading uplink_set: %s", strerror(-ret));
		goto err_nat;
	}
	ret = xlb_dp_rings_open(dp, err);
	if (ret)
		goto err_nat;
	return 0;

err_nat:
	xlb_dp_nat_close(dp);
err_xdp:
	xlb_flows_close(&dp->flows);
	/* What we attached goes; what we adopted stays as it was. */
	xlb_xdp_close(&dp->xdp, !dp->xdp.adopted);
err_skel:
	xlb_balance__destroy(dp->skel);
	dp->skel = NULL;
	return ret;
}

static bool vip_key_eq(const struct xlb_vip_key *a, const struct xlb_vip_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static bool owner_is(const struct xlb_id_owner *o,
		     const struct xlb_vip_key *vip,
		     const struct xlb_backend_cfg *b)
{
	return vip_key_eq(&o->vip, vip) && o->family == b->family &&
	       !memcmp(&o->addr, &b->addr, sizeof(o->addr));
}

/*
 * Empties every way naming backend id (before the id is reused), on every
 * CPU, through the mapped tables: one pass over memory, no syscalls.
 */
static void purge_flows(struct xlb_dp *dp, __u32 id)
{
	__u64 n = xlb_flows_clear(&dp->flows, id);

	if (n)
		xlb_log(LOG_DEBUG, "backend id %u reused: %llu flows cleared",
			id, (unsigned long long)n);
}

/*
 * Where alloc_backend_id looks, made once per assign: scanning every id
 * per new backend cost ~100 ms for 10 000 of them.
 */
struct id_search {
	__u32 *reuse; /* ids used before and free now, ascending */
	__u32 n_reuse;
	bool listed; /* reuse[] made (at the first id wanted) */
	__u32 fresh; /* no id below it is free and never used */
};

static __u32 alloc_backend_id(struct xlb_dp *dp, const bool *taken,
			      struct id_search *s,
			      const struct xlb_vip_key *vip,
			      const struct xlb_backend_cfg *b)
{
	__u32 id;

	/* Only an apply that needs an id reads every id's owner: an edit
	 * of weights or states needs none. */
	if (!s->listed) {
		for (id = 1; id < XLB_MAX_BACKENDS; id++)
			if (!taken[id] && dp->owner[id].ever_used)
				s->reuse[s->n_reuse++] = id;
		s->listed = true;
	}
	/* The same pair again: its flows are right to point at it. */
	for (__u32 i = 0; i < s->n_reuse; i++) {
		id = s->reuse[i];
		if (!taken[id] && owner_is(&dp->owner[id], vip, b))
			return id;
	}
	for (id = s->fresh; id < XLB_MAX_BACKENDS; id++)
		if (!taken[id] && !dp->owner[id].ever_used) {
			s->fresh = id + 1;
			return id;
		}
	s->fresh = XLB_MAX_BACKENDS;
	for (id = 1; id < XLB_MAX_BACKENDS; id++)
		if (!taken[id]) {
			purge_flows(dp, id);
			return id;
		}
	return 0;
}

/* Gives every VIP and backend of next an id, inheriting those of cur. */
int xlb_dp_assign_ids(struct xlb_dp *dp, const struct xlb_model *cur,
		      struct xlb_model *next, struct xlb_err *err)
{
	bool vip_taken[XLB_MAX_VIPS] = {false};
	static bool taken[XLB_MAX_BACKENDS];
	static __u32 reuse[XLB_MAX_BACKENDS];
	struct id_search s = {.reuse = reuse, .fresh = 1};
	struct xlb_vip_cfg *v, *c;
	struct xlb_backend_cfg *b, *cb;

	memset(taken, 0, sizeof(taken));
	memset(dp->fresh_vip, 0, sizeof(dp->fresh_vip));
	memset(dp->fresh_backend, 0, sizeof(dp->fresh_backend));
	for (size_t i = 0; i < next->n_vips; i++) {
		v = &next->vips[i];
		c = xlb_model_vip(cur, &v->key);
		/* A new table size comes with a new id (see types.h). */
		if (!v->vip_id && c && c->ring_size == v->ring_size)
			v->vip_id = c->vip_id;
		for (size_t j = 0; c && j < v->n_backends; j++) {
			b = &v->backends[j];
			if (!b->id &&
			    (cb = xlb_vip_backend(c, &b->addr, b->family)))
				b->id = cb->id;
		}
	}
	/* Ids of cur stay taken: flows of removed pairs still name them. */
	for (size_t i = 0; i < cur->n_vips; i++) {
		vip_taken[cur->vips[i].vip_id] = true;
		for (size_t j = 0; j < cur->vips[i].n_backends; j++)
			taken[cur->vips[i].backends[j].id] = true;
	}
	for (size_t i = 0; i < next->n_vips; i++) {
		vip_taken[next->vips[i].vip_id] = true;
		for (size_t j = 0; j < next->vips[i].n_backends; j++)
			taken[next->vips[i].backends[j].id] = true;
	}
	vip_taken[0] = taken[0] = true;

	for (size_t i = 0; i < next->n_vips; i++) {
		v = &next->vips[i];
		if (!v->vip_id) {
			__u32 id = 1;

			while (id < XLB_MAX_VIPS && vip_taken[id])
				id++;
			if (id == XLB_MAX_VIPS) {
				xlb_err_set(err, "no free VIP id (limit %d)",
					    XLB_MAX_VIPS - 1);
				return -ENOSPC;
			}
			v->vip_id = id;
			vip_taken[id] = true;
			dp->fresh_vip[id] = 1;
		}
		for (size_t j = 0; j < v->n_backends; j++) {
			b = &v->backends[j];
			if (b->id)
				continue;
			b->id = alloc_backend_id(dp, taken, &s, &v->key, b);
			if (!b->id) {
				xlb_err_set(err,
					    "no free backend id (limit %d)",
					    XLB_MAX_BACKENDS - 1);
				return -ENOSPC;
			}
			taken[b->id] = true;
			dp->fresh_backend[b->id] = 1;
		}
	}
	return 0;
}

void xlb_dp_close(struct xlb_dp *dp, bool detach)
{
	xlb_flows_close(&dp->flows);
	xlb_dp_nat_close(dp);
	xlb_dp_rings_close(dp);
	xlb_xdp_close(&dp->xdp, detach && dp->skel);
	xlb_balance__destroy(dp->skel);
	dp->skel = NULL;
}

struct xlb_dp *xlb_dp_new(void)
{
	return calloc(1, sizeof(struct xlb_dp));
}

void xlb_dp_free(struct xlb_dp *dp)
{
	free(dp);
}

__u64 xlb_dp_fingerprint(const struct xlb_dp *dp, __u32 vip_id)
{
	return vip_id < XLB_MAX_VIPS ? dp->fingerprint[vip_id] : 0;
}

__u64 xlb_dp_rings_built(const struct xlb_dp *dp)
{
	return dp->rings_built;
}

__u64 xlb_dp_rings_patched(const struct xlb_dp *dp)
{
	__u64 n = 0;

	for (int i = 0; i <= XLB_DP_BUILDERS; i++)
		n += dp->builder[i].patched;
	return n;
}

__u64 xlb_dp_front_ns(const struct xlb_dp *dp)
{
	return dp->front_ns;
}

__u32 xlb_dp_slots(const struct xlb_dp *dp, __u32 backend_id)
{
	return backend_id < XLB_MAX_BACKENDS ? dp->slots[backend_id] : 0;
}

const __u8 *xlb_dp_gw_mac(const struct xlb_dp *dp)
{
	return dp->gw_mac;
}

int xlb_dp_map_fd(const struct xlb_dp *dp, enum xlb_dp_map map)
{
	switch (map) {
	case XLB_DP_BACKENDS:
		return dp->backends_fd;
	case XLB_DP_CONFIG:
		return dp->config_fd;
	case XLB_DP_COUNTERS:
		return dp->counters_fd;
	case XLB_DP_VIP_STATS:
		return dp->vip_stats_fd;
	case XLB_DP_BACKEND_STATS:
		return dp->backend_stats_fd;
	case XLB_DP_VIP_FLOWS:
		return dp->vip_flows_fd;
	case XLB_DP_BACKEND_FLOWS:
		return dp->backend_flows_fd;
	}
	return -EINVAL;
}

int xlb_dp_ifindex(const struct xlb_dp *dp)
{
	return dp->xdp.ifindex;
}

const char *xlb_dp_xdp_mode(const struct xlb_dp *dp)
{
	return xlb_xdp_mode_name(dp->xdp.mode);
}

__u32 xlb_dp_prog_id(const struct xlb_dp *dp)
{
	return dp->xdp.prog_id;
}

const char *xlb_dp_pin_dir(const struct xlb_dp *dp)
{
	return dp->xdp.pin_dir;
}

bool xlb_dp_adopted(const struct xlb_dp *dp)
{
	return dp->xdp.adopted;
}

void xlb_dp_restart_down(const struct xlb_dp *dp, const struct xlb_model *m,
			 __u8 *down)
{
	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];

		for (size_t j = 0; j < v->n_backends; j++) {
			const struct xlb_backend_cfg *b = &v->backends[j];
			__u8 s;

			if (!b->id || b->id >= XLB_MAX_BACKENDS)
				continue;
			s = dp->written[b->id].state;
			down[b->id] = s == XLB_BACKEND_DOWN ||
				      (s == XLB_BACKEND_DRAIN &&
				       b->state == XLB_BACKEND_UP);
		}
	}
}
