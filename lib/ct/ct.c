/* SPDX-License-Identifier: BSD-3-Clause */
/* The tracker's core: creation, the burst lookup/update the workers call for every packet,
 * commit of accepted new connections, ICMP errors as RELATED, and per-connection accessors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "ct_lookup.h"
#include "ct_tcp.h"

void
sg_ct_params_init(struct sg_ct_params *p)
{
	memset(p, 0, sizeof(*p));
	p->capacity = 1000000;
	p->n_workers = 1;
	memcpy(p->timeouts, sg_ct_timeout_defaults, sizeof(p->timeouts));
	p->tcp_be_liberal = false;
	p->tcp_loose = true;
	p->socket_id = -1;
	p->share_reserve = SG_CT_SHARE_RESERVE_DEFAULT;
	p->populate_ahead = SG_CT_POPULATE_AHEAD_DEFAULT;
}

/* The ring of closed connections of worker 'w': plain memory (no EAL needed), one producer
 * (the worker) and one consumer. */
static int
ct_closed_ring_init(struct ct_worker *w, unsigned int id, uint32_t size)
{
	uint32_t count = rte_align32pow2(RTE_MAX(size, 2u));
	ssize_t bytes = rte_ring_get_memsize_elem(sizeof(struct sg_ct_closed), count);
	char name[RTE_RING_NAMESIZE];

	if (size > (1u << 24) || bytes < 0)
		return -EINVAL;
	w->closed = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL((size_t)bytes,
			RTE_CACHE_LINE_SIZE));
	if (w->closed == NULL)
		return -ENOMEM;
	snprintf(name, sizeof(name), "sg_ct_closed_%u", id);
	if (rte_ring_init(w->closed, name, count, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0)
		return -EINVAL;
	w->closed_lost_port = calloc(SG_CT_MAX_PORTS, sizeof(*w->closed_lost_port));
	return w->closed_lost_port == NULL ? -ENOMEM : 0;
}

struct sg_ct *
sg_ct_create(const struct sg_ct_params *p)
{
	struct sg_ct *ct;
	int rc;

	if (p == NULL || p->capacity == 0 || p->n_workers == 0 || p->n_workers > 255) {
		errno = EINVAL;
		return NULL;
	}
	for (int i = 0; i < SG_CT_TM_COUNT; i++) {
		if (p->timeouts[i] == 0 || p->timeouts[i] > SG_CT_TIMEOUT_MAX) {
			errno = EINVAL;
			return NULL;
		}
	}
	ct = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*ct), RTE_CACHE_LINE_SIZE));
	if (ct == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(ct, 0, sizeof(*ct));
	ct->capacity = p->capacity;
	ct->n_workers = p->n_workers;
	ct->tcp_be_liberal = p->tcp_be_liberal;
	ct->tcp_loose = p->tcp_loose;
	sg_ct_set_share_reserve(ct, p->share_reserve);
	for (int i = 0; i < SG_CT_TM_COUNT; i++)
		ct->timeout_ms[i] = p->timeouts[i] * 1000u;
	if (p->hash_seed != 0) {
		sg_hash_secret_from_seed(&ct->secret, p->hash_seed);
	} else if ((rc = sg_hash_secret_random(&ct->secret)) < 0) {
		free(ct);
		errno = -rc;
		return NULL;
	}
	ct_spin_init(&ct->table_lock);
	ct->workers = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*ct->workers) * p->n_workers);
	if (ct->workers == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	memset(ct->workers, 0, sizeof(*ct->workers) * p->n_workers);
	for (unsigned int i = 0; i < p->n_workers; i++) {
		ct_spin_init(&ct->workers[i].wheel_lock);
		ct->workers[i].cur_tick = UINT64_MAX;
		if (p->closed_ring_size != 0) {
			rc = ct_closed_ring_init(&ct->workers[i], i, p->closed_ring_size);
			if (rc != 0)
				goto fail;
		}
	}
	if (p->qsbr != NULL) {
		ct->qsbr = p->qsbr;
	} else {
		size_t sz = rte_rcu_qsbr_get_memsize(p->n_workers);

		ct->qsbr = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sz, RTE_CACHE_LINE_SIZE));
		if (ct->qsbr == NULL || rte_rcu_qsbr_init(ct->qsbr, p->n_workers) != 0) {
			rc = -ENOMEM;
			goto fail;
		}
		ct->own_qsbr = true;
	}
	rc = ct_table_init(ct, p);
	if (rc != 0)
		goto fail;
	rc = ct_table_populate_start(ct, p->populate_ahead);
	if (rc != 0)
		goto fail;
	return ct;
fail:
	sg_ct_free(ct);
	errno = -rc;
	return NULL;
}

void
sg_ct_free(struct sg_ct *ct)
{
	if (ct == NULL)
		return;
	ct_table_populate_stop(ct);
	ct_table_fini(ct);
	if (ct->own_qsbr)
		free(ct->qsbr);
	for (unsigned int i = 0; ct->workers != NULL && i < ct->n_workers; i++) {
		free(ct->workers[i].closed);
		free(ct->workers[i].closed_lost_port);
	}
	free(ct->workers);
	free(ct);
}

struct rte_rcu_qsbr *
sg_ct_qsbr(const struct sg_ct *ct)
{
	return ct->qsbr;
}

int
sg_ct_set_timeout(struct sg_ct *ct, enum sg_ct_timeout tm, uint32_t seconds)
{
	if ((unsigned int)tm >= SG_CT_TM_COUNT || seconds == 0 || seconds > SG_CT_TIMEOUT_MAX)
		return -EINVAL;
	__atomic_store_n(&ct->timeout_ms[tm], seconds * 1000u, __ATOMIC_RELAXED);
	return 0;
}

uint32_t
sg_ct_get_timeout(const struct sg_ct *ct, enum sg_ct_timeout tm)
{
	return (unsigned int)tm < SG_CT_TM_COUNT ? ct_timeout(ct, tm) / 1000u : 0;
}

void
sg_ct_set_tcp_be_liberal(struct sg_ct *ct, bool on)
{
	__atomic_store_n(&ct->tcp_be_liberal, on, __ATOMIC_RELAXED);
}

void
sg_ct_set_tcp_loose(struct sg_ct *ct, bool on)
{
	__atomic_store_n(&ct->tcp_loose, on, __ATOMIC_RELAXED);
}

void
sg_ct_set_share_reserve(struct sg_ct *ct, unsigned int percent)
{
	uint32_t reserved = (uint32_t)((uint64_t)ct->capacity * RTE_MIN(percent, 50u) / 100);

	/* Commits read it under the table lock; taking effect from the next one is enough. */
	__atomic_store_n(&ct->share_reserved, reserved, __ATOMIC_RELAXED);
}

/* ---- Building the key of a packet ---- */

/* ICMP and ICMPv6 message classes. */
enum ct_icmp_class {
	CT_ICMP_OTHER,
	CT_ICMP_REQUEST,
	CT_ICMP_REPLY,
	CT_ICMP_ERROR,
};

/* The class of ICMP 'type' and, for queries, the request type of its pair. */
static enum ct_icmp_class
ct_icmp_classify(bool v6, uint8_t type, uint8_t *request)
{
	if (!v6) {
		switch (type) {
		case 8: case 13: case 15: case 17: /* echo, timestamp, info, address mask */
			*request = type;
			return CT_ICMP_REQUEST;
		case 0:
			*request = 8;
			return CT_ICMP_REPLY;
		case 14: case 16: case 18:
			*request = (uint8_t)(type - 1);
			return CT_ICMP_REPLY;
		case 3: case 4: case 5: case 11: case 12: /* unreach, quench, redirect, time, param */
			return CT_ICMP_ERROR;
		default:
			return CT_ICMP_OTHER;
		}
	}
	switch (type) {
	case 128: case 139: /* echo request, node information query */
		*request = type;
		return CT_ICMP_REQUEST;
	case 129: case 140:
		*request = (uint8_t)(type - 1);
		return CT_ICMP_REPLY;
	case 1: case 2: case 3: case 4: /* unreach, packet too big, time exceeded, param */
		return CT_ICMP_ERROR;
	default:
		return CT_ICMP_OTHER;
	}
}

/* ct_key_build() for IPv4 addresses 's' and 'd' (network byte order). Always inline, so the
 * common case of ct_pkt_init() (an IPv4 packet with ports) builds and hashes its key without
 * a call: the call, its six arguments and its register saves were about 25 of the 126
 * instructions per packet the key cost (callgrind, 1,000 established flows). */
static __rte_always_inline void
ct_key_build4(const struct sg_ct *ct, struct ct_pkt *p, uint32_t s, uint32_t d, uint8_t proto,
		uint16_t sport, uint16_t dport)
{
	struct ct_key *k = &p->key;
	/* memcmp of 4 bytes is an unsigned compare in host order. */
	uint32_t hs = rte_be_to_cpu_32(s), hd = rte_be_to_cpu_32(d);
	bool lo = hs < hd || (hs == hd && sport <= dport);

	k->family = SG_AF_INET;
	k->proto = proto;
	k->zero = 0;
	k->addr.v4[0] = lo ? s : d;
	k->addr.v4[1] = lo ? d : s;
	k->port[0] = lo ? sport : dport;
	k->port[1] = lo ? dport : sport;
	p->lo_to_hi = lo;
	p->hash = ct_key_hash4(ct, k);
}

/* Fill p->key, p->hash and p->lo_to_hi from a packet's addresses and ports. Endpoint 0 is the
 * lower address (bytes compared in network order), or the lower port for equal addresses. An
 * IPv4 key fills only addr.v4: nothing reads the rest. Not forced inline: with it and
 * ct_pkt_init inside the burst loop, the loop took 170 cycles per packet against 142 (fewer
 * instructions, more cycles; sgfw-bench median burst, 1,000 flows). */
static void
ct_key_build(const struct sg_ct *ct, struct ct_pkt *p, const struct sg_ip *src, const struct sg_ip *dst, uint8_t proto,
		uint16_t sport, uint16_t dport)
{
	struct ct_key *k = &p->key;
	bool lo;

	if (src->family == SG_AF_INET) {
		uint32_t s, d;

		memcpy(&s, src->bytes, 4);
		memcpy(&d, dst->bytes, 4);
		ct_key_build4(ct, p, s, d, proto, sport, dport);
		return;
	}
	{
		int cmp = memcmp(src->bytes, dst->bytes, 16);

		lo = cmp < 0 || (cmp == 0 && sport <= dport);
		k->proto = proto;
		k->zero = 0;
		k->family = src->family;
		memcpy(k->addr.v6[0], lo ? src->bytes : dst->bytes, 16);
		memcpy(k->addr.v6[1], lo ? dst->bytes : src->bytes, 16);
	}
	k->port[0] = lo ? sport : dport;
	k->port[1] = lo ? dport : sport;
	p->lo_to_hi = lo;
	p->hash = ct_key_hash(ct, k);
}

/* Prepare 'p' for a packet. Returns SG_CT_NEW when it has a key to look up, or the result to
 * give it right away (with '*reason'). */
static enum sg_ct_result
ct_pkt_init(const struct sg_ct *ct, struct ct_pkt *p, struct rte_mbuf *m, const struct sg_pkt_meta *meta,
		uint8_t *reason)
{
	uint16_t sport = 0, dport = 0;
	bool v6;

	p->meta = meta;
	p->m = m;
	p->icmp_error = 0;
	if (unlikely(meta->reason != SG_DROP_NONE)) {
		*reason = meta->reason;
		return SG_CT_INVALID;
	}
	if (meta->l3 != SG_L3_IPV4 && meta->l3 != SG_L3_IPV6) {
		*reason = SG_DROP_CT_INVALID;
		return SG_CT_INVALID;
	}
	/* Later fragments carry no ports: the datapath gives them their datagram's verdict. */
	if (meta->frag == SG_FRAG_LATER) {
		*reason = SG_DROP_FRAG_UNMATCHED;
		return SG_CT_INVALID;
	}
	v6 = meta->l3 == SG_L3_IPV6;
	p->ip_bytes = (uint16_t)(meta->l3_len + meta->l4_len);
	switch (meta->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		sport = meta->sport;
		dport = meta->dport;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		uint8_t request = 0;

		if ((meta->proto == IPPROTO_ICMPV6) != v6) {
			*reason = SG_DROP_CT_INVALID;
			return SG_CT_INVALID;
		}
		switch (ct_icmp_classify(v6, (uint8_t)meta->sport, &request)) {
		case CT_ICMP_REQUEST:
			sport = meta->icmp_id;
			dport = request;
			break;
		case CT_ICMP_REPLY:
			/* The reply's key mirrors its request's: (request type, id) reversed. */
			sport = request;
			dport = meta->icmp_id;
			break;
		case CT_ICMP_ERROR:
			p->icmp_error = 1;
			return SG_CT_NEW;
		default:
			/* netfilter tracks no other message: it cannot start or match a connection. */
			*reason = SG_DROP_CT_NOT_NEW;
			return SG_CT_NOT_NEW;
		}
		break;
	}
	default:
		break;
	}
	/* The family ct_key_build() would test, not the l3 kind: the same key either way. */
	if (likely(meta->src.family == SG_AF_INET)) {
		uint32_t s, d;

		memcpy(&s, meta->src.bytes, 4);
		memcpy(&d, meta->dst.bytes, 4);
		ct_key_build4(ct, p, s, d, meta->proto, sport, dport);
	} else {
		ct_key_build(ct, p, &meta->src, &meta->dst, meta->proto, sport, dport);
	}
	return SG_CT_NEW;
}

static inline int
ct_pkt_dir(const struct sg_conn *c, const struct ct_pkt *p)
{
	return p->lo_to_hi == !!(c->flags & CT_F_ORIG_LO) ? SG_CT_DIR_ORIG : SG_CT_DIR_REPLY;
}

/* ---- ICMP errors (D11, docs/decisions.md) ---- */

/* Read the header embedded in ICMP error 'p' and find the connection it is about. Fills
 * '*dir' with the direction of the embedded packet. */
static struct sg_conn *
ct_icmp_error_conn(const struct sg_ct *ct, const struct ct_pkt *p, uint32_t now32, int *dir)
{
	const struct sg_pkt_meta *meta = p->meta;
	uint32_t off = (uint32_t)meta->l2_len + meta->l3_len + 8;
	uint8_t buf[40];
	const uint8_t *h;
	struct sg_ip isrc, idst;
	uint8_t iproto;
	uint16_t sport = 0, dport = 0;
	struct ct_pkt inner;
	struct sg_conn *c;

	if (p->m == NULL)
		return NULL;
	memset(&isrc, 0, sizeof(isrc));
	memset(&idst, 0, sizeof(idst));
	if (meta->l3 == SG_L3_IPV4) {
		uint32_t ihl;

		h = rte_pktmbuf_read(p->m, off, 20, buf);
		if (h == NULL || (h[0] >> 4) != 4 || (h[0] & 0xf) < 5)
			return NULL;
		/* A non-first fragment carries no ports to match on. */
		if (((h[6] & 0x1f) << 8 | h[7]) != 0)
			return NULL;
		ihl = (h[0] & 0xfu) * 4;
		iproto = h[9];
		isrc.family = idst.family = SG_AF_INET;
		memcpy(isrc.bytes, h + 12, 4);
		memcpy(idst.bytes, h + 16, 4);
		off += ihl;
	} else {
		int hops = 0;

		h = rte_pktmbuf_read(p->m, off, 40, buf);
		if (h == NULL || (h[0] >> 4) != 6)
			return NULL;
		iproto = h[6];
		isrc.family = idst.family = SG_AF_INET6;
		memcpy(isrc.bytes, h + 8, 16);
		memcpy(idst.bytes, h + 24, 16);
		off += 40;
		/* Skip the extension headers a packet that caused an error may carry. */
		while ((iproto == IPPROTO_HOPOPTS || iproto == IPPROTO_ROUTING ||
			       iproto == IPPROTO_DSTOPTS || iproto == IPPROTO_FRAGMENT) &&
				hops++ < 4) {
			const uint8_t *e = rte_pktmbuf_read(p->m, off, 8, buf);

			if (e == NULL)
				return NULL;
			if (iproto == IPPROTO_FRAGMENT) {
				if ((((uint16_t)e[2] << 8 | e[3]) & 0xfff8) != 0)
					return NULL;
				iproto = e[0];
				off += 8;
			} else {
				iproto = e[0];
				off += ((uint32_t)e[1] + 1) * 8;
			}
		}
	}
	switch (iproto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		h = rte_pktmbuf_read(p->m, off, 4, buf);
		if (h == NULL)
			return NULL;
		sport = (uint16_t)(h[0] << 8 | h[1]);
		dport = (uint16_t)(h[2] << 8 | h[3]);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		uint8_t request = 0;
		uint16_t id;

		if ((iproto == IPPROTO_ICMPV6) != (isrc.family == SG_AF_INET6))
			return NULL;
		h = rte_pktmbuf_read(p->m, off, 8, buf);
		if (h == NULL)
			return NULL;
		id = (uint16_t)(h[4] << 8 | h[5]);
		switch (ct_icmp_classify(isrc.family == SG_AF_INET6, h[0], &request)) {
		case CT_ICMP_REQUEST:
			sport = id;
			dport = request;
			break;
		case CT_ICMP_REPLY:
			sport = request;
			dport = id;
			break;
		default:
			return NULL; /* Never an error about an error. */
		}
		break;
	}
	default:
		break;
	}
	ct_key_build(ct, &inner, &isrc, &idst, iproto, sport, dport);
	c = ct_table_lookup(ct, &inner.key, inner.hash);
	if (c == NULL || ct_expired(c, now32))
		return NULL;
	/* The error must travel back to the sender of the packet it quotes: the outer destination
	 * is that endpoint, so a third party cannot use a guessed tuple to pass (edge case 58). */
	if (memcmp(meta->dst.bytes, isrc.bytes, isrc.family == SG_AF_INET ? 4 : 16) != 0)
		return NULL;
	*dir = ct_pkt_dir(c, &inner);
	return c;
}

/* ---- Per-packet processing ---- */

/* Whether a packet travelling in 'dir' of 'c' goes between the connection's own ports. */
static inline bool
ct_path_ok_origin(const struct sg_ct_origin *o, int dir, const struct sg_ct_path *path)
{
	if (path == NULL)
		return true;
	if (dir == SG_CT_DIR_ORIG)
		return path->in_port == o->in_port && path->out_port == o->out_port;
	return path->in_port == o->out_port && path->out_port == o->in_port;
}

static inline bool
ct_path_ok(const struct sg_conn *c, int dir, const struct sg_ct_path *path)
{
	return ct_path_ok_origin(&ct_body_const(c)->origin, dir, path);
}

/* Refuse a packet that rides a connection's 5-tuple to another port, before it moves any state. */
static inline void
ct_wrong_path(struct sg_conn *c, int dir, struct sg_ct_verdict *v)
{
	v->conn = c;
	v->dir = (uint8_t)dir;
	v->result = SG_CT_INVALID;
	v->reason = SG_DROP_CT_WRONG_PATH;
}

/*
 * Run packet 'p' through connection 'c'. Returns false when the entry turned out to be gone
 * (dead, expired, forgotten or renewed): the packet then has no connection. Inline: in the
 * burst loop its call and register saves cost more than the fast path saves.
 */
static __rte_always_inline bool
ct_conn_packet(const struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p,
		const struct sg_ct_path *path, uint32_t now32, struct sg_ct_verdict *v)
{
	int dir = ct_pkt_dir(c, p);
	/*
	 * 'c' was found by p's key, whose compare checks the entry's family (ct_key_match()), so
	 * the body's place follows from the key: ct_body() would read c->flags again after each
	 * atomic below (three times per packet).
	 */
	struct ct_body *b = p->key.family == SG_AF_INET6 ? &((struct ct_conn6 *)c)->body
							  : &((struct ct_conn4 *)c)->body;
	uint8_t reason = SG_DROP_NONE;
	enum ct_upd upd;
	uint8_t flags;

	/* Expired first: a blocked entry past its deadline no longer blocks its tuple. */
	/* ct_forgotten() of 'b'. */
	if ((ct_flags(c) & CT_F_DEAD) || ct_expired(c, now32) ||
			unlikely(__atomic_load_n(&b->origin.in_port, __ATOMIC_RELAXED) ==
					SG_CT_NO_PORT))
		return false;
	if (unlikely(!ct_path_ok_origin(&b->origin, dir, path))) {
		ct_wrong_path(c, dir, v);
		return true;
	}
	if (ct_flags(c) & CT_F_BLOCKED) {
		v->conn = c;
		v->dir = (uint8_t)dir;
		v->result = SG_CT_BLOCKED;
		v->reason = SG_DROP_CT_BLOCKED;
		return true;
	}
	ct_conn_lock(c);
	flags = c->flags;
	if ((flags & CT_F_DEAD) || ct_expired(c, now32)) {
		ct_conn_unlock(c);
		return false;
	}
	/* After the path and block checks, so the fast path refuses nothing they refuse. */
	if (likely(c->proto == IPPROTO_TCP) &&
			likely(ct_tcp_fast_ok(ct, &b->l4.tcp, p->meta->tcp_flags, dir)))
		upd = ct_tcp_update_established(ct, c, &b->l4.tcp, p, dir, now32, &reason);
	else /* The protocol's table only here: the fast path never needs it. */
		upd = ct_proto_of(c->proto)->conn_update(ct, c, p, dir, now32, &reason);
	if (upd == CT_UPD_RENEW) {
		ct_conn_unlock(c);
		return false;
	}
	v->conn = c;
	v->dir = (uint8_t)dir;
	if (upd == CT_UPD_INVALID) {
		ct_conn_unlock(c);
		v->result = SG_CT_INVALID;
		v->reason = reason;
		return true;
	} else {
		b->pkts[dir]++;
		b->bytes[dir] += p->ip_bytes;
		if (dir == SG_CT_DIR_REPLY && !(c->flags & CT_F_SEEN_REPLY)) {
			ct_flags_set(c, CT_F_SEEN_REPLY, 0);
			v->flags |= SG_CT_VF_FIRST_REPLY;
		}
		if (c->flags & CT_F_PICKUP)
			v->flags |= SG_CT_VF_PICKUP;
		v->epoch = __atomic_load_n(&b->origin.policy_epoch, __ATOMIC_RELAXED);
	}
	ct_conn_unlock(c);
	v->result = dir == SG_CT_DIR_ORIG ? SG_CT_ESTABLISHED : SG_CT_REPLY;
	v->reason = SG_DROP_NONE;
	return true;
}

static void
ct_no_conn(const struct sg_ct *ct, const struct ct_pkt *p, struct sg_ct_verdict *v)
{
	uint8_t reason = SG_DROP_NONE;

	v->conn = NULL;
	v->dir = SG_CT_DIR_ORIG;
	v->flags = 0;
	v->result = (uint8_t)ct_proto_of(p->key.proto)->valid_new(ct, p, &reason);
	v->reason = reason;
}

static void
ct_icmp_error(const struct sg_ct *ct, const struct ct_pkt *p, const struct sg_ct_path *path,
		uint32_t now32, struct sg_ct_verdict *v)
{
	int dir = 0;
	struct sg_conn *c = ct_icmp_error_conn(ct, p, now32, &dir);

	if (c == NULL || unlikely(ct_forgotten(c))) {
		v->result = SG_CT_NOT_NEW;
		v->reason = SG_DROP_CT_NOT_NEW;
		return;
	}
	/* The error travels against the packet it quotes. */
	if (!ct_path_ok(c, !dir, path)) {
		ct_wrong_path(c, !dir, v);
		return;
	}
	v->conn = c;
	v->dir = (uint8_t)!dir;
	if (ct_flags(c) & CT_F_BLOCKED) {
		v->result = SG_CT_BLOCKED;
		v->reason = SG_DROP_CT_BLOCKED;
	} else {
		v->result = SG_CT_RELATED;
		v->reason = SG_DROP_NONE;
	}
}

/* Prefetch what the lookup of 'hash' (first bucket 'b1') will most likely read: the entry of
 * the first signature match there, or else the second bucket. A hint only: the lookup after
 * it does the real work. */
static inline void
ct_prefetch_entry(const struct sg_ct *ct, uint32_t hash, uint32_t b1)
{
	const struct ct_bucket *b = &ct->buckets[b1];
	uint32_t mask = ct_sig_mask(b, ct_sig(hash));

	if (mask != 0) {
		uint32_t id = __atomic_load_n(&b->id[__builtin_ctz(mask)], __ATOMIC_RELAXED);

		if (id != 0) {
			const uint8_t *c = (const uint8_t *)ct_conn_of(ct, id);

			/* An IPv4 entry (112 bytes) spans up to three cache lines. */
			rte_prefetch0(c);
			rte_prefetch0(c + 64);
			rte_prefetch0(c + sizeof(struct ct_conn4) - 1);
			return;
		}
	}
	rte_prefetch0(&ct->buckets[ct_bucket2(ct, hash, b1)]);
}

uint16_t
sg_ct_process_burst(struct sg_ct *ct, unsigned int worker, struct rte_mbuf **pkts,
		const struct sg_pkt_meta *meta, const struct sg_ct_path *paths,
		struct sg_ct_verdict *verdicts, uint16_t n, uint64_t now)
{
	struct ct_worker *w = &ct->workers[worker];
	uint32_t now32 = (uint32_t)now;
	uint32_t results[SG_CT_RESULT_COUNT] = {0};
	struct ct_pkt p[32];
	uint32_t b1[32];
	uint8_t kind[32]; /* 0: verdict given; 1: look up; 2: ICMP error */
	uint16_t found = 0;

	/* Three passes per chunk, so memory latency overlaps across packets: build keys and
	 * prefetch buckets; prefetch the entries the buckets point to; look up and update. */
	for (uint16_t base = 0; base < n; base += RTE_DIM(p)) {
		uint16_t cnt = (uint16_t)RTE_MIN(n - base, (int)RTE_DIM(p));

		for (uint16_t i = 0; i < cnt; i++) {
			struct sg_ct_verdict *v = &verdicts[base + i];
			uint8_t reason = SG_DROP_NONE;
			enum sg_ct_result r;

			*v = (struct sg_ct_verdict){ .conn = NULL };
			r = ct_pkt_init(ct, &p[i], pkts != NULL ? pkts[base + i] : NULL,
					&meta[base + i], &reason);
			if (unlikely(r != SG_CT_NEW)) {
				kind[i] = 0;
				v->result = (uint8_t)r;
				v->reason = reason;
			} else if (unlikely(p[i].icmp_error)) {
				kind[i] = 2;
			} else {
				kind[i] = 1;
				b1[i] = ct_bucket1(ct, p[i].hash);
				rte_prefetch0(&ct->buckets[b1[i]]);
			}
		}
		for (uint16_t i = 0; i < cnt; i++)
			if (kind[i] == 1)
				ct_prefetch_entry(ct, p[i].hash, b1[i]);
		for (uint16_t i = 0; i < cnt; i++) {
			struct sg_ct_verdict *v = &verdicts[base + i];
			const struct sg_ct_path *path = paths != NULL ? &paths[base + i] : NULL;

			if (likely(kind[i] == 1)) {
				struct sg_conn *c =
						ct_table_lookup_b1(ct, &p[i].key, p[i].hash, b1[i]);

				if (c == NULL || !ct_conn_packet(ct, c, &p[i], path, now32, v))
					ct_no_conn(ct, &p[i], v);
			} else if (kind[i] == 2) {
				ct_icmp_error(ct, &p[i], path, now32, v);
			}
			found += v->conn != NULL;
			results[v->result]++;
			/* Single writer per worker: relaxed stores keep readers' loads untorn. */
			if (unlikely(v->result == SG_CT_INVALID))
				__atomic_store_n(&w->invalid[v->reason], w->invalid[v->reason] + 1,
						__ATOMIC_RELAXED);
		}
	}
	/* The results once per burst: a burst's worth of stores to the counter line saved. */
	for (int r = 0; r < SG_CT_RESULT_COUNT; r++)
		if (results[r] != 0)
			__atomic_store_n(&w->results[r], w->results[r] + results[r], __ATOMIC_RELAXED);
	return found;
}

/* ---- Commit ---- */

static void
ct_conn_init(struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p, unsigned int worker,
		const struct sg_ct_origin *origin)
{
	bool v6 = p->key.family == SG_AF_INET6;
	struct ct_body *b;

	memset(c, 0, v6 ? sizeof(struct ct_conn6) : sizeof(struct ct_conn4));
	c->proto = p->key.proto;
	c->owner = (uint8_t)worker;
	c->port[0] = p->key.port[0];
	c->port[1] = p->key.port[1];
	if (v6) {
		memcpy(((struct ct_conn6 *)c)->addr, p->key.addr.v6, 32);
	} else {
		((struct ct_conn4 *)c)->addr[0] = p->key.addr.v4[0];
		((struct ct_conn4 *)c)->addr[1] = p->key.addr.v4[1];
	}
	/* CT_F_VALID when it is published (sg_ct_commit()): walkers skip it until then. */
	c->flags = (uint8_t)((v6 ? CT_F_V6 : 0) | (p->lo_to_hi ? CT_F_ORIG_LO : 0));
	b = ct_body(c);
	if (origin != NULL)
		b->origin = *origin;
	(void)ct;
}

uint32_t
sg_ct_tuple_bucket(const struct sg_ct *ct, const struct sg_ct_tuple *t, uint32_t *n_buckets)
{
	struct ct_pkt p;

	ct_key_build(ct, &p, &t->src, &t->dst, t->proto, t->sport, t->dport);
	*n_buckets = ct->n_buckets;
	return ct_bucket1(ct, p.hash);
}

uint32_t
sg_ct_port_connections(const struct sg_ct *ct, uint16_t port)
{
	return port < SG_CT_MAX_PORTS ? __atomic_load_n(&ct->port_conns[port], __ATOMIC_RELAXED) : 0;
}

/*
 * How full the table may be before a new connection of 'opener' has to make room. Early drop
 * spares answered connections (D13), so one port that fills the table with connections its
 * own server answers, or an outside host with connections to a VM's open service, would
 * shut every other port out. So the last 'share_reserved' entries are kept for ports under
 * their share: the capacity divided among the ports holding entries, the opener counted, and
 * at least two (a port alone in the table is the case to guard against). A port at or over
 * its share finds the table full that much sooner, and early drop makes room for it only
 * from its own entries.
 */
static uint32_t
ct_room_for(const struct sg_ct *ct, uint16_t opener)
{
	uint32_t reserved = __atomic_load_n(&ct->share_reserved, __ATOMIC_RELAXED), n;

	if (opener >= SG_CT_MAX_PORTS || reserved == 0)
		return ct->capacity;
	n = ct->n_active_ports + (ct->port_conns[opener] == 0);
	return ct->port_conns[opener] < ct->capacity / RTE_MAX(n, 2u) ? ct->capacity
								     : ct->capacity - reserved;
}

int
sg_ct_commit(struct sg_ct *ct, unsigned int worker, struct rte_mbuf *m,
		const struct sg_pkt_meta *meta, const struct sg_ct_origin *origin, uint64_t now,
		struct sg_ct_verdict *v)
{
	struct ct_worker *w = &ct->workers[worker];
	uint32_t now32 = (uint32_t)now;
	const struct ct_proto *proto;
	uint8_t reason = SG_DROP_NONE;
	enum sg_ct_result r;
	struct ct_pkt p;
	struct sg_conn *c, *old;
	/* A connection another worker committed first must be the one between the same ports. */
	struct sg_ct_path path = {origin != NULL ? origin->in_port : 0,
			origin != NULL ? origin->out_port : 0};
	uint16_t opener = origin != NULL ? origin->in_port : SG_CT_NO_PORT;
	uint32_t id, old_id = 0, room;
	enum ct_counter refused = CT_C_TABLE_FULL; /* Why a 'full' exit refuses it. */
	int rc;

	memset(v, 0, sizeof(*v));
	r = ct_pkt_init(ct, &p, m, meta, &reason);
	if (r == SG_CT_NEW && p.icmp_error) {
		r = SG_CT_NOT_NEW;
		reason = SG_DROP_CT_NOT_NEW;
	}
	if (r == SG_CT_NEW) {
		proto = ct_proto_of(p.key.proto);
		r = proto->valid_new(ct, &p, &reason);
	}
	if (r != SG_CT_NEW) {
		v->result = (uint8_t)r;
		v->reason = reason;
		return -EINVAL;
	}

	/* The entry is built before the table lock is taken: nobody sees it until it is
	 * published (CT_F_VALID, then its slot), and the lock stays held only for the lookup,
	 * the room and the insert, which the workers' commits wait on one another for. */
	id = ct_worker_alloc(ct, w, p.key.family == SG_AF_INET6);
	if (id == 0) {
		ct_spin_lock(&ct->table_lock);
		goto full;
	}
	c = ct_conn_of(ct, id);
	ct_conn_init(ct, c, &p, worker, origin);
	proto->new_conn(ct, c, &p, now32);
	if (proto->conn_update(ct, c, &p, SG_CT_DIR_ORIG, now32, &reason) != CT_UPD_VALID) {
		ct_worker_free(ct, w, id);
		v->result = SG_CT_INVALID;
		v->reason = reason;
		return -EINVAL;
	}
	ct_body(c)->pkts[SG_CT_DIR_ORIG] = 1;
	ct_body(c)->bytes[SG_CT_DIR_ORIG] = p.ip_bytes;

	ct_spin_lock(&ct->table_lock);
	old = ct_table_lookup_locked(ct, &p.key, p.hash, &old_id);
	if (old != NULL && !ct_expired(old, now32) && !ct_forgotten(old)) {
		/* Another worker committed the same connection first: use its entry. */
		ct_spin_unlock(&ct->table_lock);
		ct_worker_free(ct, w, id);
		w->counters[CT_C_INSERT_RACES]++;
		if (ct_conn_packet(ct, old, &p, origin != NULL ? &path : NULL, now32, v))
			return -EEXIST;
		/* It died just now: go round once more. */
		return sg_ct_commit(ct, worker, m, meta, origin, now, v);
	}
	if (old != NULL) {
		/* An expired (or forgotten) entry of the same tuple must leave before its successor
		 * enters, or lookups could keep finding it first. */
		if (!ct_limbo_has_room(w, 1))
			goto full;
		if (ct_kill(old))
			ct_delete_killed_locked(ct, w, old, old_id);
	}
	room = ct_room_for(ct, opener);
	/* A port over its share makes room only from its own entries: others' half-open ones
	 * would put it past the reserve's line (and fail their handshakes). */
	if (ct->n_live >= room &&
			ct_early_drop_locked(ct, w, p.hash, now32,
					room < ct->capacity ? opener : SG_CT_NO_PORT) != 0) {
		if (ct->n_live < ct->capacity)
			goto over_share;
		goto full;
	}
	ct_flags_set(c, CT_F_VALID, 0);
	/* On the wheel before it is visible, so whoever deletes it later finds it there. */
	ct_spin_lock(&w->wheel_lock);
	ct_wheel_link(w, ct, c, id, now);
	ct_spin_unlock(&w->wheel_lock);
	rc = ct_table_insert_locked(ct, &p.key, p.hash, id);
	if (rc != 0 && ct_early_drop_locked(ct, w, p.hash, now32, SG_CT_NO_PORT) == 0)
		rc = ct_table_insert_locked(ct, &p.key, p.hash, id);
	if (rc != 0) {
		ct_spin_lock(&w->wheel_lock);
		ct_wheel_unlink(ct, c);
		ct_spin_unlock(&w->wheel_lock);
		goto full;
	}
	ct_live_add(ct, ct_body(c)->origin.in_port);
	ct_spin_unlock(&ct->table_lock);
	w->counters[CT_C_INSERTS]++;
	v->conn = c;
	v->result = SG_CT_NEW;
	v->dir = SG_CT_DIR_ORIG;
	v->reason = SG_DROP_NONE;
	v->flags = (ct_flags(c) & CT_F_PICKUP) ? SG_CT_VF_PICKUP : 0;
	return 0;
over_share:
	refused = CT_C_SHARE_REFUSED;
	v->reason = SG_DROP_CT_PORT_SHARE;
full:
	ct_spin_unlock(&ct->table_lock);
	if (id != 0)
		ct_worker_free(ct, w, id);
	__atomic_store_n(&w->counters[refused], w->counters[refused] + 1, __ATOMIC_RELAXED);
	v->result = SG_CT_INVALID;
	if (refused == CT_C_TABLE_FULL)
		v->reason = SG_DROP_CT_TABLE_FULL;
	return -ENOSPC;
}

/* ---- Accessors ---- */

void
sg_ct_conn_origin(const struct sg_conn *c, struct sg_ct_origin *origin)
{
	const struct ct_body *b = ct_body_const(c);

	*origin = b->origin;
	origin->policy_epoch = __atomic_load_n(&b->origin.policy_epoch, __ATOMIC_RELAXED);
}

uint32_t
sg_ct_conn_epoch(const struct sg_conn *c)
{
	return __atomic_load_n(&ct_body_const(c)->origin.policy_epoch, __ATOMIC_RELAXED);
}

void
sg_ct_conn_set_epoch(struct sg_conn *c, uint32_t epoch)
{
	__atomic_store_n(&ct_body(c)->origin.policy_epoch, epoch, __ATOMIC_RELAXED);
}

void
sg_ct_conn_set_rules(struct sg_conn *c, uint32_t epoch, uint32_t egress_rule,
		uint32_t ingress_rule)
{
	struct ct_body *b = ct_body(c);

	/* Under the entry lock so a walk's snapshot sees rules and epoch that belong together. */
	ct_conn_lock(c);
	b->origin.egress_rule = egress_rule;
	b->origin.ingress_rule = ingress_rule;
	__atomic_store_n(&b->origin.policy_epoch, epoch, __ATOMIC_RELAXED);
	ct_conn_unlock(c);
}

unsigned int
sg_ct_closed_drain(struct sg_ct *ct, unsigned int worker, struct sg_ct_closed *out, unsigned int n)
{
	struct rte_ring *r = worker < ct->n_workers ? ct->workers[worker].closed : NULL;

	if (r == NULL)
		return 0;
	return rte_ring_dequeue_burst_elem(r, out, sizeof(*out), n, NULL);
}

uint64_t
sg_ct_closed_lost_port(const struct sg_ct *ct, uint16_t port)
{
	uint64_t n = 0;

	for (unsigned int w = 0; port < SG_CT_MAX_PORTS && w < ct->n_workers; w++)
		if (ct->workers[w].closed_lost_port != NULL)
			n += __atomic_load_n(&ct->workers[w].closed_lost_port[port], __ATOMIC_RELAXED);
	return n;
}

void
sg_ct_conn_set_blocked(struct sg_conn *c, bool blocked)
{
	ct_conn_lock(c);
	if (blocked)
		ct_flags_set(c, CT_F_BLOCKED, 0);
	else
		ct_flags_set(c, 0, CT_F_BLOCKED);
	ct_conn_unlock(c);
}

bool
sg_ct_conn_blocked(const struct sg_conn *c)
{
	return (ct_flags(c) & CT_F_BLOCKED) != 0;
}

bool
sg_ct_conn_is_pickup(const struct sg_conn *c)
{
	return (ct_flags(c) & CT_F_PICKUP) != 0;
}

void
sg_ct_conn_confirm(struct sg_conn *c)
{
	ct_conn_lock(c);
	ct_flags_set(c, 0, CT_F_PICKUP);
	ct_conn_unlock(c);
}

enum sg_ct_state
sg_ct_conn_state(const struct sg_conn *c)
{
	return ct_proto_of(c->proto)->state(c);
}
