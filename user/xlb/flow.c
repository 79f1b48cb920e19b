// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb flow list` and `xlb flow count`: the flows the balancer holds, as
 * `ipvsadm -Lnc` shows them, read from the pinned flow tables through
 * their read-only mapping (flows.h): no writes, no locks, no syscall per
 * flow, so reading never disturbs the data path, and it works while xlbd
 * is down.
 *
 * A way is listed when the data path would still use it: in use, its VIP
 * id still names a VIP of the vips map whose address, protocol and port
 * are the flow's (ids are reused), its backend id in use, and, for UDP,
 * not idle past the UDP timeout of the config map. A flow the data path
 * copied into several CPUs' parts (veth, generic XDP) is one flow, with
 * every CPU that holds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "flows.h"
#include "print.h"
#include "stats.h"
#include "text.h"
#include "xlb.h"

/* One copy of a flow in one CPU's part. */
struct seen {
	struct xlb_flow_key key;
	__u32 vip;	  /* index in the VIP list */
	__u32 backend_id; /* an index of the backends map */
	__u32 age;	  /* stamp units since its last packet */
	__u32 cpu;
};

/* What the walk needs to judge a way, and what it keeps. */
struct flow_walk {
	struct xlb_vip_entry *vips; /* sorted: their index is the order */
	size_t n_vips;
	__s32 *vip_of_id;		    /* vip_id -> index in vips, or -1 */
	struct xlb_backend_entry *backends; /* by increasing id */
	size_t n_backends;
	__u32 now, udp_ttl; /* stamp units; udp_ttl 0: UDP never expires */
	/* Filters: the VIP index (-1: all) and backend address. */
	long only_vip;
	bool by_backend;
	union xlb_addr backend_addr;
	__u8 backend_family;
	struct seen *list;
	size_t n, cap;
};

static void walk_free(struct flow_walk *w)
{
	free(w->vips);
	free(w->vip_of_id);
	free(w->backends);
	free(w->list);
}

static const struct xlb_backend *backend_of(const struct flow_walk *w, __u32 id)
{
	size_t lo = 0, hi = w->n_backends;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (w->backends[mid].id == id)
			return &w->backends[mid].val;
		if (w->backends[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The flow's VIP is the one its id names: address, protocol and port. */
static bool vip_is_flows(const struct xlb_vip_key *v,
			 const struct xlb_flow_key *k)
{
	size_t len = k->family == XLB_AF_INET ? 4 : 16;

	return v->family == k->family && v->proto == k->proto &&
	       !memcmp(&v->addr, &k->dst, len) &&
	       (!v->port || v->port == k->dport);
}

static int keep(const struct xlb_flow_seen *s, void *ctx)
{
	struct flow_walk *w = ctx;
	const struct xlb_backend *b = backend_of(w, s->e.backend_id);
	__u32 age = w->now - s->e.stamp;
	__s32 vip = w->vip_of_id[s->e.vip_id];
	struct seen *n;

	if (vip < 0 || !vip_is_flows(&w->vips[vip].key, &s->key) || !b)
		return 0;
	if (s->key.proto == IPPROTO_UDP && w->udp_ttl && age > w->udp_ttl)
		return 0;
	if (w->only_vip >= 0 && vip != w->only_vip)
		return 0;
	if (w->by_backend &&
	    (b->family != w->backend_family ||
	     memcmp(&b->addr, &w->backend_addr, sizeof(b->addr))))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 1024;

		n = realloc(w->list, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		w->list = n;
		w->cap = cap;
	}
	n = &w->list[w->n++];
	n->key = s->key;
	n->vip = vip;
	n->backend_id = s->e.backend_id;
	/* An age "in the future": stamped after our clock read. */
	n->age = age > 0x80000000U ? 0 : age;
	n->cpu = s->cpu;
	return 0;
}

/* UDP timeout in stamp units, from the config map (0: none). */
static __u32 udp_ttl_of(int config_fd)
{
	struct xlb_config c;
	__u32 k = 0;

	if (bpf_map_lookup_elem(config_fd, &k, &c))
		return 0;
	if (!c.udp_timeout_ns)
		return 0;
	return (c.udp_timeout_ns >> XLB_FLOW_STAMP_SHIFT) ?: 1;
}

static int load_maps(struct flow_walk *w, const struct xlb_pins *p)
{
	struct timespec ts;
	int ret;

	ret = xlb_vips_read(p->vips, &w->vips, &w->n_vips);
	ret = ret
		      ?: xlb_backends_read(p->backends, &w->backends,
					   &w->n_backends);
	if (ret)
		return fail(ret, "reading the maps at %s: %s", cli.pin_dir,
			    strerror(-ret));
	w->vip_of_id = malloc(65536 * sizeof(*w->vip_of_id));
	if (!w->vip_of_id)
		return fail(-ENOMEM, "out of memory");
	memset(w->vip_of_id, 0xff, 65536 * sizeof(*w->vip_of_id));
	for (size_t i = 0; i < w->n_vips; i++)
		if (w->vips[i].val.vip_id < 65536)
			w->vip_of_id[w->vips[i].val.vip_id] = i;
	w->udp_ttl = udp_ttl_of(p->config);
	/* The data path's clock: bpf_ktime_get_coarse_ns. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	w->now = xlb_flow_stamp((__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec);
	return 0;
}

/* The index of VIP key in the list, or a failure naming it. */
static int find_vip(struct flow_walk *w, const struct xlb_vip_key *key,
		    const char *name)
{
	for (size_t i = 0; i < w->n_vips; i++)
		if (!memcmp(&w->vips[i].key, key, sizeof(*key))) {
			w->only_vip = i;
			return 0;
		}
	return fail(-ENOENT, "VIP %s is not in the maps at %s", name,
		    cli.pin_dir);
}

static int seen_cmp(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int c;

	if (x->vip != y->vip)
		return x->vip < y->vip ? -1 : 1;
	if (x->key.family != y->key.family)
		return x->key.family < y->key.family ? -1 : 1;
	c = memcmp(&x->key.src, &y->key.src, sizeof(x->key.src));
	if (c)
		return c;
	if (x->key.sport != y->key.sport)
		return ntohs(x->key.sport) < ntohs(y->key.sport) ? -1 : 1;
	c = memcmp(&x->key.dst, &y->key.dst, sizeof(x->key.dst));
	if (c)
		return c;
	if (x->key.dport != y->key.dport)
		return ntohs(x->key.dport) < ntohs(y->key.dport) ? -1 : 1;
	return x->cpu < y->cpu ? -1 : x->cpu > y->cpu;
}

static bool same_flow(const struct seen *x, const struct seen *y)
{
	return x->vip == y->vip && x->key.family == y->key.family &&
	       x->key.sport == y->key.sport && x->key.dport == y->key.dport &&
	       !memcmp(&x->key.src, &y->key.src, sizeof(x->key.src)) &&
	       !memcmp(&x->key.dst, &y->key.dst, sizeof(x->key.dst));
}

/*
 * The flows the filters keep, sorted by VIP, client and CPU: copies of
 * one flow are adjacent (same_flow). Parses nothing: the caller did.
 */
static int collect(struct flow_walk *w)
{
	struct xlb_flows t;
	int ret;

	ret = xlb_flows_open_pinned(&t, cli.pin_dir);
	if (ret)
		return fail(ret, "mapping the flow tables at %s: %s",
			    cli.pin_dir, strerror(-ret));
	ret = xlb_flows_walk(&t, keep, w);
	xlb_flows_close(&t);
	if (ret)
		return fail(ret, "out of memory");
	if (w->n)
		qsort(w->list, w->n, sizeof(*w->list), seen_cmp);
	return 0;
}

static const char *addr_port(const union xlb_addr *a, __u8 family, __be16 port,
			     char *buf, size_t len)
{
	char s[XLB_ADDR_STRLEN];

	xlb_format_addr(a, family, s, sizeof(s));
	snprintf(buf, len, family == XLB_AF_INET6 ? "[%s]:%u" : "%s:%u", s,
		 ntohs(port));
	return buf;
}

/* The CPUs holding the flow that starts at f[0], n copies. */
static void print_cpus(const struct seen *f, size_t n)
{
	char buf[128];
	size_t len = 0;

	open_array("cpus");
	for (size_t i = 0; i < n; i++) {
		print_uint(PRINT_JSON, NULL, NULL, f[i].cpu);
		if (len < sizeof(buf))
			len += snprintf(buf + len, sizeof(buf) - len, "%s%u",
					i ? "," : "", f[i].cpu);
	}
	close_array();
	print_string(PRINT_TEXT, NULL, NULL, buf);
}

/* One flow: its n copies from f[0]; the freshest says backend and age. */
static void print_flow(const struct flow_walk *w, const struct seen *f,
		       size_t n)
{
	const struct seen *fresh = f;
	const struct xlb_backend *b;
	char buf[XLB_VIP_STRLEN], age[32];

	for (size_t i = 1; i < n; i++)
		if (f[i].age < fresh->age)
			fresh = &f[i];
	b = backend_of(w, fresh->backend_id);
	row_open(NULL);
	print_string(PRINT_ANY, "proto", NULL,
		     f->key.proto == IPPROTO_TCP ? "tcp" : "udp");
	print_string(PRINT_ANY, "client", NULL,
		     addr_port(&f->key.src, f->key.family, f->key.sport, buf,
			       sizeof(buf)));
	print_string(PRINT_ANY, "vip", NULL,
		     xlb_format_vip(&w->vips[f->vip].key, buf, sizeof(buf)));
	print_string(PRINT_ANY, "backend", NULL,
		     b ? xlb_format_addr(&b->addr, b->family, buf, sizeof(buf))
		       : "-");
	print_uint(PRINT_JSON, "backend_id", NULL, fresh->backend_id);
	/* Stamp units are 2^20 ns: 1.048576 ms. */
	print_uint(PRINT_JSON, "age_ms", NULL,
		   ((__u64)fresh->age << XLB_FLOW_STAMP_SHIFT) / 1000000);
	snprintf(age, sizeof(age), "%.1fs",
		 ((__u64)fresh->age << XLB_FLOW_STAMP_SHIFT) / 1e9);
	print_string(PRINT_TEXT, NULL, NULL, age);
	print_cpus(f, n);
	row_close();
}

static const struct column list_cols[] = {
	{"PROTO", false},   {"CLIENT", false}, {"VIP", false},
	{"BACKEND", false}, {"AGE", true},     {"CPU", false},
};

static void print_list(const struct flow_walk *w, unsigned long limit)
{
	unsigned long shown = 0;
	size_t i = 0, n;

	table_open("flows", false, list_cols,
		   sizeof(list_cols) / sizeof(list_cols[0]));
	while (i < w->n && (!limit || shown < limit)) {
		for (n = 1;
		     i + n < w->n && same_flow(&w->list[i], &w->list[i + n]);
		     n++)
			;
		print_flow(w, &w->list[i], n);
		shown++;
		i += n;
	}
	table_close();
}

static const struct column count_cols[] = {
	{"VIP", false},
	{"FLOWS", true},
};

/* Flows per VIP (every VIP, or the one asked for), then the total. */
static void print_count(const struct flow_walk *w)
{
	char name[XLB_VIP_STRLEN];
	unsigned long long total = 0;
	size_t i = 0;

	table_open("vips", false, count_cols, 2);
	for (size_t v = 0; v < w->n_vips; v++) {
		unsigned long long n = 0;

		if (w->only_vip >= 0 && (long)v != w->only_vip)
			continue;
		for (; i < w->n && w->list[i].vip == v; i++)
			if (!i || !same_flow(&w->list[i - 1], &w->list[i]))
				n++;
		row_open(NULL);
		print_string(
			PRINT_ANY, "vip", NULL,
			xlb_format_vip(&w->vips[v].key, name, sizeof(name)));
		print_uint(PRINT_ANY, "flows", NULL, n);
		row_close();
		total += n;
	}
	table_close();
	print_uint(PRINT_ANY, "total", "total %llu\n", total);
}

/* [VIP] [--backend ADDR] [--limit N]: the walk's filters. */
static int flow_args(int argc, char **argv, bool is_list, struct flow_walk *w,
		     struct xlb_vip_key *key, const char **vip,
		     unsigned long *limit)
{
	static const char *const names[] = {"VIP"};
	struct opt opts[] = {{"--backend", NULL, false},
			     {"--limit", NULL, false}};
	size_t n;
	int ret;

	ret = parse_args(argc, argv, opts, is_list ? 2 : 0, vip, 0, 1, names,
			 &n);
	if (ret)
		return ret;
	if (!n)
		*vip = NULL;
	if (*vip)
		ret = check_vip(*vip, key);
	if (!ret && opts[0].val) {
		w->by_backend = true;
		ret = check_addr(opts[0].val, &w->backend_addr,
				 &w->backend_family);
	}
	if (!ret && opts[1].val)
		ret = check_opt_uint(&opts[1], 1, 4294967295UL, limit);
	return ret;
}

static int run_flow(bool is_list, int argc, char **argv)
{
	struct flow_walk w = {.only_vip = -1};
	struct xlb_vip_key key;
	unsigned long limit = 0;
	const char *vip = NULL;
	struct xlb_pins pins;
	int ret;

	ret = flow_args(argc, argv, is_list, &w, &key, &vip, &limit);
	if (ret)
		return ret;
	ret = open_pins(&pins);
	if (ret)
		return ret;
	ret = load_maps(&w, &pins);
	if (!ret && vip)
		ret = find_vip(&w, &key, vip);
	if (!ret)
		ret = collect(&w);
	if (!ret && is_list)
		print_list(&w, limit);
	else if (!ret)
		print_count(&w);
	walk_free(&w);
	xlb_pins_close(&pins);
	return ret;
}

static int do_flow_list(int argc, char **argv)
{
	return run_flow(true, argc, argv);
}

static int do_flow_count(int argc, char **argv)
{
	return run_flow(false, argc, argv);
}

static const struct cmd flow_cmds[] = {
	{"list", do_flow_list},	  {"ls", do_flow_list}, {"show", do_flow_list},
	{"count", do_flow_count}, {NULL, NULL},
};

const struct object flow_object = {
	.name = "flow",
	.cmds = flow_cmds,
	.dflt = do_flow_list,
	.help = "Usage: xlb flow { list | ls | show } [VIP] [--backend ADDR] "
		"[--limit N]\n"
		"       xlb flow count [VIP]\n"
		"       xlb flow help\n"
		"The flows the balancer holds, read from the pinned flow "
		"tables (--pin-dir)\n"
		"without changing them, so it works while xlbd is down.\n"
		"  list          one line per flow: PROTO, CLIENT, VIP, "
		"BACKEND, AGE (since\n"
		"                its last packet, to 67 ms for TCP), CPU (the "
		"CPUs holding it)\n"
		"  count         flows per VIP and in all\n"
		"--backend ADDR  only the flows of that backend address\n"
		"--limit N       at most N flows (1..4294967295)\n"
		"VIP := as in 'xlb vip help'\n",
};
