// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The flow table from userspace (see flows.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <xlb/hash.h>

#include "flows.h"

/* Writes a __u32 variable of the object's .rodata before load. */
static int set_rodata_u32(struct bpf_object *obj, const char *name, __u32 v)
{
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct bpf_map *map;
	struct btf *btf = bpf_object__btf(obj);
	size_t size;
	__u8 *data;
	int id;

	if (!btf)
		return -ENOENT;
	bpf_object__for_each_map(map, obj)
	{
		const char *n = bpf_map__name(map);
		size_t l = strlen(n);

		if (bpf_map__is_internal(map) && l >= 7 &&
		    !strcmp(n + l - 7, ".rodata"))
			break;
	}
	if (!map)
		return -ENOENT;
	data = (__u8 *)bpf_map__initial_value(map, &size);
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (!data || id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (vs->size != sizeof(v) || vs->offset + sizeof(v) > size)
			return -EINVAL;
		memcpy(data + vs->offset, &v, sizeof(v));
		return 0;
	}
	return -ENOENT;
}

int xlb_flows_size(struct bpf_object *obj, __u32 max_flows)
{
	struct bpf_map *m4 = bpf_object__find_map_by_name(obj, "flows4");
	struct bpf_map *m6 = bpf_object__find_map_by_name(obj, "flows6");
	struct bpf_map *lru = bpf_object__find_map_by_name(obj, "flows");
	int ncpus = libbpf_num_possible_cpus(), err;
	struct xlb_flow_geometry g;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	/* The benchmark's LRU baseline: one hash map, sized as before. */
	if (lru && !m4)
		return bpf_map__set_max_entries(lru, max_flows);
	if (!m4 || !m6)
		return -ENOENT;
	g = xlb_flow_geometry(max_flows, ncpus);
	err = bpf_map__set_max_entries(m4, g.buckets4);
	err = err ?: bpf_map__set_max_entries(m6, g.buckets6);
	err = err ?: set_rodata_u32(obj, "xlb_flow_shift4", g.shift4);
	err = err ?: set_rodata_u32(obj, "xlb_flow_shift6", g.shift6);
	err = err ?: set_rodata_u32(obj, "xlb_flow_ncpus", ncpus);
	return err;
}

int xlb_flows_set_coherent(struct bpf_object *obj, bool coherent)
{
	return set_rodata_u32(obj, "xlb_flow_coherent", coherent);
}

static __u32 log2_u32(__u32 v)
{
	__u32 s = 0;

	while ((1U << (s + 1)) <= v && s < 31)
		s++;
	return s;
}

static int map_table(int fd, __u32 value_size, int ncpus, int prot, void **addr,
		     size_t *len, __u32 *shift)
{
	struct bpf_map_info info = {0};
	__u32 ilen = sizeof(info);
	void *p;

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != value_size ||
	    !(info.map_flags & BPF_F_MMAPABLE) ||
	    info.max_entries % (__u32)ncpus)
		return -EPROTO;
	*shift = log2_u32(info.max_entries / ncpus);
	if ((__u32)ncpus << *shift != info.max_entries)
		return -EPROTO;
	*len = (size_t)info.max_entries * value_size;
	p = mmap(NULL, *len, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

static int flows_open(struct xlb_flows *t, int fd4, int fd6, int prot)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0)
		return t->ncpus ? t->ncpus : -EINVAL;
	err = map_table(fd4, sizeof(struct xlb_flow_bucket4), t->ncpus, prot,
			(void **)&t->b4, &t->len4, &t->shift4);
	err = err
		      ?: map_table(fd6, sizeof(struct xlb_flow_bucket6),
				   t->ncpus, prot, (void **)&t->b6, &t->len6,
				   &t->shift6);
	if (err)
		xlb_flows_close(t);
	return err;
}

int xlb_flows_open(struct xlb_flows *t, int fd4, int fd6)
{
	return flows_open(t, fd4, fd6, PROT_READ | PROT_WRITE);
}

/*
 * The kernel maps no map through a read-only fd (bpf_map_mmap refuses
 * one, PROT_READ or not), so these fds are read-write; the mapping is
 * PROT_READ and cannot become writable (no VM_MAYWRITE), which is what
 * keeps the reader from writing. The fds go once mapped.
 */
int xlb_flows_open_pinned(struct xlb_flows *t, const char *pin_dir)
{
	char p4[512], p6[512];
	int fd4, fd6, err;

	snprintf(p4, sizeof(p4), "%s/flows4", pin_dir);
	snprintf(p6, sizeof(p6), "%s/flows6", pin_dir);
	fd4 = bpf_obj_get(p4);
	if (fd4 < 0)
		return -errno;
	fd6 = bpf_obj_get(p6);
	if (fd6 < 0) {
		err = -errno;
		goto close4;
	}
	err = flows_open(t, fd4, fd6, PROT_READ);
	close(fd6);
close4:
	close(fd4);
	return err;
}

void xlb_flows_close(struct xlb_flows *t)
{
	if (t->b4)
		munmap(t->b4, t->len4);
	if (t->b6)
		munmap(t->b6, t->len6);
	t->b4 = NULL;
	t->b6 = NULL;
}

static bool way4_is(const struct xlb_flow_way4 *w, const struct xlb_flow_key *k)
{
	return w->e.proto && w->e.proto == k->proto && w->saddr == k->src.v4 &&
	       w->daddr == k->dst.v4 && w->sport == k->sport &&
	       w->dport == k->dport;
}

static bool way6_is(const struct xlb_flow_way6 *w, const struct xlb_flow_key *k)
{
	return w->e.proto && w->e.proto == k->proto &&
	       !memcmp(w->saddr, k->src.v6, 16) &&
	       !memcmp(w->daddr, k->dst.v6, 16) && w->sport == k->sport &&
	       w->dport == k->dport;
}

/*
 * The way of key in its bucket on cpu: its own, or (take) the first empty
 * one, else way 0, with the key written. NULL when there is none.
 */
static struct xlb_flow_entry *find(const struct xlb_flows *t, __u32 cpu,
				   const struct xlb_flow_key *k, bool take)
{
	__u32 hash = xlb_flow_hash(k, 0);
	int pick = -1;

	if ((int)cpu >= t->ncpus)
		return NULL;
	if (k->family == XLB_AF_INET && t->b4) {
		struct xlb_flow_bucket4 *b =
			&t->b4[xlb_flow_bucket(hash, cpu, t->shift4)];
		struct xlb_flow_way4 *w;

		for (int i = 0; i < XLB_FLOW_WAYS4; i++) {
			if (way4_is(&b->way[i], k))
				return &b->way[i].e;
			if (pick < 0 && !b->way[i].e.proto)
				pick = i;
		}
		if (!take)
			return NULL;
		w = &b->way[pick < 0 ? 0 : pick];
		memset(w, 0, sizeof(*w));
		w->saddr = k->src.v4;
		w->daddr = k->dst.v4;
		w->sport = k->sport;
		w->dport = k->dport;
		return &w->e;
	}
	if (k->family == XLB_AF_INET6 && t->b6) {
		struct xlb_flow_bucket6 *b =
			&t->b6[xlb_flow_bucket(hash, cpu, t->shift6)];
		struct xlb_flow_way6 *w;

		for (int i = 0; i < XLB_FLOW_WAYS6; i++) {
			if (way6_is(&b->way[i], k))
				return &b->way[i].e;
			if (pick < 0 && !b->way[i].e.proto)
				pick = i;
		}
		if (!take)
			return NULL;
		w = &b->way[pick < 0 ? 0 : pick];
		memset(w, 0, sizeof(*w));
		memcpy(w->saddr, k->src.v6, 16);
		memcpy(w->daddr, k->dst.v6, 16);
		w->sport = k->sport;
		w->dport = k->dport;
		return &w->e;
	}
	return NULL;
}

bool xlb_flows_get(const struct xlb_flows *t, __u32 cpu,
		   const struct xlb_flow_key *k, struct xlb_flow_entry *e)
{
	struct xlb_flow_entry *f = find(t, cpu, k, false);

	if (f && e)
		*e = *f;
	return f;
}

int xlb_flows_put(struct xlb_flows *t, __u32 cpu, const struct xlb_flow_key *k,
		  const struct xlb_flow_entry *e)
{
	struct xlb_flow_entry *f = find(t, cpu, k, true);

	if (!f)
		return -ENOENT;
	*f = *e;
	/* The key's proto, whatever the caller's entry says. */
	f->proto = k->proto;
	return 0;
}

__u64 xlb_flows_count(const struct xlb_flows *t)
{
	size_t n4 = t->b4 ? t->len4 / sizeof(*t->b4) : 0;
	size_t n6 = t->b6 ? t->len6 / sizeof(*t->b6) : 0;
	__u64 n = 0;

	for (size_t i = 0; i < n4; i++)
		for (int w = 0; w < XLB_FLOW_WAYS4; w++)
			n += !!t->b4[i].way[w].e.proto;
	for (size_t i = 0; i < n6; i++)
		for (int w = 0; w < XLB_FLOW_WAYS6; w++)
			n += !!t->b6[i].way[w].e.proto;
	return n;
}

static bool clears(const struct xlb_flow_entry *e, __u32 backend_id)
{
	return e->proto && (!backend_id || e->backend_id == backend_id);
}

__u64 xlb_flows_clear(struct xlb_flows *t, __u32 backend_id)
{
	size_t n4 = t->b4 ? t->len4 / sizeof(*t->b4) : 0;
	size_t n6 = t->b6 ? t->len6 / sizeof(*t->b6) : 0;
	volatile __u8 *proto;
	__u64 n = 0;

	for (size_t i = 0; i < n4; i++)
		for (int w = 0; w < XLB_FLOW_WAYS4; w++)
			if (clears(&t->b4[i].way[w].e, backend_id)) {
				proto = &t->b4[i].way[w].e.proto;
				*proto = 0;
				n++;
			}
	for (size_t i = 0; i < n6; i++)
		for (int w = 0; w < XLB_FLOW_WAYS6; w++)
			if (clears(&t->b6[i].way[w].e, backend_id)) {
				proto = &t->b6[i].way[w].e.proto;
				*proto = 0;
				n++;
			}
	return n;
}

/*
 * A way as the data path compares it: in use (proto set). The
 * copy is taken first, so a way the data path rewrites meanwhile is judged
 * by what was copied, never by a mix of two reads.
 */
static bool seen_valid(const struct xlb_flow_entry *e)
{
	return e->proto;
}

static int walk4(const struct xlb_flows *t, xlb_flows_walk_fn fn, void *ctx)
{
	size_t n4 = t->b4 ? t->len4 / sizeof(*t->b4) : 0;
	struct xlb_flow_seen s;
	int ret;

	for (size_t i = 0; i < n4; i++)
		for (int w = 0; w < XLB_FLOW_WAYS4; w++) {
			struct xlb_flow_way4 c = t->b4[i].way[w];

			if (!seen_valid(&c.e))
				continue;
			memset(&s, 0, sizeof(s));
			s.key.family = XLB_AF_INET;
			s.key.src.v4 = c.saddr;
			s.key.dst.v4 = c.daddr;
			s.key.sport = c.sport;
			s.key.dport = c.dport;
			s.key.proto = c.e.proto;
			s.e = c.e;
			s.cpu = i >> t->shift4;
			ret = fn(&s, ctx);
			if (ret)
				return ret;
		}
	return 0;
}

static int walk6(const struct xlb_flows *t, xlb_flows_walk_fn fn, void *ctx)
{
	size_t n6 = t->b6 ? t->len6 / sizeof(*t->b6) : 0;
	struct xlb_flow_seen s;
	int ret;

	for (size_t i = 0; i < n6; i++)
		for (int w = 0; w < XLB_FLOW_WAYS6; w++) {
			struct xlb_flow_way6 c = t->b6[i].way[w];

			if (!seen_valid(&c.e))
				continue;
			memset(&s, 0, sizeof(s));
			s.key.family = XLB_AF_INET6;
			memcpy(s.key.src.v6, c.saddr, 16);
			memcpy(s.key.dst.v6, c.daddr, 16);
			s.key.sport = c.sport;
			s.key.dport = c.dport;
			s.key.proto = c.e.proto;
			s.e = c.e;
			s.cpu = i >> t->shift6;
			ret = fn(&s, ctx);
			if (ret)
				return ret;
		}
	return 0;
}

int xlb_flows_walk(const struct xlb_flows *t, xlb_flows_walk_fn fn, void *ctx)
{
	return walk4(t, fn, ctx) ?: walk6(t, fn, ctx);
}
