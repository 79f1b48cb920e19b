// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* A command's options from an object's field table (fields.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fields.h"

static void add_opt(struct field_opts *fo, const char *name,
		    const struct xlb_field *f, bool flag)
{
	size_t i = fo->n++;

	snprintf(fo->names[i], sizeof(fo->names[i]), "--%s", name);
	fo->opts[i] = (struct opt){fo->names[i], NULL, flag};
	fo->field[i] = f;
}

void field_opts_init(struct field_opts *fo, const struct xlb_schema *s,
		     const char *const *own)
{
	memset(fo, 0, sizeof(*fo));
	fo->s = s;
	for (; own && *own && fo->n < FIELD_OPTS_MAX; own++)
		add_opt(fo, *own + 2, NULL, false);
	fo->n_own = fo->n;
	for (size_t i = 0; i < s->n_fields && fo->n + 2 <= FIELD_OPTS_MAX;
	     i++) {
		const struct xlb_field *f = &s->fields[i];

		if (!f->opt)
			continue;
		add_opt(fo, f->opt, f, f->type == XLB_FT_BOOL);
		if (f->neg)
			add_opt(fo, f->neg, f, true);
	}
}

const char *field_opt(const struct field_opts *fo, const char *name)
{
	for (size_t i = 0; i < fo->n; i++)
		if (!strcmp(fo->opts[i].name, name))
			return fo->opts[i].val;
	return NULL;
}

/* A switch and its negation may not both be given. */
static int switch_twice(const struct field_opts *fo, size_t i)
{
	for (size_t j = fo->n_own; j < i; j++)
		if (fo->field[j] == fo->field[i] && fo->opts[j].val)
			return usage_err("%s and %s exclude each other",
					 fo->opts[j].name, fo->opts[i].name);
	return 0;
}

int field_opts_apply(const struct field_opts *fo, int kind, void *obj,
		     json_t *args, int *given)
{
	*given = 0;
	for (size_t i = fo->n_own; i < fo->n; i++) {
		const struct xlb_field *f = fo->field[i];
		const struct opt *o = &fo->opts[i];
		struct xlb_err err = {{0}};
		bool neg = f->neg && !strcmp(o->name + 2, f->neg);

		if (!o->val)
			continue;
		if (kind >= 0 && !xlb_field_applies(f, kind))
			return usage_err("%s does not apply to --kind %s",
					 o->name, xlb_check_kind_name(kind));
		if (switch_twice(fo, i))
			return -EINVAL;
		if (xlb_field_from_text(f, o->val, neg, obj, &err))
			return usage_err("%s: %s", o->name, err.msg);
		json_object_set_new(args, f->json, xlb_field_to_json(f, obj));
		(*given)++;
	}
	return 0;
}
