/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The library's own threads (ring builders, the grace waiter, the
 * journal's syncer) start with every signal blocked: signals stay the
 * program's main thread's, which xlbd reads from a signalfd (a thread
 * with them unblocked would take them from it).
 */
#ifndef XLB_THREAD_H
#define XLB_THREAD_H

#include <pthread.h>

/* pthread_create, every signal blocked in the thread: 0 or an errno. */
int xlb_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif /* XLB_THREAD_H */
