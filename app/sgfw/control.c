/* SPDX-License-Identifier: BSD-3-Clause */
/* The control thread of sgfw: answers the machine API (JSON-RPC over the UNIX socket, sgfwctl
 * among its clients) with the commands of the offline tool (on the running config) plus live
 * ones: stats, reload, status. Requests are served one at a time, on the main core, never on a
 * worker; a few connections are open at once, none can hold the others. */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sg_build_config.h"
#include "sg_conf.h"
#include "sg_ctl.h"
#include "sg_dp.h"
#include "sg_json.h"
#include "sgfw_private.h"

/* Open connections: each request is answered in turn; a client idle this long is closed. */
#define CONTROL_CLIENTS 16
#define CONTROL_IDLE_S	10
/* Requests of one connection served before the others get their turn. */
#define CONTROL_BURST 8
/* The time a client has to take one answer, in all: then it is given up. */
#define CONTROL_SEND_MS 2000

/* Who asked for a change: a client of the socket (SO_PEERCRED), or a signal. */
struct requester {
	bool signal;
	struct ucred cred;
};

struct client {
	int fd; /* -1: a free slot */
	struct sg_ctl_reader reader;
	struct requester who;
	time_t last;
};

struct sgfw_control {
	struct sg_dp *dp;
	struct sg_ct *ct;
	char config_path[SG_PATH_MAX];
	char socket_path[SG_PATH_MAX];
	int listen_fd;
	struct stat socket_st; /**< The socket we bound: only it is removed at exit. */
	struct sgfw_metrics *metrics;
	int client_fd; /* The connection being served (sgfwctl capture keeps it). */
	bool client_taken; /* A capture took it: the connection is its stream now. */
	time_t started;
	/* The settings sgfw started with (a copy of the config), which a reload cannot change. */
	struct sg_conf *started_conf;
	pthread_mutex_t lock;
	struct sgfw_source source; /* what the views below read: dp and lock */
	struct sgfw_cluster *cluster; /* a cluster node: its policy comes from etcd */
	struct client clients[CONTROL_CLIENTS];
};

/* Swap a config into the datapath with the readers of other threads kept out. */
static int
apply(struct sgfw_control *c, struct sg_conf *conf, struct sg_error *err)
{
	struct sg_conf_logging logging = sg_dp_conf(c->dp)->logging;
	int rc;

	/* An unknown socket owner refuses the config before anything moves. */
	if ((rc = sgfw_socket_access(conf, false, err)) < 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	rc = sg_dp_apply(c->dp, conf, err);
	pthread_mutex_unlock(&c->lock);
	if (rc < 0)
		return rc;
	if (sgfw_socket_access(sg_dp_conf(c->dp), true, err) < 0)
		SGFW_LOG(PORT, ERR, "%s:%d: %s (the config is applied)",
				sg_conf_source(sg_dp_conf(c->dp), err->line),
				SG_LOC_LINE(err->line), err->msg);
	sgfw_log_reconfigure(&logging, &sg_dp_conf(c->dp)->logging);
	return 0;
}

/* The cluster thread's configs are applied as a reload's are. */
static int
apply_cluster(void *arg, struct sg_conf *conf, struct sg_error *err)
{
	struct sgfw_control *c = arg;
	int rc = apply(c, conf, err);

	if (rc < 0 && SG_LOC_LINE(err->line) > 0) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		snprintf(err->msg, sizeof(err->msg), "%s:%d: %s", sg_conf_source(conf, err->line),
				SG_LOC_LINE(err->line), msg);
	}
	return rc;
}

void
sgfw_control_set_cluster(struct sgfw_control *c, struct sgfw_cluster *cluster)
{
	c->cluster = cluster;
	c->source.cluster = cluster;
}

/* A cluster node takes its policy from etcd only: changes here would be overwritten. */
static int
cluster_refuses(const struct sgfw_control *c, FILE *errors, const char *what)
{
	if (c->cluster == NULL)
		return 0;
	fprintf(errors,
			"error: %s refused: this sgfw is a cluster node, its policy comes from etcd; "
			"change it there (sgfwctl --etcd ENDPOINTS ...; docs/cluster.md)\n",
			what);
	return -1;
}

/* control.group as a group id: 1 and '*gid', 0 when none is set, -EINVAL when no such group. */
static int
control_gid(const struct sg_conf *conf, gid_t *gid, struct sg_error *err)
{
	struct group grp, *found = NULL;
	char buf[4096];

	if (conf->control_group[0] == '\0')
		return 0;
	if (getgrnam_r(conf->control_group, &grp, buf, sizeof(buf), &found) != 0 || found == NULL)
		return sg_error_set(err, 0, "control.group \"%s\" is not a group on this system",
				conf->control_group);
	*gid = grp.gr_gid;
	return 1;
}

/* The socket's directory, made ours, and reachable by control.group when one is set. */
static int
socket_dir(const char *path, bool grouped, gid_t gid, struct sg_error *err)
{
	char dir[SG_PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	dirname(dir);
	if (mkdir(dir, grouped ? 0710 : 0700) != 0 && errno != EEXIST)
		return sg_error_set(err, 0, "cannot create the directory of %s: %s", path,
				strerror(errno));
	if (!grouped)
		return 0;
	/* Only a directory of our own (not a link to one) is opened to the group. */
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return sg_error_set(err, 0,
				"control.group: %s is not a directory of sgfw's own, so sgfw "
				"will not open it to the group; choose a control.socket in one",
				dir);
	if ((st.st_gid != gid && chown(dir, (uid_t)-1, gid) != 0) ||
			chmod(dir, (st.st_mode & 07777) | 0010) != 0)
		return sg_error_set(err, 0, "control.group: cannot open %s to the group: %s", dir,
				strerror(errno));
	return 0;
}

/* A copy of 'conf' made by writing it and loading it back (lossless: check_conf_roundtrip). */
static struct sg_conf *
conf_copy(const struct sg_conf *conf)
{
	struct sg_error err = {0};
	struct sg_conf *copy = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	if (sg_conf_write(conf, f) == 0 && fclose(f) == 0)
		copy = sg_conf_load_string(text, "starting config", &err);
	else
		fclose(f);
	free(text);
	return copy;
}

/* Collects the names sg_conf_restart_diff() hands over, comma-separated. */
struct pending {
	char names[512];
};

static void
add_pending(void *arg, const char *what)
{
	struct pending *p = arg;
	size_t used = strlen(p->names);

	snprintf(p->names + used, sizeof(p->names) - used, "%s%s", used ? ", " : "", what);
}

/* The running config's settings that wait for a restart; their number, names in 'p'. */
static int
restart_pending(const struct sgfw_control *c, struct pending *p)
{
	p->names[0] = '\0';
	if (c->started_conf == NULL)
		return 0;
	return sg_conf_restart_diff(c->started_conf, sg_dp_conf(c->dp), add_pending, p);
}

struct sgfw_control *
sgfw_control_start(struct sg_dp *dp, struct sg_ct *ct, const char *config_path, struct sg_error *err)
{
	struct sgfw_control *c = calloc(1, sizeof(*c));
	const struct sg_conf *conf = sg_dp_conf(dp);
	const char *path = conf->control_socket;
	gid_t gid = 0;
	int grouped;

	if (c == NULL) {
		sg_error_set(err, 0, "out of memory");
		return NULL;
	}
	c->dp = dp;
	c->ct = ct;
	c->listen_fd = -1;
	c->client_fd = -1;
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->started = time(NULL);
	pthread_mutex_init(&c->lock, NULL);
	c->source = (struct sgfw_source){.dp = dp, .lock = &c->lock};
	sg_strlcpy(c->config_path, config_path, sizeof(c->config_path));
	if ((grouped = control_gid(conf, &gid, err)) < 0)
		goto fail;
	if (conf->metrics_port != 0 &&
			(c->metrics = sgfw_metrics_start(&c->source, conf, err)) == NULL)
		goto fail;
	if (path[0] != '\0') {
		sg_strlcpy(c->socket_path, path, sizeof(c->socket_path));
		if (socket_dir(path, grouped > 0, gid, err) < 0)
			goto fail;
		c->listen_fd = sg_ctl_listen(path, grouped > 0 ? (int)gid : -1, err);
		if (c->listen_fd < 0 || lstat(path, &c->socket_st) != 0)
			goto fail;
	}
	c->started_conf = conf_copy(conf);
	if (c->started_conf == NULL)
		SGFW_LOG(CTL, WARNING, "cannot keep a copy of the starting config: reloads will not "
				       "say which settings wait for a restart");
	sgfw_telemetry_register(&c->source);
	return c;
fail:
	sgfw_control_stop(c);
	return NULL;
}

static void
client_close(struct client *cl)
{
	if (cl->fd < 0)
		return;
	close(cl->fd);
	sg_ctl_reader_free(&cl->reader);
	cl->fd = -1;
}

void
sgfw_control_stop(struct sgfw_control *c)
{
	struct stat st;

	if (c == NULL)
		return;
	sgfw_metrics_stop(c->metrics);
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		client_close(&c->clients[i]);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		/* Only the socket we made: not whatever took its place since. */
		if (lstat(c->socket_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
				st.st_dev == c->socket_st.st_dev &&
				st.st_ino == c->socket_st.st_ino)
			unlink(c->socket_path);
	}
	pthread_mutex_destroy(&c->lock);
	sg_conf_free(c->started_conf);
	free(c);
}

/* Load the file and make it the running config; on any error nothing changes. */
static int
reload(struct sgfw_control *c, FILE *out, FILE *errors)
{
	struct pending pending;
	struct sg_error err = {0};
	struct sg_conf *conf;

	if (cluster_refuses(c, errors, "reload") < 0)
		return SG_CTL_EXIT_FAIL;
	conf = sg_conf_load_file(c->config_path, &err);
	if (conf == NULL) {
		fprintf(errors, "error: reload refused, the running config is unchanged: %s\n", err.msg);
		return SG_CTL_EXIT_FAIL;
	}
	if (apply(c, conf, &err) < 0) {
		if (SG_LOC_LINE(err.line) > 0)
			fprintf(errors, "error: reload refused, the running config is unchanged: %s:%d: %s\n",
					sg_conf_source(conf, err.line), SG_LOC_LINE(err.line), err.msg);
		else
			fprintf(errors, "error: reload refused, the running config is unchanged: %s\n",
					err.msg);
		sg_conf_free(conf);
		return SG_CTL_EXIT_FAIL;
	}
	fprintf(out, "reloaded %s\n", c->config_path);
	if (restart_pending(c, &pending) > 0) {
		/* Said, never silently left out: the file asks for more than a reload can do. */
		fprintf(out, "not in force until sgfw restarts: %s\n", pending.names);
		SGFW_LOG(CTL, WARNING, "%s: not in force until sgfw restarts: %s", c->config_path,
				pending.names);
	}
	return SG_CTL_EXIT_OK;
}

/* The words of a request for the log, escaped (they are the client's) and quoted when they
 * hold a space or a quote. Taken before the command runs: a change edits its words. */
static void
request_text(int argc, char **argv, char *what, size_t size)
{
	char buf[SG_DESC_MAX * 4 + 8];
	size_t used = 0;

	what[0] = '\0';
	for (int i = 0; i < argc && used < size; i++) {
		bool quote = strpbrk(argv[i], " \"") != NULL;

		sg_text_escape(argv[i], buf, sizeof(buf), true);
		used += (size_t)snprintf(what + used, size - used, "%s%s%s%s", i ? " " : "",
				quote ? "\"" : "", buf, quote ? "\"" : "");
	}
}

/*
 * One line for every change to the running state (policy changes, reload, save), logged as
 * sgfw.ctl: who, what, and the result with the first line of its summary or error.
 */
static void
log_change(const struct requester *who, const char *what, int code, const char *out,
		const char *errors)
{
	const char *result = code == SG_CTL_EXIT_OK ? out : errors, *outcome;
	char buf[SG_DESC_MAX * 4 + 8];
	int len;

	if (strncmp(result, "error: ", 7) == 0)
		result += 7;
	len = (int)strcspn(result, "\n");
	sg_text_escape(result, buf, SG_MIN(sizeof(buf), (size_t)len + 1), true);
	/* A change that failed after it was made (not saved) printed its summary too. */
	if (code == SG_CTL_EXIT_OK)
		outcome = "applied";
	else
		outcome = out[0] != '\0' ? "applied, not saved" : "refused";
	if (who->signal)
		SGFW_LOG(CTL, NOTICE, "change by SIGHUP: %s: %s: %s", what, outcome, buf);
	else
		SGFW_LOG(CTL, NOTICE, "change by uid %u gid %u pid %d: %s: %s: %s",
				(unsigned int)who->cred.uid, (unsigned int)who->cred.gid,
				(int)who->cred.pid, what, outcome, buf);
}

void
sgfw_control_reload(struct sgfw_control *c)
{
	struct requester who = {.signal = true};
	char *out_text = NULL, *err_text = NULL;
	size_t out_len = 0, err_len = 0;
	FILE *out = open_memstream(&out_text, &out_len);
	FILE *errors = open_memstream(&err_text, &err_len);
	int rc = SG_CTL_EXIT_FAIL;

	if (out != NULL && errors != NULL)
		rc = reload(c, out, errors);
	if (out != NULL)
		fclose(out);
	if (errors != NULL)
		fclose(errors);
	if (out_text != NULL && err_text != NULL)
		log_change(&who, "reload", rc, out_text, err_text);
	else
		SGFW_LOG(CTL, NOTICE, "change by SIGHUP: reload: refused: out of memory");
	free(out_text);
	free(err_text);
}

static void
stats_text(struct sgfw_control *c, FILE *out, const char *only)
{
	const struct sg_conf *conf = sg_dp_conf(c->dp);
	uint32_t n_rules = sg_policy_rule_count(conf->policy);
	uint64_t *hits = calloc(n_rules + 1u, sizeof(*hits));
	char name[SG_NAME_MAX + 32];

	fprintf(out, "%-16s %12s %12s %12s %12s %10s %10s %10s\n", "PORT", "RX_PACKETS",
			"TX_PACKETS", "RX_BYTES", "TX_BYTES", "DROPS", "REPLIES", "CONNS");
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		struct sg_dp_port_stats s;

		if (only != NULL && strcmp(only, conf->ports[i].name) != 0)
			continue;
		if (sg_dp_port_stats(c->dp, conf->ports[i].name, &s) != 0)
			continue; /* a port of another host: no counters here */
		fprintf(out, "%-16s %12lu %12lu %12lu %12lu %10lu %10lu %10lu\n", conf->ports[i].name,
				s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes, s.drops_total, s.replies,
				s.connections);
		for (int r = 1; r < SG_DROP_COUNT; r++)
			if (s.drops[r] != 0)
				fprintf(out, "    drop %-18s %10lu  %s\n", sg_drop_reason_name((enum sg_drop_reason)r),
						s.drops[r], sg_drop_reason_text((enum sg_drop_reason)r));
		if (s.flowlog_lost != 0)
			fprintf(out, "    flow-log records lost %10lu  its flow logs are incomplete\n",
					s.flowlog_lost);
	}
	if (only == NULL)
		sgfw_stats_service_text(c->dp, out);
	if (only == NULL && hits != NULL && sg_dp_rule_hits(c->dp, hits, n_rules) == 0) {
		fprintf(out, "\nRULE HITS (connections, or packets under the sg engine)\n");
		for (uint32_t r = 0; r < n_rules; r++)
			if (hits[r] != 0)
				fprintf(out, "  %-40s %12lu\n",
						sg_policy_rule_name(conf->policy, r, name, sizeof(name)), hits[r]);
	}
	free(hits);
}

static int
cmd_stats(struct sgfw_control *c, struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	FILE *out = ctx->out, *errors = ctx->err;
	struct sg_dp_port_stats s;

	if (argc > 2) {
		fprintf(errors, "usage error: stats [PORT]\n");
		return SG_CTL_EXIT_USAGE;
	}
	if (only != NULL && sg_dp_port_stats(c->dp, only, &s) < 0) {
		fprintf(errors, "error: no port named \"%s\"\n", only);
		return SG_CTL_EXIT_FAIL;
	}
	if (ctx->json)
		sg_dp_stats_json(c->dp, out);
	else
		stats_text(c, out, only);
	return SG_CTL_EXIT_OK;
}

static int
cmd_status(struct sgfw_control *c, struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	FILE *out = ctx->out;
	const struct sg_conf *conf = sg_dp_conf(c->dp);
	long uptime = (long)(time(NULL) - c->started);
	struct pending pending;
	struct sg_acl_counts acl;

	(void)argv;
	if (argc != 1) {
		fprintf(ctx->err, "usage error: status takes no arguments\n");
		return SG_CTL_EXIT_USAGE;
	}
	sg_dp_classifier_counts(c->dp, &acl);
	restart_pending(c, &pending);
	if (ctx->json) {
		struct sg_json j;

		sg_json_init(&j, out, true);
		sg_json_object_open(&j, NULL);
		sg_json_string(&j, "version", SG_VERSION);
		sg_json_int(&j, "uptime_seconds", uptime);
		sg_json_string(&j, "config", c->config_path);
		sg_json_uint(&j, "ports", conf->n_ports);
		sg_json_int(&j, "pid", getpid());
		sg_json_string(&j, "file_prefix", sgfw_file_prefix());
		/* Lists a change made live before their rte_acl contexts were built. */
		sg_json_uint(&j, "classifier_lists_linear", acl.linear);
		sg_json_uint(&j, "classifier_builds_failed", acl.failed);
		/* Settings of the running config a restart is needed for ("" when none). */
		sg_json_string(&j, "restart_pending", pending.names);
		if (c->cluster != NULL) {
			struct sgfw_cluster_status st;

			sgfw_cluster_status(c->cluster, &st);
			sg_json_object_open(&j, "cluster");
			sg_json_string(&j, "host", conf->host);
			sg_json_string(&j, "connection", st.connection);
			sg_json_string(&j, "policy", st.policy);
			sg_json_int(&j, "applied_revision", st.applied_revision);
			sg_json_int(&j, "seen_revision", st.seen_revision);
			sg_json_int(&j, "seconds_since_contact",
					st.last_contact ? (long)(time(NULL) - st.last_contact) : -1);
			sg_json_string(&j, "last_error", st.last_error);
			sg_json_uint(&j, "applies", st.applies);
			sg_json_uint(&j, "refusals", st.refused);
			sg_json_uint(&j, "resyncs", st.resyncs);
			sg_json_string(&j, "held_ports", st.held);
			sg_json_object_close(&j);
		}
		sg_json_object_close(&j);
		sg_json_finish(&j);
	} else {
		fprintf(out, "sgfw %s, pid %d, up %ld s, %u ports, config %s\n", SG_VERSION, (int)getpid(),
				uptime, conf->n_ports, c->config_path);
		fprintf(out, "EAL file prefix %s (dpdk-telemetry.py -f %s)\n", sgfw_file_prefix(),
				sgfw_file_prefix());
		if (acl.linear != 0)
			fprintf(out, "classifier: %u changed lists matched linearly until their contexts "
				     "are built (%u builds failed: those stay linear)\n",
					acl.linear, acl.failed);
		if (pending.names[0] != '\0')
			fprintf(out, "not in force until sgfw restarts: %s\n", pending.names);
		if (c->cluster != NULL) {
			struct sgfw_cluster_status st;

			sgfw_cluster_status(c->cluster, &st);
			fprintf(out, "cluster: host %s, etcd %s, policy %s at revision %lld (seen %lld), "
				     "last contact %s%ld s ago\n",
					conf->host, st.connection, st.policy,
					(long long)st.applied_revision, (long long)st.seen_revision,
					st.last_contact ? "" : "never: ",
					st.last_contact ? (long)(time(NULL) - st.last_contact) : 0L);
			if (st.last_error[0] != '\0')
				fprintf(out, "cluster: last error: %s\n", st.last_error);
			if (st.held[0] != '\0')
				fprintf(out, "cluster: moved to another host, served here until it "
					     "confirms: %s\n",
						st.held);
		}
	}
	return SG_CTL_EXIT_OK;
}

/* Write the running config to the config file (atomically). */
static int
save(struct sgfw_control *c, FILE *out, FILE *errors)
{
	struct sg_error err = {0};

	if (cluster_refuses(c, errors, "save") < 0)
		return SG_CTL_EXIT_FAIL;
	if (sg_conf_save(sg_dp_conf(c->dp), c->config_path, &err) < 0) {
		fprintf(errors, "error: %s\n", err.msg);
		return SG_CTL_EXIT_FAIL;
	}
	fprintf(out, "saved the running config to %s\n", c->config_path);
	return SG_CTL_EXIT_OK;
}

/* A policy change: validated whole, swapped into the datapath, then saved if configured. */
static int
change(struct sgfw_control *c, struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	struct sg_conf *result = NULL;
	struct sg_error err = {0};
	char *summary;
	bool persist;
	int rc;

	if (cluster_refuses(c, ctx->err, "the change") < 0)
		return SG_CTL_EXIT_FAIL;
	/* The summary is printed once the change runs: one refused when applied is not made. */
	rc = sg_ctl_change_held(ctx, argc, argv, &result, &summary);
	if (rc != SG_CTL_EXIT_OK)
		return rc;
	persist = result->control_persist;
	/* ctx->conf is the running config: after the swap it is gone. */
	ctx->conf = NULL;
	if (apply(c, result, &err) < 0) {
		fprintf(ctx->err, "error: %s (nothing changed)\n", err.msg);
		sg_conf_free(result);
		free(summary);
		return SG_CTL_EXIT_FAIL;
	}
	fputs(summary, ctx->out);
	free(summary);
	if (persist && sg_conf_save(sg_dp_conf(c->dp), c->config_path, &err) < 0) {
		fprintf(ctx->err, "error: the change is running but was not saved: %s\n", err.msg);
		return SG_CTL_EXIT_FAIL;
	}
	return SG_CTL_EXIT_OK;
}

static int
run_reload(struct sgfw_control *c, struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(ctx->err, "usage error: reload takes no arguments\n");
		return SG_CTL_EXIT_USAGE;
	}
	return reload(c, ctx->out, ctx->err);
}

static int
run_save(struct sgfw_control *c, struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(ctx->err, "usage error: save takes no arguments\n");
		return SG_CTL_EXIT_USAGE;
	}
	return save(c, ctx->out, ctx->err);
}

static int
run_ct(struct sgfw_control *c, struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	return sgfw_cmd_ct(c->dp, ctx->json, argc, argv, ctx->out, ctx->err);
}

static int
run_flowlogs(struct sgfw_control *c, struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	return sgfw_control_flowlogs(c->dp, ctx->json, argc, argv, ctx->out, ctx->err);
}

static int
run_log(struct sgfw_control *c, struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	(void)c;
	return sgfw_cmd_log(ctx->json, argc, argv, ctx->out, ctx->err);
}

static int
run_capture(struct sgfw_control *c, struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	int rc = sgfw_cmd_capture(c->dp, c->client_fd, argc, argv, ctx->out, ctx->err);

	/* The connection is the capture's stream from now on. */
	c->client_taken = rc == SG_CTL_EXIT_OK;
	return rc;
}

/* The daemon's own commands, by the table's ids; the table's handlers run the others. */
static int (*const online_commands[SG_CTL_CMD_COUNT])(
		struct sgfw_control *c, struct sg_ctl_ctx *ctx, int argc, char **argv) = {
		[SG_CTL_CMD_STATUS] = cmd_status,
		[SG_CTL_CMD_STATS] = cmd_stats,
		[SG_CTL_CMD_RELOAD] = run_reload,
		[SG_CTL_CMD_SAVE] = run_save,
		[SG_CTL_CMD_CT] = run_ct,
		[SG_CTL_CMD_FLOWLOGS] = run_flowlogs,
		[SG_CTL_CMD_LOG] = run_log,
		[SG_CTL_CMD_CAPTURE] = run_capture,
};

static int
run_command(void *arg, struct sg_ctl_call *call, struct sg_ctl_ctx *ctx)
{
	struct sgfw_control *c = arg;
	const struct sg_ctl_command *cmd = call->cmd;

	if (online_commands[cmd->id] != NULL)
		return online_commands[cmd->id](c, ctx, call->argc, call->argv);
	if (cmd->run == NULL)
		return change(c, ctx, call->argc, call->argv);
	return cmd->run(ctx, call->argc, call->argv);
}

/* What is being logged: who asked, and the request's words taken before a change edits them. */
struct logged {
	struct sgfw_control *c;
	const struct requester *who;
	char what[1024];
};

static int
run_logged(void *arg, struct sg_ctl_call *call, struct sg_ctl_ctx *ctx)
{
	return run_command(((struct logged *)arg)->c, call, ctx);
}

static void
after_logged(void *arg, const struct sg_ctl_call *call, int code, const char *out,
		const char *errors)
{
	struct logged *l = arg;

	(void)call;
	log_change(l->who, l->what, code, out, errors);
}

/* Answer one request line; false when the connection ends with it (handed to a capture). */
static bool
serve_line(struct sgfw_control *c, struct client *cl, const char *line, size_t len)
{
	struct sg_ctl_ctx ctx = {
			.conf = sg_dp_conf(c->dp),
			.port_state = sgfw_port_state,
			.state_arg = c->dp,
			.online = true,
	};
	struct logged logged = {.c = c, .who = &cl->who};
	struct sg_ctl_call call;
	json_t *msg;
	bool notification;

	if (sg_ctl_call_decode(line, len, &call, &msg) < 0)
		return sg_ctl_send_within(cl->fd, msg, CONTROL_SEND_MS) == 0;
	c->client_fd = cl->fd;
	c->client_taken = false;
	notification = call.id == NULL;
	if (call.cmd->flags & SG_CTL_CHANGE) {
		request_text(call.argc, call.argv, logged.what, sizeof(logged.what));
		msg = sg_ctl_call_run(&call, &ctx, run_logged, after_logged, &logged);
	} else {
		msg = sg_ctl_call_run(&call, &ctx, run_command, NULL, c);
	}
	sg_ctl_call_free(&call);
	c->client_fd = -1;
	if (notification && !c->client_taken)
		json_decref(msg);
	else if (sg_ctl_send_within(cl->fd, msg, CONTROL_SEND_MS) < 0)
		return false;
	return !c->client_taken;
}

/* The requests a client has sent, a few at a time; closes it when it is done or misbehaves. */
static void
serve(struct sgfw_control *c, struct client *cl)
{
	for (int n = 0; n < CONTROL_BURST; n++) {
		char *line;
		size_t len;
		int rc = sg_ctl_reader_next(&cl->reader, &line, &len);

		if (rc == -EAGAIN)
			return;
		if (rc == -EMSGSIZE) {
			char msg[96];

			snprintf(msg, sizeof(msg), "request line longer than %u bytes",
					SG_CTL_MAX_LINE);
			/* The rest of the line cannot be told from the next request: close. */
			sg_ctl_send_within(cl->fd,
					sg_ctl_rpc_error(NULL, SG_CTL_RPC_TOO_LONG, msg, NULL),
					CONTROL_SEND_MS);
		}
		if (rc <= 0) {
			client_close(cl);
			return;
		}
		cl->last = time(NULL);
		if (len == 0)
			continue;
		if (!serve_line(c, cl, line, len)) {
			/* A capture keeps its own descriptor of the connection. */
			client_close(cl);
			return;
		}
	}
}

static void
accept_client(struct sgfw_control *c)
{
	struct timeval timeout = {.tv_sec = 2};
	socklen_t cred_len = sizeof(struct ucred);
	struct client *cl = NULL;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* Full: the connection idle longest makes room. */
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		if (cl == NULL || c->clients[i].fd < 0 ||
				(cl->fd >= 0 && c->clients[i].last < cl->last))
			cl = &c->clients[i];
	client_close(cl);
	cl->fd = fd;
	cl->last = time(NULL);
	cl->who = (struct requester){.signal = false};
	/* A capture's writer thread sends on it blocking: a client that stops reading is given
	 * up after 2 s (the control thread's own answers have CONTROL_SEND_MS in all). */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	/* Who is asking, as the kernel saw it connect. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cl->who.cred, &cred_len) != 0)
		cl->who.cred = (struct ucred){.pid = -1, .uid = (uid_t)-1, .gid = (gid_t)-1};
	sg_ctl_reader_init(&cl->reader, fd, SG_CTL_MAX_LINE);
	cl->reader.recv_flags = MSG_DONTWAIT;
}

void
sgfw_control_poll(struct sgfw_control *c, int timeout_ms)
{
	struct pollfd pfd[CONTROL_CLIENTS + 2];
	struct client *polled[CONTROL_CLIENTS + 2];
	time_t now;
	int n = 1;

	/* poll() ignores a negative descriptor: a disabled socket simply never fires. */
	pfd[0] = (struct pollfd){.fd = c->listen_fd, .events = POLLIN};
	/* The cluster thread's wake-up: a config waits to be applied. */
	pfd[n++] = (struct pollfd){.fd = sgfw_cluster_fd(c->cluster), .events = POLLIN};
	polled[1] = NULL;
	for (int i = 0; i < CONTROL_CLIENTS; i++) {
		if (c->clients[i].fd < 0)
			continue;
		polled[n] = &c->clients[i];
		pfd[n++] = (struct pollfd){.fd = c->clients[i].fd, .events = POLLIN};
	}
	if (poll(pfd, (nfds_t)n, timeout_ms) > 0) {
		if (pfd[1].revents & POLLIN)
			sgfw_cluster_serve(c->cluster, apply_cluster, c);
		for (int i = 2; i < n; i++)
			if (pfd[i].revents != 0 && polled[i]->fd >= 0)
				serve(c, polled[i]);
		if (pfd[0].revents & POLLIN)
			accept_client(c);
	}
	now = time(NULL);
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && now - c->clients[i].last > CONTROL_IDLE_S)
			client_close(&c->clients[i]);
}
