/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The benchmark binary's parts: run options, the result of one scenario,
 * test frames (packet.c), the data-path scenarios run through the harness
 * (datapath.c) and the Maglev build timings (maglev_build.c). main.c
 * parses the options, runs the scenarios and prints the figures.
 */
#ifndef XLB_BENCH_H
#define XLB_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Largest test frame; the harness (harness.bpf.c) restores at most this. */
#define BENCH_FRAME_MAX 128

struct bench_opts {
	__u32 packets; /* test_run repeat of one measurement */
	__u32 reps;    /* measurements per scenario; the median is kept */
	__u32 builds;  /* Maglev builds per table size */
	bool verbose;  /* libbpf messages, per-measurement figures */
	char **only;   /* scenario names asked for; NULL: all */
	int n_only;
};

/* One row of the output: a data-path scenario or a Maglev build. */
struct bench_result {
	char scenario[64];
	bool is_build;
	double ns_per_packet; /* median, harness included */
	double floor_ns;      /* median of the harness alone, same frame */
	double ratio;	      /* median of ratios of adjacent chunks */
	double spread;	      /* (slowest - fastest) / median, 0.1 = 10% */
	double ms;	      /* Maglev: median build time */
	/* bytes_per_flow_*: memory of a flow table over the flows it holds */
	bool is_memory;
	double bytes_per_flow, flows_per_gib;
	/* tcp_flow_hit_2cpu: Mpps of one CPU alone, and of two at once */
	bool is_scaling;
	double mpps_one, mpps_two;
};

#define BENCH_MAX_RESULTS 32

struct bench_frame {
	__u8 data[BENCH_FRAME_MAX];
	__u32 len;
};

/* Test frames: Ethernet + IPv4/IPv6 + a 20-byte TCP header, no payload. */
void frame_tcp4(struct bench_frame *f, const char *src, const char *dst,
		__u16 sport, __u16 dport, __u8 tcp_flags);
void frame_tcp6(struct bench_frame *f, const char *src, const char *dst,
		__u16 sport, __u16 dport, __u8 tcp_flags);
/* IPv4 in IPv4: the IP packet of `inner` behind an outer IPv4 header. */
void frame_ipip(struct bench_frame *f, const char *src, const char *dst,
		const struct bench_frame *inner);
/* Offsets, in a frame_tcp4() frame, of the source address and port. */
#define FRAME4_SADDR 26
#define FRAME4_SPORT 34

/* TCP flag bits of the frame builders (as in the header's 14th byte). */
#define TCPF_SYN 0x02
#define TCPF_ACK 0x10

bool bench_selected(const struct bench_opts *o, const char *name);
double bench_median(double *v, size_t n);
/* Seconds of CPU time this thread has used (kernel time included). */
double bench_thread_seconds(void);

/*
 * Runs the data-path scenarios asked for, appending one result each.
 * Returns 0, or a negative errno when a program could not be loaded or a
 * scenario did not take the path it is meant to measure.
 */
int bench_datapath(const struct bench_opts *o, struct bench_result *res,
		   int *n_res);

/* Times xlb_maglev_build() at each table size asked for. */
int bench_maglev(const struct bench_opts *o, struct bench_result *res,
		 int *n_res);

/*
 * Names of the scenarios (and of the memory and two-CPU figures), for -l
 * and for checking arguments.
 */
const char *bench_datapath_name(size_t i); /* NULL past the last */
extern const char *const bench_maglev_names[];

#endif /* XLB_BENCH_H */
