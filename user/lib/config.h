/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The model as JSON (jansson): the declarative config file
 * (`xlbd --config`, `xlb config apply|dump`) and xlbd's state file, which
 * is the same document with the map ids added so a restarted daemon
 * finds every flow's backend where it left it.
 *
 *   {
 *     "global": { "encap": "ipip", "ttl": 64, "gue_port": 6080,
 *                 "mtu": 1500, "source_v4": "198.18.0.0/24",
 *                 "source_v6": "2001:db8::/64", "flow_rate_limit": 0,
 *                 "udp_timeout_ms": 30000 },
 *     "vips": [
 *       { "vip": "198.19.0.1:80/tcp", "flags": "no-sport",
 *         "encap": "default", "ring_size": 65537, "vip_id": 1,
 *         "backends": [ { "addr": "198.18.1.1", "weight": 1,
 *                         "state": "up", "id": 1 } ] } ]
 *   }
 *
 * Every key but "vip" and "addr" is optional (defaults as in model.h);
 * "source_v4": null (or absent) means no prefix: xlbd then uses the
 * interface's own address as the outer source;
 * unknown keys are errors, so a typo never silently means "default".
 */
#ifndef XLB_CONFIG_H
#define XLB_CONFIG_H

#include <jansson.h>
#include "model.h"

/* New reference; ids ("vip_id", "id") only when with_ids. */
json_t *xlb_model_to_json(const struct xlb_model *m, bool with_ids);
json_t *xlb_vip_to_json(const struct xlb_vip_cfg *v, bool with_ids);

/*
 * Builds *m (initialised here) from j and validates it. On error *m is
 * left initialised and empty and err says what and where
 * ("vips[2].backends[0].weight: must be 0..65535").
 */
int xlb_model_from_json(const json_t *j, struct xlb_model *m,
			struct xlb_err *err);

/* Read a file: -ENOENT when missing, -EINVAL with err when malformed. */
int xlb_model_load(const char *path, struct xlb_model *m, struct xlb_err *err);

/*
 * Write atomically: a temp file in the same directory, fsync, rename over
 * path, fsync the directory. A crash leaves the old or the new file.
 */
int xlb_model_save(const char *path, const struct xlb_model *m, bool with_ids,
		   struct xlb_err *err);

#endif /* XLB_CONFIG_H */
