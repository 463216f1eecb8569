/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the keyed hash (sg_hash.h): the NH definition, secrets, and that keys built
 * to collide under one secret spread like any keys under another, where a seeded CRC's
 * collisions survive every seed (why sgfw does not use one); the control path's key set. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sg_common.h"
#include "sg_hash.h"

START_TEST(definition)
{
	struct sg_hash_secret s;
	uint8_t key[12];
	uint64_t sum = sizeof(key);
	uint32_t w[4] = {0};

	sg_hash_secret_from_seed(&s, 42);
	for (unsigned int i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 1);
	memcpy(w, key, sizeof(key)); /* the tail word is zero-padded */
	for (int i = 0; i < 4; i += 2)
		sum += (uint64_t)(uint32_t)(w[i] + s.k[i]) * (uint32_t)(w[i + 1] + s.k[i + 1]);
	ck_assert_uint_eq(sg_hash_keyed(&s, key, sizeof(key)),
			(uint32_t)(sg_hash_fmix64(sum ^ s.fin) >> 32));
}
END_TEST

START_TEST(secrets)
{
	struct sg_hash_secret a, b, c;

	ck_assert_int_eq(sg_hash_secret_random(&a), 0);
	ck_assert_int_eq(sg_hash_secret_random(&b), 0);
	ck_assert_msg(memcmp(&a, &b, sizeof(a)) != 0, "two random secrets are the same");
	sg_hash_secret_from_seed(&a, 7);
	sg_hash_secret_from_seed(&b, 7);
	sg_hash_secret_from_seed(&c, 8);
	ck_assert(memcmp(&a, &b, sizeof(a)) == 0);
	ck_assert(memcmp(&a, &c, sizeof(a)) != 0);
}
END_TEST

/* A 40-byte key like a fragment's or an IPv6 connection's: addresses fixed, 'n' varies. */
static void
key_of(uint32_t n, uint8_t key[40])
{
	memset(key, 0, 40);
	key[0] = 0xfd;
	key[15] = 1;
	key[16] = 0xfd;
	key[31] = 2;
	memcpy(key + 32, &n, 4);
	key[36] = 6;
}

#define BITS 10
#define KEYS 256

/* The largest number of 'keys' sharing their low BITS under 's'. */
static unsigned int
worst_bucket(const struct sg_hash_secret *s, const uint32_t *keys)
{
	static unsigned int count[1u << BITS];
	unsigned int worst = 0;
	uint8_t key[40];

	memset(count, 0, sizeof(count));
	for (int i = 0; i < KEYS; i++) {
		unsigned int b;

		key_of(keys[i], key);
		b = sg_hash_keyed(s, key, sizeof(key)) & ((1u << BITS) - 1);
		if (++count[b] > worst)
			worst = count[b];
	}
	return worst;
}

START_TEST(collisions_do_not_survive_a_new_secret)
{
	struct sg_hash_secret known, secret;
	uint32_t keys[KEYS], n = 0;
	uint8_t key[40];
	uint32_t target;

	/* What an attacker who knows a table's secret sends: keys for one bucket of 1024. */
	sg_hash_secret_from_seed(&known, 1);
	key_of(0, key);
	target = sg_hash_keyed(&known, key, sizeof(key)) & ((1u << BITS) - 1);
	for (uint32_t v = 0; n < KEYS; v++) {
		key_of(v, key);
		if ((sg_hash_keyed(&known, key, sizeof(key)) & ((1u << BITS) - 1)) == target)
			keys[n++] = v;
	}
	ck_assert_uint_eq(worst_bucket(&known, keys), KEYS);
	/* Under secrets it does not know they spread as 256 keys over 1024 buckets do: the
	 * fullest bucket holds a handful (the bound holds for every seed tried). */
	for (uint64_t seed = 2; seed < 34; seed++) {
		unsigned int worst;

		sg_hash_secret_from_seed(&secret, seed);
		worst = worst_bucket(&secret, keys);
		ck_assert_msg(worst <= 6, "seed %lu: %u of the keys in one bucket",
				(unsigned long)seed, worst);
	}
}
END_TEST

/* CRC32-C, bitwise, from 'init'. */
static uint32_t
crc32c(uint32_t init, const uint8_t *p, size_t len)
{
	uint32_t crc = ~init;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

START_TEST(seeded_crc_collisions_survive_every_seed)
{
	uint32_t keys[KEYS], n = 0;
	uint8_t key[40];
	uint32_t target;

	/* Keys whose CRC from seed 0 shares the low bits... */
	key_of(0, key);
	target = crc32c(0, key, sizeof(key)) & ((1u << BITS) - 1);
	for (uint32_t v = 0; n < KEYS; v++) {
		key_of(v, key);
		if ((crc32c(0, key, sizeof(key)) & ((1u << BITS) - 1)) == target)
			keys[n++] = v;
	}
	/* ... share them from every seed: crc(seed, x) is crc(0, x) XOR a constant of the
	 * seed and the length. */
	for (uint32_t seed = 1; seed < 1000000; seed += 99991) {
		uint32_t first;

		key_of(keys[0], key);
		first = crc32c(seed, key, sizeof(key)) & ((1u << BITS) - 1);
		for (int i = 1; i < KEYS; i++) {
			key_of(keys[i], key);
			ck_assert_uint_eq(
					crc32c(seed, key, sizeof(key)) & ((1u << BITS) - 1), first);
		}
	}
}
END_TEST

/* sg_keyset: every key found again with its first value, kinds apart, through many grows. */
START_TEST(keyset)
{
	static char names[5000][16];
	struct sg_keyset set = {0};
	uint32_t first = 0;

	for (uint32_t i = 0; i < 5000; i++) {
		snprintf(names[i], sizeof(names[i]), "port-%u", i);
		ck_assert_int_eq(sg_keyset_add(&set, 1, names[i], (uint32_t)strlen(names[i]), i,
						 &first), 0);
	}
	ck_assert_uint_eq(set.n, 5000);
	for (uint32_t i = 0; i < 5000; i += 7) {
		char again[16];

		snprintf(again, sizeof(again), "port-%u", i);
		ck_assert_int_eq(sg_keyset_add(&set, 1, again, (uint32_t)strlen(again), 99999, &first),
				1);
		ck_assert_uint_eq(first, i);
		/* The same bytes of another kind are another key. */
		ck_assert_int_eq(sg_keyset_add(&set, 2, names[i], (uint32_t)strlen(names[i]), i, &first),
				0);
	}
	/* A prefix of a key is not the key. */
	ck_assert_int_eq(sg_keyset_add(&set, 1, names[12], 5, 1, &first), 0);
	sg_keyset_free(&set);
	ck_assert_ptr_null(set.slots);
	ck_assert_uint_eq(set.n, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("hash");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, definition);
	tcase_add_test(tc, secrets);
	tcase_add_test(tc, collisions_do_not_survive_a_new_secret);
	tcase_add_test(tc, seeded_crc_collisions_survive_every_seed);
	tcase_add_test(tc, keyset);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
