/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The log of xlbd, xlb and xlb-agent: one line per message on stderr,
 * "PROG: message", filtered by syslog level (LOG_ERR ... LOG_DEBUG from
 * <syslog.h>): LOG_NOTICE and above always, each -v one level more. The
 * messages of libbpf and libxdp go through the same filter (their
 * warnings count as LOG_WARNING, info as LOG_INFO, debug as LOG_DEBUG) and
 * are never shown without -v: they are for debugging.
 */
#ifndef XLB_LOG_H
#define XLB_LOG_H

#include <stdarg.h>
#include <syslog.h>
#include <bpf/libbpf.h>

/*
 * Names the program (the prefix of every line) and sets the verbosity
 * (the number of -v); installs xlb_log_libbpf for libbpf and libxdp.
 * Call it first thing, and again once the options are parsed.
 */
void xlb_log_init(const char *prog, int verbosity);

/* One line at a syslog level; no newline in fmt. */
void xlb_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The libbpf print callback (libbpf_set_print) of every program. */
int xlb_log_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap);

#endif /* XLB_LOG_H */
