/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * One printing path for humans and machines, after iproute2's
 * print_*(PRINT_ANY, ...): every command prints each value once, with its
 * JSON key and its text format, and -j decides which one shows. In JSON
 * mode the values build one document (a root object) that print_end
 * writes as one line; in text mode they are written as they come, or,
 * inside a table, collected as cells and printed aligned when the table
 * closes.
 *
 * Text format: NULL prints nothing outside a table and the bare value
 * inside one. Keys: NULL inside an array (values are appended).
 */
#ifndef XLB_CLI_PRINT_H
#define XLB_CLI_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

enum print_type {
	PRINT_TEXT = 1,
	PRINT_JSON = 2,
	PRINT_ANY = PRINT_TEXT | PRINT_JSON,
};

void print_set_json(bool on);
bool print_is_json(void);

/* A document: JSON mode starts a root object, print_end writes it. */
void print_begin(void);
void print_end(void);
/* Drops what was built (an error replaces the output). */
void print_discard(void);

/* Containers: JSON only, text ignores them. */
void open_object(const char *key);
void close_object(void);
void open_array(const char *key);
void close_array(void);

void print_string(enum print_type t, const char *key, const char *fmt,
		  const char *val);
void print_uint(enum print_type t, const char *key, const char *fmt,
		unsigned long long val);
/* Signed: for values where -1 means none (a sub-pool's CPU). */
void print_int(enum print_type t, const char *key, const char *fmt,
	       long long val);
void print_float(enum print_type t, const char *key, const char *fmt,
		 double val);
void print_bool(enum print_type t, const char *key, const char *fmt, bool val);
/* Text only: a fixed string, or a newline. */
void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_nl(void);

/*
 * Fields of a JSON object received from xlbd, printed like the above. A
 * missing field is left out of JSON, shows as "-" in a table and not at
 * all outside one, so a newer or older daemon never makes the CLI print a
 * made-up value.
 */
void print_jstring(enum print_type t, const char *key, const char *fmt,
		   const json_t *obj);
void print_juint(enum print_type t, const char *key, const char *fmt,
		 const json_t *obj);
void print_jbool(enum print_type t, const char *key, const char *fmt,
		 const json_t *obj);
void print_jint(enum print_type t, const char *key, const char *fmt,
		const json_t *obj);
void print_jfloat(enum print_type t, const char *key, const char *fmt,
		  const json_t *obj);

/*
 * Tables. Text: a header of titles, then one line per row, columns as
 * wide as their widest cell; each PRINT_TEXT value of a row is the next
 * cell. JSON: an array under key of one object per row, or, when keyed,
 * an object holding each row under the key given to row_open.
 */
struct column {
	const char *title;
	bool right; /* numbers are right-aligned */
};

void table_open(const char *key, bool keyed, const struct column *cols,
		size_t n_cols);
void row_open(const char *key);
void row_close(void);
void table_close(void);

#endif /* XLB_CLI_PRINT_H */
