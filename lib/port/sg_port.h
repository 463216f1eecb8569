/* SPDX-License-Identifier: BSD-3-Clause */
/* Ports: turning a config port (vhost-user, af_packet, pcap, null, ring, pci) into a started
 * ethdev, and back. Devices are probed at run time, so VMs' ports come and go while the
 * others carry traffic.
 *
 * Thread-safety: sg_port_open() and sg_port_close() run on the control thread only. Close a
 * port only after no worker polls or transmits on it any more (after an RCU grace period).
 * sg_port_rx() and sg_port_tx() may be called by any worker: tx picks the worker's own queue,
 * or takes the queue's lock when the device has fewer tx queues than there are workers.
 * vhost-user ports go through the rte_vhost library (any number of them), the other kinds
 * through ethdevs.
 */
#ifndef SG_PORT_H
#define SG_PORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_spinlock.h>

#include "sg_conf.h"

#define SG_PORT_MAX_QUEUES 16
/** vhost-user ports are not ethdevs (RTE_MAX_ETHPORTS is 32): this many may be open. */
#define SG_PORT_MAX_VHOST 1024

/*
 * Packet capture (port_capture.c). A capture is attached to a port's receive side (what the
 * port's VM or network sends, before the firewall) or send side (what sgfw sends to it: what
 * passed the firewall, and the switch's own ARP/ND answers). Workers copy matching packets
 * into its ring; one consumer (sgfwctl capture's writer) drains it.
 *
 * Thread-safety: create and free on the control thread; sg_capture_burst from any worker;
 * sg_capture_dequeue from one thread at a time. Free only after no worker can see it (detach,
 * then an RCU grace period: sg_dp_capture_detach).
 */
#define SG_PORT_CAPTURE_BURST 64

enum sg_capture_side {
	SG_CAPTURE_RX = 0, /**< What the port receives. */
	SG_CAPTURE_TX,     /**< What sgfw sends to it. */
	SG_CAPTURE_SIDES,
};

struct sg_capture_params {
	const char *filter;  /**< pcap filter expression (pcap-filter(7)); NULL or "": all. */
	uint32_t snaplen;    /**< Bytes kept of each packet. */
	uint32_t buffers;    /**< Copies in flight (ring and pool size). */
};

/** In each copy's private area. */
struct sg_capture_meta {
	uint64_t tsc;        /**< rte_get_tsc_cycles() when the worker copied it. */
	uint32_t length;     /**< The packet's length (the copy may be cut at snaplen). */
};

struct sg_capture_stats {
	uint64_t seen;       /**< Packets the workers looked at. */
	uint64_t matched;    /**< ... that passed the filter. */
	uint64_t lost;       /**< ... that found the buffers or the ring full. */
};

struct sg_capture;

/** A capture with its filter compiled; NULL and 'err' (a bad filter names itself). */
struct sg_capture *sg_capture_create(const struct sg_capture_params *p, struct sg_error *err);
/** Worker side: copy the packets of a burst that match (they stay the caller's). */
void sg_capture_burst(struct sg_capture *cap, struct rte_mbuf **pkts, uint16_t n);
/** Consumer side: up to 'n' copies (free them with rte_pktmbuf_free). */
unsigned int sg_capture_dequeue(struct sg_capture *cap, struct rte_mbuf **pkts, unsigned int n);
/** Enough: workers stop copying (the ring keeps what it has). */
void sg_capture_finish(struct sg_capture *cap);
void sg_capture_stats(const struct sg_capture *cap, struct sg_capture_stats *st);
/** Free it and the copies left; NULL is a no-op. */
void sg_capture_free(struct sg_capture *cap);

struct sg_port_dev {
	char name[SG_NAME_MAX];        /**< The config port's name. */
	char devargs[SG_PATH_MAX + 96]; /**< What was probed. */
	enum sg_port_kind kind;
	uint16_t port_id;              /**< ethdev port id (not for vhost-user). */
	bool vhost;                    /**< Driven through the rte_vhost library. */
	_Atomic int vid;               /**< vhost device of the connected VM, -1 if none. */
	_Atomic uint32_t inflight;     /**< Workers inside the vhost library on this port. */
	struct rte_mempool *pool;      /**< vhost: where received packets go. */
	char vhost_path[SG_PATH_MAX];
	unsigned int vhost_slot;
	bool vhost_registered;
	uint16_t n_rxq;
	uint16_t n_txq;
	bool tx_shared;                /**< Fewer tx queues than workers: lock per queue. */
	bool probed;                   /**< This code probed the device (and removes it). */
	bool started;
	rte_spinlock_t tx_lock[SG_PORT_MAX_QUEUES];
	/** Captures attached (sgfwctl capture), by side; NULL: none. */
	struct sg_capture *_Atomic capture[SG_CAPTURE_SIDES];
};

struct sg_port_setup {
	struct rte_mempool *pool;
	uint16_t n_workers;
	uint16_t rx_desc;
	uint16_t tx_desc;
};

/**
 * Probe, configure and start the device of 'conf' (rx queues as configured, up to one tx queue
 * per worker, promiscuous). Returns 0, or a negative errno with 'err' naming the port and the
 * reason (a missing interface, a socket path that cannot be created, ...).
 */
int sg_port_open(const struct sg_conf_port *conf, const struct sg_port_setup *setup,
		struct sg_port_dev *dev, struct sg_error *err);

/** Stop, close and remove the device. Safe on a half-opened or zeroed dev. */
void sg_port_close(struct sg_port_dev *dev);

/** The devargs sgfw probes for a config port (exposed for tests and logs). */
int sg_port_devargs(const struct sg_conf_port *conf, uint16_t n_workers, char *buf, size_t size);

/** Link up (for vhost-user: a VM is connected and ready). */
bool sg_port_link_up(const struct sg_port_dev *dev);

/* The rte_vhost side of sg_port_rx/sg_port_tx (port_vhost.c). */
uint16_t sg_port_vhost_rx(struct sg_port_dev *dev, uint16_t queue, struct rte_mbuf **pkts,
		uint16_t n);
uint16_t sg_port_vhost_tx(struct sg_port_dev *dev, uint16_t queue, struct rte_mbuf **pkts,
		uint16_t n);

/**
 * Whether a vhost-user port has no VM connected, so what it could not send was not for a full
 * queue: the reason of the drop (port_down). One load, no system call: for the fast path.
 * Other kinds answer false.
 */
static inline bool
sg_port_vhost_down(const struct sg_port_dev *dev)
{
	return dev->vhost &&
	       atomic_load_explicit(&((struct sg_port_dev *)dev)->vid, memory_order_relaxed) < 0;
}

/* A capture attached to 'side' of the port, or NULL: one load per burst. */
static inline struct sg_capture *
port_capture(struct sg_port_dev *dev, enum sg_capture_side side)
{
	return atomic_load_explicit(&dev->capture[side], memory_order_acquire);
}

/** Receive a burst from rx queue 'queue'. */
static inline uint16_t
sg_port_rx(struct sg_port_dev *dev, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct sg_capture *cap;
	uint16_t got;

	if (dev->vhost)
		got = sg_port_vhost_rx(dev, queue, pkts, n);
	else
		got = rte_eth_rx_burst(dev->port_id, queue, pkts, n);
	if (unlikely((cap = port_capture(dev, SG_CAPTURE_RX)) != NULL) && got != 0)
		sg_capture_burst(cap, pkts, got);
	return got;
}

static inline uint16_t
port_tx_queue(struct sg_port_dev *dev, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	if (dev->vhost)
		return sg_port_vhost_tx(dev, queue, pkts, n);
	return rte_eth_tx_burst(dev->port_id, queue, pkts, n);
}

/**
 * Send a burst from 'worker'. Returns the number sent; those are consumed, the caller frees
 * the rest.
 */
static inline uint16_t
sg_port_tx(struct sg_port_dev *dev, uint16_t worker, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t queue = worker % dev->n_txq;
	struct sg_capture *cap;
	uint16_t sent;

	/* Before the send: the device owns what it sent. */
	if (unlikely((cap = port_capture(dev, SG_CAPTURE_TX)) != NULL) && n != 0)
		sg_capture_burst(cap, pkts, n);
	if (!dev->tx_shared)
		return port_tx_queue(dev, queue, pkts, n);
	rte_spinlock_lock(&dev->tx_lock[queue]);
	sent = port_tx_queue(dev, queue, pkts, n);
	rte_spinlock_unlock(&dev->tx_lock[queue]);
	return sent;
}

#endif /* SG_PORT_H */
