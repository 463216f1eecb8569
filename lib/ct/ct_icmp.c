/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMP and ICMPv6 query tracking (D11, docs/decisions.md): only echo, timestamp, information and
 * address-mask requests (ICMPv6: echo and node information) create entries, keyed by the
 * identifier; the matching reply type is the reply direction. Errors are matched to the
 * connection they quote in ct.c. */
#include "ct_private.h"

static bool
icmp_is_request(bool v6, uint8_t type)
{
	if (v6)
		return type == 128 || type == 139;
	return type == 8 || type == 13 || type == 15 || type == 17;
}

static enum sg_ct_result
icmp_valid_new(const struct sg_ct *ct, const struct ct_pkt *p, uint8_t *reason)
{
	(void)ct;
	if (icmp_is_request(p->key.family == SG_AF_INET6, (uint8_t)p->meta->sport))
		return SG_CT_NEW;
	/* An unsolicited reply cannot start anything (edge case 57). */
	*reason = SG_DROP_CT_NOT_NEW;
	return SG_CT_NOT_NEW;
}

static void
icmp_new_conn(const struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p, uint32_t now)
{
	(void)ct;
	(void)c;
	(void)p;
	(void)now;
}

static enum ct_upd
icmp_conn_update(const struct sg_ct *ct, struct sg_conn *c, const struct ct_pkt *p, int dir,
		uint32_t now, uint8_t *reason)
{
	(void)p;
	(void)dir;
	(void)reason;
	ct_set_deadline(c, now, ct_timeout(ct, c->proto == IPPROTO_ICMPV6 ? SG_CT_TM_ICMPV6
									   : SG_CT_TM_ICMP));
	return CT_UPD_VALID;
}

/* netfilter never assures ICMP: under pressure a ping is the first to go. */
static bool
icmp_can_early_drop(const struct sg_conn *c)
{
	(void)c;
	return true;
}

const struct ct_proto ct_proto_icmp = {
	.name = "icmp",
	.valid_new = icmp_valid_new,
	.new_conn = icmp_new_conn,
	.conn_update = icmp_conn_update,
	.state = ct_generic_state,
	.can_early_drop = icmp_can_early_drop,
};
