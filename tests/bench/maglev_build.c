// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Maglev table build time: what a weight change or a backend going down
 * costs the controller before the new ring can be swapped in. N backends
 * of weight 1 at distinct addresses of 198.18.0.0/16, at the default and
 * at the largest table size; the median of `builds` builds, wall time,
 * each in the working memory the one before kept, as xlbd's builders do.
 * The _repatch_ scenario is a backend going out (a failed check) as xlbd
 * takes it: the table in force patched into another (a ring's spare
 * half), a different backend out each time, against a build of the same
 * set (_build_65537_100).
 * The fastest build is printed beside it: on a shared machine the median
 * moves with the neighbours' load, the fastest much less, so comparing
 * two builders run alternately is fairer on it. Each table is checked
 * (every slot holds one of the N ids, every backend holds a slot) so a
 * broken build cannot pass for a fast one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <xlb/types.h>
#include "maglev.h"
#include "bench.h"

#define MAGLEV_BACKENDS 1000

static const struct {
	__u32 m, n;
	bool repatch;
} maglev_cases[] = {
	{XLB_RING_SIZE_DEFAULT, MAGLEV_BACKENDS, false},
	{XLB_RING_SIZE_MAX, MAGLEV_BACKENDS, false},
	{XLB_RING_SIZE_DEFAULT, 100, false},
	{XLB_RING_SIZE_DEFAULT, 100, true},
};

const char *const bench_maglev_names[] = {
	"maglev_build_65537_1000",
	"maglev_build_655373_1000",
	"maglev_build_65537_100",
	"maglev_repatch_65537_100",
	NULL,
};

_Static_assert(XLB_RING_SIZE_DEFAULT == 65537 && XLB_RING_SIZE_MAX == 655373 &&
		       MAGLEV_BACKENDS == 1000,
	       "bench_maglev_names spell out the sizes");

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Every slot holds one of the n ids; `holders` of them hold a slot. */
static int check_table(const __u32 *table, __u32 m, size_t n, size_t holders)
{
	char *seen = calloc(n + 1, 1);
	size_t held = 0;

	if (!seen)
		return -ENOMEM;
	for (__u32 i = 0; i < m; i++) {
		if (table[i] < 1 || table[i] > n) {
			fprintf(stderr,
				"xlb: bench: maglev: slot %u holds id %u\n", i,
				table[i]);
			free(seen);
			return -EPROTO;
		}
		held += !seen[table[i]];
		seen[table[i]] = 1;
	}
	free(seen);
	if (held != holders) {
		fprintf(stderr,
			"xlb: bench: maglev: %zu of %zu backends hold "
			"a slot, not %zu\n",
			held, n, holders);
		return -EPROTO;
	}
	return 0;
}

static int time_builds(const struct bench_opts *o, struct xlb_maglev_backend *b,
		       size_t n, __u32 m, bool repatch, double *median_ms)
{
	double *ms = calloc(o->builds, sizeof(*ms)), t0, best;
	__u32 *table = malloc((size_t)m * sizeof(*table));
	__u32 *base = malloc((size_t)m * sizeof(*base));
	struct xlb_maglev_mem keep = {0};
	__u64 fp;
	int err = -ENOMEM;

	if (!ms || !table || !base)
		goto out;
	err = xlb_maglev_build_in(&keep, b, n, m, base, &fp);
	for (__u32 i = 0; !err && i < o->builds; i++) {
		if (repatch)
			b[i % n].out = 1;
		t0 = now_ms();
		if (repatch) {
			err = xlb_maglev_repatch_in(&keep, b, n, m, base, table,
						    &fp);
		} else {
			err = xlb_maglev_build_in(&keep, b, n, m, table, &fp);
		}
		ms[i] = now_ms() - t0;
		if (!err && repatch && i + 1 == o->builds)
			err = check_table(table, m, n, n - 1);
		if (repatch)
			b[i % n].out = 0;
		if (err) {
			fprintf(stderr, "xlb: bench: maglev build M=%u: %s\n",
				m, strerror(-err));
			goto out;
		}
		if (o->verbose)
			printf("  maglev M=%u build %u: %.3f ms\n", m, i + 1,
			       ms[i]);
	}
	if (!repatch)
		err = check_table(table, m, n, n);
	if (err)
		goto out;
	best = ms[0];
	for (__u32 i = 1; i < o->builds; i++)
		best = ms[i] < best ? ms[i] : best;
	*median_ms = bench_median(ms, o->builds);
	printf("  maglev M=%u N=%zu%s: fastest %.3f ms, median %.3f ms of %u "
	       "builds\n",
	       m, n, repatch ? " (repatch, one out)" : "", best, *median_ms,
	       o->builds);
out:
	xlb_maglev_mem_free(&keep);
	free(base);
	free(table);
	free(ms);
	return err;
}

int bench_maglev(const struct bench_opts *o, struct bench_result *res,
		 int *n_res)
{
	struct xlb_maglev_backend *b;
	int err = 0;

	b = calloc(MAGLEV_BACKENDS, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (__u32 i = 0; i < MAGLEV_BACKENDS; i++) {
		b[i].id = i + 1;
		b[i].weight = 1;
		b[i].family = XLB_AF_INET;
		/* 198.18.0.1 .. 198.18.3.232 */
		b[i].addr.v4 = htonl(0xc6120000U + i + 1);
	}
	for (size_t i = 0; i < sizeof(maglev_cases) / sizeof(maglev_cases[0]);
	     i++) {
		struct bench_result *r;

		if (!bench_selected(o, bench_maglev_names[i]))
			continue;
		if (*n_res >= BENCH_MAX_RESULTS) {
			err = -E2BIG;
			break;
		}
		printf("  %s ...\n", bench_maglev_names[i]);
		fflush(stdout);
		r = &res[*n_res];
		err = time_builds(o, b, maglev_cases[i].n, maglev_cases[i].m,
				  maglev_cases[i].repatch, &r->ms);
		if (err)
			break;
		snprintf(r->scenario, sizeof(r->scenario), "%s",
			 bench_maglev_names[i]);
		r->is_build = true;
		(*n_res)++;
	}
	free(b);
	return err;
}
