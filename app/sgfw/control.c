/* The control thread of sgfw: answers sgfwctl over the UNIX socket with the same commands as the
 * offline tool (on the running config) plus live ones: stats, reload, status. One request at a
 * time, on the main core, never on a worker. */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sg_build_config.h"
#include "sg_conf.h"
#include "sg_ctl.h"
#include "sg_dp.h"
#include "sg_json.h"
#include "sgfw_private.h"

struct sgfw_control {
	struct sg_dp *dp;
	struct sg_ct *ct;
	char config_path[SG_PATH_MAX];
	char socket_path[SG_PATH_MAX];
	int listen_fd;
	int metrics_fd;
	int client_fd; /* The connection being served (sgfwctl capture keeps it). */
	time_t started;
	pthread_mutex_t lock;
};

struct sg_dp *
sgfw_control_dp(const struct sgfw_control *c)
{
	return c->dp;
}

int
sgfw_control_client_fd(const struct sgfw_control *c)
{
	return c->client_fd;
}

void
sgfw_control_lock(struct sgfw_control *c)
{
	pthread_mutex_lock(&c->lock);
}

void
sgfw_control_unlock(struct sgfw_control *c)
{
	pthread_mutex_unlock(&c->lock);
}

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

struct sgfw_control *
sgfw_control_start(struct sg_dp *dp, struct sg_ct *ct, const char *config_path, struct sg_error *err)
{
	struct sgfw_control *c = calloc(1, sizeof(*c));
	const char *path = sg_dp_conf(dp)->control_socket;
	char dir[SG_PATH_MAX];

	if (c == NULL) {
		sg_error_set(err, 0, "out of memory");
		return NULL;
	}
	c->dp = dp;
	c->ct = ct;
	c->listen_fd = -1;
	c->metrics_fd = -1;
	c->started = time(NULL);
	pthread_mutex_init(&c->lock, NULL);
	sg_strlcpy(c->config_path, config_path, sizeof(c->config_path));
	if (sg_dp_conf(dp)->metrics_port != 0) {
		c->metrics_fd = sgfw_metrics_listen(sg_dp_conf(dp)->metrics_address,
				sg_dp_conf(dp)->metrics_port, err);
		if (c->metrics_fd < 0) {
			free(c);
			return NULL;
		}
	}
	sgfw_telemetry_register(c);
	if (path[0] == '\0')
		return c;
	sg_strlcpy(c->socket_path, path, sizeof(c->socket_path));
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0700) != 0 && errno != EEXIST) {
		sg_error_set(err, 0, "cannot create the directory of %s: %s", path, strerror(errno));
		free(c);
		return NULL;
	}
	c->listen_fd = sg_ctl_listen(path, err);
	if (c->listen_fd < 0) {
		if (c->metrics_fd >= 0)
			close(c->metrics_fd);
		free(c);
		return NULL;
	}
	return c;
}

void
sgfw_control_stop(struct sgfw_control *c)
{
	if (c == NULL)
		return;
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink(c->socket_path);
	}
	if (c->metrics_fd >= 0)
		close(c->metrics_fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Load the file and make it the running config; on any error nothing changes. */
static int
reload(struct sgfw_control *c, FILE *out, FILE *errors)
{
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_file(c->config_path, &err);

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
	return SG_CTL_EXIT_OK;
}


void
sgfw_control_reload(struct sgfw_control *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int rc;

	if (out == NULL)
		return;
	rc = reload(c, out, out);
	fclose(out);
	text[strcspn(text, "\n")] = '\0';
	if (rc == SG_CTL_EXIT_OK)
		SGFW_LOG(CONF, NOTICE, "SIGHUP reload applied: %s", text);
	else
		SGFW_LOG(CONF, ERR, "SIGHUP reload refused: %s", text);
	free(text);
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
		sg_dp_port_stats(c->dp, conf->ports[i].name, &s);
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
cmd_stats(struct sgfw_control *c, struct sg_ctl_request *req, FILE *out, FILE *errors)
{
	const char *only = req->argc > 1 ? req->argv[1] : NULL;
	struct sg_dp_port_stats s;

	if (req->argc > 2) {
		fprintf(errors, "usage error: stats [PORT]\n");
		return SG_CTL_EXIT_USAGE;
	}
	if (only != NULL && sg_dp_port_stats(c->dp, only, &s) < 0) {
		fprintf(errors, "error: no port named \"%s\"\n", only);
		return SG_CTL_EXIT_FAIL;
	}
	if (req->json)
		sg_dp_stats_json(c->dp, out);
	else
		stats_text(c, out, only);
	return SG_CTL_EXIT_OK;
}

static int
cmd_status(struct sgfw_control *c, struct sg_ctl_request *req, FILE *out)
{
	const struct sg_conf *conf = sg_dp_conf(c->dp);
	long uptime = (long)(time(NULL) - c->started);
	struct sg_acl_counts acl;

	sg_dp_classifier_counts(c->dp, &acl);
	if (req->json) {
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
	}
	return SG_CTL_EXIT_OK;
}

/* Write the running config to the config file (atomically). */
static int
save(struct sgfw_control *c, FILE *out, FILE *errors)
{
	struct sg_error err = {0};

	if (sg_conf_save(sg_dp_conf(c->dp), c->config_path, &err) < 0) {
		fprintf(errors, "error: %s\n", err.msg);
		return SG_CTL_EXIT_FAIL;
	}
	fprintf(out, "saved the running config to %s\n", c->config_path);
	return SG_CTL_EXIT_OK;
}

/* A policy change: validated whole, swapped into the datapath, then saved if configured. */
static int
change(struct sgfw_control *c, struct sg_ctl_ctx *ctx, struct sg_ctl_request *req)
{
	struct sg_conf *result = NULL;
	struct sg_error err = {0};
	bool persist;
	int rc;

	rc = sg_ctl_change(ctx, req->argc, req->argv, &result);
	if (rc != SG_CTL_EXIT_OK)
		return rc;
	persist = result->control_persist;
	/* ctx->conf is the running config: after the swap it is gone. */
	ctx->conf = NULL;
	if (apply(c, result, &err) < 0) {
		fprintf(ctx->err, "error: %s (nothing changed)\n", err.msg);
		sg_conf_free(result);
		return SG_CTL_EXIT_FAIL;
	}
	if (persist && sg_conf_save(sg_dp_conf(c->dp), c->config_path, &err) < 0) {
		fprintf(ctx->err, "error: the change is running but was not saved: %s\n", err.msg);
		return SG_CTL_EXIT_FAIL;
	}
	return SG_CTL_EXIT_OK;
}

static int
dispatch(struct sgfw_control *c, struct sg_ctl_request *req, FILE *out, FILE *errors)
{
	struct sg_ctl_ctx ctx = {
		.conf = sg_dp_conf(c->dp),
		.out = out,
		.err = errors,
		.json = req->json,
		.port_state = sgfw_port_state,
		.state_arg = c->dp,
	};

	if (req->argc == 0) {
		fprintf(errors, "usage error: no command given\n");
		return SG_CTL_EXIT_USAGE;
	}
	if (strcmp(req->argv[0], "stats") == 0)
		return cmd_stats(c, req, out, errors);
	if (strcmp(req->argv[0], "status") == 0)
		return cmd_status(c, req, out);
	if (strcmp(req->argv[0], "reload") == 0)
		return reload(c, out, errors);
	if (strcmp(req->argv[0], "save") == 0)
		return save(c, out, errors);
	if (strcmp(req->argv[0], "ct") == 0)
		return sgfw_cmd_ct(c, req->json, req->argc, req->argv, out, errors);
	if (sg_ctl_is_change(req->argv[0]))
		return change(c, &ctx, req);
	if (strcmp(req->argv[0], "flowlogs") == 0)
		return sgfw_control_flowlogs(c->dp, req->json, req->argc, req->argv, out, errors);
	if (strcmp(req->argv[0], "capture") == 0)
		return sgfw_cmd_capture(c, req->argc, req->argv, out, errors);
	if (strcmp(req->argv[0], "log") == 0)
		return sgfw_cmd_log(req->json, req->argc, req->argv, out, errors);
	return sg_ctl_run(&ctx, req->argc, req->argv);
}

static void
serve(struct sgfw_control *c, int fd)
{
	struct timeval timeout = {.tv_sec = 2};
	char *out_text = NULL, *err_text = NULL;
	size_t out_len = 0, err_len = 0;
	struct sg_ctl_request req;
	FILE *out, *errors;
	int code;

	/* A stalled client must not hold the control thread. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	if (sg_ctl_request_recv(fd, &req) < 0)
		return;
	c->client_fd = fd;
	out = open_memstream(&out_text, &out_len);
	errors = open_memstream(&err_text, &err_len);
	if (out != NULL && errors != NULL) {
		code = dispatch(c, &req, out, errors);
		fflush(out);
		fflush(errors);
		sg_ctl_response_send(fd, code, out_text, out_len, err_text, err_len);
	}
	if (out != NULL)
		fclose(out);
	if (errors != NULL)
		fclose(errors);
	free(out_text);
	free(err_text);
	sg_ctl_request_free(&req);
}

void
sgfw_control_poll(struct sgfw_control *c, int timeout_ms)
{
	struct pollfd pfd[2] = {
		{.fd = c->listen_fd, .events = POLLIN},
		{.fd = c->metrics_fd, .events = POLLIN},
	};
	int fd;

	/* poll() ignores negative descriptors: a disabled socket simply never fires. */
	if (poll(pfd, 2, timeout_ms) <= 0)
		return;
	if (pfd[1].revents & POLLIN)
		sgfw_metrics_serve(c, c->metrics_fd);
	if (!(pfd[0].revents & POLLIN))
		return;
	fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	serve(c, fd);
	close(fd);
}
