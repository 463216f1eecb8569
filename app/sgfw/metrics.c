/* SPDX-License-Identifier: BSD-3-Clause */
/* Counters in the ecosystem's own tools: DPDK telemetry commands (read with
 * dpdk-telemetry.py) and a Prometheus text endpoint on loopback ports, IPv4 and IPv6, served
 * by a thread of its own (off by default). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "sg_ct.h"
#include "sg_dp.h"
#include "sgfw_private.h"

/* Telemetry callbacks carry no argument: the one running switch's. */
static const struct sgfw_source *telemetry_source;

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct sg_conf *conf;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(telemetry_source->lock);
	conf = sg_dp_conf(telemetry_source->dp);
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (uint32_t i = 0; i < conf->n_ports; i++)
		if (!conf->ports[i].remote) /* ports of other hosts have no counters here */
			rte_tel_data_add_array_string(d, conf->ports[i].name);
	pthread_mutex_unlock(telemetry_source->lock);
	return 0;
}

static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sg_dp_port_stats s;
	int rc;

	(void)cmd;
	if (params == NULL || *params == '\0')
		return -EINVAL;
	pthread_mutex_lock(telemetry_source->lock);
	rc = sg_dp_port_stats(telemetry_source->dp, params, &s);
	pthread_mutex_unlock(telemetry_source->lock);
	if (rc < 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "link_up", s.link_up);
	rte_tel_data_add_dict_u64(d, "rx_packets", s.rx_packets);
	rte_tel_data_add_dict_u64(d, "rx_bytes", s.rx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_packets", s.tx_packets);
	rte_tel_data_add_dict_u64(d, "tx_bytes", s.tx_bytes);
	rte_tel_data_add_dict_u64(d, "replies", s.replies);
	rte_tel_data_add_dict_u64(d, "absorbed", s.absorbed);
	rte_tel_data_add_dict_u64(d, "vxlan_encap", s.vxlan_encap);
	rte_tel_data_add_dict_u64(d, "vxlan_decap", s.vxlan_decap);
	rte_tel_data_add_dict_u64(d, "drops", s.drops_total);
	rte_tel_data_add_dict_u64(d, "connections", s.connections);
	rte_tel_data_add_dict_u64(d, "flowlog_lost", s.flowlog_lost);
	for (int r = 1; r < SG_DROP_COUNT; r++)
		if (s.drops[r] != 0)
			rte_tel_data_add_dict_u64(d, sg_drop_reason_name((enum sg_drop_reason)r), s.drops[r]);
	return 0;
}

static int
tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t totals[SG_DROP_COUNT] = {0};
	const struct sg_conf *conf;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(telemetry_source->lock);
	conf = sg_dp_conf(telemetry_source->dp);
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		struct sg_dp_port_stats s;

		if (sg_dp_port_stats(telemetry_source->dp, conf->ports[i].name, &s) != 0)
			continue; /* a port of another host */
		for (int r = 1; r < SG_DROP_COUNT; r++)
			totals[r] += s.drops[r];
	}
	pthread_mutex_unlock(telemetry_source->lock);
	rte_tel_data_start_dict(d);
	for (int r = 1; r < SG_DROP_COUNT; r++)
		rte_tel_data_add_dict_u64(d, sg_drop_reason_name((enum sg_drop_reason)r), totals[r]);
	return 0;
}

static int
tel_rule_hits(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct sg_conf *conf;
	char name[SG_NAME_MAX + 32];
	uint64_t *hits;
	uint32_t n;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(telemetry_source->lock);
	conf = sg_dp_conf(telemetry_source->dp);
	n = sg_policy_rule_count(conf->policy);
	hits = calloc(n + 1u, sizeof(*hits));
	rte_tel_data_start_dict(d);
	if (hits != NULL && sg_dp_rule_hits(telemetry_source->dp, hits, n) == 0)
		for (uint32_t r = 0; r < n; r++)
			if (hits[r] != 0)
				rte_tel_data_add_dict_u64(d, sg_policy_rule_name(conf->policy, r, name,
									      sizeof(name)),
						hits[r]);
	pthread_mutex_unlock(telemetry_source->lock);
	free(hits);
	return 0;
}

static int
tel_conntrack(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sg_ct *ct = sg_dp_ct(telemetry_source->dp);
	uint64_t counts[SG_CT_ST_COUNT];
	struct sg_ct_stats st;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (ct == NULL)
		return 0;
	sg_ct_stats_get(ct, &st);
	sg_ct_count_by_state(ct, sgfw_now_ms(), counts);
	rte_tel_data_add_dict_u64(d, "entries", st.entries);
	rte_tel_data_add_dict_u64(d, "capacity", st.capacity);
	rte_tel_data_add_dict_u64(d, "inserts", st.inserts);
	rte_tel_data_add_dict_u64(d, "early_drops", st.early_drops);
	rte_tel_data_add_dict_u64(d, "share_refused", st.share_refused);
	rte_tel_data_add_dict_u64(d, "table_full", st.table_full);
	rte_tel_data_add_dict_u64(d, "expired", st.expired);
	rte_tel_data_add_dict_u64(d, "populate_error", (uint64_t)st.populate_error);
	for (int s = 0; s < SG_CT_ST_COUNT; s++)
		rte_tel_data_add_dict_u64(d, sg_ct_state_name((enum sg_ct_state)s), counts[s]);
	return 0;
}

/* Per worker: polls, busy polls, packets, busy and idle cycles (pmd-stats-show). */
static int
tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct sg_dp *dp = telemetry_source->dp;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	for (uint16_t w = 0; w < sg_dp_n_workers(dp); w++) {
		struct rte_tel_data *one = rte_tel_data_alloc();
		struct sg_dp_worker_stats ws;
		char name[16];

		if (one == NULL)
			return -ENOMEM;
		sg_dp_worker_stats(dp, w, &ws);
		rte_tel_data_start_dict(one);
		rte_tel_data_add_dict_u64(one, "polls", ws.polls);
		rte_tel_data_add_dict_u64(one, "busy_polls", ws.busy_polls);
		rte_tel_data_add_dict_u64(one, "rx_packets", ws.rx_packets);
		rte_tel_data_add_dict_u64(one, "busy_cycles", ws.busy_cycles);
		rte_tel_data_add_dict_u64(one, "idle_cycles", ws.idle_cycles);
		rte_tel_data_add_dict_u64(one, "sleeps", ws.sleeps);
		rte_tel_data_add_dict_u64(one, "sleep_cycles", ws.sleep_cycles);
		snprintf(name, sizeof(name), "worker%u", w);
		rte_tel_data_add_dict_container(d, name, one, 0);
	}
	return 0;
}

static int
tel_flowlogs(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sg_dp_flowlog_stats fs;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (sg_dp_flowlog_stats(telemetry_source->dp, &fs) < 0)
		return 0;
	rte_tel_data_add_dict_u64(d, "events", fs.events);
	rte_tel_data_add_dict_u64(d, "ring_lost", fs.ring_lost);
	rte_tel_data_add_dict_u64(d, "closed_lost", fs.closed_lost);
	rte_tel_data_add_dict_u64(d, "flows_dropped", fs.writer.flows_dropped);
	rte_tel_data_add_dict_u64(d, "conns_untracked", fs.writer.conns_untracked);
	rte_tel_data_add_dict_u64(d, "write_errors", fs.writer.write_errors);
	rte_tel_data_add_dict_u64(d, "lines", fs.writer.lines);
	return 0;
}

void
sgfw_telemetry_register(const struct sgfw_source *c)
{
	telemetry_source = c;
	rte_telemetry_register_cmd("/sgfw/ports", tel_ports, "Ports of the switch. Takes no parameters");
	rte_telemetry_register_cmd("/sgfw/port", tel_port,
			"Counters of one port: packets, bytes, drops by reason. Parameter: port name");
	rte_telemetry_register_cmd("/sgfw/drops", tel_drops,
			"Drops by reason, all ports. Takes no parameters");
	rte_telemetry_register_cmd("/sgfw/rule_hits", tel_rule_hits,
			"Hits of each rule with any. Takes no parameters");
	rte_telemetry_register_cmd("/sgfw/conntrack", tel_conntrack,
			"Connection table: entries, capacity, drops, counts by state. Takes no parameters");
	rte_telemetry_register_cmd("/sgfw/workers", tel_workers,
			"Per worker: polls, busy polls, packets, busy and idle TSC cycles. Takes "
			"no "
			"parameters");
	rte_telemetry_register_cmd("/sgfw/flowlogs", tel_flowlogs,
			"Flow logs: events, records lost (full rings, max_flows), write errors. "
			"Takes no "
			"parameters");
}

/* ---- Prometheus text endpoint ----
 *
 * Served by a thread of its own (on the control cores, never a worker's), so a client that
 * connects and sends nothing holds that thread for at most a second and never the control
 * thread that answers sgfwctl. It renders under the control lock (the running config is not
 * swapped meanwhile) and writes without it. */

static void render_metrics(const struct sgfw_source *c, FILE *out);

#define METRICS_MAX_LISTENERS (SG_CONF_MAX_METRICS_ADDRESSES + 1)
/* How long one client may take to send its request, and to take the answer. */
#define METRICS_CLIENT_MS 1000

struct sgfw_metrics {
	const struct sgfw_source *source;
	int fds[METRICS_MAX_LISTENERS];
	unsigned int n_fds;
	int stop[2]; /* a pipe: written once to stop the thread */
	pthread_t thread;
	bool started;
};

/* Listen on 'ip':'port'. The fd, or -errno with 'err' naming the address. */
static int
listen_on(const struct sg_ip *ip, uint16_t port, struct sg_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char text[SG_IP_STRLEN];
	int fd, one = 1, rc;

	memset(&ss, 0, sizeof(ss));
	if (ip->family == SG_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, ip->bytes, 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, ip->bytes, 16);
		len = sizeof(*sin6);
	}
	sg_ip_format(ip, text, sizeof(text));
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sg_error_set(err, 0, "metrics socket for %s: %s", text, strerror(errno)),
		       -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "::" means IPv6 only: IPv4 has its own listener, so both can be given. */
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		sg_error_set(err, 0,
				"cannot listen on %s%s%s:%u for metrics (control.metrics_address): "
				"%s",
				ip->family == SG_AF_INET6 ? "[" : "", text,
				ip->family == SG_AF_INET6 ? "]" : "", port, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

/* Read until the request line is in (or the client is too slow). Bytes read, or -1. */
static ssize_t
read_request(int fd, char *buf, size_t size)
{
	size_t used = 0;
	uint64_t deadline = sgfw_now_ms() + METRICS_CLIENT_MS;

	while (used + 1 < size && memchr(buf, '\n', used) == NULL) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now = sgfw_now_ms();
		ssize_t n;

		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
			return -1;
		n = recv(fd, buf + used, size - 1 - used, 0);
		if (n <= 0)
			return -1;
		used += (size_t)n;
		buf[used] = '\0';
	}
	return (ssize_t)used;
}

static void
serve_client(const struct sgfw_source *c, int fd)
{
	struct timeval timeout = {.tv_sec = METRICS_CLIENT_MS / 1000};
	char request[1024], *body = NULL;
	size_t body_len = 0;
	FILE *out;

	if (read_request(fd, request, sizeof(request)) <= 0)
		return;
	if (strncmp(request, "GET /metrics ", 13) != 0 && strncmp(request, "GET / ", 6) != 0) {
		static const char not_found[] =
				"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";

		send(fd, not_found, sizeof(not_found) - 1, MSG_NOSIGNAL);
		return;
	}
	out = open_memstream(&body, &body_len);
	if (out == NULL)
		return;
	pthread_mutex_lock(c->lock);
	render_metrics(c, out);
	pthread_mutex_unlock(c->lock);
	fclose(out);
	/* Blocking from here, but bounded: a client that does not read is dropped. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	dprintf(fd, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		    "Content-Length: %zu\r\n\r\n",
			body_len);
	send(fd, body, body_len, MSG_NOSIGNAL);
	free(body);
}

static void *
metrics_main(void *arg)
{
	struct sgfw_metrics *m = arg;
	struct pollfd pfd[METRICS_MAX_LISTENERS + 1];

	for (unsigned int i = 0; i < m->n_fds; i++)
		pfd[i] = (struct pollfd){.fd = m->fds[i], .events = POLLIN};
	pfd[m->n_fds] = (struct pollfd){.fd = m->stop[0], .events = POLLIN};
	for (;;) {
		if (poll(pfd, m->n_fds + 1, -1) < 0 && errno != EINTR)
			break;
		if (pfd[m->n_fds].revents != 0)
			break;
		for (unsigned int i = 0; i < m->n_fds; i++) {
			int fd;

			if (!(pfd[i].revents & POLLIN))
				continue;
			fd = accept4(m->fds[i], NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd < 0)
				continue;
			serve_client(m->source, fd);
			close(fd);
		}
	}
	return NULL;
}

void
sgfw_metrics_stop(struct sgfw_metrics *m)
{
	if (m == NULL)
		return;
	if (m->started) {
		ssize_t n = write(m->stop[1], "x", 1);

		(void)n;
		pthread_join(m->thread, NULL);
	}
	for (unsigned int i = 0; i < m->n_fds; i++)
		close(m->fds[i]);
	if (m->stop[0] >= 0)
		close(m->stop[0]);
	if (m->stop[1] >= 0)
		close(m->stop[1]);
	free(m);
}

struct sgfw_metrics *
sgfw_metrics_start(const struct sgfw_source *c, const struct sg_conf *conf, struct sg_error *err)
{
	struct sgfw_metrics *m = calloc(1, sizeof(*m));
	struct sg_ip loopback[2];
	const struct sg_ip *ips = conf->metrics_address;
	uint32_t n = conf->n_metrics_address;
	int fd, rc;

	if (m == NULL) {
		sg_error_set(err, 0, "out of memory");
		return NULL;
	}
	m->source = c;
	m->stop[0] = m->stop[1] = -1;
	if (n == 0) {
		/* The default: loopback, IPv4 and IPv6. */
		sg_ip_parse("127.0.0.1", &loopback[0]);
		sg_ip_parse("::1", &loopback[1]);
		ips = loopback;
		n = 2;
	}
	for (uint32_t i = 0; i < n; i++) {
		fd = listen_on(&ips[i], conf->metrics_port, err);
		/* A host without IPv6 has no ::1: the default then is IPv4 alone. */
		if (fd < 0 && conf->n_metrics_address == 0 && i == 1 &&
				(fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT)) {
			SGFW_LOG(CTL, WARNING, "metrics on 127.0.0.1 only: %s", err->msg);
			continue;
		}
		if (fd < 0)
			goto fail;
		m->fds[m->n_fds++] = fd;
	}
	if (pipe2(m->stop, O_CLOEXEC) != 0) {
		sg_error_set(err, 0, "metrics: pipe: %s", strerror(errno));
		goto fail;
	}
	rc = rte_ctrl_thread_create(&m->thread, "sg-metrics", NULL, metrics_main, m);
	if (rc != 0) {
		sg_error_set(err, 0, "metrics: cannot start its thread: %s", strerror(rc));
		goto fail;
	}
	m->started = true;
	return m;
fail:
	sgfw_metrics_stop(m);
	return NULL;
}

/* A label value with '\', '"' and newlines escaped, as the text format asks. */
static void
put_label(FILE *out, const char *value)
{
	for (; *value != '\0'; value++) {
		if (*value == '\\' || *value == '"')
			fputc('\\', out);
		if (*value == '\n')
			fputs("\\n", out);
		else
			fputc(*value, out);
	}
}

static void
port_metric(FILE *out, const char *metric, const char *help, const char *type,
		const struct sg_conf *conf, const struct sg_dp *dp, size_t offset)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		struct sg_dp_port_stats s;

		if (sg_dp_port_stats(dp, conf->ports[i].name, &s) != 0)
			continue; /* a port of another host */
		fprintf(out, "%s{port=\"", metric);
		put_label(out, conf->ports[i].name);
		if (offset == SIZE_MAX)
			fprintf(out, "\"} %d\n", s.link_up ? 1 : 0);
		else
			fprintf(out, "\"} %lu\n", *(const uint64_t *)((const char *)&s + offset));
	}
}

/* One series per worker: X(field, metric, help). */
#define WORKER_METRICS                                                                             \
	X(polls, "sgfw_worker_polls_total", "Loops over the worker's rx queues.")                  \
	X(busy_polls, "sgfw_worker_busy_polls_total", "Loops that received packets.")              \
	X(rx_packets, "sgfw_worker_rx_packets_total", "Packets the worker's polls received.")      \
	X(busy_cycles, "sgfw_worker_busy_cycles_total",                                            \
			"TSC cycles of busy loops (receive, process, send).")                      \
	X(idle_cycles, "sgfw_worker_idle_cycles_total",                                            \
			"TSC cycles of loops that received nothing.")                              \
	X(sleeps, "sgfw_worker_sleeps_total", "Idle sleeps (dataplane.sleep_max_us).")             \
	X(sleep_cycles, "sgfw_worker_sleep_cycles_total",                                          \
			"TSC cycles the worker slept (not in the idle cycles).")

/* Worker counters and flow-log losses (a poll-mode switch's health). */
static void
render_service_metrics(const struct sg_dp *dp, FILE *out)
{
	struct sg_dp_worker_stats ws;
	struct sg_dp_flowlog_stats fs;

	fprintf(out,
			"# HELP sgfw_tsc_hz TSC cycles per second (the unit of the cycle "
			"counters).\n"
			"# TYPE sgfw_tsc_hz gauge\nsgfw_tsc_hz %lu\n",
			(unsigned long)rte_get_tsc_hz());
#define X(field, metric, help)                                                                     \
	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", metric, help, metric);                   \
	for (uint16_t w = 0; w < sg_dp_n_workers(dp); w++) {                                       \
		sg_dp_worker_stats(dp, w, &ws);                                                    \
		fprintf(out, "%s{worker=\"%u\"} %lu\n", metric, w, ws.field);                      \
	}
	WORKER_METRICS
#undef X
	if (sg_dp_flowlog_stats(dp, &fs) < 0)
		return;
	fprintf(out,
			"# HELP sgfw_flowlog_events_total Flow-log events the workers handed "
			"over.\n"
			"# TYPE sgfw_flowlog_events_total counter\nsgfw_flowlog_events_total %lu\n"
			"# HELP sgfw_flowlog_lost_total Flow-log records lost, by where.\n"
			"# TYPE sgfw_flowlog_lost_total counter\n"
			"sgfw_flowlog_lost_total{cause=\"ring_full\"} %lu\n"
			"sgfw_flowlog_lost_total{cause=\"closed_ring_full\"} %lu\n"
			"sgfw_flowlog_lost_total{cause=\"max_flows\"} %lu\n"
			"# HELP sgfw_flowlog_write_errors_total Flow-log writes that failed.\n"
			"# TYPE sgfw_flowlog_write_errors_total counter\n"
			"sgfw_flowlog_write_errors_total %lu\n",
			fs.events, fs.ring_lost, fs.closed_lost, fs.writer.flows_dropped,
			fs.writer.write_errors);
}

/* The whole exposition, rendered from the same counters sgfwctl reads. */
/* A cluster node: etcd reachable, the revision in force, contact, refusals. */
static void
render_cluster_metrics(struct sgfw_cluster *cl, FILE *out)
{
	struct sgfw_cluster_status st;

	sgfw_cluster_status(cl, &st);
	fprintf(out,
			"# HELP sgfw_cluster_connected 1 while etcd answers.\n"
			"# TYPE sgfw_cluster_connected gauge\nsgfw_cluster_connected %d\n"
			"# HELP sgfw_cluster_applied_revision The etcd revision of the fleet in force.\n"
			"# TYPE sgfw_cluster_applied_revision gauge\n"
			"sgfw_cluster_applied_revision %lld\n"
			"# HELP sgfw_cluster_seen_revision The last etcd revision the watch delivered.\n"
			"# TYPE sgfw_cluster_seen_revision gauge\nsgfw_cluster_seen_revision %lld\n"
			"# HELP sgfw_cluster_seconds_since_contact Seconds since etcd last answered "
			"(-1: never).\n"
			"# TYPE sgfw_cluster_seconds_since_contact gauge\n"
			"sgfw_cluster_seconds_since_contact %ld\n"
			"# HELP sgfw_cluster_refused 1 while the fleet in etcd is refused (it does not "
			"load; the last applied one is in force).\n"
			"# TYPE sgfw_cluster_refused gauge\nsgfw_cluster_refused %d\n"
			"# HELP sgfw_cluster_applies_total Fleet states applied.\n"
			"# TYPE sgfw_cluster_applies_total counter\nsgfw_cluster_applies_total %lu\n"
			"# HELP sgfw_cluster_refusals_total Fleet states refused.\n"
			"# TYPE sgfw_cluster_refusals_total counter\nsgfw_cluster_refusals_total %lu\n"
			"# HELP sgfw_cluster_resyncs_total Whole reads of the fleet (start, compaction).\n"
			"# TYPE sgfw_cluster_resyncs_total counter\nsgfw_cluster_resyncs_total %lu\n",
			st.connected ? 1 : 0, (long long)st.applied_revision,
			(long long)st.seen_revision,
			st.last_contact ? (long)(time(NULL) - st.last_contact) : -1L,
			strcmp(st.policy, "refused") == 0 ? 1 : 0, (unsigned long)st.applies,
			(unsigned long)st.refused, (unsigned long)st.resyncs);
}

static void
render_metrics(const struct sgfw_source *c, FILE *out)
{
	const struct sg_dp *dp = c->dp;
	const struct sg_conf *conf = sg_dp_conf(dp);
	struct sg_ct *ct = sg_dp_ct(dp);
	uint32_t n_rules = sg_policy_rule_count(conf->policy);
	uint64_t *hits = calloc(n_rules + 1u, sizeof(*hits));
	char name[SG_NAME_MAX + 32];

	fputs("# HELP sgfw_up 1 while the switch runs.\n# TYPE sgfw_up gauge\nsgfw_up 1\n", out);
	port_metric(out, "sgfw_port_link_up", "1 when the port's link is up (a VM is connected).",
			"gauge", conf, dp, SIZE_MAX);
	port_metric(out, "sgfw_port_rx_packets_total", "Packets received from the port.", "counter",
			conf, dp, offsetof(struct sg_dp_port_stats, rx_packets));
	port_metric(out, "sgfw_port_tx_packets_total", "Packets sent to the port.", "counter", conf,
			dp, offsetof(struct sg_dp_port_stats, tx_packets));
	port_metric(out, "sgfw_port_rx_bytes_total", "Bytes received from the port.", "counter",
			conf, dp, offsetof(struct sg_dp_port_stats, rx_bytes));
	port_metric(out, "sgfw_port_tx_bytes_total", "Bytes sent to the port.", "counter", conf, dp,
			offsetof(struct sg_dp_port_stats, tx_bytes));
	port_metric(out, "sgfw_port_vxlan_encap_total",
			"Uplink: packets sent to other hosts over the VXLAN overlay.", "counter", conf, dp,
			offsetof(struct sg_dp_port_stats, vxlan_encap));
	port_metric(out, "sgfw_port_vxlan_decap_total",
			"Uplink: packets received from other hosts over the VXLAN overlay.", "counter",
			conf, dp, offsetof(struct sg_dp_port_stats, vxlan_decap));
	port_metric(out, "sgfw_port_connections", "Open connections the port started (per-port limit).",
			"gauge", conf, dp, offsetof(struct sg_dp_port_stats, connections));
	port_metric(out, "sgfw_port_flowlog_lost_total",
			"Flow-log records about the port lost (its logs are incomplete).", "counter", conf,
			dp, offsetof(struct sg_dp_port_stats, flowlog_lost));
	fputs("# HELP sgfw_port_drops_total Packets dropped, by the port they came from and why.\n"
	      "# TYPE sgfw_port_drops_total counter\n",
			out);
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		struct sg_dp_port_stats s;

		if (sg_dp_port_stats(dp, conf->ports[i].name, &s) != 0)
			continue; /* a port of another host */
		for (int r = 1; r < SG_DROP_COUNT; r++) {
			if (s.drops[r] == 0)
				continue;
			fputs("sgfw_port_drops_total{port=\"", out);
			put_label(out, conf->ports[i].name);
			fprintf(out, "\",reason=\"%s\"} %lu\n", sg_drop_reason_name((enum sg_drop_reason)r),
					s.drops[r]);
		}
	}
	fputs("# HELP sgfw_rule_hits_total Connections (sg engine: packets) each rule decided.\n"
	      "# TYPE sgfw_rule_hits_total counter\n",
			out);
	if (hits != NULL && sg_dp_rule_hits(dp, hits, n_rules) == 0) {
		for (uint32_t r = 0; r < n_rules; r++) {
			if (hits[r] == 0)
				continue;
			fputs("sgfw_rule_hits_total{rule=\"", out);
			put_label(out, sg_policy_rule_name(conf->policy, r, name, sizeof(name)));
			fprintf(out, "\"} %lu\n", hits[r]);
		}
	}
	free(hits);
	if (ct != NULL) {
		struct sg_ct_stats st;

		sg_ct_stats_get(ct, &st);
		fprintf(out,
				"# HELP sgfw_conntrack_entries Connections in the table.\n"
				"# TYPE sgfw_conntrack_entries gauge\nsgfw_conntrack_entries %lu\n"
				"# HELP sgfw_conntrack_capacity Connections the table holds.\n"
				"# TYPE sgfw_conntrack_capacity gauge\nsgfw_conntrack_capacity %lu\n"
				"# HELP sgfw_conntrack_early_drops_total Unassured entries evicted when full.\n"
				"# TYPE sgfw_conntrack_early_drops_total counter\n"
				"sgfw_conntrack_early_drops_total %lu\n"
				"# HELP sgfw_conntrack_share_refused_total New connections refused: "
				"table nearly full, port over its share.\n"
				"# TYPE sgfw_conntrack_share_refused_total counter\n"
				"sgfw_conntrack_share_refused_total %lu\n"
				"# HELP sgfw_conntrack_table_full_total New connections dropped: table full.\n"
				"# TYPE sgfw_conntrack_table_full_total counter\n"
				"sgfw_conntrack_table_full_total %lu\n",
				st.entries, st.capacity, st.early_drops, st.share_refused, st.table_full);
	}
	render_service_metrics(dp, out);
	if (c->cluster != NULL)
		render_cluster_metrics(c->cluster, out);
}
