// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The objects that only xlbd can answer: `ring show` (the Maglev table it
 * built), `status` (the daemon itself) and `config` (the whole desired
 * state as one document).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "print.h"
#include "xlb.h"

static const struct column ring_cols[] = {
	{"ADDR", false}, {"WEIGHT", true}, {"STATE", false},
	{"SLOTS", true}, {"SHARE", true},
};

/*
 * {"vip", "ring_size", "fingerprint",
 *  "backends": [{"addr", "weight", "state", "slots", "share_percent"}]}
 */
static int do_ring_show(int argc, char **argv)
{
	static const char *const names[] = {"VIP"};
	json_t *resp, *r, *list, *b;
	struct xlb_vip_key key;
	const char *vip;
	size_t n, i;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, &vip, 1, 1, names, &n);
	if (!ret)
		ret = check_vip(vip, &key);
	if (!ret)
		ret = call_xlbd("ring.show", json_pack("{s:s}", "vip", vip),
				&resp);
	if (ret)
		return ret;
	r = result_of(resp);
	print_jstring(PRINT_ANY, "vip", "vip:          %s\n", r);
	print_juint(PRINT_ANY, "ring_size", "ring size:    %llu\n", r);
	print_jstring(PRINT_ANY, "fingerprint", "fingerprint:  %s\n", r);
	list = json_object_get(r, "backends");
	backends_open(list, ring_cols,
		      sizeof(ring_cols) / sizeof(ring_cols[0]));
	json_array_foreach(list, i, b)
	{
		row_open(NULL);
		print_jstring(PRINT_ANY, "addr", NULL, b);
		print_juint(PRINT_ANY, "weight", NULL, b);
		print_jstring(PRINT_ANY, "state", NULL, b);
		print_juint(PRINT_ANY, "slots", NULL, b);
		print_jfloat(PRINT_ANY, "share_percent", "%.2f%%", b);
		row_close();
	}
	table_close();
	json_decref(resp);
	return 0;
}

static const struct cmd ring_cmds[] = {
	{"show", do_ring_show},
	{NULL, NULL},
};

const struct object ring_object = {
	.name = "ring",
	.cmds = ring_cmds,
	.help = "Usage: xlb ring show VIP\n"
		"       xlb ring help\n"
		"Shows the VIP's Maglev table: its fingerprint (equal on "
		"every balancer\n"
		"with the same backends) and each backend's slots and share "
		"of them.\n"
		"VIP := as in 'xlb vip help'\n",
};

/* "1d 2h 3m 4s" */
static void format_duration(unsigned long long s, char *buf, size_t len)
{
	unsigned long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	if (d)
		snprintf(buf, len, "%llud %lluh %llum %llus", d, h, m, s % 60);
	else if (h)
		snprintf(buf, len, "%lluh %llum %llus", h, m, s % 60);
	else if (m)
		snprintf(buf, len, "%llum %llus", m, s % 60);
	else
		snprintf(buf, len, "%llus", s);
}

static const struct column announce_cols[] = {
	{"ADDR", false},
	{"STATE", false},
	{"BIRD", false},
	{"REASON", false},
};

/* The node's part in a cluster, and each VIP address it announces. */
static void print_announce(const json_t *r)
{
	const json_t *list, *a;
	size_t i;

	print_jbool(PRINT_ANY, "drained", "drained:      %s\n", r);
	print_jstring(PRINT_ANY, "cluster", "cluster:      %s\n", r);
	print_juint(PRINT_ANY, "route_table", "route table:  %llu\n", r);
	list = json_object_get(r, "announce");
	if (!json_is_array(list))
		return;
	print_nl();
	table_open("announce", false, announce_cols,
		   sizeof(announce_cols) / sizeof(announce_cols[0]));
	json_array_foreach(list, i, a)
	{
		row_open(NULL);
		print_jstring(PRINT_ANY, "addr", NULL, a);
		print_jstring(PRINT_ANY, "state", NULL, a);
		print_jstring(PRINT_ANY, "bird", NULL, a);
		print_jstring(PRINT_ANY, "reason", NULL, a);
		row_close();
	}
	table_close();
}

/*
 * {"version", "interface", "ifindex", "xdp_mode", "prog_id", "pin_dir",
 *  "state_file", "socket", "gateway_mac", "vips", "backends", "uptime_s",
 *  "adopted", "unsaved", "drained", "cluster", "route_table",
 *  "announce": [{"addr", "state", "reason", "bird"}]}
 */
static int do_status(int argc, char **argv)
{
	json_t *resp, *r, *v;
	char up[64];
	size_t n;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, NULL, 0, 0, NULL, &n);
	if (!ret)
		ret = call_xlbd("status", NULL, &resp);
	if (ret)
		return ret;
	r = result_of(resp);
	print_jstring(PRINT_ANY, "version", "version:      %s\n", r);
	print_jstring(PRINT_ANY, "interface", "interface:    %s", r);
	print_juint(PRINT_ANY, "ifindex", " (ifindex %llu)", r);
	print_nl();
	print_jstring(PRINT_ANY, "xdp_mode", "xdp mode:     %s\n", r);
	print_juint(PRINT_ANY, "prog_id", "program id:   %llu\n", r);
	print_jbool(PRINT_ANY, "adopted", "adopted:      %s\n", r);
	print_jstring(PRINT_ANY, "gateway_mac", "gateway mac:  %s\n", r);
	print_jstring(PRINT_ANY, "pin_dir", "pin dir:      %s\n", r);
	print_jstring(PRINT_ANY, "state_file", "state file:   %s", r);
	v = json_object_get(r, "unsaved");
	/* A live model the state file does not hold: a restart reverts it. */
	if (json_is_true(v))
		print_text(
			" (UNSAVED: the live state differs; see xlbd's log)");
	print_jbool(PRINT_JSON, "unsaved", NULL, r);
	print_nl();
	print_jstring(PRINT_ANY, "socket", "socket:       %s\n", r);
	print_juint(PRINT_ANY, "vips", "vips:         %llu\n", r);
	print_juint(PRINT_ANY, "backends", "backends:     %llu\n", r);
	v = json_object_get(r, "uptime_s");
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		format_duration(json_integer_value(v), up, sizeof(up));
		print_uint(PRINT_JSON, "uptime_s", NULL, json_integer_value(v));
		print_string(PRINT_TEXT, NULL, "uptime:       %s\n", up);
	}
	print_announce(r);
	json_decref(resp);
	return 0;
}

const struct object status_object = {
	.name = "status",
	.dflt = do_status,
	.help = "Usage: xlb status\n"
		"       xlb status help\n"
		"Shows xlbd's interface, XDP program, pin directory, state "
		"file and\n"
		"how many VIPs and backends it serves; whether it is drained, "
		"its part\n"
		"in a cluster, and with --route-table each VIP address: "
		"announced or\n"
		"withdrawn and why, and what BIRD says of it (--bird-socket): "
		"in table,\n"
		"exported, absent, or unknown.\n",
};

/*
 * Reads FILE with the daemon's own parser first, so a malformed file is
 * reported here, with its line and column, and xlbd is not asked.
 */
static int do_config_apply(int argc, char **argv)
{
	static const char *const names[] = {"FILE"};
	struct xlb_err err = {{0}};
	json_t *doc, *resp;
	struct xlb_model m;
	json_error_t jerr;
	const char *path;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, &path, 1, 1, names, &n);
	if (ret)
		return ret;
	ret = xlb_model_load(path, &m, &err);
	xlb_model_free(&m);
	if (ret == -EINVAL) {
		if (strstr(err.msg, path))
			return usage_err("%s", err.msg);
		return usage_err("%s: %s", path, err.msg);
	}
	if (ret) {
		if (err.msg[0] && strstr(err.msg, path))
			return fail(ret, "%s", err.msg);
		return fail(ret, "cannot read %s: %s", path,
			    err.msg[0] ? err.msg : strerror(-ret));
	}
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return fail(-EIO, "%s:%d:%d: %s", path, jerr.line, jerr.column,
			    jerr.text);
	ret = call_xlbd("config.apply", json_pack("{s:o}", "config", doc),
			&resp);
	json_decref(resp);
	return ret;
}

/* The document is JSON already: indented for people, one line with -j. */
static int do_config_dump(int argc, char **argv)
{
	json_t *resp;
	char *s;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, NULL, 0, 0, NULL, &n);
	if (!ret)
		ret = call_xlbd("config.dump", NULL, &resp);
	if (ret)
		return ret;
	s = json_dumps(result_of(resp),
		       print_is_json() ? JSON_COMPACT
				       : JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(resp);
	if (!s)
		return fail(-ENOMEM, "cannot format the configuration");
	puts(s);
	free(s);
	return 0;
}

static const struct cmd config_cmds[] = {
	{"apply", do_config_apply},
	{"dump", do_config_dump},
	{NULL, NULL},
};

const struct object config_object = {
	.name = "config",
	.cmds = config_cmds,
	.help = "Usage: xlb config apply FILE\n"
		"       xlb config dump\n"
		"       xlb config help\n"
		"apply: make FILE (the JSON document of 'xlbd --config') the "
		"whole desired\n"
		"       state: VIPs and backends not in it are removed; all or "
		"nothing.\n"
		"dump:  print the desired state as such a document.\n",
};
