// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the change set (user/lib/changes.c): what an apply writes,
 * zeroes, rebuilds and removes, computed from the model the maps were
 * written from, the entries they hold and the model wanted next, with no
 * kernel. The writer follows the set in order, so a change missing here
 * is a map left stale, and one too many is a write (or a ring rebuild
 * and its RCU wait) for nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "changes.h"
#include "helpers.h"

/* What the maps hold, as the writer would have left it. */
struct maps {
	struct xlb_backend backends[XLB_MAX_BACKENDS];
	__u64 fingerprint[XLB_MAX_VIPS];
	__u8 fresh_vip[XLB_MAX_VIPS];
	__u8 fresh_backend[XLB_MAX_BACKENDS];
};

struct fixture {
	struct maps *maps;
	struct xlb_written w;
	struct xlb_model cur, next;
	struct xlb_changes cs;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->maps = calloc(1, sizeof(*f->maps));
	assert_non_null(f->maps);
	f->w.backends = f->maps->backends;
	f->w.fingerprint = f->maps->fingerprint;
	f->w.fresh_vip = f->maps->fresh_vip;
	f->w.fresh_backend = f->maps->fresh_backend;
	xlb_model_init(&f->cur);
	xlb_model_init(&f->next);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	xlb_changes_free(&f->cs);
	xlb_model_free(&f->cur);
	xlb_model_free(&f->next);
	free(f->maps);
	free(f);
	return 0;
}

/* A VIP with its id and backends "addr" at ids first_id, first_id+1, ... */
static void add_vip(struct xlb_model *m, const char *vip, __u32 vip_id,
		    __u32 first_id, const char *const *addrs, size_t n)
{
	struct xlb_vip_cfg v = {.key = vkey(vip), .ring_size = 251};
	struct xlb_err err = {{0}};
	struct xlb_vip_cfg *got;

	if (xlb_model_vip_add(m, &v, &err))
		fail_msg("cannot add VIP %s: %s", vip, err.msg);
	for (size_t i = 0; i < n; i++) {
		struct xlb_backend_cfg b = {.weight = 100,
					    .state = XLB_BACKEND_UP};

		if (xlb_parse_addr(addrs[i], &b.addr, &b.family, &err) ||
		    xlb_model_backend_add(m, &v.key, &b, &err))
			fail_msg("cannot add %s: %s", addrs[i], err.msg);
	}
	got = xlb_model_vip(m, &v.key);
	assert_non_null(got);
	got->vip_id = vip_id;
	for (size_t i = 0; i < got->n_backends; i++)
		got->backends[i].id = first_id + i;
}

static struct xlb_backend_cfg *backend_of(struct xlb_model *m, const char *vip,
					  size_t i)
{
	struct xlb_vip_key k = vkey(vip);
	struct xlb_vip_cfg *v = xlb_model_vip(m, &k);

	assert_non_null(v);
	assert_true(i < v->n_backends);
	return &v->backends[i];
}

/* Plays the writer: the maps now hold what cs said to write. */
static void written(struct fixture *f)
{
	for (size_t i = 0; i < f->cs.n_backends; i++)
		f->maps->backends[f->cs.backends[i].id] =
			f->cs.backends[i].entry;
	for (size_t i = 0; i < f->cs.n_rings; i++)
		f->maps->fingerprint[f->cs.rings[i]->vip_id] = 0x1234 + i;
	for (size_t i = 0; i < f->cs.n_retire; i++)
		f->maps->backends[f->cs.retire[i].id] = f->cs.retire[i].entry;
	memset(f->maps->fresh_vip, 0, sizeof(f->maps->fresh_vip));
	memset(f->maps->fresh_backend, 0, sizeof(f->maps->fresh_backend));
}

static void compute(struct fixture *f)
{
	xlb_changes_free(&f->cs);
	assert_int_equal(xlb_changes_compute(&f->w, &f->cur, &f->next, &f->cs),
			 0);
}

/* next becomes what the maps hold; next starts again as a copy of it. */
static void commit(struct fixture *f)
{
	written(f);
	xlb_model_free(&f->cur);
	assert_int_equal(xlb_model_copy(&f->cur, &f->next), 0);
}

static size_t n_written(const struct xlb_changes *cs)
{
	size_t n = 0;

	for (size_t i = 0; i < cs->n_backends; i++)
		n += cs->backends[i].write;
	return n;
}

static const char *const two[] = {"198.18.1.1", "198.18.1.2"};
static const char *const three[] = {"198.18.2.1", "198.18.2.2", "198.18.2.3"};

static void build_two_vips(struct fixture *f)
{
	add_vip(&f->next, "198.19.0.1:80/tcp", 1, 1, two, 2);
	add_vip(&f->next, "198.19.0.2:80/tcp", 2, 10, three, 3);
}

/* From nothing: every backend written with fresh stats, every ring. */
static void test_first_apply(void **state)
{
	struct fixture *f = *state;

	build_two_vips(f);
	f->maps->fresh_vip[1] = f->maps->fresh_vip[2] = 1;
	for (__u32 id = 1; id < 13; id++)
		f->maps->fresh_backend[id] = 1;
	compute(f);
	assert_int_equal(f->cs.n_backends, 5);
	assert_int_equal(n_written(&f->cs), 5);
	for (size_t i = 0; i < f->cs.n_backends; i++) {
		assert_true(f->cs.backends[i].zero_stats);
		assert_int_equal(f->cs.backends[i].entry.state, XLB_BACKEND_UP);
		assert_non_null(f->cs.backends[i].vip);
		assert_int_equal(f->cs.backends[i].cfg->id,
				 f->cs.backends[i].id);
	}
	/* In next's order: VIP 1's backends, then VIP 2's. */
	assert_int_equal(f->cs.backends[0].id, 1);
	assert_int_equal(f->cs.backends[2].id, 10);
	assert_int_equal(f->cs.n_zero_vips, 2);
	assert_int_equal(f->cs.n_rings, 2);
	assert_int_equal(f->cs.rings[0]->vip_id, 1);
	assert_int_equal(f->cs.rings[1]->vip_id, 2);
	assert_int_equal(f->cs.n_del_keys, 0);
	assert_int_equal(f->cs.n_clear_vips, 0);
	assert_int_equal(f->cs.n_retire, 0);
}

/* The same model again writes nothing and builds no ring. */
static void test_same_again(void **state)
{
	struct fixture *f = *state;

	build_two_vips(f);
	compute(f);
	commit(f);
	compute(f);
	assert_int_equal(f->cs.n_backends, 5); /* listed for their owners */
	assert_int_equal(n_written(&f->cs), 0);
	for (size_t i = 0; i < f->cs.n_backends; i++)
		assert_false(f->cs.backends[i].zero_stats);
	assert_int_equal(f->cs.n_zero_vips, 0);
	assert_int_equal(f->cs.n_rings, 0);
	assert_int_equal(f->cs.n_del_keys + f->cs.n_clear_vips + f->cs.n_retire,
			 0);
}

/* A weight is not in the backend entry: one ring, no entry written. */
static void test_weight_change(void **state)
{
	struct fixture *f = *state;

	build_two_vips(f);
	compute(f);
	commit(f);
	backend_of(&f->next, "198.19.0.2:80/tcp", 1)->weight = 7;
	compute(f);
	assert_int_equal(n_written(&f->cs), 0);
	assert_int_equal(f->cs.n_rings, 1);
	assert_int_equal(f->cs.rings[0]->vip_id, 2);
}

/* Down: the entry says so (established flows move) and the ring drops it. */
static void test_state_change(void **state)
{
	struct fixture *f = *state;

	build_two_vips(f);
	compute(f);
	commit(f);
	backend_of(&f->next, "198.19.0.1:80/tcp", 0)->state = XLB_BACKEND_DOWN;
	compute(f);
	assert_int_equal(n_written(&f->cs), 1);
	for (size_t i = 0; i < f->cs.n_backends; i++)
		if (f->cs.backends[i].write) {
			assert_int_equal(f->cs.backends[i].id, 1);
			assert_int_equal(f->cs.backends[i].entry.state,
					 XLB_BACKEND_DOWN);
		}
	assert_int_equal(f->cs.n_rings, 1);
	assert_int_equal(f->cs.rings[0]->vip_id, 1);
}

/*
 * Backends going out (down, drained by a check) only: the ring in force
 * is patched, from cur's VIP. Anything else about the ring (one coming
 * back, a weight, a ring the maps lack) builds it.
 */
static void test_patch_from(void **state)
{
	struct fixture *f = *state;
	struct xlb_vip_key k1 = vkey("198.19.0.1:80/tcp");

	build_two_vips(f);
	compute(f);
	/* First build: nothing to patch from. */
	assert_null(f->cs.patch_from[0]);
	assert_null(f->cs.patch_from[1]);
	commit(f);
	backend_of(&f->next, "198.19.0.1:80/tcp", 0)->state = XLB_BACKEND_DOWN;
	compute(f);
	assert_int_equal(f->cs.n_rings, 1);
	assert_ptr_equal(f->cs.patch_from[0], xlb_model_vip(&f->cur, &k1));
	commit(f);
	/* A second one out, as draining: patched again. */
	backend_of(&f->next, "198.19.0.1:80/tcp", 1)->state = XLB_BACKEND_DRAIN;
	compute(f);
	assert_int_equal(f->cs.n_rings, 1);
	assert_non_null(f->cs.patch_from[0]);
	commit(f);
	/* One back up: built. */
	backend_of(&f->next, "198.19.0.1:80/tcp", 0)->state = XLB_BACKEND_UP;
	compute(f);
	assert_int_equal(f->cs.n_rings, 1);
	assert_null(f->cs.patch_from[0]);
	commit(f);
	/* Out, with a weight changed at once: built. */
	backend_of(&f->next, "198.19.0.1:80/tcp", 0)->state = XLB_BACKEND_DOWN;
	backend_of(&f->next, "198.19.0.1:80/tcp", 1)->weight = 5;
	compute(f);
	assert_int_equal(f->cs.n_rings, 1);
	assert_null(f->cs.patch_from[0]);
	commit(f);
	/* Nothing changed, but the maps lack the table: built. */
	f->maps->fingerprint[1] = 0;
	compute(f);
	assert_int_equal(f->cs.n_rings, 1);
	assert_null(f->cs.patch_from[0]);
}

/* A table the maps lack (fingerprint 0) is built even if nothing changed. */
static void test_missing_ring(void **state)
{
	struct fixture *f = *state;

	build_two_vips(f);
	compute(f);
	commit(f);
	f->maps->fingerprint[2] = 0;
	compute(f);
	assert_int_equal(f->cs.n_rings, 1);
	assert_int_equal(f->cs.rings[0]->vip_id, 2);
}

/* A new table size comes with a new VIP id: new ring, old id cleared. */
static void test_new_vip_id(void **state)
{
	struct fixture *f = *state;
	struct xlb_vip_key k = vkey("198.19.0.1:80/tcp");

	build_two_vips(f);
	compute(f);
	commit(f);
	xlb_model_vip(&f->next, &k)->vip_id = 3;
	compute(f);
	assert_int_equal(f->cs.n_rings, 1);
	assert_int_equal(f->cs.rings[0]->vip_id, 3);
	assert_int_equal(f->cs.n_clear_vips, 1);
	assert_int_equal(f->cs.clear_vips[0], 1);
	assert_int_equal(f->cs.n_del_keys, 0); /* the key stays, re-pointed */
}

/* A removed VIP: its key, its address entry, its id, its backends. */
static void test_vip_removed(void **state)
{
	struct fixture *f = *state;
	struct xlb_vip_key k = vkey("198.19.0.2:80/tcp"), ak;
	struct xlb_err err = {{0}};

	build_two_vips(f);
	compute(f);
	commit(f);
	assert_int_equal(xlb_model_vip_del(&f->next, &k, &err), 0);
	compute(f);
	ak = xlb_changes_addr_key(&k);
	assert_int_equal(f->cs.n_del_keys, 2);
	assert_memory_equal(&f->cs.del_keys[0], &k, sizeof(k));
	assert_memory_equal(&f->cs.del_keys[1], &ak, sizeof(ak));
	assert_int_equal(ak.proto, IPPROTO_ICMP);
	assert_int_equal(f->cs.n_clear_vips, 1);
	assert_int_equal(f->cs.clear_vips[0], 2);
	assert_int_equal(f->cs.n_retire, 3);
	for (size_t i = 0; i < f->cs.n_retire; i++) {
		const struct xlb_change_backend *r = &f->cs.retire[i];

		assert_int_equal(r->id, 10 + i);
		assert_true(r->write);
		assert_int_equal(r->entry.state, XLB_BACKEND_UNUSED);
		/* Flows naming the id still find its address. */
		assert_memory_equal(&r->entry.addr,
				    &f->maps->backends[r->id].addr,
				    sizeof(r->entry.addr));
	}
	assert_int_equal(f->cs.n_rings, 0);
	assert_int_equal(n_written(&f->cs), 0);
}

/* Another port of the same address keeps the address entry. */
static void test_shared_address_kept(void **state)
{
	struct fixture *f = *state;
	struct xlb_vip_key k = vkey("198.19.0.1:443/tcp");
	struct xlb_err err = {{0}};

	build_two_vips(f);
	add_vip(&f->next, "198.19.0.1:443/tcp", 3, 20, two, 1);
	compute(f);
	commit(f);
	assert_int_equal(xlb_model_vip_del(&f->next, &k, &err), 0);
	compute(f);
	assert_int_equal(f->cs.n_del_keys, 1);
	assert_memory_equal(&f->cs.del_keys[0], &k, sizeof(k));
	assert_int_equal(f->cs.n_clear_vips, 1);
	assert_int_equal(f->cs.clear_vips[0], 3);
	assert_int_equal(f->cs.n_retire, 1);
	assert_int_equal(f->cs.retire[0].id, 20);
}

/* One backend leaves: retired, and its VIP's ring rebuilt without it. */
static void test_backend_removed(void **state)
{
	struct fixture *f = *state;
	struct xlb_backend_cfg *b;
	struct xlb_vip_key k = vkey("198.19.0.2:80/tcp");
	struct xlb_err err = {{0}};

	build_two_vips(f);
	compute(f);
	commit(f);
	b = backend_of(&f->next, "198.19.0.2:80/tcp", 2);
	assert_int_equal(b->id, 12);
	assert_int_equal(
		xlb_model_backend_del(&f->next, &k, &b->addr, b->family, &err),
		0);
	compute(f);
	assert_int_equal(f->cs.n_retire, 1);
	assert_int_equal(f->cs.retire[0].id, 12);
	assert_int_equal(f->cs.n_rings, 1);
	assert_int_equal(f->cs.rings[0]->vip_id, 2);
	assert_int_equal(f->cs.n_clear_vips + f->cs.n_del_keys, 0);
}

/* An entry already marked unused is not written again. */
static void test_retire_unchanged(void **state)
{
	struct fixture *f = *state;
	struct xlb_vip_key k = vkey("198.19.0.1:80/tcp");
	struct xlb_err err = {{0}};

	build_two_vips(f);
	compute(f);
	commit(f);
	assert_int_equal(xlb_model_vip_del(&f->next, &k, &err), 0);
	f->maps->backends[1].state = XLB_BACKEND_UNUSED;
	compute(f);
	assert_int_equal(f->cs.n_retire, 2);
	assert_false(f->cs.retire[0].write);
	assert_true(f->cs.retire[1].write);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_apply, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_same_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_weight_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_state_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_patch_from, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_ring, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_new_vip_id, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vip_removed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shared_address_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_backend_removed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retire_unchanged, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
