// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The balancer with the kernel LRU hash as its flow table instead of the
 * set-associative arrays: the baseline flow_hit_many and bytes_per_flow
 * compare the table with, in the same run. Built from the balancer's own
 * source, so the two differ in the flow lookup and insert only (bpf/flow.h);
 * xlbd never loads it.
 */
#define XLB_FLOW_LRU
#include "balance.bpf.c"
