/* SPDX-License-Identifier: BSD-3-Clause */
/* The user model of security groups: building, copying and editing a spec, and parsing each
 * field from its text form so the config loader and online changes share one parser. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sg_policy.h"

/* Arrays grow in powers of two from 4: with 'n' elements the capacity is vec_cap(n). */
static uint32_t
vec_cap(uint32_t n)
{
	uint32_t cap = 4;

	if (n == 0)
		return 0;
	while (cap < n)
		cap *= 2;
	return cap;
}

/* Make room for element 'n' (the n+1th) of an array holding 'n' elements. */
static int
vec_reserve(void **array, uint32_t n, size_t elem)
{
	void *grown;
	uint32_t cap;

	if (n < vec_cap(n))
		return 0;
	cap = n == 0 ? 4 : n * 2;
	grown = realloc(*array, (size_t)cap * elem);
	if (grown == NULL) {
		errno = ENOMEM;
		return -ENOMEM;
	}
	*array = grown;
	return 0;
}

static void *
vec_dup(const void *array, uint32_t n, size_t elem)
{
	void *copy;

	if (n == 0)
		return NULL;
	copy = malloc((size_t)vec_cap(n) * elem);
	if (copy != NULL)
		memcpy(copy, array, (size_t)n * elem);
	return copy;
}

void
sg_limits_default(struct sg_limits *limits)
{
	limits->groups_per_port = 5;
	limits->rules_per_group = 200;
	limits->rules_per_port = 1000;
	limits->group_peers_per_group = 20;
}

struct sg_spec *
sg_spec_create(void)
{
	struct sg_spec *spec = calloc(1, sizeof(*spec));

	if (spec == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	sg_limits_default(&spec->limits);
	return spec;
}

static void
group_release(struct sg_group *group)
{
	free(group->tags);
	free(group->rules);
}

static void
port_release(struct sg_spec_port *port)
{
	free(port->ips);
	free(port->prefixes);
	free(port->tags);
	free(port->groups);
}

void
sg_spec_free(struct sg_spec *spec)
{
	if (spec == NULL)
		return;
	for (uint32_t i = 0; i < spec->n_groups; i++)
		group_release(&spec->groups[i]);
	for (uint32_t i = 0; i < spec->n_ports; i++)
		port_release(&spec->ports[i]);
	for (uint32_t i = 0; i < spec->n_prefix_lists; i++)
		free(spec->prefix_lists[i].entries);
	free(spec->groups);
	free(spec->ports);
	free(spec->prefix_lists);
	free(spec);
}

/* Copy an array field; false only when memory ran out. */
#define DUP_FIELD(dst, src, field, count)                                                          \
	(((dst)->field = vec_dup((src)->field, (src)->count, sizeof(*(src)->field))) != NULL ||     \
			(src)->count == 0)

struct sg_spec *
sg_spec_clone(const struct sg_spec *spec)
{
	struct sg_spec *copy = calloc(1, sizeof(*copy));
	bool ok;

	if (copy == NULL)
		goto fail;
	copy->limits = spec->limits;
	ok = DUP_FIELD(copy, spec, groups, n_groups) && DUP_FIELD(copy, spec, ports, n_ports) &&
			DUP_FIELD(copy, spec, prefix_lists, n_prefix_lists);
	if (!ok)
		goto fail;
	/* Element arrays still point at the source's: clear them first so a failure frees safely. */
	for (uint32_t i = 0; i < spec->n_groups; i++) {
		copy->groups[i].tags = NULL;
		copy->groups[i].rules = NULL;
	}
	for (uint32_t i = 0; i < spec->n_ports; i++) {
		copy->ports[i].ips = NULL;
		copy->ports[i].prefixes = NULL;
		copy->ports[i].tags = NULL;
		copy->ports[i].groups = NULL;
	}
	for (uint32_t i = 0; i < spec->n_prefix_lists; i++)
		copy->prefix_lists[i].entries = NULL;
	copy->n_groups = spec->n_groups;
	copy->n_ports = spec->n_ports;
	copy->n_prefix_lists = spec->n_prefix_lists;
	for (uint32_t i = 0; i < spec->n_groups; i++) {
		struct sg_group *d = &copy->groups[i];
		const struct sg_group *s = &spec->groups[i];

		if (!DUP_FIELD(d, s, tags, n_tags) || !DUP_FIELD(d, s, rules, n_rules))
			goto fail;
	}
	for (uint32_t i = 0; i < spec->n_ports; i++) {
		struct sg_spec_port *d = &copy->ports[i];
		const struct sg_spec_port *s = &spec->ports[i];

		if (!DUP_FIELD(d, s, ips, n_ips) || !DUP_FIELD(d, s, prefixes, n_prefixes) ||
				!DUP_FIELD(d, s, tags, n_tags) || !DUP_FIELD(d, s, groups, n_groups))
			goto fail;
	}
	for (uint32_t i = 0; i < spec->n_prefix_lists; i++)
		if (!DUP_FIELD(&copy->prefix_lists[i], &spec->prefix_lists[i], entries, n_entries))
			goto fail;
	return copy;
fail:
	sg_spec_free(copy);
	errno = ENOMEM;
	return NULL;
}

struct sg_group *
sg_spec_add_group(struct sg_spec *spec, const char *id, int line)
{
	struct sg_group *group;

	if (strlen(id) >= SG_NAME_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (vec_reserve((void **)&spec->groups, spec->n_groups, sizeof(*spec->groups)) < 0)
		return NULL;
	group = &spec->groups[spec->n_groups++];
	memset(group, 0, sizeof(*group));
	sg_strlcpy(group->id, id, sizeof(group->id));
	group->type = SG_GROUP_BASIC;
	group->inner_access = SG_ACTION_ACCEPT;
	group->line = line;
	return group;
}

struct sg_spec_port *
sg_spec_add_port(struct sg_spec *spec, const char *name, int line)
{
	struct sg_spec_port *port;

	if (strlen(name) >= SG_NAME_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (vec_reserve((void **)&spec->ports, spec->n_ports, sizeof(*spec->ports)) < 0)
		return NULL;
	port = &spec->ports[spec->n_ports++];
	memset(port, 0, sizeof(*port));
	sg_strlcpy(port->name, name, sizeof(port->name));
	port->line = line;
	return port;
}

struct sg_prefix_list *
sg_spec_add_prefix_list(struct sg_spec *spec, const char *id, int line)
{
	struct sg_prefix_list *list;

	if (strlen(id) >= SG_NAME_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (vec_reserve((void **)&spec->prefix_lists, spec->n_prefix_lists,
			    sizeof(*spec->prefix_lists)) < 0)
		return NULL;
	list = &spec->prefix_lists[spec->n_prefix_lists++];
	memset(list, 0, sizeof(*list));
	sg_strlcpy(list->id, id, sizeof(list->id));
	list->line = line;
	return list;
}

struct sg_rule *
sg_group_add_rule(struct sg_group *group, int line)
{
	struct sg_rule *rule;

	if (vec_reserve((void **)&group->rules, group->n_rules, sizeof(*group->rules)) < 0)
		return NULL;
	rule = &group->rules[group->n_rules++];
	memset(rule, 0, sizeof(*rule));
	rule->action = SG_ACTION_ACCEPT;
	rule->priority = SG_PRIORITY_MIN;
	rule->proto = SG_PROTO_ANY;
	rule->dport = (struct sg_range){0, UINT16_MAX};
	rule->sport = (struct sg_range){0, UINT16_MAX};
	rule->icmp_type = -1;
	rule->icmp_code = -1;
	rule->line = line;
	return rule;
}

static int
name_push(char (**names)[SG_NAME_MAX], uint32_t *n, const char *name)
{
	if (strlen(name) >= SG_NAME_MAX)
		return -ENAMETOOLONG;
	if (vec_reserve((void **)names, *n, SG_NAME_MAX) < 0)
		return -ENOMEM;
	sg_strlcpy((*names)[(*n)++], name, SG_NAME_MAX);
	return 0;
}

bool
sg_names_contain(char (*names)[SG_NAME_MAX], uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

int
sg_group_add_tag(struct sg_group *group, const char *tag)
{
	return name_push(&group->tags, &group->n_tags, tag);
}

int
sg_spec_port_add_tag(struct sg_spec_port *port, const char *tag)
{
	return name_push(&port->tags, &port->n_tags, tag);
}

int
sg_spec_port_add_group(struct sg_spec_port *port, const char *group_id)
{
	return name_push(&port->groups, &port->n_groups, group_id);
}

int
sg_spec_port_add_ip(struct sg_spec_port *port, const struct sg_ip *ip)
{
	if (vec_reserve((void **)&port->ips, port->n_ips, sizeof(*port->ips)) < 0)
		return -ENOMEM;
	port->ips[port->n_ips++] = *ip;
	return 0;
}

int
sg_spec_port_add_prefix(struct sg_spec_port *port, const struct sg_prefix *prefix)
{
	if (vec_reserve((void **)&port->prefixes, port->n_prefixes, sizeof(*port->prefixes)) < 0)
		return -ENOMEM;
	port->prefixes[port->n_prefixes++] = *prefix;
	return 0;
}

bool
sg_spec_port_owns(const struct sg_spec_port *port, const struct sg_ip *ip)
{
	for (uint32_t i = 0; i < port->n_ips; i++)
		if (sg_ip_equal(&port->ips[i], ip))
			return true;
	for (uint32_t i = 0; i < port->n_prefixes; i++)
		if (sg_prefix_contains(&port->prefixes[i], ip))
			return true;
	return false;
}

int
sg_prefix_list_add(struct sg_prefix_list *list, const struct sg_prefix *prefix)
{
	if (vec_reserve((void **)&list->entries, list->n_entries, sizeof(*list->entries)) < 0)
		return -ENOMEM;
	list->entries[list->n_entries++] = *prefix;
	return 0;
}

int
sg_spec_find_group(const struct sg_spec *spec, const char *id)
{
	for (uint32_t i = 0; i < spec->n_groups; i++)
		if (strcmp(spec->groups[i].id, id) == 0)
			return (int)i;
	return -ENOENT;
}

int
sg_spec_find_port(const struct sg_spec *spec, const char *name)
{
	for (uint32_t i = 0; i < spec->n_ports; i++)
		if (strcmp(spec->ports[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

int
sg_spec_find_prefix_list(const struct sg_spec *spec, const char *id)
{
	for (uint32_t i = 0; i < spec->n_prefix_lists; i++)
		if (strcmp(spec->prefix_lists[i].id, id) == 0)
			return (int)i;
	return -ENOENT;
}

/* Remove element 'index' of an array of 'n' elements, keeping order. */
static void
vec_remove(void *array, uint32_t *n, uint32_t index, size_t elem)
{
	char *base = array;

	memmove(base + index * elem, base + (index + 1) * elem, (*n - index - 1) * elem);
	(*n)--;
}

void
sg_spec_remove_group(struct sg_spec *spec, uint32_t index)
{
	group_release(&spec->groups[index]);
	vec_remove(spec->groups, &spec->n_groups, index, sizeof(*spec->groups));
}

void
sg_spec_remove_port(struct sg_spec *spec, uint32_t index)
{
	port_release(&spec->ports[index]);
	vec_remove(spec->ports, &spec->n_ports, index, sizeof(*spec->ports));
}

void
sg_group_remove_rule(struct sg_group *group, uint32_t index)
{
	vec_remove(group->rules, &group->n_rules, index, sizeof(*group->rules));
}

/* ---- Field parsing ---- */

static const struct {
	const char *name;
	int number;
} protocols[] = {
	{"all", SG_PROTO_ANY}, {"icmp", IPPROTO_ICMP}, {"tcp", IPPROTO_TCP}, {"udp", IPPROTO_UDP},
	{"gre", IPPROTO_GRE}, {"esp", IPPROTO_ESP}, {"ah", IPPROTO_AH}, {"icmpv6", IPPROTO_ICMPV6},
	{"sctp", IPPROTO_SCTP},
};

const char *
sg_proto_name(int proto, char *buf, size_t size)
{
	for (size_t i = 0; i < SG_ARRAY_SIZE(protocols); i++)
		if (protocols[i].number == proto)
			return protocols[i].name;
	snprintf(buf, size, "%d", proto);
	return buf;
}

/* Parse a whole decimal integer; false on anything else. */
static bool
parse_long(const char *text, long *value)
{
	char *end;

	if (text == NULL || *text == '\0')
		return false;
	errno = 0;
	*value = strtol(text, &end, 10);
	return errno == 0 && *end == '\0';
}

int
sg_proto_parse(const char *text)
{
	long number;

	for (size_t i = 0; i < SG_ARRAY_SIZE(protocols); i++)
		if (strcasecmp(text, protocols[i].name) == 0)
			return protocols[i].number;
	if (parse_long(text, &number) && number >= 0 && number <= 255)
		return (int)number;
	return -EINVAL;
}

int
sg_range_parse(const char *text, const char *field, int line, struct sg_range *range,
		bool *wildcard, struct sg_error *err)
{
	const char *slash = strchr(text, '/');
	char start[16];
	long lo, hi;
	size_t n;

	*wildcard = false;
	if (slash == NULL || (n = (size_t)(slash - text)) >= sizeof(start))
		return sg_error_set(err, line, "%s \"%s\" must be START/END, for example \"22/22\"",
				field, text);
	memcpy(start, text, n);
	start[n] = '\0';
	if (!parse_long(start, &lo) || !parse_long(slash + 1, &hi))
		return sg_error_set(err, line, "%s \"%s\" must be START/END with numbers", field, text);
	if (lo == -1 && hi == -1) {
		*wildcard = true;
		*range = (struct sg_range){0, UINT16_MAX};
		return 0;
	}
	if (lo < 1 || lo > UINT16_MAX || hi < 1 || hi > UINT16_MAX)
		return sg_error_set(err, line,
				"%s \"%s\": ports must be within 1..65535 (\"-1/-1\" means no ports)",
				field, text);
	if (lo > hi)
		return sg_error_set(err, line, "%s \"%s\": start %ld is greater than end %ld", field,
				text, lo, hi);
	/* A range covering every valid port also covers port 0 (Neutron's canonical "any"). */
	if (lo == 1 && hi == UINT16_MAX)
		lo = 0;
	*range = (struct sg_range){(uint16_t)lo, (uint16_t)hi};
	return 0;
}

/* A peer field: 'field' is sgfw's name of it, 'given' the name as written. */
static int
parse_peer(struct sg_rule *rule, const char *field, const char *given, const char *value,
		struct sg_error *err)
{
	bool source = strncmp(field, "source_", 7) == 0;
	const char *kind = field + (source ? 7 : 5);

	rule->peer_is_source = source;
	rule->n_peers_given++;
	if (strcmp(kind, "cidr") == 0) {
		int rc = sg_prefix_parse(value, &rule->cidr);

		if (rc == -EDOM) {
			char net[SG_PREFIX_STRLEN];

			sg_prefix_normalize(&rule->cidr);
			return sg_error_set(err, rule->line,
					"%s \"%s\" has host bits set; the network is %s", given,
					value, sg_prefix_format(&rule->cidr, net, sizeof(net)));
		}
		if (rc < 0)
			return sg_error_set(err, rule->line,
					"%s \"%s\" is not an IPv4 or IPv6 CIDR", given, value);
		rule->peer_kind = SG_PEER_CIDR;
		return 0;
	}
	if (*value == '\0' || sg_strlcpy(rule->peer, value, sizeof(rule->peer)) < 0)
		return sg_error_set(err, rule->line,
				"%s \"%s\" is not a valid id (1..%d characters)", given, value,
				SG_NAME_MAX - 1);
	rule->peer_kind = strcmp(kind, "group") == 0 ? SG_PEER_GROUP : SG_PEER_PREFIX_LIST;
	return 0;
}

/* Whole decimal digits with an optional sign, however many. */
static bool
is_integer_text(const char *text)
{
	text += *text == '-' || *text == '+';
	if (*text == '\0')
		return false;
	for (; *text != '\0'; text++)
		if (*text < '0' || *text > '9')
			return false;
	return true;
}

static int
parse_small(const char *field, const char *value, long min, long max, int line, long *out,
		struct sg_error *err)
{
	if (!parse_long(value, out)) {
		if (is_integer_text(value))
			return sg_error_set(err, line, "%s %s is out of range %ld..%ld", field, value,
					min, max);
		return sg_error_set(err, line, "%s \"%s\" is not a number", field, value);
	}
	if (*out < min || *out > max)
		return sg_error_set(err, line, "%s %ld is out of range %ld..%ld", field, *out, min, max);
	return 0;
}

/*
 * Alibaba Cloud's API names of rule and group fields (AuthorizeSecurityGroup,
 * DescribeSecurityGroupAttribute, CreateSecurityGroup), read as sgfw's own. The writer writes
 * sgfw's names back, so a config in either vocabulary loads to the same spec.
 */
struct field_alias {
	const char *alibaba;
	const char *sgfw;
};

static const struct field_alias rule_aliases[] = {
		{"Direction", "direction"},
		{"Policy", "policy"},
		{"Priority", "priority"},
		{"IpProtocol", "protocol"},
		{"PortRange", "port_range"},
		{"SourcePortRange", "source_port_range"},
		{"SourceCidrIp", "source_cidr"},
		{"Ipv6SourceCidrIp", "source_cidr"},
		{"DestCidrIp", "dest_cidr"},
		{"Ipv6DestCidrIp", "dest_cidr"},
		{"SourceGroupId", "source_group"},
		{"DestGroupId", "dest_group"},
		{"SourcePrefixListId", "source_prefix_list"},
		{"DestPrefixListId", "dest_prefix_list"},
		{"Description", "description"},
};

static const struct field_alias group_aliases[] = {
		{"SecurityGroupId", "id"},
		{"SecurityGroupType", "type"},
		{"InnerAccessPolicy", "inner_access_policy"},
		{"Description", "description"},
};

const char *
sg_rule_field_name(const char *field)
{
	for (size_t i = 0; i < SG_ARRAY_SIZE(rule_aliases); i++)
		if (strcmp(field, rule_aliases[i].alibaba) == 0)
			return rule_aliases[i].sgfw;
	return field;
}

const char *
sg_group_field_name(const char *field)
{
	for (size_t i = 0; i < SG_ARRAY_SIZE(group_aliases); i++)
		if (strcmp(field, group_aliases[i].alibaba) == 0)
			return group_aliases[i].sgfw;
	return field;
}

int
sg_field_spellings_check(const char *a, const char *b, bool group, int line, struct sg_error *err)
{
	const char *ca = group ? sg_group_field_name(a) : sg_rule_field_name(a);
	const char *cb = group ? sg_group_field_name(b) : sg_rule_field_name(b);

	if (strcmp(a, b) == 0 || strcmp(ca, cb) != 0)
		return 0;
	return sg_error_set(err, line, "%s and %s name the same field (%s); give one of them", a, b,
			ca);
}

/* Alibaba's Accept/Drop (Policy, InnerAccessPolicy) or sgfw's accept/drop. */
static int
parse_action(const char *value, enum sg_action *action)
{
	if (strcmp(value, "accept") == 0 || strcmp(value, "Accept") == 0)
		*action = SG_ACTION_ACCEPT;
	else if (strcmp(value, "drop") == 0 || strcmp(value, "Drop") == 0)
		*action = SG_ACTION_DROP;
	else
		return -EINVAL;
	return 0;
}

/* Alibaba's SourceCidrIp/DestCidrIp hold IPv4 and its Ipv6* fields IPv6 only. */
static int
check_alibaba_family(const struct sg_rule *rule, const char *field, const char *value,
		struct sg_error *err)
{
	bool v6 = strncmp(field, "Ipv6", 4) == 0;

	if (strcmp(field, sg_rule_field_name(field)) == 0 || rule->peer_kind != SG_PEER_CIDR)
		return 0;
	if (v6 && rule->cidr.ip.family != SG_AF_INET6)
		return sg_error_set(err, rule->line,
				"%s \"%s\" is not an IPv6 CIDR (IPv4 goes in %s)", field, value,
				field + 4);
	if (!v6 && rule->cidr.ip.family != SG_AF_INET)
		return sg_error_set(err, rule->line,
				"%s \"%s\" is not an IPv4 CIDR (IPv6 goes in Ipv6%s)", field, value,
				field);
	return 0;
}

int
sg_rule_set(struct sg_rule *rule, const char *field, const char *value, struct sg_error *err)
{
	const char *given = field;
	long number;
	int rc;

	field = sg_rule_field_name(field);
	if (strcmp(field, "direction") == 0) {
		/* Alibaba's flow logs say in/out where its API says ingress/egress. */
		if (strcmp(value, "ingress") == 0 || strcmp(value, "in") == 0)
			rule->dir = SG_DIR_INGRESS;
		else if (strcmp(value, "egress") == 0 || strcmp(value, "out") == 0)
			rule->dir = SG_DIR_EGRESS;
		else
			return sg_error_set(err, rule->line,
					"%s \"%s\" must be \"ingress\" or \"egress\" (or \"in\", "
					"\"out\")",
					given, value);
		rule->fields |= SG_RULE_F_DIRECTION;
	} else if (strcmp(field, "policy") == 0) {
		if (parse_action(value, &rule->action) < 0)
			return sg_error_set(err, rule->line,
					"%s \"%s\" must be \"accept\" or \"drop\" (or \"Accept\", "
					"\"Drop\")",
					given, value);
		rule->fields |= SG_RULE_F_POLICY;
	} else if (strcmp(field, "priority") == 0) {
		rc = parse_small(given, value, SG_PRIORITY_MIN, SG_PRIORITY_MAX, rule->line,
				&number, err);
		if (rc < 0)
			return rc;
		rule->priority = (int)number;
		rule->fields |= SG_RULE_F_PRIORITY;
	} else if (strcmp(field, "protocol") == 0) {
		rc = sg_proto_parse(value);
		if (rc == -EINVAL)
			return sg_error_set(err, rule->line,
					"%s \"%s\" is not tcp, udp, icmp, icmpv6, gre, all or a "
					"number 0..255",
					given, value);
		rule->proto = rc;
		rule->fields |= SG_RULE_F_PROTOCOL;
	} else if (strcmp(field, "port_range") == 0) {
		rc = sg_range_parse(
				value, given, rule->line, &rule->dport, &rule->dport_wildcard, err);
		if (rc < 0)
			return rc;
		rule->fields |= SG_RULE_F_PORT_RANGE;
	} else if (strcmp(field, "source_port_range") == 0) {
		bool wildcard;

		rc = sg_range_parse(value, given, rule->line, &rule->sport, &wildcard, err);
		if (rc < 0)
			return rc;
		rule->fields |= SG_RULE_F_SOURCE_PORT_RANGE;
	} else if (strcmp(field, "icmp_type") == 0 || strcmp(field, "icmp_code") == 0) {
		bool type = strcmp(field, "icmp_type") == 0;

		rc = parse_small(field, value, 0, 255, rule->line, &number, err);
		if (rc < 0)
			return rc;
		if (type)
			rule->icmp_type = (int)number;
		else
			rule->icmp_code = (int)number;
		rule->fields |= type ? SG_RULE_F_ICMP_TYPE : SG_RULE_F_ICMP_CODE;
	} else if (strcmp(field, "source_cidr") == 0 || strcmp(field, "dest_cidr") == 0 ||
			strcmp(field, "source_group") == 0 || strcmp(field, "dest_group") == 0 ||
			strcmp(field, "source_prefix_list") == 0 ||
			strcmp(field, "dest_prefix_list") == 0) {
		if ((rc = parse_peer(rule, field, given, value, err)) < 0)
			return rc;
		return check_alibaba_family(rule, given, value, err);
	} else if (strcmp(field, "description") == 0) {
		if ((rc = sg_description_set(rule->description, value, NULL, rule->line, err)) < 0)
			return rc;
		rule->fields |= SG_RULE_F_DESCRIPTION;
	} else {
		return sg_error_set(err, rule->line,
				"unknown rule field \"%s\" (known: direction, policy, priority, "
				"protocol, port_range, source_port_range, icmp_type, icmp_code, "
				"source_cidr, dest_cidr, source_group, dest_group, "
				"source_prefix_list, dest_prefix_list, description; or Alibaba's "
				"Direction, Policy, Priority, IpProtocol, PortRange, "
				"SourcePortRange, "
				"SourceCidrIp, DestCidrIp, Ipv6SourceCidrIp, Ipv6DestCidrIp, "
				"SourceGroupId, DestGroupId, SourcePrefixListId, DestPrefixListId, "
				"Description)",
				given);
	}
	return 0;
}

int
sg_description_set(char dst[SG_DESC_MAX], const char *value, const char *what, int line,
		struct sg_error *err)
{
	char why[96];

	if (strlen(value) >= SG_DESC_MAX)
		return sg_error_set(err, line, "%s%sdescription is longer than %d characters",
				what != NULL ? what : "", what != NULL ? ": " : "", SG_DESC_MAX - 1);
	if (!sg_utf8_valid(value)) {
		sg_name_check(value, why, sizeof(why));
		return sg_error_set(err, line, "%s%sdescription %s", what != NULL ? what : "",
				what != NULL ? ": " : "", why);
	}
	sg_strlcpy(dst, value, SG_DESC_MAX);
	return 0;
}

int
sg_group_set(struct sg_group *group, const char *field, const char *value, struct sg_error *err)
{
	const char *given = field;

	field = sg_group_field_name(field);
	if (strcmp(field, "type") == 0) {
		/* Alibaba calls a basic group "normal". */
		if (strcmp(value, "basic") == 0 || strcmp(value, "normal") == 0)
			group->type = SG_GROUP_BASIC;
		else if (strcmp(value, "enterprise") == 0)
			group->type = SG_GROUP_ENTERPRISE;
		else
			return sg_error_set(err, group->line,
					"group \"%s\": %s \"%s\" must be \"basic\" or "
					"\"enterprise\" "
					"(or \"normal\")",
					group->id, given, value);
	} else if (strcmp(field, "inner_access_policy") == 0) {
		if (parse_action(value, &group->inner_access) < 0)
			return sg_error_set(err, group->line,
					"group \"%s\": %s \"%s\" must be \"accept\" or \"drop\" "
					"(or "
					"\"Accept\", \"Drop\")",
					group->id, given, value);
		group->inner_access_given = true;
	} else if (strcmp(field, "description") == 0) {
		char what[SG_NAME_MAX + 16];

		snprintf(what, sizeof(what), "group \"%s\"", group->id);
		return sg_description_set(group->description, value, what, group->line, err);
	} else {
		return sg_error_set(err, group->line,
				"group \"%s\": unknown field \"%s\" (known: id, type, "
				"inner_access_policy, description, tags, rules; or Alibaba's "
				"SecurityGroupId, SecurityGroupType, InnerAccessPolicy, "
				"Description)",
				group->id, given);
	}
	return 0;
}

int
sg_limits_set(struct sg_limits *limits, const char *field, const char *value, int line,
		struct sg_error *err)
{
	static const struct {
		const char *name;
		size_t offset;
		long min, max;
	} fields[] = {
		{"groups_per_port", offsetof(struct sg_limits, groups_per_port), 1, 10},
		{"rules_per_group", offsetof(struct sg_limits, rules_per_group), 1, 10000},
		{"rules_per_port", offsetof(struct sg_limits, rules_per_port), 1, 10000},
		{"group_peers_per_group", offsetof(struct sg_limits, group_peers_per_group), 0, 100},
	};
	long number;
	int rc;

	for (size_t i = 0; i < SG_ARRAY_SIZE(fields); i++) {
		char what[SG_NAME_MAX];

		if (strcmp(field, fields[i].name) != 0)
			continue;
		snprintf(what, sizeof(what), "limits.%s", field);
		rc = parse_small(what, value, fields[i].min, fields[i].max, line, &number, err);
		if (rc < 0)
			return rc;
		*(uint32_t *)((char *)limits + fields[i].offset) = (uint32_t)number;
		return 0;
	}
	return sg_error_set(err, line,
			"limits: unknown field \"%s\" (known: groups_per_port, rules_per_group, "
			"rules_per_port, group_peers_per_group)",
			field);
}

bool
sg_rule_same(const struct sg_rule *a, const struct sg_rule *b)
{
	if (a->dir != b->dir || a->action != b->action || a->priority != b->priority ||
			a->proto != b->proto || a->dport.lo != b->dport.lo ||
			a->dport.hi != b->dport.hi || a->sport.lo != b->sport.lo ||
			a->sport.hi != b->sport.hi || a->icmp_type != b->icmp_type ||
			a->icmp_code != b->icmp_code || a->peer_kind != b->peer_kind)
		return false;
	if (a->peer_kind == SG_PEER_CIDR)
		return sg_prefix_equal(&a->cidr, &b->cidr);
	return strcmp(a->peer, b->peer) == 0;
}

static uint64_t
hash_word(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

uint64_t
sg_rule_hash(const struct sg_rule *r)
{
	uint64_t h = hash_word(0, (uint64_t)r->dir | (uint64_t)r->action << 2 |
					  (uint64_t)r->peer_kind << 4 |
					  (uint64_t)(uint32_t)r->priority << 8 |
					  (uint64_t)(uint32_t)r->proto << 32);

	h = hash_word(h, (uint64_t)r->dport.lo | (uint64_t)r->dport.hi << 16 |
				 (uint64_t)r->sport.lo << 32 | (uint64_t)r->sport.hi << 48);
	h = hash_word(h, (uint64_t)(uint32_t)r->icmp_type | (uint64_t)(uint32_t)r->icmp_code << 32);
	if (r->peer_kind == SG_PEER_CIDR) {
		uint64_t lo, hi;

		memcpy(&lo, r->cidr.ip.bytes, 8);
		memcpy(&hi, r->cidr.ip.bytes + 8, 8);
		h = hash_word(h, (uint64_t)r->cidr.len | (uint64_t)r->cidr.ip.family << 8);
		return hash_word(hash_word(h, lo), hi);
	}
	for (const char *c = r->peer; *c != '\0'; c++)
		h = hash_word(h, (uint8_t)*c);
	return h;
}

int
sg_group_unique_rules(const struct sg_group *group, uint32_t *kept)
{
	uint32_t size = 16, n = 0;
	uint32_t *slots;

	while (size < 2 * group->n_rules)
		size *= 2;
	slots = malloc(size * sizeof(*slots));
	if (slots == NULL)
		return -ENOMEM;
	/* Open addressing over the kept rules: one lookup per rule, not a scan of those before. */
	memset(slots, 0xff, size * sizeof(*slots));
	for (uint32_t i = 0; i < group->n_rules; i++) {
		uint32_t h = (uint32_t)sg_rule_hash(&group->rules[i]) & (size - 1);
		bool repeat = false;

		for (; slots[h] != UINT32_MAX && !repeat; h = (h + 1) & (size - 1))
			repeat = sg_rule_same(&group->rules[kept[slots[h]]], &group->rules[i]);
		if (repeat)
			continue;
		slots[h] = n;
		kept[n++] = i;
	}
	free(slots);
	return (int)n;
}

const char *
sg_dir_name(enum sg_dir dir)
{
	return dir == SG_DIR_INGRESS ? "ingress" : "egress";
}

const char *
sg_action_name(enum sg_action action)
{
	return action == SG_ACTION_ACCEPT ? "accept" : "drop";
}

const char *
sg_group_type_name(enum sg_group_type type)
{
	return type == SG_GROUP_BASIC ? "basic" : "enterprise";
}

const char *
sg_origin_name(enum sg_origin origin)
{
	switch (origin) {
	case SG_ORIGIN_INNER:
		return "inner";
	case SG_ORIGIN_RULE:
		return "rule";
	default:
		return "default";
	}
}
