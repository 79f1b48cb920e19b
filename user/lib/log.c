// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The one log of the programs (log.h): stderr, a prefix, a level filter,
 * and the callback the BPF libraries print through.
 */
#include <stdbool.h>
#include <stdio.h>
#include <xdp/libxdp.h>
#include "log.h"

static const char *log_prog;
static int log_verbosity;

static bool log_shown(int level)
{
	return level <= LOG_NOTICE + log_verbosity;
}

void xlb_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (!log_shown(level))
		return;
	/* One line even when threads log at once (xlbd's metrics). */
	flockfile(stderr);
	if (log_prog)
		fprintf(stderr, "%s: ", log_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

int xlb_log_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int sys;

	switch (level) {
	case LIBBPF_WARN:
		sys = LOG_WARNING;
		break;
	case LIBBPF_INFO:
		sys = LOG_INFO;
		break;
	default:
		sys = LOG_DEBUG;
		break;
	}
	if (!log_verbosity || !log_shown(sys))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* libxdp's levels are libbpf's, by value. */
static int log_libxdp(enum libxdp_print_level level, const char *fmt,
		      va_list ap)
{
	return xlb_log_libbpf((enum libbpf_print_level)level, fmt, ap);
}

void xlb_log_init(const char *prog, int verbosity)
{
	log_prog = prog;
	log_verbosity = verbosity;
	libbpf_set_print(xlb_log_libbpf);
	libxdp_set_print(log_libxdp);
}
