// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The balancer with `xlb trace`'s capture compiled out: what tracing
 * costs when no trace runs is the difference between the scenarios run
 * on it (*_notrace) and the same ones on the balancer xlbd loads, in the
 * same run. Built from the balancer's own source; xlbd never loads it.
 */
#define XLB_TRACE_NONE
#include "balance.bpf.c"
