/* Writing a config back as libconfig text (the running state, after online changes), and
 * saving it atomically: write a temporary file beside it, fsync, rename, fsync the directory. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sg_conf.h"
#include "sg_log.h"

/* A libconfig string literal: quotes and backslashes escaped. */
static void
put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void
put_names(FILE *out, const char *key, char (*names)[SG_NAME_MAX], uint32_t n)
{
	fprintf(out, " %s = [", key);
	for (uint32_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", out);
		put_string(out, names[i]);
	}
	fputs("];", out);
}

static void
put_range(FILE *out, const char *key, const struct sg_range *r)
{
	/* The canonical "any" (0..65535) is written the way users write it. */
	fprintf(out, " %s = \"%u/%u\";", key, r->lo == 0 && r->hi == UINT16_MAX ? 1 : r->lo, r->hi);
}

static void
write_rule(FILE *out, const struct sg_rule *r)
{
	static const char *const peer_kinds[] = {"", "cidr", "group", "prefix_list"};
	char buf[SG_PREFIX_STRLEN];

	fprintf(out, "      { direction = \"%s\"; policy = \"%s\"; priority = %d;", sg_dir_name(r->dir),
			sg_action_name(r->action), r->priority);
	fprintf(out, " protocol = \"%s\";", sg_proto_name(r->proto, buf, sizeof(buf)));
	if (r->proto == 6 || r->proto == 17) {
		put_range(out, "port_range", &r->dport);
		if (r->sport.lo != 0 || r->sport.hi != UINT16_MAX)
			put_range(out, "source_port_range", &r->sport);
	}
	if (r->icmp_type >= 0)
		fprintf(out, " icmp_type = %d;", r->icmp_type);
	if (r->icmp_code >= 0)
		fprintf(out, " icmp_code = %d;", r->icmp_code);
	fprintf(out, " %s_%s = ", r->peer_is_source ? "source" : "dest", peer_kinds[r->peer_kind]);
	if (r->peer_kind == SG_PEER_CIDR)
		put_string(out, sg_prefix_format(&r->cidr, buf, sizeof(buf)));
	else
		put_string(out, r->peer);
	fputc(';', out);
	if (r->description[0] != '\0') {
		fputs(" description = ", out);
		put_string(out, r->description);
		fputc(';', out);
	}
	fputs(" }", out);
}

static void
write_groups(FILE *out, const struct sg_spec *spec)
{
	fputs("security_groups = (\n", out);
	for (uint32_t g = 0; g < spec->n_groups; g++) {
		const struct sg_group *group = &spec->groups[g];

		fputs("  { id = ", out);
		put_string(out, group->id);
		fprintf(out, "; type = \"%s\";", sg_group_type_name(group->type));
		if (group->type == SG_GROUP_BASIC)
			fprintf(out, " inner_access_policy = \"%s\";",
					sg_action_name(group->inner_access));
		if (group->description[0] != '\0') {
			fputs(" description = ", out);
			put_string(out, group->description);
			fputc(';', out);
		}
		if (group->n_tags > 0)
			put_names(out, "tags", group->tags, group->n_tags);
		fputs("\n    rules = (", out);
		for (uint32_t r = 0; r < group->n_rules; r++) {
			fputs(r ? ",\n" : "\n", out);
			write_rule(out, &group->rules[r]);
		}
		fprintf(out, "%s); }%s\n", group->n_rules ? "\n    " : "", g + 1 < spec->n_groups ? "," : "");
	}
	fputs(");\n\n", out);
}

/* socket_owner, socket_group and socket_mode, those that are set. */
static void
write_socket_access(FILE *out, const struct sg_conf_socket_access *a)
{
	if (a->owner[0] != '\0') {
		fputs(" socket_owner = ", out);
		put_string(out, a->owner);
		fputc(';', out);
	}
	if (a->group[0] != '\0') {
		fputs(" socket_group = ", out);
		put_string(out, a->group);
		fputc(';', out);
	}
	if (a->mode != 0)
		fprintf(out, " socket_mode = \"0%03o\";", a->mode);
}

static void
write_port(FILE *out, const struct sg_conf *conf, const struct sg_conf_port *dev)
{
	int p = sg_spec_find_port(conf->spec, dev->name);
	char buf[SG_IP_STRLEN];

	fputs("  { name = ", out);
	put_string(out, dev->name);
	fprintf(out, "; type = \"%s\";", sg_port_kind_name(dev->kind));
	if (dev->uplink) {
		fprintf(out, " role = \"uplink\"; peer_mac = \"%s\";",
				sg_mac_format(dev->peer_mac, buf, sizeof(buf)));
	}
	switch (dev->kind) {
	case SG_PORT_VHOST_USER:
		fputs(" path = ", out);
		put_string(out, dev->path);
		fprintf(out, ";%s", dev->client ? " client = true;" : "");
		break;
	case SG_PORT_AF_PACKET:
		fputs(" iface = ", out);
		put_string(out, dev->path);
		fputc(';', out);
		break;
	case SG_PORT_PCAP:
		fputs(" rx_pcap = ", out);
		put_string(out, dev->path);
		fputc(';', out);
		if (dev->tx_pcap[0] != '\0') {
			fputs(" tx_pcap = ", out);
			put_string(out, dev->tx_pcap);
			fputc(';', out);
		}
		if (dev->infinite_rx)
			fputs(" infinite_rx = true;", out);
		break;
	case SG_PORT_PCI:
		fputs(" pci = ", out);
		put_string(out, dev->path);
		fputc(';', out);
		break;
	default:
		break;
	}
	if (dev->queues != 1)
		fprintf(out, " queues = %u;", dev->queues);
	write_socket_access(out, &dev->socket);
	if (dev->max_connections != 0)
		fprintf(out, " max_connections = %u;", dev->max_connections);
	if (dev->new_connections_per_second != 0)
		fprintf(out, " new_connections_per_second = %u;", dev->new_connections_per_second);
	if (p >= 0) {
		const struct sg_port *port = &conf->spec->ports[p];

		fprintf(out, "\n    mac = \"%s\"; ips = [", sg_mac_format(port->mac, buf, sizeof(buf)));
		for (uint32_t i = 0; i < port->n_ips; i++)
			fprintf(out, "%s\"%s\"", i ? ", " : "", sg_ip_format(&port->ips[i], buf, sizeof(buf)));
		fputs("];", out);
		if (port->n_tags > 0)
			put_names(out, "tags", port->tags, port->n_tags);
		if (port->n_groups > 0)
			put_names(out, "security_groups", port->groups, port->n_groups);
	}
	fputs(" }", out);
}

static void
write_logging(FILE *out, const struct sg_conf_logging *log)
{
	fprintf(out, "logging = { level = \"%s\"; output = \"%s\";", sg_log_level_name(log->level),
			log->output == SG_LOG_OUTPUT_SYSLOG ? "syslog" : "stderr");
	if (log->n_levels > 0) {
		fputs("\n  levels = [", out);
		for (uint32_t i = 0; i < log->n_levels; i++) {
			char entry[SG_NAME_MAX + 16];

			snprintf(entry, sizeof(entry), "%s:%s", log->levels[i].pattern,
					sg_log_level_name(log->levels[i].level));
			fputs(i ? ", " : "", out);
			put_string(out, entry);
		}
		fputs("];", out);
	}
	fputs(" };\n\n", out);
}

static void
write_switch(FILE *out, const struct sg_conf *conf)
{
	const struct sg_conf_dataplane *dp = &conf->dataplane;
	const struct sg_conf_conntrack *ct = &conf->conntrack;
	char a[SG_PREFIX_STRLEN], b[SG_IP_STRLEN];

	if (conf->n_subnets > 0) {
		fputs("subnets = (\n", out);
		for (uint32_t i = 0; i < conf->n_subnets; i++)
			fprintf(out, "  { cidr = \"%s\"; gateway = \"%s\"; }%s\n",
					sg_prefix_format(&conf->subnets[i].cidr, a, sizeof(a)),
					sg_ip_format(&conf->subnets[i].gateway, b, sizeof(b)),
					i + 1 < conf->n_subnets ? "," : "");
		fputs(");\n\n", out);
	}
	fprintf(out, "router = { mac = \"%s\"; };\n\n", sg_mac_format(conf->router_mac, b, sizeof(b)));
	fprintf(out, "dataplane = { workers = %u; mbufs = %u; burst = %u; rx_desc = %u; tx_desc = %u;",
			dp->workers, dp->mbufs, dp->burst, dp->rx_desc, dp->tx_desc);
	if (dp->n_eal_args > 0) {
		fputs("\n  eal_args = [", out);
		for (uint32_t i = 0; i < dp->n_eal_args; i++) {
			fputs(i ? ", " : "", out);
			put_string(out, dp->eal_args[i]);
		}
		fputs("];", out);
	}
	fputs("\n  file_prefix = ", out);
	put_string(out, dp->file_prefix);
	fputs("; };\n\n", out);
	fprintf(out, "conntrack = { capacity = %u; tcp_be_liberal = %s; tcp_loose = %s; keep_established = %s;",
			ct->capacity, ct->tcp_be_liberal ? "true" : "false", ct->tcp_loose ? "true" : "false",
			ct->keep_established ? "true" : "false");
	if (ct->port_max_connections != 0)
		fprintf(out, " port_max_connections = %u;", ct->port_max_connections);
	if (ct->port_new_connections_per_second != 0)
		fprintf(out, " port_new_connections_per_second = %u;",
				ct->port_new_connections_per_second);
	if (ct->n_timeouts > 0) {
		fputs("\n  timeouts = {", out);
		for (uint32_t i = 0; i < ct->n_timeouts; i++)
			fprintf(out, " %s = %u;", ct->timeouts[i].name, ct->timeouts[i].value);
		fputs(" };", out);
	}
	fputs(" };\n\n", out);
	fputs("control = { socket = ", out);
	put_string(out, conf->control_socket);
	fprintf(out, "; persist = %s;", conf->control_persist ? "true" : "false");
	if (conf->metrics_port != 0)
		fprintf(out, " metrics_port = %u; metrics_address = \"%s\";", conf->metrics_port,
				conf->metrics_address);
	fputs(" };\n\n", out);
	write_logging(out, &conf->logging);
	fputs("vhost_user = {", out);
	write_socket_access(out, &conf->vhost_user);
	fputs(" };\n", out);
}

int
sg_conf_write(const struct sg_conf *conf, FILE *out)
{
	const struct sg_spec *spec = conf->spec;
	const struct sg_limits *l = &spec->limits;
	char buf[SG_PREFIX_STRLEN];

	fputs("# Written by sgfw: the running configuration.\n\n", out);
	fprintf(out,
			"limits = { groups_per_port = %u; rules_per_group = %u; rules_per_port = %u; "
			"group_peers_per_group = %u; };\n\n",
			l->groups_per_port, l->rules_per_group, l->rules_per_port, l->group_peers_per_group);
	if (spec->n_prefix_lists > 0) {
		fputs("prefix_lists = (\n", out);
		for (uint32_t i = 0; i < spec->n_prefix_lists; i++) {
			const struct sg_prefix_list *list = &spec->prefix_lists[i];

			fputs("  { id = ", out);
			put_string(out, list->id);
			fputs("; entries = [", out);
			for (uint32_t k = 0; k < list->n_entries; k++)
				fprintf(out, "%s\"%s\"", k ? ", " : "",
						sg_prefix_format(&list->entries[k], buf, sizeof(buf)));
			fprintf(out, "]; }%s\n", i + 1 < spec->n_prefix_lists ? "," : "");
		}
		fputs(");\n\n", out);
	}
	write_groups(out, spec);
	fputs("ports = (\n", out);
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		write_port(out, conf, &conf->ports[i]);
		fputs(i + 1 < conf->n_ports ? ",\n" : "\n", out);
	}
	fputs(");\n\n", out);
	write_switch(out, conf);
	return ferror(out) ? -EIO : 0;
}

int
sg_conf_save(const struct sg_conf *conf, const char *path, struct sg_error *err)
{
	char tmp[SG_PATH_MAX + 16], dir[SG_PATH_MAX];
	int fd, rc = 0;
	FILE *out;

	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return sg_error_set(err, 0, "cannot write %s: %s", tmp, strerror(errno)), -errno;
	out = fdopen(fd, "w");
	if (out == NULL) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	if (sg_conf_write(conf, out) < 0 || fflush(out) != 0 || fsync(fileno(out)) != 0)
		rc = -EIO;
	if (fclose(out) != 0 && rc == 0)
		rc = -EIO;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0)
		goto fail;
	/* The rename is durable once the directory entry is. */
	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
fail:
	unlink(tmp);
	return sg_error_set(err, 0, "cannot save the configuration to %s: %s", path, strerror(-rc)), rc;
}
