// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Messages for the operator: whatever rejects input says why in a
 * struct xlb_err, which every layer (model, text forms, control protocol,
 * config files) fills the same way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

void xlb_err_set(struct xlb_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* Puts "what: " in front of the message already in err. */
void xlb_err_prefix(struct xlb_err *err, const char *what)
{
	char old[sizeof(err->msg)];

	if (!err)
		return;
	memcpy(old, err->msg, sizeof(old));
	xlb_err_set(err, "%s: %s", what, old);
}

int xlb_err_path(struct xlb_err *err, const char *path, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xlb_err_set(err, "%s: %s", path, msg);
	return -EINVAL;
}
