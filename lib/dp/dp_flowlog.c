/* SPDX-License-Identifier: BSD-3-Clause */
/* Flow logs in the running switch: one lock-free ring per worker carries events (packets the
 * security groups refused, TCP flags of accepted packets) to a writer thread on the control
 * core, which also drains the tracker's rings of closed connections, walks the tracker once per
 * window for the counters of live connections, and hands everything to the aggregator of
 * lib/flowlog, which writes the window's lines.
 *
 * Workers never wait: a full ring loses the event (counted, reported as SKIPDATA), never the
 * packet. The writer is an ordinary thread created by the control thread, so it inherits the
 * control core's CPU set and never runs on a worker's core. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_ring_elem.h>

#include "dp_private.h"
#include "dp_worker.h"
#include "sg_ct.h"
#include "sg_flowlog.h"

/* Events taken from one ring per pass, so one busy worker cannot starve the others. */
#define DRAIN_BATCH 512
/* Pause between passes when the rings were empty. */
#define IDLE_SLEEP_MS 5

struct dp_flowlog {
	struct sg_dp *dp;
	struct sg_ct *ct;
	struct sg_flowlog *agg;
	struct rte_ring *rings[SG_MAX_WORKERS];
	uint16_t n_workers;
	uint32_t window;
	char directory[SG_PATH_MAX];
	uint64_t tsc_per_ms;
	/* Guards 'agg' between the writer and the control thread (epochs, stats). */
	pthread_mutex_t lock;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	/* What was already reported as lost: events and closed connections in all, then by port
	 * id (SG_FLOWLOG_MAX_PORT_IDS entries each). */
	uint64_t lost_seen;
	uint64_t closed_lost_seen;
	uint64_t *port_lost_seen;
	uint64_t *closed_port_lost_seen;
	/* The port ids of the newest epoch: whose losses to look for. */
	uint16_t *ids;
	uint32_t n_ids;
	int64_t window_start;
	int64_t window_end;
	uint64_t cpu_ns;           /* The writer's CPU time, updated once per pass. */
};

static int64_t
wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static void
conn_of(struct sg_flowlog_conn *out, const struct sg_ct_tuple *t, const struct sg_ct_origin *o,
		const uint64_t packets[2], const uint64_t bytes[2])
{
	memset(out, 0, sizeof(*out));
	out->family = t->src.family;
	out->proto = t->proto;
	out->sport = t->sport;
	out->dport = t->dport;
	out->src = t->src;
	out->dst = t->dst;
	out->in_port = o->in_port;
	out->out_port = o->out_port;
	out->egress_rule = o->egress_rule;
	out->ingress_rule = o->ingress_rule;
	out->epoch = o->policy_epoch;
	for (int d = 0; d < 2; d++) {
		out->packets[d] = (uint32_t)packets[d];
		out->bytes[d] = bytes[d];
	}
}

static int
walk_cb(const struct sg_ct_conn_info *info, void *arg)
{
	struct dp_flowlog *f = arg;
	struct sg_flowlog_conn c;

	conn_of(&c, &info->tuple, &info->origin, info->packets, info->bytes);
	sg_flowlog_add_conn(f->agg, &c, false);
	return 0;
}

/* Move what the workers and the tracker queued into the aggregator. Returns the count. */
static unsigned int
drain(struct dp_flowlog *f)
{
	struct sg_flowlog_event ev[64];
	struct sg_ct_closed closed[64];
	unsigned int total = 0;
	uint64_t lost = 0;

	for (uint16_t w = 0; w < f->n_workers; w++) {
		unsigned int n, taken = 0;

		do {
			n = rte_ring_dequeue_burst_elem(f->rings[w], ev, sizeof(ev[0]), RTE_DIM(ev),
					NULL);
			for (unsigned int i = 0; i < n; i++)
				sg_flowlog_add_event(f->agg, &ev[i]);
			taken += n;
		} while (n == RTE_DIM(ev) && taken < DRAIN_BATCH);
		total += taken;
		if (f->ct == NULL)
			continue;
		taken = 0;
		do {
			n = sg_ct_closed_drain(f->ct, w, closed, RTE_DIM(closed));
			for (unsigned int i = 0; i < n; i++) {
				struct sg_flowlog_conn c;
				uint64_t packets[2] = {closed[i].packets[0], closed[i].packets[1]};

				conn_of(&c, &closed[i].tuple, &closed[i].origin, packets, closed[i].bytes);
				sg_flowlog_add_conn(f->agg, &c, true);
			}
			taken += n;
		} while (n == RTE_DIM(closed) && taken < DRAIN_BATCH);
		total += taken;
	}
	/* Losses by port: looked for only when some happened since the last pass. */
	for (uint16_t w = 0; w < f->n_workers; w++)
		lost += __atomic_load_n(&f->dp->workers[w]->fl_lost, __ATOMIC_ACQUIRE);
	if (lost != f->lost_seen) {
		for (uint32_t i = 0; i < f->n_ids; i++) {
			uint16_t id = f->ids[i];
			uint64_t n = 0;

			for (uint16_t w = 0; w < f->n_workers; w++)
				n += __atomic_load_n(&f->dp->workers[w]->fl_port_lost[id],
						__ATOMIC_RELAXED);
			if (n != f->port_lost_seen[id])
				sg_flowlog_add_port_lost(f->agg, id, n - f->port_lost_seen[id]);
			f->port_lost_seen[id] = n;
		}
		f->lost_seen = lost;
	}
	if (f->ct != NULL) {
		struct sg_ct_stats st;

		sg_ct_stats_get(f->ct, &st);
		if (st.closed_lost != f->closed_lost_seen) {
			for (uint32_t i = 0; i < f->n_ids; i++) {
				uint16_t id = f->ids[i];
				uint64_t n = sg_ct_closed_lost_port(f->ct, id);

				if (n != f->closed_port_lost_seen[id])
					sg_flowlog_add_port_lost(f->agg, id,
							n - f->closed_port_lost_seen[id]);
				f->closed_port_lost_seen[id] = n;
			}
			f->closed_lost_seen = st.closed_lost;
		}
	}
	return total;
}

/* Close the window at 'end': the walk reports the live connections, then the lines go out. */
static void
close_window(struct dp_flowlog *f, int64_t end)
{
	uint64_t now_ms = rte_get_tsc_cycles() / f->tsc_per_ms;

	/* What is queued belongs to this window, before the walk reads the counters (bounded:
	 * under load the rings never stay empty). */
	for (int pass = 0; pass < 16 && drain(f) != 0; pass++)
		;
	if (f->ct != NULL)
		sg_ct_walk(f->ct, NULL, now_ms, walk_cb, f);
	sg_flowlog_window_end(f->agg, f->window_start, end);
}

static void *
writer_main(void *arg)
{
	struct dp_flowlog *f = arg;

	for (;;) {
		bool stop = atomic_load_explicit(&f->stop, memory_order_acquire);
		unsigned int n;
		int64_t now;

		pthread_mutex_lock(&f->lock);
		n = drain(f);
		now = wall_seconds();
		if (now >= f->window_end) {
			close_window(f, f->window_end);
			/* After a stall, the next window is the one holding 'now'. */
			f->window_start = now >= f->window_end + f->window ?
						  now - now % f->window : f->window_end;
			f->window_end = f->window_start + f->window;
		}
		if (stop) {
			/* Workers have returned: the open window is written, up to now. */
			close_window(f, SG_MAX(now, f->window_start + 1));
			pthread_mutex_unlock(&f->lock);
			break;
		}
		{
			struct timespec cpu;

			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
			f->cpu_ns = (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec;
		}
		pthread_mutex_unlock(&f->lock);
		if (n == 0) {
			struct timespec ts = {.tv_nsec = IDLE_SLEEP_MS * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

struct dp_flowlog *
dp_flowlog_create(struct sg_dp *dp, const struct sg_conf *conf, struct sg_error *err)
{
	const struct sg_conf_flowlog *fc = &conf->flow_logs;
	struct sg_flowlog_params p = {
		.directory = fc->directory,
		.format = fc->format,
		.max_file_bytes = (uint64_t)fc->max_file_mb << 20,
		.max_file_age = fc->max_file_age,
		.max_flows = fc->max_flows,
		.port_max_flows = fc->port_max_flows != 0 ? fc->port_max_flows : fc->max_flows / 4,
	};
	struct dp_flowlog *f = calloc(1, sizeof(*f));
	int64_t now;

	if (f == NULL) {
		sg_error_set(err, 0, "flow logs: out of memory");
		return NULL;
	}
	f->dp = dp;
	f->ct = dp->params.ct;
	f->n_workers = dp->params.n_workers;
	f->window = fc->window;
	f->tsc_per_ms = SG_MAX(rte_get_tsc_hz() / 1000, 1u);
	sg_strlcpy(f->directory, fc->directory, sizeof(f->directory));
	pthread_mutex_init(&f->lock, NULL);
	f->port_lost_seen = calloc(SG_FLOWLOG_MAX_PORT_IDS, sizeof(*f->port_lost_seen));
	f->closed_port_lost_seen = calloc(SG_FLOWLOG_MAX_PORT_IDS, sizeof(*f->closed_port_lost_seen));
	if (f->port_lost_seen == NULL || f->closed_port_lost_seen == NULL) {
		sg_error_set(err, 0, "flow logs: out of memory");
		goto fail;
	}
	f->agg = sg_flowlog_create(&p, err);
	if (f->agg == NULL)
		goto fail;
	for (uint16_t w = 0; w < f->n_workers; w++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "sg_fl_%u_%d", w, (int)getpid());
		f->rings[w] = rte_ring_create_elem(name, sizeof(struct sg_flowlog_event),
				rte_align32pow2(fc->ring_size), SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (f->rings[w] == NULL) {
			sg_error_set(err, 0, "flow logs: cannot create the ring of worker %u", w);
			goto fail;
		}
	}
	/* Windows are aligned on the wall clock (a 60 s window starts on the minute). */
	now = wall_seconds();
	f->window_start = now - now % f->window;
	f->window_end = f->window_start + f->window;
	return f;
fail:
	dp_flowlog_free(f);
	return NULL;
}

int
dp_flowlog_start(struct dp_flowlog *f, struct sg_error *err)
{
	int rc = pthread_create(&f->thread, NULL, writer_main, f);

	if (rc != 0)
		return sg_error_set(err, 0, "flow logs: cannot start the writer thread: %s",
				strerror(rc)), -rc;
	pthread_setname_np(f->thread, "sgfw-flowlog");
	f->started = true;
	return 0;
}

struct rte_ring *
dp_flowlog_ring(const struct dp_flowlog *f, uint16_t worker)
{
	return f->rings[worker];
}

int
dp_flowlog_epoch(struct dp_flowlog *f, uint32_t epoch, const struct sg_conf *conf,
		struct dp_port *const *ports)
{
	uint16_t *ids = calloc(conf->n_ports + 1u, sizeof(*ids));
	int rc;

	if (ids == NULL)
		return -ENOMEM;
	/* The ids events and connections carry (dp_port.id: vhost-user ports have no ethdev). */
	for (uint32_t i = 0; i < conf->n_ports; i++)
		ids[i] = ports[i] != NULL ? ports[i]->id : SG_FLOWLOG_NO_PORT;
	pthread_mutex_lock(&f->lock);
	rc = sg_flowlog_set_epoch(f->agg, epoch, conf, ids);
	if (rc == 0) {
		free(f->ids);
		f->ids = ids;
		f->n_ids = conf->n_ports;
		ids = NULL;
	}
	pthread_mutex_unlock(&f->lock);
	free(ids);
	return rc;
}

void
dp_flowlog_free(struct dp_flowlog *f)
{
	if (f == NULL)
		return;
	if (f->started) {
		atomic_store_explicit(&f->stop, true, memory_order_release);
		pthread_join(f->thread, NULL);
	}
	for (uint16_t w = 0; w < f->n_workers; w++)
		rte_ring_free(f->rings[w]);
	sg_flowlog_free(f->agg);
	pthread_mutex_destroy(&f->lock);
	free(f->ids);
	free(f->port_lost_seen);
	free(f->closed_port_lost_seen);
	free(f);
}

void
dp_flowlog_stats(struct dp_flowlog *f, struct sg_dp_flowlog_stats *st)
{
	pthread_mutex_lock(&f->lock);
	sg_flowlog_get_stats(f->agg, &st->writer);
	sg_strlcpy(st->file, sg_flowlog_current_file(f->agg), sizeof(st->file));
	st->window_start = f->window_start;
	st->writer_cpu_ns = f->cpu_ns;
	pthread_mutex_unlock(&f->lock);
	sg_strlcpy(st->directory, f->directory, sizeof(st->directory));
	st->window = f->window;
	for (uint16_t w = 0; w < f->n_workers; w++) {
		st->events += __atomic_load_n(&f->dp->workers[w]->fl_events, __ATOMIC_RELAXED);
		st->ring_lost += __atomic_load_n(&f->dp->workers[w]->fl_lost, __ATOMIC_RELAXED);
	}
	if (f->ct != NULL) {
		struct sg_ct_stats cs;

		sg_ct_stats_get(f->ct, &cs);
		st->closed_lost = cs.closed_lost;
	}
}

/* ---- Worker side (rare paths: refused packets, SYN/FIN/RST) ---- */

/* Records about ports 'sender' and 'receiver' (vports) are lost: both logs are incomplete. */
static void
fl_lose(struct dp_worker *w, const struct dp_gen *gen, uint16_t sender, uint16_t receiver)
{
	uint16_t v[2] = {sender, receiver};

	for (int e = 0; e < 2; e++) {
		uint16_t id = gen->vports[v[e]].port->id;

		dp_counters(gen, v[e], w->id)->fl_lost++;
		if (id < SG_FLOWLOG_MAX_PORT_IDS)
			__atomic_store_n(&w->fl_port_lost[id], w->fl_port_lost[id] + 1,
					__ATOMIC_RELAXED);
		if (sender == receiver)
			break;
	}
	/* After the ports' counts: the writer reads this first, then them (drain()). */
	__atomic_store_n(&w->fl_lost, w->fl_lost + 1, __ATOMIC_RELEASE);
}

void
dp_fl_flush(struct dp_worker *w, const struct dp_gen *gen)
{
	unsigned int sent = rte_ring_enqueue_burst_elem(w->fl_ring, w->fl_stage,
			sizeof(w->fl_stage[0]), w->n_fl, NULL);

	/* Only this worker writes its counters; relaxed stores let the writer read them. */
	__atomic_store_n(&w->fl_events, w->fl_events + sent, __ATOMIC_RELAXED);
	for (unsigned int k = sent; k < w->n_fl; k++)
		fl_lose(w, gen, w->fl_stage_vports[k][0], w->fl_stage_vports[k][1]);
	w->n_fl = 0;
}

/*
 * Whether the port whose packet causes an event may have one more: a token bucket per port and
 * worker, so that one port flooding refused packets cannot fill the ring the others' events
 * share (its excess is lost and counted as its own, and its peer's, incomplete data).
 */
static bool
fl_budget(struct dp_worker *w, const struct dp_gen *gen)
{
	const struct dp_vport *vp = &gen->vports[w->fl_in];
	struct dp_port_counters *c = dp_counters(gen, w->fl_in, w->id);
	uint64_t rate = vp->fl_events_per_second_per_worker;

	if (rate == 0)
		return true;
	if (w->now_ms != c->fl_stamp_ms) {
		uint64_t cap = rate * 1000;

		c->fl_tokens = SG_MIN(cap, c->fl_tokens + (w->now_ms - c->fl_stamp_ms) * rate);
		c->fl_stamp_ms = w->now_ms;
	}
	if (c->fl_tokens < 1000)
		return false;
	c->fl_tokens -= 1000;
	return true;
}

/* A new staged event between vports 'sender' and 'receiver', or NULL when it is lost. */
static struct sg_flowlog_event *
new_event(struct dp_worker *w, const struct dp_gen *gen, uint8_t kind,
		const struct sg_pkt_meta *md, bool swapped, uint16_t sender, uint16_t receiver)
{
	struct sg_flowlog_event *ev;
	bool icmp = sg_proto_is_icmp(md->proto);

	if (!fl_budget(w, gen)) {
		fl_lose(w, gen, sender, receiver);
		return NULL;
	}
	if (w->n_fl == RTE_DIM(w->fl_stage))
		dp_fl_flush(w, gen);
	w->fl_stage_vports[w->n_fl][0] = sender;
	w->fl_stage_vports[w->n_fl][1] = receiver;
	ev = &w->fl_stage[w->n_fl++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->family = md->src.family;
	ev->proto = md->proto;
	ev->tcp_flags = md->proto == IPPROTO_TCP ? md->tcp_flags : 0;
	ev->ip_bytes = (uint16_t)(md->l3_len + md->l4_len);
	/* A re-check of a reply is about the connection's original direction. */
	if (swapped && !icmp) {
		memcpy(ev->src, md->dst.bytes, 16);
		memcpy(ev->dst, md->src.bytes, 16);
		ev->sport = md->dport;
		ev->dport = md->sport;
	} else {
		memcpy(ev->src, md->src.bytes, 16);
		memcpy(ev->dst, md->dst.bytes, 16);
		ev->sport = md->sport;
		ev->dport = md->dport;
	}
	/* Ports by the id connections carry too (vhost-user ports have no ethdev id). */
	ev->sender = gen->vports[sender].port->id;
	ev->receiver = gen->vports[receiver].port->id;
	return ev;
}

void
dp_fl_check(struct dp_worker *w, const struct dp_gen *gen, const struct dp_check *c)
{
	const struct dp_vport *s = &gen->vports[c->sender], *r = &gen->vports[c->receiver];
	struct sg_flowlog_event *ev;
	uint32_t pe = c->pos[SG_DIR_EGRESS], pi = c->pos[SG_DIR_INGRESS];

	if ((s->flowlog | r->flowlog) == 0)
		return;
	ev = new_event(w, gen, SG_FLOWLOG_EV_CHECK, &w->meta[c->pkt], c->swapped, c->sender,
			c->receiver);
	if (ev == NULL)
		return;
	ev->sender_rule = pe != 0 ? s->rule_id[SG_DIR_EGRESS][pe] : SG_FLOWLOG_NO_RULE;
	ev->receiver_rule = pi != 0 ? r->rule_id[SG_DIR_INGRESS][pi] : SG_FLOWLOG_NO_RULE;
	if (pe != 0 && s->action[SG_DIR_EGRESS][pe] == SG_ACTION_ACCEPT)
		ev->accepted |= SG_FLOWLOG_EV_SENDER_ACCEPT;
	if (pi != 0 && r->action[SG_DIR_INGRESS][pi] == SG_ACTION_ACCEPT)
		ev->accepted |= SG_FLOWLOG_EV_RECEIVER_ACCEPT;
	ev->epoch = gen->epoch;
}

void
dp_fl_flags(struct dp_worker *w, const struct dp_gen *gen, uint16_t pkt, uint16_t sender,
		uint16_t receiver, uint32_t sender_rule, uint32_t receiver_rule, uint32_t epoch)
{
	const struct dp_vport *s = &gen->vports[sender], *r = &gen->vports[receiver];
	struct sg_flowlog_event *ev;

	if (((s->flowlog | r->flowlog) & SG_FLOWLOG_ACCEPT) == 0 ||
			w->meta[pkt].proto != IPPROTO_TCP)
		return;
	ev = new_event(w, gen, SG_FLOWLOG_EV_FLAGS, &w->meta[pkt], false, sender, receiver);
	if (ev == NULL)
		return;
	ev->sender_rule = s->uplink ? SG_FLOWLOG_NO_RULE : sender_rule;
	ev->receiver_rule = r->uplink ? SG_FLOWLOG_NO_RULE : receiver_rule;
	ev->epoch = epoch;
}

void
dp_fl_conn_flags(struct dp_worker *w, const struct dp_gen *gen, uint16_t pkt, uint16_t in,
		const struct sg_ct_verdict *v)
{
	struct sg_ct_origin o;

	sg_ct_conn_origin(v->conn, &o);
	/* Each port's rule for the connection: the original sender's egress rule, the original
	 * receiver's ingress rule, whichever way this packet goes. */
	if (v->dir == SG_CT_DIR_ORIG)
		dp_fl_flags(w, gen, pkt, in, w->dst[pkt], o.egress_rule, o.ingress_rule,
				o.policy_epoch);
	else
		dp_fl_flags(w, gen, pkt, in, w->dst[pkt], o.ingress_rule, o.egress_rule,
				o.policy_epoch);
}
