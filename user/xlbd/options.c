// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlbd's command line: the options, their defaults, and a check of every
 * value before anything is touched (options.c of xlbd.h).
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <xdp/libxdp.h>
#include "ctl.h"
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
		"      --max-flows N        flow table size, over all CPUs "
		"(%d)\n"
		"      --detach-on-exit     detach and unpin on SIGTERM\n"
		"  -v, --verbose            more log lines (twice: library "
		"logs)\n"
		"  -h, --help, --version\n",
		XLBD_STATE_DIR_DEFAULT, XLBD_PIN_DIR_DEFAULT,
		XLB_CTL_SOCKET_DEFAULT, XLBD_METRICS_DEFAULT, XLB_MAX_FLOWS);
}

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
static int parse_opt(int opt, const char *arg, struct xlbd *d,
		     struct xlbd_opts *o)
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

int xlbd_opts_parse(int argc, char **argv, struct xlbd *d, struct xlbd_opts *o)
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
	struct xlb_err err = {{0}};
	int opt;

	*o = (struct xlbd_opts){
		.dpo = {.pin_dir = XLBD_PIN_DIR_DEFAULT,
			.mode = XDP_MODE_NATIVE},
		.state_dir = XLBD_STATE_DIR_DEFAULT,
		.mode = 0600,
	};
	d->socket_path = XLB_CTL_SOCKET_DEFAULT;
	d->metrics_addr = XLBD_METRICS_DEFAULT;
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
	/* The default address too: it may not be free to take. */
	if (d->metrics_addr && xlbd_metrics_parse(d, &err)) {
		xlb_log(LOG_ERR, "%s", err.msg);
		return -EINVAL;
	}
	return 0;
}
