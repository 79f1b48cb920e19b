// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb check`: health checks through xlbd. A VIP's check is inherited by
 * every backend of it; a backend may have its own instead (--backend),
 * also of kind none to exempt it. `check set` is a whole definition: what
 * is not given takes the default, never the previous value, so the
 * command line alone says what runs. Everything xlbd would refuse is
 * refused here first, with the option's name, by the model's own checks.
 * check.show answers
 *   {"checks": [{"vip", "backend" (a backend's own only), "kind",
 *     "tunnel", "port", "interval_ms", "timeout_ms", "rise", "fall",
 *     "http_path", "http_status", "http_body", "udp_send", "udp_expect",
 *     "exec_cmd", "tls_sni", "tls_verify", "tls_ca"}]}
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "print.h"
#include "xlb.h"

/* --backend ADDR, named in the message when it is no address. */
static int check_backend_opt(const struct opt *o)
{
	struct xlb_err err = {{0}};
	union xlb_addr a;
	__u8 family;

	if (o->val && xlb_parse_addr(o->val, &a, &family, &err))
		return usage_err("%s: %s", o->name, err.msg);
	return 0;
}

/* Everything but the VIP and the backend: the check itself. */
static int check_opts(const struct field_opts *fo,
		      const struct xlb_vip_key *key, json_t *args)
{
	const char *kind = field_opt(fo, "--kind");
	struct xlb_err err = {{0}};
	struct xlb_check_cfg c;
	char vs[XLB_VIP_STRLEN];
	int given;

	xlb_check_init(&c);
	if (!kind)
		return usage_err("missing --kind (tcp, http, https, udp, exec, "
				 "agent or none)");
	if (xlb_parse_check_kind(kind, &c.kind, &err))
		return usage_err("--kind: %s", err.msg);
	if (field_opts_apply(fo, c.kind, &c, args, &given))
		return -EINVAL;
	/* xlbd picks the same default timeout when none is sent. */
	if (!field_opt(fo, "--timeout"))
		c.timeout_ms = xlb_check_default_timeout(c.interval_ms);

	/* The model's words name fields; say which option is wrong. */
	if (field_opt(fo, "--path") && c.http_path[0] != '/')
		return usage_err("--path: '%s' must start with '/'",
				 c.http_path);
	if (field_opt(fo, "--ca") && c.tls_ca[0] != '/')
		return usage_err("--ca: '%s' must be an absolute path",
				 c.tls_ca);
	if (field_opt(fo, "--ca") && !c.tls_verify)
		return usage_err("--ca is for --verify");
	if (c.kind == XLB_CHECK_EXEC && !c.exec_cmd[0])
		return usage_err("--kind exec needs --cmd");
	if (c.kind == XLB_CHECK_UDP && !c.udp_send[0])
		return usage_err("--kind udp needs --send");
	if (c.kind == XLB_CHECK_AGENT && field_opt(fo, "--backend"))
		return usage_err("--kind agent: the agent check is the VIP's, "
				 "asked of each backend: no --backend");
	if (!key->port && !c.port && xlb_check_field_applies(c.kind, "tunnel"))
		return usage_err("VIP %s has no port: --kind %s needs --port",
				 xlb_format_vip(key, vs, sizeof(vs)),
				 xlb_check_kind_name(c.kind));
	if (xlb_vip_check_validate(key, &c, &err))
		return usage_err("%s", err.msg);
	return 0;
}

static int do_check_set(int argc, char **argv)
{
	static const char *const own[] = {"--backend", NULL};
	static const char *const names[] = {"VIP"};
	struct xlb_vip_key key;
	struct field_opts fo;
	json_t *args, *resp;
	const char *vip, *backend;
	size_t n;
	int ret;

	field_opts_init(&fo, &xlb_check_schema, own);
	ret = parse_args(argc, argv, fo.opts, fo.n, &vip, 1, 1, names, &n);
	if (!ret)
		ret = check_vip(vip, &key);
	if (!ret)
		ret = check_backend_opt(&fo.opts[0]);
	if (ret)
		return ret;
	args = json_pack("{s:s}", "vip", vip);
	backend = field_opt(&fo, "--backend");
	if (backend)
		json_object_set_new(args, "backend", json_string(backend));
	ret = check_opts(&fo, &key, args);
	if (ret) {
		json_decref(args);
		return ret;
	}
	ret = call_xlbd("check.set", args, &resp);
	json_decref(resp);
	return ret;
}

static int do_check_del(int argc, char **argv)
{
	struct opt opts[] = {{"--backend", NULL, false},
			     {"--kind", NULL, false}};
	static const char *const names[] = {"VIP"};
	struct xlb_vip_key key;
	json_t *args, *resp;
	const char *vip;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, opts, 2, &vip, 1, 1, names, &n);
	if (!ret)
		ret = check_vip(vip, &key);
	if (!ret)
		ret = check_backend_opt(&opts[0]);
	if (ret)
		return ret;
	/* The health check is the default; --kind agent names the other. */
	if (opts[1].val && strcmp(opts[1].val, "agent"))
		return usage_err("--kind: only agent names a check to delete "
				 "(without it: the health check)");
	if (opts[1].val && opts[0].val)
		return usage_err("--kind agent: the agent check is the VIP's, "
				 "not a backend's");
	args = json_pack("{s:s}", "vip", vip);
	if (opts[0].val)
		json_object_set_new(args, "backend", json_string(opts[0].val));
	if (opts[1].val)
		json_object_set_new(args, "kind", json_string("agent"));
	ret = call_xlbd("check.del", args, &resp);
	json_decref(resp);
	return ret;
}

/* Every field xlbd sent, as it sent it (numbers, strings, booleans). */
static void print_check_fields(const json_t *c)
{
	for (size_t i = 0; i < xlb_check_schema.n_fields; i++) {
		const char *k = xlb_check_schema.fields[i].json;
		json_t *v = json_object_get(c, k);

		if (json_is_boolean(v))
			print_bool(PRINT_JSON, k, NULL, json_is_true(v));
		else if (json_is_integer(v))
			print_juint(PRINT_JSON, k, NULL, c);
		else
			print_jstring(PRINT_JSON, k, NULL, c);
	}
}

void print_check_json(const char *key, const json_t *check)
{
	if (!json_is_object(check))
		return;
	open_object(key);
	print_check_fields(check);
	close_object();
}

/* What the check does, in a few words: "GET /health -> 200 'ok'". */
static void check_test(const json_t *c, char *buf, size_t len)
{
	const char *kind = json_string_value(json_object_get(c, "kind"));
	const char *path = json_string_value(json_object_get(c, "http_path"));
	const char *body = json_string_value(json_object_get(c, "http_body"));
	const char *send = json_string_value(json_object_get(c, "udp_send"));
	const char *exp = json_string_value(json_object_get(c, "udp_expect"));
	const char *cmd = json_string_value(json_object_get(c, "exec_cmd"));
	const char *sni = json_string_value(json_object_get(c, "tls_sni"));
	json_int_t status =
		json_integer_value(json_object_get(c, "http_status"));

	snprintf(buf, len, "-");
	if (!kind)
		return;
	if (!strcmp(kind, "tcp"))
		snprintf(buf, len, "connect");
	else if (!strcmp(kind, "http") || !strcmp(kind, "https"))
		snprintf(buf, len, "GET %s -> %lld%s%s%s%s%s%s",
			 path ? path : "?", (long long)status,
			 body && *body ? " '" : "", body && *body ? body : "",
			 body && *body ? "'" : "", sni && *sni ? " sni " : "",
			 sni && *sni ? sni : "",
			 json_is_true(json_object_get(c, "tls_verify"))
				 ? " verify"
				 : "");
	else if (!strcmp(kind, "udp"))
		snprintf(buf, len, "send '%s'%s%s%s", send ? send : "",
			 exp && *exp ? " expect '" : "", exp ? exp : "",
			 exp && *exp ? "'" : "");
	else if (!strcmp(kind, "exec"))
		snprintf(buf, len, "%s", cmd ? cmd : "?");
	else if (!strcmp(kind, "agent"))
		snprintf(buf, len, "load report (VIP line)");
}

static const struct column show_cols[] = {
	{"VIP", false}, {"BACKEND", false}, {"KIND", false},   {"VIA", false},
	{"PORT", true}, {"INTERVAL", true}, {"TIMEOUT", true}, {"RISE", true},
	{"FALL", true}, {"TEST", false},
};

/* The port a check goes to: its own, else its VIP's. */
static void print_check_port(const json_t *c)
{
	json_int_t port = json_integer_value(json_object_get(c, "port"));
	const char *vip = json_string_value(json_object_get(c, "vip"));
	struct xlb_vip_key key;

	const char *kind = json_string_value(json_object_get(c, "kind"));

	if (!port && kind && !strcmp(kind, "agent"))
		port = XLB_AGENT_PORT_DEFAULT;
	if (!port && vip && !xlb_parse_vip(vip, &key, NULL))
		port = ntohs(key.port);
	if (port)
		print_uint(PRINT_TEXT, NULL, NULL, port);
	else
		print_string(PRINT_TEXT, NULL, NULL, "-");
}

static void print_check_row(const json_t *c)
{
	const char *kind = json_string_value(json_object_get(c, "kind"));
	bool none = !kind || !strcmp(kind, "none");
	bool net = kind && (!strcmp(kind, "tcp") || !strcmp(kind, "http") ||
			    !strcmp(kind, "https") || !strcmp(kind, "udp"));
	bool agent = kind && !strcmp(kind, "agent");
	char test[XLB_CHECK_CMDLEN + 32];
	const char *via;

	row_open(NULL);
	print_jstring(PRINT_ANY, "vip", NULL, c);
	/* "-": the VIP's own check. */
	print_jstring(PRINT_ANY, "backend", NULL, c);
	print_jstring(PRINT_TEXT, "kind", NULL, c);
	if (agent)
		via = "plain";
	else if (!net)
		via = "-";
	else if (json_is_true(json_object_get(c, "tunnel")))
		via = "tunnel";
	else
		via = "plain";
	print_string(PRINT_TEXT, NULL, NULL, via);
	if (none) {
		for (int i = 0; i < 5; i++)
			print_string(PRINT_TEXT, NULL, NULL, "-");
	} else {
		print_check_port(c);
		print_juint(PRINT_TEXT, "interval_ms", "%llums", c);
		print_juint(PRINT_TEXT, "timeout_ms", "%llums", c);
		/* An agent that does not answer takes nothing down. */
		if (agent) {
			print_string(PRINT_TEXT, NULL, NULL, "-");
			print_string(PRINT_TEXT, NULL, NULL, "-");
		} else {
			print_juint(PRINT_TEXT, "rise", NULL, c);
			print_juint(PRINT_TEXT, "fall", NULL, c);
		}
	}
	check_test(c, test, sizeof(test));
	print_string(PRINT_TEXT, NULL, NULL, test);
	print_check_fields(c);
	row_close();
}

static int do_check_show(int argc, char **argv)
{
	json_t *resp, *list;
	size_t i;
	int ret;

	ret = call_xlbd_vip_opt("check.show", argc, argv, &resp);
	if (ret)
		return ret;
	list = json_object_get(result_of(resp), "checks");
	table_open("checks", false, show_cols,
		   sizeof(show_cols) / sizeof(show_cols[0]));
	for (i = 0; i < json_array_size(list); i++)
		print_check_row(json_array_get(list, i));
	table_close();
	json_decref(resp);
	return 0;
}

static const struct cmd check_cmds[] = {
	{"set", do_check_set},
	{"del", do_check_del},
	{"delete", do_check_del},
	{"show", do_check_show},
	{"list", do_check_show},
	{"ls", do_check_show},
	{NULL, NULL},
};

const struct object check_object = {
	.name = "check",
	.cmds = check_cmds,
	.dflt = do_check_show,
	.help = "Usage: xlb check set VIP [--backend ADDR] --kind KIND "
		"[OPTION]...\n"
		"       xlb check { del | delete } VIP [--backend ADDR | "
		"--kind "
		"agent]\n"
		"       xlb check [ { show | list | ls } [VIP] ]\n"
		"       xlb check help\n"
		"VIP := as in 'xlb vip help'\n"
		"ADDR := one of VIP's backends: its own check, instead of "
		"the VIP's;\n"
		"        without --backend: the VIP's, inherited by its "
		"backends\n"
		"KIND := { tcp | http | https | udp | exec | agent | none }\n"
		"    tcp   connect\n"
		"    http  GET PATH (default /), expect STATUS (default 200) "
		"and TEXT\n"
		"          in the body (--body)\n"
		"    https http over TLS: SNI NAME (--sni, default none); the "
		"certificate\n"
		"          verified only with --verify (by --ca FILE, default "
		"the system's\n"
		"          store; with --sni it must name NAME)\n"
		"    udp   send TEXT (--send), expect an answer holding TEXT "
		"(--expect)\n"
		"    exec  /bin/sh -c CMD exits 0; environment XLB_BACKEND, "
		"XLB_VIP,\n"
		"          XLB_PORT\n"
		"    agent HAProxy's agent check, beside the health check: "
		"'VIP\\n' to\n"
		"          each backend's own address at PORT (default 5555), "
		"one line back\n"
		"          (N%, up, ready, drain, down, fail, stopped, maint, "
		"# text)\n"
		"    none  not checked (a backend's: exempt from its VIP's "
		"check)\n"
		"'check set' defines the whole check: options left out take "
		"their defaults; the timeout's is 90% of the interval, at most "
		"2000 ms.\n"
		"OPTION := (a check's fields; each applies to the kinds that "
		"use it)\n",
	.options = &xlb_check_schema,
};
