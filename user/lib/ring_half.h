/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Ring halves and their grace periods (see struct xlb_vip in types.h): a
 * VIP's ring holds two tables; a change writes the one not in force (the
 * spare) and then flips the VIP's ring_half. A half
 * that a flip took out of force may be rewritten only once no packet can
 * still be reading it. XDP programs run inside an RCU read-side section,
 * so one RCU grace period that starts after a flip covers it, and covers
 * every flip made before it started. A thread waits for them in the
 * background: a flip costs the writer nothing, unless it writes the same
 * VIP again before that grace is over; then it waits for it, never skips
 * it.
 *
 * Tickets order the flips: xlb_grace_flipped() is called once a batch of
 * flips is in the maps and returns the ticket a half retired by them
 * waits for; xlb_grace_wait() returns once a grace period that began
 * after that call has ended.
 */
#ifndef XLB_RING_HALF_H
#define XLB_RING_HALF_H

#include <stdbool.h>
#include <linux/types.h>
#include <xlb/types.h>

struct xlb_grace;

/*
 * Waits for one grace period of the data path's readers (xlbd: an update
 * of a map of maps, which the kernel returns from only after
 * synchronize_rcu()). 0, or -errno: the wait did not happen.
 */
typedef int (*xlb_grace_sync_fn)(void *ctx);

/* Starts the thread; NULL with errno set on failure. */
struct xlb_grace *xlb_grace_new(xlb_grace_sync_fn sync, void *ctx);
/* Stops the thread (after the grace under way) and frees g; NULL is ok. */
void xlb_grace_free(struct xlb_grace *g);

/* A batch of flips is in the maps: its ticket (> 0); wakes the thread. */
__u64 xlb_grace_flipped(struct xlb_grace *g);
/* Has a grace period passed since the flips of ticket? (0: always.) */
bool xlb_grace_passed(struct xlb_grace *g, __u64 ticket);
/* Blocks until it has. */
void xlb_grace_wait(struct xlb_grace *g, __u64 ticket);
/* Grace periods waited for so far, writers waiting now (tests). */
__u64 xlb_grace_count(struct xlb_grace *g);
unsigned int xlb_grace_waiters(struct xlb_grace *g);

/* A VIP's ring as its writer knows it. */
struct xlb_ring_halves {
	void *mem;     /* its map's XLB_RING_ENTRIES(size) elements, mapped */
	__u32 size;    /* M, a table's slots */
	__u8 half;     /* in force: what the VIP's entries say */
	__u64 retired; /* ticket of the flip that retired the spare half */
};

/* r's half in force, its size slots (read only: packets read them). */
const __u32 *xlb_ring_in_force(const struct xlb_ring_halves *r);
/*
 * r's spare half, its size slots, to be written in place once the grace
 * of the flip that retired it is over (this waits for it). The caller
 * then flips as after xlb_ring_write_spare().
 */
__u32 *xlb_ring_spare(struct xlb_ring_halves *r, struct xlb_grace *g);

/*
 * Writes table (size slots) into r's spare half, after waiting for the
 * grace of the flip that retired it. The half in force is never touched;
 * the caller then flips the VIP's entries to 1 - r->half and calls
 * xlb_ring_flipped() with the ticket of that batch.
 */
void xlb_ring_write_spare(struct xlb_ring_halves *r, struct xlb_grace *g,
			  const __u32 *table);
/*
 * Writes table into a ring no packet reads yet: half 0, and half 1 too
 * when `both` (when the VIP's entries may name either: a packet reads the
 * half they name, so a half they may name must be whole).
 */
void xlb_ring_write_new(struct xlb_ring_halves *r, const __u32 *table,
			bool both);
/* The flip is in the maps: the spare is in force, the other half retired. */
void xlb_ring_flipped(struct xlb_ring_halves *r, __u64 ticket);

#endif /* XLB_RING_HALF_H */
