// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The programs' clock (clock.h). */
#include <time.h>
#include "clock.h"

__u64 xlb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

__u64 xlb_now_ms(void)
{
	return xlb_now_ns() / 1000000;
}
