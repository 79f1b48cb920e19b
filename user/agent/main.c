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
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "decap.skel.h"
#include "model.h"
#include "version.h"

#define MAX_EXTRA 16

static int verbosity;
static volatile sig_atomic_t stop;

static int lib_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (verbosity < 1 || (verbosity < 2 && level == LIBBPF_DEBUG))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return lib_print((enum libbpf_print_level)level, fmt, ap);
}

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
		fprintf(stderr, "xlb-agent: adding %s: %s\n",
			xlb_format_addr(a, family, buf, sizeof(buf)),
			strerror(errno));
		return -errno;
	}
	if (verbosity)
		fprintf(stderr, "xlb-agent: accepting tunnels to %s\n",
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

int main(int argc, char **argv)
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
	enum xdp_attach_mode mode = XDP_MODE_NATIVE;
	union xlb_addr extra[MAX_EXTRA];
	__u8 extra_family[MAX_EXTRA];
	struct xlb_err err = {{0}};
	struct xlb_decap_config cfg = {0};
	struct xdp_program *prog = NULL;
	struct xlb_decap *skel = NULL;
	unsigned long gue_port = 6080;
	const char *ifname = NULL;
	int opt, ifindex, ret = 1, n_extra = 0, n;
	__u32 zero = 0;
	char msg[128];

	while ((opt = getopt_long(argc, argv, "i:a:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'a':
			if (n_extra == MAX_EXTRA ||
			    xlb_parse_addr(optarg, &extra[n_extra],
					   &extra_family[n_extra], &err)) {
				fprintf(stderr, "xlb-agent: --address: %s\n",
					n_extra == MAX_EXTRA ? "too many"
							     : err.msg);
				return 2;
			}
			n_extra++;
			break;
		case 'g':
			if (xlb_parse_uint(optarg, 0, 65535, &gue_port, &err)) {
				fprintf(stderr, "xlb-agent: --gue-port: %s\n",
					err.msg);
				return 2;
			}
			break;
		case 'x':
			if (!strcmp(optarg, "native")) {
				mode = XDP_MODE_NATIVE;
			} else if (!strcmp(optarg, "generic")) {
				mode = XDP_MODE_SKB;
			} else {
				fprintf(stderr,
					"xlb-agent: --xdp-mode: expected "
					"native or generic\n");
				return 2;
			}
			break;
		case 'v':
			verbosity++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xlb-agent %s\n", XLB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ifname || optind != argc) {
		usage(stderr);
		return 2;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "xlb-agent: no interface %s\n", ifname);
		return 1;
	}
	libbpf_set_print(lib_print);
	libxdp_set_print(xdp_print);

	skel = xlb_decap__open();
	if (!skel) {
		fprintf(stderr, "xlb-agent: opening decap object: %s\n",
			strerror(errno));
		return 1;
	}
	{
		DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .obj = skel->obj,
				    .prog_name = "xlb_decap");

		prog = xdp_program__create(&xopts);
	}
	ret = libxdp_get_error(prog);
	if (ret) {
		prog = NULL;
		goto err_load;
	}
	ret = xdp_program__attach(prog, ifindex, mode, 0);
	if (ret)
		goto err_load;

	cfg.gue_port = htons(gue_port);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.decap_config), &zero,
				&cfg, BPF_ANY)) {
		fprintf(stderr, "xlb-agent: writing config: %s\n",
			strerror(errno));
		ret = 1;
		goto out_detach;
	}
	n = add_if_addrs(bpf_map__fd(skel->maps.decap_addrs), ifname);
	for (int i = 0; i < n_extra; i++)
		if (!add_addr(bpf_map__fd(skel->maps.decap_addrs), &extra[i],
			      extra_family[i]))
			n++;
	if (n <= 0)
		fprintf(stderr,
			"xlb-agent: warning: no address accepts tunnels yet "
			"(%s has none; use --address)\n",
			ifname);
	fprintf(stderr,
		"xlb-agent: decap attached to %s (prog id %u), %d "
		"addresses, GUE port %lu\n",
		ifname, xdp_program__id(prog), n, gue_port);

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop)
		pause();
	ret = 0;

out_detach:
	xdp_program__detach(prog, ifindex, mode, 0);
	fprintf(stderr, "xlb-agent: decap detached from %s\n", ifname);
	xdp_program__close(prog);
	xlb_decap__destroy(skel);
	return ret ? 1 : 0;

err_load:
	libxdp_strerror(ret, msg, sizeof(msg));
	fprintf(stderr, "xlb-agent: attaching decap to %s: %s\n", ifname, msg);
	xdp_program__close(prog);
	xlb_decap__destroy(skel);
	return 1;
}
