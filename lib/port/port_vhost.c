/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user ports driven through the rte_vhost library, as Open vSwitch does, rather than the
 * net_vhost ethdev: ethdevs are limited to RTE_MAX_ETHPORTS (32 in Debian's DPDK), a
 * hypervisor's switch serves hundreds of VMs.
 *
 * The vhost library calls back on its own thread when a VM connects (new_device) or goes away
 * (destroy_device). Workers read the device id once per burst; destroy_device clears it and
 * waits until no worker is inside an enqueue or dequeue of that device, because the guest's
 * memory is unmapped as soon as it returns. */
#include <errno.h>
#include <linux/virtio_net.h>
#include <pthread.h>
#include <string.h>

#include <rte_pause.h>
#include <rte_vhost.h>

#include "port_private.h"

/* Offloads the switch does not implement: guests must send and receive whole packets with
 * complete checksums, as the classifier and the receiving VMs expect. */
#define UNSUPPORTED_FEATURES                                                                       \
	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |                         \
			(1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) |    \
			(1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_UFO) |      \
			(1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |      \
			(1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_HOST_UFO))

/* Open vhost ports by socket path, for the callbacks (which only know the device id). */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sg_port_dev *registry[SG_PORT_MAX_VHOST];

static struct sg_port_dev *
find_by_vid(int vid)
{
	char path[SG_PATH_MAX];
	struct sg_port_dev *dev = NULL;

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) != 0)
		return NULL;
	pthread_mutex_lock(&registry_lock);
	for (unsigned int i = 0; i < SG_PORT_MAX_VHOST && dev == NULL; i++)
		if (registry[i] != NULL && strcmp(registry[i]->vhost_path, path) == 0)
			dev = registry[i];
	pthread_mutex_unlock(&registry_lock);
	return dev;
}

static int
new_device(int vid)
{
	struct sg_port_dev *dev = find_by_vid(vid);

	if (dev == NULL)
		return -1;
	/* The workers poll: spare the guest the kicks. */
	for (uint16_t q = 0; q < rte_vhost_get_vring_num(vid); q++)
		rte_vhost_enable_guest_notification(vid, q, 0);
	atomic_store_explicit(&dev->vid, vid, memory_order_release);
	return 0;
}

static void
destroy_device(int vid)
{
	struct sg_port_dev *dev = find_by_vid(vid);

	if (dev == NULL)
		return;
	atomic_store_explicit(&dev->vid, -1, memory_order_seq_cst);
	/* A worker that saw the old id is still inside the library: wait it out. */
	while (atomic_load_explicit(&dev->inflight, memory_order_seq_cst) != 0)
		rte_pause();
}

static const struct rte_vhost_device_ops vhost_ops = {
	.new_device = new_device,
	.destroy_device = destroy_device,
};

/*
 * A server socket left behind by a switch that was killed (it had no chance to unregister it)
 * makes bind() fail, so sgfw could not start again after a crash. Remove it when nothing
 * answers on it; refuse a path that some process serves (a running switch, another port of
 * this one) or that is not a socket, rather than take it over.
 */
static int
clear_stale_socket(const struct sg_conf_port *conf, struct sg_error *err)
{
	int rc = sg_socket_path_clear(conf->path);

	if (rc == -EEXIST)
		return sg_error_set(err, conf->line,
				"port \"%s\": %s exists and is not a socket; remove it or choose "
				"another path",
				conf->name, conf->path);
	if (rc == -EADDRINUSE)
		return sg_error_set(err, conf->line,
				"port \"%s\": vhost-user socket %s is served by another process (a "
				"running sgfw, or another port with the same path)",
				conf->name, conf->path);
	return 0; /* Anything else: rte_vhost names the problem. */
}

int
port_vhost_open(const struct sg_conf_port *conf, const struct sg_port_setup *setup,
		struct sg_port_dev *dev, struct sg_error *err)
{
	uint64_t flags = conf->client ? RTE_VHOST_USER_CLIENT : 0;
	unsigned int slot;
	int rc;

	dev->vhost = true;
	dev->pool = setup->pool;
	atomic_store(&dev->vid, -1);
	atomic_store(&dev->inflight, 0);
	sg_strlcpy(dev->vhost_path, conf->path, sizeof(dev->vhost_path));
	dev->n_rxq = conf->queues;
	dev->n_txq = conf->queues;
	dev->tx_shared = dev->n_txq < setup->n_workers;
	for (unsigned int q = 0; q < SG_PORT_MAX_QUEUES; q++)
		rte_spinlock_init(&dev->tx_lock[q]);
	pthread_mutex_lock(&registry_lock);
	for (slot = 0; slot < SG_PORT_MAX_VHOST && registry[slot] != NULL; slot++)
		;
	if (slot < SG_PORT_MAX_VHOST)
		registry[slot] = dev;
	pthread_mutex_unlock(&registry_lock);
	if (slot == SG_PORT_MAX_VHOST)
		return sg_error_set(err, conf->line, "port \"%s\": more than %d vhost-user ports",
				conf->name, SG_PORT_MAX_VHOST);
	dev->vhost_slot = slot;
	if (!conf->client && clear_stale_socket(conf, err) < 0) {
		port_vhost_close(dev);
		return -EADDRINUSE;
	}
	rc = rte_vhost_driver_register(conf->path, flags);
	if (rc == 0) {
		dev->vhost_registered = true;
		rc = rte_vhost_driver_disable_features(conf->path, UNSUPPORTED_FEATURES);
	}
	if (rc == 0)
		rc = rte_vhost_driver_callback_register(conf->path, &vhost_ops);
	if (rc == 0)
		rc = rte_vhost_driver_start(conf->path);
	if (rc != 0) {
		port_vhost_close(dev);
		return sg_error_set(err, conf->line,
				"port \"%s\": cannot %s vhost-user socket %s (is the directory there and "
				"the path free?)",
				conf->name, conf->client ? "connect to" : "create", conf->path);
	}
	dev->started = true;
	return 0;
}

void
port_vhost_close(struct sg_port_dev *dev)
{
	if (dev->vhost_registered) {
		/* Tears the connection down (destroy_device) and removes a server's socket. */
		rte_vhost_driver_unregister(dev->vhost_path);
		dev->vhost_registered = false;
	}
	pthread_mutex_lock(&registry_lock);
	if (dev->vhost_slot < SG_PORT_MAX_VHOST && registry[dev->vhost_slot] == dev)
		registry[dev->vhost_slot] = NULL;
	pthread_mutex_unlock(&registry_lock);
	dev->started = false;
}

/* Enter the device for one burst; -1 when no VM is connected. */
static inline int
enter(struct sg_port_dev *dev)
{
	int vid = atomic_load_explicit(&dev->vid, memory_order_acquire);

	if (vid < 0)
		return -1;
	atomic_fetch_add_explicit(&dev->inflight, 1, memory_order_seq_cst);
	/* destroy_device may have cleared it between the two loads. */
	vid = atomic_load_explicit(&dev->vid, memory_order_seq_cst);
	if (vid < 0)
		atomic_fetch_sub_explicit(&dev->inflight, 1, memory_order_release);
	return vid;
}

static inline void
leave(struct sg_port_dev *dev)
{
	atomic_fetch_sub_explicit(&dev->inflight, 1, memory_order_release);
}

uint16_t
sg_port_vhost_rx(struct sg_port_dev *dev, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	int vid = enter(dev);
	uint16_t got;

	if (vid < 0)
		return 0;
	/* The guest's transmit ring of pair 'queue' is virtqueue 2 * queue + 1. */
	got = rte_vhost_dequeue_burst(vid, (uint16_t)(queue * 2 + 1), dev->pool, pkts, n);
	leave(dev);
	return got;
}

uint16_t
sg_port_vhost_tx(struct sg_port_dev *dev, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	int vid = enter(dev);
	uint16_t sent;

	if (vid < 0)
		return 0;
	sent = rte_vhost_enqueue_burst(vid, (uint16_t)(queue * 2), pkts, n);
	leave(dev);
	/* The library copied them into the guest: the sent ones are ours to free. */
	rte_pktmbuf_free_bulk(pkts, sent);
	return sent;
}

bool
port_vhost_connected(const struct sg_port_dev *dev)
{
	return atomic_load_explicit(&((struct sg_port_dev *)dev)->vid, memory_order_relaxed) >= 0;
}
