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
#include "cluster.h"
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
		"Announcing (BIRD learns the routes: see README):\n"
		"      --route-table N      servable VIP addresses as "
		"blackhole routes in\n"
		"                           kernel table N (default: none)\n"
		"      --bird-socket PATH   BIRD's control socket, for "
		"status\n"
		"      --keep-routes        leave them on a graceful stop\n"
		"Several balancers as one (default: a node on its own):\n"
		"      --etcd URL[,URL...]  etcd endpoints (http:// or "
		"https://)\n"
		"      --cluster NAME       the cluster's name\n"
		"      --node ID            this node's name in it\n"
		"      --etcd-prefix P      key prefix (%s)\n"
		"      --etcd-cacert FILE, --etcd-cert FILE, --etcd-key FILE\n"
		"      --etcd-user USER, --etcd-password-file FILE\n"
		"      --heartbeat MS       lease keep-alive interval (%d); "
		"TTL 3x\n"
		"      --health-quorum N    members that must see a backend "
		"down\n"
		"                           (default: a majority)\n"
		"  -v, --verbose            more log lines (twice: library "
		"logs)\n"
		"  -h, --help, --version\n",
		XLBD_STATE_DIR_DEFAULT, XLBD_PIN_DIR_DEFAULT,
		XLB_CTL_SOCKET_DEFAULT, XLBD_METRICS_DEFAULT, XLB_MAX_FLOWS,
		XLBD_ETCD_PREFIX, XLBD_HEARTBEAT_MS_DEFAULT);
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

enum {
	OPT_ROUTE_TABLE = 256,
	OPT_BIRD_SOCKET,
	OPT_KEEP_ROUTES,
	OPT_ETCD,
	OPT_CLUSTER,
	OPT_NODE,
	OPT_ETCD_PREFIX,
	OPT_ETCD_CACERT,
	OPT_ETCD_CERT,
	OPT_ETCD_KEY,
	OPT_ETCD_USER,
	OPT_ETCD_PASSWORD_FILE,
	OPT_HEARTBEAT,
	OPT_QUORUM,
};

/* A number option: 0, or -EINVAL after a message. */
static int opt_uint(const char *name, const char *arg, unsigned long min,
		    unsigned long max, unsigned long *v)
{
	struct xlb_err err = {{0}};

	if (!xlb_parse_uint(arg, min, max, v, &err))
		return 0;
	xlb_log(LOG_ERR, "--%s: %s", name, err.msg);
	return -EINVAL;
}

/* The options of announcing and of the cluster. */
static int parse_cluster_opt(int opt, const char *arg, struct xlbd *d,
			     struct xlbd_cluster_opts *c)
{
	unsigned long v;

	switch (opt) {
	case OPT_ROUTE_TABLE:
		if (opt_uint("route-table", arg, 1, 0xffffffffUL, &v))
			return -EINVAL;
		if (v >= 253 && v <= 255) {
			xlb_log(LOG_ERR,
				"--route-table: %lu is one of the "
				"kernel's own tables (253-255)",
				v);
			return -EINVAL;
		}
		d->route_table = v;
		return 0;
	case OPT_BIRD_SOCKET:
		d->bird_socket = arg;
		return 0;
	case OPT_KEEP_ROUTES:
		d->keep_routes = true;
		return 0;
	case OPT_HEARTBEAT:
		if (opt_uint("heartbeat", arg, 100, 60000, &v))
			return -EINVAL;
		c->heartbeat_ms = v;
		return 0;
	case OPT_QUORUM:
		if (!strcmp(arg, "majority")) {
			c->quorum = 0;
			return 0;
		}
		if (opt_uint("health-quorum", arg, 1, 64, &v))
			return -EINVAL;
		c->quorum = v;
		return 0;
	}
	const char **slot[] = {
		[OPT_ETCD - OPT_ETCD] = &c->etcd,
		[OPT_CLUSTER - OPT_ETCD] = &c->cluster,
		[OPT_NODE - OPT_ETCD] = &c->node,
		[OPT_ETCD_PREFIX - OPT_ETCD] = &c->prefix,
		[OPT_ETCD_CACERT - OPT_ETCD] = &c->cacert,
		[OPT_ETCD_CERT - OPT_ETCD] = &c->cert,
		[OPT_ETCD_KEY - OPT_ETCD] = &c->key,
		[OPT_ETCD_USER - OPT_ETCD] = &c->user,
		[OPT_ETCD_PASSWORD_FILE - OPT_ETCD] = &c->password_file,
	};
	if (opt < OPT_ETCD || opt > OPT_ETCD_PASSWORD_FILE) {
		usage(stderr);
		return -EINVAL;
	}
	*slot[opt - OPT_ETCD] = arg;
	return 0;
}

/* The cluster's options agree with each other. */
static int check_cluster_opts(const struct xlbd_cluster_opts *c)
{
	struct xlb_err err = {{0}};
	bool any = c->cluster || c->node || c->prefix || c->cacert || c->cert ||
		   c->key || c->user || c->password_file || c->heartbeat_ms ||
		   c->quorum;

	if (!c->etcd && any) {
		xlb_log(LOG_ERR, "the cluster's options need --etcd");
		return -EINVAL;
	}
	if (!c->etcd)
		return 0;
	if (!c->cluster || !c->node) {
		xlb_log(LOG_ERR, "--etcd needs --cluster NAME and --node ID");
		return -EINVAL;
	}
	if (xlb_cluster_id_check("--cluster", c->cluster, &err) ||
	    xlb_cluster_id_check("--node", c->node, &err)) {
		xlb_log(LOG_ERR, "%s", err.msg);
		return -EINVAL;
	}
	if (!c->user != !c->password_file) {
		xlb_log(LOG_ERR, "--etcd-user and --etcd-password-file go "
				 "together");
		return -EINVAL;
	}
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
		o->config = d->config = arg;
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
	return parse_cluster_opt(opt, arg, d, &o->clo);
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
		{"route-table", required_argument, NULL, OPT_ROUTE_TABLE},
		{"bird-socket", required_argument, NULL, OPT_BIRD_SOCKET},
		{"keep-routes", no_argument, NULL, OPT_KEEP_ROUTES},
		{"etcd", required_argument, NULL, OPT_ETCD},
		{"cluster", required_argument, NULL, OPT_CLUSTER},
		{"node", required_argument, NULL, OPT_NODE},
		{"etcd-prefix", required_argument, NULL, OPT_ETCD_PREFIX},
		{"etcd-cacert", required_argument, NULL, OPT_ETCD_CACERT},
		{"etcd-cert", required_argument, NULL, OPT_ETCD_CERT},
		{"etcd-key", required_argument, NULL, OPT_ETCD_KEY},
		{"etcd-user", required_argument, NULL, OPT_ETCD_USER},
		{"etcd-password-file", required_argument, NULL,
		 OPT_ETCD_PASSWORD_FILE},
		{"heartbeat", required_argument, NULL, OPT_HEARTBEAT},
		{"health-quorum", required_argument, NULL, OPT_QUORUM},
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
	if (check_cluster_opts(&o->clo))
		return -EINVAL;
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
