// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Map setup for the golden cases, and the spec's selection rules restated
 * over the shadow copy each setup call keeps: which VIP a key reaches and
 * which backend a ring pick gives. Errors writing a map fail the case.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <xlb/decap.h>
#include "golden.h"
#include "harness.h"

__u64 now_ns(void)
{
	struct timespec ts;

	/* The flow table's clock (bpf_ktime_get_coarse_ns). */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct xlb_config base_config(void)
{
	struct xlb_config c = {
		.encap = XLB_ENCAP_IPIP,
		.ttl = 61, /* not the 64 of built packets */
		.gue_port = htons(6080),
		.mtu = 1500,
		.src4_plen = 24,
		.src6_plen = 64,
		.udp_timeout_ns = 30ULL * 1000000000ULL,
	};
	union xlb_addr s6 = A("2001:db8:ff::");

	memcpy(c.gw_mac, MAC_GW, 6);
	c.src4 = A("198.18.200.0").v4;
	memcpy(c.src6, s6.v6, 16);
	return c;
}

void set_config(struct tc *t, const struct xlb_config *c)
{
	__u32 k = 0;

	t->cfg = *c;
	if (bpf_map_update_elem(H.config, &k, c, BPF_ANY))
		fail(t, "setup: config: %s", strerror(errno));
}

void set_filter_bit(struct tc *t, const char *addr)
{
	struct xlb_vip_filter *f = calloc(1, sizeof(*f));
	union xlb_addr a = A(addr);
	__u32 k = 0, b = xlb_filter_bit(&a);

	if (!f)
		abort();
	if (bpf_map_lookup_elem(H.filter, &k, f) ||
	    (f->bits[b / 64] |= 1ULL << (b % 64),
	     bpf_map_update_elem(H.filter, &k, f, BPF_ANY)))
		fail(t, "setup: vip_filter: %s", strerror(errno));
	free(f);
}

static void write_vip(struct tc *t, const struct xlb_vip_key *k,
		      const struct xlb_vip *v)
{
	struct xlb_vip_info info = {.key = *k, .vip = *v};

	if (bpf_map_update_elem(H.vips, k, v, BPF_ANY))
		fail(t, "setup: vips: %s", strerror(errno));
	/* As the controller does: flow entries find their VIP by id. */
	if (k->proto != IPPROTO_ICMP && k->proto != IPPROTO_ICMPV6 &&
	    bpf_map_update_elem(H.vip_info, &v->vip_id, &info, BPF_ANY))
		fail(t, "setup: vip_info: %s", strerror(errno));
}

static void put_vip(struct tc *t, const struct xlb_vip_key *k,
		    const struct xlb_vip *v)
{
	write_vip(t, k, v);
	if (t->nvips < 16) {
		t->vkey[t->nvips] = *k;
		t->vval[t->nvips++] = *v;
	}
}

void add_vip(struct tc *t, const char *addr, __u16 port, __u8 proto,
	     __u32 vip_id, __u32 flags, __u32 ring_size, __u8 encap)
{
	struct xlb_vip_key k = {.port = htons(port), .proto = proto};
	struct xlb_vip v = {.vip_id = vip_id,
			    .flags = flags,
			    .ring_size = ring_size,
			    .encap = encap};

	k.family = addr_parse(addr, &k.addr);
	put_vip(t, &k, &v);
	set_filter_bit(t, addr);
}

void set_vip_mode(struct tc *t, __u32 vip_id, __u8 mode, __u8 pool_id)
{
	for (int i = 0; i < t->nvips; i++) {
		if (t->vval[i].vip_id != vip_id ||
		    t->vkey[i].proto == IPPROTO_ICMP ||
		    t->vkey[i].proto == IPPROTO_ICMPV6)
			continue;
		t->vval[i].mode = mode;
		t->vval[i].pool_id = pool_id;
		write_vip(t, &t->vkey[i], &t->vval[i]);
	}
}

void add_vip_addr(struct tc *t, const char *addr)
{
	struct xlb_vip_key k = {0};
	struct xlb_vip v = {0};

	k.family = addr_parse(addr, &k.addr);
	k.proto = k.family == XLB_AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	put_vip(t, &k, &v);
	set_filter_bit(t, addr);
}

static void put_backend(struct tc *t, __u32 id)
{
	if (bpf_map_update_elem(H.backends, &id, &t->be[id], BPF_ANY))
		fail(t, "setup: backends[%u]: %s", id, strerror(errno));
}

void set_backend(struct tc *t, __u32 id, const char *addr, __u8 state)
{
	struct xlb_backend *b = &t->be[id];

	memset(b, 0, sizeof(*b));
	b->family = addr_parse(addr, &b->addr);
	b->state = state;
	put_backend(t, id);
}

void set_backend_state(struct tc *t, __u32 id, __u8 state)
{
	t->be[id].state = state;
	put_backend(t, id);
}

/* A ring map of two halves (see struct xlb_vip) swapped into rings[]. */
static void put_ring(struct tc *t, __u32 vip_id, __u32 size, const __u32 *half0,
		     const __u32 *half1)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = XLB_RING_MAP_FLAGS);
	const __u32 *halves[XLB_RING_HALVES] = {half0, half1};
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4,
			    sizeof(struct xlb_ring_elem),
			    XLB_RING_ENTRIES(size), &opts);
	if (fd < 0) {
		fail(t, "setup: ring map: %s", strerror(errno));
		return;
	}
	for (__u32 h = 0; h < XLB_RING_HALVES; h++) {
		for (__u32 i = 0; i < size; i += XLB_RING_SLOTS_PER_ELEM) {
			struct xlb_ring_elem e = {{0}};
			__u32 k = xlb_ring_elem(size, h, i);

			for (__u32 w = 0; w < XLB_RING_SLOTS_PER_ELEM; w++)
				e.id[w] = i + w < size ? halves[h][i + w] : 0;
			if (bpf_map_update_elem(fd, &k, &e, 0)) {
				fail(t, "setup: ring slot: %s",
				     strerror(errno));
				break;
			}
		}
	}
	if (bpf_map_update_elem(H.rings, &vip_id, &fd, BPF_ANY))
		fail(t, "setup: rings[%u]: %s", vip_id, strerror(errno));
	H.ring_set[vip_id] = true;
	close(fd);
}

void set_ring(struct tc *t, __u32 vip_id, __u32 size, const __u32 *slots)
{
	struct ring_shadow *r = &t->ring[vip_id];

	/* As the controller keeps them: both halves whole tables. */
	put_ring(t, vip_id, size, slots, slots);
	free(r->slot);
	r->size = size;
	r->slot = malloc(size * sizeof(__u32));
	if (!r->slot)
		abort();
	memcpy(r->slot, slots, size * sizeof(__u32));
}

void set_ring_halves(struct tc *t, __u32 vip_id, __u32 size, const __u32 *half0,
		     const __u32 *half1)
{
	struct ring_shadow *r = &t->ring[vip_id];

	put_ring(t, vip_id, size, half0, half1);
	free(r->slot);
	r->size = size;
	r->slot = malloc(size * sizeof(__u32));
	if (!r->slot)
		abort();
	memcpy(r->slot, half0, size * sizeof(__u32));
}

void set_vip_half(struct tc *t, __u32 vip_id, __u8 half)
{
	for (int i = 0; i < t->nvips; i++) {
		if (t->vval[i].vip_id != vip_id)
			continue;
		t->vval[i].ring_half = half;
		write_vip(t, &t->vkey[i], &t->vval[i]);
	}
}

void ring_distinct(struct tc *t, __u32 vip_id, __u32 size, __u32 first, bool v6)
{
	__u32 *slots = malloc(size * sizeof(__u32));

	if (!slots || first + size > XLB_MAX_BACKENDS)
		abort();
	for (__u32 i = 0; i < size; i++) {
		__u32 id = first + i;
		struct xlb_backend *b = &t->be[id];

		memset(b, 0, sizeof(*b));
		if (v6) {
			b->addr = A(BE6);
			b->addr.v6[3] = htonl(id);
			b->family = XLB_AF_INET6;
		} else {
			/* 198.18.<1 + id / 250>.<1 + id % 250> */
			b->addr.v4 = htonl(0xc6120000 | (1 + id / 250) << 8 |
					   (1 + id % 250));
			b->family = XLB_AF_INET;
		}
		b->state = XLB_BACKEND_UP;
		put_backend(t, id);
		slots[i] = id;
	}
	set_ring(t, vip_id, size, slots);
	free(slots);
}

/* The VIP a flow belongs to, as vip_lookup() would find it. */
/* The VIP the key reaches (rule 4): its id is what an entry names. */
static __u32 flow_vip_id(struct tc *t, const struct xlb_flow_key *k)
{
	const struct xlb_vip *v = vip_of(t, k);

	return v ? v->vip_id : 0;
}

void set_flow(struct tc *t, const struct xlb_flow_key *k, __u32 backend,
	      __u64 last_seen_ns)
{
	struct xlb_flow v = {.backend_id = backend,
			     .vip_id = flow_vip_id(t, k),
			     .last_seen_ns = last_seen_ns};

	set_flow_raw(t, k, &v);
}

int other_cpu(void)
{
	return H.ncpus > 1 ? (H.cpu + 1) % H.ncpus : -1;
}

void set_flow_cpu(struct tc *t, const struct xlb_flow_key *k, __u32 backend,
		  int cpu)
{
	struct xlb_flow_entry e = {
		.vip_id = flow_vip_id(t, k),
		.backend_id = backend,
		.stamp = xlb_flow_stamp(now_ns()),
	};
	int err = xlb_flows_put(&H.flows, cpu, k, &e);

	if (err)
		fail(t, "setup: flows: %s", strerror(-err));
}

bool has_flow_cpu(const struct xlb_flow_key *k, int cpu)
{
	return xlb_flows_get(&H.flows, cpu, k, NULL);
}

/* Planted on the run's CPU, in the way the data path would look in. */
void set_flow_raw(struct tc *t, const struct xlb_flow_key *k,
		  const struct xlb_flow *v)
{
	struct xlb_flow_entry e = {
		.vip_id = v->vip_id,
		.backend_id = v->backend_id,
		.stamp = xlb_flow_stamp(v->last_seen_ns),
	};
	int err = xlb_flows_put(&H.flows, H.cpu, k, &e);

	if (err)
		fail(t, "setup: flows: %s", strerror(-err));
}

__u32 flow_bucket_of(const struct xlb_flow_key *k)
{
	return xlb_flow_bucket(xlb_flow_hash(k, 0), H.cpu,
			       k->family == XLB_AF_INET ? H.flows.shift4
							: H.flows.shift6);
}

/* last_seen_ns is the way's stamp in ns: XLB_FLOW_STAMP_SHIFT resolution. */
bool get_flow(struct tc *t, const struct xlb_flow_key *k, struct xlb_flow *v)
{
	struct xlb_flow_entry e;

	(void)t;
	if (!xlb_flows_get(&H.flows, H.cpu, k, &e))
		return false;
	v->backend_id = e.backend_id;
	v->vip_id = e.vip_id;
	v->last_seen_ns = (__u64)e.stamp << XLB_FLOW_STAMP_SHIFT;
	return true;
}

struct xlb_flow_key fkey(const char *src, const char *dst, __u16 sport,
			 __u16 dport, __u8 proto)
{
	struct xlb_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = addr_parse(src, &k.src);
	addr_parse(dst, &k.dst);
	k.sport = htons(sport);
	k.dport = htons(dport);
	k.proto = proto;
	return k;
}

/* Rule 4: exact {dst, dport, proto}, then port-less {dst, 0, proto}. */
const struct xlb_vip *vip_of(struct tc *t, const struct xlb_flow_key *k)
{
	for (int pass = 0; pass < 2; pass++) {
		__be16 port = pass ? 0 : k->dport;

		for (int i = 0; i < t->nvips; i++) {
			const struct xlb_vip_key *v = &t->vkey[i];

			if (v->family == k->family && v->proto == k->proto &&
			    v->port == port &&
			    !memcmp(&v->addr, &k->dst, sizeof(v->addr)))
				return &t->vval[i];
		}
	}
	return NULL;
}

__u32 slot_of(const struct xlb_vip *v, const struct xlb_flow_key *k)
{
	return xlb_flow_hash(k, v->flags) % v->ring_size;
}

__u32 rss_of(const struct xlb_flow_key *k)
{
	return xlb_flow_hash(k, 0);
}

/* Rule 6: the hashed slot, then up to XLB_REPICK_TRIES more; only UP. */
__u32 ring_pick(struct tc *t, const struct xlb_vip *v,
		const struct xlb_flow_key *k, bool *repick)
{
	const struct ring_shadow *r = &t->ring[v->vip_id];
	__u32 slot = slot_of(v, k);

	*repick = false;
	if (!r->slot || r->size != v->ring_size)
		return 0;
	for (__u32 i = 0; i <= XLB_REPICK_TRIES; i++) {
		__u32 id = r->slot[(slot + i) % r->size];

		if (id && id < XLB_MAX_BACKENDS &&
		    t->be[id].state == XLB_BACKEND_UP)
			return id;
		*repick = true;
	}
	return 0;
}

/*
 * Puts the decap table of the n keys in force as xlb-agent does: the
 * half not in force is written, then the word of decap_active flips.
 */
static void decap_publish(struct tc *t, const struct xlb_decap_key *keys, int n,
			  __u32 half)
{
	struct xlb_decap_bucket tab[XLB_DECAP_BUCKETS];
	__u32 active, zero = 0;
	int err;

	err = xlb_decap_build(tab, keys, n, half, &active);
	if (err) {
		fail(t, "setup: decap table: %s", strerror(-err));
		return;
	}
	for (__u32 i = 0; i < XLB_DECAP_BUCKETS; i++) {
		__u32 k = half * XLB_DECAP_BUCKETS + i;

		if (bpf_map_update_elem(H.decap_addrs, &k, &tab[i], BPF_ANY))
			fail(t, "setup: decap_addrs: %s", strerror(errno));
	}
	if (bpf_map_update_elem(H.decap_active, &zero, &active, BPF_ANY))
		fail(t, "setup: decap_active: %s", strerror(errno));
}

/*
 * The addresses of the table in force, into keys (XLB_MAX_DECAP_ADDRS);
 * their number, the half in force in *half.
 */
static int decap_addrs_now(struct tc *t, struct xlb_decap_key *keys,
			   __u32 *half)
{
	struct xlb_decap_bucket b;
	__u32 active = 0, zero = 0;
	int n = 0;

	if (bpf_map_lookup_elem(H.decap_active, &zero, &active))
		fail(t, "setup: decap_active: %s", strerror(errno));
	*half = active & 1;
	for (__u32 i = 0; i < XLB_DECAP_BUCKETS; i++) {
		__u32 k = *half * XLB_DECAP_BUCKETS + i;

		if (bpf_map_lookup_elem(H.decap_addrs, &k, &b)) {
			fail(t, "setup: decap_addrs: %s", strerror(errno));
			break;
		}
		for (int w = 0; w < XLB_DECAP_WAYS; w++)
			if (b.way[w].family && n < XLB_MAX_DECAP_ADDRS)
				keys[n++] = b.way[w];
	}
	return n;
}

void decap_add_addr(struct tc *t, const char *addr)
{
	struct xlb_decap_key keys[XLB_MAX_DECAP_ADDRS + 1] = {0};
	__u32 half;
	int n = decap_addrs_now(t, keys, &half);

	keys[n].family = addr_parse(addr, &keys[n].addr);
	decap_publish(t, keys, n + 1, !half);
}

void decap_del_addr(struct tc *t, const char *addr)
{
	struct xlb_decap_key keys[XLB_MAX_DECAP_ADDRS], k = {0};
	__u32 half;
	int n = decap_addrs_now(t, keys, &half), m = 0;

	k.family = addr_parse(addr, &k.addr);
	for (int i = 0; i < n; i++)
		if (memcmp(&keys[i], &k, sizeof(k)))
			keys[m++] = keys[i];
	decap_publish(t, keys, m, !half);
}

void decap_set_port(struct tc *t, __u16 port)
{
	struct xlb_decap_config c = {.gue_port = htons(port)};
	__u32 k = 0;

	if (bpf_map_update_elem(H.decap_config, &k, &c, BPF_ANY))
		fail(t, "setup: decap_config: %s", strerror(errno));
}

void clear_filter(struct tc *t)
{
	struct xlb_vip_filter *f = calloc(1, sizeof(*f));
	__u32 k = 0;

	if (!f)
		abort();
	if (bpf_map_update_elem(H.filter, &k, f, BPF_ANY))
		fail(t, "setup: vip_filter: %s", strerror(errno));
	free(f);
}

struct xlb_flow_key pkt_key(const struct pkt *p)
{
	__u8 proto = p->proto ? p->proto : IPPROTO_TCP;

	return fkey(p->src, p->dst, p->sport ? p->sport : 40000,
		    p->dport ? p->dport : 80, proto);
}

void setup13(struct tc *t, __u8 proto, __u32 flags)
{
	struct xlb_config c = base_config();

	set_config(t, &c);
	std_vip(t, VIP4, 80, proto, 1, flags, 13, false);
}

const struct xlb_vip *vip1(struct tc *t, const struct xlb_flow_key *k)
{
	const struct xlb_vip *v = vip_of(t, k);

	if (!v)
		abort();
	return v;
}

void std_vip(struct tc *t, const char *vip, __u16 port, __u8 proto,
	     __u32 vip_id, __u32 flags, __u32 ring_size, bool be_v6)
{
	add_vip_addr(t, vip);
	add_vip(t, vip, port, proto, vip_id, flags, ring_size,
		XLB_ENCAP_DEFAULT);
	ring_distinct(t, vip_id, ring_size, vip_id * 1000 + 1, be_v6);
}
