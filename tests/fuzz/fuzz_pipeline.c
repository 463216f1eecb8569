/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the fw engine (admission, port security, ARP/ND answers, routing,
 * conntrack, classification, forwarding) on arbitrary frames from any port.
 *
 * The switch is the one of pipeline-a.conf: four VMs and an uplink on ring ports, whose
 * transmit ring is also their receive ring, so everything the switch sends is read back and
 * checked. pipeline-fleet.conf is the same switch as one host of a fleet, with ports on two
 * other hosts reached through the VXLAN overlay: VXLAN from the uplink is decapsulated (or
 * refused), packets for the remote ports leave the uplink encapsulated. The fuzzer plays
 * worker 0: it fills the worker's burst and calls dp_worker_process() as the worker loop does,
 * with a clock it controls.
 *
 * Input: records of [control][length: 2 bytes, big endian][frame]:
 *   control bits 0-2  ingress port (modulo the five ports)
 *           bit 3     start a new burst here
 *           bits 4-5  advance the clock first: 0, 10 ms, 2 s or 150 s (a new burst)
 *           bit 6     128 bytes of room before and after the frame (else its buffer is exactly
 *                     its size: encapsulation then finds no headroom)
 *           bit 7     swap to the other config (pipeline-b.conf <-> pipeline-a.conf; from
 *                     pipeline-fleet.conf to pipeline-a.conf) first
 *   length   bits 0-10 frame length; bit 14: swap to pipeline-fleet.conf first (from it, back
 *            to pipeline-a.conf); bit 15: fix the IPv4 header checksum first
 * A burst ends at 64 packets, at a change of port, and where the input says.
 *
 * Frames live in heap buffers of their exact size attached to the mbufs as external buffers,
 * so AddressSanitizer sees any access past a frame, and LeakSanitizer any mbuf the switch loses.
 * Each input starts from a clean slate: the clock jumps past every timeout, the tracker is swept
 * and config A is running.
 *
 * Invariants, for every burst:
 *  - every packet received is sent, absorbed or dropped with a counted reason, and every packet
 *    counted as sent is on a ring; the pool gets every mbuf back. One packet is counted twice:
 *    too big for the overlay and answered (overlay_too_big and the ICMP answer sent back), and
 *    only as many as such answers are read back;
 *  - what comes out is well formed; out of a VM port it is addressed to that VM's MAC, from
 *    the router's MAC or the sender's; nothing goes back where it came from but the switch's
 *    own ARP replies and neighbour advertisements;
 *  - from a VM, only the VM's own source addresses pass (D14), and only where the running
 *    policy accepts the flow in one direction or the other (ICMP errors excepted: RELATED);
 *  - out of the uplink encapsulated: from our VTEP to the VTEP (and MAC) of the host of the
 *    remote port the inner frame is addressed to, in its subnet's VNI, within overlay.mtu, the
 *    inner frame held to the checks of a delivery to that port (but for its ingress rules,
 *    which its own host checks);
 *  - decapsulated to a VM: the outer frame (still in the buffer) came from another host's VTEP
 *    in a known VNI, the inner source is a port of that host (its MAC in the VNI's subnet, or
 *    routed), the destination a port of this host in that subnet.
 * A VM's addresses are its ips and every address of its allowed prefixes; a prefix outside
 * every subnet is on no link: never delivered by MAC, never answered for.
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#define SG_FUZZ_EAL
#include "dp_frag.h"
#include "dp_private.h"
#include "dp_worker.h"
#include "fuzz_common.h"
#include "sg_conf.h"
#include "sg_ct.h"
#include "sg_dp.h"

#define N_MBUFS 511
#define ROOM 128
#define MAX_FRAME 2047

static struct rte_mempool *pool;
static struct sg_ct *ct;
static struct sg_dp *dp;
static struct dp_worker *worker;
static struct rte_rcu_qsbr *qsv;
static struct dp_gen *gens[3]; /* pipeline-a.conf, pipeline-b.conf, pipeline-fleet.conf */
static unsigned int config;    /* index in gens */
static bool differs[3][3][8];  /* [from][to][vport]: lists_differ() */
static uint64_t now_ms = 1000;
static bool verbose;
static uint64_t drops_seen[8][SG_DROP_COUNT];

/* A frame's heap buffer: where the frame starts in it (decapsulation moves the data offset). */
struct frame_buf {
	struct rte_mbuf_ext_shared_info shinfo;
	uint16_t head;
};

/* What the checks of one burst's output counted, for its accounting. */
struct seen {
	uint64_t too_big; /* ICMP answers to packets too big for the overlay */
	uint64_t encap, decap;
};

/* The port counters summed over every port. */
struct totals {
	uint64_t rx, tx, absorbed, drops, replies, too_big, encap, decap;
};

static struct sg_conf *
load(const char *name)
{
	char path[512];
	struct sg_error err = {0};
	struct sg_conf *conf;

	snprintf(path, sizeof(path), "%s/%s", SG_FUZZ_DIR, name);
	conf = sg_conf_load_file(path, &err);
	if (conf == NULL) {
		fprintf(stderr, "fuzz_pipeline: %s\n", err.msg);
		abort();
	}
	return conf;
}

static const struct dp_gen *
current_gen(void)
{
	return atomic_load_explicit(&dp->gen, memory_order_acquire);
}

/* Whether vport 'v' has other lists (verdicts) in generation 'b' than in 'a'. */
static bool
lists_differ(const struct dp_gen *a, const struct dp_gen *b, uint16_t v)
{
	if (a->vports[v].uplink)
		return false;
	for (int d = 0; d < SG_DIR_COUNT; d++) {
		const struct sg_eff_rule *ea, *eb;
		uint32_t n_a = sg_policy_effective(a->conf->policy, a->vports[v].policy_port,
				(enum sg_dir)d, &ea);
		uint32_t n_b = sg_policy_effective(b->conf->policy, b->vports[v].policy_port,
				(enum sg_dir)d, &eb);

		if (!sg_eff_lists_equal(ea, n_a, eb, n_b, true))
			return true;
	}
	return false;
}

/*
 * Swap configs as sg_dp_apply() does, but between generations built once: building one (its
 * rte_acl contexts) takes a good part of a second, which would leave no time to fuzz. The
 * workers' side of a swap is the same: another policy under a new epoch, each port's verdicts
 * changed at that epoch if its lists differ from the running generation's, else when they
 * last changed there (as dp_gen.c's changed_epoch()), so that connections are re-checked (D9)
 * as after a real change, whatever the order of the swaps.
 */
static void
apply(unsigned int c)
{
	const struct dp_gen *from = gens[config];
	struct dp_gen *to = gens[c];
	uint32_t epoch = ++dp->next_epoch;

	for (uint16_t v = 0; v < to->n_vports; v++)
		to->vports[v].changed_epoch = differs[config][c][v] ? epoch
								    : from->vports[v].changed_epoch;
	to->epoch = epoch;
	atomic_store_explicit(&dp->gen, to, memory_order_release);
	config = c;
}

static struct dp_gen *
build(const char *name)
{
	struct sg_error err = {0};
	struct dp_gen *gen = dp_gen_build_ports(dp, load(name), dp->ports, dp->n_ports, &err);

	if (gen == NULL) {
		fprintf(stderr, "fuzz_pipeline: %s: %s\n", name, err.msg);
		abort();
	}
	return gen;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sg_dp_params params = {.engine = SG_DP_ENGINE_FW, .n_workers = 1, .burst = 64,
			.rx_desc = 1024, .tx_desc = 1024};
	struct sg_ct_params ct_params;
	struct sg_error err = {0};
	struct sg_conf *conf;

	(void)argc;
	(void)argv;
	verbose = getenv("SG_FUZZ_VERBOSE") != NULL;
	fuzz_eal_init("fuzz_pipeline", 256);
	pool = rte_pktmbuf_pool_create("fuzz_pipeline", N_MBUFS, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			SOCKET_ID_ANY);
	conf = load("pipeline-a.conf");
	sg_ct_params_init(&ct_params);
	ct_params.capacity = conf->conntrack.capacity;
	ct_params.n_workers = 1;
	ct = sg_ct_create(&ct_params);
	if (pool == NULL || ct == NULL)
		abort();
	params.pool = pool;
	params.ct = ct;
	dp = sg_dp_create(&params, conf, &err);
	if (dp == NULL) {
		fprintf(stderr, "fuzz_pipeline: %s\n", err.msg);
		abort();
	}
	gens[0] = atomic_load(&dp->gen);
	gens[1] = build("pipeline-b.conf");
	gens[2] = build("pipeline-fleet.conf");
	FUZZ_CHECK(gens[2]->overlay.on && gens[2]->n_vports == gens[0]->n_vports,
			"pipeline-fleet.conf: the same local ports, with the overlay");
	for (unsigned int a = 0; a < 3; a++)
		for (unsigned int b = 0; b < 3; b++)
			for (uint16_t v = 0; v < gens[0]->n_vports; v++) {
				FUZZ_CHECK(v < 8 && gens[a]->vports[v].port == gens[b]->vports[v].port,
						"the configs' ports in one order");
				differs[a][b][v] = lists_differ(gens[a], gens[b], v);
			}
	worker = sg_dp_worker_arg(dp, 0);
	qsv = sg_ct_qsbr(ct);
	rte_rcu_qsbr_thread_register(qsv, 0);
	rte_rcu_qsbr_thread_online(qsv, 0);
	return 0;
}

/* The counters of every port of this host (the fleet's remote ports have none). */
static void
totals_get(struct totals *t)
{
	const struct dp_gen *gen = current_gen();

	memset(t, 0, sizeof(*t));
	for (uint16_t v = 0; v < gen->n_vports; v++) {
		const char *name = gen->vports[v].port->conf.name;
		struct sg_dp_port_stats s;

		FUZZ_CHECK(sg_dp_port_stats(dp, name, &s) == 0, "port %s", name);
		t->rx += s.rx_packets;
		t->tx += s.tx_packets;
		t->absorbed += s.absorbed;
		t->drops += s.drops_total;
		t->replies += s.replies;
		t->too_big += s.drops[SG_DROP_OVERLAY_TOO_BIG];
		t->encap += s.vxlan_encap;
		t->decap += s.vxlan_decap;
	}
}

static void
free_frame(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
}

/* A pool mbuf over a heap copy of the frame: 'room' bytes before it and after it. */
static struct rte_mbuf *
make_frame(const uint8_t *bytes, uint16_t len, uint16_t room)
{
	struct frame_buf *fb = malloc(sizeof(*fb));
	size_t size = (size_t)len + 2u * room;
	uint8_t *buf = malloc(size + (size == 0));
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	FUZZ_CHECK(m != NULL, "pool empty: the switch kept mbufs of earlier inputs");
	if (fb == NULL || buf == NULL)
		abort();
	memcpy(buf + room, bytes, len);
	fb->head = room;
	fb->shinfo.free_cb = free_frame;
	fb->shinfo.fcb_opaque = fb;
	rte_mbuf_ext_refcnt_set(&fb->shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, buf, RTE_BAD_IOVA, (uint16_t)size, &fb->shinfo);
	m->data_off = room;
	FUZZ_CHECK(rte_pktmbuf_append(m, len) != NULL || len == 0, "append %u", len);
	return m;
}

/* Where the frame 'm' carries started in its buffer (before any decapsulation). */
static const uint8_t *
frame_start(const struct rte_mbuf *m)
{
	const struct frame_buf *fb = container_of(m->shinfo, const struct frame_buf, shinfo);

	return (const uint8_t *)m->buf_addr + fb->head;
}

/* What the input's bit 15 asks: a correct IPv4 header checksum, so mutations get past it. */
static void
fix_ipv4_checksum(uint8_t *f, uint16_t len)
{
	uint32_t off = 12, ihl, sum = 0;
	uint16_t type;

	for (int tags = 0; tags < 3 && off + 2 <= len; tags++, off += 4) {
		type = (uint16_t)(f[off] << 8 | f[off + 1]);
		if (type != RTE_ETHER_TYPE_VLAN && type != RTE_ETHER_TYPE_QINQ)
			break;
	}
	if (off + 2 > len || (f[off] << 8 | f[off + 1]) != RTE_ETHER_TYPE_IPV4)
		return;
	off += 2;
	if (off + 20 > len)
		return;
	ihl = (f[off] & 0x0f) * 4u;
	if (ihl < 20 || off + ihl > len)
		return;
	f[off + 10] = f[off + 11] = 0;
	for (uint32_t i = 0; i < ihl; i += 2)
		sum += (uint32_t)(f[off + i] << 8 | f[off + i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[off + 10] = (uint8_t)(~sum >> 8);
	f[off + 11] = (uint8_t)~sum;
}

static bool
icmp_error(const struct sg_pkt_meta *md)
{
	if (md->proto == 1 && md->src.family == SG_AF_INET)
		return md->sport == 3 || md->sport == 4 || md->sport == 5 || md->sport == 11 ||
		       md->sport == 12;
	if (md->proto == 58 && md->src.family == SG_AF_INET6)
		return md->sport >= 1 && md->sport <= 4;
	return false;
}

/* The request type an ICMP query reply answers (the flow the policy admitted), or the type. */
static uint16_t
icmp_request_of(const struct sg_pkt_meta *md)
{
	if (md->proto == 1)
		return md->sport == 0 ? 8 : md->sport == 14 ? 13 : md->sport == 16 ? 15 :
				md->sport == 18 ? 17 : md->sport;
	return md->sport == 129 ? 128 : md->sport;
}

/* Both checks of the path from policy port 'from' to 'to' for 'flow'; UINT32_MAX (the uplink)
 * has none. */
static bool
path_accepts(const struct dp_gen *gen, uint32_t from, uint32_t to, const struct sg_flow *flow)
{
	const struct sg_policy *policy = gen->conf->policy;
	struct sg_verdict v;

	if (from != UINT32_MAX) {
		sg_policy_decide(policy, from, SG_DIR_EGRESS, flow, &v);
		if (v.action != SG_ACTION_ACCEPT)
			return false;
	}
	if (to != UINT32_MAX) {
		sg_policy_decide(policy, to, SG_DIR_INGRESS, flow, &v);
		if (v.action != SG_ACTION_ACCEPT)
			return false;
	}
	return true;
}

/* Whether remote port 'r' has 'ip' (an address or inside an allowed prefix). */
static bool
remote_owns(const struct dp_gen *gen, uint32_t r, const struct sg_ip *ip)
{
	const struct dp_map_slot *slot = dp_remote_find(gen, ip);

	return slot != NULL && slot->value == r;
}

/* One of the port's addresses, inside one of its allowed prefixes, or its link-local address. */
static bool
owns(const struct dp_vport *vp, const struct sg_ip *ip)
{
	for (uint32_t k = 0; k < vp->n_ips; k++)
		if (sg_ip_equal(&vp->ips[k], ip))
			return true;
	for (uint32_t k = 0; k < vp->n_prefixes; k++)
		if (sg_prefix_contains(&vp->prefixes[k], ip))
			return true;
	return sg_ip_equal(&vp->link_local, ip);
}

static bool
unspecified(const struct sg_ip *ip)
{
	static const uint8_t zero[16];

	return memcmp(ip->bytes, zero, 16) == 0;
}

static bool
link_local(const struct sg_ip *ip)
{
	if (ip->family == SG_AF_INET)
		return ip->bytes[0] == 169 && ip->bytes[1] == 254;
	return ip->bytes[0] == 0xfe && (ip->bytes[1] & 0xc0) == 0x80;
}

/* The configured subnet holding 'ip', or -1. */
static int
subnet_of(const struct sg_conf *conf, const struct sg_ip *ip)
{
	for (uint32_t s = 0; s < conf->n_subnets; s++)
		if (sg_prefix_contains(&conf->subnets[s].cidr, ip))
			return (int)s;
	return -1;
}

/* Whether port 'vp' has an address or an allowed prefix in subnet 's' (never for s = -1: a
 * prefix outside every subnet is on no link). */
static bool
port_in_subnet(const struct sg_conf *conf, const struct dp_vport *vp, int s)
{
	for (uint32_t k = 0; k < vp->n_ips; k++)
		if (subnet_of(conf, &vp->ips[k]) == s)
			return true;
	for (uint32_t k = 0; s >= 0 && k < vp->n_prefixes; k++)
		if (sg_prefix_covers(&conf->subnets[s].cidr, &vp->prefixes[k]))
			return true;
	return false;
}

/* Whether any VM owns 'ip' (its prefixes, outside the subnets too, included) or it is in a
 * local subnet: what the uplink may not claim. */
static bool
local_address(const struct dp_gen *gen, const struct sg_ip *ip)
{
	for (uint16_t v = 0; v < gen->n_vports; v++)
		if (!gen->vports[v].uplink && owns(&gen->vports[v], ip))
			return true;
	return subnet_of(gen->conf, ip) >= 0;
}

/* An ICMP error a VM sent about a connection: the VM must be one of its endpoints. */
static void
check_error_source(const struct rte_mbuf *m, const struct sg_pkt_meta *md)
{
	uint32_t off = (uint32_t)md->l2_len + md->l3_len + 8;
	bool v4 = md->src.family == SG_AF_INET;
	uint8_t buf[40];
	const uint8_t *h = rte_pktmbuf_read(m, off, v4 ? 20 : 40, buf);
	const uint8_t *quoted_src, *quoted_dst;
	size_t len = v4 ? 4 : 16;

	FUZZ_CHECK(h != NULL, "related ICMP error without the header it quotes");
	quoted_src = h + (v4 ? 12 : 8);
	quoted_dst = h + (v4 ? 16 : 24);
	FUZZ_CHECK(memcmp(md->src.bytes, quoted_src, len) == 0 ||
					memcmp(md->src.bytes, quoted_dst, len) == 0,
			"a VM's ICMP error about a connection it is not part of passed");
}

/* An answer to a packet too big for the overlay ('md' parsed from it, sent back to vport 'in'):
 * from the gateway of the sender's subnet and the router's MAC, to the sender, with the
 * overlay's inner MTU, quoting the sender's packet to a remote port. */
static bool
check_too_big(const struct dp_gen *gen, uint16_t in, const struct rte_mbuf *m,
		const struct sg_pkt_meta *md)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	bool v4 = md->l3 == SG_L3_IPV4;
	uint32_t off = (uint32_t)md->l2_len + md->l3_len;
	uint8_t buf[48];
	const uint8_t *h;
	struct sg_ip quoted;
	uint32_t mtu;
	int s;

	if (!(v4 && md->proto == 1 && md->sport == 3 && md->dport == 4) &&
			!(!v4 && md->proto == 58 && md->sport == 2 && md->dport == 0))
		return false;
	FUZZ_CHECK(gen->overlay.on, "too big for an overlay that is not there");
	FUZZ_CHECK(memcmp(eth->src_addr.addr_bytes, gen->router_mac, 6) == 0 &&
					memcmp(eth->dst_addr.addr_bytes, gen->vports[in].mac, 6) ==
							0,
			"too-big answer not from the router MAC to the sender's");
	FUZZ_CHECK(owns(&gen->vports[in], &md->dst),
			"too-big answer to an address not the sender's");
	s = subnet_of(gen->conf, &md->dst);
	FUZZ_CHECK(s >= 0 && sg_ip_equal(&md->src, &gen->conf->subnets[s].gateway),
			"too-big answer not from the gateway of the sender's subnet");
	h = rte_pktmbuf_read(m, off, v4 ? 28 : 48, buf);
	FUZZ_CHECK(h != NULL, "too-big answer without the packet it quotes");
	mtu = v4 ? (uint32_t)(h[6] << 8 | h[7])
		 : (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
	FUZZ_CHECK(mtu == gen->overlay.inner_mtu, "too-big answer with MTU %u, want %u", mtu,
			gen->overlay.inner_mtu);
	memset(&quoted, 0, sizeof(quoted));
	quoted.family = md->src.family;
	FUZZ_CHECK(memcmp(h + (v4 ? 8 + 12 : 8 + 8), md->dst.bytes, v4 ? 4 : 16) == 0,
			"too-big answer quoting another sender");
	memcpy(quoted.bytes, h + (v4 ? 8 + 16 : 8 + 24), v4 ? 4 : 16);
	FUZZ_CHECK(dp_remote_find(gen, &quoted) != NULL,
			"too-big answer about a packet for no remote port");
	return true;
}

/*
 * A frame the switch encapsulated out of the uplink ('md' parsed from the outer headers):
 * checks the outer headers, strips them and parses the inner frame into 'md'. Returns the
 * remote port the inner frame is for.
 */
static uint32_t
check_encap(const struct dp_gen *gen, uint16_t in, struct rte_mbuf *m, struct sg_pkt_meta *md)
{
	const struct dp_overlay *o = &gen->overlay;
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct dp_map_slot *host, *r, *owner;
	uint32_t len = rte_pktmbuf_pkt_len(m), vni;

	FUZZ_CHECK(!gen->vports[in].uplink, "encapsulated a packet from the uplink");
	FUZZ_CHECK(md->l2_len == RTE_ETHER_HDR_LEN && md->l3_len == 20 &&
					md->frag == SG_FRAG_NONE && md->proto == IPPROTO_UDP &&
					md->dport == SG_VXLAN_PORT && md->sport >= 49152 &&
					md->l4_len == len - 34,
			"outer headers: %u %u proto %u %u -> %u, UDP length %u of %u", md->l2_len,
			md->l3_len, md->proto, md->sport, md->dport, md->l4_len, len);
	FUZZ_CHECK(len - RTE_ETHER_HDR_LEN <= gen->conf->overlay.mtu,
			"an outer packet of %u bytes, overlay.mtu %u", len - RTE_ETHER_HDR_LEN,
			gen->conf->overlay.mtu);
	host = dp_map_find(&o->vteps, DP_KEY_IPV4, md->dst.bytes);
	FUZZ_CHECK(host != NULL && host->value != o->self, "encapsulated to no other host's VTEP");
	FUZZ_CHECK(memcmp(b, o->hosts[host->value].mac, 6) == 0 && memcmp(b + 6, o->mac, 6) == 0,
			"outer MACs not the host's, from ours");
	FUZZ_CHECK(b[42] == 0x08, "VXLAN flags %#x", b[42]);
	vni = (uint32_t)b[46] << 16 | (uint32_t)b[47] << 8 | b[48];
	rte_pktmbuf_adj(m, SG_VXLAN_HDRS_LEN);
	FUZZ_CHECK(sg_pkt_parse(m, md) == SG_DROP_NONE, "encapsulated a malformed frame (%s)",
			sg_drop_reason_name((enum sg_drop_reason)md->reason));
	FUZZ_CHECK((md->l3 == SG_L3_IPV4 || md->l3 == SG_L3_IPV6) && md->frag == SG_FRAG_NONE &&
					md->n_vlans == 0,
			"encapsulated something other than an unfragmented IP packet");
	FUZZ_CHECK((uint32_t)md->l3_len + md->l4_len <= o->inner_mtu, "inner packet too big");
	r = dp_map_find(&o->macs, DP_KEY_MAC, b + SG_VXLAN_HDRS_LEN);
	FUZZ_CHECK(r != NULL && o->remotes[r->value].host == host->value,
			"inner frame not to the MAC of a port of the host it is sent to");
	owner = dp_remote_find(gen, &md->dst);
	FUZZ_CHECK(owner != NULL && owner->value == r->value && owner->subnet != DP_NO_SUBNET &&
					vni == gen->conf->subnets[owner->subnet].vni,
			"inner frame not for the port of its MAC, in its subnet's VNI (%u)", vni);
	return r->value;
}

/*
 * A frame decapsulated from the uplink to vport 'out' ('md' parsed from it): the outer headers
 * before it in its buffer are VXLAN from another host's VTEP to ours in a known VNI, from a
 * port of that host (its MAC in the VNI's subnet, or routed) to a port of this host there.
 */
static void
check_decap(const struct dp_gen *gen, uint16_t out, const struct rte_mbuf *m,
		const struct sg_pkt_meta *md)
{
	const struct dp_overlay *o = &gen->overlay;
	const uint8_t *f = frame_start(m), *inner = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t outer_len = (uint32_t)(inner - f), ihl, vni;
	const struct dp_map_slot *host, *src;
	const uint8_t *udp, *vx;
	int s = -1;

	FUZZ_CHECK(o->on, "decapsulated without the overlay");
	FUZZ_CHECK(outer_len >= SG_VXLAN_HDRS_LEN && f[12] == 0x08 && f[13] == 0 && f[14] >> 4 == 4,
			"decapsulated from no outer IPv4 (%u bytes of headers)", outer_len);
	ihl = (f[14] & 0x0f) * 4u;
	FUZZ_CHECK(outer_len == RTE_ETHER_HDR_LEN + ihl + 16, "outer headers of %u bytes",
			outer_len);
	FUZZ_CHECK((f[20] & 0x3f) == 0 && f[21] == 0 && f[23] == IPPROTO_UDP,
			"decapsulated an outer fragment or no UDP");
	udp = f + RTE_ETHER_HDR_LEN + ihl;
	vx = udp + 8;
	FUZZ_CHECK((udp[2] << 8 | udp[3]) == SG_VXLAN_PORT && (vx[0] & 0x08) != 0,
			"decapsulated no VXLAN");
	FUZZ_CHECK((uint32_t)(udp[4] << 8 | udp[5]) == 16 + rte_pktmbuf_pkt_len(m),
			"inner frame of %u bytes, UDP length %u", rte_pktmbuf_pkt_len(m),
			udp[4] << 8 | udp[5]);
	FUZZ_CHECK(memcmp(f + 30, &o->vtep, 4) == 0, "decapsulated what was not for our VTEP");
	host = dp_map_find(&o->vteps, DP_KEY_IPV4, f + 26);
	FUZZ_CHECK(host != NULL && host->value != o->self,
			"decapsulated from no other host's VTEP");
	vni = (uint32_t)vx[4] << 16 | (uint32_t)vx[5] << 8 | vx[6];
	for (uint32_t k = 0; k < gen->conf->n_subnets; k++)
		if (gen->conf->subnets[k].vni == vni && vni != 0)
			s = (int)k;
	FUZZ_CHECK(s >= 0, "decapsulated from unknown VNI %u", vni);
	src = dp_remote_find(gen, &md->src);
	FUZZ_CHECK(src != NULL && o->remotes[src->value].host == host->value,
			"decapsulated an inner source that is no port of the sending host");
	if (memcmp(inner + 6, gen->router_mac, 6) != 0)
		FUZZ_CHECK(src->subnet == s && memcmp(inner + 6, o->remotes[src->value].mac, 6) ==
								0,
				"decapsulated an inner source MAC not its port's in the VNI's "
				"subnet");
	FUZZ_CHECK(subnet_of(gen->conf, &md->dst) == s &&
					port_in_subnet(gen->conf, &gen->vports[out], s),
			"decapsulated to %s outside the VNI's subnet",
			gen->vports[out].port->conf.name);
}

/* A frame the switch sent out of vport 'out' while processing a burst from vport 'in'. */
static void
check_sent(const struct dp_gen *gen, uint16_t in, uint16_t out, struct rte_mbuf *m,
		struct seen *seen)
{
	const struct dp_vport *in_vp = &gen->vports[in], *out_vp = &gen->vports[out];
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	/* Where the packet goes: out_vp, or a remote port through the overlay. */
	uint32_t remote = DP_NO_REMOTE, to_policy = out_vp->policy_port;
	const char *to_name = out_vp->port->conf.name;
	bool to_uplink = out_vp->uplink, decapped = false;
	const uint8_t *to_mac = out_vp->mac;
	struct sg_pkt_meta md;
	struct sg_flow flow;

	FUZZ_CHECK(sg_pkt_parse(m, &md) == SG_DROP_NONE, "sent a malformed frame (%s) out of %s",
			sg_drop_reason_name((enum sg_drop_reason)md.reason), out_vp->port->conf.name);
	if (out == in) {
		/* Only the switch's answers go back, to the asker, from a MAC that owns the
		 * address (the router's for gateways, the owner VM's for VM addresses). */
		bool nd = md.l3 == SG_L3_IPV6 && md.proto == 58 && md.sport == SG_ND_ADVERT;

		FUZZ_CHECK(!in_vp->uplink, "answered on the uplink");
		if ((md.l3 == SG_L3_IPV4 || md.l3 == SG_L3_IPV6) &&
				check_too_big(gen, in, m, &md)) {
			seen->too_big++;
			return;
		}
		FUZZ_CHECK((md.l3 == SG_L3_ARP && md.sport == SG_ARP_REPLY) || nd,
				"sent back something other than an answer");
		if (!nd || !rte_is_multicast_ether_addr(&eth->dst_addr))
			FUZZ_CHECK(memcmp(eth->dst_addr.addr_bytes, in_vp->mac, 6) == 0,
					"answer not addressed to the asker");
		if (memcmp(eth->src_addr.addr_bytes, gen->router_mac, 6) != 0) {
			uint16_t owner = dp_map_get(&gen->macs, DP_KEY_MAC, eth->src_addr.addr_bytes);
			const struct sg_ip *addr = nd ? &md.nd_target : &md.src;
			/* A remote port is answered for here, with its MAC. */
			const struct dp_map_slot *r =
					gen->overlay.on && owner == DP_NO_VPORT
							? dp_map_find(&gen->overlay.macs,
									  DP_KEY_MAC,
									  eth->src_addr.addr_bytes)
							: NULL;

			FUZZ_CHECK((owner != DP_NO_VPORT && owner != in &&
						   owns(&gen->vports[owner], addr)) ||
							(r != NULL && remote_owns(gen, r->value,
										      addr)),
					"answered for an address with a MAC that does not own it");
		}
		/* Only for what exists in the asker's own subnet (gateways included). */
		FUZZ_CHECK(gen->conf->n_subnets == 0 ||
						port_in_subnet(gen->conf, in_vp,
								subnet_of(gen->conf, nd ? &md.nd_target :
											 &md.src)),
				"answered for an address outside the asker's subnets");
		return;
	}
	FUZZ_CHECK(md.n_vlans == 0, "forwarded a VLAN tag out of %s", out_vp->port->conf.name);
	if (out_vp->uplink && gen->overlay.on && md.l3 == SG_L3_IPV4 &&
			memcmp(md.src.bytes, &gen->overlay.vtep, 4) == 0) {
		/* From our VTEP: encapsulated (no VM has that address). The inner frame is
		 * held to what a delivery to the remote port must be, but for its ingress
		 * rules: its own host checks them (here a remote port has no lists). */
		remote = check_encap(gen, in, m, &md);
		seen->encap++;
		eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		to_policy = UINT32_MAX;
		to_mac = gen->overlay.remotes[remote].mac;
		to_uplink = false;
		to_name = "a remote port";
	} else if (in_vp->uplink && rte_pktmbuf_mtod(m, const uint8_t *) != frame_start(m)) {
		/* Only decapsulation moves a frame from the uplink in its buffer. */
		check_decap(gen, out, m, &md);
		seen->decap++;
		decapped = true;
	}
	if (!to_uplink && (md.l3 == SG_L3_IPV4 || md.l3 == SG_L3_IPV6))
		/* Delivery follows addresses: a VM gets only what is addressed to it. */
		FUZZ_CHECK(remote != DP_NO_REMOTE ? remote_owns(gen, remote, &md.dst)
						  : owns(out_vp, &md.dst),
				"%s got a packet for an address it does not own", to_name);
	if (memcmp(eth->src_addr.addr_bytes, gen->router_mac, 6) == 0)
		FUZZ_CHECK(!link_local(&md.src) && !link_local(&md.dst),
				"routed a link-local address");
	else if (!in_vp->uplink && !to_uplink && gen->conf->n_subnets != 0 && !link_local(&md.dst))
		/* By MAC only inside the destination's subnet, from a source in it. */
		FUZZ_CHECK(port_in_subnet(gen->conf, in_vp, subnet_of(gen->conf, &md.dst)) &&
						(link_local(&md.src) ||
								subnet_of(gen->conf, &md.src) ==
										subnet_of(gen->conf,
												&md.dst)),
				"%s -> %s by MAC across subnets", in_vp->port->conf.name, to_name);
	if (in_vp->uplink && !decapped && (md.l3 == SG_L3_IPV4 || md.l3 == SG_L3_IPV6))
		FUZZ_CHECK(!local_address(gen, &md.src) && !unspecified(&md.src),
				"the uplink passed a source of this switch's VMs or subnets");
	FUZZ_CHECK(md.l3 == SG_L3_IPV4 || md.l3 == SG_L3_IPV6, "forwarded non-IP");
	if (to_uplink)
		/* Routed to the router behind it, or a VM's DHCP discovery (broadcast, or any
		 * group address: resolve() looks at the multicast bit only). */
		FUZZ_CHECK(memcmp(eth->dst_addr.addr_bytes, out_vp->mac, 6) == 0 ||
						(rte_is_multicast_ether_addr(&eth->dst_addr) &&
								md.proto == 17 && md.dport == 67),
				"to the uplink, not to its router");
	else
		FUZZ_CHECK(memcmp(eth->dst_addr.addr_bytes, to_mac, 6) == 0,
				"out of %s, not addressed to it", to_name);
	if (!in_vp->uplink) {
		/* D14: only the sender's own MAC and addresses (or the router's MAC, routed). */
		FUZZ_CHECK(memcmp(eth->src_addr.addr_bytes, in_vp->mac, 6) == 0 ||
						memcmp(eth->src_addr.addr_bytes, gen->router_mac, 6) == 0,
				"forwarded from a MAC not the sender's");
		FUZZ_CHECK(owns(in_vp, &md.src) || unspecified(&md.src),
				"forwarded a spoofed source address from %s", in_vp->port->conf.name);
		/* The unspecified source only in DHCP discovery, to the uplink. */
		FUZZ_CHECK(!unspecified(&md.src) ||
						(to_uplink && md.proto == 17 && md.sport == 68 &&
								md.dport == 67),
				"forwarded an unspecified source that is not DHCP discovery");
	}
	if (icmp_error(&md) && !in_vp->uplink)
		check_error_source(m, &md);
	if (md.frag == SG_FRAG_LATER || icmp_error(&md))
		return; /* decided with their first fragment, or RELATED to a connection */
	flow = (struct sg_flow){.proto = md.proto, .src = md.src, .dst = md.dst, .sport = md.sport,
			.dport = md.dport};
	if (path_accepts(gen, in_vp->policy_port, to_policy, &flow))
		return;
	if (md.proto == 1 || md.proto == 58) {
		flow.sport = icmp_request_of(&md);
	} else {
		flow.sport = md.dport;
		flow.dport = md.sport;
	}
	flow.src = md.dst;
	flow.dst = md.src;
	FUZZ_CHECK(path_accepts(gen, to_policy, in_vp->policy_port, &flow),
			"%s -> %s: proto %u %u -> %u passed, the policy refuses it both ways",
			in_vp->port->conf.name, to_name, md.proto, md.sport, md.dport);
}

/* SG_FUZZ_VERBOSE=1: what each burst did, to see what a seed reaches. */
static void
report_burst(const struct dp_gen *gen, uint16_t in, uint16_t n, uint64_t sent,
		const struct totals *before)
{
	static const char *const names[] = {"a", "b", "fleet"};
	struct totals after;

	totals_get(&after);
	fprintf(stderr, "burst of %u from %s (config %s): %lu sent, %lu absorbed, %lu dropped\n", n,
			gen->vports[in].port->conf.name, names[config], sent,
			after.absorbed - before->absorbed, after.drops - before->drops);
	for (uint16_t v = 0; v < gen->n_vports; v++) {
		const char *name = gen->vports[v].port->conf.name;
		struct sg_dp_port_stats s;

		sg_dp_port_stats(dp, name, &s);
		for (int r = 1; r < SG_DROP_COUNT; r++)
			if (s.drops[r] != drops_seen[v][r])
				fprintf(stderr, "  %s: %lu %s\n", name,
						s.drops[r] - drops_seen[v][r],
						sg_drop_reason_name((enum sg_drop_reason)r));
		memcpy(drops_seen[v], s.drops, sizeof(s.drops));
	}
}

/* Run w->pkts[0..n) from vport 'in', then read back and check everything sent. */
static void
run_burst(uint16_t in, uint16_t n)
{
	const struct dp_gen *gen = current_gen();
	struct totals before, after;
	/* Later fragments wait in the worker for their first fragment: in flight, not lost. */
	int64_t held_before = worker->frags->n_held, held;
	struct seen seen = {0};
	uint64_t sent = 0, answers = 0;

	totals_get(&before);
	worker->now_ms = now_ms;
	dp_worker_process(worker, gen, in, n);
	for (uint16_t v = 0; v < gen->n_vports; v++) {
		struct rte_mbuf *out[SG_DP_MAX_BURST];
		uint16_t got;

		while ((got = rte_eth_rx_burst(gen->vports[v].port->dev.port_id, 0, out,
				SG_DP_MAX_BURST)) != 0) {
			for (uint16_t i = 0; i < got; i++)
				check_sent(gen, in, v, out[i], &seen);
			rte_pktmbuf_free_bulk(out, got);
			sent += got;
			answers += v == in ? got : 0;
		}
	}
	if (verbose)
		report_burst(gen, in, n, sent, &before);
	totals_get(&after);
	held = (int64_t)worker->frags->n_held - held_before;
	FUZZ_CHECK(after.rx - before.rx == n, "received %u, counted %lu", n, after.rx - before.rx);
	FUZZ_CHECK(after.tx - before.tx == sent, "sent %lu, counted %lu", sent, after.tx - before.tx);
	FUZZ_CHECK(after.replies - before.replies == answers, "%lu answers sent back, counted %lu",
			answers, after.replies - before.replies);
	/* A packet too big for the overlay and answered is counted as a drop (overlay_too_big)
	 * and its answer sent: the one packet counted twice, as many times as answers seen. */
	FUZZ_CHECK(after.too_big - before.too_big >= seen.too_big,
			"%lu too-big answers, %lu overlay_too_big drops", seen.too_big,
			after.too_big - before.too_big);
	FUZZ_CHECK((int64_t)n == (int64_t)(sent + (after.absorbed - before.absorbed) +
						 (after.drops - before.drops) - seen.too_big) +
							held,
			"%u in, %lu sent, %lu absorbed, %lu dropped, %lu too big and answered, "
			"%+ld "
			"held: packets unaccounted for",
			n, sent, after.absorbed - before.absorbed, after.drops - before.drops,
			seen.too_big, held);
	FUZZ_CHECK(after.encap - before.encap == seen.encap, "%lu encapsulated, counted %lu",
			seen.encap, after.encap - before.encap);
	/* Decapsulated ones may still be refused (conntrack, the receiver's rules). */
	FUZZ_CHECK(after.decap - before.decap >= seen.decap, "%lu decapsulated, counted %lu",
			seen.decap, after.decap - before.decap);
	FUZZ_CHECK(rte_mempool_avail_count(pool) == N_MBUFS - worker->frags->n_held,
			"%u mbufs missing, %u fragments held",
			N_MBUFS - rte_mempool_avail_count(pool), worker->frags->n_held);
	dp_housekeeping(worker, gen);
	rte_rcu_qsbr_quiescent(qsv, 0);
}

/* A clean slate: every connection of earlier inputs timed out and swept, config A running. */
static void
reset(void)
{
	/* Past the longest timeout (SG_CT_TIMEOUT_MAX s), well inside the 32-bit deadline wrap. */
	now_ms += (uint64_t)SG_CT_TIMEOUT_MAX * 1000 + 1000;
	worker->now_ms = now_ms;
	for (int i = 0; i < 64 && sg_ct_expire(ct, 0, 1u << 20, now_ms) != 0; i++)
		rte_rcu_qsbr_quiescent(qsv, 0);
	rte_rcu_qsbr_quiescent(qsv, 0);
	sg_ct_expire(ct, 0, 1u << 20, now_ms);
	if (config != 0)
		apply(0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t steps[4] = {0, 10, 2000, 150000};
	uint16_t n = 0, in = 0;
	size_t pos = 0;

	reset();
	while (pos + 3 <= size) {
		uint8_t control = data[pos];
		uint16_t word = (uint16_t)(data[pos + 1] << 8 | data[pos + 2]);
		uint16_t len = word & MAX_FRAME, port;
		struct rte_mbuf *m;

		pos += 3;
		if (len > size - pos)
			len = (uint16_t)(size - pos);
		port = (uint16_t)((control & 7) % current_gen()->n_vports);
		/* A burst comes from one port at one time. */
		if (n > 0 && (port != in || (control & 0xb8) != 0 || (word & 0x4000) != 0 ||
					     n == SG_DP_MAX_BURST)) {
			run_burst(in, n);
			n = 0;
		}
		if (control & 0x80)
			apply(config == 0 ? 1 : 0);
		if (word & 0x4000)
			apply(config == 2 ? 0 : 2);
		now_ms += steps[(control >> 4) & 3];
		m = make_frame(data + pos, len, (control & 0x40) ? ROOM : 0);
		if (word & 0x8000)
			fix_ipv4_checksum(rte_pktmbuf_mtod(m, uint8_t *), len);
		pos += len;
		in = port;
		worker->pkts[n++] = m;
	}
	if (n > 0)
		run_burst(in, n);
	return 0;
}
