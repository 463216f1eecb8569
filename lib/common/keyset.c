/* SPDX-License-Identifier: BSD-3-Clause */
/* A growing set of byte keys with a value each, for the control path's uniqueness checks
 * (port names, MACs, addresses of a fleet of many ports): linear instead of pairwise. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sg_common.h"

/* FNV-1a over the kind and the bytes: config data, not packets (no secret needed). */
static uint64_t
key_hash(uint8_t kind, const void *key, uint32_t len)
{
	const uint8_t *b = key;
	uint64_t h = 0xcbf29ce484222325ull ^ kind;

	h *= 0x100000001b3ull;
	for (uint32_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

static int
grow(struct sg_keyset *set)
{
	uint32_t size = set->mask ? (set->mask + 1) * 2 : 64;
	struct sg_keyset_entry *slots = calloc(size, sizeof(*slots));

	if (slots == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; set->slots != NULL && i <= set->mask; i++) {
		const struct sg_keyset_entry *e = &set->slots[i];
		uint32_t k;

		if (e->key == NULL)
			continue;
		for (k = (uint32_t)e->hash & (size - 1); slots[k].key != NULL; k = (k + 1) & (size - 1))
			;
		slots[k] = *e;
	}
	free(set->slots);
	set->slots = slots;
	set->mask = size - 1;
	return 0;
}

int
sg_keyset_add(struct sg_keyset *set, uint8_t kind, const void *key, uint32_t len, uint32_t value,
		uint32_t *existing)
{
	uint64_t h = key_hash(kind, key, len);
	uint32_t i;

	if ((set->n + 1) * 2 > (set->mask ? set->mask + 1 : 0) && grow(set) < 0)
		return -ENOMEM;
	for (i = (uint32_t)h & set->mask; set->slots[i].key != NULL; i = (i + 1) & set->mask) {
		const struct sg_keyset_entry *e = &set->slots[i];

		if (e->hash == h && e->kind == kind && e->len == len && memcmp(e->key, key, len) == 0) {
			*existing = e->value;
			return 1;
		}
	}
	set->slots[i] = (struct sg_keyset_entry){
		.hash = h, .key = key, .len = len, .kind = kind, .value = value};
	set->n++;
	return 0;
}

int
sg_keyset_find(const struct sg_keyset *set, uint8_t kind, const void *key, uint32_t len,
		uint32_t *value)
{
	uint64_t h;
	uint32_t i;

	if (set->n == 0)
		return 0;
	h = key_hash(kind, key, len);
	for (i = (uint32_t)h & set->mask; set->slots[i].key != NULL; i = (i + 1) & set->mask) {
		const struct sg_keyset_entry *e = &set->slots[i];

		if (e->hash == h && e->kind == kind && e->len == len && memcmp(e->key, key, len) == 0) {
			*value = e->value;
			return 1;
		}
	}
	return 0;
}

void
sg_keyset_free(struct sg_keyset *set)
{
	free(set->slots);
	memset(set, 0, sizeof(*set));
}
