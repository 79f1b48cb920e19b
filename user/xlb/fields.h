/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A command's options from an object's field table (schema.h): every
 * settable field is an option ("--interval MS" for interval_ms, and the
 * switches "--tunnel" / "--plain" for a boolean), parsed by parse_args
 * beside the command's own options, checked with the table's ranges and
 * names and sent to xlbd under the field's JSON name. A field added to a
 * table is an option of every command that takes its object.
 */
#ifndef XLB_CLI_FIELDS_H
#define XLB_CLI_FIELDS_H

#include "schema.h"
#include "xlb.h"

#define FIELD_OPTS_MAX 24

struct field_opts {
	const struct xlb_schema *s;
	size_t n_own; /* the command's own options come first */
	size_t n;
	struct opt opts[FIELD_OPTS_MAX];
	const struct xlb_field *field[FIELD_OPTS_MAX]; /* NULL: own */
	char names[FIELD_OPTS_MAX][24];
};

/* own: the command's own options ("--backend"), NULL-terminated. */
void field_opts_init(struct field_opts *fo, const struct xlb_schema *s,
		     const char *const *own);
/* The value of a given option by name ("--kind"), or NULL. */
const char *field_opt(const struct field_opts *fo, const char *name);
/*
 * Every field option given: its value into obj (a usage error naming the
 * option when the table refuses it) and into args. With kind >= 0 (a
 * check), an option of a field that does not apply to it is refused.
 * *given counts them.
 */
int field_opts_apply(const struct field_opts *fo, int kind, void *obj,
		     json_t *args, int *given);

#endif /* XLB_CLI_FIELDS_H */
