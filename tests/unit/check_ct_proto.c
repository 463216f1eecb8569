/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP, ICMP/ICMPv6 and generic tracking: UDP unreplied and stream timeouts, ICMP queries by
 * identifier, unsolicited replies (edge case 57), each ICMP error type as RELATED only when the
 * quoted header matches and the outer destination is the quoted sender (edge case 58), for
 * IPv4 and IPv6; GRE/ESP/SCTP generic tracking; D9 blocking, epochs and origin records. */
#include <check.h>
#include <stdlib.h>

#include "ct_private.h"
#include "ct_test.h"

#define MS(s) ((uint64_t)(s) * 1000)

struct pick {
	int n;
	struct sg_ct_conn_info info;
};

static int
pick_one(const struct sg_ct_conn_info *i, void *arg)
{
	struct pick *pk = arg;

	pk->info = *i;
	pk->n++;
	return 0;
}

/* The only connection in 'ct'. */
static struct sg_ct_conn_info
only(struct sg_ct *ct, uint64_t now)
{
	struct pick pk = { 0 };

	sg_ct_walk(ct, NULL, now, pick_one, &pk);
	ck_assert_int_eq(pk.n, 1);
	return pk.info;
}

START_TEST(test_udp_timeouts)
{
	struct sg_ct *ct = ct_test_create(100, false, true);
	struct sg_ip a = ct_ip4(10, 1, 0, 1), b = ct_ip4(10, 1, 0, 2);
	struct sg_pkt_meta out = ct_meta(a, b, IPPROTO_UDP, 5353, 53);
	struct sg_pkt_meta in = ct_meta(b, a, IPPROTO_UDP, 53, 5353);
	struct sg_ct_verdict v;
	struct sg_ct_conn_info i;

	v = ct_send(ct, &out, MS(10));
	ck_assert_int_eq(v.result, SG_CT_NEW);
	i = only(ct, MS(10));
	ck_assert_int_eq(i.state, SG_CT_ST_UNREPLIED);
	ck_assert_int_eq(i.expires_ms, 30000);
	/* Unreplied traffic keeps the 30 s timeout. */
	ck_assert_int_eq(ct_send(ct, &out, MS(20)).result, SG_CT_ESTABLISHED);
	ck_assert_int_eq(only(ct, MS(20)).expires_ms, 30000);
	/* A reply within two seconds of the start: replied, still 30 s, not assured. */
	sg_ct_free(ct);
	ct = ct_test_create(100, false, true);
	ct_send(ct, &out, MS(10));
	v = ct_send(ct, &in, MS(10) + 500);
	ck_assert_int_eq(v.result, SG_CT_REPLY);
	ck_assert(v.flags & SG_CT_VF_FIRST_REPLY);
	ct_send(ct, &out, MS(11));
	i = only(ct, MS(11));
	ck_assert_int_eq(i.state, SG_CT_ST_REPLIED);
	ck_assert_int_eq(i.expires_ms, 30000);
	/* Still going after two seconds: a stream, assured, 120 s. */
	ct_send(ct, &in, MS(13));
	i = only(ct, MS(13));
	ck_assert_int_eq(i.state, SG_CT_ST_ASSURED);
	ck_assert(i.assured);
	ck_assert_int_eq(i.expires_ms, 120000);
	ck_assert_uint_eq(i.packets[SG_CT_DIR_ORIG], 2);
	ck_assert_uint_eq(i.packets[SG_CT_DIR_REPLY], 2);
	ck_assert_uint_eq(i.bytes[SG_CT_DIR_ORIG], 2 * 28);
	/* Idle past the stream timeout: gone, the next packet is new (edge case 16). */
	ck_assert_int_eq(ct_send_w(ct, 0, &in, NULL, MS(13 + 120), false).result, SG_CT_NEW);
	sg_ct_free(ct);
}
END_TEST

START_TEST(test_icmp_echo)
{
	for (int v6 = 0; v6 < 2; v6++) {
		struct sg_ct *ct = ct_test_create(100, false, true);
		struct sg_ip a = v6 ? ct_ip6(1) : ct_ip4(10, 2, 0, 1);
		struct sg_ip b = v6 ? ct_ip6(2) : ct_ip4(10, 2, 0, 2);
		uint8_t req = v6 ? 128 : 8, rep = v6 ? 129 : 0;
		struct sg_pkt_meta m;
		struct sg_ct_verdict v;

		/* Edge case 57: an unsolicited reply starts nothing. */
		m = ct_icmp(b, a, rep, 0, 7);
		v = ct_send(ct, &m, 1);
		ck_assert_int_eq(v.result, SG_CT_NOT_NEW);
		ck_assert_int_eq(v.reason, SG_DROP_CT_NOT_NEW);
		ck_assert_int_eq(sg_ct_commit(ct, 0, NULL, &m, NULL, 1, &v), -EINVAL);
		m = ct_icmp(a, b, req, 0, 7);
		ck_assert_int_eq(ct_send(ct, &m, 1).result, SG_CT_NEW);
		ck_assert_int_eq(only(ct, 1).expires_ms, 30000);
		ck_assert_int_eq(only(ct, 1).tuple.sport, 7);
		m = ct_icmp(b, a, rep, 0, 7);
		v = ct_send(ct, &m, 2);
		ck_assert_int_eq(v.result, SG_CT_REPLY);
		/* Another identifier is another query. */
		m = ct_icmp(b, a, rep, 0, 8);
		ck_assert_int_eq(ct_send(ct, &m, 2).result, SG_CT_NOT_NEW);
		/* A request the other way is a new connection of its own. */
		m = ct_icmp(b, a, req, 0, 7);
		ck_assert_int_eq(ct_send_w(ct, 0, &m, NULL, 2, false).result, SG_CT_NEW);
		/* Other message types are not tracked. */
		m = ct_icmp(a, b, v6 ? 135 : 9, 0, 0);
		ck_assert_int_eq(ct_send(ct, &m, 2).result, SG_CT_NOT_NEW);
		if (!v6) {
			/* Timestamp, information and address-mask requests are queries too. */
			for (uint8_t t = 13; t <= 17; t += 2) {
				m = ct_icmp(a, b, t, 0, 9);
				ck_assert_int_eq(ct_send(ct, &m, 3).result, SG_CT_NEW);
				m = ct_icmp(b, a, (uint8_t)(t + 1), 0, 9);
				ck_assert_int_eq(ct_send(ct, &m, 3).result, SG_CT_REPLY);
			}
		}
		ck_assert_int_eq(ct_send_w(ct, 0, &m, NULL, MS(40), false).result, SG_CT_NOT_NEW);
		sg_ct_free(ct);
	}
}
END_TEST

/* An ICMP error from 'from' to 'to' quoting a packet isrc:isp -> idst:idp of 'iproto'. */
static struct rte_mbuf *
icmp_error(struct ct_test_mbuf *tm, struct sg_pkt_meta *m, struct sg_ip from, struct sg_ip to,
		uint8_t type, struct sg_ip isrc, struct sg_ip idst, uint8_t iproto, uint16_t isp,
		uint16_t idp)
{
	bool v6 = from.family == SG_AF_INET6;
	uint8_t pkt[200];
	uint32_t off = 14 + (v6 ? 40 : 20) + 8;

	memset(pkt, 0, sizeof(pkt));
	*m = ct_icmp(from, to, type, 0, 0);
	if (!v6) {
		pkt[off] = 0x45;
		pkt[off + 9] = iproto;
		memcpy(pkt + off + 12, isrc.bytes, 4);
		memcpy(pkt + off + 16, idst.bytes, 4);
		off += 20;
	} else {
		pkt[off] = 0x60;
		pkt[off + 6] = iproto;
		memcpy(pkt + off + 8, isrc.bytes, 16);
		memcpy(pkt + off + 24, idst.bytes, 16);
		off += 40;
	}
	if (iproto == IPPROTO_ICMP || iproto == IPPROTO_ICMPV6) {
		pkt[off] = (uint8_t)isp; /* type */
		pkt[off + 4] = (uint8_t)(idp >> 8); /* id */
		pkt[off + 5] = (uint8_t)idp;
	} else {
		pkt[off] = (uint8_t)(isp >> 8);
		pkt[off + 1] = (uint8_t)isp;
		pkt[off + 2] = (uint8_t)(idp >> 8);
		pkt[off + 3] = (uint8_t)idp;
	}
	m->l4_len = (uint16_t)(off + 8 - 14 - (v6 ? 40 : 20));
	return ct_test_mbuf(tm, pkt, (uint16_t)(off + 8));
}

START_TEST(test_icmp_errors_related)
{
	static const uint8_t types4[] = { 3, 4, 5, 11, 12 };
	static const uint8_t types6[] = { 1, 2, 3, 4 };

	for (int v6 = 0; v6 < 2; v6++) {
		struct sg_ct *ct = ct_test_create(100, false, true);
		struct sg_ip c = v6 ? ct_ip6(1) : ct_ip4(10, 3, 0, 1);
		struct sg_ip s = v6 ? ct_ip6(2) : ct_ip4(10, 3, 0, 2);
		struct sg_ip r = v6 ? ct_ip6(99) : ct_ip4(10, 3, 0, 99); /* a router */
		struct sg_ip x = v6 ? ct_ip6(66) : ct_ip4(10, 3, 0, 66); /* a bystander */
		uint8_t icmp = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		const uint8_t *types = v6 ? types6 : types4;
		int n_types = v6 ? 4 : 5;
		struct sg_pkt_meta m;
		struct sg_ct_verdict v, tcp, udp, ping;
		struct ct_test_mbuf tm;
		struct rte_mbuf *mb;

		m = ct_tcp(c, 1234, s, 80, SG_TCP_SYN, 1, 0, 1000, 0);
		tcp = ct_send(ct, &m, 1);
		m = ct_meta(c, s, IPPROTO_UDP, 999, 53);
		udp = ct_send(ct, &m, 1);
		m = ct_icmp(c, s, v6 ? 128 : 8, 0, 42);
		ping = ct_send(ct, &m, 1);
		ck_assert_ptr_nonnull(tcp.conn);
		ck_assert_ptr_nonnull(udp.conn);
		ck_assert_ptr_nonnull(ping.conn);

		for (int t = 0; t < n_types; t++) {
			/* From the server or a router back to the client, quoting c -> s. */
			mb = icmp_error(&tm, &m, s, c, types[t], c, s, IPPROTO_TCP, 1234, 80);
			v = ct_send_w(ct, 0, &m, mb, 2, true);
			ck_assert_msg(v.result == SG_CT_RELATED, "v6 %d type %d: %d", v6, types[t],
					v.result);
			ck_assert_ptr_eq(v.conn, tcp.conn);
			ck_assert_int_eq(v.dir, SG_CT_DIR_REPLY);
			mb = icmp_error(&tm, &m, r, c, types[t], c, s, IPPROTO_UDP, 999, 53);
			v = ct_send_w(ct, 0, &m, mb, 2, true);
			ck_assert_int_eq(v.result, SG_CT_RELATED);
			ck_assert_ptr_eq(v.conn, udp.conn);
			mb = icmp_error(&tm, &m, r, c, types[t], c, s, icmp, v6 ? 128 : 8, 42);
			v = ct_send_w(ct, 0, &m, mb, 2, true);
			ck_assert_int_eq(v.result, SG_CT_RELATED);
			ck_assert_ptr_eq(v.conn, ping.conn);
			/* Quoting the reply direction, sent to the server. */
			mb = icmp_error(&tm, &m, c, s, types[t], s, c, IPPROTO_TCP, 80, 1234);
			v = ct_send_w(ct, 0, &m, mb, 2, true);
			ck_assert_int_eq(v.result, SG_CT_RELATED);
			ck_assert_int_eq(v.dir, SG_CT_DIR_ORIG);
			/* Edge case 58: the quoted header matches but the error goes elsewhere. */
			mb = icmp_error(&tm, &m, s, x, types[t], c, s, IPPROTO_TCP, 1234, 80);
			v = ct_send_w(ct, 0, &m, mb, 2, true);
			ck_assert_int_eq(v.result, SG_CT_NOT_NEW);
			ck_assert_int_eq(v.reason, SG_DROP_CT_NOT_NEW);
			ck_assert_ptr_null(v.conn);
			/* Quoting an untracked connection. */
			mb = icmp_error(&tm, &m, s, c, types[t], c, s, IPPROTO_TCP, 1234, 81);
			ck_assert_int_eq(ct_send_w(ct, 0, &m, mb, 2, true).result, SG_CT_NOT_NEW);
			/* No payload to read: stray. */
			ck_assert_int_eq(ct_send_w(ct, 0, &m, NULL, 2, true).result, SG_CT_NOT_NEW);
		}
		/* A blocked connection's errors are blocked too. */
		sg_ct_conn_set_blocked(tcp.conn, true);
		mb = icmp_error(&tm, &m, s, c, types[0], c, s, IPPROTO_TCP, 1234, 80);
		v = ct_send_w(ct, 0, &m, mb, 2, true);
		ck_assert_int_eq(v.result, SG_CT_BLOCKED);
		ck_assert_int_eq(v.reason, SG_DROP_CT_BLOCKED);
		sg_ct_free(ct);
	}
}
END_TEST

START_TEST(test_generic_protocols)
{
	struct sg_ct *ct = ct_test_create(100, false, true);
	struct sg_ip a = ct_ip4(10, 4, 0, 1), b = ct_ip4(10, 4, 0, 2);
	struct sg_pkt_meta m;
	struct sg_ct_conn_info i;
	struct sg_ct_verdict v;

	/* GRE: 30 s unreplied, 180 s and assured once both ways. */
	m = ct_meta(a, b, IPPROTO_GRE, 0, 0);
	ck_assert_int_eq(ct_send(ct, &m, 1).result, SG_CT_NEW);
	ck_assert_int_eq(only(ct, 1).expires_ms, 30000);
	m = ct_meta(b, a, IPPROTO_GRE, 0, 0);
	ck_assert_int_eq(ct_send(ct, &m, 2).result, SG_CT_REPLY);
	i = only(ct, 2);
	ck_assert_int_eq(i.expires_ms, 180000);
	ck_assert(i.assured);
	sg_ct_free(ct);
	/* ESP and SCTP: generic, 600 s, keyed by addresses only. */
	for (int k = 0; k < 2; k++) {
		uint8_t proto = k == 0 ? IPPROTO_ESP : IPPROTO_SCTP;

		ct = ct_test_create(100, false, true);
		m = ct_meta(a, b, proto, 1000, 2000);
		ck_assert_int_eq(ct_send(ct, &m, 1).result, SG_CT_NEW);
		ck_assert_int_eq(only(ct, 1).expires_ms, 600000);
		ck_assert_int_eq(only(ct, 1).state, SG_CT_ST_UNREPLIED);
		m = ct_meta(b, a, proto, 7, 8);
		v = ct_send(ct, &m, 2);
		ck_assert_int_eq(v.result, SG_CT_REPLY);
		ck_assert_int_eq(sg_ct_conn_state(v.conn), SG_CT_ST_ASSURED);
		sg_ct_free(ct);
	}
}
END_TEST

START_TEST(test_blocked_epoch_origin)
{
	struct sg_ct *ct = ct_test_create(100, false, true);
	struct sg_ip a = ct_ip6(1), b = ct_ip6(2);
	struct sg_pkt_meta out = ct_meta(a, b, IPPROTO_UDP, 1, 2);
	struct sg_pkt_meta in = ct_meta(b, a, IPPROTO_UDP, 2, 1);
	struct sg_ct_verdict v = ct_send(ct, &out, 1);
	struct sg_ct_origin o;
	struct sg_ct_tuple t;

	ck_assert_ptr_nonnull(v.conn);
	sg_ct_conn_origin(v.conn, &o);
	ck_assert_uint_eq(o.in_port, 1);
	ck_assert_uint_eq(o.out_port, 2);
	ck_assert_uint_eq(o.egress_rule, 10);
	ck_assert_uint_eq(o.ingress_rule, 20);
	ck_assert_uint_eq(sg_ct_conn_epoch(v.conn), 1);
	sg_ct_conn_set_epoch(v.conn, 5);
	ck_assert_uint_eq(sg_ct_conn_epoch(v.conn), 5);
	sg_ct_conn_tuple(v.conn, &t);
	ck_assert(sg_ip_equal(&t.src, &a));
	ck_assert(sg_ip_equal(&t.dst, &b));
	ck_assert_uint_eq(t.sport, 1);
	ck_assert_uint_eq(t.dport, 2);
	/* D9: blocked stops both directions and refreshes nothing. */
	sg_ct_conn_set_blocked(v.conn, true);
	ck_assert(sg_ct_conn_blocked(v.conn));
	v = ct_send(ct, &out, 2);
	ck_assert_int_eq(v.result, SG_CT_BLOCKED);
	ck_assert_int_eq(v.reason, SG_DROP_CT_BLOCKED);
	v = ct_send(ct, &in, 2);
	ck_assert_int_eq(v.result, SG_CT_BLOCKED);
	ck_assert_int_eq(v.dir, SG_CT_DIR_REPLY);
	ck_assert_int_eq(only(ct, 2).expires_ms, 29999);
	sg_ct_conn_set_blocked(v.conn, false);
	ck_assert_int_eq(ct_send(ct, &in, 3).result, SG_CT_REPLY);
	/* Once past its deadline a blocked entry no longer holds its tuple. */
	sg_ct_conn_set_blocked(v.conn, true);
	ck_assert_int_eq(ct_send_w(ct, 0, &out, NULL, 3 + 29999, false).result, SG_CT_BLOCKED);
	ck_assert_int_eq(ct_send_w(ct, 0, &out, NULL, 3 + 30000, false).result, SG_CT_NEW);
	v = ct_send(ct, &out, 3 + 30000);
	ck_assert_int_eq(v.result, SG_CT_NEW);
	ck_assert(!sg_ct_conn_blocked(v.conn));
	sg_ct_free(ct);
}
END_TEST

START_TEST(test_unusable_packets)
{
	struct sg_ct *ct = ct_test_create(100, false, true);
	struct sg_ip a = ct_ip4(10, 5, 0, 1), b = ct_ip4(10, 5, 0, 2);
	struct sg_pkt_meta m = ct_meta(a, b, IPPROTO_UDP, 1, 2);
	struct sg_ct_verdict v;
	struct sg_ct_stats st;

	m.reason = SG_DROP_L4_TRUNCATED;
	v = ct_send(ct, &m, 1);
	ck_assert_int_eq(v.result, SG_CT_INVALID);
	ck_assert_int_eq(v.reason, SG_DROP_L4_TRUNCATED);
	m = ct_meta(a, b, IPPROTO_UDP, 1, 2);
	m.frag = SG_FRAG_LATER;
	ck_assert_int_eq(ct_send(ct, &m, 1).reason, SG_DROP_FRAG_UNMATCHED);
	m = ct_meta(a, b, IPPROTO_UDP, 1, 2);
	m.l3 = SG_L3_ARP;
	ck_assert_int_eq(ct_send(ct, &m, 1).result, SG_CT_INVALID);
	sg_ct_stats_get(ct, &st);
	ck_assert_uint_eq(st.results[SG_CT_INVALID], 3);
	ck_assert_uint_eq(st.invalid[SG_DROP_FRAG_UNMATCHED], 1);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_str_eq(sg_ct_result_name(SG_CT_RELATED), "RELATED");
	ck_assert_str_eq(sg_ct_state_name(SG_CT_ST_TCP_TIME_WAIT), "TIME_WAIT");
	sg_ct_free(ct);
}
END_TEST

static Suite *
ct_proto_suite(void)
{
	Suite *s = suite_create("ct_proto");
	TCase *tc = tcase_create("proto");

	tcase_add_test(tc, test_udp_timeouts);
	tcase_add_test(tc, test_icmp_echo);
	tcase_add_test(tc, test_icmp_errors_related);
	tcase_add_test(tc, test_generic_protocols);
	tcase_add_test(tc, test_blocked_epoch_origin);
	tcase_add_test(tc, test_unusable_packets);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ct_proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
