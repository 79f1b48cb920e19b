/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The error type every layer of libxlb fills when it rejects input: one
 * message for the operator, set with printf-style formatting.
 */
#ifndef XLB_ERR_H
#define XLB_ERR_H

/* An error message for the operator, filled by whatever rejects input. */
struct xlb_err {
	char msg[256];
};

/* Both do nothing when err is NULL, so callers may not want the why. */
void xlb_err_set(struct xlb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Puts "what: " in front of the message already in err. */
void xlb_err_prefix(struct xlb_err *err, const char *what);
/*
 * Sets err to "path: message" (path: where in a document the input was
 * rejected) and returns -EINVAL, for config readers' one-line returns.
 */
int xlb_err_path(struct xlb_err *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* XLB_ERR_H */
