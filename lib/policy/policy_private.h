/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal layout of a compiled policy, shared by compile.c and query.c only. */
#ifndef SG_POLICY_PRIVATE_H
#define SG_POLICY_PRIVATE_H

#include "sg_policy.h"

/* Default rule ids follow the user rules and the inner rules, in this order. */
enum policy_default {
	POLICY_DEFAULT_BASIC_INGRESS = 0,   /* drop */
	POLICY_DEFAULT_BASIC_EGRESS,        /* accept */
	POLICY_DEFAULT_ENTERPRISE_INGRESS,  /* drop */
	POLICY_DEFAULT_ENTERPRISE_EGRESS,   /* drop */
	POLICY_DEFAULT_COUNT,
};

struct policy_port {
	uint32_t *groups;           /* Group indices, sorted by group id; n_groups of them. */
	bool *by_tag;               /* Parallel to groups: attached because of a tag. */
	uint32_t n_groups;
	enum sg_group_type type;
	/* A remote port's lists are the policy's shared defaults[] (not freed with the port). */
	struct sg_eff_rule *eff[SG_DIR_COUNT];
	uint32_t n_eff[SG_DIR_COUNT];
};

struct policy_group {
	uint32_t *members;          /* Port indices, in spec order. */
	uint32_t n_members;
};

struct sg_policy {
	struct sg_spec *spec;       /* Normalised private copy. */
	struct policy_port *ports;
	struct policy_group *groups;
	uint32_t *rule_base;        /* Per group: id of its first rule. */
	uint32_t n_user_rules;
	/* Group ids, prefix list ids and tags by name (a fleet has many: no linear search). */
	struct sg_keyset names;
	/* Tag t (the value of its key in names) is carried by groups
	 * tag_groups[tag_start[t] .. tag_start[t + 1]), in index order. */
	uint32_t *tag_start;
	uint32_t *tag_groups;
	/* The one-rule lists of remote ports, by enum policy_default. */
	struct sg_eff_rule defaults[POLICY_DEFAULT_COUNT];
};

static inline uint32_t
policy_inner_id(const struct sg_policy *p, uint32_t group)
{
	return p->n_user_rules + group;
}

static inline uint32_t
policy_default_id(const struct sg_policy *p, enum policy_default which)
{
	return p->n_user_rules + p->spec->n_groups + which;
}

#endif /* SG_POLICY_PRIVATE_H */
