// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The control requests that change the model. Every change is made on a
 * copy of the model, validated, written to the maps and only then made
 * current, so a rejected request changes nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "ctl.h"
#include "handlers.h"

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

/*
 * The request's arguments decoded with ret: NULL and next a copy of the
 * model to edit, or the answer refusing the request (nothing changed).
 */
static json_t *begin_edit(struct xlbd *d, int ret, struct xlb_err *err,
			  struct xlb_model *next)
{
	if (ret)
		return op_fail(ret, err);
	if (xlb_model_copy(next, &d->model))
		return xlb_ctl_error(-ENOMEM, "out of memory");
	return NULL;
}

/* Commits next (consumed) when the edit that made it succeeded. */
static json_t *finish(struct xlbd *d, struct xlb_model *next, int ret,
		      struct xlb_err *err)
{
	if (ret) {
		xlb_model_free(next);
		return op_fail(ret, err);
	}
	/* In a cluster the change goes to etcd; every node (this one too)
	 * applies it from its watch. */
	if (d->cl)
		return xlbd_cluster_propose(d, next, err);
	ret = xlbd_commit(d, next, err);
	return ret ? op_fail(ret, err) : xlb_ctl_ok(NULL);
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

json_t *do_vip_add(struct xlbd *d, const json_t *args)
{
	struct xlb_vip_cfg v = {0};
	struct xlb_err err = {{0}};
	struct xlb_model next;
	json_t *answer;
	int ret, n;

	xlb_check_init(&v.check);
	ret = arg_vip(args, &v.key, &err);
	if (!ret)
		ret = args_decode(&xlb_vip_schema, args, vip_names, &v, &n,
				  &err);
	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	return finish(d, &next, xlb_model_vip_add(&next, &v, &err), &err);
}

json_t *do_vip_del(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_model next;
	json_t *answer;
	int ret = arg_vip(args, &key, &err);

	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	return finish(d, &next, xlb_model_vip_del(&next, &key, &err), &err);
}

json_t *do_backend_add(struct xlbd *d, const json_t *args)
{
	struct xlb_backend_cfg b = {.weight = XLB_WEIGHT_DEFAULT,
				    .state = XLB_BACKEND_UP};
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_model next;
	json_t *answer;
	int ret, n;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_addr(args, &b.addr, &b.family, &err);
	if (!ret)
		ret = args_decode(&xlb_backend_schema, args, backend_names, &b,
				  &n, &err);
	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	return finish(d, &next, xlb_model_backend_add(&next, &key, &b, &err),
		      &err);
}

json_t *do_backend_del(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_model next;
	json_t *answer;
	union xlb_addr addr;
	__u8 family;
	int ret;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_addr(args, &addr, &family, &err);
	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	return finish(d, &next,
		      xlb_model_backend_del(&next, &key, &addr, family, &err),
		      &err);
}

/*
 * The settings given change obj, in a copy of the model (so a refused
 * request changes nothing); the commit validates the whole model.
 */
static int set_fields(const struct xlb_schema *s, const json_t *args,
		      const char *const *theirs, void *obj, struct xlb_err *err)
{
	int ret, n;

	ret = args_decode(s, args, theirs, obj, &n, err);
	if (!ret && !n) {
		xlb_err_set(err, "nothing to set: give one of its settings");
		ret = -EINVAL;
	}
	return ret;
}

json_t *do_backend_set(struct xlbd *d, const json_t *args)
{
	struct xlb_backend_cfg *b;
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_model next;
	json_t *answer;
	union xlb_addr addr;
	__u8 family;
	int ret;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_addr(args, &addr, &family, &err);
	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	b = xlb_model_backend_get(&next, &key, &addr, family, &err);
	ret = b ? set_fields(&xlb_backend_schema, args, backend_names, b, &err)
		: -ENOENT;
	return finish(d, &next, ret, &err);
}

json_t *do_vip_set(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_vip_cfg *v;
	struct xlb_model next;
	json_t *answer;
	int ret;

	ret = arg_vip(args, &key, &err);
	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	v = xlb_model_vip_get(&next, &key, &err);
	ret = v ? set_fields(&xlb_vip_schema, args, vip_names, v, &err)
		: -ENOENT;
	/* Back to dsr: its pool goes too, unless named (and refused). */
	if (!ret && v->mode == XLB_VIP_MODE_DSR &&
	    !json_object_get(args, "pool"))
		v->pool[0] = '\0';
	return finish(d, &next, ret, &err);
}

json_t *do_check_set(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_check_cfg c;
	struct xlb_vip_key key;
	struct xlb_model next;
	json_t *answer;
	union xlb_addr addr;
	bool has_backend = false;
	__u8 family;
	int ret;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_backend(args, &addr, &family, &has_backend, &err);
	if (!ret)
		ret = xlb_check_decode(args, "check", check_names, true, &c,
				       &err);
	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	return finish(d, &next,
		      xlb_model_check_set(&next, &key,
					  has_backend ? &addr : NULL, family,
					  &c, &err),
		      &err);
}

/* {"kind": "agent"}: the VIP's agent check, not its health check. */
static int arg_agent(const json_t *args, bool *agent, struct xlb_err *err)
{
	const json_t *k = json_object_get(args, "kind");

	*agent = false;
	if (!k)
		return 0;
	if (!json_is_string(k) || strcmp(json_string_value(k), "agent")) {
		xlb_err_set(err, "kind: only 'agent' names a check to delete");
		return -EINVAL;
	}
	*agent = true;
	return 0;
}

json_t *do_check_del(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct xlb_model next;
	json_t *answer;
	union xlb_addr addr;
	bool has_backend = false, agent = false;
	__u8 family;
	int ret;

	ret = arg_vip(args, &key, &err);
	if (!ret)
		ret = arg_backend(args, &addr, &family, &has_backend, &err);
	if (!ret)
		ret = arg_agent(args, &agent, &err);
	if (!ret && agent && has_backend) {
		xlb_err_set(&err, "an agent check is the VIP's: no backend");
		ret = -EINVAL;
	}
	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	if (agent)
		return finish(d, &next, xlb_model_agent_del(&next, &key, &err),
			      &err);
	return finish(d, &next,
		      xlb_model_check_del(&next, &key,
					  has_backend ? &addr : NULL, family,
					  &err),
		      &err);
}

json_t *do_config_apply(struct xlbd *d, const json_t *args)
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

/*
 * A pool from its table: name and addresses required, the rest the
 * defaults; its layout is xlbd's to give (the op takes no ids).
 */
json_t *do_pool_add(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_pool_cfg p;
	struct xlb_model next;
	json_t *answer;
	int ret, n;

	xlb_pool_init(&p);
	ret = args_decode(&xlb_pool_schema, args, NULL, &p, &n, &err);
	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	return finish(d, &next, xlb_model_pool_add(&next, &p, &err), &err);
}

json_t *do_pool_del(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_model next;
	const char *name;
	json_t *answer;
	int ret = arg_str(args, "name", true, &name, &err);

	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	return finish(d, &next, xlb_model_pool_del(&next, name, &err), &err);
}

/*
 * An uplink from its table: interface and gateway, the rest the
 * defaults; its id is xlbd's to give (the op takes none).
 */
json_t *do_uplink_add(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_uplink_cfg u;
	struct xlb_model next;
	json_t *answer;
	int ret, n;

	xlb_uplink_init(&u);
	ret = args_decode(&xlb_uplink_schema, args, NULL, &u, &n, &err);
	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	return finish(d, &next, xlb_model_uplink_add(&next, &u, &err), &err);
}

/*
 * The settings given onto u. The gateway, required of a new uplink, is
 * optional here: decoded apart, since the table's decoder would ask for
 * it.
 */
static int uplink_set_fields(const json_t *args, struct xlb_uplink_cfg *u,
			     struct xlb_err *err)
{
	static const char *const theirs[] = {"interface", "gateway", NULL};
	const json_t *gw = json_object_get(args, "gateway");
	int ret, n;

	ret = args_decode(&xlb_uplink_schema, args, theirs, u, &n, err);
	if (!ret && gw)
		ret = xlb_field_from_json(
			xlb_schema_field(&xlb_uplink_schema, "gateway"), gw,
			"uplink.gateway", u, err);
	if (!ret && !n && !gw) {
		xlb_err_set(err, "nothing to set: give one of its settings");
		ret = -EINVAL;
	}
	return ret;
}

/* The settings given change, the others and the id stay. */
json_t *do_uplink_set(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_uplink_cfg u;
	const struct xlb_uplink_cfg *cur;
	struct xlb_model next;
	const char *ifname;
	json_t *answer;
	int ret = arg_str(args, "interface", true, &ifname, &err);

	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	cur = xlb_model_uplink_get(&next, ifname, &err);
	ret = cur ? 0 : -ENOENT;
	if (!ret) {
		u = *cur;
		ret = uplink_set_fields(args, &u, &err);
	}
	if (!ret)
		ret = xlb_model_uplink_set(&next, &u, &err);
	return finish(d, &next, ret, &err);
}

json_t *do_uplink_del(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	struct xlb_model next;
	const char *ifname;
	json_t *answer;
	int ret = arg_str(args, "interface", true, &ifname, &err);

	answer = begin_edit(d, ret, &err, &next);
	if (answer)
		return answer;
	return finish(d, &next, xlb_model_uplink_del(&next, ifname, &err),
		      &err);
}

/* The node, not the model: nothing goes to etcd or the state file. */
static json_t *drain(struct xlbd *d, bool drained)
{
	struct xlb_err err = {{0}};
	int ret = xlbd_drain_set(d, drained, &err);

	return ret ? op_fail(ret, &err) : xlb_ctl_ok(NULL);
}

json_t *do_node_drain(struct xlbd *d, const json_t *args)
{
	(void)args;
	return drain(d, true);
}

json_t *do_node_undrain(struct xlbd *d, const json_t *args)
{
	(void)args;
	return drain(d, false);
}
