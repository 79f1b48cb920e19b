/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The desired state of a balancer: global knobs, VIPs and their backends.
 * xlbd keeps one, changes a copy on every request, validates the copy and
 * swaps it in only when the maps took it; the same model is read from and
 * written to the JSON config and state files (config.h) and printed by the
 * CLI. The error type (err.h) and the text forms (text.h) come with it,
 * so a user of the model needs this one header.
 */
#ifndef XLB_MODEL_H
#define XLB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <xlb/types.h>
#include <xlb/nat.h>
#include <xlb/uplink.h>

#include "err.h"
#include "text.h"

#define XLB_WEIGHT_MAX		   65535
#define XLB_WEIGHT_DEFAULT	   1
#define XLB_RING_SIZE_MIN	   7
#define XLB_TTL_DEFAULT		   64
#define XLB_MTU_DEFAULT		   1500
#define XLB_GUE_PORT_DEFAULT	   6080
#define XLB_UDP_TIMEOUT_MS_DEFAULT 30000

/* Health checks: what, how often, and what counts as healthy. */
enum xlb_check_kind {
	XLB_CHECK_NONE = 0, /* no check: the backend is trusted */
	XLB_CHECK_TCP,	    /* connect */
	XLB_CHECK_HTTP,	    /* GET path, expect a status and a body substring */
	XLB_CHECK_UDP,	    /* send a payload, expect an answer (substring) */
	XLB_CHECK_EXEC,	    /* /bin/sh -c cmd, exit 0 = healthy */
	/*
	 * HAProxy's agent check: a line naming the VIP to the backend's own
	 * address at the agent port, one line of load back. Only in a VIP's
	 * `agent` slot; it never takes a backend down by failing.
	 */
	XLB_CHECK_AGENT,
	XLB_CHECK_HTTPS, /* http over TLS: SNI, optional verification */
};

#define XLB_CHECK_KIND_MAX (XLB_CHECK_HTTPS + 1)
/* The agent port when an agent check names none (HAProxy users' habit). */
#define XLB_AGENT_PORT_DEFAULT 5555
/* The longest agent reply line, its newline included; longer is malformed. */
#define XLB_AGENT_REPLY_MAX 256

/*
 * Byte-share correction (xlb_vip_cfg.balance): which traffic classes a
 * VIP balances by measured share, each with its own loop (policy.h).
 */
#define XLB_BALANCE_BYTES	      0x1
#define XLB_BALANCE_PACKETS	      0x2
#define XLB_BALANCE_ALL		      (XLB_BALANCE_BYTES | XLB_BALANCE_PACKETS)
#define XLB_BALANCE_WINDOW_MS_DEFAULT 10000
#define XLB_BALANCE_WINDOW_MS_MIN     100
#define XLB_BALANCE_WINDOW_MS_MAX     3600000

#define XLB_CHECK_STRLEN	      128
#define XLB_CHECK_CMDLEN	      256
#define XLB_CHECK_INTERVAL_MS_MIN     10
#define XLB_CHECK_INTERVAL_MS_MAX     3600000
#define XLB_CHECK_INTERVAL_MS_DEFAULT 1000
/*
 * A check's default timeout: 90% of its interval, at most 2 s. A slow
 * answer from a busy host (or a busy balancer) is still an answer; the
 * timeout stays below the interval so probes never pile up.
 */
#define XLB_CHECK_TIMEOUT_PERCENT     90
#define XLB_CHECK_TIMEOUT_MS_CAP      2000
#define XLB_CHECK_RUN_MAX	      100 /* rise and fall */
#define XLB_CHECK_RISE_DEFAULT	      2
#define XLB_CHECK_FALL_DEFAULT	      3
#define XLB_CHECK_HTTP_STATUS_DEFAULT 200

struct xlb_check_cfg {
	__u8 kind; /* enum xlb_check_kind */
	/*
	 * 1 (default): through the tunnel, as a packet to VIP:port that
	 * reaches the backend exactly like client traffic; 0: plain, to the
	 * backend's own address.
	 */
	__u8 tunnel;
	__u16 port;	   /* host order; 0 = the VIP's port */
	__u32 interval_ms; /* 10 .. 3600000 */
	__u32 timeout_ms;  /* 1 .. interval_ms - 1 */
	__u8 rise;	   /* good results in a row to come up, 1 .. 100 */
	__u8 fall;	   /* bad results in a row to go down, 1 .. 100 */
	__u16 http_status; /* expected HTTP status, 100 .. 599 (200) */
	char http_path[XLB_CHECK_STRLEN];  /* "/" */
	char http_body[XLB_CHECK_STRLEN];  /* substring; "" = any body */
	char udp_send[XLB_CHECK_STRLEN];   /* payload */
	char udp_expect[XLB_CHECK_STRLEN]; /* substring; "" = any answer */
	/* Run with /bin/sh -c; environment XLB_BACKEND, XLB_VIP, XLB_PORT. */
	char exec_cmd[XLB_CHECK_CMDLEN];
	/*
	 * HTTPS: the name sent as SNI ("" = none, as HAProxy's check-sni
	 * unset; with tls_verify also the name the certificate must carry),
	 * whether the certificate chain is verified (0, the default: a
	 * health check asks "does it answer", and backends mostly carry
	 * certificates for the service name, not their own address), and
	 * the CA file to verify with ("" = the system's store).
	 */
	__u8 tls_verify;
	char tls_sni[XLB_CHECK_STRLEN];
	char tls_ca[XLB_CHECK_STRLEN];
};

/* What a VIP does when every backend is down (xlb_vip_cfg.all_down). */
enum xlb_all_down {
	XLB_ALL_DOWN_DROP = 0, /* drop new traffic, counted */
	XLB_ALL_DOWN_KEEP = 1, /* keep the last ring: trust the checks less */
};

/*
 * What a backend's established flows do when its checks take it down
 * (xlb_vip_cfg.on_check_down). The operator's `down` always moves them.
 */
enum xlb_check_down {
	/* Out of the ring, flows stay (drain in the maps): IPVS with
	 * expire_nodest_conn=0 and Katran do the same. A check can fail
	 * while the service still answers its connections. */
	XLB_CHECK_DOWN_KEEP = 0,
	/* Down in the maps: flows re-pick on their next packet. */
	XLB_CHECK_DOWN_MOVE = 1,
};

#define XLB_SLOW_START_MS_MAX 3600000

/*
 * Flap damping defaults and limits. The policy remembers at most
 * XLB_FLAP_COUNT_MAX changes per backend (its XLB_FLAP_HISTORY).
 */
#define XLB_FLAP_COUNT_DEFAULT	   4
#define XLB_FLAP_COUNT_MAX	   16
#define XLB_FLAP_WINDOW_MS_DEFAULT 60000
#define XLB_FLAP_HOLD_MS_DEFAULT   30000
#define XLB_FLAP_MS_MIN		   100
#define XLB_FLAP_MS_MAX		   86400000 /* a day */

struct xlb_backend_cfg {
	union xlb_addr addr;
	__u8 family;  /* XLB_AF_INET or XLB_AF_INET6 */
	__u8 state;   /* the operator's: XLB_BACKEND_UP, _DRAIN or _DOWN */
	__u32 weight; /* 0 .. XLB_WEIGHT_MAX */
	__u32 id;     /* backend id in the maps; 0 until xlbd allocates one */
	/* Its own check, or NULL to use the VIP's (deep-copied). */
	struct xlb_check_cfg *check;
};

/*
 * Full-NAT (xlb/nat.h). A client-NAT pool is a range of addresses of one
 * family and a range of ports; xlbd cuts it into sub-pools of
 * subpool_ports ports of one address, numbered from subpool_base in
 * address-major order, and hands them to CPUs. Its name is what a `nat`
 * VIP names.
 */
#define XLB_POOL_NAMELEN		32 /* with the NUL: 1 .. 31 chars */
#define XLB_POOL_PORT_LO_DEFAULT	1024
#define XLB_POOL_PORT_HI_DEFAULT	65535
#define XLB_POOL_REFILL_PERCENT_DEFAULT 25
#define XLB_NAT_TCP_TIMEOUT_MS_DEFAULT	900000 /* established: 15 min */
#define XLB_NAT_TCP_CLOSING_MS_DEFAULT	120000 /* one FIN seen: 2 min */
#define XLB_NAT_UDP_TIMEOUT_MS_DEFAULT	300000 /* 5 min */
#define XLB_NAT_LINGER_MS_DEFAULT	10000  /* after both FINs or RST */

struct xlb_pool_cfg {
	char name[XLB_POOL_NAMELEN]; /* [A-Za-z0-9_.-], 1 .. 31 */
	__u8 family;		     /* XLB_AF_INET or XLB_AF_INET6 */
	union xlb_addr first, last;  /* inclusive, unicast, first <= last */
	__u16 port_lo, port_hi;	     /* host order, 1 .. 65535, lo <= hi */
	/* Ports per sub-pool; 0 in a request: chosen by xlbd (then kept). */
	__u32 subpool_ports;
	__u8 refill_percent; /* refill below this % of a sub-pool; 1 .. 90 */
	__u32 pool_id;	     /* 1 .. XLB_MAX_POOLS-1; 0 until allocated */
	/* Its sub-pools' ids: subpool_base .. + n_subpools - 1; 0 until set. */
	__u32 subpool_base, n_subpools;
};

/*
 * Egress uplinks (xlb/uplink.h): an interface encapsulated traffic may
 * leave by, its gateway (a MAC as given, or an address xlbd resolves and
 * keeps resolved through the neighbour table), its MTU and its target
 * share of the bytes. The interface's name is the uplink's name.
 */
#define XLB_UPLINK_IFNAMELEN	 16 /* IFNAMSIZ, with the NUL */
#define XLB_UPLINK_SHARE_DEFAULT 1

struct xlb_uplink_cfg {
	char ifname[XLB_UPLINK_IFNAMELEN];
	__u8 gw_mac[6];		/* set when the gateway was given as a MAC */
	bool gw_is_mac;		/* else gw_addr, resolved by xlbd */
	union xlb_addr gw_addr; /* the gateway's address (gw_family) */
	__u8 gw_family;
	__u16 mtu;   /* 0: the global mtu; else 576 .. 65535 */
	__u16 share; /* 1 .. XLB_UPLINK_SHARE_MAX */
	__u32 id;    /* 1 .. XLB_MAX_UPLINKS-1; 0 until xlbd allocates one */
};

struct xlb_vip_cfg {
	struct xlb_vip_key key; /* addr, port (network order), proto, family */
	__u32 flags;		/* XLB_VIP_F_* */
	__u8 encap;		/* enum xlb_encap; DEFAULT = the global one */
	__u32 ring_size;	/* a prime, XLB_RING_SIZE_MIN .. _MAX */
	__u32 vip_id;		/* 1 .. XLB_MAX_VIPS-1; 0 until allocated */
	struct xlb_check_cfg check; /* inherited by its backends; kind NONE */
	__u8 all_down;		    /* enum xlb_all_down */
	__u8 on_check_down;	    /* enum xlb_check_down */
	__u32 slow_start_ms;	    /* weight ramp after recovery; 0 = none */
	/* Load reports of its backends: kind NONE or AGENT. */
	struct xlb_check_cfg agent;
	__u8 balance;		 /* XLB_BALANCE_* classes; 0 = off */
	__u32 balance_window_ms; /* 0 = XLB_BALANCE_WINDOW_MS_DEFAULT */
	__u8 mode;		 /* enum xlb_vip_mode: DSR (default) or NAT */
	char pool[XLB_POOL_NAMELEN]; /* NAT: its pool's name; DSR: "" */
	size_t n_backends;
	struct xlb_backend_cfg *backends; /* kept sorted by (family, addr) */
};

struct xlb_global_cfg {
	__u8 encap;	/* XLB_ENCAP_IPIP or XLB_ENCAP_GUE */
	__u8 ttl;	/* 1 .. 255 */
	__u16 gue_port; /* host order, 1 .. 65535 */
	__u16 mtu;	/* 0 = no check, else 576 .. 65535 (outer packet) */
	union xlb_addr src4;
	__u8 src4_plen; /* 0 .. 32; 0 = none configured */
	union xlb_addr src6;
	__u8 src6_plen;	       /* 0 .. 128; 0 = none configured */
	__u32 flow_rate_limit; /* inserts per second per CPU; 0 = unlimited */
	__u32 udp_timeout_ms;  /* 0 = UDP flows never expire by idleness */
	/*
	 * Flap damping: a backend whose health changes flap_count times
	 * within flap_window_ms is held down for flap_hold_ms.
	 */
	__u32 flap_count;     /* 0 = no damping, .. 16; default 4 */
	__u32 flap_window_ms; /* 100 .. 86400000; default 60000 */
	__u32 flap_hold_ms;   /* 100 .. 86400000; default 30000 */
	/* Full-NAT entries' idle timeouts and the linger after a close. */
	__u32 nat_tcp_timeout_ms; /* established TCP */
	__u32 nat_tcp_closing_ms; /* TCP after one FIN */
	__u32 nat_udp_timeout_ms; /* UDP */
	__u32 nat_linger_ms;	  /* after both FINs or an RST; also the wait
				     before a sub-pool's ports are reused */
};

struct xlb_model {
	struct xlb_global_cfg global;
	size_t n_vips;
	struct xlb_vip_cfg
		*vips; /* kept sorted by key (family, addr, port, proto) */
	size_t n_pools;
	struct xlb_pool_cfg *pools; /* kept sorted by name */
	size_t n_uplinks;
	struct xlb_uplink_cfg *uplinks; /* kept sorted by ifname */
};

/*
 * Life cycle. init gives the defaults above and no VIPs. free and copy
 * are deep: a backend's own check is never shared between two models.
 */
void xlb_model_init(struct xlb_model *m);
void xlb_model_free(struct xlb_model *m);
int xlb_model_copy(struct xlb_model *dst, const struct xlb_model *src);
bool xlb_model_equal(const struct xlb_model *a, const struct xlb_model *b,
		     bool with_ids);
/* The same for one VIP (its backends included) and the global knobs. */
bool xlb_vip_equal(const struct xlb_vip_cfg *a, const struct xlb_vip_cfg *b,
		   bool with_ids);
bool xlb_global_equal(const struct xlb_global_cfg *a,
		      const struct xlb_global_cfg *b);
/* Uplinks compare by their settings; with_ids adds the id. */
bool xlb_uplink_equal(const struct xlb_uplink_cfg *a,
		      const struct xlb_uplink_cfg *b, bool with_ids);
/* Pools compare by their settings; with_ids adds the sub-pool layout. */
bool xlb_pool_equal(const struct xlb_pool_cfg *a, const struct xlb_pool_cfg *b,
		    bool with_ids);

/* Look-ups: NULL when absent. */
struct xlb_vip_cfg *xlb_model_vip(const struct xlb_model *m,
				  const struct xlb_vip_key *key);
/* The pool called name, or NULL. */
struct xlb_pool_cfg *xlb_model_pool(const struct xlb_model *m,
				    const char *name);
struct xlb_backend_cfg *xlb_vip_backend(const struct xlb_vip_cfg *v,
					const union xlb_addr *addr,
					__u8 family);
/*
 * The same for a request: NULL with err saying which is unknown
 * ("unknown VIP ...", "backend ... not in VIP ...").
 */
struct xlb_vip_cfg *xlb_model_vip_get(const struct xlb_model *m,
				      const struct xlb_vip_key *key,
				      struct xlb_err *err);
struct xlb_backend_cfg *xlb_model_backend_get(const struct xlb_model *m,
					      const struct xlb_vip_key *key,
					      const union xlb_addr *addr,
					      __u8 family, struct xlb_err *err);
/* The check a backend runs: its own, else its VIP's (maybe kind NONE). */
const struct xlb_check_cfg *xlb_backend_check(const struct xlb_vip_cfg *v,
					      const struct xlb_backend_cfg *b);

/*
 * Checks. init gives the defaults: kind NONE, through the tunnel, the
 * VIP's port, every 1000 ms with a 900 ms timeout, rise 2, fall 3, HTTP
 * "GET /" expecting 200. validate judges one check alone (ranges, strings
 * terminated, what its kind needs; kind NONE ignores every other field);
 * vip_check_validate adds what depends on the VIP: a port-less VIP has no
 * port to check, so TCP, HTTP and UDP checks need their own. equal treats
 * two NONE checks as equal whatever their other fields.
 */
void xlb_check_init(struct xlb_check_cfg *c);
int xlb_check_validate(const struct xlb_check_cfg *c, struct xlb_err *err);
int xlb_vip_check_validate(const struct xlb_vip_key *k,
			   const struct xlb_check_cfg *c, struct xlb_err *err);
bool xlb_check_equal(const struct xlb_check_cfg *a,
		     const struct xlb_check_cfg *b);
/*
 * The timeout of a check whose definition gives none: 90% of the
 * interval, at most XLB_CHECK_TIMEOUT_MS_CAP.
 */
__u32 xlb_check_default_timeout(__u32 interval_ms);

/*
 * Edits. Each validates its input and leaves the model unchanged, with a
 * message in err, when it returns a negative errno (-EINVAL bad value,
 * -EEXIST duplicate, -ENOENT unknown VIP or backend, -ENOSPC limits).
 * vip_add copies v (and its check) without its backends (add them one by
 * one or use xlb_model_from_json). backend_add copies b and its own check
 * if any. backend_set: weight < 0 or state 0 keep the current value.
 */
int xlb_model_vip_add(struct xlb_model *m, const struct xlb_vip_cfg *v,
		      struct xlb_err *err);
int xlb_model_vip_del(struct xlb_model *m, const struct xlb_vip_key *key,
		      struct xlb_err *err);
int xlb_model_backend_add(struct xlb_model *m, const struct xlb_vip_key *key,
			  const struct xlb_backend_cfg *b, struct xlb_err *err);
int xlb_model_backend_del(struct xlb_model *m, const struct xlb_vip_key *key,
			  const union xlb_addr *addr, __u8 family,
			  struct xlb_err *err);
int xlb_model_backend_set(struct xlb_model *m, const struct xlb_vip_key *key,
			  const union xlb_addr *addr, __u8 family, long weight,
			  int state, struct xlb_err *err);

/*
 * vip_set: all_down, on_check_down and slow_start_ms < 0 keep the
 * current value.
 * check_set replaces the whole check of a VIP (backend NULL) or of one
 * of its backends (which then stops inheriting the VIP's); a kind NONE
 * check is stored with the defaults. check_del sets a VIP's check to kind
 * NONE, or makes a backend inherit its VIP's again; -ENOENT when there
 * is no such check. global_set validates g and makes it the global knobs.
 */
int xlb_model_vip_set(struct xlb_model *m, const struct xlb_vip_key *k,
		      int all_down, int on_check_down, long slow_start_ms,
		      struct xlb_err *err);
int xlb_model_check_set(struct xlb_model *m, const struct xlb_vip_key *vip,
			const union xlb_addr *backend, __u8 family,
			const struct xlb_check_cfg *c, struct xlb_err *err);
int xlb_model_check_del(struct xlb_model *m, const struct xlb_vip_key *vip,
			const union xlb_addr *backend, __u8 family,
			struct xlb_err *err);
int xlb_model_global_set(struct xlb_model *m, const struct xlb_global_cfg *g,
			 struct xlb_err *err);
/*
 * A check of kind agent given to check_set goes to the VIP's agent slot
 * (a backend has none: -EINVAL); agent_del empties that slot, -ENOENT
 * when it is empty.
 */
int xlb_model_agent_del(struct xlb_model *m, const struct xlb_vip_key *vip,
			struct xlb_err *err);

/*
 * Client-NAT pools. pool_init gives a pool's defaults (ports 1024-65535,
 * refill 25%, no layout). pool_add validates p and copies it in name
 * order: -EEXIST for a name or pool_id taken, -EINVAL for addresses in
 * another pool or holding a VIP. pool_del refuses (-EBUSY) a pool a VIP
 * names. Whether a nat VIP's pool is there and of its family is the
 * whole model's rule (xlb_model_validate): a VIP may come before its
 * pool in an edit sequence.
 */
#define XLB_POOL_ADDRS_MAX     65536
#define XLB_NAT_TIMEOUT_MS_MIN 1000
#define XLB_NAT_TIMEOUT_MS_MAX 86400000 /* a day */
#define XLB_NAT_LINGER_MS_MAX  3600000
void xlb_pool_init(struct xlb_pool_cfg *p);
int xlb_pool_validate(const struct xlb_pool_cfg *p, struct xlb_err *err);
int xlb_model_pool_add(struct xlb_model *m, const struct xlb_pool_cfg *p,
		       struct xlb_err *err);
int xlb_model_pool_del(struct xlb_model *m, const char *name,
		       struct xlb_err *err);
/* The pool called name, or NULL with err "unknown pool NAME". */
struct xlb_pool_cfg *xlb_model_pool_get(const struct xlb_model *m,
					const char *name, struct xlb_err *err);

/*
 * Egress uplinks, named by their interface. uplink_init gives the
 * defaults (share 1, mtu 0: the global one; no gateway, which validation
 * refuses). uplink_add validates u and copies it in interface order
 * (-EEXIST for an interface or id taken, -ENOSPC beyond
 * XLB_MAX_UPLINKS - 1); uplink_set replaces the settings of the uplink
 * of u's interface, keeping its id (-ENOENT when there is none);
 * uplink_del removes one. Nothing changes on error.
 */
void xlb_uplink_init(struct xlb_uplink_cfg *u);
int xlb_uplink_validate(const struct xlb_uplink_cfg *u, struct xlb_err *err);
/* The kernel's rule for an interface name, with why in err. */
int xlb_ifname_check(const char *name, struct xlb_err *err);
int xlb_model_uplink_add(struct xlb_model *m, const struct xlb_uplink_cfg *u,
			 struct xlb_err *err);
int xlb_model_uplink_set(struct xlb_model *m, const struct xlb_uplink_cfg *u,
			 struct xlb_err *err);
int xlb_model_uplink_del(struct xlb_model *m, const char *ifname,
			 struct xlb_err *err);
/* The uplink of that interface, or NULL (_get: with "unknown uplink X"). */
struct xlb_uplink_cfg *xlb_model_uplink(const struct xlb_model *m,
					const char *ifname);
struct xlb_uplink_cfg *xlb_model_uplink_get(const struct xlb_model *m,
					    const char *ifname,
					    struct xlb_err *err);

/* Whole-model validation (limits, primes, duplicates, ranges, order). */
int xlb_model_validate(const struct xlb_model *m, struct xlb_err *err);

/*
 * The address rule of VIPs and backends, which the model's validation
 * applies (and the CLI before asking xlbd): unspecified, loopback,
 * multicast and broadcast addresses are refused with err naming `what`
 * ("VIP", "backend") and why.
 */
int xlb_addr_check(const union xlb_addr *a, __u8 family, const char *what,
		   struct xlb_err *err);

#endif /* XLB_MODEL_H */
