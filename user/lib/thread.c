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
