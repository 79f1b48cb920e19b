/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xlbd's cluster member, shared by its two halves: cluster_io.c (two
 * threads that alone talk to etcd: the watch, and the writer that keeps
 * the lease alive and writes this node's documents and edits) and
 * cluster.c (the event loop's side: applies what the watch saw, decides,
 * answers). They meet in this struct: messages to the loop through a
 * list and an eventfd, work for the writer through fields under mu.
 */
#ifndef XLBD_CLUSTER_PRIV_H
#define XLBD_CLUSTER_PRIV_H

#include <pthread.h>
#include "cluster.h"
#include "etcd.h"
#include "xlbd.h"

enum cl_msg_kind {
	CL_SNAPSHOT, /* kvs: the whole state at one revision */
	CL_EVENTS,   /* ev[0..n): what the watch saw, in order */
	CL_GAP,	     /* the watch's start was compacted: a snapshot follows */
	CL_WATCH_ERR,
	CL_ETCD_UP,   /* a request succeeded after failures (or the first) */
	CL_ETCD_DOWN, /* no request succeeded for a lease's TTL */
	CL_LEASE_NEW, /* the lease expired and a new one was granted */
	CL_EDIT_DONE, /* token, ret, rev: the writer's compare-and-put */
};

struct cl_ev {
	int type; /* enum xlb_etcd_ev_type */
	char *key, *value;
	size_t len;
	int64_t rev;
};

struct cl_msg {
	int kind;
	struct xlb_etcd_kvs kvs;
	struct cl_ev *ev;
	size_t n;
	int64_t rev; /* GAP: compacted to; EDIT_DONE: the write's */
	int ret;
	__u64 token;
	char why[256];
	struct cl_msg *next;
};

/* An edit waiting for its revision to be applied, then answered. */
struct cl_pending {
	__u64 token;
	int64_t rev;
	__u64 deadline_ms;
};

#define CL_MAX_JOBS    16
#define CL_MAX_PENDING 16

struct cl_job {
	char *doc;
	int64_t expect; /* the config's mod_revision it was made from */
	__u64 token;	/* the control client's, 0: none (a seed) */
};

struct xlbd_cluster {
	struct xlbd *d;
	struct xlb_etcd *etcd;
	char base[256]; /* PREFIX CLUSTER "/" */
	char key_config[300], key_health[340], key_node[340];
	const char *node;
	unsigned heartbeat_ms, ttl_s, quorum;

	/* ---- shared between the threads, under mu ---- */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* the writer's: work, or stop */
	struct cl_msg *head, **tail;
	int efd;		      /* readable while head is not NULL */
	char *health_doc;	      /* to write, NULL: written */
	struct xlb_cluster_advert ad; /* the writer's copy, seq its own */
	bool ad_dirty;		      /* changed: written before the beat */
	struct cl_job jobs[CL_MAX_JOBS];
	size_t n_jobs;
	volatile int stop;
	pthread_t watch_thr, writer_thr;
	bool threads;

	/* ---- the writer's own ---- */
	int64_t lease;
	__u64 seq;
	/* ---- the watch's own ---- */
	int64_t watch_next;

	/* ---- the loop's own ---- */
	struct xlb_watch ev_watch;
	struct xlb_cluster_view view;
	bool etcd_up, have_snapshot, joined;
	int64_t config_rev;	      /* mod_revision of the config applied */
	__u64 config_applied_unix_ms; /* when (wall clock), for status */
	int64_t refused_rev;	      /* the last config this node refused */
	int64_t generation;	      /* the newest ring input applied */
	char *last_health;	      /* the health document last handed over */
	struct xlb_cluster_fp *fp;
	size_t n_fp;
	size_t mismatch;
	struct cl_pending pending[CL_MAX_PENDING];
	size_t n_pending;
	__u64 rejected, resyncs, lost, edits, conflicts, watch_errors;
	char etcd_error[256];
	char last_reject[256];
	__u64 down_since_ms;
};

/* cluster_io.c: the two threads. */
int cl_io_start(struct xlbd_cluster *c, struct xlb_err *err);
void cl_io_stop(struct xlbd_cluster *c);
/* Hands a message to the loop (consumed). */
void cl_post(struct xlbd_cluster *c, struct cl_msg *m);
void cl_msg_free(struct cl_msg *m);
/* Under no lock: wakes the writer after a change of its work. */
void cl_wake(struct xlbd_cluster *c);

#endif /* XLBD_CLUSTER_PRIV_H */
