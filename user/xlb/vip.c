// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb vip`: add, delete, list, show and set VIPs through xlbd. A VIP
 * object from xlbd is the config.h one with its ids and the ring's
 * fingerprint:
 *   {"vip", "flags", "encap", "ring_size", "vip_id", "check",
 *    "all_down", "on_check_down", "slow_start_ms", "fingerprint",
 *    "backends": [{"addr", "weight", "state", "id", "check"?}]}
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "maglev.h"
#include "print.h"
#include "xlb.h"

static int do_vip_add(int argc, char **argv)
{
	struct opt opts[] = {{"--flags", NULL, false},
			     {"--encap", NULL, false},
			     {"--ring-size", NULL, false}};
	static const char *const names[] = {"VIP"};
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	char vs[XLB_VIP_STRLEN];
	unsigned long ring = 0;
	const char *pos[1];
	json_t *args, *resp;
	__u32 flags;
	__u8 encap;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, opts, 3, pos, 1, 1, names, &n);
	if (!ret)
		ret = check_vip(pos[0], &key);
	if (ret)
		return ret;
	if (xlb_addr_check(&key.addr, key.family, "VIP", &err))
		return usage_err("%s", err.msg);
	if (opts[0].val && xlb_parse_flags(opts[0].val, &flags, &err))
		return usage_err("%s", err.msg);
	if (opts[1].val && xlb_parse_encap(opts[1].val, &encap, &err))
		return usage_err("%s", err.msg);
	if (opts[2].val) {
		ret = check_uint("ring size", opts[2].val, XLB_RING_SIZE_MIN,
				 XLB_RING_SIZE_MAX, &ring);
		if (ret)
			return ret;
		if (!xlb_is_prime(ring))
			return usage_err("ring size %lu is not a prime", ring);
	}

	args = json_pack("{s:s}", "vip", pos[0]);
	if (opts[0].val)
		json_object_set_new(args, "flags", json_string(opts[0].val));
	if (opts[1].val)
		json_object_set_new(args, "encap", json_string(opts[1].val));
	if (opts[2].val)
		json_object_set_new(args, "ring_size", json_integer(ring));
	ret = call_xlbd("vip.add", args, &resp);
	json_decref(resp);
	/* As parsed: the operator sees what the text was taken to mean. */
	if (!ret)
		print_string(PRINT_ANY, "vip", "added VIP %s\n",
			     xlb_format_vip(&key, vs, sizeof(vs)));
	return ret;
}

static int do_vip_set(int argc, char **argv)
{
	struct opt opts[] = {{"--all-down", NULL, false},
			     {"--slow-start", NULL, false},
			     {"--on-check-down", NULL, false}};
	static const char *const names[] = {"VIP"};
	struct xlb_err err = {{0}};
	struct xlb_vip_key key;
	unsigned long slow = 0;
	json_t *args, *resp;
	const char *vip;
	__u8 all_down, check_down;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, opts, 3, &vip, 1, 1, names, &n);
	if (!ret)
		ret = check_vip(vip, &key);
	if (ret)
		return ret;
	if (opts[0].val && xlb_parse_all_down(opts[0].val, &all_down, &err))
		return usage_err("--all-down: %s", err.msg);
	if (opts[1].val) {
		ret = check_opt_uint(&opts[1], 0, XLB_SLOW_START_MS_MAX, &slow);
		if (ret)
			return ret;
	}
	if (opts[2].val && xlb_parse_check_down(opts[2].val, &check_down, &err))
		return usage_err("--on-check-down: %s", err.msg);
	if (!opts[0].val && !opts[1].val && !opts[2].val)
		return usage_err("nothing to set: give --all-down, "
				 "--on-check-down or --slow-start");

	args = json_pack("{s:s}", "vip", vip);
	if (opts[0].val)
		json_object_set_new(args, "all_down",
				    json_string(xlb_all_down_name(all_down)));
	if (opts[1].val)
		json_object_set_new(args, "slow_start_ms", json_integer(slow));
	if (opts[2].val)
		json_object_set_new(
			args, "on_check_down",
			json_string(xlb_check_down_name(check_down)));
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
	{"CHECK", false}, {"FINGERPRINT", false},
};

/* The kind of a VIP object's own check, or "-" from an older xlbd. */
static const char *check_kind(const json_t *v)
{
	const char *k = json_string_value(
		json_object_get(json_object_get(v, "check"), "kind"));

	return k ? k : "-";
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
		print_check_json("check", json_object_get(v, "check"));
		print_jstring(PRINT_JSON, "all_down", NULL, v);
		print_jstring(PRINT_JSON, "on_check_down", NULL, v);
		print_juint(PRINT_JSON, "slow_start_ms", NULL, v);
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
	if (json_object_get(v, "check"))
		print_text("check:        %s (see 'xlb check show %s')\n",
			   check_kind(v), vip);
	print_check_json("check", json_object_get(v, "check"));
	print_jstring(PRINT_ANY, "all_down", "all down:     %s\n", v);
	print_jstring(PRINT_ANY, "on_check_down", "check down:   %s\n", v);
	print_juint(PRINT_ANY, "slow_start_ms", "slow start:   %llu ms\n", v);
	list = json_object_get(v, "backends");
	if (json_array_size(list) == 0)
		print_text("backends:     none\n");
	else
		print_nl();
	table_open("backends", false, backend_cols,
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
	.help = "Usage: xlb vip add VIP [--flags FLAGS] [--encap ENCAP] "
		"[--ring-size PRIME]\n"
		"       xlb vip { del | delete } VIP\n"
		"       xlb vip [ list | ls ]\n"
		"       xlb vip show VIP\n"
		"       xlb vip set VIP { --all-down ALL_DOWN | "
		"--on-check-down "
		"CHECK_DOWN |\n"
		"                         --slow-start MS }...\n"
		"       xlb vip help\n"
		"VIP := { ADDR4[:PORT] | [ADDR6][:PORT] }/PROTO    e.g. "
		"198.19.0.1:80/tcp, [2001:db8::1]:443/udp\n"
		"       no PORT: every port of the address and protocol\n"
		"PROTO := { tcp | udp }\n"
		"FLAGS := { none | FLAG[,FLAG...] }\n"
		"FLAG := { no-sport | no-flow-table | dport-only }\n"
		"ENCAP := { default | ipip | gue }      default: the global "
		"encapsulation\n"
		"PRIME := Maglev table size, a prime 7..655373 (default "
		"65537)\n"
		"ALL_DOWN := { drop | keep }    when every backend is down: "
		"drop new\n"
		"            traffic (default) or keep the last ring\n"
		"CHECK_DOWN := { keep | move }  when its checks take a backend "
		"down:\n"
		"            it leaves the ring and its established flows stay "
		"(keep,\n"
		"            default) or re-pick on their next packet (move); "
		"the\n"
		"            operator's --state down always moves them\n"
		"MS := 0..3600000               a recovered backend's weight "
		"ramps up\n"
		"      over MS (default 0: at once)\n"
		"Health checks: see 'xlb check help'.\n",
};
