// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * CPU and memory pressure of a cgroup, for backends that are containers:
 * there /proc/stat and /proc/pressure describe the whole machine, and a
 * CPU hog next door would lower every container's weight alike. CPU time
 * comes from cgroup v2's cpu.stat (usage_usec) or v1's cpuacct.usage,
 * as a share of the CPUs the cgroup may use (cpu.max, else
 * cpuset.cpus.effective, else every CPU online); memory pressure from v2's
 * memory.pressure (v1 has none: the host's memory is used then).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

int agent_parse_cg_usage(const char *file, const char *text, uint64_t *ns)
{
	const char *p;
	uint64_t v;

	if (!strcmp(file, "cpuacct.usage"))
		return sscanf(text, "%" SCNu64, ns) == 1 ? 0 : -EINVAL;
	p = !strncmp(text, "usage_usec ", 11) ? text
					      : strstr(text, "\nusage_usec ");
	if (!p || sscanf(p + (*p == '\n'), "usage_usec %" SCNu64, &v) != 1)
		return -EINVAL;
	*ns = v * 1000;
	return 0;
}

int agent_parse_cpuset(const char *text, unsigned *n)
{
	const char *p = text;
	unsigned a, b;
	int len;

	*n = 0;
	while (*p && *p != '\n') {
		if (sscanf(p, "%u%n", &a, &len) != 1)
			return -EINVAL;
		p += len;
		b = a;
		if (*p == '-' && sscanf(p + 1, "%u%n", &b, &len) == 1)
			p += 1 + len;
		if (b < a)
			return -EINVAL;
		*n += b - a + 1;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return *n ? 0 : -EINVAL;
}

int agent_parse_cpu_max(const char *text, double *cpus)
{
	unsigned long quota, period;

	if (!strncmp(text, "max", 3)) {
		*cpus = 0;
		return 0;
	}
	if (sscanf(text, "%lu %lu", &quota, &period) != 2 || !period)
		return -EINVAL;
	*cpus = (double)quota / period;
	return 0;
}

/* Reads dir/name into buf; 0 or -errno. */
static int read_in(const char *dir, const char *name, char *buf, size_t len)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	return 0;
}

/* The CPUs the cgroup may use: its quota, its cpuset, the machine's. */
static double cg_cpus(const char *dir)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	double cpus = online > 0 ? online : 1, q;
	unsigned n;
	char buf[256];

	if (!read_in(dir, "cpuset.cpus.effective", buf, sizeof(buf)) &&
	    !agent_parse_cpuset(buf, &n) && n < cpus)
		cpus = n;
	if (!read_in(dir, "cpu.max", buf, sizeof(buf)) &&
	    !agent_parse_cpu_max(buf, &q) && q > 0 && q < cpus)
		cpus = q;
	return cpus;
}

/* The cgroup's CPU time; 0 or -errno. */
static int cg_usage(const char *dir, uint64_t *ns)
{
	static const char *const files[] = {"cpu.stat", "cpuacct.usage"};
	char buf[1024];
	int ret = -ENOENT;

	for (int i = 0; i < 2 && ret; i++) {
		ret = read_in(dir, files[i], buf, sizeof(buf));
		if (!ret)
			ret = agent_parse_cg_usage(files[i], buf, ns);
	}
	return ret;
}

int agent_sample_cgroup(const char *dir, struct agent_cg *g, uint64_t now_ns)
{
	uint64_t usage;
	double pct;
	char buf[256];
	int ret = cg_usage(dir, &usage);

	g->tried = true;
	g->ok = !ret;
	if (ret) {
		g->have_prev = false;
		return ret;
	}
	if (g->have_prev && now_ns > g->at_ns && usage >= g->usage_ns) {
		pct = 100.0 * (double)(usage - g->usage_ns) /
		      ((double)(now_ns - g->at_ns) * cg_cpus(dir));
		g->cpu_pct = pct > 100 ? 100 : pct;
	}
	g->usage_ns = usage;
	g->at_ns = now_ns;
	g->have_prev = true;
	g->has_psi = !read_in(dir, "memory.pressure", buf, sizeof(buf)) &&
		     !agent_parse_psi(buf, &g->mem_psi_pct);
	return 0;
}

int agent_cgroup_check(const char *dir, struct xlb_err *err)
{
	uint64_t ns;
	int ret;

	if (dir[0] != '/') {
		xlb_err_set(err, "'%s' is not an absolute path", dir);
		return -EINVAL;
	}
	ret = cg_usage(dir, &ns);
	if (ret)
		xlb_err_set(err,
			    "'%s' has no readable cpu.stat or "
			    "cpuacct.usage: %s",
			    dir, strerror(-ret));
	return ret;
}
