/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xlb-agent's first duty: the decapsulation program on the backend's NIC
 * and the addresses that accept tunnels (every address of the interface,
 * plus any given with --address).
 */
#ifndef XLB_AGENT_DECAP_H
#define XLB_AGENT_DECAP_H

#include <xdp/libxdp.h>
#include "model.h"

#define AGENT_MAX_EXTRA 16

struct agent_decap_opts {
	const char *ifname;
	enum xdp_attach_mode mode;
	unsigned long gue_port;
	union xlb_addr extra[AGENT_MAX_EXTRA];
	__u8 extra_family[AGENT_MAX_EXTRA];
	int n_extra;
};

struct agent_decap;

/* Attaches and configures decap; NULL when that failed (logged). */
struct agent_decap *agent_decap_attach(const struct agent_decap_opts *o);
/* Detaches it again and frees d. */
void agent_decap_detach(struct agent_decap *d);

#endif /* XLB_AGENT_DECAP_H */
