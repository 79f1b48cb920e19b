// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb pool`: add, delete, list and show the client-NAT pools that VIPs
 * of mode nat take their NAT addresses and ports from. A pool object from
 * xlbd is the config.h one with its ids, then what the allocator adds at
 * run time (each may be absent, and is then not printed):
 *   {"name", "addresses", "ports", "subpool_ports"?, "refill_percent",
 *    "pool_id", "subpool_base", "n_subpools",
 *    "subpools": [{"id", "addr", "ports", "cpu", "state", "used",
 *                  "free"}],
 *    "cpus": [{"cpu", "free"}], "refills", "reclaims", "exhausted",
 *    "entries"}
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "print.h"
#include "xlb.h"

/* A pool's name as xlbd checks it, before asking. */
static int check_pool_name(const char *name)
{
	struct xlb_pool_cfg p;
	struct xlb_err err = {{0}};
	const struct xlb_field *f = xlb_schema_field(&xlb_pool_schema, "name");

	xlb_pool_init(&p);
	if (xlb_field_from_text(f, name, false, &p, &err))
		return usage_err("pool name '%s': %s", name, err.msg);
	/* The rest of the pool is the defaults, which pass. */
	p.family = XLB_AF_INET;
	p.first.v4 = p.last.v4 = 0x0100000a; /* 10.0.0.1, any unicast */
	if (xlb_pool_validate(&p, &err))
		return usage_err("%s", err.msg);
	return 0;
}

/* NAME FIRST[-LAST] [OPTION]...: the pool as xlbd will check it. */
static int do_pool_add(int argc, char **argv)
{
	static const char *const names[] = {"NAME", "FIRST[-LAST]"};
	struct xlb_err err = {{0}};
	struct field_opts fo;
	struct xlb_pool_cfg p;
	const char *pos[2];
	json_t *args, *resp;
	size_t n;
	int ret, given;

	field_opts_init(&fo, &xlb_pool_schema, NULL);
	ret = parse_args(argc, argv, fo.opts, fo.n, pos, 2, 2, names, &n);
	if (!ret)
		ret = check_pool_name(pos[0]);
	if (ret)
		return ret;
	xlb_pool_init(&p);
	snprintf(p.name, sizeof(p.name), "%s", pos[0]);
	if (xlb_parse_addr_range(pos[1], &p.first, &p.last, &p.family, &err))
		return usage_err("%s", err.msg);
	args = json_pack("{s:s, s:s}", "name", pos[0], "addresses", pos[1]);
	ret = field_opts_apply(&fo, -1, &p, args, &given);
	if (!ret && xlb_pool_validate(&p, &err))
		ret = usage_err("%s", err.msg);
	if (ret) {
		json_decref(args);
		return ret;
	}
	ret = call_xlbd("pool.add", args, &resp);
	json_decref(resp);
	if (!ret)
		print_string(PRINT_ANY, "pool", "added pool %s\n", p.name);
	return ret;
}

/* del and show take exactly a NAME. */
static int one_pool(int argc, char **argv, const char **name)
{
	static const char *const names[] = {"NAME"};
	size_t n;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, name, 1, 1, names, &n);
	return ret ? ret : check_pool_name(*name);
}

static int do_pool_del(int argc, char **argv)
{
	const char *name;
	json_t *resp;
	int ret;

	ret = one_pool(argc, argv, &name);
	if (ret)
		return ret;
	ret = call_xlbd("pool.del", json_pack("{s:s}", "name", name), &resp);
	json_decref(resp);
	return ret;
}

static const struct column pool_cols[] = {
	{"NAME", false},    {"ID", true},      {"ADDRESSES", false},
	{"PORTS", false},   {"SUBPOOL", true}, {"REFILL%", true},
	{"SUBPOOLS", true}, {"ENTRIES", true},
};

/* The settings of a pool object, in JSON only (text: the table's). */
static void print_pool_config_json(const json_t *p)
{
	print_juint(PRINT_JSON, "subpool_ports", NULL, p);
	print_juint(PRINT_JSON, "subpool_base", NULL, p);
}

/* The run-time counters the allocator reports, when it does. */
static void print_pool_counters(const json_t *p)
{
	print_juint(PRINT_ANY, "refills", "refills:        %llu\n", p);
	print_juint(PRINT_ANY, "topups", "top-ups:        %llu\n", p);
	print_juint(PRINT_ANY, "steals", "steals:         %llu\n", p);
	print_juint(PRINT_ANY, "reclaims", "reclaims:       %llu\n", p);
	print_juint(PRINT_ANY, "exhausted", "exhausted:      %llu\n", p);
	print_juint(PRINT_ANY, "entries", "entries:        %llu\n", p);
	print_juint(PRINT_ANY, "refill_latency_us_last",
		    "refill latency: %llu us last", p);
	print_juint(PRINT_ANY, "refill_latency_us_max", ", %llu us max\n", p);
}

static int do_pool_list(int argc, char **argv)
{
	json_t *resp, *pools, *p;
	size_t n, i;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, NULL, 0, 0, NULL, &n);
	if (!ret)
		ret = call_xlbd("pool.list", NULL, &resp);
	if (ret)
		return ret;
	pools = json_object_get(result_of(resp), "pools");
	table_open("pools", false, pool_cols,
		   sizeof(pool_cols) / sizeof(pool_cols[0]));
	json_array_foreach(pools, i, p)
	{
		row_open(NULL);
		print_jstring(PRINT_ANY, "name", NULL, p);
		print_juint(PRINT_ANY, "pool_id", NULL, p);
		print_jstring(PRINT_ANY, "addresses", NULL, p);
		print_jstring(PRINT_ANY, "ports", NULL, p);
		/* 0 or absent: not chosen yet. */
		print_juint(PRINT_TEXT, "subpool_ports", NULL, p);
		print_juint(PRINT_ANY, "refill_percent", NULL, p);
		print_juint(PRINT_ANY, "n_subpools", NULL, p);
		print_juint(PRINT_ANY, "entries", NULL, p);
		print_pool_config_json(p);
		print_juint(PRINT_JSON, "refills", NULL, p);
		print_juint(PRINT_JSON, "reclaims", NULL, p);
		print_juint(PRINT_JSON, "exhausted", NULL, p);
		row_close();
	}
	table_close();
	json_decref(resp);
	return 0;
}

/* A signed CPU: -1 (none) is "-" in text and -1 in JSON. */
static void print_cpu(const json_t *o)
{
	json_t *c = json_object_get(o, "cpu");

	if (json_is_integer(c) && json_integer_value(c) < 0)
		print_string(PRINT_TEXT, NULL, NULL, "-");
	else
		print_jint(PRINT_TEXT, "cpu", NULL, o);
	print_jint(PRINT_JSON, "cpu", NULL, o);
}

static const struct column cpu_cols[] = {
	{"CPU", true},
	{"FREE", true},
};

static const struct column subpool_cols[] = {
	{"ID", true},	  {"ADDR", false}, {"PORTS", false}, {"CPU", true},
	{"STATE", false}, {"USED", true},  {"FREE", true},
};

/* The tables of the run-time half, each only when xlbd sent it. */
static void print_pool_runtime(const json_t *p)
{
	json_t *cpus = json_object_get(p, "cpus");
	json_t *subs = json_object_get(p, "subpools"), *o;
	size_t i;

	print_pool_counters(p);
	if (json_is_array(cpus)) {
		print_text("\n");
		table_open("cpus", false, cpu_cols,
			   sizeof(cpu_cols) / sizeof(cpu_cols[0]));
		json_array_foreach(cpus, i, o)
		{
			row_open(NULL);
			print_cpu(o);
			print_juint(PRINT_ANY, "free", NULL, o);
			row_close();
		}
		table_close();
	}
	if (json_is_array(subs)) {
		print_text("\n");
		table_open("subpools", false, subpool_cols,
			   sizeof(subpool_cols) / sizeof(subpool_cols[0]));
		json_array_foreach(subs, i, o)
		{
			row_open(NULL);
			print_juint(PRINT_ANY, "id", NULL, o);
			print_jstring(PRINT_ANY, "addr", NULL, o);
			print_jstring(PRINT_ANY, "ports", NULL, o);
			print_cpu(o);
			print_jstring(PRINT_ANY, "state", NULL, o);
			print_juint(PRINT_ANY, "used", NULL, o);
			print_juint(PRINT_ANY, "free", NULL, o);
			row_close();
		}
		table_close();
	}
}

static int do_pool_show(int argc, char **argv)
{
	const char *name;
	json_t *resp, *p;
	long long base, count;
	int ret;

	ret = one_pool(argc, argv, &name);
	if (!ret)
		ret = call_xlbd("pool.show", json_pack("{s:s}", "name", name),
				&resp);
	if (ret)
		return ret;
	p = result_of(resp);
	print_jstring(PRINT_ANY, "name", "name:           %s\n", p);
	print_juint(PRINT_ANY, "pool_id", "id:             %llu\n", p);
	print_jstring(PRINT_ANY, "addresses", "addresses:      %s\n", p);
	print_jstring(PRINT_ANY, "ports", "ports:          %s\n", p);
	if (json_object_get(p, "subpool_ports"))
		print_juint(PRINT_ANY, "subpool_ports",
			    "sub-pool ports: %llu\n", p);
	else
		print_text("sub-pool ports: not chosen yet\n");
	print_juint(PRINT_ANY, "refill_percent", "refill below:   %llu%%\n", p);
	base = json_integer_value(json_object_get(p, "subpool_base"));
	count = json_integer_value(json_object_get(p, "n_subpools"));
	if (count > 0)
		print_text("sub-pools:      %lld (ids %lld..%lld)\n", count,
			   base, base + count - 1);
	print_juint(PRINT_JSON, "subpool_base", NULL, p);
	print_juint(PRINT_JSON, "n_subpools", NULL, p);
	print_pool_runtime(p);
	json_decref(resp);
	return 0;
}

static const struct cmd pool_cmds[] = {
	{"add", do_pool_add},	{"del", do_pool_del}, {"delete", do_pool_del},
	{"list", do_pool_list}, {"ls", do_pool_list}, {"show", do_pool_show},
	{NULL, NULL},
};

const struct object pool_object = {
	.name = "pool",
	.cmds = pool_cmds,
	.dflt = do_pool_list,
	.help = "Usage: xlb pool add NAME FIRST[-LAST] [OPTION]...\n"
		"       xlb pool { del | delete } NAME\n"
		"       xlb pool [ list | ls ]\n"
		"       xlb pool show NAME\n"
		"       xlb pool help\n"
		"NAME := 1..31 of A-Z a-z 0-9 _ . -\n"
		"FIRST[-LAST] := the pool's addresses, e.g. "
		"198.18.2.0-198.18.2.15 or 2001:db8:5::1-2001:db8:5::ff:\n"
		"       unicast, of one family, at most 65536; IPv6: in one "
		"/96\n"
		"A client-NAT pool gives VIPs of mode nat (xlb vip add VIP "
		"--mode nat --pool NAME)\n"
		"their NAT addresses and ports. A pool a VIP names cannot be "
		"deleted.\n"
		"OPTION := (a pool's settings)\n",
	.options = &xlb_pool_schema,
};
