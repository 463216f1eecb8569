/* SPDX-License-Identifier: BSD-3-Clause */
/* Secrets for the keyed hash of sg_hash.h: from the kernel's random source, or a seed. */
#include <errno.h>
#include <sys/random.h>

#include "sg_hash.h"

int
sg_hash_secret_random(struct sg_hash_secret *s)
{
	uint8_t *p = (uint8_t *)s;
	size_t done = 0;

	while (done < sizeof(*s)) {
		ssize_t n = getrandom(p + done, sizeof(*s) - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* splitmix64: each call a well-spread 64-bit value from a counter. */
static uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void
sg_hash_secret_from_seed(struct sg_hash_secret *s, uint64_t seed)
{
	for (size_t i = 0; i < SG_HASH_MAX_KEY / 4; i += 2) {
		uint64_t v = splitmix64(&seed);

		s->k[i] = (uint32_t)v;
		s->k[i + 1] = (uint32_t)(v >> 32);
	}
	s->fin = splitmix64(&seed);
}
