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
 *                 "udp_timeout_ms": 30000, "flap_count": 4,
 *                 "flap_window_ms": 60000, "flap_hold_ms": 30000 },
 *     "vips": [
 *       { "vip": "198.19.0.1:80/tcp", "flags": "no-sport",
 *         "encap": "default", "ring_size": 65537, "vip_id": 1,
 *         "check": { "kind": "http", "tunnel": true, "port": 0,
 *                    "interval_ms": 1000, "timeout_ms": 900,
 *                    "rise": 2, "fall": 3, "http_path": "/health",
 *                    "http_status": 200, "http_body": "",
 *                    "udp_send": "", "udp_expect": "", "exec_cmd": "" },
 *         "all_down": "drop", "on_check_down": "keep",
 *         "slow_start_ms": 0,
 *         "backends": [ { "addr": "198.18.1.1", "weight": 1,
 *                         "state": "up", "id": 1 },
 *                       { "addr": "198.18.1.2",
 *                         "check": { "kind": "tcp", "port": 22 } } ] } ],
 *     "pools": [ { "name": "nat1", "addresses": "198.18.2.0-198.18.2.15",
 *                  "ports": "1024-65535", "subpool_ports": 1024,
 *                  "refill_percent": 25, "pool_id": 1,
 *                  "subpool_base": 1, "n_subpools": 1008 } ],
 *     "uplinks": [ { "interface": "eth1", "gateway": "02:00:00:00:00:01",
 *                    "mtu": 0, "share": 1, "id": 1 },
 *                  { "interface": "eth2", "gateway": "198.18.0.254",
 *                    "share": 3 } ]
 *   }
 *
 * Every key but "vip", "addr" and a check's "kind" is optional (defaults
 * as in model.h; a check's "timeout_ms" defaults to 90% of its interval,
 * at most 2000). A VIP's "check" is inherited by every backend without a
 * "check" of its own; a backend's own check of kind "none" exempts it.
 * Pools (client-NAT, for VIPs of "mode": "nat" naming one in "pool") are
 * kept in name order and read before the VIPs, whatever the document's
 * order; "subpool_ports" is written only once chosen (not 0).
 * Uplinks (egress, named by "interface") are kept in interface order;
 * "gateway" (a MAC or an address) is required of each.
 * "source_v4": null (or absent) means no prefix: xlbd then uses the
 * interface's own address as the outer source;
 * unknown keys are errors, so a typo never silently means "default".
 * Written documents carry every key of a check, whatever its kind, and a
 * backend's "check" only when it has its own.
 */
#ifndef XLB_CONFIG_H
#define XLB_CONFIG_H

#include <jansson.h>
#include "model.h"
#include "schema.h"

/*
 * New reference; ids ("vip_id", "id") only when with_ids. A check alone:
 * xlb_check_encode and xlb_check_decode (schema.h).
 */
json_t *xlb_model_to_json(const struct xlb_model *m, bool with_ids);
json_t *xlb_vip_to_json(const struct xlb_vip_cfg *v, bool with_ids);
json_t *xlb_global_to_json(const struct xlb_global_cfg *g);
json_t *xlb_pool_to_json(const struct xlb_pool_cfg *p, bool with_ids);
json_t *xlb_uplink_to_json(const struct xlb_uplink_cfg *u, bool with_ids);
/*
 * Builds *m (initialised here) from j and validates it. On error *m is
 * left initialised and empty and err says what and where
 * ("vips[2].backends[0].weight: must be 0..65535").
 */
int xlb_model_from_json(const json_t *j, struct xlb_model *m,
			struct xlb_err *err);

/*
 * Parts of a document into m, as the whole document's reader does (for
 * xlbd's journal, journal.h): each VIP of the array vips, with its
 * backends, is added to m (errors name it: "vips[2]"); the global knobs
 * replace m's.
 */
int xlb_model_vips_from_json(const json_t *vips, struct xlb_model *m,
			     struct xlb_err *err);
int xlb_model_global_from_json(const json_t *g, struct xlb_model *m,
			       struct xlb_err *err);
/* Each pool of the array pools (NULL: none) added to m ("pools[1]"). */
int xlb_model_pools_from_json(const json_t *pools, struct xlb_model *m,
			      struct xlb_err *err);
/* Each uplink of the array uplinks (NULL: none) added to m ("uplinks[0]"). */
int xlb_model_uplinks_from_json(const json_t *uplinks, struct xlb_model *m,
				struct xlb_err *err);

/* Read a file: -ENOENT when missing, -EINVAL with err when malformed. */
int xlb_model_load(const char *path, struct xlb_model *m, struct xlb_err *err);
/*
 * xlbd's state file: the model with ids and "journal_seq", the last
 * record of the journal (journal.h) it includes (0 when absent). A
 * config reader ignores the key, so a state file still applies as a
 * config.
 */
int xlb_state_load(const char *path, struct xlb_model *m, __u64 *seq,
		   struct xlb_err *err);

/*
 * Write atomically: a temp file in the same directory, fsync, rename over
 * path, fsync the directory. A crash leaves the old or the new file.
 */
int xlb_model_save(const char *path, const struct xlb_model *m, bool with_ids,
		   struct xlb_err *err);
/*
 * The same in two steps, for a writer that must know the file can be
 * written before it changes anything else: begin writes and syncs the
 * temp file (where a full disk shows) and returns its name; end renames
 * it over path (keep) or removes it, and frees tmp (NULL: nothing).
 */
int xlb_model_save_begin(const char *path, const struct xlb_model *m,
			 bool with_ids, char **tmp, struct xlb_err *err);
int xlb_model_save_end(const char *path, char *tmp, bool keep,
		       struct xlb_err *err);
/* save_begin of a state file: with ids and journal_seq = seq. */
int xlb_state_save_begin(const char *path, const struct xlb_model *m, __u64 seq,
			 char **tmp, struct xlb_err *err);

#endif /* XLB_CONFIG_H */
