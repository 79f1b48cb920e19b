// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The control requests of ctl.h: the op table, the arguments each op
 * takes, and the dispatch. The requests that change the model are in
 * handlers_edit.c, those that read it in handlers_show.c; arguments are
 * checked as strictly as the CLI checks them, since other clients may
 * speak the protocol too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "ctl.h"
#include "handlers.h"

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

json_t *op_fail(int ret, const struct xlb_err *err)
{
	return xlb_ctl_error(ret, err->msg[0] ? err->msg : strerror(-ret));
}

int arg_str(const json_t *args, const char *key, bool required,
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

int arg_vip(const json_t *args, struct xlb_vip_key *key, struct xlb_err *err)
{
	const char *s;
	int ret = arg_str(args, "vip", true, &s, err);

	return ret ? ret : xlb_parse_vip(s, key, err);
}

const char *const vip_names[] = {"vip", NULL};
const char *const backend_names[] = {"vip", "addr", NULL};
const char *const check_names[] = {"vip", "backend", NULL};
/* A pool's name and addresses are its table's, but no options. */
const char *const pool_names[] = {"name", "addresses", NULL};
static const char *const pool_name[] = {"name", NULL};
/* An uplink is named by its interface; the rest are options. */
const char *const uplink_names[] = {"interface", NULL};
/* "kind": "agent" deletes the VIP's agent check, not its health check. */
static const char *const check_del_names[] = {"vip", "backend", "kind", NULL};

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
	{"check.del", check_del_names, NULL, do_check_del},
	{"check.show", vip_names, NULL, do_check_show},
	{"config.apply", config_args, NULL, do_config_apply},
	{"config.dump", no_args, NULL, do_config_dump},
	{"cluster.status", no_args, NULL, do_cluster_status},
	{"node.drain", no_args, NULL, do_node_drain},
	{"node.undrain", no_args, NULL, do_node_undrain},
	{"pool.add", pool_names, &xlb_pool_schema, do_pool_add},
	{"pool.del", pool_name, NULL, do_pool_del},
	{"pool.list", no_args, NULL, do_pool_list},
	{"pool.show", pool_name, NULL, do_pool_show},
	{"uplink.add", uplink_names, &xlb_uplink_schema, do_uplink_add},
	{"uplink.set", uplink_names, &xlb_uplink_schema, do_uplink_set},
	{"uplink.del", uplink_names, NULL, do_uplink_del},
	{"uplink.list", no_args, NULL, do_uplink_list},
	{"uplink.show", uplink_names, NULL, do_uplink_show},
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
			resp = op_fail(-EINVAL, &err);
			goto out;
		}
		xlb_log(LOG_DEBUG, "request %s", name);
		resp = ops[i].fn(d, args);
		goto out;
	}
	xlb_err_set(&err, "unknown op '%s'", name);
	resp = op_fail(-EOPNOTSUPP, &err);
out:
	json_decref(empty);
	return resp;
}
