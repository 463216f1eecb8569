/* SPDX-License-Identifier: BSD-3-Clause */
/* Admission, the first stage of every burst: parse, port security (D14), the switch's own ARP
 * and neighbour answers (D15), and where each packet may go, by address (docs/architecture.md,
 * "The pipeline of a burst", steps 1-4; docs/security.md, "Paths around the groups"). */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp_worker.h"

/* Equality of addresses without a call: the per-packet checks use these (profiled). */
static inline bool
mac_equal(const uint8_t *a, const uint8_t *b)
{
	uint32_t a4, b4;
	uint16_t a2, b2;

	memcpy(&a4, a, 4);
	memcpy(&b4, b, 4);
	memcpy(&a2, a + 4, 2);
	memcpy(&b2, b + 4, 2);
	return ((a4 ^ b4) | (uint32_t)(a2 ^ b2)) == 0;
}

static inline bool
ip_equal(const struct sg_ip *a, const struct sg_ip *b)
{
	uint64_t a8[2], b8[2];

	if (a->family != b->family)
		return false;
	if (a->family == SG_AF_INET) {
		uint32_t a4, b4;

		memcpy(&a4, a->bytes, 4);
		memcpy(&b4, b->bytes, 4);
		return a4 == b4;
	}
	memcpy(a8, a->bytes, 16);
	memcpy(b8, b->bytes, 16);
	return ((a8[0] ^ b8[0]) | (a8[1] ^ b8[1])) == 0;
}

static inline bool
mac_is_zero(const uint8_t mac[6])
{
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

/* Word loads, not a memcmp() call of variable length: every packet from the uplink asks. */
static inline bool
ip_is_unspecified(const struct sg_ip *ip)
{
	uint64_t a8[2];
	uint32_t a4;

	if (ip->family == SG_AF_INET) {
		memcpy(&a4, ip->bytes, 4);
		return a4 == 0;
	}
	memcpy(a8, ip->bytes, 16);
	return (a8[0] | a8[1]) == 0;
}

/* fe80::/10 and 169.254.0.0/16 (RFC 4291 2.5.6, RFC 3927): valid on one link only. */
static inline bool
ip_is_link_local(const struct sg_ip *ip)
{
	if (ip->family == SG_AF_INET)
		return ip->bytes[0] == 169 && ip->bytes[1] == 254;
	return ip->bytes[0] == 0xfe && (ip->bytes[1] & 0xc0) == 0x80;
}

/* Multicast and the limited broadcast: a router forwards neither. */
static inline bool
ip_is_group(const struct sg_ip *ip)
{
	if (ip->family == SG_AF_INET)
		return (ip->bytes[0] & 0xf0) == 0xe0 ||
		       (ip->bytes[0] & ip->bytes[1] & ip->bytes[2] & ip->bytes[3]) == 0xff;
	return ip->bytes[0] == 0xff;
}

/*
 * The owner of an address (vport and subnet), one of a port's addresses or inside one of its
 * allowed prefixes, or NULL. Packets of a burst mostly share their source and destination, so
 * the last answer for each is kept for the rest of the burst (reset by admit_burst): the same
 * answer, fewer map probes. Always inline: the hit is a compare, cheaper than the call.
 */
static __rte_always_inline const struct dp_map_slot *
owner_of(const struct dp_gen *gen, struct dp_addr_cache *cache, const struct sg_ip *ip)
{
	if (!cache->valid || !ip_equal(&cache->ip, ip)) {
		cache->ip = *ip;
		cache->owner = dp_owner_find(gen, ip);
		cache->valid = true;
	}
	return cache->owner;
}

static inline bool
port_in_subnet(const struct dp_vport *vp, uint16_t subnet)
{
	for (uint16_t k = 0; k < vp->n_subnets; k++)
		if (vp->subnets[k] == subnet)
			return true;
	return false;
}

/* Whether two ports have a subnet in common: one link. With no subnets, all ports share one. */
static bool
ports_share_link(const struct dp_gen *gen, const struct dp_vport *a, const struct dp_vport *b)
{
	if (gen->conf->n_subnets == 0)
		return true;
	for (uint16_t k = 0; k < a->n_subnets; k++)
		if (port_in_subnet(b, a->subnets[k]))
			return true;
	return false;
}

/*
 * Whether a neighbour query from 'in_vp' about an address in 'subnet' may be answered: only
 * for the asker's own subnet, the one of its source address, or with a link-local source
 * (IPv6), any subnet the port has an address in. With no subnets everything is one link.
 */
static bool
asker_subnet_is(const struct dp_gen *gen, struct dp_worker *w, const struct dp_vport *in_vp,
		const struct sg_ip *asker, uint16_t subnet)
{
	const struct dp_map_slot *own;

	if (gen->conf->n_subnets == 0)
		return true;
	if (ip_is_link_local(asker))
		return port_in_subnet(in_vp, subnet);
	own = owner_of(gen, &w->src_cache, asker);
	return own != NULL && own->subnet == subnet;
}

/*
 * The answer to a neighbour query (ARP request, neighbour solicitation) from 'in_vp' for
 * 'target': the router's MAC for the gateway of the asker's subnet, a VM's MAC for an address
 * of a VM in that subnet (its own or inside its allowed prefixes). DP_ADMIT_ABSORB for the
 * asker's own address (probes, gratuitous announcements); otherwise no answer at all, so no
 * VM learns of what it must reach through the router or of what does not exist
 * (NEIGH_UNKNOWN). A prefix outside every subnet is on no link: it is only routed.
 */
static enum dp_admit
neighbour_answer(struct dp_worker *w, const struct dp_gen *gen, const struct dp_vport *in_vp,
		const struct sg_ip *asker, const struct sg_ip *target, const uint8_t **mac,
		bool *router, enum sg_drop_reason *reason)
{
	const struct dp_map_slot *slot = dp_map_find_ip(&gen->gateways, target);

	*router = slot != NULL;
	if (slot != NULL) {
		*mac = gen->router_mac;
	} else {
		slot = dp_owner_find(gen, target);
		if (slot != NULL && &gen->vports[slot->value] == in_vp)
			return DP_ADMIT_ABSORB;
		if (slot != NULL)
			*mac = gen->vports[slot->value].mac;
		/* A VM of another host in the asker's subnet is answered for here too, with its
		 * MAC: no broadcast ever crosses the overlay. */
		if (slot == NULL && gen->overlay.on && (slot = dp_remote_find(gen, target)) != NULL)
			*mac = gen->overlay.remotes[slot->value].mac;
	}
	if (slot == NULL || (gen->conf->n_subnets != 0 && slot->subnet == DP_NO_SUBNET) ||
			!asker_subnet_is(gen, w, in_vp, asker, slot->subnet)) {
		*reason = SG_DROP_NEIGH_UNKNOWN;
		return DP_ADMIT_DROP;
	}
	return DP_ADMIT_REPLY;
}

/* Queue an answer (ARP reply, neighbour advertisement) to go back out of the port it came in. */
static inline void
reply(struct dp_worker *w, uint16_t i)
{
	w->replies[w->n_replies++] = w->pkts[i];
}

static enum dp_admit
admit_arp(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t i,
		enum sg_drop_reason *reason)
{
	const struct dp_vport *in_vp = &gen->vports[in];
	const struct sg_pkt_meta *md = &w->meta[i];
	const struct dp_map_slot *own;
	const uint8_t *mac = NULL;
	enum dp_admit verdict;
	bool router;

	if (in_vp->uplink) {
		*reason = SG_DROP_ETHERTYPE;
		return DP_ADMIT_DROP;
	}
	/* D14: a VM speaks ARP only for itself (0.0.0.0 is an address probe). */
	own = ip_is_unspecified(&md->src) ? NULL : owner_of(gen, &w->src_cache, &md->src);
	if (memcmp(md->arp_sha, in_vp->mac, 6) != 0 ||
			(!ip_is_unspecified(&md->src) && (own == NULL || own->value != in))) {
		*reason = SG_DROP_SPOOF_ARP;
		return DP_ADMIT_DROP;
	}
	/* Replies and announcements change nothing: every answer comes from the config. */
	if (md->sport != SG_ARP_REQUEST || ip_is_unspecified(&md->src))
		return DP_ADMIT_ABSORB;
	/* D15: the switch answers for gateways and VMs itself, so no VM can poison a cache. */
	verdict = neighbour_answer(w, gen, in_vp, &md->src, &md->dst, &mac, &router, reason);
	if (verdict == DP_ADMIT_REPLY)
		sg_pkt_arp_reply(w->pkts[i], md, mac);
	return verdict;
}

/* ICMPv6 neighbour discovery and friends from a VM; everything else continues as IP. */
static enum dp_admit
admit_icmp6(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t i,
		enum sg_drop_reason *reason)
{
	const struct dp_vport *in_vp = &gen->vports[in];
	const struct sg_pkt_meta *md = &w->meta[i];
	const struct dp_map_slot *own;
	const uint8_t *mac = NULL;
	enum dp_admit verdict;
	bool router;

	/* The link-layer address an NS or NA announces must be the VM's own (D14). */
	if ((md->sport == SG_ND_SOLICIT || md->sport == SG_ND_ADVERT) &&
			!mac_is_zero(md->nd_lladdr) && memcmp(md->nd_lladdr, in_vp->mac, 6) != 0) {
		*reason = SG_DROP_SPOOF_ND;
		return DP_ADMIT_DROP;
	}
	switch (md->sport) {
	case 133: /* router solicitation: sgfw sends no RAs; VMs use static gateways */
	case 130:
	case 131:
	case 132:
	case 143: /* MLD */
		return DP_ADMIT_ABSORB;
	case 134: /* router advertisement */
	case 137: /* redirect */
		*reason = SG_DROP_ROUTER_ADVERT;
		return DP_ADMIT_DROP;
	case SG_ND_ADVERT: /* only for the VM's own addresses; it changes nothing */
		own = dp_owner_find(gen, &md->nd_target);
		if ((own == NULL || own->value != in) &&
				!sg_ip_equal(&in_vp->link_local, &md->nd_target)) {
			*reason = SG_DROP_SPOOF_ND;
			return DP_ADMIT_DROP;
		}
		return DP_ADMIT_ABSORB;
	case SG_ND_SOLICIT:
		if (ip_is_unspecified(&md->src))
			return DP_ADMIT_ABSORB; /* duplicate address detection: stay silent */
		verdict = neighbour_answer(
				w, gen, in_vp, &md->src, &md->nd_target, &mac, &router, reason);
		if (verdict != DP_ADMIT_REPLY)
			return verdict;
		return sg_pkt_nd_advert(w->pkts[i], md, mac, router) == 0 ? DP_ADMIT_REPLY
									  : DP_ADMIT_ABSORB;
	default:
		return DP_ADMIT_FORWARD;
	}
}

/* ff02::1:ffXX:XXXX, the solicited-node group of 'target' (RFC 4291 2.7.1). */
static bool
is_solicited_node_of(const struct sg_ip *group, const struct sg_ip *target)
{
	static const uint8_t prefix[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};

	return memcmp(group->bytes, prefix, sizeof(prefix)) == 0 &&
	       memcmp(group->bytes + 13, target->bytes + 13, 3) == 0;
}

/*
 * The unspecified source is an address only while a host has none: DHCP discovery and
 * requests to the limited broadcast (RFC 2131 4.1), duplicate address detection to the
 * target's solicited-node group (RFC 4862 5.4.2) and the MLD reports it needs (RFC 3810 5.2.13;
 * 143 to ff02::16, a version 1 report to a link-scope group). Everything else is a forgery.
 */
static bool
unspecified_allowed(const struct sg_pkt_meta *md)
{
	if (md->src.family == SG_AF_INET)
		return md->proto == IPPROTO_UDP && md->sport == 68 && md->dport == 67 &&
		       (md->dst.bytes[0] & md->dst.bytes[1] & md->dst.bytes[2] &
				       md->dst.bytes[3]) == 0xff;
	if (md->proto != IPPROTO_ICMPV6)
		return false;
	if (md->sport == SG_ND_SOLICIT)
		return is_solicited_node_of(&md->dst, &md->nd_target);
	if (md->sport == 143) {
		static const uint8_t all_mld2_routers[16] = {0xff, 0x02, [15] = 0x16};

		return memcmp(md->dst.bytes, all_mld2_routers, 16) == 0;
	}
	return md->sport == 131 && md->dst.bytes[0] == 0xff && (md->dst.bytes[1] & 0x0f) == 0x02;
}

/*
 * D14: a VM sends only from its own addresses, never as a DHCP server or a router. Sets
 * '*src_subnet' to the subnet of the source address (DP_NO_SUBNET when it has none).
 */
static enum sg_drop_reason
check_source(struct dp_worker *w, const struct dp_gen *gen, uint16_t in,
		const struct sg_pkt_meta *md, uint16_t *src_subnet)
{
	const struct dp_map_slot *own;

	*src_subnet = DP_NO_SUBNET;
	if (md->proto == IPPROTO_UDP && ((md->src.family == SG_AF_INET && md->sport == 67) ||
					       (md->src.family == SG_AF_INET6 && md->sport == 547)))
		return SG_DROP_DHCP_SERVER;
	/* ICMP redirects and router advertisements (IPv6's are refused with ND). */
	if (md->proto == IPPROTO_ICMP && md->src.family == SG_AF_INET &&
			(md->sport == 5 || md->sport == 9))
		return SG_DROP_ROUTER_ADVERT;
	own = owner_of(gen, &w->src_cache, &md->src);
	if (own != NULL && own->value == in) {
		*src_subnet = own->subnet;
		return SG_DROP_NONE;
	}
	if (md->src.family == SG_AF_INET6 && ip_equal(&gen->vports[in].link_local, &md->src))
		return SG_DROP_NONE;
	if (ip_is_unspecified(&md->src))
		return unspecified_allowed(md) ? SG_DROP_NONE : SG_DROP_SRC_UNSPECIFIED;
	return SG_DROP_SPOOF_IP;
}

/* The first DP_SUBNETS_LINEAR subnets of 'gen' as in_any_subnet() tests them: per family,
 * network and mask in host order, the network masked, so the test answers what
 * sg_prefix_contains() does. */
static void
subnet_cache_fill(struct dp_subnet_cache *sc, const struct dp_gen *gen)
{
	const struct sg_conf *conf = gen->conf;

	sc->n4 = 0;
	sc->n6 = 0;
	for (uint32_t i = 0; i < conf->n_subnets && i < DP_SUBNETS_LINEAR; i++) {
		const struct sg_prefix *p = &conf->subnets[i].cidr;

		if (p->ip.family == SG_AF_INET) {
			uint32_t n, m = p->len == 0 ? 0 : UINT32_MAX << (32 - p->len);

			memcpy(&n, p->ip.bytes, 4);
			sc->net4[sc->n4] = rte_be_to_cpu_32(n) & m;
			sc->mask4[sc->n4++] = m;
		} else if (p->ip.family == SG_AF_INET6) {
			for (unsigned int h = 0; h < 2; h++) {
				int bits = (int)p->len - (int)h * 64;
				uint64_t n, m = 0;

				if (bits >= 64)
					m = UINT64_MAX;
				else if (bits > 0)
					m = UINT64_MAX << (64 - bits);
				memcpy(&n, p->ip.bytes + h * 8, 8);
				sc->net6[sc->n6][h] = rte_be_to_cpu_64(n) & m;
				sc->mask6[sc->n6][h] = m;
			}
			sc->n6++;
		}
	}
	sc->epoch = gen->epoch;
}

/* Whether 'ip' is in a configured subnet: every routed packet and every packet from the
 * uplink asks. Subnets never overlap, so the network map answers in one probe per length;
 * up to DP_SUBNETS_LINEAR subnets, the worker's copy of them (filled by dp_admit_burst) is
 * scanned instead, a mask and a compare per subnet of the address's family. */
static __rte_always_inline bool
in_any_subnet(const struct dp_worker *w, const struct dp_gen *gen, const struct sg_ip *ip)
{
	const struct dp_subnet_cache *sc = &w->subnets;

	if (gen->conf->n_subnets > DP_SUBNETS_LINEAR)
		return gen->subnet_lens[ip->family == SG_AF_INET6].n != 0 &&
		       dp_prefix_find(&gen->subnet_map, gen->subnet_lens, ip) != NULL;
	if (ip->family == SG_AF_INET) {
		uint32_t a;

		memcpy(&a, ip->bytes, 4);
		a = rte_be_to_cpu_32(a);
		for (unsigned int k = 0; k < sc->n4; k++)
			if ((a & sc->mask4[k]) == sc->net4[k])
				return true;
	} else if (ip->family == SG_AF_INET6) {
		uint64_t a[2];

		memcpy(a, ip->bytes, 16);
		a[0] = rte_be_to_cpu_64(a[0]);
		a[1] = rte_be_to_cpu_64(a[1]);
		for (unsigned int k = 0; k < sc->n6; k++)
			if ((a[0] & sc->mask6[k][0]) == sc->net6[k][0] &&
					(a[1] & sc->mask6[k][1]) == sc->net6[k][1])
				return true;
	}
	return false;
}

/*
 * Ingress filtering on the uplink (BCP 38): the addresses of this switch's VMs, subnets and
 * the networks routed behind its VMs are reached only through it, so a packet from outside
 * claiming one is forged. Routers forward other sources, which the VM side's groups judge.
 */
static enum sg_drop_reason
check_uplink_source(struct dp_worker *w, const struct dp_gen *gen, const struct sg_pkt_meta *md)
{
	bool local;

	if (ip_is_unspecified(&md->src))
		return SG_DROP_SRC_UNSPECIFIED;
	/* With subnets every VM address is inside one: the subnets, and the allowed prefixes
	 * outside them (when there are any), alone answer. */
	if (gen->conf->n_subnets != 0)
		local = in_any_subnet(w, gen, &md->src) ||
			(gen->nets.routed[md->src.family == SG_AF_INET6].n != 0 &&
					dp_nets_find(&gen->nets, &md->src, true) != NULL);
	else
		local = owner_of(gen, &w->src_cache, &md->src) != NULL;
	return local ? SG_DROP_SPOOF_UPLINK : SG_DROP_NONE;
}

/* Only DHCP discovery leaves a VM as broadcast, towards the uplink. */
static inline bool
is_dhcp_discovery(const struct sg_pkt_meta *md)
{
	return md->src.family == SG_AF_INET && md->proto == IPPROTO_UDP && md->sport == 68 &&
	       md->dport == 67 && ip_is_group(&md->dst);
}

/*
 * A packet for remote port 'r' in 'subnet': out of the uplink, encapsulated at transmission
 * (dp_tx.c) in the subnet's VNI. Fragments are not carried (a later fragment has no port to
 * follow it to the right host), nor what would not fit in the underlay's MTU once wrapped.
 */
static enum sg_drop_reason
to_remote(struct dp_worker *w, const struct dp_gen *gen, uint16_t i, uint32_t r, uint16_t subnet)
{
	const struct sg_pkt_meta *md = &w->meta[i];
	struct rte_mbuf *m = w->pkts[i];
	uint32_t ip_len = (uint32_t)md->l3_len + md->l4_len;
	uint32_t pad = rte_pktmbuf_pkt_len(m) - md->l2_len - ip_len;

	if (md->frag != SG_FRAG_NONE)
		return SG_DROP_OVERLAY_FRAGMENT;
	if (ip_len > gen->overlay.inner_mtu)
		return SG_DROP_OVERLAY_TOO_BIG;
	/* The whole frame is wrapped: bytes past the IP packet (Ethernet padding, or a VM's
	 * trailing junk) would take the outer packet past overlay.mtu, and are not carried.
	 * Padding that spans segments stays when the frame fits all the same. */
	if (pad != 0 && (pad > UINT16_MAX || rte_pktmbuf_trim(m, (uint16_t)pad) < 0) &&
			ip_len + pad > gen->overlay.inner_mtu)
		return SG_DROP_OVERLAY_TOO_BIG;
	w->dst[i] = gen->uplink;
	w->remote[i] = r;
	w->vni[i] = gen->overlay.subnet_vni[subnet];
	return SG_DROP_NONE;
}

/* Delivery by MAC to a VM of another host: as resolve_l2() checks a local one. */
static enum sg_drop_reason
resolve_remote_l2(struct dp_worker *w, const struct dp_gen *gen, uint16_t i, const uint8_t *dst_mac,
		uint16_t src_subnet)
{
	const struct dp_map_slot *slot = dp_map_find(&gen->overlay.macs, DP_KEY_MAC, dst_mac);
	const struct dp_map_slot *owner;

	if (slot == NULL)
		return SG_DROP_NO_ROUTE;
	owner = dp_remote_find(gen, &w->meta[i].dst);
	if (owner == NULL || owner->value != slot->value || owner->subnet == DP_NO_SUBNET ||
			owner->subnet != src_subnet)
		return SG_DROP_DST_MISMATCH;
	return to_remote(w, gen, i, slot->value, owner->subnet);
}

/* Routing: to the VM owning the destination address (or an allowed prefix holding it), else
 * out of the uplink when the address is in no local subnet. Link-local addresses never leave
 * their link. */
static enum sg_drop_reason
resolve_routed(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t i)
{
	const struct sg_pkt_meta *md = &w->meta[i];
	const struct dp_map_slot *owner;
	uint16_t dst;

	if (ip_is_link_local(&md->src) || ip_is_link_local(&md->dst))
		return SG_DROP_LINK_LOCAL;
	if (ip_is_group(&md->dst))
		return SG_DROP_MULTICAST;
	/* An address in no subnet is outside (VM addresses are in subnets when there are any):
	 * to the VM a network outside the subnets is routed to, if any holds it, else to the
	 * uplink without a lookup; an address in a subnet to whoever owns it. */
	if (gen->conf->n_subnets != 0 && !in_any_subnet(w, gen, &md->dst)) {
		owner = gen->nets.routed[md->dst.family == SG_AF_INET6].n != 0
				? dp_nets_find(&gen->nets, &md->dst, true)
				: NULL;
		dst = owner != NULL	    ? (uint16_t)owner->value
		      : in != gen->uplink ? gen->uplink
					  : DP_NO_VPORT;
	} else {
		owner = owner_of(gen, &w->dst_cache, &md->dst);
		if (owner == NULL && gen->overlay.on && in != gen->uplink &&
				(owner = dp_remote_find(gen, &md->dst)) != NULL) {
			if (md->ttl <= 1)
				return SG_DROP_TTL_EXPIRED;
			w->routed[i] = true;
			return to_remote(w, gen, i, owner->value, owner->subnet);
		}
		dst = owner != NULL				       ? (uint16_t)owner->value
		      : gen->conf->n_subnets == 0 && in != gen->uplink ? gen->uplink
								       : DP_NO_VPORT;
	}
	if (dst == DP_NO_VPORT || dst == in)
		return SG_DROP_NO_ROUTE;
	/* The hypervisors' underlay addresses are infrastructure: a VM that could reach them
	 * could probe their services, and its VXLAN would arrive from the underlay. */
	if (unlikely(gen->overlay.on) && dst == gen->uplink && md->l3 == SG_L3_IPV4 &&
			dp_map_find(&gen->overlay.vteps, DP_KEY_IPV4, md->dst.bytes) != NULL)
		return SG_DROP_UNDERLAY_TARGET;
	if (md->ttl <= 1)
		return SG_DROP_TTL_EXPIRED;
	w->routed[i] = true;
	w->dst[i] = dst;
	return SG_DROP_NONE;
}

/*
 * Delivery by MAC, inside one subnet only, and only of what the destination port owns: a VM
 * cannot use a neighbour's MAC to reach an address its groups refuse, or one in another
 * subnet past the router (whose ingress check would see a destination that is not its own).
 */
static enum sg_drop_reason
resolve_l2(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t i,
		const uint8_t *dst_mac, uint16_t src_subnet)
{
	const struct sg_pkt_meta *md = &w->meta[i];
	const struct dp_map_slot *owner;
	uint16_t dst;

	/* The uplink's router sends to the router MAC; nothing outside is on a VM's link. */
	if (in == gen->uplink)
		return SG_DROP_DST_MISMATCH;
	if (w->last_mac_valid && mac_equal(w->last_mac, dst_mac)) {
		dst = w->last_mac_dst;
	} else {
		dst = dp_map_get(&gen->macs, DP_KEY_MAC, dst_mac);
		memcpy(w->last_mac, dst_mac, 6);
		w->last_mac_dst = dst;
		w->last_mac_valid = true;
	}
	if (dst == DP_NO_VPORT && gen->overlay.on)
		return resolve_remote_l2(w, gen, i, dst_mac, src_subnet);
	if (dst == DP_NO_VPORT || dst == in)
		return SG_DROP_NO_ROUTE;
	if (md->dst.family == SG_AF_INET6 && ip_equal(&gen->vports[dst].link_local, &md->dst)) {
		if (!ports_share_link(gen, &gen->vports[in], &gen->vports[dst]))
			return SG_DROP_DST_MISMATCH;
	} else {
		owner = owner_of(gen, &w->dst_cache, &md->dst);
		if (owner == NULL || owner->value != dst)
			return SG_DROP_DST_MISMATCH;
		/* A network routed behind a VM (a prefix outside every subnet) is on no link. */
		if (gen->conf->n_subnets != 0 && owner->subnet == DP_NO_SUBNET)
			return SG_DROP_DST_MISMATCH;
		if (src_subnet != owner->subnet &&
				!(src_subnet == DP_NO_SUBNET && ip_is_link_local(&md->src) &&
						port_in_subnet(&gen->vports[in], owner->subnet)))
			return SG_DROP_DST_MISMATCH;
	}
	w->dst[i] = dst;
	return SG_DROP_NONE;
}

/* Where an IP packet goes: routed by address (router MAC), or by MAC inside a subnet. */
static enum sg_drop_reason
resolve(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t i, uint16_t src_subnet)
{
	const struct sg_pkt_meta *md = &w->meta[i];
	const struct rte_ether_hdr *eth =
			rte_pktmbuf_mtod(w->pkts[i], const struct rte_ether_hdr *);

	w->routed[i] = false;
	w->remote[i] = DP_NO_REMOTE;
	if (rte_is_multicast_ether_addr(&eth->dst_addr)) {
		if (gen->uplink != DP_NO_VPORT && in != gen->uplink && is_dhcp_discovery(md)) {
			w->dst[i] = gen->uplink;
			return SG_DROP_NONE;
		}
		return SG_DROP_MULTICAST;
	}
	if (mac_equal(eth->dst_addr.addr_bytes, gen->router_mac))
		return resolve_routed(w, gen, in, i);
	return resolve_l2(w, gen, in, i, eth->dst_addr.addr_bytes, src_subnet);
}

/*
 * A packet for a remote port too big for the overlay (overlay_too_big): an IPv4 packet with DF
 * or an IPv6 one is answered, in place, with ICMP "fragmentation needed" or ICMPv6 "packet too
 * big" from the gateway of the sender's subnet, next-hop MTU overlay.mtu - 50, so the sender's
 * path MTU discovery adapts; true when the answer is queued. sgfw does not fragment: an IPv4
 * packet without DF is only dropped.
 */
static bool
answer_too_big(struct dp_worker *w, const struct dp_gen *gen, uint16_t i)
{
	const struct sg_pkt_meta *md = &w->meta[i];
	const struct dp_map_slot *own;

	if (md->l3 == SG_L3_IPV4) {
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(w->pkts[i],
				const struct rte_ipv4_hdr *, md->l2_len);

		if ((ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) == 0)
			return false;
	}
	own = owner_of(gen, &w->src_cache, &md->src);
	if (own == NULL || own->subnet == DP_NO_SUBNET)
		return false;
	if (sg_pkt_icmp_too_big(w->pkts[i], md, gen->router_mac,
			    &gen->conf->subnets[own->subnet].gateway, gen->overlay.inner_mtu) < 0)
		return false;
	reply(w, i);
	return true;
}

/*
 * A packet from the uplink to this host's VTEP (docs/architecture.md, "The VXLAN overlay"):
 * decapsulated in place when it is VXLAN from another host's VTEP, in a subnet's VNI, carrying
 * a unicast IP frame from an address (and MAC) of a port of that host to a local port of that
 * subnet. The inner frame is then parsed as if it had arrived on the uplink, its destination
 * set (w->dst): it goes on to conntrack and the receiver's ingress rules. '*vxlan' says whether
 * it was VXLAN at all (the rest of what reaches the VTEP takes the uplink's usual path).
 */
static enum sg_drop_reason
admit_vxlan(struct dp_worker *w, const struct dp_gen *gen, uint16_t i, bool *vxlan)
{
	const struct dp_overlay *o = &gen->overlay;
	struct sg_pkt_meta *md = &w->meta[i];
	struct rte_mbuf *m = w->pkts[i];
	const struct dp_map_slot *host, *net, *src, *owner;
	const struct rte_ether_hdr *eth;
	const struct rte_udp_hdr *udp;
	const uint8_t *vx;
	uint32_t off, udp_len, inner_len, tail, vni;
	uint16_t dst;
	bool routed;

	*vxlan = false;
	if (md->frag != SG_FRAG_NONE) {
		*vxlan = true;
		return SG_DROP_VXLAN_FRAGMENT;
	}
	if (md->proto != IPPROTO_UDP || md->dport != SG_VXLAN_PORT)
		return SG_DROP_NONE;
	*vxlan = true;
	host = dp_map_find(&o->vteps, DP_KEY_IPV4, md->src.bytes);
	if (host == NULL || host->value == o->self)
		return SG_DROP_VXLAN_UNKNOWN_VTEP;
	/* The datagram is what the UDP length says (the parser checked it fits in the IP
	 * payload, whose bytes past it are no part of it), as Linux's UDP receive trims it. */
	udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, md->l2_len + md->l3_len);
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	off = (uint32_t)md->l2_len + md->l3_len + 8;
	if (udp_len < 8 + 8 + RTE_ETHER_HDR_LEN || rte_pktmbuf_data_len(m) < off + 8)
		return SG_DROP_VXLAN_MALFORMED;
	vx = rte_pktmbuf_mtod_offset(m, const uint8_t *, off);
	if ((vx[0] & 0x08) == 0)
		return SG_DROP_VXLAN_MALFORMED;
	vni = rte_cpu_to_be_32((uint32_t)vx[4] << 16 | (uint32_t)vx[5] << 8 | vx[6]);
	net = dp_map_find(&o->vnis, DP_KEY_IPV4, (const uint8_t *)&vni);
	if (net == NULL)
		return SG_DROP_VXLAN_UNKNOWN_VNI;
	/* The inner frame is what the UDP length says (the outer frame may be padded). */
	inner_len = udp_len - 16u;
	tail = rte_pktmbuf_pkt_len(m) - (off + 8 + inner_len);
	/* Bytes past the datagram that cannot be cut (spread over segments) would reach the VM
	 * behind the inner frame: refused, not carried. */
	if (tail > UINT16_MAX || (tail != 0 && rte_pktmbuf_trim(m, (uint16_t)tail) < 0))
		return SG_DROP_VXLAN_MALFORMED;
	rte_pktmbuf_adj(m, (uint16_t)(off + 8));
	if (sg_pkt_parse(m, md) != SG_DROP_NONE)
		return (enum sg_drop_reason)md->reason;
	if (md->n_vlans != 0)
		return SG_DROP_VLAN_TAGGED;
	if (md->l3 != SG_L3_IPV4 && md->l3 != SG_L3_IPV6)
		return SG_DROP_VXLAN_MALFORMED;
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	/* The sender's: an address (or prefix) of one of its ports, with that port's MAC in its
	 * own subnet, the router's when it routed the packet. */
	src = dp_remote_find(gen, &md->src);
	if (src == NULL || o->remotes[src->value].host != host->value)
		return SG_DROP_VXLAN_SPOOFED_SOURCE;
	routed = mac_equal(eth->src_addr.addr_bytes, gen->router_mac);
	if (!routed && (src->subnet != net->subnet ||
				       !mac_equal(eth->src_addr.addr_bytes,
						       o->remotes[src->value].mac)))
		return SG_DROP_VXLAN_SPOOFED_SOURCE;
	/* For a local port of the VNI's subnet, by its MAC and its address. */
	if (rte_is_multicast_ether_addr(&eth->dst_addr))
		return SG_DROP_VXLAN_NOT_LOCAL;
	dst = dp_map_get(&gen->macs, DP_KEY_MAC, eth->dst_addr.addr_bytes);
	owner = owner_of(gen, &w->dst_cache, &md->dst);
	if (dst == DP_NO_VPORT || owner == NULL || owner->value != dst ||
			owner->subnet != net->subnet)
		return SG_DROP_VXLAN_NOT_LOCAL;
	w->dst[i] = dst;
	return SG_DROP_NONE;
}

/* Whether a packet from the uplink is addressed to this host's VTEP. */
static inline bool
to_vtep(const struct dp_gen *gen, const struct sg_pkt_meta *md)
{
	uint32_t dst;

	if (!gen->overlay.on || md->l3 != SG_L3_IPV4)
		return false;
	memcpy(&dst, md->dst.bytes, 4);
	return dst == gen->overlay.vtep;
}

/*
 * Admission of the whole burst: parse, port security, ARP/ND, destination. Survivors end up at
 * w->pkts[0..kept) with their metadata; returns 'kept'.
 */
uint16_t
dp_admit_burst(struct dp_worker *w, const struct dp_gen *gen, uint16_t in, uint16_t n)
{
	const struct dp_vport *in_vp = &gen->vports[in];
	struct dp_port_counters *c = dp_counters(gen, in, w->id);
	uint64_t rx_bytes = 0;
	uint16_t kept = 0;

	w->n_first = 0;
	w->n_lf = 0;
	w->last_mac_valid = false;
	w->src_cache.valid = false;
	w->dst_cache.valid = false;
	if (unlikely(w->subnets.epoch != gen->epoch))
		subnet_cache_fill(&w->subnets, gen);
	sg_pkt_parse_burst(w->pkts, w->meta, n);
	/* Counted per burst: the per-packet loop keeps no store to the counters' line. */
	c->rx_packets += n;
	for (uint16_t i = 0; i < n; i++) {
		const struct sg_pkt_meta *md = &w->meta[i];
		enum sg_drop_reason reason = (enum sg_drop_reason)md->reason;
		enum dp_admit verdict = DP_ADMIT_FORWARD;
		uint16_t src_subnet = DP_NO_SUBNET;
		bool decapped = false;

		/* Every packet received counts, before any verdict; summed in this loop, which
		 * reads the mbuf anyway, rather than in one of its own. */
		rx_bytes += w->pkts[i]->pkt_len;
		if (unlikely(reason != SG_DROP_NONE)) {
			dp_drop(w, gen, in, i, reason);
			continue;
		}
		/* A tag would survive forwarding into another VM's or the uplink's network. */
		if (unlikely(md->n_vlans != 0 ||
				    (w->pkts[i]->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) != 0)) {
			dp_drop(w, gen, in, i, SG_DROP_VLAN_TAGGED);
			continue;
		}
		if (!in_vp->uplink) {
			const struct rte_ether_hdr *eth =
					rte_pktmbuf_mtod(w->pkts[i], const struct rte_ether_hdr *);

			if (unlikely(!mac_equal(eth->src_addr.addr_bytes, in_vp->mac))) {
				dp_drop(w, gen, in, i, SG_DROP_SPOOF_MAC);
				continue;
			}
		}
		if (unlikely(md->l3 == SG_L3_ARP)) {
			verdict = admit_arp(w, gen, in, i, &reason);
		} else if (!in_vp->uplink) {
			reason = check_source(w, gen, in, md, &src_subnet);
			if (reason == SG_DROP_NONE && md->proto == IPPROTO_ICMPV6 &&
					md->l3 == SG_L3_IPV6)
				verdict = admit_icmp6(w, gen, in, i, &reason);
			else if (reason != SG_DROP_NONE)
				verdict = DP_ADMIT_DROP;
		} else {
			if (to_vtep(gen, md)) {
				reason = admit_vxlan(w, gen, i, &decapped);
				if (reason != SG_DROP_NONE)
					verdict = DP_ADMIT_DROP;
			}
			if (!decapped && (reason = check_uplink_source(w, gen, md)) != SG_DROP_NONE)
				verdict = DP_ADMIT_DROP;
		}
		switch (verdict) {
		case DP_ADMIT_DROP:
			dp_drop(w, gen, in, i, reason);
			continue;
		case DP_ADMIT_REPLY:
			c->replies++;
			reply(w, i);
			continue;
		case DP_ADMIT_ABSORB:
			c->absorbed++;
			w->to_free[w->n_free++] = w->pkts[i];
			continue;
		case DP_ADMIT_FORWARD:
			break;
		}
		w->decap[i] = decapped;
		if (unlikely(decapped)) {
			c->vxlan_decap++;
			w->routed[i] = false;
			w->remote[i] = DP_NO_REMOTE;
		} else if ((reason = resolve(w, gen, in, i, src_subnet)) != SG_DROP_NONE) {
			if (reason == SG_DROP_OVERLAY_TOO_BIG && answer_too_big(w, gen, i)) {
				/* Dropped, and answered: counted as both. */
				c->drops[reason]++;
				c->replies++;
				continue;
			}
			dp_drop(w, gen, in, i, reason);
			continue;
		}
		if (unlikely(md->frag != SG_FRAG_NONE)) {
			uint32_t slot;

			reason = dp_frag_admit(w, in, i, &slot);
			if (reason != SG_DROP_NONE) {
				dp_drop(w, gen, in, i, reason);
				continue;
			}
			if (md->frag == SG_FRAG_LATER) {
				/* No transport header: it follows its datagram (dp_frag_finish). */
				w->lf[w->n_lf++] = (struct dp_frag_pkt){
						.m = w->pkts[i],
						.slot = slot,
						.serial = w->frags->entries[slot].serial,
						.in = in,
						.in_port = in_vp->port->id,
						.dst = w->dst[i],
						.routed = w->routed[i],
						.l3 = md->l3,
						.l2_len = md->l2_len,
				};
				continue;
			}
			w->frag_slot[kept] = slot;
			w->why[kept] = SG_DROP_NONE;
			w->n_first++;
		}
		/* Compact survivors to the front; nothing moves while nothing is dropped. */
		if (kept != i) {
			w->pkts[kept] = w->pkts[i];
			w->meta[kept] = w->meta[i];
			w->dst[kept] = w->dst[i];
			w->routed[kept] = w->routed[i];
			w->decap[kept] = w->decap[i];
			w->remote[kept] = w->remote[i];
			w->vni[kept] = w->vni[i];
		}
		kept++;
	}
	c->rx_bytes += rx_bytes;
	return kept;
}
