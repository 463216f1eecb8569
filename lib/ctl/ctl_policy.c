/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy views of sgfwctl: check, ports, groups, effective (the combined rules of a port) and
 * explain (the verdict and deciding rule of a flow, or of the path between two ports). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sg_build_config.h"
#include "sg_ctl.h"
#include "sg_json.h"
#include "sg_reasons.h"

/* Source port used when a flow does not give one: the first IANA dynamic port. */
#define CTL_DEFAULT_SPORT 49152

static int SG_PRINTF(2, 3)
ctl_fail(struct sg_ctl_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", ctx->err);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->err);
	return SG_CTL_EXIT_FAIL;
}

static int
ctl_usage_error(struct sg_ctl_ctx *ctx, const char *what)
{
	fprintf(ctx->err, "usage error: %s\n", what);
	sg_ctl_usage(ctx->err);
	return SG_CTL_EXIT_USAGE;
}

static const char *
group_id(const struct sg_ctl_ctx *ctx, uint32_t group)
{
	return sg_policy_spec(ctx->conf->policy)->groups[group].id;
}

/* "5432/5432", "any" or "-" for the destination ports; ICMP shows type and code. */
static const char *
format_match(const struct sg_eff_rule *r, char *buf, size_t size)
{
	if (sg_proto_has_ports(r->proto)) {
		int n = snprintf(buf, size, r->dport.lo == 0 && r->dport.hi == UINT16_MAX ? "any" : "%u/%u",
				r->dport.lo, r->dport.hi);

		if (r->sport.lo != 0 || r->sport.hi != UINT16_MAX)
			snprintf(buf + n, size - (size_t)n, " src %u/%u", r->sport.lo, r->sport.hi);
	} else if (sg_proto_is_icmp(r->proto) && r->icmp_type >= 0) {
		if (r->icmp_code >= 0)
			snprintf(buf, size, "type %d code %d", r->icmp_type, r->icmp_code);
		else
			snprintf(buf, size, "type %d", r->icmp_type);
	} else {
		snprintf(buf, size, "-");
	}
	return buf;
}

/* The peer column: "any", a CIDR, or up to four addresses and a count of the rest. */
static const char *
format_peers(const struct sg_eff_rule *r, char *buf, size_t size)
{
	char one[SG_PREFIX_STRLEN];
	size_t used = 0;

	if (r->peer_any)
		return snprintf(buf, size, "any"), buf;
	if (r->n_peers == 0)
		return snprintf(buf, size, "(no address)"), buf;
	buf[0] = '\0';
	for (uint32_t i = 0; i < r->n_peers && i < 4; i++) {
		const struct sg_prefix *p = &r->peers[i];
		bool host = p->len == (p->ip.family == SG_AF_INET ? 32 : 128);

		if (host)
			sg_ip_format(&p->ip, one, sizeof(one));
		else
			sg_prefix_format(p, one, sizeof(one));
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "," : "", one);
		if (used >= size)
			return buf;
	}
	if (r->n_peers > 4)
		snprintf(buf + used, size - used, " +%u more", r->n_peers - 4);
	return buf;
}

/* Where an entry comes from, for people. */
static const char *
format_origin(const struct sg_ctl_ctx *ctx, const struct sg_eff_rule *r, char *buf, size_t size)
{
	const struct sg_spec *spec = sg_policy_spec(ctx->conf->policy);

	switch (r->origin) {
	case SG_ORIGIN_INNER:
		snprintf(buf, size, "%s inner access (hidden: members talk)", group_id(ctx, r->group));
		break;
	case SG_ORIGIN_RULE: {
		const struct sg_rule *rule = &spec->groups[r->group].rules[r->rule];
		const char *peer_group = rule->peer_kind == SG_PEER_GROUP ? rule->peer : NULL;
		char desc[SG_DESC_MAX * 4];

		/* One line whatever the description holds (newlines, escapes, bidi controls). */
		sg_text_escape(rule->description, desc, sizeof(desc), true);
		snprintf(buf, size, "%s rule %u%s%s%s%s%s", group_id(ctx, r->group), r->rule + 1,
				peer_group ? " (members of " : "", peer_group ? peer_group : "",
				peer_group ? ")" : "", rule->description[0] ? " - " : "", desc);
		break;
	}
	default:
		sg_policy_rule_name(ctx->conf->policy, r->id, buf, size);
	}
	return buf;
}

/* A JSON array of CIDRs under 'key'. */
static void
json_prefixes(struct sg_json *j, const char *key, const struct sg_prefix *p, uint32_t n)
{
	char buf[SG_PREFIX_STRLEN];

	sg_json_array_open(j, key);
	for (uint32_t i = 0; i < n; i++)
		sg_json_string(j, NULL, sg_prefix_format(&p[i], buf, sizeof(buf)));
	sg_json_array_close(j);
}

static void
json_rule(struct sg_ctl_ctx *ctx, struct sg_json *j, const char *key, const struct sg_eff_rule *r,
		uint32_t position)
{
	const struct sg_spec *spec = sg_policy_spec(ctx->conf->policy);
	char buf[SG_PREFIX_STRLEN];

	sg_json_object_open(j, key);
	sg_json_uint(j, "position", position);
	sg_json_uint(j, "id", r->id);
	sg_json_string(j, "name", sg_policy_rule_name(ctx->conf->policy, r->id, buf, sizeof(buf)));
	sg_json_string(j, "origin", sg_origin_name(r->origin));
	if (r->origin != SG_ORIGIN_DEFAULT)
		sg_json_string(j, "group", group_id(ctx, r->group));
	else
		sg_json_null(j, "group");
	if (r->origin == SG_ORIGIN_RULE) {
		const struct sg_rule *rule = &spec->groups[r->group].rules[r->rule];

		sg_json_uint(j, "index", r->rule + 1);
		sg_json_uint(j, "line", (uint64_t)SG_LOC_LINE(rule->line));
		sg_json_string(j, "file", sg_conf_source(ctx->conf, rule->line));
		sg_json_string(j, "description", rule->description);
		if (rule->peer_kind == SG_PEER_GROUP || rule->peer_kind == SG_PEER_PREFIX_LIST)
			sg_json_string(j, rule->peer_kind == SG_PEER_GROUP ? "peer_group" : "peer_prefix_list",
					rule->peer);
	}
	sg_json_uint(j, "priority", r->priority);
	sg_json_string(j, "action", sg_action_name(r->action));
	sg_json_string(j, "protocol", sg_proto_name(r->proto, buf, sizeof(buf)));
	if (sg_proto_has_ports(r->proto)) {
		sg_json_uint(j, "port_from", r->dport.lo);
		sg_json_uint(j, "port_to", r->dport.hi);
		sg_json_uint(j, "source_port_from", r->sport.lo);
		sg_json_uint(j, "source_port_to", r->sport.hi);
	}
	if (sg_proto_is_icmp(r->proto)) {
		sg_json_int(j, "icmp_type", r->icmp_type);
		sg_json_int(j, "icmp_code", r->icmp_code);
	}
	if (r->peer_any) {
		sg_json_string(j, "peers", "any");
	} else {
		json_prefixes(j, "peers", r->peers, r->n_peers);
	}
	sg_json_object_close(j);
}

static int
find_port(struct sg_ctl_ctx *ctx, const char *name, uint32_t *port)
{
	int p = sg_policy_find_port(ctx->conf->policy, name);

	if (p < 0) {
		if (sg_conf_find_port(ctx->conf, name) != NULL)
			return ctl_fail(ctx, "port \"%s\" is an uplink: it has no security groups", name);
		return ctl_fail(ctx, "no port named \"%s\"", name);
	}
	if (sg_policy_spec(ctx->conf->policy)->ports[p].remote) {
		const struct sg_conf_port *dev = sg_conf_find_port(ctx->conf, name);

		return ctl_fail(ctx, "port \"%s\" is on host \"%s\": its rules are enforced there "
				"(ask that host's sgfw)", name, dev != NULL ? dev->host : "?");
	}
	*port = (uint32_t)p;
	return SG_CTL_EXIT_OK;
}

static void
print_groups_of(struct sg_ctl_ctx *ctx, uint32_t port)
{
	const struct sg_spec *spec = sg_policy_spec(ctx->conf->policy);
	const uint32_t *groups;
	uint32_t n = sg_policy_port_groups(ctx->conf->policy, port, &groups);

	for (uint32_t i = 0; i < n; i++)
		fprintf(ctx->out, "%s%s%s", i ? ", " : "", spec->groups[groups[i]].id,
				sg_policy_attached_by_tag(ctx->conf->policy, port, groups[i]) ? " (by tag)" : "");
}

static void
effective_text(struct sg_ctl_ctx *ctx, uint32_t port, enum sg_dir dir)
{
	const struct sg_spec *spec = sg_policy_spec(ctx->conf->policy);
	const struct sg_eff_rule *rules;
	uint32_t n = sg_policy_effective(ctx->conf->policy, port, dir, &rules);
	char proto[8], match[48], peers[160], origin[SG_DESC_MAX + 96];

	fprintf(ctx->out, "%s %s (%s; groups: ", spec->ports[port].name, sg_dir_name(dir),
			sg_group_type_name(sg_policy_port_type(ctx->conf->policy, port)));
	print_groups_of(ctx, port);
	fprintf(ctx->out, ")\n");
	fprintf(ctx->out, "  %-3s %-4s %-6s %-6s %-14s %-34s %s\n", "#", "PRIO", "ACTION", "PROTO",
			"PORTS", dir == SG_DIR_INGRESS ? "SOURCE" : "DESTINATION", "FROM");
	for (uint32_t i = 0; i < n; i++) {
		const struct sg_eff_rule *r = &rules[i];
		char prio[8];

		if (r->origin == SG_ORIGIN_RULE)
			snprintf(prio, sizeof(prio), "%u", r->priority);
		else
			snprintf(prio, sizeof(prio), "-");
		fprintf(ctx->out, "  %-3u %-4s %-6s %-6s %-14s %-34s %s\n", i + 1, prio,
				sg_action_name(r->action), sg_proto_name(r->proto, proto, sizeof(proto)),
				format_match(r, match, sizeof(match)), format_peers(r, peers, sizeof(peers)),
				format_origin(ctx, r, origin, sizeof(origin)));
	}
}

static void
effective_json(struct sg_ctl_ctx *ctx, struct sg_json *j, uint32_t port, enum sg_dir dir)
{
	const struct sg_eff_rule *rules;
	uint32_t n = sg_policy_effective(ctx->conf->policy, port, dir, &rules);

	sg_json_array_open(j, sg_dir_name(dir));
	for (uint32_t i = 0; i < n; i++)
		json_rule(ctx, j, NULL, &rules[i], i + 1);
	sg_json_array_close(j);
}

static int
parse_dir(const char *text, enum sg_dir *dir)
{
	if (strcmp(text, "ingress") == 0)
		*dir = SG_DIR_INGRESS;
	else if (strcmp(text, "egress") == 0)
		*dir = SG_DIR_EGRESS;
	else
		return -EINVAL;
	return 0;
}

int
sg_ctl_effective(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	const struct sg_spec *spec = sg_policy_spec(ctx->conf->policy);
	bool both = argc == 2;
	enum sg_dir dir = SG_DIR_INGRESS;
	uint32_t port;
	int rc;

	if (argc < 2 || argc > 3)
		return ctl_usage_error(ctx, "effective PORT [ingress|egress]");
	if ((rc = find_port(ctx, argv[1], &port)) != SG_CTL_EXIT_OK)
		return rc;
	if (argc == 3 && parse_dir(argv[2], &dir) < 0)
		return ctl_usage_error(ctx, "direction must be ingress or egress");
	if (ctx->json) {
		struct sg_json j;
		const uint32_t *groups;
		uint32_t n = sg_policy_port_groups(ctx->conf->policy, port, &groups);

		sg_json_init(&j, ctx->out, true);
		sg_json_object_open(&j, NULL);
		sg_json_string(&j, "port", spec->ports[port].name);
		sg_json_string(&j, "type",
				sg_group_type_name(sg_policy_port_type(ctx->conf->policy, port)));
		sg_json_array_open(&j, "groups");
		for (uint32_t i = 0; i < n; i++)
			sg_json_string(&j, NULL, spec->groups[groups[i]].id);
		sg_json_array_close(&j);
		for (int d = 0; d < SG_DIR_COUNT; d++)
			if (both || d == (int)dir)
				effective_json(ctx, &j, port, (enum sg_dir)d);
		sg_json_object_close(&j);
		sg_json_finish(&j);
		return SG_CTL_EXIT_OK;
	}
	for (int d = 0; d < SG_DIR_COUNT; d++) {
		if (!both && d != (int)dir)
			continue;
		effective_text(ctx, port, (enum sg_dir)d);
		if (both && d == 0)
			fputc('\n', ctx->out);
	}
	return SG_CTL_EXIT_OK;
}

/* "10.0.0.1", "10.0.0.1:80", "fd00::1", "[fd00::1]:80". */
static int
parse_endpoint(const char *text, struct sg_ip *ip, uint16_t *port, bool *has_port)
{
	char addr[SG_IP_STRLEN];
	const char *colon = NULL;
	char *end;
	size_t n;
	long value;

	*has_port = false;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || (n = (size_t)(close - text - 1)) >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, text + 1, n);
		addr[n] = '\0';
		if (close[1] == ':')
			colon = close + 1;
		else if (close[1] != '\0')
			return -EINVAL;
	} else {
		colon = strchr(text, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL; /* a bare IPv6 address */
		n = colon != NULL ? (size_t)(colon - text) : strlen(text);
		if (n >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, text, n);
		addr[n] = '\0';
	}
	if (sg_ip_parse(addr, ip) < 0)
		return -EINVAL;
	if (colon != NULL) {
		errno = 0;
		value = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || colon[1] == '\0' || value < 0 || value > UINT16_MAX)
			return -EINVAL;
		*port = (uint16_t)value;
		*has_port = true;
	}
	return 0;
}

static void
json_flow(struct sg_json *j, const struct sg_flow *flow)
{
	char buf[SG_IP_STRLEN];

	sg_json_object_open(j, "flow");
	sg_json_string(j, "protocol", sg_proto_name(flow->proto, buf, sizeof(buf)));
	sg_json_string(j, "src", sg_ip_format(&flow->src, buf, sizeof(buf)));
	sg_json_string(j, "dst", sg_ip_format(&flow->dst, buf, sizeof(buf)));
	if (sg_proto_is_icmp(flow->proto)) {
		sg_json_uint(j, "icmp_type", flow->sport);
		sg_json_uint(j, "icmp_code", flow->dport);
	} else {
		sg_json_uint(j, "sport", flow->sport);
		sg_json_uint(j, "dport", flow->dport);
	}
	sg_json_object_close(j);
}

static const char *
format_flow(const struct sg_flow *flow, char *buf, size_t size)
{
	char proto_buf[8], src[SG_IP_STRLEN], dst[SG_IP_STRLEN];
	const char *proto = sg_proto_name(flow->proto, proto_buf, sizeof(proto_buf));
	bool v6 = flow->src.family == SG_AF_INET6;

	sg_ip_format(&flow->src, src, sizeof(src));
	sg_ip_format(&flow->dst, dst, sizeof(dst));
	if (sg_proto_is_icmp(flow->proto))
		snprintf(buf, size, "%s %s -> %s type %u code %u", proto, src, dst, flow->sport,
				flow->dport);
	else if (sg_proto_has_ports(flow->proto))
		snprintf(buf, size, v6 ? "%s [%s]:%u -> [%s]:%u" : "%s %s:%u -> %s:%u", proto, src,
				flow->sport, dst, flow->dport);
	else
		snprintf(buf, size, "%s %s -> %s", proto, src, dst);
	return buf;
}

static void
verdict_text(struct sg_ctl_ctx *ctx, const char *label, const struct sg_verdict *v)
{
	char origin[SG_DESC_MAX + 96], match[48], peers[160], proto[8];
	const struct sg_eff_rule *r = v->rule;

	fprintf(ctx->out, "%s%s by %s (entry %u", label, sg_action_name(v->action),
			format_origin(ctx, r, origin, sizeof(origin)), v->position);
	if (r->origin == SG_ORIGIN_RULE)
		fprintf(ctx->out, ": priority %u %s %s %s %s %s", r->priority, sg_action_name(r->action),
				sg_proto_name(r->proto, proto, sizeof(proto)),
				format_match(r, match, sizeof(match)), "peer",
				format_peers(r, peers, sizeof(peers)));
	fprintf(ctx->out, ")\n");
}

static void
json_verdict(struct sg_ctl_ctx *ctx, struct sg_json *j, const struct sg_verdict *v)
{
	sg_json_string(j, "verdict", sg_action_name(v->action));
	json_rule(ctx, j, "rule", v->rule, v->position);
}

/* Optional trailing "--icmp-type N" / "--icmp-code N" for ICMP flows. */
static int
parse_icmp_options(struct sg_ctl_ctx *ctx, int argc, char **argv, int first, struct sg_flow *flow)
{
	for (int i = first; i < argc; i += 2) {
		long value;
		char *end;

		if (i + 1 >= argc || (strcmp(argv[i], "--icmp-type") != 0 &&
					     strcmp(argv[i], "--icmp-code") != 0))
			return ctl_usage_error(ctx, "after the flow only --icmp-type N and --icmp-code N");
		if (!sg_proto_is_icmp(flow->proto))
			return ctl_usage_error(ctx, "--icmp-type and --icmp-code need protocol icmp or icmpv6");
		value = strtol(argv[i + 1], &end, 10);
		if (*end != '\0' || value < 0 || value > 255)
			return ctl_usage_error(ctx, "ICMP type and code are 0..255");
		if (strcmp(argv[i], "--icmp-type") == 0)
			flow->sport = (uint16_t)value;
		else
			flow->dport = (uint16_t)value;
	}
	return SG_CTL_EXIT_OK;
}

/* Protocol of a flow: a name or number, not "all". */
static int
parse_flow_proto(struct sg_ctl_ctx *ctx, const char *text, struct sg_flow *flow)
{
	int proto = sg_proto_parse(text);

	if (proto < 0)
		return ctl_usage_error(ctx, "protocol must be tcp, udp, icmp, icmpv6, gre or a number");
	flow->proto = (uint8_t)proto;
	if (sg_proto_is_icmp(proto)) {
		flow->sport = proto == IPPROTO_ICMP ? 8 : 128; /* echo request */
		flow->dport = 0;
	}
	return SG_CTL_EXIT_OK;
}

/* Scripts branch on explain's exit code: 0 accepted, 3 dropped. */
static int
explain_exit(enum sg_action action)
{
	return action == SG_ACTION_ACCEPT ? SG_CTL_EXIT_OK : SG_CTL_EXIT_DROPPED;
}

/*
 * The host whose VTEP 'dst' is, when a VM's egress to it never reaches the rules: the datapath
 * drops a VM's packet to any host's VTEP on a fleet (underlay_target), so explain says so
 * rather than show a verdict nothing applies. NULL otherwise.
 */
static const struct sg_conf_host *
underlay_target(const struct sg_conf *conf, enum sg_dir dir, const struct sg_ip *dst)
{
	if (dir != SG_DIR_EGRESS || dst->family != SG_AF_INET || sg_conf_uplink(conf) == NULL)
		return NULL;
	for (uint32_t h = 0; h < conf->n_hosts; h++)
		if (sg_ip_equal(&conf->hosts[h].vtep, dst))
			return &conf->hosts[h];
	return NULL;
}

static int
explain_port(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	const struct sg_conf_host *vtep_of;
	const struct sg_spec *spec;
	struct sg_flow flow = {0};
	struct sg_verdict verdict;
	bool has_sport, has_dport;
	uint16_t sport = CTL_DEFAULT_SPORT, dport = 0;
	enum sg_dir dir;
	uint32_t port;
	char text[160];
	int rc;

	if (argc < 6)
		return ctl_usage_error(ctx, "explain PORT ingress|egress PROTO SRC[:PORT] DST[:PORT]");
	if ((rc = find_port(ctx, argv[1], &port)) != SG_CTL_EXIT_OK)
		return rc;
	if (parse_dir(argv[2], &dir) < 0)
		return ctl_usage_error(ctx, "direction must be ingress or egress");
	if ((rc = parse_flow_proto(ctx, argv[3], &flow)) != SG_CTL_EXIT_OK)
		return rc;
	if (parse_endpoint(argv[4], &flow.src, &sport, &has_sport) < 0)
		return ctl_usage_error(ctx, "SRC must be ADDR, ADDR:PORT or [IPV6]:PORT");
	if (parse_endpoint(argv[5], &flow.dst, &dport, &has_dport) < 0)
		return ctl_usage_error(ctx, "DST must be ADDR, ADDR:PORT or [IPV6]:PORT");
	if (flow.src.family != flow.dst.family)
		return ctl_usage_error(ctx, "SRC and DST must both be IPv4 or both IPv6");
	if (sg_proto_has_ports(flow.proto)) {
		if (!has_dport)
			return ctl_usage_error(ctx, "tcp and udp flows need a destination port: DST:PORT");
		flow.sport = sport;
		flow.dport = dport;
	}
	if ((rc = parse_icmp_options(ctx, argc, argv, 6, &flow)) != SG_CTL_EXIT_OK)
		return rc;
	sg_policy_decide(ctx->conf->policy, port, dir, &flow, &verdict);
	spec = sg_policy_spec(ctx->conf->policy);
	vtep_of = underlay_target(ctx->conf, dir, &flow.dst);
	if (ctx->json) {
		struct sg_json j;

		sg_json_init(&j, ctx->out, true);
		sg_json_object_open(&j, NULL);
		sg_json_string(&j, "port", spec->ports[port].name);
		sg_json_string(&j, "direction", sg_dir_name(dir));
		json_flow(&j, &flow);
		if (vtep_of != NULL) {
			sg_json_string(&j, "verdict", "drop");
			sg_json_string(&j, "reason", sg_drop_reason_name(SG_DROP_UNDERLAY_TARGET));
			sg_json_string(&j, "vtep_of", vtep_of->name);
		} else {
			json_verdict(ctx, &j, &verdict);
		}
		sg_json_object_close(&j);
		sg_json_finish(&j);
		return vtep_of != NULL ? SG_CTL_EXIT_DROPPED : explain_exit(verdict.action);
	}
	fprintf(ctx->out, "%s %s %s\n", spec->ports[port].name, sg_dir_name(dir),
			format_flow(&flow, text, sizeof(text)));
	if (vtep_of != NULL) {
		fprintf(ctx->out, "  verdict: drop before the rules: the VTEP of host \"%s\" (%s)\n",
				vtep_of->name, sg_drop_reason_name(SG_DROP_UNDERLAY_TARGET));
		return SG_CTL_EXIT_DROPPED;
	}
	verdict_text(ctx, "  verdict: ", &verdict);
	return explain_exit(verdict.action);
}

/* An address of 'port' in 'family', or false. */
static bool
port_address(const struct sg_spec_port *port, uint8_t family, struct sg_ip *ip)
{
	for (uint32_t i = 0; i < port->n_ips; i++) {
		if (port->ips[i].family == family) {
			*ip = port->ips[i];
			return true;
		}
	}
	return false;
}

static int
explain_path(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	const struct sg_spec *spec = sg_policy_spec(ctx->conf->policy);
	struct sg_path_verdict verdict;
	struct sg_flow flow = {0};
	const struct sg_spec_port *a, *b;
	uint32_t from, to;
	bool v6 = false;
	char text[160];
	int rc, first_option = 5;

	if (argc < 5)
		return ctl_usage_error(ctx, "explain FROM_PORT to TO_PORT PROTO [DST_PORT] [--ipv6]");
	if ((rc = find_port(ctx, argv[1], &from)) != SG_CTL_EXIT_OK ||
			(rc = find_port(ctx, argv[3], &to)) != SG_CTL_EXIT_OK)
		return rc;
	if ((rc = parse_flow_proto(ctx, argv[4], &flow)) != SG_CTL_EXIT_OK)
		return rc;
	if (sg_proto_has_ports(flow.proto)) {
		long value;
		char *end;

		if (argc < 6)
			return ctl_usage_error(ctx, "tcp and udp paths need a destination port");
		value = strtol(argv[5], &end, 10);
		if (*end != '\0' || value < 0 || value > UINT16_MAX)
			return ctl_usage_error(ctx, "DST_PORT must be 0..65535");
		flow.sport = CTL_DEFAULT_SPORT;
		flow.dport = (uint16_t)value;
		first_option = 6;
	}
	if (argc > first_option && strcmp(argv[argc - 1], "--ipv6") == 0) {
		v6 = true;
		argc--;
	}
	if ((rc = parse_icmp_options(ctx, argc, argv, first_option, &flow)) != SG_CTL_EXIT_OK)
		return rc;
	a = &spec->ports[from];
	b = &spec->ports[to];
	if (flow.proto == IPPROTO_ICMPV6)
		v6 = true;
	if (!v6 && flow.proto != IPPROTO_ICMP && !(port_address(a, SG_AF_INET, &flow.src) &&
						 port_address(b, SG_AF_INET, &flow.dst)))
		v6 = true;
	if (!port_address(a, v6 ? SG_AF_INET6 : SG_AF_INET, &flow.src) ||
			!port_address(b, v6 ? SG_AF_INET6 : SG_AF_INET, &flow.dst))
		return ctl_fail(ctx, "ports \"%s\" and \"%s\" share no %s address family", a->name,
				b->name, v6 ? "IPv6" : "IPv4");
	sg_policy_decide_path(ctx->conf->policy, from, to, &flow, &verdict);
	if (ctx->json) {
		struct sg_json j;

		sg_json_init(&j, ctx->out, true);
		sg_json_object_open(&j, NULL);
		sg_json_string(&j, "from", a->name);
		sg_json_string(&j, "to", b->name);
		json_flow(&j, &flow);
		sg_json_string(&j, "verdict", sg_action_name(verdict.action));
		sg_json_object_open(&j, "egress");
		sg_json_string(&j, "port", a->name);
		json_verdict(ctx, &j, &verdict.egress);
		sg_json_object_close(&j);
		sg_json_object_open(&j, "ingress");
		sg_json_string(&j, "port", b->name);
		json_verdict(ctx, &j, &verdict.ingress);
		sg_json_object_close(&j);
		sg_json_object_close(&j);
		sg_json_finish(&j);
		return explain_exit(verdict.action);
	}
	fprintf(ctx->out, "%s -> %s: %s\n", a->name, b->name, format_flow(&flow, text, sizeof(text)));
	snprintf(text, sizeof(text), "  %s egress:  ", a->name);
	verdict_text(ctx, text, &verdict.egress);
	snprintf(text, sizeof(text), "  %s ingress: ", b->name);
	verdict_text(ctx, text, &verdict.ingress);
	fprintf(ctx->out, "  verdict: %s\n", sg_action_name(verdict.action));
	return explain_exit(verdict.action);
}

int
sg_ctl_explain(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[2], "to") == 0)
		return explain_path(ctx, argc, argv);
	return explain_port(ctx, argc, argv);
}

static uint32_t
count_rules(const struct sg_spec *spec)
{
	uint32_t n = 0;

	for (uint32_t g = 0; g < spec->n_groups; g++)
		n += spec->groups[g].n_rules;
	return n;
}

int
sg_ctl_check(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	const struct sg_spec *spec = sg_policy_spec(ctx->conf->policy);
	uint32_t uplinks = ctx->conf->n_ports - spec->n_ports;
	struct stat st;

	(void)argv;
	if (argc != 1)
		return ctl_usage_error(ctx, "check takes no arguments");
	/* Offline, what sgfw would refuse at start: a control.socket path that is not a socket. */
	if (ctx->port_state == NULL && ctx->conf->control_socket[0] != '\0' &&
			lstat(ctx->conf->control_socket, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		char msg[SG_PATH_MAX + 128];

		snprintf(msg, sizeof(msg),
				"control.socket %s exists and is not a socket; sgfw would "
				"refuse to start (it removes only a socket)",
				ctx->conf->control_socket);
		if (ctx->json) {
			struct sg_json j;

			sg_json_init(&j, ctx->out, true);
			sg_json_object_open(&j, NULL);
			sg_json_bool(&j, "ok", false);
			sg_json_string(&j, "error", msg);
			sg_json_object_close(&j);
			sg_json_finish(&j);
		}
		fprintf(ctx->err, "error: %s\n", msg);
		return SG_CTL_EXIT_FAIL;
	}
	if (ctx->json) {
		struct sg_json j;

		sg_json_init(&j, ctx->out, true);
		sg_json_object_open(&j, NULL);
		sg_json_bool(&j, "ok", true);
		sg_json_string(&j, "config", ctx->conf->path);
		sg_json_uint(&j, "security_groups", spec->n_groups);
		sg_json_uint(&j, "rules", count_rules(spec));
		sg_json_uint(&j, "ports", spec->n_ports);
		sg_json_uint(&j, "uplinks", uplinks);
		sg_json_uint(&j, "prefix_lists", spec->n_prefix_lists);
		sg_json_object_close(&j);
		sg_json_finish(&j);
		return SG_CTL_EXIT_OK;
	}
	fprintf(ctx->out, "%s: OK: %u security groups, %u rules, %u ports, %u uplink%s, %u prefix lists\n",
			ctx->conf->path, spec->n_groups, count_rules(spec), spec->n_ports, uplinks,
			uplinks == 1 ? "" : "s", spec->n_prefix_lists);
	return SG_CTL_EXIT_OK;
}

/* The ports table, or one port's row ('only'; its JSON an object rather than an array). */
static int
ports_view(struct sg_ctl_ctx *ctx, const char *only)
{
	const struct sg_spec *spec = sg_policy_spec(ctx->conf->policy);
	struct sg_json j;
	char buf[SG_PREFIX_STRLEN];

	if (only != NULL && sg_conf_find_port(ctx->conf, only) == NULL)
		return ctl_fail(ctx, "no port named \"%s\"", only);
	if (ctx->json) {
		sg_json_init(&j, ctx->out, true);
		if (only == NULL)
			sg_json_array_open(&j, NULL);
	} else {
		if (ctx->port_state != NULL)
			fprintf(ctx->out, "%-5s %12s %12s %10s ", "LINK", "RX_PACKETS", "TX_PACKETS",
					"DROPS");
		fprintf(ctx->out, "%-16s %-10s %-8s %-17s %-30s %s\n", "PORT", "KIND", "ROLE", "MAC",
				"IPS", "GROUPS");
	}
	for (uint32_t i = 0; i < ctx->conf->n_ports; i++) {
		const struct sg_conf_port *dev = &ctx->conf->ports[i];
		int p = sg_policy_find_port(ctx->conf->policy, dev->name);
		const struct sg_spec_port *port = p >= 0 ? &spec->ports[p] : NULL;
		const uint32_t *groups = NULL;
		uint32_t n_groups = p >= 0 ? sg_policy_port_groups(ctx->conf->policy, (uint32_t)p, &groups) : 0;

		struct sg_ctl_port_state st = {0};
		bool live;

		if (only != NULL && strcmp(only, dev->name) != 0)
			continue;
		live = ctx->port_state != NULL &&
		       ctx->port_state(ctx->state_arg, dev->name, &st) == 0;

		if (ctx->json) {
			sg_json_object_open(&j, NULL);
			sg_json_string(&j, "name", dev->name);
			if (live) {
				sg_json_bool(&j, "link_up", st.link_up);
				sg_json_uint(&j, "rx_packets", st.rx_packets);
				sg_json_uint(&j, "tx_packets", st.tx_packets);
				sg_json_uint(&j, "drops", st.drops);
			}
			sg_json_string(&j, "kind", sg_port_kind_name(dev->kind));
			sg_json_string(&j, "role", dev->uplink ? "uplink" : "vm");
			sg_json_string(&j, "device", dev->path);
			if (dev->host[0] != '\0') {
				sg_json_string(&j, "host", dev->host);
				sg_json_bool(&j, "remote", dev->remote);
			}
			if (dev->description[0] != '\0')
				sg_json_string(&j, "description", dev->description);
			if (port != NULL) {
				sg_json_string(&j, "mac", sg_mac_format(port->mac, buf, sizeof(buf)));
				sg_json_string(&j, "group_type",
						sg_group_type_name(sg_policy_port_type(ctx->conf->policy, (uint32_t)p)));
				sg_json_array_open(&j, "ips");
				for (uint32_t k = 0; k < port->n_ips; k++)
					sg_json_string(&j, NULL, sg_ip_format(&port->ips[k], buf, sizeof(buf)));
				sg_json_array_close(&j);
				if (port->n_prefixes > 0)
					json_prefixes(&j, "allowed_prefixes", port->prefixes,
							port->n_prefixes);
				sg_json_array_open(&j, "groups");
				for (uint32_t k = 0; k < n_groups; k++)
					sg_json_string(&j, NULL, spec->groups[groups[k]].id);
				sg_json_array_close(&j);
			}
			sg_json_object_close(&j);
			continue;
		}
		if (live)
			fprintf(ctx->out, "%-5s %12lu %12lu %10lu ", st.link_up ? "up" : "down",
					st.rx_packets, st.tx_packets, st.drops);
		else if (ctx->port_state != NULL)
			/* No device here (a port of another host): nothing to count. */
			fprintf(ctx->out, "%-5s %12s %12s %10s ", "-", "-", "-", "-");
		/* A port of another host has no device here: its kind says so. */
		fprintf(ctx->out, "%-16s %-10s %-8s %-17s ", dev->name,
				dev->remote ? "remote" : sg_port_kind_name(dev->kind),
				dev->uplink ? "uplink" : "vm",
				port != NULL ? sg_mac_format(port->mac, buf, sizeof(buf)) : "-");
		{
			char ips[256] = "-";
			size_t used = 0;

			for (uint32_t k = 0; port != NULL && k < port->n_ips && used < sizeof(ips); k++)
				used += (size_t)snprintf(ips + used, sizeof(ips) - used, "%s%s", k ? "," : "",
						sg_ip_format(&port->ips[k], buf, sizeof(buf)));
			/* Allowed prefixes follow the addresses, as CIDRs. */
			for (uint32_t k = 0; port != NULL && k < port->n_prefixes; k++)
				if (used < sizeof(ips))
					used += (size_t)snprintf(ips + used, sizeof(ips) - used,
							"%s%s", used ? "," : "",
							sg_prefix_format(&port->prefixes[k], buf,
									sizeof(buf)));
			fprintf(ctx->out, "%-30s ", ips);
		}
		if (port != NULL)
			print_groups_of(ctx, (uint32_t)p);
		else
			fputc('-', ctx->out);
		fputc('\n', ctx->out);
	}
	if (ctx->json) {
		if (only == NULL)
			sg_json_array_close(&j);
		sg_json_finish(&j);
	}
	return SG_CTL_EXIT_OK;
}

int
sg_ctl_ports(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return ctl_usage_error(ctx, "ports takes no arguments");
	return ports_view(ctx, NULL);
}

int
sg_ctl_port_show(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	if (argc != 3)
		return ctl_usage_error(ctx, "port show PORT");
	return ports_view(ctx, argv[2]);
}

/* A group's fields after its id, as groups and group show give them ('count': the number of
 * rules too, where the rules themselves are not listed). */
static void
json_group_fields(struct sg_json *j, const struct sg_group *group, bool count,
		const struct sg_spec *spec, const uint32_t *members, uint32_t n)
{
	sg_json_string(j, "type", sg_group_type_name(group->type));
	sg_json_string(j, "inner_access_policy", sg_action_name(group->inner_access));
	if (count)
		sg_json_uint(j, "rules", group->n_rules);
	if (group->description[0] != '\0')
		sg_json_string(j, "description", group->description);
	sg_json_array_open(j, "tags");
	for (uint32_t k = 0; k < group->n_tags; k++)
		sg_json_string(j, NULL, group->tags[k]);
	sg_json_array_close(j);
	sg_json_array_open(j, "members");
	for (uint32_t k = 0; k < n; k++)
		sg_json_string(j, NULL, spec->ports[members[k]].name);
	sg_json_array_close(j);
}

int
sg_ctl_groups(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	const struct sg_spec *spec = sg_policy_spec(ctx->conf->policy);
	struct sg_json j;

	(void)argv;
	if (argc != 1)
		return ctl_usage_error(ctx, "groups takes no arguments");
	if (ctx->json) {
		sg_json_init(&j, ctx->out, true);
		sg_json_array_open(&j, NULL);
	} else {
		fprintf(ctx->out, "%-20s %-10s %-6s %-5s %-24s %s\n", "GROUP", "TYPE", "INNER", "RULES",
				"TAGS", "MEMBERS");
	}
	for (uint32_t g = 0; g < spec->n_groups; g++) {
		const struct sg_group *group = &spec->groups[g];
		const uint32_t *members;
		uint32_t n = sg_policy_group_members(ctx->conf->policy, g, &members);

		if (ctx->json) {
			sg_json_object_open(&j, NULL);
			sg_json_string(&j, "id", group->id);
			json_group_fields(&j, group, true, spec, members, n);
			sg_json_object_close(&j);
			continue;
		}
		{
			char tags[128] = "-", list[256] = "-";
			size_t used = 0;

			for (uint32_t k = 0; k < group->n_tags && used < sizeof(tags); k++)
				used += (size_t)snprintf(tags + used, sizeof(tags) - used, "%s%s", k ? "," : "",
						group->tags[k]);
			used = 0;
			for (uint32_t k = 0; k < n && used < sizeof(list); k++)
				used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", k ? "," : "",
						spec->ports[members[k]].name);
			fprintf(ctx->out, "%-20s %-10s %-6s %-5u %-24s %s\n", group->id,
					sg_group_type_name(group->type), sg_action_name(group->inner_access),
					group->n_rules, tags, list);
		}
	}
	if (ctx->json) {
		sg_json_array_close(&j);
		sg_json_finish(&j);
	}
	return SG_CTL_EXIT_OK;
}

/* A rule of the config as written, with the 1-based index rule remove and replace take. */
static void
json_spec_rule(struct sg_ctl_ctx *ctx, struct sg_json *j, const struct sg_rule *rule,
		uint32_t index)
{
	char *text = NULL, buf[SG_PREFIX_STRLEN];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f != NULL) {
		sg_conf_write_rule(f, rule);
		fclose(f);
	}
	sg_json_object_open(j, NULL);
	sg_json_uint(j, "index", index);
	sg_json_string(j, "direction", sg_dir_name(rule->dir));
	sg_json_string(j, "policy", sg_action_name(rule->action));
	sg_json_uint(j, "priority", rule->priority);
	sg_json_string(j, "protocol", sg_proto_name(rule->proto, buf, sizeof(buf)));
	if (rule->description[0] != '\0')
		sg_json_string(j, "description", rule->description);
	sg_json_string(j, "config", text != NULL ? text : "");
	if (SG_LOC_LINE(rule->line) > 0) {
		sg_json_string(j, "file", sg_conf_source(ctx->conf, rule->line));
		sg_json_uint(j, "line", (uint64_t)SG_LOC_LINE(rule->line));
	}
	sg_json_object_close(j);
	free(text);
}

/* The rules of a group as the config writes them, each after its index. */
static void
rules_text(struct sg_ctl_ctx *ctx, const struct sg_group *group)
{
	fprintf(ctx->out, "%-5s %s\n", "INDEX", "RULE");
	for (uint32_t r = 0; r < group->n_rules; r++) {
		fprintf(ctx->out, "%-5u ", r + 1);
		sg_conf_write_rule(ctx->out, &group->rules[r]);
		fputc('\n', ctx->out);
	}
}

/* "group show ID" (members, tags and rules) or "rule list GROUP" (the rules only). */
static int
group_view(struct sg_ctl_ctx *ctx, const char *id, bool whole)
{
	const struct sg_spec *written = ctx->conf->spec, *spec = sg_policy_spec(ctx->conf->policy);
	int g = sg_spec_find_group(written, id), compiled = sg_spec_find_group(spec, id);
	const struct sg_group *group;
	const uint32_t *members = NULL;
	uint32_t n = 0;

	if (g < 0)
		return ctl_fail(ctx, "no security group \"%s\"", id);
	group = &written->groups[g];
	if (compiled >= 0)
		n = sg_policy_group_members(ctx->conf->policy, (uint32_t)compiled, &members);
	if (ctx->json) {
		struct sg_json j;

		sg_json_init(&j, ctx->out, true);
		sg_json_object_open(&j, NULL);
		sg_json_string(&j, "id", group->id);
		if (whole)
			json_group_fields(&j, group, false, spec, members, n);
		sg_json_array_open(&j, "rules");
		for (uint32_t r = 0; r < group->n_rules; r++)
			json_spec_rule(ctx, &j, &group->rules[r], r + 1);
		sg_json_array_close(&j);
		sg_json_object_close(&j);
		sg_json_finish(&j);
		return SG_CTL_EXIT_OK;
	}
	if (whole) {
		fprintf(ctx->out, "group %s: %s, inner access %s, %u rules\n", group->id,
				sg_group_type_name(group->type),
				sg_action_name(group->inner_access), group->n_rules);
		if (group->description[0] != '\0')
			fprintf(ctx->out, "  description %s\n", group->description);
		fputs("  tags", ctx->out);
		for (uint32_t k = 0; k < group->n_tags; k++)
			fprintf(ctx->out, "%s%s", k ? "," : " ", group->tags[k]);
		fputs(group->n_tags ? "\n  members" : " -\n  members", ctx->out);
		for (uint32_t k = 0; k < n; k++)
			fprintf(ctx->out, "%s%s", k ? "," : " ", spec->ports[members[k]].name);
		fputs(n ? "\n" : " -\n", ctx->out);
	}
	rules_text(ctx, group);
	return SG_CTL_EXIT_OK;
}

int
sg_ctl_group_show(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	if (argc != 3)
		return ctl_usage_error(ctx, "group show ID");
	return group_view(ctx, argv[2], true);
}

int
sg_ctl_rule_list(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	if (argc != 3)
		return ctl_usage_error(ctx, "rule list GROUP");
	return group_view(ctx, argv[2], false);
}

int
sg_ctl_version(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return ctl_usage_error(ctx, "version takes no arguments");
	if (ctx->json) {
		struct sg_json j;
		char api[16];

		snprintf(api, sizeof(api), "%d.%d", SG_CTL_API_MAJOR, SG_CTL_API_MINOR);
		sg_json_init(&j, ctx->out, true);
		sg_json_object_open(&j, NULL);
		sg_json_string(&j, "version", SG_VERSION);
		sg_json_string(&j, "api_version", api);
		sg_json_uint(&j, "api_major", SG_CTL_API_MAJOR);
		sg_json_uint(&j, "api_minor", SG_CTL_API_MINOR);
		sg_json_bool(&j, "online", ctx->online);
		sg_json_object_close(&j);
		sg_json_finish(&j);
	} else {
		fprintf(ctx->out, "sgfw %s, API %d.%d\n", SG_VERSION, SG_CTL_API_MAJOR,
				SG_CTL_API_MINOR);
	}
	return SG_CTL_EXIT_OK;
}

int
sg_ctl_methods(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	struct sg_json j;

	(void)argv;
	if (argc != 1)
		return ctl_usage_error(ctx, "methods takes no arguments");
	if (!ctx->json) {
		sg_ctl_usage(ctx->out);
		return SG_CTL_EXIT_OK;
	}
	sg_json_init(&j, ctx->out, true);
	sg_json_array_open(&j, NULL);
	for (size_t i = 0; i < SG_CTL_CMD_COUNT; i++) {
		const struct sg_ctl_command *c = &sg_ctl_commands[i];

		if (c->flags & SG_CTL_HIDDEN)
			continue;
		sg_json_object_open(&j, NULL);
		sg_json_string(&j, "method", c->method);
		sg_json_string(&j, "words", c->words);
		sg_json_string(&j, "args", c->args);
		sg_json_string(&j, "help", c->help);
		sg_json_bool(&j, "offline", c->flags & SG_CTL_OFFLINE);
		sg_json_bool(&j, "online", c->flags & SG_CTL_ONLINE);
		sg_json_bool(&j, "changes_config", c->flags & SG_CTL_CHANGE);
		sg_json_bool(&j, "etcd", c->flags & SG_CTL_ETCD);
		sg_json_bool(&j, "streams", c->flags & SG_CTL_STREAM);
		sg_json_object_close(&j);
	}
	sg_json_array_close(&j);
	sg_json_finish(&j);
	return SG_CTL_EXIT_OK;
}

int
sg_ctl_run(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	const struct sg_ctl_command *cmd;
	int used;

	if (argc < 1)
		return ctl_usage_error(ctx, "no command given");
	cmd = sg_ctl_find_words(argc, argv, &used);
	if (cmd == NULL || cmd->run == NULL) {
		fprintf(ctx->err, "usage error: unknown command \"%s\"\n", argv[0]);
		sg_ctl_usage(ctx->err);
		return SG_CTL_EXIT_USAGE;
	}
	return cmd->run(ctx, argc, argv);
}
