/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The weight policy: from the operator's model and the health checks'
 * results to the model the data plane gets. Rules, in order:
 * - an operator's drain or down always wins; a backend with no check is
 *   trusted;
 * - `fall` failed checks in a row take a backend down, `rise` good ones
 *   bring it back, with its weight ramped over the VIP's slow start;
 * - a backend that changed health `flap_count` times within the window is
 *   held down for `flap_hold_ms`;
 * - when every backend of a VIP is down, the VIP drops new traffic, or
 *   with all_down "keep" keeps its last ring.
 * Pure logic on times given by the caller, so it is tested without
 * sockets or clocks.
 */
#ifndef XLB_POLICY_H
#define XLB_POLICY_H

#include <stdbool.h>
#include "model.h"

#define XLB_FLAP_HISTORY 16
_Static_assert(XLB_FLAP_COUNT_MAX <= XLB_FLAP_HISTORY,
	       "the history holds enough changes to count");
/* Slow start ramps the weight in this many steps (each rebuilds a ring). */
#define XLB_SLOW_START_STEPS 10

enum xlb_health_state {
	XLB_HEALTH_UNCHECKED = 0, /* no check: trusted */
	XLB_HEALTH_UP,
	XLB_HEALTH_DOWN,
};

/* What the policy knows of one backend id. */
struct xlb_health {
	__u8 checked;	  /* a check is configured */
	__u8 state;	  /* enum xlb_health_state */
	__u8 ok_run;	  /* good results in a row */
	__u8 fail_run;	  /* bad results in a row */
	__u8 last_ok;	  /* last result */
	__u8 held;	  /* held down for flapping */
	__u8 n_flaps;	  /* entries used in flaps[] */
	__u8 seen_up;	  /* has served: only then do changes count as flaps */
	__u8 has_result;  /* a check result has arrived */
	__u64 changed_ms; /* last change of state */
	__u64 up_ms;	  /* when it last came up (slow start) */
	__u64 hold_until_ms;
	__u64 flaps[XLB_FLAP_HISTORY]; /* times of recent changes */
	__u32 last_latency_us;
	__u64 transitions; /* changes of state since xlbd started */
	char last_detail[96];
};

struct xlb_policy {
	struct xlb_health h[XLB_MAX_BACKENDS];
	/* Where each id sits in the model last synced: O(1) results. */
	__u32 pos_vip[XLB_MAX_BACKENDS], pos_backend[XLB_MAX_BACKENDS];
	__u8 pos_valid[XLB_MAX_BACKENDS];
	__u8 was_valid[XLB_MAX_BACKENDS];
	/*
	 * Set by the caller before the first sync after a restart: ids the
	 * maps held down while the operator had them up, i.e. ids the
	 * checks had taken down. They stay down until `rise` good results.
	 */
	__u8 start_down[XLB_MAX_BACKENDS];
};

/*
 * Weights of a VIP with a slow start are multiplied by this in the
 * effective model, so a ramp step of a weight-1 backend is expressible
 * (Maglev shares depend only on the ratios).
 */
#define XLB_SLOW_START_SCALE XLB_SLOW_START_STEPS

/*
 * Tells the policy which ids have a check. Backends new to the policy
 * with a check start down until `rise` results say otherwise, unless
 * `trust_new` (a restart: backends that served before keep serving until
 * checks say otherwise); a backend that gains a check keeps serving.
 * Ids that lost their check become unchecked (trusted).
 */
void xlb_policy_sync(struct xlb_policy *p, const struct xlb_model *m,
		     bool trust_new, __u64 now_ms);

/*
 * One check result. Returns true when the backend's state changed (the
 * data plane needs the new effective model). msg gets a log line when
 * something happened worth one (a change, or a hold for flapping), else "".
 */
bool xlb_policy_result(struct xlb_policy *p, const struct xlb_model *m,
		       __u32 id, bool ok, __u32 latency_us, const char *detail,
		       __u64 now_ms, char *msg, size_t msg_len);

/*
 * The model the data plane should hold now. out is initialised here; ids
 * are copied as they are. Returns 0 or -ENOMEM.
 */
int xlb_policy_effective(const struct xlb_policy *p, const struct xlb_model *m,
			 __u64 now_ms, struct xlb_model *out);

/*
 * When the effective model will next change without a check result (a
 * slow-start step, the end of a hold), or 0 if never.
 */
__u64 xlb_policy_next_change(const struct xlb_policy *p,
			     const struct xlb_model *m, __u64 now_ms);

/* For the operator: "up", "down", "unchecked" and why it is what it is. */
const char *xlb_policy_health_name(const struct xlb_health *h);
const char *xlb_policy_reason(const struct xlb_policy *p,
			      const struct xlb_vip_cfg *v,
			      const struct xlb_backend_cfg *b, __u64 now_ms);

#endif /* XLB_POLICY_H */
