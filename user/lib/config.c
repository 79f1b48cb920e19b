// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The model as a JSON document. Reading is strict: an unknown key or a
 * value of the wrong type is an error naming its path ("vips[1].backends[0]:
 * unknown key 'wieght'"), because a typo that silently falls back to a
 * default is worse than a refusal. Values go through the same parsers and
 * model edits as the CLI and the control socket, so a file can express
 * exactly what a command can. Writing builds every object in a fixed key
 * order and always writes every key, so files diff cleanly and an operator
 * sees every knob; saving is atomic (temp file, fsync, rename, fsync of the
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

/* Sets err to "path: message". */
static int path_err(struct xlb_err *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int path_err(struct xlb_err *err, const char *path, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xlb_err_set(err, "%s: %s", path, msg);
	return -EINVAL;
}

/* Puts "path: " in front of a message a parser or edit left in err. */
static void err_prefix(struct xlb_err *err, const char *path)
{
	char old[sizeof(err->msg)];

	memcpy(old, err->msg, sizeof(old));
	xlb_err_set(err, "%s: %s", path, old);
}

/* ---- model to JSON ----------------------------------------------------- */

/* A string field up to its NUL or the end of its array. */
#define STR_ARG(c, f) (c)->f, (int)strnlen((c)->f, sizeof((c)->f))

json_t *xlb_check_to_json(const struct xlb_check_cfg *c)
{
	struct xlb_check_cfg none;

	/* Fields of no check mean nothing: show the defaults, always valid. */
	if (c->kind == XLB_CHECK_NONE) {
		xlb_check_init(&none);
		c = &none;
	}
	return json_pack(
		"{s:s, s:b, s:i, s:I, s:I, s:i, s:i, s:s#, s:i, "
		"s:s#, s:s#, s:s#, s:s#}",
		"kind", xlb_check_kind_name(c->kind), "tunnel", (int)c->tunnel,
		"port", (int)c->port, "interval_ms", (json_int_t)c->interval_ms,
		"timeout_ms", (json_int_t)c->timeout_ms, "rise", (int)c->rise,
		"fall", (int)c->fall, "http_path", STR_ARG(c, http_path),
		"http_status", (int)c->http_status, "http_body",
		STR_ARG(c, http_body), "udp_send", STR_ARG(c, udp_send),
		"udp_expect", STR_ARG(c, udp_expect), "exec_cmd",
		STR_ARG(c, exec_cmd));
}

static json_t *backend_to_json(const struct xlb_backend_cfg *b, bool with_ids)
{
	char as[XLB_ADDR_STRLEN];
	json_t *j;

	j = json_pack("{s:s, s:I, s:s}", "addr",
		      xlb_format_addr(&b->addr, b->family, as, sizeof(as)),
		      "weight", (json_int_t)b->weight, "state",
		      xlb_state_name(b->state));
	if (j && with_ids && json_object_set_new(j, "id", json_integer(b->id)))
		goto err;
	/* Only its own: an inherited check is written once, in its VIP. */
	if (j && b->check &&
	    json_object_set_new(j, "check", xlb_check_to_json(b->check)))
		goto err;
	return j;

err:
	json_decref(j);
	return NULL;
}

json_t *xlb_vip_to_json(const struct xlb_vip_cfg *v, bool with_ids)
{
	char vs[XLB_VIP_STRLEN], fs[64];
	json_t *j, *bs;

	j = json_pack("{s:s, s:s, s:s, s:I}", "vip",
		      xlb_format_vip(&v->key, vs, sizeof(vs)), "flags",
		      xlb_format_flags(v->flags, fs, sizeof(fs)), "encap",
		      xlb_encap_name(v->encap), "ring_size",
		      (json_int_t)v->ring_size);
	if (!j)
		return NULL;
	if (with_ids &&
	    json_object_set_new(j, "vip_id", json_integer(v->vip_id)))
		goto err;
	if (json_object_set_new(j, "check", xlb_check_to_json(&v->check)) ||
	    json_object_set_new(j, "all_down",
				json_string(xlb_all_down_name(v->all_down))) ||
	    json_object_set_new(
		    j, "on_check_down",
		    json_string(xlb_check_down_name(v->on_check_down))) ||
	    json_object_set_new(j, "slow_start_ms",
				json_integer(v->slow_start_ms)))
		goto err;
	bs = json_array();
	if (json_object_set_new(j, "backends", bs))
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

/* "ADDR/LEN", or null when no prefix is configured. */
static json_t *source_to_json(const union xlb_addr *a, __u8 family, __u8 plen)
{
	char as[XLB_ADDR_STRLEN], buf[XLB_ADDR_STRLEN + 8];

	if (!plen)
		return json_null();
	snprintf(buf, sizeof(buf), "%s/%u",
		 xlb_format_addr(a, family, as, sizeof(as)), plen);
	return json_string(buf);
}

json_t *xlb_model_to_json(const struct xlb_model *m, bool with_ids)
{
	const struct xlb_global_cfg *g = &m->global;
	json_t *j, *vips;

	vips = json_array();
	if (!vips)
		return NULL;
	for (size_t i = 0; i < m->n_vips; i++) {
		if (json_array_append_new(
			    vips, xlb_vip_to_json(&m->vips[i], with_ids))) {
			json_decref(vips);
			return NULL;
		}
	}
	/* "o" takes over the references, also when json_pack fails. */
	j = json_pack(
		"{s:{s:s, s:i, s:i, s:i, s:o, s:o, s:I, s:I, s:I, s:I, s:I}, "
		"s:o}",
		"global", "encap", xlb_encap_name(g->encap), "ttl", (int)g->ttl,
		"gue_port", (int)g->gue_port, "mtu", (int)g->mtu, "source_v4",
		source_to_json(&g->src4, XLB_AF_INET, g->src4_plen),
		"source_v6",
		source_to_json(&g->src6, XLB_AF_INET6, g->src6_plen),
		"flow_rate_limit", (json_int_t)g->flow_rate_limit,
		"udp_timeout_ms", (json_int_t)g->udp_timeout_ms, "flap_count",
		(json_int_t)g->flap_count, "flap_window_ms",
		(json_int_t)g->flap_window_ms, "flap_hold_ms",
		(json_int_t)g->flap_hold_ms, "vips", vips);
	return j;
}

/* ---- JSON to model ----------------------------------------------------- */

/* Rejects any key of obj not in the NULL-terminated list known. */
static int check_keys(const json_t *obj, const char *path,
		      const char *const *known, struct xlb_err *err)
{
	for (void *it = json_object_iter((json_t *)obj); it;
	     it = json_object_iter_next((json_t *)obj, it)) {
		const char *key = json_object_iter_key(it);
		const char *const *k;

		for (k = known; *k; k++)
			if (!strcmp(key, *k))
				break;
		if (!*k)
			return path_err(err, path, "unknown key '%s'", key);
	}
	return 0;
}

/* An optional integer member in [min, max]; *present says if it was there. */
static int get_uint(const json_t *obj, const char *key, const char *path,
		    json_int_t min, json_int_t max, json_int_t *out,
		    bool *present, struct xlb_err *err)
{
	const json_t *v = json_object_get(obj, key);
	char fpath[96];
	json_int_t n = 0;

	*present = v != NULL;
	if (!v)
		return 0;
	snprintf(fpath, sizeof(fpath), "%s.%s", path, key);
	if (!json_is_integer(v))
		return path_err(err, fpath, "expected an integer");
	n = json_integer_value(v);
	if (n < min || n > max)
		return path_err(err, fpath,
				"%" JSON_INTEGER_FORMAT
				" out of range %" JSON_INTEGER_FORMAT
				"..%" JSON_INTEGER_FORMAT,
				n, min, max);
	*out = n;
	return 0;
}

/* A string member; NULL in *out when absent and not required. */
static int get_str(const json_t *obj, const char *key, const char *path,
		   bool required, const char **out, struct xlb_err *err)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v) {
		if (required)
			return path_err(err, path, "missing key '%s'", key);
		return 0;
	}
	if (!json_is_string(v)) {
		char fpath[96];

		snprintf(fpath, sizeof(fpath), "%s.%s", path, key);
		return path_err(err, fpath, "expected a string");
	}
	*out = json_string_value(v);
	return 0;
}

/* An optional boolean member; *out unchanged when absent. */
static int get_bool(const json_t *obj, const char *key, const char *path,
		    __u8 *out, struct xlb_err *err)
{
	const json_t *v = json_object_get(obj, key);
	char fpath[96];

	if (!v)
		return 0;
	snprintf(fpath, sizeof(fpath), "%s.%s", path, key);
	if (!json_is_boolean(v))
		return path_err(err, fpath, "expected true or false");
	*out = json_is_true(v);
	return 0;
}

/* An optional string member copied into buf; unchanged when absent. */
static int get_strbuf(const json_t *obj, const char *key, const char *path,
		      char *buf, size_t size, struct xlb_err *err)
{
	const char *s;
	char fpath[96];
	int ret = get_str(obj, key, path, false, &s, err);

	if (ret || !s)
		return ret;
	snprintf(fpath, sizeof(fpath), "%s.%s", path, key);
	if (json_string_length(json_object_get(obj, key)) >= size)
		return path_err(err, fpath, "longer than %zu characters",
				size - 1);
	/* A NUL inside would silently cut the value short. */
	if (strlen(s) != json_string_length(json_object_get(obj, key)))
		return path_err(err, fpath, "contains a NUL character");
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

#define GET_STRBUF(j, key, path, c, err)                                       \
	get_strbuf(j, #key, path, (c)->key, sizeof((c)->key), err)

int xlb_check_from_json(const json_t *j, const char *path,
			struct xlb_check_cfg *c, struct xlb_err *err)
{
	static const char *const keys[] = {
		"kind",	       "tunnel",    "port",	"interval_ms",
		"timeout_ms",  "rise",	    "fall",	"http_path",
		"http_status", "http_body", "udp_send", "udp_expect",
		"exec_cmd",    NULL};
	char fpath[96];
	const char *s;
	json_int_t n = 0;
	bool present = false, has_timeout = false;
	int ret;

	xlb_check_init(c);
	if (!json_is_object(j))
		return path_err(err, path, "expected an object");
	ret = check_keys(j, path, keys, err);
	/* Required: an object without one is more likely a slip than "none". */
	if (!ret)
		ret = get_str(j, "kind", path, true, &s, err);
	if (!ret && xlb_parse_check_kind(s, &c->kind, err)) {
		snprintf(fpath, sizeof(fpath), "%s.kind", path);
		err_prefix(err, fpath);
		return -EINVAL;
	}
	if (!ret)
		ret = get_bool(j, "tunnel", path, &c->tunnel, err);
	if (!ret)
		ret = get_uint(j, "port", path, 0, 65535, &n, &present, err);
	if (!ret && present)
		c->port = n;
	if (!ret)
		ret = get_uint(j, "interval_ms", path,
			       XLB_CHECK_INTERVAL_MS_MIN,
			       XLB_CHECK_INTERVAL_MS_MAX, &n, &present, err);
	if (!ret && present)
		c->interval_ms = n;
	if (!ret)
		ret = get_uint(j, "timeout_ms", path, 1,
			       XLB_CHECK_INTERVAL_MS_MAX, &n, &has_timeout,
			       err);
	if (!ret)
		c->timeout_ms =
			has_timeout ? n
				    : xlb_check_default_timeout(c->interval_ms);
	if (!ret)
		ret = get_uint(j, "rise", path, 1, XLB_CHECK_RUN_MAX, &n,
			       &present, err);
	if (!ret && present)
		c->rise = n;
	if (!ret)
		ret = get_uint(j, "fall", path, 1, XLB_CHECK_RUN_MAX, &n,
			       &present, err);
	if (!ret && present)
		c->fall = n;
	if (!ret)
		ret = get_uint(j, "http_status", path, 100, 599, &n, &present,
			       err);
	if (!ret && present)
		c->http_status = n;
	if (!ret)
		ret = GET_STRBUF(j, http_path, path, c, err);
	if (!ret)
		ret = GET_STRBUF(j, http_body, path, c, err);
	if (!ret)
		ret = GET_STRBUF(j, udp_send, path, c, err);
	if (!ret)
		ret = GET_STRBUF(j, udp_expect, path, c, err);
	if (!ret)
		ret = GET_STRBUF(j, exec_cmd, path, c, err);
	if (ret)
		return ret;
	/* What ties fields together (timeout < interval, exec needs a cmd). */
	ret = xlb_check_validate(c, err);
	if (ret)
		err_prefix(err, path);
	return ret;
}

static int parse_source(const json_t *g, const char *key, __u8 family,
			union xlb_addr *a, __u8 *plen, struct xlb_err *err)
{
	const json_t *v = json_object_get(g, key);
	char path[32];
	__u8 fam;

	snprintf(path, sizeof(path), "global.%s", key);
	if (!v)
		return 0;
	if (json_is_null(v)) {
		memset(a, 0, sizeof(*a));
		*plen = 0;
		return 0;
	}
	if (!json_is_string(v))
		return path_err(err, path, "expected a string or null");
	if (xlb_parse_prefix(json_string_value(v), a, &fam, plen, err)) {
		err_prefix(err, path);
		return -EINVAL;
	}
	if (fam != family)
		return path_err(err, path, "'%s' is not an %s prefix",
				json_string_value(v),
				family == XLB_AF_INET ? "IPv4" : "IPv6");
	return 0;
}

static int parse_global(const json_t *g, struct xlb_model *m,
			struct xlb_err *err)
{
	static const char *const keys[] = {"encap",	      "ttl",
					   "gue_port",	      "mtu",
					   "source_v4",	      "source_v6",
					   "flow_rate_limit", "udp_timeout_ms",
					   "flap_count",      "flap_window_ms",
					   "flap_hold_ms",    NULL};
	struct xlb_global_cfg *c = &m->global;
	const char *s;
	json_int_t n = 0;
	bool present = false;
	int ret;

	if (!json_is_object(g))
		return path_err(err, "global", "expected an object");
	ret = check_keys(g, "global", keys, err);
	if (ret)
		return ret;
	ret = get_str(g, "encap", "global", false, &s, err);
	if (!ret && s && xlb_parse_encap(s, &c->encap, err)) {
		err_prefix(err, "global.encap");
		return -EINVAL;
	}
	if (!ret)
		ret = get_uint(g, "ttl", "global", 1, 255, &n, &present, err);
	if (!ret && present)
		c->ttl = n;
	if (!ret)
		ret = get_uint(g, "gue_port", "global", 1, 65535, &n, &present,
			       err);
	if (!ret && present)
		c->gue_port = n;
	if (!ret)
		ret = get_uint(g, "mtu", "global", 0, 65535, &n, &present, err);
	if (!ret && present)
		c->mtu = n;
	if (!ret)
		ret = parse_source(g, "source_v4", XLB_AF_INET, &c->src4,
				   &c->src4_plen, err);
	if (!ret)
		ret = parse_source(g, "source_v6", XLB_AF_INET6, &c->src6,
				   &c->src6_plen, err);
	if (!ret)
		ret = get_uint(g, "flow_rate_limit", "global", 0, UINT32_MAX,
			       &n, &present, err);
	if (!ret && present)
		c->flow_rate_limit = n;
	if (!ret)
		ret = get_uint(g, "udp_timeout_ms", "global", 0, UINT32_MAX, &n,
			       &present, err);
	if (!ret && present)
		c->udp_timeout_ms = n;
	if (!ret)
		ret = get_uint(g, "flap_count", "global", 0, XLB_FLAP_COUNT_MAX,
			       &n, &present, err);
	if (!ret && present)
		c->flap_count = n;
	if (!ret)
		ret = get_uint(g, "flap_window_ms", "global", XLB_FLAP_MS_MIN,
			       XLB_FLAP_MS_MAX, &n, &present, err);
	if (!ret && present)
		c->flap_window_ms = n;
	if (!ret)
		ret = get_uint(g, "flap_hold_ms", "global", XLB_FLAP_MS_MIN,
			       XLB_FLAP_MS_MAX, &n, &present, err);
	if (!ret && present)
		c->flap_hold_ms = n;
	if (ret)
		return ret;
	/* The rules that are more than a range (encap, mtu) live there. */
	ret = xlb_model_validate(m, err);
	if (ret)
		err_prefix(err, "global");
	return ret;
}

/* "flags": "a,b" as on the command line, or ["a", "b"]. */
static int parse_vip_flags(const json_t *obj, const char *path, __u32 *flags,
			   struct xlb_err *err)
{
	const json_t *v = json_object_get(obj, "flags");
	char fpath[64];
	size_t i;

	*flags = 0;
	snprintf(fpath, sizeof(fpath), "%s.flags", path);
	if (!v)
		return 0;
	if (json_is_string(v)) {
		if (xlb_parse_flags(json_string_value(v), flags, err)) {
			err_prefix(err, fpath);
			return -EINVAL;
		}
		return 0;
	}
	if (!json_is_array(v))
		return path_err(err, fpath, "expected a string or an array");
	for (i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);
		__u32 f;

		snprintf(fpath, sizeof(fpath), "%s.flags[%zu]", path, i);
		if (!json_is_string(e))
			return path_err(err, fpath, "expected a string");
		if (xlb_parse_flags(json_string_value(e), &f, err)) {
			err_prefix(err, fpath);
			return -EINVAL;
		}
		*flags |= f;
	}
	return 0;
}

/* b->check points to *check when the backend has a check of its own. */
static int parse_backend(const json_t *j, const char *path,
			 struct xlb_backend_cfg *b, struct xlb_check_cfg *check,
			 struct xlb_err *err)
{
	static const char *const keys[] = {"addr", "weight", "state",
					   "id",   "check",  NULL};
	const json_t *cj;
	char fpath[96];
	const char *s;
	json_int_t n = 0;
	bool present = false;
	int ret;

	memset(b, 0, sizeof(*b));
	b->weight = XLB_WEIGHT_DEFAULT;
	b->state = XLB_BACKEND_UP;
	if (!json_is_object(j))
		return path_err(err, path, "expected an object");
	ret = check_keys(j, path, keys, err);
	if (!ret)
		ret = get_str(j, "addr", path, true, &s, err);
	if (!ret && xlb_parse_addr(s, &b->addr, &b->family, err)) {
		snprintf(fpath, sizeof(fpath), "%s.addr", path);
		err_prefix(err, fpath);
		return -EINVAL;
	}
	if (!ret)
		ret = get_uint(j, "weight", path, 0, XLB_WEIGHT_MAX, &n,
			       &present, err);
	if (!ret && present)
		b->weight = n;
	if (!ret)
		ret = get_str(j, "state", path, false, &s, err);
	if (!ret && s && xlb_parse_state(s, &b->state, err)) {
		snprintf(fpath, sizeof(fpath), "%s.state", path);
		err_prefix(err, fpath);
		return -EINVAL;
	}
	if (!ret)
		ret = get_uint(j, "id", path, 0, XLB_MAX_BACKENDS - 1, &n,
			       &present, err);
	if (!ret && present)
		b->id = n;
	cj = json_object_get(j, "check");
	if (!ret && cj) {
		snprintf(fpath, sizeof(fpath), "%s.check", path);
		ret = xlb_check_from_json(cj, fpath, check, err);
		b->check = check;
	}
	return ret;
}

static int parse_vip(const json_t *j, size_t idx, struct xlb_model *m,
		     struct xlb_err *err)
{
	static const char *const keys[] = {
		"vip",		 "flags",    "encap",	 "ring_size",
		"vip_id",	 "check",    "all_down", "on_check_down",
		"slow_start_ms", "backends", NULL};
	struct xlb_vip_cfg v = {0};
	char path[32], fpath[80];
	const json_t *bs, *cj;
	const char *s;
	json_int_t n = 0;
	bool present = false;
	size_t i;
	int ret;

	snprintf(path, sizeof(path), "vips[%zu]", idx);
	if (!json_is_object(j))
		return path_err(err, path, "expected an object");
	ret = check_keys(j, path, keys, err);
	if (!ret)
		ret = get_str(j, "vip", path, true, &s, err);
	if (!ret && xlb_parse_vip(s, &v.key, err)) {
		snprintf(fpath, sizeof(fpath), "%s.vip", path);
		err_prefix(err, fpath);
		return -EINVAL;
	}
	if (!ret)
		ret = parse_vip_flags(j, path, &v.flags, err);
	if (!ret)
		ret = get_str(j, "encap", path, false, &s, err);
	if (!ret && s && xlb_parse_encap(s, &v.encap, err)) {
		snprintf(fpath, sizeof(fpath), "%s.encap", path);
		err_prefix(err, fpath);
		return -EINVAL;
	}
	if (!ret)
		ret = get_uint(j, "ring_size", path, 0, XLB_RING_SIZE_MAX, &n,
			       &present, err);
	if (!ret && present)
		v.ring_size = n;
	if (!ret)
		ret = get_uint(j, "vip_id", path, 0, XLB_MAX_VIPS - 1, &n,
			       &present, err);
	if (!ret && present)
		v.vip_id = n;
	cj = json_object_get(j, "check");
	snprintf(fpath, sizeof(fpath), "%s.check", path);
	if (!ret && cj)
		ret = xlb_check_from_json(cj, fpath, &v.check, err);
	if (!ret)
		ret = get_str(j, "all_down", path, false, &s, err);
	if (!ret && s && xlb_parse_all_down(s, &v.all_down, err)) {
		snprintf(fpath, sizeof(fpath), "%s.all_down", path);
		err_prefix(err, fpath);
		return -EINVAL;
	}
	if (!ret)
		ret = get_str(j, "on_check_down", path, false, &s, err);
	if (!ret && s && xlb_parse_check_down(s, &v.on_check_down, err)) {
		snprintf(fpath, sizeof(fpath), "%s.on_check_down", path);
		err_prefix(err, fpath);
		return -EINVAL;
	}
	if (!ret)
		ret = get_uint(j, "slow_start_ms", path, 0,
			       XLB_SLOW_START_MS_MAX, &n, &present, err);
	if (!ret && present)
		v.slow_start_ms = n;
	bs = json_object_get(j, "backends");
	snprintf(fpath, sizeof(fpath), "%s.backends", path);
	if (!ret && bs && !json_is_array(bs))
		ret = path_err(err, fpath, "expected an array");
	if (ret)
		return ret;
	ret = xlb_model_vip_add(m, &v, err);
	if (ret) {
		err_prefix(err, path);
		return ret;
	}
	for (i = 0; i < json_array_size(bs); i++) {
		const json_t *e = json_array_get(bs, i);
		struct xlb_check_cfg check;
		struct xlb_backend_cfg b;

		snprintf(fpath, sizeof(fpath), "%s.backends[%zu]", path, i);
		ret = parse_backend(e, fpath, &b, &check, err);
		if (ret)
			return ret;
		ret = xlb_model_backend_add(m, &v.key, &b, err);
		if (ret) {
			err_prefix(err, fpath);
			return ret;
		}
	}
	return 0;
}

static int from_json(const json_t *j, struct xlb_model *m, struct xlb_err *err)
{
	static const char *const keys[] = {"global", "vips", NULL};
	const json_t *g, *vips;
	size_t i;
	int ret;

	if (!json_is_object(j))
		return path_err(err, "top level", "expected an object");
	ret = check_keys(j, "top level", keys, err);
	if (ret)
		return ret;
	g = json_object_get(j, "global");
	if (g) {
		ret = parse_global(g, m, err);
		if (ret)
			return ret;
	}
	vips = json_object_get(j, "vips");
	if (vips && !json_is_array(vips))
		return path_err(err, "vips", "expected an array");
	for (i = 0; i < json_array_size(vips); i++) {
		ret = parse_vip(json_array_get(vips, i), i, m, err);
		if (ret)
			return ret;
	}
	return xlb_model_validate(m, err);
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

int xlb_model_load(const char *path, struct xlb_model *m, struct xlb_err *err)
{
	json_error_t jerr;
	json_t *j;
	FILE *f;
	int ret;

	xlb_model_init(m);
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
	json_decref(j);
	if (ret)
		err_prefix(err, path);
	return ret;
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

int xlb_model_save_begin(const char *path, const struct xlb_model *m,
			 bool with_ids, char **tmp_out, struct xlb_err *err)
{
	bool had_file = false;
	mode_t mode = 0644;
	struct stat st;
	char *tmp;
	FILE *f;
	json_t *j;
	int fd, ret;

	j = xlb_model_to_json(m, with_ids);
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
	errno = 0;
	/* open() applied the umask; a replaced file keeps its exact mode. */
	if ((had_file && fchmod(fd, mode)) ||
	    json_dumpf(j, f, JSON_INDENT(2)) || fputc('\n', f) == EOF ||
	    fflush(f) || fsync(fd)) {
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
	json_decref(j);
	return 0;

out_unlink:
	unlink(tmp);
out_tmp:
	free(tmp);
out_json:
	json_decref(j);
	return ret;
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
