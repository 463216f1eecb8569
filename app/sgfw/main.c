/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfw: the security-group switch. Loads the config, starts EAL (without hugepages by default),
 * opens the ports, launches the workers and serves control requests until SIGINT/SIGTERM.
 * Messages go through rte_log (log.c); systemd is told when the switch is ready (service.c). */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <libgen.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>

#include "sg_build_config.h"
#include "sg_cluster.h"
#include "sg_conf.h"
#include "sg_ct.h"
#include "sg_dp.h"
#include "sgfw.h"
#include "sgfw_private.h"

static atomic_int signal_seen;

static void
on_signal(int sig)
{
	atomic_store(&signal_seen, sig);
}

static void
usage(FILE *out)
{
	fputs("usage: sgfw [-c FILE] [--engine fw|sg|io] [--stats-file FILE] [-- EAL ARGS...]\n"
	      "  -c, --config FILE     the config (default " SG_DEFAULT_CONFIG "; sgfw.conf(5))\n"
	      "  -e, --engine NAME     fw (default: the firewall), sg (stateless), io (no "
	      "processing)\n"
	      "  -s, --stats-file FILE write the counters as JSON there at exit\n"
	      "  -h, --help            this text\n"
	      "  -V, --version         print the version\n"
	      "EAL arguments after -- are added to the config's (dataplane.eal_args) or the "
	      "defaults\n"
	      "(--no-huge -m 1024 --no-pci) and --file-prefix=dataplane.file_prefix (sgfw).\n",
			out);
}

/* Does any argument in argv[0..argc) start with 'prefix'? */
static bool
has_arg(char **argv, int argc, const char *prefix)
{
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

/* A PCI address (domain:bus:device.function, or bus:device.function): the NICs EAL must be
 * allowed to probe. Any other `pci` names an ethdev the EAL arguments create (--vdev). */
static bool
is_pci_address(const char *s)
{
	unsigned int a, b, c, d;
	int end = -1;

	if (sscanf(s, "%x:%x:%x.%x%n", &a, &b, &c, &d, &end) == 4 && s[end] == '\0')
		return true;
	end = -1;
	return sscanf(s, "%x:%x.%x%n", &a, &b, &c, &end) == 3 && s[end] == '\0';
}

/*
 * EAL arguments: the config's or the no-hugepage defaults, the cores for the workers, a file
 * prefix of our own, PCI devices allow-listed, then what the command line adds.
 */
static int
build_eal_args(const struct sg_conf *conf, int n_extra, char **extra, char **argv, int max,
		char storage[][64])
{
	static const char *const defaults[] = {"--no-huge", "-m", "1024",
			"--log-level=lib.vhost.config:warning"};
	const struct sg_conf_dataplane *dp = &conf->dataplane;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool has_pci = false;
	int argc = 0, s = 0;

	argv[argc++] = "sgfw";
	if (dp->n_eal_args > 0) {
		for (uint32_t i = 0; i < dp->n_eal_args && argc < max; i++)
			argv[argc++] = dp->eal_args[i];
	} else {
		for (size_t i = 0; i < SG_ARRAY_SIZE(defaults); i++)
			argv[argc++] = (char *)defaults[i];
		SGFW_LOG(MAIN, NOTICE,
				"EAL without hugepages (--no-huge -m 1024); set "
				"dataplane.eal_args for hugepage deployments (sgfw.conf(5))");
	}
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		if (conf->ports[i].kind != SG_PORT_PCI || conf->ports[i].remote || argc + 2 >= max ||
				!is_pci_address(conf->ports[i].path))
			continue;
		has_pci = true;
		argv[argc++] = "-a";
		argv[argc++] = (char *)conf->ports[i].path;
	}
	if (!has_pci && !has_arg(argv, argc, "--no-pci") && !has_arg(extra, n_extra, "-a"))
		argv[argc++] = "--no-pci";
	if (!has_arg(argv, argc, "-l") && !has_arg(argv, argc, "--lcores") &&
			!has_arg(extra, n_extra, "-l") && !has_arg(extra, n_extra, "--lcores")) {
		/* One main core for control plus the workers; float them if cores are short. */
		if (cpus > (long)dp->workers)
			snprintf(storage[s], 64, "0-%u", dp->workers);
		else
			snprintf(storage[s], 64, "(0-%u)@(0-%ld)", dp->workers, cpus - 1);
		argv[argc++] = cpus > (long)dp->workers ? "-l" : "--lcores";
		argv[argc++] = storage[s++];
	}
	/* A stable name, so dpdk-telemetry.py -f and dpdk-dumpcap --file-prefix find the switch. */
	if (!has_arg(argv, argc, "--file-prefix") && !has_arg(extra, n_extra, "--file-prefix")) {
		snprintf(storage[s], 64, "--file-prefix=%s", conf->dataplane.file_prefix);
		argv[argc++] = storage[s++];
	}
	for (int i = 0; i < n_extra && argc < max - 1; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	return argc;
}

/* The --file-prefix EAL will use: the last one given. */
static const char *
eal_prefix(char **argv, int argc)
{
	const char *prefix = "rte";

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--file-prefix=", 14) == 0)
			prefix = argv[i] + 14;
		else if (strcmp(argv[i], "--file-prefix") == 0 && i + 1 < argc)
			prefix = argv[++i];
	}
	return prefix;
}

/* vhost-user servers create their socket: make sure its directory exists. */
static int
prepare_socket_dirs(const struct sg_conf *conf)
{
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		char path[SG_PATH_MAX];

		if (conf->ports[i].kind != SG_PORT_VHOST_USER || conf->ports[i].client ||
				conf->ports[i].remote)
			continue;
		snprintf(path, sizeof(path), "%s", conf->ports[i].path);
		/* Searchable by all: each socket's own mode says who may connect (socket_mode). */
		if (mkdir(dirname(path), 0755) != 0 && errno != EEXIST) {
			SGFW_LOG(PORT, ERR,
					"%s:%d: port \"%s\": cannot create the directory of %s: %s",
					sg_conf_source(conf, conf->ports[i].line),
					SG_LOC_LINE(conf->ports[i].line), conf->ports[i].name,
					conf->ports[i].path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static struct sg_ct *
create_conntrack(const struct sg_conf *conf, uint16_t n_workers)
{
	struct sg_ct_params params;
	struct sg_ct *ct;

	sg_ct_params_init(&params);
	params.capacity = conf->conntrack.capacity;
	params.n_workers = n_workers;
	params.tcp_be_liberal = conf->conntrack.tcp_be_liberal;
	params.tcp_loose = conf->conntrack.tcp_loose;
	params.share_reserve = (uint8_t)conf->conntrack.share_reserve;
	/* Flow logs learn the final counters of connections the tracker deletes. */
	params.closed_ring_size = conf->flow_logs.enabled ? conf->flow_logs.ring_size : 0;
	for (uint32_t i = 0; i < conf->conntrack.n_timeouts; i++) {
		const struct sg_conf_named_value *t = &conf->conntrack.timeouts[i];

		int tm = sg_ct_timeout_from_name(t->name);

		if (tm < 0 || t->value > SG_CT_TIMEOUT_MAX) {
			SGFW_LOG(CT, ERR, "%s:%d: conntrack.timeouts.%s: %s", conf->path, t->line,
					t->name,
					tm < 0 ? "no such timeout (see docs/config.md)"
					       : "more than the largest timeout, 1000000 s");
			return NULL;
		}
		params.timeouts[tm] = t->value;
	}
	ct = sg_ct_create(&params);
	if (ct == NULL) {
		SGFW_LOG(CT, ERR, "%s: cannot create a connection table of %u entries: %s",
				conf->path, params.capacity, strerror(errno));
	} else {
		struct sg_ct_stats st;

		/* Not fatal: the workers' first touch then commits connection memory. */
		sg_ct_stats_get(ct, &st);
		if (st.populate_error != 0)
			SGFW_LOG(CT, WARNING, "connection memory is not committed ahead of use "
					"(workers will take the page faults): %s",
					strerror(st.populate_error));
	}
	return ct;
}

/*
 * A background classifier build that failed (memory) leaves its list matched by the linear
 * scan: verdicts stay right, new connections of that port cost more. The libraries do not
 * log, so the daemon says so once per new failure.
 */
static void
report_failed_builds(const struct sg_dp *dp, uint32_t *reported)
{
	struct sg_acl_counts counts;

	sg_dp_classifier_counts(dp, &counts);
	if (counts.failed > *reported)
		SGFW_LOG(DP, WARNING,
				"%u rule lists could not get their rte_acl context "
				"(out of memory?); they stay matched by a linear scan, with the "
				"same "
				"verdicts (sgfwctl status)",
				counts.failed);
	*reported = counts.failed;
}

/*
 * Flow-log records lost since the last report (full rings, too many flows), at most once a
 * minute: the counters keep the totals (sgfwctl stats), the log says when it happens.
 */
static void
report_flowlog_loss(const struct sg_dp *dp, uint64_t *reported, time_t *last)
{
	struct sg_dp_flowlog_stats fs;
	time_t now = time(NULL);
	uint64_t lost;

	if (now - *last < 60 || sg_dp_flowlog_stats(dp, &fs) < 0)
		return;
	lost = fs.ring_lost + fs.closed_lost + fs.writer.flows_dropped;
	if (lost > *reported)
		SGFW_LOG(FLOWLOG, WARNING,
				"%lu flow-log records lost since the last report "
				"(in all: events to full rings %lu, closed connections %lu, flows "
				"over "
				"max_flows %lu; sgfwctl flowlogs)",
				(unsigned long)(lost - *reported), (unsigned long)fs.ring_lost,
				(unsigned long)fs.closed_lost,
				(unsigned long)fs.writer.flows_dropped);
	*reported = lost;
	*last = now;
}

/*
 * A cluster node starts from the fleet it applied last (its state file) with its file, never
 * from nothing: '*conf' replaced by that, '*fleet' and '*revision' set. Without a state file
 * it starts with its file alone (no VM port is served until etcd is read).
 */
static void
cluster_initial(const char *config, struct sg_conf **conf, struct sg_cluster_fleet **fleet,
		int64_t *revision)
{
	const char *state = (*conf)->cluster.state_file;
	struct sg_error err = {0};
	struct sg_conf *built;

	*fleet = NULL;
	*revision = 0;
	if (access(state, F_OK) != 0) {
		SGFW_LOG(CLUSTER, NOTICE, "no cluster state in %s: serving no VM port until the fleet "
					  "is read from etcd", state);
		return;
	}
	*fleet = sg_cluster_fleet_restore(state, revision, &err);
	built = *fleet != NULL ? sg_cluster_fleet_build(*fleet, config, &err) : NULL;
	if (built == NULL) {
		SGFW_LOG(CLUSTER, ERR, "cannot start from the cluster state: %s; serving no VM port "
				       "until the fleet is read from etcd", err.msg);
		sg_cluster_fleet_free(*fleet);
		*fleet = NULL;
		*revision = 0;
		return;
	}
	SGFW_LOG(CLUSTER, NOTICE, "enforcing the fleet of etcd revision %lld from %s until etcd "
				  "is read", (long long)*revision, state);
	sg_conf_free(*conf);
	*conf = built;
}

int
main(int argc, char **argv)
{
	/* A change copies and compiles the whole policy (megabytes at 10,000 rules). Served from
	 * the heap and kept there, that memory is reused warm by the next change, instead of
	 * being mapped fresh and faulted in page by page every time. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"engine", required_argument, NULL, 'e'},
		{"stats-file", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct sg_dp_params params = {.engine = SG_DP_ENGINE_FW};
	const char *config = SG_DEFAULT_CONFIG, *stats_file = NULL;
	char *eal_argv[SG_CONF_MAX_EAL_ARGS + 32], eal_storage[4][64];
	struct rte_mempool *pool = NULL;
	struct sgfw_control *control = NULL;
	struct sgfw_cluster *cluster = NULL;
	struct sg_cluster_fleet *fleet = NULL;
	int64_t fleet_revision = 0;
	struct sg_error err = {0};
	struct sg_ct *ct = NULL;
	struct sg_dp *dp = NULL;
	struct sg_conf *conf;
	char runtime_dir[SG_PATH_MAX] = "", prefix[SG_NAME_MAX];
	bool pdump = false;
	int opt, eal_argc, rc = 1;
	unsigned int lcore, worker = 0;
	uint64_t flowlog_lost = 0;
	time_t flowlog_reported = 0;

	if (sgfw_log_init() < 0) {
		fprintf(stderr, "sgfw: error: cannot set up logging: out of memory\n");
		return 1;
	}
	while ((opt = getopt_long(argc, argv, "+c:e:s:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'e':
			if (sg_dp_engine_parse(optarg, &params.engine) < 0) {
				SGFW_LOG(MAIN, ERR, "--engine \"%s\" must be fw, sg or io", optarg);
				return 2;
			}
			break;
		case 's':
			stats_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sgfw %s\n", SG_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	conf = sg_conf_load_file(config, &err);
	if (conf == NULL) {
		SGFW_LOG(CONF, ERR, "%s", err.msg);
		return 1;
	}
	sgfw_log_configure(&conf->logging);
	if (conf->cluster.n_endpoints > 0)
		cluster_initial(config, &conf, &fleet, &fleet_revision);
	if (prepare_socket_dirs(conf) < 0 || sgfw_socket_access(conf, false, &err) < 0) {
		if (err.msg[0] != '\0')
			SGFW_LOG(PORT, ERR, "%s:%d: %s", sg_conf_source(conf, err.line),
					SG_LOC_LINE(err.line), err.msg);
		sg_conf_free(conf);
		return 1;
	}
	eal_argc = build_eal_args(conf, argc - optind, argv + optind, eal_argv,
			(int)SG_ARRAY_SIZE(eal_argv), eal_storage);
	/* EAL may reorder its arguments: keep the prefix's name. */
	sg_strlcpy(prefix, eal_prefix(eal_argv, eal_argc), sizeof(prefix));
	if (sgfw_prefix_check(prefix, &err) < 0) {
		SGFW_LOG(MAIN, ERR, "%s", err.msg);
		sg_conf_free(conf);
		return 1;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		SGFW_LOG(MAIN, ERR, "EAL initialisation failed: %s", rte_strerror(rte_errno));
		sg_conf_free(conf);
		return 1;
	}
	/* The prefix is this process's while it runs; nothing else uses its files after. */
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	/* dpdk-dumpcap and dpdk-pdump attach as secondary processes (hugepage deployments). */
	pdump = rte_pdump_init() == 0;
	if (!pdump)
		SGFW_LOG(MAIN, WARNING, "packet capture for dpdk-dumpcap is off: %s",
				rte_strerror(rte_errno));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	params.n_workers = (uint16_t)rte_lcore_count() - 1;
	if (params.n_workers == 0) {
		SGFW_LOG(MAIN, ERR, "no worker core: EAL gave sgfw one core; give it two or more");
		goto out;
	}
	params.burst = (uint16_t)conf->dataplane.burst;
	params.rx_desc = (uint16_t)conf->dataplane.rx_desc;
	params.tx_desc = (uint16_t)conf->dataplane.tx_desc;
	pool = rte_pktmbuf_pool_create("sgfw_mbufs", conf->dataplane.mbufs, 256, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (pool == NULL) {
		SGFW_LOG(MAIN, ERR, "cannot allocate %u packet buffers: %s (dataplane.mbufs)",
				conf->dataplane.mbufs, rte_strerror(rte_errno));
		goto out;
	}
	params.pool = pool;
	if (params.engine == SG_DP_ENGINE_FW) {
		ct = create_conntrack(conf, params.n_workers);
		if (ct == NULL)
			goto out;
		params.ct = ct;
	}
	dp = sg_dp_create(&params, conf, &err);
	if (dp == NULL) {
		/* A port that cannot be opened names its line in the config (FILE:LINE:). */
		if (SG_LOC_LINE(err.line) > 0)
			SGFW_LOG(PORT, ERR, "%s:%d: %s", sg_conf_source(conf, err.line),
					SG_LOC_LINE(err.line), err.msg);
		else
			SGFW_LOG(DP, ERR, "%s", err.msg);
		goto out;
	}
	if (sgfw_socket_access(sg_dp_conf(dp), true, &err) < 0) {
		SGFW_LOG(PORT, ERR, "%s:%d: %s", sg_conf_source(sg_dp_conf(dp), err.line),
				SG_LOC_LINE(err.line), err.msg);
		goto out;
	}
	control = sgfw_control_start(dp, ct, config, &err);
	if (control == NULL) {
		SGFW_LOG(CTL, ERR, "control socket: %s", err.msg);
		goto out;
	}
	if (sg_dp_conf(dp)->cluster.n_endpoints > 0) {
		cluster = sgfw_cluster_start(sg_dp_conf(dp), config, fleet, fleet_revision, &err);
		fleet = NULL; /* taken */
		if (cluster == NULL) {
			SGFW_LOG(CLUSTER, ERR, "%s", err.msg);
			goto out;
		}
		sgfw_control_set_cluster(control, cluster);
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		rte_eal_remote_launch(sg_dp_worker_main, sg_dp_worker_arg(dp, (uint16_t)worker++), lcore);
	}
	SGFW_LOG(MAIN, NOTICE,
			"running %s engine with %u worker%s on %u ports (%s, EAL file prefix %s)",
			sg_dp_engine_name(params.engine), params.n_workers,
			params.n_workers == 1 ? "" : "s", sg_dp_conf(dp)->n_ports, config, prefix);
	{
		struct sg_dp_flowlog_stats fs;

		if (sg_dp_flowlog_stats(dp, &fs) == 0)
			SGFW_LOG(FLOWLOG, INFO, "flow logs every %u s in %s", fs.window,
					fs.directory);
	}
	/* Every port is up and the policy compiled: systemd may start what depends on us. */
	sgfw_service_ready(dp);
	for (uint32_t failed_builds = 0;;) {
		int sig = atomic_exchange(&signal_seen, 0);

		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (sig == SIGHUP)
			sgfw_control_reload(control);
		sgfw_control_poll(control, 200);
		sgfw_capture_poll(dp);
		sgfw_service_tick(dp);
		report_failed_builds(dp, &failed_builds);
		report_flowlog_loss(dp, &flowlog_lost, &flowlog_reported);
	}
	SGFW_LOG(MAIN, NOTICE, "stopping (signal)");
	sgfw_cluster_stop(cluster);
	cluster = NULL;
	sgfw_service_stop();
	sgfw_capture_stop_all(dp);
	sg_dp_stop(dp);
	rte_eal_mp_wait_lcore();
	rc = 0;
out:
	if (dp != NULL && stats_file != NULL) {
		FILE *f = fopen(stats_file, "w");

		if (f != NULL) {
			sg_dp_stats_json(dp, f);
			fclose(f);
		} else {
			SGFW_LOG(MAIN, ERR, "--stats-file %s: %s", stats_file, strerror(errno));
		}
	}
	sgfw_cluster_stop(cluster);
	sg_cluster_fleet_free(fleet);
	sgfw_control_stop(control);
	if (dp == NULL)
		sg_conf_free(conf); /* never handed over */
	sg_dp_free(dp);
	sg_ct_free(ct);
	rte_mempool_free(pool);
	if (pdump)
		rte_pdump_uninit();
	rte_eal_cleanup();
	sg_remove_dir(runtime_dir);
	return rc;
}
