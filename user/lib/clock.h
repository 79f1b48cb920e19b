/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The programs' clock: milliseconds of CLOCK_MONOTONIC, the clock of
 * every deadline and timerfd in xlbd.
 */
#ifndef XLB_CLOCK_H
#define XLB_CLOCK_H

#include <linux/types.h>

__u64 xlb_now_ms(void);
/* The same in nanoseconds, for schedules finer than a millisecond. */
__u64 xlb_now_ns(void);

#endif /* XLB_CLOCK_H */
