/* SPDX-License-Identifier: BSD-3-Clause */
/* The datapath's control side: opening ports, swapping generations under RCU, and reading the
 * workers' counters. Everything here runs on the control thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "dp_private.h"
#include "dp_worker.h"
#include "sg_ct.h"
#include "sg_json.h"

static const char *const engine_names[] = {
	[SG_DP_ENGINE_FW] = "fw",
	[SG_DP_ENGINE_SG] = "sg",
	[SG_DP_ENGINE_IO] = "io",
};

static const char *const stage_names[] = {
#define X(name, text) [SG_DP_STAGE_##name] = text,
	SG_DP_STAGES
#undef X
};

const char *
sg_dp_stage_name(enum sg_dp_stage stage)
{
	return (unsigned int)stage < SG_DP_STAGE_COUNT ? stage_names[stage] : "unknown";
}

void
sg_dp_stage_cycles(const struct sg_dp *dp, struct sg_dp_stage_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	/* Each worker writes its own counters; aligned 64-bit reads do not tear. */
	for (uint16_t w = 0; w < dp->params.n_workers; w++) {
		const struct dp_worker *wk = dp->workers[w];

		for (int s = 0; s < SG_DP_STAGE_COUNT; s++)
			stats->cycles[s] += wk->stage_cycles[s];
		stats->packets += wk->timed_packets;
		stats->bursts += wk->timed_bursts;
	}
}

uint16_t
sg_dp_n_workers(const struct sg_dp *dp)
{
	return dp->params.n_workers;
}

int
sg_dp_worker_stats(const struct sg_dp *dp, uint16_t worker, struct sg_dp_worker_stats *st)
{
	const struct dp_worker *w;

	if (worker >= dp->params.n_workers)
		return -ENOENT;
	w = dp->workers[worker];
	/* Written by the worker alone; relaxed loads of aligned words, as the other readers. */
	st->polls = __atomic_load_n(&w->polls, __ATOMIC_RELAXED);
	st->busy_polls = __atomic_load_n(&w->busy_polls, __ATOMIC_RELAXED);
	st->rx_packets = __atomic_load_n(&w->poll_packets, __ATOMIC_RELAXED);
	st->busy_cycles = __atomic_load_n(&w->busy_cycles, __ATOMIC_RELAXED);
	st->idle_cycles = __atomic_load_n(&w->idle_cycles, __ATOMIC_RELAXED);
	st->sleeps = __atomic_load_n(&w->sleeps, __ATOMIC_RELAXED);
	st->sleep_cycles = __atomic_load_n(&w->sleep_cycles, __ATOMIC_RELAXED);
	return 0;
}

const char *
sg_dp_engine_name(enum sg_dp_engine engine)
{
	return engine_names[engine];
}

int
sg_dp_engine_parse(const char *name, enum sg_dp_engine *engine)
{
	for (size_t i = 0; i < SG_ARRAY_SIZE(engine_names); i++) {
		if (strcmp(name, engine_names[i]) == 0) {
			*engine = (enum sg_dp_engine)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool
same_device(const struct sg_conf_port *a, const struct sg_conf_port *b)
{
	return a->kind == b->kind && a->uplink == b->uplink && a->client == b->client &&
	       a->queues == b->queues && strcmp(a->path, b->path) == 0 &&
	       strcmp(a->tx_pcap, b->tx_pcap) == 0 && a->infinite_rx == b->infinite_rx;
}

static struct dp_port *
find_open(const struct sg_dp *dp, const char *name)
{
	for (uint32_t i = 0; i < dp->n_ports; i++)
		if (strcmp(dp->ports[i]->conf.name, name) == 0)
			return dp->ports[i];
	return NULL;
}

static void
close_port(struct dp_port *port)
{
	sg_port_close(&port->dev);
	rte_free(port);
}

/* The lowest id no open port (nor one opened in this apply) uses. */
static uint16_t
free_port_id(const struct sg_dp *dp, struct dp_port **opening, uint32_t n_opening)
{
	for (uint16_t id = 0;; id++) {
		bool used = false;

		for (uint32_t i = 0; i < dp->n_ports && !used; i++)
			used = dp->ports[i]->id == id;
		for (uint32_t i = 0; i < n_opening && !used; i++)
			used = opening[i] != NULL && opening[i]->id == id;
		if (!used)
			return id;
	}
}

static struct dp_port *
open_port(struct sg_dp *dp, const struct sg_conf_port *conf, struct dp_port **opening,
		uint32_t n_opening, struct sg_error *err)
{
	struct dp_port *port = rte_zmalloc("sg_dp_port", sizeof(*port), RTE_CACHE_LINE_SIZE);
	struct sg_port_setup setup = {
		.pool = dp->params.pool,
		.n_workers = dp->params.n_workers,
		.rx_desc = dp->params.rx_desc,
		.tx_desc = dp->params.tx_desc,
	};

	if (port == NULL) {
		sg_error_set(err, conf->line, "port \"%s\": out of memory", conf->name);
		return NULL;
	}
	port->conf = *conf;
	port->id = free_port_id(dp, opening, n_opening);
	if (sg_port_open(conf, &setup, &port->dev, err) < 0) {
		rte_free(port);
		return NULL;
	}
	return port;
}

/* The tracker's settings of 'conf': checked before anything moves, set after the swap. */
static int
conntrack_check(const struct sg_dp *dp, const struct sg_conf *conf, struct sg_error *err)
{
	const struct sg_conf_conntrack *want = &conf->conntrack;
	const struct dp_gen *running = atomic_load_explicit(&((struct sg_dp *)dp)->gen,
			memory_order_acquire);

	if (dp->params.ct == NULL)
		return 0;
	for (uint32_t i = 0; i < want->n_timeouts; i++) {
		int tm = sg_ct_timeout_from_name(want->timeouts[i].name);

		if (tm < 0 || want->timeouts[i].value < 1 || want->timeouts[i].value > SG_CT_TIMEOUT_MAX)
			return sg_error_set(err, want->timeouts[i].line,
					"conntrack.timeouts.%s: %s", want->timeouts[i].name,
					tm < 0 ? "no such timeout (see docs/config.md)" :
						 "out of range 1..1000000 seconds");
	}
	if (running != NULL && want->capacity != running->conf->conntrack.capacity)
		return sg_error_set(err, want->line,
				"conntrack.capacity cannot change while sgfw runs (%u now, %u asked): "
				"restart sgfw to resize the table",
				running->conf->conntrack.capacity, want->capacity);
	return 0;
}

static void
conntrack_apply(struct sg_dp *dp, const struct sg_conf *conf)
{
	const struct sg_conf_conntrack *want = &conf->conntrack;
	struct sg_ct *ct = dp->params.ct;

	if (ct == NULL)
		return;
	/* Timeouts the config leaves out go back to their defaults. */
	for (int tm = 0; tm < SG_CT_TM_COUNT; tm++)
		sg_ct_set_timeout(ct, (enum sg_ct_timeout)tm, sg_ct_timeout_defaults[tm]);
	for (uint32_t i = 0; i < want->n_timeouts; i++)
		sg_ct_set_timeout(ct, (enum sg_ct_timeout)sg_ct_timeout_from_name(want->timeouts[i].name),
				want->timeouts[i].value);
	sg_ct_set_tcp_be_liberal(ct, want->tcp_be_liberal);
	sg_ct_set_tcp_loose(ct, want->tcp_loose);
	sg_ct_set_share_reserve(ct, want->share_reserve);
}

int
sg_dp_apply(struct sg_dp *dp, struct sg_conf *conf, struct sg_error *err)
{
	struct dp_port **ports = calloc(conf->n_ports + 1u, sizeof(*ports));
	bool *opened = calloc(conf->n_ports + 1u, sizeof(*opened));
	struct dp_gen *gen, *old;
	int rc = -EINVAL;

	if (ports == NULL || opened == NULL) {
		sg_error_set(err, 0, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = conntrack_check(dp, conf, err)) < 0)
		goto fail;
	/* From here every failure names itself in 'err'; the caller must see it as one. */
	rc = -EINVAL;
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		const struct sg_conf_port *pc = &conf->ports[i];
		struct dp_port *running;

		/* A port of another host has no device here (NULL in 'ports'). */
		if (pc->remote)
			continue;
		running = find_open(dp, pc->name);

		if (running != NULL) {
			if (!same_device(&running->conf, pc)) {
				sg_error_set(err, pc->line,
						"port \"%s\": its device settings changed; remove the port "
						"and add it again to change them",
						pc->name);
				goto fail;
			}
			ports[i] = running;
			continue;
		}
		ports[i] = open_port(dp, pc, ports, i, err);
		if (ports[i] == NULL)
			goto fail;
		opened[i] = true;
	}
	gen = dp_gen_build_ports(dp, conf, ports, conf->n_ports, err);
	if (gen == NULL)
		goto fail;
	/* The writer learns the epoch's names before any event of it can exist. Without them it
	 * still logs the traffic, with the rules shown as "-". */
	if (dp->flowlog != NULL)
		dp_flowlog_epoch(dp->flowlog, gen->epoch, conf, ports);

	old = atomic_exchange_explicit(&dp->gen, gen, memory_order_acq_rel);
	conntrack_apply(dp, conf);
	if (old != NULL) {
		/* Every worker passes a quiescent point after the swap: none reads 'old' any more. */
		rte_rcu_qsbr_synchronize(dp->qsv, RTE_QSBR_THRID_INVALID);
		dp_gen_carry_hits(gen, old, dp->params.n_workers);
		for (uint32_t i = 0; i < dp->n_ports; i++) {
			bool kept = false;

			for (uint32_t k = 0; k < conf->n_ports && !kept; k++)
				kept = ports[k] == dp->ports[i];
			if (kept)
				continue;
			/* Its id may serve the next port added: its connections go with it. */
			if (dp->params.ct != NULL)
				sg_ct_forget_port(dp->params.ct, dp->ports[i]->id);
			close_port(dp->ports[i]);
		}
		dp_gen_free(old);
	}
	/* The open ports only, remote ones left out. */
	free(dp->ports);
	dp->n_ports = 0;
	for (uint32_t i = 0; i < conf->n_ports; i++)
		if (ports[i] != NULL)
			ports[dp->n_ports++] = ports[i];
	dp->ports = ports;
	free(opened);
	return 0;
fail:
	for (uint32_t i = 0; ports != NULL && opened != NULL && i < conf->n_ports; i++)
		if (opened[i])
			close_port(ports[i]);
	free(ports);
	free(opened);
	return rc;
}

struct sg_dp *
sg_dp_create(const struct sg_dp_params *params, struct sg_conf *conf, struct sg_error *err)
{
	struct sg_dp *dp = calloc(1, sizeof(*dp));
	size_t qsv_size;

	if (dp == NULL) {
		sg_error_set(err, 0, "out of memory");
		return NULL;
	}
	dp->params = *params;
	if (params->n_workers == 0 || params->n_workers > SG_MAX_WORKERS) {
		sg_error_set(err, 0, "datapath: %u workers is outside 1..%d", params->n_workers,
				SG_MAX_WORKERS);
		goto fail;
	}
	if ((unsigned int)params->engine >= SG_DP_ENGINE_COUNT) {
		sg_error_set(err, 0, "datapath: engine %d is not io, sg or fw", (int)params->engine);
		goto fail;
	}
	if (params->engine == SG_DP_ENGINE_FW && params->ct == NULL) {
		sg_error_set(err, 0, "datapath: the fw engine needs a connection tracker");
		goto fail;
	}
	if (params->ct != NULL) {
		/* One grace period for everything: the tracker reclaims on the workers' QSBR. */
		dp->qsv = sg_ct_qsbr(params->ct);
	} else {
		qsv_size = rte_rcu_qsbr_get_memsize(params->n_workers);
		dp->qsv = rte_zmalloc("sg_dp_qsbr", qsv_size, RTE_CACHE_LINE_SIZE);
		dp->own_qsv = true;
		if (dp->qsv == NULL || rte_rcu_qsbr_init(dp->qsv, params->n_workers) != 0) {
			sg_error_set(err, 0, "datapath: cannot set up RCU");
			goto fail;
		}
	}
	for (uint16_t w = 0; w < params->n_workers; w++) {
		dp->workers[w] = dp_worker_create(dp, w);
		if (dp->workers[w] == NULL) {
			sg_error_set(err, 0, "datapath: out of memory for worker %u", w);
			goto fail;
		}
	}
	if (conf->flow_logs.enabled && params->engine != SG_DP_ENGINE_IO) {
		dp->flowlog = dp_flowlog_create(dp, conf, err);
		if (dp->flowlog == NULL)
			goto fail;
		for (uint16_t w = 0; w < params->n_workers; w++) {
			dp->workers[w]->fl_ring = dp_flowlog_ring(dp->flowlog, w);
			dp->workers[w]->fl_port_lost = calloc(SG_FLOWLOG_MAX_PORT_IDS, sizeof(uint64_t));
			if (dp->workers[w]->fl_port_lost == NULL) {
				sg_error_set(err, 0, "flow logs: out of memory");
				goto fail;
			}
		}
	}
	if (sg_dp_apply(dp, conf, err) < 0)
		goto fail;
	if (dp->flowlog != NULL && dp_flowlog_start(dp->flowlog, err) < 0) {
		/* The config now belongs to the generation: keep it from being freed twice. */
		struct dp_gen *gen = atomic_load(&dp->gen);

		gen->conf = NULL;
		goto fail;
	}
	return dp;
fail:
	sg_dp_free(dp);
	return NULL;
}

const struct sg_conf *
sg_dp_conf(const struct sg_dp *dp)
{
	return atomic_load_explicit(&((struct sg_dp *)dp)->gen, memory_order_acquire)->conf;
}

void *
sg_dp_worker_arg(struct sg_dp *dp, uint16_t worker)
{
	return dp->workers[worker];
}

void
sg_dp_stop(struct sg_dp *dp)
{
	atomic_store_explicit(&dp->quit, true, memory_order_relaxed);
}

void
sg_dp_free(struct sg_dp *dp)
{
	struct dp_gen *gen;

	if (dp == NULL)
		return;
	/* The writer reads the workers' counters and the tracker: it goes first. */
	dp_flowlog_free(dp->flowlog);
	gen = atomic_load(&dp->gen);
	for (uint32_t i = 0; i < dp->n_ports; i++)
		close_port(dp->ports[i]);
	free(dp->ports);
	dp_gen_free(gen);
	/* Contexts still being built for this datapath are dropped or freed: none outlives it. */
	sg_acl_wait_builds();
	for (int w = 0; w < SG_MAX_WORKERS; w++)
		dp_worker_free(dp->workers[w]);
	if (dp->own_qsv)
		rte_free(dp->qsv);
	free(dp);
}

static const struct dp_port *
port_by_name(const struct sg_dp *dp, const char *name)
{
	for (uint32_t i = 0; i < dp->n_ports; i++)
		if (strcmp(dp->ports[i]->conf.name, name) == 0)
			return dp->ports[i];
	return NULL;
}

int
sg_dp_capture_attach(struct sg_dp *dp, const char *name, enum sg_capture_side side,
		struct sg_capture *cap)
{
	struct dp_port *port = (struct dp_port *)port_by_name(dp, name);
	struct sg_capture *none = NULL;

	if (port == NULL)
		return -ENOENT;
	if (!atomic_compare_exchange_strong(&port->dev.capture[side], &none, cap))
		return -EBUSY;
	return 0;
}

bool
sg_dp_capture_attached(const struct sg_dp *dp, const struct sg_capture *cap)
{
	for (uint32_t i = 0; i < dp->n_ports; i++)
		for (int side = 0; side < SG_CAPTURE_SIDES; side++)
			if (atomic_load(&dp->ports[i]->dev.capture[side]) == cap)
				return true;
	return false;
}

void
sg_dp_capture_detach(struct sg_dp *dp, struct sg_capture *cap)
{
	for (uint32_t i = 0; i < dp->n_ports; i++) {
		for (int side = 0; side < SG_CAPTURE_SIDES; side++) {
			struct sg_capture *mine = cap;

			atomic_compare_exchange_strong(&dp->ports[i]->dev.capture[side], &mine, NULL);
		}
	}
	/* A worker that loaded the pointer reports quiescence only after its burst. */
	rte_rcu_qsbr_synchronize(dp->qsv, RTE_QSBR_THRID_INVALID);
}

int
sg_dp_port_stats(const struct sg_dp *dp, const char *name, struct sg_dp_port_stats *stats)
{
	const struct dp_port *port = port_by_name(dp, name);

	memset(stats, 0, sizeof(*stats));
	if (port == NULL)
		return -ENOENT;
	stats->link_up = sg_port_link_up(&port->dev);
	/* Workers write their own rows; aligned 64-bit reads never tear on the targets we build for. */
	for (uint16_t w = 0; w < dp->params.n_workers; w++) {
		const struct dp_port_counters *c = &port->counters[w];

		stats->rx_packets += c->rx_packets;
		stats->rx_bytes += c->rx_bytes;
		stats->tx_packets += c->tx_packets;
		stats->tx_bytes += c->tx_bytes;
		stats->replies += c->replies;
		stats->flowlog_lost += c->fl_lost;
		stats->absorbed += c->absorbed;
		for (int r = 0; r < SG_DROP_COUNT; r++) {
			stats->drops[r] += c->drops[r];
			stats->drops_total += c->drops[r];
		}
	}
	if (dp->params.ct != NULL)
		stats->connections = sg_ct_port_connections(dp->params.ct, port->id);
	return 0;
}

int
sg_dp_rule_hits(const struct sg_dp *dp, uint64_t *hits, uint32_t n)
{
	const struct dp_gen *gen = atomic_load_explicit(&((struct sg_dp *)dp)->gen, memory_order_acquire);
	uint32_t row = dp_gen_hits_row(gen);

	if (n < gen->n_rule_ids)
		return -ENOSPC;
	memcpy(hits, gen->carried_hits, gen->n_rule_ids * sizeof(*hits));
	memset(hits + gen->n_rule_ids, 0, (n - gen->n_rule_ids) * sizeof(*hits));
	for (uint16_t w = 0; w < dp->params.n_workers; w++)
		for (uint32_t r = 0; r < gen->n_rule_ids; r++)
			hits[r] += gen->rule_hits[(size_t)w * row + r];
	return 0;
}

const char *
sg_dp_port_name(const struct sg_dp *dp, uint16_t port_id)
{
	for (uint32_t i = 0; i < dp->n_ports; i++)
		if (dp->ports[i]->id == port_id)
			return dp->ports[i]->conf.name;
	return NULL;
}

int
sg_dp_port_id(const struct sg_dp *dp, const char *name)
{
	const struct dp_port *port = port_by_name(dp, name);

	return port != NULL ? port->id : -ENOENT;
}

void
sg_dp_classifier_counts(const struct sg_dp *dp, struct sg_acl_counts *counts)
{
	const struct dp_gen *gen = atomic_load_explicit(&dp->gen, memory_order_acquire);

	*counts = (struct sg_acl_counts){0};
	if (gen != NULL && gen->acl != NULL)
		sg_acl_build_counts(gen->acl, counts);
}

struct sg_ct *
sg_dp_ct(const struct sg_dp *dp)
{
	return dp->params.ct;
}

int
sg_dp_flowlog_stats(const struct sg_dp *dp, struct sg_dp_flowlog_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (dp->flowlog == NULL)
		return -ENOENT;
	dp_flowlog_stats(dp->flowlog, st);
	return 0;
}

void
sg_dp_flowlog_stats_json(const struct sg_dp_flowlog_stats *st, struct sg_json *j)
{
	const struct sg_flowlog_stats *w = &st->writer;

	sg_json_string(j, "directory", st->directory);
	sg_json_string(j, "file", st->file);
	sg_json_uint(j, "window", st->window);
	sg_json_int(j, "window_start", st->window_start);
	sg_json_uint(j, "events", st->events);
	sg_json_uint(j, "ring_lost", st->ring_lost);
	sg_json_uint(j, "closed_lost", st->closed_lost);
	sg_json_uint(j, "windows", w->windows);
	sg_json_uint(j, "lines", w->lines);
	sg_json_uint(j, "nodata", w->nodata);
	sg_json_uint(j, "skipdata", w->skipdata);
	sg_json_uint(j, "flows_open", w->flows);
	sg_json_uint(j, "conns_followed", w->conns);
	sg_json_uint(j, "flows_dropped", w->flows_dropped);
	sg_json_uint(j, "conns_untracked", w->conns_untracked);
	sg_json_uint(j, "files", w->files);
	sg_json_uint(j, "bytes_written", w->bytes_written);
	sg_json_uint(j, "write_errors", w->write_errors);
	sg_json_uint(j, "writer_cpu_ms", st->writer_cpu_ns / 1000000u);
}

static void
flowlog_json(const struct sg_dp *dp, struct sg_json *j)
{
	struct sg_dp_flowlog_stats fs;

	if (sg_dp_flowlog_stats(dp, &fs) < 0)
		return;
	sg_json_object_open(j, "flow_logs");
	sg_dp_flowlog_stats_json(&fs, j);
	sg_json_object_close(j);
}

void
sg_dp_stats_json(const struct sg_dp *dp, FILE *out)
{
	const struct sg_conf *conf = sg_dp_conf(dp);
	uint32_t n_rules = sg_policy_rule_count(conf->policy);
	uint64_t *hits = calloc(n_rules + 1u, sizeof(*hits));
	struct sg_json j;
	char name[SG_NAME_MAX + 32];

	sg_json_init(&j, out, true);
	sg_json_object_open(&j, NULL);
	sg_json_string(&j, "engine", sg_dp_engine_name(dp->params.engine));
	sg_json_object_open(&j, "ports");
	for (uint32_t i = 0; i < dp->n_ports; i++) {
		struct sg_dp_port_stats s;

		sg_dp_port_stats(dp, dp->ports[i]->conf.name, &s);
		sg_json_object_open(&j, dp->ports[i]->conf.name);
		sg_json_bool(&j, "link_up", s.link_up);
		sg_json_uint(&j, "rx_packets", s.rx_packets);
		sg_json_uint(&j, "rx_bytes", s.rx_bytes);
		sg_json_uint(&j, "tx_packets", s.tx_packets);
		sg_json_uint(&j, "tx_bytes", s.tx_bytes);
		sg_json_uint(&j, "replies", s.replies);
		sg_json_uint(&j, "absorbed", s.absorbed);
		sg_json_uint(&j, "drops", s.drops_total);
		sg_json_uint(&j, "connections", s.connections);
		sg_json_uint(&j, "flowlog_lost", s.flowlog_lost);
		sg_json_object_open(&j, "drop_reasons");
		for (int r = 1; r < SG_DROP_COUNT; r++)
			if (s.drops[r] != 0)
				sg_json_uint(&j, sg_drop_reason_name((enum sg_drop_reason)r), s.drops[r]);
		sg_json_object_close(&j);
		sg_json_object_close(&j);
	}
	sg_json_object_close(&j);
	sg_json_object_open(&j, "rule_hits");
	if (hits != NULL && sg_dp_rule_hits(dp, hits, n_rules) == 0)
		for (uint32_t r = 0; r < n_rules; r++)
			if (hits[r] != 0)
				sg_json_uint(&j, sg_policy_rule_name(conf->policy, r, name, sizeof(name)),
						hits[r]);
	sg_json_object_close(&j);
	sg_json_uint(&j, "tsc_hz", rte_get_tsc_hz());
	sg_json_array_open(&j, "workers");
	for (uint16_t w = 0; w < dp->params.n_workers; w++) {
		struct sg_dp_worker_stats ws;

		sg_dp_worker_stats(dp, w, &ws);
		sg_json_object_open(&j, NULL);
		sg_json_uint(&j, "worker", w);
		sg_json_uint(&j, "polls", ws.polls);
		sg_json_uint(&j, "busy_polls", ws.busy_polls);
		sg_json_uint(&j, "rx_packets", ws.rx_packets);
		sg_json_uint(&j, "busy_cycles", ws.busy_cycles);
		sg_json_uint(&j, "idle_cycles", ws.idle_cycles);
		sg_json_uint(&j, "sleeps", ws.sleeps);
		sg_json_uint(&j, "sleep_cycles", ws.sleep_cycles);
		sg_json_object_close(&j);
	}
	sg_json_array_close(&j);
	if (dp->params.ct != NULL) {
		struct sg_ct_stats cs;

		sg_ct_stats_get(dp->params.ct, &cs);
		sg_json_object_open(&j, "conntrack");
		sg_json_uint(&j, "entries", cs.entries);
		sg_json_uint(&j, "capacity", cs.capacity);
		sg_json_uint(&j, "inserts", cs.inserts);
		sg_json_uint(&j, "insert_races", cs.insert_races);
		sg_json_uint(&j, "early_drops", cs.early_drops);
		sg_json_uint(&j, "share_refused", cs.share_refused);
		sg_json_uint(&j, "table_full", cs.table_full);
		sg_json_uint(&j, "expired", cs.expired);
		sg_json_object_close(&j);
	}
	flowlog_json(dp, &j);
	sg_json_object_close(&j);
	sg_json_finish(&j);
	free(hits);
}
