// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the etcd client (user/lib/etcd*.c) against a real,
 * single-member etcd started in the test's own network namespace: what a
 * caller checks of each call (values round-trip byte for byte, prefix
 * boundaries, compare-and-put refusing a stale revision, leases, watch
 * events in order, a compacted start, the stop flag, endpoint failover)
 * and that a dead cluster makes calls fail in bounded time, never hang.
 * Without root or without etcd every case that needs it is skipped.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "etcd.h"

#define ETCD_BIN "/usr/bin/etcd"
#define URL	 "http://127.0.0.1:23790"

static char tmpdir[64], skip_why[256];
static struct xlb_etcd *cli;

/* Skips the case, saying why, when there is no etcd to talk to. */
#define NEED_ETCD()                                                            \
	do {                                                                   \
		if (skip_why[0]) {                                             \
			print_message("skipped: %s\n", skip_why);              \
			skip();                                                \
		}                                                              \
	} while (0)

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ---- the etcd under test ----------------------------------------------- */

/*
 * The members this test runs: 0 the single one, 1-3 a cluster of three,
 * 4 one that speaks TLS.
 */
static pid_t pids[5];

static void etcd_stop(void)
{
	char cmd[96];

	for (int i = 0; i < 5; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
			pids[i] = 0;
		}
	}
	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", tmpdir);
		tmpdir[0] = '\0';
	}
}

/* Kills member i and waits until it is gone. */
static void etcd_kill(int i)
{
	kill(pids[i], SIGKILL);
	waitpid(pids[i], NULL, 0);
	pids[i] = 0;
}

static int lo_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	strcpy(ifr.ifr_name, "lo");
	if (fd >= 0 && !ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * Member i, named name, clients on port and peers on port + 10, in
 * cluster ("name=peer URL,..."); its data and log under tmpdir. With
 * tls, clients speak https and show a certificate of tmpdir/tls's CA.
 */
static void etcd_spawn(int i, const char *name, int port, const char *cluster,
		       bool tls)
{
	char data[96], log[96], url[32], peer[32], ca[96], crt[96], key[96];

	pids[i] = fork();
	if (pids[i])
		return;
	/* A test killed before its atexit must not leave etcd behind. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(data, sizeof(data), "%s/%s", tmpdir, name);
	snprintf(log, sizeof(log), "%s/%s.log", tmpdir, name);
	snprintf(url, sizeof(url), "http%s://127.0.0.1:%d", tls ? "s" : "",
		 port);
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", port + 10);
	snprintf(ca, sizeof(ca), "%s/tls/ca.crt", tmpdir);
	snprintf(crt, sizeof(crt), "%s/tls/server.crt", tmpdir);
	snprintf(key, sizeof(key), "%s/tls/server.key", tmpdir);
	if (!freopen(log, "w", stdout) || !freopen(log, "a", stderr))
		_exit(126);
	/* Without tls the arguments end at its NULL. */
	execl(ETCD_BIN, "etcd", "--name", name, "--data-dir", data,
	      "--listen-client-urls", url, "--advertise-client-urls", url,
	      "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
	      "--initial-cluster", cluster, "--log-level", "error",
	      tls ? "--client-cert-auth" : NULL, "--trusted-ca-file", ca,
	      "--cert-file", crt, "--key-file", key, (char *)NULL);
	_exit(127);
}

/* Polls c until a put goes through (a leader is elected), up to ms. */
static int etcd_wait(struct xlb_etcd *c, int i, unsigned ms,
		     struct xlb_err *err)
{
	__u64 end;

	for (end = xlb_now_ms() + ms; xlb_now_ms() < end; sleep_ms(50)) {
		if (!xlb_etcd_put(c, "ready", "", 0, 0, NULL, err))
			return 0;
		if (pids[i] <= 0 || waitpid(pids[i], NULL, WNOHANG) == pids[i])
			break;
	}
	return -ETIMEDOUT;
}

/* Starts etcd and waits until it answers; skip_why says why not. */
static void etcd_start(void)
{
	struct xlb_etcd_opts o = {.endpoints = URL, .timeout_ms = 1000};
	struct xlb_err err = {{0}};

	if (geteuid() != 0) {
		snprintf(skip_why, sizeof(skip_why), "not root");
		return;
	}
	if (access(ETCD_BIN, X_OK)) {
		snprintf(skip_why, sizeof(skip_why), "no %s", ETCD_BIN);
		return;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/xlb-test-etcd.XXXXXX");
	if (unshare(CLONE_NEWNET) || lo_up() || !mkdtemp(tmpdir)) {
		snprintf(skip_why, sizeof(skip_why),
			 "no network namespace or temporary directory: %m");
		tmpdir[0] = '\0';
		return;
	}
	atexit(etcd_stop);
	etcd_spawn(0, "t", 23790, "t=http://127.0.0.1:23800", false);
	if (pids[0] < 0 || xlb_etcd_new(&o, &cli, &err)) {
		snprintf(skip_why, sizeof(skip_why), "cannot start etcd");
		return;
	}
	if (etcd_wait(cli, 0, 20000, &err))
		snprintf(skip_why, sizeof(skip_why),
			 "etcd did not answer in 20 s (see %s/t.log): %.60s",
			 tmpdir, err.msg);
}

/* ---- key-values -------------------------------------------------------- */

static void test_put_get_binary(void **state)
{
	static const char val[] = {'a', '\0', 'b', (char)0xff, '\n'};
	struct xlb_err err = {{0}};
	struct xlb_etcd_kvs kvs;
	int64_t rev = 0;

	(void)state;
	NEED_ETCD();
	assert_int_equal(
		xlb_etcd_put(cli, "/t/pg/k", val, sizeof(val), 0, &rev, &err),
		0);
	assert_true(rev > 0);
	assert_int_equal(xlb_etcd_get(cli, "/t/pg/k", false, &kvs, &err), 0);
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.kv[0].key, "/t/pg/k");
	assert_int_equal(kvs.kv[0].value_len, sizeof(val));
	assert_memory_equal(kvs.kv[0].value, val, sizeof(val));
	assert_int_equal(kvs.kv[0].value[sizeof(val)], '\0');
	assert_int_equal(kvs.kv[0].mod_rev, rev);
	assert_int_equal(kvs.kv[0].create_rev, rev);
	assert_int_equal(kvs.kv[0].version, 1);
	assert_int_equal(kvs.kv[0].lease, 0);
	assert_true(kvs.revision >= rev);
	xlb_etcd_kvs_free(&kvs);

	/* Missing: no error, nothing, but still the store's revision. */
	assert_int_equal(xlb_etcd_get(cli, "/t/pg/none", false, &kvs, &err), 0);
	assert_int_equal(kvs.n, 0);
	assert_true(kvs.revision >= rev);
	xlb_etcd_kvs_free(&kvs);

	/* An empty value is a value (etcd leaves the field out). */
	assert_int_equal(xlb_etcd_put(cli, "/t/pg/k", "", 0, 0, NULL, &err), 0);
	assert_int_equal(xlb_etcd_get(cli, "/t/pg/k", false, &kvs, &err), 0);
	assert_int_equal(kvs.n, 1);
	assert_int_equal(kvs.kv[0].value_len, 0);
	assert_string_equal(kvs.kv[0].value, "");
	assert_int_equal(kvs.kv[0].version, 2);
	xlb_etcd_kvs_free(&kvs);
}

static void put_str(const char *key, const char *val)
{
	struct xlb_err err = {{0}};

	if (xlb_etcd_put(cli, key, val, strlen(val), 0, NULL, &err))
		fail_msg("put %s: %s", key, err.msg);
}

/* "/a/b/" holds "/a/b/..." only: not "/a/bx", not "/a/b" itself. */
static void test_prefix_boundary(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_etcd_kvs kvs;

	(void)state;
	NEED_ETCD();
	put_str("/t/px/a/b", "self");
	put_str("/t/px/a/b/2", "two");
	put_str("/t/px/a/b/1", "one");
	put_str("/t/px/a/bx", "sibling");
	put_str("/t/px/a/b0", "after '/'");
	assert_int_equal(xlb_etcd_get(cli, "/t/px/a/b/", true, &kvs, &err), 0);
	assert_int_equal(kvs.n, 2);
	assert_string_equal(kvs.kv[0].key, "/t/px/a/b/1");
	assert_string_equal(kvs.kv[0].value, "one");
	assert_string_equal(kvs.kv[1].key, "/t/px/a/b/2");
	xlb_etcd_kvs_free(&kvs);
	/* Without prefix, the same key is one key: there is none. */
	assert_int_equal(xlb_etcd_get(cli, "/t/px/a/b/", false, &kvs, &err), 0);
	assert_int_equal(kvs.n, 0);
	xlb_etcd_kvs_free(&kvs);
	/* The empty prefix is every key. */
	assert_int_equal(xlb_etcd_get(cli, "", true, &kvs, &err), 0);
	assert_true(kvs.n >= 5);
	xlb_etcd_kvs_free(&kvs);
	/* A prefix ending in 0xff ranges up to the byte before it. */
	put_str("/t/px/\xff\xff/k", "ff");
	put_str("/t/py", "next");
	assert_int_equal(xlb_etcd_get(cli, "/t/px/\xff", true, &kvs, &err), 0);
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.kv[0].value, "ff");
	xlb_etcd_kvs_free(&kvs);
}

static void test_put_if(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_etcd_kvs kvs;
	int64_t r1 = 0, r2 = 0, r3 = 0;

	(void)state;
	NEED_ETCD();
	assert_int_equal(xlb_etcd_put(cli, "/t/if/k", "v1", 2, 0, &r1, &err),
			 0);
	assert_int_equal(
		xlb_etcd_put_if(cli, "/t/if/k", "v2", 2, r1, &r2, &err), 0);
	assert_true(r2 > r1);
	/* r1 is stale now: nothing written. */
	assert_int_equal(
		xlb_etcd_put_if(cli, "/t/if/k", "v3", 2, r1, NULL, &err),
		-ECANCELED);
	assert_non_null(strstr(err.msg, "nothing written"));
	/* 0: "must not exist", and it does. */
	assert_int_equal(
		xlb_etcd_put_if(cli, "/t/if/k", "v4", 2, 0, NULL, &err),
		-ECANCELED);
	assert_int_equal(xlb_etcd_get(cli, "/t/if/k", false, &kvs, &err), 0);
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.kv[0].value, "v2");
	assert_int_equal(kvs.kv[0].mod_rev, r2);
	xlb_etcd_kvs_free(&kvs);
	/* 0 on a missing key creates it. */
	assert_int_equal(
		xlb_etcd_put_if(cli, "/t/if/new", "n", 1, 0, &r3, &err), 0);
	assert_int_equal(xlb_etcd_get(cli, "/t/if/new", false, &kvs, &err), 0);
	assert_int_equal(kvs.n, 1);
	assert_int_equal(kvs.kv[0].create_rev, r3);
	xlb_etcd_kvs_free(&kvs);
}

static size_t count(const char *key, bool prefix)
{
	struct xlb_err err = {{0}};
	struct xlb_etcd_kvs kvs;
	size_t n;

	if (xlb_etcd_get(cli, key, prefix, &kvs, &err))
		fail_msg("get %s: %s", key, err.msg);
	n = kvs.n;
	xlb_etcd_kvs_free(&kvs);
	return n;
}

static void test_delete(void **state)
{
	struct xlb_err err = {{0}};
	int64_t rev = 0;

	(void)state;
	NEED_ETCD();
	put_str("/t/del/a", "1");
	put_str("/t/del/b/1", "2");
	put_str("/t/del/b/2", "3");
	put_str("/t/del/bx", "4");
	assert_int_equal(xlb_etcd_delete(cli, "/t/del/a", false, &rev, &err),
			 0);
	assert_true(rev > 0);
	assert_int_equal(count("/t/del/a", false), 0);
	assert_int_equal(xlb_etcd_delete(cli, "/t/del/b/", true, NULL, &err),
			 0);
	assert_int_equal(count("/t/del/b/", true), 0);
	assert_int_equal(count("/t/del/bx", false), 1);
	/* Nothing to delete is no error. */
	assert_int_equal(xlb_etcd_delete(cli, "/t/del/none", false, NULL, &err),
			 0);
}

static void test_lease(void **state)
{
	struct xlb_err err = {{0}};
	struct xlb_etcd_kvs kvs;
	int64_t id = 0;
	int ttl = 0;

	(void)state;
	NEED_ETCD();
	assert_int_equal(xlb_etcd_lease_grant(cli, 30, &id, &err), 0);
	assert_true(id > 0);
	assert_int_equal(
		xlb_etcd_put(cli, "/t/lease/k", "v", 1, id, NULL, &err), 0);
	assert_int_equal(xlb_etcd_get(cli, "/t/lease/k", false, &kvs, &err), 0);
	assert_int_equal(kvs.n, 1);
	assert_int_equal(kvs.kv[0].lease, id);
	xlb_etcd_kvs_free(&kvs);
	assert_int_equal(xlb_etcd_lease_keepalive(cli, id, &ttl, &err), 0);
	assert_int_equal(ttl, 30);
	assert_int_equal(xlb_etcd_lease_revoke(cli, id, &err), 0);
	assert_int_equal(count("/t/lease/k", false), 0);
	assert_int_equal(xlb_etcd_lease_keepalive(cli, id, &ttl, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "expired"));
	assert_int_equal(xlb_etcd_lease_revoke(cli, id, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "lease not found"));
	/* A put under a lease that is gone is refused. */
	assert_int_equal(
		xlb_etcd_put(cli, "/t/lease/k", "v", 1, id, NULL, &err),
		-ENOENT);
}

/* A lease left alone expires: its key goes, keep-alive says -ENOENT. */
static void test_lease_expires(void **state)
{
	struct xlb_err err = {{0}};
	int64_t id = 0;
	__u64 end;
	int ttl = 0;

	(void)state;
	NEED_ETCD();
	assert_int_equal(xlb_etcd_lease_grant(cli, 1, &id, &err), 0);
	assert_int_equal(xlb_etcd_put(cli, "/t/exp/k", "v", 1, id, NULL, &err),
			 0);
	for (end = xlb_now_ms() + 15000;
	     count("/t/exp/k", false) && xlb_now_ms() < end;)
		sleep_ms(100);
	assert_int_equal(count("/t/exp/k", false), 0);
	assert_int_equal(xlb_etcd_lease_keepalive(cli, id, &ttl, &err),
			 -ENOENT);
}

/* ---- watch ------------------------------------------------------------- */

struct watcher {
	pthread_t thread;
	struct xlb_etcd *c;
	const char *prefix;
	int64_t start, compact_rev;
	unsigned idle_ms;
	volatile int stop;
	size_t want;		      /* events before the callback ends it */
	struct xlb_etcd_event got[8]; /* copies: type, mod_rev */
	char keys[8][32];
	int64_t header_rev[8];
	size_t n; /* atomic: the test's thread polls them */
	int done;
	int ret;
	struct xlb_err err;
};

static int on_events(void *ctx, const struct xlb_etcd_event *ev, size_t n,
		     int64_t header_rev)
{
	struct watcher *w = ctx;

	for (size_t i = 0; i < n && w->n < 8; i++) {
		w->got[w->n].type = ev[i].type;
		w->got[w->n].kv.mod_rev = ev[i].kv.mod_rev;
		w->got[w->n].kv.value_len = ev[i].kv.value_len;
		snprintf(w->keys[w->n], sizeof(w->keys[0]), "%s", ev[i].kv.key);
		w->header_rev[w->n] = header_rev;
		/* The test's thread polls n: the copies come first. */
		__atomic_store_n(&w->n, w->n + 1, __ATOMIC_RELEASE);
	}
	return w->n >= w->want ? 42 : 0;
}

static void *watch_thread(void *arg)
{
	struct watcher *w = arg;

	w->ret = xlb_etcd_watch(w->c ? w->c : cli, w->prefix, w->start,
				w->idle_ms, &w->stop, on_events, w,
				&w->compact_rev, &w->err);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Waits up to ms for the watch to end; stops it (and fails) if not. */
static void watch_join(struct watcher *w, unsigned ms)
{
	__u64 end = xlb_now_ms() + ms;

	while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE) &&
	       xlb_now_ms() < end)
		sleep_ms(10);
	if (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE))
		__atomic_store_n(&w->stop, 1, __ATOMIC_RELAXED);
	pthread_join(w->thread, NULL);
	if (w->ret == -EINTR && ms)
		fail_msg("the watch did not end in %u ms (%zu events)", ms,
			 w->n);
}

static void test_watch_events(void **state)
{
	struct watcher w = {.prefix = "/t/w/", .want = 4};
	struct xlb_err err = {{0}};
	int64_t r1, r2, r3, r4;

	(void)state;
	NEED_ETCD();
	assert_int_equal(xlb_etcd_put(cli, "/t/w/x", "1", 1, 0, &r1, &err), 0);
	assert_int_equal(xlb_etcd_put(cli, "/t/w/y", "22", 2, 0, &r2, &err), 0);
	w.start = r1;
	assert_int_equal(pthread_create(&w.thread, NULL, watch_thread, &w), 0);
	/* Some while the watch runs; a sibling it must not see. */
	assert_int_equal(xlb_etcd_delete(cli, "/t/w/x", false, &r3, &err), 0);
	put_str("/t/wx", "sibling");
	assert_int_equal(xlb_etcd_put(cli, "/t/w/z", "333", 3, 0, &r4, &err),
			 0);
	watch_join(&w, 10000);
	assert_int_equal(w.ret, 42);
	assert_int_equal(w.n, 4);
	assert_int_equal(w.got[0].type, XLB_ETCD_PUT);
	assert_string_equal(w.keys[0], "/t/w/x");
	assert_int_equal(w.got[0].kv.mod_rev, r1);
	assert_int_equal(w.got[0].kv.value_len, 1);
	assert_int_equal(w.got[1].type, XLB_ETCD_PUT);
	assert_string_equal(w.keys[1], "/t/w/y");
	assert_int_equal(w.got[1].kv.mod_rev, r2);
	assert_int_equal(w.got[2].type, XLB_ETCD_DELETE);
	assert_string_equal(w.keys[2], "/t/w/x");
	assert_int_equal(w.got[2].kv.mod_rev, r3);
	assert_int_equal(w.got[3].type, XLB_ETCD_PUT);
	assert_string_equal(w.keys[3], "/t/w/z");
	assert_int_equal(w.got[3].kv.mod_rev, r4);
	assert_int_equal(w.got[3].kv.value_len, 3);
	for (size_t i = 0; i < w.n; i++)
		assert_true(w.header_rev[i] >= w.got[i].kv.mod_rev);
}

static void test_watch_compacted(void **state)
{
	struct watcher w = {.prefix = "/t/c/", .want = 1};
	struct xlb_err err = {{0}};
	int64_t r1, r2;

	(void)state;
	NEED_ETCD();
	assert_int_equal(xlb_etcd_put(cli, "/t/c/k", "1", 1, 0, &r1, &err), 0);
	assert_int_equal(xlb_etcd_put(cli, "/t/c/k", "2", 1, 0, &r2, &err), 0);
	assert_int_equal(xlb_etcd_compact(cli, r2, &err), 0);
	/* Compacting again below the compacted revision is refused. */
	assert_int_equal(xlb_etcd_compact(cli, r1, &err), -ERANGE);
	w.start = r1;
	watch_thread(&w);
	assert_int_equal(w.ret, -ESTALE);
	assert_int_equal(w.compact_rev, r2);
	assert_int_equal(w.n, 0);
	assert_non_null(strstr(w.err.msg, "compacted"));
}

/*
 * A quiet watch outlives its idle_ms (its progress requests are
 * answered), and the stop flag ends it at once.
 */
static void test_watch_quiet_then_stop(void **state)
{
	struct watcher w = {.prefix = "/t/quiet/", .want = 1, .idle_ms = 600};
	__u64 t0;

	(void)state;
	NEED_ETCD();
	assert_int_equal(pthread_create(&w.thread, NULL, watch_thread, &w), 0);
	/* The time under test: five idle periods without an event. */
	sleep_ms(3000);
	assert_false(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE));
	t0 = xlb_now_ms();
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
	watch_join(&w, 0);
	assert_int_equal(w.ret, -EINTR);
	assert_true(xlb_now_ms() - t0 < 1000);
}

/* ---- endpoints --------------------------------------------------------- */

static void test_failover(void **state)
{
	struct xlb_etcd_opts o = {.endpoints = "http://127.0.0.1:1," URL};
	struct xlb_err err = {{0}};
	struct watcher w = {.prefix = "/t/fo/", .want = 1};
	struct xlb_etcd *c;

	(void)state;
	NEED_ETCD();
	assert_int_equal(xlb_etcd_new(&o, &c, &err), 0);
	assert_string_equal(xlb_etcd_endpoint(c), "http://127.0.0.1:1");
	assert_int_equal(xlb_etcd_put(c, "/t/fo/k", "v", 1, 0, &w.start, &err),
			 0);
	assert_string_equal(xlb_etcd_endpoint(c), URL);
	/* The watch fails over the same way (a new client starts at 1). */
	xlb_etcd_free(c);
	assert_int_equal(xlb_etcd_new(&o, &c, &err), 0);
	w.c = c;
	watch_thread(&w);
	assert_int_equal(w.ret, 42);
	assert_string_equal(w.keys[0], "/t/fo/k");
	xlb_etcd_free(c);
}

/*
 * A member that takes the connection and never answers (a listener
 * nobody accepts on): unary calls give up on it after timeout_ms and go
 * on, the watch after idle_ms.
 */
static void test_silent_member(void **state)
{
	struct xlb_etcd_opts o = {.endpoints = "http://127.0.0.1:23799," URL,
				  .timeout_ms = 500};
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(23799),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct watcher w = {.prefix = "/t/silent/", .want = 1, .idle_ms = 500};
	struct xlb_err err = {{0}};
	struct xlb_etcd *c;
	int fd;
	__u64 t0;

	(void)state;
	NEED_ETCD();
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(xlb_etcd_new(&o, &c, &err), 0);
	t0 = xlb_now_ms();
	assert_int_equal(
		xlb_etcd_put(c, "/t/silent/k", "v", 1, 0, &w.start, &err), 0);
	assert_true(xlb_now_ms() - t0 < 2000);
	assert_string_equal(xlb_etcd_endpoint(c), URL);
	xlb_etcd_free(c);
	/* A new client starts at the silent one again. */
	assert_int_equal(xlb_etcd_new(&o, &c, &err), 0);
	w.c = c;
	watch_thread(&w);
	assert_int_equal(w.ret, 42);
	xlb_etcd_free(c);
	/* Alone, it is a timeout. */
	o.endpoints = "http://127.0.0.1:23799";
	assert_int_equal(xlb_etcd_new(&o, &c, &err), 0);
	assert_int_equal(xlb_etcd_lease_grant(c, 5, &w.start, &err),
			 -ETIMEDOUT);
	w = (struct watcher){.prefix = "/t/", .want = 1, .idle_ms = 500};
	w.c = c;
	t0 = xlb_now_ms();
	watch_thread(&w);
	assert_int_equal(w.ret, -ETIMEDOUT);
	assert_true(xlb_now_ms() - t0 < 2000);
	print_message("%s\n", w.err.msg);
	xlb_etcd_free(c);
	close(fd);
}

/* No endpoint alive: calls fail naming them all, soon. */
static void test_all_dead(void **state)
{
	struct xlb_etcd_opts o = {
		.endpoints = "http://127.0.0.1:1,http://127.0.0.1:2",
		.timeout_ms = 500};
	struct watcher w = {.prefix = "/t/", .want = 1};
	struct xlb_err err = {{0}};
	struct xlb_etcd_kvs kvs;
	struct xlb_etcd *c;
	__u64 t0;

	(void)state;
	NEED_ETCD(); /* for the namespace: port 1 refuses there */
	assert_int_equal(xlb_etcd_new(&o, &c, &err), 0);
	t0 = xlb_now_ms();
	assert_int_equal(xlb_etcd_get(c, "k", false, &kvs, &err),
			 -ECONNREFUSED);
	assert_true(xlb_now_ms() - t0 < 3000);
	assert_non_null(strstr(err.msg, "http://127.0.0.1:1:"));
	assert_non_null(strstr(err.msg, "http://127.0.0.1:2:"));
	w.c = c;
	watch_thread(&w);
	assert_int_equal(w.ret, -ECONNREFUSED);
	assert_non_null(strstr(w.err.msg, "http://127.0.0.1:2:"));
	xlb_etcd_free(c);
}

static void test_new_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"ftp://x:1",
		"http://",
		"http://h",
		"http://h:0",
		"http://h:99999",
		"http://h:1/v3",
		"h:2379",
		"http://:2379",
		"http://a:1,ftp://b:2",
	};
	static const char *const good[] = {
		"http://h:2379",
		"https://h:2379/",
		"http://[::1]:2379",
		"http://a:1, http://b:2",
	};
	struct xlb_etcd_opts o = {0};
	struct xlb_err err = {{0}};
	struct xlb_etcd *c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.endpoints = bad[i];
		err.msg[0] = '\0';
		if (xlb_etcd_new(&o, &c, &err) != -EINVAL)
			fail_msg("'%s' taken", bad[i]);
		assert_null(c);
		assert_true(strlen(err.msg) > 0);
		print_message("%-22s %s\n", bad[i], err.msg);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		o.endpoints = good[i];
		if (xlb_etcd_new(&o, &c, &err))
			fail_msg("'%s' refused: %s", good[i], err.msg);
		xlb_etcd_free(c);
	}
	o.endpoints = "http://h:1";
	o.user = "root";
	assert_int_equal(xlb_etcd_new(&o, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "password"));
}

/* Runs etcdctl against the etcd under test; fails the case if it fails. */
static void etcdctl(const char *args)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "ETCDCTL_API=3 etcdctl --endpoints %s %s >/dev/null 2>&1", URL,
		 args);
	if (system(cmd))
		fail_msg("etcdctl %s failed", args);
}

/*
 * With auth on: a client with the password works, one without is
 * refused, and one whose token etcd forgot authenticates again.
 */
static void test_auth(void **state)
{
	struct xlb_etcd_opts o = {
		.endpoints = URL, .user = "root", .password = "pw"};
	struct watcher w = {.prefix = "/t/auth/", .want = 1};
	struct xlb_err err = {{0}};
	struct xlb_etcd *c, *bad;

	(void)state;
	NEED_ETCD();
	if (access("/usr/bin/etcdctl", X_OK))
		skip();
	etcdctl("user add root --new-user-password pw");
	etcdctl("user grant-role root root");
	etcdctl("auth enable");
	assert_int_equal(xlb_etcd_new(&o, &c, &err), 0);
	assert_int_equal(
		xlb_etcd_put(c, "/t/auth/k", "1", 1, 0, &w.start, &err), 0);
	assert_true(xlb_etcd_put(cli, "/t/auth/k", "2", 1, 0, NULL, &err) < 0);
	print_message("without a password: %s\n", err.msg);
	/* Turning auth off and on drops every token etcd handed out. */
	etcdctl("--user root:pw auth disable");
	etcdctl("auth enable");
	/* The watch first, then a put: each must authenticate again. */
	w.c = c;
	watch_thread(&w);
	if (w.ret != 42)
		fail_msg("watch: %d: %s", w.ret, w.err.msg);
	assert_int_equal(w.got[0].kv.mod_rev, w.start);
	etcdctl("--user root:pw auth disable");
	etcdctl("auth enable");
	assert_int_equal(xlb_etcd_put(c, "/t/auth/k", "3", 1, 0, NULL, &err),
			 0);
	o.password = "wrong";
	assert_int_equal(xlb_etcd_new(&o, &bad, &err), 0);
	assert_true(xlb_etcd_put(bad, "/t/auth/k", "4", 1, 0, NULL, &err) < 0);
	assert_non_null(strstr(err.msg, "authenticate"));
	print_message("a wrong password: %s\n", err.msg);
	etcdctl("--user root:pw auth disable");
	assert_int_equal(count("/t/auth/k", false), 1);
	xlb_etcd_free(bad);
	xlb_etcd_free(c);
}

/*
 * Three members, two killed: the one left has no quorum. Its watch ends
 * (hasleader: etcd closes it a few seconds later; without it the stream
 * would stay open and silent, its progress requests answered), and
 * writes fail within the client's timeout instead of hanging.
 */
static void test_quorum_loss(void **state)
{
	static const char cluster[] = "q0=http://127.0.0.1:23820,"
				      "q1=http://127.0.0.1:23821,"
				      "q2=http://127.0.0.1:23822";
	struct xlb_etcd_opts o = {.endpoints = "http://127.0.0.1:23810",
				  .timeout_ms = 1000};
	struct watcher w = {.prefix = "/t/q/", .want = 2, .idle_ms = 60000};
	struct xlb_err err = {{0}};
	struct xlb_etcd *c;
	__u64 t0;

	(void)state;
	NEED_ETCD();
	etcd_spawn(1, "q0", 23810, cluster, false);
	etcd_spawn(2, "q1", 23811, cluster, false);
	etcd_spawn(3, "q2", 23812, cluster, false);
	assert_int_equal(xlb_etcd_new(&o, &c, &err), 0);
	if (etcd_wait(c, 1, 30000, &err))
		fail_msg("the cluster of three did not elect a leader: %s",
			 err.msg);
	assert_int_equal(xlb_etcd_put(c, "/t/q/a", "1", 1, 0, &w.start, &err),
			 0);
	w.c = c;
	assert_int_equal(pthread_create(&w.thread, NULL, watch_thread, &w), 0);
	for (t0 = xlb_now_ms(); !__atomic_load_n(&w.n, __ATOMIC_ACQUIRE) &&
				xlb_now_ms() < t0 + 5000;)
		sleep_ms(10);
	assert_int_equal(w.n, 1);
	t0 = xlb_now_ms();
	etcd_kill(2);
	etcd_kill(3);
	watch_join(&w, 15000);
	print_message("watch: %d after %llu ms: %s\n", w.ret,
		      (unsigned long long)(xlb_now_ms() - t0), w.err.msg);
	assert_true(w.ret < 0 && w.ret != -EINTR);
	t0 = xlb_now_ms();
	assert_true(xlb_etcd_put(c, "/t/q/b", "2", 1, 0, NULL, &err) < 0);
	assert_true(xlb_now_ms() - t0 < 3000);
	print_message("put: %s\n", err.msg);
	xlb_etcd_free(c);
	etcd_kill(1);
}

/* A CA, and a server and a client certificate it signed, in tmpdir/tls. */
static void make_certs(void)
{
	static const char gen[] =
		"set -e; mkdir -p tls; cd tls; "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
		"-nodes -days 1 -subj /CN=ca -keyout ca.key -out ca.crt; "
		"printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage="
		"serverAuth,clientAuth\\n' >ext; "
		"for n in server client; do "
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
		"-nodes -subj /CN=$n -keyout $n.key -out $n.csr; "
		"openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key "
		"-CAcreateserial -days 1 -extfile ext -out $n.crt; done";
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cd '%s' && (%s) >tls.log 2>&1", tmpdir,
		 gen);
	if (system(cmd))
		fail_msg("cannot make certificates (see %s/tls.log)", tmpdir);
}

/*
 * https with a CA file and a client certificate: calls and the watch
 * work; without the client certificate etcd refuses, without the CA the
 * client refuses etcd's certificate.
 */
static void test_tls(void **state)
{
	char ca[96], crt[96], key[96];
	struct xlb_etcd_opts o = {.endpoints = "https://127.0.0.1:23830",
				  .cacert = ca,
				  .cert = crt,
				  .key = key};
	struct watcher w = {.prefix = "/t/tls/", .want = 1};
	struct xlb_err err = {{0}};
	struct xlb_etcd *c;

	(void)state;
	NEED_ETCD();
	if (access("/usr/bin/openssl", X_OK))
		skip();
	make_certs();
	snprintf(ca, sizeof(ca), "%s/tls/ca.crt", tmpdir);
	snprintf(crt, sizeof(crt), "%s/tls/client.crt", tmpdir);
	snprintf(key, sizeof(key), "%s/tls/client.key", tmpdir);
	etcd_spawn(4, "s", 23830, "s=http://127.0.0.1:23840", true);
	assert_int_equal(xlb_etcd_new(&o, &c, &err), 0);
	if (etcd_wait(c, 4, 20000, &err))
		fail_msg("etcd with TLS did not answer: %s", err.msg);
	assert_int_equal(xlb_etcd_put(c, "/t/tls/k", "v", 1, 0, &w.start, &err),
			 0);
	w.c = c;
	watch_thread(&w);
	assert_int_equal(w.ret, 42);
	xlb_etcd_free(c);
	o.cert = o.key = NULL;
	assert_int_equal(xlb_etcd_new(&o, &c, &err), 0);
	assert_true(xlb_etcd_put(c, "/t/tls/k", "v", 1, 0, NULL, &err) < 0);
	print_message("no client certificate: %s\n", err.msg);
	xlb_etcd_free(c);
	o.cert = crt;
	o.key = key;
	o.cacert = NULL;
	assert_int_equal(xlb_etcd_new(&o, &c, &err), 0);
	assert_true(xlb_etcd_put(c, "/t/tls/k", "v", 1, 0, NULL, &err) < 0);
	print_message("no CA: %s\n", err.msg);
	xlb_etcd_free(c);
	etcd_kill(4);
}

/* Last: etcd killed under a watch ends the watch, and calls fail. */
static void test_killed_mid_watch(void **state)
{
	struct watcher w = {.prefix = "/t/kill/", .want = 2};
	struct xlb_err err = {{0}};
	int64_t rev;
	__u64 t0;

	(void)state;
	NEED_ETCD();
	assert_int_equal(
		xlb_etcd_put(cli, "/t/kill/a", "1", 1, 0, &w.start, &err), 0);
	assert_int_equal(pthread_create(&w.thread, NULL, watch_thread, &w), 0);
	/* The watch is up once it delivered the first event. */
	for (t0 = xlb_now_ms(); !__atomic_load_n(&w.n, __ATOMIC_ACQUIRE) &&
				xlb_now_ms() < t0 + 5000;)
		sleep_ms(10);
	assert_int_equal(w.n, 1);
	t0 = xlb_now_ms();
	etcd_kill(0);
	/* Well before its idle_ms / 3 (5 s), when a progress request fails. */
	watch_join(&w, 3000);
	print_message("watch: %d after %llu ms: %s\n", w.ret,
		      (unsigned long long)(xlb_now_ms() - t0), w.err.msg);
	assert_true(w.ret < 0 && w.ret != -EINTR);
	t0 = xlb_now_ms();
	assert_true(xlb_etcd_put(cli, "/t/kill/b", "2", 1, 0, &rev, &err) < 0);
	assert_true(xlb_now_ms() - t0 < 3000);
	assert_non_null(strstr(err.msg, URL));
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
	/* One case a line; the last one kills the single member. */
	// clang-format off
	const struct CMUnitTest tests[] = {
		T(test_new_bad),
		T(test_put_get_binary),
		T(test_prefix_boundary),
		T(test_put_if),
		T(test_delete),
		T(test_lease),
		T(test_lease_expires),
		T(test_watch_events),
		T(test_watch_compacted),
		T(test_watch_quiet_then_stop),
		T(test_failover),
		T(test_all_dead),
		T(test_silent_member),
		T(test_auth),
		T(test_quorum_loss),
		T(test_tls),
		T(test_killed_mid_watch),
	};
	// clang-format on
	int ret;

	signal(SIGPIPE, SIG_IGN);
	etcd_start();
	if (skip_why[0])
		fprintf(stderr, "etcd tests skipped: %s\n", skip_why);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	xlb_etcd_free(cli);
	return ret;
}
