// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb uplink`: add, change, delete, list and show the uplinks that
 * encapsulated traffic leaves by. An uplink object from xlbd is the
 * config.h one with its id, then what xlbd adds at run time (each may be
 * absent, and is then not printed, or '-' in a table):
 *   {"interface", "gateway", "mtu", "share", "id",
 *    "state", "why", "ifindex", "gw_mac", "bytes", "packets",
 *    "share_target", "share_measured", "failovers",
 *    "failover_latency_us_last", "failover_latency_us_max",
 *    "failover_at_ms"}
 * Shares are fractions (0..1) in JSON and percentages in text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "print.h"
#include "xlb.h"

/* An interface name as xlbd checks it, before asking. */
static int check_ifname(const char *name)
{
	struct xlb_uplink_cfg u;
	struct xlb_err err = {{0}};
	const struct xlb_field *f =
		xlb_schema_field(&xlb_uplink_schema, "interface");

	xlb_uplink_init(&u);
	if (xlb_field_from_text(f, name, false, &u, &err))
		return usage_err("interface '%s': %s", name, err.msg);
	if (xlb_ifname_check(u.ifname, &err))
		return usage_err("%s", err.msg);
	return 0;
}

/*
 * IFACE [OPTION]...: the options of the uplink table applied to u and
 * args, then u checked as xlbd will (a set's u holds a stand-in gateway
 * when none is given: what is not given is not judged here).
 */
static int uplink_args(int argc, char **argv, struct xlb_uplink_cfg *u,
		       json_t **args, int *given)
{
	static const char *const names[] = {"IFACE"};
	struct xlb_err err = {{0}};
	struct field_opts fo;
	const char *pos[1];
	size_t n;
	int ret;

	*args = NULL;
	field_opts_init(&fo, &xlb_uplink_schema, NULL);
	ret = parse_args(argc, argv, fo.opts, fo.n, pos, 1, 1, names, &n);
	if (!ret)
		ret = check_ifname(pos[0]);
	if (ret)
		return ret;
	snprintf(u->ifname, sizeof(u->ifname), "%s", pos[0]);
	*args = json_pack("{s:s}", "interface", pos[0]);
	ret = field_opts_apply(&fo, -1, u, *args, given);
	if (!ret && xlb_uplink_validate(u, &err))
		ret = usage_err("%s", err.msg);
	if (ret) {
		json_decref(*args);
		*args = NULL;
	}
	return ret;
}

static int do_uplink_add(int argc, char **argv)
{
	struct xlb_uplink_cfg u;
	json_t *args, *resp;
	int ret, given;

	xlb_uplink_init(&u);
	ret = uplink_args(argc, argv, &u, &args, &given);
	if (ret == -EINVAL && !u.gw_is_mac && !u.gw_family &&
	    strstr(cli.msg, "no gateway"))
		return usage_err("uplink %s: missing --gateway MAC|ADDR",
				 u.ifname);
	if (ret)
		return ret;
	ret = call_xlbd("uplink.add", args, &resp);
	json_decref(resp);
	if (!ret)
		print_string(PRINT_ANY, "uplink", "added uplink %s\n",
			     u.ifname);
	return ret;
}

static int do_uplink_set(int argc, char **argv)
{
	struct xlb_uplink_cfg u;
	json_t *args, *resp;
	int ret, given;

	xlb_uplink_init(&u);
	/* A stand-in for the gateway it has, replaced when one is given. */
	u.gw_is_mac = true;
	u.gw_mac[0] = 0x02;
	ret = uplink_args(argc, argv, &u, &args, &given);
	if (ret)
		return ret;
	if (!given) {
		json_decref(args);
		return usage_err("nothing to set: give --gateway, --mtu or "
				 "--share");
	}
	ret = call_xlbd("uplink.set", args, &resp);
	json_decref(resp);
	return ret;
}

/* del and show take exactly an IFACE. */
static int one_uplink(int argc, char **argv, const char **name)
{
	static const char *const names[] = {"IFACE"};
	size_t n;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, name, 1, 1, names, &n);
	return ret ? ret : check_ifname(*name);
}

static int do_uplink_del(int argc, char **argv)
{
	const char *name;
	json_t *resp;
	int ret;

	ret = one_uplink(argc, argv, &name);
	if (ret)
		return ret;
	ret = call_xlbd("uplink.del", json_pack("{s:s}", "interface", name),
			&resp);
	json_decref(resp);
	return ret;
}

/*
 * mtu 0 is the global one: "global" in text, 0 in JSON. fmt takes a
 * string (%s), the number's text or "global".
 */
static void print_mtu(const char *fmt, const json_t *u)
{
	json_t *v = json_object_get(u, "mtu");
	char buf[24];

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		if (json_integer_value(v))
			snprintf(buf, sizeof(buf), "%lld",
				 (long long)json_integer_value(v));
		else
			snprintf(buf, sizeof(buf), "global");
		print_string(PRINT_TEXT, NULL, fmt, buf);
	} else {
		print_juint(PRINT_TEXT, "mtu", NULL, u); /* '-' in a table */
	}
	print_juint(PRINT_JSON, "mtu", NULL, u);
}

/* A share: a fraction in JSON, a percentage in text. */
static void print_share(const char *key, const char *fmt, const json_t *u)
{
	json_t *v = json_object_get(u, key);

	if (json_is_number(v))
		print_float(PRINT_TEXT, NULL, fmt, 100 * json_number_value(v));
	else
		print_jfloat(PRINT_TEXT, key, fmt, u);
	print_jfloat(PRINT_JSON, key, NULL, u);
}

static const struct column uplink_cols[] = {
	{"IFACE", false},    {"GATEWAY", false},  {"MTU", true},
	{"SHARE", true},     {"STATE", false},	  {"WHY", false},
	{"TARGET%", true},   {"MEASURED%", true}, {"BYTES", true},
	{"FAILOVERS", true},
};

#define N_CONFIG_COLS 4

/* Whether xlbd said anything of the uplinks' run time. */
static bool has_runtime(const json_t *uplinks)
{
	const json_t *u;
	size_t i;

	json_array_foreach(uplinks, i, u)
	{
		if (json_object_get(u, "state"))
			return true;
	}
	return false;
}

static int do_uplink_list(int argc, char **argv)
{
	json_t *resp, *uplinks, *u;
	bool rt;
	size_t n, i;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, NULL, 0, 0, NULL, &n);
	if (!ret)
		ret = call_xlbd("uplink.list", NULL, &resp);
	if (ret)
		return ret;
	uplinks = json_object_get(result_of(resp), "uplinks");
	rt = has_runtime(uplinks);
	table_open("uplinks", false, uplink_cols,
		   rt ? sizeof(uplink_cols) / sizeof(uplink_cols[0])
		      : N_CONFIG_COLS);
	json_array_foreach(uplinks, i, u)
	{
		row_open(NULL);
		print_jstring(PRINT_ANY, "interface", NULL, u);
		print_jstring(PRINT_ANY, "gateway", NULL, u);
		print_mtu(NULL, u);
		print_juint(PRINT_ANY, "share", NULL, u);
		print_juint(PRINT_JSON, "id", NULL, u);
		if (rt) {
			print_jstring(PRINT_ANY, "state", NULL, u);
			print_jstring(PRINT_ANY, "why", NULL, u);
			print_share("share_target", "%.1f", u);
			print_share("share_measured", "%.1f", u);
			print_juint(PRINT_ANY, "bytes", NULL, u);
			print_juint(PRINT_ANY, "failovers", NULL, u);
			print_juint(PRINT_JSON, "packets", NULL, u);
			print_jstring(PRINT_JSON, "gw_mac", NULL, u);
			print_juint(PRINT_JSON, "ifindex", NULL, u);
		}
		row_close();
	}
	table_close();
	json_decref(resp);
	return 0;
}

static int do_uplink_show(int argc, char **argv)
{
	const char *name;
	json_t *resp, *u;
	int ret;

	ret = one_uplink(argc, argv, &name);
	if (!ret)
		ret = call_xlbd("uplink.show",
				json_pack("{s:s}", "interface", name), &resp);
	if (ret)
		return ret;
	u = result_of(resp);
	print_jstring(PRINT_ANY, "interface", "interface:      %s\n", u);
	print_juint(PRINT_ANY, "id", "id:             %llu\n", u);
	print_jstring(PRINT_ANY, "gateway", "gateway:        %s\n", u);
	print_mtu("mtu:            %s\n", u);
	print_juint(PRINT_ANY, "share", "share:          %llu\n", u);
	/* The run-time half, each line only when xlbd sent it. */
	print_jstring(PRINT_ANY, "state", "state:          %s\n", u);
	print_jstring(PRINT_ANY, "why", "why:            %s\n", u);
	print_juint(PRINT_ANY, "ifindex", "ifindex:        %llu\n", u);
	print_jstring(PRINT_ANY, "gw_mac", "gateway MAC:    %s\n", u);
	if (json_object_get(u, "share_target"))
		print_share("share_target", "target share:   %.1f%%\n", u);
	if (json_object_get(u, "share_measured"))
		print_share("share_measured", "measured share: %.1f%%\n", u);
	print_juint(PRINT_ANY, "bytes", "bytes:          %llu\n", u);
	print_juint(PRINT_ANY, "packets", "packets:        %llu\n", u);
	print_juint(PRINT_ANY, "failovers", "failovers:      %llu\n", u);
	/* The last time it was marked down: event to uplink_set, in us. */
	print_juint(PRINT_ANY, "failover_latency_us_last",
		    "failover took:  %llu us (last)\n", u);
	print_juint(PRINT_ANY, "failover_latency_us_max",
		    "failover took:  %llu us (most)\n", u);
	print_juint(PRINT_ANY, "failover_at_ms",
		    "failover at:    %llu ms since the epoch\n", u);
	json_decref(resp);
	return 0;
}

static const struct cmd uplink_cmds[] = {
	{"add", do_uplink_add},	  {"set", do_uplink_set},
	{"del", do_uplink_del},	  {"delete", do_uplink_del},
	{"list", do_uplink_list}, {"ls", do_uplink_list},
	{"show", do_uplink_show}, {NULL, NULL},
};

const struct object uplink_object = {
	.name = "uplink",
	.cmds = uplink_cmds,
	.dflt = do_uplink_list,
	.help = "Usage: xlb uplink add IFACE --gateway MAC|ADDR [--mtu N] "
		"[--share N]\n"
		"       xlb uplink set IFACE { --gateway MAC|ADDR | --mtu N | "
		"--share N }...\n"
		"       xlb uplink { del | delete } IFACE\n"
		"       xlb uplink [ list | ls ]\n"
		"       xlb uplink show IFACE\n"
		"       xlb uplink help\n"
		"IFACE := an interface name (1..15 characters), the uplink's "
		"name\n"
		"MAC := aa:bb:cc:dd:ee:ff, the gateway's, used as given\n"
		"ADDR := the gateway's IPv4 or IPv6 address, resolved and kept "
		"resolved by xlbd\n"
		"Encapsulated traffic leaves by the uplinks, each new flow by "
		"the one furthest\n"
		"below its share of the bytes; a flow stays on its uplink "
		"until that one fails.\n"
		"At most 7 uplinks; none: out of the receiving NIC, as "
		"before.\n"
		"OPTION := (an uplink's settings)\n",
	.options = &xlb_uplink_schema,
};
