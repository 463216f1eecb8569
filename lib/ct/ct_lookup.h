/* SPDX-License-Identifier: BSD-3-Clause */
/* The connection table's hash and its lock-free lookup, inline for the burst loop: the keyed
 * hash of a canonical key, its two buckets and signature, and the search of a bucket and of a
 * key's two buckets. ct_table.c has the writers (insert, cuckoo moves, remove), which keep the
 * order these readers rely on (see its opening comment). */
#ifndef CT_LOOKUP_H
#define CT_LOOKUP_H

#include <string.h>
#ifdef __SSE2__
#include <x86intrin.h>
#endif

#include "ct_private.h"

/* A bijective 32-bit mix (murmur3's finaliser): the second bucket from the first hash. */
static inline uint32_t
ct_mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/*
 * The keyed hash of a canonical key (sg_hash.h): the table's secret, drawn at creation, so no
 * one can prepare tuples that pile into a bucket. The key is read as the 64-bit words NH takes:
 * family, protocol and ports, then the addresses.
 */
/* ct_key_hash() of an IPv4 key: always inline, so the key builder of the burst loop's common
 * case keeps no call (gcc otherwise calls ct_key_hash() out of line there). */
static __rte_always_inline uint32_t
ct_key_hash4(const struct sg_ct *ct, const struct ct_key *k)
{
	const struct sg_hash_secret *s = &ct->secret;
	uint64_t w[2];

	memcpy(&w[0], k, 8);
	memcpy(&w[1], k->addr.v4, 8);
	return sg_hash_finish(s, 16 + sg_hash_nh64(s, 0, w[0]) + sg_hash_nh64(s, 2, w[1]));
}

static inline uint32_t
ct_key_hash(const struct sg_ct *ct, const struct ct_key *k)
{
	const struct sg_hash_secret *s = &ct->secret;
	uint64_t w[5];

	if (k->family == SG_AF_INET)
		return ct_key_hash4(ct, k);
	memcpy(&w[0], k, 8);
	memcpy(&w[1], k->addr.v6, 32);
	return sg_hash_finish(s, 40 + sg_hash_nh64(s, 0, w[0]) + sg_hash_nh64(s, 2, w[1]) +
						 sg_hash_nh64(s, 4, w[2]) +
						 sg_hash_nh64(s, 6, w[3]) +
						 sg_hash_nh64(s, 8, w[4]));
}

/* Range reduction without division, so the bucket count need not be a power of two. */
static inline uint32_t
ct_reduce(uint32_t h, uint32_t n)
{
	return (uint32_t)(((uint64_t)h * n) >> 32);
}

static inline uint32_t
ct_bucket1(const struct sg_ct *ct, uint32_t hash)
{
	return ct_reduce(hash, ct->n_buckets);
}

static inline uint32_t
ct_bucket2(const struct sg_ct *ct, uint32_t hash, uint32_t b1)
{
	uint32_t b2 = ct_reduce(ct_mix32(hash ^ 0x9e3779b9u), ct->n_buckets);

	if (b2 == b1)
		b2 = b1 + 1 == ct->n_buckets ? 0 : b1 + 1;
	return b2;
}

static inline void
ct_buckets_of(const struct sg_ct *ct, uint32_t hash, uint32_t *b1, uint32_t *b2)
{
	*b1 = ct_bucket1(ct, hash);
	*b2 = ct_bucket2(ct, hash, *b1);
}

static inline uint16_t
ct_sig(uint32_t hash)
{
	return (uint16_t)hash;
}

/* Vector compares read the signatures without atomics: ThreadSanitizer builds keep the scalar
 * loop, whose relaxed atomic loads it understands. The signature is a hint either way: the
 * id is loaded with acquire and the key compared in the entry. */
#if defined(__SSE2__) && !defined(__SANITIZE_THREAD__)
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CT_SCALAR_SIGS 1
#endif
#endif
#else
#define CT_SCALAR_SIGS 1
#endif

/* Bit i set when slot i of 'b' carries signature 'sig'. */
static inline uint32_t
ct_sig_mask(const struct ct_bucket *b, uint16_t sig)
{
#ifndef CT_SCALAR_SIGS
	const __m128i s = _mm_set1_epi16((short)sig);
	/* Slots 0-7, then 8-9 (bytes 16-19; the rest of that load is ids, masked off). */
	__m128i lo = _mm_cmpeq_epi16(_mm_load_si128((const __m128i *)(const void *)b->sig), s);
	__m128i hi = _mm_cmpeq_epi16(_mm_load_si128((const __m128i *)(const void *)&b->sig[8]), s);

	return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(lo, hi)) & ((1u << CT_BUCKET_SLOTS) - 1);
#else
	uint32_t mask = 0;

	for (unsigned int i = 0; i < CT_BUCKET_SLOTS; i++)
		if (__atomic_load_n(&b->sig[i], __ATOMIC_RELAXED) == sig)
			mask |= 1u << i;
	return mask;
#endif
}

static inline bool
ct_key_match(const struct sg_conn *c, const struct ct_key *k)
{
	if (c->proto != k->proto)
		return false;
	if (k->family == SG_AF_INET) {
		uint64_t ka, ca;
		uint32_t kb, cb;

		/* Ports and the first address, then the second address (struct ct_conn4). */
		memcpy(&ka, (const uint8_t *)k + offsetof(struct ct_key, port), 8);
		memcpy(&ca, (const uint8_t *)c + offsetof(struct ct_conn4, hdr.port), 8);
		memcpy(&kb, &k->addr.v4[1], 4);
		memcpy(&cb, &((const struct ct_conn4 *)c)->addr[1], 4);
		return ((ka ^ ca) | (kb ^ cb)) == 0 && !(c->flags & CT_F_V6);
	}
	{
		uint32_t p1, p2;

		memcpy(&p1, c->port, 4);
		memcpy(&p2, k->port, 4);
		return p1 == p2 && (c->flags & CT_F_V6) &&
		       memcmp(((const struct ct_conn6 *)c)->addr, k->addr.v6, 32) == 0;
	}
}

static __rte_always_inline struct sg_conn *
ct_bucket_search(const struct sg_ct *ct, const struct ct_bucket *b, uint16_t sig,
		const struct ct_key *k, uint32_t *idp)
{
	for (uint32_t mask = ct_sig_mask(b, sig); mask != 0; mask &= mask - 1) {
		unsigned int i = (unsigned int)__builtin_ctz(mask);
		uint32_t id = __atomic_load_n(&b->id[i], __ATOMIC_ACQUIRE);
		struct sg_conn *c;

		if (id == 0)
			continue;
		c = ct_conn_of(ct, id);
		/* A dead entry may sit beside its live successor until its killer removes it. */
		if (ct_key_match(c, k) && !(ct_flags(c) & CT_F_DEAD)) {
			if (idp != NULL)
				*idp = id;
			return c;
		}
	}
	return NULL;
}

/*
 * The rest of ct_table_lookup() after a miss in the first bucket read under 'chng': the
 * second bucket, then the same search again while entries moved meanwhile. Out of line so
 * that the second bucket's index is computed only on this path: inside the retry loop gcc
 * hoisted it (loop-invariant) and computed it for every packet, about 15 instructions.
 */
static __rte_noinline struct sg_conn *
ct_table_lookup_rest(const struct sg_ct *ct, const struct ct_key *k, uint32_t hash, uint32_t b1,
		uint32_t chng)
{
	uint16_t sig = ct_sig(hash);
	uint32_t b2 = ct_bucket2(ct, hash, b1);

	for (;;) {
		struct sg_conn *c = ct_bucket_search(ct, &ct->buckets[b2], sig, k, NULL);

		if (c != NULL)
			return c;
		/* A miss is trusted only if no entry moved between buckets meanwhile. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (chng == __atomic_load_n(&ct->tbl_chng, __ATOMIC_ACQUIRE))
			return NULL;
		chng = __atomic_load_n(&ct->tbl_chng, __ATOMIC_ACQUIRE);
		c = ct_bucket_search(ct, &ct->buckets[b1], sig, k, NULL);
		if (c != NULL)
			return c;
	}
}

/* The live entry of key 'k' (first bucket 'b1' of 'hash'), lock-free; NULL when there is none.
 * Each round reads the change count, then the first bucket, then the second. */
static __rte_always_inline struct sg_conn *
ct_table_lookup_b1(const struct sg_ct *ct, const struct ct_key *k, uint32_t hash, uint32_t b1)
{
	uint32_t chng = __atomic_load_n(&ct->tbl_chng, __ATOMIC_ACQUIRE);
	struct sg_conn *c = ct_bucket_search(ct, &ct->buckets[b1], ct_sig(hash), k, NULL);

	if (likely(c != NULL))
		return c;
	return ct_table_lookup_rest(ct, k, hash, b1, chng);
}

/* The live entry of key 'k', lock-free; NULL when there is none. */
static __rte_always_inline struct sg_conn *
ct_table_lookup(const struct sg_ct *ct, const struct ct_key *k, uint32_t hash)
{
	return ct_table_lookup_b1(ct, k, hash, ct_bucket1(ct, hash));
}

#endif /* CT_LOOKUP_H */
