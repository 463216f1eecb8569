/* SPDX-License-Identifier: BSD-3-Clause */
/* Compile a spec into a policy: validate every rule of D1-D6 and D19 (docs/decisions.md), resolve
 * attachments (explicit and by tag) and merge each port's groups into one ordered list per
 * direction, with the hidden rules of D3/D4 made explicit and group peers expanded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_private.h"

/* Context prefix of a rule in messages: security group "sg-db" rule 2. */
#define RULE_FMT "security group \"%s\" rule %u"

/* Address family a rule is limited to by its protocol, 0 if none. */
static uint8_t
proto_family(int proto)
{
	return proto == IPPROTO_ICMP ? SG_AF_INET : proto == IPPROTO_ICMPV6 ? SG_AF_INET6 : 0;
}

static const char *
family_name(uint8_t family)
{
	return family == SG_AF_INET ? "IPv4" : "IPv6";
}

/* Kinds of keys in policy->names. */
enum { NAME_GROUP = 1, NAME_LIST, NAME_TAG };

/* Index of the first group (or prefix list) with id 'id', -ENOENT if none: what
 * sg_spec_find_group() and sg_spec_find_prefix_list() answer, by hash. */
static int
find_name(const struct sg_policy *policy, uint8_t kind, const char *id)
{
	uint32_t index;

	if (sg_keyset_find(&policy->names, kind, id, (uint32_t)strlen(id), &index) == 1)
		return (int)index;
	return -ENOENT;
}

/* Index every group id and prefix list id (the first of equal ones, as a search would). */
static int
index_names(struct sg_policy *policy)
{
	const struct sg_spec *spec = policy->spec;
	uint32_t first;
	int rc = 0;

	for (uint32_t g = 0; g < spec->n_groups && rc >= 0; g++)
		rc = sg_keyset_add(&policy->names, NAME_GROUP, spec->groups[g].id,
				(uint32_t)strlen(spec->groups[g].id), g, &first);
	for (uint32_t i = 0; i < spec->n_prefix_lists && rc >= 0; i++)
		rc = sg_keyset_add(&policy->names, NAME_LIST, spec->prefix_lists[i].id,
				(uint32_t)strlen(spec->prefix_lists[i].id), i, &first);
	return rc < 0 ? rc : 0;
}

/*
 * An identifier shows as what it is wherever it is printed: no control characters, no
 * bidirectional controls that would make "db1" of another name, valid UTF-8 (sg_name_check).
 * 'owner' (may be NULL) is what holds it, 'kind' what it is: 'port "db1": tag "x" holds...'.
 */
static int
check_name(const char *owner, const char *kind, const char *name, int line, struct sg_error *err)
{
	char why[96];

	if (sg_name_check(name, why, sizeof(why)) == 0)
		return 0;
	return sg_error_set(err, line, "%s%s%s \"%s\" %s", owner != NULL ? owner : "",
			owner != NULL ? ": " : "", kind, name, why);
}

static int
check_names(const char *owner, const char *kind, char (*names)[SG_NAME_MAX], uint32_t n,
		int line, struct sg_error *err)
{
	int rc;

	for (uint32_t i = 0; i < n; i++)
		if ((rc = check_name(owner, kind, names[i], line, err)) < 0)
			return rc;
	return 0;
}

static int
check_prefix_lists(const struct sg_policy *policy, struct sg_error *err)
{
	const struct sg_spec *spec = policy->spec;
	int first;

	for (uint32_t i = 0; i < spec->n_prefix_lists; i++) {
		const struct sg_prefix_list *list = &spec->prefix_lists[i];

		if (list->id[0] == '\0')
			return sg_error_set(err, list->line, "prefix list has no id");
		if (check_name(NULL, "prefix list id", list->id, list->line, err) < 0)
			return -EINVAL;
		first = find_name(policy, NAME_LIST, list->id);
		if (first >= 0 && (uint32_t)first < i)
			return sg_error_set(err, list->line,
					"prefix list \"%s\" is defined twice (first on line %d)",
					list->id, SG_LOC_LINE(spec->prefix_lists[first].line));
		if (list->n_entries == 0)
			return sg_error_set(err, list->line, "prefix list \"%s\" has no entries",
					list->id);
		for (uint32_t j = 1; j < list->n_entries; j++)
			if (list->entries[j].ip.family != list->entries[0].ip.family)
				return sg_error_set(err, list->line,
						"prefix list \"%s\" mixes IPv4 and IPv6 entries; use one "
						"list per address family",
						list->id);
	}
	return 0;
}

/* The address family a rule's peer is limited to, 0 for groups (both). */
static uint8_t
peer_family(const struct sg_policy *policy, const struct sg_rule *rule)
{
	const struct sg_spec *spec = policy->spec;
	int list;

	if (rule->peer_kind == SG_PEER_CIDR)
		return rule->cidr.ip.family;
	if (rule->peer_kind == SG_PEER_PREFIX_LIST) {
		list = find_name(policy, NAME_LIST, rule->peer);
		if (list >= 0)
			return spec->prefix_lists[list].entries[0].ip.family;
	}
	return 0;
}

static const char *
peer_field(const struct sg_rule *rule)
{
	static const char *const names[2][4] = {
		{"", "dest_cidr", "dest_group", "dest_prefix_list"},
		{"", "source_cidr", "source_group", "source_prefix_list"},
	};

	return names[rule->peer_is_source][rule->peer_kind];
}

static int
check_rule(const struct sg_policy *policy, const struct sg_group *group, uint32_t index,
		struct sg_error *err)
{
	const struct sg_spec *spec = policy->spec;
	const struct sg_rule *rule = &group->rules[index];
	const char *side = rule->dir == SG_DIR_INGRESS ? "source" : "dest";
	char proto_buf[8];
	const char *proto = sg_proto_name(rule->proto, proto_buf, sizeof(proto_buf));
	unsigned int n = index + 1;
	uint8_t family;

	if (!(rule->fields & SG_RULE_F_DIRECTION))
		return sg_error_set(err, rule->line, RULE_FMT " has no direction (ingress or egress)",
				group->id, n);
	if (rule->n_peers_given == 0)
		return sg_error_set(err, rule->line,
				RULE_FMT " has no peer: give one of %s_cidr, %s_group or "
				"%s_prefix_list (\"0.0.0.0/0\" for any IPv4 address)",
				group->id, n, side, side, side);
	if (rule->n_peers_given > 1)
		return sg_error_set(err, rule->line,
				RULE_FMT " has %u peers; a rule takes exactly one of %s_cidr, "
				"%s_group or %s_prefix_list (D1)",
				group->id, n, rule->n_peers_given, side, side, side);
	if (rule->peer_is_source != (rule->dir == SG_DIR_INGRESS))
		return sg_error_set(err, rule->line,
				RULE_FMT " is an %s rule, so its peer is the %s: use %s_%s instead of "
				"%s",
				group->id, n, sg_dir_name(rule->dir),
				rule->dir == SG_DIR_INGRESS ? "source" : "destination", side,
				strchr(peer_field(rule), '_') + 1, peer_field(rule));
	if (sg_proto_has_ports(rule->proto)) {
		if (!(rule->fields & SG_RULE_F_PORT_RANGE))
			return sg_error_set(err, rule->line,
					RULE_FMT " (protocol %s) needs port_range, for example "
					"\"22/22\", or \"1/65535\" for every port",
					group->id, n, proto);
		if (rule->dport_wildcard)
			return sg_error_set(err, rule->line,
					RULE_FMT ": port_range \"-1/-1\" is for protocols without "
					"ports; use \"1/65535\" for every %s port",
					group->id, n, proto);
	} else {
		if ((rule->fields & SG_RULE_F_PORT_RANGE) && !rule->dport_wildcard)
			return sg_error_set(err, rule->line,
					RULE_FMT ": port_range applies to tcp and udp only; protocol "
					"%s takes \"-1/-1\" or no port_range",
					group->id, n, proto);
		if (rule->fields & SG_RULE_F_SOURCE_PORT_RANGE)
			return sg_error_set(err, rule->line,
					RULE_FMT ": source_port_range applies to tcp and udp only, "
					"not to protocol %s",
					group->id, n, proto);
	}
	if (!sg_proto_is_icmp(rule->proto) &&
			(rule->fields & (SG_RULE_F_ICMP_TYPE | SG_RULE_F_ICMP_CODE)))
		return sg_error_set(err, rule->line,
				RULE_FMT ": icmp_type and icmp_code apply to icmp and icmpv6 only, "
				"not to protocol %s",
				group->id, n, proto);
	if ((rule->fields & SG_RULE_F_ICMP_CODE) && !(rule->fields & SG_RULE_F_ICMP_TYPE))
		return sg_error_set(err, rule->line, RULE_FMT ": icmp_code %d needs an icmp_type",
				group->id, n, rule->icmp_code);

	if (rule->peer_kind == SG_PEER_GROUP) {
		int peer = find_name(policy, NAME_GROUP, rule->peer);

		if (group->type == SG_GROUP_ENTERPRISE)
			return sg_error_set(err, rule->line,
					RULE_FMT ": %s \"%s\": an enterprise group cannot name a "
					"group as its peer (D5); use a CIDR or prefix list",
					group->id, n, peer_field(rule), rule->peer);
		if (peer < 0)
			return sg_error_set(err, rule->line,
					RULE_FMT ": %s \"%s\" is not a defined security group",
					group->id, n, peer_field(rule), rule->peer);
		if (spec->groups[peer].type == SG_GROUP_ENTERPRISE)
			return sg_error_set(err, rule->line,
					RULE_FMT ": %s \"%s\" is an enterprise group; only basic "
					"groups can be named as peers (D5)",
					group->id, n, peer_field(rule), rule->peer);
	} else if (rule->peer_kind == SG_PEER_PREFIX_LIST &&
			find_name(policy, NAME_LIST, rule->peer) < 0) {
		return sg_error_set(err, rule->line,
				RULE_FMT ": %s \"%s\" is not a defined prefix list", group->id, n,
				peer_field(rule), rule->peer);
	}
	family = peer_family(policy, rule);
	if (family != 0 && proto_family(rule->proto) != 0 && family != proto_family(rule->proto)) {
		char peer[SG_PREFIX_STRLEN];

		if (rule->peer_kind == SG_PEER_CIDR)
			sg_prefix_format(&rule->cidr, peer, sizeof(peer));
		else
			snprintf(peer, sizeof(peer), "\"%s\"", rule->peer);
		return sg_error_set(err, rule->line,
				RULE_FMT ": %s %s is %s but protocol %s needs %s (use %s)", group->id,
				n, peer_field(rule), peer, family_name(family), proto,
				family_name(proto_family(rule->proto)),
				rule->proto == IPPROTO_ICMP ? "icmpv6" : "icmp");
	}
	return 0;
}

/* Remove later copies of identical rules (D2) and repeated tags: both add nothing. */
static int
normalise_group(struct sg_group *group)
{
	uint32_t *kept = malloc((group->n_rules + 1u) * sizeof(*kept));
	int n = kept != NULL ? sg_group_unique_rules(group, kept) : -ENOMEM;

	if (n < 0) {
		free(kept);
		return -ENOMEM;
	}
	/* kept[] only grows and kept[i] >= i: copying forward never overwrites a rule to keep. */
	for (uint32_t i = 0; i < (uint32_t)n; i++)
		if (kept[i] != i)
			group->rules[i] = group->rules[kept[i]];
	group->n_rules = (uint32_t)n;
	free(kept);
	for (uint32_t i = 1; i < group->n_tags;) {
		if (sg_names_contain(group->tags, i, group->tags[i])) {
			memmove(group->tags[i], group->tags[i + 1],
					(group->n_tags - i - 1) * sizeof(group->tags[0]));
			group->n_tags--;
		} else {
			i++;
		}
	}
	return 0;
}

static int
check_groups(struct sg_policy *policy, struct sg_error *err)
{
	struct sg_spec *spec = policy->spec;
	const struct sg_limits *limits = &spec->limits;
	int rc, first;

	for (uint32_t g = 0; g < spec->n_groups; g++) {
		struct sg_group *group = &spec->groups[g];
		uint32_t group_peers = 0;
		char owner[SG_NAME_MAX + 24];

		if (group->id[0] == '\0')
			return sg_error_set(err, group->line, "security group has no id");
		if (check_name(NULL, "security group id", group->id, group->line, err) < 0)
			return -EINVAL;
		snprintf(owner, sizeof(owner), "security group \"%s\"", group->id);
		if (check_names(owner, "tag", group->tags, group->n_tags, group->line, err) < 0)
			return -EINVAL;
		first = find_name(policy, NAME_GROUP, group->id);
		if (first >= 0 && (uint32_t)first < g)
			return sg_error_set(err, group->line,
					"security group \"%s\" is defined twice (first on line %d)",
					group->id, SG_LOC_LINE(spec->groups[first].line));
		if (group->type == SG_GROUP_ENTERPRISE) {
			if (group->inner_access_given && group->inner_access == SG_ACTION_ACCEPT)
				return sg_error_set(err, group->line,
						"security group \"%s\": inner_access_policy \"accept\" "
						"is not allowed on an enterprise group; enterprise "
						"groups always isolate their members (D4)",
						group->id);
			group->inner_access = SG_ACTION_DROP;
		}
		for (uint32_t r = 0; r < group->n_rules; r++) {
			rc = check_rule(policy, group, r, err);
			if (rc < 0)
				return rc;
		}
		if (normalise_group(group) < 0)
			return sg_error_set(err, group->line, "out of memory");
		if (group->n_rules > limits->rules_per_group)
			return sg_error_set(err, group->line,
					"security group \"%s\" has %u rules; the limit is %u "
					"(limits.rules_per_group, D6)",
					group->id, group->n_rules, limits->rules_per_group);
		for (uint32_t r = 0; r < group->n_rules; r++)
			group_peers += group->rules[r].peer_kind == SG_PEER_GROUP;
		if (group_peers > limits->group_peers_per_group)
			return sg_error_set(err, group->line,
					"security group \"%s\" has %u rules naming a group peer; the "
					"limit is %u (limits.group_peers_per_group, D5)",
					group->id, group_peers, limits->group_peers_per_group);
	}
	return 0;
}

static bool
mac_is_zero(const uint8_t mac[6])
{
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

static bool
prefixes_overlap(const struct sg_prefix *a, const struct sg_prefix *b)
{
	return sg_prefix_covers(a, b) || sg_prefix_covers(b, a);
}

/* A port's allowed prefixes are apart from each other (its own addresses may lie in them). */
static int
check_port_prefixes(const struct sg_spec_port *port, struct sg_error *err)
{
	char a[SG_PREFIX_STRLEN], b[SG_PREFIX_STRLEN];

	for (uint32_t i = 0; i < port->n_prefixes; i++) {
		sg_prefix_format(&port->prefixes[i], a, sizeof(a));
		for (uint32_t j = 0; j < i; j++) {
			if (sg_prefix_equal(&port->prefixes[i], &port->prefixes[j]))
				return sg_error_set(err, port->line,
						"port \"%s\" lists allowed prefix %s twice",
						port->name, a);
			if (prefixes_overlap(&port->prefixes[i], &port->prefixes[j]))
				return sg_error_set(err, port->line,
						"port \"%s\": allowed prefix %s overlaps its "
						"allowed prefix %s",
						port->name, a,
						sg_prefix_format(&port->prefixes[j], b, sizeof(b)));
		}
	}
	return 0;
}

/*
 * An address belongs to one port: 'port's prefixes hold none of the addresses of 'other' and
 * overlap none of its prefixes. 'line' is the later port's, where a file read top down goes
 * wrong.
 */
static int
check_prefixes_apart(const struct sg_spec_port *port, const struct sg_spec_port *other, int line,
		struct sg_error *err)
{
	char a[SG_PREFIX_STRLEN], b[SG_PREFIX_STRLEN];

	for (uint32_t i = 0; i < port->n_prefixes; i++) {
		const struct sg_prefix *pfx = &port->prefixes[i];

		sg_prefix_format(pfx, a, sizeof(a));
		for (uint32_t j = 0; j < other->n_ips; j++)
			if (sg_prefix_contains(pfx, &other->ips[j]))
				return sg_error_set(err, line,
						"allowed prefix %s of port \"%s\" holds ip %s of "
						"port \"%s\"; an address belongs to one port",
						a, port->name,
						sg_ip_format(&other->ips[j], b, sizeof(b)),
						other->name);
		for (uint32_t j = 0; j < other->n_prefixes; j++)
			if (prefixes_overlap(pfx, &other->prefixes[j]))
				return sg_error_set(err, line,
						"allowed prefix %s of port \"%s\" overlaps allowed "
						"prefix %s of port \"%s\"; an address belongs to "
						"one port",
						a, port->name,
						sg_prefix_format(&other->prefixes[j], b, sizeof(b)),
						other->name);
	}
	return 0;
}

/* What check_port_identity() has seen: names, MACs and addresses of the ports before, by
 * hash (a fleet has many ports: no pairwise loop), and which of them have allowed prefixes. */
struct identities {
	struct sg_keyset keys;
	uint32_t *prefixed;
	uint32_t n_prefixed;
	bool apart;                 /* No port's prefix meets another port's address. */
};

/* An address (a host prefix) or an allowed prefix, with its port. */
struct addr_ref {
	struct sg_prefix pfx;
	uint32_t port;
};

static int
cmp_addr_start(const struct addr_ref *a, const struct addr_ref *b)
{
	if (a->pfx.ip.family != b->pfx.ip.family)
		return a->pfx.ip.family < b->pfx.ip.family ? -1 : 1;
	return memcmp(a->pfx.ip.bytes, b->pfx.ip.bytes, a->pfx.ip.family == SG_AF_INET ? 4 : 16);
}

static int
cmp_addr_ref(const void *a, const void *b)
{
	const struct addr_ref *x = a, *y = b;
	int c = cmp_addr_start(x, y);

	return c != 0 ? c : x->pfx.len < y->pfx.len ? -1 : x->pfx.len > y->pfx.len;
}

/*
 * Whether every port's allowed prefixes are apart from every other port's addresses and
 * prefixes, in one sorted pass instead of a look at every pair of ports: prefixes (host bits
 * clear, so two either nest or are apart) are all apart when each is apart from the next in
 * address order, and the addresses inside a prefix are a run of the sorted addresses. When
 * not (*apart false), check_port_identity() searches pairwise for the first clash to name.
 */
static int
prefixes_apart(const struct sg_spec *spec, bool *apart)
{
	struct addr_ref *pfx, *ips;
	uint32_t n_pfx = 0, n_ips = 0, np = 0, ni = 0;

	*apart = true;
	for (uint32_t p = 0; p < spec->n_ports; p++) {
		n_pfx += spec->ports[p].n_prefixes;
		n_ips += spec->ports[p].n_ips;
	}
	if (n_pfx == 0)
		return 0;
	pfx = calloc(n_pfx, sizeof(*pfx));
	ips = calloc(n_ips ? n_ips : 1, sizeof(*ips));
	if (pfx == NULL || ips == NULL) {
		free(pfx);
		free(ips);
		return -ENOMEM;
	}
	for (uint32_t p = 0; p < spec->n_ports; p++) {
		const struct sg_spec_port *port = &spec->ports[p];

		for (uint32_t i = 0; i < port->n_prefixes; i++)
			pfx[np++] = (struct addr_ref){.pfx = port->prefixes[i], .port = p};
		for (uint32_t i = 0; i < port->n_ips; i++)
			ips[ni++] = (struct addr_ref){
				.pfx = sg_prefix_host(&port->ips[i]), .port = p};
	}
	qsort(pfx, n_pfx, sizeof(*pfx), cmp_addr_ref);
	qsort(ips, n_ips, sizeof(*ips), cmp_addr_ref);
	for (uint32_t i = 0; i + 1 < n_pfx && *apart; i++)
		*apart = !prefixes_overlap(&pfx[i].pfx, &pfx[i + 1].pfx);
	for (uint32_t i = 0; i < n_pfx && *apart; i++) {
		uint32_t lo = 0, hi = n_ips;

		while (lo < hi) { /* the first address not below the prefix's first */
			uint32_t mid = lo + (hi - lo) / 2;

			if (cmp_addr_start(&ips[mid], &pfx[i]) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < n_ips && *apart && sg_prefix_contains(&pfx[i].pfx, &ips[lo].pfx.ip);
				lo++)
			*apart = ips[lo].port == pfx[i].port;
	}
	free(pfx);
	free(ips);
	return 0;
}

enum { ID_NAME = 1, ID_MAC, ID_IP4, ID_IP6 };

static int
check_port_identity(const struct sg_spec *spec, uint32_t p, struct identities *ids,
		struct sg_error *err)
{
	const struct sg_spec_port *port = &spec->ports[p];
	char text[SG_IP_STRLEN], owner[SG_NAME_MAX + 8];
	uint32_t q;
	int rc;

	if (port->name[0] == '\0')
		return sg_error_set(err, port->line, "port has no name");
	if (check_name(NULL, "port name", port->name, port->line, err) < 0)
		return -EINVAL;
	snprintf(owner, sizeof(owner), "port \"%s\"", port->name);
	if (check_names(owner, "tag", port->tags, port->n_tags, port->line, err) < 0)
		return -EINVAL;
	if (!port->has_mac)
		return sg_error_set(err, port->line, "port \"%s\" has no mac", port->name);
	if ((port->mac[0] & 1) || mac_is_zero(port->mac)) {
		sg_mac_format(port->mac, text, sizeof(text));
		return sg_error_set(err, port->line,
				"port \"%s\": mac %s is not a unicast address", port->name, text);
	}
	for (uint32_t i = 0; i < port->n_ips; i++)
		for (uint32_t j = 0; j < i; j++)
			if (sg_ip_equal(&port->ips[i], &port->ips[j]))
				return sg_error_set(err, port->line, "port \"%s\" lists ip %s twice",
						port->name,
						sg_ip_format(&port->ips[i], text, sizeof(text)));
	if (check_port_prefixes(port, err) < 0)
		return -EINVAL;
	rc = sg_keyset_add(&ids->keys, ID_NAME, port->name, (uint32_t)strlen(port->name), p, &q);
	if (rc == 1)
		return sg_error_set(err, port->line, "port \"%s\" is defined twice (first on line %d)",
				port->name, SG_LOC_LINE(spec->ports[q].line));
	if (rc == 0 && (rc = sg_keyset_add(&ids->keys, ID_MAC, port->mac, 6, p, &q)) == 1)
		return sg_error_set(err, port->line,
				"port \"%s\": mac %s is already used by port \"%s\"", port->name,
				sg_mac_format(port->mac, text, sizeof(text)), spec->ports[q].name);
	for (uint32_t i = 0; i < port->n_ips && rc == 0; i++) {
		const struct sg_ip *ip = &port->ips[i];

		rc = ip->family == SG_AF_INET ? sg_keyset_add(&ids->keys, ID_IP4, ip->bytes, 4, p, &q)
					      : sg_keyset_add(&ids->keys, ID_IP6, ip->bytes, 16, p, &q);
		if (rc == 1)
			return sg_error_set(err, port->line,
					"port \"%s\": ip %s is already used by port \"%s\"", port->name,
					sg_ip_format(ip, text, sizeof(text)), spec->ports[q].name);
	}
	if (rc < 0)
		return rc;
	/* Prefixes against the ports before: all of them for a port with prefixes, else only
	 * those that have prefixes; only when prefixes_apart() saw a clash somewhere. */
	if (ids->apart)
		return 0;
	if (port->n_prefixes > 0) {
		for (q = 0; q < p; q++)
			if (check_prefixes_apart(port, &spec->ports[q], port->line, err) < 0 ||
					check_prefixes_apart(&spec->ports[q], port, port->line, err) < 0)
				return -EINVAL;
		ids->prefixed[ids->n_prefixed++] = p;
	} else {
		for (uint32_t k = 0; k < ids->n_prefixed; k++)
			if (check_prefixes_apart(&spec->ports[ids->prefixed[k]], port, port->line,
					    err) < 0)
				return -EINVAL;
	}
	return 0;
}

/*
 * Number the tags of the groups (policy->names) and list, per tag, the groups carrying it: a
 * port then finds its groups by tag through its own tags, not by a look at every group.
 * Runs after check_groups() (a group's tags are unique then).
 */
static int
index_tags(struct sg_policy *policy)
{
	const struct sg_spec *spec = policy->spec;
	uint32_t n_tags = 0, total = 0, t, *fill;
	int rc;

	for (uint32_t g = 0; g < spec->n_groups; g++) {
		const struct sg_group *group = &spec->groups[g];

		for (uint32_t i = 0; i < group->n_tags; i++) {
			rc = sg_keyset_add(&policy->names, NAME_TAG, group->tags[i],
					(uint32_t)strlen(group->tags[i]), n_tags, &t);
			if (rc < 0)
				return rc;
			n_tags += rc == 0;
			total++;
		}
	}
	policy->tag_start = calloc(n_tags + 1u, sizeof(uint32_t));
	policy->tag_groups = calloc(total ? total : 1, sizeof(uint32_t));
	fill = calloc(n_tags ? n_tags : 1, sizeof(uint32_t));
	if (policy->tag_start == NULL || policy->tag_groups == NULL || fill == NULL) {
		free(fill);
		return -ENOMEM;
	}
	for (uint32_t g = 0; g < spec->n_groups; g++)
		for (uint32_t i = 0; i < spec->groups[g].n_tags; i++)
			fill[find_name(policy, NAME_TAG, spec->groups[g].tags[i])]++;
	for (t = 0; t < n_tags; t++) {
		policy->tag_start[t + 1] = policy->tag_start[t] + fill[t];
		fill[t] = policy->tag_start[t];
	}
	for (uint32_t g = 0; g < spec->n_groups; g++) {
		for (uint32_t i = 0; i < spec->groups[g].n_tags; i++) {
			t = (uint32_t)find_name(policy, NAME_TAG, spec->groups[g].tags[i]);
			policy->tag_groups[fill[t]++] = g;
		}
	}
	free(fill);
	return 0;
}

/* The groups carrying tag 'tag': *first and the count, 0 when no group carries it. */
static uint32_t
tag_groups(const struct sg_policy *policy, const char *tag, const uint32_t **first)
{
	int t = find_name(policy, NAME_TAG, tag);

	if (t < 0)
		return 0;
	*first = &policy->tag_groups[policy->tag_start[t]];
	return policy->tag_start[t + 1] - policy->tag_start[t];
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static const struct sg_spec *sort_spec; /* qsort has no context argument in C11. */

static int
cmp_group_ids(const void *a, const void *b)
{
	return strcmp(sort_spec->groups[*(const uint32_t *)a].id,
			sort_spec->groups[*(const uint32_t *)b].id);
}

/* Resolve a port's groups: explicit ones, then those sharing a tag; check D3 and D6. */
static int
attach_port(struct sg_policy *policy, uint32_t p, struct sg_error *err)
{
	const struct sg_spec *spec = policy->spec;
	const struct sg_spec_port *port = &spec->ports[p];
	struct policy_port *pp = &policy->ports[p];
	uint32_t n = 0, rules = 0, cap = port->n_groups, n_explicit, kept;
	const uint32_t *tagged_groups;
	int g;

	/* Sized by what the port has: its groups and those of its tags, never all groups. */
	for (uint32_t i = 0; i < port->n_tags; i++)
		cap += tag_groups(policy, port->tags[i], &tagged_groups);
	pp->groups = calloc(cap ? cap : 1, sizeof(*pp->groups));
	pp->by_tag = calloc(cap ? cap : 1, sizeof(*pp->by_tag));
	if (pp->groups == NULL || pp->by_tag == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < port->n_groups; i++) {
		g = find_name(policy, NAME_GROUP, port->groups[i]);
		if (g < 0)
			return sg_error_set(err, port->line,
					"port \"%s\": security group \"%s\" is not defined", port->name,
					port->groups[i]);
		if (sg_names_contain(port->groups, i, port->groups[i]))
			return sg_error_set(err, port->line,
					"port \"%s\" lists security group \"%s\" twice", port->name,
					port->groups[i]);
		pp->groups[n++] = (uint32_t)g;
	}
	/* Then the groups sharing a tag with the port, in group order, each once. */
	n_explicit = n;
	for (uint32_t i = 0; i < port->n_tags; i++) {
		uint32_t count = tag_groups(policy, port->tags[i], &tagged_groups);

		for (uint32_t k = 0; k < count; k++)
			if (!sg_names_contain(port->groups, port->n_groups,
					    spec->groups[tagged_groups[k]].id))
				pp->groups[n++] = tagged_groups[k];
	}
	qsort(pp->groups + n_explicit, n - n_explicit, sizeof(*pp->groups), cmp_u32);
	kept = n_explicit;
	for (uint32_t i = n_explicit; i < n; i++)
		if (i == n_explicit || pp->groups[i] != pp->groups[i - 1]) {
			pp->by_tag[kept] = true;
			pp->groups[kept++] = pp->groups[i];
		}
	n = kept;
	if (n == 0)
		return sg_error_set(err, port->line,
				"port \"%s\" is in no security group; every port needs at least one "
				"(by security_groups or a tag a group carries)",
				port->name);
	if (n > spec->limits.groups_per_port)
		return sg_error_set(err, port->line,
				"port \"%s\" is in %u security groups; the limit is %u "
				"(limits.groups_per_port, D6)",
				port->name, n, spec->limits.groups_per_port);
	for (uint32_t i = 0; i < n; i++) {
		const struct sg_group *group = &spec->groups[pp->groups[i]];

		if (group->type != spec->groups[pp->groups[0]].type)
			return sg_error_set(err, port->line,
					"port \"%s\" mixes basic and enterprise security groups (\"%s\" "
					"is %s, \"%s\" is %s); all groups of a port must be one type "
					"(D3)",
					port->name, spec->groups[pp->groups[0]].id,
					sg_group_type_name(spec->groups[pp->groups[0]].type), group->id,
					sg_group_type_name(group->type));
		rules += group->n_rules;
	}
	if (rules > spec->limits.rules_per_port)
		return sg_error_set(err, port->line,
				"port \"%s\" gets %u rules from its security groups; the limit is %u "
				"(limits.rules_per_port, D6)",
				port->name, rules, spec->limits.rules_per_port);
	pp->type = spec->groups[pp->groups[0]].type;
	pp->n_groups = n;
	/* Sort groups by id (D2: attachment order does not matter), carrying by_tag along. */
	{
		uint32_t explicit_groups[n];
		bool tagged[n];

		memcpy(explicit_groups, pp->groups, n * sizeof(*pp->groups));
		memcpy(tagged, pp->by_tag, n * sizeof(*pp->by_tag));
		sort_spec = spec;
		qsort(pp->groups, n, sizeof(*pp->groups), cmp_group_ids);
		for (uint32_t i = 0; i < n; i++)
			for (uint32_t j = 0; j < n; j++)
				if (explicit_groups[j] == pp->groups[i])
					pp->by_tag[i] = tagged[j];
	}
	return 0;
}

/* Each group's members, in port order: counted first, then each list allocated once. */
static int
collect_members(struct sg_policy *policy)
{
	const struct sg_spec *spec = policy->spec;

	for (uint32_t p = 0; p < spec->n_ports; p++)
		for (uint32_t i = 0; i < policy->ports[p].n_groups; i++)
			policy->groups[policy->ports[p].groups[i]].n_members++;
	for (uint32_t g = 0; g < spec->n_groups; g++) {
		struct policy_group *pg = &policy->groups[g];

		pg->members = calloc(pg->n_members ? pg->n_members : 1, sizeof(uint32_t));
		if (pg->members == NULL)
			return -ENOMEM;
		pg->n_members = 0;
	}
	for (uint32_t p = 0; p < spec->n_ports; p++) {
		const struct policy_port *pp = &policy->ports[p];

		for (uint32_t i = 0; i < pp->n_groups; i++) {
			struct policy_group *pg = &policy->groups[pp->groups[i]];

			pg->members[pg->n_members++] = p;
		}
	}
	return 0;
}

/* Addresses of a group's members of 'family' (0: both), leaving out port 'skip'. */
static int
member_addresses(const struct sg_policy *policy, uint32_t group, uint8_t family, int64_t skip,
		struct sg_eff_rule *eff)
{
	const struct policy_group *pg = &policy->groups[group];
	struct sg_prefix *peers;
	uint32_t n = 0, cap = 0;

	for (uint32_t i = 0; i < pg->n_members; i++)
		cap += policy->spec->ports[pg->members[i]].n_ips +
		       policy->spec->ports[pg->members[i]].n_prefixes;
	peers = calloc(cap ? cap : 1, sizeof(*peers));
	if (peers == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < pg->n_members; i++) {
		const struct sg_spec_port *port = &policy->spec->ports[pg->members[i]];

		if ((int64_t)pg->members[i] == skip)
			continue;
		for (uint32_t k = 0; k < port->n_ips; k++)
			if (family == 0 || port->ips[k].family == family)
				peers[n++] = sg_prefix_host(&port->ips[k]);
		/* Allowed prefixes are the member's addresses too (OpenStack puts allowed
		 * address pairs in remote-group sets); an address of the member inside one
		 * is matched twice, which changes no verdict. */
		for (uint32_t k = 0; k < port->n_prefixes; k++)
			if (family == 0 || port->prefixes[k].ip.family == family)
				peers[n++] = port->prefixes[k];
	}
	eff->peers = peers;
	eff->n_peers = n;
	return 0;
}

static int
expand_rule_peer(const struct sg_policy *policy, const struct sg_rule *rule,
		struct sg_eff_rule *eff)
{
	const struct sg_spec *spec = policy->spec;
	struct sg_prefix *peers;

	if (rule->peer_kind == SG_PEER_GROUP)
		return member_addresses(policy, (uint32_t)find_name(policy, NAME_GROUP, rule->peer),
				eff->family, -1, eff);
	if (rule->peer_kind == SG_PEER_PREFIX_LIST) {
		const struct sg_prefix_list *list =
				&spec->prefix_lists[find_name(policy, NAME_LIST, rule->peer)];

		peers = malloc(list->n_entries * sizeof(*peers));
		if (peers == NULL)
			return -ENOMEM;
		memcpy(peers, list->entries, list->n_entries * sizeof(*peers));
		eff->peers = peers;
		eff->n_peers = list->n_entries;
		return 0;
	}
	peers = malloc(sizeof(*peers));
	if (peers == NULL)
		return -ENOMEM;
	*peers = rule->cidr;
	eff->peers = peers;
	eff->n_peers = 1;
	return 0;
}

/* Sort key of a user rule in the merged list: priority, drop before accept, group, index. */
static uint64_t
merge_key(const struct sg_eff_rule *eff, uint32_t group_rank)
{
	return (uint64_t)eff->priority << 40 | (uint64_t)(eff->action == SG_ACTION_ACCEPT) << 39 |
			(uint64_t)group_rank << 24 | eff->rule;
}

struct keyed_rule {
	uint64_t key;
	struct sg_eff_rule eff;
};

static int
cmp_keyed(const void *a, const void *b)
{
	uint64_t ka = ((const struct keyed_rule *)a)->key, kb = ((const struct keyed_rule *)b)->key;

	return ka < kb ? -1 : ka > kb;
}

static enum policy_default
default_of(enum sg_group_type type, enum sg_dir dir)
{
	if (type == SG_GROUP_BASIC)
		return dir == SG_DIR_INGRESS ? POLICY_DEFAULT_BASIC_INGRESS :
					       POLICY_DEFAULT_BASIC_EGRESS;
	return dir == SG_DIR_INGRESS ? POLICY_DEFAULT_ENTERPRISE_INGRESS :
				       POLICY_DEFAULT_ENTERPRISE_EGRESS;
}

static struct sg_eff_rule
default_rule(const struct sg_policy *policy, enum policy_default def)
{
	return (struct sg_eff_rule){
		.id = policy_default_id(policy, def),
		.origin = SG_ORIGIN_DEFAULT,
		.action = def == POLICY_DEFAULT_BASIC_EGRESS ? SG_ACTION_ACCEPT : SG_ACTION_DROP,
		.priority = SG_PRIORITY_DEFAULT,
		.proto = SG_PROTO_ANY,
		.dport = {0, UINT16_MAX},
		.sport = {0, UINT16_MAX},
		.icmp_type = -1,
		.icmp_code = -1,
		.peer_any = true,
	};
}

static int
build_effective(struct sg_policy *policy, uint32_t p, enum sg_dir dir)
{
	const struct sg_spec *spec = policy->spec;
	struct policy_port *pp = &policy->ports[p];
	uint32_t n_user = 0, n = 0;
	struct keyed_rule *sorted;
	struct sg_eff_rule *list;
	int rc = -ENOMEM;

	/* A port on another host is enforced there: it gets its type's default alone, the
	 * policy's shared one-rule list, so compiling a fleet costs rule lists for the local
	 * ports only (its addresses still reach the lists of its groups' members through
	 * member_addresses()). */
	bool remote = spec->ports[p].remote;

	if (remote) {
		pp->eff[dir] = &policy->defaults[default_of(pp->type, dir)];
		pp->n_eff[dir] = 1;
		return 0;
	}
	for (uint32_t i = 0; i < pp->n_groups && !remote; i++)
		n_user += spec->groups[pp->groups[i]].n_rules;
	list = calloc(pp->n_groups + n_user + 1, sizeof(*list));
	sorted = calloc(n_user ? n_user : 1, sizeof(*sorted));
	if (list == NULL || sorted == NULL)
		goto out;
	pp->eff[dir] = list;

	/* D4: basic groups that accept inner traffic do so before any custom rule. */
	for (uint32_t i = 0; i < pp->n_groups && !remote; i++) {
		uint32_t g = pp->groups[i];
		struct sg_eff_rule *eff = &list[n];

		if (spec->groups[g].type != SG_GROUP_BASIC ||
				spec->groups[g].inner_access != SG_ACTION_ACCEPT)
			continue;
		*eff = (struct sg_eff_rule){
			.id = policy_inner_id(policy, g),
			.origin = SG_ORIGIN_INNER,
			.action = SG_ACTION_ACCEPT,
			.group = g,
			.priority = SG_PRIORITY_INNER,
			.proto = SG_PROTO_ANY,
			.dport = {0, UINT16_MAX},
			.sport = {0, UINT16_MAX},
			.icmp_type = -1,
			.icmp_code = -1,
		};
		n++;
		pp->n_eff[dir] = n;
		if ((rc = member_addresses(policy, g, 0, p, eff)) < 0)
			goto out;
	}

	n_user = 0;
	for (uint32_t i = 0; i < pp->n_groups && !remote; i++) {
		uint32_t g = pp->groups[i];
		const struct sg_group *group = &spec->groups[g];

		for (uint32_t r = 0; r < group->n_rules; r++) {
			const struct sg_rule *rule = &group->rules[r];
			struct keyed_rule *k = &sorted[n_user];

			if (rule->dir != dir)
				continue;
			k->eff = (struct sg_eff_rule){
				.id = policy->rule_base[g] + r,
				.origin = SG_ORIGIN_RULE,
				.action = rule->action,
				.group = g,
				.rule = r,
				.priority = (uint8_t)rule->priority,
				.proto = (int16_t)rule->proto,
				.dport = rule->dport,
				.sport = rule->sport,
				.icmp_type = (int16_t)rule->icmp_type,
				.icmp_code = (int16_t)rule->icmp_code,
			};
			k->eff.family = proto_family(rule->proto);
			if (k->eff.family == 0)
				k->eff.family = peer_family(policy, rule);
			k->key = merge_key(&k->eff, i);
			n_user++;
		}
	}
	qsort(sorted, n_user, sizeof(*sorted), cmp_keyed);
	for (uint32_t i = 0; i < n_user; i++) {
		const struct sg_rule *rule = &spec->groups[sorted[i].eff.group].rules[sorted[i].eff.rule];

		list[n] = sorted[i].eff;
		n++;
		pp->n_eff[dir] = n;
		if ((rc = expand_rule_peer(policy, rule, &list[n - 1])) < 0)
			goto out;
	}

	/* D3: the group type's default ends the list and always matches. */
	list[n++] = default_rule(policy, default_of(pp->type, dir));
	pp->n_eff[dir] = n;
	rc = 0;
out:
	free(sorted);
	return rc;
}

void
sg_policy_free(struct sg_policy *policy)
{
	if (policy == NULL)
		return;
	if (policy->ports != NULL) {
		for (uint32_t p = 0; p < policy->spec->n_ports; p++) {
			struct policy_port *pp = &policy->ports[p];

			for (int d = 0; d < SG_DIR_COUNT; d++) {
				if (pp->n_eff[d] == 1 &&
						pp->eff[d] == &policy->defaults[default_of(pp->type,
								      (enum sg_dir)d)])
					continue; /* a remote port's: shared */
				for (uint32_t i = 0; i < pp->n_eff[d]; i++)
					free((void *)pp->eff[d][i].peers);
				free(pp->eff[d]);
			}
			free(pp->groups);
			free(pp->by_tag);
		}
	}
	if (policy->groups != NULL)
		for (uint32_t g = 0; g < policy->spec->n_groups; g++)
			free(policy->groups[g].members);
	free(policy->ports);
	free(policy->groups);
	free(policy->rule_base);
	free(policy->tag_start);
	free(policy->tag_groups);
	sg_keyset_free(&policy->names);
	sg_spec_free(policy->spec);
	free(policy);
}

static int
check_limits(const struct sg_limits *limits, struct sg_error *err)
{
	if (limits->groups_per_port < 1 || limits->groups_per_port > 10)
		return sg_error_set(err, 0, "limits.groups_per_port %u is out of range 1..10 (D6)",
				limits->groups_per_port);
	if (limits->rules_per_group < 1 || limits->rules_per_port < 1)
		return sg_error_set(err, 0, "limits.rules_per_group and rules_per_port must be >= 1");
	return 0;
}

struct sg_policy *
sg_policy_compile(const struct sg_spec *spec, struct sg_error *err)
{
	struct sg_policy *policy = calloc(1, sizeof(*policy));
	int rc = -ENOMEM;

	if (policy == NULL)
		goto fail;
	policy->spec = sg_spec_clone(spec);
	if (policy->spec == NULL)
		goto fail;
	if ((rc = check_limits(&spec->limits, err)) < 0)
		goto fail;
	rc = -ENOMEM;
	if (index_names(policy) < 0)
		goto fail;
	if ((rc = check_prefix_lists(policy, err)) < 0 || (rc = check_groups(policy, err)) < 0)
		goto fail;
	if ((rc = index_tags(policy)) < 0)
		goto fail;
	{
		struct identities ids = {
			.prefixed = calloc(spec->n_ports + 1u, sizeof(uint32_t)),
		};

		rc = ids.prefixed == NULL ? -ENOMEM : prefixes_apart(policy->spec, &ids.apart);
		for (uint32_t p = 0; p < policy->spec->n_ports && rc == 0; p++)
			rc = check_port_identity(policy->spec, p, &ids, err);
		sg_keyset_free(&ids.keys);
		free(ids.prefixed);
		if (rc < 0)
			goto fail;
	}

	rc = -ENOMEM;
	policy->ports = calloc(spec->n_ports ? spec->n_ports : 1, sizeof(*policy->ports));
	policy->groups = calloc(spec->n_groups ? spec->n_groups : 1, sizeof(*policy->groups));
	policy->rule_base = calloc(spec->n_groups ? spec->n_groups : 1, sizeof(uint32_t));
	if (policy->ports == NULL || policy->groups == NULL || policy->rule_base == NULL)
		goto fail;
	for (uint32_t g = 0; g < policy->spec->n_groups; g++) {
		policy->rule_base[g] = policy->n_user_rules;
		policy->n_user_rules += policy->spec->groups[g].n_rules;
	}
	for (int d = 0; d < POLICY_DEFAULT_COUNT; d++)
		policy->defaults[d] = default_rule(policy, (enum policy_default)d);
	for (uint32_t p = 0; p < policy->spec->n_ports; p++)
		if ((rc = attach_port(policy, p, err)) < 0)
			goto fail;
	if ((rc = collect_members(policy)) < 0)
		goto fail;
	for (uint32_t p = 0; p < policy->spec->n_ports; p++)
		for (int d = 0; d < SG_DIR_COUNT; d++)
			if ((rc = build_effective(policy, p, (enum sg_dir)d)) < 0)
				goto fail;
	return policy;
fail:
	sg_policy_free(policy);
	errno = rc == -ENOMEM ? ENOMEM : EINVAL;
	if (rc == -ENOMEM)
		sg_error_set(err, 0, "out of memory while compiling the policy");
	return NULL;
}
