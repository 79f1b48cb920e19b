// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The health checker's engine (health.h): every check is a slot, every
 * running probe one non-blocking socket or pidfd in the caller's epoll set
 * (the probes: hc_probe.c), and one timerfd wakes the engine for the next
 * due run or timeout.
 *
 * The schedule (hc_sched.c) is a binary min-heap with one entry per check,
 * keyed by the check's next deadline: its next run, or its running probe's
 * timeout when that comes first. An id -> slot hash (open addressing, here)
 * serves set and del. So every event costs O(log n) whatever the number of
 * checks.
 *
 * Slots live in chunks that neither move nor go back to malloc before
 * xlb_hc_free: the caller's epoll batch may still hold an event whose
 * data.ptr is the watch of a slot whose probe has ended (or whose check
 * was deleted by a callback earlier in the same batch). Handlers never
 * trust the event mask for that reason; they ask the fd itself (connect()
 * again, recv, waitpid with WNOHANG), so such a stale event does nothing.
 *
 * A result is always the last thing a path does, after the engine's state
 * is whole again, so the result callback may call xlb_hc_set and
 * xlb_hc_del (but not xlb_hc_free).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hc_priv.h"

/* splitmix64's finaliser: ids 1, 2, 3... land far apart. */
static __u64 mix64(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* ---- id -> slot map ---------------------------------------------------- */

static struct hc_map_ent *map_find(const struct xlb_hc *e, __u32 id)
{
	__u32 i = mix64(id) & e->map_mask;

	for (;; i = (i + 1) & e->map_mask) {
		if (e->map[i].slot == HC_NONE)
			return NULL;
		if (e->map[i].id == id)
			return &e->map[i];
	}
}

static void map_put(struct hc_map_ent *map, __u32 mask, __u32 id, __u32 slot)
{
	__u32 i = mix64(id) & mask;

	while (map[i].slot != HC_NONE)
		i = (i + 1) & mask;
	map[i].id = id;
	map[i].slot = slot;
}

/* Makes room for one more entry, keeping the load at most one half. */
static int map_reserve(struct xlb_hc *e)
{
	__u32 cap = e->map_mask + 1, ncap = cap * 2;
	struct hc_map_ent *map;

	if ((e->count + 1) * 2 <= cap)
		return 0;
	map = malloc(ncap * sizeof(*map));
	if (!map)
		return -ENOMEM;
	for (__u32 i = 0; i < ncap; i++)
		map[i].slot = HC_NONE;
	for (__u32 i = 0; i < cap; i++)
		if (e->map[i].slot != HC_NONE)
			map_put(map, ncap - 1, e->map[i].id, e->map[i].slot);
	free(e->map);
	e->map = map;
	e->map_mask = ncap - 1;
	return 0;
}

/* Backward-shift deletion: no tombstones, so look-ups stay short. */
static void map_remove(struct xlb_hc *e, struct hc_map_ent *ent)
{
	__u32 mask = e->map_mask, i = ent - e->map, j = i, home;

	for (;;) {
		e->map[i].slot = HC_NONE;
		for (;;) {
			j = (j + 1) & mask;
			if (e->map[j].slot == HC_NONE)
				return;
			home = mix64(e->map[j].id) & mask;
			/* Stays if its home lies cyclically in (i, j]. */
			if (i <= j ? (i < home && home <= j)
				   : (i < home || home <= j))
				continue;
			break;
		}
		e->map[i] = e->map[j];
		i = j;
	}
}

/* ---- the timer --------------------------------------------------------- */

static void on_timer(struct xlb_watch *w, uint32_t events)
{
	struct xlb_hc *e = container_of(w, struct xlb_hc, timer_watch);
	__u64 ticks, now = xlb_now_ns();
	struct hc_check *s;
	ssize_t n;

	(void)events;
	/*
	 * Drains the expiry count; EAGAIN (a stale event) changes nothing:
	 * the heap says what is due either way.
	 */
	n = read(e->tfd, &ticks, sizeof(ticks));
	(void)n;
	e->armed = 0;
	for (int i = 0; i < HC_BATCH && e->heap_len && e->heap[0].key <= now;
	     i++) {
		s = hc_slot_at(e, e->heap[0].slot);
		if (s->phase == HC_IDLE) {
			s->start = xlb_now_ns();
			hc_advance(s, s->start);
			hc_probe_start(s);
		} else if (s->start + s->timeout_ms * NS_PER_MS <= now) {
			hc_probe_end(s, false, "timeout");
		} else {
			/* Still running when due: skip, never stack. */
			hc_advance(s, now);
			hc_sched_update(s);
		}
	}
	hc_arm(e);
}

/* Takes a slot, from the free list or a new chunk. */
static int slot_alloc(struct xlb_hc *e, __u32 *idx)
{
	struct hc_check **chunks, *chunk;

	if (e->free_slot != HC_NONE) {
		*idx = e->free_slot;
		e->free_slot = hc_slot_at(e, *idx)->heap_pos;
		return 0;
	}
	if (e->n_slots == e->n_chunks * HC_CHUNK) {
		chunks =
			realloc(e->chunks, (e->n_chunks + 1) * sizeof(*chunks));
		if (!chunks)
			return -ENOMEM;
		e->chunks = chunks;
		chunk = calloc(HC_CHUNK, sizeof(*chunk));
		if (!chunk)
			return -ENOMEM;
		for (__u32 i = 0; i < HC_CHUNK; i++) {
			chunk[i].watch.fn = hc_on_probe;
			chunk[i].e = e;
			chunk[i].fd = -1;
		}
		e->chunks[e->n_chunks++] = chunk;
	}
	*idx = e->n_slots++;
	return 0;
}

int xlb_hc_set(struct xlb_hc *e, const struct hc_target *t)
{
	struct hc_map_ent *m;
	struct hc_spec *sp;
	struct hc_check *s;
	__u32 idx;
	int ret;

	ret = hc_spec_new(e, t, &sp);
	if (ret)
		return ret;
	m = map_find(e, t->id);
	if (m) {
		s = hc_slot_at(e, m->slot);
		hc_probe_stop(s);
		hc_spec_free(e, s->spec);
	} else {
		ret = map_reserve(e);
		if (!ret)
			ret = hc_heap_reserve(e);
		if (!ret)
			ret = slot_alloc(e, &idx);
		if (ret) {
			hc_spec_free(e, sp);
			return ret;
		}
		s = hc_slot_at(e, idx);
		s->id = t->id;
		map_put(e->map, e->map_mask, t->id, idx);
		e->heap[e->heap_len] = (struct hc_heap_ent){.slot = idx};
		s->heap_pos = e->heap_len++;
		e->count++;
	}
	s->spec = sp;
	s->kind = t->cfg.kind;
	s->interval_ms = t->cfg.interval_ms;
	s->timeout_ms = t->cfg.timeout_ms;
	/* Spread over one interval by the id, so a batch does not burst. */
	s->next_run =
		xlb_now_ns() + mix64(t->id) % (s->interval_ms * NS_PER_MS);
	hc_sched_update(s);
	hc_arm(e);
	return 0;
}

void xlb_hc_del(struct xlb_hc *e, __u32 id)
{
	struct hc_map_ent *m = map_find(e, id);
	struct hc_check *s;
	__u32 idx;

	if (!m)
		return;
	idx = m->slot;
	s = hc_slot_at(e, idx);
	hc_probe_stop(s);
	hc_heap_remove(e, s->heap_pos);
	map_remove(e, m);
	hc_spec_free(e, s->spec);
	s->spec = NULL;
	s->heap_pos = e->free_slot;
	e->free_slot = idx;
	e->count--;
}

size_t xlb_hc_count(const struct xlb_hc *e)
{
	return e->count;
}

struct xlb_hc *xlb_hc_new(int epfd, hc_result_fn fn, void *ctx)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct xlb_hc *e;
	sigset_t set;
	int err;

	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->epfd = epfd;
	e->fn = fn;
	e->ctx = ctx;
	e->free_slot = HC_NONE;
	e->timer_watch.fn = on_timer;
	e->map_mask = 63;
	e->map = malloc((e->map_mask + 1) * sizeof(*e->map));
	if (!e->map)
		goto err_free;
	for (__u32 i = 0; i <= e->map_mask; i++)
		e->map[i].slot = HC_NONE;

	/*
	 * Children get their own process group (one kill reaches what the
	 * shell started), no blocked signals and default dispositions: xlbd
	 * blocks SIGTERM for its signalfd and ignores SIGPIPE, and both
	 * would otherwise outlive exec.
	 */
	if (posix_spawnattr_init(&e->spawn_attr))
		goto err_map;
	sigemptyset(&set);
	posix_spawnattr_setsigmask(&e->spawn_attr, &set);
	sigfillset(&set);
	posix_spawnattr_setsigdefault(&e->spawn_attr, &set);
	posix_spawnattr_setpgroup(&e->spawn_attr, 0);
	posix_spawnattr_setflags(
		&e->spawn_attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					POSIX_SPAWN_SETSIGDEF);
	if (posix_spawn_file_actions_init(&e->spawn_fa))
		goto err_attr;
	if (posix_spawn_file_actions_addopen(&e->spawn_fa, 0, "/dev/null",
					     O_RDONLY, 0) ||
	    posix_spawn_file_actions_addopen(&e->spawn_fa, 1, "/dev/null",
					     O_WRONLY, 0) ||
	    posix_spawn_file_actions_adddup2(&e->spawn_fa, 1, 2))
		goto err_fa;

	e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (e->tfd < 0)
		goto err_fa;
	ev.data.ptr = &e->timer_watch;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, e->tfd, &ev))
		goto err_tfd;
	return e;

err_tfd:
	err = errno;
	close(e->tfd);
	errno = err;
err_fa:
	posix_spawn_file_actions_destroy(&e->spawn_fa);
err_attr:
	posix_spawnattr_destroy(&e->spawn_attr);
err_map:
	free(e->map);
err_free:
	free(e);
	return NULL;
}

void xlb_hc_free(struct xlb_hc *e)
{
	if (!e)
		return;
	e->closing = true;
	for (__u32 i = 0; i < e->n_slots; i++) {
		struct hc_check *s = hc_slot_at(e, i);

		hc_probe_stop(s);
		hc_spec_free(e, s->spec);
	}
	hc_reap_all(e);
	for (__u32 i = 0; i < e->n_chunks; i++)
		free(e->chunks[i]);
	free(e->chunks);
	epoll_ctl(e->epfd, EPOLL_CTL_DEL, e->tfd, NULL);
	close(e->tfd);
	posix_spawn_file_actions_destroy(&e->spawn_fa);
	posix_spawnattr_destroy(&e->spawn_attr);
	free(e->heap);
	free(e->map);
	free(e);
}
