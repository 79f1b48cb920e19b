// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The printing helpers of print.h. The JSON side keeps a stack of open
 * containers; the text side keeps the cells of the one open table.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"

#define MAX_DEPTH 16
#define MAX_COLS  16

static bool json_on;
static json_t *stack[MAX_DEPTH];
static int depth; /* stack[depth - 1] is the open container */

static struct {
	bool open;
	const struct column *cols;
	size_t n_cols;
	char **cells; /* n_rows * n_cols, row-major */
	size_t n_rows, cap_rows;
	size_t cell; /* next cell of the current row */
} tbl;

void print_set_json(bool on)
{
	json_on = on;
}

bool print_is_json(void)
{
	return json_on;
}

void print_begin(void)
{
	print_discard();
	if (json_on)
		stack[depth++] = json_object();
}

void print_discard(void)
{
	if (depth > 0)
		json_decref(stack[0]);
	depth = 0;
}

void print_end(void)
{
	char *s;

	if (!json_on || depth == 0) {
		fflush(stdout);
		return;
	}
	/* An empty document (a change that succeeded) prints nothing. */
	if (json_object_size(stack[0]) > 0) {
		s = json_dumps(stack[0], JSON_COMPACT | JSON_ENSURE_ASCII |
						 JSON_REAL_PRECISION(10));
		if (s) {
			puts(s);
			free(s);
		}
	}
	print_discard();
	fflush(stdout);
}

/* Adds v (stolen) to the open container under key. */
static void add(const char *key, json_t *v)
{
	json_t *top;

	if (!v || depth == 0) {
		json_decref(v);
		return;
	}
	top = stack[depth - 1];
	if (json_is_array(top))
		json_array_append_new(top, v);
	else
		json_object_set_new(top, key ? key : "", v);
}

static void push(const char *key, json_t *c)
{
	if (!json_on || depth == 0 || depth == MAX_DEPTH) {
		json_decref(c);
		return;
	}
	add(key, json_incref(c));
	stack[depth++] = c;
	json_decref(c);
}

static void pop(void)
{
	if (json_on && depth > 1)
		depth--;
}

void open_object(const char *key)
{
	if (json_on)
		push(key, json_object());
}

void close_object(void)
{
	pop();
}

void open_array(const char *key)
{
	if (json_on)
		push(key, json_array());
}

void close_array(void)
{
	pop();
}

/* Text side: a cell of the open table, or straight to stdout. */
static void text_out(const char *fmt, const char *formatted)
{
	size_t i;

	if (!tbl.open) {
		if (fmt)
			fputs(formatted, stdout);
		return;
	}
	if (tbl.n_rows == 0 || tbl.cell >= tbl.n_cols)
		return;
	i = (tbl.n_rows - 1) * tbl.n_cols + tbl.cell++;
	free(tbl.cells[i]);
	tbl.cells[i] = strdup(formatted);
}

/*
 * Formats the value (the one variadic argument) with fmt, or with dflt
 * inside a table when fmt is NULL. Callers pass a fmt whose conversion
 * matches the value's type: %s, %llu or a floating one.
 */
static void text_vout(const char *fmt, const char *dflt, ...)
{
	char buf[512];
	va_list ap;

	if (!fmt && !tbl.open)
		return;
	va_start(ap, dflt);
	vsnprintf(buf, sizeof(buf), fmt ? fmt : dflt, ap);
	va_end(ap);
	text_out(fmt, buf);
}

void print_string(enum print_type t, const char *key, const char *fmt,
		  const char *val)
{
	if (json_on) {
		if (t & PRINT_JSON)
			add(key, val ? json_string(val) : json_null());
	} else if (t & PRINT_TEXT) {
		text_vout(fmt, "%s", val ? val : "-");
	}
}

void print_uint(enum print_type t, const char *key, const char *fmt,
		unsigned long long val)
{
	if (json_on) {
		if (t & PRINT_JSON)
			add(key, json_integer((json_int_t)val));
	} else if (t & PRINT_TEXT) {
		text_vout(fmt, "%llu", val);
	}
}

void print_int(enum print_type t, const char *key, const char *fmt,
	       long long val)
{
	if (json_on) {
		if (t & PRINT_JSON)
			add(key, json_integer((json_int_t)val));
	} else if (t & PRINT_TEXT) {
		text_vout(fmt, "%lld", val);
	}
}

void print_float(enum print_type t, const char *key, const char *fmt,
		 double val)
{
	if (json_on) {
		if (t & PRINT_JSON)
			add(key, json_real(val));
	} else if (t & PRINT_TEXT) {
		text_vout(fmt, "%.2f", val);
	}
}

void print_bool(enum print_type t, const char *key, const char *fmt, bool val)
{
	if (json_on) {
		if (t & PRINT_JSON)
			add(key, json_boolean(val));
	} else if (t & PRINT_TEXT) {
		text_vout(fmt, "%s", val ? "yes" : "no");
	}
}

void print_text(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (json_on)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	text_out("", buf);
}

void print_nl(void)
{
	if (!json_on && !tbl.open)
		putchar('\n');
}

/* A field xlbd left out: "-" in a table, nothing outside one. */
static void print_missing(enum print_type t)
{
	if (!json_on && (t & PRINT_TEXT) && tbl.open)
		text_out("", "-");
}

void print_jstring(enum print_type t, const char *key, const char *fmt,
		   const json_t *obj)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (s)
		print_string(t, key, fmt, s);
	else
		print_missing(t);
}

void print_jbool(enum print_type t, const char *key, const char *fmt,
		 const json_t *obj)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_boolean(v))
		print_bool(t, key, fmt, json_is_true(v));
	else
		print_missing(t);
}

void print_juint(enum print_type t, const char *key, const char *fmt,
		 const json_t *obj)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		print_uint(t, key, fmt, json_integer_value(v));
	else
		print_missing(t);
}

void print_jint(enum print_type t, const char *key, const char *fmt,
		const json_t *obj)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		print_int(t, key, fmt, json_integer_value(v));
	else
		print_missing(t);
}

void print_jfloat(enum print_type t, const char *key, const char *fmt,
		  const json_t *obj)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_number(v))
		print_float(t, key, fmt, json_number_value(v));
	else
		print_missing(t);
}

void table_open(const char *key, bool keyed, const struct column *cols,
		size_t n_cols)
{
	if (json_on) {
		if (keyed)
			open_object(key);
		else
			open_array(key);
		return;
	}
	memset(&tbl, 0, sizeof(tbl));
	tbl.open = true;
	tbl.cols = cols;
	tbl.n_cols = n_cols < MAX_COLS ? n_cols : MAX_COLS;
}

void row_open(const char *key)
{
	char **cells;

	if (json_on) {
		open_object(key);
		return;
	}
	if (tbl.n_rows == tbl.cap_rows) {
		size_t cap = tbl.cap_rows ? tbl.cap_rows * 2 : 16;

		cells = realloc(tbl.cells, cap * tbl.n_cols * sizeof(*cells));
		if (!cells) {
			tbl.cell = tbl.n_cols; /* the row's cells are dropped */
			return;
		}
		tbl.cells = cells;
		tbl.cap_rows = cap;
	}
	cells = &tbl.cells[tbl.n_rows * tbl.n_cols];
	memset(cells, 0, tbl.n_cols * sizeof(*cells));
	tbl.n_rows++;
	tbl.cell = 0;
}

void row_close(void)
{
	if (json_on)
		close_object();
	else
		tbl.cell = tbl.n_cols;
}

static void print_cell(const char *s, size_t width, bool right, bool last)
{
	if (right)
		printf("%*s", (int)width, s);
	else if (last)
		fputs(s, stdout);
	else
		printf("%-*s", (int)width, s);
}

void table_close(void)
{
	size_t w[MAX_COLS] = {0};

	if (json_on) {
		pop();
		return;
	}
	tbl.open = false;
	if (tbl.n_rows == 0)
		goto out;
	for (size_t c = 0; c < tbl.n_cols; c++) {
		w[c] = strlen(tbl.cols[c].title);
		for (size_t r = 0; r < tbl.n_rows; r++) {
			const char *s = tbl.cells[r * tbl.n_cols + c];

			if (s && strlen(s) > w[c])
				w[c] = strlen(s);
		}
	}
	for (size_t c = 0; c < tbl.n_cols; c++) {
		print_cell(tbl.cols[c].title, w[c], tbl.cols[c].right,
			   c + 1 == tbl.n_cols);
		fputs(c + 1 == tbl.n_cols ? "\n" : "  ", stdout);
	}
	for (size_t r = 0; r < tbl.n_rows; r++) {
		for (size_t c = 0; c < tbl.n_cols; c++) {
			const char *s = tbl.cells[r * tbl.n_cols + c];

			print_cell(s ? s : "", w[c], tbl.cols[c].right,
				   c + 1 == tbl.n_cols);
			fputs(c + 1 == tbl.n_cols ? "\n" : "  ", stdout);
		}
	}
out:
	for (size_t i = 0; i < tbl.n_rows * tbl.n_cols; i++)
		free(tbl.cells[i]);
	free(tbl.cells);
	memset(&tbl, 0, sizeof(tbl));
}
