/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the packet parser (sg_pkt_parse and the burst API) on arbitrary bytes, and
 * the switch's in-place answers (ARP reply, neighbour advertisement) on what parses as a
 * request.
 *
 * The input is one Ethernet frame. It is parsed from a heap buffer of exactly its size, wrapped
 * in an mbuf header, so AddressSanitizer catches any read or write past the data (pool memory
 * would hide it). Then, as invariants:
 *  - the lengths the parser reports fit in the frame, and the fields it documents as zero are;
 *  - a pool mbuf through sg_pkt_parse_burst() gives the very same record;
 *  - split into two segments at the header boundaries and at one more point, the frame parses
 *    the same, or is dropped as truncated at the layer that is cut;
 *  - an ARP request answered in place parses as the matching reply, and a neighbour
 *    solicitation answered in place parses as a valid advertisement of its target; with no
 *    room in the buffer the answer is refused, not written past the end.
 */
#include <string.h>

#include <rte_mbuf.h>

#define SG_FUZZ_EAL
#include "fuzz_common.h"
#include "sg_pkt.h"

static struct rte_mempool *pool;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_eal_init("fuzz_pkt", 64);
	pool = rte_pktmbuf_pool_create("fuzz_pkt", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	return 0;
}

/* An mbuf header (on the caller's stack) over 'len' bytes of a heap buffer of 'size' bytes. */
static void
wrap(struct rte_mbuf *m, uint8_t *buf, uint16_t size, uint16_t len)
{
	memset(m, 0, sizeof(*m));
	m->buf_addr = buf;
	m->buf_len = size;
	m->data_off = 0;
	m->data_len = len;
	m->pkt_len = len;
	m->nb_segs = 1;
	m->refcnt = 1;
}

static uint8_t *
dup_bytes(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size > 0 ? size : 1);

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	return buf;
}

static bool
is_truncation(enum sg_drop_reason r)
{
	return r == SG_DROP_L2_TRUNCATED || r == SG_DROP_ARP_MALFORMED || r == SG_DROP_IP_TRUNCATED ||
	       r == SG_DROP_IPV6_EXT_HEADERS || r == SG_DROP_L4_TRUNCATED;
}

/* Two exact-size segments, [0, split) and [split, size): same record, or a truncation. */
static void
check_split(const uint8_t *data, uint16_t size, uint16_t split, const struct sg_pkt_meta *whole)
{
	uint8_t *a = dup_bytes(data, split), *b = dup_bytes(data + split, size - split);
	struct rte_mbuf ma, mb;
	struct sg_pkt_meta meta;
	enum sg_drop_reason r;

	wrap(&ma, a, split, split);
	wrap(&mb, b, (uint16_t)(size - split), (uint16_t)(size - split));
	ma.next = &mb;
	ma.nb_segs = 2;
	ma.pkt_len = size;
	r = sg_pkt_parse(&ma, &meta);
	/* Headers are read from the first segment only; a cut one is truncated at its layer. */
	FUZZ_CHECK(r == whole->reason || is_truncation(r), "split at %u: %s, whole frame: %s", split,
			sg_drop_reason_name(r), sg_drop_reason_name((enum sg_drop_reason)whole->reason));
	if (r == SG_DROP_NONE)
		FUZZ_CHECK(memcmp(&meta, whole, sizeof(meta)) == 0, "split at %u parses differently",
				split);
	free(a);
	free(b);
}

/* What a well-formed record promises about its lengths and fields. */
static void
check_record(const struct sg_pkt_meta *md, uint16_t size)
{
	static const struct sg_ip none;

	FUZZ_CHECK(md->l2_len == 14 + 4 * md->n_vlans && md->n_vlans <= 2, "l2_len %u, %u tags",
			md->l2_len, md->n_vlans);
	FUZZ_CHECK(md->l3 != SG_L3_OTHER, "well formed but no L3");
	if (md->l3 == SG_L3_ARP) {
		FUZZ_CHECK(md->l2_len + md->l3_len <= size, "ARP beyond the frame");
		FUZZ_CHECK(md->sport == SG_ARP_REQUEST || md->sport == SG_ARP_REPLY, "ARP op %u",
				md->sport);
		return;
	}
	/* The IP length may be shorter than the frame (padding), never longer. */
	FUZZ_CHECK((uint32_t)md->l2_len + md->l3_len + md->l4_len <= size,
			"l2 %u + l3 %u + l4 %u > frame %u", md->l2_len, md->l3_len, md->l4_len, size);
	FUZZ_CHECK(md->src.family == (md->l3 == SG_L3_IPV4 ? SG_AF_INET : SG_AF_INET6) &&
					md->dst.family == md->src.family,
			"address families %u/%u", md->src.family, md->dst.family);
	if (md->frag == SG_FRAG_NONE)
		FUZZ_CHECK(md->frag_id == 0 && md->frag_offset == 0 && !md->frag_more,
				"fragment fields on a whole datagram");
	if (md->frag == SG_FRAG_LATER) {
		FUZZ_CHECK(md->sport == 0 && md->dport == 0 && md->tcp_flags == 0,
				"ports on a later fragment");
		return;
	}
	if (md->proto == 6 && md->l3 != SG_L3_OTHER) {
		FUZZ_CHECK(md->tcp_hdr_len >= 20 && md->tcp_hdr_len <= md->l4_len,
				"tcp header %u of %u", md->tcp_hdr_len, md->l4_len);
		FUZZ_CHECK(!sg_pkt_tcp_flags_invalid(md->tcp_flags), "invalid flags %#x passed",
				md->tcp_flags);
	}
	if (!(md->l3 == SG_L3_IPV6 && md->proto == 58 &&
			    (md->sport == SG_ND_SOLICIT || md->sport == SG_ND_ADVERT)))
		FUZZ_CHECK(memcmp(&md->nd_target, &none, sizeof(none)) == 0,
				"nd_target set outside neighbour discovery");
}

/* A pool mbuf through the burst API gives the same record. */
static void
check_burst(const uint8_t *data, uint16_t size, const struct sg_pkt_meta *whole)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct sg_pkt_meta meta;

	FUZZ_CHECK(m != NULL, "pool empty: an earlier input leaked an mbuf");
	if (size > rte_pktmbuf_tailroom(m)) {
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(rte_pktmbuf_append(m, size), data, size);
	FUZZ_CHECK(sg_pkt_parse_burst(&m, &meta, 1) == (whole->reason == SG_DROP_NONE),
			"burst count");
	FUZZ_CHECK(memcmp(&meta, whole, sizeof(meta)) == 0, "burst and single parses differ");
	rte_pktmbuf_free(m);
}

static const uint8_t answer_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x01};

static void
check_arp_reply(const uint8_t *data, uint16_t size, const struct sg_pkt_meta *req)
{
	uint8_t *buf = dup_bytes(data, size);
	struct sg_pkt_meta rep;
	struct rte_mbuf m;

	wrap(&m, buf, size, size);
	sg_pkt_arp_reply(&m, req, answer_mac);
	FUZZ_CHECK(sg_pkt_parse(&m, &rep) == SG_DROP_NONE, "ARP reply is malformed: %s",
			sg_drop_reason_name((enum sg_drop_reason)rep.reason));
	FUZZ_CHECK(rep.sport == SG_ARP_REPLY && memcmp(rep.arp_sha, answer_mac, 6) == 0 &&
					sg_ip_equal(&rep.src, &req->dst) && sg_ip_equal(&rep.dst, &req->src),
			"ARP reply does not answer the request");
	FUZZ_CHECK(memcmp(buf, data + 6, 6) == 0 && memcmp(buf + 6, answer_mac, 6) == 0,
			"ARP reply is not addressed from the answer to the asker");
	free(buf);
}

/* Whether 'ip' may be an IPv6 source on the wire (RFC 4291: not ::1, not IPv4-mapped). */
static bool
unicast_source(const struct sg_ip *ip)
{
	static const uint8_t loopback[16] = {[15] = 1};
	static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};

	return memcmp(ip->bytes, loopback, 16) != 0 && memcmp(ip->bytes, v4mapped, 12) != 0;
}

/* Answer a solicitation in a buffer with 'room' bytes after the frame. */
static void
check_nd_advert(const uint8_t *data, uint16_t size, const struct sg_pkt_meta *ns, uint16_t room)
{
	const uint16_t na_len = ns->l2_len + 40 + 32;
	uint8_t *buf = malloc((size_t)size + room);
	struct sg_pkt_meta na;
	struct rte_mbuf m;
	int rc;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	wrap(&m, buf, (uint16_t)(size + room), size);
	rc = sg_pkt_nd_advert(&m, ns, answer_mac, true);
	if (na_len > size + room) {
		FUZZ_CHECK(rc == -EINVAL && m.data_len == size, "advertisement written without room");
		free(buf);
		return;
	}
	FUZZ_CHECK(rc == 0, "no advertisement with room for it: %d", rc);
	FUZZ_CHECK(m.data_len == na_len && m.pkt_len == na_len, "advertisement of %u bytes",
			m.data_len);
	if (sg_pkt_parse(&m, &na) == SG_DROP_IP_ADDRESS && !unicast_source(&ns->nd_target)) {
		/* Asked for ::1 or an IPv4-mapped address: the answer's source is as invalid. The
		 * datapath only answers for configured addresses. */
		free(buf);
		return;
	}
	FUZZ_CHECK(na.reason == SG_DROP_NONE, "advertisement is malformed: %s",
			sg_drop_reason_name((enum sg_drop_reason)na.reason));
	FUZZ_CHECK(na.l3 == SG_L3_IPV6 && na.proto == 58 && na.sport == SG_ND_ADVERT &&
					sg_ip_equal(&na.nd_target, &ns->nd_target) &&
					sg_ip_equal(&na.src, &ns->nd_target) &&
					memcmp(na.nd_lladdr, answer_mac, 6) == 0 && na.ttl == 255 &&
					na.n_vlans == ns->n_vlans && na.vlan_tci == ns->vlan_tci,
			"advertisement does not answer the solicitation");
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_pkt_meta whole;
	struct rte_mbuf m;
	uint8_t *buf;
	uint16_t len;

	if (size > UINT16_MAX)
		return -1; /* not a frame any port delivers: keep it out of the corpus */
	len = (uint16_t)size;
	buf = dup_bytes(data, size);
	wrap(&m, buf, len, len);
	sg_pkt_parse(&m, &whole);
	FUZZ_CHECK(memcmp(buf, data, size) == 0, "the parser wrote to the packet");
	free(buf);

	if (whole.reason == SG_DROP_NONE)
		check_record(&whole, len);
	check_burst(data, len, &whole);
	if (len > 1) {
		/* Cut inside the outermost header, at the L3 and L4 boundaries, and at a point the
		 * input chooses (its last byte), so every layer is seen cut. */
		uint16_t splits[] = {
			(uint16_t)(len / 2),
			whole.l2_len,
			(uint16_t)(whole.l2_len + whole.l3_len),
			(uint16_t)(whole.l2_len + whole.l3_len + 4),
			(uint16_t)(1 + data[len - 1] % (len - 1)),
		};

		for (size_t i = 0; i < SG_ARRAY_SIZE(splits); i++)
			if (splits[i] > 0 && splits[i] < len)
				check_split(data, len, splits[i], &whole);
	}
	if (whole.reason != SG_DROP_NONE)
		return 0;
	if (whole.l3 == SG_L3_ARP && whole.sport == SG_ARP_REQUEST)
		check_arp_reply(data, len, &whole);
	if (whole.l3 == SG_L3_IPV6 && whole.proto == 58 && whole.sport == SG_ND_SOLICIT) {
		check_nd_advert(data, len, &whole, 0);
		check_nd_advert(data, len, &whole, 128);
	}
	return 0;
}
