// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb top`: every VIP with its backends and their current rates, as
 * `ipvsadm -Ln --rate` shows them, one screen per interval. The counters
 * are those `xlb stats vip` and `xlb stats backend` read (vip_stats and
 * backend_stats per id, from the pins); rates are the deltas between two
 * samples over the time between them. Which backend serves which VIP,
 * with its name, state and weight, comes from xlbd (`backend list`) when
 * it answers; without it the backends map gives each id's address and
 * state, under no VIP. New flows per second come from vip_flows and
 * backend_flows (flows started per id); the header's total is the
 * flow_insert and nat_insert counters.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "print.h"
#include "stats.h"
#include "text.h"
#include "xlb.h"

/* One line of a screen: a VIP (addr empty) or one backend id of a VIP. */
struct top_row {
	char vip[XLB_VIP_STRLEN];
	char addr[XLB_ADDR_STRLEN];
	char state[16];
	long weight; /* -1: unknown (xlbd down) */
	__u32 id;    /* vip_id or backend id */
	struct xlb_counter c;
	__u64 flows; /* started: vip_flows or backend_flows */
};

struct top_sample {
	struct top_row *rows;
	size_t n, cap;
	__u64 flow_inserts;
	struct timespec t; /* CLOCK_MONOTONIC */
};

static struct top_row *top_add(struct top_sample *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct top_row *r = realloc(s->rows, cap * sizeof(*r));

		if (!r)
			return NULL;
		s->rows = r;
		s->cap = cap;
	}
	memset(&s->rows[s->n], 0, sizeof(s->rows[0]));
	s->rows[s->n].weight = -1;
	return &s->rows[s->n++];
}

static const char *const state_names[] = {"unused", "up", "drain", "down"};

/* The backends of one VIP from xlbd's list (all rows: list is sorted). */
static int add_named(struct top_sample *s, const struct xlb_pins *p,
		     const char *vip, const json_t *list)
{
	const json_t *b;
	struct top_row *r;
	size_t i;

	json_array_foreach(list, i, b)
	{
		const char *v = json_string_value(json_object_get(b, "vip"));
		const char *a = json_string_value(json_object_get(b, "addr"));
		const char *st = json_string_value(json_object_get(b, "state"));
		const json_t *w = json_object_get(b, "weight");

		if (!v || !a || strcmp(v, vip))
			continue;
		r = top_add(s);
		if (!r)
			return -ENOMEM;
		snprintf(r->vip, sizeof(r->vip), "%s", v);
		snprintf(r->addr, sizeof(r->addr), "%s", a);
		snprintf(r->state, sizeof(r->state), "%s", st ? st : "-");
		r->weight = json_is_integer(w) ? json_integer_value(w) : -1;
		r->id = json_integer_value(json_object_get(b, "id"));
		if (xlb_counter_sum(p->backend_stats, r->id, &r->c))
			memset(&r->c, 0, sizeof(r->c));
		if (xlb_flows_sum(p->backend_flows, r->id, &r->flows))
			r->flows = 0;
	}
	return 0;
}

/* Without xlbd: every backend id of the map, under no VIP. */
static int add_unnamed(struct top_sample *s, const struct xlb_pins *p)
{
	struct xlb_backend_entry *list;
	struct top_row *r;
	size_t n;
	int ret;

	ret = xlb_backends_read(p->backends, &list, &n);
	for (size_t i = 0; !ret && i < n; i++) {
		r = top_add(s);
		if (!r) {
			ret = -ENOMEM;
			break;
		}
		snprintf(r->vip, sizeof(r->vip), "-");
		xlb_format_addr(&list[i].val.addr, list[i].val.family, r->addr,
				sizeof(r->addr));
		snprintf(r->state, sizeof(r->state), "%s",
			 list[i].val.state < 4 ? state_names[list[i].val.state]
					       : "?");
		r->id = list[i].id;
		ret = xlb_counter_sum(p->backend_stats, r->id, &r->c)
			      ?: xlb_flows_sum(p->backend_flows, r->id,
					       &r->flows);
	}
	free(list);
	return ret;
}

/* xlbd's backend list, or NULL when it does not answer. */
static json_t *backend_list(void)
{
	struct xlb_err err = {{0}};
	json_t *args = json_object(), *resp = NULL;
	int ret;

	ret = xlb_ctl_call(cli.socket, "backend.list", args, &resp, &err);
	json_decref(args);
	return ret ? NULL : resp;
}

static int top_sample(struct top_sample *s, const struct xlb_pins *p)
{
	json_t *resp = backend_list();
	const json_t *list = json_object_get(result_of(resp), "backends");
	struct xlb_counter cnt[XLB_CNT_MAX];
	struct xlb_vip_entry *vips;
	struct top_row *r;
	size_t n;
	int ret;

	s->n = 0;
	clock_gettime(CLOCK_MONOTONIC, &s->t);
	ret = xlb_counters_read(p->counters, cnt, NULL);
	/* All the flows started: what the rows' NEW/S count, summed. */
	s->flow_inserts = ret ? 0
			      : cnt[XLB_CNT_FLOW_INSERT].packets +
					  cnt[XLB_CNT_NAT_INSERT].packets;
	ret = ret ?: xlb_vips_read(p->vips, &vips, &n);
	if (ret) {
		json_decref(resp);
		return fail(ret, "reading the maps at %s: %s", cli.pin_dir,
			    strerror(-ret));
	}
	for (size_t i = 0; !ret && i < n; i++) {
		r = top_add(s);
		if (!r) {
			ret = -ENOMEM;
			break;
		}
		xlb_format_vip(&vips[i].key, r->vip, sizeof(r->vip));
		r->id = vips[i].val.vip_id;
		ret = xlb_counter_sum(p->vip_stats, r->id, &r->c)
			      ?: xlb_flows_sum(p->vip_flows, r->id, &r->flows);
		if (!ret && list)
			ret = add_named(s, p, r->vip, list);
	}
	if (!ret && !list)
		ret = add_unnamed(s, p);
	free(vips);
	json_decref(resp);
	return ret ? fail(ret, "sampling: %s", strerror(-ret)) : 0;
}

/* The same row in the previous sample: same VIP, address and id. */
static const struct top_row *top_prev(const struct top_sample *prev, size_t i,
				      const struct top_row *r)
{
	for (size_t k = 0; k < prev->n; k++) {
		const struct top_row *p = &prev->rows[(i + k) % prev->n];

		if (p->id == r->id && !strcmp(p->vip, r->vip) &&
		    !strcmp(p->addr, r->addr))
			return p;
	}
	return NULL;
}

/* Per second; a counter that went back (an id reused) restarted at 0. */
static double per_s(__u64 cur, __u64 prev, double dt)
{
	return (cur >= prev ? cur - prev : cur) / dt;
}

static const struct column top_cols[] = {
	{"VIP/BACKEND", false}, {"STATE", false}, {"WEIGHT", true},
	{"PKT/S", true},	{"BITS/S", true}, {"NEW/S", true},
};

static void top_row_print(const struct top_row *r, const struct top_row *p,
			  double dt)
{
	struct xlb_counter pc = p ? p->c : r->c;
	__u64 pflows = p ? p->flows : r->flows;
	char name[XLB_ADDR_STRLEN + 8];

	row_open(NULL);
	print_string(PRINT_JSON, "vip", NULL, r->vip);
	if (r->addr[0]) {
		snprintf(name, sizeof(name), "  -> %s", r->addr);
		print_string(PRINT_TEXT, NULL, NULL, name);
		print_string(PRINT_JSON, "backend", NULL, r->addr);
		print_uint(PRINT_JSON, "backend_id", NULL, r->id);
		print_string(PRINT_ANY, "state", NULL, r->state);
		if (r->weight >= 0)
			print_uint(PRINT_ANY, "weight", NULL, r->weight);
		else
			print_string(PRINT_TEXT, NULL, NULL, "-");
	} else {
		print_string(PRINT_TEXT, NULL, NULL, r->vip);
		print_uint(PRINT_JSON, "vip_id", NULL, r->id);
		print_string(PRINT_TEXT, NULL, NULL, "-");
		print_string(PRINT_TEXT, NULL, NULL, "-");
	}
	print_float(PRINT_ANY, "packets_per_s", "%.1f",
		    per_s(r->c.packets, pc.packets, dt));
	print_float(PRINT_ANY, "bits_per_s", "%.0f",
		    8 * per_s(r->c.bytes, pc.bytes, dt));
	print_float(PRINT_ANY, "new_flows_per_s", "%.1f",
		    per_s(r->flows, pflows, dt));
	row_close();
}

static void top_screen(const struct top_sample *s,
		       const struct top_sample *prev, bool tty)
{
	double dt = (s->t.tv_sec - prev->t.tv_sec) +
		    (s->t.tv_nsec - prev->t.tv_nsec) / 1e9;
	time_t now = time(NULL);
	char when[64];
	struct tm tm;

	if (dt <= 0)
		dt = 1e-9;
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
	if (tty && !print_is_json())
		print_text("\033[H\033[2J");
	print_string(PRINT_ANY, "time", "xlb top  %s", when);
	print_float(PRINT_ANY, "interval_s", "  every %.2f s", dt);
	print_float(PRINT_ANY, "new_flows_per_s", "  new flows/s %.1f\n",
		    per_s(s->flow_inserts, prev->flow_inserts, dt));
	table_open("rows", false, top_cols,
		   sizeof(top_cols) / sizeof(top_cols[0]));
	for (size_t i = 0; i < s->n; i++)
		top_row_print(&s->rows[i], top_prev(prev, i, &s->rows[i]), dt);
	table_close();
}

static volatile sig_atomic_t top_stop;

static void on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

/* Sleeps to next + ms (absolute, so screens do not drift): 0, or 1 when
 * interrupted. */
static int top_sleep(struct timespec *next, unsigned long ms)
{
	next->tv_sec += ms / 1000;
	next->tv_nsec += (ms % 1000) * 1000000L;
	if (next->tv_nsec >= 1000000000L) {
		next->tv_sec++;
		next->tv_nsec -= 1000000000L;
	}
	while (!top_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
					    next, NULL) == EINTR)
		;
	return top_stop;
}

static int top_loop(const struct xlb_pins *p, unsigned long ms,
		    unsigned long count)
{
	struct top_sample a = {0}, b = {0}, *prev = &a, *cur = &b, *tmp;
	struct sigaction sa = {.sa_handler = on_signal};
	bool tty = isatty(STDOUT_FILENO);
	struct timespec next;
	int ret;

	/* No SA_RESTART: Ctrl-C must cut the sleep short. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = top_sample(prev, p);
	next = prev->t;
	for (unsigned long n = 0; !ret && (!count || n < count); n++) {
		if (top_sleep(&next, ms))
			break;
		ret = top_sample(cur, p);
		if (ret)
			break;
		if (n && !tty && !print_is_json())
			print_text("\n");
		top_screen(cur, prev, tty);
		print_end();
		print_begin();
		tmp = prev;
		prev = cur;
		cur = tmp;
	}
	free(a.rows);
	free(b.rows);
	return ret;
}

static int do_top(int argc, char **argv)
{
	struct opt opts[] = {{"--interval", NULL, false},
			     {"--count", NULL, false}};
	unsigned long ms = 1000, count = 0;
	struct xlb_pins pins;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, opts, 2, NULL, 0, 0, NULL, &n);
	if (!ret && opts[0].val)
		ret = check_opt_uint(&opts[0], 10, 3600000, &ms);
	if (!ret && opts[1].val)
		ret = check_opt_uint(&opts[1], 1, 1000000000, &count);
	if (ret)
		return ret;
	ret = open_pins(&pins);
	if (ret)
		return ret;
	ret = top_loop(&pins, ms, count);
	xlb_pins_close(&pins);
	return ret;
}

const struct object top_object = {
	.name = "top",
	.dflt = do_top,
	.help = "Usage: xlb top [--interval MS] [--count N]\n"
		"       xlb top help\n"
		"Every VIP and its backends with their state, weight and "
		"current rates,\n"
		"one screen per interval: redrawn in place on a terminal, "
		"one block per\n"
		"screen when piped, one JSON object per screen with -j. "
		"Counters come from\n"
		"the pinned maps (--pin-dir); names, states and weights from "
		"xlbd when it\n"
		"answers (else each backend id of the maps, under VIP '-').\n"
		"NEW/S counts flows started (flow table or NAT entries made); "
		"the header\n"
		"line's new flows/s is all of them.\n"
		"--interval MS   between screens, 10..3600000 (default 1000)\n"
		"--count N       stop after N screens (default: until "
		"interrupted)\n",
};
