/* SPDX-License-Identifier: BSD-3-Clause */
/* Connection set-up end to end (--mode rate --external --cps): the generator plays both ends of
 * fresh TCP connections through another process (dpdk-testpmd, sgfw, OVS) on the memif ports of
 * the rate mode, and counts whole lifecycles per second. Each connection answers what came back:
 * the client's SYN is answered by the server's SYN-ACK once it came out of the VM's port, the
 * SYN-ACK by the client's ACK and FIN, the FIN by the server's FIN-ACK, the FIN-ACK by the last
 * ACK, whose arrival completes it; the same six packets as the generator mode's lifecycles. Up to
 * CPS_WINDOW connections are under way at once, each in a slot whose number the client's initial
 * sequence number carries (slot << 16), so that every packet finds its connection from its
 * sequence or acknowledgement number; a connection that stalls (its packet lost or dropped) is
 * given up after CPS_STALL_MS and counted as failed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "bench_run.h"

#define CPS_WINDOW   480 /* under way at once: their packets (two at most each) fit a ring of 1,024 */
#define CPS_STALL_MS 100
#define CPS_DRAIN_MS 200 /* after the window: what is under way may still complete */

/* Where a connection is: the last packet the generator sent for it. */
enum cps_step {
	CPS_FREE,
	CPS_SYN,       /* client's SYN sent: the server answers when it arrives */
	CPS_SYN_ACK,   /* server's SYN-ACK sent */
	CPS_FIN,       /* client's ACK and FIN sent */
	CPS_FIN_ACK,   /* server's FIN-ACK sent */
	CPS_LAST_ACK,  /* client's last ACK sent: its arrival completes the connection */
};

struct cps_slot {
	struct bench_flow f;
	uint64_t since; /* TSC of the last packet sent */
	uint8_t step;
};

struct cps_run {
	struct rate_gen *r;
	struct gen_ctx *g;
	struct cps_slot *slots;
	uint32_t *free_list;
	uint32_t n_free;
	uint16_t client_port, server_port;
	struct rte_mbuf *tx[2][2 * SG_DP_MAX_BURST]; /* to the client's port, to the server's */
	uint16_t n_tx[2];
	struct rate_cps *res;
	bool counting;
};

/* Queue one packet of 'slot' for its side's port. */
static void
put(struct cps_run *c, struct cps_slot *s, enum bench_side side, uint8_t flags)
{
	int to = side == BENCH_FROM_CLIENT ? 0 : 1;
	struct rte_mbuf *m = rte_pktmbuf_alloc(c->r->sh->pool);

	if (m == NULL) {
		c->res->no_mbuf++;
		return;
	}
	bench_frame_mbuf(&c->g->world, &s->f, side, flags, m);
	bench_flow_sent(&s->f, side, flags);
	c->tx[to][c->n_tx[to]++] = m;
}

static void
flush(struct cps_run *c)
{
	const uint16_t port[2] = {c->client_port, c->server_port};

	for (int to = 0; to < 2; to++) {
		uint16_t n = c->n_tx[to], sent;

		if (n == 0)
			continue;
		sent = rte_eth_tx_burst(port[to], 0, c->tx[to], n);
		if (sent < n) {
			/* Those connections stall and are given up. */
			c->res->refused += n - sent;
			rte_pktmbuf_free_bulk(c->tx[to] + sent, n - sent);
		}
		c->res->sent += sent;
		c->n_tx[to] = 0;
	}
}

static void
release(struct cps_run *c, uint32_t slot)
{
	c->slots[slot].step = CPS_FREE;
	c->free_list[c->n_free++] = slot;
}

/* A fresh connection in a free slot: its SYN. */
static void
open_one(struct cps_run *c, uint64_t now)
{
	struct gen_ctx *g = c->g;
	uint32_t slot = c->free_list[--c->n_free];
	struct cps_slot *s = &c->slots[slot];
	uint32_t client = g->next_fresh++;

	if (g->next_fresh >= g->fresh_end)
		g->next_fresh = g->fresh_begin;
	s->f = (struct bench_flow){
			.vm = 0,
			.proto = IPPROTO_TCP,
			.cseq = slot << 16,
			.sseq = (uint32_t)bench_rand(&g->world.rng),
	};
	bench_flow_client(&s->f, client, false);
	s->since = now;
	s->step = CPS_SYN;
	put(c, s, BENCH_FROM_CLIENT, RTE_TCP_SYN_FLAG);
	c->res->opened += c->counting;
}

/*
 * A packet that came back, 'client_sent' if out of the VM's port (the client sent it), else out
 * of the uplink: the next step of its connection. Anything else (a stale or foreign packet) is
 * counted as stray.
 */
static void
react(struct cps_run *c, struct rte_mbuf *m, bool client_sent, uint64_t now)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const void *)(p + sizeof(struct rte_ether_hdr));
	const struct rte_tcp_hdr *tcp;
	uint32_t number, slot;
	struct cps_slot *s;
	uint8_t flags;

	if (m->data_len < 14 + sizeof(*ip) + sizeof(*tcp) ||
			p[12] != 0x08 || p[13] != 0x00 || ip->next_proto_id != IPPROTO_TCP) {
		c->res->stray++;
		return;
	}
	tcp = (const void *)((const uint8_t *)ip + rte_ipv4_hdr_len(ip));
	flags = tcp->tcp_flags;
	number = rte_be_to_cpu_32(client_sent ? tcp->sent_seq : tcp->recv_ack);
	slot = number >> 16;
	s = slot < CPS_WINDOW ? &c->slots[slot] : NULL;
	/* The slot's connection, by the client's port and address (198.18.x.y: its low 16 bits),
	 * not one it held before. */
	if (s == NULL || s->step == CPS_FREE ||
			rte_be_to_cpu_16(client_sent ? tcp->src_port : tcp->dst_port) != s->f.sport ||
			(rte_be_to_cpu_32(client_sent ? ip->src_addr : ip->dst_addr) & 0xffff) !=
					(s->f.client & 0xffff)) {
		c->res->stray++;
		return;
	}
	if (client_sent && flags == RTE_TCP_SYN_FLAG && s->step == CPS_SYN) {
		s->step = CPS_SYN_ACK;
		put(c, s, BENCH_FROM_SERVER, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	} else if (!client_sent && flags == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) &&
			s->step == CPS_SYN_ACK) {
		s->step = CPS_FIN;
		put(c, s, BENCH_FROM_CLIENT, RTE_TCP_ACK_FLAG);
		put(c, s, BENCH_FROM_CLIENT, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	} else if (client_sent && flags == RTE_TCP_ACK_FLAG && (number & 0xffff) == 1) {
		return; /* the handshake's ACK, on its way ahead of the FIN */
	} else if (client_sent && flags == (RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG) &&
			s->step == CPS_FIN) {
		s->step = CPS_FIN_ACK;
		put(c, s, BENCH_FROM_SERVER, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	} else if (!client_sent && flags == (RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG) &&
			s->step == CPS_FIN_ACK) {
		s->step = CPS_LAST_ACK;
		put(c, s, BENCH_FROM_CLIENT, RTE_TCP_ACK_FLAG);
	} else if (client_sent && flags == RTE_TCP_ACK_FLAG && (number & 0xffff) == 2 &&
			s->step == CPS_LAST_ACK) {
		c->res->completed += c->counting;
		release(c, slot);
		return;
	} else {
		c->res->stray++;
		return;
	}
	s->since = now;
}

/* Read each queue once; returns the packets read. */
static uint32_t
poll_ports(struct cps_run *c)
{
	const uint16_t port[2] = {c->client_port, c->server_port};
	uint32_t got = 0;

	for (int side = 0; side < 2; side++) {
		for (uint16_t q = 0; q < c->r->n_queues; q++) {
			struct rte_mbuf *pkts[SG_DP_MAX_BURST];
			uint16_t n = rte_eth_rx_burst(port[side], q, pkts, SG_DP_MAX_BURST);
			uint64_t now = rte_rdtsc();

			for (uint16_t k = 0; k < n; k++)
				react(c, pkts[k], side == 1, now);
			c->res->received += n;
			got += n;
			rte_pktmbuf_free_bulk(pkts, n);
			/* Answers of one burst: at most two packets each. */
			flush(c);
		}
	}
	return got;
}

/* Give up the connections whose last packet went unanswered for too long. */
static void
sweep(struct cps_run *c, uint64_t now, uint64_t stall)
{
	for (uint32_t i = 0; i < CPS_WINDOW; i++) {
		/* Signed: a packet answered since 'now' was read is newer than it. */
		if (c->slots[i].step == CPS_FREE || (int64_t)(now - c->slots[i].since) < (int64_t)stall)
			continue;
		c->res->failed += c->counting;
		release(c, i);
	}
}

int
rate_cps(struct rate_gen *r, double seconds, struct rate_cps *res)
{
	uint64_t hz = rte_get_tsc_hz(), stall = hz / 1000 * CPS_STALL_MS, start, end, now, next_sweep;
	struct cps_run c = {
			.r = r,
			.g = r->g,
			.client_port = r->sh->uplink_port,
			.server_port = r->sh->vm_port[0],
			.res = res,
	};

	memset(res, 0, sizeof(*res));
	c.slots = calloc(CPS_WINDOW, sizeof(*c.slots));
	c.free_list = malloc(CPS_WINDOW * sizeof(*c.free_list));
	if (c.slots == NULL || c.free_list == NULL) {
		free(c.slots);
		free(c.free_list);
		return -1;
	}
	for (uint32_t i = CPS_WINDOW; i > 0; i--)
		c.free_list[c.n_free++] = i - 1;
	c.counting = true;
	start = rte_rdtsc();
	end = start + (uint64_t)(seconds * (double)hz);
	next_sweep = start + hz / 100;
	for (now = start; now < end && !atomic_load_explicit(r->stop, memory_order_relaxed);
			now = rte_rdtsc()) {
		poll_ports(&c);
		/* New connections a burst at a time, so the receive rings are never offered more
		 * than a burst of SYNs at once. */
		for (uint16_t k = 0; k < SG_DP_MAX_BURST && c.n_free > 0; k++)
			open_one(&c, now);
		flush(&c);
		if (now >= next_sweep) {
			/* Answers waiting in the rings (the generator was preempted) are not
			 * stalls: read them all before judging (the rings hold a few thousand). */
			for (unsigned int k = 0; k < 1024 && poll_ports(&c) != 0; k++)
				;
			sweep(&c, rte_rdtsc(), stall);
			next_sweep = now + hz / 100;
		}
	}
	res->seconds = (double)(now - start) / (double)hz;
	/* What is under way may complete, but it is not counted: the rate is the window's. */
	c.counting = false;
	for (end = rte_rdtsc() + hz / 1000 * CPS_DRAIN_MS; rte_rdtsc() < end;)
		poll_ports(&c);
	for (uint32_t i = 0; i < CPS_WINDOW; i++)
		res->unfinished += c.slots[i].step != CPS_FREE;
	res->per_second = res->seconds > 0 ? (double)res->completed / res->seconds : 0;
	free(c.slots);
	free(c.free_list);
	return 0;
}
