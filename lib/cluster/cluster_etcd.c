/* SPDX-License-Identifier: BSD-3-Clause */
/* An etcd v3 client over the JSON gateway (/v3/kv/range, /v3/kv/txn, /v3/watch, /v3/lease/...)
 * with libcurl: several endpoints tried in turn, TLS files, a timeout on every call, watches
 * streamed one JSON object per line and parsed across chunk boundaries. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cluster_private.h"
#include "sg_cluster.h"

#define MAX_ENDPOINTS 16
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_PAGE 1000

struct sg_etcd {
	char *endpoints[MAX_ENDPOINTS];
	uint32_t n_endpoints;
	uint32_t cur; /* the endpoint that answered last */
	char *ca_file, *cert_file, *key_file;
	uint32_t timeout_ms;
	CURL *curl;
};

/* etcd's keys and values travel in base64: decoded as NUL-terminated text, '*len' its length;
 * NULL when not base64 (or out of memory). */
static char *
unbase64_text(const char *text, size_t *len)
{
	size_t n = strlen(text);
	char *out = malloc(n / 4 * 3 + 1);
	long got;

	if (out == NULL)
		return NULL;
	got = sg_base64_decode(text, n, (unsigned char *)out);
	if (got < 0) {
		free(out);
		return NULL;
	}
	out[got] = '\0';
	*len = (size_t)got;
	return out;
}

int
sg_cluster_fail(struct sg_error *err, int rc, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sg_error_set(err, 0, "%s", msg);
	return rc;
}

/* The gateway writes 64-bit numbers as strings. */
int64_t
sg_cluster_json_int(const json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

static json_t *
json_b64(const char *data, size_t len)
{
	char *text = sg_base64_encode(data, len);
	json_t *s = text != NULL ? json_string(text) : NULL;

	free(text);
	return s;
}

/* The key just after every key starting with 'prefix' (etcd's range_end); "\0" for all. */
static json_t *
range_end(const char *prefix)
{
	size_t len = strlen(prefix);
	char *end = strdup(prefix);
	json_t *v;

	if (end == NULL)
		return NULL;
	while (len > 0 && (unsigned char)end[len - 1] == 0xff)
		len--;
	if (len == 0) {
		free(end);
		return json_b64("", 1);
	}
	end[len - 1] = (char)((unsigned char)end[len - 1] + 1);
	v = json_b64(end, len);
	free(end);
	return v;
}

/* ---- the client ---- */

uint32_t
sg_etcd_split_endpoints(char *list, const char **endpoints, uint32_t max)
{
	uint32_t n = 0;
	char *save = NULL;

	for (char *t = strtok_r(list, ", ", &save); t != NULL && n < max;
			t = strtok_r(NULL, ", ", &save))
		endpoints[n++] = t;
	return n;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

struct sg_etcd *
sg_etcd_create(const struct sg_etcd_params *params, struct sg_error *err)
{
	static bool curl_ready;
	struct sg_etcd *e;

	if (params->n_endpoints == 0 || params->n_endpoints > MAX_ENDPOINTS) {
		sg_error_set(err, 0, "etcd: give 1 to %d endpoints (%u given)", MAX_ENDPOINTS,
				params->n_endpoints);
		return NULL;
	}
	for (uint32_t i = 0; i < params->n_endpoints; i++)
		if (strncmp(params->endpoints[i], "http://", 7) != 0 &&
				strncmp(params->endpoints[i], "https://", 8) != 0) {
			sg_error_set(err, 0,
					"etcd endpoint \"%s\" must start with http:// or https://",
					params->endpoints[i]);
			return NULL;
		}
	if (!curl_ready) {
		/* Not thread-safe: the first client is made before any thread uses one. */
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = true;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->curl = curl_easy_init()) == NULL) {
		free(e);
		sg_error_set(err, 0, "etcd: out of memory");
		return NULL;
	}
	for (uint32_t i = 0; i < params->n_endpoints; i++) {
		size_t len = strlen(params->endpoints[i]);

		e->endpoints[i] = strdup(params->endpoints[i]);
		/* "http://h:2379/" and "http://h:2379" are one endpoint. */
		if (e->endpoints[i] != NULL && len > 8 && e->endpoints[i][len - 1] == '/')
			e->endpoints[i][len - 1] = '\0';
		e->n_endpoints++;
	}
	e->ca_file = dup_or_null(params->ca_file);
	e->cert_file = dup_or_null(params->cert_file);
	e->key_file = dup_or_null(params->key_file);
	e->timeout_ms = params->timeout_ms ? params->timeout_ms : DEFAULT_TIMEOUT_MS;
	return e;
}

void
sg_etcd_free(struct sg_etcd *e)
{
	if (e == NULL)
		return;
	for (uint32_t i = 0; i < e->n_endpoints; i++)
		free(e->endpoints[i]);
	free(e->ca_file);
	free(e->cert_file);
	free(e->key_file);
	curl_easy_cleanup(e->curl);
	free(e);
}

const char *
sg_etcd_endpoint(const struct sg_etcd *e)
{
	return e->endpoints[e->cur];
}

struct buffer {
	char *data;
	size_t len, cap;
};

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct buffer *b = arg;
	size_t len = size * n;

	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *grown = realloc(b->data, cap);

		if (grown == NULL)
			return 0;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* Options every request of this client has: TLS, POST of a JSON body, the timeouts. */
static void
setup(const struct sg_etcd *e, CURL *c, const char *url, const char *body,
		struct curl_slist *headers)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)e->timeout_ms);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 2L);
	if (e->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, e->ca_file);
	if (e->cert_file != NULL)
		curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert_file);
	if (e->key_file != NULL)
		curl_easy_setopt(c, CURLOPT_SSLKEY, e->key_file);
}

/* An etcd error answer (gRPC code) as -errno. */
static int
grpc_error(json_t *doc, long http, const char *path, struct sg_error *err)
{
	const char *msg = json_string_value(json_object_get(doc, "message"));
	int64_t code = sg_cluster_json_int(json_object_get(doc, "code"));

	sg_error_set(err, 0, "etcd %s: %s (HTTP %ld)", path, msg != NULL ? msg : "error", http);
	if (code == 11 || (msg != NULL && strstr(msg, "compacted") != NULL))
		return -ESTALE;
	if (code == 5)
		return -ENOENT;
	if (code == 3)
		return -EINVAL;
	return -EIO;
}

/*
 * POST 'body' to 'path' on the current endpoint, then the next ones while they cannot be
 * reached: 0 and '*out' the answer, or -errno with 'err'.
 */
static int
call(struct sg_etcd *e, const char *path, json_t *body, json_t **out, struct sg_error *err)
{
	char *text = json_dumps(body, JSON_COMPACT);
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	int rc = -EHOSTUNREACH;

	*out = NULL;
	json_decref(body);
	if (text == NULL || headers == NULL) {
		free(text);
		curl_slist_free_all(headers);
		return sg_cluster_fail(err, -ENOMEM, "etcd: out of memory");
	}
	for (uint32_t tried = 0; tried < e->n_endpoints; tried++) {
		uint32_t k = (e->cur + tried) % e->n_endpoints;
		struct buffer b = {0};
		char url[512];
		CURLcode cc;
		long http = 0;
		json_t *doc;

		snprintf(url, sizeof(url), "%s%s", e->endpoints[k], path);
		curl_easy_reset(e->curl);
		setup(e, e->curl, url, text, headers);
		curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, (long)e->timeout_ms);
		curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &b);
		cc = curl_easy_perform(e->curl);
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &http);
		if (cc != CURLE_OK || http == 0 || http >= 500) {
			/* Unreachable, timed out, or a member without a leader: the next one. */
			sg_error_set(err, 0, "etcd %s%s: %s", e->endpoints[k], path,
					cc != CURLE_OK ? curl_easy_strerror(cc)
						       : (b.data ? b.data : "no answer"));
			rc = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EHOSTUNREACH;
			free(b.data);
			continue;
		}
		doc = b.data != NULL ? json_loadb(b.data, b.len, 0, NULL) : NULL;
		free(b.data);
		e->cur = k;
		if (doc == NULL) {
			rc = sg_cluster_fail(err, -EPROTO, "etcd %s%s: the answer is not JSON (HTTP %ld)",
					e->endpoints[k], path, http);
			break;
		}
		if (http != 200 || json_object_get(doc, "error") != NULL) {
			rc = grpc_error(doc, http, path, err);
			json_decref(doc);
			break;
		}
		*out = doc;
		rc = 0;
		break;
	}
	free(text);
	curl_slist_free_all(headers);
	return rc;
}

/* ---- key-values ---- */

void
sg_etcd_kv_clear(struct sg_etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void
sg_etcd_kvs_free(struct sg_etcd_kvs *kvs)
{
	for (size_t i = 0; i < kvs->n; i++)
		sg_etcd_kv_clear(&kvs->kvs[i]);
	free(kvs->kvs);
	memset(kvs, 0, sizeof(*kvs));
}

/* A kv of the gateway's JSON; 'with_value' false for a deletion. 0 or -EPROTO. */
int
sg_cluster_kv_decode(const json_t *j, bool with_value, struct sg_etcd_kv *kv)
{
	const char *key = json_string_value(json_object_get(j, "key"));
	const char *value = json_string_value(json_object_get(j, "value"));
	size_t len = 0;

	memset(kv, 0, sizeof(*kv));
	if (key == NULL || (kv->key = unbase64_text(key, &len)) == NULL)
		return -EPROTO;
	if (with_value) {
		kv->value = unbase64_text(value != NULL ? value : "", &kv->value_len);
		if (kv->value == NULL) {
			sg_etcd_kv_clear(kv);
			return -EPROTO;
		}
	}
	kv->create_revision = sg_cluster_json_int(json_object_get(j, "create_revision"));
	kv->mod_revision = sg_cluster_json_int(json_object_get(j, "mod_revision"));
	return 0;
}

int
sg_etcd_range(struct sg_etcd *e, const char *prefix, int64_t revision, uint32_t page,
		struct sg_etcd_kvs *out, struct sg_error *err)
{
	char *from = strdup(prefix);
	size_t from_len = strlen(prefix);
	bool more = true;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (from == NULL)
		return -ENOMEM;
	while (more && rc == 0) {
		json_t *body = json_object(), *doc = NULL, *kvs;
		size_t n, idx;

		json_object_set_new(body, "key", json_b64(from, from_len));
		json_object_set_new(body, "range_end", range_end(prefix));
		json_object_set_new(body, "limit", json_integer(page ? page : DEFAULT_PAGE));
		if (revision > 0)
			json_object_set_new(body, "revision", json_integer(revision));
		if ((rc = call(e, "/v3/kv/range", body, &doc, err)) < 0)
			break;
		/* Every page at the first page's revision: one consistent view. */
		if (revision <= 0)
			revision = sg_cluster_json_int(
					json_object_get(json_object_get(doc, "header"), "revision"));
		out->revision = revision;
		kvs = json_object_get(doc, "kvs");
		more = json_is_true(json_object_get(doc, "more"));
		n = json_array_size(kvs);
		if (n > 0) {
			struct sg_etcd_kv *grown = realloc(out->kvs, (out->n + n) * sizeof(*grown));

			if (grown == NULL) {
				rc = -ENOMEM;
				json_decref(doc);
				break;
			}
			out->kvs = grown;
		}
		json_t *kv;

		json_array_foreach(kvs, idx, kv) {
			if (sg_cluster_kv_decode(kv, true, &out->kvs[out->n]) < 0) {
				rc = sg_cluster_fail(err, -EPROTO, "etcd: a key or value is not base64");
				break;
			}
			out->n++;
		}
		if (rc == 0 && more && out->n > 0) {
			/* The next page starts just after the last key. */
			const char *last = out->kvs[out->n - 1].key;

			free(from);
			from_len = strlen(last) + 1;
			from = calloc(1, from_len + 1);
			if (from == NULL)
				rc = -ENOMEM;
			else
				memcpy(from, last, from_len - 1);
		} else {
			more = false;
		}
		json_decref(doc);
	}
	free(from);
	if (rc < 0)
		sg_etcd_kvs_free(out);
	return rc;
}

int
sg_etcd_get(struct sg_etcd *e, const char *key, struct sg_etcd_kv *kv, int64_t *revision,
		struct sg_error *err)
{
	json_t *body = json_object(), *doc = NULL, *kvs;
	int rc;

	memset(kv, 0, sizeof(*kv));
	json_object_set_new(body, "key", json_b64(key, strlen(key)));
	if ((rc = call(e, "/v3/kv/range", body, &doc, err)) < 0)
		return rc;
	if (revision != NULL)
		*revision = sg_cluster_json_int(
				json_object_get(json_object_get(doc, "header"), "revision"));
	kvs = json_object_get(doc, "kvs");
	rc = json_array_size(kvs) == 0 ? 0
	     : sg_cluster_kv_decode(json_array_get(kvs, 0), true, kv) == 0 ? 1
									     : -EPROTO;
	json_decref(doc);
	return rc;
}

static json_t *
txn_json(const struct sg_etcd_cmp *cmps, size_t n_cmps, const struct sg_etcd_op *ops, size_t n_ops)
{
	json_t *body = json_object(), *compare = json_array(), *success = json_array();

	for (size_t i = 0; i < n_cmps; i++) {
		const struct sg_etcd_cmp *c = &cmps[i];
		json_t *j = json_object();
		bool create = c->kind == SG_ETCD_CREATE_EQUAL;

		json_object_set_new(j, "key", json_b64(c->key, strlen(c->key)));
		if (c->prefix)
			json_object_set_new(j, "range_end", range_end(c->key));
		json_object_set_new(j, "target", json_string(create ? "CREATE" : "MOD"));
		json_object_set_new(j, "result",
				json_string(c->kind == SG_ETCD_MOD_LESS ? "LESS" : "EQUAL"));
		json_object_set_new(j, create ? "create_revision" : "mod_revision",
				json_integer(c->revision));
		json_array_append_new(compare, j);
	}
	for (size_t i = 0; i < n_ops; i++) {
		const struct sg_etcd_op *o = &ops[i];
		json_t *req = json_object(), *j = json_object();

		json_object_set_new(req, "key", json_b64(o->key, strlen(o->key)));
		if (o->value != NULL) {
			json_object_set_new(req, "value", json_b64(o->value, strlen(o->value)));
			if (o->lease != 0)
				json_object_set_new(req, "lease", json_integer(o->lease));
			json_object_set_new(j, "request_put", req);
		} else {
			if (o->prefix)
				json_object_set_new(req, "range_end", range_end(o->key));
			json_object_set_new(j, "request_delete_range", req);
		}
		json_array_append_new(success, j);
	}
	json_object_set_new(body, "compare", compare);
	json_object_set_new(body, "success", success);
	return body;
}

char *
sg_etcd_txn_body(const struct sg_etcd_cmp *cmps, size_t n_cmps, const struct sg_etcd_op *ops,
		size_t n_ops)
{
	json_t *body = txn_json(cmps, n_cmps, ops, n_ops);
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(body);
	return text;
}

int
sg_etcd_txn(struct sg_etcd *e, const struct sg_etcd_cmp *cmps, size_t n_cmps,
		const struct sg_etcd_op *ops, size_t n_ops, int64_t *revision, struct sg_error *err)
{
	json_t *doc = NULL;
	int rc = call(e, "/v3/kv/txn", txn_json(cmps, n_cmps, ops, n_ops), &doc, err);

	if (rc < 0)
		return rc;
	if (revision != NULL)
		*revision = sg_cluster_json_int(
				json_object_get(json_object_get(doc, "header"), "revision"));
	rc = json_is_true(json_object_get(doc, "succeeded")) ? 1 : 0;
	json_decref(doc);
	return rc;
}

int
sg_etcd_put(struct sg_etcd *e, const char *key, const char *value, int64_t lease,
		struct sg_error *err)
{
	json_t *body = json_object(), *doc = NULL;
	int rc;

	json_object_set_new(body, "key", json_b64(key, strlen(key)));
	json_object_set_new(body, "value", json_b64(value, strlen(value)));
	if (lease != 0)
		json_object_set_new(body, "lease", json_integer(lease));
	rc = call(e, "/v3/kv/put", body, &doc, err);
	json_decref(doc);
	return rc;
}

int
sg_etcd_lease_grant(struct sg_etcd *e, uint32_t ttl, int64_t *id, struct sg_error *err)
{
	json_t *body = json_object(), *doc = NULL;
	int rc;

	json_object_set_new(body, "TTL", json_integer(ttl));
	if ((rc = call(e, "/v3/lease/grant", body, &doc, err)) < 0)
		return rc;
	*id = sg_cluster_json_int(json_object_get(doc, "ID"));
	json_decref(doc);
	return *id != 0 ? 0 : sg_error_set(err, 0, "etcd: lease grant gave no lease");
}

int
sg_etcd_lease_keepalive(struct sg_etcd *e, int64_t id, struct sg_error *err)
{
	json_t *body = json_object(), *doc = NULL;
	int rc;

	json_object_set_new(body, "ID", json_integer(id));
	if ((rc = call(e, "/v3/lease/keepalive", body, &doc, err)) < 0)
		return rc;
	/* An expired lease answers TTL 0 (or nothing). */
	rc = sg_cluster_json_int(json_object_get(json_object_get(doc, "result"), "TTL")) > 0
			     ? 0
			     : -ENOENT;
	if (rc < 0)
		sg_error_set(err, 0, "etcd: lease %lld expired", (long long)id);
	json_decref(doc);
	return rc;
}

/* ---- watches ---- */

struct sg_etcd_stream {
	struct buffer buf;
};

struct sg_etcd_stream *
sg_etcd_stream_create(void)
{
	return calloc(1, sizeof(struct sg_etcd_stream));
}

void
sg_etcd_stream_free(struct sg_etcd_stream *s)
{
	if (s == NULL)
		return;
	free(s->buf.data);
	free(s);
}

/* One watch response: its events to 'fn'; their number, -ESTALE, or -errno. */
static int
stream_line(const char *line, size_t len, sg_etcd_events_fn fn, void *arg, int64_t *compact,
		struct sg_error *err)
{
	json_t *doc = json_loadb(line, len, 0, NULL), *result, *events, *ev;
	struct sg_etcd_event *evs = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (doc == NULL)
		return sg_cluster_fail(err, -EPROTO, "etcd watch: a response is not JSON: %.60s", line);
	result = json_object_get(doc, "result");
	if (result == NULL) {
		rc = grpc_error(json_object_get(doc, "error") ? json_object_get(doc, "error") : doc,
				200, "/v3/watch", err);
		json_decref(doc);
		return rc;
	}
	if (sg_cluster_json_int(json_object_get(result, "compact_revision")) > 0) {
		*compact = sg_cluster_json_int(json_object_get(result, "compact_revision"));
		sg_error_set(err, 0, "etcd watch: revisions before %lld were compacted",
				(long long)*compact);
		json_decref(doc);
		return -ESTALE;
	}
	if (json_is_true(json_object_get(result, "canceled"))) {
		const char *why = json_string_value(json_object_get(result, "cancel_reason"));

		sg_error_set(err, 0, "etcd watch: canceled by the server: %s", why ? why : "");
		json_decref(doc);
		return -ECONNRESET;
	}
	events = json_object_get(result, "events");
	if (json_array_size(events) > 0 &&
			(evs = calloc(json_array_size(events), sizeof(*evs))) == NULL) {
		json_decref(doc);
		return -ENOMEM;
	}
	json_array_foreach(events, i, ev) {
		const char *type = json_string_value(json_object_get(ev, "type"));
		bool deleted = type != NULL && strcmp(type, "DELETE") == 0;

		if (sg_cluster_kv_decode(json_object_get(ev, "kv"), !deleted, &evs[n].kv) < 0) {
			rc = sg_cluster_fail(err, -EPROTO, "etcd watch: an event's key is not base64");
			break;
		}
		evs[n++].deleted = deleted;
	}
	if (rc == 0 && n > 0)
		fn(arg, evs, n,
				sg_cluster_json_int(json_object_get(
						json_object_get(result, "header"), "revision")));
	for (i = 0; i < n; i++)
		sg_etcd_kv_clear(&evs[i].kv);
	free(evs);
	json_decref(doc);
	return rc < 0 ? rc : (int)n;
}

int
sg_etcd_stream_feed(struct sg_etcd_stream *s, const char *data, size_t len, sg_etcd_events_fn fn,
		void *arg, int64_t *compact, struct sg_error *err)
{
	size_t start = 0;
	int total = 0;

	if (collect((char *)data, 1, len, &s->buf) != len)
		return -ENOMEM;
	for (size_t i = 0; i < s->buf.len; i++) {
		int rc;

		if (s->buf.data[i] != '\n')
			continue;
		if (i > start) {
			rc = stream_line(s->buf.data + start, i - start, fn, arg, compact, err);
			if (rc < 0) {
				s->buf.len = 0;
				return rc;
			}
			total += rc;
		}
		start = i + 1;
	}
	memmove(s->buf.data, s->buf.data + start, s->buf.len - start);
	s->buf.len -= start;
	return total;
}

struct sg_etcd_watch {
	struct sg_etcd *etcd;
	CURLM *multi;
	CURL *curl;
	struct curl_slist *headers;
	char *body;
	struct sg_etcd_stream *stream;
	bool got_data;
	/* What the write callback does with the lines (set by each poll). */
	sg_etcd_events_fn fn;
	void *arg;
	int64_t *compact;
	struct sg_error *err;
	int rc;     /* the first error the callback met */
	int events; /* handed in this poll */
};

static size_t
watch_data(char *data, size_t size, size_t n, void *arg)
{
	struct sg_etcd_watch *w = arg;
	int rc;

	w->got_data = true;
	if (w->rc < 0)
		return 0;
	rc = sg_etcd_stream_feed(w->stream, data, size * n, w->fn, w->arg, w->compact, w->err);
	if (rc < 0) {
		w->rc = rc;
		return 0; /* ends the transfer */
	}
	w->events += rc;
	return size * n;
}

void
sg_etcd_watch_close(struct sg_etcd_watch *w)
{
	if (w == NULL)
		return;
	if (w->multi != NULL && w->curl != NULL)
		curl_multi_remove_handle(w->multi, w->curl);
	curl_easy_cleanup(w->curl);
	curl_multi_cleanup(w->multi);
	curl_slist_free_all(w->headers);
	sg_etcd_stream_free(w->stream);
	free(w->body);
	free(w);
}

struct sg_etcd_watch *
sg_etcd_watch_open(struct sg_etcd *e, const char *prefix, int64_t start_revision,
		struct sg_error *err)
{
	struct sg_etcd_watch *w = calloc(1, sizeof(*w));
	json_t *body = json_object(), *create = json_object();
	char url[512];

	json_object_set_new(create, "key", json_b64(prefix, strlen(prefix)));
	json_object_set_new(create, "range_end", range_end(prefix));
	if (start_revision > 0)
		json_object_set_new(create, "start_revision", json_integer(start_revision));
	json_object_set_new(body, "create_request", create);
	if (w == NULL || (w->body = json_dumps(body, JSON_COMPACT)) == NULL ||
			(w->stream = sg_etcd_stream_create()) == NULL ||
			(w->multi = curl_multi_init()) == NULL || (w->curl = curl_easy_init()) == NULL ||
			(w->headers = curl_slist_append(NULL, "Content-Type: application/json")) ==
					NULL) {
		json_decref(body);
		sg_etcd_watch_close(w);
		sg_error_set(err, 0, "etcd watch: out of memory");
		return NULL;
	}
	json_decref(body);
	w->etcd = e;
	snprintf(url, sizeof(url), "%s/v3/watch", e->endpoints[e->cur]);
	setup(e, w->curl, url, w->body, w->headers);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, watch_data);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, w);
	curl_multi_add_handle(w->multi, w->curl);
	return w;
}

int
sg_etcd_watch_poll(struct sg_etcd_watch *w, int timeout_ms, sg_etcd_events_fn fn, void *arg,
		int64_t *compact_revision, struct sg_error *err)
{
	int running = 0, queued;
	CURLMsg *msg;

	w->fn = fn;
	w->arg = arg;
	w->compact = compact_revision;
	w->err = err;
	w->events = 0;
	curl_multi_perform(w->multi, &running);
	if (w->events == 0 && w->rc == 0 && running) {
		curl_multi_poll(w->multi, NULL, 0, timeout_ms, NULL);
		curl_multi_perform(w->multi, &running);
	}
	if (w->rc < 0)
		return w->rc;
	if (w->events > 0 || running)
		return w->events;
	msg = curl_multi_info_read(w->multi, &queued);
	if (!w->got_data)
		/* Never answered: the next call tries the next endpoint. */
		w->etcd->cur = (w->etcd->cur + 1) % w->etcd->n_endpoints;
	sg_error_set(err, 0, "etcd watch on %s ended: %s", w->etcd->endpoints[w->etcd->cur],
			msg != NULL && msg->msg == CURLMSG_DONE ? curl_easy_strerror(msg->data.result)
								  : "closed");
	return -ECONNRESET;
}
