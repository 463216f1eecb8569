/* SPDX-License-Identifier: BSD-3-Clause */
/* Compile a policy's merged rule lists into rte_acl contexts (classified in acl_classify.c).
 *
 * One context per port, direction and address family keeps every context small: a change to a
 * port's rules rebuilds only that port's contexts, and one classify call serves a burst from
 * one port. The first-match order of the merged list becomes rte_acl priorities (earlier entry,
 * higher priority) and each rule's userdata is its 1-based position in the list. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "acl_private.h"

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

/* Context names must be new across generations, datapaths and the builder thread. */
static uint32_t context_serial;

/* Port and ICMP type/code ranges of an entry, as the key carries them. */
static void
entry_ranges(const struct sg_eff_rule *r, struct sg_range *sport, struct sg_range *dport)
{
	*sport = (struct sg_range){0, UINT16_MAX};
	*dport = (struct sg_range){0, UINT16_MAX};
	if (sg_proto_has_ports(r->proto)) {
		*sport = r->sport;
		*dport = r->dport;
	} else if (sg_proto_is_icmp(r->proto)) {
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
fill_match(struct acl_match *m, const struct sg_eff_rule *r, const struct sg_prefix *peer,
		uint32_t position)
{
	struct sg_range sport, dport;

	memset(m, 0, sizeof(*m));
	m->position = position;
	m->proto = r->proto == SG_PROTO_ANY ? 0 : (uint8_t)r->proto;
	m->proto_mask = r->proto == SG_PROTO_ANY ? 0 : 0xff;
	for (int k = 0; peer != NULL && k < (peer->ip.family == SG_AF_INET6 ? 4 : 1); k++) {
		int bits = SG_MIN(SG_MAX((int)peer->len - 32 * k, 0), 32);
		uint32_t word;

		memcpy(&word, peer->ip.bytes + 4 * k, 4);
		m->mask[k] = bits == 0 ? 0 : UINT32_MAX << (32 - bits);
		m->addr[k] = rte_be_to_cpu_32(word) & m->mask[k];
	}
	entry_ranges(r, &sport, &dport);
	m->sport_lo = sport.lo;
	m->sport_hi = sport.hi;
	m->dport_lo = dport.lo;
	m->dport_hi = dport.hi;
}

static void
fill_common(struct rte_acl_rule_data *data, struct rte_acl_field *proto, const struct acl_match *m,
		uint32_t n_entries)
{
	data->category_mask = 1;
	/* Earlier entries win: the first entry gets the highest priority. */
	data->priority = (int32_t)(n_entries - m->position + 1);
	data->userdata = m->position;
	proto->value.u8 = m->proto;
	proto->mask_range.u8 = m->proto_mask;
}

static void
fill_rule4(struct acl_rule4 *rule, const struct acl_match *m, uint32_t n_entries)
{
	memset(rule, 0, sizeof(*rule));
	fill_common(&rule->data, &rule->field[F4_PROTO], m, n_entries);
	rule->field[F4_PEER].value.u32 = m->addr[0];
	rule->field[F4_PEER].mask_range.u32 = (uint32_t)__builtin_popcount(m->mask[0]);
	rule->field[F4_SPORT].value.u16 = m->sport_lo;
	rule->field[F4_SPORT].mask_range.u16 = m->sport_hi;
	rule->field[F4_DPORT].value.u16 = m->dport_lo;
	rule->field[F4_DPORT].mask_range.u16 = m->dport_hi;
}

static void
fill_rule6(struct acl_rule6 *rule, const struct acl_match *m, uint32_t n_entries)
{
	memset(rule, 0, sizeof(*rule));
	fill_common(&rule->data, &rule->field[F6_PROTO], m, n_entries);
	for (int k = 0; k < 4; k++) {
		rule->field[F6_PEER0 + k].value.u32 = m->addr[k];
		rule->field[F6_PEER0 + k].mask_range.u32 = (uint32_t)__builtin_popcount(m->mask[k]);
	}
	rule->field[F6_SPORT].value.u16 = m->sport_lo;
	rule->field[F6_SPORT].mask_range.u16 = m->sport_hi;
	rule->field[F6_DPORT].value.u16 = m->dport_lo;
	rule->field[F6_DPORT].mask_range.u16 = m->dport_hi;
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

/* The rules of one list in first-match order: what the linear matcher scans and the builder
 * turns into a context. */
static int
fill_list(struct acl_ctx *c, const struct sg_acl *acl, uint32_t port, enum sg_dir dir,
		uint8_t family)
{
	const struct sg_eff_rule *entries;
	uint32_t n_entries = sg_policy_effective(acl->policy, port, dir, &entries);
	uint32_t n = 0, k = 0;

	for (uint32_t i = 0; i < n_entries; i++)
		n += entry_rule_count(&entries[i], family);
	c->n_entries = n_entries;
	c->match = calloc(n + 1u, sizeof(*c->match));
	if (c->match == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n_entries; i++) {
		const struct sg_eff_rule *r = &entries[i];

		if (!entry_in_family(r, family))
			continue;
		for (uint32_t p = 0; p < (r->peer_any ? 1 : r->n_peers); p++) {
			const struct sg_prefix *peer = r->peer_any ? NULL : &r->peers[p];

			if (peer == NULL || peer->ip.family == family)
				fill_match(&c->match[k++], r, peer, i + 1);
		}
	}
	c->n_match = k;
	return 0;
}

/* Build the rte_acl context of a filled list. Runs on the control thread or the builder. */
static struct rte_acl_ctx *
compile_list(const struct acl_ctx *c, struct sg_error *err)
{
	size_t rule_size = c->v6 ? sizeof(struct acl_rule6) : sizeof(struct acl_rule4);
	struct rte_acl_config cfg = {.num_categories = 1};
	uint8_t *rules = calloc(c->n_match, rule_size);
	struct rte_acl_ctx *ctx;
	int rc;

	ctx = rte_acl_create(&(struct rte_acl_param){
			.name = c->name,
			.socket_id = c->socket_id,
			.rule_size = (uint32_t)RTE_ACL_RULE_SZ(c->v6 ? F6_COUNT : F4_COUNT),
			.max_rule_num = c->n_match,
	});
	if (ctx == NULL || rules == NULL) {
		sg_error_set(err, 0, "classifier: cannot create context %s: %s", c->name,
				ctx == NULL ? rte_strerror(rte_errno) : "out of memory");
		goto fail;
	}
	for (uint32_t k = 0; k < c->n_match; k++) {
		if (c->v6)
			fill_rule6((struct acl_rule6 *)(rules + k * rule_size), &c->match[k], c->n_entries);
		else
			fill_rule4((struct acl_rule4 *)(rules + k * rule_size), &c->match[k], c->n_entries);
	}
	rc = rte_acl_add_rules(ctx, (const struct rte_acl_rule *)rules, c->n_match);
	if (rc == 0) {
		cfg.num_fields = c->v6 ? F6_COUNT : F4_COUNT;
		memcpy(cfg.defs, c->v6 ? defs6 : defs4, cfg.num_fields * sizeof(cfg.defs[0]));
		rc = rte_acl_build(ctx, &cfg);
	}
	if (rc != 0) {
		sg_error_set(err, 0, "classifier: building %s (%u rules) failed: %s", c->name,
				c->n_match, strerror(-rc));
		goto fail;
	}
	free(rules);
	return ctx;
fail:
	free(rules);
	rte_acl_free(ctx);
	return NULL;
}

static void
ctx_put(struct acl_ctx *c)
{
	if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		rte_acl_free(c->ctx);
		free(c->match);
		free(c);
	}
}

/*
 * The background builder: one DPDK control thread (off the workers' cores) that turns queued
 * lists into contexts, oldest first, while the control thread goes on serving changes. A
 * list no generation uses any more is dropped unbuilt. It keeps the default priority: a lower
 * one measured no better for change latency here, and a busy control core could starve it.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t queued;
	pthread_cond_t drained;
	struct acl_ctx *head, *tail;
	uint32_t busy; /* lists queued or being built */
	bool started;
} builder = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.queued = PTHREAD_COND_INITIALIZER,
	.drained = PTHREAD_COND_INITIALIZER,
};

static void *
builder_main(void *arg)
{
	RTE_SET_USED(arg);
	for (;;) {
		struct acl_ctx *c;

		pthread_mutex_lock(&builder.lock);
		while (builder.head == NULL)
			pthread_cond_wait(&builder.queued, &builder.lock);
		c = builder.head;
		builder.head = c->next_job;
		if (builder.head == NULL)
			builder.tail = NULL;
		pthread_mutex_unlock(&builder.lock);

		if (__atomic_load_n(&c->refs, __ATOMIC_ACQUIRE) > 1) {
			struct sg_error err = {0};
			struct rte_acl_ctx *ctx = compile_list(c, &err);

			if (ctx != NULL)
				__atomic_store_n(&c->ctx, ctx, __ATOMIC_RELEASE);
			else
				__atomic_store_n(&c->failed, true, __ATOMIC_RELEASE);
		}
		ctx_put(c);

		pthread_mutex_lock(&builder.lock);
		if (--builder.busy == 0)
			pthread_cond_broadcast(&builder.drained);
		pthread_mutex_unlock(&builder.lock);
	}
	return NULL;
}

/* Queue 'c' for the builder, which holds a reference until it is done. */
static int
queue_build(struct acl_ctx *c)
{
	int rc = 0;

	pthread_mutex_lock(&builder.lock);
	if (!builder.started) {
		pthread_t tid;

		rc = -rte_ctrl_thread_create(&tid, "sg-acl-build", NULL, builder_main, NULL);
		builder.started = rc == 0;
	}
	if (rc == 0) {
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
		c->next_job = NULL;
		if (builder.tail != NULL)
			builder.tail->next_job = c;
		else
			builder.head = c;
		builder.tail = c;
		builder.busy++;
		pthread_cond_signal(&builder.queued);
	}
	pthread_mutex_unlock(&builder.lock);
	return rc;
}

void
sg_acl_wait_builds(void)
{
	pthread_mutex_lock(&builder.lock);
	while (builder.busy != 0)
		pthread_cond_wait(&builder.drained, &builder.lock);
	pthread_mutex_unlock(&builder.lock);
}

/* A new classifier for one list: constant, linear, built now or queued for the builder. */
static struct acl_ctx *
new_list(struct sg_acl *acl, uint32_t port, enum sg_dir dir, uint8_t family,
		const struct sg_acl_params *params, struct sg_error *err)
{
	struct acl_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		goto nomem;
	c->refs = 1;
	c->v6 = family == SG_AF_INET6;
	c->socket_id = params->socket_id;
	c->constant = constant_position(acl, port, dir, family);
	if (c->constant != 0) {
		acl->counts.constant++;
		return c;
	}
	if (fill_list(c, acl, port, dir, family) < 0)
		goto nomem;
	if (c->n_match == 0) {
		/* No rule in the family: nothing matches, as rte_acl would say. */
		free(c->match);
		c->match = NULL;
		acl->counts.constant++;
		return c;
	}
	/* rte_acl_create() returns an existing context of the same name: every name is new,
	 * across generations, datapaths in one process and the builder's queue. */
	snprintf(c->name, sizeof(c->name), "sg%u_%u_%u%c%c", params->generation,
			__atomic_fetch_add(&context_serial, 1, __ATOMIC_RELAXED), port,
			dir ? 'e' : 'i', c->v6 ? '6' : '4');
	if (params->build == SG_ACL_LINEAR)
		return c;
	if (params->build == SG_ACL_BUILD_LATER && queue_build(c) == 0) {
		acl->counts.queued++;
		return c;
	}
	c->ctx = compile_list(c, err);
	if (c->ctx == NULL) {
		ctx_put(c);
		return NULL;
	}
	acl->counts.built++;
	return c;
nomem:
	if (c != NULL)
		ctx_put(c);
	sg_error_set(err, 0, "classifier: out of memory");
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
	/* A port that was another host's had no contexts to share: it moved here (fleet). */
	if (sg_policy_spec(prev->policy)->ports[old].remote)
		return -1;
	n_now = sg_policy_effective(acl->policy, port, dir, &now);
	n_before = sg_policy_effective(prev->policy, (uint32_t)old, dir, &before);
	return sg_eff_lists_equal(now, n_now, before, n_before, false) ? old : -1;
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
		/* A port of another host is classified there: no context (NULL) here. */
		if (spec->ports[p].remote)
			continue;
		for (int d = 0; d < SG_DIR_COUNT; d++) {
			int old = reusable_port(acl, p, (enum sg_dir)d, params->prev);

			for (int f = 0; f < FAMILY_COUNT; f++) {
				uint8_t family = f ? SG_AF_INET6 : SG_AF_INET;
				uint32_t i = ctx_index(p, (enum sg_dir)d, family);
				struct acl_ctx *c;

				if (old >= 0) {
					/* Unchanged list: share the context, no rebuild. */
					c = params->prev->ctx[ctx_index((uint32_t)old, (enum sg_dir)d, family)];
					__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
					acl->ctx[i] = c;
					acl->counts.reused++;
					continue;
				}
				acl->ctx[i] = new_list(acl, p, (enum sg_dir)d, family, params, err);
				if (acl->ctx[i] == NULL) {
					sg_acl_free(acl);
					errno = ENOMEM;
					return NULL;
				}
			}
		}
	}
	for (uint32_t p = 0; p < spec->n_ports; p++) {
		if (spec->ports[p].remote)
			continue;
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
sg_acl_build_counts(const struct sg_acl *acl, struct sg_acl_counts *counts)
{
	*counts = acl->counts;
	counts->linear = 0;
	counts->failed = 0;
	for (uint32_t i = 0; i < acl->n_ports * SG_DIR_COUNT * FAMILY_COUNT; i++) {
		const struct acl_ctx *c = acl->ctx[i];

		if (c == NULL || c->match == NULL || __atomic_load_n(&c->ctx, __ATOMIC_ACQUIRE) != NULL)
			continue;
		counts->linear++;
		counts->failed += __atomic_load_n(&c->failed, __ATOMIC_ACQUIRE);
	}
}

uint64_t
sg_acl_rule_count(const struct sg_acl *acl)
{
	return acl->n_rules;
}
