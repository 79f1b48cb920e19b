// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Loading, adopting, attaching and detaching XDP programs (see loader.h). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "loader.h"
#include "log.h"
#include "util.h"

int xlb_xdp_mode_parse(const char *s, enum xdp_attach_mode *mode)
{
	if (!strcmp(s, "native"))
		*mode = XDP_MODE_NATIVE;
	else if (!strcmp(s, "generic"))
		*mode = XDP_MODE_SKB;
	else
		return -EINVAL;
	return 0;
}

const char *xlb_xdp_mode_name(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_SKB ? "generic" : "native";
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int xlb_ensure_bpffs(const char *dir, struct xlb_err *err)
{
	size_t root_len = strlen(XLB_PIN_ROOT);
	int ret;

	if (!strncmp(dir, XLB_PIN_ROOT, root_len) &&
	    (dir[root_len] == '/' || dir[root_len] == '\0') &&
	    !is_bpffs(XLB_PIN_ROOT)) {
		ret = xlb_mkdir_p(XLB_PIN_ROOT, 0755);
		if (!ret && mount("bpf", XLB_PIN_ROOT, "bpf", 0, "mode=0700"))
			ret = -errno;
		if (ret) {
			xlb_err_set(err, "cannot mount bpffs at %s: %s",
				    XLB_PIN_ROOT, strerror(-ret));
			return ret;
		}
	}
	ret = xlb_mkdir_p(dir, 0700);
	if (ret) {
		xlb_err_set(err, "cannot create pin directory %s: %s", dir,
			    strerror(-ret));
		return ret;
	}
	if (!is_bpffs(dir)) {
		xlb_err_set(err, "pin directory %s is not on a bpf filesystem",
			    dir);
		return -EINVAL;
	}
	return 0;
}

/*
 * The kernel makes every DEVMAP read-only to programs (BPF_F_RDONLY_PROG
 * in its flags) but refuses that flag at creation, so libbpf's check of
 * a pinned map's flags against the object's never passes for one (libbpf
 * 1.1): a pinned DEVMAP of our shape is handed to libbpf by fd instead.
 */
static int reuse_devmap(struct bpf_map *map, const char *path)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path), ret = 0;

	if (fd < 0)
		return 0; /* none pinned: libbpf creates and pins it */
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    info.type == BPF_MAP_TYPE_DEVMAP &&
	    info.key_size == bpf_map__key_size(map) &&
	    info.value_size == bpf_map__value_size(map) &&
	    info.max_entries == bpf_map__max_entries(map))
		ret = bpf_map__reuse_fd(map, fd);
	else /* another shape: libbpf's own check refuses it, by name */
		ret = 0;
	close(fd);
	return ret;
}

/* A pinned map of the same shape is reused: flows survive a restart. */
static int set_pin_paths(struct bpf_object *obj, const char *dir,
			 struct xlb_err *err)
{
	struct bpf_map *map;
	char path[512];
	int ret;

	bpf_object__for_each_map(map, obj)
	{
		const char *name = bpf_map__name(map);

		/*
		 * .rodata is the object's own (the flow table's geometry):
		 * an adopted program keeps its copy, a new one brings its.
		 * A ".data.NAME" section is a switch every load shares (the
		 * trace's, bpf/trace.h): pinned as NAME.
		 */
		if (!strncmp(name, ".data.", 6))
			name += 6;
		else if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		ret = bpf_map__set_pin_path(map, path);
		if (!ret && bpf_map__type(map) == BPF_MAP_TYPE_DEVMAP)
			ret = reuse_devmap(map, path);
		if (ret) {
			xlb_err_set(err, "pin path %s: %s", path,
				    strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* The id of the program called name if it is attached to ifindex, else 0. */
static __u32 find_attached(int ifindex, const char *name,
			   enum xdp_attach_mode *mode)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	__u32 id = 0;

	if (!mp || libxdp_get_error(mp))
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), name))
			id = xdp_program__id(p);
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp)) {
			if (!strcmp(xdp_program__name(p), name)) {
				id = xdp_program__id(p);
				break;
			}
		}
	}
	if (id)
		*mode = xdp_multiprog__attach_mode(mp);
	xdp_multiprog__close(mp);
	return id;
}

/* Does program prog_id use the map pinned at dir/name? */
static bool prog_uses_pinned(__u32 prog_id, const char *dir, const char *name)
{
	struct bpf_prog_info pi = {0};
	struct bpf_map_info mi = {0};
	__u32 plen = sizeof(pi), mlen = sizeof(mi), ids[64] = {0};
	const __u32 max = sizeof(ids) / sizeof(ids[0]);
	bool used = false;
	char path[512];
	int mfd, pfd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	mfd = bpf_obj_get(path);
	if (mfd < 0)
		return false;
	pfd = bpf_prog_get_fd_by_id(prog_id);
	pi.nr_map_ids = max;
	pi.map_ids = (__u64)(unsigned long)ids;
	if (pfd >= 0 && !bpf_obj_get_info_by_fd(mfd, &mi, &mlen) &&
	    !bpf_obj_get_info_by_fd(pfd, &pi, &plen)) {
		for (__u32 i = 0; i < pi.nr_map_ids && i < max; i++)
			used |= ids[i] == mi.id;
	}
	if (pfd >= 0)
		close(pfd);
	close(mfd);
	return used;
}

/*
 * An attached program of another version (opts.layout_map) is detached:
 * 0 when it was (nothing is attached now), else the libxdp error.
 */
static int detach_other_version(struct xlb_xdp *x, const struct xlb_xdp_opts *o,
				__u32 prog_id)
{
	struct xdp_program *p = xdp_program__from_id(prog_id);
	int ret = libxdp_get_error(p);

	xlb_log(LOG_WARNING,
		"%s on %s is another version's (it does not use %s/%s): "
		"replacing it; flows of the flow table go on if its shape "
		"is this version's, the rest re-hash through their rings",
		o->what, o->ifname, x->pin_dir, o->layout_map);
	if (!ret)
		ret = xdp_program__detach(p, x->ifindex, x->mode, 0);
	if (!ret || !libxdp_get_error(p))
		xdp_program__close(p);
	return ret;
}

/* Adopting needs the running program's maps: they must be pinned. */
static int validate_adoptable(const struct xlb_xdp *x,
			      const struct xlb_xdp_opts *o, struct xlb_err *err)
{
	char pin[512];

	snprintf(pin, sizeof(pin), "%s/%s", x->pin_dir, o->adopt_map);
	if (!access(pin, F_OK))
		return 0;
	xlb_err_set(err,
		    "an xlb program is attached to %s but no maps are "
		    "pinned at %s: detach it (xdp-loader unload %s "
		    "--all) or give its --pin-dir",
		    o->ifname, x->pin_dir, o->ifname);
	return -EEXIST;
}

/* Loads and attaches the object's program; a libxdp error code. */
static int attach(struct xlb_xdp *x, const char *prog_name)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .obj = x->obj,
			    .prog_name = prog_name);
	int ret;

	x->prog = xdp_program__create(&xopts);
	ret = libxdp_get_error(x->prog);
	if (ret) {
		x->prog = NULL;
		return ret;
	}
	ret = xdp_program__attach(x->prog, x->ifindex, x->mode, 0);
	if (!ret)
		x->prog_id = xdp_program__id(x->prog);
	return ret;
}

int xlb_xdp_open(struct xlb_xdp *x, struct bpf_object *obj,
		 const struct xlb_xdp_opts *o, struct xlb_err *err)
{
	__u32 attached = 0;
	char msg[128];
	int ret;

	x->obj = obj;
	x->mode = o->mode;
	x->ifindex = if_nametoindex(o->ifname);
	if (!x->ifindex) {
		xlb_err_set(err, "no interface %s", o->ifname);
		return -ENODEV;
	}
	snprintf(x->pin_dir, sizeof(x->pin_dir), "%s",
		 o->pin_dir ? o->pin_dir : "");
	if (o->pin_dir) {
		ret = xlb_ensure_bpffs(x->pin_dir, err);
		if (!ret)
			ret = set_pin_paths(obj, x->pin_dir, err);
		if (ret)
			return ret;
		attached = find_attached(x->ifindex, o->prog_name, &x->mode);
	}
	if (attached && o->layout_map &&
	    !prog_uses_pinned(attached, x->pin_dir, o->layout_map)) {
		ret = detach_other_version(x, o, attached);
		if (ret) {
			libxdp_strerror(ret, msg, sizeof(msg));
			xlb_err_set(err,
				    "detaching %s of another version from "
				    "%s: %s",
				    o->what, o->ifname, msg);
			return ret;
		}
		attached = 0;
		x->mode = o->mode;
	}
	if (attached) {
		ret = validate_adoptable(x, o, err);
		if (ret)
			return ret;
	}
	if (o->pin_dir && o->before_load) {
		ret = o->before_load(obj, x->pin_dir, attached, err);
		if (ret)
			return ret;
	}
	if (attached) {
		/* Keep the running program; only reach its maps. */
		ret = bpf_object__load(obj);
		x->adopted = true;
		x->prog_id = attached;
	} else {
		ret = attach(x, o->prog_name);
	}
	if (ret) {
		libxdp_strerror(ret, msg, sizeof(msg));
		if (o->pin_dir)
			xlb_err_set(err,
				    "loading %s on %s failed: %s (maps "
				    "pinned at %s by another version? remove "
				    "them to start fresh)",
				    o->what, o->ifname, msg, x->pin_dir);
		else
			xlb_err_set(err, "attaching %s to %s: %s", o->what,
				    o->ifname, msg);
		xdp_program__close(x->prog);
		x->prog = NULL;
	}
	return ret;
}

void xlb_xdp_close(struct xlb_xdp *x, bool detach)
{
	struct xdp_program *p = x->prog;
	struct bpf_map *map;

	if (detach && x->obj) {
		if (!p && x->prog_id)
			p = xdp_program__from_id(x->prog_id);
		if (p && !libxdp_get_error(p))
			xdp_program__detach(p, x->ifindex, x->mode, 0);
		if (p != x->prog && p && !libxdp_get_error(p))
			xdp_program__close(p);
		if (x->pin_dir[0]) {
			bpf_object__for_each_map(map, x->obj)
				bpf_map__unpin(map, NULL);
			rmdir(x->pin_dir);
		}
	}
	xdp_program__close(x->prog);
	x->prog = NULL;
	x->obj = NULL;
}

int xlb_egress_bind(struct bpf_object *obj)
{
	struct bpf_program *prog =
		bpf_object__find_program_by_name(obj, "xlb_egress");
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "egress_prog");
	__u32 zero = 0;
	int fd;

	if (!prog || !map)
		return -ENOENT;
	fd = bpf_program__fd(prog);
	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(bpf_map__fd(map), &zero, &fd, BPF_ANY))
		return -errno;
	return 0;
}
