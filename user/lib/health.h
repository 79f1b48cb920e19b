/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The health checker: runs TCP, HTTP, UDP and exec checks on one epoll
 * set with non-blocking sockets and one timer, no thread per check, and
 * reports every result to a callback. It knows nothing of rise, fall or
 * weights: the caller's policy turns results into states. An agent check
 * is a TCP probe that sends one line (the VIP) and hands back the line
 * it reads; whether that line means anything is the policy's to judge.
 *
 * A check "through the tunnel" is an ordinary socket to VIP:port whose
 * SO_MARK tells the balancer's TC egress program to encapsulate it toward
 * one backend; to this engine it is just a target with a mark.
 */
#ifndef XLB_HEALTH_H
#define XLB_HEALTH_H

#include <stdbool.h>
#include "model.h"
#include "watch.h"

struct xlb_hc;

struct hc_target {
	__u32 id;		  /* the caller's key (a backend id) */
	struct xlb_check_cfg cfg; /* kind != XLB_CHECK_NONE */
	__u8 family;		  /* XLB_AF_INET or XLB_AF_INET6, of dst */
	union xlb_addr dst;	  /* VIP (tunnel) or backend (plain) address */
	__u16 port;		  /* host order; non-zero but for exec */
	__u32 mark;		  /* SO_MARK of the check's socket; 0 = none */
	/*
	 * Marked (tunnel) checks: the NIC whose egress program encapsulates
	 * them (SO_BINDTODEVICE: never out bare by another route), and the
	 * TCP MSS that fits the underlay once encapsulated. "" / 0 = none.
	 */
	char ifname[16];
	__u16 mss;
	/* For exec checks' environment (XLB_BACKEND, XLB_VIP, XLB_PORT). */
	char env_backend[XLB_ADDR_STRLEN];
	char env_vip[XLB_VIP_STRLEN];
};

struct hc_result {
	__u32 id;
	bool ok;
	__u32 latency_us; /* from start to verdict */
	/* Why, for the operator: "ok", "timeout", "connect: Connection
	 * refused", "HTTP 503", "body lacks 'ready'", "exit 1", ... */
	char detail[96];
	/*
	 * Agent checks that got an answer (ok): the bytes read, up to and
	 * including the first newline, or all of them at EOF; a reply of
	 * XLB_AGENT_REPLY_MAX + 1 bytes had no newline within the limit.
	 * NUL-terminated, but a NUL inside is the agent's (reply_len says).
	 */
	__u16 reply_len;
	char reply[XLB_AGENT_REPLY_MAX + 2];
};

typedef void (*hc_result_fn)(void *ctx, const struct hc_result *r);

/* Registers its fds in epfd; their data.ptr are struct xlb_watch. */
struct xlb_hc *xlb_hc_new(int epfd, hc_result_fn fn, void *ctx);
void xlb_hc_free(struct xlb_hc *e);

/*
 * Adds the check t->id, or replaces it (a running probe of the old one is
 * abandoned without a result). The first run is spread over one interval
 * by a hash of the id, so many checks added at once do not burst.
 */
int xlb_hc_set(struct xlb_hc *e, const struct hc_target *t);
void xlb_hc_del(struct xlb_hc *e, __u32 id);
size_t xlb_hc_count(const struct xlb_hc *e);

#endif /* XLB_HEALTH_H */
