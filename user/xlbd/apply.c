// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Getting the desired model into the maps. xlbd keeps two models: the
 * operator's (desired, saved in the state file) and the one the maps hold
 * (effective: desired as the weight policy adjusts it for health, slow
 * start and flapping). A change of either goes through here.
 */
#include <errno.h>
#include <string.h>
#include "config.h"
#include "journal.h"
#include "nat.h"
#include "uplink.h"
#include "xlbd.h"

/*
 * Puts eff into the maps (given they hold d->effective) and keeps it.
 * gate: what must be over before packets see any of it (a save).
 */
static int apply_effective(struct xlbd *d, struct xlb_model *eff,
			   int (*gate)(void *ctx, struct xlb_err *err),
			   struct xlb_err *err)
{
	struct xlb_err undo_err = {{0}};
	int ret;

	ret = xlb_dp_apply_gated(d->dp, &d->effective, eff, gate, d, err);
	if (!ret)
		ret = xlbd_nat_apply(d, &d->effective, eff, err);
	if (!ret)
		ret = xlbd_uplink_apply(d, &d->effective, eff, err);
	if (ret) {
		/* Put back what the maps said before the partial write. */
		xlb_dp_apply(d->dp, eff, &d->effective, &undo_err);
		xlbd_nat_apply(d, eff, &d->effective, &undo_err);
		xlbd_uplink_apply(d, eff, &d->effective, &undo_err);
		if (undo_err.msg[0])
			xlb_log(LOG_ERR,
				"maps may be inconsistent after a failed "
				"change: %s",
				undo_err.msg);
		xlb_model_free(eff);
		return ret;
	}
	xlb_model_free(&d->effective);
	d->effective = *eff;
	return 0;
}

/* When the policy's next step is due: the loop's timer fires then. */
static void set_deadline(struct xlbd *d)
{
	__u64 next = xlb_policy_next_change(d->policy, &d->model, xlb_now_ms());

	d->tick_due_ms = next ? next + 1 : 0;
}

/* What follows a change of the maps: announcements, the cluster's view
 * of this node. */
static void settled(struct xlbd *d)
{
	xlbd_announce_sync(d);
	xlbd_cluster_after_apply(d);
}

int xlbd_refresh(struct xlbd *d, struct xlb_err *err)
{
	struct xlb_model eff;
	int ret;

	pthread_mutex_lock(&d->lock);
	ret = xlbd_effective(d, &d->model, xlb_now_ms(), &eff);
	if (!ret && xlb_model_equal(&eff, &d->effective, true))
		xlb_model_free(&eff);
	else if (!ret)
		ret = apply_effective(d, &eff, NULL, err);
	pthread_mutex_unlock(&d->lock);
	set_deadline(d);
	settled(d);
	return ret;
}

/*
 * A change is durable before the maps take it, so a full or read-only
 * state directory refuses it with nothing changed: a live change a
 * restart would revert is never made. It is one record appended to the
 * journal and synced (journal.h), whose cost is the change's; the whole
 * state file is written only by a compaction (xlbd_compact), at start,
 * and while the state is unsaved or the journal broken. Only the final
 * rename of such a full save can fail after the maps took the change;
 * then the change stays live and xlbd says it is unsaved (status,
 * metrics, log) until a save succeeds. A restart's restore, which changes
 * nothing the operator asked, goes on unsaved rather than leave the
 * balancer unmanaged.
 */
static bool full_save(const struct xlbd *d)
{
	return d->restoring || d->unsaved || !d->journal ||
	       xlb_journal_broken(d->journal);
}

/* The last record a full save includes. */
static __u64 journal_seq(const struct xlbd *d)
{
	return d->journal ? xlb_journal_seq(d->journal) : d->journal_seq;
}

static int save_begin(struct xlbd *d, const struct xlb_model *next, char **tmp,
		      struct xlb_err *err)
{
	char why[sizeof(err->msg)];
	int ret;

	*tmp = NULL;
	if (full_save(d))
		ret = xlb_state_save_begin(d->state_path, next, journal_seq(d),
					   tmp, err);
	else
		ret = xlb_journal_append_start(d->journal, &d->model, next,
					       err);
	if (!ret)
		return 0;
	snprintf(why, sizeof(why), "%s", err->msg);
	if (d->restoring) {
		xlb_log(LOG_ERR, "the restored state is unsaved: %s", why);
		d->unsaved = true;
		*tmp = NULL;
		return 0;
	}
	xlb_err_set(err, "nothing changed: cannot save the state: %s", why);
	return ret;
}

/*
 * The journal record's sync, which ran while the rings were built: the
 * data plane's gate (xlb_dp_apply_gated). Nothing is visible before it.
 */
static int save_gate(void *ctx, struct xlb_err *err)
{
	struct xlbd *d = ctx;
	char why[sizeof(err->msg)];
	__u64 t0 = xlb_now_ns();
	int ret;

	if (full_save(d))
		return 0;
	ret = xlb_journal_append_finish(d->journal, err);
	d->save_wait_ns = xlb_now_ns() - t0;
	if (!ret)
		return 0;
	snprintf(why, sizeof(why), "%s", err->msg);
	xlb_err_set(err, "nothing changed: cannot save the state: %s", why);
	return ret;
}

/* A full save now holds every record: the journal starts afresh. */
static void journal_reset(struct xlbd *d)
{
	struct xlb_err err = {{0}};

	if (d->journal && xlb_journal_reset(d->journal, &err))
		xlb_log(LOG_ERR, "%s (its records are in the state file)",
			err.msg);
}

/* The change was not made: its save is taken back. */
static void save_abort(struct xlbd *d, char *tmp)
{
	struct xlb_err err = {{0}};

	if (tmp) {
		xlb_model_save_end(d->state_path, tmp, false, NULL);
		return;
	}
	if (full_save(d) || !xlb_journal_undo(d->journal, &err))
		return;
	/* A restart would make the refused change: the disk is wrong. */
	d->unsaved = true;
	xlb_log(LOG_ERR, "the state on disk holds a refused change: %s",
		err.msg);
}

static void save_end(struct xlbd *d, char *tmp)
{
	struct xlb_err err = {{0}};

	if (!tmp) {
		d->journal_last_ms = xlb_now_ms();
		return;
	}
	if (xlb_model_save_end(d->state_path, tmp, true, &err)) {
		d->unsaved = true;
		xlb_log(LOG_ERR, "the change is live but unsaved: %s", err.msg);
		return;
	}
	journal_reset(d);
	if (d->unsaved)
		xlb_log(LOG_NOTICE, "the state is saved again in %s",
			d->state_path);
	d->unsaved = false;
}

void xlbd_compact(struct xlbd *d, const char *why)
{
	struct xlb_err err = {{0}};
	__u64 t0 = xlb_now_ns();
	size_t records;
	char *tmp;

	if (!d->journal || !xlb_journal_records(d->journal) || d->unsaved)
		return;
	records = xlb_journal_records(d->journal);
	if (xlb_state_save_begin(d->state_path, &d->model, journal_seq(d), &tmp,
				 &err) ||
	    xlb_model_save_end(d->state_path, tmp, true, &err)) {
		/* Nothing lost: the journal still holds every record. */
		xlb_log(LOG_ERR, "compacting the journal (%s): %s", why,
			err.msg);
		return;
	}
	journal_reset(d);
	xlb_log(LOG_INFO,
		"journal compacted (%s): %zu records into %s in %.3f ms", why,
		records, d->state_path, (xlb_now_ns() - t0) / 1e6);
}

int xlbd_commit(struct xlbd *d, struct xlb_model *next, struct xlb_err *err)
{
	__u64 t0 = xlb_now_ns(), save_ns = 0;
	struct xlb_model eff;
	char *tmp = NULL;
	bool saved = false;
	int ret;

	ret = xlb_model_validate(next, err);
	if (ret) {
		xlb_model_free(next);
		return ret;
	}
	pthread_mutex_lock(&d->lock);
	/* Pool ids first: the data plane's VIP entries name them. */
	ret = xlbd_nat_assign(d, &d->effective, next, err);
	if (!ret)
		ret = xlbd_uplink_assign(d, &d->effective, next, err);
	if (!ret)
		ret = xlb_dp_assign_ids(d->dp, &d->effective, next, err);
	if (!ret) {
		save_ns = xlb_now_ns();
		ret = save_begin(d, next, &tmp, err);
		save_ns = xlb_now_ns() - save_ns;
	}
	if (!ret) {
		saved = true;
		xlb_policy_sync(d->policy, next, d->restoring, xlb_now_ms());
		ret = xlbd_effective(d, next, xlb_now_ms(), &eff);
		if (ret)
			xlb_err_set(err, "out of memory");
	}
	d->save_wait_ns = 0;
	if (!ret)
		ret = apply_effective(d, &eff, save_gate, err);
	if (ret) {
		if (saved)
			save_abort(d, tmp);
		/* The policy must describe the model still in force. */
		xlb_policy_sync(d->policy, &d->model, true, xlb_now_ms());
		pthread_mutex_unlock(&d->lock);
		xlb_model_free(next);
		return ret;
	}
	xlb_model_free(&d->model);
	d->model = *next;
	save_end(d, tmp);
	pthread_mutex_unlock(&d->lock);
	d->checks_stale = true;
	set_deadline(d);
	settled(d);
	/* tests/bench/controller.sh reads the daemon's share of an edit. */
	xlb_log(LOG_INFO,
		"applied: %zu VIPs in %.3f ms (%.3f ms to save, and %.3f "
		"waited for its sync after the rings were built)",
		d->model.n_vips, (xlb_now_ns() - t0) / 1e6, save_ns / 1e6,
		d->save_wait_ns / 1e6);
	return 0;
}
