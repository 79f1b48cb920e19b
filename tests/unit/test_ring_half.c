// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of ring halves and their grace periods (user/lib/ring_half.c)
 * with a stand-in for the kernel's wait: a grace period here ends when
 * the test lets it. What must hold: the writer never touches the half in
 * force (it is mapped read-only here, so a stray write kills the test), a
 * change that comes while the grace of the previous flip of its VIP is
 * under way waits for that grace and is then written whole, and one grace
 * covers every flip made before it began, but none made after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <cmocka.h>

#include "ring_half.h"

/* Slots per half: one page each, so a half can be made read-only. */
#define M (4096 / sizeof(__u32))

/* The stand-in grace: each call waits until the test allows one more. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int entered, allowed;
};

static int gate_sync(void *ctx)
{
	struct gate *g = ctx;

	pthread_mutex_lock(&g->lock);
	g->entered++;
	pthread_cond_broadcast(&g->cond);
	while (g->allowed < g->entered)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static void gate_allow(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->allowed++;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/* Polls cond for 10 s at most (a generous deadline, not a sleep). */
static bool eventually(bool (*cond)(void *), void *arg)
{
	struct timespec ms = {.tv_nsec = 1000000};

	for (int i = 0; i < 10000; i++) {
		if (cond(arg))
			return true;
		nanosleep(&ms, NULL);
	}
	return cond(arg);
}

static bool gate_entered(void *arg)
{
	struct gate *g = arg;
	bool yes;

	pthread_mutex_lock(&g->lock);
	yes = g->entered > g->allowed;
	pthread_mutex_unlock(&g->lock);
	return yes;
}

struct fixture {
	struct gate gate;
	struct xlb_grace *grace;
	struct xlb_ring_halves r;
	__u32 a[M], b[M], c[M];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	pthread_mutex_init(&f->gate.lock, NULL);
	pthread_cond_init(&f->gate.cond, NULL);
	f->grace = xlb_grace_new(gate_sync, &f->gate);
	f->r.mem = mmap(NULL, XLB_RING_HALVES * 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!f->grace || f->r.mem == MAP_FAILED)
		return -1;
	f->r.size = M;
	for (__u32 i = 0; i < M; i++) {
		f->a[i] = 1 + i % 7;
		f->b[i] = 100 + i % 11;
		f->c[i] = 200 + i % 13;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	/* Let every grace the thread may still be in end. */
	pthread_mutex_lock(&f->gate.lock);
	f->gate.allowed = 1000000;
	pthread_cond_broadcast(&f->gate.cond);
	pthread_mutex_unlock(&f->gate.lock);
	xlb_grace_free(f->grace);
	munmap(f->r.mem, XLB_RING_HALVES * 4096);
	free(f);
	return 0;
}

/* Slot i of a half, where the data path reads it (bpf/ring.h). */
static __u32 slot(const struct fixture *f, __u8 half, __u32 i)
{
	const struct xlb_ring_elem *e = f->r.mem;

	return e[xlb_ring_elem(M, half, i)].id[i % XLB_RING_SLOTS_PER_ELEM];
}

static void assert_half(const struct fixture *f, __u8 half, const __u32 *t)
{
	for (__u32 i = 0; i < M; i++)
		assert_int_equal(slot(f, half, i), t[i]);
}

static void protect_half(struct fixture *f, __u8 half, int prot)
{
	assert_int_equal(mprotect((char *)f->r.mem + half * 4096, 4096, prot),
			 0);
}

/* A fresh ring: both halves hold the table; half 0 is in force. */
static void fresh(struct fixture *f, const __u32 *t)
{
	f->r.half = 0;
	f->r.retired = 0;
	xlb_ring_write_new(&f->r, t, true);
	assert_half(f, 0, t);
	assert_half(f, 1, t);
}

static void test_spare_only(void **state)
{
	struct fixture *f = *state;

	fresh(f, f->a);
	protect_half(f, 0, PROT_READ);
	xlb_ring_write_spare(&f->r, f->grace, f->b);
	assert_half(f, 1, f->b);
	assert_half(f, 0, f->a);
	protect_half(f, 0, PROT_READ | PROT_WRITE);
}

struct writer {
	struct fixture *f;
	const __u32 *table;
	pthread_t thread;
};

static void *write_spare(void *arg)
{
	struct writer *w = arg;

	xlb_ring_write_spare(&w->f->r, w->f->grace, w->table);
	return NULL;
}

static bool one_waiter(void *arg)
{
	return xlb_grace_waiters(arg) == 1;
}

static bool grace_passed_1(void *arg)
{
	return xlb_grace_passed(arg, 1);
}

/*
 * a in force; b written and flipped in; c comes before the grace of that
 * flip ends: it waits (a, retired but maybe still read, stays whole), and
 * is written into a's half once the grace is over. b, in force all along,
 * is read-only throughout.
 */
static void test_change_within_grace(void **state)
{
	struct fixture *f = *state;
	struct writer w = {.f = f, .table = f->c};
	__u64 ticket;

	fresh(f, f->a);
	xlb_ring_write_spare(&f->r, f->grace, f->b);
	ticket = xlb_grace_flipped(f->grace);
	xlb_ring_flipped(&f->r, ticket);
	assert_int_equal(f->r.half, 1);
	assert_true(eventually(gate_entered, &f->gate));
	protect_half(f, 1, PROT_READ);

	assert_int_equal(pthread_create(&w.thread, NULL, write_spare, &w), 0);
	/* The writer is blocked in the wait, and has not written. */
	assert_true(eventually(one_waiter, f->grace));
	assert_false(xlb_grace_passed(f->grace, ticket));
	assert_half(f, 0, f->a);

	gate_allow(&f->gate);
	assert_int_equal(pthread_join(w.thread, NULL), 0);
	assert_true(xlb_grace_passed(f->grace, ticket));
	assert_half(f, 0, f->c);
	assert_half(f, 1, f->b);
	protect_half(f, 1, PROT_READ | PROT_WRITE);
	assert_int_equal(xlb_grace_count(f->grace), 1);
}

/*
 * A grace covers the flips made before it began (one wait for a batch of
 * VIPs), never one made while it was under way: that one waits for the
 * next.
 */
static void test_grace_covers_earlier_flips_only(void **state)
{
	struct fixture *f = *state;
	__u64 t1, t2;

	t1 = xlb_grace_flipped(f->grace);
	assert_true(eventually(gate_entered, &f->gate));
	t2 = xlb_grace_flipped(f->grace);
	assert_true(t2 > t1);
	gate_allow(&f->gate);
	assert_true(eventually(grace_passed_1, f->grace));
	assert_true(xlb_grace_passed(f->grace, t1));
	/* The second grace has not been let through. */
	assert_true(eventually(gate_entered, &f->gate));
	assert_false(xlb_grace_passed(f->grace, t2));
	gate_allow(&f->gate);
	xlb_grace_wait(f->grace, t2);
	assert_int_equal(xlb_grace_count(f->grace), 2);
	/* Ticket 0 (a ring never flipped) needs no grace. */
	assert_true(xlb_grace_passed(f->grace, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spare_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_change_within_grace, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_grace_covers_earlier_flips_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
