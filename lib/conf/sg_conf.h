/* The sgfw config file (libconfig syntax): loading it whole, validated, or not at all.
 *
 * Usage: sg_conf_load_file() parses the file, builds the security-group spec and the port
 * devices, and compiles the policy. On any error it returns NULL with one message of the
 * form "FILE:LINE: what is wrong", and nothing is half loaded.
 *
 * Thread-safety: a loaded conf is immutable; free it when no reader is left.
 */
#ifndef SG_CONF_H
#define SG_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "sg_common.h"
#include "sg_policy.h"

/** How a port reaches its VM or network. */
enum sg_port_kind {
	SG_PORT_VHOST_USER = 0, /**< vhost-user socket to a VM (default). */
	SG_PORT_AF_PACKET,      /**< A kernel interface (veth in tests). */
	SG_PORT_PCAP,           /**< rx/tx pcap files. */
	SG_PORT_NULL,           /**< Discards; for benchmarks only. */
	SG_PORT_RING,           /**< In-process rings; for tests. */
	SG_PORT_PCI,            /**< A NIC by PCI address (gateway appliance). */
};

#define SG_PATH_MAX 256

/** The device side of a port; VM ports also have an entry in the policy spec. */
struct sg_conf_port {
	char name[SG_NAME_MAX];
	enum sg_port_kind kind;
	bool uplink;            /**< Where unknown destinations go; carries no groups. */
	char path[SG_PATH_MAX]; /**< vhost-user socket, af_packet iface, rx pcap or PCI address. */
	char tx_pcap[SG_PATH_MAX]; /**< pcap only: file written with sent packets ("" = none). */
	bool client;            /**< vhost-user: sgfw connects to the hypervisor's socket. */
	uint16_t queues;        /**< Queue pairs (default 1). */
	int line;
};

struct sg_conf {
	char path[SG_PATH_MAX];
	struct sg_spec *spec;        /**< The security-group model as written. */
	struct sg_policy *policy;    /**< Compiled from spec. */
	struct sg_conf_port *ports;  /**< Every port, VM ports and uplinks, in file order. */
	uint32_t n_ports;
};

/** Load and validate a config file. NULL and 'err' ("FILE:LINE: ...") on any error. */
struct sg_conf *sg_conf_load_file(const char *path, struct sg_error *err);
/** Same, from text; 'origin' names it in messages. */
struct sg_conf *sg_conf_load_string(const char *text, const char *origin, struct sg_error *err);
/** Free a conf; NULL is a no-op. */
void sg_conf_free(struct sg_conf *conf);

/** Device entry of a port by name, or NULL. */
const struct sg_conf_port *sg_conf_find_port(const struct sg_conf *conf, const char *name);
const char *sg_port_kind_name(enum sg_port_kind kind);

#endif /* SG_CONF_H */
