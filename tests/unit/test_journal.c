// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of xlbd's write-ahead journal (user/lib/journal.c): records
 * appended and replayed over a state file give the model that was
 * committed; a torn last record is ignored, a damaged one in the middle
 * or a gap refuses the replay and leaves the model alone; a state file
 * that includes records (a compaction that crashed before emptying the
 * journal) makes their replay skip them, never apply them twice; a
 * failed append or an undo leaves no record behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "helpers.h"
#include "journal.h"

static char tmpdir[64], state[96], jpath[96];

static int make_tmpdir(void **st)
{
	(void)st;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/xlb-test-journal.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(state, sizeof(state), "%s/state.json", tmpdir);
	snprintf(jpath, sizeof(jpath), "%s/state.journal", tmpdir);
	return 0;
}

static int remove_tmpdir(void **st)
{
	(void)st;
	unlink(state);
	unlink(jpath);
	return rmdir(tmpdir);
}

/* A model of a JSON document (ids as written). */
static void model_of(const char *doc, struct xlb_model *m)
{
	struct xlb_err err = {{0}};
	json_error_t jerr;
	json_t *j = json_loads(doc, 0, &jerr);

	if (!j)
		fail_msg("bad test document: %s", jerr.text);
	if (xlb_model_from_json(j, m, &err))
		fail_msg("bad test model: %s", err.msg);
	json_decref(j);
}

/* The models of the tests: a base and three edits of it in a row. */
#define VIP_A "\"vip\": \"198.19.0.1:80/tcp\", \"vip_id\": 1"
#define VIP_B "\"vip\": \"198.19.0.2:80/tcp\", \"vip_id\": 2"
#define VIP_C "\"vip\": \"198.19.0.3:53/udp\", \"vip_id\": 3"
#define VIP_D                                                                  \
	"\"vip\": \"198.19.0.4:80/tcp\", \"vip_id\": 4, \"mode\": \"nat\", "   \
	"\"pool\": \"p1\""
#define POOL_P                                                                 \
	"{\"name\": \"p1\", \"addresses\": \"198.18.200.1-198.18.200.2\", "    \
	"\"subpool_ports\": 1024, \"pool_id\": 1, \"subpool_base\": 1, "       \
	"\"n_subpools\": 126}"
#define UPLINK_1                                                               \
	"{\"interface\": \"eth1\", \"gateway\": \"02:00:00:00:00:01\", "       \
	"\"id\": 1}"
#define UPLINK_2                                                               \
	"{\"interface\": \"eth2\", \"gateway\": \"198.18.0.254\", "            \
	"\"share\": 3, \"mtu\": 9000, \"id\": 2}"
#define UPLINK_2B                                                              \
	"{\"interface\": \"eth2\", \"gateway\": \"02:00:00:00:00:02\", "       \
	"\"share\": 1, \"mtu\": 9000, \"id\": 2}"
#define BS_A  "{\"addr\": \"198.18.1.1\", \"id\": 1}, "
#define BS_A2 "{\"addr\": \"198.18.1.2\", \"id\": 2}"
#define DOC5                                                                   \
	"\"global\": {\"ttl\": 9}, \"vips\": [{" VIP_A                         \
	", \"backends\": [" BS_A2 "]}, {" VIP_C                                \
	", \"backends\": [{\"addr\": \"198.18.3.1\", \"id\": 4,"               \
	" \"check\": {\"kind\": \"udp\", \"udp_send\": \"x\"}}]}]"
static const char *const docs[] = {
	"{\"vips\": [{" VIP_A ", \"backends\": [" BS_A BS_A2 "]},"
	" {" VIP_B ", \"backends\": [{\"addr\": \"198.18.2.1\", \"id\": 3}]}]}",
	/* 1: a weight in A */
	"{\"vips\": [{" VIP_A ", \"backends\": [" BS_A
	"{\"addr\": \"198.18.1.2\", \"id\": 2, \"weight\": 7}]},"
	" {" VIP_B ", \"backends\": [{\"addr\": \"198.18.2.1\", \"id\": 3}]}]}",
	/* 2: B goes, C comes, the TTL changes */
	"{\"global\": {\"ttl\": 9}, \"vips\": [{" VIP_A ", \"backends\": [" BS_A
	"{\"addr\": \"198.18.1.2\", \"id\": 2, \"weight\": 7}]},"
	" {" VIP_C ", \"backends\": [{\"addr\": \"198.18.3.1\", \"id\": 4,"
	" \"check\": {\"kind\": \"udp\", \"udp_send\": \"x\"}}]}]}",
	/* 3: a backend of A goes */
	"{\"global\": {\"ttl\": 9}, \"vips\": [{" VIP_A
	", \"backends\": [" BS_A2 "]}, {" VIP_C
	", \"backends\": [{\"addr\": \"198.18.3.1\", \"id\": 4,"
	" \"check\": {\"kind\": \"udp\", \"udp_send\": \"x\"}}]}]}",
	/* 4: a client-NAT pool and a VIP in nat mode taking its ports */
	"{\"global\": {\"ttl\": 9}, \"pools\": [" POOL_P "], \"vips\": [{" VIP_A
	", \"backends\": [" BS_A2 "]}, {" VIP_C
	", \"backends\": [{\"addr\": \"198.18.3.1\", \"id\": 4,"
	" \"check\": {\"kind\": \"udp\", \"udp_send\": \"x\"}}]}, {" VIP_D
	", \"backends\": [{\"addr\": \"198.18.4.1\", \"id\": 5}]}]}",
	/* 5: both go again */
	"{" DOC5 "}",
	/* 6: two uplinks come */
	"{" DOC5 ", \"uplinks\": [" UPLINK_1 ", " UPLINK_2 "]}",
	/* 7: the second's share and gateway change (its id stays) */
	"{" DOC5 ", \"uplinks\": [" UPLINK_1 ", " UPLINK_2B "]}",
	/* 8: the first goes */
	"{" DOC5 ", \"uplinks\": [" UPLINK_2B "]}",
	/* 9: the last goes: "none left" must replay as none */
	"{" DOC5 "}",
};

#define N_DOCS (sizeof(docs) / sizeof(docs[0]))

static void state_save(int doc, __u64 seq)
{
	struct xlb_err err = {{0}};
	struct xlb_model m;
	char *tmp = NULL;

	model_of(docs[doc], &m);
	if (xlb_state_save_begin(state, &m, seq, &tmp, &err) ||
	    xlb_model_save_end(state, tmp, true, &err))
		fail_msg("cannot save the state: %s", err.msg);
	xlb_model_free(&m);
}

/*
 * A state file of docs[0] (journal_seq 0) and a journal of the edits
 * docs[0] -> docs[1] -> ... -> docs[upto]; the journal stays open.
 */
static struct xlb_journal *journal_upto(size_t upto)
{
	struct xlb_err err = {{0}};
	struct xlb_model a, b;
	struct xlb_journal *j;

	unlink(jpath);
	state_save(0, 0);
	if (xlb_journal_open(jpath, 0, 0, &j, &err))
		fail_msg("cannot open the journal: %s", err.msg);
	for (size_t i = 1; i <= upto; i++) {
		model_of(docs[i - 1], &a);
		model_of(docs[i], &b);
		if (xlb_journal_append(j, &a, &b, &err))
			fail_msg("append %zu: %s", i, err.msg);
		xlb_model_free(&a);
		xlb_model_free(&b);
	}
	assert_int_equal(xlb_journal_seq(j), upto);
	return j;
}

/* The state file and the journal replayed over it must give docs[want]. */
static void assert_replays_to(size_t want, struct xlb_journal_replay *r)
{
	struct xlb_err err = {{0}};
	struct xlb_model m, expect;
	__u64 seq;

	if (xlb_state_load(state, &m, &seq, &err))
		fail_msg("cannot load the state: %s", err.msg);
	if (xlb_journal_replay(jpath, &m, seq, r, &err))
		fail_msg("replay: %s", err.msg);
	model_of(docs[want], &expect);
	assert_true(xlb_model_equal(&m, &expect, true));
	xlb_model_free(&m);
	xlb_model_free(&expect);
}

/* The journal replays to docs[want], all of its records, no torn tail. */
static void assert_replays_whole(size_t want)
{
	struct xlb_journal_replay r;

	assert_replays_to(want, &r);
	assert_int_equal(r.applied, want);
	assert_false(r.torn);
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);

	assert_non_null(f);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* The byte offset of record n (1-based) in buf. */
static size_t record_at(const char *buf, size_t n)
{
	size_t at = 0;

	while (--n)
		at = (size_t)(strchr(buf + at, '\n') - buf) + 1;
	return at;
}

/* ---- tests ------------------------------------------------------------- */

static void test_append_replay(void **st)
{
	struct xlb_journal *j = journal_upto(N_DOCS - 1);
	struct xlb_err err = {{0}};
	struct xlb_journal_replay r;
	struct xlb_model a, b;
	off_t size = file_size(jpath);
	size_t len;
	char *buf;

	(void)st;
	assert_int_equal(xlb_journal_records(j), N_DOCS - 1);
	assert_int_equal(xlb_journal_bytes(j), size);
	/* No change, no record. */
	model_of(docs[N_DOCS - 1], &a);
	model_of(docs[N_DOCS - 1], &b);
	assert_int_equal(xlb_journal_append(j, &a, &b, &err), 0);
	assert_int_equal(file_size(jpath), size);
	assert_int_equal(xlb_journal_seq(j), N_DOCS - 1);
	xlb_model_free(&a);
	xlb_model_free(&b);
	xlb_journal_close(j);

	assert_replays_to(N_DOCS - 1, &r);
	assert_int_equal(r.applied, N_DOCS - 1);
	assert_int_equal(r.skipped, 0);
	assert_int_equal(r.seq, N_DOCS - 1);
	assert_int_equal(r.valid, size);
	assert_false(r.torn);

	/* A record holds what changed, not the model: the first one
	 * (a weight in A) names neither B nor the global knobs. */
	buf = slurp(jpath, &len);
	*strchr(buf, '\n') = '\0';
	assert_non_null(strstr(buf, "198.19.0.1:80/tcp"));
	assert_null(strstr(buf, "198.19.0.2"));
	assert_null(strstr(buf, "\"global\""));
	free(buf);
}

/*
 * Uplinks as pools: a record of an uplink edit carries every uplink as
 * it is then (an empty array when the last went), and each prefix of
 * the journal replays to its model, ids and all.
 */
static void test_uplinks_replay(void **st)
{
	struct xlb_journal_replay r;
	size_t len;
	char *buf;

	(void)st;
	for (size_t k = 6; k < N_DOCS; k++) {
		xlb_journal_close(journal_upto(k));
		assert_replays_to(k, &r);
		assert_int_equal(r.applied, k);
	}
	buf = slurp(jpath, &len);
	/* 6: both, as added. */
	assert_non_null(strstr(buf + record_at(buf, 6), "\"uplinks\":[{"));
	/* 9: none left, said so; 1: no uplink changed, none named. */
	assert_non_null(strstr(buf + record_at(buf, 9), "\"uplinks\":[]"));
	*strchr(buf, '\n') = '\0';
	assert_null(strstr(buf, "uplinks"));
	free(buf);
}

static void test_torn_tail_ignored(void **st)
{
	struct xlb_journal *j = journal_upto(N_DOCS - 1);
	struct xlb_journal_replay r;
	size_t len, last;
	char *buf;

	(void)st;
	xlb_journal_close(j);
	buf = slurp(jpath, &len);
	last = record_at(buf, N_DOCS - 1);

	/* Cut inside the last record: no end of line. */
	spit(jpath, buf, len - 7);
	assert_replays_to(N_DOCS - 2, &r);
	assert_true(r.torn);
	assert_int_equal(r.applied, N_DOCS - 2);
	assert_int_equal(r.valid, last);

	/* Whole length, but its bytes never reached the disk (zeros). */
	memset(buf + last, 0, len - last - 1);
	spit(jpath, buf, len);
	assert_replays_to(N_DOCS - 2, &r);
	assert_true(r.torn);
	assert_int_equal(r.valid, last);

	/* Opening after the replay cuts the torn tail away. */
	assert_int_equal(xlb_journal_open(jpath, r.valid, r.seq, &j, NULL), 0);
	assert_int_equal(file_size(jpath), last);
	xlb_journal_close(j);
	free(buf);
}

static void test_damage_in_the_middle_refused(void **st)
{
	struct xlb_journal *j = journal_upto(N_DOCS - 1);
	struct xlb_err err = {{0}};
	struct xlb_journal_replay r;
	struct xlb_model m, base;
	size_t len, second;
	char *buf;
	__u64 seq;

	(void)st;
	xlb_journal_close(j);
	buf = slurp(jpath, &len);
	second = record_at(buf, 2);
	/* One bit of the second record's JSON flipped: the CRC says so. */
	buf[second + 9 + 3] ^= 1;
	spit(jpath, buf, len);

	assert_int_equal(xlb_state_load(state, &m, &seq, &err), 0);
	assert_int_equal(xlb_journal_replay(jpath, &m, seq, &r, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "record 2"));
	/* The state file's model, not half of the journal's. */
	model_of(docs[0], &base);
	assert_true(xlb_model_equal(&m, &base, true));
	xlb_model_free(&m);

	/* A record missing in the middle is damage too. */
	buf[second + 9 + 3] ^= 1;
	memmove(buf + second, buf + record_at(buf, 3), len - record_at(buf, 3));
	spit(jpath, buf, len - (record_at(buf, 3) - second));
	assert_int_equal(xlb_state_load(state, &m, &seq, &err), 0);
	assert_int_equal(xlb_journal_replay(jpath, &m, seq, &r, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "missing"));
	assert_true(xlb_model_equal(&m, &base, true));
	xlb_model_free(&m);
	xlb_model_free(&base);
	free(buf);
}

/*
 * A compaction writes the state with journal_seq, then empties the
 * journal. A crash between the two leaves records the state holds: they
 * are skipped (record 2 removes VIP B: applied twice, it would fail).
 */
static void test_compaction_idempotent(void **st)
{
	struct xlb_journal *j = journal_upto(N_DOCS - 1);
	struct xlb_err err = {{0}};
	struct xlb_journal_replay r;
	struct xlb_model a, b;

	(void)st;
	state_save(N_DOCS - 1, N_DOCS - 1);
	assert_replays_to(N_DOCS - 1, &r);
	assert_int_equal(r.applied, 0);
	assert_int_equal(r.skipped, N_DOCS - 1);
	assert_int_equal(r.seq, N_DOCS - 1);

	/* Emptied, the journal goes on numbering after the state. */
	assert_int_equal(xlb_journal_reset(j, &err), 0);
	assert_int_equal(file_size(jpath), 0);
	model_of(docs[N_DOCS - 1], &a);
	model_of(docs[N_DOCS - 2], &b);
	assert_int_equal(xlb_journal_append(j, &a, &b, &err), 0);
	assert_int_equal(xlb_journal_seq(j), N_DOCS);
	xlb_journal_close(j);
	assert_replays_to(N_DOCS - 2, &r);
	assert_int_equal(r.applied, 1);
	assert_int_equal(r.seq, N_DOCS);

	/* A state file older than the journal's first record: a gap. */
	state_save(0, 0);
	assert_int_equal(xlb_state_load(state, &a, &r.seq, &err), 0);
	xlb_model_free(&b);
	assert_int_equal(xlb_journal_replay(jpath, &a, 0, &r, &err), -EBADMSG);
	xlb_model_free(&a);
}

/* A failed append (a full disk, here a file size limit) or an undo
 * leaves no record; the next append is whole. */
static void test_failed_append_and_undo(void **st)
{
	struct xlb_journal *j = journal_upto(1);
	struct xlb_err err = {{0}};
	struct rlimit rl, small;
	struct xlb_model a, b;
	off_t size = file_size(jpath);
	int ret;

	(void)st;
	model_of(docs[1], &a);
	model_of(docs[2], &b);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	small = rl;
	small.rlim_cur = size + 16;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	ret = xlb_journal_append(j, &a, &b, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(ret, -EFBIG);
	assert_non_null(strstr(err.msg, "journal"));
	assert_int_equal(file_size(jpath), size);
	assert_int_equal(xlb_journal_seq(j), 1);
	assert_false(xlb_journal_broken(j));

	/* Appended, then taken back: the change was not made. */
	assert_int_equal(xlb_journal_append(j, &a, &b, &err), 0);
	assert_int_equal(xlb_journal_undo(j, &err), 0);
	assert_int_equal(file_size(jpath), size);
	assert_int_equal(xlb_journal_seq(j), 1);

	assert_int_equal(xlb_journal_append(j, &a, &b, &err), 0);
	xlb_journal_close(j);
	assert_replays_whole(2);
	xlb_model_free(&a);
	xlb_model_free(&b);
}

/*
 * The append in two halves (xlbd syncs the record while it builds the
 * rings): start + finish is an append; start then undo takes the record
 * back once its sync is over; an undo after an append that wrote
 * nothing (no change) takes nothing back, not the record before it.
 */
static void test_append_in_two_halves(void **st)
{
	struct xlb_journal *j = journal_upto(1);
	struct xlb_err err = {{0}};
	struct xlb_model a, b;
	off_t size = file_size(jpath);

	(void)st;
	model_of(docs[1], &a);
	model_of(docs[2], &b);
	/* Started, not finished: written, not yet counted. */
	assert_int_equal(xlb_journal_append_start(j, &a, &b, &err), 0);
	assert_true(file_size(jpath) > size);
	assert_int_equal(xlb_journal_seq(j), 1);
	/* Taken back before its finish: the change was not made. */
	assert_int_equal(xlb_journal_undo(j, &err), 0);
	assert_int_equal(file_size(jpath), size);
	assert_int_equal(xlb_journal_seq(j), 1);

	assert_int_equal(xlb_journal_append_start(j, &a, &b, &err), 0);
	assert_int_equal(xlb_journal_append_finish(j, &err), 0);
	assert_int_equal(xlb_journal_seq(j), 2);
	assert_int_equal(xlb_journal_bytes(j), file_size(jpath));
	size = file_size(jpath);
	/* Nothing to write, then an undo: record 2 stays. */
	assert_int_equal(xlb_journal_append_start(j, &b, &b, &err), 0);
	assert_int_equal(xlb_journal_append_finish(j, &err), 0);
	assert_int_equal(xlb_journal_undo(j, &err), 0);
	assert_int_equal(file_size(jpath), size);
	assert_int_equal(xlb_journal_seq(j), 2);
	/* A finish with nothing started is nothing. */
	assert_int_equal(xlb_journal_append_finish(j, &err), 0);
	xlb_journal_close(j);
	assert_replays_whole(2);
	xlb_model_free(&a);
	xlb_model_free(&b);
}

/* A state file still applies as a config: journal_seq is ignored. */
static void test_state_is_a_config(void **st)
{
	struct xlb_err err = {{0}};
	struct xlb_model m;

	(void)st;
	state_save(2, 41);
	assert_int_equal(xlb_model_load(state, &m, &err), 0);
	assert_int_equal(m.n_vips, 2);
	xlb_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_replay),
		cmocka_unit_test(test_uplinks_replay),
		cmocka_unit_test(test_torn_tail_ignored),
		cmocka_unit_test(test_damage_in_the_middle_refused),
		cmocka_unit_test(test_compaction_idempotent),
		cmocka_unit_test(test_failed_append_and_undo),
		cmocka_unit_test(test_append_in_two_halves),
		cmocka_unit_test(test_state_is_a_config),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
