/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * What BIRD reports about xlbd's announcements, asked through its control
 * socket (the protocol birdc speaks, no birdc process): whether a VIP's
 * route is in BIRD's table and exported to a BGP session that is up, and
 * the state of the BGP and BFD protocols, for status.
 *
 * The protocol: BIRD greets with "0001 BIRD 2.0.12 ready."; a command is
 * one line; a reply is lines "NNNN-text" (more follow), " text" (more of
 * the previous code) and one last "NNNN text": 0000 a successful end,
 * 8xxx/9xxx an error. Lines starting with '+' are asynchronous messages
 * and belong to no reply.
 */
#ifndef XLB_BIRD_H
#define XLB_BIRD_H

#include <stddef.h>
#include <linux/types.h>

#include "err.h"
#include "route.h"

/* What BIRD knows of one announced address (state[i] of xlb_bird_query). */
enum xlb_bird_route {
	XLB_BIRD_UNKNOWN = 0, /* BIRD not reachable, or its answer unclear */
	XLB_BIRD_ABSENT,      /* not in BIRD's table */
	XLB_BIRD_PRESENT,     /* in BIRD's table, exported to no BGP up */
	XLB_BIRD_EXPORTED,    /* and exported to a BGP protocol that is up */
};

/* The name of a state: "unknown", "absent", "present", "exported". */
const char *xlb_bird_route_str(__u8 state);

/*
 * Asks BIRD (control socket path sock) about each address, with one bound
 * (timeout_ms) on the whole conversation. Commands: "show protocols" (the
 * BGP protocols up), "show route A/32" (present in the table of its type,
 * master4 or master6) and "show route A/32 export P" for each BGP P up
 * (exported to P). Returns 0, or -ECONNREFUSED, -ENOENT, -ETIMEDOUT,
 * -EPROTO (a line it could not parse: the conversation ends there)...:
 * then err says why, and every address not yet answered is UNKNOWN.
 * -EBADMSG: a reply about some address was not understood (an error
 * code it did not expect); those are UNKNOWN, the others answered.
 */
int xlb_bird_query(const char *sock, const struct xlb_route_entry *addrs,
		   size_t n, unsigned timeout_ms, __u8 *state,
		   struct xlb_err *err);

/* One BGP or BFD protocol of "show protocols", for status. */
struct xlb_bird_proto {
	char name[64];
	char proto[16]; /* "BGP", "BFD" */
	char state[16]; /* "up", "start", "down", ... */
	char info[96];	/* "Established", "Active  Socket: ..." */
};

/* The BGP and BFD protocols of BIRD; *out malloc'd (NULL when *n is 0). */
int xlb_bird_protocols(const char *sock, unsigned timeout_ms,
		       struct xlb_bird_proto **out, size_t *n,
		       struct xlb_err *err);

/*
 * The parser of replies, pure (no I/O) so it is tested on canned text.
 * fn gets every line of the reply at the head of buf[0..len): its code
 * (a continuation line has the code of the line before), its text without
 * the prefix or newline, and that text's length.
 */
typedef void (*xlb_bird_line_fn)(void *ctx, int code, const char *text,
				 size_t len);

/*
 * Returns the bytes of the whole reply once its last line is in buf (and
 * its code in *last), 0 while it is incomplete (read more), -EPROTO on a
 * line that no BIRD reply has (then err says which).
 */
int xlb_bird_parse_reply(const char *buf, size_t len, int *last,
			 xlb_bird_line_fn fn, void *ctx, struct xlb_err *err);

#endif /* XLB_BIRD_H */
