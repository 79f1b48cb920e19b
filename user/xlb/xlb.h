/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The CLI's shared pieces: global options, the object/command tables,
 * argument parsing, errors and the call to xlbd. Each object lives in its
 * own file (vip.c, backend.c, check.c, pool.c, stats_cmd.c, daemon.c): its
 * table.
 *
 * Commands return 0 or a negative errno, after recording why with
 * usage_err() (bad syntax or value: exit 2) or fail() (exit 1); main()
 * alone prints the message and turns it into the exit code.
 */
#ifndef XLB_CLI_H
#define XLB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "model.h"
#include "print.h"
#include "schema.h"

#include "version.h"

struct cli {
	const char *socket;		  /* xlbd's control socket */
	const char *pin_dir;		  /* where the maps are pinned */
	bool socket_given, pin_dir_given; /* -s, --pin-dir on the line */
	bool verbose;
	const char *object;  /* for messages: "vip" */
	const char *command; /* and "add"; NULL for the object alone */
	/* The error recorded by usage_err() or fail(). */
	char msg[512];
	int exit_code;
};
extern struct cli cli;

int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* OBJECT COMMAND ARGS, as after `xlb` and its options (main.c). */
int xlb_run(int argc, char **argv);
int fail(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

struct object {
	const char *name;
	const struct cmd *cmds; /* ends with { NULL, NULL } */
	/* Runs when no command is given (NULL: a command is required). */
	int (*dflt)(int argc, char **argv);
	/* Grammar printed by `xlb OBJECT help`. */
	const char *help;
	/* Its settable fields, printed as options after the grammar. */
	const struct xlb_schema *options;
};

extern const struct object vip_object, backend_object, stats_object,
	ring_object, status_object, config_object, check_object, cluster_object,
	node_object, flow_object, top_object, pool_object, trace_object;
extern const struct object uplink_object, batch_object;

/*
 * A command's options (--name VALUE or --name=VALUE, anywhere among its
 * arguments; "--" ends them) and positional arguments. Unknown options,
 * repeated options, missing values, missing or extra positionals are
 * usage errors. pos[] gets n_pos (min_pos..max_pos) arguments named by
 * pos_names in messages ("missing VIP"). A flag takes no value: val is ""
 * when it is given.
 */
struct opt {
	const char *name; /* "--weight" */
	const char *val;  /* NULL unless given */
	bool flag;	  /* no value: --plain */
};

int parse_args(int argc, char **argv, struct opt *opts, size_t n_opts,
	       const char **pos, size_t min_pos, size_t max_pos,
	       const char *const *pos_names, size_t *n_pos);

/* Validators: a usage error naming the argument when s is invalid. */
int check_vip(const char *s, struct xlb_vip_key *key);
int check_addr(const char *s, union xlb_addr *a, __u8 *family);
int check_uint(const char *what, const char *s, unsigned long min,
	       unsigned long max, unsigned long *out);
/* An option's number: "--interval: '-5' is not a number 10..3600000". */
int check_opt_uint(const struct opt *o, unsigned long min, unsigned long max,
		   unsigned long *out);

/* check.c: a check object's fields from xlbd, in JSON only. */
void print_check_json(const char *key, const json_t *check);

/*
 * One request to xlbd. args is stolen (NULL = {}). On success *resp is
 * the response ({"ok": true, "result": ...}; decref it), on failure the
 * reason is recorded with fail().
 */
int call_xlbd(const char *op, json_t *args, json_t **resp);
/*
 * The same for the list commands that take an optional VIP (checked
 * first) as their only argument: `OBJECT list [VIP]`.
 */
int call_xlbd_vip_opt(const char *op, int argc, char **argv, json_t **resp);
/*
 * backend.c: the backends table at the end of a VIP's or a ring's show,
 * after a line saying "none" when list is empty.
 */
void backends_open(const json_t *list, const struct column *cols,
		   size_t n_cols);
/*
 * stats_cmd.c: the pinned maps, read-only (those of the daemon -s names
 * when it answers and --pin-dir is not given); a failure is recorded.
 */
struct xlb_pins;
int open_pins(struct xlb_pins *pins);
/* The "result" of a response (borrowed). */
json_t *result_of(json_t *resp);

#endif /* XLB_CLI_H */
