/* SPDX-License-Identifier: BSD-3-Clause */
/* Generic tracking for every IP protocol without a tracker of its own (GRE, ESP, AH, SCTP,
 * ...): one entry per address pair and protocol. GRE uses netfilter's gre/gre_stream
 * timeouts, everything else 'generic'. Unlike netfilter's generic tracker, an entry that has
 * seen both directions is assured, so an ESP or GRE tunnel in use is never early-dropped
 * (D13: established connections are never evicted). */
#include "ct_private.h"

static enum sg_ct_result
other_valid_new(const struct sg_ct *ct, const struct ct_pkt *p, uint8_t *reason)
{
	(void)ct;
	(void)p;
	(void)reason;
	return SG_CT_NEW;
}

static void
other_new_conn(const struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p, uint32_t now)
{
	(void)ct;
	(void)c;
	(void)p;
	(void)now;
}

static enum ct_upd
other_conn_update(const struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p, int dir,
		uint32_t now, uint8_t *reason)
{
	bool gre = c->proto == IPPROTO_GRE;
	/* The reply flag is set after this returns: count this packet's direction too. */
	bool bidir = (c->flags & CT_F_SEEN_REPLY) || dir == SG_CT_DIR_REPLY;

	(void)p;
	(void)reason;
	if (bidir && !(c->flags & CT_F_ASSURED))
		ct_flags_set(c, CT_F_ASSURED, 0);
	if (gre)
		ct_set_deadline(c, now, ct_timeout(ct, bidir ? SG_CT_TM_GRE_STREAM : SG_CT_TM_GRE));
	else
		ct_set_deadline(c, now, ct_timeout(ct, SG_CT_TM_GENERIC));
	return CT_UPD_VALID;
}

static bool
other_can_early_drop(const struct sg_conn *c)
{
	return !(c->flags & CT_F_ASSURED);
}

const struct ct_proto ct_proto_other = {
	.name = "other",
	.valid_new = other_valid_new,
	.new_conn = other_new_conn,
	.conn_update = other_conn_update,
	.state = ct_generic_state,
	.can_early_drop = other_can_early_drop,
};
