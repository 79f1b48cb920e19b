// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Unit tests of the operator hooks (user/agent/hook.c) with real commands
 * and files: a command's number and word reach the reply, a file is read
 * on its interval, a failing command (exit status, no number) counts as
 * no hook, and a command past its deadline is killed with everything it
 * started. The test pumps the hooks' epoll set itself, as loop.c does.
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
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent.h"
#include "clock.h"

struct rig {
	int epfd;
	struct agent_cfg *cfg;
	struct agent_hooks *hooks;
	char dir[64];
	char path[128];
};

static struct rig *rig_new(const char *doc_fmt, ...)
{
	struct rig *g = calloc(1, sizeof(*g));
	struct xlb_err err = {{0}};
	char doc[1024];
	va_list ap;

	snprintf(g->dir, sizeof(g->dir), "/tmp/xlb-hook-XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	snprintf(g->path, sizeof(g->path), "%s/out", g->dir);
	va_start(ap, doc_fmt);
	vsnprintf(doc, sizeof(doc), doc_fmt, ap);
	va_end(ap);
	g->cfg = agent_cfg_parse(doc, &err);
	if (!g->cfg)
		fail_msg("%s: %s", doc, err.msg);
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	g->hooks = agent_hooks_new(g->epfd, g->cfg);
	assert_non_null(g->hooks);
	return g;
}

static void rig_free(struct rig *g)
{
	agent_hooks_free(g->hooks);
	agent_cfg_free(g->cfg);
	close(g->epfd);
	unlink(g->path);
	rmdir(g->dir);
	free(g);
}

/* Runs the hooks until hook i has ended `runs` runs, or fails at 5 s. */
static const struct agent_hook_state *run_until(struct rig *g, int i,
						unsigned runs)
{
	const struct agent_hook_state *st = agent_hooks_state(g->hooks, i);
	uint64_t end = xlb_now_ms() + 5000;
	struct epoll_event evs[8];
	unsigned wait;
	int n;

	while (st->runs < runs) {
		if (xlb_now_ms() > end)
			fail_msg("hook %d: %u runs after 5 s", i, st->runs);
		wait = agent_hooks_tick(g->hooks, xlb_now_ms());
		n = epoll_wait(g->epfd, evs, 8, wait < 10 ? wait : 10);
		for (int k = 0; k < n; k++) {
			struct xlb_watch *x = evs[k].data.ptr;

			x->fn(x, evs[k].events);
		}
	}
	return st;
}

static void command_number_and_word(void **state)
{
	struct rig *g = rig_new(
		"{\"profiles\": {\"h\": {\"hook\": 0.5, \"cpu\": 0.5}},"
		" \"hook\": {\"command\": \"echo 40 drain\", \"ceiling\": 50},"
		" \"services\": [{\"service\": \"198.19.0.1:80/tcp\","
		"  \"profile\": \"h\","
		"  \"hook\": {\"command\": \"echo load 25\"}}]}");
	struct agent_host host = {.cpu_pct = 20};
	struct agent_view v = {.cfg = g->cfg, .host = &host, .hooks = g->hooks};
	const struct agent_hook_state *st;
	char buf[32];

	(void)state;
	st = run_until(g, 0, 1);
	assert_true(st->ok);
	assert_true(st->value == 40);
	assert_int_equal(st->word, AGENT_WORD_DRAIN);
	st = run_until(g, 1, 1);
	assert_true(st->ok && st->value == 25 && !st->word);
	/* The service: .5 x .2 cpu + .5 x 25/100 = .225 -> 78%. */
	agent_answer(&v, &g->cfg->services[0], buf, sizeof(buf));
	assert_string_equal(buf, "78% ready\n");
	/* The host's hook said drain: its answer says so too. */
	agent_answer(&v, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "90% drain\n");
	rig_free(g);
}

static void file_hook_follows_file(void **state)
{
	struct rig *g = rig_new("{\"hook\": {\"file\": \"/tmp/xlb-hook-none\","
				" \"interval_ms\": 100}}");
	const struct agent_hook_state *st;
	FILE *f;

	(void)state;
	/* The rig's file, now that the directory exists. */
	free(g->cfg->hooks[0].file);
	g->cfg->hooks[0].file = strdup(g->path);
	st = run_until(g, 0, 1);
	assert_false(st->ok); /* no file yet */
	f = fopen(g->path, "w");
	fputs("12.5\n", f);
	fclose(f);
	st = run_until(g, 0, 2);
	assert_true(st->ok && st->value == 12.5);
	f = fopen(g->path, "w");
	fputs("down\n", f);
	fclose(f);
	st = run_until(g, 0, 3);
	assert_true(st->ok && st->word == AGENT_WORD_DOWN);
	rig_free(g);
}

static void failing_commands(void **state)
{
	struct rig *g =
		rig_new("{\"services\": ["
			"{\"service\": \"198.19.0.1:1/tcp\","
			" \"hook\": {\"command\": \"echo 50; exit 3\"}},"
			"{\"service\": \"198.19.0.1:2/tcp\","
			" \"hook\": {\"command\": \"echo nothing\"}},"
			"{\"service\": \"198.19.0.1:3/tcp\","
			" \"hook\": {\"command\": \"/nonexistent/cmd\"}}]}");

	(void)state;
	for (int i = 1; i <= 3; i++) {
		const struct agent_hook_state *st = run_until(g, i, 1);

		assert_false(st->ok);
		assert_true(st->value == 0 && !st->word);
	}
	rig_free(g);
}

static void deadline_kills_the_group(void **state)
{
	struct rig *g =
		rig_new("{\"hook\": {\"command\": \"x\","
			" \"interval_ms\": 10000, \"timeout_ms\": 200}}");
	const struct agent_hook_state *st;
	char cmd[256];
	uint64_t t0, end;
	int pgid = 0;
	FILE *f;

	(void)state;
	/* Orphans of the killed shell come to this process, which reaps
	 * them below: the test does not depend on the machine's init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* The shell writes its pid (its group's id), then waits on a
	 * child of its own. */
	snprintf(cmd, sizeof(cmd), "echo $$ > %s; sleep 30; echo 1", g->path);
	free(g->cfg->hooks[0].command);
	g->cfg->hooks[0].command = strdup(cmd);
	t0 = xlb_now_ms();
	st = run_until(g, 0, 1);
	assert_false(st->ok);
	assert_true(xlb_now_ms() - t0 >= 200);
	f = fopen(g->path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pgid), 1);
	fclose(f);
	assert_true(pgid > 1);
	/* The sleep went with its shell (reaped by whoever adopts it). */
	end = xlb_now_ms() + 5000;
	while (kill(-pgid, 0) == 0 && xlb_now_ms() < end) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(10000);
	}
	assert_int_equal(kill(-pgid, 0), -1);
	assert_int_equal(errno, ESRCH);
	rig_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(command_number_and_word),
		cmocka_unit_test(file_hook_follows_file),
		cmocka_unit_test(failing_commands),
		cmocka_unit_test(deadline_kills_the_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
