/* SPDX-License-Identifier: BSD-3-Clause */
/* The classifier: rte_acl contexts compiled from a policy's merged rule lists, one per port,
 * direction and address family, classifying bursts of flow keys into the deciding entry.
 *
 * Usage: the control thread calls sg_acl_build() on a compiled policy (off the workers);
 * workers fill struct sg_acl_key4/6 for the packets of one port, direction and family and call
 * sg_acl_classify(). A result is the 1-based position of the deciding entry in
 * sg_policy_effective(), so the verdict, rule id and counters all come from the policy.
 *
 * A changed list can be live before its context exists (SG_ACL_BUILD_LATER): it is matched by
 * a linear first-match scan of its rules, with exactly the context's results, until a
 * background thread has built the context and switched it in. A rule change then costs its
 * compile and a few list copies, not an rte_acl build (tens to hundreds of milliseconds for
 * a 1,000-rule list); only new flows of the changed lists pay for the scan, and only until the
 * build is done.
 *
 * Thread-safety: sg_acl_build() and sg_acl_free() are not multi-thread safe and run on the
 * control thread. sg_acl_classify() takes a const handle and may run on any number of workers
 * at once. Free an sg_acl only after every worker has stopped using it (RCU).
 */
#ifndef SG_ACL_H
#define SG_ACL_H

#include <stdbool.h>
#include <stdint.h>

#include "sg_common.h"
#include "sg_policy.h"

/** Search key of an IPv4 packet; multi-byte fields in network byte order. */
struct sg_acl_key4 {
	uint8_t proto;
	uint8_t pad[3];
	uint32_t peer;  /**< Source address for ingress, destination for egress. */
	uint16_t sport; /**< TCP/UDP source port, ICMP type. */
	uint16_t dport; /**< TCP/UDP destination port, ICMP code. */
};

/** Search key of an IPv6 packet; multi-byte fields in network byte order. */
struct sg_acl_key6 {
	uint8_t proto;
	uint8_t pad[3];
	uint8_t peer[16];
	uint16_t sport;
	uint16_t dport;
};

struct sg_acl;

/** When sg_acl_build() builds the rte_acl context of a new or changed list. */
enum sg_acl_build {
	SG_ACL_BUILD_NOW,   /**< Before returning: a failure fails the build. */
	SG_ACL_BUILD_LATER, /**< On the background builder; matched linearly until then. */
	SG_ACL_LINEAR,      /**< Never: every list is matched linearly (tests, reference). */
};

struct sg_acl_params {
	int socket_id;     /**< NUMA socket for the contexts (SOCKET_ID_ANY allowed). */
	uint32_t generation; /**< Distinguishes context names across rebuilds. */
	/**
	 * The running classifier, or NULL. Ports (by name) whose lists classify the same share
	 * its contexts instead of rebuilding them; contexts are reference-counted, so either
	 * sg_acl may be freed first.
	 */
	const struct sg_acl *prev;
	enum sg_acl_build build;
};

/** What sg_acl_build() did for each (port, direction, family) list, and what is left. */
struct sg_acl_counts {
	uint32_t built;    /**< Contexts built before sg_acl_build() returned. */
	uint32_t queued;   /**< Contexts handed to the background builder. */
	uint32_t reused;   /**< Contexts shared with params->prev (unchanged list). */
	uint32_t constant; /**< Lists one entry decides (or none matches): no context needed. */
	uint32_t linear;   /**< Now: lists still matched linearly (queued, failed, or LINEAR). */
	uint32_t failed;   /**< Now: background builds that failed; those lists stay linear. */
};

/**
 * Build the contexts of every port of 'policy'. Returns NULL with 'err' set on failure
 * (errno ENOMEM or the rte_acl error). The policy must outlive the result.
 */
struct sg_acl *sg_acl_build(const struct sg_policy *policy, const struct sg_acl_params *params,
		struct sg_error *err);
/** Free all contexts; NULL is a no-op. */
void sg_acl_free(struct sg_acl *acl);

/**
 * Classify 'n' keys (all of family 'family': SG_AF_INET with struct sg_acl_key4, or
 * SG_AF_INET6 with struct sg_acl_key6) against 'port' in direction 'dir'. Writes the 1-based
 * position of the deciding entry of sg_policy_effective() to each 'results' element.
 */
void sg_acl_classify(const struct sg_acl *acl, uint32_t port, enum sg_dir dir, uint8_t family,
		const uint8_t **keys, uint32_t *results, uint32_t n);

/** Fill 'counts'; linear and failed are read at the time of the call. */
void sg_acl_build_counts(const struct sg_acl *acl, struct sg_acl_counts *counts);

/**
 * Wait until the background builder has finished every queued list (built, failed, or
 * dropped because no classifier uses it any more). Call before rte_eal_cleanup().
 */
void sg_acl_wait_builds(void);

/** Number of rte_acl rules in all contexts (entries times their expanded peers). */
uint64_t sg_acl_rule_count(const struct sg_acl *acl);

#endif /* SG_ACL_H */
