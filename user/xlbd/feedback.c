// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The weight policy's own clock: every XLBD_FEEDBACK_TICK_MS, agent
 * reports past their age are made stale and the byte-share windows that
 * are over are closed with the counters of backend_stats. What changed is
 * applied by the loop's refresh after the pass, once for all of them, so
 * a VIP's ring is rebuilt at most once per tick.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "xlbd.h"

static void log_notice(void *ctx, const char *msg)
{
	(void)ctx;
	xlb_log(LOG_NOTICE, "%s", msg);
}

/* One window of v, if it is over; true when a correction changed. */
static bool close_window(struct xlbd *d, size_t vi, __u64 now)
{
	const struct xlb_vip_cfg *v = &d->model.vips[vi];
	int fd = xlb_dp_map_fd(d->dp, XLB_DP_BACKEND_STATS);
	struct xlb_counter *c;
	bool changed = false;

	if (!xlb_policy_balance_due(d->policy, v, now))
		return false;
	c = calloc(v->n_backends ? v->n_backends : 1, sizeof(*c));
	if (!c)
		return false;
	/* A counter that cannot be read counts nothing this window. */
	for (size_t j = 0; j < v->n_backends; j++)
		if (xlb_counter_sum(fd, v->backends[j].id, &c[j]))
			memset(&c[j], 0, sizeof(c[j]));
	xlb_policy_balance_window(d->policy, &d->model, vi, c, now, log_notice,
				  NULL, &changed);
	free(c);
	return changed;
}

static void on_feedback(struct xlb_watch *w, uint32_t events)
{
	struct xlbd *d = container_of(w, struct xlbd, fb_watch);
	__u64 now = xlb_now_ms(), n;
	bool changed;

	(void)events;
	if (read(d->fb_fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&d->lock);
	changed = xlb_policy_agent_expire(d->policy, &d->model, now, log_notice,
					  NULL);
	for (size_t i = 0; i < d->model.n_vips; i++)
		changed |= close_window(d, i, now);
	pthread_mutex_unlock(&d->lock);
	if (changed)
		d->refresh_pending = true;
}

int xlbd_feedback_init(struct xlbd *d)
{
	struct itimerspec its = {
		.it_interval.tv_nsec = XLBD_FEEDBACK_TICK_MS * 1000000L,
		.it_value.tv_nsec = XLBD_FEEDBACK_TICK_MS * 1000000L,
	};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &d->fb_watch};

	d->fb_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->fb_fd < 0)
		return -errno;
	d->fb_watch.fn = on_feedback;
	if (timerfd_settime(d->fb_fd, 0, &its, NULL) ||
	    epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->fb_fd, &ev))
		return -errno;
	return 0;
}

void xlbd_feedback_free(struct xlbd *d)
{
	if (d->fb_fd >= 0)
		close(d->fb_fd);
	d->fb_fd = -1;
}
