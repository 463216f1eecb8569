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
 * bursts, client side then server side, in the scattered order of the generator mode.
 *
 * --external: the ports are memif servers instead and another process (dpdk-testpmd, sgfw,
 * OVS) forwards between them on its own core, so that all three are measured by the same
 * generator. The stamp then travels in the packet: the first 6 bytes of the L4 payload hold
 * the low 48 bits of the TSC, the L4 checksum adjusted (RFC 1624), since a switch with
 * conntrack checks it; "processed" means "came back", counted against what the device under
 * test is expected to forward. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf_dyn.h>
#include <rte_memcpy.h>
#include <rte_ring.h>

#include "bench_run.h"

/* A trial's sender waits this long behind its schedule before it gives up catching up. */
#define RATE_MAX_LAG_US 100
/* --external: after the last packet sent, what is still missing is lost once nothing came back
 * for this long (a trial), or the set-up failed (a set-up burst, which may wait for upcalls). */
#define RATE_QUIET_TRIAL_MS 200
#define RATE_QUIET_SETUP_MS 3000
#define RATE_STAMP_LEN	    6

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

/*
 * Where an external run's stamp goes in 'p': the first RATE_STAMP_LEN bytes of the L4 payload of
 * an IPv4 or IPv6 TCP, UDP, ICMP or ICMPv6 packet (the generator's own frames: no options or
 * extension headers to skip), and where that header's checksum is. 0: no room for it.
 */
static uint16_t
stamp_at(const uint8_t *p, uint16_t len, uint16_t *csum_at, bool *udp)
{
	uint16_t type, l4, end, hl;
	uint8_t proto;

	if (len < sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr))
		return 0;
	/* ihl, total length and the L4 header are the generator's own, but what comes back is
	 * bounded all the same. */
	type = (uint16_t)(p[12] << 8 | p[13]);
	if (type == RTE_ETHER_TYPE_IPV4) {
		l4 = (uint16_t)(14 + (p[14] & 0xf) * 4);
		end = (uint16_t)(14 + (p[16] << 8 | p[17]));
		proto = p[23];
	} else if (type == RTE_ETHER_TYPE_IPV6 && len >= 14 + sizeof(struct rte_ipv6_hdr)) {
		l4 = 14 + sizeof(struct rte_ipv6_hdr);
		end = (uint16_t)(l4 + (p[18] << 8 | p[19]));
		proto = p[20];
	} else {
		return 0;
	}
	if (end > len || l4 + 8 > end)
		return 0;
	switch (proto) {
	case IPPROTO_TCP:
		if (l4 + 20 > end)
			return 0;
		hl = (uint16_t)((p[l4 + 12] >> 4) * 4);
		if (hl < 20)
			return 0;
		*csum_at = l4 + 16;
		break;
	case IPPROTO_UDP:
		hl = 8;
		*csum_at = l4 + 6;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hl = 8;
		*csum_at = l4 + 2;
		break;
	default:
		return 0;
	}
	*udp = proto == IPPROTO_UDP;
	return l4 + hl + RATE_STAMP_LEN <= end ? (uint16_t)(l4 + hl) : 0;
}

/* Write the low 48 bits of 'tsc' at the stamp's place and mend the checksum for the 3 words
 * changed (RFC 1624, eqn. 3); the payload starts on an even offset of the L4 header. */
static void
stamp_write(uint8_t *p, uint16_t len, uint64_t tsc)
{
	uint16_t old[3], now[3] = {(uint16_t)tsc, (uint16_t)(tsc >> 16), (uint16_t)(tsc >> 32)};
	uint16_t csum_at, csum, at;
	uint32_t sum;
	bool udp;

	at = stamp_at(p, len, &csum_at, &udp);
	if (at == 0)
		return;
	memcpy(old, p + at, sizeof(old));
	memcpy(p + at, now, sizeof(now));
	memcpy(&csum, p + csum_at, sizeof(csum));
	if (udp && csum == 0)
		return; /* a UDP datagram without a checksum */
	sum = (uint16_t)~csum;
	for (int k = 0; k < 3; k++)
		sum += (uint16_t)~old[k] + (uint32_t)now[k];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	csum = (uint16_t)~sum;
	if (udp && csum == 0)
		csum = 0xffff;
	memcpy(p + csum_at, &csum, sizeof(csum));
}

/* The stamp of a packet that came back, or false if it has none. */
static bool
stamp_read(const uint8_t *p, uint16_t len, uint64_t *tsc)
{
	uint16_t w[3], csum_at;
	uint16_t at;
	bool udp;

	at = stamp_at(p, len, &csum_at, &udp);
	if (at == 0)
		return false;
	memcpy(w, p + at, sizeof(w));
	*tsc = (uint64_t)w[0] | (uint64_t)w[1] << 16 | (uint64_t)w[2] << 32;
	return true;
}

/* The L4 checksum of a TCP or UDP packet is right (others: not checked). */
static bool
l4_checksum_ok(struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t type;

	if (m->data_len < 14 + sizeof(struct rte_ipv4_hdr))
		return true;
	type = (uint16_t)(p[12] << 8 | p[13]);
	if (type == RTE_ETHER_TYPE_IPV4) {
		const struct rte_ipv4_hdr *ip = (const void *)(p + 14);
		uint16_t hl = (uint16_t)rte_ipv4_hdr_len(ip);
		uint16_t total = rte_be_to_cpu_16(ip->total_length);

		if (ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP)
			return true;
		/* A header or packet that does not fit what came is wrong, not summed. */
		if (hl < sizeof(*ip) || total < hl || 14u + total > m->data_len)
			return false;
		return bench_transport_sum_ok((const uint8_t *)ip, false, ip->next_proto_id,
				(const uint8_t *)ip + hl, total - hl);
	}
	if (type == RTE_ETHER_TYPE_IPV6 && m->data_len >= 14 + sizeof(struct rte_ipv6_hdr)) {
		const struct rte_ipv6_hdr *ip = (const void *)(p + 14);
		uint16_t payload = rte_be_to_cpu_16(ip->payload_len);

		if (ip->proto != IPPROTO_TCP && ip->proto != IPPROTO_UDP)
			return true;
		if (14u + sizeof(*ip) + payload > m->data_len)
			return false;
		return bench_transport_sum_ok((const uint8_t *)ip, true, ip->proto,
				(const uint8_t *)(ip + 1), payload);
	}
	return true;
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

int
rate_ports_external(struct rate_gen *r, const char *const *names, unsigned int n,
		unsigned int ring_size, uint16_t queues, struct rte_mempool *pool, const char *dir,
		double wait_s)
{
	const struct rte_eth_conf conf = {0};
	char ready[4200];
	uint64_t deadline;

	r->external = true;
	r->n_queues = queues;
	/* A ready file left by an earlier run would start the trials before the other side. */
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	if (unlink(ready) != 0 && errno != ENOENT) {
		fprintf(stderr, "error: %s: %s\n", ready, strerror(errno));
		return -1;
	}
	for (unsigned int i = 0; i < n; i++) {
		char name[RTE_ETH_NAME_MAX_LEN], args[4200];
		uint16_t port;
		int rc;

		snprintf(name, sizeof(name), "net_memif_%s", names[i]);
		/* A socket file, not an abstract one: the other process and the cleanup find it. */
		snprintf(args, sizeof(args), "role=server,id=0,socket=%s/%s.sock,socket-abstract=no",
				dir, names[i]);
		rc = rte_vdev_init(name, args);
		if (rc == 0)
			rc = rte_eth_dev_get_port_by_name(name, &port);
		/* A memif server refuses a ring past its queues, and a queue without a ring of
		 * its own reads ring 0: as many queues as the other side transmits on. */
		if (rc == 0)
			rc = rte_eth_dev_configure(port, queues, queues, &conf);
		for (uint16_t q = 0; q < queues && rc == 0; q++) {
			rc = rte_eth_rx_queue_setup(port, q, (uint16_t)ring_size, rte_socket_id(), NULL,
					pool);
			if (rc == 0)
				rc = rte_eth_tx_queue_setup(port, q, (uint16_t)ring_size,
						rte_socket_id(), NULL);
		}
		if (rc == 0)
			rc = rte_eth_dev_start(port);
		if (rc != 0) {
			fprintf(stderr, "error: memif port %s on %s/%s.sock: %s\n", name, dir,
					names[i], rte_strerror(rc < 0 ? -rc : rte_errno));
			/* Not yet in r->names: rate_ports_free() would not find it. */
			rte_vdev_uninit(name);
			return -1;
		}
		r->port_id[i] = port;
		snprintf(r->names[i], sizeof(r->names[i]), "%s", names[i]);
		r->n_ports = i + 1;
	}
	/* The device under test starts now: the caller waits for this line. */
	fprintf(stderr, "waiting for the device under test on %s/*.sock\n", dir);
	deadline = rte_rdtsc() + (uint64_t)(wait_s * (double)rte_get_tsc_hz());
	for (unsigned int i = 0; i < n; i++) {
		struct rte_eth_link link;

		while (rte_eth_link_get_nowait(r->port_id[i], &link) != 0 ||
				link.link_status != RTE_ETH_LINK_UP) {
			if (rte_rdtsc() > deadline) {
				fprintf(stderr, "error: nothing connected to %s/%s.sock in %g s\n",
						dir, names[i], wait_s);
				return -1;
			}
			rte_delay_us_sleep(10000);
		}
	}
	/* Connected is not forwarding yet (testpmd flushes its queues when it starts, OVS has no
	 * flows until they are added): the caller says when with DIR/ready. */
	while (access(ready, F_OK) != 0) {
		if (rte_rdtsc() > deadline) {
			fprintf(stderr, "error: no %s in %g s\n", ready, wait_s);
			return -1;
		}
		rte_delay_us_sleep(10000);
	}
	return 0;
}

void
rate_ports_free(struct rate_gen *r)
{
	for (unsigned int i = 0; i < r->n_ports; i++) {
		char name[RTE_ETH_NAME_MAX_LEN];
		uint16_t port;

		snprintf(name, sizeof(name), "%s_%s", r->external ? "net_memif" : "net_ring",
				r->names[i]);
		if (rte_eth_dev_get_port_by_name(name, &port) == 0) {
			if (r->external)
				rte_eth_dev_stop(port);
			rte_eth_dev_close(port);
		}
		if (r->external) {
			rte_vdev_uninit(name);
			continue;
		}
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

/* What came back on an external port: latency from the stamps in the packets. */
static void
count_external(struct rate_gen *r, struct rte_mbuf **pkts, unsigned int n, uint64_t now)
{
	r->rx_total += n;
	if (r->verify_l4)
		for (unsigned int k = 0; k < n; k++)
			r->bad_l4 += !l4_checksum_ok(pkts[k]);
	if (r->cur == NULL)
		return;
	for (unsigned int k = 0; k < n; k++) {
		uint64_t sent;

		if (stamp_read(rte_pktmbuf_mtod(pkts[k], const uint8_t *), pkts[k]->data_len, &sent))
			gen_hist_add(r->hist, (now - sent) & ((UINT64_C(1) << 48) - 1));
		else
			r->cur->unstamped++;
	}
	r->cur->received += n;
}

/* Read every transmit ring once; with a trial running, count what came out and when. */
static void
drain(struct rate_gen *r)
{
	for (unsigned int i = 0; i < r->n_ports; i++) {
		struct rte_mbuf *pkts[SG_DP_MAX_BURST];
		unsigned int n;
		uint64_t now;

		if (r->external) {
			for (uint16_t q = 0; q < r->n_queues; q++) {
				n = rte_eth_rx_burst(r->port_id[i], q, pkts, SG_DP_MAX_BURST);
				if (n != 0) {
					count_external(r, pkts, n, rte_rdtsc());
					rte_pktmbuf_free_bulk(pkts, n);
				}
			}
			continue;
		}
		n = rte_ring_sc_dequeue_burst(r->tx[i], (void **)pkts, SG_DP_MAX_BURST, NULL);
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

/*
 * External: wait until everything expected back so far came back, or nothing came for
 * 'quiet_ms'. Returns the packets still missing; what is missing then is lost, and the count
 * starts again from what came.
 */
static uint64_t
settle_external(struct rate_gen *r, unsigned int quiet_ms)
{
	uint64_t quiet = rte_get_tsc_hz() / 1000 * quiet_ms, last = rte_rdtsc(), seen = r->rx_total;
	uint64_t missing;

	while (r->rx_total < r->sent_expected && rte_rdtsc() - last < quiet) {
		drain(r);
		if (r->rx_total != seen) {
			seen = r->rx_total;
			last = rte_rdtsc();
		}
	}
	missing = r->sent_expected > r->rx_total ? r->sent_expected - r->rx_total : 0;
	r->sent_expected = r->rx_total;
	return missing;
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

	/* After a failed burst the set-up is over: the rest are not sent (nor waited for). */
	if (r->failed) {
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	if (r->external) {
		uint64_t deadline = rte_rdtsc() + rte_get_tsc_hz() / 1000 * RATE_QUIET_SETUP_MS;
		uint64_t missing;

		/* The device under test drops the denied flows' first packets (io: forwards). */
		r->sent_expected += n - (r->io ? 0 : sh->emit_denied);
		/* A ring that stays full (the other side gone) fails the set-up, not hangs it. */
		while (done < n) {
			done += rte_eth_tx_burst(port_id, 0, pkts + done, (uint16_t)(n - done));
			drain(r);
			if (done < n && (rte_rdtsc() > deadline ||
						atomic_load_explicit(r->stop, memory_order_relaxed))) {
				rte_pktmbuf_free_bulk(pkts + done, n - done);
				fprintf(stderr, "error: opening the flows: the device under test took %u "
						"of %u packets\n", done, n);
				r->failed = true;
				return;
			}
		}
		missing = settle_external(r, RATE_QUIET_SETUP_MS);
		if (missing != 0) {
			fprintf(stderr, "error: opening the flows: %" PRIu64 " of %u packets did not "
					"come back through the device under test\n", missing, n);
			r->failed = true;
		}
		return;
	}
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
	if (r->external) {
		for (uint16_t k = 0; k < n; k++)
			stamp_write(rte_pktmbuf_mtod(pkts[k], uint8_t *), pkts[k]->data_len, now);
		sent = rte_eth_tx_burst(r->port_id[ring], 0, pkts, n);
		if (sent < n) {
			t->refused += n - sent;
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		}
		t->offered += n;
		return n;
	}
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
			r->sent_expected += m;
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
	r->sent_expected += sent;
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
	for (unsigned int i = 0; i < r->n_ports && !r->external; i++)
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
	 * accepted whatever ring the worker reads first. Stamped as in the trials, so what comes
	 * back proves the stamps left the checksums right. */
	r->cur = &prime;
	r->verify_l4 = r->external;
	for (uint32_t at = 0; at < r->n_flows; at += g->burst) {
		uint32_t flows[SG_DP_MAX_BURST];
		uint16_t n = (uint16_t)SG_MIN((uint32_t)g->burst, r->n_flows - at), m = n;

		for (uint16_t k = 0; k < n; k++) {
			flows[k] = at + k;
			m -= g->world.flows[at + k].denied && !r->io;
		}
		send_frames(r, ring_of(r, sh->uplink_port), r->client, r->client_len, flows, n);
		if (r->external) {
			r->sent_expected += m;
			if (settle_external(r, RATE_QUIET_SETUP_MS) != 0) {
				fprintf(stderr, "error: the first data segments did not all come back "
						"through the device under test\n");
				return -1;
			}
		} else if (settle(r) < 0) {
			return -1;
		}
	}
	r->cur = NULL;
	r->verify_l4 = false;
	if (r->bad_l4 != 0) {
		fprintf(stderr, "error: %" PRIu64 " packets came back with a wrong L4 checksum\n",
				r->bad_l4);
		return -1;
	}
	return prime.refused != 0 || prime.no_mbuf != 0 ? -1 : 0;
}

/* Sum of the datapath's policy drops (ingress and egress rules) over the ports. */
static uint64_t
policy_drops(const struct rate_gen *r)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < r->n_ports && !r->external; i++) {
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
	if (r->external) {
		/* Stragglers of the last trial, after its quiet wait, are not this one's. */
		drain(r);
		r->sent_expected = r->rx_total;
	}
	r->cur = t;
	if (!r->external)
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
	if (r->external)
		settle_external(r, RATE_QUIET_TRIAL_MS);
	else if (settle(r) < 0)
		return -1;
	r->cur = NULL;
	received = t->received;
	t->lost = t->expected > received ? t->expected - received : 0;
	t->unexpected = received > t->expected ? received - t->expected : 0;
	t->policy_drops = policy_drops(r) - drops0;
	if (!r->external)
		sg_dp_worker_stats(r->sh->dp, 0, &w1);
	t->worker_sleeps = w1.sleeps - w0.sleeps;
	t->worker_sleep_share = (double)(w1.sleep_cycles - w0.sleep_cycles) /
				((double)hz * t->seconds);
	t->offered_pps = (double)t->offered / t->seconds;
	for (int q = 0; q < 3; q++)
		t->lat_us[q] = received > t->unstamped
				       ? gen_hist_percentile(r->hist, received - t->unstamped, qs[q]) *
						 1e6 / (double)hz
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
