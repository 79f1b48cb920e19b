/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The fuzz oracle: what the balancer may do with a frame, decided from
 * the frame alone by a parser of its own (not bpf/parse.h) and the world
 * the suite configured (the shadow in struct tc), then a judge of what the
 * program did. A frame may be passed untouched, dropped, encapsulated to
 * a serving backend of the VIP its packet (or, for an ICMP error, the
 * quoted flow) is addressed to, or answered with a well-formed ICMP echo
 * reply or "too big" error to a unicast source; the oracle names the one
 * that the documented rules give.
 */
#ifndef XLB_FUZZ_ORACLE_H
#define XLB_FUZZ_ORACLE_H

#include "../bpf/golden.h"

enum want {
	W_PASS,	  /* untouched, to the kernel */
	W_DROP,	  /* dropped */
	W_ENCAP,  /* encapsulated to a serving backend of vip */
	W_ECHO,	  /* answered in place with an echo reply */
	W_TOOBIG, /* answered with an ICMP "too big" error */
};

struct expect {
	enum want want;
	const char *why;  /* the rule that gives it (tallied on failure) */
	__u32 l2, ip_len; /* from the frame */
	bool v6;	  /* the IP packet's family */
	const struct xlb_vip *vip;
	struct xlb_flow_key key; /* the flow, client's view */
	__u32 drain_ok;		 /* a draining backend the flow table names */
};

/* What the balancer must do with frame d[0..len) in world t. */
void oracle_expect(struct tc *t, const __u8 *d, __u32 len, struct expect *e);

/*
 * Judges the program's action and output against e. Returns NULL when
 * they are allowed, else why not (a static string).
 */
const char *oracle_judge(struct tc *t, const struct expect *e, const __u8 *in,
			 __u32 in_len, __u32 action, const __u8 *out,
			 __u32 out_len);

#endif /* XLB_FUZZ_ORACLE_H */
