/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP connection tracking after Linux's nf_conntrack_proto_tcp as of 6.8: the
 * [dir][segment][state] transition table, sequence and window tracking (td_end, td_maxend,
 * td_maxwin, window scaling from the SYN options, SACK) with ignored old segments,
 * re-initialisation in SYN_SENT/SYN_RECV, RST validity, reopening of TIME_WAIT/CLOSE tuples,
 * simultaneous open (SYN_SENT2), mid-stream pickup and netfilter's per-state timeouts.
 *
 * Differences from the kernel (docs/conntrack.md, "Netfilter version"), mostly for the 44-byte
 * state: the last ignored SYN's window and options are not kept, so a connection
 * re-synchronised from an ignored SYN (case b below) continues with liberal window checks;
 * retransmissions are recognised from the segment end plus an 8-bit fingerprint of
 * seq/ack/window; the zero-window retransmission timeout is not implemented; a SYN-ACK that
 * acknowledges exactly the current SYN re-initialises the reply side whatever its ISN
 * (tcp_reinit()), and one answering a SYN below the current one resynchronises from it.
 */
#include <string.h>

#include "ct_tcp.h"

#define sNO SG_CT_ST_TCP_NONE
#define sSS SG_CT_ST_TCP_SYN_SENT
#define sSR SG_CT_ST_TCP_SYN_RECV
#define sES SG_CT_ST_TCP_ESTABLISHED
#define sFW SG_CT_ST_TCP_FIN_WAIT
#define sCW SG_CT_ST_TCP_CLOSE_WAIT
#define sLA SG_CT_ST_TCP_LAST_ACK
#define sTW SG_CT_ST_TCP_TIME_WAIT
#define sCL SG_CT_ST_TCP_CLOSE
#define sS2 SG_CT_ST_TCP_SYN_SENT2
#define sIV 0xfe /* Invalid: drop. */
#define sIG 0xff /* Ignored: pass without touching the state (we may be out of sync). */

#define CT_TCP_STATES 10

/*
 * The state table, as in netfilter. We are the man in the middle: every segment passes us but
 * may be lost after us, so the table guesses the state of the sender of the current segment.
 * SYN_SENT2 is a SYN seen from the reply direction: simultaneous open.
 */
static const uint8_t tcp_conntracks[2][CT_TCP_INDEX_COUNT][CT_TCP_STATES] = {
	{
/* ORIGINAL */
/*	     sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2 */
/*syn*/	   { sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2 },
/*
 *	sNO -> sSS	new connection
 *	sSS -> sSS	retransmitted SYN
 *	sS2 -> sS2	late retransmitted SYN
 *	sSR..sLA -> sIG	SYN in an open connection: the receiver answers with RST, or we are
 *			out of sync and hold a dead connection
 *	sTW, sCL -> sSS	reopened connection (RFC 1122)
 */
/*synack*/ { sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR },
/*
 *	sSS -> sIV	the client cannot send SYN and then SYN/ACK (edge case 54)
 *	sS2 -> sSR	SYN/ACK to the reply's SYN in simultaneous open
 *	sSR -> sSR	late retransmitted SYN/ACK in simultaneous open
 *	others -> sIV
 */
/*fin*/    { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
/*
 *	sSS, sS2 -> sIV	no FIN before the SYN/ACK
 *	sSR, sES -> sFW	close started
 *	sFW, sCW -> sLA	FIN seen both ways, waiting for the last ACK
 *	sLA -> sLA	retransmitted FIN
 */
/*ack*/	   { sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV },
/*
 *	sNO -> sES	assumed (mid-stream pickup)
 *	sSS, sS2 -> sIV	no SYN/ACK seen yet
 *	sSR -> sES	established
 *	sFW -> sCW	close request acknowledged
 *	sLA -> sTW	last ACK
 */
/*rst*/    { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
/*none*/   { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
	},
	{
/* REPLY */
/*	     sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2 */
/*syn*/	   { sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2 },
/*
 *	sSS -> sS2	simultaneous open
 *	sS2 -> sS2	retransmitted simultaneous SYN
 *	sTW -> sSS	reopened from the other side
 *	others -> sIV	SYN from the server in an open connection
 */
/*synack*/ { sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR },
/*
 *	sSS -> sSR	standard open
 *	sS2 -> sSR	simultaneous open
 *	sSR -> sIG	retransmitted SYN/ACK
 *	sES..sCL -> sIG	late SYN/ACK, or one answering an ignored SYN
 */
/*fin*/    { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
/*ack*/	   { sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG },
/*
 *	sSS, sS2 -> sIG	might be a half-open connection
 *	sSR -> sSR	might answer a late resent SYN
 */
/*rst*/    { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
/*none*/   { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
	},
};

static const enum sg_ct_timeout tcp_state_timeout[CT_TCP_STATES] = {
	[sNO] = SG_CT_TM_TCP_SYN_SENT,
	[sSS] = SG_CT_TM_TCP_SYN_SENT,
	[sSR] = SG_CT_TM_TCP_SYN_RECV,
	[sES] = SG_CT_TM_TCP_ESTABLISHED,
	[sFW] = SG_CT_TM_TCP_FIN_WAIT,
	[sCW] = SG_CT_TM_TCP_CLOSE_WAIT,
	[sLA] = SG_CT_TM_TCP_LAST_ACK,
	[sTW] = SG_CT_TM_TCP_TIME_WAIT,
	[sCL] = SG_CT_TM_TCP_CLOSE,
	[sS2] = SG_CT_TM_TCP_SYN_SENT2,
};

#define CT_TCP_FLAG_MASK (SG_TCP_FIN | SG_TCP_SYN | SG_TCP_RST | SG_TCP_ACK | SG_TCP_URG)

uint8_t
ct_tcp_next_state(int dir, enum ct_tcp_index index, uint8_t state)
{
	if (state >= CT_TCP_STATES || index >= CT_TCP_INDEX_COUNT)
		return sIV;
	return tcp_conntracks[dir][index][state];
}

/* The row of the state table for 'flags'. Inline here (the tracker asks for every segment
 * of the full path); ct_tcp_index_of() is the same for the unit tests. */
static inline enum ct_tcp_index
tcp_index_of(uint8_t flags)
{
	if (flags & SG_TCP_RST)
		return CT_TCP_RST_SET;
	if (flags & SG_TCP_SYN)
		return (flags & SG_TCP_ACK) ? CT_TCP_SYNACK_SET : CT_TCP_SYN_SET;
	if (flags & SG_TCP_FIN)
		return CT_TCP_FIN_SET;
	if (flags & SG_TCP_ACK)
		return CT_TCP_ACK_SET;
	return CT_TCP_NONE_SET;
}

/* Whether a segment's flags can occur; inline as tcp_index_of(). */
static inline bool
tcp_flags_valid(uint8_t flags)
{
	/* PSH, ECE and CWR may go with anything; these are the combinations that can occur. */
	switch (flags & CT_TCP_FLAG_MASK) {
	case SG_TCP_SYN:
	case SG_TCP_SYN | SG_TCP_URG:
	case SG_TCP_SYN | SG_TCP_ACK:
	case SG_TCP_RST:
	case SG_TCP_RST | SG_TCP_ACK:
	case SG_TCP_FIN | SG_TCP_ACK:
	case SG_TCP_FIN | SG_TCP_ACK | SG_TCP_URG:
	case SG_TCP_ACK:
	case SG_TCP_ACK | SG_TCP_URG:
		return true;
	default:
		return false;
	}
}

enum ct_tcp_index
ct_tcp_index_of(uint8_t flags)
{
	return tcp_index_of(flags);
}

bool
ct_tcp_flags_valid(uint8_t flags)
{
	return tcp_flags_valid(flags);
}

/* seq + payload + SYN + FIN: the sequence number after this segment. */
static uint32_t
tcp_end(const struct sg_pkt_meta *meta)
{
	uint32_t hlen = tcp_hdr_len(meta);
	uint32_t payload = meta->l4_len > hlen ? meta->l4_len - hlen : 0;

	return meta->tcp_seq + payload + !!(meta->tcp_flags & SG_TCP_SYN) +
			!!(meta->tcp_flags & SG_TCP_FIN);
}

/* The TCP options of 'p' in 'buf'; returns their length (0 without an mbuf). */
static uint32_t
tcp_options_read(const struct ct_pkt *p, uint8_t buf[40], const uint8_t **opt)
{
	uint32_t len = tcp_hdr_len(p->meta) - 20;

	if (p->m == NULL || len == 0 || len > 40)
		return 0;
	*opt = rte_pktmbuf_read(p->m, (uint32_t)p->meta->l2_len + p->meta->l3_len + 20, len, buf);
	return *opt == NULL ? 0 : len;
}

/* Window scale and SACK-permitted from a SYN's options into 'scale' and 'flags'. */
static void
tcp_options(const struct ct_pkt *p, uint8_t *scale, uint8_t *flags)
{
	uint8_t buf[40];
	const uint8_t *o = NULL;
	uint32_t len = tcp_options_read(p, buf, &o);

	*scale = 0;
	*flags &= (uint8_t)~(CT_TCP_F_WINDOW_SCALE | CT_TCP_F_SACK_PERM);
	for (uint32_t i = 0; i < len;) {
		uint8_t kind = o[i], size;

		if (kind == 0)
			return;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return;
		size = o[i + 1];
		if (size < 2 || i + size > len)
			return;
		if (kind == 4 && size == 2) {
			*flags |= CT_TCP_F_SACK_PERM;
		} else if (kind == 3 && size == 3) {
			*scale = RTE_MIN(o[i + 2], 14); /* RFC 7323 */
			*flags |= CT_TCP_F_WINDOW_SCALE;
		}
		i += size;
	}
}

/* The highest right edge of the segment's SACK blocks, or 'sack' when none is above it.
 * Returns the value rather than raising it through a pointer, so callers keep it in a register. */
uint32_t
ct_tcp_sack(const struct ct_pkt *p, uint32_t sack)
{
	uint8_t buf[40];
	const uint8_t *o = NULL;
	uint32_t len = tcp_options_read(p, buf, &o);

	for (uint32_t i = 0; i < len;) {
		uint8_t kind = o[i], size;

		if (kind == 0)
			return sack;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return sack;
		size = o[i + 1];
		if (size < 2 || i + size > len)
			return sack;
		if (kind == 5 && size >= 10 && (size - 2) % 8 == 0) {
			for (uint32_t b = i + 2; b < i + size; b += 8) {
				uint32_t edge = (uint32_t)o[b + 4] << 24 | (uint32_t)o[b + 5] << 16 |
						(uint32_t)o[b + 6] << 8 | o[b + 7];

				if (after(edge, sack))
					sack = edge;
			}
			return sack;
		}
		i += size;
	}
	return sack;
}

/* A SYN or SYN-ACK (re)initialises its sender's tracking data: its end, its window, its options.
 * Window scaling applies only if both ends offered it (RFC 7323), which is settled when the
 * reply direction's SYN is seen (netfilter 6.8: before, a retransmitted SYN with a new sequence
 * number reset the originator's scale). */
static void
tcp_init_sender(struct ct_tcp *t, int dir, const struct ct_pkt *p, uint32_t end, uint32_t win)
{
	t->td_end[dir] = t->td_maxend[dir] = end;
	t->td_maxwin[dir] = win == 0 ? 1 : win;
	tcp_options(p, &t->td_scale[dir], &t->pflags[dir]);
	if (dir == SG_CT_DIR_REPLY && !((t->pflags[dir] & CT_TCP_F_WINDOW_SCALE) &&
						      (t->pflags[!dir] & CT_TCP_F_WINDOW_SCALE)))
		t->td_scale[dir] = t->td_scale[!dir] = 0;
}

/* Whether a SYN-ACK in 'dir' acknowledges exactly the current SYN when no SYN-ACK accepted so
 * far did (none in SYN_SENT; in SYN_RECV, one answering an earlier SYN). */
static bool
tcp_synack_answers_syn(const struct ct_tcp *t, int dir, uint8_t flags, uint32_t ack)
{
	return dir == SG_CT_DIR_REPLY && (flags & SG_TCP_ACK) && ack == t->td_end[!dir] &&
	       !((t->pflags[dir] & CT_TCP_F_MAXACK_SET) && t->td_maxack[dir] == ack);
}

/*
 * Whether SYN 'flags' in 'dir' re-initialises its sender before the window check, in SYN_SENT
 * or SYN_RECV. RFC 793: "if a TCP is reinitialized ... then it need not wait at all; it must
 * only be sure to use sequence numbers larger than those recently used": so a SYN above the
 * last one does, from either side (netfilter 5.17 and 5.18), and so does a SYN-ACK that
 * tcp_synack_answers_syn(). The latter goes beyond netfilter: the reply side may hold the
 * sequence numbers of a stale SYN-ACK (an old incarnation's, or one answering an earlier SYN on
 * a reused port) that was refused or answered something else; the answer to the current SYN is
 * the one the client completes, whatever its ISN's relation to the stale one, and without this
 * the connection never opens.
 */
static bool
tcp_reinit(const struct ct_tcp *t, int dir, uint8_t flags, uint32_t end, uint32_t ack)
{
	if (!(flags & SG_TCP_SYN) || (t->state != sSS && t->state != sSR))
		return false;
	return after(end, t->td_end[dir]) || tcp_synack_answers_syn(t, dir, flags, ack);
}

/* netfilter's tcp_in_window(): the sender's first segment or re-initialisation, the segment's
 * values for the bounds, then ct_tcp_window(). */
static enum ct_tcp_win
tcp_in_window(const struct sg_ct *ct, struct ct_tcp *t, int dir, enum ct_tcp_index index,
		const struct ct_pkt *p)
{
	const struct sg_pkt_meta *meta = p->meta;
	int rdir = !dir;
	uint8_t flags = meta->tcp_flags;
	uint32_t seq = meta->tcp_seq, ack = meta->tcp_ack, sack = meta->tcp_ack;
	uint32_t win = meta->tcp_win, end = tcp_end(meta);

	if (t->pflags[rdir] & CT_TCP_F_SACK_PERM)
		sack = ct_tcp_sack(p, sack);

	if (t->td_maxwin[dir] == 0) {
		/* First segment from this side. */
		if (flags & SG_TCP_SYN) {
			/* SYN/ACK answering a SYN, or the reply's SYN in simultaneous open. */
			tcp_init_sender(t, dir, p, end, win);
			if (!(flags & SG_TCP_ACK))
				return CT_TCP_WIN_ACCEPT; /* Simultaneous open. */
		} else {
			/* Mid-stream: history lost, take what the segment says. */
			uint32_t swin = win << t->td_scale[dir];

			t->td_end[dir] = end;
			t->td_maxwin[dir] = swin == 0 ? 1 : swin;
			t->td_maxend[dir] = end + t->td_maxwin[dir];
			if (t->td_maxwin[rdir] == 0) {
				/* Let III and IV pass until the other side is seen. */
				t->td_end[rdir] = t->td_maxend[rdir] = sack;
			} else if (sack == t->td_end[rdir] + 1) {
				/* Likely the answer to a keepalive, which sits one below what
				 * its sender sent before: III. */
				t->td_end[rdir]++;
			}
		}
	} else if (tcp_reinit(t, dir, flags, end, ack)) {
		tcp_init_sender(t, dir, p, end, win);
		if (dir == SG_CT_DIR_REPLY && !(flags & SG_TCP_ACK))
			return CT_TCP_WIN_ACCEPT; /* A SYN without ack: nothing to check. */
	}

	if (!(flags & SG_TCP_ACK)) {
		ack = sack = t->td_end[rdir];
	} else if ((flags & (SG_TCP_ACK | SG_TCP_RST)) == (SG_TCP_ACK | SG_TCP_RST) && ack == 0) {
		/* Broken stacks send RST+ACK with a zero ack. */
		ack = sack = t->td_end[rdir];
	}

	/* The seq 0 RST answering a SYN. Every other segment is judged by its seq, with data or
	 * without (netfilter since 3.7). */
	if ((flags & SG_TCP_RST) && seq == 0 && t->state == sSS)
		seq = end = t->td_end[dir];

	return ct_tcp_window(ct, t, dir, index, flags, seq, end, ack, sack, meta);
}

static enum sg_ct_result
tcp_valid_new(const struct sg_ct *ct, const struct ct_pkt *p, uint8_t *reason)
{
	uint8_t flags = p->meta->tcp_flags;
	uint8_t next;

	if (!tcp_flags_valid(flags)) {
		*reason = SG_DROP_TCP_FLAGS;
		return SG_CT_INVALID;
	}
	next = tcp_conntracks[SG_CT_DIR_ORIG][tcp_index_of(flags)][sNO];
	if (next == sSS)
		return SG_CT_NEW;
	/* Only a plain ACK segment can be picked up mid-stream, and only when loose. */
	if (next == sES && __atomic_load_n(&ct->tcp_loose, __ATOMIC_RELAXED))
		return SG_CT_NEW;
	*reason = SG_DROP_CT_NOT_NEW;
	return SG_CT_NOT_NEW;
}

static void
tcp_new_conn(const struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p, uint32_t now)
{
	struct ct_tcp *t = &ct_body(c)->l4.tcp;
	const struct sg_pkt_meta *meta = p->meta;
	uint32_t win = meta->tcp_win;

	(void)ct;
	(void)now;
	memset(t, 0, sizeof(*t));
	t->state = sNO;
	t->last = CT_TCP_NONE_SET;
	t->td_end[0] = tcp_end(meta);
	t->td_maxwin[0] = win == 0 ? 1 : win;
	if (tcp_index_of(meta->tcp_flags) == CT_TCP_SYN_SET) {
		t->td_maxend[0] = t->td_end[0];
		tcp_options(p, &t->td_scale[0], &t->pflags[0]);
	} else {
		/* Picked up: the window scale is unknown, so both sides are tracked liberally. */
		t->td_maxend[0] = t->td_end[0] + t->td_maxwin[0];
		t->pflags[0] = t->pflags[1] = CT_TCP_F_SACK_PERM | CT_TCP_F_BE_LIBERAL;
		c->flags |= CT_F_PICKUP;
	}
}

static bool
tcp_established(const struct sg_conn *c, const struct ct_tcp *t)
{
	return t->state == sES && (c->flags & CT_F_ASSURED);
}

static bool
tcp_closing(uint8_t state)
{
	return state == sFW || state == sCW || state == sLA || state == sTW || state == sCL;
}

/* b) A SYN/ACK in 'dir' acknowledges a SYN we ignored: client and server are in sync and we are
 * not. Restart from that SYN, as from SYN_SENT; its options are not kept, so its side goes
 * liberal. */
static void
tcp_resync(struct ct_tcp *t, int dir)
{
	int ld = tcp_last_dir(t);

	t->td_end[ld] = t->td_maxend[ld] = t->last_end;
	t->td_maxwin[ld] = 1;
	t->td_scale[ld] = 0;
	t->pflags[ld] = CT_TCP_F_BE_LIBERAL;
	t->td_end[dir] = t->td_maxend[dir] = t->td_maxwin[dir] = t->td_maxack[dir] = 0;
	t->td_scale[dir] = 0;
	t->pflags[dir] = 0;
}

static enum ct_upd
tcp_conn_update(const struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p, int dir,
		uint32_t now, uint8_t *reason)
{
	struct ct_tcp *t = &ct_body(c)->l4.tcp;
	const struct sg_pkt_meta *meta = p->meta;
	uint8_t flags = meta->tcp_flags;
	enum ct_tcp_index index;
	uint8_t old_state, new_state;
	enum ct_tcp_win win;

	if (!tcp_flags_valid(flags)) {
		*reason = SG_DROP_TCP_FLAGS;
		return CT_UPD_INVALID;
	}
	index = tcp_index_of(flags);
	old_state = t->state;
	new_state = tcp_conntracks[dir][index][old_state];

	switch (new_state) {
	case sSS:
		if (old_state == sSS && dir == SG_CT_DIR_ORIG &&
				before(tcp_end(meta), t->td_end[dir])) {
			/* A SYN below the current one: a new attempt on a reused port whose ISN
			 * happens to be lower (RFC 793 wants higher, nothing enforces it). Let it
			 * through unseen; a SYN-ACK acknowledging it resynchronises from it, as
			 * the fix posted to netfilter in 2025 does (6.18 stays stuck). */
			t->last = tcp_last(index, dir) | CT_TCP_LAST_REINIT;
			t->last_end = tcp_end(meta);
			return CT_UPD_VALID;
		}
		if (old_state < sTW)
			break;
		/* RFC 1122: a SYN may reopen a connection in TIME_WAIT. When either side closed
		 * it, or it was reset from this side, forget the entry: the packet then starts a
		 * new connection that the policy must accept. */
		if (((t->pflags[dir] | t->pflags[!dir]) & CT_TCP_F_CLOSE_INIT) ||
				t->last == tcp_last(CT_TCP_RST_SET, dir)) {
			ct_set_deadline(c, now, 0);
			return CT_UPD_RENEW;
		}
		/* FALLTHROUGH */
	case sIG:
		if (index == CT_TCP_SYNACK_SET && tcp_last_index(t) == CT_TCP_SYN_SET &&
				tcp_last_dir(t) != dir && meta->tcp_ack == t->last_end) {
			old_state = sSS;
			new_state = sSR;
			tcp_resync(t, dir);
			break;
		}
		if (index == CT_TCP_SYNACK_SET && old_state == sSR &&
				tcp_synack_answers_syn(t, dir, flags, meta->tcp_ack)) {
			/* A SYN-ACK answering the current SYN after one that answered an earlier
			 * SYN was accepted: it re-initialises the reply side (tcp_reinit()). */
			new_state = sSR;
			break;
		}
		/* a) a SYN in the original direction, b) a SYN/ACK in the reply direction,
		 * c) an ACK answering a SYN: pass it without a state change; if it was wrong the
		 * receiver's RST tells us. */
		t->last = tcp_last(index, dir);
		t->last_end = tcp_end(meta);
		/* A SYN on a closing connection: the peer, still in it, may answer with a
		 * challenge ACK (RFC 5961), which in LAST_ACK would pass for the last ACK. */
		if (index == CT_TCP_SYN_SET && dir == SG_CT_DIR_ORIG && old_state == sLA)
			t->last |= CT_TCP_LAST_CHALLENGE;
		/* An ACK answering our SYN: a challenge ACK from a peer still in an old
		 * incarnation of the connection. Keep its ack, which the client's RST carries as
		 * its seq (netfilter 6.2). */
		if (index == CT_TCP_ACK_SET && dir == SG_CT_DIR_REPLY && old_state == sSS)
			t->last_end = meta->tcp_ack;
		return CT_UPD_VALID;
	case sIV:
		*reason = SG_DROP_CT_TCP_STATE;
		return CT_UPD_INVALID;
	case sTW:
		if (old_state == sLA && index == CT_TCP_ACK_SET &&
				t->last == (tcp_last(CT_TCP_SYN_SET, !dir) |
							   CT_TCP_LAST_CHALLENGE)) {
			/* The challenge ACK answering the SYN we ignored in LAST_ACK, not the last
			 * ACK: pass it, the state stays. */
			t->last &= (uint8_t)~CT_TCP_LAST_CHALLENGE;
			return CT_UPD_VALID;
		}
		break;
	case sS2:
		t->pflags[SG_CT_DIR_ORIG] |= CT_TCP_F_SIMUL_OPEN;
		break;
	case sSR:
		if (old_state == sSS && index == CT_TCP_SYNACK_SET &&
				t->last == (tcp_last(CT_TCP_SYN_SET, !dir) | CT_TCP_LAST_REINIT) &&
				meta->tcp_ack == t->last_end) {
			/* The answer to the lower SYN let through above. */
			tcp_resync(t, dir);
			break;
		}
		/* Simultaneous open: the reply side's ACK of our SYN-ACK completes it. */
		if (dir == SG_CT_DIR_REPLY && index == CT_TCP_ACK_SET &&
				(t->pflags[SG_CT_DIR_ORIG] & CT_TCP_F_SIMUL_OPEN))
			new_state = sES;
		break;
	case sCL:
		if (index != CT_TCP_RST_SET)
			break;
		/* In a closing state the tuple may be reused already: skip the checks. */
		if (tcp_closing(old_state))
			goto in_window;
		if ((t->pflags[!dir] & CT_TCP_F_MAXACK_SET) &&
				tcp_last_index(t) != CT_TCP_SYN_SET) {
			uint32_t seq = meta->tcp_seq;

			/* SEQ 0 before establishment answers a SYN we let through. */
			if (seq == 0 && !tcp_established(c, t))
				break;
			if (before(seq, t->td_maxack[!dir])) {
				*reason = SG_DROP_CT_TCP_RST;
				return CT_UPD_INVALID;
			}
			if (!tcp_established(c, t) || seq == t->td_maxack[!dir])
				break;
			/* A RST right after our own last segment (a "RST train"). */
			if (tcp_last_index(t) == CT_TCP_ACK_SET && tcp_last_dir(t) == dir &&
					seq == t->last_end)
				break;
			/* In window but not exact: keep the state for a possible challenge ACK. */
			new_state = old_state;
		}
		if ((((c->flags & CT_F_SEEN_REPLY) && tcp_last_index(t) == CT_TCP_SYN_SET) ||
				    (!(c->flags & CT_F_ASSURED) &&
						    tcp_last_index(t) == CT_TCP_ACK_SET)) &&
				meta->tcp_ack == t->last_end) {
			/* RST answering a SYN or ACK we let through while out of sync: it may ack
			 * data we never saw, so skip the window check. */
			goto in_window;
		}
		/* The RST answering a challenge ACK we let through in SYN_SENT (RFC 5961: its seq
		 * is that ACK's ack, an old incarnation's number): the client gives up the old
		 * connection and its next SYN starts the new one (netfilter 6.2). */
		if (old_state == sSS && t->last == tcp_last(CT_TCP_ACK_SET, SG_CT_DIR_REPLY) &&
				meta->tcp_seq == t->last_end)
			goto in_window;
		break;
	default:
		break;
	}

	win = tcp_in_window(ct, t, dir, index, p);
	if (win != CT_TCP_WIN_ACCEPT)
		return tcp_not_accepted(win, reason);
in_window:
	t->last = tcp_last(index, dir);
	t->state = new_state;
	if (old_state != new_state && new_state == sFW)
		t->pflags[dir] |= CT_TCP_F_CLOSE_INIT;
	return ct_tcp_refresh(
			ct, c, t, index, old_state, new_state, tcp_state_timeout[new_state], now);
}

static enum sg_ct_state
tcp_state(const struct sg_conn *c)
{
	return (enum sg_ct_state)ct_body_const(c)->l4.tcp.state;
}

static bool
tcp_can_early_drop(const struct sg_conn *c)
{
	return !(c->flags & CT_F_ASSURED) || tcp_closing(ct_body_const(c)->l4.tcp.state);
}

const struct ct_proto ct_proto_tcp = {
	.name = "tcp",
	.valid_new = tcp_valid_new,
	.new_conn = tcp_new_conn,
	.conn_update = tcp_conn_update,
	.state = tcp_state,
	.can_early_drop = tcp_can_early_drop,
};
