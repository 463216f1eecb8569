/* SPDX-License-Identifier: BSD-3-Clause */
/* Classify a burst of keys with a list's rte_acl context, or match it linearly while the
 * context is being built (same first-match answer either way). */
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>

#include "acl_private.h"

/* First match in list order, exactly what the context will answer (0: no match). */
static void
classify_linear(const struct acl_ctx *c, const uint8_t **keys, uint32_t *results, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t peer[4] = {0}, found = 0;
		uint16_t sport, dport;
		uint8_t proto;

		if (c->v6) {
			const struct sg_acl_key6 *k = (const struct sg_acl_key6 *)keys[i];

			for (int w = 0; w < 4; w++) {
				memcpy(&peer[w], k->peer + 4 * w, 4);
				peer[w] = rte_be_to_cpu_32(peer[w]);
			}
			proto = k->proto;
			sport = rte_be_to_cpu_16(k->sport);
			dport = rte_be_to_cpu_16(k->dport);
		} else {
			const struct sg_acl_key4 *k = (const struct sg_acl_key4 *)keys[i];

			peer[0] = rte_be_to_cpu_32(k->peer);
			proto = k->proto;
			sport = rte_be_to_cpu_16(k->sport);
			dport = rte_be_to_cpu_16(k->dport);
		}
		for (uint32_t r = 0; r < c->n_match && found == 0; r++) {
			const struct acl_match *m = &c->match[r];

			if ((proto & m->proto_mask) == m->proto && (peer[0] & m->mask[0]) == m->addr[0] &&
					(peer[1] & m->mask[1]) == m->addr[1] &&
					(peer[2] & m->mask[2]) == m->addr[2] &&
					(peer[3] & m->mask[3]) == m->addr[3] && sport >= m->sport_lo &&
					sport <= m->sport_hi && dport >= m->dport_lo && dport <= m->dport_hi)
				found = m->position;
		}
		results[i] = found;
	}
}

void
sg_acl_classify(const struct sg_acl *acl, uint32_t port, enum sg_dir dir, uint8_t family,
		const uint8_t **keys, uint32_t *results, uint32_t n)
{
	const struct acl_ctx *c = acl->ctx[ctx_index(port, dir, family)];
	const struct rte_acl_ctx *ctx = __atomic_load_n(&c->ctx, __ATOMIC_ACQUIRE);

	if (likely(ctx != NULL)) {
		rte_acl_classify(ctx, keys, results, n, 1);
	} else if (c->match == NULL) {
		for (uint32_t i = 0; i < n; i++)
			results[i] = c->constant;
	} else {
		classify_linear(c, keys, results, n);
	}
}
