/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xlbd's write-ahead journal, beside its state file: one record per
 * commit, so an edit's durability costs what the edit is, not what the
 * model is. A record is one line,
 *
 *   CRC32 (8 hex digits of the text after the space) SP JSON LF
 *   {"seq": 12, "vips": [ VIP with ids, as in the state file ],
 *    "del": [ "198.19.0.1:80/tcp" ], "global": { ... }}
 *
 * holding every VIP that differs from the model before it (whole, with
 * its backends, by the state file's own encoder: config.h), the VIPs it
 * removes by key, and the global knobs when they changed. Records are
 * numbered one after the other; the state file says (journal_seq) the
 * last record it includes, so a record replayed after a compaction that
 * crashed before emptying the journal is skipped, never applied twice.
 *
 * A record cut short by a crash during its append (the last line, torn or
 * failing its CRC) was never acknowledged: replay ignores it and says so.
 * A bad record followed by another, or a gap in the numbering, is damage:
 * replay refuses with the record's place and leaves the model as given.
 */
#ifndef XLB_JOURNAL_H
#define XLB_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "model.h"

struct xlb_journal;

/* What a replay did, for the log and for opening the journal after it. */
struct xlb_journal_replay {
	__u64 seq;	   /* the last record applied (or the state's) */
	off_t valid;	   /* bytes of whole, good records */
	size_t applied;	   /* records newer than the state file */
	size_t skipped;	   /* records the state file already holds */
	bool torn;	   /* a torn last record was ignored */
	char torn_why[96]; /* why it counts as torn */
};

/*
 * Applies to m, in order, the records of the journal at path numbered
 * after seq (the state file's journal_seq). A missing journal is an
 * empty one. On damage returns -EBADMSG with err naming the record and
 * leaves m as it was; -ENOMEM, or another errno when the file cannot be
 * read.
 */
int xlb_journal_replay(const char *path, struct xlb_model *m, __u64 seq,
		       struct xlb_journal_replay *r, struct xlb_err *err);

/*
 * Opens (creates) the journal at path for appending: cut to its first
 * `valid` bytes (what a replay accepted: a torn tail goes), its last
 * record numbered seq.
 */
int xlb_journal_open(const char *path, off_t valid, __u64 seq,
		     struct xlb_journal **out, struct xlb_err *err);
void xlb_journal_close(struct xlb_journal *j);

/*
 * Appends the record that turns cur into next (their ids assigned) and
 * syncs it (fdatasync): when it returns 0 the change survives a crash.
 * Nothing is written when they are equal. On failure the journal is cut
 * back to what it held, and err says why.
 */
int xlb_journal_append(struct xlb_journal *j, const struct xlb_model *cur,
		       const struct xlb_model *next, struct xlb_err *err);
/*
 * The same append in two halves, so that the caller works while the
 * record is synced: _start writes the record and has a thread of the
 * journal's sync it (0 with nothing pending when there is nothing to
 * write; on failure nothing is pending or written); _finish waits for
 * that sync and returns what xlb_journal_append would have. In between
 * nothing of the change may be visible: it is not durable yet.
 */
int xlb_journal_append_start(struct xlb_journal *j, const struct xlb_model *cur,
			     const struct xlb_model *next, struct xlb_err *err);
int xlb_journal_append_finish(struct xlb_journal *j, struct xlb_err *err);
/*
 * Takes back the last record appended (its change was not made after
 * all), once its sync is over if it was started. Nothing when the last
 * append wrote nothing or failed. On failure the record stays and the
 * journal is broken.
 */
int xlb_journal_undo(struct xlb_journal *j, struct xlb_err *err);
/*
 * Empties the journal, once a state file with journal_seq =
 * xlb_journal_seq() is in place (records keep their numbering).
 */
int xlb_journal_reset(struct xlb_journal *j, struct xlb_err *err);

/* The last record's number, the records and bytes it holds. */
__u64 xlb_journal_seq(const struct xlb_journal *j);
size_t xlb_journal_records(const struct xlb_journal *j);
size_t xlb_journal_bytes(const struct xlb_journal *j);
/*
 * Its end is not known to be a record's end (a failed cut after a failed
 * append): no record may follow until a reset.
 */
bool xlb_journal_broken(const struct xlb_journal *j);

#endif /* XLB_JOURNAL_H */
