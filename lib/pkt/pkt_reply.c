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
