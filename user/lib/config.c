// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The model as a JSON document. Reading is strict: an unknown key or a
 * value of the wrong type is an error naming its path ("vips[1].backends[0]:
 * unknown key 'wieght'"), because a typo that silently falls back to a
 * default is worse than a refusal. Every object is read and written by its
 * field table (schema.h), the same that decodes the control protocol and
 * the CLI's options, and goes through the same model edits, so a file can
 * express exactly what a command can. Writing follows the tables' order
 * and always writes every key, so files diff cleanly and an operator sees
 * every knob; saving is atomic (temp file, fsync, rename, fsync of the
 * directory) because the state file is what a restarted xlbd trusts.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "schema.h"

/* Puts "path: " in front of a message a model edit left in err. */
static void err_prefix(struct xlb_err *err, const char *path)
{
	char old[sizeof(err->msg)];

	memcpy(old, err->msg, sizeof(old));
	xlb_err_set(err, "%s: %s", path, old);
}

/* ---- model to JSON ----------------------------------------------------- */

/* A new object of obj's fields; NULL when out of memory. */
static json_t *encode(const struct xlb_schema *s, const void *obj,
		      bool with_ids)
{
	json_t *j = json_object();

	if (j && xlb_schema_encode(s, obj, -1, with_ids, j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *backend_to_json(const struct xlb_backend_cfg *b, bool with_ids)
{
	json_t *j = encode(&xlb_backend_schema, b, with_ids);

	/* Only its own: an inherited check is written once, in its VIP. */
	if (j && b->check &&
	    json_object_set_new(j, "check", xlb_check_encode(b->check))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *xlb_vip_to_json(const struct xlb_vip_cfg *v, bool with_ids)
{
	json_t *j = encode(&xlb_vip_schema, v, with_ids), *bs = json_array();

	if (!j || json_object_set_new(j, "backends", bs))
		goto err;
	for (size_t i = 0; i < v->n_backends; i++)
		if (json_array_append_new(
			    bs, backend_to_json(&v->backends[i], with_ids)))
			goto err;
	return j;

err:
	json_decref(j);
	return NULL;
}

json_t *xlb_pool_to_json(const struct xlb_pool_cfg *p, bool with_ids)
{
	return encode(&xlb_pool_schema, p, with_ids);
}

json_t *xlb_uplink_to_json(const struct xlb_uplink_cfg *u, bool with_ids)
{
	return encode(&xlb_uplink_schema, u, with_ids);
}

json_t *xlb_model_to_json(const struct xlb_model *m, bool with_ids)
{
	json_t *vips = json_array(), *pools = json_array();
	json_t *uplinks = json_array();

	if (!vips || !pools || !uplinks)
		goto err;
	for (size_t i = 0; i < m->n_vips; i++)
		if (json_array_append_new(
			    vips, xlb_vip_to_json(&m->vips[i], with_ids)))
			goto err;
	for (size_t i = 0; i < m->n_pools; i++)
		if (json_array_append_new(
			    pools, xlb_pool_to_json(&m->pools[i], with_ids)))
			goto err;
	for (size_t i = 0; i < m->n_uplinks; i++)
		if (json_array_append_new(
			    uplinks,
			    xlb_uplink_to_json(&m->uplinks[i], with_ids)))
			goto err;
	/* "o" takes over the references, also when json_pack fails. */
	return json_pack("{s:o, s:o, s:o, s:o}", "global",
			 xlb_global_to_json(&m->global), "uplinks", uplinks,
			 "pools", pools, "vips", vips);

err:
	json_decref(vips);
	json_decref(pools);
	json_decref(uplinks);
	return NULL;
}

json_t *xlb_global_to_json(const struct xlb_global_cfg *g)
{
	return encode(&xlb_global_schema, g, false);
}

/* ---- JSON to model ----------------------------------------------------- */

static int parse_global(const json_t *g, struct xlb_model *m,
			struct xlb_err *err)
{
	int ret = xlb_schema_decode(&xlb_global_schema, g, "global", NULL,
				    &m->global, NULL, err);

	if (ret)
		return ret;
	/* The rules that are more than a range (encap, mtu) live there. */
	ret = xlb_model_validate(m, err);
	if (ret)
		err_prefix(err, "global");
	return ret;
}

/* b->check points to *check when the backend has a check of its own. */
static int parse_backend(const json_t *j, const char *path,
			 struct xlb_backend_cfg *b, struct xlb_check_cfg *check,
			 struct xlb_err *err)
{
	static const char *const theirs[] = {"check", NULL};
	const json_t *cj = json_object_get(j, "check");
	char fpath[160];
	int ret;

	memset(b, 0, sizeof(*b));
	b->weight = XLB_WEIGHT_DEFAULT;
	b->state = XLB_BACKEND_UP;
	ret = xlb_schema_decode(&xlb_backend_schema, j, path, theirs, b, NULL,
				err);
	if (!ret && cj) {
		snprintf(fpath, sizeof(fpath), "%s.check", path);
		ret = xlb_check_decode(cj, fpath, NULL, false, check, err);
		b->check = check;
	}
	return ret;
}

static int parse_backends(const json_t *bs, const char *path,
			  struct xlb_model *m, const struct xlb_vip_key *key,
			  struct xlb_err *err)
{
	char fpath[128];
	int ret;

	if (bs && !json_is_array(bs))
		return xlb_err_path(err, path, "expected an array");
	for (size_t i = 0; i < json_array_size(bs); i++) {
		struct xlb_check_cfg check;
		struct xlb_backend_cfg b;

		snprintf(fpath, sizeof(fpath), "%s[%zu]", path, i);
		ret = parse_backend(json_array_get(bs, i), fpath, &b, &check,
				    err);
		if (ret)
			return ret;
		ret = xlb_model_backend_add(m, key, &b, err);
		if (ret) {
			err_prefix(err, fpath);
			return ret;
		}
	}
	return 0;
}

static int vip_from_json(const json_t *j, const char *path, struct xlb_model *m,
			 struct xlb_err *err)
{
	static const char *const theirs[] = {"backends", NULL};
	struct xlb_vip_cfg v = {0};
	char fpath[80];
	int ret;

	xlb_check_init(&v.check);
	ret = xlb_schema_decode(&xlb_vip_schema, j, path, theirs, &v, NULL,
				err);
	if (ret)
		return ret;
	ret = xlb_model_vip_add(m, &v, err);
	if (ret) {
		err_prefix(err, path);
		return ret;
	}
	snprintf(fpath, sizeof(fpath), "%s.backends", path);
	return parse_backends(json_object_get(j, "backends"), fpath, m, &v.key,
			      err);
}

int xlb_model_vips_from_json(const json_t *vips, struct xlb_model *m,
			     struct xlb_err *err)
{
	char path[32];
	int ret;

	for (size_t i = 0; i < json_array_size(vips); i++) {
		snprintf(path, sizeof(path), "vips[%zu]", i);
		ret = vip_from_json(json_array_get(vips, i), path, m, err);
		if (ret)
			return ret;
	}
	return 0;
}

static int pool_from_json(const json_t *j, const char *path,
			  struct xlb_model *m, struct xlb_err *err)
{
	struct xlb_pool_cfg p;
	int ret;

	xlb_pool_init(&p);
	ret = xlb_schema_decode(&xlb_pool_schema, j, path, NULL, &p, NULL, err);
	if (ret)
		return ret;
	ret = xlb_model_pool_add(m, &p, err);
	if (ret)
		err_prefix(err, path);
	return ret;
}

int xlb_model_pools_from_json(const json_t *pools, struct xlb_model *m,
			      struct xlb_err *err)
{
	char path[32];
	int ret;

	if (pools && !json_is_array(pools))
		return xlb_err_path(err, "pools", "expected an array");
	for (size_t i = 0; i < json_array_size(pools); i++) {
		snprintf(path, sizeof(path), "pools[%zu]", i);
		ret = pool_from_json(json_array_get(pools, i), path, m, err);
		if (ret)
			return ret;
	}
	return 0;
}

static int uplink_from_json(const json_t *j, const char *path,
			    struct xlb_model *m, struct xlb_err *err)
{
	struct xlb_uplink_cfg u;
	int ret;

	xlb_uplink_init(&u);
	ret = xlb_schema_decode(&xlb_uplink_schema, j, path, NULL, &u, NULL,
				err);
	if (ret)
		return ret;
	ret = xlb_model_uplink_add(m, &u, err);
	if (ret)
		err_prefix(err, path);
	return ret;
}

int xlb_model_uplinks_from_json(const json_t *uplinks, struct xlb_model *m,
				struct xlb_err *err)
{
	char path[32];
	int ret;

	if (uplinks && !json_is_array(uplinks))
		return xlb_err_path(err, "uplinks", "expected an array");
	for (size_t i = 0; i < json_array_size(uplinks); i++) {
		snprintf(path, sizeof(path), "uplinks[%zu]", i);
		ret = uplink_from_json(json_array_get(uplinks, i), path, m,
				       err);
		if (ret)
			return ret;
	}
	return 0;
}

int xlb_model_global_from_json(const json_t *g, struct xlb_model *m,
			       struct xlb_err *err)
{
	return parse_global(g, m, err);
}

/* A state file's "journal_seq": the last journal record it includes. */
static int journal_seq(const json_t *j, __u64 *seq, struct xlb_err *err)
{
	const json_t *s = json_object_get(j, "journal_seq");

	*seq = 0;
	if (!s)
		return 0;
	if (!json_is_integer(s) || json_integer_value(s) < 0)
		return xlb_err_path(err, "journal_seq",
				    "expected a non-negative integer");
	*seq = (__u64)json_integer_value(s);
	return 0;
}

static int from_json(const json_t *j, struct xlb_model *m, struct xlb_err *err)
{
	const json_t *g, *vips;
	const char *key;
	json_t *val;
	__u64 seq;
	int ret;

	if (!json_is_object(j))
		return xlb_err_path(err, "top level", "expected an object");
	json_object_foreach((json_t *)j, key, val)
	{
		(void)val;
		/* A state file applied as a config: its sequence is moot. */
		if (strcmp(key, "global") && strcmp(key, "vips") &&
		    strcmp(key, "pools") && strcmp(key, "uplinks") &&
		    strcmp(key, "journal_seq"))
			return xlb_err_path(err, "top level",
					    "unknown key '%s'", key);
	}
	ret = journal_seq(j, &seq, err);
	if (ret)
		return ret;
	g = json_object_get(j, "global");
	if (g) {
		ret = parse_global(g, m, err);
		if (ret)
			return ret;
	}
	ret = xlb_model_uplinks_from_json(json_object_get(j, "uplinks"), m,
					  err);
	if (ret)
		return ret;
	/* Before the VIPs: a VIP names its pool, the reverse never. */
	ret = xlb_model_pools_from_json(json_object_get(j, "pools"), m, err);
	if (ret)
		return ret;
	vips = json_object_get(j, "vips");
	if (vips && !json_is_array(vips))
		return xlb_err_path(err, "vips", "expected an array");
	ret = xlb_model_vips_from_json(vips, m, err);
	return ret ? ret : xlb_model_validate(m, err);
}

int xlb_model_from_json(const json_t *j, struct xlb_model *m,
			struct xlb_err *err)
{
	int ret;

	xlb_model_init(m);
	ret = from_json(j, m, err);
	if (!ret)
		return 0;
	xlb_model_free(m);
	/* A duplicate or a limit exceeded is a document that cannot be. */
	return ret == -ENOMEM ? ret : -EINVAL;
}

/* ---- files ------------------------------------------------------------- */

int xlb_state_load(const char *path, struct xlb_model *m, __u64 *seq,
		   struct xlb_err *err)
{
	json_error_t jerr;
	json_t *j;
	FILE *f;
	int ret;

	xlb_model_init(m);
	*seq = 0;
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		xlb_err_set(err, "cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	/* Two values for one key would silently keep only the last. */
	j = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!j) {
		xlb_err_set(err, "%s:%d:%d: %s", path, jerr.line, jerr.column,
			    jerr.text);
		return -EINVAL;
	}
	ret = xlb_model_from_json(j, m, err);
	if (!ret)
		ret = journal_seq(j, seq, err);
	json_decref(j);
	if (ret)
		err_prefix(err, path);
	return ret;
}

int xlb_model_load(const char *path, struct xlb_model *m, struct xlb_err *err)
{
	__u64 seq;

	return xlb_state_load(path, m, &seq, err);
}

/* fsync of the directory makes the rename itself survive a crash. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return ret;
}

/* Writes and syncs j (a reference taken over) into a temp file. */
static int save_begin(const char *path, json_t *j, char **tmp_out,
		      struct xlb_err *err)
{
	bool had_file = false;
	mode_t mode = 0644;
	char *tmp, *text = NULL;
	struct stat st;
	FILE *f;
	int fd, ret;

	if (!j) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
		xlb_err_set(err, "out of memory");
		ret = -ENOMEM;
		goto out_json;
	}
	/* Keep an operator's chmod of the file across rewrites. */
	if (!stat(path, &st)) {
		had_file = true;
		mode = st.st_mode & 07777;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		ret = -errno;
		xlb_err_set(err, "cannot create %s: %s", tmp, strerror(-ret));
		goto out_tmp;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		xlb_err_set(err, "cannot write %s: %s", tmp, strerror(-ret));
		goto out_unlink;
	}
	/* One string, one write: json_dumpf's stdio call per token was a
	 * fifth of a weight change with 10 000 backends. */
	text = json_dumps(j, JSON_INDENT(2));
	errno = 0;
	/* open() applied the umask; a replaced file keeps its exact mode. */
	if ((had_file && fchmod(fd, mode)) || !text || fputs(text, f) == EOF ||
	    fputc('\n', f) == EOF || fflush(f) || fsync(fd)) {
		ret = errno ? -errno : -EIO;
		fclose(f);
		xlb_err_set(err, "cannot write %s: %s", tmp, strerror(-ret));
		goto out_unlink;
	}
	if (fclose(f)) {
		ret = -errno;
		xlb_err_set(err, "cannot write %s: %s", tmp, strerror(-ret));
		goto out_unlink;
	}
	*tmp_out = tmp;
	free(text);
	json_decref(j);
	return 0;

out_unlink:
	unlink(tmp);
	free(text);
out_tmp:
	free(tmp);
out_json:
	json_decref(j);
	return ret;
}

int xlb_model_save_begin(const char *path, const struct xlb_model *m,
			 bool with_ids, char **tmp, struct xlb_err *err)
{
	return save_begin(path, xlb_model_to_json(m, with_ids), tmp, err);
}

int xlb_state_save_begin(const char *path, const struct xlb_model *m, __u64 seq,
			 char **tmp, struct xlb_err *err)
{
	json_t *j = xlb_model_to_json(m, true);

	if (j && json_object_set_new(j, "journal_seq", json_integer(seq))) {
		json_decref(j);
		j = NULL;
	}
	return save_begin(path, j, tmp, err);
}

int xlb_model_save_end(const char *path, char *tmp, bool keep,
		       struct xlb_err *err)
{
	int ret = 0;

	if (!tmp)
		return 0;
	if (!keep) {
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path)) {
		ret = -errno;
		xlb_err_set(err, "cannot rename %s to %s: %s", tmp, path,
			    strerror(-ret));
		unlink(tmp);
		goto out;
	}
	ret = sync_dir(path);
	if (ret)
		xlb_err_set(err, "wrote %s but cannot sync its directory: %s",
			    path, strerror(-ret));
out:
	free(tmp);
	return ret;
}

int xlb_model_save(const char *path, const struct xlb_model *m, bool with_ids,
		   struct xlb_err *err)
{
	char *tmp = NULL;
	int ret = xlb_model_save_begin(path, m, with_ids, &tmp, err);

	return ret ? ret : xlb_model_save_end(path, tmp, true, err);
}
