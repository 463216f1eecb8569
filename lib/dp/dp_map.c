/* Immutable open-addressing maps from MACs and IP addresses to vports: built once per
 * generation on the control thread, read by workers without any synchronisation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_private.h"

static unsigned int
key_len(enum dp_key_kind kind)
{
	return kind == DP_KEY_MAC ? 6 : kind == DP_KEY_IPV4 ? 4 : 16;
}

/* Keyed (sg_hash.h): lookups take addresses from packets, which must not be able to aim at
 * the longest probe sequence. Keys are copied first so that every kind hashes 16 bytes. */
static uint32_t
key_hash(const struct dp_map *map, enum dp_key_kind kind, const uint8_t *key)
{
	uint8_t k[16] = {0};

	memcpy(k, key, key_len(kind));
	return sg_hash_keyed(&map->secret, k, sizeof(k)) ^ (uint32_t)kind;
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
	if (map->slots == NULL)
		return -ENOMEM;
	return sg_hash_secret_random(&map->secret);
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
	uint32_t i = key_hash(map, kind, key) & map->mask;

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
	uint32_t i = key_hash(map, kind, key) & map->mask;

	for (;; i = (i + 1) & map->mask) {
		const struct dp_map_slot *slot = &map->slots[i];

		if (slot->kind == DP_KEY_EMPTY)
			return NULL;
		if (slot->kind == kind && memcmp(slot->key, key, key_len(kind)) == 0)
			return slot;
	}
}
