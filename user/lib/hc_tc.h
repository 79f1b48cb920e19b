/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Health checks through the tunnel, the kernel side: loads the TC egress
 * program xlb_hc_encap (bpf/hc_encap.bpf.c) over the balancer's own
 * `backends` and `config` maps and hooks it on the NIC's egress (clsact),
 * where it encapsulates every packet whose SO_MARK is
 * XLB_HC_MARK(backend id, gue) (xlb/types.h) toward that backend.
 *
 * The filter has a fixed handle and priority, so a restarted xlbd replaces
 * its own filter instead of stacking a second one; like the XDP program it
 * stays attached when the daemon goes, unless removed.
 */
#ifndef XLB_HC_TC_H
#define XLB_HC_TC_H

#include <stdbool.h>
#include <xlb/types.h>
#include <xlb/counters.h>
#include "model.h"

/* tc filter handle ("XL") and priority of our egress filter. */
#define XLB_HC_TC_HANDLE 0x584cU
/*
 * First on the hook: a filter before us that returned TC_ACT_OK would
 * send a check out unencapsulated. Packets that are not ours leave our
 * program with TC_ACT_UNSPEC, so the filters after us still see them.
 */
#define XLB_HC_TC_PRIO 1U

struct xlb_hc_tc;

/*
 * Loads the program with backends_fd and config_fd as its `backends` and
 * `config` maps (each checked to have the shape the program expects),
 * creates the clsact qdisc of ifindex if it has none, and attaches the
 * program on egress, replacing our previous filter if one is there.
 * With pin_dir, the hc_counters map is pinned there (<pin_dir>/hc_counters)
 * and reused when already pinned, so the counters survive a restart and
 * the CLI can read them; NULL keeps them private to this load.
 * Returns 0 with *out set, or a negative errno with err set.
 */
int xlb_hc_tc_attach(int ifindex, int backends_fd, int config_fd,
		     const char *pin_dir, struct xlb_hc_tc **out,
		     struct xlb_err *err);

/*
 * Releases h. remove = false leaves the filter attached (it keeps the
 * program and its maps alive: checks keep working while xlbd restarts);
 * true detaches it and unpins the counters. NULL is fine.
 */
void xlb_hc_tc_detach(struct xlb_hc_tc *h, bool remove);

/*
 * Detaches our filter from ifindex, if there is one, without a handle
 * (e.g. xlbd starting with no check through the tunnel left). 0 also when
 * there was nothing to remove.
 */
int xlb_hc_tc_remove(int ifindex, struct xlb_err *err);

/* The id of the attached program (for `xlb status`, bpftool). */
__u32 xlb_hc_tc_prog_id(const struct xlb_hc_tc *h);

/* The per-CPU hc_counters map (enum xlb_hc_counter_id -> xlb_counter). */
int xlb_hc_tc_counters_fd(const struct xlb_hc_tc *h);

/*
 * Sums hc_counters over the CPUs into out[0 .. XLB_HC_MAX); names are
 * xlb_hc_counter_names. Returns 0 or a negative errno.
 */
int xlb_hc_tc_counters(const struct xlb_hc_tc *h, struct xlb_counter *out);

#endif /* XLB_HC_TC_H */
