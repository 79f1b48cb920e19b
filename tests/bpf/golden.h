/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The golden-packet runner's shared declarations: frames and the packet
 * builder (packet.c), the expected-output builders that restate the data
 * path's rules on the test side (packet.c), the map setup every case uses
 * (setup.c, over the programs harness.c loads), the step runner (main.c)
 * and the case tables (cases_*.c).
 *
 * A case is a function: it writes its maps through the setup helpers (which
 * also keep a shadow copy, so the expected backend of a packet is computed
 * here from the rules, not read back from the program), then runs one or
 * more steps. A step is one frame through BPF_PROG_TEST_RUN with its
 * expected action, output frame and counter deltas.
 */
#ifndef XLB_TESTS_GOLDEN_H
#define XLB_TESTS_GOLDEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <xlb/types.h>
#include <xlb/counters.h>
#include <xlb/hash.h>
#include <xlb/flow.h>
#include <xlb/uplink.h>

#define FRAME_MAX 4096

/* A frame and where its IP header starts (14, or 18 with one tag). */
struct frame {
	__u8 d[FRAME_MAX];
	__u32 len;
	__u32 l2;
};

/* MACs: the router that hands us frames, us, and the gateway we send to. */
extern const __u8 MAC_PEER[6], MAC_SELF[6], MAC_GW[6];
/* The interface's own MAC, when config names it (config.src_mac). */
extern const __u8 MAC_IF[6];

/* TCP flags as in the header's 14th byte. */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/*
 * One packet to build. Zero means "the usual" for every field, so cases
 * name only what matters to them.
 */
struct pkt {
	const char *src, *dst; /* family follows the address */
	__u8 proto;	       /* IPPROTO_*; 0 = TCP */
	__u16 sport, dport;    /* host order; 0 = 40000 / 80 */
	__u8 flags;	       /* TCP flags; 0 = ACK */
	__u8 tos;	       /* v4 TOS / v6 traffic class */
	__u8 ttl;	       /* 0 = 64 */
	__u16 frag_off;	       /* v4 flags + offset field, host order */
	__u8 opt_words;	       /* v4 options, in 32-bit words */
	__u8 ihl;	       /* override of the IHL field (0 = computed) */
	int len_delta;	       /* added to tot_len / payload_len */
	bool ext;	       /* v6: one extension header before L4 */
	__u8 ext_type;	       /* its type (0 hop-by-hop, 44 fragment ...) */
	bool vlan;	       /* one tag */
	__u16 tci;
	__u16 tpid;	 /* 0 = 0x8100 */
	bool qinq;	 /* a second tag inside the first */
	__u16 ethertype; /* override (e.g. ARP); then no IP is built */
	__u32 payload;	 /* L4 payload bytes */
	__u8 doff;	 /* TCP data offset override */
	__u32 l4_cut;	 /* keep this many L4 bytes (lengths follow) */
	__u32 trailer;	 /* bytes after the IP packet (L2 padding) */
	__u32 cut;	 /* truncate the finished frame to this length */
	__u8 icmp_type, icmp_code;
	const __u8 *l4; /* raw L4 bytes instead of a built header */
	__u32 l4_len;	/* (checksum at the protocol's offset filled) */
};

void build(struct frame *f, const struct pkt *p);

/* Parse "198.19.0.1" or "2001:db8::1"; returns XLB_AF_INET or _INET6. */
int addr_parse(const char *s, union xlb_addr *a);
union xlb_addr A(const char *s);

/* Internet checksum helpers (independent of bpf/csum.h). */
__u32 csum_add(__u32 sum, const void *p, size_t len);
__u16 csum_fold16(__u32 sum);

/* Length and TOS of the IP packet at f->d + f->l2, from its header. */
__u32 frame_ip_len(const struct frame *f);
__u8 frame_tos(const struct frame *f);
bool frame_is_v6(const struct frame *f);

/*
 * Outer headers around an IP packet, as the balancer must write them and
 * as a tunnel to a backend looks. All fields as on the wire.
 */
struct outer {
	bool v6;
	union xlb_addr src, dst;
	__u8 ttl;
	__u8 tos;
	__u32 flow_label; /* v6 */
	bool gue;
	__be16 gue_sport, gue_dport;
	__u8 proto;	   /* 0 = from the inner family (4/41) or 17 */
	__u16 frag_off;	   /* v4, host order; 0 = DF */
	bool len_of_frame; /* lengths from the bytes, not the inner header */
	const __u8 *mac_dst, *mac_src;
};

/* out = in's L2 (MACs replaced, EtherType for o) + outer + in's IP on. */
void wrap(struct frame *out, const struct frame *in, const struct outer *o);

/* The outer source the balancer derives from the flow hash. */
__be32 outer_src4(const struct xlb_config *c, __u32 rss);
union xlb_addr outer_src6(const struct xlb_config *c, __u32 rss);

bool mac_is_zero(const __u8 *m);
/* The source MAC of what the balancer sends in reply to `in`. */
const __u8 *src_mac(const struct xlb_config *c, const struct frame *in);

/* What the balancer sends for `in` to backend be (rule 8). */
void expect_encap(struct frame *out, const struct frame *in,
		  const struct xlb_config *c, const struct xlb_backend *be,
		  bool gue, __u32 rss);
/* Echo reply in place (rule 10). */
void expect_echo(struct frame *out, const struct frame *in,
		 const struct xlb_config *c);
/* ICMP "too big" back to the client with that MTU (rule 9). */
void expect_too_big(struct frame *out, const struct frame *in,
		    const struct xlb_config *c, __u32 mtu);
/* Decapsulated: in's L2 (EtherType of the inner family) + in after hdrs. */
void expect_decap(struct frame *out, const struct frame *in, __u32 outer_len);

void hexdump(const char *title, const __u8 *d, __u32 len);

/* ---- the case being run ---- */

struct ring_shadow {
	__u32 size;
	__u32 *slot;
};

struct tc {
	const char *name;
	bool failed;
	char why[2048];
	/* Shadows of what the case wrote, to compute expectations. */
	struct xlb_config cfg;
	struct xlb_vip_key vkey[16];
	struct xlb_vip vval[16];
	int nvips;
	struct xlb_backend be[XLB_MAX_BACKENDS];
	struct ring_shadow ring[XLB_MAX_VIPS];
};

void fail(struct tc *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- setup (balancer maps) ---- */

/* A config most cases start from (IPIP, ttl 64, src /24 and /64, ...). */
struct xlb_config base_config(void);
void set_config(struct tc *t, const struct xlb_config *c);
/* vips entry {addr, port, proto} and its filter bit. */
void add_vip(struct tc *t, const char *addr, __u16 port, __u8 proto,
	     __u32 vip_id, __u32 flags, __u32 ring_size, __u8 encap);
/* Every vips entry of vip_id (and its vip_info) in that mode and pool. */
void set_vip_mode(struct tc *t, __u32 vip_id, __u8 mode, __u8 pool_id);
/* The VIP-address entry (ICMP / ICMPv6, port 0) and its filter bit. */
void add_vip_addr(struct tc *t, const char *addr);
void set_filter_bit(struct tc *t, const char *addr);
void set_backend(struct tc *t, __u32 id, const char *addr, __u8 state);
void set_backend_state(struct tc *t, __u32 id, __u8 state);
/*
 * A new inner map swapped into rings[vip_id], both halves holding these
 * slots (as the controller keeps a ring between changes).
 */
void set_ring(struct tc *t, __u32 vip_id, __u32 size, const __u32 *slots);
/* The same with other slots in each half; the shadow follows half 0. */
void set_ring_halves(struct tc *t, __u32 vip_id, __u32 size, const __u32 *half0,
		     const __u32 *half1);
/* Flips ring_half of every vips entry of vip_id and of its vip_info. */
void set_vip_half(struct tc *t, __u32 vip_id, __u8 half);
/*
 * Backends first..first+size-1 (addresses base + i, all up) and a ring of
 * that size whose slot i holds backend first + i: every slot distinct, so
 * the backend names the slot.
 */
void ring_distinct(struct tc *t, __u32 vip_id, __u32 size, __u32 first,
		   bool v6);
void set_flow(struct tc *t, const struct xlb_flow_key *k, __u32 backend,
	      __u64 last_seen_ns);
/* A flows entry exactly as given (vip_id too). */
void set_flow_raw(struct tc *t, const struct xlb_flow_key *k,
		  const struct xlb_flow *v);
bool get_flow(struct tc *t, const struct xlb_flow_key *k, struct xlb_flow *v);
/* A CPU other than the run's, or -1 on a one-CPU machine. */
int other_cpu(void);
/* A flows entry (VIP as vip_of() finds it, stamped now) on that CPU. */
void set_flow_cpu(struct tc *t, const struct xlb_flow_key *k, __u32 backend,
		  int cpu);
/* Has cpu's part of the table an entry for k? */
bool has_flow_cpu(const struct xlb_flow_key *k, int cpu);
/* The flow table bucket key falls in on the run's CPU. */
__u32 flow_bucket_of(const struct xlb_flow_key *k);
__u64 now_ns(void);

/* The flow key of a built packet (client's view). */
struct xlb_flow_key fkey(const char *src, const char *dst, __u16 sport,
			 __u16 dport, __u8 proto);
/*
 * The VIP a packet reaches (rule 4) and the backend a ring pick gives for
 * key (rule 6), from the shadows. Returns the backend id or 0 when none;
 * *repick says whether the first slot was skipped.
 */
const struct xlb_vip *vip_of(struct tc *t, const struct xlb_flow_key *k);
__u32 ring_pick(struct tc *t, const struct xlb_vip *v,
		const struct xlb_flow_key *k, bool *repick);
__u32 slot_of(const struct xlb_vip *v, const struct xlb_flow_key *k);
__u32 rss_of(const struct xlb_flow_key *k);

/* The flow key of a struct pkt (its defaults applied). */
struct xlb_flow_key pkt_key(const struct pkt *p);
void clear_filter(struct tc *t);

/* ---- steps ---- */

enum prog_kind { PROG_BALANCE, PROG_DECAP };

#define EV(id) (1ULL << XLB_CNT_##id)

struct step {
	const char *what; /* names the step in a failure */
	const struct frame *in;
	__u32 action;		 /* XDP_* */
	const struct frame *out; /* NULL: for PASS the input, else unchecked */
	int verdict;		 /* counter id (balance or decap) */
	__u64 events;		 /* EV(...) set; each +1 packet */
	__u64 ignore;		 /* counters not checked (ambiguous spec) */
	int vip_id;		 /* vip_stats +{1, len}; -1 = none */
	__u32 backend;		 /* backend_stats +{1, len}; 0 = none */
};

/* Runs a step on the balancer (PROG_BALANCE) or decap program. */
void run_step(struct tc *t, enum prog_kind k, const struct step *s);
/* A balancer step that must be encapsulated to backend `be`. */
void expect_tx(struct tc *t, const char *what, const struct frame *in,
	       const struct xlb_flow_key *k, __u32 be, __u64 events);
/*
 * The same with the way out given: action XDP_TX or XDP_REDIRECT, and
 * the frame toward uplink up's gateway from its MAC (NULL: config's).
 */
void expect_sent(struct tc *t, const char *what, const struct frame *in,
		 const struct xlb_flow_key *k, __u32 be, __u64 events,
		 __u32 action, const struct xlb_uplink *up);
/* A balancer step that must answer the echo request `in` in place. */
void expect_echo_tx(struct tc *t, const char *what, const struct frame *in);
/* A balancer step that must pass the frame untouched with this verdict. */
void expect_pass(struct tc *t, const char *what, const struct frame *in,
		 int verdict);
void expect_drop(struct tc *t, const char *what, const struct frame *in,
		 int verdict, __u64 events);

/*
 * Builds p, expects it encapsulated to the backend the ring gives (rule 6;
 * FAILOVER_REPICK added when the first slot is skipped) and returns that
 * backend.
 */
__u32 tx_ring(struct tc *t, const char *what, const struct pkt *p,
	      __u64 events);
/* The same for a frame already built, whose flow key is k. */
__u32 tx_ring_frame(struct tc *t, const char *what, const struct frame *f,
		    const struct xlb_flow_key *k, __u64 events);
/* A v4 or v6 VIP address, one VIP on it and a ring of distinct backends. */
void std_vip(struct tc *t, const char *vip, __u16 port, __u8 proto,
	     __u32 vip_id, __u32 flags, __u32 ring_size, bool be_v6);
/* VIP4:80/proto id 1, ring 13 of backends 1001..1013, base config. */
void setup13(struct tc *t, __u8 proto, __u32 flags);
/* The VIP of key k (a test bug aborts when there is none). */
const struct xlb_vip *vip1(struct tc *t, const struct xlb_flow_key *k);

void expect_flow(struct tc *t, const struct xlb_flow_key *k, __u32 backend);
void expect_no_flow(struct tc *t, const struct xlb_flow_key *k);
int flow_count(struct tc *t);
/*
 * This CPU's count of new flows of VIP vip_id and of backend must both be
 * want (vip_flows, backend_flows): what `xlb top` shows as NEW/S.
 */
void expect_new_flows(struct tc *t, const char *what, __u32 vip_id,
		      __u32 backend, __u64 want);

/* ---- decap setup ---- */
void decap_add_addr(struct tc *t, const char *addr);
void decap_del_addr(struct tc *t, const char *addr);
void decap_set_port(struct tc *t, __u16 port);

/* ---- case tables ---- */

struct golden_case {
	const char *name;
	const char *desc;
	enum prog_kind prog;
	void (*fn)(struct tc *t);
};

extern const struct golden_case cases_encap[], cases_flow[], cases_parse[],
	cases_icmp[], cases_decap[], cases_hash[], cases_ring[], cases_rules[],
	cases_nat[], cases_trace[], cases_uplink[];

/* Addresses the cases share (documentation ranges only). */
#define VIP4  "198.19.0.1"
#define VIP4B "198.19.0.2"
#define VIP6  "2001:db8:1::1"
#define VIP6B "2001:db8:1::2"
#define CLI4  "198.18.10.1"
#define CLI4B "198.19.77.7"
#define CLI6  "2001:db8:c::1"
#define CLI6B "2001:db8:c::2"
#define RTR4  "198.18.50.1" /* a router sending ICMP errors */
#define RTR6  "2001:db8:50::1"
#define BE4   "198.18.1.1"
#define BE6   "2001:db8:b::1"

#define TCP   IPPROTO_TCP
#define UDP   IPPROTO_UDP
#define ICMP  IPPROTO_ICMP
#define ICMP6 IPPROTO_ICMPV6

#endif /* XLB_TESTS_GOLDEN_H */
