/* SPDX-License-Identifier: BSD-3-Clause */
/* The fast-path parser: Ethernet, VLAN, ARP, IPv4, IPv6 and its extension headers, TCP, UDP,
 * ICMP and ICMPv6 into struct sg_pkt_meta, with the reason for every malformed packet.
 *
 * Every read goes through pkt_hdr(), which checks the bytes against the first segment's data
 * length, and every length taken from a header is checked against the IP length before it is
 * used, so no packet can make the parser read past its data. Nothing here allocates, locks or
 * makes a system call.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "sg_pkt.h"

/*
 * How many packets ahead of the one being parsed the burst loop prefetches: enough to cover
 * the memory latency of one packet's headers with the parse time of the ones in between, few
 * enough that the lines are still in L1 when their turn comes. l3fwd uses 3; packets written
 * by another core parsed fastest at 8 (docs/BENCHMARKS.md: 4, 8 and 16 measured on ring ports).
 */
#define PREFETCH_AHEAD 8

/* Neighbour discovery: fixed part of NS/NA, and how many options are looked at. */
#define ND_HDR_LEN 24
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define ND_MAX_OPTIONS 8

#define ICMP_HDR_LEN 8
#define IPV6_EXT_MIN_LEN 8

/*
 * netfilter's tcp_valid_flags (nf_conntrack_proto_tcp.c), indexed by the flags below; PSH,
 * ECE and CWR are left out of the index because no combination of them is invalid.
 */
#define TCP_FLAGS_CHECKED (SG_TCP_FIN | SG_TCP_SYN | SG_TCP_RST | SG_TCP_ACK | SG_TCP_URG)

static const bool tcp_flags_valid[TCP_FLAGS_CHECKED + 1] = {
	[SG_TCP_SYN] = true,
	[SG_TCP_SYN | SG_TCP_URG] = true,
	[SG_TCP_SYN | SG_TCP_ACK] = true,
	[SG_TCP_RST] = true,
	[SG_TCP_RST | SG_TCP_ACK] = true,
	[SG_TCP_FIN | SG_TCP_ACK] = true,
	[SG_TCP_FIN | SG_TCP_ACK | SG_TCP_URG] = true,
	[SG_TCP_ACK] = true,
	[SG_TCP_ACK | SG_TCP_URG] = true,
};

static inline bool
tcp_flags_invalid(uint8_t flags)
{
	return !tcp_flags_valid[flags & TCP_FLAGS_CHECKED];
}

bool
sg_pkt_tcp_flags_invalid(uint8_t flags)
{
	return tcp_flags_invalid(flags);
}

/*
 * What the parser needs of the mbuf, read once per packet and passed by value: to the
 * compiler every byte stored into the record may alias the mbuf, so reading these through the
 * mbuf at each header would load them again after every store.
 */
struct pkt_seg {
	const uint8_t *data; /**< The first segment's data. */
	uint32_t data_len;   /**< Its length. */
	uint32_t pkt_len;    /**< The whole packet's length, all segments. */
};

/* 'len' bytes at 'off' of the first segment, or NULL when they are not all there. */
static inline const void *
pkt_hdr(struct pkt_seg m, uint32_t off, uint32_t len)
{
	if (off + len > m.data_len)
		return NULL;
	return m.data + off;
}

static inline enum sg_drop_reason
drop(struct sg_pkt_meta *meta, enum sg_drop_reason reason)
{
	meta->reason = (uint8_t)reason;
	return reason;
}

/*
 * Network to host order. DPDK's rte_be_to_cpu_16/32 of a variable are inline assembly on x86
 * (xchgb, bswap) that the compiler cannot merge with the load or schedule around; the
 * builtins give the same values and let it.
 */
static inline uint16_t
ntoh16(rte_be16_t v)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	return __builtin_bswap16(v);
#else
	return v;
#endif
}

static inline uint32_t
ntoh32(rte_be32_t v)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

static inline uint16_t
be16(const void *p)
{
	rte_be16_t v;

	memcpy(&v, p, sizeof(v));
	return ntoh16(v);
}

static inline uint32_t
be32(const void *p)
{
	rte_be32_t v;

	memcpy(&v, p, sizeof(v));
	return ntoh32(v);
}

static inline void
set_ip(struct sg_ip *ip, uint8_t family, const void *bytes)
{
	ip->family = family;
	memcpy(ip->bytes, bytes, family == SG_AF_INET ? 4 : 16);
}

/*
 * True when the option-less IPv4 header at 'ip' carries a correct checksum: the one's
 * complement sum of its ten 16-bit words, checksum included, is 0xffff. rte_ipv4_cksum() sums
 * them one at a time (57 instructions a packet under callgrind); five 32-bit words summed in
 * 64 bits and folded give the same answer in 23. The folds keep the value modulo 0xffff
 * (2^16 == 1) and keep it non-zero unless every word is zero, as rte_raw_cksum()'s do, and
 * 0xffff is the same in either byte order (RFC 1071 2(B)), so the words need no swapping.
 */
static inline bool
ipv4_cksum_ok(const struct rte_ipv4_hdr *ip)
{
	const uint8_t *p = (const uint8_t *)ip;
	uint32_t w[5];
	uint64_t sum;

	/* Written out: GCC at -O2 keeps a loop here, which costs as much as the sums. */
	memcpy(w, p, sizeof(w));
	sum = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	/* Below 2^35, then below 2^16 + 2^19, 0xffff + 9 and at last at most 0xffff. */
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * Linux drops these in ip_route_input_slow() ("martian" source or destination): a source
 * that is multicast, the limited broadcast or loopback, and a destination that is loopback
 * or in 0.0.0.0/8. The unspecified source 0.0.0.0 stays valid: DHCP discovery uses it (D14).
 */
static bool
ipv4_addr_invalid(uint32_t src, uint32_t dst)
{
	return (src >> 28) == 0xe || src == UINT32_MAX || (src >> 24) == 127 ||
		(dst >> 24) == 127 || (dst >> 24) == 0;
}

static const uint8_t ipv6_loopback[16] = {[15] = 1};
static const uint8_t ipv6_unspecified[16];
static const uint8_t ipv6_v4mapped[12] = {[10] = 0xff, [11] = 0xff};

/*
 * What Linux's ipv6_rcv() drops from the wire: a multicast, loopback or IPv4-mapped source,
 * a loopback destination, and a multicast destination of reserved (0) or interface-local (1)
 * scope (RFC 4291 2.7). The unspecified destination is never valid (RFC 4291 2.5.2).
 */
static bool
ipv6_addr_invalid(const uint8_t *src, const uint8_t *dst)
{
	if (src[0] == 0xff || memcmp(src, ipv6_loopback, 16) == 0 ||
			memcmp(src, ipv6_v4mapped, sizeof(ipv6_v4mapped)) == 0)
		return true;
	if (dst[0] == 0xff)
		return (dst[1] & 0x0f) <= 1;
	return memcmp(dst, ipv6_loopback, 16) == 0 || memcmp(dst, ipv6_unspecified, 16) == 0;
}

/* Smallest transport header: a later fragment starting inside it rewrites the first one's. */
static uint32_t
l4_min_len(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return sizeof(struct rte_tcp_hdr);
	case IPPROTO_UDP:
		return sizeof(struct rte_udp_hdr);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return ICMP_HDR_LEN;
	default:
		return 0;
	}
}

/*
 * Fragments no correct sender produces, whatever the other fragments hold: 'len' bytes of the
 * fragmentable part at meta->frag_offset, after 'unfrag_len' bytes that every fragment repeats.
 *  - All but the last fragment carry a multiple of 8 bytes (RFC 791; RFC 8200 says discard):
 *    otherwise the next fragment, whose offset is a multiple of 8, overlaps or leaves a gap.
 *  - The datagram cannot grow past 65535 bytes ("ping of death"; RFC 8200 says discard).
 *  - A later fragment may not start inside the transport header. RFC 1858 drops TCP at
 *    offset 8, which could rewrite the flags; since a first fragment must hold the whole
 *    header (FRAG_TINY), any later fragment below its length is an overlap.
 */
static enum sg_drop_reason
check_frag(struct sg_pkt_meta *meta, uint32_t unfrag_len, uint32_t len)
{
	if (meta->frag_more && len % 8 != 0)
		return drop(meta, SG_DROP_FRAG_OVERLAP);
	if (unfrag_len + meta->frag_offset + len > UINT16_MAX)
		return drop(meta, SG_DROP_FRAG_OVERLAP);
	if (meta->frag == SG_FRAG_LATER && meta->frag_offset < l4_min_len(meta->proto))
		return drop(meta, SG_DROP_FRAG_OVERLAP);
	meta->frag_len = (uint16_t)len;
	return SG_DROP_NONE;
}

static bool
icmp4_is_query(uint8_t type)
{
	switch (type) {
	case 0:  /* echo reply */
	case 8:  /* echo request */
	case 13: /* timestamp */
	case 14: /* timestamp reply */
	case 15: /* information request */
	case 16: /* information reply */
	case 17: /* address mask request */
	case 18: /* address mask reply */
		return true;
	default:
		return false;
	}
}

/*
 * Neighbour solicitations and advertisements at 'off' (the ICMPv6 header, already read).
 * sgfw answers solicitations itself and port security checks advertisements, so it applies
 * the validation a receiver would (RFC 4861 7.1.1 and 7.1.2): hop limit 255 (the message
 * cannot have crossed a router), code 0, at least 24 bytes, a target that is not multicast,
 * options of non-zero length inside the message; and no fragment header at all (RFC 6980).
 * The source (NS) or target (NA) link-layer address option goes to nd_lladdr; only the first
 * ND_MAX_OPTIONS options are looked at, which is plenty for real messages.
 */
static __rte_noinline enum sg_drop_reason
parse_nd(struct pkt_seg m, struct sg_pkt_meta *meta, uint32_t off, bool frag_hdr)
{
	const uint8_t want = meta->sport == SG_ND_SOLICIT ? ND_OPT_SLLA : ND_OPT_TLLA;
	const uint8_t *nd;
	uint32_t pos;

	if (meta->ttl != 255 || meta->dport != 0 || frag_hdr)
		return drop(meta, SG_DROP_ND_MALFORMED);
	if (meta->l4_len < ND_HDR_LEN)
		return drop(meta, SG_DROP_L4_TRUNCATED);
	nd = pkt_hdr(m, off, ND_HDR_LEN);
	if (nd == NULL)
		return drop(meta, SG_DROP_L4_TRUNCATED);
	if (nd[8] == 0xff)
		return drop(meta, SG_DROP_ND_MALFORMED);
	set_ip(&meta->nd_target, SG_AF_INET6, nd + 8);

	pos = ND_HDR_LEN;
	for (unsigned int n = 0; pos < meta->l4_len && n < ND_MAX_OPTIONS; n++) {
		const uint8_t *opt;
		uint32_t len;

		if (pos + 2 > meta->l4_len)
			return drop(meta, SG_DROP_ND_MALFORMED);
		opt = pkt_hdr(m, off + pos, 2);
		if (opt == NULL)
			return drop(meta, SG_DROP_L4_TRUNCATED);
		len = opt[1] * 8u;
		if (len == 0 || pos + len > meta->l4_len)
			return drop(meta, SG_DROP_ND_MALFORMED);
		if (opt[0] == want && len == 8) {
			const uint8_t *lla = pkt_hdr(m, off + pos + 2, 6);

			if (lla == NULL)
				return drop(meta, SG_DROP_L4_TRUNCATED);
			memcpy(meta->nd_lladdr, lla, 6);
		}
		pos += len;
	}
	return SG_DROP_NONE;
}

/*
 * The transport header at 'off'; meta->l4_len bytes follow it in the datagram. 'frag_hdr'
 * says an IPv6 fragment header was present (atomic fragments included).
 */
static __rte_always_inline enum sg_drop_reason
parse_l4(struct pkt_seg m, struct sg_pkt_meta *meta, uint32_t off, bool frag_hdr)
{
	/* The header must sit whole in a first fragment (RFC 1858, RFC 7112). */
	const enum sg_drop_reason short_reason =
			meta->frag == SG_FRAG_FIRST ? SG_DROP_FRAG_TINY : SG_DROP_L4_TRUNCATED;
	const uint8_t family = meta->src.family;
	const struct rte_tcp_hdr *tcp;
	const struct rte_udp_hdr *udp;
	const uint8_t *icmp;
	uint32_t len;

	/* No transport header here: the datagram's verdict decides, ports stay 0 (D12). */
	if (meta->frag == SG_FRAG_LATER)
		return SG_DROP_NONE;

	switch (meta->proto) {
	case IPPROTO_TCP:
		if (meta->l4_len < sizeof(*tcp))
			return drop(meta, short_reason);
		tcp = pkt_hdr(m, off, sizeof(*tcp));
		if (tcp == NULL)
			return drop(meta, SG_DROP_L4_TRUNCATED);
		len = (tcp->data_off >> 4) * 4u;
		if (len < sizeof(*tcp))
			return drop(meta, SG_DROP_TCP_HEADER_LEN);
		if (len > meta->l4_len)
			return drop(meta, meta->frag == SG_FRAG_FIRST ? SG_DROP_FRAG_TINY :
					SG_DROP_TCP_HEADER_LEN);
		if (pkt_hdr(m, off, len) == NULL)
			return drop(meta, SG_DROP_L4_TRUNCATED);
		meta->sport = ntoh16(tcp->src_port);
		meta->dport = ntoh16(tcp->dst_port);
		meta->tcp_seq = ntoh32(tcp->sent_seq);
		meta->tcp_ack = ntoh32(tcp->recv_ack);
		meta->tcp_win = ntoh16(tcp->rx_win);
		meta->tcp_flags = tcp->tcp_flags;
		meta->tcp_hdr_len = (uint8_t)len;
		if (tcp_flags_invalid(tcp->tcp_flags))
			return drop(meta, SG_DROP_TCP_FLAGS);
		return SG_DROP_NONE;

	case IPPROTO_UDP:
		if (meta->l4_len < sizeof(*udp))
			return drop(meta, short_reason);
		udp = pkt_hdr(m, off, sizeof(*udp));
		if (udp == NULL)
			return drop(meta, SG_DROP_L4_TRUNCATED);
		meta->sport = ntoh16(udp->src_port);
		meta->dport = ntoh16(udp->dst_port);
		/*
		 * As Linux's __udp4_lib_rcv(): the UDP length may not exceed what the IP length
		 * leaves, nor be below the header (IPv6 jumbograms, length 0, never fit a frame).
		 * A first fragment holds only part of the datagram the length describes.
		 */
		len = ntoh16(udp->dgram_len);
		if (len < sizeof(*udp) || (meta->frag == SG_FRAG_NONE && len > meta->l4_len))
			return drop(meta, SG_DROP_L4_TRUNCATED);
		return SG_DROP_NONE;

	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* ICMP in IPv6 or ICMPv6 in IPv4 means nothing to anyone: opaque protocols. */
		if ((meta->proto == IPPROTO_ICMP) != (family == SG_AF_INET))
			return SG_DROP_NONE;
		if (meta->l4_len < ICMP_HDR_LEN)
			return drop(meta, short_reason);
		icmp = pkt_hdr(m, off, ICMP_HDR_LEN);
		if (icmp == NULL)
			return drop(meta, SG_DROP_L4_TRUNCATED);
		meta->sport = icmp[0];
		meta->dport = icmp[1];
		if (family == SG_AF_INET) {
			if (icmp4_is_query(icmp[0]))
				meta->icmp_id = be16(icmp + 4);
			return SG_DROP_NONE;
		}
		if (icmp[0] == 128 || icmp[0] == 129) /* echo request and reply */
			meta->icmp_id = be16(icmp + 4);
		else if (icmp[0] == SG_ND_SOLICIT || icmp[0] == SG_ND_ADVERT)
			return parse_nd(m, meta, off, frag_hdr);
		return SG_DROP_NONE;

	default:
		return SG_DROP_NONE;
	}
}

/*
 * IPv4 at 'off'. Checks in the order a receiver depends on them; options are refused outright
 * (source routing, record route and router alert have no business coming from a VM), which
 * also keeps the header at 20 bytes for the checksum and every later stage.
 */
static __rte_always_inline enum sg_drop_reason
parse_ipv4(struct pkt_seg m, struct sg_pkt_meta *meta, uint32_t off)
{
	const struct rte_ipv4_hdr *ip = pkt_hdr(m, off, sizeof(*ip));
	uint32_t total, frag;

	if (ip == NULL)
		return drop(meta, SG_DROP_IP_TRUNCATED);
	if (ip->version_ihl >> 4 != 4)
		return drop(meta, SG_DROP_IP_VERSION);
	if ((ip->version_ihl & 0x0f) < 5)
		return drop(meta, SG_DROP_IP_HEADER_LEN);
	if ((ip->version_ihl & 0x0f) > 5)
		return drop(meta, SG_DROP_IP_OPTIONS);
	total = ntoh16(ip->total_length);
	if (total < sizeof(*ip) || off + total > m.pkt_len)
		return drop(meta, SG_DROP_IP_TOTAL_LEN);
	/* The header is 20 bytes here: options were refused above. */
	if (!ipv4_cksum_ok(ip))
		return drop(meta, SG_DROP_IP_CHECKSUM);

	meta->proto = ip->next_proto_id;
	meta->ttl = ip->time_to_live;
	meta->l3_len = sizeof(*ip);
	meta->l4_len = (uint16_t)(total - sizeof(*ip));
	set_ip(&meta->src, SG_AF_INET, &ip->src_addr);
	set_ip(&meta->dst, SG_AF_INET, &ip->dst_addr);
	if (ipv4_addr_invalid(ntoh32(ip->src_addr), ntoh32(ip->dst_addr)))
		return drop(meta, SG_DROP_IP_ADDRESS);

	frag = ntoh16(ip->fragment_offset);
	if ((frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
		meta->frag_offset = (uint16_t)((frag & RTE_IPV4_HDR_OFFSET_MASK) *
				RTE_IPV4_HDR_OFFSET_UNITS);
		meta->frag_more = (frag & RTE_IPV4_HDR_MF_FLAG) != 0;
		meta->frag = meta->frag_offset == 0 ? SG_FRAG_FIRST : SG_FRAG_LATER;
		meta->frag_id = ntoh16(ip->packet_id);
		if (check_frag(meta, sizeof(*ip), meta->l4_len) != SG_DROP_NONE)
			return meta->reason;
	}
	return parse_l4(m, meta, off + sizeof(*ip), false);
}

static bool
ipv6_is_ext(uint8_t nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
		return true;
	default:
		return false;
	}
}

/*
 * IPv6 at 'off', then its extension header chain. The walk follows hop-by-hop (first only,
 * RFC 8200 4.1), routing (type 0 refused, RFC 5095), destination options, fragment (once) and
 * AH, at most SG_PKT_IPV6_MAX_EXT of them. ESP, "no next header" and anything else end the
 * chain as the protocol: the ACL decides on them. Mobility, HIP and shim6 headers are treated
 * the same way, as Linux does, rather than walked.
 */
static enum sg_drop_reason
parse_ipv6(struct pkt_seg m, struct sg_pkt_meta *meta, uint32_t off)
{
	const struct rte_ipv6_hdr *ip = pkt_hdr(m, off, sizeof(*ip));
	uint32_t pos, end;
	bool frag_hdr = false;
	uint8_t nh;

	if (ip == NULL)
		return drop(meta, SG_DROP_IP_TRUNCATED);
	if (ntoh32(ip->vtc_flow) >> 28 != 6)
		return drop(meta, SG_DROP_IP_VERSION);
	pos = off + sizeof(*ip);
	end = pos + ntoh16(ip->payload_len);
	if (end > m.pkt_len)
		return drop(meta, SG_DROP_IP_TOTAL_LEN);

	meta->ttl = ip->hop_limits;
	set_ip(&meta->src, SG_AF_INET6, ip->src_addr);
	set_ip(&meta->dst, SG_AF_INET6, ip->dst_addr);
	if (ipv6_addr_invalid(ip->src_addr, ip->dst_addr))
		return drop(meta, SG_DROP_IP_ADDRESS);

	nh = ip->proto;
	for (unsigned int n = 0; ipv6_is_ext(nh); n++) {
		/* A first fragment must hold the whole chain (RFC 7112): cut short, it is tiny. */
		const enum sg_drop_reason short_reason = meta->frag == SG_FRAG_FIRST ?
				SG_DROP_FRAG_TINY : SG_DROP_IPV6_EXT_HEADERS;
		const uint8_t *ext;
		uint32_t len;

		if (n == SG_PKT_IPV6_MAX_EXT)
			return drop(meta, SG_DROP_IPV6_EXT_HEADERS);
		if (pos + IPV6_EXT_MIN_LEN > end)
			return drop(meta, short_reason);
		ext = pkt_hdr(m, pos, IPV6_EXT_MIN_LEN);
		if (ext == NULL)
			return drop(meta, SG_DROP_IPV6_EXT_HEADERS);

		switch (nh) {
		case IPPROTO_HOPOPTS:
			if (n != 0)
				return drop(meta, SG_DROP_IPV6_EXT_HEADERS);
			len = (ext[1] + 1u) * 8;
			break;
		case IPPROTO_ROUTING:
			if (ext[2] == 0)
				return drop(meta, SG_DROP_IPV6_EXT_HEADERS);
			len = (ext[1] + 1u) * 8;
			break;
		case IPPROTO_DSTOPTS:
			len = (ext[1] + 1u) * 8;
			break;
		case IPPROTO_AH:
			len = (ext[1] + 2u) * 4;
			break;
		default: /* IPPROTO_FRAGMENT */
			if (frag_hdr)
				return drop(meta, SG_DROP_IPV6_EXT_HEADERS);
			frag_hdr = true;
			len = IPV6_EXT_MIN_LEN;
			/* Offset 0 without more fragments is an atomic fragment: a whole
			 * datagram (RFC 6946). */
			if ((be16(ext + 2) & 0xfff9) == 0)
				break;
			meta->frag_offset = be16(ext + 2) & 0xfff8;
			meta->frag_more = (ext[3] & 1) != 0;
			meta->frag = meta->frag_offset == 0 ? SG_FRAG_FIRST : SG_FRAG_LATER;
			meta->frag_id = be32(ext + 4);
			meta->proto = ext[0];
			if (check_frag(meta, pos - off - sizeof(*ip), end - pos - len) !=
					SG_DROP_NONE)
				return meta->reason;
			break;
		}
		if (pos + len > end)
			return drop(meta, short_reason);
		nh = ext[0];
		pos += len;
		/* What follows a later fragment's header is data, not headers. */
		if (meta->frag == SG_FRAG_LATER)
			break;
	}
	meta->proto = nh;
	meta->l3_len = (uint16_t)(pos - off);
	meta->l4_len = (uint16_t)(end - pos);
	return parse_l4(m, meta, pos, frag_hdr);
}

/* Sender and target of an ARP request or reply for IPv4 over Ethernet; nothing else. */
static enum sg_drop_reason
parse_arp(struct pkt_seg m, struct sg_pkt_meta *meta, uint32_t off)
{
	const struct rte_arp_hdr *arp = pkt_hdr(m, off, sizeof(*arp));
	uint16_t op;

	if (arp == NULL)
		return drop(meta, SG_DROP_ARP_MALFORMED);
	op = ntoh16(arp->arp_opcode);
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
			arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
			arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4 ||
			(op != SG_ARP_REQUEST && op != SG_ARP_REPLY))
		return drop(meta, SG_DROP_ARP_MALFORMED);
	meta->l3_len = sizeof(*arp);
	meta->sport = op;
	memcpy(meta->arp_sha, &arp->arp_data.arp_sha, sizeof(meta->arp_sha));
	set_ip(&meta->src, SG_AF_INET, &arp->arp_data.arp_sip);
	set_ip(&meta->dst, SG_AF_INET, &arp->arp_data.arp_tip);
	return SG_DROP_NONE;
}

/*
 * Zero the whole record, padding included (the tests compare records with memcmp). One
 * memset of its 108 bytes becomes "rep stosq" with GCC's generic tuning, whose start-up alone
 * costs more cycles than parsing an Ethernet, IPv4 and TCP header; memsets of at most 64 bytes
 * are expanded into plain 16-byte stores.
 */
static inline void
meta_clear(struct sg_pkt_meta *meta)
{
	RTE_BUILD_BUG_ON(sizeof(*meta) <= 64 || sizeof(*meta) > 128);
	memset(meta, 0, 64);
	memset((uint8_t *)meta + 64, 0, sizeof(*meta) - 64);
}

/*
 * One packet. Up to two VLAN tags (802.1Q 0x8100 or 802.1ad 0x88a8 in either position);
 * the outer TCI is kept. The legacy QinQ TPIDs (0x9100, ...) are just unknown ethertypes, and
 * hardware-stripped tags (RTE_MBUF_F_RX_VLAN_STRIPPED) are not looked at: sgfw's ports leave
 * VLAN stripping off so that the frame is the whole truth. Always inline: in the burst loop
 * the call and its register saves cost about 20 instructions per packet.
 */
static __rte_always_inline enum sg_drop_reason
parse_one(const struct rte_mbuf *mbuf, struct sg_pkt_meta *meta)
{
	const struct pkt_seg m = {
		.data = rte_pktmbuf_mtod(mbuf, const uint8_t *),
		.data_len = rte_pktmbuf_data_len(mbuf),
		.pkt_len = rte_pktmbuf_pkt_len(mbuf),
	};
	const struct rte_ether_hdr *eth;
	uint32_t off = sizeof(*eth);
	uint16_t type;

	meta_clear(meta);
	eth = pkt_hdr(m, 0, sizeof(*eth));
	if (eth == NULL)
		return drop(meta, SG_DROP_L2_TRUNCATED);
	type = ntoh16(eth->ether_type);
	while (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ) {
		const struct rte_vlan_hdr *vlan;

		if (meta->n_vlans == 2)
			return drop(meta, SG_DROP_VLAN_NESTED);
		vlan = pkt_hdr(m, off, sizeof(*vlan));
		if (vlan == NULL)
			return drop(meta, SG_DROP_L2_TRUNCATED);
		if (meta->n_vlans++ == 0)
			meta->vlan_tci = ntoh16(vlan->vlan_tci);
		type = ntoh16(vlan->eth_proto);
		off += sizeof(*vlan);
	}
	meta->l2_len = (uint8_t)off;

	switch (type) {
	case RTE_ETHER_TYPE_IPV4:
		meta->l3 = SG_L3_IPV4;
		return parse_ipv4(m, meta, off);
	case RTE_ETHER_TYPE_IPV6:
		meta->l3 = SG_L3_IPV6;
		return parse_ipv6(m, meta, off);
	case RTE_ETHER_TYPE_ARP:
		meta->l3 = SG_L3_ARP;
		return parse_arp(m, meta, off);
	default:
		return drop(meta, SG_DROP_ETHERTYPE);
	}
}

enum sg_drop_reason
sg_pkt_parse(const struct rte_mbuf *m, struct sg_pkt_meta *meta)
{
	return parse_one(m, meta);
}

uint16_t
sg_pkt_parse_burst(struct rte_mbuf **pkts, struct sg_pkt_meta *meta, uint16_t n)
{
	uint16_t ok = 0;
	uint16_t i;

	/* Packets written by another core (ring ports, a NIC's descriptors) arrive with cold mbuf
	 * headers, and the data prefetch below must read a header to find its packet: fetch the
	 * whole burst's headers first, so those reads do not stall one by one. */
	for (i = 0; i < n; i++)
		rte_prefetch0(pkts[i]);
	for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		ok += parse_one(pkts[i], &meta[i]) == SG_DROP_NONE;
	}
	return ok;
}
