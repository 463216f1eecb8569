/* SPDX-License-Identifier: BSD-3-Clause */
/* The traffic model of sgfw-bench: flows between outside clients and services on VMs, and valid
 * frames for them (Ethernet, IPv4/IPv6, TCP with sequence numbers that follow the connection,
 * UDP, ICMP echo), checksums included so any receiver (OVS's conntrack checks them) takes them.
 *
 * Addresses: clients the policy accepts are 198.18.0.0/16 and 2001:db8:18::/48 (RFC 2544 and
 * documentation ranges, so nothing real is ever addressed), denied clients 198.19.0.0/16 and
 * 2001:db8:19::/48; VM k is 10.0.1.(10+k) and fd00::1:(10+k). Clients arrive through the uplink
 * to the VM's MAC; servers answer to the router MAC and are routed to the uplink.
 *
 * --overlay: every other flow of a VM has its client on a remote port of a second host, hv2
 * (bench.h): its frames arrive on the uplink as hv2's switch sends them, routed (from the
 * router MAC, TTL 63) and wrapped in VXLAN from hv2's VTEP to ours; the VM's answers, routed to
 * the remote address, leave the uplink wrapped the other way (bench_vxlan_check). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "bench.h"
#include "sg_ct.h"
#include "sg_pkt.h"

uint64_t
bench_rand(uint64_t *state)
{
	/* splitmix64: fast, and the same sequence for the same seed everywhere. */
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double
rand_unit(uint64_t *state)
{
	return (double)(bench_rand(state) >> 11) / (double)(UINT64_C(1) << 53);
}

int
bench_world_init(struct bench_world *world, const struct bench_opts *o, uint32_t n_flows,
		uint32_t first_client)
{
	static const uint8_t uplink_mac[6] = {0x52, 0x54, 0x00, 0xff, 0x00, 0x01};
	static const uint8_t router_mac[6] = {0x02, 0x53, 0x47, 0x00, 0x00, 0x01};

	memset(world, 0, sizeof(*world));
	world->n_vms = o->vms;
	world->size = o->size;
	world->rng = o->seed + first_client;
	memcpy(world->uplink_mac, uplink_mac, 6);
	memcpy(world->router_mac, router_mac, 6);
	world->overlay = o->overlay;
	for (int h = 0; h < 2; h++) {
		static const uint8_t host_mac[6] = {0x02, 0x00, 0x00, 0x00, 0xc0, 0x01};
		static const uint8_t vtep[4] = {192, 0, 2, 1}; /* TEST-NET-1 */

		memcpy(world->host_mac[h], host_mac, 6);
		world->host_mac[h][5] = (uint8_t)(h + 1);
		memcpy(world->vtep[h], vtep, 4);
		world->vtep[h][3] = (uint8_t)(h + 1);
	}
	for (uint32_t k = 0; k < o->vms; k++) {
		static const uint8_t base[6] = {0x52, 0x54, 0x00, 0x00, 0x01, 0x00};

		memcpy(world->vm_mac[k], base, 6);
		world->vm_mac[k][5] = (uint8_t)(k + 1);
	}
	world->flows = calloc(n_flows ? n_flows : 1, sizeof(*world->flows));
	if (world->flows == NULL)
		return -ENOMEM;
	world->n_flows = n_flows;
	for (uint32_t i = 0; i < n_flows; i++) {
		struct bench_flow *f = &world->flows[i];
		uint32_t c = first_client + i;
		double p = rand_unit(&world->rng);

		f->vm = (uint8_t)(c % o->vms);
		f->addr = (uint8_t)((c / o->vms) % o->addresses);
		f->v6 = rand_unit(&world->rng) < o->ipv6_share;
		f->denied = rand_unit(&world->rng) < o->deny_share;
		/* Every other flow of each VM: the VM's own flows alternate, whatever --vms. */
		f->remote = o->overlay && (c / o->vms) % 2 == 1;
		if (f->remote)
			f->denied = 0; /* the remote ports are all accepted */
		bench_flow_client(f, c, f->remote);
		switch (o->proto) {
		case BENCH_PROTO_TCP:
			f->proto = IPPROTO_TCP;
			break;
		case BENCH_PROTO_UDP:
			f->proto = IPPROTO_UDP;
			break;
		case BENCH_PROTO_ICMP:
			f->proto = f->v6 ? 58 : 1;
			break;
		default:
			f->proto = p < 0.80 ? 6 : p < 0.95 ? 17 : (f->v6 ? 58 : 1);
			break;
		}
		if (sg_proto_is_icmp(f->proto))
			f->sport = (uint16_t)(c * 2654435761u >> 16);
		f->cseq = (uint32_t)bench_rand(&world->rng);
		f->sseq = (uint32_t)bench_rand(&world->rng);
	}
	return 0;
}

void
bench_flow_client(struct bench_flow *f, uint32_t c, bool remote)
{
	f->remote = remote;
	if (remote) {
		c %= BENCH_REMOTE_TUPLES;
		f->client = c % BENCH_REMOTE_PORTS;
		f->sport = (uint16_t)(1024 + c / BENCH_REMOTE_PORTS);
	} else {
		/* 65,536 clients per range, each with as many source ports as it needs. */
		f->client = c & 0xffff;
		f->sport = (uint16_t)(1024 + (c >> 16) * 7 + (c & 7));
	}
}

void
bench_remote_mac(uint32_t k, uint8_t mac[6])
{
	static const uint8_t base[6] = {0x52, 0x54, 0x00, 0x02, 0x00, 0x00};

	memcpy(mac, base, 6);
	mac[4] = (uint8_t)(k >> 8);
	mac[5] = (uint8_t)k;
}

static void client_ip4(const struct bench_flow *f, uint8_t out[4]);
static void vm_ip4(const struct bench_flow *f, uint8_t out[4]);

/* The tuple of an IPv4 flow, as the tracker keys it. */
static void
flow_tuple4(const struct bench_flow *f, struct sg_ct_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->src.family = SG_AF_INET;
	t->dst.family = SG_AF_INET;
	client_ip4(f, t->src.bytes);
	vm_ip4(f, t->dst.bytes);
	t->proto = f->proto;
	t->sport = f->sport;
	t->dport = 80;
}

/* Candidate k of a colliding search: a client and a source port no other traffic uses. */
static void
collide_candidate(struct bench_flow *f, uint64_t k)
{
	f->client = (uint32_t)(k & 0xffff);
	f->sport = (uint16_t)(16384 + ((k >> 16) & 0x7fff));
}

int
bench_world_collide(struct bench_world *world, const struct sg_ct *ct, uint32_t first_client)
{
	struct bench_flow probe = {.proto = IPPROTO_TCP};
	struct sg_ct_tuple t;
	uint32_t target, n_buckets;

	/* Every flow searches its own range of candidates (2^21 each), so none repeats. */
	if ((uint64_t)first_client + world->n_flows > 1024)
		return -E2BIG;
	collide_candidate(&probe, 0);
	flow_tuple4(&probe, &t);
	target = sg_ct_tuple_bucket(ct, &t, &n_buckets);
	for (uint32_t i = 0; i < world->n_flows; i++) {
		struct bench_flow *f = &world->flows[i];
		uint64_t k = (uint64_t)(first_client + i) << 21, end = k + (UINT64_C(1) << 21);

		do {
			collide_candidate(f, k++);
			flow_tuple4(f, &t);
		} while (sg_ct_tuple_bucket(ct, &t, &n_buckets) != target && k < end);
		if (k == end)
			return -ENOENT;
	}
	return 0;
}

void
bench_world_free(struct bench_world *world)
{
	free(world->flows);
	world->flows = NULL;
}

static void
client_ip4(const struct bench_flow *f, uint8_t out[4])
{
	if (f->remote) {
		out[0] = 198;
		out[1] = 51;
		out[2] = 100;
		out[3] = (uint8_t)(10 + f->client);
		return;
	}
	out[0] = 198;
	out[1] = f->denied ? 19 : 18;
	out[2] = (uint8_t)(f->client >> 8);
	out[3] = (uint8_t)f->client;
}

/* A VM's addresses: 10.0.(vm + 1).(a + 1) and fd00::(vm + 1):(a + 1), 'a' the flow's address
 * of the VM's --addresses (policy.c writes the same into the config, or with --prefix the
 * prefixes 10.0.(vm + 1).0/24 and fd00::(vm + 1):0/120 holding them). */
static void
vm_ip4(const struct bench_flow *f, uint8_t out[4])
{
	out[0] = 10;
	out[1] = 0;
	out[2] = (uint8_t)(f->vm + 1);
	out[3] = (uint8_t)(f->addr + 1);
}

static void
client_ip6(const struct bench_flow *f, uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0x20;
	out[1] = 0x01;
	out[2] = 0x0d;
	out[3] = 0xb8;
	if (f->remote) {
		out[5] = 0x51;
		out[15] = (uint8_t)(10 + f->client);
		return;
	}
	out[5] = f->denied ? 0x19 : 0x18;
	out[14] = (uint8_t)(f->client >> 8);
	out[15] = (uint8_t)f->client;
}

static void
vm_ip6(const struct bench_flow *f, uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfd;
	out[13] = (uint8_t)(f->vm + 1);
	out[15] = (uint8_t)(f->addr + 1);
}

/* Payload bytes a frame of the configured size leaves after 'hdrs' bytes of headers. */
static uint16_t
payload_len(const struct bench_world *world, uint16_t hdrs)
{
	return world->size > hdrs ? (uint16_t)(world->size - hdrs) : 0;
}

static uint16_t
l4_header_len(uint8_t proto)
{
	return proto == IPPROTO_TCP ? sizeof(struct rte_tcp_hdr) : 8;
}

static bool
carries_data(const struct bench_flow *f, uint8_t tcp_flags)
{
	/* Handshake and teardown segments are bare; data segments fill the frame. */
	return f->proto != IPPROTO_TCP ||
	       (tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG)) == 0;
}

/* The frame of 'f' as its sender's link carries it (a remote client's: inside the overlay). */
static uint16_t
inner_frame(const struct bench_world *world, const struct bench_flow *f, enum bench_side side,
		uint8_t tcp_flags, uint8_t *buf)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	uint16_t l3_len = f->v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint16_t l4_hdr = l4_header_len(f->proto);
	uint16_t hdrs = (uint16_t)(sizeof(*eth) + l3_len + l4_hdr);
	uint16_t data = carries_data(f, tcp_flags) ? payload_len(world, hdrs) : 0;
	uint16_t frame = (uint16_t)SG_MAX(hdrs + data, SG_MAX(world->size, 60u));
	uint8_t *l4 = buf + sizeof(*eth) + l3_len;
	bool from_client = side == BENCH_FROM_CLIENT;

	memset(buf, 0, frame);
	if (from_client && f->remote) {
		/* hv2's switch routed it from the remote port's subnet into the VM's. */
		memcpy(eth->src_addr.addr_bytes, world->router_mac, 6);
		memcpy(eth->dst_addr.addr_bytes, world->vm_mac[f->vm], 6);
	} else if (from_client) {
		/* The router behind the uplink sends to the switch's router MAC: nothing outside
		 * reaches a VM by its MAC (docs/security.md). */
		memcpy(eth->src_addr.addr_bytes, world->uplink_mac, 6);
		memcpy(eth->dst_addr.addr_bytes, world->router_mac, 6);
	} else {
		memcpy(eth->src_addr.addr_bytes, world->vm_mac[f->vm], 6);
		memcpy(eth->dst_addr.addr_bytes, world->router_mac, 6);
	}
	if (f->v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
		uint8_t c[16], v[16];

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		client_ip6(f, c);
		vm_ip6(f, v);
		ip->vtc_flow = rte_cpu_to_be_32(0x60000000);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(l4_hdr + data));
		ip->proto = f->proto;
		ip->hop_limits = from_client && f->remote ? 63 : 64;
		memcpy(ip->src_addr, from_client ? c : v, 16);
		memcpy(ip->dst_addr, from_client ? v : c, 16);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
		uint8_t c[4], v[4];

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		client_ip4(f, c);
		vm_ip4(f, v);
		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(l3_len + l4_hdr + data));
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = from_client && f->remote ? 63 : 64;
		ip->next_proto_id = f->proto;
		memcpy(&ip->src_addr, from_client ? c : v, 4);
		memcpy(&ip->dst_addr, from_client ? v : c, 4);
	}
	switch (f->proto) {
	case IPPROTO_TCP: {
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)l4;
		uint32_t seq = from_client ? f->cseq : f->sseq;
		uint32_t ack = from_client ? f->sseq : f->cseq;

		tcp->src_port = rte_cpu_to_be_16(from_client ? f->sport : 80);
		tcp->dst_port = rte_cpu_to_be_16(from_client ? 80 : f->sport);
		tcp->sent_seq = rte_cpu_to_be_32(seq);
		tcp->recv_ack = rte_cpu_to_be_32(tcp_flags & RTE_TCP_ACK_FLAG ? ack : 0);
		tcp->data_off = (uint8_t)((sizeof(*tcp) / 4) << 4);
		tcp->tcp_flags = tcp_flags;
		tcp->rx_win = rte_cpu_to_be_16(65535);
		break;
	}
	case IPPROTO_UDP: {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)l4;

		udp->src_port = rte_cpu_to_be_16(from_client ? f->sport : 53);
		udp->dst_port = rte_cpu_to_be_16(from_client ? 53 : f->sport);
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + data));
		break;
	}
	default: {
		struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)l4;

		if (f->proto == IPPROTO_ICMPV6)
			icmp->icmp_type = from_client ? 128 : 129;
		else
			icmp->icmp_type = from_client ? RTE_IP_ICMP_ECHO_REQUEST : RTE_IP_ICMP_ECHO_REPLY;
		icmp->icmp_ident = rte_cpu_to_be_16(f->sport);
		icmp->icmp_seq_nb = rte_cpu_to_be_16(f->icmp_seq);
		break;
	}
	}
	for (uint16_t i = 0; i < data; i++)
		l4[l4_hdr + i] = (uint8_t)i;
	/* Checksums: the IPv4 header's (sgfw checks it), the transport's (OVS's conntrack does). */
	if (f->v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
		uint16_t sum = rte_ipv6_udptcp_cksum(ip, l4);

		if (f->proto == IPPROTO_TCP)
			((struct rte_tcp_hdr *)l4)->cksum = sum;
		else if (f->proto == IPPROTO_UDP)
			((struct rte_udp_hdr *)l4)->dgram_cksum = sum;
		else
			((struct rte_icmp_hdr *)l4)->icmp_cksum = sum;
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		ip->hdr_checksum = rte_ipv4_cksum(ip);
		if (f->proto == IPPROTO_TCP)
			((struct rte_tcp_hdr *)l4)->cksum = rte_ipv4_udptcp_cksum(ip, l4);
		else if (f->proto == IPPROTO_UDP)
			((struct rte_udp_hdr *)l4)->dgram_cksum = rte_ipv4_udptcp_cksum(ip, l4);
		else
			((struct rte_icmp_hdr *)l4)->icmp_cksum =
					(uint16_t)~rte_raw_cksum(l4, (size_t)(l4_hdr + data));
	}
	return frame;
}

/* The outer UDP source port hv2 gives a flow: any hash of it in 49152..65535 would do. */
static uint16_t
outer_src_port(const struct bench_flow *f)
{
	return (uint16_t)(49152 + (((uint32_t)f->client * 2654435761u) ^ f->sport) % 16384);
}

uint16_t
bench_frame(const struct bench_world *world, const struct bench_flow *f, enum bench_side side,
		uint8_t tcp_flags, uint8_t *buf)
{
	const uint16_t hdrs = SG_VXLAN_HDRS_LEN;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint8_t *vx = (uint8_t *)(udp + 1);
	uint32_t vni = f->v6 ? BENCH_VNI_LOCAL6 : BENCH_VNI_LOCAL4;
	uint16_t inner;

	if (side != BENCH_FROM_CLIENT || !f->remote)
		return inner_frame(world, f, side, tcp_flags, buf);
	/* As hv2 wraps it for us (RFC 7348): in the VNI of the VM's subnet, to our VTEP. */
	inner = inner_frame(world, f, side, tcp_flags, buf + hdrs);
	memset(buf, 0, hdrs);
	memcpy(eth->dst_addr.addr_bytes, world->host_mac[0], 6);
	memcpy(eth->src_addr.addr_bytes, world->host_mac[1], 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(inner + hdrs - sizeof(*eth)));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, world->vtep[1], 4);
	memcpy(&ip->dst_addr, world->vtep[0], 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(outer_src_port(f));
	udp->dst_port = rte_cpu_to_be_16(SG_VXLAN_PORT);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(inner + 16));
	vx[0] = 0x08; /* the I flag: the VNI is valid */
	vx[4] = (uint8_t)(vni >> 16);
	vx[5] = (uint8_t)(vni >> 8);
	vx[6] = (uint8_t)vni;
	return (uint16_t)(inner + hdrs);
}

bool
bench_transport_sum_ok(const uint8_t *l3, bool v6, uint8_t proto, const uint8_t *l4, uint32_t l4_len)
{
	uint32_t sum = rte_raw_cksum(l4, l4_len);

	if (v6)
		sum += rte_ipv6_phdr_cksum((const struct rte_ipv6_hdr *)l3, 0);
	else if (proto != IPPROTO_ICMP)
		sum += rte_ipv4_phdr_cksum((const struct rte_ipv4_hdr *)l3, 0);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static int
fail_check(char *why, size_t size, const char *what)
{
	snprintf(why, size, "%s", what);
	return -1;
}

int
bench_vxlan_check(const struct bench_world *world, const uint8_t *frame, uint32_t len, char *why,
		size_t why_size)
{
	const uint16_t hdrs = SG_VXLAN_HDRS_LEN;
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
	const uint8_t *vx = (const uint8_t *)(udp + 1);
	const struct rte_ether_hdr *in_eth = (const struct rte_ether_hdr *)(frame + hdrs);
	const uint8_t *in_l3 = (const uint8_t *)(in_eth + 1);
	uint32_t inner_len, vni, l3_len, l4_len;
	uint8_t remote_mac[6], proto, k;
	bool v6;

	if (len < sizeof(*eth) + sizeof(*ip) + sizeof(*udp) ||
			eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
			ip->version_ihl != 0x45 || ip->next_proto_id != IPPROTO_UDP ||
			udp->dst_port != rte_cpu_to_be_16(SG_VXLAN_PORT))
		return 0;
	if (len < (uint32_t)hdrs + sizeof(*in_eth) + sizeof(struct rte_ipv4_hdr))
		return fail_check(why, why_size, "shorter than outer headers and an inner packet");
	inner_len = len - hdrs;
	if (memcmp(eth->src_addr.addr_bytes, world->host_mac[0], 6) != 0 ||
			memcmp(eth->dst_addr.addr_bytes, world->host_mac[1], 6) != 0)
		return fail_check(why, why_size, "outer MACs are not hv1 -> hv2's");
	if (memcmp(&ip->src_addr, world->vtep[0], 4) != 0 ||
			memcmp(&ip->dst_addr, world->vtep[1], 4) != 0)
		return fail_check(why, why_size, "outer IPv4 is not our VTEP -> hv2's");
	if (rte_be_to_cpu_16(ip->total_length) != len - sizeof(*eth) || rte_ipv4_cksum(ip) != 0 ||
			ip->time_to_live == 0 ||
			(rte_be_to_cpu_16(ip->fragment_offset) & ~RTE_IPV4_HDR_DF_FLAG) != 0)
		return fail_check(why, why_size, "outer IPv4 length, checksum, TTL or fragments");
	if (rte_be_to_cpu_16(udp->dgram_len) != inner_len + 16 ||
			rte_be_to_cpu_16(udp->src_port) < 49152)
		return fail_check(why, why_size, "outer UDP length or source port");
	if (vx[0] != 0x08 || vx[1] != 0 || vx[2] != 0 || vx[3] != 0 || vx[7] != 0)
		return fail_check(why, why_size, "VXLAN flags or reserved bits");
	vni = (uint32_t)vx[4] << 16 | (uint32_t)vx[5] << 8 | vx[6];
	v6 = in_eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	if (!v6 && in_eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return fail_check(why, why_size, "inner frame is neither IPv4 nor IPv6");
	if (vni != (v6 ? BENCH_VNI_REMOTE6 : BENCH_VNI_REMOTE4))
		return fail_check(why, why_size, "VNI is not the remote subnet's");
	if (memcmp(in_eth->src_addr.addr_bytes, world->router_mac, 6) != 0)
		return fail_check(why, why_size, "inner source MAC is not the router's (routed)");
	if (v6) {
		const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)in_l3;

		if (inner_len < sizeof(*in_eth) + sizeof(*ip6))
			return fail_check(why, why_size, "inner IPv6 header cut");
		k = ip6->dst_addr[15];
		l3_len = sizeof(*ip6);
		l4_len = rte_be_to_cpu_16(ip6->payload_len);
		proto = ip6->proto;
		if (ip6->dst_addr[0] != 0x20 || ip6->dst_addr[5] != 0x51 || ip6->hop_limits != 63)
			return fail_check(why, why_size, "inner IPv6 destination or hop limit");
	} else {
		const struct rte_ipv4_hdr *ip4 = (const struct rte_ipv4_hdr *)in_l3;
		const uint8_t *dst = (const uint8_t *)&ip4->dst_addr;

		k = dst[3];
		l3_len = sizeof(*ip4);
		if (rte_be_to_cpu_16(ip4->total_length) < l3_len)
			return fail_check(why, why_size, "inner IPv4 length");
		l4_len = rte_be_to_cpu_16(ip4->total_length) - l3_len;
		proto = ip4->next_proto_id;
		if (dst[0] != 198 || dst[1] != 51 || dst[2] != 100 || ip4->time_to_live != 63 ||
				rte_ipv4_cksum(ip4) != 0)
			return fail_check(why, why_size,
					"inner IPv4 destination, TTL (63) or header checksum");
	}
	if (k < 10 || k - 10 >= BENCH_REMOTE_PORTS)
		return fail_check(why, why_size, "inner destination is no remote port");
	bench_remote_mac(k - 10u, remote_mac);
	if (memcmp(in_eth->dst_addr.addr_bytes, remote_mac, 6) != 0)
		return fail_check(why, why_size, "inner destination MAC is not its remote port's");
	if (sizeof(*in_eth) + l3_len + l4_len > inner_len)
		return fail_check(why, why_size, "inner packet longer than the frame");
	/* Intact: the transport checksum over the pseudo-header and every byte still holds. */
	if (!bench_transport_sum_ok(in_l3, v6, proto, in_l3 + l3_len, l4_len))
		return fail_check(why, why_size, "inner transport checksum");
	return 1;
}

void
bench_frame_mbuf(const struct bench_world *world, const struct bench_flow *f, enum bench_side side,
		uint8_t tcp_flags, struct rte_mbuf *m)
{
	uint16_t len = bench_frame(world, f, side, tcp_flags, rte_pktmbuf_mtod(m, uint8_t *));

	m->data_len = len;
	m->pkt_len = len;
}

uint16_t
bench_payload(const struct bench_world *world, const struct bench_flow *f)
{
	uint16_t l3 = f->v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);

	return payload_len(world, (uint16_t)(sizeof(struct rte_ether_hdr) + l3 +
					  l4_header_len(f->proto)));
}

void
bench_flow_sent(struct bench_flow *f, enum bench_side side, uint8_t tcp_flags)
{
	/* SYN and FIN take one sequence number. */
	if (!(tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)))
		return;
	if (side == BENCH_FROM_CLIENT)
		f->cseq++;
	else
		f->sseq++;
}

void
bench_data_mbuf(const struct bench_world *world, struct bench_flow *f, enum bench_side side,
		struct rte_mbuf *m)
{
	uint16_t data = bench_payload(world, f);

	bench_frame_mbuf(world, f, side, RTE_TCP_ACK_FLAG | (data ? RTE_TCP_PSH_FLAG : 0), m);
	if (f->proto == IPPROTO_TCP) {
		if (side == BENCH_FROM_CLIENT)
			f->cseq += data;
		else
			f->sseq += data;
	} else if (side == BENCH_FROM_SERVER) {
		f->icmp_seq++;
	}
}

void
bench_steady_frames(const struct bench_world *world, const struct bench_flow *f, uint8_t *client,
		uint16_t *client_len, uint8_t *server, uint16_t *server_len)
{
	struct bench_flow acked = *f;

	*client_len = bench_frame(
			world, f, BENCH_FROM_CLIENT, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, client);
	*server_len = 0;
	if (f->denied)
		return;
	acked.cseq += bench_payload(world, f);
	*server_len = bench_frame(world, &acked, BENCH_FROM_SERVER,
			RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, server);
}
