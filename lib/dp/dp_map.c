/* Immutable open-addressing maps from MACs and IP addresses to vports: built once per
 * generation on the control thread, read by workers without any synchronisation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash_crc.h>

#include "dp_private.h"

static unsigned int
key_len(enum dp_key_kind kind)
{
	return kind == DP_KEY_MAC ? 6 : kind == DP_KEY_IPV4 ? 4 : 16;
}

static uint32_t
key_hash(enum dp_key_kind kind, const uint8_t *key)
{
	/* rte_hash_crc() reads 8 and 4 bytes at a time through cast pointers, and keys have no
	 * alignment (a MAC at offset 6 of a frame): hash an aligned copy, the same value
	 * without the undefined behaviour UBSan reports. */
	union {
		uint64_t words[2];
		uint8_t bytes[16];
	} k;

	memcpy(k.bytes, key, key_len(kind));
	return rte_hash_crc(k.bytes, key_len(kind), (uint32_t)kind);
}

int
dp_map_init(struct dp_map *map, uint32_t n_keys)
{
	uint32_t size = 16;

	/* At most half full, so probes stay short. */
	while (size < n_keys * 2)
		size *= 2;
	map->slots = calloc(size, sizeof(*map->slots));
	map->mask = size - 1;
	return map->slots == NULL ? -ENOMEM : 0;
}

void
dp_map_free(struct dp_map *map)
{
	free(map->slots);
	map->slots = NULL;
}

void
dp_map_put(struct dp_map *map, enum dp_key_kind kind, const uint8_t *key, uint16_t value,
		uint16_t subnet)
{
	uint32_t i = key_hash(kind, key) & map->mask;

	for (;; i = (i + 1) & map->mask) {
		struct dp_map_slot *slot = &map->slots[i];

		if (slot->kind == DP_KEY_EMPTY ||
				(slot->kind == kind && memcmp(slot->key, key, key_len(kind)) == 0)) {
			memset(slot->key, 0, sizeof(slot->key));
			memcpy(slot->key, key, key_len(kind));
			slot->kind = (uint8_t)kind;
			slot->value = value;
			slot->subnet = subnet;
			return;
		}
	}
}

const struct dp_map_slot *
dp_map_find(const struct dp_map *map, enum dp_key_kind kind, const uint8_t *key)
{
	uint32_t i = key_hash(kind, key) & map->mask;

	for (;; i = (i + 1) & map->mask) {
		const struct dp_map_slot *slot = &map->slots[i];

		if (slot->kind == DP_KEY_EMPTY)
			return NULL;
		if (slot->kind == kind && memcmp(slot->key, key, key_len(kind)) == 0)
			return slot;
	}
}
