// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The field table of a client-NAT pool (schema.h, model.h): its name,
 * addresses and ports, how xlbd cuts it into sub-pools, and the layout
 * xlbd gave it (state files only). Apart from schema_tables.c because a
 * pool is a room of its own: full-NAT's, beside the VIPs that name it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"

#define POOL(m)                                                                \
	offsetof(struct xlb_pool_cfg, m), sizeof(((struct xlb_pool_cfg *)0)->m)

/* "FIRST-LAST" or one address: family, first and last together. */
static int addresses_decode(const struct xlb_field *f, const json_t *v,
			    const char *path, void *obj, struct xlb_err *err)
{
	struct xlb_pool_cfg *p = obj;
	struct xlb_err why = {{0}};

	(void)f;
	if (!json_is_string(v))
		return xlb_schema_err(err, path, "expected a string");
	if (xlb_parse_addr_range(json_string_value(v), &p->first, &p->last,
				 &p->family, &why))
		return xlb_schema_err(err, path, "%s", why.msg);
	return 0;
}

static json_t *addresses_encode(const struct xlb_field *f, const void *obj)
{
	const struct xlb_pool_cfg *p = obj;
	char buf[2 * XLB_ADDR_STRLEN];

	(void)f;
	return json_string(xlb_format_addr_range(&p->first, &p->last, p->family,
						 buf, sizeof(buf)));
}

/* "LO-HI" or one port, into port_lo and port_hi. */
static int ports_decode(const struct xlb_field *f, const json_t *v,
			const char *path, void *obj, struct xlb_err *err)
{
	struct xlb_pool_cfg *p = obj;
	struct xlb_err why = {{0}};

	(void)f;
	if (!json_is_string(v))
		return xlb_schema_err(err, path, "expected a string");
	if (xlb_parse_port_range(json_string_value(v), &p->port_lo, &p->port_hi,
				 &why))
		return xlb_schema_err(err, path, "%s", why.msg);
	return 0;
}

/* Always "LO-HI", one port too: the form says what it is. */
static json_t *ports_encode(const struct xlb_field *f, const void *obj)
{
	const struct xlb_pool_cfg *p = obj;
	char buf[16];

	(void)f;
	snprintf(buf, sizeof(buf), "%u-%u", p->port_lo, p->port_hi);
	return json_string(buf);
}

static const struct xlb_field pool_fields[] = {
	{.json = "name",
	 .type = XLB_FT_STR,
	 POOL(name),
	 .flags = XLB_FF_REQUIRED,
	 .help = "what a nat VIP names: 1..31 letters, digits, dots, dashes or "
		 "underscores"},
	{.json = "addresses",
	 .type = XLB_FT_CUSTOM,
	 POOL(first),
	 .decode = addresses_decode,
	 .encode = addresses_encode,
	 .flags = XLB_FF_REQUIRED,
	 .help = "FIRST-LAST or one address, unicast, of one family; IPv6: "
		 "the same first 96 bits"},
	{.json = "ports",
	 .opt = "ports",
	 .type = XLB_FT_CUSTOM,
	 POOL(port_lo),
	 .decode = ports_decode,
	 .encode = ports_encode,
	 .arg = "LO-HI",
	 .help = "the ports of each address it hands out"},
	/* Written when xlbd has chosen it (or the operator did). */
	{.json = "subpool_ports",
	 .opt = "subpool-ports",
	 .type = XLB_FT_UINT,
	 POOL(subpool_ports),
	 .max = 65535,
	 .flags = XLB_FF_NONZERO,
	 .arg = "N",
	 .help = "ports of a sub-pool, the block a CPU takes at once; 0 = "
		 "chosen by xlbd"},
	{.json = "refill_percent",
	 .opt = "refill-percent",
	 .type = XLB_FT_UINT,
	 POOL(refill_percent),
	 .min = 1,
	 .max = 90,
	 .unit = "%",
	 .arg = "P",
	 .help = "a CPU gets another sub-pool when its free ports fall below "
		 "this share of one"},
	{.json = "pool_id",
	 .type = XLB_FT_UINT,
	 POOL(pool_id),
	 .max = XLB_MAX_POOLS - 1,
	 .flags = XLB_FF_ID,
	 .help = "its id in the maps; 0 = not yet given"},
	{.json = "subpool_base",
	 .type = XLB_FT_UINT,
	 POOL(subpool_base),
	 .max = XLB_MAX_SUBPOOLS - 1,
	 .flags = XLB_FF_ID,
	 .help = "the id of its first sub-pool; 0 = not yet given"},
	{.json = "n_subpools",
	 .type = XLB_FT_UINT,
	 POOL(n_subpools),
	 .max = XLB_MAX_SUBPOOLS - 1,
	 .flags = XLB_FF_ID,
	 .help = "how many sub-pools it was cut into"},
};

const struct xlb_schema xlb_pool_schema = {
	"pool", pool_fields, sizeof(pool_fields) / sizeof(pool_fields[0]),
	sizeof(struct xlb_pool_cfg)};
