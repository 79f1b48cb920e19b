/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The library's own threads (ring builders, the grace waiter, the
 * journal's syncer) start with every signal blocked: signals stay the
 * program's main thread's, which xlbd reads from a signalfd (a thread
 * with them unblocked would take them from it). Those that wait on a
 * condition for a stop flag are stopped by one function too.
 */
#ifndef XLB_THREAD_H
#define XLB_THREAD_H

#include <pthread.h>
#include <stdbool.h>

/* pthread_create, every signal blocked in the thread: 0 or an errno. */
int xlb_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/*
 * Stops thread t, which waits on cond (under lock) until *stop: sets
 * *stop, wakes and joins it, then destroys lock and cond.
 */
void xlb_thread_stop(pthread_t t, pthread_mutex_t *lock, pthread_cond_t *cond,
		     bool *stop);

#endif /* XLB_THREAD_H */
