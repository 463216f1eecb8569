/* SPDX-License-Identifier: BSD-3-Clause */
/* The command table: every sgfwctl command and API method once, with its usage, help, where it
 * runs and whether it changes the config. Dispatch (sgfwctl and the daemon), the usage text, the
 * "methods" method, shell completion and docs/sgfwctl.md's table all come from it. */
#include <string.h>

#include "sg_ctl.h"

#define BOTH   (SG_CTL_OFFLINE | SG_CTL_ONLINE)
#define CHANGE (BOTH | SG_CTL_CHANGE)

const struct sg_ctl_command sg_ctl_commands[SG_CTL_CMD_COUNT] = {
		{SG_CTL_CMD_CHECK, "check", "check", "", "validate the config", BOTH, sg_ctl_check},
		{SG_CTL_CMD_PORTS, "ports", "ports", "", "ports, devices, addresses and groups",
				BOTH, sg_ctl_ports},
		{SG_CTL_CMD_GROUPS, "groups", "groups", "", "security groups and their members",
				BOTH, sg_ctl_groups},
		{SG_CTL_CMD_EFFECTIVE, "effective", "effective", "PORT [ingress|egress]",
				"the combined rules of a port", BOTH, sg_ctl_effective},
		{SG_CTL_CMD_EXPLAIN, "explain", "explain",
				"PORT ingress|egress PROTO SRC[:PORT] DST[:PORT] [--icmp-type N] "
				"[--icmp-code N] | FROM to TO PROTO [DST_PORT] [--ipv6]",
				"verdict and deciding rule of a flow, or of both checks between "
				"two ports "
				"(exit 3: dropped)",
				BOTH, sg_ctl_explain},
		{SG_CTL_CMD_AUDIT, "audit", "audit",
				"[--flow-logs DIR|FILE] [--log-format F] [--eni ENI=PORT]... "
				"[--eni-map FILE] [--config-only] [--output DIR]",
				"unused, wide, shadowed, redundant rules and a tightened config "
				"(as a diff)",
				BOTH, sg_ctl_audit},
		{SG_CTL_CMD_GROUP_SHOW, "group.show", "group show", "ID",
				"a security group and its rules with their indexes", BOTH,
				sg_ctl_group_show},
		{SG_CTL_CMD_RULE_LIST, "rule.list", "rule list", "GROUP",
				"the rules of a group with the indexes rule remove takes", BOTH,
				sg_ctl_rule_list},
		{SG_CTL_CMD_PORT_SHOW, "port.show", "port show", "PORT",
				"a port: device, addresses, groups (and live counters online)",
				BOTH, sg_ctl_port_show},
		{SG_CTL_CMD_GROUP_CREATE, "group.create", "group create",
				"ID [type=basic|enterprise] [inner_access_policy=accept|drop] "
				"[description=TEXT] [tags=T1,T2]",
				"create a security group", CHANGE, NULL},
		{SG_CTL_CMD_GROUP_DELETE, "group.delete", "group delete", "ID",
				"delete a security group no port uses", CHANGE, NULL},
		{SG_CTL_CMD_GROUP_SET, "group.set", "group set", "ID field=value...",
				"change a group's fields", CHANGE, NULL},
		{SG_CTL_CMD_GROUP_TAG, "group.tag", "group tag", "ID add|remove TAG",
				"add or remove a group's tag", CHANGE, NULL},
		{SG_CTL_CMD_RULE_ADD, "rule.add", "rule add", "GROUP field=value...",
				"add a rule (fields as in the config file)", CHANGE, NULL},
		{SG_CTL_CMD_RULE_REMOVE, "rule.remove", "rule remove", "GROUP INDEX",
				"remove a rule (INDEX as rule list shows)", CHANGE, NULL},
		{SG_CTL_CMD_RULE_REPLACE, "rule.replace", "rule replace",
				"GROUP INDEX field=value...", "replace a rule", CHANGE, NULL},
		{SG_CTL_CMD_PORT_ATTACH, "port.attach", "port attach", "PORT GROUP",
				"attach a group to a port", CHANGE, NULL},
		{SG_CTL_CMD_PORT_DETACH, "port.detach", "port detach", "PORT GROUP",
				"detach a group from a port", CHANGE, NULL},
		{SG_CTL_CMD_PORT_TAG, "port.tag", "port tag", "PORT add|remove TAG",
				"add or remove a port's tag", CHANGE, NULL},
		{SG_CTL_CMD_PORT_MOVE, "port.move", "port move", "PORT HOST",
				"move a VM port to another host of the fleet (its VM migrated)",
				CHANGE, NULL},
		{SG_CTL_CMD_PORT_ADD, "port.add", "port add",
				"name=NAME [type=...] field=value... (ips=A,B tags=T "
				"security_groups=G1,G2)",
				"add a port", CHANGE, NULL},
		{SG_CTL_CMD_PORT_REMOVE, "port.remove", "port remove", "PORT", "remove a port",
				CHANGE, NULL},
		{SG_CTL_CMD_ATTACH_BY_TAG, "attach-by-tag", "attach-by-tag", "TAG GROUP",
				"GROUP takes TAG: ports with it attach", CHANGE, NULL},
		/* The families' one-word forms: a wrong subcommand gets the family's usage. */
		{SG_CTL_CMD_GROUP, "group", "group", "SUBCOMMAND ...", "", CHANGE | SG_CTL_HIDDEN,
				NULL},
		{SG_CTL_CMD_RULE, "rule", "rule", "SUBCOMMAND ...", "", CHANGE | SG_CTL_HIDDEN,
				NULL},
		{SG_CTL_CMD_PORT, "port", "port", "SUBCOMMAND ...", "", CHANGE | SG_CTL_HIDDEN,
				NULL},
		/* Run by sgfwctl on the file itself (sg_ctl_alibaba()), not through the API. */
		{SG_CTL_CMD_IMPORT_ALIBABA, "import.alibaba", "import alibaba", "FILE...",
				"merge Alibaba Cloud's security-group JSON into the config file",
				SG_CTL_OFFLINE | SG_CTL_CHANGE, sg_ctl_file_only},
		{SG_CTL_CMD_EXPORT_ALIBABA, "export.alibaba", "export alibaba", "[GROUP]",
				"a group (or all) as Alibaba Cloud's JSON", SG_CTL_OFFLINE,
				sg_ctl_file_only},
		/* Run by sgfwctl on the fleet in etcd (sg_ctl_etcd_run()), not through the API. */
		{SG_CTL_CMD_CLUSTER_STATUS, "cluster.status", "cluster status", "",
				"each node's applied etcd revision, lag, state and age (--etcd)",
				SG_CTL_ETCD, sg_ctl_etcd_only},
		{SG_CTL_CMD_CLUSTER_IMPORT, "cluster.import", "cluster import", "FILE",
				"make the fleet in etcd the file's groups, prefix lists, subnets and "
				"ports (--etcd, one transaction)",
				SG_CTL_ETCD | SG_CTL_CHANGE, sg_ctl_etcd_only},
		{SG_CTL_CMD_CLUSTER_EXPORT, "cluster.export", "cluster export", "",
				"the fleet in etcd as config sections (--etcd)", SG_CTL_ETCD,
				sg_ctl_etcd_only},
		{SG_CTL_CMD_STATUS, "status", "status", "", "version, uptime, config",
				SG_CTL_ONLINE, sg_ctl_online_only},
		{SG_CTL_CMD_STATS, "stats", "stats", "[PORT]",
				"counters: packets, drops by reason, rule hits", SG_CTL_ONLINE,
				sg_ctl_online_only},
		{SG_CTL_CMD_RELOAD, "reload", "reload", "",
				"apply the config file again (all or nothing)",
				SG_CTL_ONLINE | SG_CTL_CHANGE, sg_ctl_online_only},
		{SG_CTL_CMD_SAVE, "save", "save", "", "write the running config to its file",
				SG_CTL_ONLINE | SG_CTL_CHANGE, sg_ctl_online_only},
		{SG_CTL_CMD_CT, "ct", "ct",
				"[count] [port=P] [addr=IP] [proto=P] [state=S] [limit=N]",
				"tracked connections, or counts by state", SG_CTL_ONLINE,
				sg_ctl_online_only},
		{SG_CTL_CMD_FLOWLOGS, "flowlogs", "flowlogs", "",
				"flow logging: directory, file, counters", SG_CTL_ONLINE,
				sg_ctl_online_only},
		{SG_CTL_CMD_LOG, "log", "log", "[level TYPE LEVEL]",
				"log types and levels; set one (a glob)", SG_CTL_ONLINE,
				sg_ctl_online_only},
		{SG_CTL_CMD_CAPTURE, "capture", "capture",
				"PORT [--count N] [--filter EXPR] [--passed] [--snaplen N] -w FILE",
				"the port's packets as pcapng (--passed: what sgfw sends to it, "
				"after the "
				"firewall)",
				SG_CTL_ONLINE | SG_CTL_STREAM, sg_ctl_online_only},
		{SG_CTL_CMD_VERSION, "version", "version", "", "sgfw's version and the API's", BOTH,
				sg_ctl_version},
		{SG_CTL_CMD_METHODS, "methods", "methods", "",
				"every command: method, words, arguments, help, where it runs",
				BOTH, sg_ctl_methods},
};

const struct sg_ctl_command *
sg_ctl_find_method(const char *method)
{
	for (size_t i = 0; i < SG_CTL_CMD_COUNT; i++)
		if (strcmp(sg_ctl_commands[i].method, method) == 0)
			return &sg_ctl_commands[i];
	return NULL;
}

const struct sg_ctl_command *
sg_ctl_find_words(int argc, char *const *argv, int *used)
{
	const struct sg_ctl_command *one = NULL;
	size_t len;

	if (argc < 1)
		return NULL;
	len = strlen(argv[0]);
	for (size_t i = 0; i < SG_CTL_CMD_COUNT; i++) {
		const char *w = sg_ctl_commands[i].words;

		if (strcmp(w, argv[0]) == 0)
			one = &sg_ctl_commands[i];
		else if (argc > 1 && strncmp(w, argv[0], len) == 0 && w[len] == ' ' &&
				strcmp(w + len + 1, argv[1]) == 0) {
			*used = 2;
			return &sg_ctl_commands[i];
		}
	}
	*used = 1;
	return one;
}

bool
sg_ctl_is_change(int argc, char *const *argv)
{
	int used;
	const struct sg_ctl_command *cmd = sg_ctl_find_words(argc, argv, &used);

	return cmd != NULL && (cmd->flags & SG_CTL_CHANGE) && (cmd->flags & SG_CTL_OFFLINE);
}

static void
usage_section(FILE *out, const char *title, unsigned int want, unsigned int mask)
{
	fprintf(out, "%s\n", title);
	for (size_t i = 0; i < SG_CTL_CMD_COUNT; i++) {
		const struct sg_ctl_command *c = &sg_ctl_commands[i];
		char line[256];

		if ((c->flags & mask) != want || (c->flags & SG_CTL_HIDDEN))
			continue;
		snprintf(line, sizeof(line), "%s%s%s", c->words, c->args[0] ? " " : "", c->args);
		if (strlen(line) <= 40)
			fprintf(out, "  %-40s %s\n", line, c->help);
		else
			fprintf(out, "  %s\n  %-40s %s\n", line, "", c->help);
	}
}

void
sg_ctl_usage(FILE *out)
{
	const unsigned int mask = SG_CTL_OFFLINE | SG_CTL_ONLINE | SG_CTL_CHANGE;

	usage_section(out, "commands:", SG_CTL_OFFLINE | SG_CTL_ONLINE, mask);
	usage_section(out,
			"changes (validated whole; offline they rewrite the file, online the "
			"running "
			"switch):",
			CHANGE, mask);
	usage_section(out, "offline only (-c FILE):", SG_CTL_OFFLINE, mask & ~SG_CTL_CHANGE);
	usage_section(out, "online only:", SG_CTL_ONLINE, mask & ~SG_CTL_CHANGE);
	usage_section(out,
			"on the fleet in etcd (--etcd ENDPOINTS; the changes and views above work "
			"there too):",
			SG_CTL_ETCD, SG_CTL_ETCD | SG_CTL_OFFLINE | SG_CTL_ONLINE);
}

int
sg_ctl_file_only(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	fprintf(ctx->err, "error: \"%s\" works on a config file: run sgfwctl -c FILE\n", argv[0]);
	return SG_CTL_EXIT_USAGE;
}

int
sg_ctl_online_only(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	fprintf(ctx->err, "error: \"%s\" asks the running sgfw: give -s SOCKET\n", argv[0]);
	return SG_CTL_EXIT_USAGE;
}
