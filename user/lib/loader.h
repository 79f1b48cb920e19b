/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The one attach sequence of xlb's XDP programs (the balancer in xlbd, the
 * decapsulation in xlb-agent): find the interface, pin the object's maps
 * (mounting bpffs and making the pin directory when needed), adopt a
 * program of ours that is attached already or attach the object's with
 * libxdp in native or generic mode, and undo all of it on the way out.
 */
#ifndef XLB_LOADER_H
#define XLB_LOADER_H

#include <stdbool.h>
#include <xdp/libxdp.h>
#include "model.h"

#define XLB_PIN_ROOT "/sys/fs/bpf"

struct bpf_object;

struct xlb_xdp_opts {
	const char *what; /* for messages: "the balancer", "decap" */
	const char *ifname;
	const char *prog_name; /* the XDP program's name in the object */
	/*
	 * Where the maps are pinned and reused from; NULL: nowhere, and an
	 * attached program is never adopted.
	 */
	const char *pin_dir;
	/* A map that must be pinned for an attached program to be adopted. */
	const char *adopt_map;
	/*
	 * NULL, or a map whose layout is this version's (its name changes
	 * with it): an attached program that does not use the one pinned
	 * under that name is another version's, which cannot read what this
	 * one writes. It is detached, with a log line, and this one attached.
	 */
	const char *layout_map;
	enum xdp_attach_mode mode; /* XDP_MODE_NATIVE or XDP_MODE_SKB */
	/*
	 * NULL, or called once the pin paths are set, just before the load:
	 * adopting says an attached program will be kept. A chance to check
	 * pinned maps against the object (a flow table sized for another
	 * CPU count or --max-flows). 0 or -errno with err set.
	 */
	int (*before_load)(struct bpf_object *obj, const char *pin_dir,
			   bool adopting, struct xlb_err *err);
};

/* One XDP program on one interface, attached by us or adopted. */
struct xlb_xdp {
	struct bpf_object *obj;
	struct xdp_program *prog; /* NULL when adopted */
	int ifindex;
	enum xdp_attach_mode mode; /* an adopted program's own */
	bool adopted;		   /* it was attached when we started */
	__u32 prog_id;
	char pin_dir[256]; /* "" when not pinned */
};

/* "native" or "generic" (the --xdp-mode of every program); 0 or -EINVAL. */
int xlb_xdp_mode_parse(const char *s, enum xdp_attach_mode *mode);
const char *xlb_xdp_mode_name(enum xdp_attach_mode mode);

/* Mounts bpffs at XLB_PIN_ROOT when dir lies below it and it is missing. */
int xlb_ensure_bpffs(const char *dir, struct xlb_err *err);

/*
 * Loads obj (opened, not loaded) and attaches its program, or adopts the
 * one attached already (then the object is loaded only to reach the
 * pinned maps). On failure err says what failed and why.
 */
int xlb_xdp_open(struct xlb_xdp *x, struct bpf_object *obj,
		 const struct xlb_xdp_opts *o, struct xlb_err *err);

/*
 * Puts the balancer object's xlb_egress into its egress_prog slot (the
 * tail call of uplinks, bpf/uplink.h); after every load, adopted or not:
 * a program left attached by an earlier xlbd reaches the pinned slot.
 * 0 or -errno.
 */
int xlb_egress_bind(struct bpf_object *obj);

/*
 * Releases the program; with detach, first detaches it (adopted or not),
 * unpins the maps and removes the pin directory. The object stays the
 * caller's.
 */
void xlb_xdp_close(struct xlb_xdp *x, bool detach);

#endif /* XLB_LOADER_H */
