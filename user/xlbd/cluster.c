// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlbd as one member of a cluster of balancers (cluster.h has the rules,
 * cluster_io.c the threads that talk to etcd). This is the event loop's
 * side: it applies what the watch saw (the config, the members' health
 * views and advertisements), keeps the generation, decides when a
 * joining node may be announced, turns edits into compare-and-puts and
 * answers them once their revision is applied here, and falls back to
 * this node's own health view while etcd is unreachable.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "ctl.h"
#include "cluster_priv.h"

/* Wall-clock milliseconds: when, for operators comparing nodes. */
static __u64 unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Log lines of events that may repeat: the 1st, 2nd, 4th, 8th... */
static bool worth_logging(__u64 n)
{
	return n && !(n & (n - 1));
}

bool xlbd_cluster_in_force(const struct xlbd *d)
{
	const struct xlbd_cluster *c = d->cl;

	return c && c->etcd_up && c->have_snapshot;
}

bool xlbd_cluster_may_announce(const struct xlbd *d, const char **why)
{
	const struct xlbd_cluster *c = d->cl;

	*why = NULL;
	if (!c || c->joined)
		return true;
	*why = c->have_snapshot ? "joining: rings not yet equal to the others'"
				: "joining: the cluster's state not read yet";
	return false;
}

int xlbd_effective(struct xlbd *d, const struct xlb_model *m, __u64 now_ms,
		   struct xlb_model *out)
{
	__u8 *down;
	__u16 *votes;
	int ret;

	if (!xlbd_cluster_in_force(d))
		return xlb_policy_effective(d->policy, m, now_ms, out);
	down = calloc(XLB_MAX_BACKENDS, sizeof(*down));
	votes = calloc(XLB_MAX_BACKENDS, sizeof(*votes));
	ret = down && votes ? 0 : -ENOMEM;
	if (!ret) {
		xlb_cluster_down(&d->cl->view, d->cl->quorum, m, down, votes);
		ret = xlb_cluster_effective(m, down, out);
	}
	free(down);
	free(votes);
	return ret;
}

/* ---- what this node writes ---------------------------------------------- */

/* This node's own view: the backends its checks hold down. */
static char *own_health(struct xlbd *d)
{
	const struct xlb_model *m = &d->model;
	struct xlb_cluster_bk *down = NULL;
	size_t n = 0, cap = 0;
	char *doc;

	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];

		for (size_t j = 0; j < v->n_backends; j++) {
			const struct xlb_backend_cfg *b = &v->backends[j];
			const struct xlb_health *h = &d->policy->h[b->id];

			if (!h->has_result ||
			    strcmp(xlb_policy_health_name(h), "down"))
				continue;
			if (n == cap) {
				struct xlb_cluster_bk *p;

				cap = cap ? 2 * cap : 16;
				p = realloc(down, cap * sizeof(*p));
				if (!p) {
					free(down);
					return NULL;
				}
				down = p;
			}
			down[n].vip = v->key;
			down[n].addr = b->addr;
			down[n++].family = b->family;
		}
	}
	doc = xlb_cluster_health_encode(down, n);
	free(down);
	return doc;
}

/* The fingerprints of the rings this node holds, by VIP key. */
static int own_fps(struct xlbd *d)
{
	struct xlbd_cluster *c = d->cl;
	const struct xlb_model *m = &d->effective;
	struct xlb_cluster_fp *fp = calloc(m->n_vips + 1, sizeof(*fp));

	if (!fp)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_vips; i++) {
		fp[i].vip = m->vips[i].key;
		fp[i].fp = xlb_dp_fingerprint(d->dp, m->vips[i].vip_id);
	}
	free(c->fp);
	c->fp = fp;
	c->n_fp = m->n_vips;
	return 0;
}

/* Does the advertisement say something new (not just a heartbeat)? */
static bool advert_changed(const struct xlb_cluster_advert *a,
			   const struct xlb_cluster_advert *b)
{
	return a->generation != b->generation || a->joined != b->joined ||
	       a->announced != b->announced || a->own_view != b->own_view ||
	       a->n_fp != b->n_fp ||
	       (a->n_fp && memcmp(a->fp, b->fp, a->n_fp * sizeof(*a->fp)));
}

/*
 * The advertisement and health view into the writer's hands; a change
 * of either is written at once (the others compare rings on it), the
 * advertisement also at every heartbeat.
 */
static void publish(struct xlbd *d)
{
	struct xlbd_cluster *c = d->cl;
	struct xlb_cluster_advert ad = {0};
	char *health = own_health(d);
	bool health_new;

	if (own_fps(d) == 0)
		ad.fp = malloc((c->n_fp + 1) * sizeof(*ad.fp));
	if (ad.fp) {
		memcpy(ad.fp, c->fp, c->n_fp * sizeof(*ad.fp));
		ad.n_fp = c->n_fp;
	}
	ad.generation = c->generation;
	ad.joined = c->joined;
	ad.announced = d->announced > 0;
	ad.own_view = !xlbd_cluster_in_force(d);
	health_new =
		health && (!c->last_health || strcmp(health, c->last_health));
	pthread_mutex_lock(&c->mu);
	if (health_new) {
		free(c->health_doc);
		c->health_doc = strdup(health);
	}
	if (ad.fp && advert_changed(&ad, &c->ad)) {
		free(c->ad.fp);
		c->ad.fp = ad.fp;
		c->ad.n_fp = ad.n_fp;
		c->ad.generation = ad.generation;
		c->ad.joined = ad.joined;
		c->ad.announced = ad.announced;
		c->ad.own_view = ad.own_view;
		c->ad_dirty = true;
		ad.fp = NULL;
	}
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	free(ad.fp);
	if (health_new) {
		free(c->last_health);
		c->last_health = health;
	} else {
		free(health);
	}
}

void xlbd_cluster_after_apply(struct xlbd *d)
{
	if (d->cl)
		publish(d);
}

/* ---- what the watch saw ---------------------------------------------------
 */

/* The config document at rev: applied, or refused with nothing changed. */
static void apply_config(struct xlbd *d, const char *buf, size_t len,
			 int64_t rev)
{
	struct xlbd_cluster *c = d->cl;
	struct xlb_err err = {{0}};
	struct xlb_model m;
	int ret;

	if (rev <= c->config_rev)
		return; /* a duplicate or an older one: nothing to do */
	ret = xlb_cluster_config_decode(buf, len, &m, &err);
	if (!ret && xlb_model_equal(&m, &d->model, false)) {
		xlb_model_free(&m);
		c->config_rev = rev;
		return;
	}
	if (!ret)
		ret = xlbd_commit(d, &m, &err);
	if (ret) {
		c->rejected++;
		snprintf(c->last_reject, sizeof(c->last_reject),
			 "config at revision %lld: %s", (long long)rev,
			 err.msg);
		xlb_log(LOG_ERR,
			"cluster: refused the config of revision %lld, keeping "
			"what this node has: %s",
			(long long)rev, err.msg);
		c->config_rev = rev; /* refused once is enough */
		c->refused_rev = rev;
		return;
	}
	c->config_rev = rev;
	c->config_applied_unix_ms = unix_ms();
	xlb_log(LOG_NOTICE, "cluster: applied the config of revision %lld",
		(long long)rev);
}

/* A member's health view at rev (or its removal: buf NULL). */
static bool apply_health(struct xlbd *d, const char *id, const char *buf,
			 size_t len)
{
	struct xlbd_cluster *c = d->cl;
	struct xlb_cluster_member *mb;
	struct xlb_cluster_bk *down;
	struct xlb_err err = {{0}};
	size_t n;

	if (!buf) {
		mb = xlb_cluster_member(&c->view, id, false);
		if (!mb || !mb->has_health)
			return false;
		xlb_cluster_member_drop(&c->view, id, XLB_CKEY_HEALTH);
		c->lost++;
		xlb_log(LOG_NOTICE,
			"cluster: node %s left (its lease ended: a graceful "
			"stop, or 3 missed heartbeats); %zu members",
			id, xlb_cluster_members(&c->view));
		return true;
	}
	if (xlb_cluster_health_decode(buf, len, &down, &n, &err)) {
		c->rejected++;
		snprintf(c->last_reject, sizeof(c->last_reject),
			 "health/%s: %s", id, err.msg);
		if (worth_logging(c->rejected))
			xlb_log(LOG_ERR,
				"cluster: refused node %s's health view, "
				"keeping its last: %s",
				id, err.msg);
		return false;
	}
	mb = xlb_cluster_member(&c->view, id, true);
	if (!mb) {
		free(down);
		return false;
	}
	if (!mb->has_health && strcmp(id, c->node))
		xlb_log(LOG_NOTICE, "cluster: node %s is a member; %zu members",
			id, xlb_cluster_members(&c->view) + 1);
	free(mb->down);
	mb->down = down;
	mb->n_down = n;
	mb->has_health = true;
	return true;
}

static void apply_advert(struct xlbd *d, const char *id, const char *buf,
			 size_t len)
{
	struct xlbd_cluster *c = d->cl;
	struct xlb_cluster_advert ad;
	struct xlb_cluster_member *mb;
	struct xlb_err err = {{0}};

	if (!buf) {
		xlb_cluster_member_drop(&c->view, id, XLB_CKEY_NODE);
		return;
	}
	if (xlb_cluster_advert_decode(buf, len, &ad, &err)) {
		c->rejected++;
		snprintf(c->last_reject, sizeof(c->last_reject), "nodes/%s: %s",
			 id, err.msg);
		if (worth_logging(c->rejected))
			xlb_log(LOG_ERR,
				"cluster: refused node %s's advertisement: %s",
				id, err.msg);
		return;
	}
	mb = xlb_cluster_member(&c->view, id, true);
	if (!mb) {
		xlb_cluster_advert_free(&ad);
		return;
	}
	xlb_cluster_advert_free(&mb->ad);
	mb->ad = ad;
	mb->has_advert = true;
	mb->seen_ms = xlb_now_ms();
}

/* One key's new value (NULL: deleted) at rev; true when rings may move. */
static bool apply_key(struct xlbd *d, const char *key, const char *buf,
		      size_t len, int64_t rev)
{
	struct xlbd_cluster *c = d->cl;
	const char *id;

	switch (xlb_cluster_key_kind(c->base, key, &id)) {
	case XLB_CKEY_CONFIG:
		if (!buf) {
			c->rejected++;
			xlb_log(LOG_ERR, "cluster: the config was deleted from "
					 "etcd: keeping what this node has");
			return false;
		}
		apply_config(d, buf, len, rev);
		break;
	case XLB_CKEY_HEALTH:
		if (!apply_health(d, id, buf, len))
			return false;
		break;
	case XLB_CKEY_NODE:
		apply_advert(d, id, buf, len);
		return false;
	default:
		return false;
	}
	if (rev > c->generation)
		c->generation = rev;
	return true;
}

/* Every key of a snapshot; the config last, once the health views that
 * shape its rings are in. */
static bool snapshot_keys(struct xlbd *d, struct cl_msg *m)
{
	struct xlbd_cluster *c = d->cl;
	const struct xlb_etcd_kv *config = NULL;

	xlb_cluster_view_free(&c->view);
	for (size_t i = 0; i < m->kvs.n; i++) {
		const struct xlb_etcd_kv *kv = &m->kvs.kv[i];
		const char *id;

		if (xlb_cluster_key_kind(c->base, kv->key, &id) ==
		    XLB_CKEY_CONFIG)
			config = kv;
		else
			apply_key(d, kv->key, kv->value, kv->value_len,
				  kv->mod_rev);
	}
	if (config) {
		c->config_rev = config->mod_rev - 1; /* compared again */
		apply_key(d, config->key, config->value, config->value_len,
			  config->mod_rev);
	}
	return config != NULL;
}

static void seed(struct xlbd *d)
{
	struct xlbd_cluster *c = d->cl;
	struct cl_job job = {xlb_cluster_config_encode(&d->model, c->node), 0,
			     0};

	xlb_log(LOG_NOTICE, "cluster: etcd holds no config yet: seeding it "
			    "with this node's");
	pthread_mutex_lock(&c->mu);
	if (job.doc && c->n_jobs < CL_MAX_JOBS)
		c->jobs[c->n_jobs++] = job;
	else
		free(job.doc);
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void on_snapshot(struct xlbd *d, struct cl_msg *m)
{
	struct xlbd_cluster *c = d->cl;
	bool had_config = snapshot_keys(d, m);

	if (c->have_snapshot)
		c->resyncs++;
	c->have_snapshot = true;
	xlb_log(LOG_NOTICE,
		"cluster: read the whole state at revision %lld: %zu members, "
		"generation %lld",
		(long long)m->kvs.revision, xlb_cluster_members(&c->view),
		(long long)c->generation);
	if (!had_config && d->model.n_vips)
		seed(d);
}

static bool on_events_msg(struct xlbd *d, struct cl_msg *m)
{
	bool rings = false;

	for (size_t i = 0; i < m->n; i++) {
		const struct cl_ev *e = &m->ev[i];

		rings |= apply_key(d, e->key,
				   e->type == XLB_ETCD_DELETE ? NULL : e->value,
				   e->len, e->rev);
	}
	return rings;
}

/* ---- edits ----------------------------------------------------------------
 */

static void answer(struct xlbd *d, __u64 token, int ret, const char *msg)
{
	if (token)
		xlbd_ctl_answer(d, token,
				ret ? xlb_ctl_error(ret, msg)
				    : xlb_ctl_ok(NULL));
}

json_t *xlbd_cluster_propose(struct xlbd *d, struct xlb_model *next,
			     struct xlb_err *err)
{
	struct xlbd_cluster *c = d->cl;
	struct cl_job job = {0};
	int ret = xlb_model_validate(next, err);

	if (!ret && !xlbd_cluster_in_force(d)) {
		xlb_err_set(err,
			    "nothing changed: etcd is unreachable (%s); this "
			    "node serves the last state it applied "
			    "(generation %lld) and takes changes again when "
			    "etcd is back",
			    c->etcd_error[0] ? c->etcd_error
					     : "not reached yet",
			    (long long)c->generation);
		ret = -EAGAIN;
	}
	if (!ret) {
		job.doc = xlb_cluster_config_encode(next, c->node);
		job.expect = c->config_rev;
		ret = job.doc ? 0 : -ENOMEM;
	}
	xlb_model_free(next);
	pthread_mutex_lock(&c->mu);
	if (!ret && c->n_jobs >= CL_MAX_JOBS) {
		xlb_err_set(err,
			    "nothing changed: %d edits are already on "
			    "their way to etcd",
			    CL_MAX_JOBS);
		ret = -EBUSY;
	}
	if (!ret) {
		job.token = xlbd_ctl_defer(d);
		c->jobs[c->n_jobs++] = job;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	if (ret) {
		free(job.doc);
		return xlb_ctl_error(ret, err->msg);
	}
	c->edits++;
	return NULL; /* answered once applied: settle_pending */
}

static void on_edit_done(struct xlbd *d, struct cl_msg *m)
{
	struct xlbd_cluster *c = d->cl;
	char msg[400];

	if (m->ret == -ECANCELED) {
		c->conflicts++;
		snprintf(msg, sizeof(msg),
			 "nothing changed: the config in etcd changed since "
			 "this node applied revision %lld (another edit came "
			 "first); look again and retry",
			 (long long)c->config_rev);
		answer(d, m->token, m->ret, msg);
		return;
	}
	if (m->ret) {
		snprintf(msg, sizeof(msg),
			 "nothing changed: writing to etcd: %s", m->why);
		answer(d, m->token, m->ret, msg);
		return;
	}
	if (!m->token)
		return;
	if (c->n_pending == CL_MAX_PENDING) {
		answer(d, m->token, 0, NULL); /* written; not waited for */
		return;
	}
	c->pending[c->n_pending++] = (struct cl_pending){
		m->token, m->rev, xlb_now_ms() + XLB_CTL_DEFER_MS / 2};
}

/* Edits whose revision this node has applied are answered. */
static void settle_pending(struct xlbd *d)
{
	struct xlbd_cluster *c = d->cl;
	__u64 now = xlb_now_ms();
	size_t k = 0;

	for (size_t i = 0; i < c->n_pending; i++) {
		struct cl_pending *p = &c->pending[i];

		if (p->rev == c->refused_rev)
			answer(d, p->token, -EINVAL, c->last_reject);
		else if (c->config_rev >= p->rev)
			answer(d, p->token, 0, NULL);
		else if (now >= p->deadline_ms)
			answer(d, p->token, -ETIMEDOUT,
			       "written to etcd, but this node has not applied "
			       "it yet (its watch is behind): see xlb cluster "
			       "status");
		else
			c->pending[k++] = *p;
	}
	c->n_pending = k;
}

/* ---- the loop's handler ------------------------------------------------- */

static void set_up(struct xlbd *d, bool up, const char *why)
{
	struct xlbd_cluster *c = d->cl;

	if (!up) {
		snprintf(c->etcd_error, sizeof(c->etcd_error), "%s", why);
		c->down_since_ms = xlb_now_ms();
	}
	if (up == c->etcd_up)
		return;
	c->etcd_up = up;
	if (up)
		xlb_log(LOG_NOTICE,
			"cluster: etcd is reachable (%s): the "
			"cluster's health view is in force",
			xlb_etcd_endpoint(c->etcd));
	else
		xlb_log(LOG_ERR,
			"cluster: etcd is unreachable (%s): serving the last "
			"state applied (generation %lld) with this node's own "
			"health view; edits are refused until it is back",
			why, (long long)c->generation);
}

/* Joined once its rings equal those of the members that have joined. */
static void check_join(struct xlbd *d)
{
	struct xlbd_cluster *c = d->cl;

	if (own_fps(d))
		return;
	c->mismatch = xlb_cluster_mismatch(&c->view, c->node, c->generation,
					   c->fp, c->n_fp);
	if (c->joined || !xlbd_cluster_in_force(d) ||
	    !xlb_cluster_agrees(&c->view, c->node, c->fp, c->n_fp))
		return;
	c->joined = true;
	xlb_log(LOG_NOTICE,
		"cluster: joined at generation %lld: %zu VIP rings equal to "
		"the other members'; its VIPs may be announced",
		(long long)c->generation, c->n_fp);
}

static bool handle(struct xlbd *d, struct cl_msg *m)
{
	struct xlbd_cluster *c = d->cl;

	switch (m->kind) {
	case CL_SNAPSHOT:
		on_snapshot(d, m);
		return true;
	case CL_EVENTS:
		return on_events_msg(d, m);
	case CL_GAP:
		xlb_log(LOG_NOTICE,
			"cluster: a gap in the watch (%s): reading the whole "
			"state again",
			m->why);
		return false;
	case CL_WATCH_ERR:
		if (worth_logging(++c->watch_errors))
			xlb_log(LOG_WARNING, "cluster: watch: %s", m->why);
		return false;
	case CL_ETCD_UP:
	case CL_ETCD_DOWN:
		set_up(d, m->kind == CL_ETCD_UP, m->why);
		return true;
	case CL_LEASE_NEW:
		xlb_log(LOG_INFO, "cluster: a new lease: this node's health "
				  "view and advertisement written again");
		return false;
	case CL_EDIT_DONE:
		on_edit_done(d, m);
		return false;
	}
	return false;
}

static void on_msgs(struct xlb_watch *w, uint32_t events)
{
	struct xlbd_cluster *c = container_of(w, struct xlbd_cluster, ev_watch);
	struct xlbd *d = c->d;
	struct xlb_err err = {{0}};
	struct cl_msg *list, *m;
	bool rings = false, was_joined = c->joined;
	uint64_t n;

	(void)events;
	if (read(c->efd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&c->mu);
	list = c->head;
	c->head = NULL;
	c->tail = &c->head;
	pthread_mutex_unlock(&c->mu);
	while ((m = list)) {
		list = m->next;
		rings |= handle(d, m);
		cl_msg_free(m);
	}
	/* A refresh (and a commit of the config) announces and publishes
	 * what it changed itself; a join is announced here. Most batches
	 * are the others' heartbeats: they change neither. */
	if (rings && xlbd_refresh(d, &err))
		xlb_log(LOG_ERR, "cluster: applying the cluster's view: %s",
			err.msg);
	check_join(d);
	settle_pending(d);
	if (c->joined != was_joined)
		xlbd_announce_sync(d);
	publish(d); /* writes nothing unless the advertisement changed */
	pthread_mutex_lock(&d->lock);
	d->cl_stats = (struct xlbd_cluster_stats){
		.members = xlb_cluster_members(&c->view),
		.generation = c->generation,
		.mismatch = c->mismatch,
		.etcd_up = c->etcd_up,
		.joined = c->joined,
		.rejected = c->rejected,
		.resyncs = c->resyncs,
		.lost = c->lost,
	};
	pthread_mutex_unlock(&d->lock);
}

/* ---- start, stop, status ------------------------------------------------ */

static int read_secret(const char *path, char *buf, size_t len,
		       struct xlb_err *err)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		xlb_err_set(err, "--etcd-password-file %s: %s", path,
			    strerror(errno));
		return -errno;
	}
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static int cl_keys(struct xlbd_cluster *c, const struct xlbd_cluster_opts *o,
		   struct xlb_err *err)
{
	const char *p = o->prefix ? o->prefix : XLBD_ETCD_PREFIX;
	int n;

	if (xlb_cluster_id_check("--cluster", o->cluster, err) ||
	    xlb_cluster_id_check("--node", o->node, err))
		return -EINVAL;
	if (p[0] != '/' || p[strlen(p) - 1] != '/') {
		xlb_err_set(err, "--etcd-prefix %s: must start and end with /",
			    p);
		return -EINVAL;
	}
	n = snprintf(c->base, sizeof(c->base), "%s%s/", p, o->cluster);
	if (n < 0 || (size_t)n >= sizeof(c->base)) {
		xlb_err_set(err, "--etcd-prefix: too long");
		return -EINVAL;
	}
	snprintf(c->key_config, sizeof(c->key_config), "%sconfig", c->base);
	snprintf(c->key_health, sizeof(c->key_health), "%shealth/%s", c->base,
		 o->node);
	snprintf(c->key_node, sizeof(c->key_node), "%snodes/%s", c->base,
		 o->node);
	c->node = o->node;
	c->quorum = o->quorum;
	c->heartbeat_ms =
		o->heartbeat_ms ? o->heartbeat_ms : XLBD_HEARTBEAT_MS_DEFAULT;
	/* etcd counts TTLs in seconds: 3 heartbeats, rounded up. */
	c->ttl_s = (3 * c->heartbeat_ms + 999) / 1000;
	if (c->ttl_s < 2)
		c->ttl_s = 2;
	return 0;
}

static int cl_connect(struct xlbd_cluster *c, const struct xlbd_cluster_opts *o,
		      struct xlb_err *err)
{
	struct xlb_etcd_opts eo = {
		.endpoints = o->etcd,
		.cacert = o->cacert,
		.cert = o->cert,
		.key = o->key,
		.user = o->user,
		.timeout_ms = XLBD_ETCD_TIMEOUT_MS,
	};
	char secret[256] = "";
	int ret = 0;

	if (o->password_file) {
		ret = read_secret(o->password_file, secret, sizeof(secret),
				  err);
		eo.password = secret;
	}
	if (!ret)
		ret = xlb_etcd_new(&eo, &c->etcd, err);
	memset(secret, 0, sizeof(secret));
	return ret;
}

int xlbd_cluster_start(struct xlbd *d, const struct xlbd_cluster_opts *o,
		       struct xlb_err *err)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct xlbd_cluster *c;
	int ret;

	if (!o->etcd)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->d = d;
	c->efd = -1;
	ret = cl_keys(c, o, err);
	if (!ret)
		ret = cl_connect(c, o, err);
	if (!ret) {
		c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ret = c->efd < 0 ? -errno : 0;
	}
	c->ev_watch.fn = on_msgs;
	ev.data.ptr = &c->ev_watch;
	if (!ret && epoll_ctl(d->epfd, EPOLL_CTL_ADD, c->efd, &ev))
		ret = -errno;
	snprintf(c->ad.version, sizeof(c->ad.version), "%s", XLB_VERSION);
	c->ad.started = d->started;
	d->cl = c;
	if (!ret)
		ret = cl_io_start(c, err);
	if (ret) {
		if (!err->msg[0])
			xlb_err_set(err, "cluster: %s", strerror(-ret));
		xlbd_cluster_stop(d);
		return ret;
	}
	xlb_log(LOG_NOTICE,
		"cluster %s as node %s: etcd %s, heartbeat %u ms (lease TTL "
		"%u s), health quorum %s%.0u",
		o->cluster, c->node, o->etcd, c->heartbeat_ms, c->ttl_s,
		c->quorum ? "" : "a majority", c->quorum);
	return 0;
}

void xlbd_cluster_stop(struct xlbd *d)
{
	struct xlbd_cluster *c = d->cl;

	if (!c)
		return;
	cl_io_stop(c);
	for (size_t i = 0; i < c->n_pending; i++)
		answer(d, c->pending[i].token, -ECANCELED, "xlbd is stopping");
	if (c->efd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->efd, NULL);
		close(c->efd);
	}
	xlb_etcd_free(c->etcd);
	xlb_cluster_view_free(&c->view);
	free(c->last_health);
	free(c->fp);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
	d->cl = NULL;
}

static json_t *fp_json(const struct xlb_cluster_fp *fp, size_t n)
{
	json_t *o = json_object();
	char vip[80], hex[24];

	for (size_t i = 0; i < n; i++) {
		snprintf(hex, sizeof(hex), "%016" PRIx64, (uint64_t)fp[i].fp);
		json_object_set_new(
			o, xlb_format_vip(&fp[i].vip, vip, sizeof(vip)),
			json_string(hex));
	}
	return o;
}

static json_t *member_json(const struct xlbd_cluster *c,
			   const struct xlb_cluster_member *mb)
{
	bool self = !strcmp(mb->id, c->node);
	json_t *j = json_pack("{s:s, s:b, s:b}", "node", mb->id, "self", self,
			      "member", mb->has_health);

	json_object_set_new(j, "down_seen",
			    json_integer((json_int_t)mb->n_down));
	if (!mb->has_advert)
		return j;
	json_object_set_new(j, "generation",
			    json_integer((json_int_t)mb->ad.generation));
	json_object_set_new(
		j, "heartbeat_age_ms",
		json_integer((json_int_t)(xlb_now_ms() - mb->seen_ms)));
	json_object_set_new(j, "heartbeats",
			    json_integer((json_int_t)mb->ad.seq));
	json_object_set_new(j, "joined", json_boolean(mb->ad.joined));
	json_object_set_new(j, "announced", json_boolean(mb->ad.announced));
	json_object_set_new(j, "own_view", json_boolean(mb->ad.own_view));
	json_object_set_new(j, "version", json_string(mb->ad.version));
	json_object_set_new(j, "started", json_integer(mb->ad.started));
	json_object_set_new(j, "fingerprints", fp_json(mb->ad.fp, mb->ad.n_fp));
	return j;
}

/* Per VIP: this node's fingerprint, whether every member of the same
 * generation agrees, and the backends the quorum holds down. */
static json_t *vips_json(struct xlbd *d)
{
	struct xlbd_cluster *c = d->cl;
	json_t *a = json_array();
	char vip[80], hex[24], addr[64];
	__u8 *down = calloc(XLB_MAX_BACKENDS, 1);
	__u16 *votes = calloc(XLB_MAX_BACKENDS, sizeof(*votes));

	if (down && votes)
		xlb_cluster_down(&c->view, c->quorum, &d->model, down, votes);
	for (size_t i = 0; down && votes && i < d->model.n_vips; i++) {
		const struct xlb_vip_cfg *v = &d->model.vips[i];
		__u64 fp = xlb_dp_fingerprint(d->dp, v->vip_id);
		json_t *q = json_array();

		for (size_t j = 0; j < v->n_backends; j++) {
			const struct xlb_backend_cfg *b = &v->backends[j];

			if (!votes[b->id])
				continue;
			json_array_append_new(
				q,
				json_pack("{s:s, s:i, s:b}", "backend",
					  xlb_format_addr(&b->addr, b->family,
							  addr, sizeof(addr)),
					  "votes", votes[b->id], "down",
					  down[b->id]));
		}
		snprintf(hex, sizeof(hex), "%016" PRIx64, (uint64_t)fp);
		json_array_append_new(
			a,
			json_pack("{s:s, s:s, s:b, s:o}", "vip",
				  xlb_format_vip(&v->key, vip, sizeof(vip)),
				  "fingerprint", hex, "agree",
				  !xlb_cluster_mismatch(
					  &c->view, c->node, c->generation,
					  &(struct xlb_cluster_fp){v->key, fp},
					  1),
				  "seen_down", q));
	}
	free(down);
	free(votes);
	return a;
}

json_t *xlbd_cluster_status(struct xlbd *d)
{
	struct xlbd_cluster *c = d->cl;
	json_t *j, *nodes;
	size_t members;

	if (!c)
		return json_pack("{s:s}", "mode", "off");
	members = xlb_cluster_members(&c->view);
	nodes = json_array();
	for (size_t i = 0; i < c->view.n; i++)
		json_array_append_new(nodes, member_json(c, &c->view.m[i]));
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:I, s:I, "
		      "s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
		      "mode", xlbd_cluster_in_force(d) ? "cluster" : "own-view",
		      "cluster", c->base, "node", c->node, "etcd",
		      c->etcd_up ? "reachable" : "unreachable", "endpoint",
		      xlb_etcd_endpoint(c->etcd), "generation",
		      (json_int_t)c->generation, "config_revision",
		      (json_int_t)c->config_rev, "joined", c->joined, "members",
		      (json_int_t)members, "quorum",
		      (json_int_t)xlb_cluster_quorum(c->quorum, members),
		      "fingerprint_mismatch", (json_int_t)c->mismatch,
		      "rejected", (json_int_t)c->rejected, "resyncs",
		      (json_int_t)c->resyncs, "nodes_lost", (json_int_t)c->lost,
		      "heartbeat_ms", (json_int_t)c->heartbeat_ms, "nodes",
		      nodes, "vips", vips_json(d));
	if (!c->etcd_up && c->etcd_error[0])
		json_object_set_new(j, "etcd_error",
				    json_string(c->etcd_error));
	if (c->config_applied_unix_ms)
		json_object_set_new(
			j, "config_applied_unix_ms",
			json_integer((json_int_t)c->config_applied_unix_ms));
	if (c->last_reject[0])
		json_object_set_new(j, "last_rejected",
				    json_string(c->last_reject));
	return j;
}
