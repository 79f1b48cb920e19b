/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * What the files of the control requests share: handlers.c holds the op
 * table, the argument helpers and the dispatch; handlers_edit.c the ops
 * that change the model; handlers_show.c those that read it. Every op
 * takes the daemon and the request's args and returns a response (new ref).
 */
#ifndef XLBD_HANDLERS_H
#define XLBD_HANDLERS_H

#include "xlbd.h"

/* The names of the arguments the ops of each object take. */
extern const char *const vip_names[];
extern const char *const backend_names[];
extern const char *const check_names[];
extern const char *const pool_names[];
extern const char *const uplink_names[];

/* An error response: err's message, else the errno's. */
json_t *op_fail(int ret, const struct xlb_err *err);
int arg_str(const json_t *args, const char *key, bool required,
	    const char **out, struct xlb_err *err);
int arg_vip(const json_t *args, struct xlb_vip_key *key, struct xlb_err *err);

/* handlers_edit.c */
json_t *do_vip_add(struct xlbd *d, const json_t *args);
json_t *do_vip_del(struct xlbd *d, const json_t *args);
json_t *do_vip_set(struct xlbd *d, const json_t *args);
json_t *do_backend_add(struct xlbd *d, const json_t *args);
json_t *do_backend_del(struct xlbd *d, const json_t *args);
json_t *do_backend_set(struct xlbd *d, const json_t *args);
json_t *do_check_set(struct xlbd *d, const json_t *args);
json_t *do_check_del(struct xlbd *d, const json_t *args);
json_t *do_config_apply(struct xlbd *d, const json_t *args);
json_t *do_node_drain(struct xlbd *d, const json_t *args);
json_t *do_node_undrain(struct xlbd *d, const json_t *args);
json_t *do_pool_add(struct xlbd *d, const json_t *args);
json_t *do_pool_del(struct xlbd *d, const json_t *args);
json_t *do_uplink_add(struct xlbd *d, const json_t *args);
json_t *do_uplink_set(struct xlbd *d, const json_t *args);
json_t *do_uplink_del(struct xlbd *d, const json_t *args);

/* handlers_show.c */
json_t *do_status(struct xlbd *d, const json_t *args);
json_t *do_vip_list(struct xlbd *d, const json_t *args);
json_t *do_vip_show(struct xlbd *d, const json_t *args);
json_t *do_backend_list(struct xlbd *d, const json_t *args);
json_t *do_ring_show(struct xlbd *d, const json_t *args);
json_t *do_check_show(struct xlbd *d, const json_t *args);
json_t *do_config_dump(struct xlbd *d, const json_t *args);
json_t *do_cluster_status(struct xlbd *d, const json_t *args);
json_t *do_pool_list(struct xlbd *d, const json_t *args);
json_t *do_pool_show(struct xlbd *d, const json_t *args);
json_t *do_uplink_list(struct xlbd *d, const json_t *args);
json_t *do_uplink_show(struct xlbd *d, const json_t *args);

#endif /* XLBD_HANDLERS_H */
