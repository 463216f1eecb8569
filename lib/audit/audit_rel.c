/* SPDX-License-Identifier: BSD-3-Clause */
/* Relations between two entries of a merged list: does one match every flow the other matches
 * (covers), do they share a flow (intersect)? Field by field, over the expanded peers, as
 * sg_eff_rule_matches() decides a single flow. */
#include "audit_private.h"

static bool
range_covers(const struct sg_range *a, const struct sg_range *b)
{
	return a->lo <= b->lo && b->hi <= a->hi;
}

static bool
range_meets(const struct sg_range *a, const struct sg_range *b)
{
	return a->lo <= b->hi && b->lo <= a->hi;
}

bool
audit_matches_nothing(const struct sg_eff_rule *e)
{
	return !e->peer_any && e->n_peers == 0;
}

/* Every peer address of 'b' is a peer of 'a'. */
static bool
peers_cover(const struct sg_eff_rule *a, const struct sg_eff_rule *b)
{
	if (a->peer_any)
		return true;
	if (b->peer_any)
		return false;
	for (uint32_t i = 0; i < b->n_peers; i++) {
		bool inside = false;

		for (uint32_t k = 0; k < a->n_peers && !inside; k++)
			inside = sg_prefix_covers(&a->peers[k], &b->peers[i]);
		if (!inside)
			return false;
	}
	return true;
}

static bool
peers_meet(const struct sg_eff_rule *a, const struct sg_eff_rule *b)
{
	if (a->peer_any || b->peer_any)
		return !audit_matches_nothing(a) && !audit_matches_nothing(b);
	for (uint32_t i = 0; i < b->n_peers; i++)
		for (uint32_t k = 0; k < a->n_peers; k++)
			if (sg_prefix_covers(&a->peers[k], &b->peers[i]) ||
					sg_prefix_covers(&b->peers[i], &a->peers[k]))
				return true;
	return false;
}

/* 'b' matches only addresses of the family 'a' is limited to (a group peer's entry has no
 * family of its own: its members' addresses say). */
static bool
family_covered(const struct sg_eff_rule *a, const struct sg_eff_rule *b)
{
	if (a->family == 0 || a->family == b->family)
		return true;
	if (b->family != 0 || b->peer_any)
		return false;
	for (uint32_t i = 0; i < b->n_peers; i++)
		if (b->peers[i].ip.family != a->family)
			return false;
	return true;
}

bool
audit_covers(const struct sg_eff_rule *a, const struct sg_eff_rule *b)
{
	if (audit_matches_nothing(b))
		return true;
	if (!family_covered(a, b))
		return false;
	if (a->proto != SG_PROTO_ANY && a->proto != b->proto)
		return false;
	if (a->proto != SG_PROTO_ANY && sg_proto_has_ports(a->proto) &&
			(!range_covers(&a->dport, &b->dport) || !range_covers(&a->sport, &b->sport)))
		return false;
	if (a->proto != SG_PROTO_ANY && sg_proto_is_icmp(a->proto) && a->icmp_type >= 0) {
		if (b->icmp_type != a->icmp_type)
			return false;
		if (a->icmp_code >= 0 && b->icmp_code != a->icmp_code)
			return false;
	}
	return peers_cover(a, b);
}

bool
audit_intersects(const struct sg_eff_rule *a, const struct sg_eff_rule *b)
{
	if (a->family != 0 && b->family != 0 && a->family != b->family)
		return false;
	if (a->proto != SG_PROTO_ANY && b->proto != SG_PROTO_ANY) {
		if (a->proto != b->proto)
			return false;
		if (sg_proto_has_ports(a->proto) &&
				(!range_meets(&a->dport, &b->dport) || !range_meets(&a->sport, &b->sport)))
			return false;
		if (sg_proto_is_icmp(a->proto) && a->icmp_type >= 0 && b->icmp_type >= 0) {
			if (a->icmp_type != b->icmp_type)
				return false;
			if (a->icmp_code >= 0 && b->icmp_code >= 0 && a->icmp_code != b->icmp_code)
				return false;
		}
	}
	return peers_meet(a, b);
}
