// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The weight policy: rise and fall, operator overrides, slow start, flap
 * damping and the all-down behaviour, on a VIP of three backends, with
 * the clock given by the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "policy.h"

struct fix {
	struct xlb_model m;
	struct xlb_policy *p;
	char msg[256];
};

static const char *const addrs[] = {"198.18.31.2", "198.18.32.2",
				    "198.18.33.2"};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct xlb_vip_cfg v = {0};
	struct xlb_err err;

	assert_non_null(f);
	f->p = calloc(1, sizeof(*f->p));
	assert_non_null(f->p);
	xlb_model_init(&f->m);
	assert_int_equal(xlb_parse_vip("198.19.0.1:80/tcp", &v.key, &err), 0);
	assert_int_equal(xlb_model_vip_add(&f->m, &v, &err), 0);
	for (int i = 0; i < 3; i++) {
		struct xlb_backend_cfg b = {.weight = 10,
					    .state = XLB_BACKEND_UP};

		assert_int_equal(
			xlb_parse_addr(addrs[i], &b.addr, &b.family, &err), 0);
		assert_int_equal(xlb_model_backend_add(&f->m, &v.key, &b, &err),
				 0);
	}
	for (int i = 0; i < 3; i++)
		f->m.vips[0].backends[i].id = i + 1;
	f->m.vips[0].vip_id = 1;
	f->m.vips[0].check.kind = XLB_CHECK_TCP;
	f->m.vips[0].check.rise = 2;
	f->m.vips[0].check.fall = 3;
	/* These tests follow the maps' "down"; keep is tested on its own. */
	f->m.vips[0].on_check_down = XLB_CHECK_DOWN_MOVE;
	f->m.global.flap_count = 4;
	f->m.global.flap_window_ms = 60000;
	f->m.global.flap_hold_ms = 30000;
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

static bool result(struct fix *f, __u32 id, bool ok, __u64 now)
{
	return xlb_policy_result(f->p, &f->m, id, ok, 100, ok ? "ok" : "bad",
				 now, f->msg, sizeof(f->msg));
}

/* The effective state and weight of backend i. */
static void effective(struct fix *f, __u64 now, int i, __u8 *state,
		      __u32 *weight)
{
	struct xlb_model e;

	assert_int_equal(xlb_policy_effective(f->p, &f->m, now, &e), 0);
	*state = e.vips[0].backends[i].state;
	*weight = e.vips[0].backends[i].weight;
	xlb_model_free(&e);
}

static void test_new_backends_wait_for_rise(void **state)
{
	struct fix *f = *state;
	__u32 w;
	__u8 s;

	xlb_policy_sync(f->p, &f->m, false, 0);
	effective(f, 0, 0, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DOWN);
	assert_false(result(f, 1, true, 100));
	assert_true(result(f, 1, true, 200));
	assert_non_null(strstr(f->msg, "is up"));
	effective(f, 200, 0, &s, &w);
	assert_int_equal(s, XLB_BACKEND_UP);
}

static void test_gaining_a_check_keeps_serving(void **state)
{
	struct fix *f = *state;
	__u32 w;
	__u8 s;

	f->m.vips[0].check.kind = XLB_CHECK_NONE;
	xlb_policy_sync(f->p, &f->m, false, 0);
	f->m.vips[0].check.kind = XLB_CHECK_TCP;
	xlb_policy_sync(f->p, &f->m, false, 10);
	effective(f, 10, 0, &s, &w);
	assert_int_equal(s, XLB_BACKEND_UP);
	/* ...until its checks say otherwise. */
	result(f, 1, false, 20);
	result(f, 1, false, 30);
	assert_true(result(f, 1, false, 40));
	effective(f, 40, 0, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DOWN);
}

/*
 * keep (the default): a backend its checks take down leaves the ring
 * but keeps its established flows (drain in the maps); move: down, its
 * flows re-pick. The operator's down is down either way.
 */
static void test_check_down_keep_or_move(void **state)
{
	struct fix *f = *state;
	__u32 w;
	__u8 s;

	f->m.vips[0].on_check_down = XLB_CHECK_DOWN_KEEP;
	f->m.vips[0].backends[2].state = XLB_BACKEND_DOWN;
	xlb_policy_sync(f->p, &f->m, true, 0);
	result(f, 1, false, 10);
	result(f, 1, false, 20);
	assert_true(result(f, 1, false, 30));
	effective(f, 30, 0, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DRAIN);
	effective(f, 30, 2, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DOWN);
	effective(f, 30, 1, &s, &w);
	assert_int_equal(s, XLB_BACKEND_UP);
	f->m.vips[0].on_check_down = XLB_CHECK_DOWN_MOVE;
	effective(f, 30, 0, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DOWN);
}

static void test_restart_trusts_backends(void **state)
{
	struct fix *f = *state;
	__u32 w;
	__u8 s;

	xlb_policy_sync(f->p, &f->m, true, 0);
	effective(f, 0, 1, &s, &w);
	assert_int_equal(s, XLB_BACKEND_UP);
	assert_int_equal(w, 10);
}

static void test_fall_then_rise(void **state)
{
	struct fix *f = *state;
	__u32 w;
	__u8 s;

	xlb_policy_sync(f->p, &f->m, true, 0);
	assert_false(result(f, 2, false, 1000));
	assert_false(result(f, 2, false, 2000));
	assert_int_equal(f->msg[0], '\0');
	assert_true(result(f, 2, false, 3000));
	assert_non_null(strstr(f->msg, "198.18.32.2"));
	assert_non_null(strstr(f->msg, "down"));
	effective(f, 3000, 1, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DOWN);
	/* A good result between failures restarts the count. */
	assert_false(result(f, 3, false, 1000));
	assert_false(result(f, 3, true, 2000));
	assert_false(result(f, 3, false, 3000));
	assert_false(result(f, 3, false, 4000));
	effective(f, 4000, 2, &s, &w);
	assert_int_equal(s, XLB_BACKEND_UP);
	assert_false(result(f, 2, true, 4000));
	assert_true(result(f, 2, true, 5000));
	effective(f, 5000, 1, &s, &w);
	assert_int_equal(s, XLB_BACKEND_UP);
}

static void test_operator_wins_and_no_check_is_trusted(void **state)
{
	struct fix *f = *state;
	__u32 w;
	__u8 s;

	f->m.vips[0].backends[0].state = XLB_BACKEND_DRAIN;
	f->m.vips[0].check.kind = XLB_CHECK_NONE;
	xlb_policy_sync(f->p, &f->m, false, 0);
	effective(f, 0, 0, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DRAIN);
	effective(f, 0, 1, &s, &w);
	assert_int_equal(s, XLB_BACKEND_UP);
	assert_string_equal(xlb_policy_reason(f->p, &f->m.vips[0],
					      &f->m.vips[0].backends[1], 0),
			    "no check");
	/* Results for unchecked backends are ignored. */
	assert_false(result(f, 2, false, 1));
	assert_false(result(f, 2, false, 2));
	assert_false(result(f, 2, false, 3));
}

static void test_slow_start_ramps_weight(void **state)
{
	struct fix *f = *state;
	__u64 up;
	__u32 w;
	__u8 s;

	f->m.vips[0].slow_start_ms = 10000;
	xlb_policy_sync(f->p, &f->m, false, 0);
	result(f, 1, true, 500);
	assert_true(result(f, 1, true, 1000));
	up = 1000;
	/* Weights of a slow-start VIP are in tenths (XLB_SLOW_START_SCALE). */
	effective(f, up, 0, &s, &w);
	assert_int_equal(s, XLB_BACKEND_UP);
	assert_int_equal(w, 10);
	effective(f, up + 5000, 0, &s, &w);
	assert_int_equal(w, 60);
	effective(f, up + 9999, 0, &s, &w);
	assert_int_equal(w, 100);
	effective(f, up + 20000, 0, &s, &w);
	assert_int_equal(w, 100);
	/* The others, at full weight, are scaled alike: shares hold. */
	effective(f, up, 1, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DOWN); /* no good results yet */
	assert_int_equal(w, 100);
	/* A weight-1 backend ramps too: 1/10 of the others' at first. */
	f->m.vips[0].backends[0].weight = 1;
	effective(f, up, 0, &s, &w);
	assert_int_equal(w, 1);
	effective(f, up + 5000, 0, &s, &w);
	assert_int_equal(w, 6);
	assert_int_equal(xlb_policy_next_change(f->p, &f->m, up + 5000),
			 up + 6000);
	assert_int_equal(xlb_policy_next_change(f->p, &f->m, up + 20000), 0);
	assert_string_equal(xlb_policy_reason(f->p, &f->m.vips[0],
					      &f->m.vips[0].backends[0],
					      up + 5000),
			    "slow start");
}

static void test_flapping_is_held_down(void **state)
{
	struct fix *f = *state;
	__u64 t = 0;
	__u32 w;
	__u8 s;

	f->m.vips[0].check.rise = 1;
	f->m.vips[0].check.fall = 1;
	xlb_policy_sync(f->p, &f->m, true, 0);
	assert_true(result(f, 1, false, t += 1000));
	assert_true(result(f, 1, true, t += 1000));
	assert_true(result(f, 1, false, t += 1000));
	/* The fourth change within the window: held down. */
	result(f, 1, true, t += 1000);
	assert_non_null(strstr(f->msg, "flapping"));
	effective(f, t, 0, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DOWN);
	assert_false(result(f, 1, true, t += 1000));
	effective(f, t, 0, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DOWN);
	/* After the hold, good results bring it back. */
	t += 30000;
	assert_true(result(f, 1, true, t));
	effective(f, t, 0, &s, &w);
	assert_int_equal(s, XLB_BACKEND_UP);
}

static void test_all_down_drop_or_keep(void **state)
{
	struct fix *f = *state;
	__u32 w;
	__u8 s;

	f->m.vips[0].check.fall = 1;
	xlb_policy_sync(f->p, &f->m, true, 0);
	for (__u32 id = 1; id <= 3; id++)
		result(f, id, false, 1000);
	effective(f, 1000, 2, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DOWN);
	f->m.vips[0].all_down = XLB_ALL_DOWN_KEEP;
	effective(f, 1000, 2, &s, &w);
	assert_int_equal(s, XLB_BACKEND_UP);
	assert_int_equal(w, 10);
	assert_string_equal(xlb_policy_reason(f->p, &f->m.vips[0],
					      &f->m.vips[0].backends[2], 1000),
			    "all down: last ring kept");
	/* One recovers: the others are down again. */
	f->m.vips[0].check.rise = 1;
	assert_true(result(f, 1, true, 2000));
	effective(f, 2000, 2, &s, &w);
	assert_int_equal(s, XLB_BACKEND_DOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_backends_wait_for_rise,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_gaining_a_check_keeps_serving, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_down_keep_or_move,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_trusts_backends,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fall_then_rise, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_operator_wins_and_no_check_is_trusted, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_slow_start_ramps_weight,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_flapping_is_held_down,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_down_drop_or_keep,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
