/* SPDX-License-Identifier: BSD-3-Clause */
/* Flow logs in the datapath, with EAL: the fw engine runs bursts through a worker's pipeline
 * (the test thread is worker 0, the writer thread runs beside it) on null ports.
 *
 * - A flood of refused packets into a ring far too small: every packet is still refused and
 *   counted, every event is either handed over or counted as lost, and the files account for
 *   all of them (REJECT lines plus SKIPDATA counts), exactly.
 * - The cost on the worker, reported (not asserted): cycles per packet of the pipeline with flow
 *   logs off and on, for established traffic, new connections and refused packets. Under
 *   valgrind --tool=callgrind --collect-atstart=no --toggle-collect=dp_worker_process each run
 *   is dumped on its own, so instructions per packet can be compared (docs/flowlogs.md). */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_private.h"
#include "dp_worker.h"
#include "sg_ct.h"
#include "sg_dp.h"
#include "sg_flowlog.h"
#include "sg_test_eal.h"

#ifdef SG_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name) ((void)(name))
#endif

static struct rte_mempool *pool;

static const char conf_text[] =
	"security_groups = (\n"
	"  { id = \"sg-a\"; inner_access_policy = \"drop\"; rules = (); },\n"
	"  { id = \"sg-b\"; inner_access_policy = \"drop\"; rules = (\n"
	"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\"; source_cidr = \"10.0.0.1\"; } ); }\n"
	");\n"
	"ports = (\n"
	"  { name = \"a\"; type = \"null\"; mac = \"52:54:00:00:00:01\"; ips = [\"10.0.0.1\"]; security_groups = [\"sg-a\"]; },\n"
	"  { name = \"b\"; type = \"null\"; mac = \"52:54:00:00:00:02\"; ips = [\"10.0.0.2\"]; security_groups = [\"sg-b\"]; }\n"
	");\n"
	"conntrack = { capacity = 1048576; tcp_be_liberal = true; };\n"
	"flow_logs = { enabled = %s; directory = \"%s\"; window = 1; ring_size = %u;\n"
	"  port_events_per_second = %u; };\n";

/* flow_logs.port_events_per_second of the next lab_open (0: no budget). */
static uint32_t lab_budget;

static const uint8_t mac_a[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
static const uint8_t mac_b[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x02};

/* Run the calling thread on CPU 'cpu' only; false when there is no such CPU. */
static bool
pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu >= sysconf(_SC_NPROCESSORS_ONLN))
		return false;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

struct lab {
	char dir[128];
	struct sg_ct *ct;
	struct sg_dp *dp;
	struct dp_worker *w;
	const struct dp_gen *gen;
	bool own_core;             /* The worker (this thread) does not share the writer's CPU. */
};

static void
lab_open(struct lab *l, bool flowlog, uint32_t ring)
{
	char text[sizeof(conf_text) + 256];
	struct sg_error err = {0};
	struct sg_ct_params cp;
	struct sg_conf *conf;
	struct sg_dp_params dp = {.engine = SG_DP_ENGINE_FW, .n_workers = 1, .burst = 32,
			.rx_desc = 256, .tx_desc = 256, .pool = pool};

	memset(l, 0, sizeof(*l));
	snprintf(l->dir, sizeof(l->dir), "/tmp/sgfw-flw-dp-%d-XXXXXX", (int)getpid());
	ck_assert_ptr_nonnull(mkdtemp(l->dir));
	snprintf(text, sizeof(text), conf_text, flowlog ? "true" : "false", l->dir, ring, lab_budget);
	conf = sg_conf_load_string(text, "dp.conf", &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	sg_ct_params_init(&cp);
	cp.capacity = conf->conntrack.capacity;
	cp.tcp_be_liberal = true;
	cp.closed_ring_size = flowlog ? ring : 0;
	l->ct = sg_ct_create(&cp);
	ck_assert_ptr_nonnull(l->ct);
	dp.ct = l->ct;
	/* As in sgfw: the writer thread inherits the control core (here CPU 0, where EAL put this
	 * thread); then this thread, the worker, moves to a core of its own when there is one. */
	pin_self(0);
	l->dp = sg_dp_create(&dp, conf, &err);
	ck_assert_msg(l->dp != NULL, "%s", err.msg);
	l->own_core = pin_self(1);
	l->w = l->dp->workers[0];
	l->gen = atomic_load(&l->dp->gen);
}

static void
remove_dir(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[512];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

/* Stop: the writer writes its open window; then the files can be read. */
static void
lab_stop(struct lab *l)
{
	sg_dp_free(l->dp);
	sg_ct_free(l->ct);
	l->dp = NULL;
}

/* An Ethernet/IPv4/TCP frame from a (0) to b (1) or back, in 'm'. */
static void
tcp_frame(struct rte_mbuf *m, int from, uint16_t sport, uint16_t dport, uint8_t flags,
		uint32_t seq, uint32_t ack, uint16_t payload)
{
	uint16_t len = (uint16_t)(14 + 20 + 20 + payload);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, len);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);
	uint8_t *tcp = p + 34;

	memset(p, 0, len);
	memcpy(p, from == 0 ? mac_b : mac_a, 6);
	memcpy(p + 6, from == 0 ? mac_a : mac_b, 6);
	p[12] = 0x08;
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(len - 14));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = 6;
	ip->src_addr = rte_cpu_to_be_32(from == 0 ? 0x0a000001 : 0x0a000002);
	ip->dst_addr = rte_cpu_to_be_32(from == 0 ? 0x0a000002 : 0x0a000001);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp[0] = (uint8_t)(sport >> 8);
	tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	seq = rte_cpu_to_be_32(seq);
	ack = rte_cpu_to_be_32(ack);
	memcpy(tcp + 4, &seq, 4);
	memcpy(tcp + 8, &ack, 4);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	tcp[14] = 0xff;
	tcp[15] = 0xff;
}

enum scenario {
	SC_ESTABLISHED,  /* data of tracked connections: no event */
	SC_NEW,          /* SYNs the policy accepts: a commit and a flags event each */
	SC_REFUSED,      /* SYNs the policy refuses: one event each */
	SC_COUNT,
};

static const char *const sc_names[SC_COUNT] = {"established", "new", "refused"};

#define N_CONNS 64

/* Times this thread was preempted so far. */
static long
preemptions(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nivcsw;
}

/*
 * Run 'bursts' bursts of 32 of a scenario; returns the cycles spent in the pipeline per packet,
 * over the bursts the scheduler did not interrupt (the development machine is shared with
 * other busy-polling switches; a preempted burst measures them, not the pipeline).
 */
static double
run(struct lab *l, enum scenario sc, unsigned int bursts, uint32_t *next_port)
{
	uint64_t cycles = 0, counted = 0;

	for (unsigned int b = 0; b < bursts; b++) {
		uint64_t t0;

		ck_assert_int_eq(rte_pktmbuf_alloc_bulk(pool, l->w->pkts, 32), 0);
		for (unsigned int i = 0; i < 32; i++) {
			uint32_t k = b * 32 + i;

			switch (sc) {
			case SC_ESTABLISHED:
				tcp_frame(l->w->pkts[i], 0, (uint16_t)(20000 + k % N_CONNS), 5432, 0x18,
						1001 + (k / N_CONNS) * 100, 5001, 100);
				break;
			case SC_NEW:
				tcp_frame(l->w->pkts[i], 0, (uint16_t)(1024 + (*next_port)++ % 60000), 5432,
						0x02, 7, 0, 0);
				break;
			default:
				tcp_frame(l->w->pkts[i], 0, (uint16_t)(1024 + (*next_port)++ % 60000), 22, 0x02,
						7, 0, 0);
			}
		}
		l->w->now_ms = rte_get_tsc_cycles() / l->w->tsc_per_ms;
		{
			long before = preemptions();
			uint64_t spent;

			t0 = rte_rdtsc_precise();
			dp_worker_process(l->w, l->gen, 0, 32);
			spent = rte_rdtsc_precise() - t0;
			if (preemptions() == before) {
				cycles += spent;
				counted++;
			}
		}
	}
	return counted != 0 ? (double)cycles / (counted * 32.0) : 0;
}

/* Handshakes of the connections the established scenario sends on. */
static void
establish(struct lab *l)
{
	for (uint32_t c = 0; c < N_CONNS; c++) {
		static const struct {
			int from;
			uint8_t flags;
			uint32_t seq, ack;
		} steps[3] = {{0, 0x02, 1000, 0}, {1, 0x12, 5000, 1001}, {0, 0x10, 1001, 5001}};

		for (int s = 0; s < 3; s++) {
			uint16_t a_port = (uint16_t)(20000 + c);

			ck_assert_int_eq(rte_pktmbuf_alloc_bulk(pool, l->w->pkts, 1), 0);
			tcp_frame(l->w->pkts[0], steps[s].from, steps[s].from == 0 ? a_port : 5432,
					steps[s].from == 0 ? 5432 : a_port, steps[s].flags, steps[s].seq,
					steps[s].ack, 0);
			l->w->now_ms = rte_get_tsc_cycles() / l->w->tsc_per_ms;
			dp_worker_process(l->w, l->gen, (uint16_t)steps[s].from, 1);
		}
	}
}

struct sums {
	uint64_t rejected;
	uint64_t skipped_a;          /* SKIPDATA of port a, of port b, and without a port */
	uint64_t skipped_b;
	uint64_t skipped_other;
	uint64_t accepted_egress;
};

static int
sum_cb(const struct sg_flowlog_record *r, void *arg)
{
	struct sums *s = arg;

	if (r->status == SG_FLOWLOG_SKIPDATA)
		*(strcmp(r->port, "a") == 0   ? &s->skipped_a :
		  strcmp(r->port, "b") == 0 ? &s->skipped_b :
					      &s->skipped_other) += r->packets;
	if (r->status != SG_FLOWLOG_OK)
		return 0;
	if (strcmp(r->port, "b") == 0 && r->dir == SG_DIR_INGRESS && r->action == SG_ACTION_DROP)
		s->rejected += r->packets;
	if (strcmp(r->port, "a") == 0 && r->dir == SG_DIR_EGRESS && r->action == SG_ACTION_ACCEPT &&
			r->dport == 22)
		s->accepted_egress += r->packets;
	return 0;
}

/* A flood of refused packets into a 64-event ring: nothing waits, everything is counted, as
 * lines or as the SKIPDATA lines of both ports concerned (each lost event is data of both). */
START_TEST(test_flood_is_counted)
{
	const unsigned int bursts = 400, total = bursts * 32;
	struct sg_dp_flowlog_stats fs;
	struct sg_dp_port_stats ps;
	struct sg_error err = {0};
	struct sums sums = {0};
	uint32_t next = 0;
	struct lab l;

	lab_open(&l, true, 64);
	run(&l, SC_REFUSED, bursts, &next);
	ck_assert_int_eq(sg_dp_port_stats(l.dp, "a", &ps), 0);
	ck_assert_uint_eq(ps.rx_packets, total);
	ck_assert_uint_eq(ps.drops[SG_DROP_ACL_INGRESS], total);
	ck_assert_int_eq(sg_dp_flowlog_stats(l.dp, &fs), 0);
	ck_assert_uint_eq(fs.events + fs.ring_lost, total);
	printf("flood of %u refused packets into a 64-event ring: %lu handed over, %lu lost\n",
			total, (unsigned long)fs.events, (unsigned long)fs.ring_lost);
	lab_stop(&l);
	ck_assert_int_eq(sg_flowlog_read(l.dir, sum_cb, &sums, NULL, &err), 0);
	ck_assert_uint_eq(sums.rejected + sums.skipped_b, total);
	ck_assert_uint_eq(sums.accepted_egress + sums.skipped_a, total);
	ck_assert_uint_eq(sums.skipped_a, fs.ring_lost);
	ck_assert_uint_eq(sums.skipped_other, 0);
	ck_assert_uint_eq(sums.accepted_egress, sums.rejected);
	remove_dir(l.dir);
}
END_TEST

/* Refused SYNs from 'from' (0: a, 1: b) to the other's port 22, 'n' of them in bursts of 32,
 * at one instant: a token bucket sees no time pass. */
static void
refused_at_once(struct lab *l, int from, unsigned int n, uint32_t *next_port)
{
	l->w->now_ms = 1000000;
	for (unsigned int done = 0; done < n; done += 32) {
		unsigned int m = RTE_MIN(32u, n - done);

		ck_assert_int_eq(rte_pktmbuf_alloc_bulk(pool, l->w->pkts, m), 0);
		for (unsigned int i = 0; i < m; i++)
			tcp_frame(l->w->pkts[i], from, (uint16_t)(1024 + (*next_port)++ % 60000), 22,
					0x02, 7, 0, 0);
		dp_worker_process(l->w, l->gen, (uint16_t)from, (uint16_t)m);
	}
}

struct port_sums {
	uint64_t rejected_from[2]; /* REJECT lines at the receiver's ingress, by sender a, b */
	uint64_t skipped[2];       /* SKIPDATA of a, b */
};

static int
port_sum_cb(const struct sg_flowlog_record *r, void *arg)
{
	struct port_sums *s = arg;
	int port = strcmp(r->port, "a") == 0 ? 0 : strcmp(r->port, "b") == 0 ? 1 : -1;

	if (r->status == SG_FLOWLOG_SKIPDATA && port >= 0)
		s->skipped[port] += r->packets;
	if (r->status == SG_FLOWLOG_OK && port >= 0 && r->dir == SG_DIR_INGRESS &&
			r->action == SG_ACTION_DROP)
		s->rejected_from[1 - port] += r->packets;
	return 0;
}

/* One port's flood of refused packets spends its own event budget, not the ring the other
 * ports share: a's excess is lost and counted (as a's and b's incomplete data), b's events
 * all arrive. */
START_TEST(test_port_budget)
{
	struct sg_dp_port_stats pa, pb;
	struct sg_error err = {0};
	struct port_sums sums;
	uint32_t next = 0;
	struct lab l;

	memset(&sums, 0, sizeof(sums));
	lab_budget = 1000; /* one worker: 1000 events a second, a second's worth at most */
	lab_open(&l, true, 65536);
	lab_budget = 0;
	refused_at_once(&l, 0, 3000, &next);
	refused_at_once(&l, 1, 100, &next);
	ck_assert_int_eq(sg_dp_port_stats(l.dp, "a", &pa), 0);
	ck_assert_int_eq(sg_dp_port_stats(l.dp, "b", &pb), 0);
	/* Refusals count on the sender's port. */
	ck_assert_uint_eq(pa.drops[SG_DROP_ACL_INGRESS], 3000);
	ck_assert_uint_eq(pb.drops[SG_DROP_ACL_INGRESS], 100);
	ck_assert_uint_eq(pa.flowlog_lost, 2000);
	ck_assert_uint_eq(pb.flowlog_lost, 2000);
	lab_stop(&l);
	ck_assert_int_eq(sg_flowlog_read(l.dir, port_sum_cb, &sums, NULL, &err), 0);
	ck_assert_uint_eq(sums.rejected_from[0], 1000);
	ck_assert_uint_eq(sums.rejected_from[1], 100);
	ck_assert_uint_eq(sums.skipped[0], 2000);
	ck_assert_uint_eq(sums.skipped[1], 2000);
	remove_dir(l.dir);
}
END_TEST

/*
 * The cost on the worker: cycles per packet, flow logs off and on. Reported, not asserted. Runs
 * alternate off and on and the least of each is kept, so load from other processes (the
 * development machine is shared) weighs less.
 */
START_TEST(test_cost_report)
{
	const unsigned int bursts = getenv("SG_BENCH_BURSTS") != NULL ?
			(unsigned int)atoi(getenv("SG_BENCH_BURSTS")) : 2000;
	const unsigned int rounds = getenv("SG_BENCH_ROUNDS") != NULL ?
			(unsigned int)atoi(getenv("SG_BENCH_ROUNDS")) : 3;
	double cpp[2][SC_COUNT];
	bool own_core = false;
	struct sg_dp_flowlog_stats fs = {0};

	for (int on = 0; on < 2; on++)
		for (int sc = 0; sc < SC_COUNT; sc++)
			cpp[on][sc] = 1e300;
	for (unsigned int round = 0; round < rounds; round++) {
		for (int on = 0; on < 2; on++) {
			struct sg_dp_port_stats pa, pb;
			uint32_t next = 0;
			struct lab l;

			lab_open(&l, on != 0, 8192);
			own_core = l.own_core;
			establish(&l);
			for (int sc = 0; sc < SC_COUNT; sc++) {
				double cycles;
				char name[64];

				run(&l, (enum scenario)sc, 50, &next); /* warm up */
				/* Under callgrind (--toggle-collect=dp_worker_process) one dump per run. */
				snprintf(name, sizeof(name), "%s-%s", on ? "on" : "off", sc_names[sc]);
				CALLGRIND_ZERO_STATS;
				cycles = run(&l, (enum scenario)sc, bursts, &next);
				CALLGRIND_DUMP_STATS_AT(name);
				if (cycles > 0)
					cpp[on][sc] = SG_MIN(cpp[on][sc], cycles);
			}
			if (on)
				sg_dp_flowlog_stats(l.dp, &fs);
			sg_dp_port_stats(l.dp, "a", &pa);
			sg_dp_port_stats(l.dp, "b", &pb);
			/* Every established and new packet reached b; every refused one was dropped. */
			ck_assert_uint_eq(pa.drops[SG_DROP_ACL_INGRESS], (bursts + 50) * 32u);
			ck_assert_uint_eq(pb.tx_packets, 2u * (bursts + 50) * 32u + 2u * N_CONNS);
			lab_stop(&l);
			remove_dir(l.dir);
		}
	}
	printf("cycles per packet in the worker's pipeline (least of %u runs of %u bursts of 32, "
	       "TSC %lu Hz, %s):\n",
			rounds, bursts, (unsigned long)rte_get_tsc_hz(),
			own_core ? "worker and writer on different CPUs" :
				   "worker and writer share the only CPU");
	printf("  %-12s %10s %10s %8s\n", "traffic", "off", "on", "cost");
	for (int sc = 0; sc < SC_COUNT; sc++)
		printf("  %-12s %10.1f %10.1f %+7.1f%%\n", sc_names[sc], cpp[0][sc], cpp[1][sc],
				100.0 * (cpp[1][sc] - cpp[0][sc]) / cpp[0][sc]);
	/* The last run's writer, before its final window: what the rings and walks cost it. */
	printf("writer (last run, until stopped): %lu events (%lu lost), %lu connection reports, "
	       "%lu windows, %.1f ms CPU, %.0f ns per event or report\n",
			(unsigned long)fs.writer.events, (unsigned long)fs.ring_lost,
			(unsigned long)(fs.writer.conns_live + fs.writer.conns_closed),
			(unsigned long)fs.writer.windows, fs.writer_cpu_ns / 1e6,
			(double)fs.writer_cpu_ns /
				(double)SG_MAX(1u, fs.writer.events + fs.writer.conns_live +
							fs.writer.conns_closed));
}
END_TEST

int
main(int argc, char **argv)
{
	Suite *s = suite_create("dp_flowlog");
	TCase *tc = tcase_create("flowlog");
	SRunner *sr;
	int failed;

	(void)argc;
	(void)argv;
	if (sg_test_eal_init("check_dp_flowlog", 512, 0, NULL) != 0)
		return SG_TEST_SKIP;
	pool = rte_pktmbuf_pool_create("flw_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL) {
		fprintf(stderr, "check_dp_flowlog: no mbuf pool\n");
		return 1;
	}
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_flood_is_counted);
	tcase_add_test(tc, test_port_budget);
	if (getenv("SG_BENCH_ONLY_FLOOD") == NULL)
		tcase_add_test(tc, test_cost_report);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_mempool_free(pool);
	sg_test_eal_cleanup();
	return failed != 0;
}
