/* SPDX-License-Identifier: BSD-3-Clause */
/* The rule behind a cloud flow-log record: Alibaba's and AWS's records say what was accepted
 * or refused but not by which rule, so the audit asks the config's policy. */
#include <string.h>

#include "audit_private.h"

/* The record's name for a merged entry of 'port' in direction 'dir'. */
static void
set_rule(const struct sg_policy *policy, const uint32_t *const *positions, uint32_t port,
		enum sg_dir dir, const struct sg_eff_rule *e, struct sg_flowlog_rule_ref *out)
{
	const struct sg_spec *spec = sg_policy_spec(policy);

	memset(out, 0, sizeof(*out));
	switch (e->origin) {
	case SG_ORIGIN_RULE:
		out->kind = SG_FLOWLOG_RULE_USER;
		sg_strlcpy(out->group, spec->groups[e->group].id, sizeof(out->group));
		out->index = positions[e->group][e->rule] + 1;
		break;
	case SG_ORIGIN_INNER:
		out->kind = SG_FLOWLOG_RULE_INNER;
		sg_strlcpy(out->group, spec->groups[e->group].id, sizeof(out->group));
		break;
	default:
		out->kind = SG_FLOWLOG_RULE_DEFAULT;
		out->type = sg_policy_port_type(policy, port);
		out->dir = dir;
	}
}

void
audit_cloud_rule(const struct sg_policy *policy, const uint32_t *const *positions, uint32_t port,
		struct sg_flowlog_record *rec)
{
	struct sg_flow fwd = {.proto = rec->proto,
			.src = rec->src,
			.dst = rec->dst,
			.sport = rec->sport,
			.dport = rec->dport};
	struct sg_flow rev = {.proto = rec->proto,
			.src = rec->dst,
			.dst = rec->src,
			.sport = rec->dport,
			.dport = rec->sport};
	enum sg_dir back_dir = rec->dir == SG_DIR_INGRESS ? SG_DIR_EGRESS : SG_DIR_INGRESS;
	/* ICMP's type and code do not reverse; a SYN-ACK says this side answered. */
	bool icmp = sg_proto_is_icmp(rec->proto);
	bool answered = rec->proto == IPPROTO_TCP && (rec->tcp_flags & SG_FLOWLOG_TCP_ACK) != 0;
	struct sg_verdict v, back = {.action = SG_ACTION_DROP};

	sg_policy_decide(policy, port, rec->dir, &fwd, &v);
	if (rec->action == SG_ACTION_DROP) {
		if (v.action == SG_ACTION_DROP)
			set_rule(policy, positions, port, rec->dir, v.rule, &rec->rule);
		return;
	}
	if (!icmp)
		sg_policy_decide(policy, port, back_dir, &rev, &back);
	/* An accepted record is the flow a rule admitted, or the replies of one the rule of the
	 * other direction admitted: a rule as written is preferred over a default, the reply
	 * when the flags say so. */
	if (back.action == SG_ACTION_ACCEPT && back.rule->origin != SG_ORIGIN_DEFAULT &&
			(answered || v.action != SG_ACTION_ACCEPT ||
					v.rule->origin == SG_ORIGIN_DEFAULT))
		set_rule(policy, positions, port, back_dir, back.rule, &rec->rule);
	else if (v.action == SG_ACTION_ACCEPT)
		set_rule(policy, positions, port, rec->dir, v.rule, &rec->rule);
	else if (back.action == SG_ACTION_ACCEPT)
		set_rule(policy, positions, port, back_dir, back.rule, &rec->rule);
	/* Else this config refuses what the cloud accepted: the record keeps "-". */
}
