// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Operator hooks: a command (/bin/sh -c, in its own process group) or a
 * file, whose first number becomes the "hook" metric and whose words
 * "drain", "down" or "maint" become the reply's state. They run on their
 * own interval from the event loop, never on a report's path: a report
 * uses the last result. A command has a deadline, after which its
 * process group is killed; a command that fails (exit status, deadline,
 * no number and no word) leaves the metric at 0 and no word, logged once
 * when it starts failing and once when it recovers.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

extern char **environ;

#define HOOK_OUT_MAX 256 /* bytes of output read; the rest is ignored */

struct hook_run {
	struct xlb_watch out_w; /* the command's stdout is readable */
	struct xlb_watch pid_w; /* the command exited (pidfd) */
	struct agent_hooks *hs;
	int i;
	pid_t pid; /* 0: not running */
	int out_fd, pidfd;
	bool eof, exited;
	int status;
	uint64_t deadline_ms;
	size_t len;
	char out[HOOK_OUT_MAX];
};

struct agent_hooks {
	int epfd;
	const struct agent_cfg *c;
	struct agent_hook_state *st; /* [c->n_hooks] */
	uint64_t *next_ms;	     /* when each is due again */
	struct hook_run *run;	     /* [c->n_hooks] */
};

int agent_parse_hook_output(const char *text, double *value,
			    enum agent_word *word)
{
	static const struct {
		const char *s;
		enum agent_word w;
	} words[] = {{"drain", AGENT_WORD_DRAIN},
		     {"down", AGENT_WORD_DOWN},
		     {"maint", AGENT_WORD_MAINT}};
	bool have_num = false;
	const char *p = text;
	char *end;
	size_t n;

	*word = AGENT_WORD_NONE;
	*value = 0;
	while (*p) {
		while (*p && isspace((unsigned char)*p))
			p++;
		n = strcspn(p, " \t\r\n");
		if (!n)
			break;
		if (!have_num &&
		    (isdigit((unsigned char)*p) ||
		     (*p == '.' && isdigit((unsigned char)p[1])))) {
			*value = strtod(p, &end);
			have_num = end > p;
		}
		for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			if (n == strlen(words[k].s) &&
			    !strncasecmp(p, words[k].s, n) && !*word)
				*word = words[k].w;
		p += n;
	}
	return have_num || *word ? 0 : -EINVAL;
}

/* Records a result; logs when a hook starts or stops failing. */
static void hook_done(struct agent_hooks *hs, int i, bool ok, double value,
		      enum agent_word word, const char *why)
{
	struct agent_hook_state *st = &hs->st[i];
	const struct agent_hook_cfg *hc = &hs->c->hooks[i];
	const char *what = hc->command ? hc->command : hc->file;

	if (!ok && (st->ok || !st->runs))
		xlb_log(LOG_WARNING, "hook '%s' failed: %s", what, why);
	else if (ok && !st->ok && st->runs)
		xlb_log(LOG_NOTICE, "hook '%s' answers again", what);
	st->runs++;
	st->ok = ok;
	st->value = ok ? value : 0;
	st->word = ok ? word : AGENT_WORD_NONE;
}

static void hook_judge(struct agent_hooks *hs, struct hook_run *r)
{
	double value;
	enum agent_word word;
	char why[64];

	r->out[r->len] = '\0';
	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status)) {
		snprintf(why, sizeof(why), "exit status %d",
			 WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1);
		hook_done(hs, r->i, false, 0, AGENT_WORD_NONE, why);
	} else if (agent_parse_hook_output(r->out, &value, &word)) {
		hook_done(hs, r->i, false, 0, AGENT_WORD_NONE,
			  "no number in its output");
	} else {
		hook_done(hs, r->i, true, value, word, NULL);
	}
}

/* Forgets a run's fds and child; kills the group when it still runs. */
static void run_end(struct hook_run *r)
{
	if (r->out_fd >= 0) {
		epoll_ctl(r->hs->epfd, EPOLL_CTL_DEL, r->out_fd, NULL);
		close(r->out_fd);
		r->out_fd = -1;
	}
	/* The group too when only the output is missing: something the
	 * command left behind holds its stdout. */
	if (r->pid && (!r->exited || !r->eof))
		kill(-r->pid, SIGKILL);
	if (r->pid && !r->exited)
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
	if (r->pidfd >= 0) {
		epoll_ctl(r->hs->epfd, EPOLL_CTL_DEL, r->pidfd, NULL);
		close(r->pidfd);
		r->pidfd = -1;
	}
	r->pid = 0;
}

/* Without a pidfd (a kernel before 5.3): polled after the output ends. */
#define REAP_POLL_MS 10

static void reap(struct hook_run *r)
{
	if (!r->exited && waitpid(r->pid, &r->status, WNOHANG) == r->pid)
		r->exited = true;
}

static void run_step(struct hook_run *r)
{
	if (r->eof && r->exited) {
		hook_judge(r->hs, r);
		run_end(r);
	}
}

static void on_out(struct xlb_watch *w, uint32_t events)
{
	struct hook_run *r = container_of(w, struct hook_run, out_w);
	char sink[512];
	ssize_t n;

	(void)events;
	for (;;) {
		if (r->len < HOOK_OUT_MAX - 1)
			n = read(r->out_fd, r->out + r->len,
				 HOOK_OUT_MAX - 1 - r->len);
		else
			n = read(r->out_fd, sink, sizeof(sink));
		if (n > 0 && r->len < HOOK_OUT_MAX - 1)
			r->len += n;
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		break; /* EOF or an error: no more output */
	}
	epoll_ctl(r->hs->epfd, EPOLL_CTL_DEL, r->out_fd, NULL);
	close(r->out_fd);
	r->out_fd = -1;
	r->eof = true;
	if (r->pidfd < 0)
		reap(r);
	run_step(r);
}

static void on_exit_ready(struct xlb_watch *w, uint32_t events)
{
	struct hook_run *r = container_of(w, struct hook_run, pid_w);

	(void)events;
	if (waitpid(r->pid, &r->status, WNOHANG) != r->pid)
		return;
	r->exited = true;
	/* An exited pidfd stays readable: off the set at once. */
	epoll_ctl(r->hs->epfd, EPOLL_CTL_DEL, r->pidfd, NULL);
	close(r->pidfd);
	r->pidfd = -1;
	run_step(r);
}

/* Starts a hook's command with its stdout on a pipe; 0 or -errno. */
static int run_start(struct agent_hooks *hs, int i, uint64_t now_ms)
{
	const struct agent_hook_cfg *hc = &hs->c->hooks[i];
	struct hook_run *r = &hs->run[i];
	char *argv[] = {"/bin/sh", "-c", hc->command, NULL};
	struct epoll_event ev = {.events = EPOLLIN};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int p[2], ret;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawnattr_init(&at);
	/* Its own group, so the deadline kills what it started too; the
	 * signals the agent blocks (for signalfd) and ignores (SIGPIPE)
	 * back to normal for the command. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
					      POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	ret = -posix_spawn(&r->pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (ret) {
		r->pid = 0;
		close(p[0]);
		return ret;
	}
	r->out_fd = p[0];
	r->len = 0;
	r->eof = r->exited = false;
	r->deadline_ms = now_ms + hc->timeout_ms;
	r->pidfd = syscall(SYS_pidfd_open, r->pid, 0);
	ev.data.ptr = &r->out_w;
	if (epoll_ctl(hs->epfd, EPOLL_CTL_ADD, r->out_fd, &ev))
		goto fail;
	ev.data.ptr = &r->pid_w;
	if (r->pidfd < 0 && errno != ENOSYS)
		goto fail;
	if (r->pidfd >= 0 && epoll_ctl(hs->epfd, EPOLL_CTL_ADD, r->pidfd, &ev))
		goto fail;
	return 0;
fail:
	ret = -errno;
	run_end(r);
	return ret;
}

/* A file hook: read now, it is small and local. */
static void read_file_hook(struct agent_hooks *hs, int i)
{
	const struct agent_hook_cfg *hc = &hs->c->hooks[i];
	char buf[HOOK_OUT_MAX], why[96];
	enum agent_word word;
	double value;
	ssize_t n;
	int fd = open(hc->file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		hook_done(hs, i, false, 0, AGENT_WORD_NONE, why);
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (agent_parse_hook_output(buf, &value, &word))
		hook_done(hs, i, false, 0, AGENT_WORD_NONE, "no number in it");
	else
		hook_done(hs, i, true, value, word, NULL);
}

unsigned agent_hooks_tick(struct agent_hooks *hs, uint64_t now_ms)
{
	uint64_t next = now_ms + 60000;
	char why[96];
	int ret;

	for (int i = 0; i < hs->c->n_hooks; i++) {
		const struct agent_hook_cfg *hc = &hs->c->hooks[i];
		struct hook_run *r = &hs->run[i];

		if (!hc->command && !hc->file)
			continue;
		if (r->pid && r->eof && r->pidfd < 0) {
			reap(r);
			run_step(r);
		}
		if (r->pid && now_ms >= r->deadline_ms) {
			run_end(r);
			snprintf(why, sizeof(why), "still running after %u ms",
				 hc->timeout_ms);
			hook_done(hs, i, false, 0, AGENT_WORD_NONE, why);
		}
		if (!r->pid && now_ms >= hs->next_ms[i]) {
			hs->next_ms[i] = now_ms + hc->interval_ms;
			if (hc->file) {
				read_file_hook(hs, i);
			} else if ((ret = run_start(hs, i, now_ms))) {
				snprintf(why, sizeof(why), "cannot start: %s",
					 strerror(-ret));
				hook_done(hs, i, false, 0, AGENT_WORD_NONE,
					  why);
			}
		}
		if (hs->next_ms[i] < next)
			next = hs->next_ms[i];
		if (r->pid && r->deadline_ms < next)
			next = r->deadline_ms;
		if (r->pid && r->eof && r->pidfd < 0 &&
		    now_ms + REAP_POLL_MS < next)
			next = now_ms + REAP_POLL_MS;
	}
	return next > now_ms ? (unsigned)(next - now_ms) : 0;
}

const struct agent_hook_state *agent_hooks_state(const struct agent_hooks *hs,
						 int i)
{
	return i >= 0 && i < hs->c->n_hooks ? &hs->st[i] : NULL;
}

struct agent_hooks *agent_hooks_new(int epfd, const struct agent_cfg *c)
{
	struct agent_hooks *hs = calloc(1, sizeof(*hs));

	if (!hs)
		return NULL;
	hs->epfd = epfd;
	hs->c = c;
	hs->st = calloc(c->n_hooks, sizeof(*hs->st));
	hs->next_ms = calloc(c->n_hooks, sizeof(*hs->next_ms));
	hs->run = calloc(c->n_hooks, sizeof(*hs->run));
	if (!hs->st || !hs->next_ms || !hs->run) {
		agent_hooks_free(hs);
		return NULL;
	}
	for (int i = 0; i < c->n_hooks; i++) {
		hs->run[i] = (struct hook_run){
			.out_w.fn = on_out,
			.pid_w.fn = on_exit_ready,
			.hs = hs,
			.i = i,
			.out_fd = -1,
			.pidfd = -1,
		};
	}
	return hs;
}

void agent_hooks_free(struct agent_hooks *hs)
{
	if (!hs)
		return;
	for (int i = 0; hs->run && i < hs->c->n_hooks; i++)
		run_end(&hs->run[i]);
	free(hs->run);
	free(hs->next_ms);
	free(hs->st);
	free(hs);
}
