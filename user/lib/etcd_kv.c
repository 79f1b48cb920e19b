// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The etcd client's unary calls (see etcd.h): each builds the gateway's
 * JSON request, makes one etcd_call and reads what the caller wants out
 * of the answer. etcd leaves out fields that hold default values: an
 * absent field reads as 0, false or "".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_priv.h"

void xlb_etcd_kvs_free(struct xlb_etcd_kvs *kvs)
{
	for (size_t i = 0; i < kvs->n; i++)
		etcd_kv_clear(&kvs->kv[i]);
	free(kvs->kv);
	memset(kvs, 0, sizeof(*kvs));
}

/* The answer's header revision, into *rev when asked for. */
static void header_rev(const json_t *resp, int64_t *rev)
{
	if (rev)
		*rev = etcd_int(json_object_get(resp, "header"), "revision");
}

/* Makes one call, and says "what: " before a failure's why. */
static int call(struct xlb_etcd *c, const char *what, const char *path,
		json_t *req, bool one, json_t **resp, struct xlb_err *err)
{
	int ret;

	if (!req) {
		xlb_err_set(err, "%s: out of memory", what);
		return -ENOMEM;
	}
	ret = etcd_call(c, path, req, one, resp, err);
	if (ret)
		xlb_err_prefix(err, what);
	json_decref(req);
	return ret;
}

/* A request object with its key (and range_end for a prefix). */
static json_t *key_req(const char *key, bool prefix)
{
	json_t *req = json_object();

	if (req && etcd_set_key(req, key, prefix)) {
		json_decref(req);
		return NULL;
	}
	return req;
}

static int kvs_parse(const json_t *resp, struct xlb_etcd_kvs *out,
		     struct xlb_err *err)
{
	const json_t *kvs = json_object_get(resp, "kvs");
	size_t n = json_array_size(kvs);

	header_rev(resp, &out->revision);
	if (!n)
		return 0;
	out->kv = calloc(n, sizeof(*out->kv));
	if (!out->kv) {
		xlb_err_set(err, "get: out of memory");
		return -ENOMEM;
	}
	for (; out->n < n; out->n++) {
		if (etcd_kv_parse(json_array_get(kvs, out->n),
				  &out->kv[out->n])) {
			xlb_err_set(err,
				    "get: a malformed key-value from etcd");
			return -EIO;
		}
	}
	return 0;
}

int xlb_etcd_get(struct xlb_etcd *c, const char *key, bool prefix,
		 struct xlb_etcd_kvs *out, struct xlb_err *err)
{
	json_t *resp = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = call(c, "get", "/v3/kv/range", key_req(key, prefix), false, &resp,
		   err);
	if (!ret)
		ret = kvs_parse(resp, out, err);
	if (ret)
		xlb_etcd_kvs_free(out);
	json_decref(resp);
	return ret;
}

/* The body of a put: key, base64 value, lease. */
static json_t *put_req(const char *key, const void *val, size_t len,
		       int64_t lease)
{
	json_t *req = key_req(key, false);
	char *v = etcd_b64(val, len), num[24];

	snprintf(num, sizeof(num), "%lld", (long long)lease);
	if (req &&
	    (!v || json_object_set_new(req, "value", json_string(v)) ||
	     (lease && json_object_set_new(req, "lease", json_string(num))))) {
		json_decref(req);
		req = NULL;
	}
	free(v);
	return req;
}

int xlb_etcd_put(struct xlb_etcd *c, const char *key, const void *val,
		 size_t len, int64_t lease, int64_t *rev, struct xlb_err *err)
{
	json_t *resp = NULL;
	int ret;

	ret = call(c, "put", "/v3/kv/put", put_req(key, val, len, lease), false,
		   &resp, err);
	if (!ret)
		header_rev(resp, rev);
	json_decref(resp);
	return ret;
}

/* if mod_revision(key) == expect then put: the txn of put_if. */
static json_t *txn_req(const char *key, const void *val, size_t len,
		       int64_t expect)
{
	json_t *put = put_req(key, val, len, 0), *cmp = key_req(key, false);
	char num[24];

	snprintf(num, sizeof(num), "%lld", (long long)expect);
	/* A missing key's mod_revision compares as 0. */
	if (!put || !cmp ||
	    json_object_set_new(cmp, "target", json_string("MOD")) ||
	    json_object_set_new(cmp, "mod_revision", json_string(num))) {
		json_decref(put);
		json_decref(cmp);
		return NULL;
	}
	return json_pack("{s:[o],s:[{s:o}]}", "compare", cmp, "success",
			 "request_put", put);
}

int xlb_etcd_put_if(struct xlb_etcd *c, const char *key, const void *val,
		    size_t len, int64_t expect_mod_rev, int64_t *rev,
		    struct xlb_err *err)
{
	json_t *resp = NULL;
	int ret;

	ret = call(c, "put_if", "/v3/kv/txn",
		   txn_req(key, val, len, expect_mod_rev), false, &resp, err);
	if (ret)
		goto out;
	header_rev(resp, rev);
	if (!json_is_true(json_object_get(resp, "succeeded"))) {
		xlb_err_set(err,
			    "put_if %s: its mod_revision is not %lld: "
			    "nothing written",
			    key, (long long)expect_mod_rev);
		ret = -ECANCELED;
	}
out:
	json_decref(resp);
	return ret;
}

int xlb_etcd_delete(struct xlb_etcd *c, const char *key, bool prefix,
		    int64_t *rev, struct xlb_err *err)
{
	json_t *resp = NULL;
	int ret;

	ret = call(c, "delete", "/v3/kv/deleterange", key_req(key, prefix),
		   false, &resp, err);
	if (!ret)
		header_rev(resp, rev);
	json_decref(resp);
	return ret;
}

/* {"ID": "id"}: int64 as a string, as the gateway writes them too. */
static json_t *id_req(const char *name, int64_t id)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", (long long)id);
	return json_pack("{ss}", name, num);
}

int xlb_etcd_lease_grant(struct xlb_etcd *c, int ttl_s, int64_t *id,
			 struct xlb_err *err)
{
	json_t *resp = NULL;
	int ret;

	ret = call(c, "lease grant", "/v3/lease/grant", id_req("TTL", ttl_s),
		   false, &resp, err);
	if (!ret) {
		*id = etcd_int(resp, "ID");
		if (!*id) {
			xlb_err_set(err, "lease grant: %s",
				    json_string_value(
					    json_object_get(resp, "error"))
					    ?: "no lease ID in the answer");
			ret = -EIO;
		}
	}
	json_decref(resp);
	return ret;
}

int xlb_etcd_lease_keepalive(struct xlb_etcd *c, int64_t id, int *ttl_s,
			     struct xlb_err *err)
{
	json_t *resp = NULL;
	int ret;

	ret = call(c, "lease keepalive", "/v3/lease/keepalive",
		   id_req("ID", id), true, &resp, err);
	if (!ret) {
		/* An expired lease: 200 all the same, but without a TTL. */
		*ttl_s = (int)etcd_int(resp, "TTL");
		if (*ttl_s <= 0) {
			xlb_err_set(err, "lease keepalive: lease %lld expired",
				    (long long)id);
			ret = -ENOENT;
		}
	}
	json_decref(resp);
	return ret;
}

int xlb_etcd_lease_revoke(struct xlb_etcd *c, int64_t id, struct xlb_err *err)
{
	json_t *resp = NULL;
	int ret;

	ret = call(c, "lease revoke", "/v3/lease/revoke", id_req("ID", id),
		   false, &resp, err);
	json_decref(resp);
	return ret;
}

int xlb_etcd_compact(struct xlb_etcd *c, int64_t rev, struct xlb_err *err)
{
	json_t *resp = NULL;
	int ret;

	ret = call(c, "compact", "/v3/kv/compaction", id_req("revision", rev),
		   false, &resp, err);
	json_decref(resp);
	return ret;
}
