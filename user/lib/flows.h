/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The flow table from userspace (layout: include/xlb/flow.h): sizing it in
 * a balancer object before load, and reading, planting and clearing ways
 * through mmap, without a syscall per flow. xlbd purges through it; the
 * tests and the benchmark plant and read flows through it.
 */
#ifndef XLB_FLOWS_H
#define XLB_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>
#include <xlb/types.h>
#include <xlb/flow.h>

/* Both tables of a loaded balancer, mapped. */
struct xlb_flows {
	int ncpus;
	__u32 shift4, shift6; /* log2(buckets per CPU), from max_entries */
	struct xlb_flow_bucket4 *b4;
	struct xlb_flow_bucket6 *b6;
	size_t len4, len6; /* bytes mapped */
};

/*
 * Sets the tables of an opened, not yet loaded, balancer object to hold
 * max_flows flows over the possible CPUs: the maps' max_entries and the
 * program's xlb_flow_shift4/6. 0 or -errno.
 */
int xlb_flows_size(struct bpf_object *obj, __u32 max_flows);

/*
 * Whether packets of one flow may reach several CPUs (veth, generic XDP:
 * no RSS steering by flow), so the data path keeps the CPUs' parts of the
 * table coherent (bpf/flow.h). Before load; 0 or -errno.
 */
int xlb_flows_set_coherent(struct bpf_object *obj, bool coherent);

/*
 * Maps flows4 and flows6 (fds of a loaded balancer or of its pins) and
 * learns their geometry from their max_entries. 0 or -errno.
 */
int xlb_flows_open(struct xlb_flows *t, int fd4, int fd6);
/*
 * The tables pinned under pin_dir, mapped read-only: for readers
 * (`xlb flow list`), which must never change what the data path holds.
 * Only the walk below and xlb_flows_get/count may be used on them.
 */
int xlb_flows_open_pinned(struct xlb_flows *t, const char *pin_dir);
void xlb_flows_close(struct xlb_flows *t);

/* The entry of key on cpu, copied into e (e may be NULL). */
bool xlb_flows_get(const struct xlb_flows *t, __u32 cpu,
		   const struct xlb_flow_key *k, struct xlb_flow_entry *e);
/*
 * Plants e for key on cpu: in its own way when present, else the first
 * empty one, else way 0. -ENOENT when the table is not mapped.
 */
int xlb_flows_put(struct xlb_flows *t, __u32 cpu, const struct xlb_flow_key *k,
		  const struct xlb_flow_entry *e);
/* Ways in use over every CPU. */
__u64 xlb_flows_count(const struct xlb_flows *t);
/*
 * Empties every way naming backend_id (or every way when backend_id is 0).
 * Clearing proto alone empties a way in one byte store, so a packet on
 * another CPU sees the way whole or empty. Returns the ways emptied.
 */
__u64 xlb_flows_clear(struct xlb_flows *t, __u32 backend_id);

/* One way in use, as a reader saw it. */
struct xlb_flow_seen {
	struct xlb_flow_key key;
	struct xlb_flow_entry e;
	__u32 cpu; /* whose part of the table holds it */
};

typedef int (*xlb_flows_walk_fn)(const struct xlb_flow_seen *s, void *ctx);
/*
 * Calls fn for every way in use (proto set: what the data path
 * compares), IPv4 then IPv6, from a copy of each way: no writes, no
 * locks, no syscalls, so it never slows or changes the data path. A way
 * rewritten during the copy may be seen in either state. Stops at fn's
 * first non-zero return and returns it.
 */
int xlb_flows_walk(const struct xlb_flows *t, xlb_flows_walk_fn fn, void *ctx);

#endif /* XLB_FLOWS_H */
