/* SPDX-License-Identifier: BSD-3-Clause */
/* Keyed hashing for tables whose keys come from packets (connections, fragments, flow logs,
 * forwarding maps): a secret chosen at start, so no one outside can prepare keys that pile
 * into one bucket.
 *
 * Why not a seeded CRC: CRC is affine in its input, so crc(seed, a) == crc(seed, b) exactly
 * when crc(0, a) == crc(0, b), and the low bits of crc(seed, x) are those of crc(0, x) XOR a
 * constant. Keys that collide (fully, or in a table's low bits) collide under every seed,
 * and an attacker who picks ports, fragment ids or outside addresses finds them by linear
 * algebra. The same holds for any bijective mix applied after the CRC.
 *
 * What it is instead: NH, the inner layer of UMAC (RFC 4418): the key as 32-bit words m[i],
 * the secret as words k[i], and the sum over i of (m[2i] + k[2i]) * (m[2i+1] + k[2i+1]), each
 * addition mod 2^32 and the products and sum mod 2^64. For two different keys of one length
 * the sums collide with probability at most 2^-32 over the secret (NH is 2^-32-almost
 * universal), so collisions cannot be computed without it. A murmur3 finaliser, also keyed,
 * then spreads the sum over the 32 bits tables use. Cost: one 32x32->64 multiply per 8 key
 * bytes, two for the finaliser: 4 for an IPv4 connection key, 7 for IPv6.
 *
 * Keys of one table must all have the same length (the callers' keys are structs); at most
 * SG_HASH_MAX_KEY bytes.
 */
#ifndef SG_HASH_H
#define SG_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SG_HASH_MAX_KEY 64

struct sg_hash_secret {
	uint32_t k[SG_HASH_MAX_KEY / 4];
	uint64_t fin;
};

/** A secret from the kernel's random source (getrandom(2)). 0, or -errno. */
int sg_hash_secret_random(struct sg_hash_secret *s);

/** A secret derived from 'seed': reproducible runs (tests, benchmarks of known keys). */
void sg_hash_secret_from_seed(struct sg_hash_secret *s, uint64_t seed);

/** murmur3's 64-bit finaliser: a bijection that spreads every input bit over the output. */
static inline uint64_t
sg_hash_fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

/** One NH step over two 32-bit key words at word index 'i' of the secret. */
static inline uint64_t
sg_hash_nh(const struct sg_hash_secret *s, unsigned int i, uint32_t a, uint32_t b)
{
	return (uint64_t)(uint32_t)(a + s->k[i]) * (uint32_t)(b + s->k[i + 1]);
}

/** The 64-bit NH sum of two 64-bit words at word index 'i' (i even). */
static inline uint64_t
sg_hash_nh64(const struct sg_hash_secret *s, unsigned int i, uint64_t w)
{
	return sg_hash_nh(s, i, (uint32_t)w, (uint32_t)(w >> 32));
}

/** Finish an NH sum into 32 bits. */
static inline uint32_t
sg_hash_finish(const struct sg_hash_secret *s, uint64_t sum)
{
	return (uint32_t)(sg_hash_fmix64(sum ^ s->fin) >> 32);
}

/** The keyed hash of 'len' bytes (len <= SG_HASH_MAX_KEY; shorter keys are zero-padded). */
static inline uint32_t
sg_hash_keyed(const struct sg_hash_secret *s, const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t sum = len;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		sum += sg_hash_nh64(s, (unsigned int)(i / 4), w);
	}
	if (i < len) {
		uint64_t w = 0;

		memcpy(&w, p + i, len - i);
		sum += sg_hash_nh64(s, (unsigned int)(i / 4), w);
	}
	return sg_hash_finish(s, sum);
}

#endif /* SG_HASH_H */
