// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Placeholder of xlbd's uplink side (uplink.h): filled by its module. */
#include "uplink.h"
#include "xlbd.h"

int xlbd_uplink_assign(struct xlbd *d, const struct xlb_model *cur,
		       struct xlb_model *next, struct xlb_err *err)
{
	(void)d, (void)cur, (void)next, (void)err;
	return 0;
}

int xlbd_uplink_apply(struct xlbd *d, const struct xlb_model *cur,
		      const struct xlb_model *next, struct xlb_err *err)
{
	(void)d, (void)cur, (void)next, (void)err;
	return 0;
}

int xlbd_uplink_init(struct xlbd *d)
{
	(void)d;
	return 0;
}

void xlbd_uplink_free(struct xlbd *d)
{
	(void)d;
}

int xlbd_uplink_json(struct xlbd *d, const struct xlb_uplink_cfg *u,
		     json_t *obj)
{
	(void)d, (void)u, (void)obj;
	return 0;
}

bool xlbd_uplinks_serving(struct xlbd *d)
{
	(void)d;
	return true;
}
