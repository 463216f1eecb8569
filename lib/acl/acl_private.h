/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to lib/acl: the classifier's contexts as the builder (acl_build.c) makes them and
 * the classify path (acl_classify.c) reads them. */
#ifndef SG_ACL_PRIVATE_H
#define SG_ACL_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_acl.h>

#include "sg_acl.h"

#define FAMILY_COUNT 2

/*
 * One rte_acl rule as both the linear matcher and the context builder read it: host byte
 * order, the peer as address and mask words (IPv4 uses word 0). Kept for the context's life,
 * because a worker may still be scanning it when the built context is switched in.
 */
struct acl_match {
	uint32_t addr[4];
	uint32_t mask[4];
	uint16_t sport_lo, sport_hi;
	uint16_t dport_lo, dport_hi;
	uint8_t proto, proto_mask;
	uint32_t position;
};

/*
 * A list's classifier, shared by the generations whose port lists are the same. 'ctx' is
 * NULL while the list is matched linearly (its context is being built in the background, or
 * the build failed) or when the list is constant; the builder publishes it with a release
 * store and workers load it with acquire, so either way a key gets the same result.
 */
struct acl_ctx {
	struct rte_acl_ctx *ctx;
	uint32_t refs;            /* generations sharing it, plus a queued build (atomic) */
	uint32_t constant;        /* position of an entry that decides every key, or 0 */
	bool failed;              /* the background build failed: matched linearly for good */
	bool v6;
	int socket_id;
	uint32_t n_entries;       /* entries of the list: rte_acl priorities count down from it */
	uint32_t n_match;
	struct acl_match *match;  /* the list's rules, first match first; NULL when constant */
	struct acl_ctx *next_job; /* builder queue link (builder lock) */
	char name[RTE_ACL_NAMESIZE];
};

struct sg_acl {
	const struct sg_policy *policy;
	uint32_t n_ports;
	uint64_t n_rules;
	struct sg_acl_counts counts; /* what sg_acl_build() did; linear and failed are live */
	struct acl_ctx **ctx;        /* [port][dir][family] */
};

static inline uint32_t
ctx_index(uint32_t port, enum sg_dir dir, uint8_t family)
{
	return (port * SG_DIR_COUNT + (uint32_t)dir) * FAMILY_COUNT + (family == SG_AF_INET6);
}

#endif /* SG_ACL_PRIVATE_H */
