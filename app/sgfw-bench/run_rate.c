/* SPDX-License-Identifier: BSD-3-Clause */
/* The rate mode of sgfw-bench: one lcore is a paced traffic generator, another runs sgfw's
 * datapath worker (sg_dp_worker_main, as the product does) on ring ethdevs, one per port of the
 * generated config. The generator writes stamped packets into the ports' receive rings at an
 * offered rate, reads the transmit rings, and counts latency (TSC at dequeue minus the stamp)
 * and loss; an RFC 2544-style binary search finds the highest rate without loss, then latency
 * is measured at 10, 50 and 90 % of it.
 *
 * Traffic: the flows of the generator mode are opened (gen_phase_setup: handshakes, first
 * exchanges) and each client's data segment is sent once, every packet waited for until the
 * worker has processed it; trials then send each flow's steady pair (bench_steady_frames) in
 * bursts, client side then server side, in the scattered order of the generator mode. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>
#include <rte_memcpy.h>
#include <rte_ring.h>

#include "bench_run.h"

/* A trial's sender waits this long behind its schedule before it gives up catching up. */
#define RATE_MAX_LAG_US 100

static const struct rte_mbuf_dynfield stamp_desc = {
		.name = "sgfw_bench_tx_tsc",
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
};

static inline uint64_t *
stamp_of(const struct rate_gen *r, struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, r->stamp_off, uint64_t *);
}

/* --size imix: 7:4:1 of 60, 566 and 1514 bytes (64, 570, 1518 with the FCS), by flow. */
static uint32_t
imix_size(uint32_t flow)
{
	uint32_t k = flow % 12;

	return k < 7 ? 60 : k < 11 ? 566 : 1514;
}

int
rate_ports_create(struct rate_gen *r, const char *const *names, unsigned int n,
		unsigned int ring_size)
{
	for (unsigned int i = 0; i < n; i++) {
		char rx_name[RTE_RING_NAMESIZE], tx_name[RTE_RING_NAMESIZE];
		int port;

		snprintf(rx_name, sizeof(rx_name), "rate_rx_%s", names[i]);
		snprintf(tx_name, sizeof(tx_name), "rate_tx_%s", names[i]);
		/* One producer and one consumer each: the generator and the worker. */
		r->rx[i] = rte_ring_create(rx_name, ring_size, (int)rte_socket_id(),
				RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		/* The transmit side is the wire: it must never refuse what the worker sends while
		 * the generator is away (preempted), so it holds the receive ring and more. */
		r->tx[i] = rte_ring_create(tx_name, RATE_TX_RING_FACTOR * ring_size,
				(int)rte_socket_id(),
				RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (r->rx[i] == NULL || r->tx[i] == NULL) {
			fprintf(stderr, "error: ring for port %s: %s\n", names[i],
					rte_strerror(rte_errno));
			return -1;
		}
		/* The ethdev is net_ring_NAME: the config's port finds it by that name. */
		port = rte_eth_from_rings(names[i], &r->rx[i], 1, &r->tx[i], 1, rte_socket_id());
		if (port < 0) {
			fprintf(stderr, "error: ring ethdev for port %s: %s\n", names[i],
					rte_strerror(rte_errno));
			return -1;
		}
		snprintf(r->names[i], sizeof(r->names[i]), "%s", names[i]);
		r->n_ports = i + 1;
	}
	r->stamp_off = rte_mbuf_dynfield_register(&stamp_desc);
	if (r->stamp_off < 0) {
		fprintf(stderr, "error: mbuf dynfield: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

void
rate_ports_free(struct rate_gen *r)
{
	for (unsigned int i = 0; i < r->n_ports; i++) {
		char name[RTE_ETH_NAME_MAX_LEN];
		uint16_t port;

		snprintf(name, sizeof(name), "net_ring_%s", r->names[i]);
		if (rte_eth_dev_get_port_by_name(name, &port) == 0)
			rte_eth_dev_close(port);
		rte_ring_free(r->rx[i]);
		rte_ring_free(r->tx[i]);
	}
	for (uint32_t i = 0; i < r->n_flows; i++) {
		free(r->client[i]);
		free(r->server[i]);
	}
	free(r->client);
	free(r->server);
	free(r->client_len);
	free(r->server_len);
	r->n_ports = 0;
}

/* The ring of the datapath's port 'port_id' (sg_dp_port_id of one of the names). */
static unsigned int
ring_of(const struct rate_gen *r, uint16_t port_id)
{
	for (unsigned int i = 0; i < r->n_ports; i++)
		if (r->port_id[i] == port_id)
			return i;
	return 0;
}

/* Read every transmit ring once; with a trial running, count what came out and when. */
static void
drain(struct rate_gen *r)
{
	for (unsigned int i = 0; i < r->n_ports; i++) {
		struct rte_mbuf *pkts[SG_DP_MAX_BURST];
		unsigned int n = rte_ring_sc_dequeue_burst(
				r->tx[i], (void **)pkts, SG_DP_MAX_BURST, NULL);
		uint64_t now;

		if (n == 0)
			continue;
		if (r->check.world != NULL && r->port_id[i] == r->sh->uplink_port)
			bench_check_burst(&r->check, pkts, (uint16_t)n);
		now = rte_rdtsc();
		if (r->cur != NULL) {
			for (unsigned int k = 0; k < n; k++)
				gen_hist_add(r->hist, now - *stamp_of(r, pkts[k]));
			r->cur->received += n;
		}
		rte_pktmbuf_free_bulk(pkts, n);
	}
}

/* Wait until the worker has received (and so processed and sent) everything enqueued so far,
 * then empty the transmit rings. */
static int
settle(struct rate_gen *r)
{
	uint64_t deadline = rte_rdtsc() + 2 * rte_get_tsc_hz();
	struct sg_dp_worker_stats st = {0};

	do {
		drain(r);
		if (sg_dp_worker_stats(r->sh->dp, 0, &st) < 0 || rte_rdtsc() > deadline) {
			fprintf(stderr,
					"error: the worker did not take what was enqueued (%" PRIu64
					" of %" PRIu64 ")\n",
					st.rx_packets, r->enqueued);
			return -1;
		}
	} while (st.rx_packets < r->enqueued);
	for (unsigned int i = 0; i < r->n_ports; i++)
		while (rte_ring_count(r->tx[i]) != 0)
			drain(r);
	return 0;
}

/* Set-up bursts (gen_phase_setup, priming): enqueued whole, then processed before the next, so
 * a handshake's steps reach the tracker in order although they come through different rings. */
static void
emit_in_order(struct gen_shared *sh, uint16_t port_id, struct rte_mbuf **pkts, uint16_t n)
{
	struct rate_gen *r = sh->emit_arg;
	struct rte_ring *ring = r->rx[ring_of(r, port_id)];
	unsigned int done = 0;

	while (done < n) {
		done += rte_ring_sp_enqueue_burst(ring, (void **)pkts + done, n - done, NULL);
		drain(r);
	}
	r->enqueued += n;
	if (settle(r) < 0)
		r->failed = true;
}

/* Copy 'n' frames into mbufs, stamp them and write them into ring 'ring'. */
static uint16_t
send_frames(struct rate_gen *r, unsigned int ring, uint8_t *const *frames, const uint16_t *lens,
		const uint32_t *flows, uint16_t n)
{
	struct rte_mbuf *pkts[SG_DP_MAX_BURST];
	struct rate_trial *t = r->cur;
	uint64_t now;
	unsigned int sent;

	if (n == 0)
		return 0;
	if (rte_pktmbuf_alloc_bulk(r->sh->pool, pkts, n) != 0) {
		t->no_mbuf += n;
		return 0;
	}
	for (uint16_t k = 0; k < n; k++) {
		rte_memcpy(rte_pktmbuf_mtod(pkts[k], void *), frames[flows[k]], lens[flows[k]]);
		pkts[k]->data_len = lens[flows[k]];
		pkts[k]->pkt_len = lens[flows[k]];
	}
	now = rte_rdtsc();
	for (uint16_t k = 0; k < n; k++)
		*stamp_of(r, pkts[k]) = now;
	sent = rte_ring_sp_enqueue_burst(r->rx[ring], (void **)pkts, n, NULL);
	if (sent < n) {
		t->refused += n - sent;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
	r->enqueued += sent;
	t->offered += n;
	return n;
}

/* The next burst of the round: the client frames of a burst of flows, then the server frames of
 * the same flows; returns the packets offered. */
static uint16_t
send_burst(struct rate_gen *r)
{
	struct gen_ctx *g = r->g;
	struct rate_trial *t = r->cur;
	uint16_t n, m = 0, sent;

	if (!r->server_turn) {
		uint32_t vm = r->vm = (r->vm + 1) % g->world.n_vms;
		uint32_t n_list = g->n_by_vm[vm];

		if (n_list == 0)
			return 0;
		n = (uint16_t)SG_MIN((uint32_t)g->burst, n_list);
		for (uint16_t i = 0; i < n; i++) {
			uint32_t k = g->by_vm[vm][g->cursor[vm]];

			g->cursor[vm] = (uint32_t)(((uint64_t)g->cursor[vm] + g->stride[vm]) %
						   n_list);
			r->picked[i] = k;
			/* The io engine forwards what the policy would drop. */
			if (!g->world.flows[k].denied || r->io)
				m++;
		}
		r->n_picked = n;
		r->server_turn = true;
		sent = send_frames(r, ring_of(r, g->sh->uplink_port), r->client, r->client_len,
				r->picked, n);
		/* Offered whole or not at all; a packet a full ring refused is expected and lost. */
		if (sent == n) {
			t->expected += m;
			t->denied += n - m;
		}
		return n;
	}
	r->server_turn = false;
	for (uint16_t i = 0; i < r->n_picked; i++)
		if (r->server_len[r->picked[i]] != 0)
			r->picked[m++] = r->picked[i];
	sent = send_frames(r, ring_of(r, g->sh->vm_port[r->vm]), r->server, r->server_len,
			r->picked, m);
	t->expected += sent;
	return m;
}

int
rate_prepare(struct rate_gen *r, struct gen_shared *sh)
{
	const struct bench_opts *o = sh->opts;
	struct gen_ctx *g = &sh->ctx[0];
	struct gen_phase ph;
	struct rate_trial prime = {0};
	/* bench_frame writes up to the frame size plus 124 bytes into each. */
	static uint8_t cbuf[2048], sbuf[2048];

	r->sh = sh;
	r->g = g;
	r->io = o->engine == SG_DP_ENGINE_IO;
	for (unsigned int i = 0; i < r->n_ports; i++)
		r->port_id[i] = (uint16_t)sg_dp_port_id(sh->dp, r->names[i]);
	sh->emit = emit_in_order;
	sh->emit_arg = r;
	if (gen_ctx_init(sh, g, 0) < 0)
		return -1;
	if (o->overlay)
		r->check.world = &g->world;
	memset(&ph, 0, sizeof(ph));
	gen_phase_setup(g, &ph);
	if (r->failed)
		return -1;
	/* The steady frames from the flows as the handshakes left them. */
	r->n_flows = g->world.n_flows;
	r->client = calloc(r->n_flows, sizeof(*r->client));
	r->server = calloc(r->n_flows, sizeof(*r->server));
	r->client_len = calloc(r->n_flows, sizeof(*r->client_len));
	r->server_len = calloc(r->n_flows, sizeof(*r->server_len));
	if (r->client == NULL || r->server == NULL || r->client_len == NULL ||
			r->server_len == NULL)
		return -1;
	for (uint32_t i = 0; i < r->n_flows; i++) {
		if (o->imix)
			g->world.size = imix_size(i);
		bench_steady_frames(&g->world, &g->world.flows[i], cbuf, &r->client_len[i], sbuf,
				&r->server_len[i]);
		r->client[i] = malloc(r->client_len[i]);
		r->server[i] = malloc(r->server_len[i] + 1);
		if (r->client[i] == NULL || r->server[i] == NULL)
			return -1;
		memcpy(r->client[i], cbuf, r->client_len[i]);
		memcpy(r->server[i], sbuf, r->server_len[i]);
	}
	/* Each client's data segment once, in order: afterwards every frame of the pair is
	 * accepted whatever ring the worker reads first. */
	r->cur = &prime;
	for (uint32_t at = 0; at < r->n_flows; at += g->burst) {
		uint32_t flows[SG_DP_MAX_BURST];
		uint16_t n = (uint16_t)SG_MIN((uint32_t)g->burst, r->n_flows - at);

		for (uint16_t k = 0; k < n; k++)
			flows[k] = at + k;
		send_frames(r, ring_of(r, sh->uplink_port), r->client, r->client_len, flows, n);
		if (settle(r) < 0)
			return -1;
	}
	r->cur = NULL;
	return prime.refused != 0 || prime.no_mbuf != 0 ? -1 : 0;
}

/* Sum of the datapath's policy drops (ingress and egress rules) over the ports. */
static uint64_t
policy_drops(const struct rate_gen *r)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < r->n_ports; i++) {
		struct sg_dp_port_stats s;

		if (sg_dp_port_stats(r->sh->dp, r->names[i], &s) == 0)
			sum += s.drops[SG_DROP_ACL_INGRESS] + s.drops[SG_DROP_ACL_EGRESS];
	}
	return sum;
}

/* CPU time of the calling thread: the generator's time on its CPU, without preemptions. */
static double
thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
rate_trial(struct rate_gen *r, double pps, double seconds, double loss_tolerance,
		struct rate_trial *t)
{
	uint64_t hz = rte_get_tsc_hz(), start, end, now, max_lag = hz * RATE_MAX_LAG_US / 1000000;
	double per_packet = pps > 0 ? (double)hz / pps : 0, next;
	uint64_t drops0 = policy_drops(r), received;
	struct sg_dp_worker_stats w0 = {0}, w1 = {0};
	double cpu0;
	static const double qs[3] = {0.50, 0.99, 0.999};

	memset(t, 0, sizeof(*t));
	memset(r->hist, 0, sizeof(r->hist));
	t->target_pps = pps;
	t->loss_tolerance = loss_tolerance;
	r->cur = t;
	sg_dp_worker_stats(r->sh->dp, 0, &w0);
	cpu0 = thread_cpu_s();
	start = rte_rdtsc();
	end = start + (uint64_t)(seconds * (double)hz);
	next = (double)start;
	for (now = start; now < end; now = rte_rdtsc()) {
		drain(r);
		if (atomic_load_explicit(r->stop, memory_order_relaxed))
			break;
		if ((double)now < next)
			continue;
		/* Preempted, or slower than asked: what was not sent in time is not sent (and not
		 * offered) rather than sent in one rush the rings were never meant to take. */
		if (per_packet > 0 && (double)now - next > (double)max_lag) {
			t->late += (uint64_t)(((double)now - next) / per_packet);
			next = (double)now;
		}
		next += per_packet * send_burst(r);
	}
	t->seconds = (double)(now - start) / (double)hz;
	t->cpu_seconds = thread_cpu_s() - cpu0;
	if (settle(r) < 0)
		return -1;
	r->cur = NULL;
	received = t->received;
	t->lost = t->expected > received ? t->expected - received : 0;
	t->unexpected = received > t->expected ? received - t->expected : 0;
	t->policy_drops = policy_drops(r) - drops0;
	sg_dp_worker_stats(r->sh->dp, 0, &w1);
	t->worker_sleeps = w1.sleeps - w0.sleeps;
	t->worker_sleep_share = (double)(w1.sleep_cycles - w0.sleep_cycles) /
				((double)hz * t->seconds);
	t->offered_pps = (double)t->offered / t->seconds;
	for (int q = 0; q < 3; q++)
		t->lat_us[q] = received != 0 ? gen_hist_percentile(r->hist, received, qs[q]) * 1e6 /
							       (double)hz
					     : 0;
	return 0;
}

bool
rate_trial_offered(const struct rate_trial *t)
{
	/*
	 * The generator kept its schedule, within 1 %, while it ran: preempted, it skips what it
	 * could not send in time and goes on at the rate, so the datapath saw the rate whenever
	 * traffic came; too slow for the rate, it falls behind while running.
	 */
	return t->target_pps == 0 ||
	       (t->cpu_seconds > 0 && (double)t->offered / t->cpu_seconds >= 0.99 * t->target_pps);
}

bool
rate_trial_passed(const struct rate_trial *t)
{
	/* No loss (or no more than tolerated), and the rate asked for was offered. */
	return (double)t->lost <= t->loss_tolerance * (double)t->expected && t->unexpected == 0 &&
	       t->no_mbuf == 0 && rate_trial_offered(t);
}
