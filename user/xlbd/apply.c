// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Getting the desired model into the maps. xlbd keeps two models: the
 * operator's (desired, saved in the state file) and the one the maps hold
 * (effective: desired as the weight policy adjusts it for health, slow
 * start and flapping). A change of either goes through here.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "xlbd.h"

__u64 xlbd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
			xlbd_log(LOG_ERR,
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

static void rearm_tick(struct xlbd *d)
{
	__u64 now = xlbd_now_ms();
	__u64 next = xlb_policy_next_change(d->policy, &d->model, now);

	xlbd_tick_at(d, next ? next - now + 1 : 0);
}

int xlbd_refresh(struct xlbd *d, struct xlb_err *err)
{
	struct xlb_model eff;
	int ret;

	pthread_mutex_lock(&d->lock);
	ret = xlb_policy_effective(d->policy, &d->model, xlbd_now_ms(), &eff);
	if (!ret && xlb_model_equal(&eff, &d->effective, true))
		xlb_model_free(&eff);
	else if (!ret)
		ret = apply_effective(d, &eff, err);
	pthread_mutex_unlock(&d->lock);
	rearm_tick(d);
	return ret;
}

int xlbd_commit(struct xlbd *d, struct xlb_model *next, struct xlb_err *err)
{
	struct xlb_model eff;
	int ret;

	ret = xlb_model_validate(next, err);
	if (ret) {
		xlb_model_free(next);
		return ret;
	}
	pthread_mutex_lock(&d->lock);
	ret = xlb_dp_assign_ids(d->dp, &d->effective, next, err);
	if (!ret) {
		xlb_policy_sync(d->policy, next, d->restoring, xlbd_now_ms());
		ret = xlb_policy_effective(d->policy, next, xlbd_now_ms(),
					   &eff);
		if (ret)
			xlb_err_set(err, "out of memory");
	}
	if (!ret)
		ret = apply_effective(d, &eff, err);
	if (ret) {
		/* The policy must describe the model still in force. */
		xlb_policy_sync(d->policy, &d->model, true, xlbd_now_ms());
		pthread_mutex_unlock(&d->lock);
		xlb_model_free(next);
		return ret;
	}
	xlb_model_free(&d->model);
	d->model = *next;
	pthread_mutex_unlock(&d->lock);
	xlbd_checks_sync(d);
	rearm_tick(d);

	ret = xlb_model_save(d->state_path, &d->model, true, err);
	if (ret) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		xlb_err_set(err,
			    "the change is live, but saving the state failed: "
			    "%s",
			    why);
		xlbd_log(LOG_ERR, "%s", err->msg);
		return -EIO;
	}
	xlbd_log(LOG_INFO, "applied: %zu VIPs", d->model.n_vips);
	return 0;
}
