/* SPDX-License-Identifier: BSD-3-Clause */
/* The flow-log aggregator: events and connection counters summed per (port, direction, 5-tuple,
 * action, rule) over a window, then written as the window's lines to files rotated by size and
 * age. Runs on one thread (the writer); nothing here is on the datapath.
 *
 * Accepted traffic comes from the connection tracker: each connection is reported live at the
 * end of every window (a walk) and once more when the tracker deletes it, and the aggregator
 * logs what was added since the previous report. It remembers each connection's last counters
 * in a table of its own, so the tracker's lifetime counters stay as they are. Refused packets
 * come one by one as events. A connection yields up to four lines per window: its sender's
 * egress and its receiver's ingress for the original direction, and the reverse pair for
 * replies; each names the rule of that port's policy that admitted the connection. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sg_flowlog.h"
#include "sg_hash.h"

#define EPOCHS_KEPT 64

/* ---- Names of one policy epoch ---- */

struct fl_port {
	char name[SG_NAME_MAX];
	uint8_t traffic;           /* SG_FLOWLOG_* of the port (VM ports only). */
	bool vm;
};

struct fl_epoch {
	uint32_t epoch;
	bool used;
	struct fl_port *ports;     /* By port id; unused ids have an empty name. */
	uint32_t n_ports;          /* Ids 0..n_ports-1. */
	struct sg_flowlog_rule_ref *rules;
	uint32_t n_rules;
};

/* ---- Open-addressing tables ----
 *
 * Linear probing over slots of [32-bit tag | key | value]; tag 0 is an empty slot. Keys are
 * fixed-size, zero-padded structs compared with memcmp. Deletion shifts the rest of the cluster
 * back (no tombstones). */

struct fl_table {
	uint8_t *slots;
	uint32_t mask;
	uint32_t n;
	uint32_t max;              /* Entries allowed (half the slots). */
	uint32_t key_size;
	uint32_t val_off;
	uint32_t slot_size;
	uint32_t *order;           /* Occupied slots in insertion order (tables without delete). */
	/* Keys come from packets: a keyed hash (sg_hash.h), so no sender can line its flows up
	 * into one long probe sequence that the writer then walks for every record. */
	struct sg_hash_secret secret;
};

/* What a window sums: one line. */
struct agg_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t epoch;
	uint32_t rule;
	uint16_t sport;
	uint16_t dport;
	uint16_t port;
	uint8_t family;
	uint8_t proto;
	uint8_t dir;
	uint8_t action;
	uint8_t pad[2];
};

struct agg_val {
	uint64_t packets;
	uint64_t bytes;
	uint8_t flags;
};

/* A connection followed across windows: its counters at the last report. */
struct conn_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
	uint16_t in_port;
	uint16_t out_port;
	uint8_t family;
	uint8_t proto;
	uint8_t pad[2];
};

struct conn_val {
	uint64_t bytes[2];
	uint32_t packets[2];
	uint32_t seen;             /* Walk that last reported it. */
	uint8_t missed;            /* Missing from the previous walk. */
};

struct sg_flowlog {
	struct sg_flowlog_params p;
	char directory[SG_PATH_MAX];
	struct fl_epoch epochs[EPOCHS_KEPT];
	int newest;                /* Index in epochs[], -1 before the first. */
	struct fl_table agg;
	struct fl_table conns;
	uint32_t walk;
	uint64_t window_lost;
	/* By port id, in the open window: lines it has, and records of it lost. */
	uint32_t *port_lines;
	uint64_t *port_lost;
	FILE *file;
	char file_path[SG_PATH_MAX * 2];
	int64_t file_start;
	uint64_t file_bytes;
	struct sg_flowlog_stats st;
};

static uint32_t
table_hash(const struct fl_table *t, const void *key)
{
	return sg_hash_keyed(&t->secret, key, t->key_size) | 1u; /* never 0: an empty slot */
}

static int
table_init(struct fl_table *t, uint32_t max, size_t key_size, size_t val_size, bool ordered)
{
	uint32_t slots = 16;

	while (slots < max * 2u)
		slots <<= 1;
	memset(t, 0, sizeof(*t));
	t->key_size = (uint32_t)key_size;
	t->val_off = (uint32_t)((4 + key_size + 7) & ~(size_t)7);
	t->slot_size = (uint32_t)((t->val_off + val_size + 7) & ~(size_t)7);
	t->mask = slots - 1;
	t->max = max;
	if (key_size > SG_HASH_MAX_KEY || sg_hash_secret_random(&t->secret) < 0)
		return -EINVAL;
	/* calloc of this size maps zero pages lazily: memory is used as flows come. */
	t->slots = calloc(slots, t->slot_size);
	if (t->slots == NULL)
		return -ENOMEM;
	if (ordered && (t->order = calloc(max + 1u, sizeof(*t->order))) == NULL)
		return -ENOMEM;
	return 0;
}

static void
table_free(struct fl_table *t)
{
	free(t->slots);
	free(t->order);
}

static inline uint8_t *
slot_at(const struct fl_table *t, uint32_t i)
{
	return t->slots + (size_t)i * t->slot_size;
}

static inline uint32_t
slot_tag(const struct fl_table *t, uint32_t i)
{
	uint32_t tag;

	memcpy(&tag, slot_at(t, i), 4);
	return tag;
}

static inline void *
slot_val(const struct fl_table *t, uint32_t i)
{
	return slot_at(t, i) + t->val_off;
}

/* The slot holding 'key', or the empty slot where it would go. */
static uint32_t
table_find(const struct fl_table *t, const void *key, uint32_t h, bool *found)
{
	uint32_t i = h & t->mask;

	for (;;) {
		uint32_t tag = slot_tag(t, i);

		if (tag == 0) {
			*found = false;
			return i;
		}
		if (tag == h && memcmp(slot_at(t, i) + 4, key, t->key_size) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & t->mask;
	}
}

/* Value of 'key', inserted zeroed if new; NULL when the table is full. */
static void *
table_get(struct fl_table *t, const void *key, bool *created)
{
	uint32_t h = table_hash(t, key);
	bool found;
	uint32_t i = table_find(t, key, h, &found);

	*created = !found;
	if (found)
		return slot_val(t, i);
	if (t->n >= t->max)
		return NULL;
	memcpy(slot_at(t, i), &h, 4);
	memcpy(slot_at(t, i) + 4, key, t->key_size);
	memset(slot_val(t, i), 0, t->slot_size - t->val_off);
	if (t->order != NULL)
		t->order[t->n] = i;
	t->n++;
	return slot_val(t, i);
}

static void *
table_lookup(const struct fl_table *t, const void *key)
{
	bool found;
	uint32_t i = table_find(t, key, table_hash(t, key), &found);

	return found ? slot_val(t, i) : NULL;
}

/* Remove 'key' and shift the rest of its cluster back so probes never stop early. */
static void
table_delete(struct fl_table *t, const void *key)
{
	uint32_t h = table_hash(t, key);
	bool found;
	uint32_t i = table_find(t, key, h, &found), j = i;

	if (!found)
		return;
	for (;;) {
		uint32_t home, tag;

		memset(slot_at(t, i), 0, 4);
		for (;;) {
			j = (j + 1) & t->mask;
			tag = slot_tag(t, j);
			if (tag == 0)
				goto done;
			home = tag & t->mask;
			/* Move j back to i unless its home lies cyclically in (i, j]. */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			break;
		}
		memcpy(slot_at(t, i), slot_at(t, j), t->slot_size);
		i = j;
	}
done:
	t->n--;
}

static void
table_clear(struct fl_table *t)
{
	for (uint32_t k = 0; k < t->n; k++)
		memset(slot_at(t, t->order[k]), 0, 4);
	t->n = 0;
}

/* ---- Epochs ---- */

static void
epoch_clear(struct fl_epoch *e)
{
	free(e->ports);
	free(e->rules);
	memset(e, 0, sizeof(*e));
}

static const struct fl_epoch *
find_epoch(const struct sg_flowlog *fl, uint32_t epoch)
{
	for (int k = 0; k < EPOCHS_KEPT; k++) {
		const struct fl_epoch *e = &fl->epochs[(fl->newest - k + EPOCHS_KEPT) % EPOCHS_KEPT];

		if (fl->newest < 0 || !e->used)
			break;
		if (e->epoch == epoch)
			return e;
	}
	return NULL;
}

static const struct fl_port *
epoch_port(const struct fl_epoch *e, uint16_t id)
{
	if (e == NULL || id >= e->n_ports || e->ports[id].name[0] == '\0')
		return NULL;
	return &e->ports[id];
}

/* Rule ids to log names, from the merged lists (every id a port can hit is in one). */
static int
build_rules(struct fl_epoch *e, const struct sg_conf *conf)
{
	const struct sg_policy *policy = conf->policy;
	const struct sg_spec *spec = sg_policy_spec(policy);
	/* Config positions of each written group's compiled rules, found once per group. */
	uint32_t **positions = calloc(conf->spec->n_groups + 1u, sizeof(*positions));
	int rc = 0;

	e->n_rules = sg_policy_rule_count(policy);
	e->rules = calloc(e->n_rules + 1u, sizeof(*e->rules));
	if (e->rules == NULL || positions == NULL) {
		free(positions);
		return -ENOMEM;
	}
	for (uint32_t g = 0; g < conf->spec->n_groups && rc >= 0; g++) {
		const struct sg_group *group = &conf->spec->groups[g];

		positions[g] = malloc((group->n_rules + 1u) * sizeof(**positions));
		rc = positions[g] == NULL ? -ENOMEM : sg_group_unique_rules(group, positions[g]);
	}
	for (uint32_t p = 0; p < spec->n_ports && rc >= 0; p++) {
		for (int d = 0; d < SG_DIR_COUNT; d++) {
			const struct sg_eff_rule *eff;
			uint32_t n = sg_policy_effective(policy, p, (enum sg_dir)d, &eff);

			for (uint32_t i = 0; i < n; i++) {
				struct sg_flowlog_rule_ref *r = &e->rules[eff[i].id];

				if (eff[i].id >= e->n_rules || r->kind != SG_FLOWLOG_RULE_NONE)
					continue;
				switch (eff[i].origin) {
				case SG_ORIGIN_RULE: {
					const char *gid = spec->groups[eff[i].group].id;
					int raw = sg_spec_find_group(conf->spec, gid);

					r->kind = SG_FLOWLOG_RULE_USER;
					sg_strlcpy(r->group, gid, sizeof(r->group));
					r->index = raw < 0 ? eff[i].rule + 1 : positions[raw][eff[i].rule] + 1;
					break;
				}
				case SG_ORIGIN_INNER:
					r->kind = SG_FLOWLOG_RULE_INNER;
					sg_strlcpy(r->group, spec->groups[eff[i].group].id, sizeof(r->group));
					break;
				default:
					r->kind = SG_FLOWLOG_RULE_DEFAULT;
					r->type = sg_policy_port_type(policy, p);
					r->dir = (enum sg_dir)d;
				}
			}
		}
	}
	for (uint32_t g = 0; g < conf->spec->n_groups; g++)
		free(positions[g]);
	free(positions);
	return rc < 0 ? rc : 0;
}

int
sg_flowlog_set_epoch(struct sg_flowlog *fl, uint32_t epoch, const struct sg_conf *conf,
		const uint16_t *port_ids)
{
	int slot = (fl->newest + 1) % EPOCHS_KEPT;
	struct fl_epoch *e = &fl->epochs[slot];
	uint32_t max_id = 0;

	epoch_clear(e);
	for (uint32_t i = 0; i < conf->n_ports; i++)
		if (port_ids[i] != SG_FLOWLOG_NO_PORT)
			max_id = SG_MAX(max_id, (uint32_t)port_ids[i] + 1);
	e->ports = calloc(max_id + 1u, sizeof(*e->ports));
	if (e->ports == NULL || build_rules(e, conf) < 0) {
		epoch_clear(e);
		return -ENOMEM;
	}
	e->n_ports = max_id;
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		struct fl_port *p;
		int vm;

		if (port_ids[i] == SG_FLOWLOG_NO_PORT)
			continue;
		p = &e->ports[port_ids[i]];
		sg_strlcpy(p->name, conf->ports[i].name, sizeof(p->name));
		vm = conf->ports[i].uplink ? -1 : sg_policy_find_port(conf->policy, conf->ports[i].name);
		p->vm = vm >= 0;
		p->traffic = vm >= 0 ? sg_conf_flowlog_traffic(conf, (uint32_t)vm) : 0;
	}
	e->epoch = epoch;
	e->used = true;
	fl->newest = slot;
	return 0;
}

/* ---- Creation ---- */

static int
mkdir_p(const char *path)
{
	char buf[SG_PATH_MAX];

	if (sg_strlcpy(buf, path, sizeof(buf)) < 0)
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0750) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

struct sg_flowlog *
sg_flowlog_create(const struct sg_flowlog_params *p, struct sg_error *err)
{
	struct sg_flowlog *fl;
	int rc;

	if (p == NULL || p->directory == NULL || p->max_flows == 0 || p->max_file_bytes == 0 ||
			p->max_file_age == 0) {
		sg_error_set(err, 0, "flow logs: bad parameters");
		errno = EINVAL;
		return NULL;
	}
	fl = calloc(1, sizeof(*fl));
	if (fl == NULL)
		goto nomem;
	fl->p = *p;
	fl->newest = -1;
	fl->walk = 1;
	if (sg_strlcpy(fl->directory, p->directory, sizeof(fl->directory)) < 0) {
		sg_error_set(err, 0, "flow logs: directory %s is too long", p->directory);
		free(fl);
		errno = ENAMETOOLONG;
		return NULL;
	}
	fl->p.directory = fl->directory;
	rc = mkdir_p(fl->directory);
	if (rc < 0) {
		sg_error_set(err, 0, "flow logs: cannot create directory %s: %s", fl->directory,
				strerror(-rc));
		free(fl);
		errno = -rc;
		return NULL;
	}
	if (fl->p.port_max_flows == 0 || fl->p.port_max_flows > p->max_flows)
		fl->p.port_max_flows = p->max_flows;
	fl->port_lines = calloc(SG_FLOWLOG_MAX_PORT_IDS, sizeof(*fl->port_lines));
	fl->port_lost = calloc(SG_FLOWLOG_MAX_PORT_IDS, sizeof(*fl->port_lost));
	if (fl->port_lines == NULL || fl->port_lost == NULL ||
			table_init(&fl->agg, p->max_flows, sizeof(struct agg_key), sizeof(struct agg_val),
					true) < 0 ||
			table_init(&fl->conns, p->max_flows, sizeof(struct conn_key),
					sizeof(struct conn_val), false) < 0) {
		sg_flowlog_free(fl);
		goto nomem;
	}
	return fl;
nomem:
	sg_error_set(err, 0, "flow logs: out of memory for %u flows", p->max_flows);
	errno = ENOMEM;
	return NULL;
}

void
sg_flowlog_free(struct sg_flowlog *fl)
{
	if (fl == NULL)
		return;
	if (fl->file != NULL)
		fclose(fl->file);
	for (int k = 0; k < EPOCHS_KEPT; k++)
		epoch_clear(&fl->epochs[k]);
	table_free(&fl->agg);
	table_free(&fl->conns);
	free(fl->port_lines);
	free(fl->port_lost);
	free(fl);
}

/* ---- Summing ---- */

struct fl_tuple {
	uint8_t family;
	uint8_t proto;
	const uint8_t *src;
	const uint8_t *dst;
	uint16_t sport;
	uint16_t dport;
};

/* Add to the line of (port, dir, tuple, action, rule) if that port logs that action. */
static void
account(struct sg_flowlog *fl, uint16_t port, enum sg_dir dir, const struct fl_tuple *t,
		enum sg_action action, uint32_t epoch, uint32_t rule, uint64_t packets, uint64_t bytes,
		uint8_t flags)
{
	const struct fl_port *p;
	struct agg_key key;
	struct agg_val *v;
	bool created = false;

	if (rule == SG_FLOWLOG_NO_RULE || fl->newest < 0 || port >= SG_FLOWLOG_MAX_PORT_IDS)
		return;
	/* The port's selection as it is now; its name in the epoch of the report. */
	p = epoch_port(&fl->epochs[fl->newest], port);
	if (p == NULL || !p->vm ||
			!(p->traffic & (action == SG_ACTION_ACCEPT ? SG_FLOWLOG_ACCEPT : SG_FLOWLOG_REJECT)))
		return;
	memset(&key, 0, sizeof(key));
	memcpy(key.src, t->src, 16);
	memcpy(key.dst, t->dst, 16);
	key.epoch = epoch;
	key.rule = rule;
	key.sport = t->sport;
	key.dport = t->dport;
	key.port = port;
	key.family = t->family;
	key.proto = t->proto;
	key.dir = (uint8_t)dir;
	key.action = (uint8_t)action;
	v = table_lookup(&fl->agg, &key);
	if (v == NULL && fl->port_lines[port] >= fl->p.port_max_flows) {
		fl->st.port_capped++;
		sg_flowlog_add_port_lost(fl, port, 1);
		return;
	}
	if (v == NULL)
		v = table_get(&fl->agg, &key, &created);
	if (v == NULL) {
		fl->st.flows_dropped++;
		sg_flowlog_add_port_lost(fl, port, 1);
		return;
	}
	if (created)
		fl->port_lines[port]++;
	v->packets += packets;
	v->bytes += bytes;
	v->flags |= flags;
}

void
sg_flowlog_add_event(struct sg_flowlog *fl, const struct sg_flowlog_event *ev)
{
	struct fl_tuple t = {
		.family = ev->family, .proto = ev->proto, .src = ev->src, .dst = ev->dst,
		.sport = ev->sport, .dport = ev->dport,
	};
	uint8_t flags = ev->proto == IPPROTO_TCP ? sg_flowlog_tcp_flags(ev->tcp_flags) : 0;
	bool sender_accepts = (ev->accepted & SG_FLOWLOG_EV_SENDER_ACCEPT) != 0;

	fl->st.events++;
	if (ev->kind == SG_FLOWLOG_EV_FLAGS) {
		account(fl, ev->sender, SG_DIR_EGRESS, &t, SG_ACTION_ACCEPT, ev->epoch, ev->sender_rule,
				0, 0, flags);
		account(fl, ev->receiver, SG_DIR_INGRESS, &t, SG_ACTION_ACCEPT, ev->epoch,
				ev->receiver_rule, 0, 0, flags);
		return;
	}
	if (ev->kind != SG_FLOWLOG_EV_CHECK)
		return;
	/* A packet the sender's egress refused never reached the receiver's ingress check. */
	account(fl, ev->sender, SG_DIR_EGRESS, &t, sender_accepts ? SG_ACTION_ACCEPT : SG_ACTION_DROP,
			ev->epoch, ev->sender_rule, 1, ev->ip_bytes, flags);
	if (sender_accepts || ev->sender_rule == SG_FLOWLOG_NO_RULE)
		account(fl, ev->receiver, SG_DIR_INGRESS, &t,
				(ev->accepted & SG_FLOWLOG_EV_RECEIVER_ACCEPT) ? SG_ACTION_ACCEPT :
										 SG_ACTION_DROP,
				ev->epoch, ev->receiver_rule, 1, ev->ip_bytes, flags);
}

/* The ICMP reply type of a query type (as the tracker pairs them). */
static uint16_t
icmp_reply_type(uint8_t proto, uint16_t request)
{
	if (proto == IPPROTO_ICMP) {
		switch (request) {
		case 8:
			return 0;
		case 13:
			return 14;
		case 15:
			return 16;
		case 17:
			return 18;
		default:
			return request;
		}
	}
	switch (request) {
	case 128:
		return 129;
	case 139:
		return 140;
	default:
		return request;
	}
}

void
sg_flowlog_add_conn(struct sg_flowlog *fl, const struct sg_flowlog_conn *c, bool closed)
{
	uint64_t dbytes[2] = {c->bytes[0], c->bytes[1]};
	uint32_t dpkts[2] = {c->packets[0], c->packets[1]};
	bool icmp = sg_proto_is_icmp(c->proto);
	struct fl_tuple orig, reply;
	struct conn_key key;
	struct conn_val *v;

	memset(&key, 0, sizeof(key));
	memcpy(key.src, c->src.bytes, 16);
	memcpy(key.dst, c->dst.bytes, 16);
	key.sport = c->sport;
	key.dport = c->dport;
	key.in_port = c->in_port;
	key.out_port = c->out_port;
	key.family = c->family;
	key.proto = c->proto;
	v = table_lookup(&fl->conns, &key);
	/* Bytes only grow: less than last time means a new connection on the same tuple. */
	if (v != NULL && c->bytes[0] >= v->bytes[0] && c->bytes[1] >= v->bytes[1]) {
		for (int d = 0; d < 2; d++) {
			dbytes[d] = c->bytes[d] - v->bytes[d];
			dpkts[d] = c->packets[d] - v->packets[d];
		}
	}
	if (closed) {
		fl->st.conns_closed++;
		if (v != NULL)
			table_delete(&fl->conns, &key);
	} else {
		bool created;

		fl->st.conns_live++;
		if (v == NULL)
			v = table_get(&fl->conns, &key, &created);
		if (v == NULL) {
			/* Not followed, so not logged: a later report could not tell what is new. */
			fl->st.conns_untracked++;
			sg_flowlog_add_port_lost(fl, c->in_port, 1);
			sg_flowlog_add_port_lost(fl, c->out_port, 1);
			return;
		}
		for (int d = 0; d < 2; d++) {
			v->bytes[d] = c->bytes[d];
			v->packets[d] = c->packets[d];
		}
		v->seen = fl->walk;
		v->missed = 0;
	}
	orig = (struct fl_tuple){
		.family = c->family, .proto = c->proto, .src = c->src.bytes, .dst = c->dst.bytes,
		.sport = icmp ? c->dport : c->sport, .dport = icmp ? 0 : c->dport,
	};
	reply = (struct fl_tuple){
		.family = c->family, .proto = c->proto, .src = c->dst.bytes, .dst = c->src.bytes,
		.sport = icmp ? icmp_reply_type(c->proto, c->dport) : c->dport,
		.dport = icmp ? 0 : c->sport,
	};
	if (dpkts[0] != 0 || dbytes[0] != 0) {
		account(fl, c->in_port, SG_DIR_EGRESS, &orig, SG_ACTION_ACCEPT, c->epoch,
				c->egress_rule, dpkts[0], dbytes[0], 0);
		account(fl, c->out_port, SG_DIR_INGRESS, &orig, SG_ACTION_ACCEPT, c->epoch,
				c->ingress_rule, dpkts[0], dbytes[0], 0);
	}
	if (dpkts[1] != 0 || dbytes[1] != 0) {
		account(fl, c->out_port, SG_DIR_EGRESS, &reply, SG_ACTION_ACCEPT, c->epoch,
				c->ingress_rule, dpkts[1], dbytes[1], 0);
		account(fl, c->in_port, SG_DIR_INGRESS, &reply, SG_ACTION_ACCEPT, c->epoch,
				c->egress_rule, dpkts[1], dbytes[1], 0);
	}
}

void
sg_flowlog_add_lost(struct sg_flowlog *fl, uint64_t n)
{
	fl->st.lost += n;
	fl->window_lost += n;
}

void
sg_flowlog_add_port_lost(struct sg_flowlog *fl, uint16_t port_id, uint64_t n)
{
	fl->st.port_lost += n;
	if (port_id < SG_FLOWLOG_MAX_PORT_IDS)
		fl->port_lost[port_id] += n;
	else
		fl->window_lost += n;
}

/* ---- Ending a window ---- */

/* Forget connections missing from two walks in a row: a closed report may still be on its way
 * after the first (the tracker hides an expired entry before its sweep reports it). */
static int
forget_gone(struct sg_flowlog *fl)
{
	struct conn_key *doomed = NULL;
	uint32_t n = 0, cap = 0;

	for (uint32_t i = 0; i <= fl->conns.mask; i++) {
		struct conn_val *v;

		if (slot_tag(&fl->conns, i) == 0)
			continue;
		v = slot_val(&fl->conns, i);
		if (v->seen == fl->walk) {
			v->missed = 0;
			continue;
		}
		if (!v->missed) {
			v->missed = 1;
			continue;
		}
		if (n == cap) {
			struct conn_key *grown;

			cap = cap == 0 ? 256 : cap * 2;
			grown = realloc(doomed, cap * sizeof(*doomed));
			if (grown == NULL) {
				free(doomed);
				return -ENOMEM;
			}
			doomed = grown;
		}
		memcpy(&doomed[n++], slot_at(&fl->conns, i) + 4, sizeof(*doomed));
	}
	for (uint32_t k = 0; k < n; k++)
		table_delete(&fl->conns, &doomed[k]);
	free(doomed);
	return 0;
}

static int
cmp_agg(const void *a, const void *b, void *table)
{
	const struct agg_key *x = (const void *)(slot_at(table, *(const uint32_t *)a) + 4);
	const struct agg_key *y = (const void *)(slot_at(table, *(const uint32_t *)b) + 4);

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	if (x->action != y->action)
		return x->action > y->action ? -1 : 1; /* ACCEPT first */
	return memcmp(x, y, sizeof(*x));
}

static void
fill_ip(struct sg_ip *ip, uint8_t family, const uint8_t *bytes)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	memcpy(ip->bytes, bytes, family == SG_AF_INET ? 4 : 16);
}

/* The window's lines into 'out'. */
static void
format_window(struct sg_flowlog *fl, FILE *out, int64_t start, int64_t end)
{
	const struct fl_epoch *newest = fl->newest >= 0 ? &fl->epochs[fl->newest] : NULL;
	bool *has_line = newest != NULL ? calloc(newest->n_ports + 1u, sizeof(bool)) : NULL;
	struct sg_flowlog_record rec;

	qsort_r(fl->agg.order, fl->agg.n, sizeof(uint32_t), cmp_agg, &fl->agg);
	for (uint32_t k = 0; k < fl->agg.n; k++) {
		const struct agg_key *key = (const void *)(slot_at(&fl->agg, fl->agg.order[k]) + 4);
		const struct agg_val *v = slot_val(&fl->agg, fl->agg.order[k]);
		const struct fl_epoch *e = find_epoch(fl, key->epoch);
		const struct fl_port *p = epoch_port(e, key->port);

		/* Flags of a packet the walk already counted in the window before. */
		if (v->packets == 0)
			continue;
		if (p == NULL)
			p = epoch_port(newest, key->port);
		if (p == NULL)
			continue;
		memset(&rec, 0, sizeof(rec));
		rec.version = SG_FLOWLOG_VERSION;
		sg_strlcpy(rec.port, p->name, sizeof(rec.port));
		rec.dir = (enum sg_dir)key->dir;
		rec.proto = key->proto;
		fill_ip(&rec.src, key->family, key->src);
		fill_ip(&rec.dst, key->family, key->dst);
		rec.sport = key->sport;
		rec.dport = key->dport;
		rec.packets = v->packets;
		rec.bytes = v->bytes;
		rec.start = start;
		rec.end = end;
		rec.status = SG_FLOWLOG_OK;
		rec.action = (enum sg_action)key->action;
		rec.tcp_flags = v->flags;
		if (e != NULL && key->rule < e->n_rules)
			rec.rule = e->rules[key->rule];
		else
			fl->st.unknown_epoch++;
		sg_flowlog_write_record(out, &rec, fl->p.format);
		fl->st.lines++;
		if (has_line != NULL && key->port < newest->n_ports)
			has_line[key->port] = true;
	}
	for (uint32_t id = 0; newest != NULL && id < newest->n_ports; id++) {
		const struct fl_port *p = &newest->ports[id];

		if (p->name[0] == '\0' || !p->vm || p->traffic == 0 || (has_line && has_line[id]))
			continue;
		memset(&rec, 0, sizeof(rec));
		rec.version = SG_FLOWLOG_VERSION;
		sg_strlcpy(rec.port, p->name, sizeof(rec.port));
		rec.start = start;
		rec.end = end;
		rec.status = SG_FLOWLOG_NODATA;
		sg_flowlog_write_record(out, &rec, fl->p.format);
		fl->st.nodata++;
	}
	/* Ports whose records were lost: their data for the window is incomplete. A port no
	 * epoch names any more is counted with the rest. */
	for (uint32_t id = 0; id < SG_FLOWLOG_MAX_PORT_IDS; id++) {
		const struct fl_port *p;

		if (fl->port_lost[id] == 0)
			continue;
		p = epoch_port(newest, (uint16_t)id);
		if (p == NULL || !p->vm) {
			fl->window_lost += fl->port_lost[id];
			continue;
		}
		memset(&rec, 0, sizeof(rec));
		rec.version = SG_FLOWLOG_VERSION;
		sg_strlcpy(rec.port, p->name, sizeof(rec.port));
		rec.packets = fl->port_lost[id];
		rec.start = start;
		rec.end = end;
		rec.status = SG_FLOWLOG_SKIPDATA;
		sg_flowlog_write_record(out, &rec, fl->p.format);
		fl->st.skipdata++;
	}
	if (fl->window_lost != 0) {
		memset(&rec, 0, sizeof(rec));
		rec.version = SG_FLOWLOG_VERSION;
		rec.packets = fl->window_lost;
		rec.start = start;
		rec.end = end;
		rec.status = SG_FLOWLOG_SKIPDATA;
		sg_flowlog_write_record(out, &rec, fl->p.format);
		fl->st.skipdata++;
	}
	free(has_line);
}

static void
close_file(struct sg_flowlog *fl)
{
	if (fl->file != NULL)
		fclose(fl->file);
	fl->file = NULL;
	fl->file_path[0] = '\0';
}

/* A new file named after the first window it holds: sgfw-flows-20240102T030405Z[-N].log. */
static int
open_file(struct sg_flowlog *fl, int64_t start)
{
	const char *ext = fl->p.format == SG_FLOWLOG_JSON ? "jsonl" : "log";
	time_t t = (time_t)start;
	char stamp[32];
	struct tm tm;
	int fd = -1;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int n = 0; n < 1000 && fd < 0; n++) {
		if (n == 0)
			snprintf(fl->file_path, sizeof(fl->file_path), "%s/sgfw-flows-%s.%s",
					fl->directory, stamp, ext);
		else
			snprintf(fl->file_path, sizeof(fl->file_path), "%s/sgfw-flows-%s-%d.%s",
					fl->directory, stamp, n, ext);
		fd = open(fl->file_path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0 || (fl->file = fdopen(fd, "a")) == NULL) {
		int rc = -errno;

		if (fd >= 0)
			close(fd);
		fl->file_path[0] = '\0';
		return rc;
	}
	fl->file_start = start;
	fl->file_bytes = 0;
	fl->st.files++;
	if (sg_flowlog_header(fl->p.format) != NULL) {
		int n = fprintf(fl->file, "%s\n", sg_flowlog_header(fl->p.format));

		fl->file_bytes += n > 0 ? (uint64_t)n : 0;
	}
	return 0;
}

int
sg_flowlog_window_end(struct sg_flowlog *fl, int64_t start, int64_t end)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int rc = 0;

	forget_gone(fl);
	fl->walk++;
	fl->st.windows++;
	mem = open_memstream(&text, &len);
	if (mem == NULL) {
		rc = -errno;
		goto out;
	}
	format_window(fl, mem, start, end);
	fclose(mem);
	if (len == 0)
		goto out;
	if (fl->file != NULL && end - fl->file_start > (int64_t)fl->p.max_file_age)
		close_file(fl);
	if (fl->file == NULL && (rc = open_file(fl, start)) < 0)
		goto out;
	/* One write per window, flushed (not synced): a crash of sgfw loses the open window only. */
	if (fwrite(text, 1, len, fl->file) != len || fflush(fl->file) != 0) {
		rc = -EIO;
		close_file(fl);
		goto out;
	}
	fl->file_bytes += len;
	fl->st.bytes_written += len;
	if (fl->file_bytes >= fl->p.max_file_bytes)
		close_file(fl);
out:
	if (rc < 0)
		fl->st.write_errors++;
	free(text);
	table_clear(&fl->agg);
	fl->window_lost = 0;
	memset(fl->port_lines, 0, SG_FLOWLOG_MAX_PORT_IDS * sizeof(*fl->port_lines));
	memset(fl->port_lost, 0, SG_FLOWLOG_MAX_PORT_IDS * sizeof(*fl->port_lost));
	return rc;
}

void
sg_flowlog_get_stats(const struct sg_flowlog *fl, struct sg_flowlog_stats *st)
{
	*st = fl->st;
	st->flows = fl->agg.n;
	st->conns = fl->conns.n;
}

const char *
sg_flowlog_current_file(const struct sg_flowlog *fl)
{
	return fl->file_path;
}
