// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The field tables of libxlb (schema.h) as the manuals need them, so the
 * manuals follow the tables instead of copying them:
 *   schema_dump                 one line per field: OBJECT KEY OPTION TYPE
 *                               RANGE UNIT DEFAULT HELP, tab-separated
 *   schema_dump --keys          every key path a written document holds
 *                               ("vips[].backends[].weight"), from the
 *                               writer itself, top-level keys included
 *   schema_dump --scd OBJECT    the object's keys as scdoc, for xlb.json.5
 *   schema_dump --scd-opts OBJECT  its CLI options as scdoc, for xlb.8
 *   schema_dump --check FILE    loads FILE with xlbd's own reader
 * A field's default is what the reader gives a document without the key
 * (a minimal document parsed here), never a number written twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "schema.h"

static const struct xlb_schema *const schemas[] = {
	&xlb_global_schema, &xlb_vip_schema,  &xlb_backend_schema,
	&xlb_check_schema,  &xlb_pool_schema, &xlb_uplink_schema,
};

/* The smallest document: every key it lacks takes the reader's default. */
static const char minimal[] =
	"{\"pools\": [{\"name\": \"p\", \"addresses\": \"198.18.2.1\"}],"
	" \"uplinks\": [{\"interface\": \"eth1\","
	" \"gateway\": \"02:00:00:00:00:01\"}],"
	" \"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
	" \"backends\": [{\"addr\": \"198.18.31.2\"}]}]}";

/*
 * A document with every optional part (what may be null, a backend's own
 * check): the type of a key whose default is null, and every key path.
 */
static const char full[] = "{\"global\": {\"source_v4\": \"198.18.21.0/24\","
			   " \"source_v6\": \"2001:db8:21::/64\"},"
			   " \"pools\": [{\"name\": \"p\","
			   " \"addresses\": \"198.18.2.1\","
			   " \"subpool_ports\": 1024}],"
			   " \"uplinks\": [{\"interface\": \"eth1\","
			   " \"gateway\": \"198.18.0.254\"}],"
			   " \"vips\": [{\"vip\": \"198.19.0.1:80/tcp\","
			   " \"agent\": {\"kind\": \"agent\"},"
			   " \"backends\": [{\"addr\": \"198.18.31.2\","
			   " \"check\": {\"kind\": \"tcp\"}}]}]}";

struct defaults {
	struct xlb_model m, full;
	struct xlb_check_cfg check;
};

static int model_parse(const char *doc, const char *what, struct xlb_model *m)
{
	struct xlb_err err = {{0}};
	json_error_t jerr;
	json_t *j = json_loads(doc, 0, &jerr);
	int ret;

	if (!j)
		return -EINVAL;
	ret = xlb_model_from_json(j, m, &err);
	json_decref(j);
	if (ret)
		fprintf(stderr, "schema_dump: %s document: %s\n", what,
			err.msg);
	return ret;
}

static int defaults_load(struct defaults *d)
{
	if (model_parse(minimal, "minimal", &d->m))
		return -EINVAL;
	if (model_parse(full, "full", &d->full)) {
		xlb_model_free(&d->m);
		return -EINVAL;
	}
	xlb_check_init(&d->check);
	return 0;
}

static void defaults_free(struct defaults *d)
{
	xlb_model_free(&d->m);
	xlb_model_free(&d->full);
}

static const void *model_obj(const struct xlb_model *m,
			     const struct xlb_check_cfg *check,
			     const struct xlb_schema *s)
{
	if (s == &xlb_global_schema)
		return &m->global;
	if (s == &xlb_vip_schema)
		return &m->vips[0];
	if (s == &xlb_backend_schema)
		return &m->vips[0].backends[0];
	if (s == &xlb_pool_schema)
		return &m->pools[0];
	if (s == &xlb_uplink_schema)
		return &m->uplinks[0];
	return check;
}

static const void *default_obj(const struct defaults *d,
			       const struct xlb_schema *s)
{
	return model_obj(&d->m, &d->check, s);
}

/* The JSON type of a field's value where the full document sets it. */
static const char *full_type(const struct defaults *d,
			     const struct xlb_schema *s,
			     const struct xlb_field *f)
{
	json_t *j = xlb_field_to_json(
		f, model_obj(&d->full, d->full.vips[0].backends[0].check, s));
	const char *t = json_is_object(j)   ? "object or null"
			: json_is_string(j) ? "string or null"
					    : "null";

	json_decref(j);
	return t;
}

/* The default as JSON text (malloc'd), "" for ids: the maps give them. */
static char *default_text(const struct defaults *d, const struct xlb_schema *s,
			  const struct xlb_field *f)
{
	json_t *j;
	char *t;

	if (f->flags & XLB_FF_ID)
		return strdup("");
	if (f->flags & XLB_FF_REQUIRED)
		return strdup("required");
	j = xlb_field_to_json(f, default_obj(d, s));
	t = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	json_decref(j);
	return t ? t : strdup("?");
}

/* An enum's words: every value whose name parses back to it. */
static void enum_words(const struct xlb_field *f, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int v = 0; v < 256 && n < len; v++) {
		struct xlb_err err = {{0}};
		const char *name = f->name(v);
		__u8 back;

		if (f->parse(name, &back, &err) || back != v)
			continue;
		n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
	}
}

static const char *type_name(const struct defaults *d,
			     const struct xlb_schema *s,
			     const struct xlb_field *f, const char *def)
{
	switch (f->type) {
	case XLB_FT_UINT:
		return "integer";
	case XLB_FT_BOOL:
		return "boolean";
	case XLB_FT_STR:
	case XLB_FT_ENUM:
	case XLB_FT_FLAGS:
		return "string";
	case XLB_FT_CUSTOM:
		if (def[0] == '{')
			return "object";
		if (!strcmp(def, "null"))
			return full_type(d, s, f);
		return "string";
	}
	return "?";
}

static void range_text(const struct xlb_field *f, char *buf, size_t len)
{
	buf[0] = '\0';
	if (f->type == XLB_FT_UINT)
		snprintf(buf, len, "%lu..%lu", f->min, f->max);
	else if (f->type == XLB_FT_STR)
		snprintf(buf, len, "at most %zu bytes", f->size - 1);
	else if (f->type == XLB_FT_ENUM)
		enum_words(f, buf, len);
	else if (f->type == XLB_FT_FLAGS)
		snprintf(buf, len, "comma-separated");
	else if (f->type == XLB_FT_BOOL)
		snprintf(buf, len, "true, false");
}

static void dump_tsv(const struct defaults *d)
{
	char range[256];

	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
		const struct xlb_schema *s = schemas[i];

		for (size_t k = 0; k < s->n_fields; k++) {
			const struct xlb_field *f = &s->fields[k];
			char *def = default_text(d, s, f);

			range_text(f, range, sizeof(range));
			printf("%s\t%s\t%s%s%s\t%s\t%s\t%s\t%s\t%s\n",
			       s->object, f->json, f->opt ? f->opt : "",
			       f->neg ? "|" : "", f->neg ? f->neg : "",
			       type_name(d, s, f, def), range,
			       f->unit ? f->unit : "", def, f->help);
			free(def);
		}
	}
}

/* scdoc gives * and _ at word edges a meaning; the help has neither. */
static void dump_scd(const struct defaults *d, const struct xlb_schema *s)
{
	char range[256];

	for (size_t k = 0; k < s->n_fields; k++) {
		const struct xlb_field *f = &s->fields[k];
		char *def = default_text(d, s, f);

		range_text(f, range, sizeof(range));
		printf("*%s* (%s", f->json, type_name(d, s, f, def));
		if (range[0])
			printf("; %s%s",
			       f->type == XLB_FT_ENUM ? "one of " : "", range);
		if (f->unit)
			printf("; unit %s", f->unit);
		if (f->flags & XLB_FF_ID)
			printf("; state files only");
		else if (f->flags & XLB_FF_REQUIRED)
			printf("; required");
		else if (def[0] == '{')
			printf("; default: each key's own");
		else
			printf("; default %s", def);
		printf(")\n\t%s.", f->help);
		if (f->opt)
			printf(" CLI: *--%s*%s%s%s.", f->opt,
			       f->neg ? ", *--" : "", f->neg ? f->neg : "",
			       f->neg ? "*" : "");
		printf("\n\n");
		free(def);
	}
}

/* The options of xlb OBJECT that the table makes, as `OBJECT help`. */
static void dump_scd_opts(const struct defaults *d, const struct xlb_schema *s)
{
	char range[256];

	for (size_t k = 0; k < s->n_fields; k++) {
		const struct xlb_field *f = &s->fields[k];
		char *def;

		if (!f->opt)
			continue;
		def = default_text(d, s, f);
		range_text(f, range, sizeof(range));
		if (f->neg)
			printf("*--%s*, *--%s*\n", f->opt, f->neg);
		else if (f->type == XLB_FT_BOOL)
			printf("*--%s*\n", f->opt);
		else
			printf("*--%s* _%s_\n", f->opt, f->arg ? f->arg : "X");
		printf("\t%s", f->help);
		if (range[0] && f->type == XLB_FT_UINT)
			printf(" (%s%s%s)", range, f->unit ? " " : "",
			       f->unit ? f->unit : "");
		printf(". Key *%s*", f->json);
		if (!(f->flags & XLB_FF_REQUIRED))
			printf(", default %s", def);
		printf(".\n\n");
		free(def);
	}
}

/* Every key path of j, arrays as "[]", each once. */
static void walk(const json_t *j, const char *path)
{
	const char *key;
	json_t *v;
	char p[256];

	if (json_is_array(j)) {
		snprintf(p, sizeof(p), "%s[]", path);
		if (json_array_size(j))
			walk(json_array_get(j, 0), p);
		return;
	}
	if (!json_is_object(j))
		return;
	json_object_foreach((json_t *)j, key, v)
	{
		snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
		puts(p);
		walk(v, p);
	}
}

/* The writer's document of the full model: every key it can write. */
static int dump_keys(const struct defaults *d)
{
	json_t *j = xlb_model_to_json(&d->full, true);

	if (!j)
		return -ENOMEM;
	walk(j, "");
	json_decref(j);
	return 0;
}

static int check_file(const char *path)
{
	struct xlb_err err = {{0}};
	struct xlb_model m;
	size_t backends = 0;
	int ret;

	ret = xlb_model_load(path, &m, &err);
	if (ret) {
		fprintf(stderr, "schema_dump: %s\n",
			err.msg[0] ? err.msg : strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < m.n_vips; i++)
		backends += m.vips[i].n_backends;
	printf("%s: ok, %zu VIPs, %zu backends\n", path, m.n_vips, backends);
	xlb_model_free(&m);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "Usage: schema_dump [--keys | --scd OBJECT | "
			"--scd-opts OBJECT | --check FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct defaults d;
	int ret;

	if (argc == 3 && !strcmp(argv[1], "--check"))
		return check_file(argv[2]) ? 1 : 0;
	if (defaults_load(&d))
		return 1;
	if (argc == 1) {
		dump_tsv(&d);
		ret = 0;
	} else if (argc == 2 && !strcmp(argv[1], "--keys")) {
		ret = dump_keys(&d);
	} else if (argc == 3 && (!strcmp(argv[1], "--scd") ||
				 !strcmp(argv[1], "--scd-opts"))) {
		ret = -ENOENT;
		for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]);
		     i++) {
			if (strcmp(schemas[i]->object, argv[2]))
				continue;
			if (!strcmp(argv[1], "--scd"))
				dump_scd(&d, schemas[i]);
			else
				dump_scd_opts(&d, schemas[i]);
			ret = 0;
		}
		if (ret)
			fprintf(stderr, "schema_dump: no table '%s'\n",
				argv[2]);
	} else {
		defaults_free(&d);
		return usage();
	}
	defaults_free(&d);
	return ret ? 1 : 0;
}
