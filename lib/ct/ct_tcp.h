/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP tracking shared by ct_tcp.c and the burst loop in ct.c: serial-number arithmetic, the
 * window check and update and the timeout refresh, each one always-inline body that both the
 * full path and the inline ESTABLISHED fast path use, so the common packet costs no call. */
#ifndef CT_TCP_H
#define CT_TCP_H

#include "ct_private.h"

/* Retransmissions without progress before the max_retrans timeout applies. */
#define CT_TCP_MAX_RETRANS 3
/* Acks may lag by this much when the window is smaller (netfilter's MAXACKWINCONST). */
#define CT_TCP_MAXACKWINCONST 66000

/* What the window check makes of a segment (netfilter's enum nf_ct_tcp_action). */
enum ct_tcp_win {
	/* In window: the tracking data advanced. Also an out-of-window segment when liberal. */
	CT_TCP_WIN_ACCEPT,
	/* Old but harmless (a retransmission of acknowledged data, an overly delayed ack, a few
	 * bytes beyond the window): it passes and changes neither state nor timeout. */
	CT_TCP_WIN_IGNORE,
	CT_TCP_WIN_INVALID,
};

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

static inline unsigned int
tcp_last_index(const struct ct_tcp *t)
{
	return t->last & CT_TCP_LAST_INDEX;
}

static inline int
tcp_last_dir(const struct ct_tcp *t)
{
	return t->last >> CT_TCP_LAST_DIR_SHIFT;
}

static inline uint8_t
tcp_last(enum ct_tcp_index index, int dir)
{
	return (uint8_t)(index | dir << CT_TCP_LAST_DIR_SHIFT);
}

/* The highest right edge of the segment's SACK blocks above 'sack', else 'sack' (ct_tcp.c). */
uint32_t ct_tcp_sack(const struct ct_pkt *p, uint32_t sack);

/* The verdict of a segment the window check did not accept: an ignored one passes (and changes
 * nothing more), the rest is out of window. */
static __rte_always_inline enum ct_upd
tcp_not_accepted(enum ct_tcp_win w, uint8_t *reason)
{
	if (w == CT_TCP_WIN_IGNORE)
		return CT_UPD_VALID;
	*reason = SG_DROP_CT_TCP_WINDOW;
	return CT_UPD_INVALID;
}

/* An out-of-window segment passes (without advancing anything) when its sender or the whole
 * tracker is liberal; otherwise it gets 'res'. */
static __rte_always_inline enum ct_tcp_win
tcp_out_of_window(const struct sg_ct *ct, const struct ct_tcp *t, int dir, enum ct_tcp_win res)
{
	if ((t->pflags[dir] & CT_TCP_F_BE_LIBERAL) ||
			__atomic_load_n(&ct->tcp_be_liberal, __ATOMIC_RELAXED))
		return CT_TCP_WIN_ACCEPT;
	return res;
}

/*
 * Is the segment inside the window both ends can have open, and if so advance the tracking
 * data of both ends (netfilter's tcp_in_window() from the bounds on). With sender = 'dir' and
 * receiver = the other direction, and the segment's values already final (sack raised to the
 * highest SACK edge, ack and sack replaced when the segment carries no ACK):
 *   I.   seq <= sender.td_maxend
 *   II.  end >= sender.td_end - receiver.td_maxwin
 *   III. sack <= receiver.td_end
 *   IV.  sack >= receiver.td_end - MAXACKWINDOW(sender)
 * Beyond I or III is invalid: data over the receiver's window, an ack for data never sent.
 * Under II or IV is ignored (netfilter 6.1): an old retransmission of acknowledged data or an
 * overly delayed ack must still reach the receiver, whose answer (an ack) is what unsticks a
 * connection whose acknowledgement was lost after us. Beyond I by at most the receiver's
 * largest window, with the rest in order, is a sender that overshot the window: its data
 * counts (so the ack of it passes) and the segment is ignored. When the tracker or the sender
 * is liberal, every out-of-window segment is accepted without advancing anything. The window
 * comes from 'meta'. One body for the full path and the ESTABLISHED fast path, where 'index'
 * and 'flags' are constants.
 */
static __rte_always_inline enum ct_tcp_win
ct_tcp_window(const struct sg_ct *ct, struct ct_tcp *t, int dir, enum ct_tcp_index index,
		uint8_t flags, uint32_t seq, uint32_t end, uint32_t ack, uint32_t sack,
		const struct sg_pkt_meta *meta)
{
	const int rdir = !dir;
	uint32_t swin, win = meta->tcp_win;

	if (unlikely(!before(seq, t->td_maxend[dir] + 1))) {
		if (t->td_maxwin[rdir] != 0 &&
				after(end, t->td_end[dir] - t->td_maxwin[rdir] - 1) &&
				end - t->td_maxend[dir] + 1 <= t->td_maxwin[rdir] &&
				before(sack, t->td_end[rdir] + 1) &&
				after(sack, t->td_end[rdir] - tcp_maxackwindow(t, dir) - 1)) {
			t->td_end[dir] = end;
			t->pflags[dir] |= CT_TCP_F_DATA_UNACK;
			return tcp_out_of_window(ct, t, dir, CT_TCP_WIN_IGNORE);
		}
		return tcp_out_of_window(ct, t, dir, CT_TCP_WIN_INVALID);
	}
	if (unlikely(!before(sack, t->td_end[rdir] + 1)))
		return tcp_out_of_window(ct, t, dir, CT_TCP_WIN_INVALID);
	if (unlikely((t->td_maxwin[rdir] != 0 &&
				     !after(end, t->td_end[dir] - t->td_maxwin[rdir] - 1)) ||
			    !after(sack, t->td_end[rdir] - tcp_maxackwindow(t, dir) - 1)))
		return tcp_out_of_window(ct, t, dir, CT_TCP_WIN_IGNORE);

	/* A SYN's window is never scaled (RFC 7323). */
	if (!(flags & SG_TCP_SYN))
		win <<= t->td_scale[dir];
	/* Sender. */
	swin = win + (sack - ack);
	if (t->td_maxwin[dir] < swin)
		t->td_maxwin[dir] = swin;
	if (after(end, t->td_end[dir])) {
		t->td_end[dir] = end;
		t->pflags[dir] |= CT_TCP_F_DATA_UNACK;
	}
	if (flags & SG_TCP_ACK) {
		if (!(t->pflags[dir] & CT_TCP_F_MAXACK_SET)) {
			t->td_maxack[dir] = ack;
			t->pflags[dir] |= CT_TCP_F_MAXACK_SET;
		} else if (after(ack, t->td_maxack[dir])) {
			t->td_maxack[dir] = ack;
		}
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
	/* Retransmissions: the same segment again from the same side. The caller stores the
	 * segment's class and direction in t->last. */
	if (index == CT_TCP_ACK_SET) {
		uint8_t fp = tcp_fingerprint(seq, ack, meta->tcp_win);

		if (tcp_last_dir(t) == dir && t->last_end == end && t->last_fp == fp) {
			if (t->retrans < UINT8_MAX)
				t->retrans++;
		} else {
			t->last_end = end;
			t->last_fp = fp;
			t->retrans = 0;
		}
	}
	return CT_TCP_WIN_ACCEPT;
}

/*
 * After a segment was accepted in state 'new_state' (coming from 'old_state'), whose own
 * timeout is 'tm': the connection's new deadline, and assurance. Shorter timeouts apply after
 * CT_TCP_MAX_RETRANS retransmissions and while data is unacknowledged (not to a RST);
 * before any answer, a RST deletes the entry, a retransmitted SYN refreshes nothing (so a
 * reused port cannot keep it forever) and a picked-up connection gets the unacknowledged
 * timeout. One body for both paths. The entry is locked.
 */
static __rte_always_inline enum ct_upd
ct_tcp_refresh(const struct sg_ct *ct, struct sg_conn *c, const struct ct_tcp *t,
		enum ct_tcp_index index, uint8_t old_state, uint8_t new_state,
		enum sg_ct_timeout tm, uint32_t now)
{
	uint32_t timeout = ct_timeout(ct, tm);

	if (t->retrans >= CT_TCP_MAX_RETRANS &&
			timeout > ct_timeout(ct, SG_CT_TM_TCP_MAX_RETRANS))
		timeout = ct_timeout(ct, SG_CT_TM_TCP_MAX_RETRANS);
	else if (index == CT_TCP_RST_SET)
		; /* The state's own timeout. */
	else if (((t->pflags[0] | t->pflags[1]) & CT_TCP_F_DATA_UNACK) &&
			timeout > ct_timeout(ct, SG_CT_TM_TCP_UNACK))
		timeout = ct_timeout(ct, SG_CT_TM_TCP_UNACK);

	if (!(c->flags & CT_F_SEEN_REPLY)) {
		/* A RST as the only answer: nothing was established, forget it now. */
		if (index == CT_TCP_RST_SET) {
			ct_set_deadline(c, now, 0);
			return CT_UPD_VALID;
		}
		if (index == CT_TCP_SYN_SET && old_state == SG_CT_ST_TCP_SYN_SENT)
			return CT_UPD_VALID;
		/* Picked up and never answered: not worth the established timeout. */
		if (new_state == SG_CT_ST_TCP_ESTABLISHED &&
				timeout > ct_timeout(ct, SG_CT_TM_TCP_UNACK))
			timeout = ct_timeout(ct, SG_CT_TM_TCP_UNACK);
	} else if (!(c->flags & CT_F_ASSURED) &&
			(old_state == SG_CT_ST_TCP_SYN_RECV ||
					old_state == SG_CT_ST_TCP_ESTABLISHED) &&
			new_state == SG_CT_ST_TCP_ESTABLISHED) {
		/* A valid ACK after SYN_RECV, or the first answer to a picked-up connection. */
		ct_flags_set(c, CT_F_ASSURED, 0);
	}
	ct_set_deadline(c, now, timeout);
	return CT_UPD_VALID;
}

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
 * side already seen (td_maxwin[dir] != 0; the other side may not be, after a pickup): the full
 * path with every branch this case decides removed. The state table keeps it ESTABLISHED, none
 * of the first-segment or re-initialisation cases of the window check applies, and the segment
 * has its own ack; what remains is ct_tcp_window() and ct_tcp_refresh(), the same bodies the
 * full path runs. check_ct_fast runs random conversations through both paths and compares every
 * field. The entry is locked; the caller has done the path and block checks.
 */
static __rte_always_inline enum ct_upd
ct_tcp_update_established(const struct sg_ct *ct, struct sg_conn *c, struct ct_tcp *t,
		const struct ct_pkt *p, int dir, uint32_t now, uint8_t *reason)
{
	const struct sg_pkt_meta *meta = p->meta;
	uint32_t hlen = tcp_hdr_len(meta);
	uint32_t payload = meta->l4_len > hlen ? meta->l4_len - hlen : 0;
	uint32_t seq = meta->tcp_seq, ack = meta->tcp_ack, sack = ack;
	enum ct_tcp_win w;

	if ((t->pflags[!dir] & CT_TCP_F_SACK_PERM) && hlen > 20)
		sack = ct_tcp_sack(p, sack);
	w = ct_tcp_window(ct, t, dir, CT_TCP_ACK_SET, SG_TCP_ACK, seq, seq + payload, ack, sack,
			meta);
	if (unlikely(w != CT_TCP_WIN_ACCEPT))
		return tcp_not_accepted(w, reason);
	t->last = tcp_last(CT_TCP_ACK_SET, dir);
	return ct_tcp_refresh(ct, c, t, CT_TCP_ACK_SET, SG_CT_ST_TCP_ESTABLISHED,
			SG_CT_ST_TCP_ESTABLISHED, SG_CT_TM_TCP_ESTABLISHED, now);
}

#endif /* CT_TCP_H */
