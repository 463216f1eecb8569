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

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_spinlock.h>

#include "sg_conf.h"

#define SG_PORT_MAX_QUEUES 16
/** vhost-user ports are not ethdevs (RTE_MAX_ETHPORTS is 32): this many may be open. */
#define SG_PORT_MAX_VHOST 1024

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

/** Receive a burst from rx queue 'queue'. */
static inline uint16_t
sg_port_rx(struct sg_port_dev *dev, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	if (dev->vhost)
		return sg_port_vhost_rx(dev, queue, pkts, n);
	return rte_eth_rx_burst(dev->port_id, queue, pkts, n);
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
	uint16_t sent;

	if (!dev->tx_shared)
		return port_tx_queue(dev, queue, pkts, n);
	rte_spinlock_lock(&dev->tx_lock[queue]);
	sent = port_tx_queue(dev, queue, pkts, n);
	rte_spinlock_unlock(&dev->tx_lock[queue]);
	return sent;
}

#endif /* SG_PORT_H */
