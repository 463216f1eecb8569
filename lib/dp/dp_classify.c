/* SPDX-License-Identifier: BSD-3-Clause */
/* Classification of the checks a burst needs: the sender's egress and the receiver's ingress
 * lists through rte_acl (or the scan of a list whose context is still being built), grouped so
 * each (port, family) is one call; verdicts and rule hits. */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "dp_worker.h"

/* The classifier key of packet 'i' for the check at 'vport' in 'dir'. */
static inline void
make_key(struct dp_worker *w, uint16_t slot, uint16_t i, enum sg_dir dir, bool swapped)
{
	const struct sg_pkt_meta *md = &w->meta[i];
	/* Ingress looks at the source, egress at the destination; a reply is seen swapped. */
	bool peer_is_src = (dir == SG_DIR_INGRESS) != swapped;
	const struct sg_ip *peer = peer_is_src ? &md->src : &md->dst;
	uint16_t sport = swapped ? md->dport : md->sport;
	uint16_t dport = swapped ? md->sport : md->dport;
	union dp_key *k = &w->keys[slot];

	if (sg_proto_is_icmp(md->proto)) {
		/* ICMP type and code, not a port pair: never swapped. */
		sport = md->sport;
		dport = md->dport;
	}
	if (md->src.family == SG_AF_INET) {
		k->k4.proto = md->proto;
		memcpy(&k->k4.peer, peer->bytes, 4);
		k->k4.sport = rte_cpu_to_be_16(sport);
		k->k4.dport = rte_cpu_to_be_16(dport);
	} else {
		k->k6.proto = md->proto;
		memcpy(k->k6.peer, peer->bytes, 16);
		k->k6.sport = rte_cpu_to_be_16(sport);
		k->k6.dport = rte_cpu_to_be_16(dport);
	}
}

/*
 * Classify the checks in w->cl[0..n): for each, the sender's egress and the receiver's ingress.
 * Checks are grouped by (vport, family) so each group is one rte_acl call. Fills the
 * positions in cl[].egress_pos / ingress_pos (0 when the side is the uplink: no policy).
 */
void
dp_classify_checks(struct dp_worker *w, const struct dp_gen *gen, uint16_t n)
{
	for (int d = 0; d < SG_DIR_COUNT; d++) {
		enum sg_dir dir = (enum sg_dir)d;
		uint64_t pending = n == 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1;

		while (pending != 0) {
			uint16_t first = (uint16_t)__builtin_ctzll(pending);
			struct dp_check *head = &w->cl[first];
			uint16_t vport = dir == SG_DIR_EGRESS ? head->sender : head->receiver;
			uint8_t family = w->meta[head->pkt].src.family;
			uint16_t members[SG_DP_MAX_BURST], m = 0;

			for (uint64_t rest = pending; rest != 0; rest &= rest - 1) {
				uint16_t k = (uint16_t)__builtin_ctzll(rest);
				struct dp_check *c = &w->cl[k];

				if ((dir == SG_DIR_EGRESS ? c->sender : c->receiver) != vport ||
						w->meta[c->pkt].src.family != family)
					continue;
				pending &= ~(UINT64_C(1) << k);
				members[m++] = k;
			}
			if (gen->vports[vport].uplink) {
				for (uint16_t j = 0; j < m; j++)
					w->cl[members[j]].pos[dir] = 0;
				continue;
			}
			for (uint16_t j = 0; j < m; j++) {
				make_key(w, j, w->cl[members[j]].pkt, dir, w->cl[members[j]].swapped);
				w->key_ptrs[j] = (const uint8_t *)&w->keys[j];
			}
			sg_acl_classify(gen->acl, gen->vports[vport].policy_port, dir, family, w->key_ptrs,
					w->results, m);
			for (uint16_t j = 0; j < m; j++)
				w->cl[members[j]].pos[dir] = w->results[j];
		}
	}
}

/* The hit counters of the rules deciding check 'c': egress, ingress (NULL where none did). */
static inline void
check_hits(struct dp_worker *w, const struct dp_gen *gen, const struct dp_check *c,
		uint64_t **egress, uint64_t **ingress)
{
	uint64_t *hits = gen->rule_hits + (size_t)w->id * dp_gen_hits_row(gen);
	const struct dp_vport *s = &gen->vports[c->sender], *r = &gen->vports[c->receiver];

	*egress = c->pos[SG_DIR_EGRESS] != 0 ?
			&hits[s->rule_id[SG_DIR_EGRESS][c->pos[SG_DIR_EGRESS]]] : NULL;
	*ingress = c->pos[SG_DIR_INGRESS] != 0 ?
			&hits[r->rule_id[SG_DIR_INGRESS][c->pos[SG_DIR_INGRESS]]] : NULL;
}

/*
 * Verdict of a classified check. A refusal counts the rules that decided it (the egress rule
 * that let it out, if any, and the one that refused it); an acceptance counts them only with
 * 'count_accept'. A hit stands for one connection admitted or denied: the confirmation of a
 * mid-stream pickup counts nothing (the packet that created the connection was counted).
 */
enum sg_drop_reason
dp_check_verdict(struct dp_worker *w, const struct dp_gen *gen, const struct dp_check *c,
		bool count_accept)
{
	const struct dp_vport *s = &gen->vports[c->sender], *r = &gen->vports[c->receiver];
	uint64_t one = c->kind == DP_CHECK_PICKUP ? 0 : 1;
	uint64_t *egress, *ingress;

	check_hits(w, gen, c, &egress, &ingress);
	if (egress != NULL && s->action[SG_DIR_EGRESS][c->pos[SG_DIR_EGRESS]] != SG_ACTION_ACCEPT) {
		*egress += one;
		return SG_DROP_ACL_EGRESS;
	}
	if (ingress != NULL &&
			r->action[SG_DIR_INGRESS][c->pos[SG_DIR_INGRESS]] != SG_ACTION_ACCEPT) {
		if (egress != NULL)
			*egress += one;
		*ingress += one;
		return SG_DROP_ACL_INGRESS;
	}
	if (count_accept)
		dp_check_count_accept(w, gen, c);
	return SG_DROP_NONE;
}

void
dp_check_count_accept(struct dp_worker *w, const struct dp_gen *gen, const struct dp_check *c)
{
	uint64_t *egress, *ingress;

	check_hits(w, gen, c, &egress, &ingress);
	if (egress != NULL)
		(*egress)++;
	if (ingress != NULL)
		(*ingress)++;
}

