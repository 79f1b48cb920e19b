/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Several balancers as one: what the cluster's documents in etcd say and
 * what a node draws from them. Pure logic (no I/O, times given by the
 * caller), so the rules are tested without etcd; xlbd's cluster.c moves
 * the documents.
 *
 * Under the cluster's base key (PREFIX CLUSTER "/"):
 * - config: the desired model, every node's (the operator's, without
 *   ids: ids are each node's own);
 * - health/ID: the backends node ID sees down by its own checks, bound to
 *   its lease. Its existence is the node's membership: the votes of the
 *   health quorum are counted among these keys;
 * - nodes/ID: the node's advertisement, bound to its lease and written at
 *   every heartbeat: the generation it applied, each VIP's ring
 *   fingerprint, whether it announces, its version and start time.
 * A backend leaves every ring when a quorum of the members (default a
 * majority) sees it down, and returns when fewer do. The rings are a
 * function of config and the health keys only, so every node that applied
 * the same revisions builds the same rings; slow start, agent factors and
 * byte-share corrections are each node's own and are not applied in a
 * cluster (they would make the rings differ).
 */
#ifndef XLB_CLUSTER_H
#define XLB_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"
#include "model.h"

/* The documents' format; a newer one is refused whole. */
#define XLB_CLUSTER_FORMAT 1
#define XLB_CLUSTER_ID_MAX 63

/* Node and cluster names: [A-Za-z0-9._-], 1..XLB_CLUSTER_ID_MAX. */
int xlb_cluster_id_check(const char *what, const char *id, struct xlb_err *err);

enum xlb_cluster_key {
	XLB_CKEY_OTHER = 0,
	XLB_CKEY_CONFIG,
	XLB_CKEY_HEALTH,
	XLB_CKEY_NODE,
};

/*
 * Which document key is (base: the cluster's base key, "/" at its end);
 * for health/ and nodes/, *id gets the node's name (pointing into key),
 * and a name that is not a valid id makes the key OTHER.
 */
int xlb_cluster_key_kind(const char *base, const char *key, const char **id);

/* ---- the documents: malloc'd JSON text, or NULL without memory ------- */

/* The config document of m (ids left out), written by node writer. */
char *xlb_cluster_config_encode(const struct xlb_model *m, const char *writer);
/*
 * A config document into m (initialised here), validated as a config
 * file is: -EINVAL with why (a path into the document), -EPROTO for a
 * newer format. On error m is empty.
 */
int xlb_cluster_config_decode(const char *buf, size_t len, struct xlb_model *m,
			      struct xlb_err *err);

/* One backend of one VIP, by address: what health documents name. */
struct xlb_cluster_bk {
	struct xlb_vip_key vip;
	union xlb_addr addr;
	__u8 family;
};

char *xlb_cluster_health_encode(const struct xlb_cluster_bk *down, size_t n);
int xlb_cluster_health_decode(const char *buf, size_t len,
			      struct xlb_cluster_bk **down, size_t *n,
			      struct xlb_err *err);

struct xlb_cluster_fp {
	struct xlb_vip_key vip;
	__u64 fp; /* xlb_maglev_build's: by addresses, not ids */
};

struct xlb_cluster_advert {
	__s64 generation;
	__u64 seq;	/* heartbeats since start */
	__s64 started;	/* unix time */
	bool joined;	/* its rings matched the others' once */
	bool announced; /* it announces at least one VIP */
	bool own_view;	/* etcd was unreachable: its own health view */
	char version[32];
	size_t n_fp;
	struct xlb_cluster_fp *fp; /* sorted by VIP key */
};

char *xlb_cluster_advert_encode(const struct xlb_cluster_advert *a);
int xlb_cluster_advert_decode(const char *buf, size_t len,
			      struct xlb_cluster_advert *a,
			      struct xlb_err *err);
void xlb_cluster_advert_free(struct xlb_cluster_advert *a);

/* ---- the view: the live members, as the watch shows them -------------- */

struct xlb_cluster_member {
	char id[XLB_CLUSTER_ID_MAX + 1];
	bool has_health;	     /* health/ID exists: a member */
	struct xlb_cluster_bk *down; /* its own view, sorted */
	size_t n_down;
	bool has_advert;
	struct xlb_cluster_advert ad;
	__u64 seen_ms; /* the advert last written (caller's clock) */
};

struct xlb_cluster_view {
	struct xlb_cluster_member *m; /* sorted by id */
	size_t n;
};

void xlb_cluster_view_free(struct xlb_cluster_view *v);
/* The member named id; create adds it (NULL: not there, or no memory). */
struct xlb_cluster_member *xlb_cluster_member(struct xlb_cluster_view *v,
					      const char *id, bool create);
/* Forgets what kind says of id (health or advert); gone when nothing is
 * left of it. */
void xlb_cluster_member_drop(struct xlb_cluster_view *v, const char *id,
			     int kind);
/* Members with a health key: those that vote. */
size_t xlb_cluster_members(const struct xlb_cluster_view *v);

/* Votes that make a backend down among n members: q, or a majority (0). */
size_t xlb_cluster_quorum(unsigned q, size_t n);

/*
 * The quorum's health view over the backends of m: down[id] is 1 when at
 * least the quorum of members sees backend id down, votes[id] how many
 * do (both XLB_MAX_BACKENDS long). Names of backends m does not have
 * count for nothing.
 */
void xlb_cluster_down(const struct xlb_cluster_view *v, unsigned q,
		      const struct xlb_model *m, __u8 *down, __u16 *votes);

/*
 * The model the data plane holds in a cluster: m with the quorum's down
 * backends out of the rings (as the VIP's on_check_down says), all of a
 * VIP's down and all_down keep: every one stays. Weights as configured.
 */
int xlb_cluster_effective(const struct xlb_model *m, const __u8 *down,
			  struct xlb_model *out);

/*
 * VIPs whose fingerprint differs from what another member of the same
 * generation advertises (self excluded), the figure of
 * xlb_cluster_fingerprint_mismatch.
 */
size_t xlb_cluster_mismatch(const struct xlb_cluster_view *v, const char *self,
			    __s64 generation, const struct xlb_cluster_fp *fp,
			    size_t n_fp);

/*
 * May a joining node be announced: no other member has joined yet, or at
 * least half of those that have advertise exactly its fingerprints.
 */
bool xlb_cluster_agrees(const struct xlb_cluster_view *v, const char *self,
			const struct xlb_cluster_fp *fp, size_t n_fp);

#endif /* XLB_CLUSTER_H */
