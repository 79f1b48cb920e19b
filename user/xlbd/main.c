// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlbd: the controller. It loads (or adopts) the balancer, restores the
 * desired state, and then serves control requests from one event loop
 * until SIGTERM or SIGINT, after which the program stays attached and the
 * maps stay pinned (unless --detach-on-exit), so traffic never notices a
 * restart of the daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <xdp/libxdp.h>
#include "config.h"
#include "ctl.h"
#include "hc_tc.h"
#include "xlbd.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlbd --interface IF [OPTIONS]\n"
		"  -i, --interface IF       NIC to attach the balancer to\n"
		"  -c, --config FILE        initial state when there is no "
		"state file\n"
		"      --state-dir DIR      state file directory (%s)\n"
		"      --pin-dir DIR        BPF pin directory (%s)\n"
		"  -s, --socket PATH        control socket (%s)\n"
		"      --socket-mode MODE   its permissions, octal (0600)\n"
		"      --gateway-mac MAC    next hop of encapsulated packets "
		"(default:\n"
		"                           the interface's default gateway)\n"
		"      --xdp-mode MODE      native (default) or generic\n"
		"      --metrics ADDR:PORT  Prometheus endpoint (%s), or off\n"
		"      --max-flows N        flow table size (%d)\n"
		"      --detach-on-exit     detach and unpin on SIGTERM\n"
		"  -v, --verbose            more log lines (twice: library "
		"logs)\n"
		"  -h, --help, --version\n",
		XLBD_STATE_DIR_DEFAULT, XLBD_PIN_DIR_DEFAULT,
		XLB_CTL_SOCKET_DEFAULT, XLBD_METRICS_DEFAULT, XLB_MAX_FLOWS);
}

static void on_signal(struct xlb_watch *w, uint32_t events)
{
	struct xlbd *d = container_of(w, struct xlbd, sig_watch);
	struct signalfd_siginfo si;

	(void)events;
	if (read(d->sfd, &si, sizeof(si)) != sizeof(si))
		return;
	xlb_log(LOG_NOTICE, "%s: stopping", strsignal(si.ssi_signo));
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

/* The policy's timer at due_ms of xlb_now_ms (CLOCK_MONOTONIC); 0 disarms. */
static void tick_arm(struct xlbd *d, __u64 due_ms)
{
	struct itimerspec its = {
		.it_value.tv_sec = due_ms / 1000,
		.it_value.tv_nsec = (due_ms % 1000) * 1000000,
	};

	timerfd_settime(d->tick_fd, TFD_TIMER_ABSTIME, &its, NULL);
	d->tick_armed_ms = due_ms;
}

/* What a pass of the loop left to do: commits, health changes. */
static void settle(struct xlbd *d)
{
	struct xlb_err err = {{0}};

	if (d->checks_stale) {
		d->checks_stale = false;
		xlbd_checks_sync(d);
	}
	/* All health changes of this pass in one write of the maps:
	 * each costs a ring swap the kernel waits on. */
	if (d->refresh_pending) {
		d->refresh_pending = false;
		if (xlbd_refresh(d, &err))
			xlb_log(LOG_ERR, "applying health changes: %s",
				err.msg);
	}
	if (d->tick_due_ms != d->tick_armed_ms)
		tick_arm(d, d->tick_due_ms);
}

static int watch_add(struct xlbd *d, int fd, struct xlb_watch *w,
		     void (*fn)(struct xlb_watch *, uint32_t))
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};

	w->fn = fn;
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* Everything the loop needs before the first commit (which starts checks). */
static int loop_init(struct xlbd *d)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->tick_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->epfd < 0 || d->sfd < 0 || d->tick_fd < 0)
		return -errno;
	if (watch_add(d, d->sfd, &d->sig_watch, on_signal) ||
	    watch_add(d, d->tick_fd, &d->tick_watch, on_tick))
		return -errno;
	d->policy = calloc(1, sizeof(*d->policy));
	d->targets = calloc(XLB_MAX_BACKENDS, sizeof(*d->targets));
	if (!d->policy || !d->targets)
		return -ENOMEM;
	d->hc = xlb_hc_new(d->epfd, xlbd_on_result, d);
	return d->hc ? 0 : -ENOMEM;
}

static void loop_free(struct xlbd *d)
{
	xlb_hc_free(d->hc);
	free(d->policy);
	free(d->targets);
	if (d->tick_fd >= 0)
		close(d->tick_fd);
	if (d->sfd >= 0)
		close(d->sfd);
	if (d->epfd >= 0)
		close(d->epfd);
}

/* The event loop: every ready fd's watch is called. */
static int run(struct xlbd *d)
{
	struct epoll_event evs[64];
	int n;

	while (!d->stop) {
		settle(d);
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
	}
	return 0;
}

/* Desired state at start: the state file, else --config, else empty. */
static int load_initial(struct xlbd *d, const char *config_path,
			struct xlb_model *m, struct xlb_err *err)
{
	int ret = xlb_model_load(d->state_path, m, err);

	if (!ret) {
		xlb_log(LOG_NOTICE, "restored %zu VIPs from %s", m->n_vips,
			d->state_path);
		if (config_path)
			xlb_log(LOG_NOTICE,
				"ignoring --config %s: the state file %s "
				"exists and holds the operator's changes "
				"('xlb config apply %s' replaces them)",
				config_path, d->state_path, config_path);
		return 0;
	}
	if (ret != -ENOENT) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		xlb_err_set(err,
			    "state file %s is unusable: %s (fix it, or move it "
			    "away to start from --config)",
			    d->state_path, why);
		return ret;
	}
	if (!config_path) {
		xlb_model_init(m);
		return 0;
	}
	ret = xlb_model_load(config_path, m, err);
	if (ret == -ENOENT)
		xlb_err_set(err, "config file %s does not exist", config_path);
	if (!ret)
		xlb_log(LOG_NOTICE, "loaded %zu VIPs from %s", m->n_vips,
			config_path);
	return ret;
}

/* What main needs beyond struct xlbd from the command line. */
struct opts {
	struct xlb_dp_opts dpo;
	const char *state_dir, *config;
	bool gw_given;
	mode_t mode;
	int verbosity; /* -v, -vv */
};

/* "0660", "660": permission bits in octal. */
static int parse_mode(const char *s, mode_t *mode)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (!n || n > 4 || strspn(s, "01234567") != n)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		v = v * 8 + (*p - '0');
	if (v > 0777)
		return -EINVAL;
	*mode = v;
	return 0;
}

/* One option: 0, or -EINVAL after a message (a usage error). */
static int parse_opt(int opt, const char *arg, struct xlbd *d, struct opts *o)
{
	struct xlb_err err = {{0}};
	unsigned long flows;

	switch (opt) {
	case 'i':
		o->dpo.ifname = d->ifname = arg;
		return 0;
	case 'c':
		o->config = arg;
		return 0;
	case 'S':
		o->state_dir = arg;
		return 0;
	case 'P':
		o->dpo.pin_dir = arg;
		return 0;
	case 's':
		d->socket_path = arg;
		return 0;
	case 'M':
		if (!parse_mode(arg, &o->mode))
			return 0;
		xlb_log(LOG_ERR,
			"--socket-mode: expected an octal mode "
			"like 0600 or 0660, not '%s'",
			arg);
		return -EINVAL;
	case 'g':
		o->gw_given = true;
		if (!xlbd_parse_mac(arg, o->dpo.gw_mac))
			return 0;
		xlb_log(LOG_ERR,
			"--gateway-mac: '%s' is not a MAC "
			"address",
			arg);
		return -EINVAL;
	case 'x':
		if (!xlb_xdp_mode_parse(arg, &o->dpo.mode))
			return 0;
		xlb_log(LOG_ERR,
			"--xdp-mode: expected native or generic, "
			"not '%s'",
			arg);
		return -EINVAL;
	case 'm':
		d->metrics_addr = strcmp(arg, "off") ? arg : NULL;
		if (!d->metrics_addr || !xlbd_metrics_parse(d, &err))
			return 0;
		xlb_log(LOG_ERR, "%s", err.msg);
		return -EINVAL;
	case 'F':
		if (!xlb_parse_uint(arg, 1024, 1UL << 26, &flows, &err)) {
			o->dpo.max_flows = flows;
			return 0;
		}
		xlb_log(LOG_ERR, "--max-flows: %s", err.msg);
		return -EINVAL;
	case 'D':
		d->detach_on_exit = true;
		return 0;
	case 'v':
		o->verbosity++;
		return 0;
	}
	usage(stderr);
	return -EINVAL;
}

/*
 * The command line, every value checked: 0, 1 when --help or --version
 * answered, or -EINVAL after a message. The interface must exist.
 */
static int parse_opts(int argc, char **argv, struct xlbd *d, struct opts *o)
{
	static const struct option long_opts[] = {
		{"interface", required_argument, NULL, 'i'},
		{"config", required_argument, NULL, 'c'},
		{"state-dir", required_argument, NULL, 'S'},
		{"pin-dir", required_argument, NULL, 'P'},
		{"socket", required_argument, NULL, 's'},
		{"socket-mode", required_argument, NULL, 'M'},
		{"gateway-mac", required_argument, NULL, 'g'},
		{"xdp-mode", required_argument, NULL, 'x'},
		{"metrics", required_argument, NULL, 'm'},
		{"max-flows", required_argument, NULL, 'F'},
		{"detach-on-exit", no_argument, NULL, 'D'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "i:c:s:vh", long_opts, NULL)) !=
	       -1) {
		if (opt == 'h') {
			usage(stdout);
			return 1;
		}
		if (opt == 'V') {
			printf("xlbd %s\n", XLB_VERSION);
			return 1;
		}
		if (parse_opt(opt, optarg, d, o))
			return -EINVAL;
	}
	if (!d->ifname || optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	d->ifindex = if_nametoindex(d->ifname);
	if (!d->ifindex) {
		xlb_log(LOG_ERR, "--interface %s: no such interface",
			d->ifname);
		return -EINVAL;
	}
	return 0;
}

/*
 * Everything that can fail before the NIC is touched: the locks, the
 * state directory, the metrics port, the gateway, the state.
 */
static int prepare(struct xlbd *d, struct opts *o, struct xlb_model *initial,
		   struct xlb_err *err)
{
	char gw[64];
	int ret;

	ret = xlbd_lock(d, d->ifindex, o->dpo.pin_dir, o->state_dir, err);
	if (ret)
		return ret;
	snprintf(d->state_path, sizeof(d->state_path), "%s/state.json",
		 o->state_dir);
	if (mkdir(o->state_dir, 0700) && errno != EEXIST) {
		ret = -errno;
		xlb_err_set(err, "cannot create %s: %s", o->state_dir,
			    strerror(-ret));
		return ret;
	}
	if (d->metrics_addr) {
		ret = xlbd_metrics_bind(d, err);
		if (ret)
			return ret;
	}
	if (!o->gw_given) {
		const __u8 *m = o->dpo.gw_mac;

		ret = xlbd_gateway_mac(d->ifname, o->dpo.gw_mac, gw, sizeof(gw),
				       err);
		if (ret)
			return ret;
		xlb_log(LOG_NOTICE,
			"gateway %s is %02x:%02x:%02x:%02x:%02x:%02x", gw, m[0],
			m[1], m[2], m[3], m[4], m[5]);
	}
	/* A bad state file stops us with everything running as it was. */
	return load_initial(d, o->config, initial, err);
}

/* Loads or adopts the balancer and its TC program for the checks. */
static int attach(struct xlbd *d, struct opts *o, struct xlb_err *err)
{
	int ret;

	d->dp = xlb_dp_new();
	if (!d->dp) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	ret = xlb_dp_open(d->dp, &o->dpo, err);
	if (ret) {
		xlb_dp_free(d->dp);
		d->dp = NULL;
		return ret;
	}
	if (xlb_dp_adopted(d->dp))
		xlb_log(LOG_NOTICE,
			"adopted the running balancer (prog id %u) on %s, "
			"maps at %s",
			xlb_dp_prog_id(d->dp), d->ifname,
			xlb_dp_pin_dir(d->dp));
	else
		xlb_log(LOG_NOTICE,
			"attached the balancer (prog id %u) to %s in %s mode, "
			"maps at %s",
			xlb_dp_prog_id(d->dp), d->ifname,
			xlb_xdp_mode_name(o->dpo.mode), xlb_dp_pin_dir(d->dp));
	/* Checks through the tunnel: TC egress encapsulates marked sockets. */
	return xlb_hc_tc_attach(xlb_dp_ifindex(d->dp),
				xlb_dp_map_fd(d->dp, XLB_DP_BACKENDS),
				xlb_dp_map_fd(d->dp, XLB_DP_CONFIG),
				xlb_dp_pin_dir(d->dp), &d->hc_tc, err);
}

/* The restored state into the maps, then the control socket. */
static int serve_setup(struct xlbd *d, struct opts *o,
		       struct xlb_model *initial, struct xlb_err *err)
{
	int ret;

	/* The maps may already say all this: rewriting is harmless, and
	 * restored backends keep serving until their checks say otherwise. */
	d->restoring = true;
	xlb_dp_restart_down(d->dp, initial, d->policy->start_down);
	ret = xlbd_commit(d, initial, err);
	xlb_model_init(initial); /* consumed by the commit */
	d->restoring = false;
	memset(d->policy->start_down, 0, sizeof(d->policy->start_down));
	if (!ret)
		ret = xlb_dp_reconcile(d->dp, &d->effective, err);
	if (ret) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		xlb_err_set(err, "restoring the state: %s", why);
		return ret;
	}
	d->lfd = xlb_ctl_listen(d->socket_path, o->mode, err);
	if (d->lfd < 0)
		return d->lfd;
	ret = xlbd_ctl_start(d, d->lfd, err);
	if (!ret && d->metrics_addr)
		ret = xlbd_metrics_start(d, err);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.dpo = {.pin_dir = XLBD_PIN_DIR_DEFAULT,
			.mode = XDP_MODE_NATIVE},
		.state_dir = XLBD_STATE_DIR_DEFAULT,
		.mode = 0600,
	};
	struct xlb_err err = {{0}};
	struct xlb_model initial;
	struct xlbd d = {
		.socket_path = XLB_CTL_SOCKET_DEFAULT,
		.metrics_addr = XLBD_METRICS_DEFAULT,
		.epfd = -1,
		.lfd = -1,
		.sfd = -1,
		.tick_fd = -1,
		.metrics_fd = -1,
		.if_lock_fd = -1,
		.pin_lock_fd = -1,
	};
	int ret;

	xlb_log_init("xlbd", 0);
	ret = parse_opts(argc, argv, &d, &o);
	if (ret)
		return ret > 0 ? 0 : 2;
	xlb_log_init("xlbd", o.verbosity);
	if (d.metrics_addr && xlbd_metrics_parse(&d, &err)) {
		xlb_log(LOG_ERR, "%s", err.msg);
		return 2;
	}
	pthread_mutex_init(&d.lock, NULL);
	d.started = time(NULL);
	xlb_model_init(&d.model);
	xlb_model_init(&d.effective);
	xlb_model_init(&initial);

	ret = prepare(&d, &o, &initial, &err);
	if (ret) {
		xlb_log(LOG_ERR, "%s", err.msg);
		goto out_prepared;
	}
	ret = attach(&d, &o, &err);
	if (!ret) {
		ret = loop_init(&d);
		if (ret)
			xlb_err_set(&err, "event loop: %s", strerror(-ret));
	}
	if (!ret)
		ret = serve_setup(&d, &o, &initial, &err);
	if (ret) {
		xlb_log(LOG_ERR, "%s", err.msg);
		goto out;
	}
	xlb_log(LOG_NOTICE, "serving %zu VIPs; control socket %s",
		d.model.n_vips, d.socket_path);
	ret = run(&d);

out:
	xlbd_metrics_stop(&d);
	xlbd_ctl_stop(&d);
	if (d.lfd >= 0) {
		close(d.lfd);
		unlink(d.socket_path);
	}
	loop_free(&d);
	if (d.detach_on_exit)
		xlb_log(LOG_NOTICE, "detaching from %s and unpinning maps",
			d.ifname);
	xlb_hc_tc_detach(d.hc_tc, d.detach_on_exit);
	if (d.dp)
		xlb_dp_close(d.dp, d.detach_on_exit);
	xlb_dp_free(d.dp);
out_prepared:
	if (d.metrics_fd >= 0)
		close(d.metrics_fd);
	xlb_model_free(&initial);
	xlb_model_free(&d.model);
	xlb_model_free(&d.effective);
	xlbd_unlock(&d);
	return ret ? 1 : 0;
}
