// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The one decoder, encoder and help printer that walk the field tables
 * (schema.h, schema_tables.c). The tables' ranges are the only ones: the
 * config file, the control protocol and the CLI all refuse a value out
 * of them with the same words.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "schema.h"

/* ---- look-ups ---------------------------------------------------------- */

const struct xlb_field *xlb_schema_field(const struct xlb_schema *s,
					 const char *json)
{
	for (size_t i = 0; i < s->n_fields; i++)
		if (!strcmp(s->fields[i].json, json))
			return &s->fields[i];
	return NULL;
}

const struct xlb_field *xlb_schema_opt(const struct xlb_schema *s,
				       const char *opt, bool *neg)
{
	for (size_t i = 0; i < s->n_fields; i++) {
		const struct xlb_field *f = &s->fields[i];

		*neg = f->neg && !strcmp(f->neg, opt);
		if (*neg || (f->opt && !strcmp(f->opt, opt)))
			return f;
	}
	*neg = false;
	return NULL;
}

bool xlb_field_applies(const struct xlb_field *f, __u8 kind)
{
	return kind < XLB_CHECK_KIND_MAX && (f->kinds & XLB_KIND_BIT(kind));
}

bool xlb_check_field_applies(__u8 kind, const char *field)
{
	const struct xlb_field *f = xlb_schema_field(&xlb_check_schema, field);

	return f && xlb_field_applies(f, kind);
}

/* ---- one value --------------------------------------------------------- */

static void *at(void *obj, const struct xlb_field *f)
{
	return (char *)obj + f->offset;
}

static unsigned long get_uint(const void *obj, const struct xlb_field *f)
{
	const void *p = (const char *)obj + f->offset;

	switch (f->size) {
	case 1:
		return *(const __u8 *)p;
	case 2:
		return *(const __u16 *)p;
	default:
		return *(const __u32 *)p;
	}
}

static void set_uint(void *obj, const struct xlb_field *f, unsigned long v)
{
	switch (f->size) {
	case 1:
		*(__u8 *)at(obj, f) = v;
		break;
	case 2:
		*(__u16 *)at(obj, f) = v;
		break;
	default:
		*(__u32 *)at(obj, f) = v;
	}
}

/* Sets err to "path: message" (or the bare message without a path). */
int xlb_schema_err(struct xlb_err *err, const char *path, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path)
		xlb_err_set(err, "%s: %s", path, msg);
	else
		xlb_err_set(err, "%s", msg);
	return -EINVAL;
}

static int uint_in_range(const struct xlb_field *f, long long n,
			 const char *path, struct xlb_err *err)
{
	if (n < (long long)f->min || n > (long long)f->max)
		return xlb_schema_err(err, path, "%lld out of range %lu..%lu",
				      n, f->min, f->max);
	return 0;
}

/* A string into a char[] field: it must fit and hold no NUL. */
static int set_str(void *obj, const struct xlb_field *f, const char *s,
		   size_t len, const char *path, struct xlb_err *err)
{
	if (len >= f->size)
		return xlb_schema_err(err, path, "longer than %zu characters",
				      f->size - 1);
	if (strlen(s) != len)
		return xlb_schema_err(err, path, "contains a NUL character");
	memcpy(at(obj, f), s, len + 1);
	return 0;
}

/* An ENUM or FLAGS value from its name(s); the parser's words follow. */
static int set_named(void *obj, const struct xlb_field *f, const char *s,
		     const char *path, struct xlb_err *err)
{
	struct xlb_err why = {{0}};
	__u32 flags;
	int ret;

	if (f->type == XLB_FT_FLAGS) {
		ret = xlb_parse_flags(s, &flags, &why);
		if (!ret)
			*(__u32 *)at(obj, f) |= flags;
	} else {
		ret = f->parse(s, (__u8 *)at(obj, f), &why);
	}
	return ret ? xlb_schema_err(err, path, "%s", why.msg) : 0;
}

/* "flags": "a,b" as on the command line, or ["a", "b"]. */
static int flags_from_json(const struct xlb_field *f, const json_t *v,
			   const char *path, void *obj, struct xlb_err *err)
{
	char epath[128];
	size_t i;

	*(__u32 *)at(obj, f) = 0;
	if (json_is_string(v))
		return set_named(obj, f, json_string_value(v), path, err);
	if (!json_is_array(v))
		return xlb_schema_err(err, path,
				      "expected a string or an array");
	for (i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);

		snprintf(epath, sizeof(epath), "%s[%zu]", path, i);
		if (!json_is_string(e))
			return xlb_schema_err(err, epath, "expected a string");
		if (set_named(obj, f, json_string_value(e), epath, err))
			return -EINVAL;
	}
	return 0;
}

int xlb_field_from_json(const struct xlb_field *f, const json_t *v,
			const char *path, void *obj, struct xlb_err *err)
{
	switch (f->type) {
	case XLB_FT_UINT:
		if (!json_is_integer(v))
			return xlb_schema_err(err, path, "expected an integer");
		if (uint_in_range(f, json_integer_value(v), path, err))
			return -EINVAL;
		set_uint(obj, f, json_integer_value(v));
		return 0;
	case XLB_FT_BOOL:
		if (!json_is_boolean(v))
			return xlb_schema_err(err, path,
					      "expected true or false");
		*(__u8 *)at(obj, f) = json_is_true(v);
		return 0;
	case XLB_FT_STR:
		if (!json_is_string(v))
			return xlb_schema_err(err, path, "expected a string");
		return set_str(obj, f, json_string_value(v),
			       json_string_length(v), path, err);
	case XLB_FT_ENUM:
		if (!json_is_string(v))
			return xlb_schema_err(err, path, "expected a string");
		return set_named(obj, f, json_string_value(v), path, err);
	case XLB_FT_FLAGS:
		return flags_from_json(f, v, path, obj, err);
	case XLB_FT_CUSTOM:
		return f->decode(f, v, path, obj, err);
	}
	return xlb_schema_err(err, path, "unknown field type");
}

/* A CUSTOM option's text is the string its JSON would be. */
static int custom_from_text(const struct xlb_field *f, const char *text,
			    void *obj, struct xlb_err *err)
{
	json_t *j = json_string(text);
	int ret;

	if (!j)
		return xlb_schema_err(err, NULL, "'%s' is not UTF-8 text",
				      text);
	ret = f->decode(f, j, NULL, obj, err);
	json_decref(j);
	return ret;
}

int xlb_field_from_text(const struct xlb_field *f, const char *text, bool neg,
			void *obj, struct xlb_err *err)
{
	unsigned long n;

	switch (f->type) {
	case XLB_FT_UINT:
		if (xlb_parse_uint(text, f->min, f->max, &n, err))
			return -EINVAL;
		set_uint(obj, f, n);
		return 0;
	case XLB_FT_BOOL:
		*(__u8 *)at(obj, f) = !neg;
		return 0;
	case XLB_FT_STR:
		return set_str(obj, f, text, strlen(text), NULL, err);
	case XLB_FT_FLAGS:
		*(__u32 *)at(obj, f) = 0;
		return set_named(obj, f, text, NULL, err);
	case XLB_FT_ENUM:
		return set_named(obj, f, text, NULL, err);
	case XLB_FT_CUSTOM:
		if (f->opt)
			return custom_from_text(f, text, obj, err);
		break;
	}
	return xlb_schema_err(err, NULL, "%s: not an option", f->json);
}

json_t *xlb_field_to_json(const struct xlb_field *f, const void *obj)
{
	const char *p = (const char *)obj + f->offset;
	char buf[64];

	switch (f->type) {
	case XLB_FT_UINT:
		return json_integer(get_uint(obj, f));
	case XLB_FT_BOOL:
		return json_boolean(*(const __u8 *)p);
	case XLB_FT_STR:
		return json_stringn(p, strnlen(p, f->size));
	case XLB_FT_ENUM:
		return json_string(f->name(*(const __u8 *)p));
	case XLB_FT_FLAGS:
		return json_string(
			xlb_format_flags(*(const __u32 *)p, buf, sizeof(buf)));
	case XLB_FT_CUSTOM:
		return f->encode(f, obj);
	}
	return NULL;
}

/* ---- whole objects ----------------------------------------------------- */

static bool skipped(const char *key, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (!strcmp(key, *skip))
			return true;
	return false;
}

int xlb_schema_decode(const struct xlb_schema *s, const json_t *j,
		      const char *path, const char *const *skip, void *obj,
		      unsigned long long *seen, struct xlb_err *err)
{
	unsigned long long found = 0;
	char fpath[128];

	if (!json_is_object(j))
		return xlb_schema_err(err, path, "expected an object");
	for (void *it = json_object_iter((json_t *)j); it;
	     it = json_object_iter_next((json_t *)j, it)) {
		const char *key = json_object_iter_key(it);
		const struct xlb_field *f;

		if (skipped(key, skip))
			continue;
		f = xlb_schema_field(s, key);
		if (!f)
			return xlb_schema_err(err, path, "unknown key '%s'",
					      key);
		snprintf(fpath, sizeof(fpath), "%s.%s", path, key);
		if (xlb_field_from_json(f, json_object_iter_value(it), fpath,
					obj, err))
			return -EINVAL;
		found |= 1ull << (f - s->fields);
	}
	for (size_t i = 0; i < s->n_fields; i++)
		if ((s->fields[i].flags & XLB_FF_REQUIRED) &&
		    !(found & (1ull << i)) && !skipped(s->fields[i].json, skip))
			return xlb_schema_err(err, path, "missing key '%s'",
					      s->fields[i].json);
	if (seen)
		*seen = found;
	return 0;
}

int xlb_schema_encode(const struct xlb_schema *s, const void *obj, int kind,
		      bool with_ids, json_t *out)
{
	for (size_t i = 0; i < s->n_fields; i++) {
		const struct xlb_field *f = &s->fields[i];

		if ((kind >= 0 && !xlb_field_applies(f, kind)) ||
		    (!with_ids && (f->flags & XLB_FF_ID)) ||
		    ((f->flags & XLB_FF_NONZERO) && !get_uint(obj, f)))
			continue;
		if (json_object_set_new(out, f->json,
					xlb_field_to_json(f, obj)))
			return -ENOMEM;
	}
	return 0;
}

void xlb_schema_help(const struct xlb_schema *s, FILE *out)
{
	char opt[48];

	for (size_t i = 0; i < s->n_fields; i++) {
		const struct xlb_field *f = &s->fields[i];

		if (!f->opt)
			continue;
		if (f->neg)
			snprintf(opt, sizeof(opt), "--%s | --%s", f->opt,
				 f->neg);
		else
			snprintf(opt, sizeof(opt), "--%s %s", f->opt,
				 f->arg ? f->arg : "VALUE");
		fprintf(out, "  %-22s %s", opt, f->help);
		if (f->type == XLB_FT_UINT)
			fprintf(out, " (%lu..%lu%s%s)", f->min, f->max,
				f->unit ? " " : "", f->unit ? f->unit : "");
		fputc('\n', out);
	}
}

/* ---- health checks ----------------------------------------------------- */

static size_t field_index(const struct xlb_schema *s, const char *json)
{
	return xlb_schema_field(s, json) - s->fields;
}

int xlb_check_decode(const json_t *j, const char *path, const char *const *skip,
		     bool strict, struct xlb_check_cfg *c, struct xlb_err *err)
{
	const struct xlb_schema *s = &xlb_check_schema;
	unsigned long long seen;
	char why[sizeof(err->msg)];
	size_t i;
	int ret;

	xlb_check_init(c);
	ret = xlb_schema_decode(s, j, path, skip, c, &seen, err);
	if (ret)
		return ret;
	for (i = 0; strict && i < s->n_fields; i++)
		if ((seen & (1ull << i)) &&
		    !xlb_field_applies(&s->fields[i], c->kind))
			return xlb_schema_err(
				err, path, "'%s' does not apply to a %s check",
				s->fields[i].json,
				xlb_check_kind_name(c->kind));
	if (!(seen & (1ull << field_index(s, "timeout_ms"))))
		c->timeout_ms = xlb_check_default_timeout(c->interval_ms);
	/* What ties fields together (timeout < interval, exec needs a cmd). */
	ret = xlb_check_validate(c, err);
	if (ret) {
		snprintf(why, sizeof(why), "%s", err->msg);
		xlb_schema_err(err, path, "%s", why);
	}
	return ret;
}

json_t *xlb_check_encode(const struct xlb_check_cfg *c)
{
	struct xlb_check_cfg none;
	json_t *j = json_object();

	/* Fields of no check mean nothing: show the defaults, always valid. */
	if (c->kind == XLB_CHECK_NONE) {
		xlb_check_init(&none);
		c = &none;
	}
	if (j && xlb_schema_encode(&xlb_check_schema, c, -1, false, j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}
