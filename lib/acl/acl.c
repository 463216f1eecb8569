/* Compile a policy's merged rule lists into rte_acl contexts and classify bursts with them.
 *
 * One context per port, direction and address family keeps every context small: a change to a
 * port's rules rebuilds only that port's contexts, and one classify call serves a burst from
 * one port. The first-match order of the merged list becomes rte_acl priorities (earlier entry,
 * higher priority) and each rule's userdata is its 1-based position in the list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_errno.h>

#include "sg_acl.h"

enum {
	F4_PROTO,
	F4_PEER,
	F4_SPORT,
	F4_DPORT,
	F4_COUNT,
};

enum {
	F6_PROTO,
	F6_PEER0,
	F6_PEER1,
	F6_PEER2,
	F6_PEER3,
	F6_SPORT,
	F6_DPORT,
	F6_COUNT,
};

RTE_ACL_RULE_DEF(acl_rule4, F4_COUNT);
RTE_ACL_RULE_DEF(acl_rule6, F6_COUNT);

/* rte_acl reads input in 4-byte groups; the first field must be one byte long. */
static const struct rte_acl_field_def defs4[F4_COUNT] = {
	{RTE_ACL_FIELD_TYPE_BITMASK, 1, F4_PROTO, 0, offsetof(struct sg_acl_key4, proto)},
	{RTE_ACL_FIELD_TYPE_MASK, 4, F4_PEER, 1, offsetof(struct sg_acl_key4, peer)},
	{RTE_ACL_FIELD_TYPE_RANGE, 2, F4_SPORT, 2, offsetof(struct sg_acl_key4, sport)},
	{RTE_ACL_FIELD_TYPE_RANGE, 2, F4_DPORT, 2, offsetof(struct sg_acl_key4, dport)},
};

static const struct rte_acl_field_def defs6[F6_COUNT] = {
	{RTE_ACL_FIELD_TYPE_BITMASK, 1, F6_PROTO, 0, offsetof(struct sg_acl_key6, proto)},
	{RTE_ACL_FIELD_TYPE_MASK, 4, F6_PEER0, 1, offsetof(struct sg_acl_key6, peer) + 0},
	{RTE_ACL_FIELD_TYPE_MASK, 4, F6_PEER1, 2, offsetof(struct sg_acl_key6, peer) + 4},
	{RTE_ACL_FIELD_TYPE_MASK, 4, F6_PEER2, 3, offsetof(struct sg_acl_key6, peer) + 8},
	{RTE_ACL_FIELD_TYPE_MASK, 4, F6_PEER3, 4, offsetof(struct sg_acl_key6, peer) + 12},
	{RTE_ACL_FIELD_TYPE_RANGE, 2, F6_SPORT, 5, offsetof(struct sg_acl_key6, sport)},
	{RTE_ACL_FIELD_TYPE_RANGE, 2, F6_DPORT, 5, offsetof(struct sg_acl_key6, dport)},
};

#define FAMILY_COUNT 2

/* Builds run on the control thread only. */
static uint32_t context_serial;

/* A context shared by the generations whose port lists are the same (control thread only). */
struct acl_ctx {
	struct rte_acl_ctx *ctx;  /* NULL when every key gets 'constant' */
	uint32_t constant;        /* position of an entry that decides every key of the family */
	uint32_t refs;
};

struct sg_acl {
	const struct sg_policy *policy;
	uint32_t n_ports;
	uint64_t n_rules;
	uint32_t n_built;          /* contexts built by this sg_acl_build() */
	uint32_t n_reused;         /* contexts taken over from params->prev */
	uint32_t n_constant;       /* lists decided by one entry: no context built */
	struct acl_ctx **ctx;      /* [port][dir][family] */
};

static uint32_t
ctx_index(uint32_t port, enum sg_dir dir, uint8_t family)
{
	return (port * SG_DIR_COUNT + (uint32_t)dir) * FAMILY_COUNT + (family == SG_AF_INET6);
}

/* Port and ICMP type/code ranges of an entry, as the key carries them. */
static void
entry_ranges(const struct sg_eff_rule *r, struct sg_range *sport, struct sg_range *dport)
{
	*sport = (struct sg_range){0, UINT16_MAX};
	*dport = (struct sg_range){0, UINT16_MAX};
	if (r->proto == 6 || r->proto == 17) {
		*sport = r->sport;
		*dport = r->dport;
	} else if (r->proto == 1 || r->proto == 58) {
		if (r->icmp_type >= 0)
			*sport = (struct sg_range){(uint16_t)r->icmp_type, (uint16_t)r->icmp_type};
		if (r->icmp_code >= 0)
			*dport = (struct sg_range){(uint16_t)r->icmp_code, (uint16_t)r->icmp_code};
	}
}

static bool
entry_in_family(const struct sg_eff_rule *r, uint8_t family)
{
	return r->family == 0 || r->family == family;
}

/* Peers of 'r' in 'family'; a wildcard entry counts as one (the any-address rule). */
static uint32_t
entry_rule_count(const struct sg_eff_rule *r, uint8_t family)
{
	uint32_t n = 0;

	if (!entry_in_family(r, family))
		return 0;
	if (r->peer_any)
		return 1;
	for (uint32_t i = 0; i < r->n_peers; i++)
		n += r->peers[i].ip.family == family;
	return n;
}

static void
fill_common(struct rte_acl_rule_data *data, struct rte_acl_field *proto, uint32_t position,
		uint32_t n_entries, const struct sg_eff_rule *r)
{
	data->category_mask = 1;
	/* Earlier entries win: the first entry gets the highest priority. */
	data->priority = (int32_t)(n_entries - position + 1);
	data->userdata = position;
	proto->value.u8 = r->proto == SG_PROTO_ANY ? 0 : (uint8_t)r->proto;
	proto->mask_range.u8 = r->proto == SG_PROTO_ANY ? 0 : 0xff;
}

static void
fill_rule4(struct acl_rule4 *rule, const struct sg_eff_rule *r, const struct sg_prefix *peer,
		uint32_t position, uint32_t n_entries)
{
	struct sg_range sport, dport;

	memset(rule, 0, sizeof(*rule));
	fill_common(&rule->data, &rule->field[F4_PROTO], position, n_entries, r);
	if (peer != NULL) {
		uint32_t addr;

		memcpy(&addr, peer->ip.bytes, 4);
		rule->field[F4_PEER].value.u32 = rte_be_to_cpu_32(addr);
		rule->field[F4_PEER].mask_range.u32 = peer->len;
	}
	entry_ranges(r, &sport, &dport);
	rule->field[F4_SPORT].value.u16 = sport.lo;
	rule->field[F4_SPORT].mask_range.u16 = sport.hi;
	rule->field[F4_DPORT].value.u16 = dport.lo;
	rule->field[F4_DPORT].mask_range.u16 = dport.hi;
}

static void
fill_rule6(struct acl_rule6 *rule, const struct sg_eff_rule *r, const struct sg_prefix *peer,
		uint32_t position, uint32_t n_entries)
{
	struct sg_range sport, dport;

	memset(rule, 0, sizeof(*rule));
	fill_common(&rule->data, &rule->field[F6_PROTO], position, n_entries, r);
	for (int k = 0; peer != NULL && k < 4; k++) {
		int bits = SG_MIN(SG_MAX((int)peer->len - 32 * k, 0), 32);
		uint32_t word;

		memcpy(&word, peer->ip.bytes + 4 * k, 4);
		rule->field[F6_PEER0 + k].value.u32 = rte_be_to_cpu_32(word);
		rule->field[F6_PEER0 + k].mask_range.u32 = (uint32_t)bits;
	}
	entry_ranges(r, &sport, &dport);
	rule->field[F6_SPORT].value.u16 = sport.lo;
	rule->field[F6_SPORT].mask_range.u16 = sport.hi;
	rule->field[F6_DPORT].value.u16 = dport.lo;
	rule->field[F6_DPORT].mask_range.u16 = dport.hi;
}

/* An entry that matches every key of its family: any peer, protocol and ports. */
static bool
matches_everything(const struct sg_eff_rule *r)
{
	struct sg_range sport, dport;

	entry_ranges(r, &sport, &dport);
	return r->peer_any && r->proto == SG_PROTO_ANY && sport.lo == 0 &&
	       sport.hi == UINT16_MAX && dport.lo == 0 && dport.hi == UINT16_MAX;
}

/*
 * The position that decides every key of 'family' when the first entry that has rules in that
 * family matches everything (a basic group's egress list, a list with no rule for the family),
 * or 0. Such lists need no context: building none saves most of a reload, and classifying
 * them is a store.
 */
static uint32_t
constant_position(const struct sg_acl *acl, uint32_t port, enum sg_dir dir, uint8_t family)
{
	const struct sg_eff_rule *entries;
	uint32_t n = sg_policy_effective(acl->policy, port, dir, &entries);

	for (uint32_t i = 0; i < n; i++) {
		if (entry_rule_count(&entries[i], family) == 0)
			continue;
		return matches_everything(&entries[i]) ? i + 1 : 0;
	}
	return 0;
}

static struct rte_acl_ctx *
build_context(const struct sg_acl *acl, uint32_t port, enum sg_dir dir, uint8_t family,
		uint32_t generation, int socket_id, struct sg_error *err)
{
	bool v6 = family == SG_AF_INET6;
	size_t rule_size = v6 ? sizeof(struct acl_rule6) : sizeof(struct acl_rule4);
	const struct sg_eff_rule *entries;
	uint32_t n_entries = sg_policy_effective(acl->policy, port, dir, &entries);
	struct rte_acl_config cfg = {.num_categories = 1};
	struct rte_acl_ctx *ctx = NULL;
	char name[RTE_ACL_NAMESIZE];
	uint32_t n_rules = 0, k = 0;
	uint8_t *rules = NULL;
	int rc;

	for (uint32_t i = 0; i < n_entries; i++)
		n_rules += entry_rule_count(&entries[i], family);
	/* rte_acl_create() returns an existing context of the same name: make every name new,
	 * across generations and across datapaths in one process. */
	snprintf(name, sizeof(name), "sg%u_%u_%u%c%c", generation, context_serial++, port,
			dir ? 'e' : 'i', v6 ? '6' : '4');
	ctx = rte_acl_create(&(struct rte_acl_param){
			.name = name,
			.socket_id = socket_id,
			.rule_size = (uint32_t)RTE_ACL_RULE_SZ(v6 ? F6_COUNT : F4_COUNT),
			.max_rule_num = n_rules,
	});
	rules = calloc(n_rules, rule_size);
	if (ctx == NULL || rules == NULL) {
		sg_error_set(err, 0, "classifier: cannot create context %s: %s", name,
				ctx == NULL ? rte_strerror(rte_errno) : "out of memory");
		goto fail;
	}
	for (uint32_t i = 0; i < n_entries; i++) {
		const struct sg_eff_rule *r = &entries[i];

		if (!entry_in_family(r, family))
			continue;
		for (uint32_t p = 0; p < (r->peer_any ? 1 : r->n_peers); p++) {
			const struct sg_prefix *peer = r->peer_any ? NULL : &r->peers[p];

			if (peer != NULL && peer->ip.family != family)
				continue;
			if (v6)
				fill_rule6((struct acl_rule6 *)(rules + k * rule_size), r, peer, i + 1, n_entries);
			else
				fill_rule4((struct acl_rule4 *)(rules + k * rule_size), r, peer, i + 1, n_entries);
			k++;
		}
	}
	rc = rte_acl_add_rules(ctx, (const struct rte_acl_rule *)rules, n_rules);
	if (rc == 0) {
		cfg.num_fields = v6 ? F6_COUNT : F4_COUNT;
		memcpy(cfg.defs, v6 ? defs6 : defs4, cfg.num_fields * sizeof(cfg.defs[0]));
		rc = rte_acl_build(ctx, &cfg);
	}
	if (rc != 0) {
		sg_error_set(err, 0, "classifier: building %s (%u rules) failed: %s", name, n_rules,
				strerror(-rc));
		goto fail;
	}
	free(rules);
	return ctx;
fail:
	free(rules);
	rte_acl_free(ctx);
	return NULL;
}

/* The port of 'prev' with the name of 'port' in 'acl', if its 'dir' list classifies the same. */
static int
reusable_port(const struct sg_acl *acl, uint32_t port, enum sg_dir dir, const struct sg_acl *prev)
{
	const char *name = sg_policy_spec(acl->policy)->ports[port].name;
	const struct sg_eff_rule *now, *before;
	uint32_t n_now, n_before;
	int old;

	if (prev == NULL || (old = sg_policy_find_port(prev->policy, name)) < 0)
		return -1;
	n_now = sg_policy_effective(acl->policy, port, dir, &now);
	n_before = sg_policy_effective(prev->policy, (uint32_t)old, dir, &before);
	return sg_eff_lists_equal(now, n_now, before, n_before, false) ? old : -1;
}

static void
ctx_put(struct acl_ctx *c)
{
	if (c != NULL && --c->refs == 0) {
		rte_acl_free(c->ctx);
		free(c);
	}
}

struct sg_acl *
sg_acl_build(const struct sg_policy *policy, const struct sg_acl_params *params,
		struct sg_error *err)
{
	const struct sg_spec *spec = sg_policy_spec(policy);
	struct sg_acl *acl = calloc(1, sizeof(*acl));

	if (acl == NULL)
		goto nomem;
	acl->policy = policy;
	acl->n_ports = spec->n_ports;
	acl->ctx = calloc((size_t)spec->n_ports * SG_DIR_COUNT * FAMILY_COUNT + 1, sizeof(*acl->ctx));
	if (acl->ctx == NULL)
		goto nomem;
	for (uint32_t p = 0; p < spec->n_ports; p++) {
		for (int d = 0; d < SG_DIR_COUNT; d++) {
			int old = reusable_port(acl, p, (enum sg_dir)d, params->prev);

			for (int f = 0; f < FAMILY_COUNT; f++) {
				uint8_t family = f ? SG_AF_INET6 : SG_AF_INET;
				uint32_t i = ctx_index(p, (enum sg_dir)d, family);
				struct acl_ctx *c;

				if (old >= 0) {
					/* Unchanged list: share the context, no rebuild. */
					c = params->prev->ctx[ctx_index((uint32_t)old, (enum sg_dir)d, family)];
					c->refs++;
					acl->ctx[i] = c;
					acl->n_reused++;
					continue;
				}
				c = calloc(1, sizeof(*c));
				if (c == NULL)
					goto nomem;
				acl->ctx[i] = c;
				c->refs = 1;
				c->constant = constant_position(acl, p, (enum sg_dir)d, family);
				if (c->constant != 0) {
					acl->n_constant++;
					continue;
				}
				c->ctx = build_context(acl, p, (enum sg_dir)d, family, params->generation,
						params->socket_id, err);
				if (c->ctx == NULL) {
					sg_acl_free(acl);
					return NULL;
				}
				acl->n_built++;
			}
		}
	}
	for (uint32_t p = 0; p < spec->n_ports; p++) {
		for (int d = 0; d < SG_DIR_COUNT; d++) {
			const struct sg_eff_rule *entries;
			uint32_t n = sg_policy_effective(policy, p, (enum sg_dir)d, &entries);

			for (uint32_t i = 0; i < n; i++)
				acl->n_rules += entry_rule_count(&entries[i], SG_AF_INET) +
						entry_rule_count(&entries[i], SG_AF_INET6);
		}
	}
	return acl;
nomem:
	sg_acl_free(acl);
	sg_error_set(err, 0, "classifier: out of memory");
	errno = ENOMEM;
	return NULL;
}

void
sg_acl_free(struct sg_acl *acl)
{
	if (acl == NULL)
		return;
	if (acl->ctx != NULL)
		for (uint32_t i = 0; i < acl->n_ports * SG_DIR_COUNT * FAMILY_COUNT; i++)
			ctx_put(acl->ctx[i]);
	free(acl->ctx);
	free(acl);
}

void
sg_acl_build_counts(const struct sg_acl *acl, uint32_t *built, uint32_t *reused,
		uint32_t *constant)
{
	*built = acl->n_built;
	*reused = acl->n_reused;
	*constant = acl->n_constant;
}

void
sg_acl_classify(const struct sg_acl *acl, uint32_t port, enum sg_dir dir, uint8_t family,
		const uint8_t **keys, uint32_t *results, uint32_t n)
{
	const struct acl_ctx *c = acl->ctx[ctx_index(port, dir, family)];

	if (c->ctx == NULL) {
		for (uint32_t i = 0; i < n; i++)
			results[i] = c->constant;
		return;
	}
	rte_acl_classify(c->ctx, keys, results, n, 1);
}

uint64_t
sg_acl_rule_count(const struct sg_acl *acl)
{
	return acl->n_rules;
}
