/* SPDX-License-Identifier: BSD-3-Clause */
/* Reading a compiled policy: attachments, merged lists, rule names and first-match verdicts. */
#include <errno.h>
#include <string.h>

#include "policy_private.h"

const struct sg_spec *
sg_policy_spec(const struct sg_policy *policy)
{
	return policy->spec;
}

int
sg_policy_find_port(const struct sg_policy *policy, const char *name)
{
	return sg_spec_find_port(policy->spec, name);
}

enum sg_group_type
sg_policy_port_type(const struct sg_policy *policy, uint32_t port)
{
	return policy->ports[port].type;
}

uint32_t
sg_policy_port_groups(const struct sg_policy *policy, uint32_t port, const uint32_t **groups)
{
	*groups = policy->ports[port].groups;
	return policy->ports[port].n_groups;
}

uint32_t
sg_policy_group_members(const struct sg_policy *policy, uint32_t group, const uint32_t **ports)
{
	*ports = policy->groups[group].members;
	return policy->groups[group].n_members;
}

bool
sg_policy_attached_by_tag(const struct sg_policy *policy, uint32_t port, uint32_t group)
{
	const struct policy_port *pp = &policy->ports[port];

	for (uint32_t i = 0; i < pp->n_groups; i++)
		if (pp->groups[i] == group)
			return pp->by_tag[i];
	return false;
}

uint32_t
sg_policy_effective(const struct sg_policy *policy, uint32_t port, enum sg_dir dir,
		const struct sg_eff_rule **rules)
{
	*rules = policy->ports[port].eff[dir];
	return policy->ports[port].n_eff[dir];
}

uint32_t
sg_policy_rule_count(const struct sg_policy *policy)
{
	return policy_default_id(policy, POLICY_DEFAULT_COUNT);
}

/* The group of user rule 'id', by binary search over the groups' first ids. */
static uint32_t
group_of_rule(const struct sg_policy *p, uint32_t id)
{
	uint32_t lo = 0, hi = p->spec->n_groups;

	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;

		if (p->rule_base[mid] <= id)
			lo = mid;
		else
			hi = mid;
	}
	/* Skip empty groups that share the same first id. */
	while (lo + 1 < p->spec->n_groups && p->rule_base[lo + 1] <= id)
		lo++;
	return lo;
}

const char *
sg_policy_rule_name(const struct sg_policy *policy, uint32_t id, char *buf, size_t size)
{
	static const char *const defaults[POLICY_DEFAULT_COUNT] = {
		[POLICY_DEFAULT_BASIC_INGRESS] = "default basic ingress drop",
		[POLICY_DEFAULT_BASIC_EGRESS] = "default basic egress accept",
		[POLICY_DEFAULT_ENTERPRISE_INGRESS] = "default enterprise ingress drop",
		[POLICY_DEFAULT_ENTERPRISE_EGRESS] = "default enterprise egress drop",
	};
	const struct sg_spec *spec = policy->spec;

	if (id < policy->n_user_rules) {
		uint32_t g = group_of_rule(policy, id);

		snprintf(buf, size, "%s rule %u", spec->groups[g].id, id - policy->rule_base[g] + 1);
	} else if (id < policy_default_id(policy, 0)) {
		snprintf(buf, size, "%s inner access", spec->groups[id - policy->n_user_rules].id);
	} else if (id < sg_policy_rule_count(policy)) {
		snprintf(buf, size, "%s", defaults[id - policy_default_id(policy, 0)]);
	} else {
		snprintf(buf, size, "rule id %u", id);
	}
	return buf;
}

int
sg_policy_same_rule(const struct sg_policy *policy, const struct sg_policy *old, uint32_t old_id)
{
	const struct sg_group *group;
	uint32_t g;
	int ng;

	if (old_id >= sg_policy_rule_count(old))
		return -ENOENT;
	if (old_id >= policy_default_id(old, 0))
		return (int)(policy_default_id(policy, 0) + (old_id - policy_default_id(old, 0)));
	g = old_id < old->n_user_rules ? group_of_rule(old, old_id) : old_id - old->n_user_rules;
	group = &old->spec->groups[g];
	ng = sg_spec_find_group(policy->spec, group->id);
	if (ng < 0)
		return -ENOENT;
	if (old_id >= old->n_user_rules)
		return (int)policy_inner_id(policy, (uint32_t)ng);
	for (uint32_t r = 0; r < policy->spec->groups[ng].n_rules; r++)
		if (sg_rule_same(&policy->spec->groups[ng].rules[r],
				    &group->rules[old_id - old->rule_base[g]]))
			return (int)(policy->rule_base[ng] + r);
	return -ENOENT;
}

int
sg_policy_port_by_ip(const struct sg_policy *policy, const struct sg_ip *ip)
{
	const struct sg_spec *spec = policy->spec;

	for (uint32_t p = 0; p < spec->n_ports; p++)
		if (sg_spec_port_owns(&spec->ports[p], ip))
			return (int)p;
	return -ENOENT;
}

bool
sg_eff_lists_equal(const struct sg_eff_rule *a, uint32_t n_a, const struct sg_eff_rule *b,
		uint32_t n_b, bool same_actions)
{
	if (n_a != n_b)
		return false;
	for (uint32_t i = 0; i < n_a; i++) {
		const struct sg_eff_rule *x = &a[i], *y = &b[i];

		if (x->proto != y->proto || x->family != y->family || x->dport.lo != y->dport.lo ||
				x->dport.hi != y->dport.hi || x->sport.lo != y->sport.lo ||
				x->sport.hi != y->sport.hi || x->icmp_type != y->icmp_type ||
				x->icmp_code != y->icmp_code || x->peer_any != y->peer_any ||
				x->n_peers != y->n_peers || (same_actions && x->action != y->action))
			return false;
		for (uint32_t k = 0; k < x->n_peers; k++)
			if (!sg_prefix_equal(&x->peers[k], &y->peers[k]))
				return false;
	}
	return true;
}

bool
sg_eff_rule_matches(const struct sg_eff_rule *rule, enum sg_dir dir, const struct sg_flow *flow)
{
	const struct sg_ip *peer = dir == SG_DIR_INGRESS ? &flow->src : &flow->dst;

	if (rule->family != 0 && rule->family != flow->src.family)
		return false;
	if (rule->proto != SG_PROTO_ANY) {
		if (rule->proto != flow->proto)
			return false;
		if (sg_proto_has_ports(rule->proto)) {
			if (flow->dport < rule->dport.lo || flow->dport > rule->dport.hi ||
					flow->sport < rule->sport.lo || flow->sport > rule->sport.hi)
				return false;
		} else if (sg_proto_is_icmp(rule->proto)) {
			if ((rule->icmp_type >= 0 && flow->sport != rule->icmp_type) ||
					(rule->icmp_code >= 0 && flow->dport != rule->icmp_code))
				return false;
		}
	}
	if (rule->peer_any)
		return true;
	for (uint32_t i = 0; i < rule->n_peers; i++)
		if (sg_prefix_contains(&rule->peers[i], peer))
			return true;
	return false;
}

void
sg_policy_decide(const struct sg_policy *policy, uint32_t port, enum sg_dir dir,
		const struct sg_flow *flow, struct sg_verdict *verdict)
{
	const struct policy_port *pp = &policy->ports[port];

	/* The list always ends with a default that matches everything. */
	for (uint32_t i = 0; i < pp->n_eff[dir]; i++) {
		if (!sg_eff_rule_matches(&pp->eff[dir][i], dir, flow))
			continue;
		verdict->action = pp->eff[dir][i].action;
		verdict->rule = &pp->eff[dir][i];
		verdict->position = i + 1;
		return;
	}
}

void
sg_policy_decide_path(const struct sg_policy *policy, uint32_t from, uint32_t to,
		const struct sg_flow *flow, struct sg_path_verdict *verdict)
{
	sg_policy_decide(policy, from, SG_DIR_EGRESS, flow, &verdict->egress);
	sg_policy_decide(policy, to, SG_DIR_INGRESS, flow, &verdict->ingress);
	verdict->action = verdict->egress.action == SG_ACTION_ACCEPT &&
					verdict->ingress.action == SG_ACTION_ACCEPT ?
				  SG_ACTION_ACCEPT :
				  SG_ACTION_DROP;
}
