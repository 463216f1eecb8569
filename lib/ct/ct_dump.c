/* SPDX-License-Identifier: BSD-3-Clause */
/* Control-path views of the tracker: walking connections with filters, counts by state,
 * summed per-worker statistics and the measured memory per connection. */
#include <string.h>

#include "ct_private.h"

/* Snapshot connection 'c' into 'info' under its lock. False if it is not live. */
static bool
ct_snapshot(const struct sg_ct *ct, struct sg_conn *c, uint32_t now32,
		struct sg_ct_conn_info *info)
{
	const struct ct_body *b;

	(void)ct;
	if ((ct_flags(c) & (CT_F_VALID | CT_F_DEAD)) != CT_F_VALID)
		return false;
	ct_conn_lock(c);
	if ((c->flags & (CT_F_VALID | CT_F_DEAD)) != CT_F_VALID || ct_expired(c, now32)) {
		ct_conn_unlock(c);
		return false;
	}
	b = ct_body(c);
	memset(info, 0, sizeof(*info));
	sg_ct_conn_tuple(c, &info->tuple);
	info->state = (uint8_t)ct_proto_of(c->proto)->state(c);
	info->seen_reply = (c->flags & CT_F_SEEN_REPLY) != 0;
	info->assured = (c->flags & CT_F_ASSURED) != 0;
	info->blocked = (c->flags & CT_F_BLOCKED) != 0;
	info->pickup = (c->flags & CT_F_PICKUP) != 0;
	info->owner = c->owner;
	info->expires_ms = (int32_t)(c->deadline - now32);
	info->origin = b->origin;
	for (int d = 0; d < 2; d++) {
		info->packets[d] = b->pkts[d];
		info->bytes[d] = b->bytes[d];
	}
	ct_conn_unlock(c);
	return true;
}

static bool
ct_filter_match(const struct sg_ct_filter *f, const struct sg_ct_conn_info *i)
{
	if (f == NULL)
		return true;
	if (f->by_port && i->origin.in_port != f->port && i->origin.out_port != f->port)
		return false;
	if (f->proto != 0 && i->tuple.proto != f->proto)
		return false;
	if (f->by_state && i->state != f->state)
		return false;
	if (f->addr.family != 0 && !sg_ip_equal(&f->addr, &i->tuple.src) &&
			!sg_ip_equal(&f->addr, &i->tuple.dst))
		return false;
	return true;
}

uint64_t
sg_ct_walk(struct sg_ct *ct, const struct sg_ct_filter *f, uint64_t now, sg_ct_walk_cb cb,
		void *arg)
{
	const struct ct_pool *pools[2] = { &ct->pool4, &ct->pool6 };
	uint32_t now32 = (uint32_t)now;
	uint64_t reported = 0;

	for (int pi = 0; pi < 2; pi++) {
		uint32_t hi = __atomic_load_n(&pools[pi]->next_fresh, __ATOMIC_ACQUIRE);

		for (uint32_t idx = 1; idx < hi; idx++) {
			struct sg_conn *c = ct_conn_of(ct, pi == 1 ? idx | CT_ID_V6 : idx);
			struct sg_ct_conn_info info;

			if (!ct_snapshot(ct, c, now32, &info) || !ct_filter_match(f, &info))
				continue;
			reported++;
			if (cb != NULL && cb(&info, arg) != 0)
				return reported;
		}
	}
	return reported;
}

static int
ct_count_cb(const struct sg_ct_conn_info *info, void *arg)
{
	uint64_t *counts = arg;

	counts[info->state]++;
	return 0;
}

void
sg_ct_count_by_state(struct sg_ct *ct, uint64_t now, uint64_t counts[SG_CT_ST_COUNT])
{
	memset(counts, 0, sizeof(uint64_t) * SG_CT_ST_COUNT);
	sg_ct_walk(ct, NULL, now, ct_count_cb, counts);
}

void
sg_ct_stats_get(const struct sg_ct *ct, struct sg_ct_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->entries = __atomic_load_n(&ct->n_live, __ATOMIC_RELAXED);
	st->capacity = ct->capacity;
	for (unsigned int i = 0; i < ct->n_workers; i++) {
		const struct ct_worker *w = &ct->workers[i];

		for (int r = 0; r < SG_CT_RESULT_COUNT; r++)
			st->results[r] += __atomic_load_n(&w->results[r], __ATOMIC_RELAXED);
		for (int r = 0; r < SG_DROP_COUNT; r++)
			st->invalid[r] += __atomic_load_n(&w->invalid[r], __ATOMIC_RELAXED);
		st->inserts += __atomic_load_n(&w->counters[CT_C_INSERTS], __ATOMIC_RELAXED);
		st->insert_races += __atomic_load_n(&w->counters[CT_C_INSERT_RACES],
				__ATOMIC_RELAXED);
		st->early_drops += __atomic_load_n(&w->counters[CT_C_EARLY_DROPS],
				__ATOMIC_RELAXED);
		st->share_refused += __atomic_load_n(&w->counters[CT_C_SHARE_REFUSED],
				__ATOMIC_RELAXED);
		st->table_full += __atomic_load_n(&w->counters[CT_C_TABLE_FULL], __ATOMIC_RELAXED);
		st->expired += __atomic_load_n(&w->counters[CT_C_EXPIRED], __ATOMIC_RELAXED);
		st->closed_lost += __atomic_load_n(&w->counters[CT_C_CLOSED_LOST],
				__ATOMIC_RELAXED);
	}
	st->populated[0] = __atomic_load_n(&ct->pool4.populated, __ATOMIC_RELAXED);
	st->populated[1] = __atomic_load_n(&ct->pool6.populated, __ATOMIC_RELAXED);
	st->populate_error = __atomic_load_n(&ct->populate_error, __ATOMIC_RELAXED);
}

double
sg_ct_bytes_per_conn(const struct sg_ct *ct, int family)
{
	double entry = family == SG_AF_INET6 ? sizeof(struct ct_conn6) : sizeof(struct ct_conn4);

	return entry + (double)ct->buckets_bytes / ct->capacity;
}

void
sg_ct_dump(const struct sg_ct *ct, FILE *f)
{
	struct sg_ct_stats st;

	sg_ct_stats_get(ct, &st);
	fprintf(f, "conntrack: %" PRIu64 "/%" PRIu64 " entries, %u buckets of %d slots\n",
			st.entries, st.capacity, ct->n_buckets, CT_BUCKET_SLOTS);
	fprintf(f, "  bytes per connection: IPv4 %.1f, IPv6 %.1f\n",
			sg_ct_bytes_per_conn(ct, SG_AF_INET), sg_ct_bytes_per_conn(ct, SG_AF_INET6));
	fprintf(f, "  inserts %" PRIu64 " races %" PRIu64 " early_drops %" PRIu64
			" share_refused %" PRIu64 " table_full %" PRIu64 " expired %" PRIu64 "\n",
			st.inserts, st.insert_races, st.early_drops, st.share_refused, st.table_full,
			st.expired);
	for (int r = 0; r < SG_CT_RESULT_COUNT; r++)
		fprintf(f, "  %-12s %" PRIu64 "\n", sg_ct_result_name(r), st.results[r]);
	for (int r = 0; r < SG_DROP_COUNT; r++)
		if (st.invalid[r] != 0)
			fprintf(f, "  invalid %-16s %" PRIu64 "\n", sg_drop_reason_name(r),
					st.invalid[r]);
}
