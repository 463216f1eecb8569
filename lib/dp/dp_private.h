/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal layout of the datapath: ports with their counters, the RCU-protected generation
 * (config, classifier, forwarding tables), and each worker's scratch state. */
#ifndef SG_DP_PRIVATE_H
#define SG_DP_PRIVATE_H

#include <stdatomic.h>
#include <string.h>

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#include "sg_acl.h"
#include "sg_build_config.h"
#include "sg_hash.h"
#include "sg_dp.h"
#include "sg_pkt.h"
#include "sg_port.h"

#define DP_NO_VPORT UINT16_MAX
/* Ports (VMs and the uplink) in one generation: per-port tables are sized for it. */
#define DP_MAX_VPORTS 4096
#define DP_MAX_RXQ_PER_WORKER 256

/* Counters of one port written by one worker: no atomics, no sharing. */
struct __rte_cache_aligned dp_port_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t rate_stamp_ms;          /* New-connection token bucket of this worker: last refill */
	uint64_t rate_tokens;            /* ... and its tokens, in thousandths. */
	uint64_t fl_stamp_ms;            /* Flow-log event token bucket of this worker: refill... */
	uint64_t fl_tokens;              /* ... and its tokens, in thousandths. */
	uint64_t fl_lost;                /* Flow-log records about this port lost. */
	uint64_t replies;                /* ARP/ND answers sent back. */
	uint64_t absorbed;               /* Platform traffic consumed (ND, MLD, ARP replies). */
	uint64_t drops[SG_DROP_COUNT];
};

/* An open device. Lives as long as the port is in the config, across policy changes. */
struct dp_port {
	struct sg_port_dev dev;
	struct sg_conf_port conf;       /* The config it was opened with. */
	uint16_t id;                    /* Unique among open ports; names it in connection origins. */
	bool in_use;                    /* Referenced by the generation being built. */
	struct dp_port_counters counters[SG_MAX_WORKERS];
};

/* An immutable open-addressing map from MACs and addresses to vports. */
enum dp_key_kind {
	DP_KEY_EMPTY = 0,
	DP_KEY_MAC,
	DP_KEY_IPV4,
	DP_KEY_IPV6,
};

/* No subnet: an address when the config has no subnets (one flat network), a link-local one. */
#define DP_NO_SUBNET UINT16_MAX

struct dp_map_slot {
	uint8_t key[16];
	uint8_t kind;
	uint8_t len;                    /* Allowed prefixes (struct dp_nets): the prefix length. */
	uint16_t subnet;                /* Index in conf->subnets, or DP_NO_SUBNET. */
	uint32_t value;                 /* The vport (gateways: 1; remote maps: the remote). */
};

struct dp_map {
	struct dp_map_slot *slots;
	uint32_t mask;
	uint32_t shift;                 /* 64 - log2 of the slot count */
	uint64_t mult[2];               /* Random odd multipliers: the hash's secret. */
};

/* Prefix lengths present in a generation, longest first, each with its mask over the address
 * bytes (network order, as two words: an address is masked with two ANDs, no swaps). */
struct dp_nets_lens {
	uint8_t n;
	uint8_t len[129];
	uint64_t mask[129][2];
};

/*
 * The allowed prefixes of a generation (networks a port owns whole: allowed address pairs,
 * delegated prefixes, a network routed behind a VM): one map keyed by network, and per family
 * the prefix lengths present. Prefixes overlap neither each other nor another port's address
 * (lib/policy refuses it), so an address is inside at most one: a lookup masks the address and
 * probes once per length present until one holds it, whatever the number of prefixes or of
 * the addresses in them. 'routed' are the lengths of the prefixes outside every subnet, the
 * only ones an address outside the subnets can be in.
 */
struct dp_nets {
	struct dp_map map;              /* Network (host bits clear) -> vport, subnet, length. */
	struct dp_nets_lens all[2];     /* [0] IPv4, [1] IPv6 */
	struct dp_nets_lens routed[2];
};

/* A port as the forwarding plane sees it in one generation. */
struct dp_vport {
	struct dp_port *port;
	uint32_t policy_port;           /* Index in the policy; UINT32_MAX for the uplink. */
	bool uplink;
	uint8_t mac[6];                 /* VM MAC; the uplink's next-hop MAC. */
	struct sg_ip link_local;        /* fe80:: EUI-64 address derived from the MAC. */
	const struct sg_ip *ips;
	uint32_t n_ips;
	const struct sg_prefix *prefixes; /* allowed_prefixes */
	uint32_t n_prefixes;
	/* The subnets the port has addresses or prefixes in, each once (none: no subnets). */
	uint16_t *subnets;
	uint16_t n_subnets;
	/* Generation in which this port's verdicts last changed: connections admitted before it
	 * are re-checked (D9); connections of unchanged ports are never disturbed. */
	uint32_t changed_epoch;
	/* Per-port limits (0: none): open connections, and new ones per second per worker. */
	uint32_t max_connections;
	uint32_t new_per_second_per_worker;
	/* Flow-log events the port's packets may cause per second per worker (0: none). */
	uint32_t fl_events_per_second_per_worker;
	/* Per direction: action and rule id of each merged entry, by 1-based position. */
	uint8_t *action[SG_DIR_COUNT];
	uint32_t *rule_id[SG_DIR_COUNT];
	uint8_t flowlog;                /* SG_FLOWLOG_* logged for this port (0: none). */
};

/* No remote port: a packet for a local port or the outside. */
#define DP_NO_REMOTE UINT32_MAX

/* A host of the fleet as the overlay sends to it. */
struct dp_host {
	uint32_t vtep;                  /* IPv4, network order. */
	uint8_t mac[6];                 /* Outer destination MAC: its own, else the uplink's peer. */
};

/* A port on another host (conf remote port): where its VM is, and its MAC. */
struct dp_remote {
	uint8_t mac[6];
	uint16_t host;                  /* Index in gen->overlay.hosts. */
};

/*
 * The VXLAN overlay of a generation (docs/architecture.md, "The VXLAN overlay"): the hosts,
 * the remote ports with maps from their MACs, addresses and prefixes, which VNI is which
 * subnet. 'on' is false without hosts: then none of it is looked at.
 */
struct dp_overlay {
	bool on;
	uint16_t self;                  /* This host's index in 'hosts'. */
	uint32_t vtep;                  /* Ours, network order. */
	uint8_t mac[6];                 /* Outer source MAC. */
	uint16_t inner_mtu;             /* overlay.mtu - 50: the largest inner IP packet. */
	struct dp_host *hosts;
	uint16_t n_hosts;
	struct dp_map vteps;            /* Host vtep -> host index. */
	struct dp_remote *remotes;
	uint32_t n_remotes;
	struct dp_map macs;             /* Remote port MAC -> remote. */
	struct dp_map addrs;            /* Remote port address -> remote, subnet. */
	struct dp_nets nets;            /* Remote port allowed prefix -> remote, subnet. */
	struct dp_map vnis;             /* VNI (4 bytes, network order) -> subnet (value). */
	uint32_t *subnet_vni;           /* By subnet: its VNI, 0 for a local-only one. */
};

struct dp_rxq {
	uint16_t vport;
	uint16_t queue;
};

/* Everything workers read, swapped as one pointer under RCU. */
struct dp_gen {
	uint32_t epoch;
	struct sg_conf *conf;
	struct sg_acl *acl;
	struct dp_vport *vports;
	uint16_t n_vports;
	uint16_t uplink;                     /* vport index, or DP_NO_VPORT. */
	struct dp_map macs;                  /* VM MAC -> vport. */
	struct dp_map addrs;                 /* VM address -> vport. */
	struct dp_nets nets;                 /* VM allowed prefix -> vport. */
	struct dp_map gateways;              /* Gateway address -> 1, with its subnet. */
	/* Subnet network -> its index (as the slot's subnet), and the lengths present per
	 * family: whether an address is in a subnet in one probe per length, whatever the
	 * number of subnets (used from DP_SUBNETS_LINEAR subnets on). */
	struct dp_map subnet_map;
	struct dp_nets_lens subnet_lens[2];
	uint8_t router_mac[6];
	struct dp_overlay overlay;
	uint32_t sleep_max_us;               /* dataplane.sleep_max_us: 0, workers never sleep. */
	struct dp_rxq *rxq[SG_MAX_WORKERS];
	uint16_t n_rxq[SG_MAX_WORKERS];
	uint32_t n_rule_ids;
	uint64_t *rule_hits;                 /* [worker][rule id]. */
	uint64_t *carried_hits;              /* [rule id]: earlier generations' hits of the same
					      * rules; written by the control thread only. */
};

struct dp_worker;
struct dp_flowlog;

struct sg_dp {
	struct sg_dp_params params;
	struct rte_rcu_qsbr *qsv;            /* The workers' grace periods (the tracker's if any). */
	bool own_qsv;
	_Atomic(struct dp_gen *) gen;
	struct dp_port **ports;              /* Open ports, by config order of the last apply. */
	uint32_t n_ports;
	uint32_t next_epoch;
	atomic_bool quit;
	struct dp_worker *workers[SG_MAX_WORKERS];
	struct dp_flowlog *flowlog;          /* NULL when flow logs are off. */
};

/* dp_map.c */
int dp_map_init(struct dp_map *map, uint32_t n_keys);
void dp_map_free(struct dp_map *map);
struct dp_map_slot *dp_map_put(struct dp_map *map, enum dp_key_kind kind, const uint8_t *key,
		uint32_t value, uint16_t subnet);

static inline unsigned int
dp_key_len(enum dp_key_kind kind)
{
	return kind == DP_KEY_MAC ? 6 : kind == DP_KEY_IPV4 ? 4 : 16;
}

/*
 * The slot a key starts probing at: multiply-shift hashing (Dietzfelbinger), the high bits of
 * the key's 64-bit words times random odd multipliers drawn with the map, a universal family.
 * Lookups take addresses from packets, which without the secret cannot aim at the longest
 * probe sequence of the (config-built, at most half full) map. One or two multiplies: these
 * lookups run for most packets (port security, delivery), where sg_hash.h's NH and finaliser
 * would cost three or four.
 */
static inline uint32_t
dp_map_hash(const struct dp_map *map, enum dp_key_kind kind, const uint8_t *key)
{
	uint64_t w[2] = {0, 0};
	uint64_t h;

	switch (kind) {
	case DP_KEY_IPV4:
		memcpy(w, key, 4);
		break;
	case DP_KEY_MAC:
		memcpy(w, key, 6);
		break;
	default:
		memcpy(w, key, 16);
		break;
	}
	h = (w[0] ^ ((uint64_t)kind << 56)) * map->mult[0];
	if (kind == DP_KEY_IPV6)
		h += w[1] * map->mult[1];
	return (uint32_t)(h >> map->shift);
}

/* Whether a slot's key is 'key' (of the slot's kind), by word compares rather than a call. */
static inline bool
dp_map_key_equal(const struct dp_map_slot *slot, enum dp_key_kind kind, const uint8_t *key)
{
	uint64_t a[2] = {0, 0}, b[2] = {0, 0};

	switch (kind) {
	case DP_KEY_IPV4:
		memcpy(a, slot->key, 4);
		memcpy(b, key, 4);
		break;
	case DP_KEY_MAC:
		memcpy(a, slot->key, 6);
		memcpy(b, key, 6);
		break;
	default:
		memcpy(a, slot->key, 16);
		memcpy(b, key, 16);
		break;
	}
	return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
}

/* The slot holding 'key', or NULL. */
static inline const struct dp_map_slot *
dp_map_find(const struct dp_map *map, enum dp_key_kind kind, const uint8_t *key)
{
	uint32_t i = dp_map_hash(map, kind, key) & map->mask;

	for (;; i = (i + 1) & map->mask) {
		const struct dp_map_slot *slot = &map->slots[i];

		if (slot->kind == DP_KEY_EMPTY)
			return NULL;
		if (slot->kind == kind && dp_map_key_equal(slot, kind, key))
			return slot;
	}
}

static inline uint16_t
dp_map_get(const struct dp_map *map, enum dp_key_kind kind, const uint8_t *key)
{
	const struct dp_map_slot *slot = dp_map_find(map, kind, key);

	return slot != NULL ? (uint16_t)slot->value : DP_NO_VPORT;
}

static inline const struct dp_map_slot *
dp_map_find_ip(const struct dp_map *map, const struct sg_ip *ip)
{
	return dp_map_find(map, ip->family == SG_AF_INET ? DP_KEY_IPV4 : DP_KEY_IPV6, ip->bytes);
}

static inline uint16_t
dp_map_get_ip(const struct dp_map *map, const struct sg_ip *ip)
{
	const struct dp_map_slot *slot = dp_map_find_ip(map, ip);

	return slot != NULL ? (uint16_t)slot->value : DP_NO_VPORT;
}

/*
 * dp_map.c: the allowed prefix holding 'ip' (its slot: vport, subnet, length), or NULL; with
 * 'routed', only among the prefixes outside every subnet. One probe per prefix length present.
 * Out of line, so that the address lookups of ports without prefixes stay as small as before.
 */
const struct dp_map_slot *dp_nets_find(const struct dp_nets *nets, const struct sg_ip *ip,
		bool routed);

/* dp_map.c: the network of 'map' holding 'ip', trying the lengths lens[family] (a map of
 * networks that do not overlap, as dp_nets or the subnets). */
const struct dp_map_slot *dp_prefix_find(const struct dp_map *map,
		const struct dp_nets_lens lens[2], const struct sg_ip *ip);

/* Up to this many subnets a loop over them is cheaper than a probe of the subnet map. */
#define DP_SUBNETS_LINEAR 4

/*
 * The owner of 'ip': its port's slot in the address map, else in the allowed prefixes. Ports
 * without prefixes pay nothing for them: the prefix lookup runs only when the exact one
 * misses and the generation has prefixes of the family.
 */
static inline const struct dp_map_slot *
dp_owner_find(const struct dp_gen *gen, const struct sg_ip *ip)
{
	const struct dp_map_slot *slot = dp_map_find_ip(&gen->addrs, ip);

	if (slot == NULL && gen->nets.all[ip->family == SG_AF_INET6].n != 0)
		slot = dp_nets_find(&gen->nets, ip, false);
	return slot;
}

/* The remote port owning 'ip' (an address or inside an allowed prefix): its slot (value: the
 * remote, subnet), or NULL. Only asked when the local lookup missed and the overlay is on. */
static inline const struct dp_map_slot *
dp_remote_find(const struct dp_gen *gen, const struct sg_ip *ip)
{
	const struct dp_map_slot *slot = dp_map_find_ip(&gen->overlay.addrs, ip);

	if (slot == NULL && gen->overlay.nets.all[ip->family == SG_AF_INET6].n != 0)
		slot = dp_nets_find(&gen->overlay.nets, ip, false);
	return slot;
}

/* dp_gen.c */
struct dp_gen *dp_gen_build_ports(struct sg_dp *dp, struct sg_conf *conf, struct dp_port **ports,
		uint32_t n_ports, struct sg_error *err);
void dp_gen_free(struct dp_gen *gen);
uint32_t dp_gen_hits_row(const struct dp_gen *gen);
void dp_gen_carry_hits(struct dp_gen *gen, const struct dp_gen *old, uint16_t n_workers);

/* dp_flowlog.c: the writer thread and its rings (control side). */
struct dp_flowlog *dp_flowlog_create(struct sg_dp *dp, const struct sg_conf *conf,
		struct sg_error *err);
int dp_flowlog_start(struct dp_flowlog *f, struct sg_error *err);
struct rte_ring *dp_flowlog_ring(const struct dp_flowlog *f, uint16_t worker);
/* Names of a new generation's epoch; 'ports' are the open ports in conf->ports order. */
int dp_flowlog_epoch(struct dp_flowlog *f, uint32_t epoch, const struct sg_conf *conf,
		struct dp_port *const *ports);
/* Stop the writer (it writes the open window first) and free. Workers must have returned. */
void dp_flowlog_free(struct dp_flowlog *f);
void dp_flowlog_stats(struct dp_flowlog *f, struct sg_dp_flowlog_stats *st);

/* dp_worker.c */
struct dp_worker *dp_worker_create(struct sg_dp *dp, uint16_t id);
void dp_worker_free(struct dp_worker *w);

#endif /* SG_DP_PRIVATE_H */
