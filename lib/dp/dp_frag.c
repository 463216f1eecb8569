/* SPDX-License-Identifier: BSD-3-Clause */
/* Fragments (D12): the per-worker table that gives every later fragment the verdict and the
 * destination of its datagram's first fragment, with overlap detection and bounded memory.
 * The design is described in dp_frag.h and docs/architecture.md. */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_malloc.h>

#include "dp_worker.h"

static_assert(DP_FRAG_MAX_VPORTS == DP_MAX_VPORTS, "per-port fragment counts for every vport");

struct dp_frag_table *
dp_frag_table_create(void)
{
	struct dp_frag_table *t =
			rte_zmalloc("sg_dp_frags", sizeof(struct dp_frag_table), RTE_CACHE_LINE_SIZE);

	if (t != NULL && sg_hash_secret_random(&t->secret) < 0) {
		rte_free(t);
		return NULL;
	}
	return t;
}

void
dp_frag_table_free(struct dp_frag_table *t)
{
	if (t == NULL)
		return;
	for (uint16_t h = 0; h < t->n_held; h++)
		rte_pktmbuf_free(t->held[h].m);
	rte_free(t);
}

static inline bool
frag_live(const struct dp_frag *f, uint64_t now)
{
	return f->state != DP_FRAG_FREE && now < f->deadline;
}

/* An entry stops being used: its port gets the room back. */
static inline void
frag_release_entry(struct dp_frag_table *t, struct dp_frag *f)
{
	if (f->state != DP_FRAG_FREE && t->port_entries[f->key.in] != 0)
		t->port_entries[f->key.in]--;
	f->state = DP_FRAG_FREE;
}

/*
 * The live entry of 'key', or a fresh one (PENDING) when 'create'; NULL when there is none
 * ('*reason': FRAG_TABLE_FULL, or FRAG_PORT_LIMIT when the port holds its share).
 */
static struct dp_frag *
frag_find(struct dp_frag_table *t, const struct dp_frag_key *key, uint64_t now, bool create,
		enum sg_drop_reason *reason)
{
	struct dp_frag *bucket = &t->entries[dp_frag_bucket(t, key) * DP_FRAG_WAYS];
	struct dp_frag *spare = NULL;

	*reason = SG_DROP_FRAG_TABLE_FULL;
	for (int k = 0; k < DP_FRAG_WAYS; k++) {
		struct dp_frag *f = &bucket[k];

		if (!frag_live(f, now)) {
			/* An expired entry may still be referenced by a held fragment: its serial
			 * changes on reuse, so the fragment finds out. */
			if (spare == NULL && f->n_held == 0)
				spare = f;
			continue;
		}
		if (memcmp(&f->key, key, sizeof(*key)) == 0)
			return f;
	}
	if (!create || spare == NULL)
		return NULL;
	if (t->port_entries[key->in] >= DP_FRAG_PORT_ENTRIES) {
		*reason = SG_DROP_FRAG_PORT_LIMIT;
		return NULL;
	}
	frag_release_entry(t, spare);
	memset(spare, 0, sizeof(*spare));
	spare->key = *key;
	spare->state = DP_FRAG_PENDING;
	spare->serial = ++t->next_serial;
	spare->deadline = now + DP_FRAG_TIMEOUT_MS;
	t->port_entries[key->in]++;
	return spare;
}

/*
 * Record bytes [lo, hi) of the datagram, 'last' when no fragment follows. False when they
 * overlap what was seen, contradict the datagram's known end, or would need more ranges than
 * an entry holds: the datagram is then refused.
 */
static bool
frag_add_range(struct dp_frag *f, uint16_t lo, uint16_t hi, bool last)
{
	uint8_t n = f->n_ranges, k = 0;

	if (hi <= lo)
		return false;
	if (last) {
		if (f->have_last || (n != 0 && f->ranges[n - 1].hi > hi))
			return false;
		f->have_last = true;
		f->total = hi;
	} else if (f->have_last && hi >= f->total) {
		return false;
	}
	while (k < n && f->ranges[k].hi <= lo)
		k++;
	if (k < n && f->ranges[k].lo < hi)
		return false;
	/* Merge with the neighbours it touches, else insert. */
	if (k > 0 && f->ranges[k - 1].hi == lo) {
		f->ranges[k - 1].hi = hi;
		if (k < n && f->ranges[k].lo == hi) {
			f->ranges[k - 1].hi = f->ranges[k].hi;
			memmove(&f->ranges[k], &f->ranges[k + 1], (size_t)(n - k - 1) * sizeof(f->ranges[0]));
			f->n_ranges--;
		}
		return true;
	}
	if (k < n && f->ranges[k].lo == hi) {
		f->ranges[k].lo = lo;
		return true;
	}
	if (n == DP_FRAG_RANGES)
		return false;
	memmove(&f->ranges[k + 1], &f->ranges[k], (size_t)(n - k) * sizeof(f->ranges[0]));
	f->ranges[k].lo = lo;
	f->ranges[k].hi = hi;
	f->n_ranges++;
	return true;
}

static inline bool
frag_complete(const struct dp_frag *f)
{
	return f->have_last && f->n_ranges == 1 && f->ranges[0].lo == 0 &&
	       f->ranges[0].hi == f->total;
}

static inline void
frag_refuse(struct dp_frag *f, enum sg_drop_reason reason)
{
	f->state = DP_FRAG_DROP;
	f->reason = (uint8_t)reason;
}

enum sg_drop_reason
dp_frag_admit(struct dp_worker *w, uint16_t in, uint16_t i, uint32_t *slot)
{
	struct dp_frag_table *t = w->frags;
	const struct sg_pkt_meta *md = &w->meta[i];
	struct dp_frag_key key;
	enum sg_drop_reason full;
	struct dp_frag *f;

	dp_frag_key_of(md, in, &key);
	f = frag_find(t, &key, w->now_ms, true, &full);
	if (f == NULL)
		return full;
	*slot = (uint32_t)(f - t->entries);
	f->deadline = w->now_ms + DP_FRAG_TIMEOUT_MS;
	if (f->state == DP_FRAG_DROP)
		return (enum sg_drop_reason)f->reason;
	/* A datagram goes to one place: a fragment addressed elsewhere is inconsistent. */
	if (f->state == DP_FRAG_PASS && f->dst != w->dst[i]) {
		frag_refuse(f, SG_DROP_FRAG_OVERLAP);
		return SG_DROP_FRAG_OVERLAP;
	}
	if (!frag_add_range(f, md->frag_offset, (uint16_t)(md->frag_offset + md->frag_len),
			    !md->frag_more)) {
		frag_refuse(f, SG_DROP_FRAG_OVERLAP);
		return SG_DROP_FRAG_OVERLAP;
	}
	return SG_DROP_NONE;
}

/* Send fragments 'pkts' (all to 'dst'). */
static void
frag_send(struct dp_worker *w, const struct dp_gen *gen, struct dp_frag_pkt *pkts, uint16_t n)
{
	struct rte_mbuf *tx[SG_DP_MAX_BURST];

	for (uint16_t k = 0; k < n; k += SG_DP_MAX_BURST) {
		uint16_t m = (uint16_t)RTE_MIN(n - k, SG_DP_MAX_BURST);

		for (uint16_t j = 0; j < m; j++) {
			const struct dp_frag_pkt *p = &pkts[k + j];

			if (p->routed)
				dp_route_rewrite(p->m, p->l3, p->l2_len, gen->router_mac,
						gen->vports[p->dst].mac);
			tx[j] = p->m;
		}
		dp_tx(w, gen, pkts[k].dst, tx, m);
	}
}

/* Release fragment 'p' per its entry's verdict; false while the verdict is still pending. */
static bool
frag_release(struct dp_worker *w, const struct dp_gen *gen, const struct dp_frag_pkt *p,
		struct dp_frag_pkt *pass, uint16_t *n_pass)
{
	const struct dp_frag *f = &w->frags->entries[p->slot];
	enum sg_drop_reason reason;

	if (f->serial != p->serial || f->state == DP_FRAG_FREE)
		reason = SG_DROP_FRAG_UNMATCHED;
	else if (f->state == DP_FRAG_PENDING)
		return false;
	else if (f->state == DP_FRAG_DROP)
		reason = (enum sg_drop_reason)f->reason;
	else if (f->dst != p->dst)
		reason = SG_DROP_FRAG_OVERLAP;
	else
		reason = SG_DROP_NONE;
	if (reason == SG_DROP_NONE) {
		pass[(*n_pass)++] = *p;
	} else {
		dp_counters(gen, p->in, w->id)->drops[reason]++;
		rte_pktmbuf_free(p->m);
	}
	return true;
}

/* Send the passing fragments collected in 'pass', grouped by destination. */
static void
frag_send_all(struct dp_worker *w, const struct dp_gen *gen, struct dp_frag_pkt *pass, uint16_t n)
{
	uint16_t done = 0;

	while (done < n) {
		uint16_t dst = pass[done].dst, m = done;

		/* Move this destination's fragments to the front of the rest, keeping order. */
		for (uint16_t k = done; k < n; k++) {
			if (pass[k].dst == dst) {
				struct dp_frag_pkt p = pass[k];

				memmove(&pass[m + 1], &pass[m], (size_t)(k - m) * sizeof(p));
				pass[m++] = p;
			}
		}
		frag_send(w, gen, &pass[done], (uint16_t)(m - done));
		done = m;
	}
}

void
dp_frag_finish(struct dp_worker *w, const struct dp_gen *gen, uint16_t n_kept)
{
	struct dp_frag_table *t = w->frags;
	struct dp_frag_pkt pass[SG_DP_MAX_BURST + DP_FRAG_HOLD];
	uint16_t n_pass = 0, kept = 0;

	/* What happened to each first fragment decides its datagram. */
	for (uint16_t k = 0; w->n_first != 0 && k < n_kept; k++) {
		struct dp_frag *f;

		if (w->meta[k].frag != SG_FRAG_FIRST)
			continue;
		f = &t->entries[w->frag_slot[k]];
		w->n_first--;
		if (f->state != DP_FRAG_PENDING)
			continue; /* refused meanwhile by an overlapping fragment */
		if (w->why[k] == SG_DROP_NONE) {
			f->state = DP_FRAG_PASS;
			f->dst = w->dst[k];
		} else {
			frag_refuse(f, (enum sg_drop_reason)w->why[k]);
		}
	}
	/* Later fragments of this burst follow their datagram, or wait for it. */
	for (uint16_t k = 0; k < w->n_lf; k++) {
		struct dp_frag_pkt *p = &w->lf[k];
		struct dp_frag *f = &t->entries[p->slot];

		if (frag_release(w, gen, p, pass, &n_pass))
			continue;
		if (t->n_held == DP_FRAG_HOLD || t->port_held[p->in] >= DP_FRAG_PORT_HOLD) {
			dp_counters(gen, p->in, w->id)->drops[t->n_held == DP_FRAG_HOLD ?
							SG_DROP_FRAG_TABLE_FULL :
							SG_DROP_FRAG_PORT_LIMIT]++;
			rte_pktmbuf_free(p->m);
			continue;
		}
		p->deadline = w->now_ms + DP_FRAG_HOLD_MS;
		f->n_held++;
		t->port_held[p->in]++;
		t->held[t->n_held++] = *p;
	}
	w->n_lf = 0;
	/* Held fragments whose datagram was decided (or refused) by this burst. */
	for (uint16_t h = 0; h < t->n_held; h++) {
		struct dp_frag_pkt *p = &t->held[h];
		struct dp_frag *f = &t->entries[p->slot];

		if (f->serial == p->serial && f->state == DP_FRAG_PENDING) {
			t->held[kept++] = *p;
			continue;
		}
		if (f->serial == p->serial)
			f->n_held--;
		t->port_held[p->in]--;
		frag_release(w, gen, p, pass, &n_pass);
	}
	t->n_held = kept;
	frag_send_all(w, gen, pass, n_pass);
	/* A complete datagram needs its entry no more. */
	for (uint16_t k = 0; k < n_pass; k++) {
		struct dp_frag *f = &t->entries[pass[k].slot];

		if (f->serial == pass[k].serial && f->n_held == 0 && frag_complete(f))
			frag_release_entry(t, f);
	}
}

void
dp_frag_expire(struct dp_worker *w, const struct dp_gen *gen)
{
	struct dp_frag_table *t = w->frags;
	uint16_t kept = 0;

	for (uint16_t h = 0; h < t->n_held; h++) {
		struct dp_frag_pkt *p = &t->held[h];
		struct dp_frag *f = &t->entries[p->slot];

		if (w->now_ms < p->deadline) {
			t->held[kept++] = *p;
			continue;
		}
		/* Its first fragment never came: the datagram was never classified. */
		if (f->serial == p->serial)
			f->n_held--;
		t->port_held[p->in]--;
		dp_counters(gen, p->in, w->id)->drops[SG_DROP_FRAG_UNMATCHED]++;
		rte_pktmbuf_free(p->m);
	}
	t->n_held = kept;
}

void
dp_frag_flush(struct dp_worker *w, const struct dp_gen *gen)
{
	struct dp_frag_table *t = w->frags;

	/* Entries name vports of the old generation: forget them, and drop what was held,
	 * counted on its port if that port is still there. */
	for (uint16_t h = 0; h < t->n_held; h++) {
		const struct dp_frag_pkt *p = &t->held[h];

		for (uint16_t v = 0; v < gen->n_vports; v++)
			if (gen->vports[v].port->id == p->in_port)
				dp_counters(gen, v, w->id)->drops[SG_DROP_FRAG_UNMATCHED]++;
		rte_pktmbuf_free(p->m);
	}
	memset(t->entries, 0, sizeof(t->entries));
	memset(t->port_entries, 0, sizeof(t->port_entries));
	memset(t->port_held, 0, sizeof(t->port_held));
	t->n_held = 0;
	t->epoch = gen->epoch;
}

void
dp_frag_sweep(struct dp_worker *w)
{
	struct dp_frag_table *t = w->frags;

	for (unsigned int k = 0; k < DP_FRAG_SWEEP; k++) {
		struct dp_frag *f = &t->entries[t->sweep];

		t->sweep = (t->sweep + 1) % RTE_DIM(t->entries);
		if (f->state != DP_FRAG_FREE && !frag_live(f, w->now_ms) && f->n_held == 0)
			frag_release_entry(t, f);
	}
}
