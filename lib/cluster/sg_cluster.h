/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfw as a node of a fleet driven by etcd: an etcd v3 client over its JSON gateway (libcurl,
 * jansson) and the fleet state under the key layout of docs/cluster.md, turned into configs.
 *
 * Usage: sg_etcd_create() with the endpoints; sg_etcd_range() reads a prefix at a revision,
 * sg_etcd_watch_open()/sg_etcd_watch_poll() follow it from there, sg_etcd_txn() writes with
 * compares. A struct sg_cluster_fleet holds the keys under the prefix (relative names such as
 * "groups/sg-web" to their JSON values); sg_cluster_fleet_build() makes the config a node
 * enforces (its local file plus the fleet), validated by lib/conf as a file is, with errors
 * naming the etcd key. No DPDK.
 *
 * Errors: negative errno and a message in 'err'. Thread-safety: one client, watch or fleet per
 * thread at a time; distinct objects may be used by distinct threads.
 */
#ifndef SG_CLUSTER_H
#define SG_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sg_common.h"
#include "sg_conf.h"

/** The default key prefix (the layout's version is part of it). */
#define SG_CLUSTER_PREFIX "/sgfw/v1/"
/** The presence key's lease, seconds. */
#define SG_CLUSTER_LEASE_TTL 10

/* ---- The etcd client ---- */

struct sg_etcd;

struct sg_etcd_params {
	const char *const *endpoints; /**< "http://10.0.0.1:2379", ...: tried in turn. */
	uint32_t n_endpoints;
	const char *ca_file;   /**< TLS: CA bundle to verify the server (NULL: system's). */
	const char *cert_file; /**< TLS client certificate (NULL: none). */
	const char *key_file;  /**< Its private key. */
	uint32_t timeout_ms;   /**< Each call (not a watch) in all; 0: 5000. */
};

/** A client; NULL and 'err' when the parameters are wrong. */
struct sg_etcd *sg_etcd_create(const struct sg_etcd_params *params, struct sg_error *err);
void sg_etcd_free(struct sg_etcd *etcd);
/** Split "a,b,c" into the endpoints array of 'params' (at most 'max'); their number. */
uint32_t sg_etcd_split_endpoints(char *list, const char **endpoints, uint32_t max);

struct sg_etcd_kv {
	char *key;      /**< NUL-terminated. */
	char *value;    /**< NUL-terminated (values are text here); NULL for a deletion. */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
};

struct sg_etcd_kvs {
	struct sg_etcd_kv *kvs;
	size_t n;
	int64_t revision; /**< The store's revision the range was read at. */
};

void sg_etcd_kvs_free(struct sg_etcd_kvs *kvs);
/**
 * Every key under 'prefix' at 'revision' (0: the newest), in pages of 'page' keys (0: 1000)
 * all read at the first page's revision. 0, or -errno with 'err' (-ESTALE: compacted).
 */
int sg_etcd_range(struct sg_etcd *etcd, const char *prefix, int64_t revision, uint32_t page,
		struct sg_etcd_kvs *out, struct sg_error *err);
/** One key: 1 and '*kv' (to free with sg_etcd_kv_clear()), 0 when absent, or -errno. */
int sg_etcd_get(struct sg_etcd *etcd, const char *key, struct sg_etcd_kv *kv, int64_t *revision,
		struct sg_error *err);
void sg_etcd_kv_clear(struct sg_etcd_kv *kv);

enum sg_etcd_cmp_kind {
	SG_ETCD_MOD_EQUAL,    /**< mod_revision == revision */
	SG_ETCD_MOD_LESS,     /**< mod_revision < revision (of every key when 'prefix') */
	SG_ETCD_CREATE_EQUAL, /**< create_revision == revision (0: the key does not exist) */
};

struct sg_etcd_cmp {
	const char *key;
	bool prefix; /**< Compare every key starting with 'key'. */
	enum sg_etcd_cmp_kind kind;
	int64_t revision;
};

struct sg_etcd_op {
	const char *key;
	const char *value; /**< NULL: delete the key. */
	bool prefix;       /**< Delete every key starting with 'key'. */
	int64_t lease;     /**< Put bound to this lease (0: none). */
};

/** The JSON body of a txn (for tests); to free(). */
char *sg_etcd_txn_body(const struct sg_etcd_cmp *cmps, size_t n_cmps, const struct sg_etcd_op *ops,
		size_t n_ops);
/**
 * A transaction: when every compare holds, every op. 1 (done, '*revision' the new revision),
 * 0 (a compare failed: nothing written), or -errno with 'err'.
 */
int sg_etcd_txn(struct sg_etcd *etcd, const struct sg_etcd_cmp *cmps, size_t n_cmps,
		const struct sg_etcd_op *ops, size_t n_ops, int64_t *revision, struct sg_error *err);
/** Put one key (bound to 'lease' unless 0). 0 or -errno (-ENOENT: no such lease). */
int sg_etcd_put(struct sg_etcd *etcd, const char *key, const char *value, int64_t lease,
		struct sg_error *err);
int sg_etcd_lease_grant(struct sg_etcd *etcd, uint32_t ttl, int64_t *id, struct sg_error *err);
/** Keep lease 'id' alive: 0, -ENOENT when it expired, or -errno. */
int sg_etcd_lease_keepalive(struct sg_etcd *etcd, int64_t id, struct sg_error *err);
/** The endpoint the last call succeeded on. */
const char *sg_etcd_endpoint(const struct sg_etcd *etcd);

/* ---- Watches ---- */

struct sg_etcd_event {
	bool deleted;
	struct sg_etcd_kv kv; /**< kv.value NULL when deleted. */
};

/** Events of one response (those that arrived together), and the response's revision. */
typedef void (*sg_etcd_events_fn)(void *arg, const struct sg_etcd_event *events, size_t n,
		int64_t revision);

struct sg_etcd_watch;

/** Watch every key under 'prefix' from 'start_revision' on. NULL and 'err' on failure. */
struct sg_etcd_watch *sg_etcd_watch_open(
		struct sg_etcd *etcd, const char *prefix, int64_t start_revision, struct sg_error *err);
/**
 * Wait up to 'timeout_ms' for the stream and hand each response's events to 'fn'. Returns the
 * number of events handed (0: none came), -ECONNRESET when the stream ended (resume from the
 * last revision + 1), -ESTALE when the start revision was compacted ('*compact_revision' set:
 * resynchronise whole), or -errno, with 'err'.
 */
int sg_etcd_watch_poll(struct sg_etcd_watch *w, int timeout_ms, sg_etcd_events_fn fn, void *arg,
		int64_t *compact_revision, struct sg_error *err);
void sg_etcd_watch_close(struct sg_etcd_watch *w);

/**
 * The stream's parser, for tests: feed bytes as they come (any chunking); each complete line
 * is a JSON watch response. Returns what sg_etcd_watch_poll() would (events, -ESTALE, ...).
 */
struct sg_etcd_stream;
struct sg_etcd_stream *sg_etcd_stream_create(void);
void sg_etcd_stream_free(struct sg_etcd_stream *s);
int sg_etcd_stream_feed(struct sg_etcd_stream *s, const char *data, size_t len, sg_etcd_events_fn fn,
		void *arg, int64_t *compact_revision, struct sg_error *err);

/* ---- The fleet: the keys under the prefix, and configs made of them ---- */

struct sg_cluster_fleet;

struct sg_cluster_fleet *sg_cluster_fleet_create(const char *prefix);
void sg_cluster_fleet_free(struct sg_cluster_fleet *f);
/** The prefix, "/sgfw/v1/". */
const char *sg_cluster_fleet_prefix(const struct sg_cluster_fleet *f);
/**
 * Set a key (its full name; one not under the prefix is ignored, 0) to a JSON text value:
 * 1 when the key is part of the policy (not nodes/ or epoch), 0 otherwise, -EINVAL when the
 * value is not JSON ('err' names the key). A policy key's error is kept and reported by
 * sg_cluster_fleet_build(), so a fixed value clears it.
 */
int sg_cluster_fleet_set(struct sg_cluster_fleet *f, const char *key, const char *value,
		size_t len, int64_t mod_revision, struct sg_error *err);
/** Delete a key: 1 when it was a policy key, else 0. */
int sg_cluster_fleet_delete(struct sg_cluster_fleet *f, const char *key);
/** Number of policy keys. */
size_t sg_cluster_fleet_count(const struct sg_cluster_fleet *f);
/** The mod_revision of policy key 'rel' ("ports/vm1"), 0 when absent. */
int64_t sg_cluster_fleet_mod_revision(const struct sg_cluster_fleet *f, const char *rel);
/** The JSON value of policy key 'rel' (a borrowed json_t *), NULL when absent. */
void *sg_cluster_fleet_value(const struct sg_cluster_fleet *f, const char *rel);
/** The presence value of node 'host' (nodes/HOST, a borrowed json_t *), NULL when none. */
void *sg_cluster_fleet_node(const struct sg_cluster_fleet *f, const char *host);
/**
 * Build with 'value' (a json_t *, referenced) in place of policy key 'rel''s until cleared
 * with NULL: how a node keeps serving a port that moved until its new host confirms.
 */
void sg_cluster_fleet_override(struct sg_cluster_fleet *f, const char *rel, void *value);
/** Replace every key with those of 'kvs'. 0 or -EINVAL ('err' names the key). */
int sg_cluster_fleet_load(struct sg_cluster_fleet *f, const struct sg_etcd_kvs *kvs,
		struct sg_error *err);

/**
 * The config of the fleet: 'local' (a node's local file, NULL for none) with the fleet's
 * sections. The local file may not hold a fleet section (security_groups, prefix_lists,
 * subnets, hosts, router, limits) nor a port that is not an uplink: refused, naming it.
 * Validated whole by lib/conf; an error names the etcd key and the field ("etcd key
 * /sgfw/v1/groups/sg-web: rules[2]: ..."). NULL and 'err' on any error.
 */
struct sg_conf *sg_cluster_fleet_build(const struct sg_cluster_fleet *f, const char *local,
		struct sg_error *err);
/**
 * The same without a local file, seen from host 'host' (NULL: the first of hosts/): a fleet
 * with hosts gets host = that one and a null uplink named "uplink" (sgfwctl --etcd).
 */
struct sg_conf *sg_cluster_fleet_build_as(const struct sg_cluster_fleet *f, const char *host,
		struct sg_error *err);
/** The fleet's sections as config text (sgfwctl cluster export); 0 or -errno. */
int sg_cluster_fleet_write(const struct sg_cluster_fleet *f, FILE *out);
/**
 * The fleet of a config: its security groups, prefix lists, subnets, hosts, VM ports, router
 * and limits as keys (values as sg_conf_write() spells every field). 'names' (may be NULL)
 * lends the key names of subnets that match by CIDR. NULL and 'err' on failure.
 */
struct sg_cluster_fleet *sg_cluster_fleet_from_conf(const struct sg_conf *conf, const char *prefix,
		const struct sg_cluster_fleet *names, struct sg_error *err);

/** What to write to make fleet 'from' into fleet 'to': puts (value set) and deletes. */
struct sg_cluster_diff {
	struct sg_etcd_op *ops; /**< keys and values owned by the diff */
	size_t n;
};
int sg_cluster_fleet_diff(const struct sg_cluster_fleet *from, const struct sg_cluster_fleet *to,
		struct sg_cluster_diff *diff);
void sg_cluster_diff_free(struct sg_cluster_diff *diff);

/** Save the fleet and its revision as JSON to 'path' atomically (fsync, rename). 0 or -errno. */
int sg_cluster_fleet_save(const struct sg_cluster_fleet *f, int64_t revision, const char *path,
		struct sg_error *err);
/** Load what sg_cluster_fleet_save() wrote: the fleet and '*revision'. NULL and 'err'. */
struct sg_cluster_fleet *sg_cluster_fleet_restore(const char *path, int64_t *revision,
		struct sg_error *err);

#endif /* SG_CLUSTER_H */
