// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb stats`: the data path's counters, read from the pinned maps and
 * never through xlbd, so they are there when the daemon is not. Three
 * views: global counters (the verdicts summed as "rx" first), per VIP
 * (its vip_id found in the vips map) and per backend address (summed over
 * every id that address holds, one per VIP it serves). --watch samples
 * every SECS seconds and adds rates until interrupted.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "print.h"
#include "ctl.h"
#include "stats.h"
#include "xlb.h"

enum scope { SCOPE_GLOBAL, SCOPE_VIP, SCOPE_BACKEND };

/* One line of a view: a counter, a VIP or a backend address. */
struct row {
	char name[XLB_VIP_STRLEN];
	__u32 *ids; /* vip_id, or the backend ids of an address */
	size_t n_ids;
	struct xlb_counter c;
};

struct sample {
	struct row *rows;
	size_t n;
	struct timespec t; /* CLOCK_MONOTONIC when read */
};

struct view {
	enum scope scope;
	const char *target; /* the VIP or address asked for; NULL = all */
	struct xlb_vip_key key;
	union xlb_addr addr;
	__u8 family;
	struct xlb_pins pins;
};

static void sample_free(struct sample *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->rows[i].ids);
	free(s->rows);
	memset(s, 0, sizeof(*s));
}

static struct row *add_row(struct sample *s, const char *name)
{
	struct row *r = realloc(s->rows, (s->n + 1) * sizeof(*r));

	if (!r)
		return NULL;
	s->rows = r;
	r = &s->rows[s->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

static int add_id(struct row *r, __u32 id)
{
	__u32 *ids = realloc(r->ids, (r->n_ids + 1) * sizeof(*ids));

	if (!ids)
		return -ENOMEM;
	ids[r->n_ids++] = id;
	r->ids = ids;
	return 0;
}

static int read_error(int ret, const char *what)
{
	return fail(ret, "reading %s at %s: %s", what, cli.pin_dir,
		    strerror(-ret));
}

static int collect_global(struct view *v, struct sample *s)
{
	struct xlb_counter c[XLB_CNT_MAX], rx;
	struct row *r;
	int ret;

	ret = xlb_counters_read(v->pins.counters, c, &rx);
	if (ret)
		return read_error(ret, "counters");
	r = add_row(s, "rx");
	if (!r)
		return fail(-ENOMEM, "out of memory");
	r->c = rx;
	for (int id = 0; id < XLB_CNT_MAX; id++) {
		r = add_row(s, xlb_counter_names[id]);
		if (!r)
			return fail(-ENOMEM, "out of memory");
		r->c = c[id];
	}
	return 0;
}

static int add_vip(struct view *v, struct sample *s,
		   const struct xlb_vip_key *key, __u32 vip_id)
{
	char name[XLB_VIP_STRLEN];
	struct row *r;
	int ret;

	r = add_row(s, xlb_format_vip(key, name, sizeof(name)));
	if (!r || add_id(r, vip_id))
		return fail(-ENOMEM, "out of memory");
	ret = xlb_counter_sum(v->pins.vip_stats, vip_id, &r->c);
	return ret ? read_error(ret, "vip_stats") : 0;
}

static int collect_vips(struct view *v, struct sample *s)
{
	struct xlb_vip_entry *list;
	struct xlb_vip val;
	size_t n;
	int ret;

	if (v->target) {
		ret = xlb_vip_lookup(v->pins.vips, &v->key, &val);
		if (ret == -ENOENT)
			return fail(ret, "VIP %s is not in the maps at %s",
				    v->target, cli.pin_dir);
		if (ret)
			return read_error(ret, "vips");
		return add_vip(v, s, &v->key, val.vip_id);
	}
	ret = xlb_vips_read(v->pins.vips, &list, &n);
	if (ret)
		return read_error(ret, "vips");
	for (size_t i = 0; i < n && !ret; i++)
		ret = add_vip(v, s, &list[i].key, list[i].val.vip_id);
	free(list);
	return ret;
}

static int backend_cmp(const void *a, const void *b)
{
	const struct xlb_backend_entry *x = a, *y = b;
	int c;

	if (x->val.family != y->val.family)
		return x->val.family < y->val.family ? -1 : 1;
	c = memcmp(&x->val.addr, &y->val.addr, sizeof(x->val.addr));
	if (c)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool addr_eq(const struct xlb_backend *b, const union xlb_addr *a,
		    __u8 family)
{
	return b->family == family && !memcmp(&b->addr, a, sizeof(*a));
}

/* Backend ids grouped by address; all of them, or the one asked for. */
static int collect_backends(struct view *v, struct sample *s)
{
	struct xlb_backend_entry *list;
	struct row *r = NULL;
	struct xlb_counter c;
	char name[XLB_ADDR_STRLEN];
	size_t n;
	int ret;

	ret = xlb_backends_read(v->pins.backends, &list, &n);
	if (ret)
		return read_error(ret, "backends");
	if (n)
		qsort(list, n, sizeof(*list), backend_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct xlb_backend *b = &list[i].val;

		if (v->target && !addr_eq(b, &v->addr, v->family))
			continue;
		if (!r || i == 0 ||
		    !addr_eq(b, &list[i - 1].val.addr,
			     list[i - 1].val.family)) {
			r = add_row(s, xlb_format_addr(&b->addr, b->family,
						       name, sizeof(name)));
			if (!r) {
				ret = fail(-ENOMEM, "out of memory");
				break;
			}
		}
		ret = xlb_counter_sum(v->pins.backend_stats, list[i].id, &c);
		if (ret) {
			ret = read_error(ret, "backend_stats");
			break;
		}
		if (add_id(r, list[i].id)) {
			ret = fail(-ENOMEM, "out of memory");
			break;
		}
		r->c.packets += c.packets;
		r->c.bytes += c.bytes;
	}
	free(list);
	if (!ret && v->target && s->n == 0)
		ret = fail(-ENOENT, "backend %s is not in the maps at %s",
			   v->target, cli.pin_dir);
	return ret;
}

static int collect(struct view *v, struct sample *s)
{
	int ret;

	sample_free(s);
	clock_gettime(CLOCK_MONOTONIC, &s->t);
	switch (v->scope) {
	case SCOPE_VIP:
		ret = collect_vips(v, s);
		break;
	case SCOPE_BACKEND:
		ret = collect_backends(v, s);
		break;
	default:
		ret = collect_global(v, s);
		break;
	}
	return ret;
}

/* The previous row of the same name: most often at the same index. */
static const struct row *prev_row(const struct sample *prev, size_t i,
				  const char *name)
{
	if (i < prev->n && !strcmp(prev->rows[i].name, name))
		return &prev->rows[i];
	for (size_t k = 0; k < prev->n; k++) {
		if (!strcmp(prev->rows[k].name, name))
			return &prev->rows[k];
	}
	return NULL;
}

/* Per second; a counter that went back (an id reused) restarted at 0. */
static double rate(__u64 cur, __u64 prev, double dt)
{
	return (cur >= prev ? cur - prev : cur) / dt;
}

static const struct column global_cols[] = {
	{"COUNTER", false}, {"PACKETS", true}, {"BYTES", true},
	{"PKT/S", true},    {"BYTES/S", true},
};
static const struct column vip_cols[] = {
	{"VIP", false},	 {"ID", true},	  {"PACKETS", true},
	{"BYTES", true}, {"PKT/S", true}, {"BYTES/S", true},
};
static const struct column backend_cols[] = {
	{"ADDR", false}, {"IDS", false},  {"PACKETS", true},
	{"BYTES", true}, {"PKT/S", true}, {"BYTES/S", true},
};

static void print_ids(const struct row *r)
{
	char buf[256];
	size_t len = 0;

	open_array("ids");
	for (size_t i = 0; i < r->n_ids; i++) {
		print_uint(PRINT_JSON, NULL, NULL, r->ids[i]);
		if (len < sizeof(buf))
			len += snprintf(buf + len, sizeof(buf) - len, "%s%u",
					i ? "," : "", r->ids[i]);
	}
	close_array();
	print_string(PRINT_TEXT, NULL, NULL, r->n_ids ? buf : "-");
}

/* One sample as a table; with prev, rates over the time between them. */
static void print_sample(const struct view *v, const struct sample *s,
			 const struct sample *prev)
{
	const struct column *cols = global_cols;
	size_t n_cols = 5;
	const char *key = "counters";
	double dt = 0;

	if (v->scope == SCOPE_VIP) {
		cols = vip_cols;
		n_cols = 6;
		key = "vips";
	} else if (v->scope == SCOPE_BACKEND) {
		cols = backend_cols;
		n_cols = 6;
		key = "backends";
	}
	if (prev) {
		char when[64];
		time_t now = time(NULL);
		struct tm tm;

		dt = (s->t.tv_sec - prev->t.tv_sec) +
		     (s->t.tv_nsec - prev->t.tv_nsec) / 1e9;
		if (dt <= 0)
			dt = 1e-9;
		localtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
		print_string(PRINT_ANY, "time", "%s", when);
		print_float(PRINT_ANY, "interval_s", "  (%.2f s)\n", dt);
	} else {
		n_cols -= 2; /* no rates */
	}

	/* Global counters are keyed by name, the others a list. */
	table_open(key, v->scope == SCOPE_GLOBAL, cols, n_cols);
	for (size_t i = 0; i < s->n; i++) {
		const struct row *r = &s->rows[i];
		const struct row *p = prev ? prev_row(prev, i, r->name) : NULL;
		struct xlb_counter pc = p ? p->c : (struct xlb_counter){0};

		if (v->scope == SCOPE_GLOBAL) {
			row_open(r->name);
			print_string(PRINT_TEXT, NULL, NULL, r->name);
		} else if (v->scope == SCOPE_VIP) {
			row_open(NULL);
			print_string(PRINT_ANY, "vip", NULL, r->name);
			print_uint(PRINT_ANY, "vip_id", NULL, r->ids[0]);
		} else {
			row_open(NULL);
			print_string(PRINT_ANY, "addr", NULL, r->name);
			print_ids(r);
		}
		print_uint(PRINT_ANY, "packets", NULL, r->c.packets);
		print_uint(PRINT_ANY, "bytes", NULL, r->c.bytes);
		if (prev) {
			print_float(PRINT_ANY, "packets_per_s", "%.1f",
				    rate(r->c.packets, pc.packets, dt));
			print_float(PRINT_ANY, "bytes_per_s", "%.1f",
				    rate(r->c.bytes, pc.bytes, dt));
		}
		row_close();
	}
	table_close();
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int watch(struct view *v, unsigned long secs)
{
	struct sample a = {0}, b = {0}, *prev = &a, *cur = &b, *tmp;
	struct sigaction sa = {.sa_handler = on_signal};
	struct timespec next;
	int ret;

	/* No SA_RESTART: Ctrl-C must cut the sleep short. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = collect(v, prev);
	next = prev->t;
	while (!ret && !stop) {
		next.tv_sec += secs;
		while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
						&next, NULL) == EINTR)
			;
		if (stop)
			break;
		ret = collect(v, cur);
		if (ret)
			break;
		print_sample(v, cur, prev);
		print_end();
		print_text("\n");
		print_begin();
		tmp = prev;
		prev = cur;
		cur = tmp;
	}
	sample_free(&a);
	sample_free(&b);
	return ret;
}

/*
 * With -s and no --pin-dir, the maps of that daemon: it says where they
 * are. A daemon that does not answer leaves the default, so counters
 * stay readable while it is down.
 */
static void pin_dir_of_daemon(void)
{
	static char dir[4096];
	struct xlb_err err = {{0}};
	const char *p;
	json_t *resp;

	if (!cli.socket_given || cli.pin_dir_given ||
	    xlb_ctl_call(cli.socket, "status", NULL, &resp, &err))
		return;
	p = json_string_value(
		json_object_get(json_object_get(resp, "result"), "pin_dir"));
	if (p && strlen(p) < sizeof(dir)) {
		strcpy(dir, p);
		cli.pin_dir = dir;
	}
	json_decref(resp);
}

int open_pins(struct xlb_pins *pins)
{
	struct xlb_err err = {{0}};
	int ret;

	pin_dir_of_daemon();
	ret = xlb_pins_open(cli.pin_dir, pins, &err);
	if (ret)
		return fail(ret, "%s", err.msg);
	return 0;
}

static int run_stats(enum scope scope, int argc, char **argv)
{
	static const char *const vip_names[] = {"VIP"};
	static const char *const addr_names[] = {"ADDR"};
	struct opt opts[] = {{"--watch", NULL, false}};
	struct view v = {.scope = scope};
	struct sample s = {0};
	unsigned long secs = 0;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, opts, 1, &v.target, 0,
			 scope == SCOPE_GLOBAL ? 0 : 1,
			 scope == SCOPE_BACKEND ? addr_names : vip_names, &n);
	if (ret)
		return ret;
	if (!n)
		v.target = NULL;
	if (v.target && scope == SCOPE_VIP)
		ret = check_vip(v.target, &v.key);
	if (v.target && scope == SCOPE_BACKEND)
		ret = check_addr(v.target, &v.addr, &v.family);
	if (!ret && opts[0].val)
		ret = check_uint("watch interval", opts[0].val, 1, 86400,
				 &secs);
	if (ret)
		return ret;

	ret = open_pins(&v.pins);
	if (ret)
		return ret;
	if (secs) {
		ret = watch(&v, secs);
	} else {
		ret = collect(&v, &s);
		if (!ret)
			print_sample(&v, &s, NULL);
		sample_free(&s);
	}
	xlb_pins_close(&v.pins);
	return ret;
}

static int do_stats(int argc, char **argv)
{
	return run_stats(SCOPE_GLOBAL, argc, argv);
}

static int do_stats_vip(int argc, char **argv)
{
	return run_stats(SCOPE_VIP, argc, argv);
}

static int do_stats_backend(int argc, char **argv)
{
	return run_stats(SCOPE_BACKEND, argc, argv);
}

static const struct cmd stats_cmds[] = {
	{"vip", do_stats_vip},
	{"backend", do_stats_backend},
	{NULL, NULL},
};

const struct object stats_object = {
	.name = "stats",
	.cmds = stats_cmds,
	.dflt = do_stats,
	.help = "Usage: xlb stats [ vip [VIP] | backend [ADDR] ] [--watch "
		"SECS]\n"
		"       xlb stats help\n"
		"Reads the counters from the pinned maps (--pin-dir), so it "
		"works while\n"
		"xlbd is down.\n"
		"  (none)        global counters; rx = every packet seen (the "
		"sum of the\n"
		"                pass_*, tx_* and drop_* verdicts), the rest "
		"are events\n"
		"  vip [VIP]     traffic sent to each VIP's backends (all VIPs "
		"without VIP)\n"
		"  backend [ADDR] traffic sent to a backend address, summed "
		"over its VIPs\n"
		"--watch SECS    print every SECS seconds (1..86400), with "
		"rates per\n"
		"                second, until interrupted\n"
		"VIP := as in 'xlb vip help'\n",
};
