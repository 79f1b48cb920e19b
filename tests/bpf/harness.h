/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The loaded programs and their map fds (harness.c), shared by the runner
 * (main.c), the setup helpers (setup.c) and the fuzz suite. Cases do not
 * use this directly.
 */
#ifndef XLB_TESTS_HARNESS_H
#define XLB_TESTS_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <bpf/libbpf.h>
#include <xlb/types.h>
#include <xlb/counters.h>
#include "golden.h"
#include "flows.h"

struct harness {
	bool verbose;
	int ncpus;
	int cpu; /* the one CPU the run is pinned to: its flows are ours */
	/* balancer */
	int bal_prog;
	int vips, vip_info, rings, backends, config, filter, counters;
	int vip_stats, backend_stats, flow_rate;
	int vip_flows, backend_flows; /* new flows per VIP / backend id */
	int nat_fwd, nat_rev, nat_subpools, nat_cpu, nat_events;
	int trace_cfg, trace_scratch, trace_events; /* `xlb trace` */
	int uplink_set, uplink_tx, uplink_load;	    /* egress uplinks */
	struct xlb_flows flows; /* flows4 and flows6, mapped */
	__u32 ncounters;	/* entries of counters: XLB_CNT_MAX for ours */
	/* rings entries written since the last reset (each costs an RCU
	 * grace period to delete, so only these are deleted) */
	bool ring_set[XLB_MAX_VIPS];
	/* decap */
	int dec_prog;
	int decap_addrs, decap_active, decap_config, decap_counters;
	/* health-check tunnel (TC egress), over the balancer's backends
	 * and config maps; cases_hc.c runs it and reads its counters */
	int hc_prog, hc_counters;
};

extern struct harness H;

/* Pins the run to one CPU and learns the CPU count. 0 or -errno. */
int harness_init(void);
/*
 * Loads the balancer, decap and health-check programs from their
 * skeletons, or (balance_obj set) only the balancer from that object
 * file. 0 or a negative errno.
 */
int harness_load(const char *balance_obj);
void harness_unload(void);
/* libbpf's messages: warnings, everything with H.verbose. */
int harness_print(enum libbpf_print_level level, const char *fmt, va_list ap);

/*
 * Sub-pool and pool ids below these are the ones golden cases use; only
 * they are zeroed between cases (65536 sub-pools each time would be slow).
 */
#define GOLDEN_SUBPOOLS 16
#define GOLDEN_POOLS	8

/* Puts every map of the program back to empty / zero. */
int reset_balance(void);
int reset_decap(void);

/* Sums a per-CPU array of xlb_counter into out[0..n). */
int percpu_sum(int fd, __u32 n, struct xlb_counter *out);

struct snap {
	struct xlb_counter cnt[(int)XLB_CNT_MAX > (int)XLB_DECAP_MAX
				       ? XLB_CNT_MAX
				       : XLB_DECAP_MAX];
	struct xlb_counter vip[XLB_MAX_VIPS];
	struct xlb_counter be[XLB_MAX_BACKENDS];
};

/* Every counter of the program (and, for the balancer, its stats). */
int snapshot(enum prog_kind k, struct snap *s);

#endif /* XLB_TESTS_HARNESS_H */
