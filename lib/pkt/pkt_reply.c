/* SPDX-License-Identifier: BSD-3-Clause */
/* Answers the switch gives itself (D15, D18): an ARP request or a neighbour solicitation is
 * rewritten in place into the reply, so answering costs no allocation and the frame simply
 * goes back out of the port it came in on. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "sg_pkt.h"

/* Neighbour advertisement: ICMPv6 header, flags, target, one target link-layer option. */
#define NA_LEN 32
#define NA_FLAG_ROUTER 0x80
#define NA_FLAG_SOLICITED 0x40
#define NA_FLAG_OVERRIDE 0x20
#define ND_OPT_TLLA 2

static const uint8_t ipv6_all_nodes[16] = {0xff, 0x02, [15] = 0x01};
static const struct rte_ether_addr all_nodes_mac = {.addr_bytes = {0x33, 0x33, 0, 0, 0, 0x01}};
static const uint8_t ipv6_unspecified[16];

void
sg_pkt_arp_reply(struct rte_mbuf *m, const struct sg_pkt_meta *meta, const uint8_t mac[6])
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, meta->l2_len);
	struct rte_arp_ipv4 *data = &arp->arp_data;

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	memcpy(&eth->src_addr, mac, RTE_ETHER_ADDR_LEN);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	/* From 'meta', not the packet: the fields are overwritten in the order they are read. */
	memcpy(&data->arp_tha, meta->arp_sha, RTE_ETHER_ADDR_LEN);
	memcpy(&data->arp_tip, meta->src.bytes, 4);
	memcpy(&data->arp_sha, mac, RTE_ETHER_ADDR_LEN);
	memcpy(&data->arp_sip, meta->dst.bytes, 4);
}

int
sg_pkt_nd_advert(struct rte_mbuf *m, const struct sg_pkt_meta *meta, const uint8_t mac[6],
		bool router)
{
	const uint32_t len = meta->l2_len + sizeof(struct rte_ipv6_hdr) + NA_LEN;
	const bool dad = memcmp(meta->src.bytes, ipv6_unspecified, 16) == 0;
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	uint8_t *na;
	uint16_t cksum;

	if (meta->l3 != SG_L3_IPV6 || meta->proto != IPPROTO_ICMPV6 ||
			meta->sport != SG_ND_SOLICIT || meta->reason != SG_DROP_NONE)
		return -EINVAL;
	if (!rte_pktmbuf_is_contiguous(m))
		return -EINVAL;
	if (len > rte_pktmbuf_data_len(m)) {
		if (rte_pktmbuf_append(m, (uint16_t)(len - rte_pktmbuf_data_len(m))) == NULL)
			return -EINVAL;
	} else if (len < rte_pktmbuf_data_len(m)) {
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - len));
	}

	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (dad)
		rte_ether_addr_copy(&all_nodes_mac, &eth->dst_addr);
	else
		rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	memcpy(&eth->src_addr, mac, RTE_ETHER_ADDR_LEN);

	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, meta->l2_len);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(NA_LEN);
	ip->proto = IPPROTO_ICMPV6;
	/* 255: the receiver knows the advertisement did not cross a router (RFC 4861 7.1.2). */
	ip->hop_limits = 255;
	memcpy(ip->src_addr, meta->nd_target.bytes, 16);
	memcpy(ip->dst_addr, dad ? ipv6_all_nodes : meta->src.bytes, 16);

	na = (uint8_t *)(ip + 1);
	memset(na, 0, NA_LEN);
	na[0] = SG_ND_ADVERT;
	na[4] = NA_FLAG_OVERRIDE | (dad ? 0 : NA_FLAG_SOLICITED) | (router ? NA_FLAG_ROUTER : 0);
	memcpy(na + 8, meta->nd_target.bytes, 16);
	na[24] = ND_OPT_TLLA;
	na[25] = 1; /* in units of 8 bytes */
	memcpy(na + 26, mac, RTE_ETHER_ADDR_LEN);
	/* No extension headers are left, so DPDK's pseudo-header sum is the right one. */
	cksum = rte_ipv6_udptcp_cksum(ip, na);
	memcpy(na + 2, &cksum, sizeof(cksum));
	return 0;
}

/* Bytes of the offending packet an ICMP error quotes: IPv4 as Linux does (the error within 576
 * bytes, RFC 1812 4.3.2.3), IPv6 all that fits in the minimum MTU (RFC 4443 2.4). */
#define TOO_BIG_QUOTE4 (576u - 20 - 8)
#define TOO_BIG_QUOTE6 (1280u - 40 - 8)

int
sg_pkt_icmp_too_big(struct rte_mbuf *m, const struct sg_pkt_meta *meta,
		const uint8_t router_mac[6], const struct sg_ip *router_ip, uint16_t mtu)
{
	const bool v6 = meta->l3 == SG_L3_IPV6;
	const uint32_t hdrs = v6 ? sizeof(struct rte_ipv6_hdr) + 8 : sizeof(struct rte_ipv4_hdr) + 8;
	uint32_t ip_len = (uint32_t)meta->l3_len + meta->l4_len;
	uint32_t quote = RTE_MIN(ip_len, v6 ? TOO_BIG_QUOTE6 : TOO_BIG_QUOTE4);
	struct rte_ether_hdr *eth;
	uint8_t *icmp, orig_src[6];

	if ((meta->l3 != SG_L3_IPV4 && !v6) || meta->n_vlans != 0 ||
			router_ip->family != (v6 ? SG_AF_INET6 : SG_AF_INET) ||
			!rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_headroom(m) < hdrs)
		return -EINVAL;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	memcpy(orig_src, eth->src_addr.addr_bytes, 6);
	/* The quoted packet stays where it is; the new headers go in front of it. */
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - (meta->l2_len + quote)));
	rte_pktmbuf_adj(m, meta->l2_len);
	icmp = (uint8_t *)rte_pktmbuf_prepend(m, 8);
	if (icmp == NULL) /* the headroom was checked: for the compiler's sake */
		return -EINVAL;
	icmp[0] = v6 ? 2 : 3; /* packet too big; destination unreachable */
	icmp[1] = v6 ? 0 : 4; /* -; fragmentation needed and DF set (RFC 1191) */
	icmp[2] = icmp[3] = 0;
	if (v6) {
		uint32_t value = rte_cpu_to_be_32(mtu);

		memcpy(icmp + 4, &value, 4);
	} else {
		uint16_t value = rte_cpu_to_be_16(mtu);

		icmp[4] = icmp[5] = 0;
		memcpy(icmp + 6, &value, 2);
	}
	if (v6) {
		struct rte_ipv6_hdr *ip =
				(struct rte_ipv6_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));
		uint16_t sum;

		if (ip == NULL)
			return -EINVAL;
		memset(ip, 0, sizeof(*ip));
		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(8 + quote));
		ip->proto = IPPROTO_ICMPV6;
		ip->hop_limits = 64;
		memcpy(&ip->src_addr, router_ip->bytes, 16);
		memcpy(&ip->dst_addr, meta->src.bytes, 16);
		sum = rte_ipv6_udptcp_cksum(ip, icmp);
		memcpy(icmp + 2, &sum, 2);
	} else {
		struct rte_ipv4_hdr *ip =
				(struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));
		uint16_t sum = (uint16_t)~rte_raw_cksum(icmp, 8 + quote);

		if (ip == NULL)
			return -EINVAL;
		memcpy(icmp + 2, &sum, 2);
		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + 8 + quote));
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_ICMP;
		memcpy(&ip->src_addr, router_ip->bytes, 4);
		memcpy(&ip->dst_addr, meta->src.bytes, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);
	if (eth == NULL)
		return -EINVAL;
	memcpy(eth->dst_addr.addr_bytes, orig_src, 6);
	memcpy(eth->src_addr.addr_bytes, router_mac, 6);
	eth->ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	return 0;
}
