/* SPDX-License-Identifier: BSD-3-Clause */
/* The cluster thread of a node (docs/cluster.md): reads the fleet from etcd at a revision,
 * watches it from there, builds each change into a config (the local file plus the fleet) and
 * hands it to the control thread, which swaps it in as it does a reload; saves what it applied
 * to the state file; keeps a lease-bound presence key; holds a port that moved to another host
 * until that host confirms. etcd unreachable: the last applied policy stays, retried with
 * backoff. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sg_build_config.h"
#include "sg_cluster.h"
#include "sgfw_private.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 8000
#define WATCH_POLL_MS 250

struct sgfw_cluster {
	pthread_t thread;
	bool started;
	atomic_bool stop;
	char local[SG_PATH_MAX]; /* the node's own file */
	char host[SG_NAME_MAX];
	struct sg_conf_cluster cfg;
	struct sg_etcd *etcd;
	struct sg_cluster_fleet *fleet; /* the cluster thread's */
	int64_t seen;                   /* the last revision the watch delivered */
	int64_t policy_rev;             /* the revision of the newest policy change seen */
	bool policy_changed, nodes_changed;
	json_t *local_ports;            /* port name -> its value as last applied (served here) */
	json_t *held;                   /* ports moved away, kept until their host confirms */
	int64_t lease;
	time_t next_keepalive;
	int64_t presence_rev;           /* the applied revision presence says */
	char presence_state[16];

	/* The hand-off to the control thread, which applies (under 'mu'). */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int wake[2];
	struct sg_conf *pending;
	bool done;
	int result;
	struct sg_error result_err;
	/* Status (under 'mu'). */
	struct sgfw_cluster_status st;
	char logged_error[512];
};

/* "connecting", "connected", "disconnected" or "resyncing". */
static void
set_connection(struct sgfw_cluster *cl, const char *connection)
{
	pthread_mutex_lock(&cl->mu);
	snprintf(cl->st.connection, sizeof(cl->st.connection), "%s", connection);
	cl->st.connected = strcmp(connection, "disconnected") != 0 &&
			   strcmp(connection, "connecting") != 0;
	if (cl->st.connected)
		cl->st.last_contact = time(NULL);
	pthread_mutex_unlock(&cl->mu);
}

static void
set_error(struct sgfw_cluster *cl, const char *msg)
{
	pthread_mutex_lock(&cl->mu);
	snprintf(cl->st.last_error, sizeof(cl->st.last_error), "%s", msg);
	pthread_mutex_unlock(&cl->mu);
}

/* etcd answered. */
static void
contact(struct sgfw_cluster *cl)
{
	pthread_mutex_lock(&cl->mu);
	if (!cl->st.connected && cl->st.connection[0] != 'r') {
		snprintf(cl->st.connection, sizeof(cl->st.connection), "connected");
		cl->st.connected = true;
		if (cl->st.policy[0] == 's')
			cl->st.last_error[0] = '\0';
	}
	cl->st.last_contact = time(NULL);
	pthread_mutex_unlock(&cl->mu);
}

void
sgfw_cluster_status(struct sgfw_cluster *cl, struct sgfw_cluster_status *st)
{
	pthread_mutex_lock(&cl->mu);
	*st = cl->st;
	pthread_mutex_unlock(&cl->mu);
}

int
sgfw_cluster_fd(const struct sgfw_cluster *cl)
{
	return cl != NULL ? cl->wake[0] : -1;
}

static void remember_local_ports(struct sgfw_cluster *cl, const struct sg_conf *conf);

void
sgfw_cluster_serve(struct sgfw_cluster *cl,
		int (*apply)(void *arg, struct sg_conf *conf, struct sg_error *err), void *arg)
{
	char buf[16];
	struct sg_conf *conf;

	if (cl == NULL)
		return;
	while (read(cl->wake[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&cl->mu);
	conf = cl->pending;
	cl->pending = NULL;
	pthread_mutex_unlock(&cl->mu);
	if (conf == NULL)
		return;
	{
		struct sg_error err = {0};
		int rc = apply(arg, conf, &err);

		if (rc < 0)
			sg_conf_free(conf);
		else
			/* The cluster thread waits: what it serves now, for port moves. */
			remember_local_ports(cl, conf);
		pthread_mutex_lock(&cl->mu);
		cl->result = rc;
		cl->result_err = err;
		cl->done = true;
		pthread_cond_signal(&cl->cv);
		pthread_mutex_unlock(&cl->mu);
	}
}

/* Hand 'conf' to the control thread and wait for its swap: 0 or -errno with 'err'. */
static int
hand_over(struct sgfw_cluster *cl, struct sg_conf *conf, struct sg_error *err)
{
	int rc = -ECANCELED;

	pthread_mutex_lock(&cl->mu);
	cl->pending = conf;
	cl->done = false;
	pthread_mutex_unlock(&cl->mu);
	if (write(cl->wake[1], "x", 1) < 0) {
		/* the pipe is full: the control thread has a wake-up pending already */
	}
	pthread_mutex_lock(&cl->mu);
	while (!cl->done && !atomic_load(&cl->stop)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&cl->cv, &cl->mu, &ts);
	}
	if (cl->done) {
		rc = cl->result;
		*err = cl->result_err;
	} else if (cl->pending != NULL) {
		/* Stopping before the control thread took it. */
		sg_conf_free(cl->pending);
		cl->pending = NULL;
		sg_error_set(err, 0, "stopping");
	}
	pthread_mutex_unlock(&cl->mu);
	return rc;
}

/* Sleep 'ms', or less when stopping. */
static void
nap(struct sgfw_cluster *cl, int ms)
{
	for (int t = 0; t < ms && !atomic_load(&cl->stop); t += 50)
		usleep(50 * 1000);
}

/* Is port value 'v' served here (its host this node, or none)? */
static bool
is_local(const struct sgfw_cluster *cl, const json_t *v)
{
	const char *host = json_string_value(json_object_get(v, "host"));

	return host == NULL || host[0] == '\0' || strcmp(host, cl->host) == 0;
}

/*
 * Ports served here that etcd moved to another host stay served here, as last applied, until
 * that host's presence says it applied a revision at least the move's. True when what is held
 * changed since the last build.
 */
static bool
hold_moves(struct sgfw_cluster *cl)
{
	json_t *now = json_object();
	const char *name;
	json_t *old;
	bool changed;

	json_object_foreach(cl->local_ports, name, old) {
		char rel[SG_NAME_MAX + 8];
		json_t *v, *node;
		const char *to;
		int64_t moved;

		snprintf(rel, sizeof(rel), "ports/%s", name);
		v = sg_cluster_fleet_value(cl->fleet, rel);
		if (v == NULL || is_local(cl, v))
			continue; /* deleted (dropped at once) or still here */
		to = json_string_value(json_object_get(v, "host"));
		moved = sg_cluster_fleet_mod_revision(cl->fleet, rel);
		node = sg_cluster_fleet_node(cl->fleet, to);
		if (node != NULL &&
				json_integer_value(json_object_get(node, "applied_revision")) >= moved)
			continue; /* its new host enforces it: let go */
		json_object_set(now, rel, old);
	}
	changed = !json_equal(now, cl->held);
	pthread_mutex_lock(&cl->mu);
	cl->st.held[0] = '\0';
	json_object_foreach(now, name, old) {
		size_t used = strlen(cl->st.held);

		snprintf(cl->st.held + used, sizeof(cl->st.held) - used, "%s%s", used ? "," : "",
				name + 6);
	}
	pthread_mutex_unlock(&cl->mu);
	/* Overrides: the new holds in, the released ones out. */
	json_object_foreach(cl->held, name, old)
		if (json_object_get(now, name) == NULL)
			sg_cluster_fleet_override(cl->fleet, name, NULL);
	json_object_foreach(now, name, old) {
		if (json_object_get(cl->held, name) == NULL)
			SGFW_LOG(CLUSTER, NOTICE,
					"%s moved to another host: served here until that host "
					"applies it",
					name);
		sg_cluster_fleet_override(cl->fleet, name, old);
	}
	json_object_foreach(cl->held, name, old)
		if (json_object_get(now, name) == NULL)
			SGFW_LOG(CLUSTER, NOTICE, "%s: its new host confirmed; no longer served here",
					name);
	json_decref(cl->held);
	cl->held = now;
	return changed;
}

/* The ports this node serves in the fleet as built (overrides included). */
static void
remember_local_ports(struct sgfw_cluster *cl, const struct sg_conf *conf)
{
	json_object_clear(cl->local_ports);
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		char rel[SG_NAME_MAX + 8];
		json_t *v;

		if (conf->ports[i].uplink || conf->ports[i].remote)
			continue;
		snprintf(rel, sizeof(rel), "ports/%s", conf->ports[i].name);
		v = json_object_get(cl->held, rel);
		if (v == NULL)
			v = sg_cluster_fleet_value(cl->fleet, rel);
		if (v != NULL)
			json_object_set(cl->local_ports, conf->ports[i].name, v);
	}
}

static void
put_presence(struct sgfw_cluster *cl)
{
	struct sgfw_cluster_status st;
	struct sg_error err = {0};
	json_t *v = json_object();
	char key[SG_PATH_MAX + SG_NAME_MAX], *text;

	sgfw_cluster_status(cl, &st);
	json_object_set_new(v, "applied_revision", json_integer(st.applied_revision));
	json_object_set_new(v, "state", json_string(st.policy));
	json_object_set_new(v, "time", json_integer((json_int_t)time(NULL)));
	json_object_set_new(v, "version", json_string(SG_VERSION));
	if (st.last_error[0] != '\0')
		json_object_set_new(v, "error", json_string(st.last_error));
	text = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	snprintf(key, sizeof(key), "%snodes/%s", cl->cfg.prefix, cl->host);
	if (cl->lease == 0 &&
			sg_etcd_lease_grant(cl->etcd, cl->cfg.lease_ttl, &cl->lease, &err) < 0) {
		free(text);
		return;
	}
	if (text != NULL && sg_etcd_put(cl->etcd, key, text, cl->lease, &err) == 0) {
		contact(cl);
		cl->presence_rev = st.applied_revision;
		snprintf(cl->presence_state, sizeof(cl->presence_state), "%s", st.policy);
		cl->next_keepalive = time(NULL) + SG_MAX(1, (int)cl->cfg.lease_ttl / 3);
	} else if (err.msg[0] != '\0' && strstr(err.msg, "lease not found") != NULL) {
		cl->lease = 0; /* expired while we were away: a new one next time */
	}
	free(text);
}

/* Keep the lease and the presence key up to date: -1 when etcd did not answer. */
static int
presence(struct sgfw_cluster *cl)
{
	struct sgfw_cluster_status st;
	struct sg_error err = {0};

	sgfw_cluster_status(cl, &st);
	if (cl->lease != 0 && time(NULL) >= cl->next_keepalive) {
		int rc = sg_etcd_lease_keepalive(cl->etcd, cl->lease, &err);

		if (rc == -ENOENT) {
			cl->lease = 0;
		} else if (rc < 0) {
			set_connection(cl, "disconnected");
			set_error(cl, err.msg);
			return -1;
		} else {
			contact(cl);
			cl->next_keepalive = time(NULL) + SG_MAX(1, (int)cl->cfg.lease_ttl / 3);
		}
	}
	if (cl->lease == 0 || st.applied_revision != cl->presence_rev ||
			strcmp(st.policy, cl->presence_state) != 0)
		put_presence(cl);
	return 0;
}

/* Build the fleet into a config and have it applied; the error kept and logged once. */
static void
rebuild(struct sgfw_cluster *cl, bool policy)
{
	struct sg_error err = {0};
	struct sg_conf *conf;

	/* Only presence moved: a build only when a held port is let go. */
	if (!hold_moves(cl) && !policy)
		return;
	conf = sg_cluster_fleet_build(cl->fleet, cl->local, &err);
	if (conf != NULL && hand_over(cl, conf, &err) == 0) {
		pthread_mutex_lock(&cl->mu);
		cl->st.applied_revision = cl->policy_rev;
		cl->st.last_error[0] = '\0';
		cl->st.applies++;
		snprintf(cl->st.policy, sizeof(cl->st.policy), "synced");
		pthread_mutex_unlock(&cl->mu);
		cl->logged_error[0] = '\0';
		SGFW_LOG(CLUSTER, INFO, "applied the fleet at etcd revision %lld (%zu keys)",
				(long long)cl->policy_rev, sg_cluster_fleet_count(cl->fleet));
		if (sg_cluster_fleet_save(cl->fleet, cl->policy_rev, cl->cfg.state_file, &err) < 0)
			SGFW_LOG(CLUSTER, ERR, "%s", err.msg);
		return;
	}
	/* Refused whole: the last applied policy stays in force. */
	pthread_mutex_lock(&cl->mu);
	snprintf(cl->st.last_error, sizeof(cl->st.last_error), "%s", err.msg);
	snprintf(cl->st.policy, sizeof(cl->st.policy), "refused");
	cl->st.refused++;
	pthread_mutex_unlock(&cl->mu);
	if (strcmp(cl->logged_error, err.msg) != 0) {
		SGFW_LOG(CLUSTER, ERR,
				"the fleet at etcd revision %lld is refused, the policy of revision "
				"%lld stays in force: %s",
				(long long)cl->policy_rev, (long long)cl->st.applied_revision,
				err.msg);
		snprintf(cl->logged_error, sizeof(cl->logged_error), "%s", err.msg);
	}
}

/* The events of one watch response, into the fleet. */
static void
on_events(void *arg, const struct sg_etcd_event *ev, size_t n, int64_t revision)
{
	struct sgfw_cluster *cl = arg;
	size_t plen = strlen(cl->cfg.prefix);

	for (size_t i = 0; i < n; i++) {
		int policy;

		/* A bad value (-EINVAL) is a policy change too: the build names it. */
		if (ev[i].deleted)
			policy = sg_cluster_fleet_delete(cl->fleet, ev[i].kv.key);
		else
			policy = sg_cluster_fleet_set(cl->fleet, ev[i].kv.key, ev[i].kv.value,
					ev[i].kv.value_len, ev[i].kv.mod_revision, NULL);
		if (policy != 0) {
			cl->policy_changed = true;
			cl->policy_rev = ev[i].kv.mod_revision;
		} else if (strncmp(ev[i].kv.key, cl->cfg.prefix, plen) == 0 &&
				strncmp(ev[i].kv.key + plen, "nodes/", 6) == 0) {
			cl->nodes_changed = true;
		}
	}
	cl->seen = revision;
}

/* Read the whole prefix at a revision and apply it. 0, or -errno (etcd unreachable). */
static int
full_sync(struct sgfw_cluster *cl)
{
	struct sg_etcd_kvs kvs;
	struct sg_error err = {0};
	int rc;

	set_connection(cl, "resyncing");
	rc = sg_etcd_range(cl->etcd, cl->cfg.prefix, 0, 0, &kvs, &err);
	if (rc < 0) {
		set_connection(cl, "disconnected");
		set_error(cl, err.msg);
		return rc;
	}
	sg_cluster_fleet_load(cl->fleet, &kvs, NULL);
	cl->seen = kvs.revision;
	cl->policy_rev = kvs.revision;
	sg_etcd_kvs_free(&kvs);
	SGFW_LOG(CLUSTER, INFO, "read %zu policy keys at etcd revision %lld from %s",
			sg_cluster_fleet_count(cl->fleet), (long long)cl->seen,
			sg_etcd_endpoint(cl->etcd));
	rebuild(cl, true);
	set_connection(cl, "connected");
	pthread_mutex_lock(&cl->mu);
	cl->st.seen_revision = cl->seen;
	cl->st.resyncs++;
	pthread_mutex_unlock(&cl->mu);
	return 0;
}

static void *
cluster_main(void *arg)
{
	struct sgfw_cluster *cl = arg;
	struct sg_etcd_watch *w = NULL;
	int backoff = BACKOFF_MIN_MS;
	bool need_sync = true;

	while (!atomic_load(&cl->stop)) {
		struct sg_error err = {0};
		int64_t compact = 0;
		int rc;

		if (need_sync) {
			if (full_sync(cl) < 0) {
				nap(cl, backoff);
				backoff = SG_MIN(backoff * 2, BACKOFF_MAX_MS);
				continue;
			}
			need_sync = false;
		}
		if (w == NULL) {
			w = sg_etcd_watch_open(cl->etcd, cl->cfg.prefix, cl->seen + 1, &err);
			if (w == NULL) {
				set_error(cl, err.msg);
				nap(cl, backoff);
				continue;
			}
		}
		cl->policy_changed = cl->nodes_changed = false;
		rc = sg_etcd_watch_poll(w, WATCH_POLL_MS, on_events, cl, &compact, &err);
		if (rc > 0) {
			contact(cl);
			backoff = BACKOFF_MIN_MS;
			pthread_mutex_lock(&cl->mu);
			cl->st.seen_revision = cl->seen;
			pthread_mutex_unlock(&cl->mu);
			/* Everything that came together, in one build and one swap. */
			if (cl->policy_changed || (cl->nodes_changed && json_object_size(cl->held)))
				rebuild(cl, cl->policy_changed);
		} else if (rc == -ESTALE) {
			SGFW_LOG(CLUSTER, WARNING, "%s: reading the whole fleet again", err.msg);
			sg_etcd_watch_close(w);
			w = NULL;
			need_sync = true;
			continue;
		} else if (rc < 0) {
			if (cl->st.connected)
				SGFW_LOG(CLUSTER, WARNING,
						"%s; enforcing revision %lld, resuming from %lld",
						err.msg, (long long)cl->st.applied_revision,
						(long long)cl->seen + 1);
			set_connection(cl, "disconnected");
			set_error(cl, err.msg);
			sg_etcd_watch_close(w);
			w = NULL;
			nap(cl, backoff);
			backoff = SG_MIN(backoff * 2, BACKOFF_MAX_MS);
			continue;
		}
		if (presence(cl) < 0) {
			/* etcd does not answer but the watch did not break (a partition: no reset
			 * reaches us): open it again, from where it was. */
			SGFW_LOG(CLUSTER, WARNING, "etcd does not answer; enforcing revision %lld, "
						   "resuming from %lld",
					(long long)cl->st.applied_revision, (long long)cl->seen + 1);
			sg_etcd_watch_close(w);
			w = NULL;
			nap(cl, backoff);
			backoff = SG_MIN(backoff * 2, BACKOFF_MAX_MS);
		}
	}
	sg_etcd_watch_close(w);
	return NULL;
}

struct sgfw_cluster *
sgfw_cluster_start(const struct sg_conf *conf, const char *local, struct sg_cluster_fleet *fleet,
		int64_t revision, struct sg_error *err)
{
	struct sgfw_cluster *cl = calloc(1, sizeof(*cl));
	const char *eps[SG_CONF_MAX_ENDPOINTS];
	struct sg_etcd_params p = {0};

	if (cl == NULL) {
		sg_cluster_fleet_free(fleet);
		sg_error_set(err, 0, "out of memory");
		return NULL;
	}
	cl->wake[0] = cl->wake[1] = -1;
	pthread_mutex_init(&cl->mu, NULL);
	pthread_cond_init(&cl->cv, NULL);
	cl->cfg = conf->cluster;
	sg_strlcpy(cl->local, local, sizeof(cl->local));
	sg_strlcpy(cl->host, conf->host, sizeof(cl->host));
	for (uint32_t i = 0; i < conf->cluster.n_endpoints; i++)
		eps[i] = cl->cfg.endpoints[i];
	p.endpoints = eps;
	p.n_endpoints = cl->cfg.n_endpoints;
	p.ca_file = cl->cfg.ca_file;
	p.cert_file = cl->cfg.cert_file;
	p.key_file = cl->cfg.key_file;
	p.timeout_ms = cl->cfg.timeout_ms;
	cl->local_ports = json_object();
	cl->held = json_object();
	cl->fleet = fleet != NULL ? fleet : sg_cluster_fleet_create(cl->cfg.prefix);
	cl->st.applied_revision = revision;
	snprintf(cl->st.connection, sizeof(cl->st.connection), "connecting");
	snprintf(cl->st.policy, sizeof(cl->st.policy), revision ? "synced" : "none");
	if (cl->host[0] == '\0') {
		sg_error_set(err, 0, "a cluster node needs its host = \"NAME\" (docs/cluster.md)");
		goto fail;
	}
	if (cl->fleet == NULL || (cl->etcd = sg_etcd_create(&p, err)) == NULL ||
			pipe2(cl->wake, O_NONBLOCK | O_CLOEXEC) != 0)
		goto fail;
	remember_local_ports(cl, conf);
	if (pthread_create(&cl->thread, NULL, cluster_main, cl) != 0) {
		sg_error_set(err, 0, "cannot start the cluster thread");
		goto fail;
	}
	pthread_setname_np(cl->thread, "sg-cluster");
	cl->started = true;
	return cl;
fail:
	sgfw_cluster_stop(cl);
	return NULL;
}

void
sgfw_cluster_stop(struct sgfw_cluster *cl)
{
	if (cl == NULL)
		return;
	atomic_store(&cl->stop, true);
	if (cl->started)
		pthread_join(cl->thread, NULL);
	if (cl->etcd != NULL && cl->lease != 0) {
		/* Leave the presence key to its lease: a restart soon takes over. */
	}
	sg_conf_free(cl->pending);
	sg_etcd_free(cl->etcd);
	sg_cluster_fleet_free(cl->fleet);
	json_decref(cl->local_ports);
	json_decref(cl->held);
	if (cl->wake[0] >= 0)
		close(cl->wake[0]);
	if (cl->wake[1] >= 0)
		close(cl->wake[1]);
	pthread_mutex_destroy(&cl->mu);
	pthread_cond_destroy(&cl->cv);
	free(cl);
}
