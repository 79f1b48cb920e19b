/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Reading what the data path counted, straight from the pinned maps: the
 * CLI's `xlb stats` (which must work while xlbd is down) and xlbd's
 * metrics use these. Nothing here writes a map. The helpers that take a
 * map fd work as well on xlbd's own fds as on those of xlb_pins_open.
 */
#ifndef XLB_STATS_H
#define XLB_STATS_H

#include <stddef.h>
#include <xlb/types.h>
#include <xlb/counters.h>
#include "model.h"

/* Where xlbd pins the balancer's maps unless told otherwise. */
#define XLB_PIN_DIR_DEFAULT "/sys/fs/bpf/xlb"

/* Read-only fds of the pinned maps (names as in bpf/maps.h); -1 = closed. */
struct xlb_pins {
	int vips, maglev_rings, backends, flows4, flows6, config;
	int counters, vip_stats, backend_stats;
	int vip_flows, backend_flows;
};

/*
 * Opens every map above under pin_dir, read-only, and checks that each
 * has the type and key/value sizes of this version. On error nothing is
 * left open and err says which map and why ("no xlb maps pinned at DIR
 * (is xlbd running, or --pin-dir?)" when there are none).
 */
int xlb_pins_open(const char *pin_dir, struct xlb_pins *p, struct xlb_err *err);
void xlb_pins_close(struct xlb_pins *p);

/*
 * Sum over all possible CPUs of entry id of a PERCPU_ARRAY whose value is
 * struct xlb_counter (counters, vip_stats, backend_stats). 0 or -errno.
 */
int xlb_counter_sum(int percpu_map_fd, __u32 id, struct xlb_counter *out);

/*
 * Sum over all possible CPUs of entry id of a PERCPU_ARRAY whose value is
 * a __u64 (vip_flows, backend_flows: flows started). 0 or -errno.
 */
int xlb_flows_sum(int percpu_map_fd, __u32 id, __u64 *out);

/*
 * All global counters, indexed by enum xlb_counter_id; *rx gets the sum
 * of the verdicts, i.e. every packet the balancer saw (rx may be NULL).
 */
int xlb_counters_read(int counters_fd, struct xlb_counter out[XLB_CNT_MAX],
		      struct xlb_counter *rx);

/* One VIP as the data path sees it. */
struct xlb_vip_entry {
	struct xlb_vip_key key;
	struct xlb_vip val;
};

/*
 * The VIPs of the vips map, sorted by (family, addr, port, proto),
 * without the ICMP entries that only mark an address as a VIP address.
 * *out is malloc'd (free it); *n may be 0 with *out NULL.
 */
int xlb_vips_read(int vips_fd, struct xlb_vip_entry **out, size_t *n);

/* The value of one VIP: 0, -ENOENT when it is not in the map, -errno. */
int xlb_vip_lookup(int vips_fd, const struct xlb_vip_key *key,
		   struct xlb_vip *out);

/* One allocated backend id. */
struct xlb_backend_entry {
	__u32 id;
	struct xlb_backend val;
};

/*
 * The backend ids in use (state != XLB_BACKEND_UNUSED), by increasing id.
 * *out is malloc'd (free it); *n may be 0 with *out NULL.
 */
int xlb_backends_read(int backends_fd, struct xlb_backend_entry **out,
		      size_t *n);

/*
 * Traffic sent to one backend address: the sum over every id holding it
 * (an address behind several VIPs has one id per VIP). *n_ids gets how
 * many ids matched (may be NULL); 0 ids is not an error, the caller
 * decides what an unknown address means.
 */
int xlb_backend_addr_sum(int backends_fd, int backend_stats_fd,
			 const union xlb_addr *addr, __u8 family,
			 struct xlb_counter *out, size_t *n_ids);

#endif /* XLB_STATS_H */
