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
	struct gen_ctx ctx[SG_MAX_WORKERS];
};

/* run_gen.c */
int gen_ctx_init(struct gen_shared *sh, struct gen_ctx *g, uint16_t worker);
void gen_ctx_free(struct gen_ctx *g);
int gen_worker_main(void *arg);

#endif /* SG_BENCH_RUN_H */
