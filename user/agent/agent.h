/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xlb-agent's load reports: what the files of user/agent/ share. The
 * agent samples the host (CPU, memory, run queue, established TCP per
 * port, operator hooks) on a timer, and answers each agent-check
 * connection with one line computed from the last sample, so a report
 * costs a lookup and a format, never a read of /proc.
 *
 * The pieces, one file each: config.c (the JSON config: ceilings,
 * profiles, services, hooks), metrics.c (/proc parsing and the CPU
 * delta), cgroup.c (the same for a container), conns.c (established
 * TCP per port over sock_diag), hook.c (operator hooks run off the
 * request path), report.c (the load H and the request and reply lines),
 * server.c (the listener and its connections), loop.c (the epoll loop,
 * timer and signals).
 */
#ifndef XLB_AGENT_H
#define XLB_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xlb/types.h>

#include "err.h"
#include "text.h"
#include "watch.h"

#define AGENT_PORT_DEFAULT	5555
#define AGENT_SAMPLE_MS_DEFAULT 1000
/* How long a client has to send its request line before the agent
 * answers for the host (HAProxy without agent-send sends nothing). */
#define AGENT_REQUEST_WAIT_MS	  100
#define AGENT_REQUEST_MAX	  128 /* bytes of a request line, '\n' included */
#define AGENT_MAX_CLIENTS	  256 /* one more closes the oldest */
#define AGENT_PROFILE_NAME_MAX	  32
#define AGENT_DRAIN_ABOVE_DEFAULT 0.95

/* The metrics a profile weighs, each normalised to 0..1 by a ceiling. */
enum agent_metric {
	AGENT_M_CPU,   /* CPU busy over the last sample interval */
	AGENT_M_MEM,   /* memory pressure (PSI some avg10), else used memory */
	AGENT_M_RUNQ,  /* runnable tasks */
	AGENT_M_CONNS, /* established TCP connections to the service's port */
	AGENT_M_HOOK,  /* the operator hook's number */
	AGENT_M_NUM,
};

/* The metrics' names in profiles and logs: "cpu", "mem", ... */
extern const char *const agent_metric_names[AGENT_M_NUM];

/* What a hook may say beside its number; anything else is NONE. */
enum agent_word {
	AGENT_WORD_NONE,
	AGENT_WORD_DRAIN,
	AGENT_WORD_DOWN,
	AGENT_WORD_MAINT,
};

/* A named weight set; the weights are 0..1 and sum to 1. */
struct agent_profile {
	char name[AGENT_PROFILE_NAME_MAX];
	double w[AGENT_M_NUM];
};

/* An operator hook: a command (run with /bin/sh -c) or a file. */
struct agent_hook_cfg {
	char *command;
	char *file;
	double ceiling;	      /* the hook's number that reads as 1.0 */
	unsigned interval_ms; /* how often it runs or is read */
	unsigned timeout_ms;  /* a command still running then is killed */
};

struct agent_service {
	struct xlb_vip_key key;
	char name[XLB_VIP_STRLEN]; /* its text form, for logs */
	int profile;		   /* index into agent_cfg.profiles */
	double conns_ceiling;
	double drain_above; /* H at or above it: "drain" */
	int hook;	    /* index into agent_cfg.hooks; 0 = the host's */
	int cgroup;	    /* index into agent_cfg.cgroups; -1: the host's */
};

struct agent_cfg {
	unsigned listen_port;
	unsigned sample_ms;
	/* Ceilings: the raw value of each metric that reads as 1.0. */
	double cpu_pct;	     /* percent of all CPUs busy */
	double mem_psi_pct;  /* PSI memory "some" avg10, percent of time */
	double mem_used_pct; /* 100 * (1 - MemAvailable / MemTotal) */
	double runq;	     /* runnable tasks; 0 in the file: 2 x CPUs */
	double conns;	     /* default conns_ceiling of the services */
	double drain_above;  /* the host's; the services' default */
	struct agent_profile *profiles;
	int n_profiles;
	int host_profile; /* the profile named "default" */
	/* hooks[0] is the host's (command and file NULL: none). */
	struct agent_hook_cfg *hooks;
	int n_hooks;
	struct agent_service *services;
	int n_services;
	/* cgroup directories whose CPU and memory pressure replace the
	 * host's: the host's own (host_cgroup, -1: none) and services'. */
	char **cgroups;
	int n_cgroups;
	int host_cgroup;
};

/* ---- config.c ---------------------------------------------------------- */

/* A config with the defaults and the built-in profiles, no services. */
struct agent_cfg *agent_cfg_default(void);
/* Parses a JSON document; NULL with err naming the offending key. */
struct agent_cfg *agent_cfg_parse(const char *text, struct xlb_err *err);
struct agent_cfg *agent_cfg_load(const char *path, struct xlb_err *err);
void agent_cfg_free(struct agent_cfg *c);
/* The service of key, or NULL. */
const struct agent_service *agent_cfg_service(const struct agent_cfg *c,
					      const struct xlb_vip_key *key);
/* Whether the host's or any service's profile weighs metric k. */
bool agent_cfg_weighs(const struct agent_cfg *c, enum agent_metric k);
/* 0 when the weights are each in 0..1 and sum to 1, else -EINVAL. */
int agent_profile_validate(const struct agent_profile *p, struct xlb_err *err);

/* ---- metrics.c --------------------------------------------------------- */

/* The CPU counters of /proc/stat's "cpu" line, in ticks. */
struct agent_cpu_times {
	uint64_t busy;
	uint64_t total;
};

/* One sample of the host, in raw units (see the ceilings). */
struct agent_host {
	double cpu_pct; /* over the last interval */
	bool has_psi;	/* mem_psi_pct is PSI; else mem_used_pct */
	double mem_psi_pct;
	double mem_used_pct;
	double runq; /* runnable tasks but the agent, smoothed */
};

/* Parses /proc/stat: the "cpu" line and procs_running. */
int agent_parse_stat(const char *text, struct agent_cpu_times *t,
		     unsigned *procs_running);
/* Percent busy between two samples; 0 when no tick passed. */
double agent_cpu_pct(const struct agent_cpu_times *a,
		     const struct agent_cpu_times *b);
/* The "some" avg10 of /proc/pressure/memory, in percent. */
int agent_parse_psi(const char *text, double *avg10);
/* 100 * (1 - MemAvailable / MemTotal) from /proc/meminfo. */
int agent_parse_meminfo(const char *text, double *used_pct);

/* The host's sampler: the previous CPU counters and the last sample. */
struct agent_sampler {
	struct agent_cpu_times prev;
	bool have_prev;
	struct agent_host host;
};

/* Reads /proc and updates s->host; 0 or -errno. */
int agent_sample(struct agent_sampler *s);

/* ---- cgroup.c ---------------------------------------------------------- */

/*
 * One cgroup's sample: its CPU use over the last interval (a share of
 * the CPUs it may use) and its own memory pressure, for a host or a
 * service that is a container rather than the whole machine.
 */
struct agent_cg {
	uint64_t usage_ns; /* CPU time used, as of at_ns */
	uint64_t at_ns;	   /* CLOCK_MONOTONIC of the sample */
	bool have_prev;
	bool tried; /* sampled at least once */
	bool ok;    /* the last sample read; else the host's metrics */
	double cpu_pct;
	bool has_psi;
	double mem_psi_pct;
};

/* CPU time of cgroup v2's cpu.stat (usage_usec) or v1's cpuacct.usage. */
int agent_parse_cg_usage(const char *file, const char *text, uint64_t *ns);
/* CPUs of "0-3,8" (cpuset.cpus.effective). */
int agent_parse_cpuset(const char *text, unsigned *n);
/* CPUs of cpu.max ("50000 100000" = 0.5); 0 for "max". */
int agent_parse_cpu_max(const char *text, double *cpus);
/* Samples the cgroup directory dir at now_ns; 0 or -errno. */
int agent_sample_cgroup(const char *dir, struct agent_cg *g, uint64_t now_ns);
/* 0 when dir is a cgroup whose CPU time can be read, else -errno. */
int agent_cgroup_check(const char *dir, struct xlb_err *err);

/* ---- conns.c ----------------------------------------------------------- */

/* Established TCP connections counted by local port. */
struct agent_conns {
	uint32_t *by_port;  /* [65536] */
	uint8_t *listening; /* [65536 / 8]: ports with a listener */
	uint32_t host;	    /* established on any listening port */
};

int agent_conns_init(struct agent_conns *c);
void agent_conns_free(struct agent_conns *c);
/* One sock_diag dump of IPv4 and IPv6 TCP; 0 or -errno. */
int agent_conns_update(struct agent_conns *c);

/* ---- report.c ---------------------------------------------------------- */

/*
 * Parses a request line (without its '\n'; one trailing '\r' is
 * allowed): "ADDR:PORT/PROTO" or, for a port-less VIP, "ADDR/PROTO";
 * IPv6 in brackets, proto tcp or udp.
 */
int agent_parse_request(const char *line, struct xlb_vip_key *key,
			struct xlb_err *err);
/* H = sum of w[k] * m[k]. */
double agent_load(const double m[AGENT_M_NUM], const struct agent_profile *p);
/* The weight percent of a load: round(100 (1 - H)) within 1..100. */
int agent_weight_pct(double h);
/*
 * The reply line of a load: "N% ready\n", "N% drain\n" at or above
 * drain_above, or the hook's word ("N% down\n", ...) when it said one.
 * Returns its length (< len) or -ENOSPC.
 */
int agent_reply(double h, double drain_above, enum agent_word word, char *buf,
		size_t len);
/* Normalises a raw value by its ceiling into 0..1. */
double agent_norm(double raw, double ceiling);

/* ---- hook.c ------------------------------------------------------------ */

/* The last result of a hook. */
struct agent_hook_state {
	unsigned runs; /* how many ended, for the log */
	bool ok;       /* the last run gave a number or a word */
	double value;  /* its number (0 when !ok) */
	enum agent_word word;
};

/* Parses a hook's output: its first number and a state word, if any. */
int agent_parse_hook_output(const char *text, double *value,
			    enum agent_word *word);

struct agent_hooks;
struct agent_hooks *agent_hooks_new(int epfd, const struct agent_cfg *c);
/* Starts the hooks that are due; returns the ms until the next is due. */
unsigned agent_hooks_tick(struct agent_hooks *h, uint64_t now_ms);
const struct agent_hook_state *agent_hooks_state(const struct agent_hooks *h,
						 int i);
/* Kills running commands (their process groups) and frees. */
void agent_hooks_free(struct agent_hooks *h);

/* ---- the agent --------------------------------------------------------- */

/* What a report needs: the config and the last samples. */
struct agent_view {
	const struct agent_cfg *cfg;
	const struct agent_host *host;
	const struct agent_conns *conns;
	const struct agent_hooks *hooks; /* NULL: no hook ran */
	const struct agent_cg *cgroups;	 /* [cfg->n_cgroups]; NULL: none */
};

/* The normalised metrics of a service (NULL: the host). */
void agent_metrics_of(const struct agent_view *v,
		      const struct agent_service *svc, double m[AGENT_M_NUM]);
/* The reply line to a request (NULL or unparsable: the host's). */
int agent_answer(const struct agent_view *v, const struct agent_service *svc,
		 char *buf, size_t len);

/* Counters of the report server. */
struct agent_counters {
	uint64_t reports;     /* replies sent */
	uint64_t services;    /* of which for a known service */
	uint64_t host;	      /* of which for the host */
	uint64_t malformed;   /* request lines that did not parse */
	uint64_t unknown;     /* parsed, but no such service */
	uint64_t silent;      /* no line within the wait: the host's */
	uint64_t overflow;    /* clients closed to make room */
	uint64_t send_errors; /* the reply could not be written */
};

struct agent_server;
/* Listens on port (IPv6 dual-stack, else IPv4) and registers on epfd. */
struct agent_server *agent_server_new(int epfd, unsigned port,
				      struct xlb_err *err);
void agent_server_set_view(struct agent_server *s, const struct agent_view *v);
/* Answers the clients whose wait ended; returns ms to the next, or -1. */
int agent_server_expire(struct agent_server *s, uint64_t now_ms);
const struct agent_counters *
agent_server_counters(const struct agent_server *s);
unsigned agent_server_port(const struct agent_server *s);
void agent_server_free(struct agent_server *s);

/* ---- loop.c ------------------------------------------------------------ */

/*
 * Serves load reports until SIGTERM or SIGINT: samples on a timer, runs
 * the hooks, answers clients; SIGHUP re-reads config_path (NULL: none, the
 * defaults stay), SIGUSR1 logs the counters. cfg becomes the loop's; port
 * (non-zero) overrides the config's listen_port. watch (NULL: none) adds
 * its fds to the loop's epoll set, their data.ptr an xlb_watch (the decap
 * interface's address events); its failure is logged, not fatal. Tells
 * systemd READY=1 once it serves. 0 or -errno.
 */
typedef int (*agent_watch_fn)(void *arg, int epfd);
int agent_loop_run(struct agent_cfg *cfg, const char *config_path,
		   unsigned port, agent_watch_fn watch, void *watch_arg);

#endif /* XLB_AGENT_H */
