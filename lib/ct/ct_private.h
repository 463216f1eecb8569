/* SPDX-License-Identifier: BSD-3-Clause */
/* Connection tracker internals: entry layout, hash table, per-worker expiry state and the
 * per-protocol ops table. Lock order (never take an earlier one while holding a later one):
 *   1. ct->table_lock   2. worker->wheel_lock   3. conn->lock
 *
 * Layers: each file calls only the ones below it (and the headers), never one beside or
 * above it, so each can be read with only what is under it at hand.
 *   4. ct.c       life cycle, the burst lookup and update, commit, ICMP errors, accessors
 *      ct_dump.c  walks, counts by state, statistics (control path; ct.c does not call it)
 *   3. ct_expire.c  timer wheels, deletion, RCU limbo, closed ring, early drop
 *   2. ct_table.c   cuckoo table writers, entry pools and id caches, an entry's key and tuple
 *   1. ct_tcp.c, ct_udp.c, ct_icmp.c, ct_other.c  per-protocol ops (peers: none calls another)
 *      ct_timeout.c  names and default timeouts
 *   0. headers: this one (layout, entry helpers, protocol dispatch, the lower files'
 *      functions), ct_lookup.h (hash and lock-free lookup), ct_tcp.h (TCP window tracking,
 *      one always-inline body for ct_tcp.c and the burst loop's fast path)
 */
#ifndef CT_PRIVATE_H
#define CT_PRIVATE_H

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include <rte_common.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "sg_ct.h"
#include "sg_hash.h"

/* ---- Entries ---- */

/* Connection ids: pool index, bit 30 set for the IPv6 pool; 0 means "no entry". */
#define CT_ID_V6 (1u << 30)
#define CT_ID_INDEX(id) ((id) & (CT_ID_V6 - 1))
#define CT_ID_NIL 0
/* wheel_prev of the first entry of a list: the list head's number with this bit. */
#define CT_ID_HEAD (1u << 31)

/* conn->flags */
#define CT_F_VALID 0x01      /* Allocated and initialised. */
#define CT_F_DEAD 0x02       /* Deleted: lookups ignore it; its killer frees it. */
#define CT_F_SEEN_REPLY 0x04 /* A valid reply-direction packet was seen. */
#define CT_F_ASSURED 0x08    /* Not early-droppable. */
#define CT_F_BLOCKED 0x10    /* D9: policy no longer allows it. */
#define CT_F_PICKUP 0x20     /* D10: picked up mid-stream, not confirmed. */
#define CT_F_ORIG_LO 0x40    /* The original direction goes from key endpoint 0 to 1. */
#define CT_F_V6 0x80

/* TCP per-direction flags, as netfilter's IP_CT_TCP_FLAG_*. */
#define CT_TCP_F_WINDOW_SCALE 0x01
#define CT_TCP_F_SACK_PERM 0x02
#define CT_TCP_F_CLOSE_INIT 0x04
#define CT_TCP_F_BE_LIBERAL 0x08
#define CT_TCP_F_DATA_UNACK 0x10
#define CT_TCP_F_MAXACK_SET 0x20

/* In pflags[SG_CT_DIR_ORIG] only: the reply side sent a SYN of its own (SYN_SENT2), so its ACK in
 * SYN_RECV completes a simultaneous open (netfilter's IP_CT_TCP_SIMULTANEOUS_OPEN). */
#define CT_TCP_F_SIMUL_OPEN 0x40

/* ct_tcp.last: the class of the last segment that moved the state or was ignored, a flag and
 * its direction in the top bit. */
#define CT_TCP_LAST_INDEX 0x07
/* That segment was a SYN ignored in SYN_SENT for being below the current one: a SYN-ACK that
 * acknowledges it re-synchronises the connection from it. */
#define CT_TCP_LAST_REINIT 0x20
/* That segment was a SYN ignored in LAST_ACK: the peer may answer it with an RFC 5961 challenge
 * ACK, which must not count as the last ACK (netfilter's IP_CT_EXP_CHALLENGE_ACK). */
#define CT_TCP_LAST_CHALLENGE 0x40
#define CT_TCP_LAST_DIR_SHIFT 7

/* TCP segment classes (rows of the state table). */
enum ct_tcp_index {
	CT_TCP_SYN_SET,
	CT_TCP_SYNACK_SET,
	CT_TCP_FIN_SET,
	CT_TCP_ACK_SET,
	CT_TCP_RST_SET,
	CT_TCP_NONE_SET,
	CT_TCP_INDEX_COUNT,
};

/* TCP window tracking, netfilter's struct ip_ct_tcp squeezed to 44 bytes: per direction
 * td_end (highest seq + len sent), td_maxend (highest ack + window seen from the peer),
 * td_maxwin (largest window), td_maxack (highest ack sent). */
struct ct_tcp {
	uint32_t td_end[2];
	uint32_t td_maxend[2];
	uint32_t td_maxwin[2];
	uint32_t td_maxack[2];
	uint32_t last_end;    /* seq + len of the last in-window or ignored segment; for an ACK
			       * ignored in SYN_SENT, its ack (a possible challenge ACK). */
	uint8_t td_scale[2];
	uint8_t pflags[2];    /* CT_TCP_F_* per direction. */
	uint8_t state;        /* enum sg_ct_state, TCP_* values. */
	uint8_t last;         /* Last segment: index | CT_TCP_LAST_* flags | dir << 7. */
	uint8_t retrans;      /* Consecutive retransmissions seen. */
	uint8_t last_fp;      /* Fingerprint of seq/ack/win of the last ACK, for retrans. */
};

struct ct_udp {
	uint32_t stream_ts;   /* ms: a reply-direction packet after this makes it a stream. */
};

union ct_l4 {
	struct ct_tcp tcp;
	struct ct_udp udp;
};

/* 8-byte counters at 4-byte alignment: the body starts at offset 20 (IPv4) or 44 (IPv6). */
typedef uint64_t ct_u64_a4 __attribute__((aligned(4)));

/* Header shared by both families: what a lookup reads first. */
struct sg_conn {
	uint8_t lock;         /* Per-entry spinlock: guards all mutable fields below. */
	uint8_t flags;        /* CT_F_*; written under 'lock', read lock-free. */
	uint8_t proto;        /* Immutable. */
	uint8_t owner;        /* Immutable: worker whose wheel ages it. */
	uint32_t deadline;    /* ms, wrapping: expired once now - deadline >= 0. */
	uint16_t port[2];     /* Immutable canonical key: ports of endpoints 0 and 1. */
};

/* Everything after the addresses. */
struct ct_body {
	uint32_t wheel_next;  /* Owner's wheel list links (ids), guarded by its wheel lock. */
	uint32_t wheel_prev;
	struct sg_ct_origin origin;
	uint32_t pkts[2];     /* Per enum sg_ct_dir. */
	union ct_l4 l4;
	ct_u64_a4 bytes[2];
};

/* An IPv4 connection: 112 bytes. */
struct ct_conn4 {
	struct sg_conn hdr;
	uint32_t addr[2];     /* Immutable canonical key: endpoint 0 <= endpoint 1. */
	struct ct_body body;
};

/* An IPv6 connection: 136 bytes. */
struct ct_conn6 {
	struct sg_conn hdr;
	uint8_t addr[2][16];
	struct ct_body body;
};

static_assert(sizeof(struct sg_conn) == 12, "conn header is 12 bytes");
static_assert(sizeof(struct ct_tcp) == 44, "TCP state is 44 bytes");
static_assert(sizeof(struct ct_body) == 92, "conn body is 92 bytes");
static_assert(sizeof(struct ct_conn4) == 112, "IPv4 connection is 112 bytes");
static_assert(sizeof(struct ct_conn6) == 136, "IPv6 connection is 136 bytes");
static_assert(offsetof(struct ct_conn4, addr) == offsetof(struct ct_conn4, hdr.port) + 4,
		"IPv4 ports and addresses are one run of 12 bytes (ct_key_match)");
static_assert(offsetof(struct ct_conn4, body.bytes) % 8 == 0, "IPv4 byte counters aligned");
static_assert(offsetof(struct ct_conn6, body.bytes) % 8 == 0, "IPv6 byte counters aligned");

static inline struct ct_body *
ct_body(struct sg_conn *c)
{
	return (c->flags & CT_F_V6) ? &((struct ct_conn6 *)c)->body
				    : &((struct ct_conn4 *)c)->body;
}

static inline const struct ct_body *
ct_body_const(const struct sg_conn *c)
{
	return ct_body((struct sg_conn *)(uintptr_t)c);
}

/* A test-and-set spinlock in C11-style atomics (visible to ThreadSanitizer, unlike the
 * inline assembly of rte_spinlock); held for short sections only. */
typedef struct {
	uint32_t locked;
} ct_spinlock_t;

static inline void
ct_spin_init(ct_spinlock_t *l)
{
	l->locked = 0;
}

static inline void
ct_spin_lock(ct_spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) != 0) {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED) != 0)
			rte_pause();
	}
}

static inline void
ct_spin_unlock(ct_spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

static inline void
ct_conn_lock(struct sg_conn *c)
{
	while (__atomic_exchange_n(&c->lock, 1, __ATOMIC_ACQUIRE) != 0) {
		while (__atomic_load_n(&c->lock, __ATOMIC_RELAXED) != 0)
			rte_pause();
	}
}

static inline void
ct_conn_unlock(struct sg_conn *c)
{
	__atomic_store_n(&c->lock, 0, __ATOMIC_RELEASE);
}

static inline uint8_t
ct_flags(const struct sg_conn *c)
{
	return __atomic_load_n(&c->flags, __ATOMIC_ACQUIRE);
}

/* Flags change under the entry lock; the atomic store lets lock-free readers see them. */
static inline void
ct_flags_set(struct sg_conn *c, uint8_t set, uint8_t clear)
{
	__atomic_store_n(&c->flags, (uint8_t)((c->flags & ~clear) | set), __ATOMIC_RELEASE);
}

static inline bool
ct_expired(const struct sg_conn *c, uint32_t now32)
{
	return (int32_t)(now32 - __atomic_load_n(&c->deadline, __ATOMIC_RELAXED)) >= 0;
}

/* ---- A packet as the tracker sees it ---- */

/* Canonical key of a packet: endpoints ordered so both directions build the same key. The
 * ports and IPv4 addresses sit in the order of struct ct_conn4 (ports, then addresses), so a
 * lookup compares an IPv4 entry's key with one 8-byte and one 4-byte load. */
struct ct_key {
	uint8_t family;       /* SG_AF_INET or SG_AF_INET6. */
	uint8_t proto;
	uint16_t zero;        /* Always 0: the ports start at offset 4. */
	uint16_t port[2];
	union {
		uint32_t v4[2];       /* IPv4: network byte order; v6 is not used. */
		uint8_t v6[2][16];
	} addr;
};

static_assert(offsetof(struct ct_key, port) == 4, "key ports at 4");
static_assert(offsetof(struct ct_key, addr) == 8, "key addresses follow the ports");

struct ct_pkt {
	const struct sg_pkt_meta *meta;
	struct rte_mbuf *m;
	struct ct_key key;
	uint32_t hash;
	uint8_t lo_to_hi;     /* The packet goes from key endpoint 0 to 1. */
	uint8_t icmp_error;   /* An ICMP/ICMPv6 error message. */
	uint16_t ip_bytes;
};

/* ---- Per-protocol ops (OVS ct_l4_proto) ---- */

enum ct_upd {
	CT_UPD_VALID,
	CT_UPD_INVALID,
	CT_UPD_RENEW,
};

struct ct_proto {
	const char *name;
	/* May a packet without an entry start one? SG_CT_NEW, SG_CT_NOT_NEW or SG_CT_INVALID
	 * with '*reason'. */
	enum sg_ct_result (*valid_new)(const struct sg_ct *ct, const struct ct_pkt *p,
			uint8_t *reason);
	/* Initialise the protocol state of a new entry from its first packet. */
	void (*new_conn)(const struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p,
			uint32_t now);
	/* Update for a packet in direction 'dir' (entry locked): sets the deadline and returns
	 * CT_UPD_VALID, CT_UPD_INVALID with '*reason', or CT_UPD_RENEW when the packet starts a
	 * new connection on the tuple (the entry is made expired). May set conn flags. */
	enum ct_upd (*conn_update)(const struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p,
			int dir, uint32_t now, uint8_t *reason);
	/* State for dumps (entry locked or a snapshot). */
	enum sg_ct_state (*state)(const struct sg_conn *c);
	/* May the entry be evicted when the table is full (D13)? */
	bool (*can_early_drop)(const struct sg_conn *c);
};

extern const struct ct_proto ct_proto_tcp;
extern const struct ct_proto ct_proto_udp;
extern const struct ct_proto ct_proto_icmp;
extern const struct ct_proto ct_proto_other;

/* Generic state for non-TCP protocols from the entry flags (their ops' state()). */
static inline enum sg_ct_state
ct_generic_state(const struct sg_conn *c)
{
	uint8_t f = c->flags;

	if (!(f & CT_F_SEEN_REPLY))
		return SG_CT_ST_UNREPLIED;
	return (f & CT_F_ASSURED) ? SG_CT_ST_ASSURED : SG_CT_ST_REPLIED;
}

/* ---- Table and tracker ---- */

#define CT_BUCKET_SLOTS 10

/* One cache line: 10 slots of (16-bit signature, 32-bit connection id). */
struct ct_bucket {
	uint16_t sig[CT_BUCKET_SLOTS];
	uint32_t id[CT_BUCKET_SLOTS];
	uint32_t pad;
} __rte_aligned(64);

static_assert(sizeof(struct ct_bucket) == 64, "bucket is one cache line");
static_assert(sizeof(struct sg_ct_closed) % 4 == 0, "ring elements are whole 32-bit words");

struct ct_pool {
	uint8_t *base;
	size_t map_bytes;
	uint32_t entry_size;
	uint32_t n_entries;   /* Index 0 is never used. */
	uint32_t next_fresh;  /* Bump allocator: first index never handed out. */
	uint32_t free_head;   /* Recycled entries, linked through body.wheel_next. */
	size_t populated;     /* Bytes from base committed ahead (the populating thread's). */
};

/* Timer wheel: 4096 slots of 256 ms (a 17-minute revolution); entries further away are
 * looked at once per revolution and put back. */
#define CT_WHEEL_SHIFT 8
#define CT_WHEEL_SLOTS 4096
#define CT_WHEEL_PENDING CT_WHEEL_SLOTS /* Head of the slot being swept. */
#define CT_LIMBO_SIZE 8192

struct ct_limbo_item {
	uint64_t token;
	uint32_t id;
};

/* Free entry ids a worker keeps, per family, so that building a new entry and giving back
 * the ones its grace periods released take no lock (ct_worker_alloc(), ct_worker_free()). */
#define CT_ID_CACHE 64

struct ct_id_cache {
	uint32_t n;
	uint32_t ids[CT_ID_CACHE];
};

/* X(NAME) per-worker event counters. */
#define CT_COUNTERS                                                                               \
	X(INSERTS) X(INSERT_RACES) X(EARLY_DROPS) X(SHARE_REFUSED) X(TABLE_FULL) X(EXPIRED)      \
	X(CLOSED_LOST)

enum ct_counter {
#define X(name) CT_C_##name,
	CT_COUNTERS
#undef X
	CT_C_COUNT
};

struct ct_worker {
	ct_spinlock_t wheel_lock;  /* Guards heads[], cur_tick and the links of owned entries. */
	uint64_t cur_tick;          /* Next wheel tick to sweep; UINT64_MAX before first use. */
	uint32_t heads[CT_WHEEL_SLOTS + 1];
	/* Deleted entries waiting for their grace period; only this worker touches it. */
	struct ct_limbo_item limbo[CT_LIMBO_SIZE];
	uint32_t limbo_head, limbo_tail;
	struct ct_id_cache free_ids[2]; /* [0] IPv4, [1] IPv6; only this worker touches them. */
	/* Counters: written by this worker only, read by stats with relaxed loads. */
	uint64_t results[SG_CT_RESULT_COUNT];
	uint64_t invalid[SG_DROP_COUNT];
	uint64_t counters[CT_C_COUNT];
	/* Deleted connections for flow logs (NULL when off): this worker produces, one reader
	 * consumes. */
	struct rte_ring *closed;
	/* Records of the ring lost, by each port of the connection (SG_CT_MAX_PORTS entries):
	 * whose flow logs are incomplete. */
	uint64_t *closed_lost_port;
} __rte_cache_aligned;

struct sg_ct {
	/* Read-mostly configuration. */
	uint32_t capacity;
	uint16_t n_workers;
	bool tcp_be_liberal;
	bool tcp_loose;
	bool tcp_slow_only;  /* Tests: no ESTABLISHED fast path (check_ct_fast compares both). */
	uint32_t timeout_ms[SG_CT_TM_COUNT];
	struct sg_hash_secret secret;  /* The bucket hash's key (ct_key_hash()). */
	struct rte_rcu_qsbr *qsbr;
	bool own_qsbr;
	struct ct_bucket *buckets;
	uint32_t n_buckets;
	size_t buckets_bytes;
	struct ct_pool pool4;
	struct ct_pool pool6;
	/* The thread committing pool memory ahead of use (ct_table_populate_start()). */
	pthread_t populator;
	bool populating;         /* The thread was started. */
	bool populate_quit;      /* Atomic: asks it to stop. */
	int populate_error;      /* Atomic: the errno that stopped it, or 0. */
	size_t populate_ahead;

	/* Written by lookups' writers. */
	uint32_t tbl_chng __rte_cache_aligned; /* Bumped on every cuckoo move. */
	ct_spinlock_t table_lock __rte_cache_aligned; /* Guards buckets, pools, n_live. */
	uint32_t n_live;
	/* Live entries by the port that opened them (origin.in_port); written under the table
	 * lock, read without it for per-port limits. */
	uint32_t port_conns[SG_CT_MAX_PORTS];
	uint32_t n_active_ports; /* Ports with at least one entry in port_conns (table lock). */
	uint32_t share_reserved; /* Entries kept for ports under their share (ct_room_for()). */

	struct ct_worker *workers;
};

/* A port's count of live entries moves by one (table lock held); the ports holding any
 * follow, for the share reserve (ct_room_for()). */
static inline void
ct_port_count(struct sg_ct *ct, uint16_t port, int delta)
{
	uint32_t n;

	if (port >= SG_CT_MAX_PORTS)
		return;
	n = ct->port_conns[port];
	if (delta > 0 && n == 0)
		ct->n_active_ports++;
	else if (delta < 0 && n == 1)
		ct->n_active_ports--;
	__atomic_store_n(&ct->port_conns[port], delta > 0 ? n + 1 : n - 1, __ATOMIC_RELAXED);
}

/* An entry enters or leaves the table (table lock held): the counts follow. */
static inline void
ct_live_add(struct sg_ct *ct, uint16_t port)
{
	ct->n_live++;
	ct_port_count(ct, port, 1);
}

static inline void
ct_live_remove(struct sg_ct *ct, uint16_t port)
{
	ct->n_live--;
	ct_port_count(ct, port, -1);
}

/* Its port went away (sg_ct_forget_port): no packet matches it any more. */
static inline bool
ct_forgotten(const struct sg_conn *c)
{
	return __atomic_load_n(&ct_body_const(c)->origin.in_port, __ATOMIC_RELAXED) == SG_CT_NO_PORT;
}

static inline uint32_t
ct_timeout(const struct sg_ct *ct, enum sg_ct_timeout tm)
{
	return __atomic_load_n(&ct->timeout_ms[tm], __ATOMIC_RELAXED);
}

static inline void
ct_set_deadline(struct sg_conn *c, uint32_t now, uint32_t timeout_ms)
{
	__atomic_store_n(&c->deadline, now + timeout_ms, __ATOMIC_RELAXED);
}

static inline struct sg_conn *
ct_conn_of(const struct sg_ct *ct, uint32_t id)
{
	if (id & CT_ID_V6)
		return (struct sg_conn *)(ct->pool6.base + (size_t)CT_ID_INDEX(id) * sizeof(struct ct_conn6));
	return (struct sg_conn *)(ct->pool4.base + (size_t)id * sizeof(struct ct_conn4));
}

/* Per-protocol dispatch: a switch (as the kernel does) rather than an indirect call. */
static inline const struct ct_proto *
ct_proto_of(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return &ct_proto_tcp;
	case IPPROTO_UDP:
		return &ct_proto_udp;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return &ct_proto_icmp;
	default:
		return &ct_proto_other;
	}
}

/* ---- Functions of the layers below ct.c (see the top) ---- */

/* ct_table.c */
int ct_table_init(struct sg_ct *ct, const struct sg_ct_params *p);
void ct_table_fini(struct sg_ct *ct);
int ct_table_populate_start(struct sg_ct *ct, size_t ahead);
void ct_table_populate_stop(struct sg_ct *ct);
struct sg_conn *ct_table_lookup_locked(const struct sg_ct *ct, const struct ct_key *k,
		uint32_t hash, uint32_t *id);
int ct_table_insert_locked(struct sg_ct *ct, const struct ct_key *k, uint32_t hash, uint32_t id);
void ct_table_remove_locked(struct sg_ct *ct, struct sg_conn *c, uint32_t id);
uint32_t ct_pool_alloc_locked(struct sg_ct *ct, bool v6);
void ct_pool_free_locked(struct sg_ct *ct, uint32_t id);
/* A free entry id for worker 'w' (0: the pool is empty); the table lock only to refill its
 * cache. */
uint32_t ct_worker_alloc(struct sg_ct *ct, struct ct_worker *w, bool v6);
/* Give back an entry that is in no table, wheel or limbo, on the worker that holds it. */
void ct_worker_free(struct sg_ct *ct, struct ct_worker *w, uint32_t id);
void ct_key_of_conn(const struct sg_conn *c, struct ct_key *k);
uint32_t ct_id_of(const struct sg_ct *ct, const struct sg_conn *c);
/* Up to 'max' ids of the entries in the 'n_buckets' buckets from 'hash''s first one. */
unsigned int ct_table_neighbours(const struct sg_ct *ct, uint32_t hash, unsigned int n_buckets,
		uint32_t *ids, unsigned int max);

/* ct_expire.c */
/* Put 'c' (id 'id', deadline set) on worker 'w''s wheel; w->wheel_lock held. */
void ct_wheel_link(struct ct_worker *w, struct sg_ct *ct, struct sg_conn *c, uint32_t id,
		uint64_t now);
/* Take 'c' off its owner's wheel, if on it; the owner's wheel lock held. */
void ct_wheel_unlink(struct sg_ct *ct, struct sg_conn *c);
/* Mark 'c' dead; false if it already was (someone else deletes it). */
bool ct_kill(struct sg_conn *c);
/* Delete a killed entry found in the table: table lock held, 'w' is the caller's worker,
 * whose limbo must have room. */
void ct_delete_killed_locked(struct sg_ct *ct, struct ct_worker *w, struct sg_conn *c,
		uint32_t id);
void ct_limbo_add(struct sg_ct *ct, struct ct_worker *w, const uint32_t *ids, unsigned int n);
/* Report deleted entries 'ids' on w's closed ring, if there is one (entries still readable). */
void ct_report_closed(struct sg_ct *ct, struct ct_worker *w, const uint32_t *ids, unsigned int n);
unsigned int ct_limbo_reclaim(struct sg_ct *ct, struct ct_worker *w);
bool ct_limbo_has_room(const struct ct_worker *w, unsigned int n);
/* Evict one expired or early-droppable entry near 'hash' (D13), opened by 'only_port' unless
 * that is SG_CT_NO_PORT. 0 or -ENOSPC. */
int ct_early_drop_locked(struct sg_ct *ct, struct ct_worker *w, uint32_t hash, uint32_t now32,
		uint16_t only_port);

/* ct_tcp.c: exposed for the table-driven unit tests. */
uint8_t ct_tcp_next_state(int dir, enum ct_tcp_index index, uint8_t state);
enum ct_tcp_index ct_tcp_index_of(uint8_t tcp_flags);
bool ct_tcp_flags_valid(uint8_t tcp_flags);

#endif /* CT_PRIVATE_H */
