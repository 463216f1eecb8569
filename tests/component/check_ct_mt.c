/* SPDX-License-Identifier: BSD-3-Clause */
/* Conntrack on two worker threads at once, as vhost-user queues without RSS deliver it: the
 * two directions of every TCP connection on different workers, racing first packets of the
 * same flow from both sides, and short-lived flows expiring and being reclaimed (QSBR) while
 * others are inserted. Checks that every connection ends in the right state and that no
 * entry is lost or freed twice. EAL with pthreads registered as non-EAL threads. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "ct_private.h"
#include "ct_test.h"
#include "sg_test_eal.h"

#define N_WORKERS 2
#define N_TCP 20000
#define N_RACE 4800 /* A multiple of the 16-flow race batches. */
#define RACE_PKTS 3
#define N_SHORT 20000
#define TCP_STEPS 11

static struct sg_ct *ct;
static struct rte_rcu_qsbr *qsbr;
static uint64_t now_ms = 1000;      /* Shared clock, advanced by worker 0. */
static uint8_t tcp_step[N_TCP];     /* Next step of each TCP connection. */
static unsigned int running;
static unsigned int failures;

static const struct sg_ip server = { SG_AF_INET, { 192, 168, 1, 1 } };

/* Who sends each step (0 client, 1 server), its flags, seq, ack, payload and expectations. */
static const struct {
	uint8_t actor;
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t len;
	uint8_t result;
	uint8_t state;
} script[TCP_STEPS] = {
	{ 0, SG_TCP_SYN, 1000, 0, 0, SG_CT_NEW, SG_CT_ST_TCP_SYN_SENT },
	{ 1, SG_TCP_SYN | SG_TCP_ACK, 5000, 1001, 0, SG_CT_REPLY, SG_CT_ST_TCP_SYN_RECV },
	{ 0, SG_TCP_ACK, 1001, 5001, 0, SG_CT_ESTABLISHED, SG_CT_ST_TCP_ESTABLISHED },
	{ 0, SG_TCP_ACK | SG_TCP_PSH, 1001, 5001, 100, SG_CT_ESTABLISHED, SG_CT_ST_TCP_ESTABLISHED },
	{ 1, SG_TCP_ACK, 5001, 1101, 0, SG_CT_REPLY, SG_CT_ST_TCP_ESTABLISHED },
	{ 1, SG_TCP_ACK | SG_TCP_PSH, 5001, 1101, 50, SG_CT_REPLY, SG_CT_ST_TCP_ESTABLISHED },
	{ 0, SG_TCP_ACK, 1101, 5051, 0, SG_CT_ESTABLISHED, SG_CT_ST_TCP_ESTABLISHED },
	{ 0, SG_TCP_FIN | SG_TCP_ACK, 1101, 5051, 0, SG_CT_ESTABLISHED, SG_CT_ST_TCP_FIN_WAIT },
	{ 1, SG_TCP_ACK, 5051, 1102, 0, SG_CT_REPLY, SG_CT_ST_TCP_CLOSE_WAIT },
	{ 1, SG_TCP_FIN | SG_TCP_ACK, 5051, 1102, 0, SG_CT_REPLY, SG_CT_ST_TCP_LAST_ACK },
	{ 0, SG_TCP_ACK, 1102, 5052, 0, SG_CT_ESTABLISHED, SG_CT_ST_TCP_TIME_WAIT },
};

static struct sg_ip
client(uint32_t i)
{
	return ct_ip4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
}

static void
mt_fail(const char *what, uint32_t i, int step, int got)
{
	if (__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED) < 10)
		fprintf(stderr, "%s: connection %u step %d got %d\n", what, i, step, got);
}

/* Run the next step of TCP connection 'i' if it is 'worker''s to send. */
static bool
tcp_advance(unsigned int worker, uint32_t i, uint64_t now)
{
	uint8_t step = __atomic_load_n(&tcp_step[i], __ATOMIC_ACQUIRE);
	struct sg_pkt_meta m;
	struct sg_ct_verdict v;

	if (step >= TCP_STEPS)
		return false;
	/* The client side of connection i runs on worker i % 2, the server side on the other. */
	if ((script[step].actor ^ (i & 1)) != worker)
		return false;
	if (script[step].actor == 0)
		m = ct_tcp(client(i), (uint16_t)(1024 + i % 50000), server, 80, script[step].flags,
				script[step].seq, script[step].ack, 65535, script[step].len);
	else
		m = ct_tcp(server, 80, client(i), (uint16_t)(1024 + i % 50000), script[step].flags,
				script[step].seq, script[step].ack, 65535, script[step].len);
	v = ct_send_w(ct, worker, &m, NULL, now, true);
	if (v.result != script[step].result)
		mt_fail("tcp result", i, step, v.result);
	else if (v.conn == NULL || sg_ct_conn_state(v.conn) != script[step].state)
		mt_fail("tcp state", i, step, v.conn == NULL ? -1 : (int)sg_ct_conn_state(v.conn));
	__atomic_store_n(&tcp_step[i], step + 1, __ATOMIC_RELEASE);
	return true;
}

static struct sg_pkt_meta
race_meta(unsigned int worker, uint32_t j)
{
	struct sg_ip a = ct_ip4(10, 200, (uint8_t)(j >> 8), (uint8_t)j);
	struct sg_ip b = ct_ip4(10, 201, (uint8_t)(j >> 8), (uint8_t)j);

	return worker == 0 ? ct_meta(a, b, IPPROTO_SCTP, 0, 0) : ct_meta(b, a, IPPROTO_SCTP, 0, 0);
}

/* Later packets of the racing flows, from both sides without ordering. */
static void
race_packet(unsigned int worker, uint32_t j, uint64_t now)
{
	struct sg_pkt_meta m = race_meta(worker, j);
	struct sg_ct_verdict v = ct_send_w(ct, worker, &m, NULL, now, true);

	if (v.conn == NULL)
		mt_fail("race", j, (int)worker, v.result);
}

static unsigned int barrier_count, barrier_phase;

static void
barrier(void)
{
	unsigned int phase = __atomic_load_n(&barrier_phase, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&barrier_count, 1, __ATOMIC_ACQ_REL) == N_WORKERS) {
		__atomic_store_n(&barrier_count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&barrier_phase, phase + 1, __ATOMIC_RELEASE);
	} else {
		while (__atomic_load_n(&barrier_phase, __ATOMIC_ACQUIRE) == phase)
			rte_pause();
	}
}

/* Both workers look up the first packets of the same flows from opposite sides, see NEW, and
 * only then commit: one commit per flow creates the entry, the other finds it. */
static void
race_first_packets(unsigned int worker, uint64_t now)
{
	for (uint32_t base = 0; base < N_RACE; base += 16) {
		struct sg_pkt_meta m[16];
		struct sg_ct_verdict v[16];

		for (int k = 0; k < 16; k++)
			m[k] = race_meta(worker, base + (uint32_t)k);
		sg_ct_process_burst(ct, worker, NULL, m, NULL, v, 16, now);
		barrier();
		for (int k = 0; k < 16; k++) {
			int rc;

			if (v[k].result != SG_CT_NEW) {
				mt_fail("race lookup", base + (uint32_t)k, (int)worker, v[k].result);
				continue;
			}
			rc = sg_ct_commit(ct, worker, NULL, &m[k], NULL, now, &v[k]);
			if ((rc != 0 && rc != -EEXIST) || v[k].conn == NULL)
				mt_fail("race commit", base + (uint32_t)k, (int)worker, rc);
		}
		barrier();
	}
}

static void
short_flow(unsigned int worker, uint32_t k, uint64_t now)
{
	struct sg_ip a = ct_ip4(10, (uint8_t)(100 + worker), (uint8_t)(k >> 8), (uint8_t)k);
	struct sg_pkt_meta m = ct_meta(a, server, IPPROTO_UDP, (uint16_t)(k >> 16), 53);

	if (ct_send_w(ct, worker, &m, NULL, now, true).conn == NULL)
		mt_fail("short", k, (int)worker, -1);
}

static void *
worker_main(void *arg)
{
	unsigned int w = (unsigned int)(uintptr_t)arg;
	uint32_t race_next = 0, short_next = 0;
	bool busy = true;
	unsigned int loops = 0;

	rte_thread_register();
	rte_rcu_qsbr_thread_register(qsbr, w);
	rte_rcu_qsbr_thread_online(qsbr, w);
	__atomic_fetch_add(&running, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&running, __ATOMIC_RELAXED) < N_WORKERS)
		rte_pause();
	race_first_packets(w, __atomic_load_n(&now_ms, __ATOMIC_RELAXED));
	while (busy) {
		uint64_t now = w == 0 ? __atomic_add_fetch(&now_ms, 20, __ATOMIC_RELAXED)
				      : __atomic_load_n(&now_ms, __ATOMIC_RELAXED);

		busy = false;
		for (uint32_t i = 0; i < N_TCP; i++) {
			if (__atomic_load_n(&tcp_step[i], __ATOMIC_ACQUIRE) < TCP_STEPS)
				busy = true;
			tcp_advance(w, i, now);
		}
		for (int k = 0; k < 64 && race_next < N_RACE * (RACE_PKTS - 1); k++, race_next++)
			race_packet(w, race_next % N_RACE, now);
		for (int k = 0; k < 256 && short_next < N_SHORT; k++)
			short_flow(w, short_next++, now);
		if (race_next < N_RACE * (RACE_PKTS - 1) || short_next < N_SHORT)
			busy = true;
		sg_ct_expire(ct, w, 256, now);
		rte_rcu_qsbr_quiescent(qsbr, w);
		/* A step that never comes means a lost update: report it, do not hang. */
		if (++loops > 100000) {
			mt_fail("stuck", 0, 0, (int)w);
			break;
		}
	}
	rte_rcu_qsbr_thread_offline(qsbr, w);
	rte_rcu_qsbr_thread_unregister(qsbr, w);
	rte_thread_unregister();
	return NULL;
}

static int
count_race(const struct sg_ct_conn_info *i, void *arg)
{
	uint64_t *sum = arg;

	if (i->tuple.proto == IPPROTO_SCTP) {
		sum[0]++;
		sum[1] += i->packets[0] + i->packets[1];
	}
	return 0;
}

/* Each free entry exactly once on its pool's free list or in a worker's cache, and every
 * allocated one freed. */
static void
check_pool(struct ct_pool *pool, bool v6)
{
	uint8_t *seen = calloc(pool->next_fresh, 1);
	uint32_t n = 0;

	ck_assert_ptr_nonnull(seen);
	for (uint32_t idx = pool->free_head; idx != 0;) {
		uint32_t id = v6 ? idx | CT_ID_V6 : idx;
		struct sg_conn *c = ct_conn_of(ct, id);

		ck_assert_uint_lt(idx, pool->next_fresh);
		ck_assert_msg(!seen[idx], "entry %u freed twice", idx);
		seen[idx] = 1;
		n++;
		idx = v6 ? ((struct ct_conn6 *)c)->body.wheel_next
			 : ((struct ct_conn4 *)c)->body.wheel_next;
	}
	for (unsigned int w = 0; w < ct->n_workers; w++) {
		const struct ct_id_cache *cache = &ct->workers[w].free_ids[v6];

		for (uint32_t i = 0; i < cache->n; i++) {
			uint32_t idx = CT_ID_INDEX(cache->ids[i]);

			ck_assert_uint_eq((cache->ids[i] & CT_ID_V6) != 0, v6);
			ck_assert_uint_lt(idx, pool->next_fresh);
			ck_assert_msg(!seen[idx], "entry %u freed twice", idx);
			ck_assert_uint_eq(ct_conn_of(ct, cache->ids[i])->flags, 0);
			seen[idx] = 1;
			n++;
		}
	}
	ck_assert_uint_eq(n, pool->next_fresh - 1);
	free(seen);
}

START_TEST(test_two_workers)
{
	struct sg_ct_params p;
	pthread_t th[N_WORKERS];
	struct sg_ct_stats st;
	uint64_t counts[SG_CT_ST_COUNT], race[2] = { 0, 0 };
	size_t sz = rte_rcu_qsbr_get_memsize(N_WORKERS);

	qsbr = rte_zmalloc("ct_qsbr", sz, RTE_CACHE_LINE_SIZE);
	ck_assert_ptr_nonnull(qsbr);
	ck_assert_int_eq(rte_rcu_qsbr_init(qsbr, N_WORKERS), 0);
	sg_ct_params_init(&p);
	p.capacity = 100000;
	p.n_workers = N_WORKERS;
	p.qsbr = qsbr;
	p.timeouts[SG_CT_TM_UDP] = 1;
	ct = sg_ct_create(&p);
	ck_assert_ptr_nonnull(ct);

	for (uintptr_t w = 0; w < N_WORKERS; w++)
		ck_assert_int_eq(pthread_create(&th[w], NULL, worker_main, (void *)w), 0);
	for (int w = 0; w < N_WORKERS; w++)
		pthread_join(th[w], NULL);
	ck_assert_uint_eq(failures, 0);

	/* Every TCP connection closed properly; each racing flow has exactly one entry that
	 * counted every packet of both sides. */
	sg_ct_count_by_state(ct, now_ms, counts);
	ck_assert_uint_eq(counts[SG_CT_ST_TCP_TIME_WAIT], N_TCP);
	sg_ct_walk(ct, NULL, now_ms, count_race, race);
	ck_assert_uint_eq(race[0], N_RACE);
	ck_assert_uint_eq(race[1], (uint64_t)N_RACE * RACE_PKTS * N_WORKERS);
	sg_ct_stats_get(ct, &st);
	ck_assert_uint_gt(st.expired, 0);
	ck_assert_uint_eq(st.insert_races, N_RACE);
	printf("two workers: %" PRIu64 " inserts, %" PRIu64 " races, %" PRIu64
			" expired while running\n", st.inserts, st.insert_races, st.expired);

	/* Age everything out (the workers are gone, so their ids are free) and reclaim. */
	for (int round = 0; round < 4; round++)
		for (unsigned int w = 0; w < N_WORKERS; w++)
			while (sg_ct_expire(ct, w, 100000, now_ms + 10000000) > 0)
				;
	sg_ct_stats_get(ct, &st);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.inserts, st.expired + st.early_drops);
	ck_assert_uint_eq(st.inserts, N_TCP + N_RACE + N_SHORT * N_WORKERS);
	check_pool(&ct->pool4, false);
	check_pool(&ct->pool6, true);
	sg_ct_free(ct);
	rte_free(qsbr);
}
END_TEST

int
main(int argc, char **argv)
{
	SRunner *sr;
	Suite *s;
	TCase *tc;
	int failed;

	(void)argc;
	if (sg_test_eal_init("check_ct_mt", 256, 0, NULL) != 0)
		return SG_TEST_SKIP;
	(void)argv;
	s = suite_create("ct_mt");
	tc = tcase_create("mt");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_two_workers);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sg_test_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
