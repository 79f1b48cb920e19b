/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The loaded programs and their map fds, shared by the runner (main.c)
 * and the setup helpers (setup.c). Cases do not use this directly.
 */
#ifndef XLB_TESTS_HARNESS_H
#define XLB_TESTS_HARNESS_H

#include <stdbool.h>
#include <xlb/types.h>

struct harness {
	bool verbose;
	int ncpus;
	/* balancer */
	int bal_prog;
	int vips, vip_info, rings, backends, flows, config, filter, counters;
	int vip_stats, backend_stats, flow_rate;
	/* rings entries written since the last reset (each costs an RCU
	 * grace period to delete, so only these are deleted) */
	bool ring_set[XLB_MAX_VIPS];
	/* decap */
	int dec_prog;
	int decap_addrs, decap_config, decap_counters;
	/* health-check tunnel (TC egress), over the balancer's backends
	 * and config maps; cases_hc.c runs it and reads its counters */
	int hc_prog, hc_counters;
};

extern struct harness H;

/* Puts every map of the program back to empty / zero. */
int reset_balance(void);
int reset_decap(void);

#endif /* XLB_TESTS_HARNESS_H */
