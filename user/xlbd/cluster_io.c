// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The cluster's two threads, the only code of xlbd that waits on etcd,
 * so that a slow or lost etcd never stalls the event loop:
 * - the watch reads the whole state once (a snapshot at one revision),
 *   then follows every change under the cluster's key from the next
 *   revision; a broken stream resumes where it was, and a start etcd has
 *   compacted away is a gap: the whole state is read again;
 * - the writer grants this node's lease and keeps it alive (the
 *   heartbeat: TTL = 3 heartbeats), writes the advertisement at every
 *   heartbeat and the health document when it changes (both bound to the
 *   lease), and makes the edits the loop hands it, each a compare-and-put
 *   on the config's revision. It also judges whether etcd is reachable:
 *   no request succeeded for a whole TTL means down (the lease is as good
 *   as gone), the next success up again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "cluster_priv.h"

void cl_msg_free(struct cl_msg *m)
{
	if (!m)
		return;
	xlb_etcd_kvs_free(&m->kvs);
	for (size_t i = 0; i < m->n; i++) {
		free(m->ev[i].key);
		free(m->ev[i].value);
	}
	free(m->ev);
	free(m);
}

void cl_post(struct xlbd_cluster *c, struct cl_msg *m)
{
	uint64_t one = 1;

	pthread_mutex_lock(&c->mu);
	m->next = NULL;
	*c->tail = m;
	c->tail = &m->next;
	pthread_mutex_unlock(&c->mu);
	if (write(c->efd, &one, sizeof(one)) < 0) {
		/* The counter is full: the loop has a wake-up pending. */
	}
}

static void post_simple(struct xlbd_cluster *c, int kind, int ret,
			const char *why)
{
	struct cl_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	m->kind = kind;
	m->ret = ret;
	snprintf(m->why, sizeof(m->why), "%s", why ? why : "");
	cl_post(c, m);
}

void cl_wake(struct xlbd_cluster *c)
{
	pthread_mutex_lock(&c->mu);
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* Sleeps ms unless told to stop (then at once). */
static void nap(struct xlbd_cluster *c, unsigned ms)
{
	for (unsigned t = 0; t < ms && !c->stop; t += 50) {
		struct timespec ts = {0, 50 * 1000000L};

		nanosleep(&ts, NULL);
	}
}

/* ---- the watch --------------------------------------------------------- */

static char *dup_bytes(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static int on_events(void *ctx, const struct xlb_etcd_event *ev, size_t n,
		     int64_t header_rev)
{
	struct xlbd_cluster *c = ctx;
	struct cl_msg *m = calloc(1, sizeof(*m));

	(void)header_rev;
	if (!m || !(m->ev = calloc(n, sizeof(*m->ev)))) {
		free(m);
		return -ENOMEM; /* resumed from watch_next: nothing lost */
	}
	for (size_t i = 0; i < n; i++) {
		struct cl_ev *e = &m->ev[i];

		e->type = ev[i].type;
		e->rev = ev[i].kv.mod_rev;
		e->key = strdup(ev[i].kv.key);
		e->len = ev[i].kv.value ? ev[i].kv.value_len : 0;
		e->value =
			dup_bytes(ev[i].kv.value ? ev[i].kv.value : "", e->len);
		m->n = i + 1;
		if (!e->key || !e->value) {
			cl_msg_free(m);
			return -ENOMEM;
		}
		if (e->rev >= c->watch_next)
			c->watch_next = e->rev + 1;
	}
	m->kind = CL_EVENTS;
	cl_post(c, m);
	return 0;
}

/* The whole state: 0, or a failure said to the loop. */
static int snapshot(struct xlbd_cluster *c)
{
	struct cl_msg *m = calloc(1, sizeof(*m));
	struct xlb_err err = {{0}};
	int ret;

	if (!m)
		return -ENOMEM;
	ret = xlb_etcd_get(c->etcd, c->base, true, &m->kvs, &err);
	if (ret) {
		free(m);
		post_simple(c, CL_WATCH_ERR, ret, err.msg);
		return ret;
	}
	c->watch_next = m->kvs.revision + 1;
	m->kind = CL_SNAPSHOT;
	cl_post(c, m);
	return 0;
}

static void *watch_main(void *arg)
{
	struct xlbd_cluster *c = arg;
	unsigned backoff = 100, idle = 3 * c->heartbeat_ms + 2000;
	bool need_snapshot = true;
	struct xlb_err err;
	int64_t compact;
	int ret;

	while (!c->stop) {
		if (need_snapshot && snapshot(c)) {
			nap(c, backoff);
			backoff = backoff < 2000 ? backoff * 2 : 2000;
			continue;
		}
		need_snapshot = false;
		memset(&err, 0, sizeof(err));
		compact = 0;
		ret = xlb_etcd_watch(c->etcd, c->base, c->watch_next, idle,
				     &c->stop, on_events, c, &compact, &err);
		if (c->stop || ret == -EINTR)
			break;
		if (ret == -ESTALE) {
			struct cl_msg *m = calloc(1, sizeof(*m));

			if (m) {
				m->kind = CL_GAP;
				m->rev = compact;
				m->ret = ret;
				snprintf(m->why, sizeof(m->why),
					 "watching from revision %lld: "
					 "compacted up to %lld",
					 (long long)c->watch_next,
					 (long long)compact);
				cl_post(c, m);
			}
			need_snapshot = true;
			continue;
		}
		if (ret != -ENOMEM)
			post_simple(c, CL_WATCH_ERR, ret, err.msg);
		nap(c, backoff);
		backoff = backoff < 2000 ? backoff * 2 : 2000;
	}
	return NULL;
}

/* ---- the writer -------------------------------------------------------- */

/* What the writer must do in one round, taken under mu. */
struct round {
	char *health;
	char *advert;
	struct cl_job job;
	bool has_job;
};

static void take_work(struct xlbd_cluster *c, struct round *r, bool beat)
{
	r->health = c->health_doc;
	c->health_doc = NULL;
	r->advert = NULL;
	if (beat || c->ad_dirty) {
		c->ad_dirty = false;
		c->ad.seq = ++c->seq;
		r->advert = xlb_cluster_advert_encode(&c->ad);
	}
	r->has_job = c->n_jobs > 0;
	if (r->has_job) {
		r->job = c->jobs[0];
		memmove(&c->jobs[0], &c->jobs[1],
			(--c->n_jobs) * sizeof(c->jobs[0]));
	}
}

static void wait_work(struct xlbd_cluster *c, __u64 due_ms)
{
	struct timespec ts;
	__u64 now;

	while (!c->stop && !c->health_doc && !c->n_jobs && !c->ad_dirty &&
	       (now = xlb_now_ms()) < due_ms) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)(due_ms - now) * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
}

/* The lease, granted anew when there is none: 0 when there is one. */
static int lease_ensure(struct xlbd_cluster *c, struct round *r,
			struct xlb_err *err)
{
	int ret;

	if (c->lease)
		return 0;
	ret = xlb_etcd_lease_grant(c->etcd, (int)c->ttl_s, &c->lease, err);
	if (ret)
		return ret;
	/* Everything bound to the old lease is gone: write it all again. */
	pthread_mutex_lock(&c->mu);
	if (!r->health && c->health_doc) {
		r->health = c->health_doc;
		c->health_doc = NULL;
	}
	if (!r->advert) {
		c->ad.seq = ++c->seq;
		r->advert = xlb_cluster_advert_encode(&c->ad);
	}
	pthread_mutex_unlock(&c->mu);
	post_simple(c, CL_LEASE_NEW, 0, "");
	return 0;
}

static int put_leased(struct xlbd_cluster *c, const char *key, char **doc,
		      struct xlb_err *err)
{
	int ret;

	if (!*doc)
		return 0;
	ret = xlb_etcd_put(c->etcd, key, *doc, strlen(*doc), c->lease, NULL,
			   err);
	if (ret == -ENOENT || (ret && strstr(err->msg, "lease not found")))
		c->lease = 0; /* expired: granted again next round */
	if (!ret) {
		free(*doc);
		*doc = NULL;
	}
	return ret;
}

static void do_job(struct xlbd_cluster *c, struct cl_job *job)
{
	struct cl_msg *m = calloc(1, sizeof(*m));
	struct xlb_err err = {{0}};
	int64_t rev = 0;
	int ret;

	ret = xlb_etcd_put_if(c->etcd, c->key_config, job->doc,
			      strlen(job->doc), job->expect, &rev, &err);
	free(job->doc);
	if (!m)
		return;
	m->kind = CL_EDIT_DONE;
	m->token = job->token;
	m->ret = ret;
	m->rev = rev;
	snprintf(m->why, sizeof(m->why), "%s", err.msg);
	cl_post(c, m);
}

/* One round's requests; false when one of them failed. */
static bool do_round(struct xlbd_cluster *c, struct round *r, bool beat)
{
	struct xlb_err err = {{0}};
	int ttl, ret;

	ret = lease_ensure(c, r, &err);
	if (!ret && beat) {
		ret = xlb_etcd_lease_keepalive(c->etcd, c->lease, &ttl, &err);
		if (ret == -ENOENT) {
			c->lease = 0;
			ret = lease_ensure(c, r, &err);
		}
	}
	if (!ret)
		ret = put_leased(c, c->key_health, &r->health, &err);
	if (!ret)
		ret = put_leased(c, c->key_node, &r->advert, &err);
	if (r->has_job) {
		do_job(c, &r->job);
		r->has_job = false;
	}
	if (ret)
		xlb_log(LOG_DEBUG, "cluster: etcd: %s", err.msg);
	return !ret;
}

static void *writer_main(void *arg)
{
	struct xlbd_cluster *c = arg;
	__u64 due = 0, last_ok = xlb_now_ms(), ttl_ms = c->ttl_s * 1000ULL;
	struct round r = {0};
	bool up = false, down_said = false, beat;

	while (!c->stop) {
		pthread_mutex_lock(&c->mu);
		wait_work(c, due);
		beat = xlb_now_ms() >= due;
		if (!c->stop) {
			char *keep = r.health; /* a failed round's, if any */

			take_work(c, &r, beat);
			if (keep && !r.health)
				r.health = keep;
			else
				free(keep);
		}
		pthread_mutex_unlock(&c->mu);
		if (c->stop)
			break;
		if (beat)
			due = xlb_now_ms() + c->heartbeat_ms;
		if (do_round(c, &r, beat)) {
			last_ok = xlb_now_ms();
			if (!up)
				post_simple(c, CL_ETCD_UP, 0, "");
			up = true;
			down_said = false;
		} else if (!down_said && xlb_now_ms() - last_ok >= ttl_ms) {
			post_simple(c, CL_ETCD_DOWN, -EIO,
				    "no request succeeded for a lease's TTL");
			up = false;
			down_said = true;
		} else if (r.health || r.advert) {
			due = xlb_now_ms() + c->heartbeat_ms / 4; /* retry */
		}
		free(r.advert);
		r.advert = NULL;
	}
	free(r.health);
	if (c->lease) {
		struct xlb_err err = {{0}};

		/* A graceful stop: the others see this node leave now. */
		xlb_etcd_lease_revoke(c->etcd, c->lease, &err);
	}
	return NULL;
}

int cl_io_start(struct xlbd_cluster *c, struct xlb_err *err)
{
	pthread_condattr_t ca;
	int ret;

	c->tail = &c->head;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	ret = pthread_create(&c->watch_thr, NULL, watch_main, c);
	if (ret) {
		xlb_err_set(err, "cluster: starting a thread: %s",
			    strerror(ret));
		return -ret;
	}
	ret = pthread_create(&c->writer_thr, NULL, writer_main, c);
	if (ret) {
		c->stop = 1;
		pthread_join(c->watch_thr, NULL);
		xlb_err_set(err, "cluster: starting a thread: %s",
			    strerror(ret));
		return -ret;
	}
	c->threads = true;
	return 0;
}

void cl_io_stop(struct xlbd_cluster *c)
{
	struct cl_msg *m;

	if (c->threads) {
		pthread_mutex_lock(&c->mu);
		c->stop = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->writer_thr, NULL);
		pthread_join(c->watch_thr, NULL);
		c->threads = false;
	}
	while ((m = c->head)) {
		c->head = m->next;
		cl_msg_free(m);
	}
	c->tail = &c->head;
	for (size_t i = 0; i < c->n_jobs; i++)
		free(c->jobs[i].doc);
	c->n_jobs = 0;
	free(c->health_doc);
	c->health_doc = NULL;
	xlb_cluster_advert_free(&c->ad);
}
