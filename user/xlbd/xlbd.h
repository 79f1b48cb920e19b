/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xlbd's shared state: the desired model, the data plane, and the options
 * it runs with. The event loop (loop.c) owns it; the metrics thread reads
 * it under `lock`.
 */
#ifndef XLBD_H
#define XLBD_H

#include <pthread.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <stdbool.h>
#include <time.h>
#include <jansson.h>
#include "clock.h"
#include "dataplane.h"
#include "health.h"
#include "log.h"
#include "model.h"
#include "policy.h"
#include "watch.h"
#include "stats.h"
#include "version.h"

#define XLBD_STATE_DIR_DEFAULT "/var/lib/xlb"
#define XLBD_PIN_DIR_DEFAULT   XLB_PIN_DIR_DEFAULT
#define XLBD_METRICS_DEFAULT   "127.0.0.1:9120"
/* Where the locks of lock.c live (per interface, per pin directory). */
#define XLBD_LOCK_DIR "/run/xlb"

/*
 * The journal is compacted into the state file when it holds more than
 * this, or when no record came for XLBD_JOURNAL_IDLE_MS (loop.c).
 */
#define XLBD_JOURNAL_MAX_RECORDS 256
#define XLBD_JOURNAL_MAX_BYTES	 (1 << 20)
#define XLBD_JOURNAL_IDLE_MS	 1000

struct xlb_hc_tc;
struct xlb_journal;
struct xlb_route;
struct xlbd_ctl;
struct xlbd_cluster;
struct xlbd_nat;
struct xlbd_uplink;

/* What the metrics thread shows of the cluster (copied under lock). */
struct xlbd_cluster_stats {
	__u64 members, generation, mismatch, rejected, resyncs, lost;
	bool etcd_up, joined;
};

/* One announced (or withheld) VIP address, for status (announce.c). */
struct xlbd_ann {
	union xlb_addr addr;
	__u8 family;
	bool on;
	const char *why; /* static text: why not, or NULL */
};

struct xlbd {
	struct xlb_dp *dp;
	struct xlb_model model;	    /* the operator's: the state file */
	struct xlb_model effective; /* what the maps hold (policy applied) */
	struct xlb_policy *policy;
	struct xlb_hc *hc;
	struct hc_target *targets;	 /* per backend id: the check running */
	struct hc_target *agent_targets; /* per backend id: its agent's */
	__u64 agent_reports;		 /* answers and failures, all VIPs */
	int fb_fd;			 /* feedback.c: the policy tick */
	struct xlb_watch fb_watch;
	struct xlb_hc_tc *hc_tc;
	bool restoring;		     /* first commit: trust restored backends */
	bool unsaved;		     /* live model not on disk (apply.c) */
	struct xlb_journal *journal; /* beside the state file (apply.c) */
	__u64 journal_last_ms;	     /* the last record's (xlb_now_ms) */
	__u64 journal_seq;	     /* without a journal: the last replayed */
	__u64 save_wait_ns;	     /* an edit's wait for its record's sync */
	int compact_fd;		     /* loop.c: the idle compaction's timer */
	__u64 compact_armed_ms;
	struct xlb_watch compact_watch;
	__u64 health_events; /* state changes and holds, logged */
	int epfd;
	int lfd, sfd, tick_fd;
	struct xlb_watch sig_watch, tick_watch;
	struct xlbd_ctl *ctl; /* control.c: the clients of the socket */
	bool stop;
	bool refresh_pending; /* health changed during this loop pass */
	__u64 detected_ns;    /* the first change pending (xlb_now_ns) */
	bool checks_stale;    /* apply.c: the model changed, sync checks */
	__u64 tick_due_ms;    /* apply.c: policy step due (xlb_now_ms) */
	__u64 tick_armed_ms;  /* loop.c: what the timer is set to */
	pthread_mutex_t lock;
	const char *ifname;
	int ifindex;
	int if_lock_fd, pin_lock_fd; /* lock.c */
	int metrics_fd;		     /* bound before the NIC is touched */
	struct sockaddr_storage metrics_ss;
	const char *socket_path;
	const char *config; /* --config: what SIGHUP re-reads (NULL: none) */
	size_t status_vips; /* notify.c: the VIPs the last STATUS= said */
	const char *metrics_addr; /* NULL: no metrics */
	char state_path[300];
	char journal_path[300];
	time_t started;
	bool detach_on_exit;
	struct MHD_Daemon *httpd;
	/* cluster.c: a member of a cluster (NULL: a node on its own) */
	struct xlbd_cluster *cl;
	struct xlbd_cluster_stats cl_stats; /* under lock */
	/* announce.c: VIP addresses as routes for BIRD (route NULL: none) */
	struct xlb_route *route;
	__u32 route_table;
	const char *bird_socket;
	bool keep_routes; /* on a graceful stop */
	bool drained;	  /* xlb node drain: nothing announced */
	bool stopping;
	struct xlbd_ann *ann; /* under lock */
	size_t n_ann;
	size_t announced;
	struct xlbd_nat *nat;	    /* nat.c: pools' allocators, the sweeper */
	struct xlbd_uplink *uplink; /* uplink.c: links, gateways, the set */
};

/* The cluster's options (xlbd --etcd ...); etcd NULL: no cluster. */
struct xlbd_cluster_opts {
	const char *etcd, *cluster, *node, *prefix;
	const char *cacert, *cert, *key, *user, *password_file;
	unsigned heartbeat_ms;
	unsigned quorum; /* 0: a majority of the members */
};

#define XLBD_ETCD_PREFIX	  "/xlb/"
#define XLBD_HEARTBEAT_MS_DEFAULT 1000
/* Per etcd request and endpoint: a member that hangs is left quickly. */
#define XLBD_ETCD_TIMEOUT_MS 1500

/* options.c: what main needs beyond struct xlbd from the command line. */
struct xlbd_opts {
	struct xlb_dp_opts dpo;
	const char *state_dir, *config;
	bool gw_given;
	mode_t mode;
	int verbosity; /* -v, -vv */
	struct xlbd_cluster_opts clo;
};

/*
 * options.c: the command line into d and o, with their defaults, every
 * value checked: 0, 1 when --help or --version answered, or -EINVAL after
 * a message. The interface must exist.
 */
int xlbd_opts_parse(int argc, char **argv, struct xlbd *d, struct xlbd_opts *o);

/*
 * loop.c: init makes everything the loop needs before the first commit
 * (which starts checks); run serves until SIGTERM or SIGINT; free undoes
 * init.
 */
int xlbd_loop_init(struct xlbd *d);
int xlbd_loop_run(struct xlbd *d);
void xlbd_loop_free(struct xlbd *d);
/* loop.c: fd into the loop's epoll set, fn called when it is readable. */
int xlbd_watch_add(struct xlbd *d, int fd, struct xlb_watch *w,
		   void (*fn)(struct xlb_watch *, uint32_t));

/*
 * notify.c: systemd's sd_notify(3), a no-op without NOTIFY_SOCKET.
 * ready: READY=1 and a STATUS= line; status: a new STATUS= line when
 * the number of VIPs changed; stopping: STOPPING=1. reload
 * (SIGHUP) re-reads d->config and applies it as `xlb config apply`
 * does, keeping everything when it is bad (the error logged), then says
 * READY=1 again; without --config it only logs.
 */
void xlbd_notify_ready(struct xlbd *d);
void xlbd_notify_status(struct xlbd *d);
void xlbd_notify_stopping(struct xlbd *d);
void xlbd_reload(struct xlbd *d);

/*
 * control.c: serves the control socket lfd (listening) from the event
 * loop, never blocking on a client; stop closes every connection.
 */
int xlbd_ctl_start(struct xlbd *d, int lfd, struct xlb_err *err);
void xlbd_ctl_stop(struct xlbd *d);

/*
 * control.c: a handler whose answer comes later takes the request's
 * token with defer and returns NULL; the answer goes with answer (resp
 * consumed; dropped when the client is gone). The client is dropped when
 * no answer came within XLB_CTL_DEFER_MS.
 */
__u64 xlbd_ctl_defer(struct xlbd *d);
void xlbd_ctl_answer(struct xlbd *d, __u64 token, json_t *resp);

/* handlers.c: one control request in, one response out (new ref); NULL
 * when the handler deferred it. */
json_t *xlbd_handle(struct xlbd *d, const json_t *req);

/*
 * apply.c. xlbd_commit makes `next` the operator's model: ids, the
 * journal record (synced), policy, maps; on failure the maps are put
 * back and the error says why; next is consumed either way.
 * xlbd_refresh re-derives what the maps hold after a health change or a
 * slow-start step. Both leave what the loop must do next in d: the
 * deadline of the policy's next step in tick_due_ms, and checks_stale
 * when the model changed.
 */
int xlbd_commit(struct xlbd *d, struct xlb_model *next, struct xlb_err *err);
int xlbd_refresh(struct xlbd *d, struct xlb_err *err);
/*
 * apply.c: writes the whole state file (atomically, with the journal's
 * last record number) and empties the journal, when it holds records;
 * why is for the log. A failure is logged: the journal keeps them.
 */
void xlbd_compact(struct xlbd *d, const char *why);

/*
 * cluster.c. start joins the cluster when o->etcd is set (else does
 * nothing); stop leaves it (the lease revoked: the others see it go).
 * in_force: etcd reachable and its state read, so the cluster's health
 * view shapes the rings (else this node's own). effective is the model
 * the maps get, from the cluster's view or the policy's. propose writes
 * an edit to etcd and answers it once applied here (NULL: deferred) or
 * refuses it (the error answer); next is consumed. after_apply hands
 * this node's health view and advertisement to etcd. may_announce: why
 * not, while joining.
 */
int xlbd_cluster_start(struct xlbd *d, const struct xlbd_cluster_opts *o,
		       struct xlb_err *err);
void xlbd_cluster_stop(struct xlbd *d);
bool xlbd_cluster_in_force(const struct xlbd *d);
int xlbd_effective(struct xlbd *d, const struct xlb_model *m, __u64 now_ms,
		   struct xlb_model *out);
json_t *xlbd_cluster_propose(struct xlbd *d, struct xlb_model *next,
			     struct xlb_err *err);
void xlbd_cluster_after_apply(struct xlbd *d);
bool xlbd_cluster_may_announce(const struct xlbd *d, const char **why);
json_t *xlbd_cluster_status(struct xlbd *d);

/*
 * announce.c: open takes the route table (d->route_table 0: no
 * announcing). sync makes the table hold the addresses of the VIPs this
 * node can serve now: its program attached, a serving backend (or
 * all_down keep), not drained, joined to its cluster, not stopping;
 * every change is one log line. stop withdraws them all unless
 * keep_routes. status: each address, its state and BIRD's view.
 */
int xlbd_announce_open(struct xlbd *d, struct xlb_err *err);
void xlbd_announce_sync(struct xlbd *d);
void xlbd_announce_stop(struct xlbd *d);
json_t *xlbd_announce_status(struct xlbd *d);
int xlbd_drain_set(struct xlbd *d, bool drained, struct xlb_err *err);

/* An agent check's id in the health engine: its backend's id, this set. */
#define XLBD_AGENT_ID 0x80000000U

/* checks.c: start and stop checks to match the model; results in. */
void xlbd_checks_sync(struct xlbd *d);
void xlbd_on_result(void *ctx, const struct hc_result *r);

/*
 * feedback.c: the policy tick (XLBD_FEEDBACK_TICK_MS): agent reports
 * made stale, byte-share windows closed; any change is applied in the
 * loop's one refresh of that pass. init registers its timer in epfd.
 */
#define XLBD_FEEDBACK_TICK_MS 100
int xlbd_feedback_init(struct xlbd *d);
void xlbd_feedback_free(struct xlbd *d);

/*
 * metrics.c: Prometheus text over HTTP. parse checks metrics_addr (a
 * usage error: -EINVAL), bind takes its port, start serves it.
 */
int xlbd_metrics_parse(struct xlbd *d, struct xlb_err *err);
int xlbd_metrics_bind(struct xlbd *d, struct xlb_err *err);
int xlbd_metrics_start(struct xlbd *d, struct xlb_err *err);
void xlbd_metrics_stop(struct xlbd *d);

/*
 * lock.c: one daemon per interface and pin directory. lock refuses with
 * -EBUSY and the running instance's pid, socket and directories in err.
 */
int xlbd_lock(struct xlbd *d, int ifindex, const char *pin_dir,
	      const char *state_dir, struct xlb_err *err);
void xlbd_unlock(struct xlbd *d);

/*
 * gateway.c: MAC of the default gateway reached through ifname: the IPv4
 * default route's, else the IPv6 one's.
 */
int xlbd_gateway_mac(const char *ifname, __u8 mac[6], char *gw_str,
		     size_t gw_len, struct xlb_err *err);
int xlbd_parse_mac(const char *s, __u8 mac[6]);

#endif /* XLBD_H */
