/* SPDX-License-Identifier: BSD-3-Clause */
/* Port setup: devargs from the config, run-time probe, queue and device configuration. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "port_private.h"

/* Devices get unique names: a port removed and added again must not reuse a stale name. */
static unsigned int device_serial;

/*
 * The device name's tail: "sgSERIAL_PORT", so dpdk-dumpcap -D lists ethdevs by the port they
 * serve; without the port's name when it has characters devargs would misread, or is long.
 * The ring driver names its rings "ETH_RXTX0_" to "ETH_RXTX15_" and the device name, within
 * RTE_RING_NAMESIZE (29 with the NUL): a ring device's tail has at most 8 characters, or the
 * driver cannot attach it, as check_dp's hundredth ring port ("sg100_up0") found.
 */
static void
device_tag(const struct sg_conf_port *conf, unsigned int serial, char *tag, size_t size)
{
	bool plain = strlen(conf->name) <= 32;

	for (const char *c = conf->name; *c != '\0' && plain; c++)
		plain = isalnum((unsigned char)*c) || *c == '_' || *c == '-' || *c == '.';
	if (plain && conf->kind == SG_PORT_RING)
		plain = snprintf(tag, size, "sg%u_%s", serial, conf->name) <= 8;
	if (plain)
		snprintf(tag, size, "sg%u_%s", serial, conf->name);
	else
		snprintf(tag, size, "sg%u", serial);
}

int
sg_port_devargs(const struct sg_conf_port *conf, uint16_t n_workers, char *buf, size_t size)
{
	unsigned int serial = device_serial++;
	uint16_t queues = conf->queues;
	char tag[48];
	int n;

	device_tag(conf, serial, tag, sizeof(tag));
	(void)n_workers; /* every device gets its configured queues; tx is shared beyond them */

	switch (conf->kind) {
	case SG_PORT_VHOST_USER:
		/* Not an ethdev: the rte_vhost library serves the socket (port_vhost.c). */
		n = snprintf(buf, size, "vhost-user:%s%s", conf->path, conf->client ? ",client" : "");
		break;
	case SG_PORT_AF_PACKET:
		/*
		 * Exactly 'queues' sockets: the driver joins them in one fanout group, so each
		 * receives a share of the traffic and every one must be polled as an rx queue.
		 * (More sockets than rx queues would leave unpolled rings that swallow flows.)
		 * With more workers than sockets, workers share a socket's tx under its lock.
		 */
		n = snprintf(buf, size, "net_af_packet_%s,iface=%s,qpairs=%u", tag, conf->path,
				queues);
		break;
	case SG_PORT_PCAP:
		/* Without a tx file net_pcap drops what it is given: a sink for benchmarks. */
		n = snprintf(buf, size, "net_pcap_%s,rx_pcap=%s%s%s%s", tag, conf->path,
				conf->tx_pcap[0] ? ",tx_pcap=" : "", conf->tx_pcap,
				conf->infinite_rx ? ",infinite_rx=1" : "");
		break;
	case SG_PORT_NULL:
		n = snprintf(buf, size, "net_null_%s", tag);
		break;
	case SG_PORT_RING:
		n = snprintf(buf, size, "net_ring_%s", tag);
		break;
	case SG_PORT_PCI:
		n = snprintf(buf, size, "%s", conf->path);
		break;
	default:
		return -EINVAL;
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The ethdev created by probing 'devargs' (its name is the part before the first comma). */
static int
find_port(const char *devargs, uint16_t *port_id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t n = strcspn(devargs, ",");

	if (n >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, devargs, n);
	name[n] = '\0';
	return rte_eth_dev_get_port_by_name(name, port_id);
}

static int
check_device(const struct sg_conf_port *conf, struct sg_error *err)
{
	char path[SG_PATH_MAX + 32];
	struct stat st;

	switch (conf->kind) {
	case SG_PORT_AF_PACKET:
		snprintf(path, sizeof(path), "/sys/class/net/%s", conf->path);
		if (stat(path, &st) != 0)
			return sg_error_set(err, conf->line, "port \"%s\": interface \"%s\" does not exist",
					conf->name, conf->path);
		break;
	case SG_PORT_PCAP:
		if (stat(conf->path, &st) != 0)
			return sg_error_set(err, conf->line, "port \"%s\": rx_pcap \"%s\": %s", conf->name,
					conf->path, strerror(errno));
		break;
	default:
		break;
	}
	return 0;
}

static int
configure(const struct sg_conf_port *conf, const struct sg_port_setup *setup,
		struct sg_port_dev *dev, struct sg_error *err)
{
	struct rte_eth_conf eth_conf = {0};
	struct rte_eth_dev_info info;
	int socket, rc;

	rc = rte_eth_dev_info_get(dev->port_id, &info);
	if (rc != 0)
		return sg_error_set(err, conf->line, "port \"%s\": cannot read device info: %s",
				conf->name, rte_strerror(-rc));
	dev->n_rxq = (uint16_t)SG_MIN(SG_MIN(conf->queues, info.max_rx_queues), SG_PORT_MAX_QUEUES);
	dev->n_txq = (uint16_t)SG_MIN(SG_MIN(setup->n_workers, info.max_tx_queues), SG_PORT_MAX_QUEUES);
	if (dev->n_rxq == 0 || dev->n_txq == 0)
		return sg_error_set(err, conf->line, "port \"%s\": the device offers no queues", conf->name);
	dev->tx_shared = dev->n_txq < setup->n_workers;
	for (unsigned int q = 0; q < SG_PORT_MAX_QUEUES; q++)
		rte_spinlock_init(&dev->tx_lock[q]);
	if (dev->n_rxq > 1)
		eth_conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	eth_conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
	if (eth_conf.rx_adv_conf.rss_conf.rss_hf == 0)
		eth_conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
	rc = rte_eth_dev_configure(dev->port_id, dev->n_rxq, dev->n_txq, &eth_conf);
	if (rc != 0)
		return sg_error_set(err, conf->line, "port \"%s\": configure failed: %s", conf->name,
				rte_strerror(-rc));
	socket = rte_eth_dev_socket_id(dev->port_id);
	for (uint16_t q = 0; q < dev->n_rxq; q++) {
		rc = rte_eth_rx_queue_setup(dev->port_id, q, setup->rx_desc, socket, NULL, setup->pool);
		if (rc != 0)
			return sg_error_set(err, conf->line, "port \"%s\": rx queue %u: %s", conf->name, q,
					rte_strerror(-rc));
	}
	for (uint16_t q = 0; q < dev->n_txq; q++) {
		rc = rte_eth_tx_queue_setup(dev->port_id, q, setup->tx_desc, socket, NULL);
		if (rc != 0)
			return sg_error_set(err, conf->line, "port \"%s\": tx queue %u: %s", conf->name, q,
					rte_strerror(-rc));
	}
	rc = rte_eth_dev_start(dev->port_id);
	if (rc != 0)
		return sg_error_set(err, conf->line, "port \"%s\": start failed: %s", conf->name,
				rte_strerror(-rc));
	dev->started = true;
	/* VMs send to other VMs' MACs and to the router MAC: receive every frame. */
	rc = rte_eth_promiscuous_enable(dev->port_id);
	if (rc != 0 && rc != -ENOTSUP)
		return sg_error_set(err, conf->line, "port \"%s\": promiscuous mode: %s", conf->name,
				rte_strerror(-rc));
	return 0;
}

int
sg_port_open(const struct sg_conf_port *conf, const struct sg_port_setup *setup,
		struct sg_port_dev *dev, struct sg_error *err)
{
	int rc;

	memset(dev, 0, sizeof(*dev));
	sg_strlcpy(dev->name, conf->name, sizeof(dev->name));
	dev->kind = conf->kind;
	if ((rc = check_device(conf, err)) < 0)
		return rc;
	if (sg_port_devargs(conf, setup->n_workers, dev->devargs, sizeof(dev->devargs)) < 0)
		return sg_error_set(err, conf->line, "port \"%s\": device arguments too long", conf->name);
	if (conf->kind == SG_PORT_VHOST_USER)
		return port_vhost_open(conf, setup, dev, err);
	if (conf->kind == SG_PORT_PCI) {
		/* PCI devices are probed by EAL at start (allow-listed); find the port. */
		rc = rte_eth_dev_get_port_by_name(conf->path, &dev->port_id);
	} else {
		rc = rte_dev_probe(dev->devargs);
		if (rc == 0) {
			dev->probed = true;
			rc = find_port(dev->devargs, &dev->port_id);
		}
	}
	if (rc != 0) {
		sg_port_close(dev);
		return sg_error_set(err, conf->line, "port \"%s\": cannot open %s device (%s): %s",
				conf->name, sg_port_kind_name(conf->kind), dev->devargs,
				rte_strerror(rc < 0 ? -rc : rc));
	}
	rc = configure(conf, setup, dev, err);
	if (rc < 0)
		sg_port_close(dev);
	return rc;
}

void
sg_port_close(struct sg_port_dev *dev)
{
	char name[RTE_ETH_NAME_MAX_LEN];

	if (dev->vhost) {
		port_vhost_close(dev);
		return;
	}
	if (dev->started) {
		rte_eth_dev_stop(dev->port_id);
		dev->started = false;
	}
	if (dev->probed) {
		size_t n = strcspn(dev->devargs, ",");

		if (n < sizeof(name)) {
			memcpy(name, dev->devargs, n);
			name[n] = '\0';
			if (find_port(dev->devargs, &dev->port_id) == 0)
				rte_eth_dev_close(dev->port_id);
			rte_eal_hotplug_remove("vdev", name);
		}
		dev->probed = false;
	}
}

bool
sg_port_link_up(const struct sg_port_dev *dev)
{
	struct rte_eth_link link;

	if (dev->vhost)
		return port_vhost_connected(dev);
	return rte_eth_link_get_nowait(dev->port_id, &link) == 0 &&
	       link.link_status == RTE_ETH_LINK_UP;
}
