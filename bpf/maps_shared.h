/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The maps that more than one program uses: the XDP balancer (maps.h) and
 * the TC egress program of checks through the tunnel (hc_encap.bpf.c),
 * whose loader hands it the balancer's own fds (bpf_map__reuse_fd). One
 * definition, so their shapes cannot drift apart.
 */
#ifndef XLB_MAPS_SHARED_H
#define XLB_MAPS_SHARED_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xlb/types.h>

/* backend id -> address, family and state; read on every packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_backend);
} backends SEC(".maps");

/* Run-time knobs set by the controller (one element). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_config);
} config SEC(".maps");

#endif /* XLB_MAPS_SHARED_H */
