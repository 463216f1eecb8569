/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of lib/port: the rte_vhost side of vhost-user ports. */
#ifndef SG_PORT_PRIVATE_H
#define SG_PORT_PRIVATE_H

#include "sg_port.h"

int port_vhost_open(const struct sg_conf_port *conf, const struct sg_port_setup *setup,
		struct sg_port_dev *dev, struct sg_error *err);
void port_vhost_close(struct sg_port_dev *dev);
bool port_vhost_connected(const struct sg_port_dev *dev);

#endif /* SG_PORT_PRIVATE_H */
