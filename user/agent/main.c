// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlb-agent: runs on a backend. It attaches the decapsulation program to
 * the interface (decap.c) and, with --config or --agent-port, answers the
 * balancers' agent checks with the load of each service it hosts
 * (loop.c and the files it calls). Either duty alone is fine: without
 * --interface nothing is attached (a host behind HAProxy), without a
 * config or port no report is served (the agent of old). It stops on
 * SIGTERM or SIGINT, detaching decap.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <systemd/sd-daemon.h>
#include "agent.h"
#include "decap.h"
#include "loader.h"
#include "log.h"
#include "version.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: xlb-agent --interface IF [OPTIONS]\n"
		   "       xlb-agent {--config FILE | --agent-port PORT} "
		   "[--interface IF] [OPTIONS]\n"
		   "  -i, --interface IF     NIC the tunnels arrive on\n"
		   "  -a, --address ADDR     also accept tunnels to ADDR "
		   "(repeatable)\n"
		   "      --gue-port PORT    accept GUE on this UDP port "
		   "(6080; 0: off)\n"
		   "      --xdp-mode MODE    native (default) or generic\n"
		   "  -c, --config FILE      serve load reports as FILE says "
		   "(JSON; SIGHUP re-reads)\n"
		   "  -p, --agent-port PORT  serve load reports on PORT "
		   "(default 5555; overrides the config)\n"
		   "  -v, --verbose          more logs (-vv: every report)\n"
		   "  -h, --help, --version\n");
}

struct agent_opts {
	struct agent_decap_opts decap;
	const char *config;
	unsigned long port; /* 0: the config's */
	int verbosity;	    /* -v: the addresses, -vv: library debug */
};

/* One option of parse_args: 0, or the exit code to leave with. */
static int parse_opt(int opt, struct agent_opts *o)
{
	struct agent_decap_opts *d = &o->decap;
	struct xlb_err err = {{0}};

	switch (opt) {
	case 'i':
		d->ifname = optarg;
		return 0;
	case 'a':
		if (d->n_extra == AGENT_MAX_EXTRA ||
		    xlb_parse_addr(optarg, &d->extra[d->n_extra],
				   &d->extra_family[d->n_extra], &err)) {
			xlb_log(LOG_ERR, "--address: %s",
				d->n_extra == AGENT_MAX_EXTRA ? "too many"
							      : err.msg);
			return 2;
		}
		d->n_extra++;
		return 0;
	case 'g':
		if (xlb_parse_uint(optarg, 0, 65535, &d->gue_port, &err)) {
			xlb_log(LOG_ERR, "--gue-port: %s", err.msg);
			return 2;
		}
		return 0;
	case 'x':
		if (xlb_xdp_mode_parse(optarg, &d->mode)) {
			xlb_log(LOG_ERR, "--xdp-mode: expected "
					 "native or generic");
			return 2;
		}
		return 0;
	case 'c':
		o->config = optarg;
		return 0;
	case 'p':
		if (xlb_parse_uint(optarg, 1, 65535, &o->port, &err)) {
			xlb_log(LOG_ERR, "--agent-port: %s", err.msg);
			return 2;
		}
		return 0;
	case 'v':
		o->verbosity++;
		return 0;
	case 'h':
		usage(stdout);
		exit(0);
	case 'V':
		printf("xlb-agent %s\n", XLB_VERSION);
		exit(0);
	default:
		usage(stderr);
		return 2;
	}
}

/* Fills o from the command line: 0, or the exit code to leave with. */
static int parse_args(int argc, char **argv, struct agent_opts *o)
{
	static const struct option opts[] = {
		{"interface", required_argument, NULL, 'i'},
		{"address", required_argument, NULL, 'a'},
		{"gue-port", required_argument, NULL, 'g'},
		{"xdp-mode", required_argument, NULL, 'x'},
		{"config", required_argument, NULL, 'c'},
		{"agent-port", required_argument, NULL, 'p'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "i:a:c:p:vh", opts, NULL)) !=
	       -1) {
		ret = parse_opt(opt, o);
		if (ret)
			return ret;
	}
	/* Some duty to do, and no stray words. */
	if ((!o->decap.ifname && !o->config && !o->port) || optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

static int watch_decap(void *arg, int epfd)
{
	return agent_decap_watch(arg, epfd);
}

/*
 * Without reports: follow the interface's addresses until SIGTERM or
 * SIGINT. The signals are blocked but inside epoll_pwait, so one that
 * comes between the test of stop and the wait is not slept through.
 */
static int decap_only(struct agent_decap *d)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct epoll_event evs[8];
	sigset_t mask, old;
	int epfd, n, ret = 0;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || (ret = agent_decap_watch(d, epfd)))
		xlb_log(LOG_WARNING,
			"not following address changes: %s; the addresses "
			"seen at start stay",
			strerror(epfd < 0 ? errno : -ret));
	sd_notify(0, "READY=1\nSTATUS=decapsulating\n");
	while (!stop) {
		n = epfd < 0 ? -1 : epoll_pwait(epfd, evs, 8, -1, &old);
		if (n < 0 && (epfd < 0 || errno != EINTR)) {
			/* Decap goes on without us: keep it until told. */
			while (!stop)
				sigsuspend(&old);
			break;
		}
		for (int i = 0; i < n; i++) {
			struct xlb_watch *w = evs[i].data.ptr;

			w->fn(w, evs[i].events);
		}
	}
	sd_notify(0, "STOPPING=1\n");
	if (epfd >= 0)
		close(epfd);
	return 0;
}

int main(int argc, char **argv)
{
	struct agent_opts o = {
		.decap = {.mode = XDP_MODE_NATIVE, .gue_port = 6080}};
	struct agent_decap *decap = NULL;
	struct agent_cfg *cfg = NULL;
	struct xlb_err err = {{0}};
	int ret;

	xlb_log_init("xlb-agent", 0);
	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret;
	xlb_log_init("xlb-agent", o.verbosity);

	/* A bad config is refused before the NIC is touched. */
	if (o.config || o.port) {
		cfg = o.config ? agent_cfg_load(o.config, &err)
			       : agent_cfg_default();
		if (!cfg) {
			xlb_log(LOG_ERR, "config %s", err.msg);
			return 2;
		}
	}
	if (o.decap.ifname) {
		decap = agent_decap_attach(&o.decap);
		if (!decap) {
			agent_cfg_free(cfg);
			return 1;
		}
	}
	if (cfg)
		ret = agent_loop_run(cfg, o.config, o.port,
				     decap ? watch_decap : NULL, decap);
	else
		ret = decap_only(decap);
	agent_decap_detach(decap);
	return ret ? 1 : 0;
}
