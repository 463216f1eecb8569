/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP tracking as netfilter does it: an unreplied entry lives 'udp' seconds; once a reply was
 * seen and traffic continues two seconds after the first packet, it is a stream: assured, and
 * refreshed with 'udp_stream'. */
#include "ct_private.h"

/* A reply-direction flow still active this long after creation is a stream. */
#define CT_UDP_STREAM_DELAY_MS 2000

static enum sg_ct_result
udp_valid_new(const struct sg_ct *ct, const struct ct_pkt *p, uint8_t *reason)
{
	(void)ct;
	(void)p;
	(void)reason;
	return SG_CT_NEW;
}

static void
udp_new_conn(const struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p, uint32_t now)
{
	(void)ct;
	(void)p;
	ct_body(c)->l4.udp.stream_ts = now + CT_UDP_STREAM_DELAY_MS;
}

static enum ct_upd
udp_conn_update(const struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p, int dir,
		uint32_t now, uint8_t *reason)
{
	(void)p;
	(void)dir;
	(void)reason;
	if (c->flags & CT_F_SEEN_REPLY) {
		uint32_t timeout = ct_timeout(ct, SG_CT_TM_UDP);

		if ((int32_t)(now - ct_body(c)->l4.udp.stream_ts) > 0) {
			timeout = ct_timeout(ct, SG_CT_TM_UDP_STREAM);
			if (!(c->flags & CT_F_ASSURED))
				ct_flags_set(c, CT_F_ASSURED, 0);
		}
		ct_set_deadline(c, now, timeout);
	} else {
		ct_set_deadline(c, now, ct_timeout(ct, SG_CT_TM_UDP));
	}
	return CT_UPD_VALID;
}

static bool
udp_can_early_drop(const struct sg_conn *c)
{
	return !(c->flags & CT_F_ASSURED);
}

const struct ct_proto ct_proto_udp = {
	.name = "udp",
	.valid_new = udp_valid_new,
	.new_conn = udp_new_conn,
	.conn_update = udp_conn_update,
	.state = ct_generic_state,
	.can_early_drop = udp_can_early_drop,
};
