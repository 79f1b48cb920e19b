/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xlbd's shared state: the desired model, the data plane, and the options
 * it runs with. The event loop (main.c) owns it; the metrics thread reads
 * it under `lock`.
 */
#ifndef XLBD_H
#define XLBD_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <jansson.h>
#include "dataplane.h"
#include "model.h"
#include "stats.h"
#include "version.h"

#define XLBD_STATE_DIR_DEFAULT "/var/lib/xlb"
#define XLBD_PIN_DIR_DEFAULT   XLB_PIN_DIR_DEFAULT
#define XLBD_METRICS_DEFAULT   "127.0.0.1:9120"

enum xlbd_log_level { LOG_ERR, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

struct xlbd {
	struct xlb_dp *dp;
	struct xlb_model model;
	pthread_mutex_t lock;
	const char *ifname;
	const char *socket_path;
	const char *metrics_addr; /* NULL: no metrics */
	char state_path[300];
	time_t started;
	bool detach_on_exit;
	struct MHD_Daemon *httpd;
};

extern int xlbd_verbosity;

void xlbd_log(enum xlbd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* handlers.c: one control request in, one response out (new ref). */
json_t *xlbd_handle(struct xlbd *d, const json_t *req);

/*
 * Makes `next` the model: writes the maps, then the state file. On
 * failure the maps are put back to the current model and the error says
 * why. next is consumed either way.
 */
int xlbd_commit(struct xlbd *d, struct xlb_model *next, struct xlb_err *err);

/* metrics.c: Prometheus text over HTTP. */
int xlbd_metrics_start(struct xlbd *d, struct xlb_err *err);
void xlbd_metrics_stop(struct xlbd *d);

/* gateway.c: MAC of the default gateway reached through ifname. */
int xlbd_gateway_mac(const char *ifname, __u8 mac[6], char *gw_str,
		     size_t gw_len, struct xlb_err *err);
int xlbd_parse_mac(const char *s, __u8 mac[6]);

#endif /* XLBD_H */
