/* SPDX-License-Identifier: BSD-3-Clause */
/* The tracker's ESTABLISHED fast path against the full netfilter path: random TCP
 * conversations (handshakes with and without window scaling and SACK, mid-stream pickups,
 * data, pure ACKs, lagging and future ACKs, zero windows, SACK blocks, retransmissions,
 * out-of-window segments, FIN, RST, SYN, time jumps past timeouts, packets on the wrong
 * ports) go through two trackers, one with the fast path and one without (tcp_slow_only),
 * strict and liberal. After every packet the verdicts and the whole entry (TCP state,
 * deadline, flags, counters) must be identical, and at the end every counter of the two
 * trackers, per-port connection counts included. A segment the window check must ignore (an
 * old retransmission or a delayed ack) must pass and leave the entry's TCP state and deadline
 * as they were; the strict runs must meet some. No EAL. */
#include <check.h>
#include <stdlib.h>

#include "ct_private.h"
#include "ct_test.h"

#define N_CONNS 64
#define STEPS 3000

/* splitmix64: a fixed seed, so a failure repeats. */
static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* One endpoint as the simulated stacks see it. */
struct end {
	uint32_t nxt;       /* Next sequence number to send. */
	uint16_t win;
	bool wscale;        /* Offers window scaling in its SYN. */
	bool sack;          /* Offers SACK in its SYN. */
	/* The last segment sent, for retransmissions. */
	struct sg_pkt_meta last;
	uint8_t last_opt[40];
	bool has_last;
};

struct conn {
	struct sg_ip addr[2];
	uint16_t port[2];
	uint16_t dp_port[2];         /* The datapath port of each side (struct sg_ct_path). */
	struct end e[2];
	bool open;
	const struct sg_conn *entry; /* The fast tracker's entry, as the last verdict gave it. */
	int orig;                    /* The side whose packets are the original direction. */
};

struct pair {
	struct sg_ct *fast, *slow;
	uint64_t now;
	bool liberal;
	unsigned long packets, fast_eligible;
	unsigned long ignored; /* Segments the window check had to ignore, and did. */
};

/* A TCP segment's mbuf: Ethernet, IPv4, TCP header with 'opt' (a multiple of 4 bytes). */
static struct rte_mbuf *
seg_mbuf(struct ct_test_mbuf *tm, const uint8_t *opt, unsigned int opt_len)
{
	uint8_t bytes[14 + 20 + 60];

	memset(bytes, 0, sizeof(bytes));
	if (opt_len != 0)
		memcpy(bytes + 14 + 20 + 20, opt, opt_len);
	return ct_test_mbuf(tm, bytes, (uint16_t)(14 + 20 + 20 + opt_len));
}

static struct sg_pkt_meta
seg(const struct conn *cn, int d, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
		uint16_t payload, unsigned int opt_len)
{
	struct sg_pkt_meta m = ct_tcp(cn->addr[d], cn->port[d], cn->addr[!d], cn->port[!d], flags,
			seq, ack, win, payload);

	m.tcp_hdr_len = (uint8_t)(20 + opt_len);
	m.l4_len = (uint16_t)(20 + opt_len + payload);
	return m;
}

/* The entry of a verdict, as bytes: everything but the lock (always 0 between packets). */
static void
assert_same_entry(const struct sg_conn *a, const struct sg_conn *b, unsigned long packet)
{
	size_t size;

	if (a == NULL || b == NULL) {
		ck_assert_msg((a == NULL) == (b == NULL), "packet %lu: entry in one tracker only",
				packet);
		return;
	}
	size = (a->flags & CT_F_V6) ? sizeof(struct ct_conn6) : sizeof(struct ct_conn4);
	ck_assert_int_eq(a->flags, b->flags);
	ck_assert_int_eq(a->deadline, b->deadline);
	ck_assert_msg(memcmp(a, b, size) == 0, "packet %lu: entries differ (state %d/%d)", packet,
			ct_body_const(a)->l4.tcp.state, ct_body_const(b)->l4.tcp.state);
}

/* One packet through one tracker on 'path', committed with that path when it is new (as the
 * datapath does after the policy accepted it). */
static struct sg_ct_verdict
send_path(struct sg_ct *ct, const struct sg_pkt_meta *m, struct rte_mbuf *mb,
		const struct sg_ct_path *path, uint64_t now)
{
	struct sg_ct_verdict v;

	sg_ct_process_burst(ct, 0, &mb, m, path, &v, 1, now);
	if (v.result == SG_CT_NEW) {
		struct sg_ct_origin o = { .in_port = path->in_port, .out_port = path->out_port,
			.egress_rule = 10, .ingress_rule = 20, .policy_epoch = 1 };

		sg_ct_commit(ct, 0, mb, m, &o, now, &v);
	}
	return v;
}

/* Whether the window check must ignore this segment, from the entry before it: an ACK segment
 * (no SYN, FIN or RST, no options) of an ESTABLISHED connection from a strict sender already
 * seen, within bounds I and III, under bound II or IV (docs/conntrack.md, "TCP"). */
static bool
ignorable(const struct pair *pr, const struct ct_tcp *t, int dir, const struct sg_pkt_meta *m,
		unsigned int opt_len)
{
	int rdir = !dir;
	uint32_t seq = m->tcp_seq, end = seq + (uint32_t)(m->l4_len - m->tcp_hdr_len);
	uint32_t sack = m->tcp_ack;
	uint32_t maxack = t->td_maxwin[dir] > 66000 ? t->td_maxwin[dir] : 66000;

	if (pr->liberal || t->state != SG_CT_ST_TCP_ESTABLISHED || opt_len != 0 ||
			(m->tcp_flags & (SG_TCP_SYN | SG_TCP_FIN | SG_TCP_RST | SG_TCP_ACK)) !=
					SG_TCP_ACK ||
			t->td_maxwin[dir] == 0 || (t->pflags[dir] & CT_TCP_F_BE_LIBERAL))
		return false;
	if ((int32_t)(seq - (t->td_maxend[dir] + 1)) >= 0 ||
			(int32_t)(sack - (t->td_end[rdir] + 1)) >= 0)
		return false;
	return (t->td_maxwin[rdir] != 0 &&
			       (int32_t)(end - (t->td_end[dir] - t->td_maxwin[rdir] - 1)) <= 0) ||
	       (int32_t)(sack - (t->td_end[rdir] - maxack - 1)) <= 0;
}

/* Send one packet of side 'd' of 'cn' through both trackers and compare. Mostly between the
 * connection's own ports; now and then to or from a third port, which the path check must
 * refuse before any state moves, on both paths alike. */
static struct sg_ct_verdict
send_both(struct pair *pr, const struct conn *cn, int d, const struct sg_pkt_meta *m,
		const uint8_t *opt, unsigned int opt_len)
{
	struct ct_test_mbuf tm;
	struct rte_mbuf *mb = seg_mbuf(&tm, opt, opt_len);
	struct sg_ct_path path = { cn->dp_port[d], cn->dp_port[!d] };
	struct sg_ct_verdict va, vb;
	const struct sg_conn *entry = cn->entry;
	int dir = d == cn->orig ? SG_CT_DIR_ORIG : SG_CT_DIR_REPLY;
	struct ct_tcp before;
	uint32_t deadline = 0;
	bool ignore = false;

	if (entry != NULL && (int32_t)((uint32_t)pr->now - entry->deadline) < 0) {
		before = ct_body_const(entry)->l4.tcp;
		deadline = entry->deadline;
		ignore = ignorable(pr, &before, dir, m, opt_len);
	}

	if (rnd_below(40) == 0) {
		if (rnd_below(2))
			path.in_port = 9;
		else
			path.out_port = 9;
	}
	va = send_path(pr->fast, m, mb, &path, pr->now);
	vb = send_path(pr->slow, m, mb, &path, pr->now);
	pr->packets++;
	ck_assert_msg(va.result == vb.result && va.reason == vb.reason && va.dir == vb.dir &&
			va.flags == vb.flags,
			"packet %lu: verdict %d/%d reason %d/%d dir %d/%d flags %d/%d", pr->packets,
			va.result, vb.result, va.reason, vb.reason, va.dir, vb.dir, va.flags, vb.flags);
	if (va.conn != NULL && vb.conn != NULL &&
			(va.result == SG_CT_ESTABLISHED || va.result == SG_CT_REPLY)) {
		const struct ct_tcp *t = &ct_body_const(va.conn)->l4.tcp;

		pr->fast_eligible += t->state == SG_CT_ST_TCP_ESTABLISHED &&
				(m->tcp_flags & (SG_TCP_SYN | SG_TCP_FIN | SG_TCP_RST)) == 0;
	}
	assert_same_entry(va.conn, vb.conn, pr->packets);
	if (ignore && va.reason != SG_DROP_CT_WRONG_PATH) {
		ck_assert_msg(va.conn == entry &&
						va.result == (dir == SG_CT_DIR_ORIG ? SG_CT_ESTABLISHED
										    : SG_CT_REPLY),
				"packet %lu: ignorable segment got %d reason %d", pr->packets,
				va.result, va.reason);
		ck_assert_msg(entry->deadline == deadline &&
						memcmp(&ct_body_const(entry)->l4.tcp, &before,
								sizeof(before)) == 0,
				"packet %lu: ignored segment changed the entry", pr->packets);
		pr->ignored++;
	}
	return va;
}

/* Remember which entry and direction side 'd' of 'cn' got. */
static void
note(struct conn *cn, int d, const struct sg_ct_verdict *v)
{
	if (v->conn == NULL)
		return;
	cn->entry = v->conn;
	cn->orig = v->dir == SG_CT_DIR_ORIG ? d : !d;
}

/* Options of a SYN: window scale 'ws' when offered, SACK permitted when offered. */
static unsigned int
syn_options(const struct end *e, uint8_t ws, uint8_t *opt)
{
	unsigned int n = 0;

	if (e->wscale) {
		opt[n++] = 1;
		opt[n++] = 3;
		opt[n++] = 3;
		opt[n++] = ws;
	}
	if (e->sack) {
		opt[n++] = 1;
		opt[n++] = 1;
		opt[n++] = 4;
		opt[n++] = 2;
	}
	return n;
}

static void
conn_open(struct pair *pr, struct conn *cn, unsigned int k)
{
	uint8_t opt[40];
	unsigned int n;
	struct sg_pkt_meta m;

	memset(cn, 0, sizeof(*cn));
	cn->addr[0] = ct_ip4(10, 1, (uint8_t)(k >> 8), (uint8_t)k);
	cn->addr[1] = ct_ip4(10, 2, 0, (uint8_t)rnd_below(4));
	cn->port[0] = (uint16_t)(1024 + rnd_below(60000));
	cn->port[1] = (uint16_t)(rnd_below(2) ? 80 : 443);
	cn->dp_port[0] = (uint16_t)(1 + k % 4);
	cn->dp_port[1] = 5;
	for (int d = 0; d < 2; d++) {
		cn->e[d].nxt = (uint32_t)rnd();
		cn->e[d].win = (uint16_t)(rnd_below(4) == 0 ? rnd_below(1024) : 1024 + rnd_below(64000));
		cn->e[d].wscale = rnd_below(2);
		cn->e[d].sack = rnd_below(2);
	}
	cn->open = true;
	if (rnd_below(5) == 0) {
		/* Picked up mid-stream: a plain ACK first. */
		struct sg_ct_verdict v;

		m = seg(cn, 0, SG_TCP_ACK, cn->e[0].nxt, cn->e[1].nxt, cn->e[0].win, 0, 0);
		v = send_both(pr, cn, 0, &m, NULL, 0);
		note(cn, 0, &v);
		return;
	}
	n = syn_options(&cn->e[0], (uint8_t)rnd_below(15), opt);
	m = seg(cn, 0, SG_TCP_SYN, cn->e[0].nxt, 0, cn->e[0].win, 0, n);
	{
		struct sg_ct_verdict v = send_both(pr, cn, 0, &m, opt, n);

		note(cn, 0, &v);
	}
	cn->e[0].nxt++;
	n = syn_options(&cn->e[1], (uint8_t)rnd_below(15), opt);
	m = seg(cn, 1, SG_TCP_SYN | SG_TCP_ACK, cn->e[1].nxt, cn->e[0].nxt, cn->e[1].win, 0, n);
	send_both(pr, cn, 1, &m, opt, n);
	cn->e[1].nxt++;
	m = seg(cn, 0, SG_TCP_ACK, cn->e[0].nxt, cn->e[1].nxt, cn->e[0].win, 0, 0);
	send_both(pr, cn, 0, &m, NULL, 0);
}

/* SACK blocks around what the peer sent: 1 to 3 blocks (NOP, NOP, kind 5). */
static unsigned int
sack_options(const struct end *peer, uint8_t *opt)
{
	unsigned int blocks = 1 + rnd_below(3), n = 0;

	opt[n++] = 1;
	opt[n++] = 1;
	opt[n++] = 5;
	opt[n++] = (uint8_t)(2 + 8 * blocks);
	for (unsigned int b = 0; b < blocks; b++) {
		uint32_t right = peer->nxt - rnd_below(3000) + (rnd_below(8) == 0 ? 100000 : 0);
		uint32_t left = right - 1 - rnd_below(2000);

		for (int i = 3; i >= 0; i--)
			opt[n++] = (uint8_t)(left >> (8 * i));
		for (int i = 3; i >= 0; i--)
			opt[n++] = (uint8_t)(right >> (8 * i));
	}
	return n;
}

/* One random segment of connection 'cn'. */
static void
conn_step(struct pair *pr, struct conn *cn)
{
	int d = (int)rnd_below(2);
	struct end *e = &cn->e[d], *peer = &cn->e[!d];
	uint32_t r = rnd_below(100);
	uint8_t opt[40];
	unsigned int opt_len = 0;
	uint8_t flags = SG_TCP_ACK;
	uint32_t seq = e->nxt, ack = peer->nxt;
	uint16_t payload = 0, win = e->win;
	struct sg_pkt_meta m;

	struct sg_ct_verdict v;

	if (r < 8 && e->has_last) {
		/* Retransmission of this side's last segment, unchanged. */
		v = send_both(pr, cn, d, &e->last, e->last_opt, e->last.tcp_hdr_len - 20u);
		note(cn, d, &v);
		return;
	}
	if (r >= 83 && r < 95 && cn->entry != NULL) {
		/* On a bound of the window check, or one off it, read from the entry. */
		const struct ct_tcp *t = &ct_body_const(cn->entry)->l4.tcp;
		int dir = d == cn->orig ? SG_CT_DIR_ORIG : SG_CT_DIR_REPLY, rdir = !dir;
		uint32_t maxack = RTE_MAX(t->td_maxwin[dir], 66000u);
		uint32_t off = rnd_below(3);

		payload = (uint16_t)(1 + rnd_below(100));
		switch (rnd_below(4)) {
		case 0: /* I: seq <= td_maxend */
			seq = t->td_maxend[dir] - 1 + off;
			break;
		case 1: /* II: end >= td_end - receiver's td_maxwin */
			seq = t->td_end[dir] - t->td_maxwin[rdir] - payload - 1 + off;
			break;
		case 2: /* III: ack <= receiver's td_end */
			ack = t->td_end[rdir] - 1 + off;
			break;
		default: /* IV: ack >= receiver's td_end - MAXACKWINDOW */
			ack = t->td_end[rdir] - maxack - 1 + off;
			break;
		}
		if (rnd_below(2))
			payload = 0;
	}
	if (r < 40)
		payload = (uint16_t)(1 + rnd_below(1460));
	else if (r < 45)
		payload = (uint16_t)(1 + rnd_below(200));
	if (r >= 45 && r < 50)
		ack = peer->nxt - rnd_below(70000); /* lagging, maybe below the window */
	else if (r >= 50 && r < 53)
		ack = peer->nxt + 1 + rnd_below(100000); /* acknowledges unseen data */
	else if (r >= 53 && r < 56)
		seq = (uint32_t)rnd(); /* anywhere */
	else if (r >= 56 && r < 58)
		seq = e->nxt + 70000 + rnd_below(1000000);
	else if (r >= 58 && r < 62)
		win = 0;
	else if (r >= 62 && r < 66)
		win = (uint16_t)rnd();
	else if (r >= 66 && r < 74)
		opt_len = sack_options(peer, opt);
	else if (r >= 74 && r < 76)
		opt_len = 12, memset(opt, 1, 12); /* NOPs only */
	else if (r == 76)
		flags = SG_TCP_ACK | SG_TCP_URG;
	else if (r == 77)
		flags = SG_TCP_ACK | SG_TCP_FIN;
	else if (r == 78)
		flags = rnd_below(2) ? SG_TCP_RST : SG_TCP_RST | SG_TCP_ACK;
	else if (r == 79)
		flags = SG_TCP_SYN;
	else if (r == 80)
		flags = SG_TCP_SYN | SG_TCP_ACK;
	else if (r == 81)
		flags = (uint8_t)rnd(); /* anything, invalid combinations included */
	else if (r == 82)
		flags = SG_TCP_ACK | SG_TCP_PSH | SG_TCP_ECE | SG_TCP_CWR;
	if (rnd_below(4) == 0)
		e->win = win = (uint16_t)(rnd_below(8) == 0 ? 0 : rnd());
	m = seg(cn, d, flags, seq, ack, win, payload, opt_len);
	v = send_both(pr, cn, d, &m, opt, opt_len);
	note(cn, d, &v);
	e->last = m;
	memcpy(e->last_opt, opt, opt_len);
	e->has_last = true;
	if (seq == e->nxt)
		e->nxt += payload + !!(flags & SG_TCP_FIN) + !!(flags & SG_TCP_SYN);
}

static void
run(bool liberal, uint64_t seed)
{
	struct pair pr = {.now = 1000, .liberal = liberal};
	struct conn *conns = calloc(N_CONNS, sizeof(*conns));
	struct sg_ct_stats sa, sb;

	ck_assert_ptr_nonnull(conns);
	rng_state = seed;
	pr.fast = ct_test_create(4096, liberal, true);
	pr.slow = ct_test_create(4096, liberal, true);
	ck_assert_ptr_nonnull(pr.fast);
	ck_assert_ptr_nonnull(pr.slow);
	pr.slow->tcp_slow_only = true;
	/* Short timeouts, so time jumps expire connections and retransmission limits matter. */
	for (struct sg_ct **t = &pr.fast; t <= &pr.slow; t++) {
		sg_ct_set_timeout(*t, SG_CT_TM_TCP_UNACK, 30);
		sg_ct_set_timeout(*t, SG_CT_TM_TCP_MAX_RETRANS, 20);
	}
	for (unsigned int k = 0; k < N_CONNS; k++)
		conn_open(&pr, &conns[k], k);
	for (unsigned int s = 0; s < STEPS * N_CONNS / 8; s++) {
		unsigned int k = rnd_below(N_CONNS);
		uint32_t t = rnd_below(1000);

		if (t < 2)
			pr.now += 10000 + rnd_below(200000); /* past some timeouts */
		else if (t < 200)
			pr.now += rnd_below(50);
		if (rnd_below(4000) == 0)
			conn_open(&pr, &conns[k], k); /* a new conversation on the slot */
		else
			conn_step(&pr, &conns[k]);
	}
	sg_ct_stats_get(pr.fast, &sa);
	sg_ct_stats_get(pr.slow, &sb);
	ck_assert_int_eq(sa.entries, sb.entries);
	for (int r = 0; r < SG_CT_RESULT_COUNT; r++)
		ck_assert_int_eq(sa.results[r], sb.results[r]);
	ck_assert_msg(memcmp(&sa, &sb, sizeof(sa)) == 0, "tracker counters differ");
	for (uint16_t port = 0; port < 10; port++)
		ck_assert_uint_eq(sg_ct_port_connections(pr.fast, port),
				sg_ct_port_connections(pr.slow, port));
	/* The comparison meant something: most packets took the fast path, some did not. */
	ck_assert_msg(pr.fast_eligible > pr.packets / 2, "%lu of %lu packets on the fast path",
			pr.fast_eligible, pr.packets);
	ck_assert_uint_gt(sa.results[SG_CT_INVALID], 100);
	ck_assert_uint_gt(sa.invalid[SG_DROP_CT_WRONG_PATH], 10);
	if (!liberal) {
		ck_assert_uint_gt(sa.invalid[SG_DROP_CT_TCP_WINDOW], 10);
		ck_assert_msg(pr.ignored > 10, "%lu packets ignored", pr.ignored);
	}
	sg_ct_free(pr.fast);
	sg_ct_free(pr.slow);
	free(conns);
}

START_TEST(test_strict)
{
	run(false, 1 + (uint64_t)_i);
}
END_TEST

START_TEST(test_liberal)
{
	run(true, 1000 + (uint64_t)_i);
}
END_TEST

static Suite *
ct_fast_suite(void)
{
	Suite *s = suite_create("ct_fast");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_strict, 0, 4);
	tcase_add_loop_test(tc, test_liberal, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ct_fast_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
