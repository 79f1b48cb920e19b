// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Ring halves and their grace periods, waited for by a thread (ring_half.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ring_half.h"
#include "thread.h"

struct xlb_grace {
	xlb_grace_sync_fn sync;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;  /* flipped or done moved, or stop */
	__u64 flipped;	      /* the last ticket handed out */
	__u64 done;	      /* every ticket <= done is covered */
	__u64 count;	      /* grace periods waited for */
	unsigned int waiters; /* writers blocked in xlb_grace_wait */
	bool stop;
};

static void *grace_thread(void *arg)
{
	struct xlb_grace *g = arg;
	struct timespec retry = {.tv_nsec = 10 * 1000 * 1000};
	__u64 target;
	int ret;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		if (g->done >= g->flipped) {
			pthread_cond_wait(&g->cond, &g->lock);
			continue;
		}
		/* Every flip of a ticket <= target is in the maps already:
		 * a grace period that starts now covers them all. */
		target = g->flipped;
		pthread_mutex_unlock(&g->lock);
		ret = g->sync(g->ctx);
		if (ret) {
			/* Nothing waited: writers keep waiting, we retry. */
			xlb_log(LOG_ERR,
				"waiting for readers of ring halves: %s",
				strerror(-ret));
			nanosleep(&retry, NULL);
		}
		pthread_mutex_lock(&g->lock);
		if (!ret) {
			g->done = target;
			g->count++;
			pthread_cond_broadcast(&g->cond);
		}
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct xlb_grace *xlb_grace_new(xlb_grace_sync_fn sync, void *ctx)
{
	struct xlb_grace *g = calloc(1, sizeof(*g));
	int ret;

	if (!g)
		return NULL;
	g->sync = sync;
	g->ctx = ctx;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	ret = xlb_thread_start(&g->thread, grace_thread, g);
	if (ret) {
		pthread_cond_destroy(&g->cond);
		pthread_mutex_destroy(&g->lock);
		free(g);
		errno = ret;
		return NULL;
	}
	return g;
}

void xlb_grace_free(struct xlb_grace *g)
{
	if (!g)
		return;
	xlb_thread_stop(g->thread, &g->lock, &g->cond, &g->stop);
	free(g);
}

__u64 xlb_grace_flipped(struct xlb_grace *g)
{
	__u64 ticket;

	pthread_mutex_lock(&g->lock);
	ticket = ++g->flipped;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	return ticket;
}

bool xlb_grace_passed(struct xlb_grace *g, __u64 ticket)
{
	bool passed;

	pthread_mutex_lock(&g->lock);
	passed = g->done >= ticket;
	pthread_mutex_unlock(&g->lock);
	return passed;
}

void xlb_grace_wait(struct xlb_grace *g, __u64 ticket)
{
	pthread_mutex_lock(&g->lock);
	g->waiters++;
	while (g->done < ticket)
		pthread_cond_wait(&g->cond, &g->lock);
	g->waiters--;
	pthread_mutex_unlock(&g->lock);
}

unsigned int xlb_grace_waiters(struct xlb_grace *g)
{
	unsigned int n;

	pthread_mutex_lock(&g->lock);
	n = g->waiters;
	pthread_mutex_unlock(&g->lock);
	return n;
}

__u64 xlb_grace_count(struct xlb_grace *g)
{
	__u64 n;

	pthread_mutex_lock(&g->lock);
	n = g->count;
	pthread_mutex_unlock(&g->lock);
	return n;
}

/* A half's slots are consecutive words from its first element on. */
static __u32 *half_slots(const struct xlb_ring_halves *r, __u8 half)
{
	struct xlb_ring_elem *e = r->mem;

	return e[xlb_ring_elem(r->size, half, 0)].id;
}

static void write_half(struct xlb_ring_halves *r, __u8 half, const __u32 *table)
{
	memcpy(half_slots(r, half), table, (size_t)r->size * sizeof(*table));
}

const __u32 *xlb_ring_in_force(const struct xlb_ring_halves *r)
{
	return half_slots(r, r->half);
}

__u32 *xlb_ring_spare(struct xlb_ring_halves *r, struct xlb_grace *g)
{
	xlb_grace_wait(g, r->retired);
	return half_slots(r, !r->half);
}

void xlb_ring_write_spare(struct xlb_ring_halves *r, struct xlb_grace *g,
			  const __u32 *table)
{
	memcpy(xlb_ring_spare(r, g), table, (size_t)r->size * sizeof(*table));
	/* The table before the flip that publishes it (the flip is a
	 * syscall, but say so where it matters). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void xlb_ring_write_new(struct xlb_ring_halves *r, const __u32 *table,
			bool both)
{
	r->half = 0;
	write_half(r, 0, table);
	if (both)
		write_half(r, 1, table);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void xlb_ring_flipped(struct xlb_ring_halves *r, __u64 ticket)
{
	r->half = !r->half;
	r->retired = ticket;
}
