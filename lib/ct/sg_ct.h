/* SPDX-License-Identifier: BSD-3-Clause */
/* Connection tracking for the datapath: a lock-free table of TCP, UDP, ICMP/ICMPv6 and generic
 * connections with netfilter's state machines, sized for ten million flows on every core.
 *
 * Usage
 * -----
 * The control thread fills a struct sg_ct_params (start from sg_ct_params_init()), calls
 * sg_ct_create() and hands the handle to every worker. Each worker, for each received burst:
 *
 *   1. sg_ct_process_burst(ct, worker, pkts, meta, paths, verdicts, n, now_ms): per packet,
 *      the connection it belongs to (if any), its direction and one of the results below.
 *      Packets of known connections update the connection's state here.
 *   2. For SG_CT_NEW packets the datapath evaluates the policy; for the accepted ones it calls
 *      sg_ct_commit(), which creates the entry (or finds the one another worker created a moment
 *      before) and stores the struct sg_ct_origin the datapath gives it.
 *   3. For SG_CT_ESTABLISHED/SG_CT_REPLY packets whose connection's policy epoch is stale, the
 *      datapath re-checks the original direction against the new policy (D9) and calls
 *      sg_ct_conn_set_epoch() or sg_ct_conn_set_blocked().
 *   4. Once per main-loop iteration: sg_ct_expire(ct, worker, budget, now_ms) (bounded work),
 *      then rte_rcu_qsbr_quiescent() on the QSBR variable with the worker's thread id.
 *
 * 'now' is a monotonic time in milliseconds supplied by the caller (tests use synthetic time).
 * All workers must use the same clock.
 *
 * Thread-safety
 * -------------
 * Functions taking 'worker' may run concurrently on different workers, each worker id used by
 * one thread at a time. Lookups are lock-free; the state of one connection is updated under a
 * one-byte spinlock in the entry, so both directions of a connection may arrive on different
 * workers at once. Inserts and deletes serialise on one table lock held for a few hundred
 * nanoseconds. The sg_ct_conn_*() accessors may be called by workers on connections returned
 * in a verdict of the current burst. Control functions (walk, counts, stats, set_timeout) may
 * run on any thread concurrently with the workers; sg_ct_create() and sg_ct_free() may not.
 *
 * Memory of deleted entries is reused only after every worker registered on the QSBR variable
 * has reported a quiescent state (rte_rcu_qsbr), so a connection pointer stays readable until
 * the worker that got it reports quiescence.
 *
 * Shutdown
 * --------
 * Stop the workers, then sg_ct_free(). Nothing is reported for the entries still present.
 */
#ifndef SG_CT_H
#define SG_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "sg_common.h"
#include "sg_pkt.h"
#include "sg_reasons.h"

/* ---- Timeouts ---- */

/**
 * X(NAME, "config key", default seconds). netfilter's defaults (nf_conntrack-sysctl), except
 * TCP established: 910 s, Alibaba's session life (D8). tcp_max_retrans applies after three
 * retransmissions without an acceptable ACK; tcp_unacknowledged while data is unacknowledged
 * and to a picked-up connection that has seen no reply. GRE uses the gre pair; every protocol
 * without a tracker of its own uses generic.
 */
#define SG_CT_TIMEOUTS                                                                             \
	X(TCP_SYN_SENT, "tcp_syn_sent", 120)                                                       \
	X(TCP_SYN_RECV, "tcp_syn_recv", 60)                                                        \
	X(TCP_ESTABLISHED, "tcp_established", 910)                                                 \
	X(TCP_FIN_WAIT, "tcp_fin_wait", 120)                                                       \
	X(TCP_CLOSE_WAIT, "tcp_close_wait", 60)                                                    \
	X(TCP_LAST_ACK, "tcp_last_ack", 30)                                                        \
	X(TCP_TIME_WAIT, "tcp_time_wait", 120)                                                     \
	X(TCP_CLOSE, "tcp_close", 10)                                                              \
	X(TCP_SYN_SENT2, "tcp_syn_sent2", 120)                                                     \
	X(TCP_MAX_RETRANS, "tcp_max_retrans", 300)                                                 \
	X(TCP_UNACK, "tcp_unacknowledged", 300)                                                    \
	X(UDP, "udp", 30)                                                                          \
	X(UDP_STREAM, "udp_stream", 120)                                                           \
	X(ICMP, "icmp", 30)                                                                        \
	X(ICMPV6, "icmpv6", 30)                                                                    \
	X(GRE, "gre", 30)                                                                          \
	X(GRE_STREAM, "gre_stream", 180)                                                           \
	X(GENERIC, "generic", 600)

enum sg_ct_timeout {
#define X(name, key, secs) SG_CT_TM_##name,
	SG_CT_TIMEOUTS
#undef X
	SG_CT_TM_COUNT
};

/** Largest timeout accepted, in seconds (entry deadlines are 32-bit milliseconds). */
#define SG_CT_TIMEOUT_MAX 1000000u

/** Default of each timeout in seconds. */
extern const uint32_t sg_ct_timeout_defaults[SG_CT_TM_COUNT];
/** Config key of a timeout ("tcp_established"), or "unknown". */
const char *sg_ct_timeout_name(enum sg_ct_timeout tm);
/** The timeout named 'key', or -1. */
int sg_ct_timeout_from_name(const char *key);

/* ---- Connection states (for dumps and counts) ---- */

/* X(NAME, "text"). TCP states are netfilter's (SYN_SENT2: simultaneous open). */
#define SG_CT_STATES                                                                               \
	X(TCP_NONE, "NONE")                                                                        \
	X(TCP_SYN_SENT, "SYN_SENT")                                                                \
	X(TCP_SYN_RECV, "SYN_RECV")                                                                \
	X(TCP_ESTABLISHED, "ESTABLISHED")                                                          \
	X(TCP_FIN_WAIT, "FIN_WAIT")                                                                \
	X(TCP_CLOSE_WAIT, "CLOSE_WAIT")                                                            \
	X(TCP_LAST_ACK, "LAST_ACK")                                                                \
	X(TCP_TIME_WAIT, "TIME_WAIT")                                                              \
	X(TCP_CLOSE, "CLOSE")                                                                      \
	X(TCP_SYN_SENT2, "SYN_SENT2")                                                              \
	X(UNREPLIED, "UNREPLIED")                                                                  \
	X(REPLIED, "REPLIED")                                                                      \
	X(ASSURED, "ASSURED")

enum sg_ct_state {
#define X(name, text) SG_CT_ST_##name,
	SG_CT_STATES
#undef X
	SG_CT_ST_COUNT
};

const char *sg_ct_state_name(enum sg_ct_state st);

/* ---- Creation ---- */

struct sg_ct_params {
	uint32_t capacity;   /**< Most connections at once (IPv4 and IPv6 together). */
	uint16_t n_workers;  /**< Data-path threads, ids 0..n_workers-1 (at most 255). */
	uint32_t timeouts[SG_CT_TM_COUNT]; /**< Seconds, 1..SG_CT_TIMEOUT_MAX. */
	bool tcp_be_liberal; /**< Only out-of-window RSTs are invalid (nf_conntrack_tcp_be_liberal). */
	bool tcp_loose;      /**< Pick up connections mid-stream (D10; default on). */
	int socket_id;       /**< NUMA node for the tables, or SOCKET_ID_ANY (-1). */
	/**
	 * QSBR variable the workers report on, thread id == worker id; NULL to let the tracker
	 * allocate one for n_workers threads (get it with sg_ct_qsbr() and register the workers).
	 */
	struct rte_rcu_qsbr *qsbr;
	/**
	 * Records per worker in the ring of closed connections (rounded up to a power of two), or
	 * 0 for none (the default). When set, every connection the tracker deletes (expired,
	 * evicted, or replaced by a new connection on its tuple) is reported there with its final
	 * counters, for flow logs (sg_ct_closed_drain()). A full ring loses the record (counted
	 * in closed_lost); it never delays a worker.
	 */
	uint32_t closed_ring_size;
	/**
	 * 0 (the default): the bucket hash's secret comes from the kernel's random source, so
	 * no one can prepare tuples that collide. Otherwise the secret is derived from this
	 * seed: reproducible tables for tests and benchmarks only.
	 */
	uint64_t hash_seed;
	/**
	 * Percent of the table (0..50) kept for ports under their fair share: a port holding at
	 * least its share (the capacity divided among the ports holding entries, and at least
	 * two) finds the table full that much sooner. 0: no reserve. Default
	 * SG_CT_SHARE_RESERVE_DEFAULT.
	 */
	uint8_t share_reserve;
	/**
	 * Bytes of each entry pool kept committed ahead of the entries handed out so far, by a
	 * thread of the tracker's own (created on the calling thread's CPUs, so the control
	 * core's, not a worker's): the kernel's page faults and page clearing for connection
	 * memory then happen there, not inside a worker's burst. The bucket array and the first
	 * 'populate_ahead' bytes of each pool are committed before sg_ct_create() returns. 0:
	 * no thread, memory is committed by the workers' first touch. Default
	 * SG_CT_POPULATE_AHEAD_DEFAULT.
	 */
	size_t populate_ahead;
};

#define SG_CT_SHARE_RESERVE_DEFAULT 12
/* 32 MiB: 300,000 IPv4 connections; the thread looks at least every 64 ms. */
#define SG_CT_POPULATE_AHEAD_DEFAULT ((size_t)32 << 20)

/** Fill 'p' with the defaults: D7-D13 timeouts, strict windows, loose pickup on, a reserve
 * of SG_CT_SHARE_RESERVE_DEFAULT percent, SG_CT_POPULATE_AHEAD_DEFAULT bytes committed ahead. */
void sg_ct_params_init(struct sg_ct_params *p);

/** Opaque tracker. */
struct sg_ct;
/** Opaque connection; valid until the worker that got it reports quiescence. */
struct sg_conn;

/**
 * Create a tracker. Large arrays are mapped lazily: memory is committed as entries are used.
 * Returns NULL with errno set: EINVAL for bad parameters, ENOMEM.
 * Not multi-thread safe.
 */
struct sg_ct *sg_ct_create(const struct sg_ct_params *p);
/** Free a tracker; NULL is a no-op. Workers must have stopped. */
void sg_ct_free(struct sg_ct *ct);
/** The QSBR variable reclamation waits on. */
struct rte_rcu_qsbr *sg_ct_qsbr(const struct sg_ct *ct);

/** Change a timeout at run time (applies from each connection's next packet). 0 or -EINVAL. */
int sg_ct_set_timeout(struct sg_ct *ct, enum sg_ct_timeout tm, uint32_t seconds);
uint32_t sg_ct_get_timeout(const struct sg_ct *ct, enum sg_ct_timeout tm);
void sg_ct_set_tcp_be_liberal(struct sg_ct *ct, bool on);
void sg_ct_set_tcp_loose(struct sg_ct *ct, bool on);

/** The share reserve in percent of the capacity (sg_ct_params.share_reserve), at run time. */
void sg_ct_set_share_reserve(struct sg_ct *ct, unsigned int percent);

/* ---- Data path ---- */

enum sg_ct_dir {
	SG_CT_DIR_ORIG = 0,  /**< Same direction as the packet that created the entry. */
	SG_CT_DIR_REPLY = 1,
};

/* X(NAME, "text") */
#define SG_CT_RESULTS                                                                              \
	X(NEW, "no entry; the packet may start a connection (commit it if the policy accepts)")    \
	X(ESTABLISHED, "valid packet of a tracked connection, original direction")                 \
	X(REPLY, "valid packet of a tracked connection, reply direction")                          \
	X(RELATED, "ICMP error about a tracked connection")                                        \
	X(INVALID, "not valid for its connection or malformed; drop with 'reason'")                \
	X(NOT_NEW, "no entry and cannot start one; drop with SG_DROP_CT_NOT_NEW")                  \
	X(BLOCKED, "connection blocked by a policy change; drop with SG_DROP_CT_BLOCKED")

enum sg_ct_result {
#define X(name, text) SG_CT_##name,
	SG_CT_RESULTS
#undef X
	SG_CT_RESULT_COUNT
};

const char *sg_ct_result_name(enum sg_ct_result r);

/** Verdict flag: the connection was picked up mid-stream and is not confirmed (D10). */
#define SG_CT_VF_PICKUP 0x01
/** Verdict flag: the connection's first packet in this direction (reply seen now). */
#define SG_CT_VF_FIRST_REPLY 0x02

/** What the tracker says about one packet. */
struct sg_ct_verdict {
	struct sg_conn *conn; /**< Entry (also for RELATED and BLOCKED), or NULL. */
	uint8_t result;       /**< enum sg_ct_result. */
	uint8_t dir;          /**< enum sg_ct_dir of the packet relative to 'conn'. */
	uint8_t reason;       /**< enum sg_drop_reason for INVALID/NOT_NEW/BLOCKED, else NONE. */
	uint8_t flags;        /**< SG_CT_VF_*. */
	/** For ESTABLISHED and REPLY: the policy epoch the connection was last checked under
	 * (sg_ct_conn_epoch()), read with the entry the packet already touched. */
	uint32_t epoch;
};

/** The ports a packet goes between, as the datapath resolved them (struct sg_ct_origin ids). */
struct sg_ct_path {
	uint16_t in_port;
	uint16_t out_port;
};

/**
 * Look up 'n' (<= 64 recommended) parsed packets from worker 'worker' at time 'now' (ms) and
 * update the connections they belong to. With 'paths' (one per packet, or NULL for no check),
 * a packet of a connection must travel between the connection's two ports, in its direction
 * (ESTABLISHED: origin in_port to out_port; REPLY and RELATED errors the other way); one that
 * does not gets SG_CT_INVALID with SG_DROP_CT_WRONG_PATH and leaves the connection untouched,
 * so a tracked 5-tuple cannot carry a packet to a third port. 'pkts' may be NULL or hold NULL
 * entries (then TCP options and ICMP error payloads are not read: no window scaling, no
 * RELATED). Packets must be well formed IPv4/IPv6 with meta->reason == SG_DROP_NONE and not
 * non-first fragments; others get SG_CT_INVALID with their reason.
 * Returns the number of packets that belong to a connection (conn != NULL).
 */
uint16_t sg_ct_process_burst(struct sg_ct *ct, unsigned int worker, struct rte_mbuf **pkts,
		const struct sg_pkt_meta *meta, const struct sg_ct_path *paths,
		struct sg_ct_verdict *verdicts, uint16_t n, uint64_t now);

/** Ports (origin.in_port values) whose live connections are counted. */
#define SG_CT_MAX_PORTS 4096
/** The port of a connection whose port went away (sg_ct_forget_port). */
#define SG_CT_NO_PORT UINT16_MAX

/**
 * Port 'port' is gone (control thread, once no worker can send packets from or to it): its
 * connections stop counting against it and match no packet any more, so its id can serve a
 * new port at once. A later packet of such a flow is a new connection (picked up mid-stream
 * when tcp_loose): a VM whose port is removed and added again keeps its connections where the
 * policy still allows them. The old entries are replaced by their successors or age out.
 * Returns the number of connections forgotten.
 */
uint64_t sg_ct_forget_port(struct sg_ct *ct, uint16_t port);

/**
 * Live connections opened from port 'port' (the origin's in_port), for per-port limits. Read
 * without a lock: a count a few inserts behind at worst.
 */
uint32_t sg_ct_port_connections(const struct sg_ct *ct, uint16_t port);

/** What the datapath remembers about the policy that admitted a connection. */
struct sg_ct_origin {
	uint16_t in_port;       /**< Port the first packet came from. */
	uint16_t out_port;      /**< Port it went to. */
	uint32_t egress_rule;   /**< Rule of the sender's egress policy that accepted it. */
	uint32_t ingress_rule;  /**< Rule of the receiver's ingress policy that accepted it. */
	uint32_t policy_epoch;  /**< Policy epoch it was admitted under (D9). */
};

/**
 * Create the entry for a packet that got SG_CT_NEW and that the policy accepted, and run the
 * packet through it. On success 'v' is filled as for an accepted first packet (conn set,
 * result NEW, dir ORIG). Returns:
 *   0        created;
 *   -EEXIST  another worker created it first: 'v' is the verdict against that entry;
 *   -ENOSPC  table full and nothing could be early-dropped (counted; drop the packet with
 *            SG_DROP_CT_TABLE_FULL);
 *   -EINVAL  the packet cannot start a connection ('v' says why).
 */
int sg_ct_commit(struct sg_ct *ct, unsigned int worker, struct rte_mbuf *m,
		const struct sg_pkt_meta *meta, const struct sg_ct_origin *origin, uint64_t now,
		struct sg_ct_verdict *v);

/* Accessors for a connection from a verdict of the current burst. */

/** The origin record given at commit (policy_epoch as last set). */
void sg_ct_conn_origin(const struct sg_conn *c, struct sg_ct_origin *origin);
uint32_t sg_ct_conn_epoch(const struct sg_conn *c);
/** Record that the connection was re-checked against policy epoch 'epoch' and still allowed. */
void sg_ct_conn_set_epoch(struct sg_conn *c, uint32_t epoch);
/**
 * As sg_ct_conn_set_epoch(), also replacing the rules of the origin record with those of the
 * new policy that accepted it, so the rule ids always belong to the origin's epoch (flow logs
 * name them).
 */
void sg_ct_conn_set_rules(struct sg_conn *c, uint32_t epoch, uint32_t egress_rule,
		uint32_t ingress_rule);
/**
 * Block (D9) or unblock a connection. A blocked connection's packets, both ways, get
 * SG_CT_BLOCKED and refresh nothing: the entry expires by its current deadline.
 */
void sg_ct_conn_set_blocked(struct sg_conn *c, bool blocked);
bool sg_ct_conn_blocked(const struct sg_conn *c);
/**
 * True while a connection picked up mid-stream (D10) has not been confirmed: the datapath
 * treats a reply-direction packet of such a connection as new in its direction, checks the
 * policy and, if accepted, calls sg_ct_conn_confirm().
 */
bool sg_ct_conn_is_pickup(const struct sg_conn *c);
void sg_ct_conn_confirm(struct sg_conn *c);

/** A connection's original-direction 5-tuple. For ICMP queries sport is the identifier and
 * dport the request type. */
struct sg_ct_tuple {
	struct sg_ip src;
	struct sg_ip dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
};
void sg_ct_conn_tuple(const struct sg_conn *c, struct sg_ct_tuple *t);
/**
 * The first of the two buckets the tuple's connection may sit in (either direction gives
 * the same), out of 'n_buckets': what the table's secret makes of a tuple. For benchmarks and
 * tests that build colliding keys; the fast path never calls it.
 */
uint32_t sg_ct_tuple_bucket(const struct sg_ct *ct, const struct sg_ct_tuple *t,
		uint32_t *n_buckets);
enum sg_ct_state sg_ct_conn_state(const struct sg_conn *c);

/**
 * Expire entries of 'worker' whose timeout passed and reclaim memory whose grace period
 * ended, examining at most 'budget' entries. Lookups already treat an expired entry as absent,
 * so this only bounds memory. Returns the number of entries deleted.
 */
unsigned int sg_ct_expire(struct sg_ct *ct, unsigned int worker, unsigned int budget,
		uint64_t now);

/* ---- Control path ---- */

/** Full details of one connection (a snapshot taken under its lock). */
struct sg_ct_conn_info {
	struct sg_ct_tuple tuple;      /**< Original direction. */
	uint8_t state;                 /**< enum sg_ct_state. */
	bool seen_reply;
	bool assured;
	bool blocked;
	bool pickup;
	uint16_t owner;                /**< Worker that ages it. */
	int64_t expires_ms;            /**< Time left at 'now' (negative: expired, not yet swept). */
	struct sg_ct_origin origin;
	uint64_t packets[2];           /**< Per enum sg_ct_dir; 32-bit on the entry, wraps. */
	uint64_t bytes[2];             /**< IP bytes per enum sg_ct_dir. */
};

/** Which connections a walk reports; zero-filled matches everything. */
struct sg_ct_filter {
	bool by_port;
	uint16_t port;        /**< origin in_port or out_port. */
	struct sg_ip addr;    /**< Either endpoint; family 0 = any. */
	uint8_t proto;        /**< 0 = any. */
	bool by_state;
	uint8_t state;        /**< enum sg_ct_state. */
};

/** Return non-zero to stop the walk. */
typedef int (*sg_ct_walk_cb)(const struct sg_ct_conn_info *info, void *arg);

/**
 * Report every live, unexpired connection matching 'f' (NULL = all) to 'cb'. Runs concurrently
 * with the workers; an entry changing during the walk is reported once, as it was when read.
 * Cost is proportional to the entries ever used, so it is for the control path only.
 * Returns the number reported.
 */
uint64_t sg_ct_walk(struct sg_ct *ct, const struct sg_ct_filter *f, uint64_t now,
		sg_ct_walk_cb cb, void *arg);

/** A connection the tracker deleted, as it was at the end (params.closed_ring_size). */
struct sg_ct_closed {
	struct sg_ct_tuple tuple;      /**< Original direction. */
	struct sg_ct_origin origin;
	uint32_t packets[2];           /**< Per enum sg_ct_dir; 32-bit, wraps. */
	uint64_t bytes[2];             /**< IP bytes per enum sg_ct_dir. */
};

/**
 * Take up to 'n' records of connections deleted by worker 'worker' (the worker whose sweep,
 * eviction or commit deleted them), oldest first. Returns the number taken. Any one thread
 * may drain a worker's ring (one consumer per ring), concurrently with the workers.
 */
unsigned int sg_ct_closed_drain(struct sg_ct *ct, unsigned int worker, struct sg_ct_closed *out,
		unsigned int n);
/** Closed-connection records lost to a full ring that concerned 'port' (either end). */
uint64_t sg_ct_closed_lost_port(const struct sg_ct *ct, uint16_t port);

/** Count live, unexpired connections by state into counts[SG_CT_ST_COUNT]. */
void sg_ct_count_by_state(struct sg_ct *ct, uint64_t now, uint64_t counts[SG_CT_ST_COUNT]);

struct sg_ct_stats {
	uint64_t entries;       /**< In the table, including expired ones not yet swept. */
	uint64_t capacity;
	uint64_t inserts;
	uint64_t insert_races;  /**< Commits that found another worker's entry. */
	uint64_t early_drops;
	uint64_t share_refused; /**< New connections refused: table nearly full, port over its share. */
	uint64_t table_full;    /**< New connections dropped because the table was full. */
	uint64_t expired;       /**< Entries deleted by the expiry sweep. */
	uint64_t closed_lost;   /**< Closed-connection records lost to a full ring. */
	/** Bytes of the entry pools (IPv4, IPv6) committed ahead of use so far (populate_ahead);
	 * after the populating thread stopped on an error, what it reached. */
	uint64_t populated[2];
	int populate_error;     /**< 0, or the errno that stopped the populating thread. */
	uint64_t results[SG_CT_RESULT_COUNT];
	uint64_t invalid[SG_DROP_COUNT]; /**< INVALID results by reason. */
};

/** Sum the per-worker counters. May be called while workers run (values are a snapshot). */
void sg_ct_stats_get(const struct sg_ct *ct, struct sg_ct_stats *st);

/**
 * Measured memory per connection of 'family' (SG_AF_INET or SG_AF_INET6) at full capacity:
 * the entry, which serves both directions, plus its share of the hash table.
 */
double sg_ct_bytes_per_conn(const struct sg_ct *ct, int family);

/** Print stats and table geometry to 'f'. */
void sg_ct_dump(const struct sg_ct *ct, FILE *f);

#endif /* SG_CT_H */
