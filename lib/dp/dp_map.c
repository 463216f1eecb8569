/* SPDX-License-Identifier: BSD-3-Clause */
/* Immutable open-addressing maps from MACs, IP addresses and allowed prefixes to vports: built
 * once per generation on the control thread, read by workers without any synchronisation. */
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
dp_map_put(struct dp_map *map, enum dp_key_kind kind, const uint8_t *key, uint32_t value,
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


/*
 * The network holding an address, one family each: mask the address to each length present
 * (longest first) and look the network up with dp_map_find(). A slot of another length at
 * the same bytes is no match (networks never repeat). The families have a function each, so
 * that an IPv4 lookup handles no 16-byte keys and saves no registers an IPv6 one needs
 * (callgrind: a shared loop cost half as much again).
 */
static __rte_noinline const struct dp_map_slot *
nets_find4(const struct dp_map *map, const struct dp_nets_lens *lens, const uint8_t *addr)
{
	uint32_t a;

	memcpy(&a, addr, 4);
	for (unsigned int i = 0; i < lens->n; i++) {
		const struct dp_map_slot *slot;
		uint32_t k, m;

		memcpy(&m, lens->mask[i], 4);
		k = a & m;
		slot = dp_map_find(map, DP_KEY_IPV4, (const uint8_t *)&k);
		if (slot != NULL && slot->len == lens->len[i])
			return slot;
	}
	return NULL;
}

static __rte_noinline const struct dp_map_slot *
nets_find6(const struct dp_map *map, const struct dp_nets_lens *lens, const uint8_t *addr)
{
	uint64_t a[2];

	memcpy(a, addr, 16);
	for (unsigned int i = 0; i < lens->n; i++) {
		uint64_t k[2] = {a[0] & lens->mask[i][0], a[1] & lens->mask[i][1]};
		const struct dp_map_slot *slot = dp_map_find(map, DP_KEY_IPV6, (const uint8_t *)k);

		if (slot != NULL && slot->len == lens->len[i])
			return slot;
	}
	return NULL;
}

const struct dp_map_slot *
dp_prefix_find(const struct dp_map *map, const struct dp_nets_lens lens[2], const struct sg_ip *ip)
{
	if (ip->family == SG_AF_INET)
		return nets_find4(map, &lens[0], ip->bytes);
	return nets_find6(map, &lens[1], ip->bytes);
}

const struct dp_map_slot *
dp_nets_find(const struct dp_nets *nets, const struct sg_ip *ip, bool routed)
{
	return dp_prefix_find(&nets->map, routed ? nets->routed : nets->all, ip);
}
