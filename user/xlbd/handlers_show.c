// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The control requests that read: status, the lists and shows, the ring,
 * the dump, and the JSON they answer with.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "ctl.h"
#include "handlers.h"
#include "nat.h"
#include "uplink.h"

static json_t *vip_json(struct xlbd *d, const struct xlb_vip_cfg *v)
{
	json_t *j = xlb_vip_to_json(v, true);
	char fp[32];

	snprintf(fp, sizeof(fp), "%016" PRIx64,
		 (uint64_t)xlb_dp_fingerprint(d->dp, v->vip_id));
	json_object_set_new(j, "fingerprint", json_string(fp));
	return j;
}

json_t *do_status(struct xlbd *d, const json_t *args)
{
	char mac[32];
	size_t nb = 0;
	const __u8 *m = xlb_dp_gw_mac(d->dp);
	json_t *j;

	(void)args;
	for (size_t i = 0; i < d->model.n_vips; i++)
		nb += d->model.vips[i].n_backends;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	j = json_pack("{s:s, s:s, s:i, s:s, s:I, s:s, s:s, s:s, s:s, s:I, "
		      "s:I, s:I, s:b, s:b, s:b, s:s}",
		      "version", XLB_VERSION, "interface", d->ifname, "ifindex",
		      xlb_dp_ifindex(d->dp), "xdp_mode", xlb_dp_xdp_mode(d->dp),
		      "prog_id", (json_int_t)xlb_dp_prog_id(d->dp), "pin_dir",
		      xlb_dp_pin_dir(d->dp), "state_file", d->state_path,
		      "socket", d->socket_path, "gateway_mac", mac, "vips",
		      (json_int_t)d->model.n_vips, "backends", (json_int_t)nb,
		      "uptime_s", (json_int_t)(time(NULL) - d->started),
		      "adopted", xlb_dp_adopted(d->dp), "unsaved", d->unsaved,
		      "drained", d->drained, "cluster",
		      !d->cl			 ? "off"
		      : xlbd_cluster_in_force(d) ? "cluster"
						 : "own-view");
	if (d->route) {
		json_object_set_new(j, "route_table",
				    json_integer(d->route_table));
		json_object_set_new(j, "announce", xlbd_announce_status(d));
	}
	return xlb_ctl_ok(j);
}

json_t *do_vip_list(struct xlbd *d, const json_t *args)
{
	json_t *list = json_array();

	(void)args;
	for (size_t i = 0; i < d->model.n_vips; i++)
		json_array_append_new(list, vip_json(d, &d->model.vips[i]));
	return xlb_ctl_ok(json_pack("{s:o}", "vips", list));
}

/* The VIP named by args, or NULL with err set. */
static const struct xlb_vip_cfg *find_vip(struct xlbd *d, const json_t *args,
					  struct xlb_err *err, int *ret)
{
	struct xlb_vip_key key;
	const struct xlb_vip_cfg *v;

	*ret = arg_vip(args, &key, err);
	if (*ret)
		return NULL;
	v = xlb_model_vip_get(&d->model, &key, err);
	if (!v)
		*ret = -ENOENT;
	return v;
}

/* An optional "vip" argument: *only is NULL when it is absent. */
static int optional_vip(struct xlbd *d, const json_t *args,
			const struct xlb_vip_cfg **only, struct xlb_err *err)
{
	int ret = 0;

	*only = NULL;
	if (json_object_get(args, "vip"))
		*only = find_vip(d, args, err, &ret);
	return ret;
}

/*
 * The answer {key: [...]} of a list over the VIPs a request selects: the
 * one its optional "vip" names, else all; add appends a VIP's entries.
 */
static json_t *list_vips(struct xlbd *d, const json_t *args, const char *key,
			 void (*add)(struct xlbd *d,
				     const struct xlb_vip_cfg *v, json_t *list))
{
	struct xlb_err err = {{0}};
	const struct xlb_vip_cfg *only = NULL;
	json_t *list;
	int ret = optional_vip(d, args, &only, &err);

	if (ret)
		return op_fail(ret, &err);
	list = json_array();
	for (size_t i = 0; i < d->model.n_vips; i++) {
		const struct xlb_vip_cfg *v = &d->model.vips[i];

		if (!only || only == v)
			add(d, v, list);
	}
	return xlb_ctl_ok(json_pack("{s:o}", key, list));
}

json_t *do_vip_show(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	const struct xlb_vip_cfg *v;
	int ret;

	v = find_vip(d, args, &err, &ret);
	return v ? xlb_ctl_ok(vip_json(d, v)) : op_fail(ret, &err);
}

/* The weight a backend has in the maps now (slow start, health). */
static double effective_weight(struct xlbd *d, const struct xlb_vip_cfg *v,
			       const struct xlb_backend_cfg *b)
{
	const struct xlb_vip_cfg *e = xlb_model_vip(&d->effective, &v->key);
	const struct xlb_backend_cfg *eb =
		e ? xlb_vip_backend(e, &b->addr, b->family) : NULL;

	if (!eb || eb->state != XLB_BACKEND_UP)
		return 0;
	/* Held in tenths (slow start) or permille (feedback) of a unit. */
	return (double)eb->weight / xlb_policy_scale(e);
}

/* A whole number as an integer, anything else as a real. */
static json_t *number_json(double x)
{
	json_int_t i = (json_int_t)x;

	return (double)i == x ? json_integer(i) : json_real(x);
}

/*
 * The weight's factors, each with why: the agent's (HAProxy's N% as a
 * ratio) and the share loop's correction, with the counts an operator
 * asks about when a factor looks wrong.
 */
static void feedback_json(struct xlbd *d, const struct xlb_vip_cfg *v,
			  const struct xlb_backend_cfg *b, __u64 now, json_t *j)
{
	const struct xlb_agent *a = &d->policy->agent[b->id];
	const struct xlb_share *sh = &d->policy->share[b->id];
	char buf[256];

	json_object_set_new(
		j, "agent_factor",
		number_json(xlb_policy_agent_factor(d->policy, b->id)));
	json_object_set_new(j, "agent_reason",
			    json_string(xlb_policy_agent_reason(
				    d->policy, v, b, now, buf, sizeof(buf))));
	json_object_set_new(
		j, "correction",
		number_json(xlb_policy_correction(d->policy, b->id)));
	json_object_set_new(j, "correction_reason",
			    json_string(xlb_policy_balance_reason(
				    d->policy, v, b, buf, sizeof(buf))));
	if (a->enabled) {
		json_object_set_new(j, "agent_reported_percent",
				    json_integer(a->reported_pm / 10));
		json_object_set_new(j, "agent_reports",
				    json_integer((json_int_t)a->reports));
		json_object_set_new(j, "agent_malformed",
				    json_integer((json_int_t)a->malformed));
		json_object_set_new(j, "agent_failed",
				    json_integer((json_int_t)a->failed));
		json_object_set_new(j, "agent_stale",
				    json_integer((json_int_t)a->stale));
	}
	if (v->balance) {
		json_object_set_new(j, "byte_share",
				    json_real(sh->share[XLB_CLASS_BYTES]));
		json_object_set_new(j, "packet_share",
				    json_real(sh->share[XLB_CLASS_PACKETS]));
		json_object_set_new(j, "target_share", json_real(sh->target));
	}
}

static json_t *backend_json(struct xlbd *d, const struct xlb_vip_cfg *v,
			    const struct xlb_backend_cfg *b)
{
	const struct xlb_health *h = &d->policy->h[b->id];
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];
	__u64 now = xlb_now_ms();
	json_t *j;

	j = json_pack("{s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:o, s:I}", "vip",
		      xlb_format_vip(&v->key, vip, sizeof(vip)), "addr",
		      xlb_format_addr(&b->addr, b->family, addr, sizeof(addr)),
		      "weight", (json_int_t)b->weight, "state",
		      xlb_state_name(b->state), "id", (json_int_t)b->id,
		      "health", xlb_policy_health_name(h), "reason",
		      xlb_policy_reason(d->policy, v, b, now),
		      "effective_weight",
		      number_json(effective_weight(d, v, b)), "transitions",
		      (json_int_t)h->transitions);
	if (h->checked && h->last_detail[0]) {
		json_object_set_new(j, "check_result",
				    json_string(h->last_detail));
		json_object_set_new(j, "check_ms",
				    json_real(h->last_latency_us / 1000.0));
	}
	if (h->changed_ms)
		json_object_set_new(
			j, "since_s",
			json_integer(
				(json_int_t)((now - h->changed_ms) / 1000)));
	feedback_json(d, v, b, now, j);
	return j;
}

static void add_backends(struct xlbd *d, const struct xlb_vip_cfg *v,
			 json_t *list)
{
	for (size_t j = 0; j < v->n_backends; j++)
		json_array_append_new(list,
				      backend_json(d, v, &v->backends[j]));
}

json_t *do_backend_list(struct xlbd *d, const json_t *args)
{
	return list_vips(d, args, "backends", add_backends);
}

json_t *do_ring_show(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	const struct xlb_vip_cfg *v;
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN], fp[32];
	json_t *list;
	int ret;

	v = find_vip(d, args, &err, &ret);
	if (!v)
		return op_fail(ret, &err);
	list = json_array();
	for (size_t j = 0; j < v->n_backends; j++) {
		const struct xlb_backend_cfg *b = &v->backends[j];
		__u32 slots = xlb_dp_slots(d->dp, b->id);

		json_array_append_new(
			list,
			json_pack("{s:s, s:I, s:s, s:I, s:f}", "addr",
				  xlb_format_addr(&b->addr, b->family, addr,
						  sizeof(addr)),
				  "weight", (json_int_t)b->weight, "state",
				  xlb_state_name(b->state), "slots",
				  (json_int_t)slots, "share_percent",
				  100.0 * slots / v->ring_size));
	}
	snprintf(fp, sizeof(fp), "%016" PRIx64,
		 (uint64_t)xlb_dp_fingerprint(d->dp, v->vip_id));
	return xlb_ctl_ok(json_pack("{s:s, s:I, s:s, s:o}", "vip",
				    xlb_format_vip(&v->key, vip, sizeof(vip)),
				    "ring_size", (json_int_t)v->ring_size,
				    "fingerprint", fp, "backends", list));
}

/* {"vip", "backend" (its own check only), then the check's fields}. */
static json_t *check_json(const struct xlb_vip_cfg *v,
			  const struct xlb_backend_cfg *b,
			  const struct xlb_check_cfg *check)
{
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];
	json_t *j, *c;

	j = json_pack("{s:s}", "vip",
		      xlb_format_vip(&v->key, vip, sizeof(vip)));
	if (j && b)
		json_object_set_new(
			j, "backend",
			json_string(xlb_format_addr(&b->addr, b->family, addr,
						    sizeof(addr))));
	c = xlb_check_encode(check);
	if (!j || !c || json_object_update(j, c)) {
		json_decref(j);
		j = NULL;
	}
	json_decref(c);
	return j;
}

static void add_checks(struct xlbd *d, const struct xlb_vip_cfg *v,
		       json_t *list)
{
	(void)d;
	/* Every VIP, also without a check: "none" is an answer. */
	json_array_append_new(list, check_json(v, NULL, &v->check));
	if (v->agent.kind != XLB_CHECK_NONE)
		json_array_append_new(list, check_json(v, NULL, &v->agent));
	for (size_t j = 0; j < v->n_backends; j++)
		if (v->backends[j].check)
			json_array_append_new(list,
					      check_json(v, &v->backends[j],
							 v->backends[j].check));
}

json_t *do_check_show(struct xlbd *d, const json_t *args)
{
	return list_vips(d, args, "checks", add_checks);
}

json_t *do_config_dump(struct xlbd *d, const json_t *args)
{
	(void)args;
	return xlb_ctl_ok(xlb_model_to_json(&d->model, false));
}

json_t *do_cluster_status(struct xlbd *d, const json_t *args)
{
	(void)args;
	return xlb_ctl_ok(xlbd_cluster_status(d));
}

/* A pool as in the state file, and what the allocator says of it now. */
static json_t *pool_json(struct xlbd *d, const struct xlb_pool_cfg *p)
{
	json_t *j = xlb_pool_to_json(p, true);

	if (j && xlbd_nat_pool_json(d, p, j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *do_pool_list(struct xlbd *d, const json_t *args)
{
	json_t *list = json_array();

	(void)args;
	for (size_t i = 0; list && i < d->model.n_pools; i++) {
		if (json_array_append_new(list,
					  pool_json(d, &d->model.pools[i]))) {
			json_decref(list);
			list = NULL;
		}
	}
	if (!list)
		return xlb_ctl_error(-ENOMEM, "out of memory");
	return xlb_ctl_ok(json_pack("{s:o}", "pools", list));
}

json_t *do_pool_show(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	const struct xlb_pool_cfg *p;
	const char *name;
	json_t *j;
	int ret = arg_str(args, "name", true, &name, &err);

	if (ret)
		return op_fail(ret, &err);
	p = xlb_model_pool_get(&d->model, name, &err);
	if (!p)
		return op_fail(-ENOENT, &err);
	j = pool_json(d, p);
	return j ? xlb_ctl_ok(j) : xlb_ctl_error(-ENOMEM, "out of memory");
}

/* An uplink as in the state file, and what xlbd and the maps say now. */
static json_t *uplink_json(struct xlbd *d, const struct xlb_uplink_cfg *u)
{
	json_t *j = xlb_uplink_to_json(u, true);

	if (j && xlbd_uplink_json(d, u, j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *do_uplink_list(struct xlbd *d, const json_t *args)
{
	json_t *list = json_array();

	(void)args;
	for (size_t i = 0; list && i < d->model.n_uplinks; i++) {
		if (json_array_append_new(
			    list, uplink_json(d, &d->model.uplinks[i]))) {
			json_decref(list);
			list = NULL;
		}
	}
	if (!list)
		return xlb_ctl_error(-ENOMEM, "out of memory");
	return xlb_ctl_ok(json_pack("{s:o}", "uplinks", list));
}

json_t *do_uplink_show(struct xlbd *d, const json_t *args)
{
	struct xlb_err err = {{0}};
	const struct xlb_uplink_cfg *u;
	const char *ifname;
	json_t *j;
	int ret = arg_str(args, "interface", true, &ifname, &err);

	if (ret)
		return op_fail(ret, &err);
	u = xlb_model_uplink_get(&d->model, ifname, &err);
	if (!u)
		return op_fail(-ENOENT, &err);
	j = uplink_json(d, u);
	return j ? xlb_ctl_ok(j) : xlb_ctl_error(-ENOMEM, "out of memory");
}
