/* A worker's scratch state and the stages shared by the forwarding engines. */
#ifndef SG_DP_WORKER_H
#define SG_DP_WORKER_H

#include "dp_private.h"
#include "sg_ct.h"

/* What admission decided for one packet. */
enum dp_admit {
	DP_ADMIT_FORWARD = 0, /* continue to conntrack / classification */
	DP_ADMIT_DROP,        /* drop with a reason */
	DP_ADMIT_REPLY,       /* rewritten into an answer for the port it came from */
	DP_ADMIT_ABSORB,      /* platform traffic the switch consumes (ND, MLD, ARP replies) */
};

/* A packet to classify: sender's egress and receiver's ingress (D3: both must accept). */
struct dp_check {
	uint16_t pkt;                 /* Index in the burst. */
	uint16_t sender;              /* vport whose egress rules apply. */
	uint16_t receiver;            /* vport whose ingress rules apply. */
	bool swapped;                 /* The packet is a reply: classify its original direction. */
	uint8_t kind;                 /* fw engine: enum dp_check_kind. */
	uint32_t pos[SG_DIR_COUNT];   /* Deciding positions; 0 when that side has no policy. */
	struct sg_conn *conn;         /* fw engine: the tracked connection concerned. */
};

/* Why the fw engine classifies a packet. */
enum dp_check_kind {
	DP_CHECK_NEW = 0,   /* no connection: commit one if accepted */
	DP_CHECK_RECHECK,   /* the policy changed since the connection was admitted (D9) */
	DP_CHECK_PICKUP,    /* first reply of a mid-stream pickup: its connection, checked (D10) */
};

union dp_key {
	struct sg_acl_key4 k4;
	struct sg_acl_key6 k6;
};

struct __rte_cache_aligned dp_worker {
	struct sg_dp *dp;
	uint16_t id;
	uint64_t tsc_per_ms;
	uint64_t now_ms;

	struct rte_mbuf *pkts[SG_DP_MAX_BURST];
	struct sg_pkt_meta meta[SG_DP_MAX_BURST];
	uint16_t dst[SG_DP_MAX_BURST];       /* Destination vport, by burst index. */
	bool routed[SG_DP_MAX_BURST];
	uint16_t fwd[SG_DP_MAX_BURST];       /* Packets to forward. */
	struct dp_check cl[SG_DP_MAX_BURST];
	union dp_key keys[SG_DP_MAX_BURST];
	const uint8_t *key_ptrs[SG_DP_MAX_BURST];
	uint32_t results[SG_DP_MAX_BURST];
	struct rte_mbuf *tx[SG_DP_MAX_BURST];
	struct rte_mbuf *replies[SG_DP_MAX_BURST];
	uint16_t n_replies;
	struct rte_mbuf *to_free[SG_DP_MAX_BURST];
	uint16_t n_free;
	struct sg_ct_verdict verdicts[SG_DP_MAX_BURST]; /* fw engine: conntrack results. */
};

static inline struct dp_port_counters *
dp_counters(const struct dp_gen *gen, uint16_t vport, uint16_t worker)
{
	return &gen->vports[vport].port->counters[worker];
}

/* Drop packet 'i' of the burst for 'reason', counted on the port it came in on. */
static inline void
dp_drop(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t i,
		enum sg_drop_reason reason)
{
	dp_counters(gen, in, w->id)->drops[reason]++;
	w->to_free[w->n_free++] = w->pkts[i];
}

/* Classify w->cl[0..n): fills each check's deciding positions. */
void dp_classify_checks(struct dp_worker *w, const struct dp_gen *gen, uint16_t n);
/* Verdict of a classified check, counting the deciding rules; SG_DROP_NONE accepts. */
enum sg_drop_reason dp_check_verdict(struct dp_worker *w, const struct dp_gen *gen,
		const struct dp_check *c);

/* Run one received burst (already in w->pkts) from vport 'in' through the engine. */
void dp_worker_process(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n);

/* fw engine (dp_fw.c): conntrack, classification on a miss, commit. Returns packets to send. */
uint16_t dp_stage_conntrack(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n);
/* fw engine: bounded background work (conntrack expiry). */
void dp_housekeeping(struct dp_worker *w, const struct dp_gen *gen);

#endif /* SG_DP_WORKER_H */
