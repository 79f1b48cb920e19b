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
 * - the weight that serves is configured x slow-start ramp x agent factor
 *   x byte-share correction (policy_agent.c, policy_balance.c); each
 *   input moves the weight only by more than its hysteresis, and a stale
 *   input falls back to 1;
 * - an agent's drain, down or maint takes effect like an operator's would,
 *   but ends with the agent's next "up" or "ready", or with its reports
 *   going stale; an agent that does not answer changes nothing until then.
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

/* ---- load reports: HAProxy's agent check (policy_agent.c) ------------ */

/* What an agent's state words ask for; later words do not stack. */
enum xlb_agent_state {
	XLB_AGENT_SERVE = 0, /* "up", "ready", or nothing said yet */
	XLB_AGENT_DRAIN,     /* "drain": no new flows, established stay */
	XLB_AGENT_DOWN,	     /* "down", "fail", "stopped": like a check's */
	XLB_AGENT_MAINT,     /* "maint": like the operator's down */
};

/* Reports older than this many agent intervals are stale. */
#define XLB_AGENT_STALE_INTERVALS 3
/* Factors and corrections are kept in permille of the configured weight. */
#define XLB_PM 1000
/* A factor moving less than this (permille) does not rebuild a ring. */
#define XLB_AGENT_HYSTERESIS_PM 30

/* One reply as parsed: -1 where the reply did not say. */
struct xlb_agent_report {
	int percent;
	int state; /* enum xlb_agent_state */
	char desc[64];
};

/*
 * Judges one reply strictly (buf as hc_result.reply, len its length): 0
 * with r filled, or -EINVAL with why saying what is wrong. Words are
 * separated by spaces, commas or tabs: "N%" with N an integer 0..100,
 * the state words, and "#" followed by a description. The line ends with
 * "\n" (or "\r\n"), or at EOF; everything else is malformed: an empty
 * line, an unknown word, a number without "%", two percentages, state
 * words that disagree, a control or non-ASCII byte, a NUL, a line longer
 * than XLB_AGENT_REPLY_MAX.
 */
int xlb_agent_parse(const char *buf, size_t len, struct xlb_agent_report *r,
		    struct xlb_err *why);

/* What the policy knows of one backend's agent. */
struct xlb_agent {
	__u8 enabled;	   /* its VIP has an agent check */
	__u8 fresh;	   /* a report is in force (not stale) */
	__u8 state;	   /* enum xlb_agent_state in force */
	__u16 factor_pm;   /* in force: permille of the configured weight */
	__u16 reported_pm; /* last reported, before hysteresis */
	__u64 report_ms;   /* last good report */
	__u64 reports, malformed, failed, stale;
	__u64 changes;	     /* of the factor in force, each one log line */
	char desc[64];	     /* the last report's "# ..." */
	char last_error[80]; /* the last failure or malformed reply */
};

/* ---- byte-share correction (policy_balance.c) ------------------------ */

enum xlb_balance_class {
	XLB_CLASS_BYTES = 0,
	XLB_CLASS_PACKETS,
	XLB_CLASS_MAX,
};

/*
 * The loop's constants: the integral gain per window, the largest change
 * of the correction per window (of the configured weight), its floor and
 * ceiling, and the relative change below which the correction in force
 * stays (no ring rebuilt). A window with less traffic than the minimum
 * says nothing; XLB_AGENT_STALE_INTERVALS such windows in a row and the
 * corrections fall back to 1.
 */
#define XLB_BALANCE_GAIN	0.5
#define XLB_BALANCE_STEP	0.25
#define XLB_BALANCE_FLOOR	0.1
#define XLB_BALANCE_CEIL	4.0
#define XLB_BALANCE_HYSTERESIS	0.03
#define XLB_BALANCE_MIN_BYTES	4096
#define XLB_BALANCE_MIN_PACKETS 16

/* What the loop knows of one backend (of one VIP: ids are per VIP). */
struct xlb_share {
	__u16 corr_pm;		     /* in force; 0 before the first window */
	double corr[XLB_CLASS_MAX];  /* the loop's state, per class */
	double share[XLB_CLASS_MAX]; /* last window's measured share */
	double target;		     /* last window's target share */
	__u64 base[XLB_CLASS_MAX];   /* counters at the window's start */
	__u64 changes;
};

/* Per VIP id: when its window started and how many said nothing. */
struct xlb_balance_vip {
	__u64 start_ms;
	__u32 idle;
	__u8 primed;
	__u8 stale;
};

/*
 * The control law of one class over one window: corr[i] (the correction
 * of backend i, 1 = none) moves by the gain times the relative share
 * error (target[i] - share[i]) / target[i], bounded by
 * XLB_BALANCE_STEP per window and to [FLOOR, CEIL], after the whole set
 * is renormalised so that sum(target[i] * corr[i]) stays 1 (shares
 * depend on ratios only; without it every correction would drift to a
 * bound together). Backends with target 0 are left alone.
 */
void xlb_balance_step(size_t n, const double *target, const double *share,
		      double *corr);

/* ---- the policy -------------------------------------------------------- */

typedef void (*xlb_policy_log_fn)(void *ctx, const char *msg);

struct xlb_policy {
	struct xlb_health h[XLB_MAX_BACKENDS];
	struct xlb_agent agent[XLB_MAX_BACKENDS];
	struct xlb_share share[XLB_MAX_BACKENDS];
	struct xlb_balance_vip bvip[XLB_MAX_VIPS];
	/* Where each id sits in the model last synced: O(1) results. */
	__u32 pos_vip[XLB_MAX_BACKENDS], pos_backend[XLB_MAX_BACKENDS];
	__u8 pos_valid[XLB_MAX_BACKENDS];
	__u8 was_valid[XLB_MAX_BACKENDS];
	/*
	 * What a sync tests of each id, a byte apiece: h[id].checked, and
	 * whether agent[id] or share[id].corr_pm may be set. Reading the
	 * records themselves, a cache miss each, was most of a sync (and
	 * of an edit's O(backends) work) at 10 000 backends.
	 */
	__u8 checked[XLB_MAX_BACKENDS];
	__u8 fb_set[XLB_MAX_BACKENDS];
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
 * (Maglev shares depend only on the ratios); those of a VIP with an agent
 * check or a byte-share loop by XLB_FEEDBACK_SCALE, so a permille of one.
 */
#define XLB_SLOW_START_SCALE XLB_SLOW_START_STEPS
#define XLB_FEEDBACK_SCALE   XLB_PM
/* The scale of a VIP's weights in the effective model: 1, 10 or 1000. */
__u32 xlb_policy_scale(const struct xlb_vip_cfg *v);

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

/*
 * Agent reports. agent_result takes one probe's outcome: answered false
 * is a failed report (counted, nothing else: an agent that does not
 * answer never takes a backend down); a malformed reply is counted and
 * logged by the caller (msg), never a weight. True when what is in force
 * changed. agent_expire makes reports older than
 * XLB_AGENT_STALE_INTERVALS intervals stale (the configured weight is
 * back); each change is one line to log. Both true when the effective
 * model needs recomputing.
 */
bool xlb_policy_agent_result(struct xlb_policy *p, const struct xlb_model *m,
			     __u32 id, bool answered, const char *reply,
			     size_t len, const char *detail, __u64 now_ms,
			     char *msg, size_t msg_len);
bool xlb_policy_agent_expire(struct xlb_policy *p, const struct xlb_model *m,
			     __u64 now_ms, xlb_policy_log_fn log, void *ctx);

/*
 * One window of the VIP m->vips[vi] with balance set: c[j] are the
 * cumulative counters of its backend j (backend_stats). Does nothing
 * before its window is over (true when it was: the caller may read the
 * counters only then; call with c NULL to ask). Each correction change
 * beyond the hysteresis is one line to log; *changed tells whether any.
 */
bool xlb_policy_balance_due(const struct xlb_policy *p,
			    const struct xlb_vip_cfg *v, __u64 now_ms);
void xlb_policy_balance_window(struct xlb_policy *p, const struct xlb_model *m,
			       size_t vi, const struct xlb_counter *c,
			       __u64 now_ms, xlb_policy_log_fn log, void *ctx,
			       bool *changed);

/*
 * Whether b takes new flows as far as operator, health and agent go (its
 * weight aside): those are the backends a target share is shared by.
 */
bool xlb_policy_serving(const struct xlb_policy *p, const struct xlb_vip_cfg *v,
			const struct xlb_backend_cfg *b);

/* For the operator: the agent's and the loop's part, with why. */
const char *xlb_policy_agent_reason(const struct xlb_policy *p,
				    const struct xlb_vip_cfg *v,
				    const struct xlb_backend_cfg *b,
				    __u64 now_ms, char *buf, size_t len);
const char *xlb_policy_balance_reason(const struct xlb_policy *p,
				      const struct xlb_vip_cfg *v,
				      const struct xlb_backend_cfg *b,
				      char *buf, size_t len);
/* The agent factor and the correction in force (1.0 = none). */
double xlb_policy_agent_factor(const struct xlb_policy *p, __u32 id);
double xlb_policy_correction(const struct xlb_policy *p, __u32 id);

#endif /* XLB_POLICY_H */
