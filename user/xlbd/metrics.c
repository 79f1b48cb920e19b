// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Prometheus metrics over HTTP, served by libmicrohttpd from its own
 * thread (a well-kept HTTP server beats a hand-written one at parsing
 * requests it did not expect). GET /metrics returns the text format:
 * global counters by name, per-VIP and per-backend packets, bytes and
 * new flows, backend weights (configured and effective, with the agent's
 * and the share loop's factors) and states, each ring's fingerprint, read
 * straight from the maps under the daemon's lock, the client-NAT pools'
 * ports and sub-pools as xlbd's NAT side last copied them, and the
 * uplinks' state and shares as its uplink side did (their bytes from the
 * map).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <microhttpd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlb/counters.h>
#include "dp_uplink.h"
#include "nat.h"
#include "stats.h"
#include "uplink.h"
#include "xlbd.h"

static void metric_head(FILE *f, const char *name, const char *type,
			const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_counters(FILE *f, struct xlbd *d)
{
	struct xlb_counter c[XLB_CNT_MAX];

	for (__u32 i = 0; i < XLB_CNT_MAX; i++)
		if (xlb_counter_sum(xlb_dp_map_fd(d->dp, XLB_DP_COUNTERS), i,
				    &c[i]))
			memset(&c[i], 0, sizeof(c[i]));
	metric_head(f, "xlb_packets_total", "counter",
		    "Packets by verdict (pass_*, tx_*, drop_*) or event.");
	for (__u32 i = 0; i < XLB_CNT_MAX; i++)
		fprintf(f, "xlb_packets_total{counter=\"%s\"} %llu\n",
			xlb_counter_names[i], (unsigned long long)c[i].packets);
	metric_head(f, "xlb_bytes_total", "counter",
		    "Bytes received, by verdict.");
	for (__u32 i = 0; i < XLB_CNT_FIRST_EVENT; i++)
		fprintf(f, "xlb_bytes_total{counter=\"%s\"} %llu\n",
			xlb_counter_names[i], (unsigned long long)c[i].bytes);
}

static void write_health(FILE *f, struct xlbd *d, const struct xlb_vip_cfg *v,
			 const struct xlb_backend_cfg *b, const char *labels)
{
	const struct xlb_health *h = &d->policy->h[b->id];

	fprintf(f, "xlb_backend_health{%s,health=\"%s\",reason=\"%s\"} 1\n",
		labels, xlb_policy_health_name(h),
		xlb_policy_reason(d->policy, v, b, xlb_now_ms()));
	if (h->checked && h->last_latency_us)
		fprintf(f, "xlb_backend_check_latency_seconds{%s} %.6f\n",
			labels, h->last_latency_us / 1e6);
	fprintf(f, "xlb_backend_transitions_total{%s} %llu\n", labels,
		(unsigned long long)h->transitions);
}

/* Each VIP's traffic and the fingerprint of its table. */
static void write_vips(FILE *f, struct xlbd *d)
{
	char vip[XLB_VIP_STRLEN];
	const struct xlb_model *m = &d->model;
	struct xlb_counter c;
	__u64 flows;

	metric_head(f, "xlb_vip_packets_total", "counter",
		    "Packets sent to a VIP's backends.");
	metric_head(f, "xlb_vip_bytes_total", "counter",
		    "Bytes sent to a VIP's backends (as received).");
	metric_head(f, "xlb_vip_new_flows_total", "counter",
		    "Flows a VIP started (flow-table or NAT entries made).");
	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];

		if (xlb_counter_sum(xlb_dp_map_fd(d->dp, XLB_DP_VIP_STATS),
				    v->vip_id, &c))
			continue;
		if (xlb_flows_sum(xlb_dp_map_fd(d->dp, XLB_DP_VIP_FLOWS),
				  v->vip_id, &flows))
			flows = 0;
		xlb_format_vip(&v->key, vip, sizeof(vip));
		fprintf(f, "xlb_vip_packets_total{vip=\"%s\"} %llu\n", vip,
			(unsigned long long)c.packets);
		fprintf(f, "xlb_vip_bytes_total{vip=\"%s\"} %llu\n", vip,
			(unsigned long long)c.bytes);
		fprintf(f, "xlb_vip_new_flows_total{vip=\"%s\"} %llu\n", vip,
			(unsigned long long)flows);
	}
	metric_head(f, "xlb_ring_fingerprint_info", "gauge",
		    "Fingerprint of the VIP's Maglev table; equal on every "
		    "balancer that agrees.");
	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];

		fprintf(f,
			"xlb_ring_fingerprint_info{vip=\"%s\","
			"fingerprint=\"%016" PRIx64 "\"} 1\n",
			xlb_format_vip(&v->key, vip, sizeof(vip)),
			(uint64_t)xlb_dp_fingerprint(d->dp, v->vip_id));
	}
}

/*
 * The weight policy's view of one backend: the weight in the ring (in
 * configured units), the agent's factor and the load it implies, the
 * share loop's measured and target shares.
 */
static void write_feedback(FILE *f, struct xlbd *d, const struct xlb_vip_cfg *v,
			   const struct xlb_backend_cfg *b, const char *labels)
{
	const struct xlb_vip_cfg *e = xlb_model_vip(&d->effective, &v->key);
	const struct xlb_backend_cfg *eb =
		e ? xlb_vip_backend(e, &b->addr, b->family) : NULL;
	const struct xlb_agent *a = &d->policy->agent[b->id];
	const struct xlb_share *sh = &d->policy->share[b->id];
	double factor = xlb_policy_agent_factor(d->policy, b->id);

	fprintf(f, "xlb_backend_weight_effective{%s} %g\n", labels,
		eb && eb->state == XLB_BACKEND_UP
			? (double)eb->weight / xlb_policy_scale(e)
			: 0.0);
	if (a->enabled) {
		fprintf(f, "xlb_backend_agent_factor{%s} %g\n", labels, factor);
		fprintf(f, "xlb_backend_agent_load{%s} %g\n", labels,
			1 - (double)a->reported_pm / XLB_PM);
		fprintf(f, "xlb_backend_agent_reports_total{%s} %llu\n", labels,
			(unsigned long long)a->reports);
		fprintf(f, "xlb_backend_agent_malformed_total{%s} %llu\n",
			labels, (unsigned long long)a->malformed);
		fprintf(f, "xlb_backend_agent_stale_total{%s} %llu\n", labels,
			(unsigned long long)a->stale);
	}
	if (v->balance) {
		fprintf(f, "xlb_backend_byte_share{%s} %g\n", labels,
			sh->share[XLB_CLASS_BYTES]);
		fprintf(f, "xlb_backend_packet_share{%s} %g\n", labels,
			sh->share[XLB_CLASS_PACKETS]);
		fprintf(f, "xlb_backend_target_share{%s} %g\n", labels,
			sh->target);
		fprintf(f, "xlb_backend_share_correction{%s} %g\n", labels,
			xlb_policy_correction(d->policy, b->id));
	}
}

/* The lines of one backend of v, under the heads of write_backends. */
static void write_backend(FILE *f, struct xlbd *d, const struct xlb_vip_cfg *v,
			  const char *vip, const struct xlb_backend_cfg *b)
{
	const char *lbl = "vip=\"%s\",backend=\"%s\"";
	char addr[XLB_ADDR_STRLEN], labels[160];
	struct xlb_counter c;
	__u64 flows;

	xlb_format_addr(&b->addr, b->family, addr, sizeof(addr));
	snprintf(labels, sizeof(labels), lbl, vip, addr);
	if (xlb_counter_sum(xlb_dp_map_fd(d->dp, XLB_DP_BACKEND_STATS), b->id,
			    &c))
		memset(&c, 0, sizeof(c));
	if (xlb_flows_sum(xlb_dp_map_fd(d->dp, XLB_DP_BACKEND_FLOWS), b->id,
			  &flows))
		flows = 0;
	fprintf(f, "xlb_backend_packets_total{%s} %llu\n", labels,
		(unsigned long long)c.packets);
	fprintf(f, "xlb_backend_bytes_total{%s} %llu\n", labels,
		(unsigned long long)c.bytes);
	fprintf(f, "xlb_backend_new_flows_total{%s} %llu\n", labels,
		(unsigned long long)flows);
	fprintf(f, "xlb_backend_weight{%s} %u\n", labels, b->weight);
	fprintf(f, "xlb_backend_ring_slots{%s} %u\n", labels,
		xlb_dp_slots(d->dp, b->id));
	fprintf(f, "xlb_backend_state{%s,state=\"%s\"} 1\n", labels,
		xlb_state_name(b->state));
	write_health(f, d, v, b, labels);
	write_feedback(f, d, v, b, labels);
}

static void write_feedback_heads(FILE *f)
{
	metric_head(f, "xlb_backend_weight_effective", "gauge",
		    "Weight in the ring, in configured units: configured x "
		    "slow start x agent factor x share correction; 0 when not "
		    "taking new flows.");
	metric_head(f, "xlb_backend_agent_factor", "gauge",
		    "The agent's weight in force, as a ratio (N% / 100); 1 "
		    "when stale.");
	metric_head(f, "xlb_backend_agent_load", "gauge",
		    "Load the agent's last report implies: 1 - N% / 100.");
	metric_head(f, "xlb_backend_agent_reports_total", "counter",
		    "Good agent reports.");
	metric_head(f, "xlb_backend_agent_malformed_total", "counter",
		    "Agent replies refused as malformed.");
	metric_head(f, "xlb_backend_agent_stale_total", "counter",
		    "Times the agent's reports went stale.");
	metric_head(f, "xlb_backend_byte_share", "gauge",
		    "The backend's share of its VIP's bytes, last window.");
	metric_head(f, "xlb_backend_packet_share", "gauge",
		    "The backend's share of its VIP's packets, last window.");
	metric_head(f, "xlb_backend_target_share", "gauge",
		    "The share its weight asks for, last window.");
	metric_head(f, "xlb_backend_share_correction", "gauge",
		    "The share loop's correction in force (1 = none).");
}

static void write_backends(FILE *f, struct xlbd *d)
{
	const struct xlb_model *m = &d->model;
	char vip[XLB_VIP_STRLEN];

	metric_head(f, "xlb_backend_packets_total", "counter",
		    "Packets sent to a backend of a VIP.");
	metric_head(f, "xlb_backend_bytes_total", "counter",
		    "Bytes sent to a backend of a VIP (as received).");
	metric_head(f, "xlb_backend_new_flows_total", "counter",
		    "Flows sent to a backend of a VIP (entries made).");
	metric_head(f, "xlb_backend_weight", "gauge",
		    "Configured weight of a backend in a VIP.");
	metric_head(f, "xlb_backend_ring_slots", "gauge",
		    "Slots of the VIP's table the backend holds.");
	metric_head(f, "xlb_backend_state", "gauge",
		    "1 for the backend's current state (up, drain, down).");
	metric_head(f, "xlb_backend_health", "gauge",
		    "1 for the health its checks give (up, down, unchecked), "
		    "with the reason.");
	metric_head(f, "xlb_backend_check_latency_seconds", "gauge",
		    "Latency of the backend's last check.");
	metric_head(f, "xlb_backend_transitions_total", "counter",
		    "Health changes of the backend since xlbd started.");
	write_feedback_heads(f);
	for (size_t i = 0; i < m->n_vips; i++) {
		const struct xlb_vip_cfg *v = &m->vips[i];

		xlb_format_vip(&v->key, vip, sizeof(vip));
		for (size_t j = 0; j < v->n_backends; j++)
			write_backend(f, d, v, vip, &v->backends[j]);
	}
}

/* One line of the cluster's: a gauge or counter without labels. */
static void write_one(FILE *f, const char *name, const char *type,
		      const char *help, unsigned long long v)
{
	metric_head(f, name, type, help);
	fprintf(f, "%s %llu\n", name, v);
}

/* Announcements and the cluster's view (when either is configured). */
static void write_cluster(FILE *f, struct xlbd *d)
{
	const struct xlbd_cluster_stats *s = &d->cl_stats;
	char a[64];

	write_one(f, "xlb_node_drained", "gauge",
		  "1 while the node is drained (xlb node drain).", d->drained);
	if (d->route) {
		metric_head(f, "xlb_vip_announced", "gauge",
			    "1 while the VIP address is announced (a route "
			    "in the table BIRD learns).");
		for (size_t i = 0; i < d->n_ann; i++)
			fprintf(f, "xlb_vip_announced{addr=\"%s\"} %d\n",
				xlb_format_addr(&d->ann[i].addr,
						d->ann[i].family, a, sizeof(a)),
				d->ann[i].on);
	}
	if (!d->cl)
		return;
	write_one(f, "xlb_cluster_nodes", "gauge",
		  "Members of the cluster this node sees (live leases).",
		  s->members);
	write_one(f, "xlb_cluster_generation", "gauge",
		  "The etcd revision of the newest ring input applied.",
		  s->generation);
	write_one(f, "xlb_cluster_fingerprint_mismatch", "gauge",
		  "VIPs whose ring differs from a member's of the same "
		  "generation.",
		  s->mismatch);
	write_one(f, "xlb_cluster_etcd_up", "gauge",
		  "1 while etcd is reachable (else: this node's own health "
		  "view, edits refused).",
		  s->etcd_up);
	write_one(f, "xlb_cluster_joined", "gauge",
		  "1 once this node's rings matched the others' (it may be "
		  "announced).",
		  s->joined);
	write_one(f, "xlb_cluster_rejected_total", "counter",
		  "Documents in etcd refused whole (unparseable, invalid, "
		  "newer format).",
		  s->rejected);
	write_one(f, "xlb_cluster_resyncs_total", "counter",
		  "Whole-state reads after a gap in the watch.", s->resyncs);
	write_one(f, "xlb_cluster_nodes_lost_total", "counter",
		  "Members whose lease ended (stopped, or 3 missed "
		  "heartbeats).",
		  s->lost);
}

/* Client-NAT pools: ports, sub-pools, refills (nat.c's copy). */
static void write_nat(FILE *f, struct xlbd *d)
{
	const struct xlb_model *m = &d->model;

	if (!m->n_pools)
		return;
	metric_head(f, "xlb_nat_pool_ports", "gauge",
		    "Ports of a pool CPUs may hand out (free) and the rest "
		    "(used: held by connections or draining).");
	metric_head(f, "xlb_nat_subpools", "gauge",
		    "Sub-pools of a pool by state (free, cpu, draining).");
	metric_head(f, "xlb_nat_refills_total", "counter",
		    "Sub-pools handed to a CPU below its threshold.");
	metric_head(f, "xlb_nat_reclaims_total", "counter",
		    "Drained sub-pools taken back whole into their pool.");
	metric_head(f, "xlb_nat_entries", "gauge",
		    "NAT connections of a pool, at the last sweep.");
	metric_head(f, "xlb_nat_refill_latency_seconds", "gauge",
		    "From a CPU's need (event or tick) to its new slot "
		    "written, last refill.");
	for (size_t i = 0; i < m->n_pools; i++) {
		const char *name = m->pools[i].name;
		const struct xlbd_nat_stats *st =
			xlbd_nat_stats(d, m->pools[i].pool_id);

		if (!st)
			continue;
		fprintf(f,
			"xlb_nat_pool_ports{pool=\"%s\",state=\"free\"} "
			"%llu\n",
			name, (unsigned long long)st->ports_free);
		fprintf(f,
			"xlb_nat_pool_ports{pool=\"%s\",state=\"used\"} "
			"%llu\n",
			name, (unsigned long long)st->ports_used);
		for (unsigned int k = 0; k < 3; k++)
			fprintf(f,
				"xlb_nat_subpools{pool=\"%s\",state=\"%s\"} "
				"%llu\n",
				name, xlbd_nat_state_name(k),
				(unsigned long long)st->subpools[k]);
		fprintf(f, "xlb_nat_refills_total{pool=\"%s\"} %llu\n", name,
			(unsigned long long)st->refills);
		fprintf(f, "xlb_nat_reclaims_total{pool=\"%s\"} %llu\n", name,
			(unsigned long long)st->reclaims);
		fprintf(f, "xlb_nat_entries{pool=\"%s\"} %llu\n", name,
			(unsigned long long)st->entries);
		fprintf(f, "xlb_nat_refill_latency_seconds{pool=\"%s\"} %.6f\n",
			name, st->refill_latency_us / 1e6);
	}
}

/*
 * Egress uplinks: state and shares as uplink.c last copied them, bytes,
 * packets and failovers from uplink_load now.
 */
static void write_uplinks(FILE *f, struct xlbd *d)
{
	const struct xlb_model *m = &d->model;
	struct xlb_uplink_load l;

	if (!m->n_uplinks)
		return;
	if (xlb_dp_uplink_load_read(d->dp, &l))
		memset(&l, 0, sizeof(l));
	metric_head(f, "xlb_uplink_up", "gauge",
		    "1 while the uplink takes flows (link, carrier and "
		    "gateway all there).");
	metric_head(f, "xlb_uplink_bytes_total", "counter",
		    "Bytes sent through the uplink (as sent).");
	metric_head(f, "xlb_uplink_packets_total", "counter",
		    "Packets sent through the uplink.");
	metric_head(f, "xlb_uplink_failovers_total", "counter",
		    "Flows moved off the uplink because it was down.");
	metric_head(f, "xlb_uplink_share_target", "gauge",
		    "The uplink's target share of the bytes, 0..1.");
	metric_head(f, "xlb_uplink_share_measured", "gauge",
		    "The uplink's share of the bytes over the last second.");
	for (size_t i = 0; i < m->n_uplinks; i++) {
		const char *name = m->uplinks[i].ifname;
		__u32 id = m->uplinks[i].id;
		const struct xlbd_uplink_stats *st = xlbd_uplink_stats(d, id);

		if (!st)
			continue;
		fprintf(f, "xlb_uplink_up{uplink=\"%s\"} %d\n", name, st->up);
		fprintf(f, "xlb_uplink_bytes_total{uplink=\"%s\"} %llu\n", name,
			(unsigned long long)l.bytes[id]);
		fprintf(f, "xlb_uplink_packets_total{uplink=\"%s\"} %llu\n",
			name, (unsigned long long)l.packets[id]);
		fprintf(f, "xlb_uplink_failovers_total{uplink=\"%s\"} %llu\n",
			name, (unsigned long long)l.failovers[id]);
		fprintf(f, "xlb_uplink_share_target{uplink=\"%s\"} %g\n", name,
			st->share_target);
		fprintf(f, "xlb_uplink_share_measured{uplink=\"%s\"} %g\n",
			name, st->share_measured);
	}
	metric_head(f, "xlb_uplink_failover_seconds", "gauge",
		    "From the netlink event that took an uplink down to "
		    "uplink_set written, last failover.");
	fprintf(f, "xlb_uplink_failover_seconds %.6f\n",
		xlbd_uplink_failover_us(d) / 1e6);
}

/* The whole page, in a malloc'ed buffer. */
static char *render(struct xlbd *d, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	pthread_mutex_lock(&d->lock);
	metric_head(f, "xlb_up", "gauge", "1 while xlbd serves.");
	fprintf(f, "xlb_up 1\n");
	metric_head(f, "xlb_start_time_seconds", "gauge",
		    "When xlbd started, Unix time.");
	fprintf(f, "xlb_start_time_seconds %lld\n", (long long)d->started);
	metric_head(f, "xlb_vips", "gauge", "VIPs configured.");
	fprintf(f, "xlb_vips %zu\n", d->model.n_vips);
	metric_head(f, "xlb_health_events_total", "counter",
		    "Backend health changes and flapping holds, each logged.");
	fprintf(f, "xlb_health_events_total %llu\n",
		(unsigned long long)d->health_events);
	metric_head(f, "xlb_state_unsaved", "gauge",
		    "1 while the live state is not in the state file.");
	fprintf(f, "xlb_state_unsaved %d\n", d->unsaved ? 1 : 0);
	write_counters(f, d);
	write_cluster(f, d);
	write_vips(f, d);
	write_backends(f, d);
	write_nat(f, d);
	write_uplinks(f, d);
	pthread_mutex_unlock(&d->lock);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	static const char not_found[] = "not found: try /metrics\n";
	struct MHD_Response *resp;
	struct xlbd *d = cls;
	enum MHD_Result ret;
	unsigned int status = MHD_HTTP_OK;
	size_t len = 0;
	char *body;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return MHD_NO;
	if (strcmp(url, "/metrics")) {
		status = MHD_HTTP_NOT_FOUND;
		resp = MHD_create_response_from_buffer(sizeof(not_found) - 1,
						       (void *)not_found,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		body = render(d, &len);
		if (!body)
			return MHD_NO;
		resp = MHD_create_response_from_buffer(len, body,
						       MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, "Content-Type",
					"text/plain; version=0.0.4");
	}
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* "127.0.0.1:9120" or "[::1]:9120" into a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss,
			struct xlb_err *err)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[64];
	const char *colon = strrchr(s, ':');
	unsigned long port;
	size_t hlen;

	if (!colon || colon == s)
		goto bad;
	hlen = colon - s;
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']')
			goto bad;
		s++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (xlb_parse_uint(colon + 1, 1, 65535, &port, err))
		goto bad;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return 0;
	}
bad:
	xlb_err_set(err,
		    "--metrics: expected ADDR:PORT or [ADDR6]:PORT, not '%s'",
		    s);
	return -EINVAL;
}

int xlbd_metrics_parse(struct xlbd *d, struct xlb_err *err)
{
	return parse_listen(d->metrics_addr, &d->metrics_ss, err);
}

int xlbd_metrics_bind(struct xlbd *d, struct xlb_err *err)
{
	socklen_t len = d->metrics_ss.ss_family == AF_INET6
				? sizeof(struct sockaddr_in6)
				: sizeof(struct sockaddr_in);
	int one = 1, fd, ret;

	fd = socket(d->metrics_ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&d->metrics_ss, len) ||
	    listen(fd, 64)) {
		ret = -errno;
		close(fd);
		goto err;
	}
	d->metrics_fd = fd;
	return 0;
err:
	xlb_err_set(err, "--metrics %s: %s", d->metrics_addr, strerror(-ret));
	return ret;
}

int xlbd_metrics_start(struct xlbd *d, struct xlb_err *err)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD;

	if (d->metrics_ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The socket bound at start: the port is ours since then. */
	d->httpd = MHD_start_daemon(flags, 0, NULL, NULL, answer, d,
				    MHD_OPTION_LISTEN_SOCKET, d->metrics_fd,
				    MHD_OPTION_CONNECTION_TIMEOUT, 10U,
				    MHD_OPTION_END);
	if (!d->httpd) {
		xlb_err_set(err, "cannot serve metrics on %s", d->metrics_addr);
		return -EIO;
	}
	d->metrics_fd = -1; /* MHD closes it */
	xlb_log(LOG_NOTICE, "metrics on http://%s/metrics", d->metrics_addr);
	return 0;
}

void xlbd_metrics_stop(struct xlbd *d)
{
	if (d->httpd)
		MHD_stop_daemon(d->httpd);
	d->httpd = NULL;
}
