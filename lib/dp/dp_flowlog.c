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
	/* What was already reported as lost, of the counters below. */
	uint64_t lost_seen;
	uint64_t closed_lost_seen;
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
	for (uint16_t w = 0; w < f->n_workers; w++)
		lost += __atomic_load_n(&f->dp->workers[w]->fl_lost, __ATOMIC_RELAXED);
	if (lost != f->lost_seen) {
		sg_flowlog_add_lost(f->agg, lost - f->lost_seen);
		f->lost_seen = lost;
	}
	if (f->ct != NULL) {
		struct sg_ct_stats st;

		sg_ct_stats_get(f->ct, &st);
		if (st.closed_lost != f->closed_lost_seen) {
			sg_flowlog_add_lost(f->agg, st.closed_lost - f->closed_lost_seen);
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
	for (uint32_t i = 0; i < conf->n_ports; i++)
		ids[i] = ports[i]->dev.port_id;
	pthread_mutex_lock(&f->lock);
	rc = sg_flowlog_set_epoch(f->agg, epoch, conf, ids);
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

void
dp_fl_flush(struct dp_worker *w)
{
	unsigned int sent = rte_ring_enqueue_burst_elem(w->fl_ring, w->fl_stage,
			sizeof(w->fl_stage[0]), w->n_fl, NULL);

	/* Only this worker writes its counters; relaxed stores let the writer read them. */
	__atomic_store_n(&w->fl_events, w->fl_events + sent, __ATOMIC_RELAXED);
	if (sent < w->n_fl)
		__atomic_store_n(&w->fl_lost, w->fl_lost + (w->n_fl - sent), __ATOMIC_RELAXED);
	w->n_fl = 0;
}

static struct sg_flowlog_event *
new_event(struct dp_worker *w, uint8_t kind, const struct sg_pkt_meta *md, bool swapped)
{
	struct sg_flowlog_event *ev;
	bool icmp = md->proto == 1 || md->proto == 58;

	if (w->n_fl == RTE_DIM(w->fl_stage))
		dp_fl_flush(w);
	ev = &w->fl_stage[w->n_fl++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->family = md->src.family;
	ev->proto = md->proto;
	ev->tcp_flags = md->proto == 6 ? md->tcp_flags : 0;
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
	ev = new_event(w, SG_FLOWLOG_EV_CHECK, &w->meta[c->pkt], c->swapped);
	ev->sender = s->port->dev.port_id;
	ev->receiver = r->port->dev.port_id;
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

	if (((s->flowlog | r->flowlog) & SG_FLOWLOG_ACCEPT) == 0 || w->meta[pkt].proto != 6)
		return;
	ev = new_event(w, SG_FLOWLOG_EV_FLAGS, &w->meta[pkt], false);
	ev->sender = s->port->dev.port_id;
	ev->receiver = r->port->dev.port_id;
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
