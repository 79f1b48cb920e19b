// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The health engine's schedule (hc_priv.h): a min-heap of every check by
 * its next moment (its next run, or the deadline of its running probe),
 * and the one timerfd that follows the heap's top. The engine (health.c)
 * and the probes (hc_probe.c) both re-key checks here; nothing here calls
 * back into them.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>

#include "hc_priv.h"

static void heap_place(struct xlb_hc *e, __u32 pos, struct hc_heap_ent ent)
{
	e->heap[pos] = ent;
	hc_slot_at(e, ent.slot)->heap_pos = pos;
}

static void heap_fix(struct xlb_hc *e, __u32 pos)
{
	struct hc_heap_ent ent = e->heap[pos];
	__u32 child;

	while (pos > 0 && e->heap[(pos - 1) / 2].key > ent.key) {
		heap_place(e, pos, e->heap[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	for (;;) {
		child = 2 * pos + 1;
		if (child >= e->heap_len)
			break;
		if (child + 1 < e->heap_len &&
		    e->heap[child + 1].key < e->heap[child].key)
			child++;
		if (e->heap[child].key >= ent.key)
			break;
		heap_place(e, pos, e->heap[child]);
		pos = child;
	}
	heap_place(e, pos, ent);
}

int hc_heap_reserve(struct xlb_hc *e)
{
	__u32 cap = e->heap_cap ? e->heap_cap * 2 : 64;
	struct hc_heap_ent *heap;

	if (e->heap_len < e->heap_cap)
		return 0;
	heap = realloc(e->heap, cap * sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	e->heap = heap;
	e->heap_cap = cap;
	return 0;
}

void hc_heap_remove(struct xlb_hc *e, __u32 pos)
{
	e->heap_len--;
	if (pos == e->heap_len)
		return;
	heap_place(e, pos, e->heap[e->heap_len]);
	heap_fix(e, pos);
}

/* The timerfd follows the heap's top, armed HC_SLACK_NS late. */
void hc_arm(struct xlb_hc *e)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	__u64 at;

	if (!e->heap_len)
		return;
	at = e->heap[0].key + HC_SLACK_NS;
	/* An earlier expiry is harmless: that wake-up re-arms. */
	if (e->armed && e->armed <= at)
		return;
	its.it_value.tv_sec = at / NS_PER_S;
	its.it_value.tv_nsec = at % NS_PER_S;
	if (!timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		e->armed = at;
}

void hc_sched_update(struct hc_check *s)
{
	struct xlb_hc *e = s->e;
	__u64 key = s->next_run;

	if (s->phase != HC_IDLE) {
		__u64 deadline = s->start + s->timeout_ms * NS_PER_MS;

		if (deadline < key)
			key = deadline;
	}
	e->heap[s->heap_pos].key = key;
	heap_fix(e, s->heap_pos);
}

/* Next run: the first multiple of the interval past now, never drifting. */
void hc_advance(struct hc_check *s, __u64 now)
{
	__u64 iv = s->interval_ms * NS_PER_MS;

	if (s->next_run <= now)
		s->next_run += ((now - s->next_run) / iv + 1) * iv;
}
