/* The fw engine's stateful stage: conntrack in bulk, classification only where the tracker has
 * no answer (new connections, connections admitted under an older policy, first replies of
 * mid-stream pickups, checked in the connection's original direction), then commit. Established traffic never reaches the classifier. */
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
 * destination. Errors from the uplink come from routers on the way and keep D11's rule.
 */
static inline bool
icmp_error_forged(const struct dp_gen *gen, uint16_t in, const struct sg_pkt_meta *md,
		const struct sg_conn *conn)
{
	struct sg_ct_tuple t;

	if (gen->vports[in].uplink)
		return false;
	sg_ct_conn_tuple(conn, &t);
	return !sg_ip_equal(&md->src, &t.src) && !sg_ip_equal(&md->src, &t.dst);
}

/* Act on a classified check. Returns true to forward the packet. */
static bool
finish_check(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, const struct dp_check *c)
{
	enum sg_drop_reason reason = dp_check_verdict(w, gen, c);
	struct sg_ct *ct = w->dp->params.ct;
	struct sg_ct_origin origin;
	struct sg_ct_verdict v;
	int rc;

	switch ((enum dp_check_kind)c->kind) {
	case DP_CHECK_NEW:
		if (reason != SG_DROP_NONE)
			break;
		make_origin(gen, c, &origin);
		rc = sg_ct_commit(ct, w->id, w->pkts[c->pkt], &w->meta[c->pkt], &origin, w->now_ms, &v);
		if (rc == 0)
			return true;
		/* Another packet of the burst, or another worker, created it first. */
		reason = rc == -ENOSPC ? SG_DROP_CT_TABLE_FULL : verdict_reason(&v);
		if (rc == -EEXIST && reason == SG_DROP_NONE)
			return true;
		break;
	case DP_CHECK_RECHECK:
		/* D9: a connection the new policy refuses stops passing, both ways. */
		if (reason != SG_DROP_NONE) {
			sg_ct_conn_set_blocked(c->conn, true);
			reason = SG_DROP_CT_BLOCKED;
			break;
		}
		sg_ct_conn_set_epoch(c->conn, gen->epoch);
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
		return true;
	}
	dp_drop(w, gen, in, c->pkt, reason);
	return false;
}

uint16_t
dp_stage_conntrack(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n)
{
	struct sg_ct *ct = w->dp->params.ct;
	bool recheck = !w->dp->params.keep_established;
	uint16_t n_cl = 0, n_fwd = 0;

	if (n == 0)
		return 0;
	sg_ct_process_burst(ct, w->id, w->pkts, w->meta, w->verdicts, n, w->now_ms);
	for (uint16_t k = 0; k < n; k++) {
		const struct sg_ct_verdict *v = &w->verdicts[k];
		enum sg_drop_reason reason = verdict_reason(v);
		bool reply = v->dir == SG_CT_DIR_REPLY;

		if (v->result == SG_CT_RELATED && icmp_error_forged(gen, in, &w->meta[k], v->conn))
			reason = SG_DROP_CT_NOT_NEW;
		if (reason != SG_DROP_NONE) {
			dp_drop(w, gen, in, k, reason);
			continue;
		}
		if (v->result == SG_CT_NEW) {
			add_check(w, &n_cl, k, in, w->dst[k], false, DP_CHECK_NEW, NULL);
			continue;
		}
		if (v->result == SG_CT_REPLY && sg_ct_conn_is_pickup(v->conn)) {
			/*
			 * D10: the first reply of a mid-stream pickup is checked as part of the
			 * connection the pickup admitted, i.e. in its original direction (the
			 * replier is the receiver), never as a new connection from the replier:
			 * that would refuse every answer of a connection the policy allows one
			 * way only (web -> db:5432, the seed's), so a restart of sgfw would cut it.
			 */
			add_check(w, &n_cl, k, w->dst[k], in, true, DP_CHECK_PICKUP, v->conn);
			continue;
		}
		if (v->result != SG_CT_RELATED && recheck &&
				unlikely(sg_ct_conn_epoch(v->conn) <
						SG_MAX(gen->vports[in].changed_epoch,
								gen->vports[w->dst[k]].changed_epoch))) {
			/* Classify the original direction: a reply is seen from the other side. */
			if (reply)
				add_check(w, &n_cl, k, w->dst[k], in, true, DP_CHECK_RECHECK, v->conn);
			else
				add_check(w, &n_cl, k, in, w->dst[k], false, DP_CHECK_RECHECK, v->conn);
			continue;
		}
		w->fwd[n_fwd++] = k;
	}
	if (n_cl == 0)
		return n_fwd;
	dp_classify_checks(w, gen, n_cl);
	for (uint16_t c = 0; c < n_cl; c++)
		if (finish_check(w, gen, in, &w->cl[c]))
			w->fwd[n_fwd++] = w->cl[c].pkt;
	return n_fwd;
}

void
dp_housekeeping(struct dp_worker *w, const struct dp_gen *gen)
{
	(void)gen;
	if (w->dp->params.ct != NULL)
		sg_ct_expire(w->dp->params.ct, w->id, EXPIRY_BUDGET, w->now_ms);
}
