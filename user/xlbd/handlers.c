// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The control requests of ctl.h. Every change is made on a copy of the
 * model, validated, written to the maps and only then made current, so a
 * rejected request changes nothing; arguments are checked as strictly as
 * the CLI checks them, since other clients may speak the protocol too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "ctl.h"
#include "xlbd.h"

struct op {
	const char *name;
	/* Names of the arguments it takes; anything else is an error. */
	const char *const *args;
	json_t *(*fn)(struct xlbd *d, const json_t *args);
};

static json_t *fail(int ret, const struct xlb_err *err)
{
	return xlb_ctl_error(ret, err->msg[0] ? err->msg : strerror(-ret));
}

static int arg_str(const json_t *args, const char *key, bool required,
		   const char **out, struct xlb_err *err)
{
	json_t *v = json_object_get(args, key);

	*out = NULL;
	if (!v) {
		if (!required)
			return 0;
		xlb_err_set(err, "missing argument '%s'", key);
		return -EINVAL;
	}
	if (!json_is_string(v)) {
		xlb_err_set(err, "argument '%s' must be a string", key);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

/* An optional unsigned integer argument in [min, max]. */
static int arg_uint(const json_t *args, const char *key, json_int_t min,
		    json_int_t max, json_int_t *out, bool *present,
		    struct xlb_err *err)
{
	json_t *v = json_object_get(args, key);

	*present = v != NULL;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		xlb_err_set(err, "argument '%s' must be an integer %lld..%lld",
			    key, (long long)min, (long long)max);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

static int arg_vip(const json_t *args, struct xlb_vip_key *key,
		   struct xlb_err *err)
{
	const char *s;
	int ret = arg_str(args, "vip", true, &s, err);

	return ret ? ret : xlb_parse_vip(s, key, err);
}

static int arg_addr(const json_t *args, union xlb_addr *a, __u8 *family,
		    struct xlb_err *err)
{
	const char *s;
	int ret = arg_str(args, "addr", true, &s, err);

	return ret ? ret : xlb_parse_addr(s, a, family, err);
}

static int arg_bool(const json_t *args, const char *key, __u8 *out,
		    struct xlb_err *err)
{
	json_t *v = json_object_get(args, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		xlb_err_set(err, "argument '%s' must be true or false", key);
		return -EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

/* An optional string argument copied into buf (size bytes with its NUL). */
static int arg_strbuf(const json_t *args, const char *key, char *buf,
		      size_t size, struct xlb_err *err)
{
	const char *s;
	int ret = arg_str(args, key, false, &s, err);

	if (ret || !s)
		return ret;
	if (json_string_length(json_object_get(args, key)) != strlen(s)) {
		xlb_err_set(err, "argument '%s' contains a NUL character", key);
		return -EINVAL;
	}
	if (strlen(s) >= size) {
		xlb_err_set(err, "argument '%s' longer than %zu characters",
			    key, size - 1);
		return -EINVAL;
	}
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

/* The optional "backend" argument: *has says whether it was given. */
static int arg_backend(const json_t *args, union xlb_addr *a, __u8 *family,
		       bool *has, struct xlb_err *err)
{
	const char *s;
	int ret = arg_str(args, "backend", false, &s, err);

	*has = s != NULL;
	*family = 0;
	if (ret || !s)
		return ret;
	return xlb_parse_addr(s, a, family, err);
}

/* Commits next (consumed) when the edit that made it succeeded. */
static json_t *finish(struct xlbd *d, struct xlb_model *next, int ret,
		      struct xlb_err *err)
{
	if (ret) {
		xlb_model_free(next);
		return fail(ret, err);
	}
	ret = xlbd_commit(d, next, err);
	return ret ? fail(ret, err) : xlb_ctl_ok(NULL);
}

static json_t *vip_json(struct xlbd *d, const struct xlb_vip_cfg *v)
{
	json_t *j = xlb_vip_to_json(v, true);
	char fp[32];

	snprintf(fp, sizeof(fp), "%016" PRIx64,
		 (uint64_t)xlb_dp_fingerprint(d->dp, v->vip_id));
	json_object_set_new(j, "fingerprint", json_string(fp));
	return j;
}

static json_t *do_status(struct xlbd *d, const json_t *args)
{
	char mac[32];
	size_t nb = 0;
	const __u8 *m = xlb_dp_gw_mac(d->dp);

	(void)args;
	for (size_t i = 0; i < d->model.n_vips; i++)
		nb += d->model.vips[i].n_backends;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	return xlb_ctl_ok(json_pack(
		"{s:s, s:s, s:i, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I, "
		"s:b, s:b}",
		"version", XLB_VERSION, "interface", d->ifname, "ifindex",
		xlb_dp_ifindex(d->dp), "xdp_mode", xlb_dp_xdp_mode(d->dp),
		"prog_id", (json_int_t)xlb_dp_prog_id(d->dp), "pin_dir",
		xlb_dp_pin_dir(d->dp), "state_file", d->state_path, "socket",
		d->socket_path, "gateway_mac", mac, "vips",
		(json_int_t)d->model.n_vips, "backends", (json_int_t)nb,
		"uptime_s", (json_int_t)(time(NULL) - d->started), "adopted",
		xlb_dp_adopted(d->dp), "unsaved", d->unsaved));
}

static json_t *do_vip_add(struct xlbd *d, const json_t *args)
{
	struct xlb_vip_cfg v = {0};
	struct xlb_err err = {{0}};
	struct xlb_model next;
	json_int_t ring = 0;
	const char *s;
	bool present;
	int ret;

	ret = arg_vip(args, &v.key, &err);
	if (!ret)
		ret = arg_str(args, "flags", false, &s, &err);
	if (!ret && s)
		ret = xlb_parse_flags(s, &v.flags, &err);
	if (!ret)
		ret = arg_str(args, "encap", false, &s, &err);
	if (!ret && s)
		ret = xlb_parse_encap(s, &v.encap, &err);
	if (!ret)
		ret = arg_uint(args, "ring_size", 0, XLB_RING_SIZE_MAX, &ring,
			       &present, &err);
	if (ret)
		return fail(ret, &err);
	v.ring_size = ring;
	if (xlb_model_copy(&next, &d->model))
		return xlb_ctl_error(-ENOMEM, "out of memory");
	return finish(d, &next, xlb_model_vip_add(&next, &v, &err), &err);
}

static json_t *do_vip_del(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_model next;
	int ret = arg_vip(args, &key, &err);

	if (ret)
		return fail(ret, &err);
	if (xlb_model_copy(&next, &d->model))
		return xlb_ctl_error(-ENOMEM, "out of memory");
	return finish(d, &next, xlb_model_vip_del(&next, &key, &err), &err);
}

static json_t *do_vip_list(struct xlbd *d, const json_t *args)
{
	json_t *list = json_array();

	(void)args;
	for (size_t i = 0; i < d->model.n_vips; i++)
		json_array_append_new(list, vip_json(d, &d->model.vips[i]));
	return xlb_ctl_ok(json_pack("{s:o}", "vips", list));
}

/* The VIP named by args, or NULL with err set. */
static const struct xlb_vip_cfg *find_vip(struct xlbd *d, const json_t *args,
					  struct xlb_err *err, int *ret)
{
	struct xlb_vip_key key;
	const struct xlb_vip_cfg *v;
	char buf[XLB_VIP_STRLEN];

	*ret = arg_vip(args, &key, err);
	if (*ret)
		return NULL;
	v = xlb_model_vip(&d->model, &key);
	if (!v) {
		xlb_err_set(err, "unknown VIP %s",
			    xlb_format_vip(&key, buf, sizeof(buf)));
		*ret = -ENOENT;
	}
	return v;
}

/* An optional "vip" argument: *only is NULL when it is absent. */
static int optional_vip(struct xlbd *d, const json_t *args,
			const struct xlb_vip_cfg **only, struct xlb_err *err)
{
	int ret = 0;

	*only = NULL;
	if (json_object_get(args, "vip"))
		*only = find_vip(d, args, err, &ret);
	return ret;
}

static json_t *do_vip_show(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	const struct xlb_vip_cfg *v;
	int ret;

	v = find_vip(d, args, &err, &ret);
	return v ? xlb_ctl_ok(vip_json(d, v)) : fail(ret, &err);
}

static json_t *do_backend_add(struct xlbd *d, const json_t *args)
{
	struct xlb_backend_cfg b = {.weight = XLB_WEIGHT_DEFAULT,
				    .state = XLB_BACKEND_UP};
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_model next;
	json_int_t weight;
	const char *s;
	bool present;
	int ret;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_addr(args, &b.addr, &b.family, &err);
	if (!ret)
		ret = arg_uint(args, "weight", 0, XLB_WEIGHT_MAX, &weight,
			       &present, &err);
	if (!ret && present)
		b.weight = weight;
	if (!ret)
		ret = arg_str(args, "state", false, &s, &err);
	if (!ret && s)
		ret = xlb_parse_state(s, &b.state, &err);
	if (ret)
		return fail(ret, &err);
	if (xlb_model_copy(&next, &d->model))
		return xlb_ctl_error(-ENOMEM, "out of memory");
	return finish(d, &next, xlb_model_backend_add(&next, &key, &b, &err),
		      &err);
}

static json_t *do_backend_del(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_model next;
	union xlb_addr addr;
	__u8 family;
	int ret;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_addr(args, &addr, &family, &err);
	if (ret)
		return fail(ret, &err);
	if (xlb_model_copy(&next, &d->model))
		return xlb_ctl_error(-ENOMEM, "out of memory");
	return finish(d, &next,
		      xlb_model_backend_del(&next, &key, &addr, family, &err),
		      &err);
}

static json_t *do_backend_set(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_model next;
	union xlb_addr addr;
	json_int_t weight = -1;
	__u8 family, state = 0;
	bool has_weight = false;
	const char *s = NULL;
	int ret;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_addr(args, &addr, &family, &err);
	if (!ret)
		ret = arg_uint(args, "weight", 0, XLB_WEIGHT_MAX, &weight,
			       &has_weight, &err);
	if (!ret)
		ret = arg_str(args, "state", false, &s, &err);
	if (!ret && s)
		ret = xlb_parse_state(s, &state, &err);
	if (!ret && !has_weight && !s) {
		xlb_err_set(&err, "nothing to set: give a weight or a state");
		ret = -EINVAL;
	}
	if (ret)
		return fail(ret, &err);
	if (xlb_model_copy(&next, &d->model))
		return xlb_ctl_error(-ENOMEM, "out of memory");
	return finish(d, &next,
		      xlb_model_backend_set(&next, &key, &addr, family,
					    has_weight ? (long)weight : -1,
					    state, &err),
		      &err);
}

/* The weight a backend has in the maps now (slow start, health). */
static double effective_weight(struct xlbd *d, const struct xlb_vip_cfg *v,
			       const struct xlb_backend_cfg *b)
{
	const struct xlb_vip_cfg *e = xlb_model_vip(&d->effective, &v->key);
	const struct xlb_backend_cfg *eb =
		e ? xlb_vip_backend(e, &b->addr, b->family) : NULL;

	if (!eb || eb->state != XLB_BACKEND_UP)
		return 0;
	/* Weights of a slow-start VIP are held in tenths. */
	return e->slow_start_ms ? (double)eb->weight / XLB_SLOW_START_SCALE
				: eb->weight;
}

/* A whole number as an integer, anything else as a real. */
static json_t *number_json(double x)
{
	json_int_t i = (json_int_t)x;

	return (double)i == x ? json_integer(i) : json_real(x);
}

static json_t *backend_json(struct xlbd *d, const struct xlb_vip_cfg *v,
			    const struct xlb_backend_cfg *b)
{
	const struct xlb_health *h = &d->policy->h[b->id];
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];
	__u64 now = xlb_now_ms();
	json_t *j;

	j = json_pack("{s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:o, s:I}", "vip",
		      xlb_format_vip(&v->key, vip, sizeof(vip)), "addr",
		      xlb_format_addr(&b->addr, b->family, addr, sizeof(addr)),
		      "weight", (json_int_t)b->weight, "state",
		      xlb_state_name(b->state), "id", (json_int_t)b->id,
		      "health", xlb_policy_health_name(h), "reason",
		      xlb_policy_reason(d->policy, v, b, now),
		      "effective_weight",
		      number_json(effective_weight(d, v, b)), "transitions",
		      (json_int_t)h->transitions);
	if (h->checked && h->last_detail[0]) {
		json_object_set_new(j, "check_result",
				    json_string(h->last_detail));
		json_object_set_new(j, "check_ms",
				    json_real(h->last_latency_us / 1000.0));
	}
	if (h->changed_ms)
		json_object_set_new(
			j, "since_s",
			json_integer(
				(json_int_t)((now - h->changed_ms) / 1000)));
	return j;
}

static json_t *do_backend_list(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	const struct xlb_vip_cfg *only = NULL;
	json_t *list;
	int ret = optional_vip(d, args, &only, &err);

	if (ret)
		return fail(ret, &err);
	list = json_array();
	for (size_t i = 0; i < d->model.n_vips; i++) {
		const struct xlb_vip_cfg *v = &d->model.vips[i];

		if (only && only != v)
			continue;
		for (size_t j = 0; j < v->n_backends; j++)
			json_array_append_new(
				list, backend_json(d, v, &v->backends[j]));
	}
	return xlb_ctl_ok(json_pack("{s:o}", "backends", list));
}

static json_t *do_ring_show(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	const struct xlb_vip_cfg *v;
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN], fp[32];
	json_t *list;
	int ret;

	v = find_vip(d, args, &err, &ret);
	if (!v)
		return fail(ret, &err);
	list = json_array();
	for (size_t j = 0; j < v->n_backends; j++) {
		const struct xlb_backend_cfg *b = &v->backends[j];
		__u32 slots = xlb_dp_slots(d->dp, b->id);

		json_array_append_new(
			list,
			json_pack("{s:s, s:I, s:s, s:I, s:f}", "addr",
				  xlb_format_addr(&b->addr, b->family, addr,
						  sizeof(addr)),
				  "weight", (json_int_t)b->weight, "state",
				  xlb_state_name(b->state), "slots",
				  (json_int_t)slots, "share_percent",
				  100.0 * slots / v->ring_size));
	}
	snprintf(fp, sizeof(fp), "%016" PRIx64,
		 (uint64_t)xlb_dp_fingerprint(d->dp, v->vip_id));
	return xlb_ctl_ok(json_pack("{s:s, s:I, s:s, s:o}", "vip",
				    xlb_format_vip(&v->key, vip, sizeof(vip)),
				    "ring_size", (json_int_t)v->ring_size,
				    "fingerprint", fp, "backends", list));
}

static json_t *do_vip_set(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_model next;
	json_int_t slow = -1;
	bool has_slow = false;
	const char *s = NULL, *cd = NULL;
	__u8 all_down = 0, on_check_down = 0;
	int ret;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_str(args, "all_down", false, &s, &err);
	if (!ret && s)
		ret = xlb_parse_all_down(s, &all_down, &err);
	if (!ret)
		ret = arg_str(args, "on_check_down", false, &cd, &err);
	if (!ret && cd)
		ret = xlb_parse_check_down(cd, &on_check_down, &err);
	if (!ret)
		ret = arg_uint(args, "slow_start_ms", 0, XLB_SLOW_START_MS_MAX,
			       &slow, &has_slow, &err);
	if (!ret && !s && !cd && !has_slow) {
		xlb_err_set(&err, "nothing to set: give all_down, "
				  "on_check_down or slow_start_ms");
		ret = -EINVAL;
	}
	if (ret)
		return fail(ret, &err);
	if (xlb_model_copy(&next, &d->model))
		return xlb_ctl_error(-ENOMEM, "out of memory");
	return finish(d, &next,
		      xlb_model_vip_set(&next, &key, s ? all_down : -1,
					cd ? on_check_down : -1,
					has_slow ? (long)slow : -1, &err),
		      &err);
}

/* The fields of a check.set beyond vip, backend and kind. */
static const char *const check_fields[] = {
	"tunnel",    "port",	 "interval_ms", "timeout_ms",
	"rise",	     "fall",	 "http_path",	"http_status",
	"http_body", "udp_send", "udp_expect",	"exec_cmd",
};

#define N_CHECK_FIELDS (sizeof(check_fields) / sizeof(check_fields[0]))

/* A whole check from args: what is not given takes the default. */
static int check_from_args(const json_t *args, struct xlb_check_cfg *c,
			   struct xlb_err *err)
{
	bool present, has_timeout;
	json_int_t n = 0;
	const char *s;
	int ret;

	xlb_check_init(c);
	ret = arg_str(args, "kind", true, &s, err);
	if (!ret)
		ret = xlb_parse_check_kind(s, &c->kind, err);
	for (size_t i = 0; !ret && i < N_CHECK_FIELDS; i++) {
		if (!json_object_get(args, check_fields[i]) ||
		    xlb_check_field_applies(c->kind, check_fields[i]))
			continue;
		xlb_err_set(err, "argument '%s' does not apply to a %s check",
			    check_fields[i], xlb_check_kind_name(c->kind));
		ret = -EINVAL;
	}
	if (!ret)
		ret = arg_bool(args, "tunnel", &c->tunnel, err);
	if (!ret)
		ret = arg_uint(args, "port", 0, 65535, &n, &present, err);
	if (!ret && present)
		c->port = n;
	if (!ret)
		ret = arg_uint(args, "interval_ms", XLB_CHECK_INTERVAL_MS_MIN,
			       XLB_CHECK_INTERVAL_MS_MAX, &n, &present, err);
	if (!ret && present)
		c->interval_ms = n;
	if (!ret)
		ret = arg_uint(args, "timeout_ms", 1, XLB_CHECK_INTERVAL_MS_MAX,
			       &n, &has_timeout, err);
	if (!ret)
		c->timeout_ms =
			has_timeout ? n
				    : xlb_check_default_timeout(c->interval_ms);
	if (!ret)
		ret = arg_uint(args, "rise", 1, XLB_CHECK_RUN_MAX, &n, &present,
			       err);
	if (!ret && present)
		c->rise = n;
	if (!ret)
		ret = arg_uint(args, "fall", 1, XLB_CHECK_RUN_MAX, &n, &present,
			       err);
	if (!ret && present)
		c->fall = n;
	if (!ret)
		ret = arg_uint(args, "http_status", 100, 599, &n, &present,
			       err);
	if (!ret && present)
		c->http_status = n;
	if (!ret)
		ret = arg_strbuf(args, "http_path", c->http_path,
				 sizeof(c->http_path), err);
	if (!ret)
		ret = arg_strbuf(args, "http_body", c->http_body,
				 sizeof(c->http_body), err);
	if (!ret)
		ret = arg_strbuf(args, "udp_send", c->udp_send,
				 sizeof(c->udp_send), err);
	if (!ret)
		ret = arg_strbuf(args, "udp_expect", c->udp_expect,
				 sizeof(c->udp_expect), err);
	if (!ret)
		ret = arg_strbuf(args, "exec_cmd", c->exec_cmd,
				 sizeof(c->exec_cmd), err);
	return ret;
}

static json_t *do_check_set(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_check_cfg c;
	struct xlb_vip_key key;
	struct xlb_model next;
	union xlb_addr addr;
	bool has_backend;
	__u8 family;
	int ret;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_backend(args, &addr, &family, &has_backend, &err);
	if (!ret)
		ret = check_from_args(args, &c, &err);
	if (ret)
		return fail(ret, &err);
	if (xlb_model_copy(&next, &d->model))
		return xlb_ctl_error(-ENOMEM, "out of memory");
	return finish(d, &next,
		      xlb_model_check_set(&next, &key,
					  has_backend ? &addr : NULL, family,
					  &c, &err),
		      &err);
}

static json_t *do_check_del(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_model next;
	union xlb_addr addr;
	bool has_backend;
	__u8 family;
	int ret;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_backend(args, &addr, &family, &has_backend, &err);
	if (ret)
		return fail(ret, &err);
	if (xlb_model_copy(&next, &d->model))
		return xlb_ctl_error(-ENOMEM, "out of memory");
	return finish(d, &next,
		      xlb_model_check_del(&next, &key,
					  has_backend ? &addr : NULL, family,
					  &err),
		      &err);
}

/* {"vip", "backend" (its own check only), then the check's fields}. */
static json_t *check_json(const struct xlb_vip_cfg *v,
			  const struct xlb_backend_cfg *b)
{
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];
	json_t *j, *c;

	j = json_pack("{s:s}", "vip",
		      xlb_format_vip(&v->key, vip, sizeof(vip)));
	if (j && b)
		json_object_set_new(
			j, "backend",
			json_string(xlb_format_addr(&b->addr, b->family, addr,
						    sizeof(addr))));
	c = xlb_check_to_json(b ? b->check : &v->check);
	if (!j || !c || json_object_update(j, c)) {
		json_decref(j);
		j = NULL;
	}
	json_decref(c);
	return j;
}

static json_t *do_check_show(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	const struct xlb_vip_cfg *only = NULL;
	json_t *list;
	int ret = optional_vip(d, args, &only, &err);

	if (ret)
		return fail(ret, &err);
	list = json_array();
	for (size_t i = 0; i < d->model.n_vips; i++) {
		const struct xlb_vip_cfg *v = &d->model.vips[i];

		if (only && only != v)
			continue;
		/* Every VIP, also without a check: "none" is an answer. */
		json_array_append_new(list, check_json(v, NULL));
		for (size_t j = 0; j < v->n_backends; j++)
			if (v->backends[j].check)
				json_array_append_new(
					list, check_json(v, &v->backends[j]));
	}
	return xlb_ctl_ok(json_pack("{s:o}", "checks", list));
}

static json_t *do_config_apply(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_model next;
	json_t *doc = json_object_get(args, "config");
	int ret;

	if (!json_is_object(doc))
		return xlb_ctl_error(-EINVAL,
				     "argument 'config' must be an object");
	ret = xlb_model_from_json(doc, &next, &err);
	return finish(d, &next, ret, &err);
}

static json_t *do_config_dump(struct xlbd *d, const json_t *args)
{
	(void)args;
	return xlb_ctl_ok(xlb_model_to_json(&d->model, false));
}

static const char *const no_args[] = {NULL};
static const char *const vip_arg[] = {"vip", NULL};
static const char *const vip_add_args[] = {"vip", "flags", "encap", "ring_size",
					   NULL};
static const char *const backend_args[] = {"vip", "addr", "weight", "state",
					   NULL};
static const char *const backend_del_args[] = {"vip", "addr", NULL};
static const char *const config_args[] = {"config", NULL};
static const char *const vip_set_args[] = {"vip", "all_down", "on_check_down",
					   "slow_start_ms", NULL};
static const char *const check_set_args[] = {
	"vip",	    "backend",	   "kind",	  "tunnel",
	"port",	    "interval_ms", "timeout_ms",  "rise",
	"fall",	    "http_path",   "http_status", "http_body",
	"udp_send", "udp_expect",  "exec_cmd",	  NULL};
static const char *const check_del_args[] = {"vip", "backend", NULL};

static const struct op ops[] = {
	{"status", no_args, do_status},
	{"vip.add", vip_add_args, do_vip_add},
	{"vip.del", vip_arg, do_vip_del},
	{"vip.list", no_args, do_vip_list},
	{"vip.show", vip_arg, do_vip_show},
	{"vip.set", vip_set_args, do_vip_set},
	{"backend.add", backend_args, do_backend_add},
	{"backend.del", backend_del_args, do_backend_del},
	{"backend.set", backend_args, do_backend_set},
	{"backend.list", vip_arg, do_backend_list},
	{"ring.show", vip_arg, do_ring_show},
	{"check.set", check_set_args, do_check_set},
	{"check.del", check_del_args, do_check_del},
	{"check.show", vip_arg, do_check_show},
	{"config.apply", config_args, do_config_apply},
	{"config.dump", no_args, do_config_dump},
};

static int check_args(const struct op *op, const json_t *args,
		      struct xlb_err *err)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)args, key, val)
	{
		const char *const *a = op->args;

		(void)val;
		while (*a && strcmp(*a, key))
			a++;
		if (!*a) {
			xlb_err_set(err, "%s takes no argument '%s'", op->name,
				    key);
			return -EINVAL;
		}
	}
	return 0;
}

json_t *xlbd_handle(struct xlbd *d, const json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "op"));
	json_t *args = json_object_get(req, "args");
	struct xlb_err err = {{0}};
	json_t *empty = NULL, *resp;

	if (!name)
		return xlb_ctl_error(-EINVAL, "request without an op");
	if (!args)
		args = empty = json_object();
	if (!json_is_object(args)) {
		resp = xlb_ctl_error(-EINVAL, "args must be an object");
		goto out;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(ops[i].name, name))
			continue;
		if (check_args(&ops[i], args, &err)) {
			resp = fail(-EINVAL, &err);
			goto out;
		}
		xlb_log(LOG_DEBUG, "request %s", name);
		resp = ops[i].fn(d, args);
		goto out;
	}
	xlb_err_set(&err, "unknown op '%s'", name);
	resp = fail(-EOPNOTSUPP, &err);
out:
	json_decref(empty);
	return resp;
}
