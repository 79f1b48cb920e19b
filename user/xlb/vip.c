// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb vip`: add, delete, list, show and set VIPs through xlbd. A VIP
 * object from xlbd is the config.h one with its ids and the ring's
 * fingerprint:
 *   {"vip", "flags", "encap", "ring_size", "vip_id", "check",
 *    "all_down", "on_check_down", "slow_start_ms", "mode", "pool",
 *    "fingerprint",
 *    "backends": [{"addr", "weight", "state", "id", "check"?}]}
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "maglev.h"
#include "print.h"
#include "xlb.h"

/*
 * VIP [--FIELD VALUE]...: the VIP and the settings given of its table,
 * checked here as xlbd checks them.
 */
static int vip_args(int argc, char **argv, struct xlb_vip_cfg *v, json_t **args,
		    int *given)
{
	static const char *const names[] = {"VIP"};
	struct xlb_err err = {{0}};
	struct field_opts fo;
	const char *vip;
	size_t n;
	int ret;

	field_opts_init(&fo, &xlb_vip_schema, NULL);
	ret = parse_args(argc, argv, fo.opts, fo.n, &vip, 1, 1, names, &n);
	if (!ret)
		ret = check_vip(vip, &v->key);
	if (ret)
		return ret;
	if (xlb_addr_check(&v->key.addr, v->key.family, "VIP", &err))
		return usage_err("%s", err.msg);
	*args = json_pack("{s:s}", "vip", vip);
	ret = field_opts_apply(&fo, -1, v, *args, given);
	/* 0 is the default; any other size must be a prime from the least. */
	if (!ret && v->ring_size &&
	    (v->ring_size < XLB_RING_SIZE_MIN || !xlb_is_prime(v->ring_size)))
		ret = usage_err("--ring-size: %u is not a prime %u..%u",
				v->ring_size, XLB_RING_SIZE_MIN,
				XLB_RING_SIZE_MAX);
	if (ret)
		json_decref(*args);
	return ret;
}

static int do_vip_add(int argc, char **argv)
{
	struct xlb_vip_cfg v = {0};
	char vs[XLB_VIP_STRLEN];
	json_t *args, *resp;
	int ret, given;

	ret = vip_args(argc, argv, &v, &args, &given);
	if (ret)
		return ret;
	/* A new VIP's mode and pool go together (set may add one later). */
	if (v.mode == XLB_VIP_MODE_NAT && !v.pool[0])
		ret = usage_err("--mode nat needs --pool NAME (xlb pool help)");
	else if (v.mode == XLB_VIP_MODE_DSR && v.pool[0])
		ret = usage_err("--pool is for --mode nat");
	if (ret) {
		json_decref(args);
		return ret;
	}
	ret = call_xlbd("vip.add", args, &resp);
	json_decref(resp);
	/* As parsed: the operator sees what the text was taken to mean. */
	if (!ret)
		print_string(PRINT_ANY, "vip", "added VIP %s\n",
			     xlb_format_vip(&v.key, vs, sizeof(vs)));
	return ret;
}

static int do_vip_set(int argc, char **argv)
{
	struct xlb_vip_cfg v = {0};
	json_t *args, *resp;
	int ret, given;

	ret = vip_args(argc, argv, &v, &args, &given);
	if (ret)
		return ret;
	if (!given) {
		json_decref(args);
		return usage_err("nothing to set: give one of its options "
				 "(xlb vip help)");
	}
	ret = call_xlbd("vip.set", args, &resp);
	json_decref(resp);
	return ret;
}

/* The one-VIP commands: del and show take exactly a VIP. */
static int one_vip(int argc, char **argv, const char **vip)
{
	static const char *const names[] = {"VIP"};
	struct xlb_vip_key key;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, vip, 1, 1, names, &n);
	return ret ? ret : check_vip(*vip, &key);
}

static int do_vip_del(int argc, char **argv)
{
	json_t *resp;
	const char *vip;
	int ret;

	ret = one_vip(argc, argv, &vip);
	if (ret)
		return ret;
	ret = call_xlbd("vip.del", json_pack("{s:s}", "vip", vip), &resp);
	json_decref(resp);
	return ret;
}

/* The backends of a VIP object, in JSON only (text counts them). */
static void print_vip_backends_json(const json_t *v)
{
	json_t *list = json_object_get(v, "backends"), *b;
	size_t i;

	open_array("backends");
	json_array_foreach(list, i, b)
	{
		open_object(NULL);
		print_jstring(PRINT_JSON, "addr", NULL, b);
		print_juint(PRINT_JSON, "weight", NULL, b);
		print_jstring(PRINT_JSON, "state", NULL, b);
		print_juint(PRINT_JSON, "id", NULL, b);
		print_check_json("check", json_object_get(b, "check"));
		close_object();
	}
	close_array();
}

static const struct column vip_cols[] = {
	{"VIP", false},	  {"ID", true},		  {"FLAGS", false},
	{"ENCAP", false}, {"RING", true},	  {"BACKENDS", true},
	{"CHECK", false}, {"FINGERPRINT", false}, {"MODE", false},
};

/* The kind of a VIP object's own check, or "-" from an older xlbd. */
static const char *check_kind(const json_t *v)
{
	const char *k = json_string_value(
		json_object_get(json_object_get(v, "check"), "kind"));

	return k ? k : "-";
}

/* The agent port a VIP object's agent check asks (0 is the default). */
static long long agent_port(const json_t *v)
{
	json_int_t p = json_integer_value(
		json_object_get(json_object_get(v, "agent"), "port"));

	return p ? p : XLB_AGENT_PORT_DEFAULT;
}

static long long balance_window(const json_t *v)
{
	json_int_t w =
		json_integer_value(json_object_get(v, "balance_window_ms"));

	return w ? w : XLB_BALANCE_WINDOW_MS_DEFAULT;
}

/* In JSON: the weight policy's inputs of the VIP, as xlbd sent them. */
static void print_vip_feedback(const json_t *v)
{
	print_check_json("agent", json_object_get(v, "agent"));
	print_jstring(PRINT_JSON, "balance", NULL, v);
	print_juint(PRINT_JSON, "balance_window_ms", NULL, v);
}

/* "dsr", or "nat:POOL"; "-" from an xlbd that knows no modes. */
static void print_vip_mode(const json_t *v)
{
	const char *mode = json_string_value(json_object_get(v, "mode"));
	const char *pool = json_string_value(json_object_get(v, "pool"));
	char buf[64];

	if (mode && pool && pool[0])
		snprintf(buf, sizeof(buf), "%s:%s", mode, pool);
	else
		snprintf(buf, sizeof(buf), "%s", mode ? mode : "-");
	print_string(PRINT_TEXT, NULL, NULL, buf);
	print_jstring(PRINT_JSON, "mode", NULL, v);
	print_jstring(PRINT_JSON, "pool", NULL, v);
}

static int do_vip_list(int argc, char **argv)
{
	json_t *resp, *vips, *v;
	size_t n, i;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, NULL, 0, 0, NULL, &n);
	if (!ret)
		ret = call_xlbd("vip.list", NULL, &resp);
	if (ret)
		return ret;
	vips = json_object_get(result_of(resp), "vips");
	table_open("vips", false, vip_cols,
		   sizeof(vip_cols) / sizeof(vip_cols[0]));
	json_array_foreach(vips, i, v)
	{
		row_open(NULL);
		print_jstring(PRINT_ANY, "vip", NULL, v);
		print_juint(PRINT_ANY, "vip_id", NULL, v);
		print_jstring(PRINT_ANY, "flags", NULL, v);
		print_jstring(PRINT_ANY, "encap", NULL, v);
		print_juint(PRINT_ANY, "ring_size", NULL, v);
		print_uint(PRINT_TEXT, NULL, NULL,
			   json_array_size(json_object_get(v, "backends")));
		print_string(PRINT_TEXT, NULL, NULL, check_kind(v));
		print_jstring(PRINT_ANY, "fingerprint", NULL, v);
		print_vip_mode(v);
		print_check_json("check", json_object_get(v, "check"));
		print_jstring(PRINT_JSON, "all_down", NULL, v);
		print_jstring(PRINT_JSON, "on_check_down", NULL, v);
		print_juint(PRINT_JSON, "slow_start_ms", NULL, v);
		print_vip_feedback(v);
		print_vip_backends_json(v);
		row_close();
	}
	table_close();
	json_decref(resp);
	return 0;
}

static const struct column backend_cols[] = {
	{"ADDR", false}, {"WEIGHT", true}, {"STATE", false},
	{"ID", true},	 {"CHECK", false},
};

static int do_vip_show(int argc, char **argv)
{
	json_t *resp, *v, *list, *b;
	const char *vip;
	size_t i;
	int ret;

	ret = one_vip(argc, argv, &vip);
	if (!ret)
		ret = call_xlbd("vip.show", json_pack("{s:s}", "vip", vip),
				&resp);
	if (ret)
		return ret;
	v = result_of(resp);
	print_jstring(PRINT_ANY, "vip", "vip:          %s\n", v);
	print_juint(PRINT_ANY, "vip_id", "id:           %llu\n", v);
	print_jstring(PRINT_ANY, "flags", "flags:        %s\n", v);
	print_jstring(PRINT_ANY, "encap", "encap:        %s\n", v);
	print_juint(PRINT_ANY, "ring_size", "ring size:    %llu\n", v);
	print_jstring(PRINT_ANY, "fingerprint", "fingerprint:  %s\n", v);
	print_jstring(PRINT_ANY, "mode", "mode:         %s\n", v);
	if (json_string_length(json_object_get(v, "pool")))
		print_jstring(PRINT_TEXT, "pool", "pool:         %s\n", v);
	print_jstring(PRINT_JSON, "pool", NULL, v);
	if (json_object_get(v, "check"))
		print_text("check:        %s (see 'xlb check show %s')\n",
			   check_kind(v), vip);
	print_check_json("check", json_object_get(v, "check"));
	print_jstring(PRINT_ANY, "all_down", "all down:     %s\n", v);
	print_jstring(PRINT_ANY, "on_check_down", "check down:   %s\n", v);
	print_juint(PRINT_ANY, "slow_start_ms", "slow start:   %llu ms\n", v);
	if (json_is_object(json_object_get(v, "agent")))
		print_text("agent:        port %lld every %lld ms (see 'xlb "
			   "backend list %s')\n",
			   agent_port(v),
			   (long long)json_integer_value(json_object_get(
				   json_object_get(v, "agent"), "interval_ms")),
			   vip);
	print_jstring(PRINT_TEXT, "balance", "balance:      %s\n", v);
	if (json_object_get(v, "balance"))
		print_text("window:       %lld ms\n", balance_window(v));
	print_vip_feedback(v);
	list = json_object_get(v, "backends");
	backends_open(list, backend_cols,
		      sizeof(backend_cols) / sizeof(backend_cols[0]));
	json_array_foreach(list, i, b)
	{
		row_open(NULL);
		print_jstring(PRINT_ANY, "addr", NULL, b);
		print_juint(PRINT_ANY, "weight", NULL, b);
		print_jstring(PRINT_ANY, "state", NULL, b);
		print_juint(PRINT_ANY, "id", NULL, b);
		/* Its own check's kind; "vip": inherits the VIP's. */
		print_string(PRINT_TEXT, NULL, NULL,
			     json_object_get(b, "check") ? check_kind(b)
							 : "vip");
		print_check_json("check", json_object_get(b, "check"));
		row_close();
	}
	table_close();
	json_decref(resp);
	return 0;
}

static const struct cmd vip_cmds[] = {
	{"add", do_vip_add},   {"del", do_vip_del}, {"delete", do_vip_del},
	{"list", do_vip_list}, {"ls", do_vip_list}, {"show", do_vip_show},
	{"set", do_vip_set},   {NULL, NULL},
};

const struct object vip_object = {
	.name = "vip",
	.cmds = vip_cmds,
	.dflt = do_vip_list,
	.help = "Usage: xlb vip add VIP [OPTION]...\n"
		"       xlb vip { del | delete } VIP\n"
		"       xlb vip [ list | ls ]\n"
		"       xlb vip show VIP\n"
		"       xlb vip set VIP OPTION...\n"
		"       xlb vip help\n"
		"VIP := { ADDR4[:PORT] | [ADDR6][:PORT] }/PROTO    e.g. "
		"198.19.0.1:80/tcp, [2001:db8::1]:443/udp\n"
		"       no PORT: every port of the address and protocol\n"
		"PROTO := { tcp | udp }\n"
		"FLAGS := { none | FLAG[,FLAG...] }\n"
		"FLAG := { no-sport | no-flow-table | dport-only }\n"
		"--mode nat: full-NAT through --pool NAME (xlb pool help), "
		"for backends\n"
		"    that cannot decapsulate; set --mode dsr to leave it\n"
		"on-check-down keep: a backend its checks take down leaves the "
		"ring and\n"
		"    its established flows stay; move: they re-pick on their "
		"next\n"
		"    packet; the operator's --state down always moves them\n"
		"Health checks: see 'xlb check help'.\n"
		"OPTION := (a VIP's settings)\n",
	.options = &xlb_vip_schema,
};
