/* SPDX-License-Identifier: BSD-3-Clause */
/* Building a generation: everything the workers read for one config (classifier, per-port
 * verdict tables, forwarding maps, queue assignment), made off the workers and swapped whole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "dp_private.h"

/* fe80::/64 with the modified EUI-64 interface id of 'mac' (RFC 4291 appendix A). */
static void
link_local_of(const uint8_t mac[6], struct sg_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = SG_AF_INET6;
	ip->bytes[0] = 0xfe;
	ip->bytes[1] = 0x80;
	ip->bytes[8] = mac[0] ^ 0x02;
	ip->bytes[9] = mac[1];
	ip->bytes[10] = mac[2];
	ip->bytes[11] = 0xff;
	ip->bytes[12] = 0xfe;
	ip->bytes[13] = mac[3];
	ip->bytes[14] = mac[4];
	ip->bytes[15] = mac[5];
}

static struct dp_port *
find_port(struct dp_port **ports, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (ports[i] != NULL && strcmp(ports[i]->conf.name, name) == 0)
			return ports[i];
	return NULL;
}

/* When 'vp' last changed its verdicts: inherited from the running generation if its lists are
 * the same, entry for entry and action for action; now otherwise. */
static uint32_t
changed_epoch(const struct dp_gen *gen, const struct dp_gen *prev, const struct dp_vport *vp)
{
	const char *name = sg_policy_spec(gen->conf->policy)->ports[vp->policy_port].name;
	int old;

	if (prev == NULL || (old = sg_policy_find_port(prev->conf->policy, name)) < 0)
		return gen->epoch;
	for (int d = 0; d < SG_DIR_COUNT; d++) {
		const struct sg_eff_rule *now, *before;
		uint32_t n_now = sg_policy_effective(gen->conf->policy, vp->policy_port, (enum sg_dir)d,
				&now);
		uint32_t n_before = sg_policy_effective(prev->conf->policy, (uint32_t)old, (enum sg_dir)d,
				&before);

		if (!sg_eff_lists_equal(now, n_now, before, n_before, true))
			return gen->epoch;
	}
	return prev->vports[old].changed_epoch;
}

/* Verdict tables by 1-based position: what the classifier's result means. */
static int
build_verdicts(struct dp_vport *vp, const struct sg_policy *policy)
{
	for (int d = 0; d < SG_DIR_COUNT; d++) {
		const struct sg_eff_rule *entries;
		uint32_t n = sg_policy_effective(policy, vp->policy_port, (enum sg_dir)d, &entries);

		vp->action[d] = calloc(n + 1, sizeof(*vp->action[d]));
		vp->rule_id[d] = calloc(n + 1, sizeof(*vp->rule_id[d]));
		if (vp->action[d] == NULL || vp->rule_id[d] == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < n; i++) {
			vp->action[d][i + 1] = (uint8_t)entries[i].action;
			vp->rule_id[d][i + 1] = entries[i].id;
		}
	}
	return 0;
}

/* The index of the configured subnet holding 'ip', or DP_NO_SUBNET. */
static uint16_t
subnet_of(const struct sg_conf *conf, const struct sg_ip *ip)
{
	for (uint32_t s = 0; s < conf->n_subnets; s++)
		if (sg_prefix_contains(&conf->subnets[s].cidr, ip))
			return (uint16_t)s;
	return DP_NO_SUBNET;
}

/* The subnet holding allowed prefix 'p' whole, or DP_NO_SUBNET (lib/conf refuses a prefix
 * that covers a subnet, so it is inside one or outside all). */
static uint16_t
prefix_subnet(const struct sg_conf *conf, const struct sg_prefix *p)
{
	for (uint32_t s = 0; s < conf->n_subnets; s++)
		if (sg_prefix_covers(&conf->subnets[s].cidr, p))
			return (uint16_t)s;
	return DP_NO_SUBNET;
}

/* The subnets of a port's addresses and prefixes, each once: which neighbours it may reach
 * by MAC. */
static int
build_port_subnets(struct dp_vport *vp, const struct sg_conf *conf)
{
	vp->subnets = calloc(vp->n_ips + vp->n_prefixes + 1u, sizeof(*vp->subnets));
	if (vp->subnets == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < vp->n_ips + vp->n_prefixes; i++) {
		uint16_t s = i < vp->n_ips ? subnet_of(conf, &vp->ips[i])
					   : prefix_subnet(conf, &vp->prefixes[i - vp->n_ips]);
		uint16_t k = 0;

		while (k < vp->n_subnets && vp->subnets[k] != s)
			k++;
		if (s != DP_NO_SUBNET && k == vp->n_subnets)
			vp->subnets[vp->n_subnets++] = s;
	}
	return 0;
}

/* Add the length of 'p' to a list kept longest first, once, with its mask. */
static void
add_length(struct dp_nets_lens *lens, const struct sg_prefix *p)
{
	struct sg_prefix mask = {.ip = {.family = p->ip.family}, .len = p->len};
	uint8_t k = 0;

	while (k < lens->n && lens->len[k] > p->len)
		k++;
	if (k < lens->n && lens->len[k] == p->len)
		return;
	memmove(lens->len + k + 1, lens->len + k, lens->n - k);
	memmove(lens->mask + k + 1, lens->mask + k, (lens->n - k) * sizeof(lens->mask[0]));
	/* The network of the all-ones address is the mask, in address byte order. */
	memset(mask.ip.bytes, 0xff, p->ip.family == SG_AF_INET ? 4 : 16);
	sg_prefix_normalize(&mask);
	memcpy(lens->mask[k], mask.ip.bytes, 16);
	lens->len[k] = p->len;
	lens->n++;
}

/* The allowed prefixes of every port, and which lengths a lookup has to try (struct dp_nets). */
static void
build_nets(struct dp_gen *gen)
{
	const struct sg_conf *conf = gen->conf;
	struct dp_nets *nets = &gen->nets;

	for (uint16_t v = 0; v < gen->n_vports; v++) {
		const struct dp_vport *vp = &gen->vports[v];

		for (uint32_t i = 0; i < vp->n_prefixes; i++) {
			const struct sg_prefix *p = &vp->prefixes[i];
			unsigned int f = p->ip.family == SG_AF_INET6;
			uint16_t subnet = prefix_subnet(conf, p);

			dp_map_put(&nets->map, f ? DP_KEY_IPV6 : DP_KEY_IPV4, p->ip.bytes, v, subnet)
					->len = p->len;
			add_length(&nets->all[f], p);
			if (conf->n_subnets != 0 && subnet == DP_NO_SUBNET)
				add_length(&nets->routed[f], p);
		}
	}
}

static int
build_maps(struct dp_gen *gen)
{
	const struct sg_conf *conf = gen->conf;
	uint32_t n_addrs = 0, n_prefixes = 0;

	for (uint16_t v = 0; v < gen->n_vports; v++) {
		n_addrs += gen->vports[v].n_ips;
		n_prefixes += gen->vports[v].n_prefixes;
	}
	if (dp_map_init(&gen->macs, gen->n_vports) < 0 || dp_map_init(&gen->addrs, n_addrs) < 0 ||
			dp_map_init(&gen->nets.map, n_prefixes) < 0 ||
			dp_map_init(&gen->gateways, conf->n_subnets) < 0 ||
			dp_map_init(&gen->subnet_map, conf->n_subnets) < 0)
		return -ENOMEM;
	build_nets(gen);
	for (uint16_t v = 0; v < gen->n_vports; v++) {
		struct dp_vport *vp = &gen->vports[v];

		if (vp->uplink)
			continue;
		if (build_port_subnets(vp, conf) < 0)
			return -ENOMEM;
		dp_map_put(&gen->macs, DP_KEY_MAC, vp->mac, v, DP_NO_SUBNET);
		for (uint32_t i = 0; i < vp->n_ips; i++)
			dp_map_put(&gen->addrs,
					vp->ips[i].family == SG_AF_INET ? DP_KEY_IPV4 : DP_KEY_IPV6,
					vp->ips[i].bytes, v, subnet_of(conf, &vp->ips[i]));
	}
	for (uint32_t s = 0; s < conf->n_subnets; s++) {
		const struct sg_ip *gw = &conf->subnets[s].gateway;

		const struct sg_prefix *net = &conf->subnets[s].cidr;

		dp_map_put(&gen->gateways, gw->family == SG_AF_INET ? DP_KEY_IPV4 : DP_KEY_IPV6,
				gw->bytes, 1, (uint16_t)s);
		dp_map_put(&gen->subnet_map, net->ip.family == SG_AF_INET ? DP_KEY_IPV4 : DP_KEY_IPV6,
				net->ip.bytes, DP_NO_VPORT, (uint16_t)s)
				->len = net->len;
		add_length(&gen->subnet_lens[net->ip.family == SG_AF_INET6], net);
	}
	return 0;
}

/*
 * The overlay's tables (struct dp_overlay): hosts by vtep, remote ports by MAC, address and
 * allowed prefix, subnets by VNI. Sized by the fleet; every lookup is one probe per map (per
 * prefix length for the prefixes), whatever the number of remote ports.
 */
static int
build_overlay(struct dp_gen *gen)
{
	const struct sg_conf *conf = gen->conf;
	const struct sg_spec *spec = sg_policy_spec(conf->policy);
	const struct sg_conf_port *uplink = sg_conf_uplink(conf);
	struct dp_overlay *o = &gen->overlay;
	uint32_t n_addrs = 0, n_prefixes = 0, r = 0;

	if (conf->n_hosts == 0 || uplink == NULL)
		return 0;
	if (conf->n_hosts >= UINT16_MAX)
		return -ENOSPC;
	for (uint32_t p = 0; p < spec->n_ports; p++) {
		if (!spec->ports[p].remote)
			continue;
		o->n_remotes++;
		n_addrs += spec->ports[p].n_ips;
		n_prefixes += spec->ports[p].n_prefixes;
	}
	o->hosts = calloc(conf->n_hosts, sizeof(*o->hosts));
	o->remotes = calloc(o->n_remotes + 1u, sizeof(*o->remotes));
	o->subnet_vni = calloc(conf->n_subnets + 1u, sizeof(*o->subnet_vni));
	if (o->hosts == NULL || o->remotes == NULL || o->subnet_vni == NULL ||
			dp_map_init(&o->vteps, conf->n_hosts) < 0 ||
			dp_map_init(&o->macs, o->n_remotes) < 0 || dp_map_init(&o->addrs, n_addrs) < 0 ||
			dp_map_init(&o->nets.map, n_prefixes) < 0 ||
			dp_map_init(&o->vnis, conf->n_subnets) < 0)
		return -ENOMEM;
	o->n_hosts = (uint16_t)conf->n_hosts;
	for (uint16_t h = 0; h < o->n_hosts; h++) {
		const struct sg_conf_host *ch = &conf->hosts[h];

		memcpy(&o->hosts[h].vtep, ch->vtep.bytes, 4);
		memcpy(o->hosts[h].mac, ch->has_mac ? ch->mac : uplink->peer_mac, 6);
		dp_map_put(&o->vteps, DP_KEY_IPV4, ch->vtep.bytes, h, DP_NO_SUBNET);
		if (strcmp(ch->name, conf->host) == 0) {
			o->self = h;
			o->vtep = o->hosts[h].vtep;
			memcpy(o->mac, ch->has_mac ? ch->mac : conf->router_mac, 6);
		}
	}
	for (uint32_t s = 0; s < conf->n_subnets; s++) {
		uint32_t vni = rte_cpu_to_be_32(conf->subnets[s].vni);

		o->subnet_vni[s] = conf->subnets[s].vni;
		if (conf->subnets[s].vni != 0)
			dp_map_put(&o->vnis, DP_KEY_IPV4, (const uint8_t *)&vni, s, (uint16_t)s);
	}
	for (uint32_t i = 0, sp = 0; i < conf->n_ports; i++) {
		const struct sg_conf_port *dev = &conf->ports[i];
		const struct sg_spec_port *port;
		int p;

		if (dev->uplink)
			continue;
		/* Ports and spec ports share their order (lib/conf): no search but on a miss. */
		p = sp < spec->n_ports && strcmp(spec->ports[sp].name, dev->name) == 0 ?
				(int)sp : sg_spec_find_port(spec, dev->name);
		if (p < 0)
			return -EINVAL;
		sp = (uint32_t)p + 1;
		if (!dev->remote)
			continue;
		port = &spec->ports[p];
		memcpy(o->remotes[r].mac, port->mac, 6);
		o->remotes[r].host = (uint16_t)(sg_conf_find_host(conf, dev->host) - conf->hosts);
		dp_map_put(&o->macs, DP_KEY_MAC, port->mac, r, DP_NO_SUBNET);
		for (uint32_t k = 0; k < port->n_ips; k++)
			dp_map_put(&o->addrs,
					port->ips[k].family == SG_AF_INET ? DP_KEY_IPV4 : DP_KEY_IPV6,
					port->ips[k].bytes, r, subnet_of(conf, &port->ips[k]));
		for (uint32_t k = 0; k < port->n_prefixes; k++) {
			const struct sg_prefix *pf = &port->prefixes[k];
			unsigned int f = pf->ip.family == SG_AF_INET6;

			dp_map_put(&o->nets.map, f ? DP_KEY_IPV6 : DP_KEY_IPV4, pf->ip.bytes, r,
					prefix_subnet(conf, pf))
					->len = pf->len;
			add_length(&o->nets.all[f], pf);
		}
		r++;
	}
	o->n_remotes = r;
	o->inner_mtu = (uint16_t)(conf->overlay.mtu - SG_VXLAN_OVERHEAD);
	o->on = true;
	return 0;
}

static void
free_overlay(struct dp_overlay *o)
{
	free(o->hosts);
	free(o->remotes);
	free(o->subnet_vni);
	dp_map_free(&o->vteps);
	dp_map_free(&o->macs);
	dp_map_free(&o->addrs);
	dp_map_free(&o->nets.map);
	dp_map_free(&o->vnis);
}

/* Spread every (port, rx queue) over the workers, round robin. */
static int
assign_queues(struct dp_gen *gen, uint16_t n_workers)
{
	uint32_t k = 0;

	for (uint16_t w = 0; w < n_workers; w++) {
		gen->rxq[w] = calloc(DP_MAX_RXQ_PER_WORKER, sizeof(*gen->rxq[w]));
		if (gen->rxq[w] == NULL)
			return -ENOMEM;
	}
	for (uint16_t v = 0; v < gen->n_vports; v++) {
		const struct sg_port_dev *dev = &gen->vports[v].port->dev;

		for (uint16_t q = 0; q < dev->n_rxq; q++, k++) {
			uint16_t w = (uint16_t)(k % n_workers);

			if (gen->n_rxq[w] == DP_MAX_RXQ_PER_WORKER)
				return -ENOSPC;
			gen->rxq[w][gen->n_rxq[w]++] = (struct dp_rxq){.vport = v, .queue = q};
		}
	}
	return 0;
}

void
dp_gen_free(struct dp_gen *gen)
{
	if (gen == NULL)
		return;
	for (uint16_t v = 0; gen->vports != NULL && v < gen->n_vports; v++) {
		for (int d = 0; d < SG_DIR_COUNT; d++) {
			free(gen->vports[v].action[d]);
			free(gen->vports[v].rule_id[d]);
		}
		free(gen->vports[v].subnets);
	}
	for (int w = 0; w < SG_MAX_WORKERS; w++)
		free(gen->rxq[w]);
	free(gen->vports);
	dp_map_free(&gen->macs);
	dp_map_free(&gen->addrs);
	dp_map_free(&gen->nets.map);
	dp_map_free(&gen->gateways);
	dp_map_free(&gen->subnet_map);
	free_overlay(&gen->overlay);
	rte_free(gen->rule_hits);
	free(gen->carried_hits);
	sg_acl_free(gen->acl);
	sg_conf_free(gen->conf);
	free(gen);
}

/*
 * A port's own limits on new connections, else the conntrack section's per-VM defaults (which
 * leave the uplink alone: it carries every tenant's inbound traffic). Each worker enforces its
 * share of the rate (rounded up), so the check needs no shared state.
 */
static void
set_port_limits(struct dp_vport *vp, const struct sg_conf *conf, const struct sg_conf_port *pc,
		bool uplink, uint16_t n_workers)
{
	uint32_t max = pc->max_connections, rate = pc->new_connections_per_second;

	if (max == 0 && !uplink)
		max = conf->conntrack.port_max_connections;
	if (rate == 0 && !uplink)
		rate = conf->conntrack.port_new_connections_per_second;
	vp->max_connections = max;
	vp->new_per_second_per_worker = rate == 0 ? 0 : (rate + n_workers - 1) / n_workers;
	rate = conf->flow_logs.port_events_per_second;
	vp->fl_events_per_second_per_worker = rate == 0 ? 0 : (rate + n_workers - 1) / n_workers;
}

/*
 * Build the generation of 'conf' over the open 'ports'. On success the generation owns
 * 'conf'; on failure 'conf' is left to the caller.
 */
struct dp_gen *
dp_gen_build_ports(struct sg_dp *dp, struct sg_conf *conf, struct dp_port **ports,
		uint32_t n_ports, struct sg_error *err)
{
	const struct sg_spec *spec = sg_policy_spec(conf->policy);
	const struct sg_conf_port *uplink = sg_conf_uplink(conf);
	const struct dp_gen *prev = atomic_load_explicit(&dp->gen, memory_order_acquire);
	struct dp_gen *gen = calloc(1, sizeof(*gen));
	uint32_t row, n_local = 0, p = 0;

	if (gen == NULL)
		goto nomem;
	gen->conf = conf;
	gen->sleep_max_us = conf->dataplane.sleep_max_us;
	/* Ports of other hosts are no vports: the overlay's tables hold them. */
	for (uint32_t i = 0; i < spec->n_ports; i++)
		n_local += !spec->ports[i].remote;
	if (n_local + 1u > DP_MAX_VPORTS || conf->n_subnets >= DP_NO_SUBNET) {
		sg_error_set(err, 0, "%u ports and %u subnets: at most %u ports and %u subnets",
				n_local, conf->n_subnets, DP_MAX_VPORTS - 1, DP_NO_SUBNET - 1);
		goto fail;
	}
	gen->epoch = ++dp->next_epoch;
	memcpy(gen->router_mac, conf->router_mac, 6);
	gen->n_vports = (uint16_t)(n_local + (uplink != NULL));
	gen->uplink = uplink != NULL ? (uint16_t)n_local : DP_NO_VPORT;
	gen->vports = calloc(gen->n_vports + 1u, sizeof(*gen->vports));
	if (gen->vports == NULL)
		goto nomem;
	for (uint16_t v = 0; v < gen->n_vports; v++) {
		struct dp_vport *vp = &gen->vports[v];

		if (v == gen->uplink) {
			vp->port = find_port(ports, n_ports, uplink->name);
			vp->uplink = true;
			vp->policy_port = UINT32_MAX;
			memcpy(vp->mac, uplink->peer_mac, 6);
		} else {
			const struct sg_spec_port *port;

			while (spec->ports[p].remote)
				p++;
			port = &spec->ports[p];
			vp->port = find_port(ports, n_ports, port->name);
			vp->policy_port = p++;
			memcpy(vp->mac, port->mac, 6);
			link_local_of(port->mac, &vp->link_local);
			vp->ips = port->ips;
			vp->n_ips = port->n_ips;
			vp->prefixes = port->prefixes;
			vp->n_prefixes = port->n_prefixes;
			if (build_verdicts(vp, conf->policy) < 0)
				goto nomem;
			vp->changed_epoch = changed_epoch(gen, prev, vp);
			vp->flowlog = dp->flowlog != NULL ?
					sg_conf_flowlog_traffic(conf, vp->policy_port) : 0;
		}
		if (vp->port == NULL) {
			sg_error_set(err, 0, "internal: port of vport %u is not open", v);
			goto fail;
		}
		set_port_limits(vp, conf, sg_conf_find_port(conf, vp->port->conf.name),
				v == gen->uplink, dp->params.n_workers);
	}
	if (build_maps(gen) < 0 || assign_queues(gen, dp->params.n_workers) < 0 ||
			build_overlay(gen) < 0)
		goto nomem;
	gen->n_rule_ids = sg_policy_rule_count(conf->policy);
	/* One cache-line-aligned row per worker, so workers never share a line. */
	row = RTE_ALIGN_CEIL(gen->n_rule_ids, RTE_CACHE_LINE_SIZE / sizeof(uint64_t));
	gen->rule_hits = rte_zmalloc("sg_rule_hits", (size_t)row * dp->params.n_workers * sizeof(uint64_t),
			RTE_CACHE_LINE_SIZE);
	gen->carried_hits = calloc(gen->n_rule_ids + 1u, sizeof(*gen->carried_hits));
	if (gen->rule_hits == NULL || gen->carried_hits == NULL)
		goto nomem;
	if (dp->params.engine != SG_DP_ENGINE_IO) {
		struct sg_acl_params acl_params = {
			.socket_id = SOCKET_ID_ANY,
			.generation = gen->epoch,
			.prev = prev != NULL ? prev->acl : NULL,
			/* A change is live as soon as its lists are: their contexts follow. */
			.build = dp->params.classify_linear ? SG_ACL_LINEAR :
				 prev != NULL              ? SG_ACL_BUILD_LATER :
							     SG_ACL_BUILD_NOW,
		};

		gen->acl = sg_acl_build(conf->policy, &acl_params, err);
		if (gen->acl == NULL)
			goto fail;
	}
	return gen;
nomem:
	sg_error_set(err, 0, "out of memory building the datapath tables");
fail:
	if (gen != NULL)
		gen->conf = NULL; /* still the caller's */
	dp_gen_free(gen);
	return NULL;
}

/*
 * Add the hits 'old' counted (its carried ones included) to the same rules of 'gen'. Call
 * only after the grace period that retired 'old': its rows no longer change.
 */
void
dp_gen_carry_hits(struct dp_gen *gen, const struct dp_gen *old, uint16_t n_workers)
{
	uint32_t row = dp_gen_hits_row(old);

	for (uint32_t r = 0; r < old->n_rule_ids; r++) {
		uint64_t total = old->carried_hits[r];
		int now;

		for (uint16_t w = 0; w < n_workers; w++)
			total += old->rule_hits[(size_t)w * row + r];
		if (total == 0)
			continue;
		now = sg_policy_same_rule(gen->conf->policy, old->conf->policy, r);
		if (now >= 0)
			gen->carried_hits[now] += total;
	}
}

/* Row length of the rule-hit table. */
uint32_t
dp_gen_hits_row(const struct dp_gen *gen)
{
	return RTE_ALIGN_CEIL(gen->n_rule_ids, RTE_CACHE_LINE_SIZE / sizeof(uint64_t));
}
