/* SPDX-License-Identifier: BSD-3-Clause */
/* Ageing and deleting connections without stalling workers.
 *
 * Each worker ages the entries it created on a timer wheel of its own (VPP ages sessions on
 * the core that made them). Refreshing a connection only moves its deadline; the wheel is
 * lazy: when a slot's time has passed, each entry in it is either expired and deleted or put
 * back in the slot of its current deadline. sg_ct_expire() examines at most 'budget' entries
 * per call. Lookups treat an entry past its deadline as absent, so the sweep bounds memory,
 * not correctness.
 *
 * Deleting takes three steps, in the lock order of ct_private.h: mark the entry dead under
 * its lock (exactly one killer wins), remove it from the hash and its owner's wheel, then keep
 * its id in the killer's limbo until rte_rcu_qsbr says every worker has passed a quiescent
 * state, after which the memory goes back to the pool.
 */
#include <errno.h>

#include "ct_private.h"

/* Buckets probed for an early-drop victim, as netfilter's NF_CT_EVICTION_RANGE. */
#define CT_EVICTION_BUCKETS 8
/* Entries deleted per table-lock section of a sweep. */
#define CT_SWEEP_BATCH 64

static struct ct_body *
ct_body_id(struct sg_ct *ct, uint32_t id)
{
	struct sg_conn *c = ct_conn_of(ct, id);

	return (id & CT_ID_V6) ? &((struct ct_conn6 *)c)->body : &((struct ct_conn4 *)c)->body;
}

void
ct_wheel_link(struct ct_worker *w, struct sg_ct *ct, struct sg_conn *c, uint32_t id,
		uint64_t now)
{
	struct ct_body *b = ct_body(c);
	int32_t left = (int32_t)(c->deadline - (uint32_t)now);
	uint64_t tick = (left > 0 ? now + (uint64_t)left : now) >> CT_WHEEL_SHIFT;
	uint32_t slot;

	if (w->cur_tick == UINT64_MAX)
		w->cur_tick = now >> CT_WHEEL_SHIFT;
	if (tick < w->cur_tick)
		tick = w->cur_tick;
	slot = (uint32_t)(tick % CT_WHEEL_SLOTS);
	b->wheel_next = w->heads[slot];
	b->wheel_prev = CT_ID_HEAD | slot;
	if (w->heads[slot] != CT_ID_NIL)
		ct_body_id(ct, w->heads[slot])->wheel_prev = id;
	w->heads[slot] = id;
}

void
ct_wheel_unlink(struct sg_ct *ct, struct sg_conn *c)
{
	struct ct_worker *w = &ct->workers[c->owner];
	struct ct_body *b = ct_body(c);
	uint32_t next = b->wheel_next, prev = b->wheel_prev;

	if (prev == CT_ID_NIL)
		return;
	if (prev & CT_ID_HEAD)
		w->heads[prev & ~CT_ID_HEAD] = next;
	else
		ct_body_id(ct, prev)->wheel_next = next;
	if (next != CT_ID_NIL)
		ct_body_id(ct, next)->wheel_prev = prev;
	b->wheel_next = CT_ID_NIL;
	b->wheel_prev = CT_ID_NIL;
}

bool
ct_kill(struct sg_conn *c)
{
	bool killed = false;

	ct_conn_lock(c);
	if (!(c->flags & CT_F_DEAD)) {
		ct_flags_set(c, CT_F_DEAD, 0);
		killed = true;
	}
	ct_conn_unlock(c);
	return killed;
}

static bool
ct_of_port(const struct sg_conn *c, uint16_t port)
{
	const struct sg_ct_origin *o = &ct_body_const(c)->origin;

	return o->in_port == port || o->out_port == port;
}

uint64_t
sg_ct_forget_port(struct sg_ct *ct, uint16_t port)
{
	const struct ct_pool *pools[2] = {&ct->pool4, &ct->pool6};
	uint64_t forgotten = 0;

	for (int pi = 0; pi < 2; pi++) {
		uint32_t hi = __atomic_load_n(&pools[pi]->next_fresh, __ATOMIC_ACQUIRE);

		for (uint32_t idx = 1; idx < hi; idx++) {
			struct sg_conn *c = ct_conn_of(ct, pi == 1 ? idx | CT_ID_V6 : idx);
			struct sg_ct_origin *o;

			if ((ct_flags(c) & (CT_F_VALID | CT_F_DEAD)) != CT_F_VALID || !ct_of_port(c, port))
				continue;
			/* Entries leave the table (and their count) under the table lock, killed
			 * first: a live one seen under it is still counted under its in_port. */
			ct_spin_lock(&ct->table_lock);
			o = &ct_body(c)->origin;
			if ((ct_flags(c) & (CT_F_VALID | CT_F_DEAD)) == CT_F_VALID && ct_of_port(c, port)) {
				ct_port_count(ct, o->in_port, -1);
				__atomic_store_n(&o->in_port, SG_CT_NO_PORT, __ATOMIC_RELAXED);
				__atomic_store_n(&o->out_port, SG_CT_NO_PORT, __ATOMIC_RELAXED);
				forgotten++;
			}
			ct_spin_unlock(&ct->table_lock);
		}
	}
	return forgotten;
}

void
ct_delete_killed_locked(struct sg_ct *ct, struct ct_worker *w, struct sg_conn *c, uint32_t id)
{
	struct ct_worker *owner = &ct->workers[c->owner];

	ct_table_remove_locked(ct, c, id);
	ct_live_remove(ct, ct_body(c)->origin.in_port);
	ct_spin_lock(&owner->wheel_lock);
	ct_wheel_unlink(ct, c);
	ct_spin_unlock(&owner->wheel_lock);
	ct_report_closed(ct, w, &id, 1);
	ct_limbo_add(ct, w, &id, 1);
}

void
ct_report_closed(struct sg_ct *ct, struct ct_worker *w, const uint32_t *ids, unsigned int n)
{
	struct sg_ct_closed recs[CT_SWEEP_BATCH];
	unsigned int done = 0;

	if (w->closed == NULL)
		return;
	while (done < n) {
		unsigned int k = RTE_MIN(n - done, (unsigned int)RTE_DIM(recs)), sent;

		for (unsigned int i = 0; i < k; i++) {
			/* Dead, so no packet updates it any more; its memory waits in limbo. */
			struct sg_conn *c = ct_conn_of(ct, ids[done + i]);
			const struct ct_body *b = ct_body(c);

			sg_ct_conn_tuple(c, &recs[i].tuple);
			recs[i].origin = b->origin;
			recs[i].packets[0] = b->pkts[0];
			recs[i].packets[1] = b->pkts[1];
			recs[i].bytes[0] = b->bytes[0];
			recs[i].bytes[1] = b->bytes[1];
		}
		sent = rte_ring_enqueue_burst_elem(w->closed, recs, sizeof(recs[0]), k, NULL);
		if (sent < k)
			__atomic_store_n(&w->counters[CT_C_CLOSED_LOST],
					w->counters[CT_C_CLOSED_LOST] + (k - sent), __ATOMIC_RELAXED);
		/* Whose records they were: both ports' flow logs miss them. */
		for (unsigned int i = sent; i < k; i++) {
			uint16_t ports[2] = {recs[i].origin.in_port, recs[i].origin.out_port};

			for (int e = 0; e < 2; e++)
				if (ports[e] < SG_CT_MAX_PORTS)
					__atomic_store_n(&w->closed_lost_port[ports[e]],
							w->closed_lost_port[ports[e]] + 1,
							__ATOMIC_RELAXED);
		}
		done += k;
	}
}

/* ---- Limbo: deleted entries waiting for their grace period ---- */

bool
ct_limbo_has_room(const struct ct_worker *w, unsigned int n)
{
	return w->limbo_tail - w->limbo_head + n <= CT_LIMBO_SIZE;
}

void
ct_limbo_add(struct sg_ct *ct, struct ct_worker *w, const uint32_t *ids, unsigned int n)
{
	uint64_t token = rte_rcu_qsbr_start(ct->qsbr);

	for (unsigned int i = 0; i < n; i++) {
		struct ct_limbo_item *it = &w->limbo[w->limbo_tail++ % CT_LIMBO_SIZE];

		it->token = token;
		it->id = ids[i];
	}
}

unsigned int
ct_limbo_reclaim(struct sg_ct *ct, struct ct_worker *w)
{
	unsigned int total = 0;
	uint64_t passed = 0;
	bool any_passed = false;

	/* Released entries go to this worker's cache first: the next commits reuse them without
	 * the table lock; a full cache gives half back to the pool. */
	while (w->limbo_head != w->limbo_tail) {
		const struct ct_limbo_item *it = &w->limbo[w->limbo_head % CT_LIMBO_SIZE];

		/* Tokens only grow: one check covers every item of the same or older token. */
		if (!any_passed || it->token > passed) {
			if (rte_rcu_qsbr_check(ct->qsbr, it->token, false) != 1)
				break;
			passed = it->token;
			any_passed = true;
		}
		ct_worker_free(ct, w, it->id);
		w->limbo_head++;
		total++;
	}
	return total;
}

/* ---- Early drop (D13, docs/decisions.md) ---- */

static bool
ct_evictable(const struct sg_conn *c, uint32_t now32)
{
	return ct_expired(c, now32) || ct_proto_of(c->proto)->can_early_drop(c);
}

int
ct_early_drop_locked(struct sg_ct *ct, struct ct_worker *w, uint32_t hash, uint32_t now32,
		uint16_t only_port)
{
	uint32_t ids[CT_EVICTION_BUCKETS * CT_BUCKET_SLOTS];
	unsigned int n;
	struct sg_conn *best = NULL;
	uint32_t best_id = 0;
	int32_t best_left = INT32_MAX;

	if (!ct_limbo_has_room(w, 1))
		return -ENOSPC;
	n = ct_table_neighbours(ct, hash, CT_EVICTION_BUCKETS, ids, RTE_DIM(ids));
	/* The entry closest to its deadline among those that may go: expired ones first. */
	for (unsigned int i = 0; i < n; i++) {
		struct sg_conn *c = ct_conn_of(ct, ids[i]);
		int32_t left;

		if (ct_flags(c) & CT_F_DEAD || !ct_evictable(c, now32))
			continue;
		if (only_port != SG_CT_NO_PORT && ct_body(c)->origin.in_port != only_port)
			continue;
		left = (int32_t)(__atomic_load_n(&c->deadline, __ATOMIC_RELAXED) - now32);
		if (best == NULL || left < best_left) {
			best = c;
			best_id = ids[i];
			best_left = left;
		}
	}
	if (best == NULL)
		return -ENOSPC;
	/* Re-check under the entry lock: it may have become assured meanwhile. */
	ct_conn_lock(best);
	if ((best->flags & CT_F_DEAD) || !ct_evictable(best, now32)) {
		ct_conn_unlock(best);
		return -ENOSPC;
	}
	ct_flags_set(best, CT_F_DEAD, 0);
	ct_conn_unlock(best);
	ct_delete_killed_locked(ct, w, best, best_id);
	w->counters[CT_C_EARLY_DROPS]++;
	return 0;
}

/* ---- The sweep ---- */

/* Delete the killed entries 'ids' from the table; they are already off the wheel. */
static void
ct_sweep_delete(struct sg_ct *ct, struct ct_worker *w, const uint32_t *ids, unsigned int n)
{
	ct_spin_lock(&ct->table_lock);
	for (unsigned int i = 0; i < n; i++) {
		ct_table_remove_locked(ct, ct_conn_of(ct, ids[i]), ids[i]);
		ct_live_remove(ct, ct_body(ct_conn_of(ct, ids[i]))->origin.in_port);
	}
	ct_spin_unlock(&ct->table_lock);
	ct_report_closed(ct, w, ids, n);
	ct_limbo_add(ct, w, ids, n);
	__atomic_store_n(&w->counters[CT_C_EXPIRED], w->counters[CT_C_EXPIRED] + n,
			__ATOMIC_RELAXED);
}

unsigned int
sg_ct_expire(struct sg_ct *ct, unsigned int worker, unsigned int budget, uint64_t now)
{
	struct ct_worker *w = &ct->workers[worker];
	uint64_t now_tick = now >> CT_WHEEL_SHIFT;
	uint32_t now32 = (uint32_t)now;
	uint32_t ids[CT_SWEEP_BATCH];
	unsigned int n = 0, deleted = 0;

	ct_limbo_reclaim(ct, w);
	ct_spin_lock(&w->wheel_lock);
	if (w->cur_tick == UINT64_MAX)
		w->cur_tick = now_tick;
	/* After a long pause one revolution visits every slot: empty ones cost no budget, so
	 * this bounds them too. */
	if (now_tick > w->cur_tick + CT_WHEEL_SLOTS && w->heads[CT_WHEEL_PENDING] == CT_ID_NIL)
		w->cur_tick = now_tick - CT_WHEEL_SLOTS;
	while (budget > 0) {
		uint32_t id, slot;
		struct sg_conn *c;
		bool expired;

		if (w->heads[CT_WHEEL_PENDING] == CT_ID_NIL) {
			/* A slot is swept once its whole tick has passed. */
			if (w->cur_tick >= now_tick)
				break;
			slot = (uint32_t)(w->cur_tick % CT_WHEEL_SLOTS);
			id = w->heads[slot];
			w->heads[slot] = CT_ID_NIL;
			w->heads[CT_WHEEL_PENDING] = id;
			if (id != CT_ID_NIL)
				ct_body_id(ct, id)->wheel_prev = CT_ID_HEAD | CT_WHEEL_PENDING;
			w->cur_tick++;
			continue;
		}
		if (n == CT_SWEEP_BATCH || !ct_limbo_has_room(w, n + 1)) {
			if (n == 0)
				break;
			/* Flush outside the wheel lock: the table lock comes first in the order. */
			ct_spin_unlock(&w->wheel_lock);
			ct_sweep_delete(ct, w, ids, n);
			deleted += n;
			n = 0;
			ct_spin_lock(&w->wheel_lock);
			continue;
		}
		budget--;
		id = w->heads[CT_WHEEL_PENDING];
		c = ct_conn_of(ct, id);
		ct_wheel_unlink(ct, c);
		ct_conn_lock(c);
		if (c->flags & CT_F_DEAD) {
			/* Its killer removes it from the table. */
			ct_conn_unlock(c);
			continue;
		}
		expired = ct_expired(c, now32);
		if (expired)
			ct_flags_set(c, CT_F_DEAD, 0);
		ct_conn_unlock(c);
		if (expired)
			ids[n++] = id;
		else
			ct_wheel_link(w, ct, c, id, now);
	}
	ct_spin_unlock(&w->wheel_lock);
	if (n > 0) {
		ct_sweep_delete(ct, w, ids, n);
		deleted += n;
	}
	return deleted;
}
