/* SPDX-License-Identifier: BSD-3-Clause */
/* Comparing two configs whole: what the round-trip property tests and the fuzz target use to
 * show that writing a config and loading it again, or making an online change, changes nothing
 * it should not.
 *
 * Each structure is compared as memory, after clearing what is not configuration (the line a
 * thing was read from, the file it came from, arrays, which are compared element by element
 * with their lengths). So a field added to any of these structures is compared without a line here;
 * only a new array (a pointer and a count) needs one. The loaders zero every structure before
 * filling it, so unused bytes compare equal. */
#include <stdarg.h>
#include <string.h>

#include "sg_conf.h"

struct differ {
	sg_conf_diff_fn fn;
	void *arg;
	int n;
};

static void SG_PRINTF(2, 3)
differ(struct differ *d, const char *fmt, ...)
{
	char what[SG_NAME_MAX * 2 + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (d->fn != NULL)
		d->fn(d->arg, what);
	d->n++;
}

static bool
same(const void *a, const void *b, size_t size)
{
	return memcmp(a, b, size) == 0;
}

/* Fixed-size names (tags, attachments): equal as strings, whatever follows the NUL. */
static void
diff_names(struct differ *d, const char *what, char (*a)[SG_NAME_MAX], uint32_t na,
		char (*b)[SG_NAME_MAX], uint32_t nb)
{
	if (na != nb) {
		differ(d, "%s (%u and %u)", what, na, nb);
		return;
	}
	for (uint32_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			differ(d, "%s[%u]", what, i);
}

/* 'count' elements compared as memory after 'clear' cleared each copy's non-config parts. */
#define DIFF_ARRAY(d, what, a, na, b, nb, type, clear)                                             \
	do {                                                                                       \
		if ((na) != (nb)) {                                                                \
			differ(d, "%s (%u and %u)", what, (unsigned int)(na), (unsigned int)(nb)); \
			break;                                                                     \
		}                                                                                  \
		for (uint32_t i_ = 0; i_ < (na); i_++) {                                           \
			type x_, y_;                                                               \
			memcpy(&x_, &(a)[i_], sizeof(x_));                                         \
			memcpy(&y_, &(b)[i_], sizeof(y_));                                         \
			clear(&x_);                                                                \
			clear(&y_);                                                                \
			if (!same(&x_, &y_, sizeof(x_)))                                           \
				differ(d, "%s[%u]", what, i_);                                     \
		}                                                                                  \
	} while (0)

static void
clear_rule(struct sg_rule *r)
{
	r->line = 0;
}

static void
clear_subnet(struct sg_conf_subnet *s)
{
	s->line = 0;
}

static void
clear_host(struct sg_conf_host *h)
{
	h->line = 0;
}

static void
clear_sel(struct sg_conf_flowlog_sel *s)
{
	s->line = 0;
}

static void
clear_device(struct sg_conf_port *p)
{
	p->line = 0;
}

static void
clear_nothing(void *p)
{
	(void)p;
}

static void
diff_groups(struct differ *d, const struct sg_spec *a, const struct sg_spec *b)
{
	char what[SG_NAME_MAX + 32];

	if (a->n_groups != b->n_groups) {
		differ(d, "spec.groups (%u and %u)", a->n_groups, b->n_groups);
		return;
	}
	for (uint32_t g = 0; g < a->n_groups; g++) {
		struct sg_group x, y;

		memcpy(&x, &a->groups[g], sizeof(x));
		memcpy(&y, &b->groups[g], sizeof(y));

		snprintf(what, sizeof(what), "spec.groups[%u].tags", g);
		diff_names(d, what, x.tags, x.n_tags, y.tags, y.n_tags);
		snprintf(what, sizeof(what), "spec.groups[%u].rules", g);
		DIFF_ARRAY(d, what, x.rules, x.n_rules, y.rules, y.n_rules, struct sg_rule,
				clear_rule);
		x.line = y.line = 0;
		x.tags = y.tags = NULL;
		x.rules = y.rules = NULL;
		x.n_tags = y.n_tags = x.n_rules = y.n_rules = 0;
		if (!same(&x, &y, sizeof(x)))
			differ(d, "spec.groups[%u] (%s)", g, x.id);
	}
}

static void
diff_spec_ports(struct differ *d, const struct sg_spec *a, const struct sg_spec *b)
{
	char what[SG_NAME_MAX + 32];

	if (a->n_ports != b->n_ports) {
		differ(d, "spec.ports (%u and %u)", a->n_ports, b->n_ports);
		return;
	}
	for (uint32_t p = 0; p < a->n_ports; p++) {
		struct sg_spec_port x, y;

		memcpy(&x, &a->ports[p], sizeof(x));
		memcpy(&y, &b->ports[p], sizeof(y));

		snprintf(what, sizeof(what), "spec.ports[%u].ips", p);
		DIFF_ARRAY(d, what, x.ips, x.n_ips, y.ips, y.n_ips, struct sg_ip, clear_nothing);
		snprintf(what, sizeof(what), "spec.ports[%u].allowed_prefixes", p);
		DIFF_ARRAY(d, what, x.prefixes, x.n_prefixes, y.prefixes, y.n_prefixes,
				struct sg_prefix, clear_nothing);
		snprintf(what, sizeof(what), "spec.ports[%u].tags", p);
		diff_names(d, what, x.tags, x.n_tags, y.tags, y.n_tags);
		snprintf(what, sizeof(what), "spec.ports[%u].security_groups", p);
		diff_names(d, what, x.groups, x.n_groups, y.groups, y.n_groups);
		x.line = y.line = 0;
		x.ips = y.ips = NULL;
		x.prefixes = y.prefixes = NULL;
		x.tags = y.tags = NULL;
		x.groups = y.groups = NULL;
		x.n_ips = y.n_ips = x.n_prefixes = y.n_prefixes = 0;
		x.n_tags = y.n_tags = x.n_groups = y.n_groups = 0;
		if (!same(&x, &y, sizeof(x)))
			differ(d, "spec.ports[%u] (%s)", p, x.name);
	}
}

static void
diff_prefix_lists(struct differ *d, const struct sg_spec *a, const struct sg_spec *b)
{
	char what[SG_NAME_MAX + 32];

	if (a->n_prefix_lists != b->n_prefix_lists) {
		differ(d, "spec.prefix_lists (%u and %u)", a->n_prefix_lists, b->n_prefix_lists);
		return;
	}
	for (uint32_t i = 0; i < a->n_prefix_lists; i++) {
		struct sg_prefix_list x, y;

		memcpy(&x, &a->prefix_lists[i], sizeof(x));
		memcpy(&y, &b->prefix_lists[i], sizeof(y));

		snprintf(what, sizeof(what), "spec.prefix_lists[%u].entries", i);
		DIFF_ARRAY(d, what, x.entries, x.n_entries, y.entries, y.n_entries,
				struct sg_prefix, clear_nothing);
		x.line = y.line = 0;
		x.entries = y.entries = NULL;
		x.n_entries = y.n_entries = 0;
		if (!same(&x, &y, sizeof(x)))
			differ(d, "spec.prefix_lists[%u] (%s)", i, x.id);
	}
}

static void
diff_spec(struct differ *d, const struct sg_spec *a, const struct sg_spec *b)
{
	if (!same(&a->limits, &b->limits, sizeof(a->limits)))
		differ(d, "spec.limits");
	diff_groups(d, a, b);
	diff_spec_ports(d, a, b);
	diff_prefix_lists(d, a, b);
}

static void
diff_switch(struct differ *d, const struct sg_conf *a, const struct sg_conf *b)
{
	struct sg_conf_dataplane dx, dy;
	struct sg_conf_conntrack cx, cy;
	struct sg_conf_flowlog fx, fy;
	struct sg_conf_logging lx, ly;
	struct sg_conf x, y;

	/* memcpy, not assignment: a copy by members need not copy the padding between them. */
	memcpy(&dx, &a->dataplane, sizeof(dx));
	memcpy(&dy, &b->dataplane, sizeof(dy));
	memcpy(&cx, &a->conntrack, sizeof(cx));
	memcpy(&cy, &b->conntrack, sizeof(cy));
	memcpy(&fx, &a->flow_logs, sizeof(fx));
	memcpy(&fy, &b->flow_logs, sizeof(fy));
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));

	if (dx.n_eal_args != dy.n_eal_args)
		differ(d, "dataplane.eal_args (%u and %u)", dx.n_eal_args, dy.n_eal_args);
	for (uint32_t i = 0; i < dx.n_eal_args && dx.n_eal_args == dy.n_eal_args; i++)
		if (strcmp(dx.eal_args[i], dy.eal_args[i]) != 0)
			differ(d, "dataplane.eal_args[%u]", i);
	memset(dx.eal_args, 0, sizeof(dx.eal_args));
	memset(dy.eal_args, 0, sizeof(dy.eal_args));
	dx.n_eal_args = dy.n_eal_args = 0;
	if (!same(&dx, &dy, sizeof(dx)))
		differ(d, "dataplane");
	cx.line = cy.line = 0;
	for (uint32_t i = 0; i < SG_CONF_MAX_TIMEOUTS; i++)
		cx.timeouts[i].line = cy.timeouts[i].line = 0;
	if (!same(&cx, &cy, sizeof(cx)))
		differ(d, "conntrack");
	DIFF_ARRAY(d, "flow_logs.groups", fx.groups, fx.n_groups, fy.groups, fy.n_groups,
			struct sg_conf_flowlog_sel, clear_sel);
	DIFF_ARRAY(d, "flow_logs.ports", fx.ports, fx.n_ports, fy.ports, fy.n_ports,
			struct sg_conf_flowlog_sel, clear_sel);
	fx.line = fy.line = 0;
	fx.groups = fy.groups = fx.ports = fy.ports = NULL;
	fx.n_groups = fy.n_groups = fx.n_ports = fy.n_ports = 0;
	if (!same(&fx, &fy, sizeof(fx)))
		differ(d, "flow_logs");
	memcpy(&lx, &a->logging, sizeof(lx));
	memcpy(&ly, &b->logging, sizeof(ly));
	lx.line = ly.line = 0;
	for (uint32_t i = 0; i < SG_CONF_MAX_LOG_LEVELS; i++)
		lx.levels[i].line = ly.levels[i].line = 0;
	if (!same(&lx, &ly, sizeof(lx)))
		differ(d, "logging");
	DIFF_ARRAY(d, "subnets", a->subnets, a->n_subnets, b->subnets, b->n_subnets,
			struct sg_conf_subnet, clear_subnet);
	DIFF_ARRAY(d, "hosts", a->hosts, a->n_hosts, b->hosts, b->n_hosts, struct sg_conf_host,
			clear_host);
	if (strcmp(a->host, b->host) != 0)
		differ(d, "host");
	if (a->overlay.mtu != b->overlay.mtu)
		differ(d, "overlay");
	/* The rest of the top level: router, control and whatever joins them. */
	memset(x.path, 0, sizeof(x.path));
	memset(y.path, 0, sizeof(y.path));
	memset(x.sources, 0, sizeof(x.sources));
	memset(y.sources, 0, sizeof(y.sources));
	x.n_sources = y.n_sources = 0;
	x.spec = y.spec = NULL;
	x.policy = y.policy = NULL;
	x.ports = y.ports = NULL;
	x.n_ports = y.n_ports = 0;
	x.subnets = y.subnets = NULL;
	x.n_subnets = y.n_subnets = 0;
	x.hosts = y.hosts = NULL;
	x.n_hosts = y.n_hosts = 0;
	memset(x.host, 0, sizeof(x.host));
	memset(y.host, 0, sizeof(y.host));
	memset(&x.overlay, 0, sizeof(x.overlay));
	memset(&y.overlay, 0, sizeof(y.overlay));
	memset(&x.dataplane, 0, sizeof(x.dataplane));
	memset(&y.dataplane, 0, sizeof(y.dataplane));
	memset(&x.conntrack, 0, sizeof(x.conntrack));
	memset(&y.conntrack, 0, sizeof(y.conntrack));
	memset(&x.flow_logs, 0, sizeof(x.flow_logs));
	memset(&y.flow_logs, 0, sizeof(y.flow_logs));
	memset(&x.logging, 0, sizeof(x.logging));
	memset(&y.logging, 0, sizeof(y.logging));
	x.cluster.line = y.cluster.line = 0;
	if (!same(&x.cluster, &y.cluster, sizeof(x.cluster)))
		differ(d, "cluster");
	memset(&x.cluster, 0, sizeof(x.cluster));
	memset(&y.cluster, 0, sizeof(y.cluster));
	if (!same(&x, &y, sizeof(x)))
		differ(d, "router, control or vhost_user");
}

int
sg_conf_diff(const struct sg_conf *a, const struct sg_conf *b, sg_conf_diff_fn fn, void *arg)
{
	struct differ d = {.fn = fn, .arg = arg};

	diff_spec(&d, a->spec, b->spec);
	DIFF_ARRAY(&d, "ports", a->ports, a->n_ports, b->ports, b->n_ports, struct sg_conf_port,
			clear_device);
	diff_switch(&d, a, b);
	return d.n;
}

#define START_ONLY(d, what, differs)                                                               \
	do {                                                                                       \
		if (differs)                                                                       \
			differ(d, "%s", what);                                                     \
	} while (0)

int
sg_conf_restart_diff(const struct sg_conf *started, const struct sg_conf *want,
		sg_conf_diff_fn fn, void *arg)
{
	const struct sg_conf_dataplane *a = &started->dataplane, *b = &want->dataplane;
	const struct sg_conf_flowlog *fa = &started->flow_logs, *fb = &want->flow_logs;
	struct differ d = {.fn = fn, .arg = arg};
	bool eal_same = a->n_eal_args == b->n_eal_args;

	for (uint32_t i = 0; i < a->n_eal_args && eal_same; i++)
		eal_same = strcmp(a->eal_args[i], b->eal_args[i]) == 0;
	START_ONLY(&d, "dataplane.workers", a->workers != b->workers);
	START_ONLY(&d, "dataplane.mbufs", a->mbufs != b->mbufs);
	START_ONLY(&d, "dataplane.burst", a->burst != b->burst);
	START_ONLY(&d, "dataplane.rx_desc", a->rx_desc != b->rx_desc);
	START_ONLY(&d, "dataplane.tx_desc", a->tx_desc != b->tx_desc);
	START_ONLY(&d, "dataplane.eal_args", !eal_same);
	START_ONLY(&d, "dataplane.file_prefix", strcmp(a->file_prefix, b->file_prefix) != 0);
	START_ONLY(&d, "control.socket", strcmp(started->control_socket, want->control_socket) != 0);
	START_ONLY(&d, "control.group", strcmp(started->control_group, want->control_group) != 0);
	START_ONLY(&d, "control.metrics_port", started->metrics_port != want->metrics_port);
	START_ONLY(&d, "control.metrics_address",
			started->n_metrics_address != want->n_metrics_address ||
					!same(started->metrics_address, want->metrics_address,
							sizeof(started->metrics_address)));
	/* The cluster thread is started, and its etcd client made, with the process. */
	START_ONLY(&d, "cluster", started->cluster.n_endpoints != want->cluster.n_endpoints ||
			!same(started->cluster.endpoints, want->cluster.endpoints,
					sizeof(started->cluster.endpoints)) ||
			strcmp(started->cluster.prefix, want->cluster.prefix) != 0 ||
			strcmp(started->cluster.state_file, want->cluster.state_file) != 0 ||
			strcmp(started->cluster.ca_file, want->cluster.ca_file) != 0 ||
			strcmp(started->cluster.cert_file, want->cluster.cert_file) != 0 ||
			strcmp(started->cluster.key_file, want->cluster.key_file) != 0 ||
			started->cluster.timeout_ms != want->cluster.timeout_ms ||
			started->cluster.lease_ttl != want->cluster.lease_ttl);
	/* Flow logging switched off at start cannot be switched on; on, it follows 'enabled'. */
	START_ONLY(&d, "flow_logs.enabled", !fa->enabled && fb->enabled);
	if (fa->enabled && fb->enabled) {
		START_ONLY(&d, "flow_logs.directory", strcmp(fa->directory, fb->directory) != 0);
		START_ONLY(&d, "flow_logs.window", fa->window != fb->window);
		START_ONLY(&d, "flow_logs.format", fa->format != fb->format);
		START_ONLY(&d, "flow_logs.max_file_mb", fa->max_file_mb != fb->max_file_mb);
		START_ONLY(&d, "flow_logs.max_file_age", fa->max_file_age != fb->max_file_age);
		START_ONLY(&d, "flow_logs.ring_size", fa->ring_size != fb->ring_size);
		START_ONLY(&d, "flow_logs.max_flows", fa->max_flows != fb->max_flows);
		START_ONLY(&d, "flow_logs.port_max_flows", fa->port_max_flows != fb->port_max_flows);
	}
	return d.n;
}
