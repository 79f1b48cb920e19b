// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlb benchmarks: per-packet cost of the XDP programs (datapath.c) and
 * Maglev build time (maglev_build.c), printed as a table and, with -o,
 * written as a JSON list. Benchmarks print figures; they never fail on
 * time, only when a scenario does not take the path it is meant to
 * measure (exit 1) or on a usage error (exit 2).
 *
 * The process pins itself to one CPU: test_run runs on the caller's CPU,
 * and the flow table (and the LRU baseline's lists) are per CPU, so every
 * run of a scenario must see the same part. Only tcp_flow_hit_2cpu runs
 * threads on a second CPU.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "bench.h"

#define DEFAULT_PACKETS 10000000U
#define DEFAULT_REPS	5U
#define DEFAULT_BUILDS	21U

static bool verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG || !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

bool bench_selected(const struct bench_opts *o, const char *name)
{
	if (!o->only)
		return true;
	for (int i = 0; i < o->n_only; i++)
		if (!strcmp(o->only[i], name))
			return true;
	return false;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v. */
double bench_median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_thread_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool known(const char *name)
{
	for (size_t i = 0; bench_datapath_name(i); i++)
		if (!strcmp(name, bench_datapath_name(i)))
			return true;
	for (int i = 0; bench_maglev_names[i]; i++)
		if (!strcmp(name, bench_maglev_names[i]))
			return true;
	return false;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench [-v] [-o FILE] [-n PACKETS] [-r REPS] "
		"[-b BUILDS] [-c CPU] [SCENARIO...]\n"
		"       bench -l\n"
		"  -o FILE     also write the figures to FILE as JSON\n"
		"  -n PACKETS  packets per measurement (XLB_BENCH_PACKETS, "
		"default %u)\n"
		"  -r REPS     measurements per scenario, median reported "
		"(XLB_BENCH_REPS, default %u)\n"
		"  -b BUILDS   Maglev builds per size (XLB_BENCH_BUILDS, "
		"default %u)\n"
		"  -c CPU      CPU to run on (XLB_BENCH_CPU, default: the "
		"last one allowed)\n"
		"  -l          list the scenarios\n"
		"  -v          libbpf messages and every measurement\n",
		DEFAULT_PACKETS, DEFAULT_REPS, DEFAULT_BUILDS);
}

/* A positive count from an option or the environment; 0 when invalid. */
static __u32 parse_count(const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > 0xffffffffUL)
		return 0;
	return v;
}

/* A CPU number, or -1 when s is not one. */
static long parse_cpu(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v >= CPU_SETSIZE)
		return -1;
	return v;
}

static int env_count(const char *name, __u32 def, __u32 *out)
{
	const char *s = getenv(name);

	*out = def;
	if (!s || !*s)
		return 0;
	*out = parse_count(s);
	if (!*out) {
		fprintf(stderr, "xlb: bench: %s=%s: not a positive count\n",
			name, s);
		return -EINVAL;
	}
	return 0;
}

/* Pins the process to cpu, or to the last allowed CPU when cpu < 0. */
static int pin_cpu(long cpu, int *pinned)
{
	cpu_set_t set;

	if (cpu < 0) {
		if (sched_getaffinity(0, sizeof(set), &set))
			return -errno;
		for (int c = CPU_SETSIZE - 1; c >= 0; c--)
			if (CPU_ISSET(c, &set)) {
				cpu = c;
				break;
			}
	}
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	*pinned = cpu;
	return 0;
}

/* The memory and two-CPU figures, each under its own head. */
static void print_extra(const struct bench_result *r, int n)
{
	bool head_mem = false, head_cpu = false;

	for (int i = 0; i < n; i++) {
		if (!r[i].is_memory)
			continue;
		if (!head_mem) {
			printf("\n%-24s %14s %14s\n", "table", "bytes/flow",
			       "flows/GiB");
			head_mem = true;
		}
		printf("%-24s %14.1f %14.0f\n", r[i].scenario,
		       r[i].bytes_per_flow, r[i].flows_per_gib);
	}
	for (int i = 0; i < n; i++) {
		if (!r[i].is_scaling)
			continue;
		if (!head_cpu) {
			printf("\n%-24s %10s %10s %8s\n", "scenario",
			       "Mpps 1cpu", "Mpps 2cpu", "2 / 1");
			head_cpu = true;
		}
		printf("%-24s %10.2f %10.2f %8.2f\n", r[i].scenario,
		       r[i].mpps_one, r[i].mpps_two,
		       r[i].mpps_one ? r[i].mpps_two / r[i].mpps_one : 0);
	}
}

static void print_table(const struct bench_result *r, int n)
{
	bool head_pkt = false, head_build = false;

	for (int i = 0; i < n; i++) {
		if (r[i].is_build || r[i].is_memory || r[i].is_scaling)
			continue;
		if (!head_pkt) {
			printf("\n%-24s %10s %10s %8s %8s %8s\n", "scenario",
			       "ns/pkt", "floor ns", "ratio", "Mpps", "spread");
			head_pkt = true;
		}
		printf("%-24s %10.2f %10.2f %8.2f %8.2f %7.0f%%\n",
		       r[i].scenario, r[i].ns_per_packet, r[i].floor_ns,
		       r[i].ratio, 1000.0 / r[i].ns_per_packet,
		       r[i].spread * 100);
	}
	if (head_pkt)
		printf("(medians of the measurements; spread: slowest minus "
		       "fastest, of the median)\n");
	print_extra(r, n);
	for (int i = 0; i < n; i++) {
		if (!r[i].is_build)
			continue;
		if (!head_build) {
			printf("\n%-24s %10s\n", "scenario", "ms");
			head_build = true;
		}
		printf("%-24s %10.3f\n", r[i].scenario, r[i].ms);
	}
}

/* Writes FILE.tmp, then renames it: a reader never sees half a file. */
static int write_json(const char *path, const struct bench_result *r, int n)
{
	char tmp[4096];
	FILE *f;
	int err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "[");
	for (int i = 0; i < n; i++) {
		/* Scenario names are fixed identifiers: nothing to escape. */
		fprintf(f, "%s\n  {\"scenario\": \"%s\", ", i ? "," : "",
			r[i].scenario);
		if (r[i].is_build)
			fprintf(f, "\"ms\": %.4f}", r[i].ms);
		else if (r[i].is_memory)
			fprintf(f,
				"\"bytes_per_flow\": %.2f, "
				"\"flows_per_gib\": %.0f}",
				r[i].bytes_per_flow, r[i].flows_per_gib);
		else if (r[i].is_scaling)
			fprintf(f,
				"\"mpps_one_cpu\": %.3f, \"mpps_two_cpus\": "
				"%.3f, \"two_over_one\": %.4f}",
				r[i].mpps_one, r[i].mpps_two,
				r[i].mpps_one ? r[i].mpps_two / r[i].mpps_one
					      : 0);
		else
			fprintf(f,
				"\"ns_per_packet\": %.3f, \"floor_ns\": %.3f, "
				"\"ratio_to_floor\": %.4f, \"mpps\": %.3f}",
				r[i].ns_per_packet, r[i].floor_ns, r[i].ratio,
				1000.0 / r[i].ns_per_packet);
	}
	fprintf(f, "\n]\n");
	if (ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int main(int argc, char **argv)
{
	struct bench_result res[BENCH_MAX_RESULTS] = {};
	struct bench_opts o = {};
	const char *json = NULL;
	long cpu = -1;
	int opt, n_res = 0, pinned = -1, err;
	const char *s;

	if (env_count("XLB_BENCH_PACKETS", DEFAULT_PACKETS, &o.packets) ||
	    env_count("XLB_BENCH_REPS", DEFAULT_REPS, &o.reps) ||
	    env_count("XLB_BENCH_BUILDS", DEFAULT_BUILDS, &o.builds))
		return 2;
	s = getenv("XLB_BENCH_CPU");
	if (s && *s) {
		cpu = parse_cpu(s);
		if (cpu < 0) {
			fprintf(stderr,
				"xlb: bench: XLB_BENCH_CPU=%s: not a CPU\n", s);
			return 2;
		}
	}

	while ((opt = getopt(argc, argv, "o:n:r:b:c:lvh")) != -1) {
		switch (opt) {
		case 'o':
			json = optarg;
			break;
		case 'n':
		case 'r':
		case 'b': {
			__u32 v = parse_count(optarg);

			if (!v) {
				fprintf(stderr,
					"xlb: bench: -%c %s: not a positive "
					"count\n",
					opt, optarg);
				return 2;
			}
			*(opt == 'n'   ? &o.packets
			  : opt == 'r' ? &o.reps
				       : &o.builds) = v;
			break;
		}
		case 'c':
			cpu = parse_cpu(optarg);
			if (cpu < 0) {
				fprintf(stderr,
					"xlb: bench: -c %s: not a CPU\n",
					optarg);
				return 2;
			}
			break;
		case 'l':
			for (size_t i = 0; bench_datapath_name(i); i++)
				printf("%s\n", bench_datapath_name(i));
			for (int i = 0; bench_maglev_names[i]; i++)
				printf("%s\n", bench_maglev_names[i]);
			return 0;
		case 'v':
			o.verbose = verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (!known(argv[i])) {
			fprintf(stderr,
				"xlb: bench: no scenario %s (-l lists "
				"them)\n",
				argv[i]);
			return 2;
		}
	}
	if (optind < argc) {
		o.only = argv + optind;
		o.n_only = argc - optind;
	}

	libbpf_set_print(print_libbpf);
	err = pin_cpu(cpu, &pinned);
	if (err) {
		fprintf(stderr, "xlb: bench: pin to a CPU: %s\n",
			strerror(-err));
		return 1;
	}
	printf("xlb bench: %u packets x %u measurements per scenario, "
	       "%u Maglev builds, on CPU %d\n",
	       o.packets, o.reps, o.builds, pinned);

	err = bench_datapath(&o, res, &n_res);
	if (!err)
		err = bench_maglev(&o, res, &n_res);
	if (err) {
		/* A path that was not the intended one has said which. */
		if (err != -EPROTO)
			fprintf(stderr, "xlb: bench: %s\n", strerror(-err));
		return 1;
	}

	print_table(res, n_res);
	if (json) {
		err = write_json(json, res, n_res);
		if (err) {
			fprintf(stderr, "xlb: bench: write %s: %s\n", json,
				strerror(-err));
			return 1;
		}
		printf("\nfigures written to %s\n", json);
	}
	return 0;
}
