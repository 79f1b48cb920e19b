// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlbd: the controller. It loads (or adopts) the balancer, restores the
 * desired state, and then serves control requests from one event loop
 * until SIGTERM or SIGINT, after which the program stays attached and the
 * maps stay pinned (unless --detach-on-exit), so traffic never notices a
 * restart of the daemon. This file is the wiring: the options
 * (options.c), what can fail before the NIC is touched, the attach, the
 * restore, then the loop (loop.c).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "ctl.h"
#include "hc_tc.h"
#include "journal.h"
#include "xlbd.h"

/*
 * Without a journal every change writes the whole state file, as the
 * restore does: slower, not less safe.
 */
static void open_journal(struct xlbd *d, off_t valid, __u64 seq)
{
	struct xlb_err err = {{0}};

	/* Saves without a journal still name the last record replayed. */
	d->journal_seq = seq;
	if (xlb_journal_open(d->journal_path, valid, seq, &d->journal, &err))
		xlb_log(LOG_ERR, "%s: every change writes the whole state file",
			err.msg);
}

/*
 * The journal's records after the state file's journal_seq onto m, and
 * the journal opened to append after them. Damage stops us (the state
 * file and the journal stay as they are, nothing that was saved lost).
 */
static int replay_journal(struct xlbd *d, struct xlb_model *m, __u64 seq,
			  struct xlb_err *err)
{
	struct xlb_journal_replay r;
	char why[sizeof(err->msg)];
	int ret;

	ret = xlb_journal_replay(d->journal_path, m, seq, &r, err);
	if (ret) {
		snprintf(why, sizeof(why), "%s", err->msg);
		xlb_err_set(err,
			    "%s (the state file %s is intact: move %s away "
			    "to start from it alone)",
			    why, d->state_path, d->journal_path);
		return ret;
	}
	if (r.torn)
		xlb_log(LOG_WARNING,
			"ignoring the torn last record of %s (%s): an append "
			"a crash cut short, never acknowledged",
			d->journal_path, r.torn_why);
	if (r.applied || r.skipped)
		xlb_log(LOG_NOTICE,
			"replayed %zu records of %s up to %llu (%zu the state "
			"file held already)",
			r.applied, d->journal_path, (unsigned long long)r.seq,
			r.skipped);
	open_journal(d, r.valid, r.seq);
	return 0;
}

/*
 * Desired state at start: the state file and its journal, else --config,
 * else empty.
 */
static int load_initial(struct xlbd *d, const char *config_path,
			struct xlb_model *m, struct xlb_err *err)
{
	__u64 seq;
	int ret = xlb_state_load(d->state_path, m, &seq, err);

	if (!ret) {
		xlb_log(LOG_NOTICE, "restored %zu VIPs from %s", m->n_vips,
			d->state_path);
		if (config_path)
			xlb_log(LOG_NOTICE,
				"ignoring --config %s: the state file %s "
				"exists and holds the operator's changes "
				"('xlb config apply %s' replaces them)",
				config_path, d->state_path, config_path);
		return replay_journal(d, m, seq, err);
	}
	if (ret != -ENOENT) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		xlb_err_set(err,
			    "state file %s is unusable: %s (fix it, or move it "
			    "away to start from --config)",
			    d->state_path, why);
		return ret;
	}
	/* Records of a state file that is gone describe nothing. */
	if (!access(d->journal_path, F_OK))
		xlb_log(LOG_NOTICE, "no state file: emptying %s",
			d->journal_path);
	open_journal(d, 0, 0);
	if (!config_path) {
		xlb_model_init(m);
		return 0;
	}
	ret = xlb_model_load(config_path, m, err);
	if (ret == -ENOENT)
		xlb_err_set(err, "config file %s does not exist", config_path);
	if (!ret)
		xlb_log(LOG_NOTICE, "loaded %zu VIPs from %s", m->n_vips,
			config_path);
	return ret;
}

/*
 * Everything that can fail before the NIC is touched: the locks, the
 * state directory, the metrics port, the gateway, the state.
 */
static int prepare(struct xlbd *d, struct xlbd_opts *o,
		   struct xlb_model *initial, struct xlb_err *err)
{
	char gw[64];
	int ret;

	ret = xlbd_lock(d, d->ifindex, o->dpo.pin_dir, o->state_dir, err);
	if (ret)
		return ret;
	snprintf(d->state_path, sizeof(d->state_path), "%s/state.json",
		 o->state_dir);
	snprintf(d->journal_path, sizeof(d->journal_path), "%s/state.journal",
		 o->state_dir);
	if (mkdir(o->state_dir, 0700) && errno != EEXIST) {
		ret = -errno;
		xlb_err_set(err, "cannot create %s: %s", o->state_dir,
			    strerror(-ret));
		return ret;
	}
	if (d->metrics_addr) {
		ret = xlbd_metrics_bind(d, err);
		if (ret)
			return ret;
	}
	if (!o->gw_given) {
		const __u8 *m = o->dpo.gw_mac;

		ret = xlbd_gateway_mac(d->ifname, o->dpo.gw_mac, gw, sizeof(gw),
				       err);
		if (ret)
			return ret;
		xlb_log(LOG_NOTICE,
			"gateway %s is %02x:%02x:%02x:%02x:%02x:%02x", gw, m[0],
			m[1], m[2], m[3], m[4], m[5]);
	}
	/* A bad state file stops us with everything running as it was. */
	return load_initial(d, o->config, initial, err);
}

/* Loads or adopts the balancer and its TC program for the checks. */
static int attach(struct xlbd *d, struct xlbd_opts *o, struct xlb_err *err)
{
	int ret;

	d->dp = xlb_dp_new();
	if (!d->dp) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	ret = xlb_dp_open(d->dp, &o->dpo, err);
	if (ret) {
		xlb_dp_free(d->dp);
		d->dp = NULL;
		return ret;
	}
	if (xlb_dp_adopted(d->dp))
		xlb_log(LOG_NOTICE,
			"adopted the running balancer (prog id %u) on %s, "
			"maps at %s",
			xlb_dp_prog_id(d->dp), d->ifname,
			xlb_dp_pin_dir(d->dp));
	else
		xlb_log(LOG_NOTICE,
			"attached the balancer (prog id %u) to %s in %s mode, "
			"maps at %s",
			xlb_dp_prog_id(d->dp), d->ifname,
			xlb_xdp_mode_name(o->dpo.mode), xlb_dp_pin_dir(d->dp));
	/* Checks through the tunnel: TC egress encapsulates marked sockets. */
	return xlb_hc_tc_attach(xlb_dp_ifindex(d->dp),
				xlb_dp_map_fd(d->dp, XLB_DP_BACKENDS),
				xlb_dp_map_fd(d->dp, XLB_DP_CONFIG),
				xlb_dp_pin_dir(d->dp), &d->hc_tc, err);
}

/* The restored state into the maps, then the control socket. */
static int serve_setup(struct xlbd *d, struct xlbd_opts *o,
		       struct xlb_model *initial, struct xlb_err *err)
{
	int ret;

	/* Before the restore's commit: it announces what it may (a cluster
	 * member nothing until it has joined), withdrawing what an earlier
	 * run left. */
	ret = xlbd_announce_open(d, err);
	if (!ret)
		ret = xlbd_cluster_start(d, &o->clo, err);
	if (ret)
		return ret;
	/* The maps may already say all this: rewriting is harmless, and
	 * restored backends keep serving until their checks say otherwise. */
	d->restoring = true;
	xlb_dp_restart_down(d->dp, initial, d->policy->start_down);
	ret = xlbd_commit(d, initial, err);
	xlb_model_init(initial); /* consumed by the commit */
	d->restoring = false;
	memset(d->policy->start_down, 0, sizeof(d->policy->start_down));
	if (!ret)
		ret = xlb_dp_reconcile(d->dp, &d->effective, err);
	if (ret) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		xlb_err_set(err, "restoring the state: %s", why);
		return ret;
	}
	d->lfd = xlb_ctl_listen(d->socket_path, o->mode, err);
	if (d->lfd < 0)
		return d->lfd;
	ret = xlbd_ctl_start(d, d->lfd, err);
	if (!ret && d->metrics_addr)
		ret = xlbd_metrics_start(d, err);
	return ret;
}

int main(int argc, char **argv)
{
	struct xlbd_opts o;
	struct xlb_err err = {{0}};
	struct xlb_model initial;
	struct xlbd d = {
		.epfd = -1,
		.lfd = -1,
		.sfd = -1,
		.tick_fd = -1,
		.fb_fd = -1,
		.compact_fd = -1,
		.metrics_fd = -1,
		.if_lock_fd = -1,
		.pin_lock_fd = -1,
	};
	int ret;

	xlb_log_init("xlbd", 0);
	ret = xlbd_opts_parse(argc, argv, &d, &o);
	if (ret)
		return ret > 0 ? 0 : 2;
	xlb_log_init("xlbd", o.verbosity);
	/*
	 * Every edit copies the model (the request's candidate, the
	 * policy's effective one) and frees the one it replaces: half a
	 * megabyte at 100 VIPs x 100 backends. glibc gave it back to the
	 * kernel on each free (the heap's top above 128 KiB) and faulted
	 * it in again on the next copy: 2.5 ms of a copy and free, 0.1 ms
	 * with the heap kept.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	pthread_mutex_init(&d.lock, NULL);
	d.started = time(NULL);
	xlb_model_init(&d.model);
	xlb_model_init(&d.effective);
	xlb_model_init(&initial);

	ret = prepare(&d, &o, &initial, &err);
	if (ret) {
		xlb_log(LOG_ERR, "%s", err.msg);
		goto out_prepared;
	}
	ret = attach(&d, &o, &err);
	if (!ret) {
		ret = xlbd_loop_init(&d);
		if (ret)
			xlb_err_set(&err, "event loop: %s", strerror(-ret));
	}
	if (!ret)
		ret = serve_setup(&d, &o, &initial, &err);
	if (ret) {
		xlb_log(LOG_ERR, "%s", err.msg);
		goto out;
	}
	xlb_log(LOG_NOTICE, "serving %zu VIPs; control socket %s",
		d.model.n_vips, d.socket_path);
	/* Attached, state applied, socket listening: systemd may start
	 * what is ordered after us. */
	xlbd_notify_ready(&d);
	ret = xlbd_loop_run(&d);
	/* A clean stop leaves everything in the state file. */
	xlbd_compact(&d, "stopping");

out:
	/* Withdrawn first: the router moves flows to the other nodes while
	 * this one still serves them. */
	xlbd_announce_stop(&d);
	xlbd_cluster_stop(&d);
	xlbd_metrics_stop(&d);
	xlbd_ctl_stop(&d);
	if (d.lfd >= 0) {
		close(d.lfd);
		unlink(d.socket_path);
	}
	xlbd_loop_free(&d);
	if (d.detach_on_exit)
		xlb_log(LOG_NOTICE, "detaching from %s and unpinning maps",
			d.ifname);
	xlb_hc_tc_detach(d.hc_tc, d.detach_on_exit);
	if (d.dp)
		xlb_dp_close(d.dp, d.detach_on_exit);
	xlb_dp_free(d.dp);
out_prepared:
	if (d.metrics_fd >= 0)
		close(d.metrics_fd);
	xlb_journal_close(d.journal);
	xlb_model_free(&initial);
	xlb_model_free(&d.model);
	xlb_model_free(&d.effective);
	xlbd_unlock(&d);
	return ret ? 1 : 0;
}
