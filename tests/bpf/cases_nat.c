// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Golden cases of full-NAT (bpf/nat.h): both directions for IPv4 and
 * IPv6, TCP and UDP, with every checksum compared byte for byte against a
 * packet built from scratch with the translated addresses and ports; ICMP
 * errors each way with the packet they quote; the entries a connection
 * makes and what FIN, RST and a SYN after them do; ports handed out in
 * order from this CPU's sub-pools, the threshold hint, exhaustion; what
 * passes and what drops without an entry.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlb/nat.h>
#include "golden.h"
#include "harness.h"

#define NAT4  "198.18.100.1"
#define NAT6  "2001:db8:100::1"
#define PORT0 5000 /* the first port of sub-pool 1 */

static const char *astr(const union xlb_addr *a, __u8 family, char *buf)
{
	return inet_ntop(family == XLB_AF_INET6 ? AF_INET6 : AF_INET, a, buf,
			 INET6_ADDRSTRLEN);
}

/*
 * Sub-pool sp of pool pool_id: count ports from PORT0 + first of addr,
 * next already handed out, held by the run's CPU in slot `slot` (or by
 * the other CPUs only, when mine is false).
 */
static void put_subpool(struct tc *t, __u8 pool_id, __u32 sp, const char *addr,
			__u16 first, __u16 count, __u32 next, __u16 low_at,
			int slot, bool mine)
{
	struct xlb_nat_subpool v = {
		.port_first = PORT0 + first,
		.count = count,
		.next = next,
		.low_at = low_at,
		.pool_id = pool_id,
	};
	struct xlb_nat_cpu *pc = calloc(H.ncpus, sizeof(*pc));
	__u32 key = pool_id;

	v.family = addr_parse(addr, &v.addr);
	if (!pc)
		abort();
	if (bpf_map_update_elem(H.nat_subpools, &sp, &v, BPF_ANY))
		fail(t, "setup: nat_subpools: %s", strerror(errno));
	if (bpf_map_lookup_elem(H.nat_cpu, &key, pc))
		fail(t, "setup: nat_cpu read: %s", strerror(errno));
	for (int c = 0; c < H.ncpus; c++)
		if ((c == H.cpu) == mine)
			pc[c].subpool[slot] = sp;
	if (bpf_map_update_elem(H.nat_cpu, &key, pc, BPF_ANY))
		fail(t, "setup: nat_cpu: %s", strerror(errno));
	free(pc);
	set_filter_bit(t, addr);
}

/*
 * A NAT VIP on port 80 of vip (TCP or UDP), id 1, pool 1, a ring of 13
 * distinct backends of the VIP's family, and sub-pool 1 of four ports of
 * the NAT address of that family held by this CPU.
 */
static void setup(struct tc *t, const char *vip, __u8 proto)
{
	bool v6 = strchr(vip, ':') != NULL;
	struct xlb_config c = base_config();

	memcpy(c.src_mac, MAC_IF, 6);
	set_config(t, &c);
	std_vip(t, vip, 80, proto, 1, 0, 13, v6);
	set_vip_mode(t, 1, XLB_VIP_MODE_NAT, 1);
	put_subpool(t, 1, 1, v6 ? NAT6 : NAT4, 0, 4, 0, 3, 0, true);
}

/* The frame the balancer must send: p built anew, toward the gateway. */
static void expect_frame(struct tc *t, struct frame *out,
			 const struct frame *in, const struct pkt *p)
{
	build(out, p);
	memcpy(out->d, MAC_GW, 6);
	memcpy(out->d + 6, src_mac(&t->cfg, in), 6);
}

/* The backend the ring gives the client's packet p. */
static __u32 ring_backend(struct tc *t, const struct pkt *p)
{
	struct xlb_flow_key k = pkt_key(p);
	bool repick;

	return ring_pick(t, vip1(t, &k), &k, &repick);
}

/*
 * Sends the client's packet p; it must leave from the NAT address and
 * `port` to backend be (its address), ports and checksums rewritten.
 */
static void client_tx(struct tc *t, const char *what, const struct pkt *p,
		      __u32 be, __u16 port, __u64 events)
{
	char bs[INET6_ADDRSTRLEN];
	struct frame in, want;
	struct pkt q = *p;

	q.src = strchr(p->src, ':') ? NAT6 : NAT4;
	q.dst = astr(&t->be[be].addr, t->be[be].family, bs);
	q.sport = port;
	build(&in, p);
	expect_frame(t, &want, &in, &q);
	run_step(t, PROG_BALANCE,
		 &(struct step){.what = what,
				.in = &in,
				.action = XDP_TX,
				.out = &want,
				.verdict = XLB_CNT_TX_NAT,
				.events = events,
				.vip_id = 1,
				.backend = be});
}

/*
 * The backend's reply to the connection of client packet p (NAT port
 * `port`, backend be), with flags: it must reach the client from the VIP.
 */
static void backend_reply(struct tc *t, const char *what, const struct pkt *p,
			  __u32 be, __u16 port, __u8 flags)
{
	char bs[INET6_ADDRSTRLEN];
	struct frame in, want;
	struct pkt r = *p, q = *p;

	r.src = astr(&t->be[be].addr, t->be[be].family, bs);
	r.dst = strchr(p->src, ':') ? NAT6 : NAT4;
	r.sport = p->dport ? p->dport : 80;
	r.dport = port;
	r.flags = flags;
	q.src = p->dst;
	q.dst = p->src;
	q.sport = r.sport;
	q.dport = p->sport ? p->sport : 40000;
	q.flags = flags;
	build(&in, &r);
	expect_frame(t, &want, &in, &q);
	run_step(t, PROG_BALANCE,
		 &(struct step){.what = what,
				.in = &in,
				.action = XDP_TX,
				.out = &want,
				.verdict = XLB_CNT_TX_NAT_REPLY,
				.vip_id = -1});
}

static bool get_fwd(struct tc *t, const struct pkt *p, struct xlb_nat_fwd *v)
{
	struct xlb_flow_key k = pkt_key(p);

	(void)t;
	return !bpf_map_lookup_elem(H.nat_fwd, &k, v);
}

static int count_entries(int fd)
{
	struct xlb_flow_key k, next;
	int n = 0;

	for (void *prev = NULL; !bpf_map_get_next_key(fd, prev, &next);
	     prev = &k, k = next)
		n++;
	return n;
}

/* ---- a connection's life ---- */

/*
 * SYN, data and the reply of one connection: the port is the sub-pool's
 * first, both entries exist and name each other, and the reply finds its
 * way back.
 */
static void conn(struct tc *t, const char *vip, const char *cli, __u8 proto)
{
	struct pkt syn = {.src = cli,
			  .dst = vip,
			  .proto = proto,
			  .flags = F_SYN,
			  .payload = proto == UDP ? 30 : 0};
	struct pkt data = syn;
	struct xlb_flow_key rk, fk = pkt_key(&syn);
	struct xlb_nat_fwd f;
	struct xlb_nat_rev r;
	__u32 be;

	setup(t, vip, proto);
	be = ring_backend(t, &syn);
	client_tx(t, "first packet", &syn, be, PORT0, EV(NAT_INSERT));
	if (!get_fwd(t, &syn, &f)) {
		fail(t, "no nat_fwd entry after the first packet");
		return;
	}
	if (f.backend_id != be || ntohs(f.nat_port) != PORT0 ||
	    f.subpool != 1 || f.vip_id != 1 || f.flags)
		fail(t,
		     "nat_fwd: backend %u port %u subpool %u vip %u "
		     "flags %u",
		     f.backend_id, ntohs(f.nat_port), f.subpool, f.vip_id,
		     f.flags);
	rk = (struct xlb_flow_key){.src = t->be[be].addr,
				   .dst = f.nat_addr,
				   .sport = fk.dport,
				   .dport = f.nat_port,
				   .proto = proto,
				   .family = fk.family};
	if (bpf_map_lookup_elem(H.nat_rev, &rk, &r) ||
	    memcmp(&r.fwd, &fk, sizeof(fk)))
		fail(t, "nat_rev entry missing or not naming the connection");
	data.flags = F_ACK | F_PSH;
	data.payload = 100;
	client_tx(t, "data", &data, be, PORT0, 0);
	backend_reply(t, "reply", &data, be, PORT0, F_ACK);
	if (count_entries(H.nat_fwd) != 1 || count_entries(H.nat_rev) != 1)
		fail(t, "want one entry each way");
}

static void tcp4(struct tc *t)
{
	conn(t, VIP4, CLI4, TCP);
}

static void tcp6(struct tc *t)
{
	conn(t, VIP6, CLI6, TCP);
}

static void udp4(struct tc *t)
{
	conn(t, VIP4, CLI4, UDP);
}

static void udp6(struct tc *t)
{
	conn(t, VIP6, CLI6, UDP);
}

/* A UDP checksum of 0 (none, IPv4) stays 0 both ways. */
static void udp4_no_csum(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .proto = UDP, .payload = 9};
	struct frame in, want;
	char bs[INET6_ADDRSTRLEN];
	struct pkt q = p;
	__u32 be;

	setup(t, VIP4, UDP);
	be = ring_backend(t, &p);
	build(&in, &p);
	memset(in.d + in.l2 + 20 + 6, 0, 2);
	q.src = NAT4;
	q.dst = astr(&t->be[be].addr, XLB_AF_INET, bs);
	q.sport = PORT0;
	expect_frame(t, &want, &in, &q);
	memset(want.d + want.l2 + 20 + 6, 0, 2);
	run_step(t, PROG_BALANCE,
		 &(struct step){.what = "no checksum",
				.in = &in,
				.action = XDP_TX,
				.out = &want,
				.verdict = XLB_CNT_TX_NAT,
				.events = EV(NAT_INSERT),
				.vip_id = 1,
				.backend = be});
}

/* With a VLAN tag: the tag stays, the rest as without. */
static void tcp4_vlan(struct tc *t)
{
	struct pkt syn = {.src = CLI4,
			  .dst = VIP4,
			  .flags = F_SYN,
			  .vlan = true,
			  .tci = 7};

	setup(t, VIP4, TCP);
	client_tx(t, "syn", &syn, ring_backend(t, &syn), PORT0, EV(NAT_INSERT));
	syn.flags = F_ACK;
	backend_reply(t, "reply", &syn, ring_backend(t, &syn), PORT0, F_ACK);
}

/* New connections take the sub-pool's ports in order. */
static void ports_in_order(struct tc *t)
{
	setup(t, VIP4, TCP);
	for (__u16 i = 0; i < 3; i++) {
		struct pkt syn = {.src = CLI4,
				  .dst = VIP4,
				  .sport = 41000 + i,
				  .flags = F_SYN};

		client_tx(t, "syn", &syn, ring_backend(t, &syn), PORT0 + i,
			  EV(NAT_INSERT));
	}
}

/* A used-up first slot: the second one's sub-pool gives the port. */
static void second_slot(struct tc *t)
{
	struct pkt syn = {.src = CLI4, .dst = VIP4, .flags = F_SYN};

	setup(t, VIP4, TCP);
	put_subpool(t, 1, 1, NAT4, 0, 4, 4, 3, 0, true);
	put_subpool(t, 1, 2, NAT4, 100, 4, 0, 3, 1, true);
	client_tx(t, "syn", &syn, ring_backend(t, &syn), PORT0 + 100,
		  EV(NAT_INSERT));
}

/* Reads the nat_events ring: the kinds and sub-pools it holds. */
struct evs {
	int n;
	struct xlb_nat_event ev[8];
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct evs *e = ctx;

	if (len == sizeof(struct xlb_nat_event) && e->n < 8)
		memcpy(&e->ev[e->n++], data, len);
	return 0;
}

static void read_events(struct tc *t, struct evs *e)
{
	struct ring_buffer *rb =
		ring_buffer__new(H.nat_events, on_event, e, NULL);

	memset(e, 0, sizeof(*e));
	if (!rb) {
		fail(t, "ring_buffer__new: %s", strerror(errno));
		return;
	}
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
}

/*
 * The hint when the port at low_at is handed out, once; the last port
 * of the only sub-pool goes, then the next connection finds none:
 * dropped and counted, with its own hint, and the connections made
 * before go on.
 */
static void low_then_exhausted(struct tc *t)
{
	struct pkt a = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct pkt b = a, c = a;
	struct frame f;
	struct evs e;

	b.sport = 41001;
	c.sport = 41002;
	setup(t, VIP4, TCP);
	put_subpool(t, 1, 1, NAT4, 0, 2, 0, 1, 0, true);
	read_events(t, &e); /* drain what earlier cases left */
	client_tx(t, "first", &a, ring_backend(t, &a), PORT0, EV(NAT_INSERT));
	read_events(t, &e);
	if (e.n)
		fail(t, "an event before the threshold (%d)", e.n);
	client_tx(t, "second", &b, ring_backend(t, &b), PORT0 + 1,
		  EV(NAT_INSERT));
	read_events(t, &e);
	if (e.n != 1 || e.ev[0].kind != XLB_NAT_EV_LOW ||
	    e.ev[0].subpool != 1 || e.ev[0].pool_id != 1 ||
	    e.ev[0].cpu != (__u32)H.cpu)
		fail(t, "want one LOW event of sub-pool 1 on cpu %d, got %d",
		     H.cpu, e.n);
	build(&f, &c);
	expect_drop(t, "third: no port", &f, XLB_CNT_DROP_NAT_POOL_EXHAUSTED,
		    0);
	read_events(t, &e);
	if (e.n != 1 || e.ev[0].kind != XLB_NAT_EV_EXHAUSTED)
		fail(t, "want one EXHAUSTED event, got %d", e.n);
	if (get_fwd(t, &c, &(struct xlb_nat_fwd){0}))
		fail(t, "an entry for the dropped connection");
	a.flags = F_ACK;
	client_tx(t, "first goes on", &a, ring_backend(t, &a), PORT0, 0);
}

/*
 * This CPU holds no port, another CPU does: the connection takes one of
 * the other's (and xlbd hears this CPU is out); with none anywhere it
 * is dropped.
 */
static void other_cpus_pool(struct tc *t)
{
	struct pkt a = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct pkt b = a;
	struct xlb_nat_subpool sp;
	struct frame f;
	struct evs e;
	__u32 id = 1;

	if (other_cpu() < 0)
		return; /* one CPU: nothing to tell apart */
	setup(t, VIP4, TCP);
	put_subpool(t, 1, 1, NAT4, 0, 1, 0, 3, 0, false);
	{
		/* setup() gave this CPU sub-pool 1: take it back. */
		struct xlb_nat_cpu *pc = calloc(H.ncpus, sizeof(*pc));
		__u32 key = 1;

		if (!pc)
			abort();
		bpf_map_lookup_elem(H.nat_cpu, &key, pc);
		memset(&pc[H.cpu], 0, sizeof(pc[H.cpu]));
		bpf_map_update_elem(H.nat_cpu, &key, pc, BPF_ANY);
		free(pc);
	}
	read_events(t, &e); /* drain what earlier cases left */
	client_tx(t, "another CPU's port", &a, ring_backend(t, &a), PORT0,
		  EV(NAT_INSERT));
	if (bpf_map_lookup_elem(H.nat_subpools, &id, &sp) || sp.next != 1)
		fail(t, "the other CPU's sub-pool: next %u, want 1", sp.next);
	/* xlbd hears this CPU wants a sub-pool; nothing was refused. */
	read_events(t, &e);
	if (e.n != 1 || e.ev[0].kind != XLB_NAT_EV_LOW || e.ev[0].subpool)
		fail(t, "want one LOW event without a sub-pool, got %d", e.n);
	/* Its one port is gone: none anywhere now. */
	b.sport = 41001;
	build(&f, &b);
	expect_drop(t, "none anywhere", &f, XLB_CNT_DROP_NAT_POOL_EXHAUSTED, 0);
	read_events(t, &e);
	if (e.n != 1 || e.ev[0].kind != XLB_NAT_EV_EXHAUSTED)
		fail(t, "want one EXHAUSTED event, got %d", e.n);
}

/* ---- no entry ---- */

/* TCP that is not a SYN makes no entry: dropped; so is an RST. */
static void tcp_no_entry(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .flags = F_ACK};
	struct frame f;

	setup(t, VIP4, TCP);
	build(&f, &p);
	expect_drop(t, "ack", &f, XLB_CNT_DROP_NAT_NO_ENTRY, 0);
	p.flags = F_RST;
	build(&f, &p);
	expect_drop(t, "rst", &f, XLB_CNT_DROP_NAT_NO_ENTRY, 0);
	p.flags = F_SYN | F_ACK;
	build(&f, &p);
	expect_drop(t, "syn-ack", &f, XLB_CNT_DROP_NAT_NO_ENTRY, 0);
	if (count_entries(H.nat_fwd) || count_entries(H.nat_rev))
		fail(t, "entries made");
}

/* To a NAT address without an entry: the kernel's, untouched. */
static void reply_no_entry(struct tc *t)
{
	struct pkt r = {.src = BE4, .dst = NAT4, .sport = 80, .dport = PORT0};
	struct frame f;

	setup(t, VIP4, TCP);
	build(&f, &r);
	expect_pass(t, "tcp", &f, XLB_CNT_PASS_NON_VIP);
	r.proto = UDP;
	build(&f, &r);
	expect_pass(t, "udp", &f, XLB_CNT_PASS_NON_VIP);
}

/* ---- the end of a connection ---- */

/*
 * FIN each way is recorded; a SYN on the ended connection reopens it
 * with the same port and backend. Then an RST, and a SYN again.
 */
static void fin_rst_reopen(struct tc *t)
{
	struct pkt syn = {.src = CLI6, .dst = VIP6, .flags = F_SYN};
	struct pkt p = syn;
	struct xlb_nat_fwd f;
	__u32 be;

	setup(t, VIP6, TCP);
	be = ring_backend(t, &syn);
	client_tx(t, "syn", &syn, be, PORT0, EV(NAT_INSERT));
	p.flags = F_FIN | F_ACK;
	client_tx(t, "client fin", &p, be, PORT0, 0);
	if (!get_fwd(t, &syn, &f) || f.flags != XLB_NAT_F_FIN_CLIENT)
		fail(t, "after the client's FIN: flags %u", f.flags);
	backend_reply(t, "backend fin", &p, be, PORT0, F_FIN | F_ACK);
	if (!get_fwd(t, &syn, &f) || f.flags != XLB_NAT_F_CLOSED)
		fail(t, "after both FINs: flags %u", f.flags);
	client_tx(t, "syn reopens", &syn, be, PORT0, EV(NAT_REOPEN));
	if (!get_fwd(t, &syn, &f) || f.flags)
		fail(t, "after the SYN: flags %u", f.flags);
	backend_reply(t, "backend rst", &p, be, PORT0, F_RST);
	if (!get_fwd(t, &syn, &f) || f.flags != XLB_NAT_F_RST)
		fail(t, "after the RST: flags %u", f.flags);
	client_tx(t, "syn after rst", &syn, be, PORT0, EV(NAT_REOPEN));
	if (count_entries(H.nat_fwd) != 1)
		fail(t, "a reopened connection made another entry");
}

/* A SYN retransmitted on an open connection changes nothing. */
static void syn_again(struct tc *t)
{
	struct pkt syn = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	__u32 be;

	setup(t, VIP4, TCP);
	be = ring_backend(t, &syn);
	client_tx(t, "syn", &syn, be, PORT0, EV(NAT_INSERT));
	client_tx(t, "syn again", &syn, be, PORT0, 0);
}

/*
 * A connection's first packet is a new flow of its VIP and backend on this
 * CPU (`xlb top`'s NEW/S); its next packets, and the reply, are not.
 */
static void new_flow_counted(struct tc *t)
{
	struct pkt syn = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct pkt data = syn;
	__u32 be;

	setup(t, VIP4, TCP);
	be = ring_backend(t, &syn);
	expect_new_flows(t, "before", 1, be, 0);
	client_tx(t, "first packet", &syn, be, PORT0, EV(NAT_INSERT));
	expect_new_flows(t, "first packet", 1, be, 1);
	data.flags = F_ACK | F_PSH;
	data.payload = 100;
	client_tx(t, "data", &data, be, PORT0, 0);
	backend_reply(t, "reply", &data, be, PORT0, F_ACK);
	expect_new_flows(t, "data and reply", 1, be, 1);
}

/* The stamp follows use, at most every XLB_FLOW_REFRESH units. */
static void stamp_refresh(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .proto = UDP};
	struct xlb_flow_key k = pkt_key(&p);
	__u32 now = xlb_flow_stamp(now_ns()), old;
	struct xlb_nat_fwd f;
	__u32 be;

	setup(t, VIP4, UDP);
	be = ring_backend(t, &p);
	client_tx(t, "first", &p, be, PORT0, EV(NAT_INSERT));
	get_fwd(t, &p, &f);
	old = now - 10 * XLB_FLOW_REFRESH;
	f.stamp = old;
	bpf_map_update_elem(H.nat_fwd, &k, &f, BPF_EXIST);
	backend_reply(t, "reply", &p, be, PORT0, 0);
	get_fwd(t, &p, &f);
	/* Refreshed: at least the 10 units it was set back (no upper
	 * bound: a busy machine may take its time between the two). */
	if ((__s32)(f.stamp - old) < 10 * XLB_FLOW_REFRESH)
		fail(t, "stamp %u not refreshed (set to %u, clock ~%u)",
		     f.stamp, old, now);
}

/* ---- backends ---- */

/*
 * Draining: the connection goes on. Down: its packets drop (xlbd's
 * sweep removes it); a new connection goes to a live backend.
 */
static void backend_down(struct tc *t)
{
	struct pkt syn = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct pkt p = syn, syn2 = syn;
	struct frame f;
	__u32 be, be2;

	setup(t, VIP4, TCP);
	be = ring_backend(t, &syn);
	client_tx(t, "syn", &syn, be, PORT0, EV(NAT_INSERT));
	p.flags = F_ACK;
	set_backend_state(t, be, XLB_BACKEND_DRAIN);
	client_tx(t, "draining", &p, be, PORT0, 0);
	set_backend_state(t, be, XLB_BACKEND_DOWN);
	build(&f, &p);
	expect_drop(t, "down", &f, XLB_CNT_DROP_NAT_BACKEND_DOWN, 0);
	/* The same client port hashes to the same slot: another port. */
	syn2.sport = 40001;
	for (;;) {
		bool repick;
		struct xlb_flow_key k = pkt_key(&syn2);

		be2 = ring_pick(t, vip1(t, &k), &k, &repick);
		if (!repick)
			break;
		syn2.sport++;
	}
	client_tx(t, "new connection", &syn2, be2, PORT0 + 1, EV(NAT_INSERT));
}

/* An entry whose backend id now names another host drops its packets. */
static void backend_replaced(struct tc *t)
{
	struct pkt syn = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct frame f;
	__u32 be;

	setup(t, VIP4, TCP);
	be = ring_backend(t, &syn);
	client_tx(t, "syn", &syn, be, PORT0, EV(NAT_INSERT));
	set_backend(t, be, "198.18.99.99", XLB_BACKEND_UP);
	syn.flags = F_ACK;
	build(&f, &syn);
	expect_drop(t, "replaced", &f, XLB_CNT_DROP_NAT_BACKEND_DOWN, 0);
}

/* ---- ICMP errors ---- */

/*
 * An ICMP error (type, code, 4 more bytes) from src to dst quoting the
 * first `quote` bytes of packet q.
 */
static void icmp_err(struct frame *f, const char *src, const char *dst,
		     __u8 type, __u8 code, __u32 rest, const struct pkt *q,
		     __u32 quote)
{
	bool v6 = strchr(src, ':') != NULL;
	static __u8 l4[FRAME_MAX];
	struct frame inner;
	__u32 n;

	build(&inner, q);
	n = inner.len - inner.l2;
	if (quote && quote < n)
		n = quote;
	memset(l4, 0, 8);
	l4[0] = type;
	l4[1] = code;
	l4[4] = rest >> 24;
	l4[5] = rest >> 16;
	l4[6] = rest >> 8;
	l4[7] = rest;
	memcpy(l4 + 8, inner.d + inner.l2, n);
	build(f, &(struct pkt){.src = src,
			       .dst = dst,
			       .proto = v6 ? ICMP6 : ICMP,
			       .l4 = l4,
			       .l4_len = 8 + n});
}

/*
 * From the client's side: an error about what the VIP sent the client
 * (the reply VIP -> client) goes to the backend from the NAT address,
 * about the backend's own reply (backend -> NAT address).
 */
static void icmp_in(struct tc *t, const char *vip, const char *cli,
		    const char *rtr, __u8 proto, __u8 type, __u8 code,
		    __u32 rest, __u32 quote)
{
	bool v6 = strchr(vip, ':') != NULL;
	const char *nat = v6 ? NAT6 : NAT4;
	struct pkt syn = {.src = cli,
			  .dst = vip,
			  .proto = proto,
			  .flags = F_SYN,
			  .payload = 40};
	struct pkt sent = {.src = vip,
			   .dst = cli,
			   .proto = proto,
			   .sport = 80,
			   .dport = 40000,
			   .payload = 40};
	struct pkt orig = sent;
	char bs[INET6_ADDRSTRLEN];
	struct frame in, want;
	__u32 be;

	setup(t, vip, proto);
	be = ring_backend(t, &syn);
	client_tx(t, "first packet", &syn, be, PORT0, EV(NAT_INSERT));
	icmp_err(&in, rtr, vip, type, code, rest, &sent, quote);
	orig.src = astr(&t->be[be].addr, t->be[be].family, bs);
	orig.dst = nat;
	orig.dport = PORT0;
	icmp_err(&want, nat, orig.src, type, code, rest, &orig, quote);
	memcpy(want.d, MAC_GW, 6);
	memcpy(want.d + 6, src_mac(&t->cfg, &in), 6);
	run_step(t, PROG_BALANCE,
		 &(struct step){.what = "icmp error",
				.in = &in,
				.action = XDP_TX,
				.out = &want,
				.verdict = XLB_CNT_TX_NAT_ICMP,
				.vip_id = -1});
}

static void icmp_in4_frag_needed(struct tc *t)
{
	icmp_in(t, VIP4, CLI4, RTR4, TCP, 3, 4, 1400, 0);
}

static void icmp_in4_time_exceeded_cut(struct tc *t)
{
	/* Only 8 bytes of TCP quoted: no TCP checksum to follow. */
	icmp_in(t, VIP4, CLI4, RTR4, TCP, 11, 0, 0, 28);
}

static void icmp_in6_too_big(struct tc *t)
{
	icmp_in(t, VIP6, CLI6, RTR6, TCP, 2, 0, 1280, 0);
}

static void icmp_in6_udp_unreach(struct tc *t)
{
	icmp_in(t, VIP6, CLI6, RTR6, UDP, 1, 4, 0, 0);
}

/*
 * From the backend's side: an error about what we sent the backend
 * (NAT address -> backend) goes to the client from the VIP, about the
 * client's own packet (client -> VIP).
 */
static void icmp_out(struct tc *t, const char *vip, const char *cli, __u8 proto,
		     __u8 type, __u8 code, __u32 quote)
{
	bool v6 = strchr(vip, ':') != NULL;
	const char *nat = v6 ? NAT6 : NAT4;
	struct pkt syn = {.src = cli,
			  .dst = vip,
			  .proto = proto,
			  .flags = F_SYN,
			  .payload = 40};
	struct pkt sent = syn, orig = syn;
	char bs[INET6_ADDRSTRLEN];
	struct frame in, want;
	__u32 be;

	setup(t, vip, proto);
	be = ring_backend(t, &syn);
	client_tx(t, "first packet", &syn, be, PORT0, EV(NAT_INSERT));
	sent.src = nat;
	sent.sport = PORT0;
	sent.dst = astr(&t->be[be].addr, t->be[be].family, bs);
	icmp_err(&in, sent.dst, nat, type, code, 0, &sent, quote);
	icmp_err(&want, vip, cli, type, code, 0, &orig, quote);
	memcpy(want.d, MAC_GW, 6);
	memcpy(want.d + 6, src_mac(&t->cfg, &in), 6);
	run_step(t, PROG_BALANCE,
		 &(struct step){.what = "icmp error",
				.in = &in,
				.action = XDP_TX,
				.out = &want,
				.verdict = XLB_CNT_TX_NAT_ICMP,
				.vip_id = -1});
}

static void icmp_out4_port_unreach(struct tc *t)
{
	icmp_out(t, VIP4, CLI4, UDP, 3, 3, 0);
}

static void icmp_out4_tcp(struct tc *t)
{
	icmp_out(t, VIP4, CLI4, TCP, 3, 1, 64);
}

static void icmp_out6_unreach(struct tc *t)
{
	icmp_out(t, VIP6, CLI6, TCP, 1, 3, 0);
}

/* Errors about no connection: to the VIP dropped, to a NAT address the
 * kernel's. */
static void icmp_no_entry(struct tc *t)
{
	struct pkt sent = {
		.src = VIP4, .dst = CLI4, .sport = 80, .dport = 40000};
	struct pkt to_be = {
		.src = NAT4, .dst = BE4, .sport = PORT0, .dport = 80};
	struct frame f;

	setup(t, VIP4, TCP);
	icmp_err(&f, RTR4, VIP4, 3, 4, 1400, &sent, 0);
	expect_drop(t, "to the VIP", &f, XLB_CNT_DROP_ICMP, 0);
	icmp_err(&f, BE4, NAT4, 3, 3, 0, &to_be, 0);
	expect_pass(t, "to the NAT address", &f, XLB_CNT_PASS_NON_VIP);
}

/* An echo request to a NAT VIP is answered as for any VIP. */
static void echo(struct tc *t)
{
	struct frame f;

	setup(t, VIP4, TCP);
	build(&f, &(struct pkt){.src = CLI4,
				.dst = VIP4,
				.proto = ICMP,
				.icmp_type = 8,
				.payload = 20});
	expect_echo_tx(t, "echo", &f);
}

/* A DSR VIP still drops the errors it never forwarded. */
static void dsr_time_exceeded(struct tc *t)
{
	struct pkt sent = {
		.src = VIP4, .dst = CLI4, .sport = 80, .dport = 40000};
	struct frame f;

	setup13(t, TCP, 0);
	icmp_err(&f, RTR4, VIP4, 11, 0, 0, &sent, 0);
	expect_drop(t, "time exceeded", &f, XLB_CNT_DROP_ICMP, 0);
}

const struct golden_case cases_nat[] = {
	{"nat_tcp4", "SYN, data, reply through a NAT VIP", PROG_BALANCE, tcp4},
	{"nat_tcp6", "the same in IPv6", PROG_BALANCE, tcp6},
	{"nat_udp4", "UDP both ways", PROG_BALANCE, udp4},
	{"nat_udp6", "UDP in IPv6", PROG_BALANCE, udp6},
	{"nat_udp4_no_csum", "an IPv4 UDP checksum of 0 stays 0", PROG_BALANCE,
	 udp4_no_csum},
	{"nat_tcp4_vlan", "a VLAN tag is kept both ways", PROG_BALANCE,
	 tcp4_vlan},
	{"nat_ports_in_order", "ports of a sub-pool in order", PROG_BALANCE,
	 ports_in_order},
	{"nat_second_slot", "a used-up slot is skipped", PROG_BALANCE,
	 second_slot},
	{"nat_low_then_exhausted", "threshold hint, then no port: dropped",
	 PROG_BALANCE, low_then_exhausted},
	{"nat_other_cpus_pool", "none here: another CPU's port, then none",
	 PROG_BALANCE, other_cpus_pool},
	{"nat_tcp_no_entry", "TCP without an entry, not a SYN: dropped",
	 PROG_BALANCE, tcp_no_entry},
	{"nat_reply_no_entry", "to a NAT address, no entry: passed",
	 PROG_BALANCE, reply_no_entry},
	{"nat_fin_rst_reopen", "FINs and RST recorded, a SYN reopens",
	 PROG_BALANCE, fin_rst_reopen},
	{"nat_syn_again", "a retransmitted SYN keeps its port", PROG_BALANCE,
	 syn_again},
	{"nat_stamp_refresh", "a reply refreshes the stamp", PROG_BALANCE,
	 stamp_refresh},
	{"nat_new_flow_counted", "first packet counts a new flow, once",
	 PROG_BALANCE, new_flow_counted},
	{"nat_backend_down", "drain goes on, down drops, new goes elsewhere",
	 PROG_BALANCE, backend_down},
	{"nat_backend_replaced", "backend id of another host: dropped",
	 PROG_BALANCE, backend_replaced},
	{"nat_icmp_in4_frag_needed", "frag needed to the VIP -> backend",
	 PROG_BALANCE, icmp_in4_frag_needed},
	{"nat_icmp_in4_time_exceeded_cut", "8 bytes of TCP quoted",
	 PROG_BALANCE, icmp_in4_time_exceeded_cut},
	{"nat_icmp_in6_too_big", "packet too big to the VIP -> backend",
	 PROG_BALANCE, icmp_in6_too_big},
	{"nat_icmp_in6_udp_unreach", "unreachable about UDP -> backend",
	 PROG_BALANCE, icmp_in6_udp_unreach},
	{"nat_icmp_out4_port_unreach", "port unreachable -> client",
	 PROG_BALANCE, icmp_out4_port_unreach},
	{"nat_icmp_out4_tcp", "host unreachable about TCP -> client",
	 PROG_BALANCE, icmp_out4_tcp},
	{"nat_icmp_out6_unreach", "ICMPv6 unreachable -> client", PROG_BALANCE,
	 icmp_out6_unreach},
	{"nat_icmp_no_entry", "errors about no connection", PROG_BALANCE,
	 icmp_no_entry},
	{"nat_echo", "echo to a NAT VIP answered", PROG_BALANCE, echo},
	{"nat_dsr_time_exceeded", "DSR drops errors it never forwarded",
	 PROG_BALANCE, dsr_time_exceeded},
	{0},
};
