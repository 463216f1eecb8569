/* SPDX-License-Identifier: BSD-3-Clause */
/* A worker's scratch state and the stages shared by the forwarding engines. */
#ifndef SG_DP_WORKER_H
#define SG_DP_WORKER_H

#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "dp_frag.h"
#include <rte_branch_prediction.h>
#include <rte_cycles.h>

#include "dp_private.h"
#include "sg_ct.h"
#include "sg_flowlog.h"

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

/* The owner of one address, looked up once per burst (dp_worker.c, owner_of()). */
struct dp_addr_cache {
	bool valid;
	struct sg_ip ip;
	const struct dp_map_slot *owner;
};

/*
 * The configured subnets of one generation, as the per-packet membership test reads them
 * (dp_admit.c, in_any_subnet()): network and mask per family, in host order, so a test is a
 * load, an AND and a compare per subnet instead of sg_prefix decoding. Filled when a worker
 * first admits a burst of a generation (keyed by its epoch, unique per generation); only
 * used up to DP_SUBNETS_LINEAR subnets, beyond that the generation's map answers.
 */
struct dp_subnet_cache {
	uint32_t epoch;                      /* Generation it was filled from; 0: never. */
	uint8_t n4;
	uint8_t n6;
	uint32_t net4[DP_SUBNETS_LINEAR];
	uint32_t mask4[DP_SUBNETS_LINEAR];
	uint64_t net6[DP_SUBNETS_LINEAR][2];
	uint64_t mask6[DP_SUBNETS_LINEAR][2];
};

struct dp_worker;

/*
 * A forwarding engine (testpmd's fwd_engine): either 'burst' takes a received burst whole (io),
 * or admission runs first and 'stage' decides the admitted packets w->pkts[0..n), returning
 * how many are listed in w->fwd to send.
 */
struct dp_engine {
	const char *name;
	void (*burst)(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n);
	uint16_t (*stage)(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n);
};

/* dp_engine.c: by enum sg_dp_engine. */
extern const struct dp_engine dp_engines[SG_DP_ENGINE_COUNT];

union dp_key {
	struct sg_acl_key4 k4;
	struct sg_acl_key6 k6;
};

struct __rte_cache_aligned dp_worker {
	struct sg_dp *dp;
	const struct dp_engine *engine;
	uint16_t id;
	bool timed;                          /* params.stage_cycles */
	uint64_t tsc_per_ms;
	uint64_t now_ms;
	uint64_t loops;                      /* Housekeeping schedule. */
	uint64_t stage_cycles[SG_DP_STAGE_COUNT];
	uint64_t timed_packets;
	uint64_t timed_bursts;
	/* Poll-mode counters (sg_dp_worker_stats()), written by this worker only. */
	uint64_t polls;
	uint64_t busy_polls;
	uint64_t poll_packets;
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	uint64_t sleeps;
	uint64_t sleep_cycles;
	uint32_t empty_polls;                /* Polls in a row that received nothing. */
	uint32_t rest_us;                    /* The last sleep's length, 0 while busy. */

	struct rte_mbuf *pkts[SG_DP_MAX_BURST];
	struct sg_pkt_meta meta[SG_DP_MAX_BURST];
	uint16_t dst[SG_DP_MAX_BURST];       /* Destination vport, by burst index. */
	bool routed[SG_DP_MAX_BURST];
	/* The overlay: the remote port a packet for the uplink goes to (DP_NO_REMOTE: the
	 * outside, plain) and the VNI it travels in, by burst index. */
	uint32_t remote[SG_DP_MAX_BURST];
	uint32_t vni[SG_DP_MAX_BURST];
	/* Decapsulated from another host: its source is a VM there, not a router. */
	bool decap[SG_DP_MAX_BURST];
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
	struct sg_ct_path paths[SG_DP_MAX_BURST];       /* fw engine: ports each packet goes between. */

	/* Fragments (dp_frag.c). */
	struct dp_frag_table *frags;
	uint8_t why[SG_DP_MAX_BURST];        /* Drop reason by burst index (first fragments). */
	uint32_t frag_slot[SG_DP_MAX_BURST]; /* First fragments: their datagram's entry. */
	uint16_t n_first;                    /* First fragments in the admitted burst. */
	uint16_t n_lf;
	struct dp_frag_pkt lf[SG_DP_MAX_BURST]; /* Later fragments, set aside at admission. */
	/* Flow logs (NULL ring: off). Events of a burst are staged here and enqueued once. */
	struct rte_ring *fl_ring;
	uint16_t n_fl;
	uint16_t fl_in;                      /* vport of the burst: whose budget events use */
	uint64_t fl_events;                  /* Enqueued; written by this worker only. */
	uint64_t fl_lost;                    /* Events lost (budget or full ring). */
	/* Records lost by port id (both ports of each lost event), for the writer's SKIPDATA
	 * lines; SG_FLOWLOG_MAX_PORT_IDS entries while flow logs are on. */
	uint64_t *fl_port_lost;
	struct sg_flowlog_event fl_stage[SG_DP_MAX_BURST];
	uint16_t fl_stage_vports[SG_DP_MAX_BURST][2]; /* sender and receiver of each event */
	/* The last lookups of the current burst (admission and resolve()). */
	bool last_mac_valid;
	uint8_t last_mac[6];
	uint16_t last_mac_dst;
	struct dp_addr_cache src_cache;
	struct dp_addr_cache dst_cache;
	struct dp_subnet_cache subnets;
};

/*
 * Stage timing, a lap timer: t = dp_lap_start(w); ...; t = dp_lap(w, STAGE, t); ...
 * When timing is off both return 0 after one well-predicted branch.
 */
static inline uint64_t
dp_lap_start(const struct dp_worker *w)
{
	return unlikely(w->timed) ? rte_rdtsc() : 0;
}

static inline uint64_t
dp_lap(struct dp_worker *w, enum sg_dp_stage stage, uint64_t since)
{
	uint64_t now;

	if (likely(!w->timed))
		return 0;
	now = rte_rdtsc();
	w->stage_cycles[stage] += now - since;
	return now;
}

/* One loop of sg_dp_worker_main: 'got' packets received, 'cycles' spent. */
static inline void
dp_poll_count(struct dp_worker *w, uint32_t got, uint64_t cycles)
{
	w->polls++;
	if (got != 0) {
		w->busy_polls++;
		w->poll_packets += got;
		w->busy_cycles += cycles;
	} else {
		w->idle_cycles += cycles;
	}
}

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
	w->why[i] = (uint8_t)reason;
	w->to_free[w->n_free++] = w->pkts[i];
}

/* The hop a routed packet spends (RFC 1624 incremental IPv4 checksum). */
static inline void
dp_route_hop(struct rte_mbuf *m, uint8_t l3, uint8_t l2_len)
{
	if (l3 == SG_L3_IPV4) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l2_len);
		uint32_t sum = (uint32_t)rte_be_to_cpu_16(ip->hdr_checksum) + 0x0100;

		ip->time_to_live--;
		ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)(sum + (sum >> 16)));
	} else {
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, l2_len);

		ip->hop_limits--;
	}
}

/* Routing rewrites the MACs and spends one hop. */
static inline void
dp_route_rewrite(struct rte_mbuf *m, uint8_t l3, uint8_t l2_len, const uint8_t *src_mac,
		const uint8_t *dst_mac)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	memcpy(eth->src_addr.addr_bytes, src_mac, 6);
	memcpy(eth->dst_addr.addr_bytes, dst_mac, 6);
	dp_route_hop(m, l3, l2_len);
}

/* dp_admit.c: admission of the whole burst in w->pkts[0..n) from vport 'in' (parse, port
 * security, ARP/ND, destination). Survivors end up at w->pkts[0..kept); returns 'kept'. */
uint16_t dp_admit_burst(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n);

/* dp_tx.c */
/* Send 'n' packets out of vport 'out', counting them; frees what the device refuses. */
void dp_tx(struct dp_worker *w, const struct dp_gen *gen, uint16_t out, struct rte_mbuf **pkts,
		uint16_t n);
/* Send the packets listed in w->fwd[0..n) to their destinations, one tx burst per port. */
void dp_forward(struct dp_worker *w, const struct dp_gen *gen, uint16_t n);
/* The switch's answers of the burst, back out of port 'in'. */
void dp_send_replies(struct dp_worker *w, const struct dp_gen *gen, uint16_t in);

/* dp_frag.c */
struct dp_frag_table *dp_frag_table_create(void);
void dp_frag_table_free(struct dp_frag_table *t);
/*
 * Admission of fragment 'i' (parsed, port security passed, w->dst[i] resolved) from vport
 * 'in': attaches it to its datagram's entry ('*slot'). SG_DROP_NONE to go on; else drop it.
 */
enum sg_drop_reason dp_frag_admit(struct dp_worker *w, uint16_t in, uint16_t i, uint32_t *slot);
/*
 * After the engine stage: record the fate of the burst's first fragments (w->why), then
 * forward, drop or hold the later fragments set aside in w->lf and release the held ones
 * whose datagram is now decided.
 */
void dp_frag_finish(struct dp_worker *w, const struct dp_gen *gen, uint16_t n_kept);
/* Drop held fragments that waited too long for their first fragment. */
void dp_frag_expire(struct dp_worker *w, const struct dp_gen *gen);
/* Forget every datagram (their vports belong to an older generation). */
void dp_frag_flush(struct dp_worker *w, const struct dp_gen *gen);
/* Give a few expired entries back to their ports (housekeeping). */
void dp_frag_sweep(struct dp_worker *w);

/* Classify w->cl[0..n): fills each check's deciding positions. */
void dp_classify_checks(struct dp_worker *w, const struct dp_gen *gen, uint16_t n);
/* Verdict of a classified check, counting the deciding rules (accepting ones only with
 * 'count_accept'); SG_DROP_NONE accepts. */
enum sg_drop_reason dp_check_verdict(struct dp_worker *w, const struct dp_gen *gen,
		const struct dp_check *c, bool count_accept);
/* Count the rules that accepted check 'c' (a connection the fw engine created for it). */
void dp_check_count_accept(struct dp_worker *w, const struct dp_gen *gen, const struct dp_check *c);

/* Run one received burst (already in w->pkts) from vport 'in' through the engine. */
void dp_worker_process(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n);

/* fw engine (dp_fw.c): conntrack, classification on a miss, commit. Returns packets to send. */
uint16_t dp_stage_conntrack(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n);
/* fw engine: bounded background work (conntrack expiry). */
void dp_housekeeping(struct dp_worker *w, const struct dp_gen *gen);

/* Flow logs (dp_flowlog.c), called only when w->fl_ring is set. */
/* A check refused by either side: the packet as each side's rules saw it. */
void dp_fl_check(struct dp_worker *w, const struct dp_gen *gen, const struct dp_check *c);
/* TCP flags of an accepted packet, with each side's rule of its connection. */
void dp_fl_flags(struct dp_worker *w, const struct dp_gen *gen, uint16_t pkt, uint16_t sender,
		uint16_t receiver, uint32_t sender_rule, uint32_t receiver_rule, uint32_t epoch);
/* The same for a packet of a tracked connection (rules from its origin record). */
void dp_fl_conn_flags(struct dp_worker *w, const struct dp_gen *gen, uint16_t pkt, uint16_t in,
		const struct sg_ct_verdict *v);
/* Enqueue the staged events of the burst. */
void dp_fl_flush(struct dp_worker *w, const struct dp_gen *gen);

/* SYN, FIN or RST: the segments whose flags flow logs report. */
static inline bool
dp_fl_tcp_flagged(const struct sg_pkt_meta *md)
{
	return (md->tcp_flags & (SG_TCP_FIN | SG_TCP_SYN | SG_TCP_RST)) != 0;
}

#endif /* SG_DP_WORKER_H */
