/* SPDX-License-Identifier: BSD-3-Clause */
/* The sgfw daemon's control thread: the sgfwctl socket, reloads and live views. */
#ifndef SGFW_H
#define SGFW_H

#include <stdbool.h>
#include <stdio.h>

#include "sg_common.h"

struct sg_dp;
struct sg_ct;
struct sgfw_control;

/** Listen on the running config's control.socket ("" disables it). NULL and 'err' on failure. */
struct sgfw_control *sgfw_control_start(struct sg_dp *dp, struct sg_ct *ct, const char *config_path,
		struct sg_error *err);
/** Serve at most one request, waiting up to 'timeout_ms' for it. */
void sgfw_control_poll(struct sgfw_control *control, int timeout_ms);
/** Reload the config file (SIGHUP): applied whole, or the running one stays and the error is logged. */
void sgfw_control_reload(struct sgfw_control *control);
/** The online "flowlogs" command: flow logging's state and counters (control_flowlog.c). */
int sgfw_control_flowlogs(const struct sg_dp *dp, bool json, int argc, char **argv, FILE *out,
		FILE *errors);
struct sgfw_cluster;
/** A cluster node: its configs come from 'cluster', changes and reloads here are refused. */
void sgfw_control_set_cluster(struct sgfw_control *control, struct sgfw_cluster *cluster);
/** Close the socket and remove it; NULL is a no-op. */
void sgfw_control_stop(struct sgfw_control *control);

#endif /* SGFW_H */
