// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The cluster's documents and the rules drawn from them (cluster.h).
 * Every document is a JSON object with "format"; a reader refuses a
 * document whole when anything in it is wrong, so a bad write by hand or
 * by a newer xlb changes nothing a node holds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cluster.h"
#include "config.h"
#include "model_priv.h"
#include "text.h"

int xlb_cluster_id_check(const char *what, const char *id, struct xlb_err *err)
{
	size_t n = id ? strlen(id) : 0;

	if (!n || n > XLB_CLUSTER_ID_MAX) {
		xlb_err_set(err, "%s must be 1..%d characters", what,
			    XLB_CLUSTER_ID_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
			continue;
		xlb_err_set(err, "%s '%s': only letters, digits, '.', '_', '-'",
			    what, id);
		return -EINVAL;
	}
	return 0;
}

int xlb_cluster_key_kind(const char *base, const char *key, const char **id)
{
	size_t bl = strlen(base);
	const char *rest;

	*id = NULL;
	if (strncmp(key, base, bl))
		return XLB_CKEY_OTHER;
	rest = key + bl;
	if (!strcmp(rest, "config"))
		return XLB_CKEY_CONFIG;
	if (!strncmp(rest, "health/", 7))
		*id = rest + 7;
	else if (!strncmp(rest, "nodes/", 6))
		*id = rest + 6;
	if (!*id || xlb_cluster_id_check("node", *id, NULL)) {
		*id = NULL;
		return XLB_CKEY_OTHER;
	}
	return rest[0] == 'h' ? XLB_CKEY_HEALTH : XLB_CKEY_NODE;
}

/* text of j (consumed), or NULL. */
static char *dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(j);
	return s;
}

/* The document in buf: an object whose format this node reads. */
static int doc_load(const char *buf, size_t len, json_t **out,
		    struct xlb_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je), *f;

	*out = NULL;
	if (!j || !json_is_object(j)) {
		json_decref(j);
		xlb_err_set(err, "not a JSON object%s%s", j ? "" : ": ",
			    j ? "" : je.text);
		return -EINVAL;
	}
	f = json_object_get(j, "format");
	if (!json_is_integer(f) || json_integer_value(f) < 1) {
		json_decref(j);
		xlb_err_set(err, "format: missing or not a positive integer");
		return -EINVAL;
	}
	if (json_integer_value(f) > XLB_CLUSTER_FORMAT) {
		xlb_err_set(err,
			    "format %" JSON_INTEGER_FORMAT
			    " is newer than this xlb's (%d)",
			    json_integer_value(f), XLB_CLUSTER_FORMAT);
		json_decref(j);
		return -EPROTO;
	}
	*out = j;
	return 0;
}

char *xlb_cluster_config_encode(const struct xlb_model *m, const char *writer)
{
	return dump(json_pack("{s:i, s:s, s:o}", "format", XLB_CLUSTER_FORMAT,
			      "writer", writer, "config",
			      xlb_model_to_json(m, false)));
}

int xlb_cluster_config_decode(const char *buf, size_t len, struct xlb_model *m,
			      struct xlb_err *err)
{
	json_t *j, *c;
	int ret;

	xlb_model_init(m);
	ret = doc_load(buf, len, &j, err);
	if (ret)
		return ret;
	c = json_object_get(j, "config");
	if (!json_is_object(c))
		ret = xlb_err_path(err, "config", "missing or not an object");
	else
		ret = xlb_model_from_json(c, m, err);
	if (ret && c && json_is_object(c))
		xlb_err_prefix(err, "config");
	json_decref(j);
	return ret;
}

static json_t *bk_json(const struct xlb_cluster_bk *b)
{
	char vip[80], addr[64];

	return json_pack(
		"{s:s, s:s}", "vip", xlb_format_vip(&b->vip, vip, sizeof(vip)),
		"backend",
		xlb_format_addr(&b->addr, b->family, addr, sizeof(addr)));
}

static int bk_cmp(const void *pa, const void *pb)
{
	const struct xlb_cluster_bk *a = pa, *b = pb;
	int c = xlb_vip_key_cmp(&a->vip, &b->vip);

	if (c)
		return c;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

char *xlb_cluster_health_encode(const struct xlb_cluster_bk *down, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, bk_json(&down[i]));
	return dump(json_pack("{s:i, s:o*}", "format", XLB_CLUSTER_FORMAT,
			      "down", a));
}

static int bk_decode(const json_t *e, struct xlb_cluster_bk *b,
		     struct xlb_err *err)
{
	const char *vip = json_string_value(json_object_get(e, "vip"));
	const char *addr = json_string_value(json_object_get(e, "backend"));

	memset(b, 0, sizeof(*b));
	if (!json_is_object(e) || json_object_size(e) != 2 || !vip || !addr) {
		xlb_err_set(err, "must be {\"vip\": ..., \"backend\": ...}");
		return -EINVAL;
	}
	if (xlb_parse_vip(vip, &b->vip, err) ||
	    xlb_parse_addr(addr, &b->addr, &b->family, err))
		return -EINVAL;
	return 0;
}

int xlb_cluster_health_decode(const char *buf, size_t len,
			      struct xlb_cluster_bk **down, size_t *n,
			      struct xlb_err *err)
{
	json_t *j, *a;
	size_t i = 0;
	int ret;

	*down = NULL;
	*n = 0;
	ret = doc_load(buf, len, &j, err);
	if (ret)
		return ret;
	a = json_object_get(j, "down");
	if (!json_is_array(a) || json_array_size(a) > XLB_MAX_BACKENDS) {
		ret = xlb_err_path(err, "down",
				   "missing, or not an array of "
				   "at most %d backends",
				   XLB_MAX_BACKENDS);
		goto out;
	}
	*down = calloc(json_array_size(a) + 1, sizeof(**down));
	ret = *down ? 0 : -ENOMEM;
	for (i = 0; !ret && i < json_array_size(a); i++) {
		struct xlb_err why = {{0}};

		if (bk_decode(json_array_get(a, i), &(*down)[i], &why))
			ret = xlb_err_path(err, "down", "[%zu]: %s", i,
					   why.msg);
	}
	if (ret) {
		free(*down);
		*down = NULL;
		goto out;
	}
	*n = i;
	qsort(*down, *n, sizeof(**down), bk_cmp);
out:
	json_decref(j);
	return ret;
}

static json_t *fps_json(const struct xlb_cluster_advert *a)
{
	json_t *o = json_object();
	char vip[80], fp[24];

	for (size_t i = 0; o && i < a->n_fp; i++) {
		snprintf(fp, sizeof(fp), "%016" PRIx64, (uint64_t)a->fp[i].fp);
		json_object_set_new(
			o, xlb_format_vip(&a->fp[i].vip, vip, sizeof(vip)),
			json_string(fp));
	}
	return o;
}

char *xlb_cluster_advert_encode(const struct xlb_cluster_advert *a)
{
	return dump(json_pack(
		"{s:i, s:I, s:I, s:I, s:b, s:b, s:b, s:s, s:o*}", "format",
		XLB_CLUSTER_FORMAT, "generation", (json_int_t)a->generation,
		"seq", (json_int_t)a->seq, "started", (json_int_t)a->started,
		"joined", a->joined, "announced", a->announced, "own_view",
		a->own_view, "version", a->version, "fingerprints",
		fps_json(a)));
}

static int fp_cmp(const void *pa, const void *pb)
{
	const struct xlb_cluster_fp *a = pa, *b = pb;

	return xlb_vip_key_cmp(&a->vip, &b->vip);
}

static int fps_decode(const json_t *o, struct xlb_cluster_advert *a,
		      struct xlb_err *err)
{
	const char *k;
	json_t *v;
	char *end;

	if (!json_is_object(o) || json_object_size(o) > XLB_MAX_VIPS)
		return xlb_err_path(err, "fingerprints", "not an object");
	a->fp = calloc(json_object_size(o) + 1, sizeof(*a->fp));
	if (!a->fp)
		return -ENOMEM;
	json_object_foreach((json_t *)o, k, v)
	{
		struct xlb_cluster_fp *f = &a->fp[a->n_fp];
		const char *s = json_string_value(v);
		struct xlb_err why = {{0}};

		if (xlb_parse_vip(k, &f->vip, &why))
			return xlb_err_path(err, "fingerprints", "%s", why.msg);
		errno = 0;
		f->fp = s ? strtoull(s, &end, 16) : 0;
		if (!s || !*s || *end || errno || strlen(s) > 16)
			return xlb_err_path(err, "fingerprints",
					    "%s: not a hex fingerprint", k);
		a->n_fp++;
	}
	qsort(a->fp, a->n_fp, sizeof(*a->fp), fp_cmp);
	return 0;
}

int xlb_cluster_advert_decode(const char *buf, size_t len,
			      struct xlb_cluster_advert *a, struct xlb_err *err)
{
	json_int_t gen = -1, seq = 0, started = 0;
	int joined = 0, announced = 0, own = 0, ret;
	const char *version = NULL;
	json_error_t je;
	json_t *j, *fps = NULL;

	memset(a, 0, sizeof(*a));
	ret = doc_load(buf, len, &j, err);
	if (ret)
		return ret;
	if (json_unpack_ex(
		    j, &je, 0, "{s:I, s:I, s:I, s:b, s:b, s:b, s:s, s:o}",
		    "generation", &gen, "seq", &seq, "started", &started,
		    "joined", &joined, "announced", &announced, "own_view",
		    &own, "version", &version, "fingerprints", &fps) ||
	    gen < 0) {
		ret = xlb_err_path(err, "advertisement", "%s",
				   gen < 0 ? "generation < 0" : je.text);
		goto out;
	}
	a->generation = gen;
	a->seq = (__u64)seq;
	a->started = started;
	a->joined = joined;
	a->announced = announced;
	a->own_view = own;
	snprintf(a->version, sizeof(a->version), "%s", version);
	ret = fps_decode(fps, a, err);
out:
	if (ret)
		xlb_cluster_advert_free(a);
	json_decref(j);
	return ret;
}

void xlb_cluster_advert_free(struct xlb_cluster_advert *a)
{
	free(a->fp);
	a->fp = NULL;
	a->n_fp = 0;
}

void xlb_cluster_view_free(struct xlb_cluster_view *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->m[i].down);
		xlb_cluster_advert_free(&v->m[i].ad);
	}
	free(v->m);
	v->m = NULL;
	v->n = 0;
}

struct xlb_cluster_member *xlb_cluster_member(struct xlb_cluster_view *v,
					      const char *id, bool create)
{
	struct xlb_cluster_member *m;
	size_t i = 0;

	while (i < v->n && strcmp(v->m[i].id, id) < 0)
		i++;
	if (i < v->n && !strcmp(v->m[i].id, id))
		return &v->m[i];
	if (!create || strlen(id) > XLB_CLUSTER_ID_MAX)
		return NULL;
	m = realloc(v->m, (v->n + 1) * sizeof(*m));
	if (!m)
		return NULL;
	v->m = m;
	memmove(&m[i + 1], &m[i], (v->n - i) * sizeof(*m));
	memset(&m[i], 0, sizeof(*m));
	snprintf(m[i].id, sizeof(m[i].id), "%s", id);
	v->n++;
	return &m[i];
}

void xlb_cluster_member_drop(struct xlb_cluster_view *v, const char *id,
			     int kind)
{
	struct xlb_cluster_member *m = xlb_cluster_member(v, id, false);

	if (!m)
		return;
	if (kind == XLB_CKEY_HEALTH) {
		free(m->down);
		m->down = NULL;
		m->n_down = 0;
		m->has_health = false;
	} else {
		xlb_cluster_advert_free(&m->ad);
		m->has_advert = false;
	}
	if (m->has_health || m->has_advert)
		return;
	memmove(m, m + 1, (size_t)(&v->m[v->n] - (m + 1)) * sizeof(*m));
	v->n--;
}

size_t xlb_cluster_members(const struct xlb_cluster_view *v)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n; i++)
		n += v->m[i].has_health;
	return n;
}

size_t xlb_cluster_quorum(unsigned q, size_t n)
{
	return q ? q : n / 2 + 1;
}

void xlb_cluster_down(const struct xlb_cluster_view *v, unsigned q,
		      const struct xlb_model *m, __u8 *down, __u16 *votes)
{
	size_t need = xlb_cluster_quorum(q, xlb_cluster_members(v));

	memset(down, 0, XLB_MAX_BACKENDS * sizeof(*down));
	memset(votes, 0, XLB_MAX_BACKENDS * sizeof(*votes));
	for (size_t i = 0; i < v->n; i++) {
		const struct xlb_cluster_member *mb = &v->m[i];

		for (size_t j = 0; mb->has_health && j < mb->n_down; j++) {
			const struct xlb_cluster_bk *k = &mb->down[j];
			struct xlb_vip_cfg *vc = xlb_model_vip(m, &k->vip);
			struct xlb_backend_cfg *b =
				vc ? xlb_vip_backend(vc, &k->addr, k->family)
				   : NULL;

			if (b && b->id && b->id < XLB_MAX_BACKENDS)
				votes[b->id]++;
		}
	}
	for (size_t id = 1; id < XLB_MAX_BACKENDS; id++)
		down[id] = votes[id] && votes[id] >= need;
}

/* Every operator-up backend of v is down by the quorum. */
static bool all_down(const struct xlb_vip_cfg *v, const __u8 *down)
{
	bool any = false;

	for (size_t j = 0; j < v->n_backends; j++) {
		if (v->backends[j].state != XLB_BACKEND_UP)
			continue;
		if (!down[v->backends[j].id])
			return false;
		any = true;
	}
	return any;
}

int xlb_cluster_effective(const struct xlb_model *m, const __u8 *down,
			  struct xlb_model *out)
{
	int ret = xlb_model_copy(out, m);

	for (size_t i = 0; !ret && i < out->n_vips; i++) {
		struct xlb_vip_cfg *v = &out->vips[i];

		if (v->all_down == XLB_ALL_DOWN_KEEP && all_down(v, down))
			continue;
		for (size_t j = 0; j < v->n_backends; j++) {
			struct xlb_backend_cfg *b = &v->backends[j];

			if (b->state == XLB_BACKEND_UP && down[b->id])
				b->state =
					v->on_check_down == XLB_CHECK_DOWN_MOVE
						? XLB_BACKEND_DOWN
						: XLB_BACKEND_DRAIN;
		}
	}
	return ret;
}

/* The fingerprint a advertises for vip, or false. */
static bool fp_of(const struct xlb_cluster_advert *a,
		  const struct xlb_vip_key *vip, __u64 *fp)
{
	for (size_t i = 0; i < a->n_fp; i++)
		if (!xlb_vip_key_cmp(&a->fp[i].vip, vip)) {
			*fp = a->fp[i].fp;
			return true;
		}
	return false;
}

size_t xlb_cluster_mismatch(const struct xlb_cluster_view *v, const char *self,
			    __s64 generation, const struct xlb_cluster_fp *fp,
			    size_t n_fp)
{
	size_t bad = 0;

	for (size_t i = 0; i < n_fp; i++) {
		for (size_t k = 0; k < v->n; k++) {
			const struct xlb_cluster_member *mb = &v->m[k];
			__u64 theirs;

			if (!strcmp(mb->id, self) || !mb->has_advert ||
			    mb->ad.generation != generation)
				continue;
			if (!fp_of(&mb->ad, &fp[i].vip, &theirs) ||
			    theirs != fp[i].fp) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

static bool same_fps(const struct xlb_cluster_advert *a,
		     const struct xlb_cluster_fp *fp, size_t n_fp)
{
	if (a->n_fp != n_fp)
		return false;
	for (size_t i = 0; i < n_fp; i++)
		if (xlb_vip_key_cmp(&a->fp[i].vip, &fp[i].vip) ||
		    a->fp[i].fp != fp[i].fp)
			return false;
	return true;
}

bool xlb_cluster_agrees(const struct xlb_cluster_view *v, const char *self,
			const struct xlb_cluster_fp *fp, size_t n_fp)
{
	size_t others = 0, same = 0;

	for (size_t k = 0; k < v->n; k++) {
		const struct xlb_cluster_member *mb = &v->m[k];

		if (!strcmp(mb->id, self) || !mb->has_advert || !mb->ad.joined)
			continue;
		others++;
		same += same_fps(&mb->ad, fp, n_fp);
	}
	return !others || 2 * same >= others;
}
