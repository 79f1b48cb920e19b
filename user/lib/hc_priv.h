/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The health checker's insides, shared by its files and no one else:
 * health.c schedules checks (slots, id map, timer heap, the engine's
 * lifecycle), hc_probe.c runs one probe of a check (TCP, HTTP, HTTPS,
 * UDP, exec) to a verdict, hc_tls.c adds TLS to an HTTPS probe's socket,
 * hc_spec.c turns a target into what probes use.
 */
#ifndef XLB_HC_PRIV_H
#define XLB_HC_PRIV_H

#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <openssl/ssl.h>

#include "health.h"

#define HC_CHUNK_SHIFT 8
#define HC_CHUNK       (1U << HC_CHUNK_SHIFT)
#define HC_NONE	       0xffffffffU
/* HTTP: bytes read at most before the body is declared to lack the text. */
#define HC_RX_MAX 16384
/* Due checks handled per timer wake-up, so a burst cannot starve the loop. */
#define HC_BATCH 256
/*
 * The timer is armed this late: runs and timeouts due within it are then
 * handled in one wake-up instead of one each. Late, never early, so a
 * timeout never fires before timeout_ms.
 */
#define HC_SLACK_NS 1000000ULL
#define NS_PER_MS   1000000ULL
#define NS_PER_S    1000000000ULL

#define HC_ENV_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

enum hc_phase {
	HC_IDLE,    /* no probe running */
	HC_CONNECT, /* TCP, HTTP: connect() in flight */
	HC_TLS,	    /* HTTPS: the TLS handshake in flight */
	HC_SEND,    /* HTTP: request partly sent */
	HC_RECV,    /* HTTP, UDP: waiting for the answer */
	HC_WAIT,    /* exec: the child runs */
};

/* Header-end matcher states (any of "\n\n", "\n\r\n" ends the header). */
enum { HDR_LINE, HDR_BOL, HDR_BOL_CR, HDR_BODY };

/*
 * A check's configuration in the shape probes use it, with only the
 * strings its kind needs, plus the running HTTP probe's progress (one
 * probe per check at most, so it lives here and not per probe).
 */
struct hc_spec {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr;
	socklen_t addr_len;
	__u32 mark;
	char ifname[16];
	__u16 mss;
	__u16 http_status;
	__u16 out_len;	 /* HTTP request or UDP payload */
	__u16 match_len; /* http_body or udp_expect; 0 = anything */
	__u16 out_done;	 /* HTTP: request bytes sent */
	__u16 rx_len;	 /* HTTP: response bytes read */
	__u16 status;	 /* HTTP: parsed status, 0 = not yet */
	__u8 line_len;
	__u8 hdr_state;
	__u8 carry_len;
	char line[32]; /* HTTP: the start of the status line */
	/* HTTPS: the shared context, NULL when it could not be made. */
	struct hc_tls_ctx *tls;
	const char *tls_sni;  /* "" = no SNI */
	const char *tls_fail; /* why tls is NULL */
	union {
		struct {
			const char *out;
			const char *match;
			/* The body's last match_len - 1 bytes, across reads. */
			char *carry;
		} sock;
		struct {
			char *argv[4];
			char *envp[5];
		} exec;
	};
	char data[];
};

struct hc_check {
	struct xlb_watch watch; /* the running probe's socket or pidfd */
	struct xlb_hc *e;
	struct hc_spec *spec; /* NULL while the slot is free */
	__u64 next_run;	      /* scheduled start, ns of CLOCK_MONOTONIC */
	__u64 start;	      /* the running probe's actual start */
	__u32 interval_ms;
	__u32 timeout_ms;
	__u32 id;
	__u32 heap_pos; /* in e->heap; the next free slot while free */
	int fd;		/* socket or pidfd of the running probe, or -1 */
	SSL *ssl;	/* HTTPS: the running probe's TLS, once connected */
	pid_t pid;	/* exec: the running child, 0 once reaped */
	__u8 kind;
	__u8 phase;
};

struct hc_heap_ent {
	__u64 key; /* ns: when the check needs attention */
	__u32 slot;
};

struct hc_map_ent {
	__u32 id;
	__u32 slot; /* HC_NONE: empty */
};

/* An abandoned exec child, killed, whose exit is still to be reaped. */
struct hc_reap {
	struct xlb_watch watch;
	struct xlb_hc *e;
	struct hc_reap *next, **pprev;
	int pidfd;
	pid_t pid;
};

struct xlb_hc {
	int epfd;
	int tfd;
	struct xlb_watch timer_watch;
	hc_result_fn fn;
	void *ctx;
	bool closing; /* xlb_hc_free: reap children synchronously */
	struct hc_check **chunks;
	__u32 n_chunks;
	__u32 n_slots;	 /* slots ever handed out */
	__u32 free_slot; /* head of the free list, HC_NONE if empty */
	size_t count;
	struct hc_heap_ent *heap;
	__u32 heap_len, heap_cap;
	struct hc_map_ent *map;
	__u32 map_mask;
	struct hc_reap *reaping;
	__u64 armed; /* absolute expiry the timerfd holds, 0 = none */
	posix_spawnattr_t spawn_attr;
	posix_spawn_file_actions_t spawn_fa;
	struct hc_tls_ctx *tls; /* HTTPS contexts in use (hc_tls.c) */
	/* Receive buffer, with room in front for the body carry-over. */
	char rx[XLB_CHECK_STRLEN + HC_RX_MAX];
};

/* The check in slot idx of the engine's chunks. */
static inline struct hc_check *hc_slot_at(const struct xlb_hc *e, __u32 idx)
{
	return &e->chunks[idx >> HC_CHUNK_SHIFT][idx & (HC_CHUNK - 1)];
}

/* hc_sched.c: the schedule. */
/* Re-keys a check after its next run or its probe changed. */
void hc_sched_update(struct hc_check *s);
/* Room for one more entry in the heap: 0 or -ENOMEM. */
int hc_heap_reserve(struct xlb_hc *e);
/* Takes the entry at pos out of the heap. */
void hc_heap_remove(struct xlb_hc *e, __u32 pos);
/* Arms the timerfd for the heap's top (no earlier than it already is). */
void hc_arm(struct xlb_hc *e);
/* Moves s's next run to the first multiple of its interval past now. */
void hc_advance(struct hc_check *s, __u64 now);

/* hc_probe.c: the probes. */
/* Ends the running probe with a verdict; the caller must return at once. */
__attribute__((format(printf, 3, 4))) void
hc_probe_end(struct hc_check *s, bool ok, const char *fmt, ...);
/* Starts a probe of s (its slot is due and idle). */
void hc_probe_start(struct hc_check *s);
/* Releases the running probe, if any, without a result. */
void hc_probe_stop(struct hc_check *s);
/* The watch of every probe fd; stale events find nothing to do. */
void hc_on_probe(struct xlb_watch *w, uint32_t events);
/* Kills and reaps, synchronously, the children still being reaped. */
void hc_reap_all(struct xlb_hc *e);

/* hc_spec.c: builds what the probes of t need; 0 or -EINVAL, -ENOMEM. */
int hc_spec_new(struct xlb_hc *e, const struct hc_target *t,
		struct hc_spec **out);
/* Frees sp (NULL is fine) and drops its TLS context. */
void hc_spec_free(struct xlb_hc *e, struct hc_spec *sp);

/* hc_tls.c: TLS on an HTTPS probe's socket. */
/*
 * The context for c's verify and CA file, shared and counted; 0, or a
 * negative errno with why (for the operator) set.
 */
int hc_tls_ctx_get(struct xlb_hc *e, const struct xlb_check_cfg *c,
		   struct hc_tls_ctx **out, char *why, size_t len);
void hc_tls_ctx_put(struct xlb_hc *e, struct hc_tls_ctx *t);
/* Puts TLS on s's connected socket: 0, or -1 once the probe has ended. */
int hc_tls_begin(struct hc_check *s);
/* Advances the handshake: 1 done, 0 wait for the fd, -1 probe ended. */
int hc_tls_handshake(struct hc_check *s);
/* As send and recv: -1 with errno EAGAIN to wait, EPROTO for TLS. */
ssize_t hc_tls_send(struct hc_check *s, const void *buf, size_t len);
ssize_t hc_tls_recv(struct hc_check *s, void *buf, size_t len);
/* strerror(err), or OpenSSL's reason for EPROTO. */
const char *hc_tls_strerror(const struct hc_check *s, int err);
/* Frees the running probe's TLS. */
void hc_tls_end(struct hc_check *s);

#endif /* XLB_HC_PRIV_H */
