/* SPDX-License-Identifier: BSD-3-Clause */
/* The workers: each polls its queues and runs every burst through the stages, admission
 * (dp_admit.c), its engine's (dp_engine.c, dp_fw.c, classification in dp_classify.c) and
 * transmit (dp_tx.c), then fragments and flow-log events of the burst.
 *
 * A burst is processed in stages over index lists, VPP style: every stage reads the parsed
 * metadata, keeps the survivors' indices and drops the rest with a counted reason. Nothing here
 * allocates, locks (but a shared tx queue) or makes system calls. */
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "dp_private.h"
#include "dp_worker.h"

/* Housekeeping (conntrack expiry) runs every this many loop iterations. */
#define HOUSEKEEPING_INTERVAL 64
/* Empty polls in a row before an idle worker first sleeps: a short gap between bursts is
 * spun through, as without sleeping. */
#define REST_AFTER_EMPTY_POLLS 1024

struct dp_worker *
dp_worker_create(struct sg_dp *dp, uint16_t id)
{
	struct dp_worker *w = rte_zmalloc("sg_dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);

	if (w == NULL)
		return NULL;
	w->frags = dp_frag_table_create();
	if (w->frags == NULL) {
		rte_free(w);
		return NULL;
	}
	w->dp = dp;
	w->id = id;
	w->engine = &dp_engines[dp->params.engine];
	w->timed = dp->params.stage_cycles;
	w->tsc_per_ms = rte_get_tsc_hz() / 1000;
	if (w->tsc_per_ms == 0)
		w->tsc_per_ms = 1;
	return w;
}

void
dp_worker_free(struct dp_worker *w)
{
	if (w == NULL)
		return;
	dp_frag_table_free(w->frags);
	free(w->fl_port_lost);
	rte_free(w);
}

void
dp_worker_process(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n)
{
	uint64_t t = dp_lap_start(w);
	uint16_t n_fwd, n_kept;

	if (unlikely(w->timed)) {
		w->timed_packets += n;
		w->timed_bursts++;
	}
	if (w->engine->burst != NULL) {
		w->engine->burst(w, gen, in, n);
		dp_lap(w, SG_DP_STAGE_FORWARD, t);
		return;
	}
	w->fl_in = in;
	/* Fragment entries name vports, which belong to one generation. */
	if (unlikely(w->frags->epoch != gen->epoch))
		dp_frag_flush(w, gen);
	n_kept = dp_admit_burst(w, gen, in, n);
	dp_lap(w, SG_DP_STAGE_PARSE, t);
	n_fwd = w->engine->stage(w, gen, in, n_kept);
	t = dp_lap_start(w);
	dp_forward(w, gen, n_fwd);
	if (unlikely(w->n_first != 0 || w->n_lf != 0))
		dp_frag_finish(w, gen, n_kept);
	if (w->n_fl != 0)
		dp_fl_flush(w, gen);
	if (w->n_replies != 0)
		dp_send_replies(w, gen, in);
	if (w->n_free != 0) {
		rte_pktmbuf_free_bulk(w->to_free, w->n_free);
		w->n_free = 0;
	}
	dp_lap(w, SG_DP_STAGE_FORWARD, t);
}

/* The end of one loop: bounded background work, then a quiescent state for RCU. */
static inline void
worker_idle(struct dp_worker *w, const struct dp_gen *gen)
{
	if (unlikely(++w->loops % HOUSEKEEPING_INTERVAL == 0))
		dp_housekeeping(w, gen);
	rte_rcu_qsbr_quiescent(w->dp->qsv, w->id);
}

/*
 * An idle worker's sleep (dataplane.sleep_max_us), like OVS's pmd-sleep-max: after
 * REST_AFTER_EMPTY_POLLS polls that received nothing, sleep, doubling from 1 us up to the
 * maximum, until a poll receives packets. Packets that arrive meanwhile wait in the rx queues
 * (up to the sleep's length plus the kernel's wake-up). The worker is offline for RCU while it
 * sleeps, so a policy swap never waits for it, and it does its housekeeping before every sleep
 * so that expiry keeps pace with the clock when loops are few. Returns the time it woke.
 */
static uint64_t
worker_rest(struct dp_worker *w, const struct dp_gen *gen, uint32_t got, uint64_t now)
{
	struct timespec ts;
	uint64_t woke;

	if (got != 0) {
		w->empty_polls = 0;
		w->rest_us = 0;
		return now;
	}
	if (++w->empty_polls < REST_AFTER_EMPTY_POLLS)
		return now;
	w->rest_us = SG_MIN(w->rest_us == 0 ? 1 : w->rest_us * 2, gen->sleep_max_us);
	dp_housekeeping(w, gen);
	ts.tv_sec = 0;
	ts.tv_nsec = (long)w->rest_us * 1000;
	rte_rcu_qsbr_thread_offline(w->dp->qsv, w->id);
	nanosleep(&ts, NULL);
	rte_rcu_qsbr_thread_online(w->dp->qsv, w->id);
	woke = rte_get_tsc_cycles();
	w->sleeps++;
	w->sleep_cycles += woke - now;
	return woke;
}

int
sg_dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct sg_dp *dp = w->dp;
	uint16_t burst = (uint16_t)SG_MIN(SG_MAX(dp->params.burst, 1), SG_DP_MAX_BURST);

	uint64_t start = rte_get_tsc_cycles(), end;

	sg_dp_worker_attach(dp, w->id);
	/* A sleep of a few microseconds, not the default 50 us of timer slack. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	while (!atomic_load_explicit(&dp->quit, memory_order_relaxed)) {
		/* One generation per loop: a policy swap is seen whole, between bursts. */
		const struct dp_gen *gen = atomic_load_explicit(&dp->gen, memory_order_acquire);
		uint32_t got = 0;

		w->now_ms = start / w->tsc_per_ms;
		for (uint16_t q = 0; q < gen->n_rxq[w->id]; q++) {
			const struct dp_rxq *rxq = &gen->rxq[w->id][q];
			uint64_t t = dp_lap_start(w);
			uint16_t n = sg_port_rx(&gen->vports[rxq->vport].port->dev, rxq->queue,
					w->pkts, burst);

			dp_lap(w, SG_DP_STAGE_RX, t);
			got += n;
			if (n != 0)
				dp_worker_process(w, gen, rxq->vport, n);
		}
		worker_idle(w, gen);
		/* The loop's end is the next one's start: one TSC read per loop, as before. */
		end = rte_get_tsc_cycles();
		dp_poll_count(w, got, end - start);
		if (unlikely(gen->sleep_max_us != 0))
			end = worker_rest(w, gen, got, end);
		start = end;
	}
	sg_dp_worker_detach(dp, w->id);
	return 0;
}

void
sg_dp_worker_attach(struct sg_dp *dp, uint16_t worker)
{
	rte_rcu_qsbr_thread_register(dp->qsv, worker);
	rte_rcu_qsbr_thread_online(dp->qsv, worker);
}

void
sg_dp_worker_detach(struct sg_dp *dp, uint16_t worker)
{
	rte_rcu_qsbr_thread_offline(dp->qsv, worker);
	rte_rcu_qsbr_thread_unregister(dp->qsv, worker);
}

void
sg_dp_worker_inject(struct sg_dp *dp, uint16_t worker, uint16_t port_id, struct rte_mbuf **pkts,
		uint16_t n)
{
	struct dp_worker *w = dp->workers[worker];
	const struct dp_gen *gen = atomic_load_explicit(&dp->gen, memory_order_acquire);
	uint16_t in = DP_NO_VPORT;

	for (uint16_t v = 0; v < gen->n_vports && in == DP_NO_VPORT; v++)
		if (gen->vports[v].port->id == port_id)
			in = v;

	if (unlikely(in == DP_NO_VPORT)) {
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	w->now_ms = rte_get_tsc_cycles() / w->tsc_per_ms;
	/* Longer bursts than the engine's arrays are taken in pieces. */
	while (n != 0) {
		uint16_t m = (uint16_t)SG_MIN(n, SG_DP_MAX_BURST);

		memcpy(w->pkts, pkts, m * sizeof(*pkts));
		dp_worker_process(w, gen, in, m);
		pkts += m;
		n -= m;
	}
}

void
sg_dp_worker_idle(struct sg_dp *dp, uint16_t worker)
{
	struct dp_worker *w = dp->workers[worker];

	worker_idle(w, atomic_load_explicit(&dp->gen, memory_order_acquire));
}
