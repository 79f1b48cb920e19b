/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Helpers shared by the unit tests, header-only (static inline) so every
 * test binary stays one object linked with libxlb. A helper fails the
 * running test with a message rather than return an error.
 */
#ifndef XLB_TEST_HELPERS_H
#define XLB_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model.h"

/* The VIP key of its text form ("198.19.0.1:80/tcp"). */
static inline struct xlb_vip_key vkey(const char *s)
{
	struct xlb_err err = {{0}};
	struct xlb_vip_key k;

	if (xlb_parse_vip(s, &k, &err))
		fail_msg("cannot parse VIP '%s': %s", s, err.msg);
	return k;
}

#endif /* XLB_TEST_HELPERS_H */
