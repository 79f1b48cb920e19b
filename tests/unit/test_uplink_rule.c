// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The uplink selection rule of include/xlb/uplink.h (xlb_uplink_pick and
 * xlb_uplink_account, the very functions the data path runs), driven by
 * a simulation of one CPU: flows arrive over simulated time with sizes
 * from a heavy-tailed (Pareto) distribution, each sends at its own rate
 * in 1 ms steps, each new flow takes the rule's pick and keeps it, and
 * the byte windows turn as they do in the program. Checked: the measured
 * byte shares converge on the targets (1:3, 1:1:2) within 5% of the
 * bytes; an uplink without bytes wins; a down uplink is never picked;
 * no flow moves while its uplink is up, and all of a down one's move
 * (to live ones) on their next packet; a returning uplink takes new
 * flows again.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <xlb/uplink.h>

#define MS	    1000000ULL
#define STEP_NS	    MS
#define MAX_FLOWS   20000
#define FLOW_RATE_B 2000000 /* bytes per second a flow sends at most */

struct flow {
	__u64 left;   /* bytes still to send */
	__u32 rate;   /* bytes per second */
	__u32 uplink; /* the recorded choice */
};

struct sim {
	struct xlb_uplink_set set;
	struct xlb_uplink_load load;
	struct flow f[MAX_FLOWS];
	int n;
	__u64 now, rng;
	__u64 moved_while_up, moved_off_down, picked_down, dropped;
	__u64 new_flows[XLB_MAX_UPLINKS];
};

static __u64 rnd(struct sim *s)
{
	/* xorshift64*: a fixed seed, the same run every time. */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ULL;
}

static double unif(struct sim *s)
{
	return ((rnd(s) >> 11) + 0.5) / (double)(1ULL << 53);
}

/* Pareto, alpha 1.2, from 4 KB, capped at 64 MB: mice and elephants. */
static __u64 flow_size(struct sim *s)
{
	double x = 4096.0 / pow(unif(s), 1 / 1.2);

	return x > 64e6 ? 64000000 : (__u64)x;
}

static void sim_init(struct sim *s, const __u16 *shares, int n)
{
	memset(s, 0, sizeof(*s));
	s->rng = 0x9e3779b97f4a7c15ULL;
	s->now = 1000 * MS;
	for (int i = 0; i < n; i++) {
		s->set.u[i + 1].state = XLB_UPLINK_UP;
		s->set.u[i + 1].share = shares[i];
		s->set.u[i + 1].ifindex = 10 + i;
	}
}

/* A frame of flow f, as the data path handles it. */
static void send(struct sim *s, struct flow *f, __u32 bytes)
{
	if (s->set.u[f->uplink].state != XLB_UPLINK_UP) {
		__u32 to;

		xlb_uplink_age(&s->load, s->now);
		to = xlb_uplink_pick(&s->set, &s->load);
		xlb_uplink_charge(&s->load, to);

		if (!to) {
			s->dropped++;
			return;
		}
		if (s->set.u[to].state != XLB_UPLINK_UP)
			s->picked_down++;
		s->load.failovers[f->uplink]++;
		s->moved_off_down++;
		f->uplink = to;
	}
	xlb_uplink_account(&s->load, f->uplink, bytes);
}

static void new_flow(struct sim *s)
{
	struct flow *f;
	__u32 u;

	xlb_uplink_age(&s->load, s->now);
	u = xlb_uplink_pick(&s->set, &s->load);
	xlb_uplink_charge(&s->load, u);

	if (!u || s->n == MAX_FLOWS)
		return;
	if (s->set.u[u].state != XLB_UPLINK_UP)
		s->picked_down++;
	f = &s->f[s->n++];
	f->left = flow_size(s);
	f->rate = FLOW_RATE_B / 8 + rnd(s) % FLOW_RATE_B;
	f->uplink = u;
	s->new_flows[u]++;
}

/*
 * ms milliseconds: per_s new flows a second, each live flow sending its
 * rate's worth in 1500-byte frames per step. A flow keeps its uplink
 * unless the data path's rule moves it (send); any other change of
 * f->uplink would be a move while up.
 */
static void run(struct sim *s, int ms, int per_s)
{
	for (int t = 0; t < ms; t++) {
		s->now += STEP_NS;
		for (int k = 0; k < per_s / 1000 ||
				(k == 0 && (int)(rnd(s) % 1000) < per_s % 1000);
		     k++)
			new_flow(s);
		for (int i = 0; i < s->n; i++) {
			struct flow *f = &s->f[i];
			__u32 before = f->uplink, was_up;
			__u64 b = f->rate / 1000;

			was_up = s->set.u[before].state == XLB_UPLINK_UP;
			if (b > f->left)
				b = f->left;
			while (b) {
				__u32 fr = b > 1500 ? 1500 : (__u32)b;

				send(s, f, fr);
				b -= fr;
				f->left -= fr;
			}
			if (was_up && f->uplink != before)
				s->moved_while_up++;
			if (!f->left)
				s->f[i--] = s->f[--s->n];
		}
	}
}

/* Each uplink's share of the bytes sent between two readings. */
static void shares_since(const struct sim *s, const __u64 *base, double *out)
{
	__u64 total = 0;

	for (int i = 1; i < XLB_MAX_UPLINKS; i++)
		total += s->load.bytes[i] - base[i];
	for (int i = 1; i < XLB_MAX_UPLINKS; i++)
		out[i] = total ? (double)(s->load.bytes[i] - base[i]) / total
			       : 0;
}

static void converges(const __u16 *shares, int n)
{
	static struct sim s;
	__u64 base[XLB_MAX_UPLINKS];
	double got[XLB_MAX_UPLINKS], sum = 0;

	sim_init(&s, shares, n);
	for (int i = 0; i < n; i++)
		sum += shares[i];
	run(&s, 10000, 400); /* warm up: the elephants arrive */
	memcpy(base, s.load.bytes, sizeof(base));
	run(&s, 60000, 400);
	shares_since(&s, base, got);
	for (int i = 0; i < n; i++) {
		double want = shares[i] / sum;

		print_message("uplink %d: target %.3f measured %.4f\n", i + 1,
			      want, got[i + 1]);
		/* Within 5% of the target's bytes. */
		assert_true(fabs(got[i + 1] - want) <= 0.05 * want);
	}
	assert_int_equal(s.moved_while_up, 0);
	assert_int_equal(s.picked_down, 0);
}

static void test_converges_1_3(void **state)
{
	static const __u16 shares[] = {1, 3};

	(void)state;
	converges(shares, 2);
}

static void test_converges_1_1_2(void **state)
{
	static const __u16 shares[] = {1, 1, 2};

	(void)state;
	converges(shares, 3);
}

/* Shares are relative: 100:300 is 1:3. */
static void test_converges_scaled(void **state)
{
	static const __u16 shares[] = {300, 100};

	(void)state;
	converges(shares, 2);
}

static void test_no_bytes_wins(void **state)
{
	static const __u16 shares[] = {1, 1, 1};
	static struct sim s;

	(void)state;
	sim_init(&s, shares, 3);
	s.load.cur[1] = 1000;
	s.load.cur[3] = 10;
	assert_int_equal(xlb_uplink_pick(&s.set, &s.load), 2);
	/* None has bytes: the larger share wins, then the lower id. */
	memset(&s.load, 0, sizeof(s.load));
	s.set.u[3].share = 5;
	assert_int_equal(xlb_uplink_pick(&s.set, &s.load), 3);
	s.set.u[3].share = 1;
	assert_int_equal(xlb_uplink_pick(&s.set, &s.load), 1);
	/* Half of the last window still counts: prev 1000 > cur 400. */
	s.load.prev[1] = 1000;
	s.load.cur[2] = 400;
	s.load.cur[3] = 600;
	assert_int_equal(xlb_uplink_pick(&s.set, &s.load), 2);
}

/*
 * A burst of new flows chosen before any of them sends (keep-alive
 * clients connecting at once, at shares already met): split by the
 * shares, not all to the uplink furthest below its share at the start.
 * Then, once as many bytes have gone out, the pending bytes are gone.
 */
static void test_burst_spreads(void **state)
{
	static const __u16 shares[] = {1, 3};
	static struct sim s;
	int n[XLB_MAX_UPLINKS] = {0};

	(void)state;
	sim_init(&s, shares, 2);
	s.load.cur[1] = 1000000;
	s.load.cur[2] = 3000003; /* 2 a hair above its share */
	s.load.flows_cur = 40;
	for (int i = 0; i < 40; i++) {
		__u32 u;

		xlb_uplink_age(&s.load, s.now);
		u = xlb_uplink_pick(&s.set, &s.load);
		xlb_uplink_charge(&s.load, u);
		n[u]++;
	}
	print_message("burst of 40: %d on uplink 1, %d on uplink 2\n", n[1],
		      n[2]);
	assert_true(n[1] >= 9 && n[1] <= 11);
	assert_int_equal(n[1] + n[2], 40);
	xlb_uplink_account(&s.load, 2, 8000000);
	xlb_uplink_age(&s.load, s.now);
	assert_int_equal(s.load.pend[1] + s.load.pend[2], 0);
}

static void test_down_never_picked(void **state)
{
	static const __u16 shares[] = {1, 3};
	static struct sim s;

	(void)state;
	sim_init(&s, shares, 2);
	/* Uplink 2 is down but has no bytes: it would win if up. */
	s.set.u[2].state = XLB_UPLINK_DOWN;
	s.load.cur[1] = 1 << 30;
	assert_int_equal(xlb_uplink_pick(&s.set, &s.load), 1);
	s.set.u[1].state = XLB_UPLINK_DOWN;
	assert_int_equal(xlb_uplink_pick(&s.set, &s.load), 0);
	s.set.u[1].state = XLB_UPLINK_UNUSED;
	assert_int_equal(xlb_uplink_pick(&s.set, &s.load), 0);
	/* Under traffic: new flows only on 1 while 2 is down. */
	sim_init(&s, shares, 2);
	s.set.u[2].state = XLB_UPLINK_DOWN;
	run(&s, 3000, 400);
	assert_int_equal(s.new_flows[2], 0);
	assert_true(s.new_flows[1] > 1000);
	assert_int_equal(s.load.bytes[2], 0);
	assert_int_equal(s.picked_down, 0);
}

/*
 * Flows stay on their uplink while it is up; when one goes down every
 * flow on it moves on its next packet, to a live one, and none other;
 * back up, it takes new flows again and no old flow comes back.
 */
static void test_moves_only_off_down(void **state)
{
	static const __u16 shares[] = {1, 1, 2};
	static struct sim s;
	__u64 on2 = 0, moved, new2;

	(void)state;
	sim_init(&s, shares, 3);
	run(&s, 5000, 400);
	assert_int_equal(s.moved_while_up, 0);
	assert_int_equal(s.moved_off_down, 0);
	for (int i = 0; i < s.n; i++)
		on2 += s.f[i].uplink == 2;
	assert_true(on2 > 0);
	s.set.u[2].state = XLB_UPLINK_DOWN;
	run(&s, 1, 0); /* one step: every live flow sends a frame */
	assert_int_equal(s.moved_off_down, on2);
	assert_int_equal(s.load.failovers[2], on2);
	for (int i = 0; i < s.n; i++)
		assert_int_not_equal(s.f[i].uplink, 2);
	moved = s.moved_off_down;
	run(&s, 3000, 400);
	assert_int_equal(s.moved_off_down, moved);
	assert_int_equal(s.moved_while_up, 0);
	assert_int_equal(s.picked_down, 0);
	/* Back: new flows again, the moved ones stay where they went. */
	new2 = s.new_flows[2];
	s.set.u[2].state = XLB_UPLINK_UP;
	run(&s, 3000, 400);
	assert_true(s.new_flows[2] > new2 + 100);
	assert_int_equal(s.moved_off_down, moved);
	assert_int_equal(s.moved_while_up, 0);
	/* All down: frames are dropped, nothing is moved anywhere. */
	for (int i = 1; i <= 3; i++)
		s.set.u[i].state = XLB_UPLINK_DOWN;
	run(&s, 10, 0);
	assert_true(s.dropped > 0);
	assert_int_equal(s.picked_down, 0);
}

/*
 * The window turns at a choice once XLB_UPLINK_WINDOW_NS has passed: cur
 * into prev; after several windows without a choice, their mean.
 */
static void test_window_turns(void **state)
{
	struct xlb_uplink_load l = {0};
	const __u64 w = XLB_UPLINK_WINDOW_NS;

	(void)state;
	xlb_uplink_age(&l, w);
	xlb_uplink_account(&l, 1, 100);
	xlb_uplink_age(&l, w + 10);
	xlb_uplink_account(&l, 1, 50);
	assert_int_equal(l.cur[1], 150);
	xlb_uplink_age(&l, 2 * w - 1);
	assert_int_equal(l.cur[1], 150);
	xlb_uplink_age(&l, 2 * w);
	xlb_uplink_account(&l, 2, 7);
	assert_int_equal(l.prev[1], 150);
	assert_int_equal(l.cur[1], 0);
	assert_int_equal(l.cur[2], 7);
	assert_int_equal(xlb_uplink_recent(&l, 1), 75);
	assert_int_equal(l.bytes[1], 150);
	assert_int_equal(l.packets[1], 2);
	/* four windows later: a quarter of them each */
	xlb_uplink_account(&l, 2, 393);
	xlb_uplink_age(&l, 6 * w);
	assert_int_equal(l.prev[2], 100);
	assert_int_equal(l.prev[1], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converges_1_3),
		cmocka_unit_test(test_converges_1_1_2),
		cmocka_unit_test(test_converges_scaled),
		cmocka_unit_test(test_no_bytes_wins),
		cmocka_unit_test(test_burst_spreads),
		cmocka_unit_test(test_down_never_picked),
		cmocka_unit_test(test_moves_only_off_down),
		cmocka_unit_test(test_window_turns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
