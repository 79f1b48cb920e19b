// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The agent's config file (JSON): the port, the sample interval, the
 * ceilings that normalise each metric, named profiles (weight sets) and
 * the services with their profile, connection ceiling, drain threshold
 * and hook. Reading is strict like xlbd's: an unknown key, a wrong type
 * or a value out of range is an error naming its path, and a config is
 * built whole before anyone sees it, so a bad file changes nothing.
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "agent.h"

/* The built-in profiles; a file may redefine them by name. */
static const struct agent_profile builtin_profiles[] = {
	{"default",
	 {[AGENT_M_CPU] = 0.5,
	  [AGENT_M_MEM] = 0.2,
	  [AGENT_M_RUNQ] = 0.1,
	  [AGENT_M_CONNS] = 0.2}},
	{"cpu-heavy",
	 {[AGENT_M_CPU] = 0.7, [AGENT_M_CONNS] = 0.2, [AGENT_M_MEM] = 0.1}},
	{"io-heavy",
	 {[AGENT_M_CONNS] = 0.6, [AGENT_M_MEM] = 0.3, [AGENT_M_CPU] = 0.1}},
};
#define N_BUILTIN (int)(sizeof(builtin_profiles) / sizeof(builtin_profiles[0]))

#define MAX_PROFILES 64
#define MAX_SERVICES 1024

/* Rejects keys of obj not in the NULL-ended list keys. */
static int only_keys(const json_t *obj, const char *path,
		     const char *const *keys, struct xlb_err *err)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
	{
		int i;

		for (i = 0; keys[i] && strcmp(keys[i], k); i++)
			;
		if (!keys[i])
			return xlb_err_path(err, path, "unknown key '%s'", k);
	}
	return 0;
}

/* A number of obj[key] in min..max, left alone when absent. */
static int get_num(const json_t *obj, const char *path, const char *key,
		   double min, double max, double *out, struct xlb_err *err)
{
	json_t *v = json_object_get(obj, key);
	char p[128];
	double d;

	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
	if (!json_is_number(v))
		return xlb_err_path(err, p, "expected a number");
	d = json_number_value(v);
	if (!(d >= min && d <= max))
		return xlb_err_path(err, p, "%g out of range %g..%g", d, min,
				    max);
	*out = d;
	return 0;
}

/* An integer of obj[key] in min..max, left alone when absent. */
static int get_uint(const json_t *obj, const char *path, const char *key,
		    unsigned min, unsigned max, unsigned *out,
		    struct xlb_err *err)
{
	json_t *v = json_object_get(obj, key);
	char p[128];

	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
	if (!json_is_integer(v))
		return xlb_err_path(err, p, "expected an integer");
	if (json_integer_value(v) < (json_int_t)min ||
	    json_integer_value(v) > (json_int_t)max)
		return xlb_err_path(err, p, "%lld out of range %u..%u",
				    (long long)json_integer_value(v), min, max);
	*out = json_integer_value(v);
	return 0;
}

int agent_profile_validate(const struct agent_profile *p, struct xlb_err *err)
{
	double sum = 0;

	for (int k = 0; k < AGENT_M_NUM; k++) {
		if (!(p->w[k] >= 0 && p->w[k] <= 1)) {
			xlb_err_set(err, "weight of %s %g out of range 0..1",
				    agent_metric_names[k], p->w[k]);
			return -EINVAL;
		}
		sum += p->w[k];
	}
	/* Tolerance for the decimals of a file: 0.1 + 0.2 + 0.7. */
	if (fabs(sum - 1) > 1e-6) {
		xlb_err_set(err, "weights sum to %g, not 1", sum);
		return -EINVAL;
	}
	return 0;
}

static int find_profile(const struct agent_cfg *c, const char *name)
{
	for (int i = 0; i < c->n_profiles; i++)
		if (!strcmp(c->profiles[i].name, name))
			return i;
	return -1;
}

static const char *const metric_keys[] = {"cpu",   "mem",  "runq",
					  "conns", "hook", NULL};

static int parse_profile(struct agent_cfg *c, const char *name, const json_t *j,
			 const char *path, struct xlb_err *err)
{
	struct agent_profile p;
	int i;

	memset(&p, 0, sizeof(p));
	if (!json_is_object(j))
		return xlb_err_path(err, path, "expected an object of weights");
	if (!*name || strlen(name) >= sizeof(p.name))
		return xlb_err_path(err, path, "name must be 1..%zu characters",
				    sizeof(p.name) - 1);
	if (only_keys(j, path, metric_keys, err))
		return -EINVAL;
	snprintf(p.name, sizeof(p.name), "%s", name);
	for (int k = 0; k < AGENT_M_NUM; k++)
		if (get_num(j, path, agent_metric_names[k], 0, 1, &p.w[k], err))
			return -EINVAL;
	if (agent_profile_validate(&p, err)) {
		xlb_err_prefix(err, path);
		return -EINVAL;
	}
	i = find_profile(c, name);
	if (i < 0) {
		if (c->n_profiles == MAX_PROFILES)
			return xlb_err_path(err, path, "more than %d profiles",
					    MAX_PROFILES);
		i = c->n_profiles++;
	}
	c->profiles[i] = p;
	return 0;
}

/* A hook object into c->hooks[i]; interval and timeout resolved later. */
static int parse_hook(struct agent_cfg *c, int i, const json_t *j,
		      const char *path, struct xlb_err *err)
{
	static const char *const keys[] = {"command",	 "file",
					   "ceiling",	 "interval_ms",
					   "timeout_ms", NULL};
	struct agent_hook_cfg *h = &c->hooks[i];
	const json_t *cmd, *file;

	if (!json_is_object(j))
		return xlb_err_path(err, path, "expected an object");
	if (only_keys(j, path, keys, err))
		return -EINVAL;
	cmd = json_object_get(j, "command");
	file = json_object_get(j, "file");
	if (!cmd == !file)
		return xlb_err_path(err, path,
				    "expected one of command and file");
	if ((cmd && (!json_is_string(cmd) || !*json_string_value(cmd))) ||
	    (file && (!json_is_string(file) || !*json_string_value(file))))
		return xlb_err_path(err, path,
				    "%s: expected a non-empty string",
				    cmd ? "command" : "file");
	h->command = cmd ? strdup(json_string_value(cmd)) : NULL;
	h->file = file ? strdup(json_string_value(file)) : NULL;
	if (!h->command && !h->file)
		return xlb_err_path(err, path, "out of memory");
	if (get_num(j, path, "ceiling", 1e-9, 1e12, &h->ceiling, err) ||
	    get_uint(j, path, "interval_ms", 100, 3600000, &h->interval_ms,
		     err) ||
	    get_uint(j, path, "timeout_ms", 10, 3600000, &h->timeout_ms, err))
		return -EINVAL;
	return 0;
}

/* obj's "cgroup", checked and added to c->cgroups: its index, -1 when
 * absent, or -EINVAL. */
static int parse_cgroup(struct agent_cfg *c, const json_t *obj,
			const char *path, struct xlb_err *err)
{
	const json_t *v = json_object_get(obj, "cgroup");
	char p[96], **more;

	if (!v)
		return -1;
	snprintf(p, sizeof(p), "%s%scgroup", path, *path ? "." : "");
	if (!json_is_string(v))
		return xlb_err_path(err, p, "expected a cgroup's directory");
	if (agent_cgroup_check(json_string_value(v), err)) {
		xlb_err_prefix(err, p);
		return -EINVAL;
	}
	more = realloc(c->cgroups, (c->n_cgroups + 1) * sizeof(*more));
	if (!more)
		return xlb_err_path(err, p, "out of memory");
	c->cgroups = more;
	c->cgroups[c->n_cgroups] = strdup(json_string_value(v));
	if (!c->cgroups[c->n_cgroups])
		return xlb_err_path(err, p, "out of memory");
	return c->n_cgroups++;
}

static int parse_service(struct agent_cfg *c, const json_t *j, const char *path,
			 struct xlb_err *err)
{
	static const char *const keys[] = {
		"service", "profile", "conns_ceiling", "drain_above", "hook",
		"cgroup",  NULL};
	struct agent_service *s = &c->services[c->n_services];
	const json_t *v;
	char p[96];

	if (!json_is_object(j))
		return xlb_err_path(err, path, "expected an object");
	if (only_keys(j, path, keys, err))
		return -EINVAL;
	v = json_object_get(j, "service");
	snprintf(p, sizeof(p), "%s.service", path);
	if (!json_is_string(v))
		return xlb_err_path(err, p,
				    "expected a string ADDR:PORT/PROTO");
	if (agent_parse_request(json_string_value(v), &s->key, err)) {
		xlb_err_prefix(err, p);
		return -EINVAL;
	}
	if (agent_cfg_service(c, &s->key))
		return xlb_err_path(err, p, "'%s' is listed twice",
				    json_string_value(v));
	xlb_format_vip(&s->key, s->name, sizeof(s->name));
	s->profile = c->host_profile;
	v = json_object_get(j, "profile");
	snprintf(p, sizeof(p), "%s.profile", path);
	if (v && !json_is_string(v))
		return xlb_err_path(err, p, "expected a profile's name");
	if (v && (s->profile = find_profile(c, json_string_value(v))) < 0)
		return xlb_err_path(err, p, "no profile named '%s'",
				    json_string_value(v));
	s->conns_ceiling = c->conns;
	s->drain_above = c->drain_above;
	s->hook = 0;
	if (get_num(j, path, "conns_ceiling", 1, 1e9, &s->conns_ceiling, err) ||
	    get_num(j, path, "drain_above", 0, 1, &s->drain_above, err))
		return -EINVAL;
	v = json_object_get(j, "hook");
	if (v) {
		/* Counted first so that a half-read hook is freed. */
		s->hook = c->n_hooks++;
		snprintf(p, sizeof(p), "%s.hook", path);
		if (parse_hook(c, s->hook, v, p, err))
			return -EINVAL;
	}
	s->cgroup = parse_cgroup(c, j, path, err);
	if (s->cgroup == -EINVAL)
		return -EINVAL;
	c->n_services++;
	return 0;
}

static int parse_ceilings(struct agent_cfg *c, const json_t *j,
			  struct xlb_err *err)
{
	static const char *const keys[] = {"cpu_pct",	   "mem_psi_pct",
					   "mem_used_pct", "runq",
					   "conns",	   NULL};

	double runq = 0;

	if (!j)
		return 0;
	if (!json_is_object(j))
		return xlb_err_path(err, "ceilings", "expected an object");
	if (only_keys(j, "ceilings", keys, err) ||
	    get_num(j, "ceilings", "cpu_pct", 1, 100, &c->cpu_pct, err) ||
	    get_num(j, "ceilings", "mem_psi_pct", 0.01, 100, &c->mem_psi_pct,
		    err) ||
	    get_num(j, "ceilings", "mem_used_pct", 1, 100, &c->mem_used_pct,
		    err) ||
	    get_num(j, "ceilings", "runq", 0, 1e6, &runq, err) ||
	    get_num(j, "ceilings", "conns", 1, 1e9, &c->conns, err))
		return -EINVAL;
	/* 0 keeps the default, 2 x the CPUs online. */
	if (runq > 0)
		c->runq = runq;
	return 0;
}

static int parse_profiles(struct agent_cfg *c, const json_t *j,
			  struct xlb_err *err)
{
	const char *name;
	json_t *v;
	char p[96];

	if (!j)
		return 0;
	if (!json_is_object(j))
		return xlb_err_path(err, "profiles", "expected an object");
	json_object_foreach((json_t *)j, name, v)
	{
		snprintf(p, sizeof(p), "profiles.%s", name);
		if (parse_profile(c, name, v, p, err))
			return -EINVAL;
	}
	return 0;
}

static int parse_services(struct agent_cfg *c, const json_t *j,
			  struct xlb_err *err)
{
	size_t n = j ? json_array_size(j) : 0;
	char p[32];

	if (!j)
		return 0;
	if (!json_is_array(j) || n > MAX_SERVICES)
		return xlb_err_path(err, "services",
				    "expected an array of at most %d services",
				    MAX_SERVICES);
	c->services = calloc(n ? n : 1, sizeof(*c->services));
	c->hooks = realloc(c->hooks, (1 + n) * sizeof(*c->hooks));
	if (!c->services || !c->hooks)
		return xlb_err_path(err, "services", "out of memory");
	memset(c->hooks + 1, 0, n * sizeof(*c->hooks));
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "services[%zu]", i);
		if (parse_service(c, json_array_get(j, i), p, err))
			return -EINVAL;
	}
	return 0;
}

/* Defaults of the hooks, and every profile that weighs a hook has one. */
static int check_hooks(struct agent_cfg *c, struct xlb_err *err)
{
	const struct agent_service *s;
	char p[32];

	for (int i = 0; i < c->n_hooks; i++) {
		struct agent_hook_cfg *h = &c->hooks[i];

		if (!h->ceiling)
			h->ceiling = 100;
		if (!h->interval_ms)
			h->interval_ms = c->sample_ms;
		if (!h->timeout_ms)
			h->timeout_ms =
				h->interval_ms < 1000 ? h->interval_ms : 1000;
	}
	for (int i = -1; i < c->n_services; i++) {
		s = i < 0 ? NULL : &c->services[i];
		if (!c->profiles[s ? s->profile : c->host_profile]
			     .w[AGENT_M_HOOK] ||
		    c->hooks[s ? s->hook : 0].command ||
		    c->hooks[s ? s->hook : 0].file)
			continue;
		if (s)
			snprintf(p, sizeof(p), "services[%d].profile", i);
		return xlb_err_path(
			err, s ? p : "profiles.default",
			"profile '%s' weighs hook but no hook is set",
			c->profiles[s ? s->profile : c->host_profile].name);
	}
	return 0;
}

static int parse_doc(struct agent_cfg *c, const json_t *root,
		     struct xlb_err *err)
{
	static const char *const keys[] = {
		"listen_port", "sample_ms", "ceilings",
		"drain_above", "profiles",  "hook",
		"services",    "cgroup",    NULL};
	const json_t *hook = json_object_get(root, "hook");

	if (!json_is_object(root))
		return xlb_err_path(err, "config", "expected a JSON object");
	if (only_keys(root, "config", keys, err) ||
	    get_uint(root, "", "listen_port", 1, 65535, &c->listen_port, err) ||
	    get_uint(root, "", "sample_ms", 100, 60000, &c->sample_ms, err) ||
	    get_num(root, "", "drain_above", 0, 1, &c->drain_above, err) ||
	    parse_ceilings(c, json_object_get(root, "ceilings"), err) ||
	    parse_profiles(c, json_object_get(root, "profiles"), err))
		return -EINVAL;
	c->host_profile = find_profile(c, "default");
	c->host_cgroup = parse_cgroup(c, root, "", err);
	if (c->host_cgroup == -EINVAL)
		return -EINVAL;
	if (hook && parse_hook(c, 0, hook, "hook", err))
		return -EINVAL;
	if (parse_services(c, json_object_get(root, "services"), err) ||
	    check_hooks(c, err))
		return -EINVAL;
	return 0;
}

struct agent_cfg *agent_cfg_default(void)
{
	struct agent_cfg *c = calloc(1, sizeof(*c));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!c)
		return NULL;
	c->listen_port = AGENT_PORT_DEFAULT;
	c->sample_ms = AGENT_SAMPLE_MS_DEFAULT;
	c->cpu_pct = 100;
	c->mem_psi_pct = 25;
	c->mem_used_pct = 100;
	c->runq = 2.0 * (cpus > 0 ? cpus : 1);
	c->conns = 1000;
	c->drain_above = AGENT_DRAIN_ABOVE_DEFAULT;
	c->profiles = calloc(MAX_PROFILES, sizeof(*c->profiles));
	c->hooks = calloc(1, sizeof(*c->hooks));
	if (!c->profiles || !c->hooks) {
		agent_cfg_free(c);
		return NULL;
	}
	memcpy(c->profiles, builtin_profiles, sizeof(builtin_profiles));
	c->n_profiles = N_BUILTIN;
	c->host_profile = 0;
	c->n_hooks = 1;
	c->host_cgroup = -1;
	return c;
}

struct agent_cfg *agent_cfg_parse(const char *text, struct xlb_err *err)
{
	struct agent_cfg *c = agent_cfg_default();
	json_error_t je;
	json_t *root;

	if (!c) {
		xlb_err_set(err, "out of memory");
		return NULL;
	}
	root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		xlb_err_set(err, "line %d column %d: %s", je.line, je.column,
			    je.text);
		goto fail;
	}
	if (parse_doc(c, root, err))
		goto fail;
	json_decref(root);
	return c;
fail:
	json_decref(root);
	agent_cfg_free(c);
	return NULL;
}

struct agent_cfg *agent_cfg_load(const char *path, struct xlb_err *err)
{
	struct agent_cfg *c;
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		xlb_err_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (getdelim(&text, &len, '\0', f) < 0 && !feof(f)) {
		xlb_err_set(err, "%s: %s", path, strerror(errno));
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	c = agent_cfg_parse(text ? text : "", err);
	if (!c)
		xlb_err_prefix(err, path);
	free(text);
	return c;
}

void agent_cfg_free(struct agent_cfg *c)
{
	if (!c)
		return;
	for (int i = 0; c->hooks && i < c->n_hooks; i++) {
		free(c->hooks[i].command);
		free(c->hooks[i].file);
	}
	for (int i = 0; i < c->n_cgroups; i++)
		free(c->cgroups[i]);
	free(c->cgroups);
	free(c->hooks);
	free(c->services);
	free(c->profiles);
	free(c);
}

bool agent_cfg_weighs(const struct agent_cfg *c, enum agent_metric k)
{
	if (c->profiles[c->host_profile].w[k] > 0)
		return true;
	for (int i = 0; i < c->n_services; i++)
		if (c->profiles[c->services[i].profile].w[k] > 0)
			return true;
	return false;
}

const struct agent_service *agent_cfg_service(const struct agent_cfg *c,
					      const struct xlb_vip_key *key)
{
	for (int i = 0; i < c->n_services; i++)
		if (!memcmp(&c->services[i].key, key, sizeof(*key)))
			return &c->services[i];
	return NULL;
}
