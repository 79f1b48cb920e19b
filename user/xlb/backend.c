// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb backend`: a VIP's backends through xlbd. A backend is named by its
 * VIP and address; weight and state are per VIP. The list is
 *   {"backends": [{"vip", "addr", "weight", "state", "id", "health"?,
 *                  "reason"?, "check_ms"?, "check_result"?, "since_s"?}]}
 * where the health fields come from an xlbd that runs checks: the
 * backend's health ("up", "down", "unchecked"), why, the last check's
 * result and latency, and the seconds since its health last changed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "print.h"
#include "xlb.h"

/* VIP ADDR [--FIELD VALUE]... into a request's args. */
static int backend_args(int argc, char **argv, bool with_opts, bool need_opt,
			json_t **out)
{
	static const char *const names[] = {"VIP", "ADDR"};
	struct xlb_backend_cfg b = {0};
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	struct field_opts fo;
	const char *pos[2];
	int ret, given;
	json_t *args;
	size_t n;

	field_opts_init(&fo, &xlb_backend_schema, NULL);
	ret = parse_args(argc, argv, fo.opts, with_opts ? fo.n : 0, pos, 2, 2,
			 names, &n);
	if (!ret)
		ret = check_vip(pos[0], &key);
	if (!ret)
		ret = check_addr(pos[1], &b.addr, &b.family);
	if (!ret && xlb_addr_check(&b.addr, b.family, "backend", &err))
		ret = usage_err("%s", err.msg);
	if (ret)
		return ret;
	args = json_pack("{s:s, s:s}", "vip", pos[0], "addr", pos[1]);
	ret = field_opts_apply(&fo, -1, &b, args, &given);
	if (!ret && need_opt && !given)
		ret = usage_err("nothing to set: give --weight or --state");
	if (ret) {
		json_decref(args);
		return ret;
	}
	*out = args;
	return 0;
}

static int backend_change(const char *op, int argc, char **argv, bool with_opts,
			  bool need_opt)
{
	json_t *args, *resp;
	int ret;

	ret = backend_args(argc, argv, with_opts, need_opt, &args);
	if (ret)
		return ret;
	ret = call_xlbd(op, args, &resp);
	json_decref(resp);
	return ret;
}

static int do_backend_add(int argc, char **argv)
{
	return backend_change("backend.add", argc, argv, true, false);
}

static int do_backend_del(int argc, char **argv)
{
	return backend_change("backend.del", argc, argv, false, false);
}

static int do_backend_set(int argc, char **argv)
{
	return backend_change("backend.set", argc, argv, true, true);
}

/*
 * The columns past the fifth come from an xlbd that runs health checks;
 * without them the table is the first five, so an older daemon prints no
 * empty columns. WEIGHT is the configured one; EFFECTIVE = WEIGHT x slow
 * start x AGENT x CORR, each factor with its reason.
 */
static const struct column cols[] = {
	{"VIP", false},	      {"ADDR", false},	   {"WEIGHT", true},
	{"STATE", false},     {"ID", true},	   {"HEALTH", false},
	{"REASON", false},    {"CHECK", false},	   {"LATENCY", true},
	{"SINCE", true},      {"EFFECTIVE", true}, {"AGENT", true},
	{"AGENT-WHY", false}, {"CORR", true},	   {"CORR-WHY", false},
};

#define N_COLS_BASE 5

/* A number as xlbd sent it: an integer stays one, a fraction keeps .1. */
static void print_jnum(const char *key, const char *int_fmt,
		       const char *real_fmt, const json_t *obj)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_real(v))
		print_jfloat(PRINT_ANY, key, real_fmt, obj);
	else
		print_juint(PRINT_ANY, key, int_fmt, obj);
}

static bool any_health(const json_t *list)
{
	json_t *b;
	size_t i;

	json_array_foreach(list, i, b)
	{
		if (json_object_get(b, "health"))
			return true;
	}
	return false;
}

void backends_open(const json_t *list, const struct column *cols, size_t n_cols)
{
	if (json_array_size(list) == 0)
		print_text("backends:     none\n");
	else
		print_nl();
	table_open("backends", false, cols, n_cols);
}

static int do_backend_list(int argc, char **argv)
{
	json_t *resp, *list, *b;
	size_t i;
	int ret;

	ret = call_xlbd_vip_opt("backend.list", argc, argv, &resp);
	if (ret)
		return ret;
	list = json_object_get(result_of(resp), "backends");
	table_open("backends", false, cols,
		   any_health(list) ? sizeof(cols) / sizeof(cols[0])
				    : N_COLS_BASE);
	json_array_foreach(list, i, b)
	{
		row_open(NULL);
		print_jstring(PRINT_ANY, "vip", NULL, b);
		print_jstring(PRINT_ANY, "addr", NULL, b);
		print_juint(PRINT_ANY, "weight", NULL, b);
		print_jstring(PRINT_ANY, "state", NULL, b);
		print_juint(PRINT_ANY, "id", NULL, b);
		/* Cells past the table's columns are dropped. */
		print_jstring(PRINT_ANY, "health", NULL, b);
		print_jstring(PRINT_ANY, "reason", NULL, b);
		print_jstring(PRINT_ANY, "check_result", NULL, b);
		print_jnum("check_ms", "%llums", "%.1fms", b);
		print_jnum("since_s", "%llus", "%.0fs", b);
		print_jnum("effective_weight", NULL, "%.3f", b);
		print_jnum("agent_factor", NULL, "%.3f", b);
		print_jstring(PRINT_ANY, "agent_reason", NULL, b);
		print_jnum("correction", NULL, "%.3f", b);
		print_jstring(PRINT_ANY, "correction_reason", NULL, b);
		/* In JSON only: the daemon's view the table leaves out. */
		print_juint(PRINT_JSON, "transitions", NULL, b);
		if (json_object_get(b, "agent_reports")) {
			print_juint(PRINT_JSON, "agent_reported_percent", NULL,
				    b);
			print_juint(PRINT_JSON, "agent_reports", NULL, b);
			print_juint(PRINT_JSON, "agent_malformed", NULL, b);
			print_juint(PRINT_JSON, "agent_failed", NULL, b);
			print_juint(PRINT_JSON, "agent_stale", NULL, b);
		}
		if (json_object_get(b, "target_share")) {
			print_jfloat(PRINT_JSON, "byte_share", NULL, b);
			print_jfloat(PRINT_JSON, "packet_share", NULL, b);
			print_jfloat(PRINT_JSON, "target_share", NULL, b);
		}
		row_close();
	}
	table_close();
	json_decref(resp);
	return 0;
}

static const struct cmd backend_cmds[] = {
	{"add", do_backend_add},    {"del", do_backend_del},
	{"delete", do_backend_del}, {"set", do_backend_set},
	{"list", do_backend_list},  {"ls", do_backend_list},
	{"show", do_backend_list},  {NULL, NULL},
};

const struct object backend_object = {
	.name = "backend",
	.cmds = backend_cmds,
	.dflt = do_backend_list,
	.help = "Usage: xlb backend add VIP ADDR [OPTION]...\n"
		"       xlb backend { del | delete } VIP ADDR\n"
		"       xlb backend set VIP ADDR OPTION...\n"
		"       xlb backend [ { list | ls | show } [VIP] ]\n"
		"       xlb backend help\n"
		"VIP := as in 'xlb vip help'\n"
		"ADDR := { IPV4 | IPV6 }     the backend's address (the "
		"tunnel's destination)\n"
		"state drain: keeps its flows, gets no new ones; down: its "
		"flows move on\n"
		"OPTION := (a backend's settings)\n",
	.options = &xlb_backend_schema,
};
