/* SPDX-License-Identifier: BSD-3-Clause */
/* Component tests of lib/pkt: the parser against a table of packets crafted byte by byte (every
 * drop reason it produces), truncation at every layer, multi-segment mbufs, random frames, the
 * burst API, and the ARP reply and neighbour advertisement it writes, checked byte for byte.
 *
 * Packets are described as short op lists (Ethernet, tags, IP, extension headers, transport,
 * patches) run by a small builder that links next-header fields, fixes lengths and checksums,
 * and remembers where each layer starts so the truncation tests know which reason to expect. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "sg_pkt.h"
#include "sg_test_eal.h"

static struct rte_mempool *pool;

/* ---- Packet builder ---- */

#define PB_MAX 640
#define PB_MAX_LAYERS 32

#define SRC_MAC "02:00:00:00:00:01"
#define DST_MAC "02:00:00:00:00:02"
#define OUR_MAC "0a:0b:0c:0d:0e:0f"
#define V4A "10.0.0.1"
#define V4B "10.0.0.2"
#define V6A "2001:db8::1"
#define V6B "2001:db8::2"
#define TCP_SEQ 0x01020304u
#define TCP_ACKNO 0x05060708u
#define TCP_WIN 0x2000
#define IP4_ID 0x1234
#define IP6_FRAG_ID 0xabcdef01u

enum op_kind {
	OP_END = 0,
	OP_ETH,    /* s1: destination MAC (NULL: DST_MAC); the source is SRC_MAC */
	OP_VLAN,   /* a: TPID, b: TCI */
	OP_TYPE,   /* a: ethertype; the network header starts after it */
	OP_ARP,    /* a: operation, s1: sender IP, s2: target IP; sender MAC SRC_MAC */
	OP_IPV4,   /* s1, s2: addresses; TTL 64, identification IP4_ID */
	OP_FRAG4,  /* a: offset in bytes, b: more fragments */
	OP_IPV6,   /* s1, s2: addresses; hop limit 64 */
	OP_EXT,    /* a: header type, b: its length field, c: routing type */
	OP_FRAG6,  /* a: offset in bytes, b: more fragments; identification IP6_FRAG_ID */
	OP_PROTO,  /* a: protocol number to link, no header */
	OP_TCP,    /* a: source port, b: destination port, c: flags */
	OP_TCPOPT, /* a: data offset in words; appends NOP options up to it */
	OP_UDP,    /* a: source port, b: destination port */
	OP_ICMP,   /* a: type, b: code, c: identifier; ICMPv6 when over IPv6 */
	OP_ND,     /* a: 135 or 136, s1: target, c: NA flags byte; hop limit becomes 255 */
	OP_NDOPT,  /* a: option type, b: length in 8-byte units, s1: MAC for the payload or NULL */
	OP_DATA,   /* a: bytes of payload */
	OP_FIX,    /* fix lengths and checksums now (the first patch, PAD or END does it) */
	OP_PAD,    /* a: bytes of Ethernet padding after the IP datagram */
	OP_SET8,   /* a: anchor, b: offset from it, c: value */
	OP_SET16,  /* as OP_SET8, big endian */
	OP_CSUM4,  /* recompute the IPv4 header checksum after patches */
};

enum anchor { AT_L3, AT_L4, AT_EXT };

struct op {
	uint8_t kind;
	uint32_t a, b, c;
	const char *s1, *s2;
};

#define ETH {.kind = OP_ETH}
#define ETH_TO(mac) {.kind = OP_ETH, .s1 = (mac)}
#define VLAN(tpid, tci) {.kind = OP_VLAN, .a = (tpid), .b = (tci)}
#define TYPE(t) {.kind = OP_TYPE, .a = (t)}
#define TYPE4 TYPE(0x0800)
#define TYPE6 TYPE(0x86dd)
#define TYPE_ARP TYPE(0x0806)
#define ARP(op, spa, tpa) {.kind = OP_ARP, .a = (op), .s1 = (spa), .s2 = (tpa)}
#define IPV4(s, d) {.kind = OP_IPV4, .s1 = (s), .s2 = (d)}
#define IPV4AB IPV4(V4A, V4B)
#define FRAG4(off, mf) {.kind = OP_FRAG4, .a = (off), .b = (mf)}
#define IPV6(s, d) {.kind = OP_IPV6, .s1 = (s), .s2 = (d)}
#define IPV6AB IPV6(V6A, V6B)
#define HOP(len) {.kind = OP_EXT, .a = IPPROTO_HOPOPTS, .b = (len)}
#define DST(len) {.kind = OP_EXT, .a = IPPROTO_DSTOPTS, .b = (len)}
#define RT(len, type) {.kind = OP_EXT, .a = IPPROTO_ROUTING, .b = (len), .c = (type)}
#define AH(len) {.kind = OP_EXT, .a = IPPROTO_AH, .b = (len)}
#define FRAG6(off, mf) {.kind = OP_FRAG6, .a = (off), .b = (mf)}
#define PROTO(p) {.kind = OP_PROTO, .a = (p)}
#define TCP(sp, dp, fl) {.kind = OP_TCP, .a = (sp), .b = (dp), .c = (fl)}
#define TCPOPT(words) {.kind = OP_TCPOPT, .a = (words)}
#define UDP(sp, dp) {.kind = OP_UDP, .a = (sp), .b = (dp)}
#define ICMP(t, c_, id) {.kind = OP_ICMP, .a = (t), .b = (c_), .c = (id)}
#define NS(target) {.kind = OP_ND, .a = SG_ND_SOLICIT, .s1 = (target)}
#define NA(target, flags) {.kind = OP_ND, .a = SG_ND_ADVERT, .s1 = (target), .c = (flags)}
#define LLA(type, mac) {.kind = OP_NDOPT, .a = (type), .b = 1, .s1 = (mac)}
#define NDOPT(type, len) {.kind = OP_NDOPT, .a = (type), .b = (len)}
#define DATA(n) {.kind = OP_DATA, .a = (n)}
#define FIX {.kind = OP_FIX}
#define PAD(n) {.kind = OP_PAD, .a = (n)}
#define SET8(at, off, v) {.kind = OP_SET8, .a = (at), .b = (off), .c = (v)}
#define SET16(at, off, v) {.kind = OP_SET16, .a = (at), .b = (off), .c = (v)}
#define CSUM4 {.kind = OP_CSUM4}

/* A stretch of the packet and the reason expected when the IP length ends inside it. */
struct pb_layer {
	uint16_t start, end;
	uint8_t cut_at_start; /**< IP length ends exactly where the layer starts. */
	uint8_t cut_inside;   /**< IP length ends inside the layer. */
};

struct pb {
	uint8_t b[PB_MAX];
	uint16_t len;
	int nh;              /* the next-header byte the next layer links into, -1 none */
	uint16_t l3;         /* start of the network header */
	uint8_t ip;          /* 0 (ARP, other), 4 or 6 */
	uint16_t ip_end;     /* end of the IP datagram once fixed */
	uint16_t l4;         /* start of the transport header, 0 none */
	uint8_t l4_proto;
	uint16_t ext;        /* start of the last IPv6 extension header */
	uint16_t frag_data;  /* start of the fragmentable part of a fragment, 0 none */
	bool frag_more;
	bool first_frag;     /* a first fragment: short headers are FRAG_TINY */
	bool fixed;
	struct pb_layer layers[PB_MAX_LAYERS];
	unsigned int n_layers;
};

static void
put(struct pb *pb, const void *p, size_t n)
{
	ck_assert_uint_le(pb->len + n, PB_MAX);
	memcpy(pb->b + pb->len, p, n);
	pb->len = (uint16_t)(pb->len + n);
}

static void
put8(struct pb *pb, uint32_t v)
{
	uint8_t x = (uint8_t)v;

	put(pb, &x, 1);
}

static void
wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put16(struct pb *pb, uint32_t v)
{
	uint8_t x[2];

	wr16(x, v);
	put(pb, x, 2);
}

static void
put32(struct pb *pb, uint32_t v)
{
	put16(pb, v >> 16);
	put16(pb, v & 0xffff);
}

static void
put_zero(struct pb *pb, size_t n)
{
	static const uint8_t zero[PB_MAX];

	put(pb, zero, n);
}

static void
put_mac(struct pb *pb, const char *text)
{
	uint8_t mac[6];

	ck_assert_int_eq(sg_mac_parse(text, mac), 0);
	put(pb, mac, 6);
}

static void
put_ip(struct pb *pb, int af, const char *text)
{
	uint8_t ip[16];

	ck_assert_msg(inet_pton(af, text, ip) == 1, "bad address %s", text);
	put(pb, ip, af == AF_INET ? 4 : 16);
}

static void
add_layer(struct pb *pb, uint16_t start, enum sg_drop_reason at_start, enum sg_drop_reason inside)
{
	ck_assert_uint_lt(pb->n_layers, PB_MAX_LAYERS);
	pb->layers[pb->n_layers++] = (struct pb_layer){
		.start = start, .end = pb->len, .cut_at_start = at_start, .cut_inside = inside};
}

/* Transport headers cut short are tiny fragments in a first fragment, truncated otherwise. */
static enum sg_drop_reason
l4_cut(const struct pb *pb, enum sg_drop_reason reason)
{
	return pb->first_frag ? SG_DROP_FRAG_TINY : reason;
}

static void
link_proto(struct pb *pb, uint8_t proto)
{
	if (pb->nh >= 0)
		pb->b[pb->nh] = proto;
	pb->nh = -1;
}

/* RFC 1071 sum, folded, not complemented. */
static uint32_t
sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n % 2)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void
ipv4_csum(struct pb *pb)
{
	uint8_t *ip = pb->b + pb->l3;

	wr16(ip + 10, 0);
	wr16(ip + 10, (uint16_t)~fold(sum16(0, ip, 20)));
}

/* The ICMPv6 checksum sum (pseudo-header included) of 'len' bytes at 'l4'; 0xffff is valid. */
static uint16_t
icmp6_sum(const uint8_t *frame, uint16_t l3, uint16_t l4, uint16_t len)
{
	uint8_t pseudo[8] = {0, 0, (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, IPPROTO_ICMPV6};
	uint32_t sum;

	sum = sum16(0, frame + l3 + 8, 32);
	sum = sum16(sum, pseudo, sizeof(pseudo));
	sum = sum16(sum, frame + l4, len);
	return fold(sum);
}

/* Make the IP datagram end at 'ip_end': lengths, IPv4 checksum, and (when 'l4') the UDP
 * length and ICMPv6 checksum. */
static void
pb_fix_to(struct pb *pb, uint16_t ip_end, bool l4)
{
	if (pb->ip == 4) {
		wr16(pb->b + pb->l3 + 2, ip_end - pb->l3);
		ipv4_csum(pb);
	} else if (pb->ip == 6) {
		wr16(pb->b + pb->l3 + 4, ip_end - pb->l3 - 40);
	}
	if (!l4 || pb->l4 == 0)
		return;
	if (pb->l4_proto == IPPROTO_UDP)
		wr16(pb->b + pb->l4 + 4, ip_end - pb->l4);
	if (pb->l4_proto == IPPROTO_ICMPV6 && pb->frag_data == 0) {
		wr16(pb->b + pb->l4 + 2, 0);
		wr16(pb->b + pb->l4 + 2,
				(uint16_t)~icmp6_sum(pb->b, pb->l3, pb->l4, ip_end - pb->l4));
	}
}

static void
pb_fix(struct pb *pb)
{
	if (pb->fixed)
		return;
	pb->fixed = true;
	pb->ip_end = pb->len;
	pb_fix_to(pb, pb->len, true);
}

static uint16_t
anchor(const struct pb *pb, uint32_t at)
{
	switch (at) {
	case AT_L3:
		return pb->l3;
	case AT_L4:
		return pb->l4;
	default:
		return pb->ext;
	}
}

static void
pb_op(struct pb *pb, const struct op *op)
{
	const uint16_t start = pb->len;

	switch (op->kind) {
	case OP_ETH:
		put_mac(pb, op->s1 != NULL ? op->s1 : DST_MAC);
		put_mac(pb, SRC_MAC);
		add_layer(pb, start, SG_DROP_L2_TRUNCATED, SG_DROP_L2_TRUNCATED);
		break;
	case OP_VLAN:
		put16(pb, op->a);
		put16(pb, op->b);
		add_layer(pb, start, SG_DROP_L2_TRUNCATED, SG_DROP_L2_TRUNCATED);
		break;
	case OP_TYPE:
		put16(pb, op->a);
		add_layer(pb, start, SG_DROP_L2_TRUNCATED, SG_DROP_L2_TRUNCATED);
		pb->l3 = pb->len;
		break;
	case OP_ARP:
		put16(pb, 1);
		put16(pb, 0x0800);
		put8(pb, 6);
		put8(pb, 4);
		put16(pb, op->a);
		put_mac(pb, SRC_MAC);
		put_ip(pb, AF_INET, op->s1);
		put_zero(pb, 6);
		put_ip(pb, AF_INET, op->s2);
		add_layer(pb, start, SG_DROP_ARP_MALFORMED, SG_DROP_ARP_MALFORMED);
		break;
	case OP_IPV4:
		pb->ip = 4;
		put8(pb, 0x45);
		put8(pb, 0);
		put16(pb, 0); /* total length, fixed later */
		put16(pb, IP4_ID);
		put16(pb, 0);
		put8(pb, 64);
		pb->nh = pb->len;
		put8(pb, 0);
		put16(pb, 0);
		put_ip(pb, AF_INET, op->s1);
		put_ip(pb, AF_INET, op->s2);
		add_layer(pb, start, SG_DROP_IP_TOTAL_LEN, SG_DROP_IP_TOTAL_LEN);
		break;
	case OP_FRAG4:
		wr16(pb->b + pb->l3 + 6, (op->b ? 0x2000 : 0) | op->a / 8);
		pb->frag_data = pb->l3 + 20;
		pb->frag_more = op->b != 0;
		pb->first_frag = op->a == 0 && op->b != 0;
		break;
	case OP_IPV6:
		pb->ip = 6;
		put32(pb, 6u << 28);
		put16(pb, 0); /* payload length, fixed later */
		pb->nh = pb->len;
		put8(pb, IPPROTO_NONE);
		put8(pb, 64);
		put_ip(pb, AF_INET6, op->s1);
		put_ip(pb, AF_INET6, op->s2);
		break;
	case OP_EXT:
		link_proto(pb, (uint8_t)op->a);
		pb->ext = start;
		pb->nh = pb->len;
		put8(pb, IPPROTO_NONE);
		put8(pb, op->b);
		if (op->a == IPPROTO_ROUTING) {
			put8(pb, op->c);
			put8(pb, 0); /* segments left */
		}
		put_zero(pb, (op->a == IPPROTO_AH ? (op->b + 2) * 4 : (op->b + 1) * 8) -
						(pb->len - start));
		add_layer(pb, start, l4_cut(pb, SG_DROP_IPV6_EXT_HEADERS),
				l4_cut(pb, SG_DROP_IPV6_EXT_HEADERS));
		break;
	case OP_FRAG6:
		link_proto(pb, IPPROTO_FRAGMENT);
		pb->ext = start;
		pb->nh = pb->len;
		put8(pb, IPPROTO_NONE);
		put8(pb, 0);
		put16(pb, op->a | op->b);
		put32(pb, IP6_FRAG_ID);
		add_layer(pb, start, SG_DROP_IPV6_EXT_HEADERS, SG_DROP_IPV6_EXT_HEADERS);
		if (op->a != 0 || op->b != 0) {
			pb->frag_data = pb->len;
			pb->frag_more = op->b != 0;
			pb->first_frag = op->a == 0;
		}
		break;
	case OP_PROTO:
		link_proto(pb, (uint8_t)op->a);
		pb->l4 = start;
		pb->l4_proto = (uint8_t)op->a;
		break;
	case OP_TCP:
		link_proto(pb, IPPROTO_TCP);
		pb->l4 = start;
		pb->l4_proto = IPPROTO_TCP;
		put16(pb, op->a);
		put16(pb, op->b);
		put32(pb, TCP_SEQ);
		put32(pb, TCP_ACKNO);
		put8(pb, 5 << 4);
		put8(pb, op->c);
		put16(pb, TCP_WIN);
		put32(pb, 0); /* checksum (not checked), urgent pointer */
		add_layer(pb, start, l4_cut(pb, SG_DROP_L4_TRUNCATED),
				l4_cut(pb, SG_DROP_L4_TRUNCATED));
		break;
	case OP_TCPOPT:
		pb->b[pb->l4 + 12] = (uint8_t)(op->a << 4);
		while (pb->len < pb->l4 + op->a * 4)
			put8(pb, 1); /* NOP */
		add_layer(pb, start, l4_cut(pb, SG_DROP_TCP_HEADER_LEN),
				l4_cut(pb, SG_DROP_TCP_HEADER_LEN));
		break;
	case OP_UDP:
		link_proto(pb, IPPROTO_UDP);
		pb->l4 = start;
		pb->l4_proto = IPPROTO_UDP;
		put16(pb, op->a);
		put16(pb, op->b);
		put32(pb, 0); /* length (fixed later), checksum */
		add_layer(pb, start, l4_cut(pb, SG_DROP_L4_TRUNCATED),
				l4_cut(pb, SG_DROP_L4_TRUNCATED));
		break;
	case OP_ICMP:
		pb->l4_proto = pb->ip == 6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		link_proto(pb, pb->l4_proto);
		pb->l4 = start;
		put8(pb, op->a);
		put8(pb, op->b);
		put16(pb, 0);
		put16(pb, op->c);
		put16(pb, 1); /* sequence */
		add_layer(pb, start, l4_cut(pb, SG_DROP_L4_TRUNCATED),
				l4_cut(pb, SG_DROP_L4_TRUNCATED));
		break;
	case OP_ND:
		link_proto(pb, IPPROTO_ICMPV6);
		pb->l4 = start;
		pb->l4_proto = IPPROTO_ICMPV6;
		pb->b[pb->l3 + 7] = 255;
		put8(pb, op->a);
		put8(pb, 0);
		put16(pb, 0);
		put8(pb, op->c);
		put_zero(pb, 3);
		put_ip(pb, AF_INET6, op->s1);
		add_layer(pb, start, SG_DROP_L4_TRUNCATED, SG_DROP_L4_TRUNCATED);
		break;
	case OP_NDOPT:
		put8(pb, op->a);
		put8(pb, op->b);
		if (op->s1 != NULL)
			put_mac(pb, op->s1);
		put_zero(pb, op->b * 8 - (pb->len - start));
		/* Options are optional: cut before one, the message is whole. */
		add_layer(pb, start, SG_DROP_NONE, SG_DROP_ND_MALFORMED);
		break;
	case OP_DATA:
		for (uint32_t i = 0; i < op->a; i++)
			put8(pb, i * 7 + 3);
		/* Cutting UDP's payload leaves its length field too long. */
		if (pb->l4_proto == IPPROTO_UDP && pb->frag_data == 0 && pb->l4 != 0)
			add_layer(pb, start, SG_DROP_L4_TRUNCATED, SG_DROP_L4_TRUNCATED);
		else
			add_layer(pb, start, SG_DROP_NONE, SG_DROP_NONE);
		break;
	case OP_FIX:
		pb_fix(pb);
		break;
	case OP_PAD:
		pb_fix(pb);
		put_zero(pb, op->a);
		break;
	case OP_SET8:
		pb_fix(pb);
		pb->b[anchor(pb, op->a) + op->b] = (uint8_t)op->c;
		break;
	case OP_SET16:
		pb_fix(pb);
		wr16(pb->b + anchor(pb, op->a) + op->b, op->c);
		break;
	case OP_CSUM4:
		pb_fix(pb);
		ipv4_csum(pb);
		break;
	default:
		ck_abort_msg("unknown op %u", op->kind);
	}
}

static void
pb_build(struct pb *pb, const struct op *ops, size_t n_ops)
{
	memset(pb, 0, sizeof(*pb));
	pb->nh = -1;
	for (size_t i = 0; i < n_ops && ops[i].kind != OP_END; i++)
		pb_op(pb, &ops[i]);
	pb_fix(pb);
}

/* ---- mbufs ---- */

static struct rte_mbuf *
mbuf_from(const uint8_t *bytes, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *data;

	ck_assert_ptr_nonnull(m);
	data = rte_pktmbuf_append(m, len);
	ck_assert_ptr_nonnull(data);
	memcpy(data, bytes, len);
	return m;
}

/* Two segments: bytes [0, split) and [split, len). */
static struct rte_mbuf *
mbuf_split(const uint8_t *bytes, uint16_t len, uint16_t split)
{
	struct rte_mbuf *head = mbuf_from(bytes, split);
	struct rte_mbuf *tail = mbuf_from(bytes + split, len - split);

	ck_assert_int_eq(rte_pktmbuf_chain(head, tail), 0);
	return head;
}

/*
 * Parse 'len' bytes from a heap buffer of exactly that size, wrapped in an mbuf header on the
 * stack: under AddressSanitizer any read past the data is caught, which mempool memory
 * cannot show.
 */
static enum sg_drop_reason
parse_exact(const uint8_t *bytes, uint16_t len, struct sg_pkt_meta *meta)
{
	struct rte_mbuf m;
	uint8_t *buf = malloc(len > 0 ? len : 1);
	enum sg_drop_reason reason;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, bytes, len);
	memset(&m, 0, sizeof(m));
	m.buf_addr = buf;
	m.buf_len = len;
	m.data_off = 0;
	m.data_len = len;
	m.pkt_len = len;
	m.nb_segs = 1;
	reason = sg_pkt_parse(&m, meta);
	free(buf);
	return reason;
}

/* Parse through a pool mbuf and through parse_exact(); both must agree exactly. */
static enum sg_drop_reason
parse_bytes(const uint8_t *bytes, uint16_t len, struct sg_pkt_meta *meta)
{
	struct rte_mbuf *m = mbuf_from(bytes, len);
	struct sg_pkt_meta exact;
	enum sg_drop_reason reason = sg_pkt_parse(m, meta);

	ck_assert_uint_eq(reason, meta->reason);
	ck_assert_uint_eq(parse_exact(bytes, len, &exact), reason);
	ck_assert_msg(memcmp(&exact, meta, sizeof(exact)) == 0, "pool and exact parses differ");
	rte_pktmbuf_free(m);
	return reason;
}

static const char *
rname(unsigned int reason)
{
	return sg_drop_reason_name((enum sg_drop_reason)reason);
}

/* ---- The table ---- */

struct pkt_case {
	const char *name;
	struct op ops[20];
	struct sg_pkt_meta m; /* expected; addresses and MACs come from the strings below */
	const char *src, *dst, *nd_target, *arp_sha, *nd_lladdr;
};

#define E_V4 .l3 = SG_L3_IPV4, .ttl = 64, .l3_len = 20
#define E_V6 .l3 = SG_L3_IPV6, .ttl = 64
#define E_ND .l3 = SG_L3_IPV6, .ttl = 255
#define E_TCP(sp, dp, fl, hl)                                                                      \
	.proto = IPPROTO_TCP, .sport = (sp), .dport = (dp), .tcp_flags = (fl),                     \
	.tcp_hdr_len = (hl), .tcp_seq = TCP_SEQ, .tcp_ack = TCP_ACKNO, .tcp_win = TCP_WIN
#define E_UDP(sp, dp) .proto = IPPROTO_UDP, .sport = (sp), .dport = (dp)
#define A4 .src = V4A, .dst = V4B
#define A6 .src = V6A, .dst = V6B
#define SYN SG_TCP_SYN
#define ACK SG_TCP_ACK
#define FIN SG_TCP_FIN
#define RST SG_TCP_RST
#define PSH SG_TCP_PSH
#define URG SG_TCP_URG
#define ECE SG_TCP_ECE
#define CWR SG_TCP_CWR
#define DROP(r, l3_) .m = {.reason = SG_DROP_##r, .l3 = (l3_)}
#define L3_4 SG_L3_IPV4
#define L3_6 SG_L3_IPV6
#define L3_ARP SG_L3_ARP
#define L3_NONE SG_L3_OTHER

static const struct pkt_case cases[] = {
	/* ---- Well-formed IPv4 ---- */
	{.name = "ipv4 tcp syn",
		.ops = {ETH, TYPE4, IPV4AB, TCP(40000, 22, SYN)},
		.m = {E_V4, .l2_len = 14, .l4_len = 20, E_TCP(40000, 22, SYN, 20)}, A4},
	{.name = "ipv4 tcp ack+psh with payload",
		.ops = {ETH, TYPE4, IPV4AB, TCP(40000, 22, ACK | PSH), DATA(100)},
		.m = {E_V4, .l2_len = 14, .l4_len = 120, E_TCP(40000, 22, ACK | PSH, 20)}, A4},
	{.name = "ipv4 tcp syn with 20 bytes of options",
		.ops = {ETH, TYPE4, IPV4AB, TCP(40000, 443, SYN), TCPOPT(10)},
		.m = {E_V4, .l2_len = 14, .l4_len = 40, E_TCP(40000, 443, SYN, 40)}, A4},
	{.name = "ipv4 tcp syn+ack with ece and cwr",
		.ops = {ETH, TYPE4, IPV4AB, TCP(443, 40000, SYN | ACK | ECE | CWR)},
		.m = {E_V4, .l2_len = 14, .l4_len = 20,
			E_TCP(443, 40000, SYN | ACK | ECE | CWR, 20)}, A4},
	{.name = "ipv4 tcp fin+ack",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, FIN | ACK)},
		.m = {E_V4, .l2_len = 14, .l4_len = 20, E_TCP(1, 2, FIN | ACK, 20)}, A4},
	{.name = "ipv4 tcp rst",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, RST)},
		.m = {E_V4, .l2_len = 14, .l4_len = 20, E_TCP(1, 2, RST, 20)}, A4},
	{.name = "ipv4 tcp rst+ack",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, RST | ACK)},
		.m = {E_V4, .l2_len = 14, .l4_len = 20, E_TCP(1, 2, RST | ACK, 20)}, A4},
	{.name = "ipv4 tcp syn+urg",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN | URG)},
		.m = {E_V4, .l2_len = 14, .l4_len = 20, E_TCP(1, 2, SYN | URG, 20)}, A4},
	{.name = "ipv4 tcp fin+ack+urg+psh",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, FIN | ACK | URG | PSH)},
		.m = {E_V4, .l2_len = 14, .l4_len = 20, E_TCP(1, 2, FIN | ACK | URG | PSH, 20)},
		A4},
	{.name = "ipv4 udp dns",
		.ops = {ETH, TYPE4, IPV4AB, UDP(5353, 53), DATA(30)},
		.m = {E_V4, .l2_len = 14, .l4_len = 38, E_UDP(5353, 53)}, A4},
	{.name = "ipv4 udp dhcp discover from 0.0.0.0 to broadcast",
		.ops = {ETH_TO("ff:ff:ff:ff:ff:ff"), TYPE4, IPV4("0.0.0.0", "255.255.255.255"),
			UDP(68, 67), DATA(240)},
		.m = {E_V4, .l2_len = 14, .l4_len = 248, E_UDP(68, 67)},
		.src = "0.0.0.0", .dst = "255.255.255.255"},
	{.name = "ipv4 udp to multicast",
		.ops = {ETH, TYPE4, IPV4(V4A, "224.0.0.251"), UDP(5353, 5353), DATA(12)},
		.m = {E_V4, .l2_len = 14, .l4_len = 20, E_UDP(5353, 5353)},
		.src = V4A, .dst = "224.0.0.251"},
	{.name = "ipv4 icmp echo request",
		.ops = {ETH, TYPE4, IPV4AB, ICMP(8, 0, 0x4242), DATA(56)},
		.m = {E_V4, .l2_len = 14, .l4_len = 64, .proto = IPPROTO_ICMP, .sport = 8,
			.icmp_id = 0x4242}, A4},
	{.name = "ipv4 icmp echo reply",
		.ops = {ETH, TYPE4, IPV4AB, ICMP(0, 0, 0x4242), DATA(56)},
		.m = {E_V4, .l2_len = 14, .l4_len = 64, .proto = IPPROTO_ICMP, .sport = 0,
			.icmp_id = 0x4242}, A4},
	{.name = "ipv4 icmp timestamp request",
		.ops = {ETH, TYPE4, IPV4AB, ICMP(13, 0, 7), DATA(12)},
		.m = {E_V4, .l2_len = 14, .l4_len = 20, .proto = IPPROTO_ICMP, .sport = 13,
			.icmp_id = 7}, A4},
	{.name = "ipv4 icmp address mask reply",
		.ops = {ETH, TYPE4, IPV4AB, ICMP(18, 0, 9), DATA(4)},
		.m = {E_V4, .l2_len = 14, .l4_len = 12, .proto = IPPROTO_ICMP, .sport = 18,
			.icmp_id = 9}, A4},
	{.name = "ipv4 icmp port unreachable has no identifier",
		.ops = {ETH, TYPE4, IPV4AB, ICMP(3, 3, 0x1234), DATA(28)},
		.m = {E_V4, .l2_len = 14, .l4_len = 36, .proto = IPPROTO_ICMP, .sport = 3,
			.dport = 3}, A4},
	{.name = "ipv4 gre is opaque",
		.ops = {ETH, TYPE4, IPV4AB, PROTO(47), DATA(24)},
		.m = {E_V4, .l2_len = 14, .l4_len = 24, .proto = 47}, A4},
	{.name = "ipv4 carrying icmpv6 is opaque",
		.ops = {ETH, TYPE4, IPV4AB, PROTO(58), DATA(8)},
		.m = {E_V4, .l2_len = 14, .l4_len = 8, .proto = 58}, A4},
	{.name = "ipv4 tcp in 802.1q",
		.ops = {ETH, VLAN(0x8100, 0x0064), TYPE4, IPV4AB, TCP(40000, 22, SYN)},
		.m = {E_V4, .l2_len = 18, .n_vlans = 1, .vlan_tci = 0x0064, .l4_len = 20,
			E_TCP(40000, 22, SYN, 20)}, A4},
	{.name = "ipv4 udp in 802.1ad qinq",
		.ops = {ETH, VLAN(0x88a8, 0x2005), VLAN(0x8100, 0x0064), TYPE4, IPV4AB,
			UDP(1000, 2000)},
		.m = {E_V4, .l2_len = 22, .n_vlans = 2, .vlan_tci = 0x2005, .l4_len = 8,
			E_UDP(1000, 2000)}, A4},
	{.name = "ipv4 tcp in two 802.1q tags",
		.ops = {ETH, VLAN(0x8100, 10), VLAN(0x8100, 20), TYPE4, IPV4AB, TCP(1, 2, ACK)},
		.m = {E_V4, .l2_len = 22, .n_vlans = 2, .vlan_tci = 10, .l4_len = 20,
			E_TCP(1, 2, ACK, 20)}, A4},
	{.name = "ipv4 tcp with ethernet padding",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, ACK), PAD(6)},
		.m = {E_V4, .l2_len = 14, .l4_len = 20, E_TCP(1, 2, ACK, 20)}, A4},
	{.name = "ipv4 with don't fragment is not a fragment",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, ACK), SET16(AT_L3, 6, 0x4000), CSUM4},
		.m = {E_V4, .l2_len = 14, .l4_len = 20, E_TCP(1, 2, ACK, 20)}, A4},
	{.name = "ipv4 tcp first fragment",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(0, 1), TCP(40000, 80, ACK), DATA(76)},
		.m = {E_V4, .l2_len = 14, .l4_len = 96, E_TCP(40000, 80, ACK, 20),
			.frag = SG_FRAG_FIRST, .frag_id = IP4_ID, .frag_more = true, .frag_len = 96}, A4},
	{.name = "ipv4 udp first fragment",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(0, 1), UDP(5000, 53), DATA(200)},
		.m = {E_V4, .l2_len = 14, .l4_len = 208, E_UDP(5000, 53), .frag = SG_FRAG_FIRST,
			.frag_id = IP4_ID, .frag_more = true, .frag_len = 208}, A4},
	{.name = "ipv4 udp last fragment",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(1480, 0), PROTO(IPPROTO_UDP), DATA(100)},
		.m = {E_V4, .l2_len = 14, .l4_len = 100, .proto = IPPROTO_UDP,
			.frag = SG_FRAG_LATER, .frag_id = IP4_ID, .frag_offset = 1480, .frag_len = 100}, A4},
	{.name = "ipv4 tcp middle fragment at 24",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(24, 1), PROTO(IPPROTO_TCP), DATA(16)},
		.m = {E_V4, .l2_len = 14, .l4_len = 16, .proto = IPPROTO_TCP,
			.frag = SG_FRAG_LATER, .frag_id = IP4_ID, .frag_offset = 24,
			.frag_more = true, .frag_len = 16}, A4},
	{.name = "ipv4 icmp fragment at 8",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(8, 0), PROTO(IPPROTO_ICMP), DATA(20)},
		.m = {E_V4, .l2_len = 14, .l4_len = 20, .proto = IPPROTO_ICMP,
			.frag = SG_FRAG_LATER, .frag_id = IP4_ID, .frag_offset = 8, .frag_len = 20}, A4},

	/* ---- Well-formed IPv6 ---- */
	{.name = "ipv6 tcp syn",
		.ops = {ETH, TYPE6, IPV6AB, TCP(40000, 22, SYN)},
		.m = {E_V6, .l2_len = 14, .l3_len = 40, .l4_len = 20, E_TCP(40000, 22, SYN, 20)},
		A6},
	{.name = "ipv6 udp",
		.ops = {ETH, TYPE6, IPV6AB, UDP(1000, 53), DATA(10)},
		.m = {E_V6, .l2_len = 14, .l3_len = 40, .l4_len = 18, E_UDP(1000, 53)}, A6},
	{.name = "ipv6 icmpv6 echo request",
		.ops = {ETH, TYPE6, IPV6AB, ICMP(128, 0, 0x77), DATA(56)},
		.m = {E_V6, .l2_len = 14, .l3_len = 40, .l4_len = 64, .proto = IPPROTO_ICMPV6,
			.sport = 128, .icmp_id = 0x77}, A6},
	{.name = "ipv6 icmpv6 echo reply",
		.ops = {ETH, TYPE6, IPV6AB, ICMP(129, 0, 0x77)},
		.m = {E_V6, .l2_len = 14, .l3_len = 40, .l4_len = 8, .proto = IPPROTO_ICMPV6,
			.sport = 129, .icmp_id = 0x77}, A6},
	{.name = "ipv6 icmpv6 packet too big has no identifier",
		.ops = {ETH, TYPE6, IPV6AB, ICMP(2, 0, 0x1234), DATA(48)},
		.m = {E_V6, .l2_len = 14, .l3_len = 40, .l4_len = 56, .proto = IPPROTO_ICMPV6,
			.sport = 2}, A6},
	{.name = "ipv6 router solicitation",
		.ops = {ETH, TYPE6, IPV6("fe80::1", "ff02::2"), ICMP(133, 0, 0)},
		.m = {E_V6, .l2_len = 14, .l3_len = 40, .l4_len = 8, .proto = IPPROTO_ICMPV6,
			.sport = 133},
		.src = "fe80::1", .dst = "ff02::2"},
	{.name = "ipv6 carrying icmp is opaque",
		.ops = {ETH, TYPE6, IPV6AB, PROTO(IPPROTO_ICMP), DATA(3)},
		.m = {E_V6, .l2_len = 14, .l3_len = 40, .l4_len = 3, .proto = IPPROTO_ICMP}, A6},
	{.name = "ipv6 link-local udp to all-nodes",
		.ops = {ETH_TO("33:33:00:00:00:01"), TYPE6, IPV6("fe80::1", "ff02::1"),
			UDP(5353, 5353)},
		.m = {E_V6, .l2_len = 14, .l3_len = 40, .l4_len = 8, E_UDP(5353, 5353)},
		.src = "fe80::1", .dst = "ff02::1"},
	{.name = "ipv6 hop-by-hop then udp",
		.ops = {ETH, TYPE6, IPV6AB, HOP(0), UDP(1, 2)},
		.m = {E_V6, .l2_len = 14, .l3_len = 48, .l4_len = 8, E_UDP(1, 2)}, A6},
	{.name = "ipv6 routing type 2 then tcp",
		.ops = {ETH, TYPE6, IPV6AB, RT(2, 2), TCP(1, 2, SYN)},
		.m = {E_V6, .l2_len = 14, .l3_len = 64, .l4_len = 20, E_TCP(1, 2, SYN, 20)}, A6},
	{.name = "ipv6 segment routing header then tcp",
		.ops = {ETH, TYPE6, IPV6AB, RT(4, 4), TCP(1, 2, SYN)},
		.m = {E_V6, .l2_len = 14, .l3_len = 80, .l4_len = 20, E_TCP(1, 2, SYN, 20)}, A6},
	{.name = "ipv6 destination options then tcp",
		.ops = {ETH, TYPE6, IPV6AB, DST(1), TCP(1, 2, SYN), DATA(5)},
		.m = {E_V6, .l2_len = 14, .l3_len = 56, .l4_len = 25, E_TCP(1, 2, SYN, 20)}, A6},
	{.name = "ipv6 ah then tcp",
		.ops = {ETH, TYPE6, IPV6AB, AH(4), TCP(1, 2, ACK)},
		.m = {E_V6, .l2_len = 14, .l3_len = 64, .l4_len = 20, E_TCP(1, 2, ACK, 20)}, A6},
	{.name = "ipv6 esp ends the chain",
		.ops = {ETH, TYPE6, IPV6AB, PROTO(IPPROTO_ESP), DATA(40)},
		.m = {E_V6, .l2_len = 14, .l3_len = 40, .l4_len = 40, .proto = IPPROTO_ESP}, A6},
	{.name = "ipv6 hop-by-hop then no next header",
		.ops = {ETH, TYPE6, IPV6AB, HOP(0), PROTO(IPPROTO_NONE)},
		.m = {E_V6, .l2_len = 14, .l3_len = 48, .proto = IPPROTO_NONE}, A6},
	{.name = "ipv6 udp first fragment",
		.ops = {ETH, TYPE6, IPV6AB, FRAG6(0, 1), UDP(5000, 53), DATA(56)},
		.m = {E_V6, .l2_len = 14, .l3_len = 48, .l4_len = 64, E_UDP(5000, 53),
			.frag = SG_FRAG_FIRST, .frag_id = IP6_FRAG_ID, .frag_more = true, .frag_len = 64}, A6},
	{.name = "ipv6 udp last fragment",
		.ops = {ETH, TYPE6, IPV6AB, FRAG6(1232, 0), PROTO(IPPROTO_UDP), DATA(100)},
		.m = {E_V6, .l2_len = 14, .l3_len = 48, .l4_len = 100, .proto = IPPROTO_UDP,
			.frag = SG_FRAG_LATER, .frag_id = IP6_FRAG_ID, .frag_offset = 1232, .frag_len = 100}, A6},
	{.name = "ipv6 later fragment after destination options",
		.ops = {ETH, TYPE6, IPV6AB, DST(0), FRAG6(64, 1), PROTO(IPPROTO_TCP), DATA(16)},
		.m = {E_V6, .l2_len = 14, .l3_len = 56, .l4_len = 16, .proto = IPPROTO_TCP,
			.frag = SG_FRAG_LATER, .frag_id = IP6_FRAG_ID, .frag_offset = 64,
			.frag_more = true, .frag_len = 16}, A6},
	{.name = "ipv6 atomic fragment is whole",
		.ops = {ETH, TYPE6, IPV6AB, FRAG6(0, 0), TCP(1, 2, SYN)},
		.m = {E_V6, .l2_len = 14, .l3_len = 48, .l4_len = 20, E_TCP(1, 2, SYN, 20)}, A6},
	{.name = "ipv6 chain of six headers in a first fragment",
		.ops = {ETH, TYPE6, IPV6AB, HOP(0), DST(0), RT(2, 4), AH(4), FRAG6(0, 1), DST(0),
			TCP(1, 2, SYN), DATA(4)},
		.m = {E_V6, .l2_len = 14, .l3_len = 120, .l4_len = 24, E_TCP(1, 2, SYN, 20),
			.frag = SG_FRAG_FIRST, .frag_id = IP6_FRAG_ID, .frag_more = true,
			.frag_len = 32}, A6},
	{.name = "ipv6 eight extension headers",
		.ops = {ETH, TYPE6, IPV6AB, HOP(0), DST(0), DST(0), DST(0), DST(0), DST(0), DST(0),
			DST(0), UDP(1, 2)},
		.m = {E_V6, .l2_len = 14, .l3_len = 104, .l4_len = 8, E_UDP(1, 2)}, A6},
	{.name = "ipv6 icmpv6 in 802.1q",
		.ops = {ETH, VLAN(0x8100, 0x0fff), TYPE6, IPV6AB, ICMP(128, 0, 1)},
		.m = {E_V6, .l2_len = 18, .n_vlans = 1, .vlan_tci = 0x0fff, .l3_len = 40,
			.l4_len = 8, .proto = IPPROTO_ICMPV6, .sport = 128, .icmp_id = 1}, A6},
	{.name = "ipv6 neighbour solicitation",
		.ops = {ETH_TO("33:33:ff:00:00:fe"), TYPE6, IPV6("fe80::1", "ff02::1:ff00:fe"),
			NS("fe80::fe"), LLA(1, SRC_MAC)},
		.m = {E_ND, .l2_len = 14, .l3_len = 40, .l4_len = 32,
			.proto = IPPROTO_ICMPV6, .sport = SG_ND_SOLICIT},
		.src = "fe80::1", .dst = "ff02::1:ff00:fe", .nd_target = "fe80::fe",
		.nd_lladdr = SRC_MAC},
	{.name = "ipv6 duplicate address detection",
		.ops = {ETH_TO("33:33:ff:00:00:fe"), TYPE6, IPV6("::", "ff02::1:ff00:fe"),
			NS("fe80::fe")},
		.m = {E_ND, .l2_len = 14, .l3_len = 40, .l4_len = 24,
			.proto = IPPROTO_ICMPV6, .sport = SG_ND_SOLICIT},
		.src = "::", .dst = "ff02::1:ff00:fe", .nd_target = "fe80::fe"},
	{.name = "ipv6 solicitation with nonce before the address option",
		.ops = {ETH, TYPE6, IPV6("fe80::1", "fe80::fe"), NS("fe80::fe"), NDOPT(14, 1),
			LLA(1, SRC_MAC)},
		.m = {E_ND, .l2_len = 14, .l3_len = 40, .l4_len = 40,
			.proto = IPPROTO_ICMPV6, .sport = SG_ND_SOLICIT},
		.src = "fe80::1", .dst = "fe80::fe", .nd_target = "fe80::fe",
		.nd_lladdr = SRC_MAC},
	{.name = "ipv6 neighbour advertisement",
		.ops = {ETH, TYPE6, IPV6("fe80::fe", "fe80::1"), NA("fe80::fe", 0x60),
			LLA(2, OUR_MAC)},
		.m = {E_ND, .l2_len = 14, .l3_len = 40, .l4_len = 32,
			.proto = IPPROTO_ICMPV6, .sport = SG_ND_ADVERT},
		.src = "fe80::fe", .dst = "fe80::1", .nd_target = "fe80::fe",
		.nd_lladdr = OUR_MAC},
	{.name = "ipv6 advertisement ignores a source address option",
		.ops = {ETH, TYPE6, IPV6("fe80::fe", "fe80::1"), NA("fe80::fe", 0x60),
			LLA(1, OUR_MAC)},
		.m = {E_ND, .l2_len = 14, .l3_len = 40, .l4_len = 32,
			.proto = IPPROTO_ICMPV6, .sport = SG_ND_ADVERT},
		.src = "fe80::fe", .dst = "fe80::1", .nd_target = "fe80::fe"},

	/* ---- Well-formed ARP ---- */
	{.name = "arp request",
		.ops = {ETH_TO("ff:ff:ff:ff:ff:ff"), TYPE_ARP, ARP(1, "10.0.0.5", "10.0.0.1")},
		.m = {.l3 = SG_L3_ARP, .l2_len = 14, .l3_len = 28, .sport = SG_ARP_REQUEST},
		.src = "10.0.0.5", .dst = "10.0.0.1", .arp_sha = SRC_MAC},
	{.name = "arp reply",
		.ops = {ETH, TYPE_ARP, ARP(2, "10.0.0.5", "10.0.0.1")},
		.m = {.l3 = SG_L3_ARP, .l2_len = 14, .l3_len = 28, .sport = SG_ARP_REPLY},
		.src = "10.0.0.5", .dst = "10.0.0.1", .arp_sha = SRC_MAC},
	{.name = "arp request in 802.1q with padding",
		.ops = {ETH_TO("ff:ff:ff:ff:ff:ff"), VLAN(0x8100, 7), TYPE_ARP,
			ARP(1, "10.0.0.5", "10.0.0.1"), PAD(14)},
		.m = {.l3 = SG_L3_ARP, .l2_len = 18, .n_vlans = 1, .vlan_tci = 7, .l3_len = 28,
			.sport = SG_ARP_REQUEST},
		.src = "10.0.0.5", .dst = "10.0.0.1", .arp_sha = SRC_MAC},
	{.name = "gratuitous arp",
		.ops = {ETH_TO("ff:ff:ff:ff:ff:ff"), TYPE_ARP, ARP(1, "10.0.0.5", "10.0.0.5")},
		.m = {.l3 = SG_L3_ARP, .l2_len = 14, .l3_len = 28, .sport = SG_ARP_REQUEST},
		.src = "10.0.0.5", .dst = "10.0.0.5", .arp_sha = SRC_MAC},

	/* ---- Ethernet and VLAN ---- */
	{.name = "empty frame", .ops = {{OP_END}}, DROP(L2_TRUNCATED, L3_NONE)},
	{.name = "13-byte frame", .ops = {ETH, DATA(1)}, DROP(L2_TRUNCATED, L3_NONE)},
	{.name = "vlan tag cut", .ops = {ETH, TYPE(0x8100), DATA(2)},
		DROP(L2_TRUNCATED, L3_NONE)},
	{.name = "three vlan tags",
		.ops = {ETH, VLAN(0x88a8, 1), VLAN(0x8100, 2), VLAN(0x8100, 3), TYPE4, IPV4AB,
			TCP(1, 2, SYN)},
		DROP(VLAN_NESTED, L3_NONE)},
	{.name = "lldp", .ops = {ETH, TYPE(0x88cc), DATA(40)}, DROP(ETHERTYPE, L3_NONE)},
	{.name = "802.3 length instead of ethertype", .ops = {ETH, TYPE(46), DATA(46)},
		DROP(ETHERTYPE, L3_NONE)},
	{.name = "legacy qinq tpid 0x9100", .ops = {ETH, TYPE(0x9100), DATA(30)},
		DROP(ETHERTYPE, L3_NONE)},
	{.name = "unknown ethertype inside a tag",
		.ops = {ETH, VLAN(0x8100, 5), TYPE(0x88b5), DATA(30)}, DROP(ETHERTYPE, L3_NONE)},

	/* ---- ARP ---- */
	{.name = "arp truncated", .ops = {ETH, TYPE_ARP, DATA(27)}, DROP(ARP_MALFORMED, L3_ARP)},
	{.name = "arp over another hardware type",
		.ops = {ETH, TYPE_ARP, ARP(1, V4A, V4B), SET16(AT_L3, 0, 6)},
		DROP(ARP_MALFORMED, L3_ARP)},
	{.name = "arp for another protocol",
		.ops = {ETH, TYPE_ARP, ARP(1, V4A, V4B), SET16(AT_L3, 2, 0x86dd)},
		DROP(ARP_MALFORMED, L3_ARP)},
	{.name = "arp hardware length 8",
		.ops = {ETH, TYPE_ARP, ARP(1, V4A, V4B), SET8(AT_L3, 4, 8)},
		DROP(ARP_MALFORMED, L3_ARP)},
	{.name = "arp protocol length 16",
		.ops = {ETH, TYPE_ARP, ARP(1, V4A, V4B), SET8(AT_L3, 5, 16)},
		DROP(ARP_MALFORMED, L3_ARP)},
	{.name = "arp operation 0",
		.ops = {ETH, TYPE_ARP, ARP(0, V4A, V4B)}, DROP(ARP_MALFORMED, L3_ARP)},
	{.name = "rarp operation 3",
		.ops = {ETH, TYPE_ARP, ARP(3, V4A, V4B)}, DROP(ARP_MALFORMED, L3_ARP)},
	{.name = "inverse arp operation 8",
		.ops = {ETH, TYPE_ARP, ARP(8, V4A, V4B)}, DROP(ARP_MALFORMED, L3_ARP)},

	/* ---- IP headers ---- */
	{.name = "ipv4 header cut", .ops = {ETH, TYPE4, DATA(19)}, DROP(IP_TRUNCATED, L3_4)},
	{.name = "ipv6 header cut", .ops = {ETH, TYPE6, DATA(39)}, DROP(IP_TRUNCATED, L3_6)},
	{.name = "ipv4 ethertype, version 6 header",
		.ops = {ETH, TYPE4, IPV6AB, UDP(1, 2)}, DROP(IP_VERSION, L3_4)},
	{.name = "ipv4 ethertype, version 5",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), SET8(AT_L3, 0, 0x55)},
		DROP(IP_VERSION, L3_4)},
	{.name = "ipv6 ethertype, ipv4 packet",
		.ops = {ETH, TYPE6, IPV4AB, TCP(1, 2, SYN), DATA(20)}, DROP(IP_VERSION, L3_6)},
	{.name = "ipv4 ihl 4",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), SET8(AT_L3, 0, 0x44)},
		DROP(IP_HEADER_LEN, L3_4)},
	{.name = "ipv4 ihl 0",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), SET8(AT_L3, 0, 0x40)},
		DROP(IP_HEADER_LEN, L3_4)},
	{.name = "ipv4 with router alert option",
		.ops = {ETH, TYPE4, IPV4AB, DATA(4), TCP(1, 2, SYN), SET8(AT_L3, 0, 0x46),
			SET16(AT_L3, 20, 0x9404), CSUM4},
		DROP(IP_OPTIONS, L3_4)},
	{.name = "ipv4 ihl 15",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), DATA(40), SET8(AT_L3, 0, 0x4f)},
		DROP(IP_OPTIONS, L3_4)},
	{.name = "ipv4 total length beyond the frame",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), SET16(AT_L3, 2, 41), CSUM4},
		DROP(IP_TOTAL_LEN, L3_4)},
	{.name = "ipv4 total length below the header",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), SET16(AT_L3, 2, 19), CSUM4},
		DROP(IP_TOTAL_LEN, L3_4)},
	{.name = "ipv4 total length 0",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), SET16(AT_L3, 2, 0), CSUM4},
		DROP(IP_TOTAL_LEN, L3_4)},
	{.name = "ipv6 payload length beyond the frame",
		.ops = {ETH, TYPE6, IPV6AB, TCP(1, 2, SYN), SET16(AT_L3, 4, 21)},
		DROP(IP_TOTAL_LEN, L3_6)},
	{.name = "ipv4 bad checksum",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), SET8(AT_L3, 8, 63)},
		DROP(IP_CHECKSUM, L3_4)},
	{.name = "ipv4 checksum 0",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), SET16(AT_L3, 10, 0)},
		DROP(IP_CHECKSUM, L3_4)},

	/* ---- Addresses ---- */
	{.name = "ipv4 multicast source",
		.ops = {ETH, TYPE4, IPV4("224.0.0.5", V4B), UDP(1, 2)}, DROP(IP_ADDRESS, L3_4)},
	{.name = "ipv4 broadcast source",
		.ops = {ETH, TYPE4, IPV4("255.255.255.255", V4B), UDP(1, 2)},
		DROP(IP_ADDRESS, L3_4)},
	{.name = "ipv4 loopback source",
		.ops = {ETH, TYPE4, IPV4("127.0.0.1", V4B), UDP(1, 2)}, DROP(IP_ADDRESS, L3_4)},
	{.name = "ipv4 loopback destination",
		.ops = {ETH, TYPE4, IPV4(V4A, "127.1.2.3"), UDP(1, 2)}, DROP(IP_ADDRESS, L3_4)},
	{.name = "ipv4 destination 0.0.0.0",
		.ops = {ETH, TYPE4, IPV4(V4A, "0.0.0.0"), UDP(1, 2)}, DROP(IP_ADDRESS, L3_4)},
	{.name = "ipv4 destination in 0/8",
		.ops = {ETH, TYPE4, IPV4(V4A, "0.1.2.3"), UDP(1, 2)}, DROP(IP_ADDRESS, L3_4)},
	{.name = "ipv6 multicast source",
		.ops = {ETH, TYPE6, IPV6("ff02::1", V6B), UDP(1, 2)}, DROP(IP_ADDRESS, L3_6)},
	{.name = "ipv6 loopback source",
		.ops = {ETH, TYPE6, IPV6("::1", V6B), UDP(1, 2)}, DROP(IP_ADDRESS, L3_6)},
	{.name = "ipv6 ipv4-mapped source",
		.ops = {ETH, TYPE6, IPV6("::ffff:10.0.0.1", V6B), UDP(1, 2)},
		DROP(IP_ADDRESS, L3_6)},
	{.name = "ipv6 loopback destination",
		.ops = {ETH, TYPE6, IPV6(V6A, "::1"), UDP(1, 2)}, DROP(IP_ADDRESS, L3_6)},
	{.name = "ipv6 unspecified destination",
		.ops = {ETH, TYPE6, IPV6(V6A, "::"), UDP(1, 2)}, DROP(IP_ADDRESS, L3_6)},
	{.name = "ipv6 interface-local multicast destination",
		.ops = {ETH, TYPE6, IPV6(V6A, "ff01::1"), UDP(1, 2)}, DROP(IP_ADDRESS, L3_6)},
	{.name = "ipv6 reserved-scope multicast destination",
		.ops = {ETH, TYPE6, IPV6(V6A, "ff10::1"), UDP(1, 2)}, DROP(IP_ADDRESS, L3_6)},

	/* ---- IPv6 extension headers ---- */
	{.name = "ipv6 hop-by-hop after destination options",
		.ops = {ETH, TYPE6, IPV6AB, DST(0), HOP(0), TCP(1, 2, SYN)},
		DROP(IPV6_EXT_HEADERS, L3_6)},
	{.name = "ipv6 routing header type 0",
		.ops = {ETH, TYPE6, IPV6AB, RT(2, 0), TCP(1, 2, SYN)},
		DROP(IPV6_EXT_HEADERS, L3_6)},
	{.name = "ipv6 nine extension headers",
		.ops = {ETH, TYPE6, IPV6AB, HOP(0), DST(0), DST(0), DST(0), DST(0), DST(0), DST(0),
			DST(0), DST(0), UDP(1, 2)},
		DROP(IPV6_EXT_HEADERS, L3_6)},
	{.name = "ipv6 extension header longer than the payload",
		.ops = {ETH, TYPE6, IPV6AB, DST(0), UDP(1, 2), SET8(AT_EXT, 1, 2)},
		DROP(IPV6_EXT_HEADERS, L3_6)},
	{.name = "ipv6 ah longer than the payload",
		.ops = {ETH, TYPE6, IPV6AB, AH(1), SET8(AT_EXT, 1, 4)},
		DROP(IPV6_EXT_HEADERS, L3_6)},
	{.name = "ipv6 two fragment headers",
		.ops = {ETH, TYPE6, IPV6AB, FRAG6(0, 0), FRAG6(0, 0), UDP(1, 2)},
		DROP(IPV6_EXT_HEADERS, L3_6)},
	{.name = "ipv6 fragment header cut",
		.ops = {ETH, TYPE6, IPV6AB, PROTO(IPPROTO_FRAGMENT), DATA(6)},
		DROP(IPV6_EXT_HEADERS, L3_6)},

	/* ---- Transport headers ---- */
	{.name = "ipv4 tcp header cut",
		.ops = {ETH, TYPE4, IPV4AB, PROTO(IPPROTO_TCP), DATA(19)},
		DROP(L4_TRUNCATED, L3_4)},
	{.name = "ipv4 udp header cut",
		.ops = {ETH, TYPE4, IPV4AB, PROTO(IPPROTO_UDP), DATA(7)},
		DROP(L4_TRUNCATED, L3_4)},
	{.name = "ipv4 icmp header cut",
		.ops = {ETH, TYPE4, IPV4AB, PROTO(IPPROTO_ICMP), DATA(4)},
		DROP(L4_TRUNCATED, L3_4)},
	{.name = "ipv6 icmpv6 header cut",
		.ops = {ETH, TYPE6, IPV6AB, PROTO(IPPROTO_ICMPV6), DATA(7)},
		DROP(L4_TRUNCATED, L3_6)},
	{.name = "ipv6 tcp header cut after extension header",
		.ops = {ETH, TYPE6, IPV6AB, DST(0), PROTO(IPPROTO_TCP), DATA(12)},
		DROP(L4_TRUNCATED, L3_6)},
	{.name = "udp length below its header",
		.ops = {ETH, TYPE4, IPV4AB, UDP(1, 2), DATA(4), SET16(AT_L4, 4, 7)},
		DROP(L4_TRUNCATED, L3_4)},
	{.name = "udp length beyond the ip payload",
		.ops = {ETH, TYPE4, IPV4AB, UDP(1, 2), DATA(10), SET16(AT_L4, 4, 19)},
		DROP(L4_TRUNCATED, L3_4)},
	{.name = "ipv6 udp length 0 (jumbogram)",
		.ops = {ETH, TYPE6, IPV6AB, UDP(1, 2), DATA(10), SET16(AT_L4, 4, 0)},
		DROP(L4_TRUNCATED, L3_6)},
	{.name = "neighbour solicitation of 20 bytes",
		.ops = {ETH, TYPE6, IPV6("fe80::1", "ff02::1:ff00:fe"), ICMP(135, 0, 0), DATA(12),
			SET8(AT_L3, 7, 255)},
		DROP(L4_TRUNCATED, L3_6)},
	{.name = "tcp data offset 4",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), SET8(AT_L4, 12, 0x40)},
		DROP(TCP_HEADER_LEN, L3_4)},
	{.name = "tcp data offset 0",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), DATA(20), SET8(AT_L4, 12, 0x00)},
		DROP(TCP_HEADER_LEN, L3_4)},
	{.name = "tcp data offset beyond the packet",
		.ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), DATA(36), SET8(AT_L4, 12, 0xf0)},
		DROP(TCP_HEADER_LEN, L3_4)},
	{.name = "ipv6 tcp data offset beyond the packet",
		.ops = {ETH, TYPE6, IPV6AB, TCP(1, 2, SYN), SET8(AT_L4, 12, 0x60)},
		DROP(TCP_HEADER_LEN, L3_6)},

	/* ---- TCP flags (netfilter's table) ---- */
	{.name = "tcp no flags", .ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, 0)},
		DROP(TCP_FLAGS, L3_4)},
	{.name = "tcp syn+fin", .ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN | FIN)},
		DROP(TCP_FLAGS, L3_4)},
	{.name = "tcp syn+rst", .ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN | RST)},
		DROP(TCP_FLAGS, L3_4)},
	{.name = "tcp fin without ack", .ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, FIN)},
		DROP(TCP_FLAGS, L3_4)},
	{.name = "tcp rst+fin", .ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, RST | FIN | ACK)},
		DROP(TCP_FLAGS, L3_4)},
	{.name = "tcp xmas (fin+psh+urg)", .ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, FIN | PSH | URG)},
		DROP(TCP_FLAGS, L3_4)},
	{.name = "tcp urg alone", .ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, URG)},
		DROP(TCP_FLAGS, L3_4)},
	{.name = "tcp psh alone", .ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, PSH)},
		DROP(TCP_FLAGS, L3_4)},
	{.name = "tcp ece+cwr alone", .ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, ECE | CWR)},
		DROP(TCP_FLAGS, L3_4)},
	{.name = "tcp syn+ack+urg", .ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN | ACK | URG)},
		DROP(TCP_FLAGS, L3_4)},
	{.name = "tcp rst+ack+urg", .ops = {ETH, TYPE4, IPV4AB, TCP(1, 2, RST | ACK | URG)},
		DROP(TCP_FLAGS, L3_4)},
	{.name = "ipv6 tcp all flags", .ops = {ETH, TYPE6, IPV6AB, TCP(1, 2, 0xff)},
		DROP(TCP_FLAGS, L3_6)},

	/* ---- Fragments ---- */
	{.name = "ipv4 tcp first fragment of 8 bytes",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(0, 1), PROTO(IPPROTO_TCP), DATA(8)},
		DROP(FRAG_TINY, L3_4)},
	{.name = "ipv4 tcp first fragment of 16 bytes (flags in the next one)",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(0, 1), PROTO(IPPROTO_TCP), DATA(16)},
		DROP(FRAG_TINY, L3_4)},
	{.name = "ipv4 tcp first fragment cutting the options",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(0, 1), TCP(1, 2, SYN), DATA(4),
			SET8(AT_L4, 12, 0xa0)},
		DROP(FRAG_TINY, L3_4)},
	{.name = "ipv4 udp first fragment without its header",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(0, 1), PROTO(IPPROTO_UDP)},
		DROP(FRAG_TINY, L3_4)},
	{.name = "ipv6 tcp first fragment of 16 bytes",
		.ops = {ETH, TYPE6, IPV6AB, FRAG6(0, 1), PROTO(IPPROTO_TCP), DATA(16)},
		DROP(FRAG_TINY, L3_6)},
	{.name = "ipv6 first fragment cutting the header chain",
		.ops = {ETH, TYPE6, IPV6AB, FRAG6(0, 1), DST(0), SET8(AT_EXT, 1, 3)},
		DROP(FRAG_TINY, L3_6)},
	{.name = "ipv4 tcp fragment at offset 8 (RFC 1858)",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(8, 1), PROTO(IPPROTO_TCP), DATA(16)},
		DROP(FRAG_OVERLAP, L3_4)},
	{.name = "ipv4 tcp fragment at offset 16",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(16, 0), PROTO(IPPROTO_TCP), DATA(10)},
		DROP(FRAG_OVERLAP, L3_4)},
	{.name = "ipv4 non-final fragment of 12 bytes",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(0, 1), UDP(1, 2), DATA(4)},
		DROP(FRAG_OVERLAP, L3_4)},
	{.name = "ipv4 fragment past 65535 bytes",
		.ops = {ETH, TYPE4, IPV4AB, FRAG4(65528, 0), PROTO(IPPROTO_UDP), DATA(16)},
		DROP(FRAG_OVERLAP, L3_4)},
	{.name = "ipv6 tcp fragment at offset 8",
		.ops = {ETH, TYPE6, IPV6AB, FRAG6(8, 0), PROTO(IPPROTO_TCP), DATA(10)},
		DROP(FRAG_OVERLAP, L3_6)},
	{.name = "ipv6 non-final fragment of 10 bytes",
		.ops = {ETH, TYPE6, IPV6AB, FRAG6(1000, 1), PROTO(IPPROTO_UDP), DATA(10)},
		DROP(FRAG_OVERLAP, L3_6)},
	{.name = "ipv6 fragment past 65535 bytes",
		.ops = {ETH, TYPE6, IPV6AB, FRAG6(65528, 0), PROTO(IPPROTO_UDP), DATA(16)},
		DROP(FRAG_OVERLAP, L3_6)},

	/* ---- Neighbour discovery ---- */
	{.name = "solicitation with hop limit 64",
		.ops = {ETH, TYPE6, IPV6("fe80::1", "ff02::1:ff00:fe"), NS("fe80::fe"),
			LLA(1, SRC_MAC), SET8(AT_L3, 7, 64)},
		DROP(ND_MALFORMED, L3_6)},
	{.name = "advertisement with hop limit 254",
		.ops = {ETH, TYPE6, IPV6("fe80::fe", "fe80::1"), NA("fe80::fe", 0x60),
			LLA(2, OUR_MAC), SET8(AT_L3, 7, 254)},
		DROP(ND_MALFORMED, L3_6)},
	{.name = "solicitation with code 1",
		.ops = {ETH, TYPE6, IPV6("fe80::1", "ff02::1:ff00:fe"), NS("fe80::fe"),
			SET8(AT_L4, 1, 1)},
		DROP(ND_MALFORMED, L3_6)},
	{.name = "solicitation for a multicast target",
		.ops = {ETH, TYPE6, IPV6("fe80::1", "ff02::1:ff00:fe"), NS("ff02::1")},
		DROP(ND_MALFORMED, L3_6)},
	{.name = "solicitation option of length 0",
		.ops = {ETH, TYPE6, IPV6("fe80::1", "ff02::1:ff00:fe"), NS("fe80::fe"),
			LLA(1, SRC_MAC), SET8(AT_L4, 25, 0)},
		DROP(ND_MALFORMED, L3_6)},
	{.name = "solicitation option past the message",
		.ops = {ETH, TYPE6, IPV6("fe80::1", "ff02::1:ff00:fe"), NS("fe80::fe"),
			LLA(1, SRC_MAC), SET8(AT_L4, 25, 2)},
		DROP(ND_MALFORMED, L3_6)},
	{.name = "solicitation with one stray option byte",
		.ops = {ETH, TYPE6, IPV6("fe80::1", "ff02::1:ff00:fe"), NS("fe80::fe"), DATA(1)},
		DROP(ND_MALFORMED, L3_6)},
	{.name = "solicitation in a first fragment (RFC 6980)",
		.ops = {ETH, TYPE6, IPV6("fe80::1", "ff02::1:ff00:fe"), FRAG6(0, 1),
			NS("fe80::fe"), LLA(1, SRC_MAC)},
		DROP(ND_MALFORMED, L3_6)},
	{.name = "solicitation in an atomic fragment (RFC 6980)",
		.ops = {ETH, TYPE6, IPV6("fe80::1", "ff02::1:ff00:fe"), FRAG6(0, 0),
			NS("fe80::fe"), LLA(1, SRC_MAC)},
		DROP(ND_MALFORMED, L3_6)},
};

#define N_CASES ((int)SG_ARRAY_SIZE(cases))

/* Indices of the well-formed rows, which the truncation tests cut down. */
static int good[N_CASES];
static int n_good;

static void
expect_ip(const char *name, const char *field, const struct sg_ip *got, const char *want)
{
	struct sg_ip ip;
	char a[SG_IP_STRLEN], b[SG_IP_STRLEN];

	memset(&ip, 0, sizeof(ip));
	if (want != NULL)
		ck_assert_int_eq(sg_ip_parse(want, &ip), 0);
	ck_assert_msg(memcmp(got, &ip, sizeof(ip)) == 0, "%s: %s is %s (family %u), want %s",
			name, field, sg_ip_format(got, a, sizeof(a)), got->family,
			want != NULL ? sg_ip_format(&ip, b, sizeof(b)) : "unset");
}

static void
expect_mac(const char *name, const char *field, const uint8_t got[6], const char *want)
{
	uint8_t mac[6] = {0};
	char a[SG_MAC_STRLEN];

	if (want != NULL)
		ck_assert_int_eq(sg_mac_parse(want, mac), 0);
	ck_assert_msg(memcmp(got, mac, 6) == 0, "%s: %s is %s, want %s", name, field,
			sg_mac_format(got, a, sizeof(a)), want != NULL ? want : "zero");
}

#define EXPECT_FIELD(f)                                                                            \
	ck_assert_msg(got->f == want->f, "%s: " #f " is %lld, want %lld", c->name,                \
			(long long)got->f, (long long)want->f)

/* Every field for a well-formed packet; reason and l3 for a dropped one. */
static void
expect_meta(const struct pkt_case *c, const struct sg_pkt_meta *got)
{
	const struct sg_pkt_meta *want = &c->m;

	ck_assert_msg(got->reason == want->reason, "%s: reason %s, want %s", c->name,
			rname(got->reason), rname(want->reason));
	EXPECT_FIELD(l3);
	if (want->reason != SG_DROP_NONE)
		return;
	EXPECT_FIELD(proto);
	EXPECT_FIELD(frag);
	EXPECT_FIELD(tcp_flags);
	EXPECT_FIELD(ttl);
	EXPECT_FIELD(l2_len);
	EXPECT_FIELD(n_vlans);
	EXPECT_FIELD(l3_len);
	EXPECT_FIELD(l4_len);
	EXPECT_FIELD(vlan_tci);
	EXPECT_FIELD(sport);
	EXPECT_FIELD(dport);
	EXPECT_FIELD(icmp_id);
	EXPECT_FIELD(frag_id);
	EXPECT_FIELD(frag_offset);
	EXPECT_FIELD(frag_len);
	EXPECT_FIELD(frag_more);
	EXPECT_FIELD(tcp_hdr_len);
	EXPECT_FIELD(tcp_seq);
	EXPECT_FIELD(tcp_ack);
	EXPECT_FIELD(tcp_win);
	expect_mac(c->name, "arp_sha", got->arp_sha, c->arp_sha);
	expect_mac(c->name, "nd_lladdr", got->nd_lladdr, c->nd_lladdr);
	expect_ip(c->name, "src", &got->src, c->src);
	expect_ip(c->name, "dst", &got->dst, c->dst);
	expect_ip(c->name, "nd_target", &got->nd_target, c->nd_target);
}

static void
build_case(const struct pkt_case *c, struct pb *pb)
{
	pb_build(pb, c->ops, SG_ARRAY_SIZE(c->ops));
}

START_TEST(test_table)
{
	const struct pkt_case *c = &cases[_i];
	struct sg_pkt_meta meta;
	struct pb pb;

	build_case(c, &pb);
	ck_assert_uint_eq(parse_bytes(pb.b, pb.len, &meta), c->m.reason);
	expect_meta(c, &meta);
}
END_TEST

/* Every reason the parser can give has a row: nothing it says goes untested. */
START_TEST(test_table_covers_reasons)
{
	static const enum sg_drop_reason parser_reasons[] = {
		SG_DROP_NONE, SG_DROP_L2_TRUNCATED, SG_DROP_VLAN_NESTED, SG_DROP_ETHERTYPE,
		SG_DROP_ARP_MALFORMED, SG_DROP_IP_TRUNCATED, SG_DROP_IP_VERSION,
		SG_DROP_IP_HEADER_LEN, SG_DROP_IP_TOTAL_LEN, SG_DROP_IP_CHECKSUM,
		SG_DROP_IP_OPTIONS, SG_DROP_IP_ADDRESS, SG_DROP_IPV6_EXT_HEADERS,
		SG_DROP_L4_TRUNCATED, SG_DROP_TCP_HEADER_LEN, SG_DROP_TCP_FLAGS,
		SG_DROP_ND_MALFORMED, SG_DROP_FRAG_TINY, SG_DROP_FRAG_OVERLAP,
	};

	for (size_t r = 0; r < SG_ARRAY_SIZE(parser_reasons); r++) {
		bool found = false;

		for (int i = 0; i < N_CASES && !found; i++)
			found = cases[i].m.reason == parser_reasons[r];
		ck_assert_msg(found, "no table row for %s", rname(parser_reasons[r]));
	}
}
END_TEST

static bool
is_ip(const struct pb *pb)
{
	return pb->ip == 4 || pb->ip == 6;
}

/*
 * Cut the frame of every well-formed row at every length short of its end (the IP length
 * still claims the whole datagram): the reason names the layer that was cut.
 */
START_TEST(test_truncate_frame)
{
	const struct pkt_case *c = &cases[good[_i]];
	struct sg_pkt_meta full, meta;
	struct pb pb;

	build_case(c, &pb);
	ck_assert_uint_eq(parse_bytes(pb.b, pb.len, &full), SG_DROP_NONE);
	for (uint16_t k = 0; k < pb.len; k++) {
		enum sg_drop_reason want;

		if (k < pb.l3)
			want = SG_DROP_L2_TRUNCATED;
		else if (!is_ip(&pb))
			want = k < pb.l3 + 28 ? SG_DROP_ARP_MALFORMED : SG_DROP_NONE;
		else if (k < pb.l3 + (pb.ip == 4 ? 20 : 40))
			want = SG_DROP_IP_TRUNCATED;
		else
			want = k < pb.ip_end ? SG_DROP_IP_TOTAL_LEN : SG_DROP_NONE;

		parse_bytes(pb.b, k, &meta);
		ck_assert_msg(meta.reason == want, "%s cut to %u bytes: %s, want %s", c->name, k,
				rname(meta.reason), rname(want));
		/* Only padding was cut: the packet is the same. */
		if (want == SG_DROP_NONE)
			ck_assert_msg(memcmp(&meta, &full, sizeof(meta)) == 0, "%s cut to %u bytes",
					c->name, k);
	}
}
END_TEST

/*
 * Keep the frame but make the IP length end at every byte inside the headers: the reason
 * names the header that was cut (tiny for a first fragment, overlap for a non-final fragment
 * that is no longer a multiple of 8), and a cut in the payload leaves a well-formed packet.
 */
START_TEST(test_truncate_ip_length)
{
	const struct pkt_case *c = &cases[good[_i]];
	struct sg_pkt_meta meta;
	struct pb pb, cut;

	build_case(c, &pb);
	if (!is_ip(&pb))
		return;
	for (uint16_t k = pb.l3 + (pb.ip == 6 ? 40 : 0); k < pb.ip_end; k++) {
		const struct pb_layer *layer = NULL;
		enum sg_drop_reason want;

		for (unsigned int i = 0; i < pb.n_layers; i++)
			if (pb.layers[i].start <= k && k < pb.layers[i].end)
				layer = &pb.layers[i];
		ck_assert_msg(layer != NULL, "%s: no layer holds byte %u", c->name, k);
		want = k == layer->start ? layer->cut_at_start : layer->cut_inside;
		if (pb.frag_data != 0 && pb.frag_more && k >= pb.frag_data &&
				(k - pb.frag_data) % 8 != 0)
			want = SG_DROP_FRAG_OVERLAP;

		cut = pb;
		pb_fix_to(&cut, k, false);
		parse_bytes(cut.b, cut.len, &meta);
		ck_assert_msg(meta.reason == want, "%s with IP ending at byte %u: %s, want %s",
				c->name, k, rname(meta.reason), rname(want));
		if (want == SG_DROP_NONE)
			ck_assert_uint_eq(meta.l2_len + meta.l3_len + meta.l4_len, k);
	}
}
END_TEST

/*
 * Split every well-formed row into two segments at every byte: headers that do not sit in
 * the first segment are truncated; otherwise the packet parses exactly as in one segment.
 */
START_TEST(test_multiseg)
{
	const struct pkt_case *c = &cases[good[_i]];
	struct sg_pkt_meta full, meta;
	struct pb pb;

	build_case(c, &pb);
	ck_assert_uint_eq(parse_bytes(pb.b, pb.len, &full), SG_DROP_NONE);
	for (uint16_t split = 1; split < pb.len; split++) {
		struct rte_mbuf *m = mbuf_split(pb.b, pb.len, split);
		enum sg_drop_reason r = sg_pkt_parse(m, &meta);

		ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), pb.len);
		rte_pktmbuf_free(m);
		if (r == SG_DROP_NONE) {
			ck_assert_msg(memcmp(&meta, &full, sizeof(meta)) == 0,
					"%s split at %u parses differently", c->name, split);
			continue;
		}
		ck_assert_msg(r == SG_DROP_L2_TRUNCATED || r == SG_DROP_ARP_MALFORMED ||
						r == SG_DROP_IP_TRUNCATED ||
						r == SG_DROP_IPV6_EXT_HEADERS ||
						r == SG_DROP_L4_TRUNCATED,
				"%s split at %u: %s", c->name, split, rname(r));
	}
}
END_TEST

/* A few splits with their exact reasons. */
START_TEST(test_multiseg_exact)
{
	static const struct {
		const char *name;
		struct op ops[8];
		uint16_t split;
		enum sg_drop_reason reason;
		uint16_t l4_len;
	} rows[] = {
		{"payload in the second segment",
			{ETH, TYPE4, IPV4AB, TCP(1, 2, ACK), DATA(100)}, 54, SG_DROP_NONE, 120},
		{"tcp header split", {ETH, TYPE4, IPV4AB, TCP(1, 2, ACK), DATA(100)}, 44,
			SG_DROP_L4_TRUNCATED, 0},
		{"tcp options split", {ETH, TYPE4, IPV4AB, TCP(1, 2, SYN), TCPOPT(8)}, 60,
			SG_DROP_L4_TRUNCATED, 0},
		{"ipv4 header split", {ETH, TYPE4, IPV4AB, TCP(1, 2, ACK)}, 20,
			SG_DROP_IP_TRUNCATED, 0},
		{"ethernet header split", {ETH, TYPE4, IPV4AB, TCP(1, 2, ACK)}, 13,
			SG_DROP_L2_TRUNCATED, 0},
		{"ipv6 extension header split", {ETH, TYPE6, IPV6AB, DST(1), UDP(1, 2)}, 58,
			SG_DROP_IPV6_EXT_HEADERS, 0},
		{"arp split", {ETH, TYPE_ARP, ARP(1, V4A, V4B)}, 30, SG_DROP_ARP_MALFORMED, 0},
		{"solicitation option split",
			{ETH, TYPE6, IPV6("fe80::1", "fe80::fe"), NS("fe80::fe"), LLA(1, SRC_MAC)},
			82, SG_DROP_L4_TRUNCATED, 0},
	};

	for (size_t i = 0; i < SG_ARRAY_SIZE(rows); i++) {
		struct sg_pkt_meta meta;
		struct rte_mbuf *m;
		struct pb pb;

		pb_build(&pb, rows[i].ops, SG_ARRAY_SIZE(rows[i].ops));
		m = mbuf_split(pb.b, pb.len, rows[i].split);
		ck_assert_msg(sg_pkt_parse(m, &meta) == rows[i].reason, "%s: %s", rows[i].name,
				rname(meta.reason));
		if (rows[i].reason == SG_DROP_NONE)
			ck_assert_uint_eq(meta.l4_len, rows[i].l4_len);
		rte_pktmbuf_free(m);
	}
}
END_TEST

/* The burst gives exactly what packet-by-packet parsing gives, at any burst size. */
START_TEST(test_burst)
{
	static const uint16_t sizes[] = {0, 1, 3, 4, 5, 32, N_CASES};
	struct rte_mbuf *pkts[N_CASES];
	struct sg_pkt_meta burst[N_CASES], one[N_CASES];
	uint16_t well_formed = 0;

	for (int i = 0; i < N_CASES; i++) {
		struct pb pb;

		build_case(&cases[i], &pb);
		pkts[i] = mbuf_from(pb.b, pb.len);
		sg_pkt_parse(pkts[i], &one[i]);
		well_formed += one[i].reason == SG_DROP_NONE;
	}
	for (size_t s = 0; s < SG_ARRAY_SIZE(sizes); s++) {
		uint16_t ok = 0;

		memset(burst, 0xa5, sizeof(burst));
		for (int i = 0; i < N_CASES; i += sizes[s] > 0 ? sizes[s] : N_CASES) {
			uint16_t n = (uint16_t)SG_MIN(sizes[s], N_CASES - i);

			ok += sg_pkt_parse_burst(pkts + i, burst + i, n);
			if (sizes[s] == 0)
				break;
		}
		if (sizes[s] == 0) {
			ck_assert_uint_eq(ok, 0);
			continue;
		}
		ck_assert_uint_eq(ok, well_formed);
		for (int i = 0; i < N_CASES; i++)
			ck_assert_msg(memcmp(&burst[i], &one[i], sizeof(one[i])) == 0,
					"burst of %u: %s differs", sizes[s], cases[i].name);
	}
	for (int i = 0; i < N_CASES; i++)
		rte_pktmbuf_free(pkts[i]);
}
END_TEST

/* sg_pkt_tcp_flags_invalid() against netfilter's table, written out independently. */
START_TEST(test_tcp_flags)
{
	static const uint8_t valid[] = {
		SYN, SYN | URG, SYN | ACK, RST, RST | ACK, FIN | ACK, FIN | ACK | URG, ACK,
		ACK | URG,
	};

	for (unsigned int f = 0; f < 256; f++) {
		bool ok = false;

		for (size_t v = 0; v < sizeof(valid); v++)
			ok |= (f & ~(PSH | ECE | CWR)) == valid[v];
		ck_assert_msg(sg_pkt_tcp_flags_invalid((uint8_t)f) == !ok, "flags 0x%02x", f);
	}
	ck_assert(sg_pkt_tcp_flags_invalid(0));
	ck_assert(sg_pkt_tcp_flags_invalid(SYN | FIN));
	ck_assert(sg_pkt_tcp_flags_invalid(SYN | RST));
	ck_assert(sg_pkt_tcp_flags_invalid(FIN));
	ck_assert(sg_pkt_tcp_flags_invalid(FIN | PSH));
	ck_assert(sg_pkt_tcp_flags_invalid(RST | FIN));
	ck_assert(!sg_pkt_tcp_flags_invalid(SYN | ECE | CWR));
	ck_assert(!sg_pkt_tcp_flags_invalid(ACK | PSH));
}
END_TEST

/* ---- Random frames ---- */

static uint64_t rng_state;

static uint32_t
rng(void)
{
	/* xorshift64*: fixed seed, same frames on every run and machine. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/*
 * Random bytes, nudged towards what the parser looks for (ethertypes, versions, consistent
 * lengths and checksums, extension header and protocol numbers) so the frames reach every
 * layer rather than dying at the ethertype.
 */
static uint16_t
random_frame(uint8_t *b, uint16_t max)
{
	static const uint16_t types[] = {0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8};
	static const uint8_t protos[] = {0, 43, 44, 60, 51, 6, 17, 58, 1, 59, 50, 47};
	uint16_t len = (uint16_t)(rng() % 4 == 0 ? rng() % 64 : rng() % max);
	uint16_t l2 = 14;

	for (uint16_t i = 0; i < len; i++)
		b[i] = (uint8_t)rng();
	if (len < 14 || rng() % 8 == 0)
		return len;
	wr16(b + 12, types[rng() % SG_ARRAY_SIZE(types)]);
	while ((b[l2 - 2] == 0x81 || b[l2 - 2] == 0x88) && l2 + 4 <= len && rng() % 4 != 0) {
		wr16(b + l2 + 2, types[rng() % SG_ARRAY_SIZE(types)]);
		l2 += 4;
	}
	if (l2 + 40 > len)
		return len;
	if (rng() % 4 == 0)
		return len;
	if (rng() % 2 == 0) {
		uint8_t *ip = b + l2;

		wr16(b + l2 - 2, 0x0800);
		ip[0] = rng() % 8 != 0 ? 0x45 : (uint8_t)rng();
		if (rng() % 8 != 0)
			wr16(ip + 2, (uint32_t)(len - l2 - rng() % 4));
		ip[9] = protos[rng() % SG_ARRAY_SIZE(protos)];
		if (rng() % 2 == 0)
			wr16(ip + 6, rng() % 2 == 0 ? 0x2000 : rng() % 4);
		if (rng() % 8 != 0) {
			ip[12] = 10;
			ip[16] = 10;
		}
		if (rng() % 8 != 0) {
			wr16(ip + 10, 0);
			wr16(ip + 10, (uint16_t)~fold(sum16(0, ip, 20)));
		}
	} else {
		uint8_t *ip = b + l2;

		wr16(b + l2 - 2, 0x86dd);
		if (rng() % 8 != 0)
			ip[0] = (uint8_t)(0x60 | (ip[0] & 0x0f));
		if (rng() % 8 != 0)
			wr16(ip + 4, (uint32_t)(len - l2 - 40 - rng() % 4));
		ip[6] = protos[rng() % SG_ARRAY_SIZE(protos)];
		if (rng() % 8 != 0) {
			ip[8] = 0x20;
			ip[24] = 0x20;
			ip[39] = 1;
		}
		/* Extension headers: sane next headers and short lengths. */
		for (uint16_t off = l2 + 40; off + 8 <= len && rng() % 4 != 0; off += 8) {
			b[off] = protos[rng() % SG_ARRAY_SIZE(protos)];
			b[off + 1] = (uint8_t)(rng() % 3 == 0 ? rng() : 0);
		}
	}
	return len;
}

START_TEST(test_random_frames)
{
	unsigned int seen[SG_DROP_COUNT] = {0};
	unsigned int n_reasons = 0;
	uint8_t frame[256];

	rng_state = 0x5367667770726e67ull; /* fixed seed */
	for (int i = 0; i < 100000; i++) {
		uint16_t len = random_frame(frame, sizeof(frame));
		struct sg_pkt_meta meta, pool_meta;
		enum sg_drop_reason r = parse_exact(frame, len, &meta);

		ck_assert_uint_lt(r, SG_DROP_COUNT);
		ck_assert_uint_eq(meta.reason, r);
		seen[r]++;
		if (i % 16 == 0) {
			struct rte_mbuf *m = mbuf_from(frame, len);

			sg_pkt_parse(m, &pool_meta);
			rte_pktmbuf_free(m);
			ck_assert(memcmp(&meta, &pool_meta, sizeof(meta)) == 0);
		}
		if (r != SG_DROP_NONE)
			continue;
		/* Well formed: what the record says fits the frame. */
		ck_assert_uint_ne(meta.l3, SG_L3_OTHER);
		ck_assert_uint_le(meta.n_vlans, 2);
		ck_assert_uint_eq(meta.l2_len, 14 + 4 * meta.n_vlans);
		ck_assert_uint_le(meta.l2_len + meta.l3_len + meta.l4_len, len);
		if (meta.frag == SG_FRAG_LATER)
			ck_assert(meta.sport == 0 && meta.dport == 0);
	}
	for (unsigned int r = 0; r < SG_DROP_COUNT; r++)
		n_reasons += seen[r] > 0;
	printf("random frames: %u well formed, %u distinct reasons\n", seen[SG_DROP_NONE],
			n_reasons);
	/* The frames must reach deep enough to matter. */
	ck_assert_uint_gt(seen[SG_DROP_NONE], 1000);
	ck_assert_uint_ge(n_reasons, 15);
}
END_TEST

/*
 * The parser's IPv4 header checksum against DPDK's rte_ipv4_cksum(), every value of the
 * checksum field for each of 48 random headers. Half of them have the other words summing to
 * 0 modulo 0xffff, where both 0x0000 and 0xffff are a valid checksum (the two zeros of one's
 * complement), the case a folding shortcut would get wrong.
 */
START_TEST(test_ipv4_checksum)
{
	uint8_t frame[14 + 20] = {[12] = 0x08, [13] = 0x00};
	struct sg_pkt_meta meta;
	unsigned int n_valid = 0;

	rng_state = 0x6970763463736d31ull; /* fixed seed */
	for (int h = 0; h < 48; h++) {
		struct rte_mbuf *m;
		uint8_t *ip;

		for (int i = 14; i < (int)sizeof(frame); i++)
			frame[i] = (uint8_t)rng();
		frame[14] = 0x45;
		wr16(frame + 14 + 2, 20);
		if (h % 2 == 0) {
			wr16(frame + 14 + 4, 0);
			wr16(frame + 14 + 10, 0);
			wr16(frame + 14 + 4, (uint16_t)(0xffff - fold(sum16(0, frame + 14, 20))));
		}
		m = mbuf_from(frame, sizeof(frame));
		ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);
		for (uint32_t c = 0; c <= 0xffff; c++) {
			bool valid;

			wr16(ip + 10, c);
			valid = rte_ipv4_cksum((const struct rte_ipv4_hdr *)ip) == 0;
			n_valid += valid;
			sg_pkt_parse(m, &meta);
			ck_assert_msg((meta.reason == SG_DROP_IP_CHECKSUM) == !valid,
					"header %d checksum %04x: %s, rte_ipv4_cksum says %s", h, c,
					rname(meta.reason), valid ? "valid" : "invalid");
		}
		rte_pktmbuf_free(m);
	}
	/* One valid value per header, two where the rest sums to zero. */
	ck_assert_uint_eq(n_valid, 48 + 24);
}
END_TEST

/* ---- ARP reply and neighbour advertisement ---- */

static const uint8_t our_mac[6] = {0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

/* Parse 'ops' into a pool mbuf; the caller frees it. */
static struct rte_mbuf *
build_mbuf(const struct op *ops, size_t n_ops, struct sg_pkt_meta *meta)
{
	struct rte_mbuf *m;
	struct pb pb;

	pb_build(&pb, ops, n_ops);
	m = mbuf_from(pb.b, pb.len);
	ck_assert_uint_eq(sg_pkt_parse(m, meta), SG_DROP_NONE);
	return m;
}

static void
expect_bytes(const struct rte_mbuf *m, const uint8_t *want, size_t len)
{
	const uint8_t *got = rte_pktmbuf_mtod(m, const uint8_t *);

	ck_assert_uint_eq(rte_pktmbuf_data_len(m), len);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), len);
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(got[i] == want[i], "byte %zu is 0x%02x, want 0x%02x", i, got[i],
				want[i]);
}

START_TEST(test_arp_reply)
{
	static const struct op request[] = {ETH_TO("ff:ff:ff:ff:ff:ff"), TYPE_ARP,
		ARP(1, "10.0.0.5", "10.0.0.1"), PAD(18)};
	static const uint8_t reply[60] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* to the requester */
		0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, /* from us */
		0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, /* Ethernet/IPv4, reply */
		0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 10, 0, 0, 1, /* sender: us, requested IP */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 5, /* target: the requester */
		/* 18 bytes of padding stay */
	};
	struct sg_pkt_meta meta;
	struct rte_mbuf *m = build_mbuf(request, SG_ARRAY_SIZE(request), &meta);

	sg_pkt_arp_reply(m, &meta, our_mac);
	expect_bytes(m, reply, sizeof(reply));
	ck_assert_uint_eq(sg_pkt_parse(m, &meta), SG_DROP_NONE);
	ck_assert_uint_eq(meta.sport, SG_ARP_REPLY);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(test_arp_reply_vlan)
{
	static const struct op request[] = {ETH_TO("ff:ff:ff:ff:ff:ff"), VLAN(0x8100, 0x0064),
		TYPE_ARP, ARP(1, "192.168.7.20", "192.168.7.1")};
	static const uint8_t reply[46] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0x81, 0x00, 0x00, 0x64, 0x08, 0x06, /* the tag stays */
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
		0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 192, 168, 7, 1,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 192, 168, 7, 20,
	};
	struct sg_pkt_meta meta;
	struct rte_mbuf *m = build_mbuf(request, SG_ARRAY_SIZE(request), &meta);

	sg_pkt_arp_reply(m, &meta, our_mac);
	expect_bytes(m, reply, sizeof(reply));
	rte_pktmbuf_free(m);
}
END_TEST

/* The advertisement's checksum, computed by this file's own sum, must verify. */
static void
expect_icmp6_valid(const struct rte_mbuf *m, uint16_t l2_len)
{
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);

	ck_assert_uint_eq(icmp6_sum(b, l2_len, l2_len + 40, 32), 0xffff);
}

START_TEST(test_nd_advert)
{
	static const struct op solicit[] = {ETH_TO("33:33:ff:00:00:fe"), TYPE6,
		IPV6("fe80::1", "ff02::1:ff00:fe"), NS("fe80::fe"), LLA(1, SRC_MAC)};
	static const uint8_t advert[86] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x86, 0xdd,
		0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, /* 32 bytes of ICMPv6, hop 255 */
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe, /* from the target */
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, /* to the solicitor */
		0x88, 0x00, 0xf3, 0xfc, 0x60, 0x00, 0x00, 0x00, /* NA, solicited + override */
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe,
		0x02, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, /* target link-layer address */
	};
	struct sg_pkt_meta meta;
	struct rte_mbuf *m = build_mbuf(solicit, SG_ARRAY_SIZE(solicit), &meta);

	ck_assert_int_eq(sg_pkt_nd_advert(m, &meta, our_mac, false), 0);
	expect_bytes(m, advert, sizeof(advert));
	expect_icmp6_valid(m, 14);
	ck_assert_uint_eq(sg_pkt_parse(m, &meta), SG_DROP_NONE);
	ck_assert_uint_eq(meta.sport, SG_ND_ADVERT);
	ck_assert_mem_eq(meta.nd_lladdr, our_mac, 6);
	expect_ip("advert", "nd_target", &meta.nd_target, "fe80::fe");
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(test_nd_advert_router)
{
	static const struct op solicit[] = {ETH_TO("33:33:ff:00:00:fe"), TYPE6,
		IPV6("fe80::1", "ff02::1:ff00:fe"), NS("fe80::fe"), LLA(1, SRC_MAC)};
	static const uint8_t advert[86] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x86, 0xdd,
		0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x88, 0x00, 0x73, 0xfc, 0xe0, 0x00, 0x00, 0x00, /* router + solicited + override */
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe,
		0x02, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	};
	struct sg_pkt_meta meta;
	struct rte_mbuf *m = build_mbuf(solicit, SG_ARRAY_SIZE(solicit), &meta);

	ck_assert_int_eq(sg_pkt_nd_advert(m, &meta, our_mac, true), 0);
	expect_bytes(m, advert, sizeof(advert));
	expect_icmp6_valid(m, 14);
	rte_pktmbuf_free(m);
}
END_TEST

/* Duplicate address detection: the solicitation has no option, so the answer grows. */
START_TEST(test_nd_advert_dad)
{
	static const struct op solicit[] = {ETH_TO("33:33:ff:00:00:fe"), TYPE6,
		IPV6("::", "ff02::1:ff00:fe"), NS("fe80::fe")};
	static const uint8_t advert[86] = {
		0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x86, 0xdd,
		0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe,
		0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, /* to all nodes */
		0x88, 0x00, 0x33, 0x7b, 0x20, 0x00, 0x00, 0x00, /* override only */
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe,
		0x02, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	};
	struct sg_pkt_meta meta;
	struct rte_mbuf *m = build_mbuf(solicit, SG_ARRAY_SIZE(solicit), &meta);

	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), 78);
	ck_assert_int_eq(sg_pkt_nd_advert(m, &meta, our_mac, false), 0);
	expect_bytes(m, advert, sizeof(advert));
	expect_icmp6_valid(m, 14);
	rte_pktmbuf_free(m);
}
END_TEST

/* A tagged solicitation with a hop-by-hop header and a nonce: the answer keeps the tag,
 * drops the extension header and the extra option, and shrinks. */
START_TEST(test_nd_advert_vlan_shrinks)
{
	static const struct op solicit[] = {ETH, VLAN(0x8100, 0x0064), TYPE6,
		IPV6("fe80::1", "fe80::fe"), HOP(0), NS("fe80::fe"), NDOPT(14, 1),
		LLA(1, SRC_MAC)};
	static const uint8_t advert[90] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0x81, 0x00, 0x00, 0x64, 0x86, 0xdd,
		0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x88, 0x00, 0xf3, 0xfc, 0x60, 0x00, 0x00, 0x00,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe,
		0x02, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	};
	struct sg_pkt_meta meta;
	struct rte_mbuf *m = build_mbuf(solicit, SG_ARRAY_SIZE(solicit), &meta);

	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), 18 + 40 + 8 + 40);
	ck_assert_int_eq(sg_pkt_nd_advert(m, &meta, our_mac, false), 0);
	expect_bytes(m, advert, sizeof(advert));
	expect_icmp6_valid(m, 18);
	rte_pktmbuf_free(m);
}
END_TEST

/* No room to grow, more than one segment, or not a solicitation: -EINVAL, nothing written. */
START_TEST(test_nd_advert_refused)
{
	static const struct op dad[] = {ETH_TO("33:33:ff:00:00:fe"), TYPE6,
		IPV6("::", "ff02::1:ff00:fe"), NS("fe80::fe")};
	static const struct op advert[] = {ETH, TYPE6, IPV6("fe80::fe", "fe80::1"),
		NA("fe80::fe", 0x60), LLA(2, OUR_MAC)};
	struct sg_pkt_meta meta;
	uint8_t before[128];
	struct rte_mbuf *m, *tail;
	struct pb pb;

	/* The solicitation at the very end of its buffer: no tailroom for 8 more bytes. */
	pb_build(&pb, dad, SG_ARRAY_SIZE(dad));
	m = rte_pktmbuf_alloc(pool);
	ck_assert_ptr_nonnull(m);
	m->data_off = (uint16_t)(m->buf_len - pb.len);
	memcpy(rte_pktmbuf_append(m, pb.len), pb.b, pb.len);
	ck_assert_uint_eq(sg_pkt_parse(m, &meta), SG_DROP_NONE);
	ck_assert_int_eq(sg_pkt_nd_advert(m, &meta, our_mac, false), -EINVAL);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), pb.len);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), pb.b, pb.len);
	rte_pktmbuf_free(m);

	/* Two segments (the record is the one-segment parse: split, the headers are cut). */
	m = mbuf_split(pb.b, pb.len, 70);
	ck_assert_int_eq(sg_pkt_nd_advert(m, &meta, our_mac, false), -EINVAL);
	tail = m->next;
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), pb.b, 70);
	ck_assert_mem_eq(rte_pktmbuf_mtod(tail, uint8_t *), pb.b + 70, pb.len - 70);
	rte_pktmbuf_free(m);

	/* An advertisement is not a solicitation. */
	m = build_mbuf(advert, SG_ARRAY_SIZE(advert), &meta);
	memcpy(before, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m));
	ck_assert_int_eq(sg_pkt_nd_advert(m, &meta, our_mac, false), -EINVAL);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), before, rte_pktmbuf_data_len(m));
	rte_pktmbuf_free(m);
}
END_TEST

static Suite *
pkt_suite(void)
{
	Suite *s = suite_create("pkt");
	TCase *tc;

	for (int i = 0; i < N_CASES; i++)
		if (cases[i].m.reason == SG_DROP_NONE)
			good[n_good++] = i;

	tc = tcase_create("table");
	tcase_add_loop_test(tc, test_table, 0, N_CASES);
	tcase_add_test(tc, test_table_covers_reasons);
	tcase_add_test(tc, test_tcp_flags);
	tcase_add_test(tc, test_burst);
	suite_add_tcase(s, tc);

	tc = tcase_create("truncation");
	tcase_add_loop_test(tc, test_truncate_frame, 0, n_good);
	tcase_add_loop_test(tc, test_truncate_ip_length, 0, n_good);
	tcase_add_loop_test(tc, test_multiseg, 0, n_good);
	tcase_add_test(tc, test_multiseg_exact);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_random_frames);
	tcase_add_test(tc, test_ipv4_checksum);
	suite_add_tcase(s, tc);

	tc = tcase_create("answers");
	tcase_add_test(tc, test_arp_reply);
	tcase_add_test(tc, test_arp_reply_vlan);
	tcase_add_test(tc, test_nd_advert);
	tcase_add_test(tc, test_nd_advert_router);
	tcase_add_test(tc, test_nd_advert_dad);
	tcase_add_test(tc, test_nd_advert_vlan_shrinks);
	tcase_add_test(tc, test_nd_advert_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	if (sg_test_eal_init("check_pkt", 64, 0, NULL) < 0)
		return EXIT_FAILURE;
	pool = rte_pktmbuf_pool_create("check_pkt", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "check_pkt: cannot create the mbuf pool\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(pkt_suite());
	/* EAL state does not survive fork(). */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_mempool_free(pool);
	sg_test_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
