// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlb, the operator's CLI: `xlb [OPTIONS] OBJECT COMMAND [ARGS]`.
 * Changes and daemon facts go through xlbd's control socket; counters are
 * read from the pinned maps, so `xlb stats` works while xlbd is down.
 * Every argument is checked here, with the parsers xlbd uses, before the
 * daemon is contacted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "stats.h"
#include "print.h"
#include "xlb.h"

struct cli cli = {
	.socket = XLB_CTL_SOCKET_DEFAULT,
	.pin_dir = XLB_PIN_DIR_DEFAULT,
};

static const struct object *const objects[] = {
	&vip_object,	&backend_object, &stats_object, &ring_object,
	&status_object, &config_object,	 &check_object, &cluster_object,
	&node_object,	&flow_object,	 &top_object,	&pool_object,
	&trace_object,	&uplink_object,	 &batch_object,
};

static const char usage_text[] =
	"Usage: xlb [OPTIONS] OBJECT { COMMAND | help } [ARGS]\n"
	"       xlb help\n"
	"       xlb --version\n"
	"OBJECT := { vip | backend | check | pool | uplink | stats | flow |\n"
	"            top | trace | ring | status | config | cluster | node |\n"
	"            batch }\n"
	"OPTIONS := { -j | --json }             print JSON\n"
	"           { -s | --socket } PATH      xlbd's socket "
	"(default " XLB_CTL_SOCKET_DEFAULT ")\n"
	"           --pin-dir DIR               pinned maps (default: "
	"the daemon's\n"
	"                                       with -s, "
	"else " XLB_PIN_DIR_DEFAULT ")\n"
	"           { -v | --verbose }          libbpf messages, requests\n"
	"           { -h | --help }             this text\n"
	"           --version                   print the version\n"
	"Exit status: 0 ok, 1 failure, 2 usage error.\n";

/* "(see 'xlb vip help')": where a usage error sends the reader. */
static void see_help(char *buf, size_t len)
{
	if (cli.object)
		snprintf(buf, len, " (see 'xlb %s help')", cli.object);
	else
		snprintf(buf, len, " (see 'xlb help')");
}

int usage_err(const char *fmt, ...)
{
	char see[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cli.msg, sizeof(cli.msg), fmt, ap);
	va_end(ap);
	/* People get a pointer to the grammar; JSON readers do not. */
	see_help(see, sizeof(see));
	if (!print_is_json() && n >= 0 && (size_t)n < sizeof(cli.msg))
		snprintf(cli.msg + n, sizeof(cli.msg) - n, "%s", see);
	cli.exit_code = 2;
	return -EINVAL;
}

int fail(int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cli.msg, sizeof(cli.msg), fmt, ap);
	va_end(ap);
	cli.exit_code = 1;
	return ret < 0 ? ret : -EIO;
}

/* One line on stderr, or {"error": ...} on stdout with -j. */
static void report_error(void)
{
	char what[128] = "";
	json_t *j;
	char *s;

	if (cli.object && cli.command)
		snprintf(what, sizeof(what), "%s %s: ", cli.object,
			 cli.command);
	else if (cli.object)
		snprintf(what, sizeof(what), "%s: ", cli.object);
	if (!print_is_json()) {
		fprintf(stderr, "xlb: %s%s\n", what, cli.msg);
		return;
	}
	print_discard();
	j = json_pack("{s:s+}", "error", what, cli.msg);
	s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	if (s)
		puts(s);
	free(s);
	json_decref(j);
	fflush(stdout);
}

int parse_args(int argc, char **argv, struct opt *opts, size_t n_opts,
	       const char **pos, size_t min_pos, size_t max_pos,
	       const char *const *pos_names, size_t *n_pos)
{
	bool only_pos = false;
	size_t n = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq, *val;
		struct opt *o = NULL;
		size_t name_len;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (n == max_pos)
				return usage_err("unexpected argument '%s'", a);
			pos[n++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		eq = strchr(a, '=');
		name_len = eq ? (size_t)(eq - a) : strlen(a);
		for (size_t k = 0; k < n_opts; k++) {
			if (strlen(opts[k].name) == name_len &&
			    !strncmp(opts[k].name, a, name_len))
				o = &opts[k];
		}
		if (!o)
			return usage_err("unknown option '%.*s'", (int)name_len,
					 a);
		if (o->val)
			return usage_err("option %s given twice", o->name);
		if (o->flag) {
			if (eq)
				return usage_err("option %s takes no value",
						 o->name);
			val = "";
		} else if (eq) {
			val = eq + 1;
		} else {
			if (i + 1 >= argc)
				return usage_err("option %s needs a value",
						 o->name);
			val = argv[++i];
		}
		o->val = val;
	}
	if (n < min_pos)
		return usage_err("missing %s", pos_names[n]);
	*n_pos = n;
	return 0;
}

int check_vip(const char *s, struct xlb_vip_key *key)
{
	struct xlb_err err = {{0}};

	if (xlb_parse_vip(s, key, &err))
		return usage_err("%s", err.msg[0] ? err.msg : "invalid VIP");
	return 0;
}

int check_addr(const char *s, union xlb_addr *a, __u8 *family)
{
	struct xlb_err err = {{0}};

	if (xlb_parse_addr(s, a, family, &err))
		return usage_err("%s",
				 err.msg[0] ? err.msg : "invalid address");
	return 0;
}

int check_uint(const char *what, const char *s, unsigned long min,
	       unsigned long max, unsigned long *out)
{
	struct xlb_err err = {{0}};

	if (xlb_parse_uint(s, min, max, out, &err))
		return usage_err("%s: %s", what,
				 err.msg[0] ? err.msg : "invalid number");
	return 0;
}

int check_opt_uint(const struct opt *o, unsigned long min, unsigned long max,
		   unsigned long *out)
{
	if (xlb_parse_uint(o->val, min, max, out, NULL))
		return usage_err("%s: '%s' is not a number %lu..%lu", o->name,
				 o->val, min, max);
	return 0;
}

int call_xlbd(const char *op, json_t *args, json_t **resp)
{
	struct xlb_err err = {{0}};
	int ret;

	if (!args)
		args = json_object();
	if (cli.verbose) {
		char *s = json_dumps(args, JSON_COMPACT);

		fprintf(stderr, "xlb: request %s %s to %s\n", op, s ? s : "",
			cli.socket);
		free(s);
	}
	ret = xlb_ctl_call(cli.socket, op, args, resp, &err);
	json_decref(args);
	if (ret)
		return fail(ret, "%s", err.msg);
	return 0;
}

int call_xlbd_vip_opt(const char *op, int argc, char **argv, json_t **resp)
{
	static const char *const names[] = {"VIP"};
	struct xlb_vip_key key;
	const char *vip = NULL;
	json_t *args = NULL;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, NULL, 0, &vip, 0, 1, names, &n);
	if (!ret && n)
		ret = check_vip(vip, &key);
	if (ret)
		return ret;
	if (n)
		args = json_pack("{s:s}", "vip", vip);
	return call_xlbd(op, args, resp);
}

json_t *result_of(json_t *resp)
{
	return json_object_get(resp, "result");
}

static const struct object *find_object(const char *name)
{
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		if (!strcmp(objects[i]->name, name))
			return objects[i];
	}
	return NULL;
}

static int run_object(const struct object *obj, int argc, char **argv)
{
	cli.object = obj->name;
	if (argc > 0 && (!strcmp(argv[0], "help") || !strcmp(argv[0], "-h") ||
			 !strcmp(argv[0], "--help"))) {
		if (argc > 1)
			return usage_err("unexpected argument '%s'", argv[1]);
		fputs(obj->help, stdout);
		if (obj->options)
			xlb_schema_help(obj->options, stdout);
		return 0;
	}
	/*
	 * An option or nothing after the object, or any argument of an
	 * object without commands (`xlb trace VIP`): its default command.
	 */
	if (argc == 0 || argv[0][0] == '-' || (obj->dflt && !obj->cmds)) {
		if (!obj->dflt)
			return usage_err("missing command");
		return obj->dflt(argc, argv);
	}
	for (const struct cmd *c = obj->cmds; c && c->name; c++) {
		if (strcmp(c->name, argv[0]))
			continue;
		cli.command = c->name;
		return c->fn(argc - 1, argv + 1);
	}
	if (!obj->cmds || !obj->cmds[0].name)
		return usage_err("unexpected argument '%s'", argv[0]);
	return usage_err("unknown command '%s'", argv[0]);
}

/*
 * The global options, up to OBJECT: 0 to go on, 1 when answered (--help,
 * --version), or a negative errno after a usage error.
 */
static int global_opts(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"socket", required_argument, NULL, 's'},
		{"pin-dir", required_argument, NULL, 'P'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	bool version = false;
	int opt;

	/* '+': options end at OBJECT; ':': we word the errors ourselves. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:js:vh", long_opts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'j':
			print_set_json(true);
			break;
		case 's':
			cli.socket = optarg;
			cli.socket_given = true;
			break;
		case 'P':
			cli.pin_dir = optarg;
			cli.pin_dir_given = true;
			break;
		case 'v':
			cli.verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'V':
			version = true;
			break;
		case ':':
			return usage_err("option %s needs a value",
					 argv[optind - 1]);
		default:
			if (optopt)
				return usage_err("unknown option '-%c'",
						 optopt);
			return usage_err("unknown option '%s'",
					 argv[optind - 1]);
		}
	}
	if (!version)
		return 0;
	if (optind < argc)
		return usage_err("unexpected argument '%s'", argv[optind]);
	printf("xlb %s\n", XLB_VERSION);
	return 1;
}

/* OBJECT [COMMAND] [ARGS]: 1 when answered (help), else run_object's. */
int xlb_run(int argc, char **argv)
{
	const struct object *obj;
	int ret;

	if (argc < 1)
		return usage_err("missing OBJECT");
	if (!strcmp(argv[0], "help")) {
		if (argc > 1)
			return usage_err("unexpected argument '%s'", argv[1]);
		fputs(usage_text, stdout);
		return 1;
	}
	obj = find_object(argv[0]);
	if (!obj)
		return usage_err("unknown object '%s'", argv[0]);
	print_begin();
	ret = run_object(obj, argc - 1, argv + 1);
	if (!ret)
		print_end();
	return ret;
}

int main(int argc, char **argv)
{
	int ret;

	ret = global_opts(argc, argv);
	/* -v is the CLI's one level: all that the libraries say. */
	xlb_log_init("xlb", cli.verbose ? 2 : 0);
	if (!ret)
		ret = xlb_run(argc - optind, argv + optind);
	if (ret < 0) {
		report_error();
		print_discard();
		return cli.exit_code ? cli.exit_code : 1;
	}
	return 0;
}
