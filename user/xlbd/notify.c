// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlbd under systemd: the readiness protocol of sd_notify(3) (READY=1
 * once the balancer is attached, the state applied and the control
 * socket serves; STATUS= lines; RELOADING=1 and STOPPING=1) and SIGHUP's
 * reload of --config. sd_notify does nothing without NOTIFY_SOCKET, so
 * xlbd run by hand or by another supervisor is unchanged. Every message
 * ends with a newline (systemd skips empty lines): a reader that joins
 * datagrams, as socat does, still sees one assignment per line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <jansson.h>
#include "config.h"
#include "handlers.h"
#include "xlbd.h"

void xlbd_notify_ready(struct xlbd *d)
{
	d->status_vips = d->model.n_vips;
	sd_notifyf(0, "READY=1\nSTATUS=serving %zu VIPs on %s\n",
		   d->model.n_vips, d->ifname);
}

/* systemctl status shows the count the CLI's edits leave. */
void xlbd_notify_status(struct xlbd *d)
{
	if (d->status_vips == d->model.n_vips)
		return;
	d->status_vips = d->model.n_vips;
	sd_notifyf(0, "STATUS=serving %zu VIPs on %s\n", d->model.n_vips,
		   d->ifname);
}

void xlbd_notify_stopping(struct xlbd *d)
{
	(void)d;
	sd_notify(0, "STOPPING=1\nSTATUS=stopping\n");
}

/*
 * RELOADING=1 with the clock systemd 253's Type=notify-reload wants
 * beside it (systemd 252 ignores the field): a unit written for either
 * works.
 */
static void notify_reloading(struct xlbd *d)
{
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s\n",
		   (unsigned long long)xlb_now_ns() / 1000, d->config);
}

/* Every reload error names the file, once (the parser's do already). */
static void config_err(struct xlb_err *err, const char *path)
{
	char why[sizeof(err->msg)];

	snprintf(why, sizeof(why), "%s", err->msg);
	xlb_err_set(err, "%s: %s", path, why);
}

/*
 * The file checked as `xlb config apply` checks it (the model's parser,
 * whose errors name the file and the key path), then applied through the
 * same op the CLI sends: in a cluster it goes to etcd like any edit.
 */
static int reload_apply(struct xlbd *d, struct xlb_err *err)
{
	json_t *args, *resp, *doc;
	struct xlb_model m;
	json_error_t jerr;
	int ret;

	ret = xlb_model_load(d->config, &m, err);
	xlb_model_free(&m);
	if (ret == -ENOENT)
		xlb_err_set(err, "%s does not exist", d->config);
	if (ret && !strstr(err->msg, d->config))
		config_err(err, d->config);
	if (ret)
		return ret;
	doc = json_load_file(d->config, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		xlb_err_set(err, "%s:%d:%d: %s", d->config, jerr.line,
			    jerr.column, jerr.text);
		return -EINVAL;
	}
	args = json_pack("{s:o}", "config", doc); /* doc is args' now */
	if (!args) {
		xlb_err_set(err, "%s: out of memory", d->config);
		return -ENOMEM;
	}
	resp = do_config_apply(d, args);
	json_decref(args);
	/* A cluster member answers once etcd took it: no one waits here. */
	if (!resp) {
		xlb_log(LOG_NOTICE, "reload: %s proposed to the cluster",
			d->config);
		return 0;
	}
	ret = json_is_true(json_object_get(resp, "ok")) ? 0 : -EINVAL;
	if (ret) {
		xlb_err_set(err, "%s",
			    json_string_value(json_object_get(resp, "error")));
		config_err(err, d->config);
	}
	json_decref(resp);
	return ret;
}

void xlbd_reload(struct xlbd *d)
{
	struct xlb_err err = {{0}};

	if (!d->config) {
		xlb_log(LOG_NOTICE,
			"SIGHUP: nothing to re-read (started without "
			"--config; 'xlb config apply FILE' replaces the "
			"configuration)");
		return;
	}
	notify_reloading(d);
	if (reload_apply(d, &err))
		xlb_log(LOG_ERR,
			"reload: %s: nothing changed, still serving the "
			"running configuration",
			err.msg);
	else
		xlb_log(LOG_NOTICE, "reloaded %s: %zu VIPs", d->config,
			d->model.n_vips);
	xlbd_notify_ready(d);
}
