/* SPDX-License-Identifier: BSD-3-Clause */
/* VXLAN (RFC 7348) encapsulation of a frame in place: outer Ethernet, IPv4, UDP and VXLAN
 * headers prepended into the mbuf's headroom, no allocation. */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "sg_pkt.h"

int
sg_pkt_vxlan_encap(struct rte_mbuf *m, const struct sg_vxlan_outer *outer, uint32_t vni,
		uint16_t src_port)
{
	uint32_t inner_len = rte_pktmbuf_pkt_len(m);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	uint8_t *vx;

	if (inner_len + SG_VXLAN_HDRS_LEN - RTE_ETHER_HDR_LEN > UINT16_MAX)
		return -EMSGSIZE;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, SG_VXLAN_HDRS_LEN);
	if (eth == NULL)
		return -ENOSPC;
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	udp = (struct rte_udp_hdr *)(ip + 1);
	vx = (uint8_t *)(udp + 1);
	memcpy(eth->dst_addr.addr_bytes, outer->dst_mac, 6);
	memcpy(eth->src_addr.addr_bytes, outer->src_mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(inner_len + SG_VXLAN_HDRS_LEN -
							RTE_ETHER_HDR_LEN));
	/* DF set: an atomic datagram may carry identification 0 (RFC 6864). */
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->hdr_checksum = 0;
	memcpy(&ip->src_addr, &outer->src_ip, 4);
	memcpy(&ip->dst_addr, &outer->dst_ip, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(src_port);
	udp->dst_port = rte_cpu_to_be_16(SG_VXLAN_PORT);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(inner_len + 16));
	udp->dgram_cksum = 0; /* RFC 7348 5: zero over IPv4 */
	vx[0] = 0x08;         /* I flag: the VNI is valid */
	vx[1] = vx[2] = vx[3] = 0;
	vx[4] = (uint8_t)(vni >> 16);
	vx[5] = (uint8_t)(vni >> 8);
	vx[6] = (uint8_t)vni;
	vx[7] = 0;
	/* The inner frame's checksums are complete (offloads are not carried over the overlay). */
	m->ol_flags &= ~(RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_IPV4 |
			 RTE_MBUF_F_TX_IPV6);
	return 0;
}

uint16_t
sg_pkt_vxlan_src_port(const struct sg_pkt_meta *md)
{
	uint64_t a[2], b[2], h;

	memcpy(a, md->src.bytes, 16);
	memcpy(b, md->dst.bytes, 16);
	h = (a[0] ^ a[1] ^ b[0] ^ b[1] ^ ((uint64_t)md->sport << 32 | (uint64_t)md->dport << 16 |
						  md->proto)) *
	    UINT64_C(0x9e3779b97f4a7c15);
	/* The dynamic range 49152..65535 (RFC 7348 5, RFC 6335). */
	return (uint16_t)(49152u | (uint16_t)(h >> 50));
}
