// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The field tables of the model objects (schema.h): one row per field, in
 * the order written documents carry them, and the codecs of the rows that
 * are more than a value. Adding a field to the config file, the control
 * protocol and the CLI is adding its row here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"

#define FIELD(type, member) offsetof(type, member), sizeof(((type *)0)->member)
#define CHECK(m)	    FIELD(struct xlb_check_cfg, m)
#define VIP(m)		    FIELD(struct xlb_vip_cfg, m)
#define BACKEND(m)	    FIELD(struct xlb_backend_cfg, m)
#define GLOBAL(m)	    FIELD(struct xlb_global_cfg, m)
#define HTTP		    XLB_KIND_BIT(XLB_CHECK_HTTP)
#define HTTPS		    XLB_KIND_BIT(XLB_CHECK_HTTPS)
#define UDP		    XLB_KIND_BIT(XLB_CHECK_UDP)
#define EXEC		    XLB_KIND_BIT(XLB_CHECK_EXEC)
#define AGENT		    XLB_KIND_BIT(XLB_CHECK_AGENT)
#define ALL_KINDS	    (XLB_KINDS_ANY | XLB_KIND_BIT(XLB_CHECK_NONE) | AGENT)

/* ---- fields that are more than a value --------------------------------- */

/* A string member handed to a text parser; its words follow the path. */
static int text_decode(const json_t *v, const char *path,
		       int (*parse)(const char *s, void *out,
				    struct xlb_err *err),
		       void *out, struct xlb_err *err)
{
	struct xlb_err why = {{0}};

	if (!json_is_string(v))
		return xlb_schema_err(err, path, "expected a string");
	if (parse(json_string_value(v), out, &why))
		return xlb_schema_err(err, path, "%s", why.msg);
	return 0;
}

static int parse_vip_key(const char *s, void *out, struct xlb_err *err)
{
	return xlb_parse_vip(s, out, err);
}

static int vip_key_decode(const struct xlb_field *f, const json_t *v,
			  const char *path, void *obj, struct xlb_err *err)
{
	return text_decode(v, path, parse_vip_key, (char *)obj + f->offset,
			   err);
}

static json_t *vip_key_encode(const struct xlb_field *f, const void *obj)
{
	const struct xlb_vip_key *k =
		(const void *)((const char *)obj + f->offset);
	char buf[XLB_VIP_STRLEN];

	return json_string(xlb_format_vip(k, buf, sizeof(buf)));
}

/* A backend's address and family. */
static int parse_backend_addr(const char *s, void *out, struct xlb_err *err)
{
	struct xlb_backend_cfg *b = out;

	return xlb_parse_addr(s, &b->addr, &b->family, err);
}

static int addr_decode(const struct xlb_field *f, const json_t *v,
		       const char *path, void *obj, struct xlb_err *err)
{
	(void)f;
	return text_decode(v, path, parse_backend_addr, obj, err);
}

static json_t *addr_encode(const struct xlb_field *f, const void *obj)
{
	const struct xlb_backend_cfg *b = obj;
	char buf[XLB_ADDR_STRLEN];

	(void)f;
	return json_string(
		xlb_format_addr(&b->addr, b->family, buf, sizeof(buf)));
}

/*
 * A source prefix of the global settings: "ADDR/LEN" of the row's family
 * (its max: 32 or 128), or null for none. Its length is the member right
 * after the address in struct xlb_global_cfg.
 */
static __u8 *prefix_len(const struct xlb_field *f, void *obj)
{
	return f->max == 32 ? &((struct xlb_global_cfg *)obj)->src4_plen
			    : &((struct xlb_global_cfg *)obj)->src6_plen;
}

static __u8 prefix_family(const struct xlb_field *f)
{
	return f->max == 32 ? XLB_AF_INET : XLB_AF_INET6;
}

static int prefix_decode(const struct xlb_field *f, const json_t *v,
			 const char *path, void *obj, struct xlb_err *err)
{
	union xlb_addr *a = (void *)((char *)obj + f->offset);
	struct xlb_err why = {{0}};
	union xlb_addr parsed;
	__u8 fam, plen;

	if (json_is_null(v)) {
		memset(a, 0, sizeof(*a));
		*prefix_len(f, obj) = 0;
		return 0;
	}
	if (!json_is_string(v))
		return xlb_schema_err(err, path, "expected a string or null");
	if (xlb_parse_prefix(json_string_value(v), &parsed, &fam, &plen, &why))
		return xlb_schema_err(err, path, "%s", why.msg);
	if (fam != prefix_family(f))
		return xlb_schema_err(err, path, "'%s' is not an %s prefix",
				      json_string_value(v),
				      prefix_family(f) == XLB_AF_INET ? "IPv4"
								      : "IPv6");
	*a = parsed;
	*prefix_len(f, obj) = plen;
	return 0;
}

static json_t *prefix_encode(const struct xlb_field *f, const void *obj)
{
	const union xlb_addr *a = (const void *)((const char *)obj + f->offset);
	char as[XLB_ADDR_STRLEN], buf[XLB_ADDR_STRLEN + 8];
	__u8 plen = *prefix_len(f, (void *)obj);

	if (!plen)
		return json_null();
	snprintf(buf, sizeof(buf), "%s/%u",
		 xlb_format_addr(a, prefix_family(f), as, sizeof(as)), plen);
	return json_string(buf);
}

/* A VIP's check, inherited by its backends. */
static int vip_check_decode(const struct xlb_field *f, const json_t *v,
			    const char *path, void *obj, struct xlb_err *err)
{
	return xlb_check_decode(v, path, NULL, false,
				(void *)((char *)obj + f->offset), err);
}

static json_t *vip_check_encode(const struct xlb_field *f, const void *obj)
{
	return xlb_check_encode((const void *)((const char *)obj + f->offset));
}

/* A VIP's balance classes: "none", "bytes", "packets", "bytes,packets". */
static const char *const balance_names[] = {
	[0] = "none",
	[XLB_BALANCE_BYTES] = "bytes",
	[XLB_BALANCE_PACKETS] = "packets",
	[XLB_BALANCE_ALL] = "bytes,packets",
};

static int parse_balance(const char *s, __u8 *v, struct xlb_err *err)
{
	for (__u8 i = 0; i <= XLB_BALANCE_ALL; i++) {
		if (strcmp(s, balance_names[i]))
			continue;
		*v = i;
		return 0;
	}
	if (!strcmp(s, "packets,bytes")) {
		*v = XLB_BALANCE_ALL;
		return 0;
	}
	xlb_err_set(err,
		    "unknown balance '%s': expected none, bytes, packets "
		    "or bytes,packets",
		    s);
	return -EINVAL;
}

static const char *balance_name(__u8 v)
{
	return v <= XLB_BALANCE_ALL ? balance_names[v] : "unknown";
}

/* A VIP's agent check: null when it has none, so files stay short. */
static int vip_agent_decode(const struct xlb_field *f, const json_t *v,
			    const char *path, void *obj, struct xlb_err *err)
{
	struct xlb_check_cfg *c = (void *)((char *)obj + f->offset);

	if (!json_is_null(v))
		return vip_check_decode(f, v, path, obj, err);
	/* The model gives a VIP without an agent the defaults (vip_add). */
	c->kind = XLB_CHECK_NONE;
	return 0;
}

static json_t *vip_agent_encode(const struct xlb_field *f, const void *obj)
{
	const struct xlb_check_cfg *c =
		(const void *)((const char *)obj + f->offset);

	return c->kind == XLB_CHECK_NONE ? json_null()
					 : vip_check_encode(f, obj);
}

/* ---- the tables -------------------------------------------------------- */

static const struct xlb_field check_fields[] = {
	{.json = "kind",
	 .opt = "kind",
	 .type = XLB_FT_ENUM,
	 CHECK(kind),
	 .kinds = ALL_KINDS,
	 .parse = xlb_parse_check_kind,
	 .name = xlb_check_kind_name,
	 .flags = XLB_FF_REQUIRED,
	 .arg = "KIND",
	 .help = "tcp, http, https, udp, exec or none; agent: the VIP's "
		 "load reports"},
	{.json = "tunnel",
	 .opt = "tunnel",
	 .neg = "plain",
	 .type = XLB_FT_BOOL,
	 CHECK(tunnel),
	 .kinds = XLB_KINDS_SOCK,
	 .help = "through the tunnel to VIP:port (default), or --plain to the "
		 "backend's own address"},
	/* An exec check gets it as XLB_PORT. */
	{.json = "port",
	 .opt = "port",
	 .type = XLB_FT_UINT,
	 CHECK(port),
	 .max = 65535,
	 .kinds = XLB_KINDS_ANY | AGENT,
	 .arg = "PORT",
	 .help = "port to check; 0 = the VIP's (an agent's: 5555)"},
	{.json = "interval_ms",
	 .opt = "interval",
	 .type = XLB_FT_UINT,
	 CHECK(interval_ms),
	 .min = XLB_CHECK_INTERVAL_MS_MIN,
	 .max = XLB_CHECK_INTERVAL_MS_MAX,
	 .unit = "ms",
	 .kinds = XLB_KINDS_ANY | AGENT,
	 .arg = "MS",
	 .help = "time between two checks"},
	{.json = "timeout_ms",
	 .opt = "timeout",
	 .type = XLB_FT_UINT,
	 CHECK(timeout_ms),
	 .min = 1,
	 .max = XLB_CHECK_INTERVAL_MS_MAX,
	 .unit = "ms",
	 .kinds = XLB_KINDS_ANY | AGENT,
	 .arg = "MS",
	 .help = "a check without an answer by then failed; below the "
		 "interval"},
	{.json = "rise",
	 .opt = "rise",
	 .type = XLB_FT_UINT,
	 CHECK(rise),
	 .min = 1,
	 .max = XLB_CHECK_RUN_MAX,
	 .kinds = XLB_KINDS_ANY,
	 .arg = "N",
	 .help = "good results in a row to come up"},
	{.json = "fall",
	 .opt = "fall",
	 .type = XLB_FT_UINT,
	 CHECK(fall),
	 .min = 1,
	 .max = XLB_CHECK_RUN_MAX,
	 .kinds = XLB_KINDS_ANY,
	 .arg = "N",
	 .help = "bad results in a row to go down"},
	{.json = "http_path",
	 .opt = "path",
	 .type = XLB_FT_STR,
	 CHECK(http_path),
	 .kinds = HTTP | HTTPS,
	 .arg = "PATH",
	 .help = "the path to GET"},
	{.json = "http_status",
	 .opt = "status",
	 .type = XLB_FT_UINT,
	 CHECK(http_status),
	 .min = 100,
	 .max = 599,
	 .kinds = HTTP | HTTPS,
	 .arg = "CODE",
	 .help = "the status a healthy backend answers"},
	{.json = "http_body",
	 .opt = "body",
	 .type = XLB_FT_STR,
	 CHECK(http_body),
	 .kinds = HTTP | HTTPS,
	 .arg = "TEXT",
	 .help = "text the body must contain; empty = any body"},
	{.json = "udp_send",
	 .opt = "send",
	 .type = XLB_FT_STR,
	 CHECK(udp_send),
	 .kinds = UDP,
	 .arg = "TEXT",
	 .help = "the datagram to send"},
	{.json = "udp_expect",
	 .opt = "expect",
	 .type = XLB_FT_STR,
	 CHECK(udp_expect),
	 .kinds = UDP,
	 .arg = "TEXT",
	 .help = "text the answer must contain; empty = any answer"},
	{.json = "exec_cmd",
	 .opt = "cmd",
	 .type = XLB_FT_STR,
	 CHECK(exec_cmd),
	 .kinds = EXEC,
	 .arg = "CMD",
	 .help = "/bin/sh -c CMD with XLB_BACKEND, XLB_VIP, XLB_PORT; exit 0 "
		 "= healthy"},
	{.json = "tls_sni",
	 .opt = "sni",
	 .type = XLB_FT_STR,
	 CHECK(tls_sni),
	 .kinds = HTTPS,
	 .arg = "NAME",
	 .help = "server name sent in the TLS handshake (and verified "
		 "with --verify); empty = none"},
	{.json = "tls_verify",
	 .opt = "verify",
	 .neg = "no-verify",
	 .type = XLB_FT_BOOL,
	 CHECK(tls_verify),
	 .kinds = HTTPS,
	 .help = "verify the backend's certificate (default: not, as "
		 "HAProxy's checks)"},
	{.json = "tls_ca",
	 .opt = "ca",
	 .type = XLB_FT_STR,
	 CHECK(tls_ca),
	 .kinds = HTTPS,
	 .arg = "FILE",
	 .help = "CA certificates (PEM) to verify with; empty = the system's "
		 "store"},
};

/* A VIP but its backends (config.c adds them one by one to the model). */
static const struct xlb_field vip_fields[] = {
	{.json = "vip",
	 .type = XLB_FT_CUSTOM,
	 VIP(key),
	 .decode = vip_key_decode,
	 .encode = vip_key_encode,
	 .flags = XLB_FF_REQUIRED,
	 .help = "ADDR:PORT/PROTO, [V6]:PORT/PROTO, or port-less ADDR/PROTO"},
	{.json = "flags",
	 .opt = "flags",
	 .type = XLB_FT_FLAGS,
	 VIP(flags),
	 .arg = "FLAGS",
	 .help = "no-sport, no-flow-table, dport-only or none"},
	{.json = "encap",
	 .opt = "encap",
	 .type = XLB_FT_ENUM,
	 VIP(encap),
	 .parse = xlb_parse_encap,
	 .name = xlb_encap_name,
	 .arg = "ENCAP",
	 .help = "default (the global one), ipip or gue"},
	{.json = "ring_size",
	 .opt = "ring-size",
	 .type = XLB_FT_UINT,
	 VIP(ring_size),
	 .max = XLB_RING_SIZE_MAX,
	 .arg = "PRIME",
	 .help = "slots of the Maglev table, a prime; 0 = the default"},
	{.json = "vip_id",
	 .type = XLB_FT_UINT,
	 VIP(vip_id),
	 .max = XLB_MAX_VIPS - 1,
	 .flags = XLB_FF_ID,
	 .help = "its id in the maps; 0 = not yet given"},
	{.json = "check",
	 .type = XLB_FT_CUSTOM,
	 VIP(check),
	 .decode = vip_check_decode,
	 .encode = vip_check_encode,
	 .help = "the health check its backends inherit"},
	{.json = "all_down",
	 .opt = "all-down",
	 .type = XLB_FT_ENUM,
	 VIP(all_down),
	 .parse = xlb_parse_all_down,
	 .name = xlb_all_down_name,
	 .arg = "drop|keep",
	 .help = "with every backend down: drop new traffic, or keep the "
		 "last ring"},
	{.json = "on_check_down",
	 .opt = "on-check-down",
	 .type = XLB_FT_ENUM,
	 VIP(on_check_down),
	 .parse = xlb_parse_check_down,
	 .name = xlb_check_down_name,
	 .arg = "keep|move",
	 .help = "established flows of a backend its check takes down: keep "
		 "them (default) or move them"},
	{.json = "slow_start_ms",
	 .opt = "slow-start",
	 .type = XLB_FT_UINT,
	 VIP(slow_start_ms),
	 .max = XLB_SLOW_START_MS_MAX,
	 .unit = "ms",
	 .arg = "MS",
	 .help = "weight ramp of a backend back from down"},
	{.json = "agent",
	 .type = XLB_FT_CUSTOM,
	 VIP(agent),
	 .decode = vip_agent_decode,
	 .encode = vip_agent_encode,
	 .help = "the agent check asking each backend its load (kind "
		 "agent)"},
	{.json = "balance",
	 .opt = "balance",
	 .type = XLB_FT_ENUM,
	 VIP(balance),
	 .parse = parse_balance,
	 .name = balance_name,
	 .arg = "CLASSES",
	 .help = "correct weights by measured share: none, bytes, packets "
		 "or bytes,packets"},
	{.json = "balance_window_ms",
	 .opt = "balance-window",
	 .type = XLB_FT_UINT,
	 VIP(balance_window_ms),
	 .max = XLB_BALANCE_WINDOW_MS_MAX,
	 .unit = "ms",
	 .arg = "MS",
	 .help = "the window shares are measured over; 0 = 10000"},
	{.json = "mode",
	 .opt = "mode",
	 .type = XLB_FT_ENUM,
	 VIP(mode),
	 .parse = xlb_parse_vip_mode,
	 .name = xlb_vip_mode_name,
	 .arg = "dsr|nat",
	 .help = "dsr: encapsulate, backends answer clients directly; nat: "
		 "full-NAT through its pool"},
	{.json = "pool",
	 .opt = "pool",
	 .type = XLB_FT_STR,
	 VIP(pool),
	 .arg = "NAME",
	 .help = "the client-NAT pool of a nat VIP (its family); \"\" for dsr"},
};

/* A backend but its own check (which the model allocates). */
static const struct xlb_field backend_fields[] = {
	{.json = "addr",
	 .type = XLB_FT_CUSTOM,
	 BACKEND(addr),
	 .decode = addr_decode,
	 .encode = addr_encode,
	 .flags = XLB_FF_REQUIRED,
	 .help = "its own IPv4 or IPv6 address"},
	{.json = "weight",
	 .opt = "weight",
	 .type = XLB_FT_UINT,
	 BACKEND(weight),
	 .max = XLB_WEIGHT_MAX,
	 .arg = "N",
	 .help = "relative share of new flows; 0 = none"},
	{.json = "state",
	 .opt = "state",
	 .type = XLB_FT_ENUM,
	 BACKEND(state),
	 .parse = xlb_parse_state,
	 .name = xlb_state_name,
	 .arg = "STATE",
	 .help = "the operator's: up, drain (keeps its flows) or down"},
	{.json = "id",
	 .type = XLB_FT_UINT,
	 BACKEND(id),
	 .max = XLB_MAX_BACKENDS - 1,
	 .flags = XLB_FF_ID,
	 .help = "its id in the maps; 0 = not yet given"},
};

static const struct xlb_field global_fields[] = {
	{.json = "encap",
	 .type = XLB_FT_ENUM,
	 GLOBAL(encap),
	 .parse = xlb_parse_encap,
	 .name = xlb_encap_name,
	 .help = "encapsulation of VIPs that name none"},
	{.json = "ttl",
	 .type = XLB_FT_UINT,
	 GLOBAL(ttl),
	 .min = 1,
	 .max = 255,
	 .help = "TTL or hop limit of the outer header"},
	{.json = "gue_port",
	 .type = XLB_FT_UINT,
	 GLOBAL(gue_port),
	 .min = 1,
	 .max = 65535,
	 .help = "UDP port of GUE"},
	{.json = "mtu",
	 .type = XLB_FT_UINT,
	 GLOBAL(mtu),
	 .max = 65535,
	 .help = "largest outer packet; 0 = no check"},
	/* max: the longest length of the prefix, which names its family. */
	{.json = "source_v4",
	 .type = XLB_FT_CUSTOM,
	 GLOBAL(src4),
	 .max = 32,
	 .decode = prefix_decode,
	 .encode = prefix_encode,
	 .help = "IPv4 prefix of outer sources; null = the interface's "
		 "address"},
	{.json = "source_v6",
	 .type = XLB_FT_CUSTOM,
	 GLOBAL(src6),
	 .max = 128,
	 .decode = prefix_decode,
	 .encode = prefix_encode,
	 .help = "IPv6 prefix of outer sources; null = the interface's "
		 "address"},
	{.json = "flow_rate_limit",
	 .type = XLB_FT_UINT,
	 GLOBAL(flow_rate_limit),
	 .max = UINT32_MAX,
	 .unit = "/s",
	 .help = "new flows a CPU inserts per second; 0 = no limit"},
	{.json = "udp_timeout_ms",
	 .type = XLB_FT_UINT,
	 GLOBAL(udp_timeout_ms),
	 .max = UINT32_MAX,
	 .unit = "ms",
	 .help = "idle time after which a UDP flow is forgotten; 0 = never"},
	{.json = "flap_count",
	 .type = XLB_FT_UINT,
	 GLOBAL(flap_count),
	 .max = XLB_FLAP_COUNT_MAX,
	 .help = "changes of health within the window that hold a backend "
		 "down; 0 = no damping"},
	{.json = "flap_window_ms",
	 .type = XLB_FT_UINT,
	 GLOBAL(flap_window_ms),
	 .min = XLB_FLAP_MS_MIN,
	 .max = XLB_FLAP_MS_MAX,
	 .unit = "ms",
	 .help = "the window flap_count counts in"},
	{.json = "flap_hold_ms",
	 .type = XLB_FT_UINT,
	 GLOBAL(flap_hold_ms),
	 .min = XLB_FLAP_MS_MIN,
	 .max = XLB_FLAP_MS_MAX,
	 .unit = "ms",
	 .help = "how long a flapping backend is held down"},
	{.json = "nat_tcp_timeout_ms",
	 .type = XLB_FT_UINT,
	 GLOBAL(nat_tcp_timeout_ms),
	 .min = XLB_NAT_TIMEOUT_MS_MIN,
	 .max = XLB_NAT_TIMEOUT_MS_MAX,
	 .unit = "ms",
	 .help = "idle time after which an established full-NAT TCP "
		 "connection is forgotten"},
	{.json = "nat_tcp_closing_ms",
	 .type = XLB_FT_UINT,
	 GLOBAL(nat_tcp_closing_ms),
	 .min = XLB_NAT_TIMEOUT_MS_MIN,
	 .max = XLB_NAT_TIMEOUT_MS_MAX,
	 .unit = "ms",
	 .help = "the same once one side sent a FIN"},
	{.json = "nat_udp_timeout_ms",
	 .type = XLB_FT_UINT,
	 GLOBAL(nat_udp_timeout_ms),
	 .min = XLB_NAT_TIMEOUT_MS_MIN,
	 .max = XLB_NAT_TIMEOUT_MS_MAX,
	 .unit = "ms",
	 .help = "idle time after which a full-NAT UDP flow is forgotten"},
	{.json = "nat_linger_ms",
	 .type = XLB_FT_UINT,
	 GLOBAL(nat_linger_ms),
	 .max = XLB_NAT_LINGER_MS_MAX,
	 .unit = "ms",
	 .help = "how long a closed or reset connection's port stays held, "
		 "and a used-up sub-pool waits before reuse"},
};

#define SCHEMA(obj, f, type)                                                   \
	{                                                                      \
		obj, f, sizeof(f) / sizeof(f[0]), sizeof(type)                 \
	}

const struct xlb_schema xlb_check_schema =
	SCHEMA("check", check_fields, struct xlb_check_cfg);
const struct xlb_schema xlb_vip_schema =
	SCHEMA("vip", vip_fields, struct xlb_vip_cfg);
const struct xlb_schema xlb_backend_schema =
	SCHEMA("backend", backend_fields, struct xlb_backend_cfg);
const struct xlb_schema xlb_global_schema =
	SCHEMA("global", global_fields, struct xlb_global_cfg);
