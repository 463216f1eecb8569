/* SPDX-License-Identifier: BSD-3-Clause */
/* The connection table: a bucketized cuckoo hash (two candidate buckets of ten 6-byte slots
 * per key, one cache line each) over one canonical key per connection, the two entry pools
 * (IPv4, IPv6) it points into, and the key and tuple an entry holds.
 *
 * Readers never lock. A slot is published by writing its signature and then its id with a
 * release store; an entry is fully initialised before its id is published and is recycled
 * only after an RCU grace period, so a reader holding a stale id reads a dead entry, never
 * freed memory. A cuckoo move copies a slot to its other bucket, bumps 'tbl_chng' and then
 * clears the old slot; a reader that missed re-checks 'tbl_chng' and retries, the scheme of
 * rte_hash's lock-free mode. Writers hold ct->table_lock. Free ids sit in the pools' free
 * lists and, in front of them, in small per-worker caches that need no lock.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>

#include "ct_lookup.h"

/* Slots filled at most this share (per ten) of the table at full capacity. */
#define CT_LOAD_TENTHS 9
/* Buckets examined when looking for a cuckoo path. */
#define CT_BFS_NODES 256

/* mbind(2) policy: prefer the given node, fall back to others when it is full. */
#define CT_MPOL_PREFERRED 1

/* Linux 5.14: fault pages in writable without changing their contents (glibc 2.36 may lack
 * the name). */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
/* The populating thread's pauses: from 1 ms while pools grow, doubling to 64 ms while not. */
#define CT_POPULATE_NAP_MIN_US 1000
#define CT_POPULATE_NAP_MAX_US 64000
/* Committed in steps of whole transparent huge pages. */
#define CT_POPULATE_STEP ((size_t)2 << 20)

static void *
ct_map(size_t bytes, int socket_id)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Transparent huge pages cut TLB misses on a table of gigabytes; a hint only. */
	(void)madvise(p, bytes, MADV_HUGEPAGE);
	/* Pages are committed on first touch; ask for them on the workers' node. Without NUMA
	 * support the call fails and first-touch placement applies. */
	if (socket_id >= 0 && socket_id < 64) {
		unsigned long mask = 1UL << socket_id;

		(void)syscall(SYS_mbind, p, bytes, CT_MPOL_PREFERRED, &mask, 64UL, 0U);
	}
	return p;
}

static int
ct_pool_init(struct ct_pool *pool, uint32_t n_entries, uint32_t entry_size, int socket_id)
{
	pool->entry_size = entry_size;
	pool->n_entries = n_entries;
	pool->map_bytes = (size_t)n_entries * entry_size;
	pool->next_fresh = 1;
	pool->free_head = 0;
	pool->base = ct_map(pool->map_bytes, socket_id);
	return pool->base == NULL ? -ENOMEM : 0;
}

int
ct_table_init(struct sg_ct *ct, const struct sg_ct_params *p)
{
	uint64_t n_buckets = ((uint64_t)p->capacity + CT_LOAD_TENTHS - 1) / CT_LOAD_TENTHS;
	/* Live entries, those waiting in limbo and those in the workers' caches. */
	uint64_t n_pool = (uint64_t)p->capacity +
			(uint64_t)p->n_workers * (CT_LIMBO_SIZE + CT_ID_CACHE) + 1;

	if (n_pool >= CT_ID_V6)
		return -EINVAL;
	ct->n_buckets = (uint32_t)RTE_MAX(n_buckets, 2u);
	ct->buckets_bytes = (size_t)ct->n_buckets * sizeof(struct ct_bucket);
	ct->buckets = ct_map(ct->buckets_bytes, p->socket_id);
	if (ct->buckets == NULL)
		return -ENOMEM;
	if (ct_pool_init(&ct->pool4, (uint32_t)n_pool, sizeof(struct ct_conn4), p->socket_id) != 0 ||
			ct_pool_init(&ct->pool6, (uint32_t)n_pool, sizeof(struct ct_conn6), p->socket_id) != 0)
		return -ENOMEM;
	return 0;
}

void
ct_table_fini(struct sg_ct *ct)
{
	if (ct->buckets != NULL)
		munmap(ct->buckets, ct->buckets_bytes);
	if (ct->pool4.base != NULL)
		munmap(ct->pool4.base, ct->pool4.map_bytes);
	if (ct->pool6.base != NULL)
		munmap(ct->pool6.base, ct->pool6.map_bytes);
}

/* ---- Committing memory ahead of use ---- */

/*
 * A connection's entry is the pool's next fresh one until the pool has handed out all of
 * them once, so under a stream of new connections the workers would keep touching memory
 * never touched before: every 4 KiB (or 2 MiB, transparent huge page) a page fault and the
 * kernel clearing the page, inside a worker's burst (measured: a third of the time of a
 * stream of connection lifecycles). MADV_POPULATE_WRITE commits pages without writing to
 * them, so it may run while workers fill the same pages.
 */
static int
ct_populate(uint8_t *base, size_t from, size_t to)
{
	if (to <= from)
		return 0;
	if (madvise(base + from, to - from, MADV_POPULATE_WRITE) != 0)
		return errno;
	return 0;
}

/* Commit 'pool' up to its used bytes plus 'ahead' (a whole step at least); a 'lazy' pool only
 * once its first entry was handed out. Returns whether anything was committed, or a negative
 * errno. */
static int
ct_pool_populate(struct ct_pool *pool, size_t ahead, bool lazy)
{
	uint32_t next = __atomic_load_n(&pool->next_fresh, __ATOMIC_ACQUIRE);
	size_t used = (size_t)next * pool->entry_size;
	size_t target = RTE_MIN(RTE_ALIGN_CEIL(used + ahead, CT_POPULATE_STEP), pool->map_bytes);
	size_t done = pool->populated;
	int err;

	/* Index 0 is never handed out: next_fresh starts at 1. */
	if (target <= done || (lazy && next <= 1))
		return 0;
	err = ct_populate(pool->base, done, target);
	if (err != 0)
		return -err;
	__atomic_store_n(&pool->populated, target, __ATOMIC_RELAXED);
	return 1;
}

static void *
ct_populator_main(void *arg)
{
	struct sg_ct *ct = arg;
	unsigned int nap = CT_POPULATE_NAP_MIN_US;
	bool done4 = false, done6 = false;

	while (!__atomic_load_n(&ct->populate_quit, __ATOMIC_ACQUIRE) && !(done4 && done6)) {
		int r4 = done4 ? 0 : ct_pool_populate(&ct->pool4, ct->populate_ahead, false);
		int r6 = done6 ? 0 : ct_pool_populate(&ct->pool6, ct->populate_ahead, true);
		struct timespec ts;

		/* Out of memory, or a kernel without MADV_POPULATE_WRITE: that pool is left to
		 * the workers' first touch, as without the thread; the other goes on (the IPv6
		 * pool's first commit comes late, with its first connection). */
		if (r4 < 0 || r6 < 0) {
			__atomic_store_n(&ct->populate_error, -(r4 < 0 ? r4 : r6), __ATOMIC_RELAXED);
			done4 |= r4 < 0;
			done6 |= r6 < 0;
		}
		nap = r4 > 0 || r6 > 0 ? CT_POPULATE_NAP_MIN_US
				       : RTE_MIN(nap * 2, (unsigned int)CT_POPULATE_NAP_MAX_US);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)nap * 1000;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int
ct_table_populate_start(struct sg_ct *ct, size_t ahead)
{
	int rc;

	if (ahead == 0)
		return 0;
	ct->populate_ahead = ahead;
	/* Every bucket is as likely to be written as any other: all of them, now. Then the
	 * first stretch of the IPv4 pool, so the first connections find it committed too; the
	 * IPv6 pool's once it is used, so an IPv4-only host does not pay for it. */
	rc = ct_populate((uint8_t *)ct->buckets, 0, ct->buckets_bytes);
	if (rc == 0)
		rc = -RTE_MIN(ct_pool_populate(&ct->pool4, ahead, false), 0);
	if (rc != 0) {
		/* Not fatal: the table works with memory committed on first touch. */
		ct->populate_error = rc;
		return 0;
	}
	/* Under the EAL, a control thread: on the CPUs no lcore runs on (the main lcore's when
	 * there are none), never a worker's. Without it (tests), the caller's CPUs. */
	if (rte_lcore_count() > 0) {
		rc = rte_ctrl_thread_create(&ct->populator, "sg-ct-populate", NULL,
				ct_populator_main, ct);
	} else {
		rc = pthread_create(&ct->populator, NULL, ct_populator_main, ct);
		if (rc == 0)
			(void)pthread_setname_np(ct->populator, "sg-ct-populate");
	}
	if (rc != 0)
		return rc < 0 ? rc : -rc;
	ct->populating = true;
	return 0;
}

void
ct_table_populate_stop(struct sg_ct *ct)
{
	if (!ct->populating)
		return;
	__atomic_store_n(&ct->populate_quit, true, __ATOMIC_RELEASE);
	pthread_join(ct->populator, NULL);
	ct->populating = false;
}

/* ---- Keys ---- */

void
ct_key_of_conn(const struct sg_conn *c, struct ct_key *k)
{
	memset(k, 0, sizeof(*k));
	k->proto = c->proto;
	k->port[0] = c->port[0];
	k->port[1] = c->port[1];
	if (c->flags & CT_F_V6) {
		k->family = SG_AF_INET6;
		memcpy(k->addr.v6, ((const struct ct_conn6 *)c)->addr, 32);
	} else {
		const struct ct_conn4 *c4 = (const struct ct_conn4 *)c;

		k->family = SG_AF_INET;
		k->addr.v4[0] = c4->addr[0];
		k->addr.v4[1] = c4->addr[1];
	}
}

void
sg_ct_conn_tuple(const struct sg_conn *c, struct sg_ct_tuple *t)
{
	struct ct_key k;
	int s = (c->flags & CT_F_ORIG_LO) ? 0 : 1;
	size_t alen;

	ct_key_of_conn(c, &k);
	memset(t, 0, sizeof(*t));
	alen = k.family == SG_AF_INET ? 4 : 16;
	t->src.family = t->dst.family = k.family;
	if (k.family == SG_AF_INET) {
		memcpy(t->src.bytes, &k.addr.v4[s], alen);
		memcpy(t->dst.bytes, &k.addr.v4[!s], alen);
	} else {
		memcpy(t->src.bytes, k.addr.v6[s], alen);
		memcpy(t->dst.bytes, k.addr.v6[!s], alen);
	}
	t->sport = k.port[s];
	t->dport = k.port[!s];
	t->proto = k.proto;
}

uint32_t
ct_id_of(const struct sg_ct *ct, const struct sg_conn *c)
{
	if (c->flags & CT_F_V6)
		return (uint32_t)(((const uint8_t *)c - ct->pool6.base) / sizeof(struct ct_conn6)) |
				CT_ID_V6;
	return (uint32_t)(((const uint8_t *)c - ct->pool4.base) / sizeof(struct ct_conn4));
}

/* ---- Lookup ---- */

struct sg_conn *
ct_table_lookup_locked(const struct sg_ct *ct, const struct ct_key *k, uint32_t hash,
		uint32_t *id)
{
	uint32_t b1, b2;
	uint16_t sig = ct_sig(hash);
	struct sg_conn *c;

	ct_buckets_of(ct, hash, &b1, &b2);
	c = ct_bucket_search(ct, &ct->buckets[b1], sig, k, id);
	if (c == NULL)
		c = ct_bucket_search(ct, &ct->buckets[b2], sig, k, id);
	return c;
}

/* ---- Insert and remove (table lock held) ---- */

static inline void
ct_slot_set(struct ct_bucket *b, unsigned int slot, uint16_t sig, uint32_t id)
{
	__atomic_store_n(&b->sig[slot], sig, __ATOMIC_RELAXED);
	__atomic_store_n(&b->id[slot], id, __ATOMIC_RELEASE);
}

static int
ct_bucket_free_slot(const struct ct_bucket *b)
{
	for (unsigned int i = 0; i < CT_BUCKET_SLOTS; i++)
		if (b->id[i] == 0)
			return (int)i;
	return -1;
}

/* The other candidate bucket of the entry in 'bucket'. */
static uint32_t
ct_alt_bucket(const struct sg_ct *ct, uint32_t id, uint32_t bucket)
{
	struct ct_key k;
	uint32_t b1, b2;

	ct_key_of_conn(ct_conn_of(ct, id), &k);
	ct_buckets_of(ct, ct_key_hash(ct, &k), &b1, &b2);
	return bucket == b1 ? b2 : b1;
}

/* Move the occupant of from[fslot] to to[tslot], which is empty. */
static void
ct_slot_move(struct sg_ct *ct, struct ct_bucket *from, unsigned int fslot, struct ct_bucket *to,
		unsigned int tslot)
{
	ct_slot_set(to, tslot, from->sig[fslot], from->id[fslot]);
	/* Readers that miss the entry in both buckets during the move see the counter change. */
	__atomic_fetch_add(&ct->tbl_chng, 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&from->id[fslot], 0, __ATOMIC_RELEASE);
}

struct ct_bfs_node {
	uint32_t bucket;
	int16_t parent;
	uint8_t pslot;  /* Slot of the parent's bucket whose occupant moves into this bucket. */
};

/* A path must not pass a bucket twice, or one move would undo another. */
static bool
ct_bfs_on_path(const struct ct_bfs_node *q, unsigned int n, uint32_t bucket)
{
	for (int i = (int)n; i >= 0; i = q[i].parent)
		if (q[i].bucket == bucket)
			return true;
	return false;
}

/* Free a slot in b1 or b2 by moving entries along a cuckoo path. Returns the bucket and slot
 * freed, or -1. */
static int
ct_cuckoo_make_room(struct sg_ct *ct, uint32_t b1, uint32_t b2, uint32_t *bucket)
{
	struct ct_bfs_node q[CT_BFS_NODES];
	unsigned int head = 0, tail = 0;

	q[tail++] = (struct ct_bfs_node){ .bucket = b1, .parent = -1 };
	q[tail++] = (struct ct_bfs_node){ .bucket = b2, .parent = -1 };
	while (head < tail) {
		unsigned int cur = head++;
		struct ct_bucket *b = &ct->buckets[q[cur].bucket];

		for (unsigned int s = 0; s < CT_BUCKET_SLOTS; s++) {
			uint32_t alt = ct_alt_bucket(ct, b->id[s], q[cur].bucket);
			int e = ct_bucket_free_slot(&ct->buckets[alt]);

			if (e >= 0) {
				/* Walk the path back to a root, moving each occupant forward. */
				unsigned int n = cur, slot = s;
				uint32_t to = alt;
				unsigned int tslot = (unsigned int)e;

				for (;;) {
					ct_slot_move(ct, &ct->buckets[q[n].bucket], slot,
							&ct->buckets[to], tslot);
					if (q[n].parent < 0)
						break;
					to = q[n].bucket;
					tslot = slot;
					slot = q[n].pslot;
					n = (unsigned int)q[n].parent;
				}
				*bucket = q[n].bucket;
				return (int)slot;
			}
			if (tail < CT_BFS_NODES && !ct_bfs_on_path(q, cur, alt))
				q[tail++] = (struct ct_bfs_node){ .bucket = alt, .parent = (int16_t)cur,
					.pslot = (uint8_t)s };
		}
	}
	return -1;
}

int
ct_table_insert_locked(struct sg_ct *ct, const struct ct_key *k, uint32_t hash, uint32_t id)
{
	uint32_t b1, b2, b;
	int slot;

	(void)k;
	ct_buckets_of(ct, hash, &b1, &b2);
	slot = ct_bucket_free_slot(&ct->buckets[b1]);
	b = b1;
	if (slot < 0) {
		slot = ct_bucket_free_slot(&ct->buckets[b2]);
		b = b2;
	}
	if (slot < 0)
		slot = ct_cuckoo_make_room(ct, b1, b2, &b);
	if (slot < 0)
		return -ENOSPC;
	ct_slot_set(&ct->buckets[b], (unsigned int)slot, ct_sig(hash), id);
	return 0;
}

void
ct_table_remove_locked(struct sg_ct *ct, struct sg_conn *c, uint32_t id)
{
	struct ct_key k;
	uint32_t b[2];

	ct_key_of_conn(c, &k);
	ct_buckets_of(ct, ct_key_hash(ct, &k), &b[0], &b[1]);
	for (int i = 0; i < 2; i++) {
		struct ct_bucket *bk = &ct->buckets[b[i]];

		for (unsigned int s = 0; s < CT_BUCKET_SLOTS; s++) {
			if (bk->id[s] == id) {
				__atomic_store_n(&bk->id[s], 0, __ATOMIC_RELEASE);
				return;
			}
		}
	}
}

/* Candidate ids near 'hash' for early drop: every slot of 'n_buckets' buckets from b1. */
unsigned int
ct_table_neighbours(const struct sg_ct *ct, uint32_t hash, unsigned int n_buckets, uint32_t *ids,
		unsigned int max)
{
	uint32_t b1, b2, b;
	unsigned int n = 0;

	ct_buckets_of(ct, hash, &b1, &b2);
	for (unsigned int i = 0; i < n_buckets; i++) {
		/* The key's two buckets first, then those after b1. */
		b = i == 0 ? b1 : i == 1 ? b2 : (uint32_t)((b1 + i - 1) % ct->n_buckets);
		for (unsigned int s = 0; s < CT_BUCKET_SLOTS && n < max; s++)
			if (ct->buckets[b].id[s] != 0)
				ids[n++] = ct->buckets[b].id[s];
	}
	return n;
}

/* ---- Pools (table lock held) ---- */

static struct ct_body *
ct_pool_body(struct sg_ct *ct, uint32_t id)
{
	if (id & CT_ID_V6)
		return &((struct ct_conn6 *)ct_conn_of(ct, id))->body;
	return &((struct ct_conn4 *)ct_conn_of(ct, id))->body;
}

uint32_t
ct_pool_alloc_locked(struct sg_ct *ct, bool v6)
{
	struct ct_pool *pool = v6 ? &ct->pool6 : &ct->pool4;
	uint32_t idx, id;

	if (pool->free_head != 0) {
		idx = pool->free_head;
		id = v6 ? idx | CT_ID_V6 : idx;
		pool->free_head = ct_pool_body(ct, id)->wheel_next;
		return id;
	}
	if (pool->next_fresh >= pool->n_entries)
		return 0;
	idx = pool->next_fresh;
	/* Walks read the high-water mark without the lock. */
	__atomic_store_n(&pool->next_fresh, idx + 1, __ATOMIC_RELEASE);
	return v6 ? idx | CT_ID_V6 : idx;
}

void
ct_pool_free_locked(struct sg_ct *ct, uint32_t id)
{
	struct ct_pool *pool = (id & CT_ID_V6) ? &ct->pool6 : &ct->pool4;
	struct sg_conn *c = ct_conn_of(ct, id);

	__atomic_store_n(&c->flags, 0, __ATOMIC_RELEASE);
	ct_pool_body(ct, id)->wheel_next = pool->free_head;
	pool->free_head = CT_ID_INDEX(id);
}

uint32_t
ct_worker_alloc(struct sg_ct *ct, struct ct_worker *w, bool v6)
{
	struct ct_id_cache *cache = &w->free_ids[v6];

	if (cache->n == 0) {
		ct_spin_lock(&ct->table_lock);
		while (cache->n < CT_ID_CACHE / 2) {
			uint32_t id = ct_pool_alloc_locked(ct, v6);

			if (id == 0)
				break;
			cache->ids[cache->n++] = id;
		}
		ct_spin_unlock(&ct->table_lock);
		if (cache->n == 0)
			return 0;
	}
	return cache->ids[--cache->n];
}

void
ct_worker_free(struct sg_ct *ct, struct ct_worker *w, uint32_t id)
{
	struct ct_id_cache *cache = &w->free_ids[(id & CT_ID_V6) != 0];

	__atomic_store_n(&ct_conn_of(ct, id)->flags, 0, __ATOMIC_RELEASE);
	if (cache->n == CT_ID_CACHE) {
		/* Half back to the pool, so that a worker that frees more than it allocates does
		 * not hold what the others need. */
		ct_spin_lock(&ct->table_lock);
		while (cache->n > CT_ID_CACHE / 2)
			ct_pool_free_locked(ct, cache->ids[--cache->n]);
		ct_spin_unlock(&ct->table_lock);
	}
	cache->ids[cache->n++] = id;
}
