// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlbd's write-ahead journal (see journal.h): records made of the state
 * file's own encodings of the VIPs that changed, appended and synced
 * before the maps change, replayed over the state file at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "config.h"
#include "journal.h"
#include "thread.h"

/*
 * The thread that syncs a record while the appender goes on (started at
 * the first xlb_journal_append_start): asked by `want`, answers with
 * `done` and the result.
 */
struct journal_syncer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool want, done, stop;
	int fd, ret;
};

struct xlb_journal {
	int fd;
	__u64 seq;	/* the last record's number */
	size_t records; /* in the file */
	off_t size;	/* bytes of whole records */
	off_t before;	/* size before the last append (undo) */
	bool broken;
	size_t pending; /* bytes written by _start, not yet synced */
	struct journal_syncer *syncer;
};

/* ---- one record -------------------------------------------------------- */

/* Do two models hold the same pools, layouts included? */
static bool pools_equal(const struct xlb_model *a, const struct xlb_model *b)
{
	if (a->n_pools != b->n_pools)
		return false;
	for (size_t i = 0; i < a->n_pools; i++)
		if (!xlb_pool_equal(&a->pools[i], &b->pools[i], true))
			return false;
	return true;
}

/* Every pool of m, with ids: a record's "pools" (a few dozen at most). */
static json_t *pools_json(const struct xlb_model *m)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < m->n_pools; i++)
		if (json_array_append_new(
			    a, xlb_pool_to_json(&m->pools[i], true))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Do two models hold the same uplinks, ids included? */
static bool uplinks_equal(const struct xlb_model *a, const struct xlb_model *b)
{
	if (a->n_uplinks != b->n_uplinks)
		return false;
	for (size_t i = 0; i < a->n_uplinks; i++)
		if (!xlb_uplink_equal(&a->uplinks[i], &b->uplinks[i], true))
			return false;
	return true;
}

/* Every uplink of m, with ids: a record's "uplinks" (a handful). */
static json_t *uplinks_json(const struct xlb_model *m)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < m->n_uplinks; i++)
		if (json_array_append_new(
			    a, xlb_uplink_to_json(&m->uplinks[i], true))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* The record of cur -> next as JSON, or NULL with *empty when equal. */
static json_t *record_of(const struct xlb_model *cur,
			 const struct xlb_model *next, __u64 seq, bool *empty)
{
	json_t *rec = json_object(), *vips = json_array(), *del = json_array();
	char vs[XLB_VIP_STRLEN];
	bool same_pools, same_uplinks;

	*empty = false;
	if (!rec || !vips || !del)
		goto err;
	/* Both models are sorted by key: look-ups are binary searches. */
	for (size_t i = 0; i < next->n_vips; i++) {
		const struct xlb_vip_cfg *v = &next->vips[i];
		const struct xlb_vip_cfg *c = xlb_model_vip(cur, &v->key);

		if (c && xlb_vip_equal(c, v, true))
			continue;
		if (json_array_append_new(vips, xlb_vip_to_json(v, true)))
			goto err;
	}
	for (size_t i = 0; i < cur->n_vips; i++) {
		const struct xlb_vip_key *k = &cur->vips[i].key;

		if (xlb_model_vip(next, k))
			continue;
		xlb_format_vip(k, vs, sizeof(vs));
		if (json_array_append_new(del, json_string(vs)))
			goto err;
	}
	same_pools = pools_equal(cur, next);
	same_uplinks = uplinks_equal(cur, next);
	if (!json_array_size(vips) && !json_array_size(del) &&
	    xlb_global_equal(&cur->global, &next->global) && same_pools &&
	    same_uplinks) {
		*empty = true;
		goto err;
	}
	/* A pool changed: the record holds all of them, as they are now. */
	if (!same_pools && json_object_set_new(rec, "pools", pools_json(next)))
		goto err;
	/* So with uplinks: an empty array is "none left". */
	if (!same_uplinks &&
	    json_object_set_new(rec, "uplinks", uplinks_json(next)))
		goto err;
	if (json_object_set_new(rec, "seq", json_integer(seq)))
		goto err;
	if (!xlb_global_equal(&cur->global, &next->global) &&
	    json_object_set_new(rec, "global",
				xlb_global_to_json(&next->global)))
		goto err;
	if (json_array_size(vips) && json_object_set(rec, "vips", vips))
		goto err;
	if (json_array_size(del) && json_object_set(rec, "del", del))
		goto err;
	json_decref(vips);
	json_decref(del);
	return rec;

err:
	json_decref(rec);
	json_decref(vips);
	json_decref(del);
	return NULL;
}

/* The key of a VIP object or of a "del" entry. */
static int vip_key_of(const json_t *s, struct xlb_vip_key *k,
		      struct xlb_err *err)
{
	if (!json_is_string(s)) {
		xlb_err_set(err, "a VIP without its \"vip\" key");
		return -EINVAL;
	}
	return xlb_parse_vip(json_string_value(s), k, err);
}

/*
 * Applies one record (its seq checked by the caller) to m: every VIP it
 * names goes, then its pools and uplinks replace m's (when it has
 * them), then its VIPs come back as written, so ids never collide
 * half-way; then the global knobs. The whole model is validated after the
 * replay.
 */
static int record_apply(const json_t *rec, struct xlb_model *m,
			struct xlb_err *err)
{
	const json_t *vips = json_object_get(rec, "vips");
	const json_t *del = json_object_get(rec, "del");
	const json_t *g = json_object_get(rec, "global");
	const json_t *pools = json_object_get(rec, "pools");
	const json_t *uplinks = json_object_get(rec, "uplinks");
	struct xlb_vip_key k;
	size_t i;
	int ret;

	if ((vips && !json_is_array(vips)) || (del && !json_is_array(del))) {
		xlb_err_set(err, "\"vips\" and \"del\" must be arrays");
		return -EINVAL;
	}
	for (i = 0; i < json_array_size(del); i++) {
		ret = vip_key_of(json_array_get(del, i), &k, err);
		if (!ret)
			ret = xlb_model_vip_del(m, &k, err);
		if (ret)
			return ret;
	}
	for (i = 0; i < json_array_size(vips); i++) {
		ret = vip_key_of(
			json_object_get(json_array_get(vips, i), "vip"), &k,
			err);
		if (ret)
			return ret;
		if (xlb_model_vip(m, &k))
			xlb_model_vip_del(m, &k, err);
	}
	if (pools) {
		free(m->pools);
		m->pools = NULL;
		m->n_pools = 0;
		ret = xlb_model_pools_from_json(pools, m, err);
		if (ret)
			return ret;
	}
	if (uplinks) {
		free(m->uplinks);
		m->uplinks = NULL;
		m->n_uplinks = 0;
		ret = xlb_model_uplinks_from_json(uplinks, m, err);
		if (ret)
			return ret;
	}
	ret = xlb_model_vips_from_json(vips, m, err);
	if (ret)
		return ret;
	return g ? xlb_model_global_from_json(g, m, err) : 0;
}

/*
 * One line (without its LF) into a record: the CRC, then the JSON and
 * its seq. -EBADMSG with why in err when it is not one.
 */
static json_t *record_parse(const char *line, size_t len, __u64 *seq,
			    struct xlb_err *err)
{
	json_error_t jerr;
	unsigned long want;
	const json_t *s;
	char *end;
	json_t *rec;

	if (len < 10 || line[8] != ' ') {
		xlb_err_set(err, "not a record (%zu bytes)", len);
		return NULL;
	}
	want = strtoul(line, &end, 16);
	if (end != line + 8 ||
	    crc32(0, (const Bytef *)line + 9, len - 9) != want) {
		xlb_err_set(err, "its checksum does not match");
		return NULL;
	}
	rec = json_loadb(line + 9, len - 9, JSON_REJECT_DUPLICATES, &jerr);
	if (!rec) {
		xlb_err_set(err, "%s", jerr.text);
		return NULL;
	}
	s = json_object_get(rec, "seq");
	if (!json_is_object(rec) || !json_is_integer(s) ||
	    json_integer_value(s) <= 0) {
		xlb_err_set(err, "no sequence number");
		json_decref(rec);
		return NULL;
	}
	*seq = (__u64)json_integer_value(s);
	return rec;
}

/* ---- replay ------------------------------------------------------------ */

/* The whole file in *buf (NUL-terminated), its length in *len. */
static int read_all(const char *path, char **buf, size_t *len)
{
	size_t cap = 0, n = 0;
	char *b = NULL, *nb;
	ssize_t r;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? 2 * cap : 65536 + 1;
			nb = realloc(b, cap);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (!r)
			break;
		n += r;
	}
	close(fd);
	if (ret) {
		free(b);
		return ret;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* Damage: err says where, whatever the record's own message was. */
static int damaged(struct xlb_err *err, const char *path, size_t nr, size_t at,
		   const char *why)
{
	char w[sizeof(err->msg)];

	snprintf(w, sizeof(w), "%s", why);
	xlb_err_set(err, "%s: record %zu (byte %zu) is damaged: %s", path, nr,
		    at, w);
	return -EBADMSG;
}

int xlb_journal_replay(const char *path, struct xlb_model *m, __u64 seq,
		       struct xlb_journal_replay *r, struct xlb_err *err)
{
	struct xlb_model work;
	size_t len = 0, pos = 0, nr = 0;
	__u64 prev = 0;
	char *buf = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	r->seq = seq;
	ret = read_all(path, &buf, &len);
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		xlb_err_set(err, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	/* Applied to a copy: on damage the caller's model is untouched. */
	ret = xlb_model_copy(&work, m);
	if (ret) {
		free(buf);
		xlb_err_set(err, "out of memory");
		return ret;
	}
	while (pos < len) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		struct xlb_err why = {{0}};
		__u64 rs = 0;
		json_t *rec;

		nr++;
		/* The last line: an append a crash cut short, never
		 * acknowledged (a record ends with its LF). */
		if (!nl) {
			r->torn = true;
			snprintf(r->torn_why, sizeof(r->torn_why),
				 "%zu bytes without an end of line", len - pos);
			break;
		}
		rec = record_parse(buf + pos, end - pos, &rs, &why);
		if (!rec && end + 1 == len) {
			r->torn = true;
			snprintf(r->torn_why, sizeof(r->torn_why), "%s",
				 why.msg);
			break;
		}
		if (!rec) {
			ret = damaged(err, path, nr, pos, why.msg);
			goto out;
		}
		if (rs <= prev) {
			snprintf(why.msg, sizeof(why.msg),
				 "number %llu after %llu",
				 (unsigned long long)rs,
				 (unsigned long long)prev);
			ret = -EBADMSG;
		} else if (rs > r->seq && rs != r->seq + 1) {
			snprintf(why.msg, sizeof(why.msg),
				 "number %llu where %llu was due: records "
				 "are missing",
				 (unsigned long long)rs,
				 (unsigned long long)r->seq + 1);
			ret = -EBADMSG;
		} else if (rs > r->seq) {
			ret = record_apply(rec, &work, &why);
		}
		json_decref(rec);
		if (ret) {
			ret = damaged(err, path, nr, pos, why.msg);
			goto out;
		}
		if (rs > r->seq) {
			r->seq = rs;
			r->applied++;
		} else {
			r->skipped++;
		}
		prev = rs;
		pos = end + 1;
		r->valid = pos;
	}
	if (r->applied) {
		ret = xlb_model_validate(&work, err);
		if (ret) {
			char w[sizeof(err->msg)];

			snprintf(w, sizeof(w), "%s", err->msg);
			xlb_err_set(err,
				    "%s: the replayed model is invalid: %s",
				    path, w);
			ret = -EBADMSG;
			goto out;
		}
	}
	xlb_model_free(m);
	*m = work;
	xlb_model_init(&work);

out:
	xlb_model_free(&work);
	free(buf);
	return ret;
}

/* ---- appending --------------------------------------------------------- */

static void *syncer_thread(void *arg)
{
	struct journal_syncer *y = arg;

	pthread_mutex_lock(&y->lock);
	for (;;) {
		while (!y->want && !y->stop)
			pthread_cond_wait(&y->cond, &y->lock);
		if (y->stop)
			break;
		y->want = false;
		pthread_mutex_unlock(&y->lock);
		int ret = fdatasync(y->fd) ? -errno : 0;

		pthread_mutex_lock(&y->lock);
		y->ret = ret;
		y->done = true;
		pthread_cond_broadcast(&y->cond);
	}
	pthread_mutex_unlock(&y->lock);
	return NULL;
}

static struct journal_syncer *syncer_new(int fd)
{
	struct journal_syncer *y = calloc(1, sizeof(*y));

	if (!y)
		return NULL;
	y->fd = fd;
	pthread_mutex_init(&y->lock, NULL);
	pthread_cond_init(&y->cond, NULL);
	if (xlb_thread_start(&y->thread, syncer_thread, y)) {
		pthread_cond_destroy(&y->cond);
		pthread_mutex_destroy(&y->lock);
		free(y);
		return NULL;
	}
	return y;
}

static void syncer_free(struct journal_syncer *y)
{
	if (!y)
		return;
	xlb_thread_stop(y->thread, &y->lock, &y->cond, &y->stop);
	free(y);
}

int xlb_journal_open(const char *path, off_t valid, __u64 seq,
		     struct xlb_journal **out, struct xlb_err *err)
{
	struct xlb_journal *j = calloc(1, sizeof(*j));
	int ret;

	if (!j) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	j->seq = seq;
	j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (j->fd < 0 || ftruncate(j->fd, valid) || fsync(j->fd)) {
		ret = -errno;
		xlb_err_set(err, "cannot open %s: %s", path, strerror(-ret));
		xlb_journal_close(j);
		return ret;
	}
	j->size = j->before = valid;
	/* Counted as records only for the compaction's threshold. */
	j->records = valid ? 1 : 0;
	*out = j;
	return 0;
}

void xlb_journal_close(struct xlb_journal *j)
{
	struct xlb_err ignored = {{0}};

	if (!j)
		return;
	xlb_journal_append_finish(j, &ignored);
	syncer_free(j->syncer);
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

/* Back to `size` bytes; broken when even that fails. */
static int cut(struct xlb_journal *j, off_t size)
{
	if (ftruncate(j->fd, size) || fdatasync(j->fd)) {
		j->broken = true;
		return -errno;
	}
	j->size = size;
	return 0;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		s += w;
		n -= w;
	}
	return 0;
}

/* A record's write or sync failed (ret): it is cut back, err says so. */
static int append_failed(struct xlb_journal *j, int ret, struct xlb_err *err)
{
	/* A torn record must not stay in front of the next one. */
	xlb_err_set(err, "cannot write the journal: %s%s", strerror(-ret),
		    cut(j, j->size) ? " (and cannot cut it back)" : "");
	return ret;
}

/*
 * Writes the record of cur -> next; *n its bytes (0: nothing to write).
 * On failure nothing of it stays.
 */
static int append_write(struct xlb_journal *j, const struct xlb_model *cur,
			const struct xlb_model *next, size_t *n,
			struct xlb_err *err)
{
	char *text = NULL, *line = NULL;
	bool empty;
	json_t *rec;
	int len, ret;

	*n = 0;
	/* Until a record is made, there is none to take back. */
	j->before = j->size;
	if (j->broken) {
		xlb_err_set(err, "the journal's end is unknown after a failed "
				 "write");
		return -EIO;
	}
	rec = record_of(cur, next, j->seq + 1, &empty);
	if (!rec && empty)
		return 0;
	if (rec)
		text = json_dumps(rec, JSON_COMPACT);
	len = text ? asprintf(&line, "%08lx %s\n",
			      crc32(0, (const Bytef *)text, strlen(text)), text)
		   : -1;
	if (len < 0) {
		ret = -ENOMEM;
		xlb_err_set(err, "out of memory");
		goto out;
	}
	ret = write_all(j->fd, line, len);
	if (ret)
		append_failed(j, ret, err);
	else
		*n = len;

out:
	free(line);
	free(text);
	json_decref(rec);
	return ret;
}

/* After the sync (ret) of a written record of n bytes: counted, or cut. */
static int append_done(struct xlb_journal *j, size_t n, int ret,
		       struct xlb_err *err)
{
	if (ret)
		return append_failed(j, ret, err);
	j->size += n;
	j->records++;
	j->seq++;
	return 0;
}

int xlb_journal_append(struct xlb_journal *j, const struct xlb_model *cur,
		       const struct xlb_model *next, struct xlb_err *err)
{
	size_t n;
	int ret = append_write(j, cur, next, &n, err);

	if (ret || !n)
		return ret;
	return append_done(j, n, fdatasync(j->fd) ? -errno : 0, err);
}

int xlb_journal_append_start(struct xlb_journal *j, const struct xlb_model *cur,
			     const struct xlb_model *next, struct xlb_err *err)
{
	size_t n;
	int ret;

	if (!j->syncer)
		j->syncer = syncer_new(j->fd);
	/* No thread: the sync is done here, as xlb_journal_append's. */
	if (!j->syncer)
		return xlb_journal_append(j, cur, next, err);
	ret = append_write(j, cur, next, &n, err);
	if (ret || !n)
		return ret;
	j->pending = n;
	pthread_mutex_lock(&j->syncer->lock);
	j->syncer->done = false;
	j->syncer->want = true;
	pthread_cond_broadcast(&j->syncer->cond);
	pthread_mutex_unlock(&j->syncer->lock);
	return 0;
}

int xlb_journal_append_finish(struct xlb_journal *j, struct xlb_err *err)
{
	size_t n = j->pending;
	int ret;

	if (!n)
		return 0;
	pthread_mutex_lock(&j->syncer->lock);
	while (!j->syncer->done)
		pthread_cond_wait(&j->syncer->cond, &j->syncer->lock);
	ret = j->syncer->ret;
	pthread_mutex_unlock(&j->syncer->lock);
	j->pending = 0;
	return append_done(j, n, ret, err);
}

int xlb_journal_undo(struct xlb_journal *j, struct xlb_err *err)
{
	struct xlb_err ignored = {{0}};
	int ret;

	/* Synced or cut: then it is taken back as any other. */
	xlb_journal_append_finish(j, &ignored);
	if (j->size == j->before)
		return 0;
	ret = cut(j, j->before);
	if (ret) {
		xlb_err_set(err, "cannot take back journal record %llu: %s",
			    (unsigned long long)j->seq, strerror(-ret));
		return ret;
	}
	j->records--;
	j->seq--;
	return 0;
}

int xlb_journal_reset(struct xlb_journal *j, struct xlb_err *err)
{
	int ret;

	/* A crash before this point replays nothing twice: the state
	 * file's journal_seq covers every record. */
	if (ftruncate(j->fd, 0) || fsync(j->fd)) {
		ret = -errno;
		j->broken = true;
		xlb_err_set(err, "cannot empty the journal: %s",
			    strerror(-ret));
		return ret;
	}
	j->size = j->before = 0;
	j->records = 0;
	j->broken = false;
	return 0;
}

__u64 xlb_journal_seq(const struct xlb_journal *j)
{
	return j->seq;
}

size_t xlb_journal_records(const struct xlb_journal *j)
{
	return j->records;
}

size_t xlb_journal_bytes(const struct xlb_journal *j)
{
	return j->size;
}

bool xlb_journal_broken(const struct xlb_journal *j)
{
	return j->broken;
}
