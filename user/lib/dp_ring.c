// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The data plane's rings (see dataplane.h, and struct xlb_vip in types.h
 * for the two halves). Each VIP id's inner map stays mapped for as long
 * as xlbd runs: a change builds the VIP's table, writes it into the spare
 * half (ring_half.h waits for the grace that frees it) and the writer
 * flips the VIP's entries. Only a VIP without a usable ring (new, a new
 * size, or left by an older xlb with one table per map) gets a new map,
 * swapped in by the writer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "changes.h"
#include "dp_priv.h"
#include "log.h"
#include "maglev.h"
#include "thread.h"

static size_t ring_len(__u32 size)
{
	return ((size_t)XLB_RING_ENTRIES(size) * sizeof(struct xlb_ring_elem) +
		4095) &
	       ~4095UL;
}

/* Maps ring fd of `size` slots per half into r, which then owns fd. */
static int ring_map(struct xlb_dp_ring *r, int fd, __u32 size, __u8 half)
{
	size_t len = ring_len(size);
	void *mem;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	r->fd = fd;
	r->len = len;
	r->h.mem = mem;
	r->h.size = size;
	r->h.half = half;
	r->h.retired = 0;
	return 0;
}

void xlb_dp_ring_drop(struct xlb_dp *dp, __u32 id)
{
	struct xlb_dp_ring *r = &dp->ring[id];

	if (r->h.mem) {
		munmap(r->h.mem, r->len);
		close(r->fd);
	}
	memset(r, 0, sizeof(*r));
}

/* One grace period: the kernel returns from this only after
 * synchronize_rcu() (as its selftests rely on to wait for programs). */
static int grace_sync(void *ctx)
{
	struct xlb_dp *dp = ctx;
	__u32 zero = 0;

	return bpf_map_update_elem(dp->grace_outer_fd, &zero,
				   &dp->grace_inner_fd, BPF_ANY)
		       ? -errno
		       : 0;
}

/*
 * The half in force of VIP id's ring, as the previous xlbd left it: what
 * its vip_info entry and its vips entry both say. -1 when they disagree
 * (it stopped between the two updates of a flip): then either half may
 * be read, and the ring is replaced rather than written.
 */
static int left_half(struct xlb_dp *dp, __u32 id, const struct xlb_vip_info *vi)
{
	struct xlb_vip val;

	if (!bpf_map_lookup_elem(dp->vips_fd, &vi->key, &val) &&
	    val.vip_id == id && val.ring_half != vi->vip.ring_half)
		return -1;
	return vi->vip.ring_half & 1;
}

/*
 * Adopts the rings a previous xlbd left: their half in force is what the
 * VIP's entries say. A ring of another shape than two halves of the
 * VIP's size is left alone: the first build of its VIP swaps a new map
 * in. (An older xlb's rings, of another element size, are in a map this
 * one does not use: dataplane.c.)
 */
static void adopt_rings(struct xlb_dp *dp)
{
	__u32 adopted = 0, other = 0;
	__u64 ticket;

	for (__u32 id = 1; id < XLB_MAX_VIPS; id++) {
		struct bpf_map_info info = {0};
		__u32 len = sizeof(info), map_id, m;
		struct xlb_vip_info vi;
		int fd, half;

		if (bpf_map_lookup_elem(dp->rings_fd, &id, &map_id))
			continue;
		fd = bpf_map_get_fd_by_id(map_id);
		if (fd < 0)
			continue;
		if (bpf_map_lookup_elem(dp->vip_info_fd, &id, &vi))
			memset(&vi, 0, sizeof(vi));
		m = vi.vip.ring_size;
		half = left_half(dp, id, &vi);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) || !m ||
		    info.max_entries != XLB_RING_ENTRIES(m) ||
		    info.value_size != sizeof(struct xlb_ring_elem) ||
		    !(info.map_flags & BPF_F_MMAPABLE) || half < 0 ||
		    ring_map(&dp->ring[id], fd, m, half)) {
			other += m && half >= 0;
			close(fd);
			continue;
		}
		adopted++;
	}
	if (other)
		xlb_log(LOG_NOTICE,
			"rings not of their VIP's size: %u; each is rebuilt "
			"into a new map",
			other);
	if (!adopted)
		return;
	/* The previous xlbd may have flipped just before it stopped. */
	ticket = xlb_grace_flipped(dp->grace);
	for (__u32 id = 1; id < XLB_MAX_VIPS; id++)
		if (dp->ring[id].h.mem)
			dp->ring[id].h.retired = ticket;
}

int xlb_dp_rings_open(struct xlb_dp *dp, struct xlb_err *err)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int ret;

	dp->grace_inner_fd =
		bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_grace", sizeof(__u32),
			       sizeof(__u32), 1, NULL);
	if (dp->grace_inner_fd < 0)
		goto err_maps;
	opts.inner_map_fd = dp->grace_inner_fd;
	dp->grace_outer_fd =
		bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "xlb_grace_outer",
			       sizeof(__u32), sizeof(__u32), 1, &opts);
	if (dp->grace_outer_fd < 0)
		goto err_maps;
	dp->grace = xlb_grace_new(grace_sync, dp);
	if (!dp->grace)
		goto err_maps;
	adopt_rings(dp);
	return 0;

err_maps:
	ret = -errno;
	xlb_err_set(err, "preparing ring updates: %s", strerror(-ret));
	xlb_dp_rings_close(dp);
	return ret;
}

void xlb_dp_rings_close(struct xlb_dp *dp)
{
	xlb_grace_free(dp->grace);
	dp->grace = NULL;
	for (__u32 id = 0; id < XLB_MAX_VIPS; id++)
		xlb_dp_ring_drop(dp, id);
	for (int i = 0; i <= XLB_DP_BUILDERS; i++) {
		free(dp->builder[i].table);
		dp->builder[i].table = NULL;
		xlb_maglev_mem_free(&dp->builder[i].mg);
	}
	if (dp->grace_outer_fd > 0)
		close(dp->grace_outer_fd);
	if (dp->grace_inner_fd > 0)
		close(dp->grace_inner_fd);
	dp->grace_outer_fd = dp->grace_inner_fd = -1;
}

/*
 * v's Maglev table into the builder's; its fingerprint and slot counts.
 * With patch set, the ring's half in force holds v's table with fewer
 * backends out (changes.h: patch_from): that table is patched straight
 * into the spare half (*in_place), when it reads as one. Rings are built
 * by several threads at once: each touches only what is v's (its id's
 * entries, its backends' ids), and its own builder.
 */
static int build_table(struct xlb_dp *dp, const struct xlb_vip_cfg *v,
		       bool patch, struct xlb_dp_builder *bd, bool *in_place,
		       struct xlb_err *err)
{
	__u32 *table = bd->table;
	struct xlb_maglev_backend *mb;
	int ret = -EINVAL;
	__u64 fp;

	mb = calloc(v->n_backends ? v->n_backends : 1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	for (size_t i = 0; i < v->n_backends; i++) {
		mb[i].id = v->backends[i].id;
		mb[i].weight = xlb_changes_ring_weight(&v->backends[i]);
		mb[i].out = xlb_changes_ring_out(&v->backends[i]);
		mb[i].addr = v->backends[i].addr;
		mb[i].family = v->backends[i].family;
	}
	*in_place = false;
	if (patch) {
		struct xlb_ring_halves *h = &dp->ring[v->vip_id].h;
		__u32 *spare = xlb_ring_spare(h, dp->grace);

		ret = xlb_maglev_repatch_in(&bd->mg, mb, v->n_backends,
					    v->ring_size, xlb_ring_in_force(h),
					    spare, &fp);
		if (!ret) {
			table = spare;
			*in_place = true;
			bd->patched++;
		}
	}
	/* Not a table of this set after all (refused, table untouched):
	 * built, as any other. */
	if (ret == -EINVAL)
		ret = xlb_maglev_build_in(&bd->mg, mb, v->n_backends,
					  v->ring_size, table, &fp);
	free(mb);
	if (ret) {
		xlb_err_set(err, "building the ring: %s", strerror(-ret));
		return ret;
	}
	dp->fingerprint[v->vip_id] = fp;
	for (size_t i = 0; i < v->n_backends; i++)
		dp->slots[v->backends[i].id] = 0;
	for (__u32 s = 0; s < v->ring_size; s++)
		if (table[s] < XLB_MAX_BACKENDS)
			dp->slots[table[s]]++;
	return 0;
}

/* A new ring map of two halves for v, holding table. */
static int new_ring(struct xlb_dp *dp, const struct xlb_vip_cfg *v,
		    const __u32 *table, struct xlb_err *err)
{
	LIBBPF_OPTS(bpf_map_create_opts, copts,
		    .map_flags = XLB_RING_MAP_FLAGS);
	struct xlb_dp_ring *r = &dp->ring[v->vip_id];
	const struct xlb_vip_info *w = &dp->vip_written[v->vip_id];
	int ret, fd;

	xlb_dp_ring_drop(dp, v->vip_id);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_ring", sizeof(__u32),
			    sizeof(struct xlb_ring_elem),
			    XLB_RING_ENTRIES(v->ring_size), &copts);
	if (fd < 0) {
		ret = -errno;
		xlb_err_set(err, "creating a ring of %u slots: %s",
			    v->ring_size, strerror(-ret));
		return ret;
	}
	ret = ring_map(r, fd, v->ring_size, 0);
	if (ret) {
		close(fd);
		xlb_err_set(err, "mapping a ring: %s", strerror(-ret));
		return ret;
	}
	/*
	 * The half the VIP's entries name until they are rewritten must be
	 * whole: only half 0 for a new id or entries known to name half 0
	 * (writing the other, a first touch of its pages, cost as much
	 * again), both after a restart or a failed flip.
	 */
	xlb_ring_write_new(&r->h, table,
			   !dp->fresh_vip[v->vip_id] &&
				   (!w->key.family || w->vip.ring_half));
	r->fresh = 1;
	return 0;
}

/*
 * One ring: 0 (spare half written) or 1 (a new map), or -errno. patch:
 * the ring in force may be patched (changes.h: patch_from).
 */
static int build_ring(struct xlb_dp *dp, const struct xlb_vip_cfg *v,
		      bool patch, struct xlb_dp_builder *bd,
		      struct xlb_err *err)
{
	struct xlb_dp_ring *r = &dp->ring[v->vip_id];
	bool held = r->h.mem && r->h.size == v->ring_size && !r->fresh;
	bool in_place;
	int ret;

	ret = build_table(dp, v, patch && held, bd, &in_place, err);
	if (ret)
		return ret;
	if (!held) {
		ret = new_ring(dp, v, bd->table, err);
		return ret ? ret : 1;
	}
	if (in_place)
		/* Written before the flip that publishes it. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	else
		xlb_ring_write_spare(&r->h, dp->grace, bd->table);
	r->staged = 1;
	return 0;
}

/* The rings of one apply, taken in turn by every builder. */
struct ring_batch {
	struct xlb_dp *dp;
	const struct xlb_vip_cfg *const *v;
	const struct xlb_vip_cfg *const *patch_from;
	size_t n;
	int *fresh;
	pthread_mutex_t lock;
	size_t next; /* the next ring to take */
	int ret;     /* the first failure; then nothing more is taken */
	struct xlb_err *err;
};

static void build_some(struct ring_batch *b, struct xlb_dp_builder *bd)
{
	struct xlb_err err = {{0}};
	size_t i;
	int ret;

	for (;;) {
		pthread_mutex_lock(&b->lock);
		i = b->ret ? b->n : b->next++;
		pthread_mutex_unlock(&b->lock);
		if (i >= b->n)
			return;
		ret = build_ring(b->dp, b->v[i], b->patch_from[i], bd, &err);
		pthread_mutex_lock(&b->lock);
		if (ret < 0 && !b->ret) {
			b->ret = ret;
			*b->err = err;
		}
		if (ret >= 0)
			b->fresh[i] = ret;
		pthread_mutex_unlock(&b->lock);
	}
}

struct builder {
	struct ring_batch *batch;
	struct xlb_dp_builder *bd;
	pthread_t thread;
};

static void *builder_thread(void *arg)
{
	struct builder *w = arg;

	build_some(w->batch, w->bd);
	return NULL;
}

/* Builder i's table, allocated at its first use; false when out of memory. */
static bool builder_ready(struct xlb_dp *dp, size_t i)
{
	if (!dp->builder[i].table)
		dp->builder[i].table = calloc(XLB_RING_SIZE_MAX, sizeof(__u32));
	return dp->builder[i].table;
}

/* Helpers for a batch of n: one per further CPU, their builders kept for later.
 */
static size_t start_builders(struct xlb_dp *dp, struct ring_batch *b,
			     struct builder *w)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = 0;

	while (n < XLB_DP_BUILDERS && (long)n + 1 < cpus && n + 1 < b->n) {
		if (!builder_ready(dp, n + 1))
			break;
		w[n].batch = b;
		w[n].bd = &dp->builder[n + 1];
		if (xlb_thread_start(&w[n].thread, builder_thread, &w[n]))
			break;
		n++;
	}
	return n;
}

int xlb_dp_rings_build(struct xlb_dp *dp, const struct xlb_vip_cfg *const *v,
		       const struct xlb_vip_cfg *const *patch_from, size_t n,
		       int *fresh, struct xlb_err *err)
{
	struct builder w[XLB_DP_BUILDERS];
	struct ring_batch b = {.dp = dp,
			       .v = v,
			       .patch_from = patch_from,
			       .n = n,
			       .fresh = fresh,
			       .err = err};
	size_t helpers;

	if (!builder_ready(dp, 0)) {
		xlb_err_set(err, "building rings: out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&b.lock, NULL);
	/* Maglev is most of a rebuild: a storm of them uses every CPU. */
	helpers = start_builders(dp, &b, w);
	build_some(&b, &dp->builder[0]);
	for (size_t i = 0; i < helpers; i++)
		pthread_join(w[i].thread, NULL);
	pthread_mutex_destroy(&b.lock);
	if (!b.ret)
		dp->rings_built += n;
	return b.ret;
}

__u8 xlb_dp_ring_half(const struct xlb_dp *dp, __u32 id)
{
	const struct xlb_dp_ring *r = &dp->ring[id];

	return r->staged ? !r->h.half : r->h.half;
}

void xlb_dp_rings_commit(struct xlb_dp *dp)
{
	__u64 ticket = 0;
	__u32 id;

	for (id = 1; id < XLB_MAX_VIPS && !ticket; id++)
		if (dp->ring[id].staged)
			ticket = xlb_grace_flipped(dp->grace);
	for (id = 1; id < XLB_MAX_VIPS; id++) {
		struct xlb_dp_ring *r = &dp->ring[id];

		if (r->staged)
			xlb_ring_flipped(&r->h, ticket);
		r->staged = r->fresh = 0;
	}
}

void xlb_dp_rings_abort(struct xlb_dp *dp, bool flipping)
{
	for (__u32 id = 1; id < XLB_MAX_VIPS; id++) {
		struct xlb_dp_ring *r = &dp->ring[id];

		if (!r->staged && !r->fresh)
			continue;
		/* Not in force: the next apply builds it again. */
		dp->fingerprint[id] = 0;
		/* A flip may be half done: which half packets read is not
		 * known, so neither is written again; a new map replaces
		 * the ring. A new map not swapped in is never used. */
		if (r->fresh || flipping)
			xlb_dp_ring_drop(dp, id);
		r->staged = 0;
	}
}
