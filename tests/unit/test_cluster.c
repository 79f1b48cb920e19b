// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The cluster's rules without etcd: its documents (written, read back,
 * and refused whole when anything is wrong), the health quorum, the
 * cluster's effective model, and the fingerprint checks that gate a
 * joining node.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cluster.h"
#include "helpers.h"
#include "text.h"

static const char *const addrs[] = {"198.18.31.2", "198.18.32.2",
				    "198.18.33.2"};

/* One VIP, three backends with ids 1..3, weight 10. */
static void model3(struct xlb_model *m, __u8 on_down, __u8 all_down)
{
	struct xlb_vip_cfg v = {0};
	struct xlb_err err;

	xlb_model_init(m);
	v.key = vkey("198.19.0.1:80/tcp");
	v.on_check_down = on_down;
	v.all_down = all_down;
	assert_int_equal(xlb_model_vip_add(m, &v, &err), 0);
	for (int i = 0; i < 3; i++) {
		struct xlb_backend_cfg b = {.weight = 10,
					    .state = XLB_BACKEND_UP};

		assert_int_equal(
			xlb_parse_addr(addrs[i], &b.addr, &b.family, &err), 0);
		assert_int_equal(xlb_model_backend_add(m, &v.key, &b, &err), 0);
	}
	for (int i = 0; i < 3; i++)
		m->vips[0].backends[i].id = i + 1;
	m->vips[0].vip_id = 1;
}

static struct xlb_cluster_bk bk(const char *vip, const char *addr)
{
	struct xlb_cluster_bk b = {.vip = vkey(vip)};
	struct xlb_err err;

	assert_int_equal(xlb_parse_addr(addr, &b.addr, &b.family, &err), 0);
	return b;
}

/* Member id sees the backends of addrs[] whose bit is in mask down. */
static void member_sees(struct xlb_cluster_view *v, const char *id,
			unsigned mask)
{
	struct xlb_cluster_member *m = xlb_cluster_member(v, id, true);

	assert_non_null(m);
	free(m->down);
	m->down = calloc(3, sizeof(*m->down));
	m->n_down = 0;
	for (int i = 0; i < 3; i++)
		if (mask & (1u << i))
			m->down[m->n_down++] =
				bk("198.19.0.1:80/tcp", addrs[i]);
	m->has_health = true;
}

static void test_ids_and_keys(void **state)
{
	const char *id;

	(void)state;
	assert_int_equal(xlb_cluster_id_check("node", "lb-1.a_b", NULL), 0);
	assert_int_equal(xlb_cluster_id_check("node", "", NULL), -EINVAL);
	assert_int_equal(xlb_cluster_id_check("node", "a/b", NULL), -EINVAL);
	assert_int_equal(xlb_cluster_id_check("node", "a b", NULL), -EINVAL);
	assert_int_equal(
		xlb_cluster_id_check("node",
				     "x2345678901234567890123456789012345678901"
				     "23456789012345678901234",
				     NULL),
		-EINVAL);
	assert_int_equal(xlb_cluster_key_kind("/xlb/c/", "/xlb/c/config", &id),
			 XLB_CKEY_CONFIG);
	assert_int_equal(
		xlb_cluster_key_kind("/xlb/c/", "/xlb/c/health/lb1", &id),
		XLB_CKEY_HEALTH);
	assert_string_equal(id, "lb1");
	assert_int_equal(
		xlb_cluster_key_kind("/xlb/c/", "/xlb/c/nodes/lb2", &id),
		XLB_CKEY_NODE);
	assert_string_equal(id, "lb2");
	/* Another cluster's keys, odd names and unknown keys are not ours. */
	assert_int_equal(xlb_cluster_key_kind("/xlb/c/", "/xlb/c2/config", &id),
			 XLB_CKEY_OTHER);
	assert_int_equal(
		xlb_cluster_key_kind("/xlb/c/", "/xlb/c/nodes/a/b", &id),
		XLB_CKEY_OTHER);
	assert_int_equal(xlb_cluster_key_kind("/xlb/c/", "/xlb/c/nodes/", &id),
			 XLB_CKEY_OTHER);
	assert_int_equal(xlb_cluster_key_kind("/xlb/c/", "/xlb/c/configx", &id),
			 XLB_CKEY_OTHER);
}

static void test_config_round_trip(void **state)
{
	struct xlb_model m, back;
	struct xlb_err err = {{0}};
	char *doc;

	(void)state;
	model3(&m, XLB_CHECK_DOWN_MOVE, XLB_ALL_DOWN_DROP);
	doc = xlb_cluster_config_encode(&m, "lb1");
	assert_non_null(doc);
	/* Ids are each node's own: never in the shared document. */
	assert_null(strstr(doc, "\"id\""));
	assert_null(strstr(doc, "vip_id"));
	assert_int_equal(
		xlb_cluster_config_decode(doc, strlen(doc), &back, &err), 0);
	assert_true(xlb_model_equal(&m, &back, false));
	free(doc);
	xlb_model_free(&m);
	xlb_model_free(&back);
}

static void test_config_refused_whole(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{\"config\": {}}",		       /* no format */
		"{\"format\": \"1\", \"config\": {}}", /* not an integer */
		"{\"format\": 1}",		       /* no config */
		"{\"format\": 1, \"config\": []}",
		"{\"format\": 1, \"config\": {\"vips\": [{\"vip\": "
		"\"198.19.0.1:80/tcp\", \"backends\": [{\"addr\": "
		"\"198.18.31.2\", \"weight\": 99999999}]}]}}",
		"{\"format\": 1, \"format\": 1, \"config\": {}}",
	};
	struct xlb_err err;
	struct xlb_model m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(xlb_cluster_config_decode(
					 bad[i], strlen(bad[i]), &m, &err),
				 -EINVAL);
		assert_true(err.msg[0] != '\0');
		assert_int_equal(m.n_vips, 0);
	}
	/* A newer format is refused with its own errno and says so. */
	static const char newer[] = "{\"format\": 2, \"config\": {}}";

	memset(&err, 0, sizeof(err));
	assert_int_equal(
		xlb_cluster_config_decode(newer, strlen(newer), &m, &err),
		-EPROTO);
	assert_non_null(strstr(err.msg, "newer"));
}

static void test_health_doc(void **state)
{
	struct xlb_cluster_bk in[2], *out;
	struct xlb_err err = {{0}};
	size_t n;
	char *doc;

	(void)state;
	in[0] = bk("198.19.0.1:80/tcp", "198.18.33.2");
	in[1] = bk("[2001:db8:100::1]:80/tcp", "2001:db8:31::2");
	doc = xlb_cluster_health_encode(in, 2);
	assert_non_null(doc);
	assert_int_equal(
		xlb_cluster_health_decode(doc, strlen(doc), &out, &n, &err), 0);
	assert_int_equal(n, 2);
	free(doc);
	free(out);
	/* Empty is a valid view: nothing down. */
	doc = xlb_cluster_health_encode(NULL, 0);
	assert_int_equal(
		xlb_cluster_health_decode(doc, strlen(doc), &out, &n, &err), 0);
	assert_int_equal(n, 0);
	free(doc);
	free(out);
	static const char *const bad[] = {
		"{\"format\": 1}",
		"{\"format\": 1, \"down\": {}}",
		"{\"format\": 1, \"down\": [1]}",
		"{\"format\": 1, \"down\": [{\"vip\": \"x\", \"backend\": "
		"\"198.18.31.2\"}]}",
		"{\"format\": 1, \"down\": [{\"vip\": \"198.19.0.1:80/tcp\", "
		"\"backend\": \"198.18.31.2\", \"extra\": 1}]}",
		"{\"format\": 1, \"down\": [{\"vip\": \"198.19.0.1:80/tcp\", "
		"\"backend\": \"nope\"}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(xlb_cluster_health_decode(bad[i],
							   strlen(bad[i]), &out,
							   &n, &err),
				 -EINVAL);
		assert_null(out);
	}
}

static void test_advert_doc(void **state)
{
	struct xlb_cluster_fp fp[2] = {{vkey("198.19.0.2:80/tcp"), 0xabc},
				       {vkey("198.19.0.1:80/tcp"), 0x123}};
	struct xlb_cluster_advert a = {.generation = 42,
				       .seq = 7,
				       .started = 1700000000,
				       .joined = true,
				       .announced = true,
				       .n_fp = 2,
				       .fp = fp},
				  b;
	struct xlb_err err = {{0}};
	char *doc;

	(void)state;
	strcpy(a.version, "1.2.3");
	doc = xlb_cluster_advert_encode(&a);
	assert_non_null(doc);
	assert_int_equal(xlb_cluster_advert_decode(doc, strlen(doc), &b, &err),
			 0);
	assert_int_equal(b.generation, 42);
	assert_int_equal(b.seq, 7);
	assert_true(b.joined && b.announced && !b.own_view);
	assert_string_equal(b.version, "1.2.3");
	assert_int_equal(b.n_fp, 2);
	/* Sorted by VIP key whatever the order written. */
	assert_int_equal(b.fp[0].fp, 0x123);
	assert_int_equal(b.fp[1].fp, 0xabc);
	xlb_cluster_advert_free(&b);
	free(doc);
	static const char *const bad[] = {
		"{\"format\": 1}",
		"{\"format\": 1, \"generation\": -1, \"seq\": 0, \"started\": "
		"0, "
		"\"joined\": true, \"announced\": true, \"own_view\": false, "
		"\"version\": \"x\", \"fingerprints\": {}}",
		"{\"format\": 1, \"generation\": 1, \"seq\": 0, \"started\": "
		"0, "
		"\"joined\": true, \"announced\": true, \"own_view\": false, "
		"\"version\": \"x\", \"fingerprints\": {\"198.19.0.1:80/tcp\": "
		"\"xyz\"}}",
		"{\"format\": 1, \"generation\": 1, \"seq\": 0, \"started\": "
		"0, "
		"\"joined\": true, \"announced\": true, \"own_view\": false, "
		"\"version\": \"x\", \"fingerprints\": {\"bad\": \"12\"}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xlb_cluster_advert_decode(
					 bad[i], strlen(bad[i]), &b, &err),
				 -EINVAL);
}

static void test_quorum(void **state)
{
	struct xlb_cluster_view v = {0};
	__u8 down[XLB_MAX_BACKENDS];
	__u16 votes[XLB_MAX_BACKENDS];
	struct xlb_model m;

	(void)state;
	model3(&m, XLB_CHECK_DOWN_MOVE, XLB_ALL_DOWN_DROP);
	assert_int_equal(xlb_cluster_quorum(0, 3), 2);
	assert_int_equal(xlb_cluster_quorum(0, 4), 3);
	assert_int_equal(xlb_cluster_quorum(0, 1), 1);
	assert_int_equal(xlb_cluster_quorum(1, 3), 1);
	/* One of three sees b3 down: it stays. */
	member_sees(&v, "lb1", 4);
	member_sees(&v, "lb2", 0);
	member_sees(&v, "lb3", 0);
	xlb_cluster_down(&v, 0, &m, down, votes);
	assert_int_equal(votes[3], 1);
	assert_false(down[3]);
	/* Two of three: down on every node that applied both views. */
	member_sees(&v, "lb2", 4);
	xlb_cluster_down(&v, 0, &m, down, votes);
	assert_true(down[3]);
	assert_false(down[1] || down[2]);
	/* A member leaves: 2 of 2 is still a majority; then 1 of 2 not. */
	xlb_cluster_member_drop(&v, "lb3", XLB_CKEY_HEALTH);
	assert_int_equal(xlb_cluster_members(&v), 2);
	xlb_cluster_down(&v, 0, &m, down, votes);
	assert_true(down[3]);
	member_sees(&v, "lb1", 0);
	xlb_cluster_down(&v, 0, &m, down, votes);
	assert_false(down[3]);
	/* A node with an advertisement only does not vote. */
	assert_non_null(xlb_cluster_member(&v, "lb9", true));
	xlb_cluster_member(&v, "lb9", false)->has_advert = true;
	assert_int_equal(xlb_cluster_members(&v), 2);
	/* Names of backends the model lacks count for nothing. */
	member_sees(&v, "lb1", 4);
	v.m[0].down[0] = bk("198.19.0.9:80/tcp", addrs[2]);
	xlb_cluster_down(&v, 0, &m, down, votes);
	assert_int_equal(votes[3], 1);
	xlb_cluster_view_free(&v);
	xlb_model_free(&m);
}

static void test_effective(void **state)
{
	__u8 down[XLB_MAX_BACKENDS] = {0};
	struct xlb_model m, eff;

	(void)state;
	model3(&m, XLB_CHECK_DOWN_MOVE, XLB_ALL_DOWN_DROP);
	m.vips[0].backends[0].state = XLB_BACKEND_DRAIN; /* the operator's */
	down[3] = 1;
	assert_int_equal(xlb_cluster_effective(&m, down, &eff), 0);
	assert_int_equal(eff.vips[0].backends[0].state, XLB_BACKEND_DRAIN);
	assert_int_equal(eff.vips[0].backends[1].state, XLB_BACKEND_UP);
	assert_int_equal(eff.vips[0].backends[2].state, XLB_BACKEND_DOWN);
	/* Weights as configured: no node-local scaling in a cluster. */
	assert_int_equal(eff.vips[0].backends[1].weight, 10);
	xlb_model_free(&eff);
	xlb_model_free(&m);
	/* keep: its flows stay (drain); all down and keep: all stay. */
	model3(&m, XLB_CHECK_DOWN_KEEP, XLB_ALL_DOWN_KEEP);
	assert_int_equal(xlb_cluster_effective(&m, down, &eff), 0);
	assert_int_equal(eff.vips[0].backends[2].state, XLB_BACKEND_DRAIN);
	xlb_model_free(&eff);
	down[1] = down[2] = 1;
	assert_int_equal(xlb_cluster_effective(&m, down, &eff), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(eff.vips[0].backends[i].state, XLB_BACKEND_UP);
	xlb_model_free(&eff);
	xlb_model_free(&m);
}

/* Member id advertises fingerprint fp for 198.19.0.1:80/tcp. */
static void member_ad(struct xlb_cluster_view *v, const char *id, __s64 gen,
		      __u64 fp, bool joined)
{
	struct xlb_cluster_member *m = xlb_cluster_member(v, id, true);

	xlb_cluster_advert_free(&m->ad);
	m->ad.fp = calloc(1, sizeof(*m->ad.fp));
	m->ad.fp[0] = (struct xlb_cluster_fp){vkey("198.19.0.1:80/tcp"), fp};
	m->ad.n_fp = 1;
	m->ad.generation = gen;
	m->ad.joined = joined;
	m->has_advert = true;
}

static void test_agreement(void **state)
{
	struct xlb_cluster_fp mine = {vkey("198.19.0.1:80/tcp"), 0x1111};
	struct xlb_cluster_view v = {0};

	(void)state;
	/* Alone: nothing to disagree with. */
	assert_true(xlb_cluster_agrees(&v, "lb4", &mine, 1));
	member_ad(&v, "lb4", 10, 0x1111, false); /* self: never counted */
	member_ad(&v, "lb1", 10, 0x2222, true);
	member_ad(&v, "lb2", 10, 0x2222, true);
	assert_false(xlb_cluster_agrees(&v, "lb4", &mine, 1));
	assert_int_equal(xlb_cluster_mismatch(&v, "lb4", 10, &mine, 1), 1);
	/* Another generation is not compared (it is on its way). */
	assert_int_equal(xlb_cluster_mismatch(&v, "lb4", 11, &mine, 1), 0);
	member_ad(&v, "lb1", 10, 0x1111, true);
	/* Half of the joined members agree: enough (one may be behind). */
	assert_true(xlb_cluster_agrees(&v, "lb4", &mine, 1));
	member_ad(&v, "lb2", 10, 0x1111, true);
	assert_int_equal(xlb_cluster_mismatch(&v, "lb4", 10, &mine, 1), 0);
	/* A member that has not joined does not vouch. */
	member_ad(&v, "lb1", 10, 0x2222, false);
	member_ad(&v, "lb2", 10, 0x2222, false);
	assert_true(xlb_cluster_agrees(&v, "lb4", &mine, 1));
	/* A VIP it lacks is a disagreement. */
	member_ad(&v, "lb1", 10, 0x1111, true);
	assert_false(xlb_cluster_agrees(&v, "lb4", NULL, 0));
	xlb_cluster_view_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_and_keys),
		cmocka_unit_test(test_config_round_trip),
		cmocka_unit_test(test_config_refused_whole),
		cmocka_unit_test(test_health_doc),
		cmocka_unit_test(test_advert_doc),
		cmocka_unit_test(test_quorum),
		cmocka_unit_test(test_effective),
		cmocka_unit_test(test_agreement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
