/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet capture on a port (sgfwctl capture): workers copy what a port receives, or what is
 * sent to it, through an optional BPF filter into a ring; the control side drains the ring.
 * Nothing runs while no capture is attached but one pointer load per burst (sg_port.h). */
#define ALLOW_EXPERIMENTAL_API /* rte_bpf_convert */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bpf.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "sg_port.h"

struct sg_capture {
	struct rte_mempool
			*pool; /* Copies; each carries struct sg_capture_meta in its priv area. */
	struct rte_ring *ring;
	struct rte_bpf *bpf; /* NULL: every packet. */
	uint32_t snaplen;
	_Atomic bool done; /* Enough: workers stop copying. */
	_Atomic uint64_t seen;
	_Atomic uint64_t matched;
	_Atomic uint64_t lost;
};

static _Atomic unsigned int capture_serial;

/* A pcap filter expression compiled for Ethernet frames, then converted to eBPF. */
static struct rte_bpf *
compile_filter(const char *filter, uint32_t snaplen, struct sg_error *err)
{
	pcap_t *pcap = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	struct bpf_program prog;
	struct rte_bpf_prm *prm;
	struct rte_bpf *bpf = NULL;

	if (pcap == NULL) {
		sg_error_set(err, 0, "cannot compile the filter: out of memory");
		return NULL;
	}
	if (pcap_compile(pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		sg_error_set(err, 0, "filter \"%s\": %s", filter, pcap_geterr(pcap));
		pcap_close(pcap);
		return NULL;
	}
	prm = rte_bpf_convert(&prog);
	if (prm != NULL) {
		bpf = rte_bpf_load(prm);
		rte_free(prm);
	}
	if (bpf == NULL)
		sg_error_set(err, 0, "filter \"%s\": cannot load it: %s", filter,
				rte_strerror(rte_errno));
	pcap_freecode(&prog);
	pcap_close(pcap);
	return bpf;
}

struct sg_capture *
sg_capture_create(const struct sg_capture_params *p, struct sg_error *err)
{
	struct sg_capture *cap = calloc(1, sizeof(*cap));
	unsigned int serial = atomic_fetch_add(&capture_serial, 1);
	char name[RTE_MEMPOOL_NAMESIZE];

	if (cap == NULL) {
		sg_error_set(err, 0, "out of memory");
		return NULL;
	}
	cap->snaplen = p->snaplen;
	if (p->filter != NULL && p->filter[0] != '\0') {
		cap->bpf = compile_filter(p->filter, p->snaplen, err);
		if (cap->bpf == NULL)
			goto fail;
	}
	snprintf(name, sizeof(name), "sg_cap%u", serial);
	cap->pool = rte_pktmbuf_pool_create(name, p->buffers, 0,
			RTE_ALIGN(sizeof(struct sg_capture_meta), RTE_MBUF_PRIV_ALIGN),
			RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	cap->ring = rte_ring_create(
			name, rte_align32pow2(p->buffers), SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (cap->pool == NULL || cap->ring == NULL) {
		sg_error_set(err, 0, "cannot allocate %u capture buffers: %s", p->buffers,
				rte_strerror(rte_errno));
		goto fail;
	}
	return cap;
fail:
	sg_capture_free(cap);
	return NULL;
}

void
sg_capture_burst(struct sg_capture *cap, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *copies[SG_PORT_CAPTURE_BURST];
	uint64_t rc[SG_PORT_CAPTURE_BURST];
	uint64_t now = rte_get_tsc_cycles();
	uint16_t k = 0, matched = 0;
	unsigned int sent;

	if (atomic_load_explicit(&cap->done, memory_order_relaxed))
		return;
	n = (uint16_t)RTE_MIN(n, SG_PORT_CAPTURE_BURST);
	if (cap->bpf != NULL)
		rte_bpf_exec_burst(cap->bpf, (void **)pkts, rc, n);
	for (uint16_t i = 0; i < n; i++) {
		struct sg_capture_meta *meta;
		struct rte_mbuf *copy;

		if (cap->bpf != NULL && rc[i] == 0)
			continue;
		matched++;
		copy = rte_pktmbuf_copy(pkts[i], cap->pool, 0, cap->snaplen);
		if (copy == NULL)
			continue;
		meta = rte_mbuf_to_priv(copy);
		meta->tsc = now;
		meta->length = rte_pktmbuf_pkt_len(pkts[i]);
		copies[k++] = copy;
	}
	sent = rte_ring_enqueue_burst(cap->ring, (void **)copies, k, NULL);
	rte_pktmbuf_free_bulk(copies + sent, k - sent);
	atomic_fetch_add_explicit(&cap->seen, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&cap->matched, matched, memory_order_relaxed);
	if (matched != sent)
		atomic_fetch_add_explicit(&cap->lost, matched - sent, memory_order_relaxed);
}

unsigned int
sg_capture_dequeue(struct sg_capture *cap, struct rte_mbuf **pkts, unsigned int n)
{
	return rte_ring_dequeue_burst(cap->ring, (void **)pkts, n, NULL);
}

void
sg_capture_finish(struct sg_capture *cap)
{
	atomic_store(&cap->done, true);
}

void
sg_capture_stats(const struct sg_capture *cap, struct sg_capture_stats *st)
{
	struct sg_capture *c = (struct sg_capture *)cap;

	st->seen = atomic_load(&c->seen);
	st->matched = atomic_load(&c->matched);
	st->lost = atomic_load(&c->lost);
}

void
sg_capture_free(struct sg_capture *cap)
{
	struct rte_mbuf *left[64];
	unsigned int n;

	if (cap == NULL)
		return;
	if (cap->ring != NULL) {
		while ((n = sg_capture_dequeue(cap, left, RTE_DIM(left))) != 0)
			rte_pktmbuf_free_bulk(left, n);
		rte_ring_free(cap->ring);
	}
	rte_mempool_free(cap->pool);
	rte_bpf_destroy(cap->bpf);
	free(cap);
}
