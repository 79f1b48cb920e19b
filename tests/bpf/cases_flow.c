// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Golden cases of the flow table (rule 7): SYN re-hash, RST, hits and the
 * VIP an entry names, affinity across a ring swap, UDP expiry and refresh,
 * the insert rate limit, failover of flows whose backend is not up, and
 * the set-associative table's own rules: a full bucket gives up an expired
 * UDP way first, else its oldest way; flows sharing a bucket keep their
 * backends. The ring pick itself is in cases_ring.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "golden.h"

#define SEC_NS 1000000000ULL

/* A backend of the VIP's ring other than the one at key's slot. */
static __u32 other_than(struct tc *t, const struct xlb_flow_key *k)
{
	const struct xlb_vip *v = vip1(t, k);
	__u32 s = slot_of(v, k);

	return t->ring[v->vip_id].slot[(s + 5) % v->ring_size];
}

static void ack_miss(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4};
	struct xlb_flow_key k = pkt_key(&p);
	__u32 be;

	setup13(t, TCP, 0);
	be = tx_ring(t, "ack", &p, EV(FLOW_MISS) | EV(FLOW_INSERT));
	expect_flow(t, &k, be);
}

static void ack_hit(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .payload = 100};
	struct xlb_flow_key k = pkt_key(&p);
	struct frame f;
	__u32 be;

	setup13(t, TCP, 0);
	be = other_than(t, &k);
	set_flow(t, &k, be, now_ns());
	build(&f, &p);
	expect_tx(t, "ack", &f, &k, be, EV(FLOW_HIT));
	expect_flow(t, &k, be);
}

/* The v6 key (16-byte addresses, v6 hash) finds an entry written here. */
static void ack_hit_v6(struct tc *t)
{
	struct xlb_config c = base_config();
	struct pkt p = {.src = CLI6,
			.dst = VIP6,
			.proto = UDP,
			.dport = 443,
			.payload = 30};
	struct xlb_flow_key k = pkt_key(&p);
	struct frame f;
	__u32 be;

	set_config(t, &c);
	std_vip(t, VIP6, 443, UDP, 2, 0, 13, true);
	be = other_than(t, &k);
	set_flow(t, &k, be, now_ns());
	build(&f, &p);
	expect_tx(t, "udp", &f, &k, be, EV(FLOW_HIT));
}

/*
 * An entry naming another VIP's id (ids are reused) does not belong to
 * this packet's VIP: the packet is hashed on its own VIP's ring as on a
 * miss, and the entry is rewritten under the right id.
 */
static void stale_vip_id(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .payload = 4};
	struct xlb_flow_key k = pkt_key(&p);
	struct xlb_flow v = {0};
	__u32 be;

	setup13(t, TCP, 0);
	add_vip(t, VIP4B, 80, TCP, 7, 0, 13, XLB_ENCAP_DEFAULT);
	ring_distinct(t, 7, 13, 3001, false);
	v.backend_id = other_than(t, &k);
	v.vip_id = 7;
	v.last_seen_ns = now_ns();
	set_flow_raw(t, &k, &v);
	be = tx_ring(t, "ack", &p, EV(FLOW_MISS) | EV(FLOW_INSERT));
	expect_flow(t, &k, be);
}

/*
 * An exact VIP added on a port a port-less VIP used to take: by rule 4 the
 * packet's VIP is now the exact one, so an entry hashed under the
 * port-less VIP no longer belongs to it and the packet is hashed on the
 * exact VIP's ring (with its encapsulation), as on a miss.
 */
static void exact_vip_added(struct tc *t)
{
	struct xlb_config c = base_config();
	struct pkt p = {.src = CLI4, .dst = VIP4B, .dport = 8080};
	struct xlb_flow_key k = pkt_key(&p);
	struct xlb_flow v = {0};
	__u32 be;

	set_config(t, &c);
	add_vip_addr(t, VIP4B);
	add_vip(t, VIP4B, 0, TCP, 4, 0, 13, XLB_ENCAP_DEFAULT);
	ring_distinct(t, 4, 13, 1, false);
	v.backend_id = other_than(t, &k);
	v.vip_id = 4;
	set_flow_raw(t, &k, &v);
	add_vip(t, VIP4B, 8080, TCP, 5, 0, 17, XLB_ENCAP_GUE);
	ring_distinct(t, 5, 17, 101, false);
	be = tx_ring(t, "ack", &p, EV(FLOW_MISS) | EV(FLOW_INSERT));
	expect_flow(t, &k, be);
}

static void syn_overwrites(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct xlb_flow_key k = pkt_key(&p);
	__u32 be;

	setup13(t, TCP, 0);
	set_flow(t, &k, other_than(t, &k), now_ns());
	be = tx_ring(t, "syn", &p, EV(FLOW_INSERT));
	expect_flow(t, &k, be);
}

static void rst_no_insert(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .flags = F_RST | F_ACK};
	struct xlb_flow_key k = pkt_key(&p);

	setup13(t, TCP, 0);
	tx_ring(t, "rst", &p, EV(FLOW_MISS));
	expect_no_flow(t, &k);
}

static void rst_hit(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .flags = F_RST};
	struct xlb_flow_key k = pkt_key(&p);
	struct frame f;
	__u32 be;

	setup13(t, TCP, 0);
	be = other_than(t, &k);
	set_flow(t, &k, be, now_ns());
	build(&f, &p);
	expect_tx(t, "rst", &f, &k, be, EV(FLOW_HIT));
}

/*
 * Affinity across a ring swap: the flow keeps its backend after the VIP's
 * ring changes under it; a new SYN of the same 5-tuple follows the new
 * ring and moves the entry.
 */
static void ring_swap(struct tc *t)
{
	struct pkt syn = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct pkt ack = {.src = CLI4, .dst = VIP4, .payload = 10};
	struct xlb_flow_key k = pkt_key(&syn);
	__u32 slots[13], a, b;
	struct frame f;

	setup13(t, TCP, 0);
	a = tx_ring(t, "syn 1", &syn, EV(FLOW_INSERT));
	/* New ring: same size, every slot moved to a new backend id. */
	for (__u32 i = 0; i < 13; i++) {
		slots[i] = 2001 + i;
		set_backend(t, 2001 + i, "198.18.2.1", XLB_BACKEND_UP);
		t->be[2001 + i].addr.v4 = htonl(0xc6120200 | (i + 1));
		set_backend_state(t, 2001 + i, XLB_BACKEND_UP);
	}
	set_ring(t, 1, 13, slots);
	build(&f, &ack);
	expect_tx(t, "ack after swap", &f, &k, a, EV(FLOW_HIT));
	b = tx_ring(t, "syn after swap", &syn, EV(FLOW_INSERT));
	if (b == a)
		fail(t, "test bug: new ring gives the old backend");
	expect_flow(t, &k, b);
	expect_tx(t, "ack after syn", &f, &k, b, EV(FLOW_HIT));
}

static void no_flow_table(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4};
	struct xlb_flow_key k = pkt_key(&p);
	struct xlb_flow_key k2 = fkey(CLI4, VIP4, 40001, 80, TCP);
	struct pkt syn = {
		.src = CLI4, .dst = VIP4, .sport = 40001, .flags = F_SYN};

	setup13(t, TCP, XLB_VIP_F_NO_FLOW_TABLE);
	/* An entry pointing elsewhere is not read either. */
	set_flow(t, &k, other_than(t, &k), now_ns());
	tx_ring(t, "ack", &p, 0);
	tx_ring(t, "syn", &syn, 0);
	expect_no_flow(t, &k2);
	if (flow_count(t) != 1)
		fail(t, "flows holds %d entries, want the 1 preset",
		     flow_count(t));
}

/* UDP flows: expired entries re-hash, live ones are refreshed. */
static void udp_entry(struct tc *t, __u64 timeout, __u64 age, bool expired,
		      __u8 proto)
{
	struct xlb_config c = base_config();
	struct pkt p = {.src = CLI4,
			.dst = VIP4,
			.proto = proto,
			.dport = 53,
			.payload = 20};
	struct xlb_flow_key k = pkt_key(&p);
	struct xlb_flow v;
	struct frame f;
	__u64 t0 = now_ns(), seen = t0 - age, t1;
	__u32 old, be;

	c.udp_timeout_ns = timeout;
	set_config(t, &c);
	std_vip(t, VIP4, 53, proto, 1, 0, 13, false);
	old = other_than(t, &k);
	set_flow(t, &k, old, age == ~0ULL ? 1 : seen);
	build(&f, &p);
	if (expired) {
		be = tx_ring(t, "udp", &p,
			     EV(FLOW_UDP_EXPIRED) | EV(FLOW_INSERT));
	} else {
		be = old;
		expect_tx(t, "udp", &f, &k, old, EV(FLOW_HIT));
	}
	t1 = now_ns();
	expect_flow(t, &k, be);
	if (!get_flow(t, &k, &v))
		return;
	if (xlb_flow_stamp(v.last_seen_ns) < xlb_flow_stamp(t0) ||
	    xlb_flow_stamp(v.last_seen_ns) > xlb_flow_stamp(t1))
		fail(t, "last_seen_ns %llu not refreshed into [%llu, %llu]",
		     (unsigned long long)v.last_seen_ns, (unsigned long long)t0,
		     (unsigned long long)t1);
}

static void udp_expired(struct tc *t)
{
	udp_entry(t, 5 * SEC_NS, 10 * SEC_NS, true, UDP);
}

static void udp_refresh(struct tc *t)
{
	udp_entry(t, 5 * SEC_NS, 1 * SEC_NS, false, UDP);
}

static void udp_no_timeout(struct tc *t)
{
	udp_entry(t, 0, ~0ULL, false, UDP);
}

static void tcp_never_expires(struct tc *t)
{
	udp_entry(t, 5 * SEC_NS, ~0ULL, false, TCP);
}

/* Rate limit 1 per second per CPU: the first new flow only is stored. */
static void rate_limit(struct tc *t)
{
	struct xlb_config c = base_config();
	struct pkt s1 = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct pkt s2 = {
		.src = CLI4, .dst = VIP4, .sport = 40002, .flags = F_SYN};
	struct pkt a3 = {.src = CLI4, .dst = VIP4, .sport = 40003};
	struct xlb_flow_key k1 = pkt_key(&s1), k2 = pkt_key(&s2),
			    k3 = pkt_key(&a3);
	__u32 be;

	c.flow_rate_limit = 1;
	set_config(t, &c);
	std_vip(t, VIP4, 80, TCP, 1, 0, 13, false);
	be = tx_ring(t, "syn 1", &s1, EV(FLOW_INSERT));
	expect_flow(t, &k1, be);
	tx_ring(t, "syn 2", &s2, EV(FLOW_INSERT_LIMITED));
	expect_no_flow(t, &k2);
	tx_ring(t, "ack 3", &a3, EV(FLOW_MISS) | EV(FLOW_INSERT_LIMITED));
	expect_no_flow(t, &k3);
}

/* Rewrites of found entries are not limited. */
static void rate_limit_rewrite(struct tc *t)
{
	struct xlb_config c = base_config();
	struct pkt s1 = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct pkt a2 = {.src = CLI4, .dst = VIP4, .sport = 40002};
	struct xlb_flow_key k2 = pkt_key(&a2);
	__u32 dead, be;

	c.flow_rate_limit = 1;
	set_config(t, &c);
	std_vip(t, VIP4, 80, TCP, 1, 0, 13, false);
	tx_ring(t, "syn 1", &s1, EV(FLOW_INSERT));
	dead = other_than(t, &k2);
	set_flow(t, &k2, dead, now_ns());
	set_backend_state(t, dead, XLB_BACKEND_DOWN);
	be = tx_ring(t, "ack 2", &a2,
		     EV(FLOW_HIT) | EV(FAILOVER_REPICK) | EV(FLOW_INSERT));
	expect_flow(t, &k2, be);
}

/* A flow on a backend that is not up (state) is re-picked and rewritten. */
static void hit_not_up(struct tc *t, __u8 state, bool keeps)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .payload = 5};
	struct xlb_flow_key k = pkt_key(&p);
	struct frame f;
	__u32 old, be;

	setup13(t, TCP, 0);
	old = other_than(t, &k);
	set_flow(t, &k, old, now_ns());
	set_backend_state(t, old, state);
	if (keeps) {
		build(&f, &p);
		expect_tx(t, "ack", &f, &k, old, EV(FLOW_HIT));
		expect_flow(t, &k, old);
		return;
	}
	be = tx_ring(t, "ack", &p,
		     EV(FLOW_HIT) | EV(FAILOVER_REPICK) | EV(FLOW_INSERT));
	expect_flow(t, &k, be);
}

static void hit_down(struct tc *t)
{
	hit_not_up(t, XLB_BACKEND_DOWN, false);
}

static void hit_unused(struct tc *t)
{
	hit_not_up(t, XLB_BACKEND_UNUSED, false);
}

static void hit_drain(struct tc *t)
{
	hit_not_up(t, XLB_BACKEND_DRAIN, true);
}

/*
 * n packets like p whose flows share one bucket of the table, the i-th of
 * protocol protos[i] (or p's when protos is NULL): source ports from 20000
 * up, kept when their flow falls in the first one's bucket.
 */
static void same_bucket(struct tc *t, const struct pkt *p, const __u8 *protos,
			struct pkt *out, int n)
{
	__u32 want = 0, sp = 20000;

	for (int i = 0; i < n; i++) {
		struct pkt q = *p;

		if (protos)
			q.proto = protos[i];
		for (; sp < 65536; sp++) {
			struct xlb_flow_key k;

			q.sport = sp;
			k = pkt_key(&q);
			if (!i)
				want = flow_bucket_of(&k);
			if (flow_bucket_of(&k) == want)
				break;
		}
		if (sp == 65536) {
			fail(t, "setup: only %d flows found in one bucket", i);
			return;
		}
		out[i] = q;
		sp++;
	}
}

/*
 * A full bucket (XLB_FLOW_WAYS4 live TCP flows) and one more new flow: the
 * oldest way goes (planted third, so not by position), the rest and the
 * newcomer stay with their backends.
 */
static void bucket_evicts_oldest(struct tc *t)
{
	struct pkt base = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct pkt p[XLB_FLOW_WAYS4 + 1];
	struct xlb_flow_key k[XLB_FLOW_WAYS4 + 1];
	__u32 be[XLB_FLOW_WAYS4 + 1];
	__u64 now = now_ns();
	int oldest = 2;

	setup13(t, TCP, 0);
	same_bucket(t, &base, NULL, p, XLB_FLOW_WAYS4 + 1);
	if (t->failed)
		return;
	for (int i = 0; i < XLB_FLOW_WAYS4; i++) {
		k[i] = pkt_key(&p[i]);
		be[i] = other_than(t, &k[i]);
		set_flow(t, &k[i], be[i],
			 now - (i == oldest ? 100 : 10 - i) * SEC_NS);
	}
	k[XLB_FLOW_WAYS4] = pkt_key(&p[XLB_FLOW_WAYS4]);
	be[XLB_FLOW_WAYS4] =
		tx_ring(t, "syn", &p[XLB_FLOW_WAYS4], EV(FLOW_INSERT));
	expect_no_flow(t, &k[oldest]);
	for (int i = 0; i <= XLB_FLOW_WAYS4; i++)
		if (i != oldest)
			expect_flow(t, &k[i], be[i]);
}

/*
 * A full bucket holding an expired UDP flow and an older live TCP one: the
 * new flow takes the UDP way, the TCP flow stays.
 */
static void bucket_reuses_expired_udp(struct tc *t)
{
	struct xlb_config c = base_config();
	struct pkt base = {.src = CLI4, .dst = VIP4, .dport = 53};
	struct pkt p[XLB_FLOW_WAYS4 + 1];
	struct xlb_flow_key k[XLB_FLOW_WAYS4 + 1];
	__u32 be[XLB_FLOW_WAYS4 + 1];
	__u8 protos[XLB_FLOW_WAYS4 + 1];
	__u64 now = now_ns();
	int udp = 4, old_tcp = 1;

	c.udp_timeout_ns = 5 * SEC_NS;
	set_config(t, &c);
	std_vip(t, VIP4, 53, TCP, 1, 0, 13, false);
	std_vip(t, VIP4, 53, UDP, 2, 0, 13, false);
	for (int i = 0; i <= XLB_FLOW_WAYS4; i++)
		protos[i] = i == udp ? UDP : TCP;
	same_bucket(t, &base, protos, p, XLB_FLOW_WAYS4 + 1);
	if (t->failed)
		return;
	for (int i = 0; i < XLB_FLOW_WAYS4; i++) {
		k[i] = pkt_key(&p[i]);
		be[i] = other_than(t, &k[i]);
		set_flow(t, &k[i], be[i],
			 now - (i == udp       ? 10
				: i == old_tcp ? 60
					       : 1) *
					 SEC_NS);
	}
	p[XLB_FLOW_WAYS4].flags = F_SYN;
	k[XLB_FLOW_WAYS4] = pkt_key(&p[XLB_FLOW_WAYS4]);
	be[XLB_FLOW_WAYS4] =
		tx_ring(t, "syn", &p[XLB_FLOW_WAYS4], EV(FLOW_INSERT));
	expect_no_flow(t, &k[udp]);
	for (int i = 0; i <= XLB_FLOW_WAYS4; i++)
		if (i != udp)
			expect_flow(t, &k[i], be[i]);
}

/* Two flows in one bucket: each packet finds its own way and backend. */
static void bucket_collision(struct tc *t)
{
	struct pkt base = {.src = CLI4, .dst = VIP4, .payload = 7};
	struct xlb_flow_key k[2];
	struct pkt p[2];
	struct frame f;
	__u32 be[2];

	setup13(t, TCP, 0);
	same_bucket(t, &base, NULL, p, 2);
	if (t->failed)
		return;
	for (int i = 0; i < 2; i++) {
		k[i] = pkt_key(&p[i]);
		be[i] = other_than(t, &k[i]);
	}
	if (be[0] == be[1])
		be[1] = t->ring[1].slot[(slot_of(vip1(t, &k[1]), &k[1]) + 6) %
					13];
	for (int i = 0; i < 2; i++)
		set_flow(t, &k[i], be[i], now_ns());
	for (int i = 1; i >= 0; i--) {
		build(&f, &p[i]);
		expect_tx(t, "ack", &f, &k[i], be[i], EV(FLOW_HIT));
		expect_flow(t, &k[i], be[i]);
	}
}

/*
 * A flow whose entry is on another CPU (the NIC does not steer by flow, or
 * its RSS changed): the miss here finds it there, the packet keeps its
 * backend, and the entry is copied to this CPU.
 */
static void other_cpu_entry(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .payload = 9};
	struct xlb_flow_key k = pkt_key(&p);
	int cpu = other_cpu();
	struct frame f;
	__u32 be;

	setup13(t, TCP, 0);
	if (cpu < 0)
		return; /* one CPU: nothing to find elsewhere */
	be = other_than(t, &k);
	set_flow_cpu(t, &k, be, cpu);
	expect_no_flow(t, &k);
	build(&f, &p);
	expect_tx(t, "ack", &f, &k, be, EV(FLOW_HIT));
	expect_flow(t, &k, be);
}

/*
 * A SYN re-hashed here empties the flow's copies on other CPUs: a client
 * reusing a port would otherwise have the rest of its new connection sent
 * to the old one's backend by a CPU that kept the old entry.
 */
static void syn_forgets_other_cpu(struct tc *t)
{
	struct pkt syn = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct xlb_flow_key k = pkt_key(&syn);
	int cpu = other_cpu();
	__u32 be;

	setup13(t, TCP, 0);
	if (cpu < 0)
		return; /* one CPU: no other copies */
	set_flow_cpu(t, &k, other_than(t, &k), cpu);
	be = tx_ring(t, "syn", &syn, EV(FLOW_INSERT));
	expect_flow(t, &k, be);
	if (has_flow_cpu(&k, cpu))
		fail(t, "the other CPU kept its copy of the flow");
}

/*
 * A SYN starts a flow: one more for its VIP and its backend on this CPU
 * (`xlb top`'s NEW/S). The flow's next packet, a hit, is not a new flow.
 */
static void new_flow_counted(struct tc *t)
{
	struct pkt syn = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct pkt ack = {.src = CLI4, .dst = VIP4, .payload = 10};
	struct xlb_flow_key k = pkt_key(&ack);
	struct frame f;
	__u32 be;

	setup13(t, TCP, 0);
	expect_new_flows(t, "before", 1, 1001, 0);
	be = tx_ring(t, "syn", &syn, EV(FLOW_INSERT));
	expect_new_flows(t, "syn", 1, be, 1);
	build(&f, &ack);
	expect_tx(t, "ack", &f, &k, be, EV(FLOW_HIT));
	expect_new_flows(t, "ack", 1, be, 1);
}

const struct golden_case cases_flow[] = {
	{"flow_ack_miss_inserts", "ACK without entry: miss, insert",
	 PROG_BALANCE, ack_miss},
	{"flow_ack_hit_uses_entry", "entry wins over the ring", PROG_BALANCE,
	 ack_hit},
	{"flow_hit_v6", "v6 UDP entry wins over the ring", PROG_BALANCE,
	 ack_hit_v6},
	{"flow_stale_vip_id", "entry of another VIP id: re-hashed",
	 PROG_BALANCE, stale_vip_id},
	{"flow_exact_vip_added", "port-less entry after an exact VIP",
	 PROG_BALANCE, exact_vip_added},
	{"flow_syn_overwrites", "SYN re-hashes over an entry", PROG_BALANCE,
	 syn_overwrites},
	{"flow_rst_no_insert", "RST on a miss is not stored", PROG_BALANCE,
	 rst_no_insert},
	{"flow_rst_hit", "RST on a hit follows the entry", PROG_BALANCE,
	 rst_hit},
	{"flow_ring_swap_affinity", "flows survive a ring swap, SYN moves",
	 PROG_BALANCE, ring_swap},
	{"flow_no_flow_table", "NO_FLOW_TABLE: no read, no write", PROG_BALANCE,
	 no_flow_table},
	{"flow_udp_expired", "idle UDP entry re-hashed", PROG_BALANCE,
	 udp_expired},
	{"flow_udp_refresh", "live UDP entry used and refreshed", PROG_BALANCE,
	 udp_refresh},
	{"flow_udp_no_timeout", "timeout 0: UDP never expires", PROG_BALANCE,
	 udp_no_timeout},
	{"flow_tcp_never_expires", "UDP timeout does not touch TCP",
	 PROG_BALANCE, tcp_never_expires},
	{"flow_rate_limit", "limit 1: second new flow not stored", PROG_BALANCE,
	 rate_limit},
	{"flow_rate_limit_rewrite", "rewrites are not limited", PROG_BALANCE,
	 rate_limit_rewrite},
	{"flow_hit_backend_down", "down backend: re-pick, rewrite",
	 PROG_BALANCE, hit_down},
	{"flow_hit_backend_unused", "unused id: re-pick, rewrite", PROG_BALANCE,
	 hit_unused},
	{"flow_hit_backend_drain", "draining backend keeps its flow",
	 PROG_BALANCE, hit_drain},
	{"flow_bucket_evicts_oldest", "full bucket: the oldest way goes",
	 PROG_BALANCE, bucket_evicts_oldest},
	{"flow_bucket_reuses_expired_udp", "full bucket: expired UDP way first",
	 PROG_BALANCE, bucket_reuses_expired_udp},
	{"flow_bucket_collision", "two flows, one bucket, own backends",
	 PROG_BALANCE, bucket_collision},
	{"flow_other_cpu_entry", "entry on another CPU: used, copied here",
	 PROG_BALANCE, other_cpu_entry},
	{"flow_syn_forgets_other_cpu", "SYN empties other CPUs' copies",
	 PROG_BALANCE, syn_forgets_other_cpu},
	{"flow_new_flow_counted", "SYN counts a new flow, a hit does not",
	 PROG_BALANCE, new_flow_counted},
	{0},
};
