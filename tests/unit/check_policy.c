/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the policy engine (lib/policy) against docs/decisions.md: the verdict and
 * the deciding rule for D1-D6 and for its stateless numbered edge cases (test names carry the
 * case number), the merged per-port lists, and every error the engine and the config loader
 * report for a policy that breaks a rule (field, value, and the config line). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_helpers.h"
#include "sg_conf.h"
#include "sg_policy.h"

#define IN SG_DIR_INGRESS
#define EG SG_DIR_EGRESS
#define ACCEPT SG_ACTION_ACCEPT
#define DROP SG_ACTION_DROP

#define T_MAX_GROUPS 12
#define T_MAX_RULES 24
#define T_MAX_PORTS 8
#define T_MAX_LISTS 3

/* Config lines the builder gives each element, so messages can be checked for them. */
#define GROUP_LINE(g) (100 * ((g) + 1))
#define RULE_LINE(g, r) (GROUP_LINE(g) + (r) + 1)
#define PORT_LINE(p) (2000 + (p))
#define LIST_LINE(l) (3000 + (l))

/*
 * A spec as compact tables. Rules are whitespace-separated "field=value" words, with the
 * field names of the config file; the bare words ingress, egress, accept and drop set the
 * direction and the policy. Every field goes through sg_rule_set().
 */
struct t_group {
	const char *id;
	const char *fields; /* sg_group_set() words: "type=enterprise inner_access_policy=drop" */
	const char *tags;
	const char *rules[T_MAX_RULES];
};

struct t_port {
	const char *name;
	const char *ips;    /* "10.0.0.1 2001:db8::1"; a CIDR is an allowed prefix */
	const char *groups; /* explicit attachments, in this order */
	const char *tags;
	const char *mac;    /* NULL: 52:54:00:00:00:<index+1>; "-": no mac at all */
};

struct t_list {
	const char *id;
	const char *entries;
};

struct t_spec {
	const char *limits; /* sg_limits_set() words: "groups_per_port=6" */
	struct t_group groups[T_MAX_GROUPS];
	struct t_port ports[T_MAX_PORTS];
	struct t_list lists[T_MAX_LISTS];
};

typedef int (*word_fn)(void *ctx, char *word, struct sg_error *err);

/* Call 'fn' on each whitespace-separated word of 'text' (NULL has none); stop at an error. */
static int
for_each_word(const char *text, word_fn fn, void *ctx, struct sg_error *err)
{
	char buf[2048], *save = NULL;
	int rc;

	if (text == NULL)
		return 0;
	ck_assert_msg(strlen(text) < sizeof(buf), "test bug: text too long");
	strcpy(buf, text);
	for (char *w = strtok_r(buf, " \t\n", &save); w != NULL; w = strtok_r(NULL, " \t\n", &save))
		if ((rc = fn(ctx, w, err)) < 0)
			return rc;
	return 0;
}

/* Split "field=value" in place; NULL value when there is no '='. */
static char *
split_word(char *word)
{
	char *eq = strchr(word, '=');

	if (eq == NULL)
		return NULL;
	*eq = '\0';
	return eq + 1;
}

static int
rule_word(void *ctx, char *word, struct sg_error *err)
{
	char *value = split_word(word);

	if (value == NULL) {
		if (strcmp(word, "ingress") == 0 || strcmp(word, "egress") == 0)
			return sg_rule_set(ctx, "direction", word, err);
		if (strcmp(word, "accept") == 0 || strcmp(word, "drop") == 0)
			return sg_rule_set(ctx, "policy", word, err);
		ck_abort_msg("test bug: bare rule word \"%s\"", word);
	}
	return sg_rule_set(ctx, word, value, err);
}

static int
group_word(void *ctx, char *word, struct sg_error *err)
{
	char *value = split_word(word);

	ck_assert_msg(value != NULL, "test bug: group word \"%s\"", word);
	return sg_group_set(ctx, word, value, err);
}

static int
limits_word(void *ctx, char *word, struct sg_error *err)
{
	char *value = split_word(word);

	ck_assert_msg(value != NULL, "test bug: limits word \"%s\"", word);
	return sg_limits_set(ctx, word, value, 0, err);
}

static int
group_tag_word(void *ctx, char *word, struct sg_error *err)
{
	(void)err;
	ck_assert_int_eq(sg_group_add_tag(ctx, word), 0);
	return 0;
}

static int
port_tag_word(void *ctx, char *word, struct sg_error *err)
{
	(void)err;
	ck_assert_int_eq(sg_spec_port_add_tag(ctx, word), 0);
	return 0;
}

static int
port_group_word(void *ctx, char *word, struct sg_error *err)
{
	(void)err;
	ck_assert_int_eq(sg_spec_port_add_group(ctx, word), 0);
	return 0;
}

static int
port_ip_word(void *ctx, char *word, struct sg_error *err)
{
	struct sg_prefix prefix;
	struct sg_ip ip;

	(void)err;
	if (strchr(word, '/') != NULL) {
		ck_assert_msg(sg_prefix_parse(word, &prefix) == 0, "test bug: prefix \"%s\"", word);
		ck_assert_int_eq(sg_spec_port_add_prefix(ctx, &prefix), 0);
		return 0;
	}
	ck_assert_msg(sg_ip_parse(word, &ip) == 0, "test bug: ip \"%s\"", word);
	ck_assert_int_eq(sg_spec_port_add_ip(ctx, &ip), 0);
	return 0;
}

static int
list_entry_word(void *ctx, char *word, struct sg_error *err)
{
	struct sg_prefix prefix;

	(void)err;
	ck_assert_msg(sg_prefix_parse(word, &prefix) == 0, "test bug: prefix \"%s\"", word);
	ck_assert_int_eq(sg_prefix_list_add(ctx, &prefix), 0);
	return 0;
}

/* Build the spec of 't'; NULL with 'err' filled when a setter rejects a value. */
static struct sg_spec *
spec_build(const struct t_spec *t, struct sg_error *err)
{
	struct sg_spec *spec = sg_spec_create();

	ck_assert_ptr_nonnull(spec);
	if (for_each_word(t->limits, limits_word, &spec->limits, err) < 0)
		goto fail;
	for (int l = 0; l < T_MAX_LISTS && t->lists[l].id != NULL; l++) {
		struct sg_prefix_list *list = sg_spec_add_prefix_list(spec, t->lists[l].id,
				LIST_LINE(l));

		ck_assert_ptr_nonnull(list);
		for_each_word(t->lists[l].entries, list_entry_word, list, err);
	}
	for (int g = 0; g < T_MAX_GROUPS && t->groups[g].id != NULL; g++) {
		const struct t_group *tg = &t->groups[g];
		struct sg_group *group = sg_spec_add_group(spec, tg->id, GROUP_LINE(g));

		ck_assert_ptr_nonnull(group);
		if (for_each_word(tg->fields, group_word, group, err) < 0)
			goto fail;
		for_each_word(tg->tags, group_tag_word, group, err);
		for (int r = 0; r < T_MAX_RULES && tg->rules[r] != NULL; r++) {
			struct sg_rule *rule = sg_group_add_rule(group, RULE_LINE(g, r));

			ck_assert_ptr_nonnull(rule);
			if (for_each_word(tg->rules[r], rule_word, rule, err) < 0)
				goto fail;
		}
	}
	for (int p = 0; p < T_MAX_PORTS && t->ports[p].name != NULL; p++) {
		const struct t_port *tp = &t->ports[p];
		struct sg_spec_port *port = sg_spec_add_port(spec, tp->name, PORT_LINE(p));
		char mac[SG_MAC_STRLEN];

		ck_assert_ptr_nonnull(port);
		if (tp->mac == NULL || strcmp(tp->mac, "-") != 0) {
			snprintf(mac, sizeof(mac), "52:54:00:00:00:%02x", p + 1);
			if (tp->mac != NULL)
				snprintf(mac, sizeof(mac), "%s", tp->mac);
			ck_assert_int_eq(sg_mac_parse(mac, port->mac), 0);
			port->has_mac = true;
		}
		for_each_word(tp->ips, port_ip_word, port, err);
		for_each_word(tp->groups, port_group_word, port, err);
		for_each_word(tp->tags, port_tag_word, port, err);
	}
	return spec;
fail:
	sg_spec_free(spec);
	return NULL;
}

/* Compile 't', which must be valid. */
static struct sg_policy *
policy_build(const struct t_spec *t)
{
	struct sg_error err = {0};
	struct sg_spec *spec = spec_build(t, &err);
	struct sg_policy *policy;

	ck_assert_msg(spec != NULL, "spec rejected: %s", err.msg);
	policy = sg_policy_compile(spec, &err);
	ck_assert_msg(policy != NULL, "compile failed: line %d: %s", err.line, err.msg);
	/* The policy keeps its own copy: the spec can go at once. */
	sg_spec_free(spec);
	return policy;
}

static int
group_of(const struct sg_policy *policy, const char *id)
{
	int group = sg_spec_find_group(sg_policy_spec(policy), id);

	ck_assert_msg(group >= 0, "test bug: no group \"%s\"", id);
	return group;
}

/* "PROTO SRC SPORT DST DPORT"; for icmp and icmpv6 SPORT is the type and DPORT the code. */
static struct sg_flow
flow_of(const char *text)
{
	char proto[16], src[64], dst[64];
	unsigned int sport, dport;
	struct sg_flow flow;
	int number;

	memset(&flow, 0, sizeof(flow));
	ck_assert_msg(sscanf(text, "%15s %63s %u %63s %u", proto, src, &sport, dst, &dport) == 5,
			"test bug: flow \"%s\"", text);
	number = sg_proto_parse(proto);
	ck_assert_msg(number >= 0, "test bug: flow protocol \"%s\"", proto);
	flow.proto = (uint8_t)number;
	ck_assert_msg(sg_ip_parse(src, &flow.src) == 0, "test bug: flow source \"%s\"", src);
	ck_assert_msg(sg_ip_parse(dst, &flow.dst) == 0, "test bug: flow dest \"%s\"", dst);
	flow.sport = (uint16_t)sport;
	flow.dport = (uint16_t)dport;
	return flow;
}

/*
 * How a test names the rule of an effective entry: "sg-a rule 2" (1-based), "sg-a inner access"
 * or the default's name, "default basic ingress drop". Built from the entry's origin, group and
 * rule fields, and checked against sg_policy_rule_name() of its id.
 */
static const char *
rule_label(const struct sg_policy *policy, const struct sg_eff_rule *rule, char *buf, size_t size)
{
	const struct sg_spec *spec = sg_policy_spec(policy);
	char name[128];

	sg_policy_rule_name(policy, rule->id, name, sizeof(name));
	switch (rule->origin) {
	case SG_ORIGIN_RULE:
		snprintf(buf, size, "%s rule %u", spec->groups[rule->group].id, rule->rule + 1);
		ck_assert_msg(rule->priority >= SG_PRIORITY_MIN &&
						rule->priority <= SG_PRIORITY_MAX,
				"%s: priority %u", buf, rule->priority);
		break;
	case SG_ORIGIN_INNER:
		snprintf(buf, size, "%s inner access", spec->groups[rule->group].id);
		ck_assert_msg(rule->priority == SG_PRIORITY_INNER &&
						rule->action == SG_ACTION_ACCEPT,
				"%s: priority %u action %d", buf, rule->priority, rule->action);
		break;
	default:
		snprintf(buf, size, "%s", name);
		ck_assert_msg(strncmp(name, "default ", 8) == 0 && rule->peer_any &&
						rule->priority == SG_PRIORITY_DEFAULT,
				"default entry named \"%s\"", name);
		break;
	}
	ck_assert_msg(strcmp(buf, name) == 0, "entry %s has id %u named \"%s\"", buf, rule->id,
			name);
	return buf;
}

/* Check one verdict of 'port' in 'dir' against the expected action, rule and position. */
static void
expect_verdict(const struct sg_policy *policy, uint32_t port, enum sg_dir dir, const char *row,
		const struct sg_verdict *v, enum sg_action action, const char *by, uint32_t pos)
{
	const struct sg_eff_rule *list;
	uint32_t n = sg_policy_effective(policy, port, dir, &list);
	char label[128];

	ck_assert_msg(v->rule != NULL, "%s: no deciding rule", row);
	rule_label(policy, v->rule, label, sizeof(label));
	ck_assert_msg(v->action == action && strcmp(label, by) == 0 && v->position == pos,
			"%s (%s): got %s by \"%s\" at %u, want %s by \"%s\" at %u", row,
			sg_dir_name(dir), sg_action_name(v->action), label, v->position,
			sg_action_name(action), by, pos);
	ck_assert_msg(v->position >= 1 && v->position <= n && v->rule == &list[v->position - 1] &&
					v->rule->action == v->action,
			"%s: verdict does not point at entry %u of the list", row, v->position);
}

/* One question to one port: the verdict of 'port' for 'flow' seen in 'dir'. */
struct t_check {
	const char *name;
	const char *port;
	enum sg_dir dir;
	const char *flow;
	enum sg_action action;
	const char *by;
	uint32_t pos;
};

static void
check_rows(const struct sg_policy *policy, const struct t_check *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct t_check *row = &rows[i];
		struct sg_flow flow = flow_of(row->flow);
		uint32_t port = port_of(policy, row->port);
		struct sg_verdict v;

		memset(&v, 0, sizeof(v));
		sg_policy_decide(policy, port, row->dir, &flow, &v);
		expect_verdict(policy, port, row->dir, row->name, &v, row->action, row->by,
				row->pos);
	}
}

static void
run_checks(const struct t_spec *t, const struct t_check *rows, size_t n)
{
	struct sg_policy *policy = policy_build(t);

	check_rows(policy, rows, n);
	sg_policy_free(policy);
}

/* One packet between two ports: the sender's egress and the receiver's ingress. */
struct t_path {
	const char *name;
	const char *from;
	const char *to;
	const char *flow;
	enum sg_action action; /* of the path: accept only if both checks accept */
	enum sg_action egress_action;
	const char *egress_by;
	uint32_t egress_pos;
	enum sg_action ingress_action;
	const char *ingress_by;
	uint32_t ingress_pos;
};

static void
path_rows(const struct sg_policy *policy, const struct t_path *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct t_path *row = &rows[i];
		struct sg_flow flow = flow_of(row->flow);
		uint32_t from = port_of(policy, row->from), to = port_of(policy, row->to);
		struct sg_path_verdict v;

		ck_assert_msg(row->action == (row->egress_action == ACCEPT &&
							     row->ingress_action == ACCEPT ?
							     ACCEPT :
							     DROP),
				"test bug: %s: path action is not the AND of its "
				"checks", row->name);
		memset(&v, 0, sizeof(v));
		sg_policy_decide_path(policy, from, to, &flow, &v);
		ck_assert_msg(v.action == row->action, "%s: path %s, want %s", row->name,
				sg_action_name(v.action), sg_action_name(row->action));
		expect_verdict(policy, from, EG, row->name, &v.egress, row->egress_action,
				row->egress_by, row->egress_pos);
		expect_verdict(policy, to, IN, row->name, &v.ingress, row->ingress_action,
				row->ingress_by, row->ingress_pos);
	}
}

static void
run_paths(const struct t_spec *t, const struct t_path *rows, size_t n)
{
	struct sg_policy *policy = policy_build(t);

	path_rows(policy, rows, n);
	sg_policy_free(policy);
}

#define RUN_CHECKS(spec, rows) run_checks(&(spec), (rows), SG_ARRAY_SIZE(rows))
#define RUN_PATHS(spec, rows) run_paths(&(spec), (rows), SG_ARRAY_SIZE(rows))

/* Names of the default entries. */
#define DEF_BI "default basic ingress drop"
#define DEF_BE "default basic egress accept"
#define DEF_EI "default enterprise ingress drop"
#define DEF_EE "default enterprise egress drop"

/* ---- The seed scenario (config/seed.conf, seed-groups.conf) through the spec API ---- */

static const struct t_spec seed_spec = {
	.groups = {
		{"sg-db", "type=basic inner_access_policy=drop", "cluster:PostgreSQL", {
			"ingress accept priority=1 protocol=tcp port_range=5432/5432 "
			"source_cidr=10.2.0.0/24",
			"ingress accept priority=1 protocol=tcp port_range=2379/2379 "
			"source_cidr=10.1.0.0/24",
			"ingress accept priority=1 protocol=tcp port_range=5432/5432 "
			"source_cidr=fd00:2::/64",
			"ingress accept priority=1 protocol=tcp port_range=2379/2379 "
			"source_cidr=fd00:1::/64",
		}},
		{"sg-web", "type=basic inner_access_policy=drop"},
	},
	.ports = {
		{"db1", "10.1.0.11 fd00:1::11", NULL, "cluster:PostgreSQL", "52:54:00:01:00:0b"},
		{"db2", "10.1.0.12 fd00:1::12", NULL, "cluster:PostgreSQL", "52:54:00:01:00:0c"},
		{"web1", "10.2.0.11 fd00:2::11", "sg-web", NULL, "52:54:00:02:00:0b"},
		{"web2", "10.2.0.12 fd00:2::12", "sg-web", NULL, "52:54:00:02:00:0c"},
	},
};

static const struct t_path seed_rows[] = {
	{"seed 1: web to db on 5432 is accepted by sg-db rule 1", "web1", "db1",
			"tcp 10.2.0.11 40000 10.1.0.11 5432", ACCEPT,
			ACCEPT, DEF_BE, 1, ACCEPT, "sg-db rule 1", 1},
	{"seed 2: web to db on 22 is dropped by sg-db's default", "web1", "db2",
			"tcp 10.2.0.11 40000 10.1.0.12 22", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 5},
	{"seed 3: db to db on 2379 is accepted by sg-db rule 2", "db1", "db2",
			"tcp 10.1.0.11 40000 10.1.0.12 2379", ACCEPT,
			ACCEPT, DEF_BE, 1, ACCEPT, "sg-db rule 2", 2},
	{"seed 4: db to db on 5432 is dropped (isolated members)", "db2", "db1",
			"tcp 10.1.0.12 40000 10.1.0.11 5432", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 5},
	{"seed 5: web to web is dropped (isolated members)", "web1", "web2",
			"tcp 10.2.0.11 40000 10.2.0.12 80", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 1},
	{"seed 5b: web to web ping is dropped", "web2", "web1",
			"icmp 10.2.0.12 8 10.2.0.11 0", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 1},
	{"seed 6: db to web on 80 is dropped by web's default ingress", "db1", "web1",
			"tcp 10.1.0.11 40000 10.2.0.11 80", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 1},
	{"seed 1 over IPv6: sg-db rule 3", "web2", "db1",
			"tcp fd00:2::12 40000 fd00:1::11 5432", ACCEPT,
			ACCEPT, DEF_BE, 1, ACCEPT, "sg-db rule 3", 3},
	{"seed 3 over IPv6: sg-db rule 4", "db2", "db1",
			"tcp fd00:1::12 40000 fd00:1::11 2379", ACCEPT,
			ACCEPT, DEF_BE, 1, ACCEPT, "sg-db rule 4", 4},
	{"seed 4 over IPv6: isolated members", "db2", "db1",
			"tcp fd00:1::12 40000 fd00:1::11 5432", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 5},
	{"seed 5 over IPv6: isolated members", "web2", "web1",
			"tcp fd00:2::12 40000 fd00:2::11 443", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 1},
};

/* D2's duplicate removal finds exactly the first copies, as comparing each rule with every
 * earlier one would, on a large group with repeats near and far. */
START_TEST(test_unique_rules_match_pairwise)
{
	struct sg_spec *spec = sg_spec_create();
	struct sg_group *g = sg_spec_add_group(spec, "big", 0);
	uint32_t *kept = calloc(3000, sizeof(*kept));
	unsigned int seed = 5;
	uint32_t expected = 0;
	int n;

	for (int i = 0; i < 3000; i++) {
		struct sg_rule *r = sg_group_add_rule(g, 0);

		r->dir = rand_r(&seed) % 2 ? SG_DIR_INGRESS : SG_DIR_EGRESS;
		r->action = SG_ACTION_ACCEPT;
		r->priority = rand_r(&seed) % 3 + 1;
		r->proto = 6;
		r->dport = (struct sg_range){(uint16_t)(rand_r(&seed) % 40), 100};
		r->sport = (struct sg_range){0, UINT16_MAX};
		r->icmp_type = r->icmp_code = -1;
		if (rand_r(&seed) % 2) {
			r->peer_kind = SG_PEER_CIDR;
			r->cidr.ip.family = SG_AF_INET;
			r->cidr.ip.bytes[0] = (uint8_t)(rand_r(&seed) % 4);
			r->cidr.len = 8;
		} else {
			r->peer_kind = SG_PEER_GROUP;
			snprintf(r->peer, sizeof(r->peer), "g%d", rand_r(&seed) % 3);
		}
	}
	n = sg_group_unique_rules(g, kept);
	for (uint32_t i = 0; i < g->n_rules; i++) {
		bool repeat = false;

		for (uint32_t j = 0; j < i && !repeat; j++)
			repeat = sg_rule_same(&g->rules[i], &g->rules[j]);
		if (repeat)
			continue;
		ck_assert_uint_eq(kept[expected], i);
		expected++;
	}
	ck_assert_int_eq(n, (int)expected);
	/* Enough repeats that both outcomes are exercised. */
	ck_assert_int_gt(n, 100);
	ck_assert_int_lt(n, 2000);
	free(kept);
	sg_spec_free(spec);
}
END_TEST

START_TEST(test_seed_six_questions)
{
	RUN_PATHS(seed_spec, seed_rows);
}
END_TEST

/* ---- D2: one merged list, priority order, drop first at equal priority, first match ---- */

static const struct t_spec d2_spec = {
	.groups = {
		{"sg-a", "inner_access_policy=drop", NULL, {
			"ingress accept priority=10 protocol=tcp port_range=22/22 "
			"source_cidr=0.0.0.0/0",
			"ingress drop priority=5 protocol=tcp port_range=22/22 "
			"source_cidr=192.0.2.0/24",
			"ingress drop priority=20 protocol=all source_cidr=0.0.0.0/0",
			"ingress accept priority=20 protocol=udp port_range=53/53 "
			"source_cidr=0.0.0.0/0",
			"ingress accept priority=30 protocol=udp port_range=53/53 "
			"source_cidr=0.0.0.0/0",
			"ingress accept priority=40 protocol=all source_cidr=::/0",
		}},
	},
	.ports = {{"vm", "10.0.0.10 2001:db8::10", "sg-a"}},
};

static const struct t_check d2_rows[] = {
	{"priority 5 drop comes before priority 10 accept", "vm", IN,
			"tcp 192.0.2.7 40000 10.0.0.10 22", DROP, "sg-a rule 2", 1},
	{"first match: priority 10 accept hides the priority 20 drop-all", "vm", IN,
			"tcp 198.51.100.1 40000 10.0.0.10 22", ACCEPT, "sg-a rule 1", 2},
	{"equal priority 20: the drop comes before the accept", "vm", IN,
			"udp 198.51.100.1 5353 10.0.0.10 53", DROP, "sg-a rule 3", 3},
	{"drop-all at priority 20 catches other tcp", "vm", IN,
			"tcp 198.51.100.1 40000 10.0.0.10 80", DROP, "sg-a rule 3", 3},
	{"IPv4 rules do not match IPv6; the ::/0 rule does", "vm", IN,
			"tcp 2001:db8::99 40000 2001:db8::10 22", ACCEPT, "sg-a rule 6", 6},
	{"egress with no rule: basic default accepts", "vm", EG,
			"tcp 10.0.0.10 40000 203.0.113.1 443", ACCEPT, DEF_BE, 1},
};

START_TEST(test_d2_priority_order_first_match)
{
	RUN_CHECKS(d2_spec, d2_rows);
}
END_TEST

/* D2: the order of attachment (and of definition) does not change any verdict. */
#define ORDER_GROUP_A                                                                              \
	{"sg-a", NULL, NULL, {                                                                     \
		"ingress accept priority=10 protocol=tcp port_range=80/80 source_cidr=0.0.0.0/0",  \
		"ingress drop priority=20 protocol=all source_cidr=192.0.2.0/24",                  \
		"egress drop priority=3 protocol=udp port_range=53/53 dest_cidr=0.0.0.0/0",        \
	}}
#define ORDER_GROUP_B                                                                              \
	{"sg-b", NULL, NULL, {                                                                     \
		"ingress drop priority=10 protocol=tcp port_range=80/80 source_cidr=192.0.2.0/24", \
		"ingress accept priority=20 protocol=all source_cidr=192.0.2.0/24",                \
		"egress accept priority=3 protocol=udp port_range=53/53 "                          \
		"dest_cidr=198.51.100.53/32",                                                      \
	}}

static const struct t_spec order_ab_spec = {
	.groups = {ORDER_GROUP_A, ORDER_GROUP_B},
	.ports = {{"p", "10.0.0.1", "sg-a sg-b"}, {"q", "10.0.0.2", "sg-b"}},
};

static const struct t_spec order_ba_spec = {
	.groups = {ORDER_GROUP_A, ORDER_GROUP_B},
	.ports = {{"p", "10.0.0.1", "sg-b sg-a"}, {"q", "10.0.0.2", "sg-b"}},
};

static const struct t_spec order_defined_ba_spec = {
	.groups = {ORDER_GROUP_B, ORDER_GROUP_A},
	.ports = {{"p", "10.0.0.1", "sg-a sg-b"}, {"q", "10.0.0.2", "sg-b"}},
};

static const struct t_check order_rows[] = {
	{"tcp 80 from 192.0.2.9: drop at 10 beats accept at 10 of the other group", "p", IN,
			"tcp 192.0.2.9 40000 10.0.0.1 80", DROP, "sg-b rule 1", 3},
	{"tcp 80 from elsewhere: sg-a's accept", "p", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 80", ACCEPT, "sg-a rule 1", 4},
	{"udp from 192.0.2.9: drop at 20 beats accept at 20 of the other group", "p", IN,
			"udp 192.0.2.9 5000 10.0.0.1 5000", DROP, "sg-a rule 2", 5},
	{"from q, a member of sg-b: sg-b inner access", "p", IN,
			"tcp 10.0.0.2 40000 10.0.0.1 80", ACCEPT, "sg-b inner access", 2},
	{"from anywhere else: default", "p", IN,
			"tcp 203.0.113.1 40000 10.0.0.1 22", DROP, DEF_BI, 7},
	{"egress udp 53: drop at 3 beats accept at 3 of the other group", "p", EG,
			"udp 10.0.0.1 5000 198.51.100.53 53", DROP, "sg-a rule 3", 3},
	{"egress tcp: default", "p", EG,
			"tcp 10.0.0.1 40000 198.51.100.53 53", ACCEPT, DEF_BE, 5},
};

START_TEST(test_d2_group_order_irrelevant)
{
	const struct t_spec *specs[] = {&order_ab_spec, &order_ba_spec, &order_defined_ba_spec};
	struct sg_policy *policies[SG_ARRAY_SIZE(specs)];

	for (size_t s = 0; s < SG_ARRAY_SIZE(specs); s++) {
		policies[s] = policy_build(specs[s]);
		check_rows(policies[s], order_rows, SG_ARRAY_SIZE(order_rows));
	}
	/* Beyond the sampled flows, the merged lists are the same entry for entry. */
	for (size_t s = 1; s < SG_ARRAY_SIZE(specs); s++) {
		for (int d = 0; d < SG_DIR_COUNT; d++) {
			const struct sg_eff_rule *a, *b;
			uint32_t na = sg_policy_effective(policies[0], port_of(policies[0], "p"),
					(enum sg_dir)d, &a);
			uint32_t nb = sg_policy_effective(policies[s], port_of(policies[s], "p"),
					(enum sg_dir)d, &b);
			char la[128], lb[128];

			ck_assert_uint_eq(na, nb);
			for (uint32_t i = 0; i < na; i++) {
				rule_label(policies[0], &a[i], la, sizeof(la));
				rule_label(policies[s], &b[i], lb, sizeof(lb));
				ck_assert_msg(strcmp(la, lb) == 0 && a[i].action == b[i].action,
						"spec %zu %s entry %u: \"%s\" vs \"%s\"", s,
						sg_dir_name((enum sg_dir)d), i + 1, lb, la);
			}
		}
	}
	for (size_t s = 0; s < SG_ARRAY_SIZE(specs); s++)
		sg_policy_free(policies[s]);
}
END_TEST

/* ---- D3: defaults per group type and direction ---- */

static const struct t_spec d3_spec = {
	.groups = {
		{"sg-basic"},
		{"sg-ent", "type=enterprise inner_access_policy=drop"},
	},
	.ports = {
		{"b1", "10.0.1.1 2001:db8:1::1", "sg-basic"},
		{"b2", "10.0.1.2", "sg-basic"},
		{"e1", "10.0.2.1", "sg-ent"},
		{"e2", "10.0.2.2", "sg-ent"},
	},
};

static const struct t_check d3_rows[] = {
	{"basic ingress from outside is dropped", "b1", IN,
			"tcp 203.0.113.5 40000 10.0.1.1 22", DROP, DEF_BI, 2},
	{"basic ingress over IPv6 from outside is dropped", "b1", IN,
			"tcp 2001:db8:9::5 40000 2001:db8:1::1 22", DROP, DEF_BI, 2},
	{"basic ingress from a member is accepted (D4)", "b1", IN,
			"udp 10.0.1.2 5000 10.0.1.1 53", ACCEPT, "sg-basic inner access", 1},
	{"basic egress is accepted", "b1", EG,
			"tcp 10.0.1.1 40000 203.0.113.5 443", ACCEPT, DEF_BE, 2},
	{"basic egress to a member: inner access comes first", "b1", EG,
			"tcp 10.0.1.1 40000 10.0.1.2 443", ACCEPT, "sg-basic inner access", 1},
	{"enterprise ingress from outside is dropped", "e1", IN,
			"tcp 203.0.113.5 40000 10.0.2.1 22", DROP, DEF_EI, 1},
	{"enterprise ingress from a member is dropped", "e1", IN,
			"tcp 10.0.2.2 40000 10.0.2.1 22", DROP, DEF_EI, 1},
	{"enterprise egress is dropped", "e1", EG,
			"tcp 10.0.2.1 40000 203.0.113.5 443", DROP, DEF_EE, 1},
	{"enterprise egress to a member is dropped", "e1", EG,
			"udp 10.0.2.1 40000 10.0.2.2 53", DROP, DEF_EE, 1},
};

START_TEST(test_d3_defaults)
{
	struct sg_policy *policy = policy_build(&d3_spec);
	const struct sg_eff_rule *list;

	check_rows(policy, d3_rows, SG_ARRAY_SIZE(d3_rows));
	ck_assert_int_eq(sg_policy_port_type(policy, port_of(policy, "b1")), SG_GROUP_BASIC);
	ck_assert_int_eq(sg_policy_port_type(policy, port_of(policy, "e1")), SG_GROUP_ENTERPRISE);
	/* Enterprise lists hold the default alone: no inner access entry. */
	ck_assert_uint_eq(sg_policy_effective(policy, port_of(policy, "e1"), IN, &list), 1);
	ck_assert_uint_eq(sg_policy_effective(policy, port_of(policy, "e1"), EG, &list), 1);
	ck_assert_uint_eq(sg_policy_effective(policy, port_of(policy, "b1"), IN, &list), 2);
	sg_policy_free(policy);
}
END_TEST

/* ---- Edge cases of docs/decisions.md (stateless part), named after their number ---- */

static const struct t_spec edge01_spec = {
	.groups = {{"sg-a", "inner_access_policy=drop", NULL, {
		"ingress accept priority=1 protocol=tcp port_range=22/22 source_cidr=0.0.0.0/0",
		"ingress drop priority=1 protocol=tcp port_range=22/22 source_cidr=10.0.0.0/8",
	}}},
	.ports = {{"vm", "172.16.0.5", "sg-a"}},
};

static const struct t_check edge01_rows[] = {
	{"edge 1: equal priority, SYN from 10.1.1.1: drop", "vm", IN,
			"tcp 10.1.1.1 40000 172.16.0.5 22", DROP, "sg-a rule 2", 1},
	{"edge 1: SYN from 192.0.2.1 matches only the accept", "vm", IN,
			"tcp 192.0.2.1 40000 172.16.0.5 22", ACCEPT, "sg-a rule 1", 2},
};

START_TEST(test_edge01_equal_priority_drop_wins)
{
	RUN_CHECKS(edge01_spec, edge01_rows);
}
END_TEST

static const struct t_spec edge02_spec = {
	.groups = {{"sg-a", "inner_access_policy=drop", NULL, {
		"ingress accept priority=1 protocol=tcp port_range=22/22 source_cidr=10.0.0.0/8",
		"ingress drop priority=2 protocol=all port_range=-1/-1 source_cidr=0.0.0.0/0",
	}}},
	.ports = {{"vm", "172.16.0.5", "sg-a"}},
};

static const struct t_check edge02_rows[] = {
	{"edge 2: SYN from 10.1.1.1: accept at priority 1", "vm", IN,
			"tcp 10.1.1.1 40000 172.16.0.5 22", ACCEPT, "sg-a rule 1", 1},
	{"edge 2: SYN from 192.0.2.1: drop at priority 2", "vm", IN,
			"tcp 192.0.2.1 40000 172.16.0.5 22", DROP, "sg-a rule 2", 2},
};

START_TEST(test_edge02_priority_then_drop_all)
{
	RUN_CHECKS(edge02_spec, edge02_rows);
}
END_TEST

#define EDGE3_GROUPS(x_prio)                                                                       \
	{"sg-x", "inner_access_policy=drop", NULL, {                                               \
		"ingress drop priority=" x_prio " protocol=tcp port_range=80/80 "                  \
		"source_cidr=0.0.0.0/0",                                                           \
	}},                                                                                        \
	{"sg-y", "inner_access_policy=drop", NULL, {                                               \
		"ingress accept priority=10 protocol=tcp port_range=80/80 source_cidr=0.0.0.0/0",  \
	}}

static const struct t_spec edge03_xy_spec = {
	.groups = {EDGE3_GROUPS("50")},
	.ports = {{"eni", "10.0.0.1", "sg-x sg-y"}},
};

static const struct t_spec edge03_yx_spec = {
	.groups = {EDGE3_GROUPS("50")},
	.ports = {{"eni", "10.0.0.1", "sg-y sg-x"}},
};

static const struct t_check edge03_rows[] = {
	{"edge 3: accept at 10 in sg-y beats drop at 50 in sg-x", "eni", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 80", ACCEPT, "sg-y rule 1", 1},
};

START_TEST(test_edge03_merged_across_groups)
{
	RUN_CHECKS(edge03_xy_spec, edge03_rows);
	RUN_CHECKS(edge03_yx_spec, edge03_rows);
}
END_TEST

static const struct t_spec edge04_xy_spec = {
	.groups = {EDGE3_GROUPS("10")},
	.ports = {{"eni", "10.0.0.1", "sg-x sg-y"}},
};

static const struct t_spec edge04_yx_spec = {
	.groups = {EDGE3_GROUPS("10")},
	.ports = {{"eni", "10.0.0.1", "sg-y sg-x"}},
};

static const struct t_check edge04_rows[] = {
	{"edge 4: drop in sg-x and accept in sg-y both at 10: drop", "eni", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 80", DROP, "sg-x rule 1", 1},
};

START_TEST(test_edge04_equal_priority_across_groups)
{
	RUN_CHECKS(edge04_xy_spec, edge04_rows);
	RUN_CHECKS(edge04_yx_spec, edge04_rows);
}
END_TEST

static const struct t_spec edge05_spec = {
	.groups = {{"sg-a"}, {"sg-b"}},
	.ports = {
		{"m1", "10.0.0.1", "sg-a"},
		{"m2", "10.0.0.2", "sg-a"},
		{"o1", "10.0.0.9", "sg-b"},
	},
};

static const struct t_path edge05_paths[] = {
	{"edge 5: empty basic group, SYN from a non-member: drop", "o1", "m1",
			"tcp 10.0.0.9 40000 10.0.0.1 22", DROP,
			ACCEPT, DEF_BE, 2, DROP, DEF_BI, 2},
	{"edge 5: from a member of the same group: accept", "m2", "m1",
			"tcp 10.0.0.2 40000 10.0.0.1 22", ACCEPT,
			ACCEPT, "sg-a inner access", 1, ACCEPT, "sg-a inner access", 1},
};

static const struct t_check edge05_rows[] = {
	{"edge 5: any outbound: accept", "m1", EG,
			"udp 10.0.0.1 5000 198.51.100.1 53", ACCEPT, DEF_BE, 2},
};

START_TEST(test_edge05_empty_basic_group)
{
	RUN_PATHS(edge05_spec, edge05_paths);
	RUN_CHECKS(edge05_spec, edge05_rows);
}
END_TEST

static const struct t_spec edge06_spec = {
	.groups = {{"sg-e", "type=enterprise"}},
	.ports = {{"m1", "10.0.0.1", "sg-e"}, {"m2", "10.0.0.2", "sg-e"}},
};

static const struct t_path edge06_paths[] = {
	{"edge 6: empty enterprise group, member to member: drop (both checks)", "m2", "m1",
			"tcp 10.0.0.2 40000 10.0.0.1 22", DROP,
			DROP, DEF_EE, 1, DROP, DEF_EI, 1},
};

static const struct t_check edge06_rows[] = {
	{"edge 6: any outbound: drop", "m1", EG,
			"udp 10.0.0.1 5000 198.51.100.1 53", DROP, DEF_EE, 1},
};

START_TEST(test_edge06_empty_enterprise_group)
{
	RUN_PATHS(edge06_spec, edge06_paths);
	RUN_CHECKS(edge06_spec, edge06_rows);
}
END_TEST

static const struct t_spec edge07_spec = {
	.groups = {{"sg-a", "inner_access_policy=accept", NULL, {
		"ingress drop priority=1 protocol=all source_group=sg-a",
		"egress drop priority=1 protocol=all dest_group=sg-a",
	}}},
	.ports = {{"m1", "10.0.0.1", "sg-a"}, {"m2", "10.0.0.2", "sg-a"}},
};

static const struct t_path edge07_paths[] = {
	{"edge 7: inner accept beats custom drops of members, both directions", "m2", "m1",
			"tcp 10.0.0.2 40000 10.0.0.1 22", ACCEPT,
			ACCEPT, "sg-a inner access", 1, ACCEPT, "sg-a inner access", 1},
};

static const struct t_check edge07_rows[] = {
	{"edge 7: a non-member is not inner traffic: default", "m1", IN,
			"tcp 10.9.9.9 40000 10.0.0.1 22", DROP, DEF_BI, 3},
};

START_TEST(test_edge07_inner_accept_beats_custom_drop)
{
	struct sg_policy *policy = policy_build(&edge07_spec);
	const struct sg_eff_rule *list;
	char label[128];

	path_rows(policy, edge07_paths, SG_ARRAY_SIZE(edge07_paths));
	check_rows(policy, edge07_rows, SG_ARRAY_SIZE(edge07_rows));
	/* The custom drop is in the list, after the inner accept. */
	ck_assert_uint_eq(sg_policy_effective(policy, port_of(policy, "m1"), IN, &list), 3);
	ck_assert_str_eq(rule_label(policy, &list[1], label, sizeof(label)), "sg-a rule 1");
	ck_assert_int_eq(list[1].action, DROP);
	sg_policy_free(policy);
}
END_TEST

static const struct t_spec edge08_isolated_spec = {
	.groups = {{"sg-a", "inner_access_policy=drop"}},
	.ports = {{"m1", "10.0.0.1", "sg-a"}, {"m2", "10.0.0.2", "sg-a"}},
};

static const struct t_spec edge08_self_rule_spec = {
	.groups = {{"sg-a", "inner_access_policy=drop", NULL, {
		"ingress accept priority=1 protocol=all source_group=sg-a",
	}}},
	.ports = {{"m1", "10.0.0.1", "sg-a"}, {"m2", "10.0.0.2", "sg-a"}},
};

static const struct t_path edge08_isolated_paths[] = {
	{"edge 8: inner drop, no rules, member to member: drop", "m2", "m1",
			"tcp 10.0.0.2 40000 10.0.0.1 22", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 1},
};

static const struct t_path edge08_self_rule_paths[] = {
	{"edge 8: then a rule accepting source_group=self: accept", "m2", "m1",
			"tcp 10.0.0.2 40000 10.0.0.1 22", ACCEPT,
			ACCEPT, DEF_BE, 1, ACCEPT, "sg-a rule 1", 1},
};

START_TEST(test_edge08_inner_drop_then_self_rule)
{
	RUN_PATHS(edge08_isolated_spec, edge08_isolated_paths);
	RUN_PATHS(edge08_self_rule_spec, edge08_self_rule_paths);
}
END_TEST

static const struct t_spec edge09_spec = {
	.groups = {{"g1", "inner_access_policy=drop"}, {"g2", "inner_access_policy=accept"}},
	.ports = {
		{"eni1", "10.0.0.1", "g1 g2"},
		{"eni2", "10.0.0.2", "g2 g1"},
		{"eni3", "10.0.0.3", "g1"},
	},
};

static const struct t_path edge09_paths[] = {
	{"edge 9: both in g1 (drop) and g2 (accept): accept", "eni1", "eni2",
			"tcp 10.0.0.1 40000 10.0.0.2 22", ACCEPT,
			ACCEPT, "g2 inner access", 1, ACCEPT, "g2 inner access", 1},
	{"edge 9: same the other way", "eni2", "eni1",
			"udp 10.0.0.2 5000 10.0.0.1 53", ACCEPT,
			ACCEPT, "g2 inner access", 1, ACCEPT, "g2 inner access", 1},
	{"edge 9: sharing only the isolating g1: drop", "eni3", "eni1",
			"tcp 10.0.0.3 40000 10.0.0.1 22", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 2},
};

START_TEST(test_edge09_any_accepting_group_lets_members_talk)
{
	RUN_PATHS(edge09_spec, edge09_paths);
}
END_TEST

static const struct t_spec edge10_spec = {
	.groups = {{"sg-iso", "inner_access_policy=drop"}},
	.ports = {
		{"vm1-eth0", "10.0.0.1", "sg-iso"},
		{"vm1-eth1", "10.0.0.2", "sg-iso"},
		{"vm2-eth0", "10.0.0.3", "sg-iso"},
	},
};

static const struct t_path edge10_paths[] = {
	{"edge 10: two ports of one VM in an isolated group: drop", "vm1-eth0", "vm1-eth1",
			"tcp 10.0.0.1 40000 10.0.0.2 22", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 1},
	{"edge 10: and back", "vm1-eth1", "vm1-eth0",
			"tcp 10.0.0.2 40000 10.0.0.1 22", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 1},
	{"edge 10: to another VM: drop", "vm1-eth1", "vm2-eth0",
			"tcp 10.0.0.2 40000 10.0.0.3 22", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 1},
};

START_TEST(test_edge10_isolation_per_port)
{
	RUN_PATHS(edge10_spec, edge10_paths);
}
END_TEST

static const struct t_spec edge13_spec = {
	.groups = {{"sg-a", "inner_access_policy=drop", NULL, {
		"ingress accept priority=5 protocol=tcp port_range=22/22 source_cidr=10.0.0.0/8 "
		"description=first",
		/* The same rule: protocol number, other description, field order. */
		"source_cidr=10.0.0.0/8 port_range=22/22 protocol=6 priority=5 accept ingress "
		"description=again",
		"ingress accept priority=5 protocol=tcp port_range=80/80 source_cidr=10.0.0.0/8",
	}}},
	.ports = {{"vm", "172.16.0.1", "sg-a"}},
};

static const struct t_check edge13_rows[] = {
	{"edge 13: the kept rule decides", "vm", IN,
			"tcp 10.1.1.1 40000 172.16.0.1 22", ACCEPT, "sg-a rule 1", 1},
	/* Rule numbers are those of the normalised spec (sg_policy_spec). */
	{"edge 13: the rule after the copy", "vm", IN,
			"tcp 10.1.1.1 40000 172.16.0.1 80", ACCEPT, "sg-a rule 2", 2},
};

START_TEST(test_edge13_identical_rule_twice_adds_nothing)
{
	struct sg_policy *policy = policy_build(&edge13_spec);
	const struct sg_eff_rule *list;

	ck_assert_uint_eq(sg_policy_spec(policy)->groups[0].n_rules, 2);
	ck_assert_str_eq(sg_policy_spec(policy)->groups[0].rules[0].description, "first");
	ck_assert_uint_eq(sg_policy_effective(policy, 0, IN, &list), 3);
	/* user rules, one inner id per group, four defaults */
	ck_assert_uint_eq(sg_policy_rule_count(policy), 2 + 1 + 4);
	check_rows(policy, edge13_rows, SG_ARRAY_SIZE(edge13_rows));
	sg_policy_free(policy);
}
END_TEST

static const struct t_spec edge33_spec = {
	.groups = {
		{"sg-a", "inner_access_policy=drop", NULL, {
			"ingress accept priority=7 protocol=tcp port_range=443/443 "
			"source_cidr=0.0.0.0/0",
			"ingress drop priority=7 protocol=tcp port_range=443/443 "
			"source_cidr=0.0.0.0/0",
		}},
		{"sg-b", "inner_access_policy=drop", NULL, {
			"ingress drop priority=7 protocol=tcp port_range=443/443 "
			"source_cidr=0.0.0.0/0",
			"ingress accept priority=7 protocol=tcp port_range=443/443 "
			"source_cidr=0.0.0.0/0",
		}},
	},
	.ports = {{"pa", "10.0.0.1", "sg-a"}, {"pb", "10.0.0.2", "sg-b"}},
};

static const struct t_check edge33_rows[] = {
	{"edge 33: same match, same priority, accept defined first: drop", "pa", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 443", DROP, "sg-a rule 2", 1},
	{"edge 33: drop defined first: drop", "pb", IN,
			"tcp 198.51.100.1 40000 10.0.0.2 443", DROP, "sg-b rule 1", 1},
};

START_TEST(test_edge33_equal_priority_tie_is_drop)
{
	RUN_CHECKS(edge33_spec, edge33_rows);
}
END_TEST

static const struct t_spec edge44_spec = {
	.groups = {{"sg-a", "inner_access_policy=drop", NULL, {
		"ingress accept priority=1 protocol=tcp port_range=1/65535 source_cidr=0.0.0.0/0",
		"ingress accept priority=1 protocol=udp port_range=1/65535 "
		"source_port_range=1/65535 source_cidr=0.0.0.0/0",
	}}},
	.ports = {{"vm", "10.0.0.1", "sg-a"}},
};

static const struct t_check edge44_rows[] = {
	{"edge 44: tcp 1/65535 matches destination port 0", "vm", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 0", ACCEPT, "sg-a rule 1", 1},
	{"edge 44: and 65535", "vm", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 65535", ACCEPT, "sg-a rule 1", 1},
	{"edge 44: udp source and destination port 0", "vm", IN,
			"udp 198.51.100.1 0 10.0.0.1 0", ACCEPT, "sg-a rule 2", 2},
};

START_TEST(test_edge44_full_port_range_covers_port_zero)
{
	struct sg_policy *policy = policy_build(&edge44_spec);
	const struct sg_eff_rule *list;
	struct sg_error err = {0};
	struct sg_group *group;
	struct sg_spec *spec;
	struct sg_rule *rule;

	check_rows(policy, edge44_rows, SG_ARRAY_SIZE(edge44_rows));
	sg_policy_effective(policy, 0, IN, &list);
	ck_assert_uint_eq(list[0].dport.lo, 0);
	ck_assert_uint_eq(list[0].dport.hi, 65535);
	ck_assert_uint_eq(list[1].sport.lo, 0);
	sg_policy_free(policy);

	/* A range starting at port 0 is rejected. */
	spec = sg_spec_create();
	group = sg_spec_add_group(spec, "sg-a", 1);
	rule = sg_group_add_rule(group, 2);
	ck_assert_int_eq(sg_rule_set(rule, "port_range", "0/10", &err), -EINVAL);
	ck_assert_int_eq(err.line, 2);
	ck_assert_msg(strstr(err.msg, "port_range \"0/10\": ports must be within 1..65535") != NULL,
			"message: %s", err.msg);
	sg_spec_free(spec);
}
END_TEST

/* ---- D5: tags, group peers, prefix lists ---- */

static const struct t_spec tags_spec = {
	.groups = {
		{"sg-db", "inner_access_policy=drop", "cluster:pg", {
			"ingress accept priority=1 protocol=tcp port_range=2379/2379 "
			"source_group=sg-db",
		}},
		{"sg-web", "inner_access_policy=drop", "tier:web", {
			"ingress accept priority=1 protocol=tcp port_range=80/80 "
			"source_group=sg-db",
		}},
	},
	.ports = {
		{"db1", "10.1.0.11", NULL, "cluster:pg"},
		{"db2", "10.1.0.12", "sg-db", "cluster:pg"},
		{"db3", "10.1.0.13", "sg-db", "cluster:other"},
		{"web1", "10.2.0.11", NULL, "tier:web unrelated"},
	},
};

static const struct t_check tags_rows[] = {
	{"db1 (by tag) to db3 (explicit) on 2379", "db3", IN,
			"tcp 10.1.0.11 40000 10.1.0.13 2379", ACCEPT, "sg-db rule 1", 1},
	{"db3 to db1 on 2379", "db1", IN,
			"tcp 10.1.0.13 40000 10.1.0.11 2379", ACCEPT, "sg-db rule 1", 1},
	{"db2 to db1 on 5432: isolated", "db1", IN,
			"tcp 10.1.0.12 40000 10.1.0.11 5432", DROP, DEF_BI, 2},
	{"tag member db1 is a peer of sg-web's rule", "web1", IN,
			"tcp 10.1.0.11 40000 10.2.0.11 80", ACCEPT, "sg-web rule 1", 1},
	{"web1 is not in sg-db", "db1", IN,
			"tcp 10.2.0.11 40000 10.1.0.11 2379", DROP, DEF_BI, 2},
};

START_TEST(test_d5_tag_attachment)
{
	struct sg_policy *policy = policy_build(&tags_spec);
	int db = group_of(policy, "sg-db"), web = group_of(policy, "sg-web");
	uint32_t db1 = port_of(policy, "db1"), db2 = port_of(policy, "db2");
	uint32_t db3 = port_of(policy, "db3"), web1 = port_of(policy, "web1");
	const uint32_t *list;

	check_rows(policy, tags_rows, SG_ARRAY_SIZE(tags_rows));
	ck_assert_uint_eq(sg_policy_port_groups(policy, db1, &list), 1);
	ck_assert_uint_eq(list[0], (uint32_t)db);
	ck_assert(sg_policy_attached_by_tag(policy, db1, (uint32_t)db));
	/* Explicit and by tag: not "only" by tag. */
	ck_assert(!sg_policy_attached_by_tag(policy, db2, (uint32_t)db));
	ck_assert(!sg_policy_attached_by_tag(policy, db3, (uint32_t)db));
	ck_assert(sg_policy_attached_by_tag(policy, web1, (uint32_t)web));
	ck_assert(!sg_policy_attached_by_tag(policy, web1, (uint32_t)db));
	ck_assert_uint_eq(sg_policy_port_groups(policy, db2, &list), 1);
	ck_assert_uint_eq(sg_policy_group_members(policy, (uint32_t)db, &list), 3);
	ck_assert_uint_eq(list[0], db1);
	ck_assert_uint_eq(list[1], db2);
	ck_assert_uint_eq(list[2], db3);
	ck_assert_uint_eq(sg_policy_group_members(policy, (uint32_t)web, &list), 1);
	ck_assert_uint_eq(list[0], web1);
	sg_policy_free(policy);
}
END_TEST

START_TEST(test_d5_port_groups_sorted_by_id)
{
	static const struct t_spec spec = {
		.groups = {{"sg-c"}, {"sg-a"}, {"sg-b", NULL, "t"}},
		.ports = {{"p", "10.0.0.1", "sg-c sg-a", "t"}},
	};
	struct sg_policy *policy = policy_build(&spec);
	const struct sg_spec *s = sg_policy_spec(policy);
	const uint32_t *groups;

	ck_assert_uint_eq(sg_policy_port_groups(policy, 0, &groups), 3);
	ck_assert_str_eq(s->groups[groups[0]].id, "sg-a");
	ck_assert_str_eq(s->groups[groups[1]].id, "sg-b");
	ck_assert_str_eq(s->groups[groups[2]].id, "sg-c");
	ck_assert(!sg_policy_attached_by_tag(policy, 0, groups[0]));
	ck_assert(sg_policy_attached_by_tag(policy, 0, groups[1]));
	ck_assert(!sg_policy_attached_by_tag(policy, 0, groups[2]));
	sg_policy_free(policy);
}
END_TEST

/* Tags reach groups through a map from tag to groups: a group carrying two of a port's tags
 * (or a tag the port lists twice) is attached once, and groups found by tag come in group
 * order, whatever the order of the port's tags. */
START_TEST(test_d5_tag_map)
{
	static const struct t_spec spec = {
		.groups = {{"sg-z", NULL, "t1 t2"}, {"sg-y", NULL, "t3"}, {"sg-x"}},
		.ports = {{"p", "10.0.0.1", "sg-x", "t3 t2 t1 t2"},
				{"q", "10.0.0.2", NULL, "t1"}},
	};
	struct sg_policy *policy = policy_build(&spec);
	const struct sg_spec *s = sg_policy_spec(policy);
	const uint32_t *list;

	ck_assert_uint_eq(sg_policy_port_groups(policy, 0, &list), 3);
	ck_assert_str_eq(s->groups[list[0]].id, "sg-x");
	ck_assert_str_eq(s->groups[list[1]].id, "sg-y");
	ck_assert_str_eq(s->groups[list[2]].id, "sg-z");
	ck_assert(!sg_policy_attached_by_tag(policy, 0, list[0]));
	ck_assert(sg_policy_attached_by_tag(policy, 0, list[1]));
	ck_assert(sg_policy_attached_by_tag(policy, 0, list[2]));
	ck_assert_uint_eq(sg_policy_group_members(policy, 0, &list), 2);
	ck_assert_uint_eq(list[0], 0);
	ck_assert_uint_eq(list[1], 1);
	ck_assert_uint_eq(sg_policy_group_members(policy, 1, &list), 1);
	ck_assert_uint_eq(sg_policy_group_members(policy, 2, &list), 1);
	sg_policy_free(policy);
}
END_TEST

/* Allowed prefixes side by side, each holding its own port's address, with other ports'
 * addresses just outside: apart (the compile's sorted pass finds no clash). */
START_TEST(test_prefixes_side_by_side)
{
	static const struct t_spec spec = {
		.groups = {{"sg-a"}},
		.ports = {{"p", "10.5.0.1 10.5.0.0/25", "sg-a"},
				{"q", "10.5.0.128 10.5.0.128/25 2001:db8::/64", "sg-a"},
				{"r", "10.5.1.0 10.4.255.255 2001:db8:0:1::1", "sg-a"},
				{"s", "10.5.2.1 10.5.3.0/24 2001:db8:0:2::/128", "sg-a"}},
	};
	struct sg_policy *policy = policy_build(&spec);

	ck_assert_uint_eq(sg_policy_spec(policy)->n_ports, 4);
	sg_policy_free(policy);
}
END_TEST

static const struct t_spec peers_spec = {
	.groups = {
		{"sg-web", "inner_access_policy=drop"},
		{"sg-app", "inner_access_policy=drop", NULL, {
			"ingress accept priority=1 protocol=tcp port_range=443/443 "
			"source_group=sg-web",
			"ingress accept priority=2 protocol=icmpv6 icmp_type=128 "
			"source_group=sg-web",
			"ingress accept priority=3 protocol=icmp icmp_type=8 source_group=sg-web",
			"egress drop priority=1 protocol=udp port_range=53/53 dest_group=sg-web",
		}},
	},
	.ports = {
		{"web1", "10.2.0.11 2001:db8:2::11", "sg-web"},
		{"web2", "10.2.0.12 2001:db8:2::12", "sg-web"},
		{"app1", "10.3.0.1 2001:db8:3::1", "sg-app"},
	},
};

static const struct t_check peers_rows[] = {
	{"IPv4 member of the peer group", "app1", IN,
			"tcp 10.2.0.12 40000 10.3.0.1 443", ACCEPT, "sg-app rule 1", 1},
	{"IPv6 member of the peer group", "app1", IN,
			"tcp 2001:db8:2::11 40000 2001:db8:3::1 443", ACCEPT, "sg-app rule 1", 1},
	{"address next to a member: not a peer", "app1", IN,
			"tcp 10.2.0.13 40000 10.3.0.1 443", DROP, DEF_BI, 4},
	{"icmpv6 echo from an IPv6 member", "app1", IN,
			"icmpv6 2001:db8:2::12 128 2001:db8:3::1 0", ACCEPT, "sg-app rule 2", 2},
	{"icmp echo from an IPv4 member", "app1", IN,
			"icmp 10.2.0.11 8 10.3.0.1 0", ACCEPT, "sg-app rule 3", 3},
	{"egress rule: dest group members", "app1", EG,
			"udp 10.3.0.1 5000 10.2.0.11 53", DROP, "sg-app rule 4", 1},
	{"egress to a non-member: default", "app1", EG,
			"udp 10.3.0.1 5000 10.2.0.99 53", ACCEPT, DEF_BE, 2},
};

/* The peers of entry 'rule', formatted and joined by spaces, in list order. */
static const char *
peers_text(const struct sg_eff_rule *rule, char *buf, size_t size)
{
	char one[SG_PREFIX_STRLEN];
	size_t used = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < rule->n_peers; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "",
				sg_prefix_format(&rule->peers[i], one, sizeof(one)));
	return buf;
}

START_TEST(test_d5_group_peers_expanded)
{
	struct sg_policy *policy = policy_build(&peers_spec);
	uint32_t app1 = port_of(policy, "app1");
	const struct sg_eff_rule *list;
	char text[512];

	check_rows(policy, peers_rows, SG_ARRAY_SIZE(peers_rows));
	ck_assert_uint_eq(sg_policy_effective(policy, app1, IN, &list), 4);
	ck_assert_str_eq(peers_text(&list[0], text, sizeof(text)),
			"10.2.0.11/32 2001:db8:2::11/128 10.2.0.12/32 2001:db8:2::12/128");
	ck_assert(!list[0].peer_any);
	/* An ICMP rule keeps only the members' addresses of its family. */
	ck_assert_str_eq(peers_text(&list[1], text, sizeof(text)),
			"2001:db8:2::11/128 2001:db8:2::12/128");
	ck_assert_uint_eq(list[1].family, SG_AF_INET6);
	ck_assert_str_eq(peers_text(&list[2], text, sizeof(text)), "10.2.0.11/32 10.2.0.12/32");
	ck_assert_uint_eq(list[2].family, SG_AF_INET);
	sg_policy_free(policy);
}
END_TEST

/*
 * D5 with allowed prefixes: a group peer stands for every address of its members, their
 * allowed prefixes included (as OpenStack puts allowed address pairs in remote-group sets),
 * and so does a basic group's inner access.
 */
static const struct t_spec prefix_peers_spec = {
	.groups = {
		{"sg-web"},
		{"sg-app", "inner_access_policy=drop", NULL, {
			"ingress accept priority=1 protocol=tcp port_range=443/443 "
			"source_group=sg-web",
			"ingress accept priority=3 protocol=icmp icmp_type=8 source_group=sg-web",
		}},
	},
	.ports = {
		{"web1", "10.2.0.11 2001:db8:2::11 10.2.0.128/25", "sg-web"},
		{"web2", "10.2.0.12 2001:db8:2::12 2001:db8:2:12::/64", "sg-web"},
		{"app1", "10.3.0.1 2001:db8:3::1 10.3.1.0/24", "sg-app"},
	},
};

static const struct t_check prefix_peers_rows[] = {
	{"from an address of a member's IPv4 prefix", "app1", IN,
			"tcp 10.2.0.200 40000 10.3.0.1 443", ACCEPT, "sg-app rule 1", 1},
	{"from an address of a member's IPv6 prefix", "app1", IN,
			"tcp 2001:db8:2:12::99 40000 2001:db8:3::1 443", ACCEPT, "sg-app rule 1",
			1},
	{"next to the prefix: not a peer", "app1", IN,
			"tcp 10.2.0.127 40000 10.3.0.1 443", DROP, DEF_BI, 3},
	{"to an address of app1's own prefix: the same rules", "app1", IN,
			"tcp 10.2.0.129 40000 10.3.1.7 443", ACCEPT, "sg-app rule 1", 1},
	{"icmp from the member's IPv4 prefix", "app1", IN,
			"icmp 10.2.0.255 8 10.3.0.1 0", ACCEPT, "sg-app rule 2", 2},
	{"inner access: web2 from web1's prefix", "web2", IN,
			"tcp 10.2.0.130 40000 10.2.0.12 22", ACCEPT, "sg-web inner access", 1},
	{"inner access: web1 from web2's prefix", "web1", IN,
			"tcp 2001:db8:2:12::1 40000 2001:db8:2::11 22", ACCEPT,
			"sg-web inner access", 1},
	{"inner access is for the other members: not from web1's own prefix", "web1", IN,
			"tcp 10.2.0.130 40000 10.2.0.11 22", DROP, DEF_BI, 2},
};

START_TEST(test_d5_group_peers_include_allowed_prefixes)
{
	struct sg_policy *policy = policy_build(&prefix_peers_spec);
	const struct sg_eff_rule *list;
	char text[512];

	check_rows(policy, prefix_peers_rows, SG_ARRAY_SIZE(prefix_peers_rows));
	ck_assert_uint_eq(sg_policy_effective(policy, port_of(policy, "app1"), IN, &list), 3);
	ck_assert_str_eq(peers_text(&list[0], text, sizeof(text)),
			"10.2.0.11/32 2001:db8:2::11/128 10.2.0.128/25 10.2.0.12/32 "
			"2001:db8:2::12/128 2001:db8:2:12::/64");
	/* An ICMP rule keeps the members' addresses and prefixes of its family. */
	ck_assert_str_eq(peers_text(&list[1], text, sizeof(text)),
			"10.2.0.11/32 10.2.0.128/25 10.2.0.12/32");
	sg_policy_free(policy);
}
END_TEST

/* D5: a group peer follows the ports attached to the group as they come and go. */
START_TEST(test_d5_group_peers_follow_ports)
{
	struct sg_error err = {0};
	struct sg_spec *spec = spec_build(&peers_spec, &err);
	struct sg_policy *policy;
	struct sg_spec_port *port;
	struct sg_ip ip;
	static const struct t_check joined[] = {
		{"a port that joined sg-web is a peer", "app1", IN,
				"tcp 10.2.0.13 40000 10.3.0.1 443", ACCEPT, "sg-app rule 1", 1},
		{"so is one that joined by tag", "app1", IN,
				"tcp 10.2.0.14 40000 10.3.0.1 443", ACCEPT, "sg-app rule 1", 1},
	};
	static const struct t_check left[] = {
		{"a port that left sg-web is no longer a peer", "app1", IN,
				"tcp 10.2.0.11 40000 10.3.0.1 443", DROP, DEF_BI, 4},
		{"the others still are", "app1", IN,
				"tcp 10.2.0.12 40000 10.3.0.1 443", ACCEPT, "sg-app rule 1", 1},
	};

	ck_assert_ptr_nonnull(spec);
	port = sg_spec_add_port(spec, "web3", 50);
	ck_assert_int_eq(sg_mac_parse("52:54:00:00:00:33", port->mac), 0);
	port->has_mac = true;
	sg_ip_parse("10.2.0.13", &ip);
	sg_spec_port_add_ip(port, &ip);
	sg_spec_port_add_group(port, "sg-web");
	port = sg_spec_add_port(spec, "web4", 51);
	ck_assert_int_eq(sg_mac_parse("52:54:00:00:00:34", port->mac), 0);
	port->has_mac = true;
	sg_ip_parse("10.2.0.14", &ip);
	sg_spec_port_add_ip(port, &ip);
	sg_spec_port_add_tag(port, "web");
	sg_group_add_tag(&spec->groups[sg_spec_find_group(spec, "sg-web")], "web");
	policy = sg_policy_compile(spec, &err);
	ck_assert_msg(policy != NULL, "%s", err.msg);
	check_rows(policy, joined, SG_ARRAY_SIZE(joined));
	sg_policy_free(policy);

	sg_spec_remove_port(spec, (uint32_t)sg_spec_find_port(spec, "web1"));
	policy = sg_policy_compile(spec, &err);
	ck_assert_msg(policy != NULL, "%s", err.msg);
	check_rows(policy, left, SG_ARRAY_SIZE(left));
	sg_policy_free(policy);
	sg_spec_free(spec);
}
END_TEST

static const struct t_spec plist_spec = {
	.lists = {
		{"pl-office", "198.51.100.0/24 203.0.113.0/25"},
		{"pl-v6", "2001:db8:f::/48"},
	},
	.groups = {{"sg-a", "inner_access_policy=drop", NULL, {
		"ingress accept priority=1 protocol=tcp port_range=22/22 "
		"source_prefix_list=pl-office",
		"egress drop priority=1 protocol=all dest_prefix_list=pl-v6",
	}}},
	.ports = {{"vm", "10.0.0.1 2001:db8:1::1", "sg-a"}},
};

static const struct t_check plist_rows[] = {
	{"first entry of the list", "vm", IN,
			"tcp 198.51.100.7 40000 10.0.0.1 22", ACCEPT, "sg-a rule 1", 1},
	{"second entry, last address", "vm", IN,
			"tcp 203.0.113.127 40000 10.0.0.1 22", ACCEPT, "sg-a rule 1", 1},
	{"just outside the second entry", "vm", IN,
			"tcp 203.0.113.128 40000 10.0.0.1 22", DROP, DEF_BI, 2},
	{"IPv6 list in an egress rule", "vm", EG,
			"tcp 2001:db8:1::1 40000 2001:db8:f:1::1 443", DROP, "sg-a rule 2", 1},
	{"outside the IPv6 list", "vm", EG,
			"tcp 2001:db8:1::1 40000 2001:db8:e::1 443", ACCEPT, DEF_BE, 2},
	{"IPv4 traffic never matches the IPv6 list", "vm", EG,
			"tcp 10.0.0.1 40000 198.51.100.7 443", ACCEPT, DEF_BE, 2},
};

START_TEST(test_d1_prefix_lists)
{
	struct sg_policy *policy = policy_build(&plist_spec);
	const struct sg_eff_rule *list;
	char text[256];

	check_rows(policy, plist_rows, SG_ARRAY_SIZE(plist_rows));
	sg_policy_effective(policy, 0, IN, &list);
	ck_assert_str_eq(peers_text(&list[0], text, sizeof(text)), "198.51.100.0/24 "
		"203.0.113.0/25");
	sg_policy_free(policy);
}
END_TEST

/* ---- D1: protocols, ICMP type and code, source ports ---- */

static const struct t_spec icmp_spec = {
	.groups = {{"sg-a", "inner_access_policy=drop", NULL, {
		"ingress accept priority=1 protocol=icmp icmp_type=8 source_cidr=0.0.0.0/0",
		"ingress accept priority=1 protocol=icmp icmp_type=3 icmp_code=4 "
		"source_cidr=0.0.0.0/0",
		"ingress accept priority=1 protocol=icmpv6 icmp_type=128 source_cidr=::/0",
		"ingress accept priority=2 protocol=icmp port_range=-1/-1 source_cidr=192.0.2.0/24",
	}}},
	.ports = {{"vm", "10.0.0.1 2001:db8::1", "sg-a"}},
};

static const struct t_check icmp_rows[] = {
	{"echo request, any code", "vm", IN,
			"icmp 198.51.100.1 8 10.0.0.1 0", ACCEPT, "sg-a rule 1", 1},
	{"echo request with an odd code", "vm", IN,
			"icmp 198.51.100.1 8 10.0.0.1 9", ACCEPT, "sg-a rule 1", 1},
	{"fragmentation needed: type 3 code 4", "vm", IN,
			"icmp 198.51.100.1 3 10.0.0.1 4", ACCEPT, "sg-a rule 2", 2},
	{"port unreachable: type 3 code 3 is not type 3 code 4", "vm", IN,
			"icmp 198.51.100.1 3 10.0.0.1 3", DROP, DEF_BI, 5},
	{"echo reply: type 0", "vm", IN,
			"icmp 198.51.100.1 0 10.0.0.1 0", DROP, DEF_BI, 5},
	{"any icmp from 192.0.2.0/24", "vm", IN,
			"icmp 192.0.2.1 13 10.0.0.1 0", ACCEPT, "sg-a rule 4", 4},
	{"icmpv6 echo request", "vm", IN,
			"icmpv6 2001:db8::9 128 2001:db8::1 0", ACCEPT, "sg-a rule 3", 3},
	{"icmpv6 type 8 is not icmp type 8", "vm", IN,
			"icmpv6 2001:db8::9 8 2001:db8::1 0", DROP, DEF_BI, 5},
	{"tcp is not icmp", "vm", IN,
			"tcp 192.0.2.1 8 10.0.0.1 0", DROP, DEF_BI, 5},
};

START_TEST(test_d1_icmp_type_code)
{
	RUN_CHECKS(icmp_spec, icmp_rows);
}
END_TEST

static const struct t_spec ports_spec = {
	.groups = {{"sg-a", "inner_access_policy=drop", NULL, {
		"ingress accept priority=1 protocol=udp port_range=53/53 "
		"source_port_range=1024/65535 source_cidr=0.0.0.0/0",
		"ingress accept priority=1 protocol=udp port_range=123/123 source_cidr=0.0.0.0/0",
		"ingress accept priority=1 protocol=tcp port_range=8000/8080 source_cidr=0.0.0.0/0",
	}}},
	.ports = {{"vm", "10.0.0.1", "sg-a"}},
};

static const struct t_check ports_rows[] = {
	{"udp 53 from a high source port", "vm", IN,
			"udp 198.51.100.1 40000 10.0.0.1 53", ACCEPT, "sg-a rule 1", 1},
	{"udp 53 from source port 1024 (range start)", "vm", IN,
			"udp 198.51.100.1 1024 10.0.0.1 53", ACCEPT, "sg-a rule 1", 1},
	{"udp 53 from source port 1023", "vm", IN,
			"udp 198.51.100.1 1023 10.0.0.1 53", DROP, DEF_BI, 4},
	{"udp 123 from any source port", "vm", IN,
			"udp 198.51.100.1 123 10.0.0.1 123", ACCEPT, "sg-a rule 2", 2},
	{"tcp 53 is not udp 53", "vm", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 53", DROP, DEF_BI, 4},
	{"tcp range start", "vm", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 8000", ACCEPT, "sg-a rule 3", 3},
	{"tcp range end", "vm", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 8080", ACCEPT, "sg-a rule 3", 3},
	{"tcp one past the range", "vm", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 8081", DROP, DEF_BI, 4},
	{"tcp one before the range", "vm", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 7999", DROP, DEF_BI, 4},
};

START_TEST(test_d1_port_ranges_and_source_ports)
{
	RUN_CHECKS(ports_spec, ports_rows);
}
END_TEST

static const struct t_spec protos_spec = {
	.groups = {{"sg-a", "inner_access_policy=drop", NULL, {
		"ingress accept priority=1 protocol=47 source_cidr=0.0.0.0/0",
		"ingress accept priority=1 protocol=sctp source_cidr=0.0.0.0/0",
		"ingress accept priority=1 protocol=6 port_range=80/80 source_cidr=0.0.0.0/0",
		"ingress accept priority=1 protocol=0 source_cidr=0.0.0.0/0",
		"egress drop priority=1 protocol=all dest_cidr=203.0.113.0/24",
	}}},
	.ports = {{"vm", "10.0.0.1", "sg-a"}},
};

static const struct t_check protos_rows[] = {
	{"protocol 47 is gre", "vm", IN,
			"gre 198.51.100.1 0 10.0.0.1 0", ACCEPT, "sg-a rule 1", 1},
	{"protocol sctp by name (132)", "vm", IN,
			"132 198.51.100.1 0 10.0.0.1 0", ACCEPT, "sg-a rule 2", 2},
	{"protocol 6 is tcp", "vm", IN,
			"tcp 198.51.100.1 40000 10.0.0.1 80", ACCEPT, "sg-a rule 3", 3},
	{"esp (50) has no rule", "vm", IN,
			"esp 198.51.100.1 0 10.0.0.1 0", DROP, DEF_BI, 5},
	{"protocol 0 is a protocol, not 'all'", "vm", IN,
			"0 198.51.100.1 0 10.0.0.1 0", ACCEPT, "sg-a rule 4", 4},
	{"protocol 1 is not protocol 0", "vm", IN,
			"icmp 198.51.100.1 8 10.0.0.1 0", DROP, DEF_BI, 5},
	{"all: esp", "vm", EG,
			"esp 10.0.0.1 0 203.0.113.9 0", DROP, "sg-a rule 5", 1},
	{"all: tcp", "vm", EG,
			"tcp 10.0.0.1 40000 203.0.113.9 443", DROP, "sg-a rule 5", 1},
	{"all: icmp", "vm", EG,
			"icmp 10.0.0.1 8 203.0.113.9 0", DROP, "sg-a rule 5", 1},
	{"all: outside the cidr", "vm", EG,
			"icmp 10.0.0.1 8 198.51.100.1 0", ACCEPT, DEF_BE, 2},
};

START_TEST(test_d1_protocol_numbers)
{
	struct sg_policy *policy = policy_build(&protos_spec);
	const struct sg_rule *rules = sg_policy_spec(policy)->groups[0].rules;

	check_rows(policy, protos_rows, SG_ARRAY_SIZE(protos_rows));
	ck_assert_int_eq(rules[0].proto, 47);
	ck_assert_int_eq(rules[2].proto, 6);
	ck_assert_int_eq(rules[3].proto, 0);
	ck_assert_int_eq(rules[4].proto, SG_PROTO_ANY);
	sg_policy_free(policy);
}
END_TEST

/* ---- D17: the effective list and rule names ---- */

static const struct t_spec effective_spec = {
	.groups = {
		{"sg-a", NULL, NULL, {
			"ingress accept priority=50 protocol=tcp port_range=80/80 "
			"source_cidr=0.0.0.0/0",
			"ingress drop priority=10 protocol=all source_cidr=192.0.2.0/24",
			"egress drop priority=5 protocol=all dest_cidr=203.0.113.0/24",
		}},
		{"sg-b", NULL, NULL, {
			"ingress accept priority=10 protocol=tcp port_range=22/22 "
			"source_cidr=0.0.0.0/0",
			"ingress drop priority=50 protocol=udp port_range=53/53 "
			"source_cidr=0.0.0.0/0",
		}},
	},
	.ports = {
		{"p", "10.0.0.1", "sg-b sg-a"},
		{"a2", "10.0.0.2 2001:db8::2", "sg-a"},
		{"b2", "10.0.0.3", "sg-b"},
	},
};

START_TEST(test_d17_effective_order)
{
	static const char *const want_in[] = {
		"sg-a inner access", "sg-b inner access", "sg-a rule 2", "sg-b rule 1",
		"sg-b rule 2", "sg-a rule 1", DEF_BI,
	};
	static const char *const want_eg[] = {
		"sg-a inner access", "sg-b inner access", "sg-a rule 3", DEF_BE,
	};
	static const uint8_t want_prio_in[] = {0, 0, 10, 10, 50, 50, 101};
	struct sg_policy *policy = policy_build(&effective_spec);
	uint32_t p = port_of(policy, "p");
	const struct sg_eff_rule *list;
	char label[128], text[256];
	uint32_t n;

	n = sg_policy_effective(policy, p, IN, &list);
	ck_assert_uint_eq(n, SG_ARRAY_SIZE(want_in));
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_msg(strcmp(rule_label(policy, &list[i], label, sizeof(label)),
					      want_in[i]) == 0,
				"ingress entry %u is \"%s\", want "
				"\"%s\"", i + 1, label, want_in[i]);
		ck_assert_uint_eq(list[i].priority, want_prio_in[i]);
	}
	/* Inner entries list the other members' addresses, and not the port's own. */
	ck_assert_str_eq(peers_text(&list[0], text, sizeof(text)), "10.0.0.2/32 2001:db8::2/128");
	ck_assert_str_eq(peers_text(&list[1], text, sizeof(text)), "10.0.0.3/32");
	ck_assert(list[6].peer_any);
	ck_assert_int_eq(list[6].action, DROP);
	n = sg_policy_effective(policy, p, EG, &list);
	ck_assert_uint_eq(n, SG_ARRAY_SIZE(want_eg));
	for (uint32_t i = 0; i < n; i++)
		ck_assert_msg(strcmp(rule_label(policy, &list[i], label, sizeof(label)),
					      want_eg[i]) == 0,
				"egress entry %u is \"%s\", want \"%s\"", i + 1, label, want_eg[i]);
	ck_assert_int_eq(list[3].action, ACCEPT);
	sg_policy_free(policy);
}
END_TEST

START_TEST(test_d17_rule_names)
{
	static const char *const want[] = {
		"sg-a rule 1", "sg-a rule 2", "sg-a rule 3", "sg-b rule 1", "sg-b rule 2",
		"sg-a inner access", "sg-b inner access", DEF_BI, DEF_BE, DEF_EI, DEF_EE,
	};
	struct sg_policy *policy = policy_build(&effective_spec);
	char name[128];

	ck_assert_uint_eq(sg_policy_rule_count(policy), SG_ARRAY_SIZE(want));
	for (uint32_t id = 0; id < SG_ARRAY_SIZE(want); id++)
		ck_assert_str_eq(sg_policy_rule_name(policy, id, name, sizeof(name)), want[id]);
	ck_assert_str_eq(sg_policy_rule_name(policy, 11, name, sizeof(name)), "rule id 11");
	sg_policy_free(policy);
}
END_TEST

START_TEST(test_d17_rule_names_with_empty_groups)
{
	static const struct t_spec spec = {
		.groups = {
			{"sg-empty1"},
			{"sg-a", NULL, NULL, {"ingress source_cidr=10.0.0.0/8",
					"ingress source_cidr=10.1.0.0/16"}},
			{"sg-empty2"},
			{"sg-b", NULL, NULL, {"egress dest_cidr=10.0.0.0/8"}},
		},
		.ports = {{"p", "10.9.0.1", "sg-a"}},
	};
	static const char *const want[] = {
		"sg-a rule 1", "sg-a rule 2", "sg-b rule 1", "sg-empty1 inner access",
		"sg-a inner access", "sg-empty2 inner access", "sg-b inner access", DEF_BI,
	};
	struct sg_policy *policy = policy_build(&spec);
	char name[128];

	for (uint32_t id = 0; id < SG_ARRAY_SIZE(want); id++)
		ck_assert_str_eq(sg_policy_rule_name(policy, id, name, sizeof(name)), want[id]);
	sg_policy_free(policy);
}
END_TEST

/* ---- decide_path: both checks must accept ---- */

static const struct t_spec path_spec = {
	.groups = {
		{"sg-src", "inner_access_policy=drop", NULL, {
			"egress drop priority=1 protocol=tcp port_range=25/25 dest_cidr=0.0.0.0/0",
		}},
		{"sg-dst", "inner_access_policy=drop", NULL, {
			"ingress accept priority=1 protocol=tcp port_range=1/65535 "
			"source_cidr=10.0.0.0/8",
		}},
	},
	.ports = {{"s", "10.0.0.1", "sg-src"}, {"d", "10.0.0.2", "sg-dst"}},
};

static const struct t_path path_rows_table[] = {
	{"sender's egress drops though the receiver accepts", "s", "d",
			"tcp 10.0.0.1 40000 10.0.0.2 25", DROP,
			DROP, "sg-src rule 1", 1, ACCEPT, "sg-dst rule 1", 1},
	{"both accept", "s", "d", "tcp 10.0.0.1 40000 10.0.0.2 443", ACCEPT,
			ACCEPT, DEF_BE, 2, ACCEPT, "sg-dst rule 1", 1},
	{"receiver drops though the sender accepts", "d", "s",
			"tcp 10.0.0.2 40000 10.0.0.1 443", DROP,
			ACCEPT, DEF_BE, 1, DROP, DEF_BI, 1},
};

START_TEST(test_decide_path_needs_both_checks)
{
	RUN_PATHS(path_spec, path_rows_table);
}
END_TEST

/* ---- D19: every error of the engine, through the spec API ---- */

enum t_stage {
	AT_SET,     /* a setter (sg_rule_set, sg_group_set, sg_limits_set) rejects the value */
	AT_COMPILE, /* sg_policy_compile() rejects the whole spec */
};

struct t_error {
	const char *name;
	enum t_stage stage;
	int line;            /* err.line: the line the builder gave the element at fault */
	const char *want[3]; /* fragments of the message */
	struct t_spec spec;
};

#define ANY4 " source_cidr=0.0.0.0/0"
#define PORT_P {"p", "10.0.0.1", "sg-a"}
#define ONE_RULE(r) .groups = {{"sg-a", NULL, NULL, {r}}}, .ports = {PORT_P}
#define X16 "xxxxxxxxxxxxxxxx"
#define X64 X16 X16 X16 X16
#define X256 X64 X64 X64 X64
#define GROUPS_6 {"g1"}, {"g2"}, {"g3"}, {"g4"}, {"g5"}, {"g6"}
#define GROUPS_11 GROUPS_6, {"g7"}, {"g8"}, {"g9"}, {"g10"}, {"g11"}

static const struct t_error engine_errors[] = {
	/* Rule fields (sg_rule_set): line of the rule. */
	{"priority 0", AT_SET, 101, {"priority 0 is out of range 1..100"},
			{ONE_RULE("ingress priority=0" ANY4)}},
	{"priority 101", AT_SET, 101, {"priority 101 is out of range 1..100"},
			{ONE_RULE("ingress priority=101" ANY4)}},
	{"priority not a number", AT_SET, 101, {"priority \"high\" is not a number"},
			{ONE_RULE("ingress priority=high" ANY4)}},
	{"port_range 5432/22", AT_SET, 101,
			{"port_range \"5432/22\": start 5432 is greater than end 22"},
			{ONE_RULE("ingress protocol=tcp port_range=5432/22" ANY4)}},
	{"port_range 0/10", AT_SET, 101,
			{"port_range \"0/10\": ports must be within 1..65535"},
			{ONE_RULE("ingress protocol=tcp port_range=0/10" ANY4)}},
	{"port_range 1/65536", AT_SET, 101,
			{"port_range \"1/65536\": ports must be within 1..65535"},
			{ONE_RULE("ingress protocol=tcp port_range=1/65536" ANY4)}},
	{"port_range without a slash", AT_SET, 101,
			{"port_range \"22\" must be START/END, for example \"22/22\""},
			{ONE_RULE("ingress protocol=tcp port_range=22" ANY4)}},
	{"port_range not numbers", AT_SET, 101,
			{"port_range \"a/b\" must be START/END with numbers"},
			{ONE_RULE("ingress protocol=tcp port_range=a/b" ANY4)}},
	{"source_port_range 10/1", AT_SET, 101,
			{"source_port_range \"10/1\": start 10 is greater than end 1"},
			{ONE_RULE("ingress protocol=tcp port_range=22/22 "
				"source_port_range=10/1" ANY4)}},
	{"source_cidr with host bits", AT_SET, 101,
			{"source_cidr \"10.1.0.5/24\" has host bits set; the network is "
				"10.1.0.0/24"},
			{ONE_RULE("ingress source_cidr=10.1.0.5/24")}},
	{"IPv6 dest_cidr with host bits", AT_SET, 101,
			{"dest_cidr \"2001:db8::1/64\" has host bits set; the network is "
				"2001:db8::/64"},
			{ONE_RULE("egress dest_cidr=2001:db8::1/64")}},
	{"source_cidr /33", AT_SET, 101,
			{"source_cidr \"10.0.0.0/33\" is not an IPv4 or IPv6 CIDR"},
			{ONE_RULE("ingress source_cidr=10.0.0.0/33")}},
	{"dest_cidr junk", AT_SET, 101, {"dest_cidr \"anywhere\" is not an IPv4 or IPv6 CIDR"},
			{ONE_RULE("egress dest_cidr=anywhere")}},
	{"empty source_group", AT_SET, 101,
			{"source_group \"\" is not a valid id (1..63 characters)"},
			{ONE_RULE("ingress source_group=")}},
	{"over-long dest_prefix_list", AT_SET, 101,
			{"dest_prefix_list \"" X64 "\" is not a valid id (1..63 characters)"},
			{ONE_RULE("egress dest_prefix_list=" X64)}},
	{"direction inbound", AT_SET, 101,
			{"direction \"inbound\" must be \"ingress\" or \"egress\""},
			{ONE_RULE("direction=inbound" ANY4)}},
	{"policy allow", AT_SET, 101, {"policy \"allow\" must be \"accept\" or \"drop\""},
			{ONE_RULE("ingress policy=allow" ANY4)}},
	{"protocol tcpx", AT_SET, 101,
			{"protocol \"tcpx\" is not tcp, udp, icmp, icmpv6, gre, all or a number "
				"0..255"},
			{ONE_RULE("ingress protocol=tcpx" ANY4)}},
	{"protocol 256", AT_SET, 101, {"protocol \"256\" is not tcp, udp"},
			{ONE_RULE("ingress protocol=256" ANY4)}},
	{"icmp_type 256", AT_SET, 101, {"icmp_type 256 is out of range 0..255"},
			{ONE_RULE("ingress protocol=icmp icmp_type=256" ANY4)}},
	{"icmp_code -1", AT_SET, 101, {"icmp_code -1 is out of range 0..255"},
			{ONE_RULE("ingress protocol=icmp icmp_type=3 icmp_code=-1" ANY4)}},
	{"rule description too long", AT_SET, 101,
			{"description is longer than 255 characters"},
			{ONE_RULE("ingress description=" X256 ANY4)}},
	{"unknown rule field", AT_SET, 101,
			{"unknown rule field \"source_ip\" (known: direction, policy, priority"},
			{ONE_RULE("ingress source_ip=10.0.0.1")}},
	/* Group fields (sg_group_set): line of the group. */
	{"group type advanced", AT_SET, 100,
			{"group \"sg-a\": type \"advanced\" must be \"basic\" or \"enterprise\""},
			{.groups = {{"sg-a", "type=advanced"}}, .ports = {PORT_P}}},
	{"inner_access_policy isolate", AT_SET, 100,
			{"group \"sg-a\": inner_access_policy \"isolate\" must be \"accept\" or "
			 "\"drop\""},
			{.groups = {{"sg-a", "inner_access_policy=isolate"}}, .ports = {PORT_P}}},
	{"group description too long", AT_SET, 100,
			{"group \"sg-a\": description is longer than 255 characters"},
			{.groups = {{"sg-a", "description=" X256}}, .ports = {PORT_P}}},
	{"unknown group field", AT_SET, 100, {"group \"sg-a\": unknown field \"colour\""},
			{.groups = {{"sg-a", "colour=red"}}, .ports = {PORT_P}}},
	/* Limits (sg_limits_set): no line of their own through the API. */
	{"groups_per_port 11", AT_SET, 0, {"groups_per_port 11 is out of range 1..10"},
			{.limits = "groups_per_port=11", ONE_RULE("ingress" ANY4)}},
	{"groups_per_port 0", AT_SET, 0, {"groups_per_port 0 is out of range 1..10"},
			{.limits = "groups_per_port=0", ONE_RULE("ingress" ANY4)}},
	{"rules_per_group 0", AT_SET, 0, {"rules_per_group 0 is out of range 1..10000"},
			{.limits = "rules_per_group=0", ONE_RULE("ingress" ANY4)}},
	{"rules_per_port not a number", AT_SET, 0, {"rules_per_port \"many\" is not a number"},
			{.limits = "rules_per_port=many", ONE_RULE("ingress" ANY4)}},
	{"group_peers_per_group 101", AT_SET, 0,
			{"group_peers_per_group 101 is out of range 0..100"},
			{.limits = "group_peers_per_group=101", ONE_RULE("ingress" ANY4)}},
	{"unknown limit", AT_SET, 0, {"limits: unknown field \"ports\""},
			{.limits = "ports=3", ONE_RULE("ingress" ANY4)}},

	/* Rules (compile): line of the rule, context "security group "sg-a" rule N". */
	{"missing direction", AT_COMPILE, 101,
			{"security group \"sg-a\" rule 1 has no direction (ingress or egress)"},
			{ONE_RULE("accept" ANY4)}},
	{"no peer on ingress", AT_COMPILE, 101,
			{"security group \"sg-a\" rule 1 has no peer: give one of source_cidr, "
			 "source_group or source_prefix_list"},
			{ONE_RULE("ingress protocol=all")}},
	{"no peer on egress", AT_COMPILE, 101,
			{"rule 1 has no peer: give one of dest_cidr, dest_group or "
				"dest_prefix_list"},
			{ONE_RULE("egress")}},
	{"two peers", AT_COMPILE, 101,
			{"security group \"sg-a\" rule 1 has 2 peers; a rule takes exactly one of "
			 "source_cidr, source_group or source_prefix_list"},
			{ONE_RULE("ingress source_cidr=10.0.0.0/8 source_group=sg-a")}},
	{"dest_cidr on an ingress rule", AT_COMPILE, 101,
			{"security group \"sg-a\" rule 1 is an ingress rule, so its peer is the "
			 "source: use source_cidr instead of dest_cidr"},
			{ONE_RULE("ingress dest_cidr=10.0.0.0/8")}},
	{"source_group on an egress rule", AT_COMPILE, 101,
			{"rule 1 is an egress rule, so its peer is the destination: use dest_group "
			 "instead of source_group"},
			{ONE_RULE("egress source_group=sg-a")}},
	{"tcp without port_range", AT_COMPILE, 101,
			{"security group \"sg-a\" rule 1 (protocol tcp) needs port_range"},
			{ONE_RULE("ingress protocol=tcp" ANY4)}},
	{"udp without port_range", AT_COMPILE, 101, {"rule 1 (protocol udp) needs port_range"},
			{ONE_RULE("ingress protocol=udp" ANY4)}},
	{"-1/-1 on tcp", AT_COMPILE, 101,
			{"rule 1: port_range \"-1/-1\" is for protocols without ports; use "
			 "\"1/65535\" for every tcp port"},
			{ONE_RULE("ingress protocol=tcp port_range=-1/-1" ANY4)}},
	{"port_range on icmp", AT_COMPILE, 101,
			{"rule 1: port_range applies to tcp and udp only; protocol icmp takes "
			 "\"-1/-1\" or no port_range"},
			{ONE_RULE("ingress protocol=icmp port_range=22/22" ANY4)}},
	{"port_range on all", AT_COMPILE, 101, {"protocol all takes \"-1/-1\""},
			{ONE_RULE("ingress protocol=all port_range=1/65535" ANY4)}},
	{"source_port_range on gre", AT_COMPILE, 101,
			{"rule 1: source_port_range applies to tcp and udp only, not to protocol "
				"gre"},
			{ONE_RULE("ingress protocol=gre source_port_range=1/65535" ANY4)}},
	{"icmp_type on tcp", AT_COMPILE, 101,
			{"rule 1: icmp_type and icmp_code apply to icmp and icmpv6 only, not to "
			 "protocol tcp"},
			{ONE_RULE("ingress protocol=tcp port_range=22/22 icmp_type=8" ANY4)}},
	{"icmp_code without icmp_type", AT_COMPILE, 101, {"rule 1: icmp_code 4 needs an icmp_type"},
			{ONE_RULE("ingress protocol=icmp icmp_code=4" ANY4)}},
	{"icmp with an IPv6 cidr", AT_COMPILE, 101,
			{"rule 1: source_cidr 2001:db8::/32 is IPv6 but protocol icmp needs IPv4 "
			 "(use icmpv6)"},
			{ONE_RULE("ingress protocol=icmp source_cidr=2001:db8::/32")}},
	{"icmpv6 with an IPv4 cidr", AT_COMPILE, 101,
			{"rule 1: dest_cidr 10.0.0.0/8 is IPv4 but protocol icmpv6 needs IPv6 "
			 "(use icmp)"},
			{ONE_RULE("egress protocol=icmpv6 dest_cidr=10.0.0.0/8")}},
	{"icmp with an IPv6 prefix list", AT_COMPILE, 101,
			{"rule 1: source_prefix_list \"pl6\" is IPv6 but protocol icmp needs IPv4"},
			{.lists = {{"pl6", "2001:db8::/32"}},
					ONE_RULE("ingress protocol=icmp source_prefix_list=pl6")}},
	{"unknown group peer", AT_COMPILE, 101,
			{"rule 1: source_group \"sg-nope\" is not a defined security group"},
			{ONE_RULE("ingress source_group=sg-nope")}},
	{"unknown prefix list", AT_COMPILE, 101,
			{"rule 1: dest_prefix_list \"pl-nope\" is not a defined prefix list"},
			{ONE_RULE("egress dest_prefix_list=pl-nope")}},
	{"edge 12: enterprise group naming a group peer", AT_COMPILE, 101,
			{"security group \"sg-e\" rule 1: source_group \"sg-e\": an enterprise "
			 "group cannot name a group as its peer (D5)"},
			{.groups = {{"sg-e", "type=enterprise", NULL, {"ingress "
				"source_group=sg-e"}}},
					.ports = {{"p", "10.0.0.1", "sg-e"}}}},
	{"enterprise group named as a peer", AT_COMPILE, 201,
			{"security group \"sg-a\" rule 1: source_group \"sg-e\" is an enterprise "
			 "group; only basic groups can be named as peers (D5)"},
			{.groups = {{"sg-e", "type=enterprise"},
					 {"sg-a", NULL, NULL, {"ingress source_group=sg-e"}}},
					.ports = {PORT_P, {"q", "10.0.0.2", "sg-e"}}}},
	{"error names the 1-based rule index", AT_COMPILE, 103,
			{"security group \"sg-a\" rule 3 (protocol udp) needs port_range"},
			{.groups = {{"sg-a", NULL, NULL, {"ingress" ANY4, "egress "
				"dest_cidr=0.0.0.0/0",
					"ingress protocol=udp" ANY4}}},
					.ports = {PORT_P}}},

	/* Groups (compile): line of the group. */
	{"group without id", AT_COMPILE, 100, {"security group has no id"},
			{.groups = {{""}}, .ports = {{"p", "10.0.0.1"}}}},
	{"duplicate group id", AT_COMPILE, 200,
			{"security group \"sg-a\" is defined twice (first on line 100)"},
			{.groups = {{"sg-a"}, {"sg-a"}}, .ports = {PORT_P}}},
	{"enterprise group with inner accept", AT_COMPILE, 100,
			{"security group \"sg-e\": inner_access_policy \"accept\" is not allowed "
				"on "
			 "an enterprise group"},
			{.groups = {{"sg-e", "type=enterprise inner_access_policy=accept"}},
					.ports = {{"p", "10.0.0.1", "sg-e"}}}},
	{"inner accept given before type enterprise", AT_COMPILE, 100,
			{"inner_access_policy \"accept\" is not allowed on an enterprise group"},
			{.groups = {{"sg-e", "inner_access_policy=accept type=enterprise"}},
					.ports = {{"p", "10.0.0.1", "sg-e"}}}},
	{"rules per group over a configured limit", AT_COMPILE, 100,
			{"security group \"sg-a\" has 3 rules; the limit is 2 "
			 "(limits.rules_per_group, D6)"},
			{.limits = "rules_per_group=2", .groups = {{"sg-a", NULL, NULL, {
					"ingress source_cidr=10.1.0.0/16",
					"ingress source_cidr=10.2.0.0/16",
					"ingress source_cidr=10.3.0.0/16"}}},
					.ports = {PORT_P}}},
	{"group peers over a configured limit", AT_COMPILE, 100,
			{"security group \"sg-a\" has 2 rules naming a group peer; the limit is 1 "
			 "(limits.group_peers_per_group, D5)"},
			{.limits = "group_peers_per_group=1", .groups = {{"sg-a", NULL, NULL, {
					"ingress source_group=sg-a",
					"egress dest_group=sg-a"}}},
					.ports = {PORT_P}}},

	/* Prefix lists (compile): line of the list. */
	{"prefix list without id", AT_COMPILE, 3000, {"prefix list has no id"},
			{.lists = {{"", "10.0.0.0/8"}}, ONE_RULE("ingress" ANY4)}},
	{"duplicate prefix list", AT_COMPILE, 3001,
			{"prefix list \"pl\" is defined twice (first on line 3000)"},
			{.lists = {{"pl", "10.0.0.0/8"}, {"pl", "10.1.0.0/16"}},
					ONE_RULE("ingress" ANY4)}},
	{"empty prefix list", AT_COMPILE, 3000, {"prefix list \"pl\" has no entries"},
			{.lists = {{"pl", NULL}}, ONE_RULE("ingress" ANY4)}},
	{"prefix list mixing families", AT_COMPILE, 3000,
			{"prefix list \"pl\" mixes IPv4 and IPv6 entries"},
			{.lists = {{"pl", "10.0.0.0/8 2001:db8::/32"}}, ONE_RULE("ingress" ANY4)}},

	/* Ports (compile): line of the port. */
	{"port without name", AT_COMPILE, 2000, {"port has no name"},
			{.groups = {{"sg-a"}}, .ports = {{"", "10.0.0.1", "sg-a"}}}},
	{"port without mac", AT_COMPILE, 2000, {"port \"p\" has no mac"},
			{.groups = {{"sg-a"}}, .ports = {{"p", "10.0.0.1", "sg-a", NULL, "-"}}}},
	{"multicast mac", AT_COMPILE, 2000,
			{"port \"p\": mac 01:00:5e:00:00:01 is not a unicast address"},
			{.groups = {{"sg-a"}},
					.ports = {{"p", "10.0.0.1", "sg-a", NULL,
							"01:00:5e:00:00:01"}}}},
	{"zero mac", AT_COMPILE, 2000, {"port \"p\": mac 00:00:00:00:00:00 is not a unicast"},
			{.groups = {{"sg-a"}},
					.ports = {{"p", "10.0.0.1", "sg-a", NULL,
							"00:00:00:00:00:00"}}}},
	{"ip twice on one port", AT_COMPILE, 2000, {"port \"p\" lists ip 10.0.0.1 twice"},
			{.groups = {{"sg-a"}}, .ports = {{"p", "10.0.0.1 10.0.0.1", "sg-a"}}}},
	{"duplicate port name", AT_COMPILE, 2001,
			{"port \"p\" is defined twice (first on line 2000)"},
			{.groups = {{"sg-a"}}, .ports = {PORT_P, {"p", "10.0.0.2", "sg-a"}}}},
	{"mac used by two ports", AT_COMPILE, 2001,
			{"port \"q\": mac 52:54:00:00:00:aa is already used by port \"p\""},
			{.groups = {{"sg-a"}}, .ports = {
				{"p", "10.0.0.1", "sg-a", NULL, "52:54:00:00:00:aa"},
				{"q", "10.0.0.2", "sg-a", NULL, "52:54:00:00:00:aa"}}}},
	{"IPv4 address used by two ports", AT_COMPILE, 2001,
			{"port \"q\": ip 10.0.0.1 is already used by port \"p\""},
			{.groups = {{"sg-a"}}, .ports = {PORT_P, {"q", "10.0.0.2 "
				"10.0.0.1", "sg-a"}}}},
	/* Allowed prefixes: an address belongs to one port; the later port's line. */
	{"allowed prefix twice on one port", AT_COMPILE, 2000,
			{"port \"p\" lists allowed prefix 10.9.0.0/24 twice"},
			{.groups = {{"sg-a"}},
					.ports = {{"p", "10.0.0.1 10.9.0.0/24 10.9.0.0/24",
							"sg-a"}}}},
	{"allowed prefixes of one port nested", AT_COMPILE, 2000,
			{"port \"p\": allowed prefix 10.9.0.128/25 overlaps its allowed prefix "
			 "10.9.0.0/24"},
			{.groups = {{"sg-a"}},
					.ports = {{"p", "10.0.0.1 10.9.0.0/24 10.9.0.128/25",
							"sg-a"}}}},
	{"a later port's prefix holds an earlier port's address", AT_COMPILE, 2001,
			{"allowed prefix 10.0.0.0/30 of port \"q\" holds ip 10.0.0.1 of port "
			 "\"p\"; an address belongs to one port"},
			{.groups = {{"sg-a"}},
					.ports = {PORT_P, {"q", "10.0.0.5 10.0.0.0/30", "sg-a"}}}},
	{"a later port's address in an earlier port's prefix", AT_COMPILE, 2001,
			{"allowed prefix 2001:db8:1::/64 of port \"p\" holds ip 2001:db8:1::7 of "
			 "port \"q\"; an address belongs to one port"},
			{.groups = {{"sg-a"}},
					.ports = {{"p", "10.0.0.1 2001:db8:1::/64", "sg-a"},
							{"q", "10.0.0.2 2001:db8:1::7", "sg-a"}}}},
	{"a third port's address in the first port's prefix", AT_COMPILE, 2002,
			{"allowed prefix 10.5.0.0/24 of port \"p\" holds ip 10.5.0.9 of port "
			 "\"r\"; an address belongs to one port"},
			{.groups = {{"sg-a"}},
					.ports = {{"p", "10.0.0.1 10.5.0.0/24", "sg-a"},
							{"q", "10.0.0.2 10.6.0.0/24", "sg-a"},
							{"r", "10.0.0.3 10.5.0.9", "sg-a"}}}},
	{"a host prefix inside another port's prefix", AT_COMPILE, 2003,
			{"allowed prefix 2001:db8::/128 of port \"s\" overlaps allowed prefix "
			 "2001:db8::/64 of port \"q\"; an address belongs to one port"},
			{.groups = {{"sg-a"}},
					.ports = {{"p", "10.5.0.1 10.5.0.0/25", "sg-a"},
							{"q", "10.5.0.128 2001:db8::/64", "sg-a"},
							{"r", "10.5.1.0", "sg-a"},
							{"s", "10.5.2.1 2001:db8::/128", "sg-a"}}}},
	{"allowed prefixes of two ports overlap", AT_COMPILE, 2002,
			{"allowed prefix 10.8.0.0/16 of port \"r\" overlaps allowed prefix "
			 "10.8.4.0/24 of port \"q\"; an address belongs to one port"},
			{.groups = {{"sg-a"}},
					.ports = {PORT_P, {"q", "10.0.0.2 10.8.4.0/24", "sg-a"},
							{"r", "10.0.0.3 10.8.0.0/16", "sg-a"}}}},
	{"IPv6 address used by two ports", AT_COMPILE, 2002,
			{"port \"r\": ip 2001:db8::1 is already used by port \"p\""},
			{.groups = {{"sg-a"}}, .ports = {{"p", "10.0.0.1 2001:db8::1", "sg-a"},
					{"q", "10.0.0.2", "sg-a"},
					{"r", "2001:db8:0:0::1", "sg-a"}}}},
	{"undefined group", AT_COMPILE, 2000,
			{"port \"p\": security group \"sg-nope\" is not defined"},
			{.groups = {{"sg-a"}}, .ports = {{"p", "10.0.0.1", "sg-a sg-nope"}}}},
	{"group listed twice", AT_COMPILE, 2000,
			{"port \"p\" lists security group \"sg-a\" twice"},
			{.groups = {{"sg-a"}}, .ports = {{"p", "10.0.0.1", "sg-a sg-a"}}}},
	{"port in no group", AT_COMPILE, 2000,
			{"port \"p\" is in no security group; every port needs at least one"},
			{.groups = {{"sg-a"}}, .ports = {{"p", "10.0.0.1"}}}},
	{"port whose tags no group carries", AT_COMPILE, 2000,
			{"port \"p\" is in no security group"},
			{.groups = {{"sg-a", NULL, "t1"}},
					.ports = {{"p", "10.0.0.1", NULL, "t2"}}}},
	{"edge 19: a 6th group with the default limit 5", AT_COMPILE, 2000,
			{"port \"p\" is in 6 security groups; the limit is 5 "
			 "(limits.groups_per_port, D6)"},
			{.groups = {GROUPS_6}, .ports = {{"p", "10.0.0.1", "g1 g2 g3 g4 g5 g6"}}}},
	{"edge 19: a 6th group attached by tag", AT_COMPILE, 2000,
			{"port \"p\" is in 6 security groups; the limit is 5"},
			{.groups = {{"g1"}, {"g2"}, {"g3"}, {"g4"}, {"g5"}, {"g6", NULL, "t"}},
					.ports = {{"p", "10.0.0.1", "g1 g2 g3 g4 g5", "t"}}}},
	{"edge 19: an 11th group with the limit at its maximum 10", AT_COMPILE, 2000,
			{"port \"p\" is in 11 security groups; the limit is 10"},
			{.limits = "groups_per_port=10", .groups = {GROUPS_11},
					.ports = {{"p", "10.0.0.1",
							"g1 g2 g3 g4 g5 g6 g7 g8 g9 g10 g11"}}}},
	{"edge 11: basic and enterprise groups on one port", AT_COMPILE, 2000,
			{"port \"p\" mixes basic and enterprise security groups (\"sg-a\" is "
				"basic, "
			 "\"sg-e\" is enterprise); all groups of a port must be one type (D3)"},
			{.groups = {{"sg-a"}, {"sg-e", "type=enterprise"}},
					.ports = {{"p", "10.0.0.1", "sg-a sg-e"}}}},
	{"edge 11: enterprise group attached by tag", AT_COMPILE, 2000,
			{"port \"p\" mixes basic and enterprise security groups"},
			{.groups = {{"sg-a"}, {"sg-e", "type=enterprise", "t"}},
					.ports = {{"p", "10.0.0.1", "sg-a", "t"}}}},
	{"edge 11: by tag, the first group in group order is named first", AT_COMPILE, 2000,
			{"port \"p\" mixes basic and enterprise security groups (\"sg-e\" is "
			 "enterprise, \"sg-b\" is basic); all groups of a port must be one type "
			 "(D3)"},
			{.groups = {{"sg-e", "type=enterprise", "t1"}, {"sg-b", NULL, "t2"}},
					.ports = {{"p", "10.0.0.1", NULL, "t2 t1"}}}},
	{"edge 19: groups by tag counted once each", AT_COMPILE, 2000,
			{"port \"p\" is in 6 security groups; the limit is 5"},
			{.groups = {{"g1", NULL, "t u"}, {"g2", NULL, "t"}, {"g3", NULL, "u"},
					 {"g4", NULL, "t"}, {"g5", NULL, "u"}, {"g6", NULL, "t u"}},
					.ports = {{"p", "10.0.0.1", NULL, "u t u"}}}},
	{"rules per port over a configured limit", AT_COMPILE, 2000,
			{"port \"p\" gets 4 rules from its security groups; the limit is 3 "
			 "(limits.rules_per_port, D6)"},
			{.limits = "rules_per_port=3", .groups = {
					{"sg-a", NULL, NULL, {"ingress source_cidr=10.1.0.0/16",
							"egress dest_cidr=10.1.0.0/16"}},
					{"sg-b", NULL, NULL, {"ingress source_cidr=10.2.0.0/16",
							"egress dest_cidr=10.2.0.0/16"}}},
					.ports = {{"p", "10.0.0.1", "sg-a sg-b"}}}},
};

START_TEST(test_engine_errors)
{
	const struct t_error *row = &engine_errors[_i];
	struct sg_policy *policy = NULL;
	struct sg_error err;
	struct sg_spec *spec;

	memset(&err, 0, sizeof(err));
	err.line = -1;
	spec = spec_build(&row->spec, &err);
	if (row->stage == AT_SET) {
		ck_assert_msg(spec == NULL, "%s: the setter accepted the value", row->name);
	} else {
		ck_assert_msg(spec != NULL, "%s: a setter rejected the spec: %s", row->name,
				err.msg);
		errno = 0;
		policy = sg_policy_compile(spec, &err);
		ck_assert_msg(policy == NULL, "%s: the spec compiled", row->name);
		ck_assert_msg(errno == EINVAL, "%s: errno %d, want EINVAL", row->name, errno);
		sg_spec_free(spec);
	}
	ck_assert_msg(err.line == row->line, "%s: line %d, want %d (%s)", row->name, err.line,
			row->line, err.msg);
	for (size_t k = 0; k < SG_ARRAY_SIZE(row->want) && row->want[k] != NULL; k++)
		ck_assert_msg(strstr(err.msg, row->want[k]) != NULL,
				"%s: message\n  %s\nlacks\n  %s", row->name, err.msg, row->want[k]);
}
END_TEST

/* Limits set in the struct directly bypass sg_limits_set(); compile still checks them. */
START_TEST(test_limits_checked_at_compile)
{
	static const struct t_spec base = {ONE_RULE("ingress" ANY4)};
	static const struct {
		const char *name;
		struct sg_limits limits;
		const char *want;
	} rows[] = {
		{"groups_per_port 11", {11, 200, 1000, 20},
				"limits.groups_per_port 11 is out of range 1..10 (D6)"},
		{"groups_per_port 0", {0, 200, 1000, 20},
				"limits.groups_per_port 0 is out of range 1..10 (D6)"},
		{"rules_per_group 0", {5, 0, 1000, 20},
				"limits.rules_per_group and rules_per_port must be >= 1"},
		{"rules_per_port 0", {5, 200, 0, 20},
				"limits.rules_per_group and rules_per_port must be >= 1"},
	};

	for (size_t i = 0; i < SG_ARRAY_SIZE(rows); i++) {
		struct sg_error err = {0};
		struct sg_spec *spec = spec_build(&base, &err);

		spec->limits = rows[i].limits;
		ck_assert_msg(sg_policy_compile(spec, &err) == NULL, "%s: compiled", rows[i].name);
		ck_assert_msg(strcmp(err.msg, rows[i].want) == 0, "%s: message "
			"\"%s\"", rows[i].name,
				err.msg);
		ck_assert_int_eq(err.line, 0);
		sg_spec_free(spec);
	}
}
END_TEST

/* A group with 'n' distinct tcp rules (ports first..first+n-1) from 0.0.0.0/0. */
static void
add_port_rules(struct sg_group *group, int first, int n, const char *peer_field,
		const char *peer)
{
	struct sg_error err = {0};
	char range[16];

	for (int i = 0; i < n; i++) {
		struct sg_rule *rule = sg_group_add_rule(group, 0);

		snprintf(range, sizeof(range), "%d/%d", first + i, first + i);
		ck_assert_int_eq(sg_rule_set(rule, "direction", "ingress", &err), 0);
		ck_assert_int_eq(sg_rule_set(rule, "protocol", "tcp", &err), 0);
		ck_assert_int_eq(sg_rule_set(rule, "port_range", range, &err), 0);
		ck_assert_int_eq(sg_rule_set(rule, peer_field, peer, &err), 0);
	}
}

/* A spec with one port "p" in 'n_groups' groups g1..gN of 'rules' rules each. */
static struct sg_spec *
spec_with_rules(uint32_t n_groups, const int *rules)
{
	struct sg_spec *spec = sg_spec_create();
	struct sg_spec_port *port;
	struct sg_ip ip;
	char id[16];

	for (uint32_t g = 0; g < n_groups; g++) {
		snprintf(id, sizeof(id), "g%u", g + 1);
		add_port_rules(sg_spec_add_group(spec, id, 10 + (int)g), 1, rules[g], "source_cidr",
				"0.0.0.0/0");
	}
	port = sg_spec_add_port(spec, "p", 99);
	sg_mac_parse("52:54:00:00:00:01", port->mac);
	port->has_mac = true;
	sg_ip_parse("10.0.0.1", &ip);
	sg_spec_port_add_ip(port, &ip);
	for (uint32_t g = 0; g < n_groups; g++) {
		snprintf(id, sizeof(id), "g%u", g + 1);
		sg_spec_port_add_group(port, id);
	}
	return spec;
}

/* Compile 'spec' and free it; return the policy or NULL with 'err'. */
static struct sg_policy *
compile_and_free(struct sg_spec *spec, struct sg_error *err)
{
	struct sg_policy *policy = sg_policy_compile(spec, err);

	sg_spec_free(spec);
	return policy;
}

START_TEST(test_edge19_rules_per_group_default)
{
	const int at_limit[] = {200}, over[] = {201};
	struct sg_error err = {0};
	struct sg_policy *policy;
	struct sg_spec *spec;

	policy = compile_and_free(spec_with_rules(1, at_limit), &err);
	ck_assert_msg(policy != NULL, "200 rules: %s", err.msg);
	sg_policy_free(policy);

	policy = compile_and_free(spec_with_rules(1, over), &err);
	ck_assert_ptr_null(policy);
	ck_assert_str_eq(err.msg, "security group \"g1\" has 201 rules; the limit is 200 "
			"(limits.rules_per_group, D6)");
	ck_assert_int_eq(err.line, 10);

	/* 201 rules of which one repeats another: 200 count (D2). */
	spec = spec_with_rules(1, at_limit);
	add_port_rules(&spec->groups[0], 7, 1, "source_cidr", "0.0.0.0/0");
	ck_assert_uint_eq(spec->groups[0].n_rules, 201);
	policy = compile_and_free(spec, &err);
	ck_assert_msg(policy != NULL, "200 rules and a copy: %s", err.msg);
	ck_assert_uint_eq(sg_policy_spec(policy)->groups[0].n_rules, 200);
	sg_policy_free(policy);
}
END_TEST

START_TEST(test_edge19_rules_per_port_default)
{
	const int at_limit[] = {200, 200, 200, 200, 200}, over[] = {200, 200, 200, 200, 200, 1};
	struct sg_error err = {0};
	struct sg_policy *policy;
	struct sg_spec *spec;

	policy = compile_and_free(spec_with_rules(5, at_limit), &err);
	ck_assert_msg(policy != NULL, "1000 rules: %s", err.msg);
	sg_policy_free(policy);

	spec = spec_with_rules(6, over);
	spec->limits.groups_per_port = 6;
	policy = compile_and_free(spec, &err);
	ck_assert_ptr_null(policy);
	ck_assert_str_eq(err.msg, "port \"p\" gets 1001 rules from its security groups; the limit "
			"is 1000 (limits.rules_per_port, D6)");
	ck_assert_int_eq(err.line, 99);
}
END_TEST

START_TEST(test_edge19_group_peers_default)
{
	struct sg_error err = {0};
	struct sg_policy *policy;
	struct sg_spec *spec;
	const int none[] = {0, 0};

	spec = spec_with_rules(2, none);
	add_port_rules(&spec->groups[0], 1, 20, "source_group", "g2");
	policy = compile_and_free(spec, &err);
	ck_assert_msg(policy != NULL, "20 group peers: %s", err.msg);
	sg_policy_free(policy);

	spec = spec_with_rules(2, none);
	add_port_rules(&spec->groups[0], 1, 21, "source_group", "g2");
	policy = compile_and_free(spec, &err);
	ck_assert_ptr_null(policy);
	ck_assert_str_eq(err.msg, "security group \"g1\" has 21 rules naming a group peer; the "
			"limit is 20 (limits.group_peers_per_group, D5)");
	ck_assert_int_eq(err.line, 10);
}
END_TEST

START_TEST(test_edge19_ten_groups_allowed_when_configured)
{
	static const struct t_spec spec = {
		.limits = "groups_per_port=10",
		.groups = {{"g1"}, {"g2"}, {"g3"}, {"g4"}, {"g5"}, {"g6"}, {"g7"}, {"g8"}, {"g9"},
				{"g10"}},
		.ports = {{"p", "10.0.0.1", "g1 g2 g3 g4 g5 g6 g7 g8 g9 g10"}},
	};
	struct sg_policy *policy = policy_build(&spec);
	const uint32_t *groups;

	ck_assert_uint_eq(sg_policy_port_groups(policy, 0, &groups), 10);
	sg_policy_free(policy);
}
END_TEST

/* ---- The spec API and small helpers ---- */

START_TEST(test_spec_defaults_and_names)
{
	struct sg_spec *spec = sg_spec_create();
	struct sg_limits limits;
	struct sg_group *group;
	struct sg_rule *rule;

	ck_assert_uint_eq(spec->limits.groups_per_port, 5);
	ck_assert_uint_eq(spec->limits.rules_per_group, 200);
	ck_assert_uint_eq(spec->limits.rules_per_port, 1000);
	ck_assert_uint_eq(spec->limits.group_peers_per_group, 20);
	memset(&limits, 0xff, sizeof(limits));
	sg_limits_default(&limits);
	ck_assert_mem_eq(&limits, &spec->limits, sizeof(limits));

	group = sg_spec_add_group(spec, "sg-a", 7);
	ck_assert_int_eq(group->type, SG_GROUP_BASIC);
	ck_assert_int_eq(group->inner_access, SG_ACTION_ACCEPT);
	ck_assert(!group->inner_access_given);
	ck_assert_int_eq(group->line, 7);
	rule = sg_group_add_rule(group, 8);
	ck_assert_int_eq(rule->action, SG_ACTION_ACCEPT);
	ck_assert_int_eq(rule->priority, 1);
	ck_assert_int_eq(rule->proto, SG_PROTO_ANY);
	ck_assert_uint_eq(rule->dport.lo, 0);
	ck_assert_uint_eq(rule->dport.hi, 65535);
	ck_assert_uint_eq(rule->sport.lo, 0);
	ck_assert_uint_eq(rule->sport.hi, 65535);
	ck_assert_int_eq(rule->icmp_type, -1);
	ck_assert_int_eq(rule->icmp_code, -1);
	ck_assert_int_eq(rule->peer_kind, SG_PEER_NONE);
	ck_assert_uint_eq(rule->fields, 0);
	ck_assert_int_eq(rule->line, 8);
	ck_assert_int_eq(sg_spec_find_group(spec, "sg-a"), 0);
	ck_assert_int_eq(sg_spec_find_group(spec, "sg-b"), -ENOENT);
	ck_assert_int_eq(sg_spec_find_port(spec, "p"), -ENOENT);
	ck_assert_int_eq(sg_spec_find_prefix_list(spec, "pl"), -ENOENT);

	ck_assert_str_eq(sg_dir_name(SG_DIR_INGRESS), "ingress");
	ck_assert_str_eq(sg_dir_name(SG_DIR_EGRESS), "egress");
	ck_assert_str_eq(sg_action_name(SG_ACTION_ACCEPT), "accept");
	ck_assert_str_eq(sg_action_name(SG_ACTION_DROP), "drop");
	ck_assert_str_eq(sg_group_type_name(SG_GROUP_BASIC), "basic");
	ck_assert_str_eq(sg_group_type_name(SG_GROUP_ENTERPRISE), "enterprise");
	ck_assert_str_eq(sg_origin_name(SG_ORIGIN_INNER), "inner");
	ck_assert_str_eq(sg_origin_name(SG_ORIGIN_RULE), "rule");
	ck_assert_str_eq(sg_origin_name(SG_ORIGIN_DEFAULT), "default");
	sg_spec_free(spec);
	sg_spec_free(NULL);
	sg_policy_free(NULL);
}
END_TEST

START_TEST(test_spec_long_ids)
{
	struct sg_spec *spec = sg_spec_create();
	struct sg_group *group;
	struct sg_spec_port *port;

	errno = 0;
	ck_assert_ptr_null(sg_spec_add_group(spec, X64, 1));
	ck_assert_int_eq(errno, ENAMETOOLONG);
	errno = 0;
	ck_assert_ptr_null(sg_spec_add_port(spec, X64, 1));
	ck_assert_int_eq(errno, ENAMETOOLONG);
	errno = 0;
	ck_assert_ptr_null(sg_spec_add_prefix_list(spec, X64, 1));
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_uint_eq(spec->n_groups + spec->n_ports + spec->n_prefix_lists, 0);
	/* 63 characters fit. */
	group = sg_spec_add_group(spec, X16 X16 X16 "xxxxxxxxxxxxxxx", 1);
	ck_assert_ptr_nonnull(group);
	ck_assert_uint_eq(strlen(group->id), 63);
	ck_assert_int_eq(sg_group_add_tag(group, X64), -ENAMETOOLONG);
	port = sg_spec_add_port(spec, "p", 2);
	ck_assert_int_eq(sg_spec_port_add_tag(port, X64), -ENAMETOOLONG);
	ck_assert_int_eq(sg_spec_port_add_group(port, X64), -ENAMETOOLONG);
	ck_assert_uint_eq(port->n_tags + port->n_groups + group->n_tags, 0);
	sg_spec_free(spec);
}
END_TEST

START_TEST(test_spec_clone_remove)
{
	struct sg_error err = {0};
	struct sg_spec *spec = spec_build(&effective_spec, &err), *copy;

	ck_assert_ptr_nonnull(spec);
	copy = sg_spec_clone(spec);
	ck_assert_ptr_nonnull(copy);
	/* A deep copy: editing the original leaves the copy alone. */
	sg_group_remove_rule(&spec->groups[0], 0);
	sg_spec_remove_group(spec, 0);
	sg_spec_remove_port(spec, 1);
	spec->ports[0].ips[0].bytes[3] = 99;
	ck_assert_uint_eq(spec->n_groups, 1);
	ck_assert_str_eq(spec->groups[0].id, "sg-b");
	ck_assert_uint_eq(spec->n_ports, 2);
	ck_assert_str_eq(spec->ports[0].name, "p");
	ck_assert_str_eq(spec->ports[1].name, "b2");
	ck_assert_uint_eq(copy->n_groups, 2);
	ck_assert_uint_eq(copy->groups[0].n_rules, 3);
	ck_assert_int_eq(copy->groups[0].rules[0].priority, 50);
	ck_assert_uint_eq(copy->n_ports, 3);
	ck_assert_uint_eq(copy->ports[0].ips[0].bytes[3], 1);
	ck_assert_str_eq(copy->ports[0].groups[1], "sg-a");
	sg_group_remove_rule(&copy->groups[0], 1);
	ck_assert_uint_eq(copy->groups[0].n_rules, 2);
	ck_assert_int_eq(copy->groups[0].rules[0].priority, 50);
	ck_assert_int_eq(copy->groups[0].rules[1].priority, 5);
	sg_spec_free(spec);
	sg_spec_free(copy);
}
END_TEST

/* Two rules from rule words, compared with sg_rule_same(). */
static const struct {
	const char *a;
	const char *b;
	bool same;
} same_rows[] = {
	{"ingress accept priority=3 protocol=tcp port_range=22/22 source_cidr=10.0.0.0/8",
			"ingress accept priority=3 protocol=6 port_range=22/22 "
			"source_cidr=10.0.0.0/8 "
			"description=other", true},
	{"ingress protocol=tcp port_range=1/65535 source_cidr=10.0.0.0/8",
			"ingress protocol=tcp port_range=1/65535 source_cidr=10.0.0.0/8", true},
	{"ingress protocol=icmp port_range=-1/-1 source_cidr=10.0.0.0/8",
			"ingress protocol=icmp source_cidr=10.0.0.0/8", true},
	{"ingress accept source_cidr=10.0.0.0/8", "ingress drop source_cidr=10.0.0.0/8", false},
	{"ingress priority=1 source_cidr=10.0.0.0/8", "ingress priority=2 source_cidr=10.0.0.0/8",
			false},
	{"ingress source_cidr=10.0.0.0/8", "egress dest_cidr=10.0.0.0/8", false},
	{"ingress source_cidr=10.0.0.0/8", "ingress source_cidr=10.0.0.0/9", false},
	{"ingress protocol=tcp port_range=22/22 source_cidr=10.0.0.0/8",
			"ingress protocol=tcp port_range=22/23 source_cidr=10.0.0.0/8", false},
	{"ingress protocol=udp port_range=53/53 source_cidr=10.0.0.0/8",
			"ingress protocol=udp port_range=53/53 source_port_range=53/53 "
			"source_cidr=10.0.0.0/8", false},
	{"ingress protocol=icmp icmp_type=8 source_cidr=10.0.0.0/8",
			"ingress protocol=icmp icmp_type=0 source_cidr=10.0.0.0/8", false},
	{"ingress protocol=icmp icmp_type=3 icmp_code=4 source_cidr=10.0.0.0/8",
			"ingress protocol=icmp icmp_type=3 source_cidr=10.0.0.0/8", false},
	{"ingress source_group=sg-a", "ingress source_group=sg-b", false},
	{"ingress source_group=sg-a", "ingress source_prefix_list=sg-a", false},
	{"ingress protocol=udp port_range=1/65535 source_cidr=0.0.0.0/0",
			"ingress protocol=tcp port_range=1/65535 source_cidr=0.0.0.0/0", false},
};

START_TEST(test_rule_same)
{
	struct sg_spec *spec = sg_spec_create();
	struct sg_group *group = sg_spec_add_group(spec, "sg-a", 1);
	struct sg_error err = {0};
	struct sg_rule *a, *b;

	ck_assert_int_eq(for_each_word(same_rows[_i].a, rule_word, sg_group_add_rule(group, 1),
					 &err),
			0);
	ck_assert_int_eq(for_each_word(same_rows[_i].b, rule_word, sg_group_add_rule(group, 2),
					 &err),
			0);
	a = &group->rules[0];
	b = &group->rules[1];
	ck_assert_msg(sg_rule_same(a, b) == same_rows[_i].same &&
					sg_rule_same(b, a) == same_rows[_i].same,
			"\"%s\" vs \"%s\": want same=%d", same_rows[_i].a, same_rows[_i].b,
			same_rows[_i].same);
	sg_spec_free(spec);
}
END_TEST

START_TEST(test_proto_parse_name)
{
	static const struct {
		const char *text;
		int proto;
		const char *name;
	} rows[] = {
		{"all", SG_PROTO_ANY, "all"}, {"tcp", 6, "tcp"}, {"TCP", 6, "tcp"},
		{"udp", 17, "udp"}, {"icmp", 1, "icmp"}, {"icmpv6", 58, "icmpv6"},
		{"gre", 47, "gre"}, {"6", 6, "tcp"}, {"58", 58, "icmpv6"}, {"0", 0, "0"},
		{"255", 255, "255"}, {"256", -EINVAL, NULL}, {"-1", -EINVAL, NULL},
		{"tcpx", -EINVAL, NULL}, {"", -EINVAL, NULL}, {"6x", -EINVAL, NULL},
	};
	char buf[8];

	for (size_t i = 0; i < SG_ARRAY_SIZE(rows); i++) {
		int proto = sg_proto_parse(rows[i].text);

		ck_assert_msg(proto == rows[i].proto, "sg_proto_parse(\"%s\") = %d, want %d",
				rows[i].text, proto, rows[i].proto);
		if (rows[i].name != NULL)
			ck_assert_str_eq(sg_proto_name(proto, buf, sizeof(buf)), rows[i].name);
	}
}
END_TEST

START_TEST(test_range_parse)
{
	static const struct {
		const char *text;
		int rc;
		uint16_t lo, hi;
		bool wildcard;
	} rows[] = {
		{"22/22", 0, 22, 22, false},
		{"1024/65535", 0, 1024, 65535, false},
		{"1/65535", 0, 0, 65535, false}, /* edge 44: covers port 0 */
		{"2/65535", 0, 2, 65535, false},
		{"1/65534", 0, 1, 65534, false},
		{"-1/-1", 0, 0, 65535, true},
		{"-1/22", -EINVAL, 0, 0, false},
		{"0/0", -EINVAL, 0, 0, false},
		{"22/0", -EINVAL, 0, 0, false},
		{"65536/65536", -EINVAL, 0, 0, false},
		{"5432/22", -EINVAL, 0, 0, false},
		{"22", -EINVAL, 0, 0, false},
		{"/22", -EINVAL, 0, 0, false},
		{"22/", -EINVAL, 0, 0, false},
		{"22/22/22", -EINVAL, 0, 0, false},
		{"", -EINVAL, 0, 0, false},
		{"1234567890123456789/1", -EINVAL, 0, 0, false},
	};

	for (size_t i = 0; i < SG_ARRAY_SIZE(rows); i++) {
		struct sg_range range = {7, 7};
		struct sg_error err = {0};
		bool wildcard = !rows[i].wildcard;
		int rc = sg_range_parse(rows[i].text, "port_range", 42, &range, &wildcard, &err);

		ck_assert_msg(rc == rows[i].rc, "\"%s\": rc %d, want %d", rows[i].text, rc,
				rows[i].rc);
		if (rc == 0) {
			ck_assert_msg(range.lo == rows[i].lo && range.hi == rows[i].hi &&
							wildcard == rows[i].wildcard,
					"\"%s\": %u..%u wildcard %d", rows[i].text, range.lo,
					range.hi, wildcard);
		} else {
			ck_assert_int_eq(err.line, 42);
			ck_assert_msg(strncmp(err.msg, "port_range \"", 12) == 0 &&
							strstr(err.msg, rows[i].text) != NULL,
					"\"%s\": message \"%s\"", rows[i].text, err.msg);
		}
	}
}
END_TEST

START_TEST(test_policy_lookups)
{
	struct sg_policy *policy = policy_build(&peers_spec);
	struct sg_policy *with_prefixes = policy_build(&prefix_peers_spec);
	struct sg_ip ip;

	ck_assert_int_eq(sg_policy_find_port(policy, "web2"), 1);
	ck_assert_int_eq(sg_policy_find_port(policy, "nope"), -ENOENT);
	sg_ip_parse("10.2.0.12", &ip);
	ck_assert_int_eq(sg_policy_port_by_ip(policy, &ip), 1);
	sg_ip_parse("2001:db8:3::1", &ip);
	ck_assert_int_eq(sg_policy_port_by_ip(policy, &ip), 2);
	sg_ip_parse("10.2.0.13", &ip);
	ck_assert_int_eq(sg_policy_port_by_ip(policy, &ip), -ENOENT);
	sg_policy_free(policy);
	/* An address inside an allowed prefix is its port's (the audit's peers). */
	sg_ip_parse("10.2.0.200", &ip);
	ck_assert_int_eq(sg_policy_port_by_ip(with_prefixes, &ip), 0);
	sg_ip_parse("2001:db8:2:12::99", &ip);
	ck_assert_int_eq(sg_policy_port_by_ip(with_prefixes, &ip), 1);
	sg_ip_parse("10.2.0.127", &ip);
	ck_assert_int_eq(sg_policy_port_by_ip(with_prefixes, &ip), -ENOENT);
	sg_policy_free(with_prefixes);
}
END_TEST

START_TEST(test_eff_rule_matches_uses_the_peer_side)
{
	struct sg_policy *policy = policy_build(&plist_spec);
	struct sg_flow to_list = flow_of("tcp 2001:db8:1::1 40000 2001:db8:f::1 443");
	struct sg_flow from_list = flow_of("tcp 2001:db8:f::1 40000 2001:db8:1::1 443");
	const struct sg_eff_rule *list;

	ck_assert_uint_eq(sg_policy_effective(policy, 0, EG, &list), 2);
	/* Egress peers are destinations, ingress peers are sources. */
	ck_assert(sg_eff_rule_matches(&list[0], EG, &to_list));
	ck_assert(!sg_eff_rule_matches(&list[0], EG, &from_list));
	ck_assert(sg_eff_rule_matches(&list[0], IN, &from_list));
	ck_assert(!sg_eff_rule_matches(&list[0], IN, &to_list));
	/* A default matches everything. */
	ck_assert(sg_eff_rule_matches(&list[1], EG, &to_list));
	ck_assert(sg_eff_rule_matches(&list[1], IN, &to_list));
	sg_policy_free(policy);
}
END_TEST

/* ---- D19 through the loader: every message carries "FILE:LINE: " ---- */

#define L_PORT_A                                                                                   \
	"ports = ( { name = \"p\"; mac = \"52:54:00:00:00:01\";\n"                                 \
	"            security_groups = [\"sg-a\"]; } );\n"
#define L_RULES(rules)                                                                             \
	"security_groups = (\n"                                                                    \
	"  { id = \"sg-a\";\n"                                                                     \
	"    rules = (\n" rules "    ); }\n"                                                       \
	");\n" L_PORT_A
#define L_GROUP_A "security_groups = ( { id = \"sg-a\"; } );\n"

static const struct t_load_error load_errors[] = {
	/* Rule fields: the line of the field. */
	{"priority 0 in rule 1", L_RULES(
		"    { direction = \"ingress\"; priority = 0; #<\n"
		"      source_cidr = \"10.2.0.0/24\"; }\n"),
			{"security group \"sg-a\" rule 1: priority 0 is out of range 1..100"}},
	{"priority 101 in rule 2, on its own line", L_RULES(
		"    { direction = \"ingress\"; source_cidr = \"0.0.0.0/0\"; },\n"
		"    { direction = \"ingress\"; source_cidr = \"10.0.0.0/8\";\n"
		"      priority = 101; } #<\n"),
			{"security group \"sg-a\" rule 2: priority 101 is out of range 1..100"}},
	{"priority as a string", L_RULES(
		"    { direction = \"ingress\"; source_cidr = \"0.0.0.0/0\";\n"
		"      priority = \"0\"; } #<\n"),
			{"security group \"sg-a\" rule 1: priority 0 is out of range 1..100"}},
	{"priority as a float", L_RULES(
		"    { direction = \"ingress\"; source_cidr = \"0.0.0.0/0\";\n"
		"      priority = 1.5; } #<\n"),
			{"security group \"sg-a\" rule 1: priority must be a string or a number"}},
	{"port_range 5432/22", L_RULES(
		"    { direction = \"ingress\"; protocol = \"tcp\";\n"
		"      port_range = \"5432/22\"; #<\n"
		"      source_cidr = \"0.0.0.0/0\"; }\n"),
			{"security group \"sg-a\" rule 1: port_range \"5432/22\": start 5432 is "
			 "greater than end 22"}},
	{"port_range 0/10", L_RULES(
		"    { direction = \"ingress\"; protocol = \"tcp\";\n"
		"      port_range = \"0/10\"; source_cidr = \"0.0.0.0/0\"; } #<\n"),
			{"rule 1: port_range \"0/10\": ports must be within 1..65535"}},
	{"port_range as a list", L_RULES(
		"    { direction = \"ingress\"; protocol = \"tcp\";\n"
		"      port_range = [22, 22]; source_cidr = \"0.0.0.0/0\"; } #<\n"),
			{"security group \"sg-a\" rule 1: port_range must be a string or a "
			 "number"}},
	{"source_cidr with host bits", L_RULES(
		"    { direction = \"ingress\";\n"
		"      source_cidr = \"10.1.0.5/24\"; } #<\n"),
			{"security group \"sg-a\" rule 1: source_cidr \"10.1.0.5/24\" has host "
			 "bits set; the network is 10.1.0.0/24"}},
	{"unknown rule field in rule 2", L_RULES(
		"    { direction = \"ingress\"; source_cidr = \"0.0.0.0/0\"; },\n"
		"    { direction = \"ingress\"; src = \"10.0.0.0/8\"; } #<\n"),
			{"security group \"sg-a\" rule 2: unknown rule field \"src\""}},
	{"bad direction", L_RULES(
		"    { direction = \"inbound\"; source_cidr = \"0.0.0.0/0\"; } #<\n"),
			{"rule 1: direction \"inbound\" must be \"ingress\" or \"egress\""}},
	/* Whole rules: the line of the rule's opening brace. */
	{"tcp without port_range", L_RULES(
		"    { direction = \"ingress\"; protocol = \"tcp\"; #<\n"
		"      source_cidr = \"0.0.0.0/0\"; }\n"),
			{"security group \"sg-a\" rule 1 (protocol tcp) needs port_range"}},
	{"udp without port_range, rule over several lines", L_RULES(
		"    { #<\n"
		"      direction = \"ingress\";\n"
		"      protocol = \"udp\";\n"
		"      source_cidr = \"0.0.0.0/0\";\n"
		"    }\n"),
			{"security group \"sg-a\" rule 1 (protocol udp) needs port_range"}},
	{"-1/-1 on tcp", L_RULES(
		"    { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"-1/-1\"; #<\n"
		"      source_cidr = \"0.0.0.0/0\"; }\n"),
			{"security group \"sg-a\" rule 1: port_range \"-1/-1\" is for protocols "
			 "without ports"}},
	{"missing direction", L_RULES(
		"    { direction = \"ingress\"; source_cidr = \"0.0.0.0/0\"; },\n"
		"    { policy = \"drop\"; source_cidr = \"0.0.0.0/0\"; } #<\n"),
			{"security group \"sg-a\" rule 2 has no direction (ingress or egress)"}},
	{"two peers", L_RULES(
		"    { direction = \"ingress\"; source_cidr = \"0.0.0.0/0\"; #<\n"
		"      source_group = \"sg-a\"; }\n"),
			{"security group \"sg-a\" rule 1 has 2 peers"}},
	{"dest_cidr on an ingress rule", L_RULES(
		"    { direction = \"ingress\"; dest_cidr = \"10.0.0.0/8\"; } #<\n"),
			{"security group \"sg-a\" rule 1 is an ingress rule, so its peer is the "
			 "source: use source_cidr instead of dest_cidr"}},
	{"icmp with an IPv6 cidr", L_RULES(
		"    { direction = \"ingress\"; protocol = \"icmp\"; #<\n"
		"      source_cidr = \"2001:db8::/32\"; }\n"),
			{"security group \"sg-a\" rule 1: source_cidr 2001:db8::/32 is IPv6 but "
			 "protocol icmp needs IPv4 (use icmpv6)"}},
	{"unknown group peer", L_RULES(
		"    { direction = \"ingress\"; source_group = \"sg-nope\"; } #<\n"),
			{"rule 1: source_group \"sg-nope\" is not a defined security group"}},
	{"unknown prefix list", L_RULES(
		"    { direction = \"egress\"; dest_prefix_list = \"pl\"; } #<\n"),
			{"rule 1: dest_prefix_list \"pl\" is not a defined prefix list"}},
	{"rule that is not a group",
		"security_groups = (\n"
		"  { id = \"sg-a\"; rules = ( \"accept all\" ); } #<\n"
		");\n" L_PORT_A,
			{"security group \"sg-a\" rule 1 must be a group"}},
	{"enterprise group named as a peer",
		"security_groups = (\n"
		"  { id = \"sg-a\";\n"
		"    rules = ( { direction = \"ingress\"; source_group = \"sg-e\"; } ); }, #<\n"
		"  { id = \"sg-e\"; type = \"enterprise\"; }\n"
		");\n"
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; security_groups = [\"sg-a\"]; },\n"
		"  { name = \"q\"; mac = \"52:54:00:00:00:02\"; security_groups = [\"sg-e\"]; }\n"
		");\n",
			{"security group \"sg-a\" rule 1: source_group \"sg-e\" is an enterprise "
			 "group; only basic groups can be named as peers"}},
	{"edge 12: enterprise group naming a group peer",
		"security_groups = (\n"
		"  { id = \"sg-e\"; type = \"enterprise\";\n"
		"    rules = (\n"
		"      { direction = \"egress\"; dest_group = \"sg-e\"; } #<\n"
		"    ); }\n"
		");\n"
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; security_groups = [\"sg-e\"]; }\n"
		");\n",
			{"security group \"sg-e\" rule 1: dest_group \"sg-e\": an enterprise group "
			 "cannot name a group as its peer"}},
	/* Groups. */
	{"duplicate group id",
		"security_groups = (\n"
		"  { id = \"sg-a\"; },\n"
		"  { id = \"sg-a\"; description = \"again\"; } #<\n"
		");\n" L_PORT_A,
			{"security group \"sg-a\" is defined twice (first on line 2)"}},
	{"group type",
		"security_groups = (\n"
		"  { id = \"sg-a\";\n"
		"    type = \"advanced\"; } #<\n"
		");\n" L_PORT_A,
			{"group \"sg-a\": type \"advanced\" must be \"basic\" or \"enterprise\""}},
	{"inner_access_policy",
		"security_groups = (\n"
		"  { id = \"sg-a\"; inner_access_policy = \"isolate\"; } #<\n"
		");\n" L_PORT_A,
			{"group \"sg-a\": inner_access_policy \"isolate\" must be"}},
	{"enterprise group with inner accept",
		"security_groups = (\n"
		"  { id = \"sg-e\"; #<\n"
		"    type = \"enterprise\"; inner_access_policy = \"accept\"; }\n"
		");\n"
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; security_groups = [\"sg-e\"]; }\n"
		");\n",
			{"security group \"sg-e\": inner_access_policy \"accept\" is not allowed "
			 "on an enterprise group"}},
	{"unknown group field",
		"security_groups = (\n"
		"  { id = \"sg-a\"; name = \"A\"; } #<\n"
		");\n" L_PORT_A,
			{"group \"sg-a\": unknown field \"name\""}},
	{"group field that is not a scalar",
		"security_groups = (\n"
		"  { id = \"sg-a\";\n"
		"    description = [\"a\", \"b\"]; } #<\n"
		");\n" L_PORT_A,
			{"security group \"sg-a\": description must be a string"}},
	{"group without id", "security_groups = (\n  { type = \"basic\"; } #<\n);\n",
			{"security group has no id"}},
	{"group id not a string", "security_groups = (\n  { id = 5; } #<\n);\n",
			{"security group id must be a string"}},
	{"empty group id", "security_groups = (\n  { id = \"\"; } #<\n);\n",
			{"security group id is empty"}},
	{"over-long group id", "security_groups = (\n  { id = \"" X64 "\"; } #<\n);\n",
			{"security group id \"" X64 "\" is longer than 63 characters"}},
	{"security_groups not a list", "security_groups = \"sg-a\"; #<\n",
			{"security_groups must be a list"}},
	{"security_groups entry not a group", "security_groups = ( \"sg-a\" ); #<\n",
			{"security_groups entry must be a group"}},
	{"rules not a list",
		"security_groups = (\n  { id = \"sg-a\"; rules = \"none\"; } #<\n);\n",
			{"security group \"sg-a\": rules must be a list"}},
	{"group tags not a list",
		"security_groups = (\n  { id = \"sg-a\"; tags = \"t\"; } #<\n);\n",
			{"tags must be a list of strings"}},
	{"empty group tag",
		"security_groups = (\n  { id = \"sg-a\"; tags = [\"a\", \"\"]; } #<\n);\n",
			{"tags \"\" must be 1..63 characters"}},
	{"group tag not a string",
		"security_groups = (\n  { id = \"sg-a\"; tags = [1]; } #<\n);\n",
			{"tags must be a string"}},
	{"rules per group over the configured limit",
		"limits = { rules_per_group = 1; };\n"
		"security_groups = (\n"
		"  { id = \"sg-a\"; #<\n"
		"    rules = ( { direction = \"ingress\"; source_cidr = \"10.0.0.0/8\"; },\n"
		"              { direction = \"ingress\"; source_cidr = \"10.1.0.0/16\"; } ); }\n"
		");\n" L_PORT_A,
			{"security group \"sg-a\" has 2 rules; the limit is 1 "
			 "(limits.rules_per_group"}},
	/* Ports, policy side. */
	{"unknown group on a port", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; #<\n"
		"    security_groups = [\"sg-nope\"]; }\n"
		");\n",
			{"port \"p\": security group \"sg-nope\" is not defined"}},
	{"mixed basic and enterprise groups on a port",
		"security_groups = (\n"
		"  { id = \"sg-a\"; },\n"
		"  { id = \"sg-e\"; type = \"enterprise\"; }\n"
		");\n"
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; #<\n"
		"    security_groups = [\"sg-a\", \"sg-e\"]; }\n"
		");\n",
			{"port \"p\" mixes basic and enterprise security groups"}},
	{"groups per port over the configured limit",
		"limits = { groups_per_port = 1; };\n"
		"security_groups = ( { id = \"sg-a\"; }, { id = \"sg-b\"; } );\n"
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; #<\n"
		"    security_groups = [\"sg-a\", \"sg-b\"]; }\n"
		");\n",
			{"port \"p\" is in 2 security groups; the limit is 1 "
			 "(limits.groups_per_port, D6)"}},
	{"port in no group", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; ips = [\"10.0.0.1\"]; } #<\n"
		");\n",
			{"port \"p\" is in no security group"}},
	{"bad mac", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; security_groups = [\"sg-a\"];\n"
		"    mac = \"52:54:00:01\"; } #<\n"
		");\n",
			{"port \"p\": mac \"52:54:00:01\" is not like 52:54:00:12:34:56"}},
	{"mac not a string", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; security_groups = [\"sg-a\"]; mac = 5; } #<\n"
		");\n",
			{"mac must be a string"}},
	{"port without mac", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; security_groups = [\"sg-a\"]; } #<\n"
		");\n",
			{"port \"p\" has no mac"}},
	{"multicast mac", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; security_groups = [\"sg-a\"]; #<\n"
		"    mac = \"01:00:5e:00:00:01\"; }\n"
		");\n",
			{"port \"p\": mac 01:00:5e:00:00:01 is not a unicast address"}},
	{"mac used by two ports", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; security_groups = [\"sg-a\"]; },\n"
		"  { name = \"q\"; mac = \"52:54:00:00:00:01\"; #<\n"
		"    security_groups = [\"sg-a\"]; }\n"
		");\n",
			{"port \"q\": mac 52:54:00:00:00:01 is already used by port \"p\""}},
	{"ip used by two ports", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; ips = [\"10.0.0.1\"];\n"
		"    security_groups = [\"sg-a\"]; },\n"
		"  { name = \"q\"; mac = \"52:54:00:00:00:02\"; #<\n"
		"    ips = [\"10.0.0.2\", \"10.0.0.1\"]; security_groups = [\"sg-a\"]; }\n"
		");\n",
			{"port \"q\": ip 10.0.0.1 is already used by port \"p\""}},
	{"ip twice on one port", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; #<\n"
		"    ips = [\"10.0.0.1\", \"10.0.0.1\"]; security_groups = [\"sg-a\"]; }\n"
		");\n",
			{"port \"p\" lists ip 10.0.0.1 twice"}},
	{"bad ip", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; security_groups = [\"sg-a\"];\n"
		"    ips = [\"10.0.0.1\",\n"
		"           \"10.0.0.300\"]; } #<\n"
		");\n",
			{"port \"p\": ip \"10.0.0.300\" is not an IPv4 or IPv6 address"}},
	{"ips not a list", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; ips = \"10.0.0.1\"; } #<\n"
		");\n",
			{"port \"p\": ips must be a list of addresses"}},
	{"ip not a string", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; ips = [1]; } #<\n"
		");\n",
			{"ip must be a string"}},
	{"security_groups of a port not a list", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; security_groups = \"sg-a\"; } #<\n"
		");\n",
			{"security_groups must be a list of strings"}},
	{"empty group name on a port", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; security_groups = [\"\"]; } #<\n"
		");\n",
			{"security_groups \"\" must be 1..63 characters"}},
	{"port tag not a string", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; tags = [1]; } #<\n"
		");\n",
			{"tags must be a string"}},
	{"group listed twice on a port", L_GROUP_A
		"ports = (\n"
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; #<\n"
		"    security_groups = [\"sg-a\", \"sg-a\"]; }\n"
		");\n",
			{"port \"p\" lists security group \"sg-a\" twice"}},
	/* Prefix lists. */
	{"prefix_lists not a list", "prefix_lists = { id = \"pl\"; }; #<\n",
			{"prefix_lists must be a list"}},
	{"prefix list entry not a group", "prefix_lists = ( \"pl\" ); #<\n",
			{"prefix_lists entry must be a group"}},
	{"prefix list without id",
		"prefix_lists = (\n  { entries = [\"10.0.0.0/8\"]; } #<\n);\n",
			{"prefix list has no id"}},
	{"prefix list id not a string",
		"prefix_lists = (\n  { id = 1; entries = []; } #<\n);\n",
			{"prefix list id must be a string"}},
	{"prefix list unknown field",
		"prefix_lists = (\n"
		"  { id = \"pl\"; entries = [\"10.0.0.0/8\"];\n"
		"    name = \"x\"; } #<\n"
		");\n",
			{"prefix list \"pl\": unknown field \"name\" (known: id, entries, "
			 "description)"}},
	{"prefix list without entries", "prefix_lists = (\n  { id = \"pl\"; } #<\n);\n",
			{"prefix list \"pl\" needs entries = [\"CIDR\", ...]"}},
	{"prefix list entry not a string",
		"prefix_lists = (\n  { id = \"pl\"; entries = [8]; } #<\n);\n",
			{"prefix list entry must be a string"}},
	{"prefix list entry with host bits",
		"prefix_lists = (\n  { id = \"pl\";\n    entries = [\"10.0.0.1/8\"]; } #<\n);\n",
			{"prefix list \"pl\": entry \"10.0.0.1/8\" has host bits set"}},
	{"prefix list entry not a CIDR",
		"prefix_lists = (\n  { id = \"pl\"; entries = [\"ten\"]; } #<\n);\n",
			{"prefix list \"pl\": entry \"ten\" is not a CIDR"}},
	{"empty prefix list", "prefix_lists = (\n  { id = \"pl\"; entries = []; } #<\n);\n",
			{"prefix list \"pl\" has no entries"}},
	{"prefix list mixing families",
		"prefix_lists = (\n"
		"  { id = \"pl\"; #<\n"
		"    entries = [\"10.0.0.0/8\", \"2001:db8::/32\"]; }\n"
		");\n",
			{"prefix list \"pl\" mixes IPv4 and IPv6 entries"}},
	{"duplicate prefix list",
		"prefix_lists = (\n"
		"  { id = \"pl\"; entries = [\"10.0.0.0/8\"]; },\n"
		"  { id = \"pl\"; entries = [\"10.1.0.0/16\"]; } #<\n"
		");\n",
			{"prefix list \"pl\" is defined twice (first on line 2)"}},
	/* Limits. */
	{"limits not a group", "limits = 5; #<\n", {"limits must be a group"}},
	{"limit not a number", "limits = {\n  rules_per_port = [1]; #<\n};\n",
			{"limits.rules_per_port must be a number"}},
	{"limit as a non-numeric string", "limits = {\n  rules_per_port = \"many\"; #<\n};\n",
			{"rules_per_port \"many\" is not a number"}},
	{"groups_per_port 11", "limits = {\n  groups_per_port = 11; #<\n};\n",
			{"groups_per_port 11 is out of range 1..10"}},
	{"unknown limit", "limits = {\n  rules = 5; #<\n};\n", {"limits: unknown field \"rules\""}},
	/* The file as a whole. */
	{"unknown top-level setting", L_GROUP_A "colour = \"blue\"; #<\n" L_PORT_A,
			{"unknown setting \"colour\" (known: host, hosts, limits, prefix_lists, "
			 "security_groups, ports"}},
	{"syntax error: missing comma between groups",
		"security_groups = (\n  { id = \"sg-a\"; }\n  { id = \"sg-b\"; } #<\n);\n",
			{"syntax error"}},
	{"syntax error: missing value", "limits = {\n  groups_per_port = ; #<\n};\n",
			{"syntax error"}},
	{"duplicate setting",
		"limits = { groups_per_port = 5; };\n"
		"limits = { groups_per_port = 6; }; #<\n",
			{"duplicate setting name"}},
};

START_TEST(test_loader_errors)
{
	expect_load_error(&load_errors[_i]);
}
END_TEST

/* The message of the brief, whole. */
START_TEST(test_loader_error_exact_message)
{
	static const char text[] =
		"security_groups = (\n"
		"  { id = \"sg-db\";\n"
		"    rules = (\n"
		"      { direction = \"ingress\"; policy = \"accept\"; priority = 0;\n"
		"        protocol = \"tcp\"; port_range = \"5432/5432\";\n"
		"        source_cidr = \"10.2.0.0/24\"; }\n"
		"    ); }\n"
		");\n";
	struct sg_error err = {0};

	ck_assert_ptr_null(sg_conf_load_string(text, "seed.conf", &err));
	ck_assert_str_eq(err.msg, "seed.conf:4: security group \"sg-db\" rule 1: priority 0 is out "
			"of range 1..100");
	ck_assert_int_eq(err.line, 4);
	/* Without an error record the load still fails cleanly. */
	errno = 0;
	ck_assert_ptr_null(sg_conf_load_string(text, "seed.conf", NULL));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("decisions");
	tcase_add_test(tc, test_seed_six_questions);
	tcase_add_test(tc, test_unique_rules_match_pairwise);
	tcase_add_test(tc, test_d2_priority_order_first_match);
	tcase_add_test(tc, test_d2_group_order_irrelevant);
	tcase_add_test(tc, test_d3_defaults);
	tcase_add_test(tc, test_d5_tag_attachment);
	tcase_add_test(tc, test_d5_port_groups_sorted_by_id);
	tcase_add_test(tc, test_d5_tag_map);
	tcase_add_test(tc, test_prefixes_side_by_side);
	tcase_add_test(tc, test_d5_group_peers_expanded);
	tcase_add_test(tc, test_d5_group_peers_follow_ports);
	tcase_add_test(tc, test_d5_group_peers_include_allowed_prefixes);
	tcase_add_test(tc, test_d1_prefix_lists);
	tcase_add_test(tc, test_d1_icmp_type_code);
	tcase_add_test(tc, test_d1_port_ranges_and_source_ports);
	tcase_add_test(tc, test_d1_protocol_numbers);
	tcase_add_test(tc, test_d17_effective_order);
	tcase_add_test(tc, test_d17_rule_names);
	tcase_add_test(tc, test_d17_rule_names_with_empty_groups);
	tcase_add_test(tc, test_decide_path_needs_both_checks);
	suite_add_tcase(s, tc);

	tc = tcase_create("edge-cases");
	tcase_add_test(tc, test_edge01_equal_priority_drop_wins);
	tcase_add_test(tc, test_edge02_priority_then_drop_all);
	tcase_add_test(tc, test_edge03_merged_across_groups);
	tcase_add_test(tc, test_edge04_equal_priority_across_groups);
	tcase_add_test(tc, test_edge05_empty_basic_group);
	tcase_add_test(tc, test_edge06_empty_enterprise_group);
	tcase_add_test(tc, test_edge07_inner_accept_beats_custom_drop);
	tcase_add_test(tc, test_edge08_inner_drop_then_self_rule);
	tcase_add_test(tc, test_edge09_any_accepting_group_lets_members_talk);
	tcase_add_test(tc, test_edge10_isolation_per_port);
	tcase_add_test(tc, test_edge13_identical_rule_twice_adds_nothing);
	tcase_add_test(tc, test_edge19_rules_per_group_default);
	tcase_add_test(tc, test_edge19_rules_per_port_default);
	tcase_add_test(tc, test_edge19_group_peers_default);
	tcase_add_test(tc, test_edge19_ten_groups_allowed_when_configured);
	tcase_add_test(tc, test_edge33_equal_priority_tie_is_drop);
	tcase_add_test(tc, test_edge44_full_port_range_covers_port_zero);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, test_spec_defaults_and_names);
	tcase_add_test(tc, test_spec_long_ids);
	tcase_add_test(tc, test_spec_clone_remove);
	tcase_add_loop_test(tc, test_rule_same, 0, SG_ARRAY_SIZE(same_rows));
	tcase_add_test(tc, test_proto_parse_name);
	tcase_add_test(tc, test_range_parse);
	tcase_add_test(tc, test_policy_lookups);
	tcase_add_test(tc, test_eff_rule_matches_uses_the_peer_side);
	suite_add_tcase(s, tc);

	/* Edge cases 11, 12 and 19 are rows of these tables (their names say so). */
	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_engine_errors, 0, SG_ARRAY_SIZE(engine_errors));
	tcase_add_test(tc, test_limits_checked_at_compile);
	tcase_add_loop_test(tc, test_loader_errors, 0, SG_ARRAY_SIZE(load_errors));
	tcase_add_test(tc, test_loader_error_exact_message);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *runner = srunner_create(policy_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed != 0;
}
