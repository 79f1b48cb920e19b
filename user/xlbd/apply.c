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
#include "xlbd.h"

/* Puts eff into the maps (given they hold d->effective) and keeps it. */
static int apply_effective(struct xlbd *d, struct xlb_model *eff,
			   struct xlb_err *err)
{
	struct xlb_err undo_err = {{0}};
	int ret;

	ret = xlb_dp_apply(d->dp, &d->effective, eff, err);
	if (ret) {
		/* Put back what the maps said before the partial write. */
		xlb_dp_apply(d->dp, eff, &d->effective, &undo_err);
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

int xlbd_refresh(struct xlbd *d, struct xlb_err *err)
{
	struct xlb_model eff;
	int ret;

	pthread_mutex_lock(&d->lock);
	ret = xlb_policy_effective(d->policy, &d->model, xlb_now_ms(), &eff);
	if (!ret && xlb_model_equal(&eff, &d->effective, true))
		xlb_model_free(&eff);
	else if (!ret)
		ret = apply_effective(d, &eff, err);
	pthread_mutex_unlock(&d->lock);
	set_deadline(d);
	return ret;
}

/*
 * The state file is written (and synced) before the maps change, so a
 * full or read-only state directory refuses the change with nothing
 * changed: a live change a restart would revert is never made. Only the
 * final rename can still fail after the maps took the change; then the
 * change stays live and xlbd says it is unsaved (status, metrics, log)
 * until a save succeeds. A restart's restore, which changes nothing the
 * operator asked, goes on unsaved rather than leave the balancer
 * unmanaged.
 */
static int save_begin(struct xlbd *d, const struct xlb_model *next, char **tmp,
		      struct xlb_err *err)
{
	char why[sizeof(err->msg)];
	int ret = xlb_model_save_begin(d->state_path, next, true, tmp, err);

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

static void save_end(struct xlbd *d, char *tmp)
{
	struct xlb_err err = {{0}};

	if (!tmp)
		return;
	if (xlb_model_save_end(d->state_path, tmp, true, &err)) {
		d->unsaved = true;
		xlb_log(LOG_ERR, "the change is live but unsaved: %s", err.msg);
		return;
	}
	if (d->unsaved)
		xlb_log(LOG_NOTICE, "the state is saved again in %s",
			d->state_path);
	d->unsaved = false;
}

int xlbd_commit(struct xlbd *d, struct xlb_model *next, struct xlb_err *err)
{
	struct xlb_model eff;
	char *tmp = NULL;
	int ret;

	ret = xlb_model_validate(next, err);
	if (ret) {
		xlb_model_free(next);
		return ret;
	}
	pthread_mutex_lock(&d->lock);
	ret = xlb_dp_assign_ids(d->dp, &d->effective, next, err);
	if (!ret)
		ret = save_begin(d, next, &tmp, err);
	if (!ret) {
		xlb_policy_sync(d->policy, next, d->restoring, xlb_now_ms());
		ret = xlb_policy_effective(d->policy, next, xlb_now_ms(), &eff);
		if (ret)
			xlb_err_set(err, "out of memory");
	}
	if (!ret)
		ret = apply_effective(d, &eff, err);
	if (ret) {
		xlb_model_save_end(d->state_path, tmp, false, NULL);
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
	xlb_log(LOG_INFO, "applied: %zu VIPs", d->model.n_vips);
	return 0;
}
