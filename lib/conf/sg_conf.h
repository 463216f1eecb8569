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
	bool infinite_rx;       /**< pcap only: replay rx_pcap in a loop (benchmarks). */
	bool client;            /**< vhost-user: sgfw connects to the hypervisor's socket. */
	uint16_t queues;        /**< Queue pairs (default 1). */
	uint8_t peer_mac[6];    /**< Uplink: MAC of the next-hop router behind it. */
	bool has_peer_mac;
	int line;
};

/** A routed subnet: sgfw answers ARP/ND for its gateway and routes between subnets. */
struct sg_conf_subnet {
	struct sg_prefix cidr;
	struct sg_ip gateway;
	int line;
};

/** A setting given by name and checked by the library that owns it (conntrack timeouts). */
struct sg_conf_named_value {
	char name[SG_NAME_MAX];
	uint32_t value;
	int line;
};

#define SG_CONF_MAX_EAL_ARGS 32
#define SG_CONF_MAX_TIMEOUTS 32

/** The switch itself: cores, memory, queues. */
struct sg_conf_dataplane {
	uint32_t workers;          /**< Worker cores (default 1); the main core runs control. */
	uint32_t mbufs;            /**< Packet buffers in the pool (default 16383). */
	uint32_t burst;            /**< Packets per rx burst, 1..64 (default 32). */
	uint32_t rx_desc;          /**< Descriptors per rx queue (default 1024). */
	uint32_t tx_desc;          /**< Descriptors per tx queue (default 1024). */
	char *eal_args[SG_CONF_MAX_EAL_ARGS]; /**< Replace the default EAL arguments when set. */
	uint32_t n_eal_args;
};

struct sg_conf_conntrack {
	uint32_t capacity;         /**< Concurrent connections (default 1048576). */
	bool tcp_be_liberal;       /**< Only out-of-window RSTs are invalid (default false). */
	bool tcp_loose;            /**< Mid-stream pickup (default true, D10). */
	bool keep_established;     /**< Rule changes spare established connections (D9). */
	struct sg_conf_named_value timeouts[SG_CONF_MAX_TIMEOUTS];
	uint32_t n_timeouts;
	int line;
};

#define SG_CONF_MAX_SOURCES 16

struct sg_conf {
	char path[SG_PATH_MAX];
	char sources[SG_CONF_MAX_SOURCES][SG_PATH_MAX]; /**< Files by SG_LOC_FILE(); [0] is path. */
	uint32_t n_sources;
	struct sg_spec *spec;        /**< The security-group model as written. */
	struct sg_policy *policy;    /**< Compiled from spec. */
	struct sg_conf_port *ports;  /**< Every port, VM ports and uplinks, in file order. */
	uint32_t n_ports;
	struct sg_conf_subnet *subnets;
	uint32_t n_subnets;
	uint8_t router_mac[6];       /**< Gateway MAC that VMs route through. */
	struct sg_conf_dataplane dataplane;
	struct sg_conf_conntrack conntrack;
	char control_socket[SG_PATH_MAX]; /**< sgfwctl's UNIX socket ("" = off). */
};

/** Load and validate a config file. NULL and 'err' ("FILE:LINE: ...") on any error. */
struct sg_conf *sg_conf_load_file(const char *path, struct sg_error *err);
/** Same, from text; 'origin' names it in messages. */
struct sg_conf *sg_conf_load_string(const char *text, const char *origin, struct sg_error *err);
/** Free a conf; NULL is a no-op. */
void sg_conf_free(struct sg_conf *conf);

/** The file of a location (SG_LOC) in this config. */
const char *sg_conf_source(const struct sg_conf *conf, int loc);
/** The uplink port, or NULL. */
const struct sg_conf_port *sg_conf_uplink(const struct sg_conf *conf);
/** The subnet holding 'ip', or NULL. */
const struct sg_conf_subnet *sg_conf_subnet_of(const struct sg_conf *conf, const struct sg_ip *ip);
/** Device entry of a port by name, or NULL. */
const struct sg_conf_port *sg_conf_find_port(const struct sg_conf *conf, const char *name);
const char *sg_port_kind_name(enum sg_port_kind kind);

#endif /* SG_CONF_H */
