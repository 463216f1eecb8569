/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals shared by the sgfw daemon's control thread files (control.c, views.c, metrics.c). */
#ifndef SGFW_PRIVATE_H
#define SGFW_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pthread.h>
#include <stdarg.h>
#include <time.h>

#include <rte_log.h>

#include "sg_ctl.h"
#include "sg_log.h"
#include "sgfw.h"

/*
 * Layers: control.c (the API's dispatch) calls the views below it (views.c, metrics.c,
 * capture.c, control_flowlog.c, log.c), which never call it back: what they read is this.
 */
struct sgfw_source {
	struct sg_dp *dp; /**< The running datapath. */
	/** Held by the control thread while it swaps configs and by the telemetry and metrics
	 *  threads while they read them; never by workers. */
	pthread_mutex_t *lock;
	struct sgfw_cluster *cluster; /**< A cluster node's thread (NULL: standalone). */
};

/* cluster.c: a node of a fleet in etcd (docs/cluster.md). */
struct sgfw_cluster;
struct sg_cluster_fleet;
struct sgfw_cluster_status {
	char connection[16]; /**< connecting, connected, disconnected, resyncing */
	char policy[16];     /**< none, synced, refused (the fleet in etcd does not load) */
	bool connected;
	int64_t applied_revision; /**< The revision of the fleet in force. */
	int64_t seen_revision;    /**< The last revision the watch delivered. */
	time_t last_contact;      /**< When etcd last answered (0: never). */
	char last_error[512];
	uint64_t applies, refused, resyncs;
	char held[256]; /**< Ports moved to another host, served here until it confirms. */
};
/** Start the cluster thread of a node whose running config is 'conf' (its local file 'local'
 *  plus 'fleet' at 'revision', taken over; NULL: none yet). NULL and 'err' on failure. */
struct sgfw_cluster *sgfw_cluster_start(const struct sg_conf *conf, const char *local,
		struct sg_cluster_fleet *fleet, int64_t revision, struct sg_error *err);
void sgfw_cluster_stop(struct sgfw_cluster *cl);
void sgfw_cluster_status(struct sgfw_cluster *cl, struct sgfw_cluster_status *st);
/** The descriptor the control thread polls: readable when a config waits to be applied. */
int sgfw_cluster_fd(const struct sgfw_cluster *cl);
/** From the control thread: apply the waiting config with 'apply' and report back. */
void sgfw_cluster_serve(struct sgfw_cluster *cl,
		int (*apply)(void *arg, struct sg_conf *conf, struct sg_error *err), void *arg);

/* views.c */
int sgfw_port_state(void *dp, const char *name, struct sg_ctl_port_state *state);
uint64_t sgfw_now_ms(void);
int sgfw_cmd_ct(struct sg_dp *dp, bool json, int argc, char **argv, FILE *out, FILE *errors);
/* The workers' poll counters and the flow-log losses, for "stats" (after the ports). */
void sgfw_stats_service_text(const struct sg_dp *dp, FILE *out);

/* metrics.c */
void sgfw_telemetry_register(const struct sgfw_source *src);
struct sgfw_metrics;
/** Listen on control.metrics_port (each control.metrics_address) and serve from a thread of
 * its own. NULL and 'err' when it cannot listen. */
struct sgfw_metrics *sgfw_metrics_start(
		const struct sgfw_source *src, const struct sg_conf *conf, struct sg_error *err);
/** Stop the thread and close the sockets; NULL is a no-op. */
void sgfw_metrics_stop(struct sgfw_metrics *m);

/* log.c: messages through rte_log, one type per component ("sgfw.dp"...). */
int sgfw_log_init(void);
void sgfw_log_configure(const struct sg_conf_logging *log);
/* After a reload: the file's levels again, when its logging section changed. */
void sgfw_log_reconfigure(const struct sg_conf_logging *old, const struct sg_conf_logging *now);
void sgfw_log(enum sg_log_component component, uint32_t level, const char *fmt, ...)
		SG_PRINTF(3, 4);
void sgfw_vlog(enum sg_log_component component, uint32_t level, const char *fmt, va_list ap);
/* SGFW_LOG(DP, WARNING, "..."): a message of sgfw.dp at RTE_LOG_WARNING, without newline. */
#define SGFW_LOG(component, level, ...) sgfw_log(SG_LOG_##component, RTE_LOG_##level, __VA_ARGS__)
/* The online "log" command: list the types and levels, or set one ("log level TYPE LEVEL"). */
int sgfw_cmd_log(bool json, int argc, char **argv, FILE *out, FILE *errors);

/* service.c: systemd, the EAL file prefix, vhost-user socket access. */
struct sg_conf;
void sgfw_notify(const char *fmt, ...) SG_PRINTF(1, 2);
void sgfw_service_ready(const struct sg_dp *dp);
void sgfw_service_tick(const struct sg_dp *dp);
void sgfw_service_stop(void);
int sgfw_prefix_check(const char *prefix, struct sg_error *err);
/* The EAL file prefix this sgfw runs with. */
const char *sgfw_file_prefix(void);
int sgfw_socket_access(const struct sg_conf *conf, bool apply, struct sg_error *err);

/* capture.c: sgfwctl capture, pcapng streamed to the client. */
int sgfw_cmd_capture(
		struct sg_dp *dp, int client_fd, int argc, char **argv, FILE *out, FILE *errors);
/* From the control loop: start the writers of new captures, end and free finished ones. */
void sgfw_capture_poll(struct sg_dp *dp);
void sgfw_capture_stop_all(struct sg_dp *dp);

#endif /* SGFW_PRIVATE_H */
