// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the field tables (user/lib/schema.c). They walk every row
 * of every table, so a field added to a table is tested without a line
 * here: the table is well formed; every field survives the trip model ->
 * JSON -> model and CLI text -> model with the same value; values out of
 * range, of the wrong type and unknown keys are refused with the path and
 * leave the object as it was.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "schema.h"

static const struct xlb_schema *const schemas[] = {
	&xlb_check_schema,  &xlb_vip_schema,  &xlb_backend_schema,
	&xlb_global_schema, &xlb_pool_schema, &xlb_uplink_schema,
};

#define N_SCHEMAS (sizeof(schemas) / sizeof(schemas[0]))
#define OBJ_MAX	  4096

/* An object of the schema's kind with the model's defaults. */
static void defaults(const struct xlb_schema *s, void *obj)
{
	memset(obj, 0, OBJ_MAX);
	if (s == &xlb_check_schema) {
		xlb_check_init(obj);
	} else if (s == &xlb_vip_schema) {
		struct xlb_vip_cfg *v = obj;
		struct xlb_err err = {{0}};

		assert_int_equal(
			xlb_parse_vip("198.19.0.1:80/tcp", &v->key, &err), 0);
		xlb_check_init(&v->check);
	} else if (s == &xlb_backend_schema) {
		struct xlb_backend_cfg *b = obj;
		struct xlb_err err = {{0}};

		assert_int_equal(xlb_parse_addr("198.18.1.1", &b->addr,
						&b->family, &err),
				 0);
		b->state = XLB_BACKEND_UP;
		b->weight = XLB_WEIGHT_DEFAULT;
	} else if (s == &xlb_global_schema) {
		struct xlb_model m;

		xlb_model_init(&m);
		memcpy(obj, &m.global, sizeof(m.global));
		xlb_model_free(&m);
	} else if (s == &xlb_pool_schema) {
		struct xlb_pool_cfg *p = obj;
		struct xlb_err err = {{0}};

		xlb_pool_init(p);
		snprintf(p->name, sizeof(p->name), "p1");
		assert_int_equal(xlb_parse_addr_range("198.18.2.1", &p->first,
						      &p->last, &p->family,
						      &err),
				 0);
	} else if (s == &xlb_uplink_schema) {
		struct xlb_uplink_cfg *u = obj;

		xlb_uplink_init(u);
		snprintf(u->ifname, sizeof(u->ifname), "eth1");
		assert_int_equal(
			xlb_parse_mac("02:00:00:00:00:01", u->gw_mac, NULL), 0);
		u->gw_is_mac = true;
	}
}

/*
 * A CUSTOM field with a CLI option: a value other than the default, as
 * its option's text (its JSON is the same string). A new one needs its
 * sample here, or test_cli_matches_json fails.
 */
static const struct {
	const char *json, *text;
} custom_samples[] = {
	{"ports", "2000-2999"},
	{"gateway", "198.18.0.1"},
};

static json_t *custom_value(const struct xlb_field *f, char *text, size_t len)
{
	for (size_t i = 0;
	     i < sizeof(custom_samples) / sizeof(custom_samples[0]); i++) {
		if (strcmp(custom_samples[i].json, f->json))
			continue;
		snprintf(text, len, "%s", custom_samples[i].text);
		return json_string(text);
	}
	fail_msg("%s: a CUSTOM option without a sample in test_schema.c",
		 f->json);
	return NULL;
}

static const char *field_at(const void *obj, const struct xlb_field *f)
{
	return (const char *)obj + f->offset;
}

/*
 * A valid value of the field other than its default, as JSON and as the
 * text of its CLI option.
 */
static json_t *other_value(const struct xlb_field *f, const void *dflt,
			   char *text, size_t len)
{
	unsigned long n;

	switch (f->type) {
	case XLB_FT_UINT:
		n = f->max;
		if (!memcmp(field_at(dflt, f), &n, f->size))
			n = f->min;
		snprintf(text, len, "%lu", n);
		return json_integer(n);
	case XLB_FT_BOOL:
		snprintf(text, len, "%s",
			 *(const __u8 *)field_at(dflt, f) ? "false" : "true");
		return json_boolean(!*(const __u8 *)field_at(dflt, f));
	case XLB_FT_STR:
		snprintf(text, len, "x-%s", f->json);
		return json_string(text);
	case XLB_FT_ENUM:
		/* The first value with a name that is not the default. */
		for (__u8 v = 0; v < 8; v++) {
			struct xlb_err err = {{0}};
			__u8 back;

			if (v == *(const __u8 *)field_at(dflt, f) ||
			    f->parse(f->name(v), &back, &err) || back != v)
				continue;
			snprintf(text, len, "%s", f->name(v));
			return json_string(text);
		}
		fail_msg("%s: no value but the default has a name", f->json);
	case XLB_FT_FLAGS:
		snprintf(text, len, "no-sport,dport-only");
		return json_string(text);
	case XLB_FT_CUSTOM:
		return custom_value(f, text, len);
	}
	return NULL;
}

static void test_tables_well_formed(void **state)
{
	(void)state;
	for (size_t k = 0; k < N_SCHEMAS; k++) {
		const struct xlb_schema *s = schemas[k];

		assert_true(s->n_fields > 0 && s->n_fields < 64);
		assert_true(s->obj_size <= OBJ_MAX);
		for (size_t i = 0; i < s->n_fields; i++) {
			const struct xlb_field *f = &s->fields[i];
			bool neg;

			assert_non_null(f->json);
			assert_non_null(f->help);
			assert_true(f->offset + f->size <= s->obj_size);
			/* Names are unique within the object. */
			assert_ptr_equal(xlb_schema_field(s, f->json), f);
			if (f->opt)
				assert_ptr_equal(
					xlb_schema_opt(s, f->opt, &neg), f);
			if (f->neg) {
				assert_int_equal(f->type, XLB_FT_BOOL);
				assert_ptr_equal(
					xlb_schema_opt(s, f->neg, &neg), f);
				assert_true(neg);
			}
			switch (f->type) {
			case XLB_FT_UINT:
				assert_true(f->size == 1 || f->size == 2 ||
					    f->size == 4);
				assert_true(f->min <= f->max);
				assert_true(
					f->max <=
					(f->size == 4
						 ? UINT32_MAX
						 : (1ul << (8 * f->size)) - 1));
				break;
			case XLB_FT_BOOL:
			case XLB_FT_ENUM:
				assert_int_equal(f->size, 1);
				assert_true(f->type == XLB_FT_BOOL ||
					    (f->parse && f->name));
				break;
			case XLB_FT_STR:
				assert_true(f->size > 1);
				break;
			case XLB_FT_FLAGS:
				assert_int_equal(f->size, 4);
				break;
			case XLB_FT_CUSTOM:
				/* Its option's text is its JSON string. */
				assert_true(f->decode && f->encode);
				break;
			}
			/* Kinds mean something for checks only. */
			assert_true((s == &xlb_check_schema) ==
				    (f->kinds != 0));
		}
	}
}

/* config -> model -> JSON -> model: the value comes back the same. */
static void test_json_round_trip(void **state)
{
	unsigned char dflt[OBJ_MAX], a[OBJ_MAX], b[OBJ_MAX];
	struct xlb_err err = {{0}};
	char text[160], path[64];

	(void)state;
	for (size_t k = 0; k < N_SCHEMAS; k++) {
		const struct xlb_schema *s = schemas[k];

		defaults(s, dflt);
		for (size_t i = 0; i < s->n_fields; i++) {
			const struct xlb_field *f = &s->fields[i];
			json_t *in, *out;
			unsigned long long seen = 0;

			/* Their codecs are test_config's. */
			if (f->type == XLB_FT_CUSTOM)
				continue;
			/* The whole default object, with this field changed. */
			in = json_object();
			out = json_object();
			assert_int_equal(
				xlb_schema_encode(s, dflt, -1, true, in), 0);
			json_object_set_new(
				in, f->json,
				other_value(f, dflt, text, sizeof(text)));
			memcpy(a, dflt, sizeof(a));
			snprintf(path, sizeof(path), "%s", s->object);
			if (xlb_schema_decode(s, in, path, NULL, a, &seen,
					      &err))
				fail_msg("%s.%s: %s", s->object, f->json,
					 err.msg);
			assert_true(seen & (1ull << i));
			assert_memory_not_equal(field_at(a, f),
						field_at(dflt, f), f->size);
			/* Every other field kept its value. */
			assert_memory_equal(a, dflt, f->offset);
			assert_memory_equal(field_at(a, f) + f->size,
					    field_at(dflt, f) + f->size,
					    s->obj_size - f->offset - f->size);
			assert_int_equal(xlb_schema_encode(s, a, -1, true, out),
					 0);
			memcpy(b, dflt, sizeof(b));
			if (xlb_schema_decode(s, out, path, NULL, b, NULL,
					      &err))
				fail_msg("%s.%s again: %s", s->object, f->json,
					 err.msg);
			assert_memory_equal(a, b, s->obj_size);
			json_decref(in);
			json_decref(out);
		}
	}
}

/* CLI option text -> model gives what the same value in JSON gives. */
static void test_cli_matches_json(void **state)
{
	unsigned char dflt[OBJ_MAX], a[OBJ_MAX], b[OBJ_MAX];
	struct xlb_err err = {{0}};
	char text[160];
	json_t *v;

	(void)state;
	for (size_t k = 0; k < N_SCHEMAS; k++) {
		const struct xlb_schema *s = schemas[k];

		defaults(s, dflt);
		for (size_t i = 0; i < s->n_fields; i++) {
			const struct xlb_field *f = &s->fields[i];
			bool neg = false;

			if (!f->opt)
				continue;
			v = other_value(f, dflt, text, sizeof(text));
			memcpy(a, dflt, sizeof(a));
			memcpy(b, dflt, sizeof(b));
			assert_int_equal(
				xlb_field_from_json(f, v, "x", a, &err), 0);
			if (f->type == XLB_FT_BOOL)
				/* A switch: --opt sets true, --neg false. */
				neg = !json_is_true(v);
			if (xlb_field_from_text(f, text, neg, b, &err))
				fail_msg("--%s %s: %s", f->opt, text, err.msg);
			assert_memory_equal(a, b, s->obj_size);
			json_decref(v);
		}
	}
}

/* Out of range or of the wrong type: refused with the path, no change. */
static void test_bad_values_refused(void **state)
{
	unsigned char dflt[OBJ_MAX], a[OBJ_MAX];
	struct xlb_err err = {{0}};
	char text[32], path[80];

	(void)state;
	for (size_t k = 0; k < N_SCHEMAS; k++) {
		const struct xlb_schema *s = schemas[k];

		defaults(s, dflt);
		for (size_t i = 0; i < s->n_fields; i++) {
			const struct xlb_field *f = &s->fields[i];
			/* An array is no value, and no flag either. */
			json_t *bad[4] = {NULL, NULL, NULL, NULL};
			size_t n = 1;

			if (f->type == XLB_FT_CUSTOM)
				continue;
			bad[0] = json_pack("[i]", 1);

			if (f->type == XLB_FT_UINT) {
				bad[n++] = json_integer((long long)f->max + 1);
				bad[n++] = json_integer((long long)f->min - 1);
				bad[n++] = json_string("1");
			} else if (f->type == XLB_FT_ENUM) {
				bad[n++] = json_string("no-such-name");
			} else {
				bad[n++] = json_integer(1);
			}
			snprintf(path, sizeof(path), "%s.%s", s->object,
				 f->json);
			for (size_t j = 0; j < n; j++) {
				memcpy(a, dflt, sizeof(a));
				assert_int_equal(xlb_field_from_json(f, bad[j],
								     path, a,
								     &err),
						 -EINVAL);
				assert_memory_equal(a, dflt, s->obj_size);
				assert_int_equal(
					strncmp(err.msg, path, strlen(path)),
					0);
				json_decref(bad[j]);
			}
			if (f->type != XLB_FT_UINT || f->max == UINT32_MAX)
				continue;
			snprintf(text, sizeof(text), "%lu", f->max + 1);
			assert_int_equal(
				xlb_field_from_text(f, text, false, a, &err),
				-EINVAL);
			assert_memory_equal(a, dflt, s->obj_size);
		}
	}
}

static void test_unknown_key(void **state)
{
	struct xlb_check_cfg c;
	struct xlb_err err = {{0}};
	const char *const skip[] = {"vip", NULL};
	json_t *j = json_pack("{s:s, s:s, s:i}", "vip", "x", "kind", "tcp",
			      "intervall_ms", 100);

	(void)state;
	xlb_check_init(&c);
	assert_int_equal(xlb_schema_decode(&xlb_check_schema, j,
					   "vips[0].check", skip, &c, NULL,
					   &err),
			 -EINVAL);
	assert_string_equal(err.msg,
			    "vips[0].check: unknown key 'intervall_ms'");
	json_decref(j);
}

/* subpool_ports is written only once chosen: 0 is "xlbd chooses". */
static void test_nonzero_omitted(void **state)
{
	unsigned char obj[OBJ_MAX];
	struct xlb_pool_cfg *p = (void *)obj;
	json_t *j = json_object();

	(void)state;
	defaults(&xlb_pool_schema, obj);
	assert_int_equal(xlb_schema_encode(&xlb_pool_schema, p, -1, true, j),
			 0);
	assert_null(json_object_get(j, "subpool_ports"));
	assert_non_null(json_object_get(j, "refill_percent"));
	p->subpool_ports = 1024;
	assert_int_equal(xlb_schema_encode(&xlb_pool_schema, p, -1, true, j),
			 0);
	assert_int_equal(
		json_integer_value(json_object_get(j, "subpool_ports")), 1024);
	json_decref(j);
}

/* A CUSTOM option takes its text; one without an option refuses it. */
static void test_custom_option_text(void **state)
{
	const struct xlb_field *ports =
		xlb_schema_field(&xlb_pool_schema, "ports");
	const struct xlb_field *addrs =
		xlb_schema_field(&xlb_pool_schema, "addresses");
	struct xlb_err err = {{0}};
	unsigned char obj[OBJ_MAX];
	struct xlb_pool_cfg p, before;

	(void)state;
	defaults(&xlb_pool_schema, obj);
	memcpy(&p, obj, sizeof(p));
	assert_int_equal(xlb_field_from_text(ports, "100-200", false, &p, &err),
			 0);
	assert_int_equal(p.port_lo, 100);
	assert_int_equal(p.port_hi, 200);
	assert_int_equal(xlb_field_from_text(ports, "8080", false, &p, &err),
			 0);
	assert_int_equal(p.port_lo, 8080);
	assert_int_equal(p.port_hi, 8080);
	before = p;
	assert_int_equal(xlb_field_from_text(ports, "0-5", false, &p, &err),
			 -EINVAL);
	/* From text: the bare why, no document path. */
	assert_string_equal(err.msg, "bad port range '0-5': expected LO-HI, "
				     "each 1..65535");
	assert_memory_equal(&p, &before, sizeof(p));
	assert_int_equal(
		xlb_field_from_text(addrs, "198.18.2.1", false, &p, &err),
		-EINVAL);
	assert_memory_equal(&p, &before, sizeof(p));
}

/* A pool without its addresses is no pool. */
static void test_pool_required(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_pool_cfg p;
	json_t *j = json_pack("{s:s}", "name", "p1");

	(void)state;
	xlb_pool_init(&p);
	assert_int_equal(xlb_schema_decode(&xlb_pool_schema, j, "pools[0]",
					   NULL, &p, NULL, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "pools[0]: missing key 'addresses'");
	json_decref(j);
	j = json_pack("{s:s, s:s}", "name", "p1", "addresses",
		      "198.18.2.1-2001:db8::1");
	assert_int_equal(xlb_schema_decode(&xlb_pool_schema, j, "pools[0]",
					   NULL, &p, NULL, &err),
			 -EINVAL);
	assert_string_equal(err.msg,
			    "pools[0].addresses: address range "
			    "'198.18.2.1-2001:db8::1' mixes IPv4 and IPv6");
	json_decref(j);
}

/* An uplink names its interface; its gateway is a string of one form. */
static void test_uplink_decode(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_uplink_cfg u;
	json_t *j = json_pack("{s:s}", "gateway", "02:00:00:00:00:01");

	(void)state;
	xlb_uplink_init(&u);
	assert_int_equal(xlb_schema_decode(&xlb_uplink_schema, j, "uplinks[0]",
					   NULL, &u, NULL, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "uplinks[0]: missing key 'interface'");
	json_decref(j);
	j = json_pack("{s:s, s:i}", "interface", "eth1", "gateway", 7);
	assert_int_equal(xlb_schema_decode(&xlb_uplink_schema, j, "uplinks[0]",
					   NULL, &u, NULL, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "uplinks[0].gateway: expected a string");
	json_decref(j);
	j = json_pack("{s:s, s:s}", "interface", "eth1", "gateway",
		      "02:00:00:00:00");
	assert_int_equal(xlb_schema_decode(&xlb_uplink_schema, j, "uplinks[0]",
					   NULL, &u, NULL, &err),
			 -EINVAL);
	assert_string_equal(err.msg,
			    "uplinks[0].gateway: bad gateway '02:00:00:00:00': "
			    "expected a MAC (aa:bb:cc:dd:ee:ff) or an address");
	json_decref(j);
	j = json_pack("{s:s, s:s}", "interface", "eth1234567890abc", "gateway",
		      "02:00:00:00:00:01");
	assert_int_equal(xlb_schema_decode(&xlb_uplink_schema, j, "uplinks[0]",
					   NULL, &u, NULL, &err),
			 -EINVAL);
	assert_string_equal(err.msg,
			    "uplinks[0].interface: longer than 15 characters");
	json_decref(j);
	j = json_pack("{s:s, s:i}", "interface", "eth1", "share", 0);
	assert_int_equal(xlb_schema_decode(&xlb_uplink_schema, j, "uplinks[0]",
					   NULL, &u, NULL, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "uplinks[0].share"));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_well_formed),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_cli_matches_json),
		cmocka_unit_test(test_bad_values_refused),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_nonzero_omitted),
		cmocka_unit_test(test_custom_option_text),
		cmocka_unit_test(test_pool_required),
		cmocka_unit_test(test_uplink_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
