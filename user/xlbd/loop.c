// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlbd's event loop: one epoll set; every ready fd's watch is called,
 * and after each pass the loop does what the pass left for it (checks to
 * follow a new model, health changes to write in one go, the policy's
 * timer to arm at the deadline apply.c left).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "journal.h"
#include "nat.h"
#include "uplink.h"
#include "xlbd.h"

static void on_signal(struct xlb_watch *w, uint32_t events)
{
	struct xlbd *d = container_of(w, struct xlbd, sig_watch);
	struct signalfd_siginfo si;

	(void)events;
	if (read(d->sfd, &si, sizeof(si)) != sizeof(si))
		return;
	/* systemctl reload: in the loop, between requests, like an edit. */
	if (si.ssi_signo == SIGHUP) {
		xlbd_reload(d);
		return;
	}
	xlb_log(LOG_NOTICE, "%s: stopping", strsignal(si.ssi_signo));
	xlbd_notify_stopping(d);
	d->stop = true;
}

/* The policy's timer: a slow-start step is due. */
static void on_tick(struct xlb_watch *w, uint32_t events)
{
	struct xlbd *d = container_of(w, struct xlbd, tick_watch);
	struct xlb_err err = {{0}};
	uint64_t n;

	(void)events;
	if (read(d->tick_fd, &n, sizeof(n)) != sizeof(n))
		return;
	d->tick_armed_ms = 0; /* it fired: disarmed */
	if (xlbd_refresh(d, &err))
		xlb_log(LOG_ERR, "applying a slow-start step: %s", err.msg);
}

/* A timer at due_ms of xlb_now_ms (CLOCK_MONOTONIC); 0 disarms. */
static void timer_arm(int fd, __u64 due_ms, __u64 *armed_ms)
{
	struct itimerspec its = {
		.it_value.tv_sec = due_ms / 1000,
		.it_value.tv_nsec = (due_ms % 1000) * 1000000,
	};

	timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
	*armed_ms = due_ms;
}

/* The journal's idle timer: no record came for XLBD_JOURNAL_IDLE_MS. */
static void on_compact(struct xlb_watch *w, uint32_t events)
{
	struct xlbd *d = container_of(w, struct xlbd, compact_watch);
	uint64_t n;

	(void)events;
	if (read(d->compact_fd, &n, sizeof(n)) != sizeof(n))
		return;
	d->compact_armed_ms = 0;
	if (xlb_now_ms() >= d->journal_last_ms + XLBD_JOURNAL_IDLE_MS)
		xlbd_compact(d, "idle");
}

/*
 * A journal past its limits is compacted now, after the pass answered
 * its requests; a smaller one when edits pause (the timer follows the
 * last record).
 */
static void journal_settle(struct xlbd *d)
{
	__u64 due = 0;

	if (d->journal &&
	    xlb_journal_records(d->journal) > XLBD_JOURNAL_MAX_RECORDS)
		xlbd_compact(d, "records");
	else if (d->journal &&
		 xlb_journal_bytes(d->journal) > XLBD_JOURNAL_MAX_BYTES)
		xlbd_compact(d, "bytes");
	if (d->journal && xlb_journal_records(d->journal))
		due = d->journal_last_ms + XLBD_JOURNAL_IDLE_MS;
	if (due != d->compact_armed_ms)
		timer_arm(d->compact_fd, due, &d->compact_armed_ms);
}

/*
 * Health changes into the maps, and how long after their detection they
 * were live: the figure a failover waits on beyond the checks themselves
 * (tests/bench/controller.sh failover_storm reads the line). Beside it,
 * when the backends' new states were written (before the rings are
 * rebuilt; 0: nothing to write): from then no new flow is sent to a
 * backend that went down, though its slots still name it.
 */
static void apply_health(struct xlbd *d)
{
	__u64 built = xlb_dp_rings_built(d->dp), live, front,
	      patched = xlb_dp_rings_patched(d->dp);
	struct xlb_err err = {{0}};

	d->refresh_pending = false;
	if (xlbd_refresh(d, &err)) {
		xlb_log(LOG_ERR, "applying health changes: %s", err.msg);
		return;
	}
	live = xlb_now_ns();
	/* The backends' new states: packets avoid a down one from then. */
	front = xlb_dp_front_ns(d->dp);
	front = front > d->detected_ns ? front - d->detected_ns : 0;
	xlb_log(LOG_INFO,
		"health changes live %.3f ms after their detection "
		"(backends written at %.3f ms; %llu rings rebuilt, %llu by "
		"patching; at %.3f ms)",
		(live - d->detected_ns) / 1e6, front / 1e6,
		(unsigned long long)(xlb_dp_rings_built(d->dp) - built),
		(unsigned long long)(xlb_dp_rings_patched(d->dp) - patched),
		live / 1e6);
}

/* What a pass of the loop left to do: commits, health changes. */
static void settle(struct xlbd *d)
{

	if (d->checks_stale) {
		d->checks_stale = false;
		xlbd_checks_sync(d);
	}
	/* All health changes of this pass in one write of the maps:
	 * one grace period retires every ring half they replace. */
	if (d->refresh_pending)
		apply_health(d);
	if (d->tick_due_ms != d->tick_armed_ms)
		timer_arm(d->tick_fd, d->tick_due_ms, &d->tick_armed_ms);
	journal_settle(d);
	xlbd_notify_status(d);
}

int xlbd_watch_add(struct xlbd *d, int fd, struct xlb_watch *w,
		   void (*fn)(struct xlb_watch *, uint32_t))
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};

	w->fn = fn;
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int xlbd_loop_init(struct xlbd *d)
{
	sigset_t mask;
	int ret;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->tick_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->compact_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->epfd < 0 || d->sfd < 0 || d->tick_fd < 0 || d->compact_fd < 0)
		return -errno;
	if (xlbd_watch_add(d, d->sfd, &d->sig_watch, on_signal) ||
	    xlbd_watch_add(d, d->tick_fd, &d->tick_watch, on_tick) ||
	    xlbd_watch_add(d, d->compact_fd, &d->compact_watch, on_compact))
		return -errno;
	d->policy = calloc(1, sizeof(*d->policy));
	d->targets = calloc(XLB_MAX_BACKENDS, sizeof(*d->targets));
	d->agent_targets = calloc(XLB_MAX_BACKENDS, sizeof(*d->agent_targets));
	if (!d->policy || !d->targets || !d->agent_targets)
		return -ENOMEM;
	d->hc = xlb_hc_new(d->epfd, xlbd_on_result, d);
	if (!d->hc)
		return -ENOMEM;
	ret = xlbd_feedback_init(d);
	if (!ret)
		ret = xlbd_nat_init(d);
	return ret ? ret : xlbd_uplink_init(d);
}

void xlbd_loop_free(struct xlbd *d)
{
	xlbd_uplink_free(d);
	xlbd_nat_free(d);
	xlbd_feedback_free(d);
	xlb_hc_free(d->hc);
	free(d->policy);
	free(d->targets);
	free(d->agent_targets);
	if (d->tick_fd >= 0)
		close(d->tick_fd);
	if (d->compact_fd >= 0)
		close(d->compact_fd);
	if (d->sfd >= 0)
		close(d->sfd);
	if (d->epfd >= 0)
		close(d->epfd);
}

int xlbd_loop_run(struct xlbd *d)
{
	struct epoll_event evs[64];
	int n;

	settle(d); /* the restore's commit */
	while (!d->stop) {
		n = epoll_wait(d->epfd, evs, 64, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			xlb_log(LOG_ERR, "epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct xlb_watch *w = evs[i].data.ptr;

			w->fn(w, evs[i].events);
		}
		settle(d); /* also on the pass that stops the loop */
	}
	return 0;
}
