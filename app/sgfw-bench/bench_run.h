/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfw-bench: state of a run (generator workers, phases, results) shared by the modes and the
 * report. */
#ifndef SG_BENCH_RUN_H
#define SG_BENCH_RUN_H

#include <stdatomic.h>

#include <rte_common.h>
#include <rte_mempool.h>

#include "bench.h"
#include "sg_build_config.h"
#include "sg_ct.h"
#include "sg_dp.h"

/* Burst times in cycles: 32 buckets per power of two (about 2 % wide). */
#define GEN_HIST_SUB_BITS 5
#define GEN_HIST_BUCKETS (64 << GEN_HIST_SUB_BITS)
#define GEN_LIFECYCLE_STEPS 6

enum gen_phase_id {
	GEN_PHASE_SETUP = 0,
	GEN_PHASE_ESTABLISHED,
	GEN_PHASE_CPS,
	GEN_PHASE_COUNT,
};

/* What one worker measured in one phase: the engine's time only. */
struct gen_phase {
	uint64_t cycles;
	uint64_t packets;
	uint64_t bursts;
	uint64_t connections;
	uint64_t cpu_ns;                 /* CPU time the thread got (the rest went to others) */
	uint64_t wall_ns;
	uint64_t hist[GEN_HIST_BUCKETS]; /* burst processing time */
};

struct gen_shared;

/* What the generator built (--overlay: the datapath's counters must match it exactly). */
struct gen_expect {
	uint64_t frames;     /* injected or enqueued */
	uint64_t denied;     /* of them, of denied flows: dropped by the policy */
	uint64_t remote_in;  /* of them, wrapped by hv2: decapsulated on the uplink */
	uint64_t remote_out; /* of them, the VMs' to remote ports: encapsulated */
};

/*
 * --overlay: frames sent out of the uplink checked with bench_vxlan_check(): every burst until
 * BENCH_CHECK_FIRST VXLAN frames have passed, then one burst in BENCH_CHECK_EVERY (the check
 * runs where the frames are sent: in the engine's timed transmit in gen mode, a callback of
 * the null port's queue; in rate mode, where the generator reads the transmit ring).
 */
#define BENCH_CHECK_FIRST 64
#define BENCH_CHECK_EVERY 1024

struct __rte_cache_aligned bench_check {
	const struct bench_world *world;
	uint64_t bursts;
	uint64_t checked; /* VXLAN frames found right */
	uint64_t bad;     /* VXLAN frames found wrong */
	char why[96];     /* what was wrong with the first */
};

void bench_check_burst(struct bench_check *c, struct rte_mbuf **pkts, uint16_t n);

struct __rte_cache_aligned gen_ctx {
	struct gen_shared *sh;
	uint16_t worker;
	uint16_t burst;
	struct bench_world world;
	uint32_t *by_vm[BENCH_MAX_VMS];   /* flow indexes per VM */
	uint32_t n_by_vm[BENCH_MAX_VMS];
	uint32_t cursor[BENCH_MAX_VMS];
	uint32_t stride[BENCH_MAX_VMS];
	uint32_t fresh_begin, fresh_end, next_fresh; /* client numbers for new connections */
	uint32_t remote_begin, remote_end, next_remote; /* --overlay: the same, remote clients */
	struct gen_expect expect;
	uint64_t idle_count;
	struct gen_phase phase[GEN_PHASE_COUNT];
};

struct gen_shared {
	const struct bench_opts *opts;
	struct sg_dp *dp;
	struct sg_ct *ct;
	struct sg_ct *collide_ct;   /* --collide: a table with the attacker's secret, at set-up */
	struct rte_mempool *pool;
	uint16_t uplink_port;
	uint16_t vm_port[BENCH_MAX_VMS];
	uint16_t n_workers;
	bool progress;
	atomic_bool quit;
	atomic_uint next_worker;
	atomic_uint barrier_count;
	atomic_uint barrier_gen;
	uint64_t conns_after_established;
	struct sg_dp_stage_stats stages[GEN_PHASE_COUNT];
	/* Rate mode: where the generator's bursts go instead of the engine (NULL: injected). */
	void (*emit)(struct gen_shared *sh, uint16_t port_id, struct rte_mbuf **pkts, uint16_t n);
	void *emit_arg;
	uint16_t emit_denied; /* of the burst being emitted, packets of denied flows */
	struct bench_check check[SG_MAX_WORKERS]; /* --overlay, gen mode: per uplink tx queue */
	struct gen_ctx ctx[SG_MAX_WORKERS];
};

/* One trial of the rate mode: packets offered at a rate for some seconds. */
struct rate_trial {
	double target_pps;     /* 0: as fast as the generator goes */
	double loss_tolerance; /* share of the expected packets a pass may lose (default 0) */
	unsigned int attempts; /* runs at this rate: one more each time the generator fell behind */
	double seconds;	       /* sending */
	double cpu_seconds;    /* of it, the generator on its CPU (the rest: preempted) */
	double offered_pps;    /* offered / seconds */
	uint64_t offered;      /* packets written or refused by the receive rings */
	uint64_t expected;     /* of them, those the engine forwards (io: all) */
	uint64_t denied;       /* of them, those of denied flows the policy drops (not io) */
	uint64_t refused;      /* refused by a full receive ring: lost */
	uint64_t received;     /* out of the transmit rings */
	uint64_t lost;	       /* expected - received */
	uint64_t unexpected;   /* received beyond the expected (none, or the count is wrong) */
	uint64_t late;	       /* not offered: the generator fell behind its schedule */
	uint64_t no_mbuf;      /* not offered: the mbuf pool was empty */
	uint64_t policy_drops; /* the datapath's drops by ingress and egress rules */
	uint64_t unstamped;    /* --external: received without room for a stamp (no latency) */
	double lat_us[3];      /* p50, p99, p99.9 of the received packets */
	uint64_t worker_sleeps;    /* the worker's idle sleeps (--sleep-max-us) */
	double worker_sleep_share; /* of the trial's time, the worker slept this share */
};

#define RATE_MAX_PORTS	    (BENCH_MAX_VMS + 1)
#define RATE_MAX_TRIALS	    64
#define RATE_TX_RING_FACTOR 4
#define RATE_ATTEMPTS	    3
#define RATE_MIN_PPS	    1000 /* the search gives up below this */
#define RATE_EXTERNAL_WAIT_S 120 /* --external: the device under test connects within this */
#define RATE_EXTERNAL_MAX_QUEUES 4

struct rte_ring;

/* The rate mode's generator: the ring ports, the steady frames, the trial being counted. */
struct rate_gen {
	struct gen_shared *sh;
	struct gen_ctx *g;
	unsigned int n_ports;
	char names[RATE_MAX_PORTS][8];
	struct rte_ring *rx[RATE_MAX_PORTS]; /* the generator writes, the worker receives */
	struct rte_ring *tx[RATE_MAX_PORTS]; /* the worker sends, the generator reads */
	uint16_t port_id[RATE_MAX_PORTS];    /* sg_dp_port_id of each */
	int stamp_off;			     /* mbuf dynfield: TSC when enqueued */
	bool io;
	bool failed;
	bool external;	  /* memif ports to another process: no worker here */
	uint16_t n_queues; /* external: receive queues polled per port */
	bool verify_l4;	  /* check the L4 checksum of what comes back (after stamping) */
	uint64_t bad_l4;  /* received with a wrong L4 checksum while verify_l4 */
	uint64_t sent_expected; /* external: packets expected back since the start */
	uint64_t rx_total;	/* external: packets received since the start */
	uint32_t n_flows;
	uint8_t **client, **server; /* bench_steady_frames of each flow */
	uint16_t *client_len, *server_len;
	uint64_t enqueued; /* into receive rings since the start */
	uint32_t vm;
	bool server_turn;
	uint32_t picked[SG_DP_MAX_BURST];
	uint16_t n_picked;
	struct rate_trial *cur;		 /* NULL: not counting */
	const atomic_bool *stop;	 /* set by SIGINT/SIGTERM: end the trial now */
	struct bench_check check;	 /* --overlay: what the uplink's transmit ring carries */
	uint64_t hist[GEN_HIST_BUCKETS]; /* latency of the trial in TSC cycles */
};

/* run_rate.c */
/* Ring ethdevs net_ring_NAME for each of 'names' (at most 7 characters), and the stamp field. */
int rate_ports_create(struct rate_gen *r, const char *const *names, unsigned int n,
		unsigned int ring_size);
/* Memif servers net_memif_NAME on DIR/NAME.sock for another process to forward between; waits
 * until every one is connected and DIR/ready exists (or 'wait_s' passed). */
int rate_ports_external(struct rate_gen *r, const char *const *names, unsigned int n,
		unsigned int ring_size, uint16_t queues, struct rte_mempool *pool, const char *dir,
		double wait_s);
void rate_ports_free(struct rate_gen *r);
/* With the worker running: open the flows of sh->ctx[0] in order and build the steady frames. */
int rate_prepare(struct rate_gen *r, struct gen_shared *sh);
/* Offer 'pps' (0: as fast as possible) for 'seconds', wait for the last packet, count. */
int rate_trial(struct rate_gen *r, double pps, double seconds, double loss_tolerance,
		struct rate_trial *t);
/* The rate asked for was offered: the generator kept its schedule (within 1 %). */
bool rate_trial_offered(const struct rate_trial *t);
/* Offered, and no more lost than tolerated (RFC 2544: none), nothing unexpected. */
bool rate_trial_passed(const struct rate_trial *t);

/* --external --cps: connection lifecycles through the other process. */
struct rate_cps {
	double seconds;	    /* the window in which connections were opened */
	double per_second;  /* completed / seconds */
	uint64_t opened;    /* SYNs sent in the window */
	uint64_t completed; /* the last ACK came back, in the window */
	uint64_t failed;    /* given up: a packet unanswered for 100 ms (lost, dropped, refused) */
	uint64_t unfinished; /* still under way 200 ms after the window */
	uint64_t sent, received, refused, stray, no_mbuf; /* packets */
};

/* run_cps.c */
/* With the flows open (rate_prepare): whole TCP lifecycles through the other process for
 * 'seconds', as many as it completes. */
int rate_cps(struct rate_gen *r, double seconds, struct rate_cps *res);

/* run_gen.c */
int gen_ctx_init(struct gen_shared *sh, struct gen_ctx *g, uint16_t worker);
void gen_ctx_free(struct gen_ctx *g);
int gen_worker_main(void *arg);
/* Open every flow of 'g' (handshakes, first exchanges) through 'g->sh->emit' or the engine. */
void gen_phase_setup(struct gen_ctx *g, struct gen_phase *ph);
/* Count 'cycles' into a GEN_HIST_BUCKETS log-linear histogram. */
void gen_hist_add(uint64_t *hist, uint64_t cycles);
/* The value (the middle of its bucket) below which a share 'q' of the 'total' samples fall. */
double gen_hist_percentile(const uint64_t *hist, uint64_t total, double q);

#endif /* SG_BENCH_RUN_H */
