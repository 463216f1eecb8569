/* SPDX-License-Identifier: BSD-3-Clause */
/* IP fragments in the datapath (D12): each worker keeps a small table of the datagrams whose
 * fragments are in flight, so later fragments get exactly the verdict and the destination of
 * their first fragment, which alone goes through conntrack and the classifier.
 *
 * A datagram's entry is keyed by (receiving vport, family, protocol, source, destination,
 * fragment id). The first fragment creates or finds it at admission; when the burst is done,
 * the entry records what happened to the first fragment: PASS with its destination, or DROP
 * with its reason. Later fragments follow the entry; one that arrives before its first
 * fragment is held (at most DP_FRAG_HOLD per worker, DP_FRAG_HOLD_MS each) and released or
 * dropped once the verdict is known. The byte ranges each datagram has covered are tracked:
 * an overlapping, duplicated or inconsistent fragment is dropped (FRAG_OVERLAP) and so is
 * every fragment of that datagram after it, so a receiver never reassembles a datagram whose
 * pieces differ from what was classified. An entry is freed when its datagram is complete, or
 * reused once DP_FRAG_TIMEOUT_MS passed since its last fragment. When the table (a bucket of
 * DP_FRAG_WAYS) or the hold queue is full, new datagrams' fragments are dropped
 * (FRAG_TABLE_FULL). Memory is fixed per worker; nothing is allocated per packet.
 *
 * The table is shared by every port the worker polls, so no port may take more than its share:
 * DP_FRAG_PORT_ENTRIES datagrams and DP_FRAG_PORT_HOLD held fragments at once (beyond, its
 * new datagrams are dropped as FRAG_PORT_LIMIT, counted on it). Entries of datagrams that
 * never completed are given back by a sweep in the housekeeping once they expire, so a port's
 * share is never held by its own stale datagrams for long. The bucket hash is keyed with a
 * secret (sg_hash.h), so no one can aim datagrams at another port's bucket either.
 *
 * Fragments of one datagram come from one sender on one port and so, in practice, on one rx
 * queue and one worker (RSS hashes fragments on addresses only; vhost-user and af_packet keep a
 * flow on its queue). Fragments spread over two workers are dropped (FRAG_UNMATCHED), never
 * passed unchecked.
 */
#ifndef DP_FRAG_H
#define DP_FRAG_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>

#include "sg_hash.h"
#include "sg_pkt.h"

#define DP_FRAG_BUCKETS 128       /* power of two */
#define DP_FRAG_WAYS 8            /* datagrams per bucket: 1024 per worker */
#define DP_FRAG_RANGES 8          /* disjoint byte ranges a datagram may have at once */
#define DP_FRAG_HOLD 64           /* fragments held per worker, waiting for their first */
#define DP_FRAG_TIMEOUT_MS 2000   /* an entry lives this long after its last fragment */
#define DP_FRAG_HOLD_MS 100       /* a fragment waits this long for its datagram's verdict */
#define DP_FRAG_PORT_ENTRIES 64   /* datagrams in flight per port and worker */
#define DP_FRAG_PORT_HOLD 16      /* held fragments per port and worker */
#define DP_FRAG_SWEEP 16          /* entries the housekeeping looks at per call */
#define DP_FRAG_MAX_VPORTS 4096   /* ports a generation may have (per-port counts) */

enum dp_frag_state {
	DP_FRAG_FREE = 0,
	DP_FRAG_PENDING,   /* no verdict yet: the first fragment is unseen or in this burst */
	DP_FRAG_PASS,      /* the first fragment was forwarded to 'dst' */
	DP_FRAG_DROP,      /* the datagram is refused for 'reason' */
};

struct __rte_aligned(8) dp_frag_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint16_t in;
	uint8_t family;
	uint8_t proto;
};

struct dp_frag {
	struct dp_frag_key key;
	uint64_t deadline;         /* ms; the entry is free once it passed */
	uint32_t serial;           /* changes each time the entry is reused */
	uint8_t state;             /* enum dp_frag_state */
	uint8_t reason;            /* DROP: enum sg_drop_reason */
	uint8_t n_ranges;
	uint8_t n_held;
	uint16_t dst;              /* PASS: destination vport */
	uint16_t total;            /* datagram length, once its last fragment was seen */
	bool have_last;
	struct {
		uint16_t lo, hi;   /* [lo, hi) of the fragmentable part, sorted, disjoint */
	} ranges[DP_FRAG_RANGES];
};

/* A later fragment between admission and the end of its burst, or held for longer. */
struct dp_frag_pkt {
	struct rte_mbuf *m;
	uint64_t deadline;         /* held: when it is given up */
	uint32_t slot;             /* entry index */
	uint32_t serial;           /* the entry's serial when the fragment was attached */
	uint16_t in;               /* vport it came from */
	uint16_t in_port;          /* ... and its port's id, which outlives the generation */
	uint16_t dst;              /* vport it is addressed to */
	bool routed;
	uint8_t l3;                /* enum sg_l3, for the routing rewrite */
	uint8_t l2_len;
};

struct __rte_cache_aligned dp_frag_table {
	/* Keyed bucket hash (sg_hash.h): no one can aim fragment ids at one bucket. */
	struct sg_hash_secret secret;
	struct dp_frag entries[DP_FRAG_BUCKETS * DP_FRAG_WAYS];
	struct dp_frag_pkt held[DP_FRAG_HOLD];
	uint16_t n_held;
	uint32_t epoch;            /* generation the entries' vport numbers belong to */
	uint32_t next_serial;
	uint32_t sweep;            /* next entry the housekeeping looks at */
	/* By vport of this generation: live entries (key.in) and held fragments (in). */
	uint16_t port_entries[DP_FRAG_MAX_VPORTS];
	uint16_t port_held[DP_FRAG_MAX_VPORTS];
};

/* Bucket of a key (exposed so tests can aim at one bucket). */
static_assert(sizeof(struct dp_frag_key) <= SG_HASH_MAX_KEY, "fragment keys are hashed whole");

static inline uint32_t
dp_frag_bucket(const struct dp_frag_table *t, const struct dp_frag_key *key)
{
	return sg_hash_keyed(&t->secret, key, sizeof(*key)) & (DP_FRAG_BUCKETS - 1);
}

/* The key of a parsed fragment received on 'in'. */
static inline void
dp_frag_key_of(const struct sg_pkt_meta *md, uint16_t in, struct dp_frag_key *key)
{
	size_t alen = md->src.family == SG_AF_INET ? 4 : 16;

	memset(key, 0, sizeof(*key));
	memcpy(key->src, md->src.bytes, alen);
	memcpy(key->dst, md->dst.bytes, alen);
	key->id = md->frag_id;
	key->in = in;
	key->family = md->src.family;
	/* IPv4 reassembles by (source, destination, protocol, id) (RFC 791), IPv6 by (source,
	 * destination, id) (RFC 8200): the protocol a parsed IPv6 fragment shows differs when
	 * extension headers follow the fragment header (the first fragment shows the transport,
	 * later ones the header after the fragment header). */
	key->proto = md->src.family == SG_AF_INET ? md->proto : 0;
}

#endif /* DP_FRAG_H */
