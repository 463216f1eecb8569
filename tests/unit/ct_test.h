/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the conntrack tests: packet metadata filled by hand (the parser is not needed),
 * single-segment mbufs faked on the heap without EAL, and one-call "send a packet" that looks
 * up and, for a new connection the policy would accept, commits. */
#ifndef CT_TEST_H
#define CT_TEST_H

#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "sg_ct.h"

/* A fake mbuf: enough for rte_pktmbuf_read() on one segment. */
struct ct_test_mbuf {
	struct rte_mbuf m;
	uint8_t data[256];
};

static inline struct rte_mbuf *
ct_test_mbuf(struct ct_test_mbuf *tm, const uint8_t *bytes, uint16_t len)
{
	memset(tm, 0, sizeof(*tm));
	tm->m.buf_addr = tm->data;
	tm->m.buf_len = sizeof(tm->data);
	tm->m.data_off = 0;
	tm->m.nb_segs = 1;
	tm->m.data_len = len;
	tm->m.pkt_len = len;
	memcpy(tm->data, bytes, len);
	return &tm->m;
}

static inline struct sg_ip
ct_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct sg_ip ip;

	memset(&ip, 0, sizeof(ip));
	ip.family = SG_AF_INET;
	ip.bytes[0] = a;
	ip.bytes[1] = b;
	ip.bytes[2] = c;
	ip.bytes[3] = d;
	return ip;
}

static inline struct sg_ip
ct_ip6(uint16_t last)
{
	struct sg_ip ip;

	memset(&ip, 0, sizeof(ip));
	ip.family = SG_AF_INET6;
	ip.bytes[0] = 0x20;
	ip.bytes[1] = 0x01;
	ip.bytes[2] = 0x0d;
	ip.bytes[3] = 0xb8;
	ip.bytes[14] = (uint8_t)(last >> 8);
	ip.bytes[15] = (uint8_t)last;
	return ip;
}

static inline struct sg_pkt_meta
ct_meta(struct sg_ip src, struct sg_ip dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct sg_pkt_meta m;

	memset(&m, 0, sizeof(m));
	m.l3 = src.family == SG_AF_INET6 ? SG_L3_IPV6 : SG_L3_IPV4;
	m.proto = proto;
	m.l2_len = 14;
	m.l3_len = src.family == SG_AF_INET6 ? 40 : 20;
	m.l4_len = 8;
	m.sport = sport;
	m.dport = dport;
	m.src = src;
	m.dst = dst;
	return m;
}

static inline struct sg_pkt_meta
ct_tcp(struct sg_ip src, uint16_t sport, struct sg_ip dst, uint16_t dport, uint8_t flags,
		uint32_t seq, uint32_t ack, uint16_t win, uint16_t payload)
{
	struct sg_pkt_meta m = ct_meta(src, dst, IPPROTO_TCP, sport, dport);

	m.tcp_flags = flags;
	m.tcp_seq = seq;
	m.tcp_ack = ack;
	m.tcp_win = win;
	m.tcp_hdr_len = 20;
	m.l4_len = (uint16_t)(20 + payload);
	return m;
}

static inline struct sg_pkt_meta
ct_icmp(struct sg_ip src, struct sg_ip dst, uint8_t type, uint8_t code, uint16_t id)
{
	struct sg_pkt_meta m = ct_meta(src, dst,
			src.family == SG_AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, type, code);

	m.icmp_id = id;
	return m;
}

/* The origin the tests' commits record: port 'in_port' to port 2, rules 10 and 20, epoch 1. */
static inline struct sg_ct_origin
ct_test_origin(uint16_t in_port)
{
	return (struct sg_ct_origin){ .in_port = in_port, .out_port = 2, .egress_rule = 10,
		.ingress_rule = 20, .policy_epoch = 1 };
}

/* Look up one packet at 'now' on 'worker'; when it is new, commit it as the policy would. */
static inline struct sg_ct_verdict
ct_send_w(struct sg_ct *ct, unsigned int worker, const struct sg_pkt_meta *m,
		struct rte_mbuf *mb, uint64_t now, bool commit)
{
	struct sg_ct_verdict v;
	struct rte_mbuf *pkts[1] = { mb };

	sg_ct_process_burst(ct, worker, pkts, m, NULL, &v, 1, now);
	if (commit && v.result == SG_CT_NEW) {
		struct sg_ct_origin o = ct_test_origin(1);

		sg_ct_commit(ct, worker, mb, m, &o, now, &v);
	}
	return v;
}

static inline struct sg_ct_verdict
ct_send(struct sg_ct *ct, const struct sg_pkt_meta *m, uint64_t now)
{
	return ct_send_w(ct, 0, m, NULL, now, true);
}

/* A tracker with 'capacity' entries and its own QSBR variable (no EAL needed). */
static inline struct sg_ct *
ct_test_create(uint32_t capacity, bool liberal, bool loose)
{
	struct sg_ct_params p;

	sg_ct_params_init(&p);
	p.capacity = capacity;
	p.tcp_be_liberal = liberal;
	p.tcp_loose = loose;
	/* The table's own mechanics, filled through one port: no reserve (test_fair_share). */
	p.share_reserve = 0;
	return sg_ct_create(&p);
}

/* The state of the connection 'v' points at. */
static inline int
ct_state_of(const struct sg_ct_verdict *v)
{
	return v->conn == NULL ? -1 : (int)sg_ct_conn_state(v->conn);
}

#endif /* CT_TEST_H */
