/* SPDX-License-Identifier: BSD-3-Clause */
/* The names of sgfw's log types and levels, shared by the config loader (which checks them
 * without DPDK) and the daemon (which registers them with rte_log). */
#ifndef SG_LOG_H
#define SG_LOG_H

/**
 * sgfw's components, each an rte_log type named "sgfw.NAME": X(ID, "NAME", "what it logs").
 */
#define SG_LOG_COMPONENTS                                                                          \
	X(MAIN, "main", "start, stop, signals, the service manager")                               \
	X(CONF, "conf", "loading and reloading the config")                                        \
	X(CTL, "ctl", "the control socket and online changes")                                     \
	X(DP, "dp", "the datapath: workers, generations, classifier builds")                       \
	X(CT, "ct", "connection tracking")                                                         \
	X(PORT, "port", "ports and vhost-user sockets")                                            \
	X(FLOWLOG, "flowlog", "flow logs")                                                         \
	X(CAPTURE, "capture", "packet captures")                                                   \
	X(CLUSTER, "cluster", "the fleet in etcd: sync, watch, presence")

enum sg_log_component {
#define X(id, name, text) SG_LOG_##id,
	SG_LOG_COMPONENTS
#undef X
			SG_LOG_COMPONENT_COUNT
};

/* Levels as rte_log numbers them (RTE_LOG_EMERG 1 .. RTE_LOG_DEBUG 8), syslog's priority + 1. */
#define SG_LOG_LEVEL_MIN     1
#define SG_LOG_LEVEL_MAX     8
#define SG_LOG_LEVEL_DEFAULT 7 /* info */

/** "main", "conf", ... */
const char *sg_log_component_name(enum sg_log_component component);
/**
 * A level by name: emergency (emerg), alert, critical (crit), error (err), warning, notice,
 * info, debug, or its number 1..8. Returns 1..8, or -EINVAL.
 */
int sg_log_level_parse(const char *name);
/** "emergency" .. "debug" for 1..8, "?" otherwise. */
const char *sg_log_level_name(int level);

#endif /* SG_LOG_H */
