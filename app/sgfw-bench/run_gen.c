/* SPDX-License-Identifier: BSD-3-Clause */
/* The in-process generator mode: each worker core builds valid packets for its own flows and
 * hands them to sgfw's engine (sg_dp_worker_inject), which forwards them to net_null sinks.
 * Only the engine's time is measured (TSC around each injected burst); building packets is not.
 *
 * Phases, separated by a barrier so the per-stage counters of all workers belong to one phase:
 *   setup        every flow opens: TCP three-way handshake, first UDP request and reply, first
 *                echo and reply (denied flows send their first packet and are dropped);
 *   established  data both ways over all flows in a scattered order, 'new_share' of the packets
 *                being whole new connections (handshake, teardown), 'deny_share' of the flows
 *                denied (each of their packets is classified and dropped);
 *   cps          nothing but connection lifecycles on fresh tuples: SYN, SYN-ACK, ACK, FIN,
 *                FIN, ACK, in waves of one burst of connections per step.
 * With --overlay every other flow and every other connection of a wave has a remote client
 * (gen.c): the same bursts, on the same ports, carry plain and wrapped frames. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_tcp.h>

#include "bench_run.h"

/* Spin until every worker has arrived: phase boundaries. */
static void
barrier(struct gen_shared *sh)
{
	unsigned int gen = atomic_load(&sh->barrier_gen);

	if (atomic_fetch_add(&sh->barrier_count, 1) + 1 == sh->n_workers) {
		atomic_store(&sh->barrier_count, 0);
		atomic_fetch_add(&sh->barrier_gen, 1);
		return;
	}
	while (atomic_load(&sh->barrier_gen) == gen)
		rte_pause();
}

/* Times in log-linear buckets: percentiles without storing every sample. */
void
gen_hist_add(uint64_t *hist, uint64_t cycles)
{
	const unsigned int sub = GEN_HIST_SUB_BITS;
	unsigned int b = 0;

	if (cycles > 0) {
		unsigned int lg = 63u - (unsigned int)__builtin_clzll(cycles);
		unsigned int frac = lg >= sub ? (unsigned int)((cycles >> (lg - sub)) & ((1u << sub) - 1)) :
					      0;

		b = SG_MIN((lg << sub) + frac, (unsigned int)GEN_HIST_BUCKETS - 1);
	}
	hist[b]++;
}

double
gen_hist_percentile(const uint64_t *hist, uint64_t total, double q)
{
	uint64_t want = (uint64_t)((double)total * q), seen = 0;

	for (unsigned int b = 0; b < GEN_HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen > want && hist[b] != 0) {
			const unsigned int sub = GEN_HIST_SUB_BITS;
			unsigned int lg = b >> sub, frac = b & ((1u << sub) - 1);

			/* The middle of the bucket. */
			if (lg < sub)
				return (double)(UINT64_C(1) << lg);
			return ((double)((1u << sub) + frac) + 0.5) *
			       (double)(UINT64_C(1) << (lg - sub));
		}
	}
	return 0;
}

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Run one phase, recording the thread's CPU time against the wall time. */
static void
timed_phase(struct gen_ctx *g, enum gen_phase_id p, void (*fn)(struct gen_ctx *, struct gen_phase *))
{
	struct gen_phase *ph = &g->phase[p];
	uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), wall0 = clock_ns(CLOCK_MONOTONIC);

	fn(g, ph);
	ph->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	ph->wall_ns = clock_ns(CLOCK_MONOTONIC) - wall0;
}

static void
inject(struct gen_ctx *g, struct gen_phase *ph, uint16_t port_id, struct rte_mbuf **pkts,
		uint16_t n)
{
	uint64_t t0 = rte_rdtsc(), dt;

	sg_dp_worker_inject(g->sh->dp, g->worker, port_id, pkts, n);
	dt = rte_rdtsc() - t0;
	ph->cycles += dt;
	ph->packets += n;
	ph->bursts++;
	gen_hist_add(ph->hist, dt);
	if (++g->idle_count % 4 == 0)
		sg_dp_worker_idle(g->sh->dp, g->worker);
}

/* Count a frame of 'f' into what the datapath must make of them (struct gen_expect). */
static inline void
count(struct gen_ctx *g, const struct bench_flow *f, enum bench_side side)
{
	g->expect.frames++;
	g->expect.denied += f->denied;
	if (f->remote && side == BENCH_FROM_CLIENT)
		g->expect.remote_in++;
	else if (f->remote)
		g->expect.remote_out++;
}

static void
frame(struct gen_ctx *g, const struct bench_flow *f, enum bench_side side, uint8_t tcp_flags,
		struct rte_mbuf *m)
{
	bench_frame_mbuf(&g->world, f, side, tcp_flags, m);
	count(g, f, side);
}

static void
data_frame(struct gen_ctx *g, struct bench_flow *f, enum bench_side side, struct rte_mbuf *m)
{
	bench_data_mbuf(&g->world, f, side, m);
	count(g, f, side);
}

void
bench_check_burst(struct bench_check *c, struct rte_mbuf **pkts, uint16_t n)
{
	if (c->bursts++ % BENCH_CHECK_EVERY != 0 && c->checked >= BENCH_CHECK_FIRST)
		return;
	for (uint16_t i = 0; i < n; i++) {
		char why[sizeof(c->why)];
		int r = bench_vxlan_check(c->world, rte_pktmbuf_mtod(pkts[i], const uint8_t *),
				rte_pktmbuf_data_len(pkts[i]), why, sizeof(why));

		if (r > 0)
			c->checked++;
		else if (r < 0 && c->bad++ == 0)
			memcpy(c->why, why, sizeof(why));
	}
}

static int
alloc_burst(struct gen_ctx *g, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_pktmbuf_alloc_bulk(g->sh->pool, pkts, n);
}

/* Hand a burst to the engine, or to the mode's own sink (rate mode: a port's receive ring). */
static void
emit(struct gen_ctx *g, struct gen_phase *ph, uint16_t port_id, struct rte_mbuf **pkts, uint16_t n)
{
	if (g->sh->emit != NULL)
		g->sh->emit(g->sh, port_id, pkts, n);
	else
		inject(g, ph, port_id, pkts, n);
}

/* One step of a burst of connections, all from one side. */
static void
lifecycle_step(struct gen_ctx *g, struct gen_phase *ph, struct bench_flow *conns, uint16_t n,
		unsigned int step, uint8_t vm)
{
	static const struct {
		enum bench_side side;
		uint8_t flags;
	} steps[GEN_LIFECYCLE_STEPS] = {
		{BENCH_FROM_CLIENT, RTE_TCP_SYN_FLAG},
		{BENCH_FROM_SERVER, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG},
		{BENCH_FROM_CLIENT, RTE_TCP_ACK_FLAG},
		{BENCH_FROM_CLIENT, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG},
		{BENCH_FROM_SERVER, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG},
		{BENCH_FROM_CLIENT, RTE_TCP_ACK_FLAG},
	};
	struct rte_mbuf *pkts[SG_DP_MAX_BURST];

	if (alloc_burst(g, pkts, n) != 0)
		return;
	for (uint16_t i = 0; i < n; i++) {
		struct bench_flow *f = &conns[i];

		frame(g, f, steps[step].side, steps[step].flags, pkts[i]);
		bench_flow_sent(f, steps[step].side, steps[step].flags);
	}
	emit(g, ph, steps[step].side == BENCH_FROM_CLIENT ? g->sh->uplink_port : g->sh->vm_port[vm],
			pkts, n);
}

/* A wave: 'n' fresh TCP connections of VM 'vm' opened and closed, step by step. */
static void
lifecycle_wave(struct gen_ctx *g, struct gen_phase *ph, uint16_t n, uint8_t vm)
{
	struct bench_flow conns[SG_DP_MAX_BURST];

	for (uint16_t i = 0; i < n; i++) {
		bool remote = g->world.overlay && i % 2 == 1;
		uint32_t c;

		if (remote) {
			c = g->next_remote++;
			if (g->next_remote >= g->remote_end)
				g->next_remote = g->remote_begin;
		} else {
			c = g->next_fresh++;
			if (g->next_fresh >= g->fresh_end)
				g->next_fresh = g->fresh_begin; /* reuse tuples (TIME_WAIT reuse) */
		}
		conns[i] = (struct bench_flow){
			.vm = vm,
			.proto = 6,
			.cseq = (uint32_t)bench_rand(&g->world.rng),
			.sseq = (uint32_t)bench_rand(&g->world.rng),
		};
		bench_flow_client(&conns[i], c, remote);
	}
	for (unsigned int s = 0; s < GEN_LIFECYCLE_STEPS; s++)
		lifecycle_step(g, ph, conns, n, s, vm);
	ph->connections += n;
}

/* Open every flow of this worker (a handshake or first exchange), a burst at a time per VM. */
void
gen_phase_setup(struct gen_ctx *g, struct gen_phase *ph)
{
	for (uint32_t vm = 0; vm < g->world.n_vms; vm++) {
		const uint32_t *list = g->by_vm[vm];
		uint32_t n_list = g->n_by_vm[vm];

		for (uint32_t at = 0; at < n_list; at += g->burst) {
			uint16_t n = (uint16_t)SG_MIN((uint32_t)g->burst, n_list - at);
			struct rte_mbuf *pkts[SG_DP_MAX_BURST];
			uint16_t m;

			/* Client's first packet: SYN, UDP request, echo request. */
			if (alloc_burst(g, pkts, n) != 0)
				continue;
			g->sh->emit_denied = 0;
			for (uint16_t i = 0; i < n; i++) {
				struct bench_flow *f = &g->world.flows[list[at + i]];

				g->sh->emit_denied += f->denied;
				if (f->proto == IPPROTO_TCP) {
					frame(g, f, BENCH_FROM_CLIENT, RTE_TCP_SYN_FLAG, pkts[i]);
					bench_flow_sent(f, BENCH_FROM_CLIENT, RTE_TCP_SYN_FLAG);
				} else {
					data_frame(g, f, BENCH_FROM_CLIENT, pkts[i]);
				}
			}
			emit(g, ph, g->sh->uplink_port, pkts, n);
			g->sh->emit_denied = 0;
			/* Server's answer for the accepted ones: SYN-ACK, reply. */
			if (alloc_burst(g, pkts, n) != 0)
				continue;
			m = 0;
			for (uint16_t i = 0; i < n; i++) {
				struct bench_flow *f = &g->world.flows[list[at + i]];

				if (f->denied)
					continue;
				if (f->proto == IPPROTO_TCP) {
					uint8_t syn_ack = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;

					frame(g, f, BENCH_FROM_SERVER, syn_ack, pkts[m]);
					bench_flow_sent(f, BENCH_FROM_SERVER, syn_ack);
				} else {
					data_frame(g, f, BENCH_FROM_SERVER, pkts[m]);
				}
				m++;
			}
			if (m < n)
				rte_pktmbuf_free_bulk(&pkts[m], n - m);
			if (m > 0)
				emit(g, ph, g->sh->vm_port[vm], pkts, m);
			/* The client's ACK completes a TCP handshake. */
			if (alloc_burst(g, pkts, n) != 0)
				continue;
			m = 0;
			for (uint16_t i = 0; i < n; i++) {
				struct bench_flow *f = &g->world.flows[list[at + i]];

				if (f->denied || f->proto != IPPROTO_TCP)
					continue;
				frame(g, f, BENCH_FROM_CLIENT, RTE_TCP_ACK_FLAG, pkts[m++]);
			}
			if (m < n)
				rte_pktmbuf_free_bulk(&pkts[m], n - m);
			if (m > 0)
				emit(g, ph, g->sh->uplink_port, pkts, m);
			ph->connections += n;
		}
	}
}

static bool
phase_over(struct gen_ctx *g, uint64_t end, uint64_t *next_report, const char *name,
		const struct gen_phase *ph)
{
	uint64_t now = rte_rdtsc();

	if (g->worker == 0 && g->sh->progress && now >= *next_report) {
		double secs = (double)ph->cycles / (double)rte_get_tsc_hz();

		fprintf(stderr, "\r  %-11s %5.1f s left  %8.2f Mpps in the engine  %10" PRIu64
				" packets   ",
				name, now < end ? (double)(end - now) / (double)rte_get_tsc_hz() : 0.0,
				secs > 0 ? (double)ph->packets / secs / 1e6 : 0.0, ph->packets);
		*next_report = now + rte_get_tsc_hz();
	}
	return now >= end || atomic_load_explicit(&g->sh->quit, memory_order_relaxed);
}

/* Data both ways over the established flows, with new connections and denied flows mixed in. */
static void
phase_established(struct gen_ctx *g, struct gen_phase *ph)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t end = rte_rdtsc() + (uint64_t)(g->sh->opts->duration * (double)hz);
	uint64_t next_report = rte_rdtsc() + hz;
	double credit = 0, new_share = g->sh->opts->new_share;
	uint32_t vm = 0;

	if (g->world.n_flows == 0)
		return;
	do {
		for (unsigned int rep = 0; rep < 16; rep++) {
			const uint32_t *list;
			uint32_t n_list;
			struct rte_mbuf *pkts[SG_DP_MAX_BURST];
			uint32_t picked[SG_DP_MAX_BURST];
			uint16_t n, m = 0;

			vm = (vm + 1) % g->world.n_vms;
			list = g->by_vm[vm];
			n_list = g->n_by_vm[vm];
			if (n_list == 0)
				continue;
			n = (uint16_t)SG_MIN((uint32_t)g->burst, n_list);
			if (alloc_burst(g, pkts, n) != 0)
				continue;
			/* A scattered walk: a stride coprime with the list visits every flow. */
			for (uint16_t i = 0; i < n; i++) {
				uint32_t k = list[g->cursor[vm]];

				g->cursor[vm] = (uint32_t)(((uint64_t)g->cursor[vm] + g->stride[vm]) % n_list);
				picked[i] = k;
				data_frame(g, &g->world.flows[k], BENCH_FROM_CLIENT, pkts[i]);
			}
			inject(g, ph, g->sh->uplink_port, pkts, n);
			if (alloc_burst(g, pkts, n) != 0)
				continue;
			for (uint16_t i = 0; i < n; i++) {
				struct bench_flow *f = &g->world.flows[picked[i]];

				if (!f->denied)
					data_frame(g, f, BENCH_FROM_SERVER, pkts[m++]);
			}
			if (m < n)
				rte_pktmbuf_free_bulk(&pkts[m], n - m);
			if (m > 0)
				inject(g, ph, g->sh->vm_port[vm], pkts, m);
			if (new_share > 0) {
				credit += (double)(n + m) * new_share / (1.0 - new_share);
				while (credit >= (double)(GEN_LIFECYCLE_STEPS * g->burst)) {
					lifecycle_wave(g, ph, g->burst, (uint8_t)vm);
					credit -= (double)(GEN_LIFECYCLE_STEPS * g->burst);
				}
			}
		}
	} while (!phase_over(g, end, &next_report, "established", ph));
}

static void
phase_cps(struct gen_ctx *g, struct gen_phase *ph)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t end = rte_rdtsc() + (uint64_t)(g->sh->opts->duration / 2 * (double)hz);
	uint64_t next_report = rte_rdtsc() + hz;
	uint32_t vm = 0;

	do {
		for (unsigned int rep = 0; rep < 8; rep++) {
			vm = (vm + 1) % g->world.n_vms;
			lifecycle_wave(g, ph, g->burst, (uint8_t)vm);
		}
	} while (!phase_over(g, end, &next_report, "cps", ph));
}

static void
stage_snapshot(struct gen_ctx *g, struct sg_dp_stage_stats *s)
{
	if (g->worker == 0)
		sg_dp_stage_cycles(g->sh->dp, s);
}

int
gen_worker_main(void *arg)
{
	struct gen_shared *sh = arg;
	unsigned int idx = atomic_fetch_add(&sh->next_worker, 1);
	struct gen_ctx *g = &sh->ctx[idx];
	struct sg_dp_stage_stats before;

	g->worker = (uint16_t)idx;
	sg_dp_worker_attach(sh->dp, g->worker);
	barrier(sh);
	stage_snapshot(g, &before);
	barrier(sh);
	timed_phase(g, GEN_PHASE_SETUP, gen_phase_setup);
	barrier(sh);
	stage_snapshot(g, &sh->stages[GEN_PHASE_SETUP]);
	barrier(sh);
	timed_phase(g, GEN_PHASE_ESTABLISHED, phase_established);
	barrier(sh);
	if (g->worker == 0) {
		struct sg_ct_stats st;

		stage_snapshot(g, &sh->stages[GEN_PHASE_ESTABLISHED]);
		if (sh->ct != NULL) {
			sg_ct_stats_get(sh->ct, &st);
			sh->conns_after_established = st.entries;
		}
	}
	barrier(sh);
	if (sh->opts->cps && sh->opts->engine == SG_DP_ENGINE_FW)
		timed_phase(g, GEN_PHASE_CPS, phase_cps);
	barrier(sh);
	stage_snapshot(g, &sh->stages[GEN_PHASE_CPS]);
	if (g->worker == 0) {
		/* Per-phase stage cycles are differences of the running totals. */
		for (int p = GEN_PHASE_COUNT - 1; p >= 0; p--) {
			const struct sg_dp_stage_stats *prev = p == 0 ? &before : &sh->stages[p - 1];

			for (int s = 0; s < SG_DP_STAGE_COUNT; s++)
				sh->stages[p].cycles[s] -= prev->cycles[s];
			sh->stages[p].packets -= prev->packets;
			sh->stages[p].bursts -= prev->bursts;
		}
		if (sh->progress)
			fprintf(stderr, "\n");
	}
	sg_dp_worker_idle(sh->dp, g->worker);
	sg_dp_worker_detach(sh->dp, g->worker);
	return 0;
}

static uint32_t
gcd32(uint32_t a, uint32_t b)
{
	while (b != 0) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int
gen_ctx_init(struct gen_shared *sh, struct gen_ctx *g, uint16_t worker)
{
	const struct bench_opts *o = sh->opts;
	uint32_t per = o->flows / o->workers + (worker < o->flows % o->workers);
	uint32_t first = worker * (o->flows / o->workers + 1);

	g->sh = sh;
	g->burst = o->burst;
	if (bench_world_init(&g->world, o, per, first) < 0)
		return -1;
	if (sh->collide_ct != NULL && bench_world_collide(&g->world, sh->collide_ct, first) < 0)
		return -1;
	for (uint32_t vm = 0; vm < o->vms; vm++) {
		uint32_t n = 0;

		g->by_vm[vm] = malloc(sizeof(uint32_t) * (per / o->vms + 2));
		if (g->by_vm[vm] == NULL)
			return -1;
		for (uint32_t i = 0; i < per; i++)
			if (g->world.flows[i].vm == vm)
				g->by_vm[vm][n++] = i;
		g->n_by_vm[vm] = n;
		/* About the golden ratio of the list, made coprime with it. */
		g->stride[vm] = n > 1 ? (uint32_t)((double)n * 0.6180339887) | 1 : 1;
		while (n > 1 && gcd32(g->stride[vm], n) != 1)
			g->stride[vm] += 2;
	}
	/* Fresh tuples for new connections: clients past every worker's flows, a range each. */
	g->fresh_begin = o->flows + 16 + worker * (UINT32_C(1) << 26);
	g->fresh_end = g->fresh_begin + (UINT32_C(1) << 26);
	g->next_fresh = g->fresh_begin;
	if (o->overlay) {
		/* The remote tuples after the established flows', a range each (main.c checked
		 * that they leave room). */
		uint32_t span = (BENCH_REMOTE_TUPLES - o->flows - 16) / o->workers;

		g->remote_begin = o->flows + 16 + worker * span;
		g->remote_end = g->remote_begin + span;
		g->next_remote = g->remote_begin;
	}
	return 0;
}

void
gen_ctx_free(struct gen_ctx *g)
{
	for (int vm = 0; vm < BENCH_MAX_VMS; vm++)
		free(g->by_vm[vm]);
	bench_world_free(&g->world);
}
