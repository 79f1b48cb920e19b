// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Placeholder of xlbd's full-NAT side (nat.h): filled by the allocator. */
#include "nat.h"
#include "xlbd.h"

int xlbd_nat_assign(struct xlbd *d, const struct xlb_model *cur,
		    struct xlb_model *next, struct xlb_err *err)
{
	(void)d, (void)cur, (void)next, (void)err;
	return 0;
}

int xlbd_nat_apply(struct xlbd *d, const struct xlb_model *cur,
		   const struct xlb_model *next, struct xlb_err *err)
{
	(void)d, (void)cur, (void)next, (void)err;
	return 0;
}

int xlbd_nat_init(struct xlbd *d)
{
	(void)d;
	return 0;
}

void xlbd_nat_free(struct xlbd *d)
{
	(void)d;
}

int xlbd_nat_pool_json(struct xlbd *d, const struct xlb_pool_cfg *p,
		       json_t *obj)
{
	(void)d, (void)p, (void)obj;
	return 0;
}
