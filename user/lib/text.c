// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The text forms of the model's values: addresses, VIPs, prefixes, VIP
 * flags, enum names and strict unsigned numbers. Every tool parses and
 * prints through these, so all accept exactly the same syntax.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* For the names of the model's enums (check kinds, all_down, ...). */
#include "model.h"

int xlb_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out, struct xlb_err *err)
{
	unsigned long v = 0;
	bool over = false;

	if (!s || !*s) {
		xlb_err_set(err, "expected a number %lu..%lu, not ''", min,
			    max);
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		unsigned int d = (unsigned char)*p - '0';

		/* Digits only: strtoul would take signs, spaces and 0x. */
		if (d > 9) {
			xlb_err_set(err, "bad number '%s': expected %lu..%lu",
				    s, min, max);
			return -EINVAL;
		}
		if (v > (ULONG_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (over || v < min || v > max) {
		xlb_err_set(err, "number %s out of range %lu..%lu", s, min,
			    max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int xlb_parse_addr(const char *s, union xlb_addr *a, __u8 *family,
		   struct xlb_err *err)
{
	union xlb_addr tmp;

	memset(&tmp, 0, sizeof(tmp));
	if (!s || !*s) {
		xlb_err_set(err, "empty address");
		return -EINVAL;
	}
	if (inet_pton(AF_INET, s, &tmp.v4) == 1) {
		*family = XLB_AF_INET;
	} else if (inet_pton(AF_INET6, s, tmp.bytes) == 1) {
		*family = XLB_AF_INET6;
	} else {
		xlb_err_set(err, "bad address '%s': expected IPv4 or IPv6", s);
		return -EINVAL;
	}
	*a = tmp;
	return 0;
}

const char *xlb_format_addr(const union xlb_addr *a, __u8 family, char *buf,
			    size_t len)
{
	int af = family == XLB_AF_INET	  ? AF_INET
		 : family == XLB_AF_INET6 ? AF_INET6
					  : -1;

	if (af < 0 || !inet_ntop(af, a->bytes, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *xlb_proto_name(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

#define VIP_SYNTAX "expected ADDR[:PORT]/tcp|udp"

/* Cuts "/PROTO" off buf (a copy of s) and parses it. */
static int vip_split_proto(char *buf, const char *s, __u8 *proto,
			   struct xlb_err *err)
{
	char *slash = strrchr(buf, '/');
	const char *name;

	if (!slash) {
		xlb_err_set(err, "missing protocol in '%s': " VIP_SYNTAX, s);
		return -EINVAL;
	}
	*slash = '\0';
	name = slash + 1;
	if (!strcasecmp(name, "tcp")) {
		*proto = IPPROTO_TCP;
	} else if (!strcasecmp(name, "udp")) {
		*proto = IPPROTO_UDP;
	} else {
		xlb_err_set(err,
			    "unknown protocol '%s' in '%s': expected tcp "
			    "or udp",
			    name, s);
		return -EINVAL;
	}
	return 0;
}

/*
 * Splits buf (s without its protocol) into the address and the port, if
 * any: "[ADDR]:PORT", "[ADDR]", "ADDR:PORT" or "ADDR".
 */
static int vip_split_host(char *buf, const char *s, char **addr,
			  const char **port, struct xlb_err *err)
{
	char *close, *colon;

	*addr = buf;
	*port = NULL;
	if (*buf == '[') {
		close = strchr(buf, ']');
		if (!close) {
			xlb_err_set(err, "unbalanced '[' in '%s': " VIP_SYNTAX,
				    s);
			return -EINVAL;
		}
		*close = '\0';
		*addr = buf + 1;
		if (close[1] == ':') {
			*port = close + 2;
		} else if (close[1]) {
			xlb_err_set(err,
				    "unexpected '%s' after ']' in "
				    "'%s': " VIP_SYNTAX,
				    close + 1, s);
			return -EINVAL;
		}
		return 0;
	}
	if (strchr(buf, ']')) {
		xlb_err_set(err, "unbalanced ']' in '%s': " VIP_SYNTAX, s);
		return -EINVAL;
	}
	colon = strchr(buf, ':');
	/*
	 * Two colons or more: IPv6 without brackets. Refused, since
	 * "2001:db8::1:80" is an address and may be meant as a port.
	 */
	if (colon && strchr(colon + 1, ':')) {
		xlb_err_set(err,
			    "IPv6 address in '%s' needs brackets: "
			    "[ADDR]:PORT/PROTO, or [ADDR]/PROTO for "
			    "every port",
			    s);
		return -EINVAL;
	}
	if (colon) {
		*colon = '\0';
		*port = colon + 1;
	}
	return 0;
}

int xlb_parse_vip(const char *s, struct xlb_vip_key *k, struct xlb_err *err)
{
	char buf[XLB_VIP_STRLEN];
	struct xlb_vip_key key;
	const char *port;
	unsigned long p = 0;
	char *addr;

	memset(&key, 0, sizeof(key));
	if (!s || !*s) {
		xlb_err_set(err, "empty VIP: " VIP_SYNTAX);
		return -EINVAL;
	}
	if (strlen(s) >= sizeof(buf)) {
		xlb_err_set(err, "VIP '%.32s...' too long: " VIP_SYNTAX, s);
		return -EINVAL;
	}
	strcpy(buf, s);
	if (vip_split_proto(buf, s, &key.proto, err) ||
	    vip_split_host(buf, s, &addr, &port, err))
		return -EINVAL;
	if (!*addr) {
		xlb_err_set(err, "missing address in '%s': " VIP_SYNTAX, s);
		return -EINVAL;
	}
	if (xlb_parse_addr(addr, &key.addr, &key.family, err))
		return -EINVAL;
	if (buf[0] == '[' && key.family != XLB_AF_INET6) {
		xlb_err_set(err, "brackets in '%s' are for IPv6 addresses only",
			    s);
		return -EINVAL;
	}
	/* Port 0 is only ever written by leaving the port out. */
	if (port && xlb_parse_uint(port, 1, 65535, &p, NULL)) {
		xlb_err_set(err,
			    "bad port '%s' in '%s': expected 1..65535 "
			    "(leave it out for every port)",
			    port, s);
		return -EINVAL;
	}
	key.port = htons(p);
	*k = key;
	return 0;
}

const char *xlb_format_vip(const struct xlb_vip_key *k, char *buf, size_t len)
{
	char as[XLB_ADDR_STRLEN], pn[8];
	const char *proto = xlb_proto_name(k->proto, pn, sizeof(pn));
	bool v6 = k->family == XLB_AF_INET6;

	xlb_format_addr(&k->addr, k->family, as, sizeof(as));
	if (k->port)
		snprintf(buf, len, "%s%s%s:%u/%s", v6 ? "[" : "", as,
			 v6 ? "]" : "", ntohs(k->port), proto);
	else
		snprintf(buf, len, "%s%s%s/%s", v6 ? "[" : "", as,
			 v6 ? "]" : "", proto);
	return buf;
}

int xlb_parse_prefix(const char *s, union xlb_addr *a, __u8 *family, __u8 *plen,
		     struct xlb_err *err)
{
	char buf[XLB_ADDR_STRLEN + 8];
	union xlb_addr addr;
	unsigned long len;
	const char *slash;
	__u8 fam;

	if (!s || !*s) {
		xlb_err_set(err, "empty prefix: expected ADDR/LEN");
		return -EINVAL;
	}
	slash = strchr(s, '/');
	if (!slash) {
		xlb_err_set(err,
			    "missing prefix length in '%s': expected "
			    "ADDR/LEN",
			    s);
		return -EINVAL;
	}
	if ((size_t)(slash - s) >= sizeof(buf)) {
		xlb_err_set(err, "bad prefix '%.32s...'", s);
		return -EINVAL;
	}
	memcpy(buf, s, slash - s);
	buf[slash - s] = '\0';
	if (xlb_parse_addr(buf, &addr, &fam, err)) {
		xlb_err_prefix(err, "bad prefix");
		return -EINVAL;
	}
	if (xlb_parse_uint(slash + 1, 0, fam == XLB_AF_INET ? 32 : 128, &len,
			   NULL)) {
		xlb_err_set(err,
			    "bad prefix length '%s' in '%s': expected "
			    "0..%u",
			    slash + 1, s, fam == XLB_AF_INET ? 32 : 128);
		return -EINVAL;
	}
	for (unsigned long bit = len; bit < (fam == XLB_AF_INET ? 32u : 128u);
	     bit++) {
		if (addr.bytes[bit / 8] & (0x80 >> (bit % 8))) {
			xlb_err_set(err, "%s has host bits set", s);
			return -EINVAL;
		}
	}
	*a = addr;
	*family = fam;
	*plen = len;
	return 0;
}

static const struct {
	const char *name;
	__u32 bit;
} flag_names[] = {
	{"no-sport", XLB_VIP_F_NO_SPORT},
	{"no-flow-table", XLB_VIP_F_NO_FLOW_TABLE},
	{"dport-only", XLB_VIP_F_DPORT_ONLY},
};

#define N_FLAGS (sizeof(flag_names) / sizeof(flag_names[0]))

int xlb_parse_flags(const char *s, __u32 *flags, struct xlb_err *err)
{
	const char *p = s ? s : "";
	__u32 f = 0;

	if (!*p || !strcasecmp(p, "none")) {
		*flags = 0;
		return 0;
	}
	for (;;) {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < N_FLAGS; i++)
			if (strlen(flag_names[i].name) == n &&
			    !strncasecmp(p, flag_names[i].name, n))
				break;
		if (i == N_FLAGS) {
			xlb_err_set(err,
				    "unknown flag '%.*s': expected "
				    "no-sport, no-flow-table, dport-only "
				    "or none",
				    (int)n, p);
			return -EINVAL;
		}
		f |= flag_names[i].bit;
		if (!p[n])
			break;
		p += n + 1;
	}
	*flags = f;
	return 0;
}

const char *xlb_format_flags(__u32 flags, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	if (!flags) {
		snprintf(buf, len, "none");
		return buf;
	}
	for (size_t i = 0; i < N_FLAGS; i++) {
		if (!(flags & flag_names[i].bit))
			continue;
		flags &= ~flag_names[i].bit;
		if (off < len)
			off += snprintf(buf + off, len - off, "%s%s",
					off ? "," : "", flag_names[i].name);
	}
	/* Bits without a name still show, so nothing is hidden. */
	if (flags && off < len)
		snprintf(buf + off, len - off, "%s0x%x", off ? "," : "", flags);
	return buf;
}

/* The index in [first, end) of names whose entry is s (any case), or -1. */
static int name_index(const char *const *names, int first, int end,
		      const char *s)
{
	for (int i = first; s && i < end; i++)
		if (names[i] && !strcasecmp(s, names[i]))
			return i;
	return -1;
}

static const char *const encap_names[XLB_ENCAP_MAX] = {
	[XLB_ENCAP_DEFAULT] = "default",
	[XLB_ENCAP_IPIP] = "ipip",
	[XLB_ENCAP_GUE] = "gue",
};

int xlb_parse_encap(const char *s, __u8 *encap, struct xlb_err *err)
{
	int i = name_index(encap_names, 0, XLB_ENCAP_MAX, s);

	if (i >= 0) {
		*encap = i;
		return 0;
	}
	xlb_err_set(err, "unknown encap '%s': expected default, ipip or gue",
		    s ? s : "");
	return -EINVAL;
}

const char *xlb_encap_name(__u8 encap)
{
	return encap < XLB_ENCAP_MAX ? encap_names[encap] : "unknown";
}

static const char *const state_names[] = {
	[XLB_BACKEND_UNUSED] = "unused",
	[XLB_BACKEND_UP] = "up",
	[XLB_BACKEND_DRAIN] = "drain",
	[XLB_BACKEND_DOWN] = "down",
};

int xlb_parse_state(const char *s, __u8 *state, struct xlb_err *err)
{
	/* "unused" is the maps' word for a free id, not an operator's. */
	int i = name_index(state_names, XLB_BACKEND_UP, XLB_BACKEND_DOWN + 1,
			   s);

	if (i >= 0) {
		*state = i;
		return 0;
	}
	xlb_err_set(err, "unknown state '%s': expected up, drain or down",
		    s ? s : "");
	return -EINVAL;
}

const char *xlb_state_name(__u8 state)
{
	return state <= XLB_BACKEND_DOWN ? state_names[state] : "unknown";
}

static const char *const check_kind_names[XLB_CHECK_KIND_MAX] = {
	[XLB_CHECK_NONE] = "none",   [XLB_CHECK_TCP] = "tcp",
	[XLB_CHECK_HTTP] = "http",   [XLB_CHECK_UDP] = "udp",
	[XLB_CHECK_EXEC] = "exec",   [XLB_CHECK_AGENT] = "agent",
	[XLB_CHECK_HTTPS] = "https",
};

int xlb_parse_check_kind(const char *s, __u8 *kind, struct xlb_err *err)
{
	int i = name_index(check_kind_names, 0, XLB_CHECK_KIND_MAX, s);

	if (i >= 0) {
		*kind = i;
		return 0;
	}
	xlb_err_set(err,
		    "unknown check kind '%s': expected none, tcp, http, https, "
		    "udp, exec or agent",
		    s ? s : "");
	return -EINVAL;
}

const char *xlb_check_kind_name(__u8 kind)
{
	return kind < XLB_CHECK_KIND_MAX ? check_kind_names[kind] : "unknown";
}

static const char *const all_down_names[] = {
	[XLB_ALL_DOWN_DROP] = "drop",
	[XLB_ALL_DOWN_KEEP] = "keep",
};

int xlb_parse_all_down(const char *s, __u8 *all_down, struct xlb_err *err)
{
	int i = name_index(all_down_names, 0, XLB_ALL_DOWN_KEEP + 1, s);

	if (i >= 0) {
		*all_down = i;
		return 0;
	}
	xlb_err_set(err, "unknown all_down '%s': expected drop or keep",
		    s ? s : "");
	return -EINVAL;
}

const char *xlb_all_down_name(__u8 all_down)
{
	return all_down <= XLB_ALL_DOWN_KEEP ? all_down_names[all_down]
					     : "unknown";
}

static const char *const check_down_names[] = {
	[XLB_CHECK_DOWN_KEEP] = "keep",
	[XLB_CHECK_DOWN_MOVE] = "move",
};

int xlb_parse_check_down(const char *s, __u8 *on_check_down,
			 struct xlb_err *err)
{
	int i = name_index(check_down_names, 0, XLB_CHECK_DOWN_MOVE + 1, s);

	if (i >= 0) {
		*on_check_down = i;
		return 0;
	}
	xlb_err_set(err, "unknown on_check_down '%s': expected keep or move",
		    s ? s : "");
	return -EINVAL;
}

const char *xlb_check_down_name(__u8 on_check_down)
{
	return on_check_down <= XLB_CHECK_DOWN_MOVE
		       ? check_down_names[on_check_down]
		       : "unknown";
}

static const char *const vip_mode_names[] = {
	[XLB_VIP_MODE_DSR] = "dsr",
	[XLB_VIP_MODE_NAT] = "nat",
};

int xlb_parse_vip_mode(const char *s, __u8 *mode, struct xlb_err *err)
{
	int i = name_index(vip_mode_names, 0, XLB_VIP_MODE_NAT + 1, s);

	if (i >= 0) {
		*mode = i;
		return 0;
	}
	xlb_err_set(err, "unknown mode '%s': expected dsr or nat", s ? s : "");
	return -EINVAL;
}

const char *xlb_vip_mode_name(__u8 mode)
{
	return mode <= XLB_VIP_MODE_NAT ? vip_mode_names[mode] : "unknown";
}

int xlb_parse_addr_range(const char *s, union xlb_addr *first,
			 union xlb_addr *last, __u8 *family,
			 struct xlb_err *err)
{
	char buf[2 * XLB_ADDR_STRLEN];
	union xlb_addr a, b;
	const char *dash;
	__u8 fa, fb;

	if (!s || !*s) {
		xlb_err_set(err, "empty address range");
		return -EINVAL;
	}
	/* No address form has a dash: the first one splits the range. */
	dash = strchr(s, '-');
	if (!dash) {
		if (xlb_parse_addr(s, &a, &fa, err))
			return -EINVAL;
		*first = *last = a;
		*family = fa;
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof(buf)) {
		xlb_err_set(err, "bad address range '%s'", s);
		return -EINVAL;
	}
	memcpy(buf, s, dash - s);
	buf[dash - s] = '\0';
	if (xlb_parse_addr(buf, &a, &fa, err) ||
	    xlb_parse_addr(dash + 1, &b, &fb, err))
		return -EINVAL;
	if (fa != fb) {
		xlb_err_set(err, "address range '%s' mixes IPv4 and IPv6", s);
		return -EINVAL;
	}
	*first = a;
	*last = b;
	*family = fa;
	return 0;
}

const char *xlb_format_addr_range(const union xlb_addr *first,
				  const union xlb_addr *last, __u8 family,
				  char *buf, size_t len)
{
	char fs[XLB_ADDR_STRLEN], ls[XLB_ADDR_STRLEN];

	xlb_format_addr(first, family, fs, sizeof(fs));
	if (!memcmp(first, last, sizeof(*first)))
		snprintf(buf, len, "%s", fs);
	else
		snprintf(buf, len, "%s-%s", fs,
			 xlb_format_addr(last, family, ls, sizeof(ls)));
	return buf;
}

int xlb_parse_port_range(const char *s, __u16 *lo, __u16 *hi,
			 struct xlb_err *err)
{
	char buf[16];
	unsigned long a, b;
	const char *dash = s ? strchr(s, '-') : NULL;

	if (!dash) {
		if (xlb_parse_uint(s, 1, 65535, &a, NULL))
			goto bad;
		*lo = *hi = a;
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof(buf))
		goto bad;
	memcpy(buf, s, dash - s);
	buf[dash - s] = '\0';
	if (xlb_parse_uint(buf, 1, 65535, &a, NULL) ||
	    xlb_parse_uint(dash + 1, 1, 65535, &b, NULL))
		goto bad;
	*lo = a;
	*hi = b;
	return 0;
bad:
	xlb_err_set(err, "bad port range '%s': expected LO-HI, each 1..65535",
		    s ? s : "");
	return -EINVAL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int xlb_parse_mac(const char *s, __u8 mac[6], struct xlb_err *err)
{
	__u8 m[6];

	/* Exactly the 17 characters: no shorthand, nothing after. */
	if (!s || strlen(s) != 17)
		goto bad;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			goto bad;
		m[i] = hi << 4 | lo;
	}
	memcpy(mac, m, 6);
	return 0;
bad:
	xlb_err_set(err, "bad MAC '%s': expected aa:bb:cc:dd:ee:ff",
		    s ? s : "");
	return -EINVAL;
}

const char *xlb_format_mac(const __u8 mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
