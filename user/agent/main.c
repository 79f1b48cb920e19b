// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlb-agent: runs on a backend. It attaches the decapsulation program to
 * the interface, tells it which of the host's addresses accept tunnels
 * (every address of the interface, plus any given with --address), and
 * detaches it again on SIGTERM or SIGINT. Load reports to the controller
 * will live here too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>
#include "decap.skel.h"
#include "loader.h"
#include "log.h"
#include "model.h"
#include "version.h"

#define MAX_EXTRA 16

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: xlb-agent --interface IF [OPTIONS]\n"
		   "  -i, --interface IF     NIC the tunnels arrive on\n"
		   "  -a, --address ADDR     also accept tunnels to ADDR "
		   "(repeatable)\n"
		   "      --gue-port PORT    accept GUE on this UDP port "
		   "(6080; 0: off)\n"
		   "      --xdp-mode MODE    native (default) or generic\n"
		   "  -v, --verbose          library logs\n"
		   "  -h, --help, --version\n");
}

static int add_addr(int fd, const union xlb_addr *a, __u8 family)
{
	struct xlb_decap_key key = {.addr = *a, .family = family};
	char buf[XLB_ADDR_STRLEN];
	__u32 zero = 0;

	if (bpf_map_update_elem(fd, &key, &zero, BPF_ANY)) {
		xlb_log(LOG_ERR, "adding %s: %s",
			xlb_format_addr(a, family, buf, sizeof(buf)),
			strerror(errno));
		return -errno;
	}
	xlb_log(LOG_INFO, "accepting tunnels to %s",
		xlb_format_addr(a, family, buf, sizeof(buf)));
	return 0;
}

/* Every address of the interface accepts tunnels. */
static int add_if_addrs(int fd, const char *ifname)
{
	struct ifaddrs *ifa, *i;
	union xlb_addr a;
	int n = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
			continue;
		memset(&a, 0, sizeof(a));
		if (i->ifa_addr->sa_family == AF_INET) {
			a.v4 = ((struct sockaddr_in *)i->ifa_addr)
				       ->sin_addr.s_addr;
			if (!add_addr(fd, &a, XLB_AF_INET))
				n++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(a.bytes,
			       &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			       16);
			if (!add_addr(fd, &a, XLB_AF_INET6))
				n++;
		}
	}
	freeifaddrs(ifa);
	return n;
}

struct agent_opts {
	const char *ifname;
	enum xdp_attach_mode mode;
	unsigned long gue_port;
	union xlb_addr extra[MAX_EXTRA];
	__u8 extra_family[MAX_EXTRA];
	int n_extra;
	int verbosity; /* -v: the addresses, -vv: library debug */
};

/* Fills o from the command line: 0, or the exit code to leave with. */
static int parse_args(int argc, char **argv, struct agent_opts *o)
{
	static const struct option opts[] = {
		{"interface", required_argument, NULL, 'i'},
		{"address", required_argument, NULL, 'a'},
		{"gue-port", required_argument, NULL, 'g'},
		{"xdp-mode", required_argument, NULL, 'x'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct xlb_err err = {{0}};
	int opt;

	while ((opt = getopt_long(argc, argv, "i:a:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'a':
			if (o->n_extra == MAX_EXTRA ||
			    xlb_parse_addr(optarg, &o->extra[o->n_extra],
					   &o->extra_family[o->n_extra],
					   &err)) {
				xlb_log(LOG_ERR, "--address: %s",
					o->n_extra == MAX_EXTRA ? "too many"
								: err.msg);
				return 2;
			}
			o->n_extra++;
			break;
		case 'g':
			if (xlb_parse_uint(optarg, 0, 65535, &o->gue_port,
					   &err)) {
				xlb_log(LOG_ERR, "--gue-port: %s", err.msg);
				return 2;
			}
			break;
		case 'x':
			if (xlb_xdp_mode_parse(optarg, &o->mode)) {
				xlb_log(LOG_ERR, "--xdp-mode: expected "
						 "native or generic");
				return 2;
			}
			break;
		case 'v':
			o->verbosity++;
			break;
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
	if (!o->ifname || optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

/* Writes the decap config and the addresses that accept tunnels. */
static int configure(struct xlb_decap *skel, const struct agent_opts *o)
{
	struct xlb_decap_config cfg = {0};
	int addrs_fd = bpf_map__fd(skel->maps.decap_addrs);
	__u32 zero = 0;
	int n;

	cfg.gue_port = htons(o->gue_port);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.decap_config), &zero,
				&cfg, BPF_ANY)) {
		n = -errno;
		xlb_log(LOG_ERR, "writing config: %s", strerror(-n));
		return n;
	}
	n = add_if_addrs(addrs_fd, o->ifname);
	for (int i = 0; i < o->n_extra; i++)
		if (!add_addr(addrs_fd, &o->extra[i], o->extra_family[i]))
			n++;
	if (n <= 0)
		xlb_log(LOG_WARNING,
			"warning: no address accepts tunnels yet "
			"(%s has none; use --address)",
			o->ifname);
	return n;
}

int main(int argc, char **argv)
{
	struct agent_opts o = {.mode = XDP_MODE_NATIVE, .gue_port = 6080};
	struct xlb_xdp_opts xo = {.what = "decap", .prog_name = "xlb_decap"};
	struct xlb_err err = {{0}};
	struct xlb_xdp xdp = {0};
	struct xlb_decap *skel;
	int ret, n;

	xlb_log_init("xlb-agent", 0);
	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret;
	xlb_log_init("xlb-agent", o.verbosity);

	skel = xlb_decap__open();
	if (!skel) {
		xlb_log(LOG_ERR, "opening decap object: %s", strerror(errno));
		return 1;
	}
	xo.ifname = o.ifname;
	xo.mode = o.mode;
	ret = xlb_xdp_open(&xdp, skel->obj, &xo, &err);
	if (ret) {
		xlb_log(LOG_ERR, "%s", err.msg);
		goto out_skel;
	}
	n = configure(skel, &o);
	if (n < 0) {
		ret = n;
		goto out_detach;
	}
	xlb_log(LOG_NOTICE,
		"decap attached to %s (prog id %u), %d "
		"addresses, GUE port %lu",
		o.ifname, xdp.prog_id, n, o.gue_port);

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop)
		pause();

out_detach:
	xlb_xdp_close(&xdp, true);
	xlb_log(LOG_NOTICE, "decap detached from %s", o.ifname);
out_skel:
	xlb_decap__destroy(skel);
	return ret ? 1 : 0;
}
