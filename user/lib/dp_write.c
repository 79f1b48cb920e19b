// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The data plane's writer (see dataplane.h): the change set of an apply
 * is computed first (changes.h), then written in the order the data path
 * can never observe half-done. Rings are dp_ring.c's: a changed table
 * goes into the spare half of its VIP's ring, and writing the VIP's
 * entries flips it in. Also the clean-up after adoption.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_arp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "changes.h"
#include "clock.h"
#include "dp_priv.h"
#include <xlb/hash.h>

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's, seen by userspace */
#endif

/* Its values are struct xlb_counter or smaller (the __u64 of *_flows). */
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
	if_mac(xlb_dp_ifindex(dp), c.src_mac);
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
	/* Not a global: xlbd's uplink side sets it (dp_uplink.c). */
	c.n_uplinks = dp->n_uplinks;
	return bpf_map_update_elem(dp->config_fd, &zero, &c, BPF_ANY) ? -errno
								      : 0;
}

/*
 * Swaps n new rings in (new VIPs, new sizes). One batched update: the
 * kernel waits for running programs once per update of a map of maps.
 * Each VIP still switches atomically.
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

/*
 * Every address of a pool. Its addresses differ only in their last 32
 * bits (the model's rule), which are counted through in host order.
 */
static void filter_add_pool(struct xlb_vip_filter *f,
			    const struct xlb_pool_cfg *p)
{
	int w = p->family == XLB_AF_INET ? 0 : 3;
	__u32 lo = ntohl(p->first.v6[w]), hi = ntohl(p->last.v6[w]);
	union xlb_addr a = p->first;

	for (__u64 x = lo; x <= hi; x++) {
		a.v6[w] = htonl((__u32)x);
		filter_add(f, &a);
	}
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
	/* Replies to NAT addresses must reach the program's NAT lookup. */
	for (size_t i = 0; a && i < a->n_pools; i++)
		filter_add_pool(&f, &a->pools[i]);
	for (size_t i = 0; b && i < b->n_pools; i++)
		filter_add_pool(&f, &b->pools[i]);
	return bpf_map_update_elem(dp->filter_fd, &zero, &f, BPF_ANY) ? -errno
								      : 0;
}

/* Frees a VIP id: its flows stop matching it, its ring goes. */
static void clear_vip_id(struct xlb_dp *dp, __u32 id)
{
	struct xlb_vip_info none = {0};

	bpf_map_update_elem(dp->vip_info_fd, &id, &none, BPF_ANY);
	bpf_map_delete_elem(dp->rings_fd, &id);
	xlb_dp_ring_drop(dp, id);
	memset(&dp->vip_written[id], 0, sizeof(dp->vip_written[id]));
}

/* Marks a backend id free in the data path; its address stays readable. */
static int retire_backend(struct xlb_dp *dp, const struct xlb_change_backend *r)
{
	dp->owner[r->id].in_use = 0;
	dp->slots[r->id] = 0;
	if (!r->write)
		return 0;
	if (bpf_map_update_elem(dp->backends_fd, &r->id, &r->entry, BPF_ANY))
		return -errno;
	dp->written[r->id] = r->entry;
	return 0;
}

/* Runs one write step; on failure returns its -errno, said in err once. */
#define TRY(expr, what)                                                        \
	do {                                                                   \
		ret = (expr);                                                  \
		if (ret) {                                                     \
			if (!err->msg[0])                                      \
				xlb_err_set(err, "%s: %s", what,               \
					    strerror(-ret));                   \
			return ret;                                            \
		}                                                              \
	} while (0)

/* Every id of next is assigned (xlb_dp_assign_ids ran). */
static int validate_ids(const struct xlb_model *next, struct xlb_err *err)
{
	for (size_t i = 0; i < next->n_vips; i++) {
		bool ok = next->vips[i].vip_id;

		for (size_t j = 0; ok && j < next->vips[i].n_backends; j++)
			ok = next->vips[i].backends[j].id;
		if (!ok) {
			xlb_err_set(err, "internal: ids not assigned");
			return -EINVAL;
		}
	}
	return 0;
}

/* 1a. Backend entries (stats zeroed first), and whose they now are. */
static int write_backends(struct xlb_dp *dp, const struct xlb_changes *cs,
			  struct xlb_err *err)
{
	int ret;

	for (size_t i = 0; i < cs->n_backends; i++) {
		const struct xlb_change_backend *cb = &cs->backends[i];
		struct xlb_id_owner *o = &dp->owner[cb->id];

		ret = 0;
		if (cb->zero_stats)
			ret = zero_percpu(dp->backend_stats_fd, cb->id)
				      ?: zero_percpu(dp->backend_flows_fd,
						     cb->id);
		if (!ret && cb->write &&
		    bpf_map_update_elem(dp->backends_fd, &cb->id, &cb->entry,
					BPF_ANY))
			ret = -errno;
		if (ret) {
			xlb_err_set(err, "writing backend id %u: %s", cb->id,
				    strerror(-ret));
			return ret;
		}
		if (cb->write)
			dp->written[cb->id] = cb->entry;
		o->vip = cb->vip->key;
		o->addr = cb->cfg->addr;
		o->family = cb->cfg->family;
		o->in_use = o->ever_used = 1;
	}
	for (size_t i = 0; i < cs->n_zero_vips; i++) {
		ret = zero_percpu(dp->vip_stats_fd, cs->zero_vips[i])
			      ?: zero_percpu(dp->vip_flows_fd,
					     cs->zero_vips[i]);
		if (ret) {
			xlb_err_set(err, "clearing VIP stats: %s",
				    strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/*
 * 1b. New tables: into the spare half of the VIP's ring (flipped in 2),
 * or into a new ring map, all of them swapped in at once.
 */
static int write_rings(struct xlb_dp *dp, const struct xlb_changes *cs,
		       struct xlb_err *err)
{
	__u32 ring_ids[XLB_MAX_VIPS], ring_fds[XLB_MAX_VIPS], n_rings = 0;
	int fresh[XLB_MAX_VIPS];
	int ret;

	ret = xlb_dp_rings_build(dp, cs->rings, cs->patch_from, cs->n_rings,
				 fresh, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < cs->n_rings; i++) {
		__u32 id = cs->rings[i]->vip_id;

		if (fresh[i]) {
			ring_ids[n_rings] = id;
			ring_fds[n_rings++] = dp->ring[id].fd;
		}
	}
	ret = swap_rings(dp, ring_ids, ring_fds, n_rings);
	if (ret)
		xlb_err_set(err, "swapping rings in: %s", strerror(-ret));
	return ret;
}

/* 2. VIPs: the filter lets both old and new through meanwhile. */
static int write_vips(struct xlb_dp *dp, const struct xlb_model *cur,
		      const struct xlb_model *next, struct xlb_err *err)
{
	struct xlb_vip_key ak;
	int ret;

	TRY(write_filter(dp, cur, next), "writing the VIP filter");
	for (size_t i = 0; i < next->n_vips; i++) {
		const struct xlb_vip_cfg *v = &next->vips[i];
		struct xlb_vip val = {
			.vip_id = v->vip_id,
			.flags = v->flags,
			.ring_size = v->ring_size,
			.encap = v->encap,
			.ring_half = xlb_dp_ring_half(dp, v->vip_id),
			.mode = v->mode,
		};
		const struct xlb_pool_cfg *pool =
			v->mode == XLB_VIP_MODE_NAT
				? xlb_model_pool(next, v->pool)
				: NULL;
		struct xlb_vip_info info = {.key = v->key, .vip = val};
		struct xlb_vip_info *w = &dp->vip_written[v->vip_id];
		struct xlb_vip none = {0};

		val.pool_id = pool ? pool->pool_id : 0;
		info.vip.pool_id = val.pool_id;
		/* A ring flip is these two updates; most VIPs are as they
		 * were, and 3 syscalls each added up over many. */
		if (!memcmp(w, &info, sizeof(info)))
			continue;
		ak = xlb_changes_addr_key(&v->key);
		if (bpf_map_update_elem(dp->vip_info_fd, &v->vip_id, &info,
					BPF_ANY) ||
		    bpf_map_update_elem(dp->vips_fd, &ak, &none, BPF_ANY) ||
		    bpf_map_update_elem(dp->vips_fd, &v->key, &val, BPF_ANY)) {
			memset(w, 0, sizeof(*w));
			TRY(-errno, "writing a VIP");
		}
		*w = info;
	}
	return 0;
}

/* 3. What next no longer has: VIPs first, then what they used. */
static int write_removals(struct xlb_dp *dp, const struct xlb_model *next,
			  const struct xlb_changes *cs, struct xlb_err *err)
{
	int ret;

	for (size_t i = 0; i < cs->n_del_keys; i++)
		bpf_map_delete_elem(dp->vips_fd, &cs->del_keys[i]);
	TRY(write_filter(dp, next, NULL), "writing the VIP filter");
	for (size_t i = 0; i < cs->n_clear_vips; i++) {
		clear_vip_id(dp, cs->clear_vips[i]);
		dp->fingerprint[cs->clear_vips[i]] = 0;
	}
	for (size_t i = 0; i < cs->n_retire; i++)
		TRY(retire_backend(dp, &cs->retire[i]), "retiring a backend");
	return 0;
}

int xlb_dp_apply(struct xlb_dp *dp, const struct xlb_model *cur,
		 struct xlb_model *next, struct xlb_err *err)
{
	return xlb_dp_apply_gated(dp, cur, next, NULL, NULL, err);
}

/* 1. The global config and the backends. */
static int write_front(struct xlb_dp *dp, const struct xlb_model *next,
		       const struct xlb_changes *cs, struct xlb_err *err)
{
	int ret = write_config(dp, &next->global);

	if (ret) {
		xlb_err_set(err, "writing config: %s", strerror(-ret));
		return ret;
	}
	ret = write_backends(dp, cs, err);
	/* Packets avoid a backend gone down from here on, before its
	 * rings are rebuilt: xlb_dp_front_ns. */
	if (!ret)
		dp->front_ns = xlb_now_ns();
	return ret;
}

int xlb_dp_apply_gated(struct xlb_dp *dp, const struct xlb_model *cur,
		       struct xlb_model *next,
		       int (*gate)(void *ctx, struct xlb_err *err), void *ctx,
		       struct xlb_err *err)
{
	const struct xlb_written w = {
		.backends = dp->written,
		.fingerprint = dp->fingerprint,
		.fresh_vip = dp->fresh_vip,
		.fresh_backend = dp->fresh_backend,
	};
	struct xlb_changes cs;
	int ret;

	err->msg[0] = '\0';
	ret = validate_ids(next, err);
	if (ret)
		return ret;
	ret = xlb_changes_compute(&w, cur, next, &cs);
	if (ret) {
		xlb_err_set(err, "computing the changes: %s", strerror(-ret));
		goto out_changes;
	}
	/*
	 * Without a gate (health changes), the backends' new states first:
	 * packets avoid a failed one at once. With one, nothing visible
	 * before the gate: the rings (unseen until the VIPs' flip), the
	 * gate, then the backends.
	 */
	if (gate) {
		ret = write_rings(dp, &cs, err);
		if (!ret)
			ret = gate(ctx, err);
		if (!ret)
			ret = write_front(dp, next, &cs, err);
	} else {
		ret = write_front(dp, next, &cs, err);
		if (!ret)
			ret = write_rings(dp, &cs, err);
	}
	if (ret) {
		xlb_dp_rings_abort(dp, false);
		goto out_changes;
	}
	ret = write_vips(dp, cur, next, err);
	if (ret) {
		xlb_dp_rings_abort(dp, true);
		goto out_changes;
	}
	xlb_dp_rings_commit(dp);
	ret = write_removals(dp, next, &cs, err);
	if (!ret) {
		memset(dp->fresh_vip, 0, sizeof(dp->fresh_vip));
		memset(dp->fresh_backend, 0, sizeof(dp->fresh_backend));
	}

out_changes:
	xlb_changes_free(&cs);
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
			     !next.port && xlb_changes_has_addr(m, &next));

		if (!keep && !bpf_map_delete_elem(dp->vips_fd, &next)) {
			prev = NULL;
			continue;
		}
		key = next;
		prev = &key;
	}
	xlb_changes_mark_ids(m, dp->vip_mark, dp->backend_mark);
	for (__u32 id = 1; id < XLB_MAX_VIPS; id++)
		if (!dp->vip_mark[id])
			clear_vip_id(dp, id);
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++) {
		struct xlb_change_backend r = {.id = id, .write = true};

		if (dp->backend_mark[id] ||
		    dp->written[id].state == XLB_BACKEND_UNUSED)
			continue;
		r.entry = dp->written[id];
		r.entry.state = XLB_BACKEND_UNUSED;
		TRY(retire_backend(dp, &r), "retiring a stale backend");
	}
	return 0;
}
