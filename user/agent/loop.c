// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The agent's event loop: one epoll set for the report server, its
 * clients, the hooks' pipes and pidfds and a signalfd. There is no
 * timerfd: each pass computes the nearest deadline (the next sample, a
 * hook due or overdue, a client's wait) and epoll_waits until then. The
 * sample runs here, between reports, so a report only formats numbers.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "clock.h"
#include "log.h"

/* The first CPU figure needs two samples: the second comes soon. */
#define FIRST_SAMPLE_MS 200

struct agent {
	struct xlb_watch sig_w;
	int epfd, sfd;
	const char *config_path;
	unsigned port;
	struct agent_cfg *cfg;
	struct agent_sampler sampler;
	struct agent_conns conns;
	struct agent_hooks *hooks;
	struct agent_cg *cgroups; /* [cfg->n_cgroups] */
	struct agent_server *server;
	uint64_t next_sample_ms;
	bool sample_failing;
	bool stop;
};

static void log_cfg(const struct agent *a, const char *how)
{
	xlb_log(LOG_NOTICE,
		"%s %s: %d services, %d profiles, port %u, sample %u ms", how,
		a->config_path ? a->config_path : "defaults",
		a->cfg->n_services, a->cfg->n_profiles, a->port,
		a->cfg->sample_ms);
}

static void log_counters(const struct agent *a)
{
	const struct agent_counters *c = agent_server_counters(a->server);

	xlb_log(LOG_NOTICE,
		"reports %llu (services %llu, host %llu), malformed %llu, "
		"unknown service %llu, no request %llu, overflow %llu, "
		"send errors %llu",
		(unsigned long long)c->reports, (unsigned long long)c->services,
		(unsigned long long)c->host, (unsigned long long)c->malformed,
		(unsigned long long)c->unknown, (unsigned long long)c->silent,
		(unsigned long long)c->overflow,
		(unsigned long long)c->send_errors);
}

static void set_view(struct agent *a)
{
	struct agent_view v = {
		.cfg = a->cfg,
		.host = &a->sampler.host,
		.conns = &a->conns,
		.hooks = a->hooks,
		.cgroups = a->cgroups,
	};

	agent_server_set_view(a->server, &v);
}

/* SIGHUP: the new config whole, or the old one kept. */
static void reload(struct agent *a)
{
	struct xlb_err err = {{0}};
	struct agent_cfg *c;
	struct agent_hooks *h;
	struct agent_cg *cg;

	if (!a->config_path) {
		xlb_log(LOG_NOTICE, "SIGHUP: no config file to re-read");
		return;
	}
	c = agent_cfg_load(a->config_path, &err);
	if (!c) {
		xlb_log(LOG_ERR, "config not reloaded, the old one stays: %s",
			err.msg);
		return;
	}
	h = agent_hooks_new(a->epfd, c);
	cg = calloc(c->n_cgroups + 1, sizeof(*cg));
	if (!h || !cg) {
		xlb_log(LOG_ERR, "config not reloaded: out of memory");
		agent_hooks_free(h);
		free(cg);
		agent_cfg_free(c);
		return;
	}
	if (c->listen_port != a->cfg->listen_port)
		xlb_log(LOG_WARNING,
			"listen_port %u takes a restart; still on %u",
			c->listen_port, a->port);
	agent_hooks_free(a->hooks);
	agent_cfg_free(a->cfg);
	free(a->cgroups);
	a->cfg = c;
	a->hooks = h;
	a->cgroups = cg;
	set_view(a);
	log_cfg(a, "reloaded");
}

static void on_signal(struct xlb_watch *w, uint32_t events)
{
	struct agent *a = container_of(w, struct agent, sig_w);
	struct signalfd_siginfo si;

	(void)events;
	while (read(a->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(a);
		} else if (si.ssi_signo == SIGUSR1) {
			log_counters(a);
		} else {
			xlb_log(LOG_NOTICE, "%s: stopping",
				strsignal(si.ssi_signo));
			a->stop = true;
		}
	}
}

/* Each cgroup of the config; a failure is logged when it starts. */
static void sample_cgroups(struct agent *a)
{
	int ret;

	for (int i = 0; i < a->cfg->n_cgroups; i++) {
		bool was_ok = a->cgroups[i].ok || !a->cgroups[i].tried;

		ret = agent_sample_cgroup(a->cfg->cgroups[i], &a->cgroups[i],
					  xlb_now_ns());
		if (ret && was_ok)
			xlb_log(LOG_WARNING,
				"cgroup %s: %s; the host's figures stand in",
				a->cfg->cgroups[i], strerror(-ret));
	}
}

static void sample(struct agent *a, uint64_t now)
{
	int ret = agent_sample(&a->sampler);

	sample_cgroups(a);
	/* The dump walks the kernel's whole TCP hash (some ms on a big
	 * machine): only when a profile in use weighs connections. */
	if (!ret && agent_cfg_weighs(a->cfg, AGENT_M_CONNS))
		ret = agent_conns_update(&a->conns);
	if (ret && !a->sample_failing)
		xlb_log(LOG_WARNING, "sampling the host: %s", strerror(-ret));
	else if (!ret && a->sample_failing)
		xlb_log(LOG_NOTICE, "sampling the host works again");
	a->sample_failing = ret != 0;
	a->next_sample_ms = now + a->cfg->sample_ms;
}

/* One pass: what is due, then a wait for the nearest deadline. */
static int pass(struct agent *a)
{
	struct epoll_event evs[64];
	uint64_t now = xlb_now_ms();
	int n, wait, w;

	if (now >= a->next_sample_ms)
		sample(a, now);
	wait = (int)(a->next_sample_ms - now);
	w = (int)agent_hooks_tick(a->hooks, now);
	if (w < wait)
		wait = w;
	w = agent_server_expire(a->server, now);
	if (w >= 0 && w < wait)
		wait = w;
	n = epoll_wait(a->epfd, evs, 64, wait);
	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct xlb_watch *x = evs[i].data.ptr;

		x->fn(x, evs[i].events);
	}
	return 0;
}

static int setup(struct agent *a)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &a->sig_w};
	struct xlb_err err = {{0}};
	struct rlimit rl;
	sigset_t mask;
	int ret;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* 256 clients and two fds per running hook command can pass the
	 * usual soft limit of 1024; the hard limit is ours to take. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	a->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->epfd < 0 || a->sfd < 0)
		return -errno;
	a->sig_w.fn = on_signal;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->sfd, &ev))
		return -errno;
	ret = agent_conns_init(&a->conns);
	if (ret)
		return ret;
	a->hooks = agent_hooks_new(a->epfd, a->cfg);
	a->cgroups = calloc(a->cfg->n_cgroups + 1, sizeof(*a->cgroups));
	if (!a->hooks || !a->cgroups)
		return -ENOMEM;
	a->server = agent_server_new(a->epfd, a->port, &err);
	if (!a->server) {
		xlb_log(LOG_ERR, "%s", err.msg);
		return -EADDRINUSE;
	}
	set_view(a);
	return 0;
}

int agent_loop_run(struct agent_cfg *cfg, const char *config_path,
		   unsigned port, agent_watch_fn watch, void *watch_arg)
{
	struct agent a = {
		.epfd = -1,
		.sfd = -1,
		.config_path = config_path,
		.port = port ? port : cfg->listen_port,
		.cfg = cfg,
	};
	int ret;

	ret = setup(&a);
	if (ret)
		goto out;
	a.port = agent_server_port(a.server);
	if (watch && (ret = watch(watch_arg, a.epfd))) {
		xlb_log(LOG_WARNING,
			"not following address changes: %s; the addresses "
			"seen at start stay",
			strerror(-ret));
		ret = 0;
	}
	log_cfg(&a, "serving load reports, config");
	sd_notifyf(0, "READY=1\nSTATUS=serving load reports on port %u\n",
		   a.port);
	sample(&a, xlb_now_ms());
	a.next_sample_ms = xlb_now_ms() + FIRST_SAMPLE_MS;
	while (!a.stop && !ret)
		ret = pass(&a);
	if (ret)
		xlb_log(LOG_ERR, "epoll_wait: %s", strerror(-ret));
	sd_notify(0, "STOPPING=1\n");
	log_counters(&a);
out:
	agent_server_free(a.server);
	agent_hooks_free(a.hooks);
	free(a.cgroups);
	agent_conns_free(&a.conns);
	agent_cfg_free(a.cfg);
	if (a.sfd >= 0)
		close(a.sfd);
	if (a.epfd >= 0)
		close(a.epfd);
	return ret;
}
