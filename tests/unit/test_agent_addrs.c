// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlb-agent follows its interface's addresses: the binary runs in a
 * network namespace of the test's own (unshare), on one end of a veth
 * pair (generic XDP; no dummy module needed), and the test reads the decap
 * table the program reads (found from the agent's prog id, as bpftool would)
 * while it adds and removes addresses with ip(8). Added ones appear, removed
 * ones go, another interface's never come, --address stays; once with decap
 * alone and once with load reports too (the two loops). It also says
 * READY=1 to NOTIFY_SOCKET. Needs root; skipped without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <xlb/decap.h>

#include "text.h"

extern char **environ;

/* Generous: a busy machine may take its time; a pass never waits it. */
#define WAIT_MS 20000
#define IF	"xlbt0"

struct rig {
	char dir[64], log[96], bin[256], notify[96];
	int notify_fd;
	pid_t pid;
	int addrs_fd, active_fd;
};

static bool in_netns;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void sh(const char *cmd)
{
	int st = system(cmd);

	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("'%s' failed", cmd);
}

/* The whole test process in a namespace of its own: nothing leaks out. */
static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNET))
		return 0;
	in_netns = system("ip link set lo up && ip link add " IF
			  " type veth peer name " IF "p && ip link set " IF
			  " up && ip link set " IF "p up") == 0;
	return 0;
}

static int setup(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct rig *g = calloc(1, sizeof(*g));
	const char *build = getenv("BUILD");

	assert_non_null(g);
	g->addrs_fd = g->active_fd = -1;
	snprintf(g->dir, sizeof(g->dir), "/tmp/xlb-agent-addrs-XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	snprintf(g->log, sizeof(g->log), "%s/log", g->dir);
	snprintf(g->notify, sizeof(g->notify), "%s/notify", g->dir);
	snprintf(g->bin, sizeof(g->bin), "%s/bin/xlb-agent",
		 build ? build : "build");
	if (access(g->bin, X_OK))
		fail_msg("%s: %s (make all first)", g->bin, strerror(errno));
	g->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(g->notify_fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g->notify);
	assert_int_equal(bind(g->notify_fd, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct rig *g = *state;

	if (g->pid > 0) {
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
	}
	if (g->addrs_fd >= 0)
		close(g->addrs_fd);
	if (g->active_fd >= 0)
		close(g->active_fd);
	close(g->notify_fd);
	unlink(g->notify);
	unlink(g->log);
	rmdir(g->dir);
	free(g);
	/*
	 * The next test starts from a fresh pair: a killed agent leaves its
	 * program attached, and the link's deletion takes it along.
	 */
	if (in_netns) {
		system("ip link del " IF " >/dev/null 2>&1;"
		       "ip addr del 198.18.78.1/32 dev lo >/dev/null 2>&1");
		in_netns = system("ip link add " IF " type veth peer name " IF
				  "p && ip link set " IF
				  " up && ip link set " IF "p up") == 0;
	}
	return 0;
}

/* Starts the agent with args (NULL-ended), its stderr into g->log. */
static void start(struct rig *g, ...)
{
	char *argv[16] = {g->bin}, *envp[64], env[160];
	posix_spawn_file_actions_t fa;
	int n = 1, e = 0;
	va_list ap;

	va_start(ap, g);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", g->notify);
	envp[e++] = env;
	for (char **p = environ; *p && e < 63; p++)
		if (strncmp(*p, "NOTIFY_SOCKET=", 14))
			envp[e++] = *p;
	envp[e] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, g->log,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(posix_spawn(&g->pid, g->bin, &fa, NULL, argv, envp),
			 0);
	posix_spawn_file_actions_destroy(&fa);
}

/* The agent's log so far, NUL-ended in buf. */
static void read_log(struct rig *g, char *buf, size_t size)
{
	FILE *f = fopen(g->log, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Waits for READY=1 on NOTIFY_SOCKET, the agent still running. */
static void wait_ready(struct rig *g)
{
	uint64_t end = now_ms() + WAIT_MS;
	char buf[256], log[4096];
	ssize_t n;

	for (;;) {
		n = recv(g->notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0) {
			buf[n] = '\0';
			if (strstr(buf, "READY=1"))
				return;
		}
		if (waitpid(g->pid, NULL, WNOHANG) == g->pid) {
			g->pid = 0;
			read_log(g, log, sizeof(log));
			fail_msg("the agent exited: %s", log);
		}
		if (now_ms() > end) {
			read_log(g, log, sizeof(log));
			fail_msg("no READY=1 within %d ms: %s", WAIT_MS, log);
		}
		usleep(20000);
	}
}

/* The decap maps of the agent's program, found from its prog id. */
static void find_maps(struct rig *g)
{
	struct bpf_prog_info info = {0};
	struct bpf_map_info mi;
	__u32 ids[16], len = sizeof(info), mlen;
	char log[4096], *p;
	unsigned int prog_id;
	int fd;

	read_log(g, log, sizeof(log));
	p = strstr(log, "(prog id ");
	if (!p || sscanf(p, "(prog id %u)", &prog_id) != 1)
		fail_msg("no prog id in the log: %s", log);
	fd = bpf_prog_get_fd_by_id(prog_id);
	assert_true(fd >= 0);
	info.nr_map_ids = 16;
	info.map_ids = (uintptr_t)ids;
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	close(fd);
	for (__u32 i = 0; i < info.nr_map_ids && i < 16; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		assert_true(fd >= 0);
		memset(&mi, 0, sizeof(mi));
		mlen = sizeof(mi);
		assert_int_equal(bpf_obj_get_info_by_fd(fd, &mi, &mlen), 0);
		if (!strcmp(mi.name, "decap_addrs"))
			g->addrs_fd = fd;
		else if (!strcmp(mi.name, "decap_active"))
			g->active_fd = fd;
		else
			close(fd);
	}
	assert_true(g->addrs_fd >= 0 && g->active_fd >= 0);
}

/* Whether the table in force holds addr, looked up as the program does. */
static bool in_table(struct rig *g, const char *addr)
{
	struct xlb_decap_key key = {0};
	struct xlb_decap_bucket b;
	struct xlb_err err;
	__u32 zero = 0, active, k;

	assert_int_equal(xlb_parse_addr(addr, &key.addr, &key.family, &err), 0);
	assert_int_equal(bpf_map_lookup_elem(g->active_fd, &zero, &active), 0);
	k = key.family == XLB_AF_INET6 ? xlb_decap_bucket6(key.addr.v6, active)
				       : xlb_decap_bucket4(key.addr.v4, active);
	k += (active & 1) * XLB_DECAP_BUCKETS;
	assert_int_equal(bpf_map_lookup_elem(g->addrs_fd, &k, &b), 0);
	for (int w = 0; w < XLB_DECAP_WAYS; w++)
		if (!memcmp(&b.way[w], &key, sizeof(key)))
			return true;
	return false;
}

static void wait_table(struct rig *g, const char *addr, bool want)
{
	uint64_t end = now_ms() + WAIT_MS;
	char log[4096];

	while (in_table(g, addr) != want) {
		if (now_ms() > end) {
			read_log(g, log, sizeof(log));
			fail_msg("%s still %s the table after %d ms: %s", addr,
				 want ? "missing from" : "in", WAIT_MS, log);
		}
		usleep(20000);
	}
}

static void follows(struct rig *g, bool reports)
{
	int st;

	if (!in_netns)
		skip();
	sh("ip addr add 198.18.77.1/24 dev " IF);
	if (reports)
		start(g, "--interface", IF, "--xdp-mode", "generic",
		      "--address", "198.18.79.9", "--agent-port", "15555", "-v",
		      (char *)NULL);
	else
		start(g, "--interface", IF, "--xdp-mode", "generic",
		      "--address", "198.18.79.9", "-v", (char *)NULL);
	wait_ready(g);
	find_maps(g);
	assert_true(in_table(g, "198.18.77.1"));
	assert_true(in_table(g, "198.18.79.9"));
	assert_false(in_table(g, "198.18.76.2"));

	sh("ip addr add 198.18.76.2/24 dev " IF);
	wait_table(g, "198.18.76.2", true);
	sh("ip addr add 2001:db8:77::1/64 dev " IF " nodad");
	wait_table(g, "2001:db8:77::1", true);
	/* Another interface's address is no tunnel endpoint. */
	sh("ip addr add 198.18.78.1/32 dev lo");
	sh("ip addr del 198.18.77.1/24 dev " IF);
	wait_table(g, "198.18.77.1", false);
	/*
	 * Events come in order: lo's was read before that deletion. (.2 is
	 * in another prefix: deleting a primary address takes its
	 * prefix's secondaries along, and the table follows that too.)
	 */
	assert_false(in_table(g, "198.18.78.1"));
	assert_true(in_table(g, "198.18.76.2"));
	assert_true(in_table(g, "2001:db8:77::1"));
	/* --address stays whatever the interface does, even its own. */
	sh("ip addr add 198.18.79.9/32 dev " IF);
	sh("ip addr del 198.18.79.9/32 dev " IF);
	sh("ip addr del 198.18.76.2/24 dev " IF);
	wait_table(g, "198.18.76.2", false);
	assert_true(in_table(g, "198.18.79.9"));

	kill(g->pid, SIGTERM);
	assert_int_equal(waitpid(g->pid, &st, 0), g->pid);
	g->pid = 0;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_follows_decap_only(void **state)
{
	follows(*state, false);
}

static void test_follows_with_reports(void **state)
{
	follows(*state, true);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_follows_decap_only),
		T(test_follows_with_reports),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
