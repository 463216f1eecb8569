/* SPDX-License-Identifier: BSD-3-Clause */
/* Security-group policy engine: the user model (spec), its validation, the merged per-port rule
 * lists and the verdict for a flow. No DPDK: it builds, tests and fuzzes alone.
 *
 * Usage:
 *   1. Build a struct sg_spec (sg_spec_create, sg_spec_add_group, sg_group_add_rule and
 *      sg_rule_set for each field, sg_spec_add_port, ...), or let lib/conf load one.
 *   2. sg_policy_compile() validates the whole spec against D1-D19 (docs/decisions.md) and
 *      returns an immutable struct sg_policy, or NULL and one error naming the field, the
 *      value and the rule it breaks. A spec either compiles whole or not at all.
 *   3. Read the result: sg_policy_effective() gives the ordered rule list of a port and
 *      direction (hidden rules visible, group peers expanded); sg_policy_decide() and
 *      sg_policy_decide_path() give verdicts with the deciding rule.
 *
 * Thread-safety: a spec is plain data owned by one thread. A compiled policy is immutable:
 * any number of threads may read it concurrently; free it only when no reader is left.
 */
#ifndef SG_POLICY_H
#define SG_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "sg_common.h"

enum sg_dir {
	SG_DIR_INGRESS = 0, /**< Towards the port's VM (inbound). */
	SG_DIR_EGRESS = 1,  /**< Sent by the port's VM (outbound). */
};
#define SG_DIR_COUNT 2

enum sg_action {
	SG_ACTION_DROP = 0,
	SG_ACTION_ACCEPT = 1,
};

enum sg_group_type {
	SG_GROUP_BASIC = 0,
	SG_GROUP_ENTERPRISE = 1,
};

enum sg_peer_kind {
	SG_PEER_NONE = 0,
	SG_PEER_CIDR,
	SG_PEER_GROUP,
	SG_PEER_PREFIX_LIST,
};

#define SG_PROTO_ANY (-1)
#define SG_PRIORITY_MIN 1
#define SG_PRIORITY_MAX 100
#define SG_DESC_MAX 256

/** An inclusive port range. */
struct sg_range {
	uint16_t lo;
	uint16_t hi;
};

/** Per-deployment limits (D6). */
struct sg_limits {
	uint32_t groups_per_port;       /**< Default 5, at most 10. */
	uint32_t rules_per_group;       /**< Default 200. */
	uint32_t rules_per_port;        /**< Default 1000, custom rules across a port's groups. */
	uint32_t group_peers_per_group; /**< Default 20. */
};

/**
 * One rule as written by the user. Set fields with sg_rule_set(); sg_policy_compile() checks
 * the combination. Canonical values: ports "1/65535" become 0..65535 (any), protocol
 * numbers 6/17/1/58/47 become the named protocols.
 */
struct sg_rule {
	enum sg_dir dir;
	enum sg_action action;
	int priority;               /**< 1..100; default 1. */
	int proto;                  /**< SG_PROTO_ANY or an IP protocol number. */
	struct sg_range dport;      /**< port_range; 0..65535 when any. */
	struct sg_range sport;      /**< source_port_range; 0..65535 when any. */
	int icmp_type;              /**< -1 for any. */
	int icmp_code;              /**< -1 for any. */
	enum sg_peer_kind peer_kind;
	bool peer_is_source;        /**< source_* field (true) or dest_* field (false). */
	struct sg_prefix cidr;      /**< SG_PEER_CIDR. */
	char peer[SG_NAME_MAX];     /**< Group or prefix-list id. */
	char description[SG_DESC_MAX];
	int line;                   /**< Config line, 0 if none. */
	uint32_t fields;            /**< Bitmask of SG_RULE_F_* given. */
	uint8_t n_peers_given;      /**< Peer fields given; exactly one is valid. */
	bool dport_wildcard;        /**< port_range was "-1/-1". */
};

#define SG_RULE_F_DIRECTION (1u << 0)
#define SG_RULE_F_POLICY (1u << 1)
#define SG_RULE_F_PRIORITY (1u << 2)
#define SG_RULE_F_PROTOCOL (1u << 3)
#define SG_RULE_F_PORT_RANGE (1u << 4)
#define SG_RULE_F_SOURCE_PORT_RANGE (1u << 5)
#define SG_RULE_F_ICMP_TYPE (1u << 6)
#define SG_RULE_F_ICMP_CODE (1u << 7)
#define SG_RULE_F_DESCRIPTION (1u << 8)

struct sg_group {
	char id[SG_NAME_MAX];
	enum sg_group_type type;
	enum sg_action inner_access; /**< Basic groups: accept (default) or drop. */
	bool inner_access_given;
	char description[SG_DESC_MAX];
	char (*tags)[SG_NAME_MAX];
	uint32_t n_tags;
	struct sg_rule *rules;
	uint32_t n_rules;
	int line;
};

/** A VM port as the spec describes it: what the policy sees of it (its device is lib/conf's
 * struct sg_conf_port, the running ethdev lib/port's struct sg_port_dev). */
struct sg_spec_port {
	char name[SG_NAME_MAX];
	uint8_t mac[6];
	bool has_mac;
	struct sg_ip *ips;
	uint32_t n_ips;
	/** allowed_prefixes: networks the VM may use as a whole (allowed address pairs, prefix
	 *  delegation, a network routed behind it); host bits clear. */
	struct sg_prefix *prefixes;
	uint32_t n_prefixes;
	char (*tags)[SG_NAME_MAX];
	uint32_t n_tags;
	char (*groups)[SG_NAME_MAX]; /**< Explicit attachments, by group id. */
	uint32_t n_groups;
	/** On another host of the fleet (set by lib/conf from ports[].host): a member of its
	 *  groups, whose addresses feed group peers and inner access, but whose own lists are
	 *  not built (sg_policy_effective() gives it its group type's defaults only). */
	bool remote;
	int line;
};

struct sg_prefix_list {
	char id[SG_NAME_MAX];
	struct sg_prefix *entries;
	uint32_t n_entries;
	char description[SG_DESC_MAX];
	int line;
};

/** The whole user model. Arrays are owned by the spec. */
struct sg_spec {
	struct sg_limits limits;
	struct sg_group *groups;
	uint32_t n_groups;
	struct sg_spec_port *ports;
	uint32_t n_ports;
	struct sg_prefix_list *prefix_lists;
	uint32_t n_prefix_lists;
};

/* ---- Building a spec (control path, not multi-thread safe) ---- */

/** A spec with default limits and nothing else; NULL and errno=ENOMEM on failure. */
struct sg_spec *sg_spec_create(void);
/** Free a spec; NULL is a no-op. */
void sg_spec_free(struct sg_spec *spec);
/** Deep copy; NULL and errno=ENOMEM on failure. */
struct sg_spec *sg_spec_clone(const struct sg_spec *spec);
void sg_limits_default(struct sg_limits *limits);

/*
 * The add functions return the new element, valid until the next add to the same array,
 * or NULL (errno=ENOMEM, or ENAMETOOLONG for an id longer than SG_NAME_MAX-1).
 * Uniqueness and every other rule are checked by sg_policy_compile().
 */
struct sg_group *sg_spec_add_group(struct sg_spec *spec, const char *id, int line);
struct sg_spec_port *sg_spec_add_port(struct sg_spec *spec, const char *name, int line);
struct sg_prefix_list *sg_spec_add_prefix_list(struct sg_spec *spec, const char *id, int line);
/** A rule with defaults (accept, priority 1, protocol all, ports any, no peer). */
struct sg_rule *sg_group_add_rule(struct sg_group *group, int line);

int sg_group_add_tag(struct sg_group *group, const char *tag);
int sg_spec_port_add_tag(struct sg_spec_port *port, const char *tag);
int sg_spec_port_add_group(struct sg_spec_port *port, const char *group_id);
int sg_spec_port_add_ip(struct sg_spec_port *port, const struct sg_ip *ip);
int sg_spec_port_add_prefix(struct sg_spec_port *port, const struct sg_prefix *prefix);
/** Whether 'ip' is one of the port's addresses or inside one of its allowed prefixes. */
bool sg_spec_port_owns(const struct sg_spec_port *port, const struct sg_ip *ip);
int sg_prefix_list_add(struct sg_prefix_list *list, const struct sg_prefix *prefix);
/** Whether 'name' is one of names[0..n) (tags, attached group ids). */
bool sg_names_contain(char (*names)[SG_NAME_MAX], uint32_t n, const char *name);

/** Index of a group, port or prefix list by id, or -ENOENT. */
int sg_spec_find_group(const struct sg_spec *spec, const char *id);
int sg_spec_find_port(const struct sg_spec *spec, const char *name);
int sg_spec_find_prefix_list(const struct sg_spec *spec, const char *id);

/** Remove by index, keeping the order of the rest. */
void sg_spec_remove_group(struct sg_spec *spec, uint32_t index);
void sg_spec_remove_port(struct sg_spec *spec, uint32_t index);
void sg_group_remove_rule(struct sg_group *group, uint32_t index);

/**
 * Set one rule field from its text form, as in the config file: direction, policy,
 * priority, protocol, port_range, source_port_range, icmp_type, icmp_code, source_cidr,
 * dest_cidr, source_group, dest_group, source_prefix_list, dest_prefix_list, description, or
 * Alibaba's name of one (sg_rule_field_name()); values in either vocabulary (Accept, in, TCP).
 * Returns 0, or -EINVAL with 'err' naming the field and the value at fault.
 */
int sg_rule_set(struct sg_rule *rule, const char *field, const char *value, struct sg_error *err);
/**
 * Store a description (free text, any valid UTF-8 up to SG_DESC_MAX-1 bytes) for 'what'
 * ("security group \"sg-db\"", ...). 0, or -EINVAL with 'err' when it is too long or not
 * UTF-8. Printing it is the printer's business: it may hold quotes, newlines or config syntax.
 */
int sg_description_set(char dst[SG_DESC_MAX], const char *value, const char *what, int line,
		struct sg_error *err);
/** Set a group field from text: type, inner_access_policy, description, or Alibaba's name of
 * one (SecurityGroupType normal/enterprise, InnerAccessPolicy Accept/Drop, Description). */
int sg_group_set(struct sg_group *group, const char *field, const char *value,
		struct sg_error *err);
/**
 * sgfw's name of a rule or group field given in Alibaba Cloud's API vocabulary
 * ("SourceCidrIp" and "Ipv6SourceCidrIp" -> "source_cidr", "SecurityGroupType" -> "type"), or
 * 'field' itself. sg_rule_set() and sg_group_set() take either name (docs/config.md has the
 * table).
 */
const char *sg_rule_field_name(const char *field);
const char *sg_group_field_name(const char *field);
/**
 * -EINVAL with 'err' ("port_range and PortRange name the same field (port_range); give one of
 * them") when 'a' and 'b' are two spellings of one rule field (of one group field when
 * 'group'); 0 when they are different fields or the same name.
 */
int sg_field_spellings_check(
		const char *a, const char *b, bool group, int line, struct sg_error *err);
/** Set limits from text: groups_per_port, rules_per_group, rules_per_port, group_peers_per_group. */
int sg_limits_set(struct sg_limits *limits, const char *field, const char *value, int line,
		struct sg_error *err);

/** True when two rules match the same traffic with the same action and priority (D2). */
bool sg_rule_same(const struct sg_rule *a, const struct sg_rule *b);
/** A hash of the fields sg_rule_same() compares: same rules, same hash. */
uint64_t sg_rule_hash(const struct sg_rule *r);
/**
 * The rules of 'group' that are not later copies of an identical earlier rule (D2), which the
 * compiler drops: kept[norm] is the config position of compiled rule 'norm'. 'kept' has room
 * for group->n_rules. Returns how many are kept, or -ENOMEM. Linear in the group's size.
 */
int sg_group_unique_rules(const struct sg_group *group, uint32_t *kept);

/* ---- The compiled policy (immutable) ---- */

struct sg_policy;

enum sg_origin {
	SG_ORIGIN_INNER = 0, /**< Hidden accept between members of a basic group (D4). */
	SG_ORIGIN_RULE,      /**< A user rule. */
	SG_ORIGIN_DEFAULT,   /**< The group type's default for the direction (D3). */
};

/** Priority shown for hidden rules: inner accepts come first, defaults last. */
#define SG_PRIORITY_INNER 0
#define SG_PRIORITY_DEFAULT 101

/**
 * One entry of a port's merged, ordered list for a direction. Group peers, prefix lists
 * and the group members of hidden rules are expanded into 'peers'.
 */
struct sg_eff_rule {
	uint32_t id;             /**< Policy-wide rule id (see sg_policy_rule_count()). */
	enum sg_origin origin;
	enum sg_action action;
	uint32_t group;          /**< Group index (INNER, RULE). */
	uint32_t rule;           /**< Rule index in the group (RULE). */
	uint8_t priority;        /**< SG_PRIORITY_INNER, 1..100, or SG_PRIORITY_DEFAULT. */
	uint8_t family;          /**< 0: both families; else only SG_AF_INET or SG_AF_INET6. */
	int16_t proto;           /**< SG_PROTO_ANY or a protocol number. */
	struct sg_range dport;   /**< TCP/UDP only. */
	struct sg_range sport;   /**< TCP/UDP only. */
	int16_t icmp_type;       /**< ICMP/ICMPv6 only, -1 any. */
	int16_t icmp_code;       /**< ICMP/ICMPv6 only, -1 any. */
	bool peer_any;           /**< Matches every peer address. */
	const struct sg_prefix *peers; /**< Otherwise one of these (may be empty: matches none). */
	uint32_t n_peers;
};

/**
 * A flow as the policy sees it. For ICMP and ICMPv6, 'sport' carries the type and 'dport'
 * the code, as the classifier does.
 */
struct sg_flow {
	uint8_t proto;
	struct sg_ip src;
	struct sg_ip dst;
	uint16_t sport;
	uint16_t dport;
};

struct sg_verdict {
	enum sg_action action;
	const struct sg_eff_rule *rule; /**< The deciding entry (never NULL). */
	uint32_t position;              /**< 1-based place in the effective list. */
};

struct sg_path_verdict {
	enum sg_action action;   /**< Accept only if both checks accept. */
	struct sg_verdict egress;  /**< The sender's egress check. */
	struct sg_verdict ingress; /**< The receiver's ingress check. */
};

/**
 * Validate 'spec' whole and build the merged rule lists. Returns NULL and fills 'err' with the
 * first violation (field, value, the rule it breaks, and the config line) on bad input;
 * errno=ENOMEM on allocation failure. The policy keeps its own copy of the spec.
 */
struct sg_policy *sg_policy_compile(const struct sg_spec *spec, struct sg_error *err);
/** Free a policy; NULL is a no-op. */
void sg_policy_free(struct sg_policy *policy);

/** The normalised spec the policy was compiled from (identical rules merged). */
const struct sg_spec *sg_policy_spec(const struct sg_policy *policy);
/** Port index by name, or -ENOENT. Indices follow the spec's port order. */
int sg_policy_find_port(const struct sg_policy *policy, const char *name);
/** Group type shared by all groups of a port. */
enum sg_group_type sg_policy_port_type(const struct sg_policy *policy, uint32_t port);
/** Groups of a port (explicit and by tag), sorted by group id; returns the count. */
uint32_t sg_policy_port_groups(const struct sg_policy *policy, uint32_t port,
		const uint32_t **groups);
/** Ports attached to a group, explicitly or by tag; returns the count. */
uint32_t sg_policy_group_members(const struct sg_policy *policy, uint32_t group,
		const uint32_t **ports);
/** True when 'port' is attached to 'group' because of a shared tag (and not only explicitly). */
bool sg_policy_attached_by_tag(const struct sg_policy *policy, uint32_t port, uint32_t group);
/** The merged list of a port and direction; returns the count (never 0: a default ends it). */
uint32_t sg_policy_effective(const struct sg_policy *policy, uint32_t port, enum sg_dir dir,
		const struct sg_eff_rule **rules);
/** Number of policy-wide rule ids: user rules, then one inner rule per group, then defaults. */
uint32_t sg_policy_rule_count(const struct sg_policy *policy);
/** Describe a rule id for people: "sg-db rule 2", "sg-db inner access", "default ...". */
const char *sg_policy_rule_name(const struct sg_policy *policy, uint32_t id, char *buf,
		size_t size);
/**
 * The id in 'policy' of the rule that is rule 'old_id' of 'old' (the same rule of the same
 * group, the same group's inner rule, or the same default), or -ENOENT if it is gone. Used to
 * carry counters across policy changes.
 */
int sg_policy_same_rule(const struct sg_policy *policy, const struct sg_policy *old,
		uint32_t old_id);

/** Port index owning 'ip' (one of its addresses or inside one of its prefixes), or -ENOENT. */
int sg_policy_port_by_ip(const struct sg_policy *policy, const struct sg_ip *ip);

/**
 * Do two merged lists classify every flow to the same positions? (Same entries in the same
 * order, ignoring actions and rule ids.) With 'same_actions', the actions must match too, so
 * every flow also gets the same verdict.
 */
bool sg_eff_lists_equal(const struct sg_eff_rule *a, uint32_t n_a, const struct sg_eff_rule *b,
		uint32_t n_b, bool same_actions);

/** Does entry 'rule' match 'flow' seen in direction 'dir'? */
bool sg_eff_rule_matches(const struct sg_eff_rule *rule, enum sg_dir dir,
		const struct sg_flow *flow);
/** First-match verdict of 'port' for 'flow' in direction 'dir'. */
void sg_policy_decide(const struct sg_policy *policy, uint32_t port, enum sg_dir dir,
		const struct sg_flow *flow, struct sg_verdict *verdict);
/** Both checks of a packet sent by 'from' to 'to': from's egress and to's ingress. */
void sg_policy_decide_path(const struct sg_policy *policy, uint32_t from, uint32_t to,
		const struct sg_flow *flow, struct sg_path_verdict *verdict);

/* ---- Names ---- */

const char *sg_dir_name(enum sg_dir dir);
const char *sg_action_name(enum sg_action action);
const char *sg_group_type_name(enum sg_group_type type);
const char *sg_origin_name(enum sg_origin origin);
/** "tcp", "icmpv6", "all", or the number. */
const char *sg_proto_name(int proto, char *buf, size_t size);
/** Parse a protocol name or number; returns SG_PROTO_ANY for "all", -EINVAL if unknown. */
int sg_proto_parse(const char *text);
/** Parse "5432/5432": 0, or -EINVAL with 'err' explaining (line and field supplied). */
int sg_range_parse(const char *text, const char *field, int line, struct sg_range *range,
		bool *wildcard, struct sg_error *err);

#endif /* SG_POLICY_H */
