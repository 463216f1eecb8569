/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfw-bench: the benchmark harness, shaped like dpdk-testpmd. It runs sgfw's own datapath
 * (lib/dp: the fw, sg and io engines) either in-process on generated traffic, or polling ports
 * (pcap replayed in a loop, vhost-user, ...), and reports Mpps per core, cycles per packet by
 * stage, connection rates, connections held and their memory, rule compile time and memory, and
 * the machine, as a table and as JSON. See docs/BENCHMARKS.md. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_acl.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_version.h>

#include "bench_run.h"
#include "sg_acl.h"
#include "sg_build_config.h"
#include "sg_conf.h"
#include "sg_json.h"

static struct gen_shared *running_gen;
static atomic_bool stop_ports;

static void
on_signal(int sig)
{
	(void)sig;
	if (running_gen != NULL)
		atomic_store(&running_gen->quit, true);
	atomic_store(&stop_ports, true);
}

static void
usage(FILE *out)
{
	fputs("usage: sgfw-bench [OPTIONS] [-- EAL ARGS]\n"
	      "  --mode gen|ports|write|rate  gen: in-process generator (default); ports: poll the\n"
	      "                          ports of --config, or pcap ports replaying --pcap-dir; write:\n"
	      "                          write the generated traffic as pcaps and a config into --out,\n"
	      "                          then exit; rate: a paced generator on one core and the worker\n"
	      "                          on another, on ring ports: the highest rate without loss\n"
	      "                          (binary search), then latency at 10/50/90 % of it\n"
	      "  --engine fw|sg|io       datapath engine (default fw)\n"
	      "  --workers N             worker cores (default 1)\n"
	      "  --duration S            seconds measured (default 5; gen: established phase, cps\n"
	      "                          phase half of it)\n"
	      "  --warmup S              ports mode: seconds before measuring (default 1)\n"
	      "  --flows N               concurrent flows (default 1000)\n"
	      "  --size B|imix           frame size in bytes, without FCS (default 64); imix (rate\n"
	      "                          mode): 7:4:1 of 60/566/1514 bytes (64/570/1518 with FCS)\n"
	      "  --proto tcp|udp|icmp|mix   (default tcp)\n"
	      "  --ipv6 F                share of flows over IPv6 (default 0)\n"
	      "  --new F                 share of packets in new-connection lifecycles (default 0)\n"
	      "  --deny F                share of flows the policy denies (default 0)\n"
	      "  --rules N               custom rules per VM port (default 1000; at least 2)\n"
	      "  --vms N                 VM ports (default 1; 10 with --rules 1000: 10,000 rules)\n"
	      "  --addresses N           addresses per VM port, 1..254 (default 1); flows use them\n"
	      "                          in turn\n"
	      "  --prefix                each VM port has one address and an allowed prefix, a /24\n"
	      "                          and a /120, whose 254 addresses the flows use in turn\n"
	      "  --subnets N             N more subnets in the config (0..4000, default 0), /24s\n"
	      "                          and /64s no flow uses: what a subnet count costs\n"
	      "  --sleep-max-us N        rate: the worker sleeps when idle, up to N us\n"
	      "                          (dataplane.sleep_max_us, 0..10000, default 0)\n"
	      "  --burst N               packets per burst (default 32)\n"
	      "  --capacity N            connection table size (default sized from the flows)\n"
	      "  --cps                   gen: also measure connection lifecycles per second;\n"
	      "                          rate with --external: measure them end to end through\n"
	      "                          the other process for --duration seconds, no search\n"
	      "  --overlay               gen, rate: every other flow's client is a port of\n"
	      "                          a second host: VXLAN frames on the uplink both ways,\n"
	      "                          a sample checked; fw or sg engine, at most 1M flows;\n"
	      "                          fails unless every packet is accounted for\n"
	      "  --stage-cycles          count cycles per pipeline stage (default on in gen mode;\n"
	      "                          rate mode: the worker's, over all trials)\n"
	      "  --no-stage-cycles\n"
	      "  --progress / --no-progress   a progress line on stderr (default: when a terminal)\n"
	      "  --json FILE             write the results as JSON\n"
	      "  --out DIR               write mode: output directory\n"
	      "  --pcap-dir DIR          ports mode: DIR/vm0.pcap and DIR/up0.pcap (from --mode write)\n"
	      "  --config FILE           ports mode: an sgfw config whose ports to run\n"
	      "  --label TEXT            carried into the JSON\n"
	      "  --trial S               rate: seconds per trial (default 10)\n"
	      "  --resolution F          rate: the search stops when its interval is below F of its\n"
	      "                          upper end (default 0.01)\n"
	      "  --rate PPS              rate: one trial at PPS packets/s (K, M suffixes), no search\n"
	      "  --loss-tolerance F      rate: a trial passes losing at most F of its packets\n"
	      "                          (default 0, RFC 2544)\n"
	      "  --external DIR          rate: memif servers DIR/up0.sock, DIR/vm0.sock... instead of\n"
	      "                          ring ports and a worker: another process (dpdk-testpmd,\n"
	      "                          sgfw, OVS) forwards between them; --engine says what it is\n"
	      "                          expected to forward (io: all; fw, sg: not the denied flows)\n"
	      "                          (write mode: --out also gets sgfw-memif.conf for them)\n"
	      "  --external-queues N     queues per memif port (default 1): as many as the other\n"
	      "                          side transmits on (OVS-DPDK: 2, its PMD's and the main\n"
	      "                          thread's); memif refuses more rings than queues\n"
	      "  --seed N                generator seed (default 1)\n"
	      "  --hash-seed N           the connection table's hash secret from N (default: random,\n"
	      "                          as sgfw runs)\n"
	      "  --collide N             gen: established flows built so that every tuple lands in\n"
	      "                          one bucket of a table whose secret comes from N (a key set\n"
	      "                          an attacker who knew the secret would send); tcp, IPv4\n"
	      "  --classifier acl|linear rte_acl contexts (default), or every list scanned linearly as\n"
	      "                          a changed list is until its context is built\n",
			out);
}

static int
parse_double(const char *name, const char *text, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(text, &end);

	if (*text == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "error: %s \"%s\" must be a number in %g..%g\n", name, text, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_u32(const char *name, const char *text, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long long v;
	double mult = 1;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (*end == 'K' || *end == 'k')
		mult = 1e3, end++;
	else if (*end == 'M' || *end == 'm')
		mult = 1e6, end++;
	if (*text == '\0' || *end != '\0' || errno != 0 || (double)v * mult < lo ||
			(double)v * mult > hi) {
		fprintf(stderr, "error: %s \"%s\" must be a whole number in %u..%u\n", name, text, lo,
				hi);
		return -1;
	}
	*out = (uint32_t)((double)v * mult);
	return 0;
}

enum {
	OPT_MODE = 256,
	OPT_ENGINE,
	OPT_WORKERS,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_FLOWS,
	OPT_SIZE,
	OPT_PROTO,
	OPT_IPV6,
	OPT_NEW,
	OPT_DENY,
	OPT_RULES,
	OPT_VMS,
	OPT_ADDRESSES,
	OPT_PREFIX,
	OPT_SUBNETS,
	OPT_SLEEP_MAX_US,
	OPT_BURST,
	OPT_CAPACITY,
	OPT_CPS,
	OPT_OVERLAY,
	OPT_STAGES,
	OPT_NO_STAGES,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_JSON,
	OPT_OUT,
	OPT_PCAP_DIR,
	OPT_CONFIG,
	OPT_LABEL,
	OPT_SEED,
	OPT_HASH_SEED,
	OPT_COLLIDE,
	OPT_CLASSIFIER,
	OPT_TRIAL,
	OPT_RESOLUTION,
	OPT_RATE,
	OPT_LOSS_TOLERANCE,
	OPT_EXTERNAL,
	OPT_EXTERNAL_QUEUES,
};

static int
parse_options(int argc, char **argv, struct bench_opts *o)
{
	static const struct option options[] = {
		{"mode", required_argument, NULL, OPT_MODE},
		{"engine", required_argument, NULL, OPT_ENGINE},
		{"workers", required_argument, NULL, OPT_WORKERS},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"warmup", required_argument, NULL, OPT_WARMUP},
		{"flows", required_argument, NULL, OPT_FLOWS},
		{"size", required_argument, NULL, OPT_SIZE},
		{"proto", required_argument, NULL, OPT_PROTO},
		{"ipv6", required_argument, NULL, OPT_IPV6},
		{"new", required_argument, NULL, OPT_NEW},
		{"deny", required_argument, NULL, OPT_DENY},
		{"rules", required_argument, NULL, OPT_RULES},
		{"vms", required_argument, NULL, OPT_VMS},
		{"addresses", required_argument, NULL, OPT_ADDRESSES},
		{"prefix", no_argument, NULL, OPT_PREFIX},
		{"subnets", required_argument, NULL, OPT_SUBNETS},
		{"sleep-max-us", required_argument, NULL, OPT_SLEEP_MAX_US},
		{"burst", required_argument, NULL, OPT_BURST},
		{"capacity", required_argument, NULL, OPT_CAPACITY},
		{"cps", no_argument, NULL, OPT_CPS},
		{"overlay", no_argument, NULL, OPT_OVERLAY},
		{"stage-cycles", no_argument, NULL, OPT_STAGES},
		{"no-stage-cycles", no_argument, NULL, OPT_NO_STAGES},
		{"progress", no_argument, NULL, OPT_PROGRESS},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"json", required_argument, NULL, OPT_JSON},
		{"out", required_argument, NULL, OPT_OUT},
		{"pcap-dir", required_argument, NULL, OPT_PCAP_DIR},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"label", required_argument, NULL, OPT_LABEL},
		{"seed", required_argument, NULL, OPT_SEED},
		{"hash-seed", required_argument, NULL, OPT_HASH_SEED},
		{"collide", required_argument, NULL, OPT_COLLIDE},
		{"classifier", required_argument, NULL, OPT_CLASSIFIER},
		{"trial", required_argument, NULL, OPT_TRIAL},
		{"resolution", required_argument, NULL, OPT_RESOLUTION},
		{"rate", required_argument, NULL, OPT_RATE},
		{"loss-tolerance", required_argument, NULL, OPT_LOSS_TOLERANCE},
		{"external", required_argument, NULL, OPT_EXTERNAL},
		{"external-queues", required_argument, NULL, OPT_EXTERNAL_QUEUES},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt, stages = -1, progress = -1;
	uint32_t u;

	*o = (struct bench_opts){
		.mode = BENCH_MODE_GEN,
		.engine = SG_DP_ENGINE_FW,
		.workers = 1,
		.duration = 5,
		.warmup = 1,
		.flows = 1000,
		.size = 64,
		.proto = BENCH_PROTO_TCP,
		.rules = 1000,
		.vms = 1,
		.addresses = 1,
		.burst = 32,
		.seed = 1,
		.trial = 10,
		.resolution = 0.01,
		.external_queues = 1,
	};
	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		int rc = 0;

		switch (opt) {
		case OPT_MODE:
			if (strcmp(optarg, "gen") == 0)
				o->mode = BENCH_MODE_GEN;
			else if (strcmp(optarg, "ports") == 0)
				o->mode = BENCH_MODE_PORTS;
			else if (strcmp(optarg, "write") == 0)
				o->mode = BENCH_MODE_WRITE;
			else if (strcmp(optarg, "rate") == 0)
				o->mode = BENCH_MODE_RATE;
			else
				rc = -1, fprintf(stderr, "error: --mode must be gen, ports, write "
							 "or rate\n");
			break;
		case OPT_ENGINE:
			if (sg_dp_engine_parse(optarg, &o->engine) < 0)
				rc = -1, fprintf(stderr, "error: --engine must be fw, sg or io\n");
			break;
		case OPT_WORKERS:
			rc = parse_u32("--workers", optarg, 1, SG_MAX_WORKERS, &u);
			o->workers = (uint16_t)u;
			break;
		case OPT_DURATION:
			rc = parse_double("--duration", optarg, 0.01, 86400, &o->duration);
			break;
		case OPT_WARMUP:
			rc = parse_double("--warmup", optarg, 0, 3600, &o->warmup);
			break;
		case OPT_FLOWS:
			rc = parse_u32("--flows", optarg, 1, 50000000, &o->flows);
			break;
		case OPT_SIZE:
			o->imix = strcmp(optarg, "imix") == 0;
			if (o->imix)
				o->size = 1514; /* the largest: what the mbufs must hold */
			else
				rc = parse_u32("--size", optarg, 60, 1514, &o->size);
			break;
		case OPT_PROTO:
			if (strcmp(optarg, "tcp") == 0)
				o->proto = BENCH_PROTO_TCP;
			else if (strcmp(optarg, "udp") == 0)
				o->proto = BENCH_PROTO_UDP;
			else if (strcmp(optarg, "icmp") == 0)
				o->proto = BENCH_PROTO_ICMP;
			else if (strcmp(optarg, "mix") == 0)
				o->proto = BENCH_PROTO_MIX;
			else
				rc = -1, fprintf(stderr, "error: --proto must be tcp, udp, icmp or mix\n");
			break;
		case OPT_IPV6:
			rc = parse_double("--ipv6", optarg, 0, 1, &o->ipv6_share);
			break;
		case OPT_NEW:
			rc = parse_double("--new", optarg, 0, 0.99, &o->new_share);
			break;
		case OPT_DENY:
			rc = parse_double("--deny", optarg, 0, 1, &o->deny_share);
			break;
		case OPT_RULES:
			rc = parse_u32("--rules", optarg, 0, 10000, &o->rules);
			break;
		case OPT_ADDRESSES:
			rc = parse_u32("--addresses", optarg, 1, 254, &o->addresses);
			break;
		case OPT_PREFIX:
			o->prefix = true;
			break;
		case OPT_SUBNETS:
			rc = parse_u32("--subnets", optarg, 0, 4000, &o->subnets);
			break;
		case OPT_SLEEP_MAX_US:
			rc = parse_u32("--sleep-max-us", optarg, 0, SG_CONF_SLEEP_MAX_US,
					&o->sleep_max_us);
			break;
		case OPT_VMS:
			rc = parse_u32("--vms", optarg, 1, BENCH_MAX_VMS, &o->vms);
			break;
		case OPT_BURST:
			rc = parse_u32("--burst", optarg, 1, SG_DP_MAX_BURST, &u);
			o->burst = (uint16_t)u;
			break;
		case OPT_CAPACITY:
			rc = parse_u32("--capacity", optarg, 1024, 100000000, &o->capacity);
			break;
		case OPT_CPS:
			o->cps = true;
			break;
		case OPT_OVERLAY:
			o->overlay = true;
			break;
		case OPT_STAGES:
		case OPT_NO_STAGES:
			stages = opt == OPT_STAGES;
			break;
		case OPT_PROGRESS:
		case OPT_NO_PROGRESS:
			progress = opt == OPT_PROGRESS;
			break;
		case OPT_JSON:
			o->json = optarg;
			break;
		case OPT_OUT:
			o->out_dir = optarg;
			break;
		case OPT_PCAP_DIR:
			o->pcap_dir = optarg;
			break;
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_LABEL:
			o->label = optarg;
			break;
		case OPT_SEED:
			rc = parse_u32("--seed", optarg, 0, UINT32_MAX, &u);
			o->seed = u;
			break;
		case OPT_HASH_SEED:
			rc = parse_u32("--hash-seed", optarg, 1, UINT32_MAX, &u);
			o->hash_seed = u;
			break;
		case OPT_COLLIDE:
			rc = parse_u32("--collide", optarg, 1, UINT32_MAX, &u);
			o->collide_seed = u;
			break;
		case OPT_CLASSIFIER:
			if (strcmp(optarg, "acl") == 0 || strcmp(optarg, "linear") == 0)
				o->classify_linear = strcmp(optarg, "linear") == 0;
			else
				rc = -1, fprintf(stderr, "error: --classifier must be acl or linear\n");
			break;
		case OPT_TRIAL:
			rc = parse_double("--trial", optarg, 0.01, 3600, &o->trial);
			break;
		case OPT_RESOLUTION:
			rc = parse_double("--resolution", optarg, 0.0001, 0.5, &o->resolution);
			break;
		case OPT_RATE:
			rc = parse_u32("--rate", optarg, 1, 1000000000, &u);
			o->rate = u;
			break;
		case OPT_LOSS_TOLERANCE:
			rc = parse_double("--loss-tolerance", optarg, 0, 0.5, &o->loss_tolerance);
			break;
		case OPT_EXTERNAL:
			o->external = optarg;
			break;
		case OPT_EXTERNAL_QUEUES:
			rc = parse_u32("--external-queues", optarg, 1, RATE_EXTERNAL_MAX_QUEUES, &u);
			o->external_queues = (uint16_t)u;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		if (rc < 0)
			return -1;
	}
	o->stage_cycles = stages >= 0 ? stages == 1 : o->mode == BENCH_MODE_GEN;
	o->progress = progress >= 0 ? progress == 1 : isatty(STDERR_FILENO);
	if (o->capacity == 0)
		o->capacity = 2 * o->flows + (1u << 20) + (o->cps ? (4u << 20) : 0);
	if (o->prefix && o->addresses != 1) {
		fprintf(stderr, "error: --prefix gives each VM port its 254 addresses; no --addresses\n");
		return -1;
	}
	if (o->prefix)
		o->addresses = 254;
	if (o->mode == BENCH_MODE_WRITE && o->out_dir == NULL) {
		fprintf(stderr, "error: --mode write needs --out DIR\n");
		return -1;
	}
	if (o->mode == BENCH_MODE_PORTS && o->pcap_dir == NULL && o->config == NULL) {
		fprintf(stderr, "error: --mode ports needs --pcap-dir DIR or --config FILE\n");
		return -1;
	}
	if (o->imix && o->mode != BENCH_MODE_RATE) {
		fprintf(stderr, "error: --size imix is for --mode rate\n");
		return -1;
	}
	if (o->mode == BENCH_MODE_RATE &&
			(o->workers != 1 || o->new_share != 0 || (o->cps && o->external == NULL) ||
					o->config != NULL || o->pcap_dir != NULL)) {
		fprintf(stderr, "error: --mode rate runs one worker on the generated ring ports "
				"with "
				"established flows: no --workers, --new, --cps (but with --external), "
				"--config or --pcap-dir\n");
		return -1;
	}
	if (o->cps && o->mode == BENCH_MODE_RATE &&
			(o->vms != 1 || o->proto != BENCH_PROTO_TCP || o->ipv6_share != 0 ||
					o->rate != 0)) {
		fprintf(stderr, "error: --external --cps opens IPv4 TCP connections to one VM: no "
				"--vms, --proto, --ipv6 or --rate\n");
		return -1;
	}
	if (o->external != NULL && (o->mode != BENCH_MODE_RATE || o->overlay || o->stage_cycles ||
					   o->sleep_max_us != 0)) {
		fprintf(stderr, "error: --external DIR is for --mode rate, which then measures another "
				"process: no --overlay, --stage-cycles or --sleep-max-us\n");
		return -1;
	}
	if (o->collide_seed != 0 && (o->mode != BENCH_MODE_GEN || o->proto != BENCH_PROTO_TCP ||
					     o->ipv6_share != 0 || o->deny_share != 0)) {
		fprintf(stderr, "error: --collide builds IPv4 TCP flows in generator mode only\n");
		return -1;
	}
	if (o->overlay && ((o->mode != BENCH_MODE_GEN && o->mode != BENCH_MODE_RATE) ||
				  o->engine == SG_DP_ENGINE_IO || o->collide_seed != 0 ||
				  o->config != NULL || o->flows > 1000000)) {
		fprintf(stderr, "error: --overlay runs the fw or sg engine in gen or rate mode "
				"on the generated config, at most 1,000,000 flows, without "
				"--collide\n");
		return -1;
	}
	if ((o->mode == BENCH_MODE_PORTS || o->mode == BENCH_MODE_WRITE) && o->vms != 1 &&
			o->config == NULL) {
		fprintf(stderr, "note: pcap traffic is written for every VM port; ports mode replays "
				"them all\n");
	}
	return 0;
}

/* ---- Machine ---- */

struct machine {
	char cpu[128];
	char flags[256];
	unsigned int cpus;
	uint64_t tsc_hz;
	double load_before, load_after; /* 1-minute load average at the start and the end */
};

/* The 1-minute load average: how many others wanted the CPUs while we measured. */
static double
load_average(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double load = -1;

	if (f != NULL) {
		if (fscanf(f, "%lf", &load) != 1)
			load = -1;
		fclose(f);
	}
	return load;
}

static void
machine_read(struct machine *m)
{
	static const char *const wanted[] = {"sse4_2", "avx2", "avx512f", "avx512bw", "avx512vl",
			"bmi2", "aes", "pclmulqdq", "hypervisor"};
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[8192];

	snprintf(m->cpu, sizeof(m->cpu), "unknown");
	m->flags[0] = '\0';
	m->cpus = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');

		if (colon == NULL)
			continue;
		colon += 2;
		colon[strcspn(colon, "\n")] = '\0';
		if (strncmp(line, "model name", 10) == 0) {
			snprintf(m->cpu, sizeof(m->cpu), "%s", colon);
		} else if (strncmp(line, "flags", 5) == 0 && m->flags[0] == '\0') {
			for (size_t i = 0; i < SG_ARRAY_SIZE(wanted); i++) {
				char pat[32];
				size_t len = strlen(m->flags);

				snprintf(pat, sizeof(pat), " %s ", wanted[i]);
				strcat(colon, " ");
				if (strstr(colon, pat) != NULL)
					snprintf(m->flags + len, sizeof(m->flags) - len, "%s%s",
							len ? " " : "", wanted[i]);
			}
			break;
		}
	}
	if (f != NULL)
		fclose(f);
}

/* ---- Rules: compile time and memory, measured on a separate build of the same policy ---- */

struct rules_result {
	double compile_s;
	uint64_t memory;
	uint64_t acl_rules;
	uint32_t rules_total;
};

static uint64_t
heap_allocated(void)
{
	uint64_t total = 0;

	for (unsigned int s = 0; s < rte_socket_count(); s++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0)
			total += st.heap_allocsz_bytes;
	}
	return total;
}

static void
measure_rules(const struct sg_conf *conf, struct rules_result *r)
{
	struct sg_acl_params params = {.socket_id = SOCKET_ID_ANY, .generation = 999999};
	struct sg_error err = {0};
	uint64_t before = heap_allocated();
	struct timespec t0, t1;
	struct sg_acl *acl;

	memset(r, 0, sizeof(*r));
	r->rules_total = sg_policy_rule_count(conf->policy);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	acl = sg_acl_build(conf->policy, &params, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (acl == NULL) {
		fprintf(stderr, "warning: rule build: %s\n", err.msg);
		return;
	}
	r->compile_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	r->memory = heap_allocated() - before;
	r->acl_rules = sg_acl_rule_count(acl);
	sg_acl_free(acl);
}

/* ---- Results ---- */

struct result {
	const char *name;       /* phase */
	double seconds;         /* engine time (gen) or wall time (ports), per worker */
	uint64_t packets;
	uint64_t connections;
	double mpps;            /* all workers */
	double cycles_per_packet;
	double stage_cpp[SG_DP_STAGE_COUNT];
	bool has_stages;
	double lat_us[4];       /* burst processing p50, p90, p99, p99.9 */
	double cpp_median;      /* cycles per packet of the median burst: robust to preemption */
	double cpu_share;       /* CPU time the workers got / wall time (gen) */
	bool has_latency;
	double cps;
	double cps_median;      /* from the median burst: GEN_LIFECYCLE_STEPS packets each */
	uint64_t forwarded, dropped;
};

static void
json_result(struct sg_json *j, const struct result *r, uint16_t workers)
{
	sg_json_object_open(j, r->name);
	sg_json_double(j, "seconds", r->seconds);
	sg_json_uint(j, "packets", r->packets);
	sg_json_double(j, "mpps", r->mpps);
	sg_json_double(j, "mpps_per_core", r->mpps / workers);
	sg_json_double(j, "cycles_per_packet", r->cycles_per_packet);
	if (r->cpp_median > 0)
		sg_json_double(j, "cycles_per_packet_median_burst", r->cpp_median);
	if (r->cpu_share > 0)
		sg_json_double(j, "cpu_share", r->cpu_share);
	if (r->has_stages) {
		sg_json_object_open(j, "stage_cycles_per_packet");
		for (int s = 0; s < SG_DP_STAGE_COUNT; s++)
			sg_json_double(j, sg_dp_stage_name((enum sg_dp_stage)s), r->stage_cpp[s]);
		sg_json_object_close(j);
	}
	if (r->connections != 0) {
		sg_json_uint(j, "connections", r->connections);
		sg_json_double(j, "connections_per_second", r->cps);
		sg_json_double(j, "connections_per_second_per_core", r->cps / workers);
		if (r->cps_median > 0)
			sg_json_double(j, "connections_per_second_per_core_median_burst", r->cps_median);
	}
	if (r->has_latency) {
		sg_json_object_open(j, "burst_latency_us");
		sg_json_double(j, "p50", r->lat_us[0]);
		sg_json_double(j, "p90", r->lat_us[1]);
		sg_json_double(j, "p99", r->lat_us[2]);
		sg_json_double(j, "p999", r->lat_us[3]);
		sg_json_object_close(j);
	}
	sg_json_uint(j, "forwarded", r->forwarded);
	sg_json_uint(j, "dropped", r->dropped);
	sg_json_object_close(j);
}

static const char *
proto_name(enum bench_proto p)
{
	static const char *const names[] = {"tcp", "udp", "icmp", "mix"};

	return names[p];
}

/* Rate mode: the search and the latency trials. */
struct rate_report {
	double top_pps;	      /* offered by the unpaced first trial: the generator's top */
	double overload_pps;  /* what the worker forwarded in that trial: its rate overloaded */
	double zero_loss_pps; /* highest rate that passed; 0: none did */
	bool generator_bound; /* the unpaced trial passed: the worker outran the generator */
	unsigned int ring_size;
	struct rate_trial search[RATE_MAX_TRIALS];
	unsigned int n_search;
	double load[3]; /* share of the zero-loss rate (or, with --rate, 0) */
	struct rate_trial latency[3];
	unsigned int n_latency;
	bool has_stages; /* --stage-cycles: the worker's cycles per packet by stage, all trials */
	double stage_cpp[SG_DP_STAGE_COUNT];
};

/* --overlay: what the generator built against what the datapath counted. */
struct overlay_report {
	uint32_t remote_flows;
	bool has_expect;     /* gen mode: every frame counted (rate mode loses to full rings) */
	struct gen_expect expect;
	uint64_t rx, tx, drops, encap, decap;
	uint64_t checked, wrong;
	char why[96];        /* the first wrong frame's fault */
	char failure[256];   /* what did not add up; "" when everything did */
};

struct report {
	const struct bench_opts *o;
	struct overlay_report ov;
	struct rate_report rate;
	bool has_cps; /* --external --cps */
	struct rate_cps cps;
	struct machine machine;
	struct rules_result rules;
	struct result results[GEN_PHASE_COUNT];
	unsigned int n_results;
	bool has_ct;
	struct sg_ct_stats ct;
	uint64_t conns_held;
	double bytes_per_conn4, bytes_per_conn6;
	char drops[512];
};

static const char *
mode_name(enum bench_mode m)
{
	static const char *const names[] = {"gen", "ports", "write", "rate"};

	return names[m];
}

static void
rate_trial_json(struct sg_json *j, const struct rate_trial *t, double load)
{
	sg_json_object_open(j, NULL);
	if (load > 0)
		sg_json_double(j, "load", load);
	sg_json_double(j, "target_mpps", t->target_pps / 1e6);
	sg_json_double(j, "offered_mpps", t->offered_pps / 1e6);
	sg_json_double(j, "seconds", t->seconds);
	sg_json_double(j, "generator_cpu_seconds", t->cpu_seconds);
	sg_json_uint(j, "offered", t->offered);
	sg_json_uint(j, "expected", t->expected);
	sg_json_uint(j, "received", t->received);
	sg_json_uint(j, "lost", t->lost);
	sg_json_uint(j, "refused", t->refused);
	sg_json_uint(j, "denied", t->denied);
	sg_json_uint(j, "policy_drops", t->policy_drops);
	sg_json_uint(j, "unexpected", t->unexpected);
	sg_json_uint(j, "late", t->late);
	sg_json_uint(j, "no_mbuf", t->no_mbuf);
	sg_json_uint(j, "unstamped", t->unstamped);
	sg_json_uint(j, "attempts", t->attempts);
	sg_json_bool(j, "passed", rate_trial_passed(t));
	sg_json_uint(j, "worker_sleeps", t->worker_sleeps);
	sg_json_double(j, "worker_sleep_share", t->worker_sleep_share);
	sg_json_object_open(j, "latency_us");
	sg_json_double(j, "p50", t->lat_us[0]);
	sg_json_double(j, "p99", t->lat_us[1]);
	sg_json_double(j, "p999", t->lat_us[2]);
	sg_json_object_close(j);
	sg_json_object_close(j);
}

static void
rate_json(struct sg_json *j, const struct bench_opts *o, const struct rate_report *rr)
{
	sg_json_object_open(j, "rate");
	sg_json_double(j, "trial_seconds", o->trial);
	sg_json_double(j, "resolution", o->resolution);
	sg_json_double(j, "loss_tolerance", o->loss_tolerance);
	sg_json_uint(j, "ring_size", rr->ring_size);
	if (o->external != NULL)
		sg_json_string(j, "external", o->external);
	else
		sg_json_uint(j, "tx_ring_size", rr->ring_size * RATE_TX_RING_FACTOR);
	sg_json_bool(j, "imix", o->imix);
	if (o->rate == 0) {
		sg_json_double(j, "generator_top_mpps", rr->top_pps / 1e6);
		sg_json_double(j, "forwarded_overloaded_mpps", rr->overload_pps / 1e6);
		sg_json_bool(j, "generator_bound", rr->generator_bound);
		sg_json_double(j, "zero_loss_mpps", rr->zero_loss_pps / 1e6);
	}
	if (rr->has_stages) {
		sg_json_object_open(j, "stage_cycles_per_packet");
		for (int s = 0; s < SG_DP_STAGE_COUNT; s++)
			sg_json_double(j, sg_dp_stage_name((enum sg_dp_stage)s), rr->stage_cpp[s]);
		sg_json_object_close(j);
	}
	sg_json_array_open(j, "search");
	for (unsigned int i = 0; i < rr->n_search; i++)
		rate_trial_json(j, &rr->search[i], 0);
	sg_json_array_close(j);
	sg_json_array_open(j, "latency");
	for (unsigned int i = 0; i < rr->n_latency; i++)
		rate_trial_json(j, &rr->latency[i], rr->load[i]);
	sg_json_array_close(j);
	sg_json_object_close(j);
}

static void
cps_json(struct sg_json *j, const struct rate_cps *c)
{
	sg_json_object_open(j, "cps");
	sg_json_double(j, "seconds", c->seconds);
	sg_json_double(j, "per_second", c->per_second);
	sg_json_uint(j, "opened", c->opened);
	sg_json_uint(j, "completed", c->completed);
	sg_json_uint(j, "failed", c->failed);
	sg_json_uint(j, "unfinished", c->unfinished);
	sg_json_uint(j, "packets_sent", c->sent);
	sg_json_uint(j, "packets_received", c->received);
	sg_json_uint(j, "refused", c->refused);
	sg_json_uint(j, "stray", c->stray);
	sg_json_uint(j, "no_mbuf", c->no_mbuf);
	sg_json_object_close(j);
}

static void
cps_print(const struct rate_cps *c)
{
	printf("\nconnections end to end: %" PRIu64 " completed in %.2f s, %.0f per second; %" PRIu64
	       " opened, %" PRIu64 " failed (a packet unanswered for 100 ms), %" PRIu64
	       " unfinished after the window\n"
	       "packets: %" PRIu64 " sent, %" PRIu64 " received, %" PRIu64 " refused by a full ring, "
	       "%" PRIu64 " stray\n",
			c->completed, c->seconds, c->per_second, c->opened, c->failed, c->unfinished,
			c->sent, c->received, c->refused, c->stray);
}

static void
rate_trial_line(const char *what, const struct rate_trial *t)
{
	printf("%-10s %9.3f %9.3f %12" PRIu64 " %12" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64
	       " %8.1f %8.1f %9.1f  %s\n",
			what, t->target_pps / 1e6, t->offered_pps / 1e6, t->expected, t->received,
			t->lost, t->denied, t->late, t->lat_us[0], t->lat_us[1], t->lat_us[2],
			rate_trial_passed(t)  ? "pass" :
			rate_trial_offered(t) ? "fail" :
						"not offered");
}

static void
rate_print(const struct bench_opts *o, const struct rate_report *rr)
{
	const char *forwarder = o->external != NULL ? "device under test" : "worker";
	char what[32];

	printf("\n%-10s %9s %9s %12s %12s %10s %8s %8s %8s %8s %9s\n", "trial", "target", "offered",
			"expected", "received", "lost", "denied", "late", "p50 us", "p99 us",
			"p99.9 us");
	for (unsigned int i = 0; i < rr->n_search; i++) {
		snprintf(what, sizeof(what), i == 0 && o->rate == 0 ? "top" : "search");
		rate_trial_line(what, &rr->search[i]);
	}
	for (unsigned int i = 0; i < rr->n_latency; i++) {
		if (o->rate != 0)
			snprintf(what, sizeof(what), "fixed");
		else
			snprintf(what, sizeof(what), "%.0f%%", rr->load[i] * 100);
		rate_trial_line(what, &rr->latency[i]);
	}
	if (o->rate == 0)
		printf("\nzero-loss rate: %.3f Mpps over %g s trials (resolution %g); the %s "
		       "forwarded %.3f Mpps overloaded; the generator's top: %.3f Mpps%s\n",
				rr->zero_loss_pps / 1e6, o->trial, o->resolution, forwarder,
				rr->overload_pps / 1e6, rr->top_pps / 1e6,
				rr->generator_bound ? " (bound by the generator: nothing was lost at its "
						      "top rate)" :
						      "");
	if (rr->has_stages) {
		printf("worker cycles per packet by stage, all trials:");
		for (int s = 0; s < SG_DP_STAGE_COUNT; s++)
			printf(" %s %.1f", sg_dp_stage_name((enum sg_dp_stage)s), rr->stage_cpp[s]);
		printf("\n");
	}
	printf("(rates in Mpps; expected: offered packets the engine forwards, the denied flows' "
	       "excluded unless io; lost: expected - received, ring refusals included; late: not "
	       "offered, the generator behind its schedule; latency: %s of %u)\n",
			o->external != NULL ? "the generator's transmit to its receive, through the "
					      "device under test and memif rings"
					    : "enqueue to dequeue through rings",
			rr->ring_size);
}

static void
phases_print(const struct report *rp)
{
	const struct bench_opts *o = rp->o;

	printf("\n%-12s %10s %10s %9s %9s", "phase", "Mpps", "Mpps/core", "cyc/pkt", "median");
	for (int s = 0; s < SG_DP_STAGE_COUNT; s++)
		printf(" %9s", sg_dp_stage_name((enum sg_dp_stage)s));
	printf(" %12s %9s\n", "conn/s", "p99 us");
	for (unsigned int i = 0; i < rp->n_results; i++) {
		const struct result *r = &rp->results[i];

		printf("%-12s %10.2f %10.2f %9.1f", r->name, r->mpps, r->mpps / o->workers,
				r->cycles_per_packet);
		if (r->cpp_median > 0)
			printf(" %9.1f", r->cpp_median);
		else
			printf(" %9s", "-");
		for (int s = 0; s < SG_DP_STAGE_COUNT; s++) {
			if (r->has_stages)
				printf(" %9.1f", r->stage_cpp[s]);
			else
				printf(" %9s", "-");
		}
		if (r->cps_median > 0)
			printf(" %12.0f", r->cps_median);
		else if (r->connections != 0)
			printf(" %12.0f", r->cps);
		else
			printf(" %12s", "-");
		if (r->has_latency)
			printf(" %9.2f\n", r->lat_us[2]);
		else
			printf(" %9s\n", "-");
	}
}

static void
overlay_print(const struct overlay_report *ov, const struct bench_opts *o)
{
	printf("overlay: %u of %u flows with their client on host hv2; decapsulated %" PRIu64,
			ov->remote_flows, o->flows, ov->decap);
	if (ov->has_expect)
		printf(" (built %" PRIu64 ")", ov->expect.remote_in);
	printf(", encapsulated %" PRIu64, ov->encap);
	if (ov->has_expect)
		printf(" (expected %" PRIu64 ")", ov->expect.remote_out);
	printf("; VXLAN frames checked %" PRIu64 ", wrong %" PRIu64 "\n", ov->checked, ov->wrong);
	if (ov->has_expect)
		printf("overlay: packets injected %" PRIu64 ", received %" PRIu64 ", sent %" PRIu64
		       ", dropped %" PRIu64 " (of denied flows %" PRIu64 ")\n",
				ov->expect.frames, ov->rx, ov->tx, ov->drops, ov->expect.denied);
}

static void
report_print(const struct report *rp)
{
	const struct bench_opts *o = rp->o;

	if (o->external != NULL)
		printf("\nsgfw-bench %s: %s mode, another process forwarding on memif ports in %s, "
		       "expected to forward as engine %s, burst %u\n",
				SG_VERSION, mode_name(o->mode), o->external, sg_dp_engine_name(o->engine),
				o->burst);
	else
		printf("\nsgfw-bench %s: engine %s, %s mode, %u worker%s, burst %u\n", SG_VERSION,
				sg_dp_engine_name(o->engine), mode_name(o->mode), o->workers,
				o->workers == 1 ? "" : "s", o->burst);
	printf("machine: %s, %u CPUs, TSC %.3f GHz, %s, flags: %s\n", rp->machine.cpu,
			rp->machine.cpus, (double)rp->machine.tsc_hz / 1e9, rte_version(),
			rp->machine.flags);
	printf("load average: %.2f before, %.2f after (our own busy lcores count in it)\n",
			rp->machine.load_before, rp->machine.load_after);
	printf("traffic: %u flows, %s%u-byte frames, %s, IPv6 %.0f%%, new %.0f%%, denied %.0f%% of "
	       "flows, %u VM port%s\n",
			o->flows, o->imix ? "IMIX 60/566/" : "", o->size, proto_name(o->proto),
			o->ipv6_share * 100, o->new_share * 100, o->deny_share * 100, o->vms,
			o->vms == 1 ? "" : "s");
	printf("rules: %u per port, %u in the policy, %" PRIu64 " rte_acl rules; compiled in "
	       "%.3f s, %.1f MiB\n",
			SG_MAX(o->rules, 2u), rp->rules.rules_total, rp->rules.acl_rules,
			rp->rules.compile_s, (double)rp->rules.memory / (1 << 20));
	if (rp->has_cps)
		cps_print(&rp->cps);
	else if (o->mode == BENCH_MODE_RATE)
		rate_print(o, &rp->rate);
	else
		phases_print(rp);
	if (rp->has_ct)
		printf("\nconntrack: %" PRIu64 " connections held after the established phase, "
		       "capacity %" PRIu64 ", %.1f B per IPv4 connection, %.1f B per IPv6; "
		       "early drops %" PRIu64 ", table full %" PRIu64 "\n",
				rp->conns_held, rp->ct.capacity, rp->bytes_per_conn4, rp->bytes_per_conn6,
				rp->ct.early_drops, rp->ct.table_full);
	if (rp->drops[0] != '\0')
		printf("drops: %s\n", rp->drops);
	if (o->overlay)
		overlay_print(&rp->ov, o);
	if (o->mode == BENCH_MODE_GEN) {
		printf("(generator mode: the engine's time only; 'median' is the cycles per packet of the "
		       "median burst, which preemption by other processes does not inflate; stage "
		       "counters on add a few cycles per packet; p99 is the time to process one burst)\n");
		if (rp->n_results > 1 && rp->results[1].cpu_share < 0.95)
			printf("warning: the workers got %.0f%% of their cores' time: other processes "
			       "ran on them; trust 'median' over the means (conn/s of the cps phase is from the median)\n",
					rp->results[1].cpu_share * 100);
	}
}

static int
report_json(const struct report *rp)
{
	const struct bench_opts *o = rp->o;
	FILE *f = fopen(o->json, "w");
	struct sg_json j;

	if (f == NULL) {
		fprintf(stderr, "error: --json %s: %s\n", o->json, strerror(errno));
		return -1;
	}
	sg_json_init(&j, f, true);
	sg_json_object_open(&j, NULL);
	sg_json_string(&j, "tool", "sgfw-bench");
	sg_json_string(&j, "version", SG_VERSION);
	if (o->label != NULL)
		sg_json_string(&j, "label", o->label);
	sg_json_string(&j, "mode", mode_name(o->mode));
	sg_json_string(&j, "engine", sg_dp_engine_name(o->engine));
	sg_json_string(&j, "classifier", o->classify_linear ? "linear" : "acl");
	sg_json_uint(&j, "workers", o->workers);
	sg_json_uint(&j, "burst", o->burst);
	sg_json_uint(&j, "flows", o->flows);
	sg_json_uint(&j, "size", o->size);
	sg_json_string(&j, "proto", proto_name(o->proto));
	sg_json_double(&j, "ipv6_share", o->ipv6_share);
	sg_json_double(&j, "new_share", o->new_share);
	sg_json_double(&j, "deny_share", o->deny_share);
	sg_json_uint(&j, "rules_per_port", SG_MAX(o->rules, 2u));
	sg_json_uint(&j, "vms", o->vms);
	sg_json_uint(&j, "addresses", o->addresses);
	sg_json_bool(&j, "prefix", o->prefix);
	sg_json_bool(&j, "overlay", o->overlay);
	sg_json_uint(&j, "subnets", o->subnets);
	sg_json_uint(&j, "sleep_max_us", o->sleep_max_us);
	sg_json_object_open(&j, "machine");
	sg_json_string(&j, "cpu", rp->machine.cpu);
	sg_json_string(&j, "flags", rp->machine.flags);
	sg_json_uint(&j, "cpus", rp->machine.cpus);
	sg_json_uint(&j, "tsc_hz", rp->machine.tsc_hz);
	sg_json_double(&j, "load_average_before", rp->machine.load_before);
	sg_json_double(&j, "load_average_after", rp->machine.load_after);
	sg_json_string(&j, "dpdk", rte_version());
	sg_json_string(&j, "compiler", __VERSION__);
	sg_json_object_close(&j);
	sg_json_object_open(&j, "rules");
	sg_json_uint(&j, "in_policy", rp->rules.rules_total);
	sg_json_uint(&j, "acl_rules", rp->rules.acl_rules);
	sg_json_double(&j, "compile_seconds", rp->rules.compile_s);
	sg_json_uint(&j, "memory_bytes", rp->rules.memory);
	sg_json_object_close(&j);
	sg_json_object_open(&j, "results");
	for (unsigned int i = 0; i < rp->n_results; i++)
		json_result(&j, &rp->results[i], o->workers);
	sg_json_object_close(&j);
	if (rp->has_ct) {
		sg_json_object_open(&j, "conntrack");
		sg_json_uint(&j, "connections_held", rp->conns_held);
		sg_json_uint(&j, "capacity", rp->ct.capacity);
		sg_json_double(&j, "bytes_per_conn_ipv4", rp->bytes_per_conn4);
		sg_json_double(&j, "bytes_per_conn_ipv6", rp->bytes_per_conn6);
		sg_json_uint(&j, "early_drops", rp->ct.early_drops);
		sg_json_uint(&j, "table_full", rp->ct.table_full);
		sg_json_object_close(&j);
	}
	sg_json_string(&j, "drops", rp->drops);
	if (o->overlay) {
		const struct overlay_report *ov = &rp->ov;

		sg_json_object_open(&j, "overlay_check");
		sg_json_uint(&j, "remote_flows", ov->remote_flows);
		sg_json_uint(&j, "decapsulated", ov->decap);
		sg_json_uint(&j, "encapsulated", ov->encap);
		if (ov->has_expect) {
			sg_json_uint(&j, "expected_decapsulated", ov->expect.remote_in);
			sg_json_uint(&j, "expected_encapsulated", ov->expect.remote_out);
			sg_json_uint(&j, "injected", ov->expect.frames);
			sg_json_uint(&j, "expected_dropped", ov->expect.denied);
		}
		sg_json_uint(&j, "received", ov->rx);
		sg_json_uint(&j, "sent", ov->tx);
		sg_json_uint(&j, "dropped", ov->drops);
		sg_json_uint(&j, "frames_checked", ov->checked);
		sg_json_uint(&j, "frames_wrong", ov->wrong);
		sg_json_string(&j, "failure", ov->failure);
		sg_json_object_close(&j);
	}
	if (rp->has_cps)
		cps_json(&j, &rp->cps);
	else if (o->mode == BENCH_MODE_RATE)
		rate_json(&j, o, &rp->rate);
	sg_json_object_close(&j);
	sg_json_finish(&j);
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- Shared set-up ---- */

static void
sum_ports(const struct sg_dp *dp, const struct sg_conf *conf, uint64_t *rx, uint64_t *tx,
		uint64_t *drops, uint64_t *by_reason)
{
	*rx = *tx = *drops = 0;
	if (by_reason != NULL)
		memset(by_reason, 0, sizeof(uint64_t) * SG_DROP_COUNT);
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		struct sg_dp_port_stats s;

		if (sg_dp_port_stats(dp, conf->ports[i].name, &s) != 0)
			continue;
		*rx += s.rx_packets;
		*tx += s.tx_packets;
		*drops += s.drops_total;
		for (int r = 0; by_reason != NULL && r < SG_DROP_COUNT; r++)
			by_reason[r] += s.drops[r];
	}
}

static void
format_drops(const uint64_t *by_reason, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (int r = 1; r < SG_DROP_COUNT && len < size; r++)
		if (by_reason[r] != 0)
			len += (size_t)snprintf(out + len, size - len, "%s%s %" PRIu64, len ? ", " : "",
					sg_drop_reason_name((enum sg_drop_reason)r), by_reason[r]);
}

static struct sg_ct *
make_ct(const struct bench_opts *o, const struct sg_conf *conf, uint64_t hash_seed)
{
	struct sg_ct_params p;

	sg_ct_params_init(&p);
	p.hash_seed = hash_seed;
	p.capacity = o->capacity;
	p.n_workers = o->workers;
	p.tcp_be_liberal = conf->conntrack.tcp_be_liberal;
	p.tcp_loose = conf->conntrack.tcp_loose;
	p.share_reserve = (uint8_t)conf->conntrack.share_reserve;
	return sg_ct_create(&p);
}

static struct rte_mempool *
make_pool(const struct bench_opts *o, uint32_t n_mbufs)
{
	/* Frames up to the configured size only: a 1M-packet pcap loaded by infinite_rx fits. */
	uint16_t room = (uint16_t)(RTE_PKTMBUF_HEADROOM + RTE_ALIGN_CEIL(SG_MAX(o->size, 128u) + 64, 64));

	return rte_pktmbuf_pool_create("bench_mbufs", n_mbufs, 256, 0, room, (int)rte_socket_id());
}

/* ---- The overlay's checks ---- */

static uint16_t
uplink_tx_check(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	(void)port;
	(void)queue;
	bench_check_burst(arg, pkts, n);
	return n;
}

/* Gen mode: check what the uplink's null device is given, on each transmit queue. */
static int
check_uplink_tx(struct gen_shared *sh)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		char name[RTE_ETH_NAME_MAX_LEN];
		size_t len;

		if (rte_eth_dev_get_name_by_port(port, name) != 0)
			continue;
		len = strlen(name);
		/* Named by lib/port: net_null_sgSERIAL_up0. */
		if (strncmp(name, "net_null_", 9) != 0 || len < 4 ||
				strcmp(name + len - 4, "_up0") != 0)
			continue;
		for (uint16_t q = 0; q < sh->n_workers; q++) {
			struct bench_check *c = &sh->check[q];

			c->world = &sh->ctx[0].world;
			/* Fewer queues than workers: they share them (under a lock). */
			if (rte_eth_add_tx_callback(port, q, uplink_tx_check, c) == NULL)
				return q > 0 ? 0 : -1;
		}
		return 0;
	}
	return -1;
}

/* The counters of the uplink and of every port, and the checks, into 'ov'. */
static void
overlay_collect(struct sg_dp *dp, const struct bench_check *checks, unsigned int n_checks,
		struct overlay_report *ov)
{
	struct sg_dp_port_stats up;

	sum_ports(dp, sg_dp_conf(dp), &ov->rx, &ov->tx, &ov->drops, NULL);
	if (sg_dp_port_stats(dp, "up0", &up) == 0) {
		ov->encap = up.vxlan_encap;
		ov->decap = up.vxlan_decap;
	}
	for (unsigned int i = 0; i < n_checks; i++) {
		ov->checked += checks[i].checked;
		if (checks[i].bad != 0 && ov->wrong == 0)
			memcpy(ov->why, checks[i].why, sizeof(ov->why));
		ov->wrong += checks[i].bad;
	}
}

/* What must hold of a correct run; the first thing that does not, in ov->failure. */
static void
overlay_judge(struct overlay_report *ov)
{
	const struct gen_expect *e = &ov->expect;
	char *f = ov->failure;
	size_t size = sizeof(ov->failure);

	if (ov->wrong != 0)
		snprintf(f, size, "%" PRIu64 " VXLAN frames sent wrong, the first: %s", ov->wrong,
				ov->why);
	else if (ov->checked == 0)
		snprintf(f, size, "no VXLAN frame was seen on the uplink to check");
	else if (ov->decap == 0 || ov->encap == 0)
		snprintf(f, size, "the overlay carried nothing one way (decapsulated %" PRIu64
				  ", encapsulated %" PRIu64 ")", ov->decap, ov->encap);
	else if (!ov->has_expect)
		return;
	else if (ov->rx != e->frames)
		snprintf(f, size, "the ports received %" PRIu64 " packets of %" PRIu64 " injected",
				ov->rx, e->frames);
	else if (ov->drops != e->denied)
		snprintf(f, size, "%" PRIu64 " packets dropped, %" PRIu64 " of them expected "
				  "(denied flows): see drops",
				ov->drops, e->denied);
	else if (ov->tx != e->frames - e->denied)
		snprintf(f, size, "%" PRIu64 " packets sent of %" PRIu64 " to forward", ov->tx,
				e->frames - e->denied);
	else if (ov->decap != e->remote_in)
		snprintf(f, size, "%" PRIu64 " packets decapsulated of %" PRIu64 " wrapped by hv2",
				ov->decap, e->remote_in);
	else if (ov->encap != e->remote_out)
		snprintf(f, size, "%" PRIu64 " packets encapsulated of %" PRIu64
				  " for remote ports",
				ov->encap, e->remote_out);
}

static uint32_t
remote_flows(const struct bench_world *world)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < world->n_flows; i++)
		n += world->flows[i].remote;
	return n;
}

/* ---- Generator mode ---- */

static void
phase_result(const struct gen_shared *sh, enum gen_phase_id p, const char *name,
		struct result *r)
{
	uint64_t hz = rte_get_tsc_hz(), cycles = 0, bursts = 0, cpu = 0, wall = 0;
	static uint64_t hist[GEN_HIST_BUCKETS];
	const struct sg_dp_stage_stats *st = &sh->stages[p];

	memset(r, 0, sizeof(*r));
	memset(hist, 0, sizeof(hist));
	r->name = name;
	for (uint16_t w = 0; w < sh->n_workers; w++) {
		const struct gen_phase *ph = &sh->ctx[w].phase[p];

		cycles += ph->cycles;
		r->packets += ph->packets;
		r->connections += ph->connections;
		bursts += ph->bursts;
		cpu += ph->cpu_ns;
		wall += ph->wall_ns;
		for (unsigned int b = 0; b < GEN_HIST_BUCKETS; b++)
			hist[b] += ph->hist[b];
	}
	if (r->packets == 0)
		return;
	/* Each worker's engine time; the rate of all workers is the sum of their rates. */
	r->seconds = (double)cycles / (double)hz / sh->n_workers;
	r->cycles_per_packet = (double)cycles / (double)r->packets;
	r->mpps = (double)r->packets / r->seconds / 1e6;
	r->cps = r->seconds > 0 ? (double)r->connections / r->seconds : 0;
	if (sh->opts->stage_cycles && st->packets != 0) {
		r->has_stages = true;
		for (int s = 0; s < SG_DP_STAGE_COUNT; s++)
			r->stage_cpp[s] = (double)st->cycles[s] / (double)st->packets;
	}
	if (bursts != 0) {
		static const double qs[4] = {0.50, 0.90, 0.99, 0.999};

		r->has_latency = true;
		for (int q = 0; q < 4; q++)
			r->lat_us[q] = gen_hist_percentile(hist, bursts, qs[q]) * 1e6 / (double)hz;
		r->cpp_median = gen_hist_percentile(hist, bursts, 0.5) * (double)bursts /
				(double)r->packets;
	}
	r->cpu_share = wall != 0 ? (double)cpu / (double)wall : 0;
	if (p == GEN_PHASE_CPS && r->cpp_median > 0)
		r->cps_median = (double)hz / (r->cpp_median * GEN_LIFECYCLE_STEPS);
}

static int
run_gen(const struct bench_opts *o, struct sg_conf *conf, struct report *rp)
{
	struct gen_shared *sh = rte_zmalloc("bench_gen", sizeof(*sh), RTE_CACHE_LINE_SIZE);
	struct sg_dp_params params = {
		.engine = o->engine,
		.n_workers = o->workers,
		.burst = o->burst,
		.rx_desc = 512,
		.tx_desc = 512,
		.stage_cycles = o->stage_cycles,
		.classify_linear = o->classify_linear,
	};
	uint64_t by_reason[SG_DROP_COUNT], rx, tx, drops;
	struct sg_error err = {0};
	struct sg_dp *dp = NULL;
	int rc = -1;

	if (sh == NULL)
		return -1;
	sh->opts = o;
	sh->n_workers = o->workers;
	sh->progress = o->progress;
	sh->pool = make_pool(o, 2048u * o->workers + 4096);
	if (sh->pool == NULL) {
		fprintf(stderr, "error: mbuf pool: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	params.pool = sh->pool;
	if (o->engine == SG_DP_ENGINE_FW) {
		sh->ct = make_ct(o, conf, o->hash_seed);
		if (sh->ct == NULL) {
			fprintf(stderr, "error: connection table of %u: %s\n", o->capacity, strerror(errno));
			goto out;
		}
		params.ct = sh->ct;
	}
	dp = sg_dp_create(&params, conf, &err);
	if (dp == NULL) {
		fprintf(stderr, "error: %s\n", err.msg);
		sg_conf_free(conf);
		goto out;
	}
	sh->dp = dp;
	sh->uplink_port = (uint16_t)sg_dp_port_id(dp, "up0");
	for (uint32_t vm = 0; vm < o->vms; vm++) {
		char name[16];

		snprintf(name, sizeof(name), "vm%u", vm);
		sh->vm_port[vm] = (uint16_t)sg_dp_port_id(dp, name);
	}
	if (o->collide_seed != 0) {
		/* A table like the real one but with the attacker's known secret: only its
		 * buckets are asked for. */
		sh->collide_ct = make_ct(o, conf, o->collide_seed);
		if (sh->collide_ct == NULL) {
			fprintf(stderr, "error: connection table of %u: %s\n", o->capacity,
					strerror(errno));
			goto out;
		}
	}
	for (uint16_t w = 0; w < o->workers; w++) {
		if (gen_ctx_init(sh, &sh->ctx[w], w) < 0) {
			fprintf(stderr, "error: out of memory for the flows\n");
			goto out;
		}
	}
	sg_ct_free(sh->collide_ct);
	sh->collide_ct = NULL;
	if (o->overlay && check_uplink_tx(sh) < 0) {
		fprintf(stderr, "error: --overlay: cannot watch the uplink's transmit queues\n");
		goto out;
	}
	running_gen = sh;
	rte_eal_mp_remote_launch(gen_worker_main, sh, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	running_gen = NULL;

	phase_result(sh, GEN_PHASE_SETUP, "setup", &rp->results[rp->n_results++]);
	phase_result(sh, GEN_PHASE_ESTABLISHED, "established", &rp->results[rp->n_results++]);
	if (o->cps && o->engine == SG_DP_ENGINE_FW)
		phase_result(sh, GEN_PHASE_CPS, "cps", &rp->results[rp->n_results++]);
	sum_ports(dp, sg_dp_conf(dp), &rx, &tx, &drops, by_reason);
	rp->results[1].forwarded = tx;
	rp->results[1].dropped = drops;
	format_drops(by_reason, rp->drops, sizeof(rp->drops));
	if (o->overlay) {
		rp->ov.has_expect = true;
		for (uint16_t w = 0; w < o->workers; w++) {
			const struct gen_expect *e = &sh->ctx[w].expect;

			rp->ov.remote_flows += remote_flows(&sh->ctx[w].world);
			rp->ov.expect.frames += e->frames;
			rp->ov.expect.denied += e->denied;
			rp->ov.expect.remote_in += e->remote_in;
			rp->ov.expect.remote_out += e->remote_out;
		}
		overlay_collect(dp, sh->check, o->workers, &rp->ov);
		overlay_judge(&rp->ov);
	}
	if (sh->ct != NULL) {
		rp->has_ct = true;
		sg_ct_stats_get(sh->ct, &rp->ct);
		rp->conns_held = sh->conns_after_established;
		rp->bytes_per_conn4 = sg_ct_bytes_per_conn(sh->ct, SG_AF_INET);
		rp->bytes_per_conn6 = sg_ct_bytes_per_conn(sh->ct, SG_AF_INET6);
	}
	rc = 0;
out:
	for (uint16_t w = 0; w < o->workers; w++)
		gen_ctx_free(&sh->ctx[w]);
	sg_dp_free(dp);
	sg_ct_free(sh->ct);
	rte_mempool_free(sh->pool);
	rte_free(sh);
	return rc;
}

/* ---- Ports mode ---- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

static int
run_ports(const struct bench_opts *o, struct sg_conf *conf, struct report *rp)
{
	struct sg_dp_params params = {
		.engine = o->engine,
		.n_workers = o->workers,
		.burst = o->burst,
		.rx_desc = (uint16_t)conf->dataplane.rx_desc,
		.tx_desc = (uint16_t)conf->dataplane.tx_desc,
		.stage_cycles = o->stage_cycles,
		.classify_linear = o->classify_linear,
	};
	uint64_t rx0, tx0, dr0, rx1, tx1, dr1, by_reason[SG_DROP_COUNT];
	struct sg_dp_stage_stats st0, st1;
	struct result *r = &rp->results[rp->n_results++];
	struct rte_mempool *pool;
	struct sg_error err = {0};
	struct sg_ct *ct = NULL;
	struct sg_dp *dp;
	unsigned int lcore, worker = 0;
	double t0, t1, next;
	uint32_t mbufs = 0;

	/* infinite_rx loads every packet of a pcap into the pool at start. */
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		struct stat sb;

		mbufs += 2u * conf->dataplane.rx_desc + 2u * conf->dataplane.tx_desc + 1024;
		if (conf->ports[i].kind == SG_PORT_PCAP && stat(conf->ports[i].path, &sb) == 0)
			mbufs += (uint32_t)(sb.st_size / 60) + 64;
	}
	pool = make_pool(o, SG_MAX(mbufs, conf->dataplane.mbufs));
	if (pool == NULL) {
		fprintf(stderr, "error: mbuf pool of %u: %s\n", mbufs, rte_strerror(rte_errno));
		sg_conf_free(conf);
		return -1;
	}
	params.pool = pool;
	if (o->engine == SG_DP_ENGINE_FW) {
		ct = make_ct(o, conf, o->hash_seed);
		if (ct == NULL) {
			fprintf(stderr, "error: connection table: %s\n", strerror(errno));
			sg_conf_free(conf);
			rte_mempool_free(pool);
			return -1;
		}
		params.ct = ct;
	}
	dp = sg_dp_create(&params, conf, &err);
	if (dp == NULL) {
		fprintf(stderr, "error: %s\n", err.msg);
		sg_conf_free(conf);
		sg_ct_free(ct);
		rte_mempool_free(pool);
		return -1;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (worker < o->workers)
			rte_eal_remote_launch(sg_dp_worker_main, sg_dp_worker_arg(dp, (uint16_t)worker++),
					lcore);
	}
	sleep_s(o->warmup);
	sum_ports(dp, sg_dp_conf(dp), &rx0, &tx0, &dr0, NULL);
	sg_dp_stage_cycles(dp, &st0);
	t0 = now_s();
	next = t0 + 1;
	for (;;) {
		double t = now_s();

		if (t - t0 >= o->duration || atomic_load(&stop_ports))
			break;
		if (o->progress && t >= next) {
			sum_ports(dp, sg_dp_conf(dp), &rx1, &tx1, &dr1, NULL);
			fprintf(stderr, "\r  %5.1f s left  %8.2f Mpps received  %8.2f Mpps sent   ",
					o->duration - (t - t0), (double)(rx1 - rx0) / (t - t0) / 1e6,
					(double)(tx1 - tx0) / (t - t0) / 1e6);
			next += 1;
		}
		sleep_s(SG_MIN(0.05, o->duration / 20));
	}
	sum_ports(dp, sg_dp_conf(dp), &rx1, &tx1, &dr1, by_reason);
	sg_dp_stage_cycles(dp, &st1);
	t1 = now_s();
	if (o->progress)
		fprintf(stderr, "\n");
	sg_dp_stop(dp);
	rte_eal_mp_wait_lcore();

	memset(r, 0, sizeof(*r));
	r->name = "ports";
	r->seconds = t1 - t0;
	r->packets = rx1 - rx0;
	r->forwarded = tx1 - tx0;
	r->dropped = dr1 - dr0;
	r->mpps = (double)r->packets / r->seconds / 1e6;
	r->cycles_per_packet = r->packets ? (double)rte_get_tsc_hz() * r->seconds * o->workers /
						    (double)r->packets :
					    0;
	if (o->stage_cycles && st1.packets > st0.packets) {
		r->has_stages = true;
		for (int s = 0; s < SG_DP_STAGE_COUNT; s++)
			r->stage_cpp[s] = (double)(st1.cycles[s] - st0.cycles[s]) /
					  (double)(st1.packets - st0.packets);
	}
	format_drops(by_reason, rp->drops, sizeof(rp->drops));
	if (ct != NULL) {
		rp->has_ct = true;
		sg_ct_stats_get(ct, &rp->ct);
		rp->conns_held = rp->ct.entries;
		rp->bytes_per_conn4 = sg_ct_bytes_per_conn(ct, SG_AF_INET);
		rp->bytes_per_conn6 = sg_ct_bytes_per_conn(ct, SG_AF_INET6);
	}
	sg_dp_free(dp);
	sg_ct_free(ct);
	rte_mempool_free(pool);
	return 0;
}

/* ---- Rate mode ---- */

/*
 * One trial at 'pps', run again (up to RATE_ATTEMPTS in all) while the generator fell behind
 * its schedule: on a shared machine it is preempted now and then, which says nothing about the
 * datapath. A rate it never manages to offer fails.
 */
static int
rate_one(struct rate_gen *r, const struct bench_opts *o, double pps, struct rate_trial *t,
		const char *what)
{
	for (unsigned int attempt = 1; attempt <= RATE_ATTEMPTS; attempt++) {
		if (rate_trial(r, pps, o->trial, o->loss_tolerance, t) < 0)
			return -1;
		t->attempts = attempt;
		if (r->sh->progress)
			fprintf(stderr, "  %-8s %9.3f Mpps asked, %9.3f offered, lost %" PRIu64 ": %s\n",
					what, pps / 1e6, t->offered_pps / 1e6, t->lost,
					rate_trial_passed(t)	    ? "pass" :
					rate_trial_offered(t) ? "fail" :
								"not offered");
		if (rate_trial_offered(t) || atomic_load(&stop_ports))
			break;
	}
	return 0;
}

/*
 * RFC 2544-style: the first trial is unpaced, which gives the generator's top rate; then a
 * binary search between 0 and it for the highest rate a trial passes (no loss, the rate
 * offered), to within 'resolution' of the top; then latency at 10, 50 and 90 % of that rate.
 */
static int
rate_search(struct rate_gen *r, const struct bench_opts *o, struct rate_report *rr)
{
	static const double loads[3] = {0.10, 0.50, 0.90};
	const struct rate_trial *top;
	double lo = 0, hi;

	if (o->rate > 0) {
		rr->load[0] = 0;
		rr->n_latency = 1;
		return rate_one(r, o, o->rate, &rr->latency[0], "fixed");
	}
	if (rate_one(r, o, 0, &rr->search[rr->n_search], "top") < 0)
		return -1;
	top = &rr->search[rr->n_search++];
	rr->top_pps = hi = top->offered_pps;
	rr->overload_pps = (double)top->received / top->seconds;
	if (rate_trial_passed(top)) {
		rr->generator_bound = true;
		lo = hi;
	} else {
		/* Nothing above what the worker forwarded while overloaded can pass (a margin
		 * for the noise of one trial): no trials spent at rates only the refusals of
		 * full rings reached. */
		hi = SG_MIN(hi, 1.25 * rr->overload_pps);
	}
	/* Until the interval is within 'resolution' of its upper end: the result's precision. */
	while (!rr->generator_bound && hi - lo > o->resolution * hi && hi > RATE_MIN_PPS &&
			rr->n_search < RATE_MAX_TRIALS && !atomic_load(&stop_ports)) {
		double mid = (lo + hi) / 2;
		struct rate_trial *t = &rr->search[rr->n_search++];

		if (rate_one(r, o, mid, t, "search") < 0)
			return -1;
		if (rate_trial_passed(t))
			lo = mid;
		else
			hi = mid;
	}
	rr->zero_loss_pps = lo;
	for (int i = 0; i < 3 && lo > 0 && !atomic_load(&stop_ports); i++) {
		rr->load[i] = loads[i];
		if (rate_one(r, o, lo * loads[i], &rr->latency[rr->n_latency++], "latency") < 0)
			return -1;
	}
	return 0;
}

/*
 * Rate mode on ring ports: the rings, the tracker, the datapath on 'conf' (which it takes) and
 * its worker launched on the second lcore; this one (the main) is the generator.
 */
static int
rate_start_worker(const struct bench_opts *o, struct sg_conf *conf, struct gen_shared *sh,
		struct rate_gen *r, const char *const *names, unsigned int ring_size, bool *launched)
{
	struct sg_dp_params params = {
			.engine = o->engine,
			.n_workers = 1,
			.burst = o->burst,
			.rx_desc = (uint16_t)conf->dataplane.rx_desc,
			.tx_desc = (uint16_t)conf->dataplane.tx_desc,
			.stage_cycles = o->stage_cycles,
			.classify_linear = o->classify_linear,
			.pool = sh->pool,
	};
	struct sg_error err = {0};
	unsigned int lcore;

	if (rate_ports_create(r, names, o->vms + 1, ring_size) < 0) {
		sg_conf_free(conf);
		return -1;
	}
	if (o->engine == SG_DP_ENGINE_FW) {
		sh->ct = make_ct(o, conf, o->hash_seed);
		if (sh->ct == NULL) {
			fprintf(stderr, "error: connection table: %s\n", strerror(errno));
			sg_conf_free(conf);
			return -1;
		}
		params.ct = sh->ct;
	}
	sh->dp = sg_dp_create(&params, conf, &err);
	if (sh->dp == NULL) {
		fprintf(stderr, "error: %s\n", err.msg);
		sg_conf_free(conf);
		return -1;
	}
	sh->uplink_port = (uint16_t)sg_dp_port_id(sh->dp, "up0");
	for (uint32_t vm = 0; vm < o->vms; vm++)
		sh->vm_port[vm] = (uint16_t)sg_dp_port_id(sh->dp, names[vm]);
	lcore = rte_get_next_lcore(-1, 1, 0);
	if (rte_eal_remote_launch(sg_dp_worker_main, sg_dp_worker_arg(sh->dp, 0), lcore) != 0)
		return -1;
	*launched = true;
	return 0;
}

/* Rate mode on ring ports: what the datapath itself counted over all trials. */
static void
rate_collect_worker(const struct bench_opts *o, struct gen_shared *sh, struct rate_gen *r,
		struct report *rp)
{
	uint64_t rx, tx, drops, by_reason[SG_DROP_COUNT];

	if (o->stage_cycles) {
		struct sg_dp_stage_stats st;

		sg_dp_stage_cycles(sh->dp, &st);
		rp->rate.has_stages = st.packets != 0;
		for (int i = 0; i < SG_DP_STAGE_COUNT && st.packets != 0; i++)
			rp->rate.stage_cpp[i] = (double)st.cycles[i] / (double)st.packets;
	}
	sum_ports(sh->dp, sg_dp_conf(sh->dp), &rx, &tx, &drops, by_reason);
	format_drops(by_reason, rp->drops, sizeof(rp->drops));
	if (o->overlay) {
		rp->ov.remote_flows = remote_flows(&sh->ctx[0].world);
		overlay_collect(sh->dp, &r->check, 1, &rp->ov);
		overlay_judge(&rp->ov);
	}
	if (sh->ct != NULL) {
		rp->has_ct = true;
		sg_ct_stats_get(sh->ct, &rp->ct);
		rp->conns_held = rp->ct.entries;
		rp->bytes_per_conn4 = sg_ct_bytes_per_conn(sh->ct, SG_AF_INET);
		rp->bytes_per_conn6 = sg_ct_bytes_per_conn(sh->ct, SG_AF_INET6);
	}
}

static int
run_rate(const struct bench_opts *o, struct sg_conf *conf, struct report *rp)
{
	const char *names[RATE_MAX_PORTS];
	char vm_names[BENCH_MAX_VMS][8];
	unsigned int ring_size = conf->dataplane.rx_desc;
	struct gen_shared *sh = rte_zmalloc("bench_rate", sizeof(*sh), RTE_CACHE_LINE_SIZE);
	struct rate_gen *r = rte_zmalloc("bench_rate_gen", sizeof(*r), RTE_CACHE_LINE_SIZE);
	bool launched = false;
	int rc = -1;

	if (sh == NULL || r == NULL) {
		sg_conf_free(conf);
		goto out;
	}
	for (uint32_t vm = 0; vm < o->vms; vm++) {
		snprintf(vm_names[vm], sizeof(vm_names[vm]), "vm%u", vm);
		names[vm] = vm_names[vm];
	}
	names[o->vms] = "up0";
	rp->rate.ring_size = ring_size;
	sh->opts = o;
	sh->n_workers = 1;
	sh->progress = o->progress;
	r->stop = &stop_ports;
	/* Every ring full, a burst in the generator's hands, the caches. */
	sh->pool = make_pool(o, (1 + RATE_TX_RING_FACTOR) * ring_size * (o->vms + 1) + 4096);
	if (sh->pool == NULL) {
		fprintf(stderr, "error: mbuf pool: %s\n", rte_strerror(rte_errno));
		sg_conf_free(conf);
		goto out;
	}
	if (o->external != NULL) {
		/* Another process forwards: the config only said what it runs. */
		sg_conf_free(conf);
		if (rate_ports_external(r, names, o->vms + 1, ring_size, o->external_queues, sh->pool,
				    o->external, RATE_EXTERNAL_WAIT_S) < 0)
			goto out;
		sh->uplink_port = r->port_id[o->vms];
		for (uint32_t vm = 0; vm < o->vms; vm++)
			sh->vm_port[vm] = r->port_id[vm];
	} else if (rate_start_worker(o, conf, sh, r, names, ring_size, &launched) < 0) {
		goto out;
	}
	if (rate_prepare(r, sh) < 0) {
		fprintf(stderr, "error: opening the flows failed\n");
		goto out;
	}
	if (o->cps) {
		/* --external only (parse_options): lifecycles through the other process. */
		rp->has_cps = true;
		rc = rate_cps(r, o->duration, &rp->cps);
		goto out;
	}
	if (rate_search(r, o, &rp->rate) < 0)
		goto out;
	if (sh->dp != NULL)
		rate_collect_worker(o, sh, r, rp);
	rc = 0;
out:
	if (launched) {
		sg_dp_stop(sh->dp);
		rte_eal_mp_wait_lcore();
	}
	if (sh != NULL) {
		sg_dp_free(sh->dp);
		gen_ctx_free(&sh->ctx[0]);
		sg_ct_free(sh->ct);
	}
	if (r != NULL)
		rate_ports_free(r);
	if (sh != NULL)
		rte_mempool_free(sh->pool);
	rte_free(r);
	rte_free(sh);
	return rc;
}

/* ---- Write mode: the generated traffic for other programs (testpmd, OVS, sgfw) ---- */

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0) {
		fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

/*
 * Each flow's established exchange, one data segment per side: replayed in a loop, every round
 * is a retransmission of the same segments, which a tracker that picked the connection up
 * mid-stream (D10) accepts. Denied flows only have their client's segment.
 */
static int
run_write(const struct bench_opts *o)
{
	struct bench_world world;
	char path[4096], abs_dir[4096];
	uint8_t **frames[BENCH_MAX_VMS + 1];
	uint16_t *lens[BENCH_MAX_VMS + 1];
	uint32_t n[BENCH_MAX_VMS + 1] = {0};
	char *text;
	int rc = 0;

	if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "error: %s: %s\n", o->out_dir, strerror(errno));
		return -1;
	}
	if (realpath(o->out_dir, abs_dir) == NULL)
		return -1;
	if (bench_world_init(&world, o, o->flows, 0) < 0)
		return -1;
	for (uint32_t p = 0; p <= o->vms; p++) {
		frames[p] = calloc(o->flows, sizeof(*frames[p]));
		lens[p] = calloc(o->flows, sizeof(*lens[p]));
		if (frames[p] == NULL || lens[p] == NULL)
			return -1;
	}
	/* Index o->vms is the uplink (the clients' side). */
	for (uint32_t i = 0; i < o->flows; i++) {
		struct bench_flow *f = &world.flows[i];
		struct bench_flow acked = *f;
		uint8_t buf[2048];
		uint16_t len;

		/* Each side acknowledges the other's segment: the steady state of a transfer. */
		acked.sseq += bench_payload(&world, f);
		len = bench_frame(&world, &acked, BENCH_FROM_CLIENT, 0x18, buf);
		frames[o->vms][n[o->vms]] = malloc(len);
		memcpy(frames[o->vms][n[o->vms]], buf, len);
		lens[o->vms][n[o->vms]++] = len;
		if (f->denied)
			continue;
		acked = *f;
		acked.cseq += bench_payload(&world, f);
		len = bench_frame(&world, &acked, BENCH_FROM_SERVER, 0x18, buf);
		frames[f->vm][n[f->vm]] = malloc(len);
		memcpy(frames[f->vm][n[f->vm]], buf, len);
		lens[f->vm][n[f->vm]++] = len;
	}
	for (uint32_t p = 0; p <= o->vms && rc == 0; p++) {
		if (p == o->vms)
			snprintf(path, sizeof(path), "%s/up0.pcap", abs_dir);
		else
			snprintf(path, sizeof(path), "%s/vm%u.pcap", abs_dir, p);
		rc = bench_pcap_write(path, frames[p], lens[p], n[p]);
		if (rc < 0)
			fprintf(stderr, "error: %s: %s\n", path, strerror(-rc));
	}
	for (uint32_t p = 0; p <= o->vms; p++) {
		for (uint32_t i = 0; i < n[p]; i++)
			free(frames[p][i]);
		free(frames[p]);
		free(lens[p]);
	}
	text = bench_config_text(o, &world, "pcap", abs_dir);
	snprintf(path, sizeof(path), "%s/sgfw.conf", abs_dir);
	if (rc == 0 && (text == NULL || write_file(path, text) < 0))
		rc = -1;
	free(text);
	/* The same policy on the memif ports of --mode rate --external. */
	text = bench_config_text(o, &world, "memif", abs_dir);
	snprintf(path, sizeof(path), "%s/sgfw-memif.conf", abs_dir);
	if (rc == 0 && (text == NULL || write_file(path, text) < 0))
		rc = -1;
	free(text);
	bench_world_free(&world);
	if (rc == 0)
		printf("wrote %s/{up0,vm0..vm%u}.pcap, sgfw.conf and sgfw-memif.conf: %u flows, %u-byte frames\n",
				abs_dir, o->vms - 1, o->flows, o->size);
	return rc;
}

/* ---- EAL ---- */

static int
eal_init(const struct bench_opts *o, int n_extra, char **extra)
{
	char *argv[64], lcores[64], prefix[64], mem[32];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	/* Generator: every worker is an lcore, the main one included. Ports: main + workers. */
	unsigned int n_lcores = o->mode == BENCH_MODE_GEN ? o->workers : o->workers + 1u;
	/* Rate: the main lcore is the generator, one worker lcore runs the datapath (--external:
	 * the generator alone, another process forwards). */
	uint64_t mb = 512 + (uint64_t)o->rules * o->vms / 4;
	bool has_lcores = false, has_mem = false, has_prefix = false;
	int argc = 0;

	if (o->external != NULL)
		n_lcores = 1;

	for (int i = 0; i < n_extra; i++) {
		has_lcores |= strncmp(extra[i], "-l", 2) == 0 || strncmp(extra[i], "--lcores", 8) == 0;
		has_mem |= strcmp(extra[i], "-m") == 0 || strncmp(extra[i], "--socket-mem", 12) == 0;
		has_prefix |= strncmp(extra[i], "--file-prefix", 13) == 0;
	}
	if (o->mode == BENCH_MODE_PORTS)
		mb += (uint64_t)o->flows * 2 * 448 / (1 << 20) + 256;
	argv[argc++] = "sgfw-bench";
	argv[argc++] = "--no-huge";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-telemetry";
	argv[argc++] = "--log-level=lib.*:warning";
	argv[argc++] = "--log-level=pmd.*:warning";
	if (!has_mem) {
		snprintf(mem, sizeof(mem), "%" PRIu64, mb);
		argv[argc++] = "-m";
		argv[argc++] = mem;
	}
	if (!has_prefix) {
		snprintf(prefix, sizeof(prefix), "--file-prefix=bch-%d", (int)getpid());
		argv[argc++] = prefix;
	}
	if (!has_lcores) {
		if ((long)n_lcores <= cpus)
			snprintf(lcores, sizeof(lcores), "0-%u", n_lcores - 1);
		else
			snprintf(lcores, sizeof(lcores), "(0-%u)@(0-%ld)", n_lcores - 1, cpus - 1);
		argv[argc++] = (long)n_lcores <= cpus ? "-l" : "--lcores";
		argv[argc++] = lcores;
	}
	for (int i = 0; i < n_extra && argc < 63; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "error: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if (rte_lcore_count() < n_lcores) {
		fprintf(stderr, "error: EAL gave %u lcores; %u are needed\n", rte_lcore_count(),
				n_lcores);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct bench_opts o;
	struct report *rp = calloc(1, sizeof(*rp));
	struct sg_error err = {0};
	struct sg_conf *conf = NULL;
	struct bench_world world;
	char runtime_dir[4096];
	int rc = 1;

	if (rp == NULL || parse_options(argc, argv, &o) < 0) {
		free(rp);
		return 2;
	}
	if (o.mode == BENCH_MODE_WRITE) {
		free(rp);
		return run_write(&o) == 0 ? 0 : 1;
	}
	rp->o = &o;
	machine_read(&rp->machine);
	rp->machine.load_before = load_average();
	if (o.config != NULL) {
		conf = sg_conf_load_file(o.config, &err);
	} else {
		char *text;

		if (bench_world_init(&world, &o, 0, 0) < 0)
			return 1;
		text = bench_config_text(&o, &world,
				o.mode == BENCH_MODE_GEN    ? "null"
				: o.mode == BENCH_MODE_RATE ? "pci"
							    : "pcap",
				o.pcap_dir);
		bench_world_free(&world);
		if (text == NULL)
			return 1;
		conf = sg_conf_load_string(text, "generated", &err);
		free(text);
	}
	if (conf == NULL) {
		fprintf(stderr, "error: %s\n", err.msg);
		return 1;
	}
	if (eal_init(&o, argc - optind, argv + optind) < 0) {
		sg_conf_free(conf);
		return 1;
	}
	/* The EAL runtime directory is this run's own (a file prefix with the PID, or the
	 * caller's): it and the files EAL leaves in it go at exit. */
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	rp->machine.tsc_hz = rte_get_tsc_hz();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (o.engine != SG_DP_ENGINE_IO)
		measure_rules(conf, &rp->rules);
	else
		rp->rules.rules_total = sg_policy_rule_count(conf->policy);
	if (o.mode == BENCH_MODE_GEN)
		rc = run_gen(&o, conf, rp);
	else if (o.mode == BENCH_MODE_RATE)
		rc = run_rate(&o, conf, rp);
	else
		rc = run_ports(&o, conf, rp);
	rp->machine.load_after = load_average();
	if (rc == 0) {
		report_print(rp);
		if (o.json != NULL)
			rc = report_json(rp);
		/* A check, not only a number: a run that lost or mangled packets fails. */
		if (o.overlay && rp->ov.failure[0] != '\0') {
			fprintf(stderr, "error: --overlay: %s\n", rp->ov.failure);
			rc = -1;
		}
	}
	rte_eal_cleanup();
	sg_remove_dir(runtime_dir);
	free(rp);
	return rc == 0 ? 0 : 1;
}
