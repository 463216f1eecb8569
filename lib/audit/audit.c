/* SPDX-License-Identifier: BSD-3-Clause */
/* The audit: what the flow logs say each rule did, what the merged lists say about rules
 * relative to each other, and the findings for people; the tightened config is audit_propose.c.
 *
 * The proposal is built one suggestion at a time, most certain first (exact repeats, rules
 * that never match, rules that change no verdict, unused accept rules, narrower accept rules,
 * inner access off). Each is kept only if the config still compiles, a rule removed for being
 * shadowed or redundant still is so with the suggestions kept before it, and every distinct
 * logged flow gets the verdict it got (accepted flows stay accepted, refused ones refused). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_private.h"

static const char *const kind_names[SG_AUDIT_KIND_COUNT] = {
	[SG_AUDIT_UNUSED] = "unused",
	[SG_AUDIT_WIDE] = "wide",
	[SG_AUDIT_SHADOWED] = "shadowed",
	[SG_AUDIT_REDUNDANT] = "redundant",
	[SG_AUDIT_CONFLICT] = "conflict",
	[SG_AUDIT_INNER_UNUSED] = "inner-unused",
};

const char *
sg_audit_kind_name(enum sg_audit_kind kind)
{
	return (unsigned int)kind < SG_AUDIT_KIND_COUNT ? kind_names[kind] : "unknown";
}

const char *
sg_audit_rule_name(const struct sg_conf *conf, const struct sg_audit_rule_ref *r, char *buf,
		size_t size)
{
	const struct sg_spec *spec = conf->spec;

	switch (r->origin) {
	case SG_ORIGIN_RULE:
		snprintf(buf, size, "%s rule %d", spec->groups[r->group].id, r->rule + 1);
		break;
	case SG_ORIGIN_INNER:
		snprintf(buf, size, "%s inner access", spec->groups[r->group].id);
		break;
	default:
		snprintf(buf, size, "default %s %s %s", sg_group_type_name(r->type), sg_dir_name(r->dir),
				r->type == SG_GROUP_BASIC && r->dir == SG_DIR_EGRESS ? "accept" : "drop");
	}
	return buf;
}

/* ---- Creation and records ---- */

struct sg_audit *
sg_audit_create(const struct sg_conf *conf)
{
	const struct sg_spec *spec = conf->spec;
	struct sg_audit *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->conf = conf;
	a->policy = conf->policy;
	a->uses = calloc(spec->n_groups + 1u, sizeof(*a->uses));
	a->rels = calloc(spec->n_groups + 1u, sizeof(*a->rels));
	a->positions = calloc(spec->n_groups + 1u, sizeof(*a->positions));
	a->port_seen = calloc(spec->n_ports + 1u, sizeof(*a->port_seen));
	a->port_lost = calloc(spec->n_ports + 1u, sizeof(*a->port_lost));
	if (a->uses == NULL || a->rels == NULL || a->positions == NULL || a->port_seen == NULL ||
			a->port_lost == NULL)
		goto fail;
	for (uint32_t g = 0; g < spec->n_groups; g++) {
		a->uses[g] = calloc(spec->groups[g].n_rules + 1u, sizeof(**a->uses));
		a->rels[g] = calloc(spec->groups[g].n_rules + 1u, sizeof(**a->rels));
		a->positions[g] = calloc(spec->groups[g].n_rules + 1u, sizeof(**a->positions));
		if (a->uses[g] == NULL || a->rels[g] == NULL || a->positions[g] == NULL ||
				sg_group_unique_rules(&spec->groups[g], a->positions[g]) < 0)
			goto fail;
		for (uint32_t r = 0; r < spec->groups[g].n_rules; r++)
			a->rels[g][r].kind = SG_AUDIT_KIND_COUNT;
	}
	return a;
fail:
	sg_audit_free(a);
	errno = ENOMEM;
	return NULL;
}

void
sg_audit_free(struct sg_audit *a)
{
	if (a == NULL)
		return;
	for (uint32_t g = 0; a->uses != NULL && g < a->conf->spec->n_groups; g++) {
		free(a->uses[g]);
		for (uint32_t r = 0; a->rels != NULL && a->rels[g] != NULL &&
				r < a->conf->spec->groups[g].n_rules; r++)
			free(a->rels[g][r].ports);
		if (a->rels != NULL)
			free(a->rels[g]);
		if (a->positions != NULL)
			free(a->positions[g]);
	}
	free(a->uses);
	free(a->rels);
	free(a->positions);
	free(a->port_seen);
	free(a->port_lost);
	free(a->flows);
	free(a->flow_index);
	for (uint32_t i = 0; i < a->n_conflicts; i++)
		free(a->conflicts[i].ports);
	free(a->conflicts);
	for (uint32_t i = 0; i < a->n_findings; i++) {
		free(a->findings[i].ports);
		for (uint32_t k = 0; k < a->findings[i].n_suggested; k++)
			free(a->findings[i].suggested[k]);
		free(a->findings[i].suggested);
	}
	free(a->findings);
	for (uint32_t i = 0; i < a->n_files; i++) {
		free(a->files[i].new_text);
		free(a->files[i].diff);
	}
	free(a->files);
	if (a->have_text)
		at_free(&a->text);
	free(a);
}

void
sg_audit_set_period(struct sg_audit *a, int64_t first_start, int64_t last_end)
{
	a->sum.first_start = first_start;
	a->sum.last_end = last_end;
}

static uint32_t
flow_hash(const struct flow *f)
{
	const uint8_t *parts[2] = {f->f.src.bytes, f->f.dst.bytes};
	uint32_t h = 2166136261u;

	h = (h ^ f->port) * 16777619u;
	h = (h ^ (uint32_t)f->dir) * 16777619u;
	h = (h ^ (uint32_t)f->action) * 16777619u;
	h = (h ^ f->f.proto) * 16777619u;
	h = (h ^ f->f.dport) * 16777619u;
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 16; i++)
			h = (h ^ parts[k][i]) * 16777619u;
	return h;
}

static bool
flow_same(const struct flow *a, const struct flow *b)
{
	return a->port == b->port && a->dir == b->dir && a->action == b->action &&
	       a->f.proto == b->f.proto && a->f.dport == b->f.dport &&
	       sg_ip_equal(&a->f.src, &b->f.src) && sg_ip_equal(&a->f.dst, &b->f.dst);
}

/* Keep one flow per (port, direction, verdict, protocol, addresses, destination port): source
 * ports change with every connection and matter only to the rare source_port_range. */
static void
add_flow(struct sg_audit *a, const struct flow *f)
{
	uint32_t i;

	if (a->flow_index == NULL) {
		a->flow_mask = 2u * MAX_FLOWS - 1;
		a->flow_index = calloc(a->flow_mask + 1u, sizeof(*a->flow_index));
		if (a->flow_index == NULL)
			return;
	}
	for (i = flow_hash(f) & a->flow_mask; a->flow_index[i] != 0; i = (i + 1) & a->flow_mask)
		if (flow_same(&a->flows[a->flow_index[i] - 1], f))
			return;
	if (a->n_flows == MAX_FLOWS)
		return;
	if (a->n_flows == a->cap_flows) {
		uint32_t cap = a->cap_flows == 0 ? 1024 : a->cap_flows * 2;
		struct flow *grown = realloc(a->flows, cap * sizeof(*grown));

		if (grown == NULL)
			return;
		a->flows = grown;
		a->cap_flows = cap;
	}
	a->flows[a->n_flows++] = *f;
	a->flow_index[i] = a->n_flows;
}

static void
note_use(struct use *u, const struct sg_flowlog_record *rec)
{
	const struct sg_ip *peer = rec->dir == SG_DIR_INGRESS ? &rec->src : &rec->dst;
	struct svc s = {.proto = rec->proto};
	uint32_t i;

	u->accepted += rec->packets;
	u->protos[rec->proto / 8] |= (uint8_t)(1u << (rec->proto % 8));
	for (i = 0; i < u->n_peers && !sg_ip_equal(&u->peers[i], peer); i++)
		;
	if (i == u->n_peers) {
		if (u->n_peers < USE_PEERS)
			u->peers[u->n_peers++] = *peer;
		else
			u->peers_overflow = true;
	}
	if (sg_proto_has_ports(rec->proto))
		s.port = rec->dport;
	else if (sg_proto_is_icmp(rec->proto))
		s.port = rec->sport;
	for (i = 0; i < u->n_svcs && (u->svcs[i].proto != s.proto || u->svcs[i].port != s.port);
			i++)
		;
	if (i == u->n_svcs) {
		if (u->n_svcs < USE_SVCS)
			u->svcs[u->n_svcs++] = s;
		else
			u->svcs_overflow = true;
	}
}

void
sg_audit_add_record(struct sg_audit *a, const struct sg_flowlog_record *rec)
{
	const struct sg_spec *spec = a->conf->spec;
	int port = rec->port[0] != '\0' ? sg_spec_find_port(spec, rec->port) : -1;
	struct flow f;

	a->sum.records++;
	if (rec->status == SG_FLOWLOG_SKIPDATA) {
		/* Lost records: the port's data is incomplete (all ports' when none is named). */
		a->sum.records_lost += rec->packets;
		if (port >= 0)
			a->port_lost[port] += rec->packets;
		else
			a->lost_all += rec->packets;
		return;
	}
	if (port < 0) {
		a->sum.records_unmatched++;
		return;
	}
	a->port_seen[port] |= PORT_SEEN;
	if (rec->format == SG_FLOWLOG_ALIBABA || rec->format == SG_FLOWLOG_AWS_V5)
		a->port_seen[port] |= PORT_CLOUD;
	if (rec->status != SG_FLOWLOG_OK)
		return;
	if (rec->format == SG_FLOWLOG_ALIBABA || rec->format == SG_FLOWLOG_AWS_V5) {
		struct sg_flowlog_record named = *rec;

		audit_cloud_rule(a->policy, (const uint32_t *const *)a->positions, (uint32_t)port,
				&named);
		if (named.rule.kind != SG_FLOWLOG_RULE_NONE)
			a->sum.records_cloud_named++;
		named.format = SG_FLOWLOG_TEXT;
		sg_audit_add_record(a, &named);
		a->sum.records--;
		return;
	}
	if (rec->rule.kind == SG_FLOWLOG_RULE_USER) {
		int g = sg_spec_find_group(spec, rec->rule.group);

		if (g < 0 || rec->rule.index > spec->groups[g].n_rules) {
			a->sum.records_unmatched++;
			return;
		}
		{
			struct use *u = &a->uses[g][rec->rule.index - 1];
			const struct sg_rule *r = &spec->groups[g].rules[rec->rule.index - 1];

			u->records++;
			u->packets += rec->packets;
			if (rec->action == SG_ACTION_ACCEPT && rec->dir == r->dir)
				note_use(u, rec);
		}
	} else if (rec->rule.kind == SG_FLOWLOG_RULE_INNER &&
			sg_spec_find_group(spec, rec->rule.group) < 0) {
		a->sum.records_unmatched++;
		return;
	}
	memset(&f, 0, sizeof(f));
	f.port = (uint32_t)port;
	f.dir = rec->dir;
	f.action = rec->action;
	f.f.proto = rec->proto;
	f.f.src = rec->src;
	f.f.dst = rec->dst;
	f.f.sport = rec->sport;
	f.f.dport = rec->dport;
	f.rule = rec->rule;
	add_flow(a, &f);
}

/* ---- Helpers over the policy ---- */

/* The rule as written behind a merged entry. */
static struct sg_audit_rule_ref
ref_of(const struct sg_audit *a, uint32_t port, const struct sg_eff_rule *e)
{
	struct sg_audit_rule_ref r = {.origin = e->origin, .group = -1, .rule = -1};

	if (e->origin == SG_ORIGIN_RULE) {
		r.group = (int32_t)e->group;
		r.rule = (int32_t)a->positions[e->group][e->rule];
	} else if (e->origin == SG_ORIGIN_INNER) {
		r.group = (int32_t)e->group;
	} else {
		r.type = sg_policy_port_type(a->policy, port);
		r.dir = SG_DIR_INGRESS;
	}
	return r;
}

/* Entries whose reach changes with memberships: inner access and group peers. */
static bool
is_dynamic(const struct sg_spec *spec, const struct sg_eff_rule *e)
{
	if (e->origin == SG_ORIGIN_INNER)
		return true;
	if (e->origin != SG_ORIGIN_RULE)
		return false;
	return spec->groups[e->group].rules[e->rule].peer_kind == SG_PEER_GROUP;
}

static int
add_port(uint32_t **ports, uint32_t *n, uint32_t port)
{
	uint32_t *grown;

	for (uint32_t i = 0; i < *n; i++)
		if ((*ports)[i] == port)
			return 0;
	grown = realloc(*ports, (*n + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	*ports = grown;
	(*ports)[(*n)++] = port;
	return 0;
}

/*
 * Is entry j of a list shadowed (an earlier entry with another action covers it), or redundant
 * (an earlier entry with its action covers it, or a later one does with nothing between that
 * could decide otherwise)? Fills 'kind', the other entry and whether the relation is static.
 */
bool
audit_entry_relation(const struct sg_spec *spec, const struct sg_eff_rule *eff, uint32_t n,
		uint32_t j, enum sg_audit_kind *kind, uint32_t *other, bool *is_static)
{
	const struct sg_eff_rule *e = &eff[j];

	if (audit_matches_nothing(e))
		return false;
	for (uint32_t i = 0; i < j; i++) {
		if (!audit_covers(&eff[i], e))
			continue;
		*kind = eff[i].action == e->action ? SG_AUDIT_REDUNDANT : SG_AUDIT_SHADOWED;
		*other = i;
		*is_static = !is_dynamic(spec, &eff[i]) && !is_dynamic(spec, e);
		return true;
	}
	*is_static = !is_dynamic(spec, e);
	for (uint32_t k = j + 1; k < n; k++) {
		if (eff[k].action != e->action) {
			if (is_dynamic(spec, &eff[k]) && !audit_matches_nothing(&eff[k]))
				*is_static = false;
			if (audit_intersects(&eff[k], e))
				return false;
			continue;
		}
		if (audit_covers(&eff[k], e)) {
			*kind = SG_AUDIT_REDUNDANT;
			*other = k;
			if (is_dynamic(spec, &eff[k]))
				*is_static = false;
			return true;
		}
	}
	return false;
}

/* ---- Config-alone analysis ---- */

static int
note_conflict(struct sg_audit *a, uint32_t port, const struct sg_eff_rule *d,
		const struct sg_eff_rule *c)
{
	struct sg_audit_rule_ref dr = ref_of(a, port, d), cr = ref_of(a, port, c);
	struct conflict *grown;

	for (uint32_t i = 0; i < a->n_conflicts; i++) {
		struct conflict *x = &a->conflicts[i];

		if (x->drop.group == dr.group && x->drop.rule == dr.rule &&
				x->accept.group == cr.group && x->accept.rule == cr.rule)
			return add_port(&x->ports, &x->n_ports, port);
	}
	grown = realloc(a->conflicts, (a->n_conflicts + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	a->conflicts = grown;
	a->conflicts[a->n_conflicts] = (struct conflict){.drop = dr, .accept = cr,
			.priority = d->priority};
	a->n_conflicts++;
	return add_port(&a->conflicts[a->n_conflicts - 1].ports,
			&a->conflicts[a->n_conflicts - 1].n_ports, port);
}

static int
analyse_lists(struct sg_audit *a)
{
	const struct sg_spec *pspec = sg_policy_spec(a->policy);
	int rc;

	for (uint32_t p = 0; p < pspec->n_ports; p++) {
		for (int d = 0; d < SG_DIR_COUNT; d++) {
			const struct sg_eff_rule *eff;
			uint32_t n = sg_policy_effective(a->policy, p, (enum sg_dir)d, &eff);

			for (uint32_t j = 0; j < n; j++) {
				struct sg_audit_rule_ref me;
				enum sg_audit_kind kind;
				uint32_t other;
				bool st;
				struct rel *rl;

				if (eff[j].origin != SG_ORIGIN_RULE)
					continue;
				me = ref_of(a, p, &eff[j]);
				if (me.rule < 0)
					continue;
				/* Overlapping drop and accept at one priority: drop wins (D2). */
				for (uint32_t k = j + 1; k < n && eff[k].priority == eff[j].priority; k++)
					if (eff[k].origin == SG_ORIGIN_RULE && eff[j].action == SG_ACTION_DROP &&
							eff[k].action == SG_ACTION_ACCEPT &&
							audit_intersects(&eff[j], &eff[k]) &&
							(rc = note_conflict(a, p, &eff[j], &eff[k])) < 0)
						return rc;
				if (!audit_entry_relation(pspec, eff, n, j, &kind, &other, &st))
					continue;
				rl = &a->rels[me.group][me.rule];
				if (rl->holds == 0) {
					rl->kind = kind;
					rl->other = ref_of(a, p, &eff[other]);
					if (eff[other].origin == SG_ORIGIN_DEFAULT)
						rl->other.dir = (enum sg_dir)d;
					rl->all_static = true;
				} else if (kind == SG_AUDIT_SHADOWED) {
					rl->kind = SG_AUDIT_SHADOWED; /* the stronger statement */
				}
				rl->holds++;
				rl->all_static = rl->all_static && st;
				if ((rc = add_port(&rl->ports, &rl->n_ports, p)) < 0)
					return rc;
			}
		}
	}
	return 0;
}

/* ---- Findings ---- */

static struct sg_audit_finding *
new_finding(struct sg_audit *a, enum sg_audit_kind kind, uint32_t group, int32_t rule)
{
	struct sg_audit_finding *grown = realloc(a->findings, (a->n_findings + 1) * sizeof(*grown));
	struct sg_audit_finding *f;

	if (grown == NULL)
		return NULL;
	a->findings = grown;
	f = &a->findings[a->n_findings++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->rule = (struct sg_audit_rule_ref){
		.origin = rule >= 0 ? SG_ORIGIN_RULE : SG_ORIGIN_INNER, .group = (int32_t)group,
		.rule = rule,
	};
	a->sum.counts[kind]++;
	return f;
}

static size_t
port_list(const struct sg_audit *a, const uint32_t *ports, uint32_t n, char *buf, size_t size)
{
	const struct sg_spec *spec = a->conf->spec;
	size_t used = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
				spec->ports[ports[i]].name);
	return used;
}

static int
copy_ports(struct sg_audit_finding *f, const uint32_t *ports, uint32_t n)
{
	if (n == 0)
		return 0;
	f->ports = malloc(n * sizeof(*ports));
	if (f->ports == NULL)
		return -ENOMEM;
	memcpy(f->ports, ports, n * sizeof(*ports));
	f->n_ports = n;
	return 0;
}

/* A rule in config syntax, one line, as the config writer writes it. */
static char *
rule_text(const struct sg_rule *r)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	if (m == NULL)
		return NULL;
	sg_conf_write_rule(m, r);
	if (fclose(m) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

uint64_t
sg_audit_port_lost(const struct sg_audit *a, uint32_t port)
{
	return port < a->conf->spec->n_ports ? a->port_lost[port] + a->lost_all : 0;
}

/*
 * Whether any of 'members' lost flow-log records: then nothing can be concluded from what the
 * logs lack, and the finding says so (f->not_applied) instead of proposing a change.
 */
static bool
members_incomplete(const struct sg_audit *a, const uint32_t *members, uint32_t n,
		struct sg_audit_finding *f)
{
	uint64_t lost = 0;
	char ports[256];
	size_t used = 0;

	ports[0] = '\0';
	for (uint32_t m = 0; m < n; m++) {
		uint64_t l = sg_audit_port_lost(a, members[m]);

		if (l == 0)
			continue;
		lost += l;
		if (used < sizeof(ports))
			used += (size_t)snprintf(ports + used, sizeof(ports) - used, "%s%s",
					used != 0 ? ", " : "", a->conf->spec->ports[members[m]].name);
	}
	if (lost == 0)
		return false;
	snprintf(f->not_applied, sizeof(f->not_applied),
			"the flow logs of %s are incomplete (%" PRIu64 " records lost): no rule is "
			"removed or narrowed on incomplete data",
			ports, lost);
	return true;
}

/* A port is observed for an action when it appears in the logs and logs that action. */
static bool
observed(const struct sg_audit *a, uint32_t port, enum sg_action action)
{
	uint8_t need = action == SG_ACTION_ACCEPT ? SG_FLOWLOG_ACCEPT : SG_FLOWLOG_REJECT;

	if ((a->port_seen[port] & PORT_CLOUD) != 0)
		return true;
	return a->port_seen[port] != 0 && (sg_conf_flowlog_traffic(a->conf, port) & need) != 0;
}

/* The raw rule repeats an identical earlier rule of its group (the compiler drops it, D2). */
int
audit_repeat_of(const struct sg_group *g, uint32_t r)
{
	for (uint32_t k = 0; k < r; k++)
		if (sg_rule_same(&g->rules[r], &g->rules[k]))
			return (int)k;
	return -1;
}

/* Smallest prefix holding every address (all of one family). */
static struct sg_prefix
cover_of(const struct sg_ip *ips, uint32_t n)
{
	struct sg_prefix p = sg_prefix_host(&ips[0]);

	for (uint32_t i = 1; i < n; i++) {
		while (!sg_prefix_contains(&p, &ips[i])) {
			p.len--;
			sg_prefix_normalize(&p);
		}
	}
	return p;
}

/* log2 of the addresses of a prefix. */
static unsigned int
prefix_bits(const struct sg_prefix *p)
{
	return (p->ip.family == SG_AF_INET ? 32u : 128u) - p->len;
}

static unsigned int
log2_ceil(uint64_t n)
{
	unsigned int b = 0;

	while ((1ull << b) < n && b < 63)
		b++;
	return b;
}

/*
 * Narrower rules for a wide accept rule from what it admitted: the protocols seen (for "all"),
 * the destination ports seen (listed, or their span), the peer addresses seen (listed, or the
 * smallest prefix holding them), each only where the rule is much wider than needed.
 */
uint32_t
audit_narrow(const struct sg_rule *r, const struct use *u, struct sg_rule *out, char *why,
		size_t size)
{
	uint8_t protos[8];
	uint32_t n_protos = 0, n_out = 0;
	bool narrow_proto = false, narrow_ports = false, narrow_peer = false;
	struct sg_prefix hosts[MAX_HOSTS], cover;
	uint32_t n_hosts = 0;
	size_t used = 0;

	why[0] = '\0';
	if (u->accepted == 0)
		return 0;
	/* Protocols. */
	for (int p = 0; p < 256; p++)
		if (u->protos[p / 8] & (1u << (p % 8)) && n_protos < SG_ARRAY_SIZE(protos))
			protos[n_protos++] = (uint8_t)p;
	if (r->proto == SG_PROTO_ANY && n_protos >= 1 && n_protos <= 3) {
		narrow_proto = true;
		used += (size_t)snprintf(why + used, size - used, "protocol all, but only %s seen",
				n_protos == 1 ? "one protocol" : "a few protocols");
	} else {
		protos[0] = (uint8_t)(r->proto == SG_PROTO_ANY ? 0 : r->proto);
		n_protos = 1;
	}
	/* Destination ports: a rule over many ports where a few were used. */
	if (!u->svcs_overflow) {
		for (uint32_t k = 0; k < n_protos; k++) {
			uint32_t count = 0, span_lo = UINT16_MAX, span_hi = 0;
			uint64_t rule_ports = (uint64_t)r->dport.hi - r->dport.lo + 1;

			if (protos[k] != 6 && protos[k] != 17)
				continue;
			for (uint32_t i = 0; i < u->n_svcs; i++) {
				if (u->svcs[i].proto != protos[k])
					continue;
				count++;
				span_lo = SG_MIN(span_lo, u->svcs[i].port);
				span_hi = SG_MAX(span_hi, u->svcs[i].port);
			}
			if (count == 0)
				continue;
			if (r->proto == SG_PROTO_ANY)
				rule_ports = 65536;
			if (log2_ceil(rule_ports) >= log2_ceil(count <= MAX_PORTS ? count :
					(uint64_t)span_hi - span_lo + 1) + WIDE_LOG2)
				narrow_ports = true;
		}
		if (narrow_ports)
			used += (size_t)snprintf(why + used, size - used, "%sa port range where few ports "
					"were used", used ? "; " : "");
	}
	/* Peers: only a CIDR can be narrowed (groups follow their members, lists are shared). */
	if (r->peer_kind == SG_PEER_CIDR && !u->peers_overflow && u->n_peers > 0) {
		unsigned int need;

		cover = cover_of(u->peers, u->n_peers);
		if (u->n_peers <= MAX_HOSTS && prefix_bits(&cover) > log2_ceil(u->n_peers) + 1) {
			for (uint32_t i = 0; i < u->n_peers; i++)
				hosts[n_hosts++] = sg_prefix_host(&u->peers[i]);
			need = log2_ceil(u->n_peers);
		} else {
			need = prefix_bits(&cover);
		}
		if (prefix_bits(&r->cidr) >= need + WIDE_LOG2) {
			char a[SG_PREFIX_STRLEN];

			narrow_peer = true;
			used += (size_t)snprintf(why + used, size - used, "%s%s where traffic came %s %u "
					"address%s", used ? "; " : "", sg_prefix_format(&r->cidr, a, sizeof(a)),
					r->peer_is_source ? "from" : "went to", u->n_peers,
					u->n_peers == 1 ? "" : "es");
		}
	}
	if (!narrow_proto && !narrow_ports && !narrow_peer)
		return 0;
	if (!narrow_peer) {
		hosts[0] = r->cidr;
		n_hosts = 1;
	} else if (n_hosts == 0) {
		hosts[0] = cover;
		n_hosts = 1;
	}
	for (uint32_t k = 0; k < n_protos; k++) {
		struct sg_range ports[MAX_PORTS + 1];
		uint32_t n_ports = 0;
		int proto = narrow_proto ? protos[k] : r->proto;

		if (narrow_ports && sg_proto_has_ports(proto)) {
			uint32_t count = 0;
			uint16_t lo = UINT16_MAX, hi = 0;

			for (uint32_t i = 0; i < u->n_svcs; i++) {
				if (u->svcs[i].proto != proto)
					continue;
				count++;
				lo = SG_MIN(lo, u->svcs[i].port);
				hi = SG_MAX(hi, u->svcs[i].port);
			}
			if (count <= MAX_PORTS) {
				for (uint32_t i = 0; i < u->n_svcs; i++)
					if (u->svcs[i].proto == proto)
						ports[n_ports++] = (struct sg_range){u->svcs[i].port,
								u->svcs[i].port};
			} else {
				ports[n_ports++] = (struct sg_range){lo, hi};
			}
		} else {
			ports[n_ports++] = r->proto == proto ? r->dport :
				(struct sg_range){0, UINT16_MAX};
		}
		for (uint32_t i = 0; i < n_ports; i++) {
			for (uint32_t h = 0; h < n_hosts; h++) {
				struct sg_rule *v;

				if (n_out == MAX_VARIANTS)
					return 0; /* too many to be a better rule set */
				v = &out[n_out++];
				*v = *r;
				v->proto = proto;
				v->dport = sg_proto_has_ports(proto) ? ports[i] :
					(struct sg_range){0, UINT16_MAX};
				v->dport_wildcard = !sg_proto_has_ports(proto);
				v->fields |= SG_RULE_F_PROTOCOL;
				if (sg_proto_has_ports(proto))
					v->fields |= SG_RULE_F_PORT_RANGE;
				else
					v->sport = (struct sg_range){0, UINT16_MAX};
				if (r->peer_kind == SG_PEER_CIDR)
					v->cidr = hosts[h];
			}
		}
	}
	return n_out;
}

static void
describe_period(const struct sg_audit *a, char *buf, size_t size)
{
	if (a->sum.last_end > a->sum.first_start)
		snprintf(buf, size, "in the %lld s logged", (long long)(a->sum.last_end -
				a->sum.first_start));
	else
		snprintf(buf, size, "in the logs");
}

static int
make_findings(struct sg_audit *a, bool have_logs)
{
	const struct sg_spec *spec = a->conf->spec;
	char name[SG_NAME_MAX + 32], other[SG_NAME_MAX + 48], ports[512], period[64];

	describe_period(a, period, sizeof(period));
	for (uint32_t g = 0; g < spec->n_groups; g++) {
		const struct sg_group *grp = &spec->groups[g];
		const uint32_t *members;
		uint32_t n_members = sg_policy_group_members(a->policy, g, &members);

		for (uint32_t r = 0; r < grp->n_rules; r++) {
			const struct sg_rule *rule = &grp->rules[r];
			struct sg_audit_rule_ref me = {SG_ORIGIN_RULE, (int32_t)g, (int32_t)r, 0, 0};
			const struct rel *rl = &a->rels[g][r];
			const struct use *u = &a->uses[g][r];
			struct sg_audit_finding *f;
			int rep = audit_repeat_of(grp, r);

			sg_audit_rule_name(a->conf, &me, name, sizeof(name));
			if (rep >= 0) {
				f = new_finding(a, SG_AUDIT_REDUNDANT, g, (int32_t)r);
				if (f == NULL)
					return -ENOMEM;
				f->has_other = true;
				f->other = (struct sg_audit_rule_ref){SG_ORIGIN_RULE, (int32_t)g, rep, 0, 0};
				snprintf(f->text, sizeof(f->text), "%s repeats rule %d of its group word for "
						"word; the engine keeps one (D2)", name, rep + 1);
				snprintf(f->suggestion, sizeof(f->suggestion), "remove %s", name);
				if (copy_ports(f, members, n_members) < 0)
					return -ENOMEM;
				continue;
			}
			if (rl->holds > 0) {
				f = new_finding(a, rl->kind, g, (int32_t)r);
				if (f == NULL)
					return -ENOMEM;
				f->has_other = true;
				f->other = rl->other;
				sg_audit_rule_name(a->conf, &rl->other, other, sizeof(other));
				port_list(a, rl->ports, rl->n_ports, ports, sizeof(ports));
				if (copy_ports(f, rl->ports, rl->n_ports) < 0)
					return -ENOMEM;
				if (rl->kind == SG_AUDIT_SHADOWED)
					snprintf(f->text, sizeof(f->text), "%s can never match on %s%s: %s "
							"(%s) always decides first",
							name, rl->n_ports == n_members ? "any of its ports, " : "",
							ports, other,
							rl->other.origin == SG_ORIGIN_RULE ?
								sg_action_name(spec->groups[rl->other.group]
										.rules[rl->other.rule].action) :
								"hidden");
				else
					snprintf(f->text, sizeof(f->text), "%s changes no verdict on %s: %s "
							"decides the same for everything it matches",
							name, ports, other);
				if (rl->n_ports == n_members && rl->all_static) {
					snprintf(f->suggestion, sizeof(f->suggestion), "remove %s", name);
					continue;
				}
				if (rl->n_ports != n_members)
					snprintf(f->suggestion, sizeof(f->suggestion), "it still matters on "
							"other ports of %s; keep it", grp->id);
				else
					snprintf(f->suggestion, sizeof(f->suggestion), "this depends on "
							"current group members (group peers, inner access); keep it");
			}
			if (!have_logs)
				continue;
			if (n_members == 0) {
				f = new_finding(a, SG_AUDIT_UNUSED, g, (int32_t)r);
				if (f == NULL)
					return -ENOMEM;
				snprintf(f->text, sizeof(f->text), "%s matches nothing: %s is attached to "
						"no port", name, grp->id);
				continue;
			}
			{
				uint32_t seen = 0;
				uint32_t obs[64];

				for (uint32_t m = 0; m < n_members; m++)
					if (observed(a, members[m], rule->action) && seen < SG_ARRAY_SIZE(obs))
						obs[seen++] = members[m];
				if (seen == 0)
					continue; /* none of its ports logs what it decides */
				if (u->records == 0) {
					f = new_finding(a, SG_AUDIT_UNUSED, g, (int32_t)r);
					if (f == NULL || copy_ports(f, obs, seen) < 0)
						return -ENOMEM;
					port_list(a, obs, seen, ports, sizeof(ports));
					snprintf(f->text, sizeof(f->text), "%s (%s) matched no traffic on %s %s",
							name, sg_action_name(rule->action), ports, period);
					if (seen < n_members)
						snprintf(f->not_applied, sizeof(f->not_applied),
								"some ports of %s are not logged", grp->id);
					members_incomplete(a, members, n_members, f);
					if (rule->action == SG_ACTION_ACCEPT)
						snprintf(f->suggestion, sizeof(f->suggestion),
								"remove %s if nothing needs it outside the logged "
								"period", name);
					else
						snprintf(f->suggestion, sizeof(f->suggestion),
								"a drop rule that matched nothing may still guard "
								"against what did not happen; review it");
					continue;
				}
				if (rule->action != SG_ACTION_ACCEPT)
					continue;
				{
					struct sg_rule variants[MAX_VARIANTS];
					char why[256];
					uint32_t nv =
						audit_narrow(rule, u, variants, why, sizeof(why));

					if (nv == 0)
						continue;
					f = new_finding(a, SG_AUDIT_WIDE, g, (int32_t)r);
					if (f == NULL || copy_ports(f, obs, seen) < 0)
						return -ENOMEM;
					f->packets = u->accepted;
					snprintf(f->text, sizeof(f->text), "%s is much wider than the traffic it "
							"admitted %s: %s", name, period, why);
					f->suggested = calloc(nv, sizeof(*f->suggested));
					if (f->suggested == NULL)
						return -ENOMEM;
					for (uint32_t k = 0; k < nv; k++)
						if ((f->suggested[f->n_suggested] = rule_text(&variants[k])) !=
								NULL)
							f->n_suggested++;
					snprintf(f->suggestion, sizeof(f->suggestion), "replace %s with %u "
							"narrower rule%s", name, nv, nv == 1 ? "" : "s");
					if (seen < n_members)
						snprintf(f->not_applied, sizeof(f->not_applied),
								"some ports of %s are not logged", grp->id);
					members_incomplete(a, members, n_members, f);
				}
			}
		}
	}
	/* Conflicts at one priority. */
	for (uint32_t i = 0; i < a->n_conflicts; i++) {
		const struct conflict *c = &a->conflicts[i];
		struct sg_audit_finding *f = new_finding(a, SG_AUDIT_CONFLICT, (uint32_t)c->drop.group,
				c->drop.rule);

		if (f == NULL || copy_ports(f, c->ports, c->n_ports) < 0)
			return -ENOMEM;
		f->has_other = true;
		f->other = c->accept;
		sg_audit_rule_name(a->conf, &c->drop, name, sizeof(name));
		sg_audit_rule_name(a->conf, &c->accept, other, sizeof(other));
		port_list(a, c->ports, c->n_ports, ports, sizeof(ports));
		snprintf(f->text, sizeof(f->text), "on %s, %s (drop) and %s (accept) overlap at "
				"priority %d: the drop wins (D2)", ports, name, other, c->priority);
		snprintf(f->suggestion, sizeof(f->suggestion), "give them different priorities, or "
				"narrow one so they no longer overlap, so the order says what is meant");
	}
	/* Inner access nobody used. */
	for (uint32_t g = 0; have_logs && g < spec->n_groups; g++) {
		const struct sg_group *grp = &spec->groups[g];
		const uint32_t *members;
		uint32_t n_members = sg_policy_group_members(a->policy, g, &members);
		bool all_seen = true, talked = false;
		struct sg_audit_finding *f;

		if (grp->type != SG_GROUP_BASIC || grp->inner_access != SG_ACTION_ACCEPT || n_members < 2)
			continue;
		for (uint32_t m = 0; m < n_members; m++)
			all_seen = all_seen && observed(a, members[m], SG_ACTION_ACCEPT);
		for (uint32_t i = 0; i < a->n_flows && !talked; i++) {
			const struct flow *fl = &a->flows[i];
			const struct sg_ip *peer = fl->dir == SG_DIR_INGRESS ? &fl->f.src : &fl->f.dst;
			int owner;
			bool member = false, peer_member = false;

			if (fl->action != SG_ACTION_ACCEPT)
				continue;
			owner = sg_policy_port_by_ip(a->policy, peer);
			for (uint32_t m = 0; m < n_members; m++) {
				member = member || members[m] == fl->port;
				peer_member = peer_member || (owner >= 0 && members[m] == (uint32_t)owner &&
								     (uint32_t)owner != fl->port);
			}
			talked = member && peer_member;
		}
		if (talked || !all_seen)
			continue;
		f = new_finding(a, SG_AUDIT_INNER_UNUSED, g, -1);
		if (f == NULL || copy_ports(f, members, n_members) < 0)
			return -ENOMEM;
		port_list(a, members, n_members, ports, sizeof(ports));
		snprintf(f->text, sizeof(f->text), "%s lets its members (%s) talk to each other "
				"(inner_access_policy accept), but none did %s", grp->id, ports, period);
		snprintf(f->suggestion, sizeof(f->suggestion), "set inner_access_policy = \"drop\" "
				"in %s", grp->id);
		members_incomplete(a, members, n_members, f);
	}
	return 0;
}

int
sg_audit_run(struct sg_audit *a, bool have_logs, struct sg_error *err)
{
	int rc;

	a->sum.flows = a->n_flows;
	if ((rc = analyse_lists(a)) < 0 || (rc = make_findings(a, have_logs)) < 0) {
		sg_error_set(err, 0, "audit: out of memory");
		return rc;
	}
	return audit_propose(a, err);
}

uint32_t
sg_audit_findings(const struct sg_audit *a, const struct sg_audit_finding **findings)
{
	*findings = a->findings;
	return a->n_findings;
}

uint32_t
sg_audit_files(const struct sg_audit *a, const struct sg_audit_file **files)
{
	*files = a->files;
	return a->n_files;
}

void
sg_audit_get_summary(const struct sg_audit *a, struct sg_audit_summary *s)
{
	*s = a->sum;
}
