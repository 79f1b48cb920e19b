// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Egress uplinks in the model: the rules of one uplink, the rules
 * between uplinks, and the edits that add, change and remove them. Apart
 * from model_validate.c and model_edit.c because egress is one idea: its
 * rules are read together.
 *
 * An uplink is named by its interface: one uplink per interface, at
 * most XLB_MAX_UPLINKS - 1 of them (id 0 is a flow given none). Its id
 * is xlbd's to give and keep; a change of settings keeps it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_priv.h"

/* The smallest IPv4 packet every host takes, as for the global mtu. */
#define UPLINK_MTU_MIN 576

void xlb_uplink_init(struct xlb_uplink_cfg *u)
{
	memset(u, 0, sizeof(*u));
	u->share = XLB_UPLINK_SHARE_DEFAULT;
}

/* ---- one uplink -------------------------------------------------------- */

/*
 * The kernel's rule for an interface name (dev_valid_name): 1..15
 * bytes, not "." or "..", no slash, colon or blank; and, so it reads the
 * same in a file, a log line and a terminal, no control character.
 */
int xlb_ifname_check(const char *name, struct xlb_err *err)
{
	size_t n = strnlen(name, XLB_UPLINK_IFNAMELEN);

	if (n == XLB_UPLINK_IFNAMELEN) {
		xlb_err_set(err, "interface name longer than %u characters",
			    XLB_UPLINK_IFNAMELEN - 1);
		return -EINVAL;
	}
	if (!n) {
		xlb_err_set(err, "empty interface name");
		return -EINVAL;
	}
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		goto bad;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = name[i];

		if (c == '/' || c == ':' || isspace(c) || iscntrl(c))
			goto bad;
	}
	return 0;
bad:
	xlb_err_set(err,
		    "bad interface name '%s': expected 1..%u characters, not "
		    "'.' or '..', without / : or blanks",
		    name, XLB_UPLINK_IFNAMELEN - 1);
	return -EINVAL;
}

static int validate_gateway(const struct xlb_uplink_cfg *u, struct xlb_err *err)
{
	static const __u8 zero[6];
	char ms[XLB_MAC_STRLEN];

	if (u->gw_is_mac) {
		xlb_format_mac(u->gw_mac, ms, sizeof(ms));
		/* The group bit: a frame to it would reach many or none. */
		if (u->gw_mac[0] & 1) {
			xlb_err_set(err,
				    "gateway MAC %s is multicast: expected "
				    "the next hop's own MAC",
				    ms);
			return -EINVAL;
		}
		if (!memcmp(u->gw_mac, zero, sizeof(zero))) {
			xlb_err_set(err,
				    "gateway MAC %s is zero: expected the "
				    "next hop's own MAC",
				    ms);
			return -EINVAL;
		}
		return 0;
	}
	if (!u->gw_family) {
		xlb_err_set(err, "no gateway: expected a MAC or an address");
		return -EINVAL;
	}
	if (u->gw_family != XLB_AF_INET && u->gw_family != XLB_AF_INET6) {
		xlb_err_set(err, "gateway family %u is not IPv4 or IPv6",
			    u->gw_family);
		return -EINVAL;
	}
	return xlb_addr_check(&u->gw_addr, u->gw_family, "gateway", err);
}

static int validate_settings(const struct xlb_uplink_cfg *u,
			     struct xlb_err *err)
{
	if (u->mtu && u->mtu < UPLINK_MTU_MIN) {
		xlb_err_set(err,
			    "mtu %u out of range %u..65535 (0: the global "
			    "mtu)",
			    u->mtu, UPLINK_MTU_MIN);
		return -EINVAL;
	}
	if (u->share < 1 || u->share > XLB_UPLINK_SHARE_MAX) {
		xlb_err_set(err, "share %u out of range 1..%u", u->share,
			    XLB_UPLINK_SHARE_MAX);
		return -EINVAL;
	}
	if (u->id >= XLB_MAX_UPLINKS) {
		xlb_err_set(err, "id %u out of range 1..%u", u->id,
			    XLB_MAX_UPLINKS - 1);
		return -EINVAL;
	}
	return 0;
}

int xlb_uplink_validate(const struct xlb_uplink_cfg *u, struct xlb_err *err)
{
	char what[XLB_UPLINK_IFNAMELEN + 8];

	if (xlb_ifname_check(u->ifname, err))
		return -EINVAL;
	if (!validate_gateway(u, err) && !validate_settings(u, err))
		return 0;
	snprintf(what, sizeof(what), "uplink %s", u->ifname);
	xlb_err_prefix(err, what);
	return -EINVAL;
}

/* ---- between uplinks --------------------------------------------------- */

int xlb_model_uplinks_validate(const struct xlb_model *m, struct xlb_err *err)
{
	__u32 ids = 0;

	if (m->n_uplinks > XLB_MAX_UPLINKS - 1) {
		xlb_err_set(err, "too many uplinks (limit %u)",
			    XLB_MAX_UPLINKS - 1);
		return -ENOSPC;
	}
	for (size_t i = 0; i < m->n_uplinks; i++) {
		const struct xlb_uplink_cfg *u = &m->uplinks[i];
		int cmp;

		if (xlb_uplink_validate(u, err))
			return -EINVAL;
		cmp = i ? strcmp(m->uplinks[i - 1].ifname, u->ifname) : -1;
		if (cmp >= 0) {
			xlb_err_set(err,
				    cmp ? "uplinks out of order at %s"
					: "uplink %s listed twice",
				    u->ifname);
			return -EINVAL;
		}
		if (u->id && (ids >> u->id) & 1) {
			xlb_err_set(err, "id %u of uplink %s used twice", u->id,
				    u->ifname);
			return -EINVAL;
		}
		if (u->id)
			ids |= 1u << u->id;
	}
	return 0;
}

/* ---- edits ------------------------------------------------------------- */

static size_t uplink_search(const struct xlb_model *m, const char *ifname,
			    bool *found)
{
	size_t i = 0;
	int cmp = 1;

	while (i < m->n_uplinks && (cmp = strncmp(m->uplinks[i].ifname, ifname,
						  XLB_UPLINK_IFNAMELEN)) < 0)
		i++;
	*found = i < m->n_uplinks && !cmp;
	return i;
}

struct xlb_uplink_cfg *xlb_model_uplink(const struct xlb_model *m,
					const char *ifname)
{
	bool found;
	size_t i = uplink_search(m, ifname, &found);

	return found ? &m->uplinks[i] : NULL;
}

struct xlb_uplink_cfg *xlb_model_uplink_get(const struct xlb_model *m,
					    const char *ifname,
					    struct xlb_err *err)
{
	struct xlb_uplink_cfg *u = xlb_model_uplink(m, ifname);

	if (!u)
		xlb_err_set(err, "unknown uplink %s", ifname);
	return u;
}

/* Whether another uplink than m->uplinks[skip] holds id. */
static const struct xlb_uplink_cfg *id_holder(const struct xlb_model *m,
					      __u32 id, size_t skip)
{
	for (size_t i = 0; id && i < m->n_uplinks; i++)
		if (i != skip && m->uplinks[i].id == id)
			return &m->uplinks[i];
	return NULL;
}

int xlb_model_uplink_add(struct xlb_model *m, const struct xlb_uplink_cfg *u,
			 struct xlb_err *err)
{
	struct xlb_uplink_cfg nu = *u, *ups;
	const struct xlb_uplink_cfg *other;
	bool found;
	size_t pos;

	if (!nu.gw_is_mac)
		memset(nu.gw_mac, 0, sizeof(nu.gw_mac));
	if (xlb_uplink_validate(&nu, err))
		return -EINVAL;
	pos = uplink_search(m, nu.ifname, &found);
	if (found) {
		xlb_err_set(err, "uplink %s already exists", nu.ifname);
		return -EEXIST;
	}
	other = id_holder(m, nu.id, m->n_uplinks);
	if (other) {
		xlb_err_set(err,
			    "id %u of uplink %s is already used by uplink %s",
			    nu.id, nu.ifname, other->ifname);
		return -EEXIST;
	}
	if (m->n_uplinks >= XLB_MAX_UPLINKS - 1) {
		xlb_err_set(err, "too many uplinks (limit %u)",
			    XLB_MAX_UPLINKS - 1);
		return -ENOSPC;
	}
	ups = realloc(m->uplinks, (m->n_uplinks + 1) * sizeof(*ups));
	if (!ups) {
		xlb_err_set(err, "out of memory");
		return -ENOMEM;
	}
	memmove(&ups[pos + 1], &ups[pos], (m->n_uplinks - pos) * sizeof(*ups));
	ups[pos] = nu;
	m->uplinks = ups;
	m->n_uplinks++;
	return 0;
}

int xlb_model_uplink_set(struct xlb_model *m, const struct xlb_uplink_cfg *u,
			 struct xlb_err *err)
{
	struct xlb_uplink_cfg nu = *u;
	bool found;
	size_t pos = uplink_search(m, u->ifname, &found);

	if (!found) {
		xlb_err_set(err, "unknown uplink %s", u->ifname);
		return -ENOENT;
	}
	/* Its id is xlbd's: a change of settings keeps the one it has. */
	nu.id = m->uplinks[pos].id;
	if (!nu.gw_is_mac)
		memset(nu.gw_mac, 0, sizeof(nu.gw_mac));
	if (xlb_uplink_validate(&nu, err))
		return -EINVAL;
	m->uplinks[pos] = nu;
	return 0;
}

int xlb_model_uplink_del(struct xlb_model *m, const char *ifname,
			 struct xlb_err *err)
{
	bool found;
	size_t pos = uplink_search(m, ifname, &found);

	if (!found) {
		xlb_err_set(err, "unknown uplink %s", ifname);
		return -ENOENT;
	}
	memmove(&m->uplinks[pos], &m->uplinks[pos + 1],
		(m->n_uplinks - pos - 1) * sizeof(*m->uplinks));
	if (!--m->n_uplinks) {
		free(m->uplinks);
		m->uplinks = NULL;
	}
	return 0;
}
