// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Reading the pinned maps (see stats.h). Maps are opened read-only so a
 * monitoring tool can never change what the data path does, and compared
 * with the sizes of include/xlb/types.h so maps pinned by another
 * version are reported instead of misread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xlb/flow.h>

#include "stats.h"

struct map_spec {
	const char *name;
	size_t off; /* of the fd in struct xlb_pins */
	__u32 type, key_size, value_size;
};

#define PIN(field, t, k, v)                                                    \
	{                                                                      \
#field, offsetof(struct xlb_pins, field), BPF_MAP_TYPE_##t, k, \
			v                                                      \
	}

/* vips first: when it is missing, nothing is pinned at all. */
static const struct map_spec maps[] = {
	PIN(vips, HASH, sizeof(struct xlb_vip_key), sizeof(struct xlb_vip)),
	PIN(maglev_rings, ARRAY_OF_MAPS, sizeof(__u32), sizeof(__u32)),
	PIN(backends, ARRAY, sizeof(__u32), sizeof(struct xlb_backend)),
	PIN(flows4, ARRAY, sizeof(__u32), sizeof(struct xlb_flow_bucket4)),
	PIN(flows6, ARRAY, sizeof(__u32), sizeof(struct xlb_flow_bucket6)),
	PIN(config, ARRAY, sizeof(__u32), sizeof(struct xlb_config)),
	PIN(counters, PERCPU_ARRAY, sizeof(__u32), sizeof(struct xlb_counter)),
	PIN(vip_stats, PERCPU_ARRAY, sizeof(__u32), sizeof(struct xlb_counter)),
	PIN(backend_stats, PERCPU_ARRAY, sizeof(__u32),
	    sizeof(struct xlb_counter)),
	PIN(vip_flows, PERCPU_ARRAY, sizeof(__u32), sizeof(__u64)),
	PIN(backend_flows, PERCPU_ARRAY, sizeof(__u32), sizeof(__u64)),
};

static int *pin_fd(struct xlb_pins *p, const struct map_spec *s)
{
	return (int *)((char *)p + s->off);
}

static void pins_reset(struct xlb_pins *p)
{
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		*pin_fd(p, &maps[i]) = -1;
}

static int validate_map(int fd, const struct map_spec *s, const char *path,
			struct xlb_err *err)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	int ret = bpf_obj_get_info_by_fd(fd, &info, &len);

	if (ret) {
		xlb_err_set(err, "cannot inspect %s: %s", path, strerror(-ret));
		return ret;
	}
	if (info.type != s->type || info.key_size != s->key_size ||
	    info.value_size != s->value_size) {
		xlb_err_set(err,
			    "%s is not the %s map of this xlb version (type "
			    "%u, key %u, value %u bytes; expected %u, %u, %u)",
			    path, s->name, info.type, info.key_size,
			    info.value_size, s->type, s->key_size,
			    s->value_size);
		return -EPROTO;
	}
	return 0;
}

int xlb_pins_open(const char *pin_dir, struct xlb_pins *p, struct xlb_err *err)
{
	struct bpf_obj_get_opts opts = {.sz = sizeof(opts),
					.file_flags = BPF_F_RDONLY};
	char path[512];
	int ret;

	pins_reset(p);
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		const struct map_spec *s = &maps[i];
		int fd;

		snprintf(path, sizeof(path), "%s/%s", pin_dir, s->name);
		fd = bpf_obj_get_opts(path, &opts);
		if (fd < 0) {
			ret = fd;
			if (ret == -ENOENT && i == 0)
				xlb_err_set(err,
					    "no xlb maps pinned at %s (is xlbd "
					    "running, or --pin-dir?)",
					    pin_dir);
			else
				xlb_err_set(err, "cannot open %s: %s%s", path,
					    strerror(-ret),
					    ret == -EPERM || ret == -EACCES
						    ? " (are you root?)"
						    : "");
			goto err_close;
		}
		*pin_fd(p, s) = fd;
		ret = validate_map(fd, s, path, err);
		if (ret)
			goto err_close;
	}
	return 0;

err_close:
	xlb_pins_close(p);
	return ret;
}

void xlb_pins_close(struct xlb_pins *p)
{
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		int *fd = pin_fd(p, &maps[i]);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

int xlb_counter_sum(int percpu_map_fd, __u32 id, struct xlb_counter *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xlb_counter *v;
	int ret;

	memset(out, 0, sizeof(*out));
	if (ncpus < 0)
		return ncpus;
	/* 16 bytes: already the 8-byte multiple per-CPU values are laid at. */
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ret = bpf_map_lookup_elem(percpu_map_fd, &id, v);
	if (!ret) {
		for (int i = 0; i < ncpus; i++) {
			out->packets += v[i].packets;
			out->bytes += v[i].bytes;
		}
	}
	free(v);
	return ret;
}

int xlb_flows_sum(int percpu_map_fd, __u32 id, __u64 *out)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *v;
	int ret;

	*out = 0;
	if (ncpus < 0)
		return ncpus;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ret = bpf_map_lookup_elem(percpu_map_fd, &id, v);
	if (!ret)
		for (int i = 0; i < ncpus; i++)
			*out += v[i];
	free(v);
	return ret;
}

int xlb_counters_read(int counters_fd, struct xlb_counter out[XLB_CNT_MAX],
		      struct xlb_counter *rx)
{
	struct xlb_counter sum = {0};
	int ret;

	for (__u32 id = 0; id < XLB_CNT_MAX; id++) {
		ret = xlb_counter_sum(counters_fd, id, &out[id]);
		if (ret)
			return ret;
		if (id < XLB_CNT_FIRST_EVENT) {
			sum.packets += out[id].packets;
			sum.bytes += out[id].bytes;
		}
	}
	if (rx)
		*rx = sum;
	return 0;
}

static int vip_key_cmp(const void *a, const void *b)
{
	const struct xlb_vip_key *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(&x->addr, &y->addr, sizeof(x->addr));
	if (c)
		return c;
	/* Ports compare numerically, not by their network-order bytes. */
	if (ntohs(x->port) != ntohs(y->port))
		return ntohs(x->port) < ntohs(y->port) ? -1 : 1;
	return (int)x->proto - (int)y->proto;
}

static bool is_icmp_marker(const struct xlb_vip_key *k)
{
	return k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6;
}

/*
 * Room for one more item of sz bytes in list (len of *cap used), doubling
 * when full: the list, perhaps moved, or NULL when out of memory (list is
 * still the caller's to free).
 */
static void *list_room(void *list, size_t *cap, size_t len, size_t sz)
{
	size_t n = *cap ? *cap * 2 : 16;
	void *p;

	if (len < *cap)
		return list;
	p = realloc(list, n * sz);
	if (p)
		*cap = n;
	return p;
}

int xlb_vips_read(int vips_fd, struct xlb_vip_entry **out, size_t *n)
{
	struct xlb_vip_entry *list = NULL, *e;
	struct xlb_vip_key key, next;
	size_t len = 0, cap = 0;
	void *prev = NULL;
	int ret;

	*out = NULL;
	*n = 0;
	for (;;) {
		ret = bpf_map_get_next_key(vips_fd, prev, &next);
		if (ret == -ENOENT)
			break;
		if (ret)
			goto err_free;
		key = next;
		prev = &key;
		if (is_icmp_marker(&key))
			continue;
		e = list_room(list, &cap, len, sizeof(*list));
		if (!e) {
			ret = -ENOMEM;
			goto err_free;
		}
		list = e;
		e = &list[len];
		e->key = key;
		ret = bpf_map_lookup_elem(vips_fd, &key, &e->val);
		if (ret == -ENOENT) /* deleted while we walked: skip it */
			continue;
		if (ret)
			goto err_free;
		len++;
	}
	if (len)
		qsort(list, len, sizeof(*list), vip_key_cmp);
	*out = list;
	*n = len;
	return 0;

err_free:
	free(list);
	return ret;
}

int xlb_vip_lookup(int vips_fd, const struct xlb_vip_key *key,
		   struct xlb_vip *out)
{
	struct xlb_vip_key k = *key;

	return bpf_map_lookup_elem(vips_fd, &k, out);
}

static int map_max_entries(int fd, __u32 *max)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	int ret = bpf_obj_get_info_by_fd(fd, &info, &len);

	if (!ret)
		*max = info.max_entries;
	return ret;
}

int xlb_backends_read(int backends_fd, struct xlb_backend_entry **out,
		      size_t *n)
{
	struct xlb_backend_entry *list = NULL, *e;
	size_t len = 0, cap = 0;
	struct xlb_backend b;
	__u32 max;
	int ret;

	*out = NULL;
	*n = 0;
	ret = map_max_entries(backends_fd, &max);
	if (ret)
		return ret;
	/* Id 0 is XLB_BACKEND_NONE, never allocated. */
	for (__u32 id = 1; id < max; id++) {
		ret = bpf_map_lookup_elem(backends_fd, &id, &b);
		if (ret)
			goto err_free;
		if (b.state == XLB_BACKEND_UNUSED)
			continue;
		e = list_room(list, &cap, len, sizeof(*list));
		if (!e) {
			ret = -ENOMEM;
			goto err_free;
		}
		list = e;
		list[len].id = id;
		list[len].val = b;
		len++;
	}
	*out = list;
	*n = len;
	return 0;

err_free:
	free(list);
	return ret;
}

static bool same_addr(const struct xlb_backend *b, const union xlb_addr *a,
		      __u8 family)
{
	if (b->family != family)
		return false;
	if (family == XLB_AF_INET)
		return b->addr.v4 == a->v4;
	return !memcmp(&b->addr, a, sizeof(*a));
}

int xlb_backend_addr_sum(int backends_fd, int backend_stats_fd,
			 const union xlb_addr *addr, __u8 family,
			 struct xlb_counter *out, size_t *n_ids)
{
	struct xlb_backend_entry *list;
	struct xlb_counter c;
	size_t n, found = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = xlb_backends_read(backends_fd, &list, &n);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (!same_addr(&list[i].val, addr, family))
			continue;
		ret = xlb_counter_sum(backend_stats_fd, list[i].id, &c);
		if (ret)
			break;
		out->packets += c.packets;
		out->bytes += c.bytes;
		found++;
	}
	free(list);
	if (n_ids)
		*n_ids = found;
	return ret;
}
