// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The host's metrics from /proc: CPU busy from the deltas of /proc/stat's
 * "cpu" line between two samples, memory pressure from PSI (or, on a
 * kernel without it, the share of memory not available), and the run
 * queue from procs_running. The parsers take the file's text so the unit
 * tests can feed them any; agent_sample() reads the real files.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

/* Weight of a new run-queue sample: procs_running is an instant and
 * jumps; half of each new value follows a change within a few samples. */
#define RUNQ_ALPHA 0.5

int agent_parse_stat(const char *text, struct agent_cpu_times *t,
		     unsigned *procs_running)
{
	uint64_t v[8] = {0};
	const char *p;
	int n;

	/* cpu user nice system idle iowait irq softirq steal [guest ...]:
	 * guest time is already in user and nice, so it is not added. */
	n = sscanf(text,
		   "cpu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	if (n < 4)
		return -EINVAL;
	t->total = 0;
	for (int i = 0; i < 8; i++)
		t->total += v[i];
	/* idle and iowait are both a CPU with nothing to run. */
	t->busy = t->total - v[3] - v[4];
	if (procs_running) {
		p = strstr(text, "\nprocs_running ");
		if (!p || sscanf(p, "\nprocs_running %u", procs_running) != 1)
			return -EINVAL;
	}
	return 0;
}

double agent_cpu_pct(const struct agent_cpu_times *a,
		     const struct agent_cpu_times *b)
{
	/* Counters only grow; a wrap or a reset reads as idle once. */
	if (b->total <= a->total || b->busy < a->busy)
		return 0;
	double pct = 100.0 * (double)(b->busy - a->busy) /
		     (double)(b->total - a->total);
	return pct > 100 ? 100 : pct;
}

int agent_parse_psi(const char *text, double *avg10)
{
	if (sscanf(text, "some avg10=%lf", avg10) != 1 || *avg10 < 0)
		return -EINVAL;
	return 0;
}

/* The value in kB of "key:" in /proc/meminfo's text. */
static int meminfo_field(const char *text, const char *key, uint64_t *kb)
{
	size_t klen = strlen(key);

	for (const char *p = text; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return sscanf(p + klen + 1, " %" SCNu64, kb) == 1
				       ? 0
				       : -EINVAL;
	}
	return -ENOENT;
}

int agent_parse_meminfo(const char *text, double *used_pct)
{
	uint64_t total, avail;

	if (meminfo_field(text, "MemTotal", &total) ||
	    meminfo_field(text, "MemAvailable", &avail) || !total)
		return -EINVAL;
	if (avail > total)
		avail = total;
	*used_pct = 100.0 * (1.0 - (double)avail / (double)total);
	return 0;
}

/* Reads a small /proc file whole into buf; 0 or -errno. */
static int read_text(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	close(fd);
	return got ? 0 : -EIO;
}

int agent_sample(struct agent_sampler *s)
{
	/* /proc/stat grows with the CPUs and interrupts: room to spare. */
	static char buf[1 << 17];
	struct agent_cpu_times now;
	unsigned running;
	double v;
	int ret;

	ret = read_text("/proc/stat", buf, sizeof(buf));
	if (ret || (ret = agent_parse_stat(buf, &now, &running)))
		return ret;
	if (s->have_prev)
		s->host.cpu_pct = agent_cpu_pct(&s->prev, &now);
	s->prev = now;
	s->have_prev = true;
	/* The agent itself runs while it reads the file. */
	v = running > 0 ? running - 1 : 0;
	s->host.runq = RUNQ_ALPHA * v + (1 - RUNQ_ALPHA) * s->host.runq;

	s->host.has_psi = !read_text("/proc/pressure/memory", buf, 256) &&
			  !agent_parse_psi(buf, &s->host.mem_psi_pct);
	if (!s->host.has_psi && !read_text("/proc/meminfo", buf, sizeof(buf)) &&
	    !agent_parse_meminfo(buf, &v))
		s->host.mem_used_pct = v;
	return 0;
}
