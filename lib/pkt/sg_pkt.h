/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet parsing for the fast path: one pass over a burst of mbufs fills a compact metadata
 * record per packet (addresses, ports, flags, offsets) or the reason it is malformed, and
 * helpers that answer ARP and IPv6 neighbour solicitations in place.
 *
 * Usage: sg_pkt_parse_burst(pkts, meta, n) once per received burst; every later stage (port
 * security, conntrack, classification, forwarding) reads 'meta' and never re-parses headers.
 *
 * What counts as malformed follows the receivers the packets are meant for: Linux's IPv4/IPv6
 * input checks, netfilter's TCP flag table, RFC 1858 and RFC 7112 for fragments, RFC 5095 for
 * routing header type 0, RFC 4861 and RFC 6980 for neighbour discovery. pkt_parse.c lists every
 * check next to the code. Transport checksums are not verified (the receiving guest does that);
 * the IPv4 header checksum is, because the addresses it protects drive every later decision.
 *
 * Packets are read from their first segment only: a multi-segment packet whose headers do not all
 * sit in the first segment is dropped as truncated at the layer that is cut.
 *
 * Thread-safety: all functions are reentrant and touch only the packets and records given.
 * They never allocate, lock or make system calls.
 */
#ifndef SG_PKT_H
#define SG_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "sg_common.h"
#include "sg_reasons.h"

enum sg_l3 {
	SG_L3_OTHER = 0,
	SG_L3_IPV4,
	SG_L3_IPV6,
	SG_L3_ARP,
};

enum sg_frag {
	SG_FRAG_NONE = 0, /**< Not a fragment. */
	SG_FRAG_FIRST,    /**< Offset 0, more fragments follow: L4 header present. */
	SG_FRAG_LATER,    /**< Offset > 0: no L4 header, ports unknown. */
};

/* TCP flags as on the wire. */
#define SG_TCP_FIN 0x01
#define SG_TCP_SYN 0x02
#define SG_TCP_RST 0x04
#define SG_TCP_PSH 0x08
#define SG_TCP_ACK 0x10
#define SG_TCP_URG 0x20
#define SG_TCP_ECE 0x40
#define SG_TCP_CWR 0x80

/* ARP operations, in meta.sport for ARP packets. */
#define SG_ARP_REQUEST 1
#define SG_ARP_REPLY 2

/* ICMPv6 neighbour discovery types, in meta.sport. */
#define SG_ND_SOLICIT 135
#define SG_ND_ADVERT 136

/* Longest IPv6 extension header chain the parser walks; a longer one is IPV6_EXT_HEADERS. */
#define SG_PKT_IPV6_MAX_EXT 8

/**
 * What the parser learned about one packet. For ARP: src/dst are the sender and target
 * protocol addresses, sport the operation, 'arp_sha' the sender hardware address.
 * For ICMP/ICMPv6: sport is the type, dport the code, icmp_id the echo identifier.
 * For IPv6 neighbour discovery (NS/NA): nd_target is the target address.
 *
 * When reason is not SG_DROP_NONE only reason and l3 are meaningful; the other fields hold
 * what was learned before the fault, or zero. On a well-formed packet, fields that do not
 * apply are zero (addresses have family 0); the frag_* fields only describe fragments.
 */
struct sg_pkt_meta {
	uint8_t l3;             /**< enum sg_l3. */
	uint8_t proto;          /**< L4 protocol (after IPv6 extension headers). */
	uint8_t reason;         /**< enum sg_drop_reason; SG_DROP_NONE when well formed. */
	uint8_t frag;           /**< enum sg_frag. */
	uint8_t tcp_flags;      /**< TCP only. */
	uint8_t ttl;            /**< IPv4 TTL or IPv6 hop limit. */
	uint8_t l2_len;         /**< Ethernet header plus VLAN tags. */
	uint8_t n_vlans;        /**< 0, 1 or 2. */
	uint16_t l3_len;        /**< IP header, IPv6 extension headers included. */
	uint16_t l4_len;        /**< L4 header and payload, from the IP length. */
	uint16_t vlan_tci;      /**< Outer VLAN TCI, 0 if untagged. */
	uint16_t sport;         /**< TCP/UDP source port, ICMP type, ARP operation. */
	uint16_t dport;         /**< TCP/UDP destination port, ICMP code. */
	uint16_t icmp_id;       /**< ICMP echo identifier (and the id of other query types). */
	uint32_t frag_id;       /**< IPv4 or IPv6 fragment identification; 0 unless a fragment. */
	uint16_t frag_offset;   /**< Fragment offset in bytes. */
	uint16_t frag_len;      /**< Bytes of the fragmentable part this fragment carries. */
	bool frag_more;         /**< More fragments follow. */
	uint8_t tcp_hdr_len;    /**< TCP header with options, in bytes. */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint16_t tcp_win;       /**< Raw window field (unscaled). */
	uint8_t arp_sha[6];     /**< ARP sender hardware address. */
	uint8_t nd_lladdr[6];   /**< NS source / NA target link-layer address option, or zero. */
	struct sg_ip src;       /**< Source address (ARP: sender protocol address). */
	struct sg_ip dst;       /**< Destination address (ARP: target protocol address). */
	struct sg_ip nd_target; /**< ICMPv6 NS/NA target address. */
};

/**
 * Parse 'n' packets into 'meta'. Each record gets reason SG_DROP_NONE or the reason the
 * packet is malformed (truncated at any layer, bad IHL/length/checksum, IPv4 options, bad
 * IPv6 extension chains, invalid TCP flag combinations, tiny or overlapping fragments,
 * neighbour discovery a receiver would discard, ...).
 * Returns the number of well-formed packets.
 */
uint16_t sg_pkt_parse_burst(struct rte_mbuf **pkts, struct sg_pkt_meta *meta, uint16_t n);

/** Parse one packet (what sg_pkt_parse_burst does for each). Returns meta->reason. */
enum sg_drop_reason sg_pkt_parse(const struct rte_mbuf *m, struct sg_pkt_meta *meta);

/**
 * True for a TCP flag combination no valid segment carries: netfilter's tcp_valid_flags table.
 * PSH, ECE and CWR never matter; of FIN, SYN, RST, ACK and URG only these are valid: SYN,
 * SYN+URG, SYN+ACK, RST, RST+ACK, FIN+ACK, FIN+ACK+URG, ACK, ACK+URG. So no flags, SYN+FIN,
 * SYN+RST, RST+FIN, FIN without ACK, URG alone and SYN+ACK+URG are all invalid.
 */
bool sg_pkt_tcp_flags_invalid(uint8_t flags);

/**
 * Turn an ARP request (parsed in 'meta', reason SG_DROP_NONE) into the reply in place: 'mac'
 * answers for the requested address. The Ethernet destination becomes the request's source,
 * VLAN tags and frame length stay, so the frame goes back out of the port it came in on.
 */
void sg_pkt_arp_reply(struct rte_mbuf *m, const struct sg_pkt_meta *meta, const uint8_t mac[6]);

/**
 * Turn a neighbour solicitation (parsed in 'meta', reason SG_DROP_NONE) into a neighbour
 * advertisement in place, from 'mac' for meta->nd_target (router flag set when 'router'):
 * override flag and a target link-layer address option; solicited flag and unicast to the
 * solicitation's source, or, when that source was :: (duplicate address detection), no
 * solicited flag and sent to all-nodes ff02::1 (RFC 4861 7.2.4). IPv6 extension headers of
 * the solicitation are dropped, VLAN tags stay; the mbuf is grown or trimmed to fit.
 * Returns 0, or -EINVAL if 'meta' is not a solicitation or the mbuf is not one segment
 * with room for the advertisement (then the packet is unchanged).
 */
int sg_pkt_nd_advert(struct rte_mbuf *m, const struct sg_pkt_meta *meta, const uint8_t mac[6],
		bool router);

/**
 * Turn an IPv4 or IPv6 packet (parsed in 'meta', untagged, one segment) into the ICMP error
 * that says it is too big for the next hop, in place: ICMP "fragmentation needed and DF set"
 * with next-hop MTU 'mtu' (RFC 1191), or ICMPv6 "packet too big" (RFC 4443), from 'router_ip'
 * and 'router_mac' to the packet's source, quoting as much of it as fits in 576 bytes (IPv4)
 * or 1280 (IPv6). Returns 0, or -EINVAL (the packet unchanged) when it cannot be answered.
 */
int sg_pkt_icmp_too_big(struct rte_mbuf *m, const struct sg_pkt_meta *meta,
		const uint8_t router_mac[6], const struct sg_ip *router_ip, uint16_t mtu);

/* ---- VXLAN (RFC 7348) ---- */

#define SG_VXLAN_PORT 4789
/** Outer Ethernet (14), IPv4 (20), UDP (8) and VXLAN (8) headers. */
#define SG_VXLAN_HDRS_LEN 50

/** What the outer headers of an encapsulated frame say. Addresses in network order. */
struct sg_vxlan_outer {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint32_t src_ip;
	uint32_t dst_ip;
};

/**
 * Encapsulate the frame in 'm' (one segment or more; the headers go into the first segment's
 * headroom): outer Ethernet from 'outer', IPv4 from src_ip to dst_ip with DF set, TTL 64,
 * identification 0 and its checksum, UDP from 'src_port' to 4789 with checksum 0, VXLAN with
 * the I flag and 'vni'. Transmit offload flags are cleared. Returns 0, -ENOSPC when the
 * headroom is short of SG_VXLAN_HDRS_LEN bytes, -EMSGSIZE when the result would not fit in an
 * IPv4 packet (the mbuf is unchanged on error).
 */
int sg_pkt_vxlan_encap(struct rte_mbuf *m, const struct sg_vxlan_outer *outer, uint32_t vni,
		uint16_t src_port);

/** The outer UDP source port of an inner flow (parsed in 'md'): a hash of its addresses,
 * ports and protocol in 49152..65535, so that the underlay's ECMP spreads flows. */
uint16_t sg_pkt_vxlan_src_port(const struct sg_pkt_meta *md);

#endif /* SG_PKT_H */
