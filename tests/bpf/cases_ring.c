// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Golden cases of the ring pick (rule 6): slots skipped when their backend
 * is draining, down or unset, the bound on re-picks and their wrap-around,
 * empty and missing rings, table sizes up to the default 65537, the two
 * halves of a ring and the byte that picks one; and the
 * hash flags that make packets share a slot (rule 5).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "golden.h"

/*
 * Ring pick with slots at and after the hashed one not usable: `n` slots
 * set to state, then the pick must land n slots on (or nowhere).
 */
static void skip_slots(struct tc *t, __u8 state, __u32 n, bool none)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct xlb_flow_key k = pkt_key(&p);
	const struct xlb_vip *v;
	struct frame f;
	__u32 s, be, *slots;

	setup13(t, TCP, 0);
	v = vip1(t, &k);
	s = slot_of(v, &k);
	slots = t->ring[1].slot;
	for (__u32 i = 0; i < n; i++) {
		__u32 id = slots[(s + i) % 13];

		if (state == XLB_BACKEND_UNUSED)
			slots[(s + i) % 13] = 0; /* "no backend" slot */
		else
			set_backend_state(t, id, state);
	}
	if (state == XLB_BACKEND_UNUSED) {
		__u32 copy[13];

		memcpy(copy, slots, sizeof(copy));
		set_ring(t, 1, 13, copy);
	}
	if (none) {
		build(&f, &p);
		/* Whether a failed pick counts a re-pick is not specified. */
		run_step(t, PROG_BALANCE,
			 &(struct step){.what = "syn",
					.in = &f,
					.action = XDP_DROP,
					.verdict = XLB_CNT_DROP_NO_BACKEND,
					.ignore = EV(FAILOVER_REPICK),
					.vip_id = -1});
		expect_no_flow(t, &k);
		return;
	}
	slots = t->ring[1].slot; /* set_ring replaced the shadow */
	be = tx_ring(t, "syn", &p, EV(FLOW_INSERT));
	if (be != slots[(s + n) % 13])
		fail(t, "test bug: pick %u is not slot +%u", be, n);
	expect_flow(t, &k, be);
}

static void drain_new_flow(struct tc *t)
{
	skip_slots(t, XLB_BACKEND_DRAIN, 1, false);
}

static void down_two_slots(struct tc *t)
{
	skip_slots(t, XLB_BACKEND_DOWN, 2, false);
}

static void zero_slot(struct tc *t)
{
	skip_slots(t, XLB_BACKEND_UNUSED, 1, false);
}

static void repick_last_try(struct tc *t)
{
	skip_slots(t, XLB_BACKEND_DOWN, XLB_REPICK_TRIES, false);
}

static void repick_bound(struct tc *t)
{
	/* Slot + 9 is up, but only 8 more slots are tried. */
	skip_slots(t, XLB_BACKEND_DOWN, XLB_REPICK_TRIES + 1, true);
}

static void all_down(struct tc *t)
{
	skip_slots(t, XLB_BACKEND_DOWN, 13, true);
}

/* The hashed slot is the ring's last: the re-pick wraps to slot 0. */
static void repick_wraps(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct xlb_flow_key k;
	__u32 be;

	setup13(t, TCP, 0);
	for (p.sport = 1024; p.sport < 65535; p.sport++) {
		k = pkt_key(&p);
		if (slot_of(vip1(t, &k), &k) == 12)
			break;
	}
	set_backend_state(t, t->ring[1].slot[12], XLB_BACKEND_DOWN);
	be = tx_ring(t, "syn", &p, EV(FLOW_INSERT));
	if (be != t->ring[1].slot[0])
		fail(t, "test bug: pick did not wrap");
}

/*
 * The two halves of a ring (see struct xlb_vip): half 1 holds other
 * backends than half 0. Only the half ring_half names is read; flipping
 * the byte switches every new pick at once; the re-pick walk wraps inside
 * the half (from its last slot to its first, not into the other half or
 * past the map).
 */
static void ring_halves(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	__u32 half0[13], half1[13], be;
	struct xlb_flow_key k;
	char name[32];

	setup13(t, TCP, 0);
	memcpy(half0, t->ring[1].slot, sizeof(half0));
	for (__u32 i = 0; i < 13; i++) {
		half1[i] = 2001 + i;
		snprintf(name, sizeof(name), "198.18.9.%u", 1 + i);
		set_backend(t, half1[i], name, XLB_BACKEND_UP);
	}
	set_ring_halves(t, 1, 13, half0, half1);
	for (p.sport = 1024; p.sport < 65535; p.sport++) {
		k = pkt_key(&p);
		if (slot_of(vip1(t, &k), &k) == 12)
			break;
	}
	be = tx_ring(t, "syn, half 0 in force", &p, EV(FLOW_INSERT));
	if (be != half0[12])
		fail(t, "test bug: half 0 pick %u is not slot 12", be);

	set_vip_half(t, 1, 1);
	memcpy(t->ring[1].slot, half1, sizeof(half1));
	be = tx_ring(t, "syn, half 1 in force", &p, EV(FLOW_INSERT));
	if (be != half1[12])
		fail(t, "test bug: half 1 pick %u is not slot 12", be);

	set_backend_state(t, half1[12], XLB_BACKEND_DOWN);
	be = tx_ring(t, "syn, last slot of half 1 down", &p,
		     EV(FLOW_INSERT) | EV(FAILOVER_REPICK));
	if (be != half1[0])
		fail(t, "test bug: pick %u did not wrap to half 1's slot 0",
		     be);

	set_vip_half(t, 1, 0);
	memcpy(t->ring[1].slot, half0, sizeof(half0));
	be = tx_ring(t, "syn, half 0 again", &p, EV(FLOW_INSERT));
	if (be != half0[12])
		fail(t, "test bug: pick %u is not half 0's slot 12", be);
}

static void ring_empty(struct tc *t)
{
	struct pkt p = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	__u32 slots[13] = {0};
	struct frame f;

	setup13(t, TCP, 0);
	set_ring(t, 1, 13, slots);
	build(&f, &p);
	run_step(t, PROG_BALANCE,
		 &(struct step){.what = "syn",
				.in = &f,
				.action = XDP_DROP,
				.verdict = XLB_CNT_DROP_NO_BACKEND,
				.ignore = EV(FAILOVER_REPICK),
				.vip_id = -1});
}

static void ring_missing(struct tc *t)
{
	struct xlb_config c = base_config();
	struct pkt p = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct frame f;

	set_config(t, &c);
	add_vip_addr(t, VIP4);
	add_vip(t, VIP4, 80, TCP, 3, 0, 13, XLB_ENCAP_DEFAULT);
	set_backend(t, 1, BE4, XLB_BACKEND_UP);
	build(&f, &p);
	expect_drop(t, "syn", &f, XLB_CNT_DROP_NO_RING, 0);
}

static void ring_65537(struct tc *t)
{
	struct xlb_config c = base_config();
	__u32 *slots = malloc(XLB_RING_SIZE_DEFAULT * sizeof(__u32));
	char name[32];

	if (!slots)
		abort();
	set_config(t, &c);
	add_vip_addr(t, VIP4);
	add_vip(t, VIP4, 80, TCP, 1, 0, XLB_RING_SIZE_DEFAULT,
		XLB_ENCAP_DEFAULT);
	for (__u32 i = 1; i <= 64; i++) {
		snprintf(name, sizeof(name), "198.18.3.%u", i);
		set_backend(t, i, name, XLB_BACKEND_UP);
	}
	for (__u32 i = 0; i < XLB_RING_SIZE_DEFAULT; i++)
		slots[i] = 1 + (i * 7) % 64;
	set_ring(t, 1, XLB_RING_SIZE_DEFAULT, slots);
	free(slots);
	for (__u16 sp = 50000; sp < 50004; sp++) {
		struct pkt p = {
			.src = CLI4, .dst = VIP4, .sport = sp, .flags = F_SYN};

		tx_ring(t, "syn", &p, EV(FLOW_INSERT));
	}
}

static void ring_101_v6(struct tc *t)
{
	struct xlb_config c = base_config();

	set_config(t, &c);
	std_vip(t, VIP6, 443, UDP, 2, 0, 101, true);
	for (__u16 sp = 1000; sp < 1004; sp++) {
		struct pkt p = {.src = CLI6,
				.dst = VIP6,
				.proto = UDP,
				.sport = sp,
				.dport = 443};

		tx_ring(t, "udp", &p, EV(FLOW_MISS) | EV(FLOW_INSERT));
	}
}

/*
 * Hash flags. Two packets the flag makes equal; chosen so that without
 * the flag they land in different slots, so a program ignoring the flag
 * sends them to different backends and fails.
 */
static void hash_flag(struct tc *t, __u32 flag)
{
	struct pkt a = {.src = CLI4, .dst = VIP4, .flags = F_SYN};
	struct pkt b = a;
	struct xlb_flow_key ka = pkt_key(&a), kb;
	const struct xlb_vip *v;
	struct xlb_vip plain;
	static char src[32];
	__u32 be1, be2, i;

	setup13(t, TCP, flag);
	v = vip1(t, &ka);
	plain = *v;
	plain.flags = 0;
	for (i = 1; i < 60000; i++) {
		if (flag & XLB_VIP_F_NO_SPORT) {
			b.sport = (__u16)(40000 + i);
		} else {
			snprintf(src, sizeof(src), "198.18.%u.%u", 10 + i / 250,
				 1 + i % 250);
			b.src = src;
		}
		kb = pkt_key(&b);
		if (slot_of(&plain, &ka) != slot_of(&plain, &kb))
			break;
	}
	if (slot_of(v, &ka) != slot_of(v, &kb))
		fail(t, "test bug: flag does not make the slots equal");
	be1 = tx_ring(t, "first", &a, EV(FLOW_INSERT));
	be2 = tx_ring(t, "second", &b, EV(FLOW_INSERT));
	if (be1 != be2)
		fail(t, "test bug: backends %u and %u differ", be1, be2);
}

static void hash_no_sport(struct tc *t)
{
	hash_flag(t, XLB_VIP_F_NO_SPORT);
}

static void hash_dport_only(struct tc *t)
{
	hash_flag(t, XLB_VIP_F_DPORT_ONLY);
}

const struct golden_case cases_ring[] = {
	{"ring_drain_skipped", "new flow skips a draining slot", PROG_BALANCE,
	 drain_new_flow},
	{"ring_down_two_slots", "two down slots, one re-pick count",
	 PROG_BALANCE, down_two_slots},
	{"ring_zero_slot_skipped", "slot holding id 0 skipped", PROG_BALANCE,
	 zero_slot},
	{"ring_repick_last_try", "slot + XLB_REPICK_TRIES still tried",
	 PROG_BALANCE, repick_last_try},
	{"ring_repick_bound", "no more than XLB_REPICK_TRIES re-picks",
	 PROG_BALANCE, repick_bound},
	{"ring_repick_wraps", "re-pick from the last slot wraps to 0",
	 PROG_BALANCE, repick_wraps},
	{"ring_all_down", "every backend down: drop", PROG_BALANCE, all_down},
	{"ring_halves", "only the half in force is read; the flip switches",
	 PROG_BALANCE, ring_halves},
	{"ring_empty", "ring of zero slots: drop", PROG_BALANCE, ring_empty},
	{"ring_missing", "VIP without a ring: drop", PROG_BALANCE,
	 ring_missing},
	{"ring_size_65537", "default table size", PROG_BALANCE, ring_65537},
	{"ring_size_101_v6", "v6 UDP VIP on a 101-slot ring", PROG_BALANCE,
	 ring_101_v6},
	{"hash_no_sport", "NO_SPORT: sport does not move the slot",
	 PROG_BALANCE, hash_no_sport},
	{"hash_dport_only", "DPORT_ONLY: source does not move the slot",
	 PROG_BALANCE, hash_dport_only},
	{0},
};
