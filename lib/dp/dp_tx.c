/* SPDX-License-Identifier: BSD-3-Clause */
/* The last stage: routed packets rewritten and sent, one transmit burst per destination port;
 * the switch's answers back out of the asker's port; what a port did not take, counted. */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "dp_worker.h"

/* Why a port did not take packets: a VM that went away is not a full queue (for the operator). */
static inline enum sg_drop_reason
tx_drop_reason(const struct sg_port_dev *dev)
{
	return sg_port_vhost_down(dev) ? SG_DROP_PORT_DOWN : SG_DROP_TX_FULL;
}

/*
 * Send 'n' packets, 'bytes' bytes in all, out of vport 'out', counting what the port took. The
 * bytes are summed by the caller before the send (dp_forward() while it touches each packet
 * anyway): a sent mbuf is the driver's, which may free it at once; unsent ones are still ours.
 */
static inline void
tx_burst(struct dp_worker *w, const struct dp_gen *gen, uint16_t out, struct rte_mbuf **pkts,
		uint16_t n, uint64_t bytes)
{
	struct dp_port_counters *c = dp_counters(gen, out, w->id);
	uint16_t sent = sg_port_tx(&gen->vports[out].port->dev, w->id, pkts, n);

	if (unlikely(sent < n)) {
		for (uint16_t j = sent; j < n; j++)
			bytes -= pkts[j]->pkt_len;
		c->drops[tx_drop_reason(&gen->vports[out].port->dev)] += (uint64_t)(n - sent);
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
	}
	c->tx_packets += sent;
	c->tx_bytes += bytes;
}

void
dp_tx(struct dp_worker *w, const struct dp_gen *gen, uint16_t out, struct rte_mbuf **pkts,
		uint16_t n)
{
	uint64_t bytes = 0;

	for (uint16_t j = 0; j < n; j++)
		bytes += pkts[j]->pkt_len;
	tx_burst(w, gen, out, pkts, n, bytes);
}

/*
 * A packet for a port of another host, checked and tracked: its inner MACs as routing sets
 * them (to the remote VM's MAC), then wrapped in VXLAN to that host's VTEP in place (the
 * headers go into the mbuf's headroom). False when there is no room: the packet is dropped.
 */
static inline bool
overlay_wrap(struct dp_worker *w, const struct dp_gen *gen, uint16_t i)
{
	const struct dp_overlay *o = &gen->overlay;
	const struct dp_remote *r = &o->remotes[w->remote[i]];
	const struct dp_host *h = &o->hosts[r->host];
	struct sg_vxlan_outer outer;

	if (w->routed[i])
		dp_route_rewrite(w->pkts[i], w->meta[i].l3, w->meta[i].l2_len, gen->router_mac,
				r->mac);
	memcpy(outer.src_mac, o->mac, 6);
	memcpy(outer.dst_mac, h->mac, 6);
	outer.src_ip = o->vtep;
	outer.dst_ip = h->vtep;
	return sg_pkt_vxlan_encap(w->pkts[i], &outer, w->vni[i],
			       sg_pkt_vxlan_src_port(&w->meta[i])) == 0;
}

/* Send the packets listed in w->fwd[0..n) to their destinations, one tx burst per port. */
void
dp_forward(struct dp_worker *w, const struct dp_gen *gen, uint16_t n)
{
	uint64_t pending = n == 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1;

	while (pending != 0) {
		uint16_t first = (uint16_t)__builtin_ctzll(pending);
		uint16_t out = w->dst[w->fwd[first]];
		const struct dp_vport *out_vp = &gen->vports[out];
		/* Routed packets' new Ethernet addresses, destination then source as on the wire:
		 * one 12-byte copy per packet (dp_route_rewrite() makes two of 6). */
		uint8_t macs[2 * RTE_ETHER_ADDR_LEN];
		uint64_t bytes = 0;
		uint16_t m = 0, encap = 0;

		memcpy(macs, out_vp->mac, RTE_ETHER_ADDR_LEN);
		memcpy(macs + RTE_ETHER_ADDR_LEN, gen->router_mac, RTE_ETHER_ADDR_LEN);

		for (uint64_t rest = pending; rest != 0; rest &= rest - 1) {
			uint16_t k = (uint16_t)__builtin_ctzll(rest);
			uint16_t i = w->fwd[k];

			if (w->dst[i] != out)
				continue;
			pending &= ~(UINT64_C(1) << k);
			if (unlikely(w->remote[i] != DP_NO_REMOTE)) {
				if (!overlay_wrap(w, gen, i)) {
					dp_counters(gen, out, w->id)->drops[SG_DROP_OVERLAY_HEADROOM]++;
					w->to_free[w->n_free++] = w->pkts[i];
					continue;
				}
				encap++;
			} else if (w->routed[i]) {
				memcpy(rte_pktmbuf_mtod(w->pkts[i], void *), macs, sizeof(macs));
				dp_route_hop(w->pkts[i], w->meta[i].l3, w->meta[i].l2_len);
			}
			/* After the wrap: the bytes sent, outer headers included. */
			bytes += w->pkts[i]->pkt_len;
			w->tx[m++] = w->pkts[i];
		}
		if (encap != 0)
			dp_counters(gen, out, w->id)->vxlan_encap += encap;
		tx_burst(w, gen, out, w->tx, m, bytes);
	}
}

void
dp_send_replies(struct dp_worker *w, const struct dp_gen *gen, uint16_t in)
{
	struct dp_port_counters *c = dp_counters(gen, in, w->id);
	uint16_t sent = sg_port_tx(&gen->vports[in].port->dev, w->id, w->replies, w->n_replies);

	c->tx_packets += sent;
	if (unlikely(sent < w->n_replies)) {
		c->drops[tx_drop_reason(&gen->vports[in].port->dev)] +=
				(uint64_t)(w->n_replies - sent);
		rte_pktmbuf_free_bulk(&w->replies[sent], w->n_replies - sent);
	}
	w->n_replies = 0;
}
