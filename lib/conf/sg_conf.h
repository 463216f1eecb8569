/* SPDX-License-Identifier: BSD-3-Clause */
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
#include <stdio.h>

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
/* A user or group name (or number), as useradd allows them (32 characters). */
#define SG_OWNER_MAX 33

/**
 * Who may connect to a vhost-user server socket: its owner, group and mode, set after sgfw
 * creates it. Empty names and mode 0 mean "not set here" (a port falls back to the
 * vhost_user section's, then to sgfw's own user and mode 0600).
 */
struct sg_conf_socket_access {
	char owner[SG_OWNER_MAX];
	char group[SG_OWNER_MAX];
	uint32_t mode; /**< 0..0777; 0: not set. */
};

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
	uint32_t max_connections;        /**< Connections it may have open; 0: the default. */
	uint32_t new_connections_per_second; /**< Connections it may open per second; 0: default. */
	uint8_t peer_mac[6];    /**< Uplink: MAC of the next-hop router behind it. */
	bool has_peer_mac;
	char description[SG_DESC_MAX]; /**< Free text, as written ("" = none). */
	struct sg_conf_socket_access socket; /**< vhost-user server: socket_owner/group/mode. */
	/** VM ports: the host its VM runs on ("" or the config's own host: this one). */
	char host[SG_NAME_MAX];
	/** Derived by the loader: 'host' names another host. sgfw opens no device for it; its
	 *  addresses are reached through the overlay (docs/config.md, ports[].host). */
	bool remote;
	int line;
};

/** A host of the fleet (docs/config.md, hosts): where its VMs are reached over the overlay. */
struct sg_conf_host {
	char name[SG_NAME_MAX];
	struct sg_ip vtep;      /**< Its VXLAN tunnel endpoint: a unicast IPv4 address. */
	uint8_t mac[6];         /**< Its uplink MAC on the underlay. */
	bool has_mac;           /**< Without one, frames to it go to the uplink's peer_mac. */
	int line;
};

/** The VXLAN overlay between hosts (docs/config.md, overlay). */
struct sg_conf_overlay {
	uint32_t mtu;           /**< Underlay MTU (default 1500); VM packets get mtu - 50. */
	int line;
};

/* Bytes VXLAN adds before an inner Ethernet frame's IP header: outer Ethernet 14, IPv4 20,
 * UDP 8, VXLAN 8 (the inner frame's own 14-byte Ethernet header rides inside). */
#define SG_VXLAN_OVERHEAD 50
#define SG_VXLAN_UDP_PORT 4789
#define SG_VNI_MAX 16777215u
#define SG_OVERLAY_MTU_DEFAULT 1500
#define SG_OVERLAY_MTU_MIN 1330 /* IPv6's minimum link MTU (1280) inside VXLAN */
#define SG_OVERLAY_MTU_MAX 9216

/** A routed subnet: sgfw answers ARP/ND for its gateway and routes between subnets. */
struct sg_conf_subnet {
	struct sg_prefix cidr;
	struct sg_ip gateway;
	uint32_t vni;           /**< VXLAN network id, 1..SG_VNI_MAX; 0: local-only subnet. */
	int line;
};

/** A setting given by name and checked by the library that owns it (conntrack timeouts). */
struct sg_conf_named_value {
	char name[SG_NAME_MAX];
	uint32_t value;
	int line;
};

#define SG_CONF_MAX_EAL_ARGS 32
/* dataplane.sleep_max_us's upper bound, OVS's pmd-sleep-max's: 10 ms. */
#define SG_CONF_SLEEP_MAX_US 10000
#define SG_CONF_MAX_TIMEOUTS 32
/* conntrack.share_reserve when absent: SG_CT_SHARE_RESERVE_DEFAULT (lib/ct). */
#define SG_CONF_SHARE_RESERVE_DEFAULT 12

/** The switch itself: cores, memory, queues. */
struct sg_conf_dataplane {
	uint32_t workers;          /**< Worker cores (default 1); the main core runs control. */
	uint32_t mbufs;            /**< Packet buffers in the pool (default 16383). */
	uint32_t burst;            /**< Packets per rx burst, 1..64 (default 32). */
	uint32_t rx_desc;          /**< Descriptors per rx queue (default 1024). */
	uint32_t tx_desc;          /**< Descriptors per tx queue (default 1024). */
	char *eal_args[SG_CONF_MAX_EAL_ARGS]; /**< Replace the default EAL arguments when set. */
	uint32_t n_eal_args;
	char file_prefix[SG_NAME_MAX]; /**< EAL --file-prefix (default "sgfw"). */
	uint32_t sleep_max_us;     /**< Idle workers sleep up to this long (0: never, default). */
};

#define SG_CONF_MAX_LOG_LEVELS 32

/** One "PATTERN:LEVEL" of logging.levels: rte_log types matching PATTERN (a glob). */
struct sg_conf_log_level {
	char pattern[SG_NAME_MAX];
	uint8_t level;             /**< 1 (emergency) .. 8 (debug), as rte_log numbers them. */
	int line;
};

enum sg_log_output {
	SG_LOG_OUTPUT_STDERR = 0,  /**< stderr; under systemd with syslog priorities (default). */
	SG_LOG_OUTPUT_SYSLOG,      /**< syslog(3), facility daemon. */
};

/** Logging (docs/config.md): levels of sgfw's rte_log types and where messages go. */
struct sg_conf_logging {
	uint8_t level;             /**< Every sgfw.* type (default 7, info). */
	struct sg_conf_log_level levels[SG_CONF_MAX_LOG_LEVELS]; /**< Then these, in order. */
	uint32_t n_levels;
	enum sg_log_output output;
	int line;
};

struct sg_conf_conntrack {
	uint32_t capacity;         /**< Concurrent connections (default 1048576). */
	bool tcp_be_liberal;       /**< Only out-of-window RSTs are invalid (default false). */
	bool tcp_loose;            /**< Mid-stream pickup (default true, D10). */
	bool keep_established;     /**< Rule changes spare established connections (D9). */
	uint32_t port_max_connections;   /**< Default per-port limit of open connections (0: none). */
	uint32_t port_new_connections_per_second; /**< Default per-port rate of new ones (0: none). */
	uint32_t share_reserve;    /**< Percent of the table kept for ports under their share. */
	struct sg_conf_named_value timeouts[SG_CONF_MAX_TIMEOUTS];
	uint32_t n_timeouts;
	int line;
};

/* Flow-log traffic selection: which verdicts of a port are logged. */
#define SG_FLOWLOG_ACCEPT 0x1
#define SG_FLOWLOG_REJECT 0x2
#define SG_FLOWLOG_ALL (SG_FLOWLOG_ACCEPT | SG_FLOWLOG_REJECT)

enum sg_flowlog_format {
	SG_FLOWLOG_TEXT = 0, /**< Space-separated fields in a fixed order (docs/flowlogs.md). */
	SG_FLOWLOG_JSON,     /**< One JSON object per line. */
	SG_FLOWLOG_ALIBABA,  /**< Alibaba Cloud VPC flow logs' fields, space-separated. */
	SG_FLOWLOG_AWS_V5,   /**< AWS VPC flow logs version 5, space-separated. */
	SG_FLOWLOG_FORMAT_COUNT,
};

/** A flow-log selection for one group or one port. */
struct sg_conf_flowlog_sel {
	char name[SG_NAME_MAX];    /**< Group id or port name. */
	uint8_t traffic;           /**< SG_FLOWLOG_* bits; 0 logs nothing. */
	int line;
};

/** Flow logs (docs/flowlogs.md): per-flow records aggregated over a window, written to files. */
struct sg_conf_flowlog {
	bool enabled;              /**< Default false. */
	char directory[SG_PATH_MAX]; /**< Default /var/log/sgfw/flows. */
	uint32_t window;           /**< Aggregation window in seconds (default 60). */
	enum sg_flowlog_format format;
	uint32_t max_file_mb;      /**< A file is closed at this size (default 64 MiB)... */
	uint32_t max_file_age;     /**< ...or this age in seconds (default 3600). */
	uint32_t ring_size;        /**< Records per worker ring (default 8192). */
	uint32_t max_flows;        /**< Flows per window and connections followed (default 262144). */
	uint32_t port_max_flows;   /**< Lines one port may have per window (default max_flows / 4). */
	uint32_t port_events_per_second; /**< Events one port's packets may cause (default 100000). */
	uint8_t traffic;           /**< Selection of every VM port by default (default both). */
	struct sg_conf_flowlog_sel *groups; /**< Per group: a port takes the union of its groups'. */
	uint32_t n_groups;
	struct sg_conf_flowlog_sel *ports;  /**< Per port: overrides groups and the default. */
	uint32_t n_ports;
	int line;
};

#define SG_CONF_MAX_ENDPOINTS 8

/** cluster: this sgfw is a node of a fleet whose policy is in etcd (docs/cluster.md). */
struct sg_conf_cluster {
	char endpoints[SG_CONF_MAX_ENDPOINTS][SG_PATH_MAX]; /**< "http://10.0.0.1:2379", ... */
	uint32_t n_endpoints; /**< 0: not a cluster node (no cluster section). */
	char prefix[SG_PATH_MAX];     /**< Key prefix (default "/sgfw/v1/"). */
	char state_file[SG_PATH_MAX]; /**< The last applied fleet state (default
					   /var/lib/sgfw/cluster.json). */
	char ca_file[SG_PATH_MAX];    /**< TLS: CA of the etcd servers ("" = the system's). */
	char cert_file[SG_PATH_MAX];  /**< TLS client certificate ("" = none). */
	char key_file[SG_PATH_MAX];   /**< Its key. */
	uint32_t timeout_ms;          /**< Each etcd call (default 5000). */
	uint32_t lease_ttl;           /**< The presence key's lease, s (default 10). */
	int line;
};

#define SG_CONF_MAX_SOURCES 16
#define SG_CONF_MAX_METRICS_ADDRESSES 4

struct sg_conf {
	char path[SG_PATH_MAX];
	char host[SG_NAME_MAX];      /**< This node's name in 'hosts' ("" = not a fleet config). */
	struct sg_conf_host *hosts;  /**< Every host of the fleet, this one included. */
	uint32_t n_hosts;
	struct sg_conf_overlay overlay;
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
	char control_group[SG_NAME_MAX]; /**< Group that may use it too ("" = root only). */
	bool control_persist;        /**< Save the running config to 'path' after every change. */
	uint16_t metrics_port;       /**< Prometheus endpoint port; 0 = off (default). */
	/** Addresses it listens on; none given: 127.0.0.1 and ::1 (where IPv6 is up). */
	struct sg_ip metrics_address[SG_CONF_MAX_METRICS_ADDRESSES];
	uint32_t n_metrics_address;
	struct sg_conf_flowlog flow_logs;
	struct sg_conf_logging logging;
	struct sg_conf_socket_access vhost_user; /**< Default socket access of vhost-user ports. */
	struct sg_conf_cluster cluster; /**< etcd (n_endpoints 0: a standalone sgfw). */
};

/** Load and validate a config file. NULL and 'err' ("FILE:LINE: ...") on any error. */
struct sg_conf *sg_conf_load_file(const char *path, struct sg_error *err);
/** Same, from text; 'origin' names it in messages. */
struct sg_conf *sg_conf_load_string(const char *text, const char *origin, struct sg_error *err);
/** Free a conf; NULL is a no-op. */
void sg_conf_free(struct sg_conf *conf);

/**
 * A new conf like 'base' (same switch settings and file) but with 'spec' and 'ports'
 * (copied). Validated and compiled as a loaded file would be; NULL and 'err' when not.
 * Takes ownership of 'spec' in every case. This is how online changes are made.
 */
struct sg_conf *sg_conf_derive(const struct sg_conf *base, struct sg_spec *spec,
		const struct sg_conf_port *ports, uint32_t n_ports, struct sg_error *err);

/**
 * Write 'conf' as libconfig text (@includes flattened, comments not kept): every field of
 * every section, so loading the text gives the same configuration. 0 or -EIO.
 */
int sg_conf_write(const struct sg_conf *conf, FILE *out);
/**
 * Write 'conf' to 'path' atomically: a new temporary file beside it (O_EXCL, the replaced
 * file's owner and mode), fsync, rename. A 'path' that is a symbolic link or not a regular
 * file is refused (-EPERM): sgfw neither drops a link nor writes through it.
 * 0 or -errno and 'err'.
 */
int sg_conf_save(const struct sg_conf *conf, const char *path, struct sg_error *err);
/** One rule in config syntax, "{ direction = ...; ... }", with the fields it was given. */
void sg_conf_write_rule(FILE *out, const struct sg_rule *rule);
/** A libconfig string literal that reads back as 's': quotes and backslashes escaped,
 * control and bidirectional characters written as \xHH bytes. */
void sg_conf_put_string(FILE *out, const char *s);

/** Called with each difference sg_conf_diff() finds ("conntrack", "spec.groups[1].rules[0]"). */
typedef void (*sg_conf_diff_fn)(void *arg, const char *what);
/**
 * Compare two configs whole: every field of every section, but not where things were read
 * from (file, lines) and not the compiled policy. Returns the number of differences and hands
 * each to 'fn' (may be NULL). Arrays of different lengths count as one difference.
 */
int sg_conf_diff(const struct sg_conf *a, const struct sg_conf *b, sg_conf_diff_fn fn, void *arg);
/**
 * The settings of 'want' that take effect only when sgfw starts (docs/config.md lists them)
 * and differ from 'started', the config sgfw started with: each named by its field
 * ("dataplane.workers", "flow_logs.directory") to 'fn' (may be NULL). Returns their number.
 * A reload applies the rest of 'want' and reports these as waiting for a restart.
 */
int sg_conf_restart_diff(const struct sg_conf *started, const struct sg_conf *want,
		sg_conf_diff_fn fn, void *arg);

/**
 * 'conf' with the security groups of Alibaba Cloud JSON merged in (docs/config.md): each of
 * texts[0..n) is a DescribeSecurityGroupAttribute response (one group: its description,
 * InnerAccessPolicy and rules, which replace the group's) or a DescribeSecurityGroups
 * response (SecurityGroups.SecurityGroup[]: type, description and tags of each). A group not
 * in 'conf' is added. The result is validated as a loaded file is (sg_conf_derive()). NULL and
 * 'err' naming origins[i], the JSON path and the field ("g.json: $.Permissions.Permission[2]:
 * Priority 0 is out of range 1..100") when anything is wrong; 'conf' is never changed.
 */
struct sg_conf *sg_conf_alibaba_import(const struct sg_conf *conf, const char *const *texts,
		const char *const *origins, uint32_t n, struct sg_error *err);
/**
 * Write group 'group' of 'conf' as a DescribeSecurityGroupAttribute response, or with 'group'
 * NULL every group as a DescribeSecurityGroups response (type, description, tags), indented
 * JSON. sg_conf_alibaba_import() reads either back to the same groups. 0, or -EINVAL and 'err'
 * (no such group; a rule with a field Alibaba has no name for: icmp_type, icmp_code).
 */
int sg_conf_alibaba_export(
		const struct sg_conf *conf, const char *group, FILE *out, struct sg_error *err);

/** The file of a location (SG_LOC) in this config. */
const char *sg_conf_source(const struct sg_conf *conf, int loc);
/** The uplink port, or NULL. */
const struct sg_conf_port *sg_conf_uplink(const struct sg_conf *conf);
/** The subnet holding 'ip', or NULL. */
const struct sg_conf_subnet *sg_conf_subnet_of(const struct sg_conf *conf, const struct sg_ip *ip);
/*
 * Building a port from text, as the config file and sgfwctl's "port add" do: init with the
 * name, type (NULL: vhost-user) and role (NULL: vm), set each field (list fields such as ips,
 * tags and security_groups take one element per call; 'port' is NULL for an uplink), then
 * finish (defaults, required fields). Each returns 0 or -EINVAL with 'err' naming the field.
 */
int sg_conf_port_init(struct sg_conf_port *dev, const char *name, const char *type,
		const char *role, int line, struct sg_error *err);
int sg_conf_port_set(struct sg_conf_port *dev, struct sg_spec_port *port, const char *field,
		const char *value, struct sg_error *err);
int sg_conf_port_finish(struct sg_conf_port *dev, struct sg_error *err);

/**
 * The socket access of vhost-user server port 'port': its own fields, else the vhost_user
 * section's; the mode is 0600 when neither sets it, the names "" (sgfw's own).
 */
void sg_conf_socket_access(const struct sg_conf *conf, const struct sg_conf_port *port,
		struct sg_conf_socket_access *access);

/** A host by name, or NULL. */
const struct sg_conf_host *sg_conf_find_host(const struct sg_conf *conf, const char *name);
/** Device entry of a port by name, or NULL. */
const struct sg_conf_port *sg_conf_find_port(const struct sg_conf *conf, const char *name);
const char *sg_port_kind_name(enum sg_port_kind kind);
/**
 * Flow-log selection (SG_FLOWLOG_* bits) of VM port 'port' (index in the policy's spec): the
 * port's own entry, else the union of the entries of its groups (explicit and by tag), else
 * the default; 0 when flow logs are off.
 */
uint8_t sg_conf_flowlog_traffic(const struct sg_conf *conf, uint32_t port);
/** "all", "accept", "reject" or "none". */
const char *sg_conf_flowlog_traffic_name(uint8_t traffic);
/** "text", "json", "alibaba", "aws-v5". */
const char *sg_conf_flowlog_format_name(enum sg_flowlog_format format);
/** The format named 'name', or -EINVAL. */
int sg_conf_flowlog_format_parse(const char *name);

#endif /* SG_CONF_H */
