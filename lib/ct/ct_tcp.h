/* TCP tracking helpers shared by ct_tcp.c and the burst loop in ct.c: serial-number
 * arithmetic, and the ESTABLISHED fast path inline, so the common packet costs no call. */
#ifndef CT_TCP_H
#define CT_TCP_H

#include "ct_private.h"

/* Retransmissions without progress before the max_retrans timeout applies. */
#define CT_TCP_MAX_RETRANS 3
/* Acks may lag by this much when the window is smaller (netfilter's MAXACKWINCONST). */
#define CT_TCP_MAXACKWINCONST 66000

/* Serial-number comparisons (RFC 1982). */
static inline bool
before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
after(uint32_t a, uint32_t b)
{
	return before(b, a);
}

static inline uint32_t
tcp_hdr_len(const struct sg_pkt_meta *meta)
{
	return meta->tcp_hdr_len >= 20 ? meta->tcp_hdr_len : 20;
}

static inline uint32_t
tcp_maxackwindow(const struct ct_tcp *t, int dir)
{
	return t->td_maxwin[dir] > CT_TCP_MAXACKWINCONST ? t->td_maxwin[dir]
							 : CT_TCP_MAXACKWINCONST;
}

static inline uint8_t
tcp_fingerprint(uint32_t seq, uint32_t ack, uint32_t win)
{
	uint32_t h = (seq * 0x9e3779b1u) ^ (ack * 0x85ebca6bu) ^ win;

	return (uint8_t)(h >> 24 ^ h >> 8);
}

/* The highest right edge of the segment's SACK blocks above 'sack', else 'sack' (ct_tcp.c). */
uint32_t ct_tcp_sack(const struct ct_pkt *p, uint32_t sack);

/* Whether ct_tcp_update_established() applies to segment 'flags' in direction 'dir'
 * (tcp_slow_only: never, so tests can compare both paths). */
static inline bool
ct_tcp_fast_ok(const struct sg_ct *ct, const struct ct_tcp *t, uint8_t flags, int dir)
{
	return t->state == SG_CT_ST_TCP_ESTABLISHED &&
			(flags & (SG_TCP_FIN | SG_TCP_SYN | SG_TCP_RST | SG_TCP_ACK)) == SG_TCP_ACK &&
			t->td_maxwin[dir] != 0 && !ct->tcp_slow_only;
}

/*
 * The common case, an ACK segment (no SYN, FIN or RST) of an ESTABLISHED connection from a
 * side already seen (td_maxwin[dir] != 0; the other side may not be, after a pickup):
 * tcp_conn_update() and tcp_in_window() with every branch this case decides removed, and
 * nothing else changed. The state table keeps it ESTABLISHED, none of the first-segment or
 * re-initialisation cases of tcp_in_window() applies, and an out-of-window segment changes
 * nothing before it is refused. check_ct_fast runs random conversations through both paths
 * and compares every field. The entry is locked; the caller has done the path and block
 * checks.
 */
static __rte_always_inline enum ct_upd
ct_tcp_update_established(const struct sg_ct *ct, struct sg_conn *c, struct ct_tcp *t,
		const struct ct_pkt *p, int dir, uint32_t now, uint8_t *reason)
{
	const struct sg_pkt_meta *meta = p->meta;
	const int rdir = !dir;
	uint32_t hlen = tcp_hdr_len(meta);
	uint32_t payload = meta->l4_len > hlen ? meta->l4_len - hlen : 0;
	uint32_t seq = meta->tcp_seq, ack = meta->tcp_ack, sack = ack, end;
	uint32_t win = meta->tcp_win, swin, timeout;

	if ((t->pflags[rdir] & CT_TCP_F_SACK_PERM) && hlen > 20)
		sack = ct_tcp_sack(p, sack);
	/* A segment without data is judged by its ack only. */
	if (payload == 0)
		seq = end = t->td_end[dir];
	else
		end = seq + payload;
	if (!(before(seq, t->td_maxend[dir] + 1) &&
			(t->td_maxwin[rdir] == 0 ||
			 after(end, t->td_end[dir] - t->td_maxwin[rdir] - 1)) &&
			before(sack, t->td_end[rdir] + 1) &&
			after(sack, t->td_end[rdir] - tcp_maxackwindow(t, dir) - 1))) {
		if (!(t->pflags[dir] & CT_TCP_F_BE_LIBERAL) &&
				!__atomic_load_n(&ct->tcp_be_liberal, __ATOMIC_RELAXED)) {
			*reason = SG_DROP_CT_TCP_WINDOW;
			return CT_UPD_INVALID;
		}
	} else {
		uint8_t fp;

		win <<= t->td_scale[dir];
		/* Sender. */
		swin = win + (sack - ack);
		if (t->td_maxwin[dir] < swin)
			t->td_maxwin[dir] = swin;
		if (after(end, t->td_end[dir])) {
			t->td_end[dir] = end;
			t->pflags[dir] |= CT_TCP_F_DATA_UNACK;
		}
		if (!(t->pflags[dir] & CT_TCP_F_MAXACK_SET)) {
			t->td_maxack[dir] = ack;
			t->pflags[dir] |= CT_TCP_F_MAXACK_SET;
		} else if (after(ack, t->td_maxack[dir])) {
			t->td_maxack[dir] = ack;
		}
		/* Receiver. */
		if (t->td_maxwin[rdir] != 0 && after(end, t->td_maxend[dir]))
			t->td_maxwin[rdir] += end - t->td_maxend[dir];
		if (after(sack + win, t->td_maxend[rdir] - 1)) {
			t->td_maxend[rdir] = sack + win;
			if (win == 0)
				t->td_maxend[rdir]++;
		}
		if (ack == t->td_end[rdir])
			t->pflags[rdir] &= (uint8_t)~CT_TCP_F_DATA_UNACK;
		/* Retransmissions: the same segment again from the same side. */
		fp = tcp_fingerprint(seq, ack, meta->tcp_win);
		if ((t->last >> 7) == dir && t->last_end == end && t->last_fp == fp) {
			if (t->retrans < UINT8_MAX)
				t->retrans++;
		} else {
			t->last_end = end;
			t->last_fp = fp;
			t->retrans = 0;
		}
	}
	t->last = (uint8_t)(CT_TCP_ACK_SET | dir << 7);

	timeout = ct_timeout(ct, SG_CT_TM_TCP_ESTABLISHED);
	if (t->retrans >= CT_TCP_MAX_RETRANS &&
			timeout > ct_timeout(ct, SG_CT_TM_TCP_MAX_RETRANS))
		timeout = ct_timeout(ct, SG_CT_TM_TCP_MAX_RETRANS);
	else if (((t->pflags[0] | t->pflags[1]) & CT_TCP_F_DATA_UNACK) &&
			timeout > ct_timeout(ct, SG_CT_TM_TCP_UNACK))
		timeout = ct_timeout(ct, SG_CT_TM_TCP_UNACK);
	if (!(c->flags & CT_F_SEEN_REPLY)) {
		/* Picked up and never answered: not worth the established timeout. */
		if (timeout > ct_timeout(ct, SG_CT_TM_TCP_UNACK))
			timeout = ct_timeout(ct, SG_CT_TM_TCP_UNACK);
	} else if (!(c->flags & CT_F_ASSURED)) {
		/* The first answer to a picked-up connection. */
		ct_flags_set(c, CT_F_ASSURED, 0);
	}
	ct_set_deadline(c, now, timeout);
	return CT_UPD_VALID;
}

#endif /* CT_TCP_H */
