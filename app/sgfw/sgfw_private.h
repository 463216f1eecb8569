/* Internals shared by the sgfw daemon's control thread files (control.c, views.c, metrics.c). */
#ifndef SGFW_PRIVATE_H
#define SGFW_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sg_ctl.h"
#include "sgfw.h"

/* The running datapath. */
struct sg_dp *sgfw_control_dp(const struct sgfw_control *c);

/* Held by the control thread while it swaps configs and by the telemetry thread while it
 * reads them; never by workers. */
void sgfw_control_lock(struct sgfw_control *c);
void sgfw_control_unlock(struct sgfw_control *c);

/* views.c */
int sgfw_port_state(void *dp, const char *name, struct sg_ctl_port_state *state);
uint64_t sgfw_now_ms(void);
int sgfw_cmd_ct(struct sgfw_control *c, bool json, int argc, char **argv, FILE *out, FILE *errors);

/* metrics.c */
void sgfw_telemetry_register(struct sgfw_control *c);
struct sgfw_metrics;
/** Listen on control.metrics_port (each control.metrics_address) and serve from a thread of
 * its own. NULL and 'err' when it cannot listen. */
struct sgfw_metrics *sgfw_metrics_start(struct sgfw_control *c, const struct sg_conf *conf,
		struct sg_error *err);
/** Stop the thread and close the sockets; NULL is a no-op. */
void sgfw_metrics_stop(struct sgfw_metrics *m);

#endif /* SGFW_PRIVATE_H */
