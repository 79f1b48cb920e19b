// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The library's threads, signals left to the main thread (thread.h). */
#include <signal.h>

#include "thread.h"

int xlb_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int ret;

	/* A new thread inherits its creator's mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

void xlb_thread_stop(pthread_t t, pthread_mutex_t *lock, pthread_cond_t *cond,
		     bool *stop)
{
	pthread_mutex_lock(lock);
	*stop = true;
	pthread_cond_broadcast(cond);
	pthread_mutex_unlock(lock);
	pthread_join(t, NULL);
	pthread_cond_destroy(cond);
	pthread_mutex_destroy(lock);
}
