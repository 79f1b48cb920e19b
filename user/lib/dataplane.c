// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Loading, adopting and writing the balancer's maps (see dataplane.h).
 *
 * Ids: a VIP id indexes its ring and stats; a backend id belongs to one
 * (VIP, backend address) pair, so a state or weight is per VIP. Flows
 * point at backend ids, so an id whose pair is removed is not handed to a
 * different address while a flow may still name it: it is reused for the
 * same pair, and otherwise only once no fresh id is left, after the flows
 * pointing at it are deleted.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/if_arp.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "balance.skel.h"
#include "dataplane.h"
#include "maglev.h"
#include <xlb/hash.h>

#define XLB_PROG_NAME "xlb_balance"
#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's, seen by userspace */
#endif

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[256];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int xlb_ensure_bpffs(const char *dir, struct xlb_err *err)
{
	size_t root_len = strlen(XLB_PIN_ROOT);
	int ret;

	if (!strncmp(dir, XLB_PIN_ROOT, root_len) &&
	    (dir[root_len] == '/' || dir[root_len] == '\0') &&
	    !is_bpffs(XLB_PIN_ROOT)) {
		ret = mkdir_p(XLB_PIN_ROOT, 0755);
		if (!ret && mount("bpf", XLB_PIN_ROOT, "bpf", 0, "mode=0700"))
			ret = -errno;
		if (ret) {
			xlb_err_set(err, "cannot mount bpffs at %s: %s",
				    XLB_PIN_ROOT, strerror(-ret));
			return ret;
		}
	}
	ret = mkdir_p(dir, 0700);
	if (ret) {
		xlb_err_set(err, "cannot create pin directory %s: %s", dir,
			    strerror(-ret));
		return ret;
	}
	if (!is_bpffs(dir)) {
		xlb_err_set(err, "pin directory %s is not on a bpf filesystem",
			    dir);
		return -EINVAL;
	}
	return 0;
}

/* The id of our program if it is attached to ifindex, else 0. */
static __u32 find_attached(int ifindex, enum xdp_attach_mode *mode)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	__u32 id = 0;

	if (!mp || libxdp_get_error(mp))
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), XLB_PROG_NAME))
			id = xdp_program__id(p);
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp)) {
			if (!strcmp(xdp_program__name(p), XLB_PROG_NAME)) {
				id = xdp_program__id(p);
				break;
			}
		}
	}
	if (id)
		*mode = xdp_multiprog__attach_mode(mp);
	xdp_multiprog__close(mp);
	return id;
}

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

int xlb_dp_open(struct xlb_dp *dp, const struct xlb_dp_opts *o,
		struct xlb_err *err)
{
	char path[512], vips_pin[512];
	struct bpf_map *map;
	__u32 attached;
	int ret;

	dp->ifindex = if_nametoindex(o->ifname);
	if (!dp->ifindex) {
		xlb_err_set(err, "no interface %s", o->ifname);
		return -ENODEV;
	}
	dp->mode = o->mode;
	learn_if_addrs(dp, o->ifname);
	memcpy(dp->gw_mac, o->gw_mac, sizeof(dp->gw_mac));
	snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", o->pin_dir);
	ret = xlb_ensure_bpffs(dp->pin_dir, err);
	if (ret)
		return ret;

	dp->scratch = calloc(XLB_RING_SIZE_MAX, sizeof(*dp->scratch));
	dp->keys = calloc(XLB_RING_SIZE_MAX, sizeof(*dp->keys));
	if (!dp->scratch || !dp->keys) {
		ret = -ENOMEM;
		xlb_err_set(err, "out of memory");
		goto err_free;
	}
	for (__u32 i = 0; i < XLB_RING_SIZE_MAX; i++)
		dp->keys[i] = i;

	dp->skel = xlb_balance__open();
	if (!dp->skel) {
		ret = -errno;
		xlb_err_set(err, "opening the balancer object: %s",
			    strerror(-ret));
		goto err_free;
	}
	if (o->max_flows)
		bpf_map__set_max_entries(dp->skel->maps.flows, o->max_flows);
	/* A pinned map of the same shape is reused: flows survive us. */
	bpf_object__for_each_map(map, dp->skel->obj)
	{
		snprintf(path, sizeof(path), "%s/%s", dp->pin_dir,
			 bpf_map__name(map));
		ret = bpf_map__set_pin_path(map, path);
		if (ret) {
			xlb_err_set(err, "pin path %s: %s", path,
				    strerror(-ret));
			goto err_skel;
		}
	}

	attached = find_attached(dp->ifindex, &dp->mode);
	snprintf(vips_pin, sizeof(vips_pin), "%s/vips", dp->pin_dir);
	if (attached && access(vips_pin, F_OK)) {
		xlb_err_set(err,
			    "an xlb program is attached to %s but no maps are "
			    "pinned at %s: detach it (xdp-loader unload %s "
			    "--all) or give its --pin-dir",
			    o->ifname, dp->pin_dir, o->ifname);
		ret = -EEXIST;
		goto err_skel;
	}

	if (attached) {
		/* Keep the running program; only reach its maps. */
		ret = xlb_balance__load(dp->skel);
		dp->adopted = true;
		dp->prog_id = attached;
	} else {
		DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts,
				    .obj = dp->skel->obj,
				    .prog_name = XLB_PROG_NAME);

		dp->xdp_prog = xdp_program__create(&xopts);
		ret = libxdp_get_error(dp->xdp_prog);
		if (ret) {
			dp->xdp_prog = NULL;
		} else {
			ret = xdp_program__attach(dp->xdp_prog, dp->ifindex,
						  dp->mode, 0);
			if (!ret)
				dp->prog_id = xdp_program__id(dp->xdp_prog);
		}
	}
	if (ret) {
		char msg[128];

		libxdp_strerror(ret, msg, sizeof(msg));
		xlb_err_set(err,
			    "loading the balancer on %s failed: %s (maps "
			    "pinned at %s by another version? remove them to "
			    "start fresh)",
			    o->ifname, msg, dp->pin_dir);
		goto err_prog;
	}

	dp->vips_fd = bpf_map__fd(dp->skel->maps.vips);
	dp->vip_info_fd = bpf_map__fd(dp->skel->maps.vip_info);
	dp->rings_fd = bpf_map__fd(dp->skel->maps.rings);
	dp->backends_fd = bpf_map__fd(dp->skel->maps.backends);
	dp->flows_fd = bpf_map__fd(dp->skel->maps.flows);
	dp->config_fd = bpf_map__fd(dp->skel->maps.config);
	dp->filter_fd = bpf_map__fd(dp->skel->maps.vip_filter);
	dp->counters_fd = bpf_map__fd(dp->skel->maps.counters);
	dp->vip_stats_fd = bpf_map__fd(dp->skel->maps.vip_stats);
	dp->backend_stats_fd = bpf_map__fd(dp->skel->maps.backend_stats);
	learn_backend_ids(dp);
	return 0;

err_prog:
	xdp_program__close(dp->xdp_prog);
	dp->xdp_prog = NULL;
err_skel:
	xlb_balance__destroy(dp->skel);
	dp->skel = NULL;
err_free:
	free(dp->scratch);
	free(dp->keys);
	dp->scratch = dp->keys = NULL;
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

/* Deletes every flow pointing at backend id (before the id is reused). */
static int purge_flows(struct xlb_dp *dp, __u32 id)
{
	struct xlb_flow_key key, next;
	struct xlb_flow val;
	void *prev = NULL;

	while (!bpf_map_get_next_key(dp->flows_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(dp->flows_fd, &next, &val) &&
		    val.backend_id == id)
			bpf_map_delete_elem(dp->flows_fd, &next);
	}
	return 0;
}

static __u32 alloc_backend_id(struct xlb_dp *dp, const bool *taken,
			      const struct xlb_vip_key *vip,
			      const struct xlb_backend_cfg *b)
{
	__u32 id;

	/* The same pair again: its flows are right to point at it. */
	for (id = 1; id < XLB_MAX_BACKENDS; id++)
		if (!taken[id] && dp->owner[id].ever_used &&
		    owner_is(&dp->owner[id], vip, b))
			return id;
	for (id = 1; id < XLB_MAX_BACKENDS; id++)
		if (!taken[id] && !dp->owner[id].ever_used)
			return id;
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
			cb = xlb_vip_backend(c, &b->addr, b->family);
			if (!b->id && cb)
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
			b->id = alloc_backend_id(dp, taken, &v->key, b);
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

static int zero_percpu(int fd, __u32 id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xlb_counter *zero;
	int ret;

	if (ncpu < 0)
		return ncpu;
	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	ret = bpf_map_update_elem(fd, &id, zero, BPF_ANY) ? -errno : 0;
	free(zero);
	return ret;
}

/*
 * The interface's own MAC, the source of every frame the balancer sends.
 * Left all zero when it cannot be read: the data path then falls back to
 * the incoming frame's destination MAC (see xlb_config.src_mac).
 */
static void if_mac(int ifindex, __u8 mac[6])
{
	struct ifreq ifr = {0};
	int fd;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (!ioctl(fd, SIOCGIFHWADDR, &ifr) &&
	    ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
}

static int write_config(struct xlb_dp *dp, const struct xlb_global_cfg *g)
{
	struct xlb_config c = {0};
	__u32 zero = 0;

	memcpy(c.gw_mac, dp->gw_mac, sizeof(c.gw_mac));
	if_mac(dp->ifindex, c.src_mac);
	c.encap = g->encap;
	c.ttl = g->ttl;
	c.gue_port = htons(g->gue_port);
	c.mtu = g->mtu;
	c.src4_plen = g->src4_plen;
	c.src6_plen = g->src6_plen;
	c.src4 = g->src4_plen ? g->src4.v4 : dp->if_src4.v4;
	memcpy(c.src6, g->src6_plen ? g->src6.v6 : dp->if_src6.v6,
	       sizeof(c.src6));
	c.flow_rate_limit = g->flow_rate_limit;
	c.udp_timeout_ns = (__u64)g->udp_timeout_ms * 1000000ULL;
	return bpf_map_update_elem(dp->config_fd, &zero, &c, BPF_ANY) ? -errno
								      : 0;
}

/* The weight a backend has in the ring: only `up` ones take new flows. */
static __u32 ring_weight(const struct xlb_backend_cfg *b)
{
	return b->state == XLB_BACKEND_UP ? b->weight : 0;
}

static bool ring_inputs_equal(const struct xlb_vip_cfg *a,
			      const struct xlb_vip_cfg *b)
{
	if (a->vip_id != b->vip_id || a->ring_size != b->ring_size ||
	    a->n_backends != b->n_backends)
		return false;
	for (size_t i = 0; i < a->n_backends; i++) {
		const struct xlb_backend_cfg *x = &a->backends[i];
		const struct xlb_backend_cfg *y = &b->backends[i];

		if (x->id != y->id || ring_weight(x) != ring_weight(y) ||
		    x->family != y->family ||
		    memcmp(&x->addr, &y->addr, sizeof(x->addr)))
			return false;
	}
	return true;
}

/*
 * Builds v's table into a new ring map, filled through mmap (a batch
 * update of 65537 slots costs ten times as much). Returns its fd; the
 * caller swaps it in.
 */
static int build_ring(struct xlb_dp *dp, const struct xlb_vip_cfg *v,
		      struct xlb_err *err)
{
	LIBBPF_OPTS(bpf_map_create_opts, copts,
		    .map_flags = XLB_RING_MAP_FLAGS);
	/* Array elements sit 8 bytes apart whatever their size: the stride
	 * shows through mmap. */
	const size_t stride = 8;
	size_t len = ((size_t)v->ring_size * stride + 4095) & ~4095UL;
	struct xlb_maglev_backend *mb;
	int ret, fd;
	void *mem;
	__u64 fp;

	mb = calloc(v->n_backends ? v->n_backends : 1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	for (size_t i = 0; i < v->n_backends; i++) {
		mb[i].id = v->backends[i].id;
		mb[i].weight = ring_weight(&v->backends[i]);
		mb[i].addr = v->backends[i].addr;
		mb[i].family = v->backends[i].family;
	}
	ret = xlb_maglev_build(mb, v->n_backends, v->ring_size, dp->scratch,
			       &fp);
	free(mb);
	if (ret) {
		xlb_err_set(err, "building the ring: %s", strerror(-ret));
		return ret;
	}

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_ring", sizeof(__u32),
			    sizeof(__u32), v->ring_size, &copts);
	if (fd < 0) {
		ret = -errno;
		xlb_err_set(err, "creating a ring of %u slots: %s",
			    v->ring_size, strerror(-ret));
		return ret;
	}
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		ret = -errno;
		close(fd);
		xlb_err_set(err, "mapping a ring: %s", strerror(-ret));
		return ret;
	}
	for (__u32 i = 0; i < v->ring_size; i++)
		*(__u32 *)((char *)mem + i * stride) = dp->scratch[i];
	munmap(mem, len);

	dp->fingerprint[v->vip_id] = fp;
	for (size_t i = 0; i < v->n_backends; i++)
		dp->slots[v->backends[i].id] = 0;
	for (__u32 s = 0; s < v->ring_size; s++)
		if (dp->scratch[s] < XLB_MAX_BACKENDS)
			dp->slots[dp->scratch[s]]++;
	return fd;
}

/*
 * Swaps n rings in. One batched update: the kernel waits for running
 * programs once per update of a map of maps, and that wait (~18 ms here)
 * dominated applying many VIPs. Each VIP still switches atomically.
 */
static int swap_rings(struct xlb_dp *dp, __u32 *ids, __u32 *fds, __u32 n)
{
	__u32 count = n;
	int ret = 0;

	if (!n)
		return 0;
	if (bpf_map_update_batch(dp->rings_fd, ids, fds, &count, NULL)) {
		ret = -errno;
		if (ret != -EOPNOTSUPP && ret != -ENOTSUPP && ret != -EINVAL)
			return ret;
		/* Older kernels: one by one. */
		for (__u32 i = 0; i < n; i++)
			if (bpf_map_update_elem(dp->rings_fd, &ids[i], &fds[i],
						BPF_ANY))
				return -errno;
		ret = 0;
	}
	return ret;
}

static void filter_add(struct xlb_vip_filter *f, const union xlb_addr *a)
{
	__u32 bit = xlb_filter_bit(a);

	f->bits[bit / 64] |= 1ULL << (bit % 64);
}

static int write_filter(struct xlb_dp *dp, const struct xlb_model *a,
			const struct xlb_model *b)
{
	static struct xlb_vip_filter f;
	__u32 zero = 0;

	memset(&f, 0, sizeof(f));
	for (size_t i = 0; a && i < a->n_vips; i++)
		filter_add(&f, &a->vips[i].key.addr);
	for (size_t i = 0; b && i < b->n_vips; i++)
		filter_add(&f, &b->vips[i].key.addr);
	return bpf_map_update_elem(dp->filter_fd, &zero, &f, BPF_ANY) ? -errno
								      : 0;
}

/* The "VIP address" entry of a VIP's address (see types.h). */
static struct xlb_vip_key addr_key(const struct xlb_vip_key *k)
{
	struct xlb_vip_key a = {
		.addr = k->addr,
		.family = k->family,
		.proto = k->family == XLB_AF_INET6 ? IPPROTO_ICMPV6
						   : IPPROTO_ICMP,
	};

	return a;
}

static bool model_has_addr(const struct xlb_model *m,
			   const struct xlb_vip_key *k)
{
	for (size_t i = 0; i < m->n_vips; i++)
		if (m->vips[i].key.family == k->family &&
		    !memcmp(&m->vips[i].key.addr, &k->addr, sizeof(k->addr)))
			return true;
	return false;
}

/* Marks the VIP and backend ids m uses, for O(1) membership tests. */
static void mark_ids(struct xlb_dp *dp, const struct xlb_model *m)
{
	memset(dp->vip_mark, 0, sizeof(dp->vip_mark));
	memset(dp->backend_mark, 0, sizeof(dp->backend_mark));
	for (size_t i = 0; i < m->n_vips; i++) {
		dp->vip_mark[m->vips[i].vip_id] = 1;
		for (size_t j = 0; j < m->vips[i].n_backends; j++)
			dp->backend_mark[m->vips[i].backends[j].id] = 1;
	}
}

/* Writes a backend entry unless the map already holds exactly that. */
static int write_backend(struct xlb_dp *dp, __u32 id,
			 const struct xlb_backend *be)
{
	if (!memcmp(&dp->written[id], be, sizeof(*be)))
		return 0;
	if (bpf_map_update_elem(dp->backends_fd, &id, be, BPF_ANY))
		return -errno;
	dp->written[id] = *be;
	return 0;
}

/* Frees a VIP id: its flows stop matching it, its ring goes. */
static void clear_vip_id(struct xlb_dp *dp, __u32 id)
{
	struct xlb_vip_info none = {0};

	bpf_map_update_elem(dp->vip_info_fd, &id, &none, BPF_ANY);
	bpf_map_delete_elem(dp->rings_fd, &id);
}

/* Marks a backend id free in the data path; its address stays readable. */
static int retire_backend(struct xlb_dp *dp, __u32 id)
{
	struct xlb_backend be = dp->written[id];

	be.state = XLB_BACKEND_UNUSED;
	dp->owner[id].in_use = 0;
	dp->slots[id] = 0;
	return write_backend(dp, id, &be);
}

#define CHECK(expr, what)                                                      \
	do {                                                                   \
		ret = (expr);                                                  \
		if (ret) {                                                     \
			if (!err->msg[0])                                      \
				xlb_err_set(err, "%s: %s", what,               \
					    strerror(-ret));                   \
			return ret;                                            \
		}                                                              \
	} while (0)

int xlb_dp_apply(struct xlb_dp *dp, const struct xlb_model *cur,
		 struct xlb_model *next, struct xlb_err *err)
{
	__u32 ring_ids[XLB_MAX_VIPS], ring_fds[XLB_MAX_VIPS], n_rings = 0;
	struct xlb_vip_key ak;
	int ret;

	err->msg[0] = '\0';
	for (size_t i = 0; i < next->n_vips; i++) {
		bool ok = next->vips[i].vip_id;

		for (size_t j = 0; ok && j < next->vips[i].n_backends; j++)
			ok = next->vips[i].backends[j].id;
		if (!ok) {
			xlb_err_set(err, "internal: ids not assigned");
			return -EINVAL;
		}
	}
	CHECK(write_config(dp, &next->global), "writing config");

	/* 1. Backends and rings, before any VIP points at them. */
	for (size_t i = 0; i < next->n_vips; i++) {
		const struct xlb_vip_cfg *v = &next->vips[i];
		const struct xlb_vip_cfg *c = xlb_model_vip(cur, &v->key);

		for (size_t j = 0; j < v->n_backends; j++) {
			const struct xlb_backend_cfg *b = &v->backends[j];
			struct xlb_backend be = {
				.addr = b->addr,
				.family = b->family,
				.state = b->state,
			};
			struct xlb_id_owner *o = &dp->owner[b->id];

			ret = 0;
			if (dp->fresh_backend[b->id])
				ret = zero_percpu(dp->backend_stats_fd, b->id);
			if (!ret)
				ret = write_backend(dp, b->id, &be);
			if (ret) {
				xlb_err_set(err, "writing backend id %u: %s",
					    b->id, strerror(-ret));
				goto out_rings;
			}
			o->vip = v->key;
			o->addr = b->addr;
			o->family = b->family;
			o->in_use = o->ever_used = 1;
		}
		if (dp->fresh_vip[v->vip_id]) {
			ret = zero_percpu(dp->vip_stats_fd, v->vip_id);
			if (ret) {
				xlb_err_set(err, "clearing VIP stats: %s",
					    strerror(-ret));
				goto out_rings;
			}
		}
		if (c && ring_inputs_equal(c, v) && dp->fingerprint[v->vip_id])
			continue;
		ret = build_ring(dp, v, err);
		if (ret < 0)
			goto out_rings;
		ring_ids[n_rings] = v->vip_id;
		ring_fds[n_rings++] = ret;
	}
	ret = swap_rings(dp, ring_ids, ring_fds, n_rings);
	if (ret) {
		xlb_err_set(err, "swapping rings in: %s", strerror(-ret));
		goto out_rings;
	}
	for (__u32 i = 0; i < n_rings; i++)
		close(ring_fds[i]);
	n_rings = 0;

	/* 2. VIPs: the filter lets both old and new through meanwhile. */
	CHECK(write_filter(dp, cur, next), "writing the VIP filter");
	for (size_t i = 0; i < next->n_vips; i++) {
		const struct xlb_vip_cfg *v = &next->vips[i];
		struct xlb_vip val = {
			.vip_id = v->vip_id,
			.flags = v->flags,
			.ring_size = v->ring_size,
			.encap = v->encap,
		};
		struct xlb_vip_info info = {.key = v->key, .vip = val};
		struct xlb_vip none = {0};

		ak = addr_key(&v->key);
		if (bpf_map_update_elem(dp->vip_info_fd, &v->vip_id, &info,
					BPF_ANY) ||
		    bpf_map_update_elem(dp->vips_fd, &ak, &none, BPF_ANY) ||
		    bpf_map_update_elem(dp->vips_fd, &v->key, &val, BPF_ANY))
			CHECK(-errno, "writing a VIP");
	}

	/* 3. What next no longer has: VIPs first, then what they used. */
	for (size_t i = 0; i < cur->n_vips; i++) {
		const struct xlb_vip_cfg *c = &cur->vips[i];

		if (!xlb_model_vip(next, &c->key))
			bpf_map_delete_elem(dp->vips_fd, &c->key);
		ak = addr_key(&c->key);
		if (!model_has_addr(next, &ak))
			bpf_map_delete_elem(dp->vips_fd, &ak);
	}
	CHECK(write_filter(dp, next, NULL), "writing the VIP filter");
	mark_ids(dp, next);
	for (size_t i = 0; i < cur->n_vips; i++) {
		const struct xlb_vip_cfg *c = &cur->vips[i];

		if (!dp->vip_mark[c->vip_id]) {
			clear_vip_id(dp, c->vip_id);
			dp->fingerprint[c->vip_id] = 0;
		}
		for (size_t j = 0; j < c->n_backends; j++)
			if (!dp->backend_mark[c->backends[j].id])
				CHECK(retire_backend(dp, c->backends[j].id),
				      "retiring a backend");
	}
	memset(dp->fresh_vip, 0, sizeof(dp->fresh_vip));
	memset(dp->fresh_backend, 0, sizeof(dp->fresh_backend));
	return 0;

out_rings:
	for (__u32 i = 0; i < n_rings; i++)
		close(ring_fds[i]);
	return ret;
}

int xlb_dp_reconcile(struct xlb_dp *dp, const struct xlb_model *m,
		     struct xlb_err *err)
{
	struct xlb_vip_key key, next;
	void *prev = NULL;
	int ret;

	err->msg[0] = '\0';
	/* Stale VIPs: collect by restarting after each delete. */
	while (!bpf_map_get_next_key(dp->vips_fd, prev, &next)) {
		bool keep = xlb_model_vip(m, &next) ||
			    ((next.proto == IPPROTO_ICMP ||
			      next.proto == IPPROTO_ICMPV6) &&
			     !next.port && model_has_addr(m, &next));

		if (!keep && !bpf_map_delete_elem(dp->vips_fd, &next)) {
			prev = NULL;
			continue;
		}
		key = next;
		prev = &key;
	}
	mark_ids(dp, m);
	for (__u32 id = 1; id < XLB_MAX_VIPS; id++)
		if (!dp->vip_mark[id])
			clear_vip_id(dp, id);
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++) {
		if (dp->backend_mark[id] ||
		    dp->written[id].state == XLB_BACKEND_UNUSED)
			continue;
		CHECK(retire_backend(dp, id), "retiring a stale backend");
	}
	return 0;
}

void xlb_dp_close(struct xlb_dp *dp, bool detach)
{
	struct xdp_program *p = dp->xdp_prog;
	struct bpf_map *map;

	if (detach && dp->skel) {
		if (!p && dp->prog_id)
			p = xdp_program__from_id(dp->prog_id);
		if (p && !libxdp_get_error(p))
			xdp_program__detach(p, dp->ifindex, dp->mode, 0);
		if (p != dp->xdp_prog && p && !libxdp_get_error(p))
			xdp_program__close(p);
		bpf_object__for_each_map(map, dp->skel->obj)
			bpf_map__unpin(map, NULL);
		rmdir(dp->pin_dir);
	}
	xdp_program__close(dp->xdp_prog);
	xlb_balance__destroy(dp->skel);
	free(dp->scratch);
	free(dp->keys);
	dp->xdp_prog = NULL;
	dp->skel = NULL;
	dp->scratch = dp->keys = NULL;
}
