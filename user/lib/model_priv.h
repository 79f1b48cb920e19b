/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * What the model's files share and no one else uses: the order and
 * searches of model.c, and the per-object rules of model_validate.c that
 * edits (model_edit.c) run on their candidates.
 */
#ifndef XLB_MODEL_PRIV_H
#define XLB_MODEL_PRIV_H

#include "model.h"

/* Order: family, then address bytes; VIP keys then port, protocol. */
int xlb_fam_addr_cmp(__u8 fa, const union xlb_addr *a, __u8 fb,
		     const union xlb_addr *b);
int xlb_vip_key_cmp(const struct xlb_vip_key *a, const struct xlb_vip_key *b);
/* Index of the entry in the sorted array, or where it would go. */
size_t xlb_model_vip_search(const struct xlb_model *m,
			    const struct xlb_vip_key *key, bool *found);
size_t xlb_vip_backend_search(const struct xlb_vip_cfg *v,
			      const union xlb_addr *addr, __u8 family,
			      bool *found);
size_t xlb_model_n_backends(const struct xlb_model *m);
void xlb_vip_free_backends(struct xlb_vip_cfg *v);
/* A heap copy of a backend's own check; NULL stays NULL. */
int xlb_check_dup(const struct xlb_check_cfg *c, struct xlb_check_cfg **out);

/*
 * One object's rules, alone: a VIP without its backends and the
 * uniqueness of its id; a backend without its check; a backend's own
 * check, with "backend ADDR: check: " on its message; the global knobs.
 */
int xlb_vip_cfg_validate(const struct xlb_vip_cfg *v, struct xlb_err *err);
int xlb_backend_cfg_validate(const struct xlb_backend_cfg *b,
			     struct xlb_err *err);
int xlb_backend_own_check_validate(const struct xlb_vip_cfg *v,
				   const struct xlb_backend_cfg *b,
				   struct xlb_err *err);
int xlb_global_cfg_validate(const struct xlb_global_cfg *g,
			    struct xlb_err *err);

/*
 * The pools of the model (model_pool.c): each alone, their order, ids
 * and limit, no address in two pools or in a pool and a VIP, and each
 * nat VIP's pool there and of its family and of its backends'.
 */
int xlb_model_pools_validate(const struct xlb_model *m, struct xlb_err *err);
/*
 * The uplinks of the model (model_uplink.c): each alone, their order
 * (one per interface), ids and limit.
 */
int xlb_model_uplinks_validate(const struct xlb_model *m, struct xlb_err *err);

#endif /* XLB_MODEL_PRIV_H */
