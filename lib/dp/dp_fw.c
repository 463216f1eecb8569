/* SPDX-License-Identifier: BSD-3-Clause */
/* The fw engine's stateful stage: conntrack in bulk, classification only where the tracker has
 * no answer (new connections, connections admitted under an older policy, first replies of
 * mid-stream pickups, checked in the connection's original direction), then commit.
 * Established traffic never reaches the classifier. */
#include <rte_branch_prediction.h>

#include "dp_worker.h"

/* Expiry work per housekeeping call: bounded, so a worker never stalls on a sweep. */
#define EXPIRY_BUDGET 256

static void
add_check(struct dp_worker *w, uint16_t *n_cl, uint16_t k, uint16_t sender, uint16_t receiver,
		bool swapped, enum dp_check_kind kind, struct sg_conn *conn)
{
	w->cl[(*n_cl)++] = (struct dp_check){
		.pkt = k,
		.sender = sender,
		.receiver = receiver,
		.swapped = swapped,
		.kind = (uint8_t)kind,
		.conn = conn,
	};
}

/* Rule ids behind an accepted check, for the connection's origin record. */
static void
make_origin(const struct dp_gen *gen, const struct dp_check *c, struct sg_ct_origin *origin)
{
	const struct dp_vport *s = &gen->vports[c->sender], *r = &gen->vports[c->receiver];

	origin->in_port = s->port->id;
	origin->out_port = r->port->id;
	origin->egress_rule = c->pos[SG_DIR_EGRESS] ? s->rule_id[SG_DIR_EGRESS][c->pos[SG_DIR_EGRESS]] :
						      UINT32_MAX;
	origin->ingress_rule = c->pos[SG_DIR_INGRESS] ?
				       r->rule_id[SG_DIR_INGRESS][c->pos[SG_DIR_INGRESS]] :
				       UINT32_MAX;
	origin->policy_epoch = gen->epoch;
}

/* Whether a tracker verdict lets the packet through. */
static inline enum sg_drop_reason
verdict_reason(const struct sg_ct_verdict *v)
{
	switch (v->result) {
	case SG_CT_NEW:
	case SG_CT_ESTABLISHED:
	case SG_CT_REPLY:
	case SG_CT_RELATED:
		return SG_DROP_NONE;
	case SG_CT_NOT_NEW:
		return SG_DROP_CT_NOT_NEW;
	case SG_CT_BLOCKED:
		return SG_DROP_CT_BLOCKED;
	default:
		return v->reason != SG_DROP_NONE ? (enum sg_drop_reason)v->reason : SG_DROP_CT_INVALID;
	}
}

/*
 * An ICMP error from a VM is related only when that VM is an endpoint of the connection it
 * quotes. Between VMs the switch is the only router and it sends no errors, so an error from
 * any other VM is forged: a neighbour that guessed a tuple, to reset or throttle (a tiny
 * "fragmentation needed" MTU) someone else's connection. D11 alone checks only the outer
 * destination. Errors from the uplink come from routers on the way and keep D11's rule, except
 * those unwrapped from the overlay ('decap'): their source is a VM of another host, no router,
 * so the same rule as between local VMs applies. The sending host drops its own VMs' forged
 * errors already (stray, or on the wrong path); this is for what it did not check: a spoofer
 * on the underlay using a real VTEP's address, or a host that is not sgfw.
 */
static inline bool
icmp_error_forged(const struct dp_gen *gen, uint16_t in, const struct sg_pkt_meta *md,
		const struct sg_conn *conn, bool decap)
{
	struct sg_ct_tuple t;

	if (gen->vports[in].uplink && !decap)
		return false;
	sg_ct_conn_tuple(conn, &t);
	return !sg_ip_equal(&md->src, &t.src) && !sg_ip_equal(&md->src, &t.dst);
}

/*
 * Per-port limits on new connections, so one tenant cannot fill the table or hog the commit
 * path: how many the port has open (counted by the tracker), and how fast it opens them (a
 * token bucket per worker holding one second of its share of the rate).
 */
static enum sg_drop_reason
port_limits(struct dp_worker *w, const struct dp_gen *gen, uint16_t vport)
{
	const struct dp_vport *vp = &gen->vports[vport];
	struct dp_port_counters *pc;
	uint64_t cap;

	if (vp->max_connections != 0 &&
			sg_ct_port_connections(w->dp->params.ct, vp->port->id) >= vp->max_connections)
		return SG_DROP_CT_PORT_LIMIT;
	if (vp->new_per_second_per_worker == 0)
		return SG_DROP_NONE;
	pc = &vp->port->counters[w->id];
	cap = (uint64_t)vp->new_per_second_per_worker * 1000;
	if (w->now_ms != pc->rate_stamp_ms) {
		/* 'rate' tokens a second is 'rate' thousandths a millisecond. */
		pc->rate_tokens += (w->now_ms - pc->rate_stamp_ms) * vp->new_per_second_per_worker;
		if (pc->rate_tokens > cap || pc->rate_stamp_ms == 0)
			pc->rate_tokens = cap;
		pc->rate_stamp_ms = w->now_ms;
	}
	if (pc->rate_tokens < 1000)
		return SG_DROP_CT_PORT_RATE;
	pc->rate_tokens -= 1000;
	return SG_DROP_NONE;
}

/* Act on a classified check. Returns true to forward the packet. */
static bool
finish_check(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, const struct dp_check *c)
{
	/* A new connection counts once it exists: packets of one burst racing to create it
	 * would each count it again. */
	enum sg_drop_reason reason = dp_check_verdict(w, gen, c, c->kind == DP_CHECK_RECHECK);
	struct sg_ct *ct = w->dp->params.ct;
	struct sg_ct_origin origin;
	struct sg_ct_verdict v;
	int rc;

	if (reason != SG_DROP_NONE && w->fl_ring != NULL)
		dp_fl_check(w, gen, c);
	switch ((enum dp_check_kind)c->kind) {
	case DP_CHECK_NEW:
		if (reason != SG_DROP_NONE)
			break;
		if ((reason = port_limits(w, gen, c->sender)) != SG_DROP_NONE)
			break;
		make_origin(gen, c, &origin);
		rc = sg_ct_commit(ct, w->id, w->pkts[c->pkt], &w->meta[c->pkt], &origin, w->now_ms, &v);
		if (rc == 0)
			dp_check_count_accept(w, gen, c);
		if (rc == -EEXIST && verdict_reason(&v) == SG_DROP_NONE)
			rc = 0; /* another packet of the burst, or another worker, created it first */
		if (rc == 0) {
			if (unlikely(dp_fl_tcp_flagged(&w->meta[c->pkt])) && w->fl_ring != NULL)
				dp_fl_flags(w, gen, c->pkt, c->sender, c->receiver, origin.egress_rule,
						origin.ingress_rule, gen->epoch);
			return true;
		}
		reason = rc == -ENOSPC ? (enum sg_drop_reason)v.reason : verdict_reason(&v);
		break;
	case DP_CHECK_RECHECK:
		/* D9: a connection the new policy refuses stops passing, both ways. */
		if (reason != SG_DROP_NONE) {
			sg_ct_conn_set_blocked(c->conn, true);
			reason = SG_DROP_CT_BLOCKED;
			break;
		}
		/* The new policy's rules, so flow logs name what admits it now. */
		make_origin(gen, c, &origin);
		sg_ct_conn_set_rules(c->conn, gen->epoch, origin.egress_rule, origin.ingress_rule);
		if (unlikely(dp_fl_tcp_flagged(&w->meta[c->pkt])) && w->fl_ring != NULL)
			dp_fl_conn_flags(w, gen, c->pkt, c->swapped ? c->receiver : c->sender,
					&w->verdicts[c->pkt]);
		return true;
	case DP_CHECK_PICKUP:
		/* The connection as it was picked up, under the policy in force now: refused
		 * (the policy changed since the pickup), it stops passing both ways, as D9 says. */
		if (reason != SG_DROP_NONE) {
			sg_ct_conn_set_blocked(c->conn, true);
			reason = SG_DROP_CT_BLOCKED;
			break;
		}
		sg_ct_conn_set_epoch(c->conn, gen->epoch);
		sg_ct_conn_confirm(c->conn);
		/* Checked swapped: the packet came from the check's receiver. */
		if (unlikely(dp_fl_tcp_flagged(&w->meta[c->pkt])) && w->fl_ring != NULL)
			dp_fl_conn_flags(w, gen, c->pkt, c->receiver, &w->verdicts[c->pkt]);
		return true;
	}
	dp_drop(w, gen, in, c->pkt, reason);
	return false;
}

uint16_t
dp_stage_conntrack(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n)
{
	struct sg_ct *ct = w->dp->params.ct;
	bool recheck = !gen->conf->conntrack.keep_established;
	uint16_t n_cl = 0, n_fwd = 0, in_port;
	uint32_t changed_in;
	uint64_t t;

	if (n == 0)
		return 0;
	t = dp_lap_start(w);
	/* A tracked connection carries packets between its own two ports only. The receiving
	 * port's id read once: the stores to w->paths may alias the generation's port. */
	in_port = gen->vports[in].port->id;
	for (uint16_t k = 0; k < n; k++)
		w->paths[k] = (struct sg_ct_path){in_port, gen->vports[w->dst[k]].port->id};
	sg_ct_process_burst(ct, w->id, w->pkts, w->meta, w->paths, w->verdicts, n, w->now_ms);
	changed_in = gen->vports[in].changed_epoch;
	for (uint16_t k = 0; k < n; k++) {
		const struct sg_ct_verdict *v = &w->verdicts[k];
		bool reply = v->dir == SG_CT_DIR_REPLY;

		/* Most packets belong to a known connection (ESTABLISHED, or a REPLY other than a
		 * pickup's first): none of the cases below applies to them, so they skip the
		 * verdict's switch and go straight to the recheck test. */
		if (unlikely(v->result != SG_CT_ESTABLISHED &&
				    (v->result != SG_CT_REPLY || (v->flags & SG_CT_VF_PICKUP)))) {
			enum sg_drop_reason reason = verdict_reason(v);

			if (v->result == SG_CT_RELATED &&
					icmp_error_forged(gen, in, &w->meta[k], v->conn,
							w->decap[k]))
				reason = SG_DROP_CT_NOT_NEW;
			if (reason != SG_DROP_NONE) {
				dp_drop(w, gen, in, k, reason);
				continue;
			}
			if (v->result == SG_CT_NEW) {
				add_check(w, &n_cl, k, in, w->dst[k], false, DP_CHECK_NEW, NULL);
				continue;
			}
			/* The verdict carries the pickup mark as the tracker saw it: no call per
			 * packet. */
			if (v->result == SG_CT_REPLY && (v->flags & SG_CT_VF_PICKUP)) {
				/*
				 * D10: the first reply of a mid-stream pickup is checked as part of
				 * the connection the pickup admitted, i.e. in its original direction
				 * (the replier is the receiver), never as a new connection from the
				 * replier: that would refuse every answer of a connection the policy
				 * allows one way only (web -> db:5432, the seed's), so a restart of
				 * sgfw would cut it.
				 */
				add_check(w, &n_cl, k, w->dst[k], in, true, DP_CHECK_PICKUP,
						v->conn);
				continue;
			}
		}
		if (v->result != SG_CT_RELATED && recheck &&
				unlikely(v->epoch <
						SG_MAX(changed_in,
								gen->vports[w->dst[k]].changed_epoch))) {
			/* Classify the original direction: a reply is seen from the other side. */
			if (reply)
				add_check(w, &n_cl, k, w->dst[k], in, true, DP_CHECK_RECHECK, v->conn);
			else
				add_check(w, &n_cl, k, in, w->dst[k], false, DP_CHECK_RECHECK, v->conn);
			continue;
		}
		w->fwd[n_fwd++] = k;
		if (unlikely(dp_fl_tcp_flagged(&w->meta[k])) && w->fl_ring != NULL)
			dp_fl_conn_flags(w, gen, k, in, v);
	}
	t = dp_lap(w, SG_DP_STAGE_CONNTRACK, t);
	if (n_cl == 0)
		return n_fwd;
	dp_classify_checks(w, gen, n_cl);
	t = dp_lap(w, SG_DP_STAGE_CLASSIFY, t);
	/* Verdicts are counted as classification; the commits they lead to as conntrack. */
	for (uint16_t c = 0; c < n_cl; c++)
		if (finish_check(w, gen, in, &w->cl[c]))
			w->fwd[n_fwd++] = w->cl[c].pkt;
	dp_lap(w, SG_DP_STAGE_CONNTRACK, t);
	return n_fwd;
}

void
dp_housekeeping(struct dp_worker *w, const struct dp_gen *gen)
{
	if (w->frags->epoch != gen->epoch)
		dp_frag_flush(w, gen);
	else if (w->frags->n_held != 0)
		dp_frag_expire(w, gen);
	dp_frag_sweep(w);
	if (w->dp->params.ct != NULL)
		sg_ct_expire(w->dp->params.ct, w->id, EXPIRY_BUDGET, w->now_ms);
}
