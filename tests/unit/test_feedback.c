// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The weight policy's feedback, with a fake clock: agent reports (factor,
 * state words, hysteresis, stale fallback, malformed replies never a
 * weight) and the byte-share loop, driven by a simulated workload whose
 * flows are assigned to backends by the effective weights the policy
 * gives (only new flows follow them), sized from a heavy-tailed
 * distribution, with a few elephants that never move.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "policy.h"

#define NB 3

struct fix {
	struct xlb_model m;
	struct xlb_policy *p;
	struct xlb_counter c[NB]; /* cumulative, as backend_stats */
	__u64 now;
	int logged;
	__u64 rng;
};

static void count_log(void *ctx, const char *msg)
{
	struct fix *f = ctx;

	(void)msg;
	f->logged++;
}

static int setup(void **state)
{
	static const char *const addrs[NB] = {"198.18.31.2", "198.18.32.2",
					      "198.18.33.2"};
	struct fix *f = calloc(1, sizeof(*f));
	struct xlb_vip_cfg v = {0};
	struct xlb_err err;

	assert_non_null(f);
	f->p = calloc(1, sizeof(*f->p));
	assert_non_null(f->p);
	xlb_model_init(&f->m);
	assert_int_equal(xlb_parse_vip("198.19.0.1:80/tcp", &v.key, &err), 0);
	assert_int_equal(xlb_model_vip_add(&f->m, &v, &err), 0);
	for (int i = 0; i < NB; i++) {
		struct xlb_backend_cfg b = {.weight = 10,
					    .state = XLB_BACKEND_UP};

		assert_int_equal(
			xlb_parse_addr(addrs[i], &b.addr, &b.family, &err), 0);
		assert_int_equal(xlb_model_backend_add(&f->m, &v.key, &b, &err),
				 0);
		f->m.vips[0].backends[i].id = i + 1;
	}
	f->m.vips[0].vip_id = 1;
	f->now = 1000000;
	f->rng = 42;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	xlb_model_free(&f->m);
	free(f->p);
	free(f);
	return 0;
}

static void sync(struct fix *f)
{
	xlb_policy_sync(f->p, &f->m, false, f->now);
}

/* Effective weights of the three backends (0 when not up). */
static void weights(struct fix *f, double *w)
{
	struct xlb_model e;

	assert_int_equal(xlb_policy_effective(f->p, &f->m, f->now, &e), 0);
	for (int i = 0; i < NB; i++) {
		const struct xlb_backend_cfg *b = &e.vips[0].backends[i];

		w[i] = b->state == XLB_BACKEND_UP ? b->weight : 0;
	}
	xlb_model_free(&e);
}

static __u8 eff_state(struct fix *f, int i)
{
	struct xlb_model e;
	__u8 s;

	assert_int_equal(xlb_policy_effective(f->p, &f->m, f->now, &e), 0);
	s = e.vips[0].backends[i].state;
	xlb_model_free(&e);
	return s;
}

/* ---- agent ------------------------------------------------------------- */

static void enable_agent(struct fix *f)
{
	f->m.vips[0].agent.kind = XLB_CHECK_AGENT;
	f->m.vips[0].agent.interval_ms = 1000;
	sync(f);
}

static bool reply(struct fix *f, int i, const char *line)
{
	char msg[256];

	return xlb_policy_agent_result(f->p, &f->m, i + 1, true, line,
				       strlen(line), "ok", f->now, msg,
				       sizeof(msg));
}

static void test_agent_factor(void **state)
{
	struct fix *f = *state;
	double w[NB];

	enable_agent(f);
	weights(f, w);
	assert_true(w[0] == 10000 && w[1] == 10000);
	assert_true(reply(f, 0, "10%\n"));
	weights(f, w);
	assert_true(w[0] == 1000 && w[1] == 10000);
	assert_true(xlb_policy_agent_factor(f->p, 1) == 0.1);
	/* Within the hysteresis: nothing to rebuild. */
	assert_false(reply(f, 0, "12%\n"));
	weights(f, w);
	assert_true(w[0] == 1000);
	/* A state word alone keeps the weight. */
	assert_true(reply(f, 0, "drain\n"));
	assert_int_equal(eff_state(f, 0), XLB_BACKEND_DRAIN);
	assert_true(reply(f, 0, "up\n"));
	assert_int_equal(eff_state(f, 0), XLB_BACKEND_UP);
	weights(f, w);
	assert_true(w[0] == 1000);
	assert_true(reply(f, 0, "maint\n"));
	assert_int_equal(eff_state(f, 0), XLB_BACKEND_DOWN);
	assert_true(reply(f, 0, "ready 100%\n"));
	weights(f, w);
	assert_true(w[0] == 10000);
	/* 0% is "no new flows": weight 0, as HAProxy. */
	assert_true(reply(f, 0, "0%\n"));
	weights(f, w);
	assert_true(w[0] == 0);
}

static void test_agent_down_keeps_or_moves(void **state)
{
	struct fix *f = *state;

	enable_agent(f);
	assert_true(reply(f, 1, "down\n"));
	assert_int_equal(eff_state(f, 1), XLB_BACKEND_DRAIN);
	f->m.vips[0].on_check_down = XLB_CHECK_DOWN_MOVE;
	assert_int_equal(eff_state(f, 1), XLB_BACKEND_DOWN);
	/* The operator still wins. */
	f->m.vips[0].backends[1].state = XLB_BACKEND_DRAIN;
	assert_true(reply(f, 1, "up\n"));
	assert_int_equal(eff_state(f, 1), XLB_BACKEND_DRAIN);
}

static void test_agent_malformed_and_silent(void **state)
{
	struct fix *f = *state;
	char msg[256];
	double w[NB];

	enable_agent(f);
	assert_true(reply(f, 0, "40%\n"));
	assert_false(reply(f, 0, "101%\n"));
	assert_false(reply(f, 0, "drian\n"));
	assert_int_equal(f->p->agent[1].malformed, 2);
	/* Not answering is no report: it changes nothing, not even down. */
	assert_false(xlb_policy_agent_result(f->p, &f->m, 1, false, "", 0,
					     "connect: Connection refused",
					     f->now, msg, sizeof(msg)));
	assert_int_equal(f->p->agent[1].failed, 1);
	weights(f, w);
	assert_true(w[0] == 4000);
	assert_int_equal(eff_state(f, 0), XLB_BACKEND_UP);
}

static void test_agent_stale(void **state)
{
	struct fix *f = *state;
	double w[NB];

	enable_agent(f);
	assert_true(reply(f, 2, "30% drain\n"));
	f->now += 3000; /* 3 intervals: not yet */
	assert_false(
		xlb_policy_agent_expire(f->p, &f->m, f->now, count_log, f));
	assert_int_equal(eff_state(f, 2), XLB_BACKEND_DRAIN);
	f->now += 1;
	assert_true(xlb_policy_agent_expire(f->p, &f->m, f->now, count_log, f));
	assert_int_equal(f->logged, 1);
	assert_int_equal(f->p->agent[3].stale, 1);
	assert_int_equal(eff_state(f, 2), XLB_BACKEND_UP);
	weights(f, w);
	assert_true(w[2] == 10000);
	/* Once is enough. */
	f->now += 5000;
	assert_false(
		xlb_policy_agent_expire(f->p, &f->m, f->now, count_log, f));
	assert_int_equal(f->logged, 1);
}

/* ---- the share loop ---------------------------------------------------- */

static double uniform(struct fix *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return ((f->rng >> 11) + 0.5) / 9007199254740992.0;
}

/* Pareto, alpha 1.5, minimum 10 kB (mean ~28 kB), cut at 5 MB. */
static double flow_size(struct fix *f)
{
	double u = uniform(f), x = 10000;

	/* u^(-1/1.5) without libm: x * u^(-2/3) by Newton on y^3 = 1/u^2. */
	double t = 1 / (u * u), y = t > 1 ? t / 3 : 1;

	for (int i = 0; i < 60; i++)
		y = y - (y * y * y - t) / (3 * y * y);
	x *= y;
	return x > 5e6 ? 5e6 : x;
}

struct workload {
	int mice;	     /* new flows per window */
	double elephant;     /* bytes per window of each elephant */
	int elephants;	     /* all on backend 0: they never move */
	bool fixed_size;     /* mice of the mean size: no noise */
	double packet_bytes; /* elephants' bytes per packet (mice: 1000) */
};

/* One window of traffic: counters grow, shares measured are returned. */
static void traffic(struct fix *f, const struct workload *wl, double *share)
{
	double w[NB], sum = 0, bytes[NB] = {0}, total = 0;

	weights(f, w);
	for (int i = 0; i < NB; i++)
		sum += w[i];
	for (int k = 0; k < wl->mice; k++) {
		double r = uniform(f) * sum, size;
		int i = 0;

		while (i < NB - 1 && r >= w[i]) {
			r -= w[i];
			i++;
		}
		size = wl->fixed_size ? 30000 : flow_size(f);
		bytes[i] += size;
		f->c[i].packets += (__u64)(size / 1000) + 1;
	}
	bytes[0] += wl->elephants * wl->elephant;
	if (wl->elephants)
		f->c[0].packets += (__u64)(wl->elephants * wl->elephant /
					   wl->packet_bytes);
	for (int i = 0; i < NB; i++) {
		f->c[i].bytes += (__u64)bytes[i];
		total += bytes[i];
	}
	for (int i = 0; i < NB; i++)
		share[i] = total ? bytes[i] / total : 0;
}

/* The loop at the end of a window (the window is 1 s). */
static bool window(struct fix *f)
{
	bool changed;

	f->now += 1000;
	xlb_policy_balance_window(f->p, &f->m, 0, f->c, f->now, count_log, f,
				  &changed);
	return changed;
}

static void enable_balance(struct fix *f, __u8 classes)
{
	f->m.vips[0].balance = classes;
	f->m.vips[0].balance_window_ms = 1000;
	sync(f);
	window(f); /* primes the counters */
}

static double max_err(const double *share)
{
	double e = 0;

	for (int i = 0; i < NB; i++) {
		double d = share[i] - 1.0 / NB;

		if (d < 0)
			d = -d;
		if (d > e)
			e = d;
	}
	return e;
}

/*
 * Two elephants on backend 0 carry a fifth of the bytes; the mice follow
 * the ring. The loop must bring every share within 5 points of its
 * target within 10 windows, stay there, and never change a correction
 * by more than its step bound.
 */
static void test_balance_converges(void **state)
{
	const struct workload wl = {.mice = 6000,
				    .elephant = 24e6,
				    .elephants = 2,
				    .packet_bytes = 1000};
	struct fix *f = *state;
	double share[NB], corr_before[NB + 1], err = 0, final = 0;
	int converged = -1;

	enable_balance(f, XLB_BALANCE_BYTES);
	for (int k = 0; k < 40; k++) {
		for (int i = 1; i <= NB; i++)
			corr_before[i] = xlb_policy_correction(f->p, i);
		traffic(f, &wl, share);
		err = max_err(share);
		if (getenv("V"))
			print_message("w%d %.3f %.3f %.3f c %.2f %.2f %.2f\n",
				      k, share[0], share[1], share[2],
				      xlb_policy_correction(f->p, 1),
				      xlb_policy_correction(f->p, 2),
				      xlb_policy_correction(f->p, 3));
		if (k == 0)
			assert_true(err > 0.08); /* skewed before the loop */
		if (converged < 0 && err < 0.05)
			converged = k;
		else if (converged >= 0)
			assert_true(err < 0.08); /* no oscillation */
		if (k >= 30)
			final += err / 10;
		window(f);
		for (int i = 1; i <= NB; i++) {
			double c = xlb_policy_correction(f->p, i);

			assert_true(c - corr_before[i] <=
				    XLB_BALANCE_STEP + 1e-3);
			assert_true(corr_before[i] - c <=
				    XLB_BALANCE_STEP + 1e-3);
			assert_true(c >= XLB_BALANCE_FLOOR - 1e-3);
		}
	}
	print_message("byte share: within 5 points after %d windows, "
		      "mean max error of windows 30-39 %.2f points, "
		      "correction of the elephants' backend %.2f\n",
		      converged, 100 * final, xlb_policy_correction(f->p, 1));
	assert_true(converged >= 0 && converged <= 10);
	assert_true(final < 0.03);
	assert_true(xlb_policy_correction(f->p, 1) < 0.9);
}

static void test_balance_bounds(void **state)
{
	double t[NB] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
	double s[NB] = {1, 0, 0}, c[NB] = {1, 1, 1};

	(void)state;
	for (int k = 0; k < 100; k++) {
		double before = c[0];

		xlb_balance_step(NB, t, s, c);
		assert_true(before - c[0] <= XLB_BALANCE_STEP + 1e-9);
		assert_true(c[0] >= XLB_BALANCE_FLOOR - 1e-9);
		assert_true(c[1] <= XLB_BALANCE_CEIL + 1e-9);
	}
	assert_true(c[0] < XLB_BALANCE_FLOOR + 1e-9);
	/* A backend with no target is left alone. */
	t[2] = 0;
	c[2] = 0.7;
	xlb_balance_step(NB, t, s, c);
	assert_true(c[2] == 0.7);
}

/* Counters of one window given outright: bytes and packets each. */
static void exact(struct fix *f, const double *bytes, const double *packets)
{
	for (int i = 0; i < NB; i++) {
		f->c[i].bytes += (__u64)bytes[i];
		f->c[i].packets += (__u64)packets[i];
	}
}

/* Shares 2% off: the loop moves, the ring does not; 50% off: it does. */
static void test_balance_hysteresis(void **state)
{
	const double near[NB] = {1.02e6, 0.99e6, 0.99e6};
	const double far[NB] = {1.5e6, 0.75e6, 0.75e6};
	const double pk[NB] = {1000, 1000, 1000};
	struct fix *f = *state;

	enable_balance(f, XLB_BALANCE_BYTES);
	for (int k = 0; k < 2; k++) {
		exact(f, near, pk);
		assert_false(window(f));
	}
	assert_int_equal(f->logged, 0);
	assert_true(f->p->share[1].corr[XLB_CLASS_BYTES] < 1);
	for (int i = 1; i <= NB; i++)
		assert_true(xlb_policy_correction(f->p, i) == 1.0);
	exact(f, far, pk);
	assert_true(window(f));
	assert_true(f->logged >= 1);
	assert_true(xlb_policy_correction(f->p, 1) < 0.97);
}

/*
 * A VIP that loses its agent check or its share loop forgets them: the
 * factor and the correction go back to 1 at once, and getting the agent
 * check back starts from the configured weight, not the last report.
 */
static void test_feedback_forgotten(void **state)
{
	const double far[NB] = {1.5e6, 0.75e6, 0.75e6};
	const double pk[NB] = {1000, 1000, 1000};
	struct fix *f = *state;

	enable_agent(f);
	assert_true(reply(f, 0, "10%\n"));
	assert_true(xlb_policy_agent_factor(f->p, 1) == 0.1);
	f->m.vips[0].agent.kind = XLB_CHECK_NONE;
	sync(f);
	assert_true(xlb_policy_agent_factor(f->p, 1) == 1.0);
	enable_agent(f);
	assert_true(xlb_policy_agent_factor(f->p, 1) == 1.0);

	enable_balance(f, XLB_BALANCE_BYTES);
	exact(f, far, pk);
	assert_true(window(f));
	assert_true(xlb_policy_correction(f->p, 1) < 0.97);
	f->m.vips[0].balance = 0;
	sync(f);
	for (int i = 1; i <= NB; i++)
		assert_true(xlb_policy_correction(f->p, i) == 1.0);
}

/* Skewed, then silent: three idle windows and it is back to 1. */
static void test_balance_stale(void **state)
{
	const struct workload wl = {.mice = 3000,
				    .elephant = 12e6,
				    .elephants = 2,
				    .packet_bytes = 1000};
	struct fix *f = *state;
	double share[NB], w[NB];

	enable_balance(f, XLB_BALANCE_BYTES);
	for (int k = 0; k < 5; k++) {
		traffic(f, &wl, share);
		window(f);
	}
	assert_true(xlb_policy_correction(f->p, 1) < 0.95);
	assert_false(window(f));
	assert_false(window(f));
	assert_true(xlb_policy_correction(f->p, 1) < 0.95);
	assert_true(window(f));
	for (int i = 1; i <= NB; i++)
		assert_true(xlb_policy_correction(f->p, i) == 1.0);
	weights(f, w);
	assert_true(w[0] == 10000 && w[1] == 10000 && w[2] == 10000);
}

/*
 * Bytes and packets each their own loop: traffic whose bytes are skewed
 * and whose packets are not moves the bytes loop only; the correction in
 * force is the mean of the two.
 */
static void test_balance_classes(void **state)
{
	const double bytes[NB] = {2e6, 1e6, 1e6};
	const double pk[NB] = {1000, 1000, 1000};
	struct fix *f = *state;

	enable_balance(f, XLB_BALANCE_ALL);
	for (int k = 0; k < 3; k++) {
		exact(f, bytes, pk);
		window(f);
	}
	assert_true(f->p->share[1].corr[XLB_CLASS_BYTES] < 0.8);
	assert_true(f->p->share[2].corr[XLB_CLASS_BYTES] > 1.05);
	for (int i = 1; i <= NB; i++)
		assert_true(f->p->share[i].corr[XLB_CLASS_PACKETS] == 1.0);
	assert_float_equal(xlb_policy_correction(f->p, 1),
			   (f->p->share[1].corr[XLB_CLASS_BYTES] + 1) / 2,
			   0.001);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_agent_factor, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_agent_down_keeps_or_moves,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_malformed_and_silent,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_stale, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_balance_converges, setup,
						teardown),
		cmocka_unit_test(test_balance_bounds),
		cmocka_unit_test_setup_teardown(test_balance_hysteresis, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_feedback_forgotten, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_balance_stale, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_balance_classes, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
