/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of lib/cluster shared by its files: base64, the gateway's numbers and key-values. */
#ifndef CLUSTER_PRIVATE_H
#define CLUSTER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sg_cluster.h"

int64_t sg_cluster_json_int(const json_t *v);
/** Fill 'err' (may be NULL) and return 'rc' (a -errno). */
int sg_cluster_fail(struct sg_error *err, int rc, const char *fmt, ...) SG_PRINTF(3, 4);
int sg_cluster_kv_decode(const json_t *j, bool with_value, struct sg_etcd_kv *kv);

#endif /* CLUSTER_PRIVATE_H */
