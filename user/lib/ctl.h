/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The control protocol between `xlb` and `xlbd`: over a Unix stream
 * socket (mode 0600 by default, so root only) the client sends one JSON
 * object and a newline, the daemon answers with one JSON object and a
 * newline and closes the connection.
 *
 *   request:  {"op": "backend.set", "args": {"vip": "198.19.0.1:80/tcp",
 *              "addr": "198.18.1.1", "weight": 3}}
 *   response: {"ok": true, "result": ...}
 *          or {"ok": false, "error": "unknown VIP 198.19.0.9:80/tcp",
 *              "code": 2}            (code: the positive errno)
 *
 * Operations and their args (strings use the text.h forms):
 *   status            {}                     -> daemon facts
 *   vip.add           {vip, flags?, encap?, ring_size?, mode?, pool?, ...}
 *   vip.del           {vip}
 *   vip.list          {}                     -> {"vips": [vip objects]}
 *   vip.show          {vip}                  -> vip object with backends
 *   vip.set           {vip, all_down?, on_check_down?, slow_start_ms?,
 *                      mode?, pool?, ...} (mode dsr without pool: no pool)
 *                     (at least one)
 *   backend.add       {vip, addr, weight?, state?}
 *   backend.del       {vip, addr}
 *   backend.set       {vip, addr, weight?, state?}
 *   backend.list      {vip?}                 -> {"backends": [...]}
 *   ring.show         {vip}                  -> fingerprint and shares
 *   check.set         {vip, backend?, kind, tunnel?, port?, interval_ms?,
 *                      timeout_ms?, rise?, fall?, http_path?, http_status?,
 *                      http_body?, udp_send?, udp_expect?, exec_cmd?}
 *                     the VIP's check (inherited by its backends), or with
 *                     backend (an address) that backend's own; a whole
 *                     definition: fields not given take the defaults
 *                     (model.h), not the previous values; fields that do
 *                     not apply to the kind are refused
 *   check.del         {vip, backend?}        VIP's -> kind none; backend's
 *                                            -> inherits the VIP's again
 *   check.show        {vip?}                 -> {"checks": [{"vip",
 *                     "backend" (absent for the VIP's own), "kind",
 *                     "tunnel", "port", ..., "exec_cmd"}]}: every VIP's
 *                     own check (kind "none" too), then its backends' own
 *   pool.add          {name, addresses, ports?, subpool_ports?,
 *                      refill_percent?}   a client-NAT pool
 *   pool.del          {name}                 refused while a VIP names it
 *   pool.list         {}                     -> {"pools": [pool objects]}
 *   pool.show         {name}                 -> pool object: its config.h
 *                     keys with ids, then what xlbd's allocator adds
 *                     ("subpools", "cpus", "refills", "reclaims",
 *                     "exhausted", "entries")
 *   uplink.add        {interface, gateway, mtu?, share?}  an egress
 *                     uplink; gateway: a MAC or an address
 *   uplink.set        {interface, gateway?, mtu?, share?} (at least one;
 *                     the others and its id stay)
 *   uplink.del        {interface}
 *   uplink.list       {}                     -> {"uplinks": [uplink objects]}
 *   uplink.show       {interface}            -> uplink object: its config.h
 *                     keys with its id, then what xlbd adds at run time
 *                     ("state", "why", "ifindex", "gw_mac", "bytes",
 *                     "packets", "share_target", "share_measured",
 *                     "failovers"), each only when known
 *   config.apply      {config: <config.h document>}
 *   config.dump       {}                     -> config.h document (no ids)
 * A request is applied whole or not at all.
 */
#ifndef XLB_CTL_H
#define XLB_CTL_H

#include <sys/types.h>
#include <jansson.h>
#include "err.h"

#define XLB_CTL_SOCKET_DEFAULT "/run/xlb/xlbd.sock"
/*
 * Largest message (a config.apply or config.dump of the largest model,
 * every backend with its own check, is a few MB).
 */
#define XLB_CTL_MAX_MSG (16 << 20)
/* A message must arrive whole within this time, or the peer is dropped. */
#define XLB_CTL_TIMEOUT_MS 5000
/*
 * Connections xlbd serves at once. One more drops the one that has waited
 * longest for its request, so idle clients cannot lock the operator out.
 */
#define XLB_CTL_MAX_CLIENTS 16
/*
 * How long xlbd keeps a connection whose answer waits on something else
 * (a cluster's edit: written to etcd, then applied from the watch).
 */
#define XLB_CTL_DEFER_MS 15000
/*
 * How long a client waits for the answer: longer, because the daemon works
 * meanwhile (a config.apply of many VIPs builds and writes many rings).
 */
#define XLB_CTL_ANSWER_TIMEOUT_MS 60000

/* Client: one request, one response (new reference in *resp). */
int xlb_ctl_call(const char *path, const char *op, json_t *args, json_t **resp,
		 struct xlb_err *err);

/* Server: a listening socket at path (unlinked first) with that mode. */
int xlb_ctl_listen(const char *path, mode_t mode, struct xlb_err *err);
/* One request line (without its newline) into *req (new reference). */
int xlb_ctl_parse_request(const char *buf, size_t len, json_t **req,
			  struct xlb_err *err);
/* One message as sent: compact JSON and a newline (malloc'd, *len). */
char *xlb_ctl_encode(json_t *msg, size_t *len);
/* Send one JSON value and a newline, blocking until the deadline. */
int xlb_ctl_send(int fd, json_t *msg);
/* {"ok": true, "result": result} (steals result; NULL = null). */
json_t *xlb_ctl_ok(json_t *result);
/* {"ok": false, "error": msg, "code": -err}. */
json_t *xlb_ctl_error(int err, const char *msg);

#endif /* XLB_CTL_H */
