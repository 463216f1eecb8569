/* Immutable open-addressing maps from MACs and IP addresses to vports: built once per
 * generation on the control thread, read by workers without any synchronisation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_private.h"

int
dp_map_init(struct dp_map *map, uint32_t n_keys)
{
	struct sg_hash_secret secret;
	uint32_t size = 16;
	int rc;

	/* At most half full, so probes stay short. */
	while (size < n_keys * 2)
		size *= 2;
	map->slots = calloc(size, sizeof(*map->slots));
	map->mask = size - 1;
	map->shift = 64u - (uint32_t)__builtin_ctz(size);
	if (map->slots == NULL)
		return -ENOMEM;
	rc = sg_hash_secret_random(&secret);
	if (rc < 0)
		return rc;
	for (int k = 0; k < 2; k++)
		map->mult[k] = ((uint64_t)secret.k[2 * k] << 32 | secret.k[2 * k + 1]) | 1u;
	return 0;
}

void
dp_map_free(struct dp_map *map)
{
	free(map->slots);
	map->slots = NULL;
}

struct dp_map_slot *
dp_map_put(struct dp_map *map, enum dp_key_kind kind, const uint8_t *key, uint16_t value,
		uint16_t subnet)
{
	uint32_t i = dp_map_hash(map, kind, key) & map->mask;

	for (;; i = (i + 1) & map->mask) {
		struct dp_map_slot *slot = &map->slots[i];

		if (slot->kind == DP_KEY_EMPTY ||
				(slot->kind == kind && memcmp(slot->key, key, dp_key_len(kind)) == 0)) {
			memset(slot->key, 0, sizeof(slot->key));
			memcpy(slot->key, key, dp_key_len(kind));
			slot->kind = (uint8_t)kind;
			slot->value = value;
			slot->subnet = subnet;
			slot->len = 0;
			return slot;
		}
	}
}

