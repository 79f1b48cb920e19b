/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The change set of one apply: given what the maps hold (the model they
 * were written from and the entries written) and the model wanted next,
 * which backend entries to write, which stats to zero, which rings to
 * rebuild, which VIP entries and ids to remove and which backend ids to
 * retire. Computed before anything is written, with no kernel, so the
 * writer (dp_write.c) only follows it in the safe order:
 *
 *   1. backends (stats zeroed first), then rings: each table written
 *      into the spare half of its VIP's ring, or into a new ring map
 *      (new VIP ids), those swapped in one batch;
 *   2. every VIP of next, its info, address and port entries (a ring's
 *      flip to its new half is this write);
 *   3. VIP entries next lacks, then the ids they used: VIP ids (info,
 *      ring), backend ids (marked unused; flows may still name them).
 */
#ifndef XLB_CHANGES_H
#define XLB_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include "model.h"

/* What the maps hold before the apply, as far as the change set asks. */
struct xlb_written {
	const struct xlb_backend *backends; /* [XLB_MAX_BACKENDS] entries */
	const __u64 *fingerprint; /* [XLB_MAX_VIPS]: 0 = no table built */
	/* Ids new to this apply, whose stats start at 0. */
	const __u8 *fresh_vip;	   /* [XLB_MAX_VIPS] */
	const __u8 *fresh_backend; /* [XLB_MAX_BACKENDS] */
};

struct xlb_change_backend {
	__u32 id;
	bool zero_stats; /* a fresh id */
	bool write;	 /* the map's entry differs from `entry` */
	struct xlb_backend entry;
	const struct xlb_vip_cfg *vip;	   /* NULL when retired */
	const struct xlb_backend_cfg *cfg; /* NULL when retired */
};

struct xlb_changes {
	/* 1. Every backend of next, in next's order. */
	struct xlb_change_backend *backends;
	size_t n_backends;
	__u32 *zero_vips; /* fresh VIP ids */
	size_t n_zero_vips;
	const struct xlb_vip_cfg **rings; /* tables to build and swap in */
	/* For each, the VIP in cur when its table there is the new one
	 * with fewer backends out (xlb_changes_more_out): the ring in
	 * force is patched instead of built; else NULL. */
	const struct xlb_vip_cfg **patch_from;
	size_t n_rings;
	/* 3. VIP and address entries next lacks (an address may repeat). */
	struct xlb_vip_key *del_keys;
	size_t n_del_keys;
	__u32 *clear_vips; /* VIP ids next lacks */
	size_t n_clear_vips;
	struct xlb_change_backend *retire; /* backend ids next lacks */
	size_t n_retire;
};

/* 0 or -ENOMEM; cs is then the caller's to free (also on failure). */
int xlb_changes_compute(const struct xlb_written *w,
			const struct xlb_model *cur,
			const struct xlb_model *next, struct xlb_changes *cs);
void xlb_changes_free(struct xlb_changes *cs);

/*
 * What a backend is to its VIP's ring: its weight in the fill, and
 * whether it is out (any state but `up`: it takes no new flows, and its
 * slots go to others, see struct xlb_maglev_backend).
 */
__u32 xlb_changes_ring_weight(const struct xlb_backend_cfg *b);
bool xlb_changes_ring_out(const struct xlb_backend_cfg *b);

/*
 * Whether v's ring is was's with backends gone out and nothing else:
 * the same id, size and (id, address, weight) list, and every backend
 * out in was out in v.
 */
bool xlb_changes_more_out(const struct xlb_vip_cfg *was,
			  const struct xlb_vip_cfg *v);

/* The "VIP address" entry of a VIP's address (see types.h). */
struct xlb_vip_key xlb_changes_addr_key(const struct xlb_vip_key *k);
bool xlb_changes_has_addr(const struct xlb_model *m,
			  const struct xlb_vip_key *k);

/* Sets vip_mark[id] and backend_mark[id] for the ids m uses, clears the
 * rest ([XLB_MAX_VIPS] and [XLB_MAX_BACKENDS]). */
void xlb_changes_mark_ids(const struct xlb_model *m, __u8 *vip_mark,
			  __u8 *backend_mark);

#endif /* XLB_CHANGES_H */
