/* SPDX-License-Identifier: BSD-3-Clause */
/* The forwarding engines, testpmd style: io (port pairs, no processing: the floor to compare
 * against), sg (every packet classified, no state: the classifier's benchmark) and fw (the
 * firewall: conntrack, classification of what it does not know, commit; dp_fw.c). */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "dp_worker.h"

/* sg engine: classify every admitted packet, no state. */
static uint16_t
stage_stateless(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n)
{
	uint64_t t = dp_lap_start(w);
	uint16_t n_fwd = 0;

	for (uint16_t k = 0; k < n; k++)
		w->cl[k] = (struct dp_check){.pkt = k, .sender = in, .receiver = w->dst[k]};
	dp_classify_checks(w, gen, n);
	for (uint16_t k = 0; k < n; k++) {
		/* Stateless: every packet is a decision, and counts. */
		enum sg_drop_reason reason = dp_check_verdict(w, gen, &w->cl[k], true);

		if (reason != SG_DROP_NONE) {
			if (w->fl_ring != NULL)
				dp_fl_check(w, gen, &w->cl[k]);
			dp_drop(w, gen, in, w->cl[k].pkt, reason);
		} else {
			w->fwd[n_fwd++] = w->cl[k].pkt;
		}
	}
	dp_lap(w, SG_DP_STAGE_CLASSIFY, t);
	return n_fwd;
}

/* io engine: each port sends to its pair (0<->1, 2<->3, ...): the floor to compare against. */
static void
process_io(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n)
{
	uint16_t out = in ^ 1;
	struct dp_port_counters *c = dp_counters(gen, in, w->id);
	uint16_t sent = 0;

	c->rx_packets += n;
	if (out < gen->n_vports) {
		sent = sg_port_tx(&gen->vports[out].port->dev, w->id, w->pkts, n);
		dp_counters(gen, out, w->id)->tx_packets += sent;
	}
	if (sent < n) {
		c->drops[SG_DROP_NO_ROUTE] += (uint64_t)(n - sent);
		rte_pktmbuf_free_bulk(&w->pkts[sent], n - sent);
	}
}

const struct dp_engine dp_engines[SG_DP_ENGINE_COUNT] = {
		[SG_DP_ENGINE_IO] = {.name = "io", .burst = process_io},
		[SG_DP_ENGINE_SG] = {.name = "sg", .stage = stage_stateless},
		[SG_DP_ENGINE_FW] = {.name = "fw", .stage = dp_stage_conntrack},
};
