/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Counter indexes of the `counters` (balancer), `decap_counters`
 * (backend) and `hc_counters` (health checks through the tunnel) maps,
 * each with the name userspace prints. Defined once as X-macro lists so
 * the enum and the names cannot drift apart.
 *
 * Balancer counters come in two classes. Verdicts: every packet the
 * balancer sees is counted in exactly one of them, so their sum is the
 * number of packets received. Events: counted in addition to a verdict.
 */
#ifndef XLB_COUNTERS_H
#define XLB_COUNTERS_H

#define XLB_VERDICT_COUNTERS(X)                                                \
	X(PASS_NON_VIP, "pass_non_vip")	  /* not for a VIP: to the kernel */   \
	X(PASS_UNPARSED, "pass_unparsed") /* not IP, QinQ, or cut short */     \
	X(PASS_ICMP_ND, "pass_icmp_nd")	  /* ICMPv6 ND to a VIP address */     \
	X(TX_IPIP, "tx_ipip")		  /* encapsulated 4 in 4 */            \
	X(TX_IP6IP6, "tx_ip6ip6")	  /* encapsulated 6 in 6 */            \
	X(TX_4IN6, "tx_4in6")		  /* encapsulated 4 in 6 */            \
	X(TX_6IN4, "tx_6in4")		  /* encapsulated 6 in 4 */            \
	X(TX_GUE, "tx_gue")		  /* encapsulated in GUE */            \
	X(TX_ICMP_ECHO, "tx_icmp_echo")	  /* echo reply sent for a VIP */      \
	X(TX_ICMP_TOO_BIG, "tx_icmp_too_big") /* ICMP error to the client */   \
	X(DROP_FRAGMENT, "drop_fragment")     /* IP fragment to a VIP */       \
	X(DROP_IP_OPTIONS, "drop_ip_options") /* IPv4 options to a VIP */      \
	X(DROP_IPV6_EXT, "drop_ipv6_ext")   /* IPv6 extension header to VIP */ \
	X(DROP_MALFORMED, "drop_malformed") /* bad/truncated header to VIP */  \
	X(DROP_ICMP, "drop_icmp")	    /* unhandled ICMP to a VIP */      \
	X(DROP_NO_BACKEND, "drop_no_backend") /* empty ring or all down */     \
	X(DROP_TOO_BIG, "drop_too_big")	  /* too big, no ICMP error allowed */ \
	X(DROP_NO_RING, "drop_no_ring")	  /* VIP without a ring */             \
	X(DROP_INTERNAL, "drop_internal") /* adjust_head/tail failed */        \
	X(DROP_IP_VERSION, "drop_ip_version") /* version != EtherType's */     \
	X(DROP_ICMP_CSUM, "drop_icmp_csum")   /* echo request, bad checksum */ \
	X(DROP_ICMP_SRC, "drop_icmp_src") /* ICMP to a non-unicast source */   \
	X(TX_NAT, "tx_nat")		  /* full-NAT: client -> backend */    \
	X(TX_NAT_REPLY, "tx_nat_reply")	  /* full-NAT: backend -> client */    \
	X(TX_NAT_ICMP, "tx_nat_icmp")	  /* ICMP error about a NAT flow */    \
	X(DROP_NAT_POOL_EXHAUSTED, "drop_nat_pool_exhausted") /* no port */    \
	X(DROP_NAT_NO_ENTRY, "drop_nat_no_entry")     /* TCP, not a SYN, no    \
							 NAT entry */          \
	X(DROP_NAT_TABLE_FULL, "drop_nat_table_full") /* nat_fwd full */       \
	X(DROP_NAT_BACKEND_DOWN, "drop_nat_backend_down") /* its backend       \
							     is down */        \
	X(DROP_NO_UPLINK, "drop_no_uplink") /* uplinks set, none up */

#define XLB_EVENT_COUNTERS(X)                                                  \
	X(FLOW_HIT, "flow_hit")	      /* flow table gave the backend */        \
	X(FLOW_MISS, "flow_miss")     /* looked up, not found */               \
	X(FLOW_INSERT, "flow_insert") /* new or re-hashed flow stored */       \
	X(FLOW_INSERT_LIMITED, "flow_insert_limited") /* over the rate */      \
	X(FLOW_UDP_EXPIRED, "flow_udp_expired") /* idle UDP flow re-hashed */  \
	X(FAILOVER_REPICK, "failover_repick") /* backend down, picked again */ \
	X(ICMP_PTB_FORWARDED, "icmp_ptb_forwarded") /* PTB sent to backend */  \
	X(NAT_INSERT, "nat_insert") /* a NAT connection's entries made */      \
	X(NAT_REOPEN, "nat_reopen") /* a SYN reopened a closed entry */        \
	X(UPLINK_FAILOVER, "uplink_failover") /* a flow left a down uplink */

#define XLB_DECAP_COUNTERS(X)                                                  \
	X(PASS, "pass")	    /* not a tunnel to us: untouched */                \
	X(IPIP, "ipip")	    /* 4 in 4 decapsulated */                          \
	X(IP6IP6, "ip6ip6") /* 6 in 6 decapsulated */                          \
	X(4IN6, "4in6")	    /* 4 in 6 decapsulated */                          \
	X(6IN4, "6in4")	    /* 6 in 4 decapsulated */                          \
	X(GUE, "gue")	    /* GUE decapsulated */                             \
	X(DROP_MALFORMED, "drop_malformed") /* tunnel to us, bad inner */      \
	X(DROP_INTERNAL, "drop_internal")   /* adjust_head failed */

/*
 * Health-check tunnel (hc_counters, TC egress): every packet carrying our
 * mark is counted once, with its length before encapsulation; packets
 * without it are not counted (they are the host's other traffic).
 */
#define XLB_HC_COUNTERS(X)                                                     \
	X(IPIP, "ipip")			      /* encapsulated 4 in 4 */        \
	X(IP6IP6, "ip6ip6")		      /* encapsulated 6 in 6 */        \
	X(4IN6, "4in6")			      /* encapsulated 4 in 6 */        \
	X(6IN4, "6in4")			      /* encapsulated 6 in 4 */        \
	X(GUE, "gue")			      /* encapsulated in GUE */        \
	X(DROP_NO_BACKEND, "drop_no_backend") /* id unused or out of range */  \
	X(DROP_UNPARSED, "drop_unparsed")     /* not IP over plain Ethernet */ \
	X(DROP_TOO_BIG, "drop_too_big")	  /* over config.mtu encapsulated */   \
	X(DROP_INTERNAL, "drop_internal") /* adjust_room or a store failed */

#define XLB_COUNTER_ENUM(id, name) XLB_CNT_##id,
#define XLB_DECAP_ENUM(id, name)   XLB_DECAP_##id,
#define XLB_HC_ENUM(id, name)	   XLB_HC_##id,

enum xlb_counter_id {
	XLB_VERDICT_COUNTERS(XLB_COUNTER_ENUM)
		XLB_EVENT_COUNTERS(XLB_COUNTER_ENUM) XLB_CNT_MAX,
};
/* Verdicts are the ids below this one, events the ids from it on. */
#define XLB_CNT_FIRST_EVENT XLB_CNT_FLOW_HIT

enum xlb_decap_counter_id {
	XLB_DECAP_COUNTERS(XLB_DECAP_ENUM) XLB_DECAP_MAX,
};

enum xlb_hc_counter_id {
	XLB_HC_COUNTERS(XLB_HC_ENUM) XLB_HC_MAX,
};

#ifndef __bpf__
#define XLB_COUNTER_NAME(id, name) name,
/* Names indexed by enum xlb_counter_id. */
static const char *const xlb_counter_names[] __attribute__((unused)) = {
	XLB_VERDICT_COUNTERS(XLB_COUNTER_NAME)
		XLB_EVENT_COUNTERS(XLB_COUNTER_NAME)};
_Static_assert(sizeof(xlb_counter_names) / sizeof(xlb_counter_names[0]) ==
		       XLB_CNT_MAX,
	       "one name per counter");
/* Names indexed by enum xlb_decap_counter_id. */
static const char *const xlb_decap_counter_names[]
	__attribute__((unused)) = {XLB_DECAP_COUNTERS(XLB_COUNTER_NAME)};
/* Names indexed by enum xlb_hc_counter_id. */
static const char *const xlb_hc_counter_names[]
	__attribute__((unused)) = {XLB_HC_COUNTERS(XLB_COUNTER_NAME)};
#undef XLB_COUNTER_NAME
#endif

#endif /* XLB_COUNTERS_H */
