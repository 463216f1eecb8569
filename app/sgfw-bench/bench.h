/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfw-bench: shared definitions of the harness (options, the traffic model, results). */
#ifndef SG_BENCH_H
#define SG_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>

#include "sg_dp.h"

#define BENCH_MAX_VMS 16

/*
 * --overlay: the simulated second host "hv2" and its ports (gen.c, policy.c). Its remote ports
 * r0..r(BENCH_REMOTE_PORTS - 1) are 198.51.100.(10 + k) and 2001:db8:51::(10 + k) in subnets of
 * their own (VNIs 200 and 201; the local VMs' subnets are 100 and 101), outside every range the
 * generated rules name, so only the service rules decide their flows. A remote flow's tuple
 * comes from its client number c: port c % BENCH_REMOTE_PORTS, source port 1024 + c /
 * BENCH_REMOTE_PORTS, so BENCH_REMOTE_TUPLES distinct tuples.
 */
#define BENCH_REMOTE_PORTS 200
#define BENCH_REMOTE_TUPLES (BENCH_REMOTE_PORTS * 64512u)
#define BENCH_VNI_LOCAL4 100
#define BENCH_VNI_LOCAL6 101
#define BENCH_VNI_REMOTE4 200
#define BENCH_VNI_REMOTE6 201

enum bench_mode {
	BENCH_MODE_GEN = 0, /* in-process generator: bursts injected into the engine */
	BENCH_MODE_PORTS,   /* workers poll real ports (pcap replay, vhost-user, ...) */
	BENCH_MODE_WRITE,   /* write the generated traffic as pcap files and a config, then exit */
	BENCH_MODE_RATE,    /* a paced generator and the worker on ring ports: zero-loss rate,
			     * latency */
};

enum bench_proto {
	BENCH_PROTO_TCP = 0,
	BENCH_PROTO_UDP,
	BENCH_PROTO_ICMP,
	BENCH_PROTO_MIX, /* 80 % TCP, 15 % UDP, 5 % ICMP, by flow */
};

/* Everything the command line sets. */
struct bench_opts {
	enum bench_mode mode;
	enum sg_dp_engine engine;
	uint16_t workers;
	double duration;        /* seconds measured */
	double warmup;          /* seconds run before measuring (ports mode) */
	uint32_t flows;         /* concurrent flows */
	uint32_t size;          /* frame size without FCS (the largest with --size imix) */
	bool imix;              /* --size imix: 7:4:1 of 60/566/1514 bytes by flow (rate mode) */
	double new_share;       /* share of packets belonging to new-connection lifecycles */
	double deny_share;      /* share of packets from flows the policy denies */
	double ipv6_share;      /* share of flows over IPv6 */
	enum bench_proto proto;
	uint32_t rules;         /* custom rules per VM port */
	uint32_t vms;           /* VM ports (gen mode); ports mode uses one */
	uint32_t addresses;     /* addresses per VM port, used by the flows in turn */
	bool prefix;            /* --prefix: those addresses are a /24 (/120) allowed prefix */
	uint32_t subnets;       /* --subnets: more subnets in the config, which no flow uses */
	uint32_t sleep_max_us;  /* --sleep-max-us: dataplane.sleep_max_us of the config */
	uint16_t burst;
	uint32_t capacity;      /* conntrack capacity; 0: sized from the flows */
	bool stage_cycles;
	bool classify_linear;   /* --classifier linear */
	bool cps;               /* also measure connection set-up and teardown rates (gen mode) */
	bool overlay;           /* --overlay: half the flows' clients are ports of a second host */
	bool progress;
	const char *json;       /* results file, or NULL */
	const char *out_dir;    /* write mode: where the pcaps and the config go */
	const char *pcap_dir;   /* ports mode: replay DIR/vm0.pcap and DIR/up0.pcap */
	const char *config;     /* ports mode: run this config's ports instead */
	const char *label;      /* free text carried into the JSON */
	double trial;           /* rate mode: seconds per trial */
	double resolution;      /* rate mode: the search stops within this share of its bound */
	double rate;            /* rate mode: one trial at this many packets/s; 0: search */
	double loss_tolerance;  /* rate mode: share of the packets a passing trial may lose */
	const char *external;   /* rate mode: memif sockets DIR/NAME.sock, another process forwards */
	uint16_t external_queues; /* --external: queue pairs per memif port (the other side's tx) */
	uint64_t seed;
	uint64_t hash_seed;     /* the tracker's hash secret from this seed; 0: random */
	uint64_t collide_seed;  /* 0, or build flows colliding in a table of this seed */
};

/* One flow between an outside client (behind the uplink) and a service on a VM. */
struct bench_flow {
	uint32_t client;    /* client index: its address */
	uint16_t sport;     /* client port, or ICMP identifier */
	uint8_t vm;
	uint8_t addr;       /* which of the VM's addresses (--addresses) */
	uint8_t proto;      /* 6, 17 or 1/58 */
	uint8_t v6;
	uint8_t denied;     /* the client is in the denied range: every packet is dropped */
	uint8_t remote;     /* --overlay: the client is remote port 'client' of the second host,
			     * its packets arrive wrapped in VXLAN and the VM's leave wrapped */
	uint16_t icmp_seq;
	uint32_t cseq;      /* next sequence number of the client */
	uint32_t sseq;      /* next sequence number of the server */
};

/* The generated world: addresses, MACs, flows. */
struct bench_world {
	uint32_t n_vms;
	uint8_t vm_mac[BENCH_MAX_VMS][6];
	uint8_t uplink_mac[6];   /* the router behind the uplink (client side) */
	uint8_t router_mac[6];
	uint8_t host_mac[2][6];  /* --overlay: the uplinks of this host (hv1) and of hv2 */
	uint8_t vtep[2][4];      /* their VTEPs */
	bool overlay;
	struct bench_flow *flows;
	uint32_t n_flows;
	uint32_t size;
	uint64_t rng;
};

/* Who sends a packet: the client (arrives on the uplink) or the server (arrives on its VM port). */
enum bench_side {
	BENCH_FROM_CLIENT = 0,
	BENCH_FROM_SERVER,
};

/* gen.c */
int bench_world_init(struct bench_world *world, const struct bench_opts *o, uint32_t n_flows,
		uint32_t first_client);
void bench_world_free(struct bench_world *world);
struct sg_ct;
/*
 * Rebuild the (IPv4 TCP) flows of 'world', numbered from 'first_client', so that every tuple
 * falls into one bucket of 'ct': a key set an attacker who knew the table's secret would send.
 * At most 1024 flows in all; 0, or -errno.
 */
int bench_world_collide(struct bench_world *world, const struct sg_ct *ct, uint32_t first_client);
uint64_t bench_rand(uint64_t *state);
/* Write one frame of 'f' into 'buf' (at least world->size + 124 bytes); returns its length. A
 * remote client's frame is the whole VXLAN frame hv2 sends (the inner frame world->size). */
uint16_t bench_frame(const struct bench_world *world, const struct bench_flow *f,
		enum bench_side side, uint8_t tcp_flags, uint8_t *buf);
/* The same into an mbuf. */
void bench_frame_mbuf(const struct bench_world *world, const struct bench_flow *f,
		enum bench_side side, uint8_t tcp_flags, struct rte_mbuf *m);
/* 'f' after its 'side' sent a segment with 'tcp_flags': a SYN or FIN takes a sequence number. */
void bench_flow_sent(struct bench_flow *f, enum bench_side side, uint8_t tcp_flags);
/* Payload bytes of a data packet of 'f'. */
uint16_t bench_payload(const struct bench_world *world, const struct bench_flow *f);
/* A data packet of an established flow from 'side', advancing its sequence numbers. */
void bench_data_mbuf(const struct bench_world *world, struct bench_flow *f, enum bench_side side,
		struct rte_mbuf *m);

/*
 * The steady state of a transfer of 'f' as two frames sent again and again (rate mode): the
 * client's data segment, acknowledging what the server had sent when it was built, and the
 * server's data segment acknowledging the client's. Once the client's segment has been seen,
 * both are retransmissions or in-window data a tracker accepts in any order, so the two ports'
 * rings need not be read in the order they were written. A denied flow has no server frame
 * (*server_len 0). Buffers as bench_frame's.
 */
void bench_steady_frames(const struct bench_world *world, const struct bench_flow *f,
		uint8_t *client, uint16_t *client_len, uint8_t *server, uint16_t *server_len);

/* Give 'f' the client of number 'c': an outside client, or with 'remote' a remote port. */
void bench_flow_client(struct bench_flow *f, uint32_t c, bool remote);
/* The MAC of remote port 'k'. */
void bench_remote_mac(uint32_t k, uint8_t mac[6]);

/* The one's-complement sum over a transport header, its data and (not ICMPv4) the
 * pseudo-header at 'l3', its checksum included, is all ones: the checksum is right. */
bool bench_transport_sum_ok(const uint8_t *l3, bool v6, uint8_t proto, const uint8_t *l4,
		uint32_t l4_len);

/*
 * Whether 'frame', sent out of the uplink, is what the overlay must send a remote client of
 * 'world': 1 when it is VXLAN and correct in every field (outer MACs, IPv4 header and checksum,
 * UDP to 4789 with its length, VXLAN flags and the VNI of the client's subnet; inner frame
 * from the router MAC to the remote port's MAC of its address, TTL 63, IP and transport
 * checksums, payload), 0 when it is no VXLAN (routed to an outside client), -1 when it is VXLAN
 * but wrong, with why in 'why'.
 */
int bench_vxlan_check(const struct bench_world *world, const uint8_t *frame, uint32_t len,
		char *why, size_t why_size);

/* policy.c: the config text of the generated world (ports of 'port_kind'). */
char *bench_config_text(const struct bench_opts *o, const struct bench_world *world,
		const char *port_kind, const char *pcap_dir);

/* pcap.c */
int bench_pcap_write(const char *path, uint8_t *const *frames, const uint16_t *lens, uint32_t n);

#endif /* SG_BENCH_H */
