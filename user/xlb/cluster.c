// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The objects of several balancers as one: `cluster status` (the members
 * this node sees in etcd, its generation, whether the rings agree) and
 * `node drain|undrain` (announce nothing / what it can serve again).
 */
#include <errno.h>
#include <stdio.h>

#include "print.h"
#include "xlb.h"

static const struct column node_cols[] = {
	{"NODE", false},     {"GENERATION", true}, {"HEARTBEAT_AGE_MS", true},
	{"JOINED", false},   {"ANNOUNCED", false}, {"VIEW", false},
	{"DOWN_SEEN", true}, {"VERSION", false},
};

static const struct column vip_cols[] = {
	{"VIP", false},
	{"FINGERPRINT", false},
	{"AGREE", false},
	{"SEEN_DOWN", false},
};

static void print_nodes(const json_t *r)
{
	const json_t *list = json_object_get(r, "nodes"), *n;
	size_t i;

	print_nl();
	table_open("nodes", false, node_cols,
		   sizeof(node_cols) / sizeof(node_cols[0]));
	json_array_foreach(list, i, n)
	{
		const json_t *own = json_object_get(n, "own_view");

		row_open(NULL);
		print_jstring(PRINT_ANY, "node", NULL, n);
		print_bool(PRINT_JSON, "self", NULL,
			   json_is_true(json_object_get(n, "self")));
		print_bool(PRINT_JSON, "member", NULL,
			   json_is_true(json_object_get(n, "member")));
		print_juint(PRINT_ANY, "generation", NULL, n);
		print_juint(PRINT_ANY, "heartbeat_age_ms", NULL, n);
		print_jbool(PRINT_ANY, "joined", NULL, n);
		print_jbool(PRINT_ANY, "announced", NULL, n);
		print_jbool(PRINT_JSON, "own_view", NULL, n);
		print_string(PRINT_TEXT, NULL, "%s",
			     !own		 ? "-"
			     : json_is_true(own) ? "own"
						 : "cluster");
		print_juint(PRINT_ANY, "down_seen", NULL, n);
		print_jstring(PRINT_ANY, "version", NULL, n);
		row_close();
	}
	table_close();
}

/* "198.18.31.2 (2 votes, down)" for each backend some member sees down. */
static void print_seen(const json_t *seen)
{
	char buf[512];
	size_t i, off = 0;
	const json_t *b;

	buf[0] = '\0';
	open_array("seen_down");
	json_array_foreach(seen, i, b)
	{
		open_object(NULL);
		print_jstring(PRINT_JSON, "backend", NULL, b);
		print_juint(PRINT_JSON, "votes", NULL, b);
		print_bool(PRINT_JSON, "down", NULL,
			   json_is_true(json_object_get(b, "down")));
		close_object();
	}
	close_array();
	json_array_foreach(seen, i, b)
	{
		int n = snprintf(
			buf + off, sizeof(buf) - off, "%s%s (%lld votes%s)",
			i ? ", " : "",
			json_string_value(json_object_get(b, "backend")),
			(long long)json_integer_value(
				json_object_get(b, "votes")),
			json_is_true(json_object_get(b, "down")) ? ", down"
								 : "");

		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += n;
	}
	print_string(PRINT_TEXT, NULL, "%s", off ? buf : "-");
}

static void print_vips(const json_t *r)
{
	const json_t *list = json_object_get(r, "vips"), *v;
	size_t i;

	print_nl();
	table_open("vips", false, vip_cols,
		   sizeof(vip_cols) / sizeof(vip_cols[0]));
	json_array_foreach(list, i, v)
	{
		row_open(NULL);
		print_jstring(PRINT_ANY, "vip", NULL, v);
		print_jstring(PRINT_ANY, "fingerprint", NULL, v);
		print_jbool(PRINT_ANY, "agree", NULL, v);
		print_seen(json_object_get(v, "seen_down"));
		row_close();
	}
	table_close();
}

/*
 * {"mode", "cluster", "node", "etcd", "endpoint", "generation",
 *  "config_revision", "joined", "members", "quorum",
 *  "fingerprint_mismatch", "rejected", "resyncs", "nodes_lost",
 *  "heartbeat_ms", "nodes": [...], "vips": [...]}; {"mode": "off"} for a
 *  node on its own.
 */
static int do_cluster_status(int argc, char **argv)
{
	json_t *resp, *r;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, NULL, 0, 0, NULL, &n);
	if (!ret)
		ret = call_xlbd("cluster.status", NULL, &resp);
	if (ret)
		return ret;
	r = result_of(resp);
	print_jstring(PRINT_ANY, "mode", "mode:         %s\n", r);
	if (json_object_get(r, "node")) {
		print_jstring(PRINT_ANY, "cluster", "cluster:      %s", r);
		print_jstring(PRINT_ANY, "node", " (this node: %s)\n", r);
		print_jstring(PRINT_ANY, "etcd", "etcd:         %s", r);
		print_jstring(PRINT_ANY, "endpoint", " (%s)", r);
		print_jstring(PRINT_ANY, "etcd_error", " %s", r);
		print_nl();
		print_juint(PRINT_ANY, "generation", "generation:   %llu", r);
		print_juint(PRINT_ANY, "config_revision",
			    " (config revision %llu)\n", r);
		print_juint(PRINT_JSON, "config_applied_unix_ms", NULL, r);
		print_jbool(PRINT_ANY, "joined", "joined:       %s\n", r);
		print_juint(PRINT_ANY, "members", "members:      %llu", r);
		print_juint(PRINT_ANY, "quorum", " (health quorum %llu)\n", r);
		print_juint(PRINT_ANY, "fingerprint_mismatch",
			    "mismatching rings: %llu\n", r);
		print_juint(PRINT_ANY, "rejected", "rejected:     %llu", r);
		print_juint(PRINT_ANY, "resyncs", "  resyncs: %llu", r);
		print_juint(PRINT_ANY, "nodes_lost", "  nodes lost: %llu\n", r);
		print_juint(PRINT_JSON, "heartbeat_ms", NULL, r);
		print_jstring(PRINT_ANY, "last_rejected", "last rejected: %s\n",
			      r);
		print_nodes(r);
		print_vips(r);
	}
	json_decref(resp);
	return 0;
}

static const struct cmd cluster_cmds[] = {
	{"status", do_cluster_status},
	{NULL, NULL},
};

const struct object cluster_object = {
	.name = "cluster",
	.cmds = cluster_cmds,
	.dflt = do_cluster_status,
	.help = "Usage: xlb cluster [status]\n"
		"       xlb cluster help\n"
		"Shows what this node sees of its cluster (xlbd --etcd): "
		"whether etcd is\n"
		"reachable (mode cluster) or the node serves on its own view "
		"(own-view),\n"
		"the generation it applied, the members with their heartbeat "
		"age, and per\n"
		"VIP whether every member of the same generation built the "
		"same ring and\n"
		"which backends members see down (a quorum takes one out).\n",
};

static int node_call(int argc, char **argv, const char *op)
{
	json_t *resp;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, NULL, 0, 0, NULL, &n);
	if (!ret)
		ret = call_xlbd(op, NULL, &resp);
	if (!ret)
		json_decref(resp);
	return ret;
}

static int do_node_drain(int argc, char **argv)
{
	return node_call(argc, argv, "node.drain");
}

static int do_node_undrain(int argc, char **argv)
{
	return node_call(argc, argv, "node.undrain");
}

static const struct cmd node_cmds[] = {
	{"drain", do_node_drain},
	{"undrain", do_node_undrain},
	{NULL, NULL},
};

const struct object node_object = {
	.name = "node",
	.cmds = node_cmds,
	.help = "Usage: xlb node { drain | undrain }\n"
		"       xlb node help\n"
		"drain:   withdraw every VIP this node announces (xlbd "
		"--route-table): the\n"
		"         router sends new and established flows to the "
		"other nodes, which\n"
		"         send them to the same backends; the node keeps "
		"serving what still\n"
		"         reaches it. Kept across a restart.\n"
		"undrain: announce again the VIPs it can serve.\n",
};
