/* SPDX-License-Identifier: BSD-3-Clause */
/* Simulated fleet nodes for docs/cluster.md's numbers: NODES watchers of one etcd, each a
 * thread that reads the fleet at a revision and follows it from there as a node does
 * (lib/cluster), and with --build also builds its host's config from every batch of events
 * (sg_cluster_fleet_build_as(): the text, lib/conf's validation, lib/policy's compile; no
 * datapath). A writer then changes one group WRITES times, one at a time; for each write it
 * waits until every watcher has it, and records the time from the write to each
 * watcher's event (and build), from when the write was sent. Prints, over the writes, p50/p99/max of the last watcher's time
 * (the write in force on every node) and of every watcher's.
 *
 * Usage: fleet_sim ENDPOINT NODES WRITES [--build] [--prefix P]
 * The hosts of the fleet (hosts/) name the simulated nodes in turn; a fleet without hosts is
 * built as seen from no host.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sg_cluster.h"

#define WRITE_TIMEOUT_S 60.0

struct sim {
	const char *endpoint;
	const char *prefix;
	bool build;
	uint32_t n_nodes;
	uint32_t n_writes;
	double *write_time;      /* When write i was sent. */
	atomic_uint ready;       /* Watchers whose watch is open. */
	atomic_bool stop;
	char (*hosts)[SG_NAME_MAX];
	uint32_t n_hosts;
	/* The fleet read once at a revision: every simulated node starts from it (a thousand
	 * nodes reading it at once is a start-up storm, not what this measures). */
	const struct sg_etcd_kvs *kvs;
};

struct node {
	struct sim *sim;
	pthread_t thread;
	uint32_t id;
	struct sg_cluster_fleet *fleet;
	int64_t seen;            /* The last revision whose events it applied. */
	_Atomic int64_t done;    /* The last revision it is done with (received, built). */
	/* When it was done with each batch: (revision, time), in order; read after the watch. */
	int64_t *log_rev;
	double *log_time;
	uint32_t n_log, max_log;
	uint32_t builds;
	uint32_t build_errors;
	char error[256];
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
apply_events(void *arg, const struct sg_etcd_event *events, size_t n, int64_t revision)
{
	struct node *node = arg;
	struct sg_error err = {0};

	for (size_t i = 0; i < n; i++) {
		const struct sg_etcd_kv *kv = &events[i].kv;

		if (events[i].deleted)
			sg_cluster_fleet_delete(node->fleet, kv->key);
		else
			sg_cluster_fleet_set(node->fleet, kv->key, kv->value, kv->value_len,
					kv->mod_revision, &err);
	}
	if (revision > node->seen)
		node->seen = revision;
}

/* Done with everything up to node->seen: logged with the time, then published. */
static void
mark_done(struct node *node)
{
	if (node->n_log < node->max_log) {
		node->log_rev[node->n_log] = node->seen;
		node->log_time[node->n_log] = now();
		node->n_log++;
	}
	atomic_store_explicit(&node->done, node->seen, memory_order_release);
}

/* When 'node' was done with revision 'rev' (the first batch at or past it); 0 when never. */
static double
done_at(const struct node *node, int64_t rev)
{
	for (uint32_t i = 0; i < node->n_log; i++)
		if (node->log_rev[i] >= rev)
			return node->log_time[i];
	return 0;
}

static void *
node_main(void *arg)
{
	struct node *node = arg;
	struct sim *sim = node->sim;
	const char *endpoints[1] = {sim->endpoint};
	struct sg_etcd_params params = {.endpoints = endpoints, .n_endpoints = 1,
					 .timeout_ms = 60000};
	struct sg_error err = {0};
	struct sg_etcd *etcd = sg_etcd_create(&params, &err);
	struct sg_etcd_watch *watch = NULL;
	const char *host = sim->n_hosts ? sim->hosts[node->id % sim->n_hosts] : NULL;
	int64_t compacted = 0;

	if (etcd == NULL || sg_cluster_fleet_load(node->fleet, sim->kvs, &err) < 0)
		goto fail;
	node->seen = sim->kvs->revision;
	watch = sg_etcd_watch_open(etcd, sim->prefix, sim->kvs->revision + 1, &err);
	if (watch == NULL)
		goto fail;
	atomic_fetch_add(&sim->ready, 1);
	while (!atomic_load(&sim->stop)) {
		int rc = sg_etcd_watch_poll(watch, 200, apply_events, node, &compacted, &err);

		if (rc < 0)
			goto fail;
		if (rc == 0)
			continue;
		if (sim->build) {
			struct sg_conf *conf = sg_cluster_fleet_build_as(node->fleet, host, &err);

			node->builds++;
			if (conf == NULL)
				node->build_errors++;
			sg_conf_free(conf);
		}
		mark_done(node);
	}
	sg_etcd_watch_close(watch);
	sg_etcd_free(etcd);
	return NULL;
fail:
	snprintf(node->error, sizeof(node->error), "%s", err.msg[0] ? err.msg : "failed");
	atomic_fetch_add(&sim->ready, 1);
	sg_etcd_watch_close(watch);
	sg_etcd_free(etcd);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, double *ms, size_t n)
{
	qsort(ms, n, sizeof(*ms), cmp_double);
	printf("%s: n %zu p50 %.1f ms p90 %.1f ms p99 %.1f ms max %.1f ms\n", what, n,
			ms[n / 2], ms[n * 90 / 100], ms[n * 99 / 100], ms[n - 1]);
}

/* The fleet's hosts, which the simulated nodes take in turn. */
static int
read_hosts(struct sim *sim, struct sg_etcd *etcd)
{
	char prefix[256];
	struct sg_etcd_kvs kvs = {0};
	struct sg_error err = {0};
	size_t skip;

	snprintf(prefix, sizeof(prefix), "%shosts/", sim->prefix);
	skip = strlen(prefix);
	if (sg_etcd_range(etcd, prefix, 0, 0, &kvs, &err) < 0) {
		fprintf(stderr, "fleet_sim: %s\n", err.msg);
		return -1;
	}
	sim->hosts = calloc(kvs.n ? kvs.n : 1, sizeof(*sim->hosts));
	for (size_t i = 0; i < kvs.n; i++)
		snprintf(sim->hosts[sim->n_hosts++], SG_NAME_MAX, "%s", kvs.kvs[i].key + skip);
	sg_etcd_kvs_free(&kvs);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sim sim = {.prefix = SG_CLUSTER_PREFIX};
	const char *endpoints[1];
	struct sg_etcd_params params = {.n_endpoints = 1, .endpoints = endpoints};
	struct sg_error err = {0};
	struct sg_etcd *etcd;
	struct node *nodes;
	double *last, *all;
	int64_t *write_rev;
	struct sg_etcd_kvs fleet_kvs = {0};
	size_t n_all = 0;
	char key[256], value[256];
	int failed = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: fleet_sim ENDPOINT NODES WRITES [--build] [--prefix P]\n");
		return 2;
	}
	sim.endpoint = argv[1];
	sim.n_nodes = (uint32_t)atoi(argv[2]);
	sim.n_writes = (uint32_t)atoi(argv[3]);
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--build") == 0)
			sim.build = true;
		else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
			sim.prefix = argv[++i];
		else {
			fprintf(stderr, "fleet_sim: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (sim.n_nodes == 0 || sim.n_writes == 0) {
		fprintf(stderr, "fleet_sim: NODES and WRITES must be at least 1\n");
		return 2;
	}
	endpoints[0] = sim.endpoint;
	etcd = sg_etcd_create(&params, &err);
	if (etcd == NULL || read_hosts(&sim, etcd) < 0 ||
			sg_etcd_range(etcd, sim.prefix, 0, 0, &fleet_kvs, &err) < 0) {
		fprintf(stderr, "fleet_sim: %s\n", err.msg);
		return 1;
	}
	sim.kvs = &fleet_kvs;
	sim.write_time = calloc(sim.n_writes, sizeof(*sim.write_time));
	nodes = calloc(sim.n_nodes, sizeof(*nodes));
	last = calloc(sim.n_writes, sizeof(*last));
	write_rev = calloc(sim.n_writes, sizeof(*write_rev));
	all = calloc((size_t)sim.n_writes * sim.n_nodes, sizeof(*all));
	if (sim.write_time == NULL || nodes == NULL || last == NULL || write_rev == NULL ||
			all == NULL)
		return 1;
	for (uint32_t i = 0; i < sim.n_nodes; i++) {
		pthread_attr_t attr;

		nodes[i] = (struct node){.sim = &sim, .id = i};
		nodes[i].fleet = sg_cluster_fleet_create(sim.prefix);
		nodes[i].max_log = 4 * sim.n_writes + 1024;
		nodes[i].log_rev = calloc(nodes[i].max_log, sizeof(int64_t));
		nodes[i].log_time = calloc(nodes[i].max_log, sizeof(double));
		pthread_attr_init(&attr);
		/* A thousand threads: small stacks. */
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (nodes[i].fleet == NULL || nodes[i].log_rev == NULL || nodes[i].log_time == NULL ||
				pthread_create(&nodes[i].thread, &attr, node_main, &nodes[i]) != 0) {
			fprintf(stderr, "fleet_sim: cannot start node %u\n", i);
			return 1;
		}
		pthread_attr_destroy(&attr);
	}
	while (atomic_load(&sim.ready) < sim.n_nodes)
		nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
	for (uint32_t i = 0; i < sim.n_nodes; i++)
		if (nodes[i].error[0] != '\0') {
			fprintf(stderr, "fleet_sim: node %u: %s\n", i, nodes[i].error);
			failed = 1;
		}
	snprintf(key, sizeof(key), "%sgroups/sg-fleet-sim", sim.prefix);
	for (uint32_t w = 0; w < sim.n_writes && !failed; w++) {
		struct sg_etcd_op op = {.key = key, .value = value};
		int64_t rev = 0;
		double t0, deadline;

		snprintf(value, sizeof(value),
				"{\"description\": \"fleet_sim write %u\", \"rules\": [{\"direction\": "
				"\"ingress\", \"protocol\": \"tcp\", \"port_range\": \"%u/%u\", "
				"\"source_cidr\": \"10.0.0.0/8\"}]}",
				w, 1000 + w, 1000 + w);
		t0 = now();
		if (sg_etcd_txn(etcd, NULL, 0, &op, 1, &rev, &err) != 1) {
			fprintf(stderr, "fleet_sim: write %u: %s\n", w, err.msg);
			failed = 1;
			break;
		}
		sim.write_time[w] = t0;
		deadline = t0 + WRITE_TIMEOUT_S;
		for (uint32_t i = 0; i < sim.n_nodes && !failed; i++) {
			while (atomic_load_explicit(&nodes[i].done, memory_order_acquire) < rev &&
					now() < deadline && nodes[i].error[0] == '\0')
				nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
			if (atomic_load(&nodes[i].done) < rev) {
				fprintf(stderr, "fleet_sim: node %u did not get write %u in %.0f s%s%s\n", i,
						w, WRITE_TIMEOUT_S, nodes[i].error[0] ? ": " : "",
						nodes[i].error);
				failed = 1;
			}
		}
		write_rev[w] = rev;
		/* Let presence writes and idle threads settle between writes, as an operator would. */
		nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
	}
	atomic_store(&sim.stop, true);
	for (uint32_t i = 0; i < sim.n_nodes; i++)
		pthread_join(nodes[i].thread, NULL);
	for (uint32_t w = 0; w < sim.n_writes && !failed; w++) {
		for (uint32_t i = 0; i < sim.n_nodes; i++) {
			double t = done_at(&nodes[i], write_rev[w]);

			if (t == 0) {
				fprintf(stderr, "fleet_sim: node %u logged no batch for write %u\n", i, w);
				failed = 1;
				break;
			}
			all[n_all++] = (t - sim.write_time[w]) * 1000;
			if (all[n_all - 1] > last[w])
				last[w] = all[n_all - 1];
		}
	}
	if (!failed) {
		uint32_t builds = 0, errors = 0;

		for (uint32_t i = 0; i < sim.n_nodes; i++) {
			builds += nodes[i].builds;
			errors += nodes[i].build_errors;
		}
		printf("fleet_sim: %u nodes, %u writes, %s, %u hosts in the fleet\n", sim.n_nodes,
				sim.n_writes, sim.build ? "each batch built" : "events only",
				sim.n_hosts);
		if (sim.build)
			printf("builds %u, refused %u\n", builds, errors);
		report("in force on every node (the last node, per write)", last, sim.n_writes);
		report("each node", all, n_all);
	}
	/* Clean up: a simulated fleet leaves its group behind otherwise. */
	{
		struct sg_etcd_op del = {.key = key, .value = NULL};
		int64_t rev;

		sg_etcd_txn(etcd, NULL, 0, &del, 1, &rev, &err);
	}
	for (uint32_t i = 0; i < sim.n_nodes; i++) {
		sg_cluster_fleet_free(nodes[i].fleet);
		free(nodes[i].log_rev);
		free(nodes[i].log_time);
	}
	free(nodes);
	free(last);
	free(all);
	free(write_rev);
	free(sim.write_time);
	free(sim.hosts);
	sg_etcd_kvs_free(&fleet_kvs);
	sg_etcd_free(etcd);
	return failed;
}
