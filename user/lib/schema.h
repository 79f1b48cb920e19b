/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * One table of field descriptors per model object (global settings, VIP,
 * backend, health check): its JSON name, CLI option, type, place in the
 * struct, range, unit, the check kinds it means something to, and its
 * help. The config file, the control protocol and the CLI are decoded by
 * these tables, and the config file and `check show` encoded by them, so
 * a new field is one row here plus its use. A field that is more than a
 * value (a VIP's key, a backend's address, a source prefix, a VIP's
 * check) is a CUSTOM row with its own pair of functions; a list that
 * grows the model (a VIP's backends) and a backend's own check (which the
 * model allocates) stay with their object's decoder in config.c. A row's
 * place is its key's place in written documents.
 */
#ifndef XLB_SCHEMA_H
#define XLB_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "model.h"

enum xlb_field_type {
	XLB_FT_UINT,   /* unsigned integer of 1, 2 or 4 bytes, in [min, max] */
	XLB_FT_BOOL,   /* __u8, 0 or 1; JSON true/false */
	XLB_FT_STR,    /* char[size], NUL-terminated, no NUL inside */
	XLB_FT_ENUM,   /* __u8 named by parse/name */
	XLB_FT_FLAGS,  /* __u32 VIP flags, "no-sport,dport-only" */
	XLB_FT_CUSTOM, /* decode and encode below */
};

struct xlb_field;
typedef int (*xlb_field_decode_fn)(const struct xlb_field *f, const json_t *v,
				   const char *path, void *obj,
				   struct xlb_err *err);
typedef json_t *(*xlb_field_encode_fn)(const struct xlb_field *f,
				       const void *obj);

/* xlb_field.flags */
#define XLB_FF_REQUIRED 0x1 /* a document without it is refused */
#define XLB_FF_ID	0x2 /* a map id: written in state files only */
/* A UINT written only when not 0 (0: "not chosen yet", the default). */
#define XLB_FF_NONZERO 0x4

/* A bit per check kind, for xlb_field.kinds. */
#define XLB_KIND_BIT(k) (1u << (k))
#define XLB_KINDS_SOCK                                                         \
	(XLB_KIND_BIT(XLB_CHECK_TCP) | XLB_KIND_BIT(XLB_CHECK_HTTP) |          \
	 XLB_KIND_BIT(XLB_CHECK_UDP) | XLB_KIND_BIT(XLB_CHECK_HTTPS))
#define XLB_KINDS_ANY (XLB_KINDS_SOCK | XLB_KIND_BIT(XLB_CHECK_EXEC))

struct xlb_field {
	const char *json; /* key in the config file and the protocol */
	/*
	 * CLI option without its dashes ("interval" is --interval); NULL: not
	 * an option. neg is a switch that sets a BOOL field false ("plain"
	 * for "tunnel"); the option of a BOOL field is a switch setting it.
	 * A CUSTOM field's option text is decoded as the JSON string it is.
	 */
	const char *opt;
	const char *neg;
	enum xlb_field_type type;
	size_t offset, size;
	unsigned long min, max; /* UINT */
	const char *unit;	/* "ms", "s" ...; NULL: none */
	/* Check fields: XLB_KIND_BIT()s of the kinds it applies to. */
	unsigned int kinds;
	int (*parse)(const char *s, __u8 *v, struct xlb_err *err); /* ENUM */
	const char *(*name)(__u8 v);				   /* ENUM */
	xlb_field_decode_fn decode;				   /* CUSTOM */
	xlb_field_encode_fn encode;				   /* CUSTOM */
	unsigned int flags; /* XLB_FF_* */
	const char *arg;    /* the option's argument in help: "MS", "PATH" */
	const char *help;   /* one line */
};

struct xlb_schema {
	const char *object; /* "check", "vip", "backend", "global", "pool",
			     "uplink" */
	const struct xlb_field *fields;
	size_t n_fields;
	size_t obj_size; /* sizeof the struct the offsets are in */
};

extern const struct xlb_schema xlb_check_schema;
extern const struct xlb_schema xlb_vip_schema;
extern const struct xlb_schema xlb_backend_schema;
extern const struct xlb_schema xlb_global_schema;
/* A client-NAT pool (schema_pool.c). */
extern const struct xlb_schema xlb_pool_schema;
/* An egress uplink (schema_uplink.c). */
extern const struct xlb_schema xlb_uplink_schema;

/* Sets err to "PATH: why" (the bare why when path is NULL); -EINVAL. */
int xlb_schema_err(struct xlb_err *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Look-ups: NULL when the object has no such field. */
const struct xlb_field *xlb_schema_field(const struct xlb_schema *s,
					 const char *json);
/* By option name; *neg tells whether it was the field's negating switch. */
const struct xlb_field *xlb_schema_opt(const struct xlb_schema *s,
				       const char *opt, bool *neg);
/* Whether a check field means anything to a check of that kind. */
bool xlb_field_applies(const struct xlb_field *f, __u8 kind);
/* The same by the field's JSON name ("http_path"); false for no field. */
bool xlb_check_field_applies(__u8 kind, const char *field);

/*
 * One field's value from JSON (type and range checked) into obj, or from
 * the text of a CLI option (for a BOOL field: a switch, text NULL, set to
 * !neg). 0 or -EINVAL with err set to "PATH: why" (from JSON) or the bare
 * why (from text).
 */
int xlb_field_from_json(const struct xlb_field *f, const json_t *v,
			const char *path, void *obj, struct xlb_err *err);
int xlb_field_from_text(const struct xlb_field *f, const char *text, bool neg,
			void *obj, struct xlb_err *err);
/* One field of obj as JSON (a new reference; NULL on allocation failure). */
json_t *xlb_field_to_json(const struct xlb_field *f, const void *obj);

/*
 * Decodes every member of the JSON object j into obj: a member named in
 * the NULL-terminated list skip is left to the caller, any other unknown
 * one is an error ("PATH: unknown key 'x'"), and so is a REQUIRED field
 * that is missing ("PATH: missing key 'x'") and not the caller's. seen (may be
 * NULL) gets bit i for field i that was present. Fields absent keep obj's
 * values.
 */
int xlb_schema_decode(const struct xlb_schema *s, const json_t *j,
		      const char *path, const char *const *skip, void *obj,
		      unsigned long long *seen, struct xlb_err *err);
/*
 * Sets every field of obj into the JSON object out, in the table's order;
 * ID fields only with with_ids; with a check kind (kind >= 0), only the
 * fields that apply to it (the kind itself included). A NONZERO field
 * at 0 is left out.
 */
int xlb_schema_encode(const struct xlb_schema *s, const void *obj, int kind,
		      bool with_ids, json_t *out);

/*
 * A health check from a document (every field may be there, whatever the
 * kind: documents are written so) or from a request (strict: a field that
 * does not apply to the kind is refused, so an option never silently does
 * nothing). *c is initialised here: what is not given takes the default;
 * "kind" is required; a missing timeout_ms defaults from the interval.
 * The check is validated alone (not the VIP's port rule). Members named
 * in skip are the caller's.
 */
int xlb_check_decode(const json_t *j, const char *path, const char *const *skip,
		     bool strict, struct xlb_check_cfg *c, struct xlb_err *err);
/* A check as in documents: every key (kind NONE shows the defaults). */
json_t *xlb_check_encode(const struct xlb_check_cfg *c);
/* Prints the options of the schema, one per line, for `OBJECT help`. */
void xlb_schema_help(const struct xlb_schema *s, FILE *out);

#endif /* XLB_SCHEMA_H */
