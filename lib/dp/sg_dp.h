/* SPDX-License-Identifier: BSD-3-Clause */
/* The switch datapath: ports, forwarding (L2 inside a subnet, routing between subnets), port
 * security, conntrack and security-group classification, run by worker cores in bursts.
 *
 * Usage (control thread):
 *   dp = sg_dp_create(&params, conf, &err);   opens the config's ports, builds the first policy
 *   rte_eal_remote_launch(sg_dp_worker_main, sg_dp_worker_arg(dp, w), lcore) for each worker
 *   sg_dp_apply(dp, new_conf, &err);           a changed config: new ports opened, the policy
 *                                              swapped with RCU, removed ports closed
 *   sg_dp_stop(dp); wait for the workers; sg_dp_free(dp);
 *
 * Forwarding engines (struct sg_dp_params.engine): "fw" is the product: parse, port security,
 * conntrack, classify on a miss, forward. "sg" classifies every packet without state (a
 * benchmark of the classifier). "io" forwards between port pairs with no processing (the floor).
 *
 * Thread-safety: sg_dp_create/apply/stop/free and the stats readers run on the control thread;
 * sg_dp_worker_main runs once per worker. Workers read the current generation (policy,
 * classifier, tables, ports) under RCU and never block.
 */
#ifndef SG_DP_H
#define SG_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "sg_acl.h"
#include "sg_conf.h"
#include "sg_flowlog.h"
#include "sg_port.h"
#include "sg_reasons.h"

#define SG_DP_MAX_BURST 64

enum sg_dp_engine {
	SG_DP_ENGINE_FW = 0, /**< Full pipeline (default). */
	SG_DP_ENGINE_SG,     /**< Stateless: classify every packet. */
	SG_DP_ENGINE_IO,     /**< Receive and send to the paired port, nothing else. */
	SG_DP_ENGINE_COUNT
};

/**
 * Pipeline stages timed when struct sg_dp_params.stage_cycles is set: X(NAME, "name").
 * RX is the receive call of sg_dp_worker_main (not counted for injected bursts); PARSE is
 * parsing and admission (port security, ARP/ND, destination); CONNTRACK the tracker's burst
 * lookup and commits; CLASSIFY building keys, rte_acl and verdicts; FORWARD rewrites, the
 * transmit calls and freeing dropped packets.
 */
#define SG_DP_STAGES                                                                               \
	X(RX, "rx")                                                                                \
	X(PARSE, "parse")                                                                          \
	X(CONNTRACK, "conntrack")                                                                  \
	X(CLASSIFY, "classify")                                                                    \
	X(FORWARD, "forward")

enum sg_dp_stage {
#define X(name, text) SG_DP_STAGE_##name,
	SG_DP_STAGES
#undef X
	SG_DP_STAGE_COUNT
};

struct sg_ct;

struct sg_dp_params {
	enum sg_dp_engine engine;
	uint16_t n_workers;
	uint16_t burst;            /**< Packets per rx burst, 1..SG_DP_MAX_BURST. */
	uint16_t rx_desc;
	uint16_t tx_desc;
	struct rte_mempool *pool;
	struct sg_ct *ct;          /**< Required by the fw engine; owned by the caller. */
	/**
	 * Count TSC cycles per stage (sg_dp_stage_cycles()). Off, the cost is one predictable
	 * branch per stage and burst; on, a few rdtsc per burst.
	 */
	bool stage_cycles;
	/**
	 * Match every list by a linear scan, never building rte_acl contexts: what a changed list
	 * costs until its context is built (benchmarks).
	 */
	bool classify_linear;
};

struct sg_dp;

/** Open the ports of 'conf' and build its policy. Takes ownership of 'conf' on success. */
struct sg_dp *sg_dp_create(const struct sg_dp_params *params, struct sg_conf *conf,
		struct sg_error *err);

/**
 * Make 'conf' the running config: validated and built off the workers, then swapped in
 * atomically; the old one is freed after every worker has moved on. Conntrack timeouts,
 * tcp_be_liberal, tcp_loose and keep_established follow the new config; capacity cannot change
 * while running. On failure nothing changes and 'conf' stays the caller's. Takes ownership of
 * 'conf' on success.
 */
int sg_dp_apply(struct sg_dp *dp, struct sg_conf *conf, struct sg_error *err);

/** The running config (valid until the next sg_dp_apply on this thread). */
const struct sg_conf *sg_dp_conf(const struct sg_dp *dp);

/** Entry point for rte_eal_remote_launch; 'arg' from sg_dp_worker_arg(). */
int sg_dp_worker_main(void *arg);
void *sg_dp_worker_arg(struct sg_dp *dp, uint16_t worker);

/** Ask workers to return from sg_dp_worker_main. */
void sg_dp_stop(struct sg_dp *dp);
/** Close every port and free everything; workers must have returned. */
void sg_dp_free(struct sg_dp *dp);

/** Counters of one port, summed over workers. */
struct sg_dp_port_stats {
	bool link_up;                      /**< Device link up (vhost-user: a VM is connected). */
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t replies;                  /**< ARP and ND answers sent by the switch. */
	uint64_t absorbed;                 /**< Platform traffic consumed (ND, MLD, ARP replies). */
	uint64_t vxlan_encap;              /**< Uplink: sent over the overlay, encapsulated. */
	uint64_t vxlan_decap;              /**< Uplink: received over the overlay, decapsulated. */
	uint64_t drops[SG_DROP_COUNT];
	uint64_t drops_total;
	uint64_t connections;              /**< Open connections the port started (its limit). */
	uint64_t flowlog_lost;             /**< Flow-log records about the port lost (budget,
					    *   full ring): its logs are incomplete. */
};

/** Stats of the port named 'name'; -ENOENT if there is none. */
int sg_dp_port_stats(const struct sg_dp *dp, const char *name, struct sg_dp_port_stats *stats);

/** Hits of every rule id of the running policy (sg_policy_rule_count() entries). */
int sg_dp_rule_hits(const struct sg_dp *dp, uint64_t *hits, uint32_t n);

/**
 * Poll-mode counters of one worker, as OVS's pmd-stats-show has them: a poll is one loop over
 * the worker's rx queues; a busy one received packets. Busy cycles are spent receiving,
 * processing and sending; idle cycles polling queues that had nothing. Cycles are TSC cycles
 * (rte_get_tsc_hz() a second). Only sg_dp_worker_main counts: injected bursts are not polls.
 */
struct sg_dp_worker_stats {
	uint64_t polls;
	uint64_t busy_polls;
	uint64_t rx_packets;               /**< Packets the polls received. */
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	uint64_t sleeps;                   /**< Idle sleeps (dataplane.sleep_max_us). */
	uint64_t sleep_cycles;             /**< TSC cycles spent in them (not in idle_cycles). */
};

/** Workers of the datapath (params.n_workers). */
uint16_t sg_dp_n_workers(const struct sg_dp *dp);
/**
 * Counters of worker 'worker'; -ENOENT beyond the last. Any thread: the worker keeps counting,
 * each field is read whole (a loop's update may be half seen).
 */
int sg_dp_worker_stats(const struct sg_dp *dp, uint16_t worker, struct sg_dp_worker_stats *st);

/** Flow logs of the running switch (docs/flowlogs.md). */
struct sg_dp_flowlog_stats {
	char directory[SG_PATH_MAX];
	char file[SG_PATH_MAX * 2];        /**< Being written ("" between files). */
	uint32_t window;                   /**< Seconds. */
	int64_t window_start;              /**< The open window (Unix seconds). */
	uint64_t events;                   /**< Events the workers handed over. */
	uint64_t ring_lost;                /**< Events lost to full rings (the packets went on). */
	uint64_t closed_lost;              /**< Closed connections lost to the tracker's full rings. */
	uint64_t writer_cpu_ns;            /**< CPU time the writer thread has used. */
	struct sg_flowlog_stats writer;    /**< The aggregator's counters. */
};

/**
 * Counters of flow logging; -ENOENT when it is off (flow_logs.enabled was false at start).
 * Flow logs are set up at sg_dp_create() from conf->flow_logs: enabling them, or changing the
 * directory, window, format, file limits, ring_size or max_flows, takes a restart; the
 * selection (enabled, traffic, groups, ports) follows every sg_dp_apply().
 */
int sg_dp_flowlog_stats(const struct sg_dp *dp, struct sg_dp_flowlog_stats *st);

struct sg_json;
/** Write 'st' as members of the JSON object open in 'j' (stats --json and flowlogs --json). */
void sg_dp_flowlog_stats_json(const struct sg_dp_flowlog_stats *st, struct sg_json *j);

/*
 * Captures (sg_port.h): attach one to a side of the port named 'name' (-ENOENT: no such port;
 * -EBUSY: that side has one), and detach it from wherever it is, waiting until no worker can
 * still be copying into it, before it is freed. A port closed by a change takes its captures
 * away with it: sg_dp_capture_attached() then says false. Control thread only.
 */
int sg_dp_capture_attach(struct sg_dp *dp, const char *name, enum sg_capture_side side,
		struct sg_capture *cap);
bool sg_dp_capture_attached(const struct sg_dp *dp, const struct sg_capture *cap);
void sg_dp_capture_detach(struct sg_dp *dp, struct sg_capture *cap);

/** Name of the port with id 'port_id' (as in conntrack origins), or NULL. */
const char *sg_dp_port_name(const struct sg_dp *dp, uint16_t port_id);
/** Id of the open port named 'name' (unique among open ports), or -ENOENT. */
int sg_dp_port_id(const struct sg_dp *dp, const char *name);

/**
 * The running classifier's counts (sg_acl.h): after a change, 'linear' lists are matched by a
 * scan until the background builder has their contexts; 'failed' ones stay so. All zero for
 * the io engine. Control thread only.
 */
void sg_dp_classifier_counts(const struct sg_dp *dp, struct sg_acl_counts *counts);

/** The tracker the datapath uses (NULL for the sg and io engines). */
struct sg_ct *sg_dp_ct(const struct sg_dp *dp);

/** Write all counters as JSON (ports, reasons, rule hits, and the tracker's table counters). */
void sg_dp_stats_json(const struct sg_dp *dp, FILE *out);

/** Cycles spent per stage, summed over workers (all zero unless params.stage_cycles). */
struct sg_dp_stage_stats {
	uint64_t cycles[SG_DP_STAGE_COUNT];
	uint64_t packets; /**< Packets the timed bursts held when they arrived. */
	uint64_t bursts;
};

/** Read the per-stage cycle counters (control thread; workers keep counting). */
void sg_dp_stage_cycles(const struct sg_dp *dp, struct sg_dp_stage_stats *stats);
/** "rx", "parse", ... */
const char *sg_dp_stage_name(enum sg_dp_stage stage);

/*
 * Running the engine in-process, without polling ports: an in-process traffic generator (the
 * sgfw-bench generator mode) or a test hands bursts to a worker as if its receive call had
 * returned them. The calling thread plays the worker: never with sg_dp_worker_main running for
 * the same worker id.
 *
 *   sg_dp_worker_attach(dp, w);        register the thread with the datapath's RCU
 *   for each burst:
 *       sg_dp_worker_inject(dp, w, port_id, pkts, n);
 *       sg_dp_worker_idle(dp, w);     now and then: housekeeping, quiescent state
 *   sg_dp_worker_detach(dp, w);
 */

void sg_dp_worker_attach(struct sg_dp *dp, uint16_t worker);
/**
 * Process 'n' packets received on the port with id 'port_id' (sg_dp_port_id()) on behalf of
 * 'worker' (0..n_workers-1),
 * in bursts of at most SG_DP_MAX_BURST: the datapath owns them afterwards (sent, answered or
 * freed). Packets of a port that is not in the running config are freed.
 */
void sg_dp_worker_inject(struct sg_dp *dp, uint16_t worker, uint16_t port_id,
		struct rte_mbuf **pkts, uint16_t n);
/** End of one loop of the worker: bounded housekeeping (conntrack expiry), quiescent state. */
void sg_dp_worker_idle(struct sg_dp *dp, uint16_t worker);
void sg_dp_worker_detach(struct sg_dp *dp, uint16_t worker);

const char *sg_dp_engine_name(enum sg_dp_engine engine);
int sg_dp_engine_parse(const char *name, enum sg_dp_engine *engine);

#endif /* SG_DP_H */
