/* SPDX-License-Identifier: BSD-3-Clause */
/* Writing a config back as libconfig text (the running state, after online changes), and
 * saving it atomically: a temporary file of our own beside it, fsync, rename, fsync the
 * directory.
 *
 * Every field of every section is written, so that loading the text gives the same struct
 * sg_conf (tests/unit/check_conf_roundtrip.c checks it field by field over every config the
 * project has). A new field is one put_*() line in its section here. Rule fields are written
 * when they were given, exactly as given, because what was left out matters to validation. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sg_conf.h"
#include "sg_log.h"

void
sg_conf_put_string(FILE *out, const char *s)
{
	uint32_t cp;
	int n;

	fputc('"', out);
	for (; *s != '\0'; s += n) {
		n = sg_utf8_next(s, &cp);
		if (n == 0)
			n = 1, cp = 0xfffd;
		if (*s == '"' || *s == '\\') {
			fputc('\\', out);
			fputc(*s, out);
		} else if (*s == '\n' || *s == '\t' || *s == '\r' || *s == '\f') {
			fputc('\\', out);
			fputc(*s == '\n' ? 'n' : *s == '\t' ? 't' : *s == '\r' ? 'r' : 'f', out);
		} else if (cp == 0xfffd || sg_char_is_control(cp) || sg_char_is_bidi(cp)) {
			/* libconfig's \xHH is a byte: the text reads back the same, and the file shows
			 * no character that hides or reorders what follows it. */
			for (int i = 0; i < n; i++)
				fprintf(out, "\\x%02x", (unsigned char)s[i]);
		} else {
			fwrite(s, 1, (size_t)n, out);
		}
	}
	fputc('"', out);
}

/* ---- One field: " key = value;" ---- */

static void
put_str(FILE *out, const char *key, const char *value)
{
	fprintf(out, " %s = ", key);
	sg_conf_put_string(out, value);
	fputc(';', out);
}

static void
put_uint(FILE *out, const char *key, uint64_t value)
{
	fprintf(out, " %s = %llu;", key, (unsigned long long)value);
}

static void
put_int(FILE *out, const char *key, long long value)
{
	fprintf(out, " %s = %lld;", key, value);
}

static void
put_bool(FILE *out, const char *key, bool value)
{
	fprintf(out, " %s = %s;", key, value ? "true" : "false");
}

static void
put_mac(FILE *out, const char *key, const uint8_t mac[6])
{
	char buf[SG_MAC_STRLEN];

	put_str(out, key, sg_mac_format(mac, buf, sizeof(buf)));
}

static void
put_names(FILE *out, const char *key, char (*names)[SG_NAME_MAX], uint32_t n)
{
	fprintf(out, " %s = [", key);
	for (uint32_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", out);
		sg_conf_put_string(out, names[i]);
	}
	fputs("];", out);
}

static void
put_range(FILE *out, const char *key, const struct sg_range *r)
{
	char buf[16];

	/* The canonical "any" (0..65535) is written the way users write it. */
	snprintf(buf, sizeof(buf), "%u/%u", r->lo == 0 && r->hi == UINT16_MAX ? 1 : r->lo, r->hi);
	put_str(out, key, buf);
}

/* A section "key = {" or "key = (" on its own line; fields follow, then close_section(). */
static void
open_section(FILE *out, const char *key, char bracket)
{
	fprintf(out, "%s = %c", key, bracket);
}

static void
close_section(FILE *out, char bracket)
{
	fprintf(out, " %c;\n\n", bracket);
}

/* ---- Sections ---- */

void
sg_conf_write_rule(FILE *out, const struct sg_rule *r)
{
	static const char *const peer_kinds[] = {"", "cidr", "group", "prefix_list"};
	char buf[SG_PREFIX_STRLEN], key[32];

	fputc('{', out);
	if (r->fields & SG_RULE_F_DIRECTION)
		put_str(out, "direction", sg_dir_name(r->dir));
	if (r->fields & SG_RULE_F_POLICY)
		put_str(out, "policy", sg_action_name(r->action));
	if (r->fields & SG_RULE_F_PRIORITY)
		put_int(out, "priority", r->priority);
	if (r->fields & SG_RULE_F_PROTOCOL)
		put_str(out, "protocol", sg_proto_name(r->proto, buf, sizeof(buf)));
	if ((r->fields & SG_RULE_F_PORT_RANGE) && r->dport_wildcard)
		put_str(out, "port_range", "-1/-1");
	else if (r->fields & SG_RULE_F_PORT_RANGE)
		put_range(out, "port_range", &r->dport);
	if (r->fields & SG_RULE_F_SOURCE_PORT_RANGE)
		put_range(out, "source_port_range", &r->sport);
	if (r->fields & SG_RULE_F_ICMP_TYPE)
		put_int(out, "icmp_type", r->icmp_type);
	if (r->fields & SG_RULE_F_ICMP_CODE)
		put_int(out, "icmp_code", r->icmp_code);
	if (r->peer_kind != SG_PEER_NONE) {
		snprintf(key, sizeof(key), "%s_%s", r->peer_is_source ? "source" : "dest",
				peer_kinds[r->peer_kind]);
		put_str(out, key, r->peer_kind == SG_PEER_CIDR ?
						  sg_prefix_format(&r->cidr, buf, sizeof(buf)) :
						  r->peer);
	}
	if (r->fields & SG_RULE_F_DESCRIPTION)
		put_str(out, "description", r->description);
	fputs(" }", out);
}

static void
write_limits(FILE *out, const struct sg_limits *l)
{
	open_section(out, "limits", '{');
	put_uint(out, "groups_per_port", l->groups_per_port);
	put_uint(out, "rules_per_group", l->rules_per_group);
	put_uint(out, "rules_per_port", l->rules_per_port);
	put_uint(out, "group_peers_per_group", l->group_peers_per_group);
	close_section(out, '}');
}

static void
write_prefix_lists(FILE *out, const struct sg_spec *spec)
{
	char buf[SG_PREFIX_STRLEN];

	open_section(out, "prefix_lists", '(');
	for (uint32_t i = 0; i < spec->n_prefix_lists; i++) {
		const struct sg_prefix_list *list = &spec->prefix_lists[i];

		fputs(i ? ",\n  {" : "\n  {", out);
		put_str(out, "id", list->id);
		fputs(" entries = [", out);
		for (uint32_t k = 0; k < list->n_entries; k++) {
			fputs(k ? ", " : "", out);
			sg_conf_put_string(out, sg_prefix_format(&list->entries[k], buf, sizeof(buf)));
		}
		fputs("];", out);
		if (list->description[0] != '\0')
			put_str(out, "description", list->description);
		fputs(" }", out);
	}
	close_section(out, ')');
}

static void
write_groups(FILE *out, const struct sg_spec *spec)
{
	open_section(out, "security_groups", '(');
	for (uint32_t g = 0; g < spec->n_groups; g++) {
		const struct sg_group *group = &spec->groups[g];

		fputs(g ? ",\n  {" : "\n  {", out);
		put_str(out, "id", group->id);
		put_str(out, "type", sg_group_type_name(group->type));
		if (group->inner_access_given)
			put_str(out, "inner_access_policy", sg_action_name(group->inner_access));
		if (group->description[0] != '\0')
			put_str(out, "description", group->description);
		if (group->n_tags > 0)
			put_names(out, "tags", group->tags, group->n_tags);
		fputs("\n    rules = (", out);
		for (uint32_t r = 0; r < group->n_rules; r++) {
			fputs(r ? ",\n      " : "\n      ", out);
			sg_conf_write_rule(out, &group->rules[r]);
		}
		fputs(group->n_rules ? "\n    ); }" : "); }", out);
	}
	close_section(out, ')');
}

/* The device field that locates a port of each kind (path, iface, rx_pcap, pci). */
/* socket_owner, socket_group and socket_mode, those that are set (unset ones inherit). */
static void
put_socket_access(FILE *out, const struct sg_conf_socket_access *a)
{
	char mode[8];

	if (a->owner[0] != '\0')
		put_str(out, "socket_owner", a->owner);
	if (a->group[0] != '\0')
		put_str(out, "socket_group", a->group);
	if (a->mode != 0) {
		snprintf(mode, sizeof(mode), "0%03o", a->mode);
		put_str(out, "socket_mode", mode);
	}
}

static const char *const locator[] = {
	[SG_PORT_VHOST_USER] = "path",
	[SG_PORT_AF_PACKET] = "iface",
	[SG_PORT_PCAP] = "rx_pcap",
	[SG_PORT_NULL] = NULL,
	[SG_PORT_RING] = NULL,
	[SG_PORT_PCI] = "pci",
};

/* 'p' is the spec index of 'dev', or -1 for an uplink. */
static void
write_port(FILE *out, const struct sg_conf *conf, const struct sg_conf_port *dev, int p)
{
	char buf[SG_PREFIX_STRLEN];

	fputs("{", out);
	put_str(out, "name", dev->name);
	put_str(out, "type", sg_port_kind_name(dev->kind));
	if (dev->uplink)
		put_str(out, "role", "uplink");
	/* A remote port may have no device path: it opens nothing here. */
	if (locator[dev->kind] != NULL && dev->path[0] != '\0')
		put_str(out, locator[dev->kind], dev->path);
	if (dev->host[0] != '\0')
		put_str(out, "host", dev->host);
	if (dev->tx_pcap[0] != '\0')
		put_str(out, "tx_pcap", dev->tx_pcap);
	if (dev->infinite_rx)
		put_bool(out, "infinite_rx", true);
	if (dev->client)
		put_bool(out, "client", true);
	if (dev->queues != 1)
		put_uint(out, "queues", dev->queues);
	if (dev->max_connections != 0)
		put_uint(out, "max_connections", dev->max_connections);
	if (dev->new_connections_per_second != 0)
		put_uint(out, "new_connections_per_second", dev->new_connections_per_second);
	if (dev->has_peer_mac)
		put_mac(out, "peer_mac", dev->peer_mac);
	if (dev->description[0] != '\0')
		put_str(out, "description", dev->description);
	put_socket_access(out, &dev->socket);
	if (p >= 0) {
		const struct sg_spec_port *port = &conf->spec->ports[p];

		fputs("\n   ", out);
		if (port->has_mac)
			put_mac(out, "mac", port->mac);
		fputs(" ips = [", out);
		for (uint32_t i = 0; i < port->n_ips; i++) {
			fputs(i ? ", " : "", out);
			sg_conf_put_string(out, sg_ip_format(&port->ips[i], buf, sizeof(buf)));
		}
		fputs("];", out);
		if (port->n_prefixes > 0) {
			fputs(" allowed_prefixes = [", out);
			for (uint32_t i = 0; i < port->n_prefixes; i++) {
				fputs(i ? ", " : "", out);
				sg_conf_put_string(out, sg_prefix_format(&port->prefixes[i], buf,
								     sizeof(buf)));
			}
			fputs("];", out);
		}
		if (port->n_tags > 0)
			put_names(out, "tags", port->tags, port->n_tags);
		if (port->n_groups > 0)
			put_names(out, "security_groups", port->groups, port->n_groups);
	}
	fputs(" }", out);
}

static void
write_ports(FILE *out, const struct sg_conf *conf)
{
	open_section(out, "ports", '(');
	for (uint32_t i = 0, sp = 0; i < conf->n_ports; i++) {
		const struct sg_conf_port *dev = &conf->ports[i];
		int p = -1;

		/* Ports and spec ports share their order: a search only on a miss (a fleet has
		 * many ports). */
		if (!dev->uplink) {
			p = sp < conf->spec->n_ports && strcmp(conf->spec->ports[sp].name, dev->name) == 0
					? (int)sp
					: sg_spec_find_port(conf->spec, dev->name);
			if (p >= 0)
				sp = (uint32_t)p + 1;
		}
		fputs(i ? ",\n  " : "\n  ", out);
		write_port(out, conf, dev, p);
	}
	close_section(out, ')');
}

static void
write_network(FILE *out, const struct sg_conf *conf)
{
	char a[SG_PREFIX_STRLEN], b[SG_IP_STRLEN];

	open_section(out, "subnets", '(');
	for (uint32_t i = 0; i < conf->n_subnets; i++) {
		fputs(i ? ",\n  {" : "\n  {", out);
		put_str(out, "cidr", sg_prefix_format(&conf->subnets[i].cidr, a, sizeof(a)));
		put_str(out, "gateway", sg_ip_format(&conf->subnets[i].gateway, b, sizeof(b)));
		if (conf->subnets[i].vni != 0)
			put_uint(out, "vni", conf->subnets[i].vni);
		fputs(" }", out);
	}
	close_section(out, ')');
	open_section(out, "router", '{');
	put_mac(out, "mac", conf->router_mac);
	close_section(out, '}');
}

/* host, hosts and overlay: this node's place in the fleet. */
static void
write_fleet(FILE *out, const struct sg_conf *conf)
{
	char ip[SG_IP_STRLEN];

	if (conf->host[0] != '\0') {
		fputs("host = ", out);
		sg_conf_put_string(out, conf->host);
		fputs(";\n\n", out);
	}
	open_section(out, "hosts", '(');
	for (uint32_t i = 0; i < conf->n_hosts; i++) {
		const struct sg_conf_host *h = &conf->hosts[i];

		fputs(i ? ",\n  {" : "\n  {", out);
		put_str(out, "name", h->name);
		put_str(out, "vtep", sg_ip_format(&h->vtep, ip, sizeof(ip)));
		if (h->has_mac)
			put_mac(out, "mac", h->mac);
		fputs(" }", out);
	}
	close_section(out, ')');
	open_section(out, "overlay", '{');
	put_uint(out, "mtu", conf->overlay.mtu);
	close_section(out, '}');
}

static void
write_dataplane(FILE *out, const struct sg_conf_dataplane *dp)
{
	open_section(out, "dataplane", '{');
	put_uint(out, "workers", dp->workers);
	put_uint(out, "mbufs", dp->mbufs);
	put_uint(out, "burst", dp->burst);
	put_uint(out, "rx_desc", dp->rx_desc);
	put_uint(out, "tx_desc", dp->tx_desc);
	fputs(" eal_args = [", out);
	for (uint32_t i = 0; i < dp->n_eal_args; i++) {
		fputs(i ? ", " : "", out);
		sg_conf_put_string(out, dp->eal_args[i]);
	}
	fputs("];", out);
	put_str(out, "file_prefix", dp->file_prefix);
	put_uint(out, "sleep_max_us", dp->sleep_max_us);
	close_section(out, '}');
}

static void
write_conntrack(FILE *out, const struct sg_conf_conntrack *ct)
{
	open_section(out, "conntrack", '{');
	put_uint(out, "capacity", ct->capacity);
	put_bool(out, "tcp_be_liberal", ct->tcp_be_liberal);
	put_bool(out, "tcp_loose", ct->tcp_loose);
	put_bool(out, "keep_established", ct->keep_established);
	put_uint(out, "port_max_connections", ct->port_max_connections);
	put_uint(out, "port_new_connections_per_second", ct->port_new_connections_per_second);
	put_uint(out, "share_reserve", ct->share_reserve);
	fputs("\n  timeouts = {", out);
	for (uint32_t i = 0; i < ct->n_timeouts; i++)
		put_uint(out, ct->timeouts[i].name, ct->timeouts[i].value);
	fputs(" };", out);
	close_section(out, '}');
}

static void
write_control(FILE *out, const struct sg_conf *conf)
{
	char buf[SG_IP_STRLEN];

	open_section(out, "control", '{');
	put_str(out, "socket", conf->control_socket);
	put_str(out, "group", conf->control_group);
	put_bool(out, "persist", conf->control_persist);
	put_uint(out, "metrics_port", conf->metrics_port);
	/* An empty list is the default (127.0.0.1 and ::1). */
	fputs(" metrics_address = [", out);
	for (uint32_t i = 0; i < conf->n_metrics_address; i++) {
		fputs(i ? ", " : "", out);
		sg_conf_put_string(out, sg_ip_format(&conf->metrics_address[i], buf, sizeof(buf)));
	}
	fputs("];", out);
	close_section(out, '}');
}

static void
put_flowlog_sels(FILE *out, const char *key, const char *name_key,
		const struct sg_conf_flowlog_sel *sels, uint32_t n)
{
	fprintf(out, "\n  %s = (", key);
	for (uint32_t i = 0; i < n; i++) {
		fputs(i ? ", {" : " {", out);
		put_str(out, name_key, sels[i].name);
		put_str(out, "traffic", sg_conf_flowlog_traffic_name(sels[i].traffic));
		fputs(" }", out);
	}
	fputs(" );", out);
}

static void
write_flow_logs(FILE *out, const struct sg_conf_flowlog *fl)
{
	open_section(out, "flow_logs", '{');
	put_bool(out, "enabled", fl->enabled);
	put_str(out, "directory", fl->directory);
	put_uint(out, "window", fl->window);
	put_str(out, "format", sg_conf_flowlog_format_name(fl->format));
	put_uint(out, "max_file_mb", fl->max_file_mb);
	put_uint(out, "max_file_age", fl->max_file_age);
	put_uint(out, "ring_size", fl->ring_size);
	put_uint(out, "max_flows", fl->max_flows);
	put_uint(out, "port_max_flows", fl->port_max_flows);
	put_uint(out, "port_events_per_second", fl->port_events_per_second);
	put_str(out, "traffic", sg_conf_flowlog_traffic_name(fl->traffic));
	put_flowlog_sels(out, "groups", "id", fl->groups, fl->n_groups);
	put_flowlog_sels(out, "ports", "name", fl->ports, fl->n_ports);
	close_section(out, '}');
}

static void
write_logging(FILE *out, const struct sg_conf_logging *log)
{
	open_section(out, "logging", '{');
	put_str(out, "level", sg_log_level_name(log->level));
	put_str(out, "output", log->output == SG_LOG_OUTPUT_SYSLOG ? "syslog" : "stderr");
	fputs(" levels = [", out);
	for (uint32_t i = 0; i < log->n_levels; i++) {
		char entry[SG_NAME_MAX + 16];

		snprintf(entry, sizeof(entry), "%s:%s", log->levels[i].pattern,
				sg_log_level_name(log->levels[i].level));
		fputs(i ? ", " : "", out);
		sg_conf_put_string(out, entry);
	}
	fputs("];", out);
	close_section(out, '}');
}

/* Written only for a cluster node: a standalone sgfw has no cluster section. */
static void
write_cluster(FILE *out, const struct sg_conf_cluster *c)
{
	open_section(out, "cluster", '{');
	fputs(" endpoints = [", out);
	for (uint32_t i = 0; i < c->n_endpoints; i++) {
		fputs(i ? ", " : "", out);
		sg_conf_put_string(out, c->endpoints[i]);
	}
	fputs("];", out);
	put_str(out, "prefix", c->prefix);
	put_str(out, "state_file", c->state_file);
	if (c->ca_file[0] != '\0')
		put_str(out, "ca_file", c->ca_file);
	if (c->cert_file[0] != '\0')
		put_str(out, "cert_file", c->cert_file);
	if (c->key_file[0] != '\0')
		put_str(out, "key_file", c->key_file);
	put_uint(out, "timeout_ms", c->timeout_ms);
	put_uint(out, "lease_ttl", c->lease_ttl);
	close_section(out, '}');
}

int
sg_conf_write(const struct sg_conf *conf, FILE *out)
{
	fputs("# Written by sgfw: the running configuration.\n\n", out);
	write_fleet(out, conf);
	write_limits(out, &conf->spec->limits);
	write_prefix_lists(out, conf->spec);
	write_groups(out, conf->spec);
	write_ports(out, conf);
	write_network(out, conf);
	write_dataplane(out, &conf->dataplane);
	write_conntrack(out, &conf->conntrack);
	write_control(out, conf);
	write_flow_logs(out, &conf->flow_logs);
	write_logging(out, &conf->logging);
	open_section(out, "vhost_user", '{');
	put_socket_access(out, &conf->vhost_user);
	close_section(out, '}');
	if (conf->cluster.n_endpoints > 0)
		write_cluster(out, &conf->cluster);
	return ferror(out) ? -EIO : 0;
}

int
sg_conf_save(const struct sg_conf *conf, const char *path, struct sg_error *err)
{
	char tmp[SG_PATH_MAX + 16];
	struct stat st;
	bool exists = lstat(path, &st) == 0;
	int fd, rc = 0;
	FILE *out;

	/* A link is the operator's: replacing it would drop it, writing through it would
	 * change a file the config does not name. */
	if (exists && !S_ISREG(st.st_mode))
		return sg_error_set(err, 0,
				       "cannot save the configuration to %s: it is %s; sgfw replaces "
				       "only a regular file (name the file a link points to as the "
				       "config)",
				       path, S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file"),
		       -EPERM;
	/* Our own new file beside it (O_EXCL): never one someone placed or linked there. */
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return sg_error_set(err, 0,
				       "cannot save the configuration to %s: cannot create a temporary "
				       "file beside it: %s",
				       path, strerror(errno)),
		       -errno;
	/* The file holds the policy: it keeps the owner and mode of the one it replaces, and a
	 * new one is owner-only. */
	if (exists && fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM)
		rc = -errno;
	if (rc == 0 && fchmod(fd, exists ? st.st_mode & 07777 : 0600) != 0)
		rc = -errno;
	out = rc == 0 ? fdopen(fd, "w") : NULL;
	if (out == NULL) {
		rc = rc < 0 ? rc : -errno;
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
	sg_fsync_dir_of(path);
	return 0;
fail:
	unlink(tmp);
	return sg_error_set(err, 0, "cannot save the configuration to %s: %s", path, strerror(-rc)),
	       rc;
}
