// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The field table of an egress uplink (schema.h, model.h): its interface
 * (the uplink's name), its gateway, MTU and target share, and the id
 * xlbd gave it (state files only). Apart from schema_tables.c because
 * uplinks are a room of their own: egress, beside the VIPs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"

#define UPLINK(m)                                                              \
	offsetof(struct xlb_uplink_cfg, m),                                    \
		sizeof(((struct xlb_uplink_cfg *)0)->m)

/*
 * A MAC ("aa:bb:cc:dd:ee:ff") is the gateway as given; an address is
 * one xlbd resolves. Either replaces the other whole, so a set never
 * leaves a stale half behind.
 */
static int gateway_decode(const struct xlb_field *f, const json_t *v,
			  const char *path, void *obj, struct xlb_err *err)
{
	struct xlb_uplink_cfg *u = obj;
	struct xlb_err why = {{0}};
	union xlb_addr a;
	const char *s;
	__u8 mac[6], family;

	(void)f;
	if (!json_is_string(v))
		return xlb_schema_err(err, path, "expected a string");
	s = json_string_value(v);
	if (!xlb_parse_mac(s, mac, NULL)) {
		memset(&u->gw_addr, 0, sizeof(u->gw_addr));
		u->gw_family = 0;
		memcpy(u->gw_mac, mac, sizeof(mac));
		u->gw_is_mac = true;
		return 0;
	}
	if (xlb_parse_addr(s, &a, &family, &why))
		return xlb_schema_err(err, path,
				      "bad gateway '%s': expected a MAC "
				      "(aa:bb:cc:dd:ee:ff) or an address",
				      s);
	memset(u->gw_mac, 0, sizeof(u->gw_mac));
	u->gw_is_mac = false;
	u->gw_addr = a;
	u->gw_family = family;
	return 0;
}

static json_t *gateway_encode(const struct xlb_field *f, const void *obj)
{
	const struct xlb_uplink_cfg *u = obj;
	char buf[XLB_ADDR_STRLEN];

	(void)f;
	if (u->gw_is_mac)
		return json_string(xlb_format_mac(u->gw_mac, buf, sizeof(buf)));
	if (!u->gw_family)
		return json_null(); /* none yet: refused by validation */
	return json_string(
		xlb_format_addr(&u->gw_addr, u->gw_family, buf, sizeof(buf)));
}

static const struct xlb_field uplink_fields[] = {
	{.json = "interface",
	 .type = XLB_FT_STR,
	 UPLINK(ifname),
	 .flags = XLB_FF_REQUIRED,
	 .help = "the interface it leaves by, also its name: 1..15 "
		 "characters, no slash, colon or blank"},
	{.json = "gateway",
	 .opt = "gateway",
	 .type = XLB_FT_CUSTOM,
	 UPLINK(gw_mac),
	 .decode = gateway_decode,
	 .encode = gateway_encode,
	 .flags = XLB_FF_REQUIRED,
	 .arg = "MAC|ADDR",
	 .help = "its next hop: a MAC (aa:bb:cc:dd:ee:ff) used as given, or "
		 "a unicast address xlbd resolves and keeps resolved"},
	{.json = "mtu",
	 .opt = "mtu",
	 .type = XLB_FT_UINT,
	 UPLINK(mtu),
	 .max = 65535,
	 .unit = "bytes",
	 .arg = "N",
	 .help = "largest outer IP packet on it, 576..65535; 0 = the global "
		 "mtu"},
	{.json = "share",
	 .opt = "share",
	 .type = XLB_FT_UINT,
	 UPLINK(share),
	 .min = 1,
	 .max = XLB_UPLINK_SHARE_MAX,
	 .arg = "N",
	 .help = "its target share of the bytes, relative to the other "
		 "uplinks'"},
	{.json = "id",
	 .type = XLB_FT_UINT,
	 UPLINK(id),
	 .max = XLB_MAX_UPLINKS - 1,
	 .flags = XLB_FF_ID,
	 .help = "its id in the maps; 0 = not yet given"},
};

const struct xlb_schema xlb_uplink_schema = {"uplink", uplink_fields,
					     sizeof(uplink_fields) /
						     sizeof(uplink_fields[0]),
					     sizeof(struct xlb_uplink_cfg)};
