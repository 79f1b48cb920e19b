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
	/*
	 * Names of the arguments it takes, and the table whose settable
	 * fields it takes too (NULL: none); anything else is an error.
	 */
	const char *const *args;
	const struct xlb_schema *fields;
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

/*
 * The settings of a request into obj by the object's field table: every
 * member but those in theirs (the request's names: "vip", "addr") is a
 * field. *n counts the fields given.
 */
static int args_decode(const struct xlb_schema *s, const json_t *args,
		       const char *const *theirs, void *obj, int *n,
		       struct xlb_err *err)
{
	unsigned long long seen;
	int ret;

	ret = xlb_schema_decode(s, args, s->object, theirs, obj, &seen, err);
	*n = __builtin_popcountll(seen);
	return ret;
}

static const char *const vip_names[] = {"vip", NULL};
static const char *const backend_names[] = {"vip", "addr", NULL};
static const char *const check_names[] = {"vip", "backend", NULL};

static json_t *do_vip_add(struct xlbd *d, const json_t *args)
{
	struct xlb_vip_cfg v = {0};
	struct xlb_err err = {{0}};
	struct xlb_model next;
	int ret, n;

	xlb_check_init(&v.check);
	ret = arg_vip(args, &v.key, &err);
	if (!ret)
		ret = args_decode(&xlb_vip_schema, args, vip_names, &v, &n,
				  &err);
	if (ret)
		return fail(ret, &err);
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
	int ret, n;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_addr(args, &b.addr, &b.family, &err);
	if (!ret)
		ret = args_decode(&xlb_backend_schema, args, backend_names, &b,
				  &n, &err);
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

/*
 * The settings given change the object in next (a copy of the model, so a
 * refused request changes nothing); the whole model is validated after.
 */
static int set_fields(struct xlb_model *next, const struct xlb_schema *s,
		      const json_t *args, const char *const *theirs, void *obj,
		      struct xlb_err *err)
{
	int ret, n;

	ret = args_decode(s, args, theirs, obj, &n, err);
	if (!ret && !n) {
		xlb_err_set(err, "nothing to set: give one of its settings");
		ret = -EINVAL;
	}
	return ret ? ret : xlb_model_validate(next, err);
}

static json_t *do_backend_set(struct xlbd *d, const json_t *args)
{
	struct xlb_backend_cfg *b;
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
	b = xlb_model_vip(&next, &key)
		    ? xlb_vip_backend(xlb_model_vip(&next, &key), &addr, family)
		    : NULL;
	if (!b) {
		char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];

		xlb_err_set(&err, "no backend %s in VIP %s",
			    xlb_format_addr(&addr, family, as, sizeof(as)),
			    xlb_format_vip(&key, vs, sizeof(vs)));
		ret = -ENOENT;
	} else {
		ret = set_fields(&next, &xlb_backend_schema, args,
				 backend_names, b, &err);
	}
	return finish(d, &next, ret, &err);
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
	struct xlb_vip_cfg *v;
	struct xlb_model next;
	int ret;

	ret = arg_vip(args, &key, &err);
	if (ret)
		return fail(ret, &err);
	if (xlb_model_copy(&next, &d->model))
		return xlb_ctl_error(-ENOMEM, "out of memory");
	v = xlb_model_vip(&next, &key);
	if (!v) {
		char vs[XLB_VIP_STRLEN];

		xlb_err_set(&err, "unknown VIP %s",
			    xlb_format_vip(&key, vs, sizeof(vs)));
		ret = -ENOENT;
	} else {
		ret = set_fields(&next, &xlb_vip_schema, args, vip_names, v,
				 &err);
	}
	return finish(d, &next, ret, &err);
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
		ret = xlb_check_decode(args, "check", check_names, true, &c,
				       &err);
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
	c = xlb_check_encode(b ? b->check : &v->check);
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
static const char *const config_args[] = {"config", NULL};

/*
 * Each op takes its own names and the settable fields (those with a CLI
 * option) of one object's table: a new field is a new argument here too.
 */
static const struct op ops[] = {
	{"status", no_args, NULL, do_status},
	{"vip.add", vip_names, &xlb_vip_schema, do_vip_add},
	{"vip.del", vip_names, NULL, do_vip_del},
	{"vip.list", no_args, NULL, do_vip_list},
	{"vip.show", vip_names, NULL, do_vip_show},
	{"vip.set", vip_names, &xlb_vip_schema, do_vip_set},
	{"backend.add", backend_names, &xlb_backend_schema, do_backend_add},
	{"backend.del", backend_names, NULL, do_backend_del},
	{"backend.set", backend_names, &xlb_backend_schema, do_backend_set},
	{"backend.list", vip_names, NULL, do_backend_list},
	{"ring.show", vip_names, NULL, do_ring_show},
	{"check.set", check_names, &xlb_check_schema, do_check_set},
	{"check.del", check_names, NULL, do_check_del},
	{"check.show", vip_names, NULL, do_check_show},
	{"config.apply", config_args, NULL, do_config_apply},
	{"config.dump", no_args, NULL, do_config_dump},
};

static bool op_takes(const struct op *op, const char *key)
{
	const struct xlb_field *f;

	for (const char *const *a = op->args; *a; a++)
		if (!strcmp(*a, key))
			return true;
	f = op->fields ? xlb_schema_field(op->fields, key) : NULL;
	return f && f->opt;
}

static int parse_args(const struct op *op, const json_t *args,
		      struct xlb_err *err)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)args, key, val)
	{
		(void)val;
		if (!op_takes(op, key)) {
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
		if (parse_args(&ops[i], args, &err)) {
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
