/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The text forms of the model's values, shared by the config files, the
 * control protocol and the CLI so every tool accepts exactly the same
 * syntax. The enum values named here are model.h's.
 */
#ifndef XLB_TEXT_H
#define XLB_TEXT_H

#include <stddef.h>
#include <xlb/types.h>

#include "err.h"

/* Longest text form of a VIP: "[v6]:65535/icmpv6". */
#define XLB_VIP_STRLEN	64
#define XLB_ADDR_STRLEN 48

/* A protocol's name: "tcp", "udp", "icmp", "icmpv6", else its number. */
const char *xlb_proto_name(__u8 proto, char *buf, size_t len);

/*
 * Text forms. Addresses: "198.19.0.1", "2001:db8::1". VIPs:
 * "198.19.0.1:80/tcp", "[2001:db8::1]:443/udp", port-less
 * "198.19.0.1/tcp" and "[2001:db8::1]/udp". An IPv6 VIP needs its
 * brackets: "2001:db8::1:80/tcp" could be a port-less VIP or port 80.
 * Prefixes: "198.18.0.0/24". Flags: comma-separated names
 * "no-sport,no-flow-table,dport-only" ("" or "none" = 0). Encap: "default",
 * "ipip", "gue". States: "up", "drain", "down". Check kinds: "none",
 * "tcp", "http", "udp", "exec", "agent", "https". All down: "drop", "keep". On
 * check down: "keep", "move". Parsers return 0 or -EINVAL with err set;
 * formatters return the buffer.
 */
int xlb_parse_addr(const char *s, union xlb_addr *a, __u8 *family,
		   struct xlb_err *err);
const char *xlb_format_addr(const union xlb_addr *a, __u8 family, char *buf,
			    size_t len);
int xlb_parse_vip(const char *s, struct xlb_vip_key *k, struct xlb_err *err);
const char *xlb_format_vip(const struct xlb_vip_key *k, char *buf, size_t len);
int xlb_parse_prefix(const char *s, union xlb_addr *a, __u8 *family, __u8 *plen,
		     struct xlb_err *err);
int xlb_parse_flags(const char *s, __u32 *flags, struct xlb_err *err);
/* Writes "no-sport,dport-only" (or "none") into buf. */
const char *xlb_format_flags(__u32 flags, char *buf, size_t len);
int xlb_parse_encap(const char *s, __u8 *encap, struct xlb_err *err);
const char *xlb_encap_name(__u8 encap);
int xlb_parse_state(const char *s, __u8 *state, struct xlb_err *err);
const char *xlb_state_name(__u8 state);
int xlb_parse_check_kind(const char *s, __u8 *kind, struct xlb_err *err);
const char *xlb_check_kind_name(__u8 kind);
int xlb_parse_all_down(const char *s, __u8 *all_down, struct xlb_err *err);
const char *xlb_all_down_name(__u8 all_down);
int xlb_parse_check_down(const char *s, __u8 *on_check_down,
			 struct xlb_err *err);
const char *xlb_check_down_name(__u8 on_check_down);
/*
 * Full-NAT. VIP modes: "dsr", "nat". A pool's addresses: "FIRST-LAST" or
 * one address, both of one family (formatted as one address when first
 * equals last); its ports: "LO-HI" or one port, each 1..65535.
 */
int xlb_parse_vip_mode(const char *s, __u8 *mode, struct xlb_err *err);
const char *xlb_vip_mode_name(__u8 mode);
int xlb_parse_addr_range(const char *s, union xlb_addr *first,
			 union xlb_addr *last, __u8 *family,
			 struct xlb_err *err);
const char *xlb_format_addr_range(const union xlb_addr *first,
				  const union xlb_addr *last, __u8 family,
				  char *buf, size_t len);
int xlb_parse_port_range(const char *s, __u16 *lo, __u16 *hi,
			 struct xlb_err *err);
/*
 * Uplinks. A MAC: "aa:bb:cc:dd:ee:ff", six pairs of hex digits (either
 * case); formatted in lower case into at least XLB_MAC_STRLEN bytes.
 */
#define XLB_MAC_STRLEN 18
int xlb_parse_mac(const char *s, __u8 mac[6], struct xlb_err *err);
const char *xlb_format_mac(const __u8 mac[6], char *buf, size_t len);
/* Strict unsigned integer in [min, max]; rejects signs, junk, overflow. */
int xlb_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out, struct xlb_err *err);

#endif /* XLB_TEXT_H */
