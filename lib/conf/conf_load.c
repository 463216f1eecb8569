/* SPDX-License-Identifier: BSD-3-Clause */
/* libconfig file -> struct sg_conf: every setting checked, errors as "FILE:LINE: message". */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf_private.h"
#include "sg_build_config.h"
#include "sg_conf.h"
#include "sg_log.h"

/* An integer setting libconfig did not read as written (see conf_literal.c). */
struct inexact {
	const config_setting_t *setting;
	char text[32];   /**< The literal as written, L suffix dropped (cut if longer). */
	bool fits;       /**< 'value' holds it: it fits in 64 bits. */
	long long value;
};

struct loader {
	const char *origin;
	struct sg_conf *conf;
	struct sg_error *err;
	struct inexact *inexact;
	uint32_t n_inexact;
	struct sg_keyset port_names;  /* Port names so far (libconfig's strings), by index. */
	uint32_t ports_cap;           /* conf->ports has room for this many (0: unknown). */
};

/* The index of 'file' in the config's sources, added if new (libconfig names @includes
 * relative to the including file's directory; the table keeps them as paths to open). */
static unsigned int
source_index(struct sg_conf *conf, const char *file)
{
	char path[SG_PATH_MAX];
	const char *slash = strrchr(conf->path, '/');

	if (file == NULL || strcmp(file, conf->path) == 0)
		return 0;
	if (file[0] != '/' && slash != NULL)
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - conf->path), conf->path, file);
	else
		snprintf(path, sizeof(path), "%s", file);
	for (unsigned int i = 0; i < conf->n_sources; i++)
		if (strcmp(conf->sources[i], path) == 0)
			return i;
	if (conf->n_sources == SG_CONF_MAX_SOURCES)
		return 0;
	sg_strlcpy(conf->sources[conf->n_sources], path, SG_PATH_MAX);
	return conf->n_sources++;
}

/* Where a setting is: its line, in the main file or an @include. */
static int
loc_of(struct loader *ld, const config_setting_t *setting)
{
	if (setting == NULL)
		return 0;
	return SG_LOC(source_index(ld->conf, config_setting_source_file(setting)),
			config_setting_source_line(setting));
}

/* Record an error at 'setting' (its location) and return -EINVAL. */
static int SG_PRINTF(3, 4)
fail(struct loader *ld, const config_setting_t *setting, const char *fmt, ...)
{
	char msg[sizeof(ld->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sg_error_set(ld->err, loc_of(ld, setting), "%s", msg);
}

/*
 * The value of an integer setting as written: libconfig's when it read the literal exactly,
 * else the literal's. -ERANGE when it does not fit in 64 bits, with '*text' the literal.
 */
static int
setting_int(const struct loader *ld, const config_setting_t *s, long long *value,
		const char **text)
{
	*text = NULL;
	for (uint32_t i = 0; i < ld->n_inexact; i++) {
		if (ld->inexact[i].setting != s)
			continue;
		*text = ld->inexact[i].text;
		if (!ld->inexact[i].fits)
			return -ERANGE;
		*value = ld->inexact[i].value;
		return 0;
	}
	*value = config_setting_get_int64(s);
	return 0;
}

/* Text form of a scalar setting, so typed and quoted values parse the same way. A number too
 * large for 64 bits stays the digits written, which every field refuses as out of range. */
static int
scalar_text(const struct loader *ld, const config_setting_t *s, char *buf, size_t size)
{
	long long value;
	const char *text;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		snprintf(buf, size, "%s", config_setting_get_string(s));
		return 0;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		if (setting_int(ld, s, &value, &text) < 0)
			snprintf(buf, size, "%s", text);
		else
			snprintf(buf, size, "%lld", value);
		return 0;
	case CONFIG_TYPE_BOOL:
		snprintf(buf, size, "%s", config_setting_get_bool(s) ? "true" : "false");
		return 0;
	default:
		return -EINVAL;
	}
}

static bool
is_list(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_LIST || config_setting_type(s) == CONFIG_TYPE_ARRAY;
}

static bool
mac_is_zero(const uint8_t mac[6])
{
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

static int
require_string(struct loader *ld, const config_setting_t *s, const char *what, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(ld, s, "%s must be a string", what);
	*out = config_setting_get_string(s);
	return 0;
}

typedef int (*name_add_fn)(void *owner, const char *name);

/* A ["a", "b"] setting: each string handed to 'add'. */
static int
read_strings(struct loader *ld, const config_setting_t *s, const char *what, void *owner,
		name_add_fn add)
{
	const char *text = NULL;
	int rc;

	if (!is_list(s))
		return fail(ld, s, "%s must be a list of strings, like [\"a\", \"b\"]", what);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *elem = config_setting_get_elem(s, (unsigned int)i);

		if ((rc = require_string(ld, elem, what, &text)) < 0)
			return rc;
		if (*text == '\0' || strlen(text) >= SG_NAME_MAX)
			return fail(ld, elem, "%s \"%s\" must be 1..%d characters", what, text,
					SG_NAME_MAX - 1);
		if ((rc = add(owner, text)) < 0)
			return fail(ld, elem, "%s: out of memory", what);
	}
	return 0;
}

/* Re-anchor an error raised by a library setter to the setting and a context prefix. */
static int
rethrow(struct loader *ld, const config_setting_t *s, const char *context, const struct sg_error *e)
{
	if (context != NULL)
		return fail(ld, s, "%s: %s", context, e->msg);
	return fail(ld, s, "%s", e->msg);
}

static int
parse_limits(struct loader *ld, const config_setting_t *section)
{
	struct sg_error e;
	char value[64];

	if (config_setting_type(section) != CONFIG_TYPE_GROUP)
		return fail(ld, section, "limits must be a group: limits = { groups_per_port = 5; }");
	for (int i = 0; i < config_setting_length(section); i++) {
		const config_setting_t *s = config_setting_get_elem(section, (unsigned int)i);

		if (scalar_text(ld, s, value, sizeof(value)) < 0)
			return fail(ld, s, "limits.%s must be a number", config_setting_name(s));
		if (sg_limits_set(&ld->conf->spec->limits, config_setting_name(s), value, 0, &e) < 0)
			return rethrow(ld, s, NULL, &e);
	}
	return 0;
}

static int
parse_prefix_lists(struct loader *ld, const config_setting_t *section)
{
	if (!is_list(section))
		return fail(ld, section, "prefix_lists must be a list: prefix_lists = ( { ... } )");
	for (int i = 0; i < config_setting_length(section); i++) {
		const config_setting_t *s = config_setting_get_elem(section, (unsigned int)i);
		const config_setting_t *id = config_setting_get_member(s, "id");
		const config_setting_t *entries = config_setting_get_member(s, "entries");
		const config_setting_t *desc;
		struct sg_prefix_list *list;
		const char *text = NULL;
		int rc;

		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			return fail(ld, s, "prefix_lists entry must be a group { id = ...; entries = [...]; }");
		if (id == NULL)
			return fail(ld, s, "prefix list has no id");
		if ((rc = require_string(ld, id, "prefix list id", &text)) < 0)
			return rc;
		list = sg_spec_add_prefix_list(ld->conf->spec, text, loc_of(ld, s));
		if (list == NULL)
			return fail(ld, id, "prefix list id \"%s\" is too long or memory ran out", text);
		for (int k = 0; k < config_setting_length(s); k++) {
			const char *name = config_setting_name(config_setting_get_elem(s, (unsigned int)k));

			if (strcmp(name, "id") != 0 && strcmp(name, "entries") != 0 &&
					strcmp(name, "description") != 0)
				return fail(ld, config_setting_get_elem(s, (unsigned int)k),
						"prefix list \"%s\": unknown field \"%s\" (known: id, "
						"entries, description)",
						list->id, name);
		}
		if (entries == NULL || !is_list(entries))
			return fail(ld, s, "prefix list \"%s\" needs entries = [\"CIDR\", ...]", list->id);
		if ((desc = config_setting_get_member(s, "description")) != NULL) {
			char what[SG_NAME_MAX + 16];
			struct sg_error e;

			if ((rc = require_string(ld, desc, "prefix list description", &text)) < 0)
				return rc;
			snprintf(what, sizeof(what), "prefix list \"%s\"", list->id);
			if (sg_description_set(list->description, text, what, 0, &e) < 0)
				return rethrow(ld, desc, NULL, &e);
		}
		for (int k = 0; k < config_setting_length(entries); k++) {
			const config_setting_t *e = config_setting_get_elem(entries, (unsigned int)k);
			struct sg_prefix prefix;

			if ((rc = require_string(ld, e, "prefix list entry", &text)) < 0)
				return rc;
			rc = sg_prefix_parse(text, &prefix);
			if (rc == -EDOM)
				return fail(ld, e, "prefix list \"%s\": entry \"%s\" has host bits set",
						list->id, text);
			if (rc < 0)
				return fail(ld, e, "prefix list \"%s\": entry \"%s\" is not a CIDR",
						list->id, text);
			if (sg_prefix_list_add(list, &prefix) < 0)
				return fail(ld, e, "out of memory");
		}
	}
	return 0;
}

/* Two settings of one group that spell one field twice (port_range and Alibaba's PortRange)
 * are refused, naming both, at the second. */
static int
check_spellings(struct loader *ld, const config_setting_t *s, bool group, const char *context)
{
	struct sg_error e;

	for (int i = 1; i < config_setting_length(s); i++) {
		const config_setting_t *b = config_setting_get_elem(s, (unsigned int)i);

		for (int k = 0; k < i; k++) {
			const config_setting_t *a = config_setting_get_elem(s, (unsigned int)k);

			if (sg_field_spellings_check(config_setting_name(a), config_setting_name(b),
					    group, 0, &e) < 0)
				return rethrow(ld, b, context, &e);
		}
	}
	return 0;
}

static int
parse_rule(struct loader *ld, struct sg_group *group, const config_setting_t *s)
{
	char context[SG_NAME_MAX + 48], value[4096];
	struct sg_rule *rule;
	struct sg_error e;

	snprintf(context, sizeof(context), "security group \"%s\" rule %u", group->id,
			group->n_rules + 1);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail(ld, s, "%s must be a group { direction = ...; ... }", context);
	rule = sg_group_add_rule(group, loc_of(ld, s));
	if (rule == NULL)
		return fail(ld, s, "%s: out of memory", context);
	if (check_spellings(ld, s, false, context) < 0)
		return -EINVAL;
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *f = config_setting_get_elem(s, (unsigned int)i);

		if (scalar_text(ld, f, value, sizeof(value)) < 0)
			return fail(ld, f, "%s: %s must be a string or a number", context,
					config_setting_name(f));
		rule->line = loc_of(ld, f);
		if (sg_rule_set(rule, config_setting_name(f), value, &e) < 0)
			return rethrow(ld, f, context, &e);
	}
	rule->line = loc_of(ld, s);
	return 0;
}

static int
add_group_tag(void *group, const char *tag)
{
	return sg_group_add_tag(group, tag);
}

static int
parse_group(struct loader *ld, const config_setting_t *s)
{
	const config_setting_t *id;
	/* Larger than any valid value, so the setters see over-long text and refuse it. */
	char value[4096];
	struct sg_group *group;
	struct sg_error e;
	const char *text = NULL;
	int rc;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail(ld, s, "security_groups entry must be a group { id = ...; ... }");
	if ((rc = check_spellings(ld, s, true, "security group")) < 0)
		return rc;
	id = config_setting_get_member(s, "id");
	if (id == NULL)
		id = config_setting_get_member(s, "SecurityGroupId");
	if (id == NULL)
		return fail(ld, s, "security group has no id");
	if ((rc = require_string(ld, id, "security group id", &text)) < 0)
		return rc;
	if (*text == '\0')
		return fail(ld, id, "security group id is empty");
	group = sg_spec_add_group(ld->conf->spec, text, loc_of(ld, s));
	if (group == NULL)
		return fail(ld, id, "security group id \"%s\" is longer than %d characters", text,
				SG_NAME_MAX - 1);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *f = config_setting_get_elem(s, (unsigned int)i);
		const char *name = config_setting_name(f);

		if (f == id)
			continue;
		if (strcmp(name, "tags") == 0) {
			rc = read_strings(ld, f, "tags", group, add_group_tag);
		} else if (strcmp(name, "rules") == 0) {
			if (!is_list(f))
				return fail(ld, f, "security group \"%s\": rules must be a list ( {...}, {...} )",
						group->id);
			rc = 0;
			for (int r = 0; r < config_setting_length(f) && rc == 0; r++)
				rc = parse_rule(ld, group, config_setting_get_elem(f, (unsigned int)r));
		} else {
			if (scalar_text(ld, f, value, sizeof(value)) < 0)
				return fail(ld, f, "security group \"%s\": %s must be a string",
						group->id, name);
			rc = sg_group_set(group, name, value, &e);
			if (rc < 0)
				return rethrow(ld, f, NULL, &e);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
parse_groups(struct loader *ld, const config_setting_t *section)
{
	int rc;

	if (!is_list(section))
		return fail(ld, section, "security_groups must be a list: security_groups = ( {...} )");
	for (int i = 0; i < config_setting_length(section); i++)
		if ((rc = parse_group(ld, config_setting_get_elem(section, (unsigned int)i))) < 0)
			return rc;
	return 0;
}

static const char *const port_kind_names[] = {
	[SG_PORT_VHOST_USER] = "vhost-user",
	[SG_PORT_AF_PACKET] = "af_packet",
	[SG_PORT_PCAP] = "pcap",
	[SG_PORT_NULL] = "null",
	[SG_PORT_RING] = "ring",
	[SG_PORT_PCI] = "pci",
};

const char *
sg_port_kind_name(enum sg_port_kind kind)
{
	return port_kind_names[kind];
}

/* Which device field each port kind takes ("path" means the kind's main locator). */
static const char *
path_field(enum sg_port_kind kind)
{
	switch (kind) {
	case SG_PORT_VHOST_USER:
		return "path";
	case SG_PORT_AF_PACKET:
		return "iface";
	case SG_PORT_PCAP:
		return "rx_pcap";
	case SG_PORT_PCI:
		return "pci";
	default:
		return NULL;
	}
}

static int
port_error(const struct sg_conf_port *dev, struct sg_error *err, const char *fmt, ...)
	SG_PRINTF(3, 4);

static int
port_error(const struct sg_conf_port *dev, struct sg_error *err, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sg_error_set(err, dev->line, "port \"%s\": %s", dev->name, msg);
}

int
sg_conf_port_init(struct sg_conf_port *dev, const char *name, const char *type, const char *role,
		int line, struct sg_error *err)
{
	char why[96];

	memset(dev, 0, sizeof(*dev));
	dev->line = line;
	dev->queues = 1;
	dev->kind = SG_PORT_VHOST_USER;
	if (*name == '\0' || sg_strlcpy(dev->name, name, sizeof(dev->name)) < 0)
		return sg_error_set(err, line, "port name \"%s\" must be 1..%d characters", name,
				SG_NAME_MAX - 1);
	if (sg_name_check(name, why, sizeof(why)) < 0)
		return sg_error_set(err, line, "port name \"%s\" %s", name, why);
	/* The name makes the default vhost-user socket path, /run/sgfw/NAME.sock. */
	if (strchr(name, '/') != NULL)
		return sg_error_set(err, line,
				"port name \"%s\" holds \"/\"; a port name cannot be a path "
				"(it names the default socket /run/sgfw/NAME.sock)",
				name);
	if (type != NULL) {
		size_t k;

		for (k = 0; k < SG_ARRAY_SIZE(port_kind_names); k++)
			if (strcmp(type, port_kind_names[k]) == 0)
				break;
		if (k == SG_ARRAY_SIZE(port_kind_names))
			return port_error(dev, err,
					"type \"%s\" must be vhost-user, af_packet, pcap, null, ring or pci",
					type);
		dev->kind = (enum sg_port_kind)k;
	}
	if (role != NULL) {
		if (strcmp(role, "uplink") != 0 && strcmp(role, "vm") != 0)
			return port_error(dev, err, "role \"%s\" must be \"vm\" or \"uplink\"", role);
		dev->uplink = strcmp(role, "uplink") == 0;
	}
	return 0;
}

/* VM-side fields: the policy's view of the port. Returns 1 when 'field' is not one. */
static int
set_port_vm_field(const struct sg_conf_port *dev, struct sg_spec_port *port, const char *field,
		const char *value, struct sg_error *err)
{
	struct sg_ip ip;

	if (strcmp(field, "mac") == 0) {
		if (sg_mac_parse(value, port->mac) < 0)
			return port_error(dev, err, "mac \"%s\" is not like 52:54:00:12:34:56", value);
		port->has_mac = true;
		return 0;
	}
	if (strcmp(field, "ips") == 0) {
		if (sg_ip_parse(value, &ip) < 0)
			return port_error(dev, err, "ip \"%s\" is not an IPv4 or IPv6 address", value);
		return sg_spec_port_add_ip(port, &ip) < 0 ?
				port_error(dev, err, "out of memory") : 0;
	}
	if (strcmp(field, "allowed_prefixes") == 0) {
		struct sg_prefix prefix;
		char net[SG_PREFIX_STRLEN];
		int rc = sg_prefix_parse(value, &prefix);

		if (rc == -EDOM) {
			sg_prefix_normalize(&prefix);
			return port_error(dev, err,
					"allowed prefix \"%s\" has host bits set; the network is %s",
					value, sg_prefix_format(&prefix, net, sizeof(net)));
		}
		if (rc < 0)
			return port_error(dev, err,
					"allowed prefix \"%s\" is not an IPv4 or IPv6 CIDR like "
					"10.2.0.128/25",
					value);
		return sg_spec_port_add_prefix(port, &prefix) < 0 ?
				port_error(dev, err, "out of memory") : 0;
	}
	if (strcmp(field, "tags") == 0 || strcmp(field, "security_groups") == 0) {
		bool tag = strcmp(field, "tags") == 0;

		if (*value == '\0' || strlen(value) >= SG_NAME_MAX)
			return port_error(dev, err, "%s \"%s\" must be 1..%d characters", field, value,
					SG_NAME_MAX - 1);
		if ((tag ? sg_spec_port_add_tag(port, value)
			 : sg_spec_port_add_group(port, value)) < 0)
			return port_error(dev, err, "out of memory");
		return 0;
	}
	return 1;
}

/* A user or group name as useradd takes it, or a number. */
static bool
owner_name_ok(const char *name)
{
	if (*name == '\0' || *name == '-' || strlen(name) >= SG_OWNER_MAX)
		return false;
	for (; *name != '\0'; name++)
		if (!isalnum((unsigned char)*name) && *name != '_' && *name != '-' && *name != '.')
			return false;
	return true;
}

/*
 * socket_owner, socket_group or socket_mode into 'a': 0, 1 when 'field' is none of them, or
 * -EINVAL with 'msg' saying why (without a prefix).
 */
static int
socket_access_set(struct sg_conf_socket_access *a, const char *field, const char *value,
		char *msg, size_t size)
{
	if (strcmp(field, "socket_owner") == 0 || strcmp(field, "socket_group") == 0) {
		if (!owner_name_ok(value)) {
			snprintf(msg, size, "%s \"%s\" is not a user or group name (1..%d letters, "
					"digits, '_', '-', '.') or number", field, value, SG_OWNER_MAX - 1);
			return -EINVAL;
		}
		sg_strlcpy(field[7] == 'o' ? a->owner : a->group, value, SG_OWNER_MAX);
		return 0;
	}
	if (strcmp(field, "socket_mode") == 0) {
		char *end;
		long mode = strtol(value, &end, 8);

		if (*value == '\0' || *end != '\0' || mode < 1 || mode > 0777) {
			snprintf(msg, size, "socket_mode \"%s\" must be octal permissions 0001..0777, "
					"like \"0660\"", value);
			return -EINVAL;
		}
		a->mode = (uint32_t)mode;
		return 0;
	}
	return 1;
}

void
sg_conf_socket_access(const struct sg_conf *conf, const struct sg_conf_port *port,
		struct sg_conf_socket_access *access)
{
	*access = port->socket;
	if (access->owner[0] == '\0')
		memcpy(access->owner, conf->vhost_user.owner, SG_OWNER_MAX);
	if (access->group[0] == '\0')
		memcpy(access->group, conf->vhost_user.group, SG_OWNER_MAX);
	if (access->mode == 0)
		access->mode = conf->vhost_user.mode != 0 ? conf->vhost_user.mode : 0600;
}

int
sg_conf_port_set(struct sg_conf_port *dev, struct sg_spec_port *port, const char *field,
		const char *value, struct sg_error *err)
{
	const char *path_name = path_field(dev->kind);
	int rc;

	if (port != NULL && (rc = set_port_vm_field(dev, port, field, value, err)) <= 0)
		return rc;
	if (port == NULL && (strcmp(field, "mac") == 0 || strcmp(field, "ips") == 0 ||
				    strcmp(field, "allowed_prefixes") == 0 ||
				    strcmp(field, "tags") == 0 || strcmp(field, "security_groups") == 0))
		return sg_error_set(err, dev->line,
				"port \"%s\" is an uplink: %s applies to VM ports only", dev->name, field);
	if (strcmp(field, "host") == 0) {
		char why[96];

		if (port == NULL)
			return port_error(dev, err, "host applies to VM ports only (the uplink is "
					"this host's)");
		if (*value == '\0' || sg_strlcpy(dev->host, value, sizeof(dev->host)) < 0)
			return port_error(dev, err, "host \"%s\" must be 1..%d characters", value,
					SG_NAME_MAX - 1);
		if (sg_name_check(value, why, sizeof(why)) < 0)
			return port_error(dev, err, "host \"%s\" %s", value, why);
		return 0;
	}
	if (strcmp(field, "description") == 0) {
		char what[SG_NAME_MAX + 16];

		snprintf(what, sizeof(what), "port \"%s\"", dev->name);
		return sg_description_set(dev->description, value, what, dev->line, err);
	}
	if (strcmp(field, "client") == 0) {
		if (dev->kind != SG_PORT_VHOST_USER)
			return port_error(dev, err, "client applies to vhost-user ports only");
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
			return port_error(dev, err, "client must be true or false");
		dev->client = strcmp(value, "true") == 0;
		return 0;
	}
	if (strcmp(field, "infinite_rx") == 0) {
		if (dev->kind != SG_PORT_PCAP)
			return port_error(dev, err, "infinite_rx applies to pcap ports only");
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
			return port_error(dev, err, "infinite_rx must be true or false");
		dev->infinite_rx = strcmp(value, "true") == 0;
		return 0;
	}
	if (strcmp(field, "peer_mac") == 0) {
		if (!dev->uplink)
			return port_error(dev, err, "peer_mac applies to the uplink only");
		if (sg_mac_parse(value, dev->peer_mac) < 0 || (dev->peer_mac[0] & 1) ||
				mac_is_zero(dev->peer_mac))
			return port_error(dev, err,
					"peer_mac \"%s\" is not a unicast MAC like 52:54:00:12:34:56",
					value);
		dev->has_peer_mac = true;
		return 0;
	}
	if (strcmp(field, "max_connections") == 0 || strcmp(field, "new_connections_per_second") == 0) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(value, &end, 10);
		if (*value == '\0' || *end != '\0')
			return port_error(dev, err, "%s \"%s\" must be a number 0..100000000 (0: the "
					"conntrack default)", field, value);
		if (v < 0 || v > 100000000 || errno == ERANGE)
			return port_error(dev, err, "%s %s is out of range 0..100000000 (0: the "
					"conntrack default)", field, value);
		if (field[0] == 'm')
			dev->max_connections = (uint32_t)v;
		else
			dev->new_connections_per_second = (uint32_t)v;
		return 0;
	}
	if (strncmp(field, "socket_", 7) == 0) {
		char msg[200];

		if (dev->kind != SG_PORT_VHOST_USER)
			return port_error(dev, err, "%s applies to vhost-user ports only", field);
		rc = socket_access_set(&dev->socket, field, value, msg, sizeof(msg));
		if (rc < 0)
			return port_error(dev, err, "%s", msg);
		if (rc == 0)
			return 0;
	}
	if (strcmp(field, "queues") == 0) {
		char *end;
		long q;

		errno = 0;
		q = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0')
			return port_error(dev, err, "queues must be a number");
		if (q < 1 || q > 16 || errno == ERANGE)
			return port_error(dev, err, "queues %s is out of range 1..16", value);
		dev->queues = (uint16_t)q;
		return 0;
	}
	if (strcmp(field, "tx_pcap") == 0 || (path_name != NULL && strcmp(field, path_name) == 0)) {
		char *dst = strcmp(field, "tx_pcap") == 0 ? dev->tx_pcap : dev->path;

		if (dst == dev->tx_pcap && dev->kind != SG_PORT_PCAP)
			return port_error(dev, err, "tx_pcap applies to pcap ports only");
		if (*value == '\0' || sg_strlcpy(dst, value, SG_PATH_MAX) < 0)
			return port_error(dev, err, "%s must be 1..%d characters", field, SG_PATH_MAX - 1);
		return 0;
	}
	if (strcmp(field, "path") == 0 || strcmp(field, "iface") == 0 ||
			strcmp(field, "rx_pcap") == 0 || strcmp(field, "pci") == 0)
		return port_error(dev, err, "%s does not apply to a %s port", field,
				port_kind_names[dev->kind]);
	return port_error(dev, err,
			"unknown field \"%s\" (known: name, type, role, mac, ips, allowed_prefixes, "
			"tags, security_groups, path, client, queues, iface, rx_pcap, tx_pcap, "
			"infinite_rx, pci, peer_mac, max_connections, new_connections_per_second, "
			"socket_owner, socket_group, socket_mode, description, host)",
			field);
}

int
sg_conf_port_finish(struct sg_conf_port *dev, struct sg_error *err)
{
	const char *path_name = path_field(dev->kind);

	/* The hypervisor creates a client port's socket: its access is the hypervisor's. */
	if (dev->client && (dev->socket.owner[0] != '\0' || dev->socket.group[0] != '\0' ||
				   dev->socket.mode != 0))
		return port_error(dev, err, "socket_owner, socket_group and socket_mode apply to "
				"server sockets only (client = false): a client port connects to the "
				"hypervisor's socket");
	if (path_name == NULL || dev->path[0] != '\0')
		return 0;
	/* A port of another host opens nothing here; whether 'host' is this one is known only
	 * with the whole config (check_fleet() asks a local port for its device). */
	if (dev->kind != SG_PORT_VHOST_USER && dev->host[0] != '\0')
		return 0;
	if (dev->kind != SG_PORT_VHOST_USER)
		return sg_error_set(err, dev->line, "port \"%s\" (%s) needs %s", dev->name,
				port_kind_names[dev->kind], path_name);
	snprintf(dev->path, sizeof(dev->path), "/run/sgfw/%s.sock", dev->name);
	return 0;
}

/* The config file is typed: the text forms online changes use are not accepted here. */
static int
check_port_field_type(struct loader *ld, const struct sg_conf_port *dev, const config_setting_t *f)
{
	const char *field = config_setting_name(f);
	int type = config_setting_type(f);

	if ((strcmp(field, "queues") == 0 || strcmp(field, "max_connections") == 0 ||
			    strcmp(field, "new_connections_per_second") == 0) &&
			type != CONFIG_TYPE_INT)
		return fail(ld, f, "port \"%s\": %s must be a number", dev->name, field);
	if (strcmp(field, "client") == 0 && type != CONFIG_TYPE_BOOL)
		return fail(ld, f, "port \"%s\": client must be true or false", dev->name);
	if (strcmp(field, "infinite_rx") == 0 && type != CONFIG_TYPE_BOOL)
		return fail(ld, f, "port \"%s\": infinite_rx must be true or false", dev->name);
	if (strcmp(field, "queues") != 0 && strcmp(field, "client") != 0 &&
			strcmp(field, "infinite_rx") != 0 && strcmp(field, "max_connections") != 0 &&
			strcmp(field, "new_connections_per_second") != 0 && type != CONFIG_TYPE_STRING)
		return fail(ld, f, "%s must be a string", field);
	return 0;
}

/* Hand each element of a list field (or the scalar) to sg_conf_port_set as text. */
static int
parse_port_field(struct loader *ld, struct sg_conf_port *dev, struct sg_spec_port *port,
		const config_setting_t *f)
{
	static const struct {
		const char *field, *not_list, *elem_name;
	} lists[] = {
		{"ips", "port \"%s\": ips must be a list of addresses", "ip"},
		{"allowed_prefixes", "port \"%s\": allowed_prefixes must be a list of CIDRs, like "
				     "[\"10.2.0.128/25\"]", "allowed prefix"},
		{"tags", "tags must be a list of strings, like [\"a\", \"b\"]", "tags"},
		{"security_groups", "security_groups must be a list of strings, like [\"a\", \"b\"]",
				"security_groups"},
	};
	const char *field = config_setting_name(f);
	char value[SG_PATH_MAX + 1];
	struct sg_error e;
	int rc;

	for (size_t k = 0; k < SG_ARRAY_SIZE(lists); k++) {
		if (strcmp(field, lists[k].field) != 0)
			continue;
		if (port != NULL && !is_list(f))
			return fail(ld, f, lists[k].not_list, dev->name);
		for (int i = 0; port != NULL && i < config_setting_length(f); i++) {
			const config_setting_t *elem = config_setting_get_elem(f, (unsigned int)i);

			if (config_setting_type(elem) != CONFIG_TYPE_STRING)
				return fail(ld, elem, "%s must be a string", lists[k].elem_name);
			if (sg_conf_port_set(dev, port, field, config_setting_get_string(elem), &e) < 0)
				return rethrow(ld, elem, NULL, &e);
		}
		if (port != NULL)
			return 0;
	}
	if (port != NULL || strcmp(field, "peer_mac") == 0 || strcmp(field, "description") == 0)
		if ((rc = check_port_field_type(ld, dev, f)) < 0)
			return rc;
	if (scalar_text(ld, f, value, sizeof(value)) < 0)
		value[0] = '\0';
	if (sg_conf_port_set(dev, port, field, value, &e) < 0)
		return rethrow(ld, f, NULL, &e);
	return 0;
}

static int
parse_port(struct loader *ld, const config_setting_t *s)
{
	const char *name = NULL, *type = NULL, *role = NULL;
	struct sg_conf *conf = ld->conf;
	struct sg_conf_port *dev, *grown;
	struct sg_spec_port *port = NULL;
	struct sg_error e;
	uint32_t first;
	int rc;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail(ld, s, "ports entry must be a group { name = ...; ... }");
	if (config_setting_get_member(s, "name") == NULL)
		return fail(ld, s, "port has no name");
	if ((rc = require_string(ld, config_setting_get_member(s, "name"), "port name", &name)) < 0 ||
			(config_setting_get_member(s, "type") != NULL &&
					(rc = require_string(ld, config_setting_get_member(s, "type"),
							 "type", &type)) < 0) ||
			(config_setting_get_member(s, "role") != NULL &&
					(rc = require_string(ld, config_setting_get_member(s, "role"),
							 "role", &role)) < 0))
		return rc;
	if (*name == '\0' || strlen(name) >= SG_NAME_MAX)
		return fail(ld, config_setting_get_member(s, "name"),
				"port name \"%s\" must be 1..%d characters", name, SG_NAME_MAX - 1);
	/* A fleet has many ports: a set, not a search per port. */
	rc = sg_keyset_add(&ld->port_names, 0, name, (uint32_t)strlen(name), conf->n_ports, &first);
	if (rc < 0)
		return fail(ld, s, "out of memory");
	if (rc == 1)
		return fail(ld, config_setting_get_member(s, "name"),
				"port \"%s\" is defined twice (first on line %d)", name,
				SG_LOC_LINE(conf->ports[first].line));
	/* Doubling, not one more each time: a fleet has many ports. */
	if (conf->n_ports + 1 > ld->ports_cap) {
		uint32_t cap = conf->n_ports < 8 ? 16 : conf->n_ports * 2;

		grown = realloc(conf->ports, cap * sizeof(*conf->ports));
		if (grown == NULL)
			return fail(ld, s, "out of memory");
		conf->ports = grown;
		ld->ports_cap = cap;
	}
	dev = &conf->ports[conf->n_ports++];
	/* Anchor a bad name, type or role at its own line. */
	if (sg_conf_port_init(dev, name, NULL, NULL, loc_of(ld, s), &e) < 0)
		return rethrow(ld, config_setting_get_member(s, "name"), NULL, &e);
	if (sg_conf_port_init(dev, name, type, NULL, loc_of(ld, s), &e) < 0)
		return rethrow(ld, config_setting_get_member(s, "type"), NULL, &e);
	if (sg_conf_port_init(dev, name, type, role, loc_of(ld, s), &e) < 0)
		return rethrow(ld, config_setting_get_member(s, "role"), NULL, &e);
	if (!dev->uplink) {
		port = sg_spec_add_port(conf->spec, name, dev->line);
		if (port == NULL)
			return fail(ld, s, "out of memory");
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *f = config_setting_get_elem(s, (unsigned int)i);
		const char *field = config_setting_name(f);

		if (strcmp(field, "name") == 0 || strcmp(field, "type") == 0 ||
				strcmp(field, "role") == 0)
			continue;
		if ((rc = parse_port_field(ld, dev, port, f)) < 0)
			return rc;
	}
	if (sg_conf_port_finish(dev, &e) < 0)
		return rethrow(ld, s, NULL, &e);
	return 0;
}

static int
parse_ports(struct loader *ld, const config_setting_t *section)
{
	int uplink = -1, rc;

	if (!is_list(section))
		return fail(ld, section, "ports must be a list: ports = ( {...} )");
	for (int i = 0; i < config_setting_length(section); i++) {
		const config_setting_t *s = config_setting_get_elem(section, (unsigned int)i);
		const struct sg_conf_port *port;

		if ((rc = parse_port(ld, s)) < 0)
			return rc;
		/* By index: parse_port may move the array. */
		port = &ld->conf->ports[ld->conf->n_ports - 1];
		if (!port->uplink)
			continue;
		if (uplink >= 0)
			return fail(ld, s, "port \"%s\": only one uplink port is allowed (\"%s\" is one)",
					port->name, ld->conf->ports[uplink].name);
		uplink = (int)ld->conf->n_ports - 1;
	}
	return 0;
}

/* A whole number setting within [min, max]. */
static int
read_uint(struct loader *ld, const config_setting_t *s, const char *what, long long min,
		long long max, uint32_t *out)
{
	const char *text;
	long long value;

	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(ld, s, "%s must be a whole number", what);
	if (setting_int(ld, s, &value, &text) < 0)
		return fail(ld, s, "%s %s is out of range %lld..%lld", what, text, min, max);
	if (value < min || value > max)
		return fail(ld, s, "%s %lld is out of range %lld..%lld", what, value, min, max);
	*out = (uint32_t)value;
	return 0;
}

static int
read_bool(struct loader *ld, const config_setting_t *s, const char *what, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(ld, s, "%s must be true or false", what);
	*out = config_setting_get_bool(s);
	return 0;
}

static int
parse_dataplane(struct loader *ld, const config_setting_t *section)
{
	struct sg_conf_dataplane *dp = &ld->conf->dataplane;
	int rc = 0;

	if (config_setting_type(section) != CONFIG_TYPE_GROUP)
		return fail(ld, section, "dataplane must be a group: dataplane = { workers = 1; }");
	for (int i = 0; i < config_setting_length(section) && rc == 0; i++) {
		const config_setting_t *f = config_setting_get_elem(section, (unsigned int)i);
		const char *name = config_setting_name(f);

		if (strcmp(name, "workers") == 0)
			rc = read_uint(ld, f, "dataplane.workers", 1, SG_MAX_WORKERS, &dp->workers);
		else if (strcmp(name, "mbufs") == 0)
			rc = read_uint(ld, f, "dataplane.mbufs", 1023, 16777215, &dp->mbufs);
		else if (strcmp(name, "burst") == 0)
			rc = read_uint(ld, f, "dataplane.burst", 1, 64, &dp->burst);
		else if (strcmp(name, "rx_desc") == 0)
			rc = read_uint(ld, f, "dataplane.rx_desc", 64, 16384, &dp->rx_desc);
		else if (strcmp(name, "tx_desc") == 0)
			rc = read_uint(ld, f, "dataplane.tx_desc", 64, 16384, &dp->tx_desc);
		else if (strcmp(name, "sleep_max_us") == 0)
			rc = read_uint(ld, f, "dataplane.sleep_max_us", 0, SG_CONF_SLEEP_MAX_US,
					&dp->sleep_max_us);
		else if (strcmp(name, "file_prefix") == 0) {
			const char *text = NULL;

			if ((rc = require_string(ld, f, "dataplane.file_prefix", &text)) < 0)
				return rc;
			if (!owner_name_ok(text) || strlen(text) >= SG_NAME_MAX)
				return fail(ld, f, "dataplane.file_prefix \"%s\" must be 1..32 letters, "
						"digits, '_', '-' or '.', not starting with '-'", text);
			sg_strlcpy(dp->file_prefix, text, sizeof(dp->file_prefix));
		} else if (strcmp(name, "eal_args") == 0) {
			if (!is_list(f))
				return fail(ld, f, "dataplane.eal_args must be a list of strings");
			if (config_setting_length(f) > SG_CONF_MAX_EAL_ARGS)
				return fail(ld, f, "dataplane.eal_args has more than %d arguments",
						SG_CONF_MAX_EAL_ARGS);
			for (int k = 0; k < config_setting_length(f); k++) {
				const config_setting_t *e = config_setting_get_elem(f, (unsigned int)k);
				const char *text = NULL;

				if ((rc = require_string(ld, e, "dataplane.eal_args entry", &text)) < 0)
					return rc;
				dp->eal_args[dp->n_eal_args] = strdup(text);
				if (dp->eal_args[dp->n_eal_args++] == NULL)
					return fail(ld, e, "out of memory");
			}
		} else
			return fail(ld, f,
					"dataplane: unknown field \"%s\" (known: workers, mbufs, burst, "
					"rx_desc, tx_desc, eal_args, file_prefix, sleep_max_us)",
					name);
	}
	return rc;
}

static int
parse_subnets(struct loader *ld, const config_setting_t *section)
{
	struct sg_conf *conf = ld->conf;
	int rc;

	if (!is_list(section))
		return fail(ld, section, "subnets must be a list: subnets = ( { cidr = ...; gateway = ...; } )");
	conf->subnets = calloc((size_t)config_setting_length(section) + 1, sizeof(*conf->subnets));
	if (conf->subnets == NULL)
		return fail(ld, section, "out of memory");
	for (int i = 0; i < config_setting_length(section); i++) {
		const config_setting_t *s = config_setting_get_elem(section, (unsigned int)i);
		struct sg_conf_subnet *net = &conf->subnets[conf->n_subnets];
		const config_setting_t *cidr = config_setting_get_member(s, "cidr");
		const config_setting_t *gw = config_setting_get_member(s, "gateway");
		const char *text = NULL;
		char buf[SG_PREFIX_STRLEN];

		if (config_setting_type(s) != CONFIG_TYPE_GROUP || cidr == NULL || gw == NULL)
			return fail(ld, s, "a subnet needs cidr and gateway: { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\"; }");
		for (int k = 0; k < config_setting_length(s); k++) {
			const char *name = config_setting_name(config_setting_get_elem(s, (unsigned int)k));

			if (strcmp(name, "cidr") != 0 && strcmp(name, "gateway") != 0 &&
					strcmp(name, "vni") != 0)
				return fail(ld, config_setting_get_elem(s, (unsigned int)k),
						"subnet: unknown field \"%s\" (known: cidr, gateway, vni)",
						name);
		}
		net->line = loc_of(ld, s);
		if ((rc = require_string(ld, cidr, "subnet cidr", &text)) < 0)
			return rc;
		rc = sg_prefix_parse(text, &net->cidr);
		if (rc == -EDOM) {
			sg_prefix_normalize(&net->cidr);
			return fail(ld, cidr, "subnet cidr \"%s\" has host bits set; the network is %s", text,
					sg_prefix_format(&net->cidr, buf, sizeof(buf)));
		}
		if (rc < 0)
			return fail(ld, cidr, "subnet cidr \"%s\" is not an IPv4 or IPv6 CIDR", text);
		if ((rc = require_string(ld, gw, "subnet gateway", &text)) < 0)
			return rc;
		if (sg_ip_parse(text, &net->gateway) < 0)
			return fail(ld, gw, "subnet gateway \"%s\" is not an address", text);
		if (!sg_prefix_contains(&net->cidr, &net->gateway))
			return fail(ld, gw, "subnet gateway %s is outside its subnet %s", text,
					sg_prefix_format(&net->cidr, buf, sizeof(buf)));
		if (config_setting_get_member(s, "vni") != NULL) {
			const config_setting_t *v = config_setting_get_member(s, "vni");
			char what[SG_PREFIX_STRLEN + 32];

			snprintf(what, sizeof(what), "subnets[%d].vni", i);
			if ((rc = read_uint(ld, v, what, 1, SG_VNI_MAX, &net->vni)) < 0)
				return rc;
			for (uint32_t k = 0; k < conf->n_subnets; k++)
				if (conf->subnets[k].vni == net->vni)
					return fail(ld, v, "%s: vni %u is already the vni of subnet %s "
							"(line %d)", what, net->vni,
							sg_prefix_format(&conf->subnets[k].cidr, buf,
									sizeof(buf)),
							SG_LOC_LINE(conf->subnets[k].line));
		}
		for (uint32_t k = 0; k < conf->n_subnets; k++)
			if (sg_prefix_covers(&conf->subnets[k].cidr, &net->cidr) ||
					sg_prefix_covers(&net->cidr, &conf->subnets[k].cidr))
			{
				char other[SG_PREFIX_STRLEN];

				return fail(ld, cidr, "subnet %s overlaps subnet %s (line %d)",
						sg_prefix_format(&net->cidr, buf, sizeof(buf)),
						sg_prefix_format(&conf->subnets[k].cidr, other, sizeof(other)),
						SG_LOC_LINE(conf->subnets[k].line));
			}
		conf->n_subnets++;
	}
	return 0;
}

static int
parse_router(struct loader *ld, const config_setting_t *section)
{
	if (config_setting_type(section) != CONFIG_TYPE_GROUP)
		return fail(ld, section, "router must be a group: router = { mac = \"02:...\"; }");
	for (int i = 0; i < config_setting_length(section); i++) {
		const config_setting_t *f = config_setting_get_elem(section, (unsigned int)i);
		const char *text = NULL;
		int rc;

		if (strcmp(config_setting_name(f), "mac") != 0)
			return fail(ld, f, "router: unknown field \"%s\" (known: mac)", config_setting_name(f));
		if ((rc = require_string(ld, f, "router.mac", &text)) < 0)
			return rc;
		if (sg_mac_parse(text, ld->conf->router_mac) < 0 || (ld->conf->router_mac[0] & 1) ||
				mac_is_zero(ld->conf->router_mac))
			return fail(ld, f, "router.mac \"%s\" is not a unicast MAC", text);
	}
	return 0;
}

/* host: this node's name among 'hosts'. */
static int
parse_host(struct loader *ld, const config_setting_t *s)
{
	const char *text = NULL;
	char why[96];
	int rc;

	if ((rc = require_string(ld, s, "host", &text)) < 0)
		return rc;
	if (*text == '\0' || sg_strlcpy(ld->conf->host, text, sizeof(ld->conf->host)) < 0)
		return fail(ld, s, "host \"%s\" must be 1..%d characters", text, SG_NAME_MAX - 1);
	if (sg_name_check(text, why, sizeof(why)) < 0)
		return fail(ld, s, "host \"%s\" %s", text, why);
	return 0;
}

/* One entry of hosts: { name = "hv1"; vtep = "192.168.50.1"; mac = "02:..."; }. */
static int
parse_host_entry(struct loader *ld, const config_setting_t *s, int i, struct sg_conf_host *h)
{
	const config_setting_t *name = config_setting_get_member(s, "name");
	const config_setting_t *vtep = config_setting_get_member(s, "vtep");
	const char *text = NULL, *why;
	char what[32], ip[SG_IP_STRLEN], reason[96];
	int rc;

	snprintf(what, sizeof(what), "hosts[%d]", i);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP || name == NULL || vtep == NULL)
		return fail(ld, s, "%s: a host needs name and vtep: { name = \"hv1\"; vtep = "
				"\"192.168.50.1\"; mac = \"02:00:00:00:50:01\"; }", what);
	h->line = loc_of(ld, s);
	for (int k = 0; k < config_setting_length(s); k++) {
		const config_setting_t *f = config_setting_get_elem(s, (unsigned int)k);
		const char *field = config_setting_name(f);

		if (strcmp(field, "name") != 0 && strcmp(field, "vtep") != 0 &&
				strcmp(field, "mac") != 0)
			return fail(ld, f, "%s: unknown field \"%s\" (known: name, vtep, mac)", what,
					field);
	}
	if ((rc = require_string(ld, name, "host name", &text)) < 0)
		return rc;
	if (*text == '\0' || sg_strlcpy(h->name, text, sizeof(h->name)) < 0)
		return fail(ld, name, "%s.name \"%s\" must be 1..%d characters", what, text,
				SG_NAME_MAX - 1);
	if (sg_name_check(text, reason, sizeof(reason)) < 0)
		return fail(ld, name, "%s.name \"%s\" %s", what, text, reason);
	if (sg_conf_find_host(ld->conf, h->name) != NULL)
		return fail(ld, name, "%s.name: host \"%s\" is defined twice (first on line %d)",
				what, text, SG_LOC_LINE(sg_conf_find_host(ld->conf, h->name)->line));
	if ((rc = require_string(ld, vtep, "vtep", &text)) < 0)
		return rc;
	if (sg_ip_parse(text, &h->vtep) < 0 || h->vtep.family != SG_AF_INET)
		return fail(ld, vtep, "%s.vtep \"%s\" is not an IPv4 address (the underlay is "
				"IPv4)", what, text);
	if ((why = sg_ip_not_unicast(&h->vtep)) != NULL)
		return fail(ld, vtep, "%s.vtep %s is %s, not a host's unicast address", what, text,
				why);
	for (uint32_t k = 0; k < ld->conf->n_hosts; k++)
		if (sg_ip_equal(&ld->conf->hosts[k].vtep, &h->vtep))
			return fail(ld, vtep, "%s.vtep %s is already the vtep of host \"%s\" (line %d)",
					what, sg_ip_format(&h->vtep, ip, sizeof(ip)),
					ld->conf->hosts[k].name, SG_LOC_LINE(ld->conf->hosts[k].line));
	if (config_setting_get_member(s, "mac") != NULL) {
		const config_setting_t *m = config_setting_get_member(s, "mac");

		if ((rc = require_string(ld, m, "host mac", &text)) < 0)
			return rc;
		if (sg_mac_parse(text, h->mac) < 0 || (h->mac[0] & 1) || mac_is_zero(h->mac))
			return fail(ld, m, "%s.mac \"%s\" is not a unicast MAC like "
					"02:00:00:00:50:01", what, text);
		h->has_mac = true;
	}
	return 0;
}

static int
parse_hosts(struct loader *ld, const config_setting_t *section)
{
	struct sg_conf *conf = ld->conf;
	int rc;

	if (!is_list(section))
		return fail(ld, section, "hosts must be a list: hosts = ( { name = \"hv1\"; vtep = "
				"\"192.168.50.1\"; } )");
	conf->hosts = calloc((size_t)config_setting_length(section) + 1, sizeof(*conf->hosts));
	if (conf->hosts == NULL)
		return fail(ld, section, "out of memory");
	for (int i = 0; i < config_setting_length(section); i++) {
		rc = parse_host_entry(ld, config_setting_get_elem(section, (unsigned int)i), i,
				&conf->hosts[conf->n_hosts]);
		if (rc < 0)
			return rc;
		conf->n_hosts++;
	}
	return 0;
}

static int
parse_overlay(struct loader *ld, const config_setting_t *section)
{
	if (config_setting_type(section) != CONFIG_TYPE_GROUP)
		return fail(ld, section, "overlay must be a group: overlay = { mtu = 1500; }");
	ld->conf->overlay.line = loc_of(ld, section);
	for (int i = 0; i < config_setting_length(section); i++) {
		const config_setting_t *f = config_setting_get_elem(section, (unsigned int)i);
		int rc;

		if (strcmp(config_setting_name(f), "mtu") != 0)
			return fail(ld, f, "overlay: unknown field \"%s\" (known: mtu)",
					config_setting_name(f));
		if ((rc = read_uint(ld, f, "overlay.mtu", SG_OVERLAY_MTU_MIN, SG_OVERLAY_MTU_MAX,
				     &ld->conf->overlay.mtu)) < 0)
			return rc;
	}
	return 0;
}

static int
parse_conntrack(struct loader *ld, const config_setting_t *section)
{
	struct sg_conf_conntrack *ct = &ld->conf->conntrack;
	int rc = 0;

	if (config_setting_type(section) != CONFIG_TYPE_GROUP)
		return fail(ld, section, "conntrack must be a group: conntrack = { capacity = 1048576; }");
	ct->line = loc_of(ld, section);
	for (int i = 0; i < config_setting_length(section) && rc == 0; i++) {
		const config_setting_t *f = config_setting_get_elem(section, (unsigned int)i);
		const char *name = config_setting_name(f);

		if (strcmp(name, "capacity") == 0)
			rc = read_uint(ld, f, "conntrack.capacity", 1024, 100000000, &ct->capacity);
		else if (strcmp(name, "tcp_be_liberal") == 0)
			rc = read_bool(ld, f, "conntrack.tcp_be_liberal", &ct->tcp_be_liberal);
		else if (strcmp(name, "tcp_loose") == 0)
			rc = read_bool(ld, f, "conntrack.tcp_loose", &ct->tcp_loose);
		else if (strcmp(name, "keep_established") == 0)
			rc = read_bool(ld, f, "conntrack.keep_established", &ct->keep_established);
		else if (strcmp(name, "port_max_connections") == 0)
			rc = read_uint(ld, f, "conntrack.port_max_connections", 0, 100000000,
					&ct->port_max_connections);
		else if (strcmp(name, "port_new_connections_per_second") == 0)
			rc = read_uint(ld, f, "conntrack.port_new_connections_per_second", 0, 100000000,
					&ct->port_new_connections_per_second);
		else if (strcmp(name, "share_reserve") == 0)
			rc = read_uint(ld, f, "conntrack.share_reserve", 0, 50, &ct->share_reserve);
		else if (strcmp(name, "timeouts") == 0) {
			if (config_setting_type(f) != CONFIG_TYPE_GROUP)
				return fail(ld, f, "conntrack.timeouts must be a group of name = seconds");
			for (int k = 0; k < config_setting_length(f) && rc == 0; k++) {
				const config_setting_t *t = config_setting_get_elem(f, (unsigned int)k);
				struct sg_conf_named_value *v = &ct->timeouts[ct->n_timeouts];
				char what[SG_NAME_MAX + 32];

				if (ct->n_timeouts == SG_CONF_MAX_TIMEOUTS)
					return fail(ld, t, "conntrack.timeouts: too many entries");
				snprintf(what, sizeof(what), "conntrack.timeouts.%s", config_setting_name(t));
				rc = read_uint(ld, t, what, 1, 10000000, &v->value);
				sg_strlcpy(v->name, config_setting_name(t), sizeof(v->name));
				v->line = loc_of(ld, t);
				ct->n_timeouts++;
			}
		} else
			return fail(ld, f,
					"conntrack: unknown field \"%s\" (known: capacity, tcp_be_liberal, "
					"tcp_loose, keep_established, port_max_connections, "
					"port_new_connections_per_second, share_reserve, timeouts)",
					name);
	}
	return rc;
}

/* control.metrics_address: one address or a list of them, IPv4 or IPv6. */
static int
parse_metrics_addresses(struct loader *ld, const config_setting_t *f)
{
	struct sg_conf *conf = ld->conf;
	bool list = is_list(f);
	int n = list ? config_setting_length(f) : 1, rc;

	if (n > SG_CONF_MAX_METRICS_ADDRESSES)
		return fail(ld, f, "control.metrics_address has more than %d addresses",
				SG_CONF_MAX_METRICS_ADDRESSES);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = list ? config_setting_get_elem(f, (unsigned int)i) : f;
		struct sg_ip *ip = &conf->metrics_address[conf->n_metrics_address];
		const char *text = NULL;

		if ((rc = require_string(ld, e, "control.metrics_address", &text)) < 0)
			return rc;
		if (sg_ip_parse(text, ip) < 0)
			return fail(ld, e,
					"control.metrics_address \"%s\" is not an IPv4 or IPv6 "
					"address",
					text);
		for (uint32_t k = 0; k < conf->n_metrics_address; k++)
			if (sg_ip_equal(&conf->metrics_address[k], ip))
				return fail(ld, e, "control.metrics_address lists %s twice", text);
		conf->n_metrics_address++;
	}
	return 0;
}

static int
parse_control(struct loader *ld, const config_setting_t *section)
{
	if (config_setting_type(section) != CONFIG_TYPE_GROUP)
		return fail(ld, section, "control must be a group: control = { socket = \"...\"; }");
	for (int i = 0; i < config_setting_length(section); i++) {
		const config_setting_t *f = config_setting_get_elem(section, (unsigned int)i);
		const char *text = NULL;
		int rc;

		if (strcmp(config_setting_name(f), "persist") == 0) {
			if ((rc = read_bool(ld, f, "control.persist", &ld->conf->control_persist)) < 0)
				return rc;
			continue;
		}
		if (strcmp(config_setting_name(f), "metrics_port") == 0) {
			uint32_t port;

			if ((rc = read_uint(ld, f, "control.metrics_port", 0, 65535, &port)) < 0)
				return rc;
			ld->conf->metrics_port = (uint16_t)port;
			continue;
		}
		if (strcmp(config_setting_name(f), "metrics_address") == 0) {
			if ((rc = parse_metrics_addresses(ld, f)) < 0)
				return rc;
			continue;
		}
		if (strcmp(config_setting_name(f), "group") == 0) {
			char why[96];

			if ((rc = require_string(ld, f, "control.group", &text)) < 0)
				return rc;
			if (sg_strlcpy(ld->conf->control_group, text, SG_NAME_MAX) < 0)
				return fail(ld, f,
						"control.group \"%s\" is longer than %d characters",
						text, SG_NAME_MAX - 1);
			if (sg_name_check(text, why, sizeof(why)) < 0)
				return fail(ld, f, "control.group \"%s\" %s", text, why);
			continue;
		}
		if (strcmp(config_setting_name(f), "socket") != 0)
			return fail(ld, f,
					"control: unknown field \"%s\" (known: socket, group, "
					"persist, metrics_port, metrics_address)",
					config_setting_name(f));
		if ((rc = require_string(ld, f, "control.socket", &text)) < 0)
			return rc;
		if (sg_strlcpy(ld->conf->control_socket, text, SG_PATH_MAX) < 0)
			return fail(ld, f, "control.socket is longer than %d characters", SG_PATH_MAX - 1);
	}
	return 0;
}

static const char *const traffic_names[] = {
	[0] = "none",
	[SG_FLOWLOG_ACCEPT] = "accept",
	[SG_FLOWLOG_REJECT] = "reject",
	[SG_FLOWLOG_ALL] = "all",
};

const char *
sg_conf_flowlog_traffic_name(uint8_t traffic)
{
	return traffic_names[traffic & SG_FLOWLOG_ALL];
}

static const char *const format_names[SG_FLOWLOG_FORMAT_COUNT] = {
	[SG_FLOWLOG_TEXT] = "text",
	[SG_FLOWLOG_JSON] = "json",
	[SG_FLOWLOG_ALIBABA] = "alibaba",
	[SG_FLOWLOG_AWS_V5] = "aws-v5",
};

const char *
sg_conf_flowlog_format_name(enum sg_flowlog_format format)
{
	return (unsigned int)format < SG_FLOWLOG_FORMAT_COUNT ? format_names[format] : "text";
}

int
sg_conf_flowlog_format_parse(const char *name)
{
	for (int i = 0; i < SG_FLOWLOG_FORMAT_COUNT; i++)
		if (strcmp(name, format_names[i]) == 0)
			return i;
	return -EINVAL;
}

static int
read_traffic(struct loader *ld, const config_setting_t *s, const char *what, uint8_t *out)
{
	const char *text = NULL;
	int rc;

	if ((rc = require_string(ld, s, what, &text)) < 0)
		return rc;
	for (uint8_t k = 0; k < SG_ARRAY_SIZE(traffic_names); k++) {
		if (strcmp(text, traffic_names[k]) == 0) {
			*out = k;
			return 0;
		}
	}
	return fail(ld, s, "%s \"%s\" must be \"all\", \"accept\", \"reject\" or \"none\"", what, text);
}

/* flow_logs.groups or flow_logs.ports: ( { id|name = "..."; traffic = "..."; }, ... ). */
static int
parse_flowlog_sels(struct loader *ld, const config_setting_t *f, bool groups)
{
	struct sg_conf_flowlog *fl = &ld->conf->flow_logs;
	const char *key = groups ? "id" : "name", *what = groups ? "flow_logs.groups" : "flow_logs.ports";
	struct sg_conf_flowlog_sel **list = groups ? &fl->groups : &fl->ports;
	uint32_t *n = groups ? &fl->n_groups : &fl->n_ports;
	int rc;

	if (!is_list(f))
		return fail(ld, f, "%s must be a list: ( { %s = \"...\"; traffic = \"reject\"; } )", what,
				key);
	*list = calloc((size_t)config_setting_length(f) + 1, sizeof(**list));
	if (*list == NULL)
		return fail(ld, f, "out of memory");
	for (int i = 0; i < config_setting_length(f); i++) {
		const config_setting_t *e = config_setting_get_elem(f, (unsigned int)i);
		const config_setting_t *name = config_setting_get_member(e, key);
		const config_setting_t *traffic = config_setting_get_member(e, "traffic");
		struct sg_conf_flowlog_sel *sel = &(*list)[*n];
		const char *text = NULL;

		if (config_setting_type(e) != CONFIG_TYPE_GROUP || name == NULL || traffic == NULL)
			return fail(ld, e, "%s entry needs %s and traffic: { %s = \"...\"; traffic = \"all\"; }",
					what, key, key);
		for (int k = 0; k < config_setting_length(e); k++) {
			const char *field = config_setting_name(config_setting_get_elem(e, (unsigned int)k));

			if (strcmp(field, key) != 0 && strcmp(field, "traffic") != 0)
				return fail(ld, config_setting_get_elem(e, (unsigned int)k),
						"%s: unknown field \"%s\" (known: %s, traffic)", what, field, key);
		}
		if ((rc = require_string(ld, name, key, &text)) < 0)
			return rc;
		if (sg_strlcpy(sel->name, text, sizeof(sel->name)) < 0)
			return fail(ld, name, "%s: %s \"%s\" is not defined", what,
					groups ? "security group" : "port", text);
		for (uint32_t k = 0; k < *n; k++)
			if (strcmp((*list)[k].name, text) == 0)
				return fail(ld, name, "%s: \"%s\" is listed twice (first on line %d)", what,
						text, SG_LOC_LINE((*list)[k].line));
		if ((rc = read_traffic(ld, traffic, "traffic", &sel->traffic)) < 0)
			return rc;
		sel->line = loc_of(ld, e);
		(*n)++;
	}
	return 0;
}

static int
parse_flow_logs(struct loader *ld, const config_setting_t *section)
{
	struct sg_conf_flowlog *fl = &ld->conf->flow_logs;
	int rc = 0;

	if (config_setting_type(section) != CONFIG_TYPE_GROUP)
		return fail(ld, section, "flow_logs must be a group: flow_logs = { enabled = true; }");
	fl->line = loc_of(ld, section);
	for (int i = 0; i < config_setting_length(section) && rc == 0; i++) {
		const config_setting_t *f = config_setting_get_elem(section, (unsigned int)i);
		const char *name = config_setting_name(f), *text = NULL;

		if (strcmp(name, "enabled") == 0) {
			rc = read_bool(ld, f, "flow_logs.enabled", &fl->enabled);
		} else if (strcmp(name, "directory") == 0) {
			if ((rc = require_string(ld, f, "flow_logs.directory", &text)) < 0)
				return rc;
			if (*text == '\0' || sg_strlcpy(fl->directory, text, SG_PATH_MAX) < 0)
				return fail(ld, f, "flow_logs.directory must be 1..%d characters",
						SG_PATH_MAX - 1);
		} else if (strcmp(name, "window") == 0) {
			rc = read_uint(ld, f, "flow_logs.window", 1, 3600, &fl->window);
		} else if (strcmp(name, "format") == 0) {
			if ((rc = require_string(ld, f, "flow_logs.format", &text)) < 0)
				return rc;
			int format = sg_conf_flowlog_format_parse(text);

			if (format < 0)
				return fail(ld, f,
						"flow_logs.format \"%s\" must be \"text\", \"json\", "
						"\"alibaba\" or \"aws-v5\"",
						text);
			fl->format = (enum sg_flowlog_format)format;
		} else if (strcmp(name, "max_file_mb") == 0) {
			rc = read_uint(ld, f, "flow_logs.max_file_mb", 1, 65536, &fl->max_file_mb);
		} else if (strcmp(name, "max_file_age") == 0) {
			rc = read_uint(ld, f, "flow_logs.max_file_age", 1, 604800, &fl->max_file_age);
		} else if (strcmp(name, "ring_size") == 0) {
			rc = read_uint(ld, f, "flow_logs.ring_size", 64, 1048576, &fl->ring_size);
		} else if (strcmp(name, "max_flows") == 0) {
			rc = read_uint(ld, f, "flow_logs.max_flows", 1024, 16777216, &fl->max_flows);
		} else if (strcmp(name, "port_max_flows") == 0) {
			rc = read_uint(ld, f, "flow_logs.port_max_flows", 0, 16777216,
					&fl->port_max_flows);
		} else if (strcmp(name, "port_events_per_second") == 0) {
			rc = read_uint(ld, f, "flow_logs.port_events_per_second", 0, 100000000,
					&fl->port_events_per_second);
		} else if (strcmp(name, "traffic") == 0) {
			rc = read_traffic(ld, f, "flow_logs.traffic", &fl->traffic);
		} else if (strcmp(name, "groups") == 0 || strcmp(name, "ports") == 0) {
			rc = parse_flowlog_sels(ld, f, strcmp(name, "groups") == 0);
		} else {
			return fail(ld, f,
					"flow_logs: unknown field \"%s\" (known: enabled, directory, window, "
					"format, max_file_mb, max_file_age, ring_size, max_flows, "
					"port_max_flows, port_events_per_second, traffic, groups, ports)",
					name);
		}
	}
	if (rc == 0 && fl->port_max_flows > fl->max_flows)
		return fail(ld, config_setting_get_member(section, "port_max_flows"),
				"flow_logs.port_max_flows %u is more than flow_logs.max_flows %u: a port's "
				"share cannot be more than the whole window",
				fl->port_max_flows, fl->max_flows);
	return rc;
}

uint8_t
sg_conf_flowlog_traffic(const struct sg_conf *conf, uint32_t port)
{
	const struct sg_conf_flowlog *fl = &conf->flow_logs;
	const struct sg_spec *spec = sg_policy_spec(conf->policy);
	const uint32_t *groups;
	uint32_t n_groups;
	uint8_t traffic = 0;
	bool listed = false;

	if (!fl->enabled || port >= spec->n_ports)
		return 0;
	for (uint32_t i = 0; i < fl->n_ports; i++)
		if (strcmp(fl->ports[i].name, spec->ports[port].name) == 0)
			return fl->ports[i].traffic;
	n_groups = sg_policy_port_groups(conf->policy, port, &groups);
	for (uint32_t g = 0; g < n_groups; g++) {
		for (uint32_t i = 0; i < fl->n_groups; i++) {
			if (strcmp(fl->groups[i].name, spec->groups[groups[g]].id) == 0) {
				traffic |= fl->groups[i].traffic;
				listed = true;
			}
		}
	}
	return listed ? traffic : fl->traffic;
}

static int
read_level(struct loader *ld, const config_setting_t *s, const char *what, const char *text,
		uint8_t *out)
{
	int level = sg_log_level_parse(text);

	if (level < 0)
		return fail(ld, s, "%s \"%s\" must be emergency, alert, critical, error, warning, "
				"notice, info or debug", what, text);
	*out = (uint8_t)level;
	return 0;
}

/* logging.levels: ["PATTERN:LEVEL", ...], as EAL's --log-level takes them. */
static int
parse_log_levels(struct loader *ld, const config_setting_t *f)
{
	struct sg_conf_logging *log = &ld->conf->logging;
	int rc;

	if (!is_list(f))
		return fail(ld, f, "logging.levels must be a list of \"TYPE:LEVEL\" strings, like "
				"[\"sgfw.dp:debug\", \"lib.vhost.*:warning\"]");
	if (config_setting_length(f) > SG_CONF_MAX_LOG_LEVELS)
		return fail(ld, f, "logging.levels has more than %d entries", SG_CONF_MAX_LOG_LEVELS);
	for (int i = 0; i < config_setting_length(f); i++) {
		const config_setting_t *e = config_setting_get_elem(f, (unsigned int)i);
		struct sg_conf_log_level *l = &log->levels[log->n_levels];
		const char *text = NULL, *colon;

		if ((rc = require_string(ld, e, "logging.levels entry", &text)) < 0)
			return rc;
		colon = strrchr(text, ':');
		if (colon == NULL || colon == text || (size_t)(colon - text) >= sizeof(l->pattern))
			return fail(ld, e, "logging.levels entry \"%s\" must be TYPE:LEVEL, like "
					"\"sgfw.dp:debug\" (TYPE may be a glob, 1..%d characters)", text,
					SG_NAME_MAX - 1);
		snprintf(l->pattern, sizeof(l->pattern), "%.*s", (int)(colon - text), text);
		if ((rc = read_level(ld, e, "logging.levels level", colon + 1, &l->level)) < 0)
			return rc;
		l->line = loc_of(ld, e);
		log->n_levels++;
	}
	return 0;
}

static int
parse_logging(struct loader *ld, const config_setting_t *section)
{
	struct sg_conf_logging *log = &ld->conf->logging;
	int rc = 0;

	if (config_setting_type(section) != CONFIG_TYPE_GROUP)
		return fail(ld, section, "logging must be a group: logging = { level = \"info\"; }");
	log->line = loc_of(ld, section);
	for (int i = 0; i < config_setting_length(section) && rc == 0; i++) {
		const config_setting_t *f = config_setting_get_elem(section, (unsigned int)i);
		const char *name = config_setting_name(f), *text = NULL;

		if (strcmp(name, "levels") == 0) {
			rc = parse_log_levels(ld, f);
		} else if (strcmp(name, "level") == 0) {
			if ((rc = require_string(ld, f, "logging.level", &text)) == 0)
				rc = read_level(ld, f, "logging.level", text, &log->level);
		} else if (strcmp(name, "output") == 0) {
			if ((rc = require_string(ld, f, "logging.output", &text)) < 0)
				return rc;
			if (strcmp(text, "stderr") != 0 && strcmp(text, "syslog") != 0)
				return fail(ld, f, "logging.output \"%s\" must be \"stderr\" or "
						"\"syslog\"", text);
			log->output = text[1] == 'y' ? SG_LOG_OUTPUT_SYSLOG : SG_LOG_OUTPUT_STDERR;
		} else {
			return fail(ld, f, "logging: unknown field \"%s\" (known: level, levels, output)",
					name);
		}
	}
	return rc;
}

/* vhost_user: the default access of every vhost-user server socket. */
static int
parse_vhost_user(struct loader *ld, const config_setting_t *section)
{
	if (config_setting_type(section) != CONFIG_TYPE_GROUP)
		return fail(ld, section, "vhost_user must be a group: vhost_user = { socket_mode = "
				"\"0660\"; socket_group = \"kvm\"; }");
	for (int i = 0; i < config_setting_length(section); i++) {
		const config_setting_t *f = config_setting_get_elem(section, (unsigned int)i);
		const char *text = NULL;
		char msg[200];
		int rc;

		if (strncmp(config_setting_name(f), "socket_", 7) == 0) {
			if ((rc = require_string(ld, f, config_setting_name(f), &text)) < 0)
				return rc;
			rc = socket_access_set(&ld->conf->vhost_user, config_setting_name(f), text, msg,
					sizeof(msg));
			if (rc < 0)
				return fail(ld, f, "vhost_user.%s", msg);
			if (rc == 0)
				continue;
		}
		return fail(ld, f, "vhost_user: unknown field \"%s\" (known: socket_owner, "
				"socket_group, socket_mode)", config_setting_name(f));
	}
	return 0;
}

/* cluster: etcd endpoints, key prefix, state file, TLS files, timeouts (docs/cluster.md). */
static int
parse_cluster(struct loader *ld, const config_setting_t *section)
{
	struct sg_conf_cluster *c = &ld->conf->cluster;
	static const struct {
		const char *name;
		size_t off;
	} paths[] = {
		{"prefix", offsetof(struct sg_conf_cluster, prefix)},
		{"state_file", offsetof(struct sg_conf_cluster, state_file)},
		{"ca_file", offsetof(struct sg_conf_cluster, ca_file)},
		{"cert_file", offsetof(struct sg_conf_cluster, cert_file)},
		{"key_file", offsetof(struct sg_conf_cluster, key_file)},
	};
	const config_setting_t *eps = config_setting_get_member(section, "endpoints");
	int rc;

	if (config_setting_type(section) != CONFIG_TYPE_GROUP)
		return fail(ld, section, "cluster must be a group: cluster = { endpoints = "
				"[\"http://127.0.0.1:2379\"]; }");
	c->line = loc_of(ld, section);
	if (eps == NULL || !is_list(eps) || config_setting_length(eps) == 0)
		return fail(ld, eps != NULL ? eps : section,
				"cluster.endpoints must list etcd's client URLs, like "
				"[\"http://10.0.0.1:2379\"]");
	if (config_setting_length(eps) > SG_CONF_MAX_ENDPOINTS)
		return fail(ld, eps, "cluster.endpoints: at most %d endpoints",
				SG_CONF_MAX_ENDPOINTS);
	for (int i = 0; i < config_setting_length(eps); i++) {
		const config_setting_t *e = config_setting_get_elem(eps, (unsigned int)i);
		const char *url = config_setting_get_string(e);

		if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
			return fail(ld, e, "cluster.endpoints[%d] must be an http:// or https:// URL",
					i);
		if (sg_strlcpy(c->endpoints[i], url, SG_PATH_MAX) < 0)
			return fail(ld, e, "cluster.endpoints[%d] is longer than %d characters", i,
					SG_PATH_MAX - 1);
		c->n_endpoints++;
	}
	for (int i = 0; i < config_setting_length(section); i++) {
		const config_setting_t *f = config_setting_get_elem(section, (unsigned int)i);
		const char *name = config_setting_name(f), *text = NULL;
		size_t k;

		if (strcmp(name, "endpoints") == 0)
			continue;
		if (strcmp(name, "timeout_ms") == 0 || strcmp(name, "lease_ttl") == 0) {
			bool t = name[0] == 't';

			if ((rc = read_uint(ld, f, t ? "cluster.timeout_ms" : "cluster.lease_ttl",
					     t ? 100 : 2, t ? 600000 : 3600,
					     t ? &c->timeout_ms : &c->lease_ttl)) < 0)
				return rc;
			continue;
		}
		for (k = 0; k < SG_ARRAY_SIZE(paths); k++)
			if (strcmp(name, paths[k].name) == 0)
				break;
		if (k == SG_ARRAY_SIZE(paths))
			return fail(ld, f, "cluster: unknown field \"%s\" (known: endpoints, prefix, "
					"state_file, ca_file, cert_file, key_file, timeout_ms, "
					"lease_ttl)", name);
		if ((rc = require_string(ld, f, name, &text)) < 0)
			return rc;
		if (strcmp(name, "prefix") == 0 && (text[0] != '/' || text[strlen(text) - 1] != '/'))
			return fail(ld, f, "cluster.prefix \"%s\" must start and end with /", text);
		if (sg_strlcpy((char *)c + paths[k].off, text, SG_PATH_MAX) < 0)
			return fail(ld, f, "cluster.%s is longer than %d characters", name,
					SG_PATH_MAX - 1);
	}
	return 0;
}

static const struct {
	const char *name;
	int (*parse)(struct loader *ld, const config_setting_t *section);
} sections[] = {
	{"host", parse_host},
	{"hosts", parse_hosts},
	{"limits", parse_limits},
	{"prefix_lists", parse_prefix_lists},
	{"security_groups", parse_groups},
	{"ports", parse_ports},
	{"subnets", parse_subnets},
	{"router", parse_router},
	{"dataplane", parse_dataplane},
	{"conntrack", parse_conntrack},
	{"control", parse_control},
	{"flow_logs", parse_flow_logs},
	{"logging", parse_logging},
	{"vhost_user", parse_vhost_user},
	{"overlay", parse_overlay},
	{"cluster", parse_cluster},
};

static int
parse_root(struct loader *ld, const config_setting_t *root)
{
	int rc;

	/* Sections in a fixed order, so ports may refer to groups defined after them. */
	for (size_t k = 0; k < SG_ARRAY_SIZE(sections); k++) {
		const config_setting_t *s = config_setting_get_member(root, sections[k].name);

		if (s != NULL && (rc = sections[k].parse(ld, s)) < 0)
			return rc;
	}
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned int)i);
		size_t k;

		for (k = 0; k < SG_ARRAY_SIZE(sections); k++)
			if (strcmp(config_setting_name(s), sections[k].name) == 0)
				break;
		if (k == SG_ARRAY_SIZE(sections))
			return fail(ld, s,
					"unknown setting \"%s\" (known: host, hosts, limits, "
					"prefix_lists, security_groups, ports, subnets, router, "
					"dataplane, conntrack, control, flow_logs, logging, "
					"vhost_user, overlay, cluster)",
					config_setting_name(s));
	}
	return 0;
}

const struct sg_conf_port *
sg_conf_find_port(const struct sg_conf *conf, const char *name)
{
	for (uint32_t i = 0; i < conf->n_ports; i++)
		if (strcmp(conf->ports[i].name, name) == 0)
			return &conf->ports[i];
	return NULL;
}

const struct sg_conf_host *
sg_conf_find_host(const struct sg_conf *conf, const char *name)
{
	for (uint32_t i = 0; i < conf->n_hosts; i++)
		if (strcmp(conf->hosts[i].name, name) == 0)
			return &conf->hosts[i];
	return NULL;
}

const struct sg_conf_port *
sg_conf_uplink(const struct sg_conf *conf)
{
	for (uint32_t i = 0; i < conf->n_ports; i++)
		if (conf->ports[i].uplink)
			return &conf->ports[i];
	return NULL;
}

const struct sg_conf_subnet *
sg_conf_subnet_of(const struct sg_conf *conf, const struct sg_ip *ip)
{
	for (uint32_t i = 0; i < conf->n_subnets; i++)
		if (sg_prefix_contains(&conf->subnets[i].cidr, ip))
			return &conf->subnets[i];
	return NULL;
}

static void
set_defaults(struct sg_conf *conf)
{
	static const uint8_t router_mac[6] = {0x02, 0x53, 0x47, 0x00, 0x00, 0x01};

	/* Field by field into the zeroed conf: sg_conf_diff() compares structures as memory,
	 * and assigning a whole structure need not zero its padding. */
	memcpy(conf->router_mac, router_mac, 6);
	conf->dataplane.workers = 1;
	conf->dataplane.mbufs = 16383;
	conf->dataplane.burst = 32;
	conf->dataplane.rx_desc = 1024;
	conf->dataplane.tx_desc = 1024;
	conf->overlay.mtu = SG_OVERLAY_MTU_DEFAULT;
	conf->conntrack.capacity = 1048576;
	conf->conntrack.tcp_loose = true;
	conf->conntrack.share_reserve = SG_CONF_SHARE_RESERVE_DEFAULT;
	snprintf(conf->dataplane.file_prefix, sizeof(conf->dataplane.file_prefix), "sgfw");
	conf->logging.level = SG_LOG_LEVEL_DEFAULT;
	snprintf(conf->control_socket, sizeof(conf->control_socket), "/run/sgfw/sgfw.sock");
	conf->flow_logs.window = 60;
	conf->flow_logs.format = SG_FLOWLOG_TEXT;
	conf->flow_logs.max_file_mb = 64;
	conf->flow_logs.max_file_age = 3600;
	conf->flow_logs.ring_size = 8192;
	conf->flow_logs.max_flows = 262144;
	conf->flow_logs.port_events_per_second = 100000;
	conf->flow_logs.traffic = SG_FLOWLOG_ALL;
	snprintf(conf->flow_logs.directory, sizeof(conf->flow_logs.directory), "/var/log/sgfw/flows");
	snprintf(conf->cluster.prefix, sizeof(conf->cluster.prefix), "/sgfw/v1/");
	snprintf(conf->cluster.state_file, sizeof(conf->cluster.state_file),
			"/var/lib/sgfw/cluster.json");
	conf->cluster.timeout_ms = 5000;
	conf->cluster.lease_ttl = 10;
}

/* A VM address that is the network or broadcast address of 'net' (IPv6: its subnet-router
 * anycast address) is refused: no VM can own it. */
static int
subnet_edge(const struct sg_spec_port *port, const struct sg_ip *ip,
		const struct sg_conf_subnet *net, struct sg_error *err)
{
	int edge = sg_prefix_edge(&net->cidr, ip);
	char text[SG_IP_STRLEN], cidr[SG_PREFIX_STRLEN];
	const char *what = edge > 0 ? "broadcast" :
			   ip->family == SG_AF_INET ? "network" : "subnet-router anycast";

	if (edge == 0)
		return 0;
	return sg_error_set(err, port->line,
			"port \"%s\": ip %s is the %s address of subnet %s (line %d), which no VM "
			"can own",
			port->name, sg_ip_format(ip, text, sizeof(text)), what,
			sg_prefix_format(&net->cidr, cidr, sizeof(cidr)), SG_LOC_LINE(net->line));
}

/*
 * An allowed prefix is a network no VM is denied: none of the special ranges, and either
 * inside one subnet, short of its network, broadcast and gateway addresses (delivered like
 * the subnet's addresses), or outside every subnet (a network routed behind the VM).
 */
static int
check_allowed_prefix(const struct sg_conf *conf, const struct sg_spec_port *port,
		const struct sg_prefix *pfx, struct sg_error *err)
{
	char text[SG_PREFIX_STRLEN], net[SG_PREFIX_STRLEN], ip[SG_IP_STRLEN];
	const char *why = sg_prefix_not_unicast(pfx);
	const struct sg_conf_subnet *sub = NULL;
	struct sg_ip last = sg_prefix_last(pfx);
	int edge;

	sg_prefix_format(pfx, text, sizeof(text));
	if (why != NULL)
		return sg_error_set(err, port->line, "port \"%s\": allowed prefix %s %s",
				port->name, text, why);
	for (uint32_t k = 0; k < conf->n_subnets && sub == NULL; k++) {
		if (sg_prefix_covers(pfx, &conf->subnets[k].cidr))
			return sg_error_set(err, port->line,
					"port \"%s\": allowed prefix %s covers subnet %s (line %d); "
					"a prefix lies inside one subnet or outside all of them",
					port->name, text,
					sg_prefix_format(&conf->subnets[k].cidr, net, sizeof(net)),
					SG_LOC_LINE(conf->subnets[k].line));
		if (sg_prefix_covers(&conf->subnets[k].cidr, pfx))
			sub = &conf->subnets[k];
	}
	if (sub == NULL)
		return 0; /* a network routed behind the VM */
	sg_prefix_format(&sub->cidr, net, sizeof(net));
	if (sg_prefix_contains(pfx, &sub->gateway))
		return sg_error_set(err, port->line,
				"port \"%s\": allowed prefix %s holds the gateway %s of subnet %s "
				"(line %d)",
				port->name, text, sg_ip_format(&sub->gateway, ip, sizeof(ip)), net,
				SG_LOC_LINE(sub->line));
	/* Its first address is the subnet's first, or its last the subnet's last. */
	edge = sg_prefix_edge(&sub->cidr, &pfx->ip) < 0 ? -1 : sg_prefix_edge(&sub->cidr, &last);
	if (edge != 0)
		return sg_error_set(err, port->line,
				"port \"%s\": allowed prefix %s holds the %s address of subnet %s "
				"(line %d), which no VM can own",
				port->name, text,
				edge > 0			 ? "broadcast"
				: pfx->ip.family == SG_AF_INET ? "network"
							       : "subnet-router anycast",
				net, SG_LOC_LINE(sub->line));
	return 0;
}

/* Checks that span sections: addresses against subnets, the uplink's next hop. */
static int
check_network(const struct sg_conf *conf, struct sg_error *err)
{
	const struct sg_spec *spec = conf->spec;
	const struct sg_conf_port *uplink = sg_conf_uplink(conf);
	char text[SG_IP_STRLEN];

	if (uplink != NULL && !uplink->has_peer_mac)
		return sg_error_set(err, uplink->line,
				"port \"%s\" is the uplink: it needs peer_mac, the MAC of the router "
				"behind it",
				uplink->name);
	for (uint32_t p = 0; p < spec->n_ports; p++) {
		const struct sg_spec_port *port = &spec->ports[p];

		for (uint32_t i = 0; i < port->n_ips; i++) {
			const char *why = sg_ip_not_unicast(&port->ips[i]);

			if (why != NULL)
				return sg_error_set(err, port->line,
						"port \"%s\": ip %s is %s, which no VM can own",
						port->name,
						sg_ip_format(&port->ips[i], text, sizeof(text)),
						why);
			if (conf->n_subnets > 0 && sg_conf_subnet_of(conf, &port->ips[i]) == NULL)
				return sg_error_set(err, port->line,
						"port \"%s\": ip %s is in no configured subnet",
						port->name, sg_ip_format(&port->ips[i], text, sizeof(text)));
			for (uint32_t k = 0; k < conf->n_subnets; k++)
				if (subnet_edge(port, &port->ips[i], &conf->subnets[k], err) < 0)
					return -EINVAL;
			for (uint32_t k = 0; k < conf->n_subnets; k++)
				if (sg_ip_equal(&conf->subnets[k].gateway, &port->ips[i]))
					return sg_error_set(err, port->line,
							"port \"%s\": ip %s is the gateway of subnet on line %d",
							port->name,
							sg_ip_format(&port->ips[i], text, sizeof(text)),
							SG_LOC_LINE(conf->subnets[k].line));
		}
		for (uint32_t i = 0; i < port->n_prefixes; i++)
			if (check_allowed_prefix(conf, port, &port->prefixes[i], err) < 0)
				return -EINVAL;
	}
	return 0;
}

/* A remote port's address or prefix must be in a subnet with a vni: nothing else reaches it. */
static int
check_remote_address(const struct sg_conf *conf, const struct sg_conf_port *dev,
		const char *field, const struct sg_prefix *p, struct sg_error *err)
{
	char text[SG_PREFIX_STRLEN], net[SG_PREFIX_STRLEN];

	for (uint32_t k = 0; k < conf->n_subnets; k++) {
		if (!sg_prefix_covers(&conf->subnets[k].cidr, p))
			continue;
		if (conf->subnets[k].vni != 0)
			return 0;
		return sg_error_set(err, dev->line,
				"port \"%s\": %s %s is in subnet %s (line %d), which has no vni: a "
				"port on host \"%s\" is reached through the overlay, in a subnet "
				"with a vni",
				dev->name, field,
				p->len == (p->ip.family == SG_AF_INET ? 32 : 128) ?
						sg_ip_format(&p->ip, text, sizeof(text)) :
						sg_prefix_format(p, text, sizeof(text)),
				sg_prefix_format(&conf->subnets[k].cidr, net, sizeof(net)),
				SG_LOC_LINE(conf->subnets[k].line), dev->host);
	}
	return sg_error_set(err, dev->line,
			"port \"%s\": %s %s is in no subnet: a port on host \"%s\" is reached "
			"through the overlay, in a subnet with a vni",
			dev->name, field, sg_prefix_format(p, text, sizeof(text)), dev->host);
}

static int check_fleet_port(struct sg_conf *conf, struct sg_spec *spec, struct sg_conf_port *dev,
		struct sg_keyset *hosts, uint32_t *sp, struct sg_error *err);

/*
 * The fleet (hosts, host, ports[].host): this host is one of 'hosts' and has the uplink; each
 * port's host exists; a remote port's addresses are in subnets with a vni. Marks each port
 * (device and spec) remote or local. Runs on every load and change.
 */
static int
check_fleet(struct sg_conf *conf, struct sg_error *err)
{
	const struct sg_conf_port *uplink = sg_conf_uplink(conf);
	struct sg_spec *spec = conf->spec;
	struct sg_keyset hosts = {0};
	uint32_t sp = 0, h;
	int rc = 0;

	if (conf->n_hosts > 0 && conf->host[0] == '\0')
		return sg_error_set(err, conf->hosts[0].line,
				"hosts is given but not host, this node's name among them "
				"(host = \"%s\";)", conf->hosts[0].name);
	if (conf->n_hosts > 0 && sg_conf_find_host(conf, conf->host) == NULL)
		return sg_error_set(err, conf->hosts[0].line,
				"host \"%s\" is not one of hosts: name this node there", conf->host);
	if (conf->n_hosts > 0 && uplink == NULL)
		return sg_error_set(err, conf->hosts[0].line,
				"hosts is given but no port has role = \"uplink\": the overlay to the "
				"other hosts runs over the uplink");
	/* Hosts by name: a fleet has many ports and may have many hosts. */
	for (uint32_t k = 0; k < conf->n_hosts && rc >= 0; k++)
		rc = sg_keyset_add(&hosts, 0, conf->hosts[k].name,
				(uint32_t)strlen(conf->hosts[k].name), k, &h);
	if (rc < 0) {
		sg_keyset_free(&hosts);
		return sg_error_set(err, 0, "out of memory");
	}
	for (uint32_t i = 0; i < conf->n_ports && rc >= 0; i++)
		rc = check_fleet_port(conf, spec, &conf->ports[i], &hosts, &sp, err);
	sg_keyset_free(&hosts);
	return rc < 0 ? -EINVAL : 0;
}

/* One port of check_fleet(): local or remote, its host known, a remote one reachable. */
static int
check_fleet_port(struct sg_conf *conf, struct sg_spec *spec, struct sg_conf_port *dev,
		struct sg_keyset *hosts, uint32_t *sp, struct sg_error *err)
{
	const char *path_name;
	struct sg_spec_port *port;
	uint32_t known;
	int p;

	if (dev->uplink)
		return 0;
	/* Ports and spec ports are in the same order (loads and changes keep it): look there
	 * first, so a fleet of many ports is checked in linear time. */
	if (*sp < spec->n_ports && strcmp(spec->ports[*sp].name, dev->name) == 0)
		p = (int)*sp;
	else
		p = sg_spec_find_port(spec, dev->name);
	if (p < 0)
		return sg_error_set(err, dev->line, "internal: port \"%s\" has no policy entry",
				dev->name);
	*sp = (uint32_t)p + 1;
	port = &spec->ports[p];
	dev->remote = dev->host[0] != '\0' && strcmp(dev->host, conf->host) != 0;
	port->remote = dev->remote;
	/* Looked up by adding it: a host not in the set was not one of 'hosts'. */
	if (dev->remote &&
			sg_keyset_add(hosts, 0, dev->host, (uint32_t)strlen(dev->host), UINT32_MAX,
					&known) != 1)
		return sg_error_set(err, dev->line, "port \"%s\": host \"%s\" is not one of hosts",
				dev->name, dev->host);
	if (!dev->remote) {
		path_name = path_field(dev->kind);
		if (path_name != NULL && dev->path[0] == '\0')
			return sg_error_set(err, dev->line, "port \"%s\" (%s) needs %s", dev->name,
					port_kind_names[dev->kind], path_name);
		return 0;
	}
	for (uint32_t k = 0; k < port->n_ips; k++) {
		struct sg_prefix host = sg_prefix_host(&port->ips[k]);

		if (check_remote_address(conf, dev, "ip", &host, err) < 0)
			return -EINVAL;
	}
	for (uint32_t k = 0; k < port->n_prefixes; k++)
		if (check_remote_address(conf, dev, "allowed prefix", &port->prefixes[k], err) < 0)
			return -EINVAL;
	return 0;
}

/*
 * The groups and ports flow_logs selects exist, in a loaded file and after every change. A
 * change cannot edit flow_logs, so it is refused rather than leave a selection to nothing.
 */
static int
check_flow_log_names(const struct sg_conf *conf, bool change, struct sg_error *err)
{
	const struct sg_conf_flowlog *fl = &conf->flow_logs;

	for (uint32_t i = 0; i < fl->n_groups + fl->n_ports; i++) {
		bool group = i < fl->n_groups;
		const struct sg_conf_flowlog_sel *sel = group ? &fl->groups[i] :
								&fl->ports[i - fl->n_groups];

		if ((group ? sg_spec_find_group(conf->spec, sel->name) :
			     sg_spec_find_port(conf->spec, sel->name)) >= 0)
			continue;
		if (change)
			return sg_error_set(err, 0,
					"%s \"%s\" is named in flow_logs.%s (line %d); remove it there "
					"first (edit the config and reload)",
					group ? "security group" : "port", sel->name,
					group ? "groups" : "ports", SG_LOC_LINE(sel->line));
		return sg_error_set(err, sel->line, "flow_logs.%s: %s \"%s\" is not defined%s",
				group ? "groups" : "ports", group ? "security group" : "port", sel->name,
				group ? "" : " (or is the uplink, which is never logged)");
	}
	return 0;
}

void
sg_conf_free(struct sg_conf *conf)
{
	if (conf == NULL)
		return;
	for (uint32_t i = 0; i < conf->dataplane.n_eal_args; i++)
		free(conf->dataplane.eal_args[i]);
	free(conf->subnets);
	free(conf->hosts);
	free(conf->flow_logs.groups);
	free(conf->flow_logs.ports);
	sg_policy_free(conf->policy);
	sg_spec_free(conf->spec);
	free(conf->ports);
	free(conf);
}

const char *
sg_conf_source(const struct sg_conf *conf, int loc)
{
	unsigned int file = SG_LOC_FILE(loc);

	return file < conf->n_sources ? conf->sources[file] : conf->path;
}

/* Prefix the message with the file and line: the one place errors get their location. */
static void
locate_error(struct sg_error *err, const struct sg_conf *conf, const char *origin)
{
	const char *file = conf != NULL ? sg_conf_source(conf, err->line) : origin;
	char msg[sizeof(err->msg)];

	snprintf(msg, sizeof(msg), "%s", err->msg);
	if (SG_LOC_LINE(err->line) > 0)
		snprintf(err->msg, sizeof(err->msg), "%s:%d: %s", file, SG_LOC_LINE(err->line), msg);
	else
		snprintf(err->msg, sizeof(err->msg), "%s: %s", file, msg);
}

struct int_settings {
	const config_setting_t **list;
	uint32_t n;
	uint32_t cap;
};

/* The integer settings under 's', in the order libconfig parsed them, by source file. */
static int
collect_ints(struct loader *ld, const config_setting_t *s, struct int_settings *files)
{
	int type = config_setting_type(s), rc;
	struct int_settings *f;

	if (type == CONFIG_TYPE_GROUP || type == CONFIG_TYPE_LIST || type == CONFIG_TYPE_ARRAY) {
		for (int i = 0; i < config_setting_length(s); i++)
			if ((rc = collect_ints(ld, config_setting_get_elem(s, (unsigned int)i),
					     files)) < 0)
				return rc;
		return 0;
	}
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return 0;
	if (ld->conf->n_sources == SG_CONF_MAX_SOURCES && config_setting_source_file(s) != NULL &&
			source_index(ld->conf, config_setting_source_file(s)) == 0)
		return sg_error_set(ld->err, 0, "a config may be made of at most %d files (@include)",
				SG_CONF_MAX_SOURCES);
	f = &files[source_index(ld->conf, config_setting_source_file(s))];
	if (f->n == f->cap) {
		const config_setting_t **grown;

		f->cap = f->cap ? f->cap * 2 : 64;
		grown = realloc(f->list, f->cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		f->list = grown;
	}
	f->list[f->n++] = s;
	return 0;
}

/* Match the integer settings of file 'index' to its literals; note the inexact ones. */
static int
match_ints(struct loader *ld, unsigned int index, const char *text, const struct int_settings *f)
{
	struct conf_literal *lits = NULL;
	uint32_t n = 0;
	int rc = conf_int_literals(text, &lits, &n);

	if (rc < 0)
		return sg_error_set(ld->err, 0, "out of memory");
	if (n != f->n) {
		free(lits);
		return sg_error_set(ld->err, SG_LOC(index, 0),
				"cannot match the %u numbers written in this file to its %u number "
				"settings (was it changed while it was read?); if not, this is a bug "
				"in sgfw: please report it with the file",
				n, f->n);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct inexact x = {.setting = f->list[i]};
		size_t len = lits[i].len;

		x.fits = conf_literal_value(&lits[i], &x.value) == 0;
		if (x.fits && x.value == config_setting_get_int64(f->list[i]))
			continue;
		while (len > 0 && lits[i].text[len - 1] == 'L')
			len--;
		snprintf(x.text, sizeof(x.text), "%.*s%s", (int)SG_MIN(len, sizeof(x.text) - 4),
				lits[i].text, len > sizeof(x.text) - 4 ? "..." : "");
		if (ld->n_inexact % 16 == 0) {
			struct inexact *grown = realloc(ld->inexact,
					(ld->n_inexact + 16) * sizeof(*grown));

			if (grown == NULL) {
				free(lits);
				return sg_error_set(ld->err, 0, "out of memory");
			}
			ld->inexact = grown;
		}
		ld->inexact[ld->n_inexact++] = x;
	}
	free(lits);
	return 0;
}

/*
 * libconfig 1.5 keeps 32 bits of an integer written without an L suffix: find, from the
 * source text, every integer setting it did not read as written, so the field's range check
 * sees the number the operator wrote.
 */
static int
scan_ints(struct loader *ld, const config_setting_t *root, const char *main_text)
{
	struct int_settings files[SG_CONF_MAX_SOURCES] = {0};
	int rc = collect_ints(ld, root, files);

	if (rc == -ENOMEM)
		rc = sg_error_set(ld->err, 0, "out of memory");
	for (unsigned int i = 0; i < ld->conf->n_sources && rc == 0; i++) {
		char *text;

		if (files[i].n == 0)
			continue;
		text = i == 0 ? (char *)main_text : sg_read_file(ld->conf->sources[i]);
		if (text == NULL) {
			rc = sg_error_set(ld->err, SG_LOC(i, 0), "cannot read it again: %s",
					strerror(errno));
			break;
		}
		rc = match_ints(ld, i, text, &files[i]);
		if (i != 0)
			free(text);
	}
	for (unsigned int i = 0; i < SG_CONF_MAX_SOURCES; i++)
		free(files[i].list);
	return rc;
}

/* Line 'line' of 'text' (without its newline), or "" when there is none. */
static void
line_of(const char *text, int line, char *buf, size_t size)
{
	const char *start = text, *end;

	for (int i = 1; i < line && start != NULL; i++)
		if ((start = strchr(start, '\n')) != NULL)
			start++;
	if (start == NULL || line < 1) {
		buf[0] = '\0';
		return;
	}
	end = strchr(start, '\n');
	snprintf(buf, size, "%.*s", (int)(end != NULL ? end - start : (long)strlen(start)), start);
}

/* Why 'path' cannot be read, as the system says it. */
static const char *
unreadable(const char *path)
{
	struct stat st;
	FILE *f;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return "it is a directory";
	f = fopen(path, "re");
	if (f != NULL) {
		fclose(f);
		return "it could not be read";
	}
	return strerror(errno);
}

/*
 * libconfig's parse error, said once and naming what is at fault: the line as written, or
 * the file an @include names (libconfig reports the including file and line only).
 */
static void
syntax_error(struct loader *ld, config_t *cfg, const char *main_text)
{
	unsigned int file = source_index(ld->conf, config_error_file(cfg));
	int loc = SG_LOC(file, config_error_line(cfg));
	const char *what = config_error_text(cfg), *name, *q = NULL;
	char *text = file == 0 ? (char *)main_text : sg_read_file(ld->conf->sources[file]);
	char line[SG_PATH_MAX + 64] = "", path[SG_PATH_MAX * 2];

	if (text != NULL)
		line_of(text, config_error_line(cfg), line, sizeof(line));
	if (file != 0)
		free(text);
	name = strstr(line, "@include");
	if (name != NULL && (name = strchr(name, '"')) != NULL)
		q = strchr(++name, '"');
	if (name != NULL && q != NULL) {
		/* As libconfig resolves it: relative to the main file's directory. */
		const char *slash = strrchr(ld->conf->path, '/');

		if (*name != '/' && slash != NULL)
			snprintf(path, sizeof(path), "%.*s/%.*s", (int)(slash - ld->conf->path),
					ld->conf->path, (int)(q - name), name);
		else
			snprintf(path, sizeof(path), "%.*s", (int)(q - name), name);
		if (strstr(what, "nest") != NULL)
			sg_error_set(ld->err, loc,
					"@include \"%.*s\" nests files too deep (does a file "
					"include itself?)",
					(int)(q - name), name);
		else
			sg_error_set(ld->err, loc,
					"cannot read the included file \"%.*s\" (%s): %s",
					(int)(q - name), name, path, unreadable(path));
		return;
	}
	/* libconfig's text is "syntax error" itself, most of the time: say it once. */
	while (*line == ' ' || *line == '\t')
		memmove(line, line + 1, strlen(line));
	if (strcmp(what, "syntax error") == 0)
		what = NULL;
	if (line[0] != '\0')
		sg_error_set(ld->err, loc, "syntax error%s%s in \"%.80s%s\"", what ? ": " : "",
				what ? what : "", line, strlen(line) > 80 ? "..." : "");
	else
		sg_error_set(ld->err, loc, "syntax error%s%s", what ? ": " : "", what ? what : "");
}

static struct sg_conf *
load(config_t *cfg, bool ok, const char *origin, const char *text, struct sg_error *err)
{
	struct sg_error local;
	struct loader ld = {.origin = origin, .err = err != NULL ? err : &local};
	struct sg_conf *conf = calloc(1, sizeof(*conf));

	if (conf == NULL || (conf->spec = sg_spec_create()) == NULL) {
		sg_error_set(ld.err, 0, "out of memory");
		goto fail;
	}
	sg_strlcpy(conf->path, origin, sizeof(conf->path));
	sg_strlcpy(conf->sources[0], origin, sizeof(conf->sources[0]));
	conf->n_sources = 1;
	ld.conf = conf;
	if (!ok) {
		syntax_error(&ld, cfg, text);
		goto fail;
	}
	set_defaults(conf);
	if (scan_ints(&ld, config_root_setting(cfg), text) < 0 ||
			parse_root(&ld, config_root_setting(cfg)) < 0 || check_network(conf, ld.err) < 0 ||
			check_fleet(conf, ld.err) < 0 ||
			check_flow_log_names(conf, false, ld.err) < 0)
		goto fail;
	sg_keyset_free(&ld.port_names);
	conf->policy = sg_policy_compile(conf->spec, ld.err);
	if (conf->policy == NULL)
		goto fail;
	free(ld.inexact);
	config_destroy(cfg);
	return conf;
fail:
	sg_keyset_free(&ld.port_names);
	free(ld.inexact);
	locate_error(ld.err, conf, origin);
	config_destroy(cfg);
	sg_conf_free(conf);
	errno = EINVAL;
	return NULL;
}

/* Copy 'n' elements of 'size' bytes; false only when memory ran out. */
static bool
dup_array(void *dst, const void *src, uint32_t n, size_t size)
{
	void *copy = calloc(n + 1u, size);

	if (copy != NULL && n != 0) /* memcpy from NULL is undefined, even for 0 bytes */
		memcpy(copy, src, n * size);
	*(void **)dst = copy;
	return copy != NULL;
}

/*
 * A copy of all of 'base' but its spec and policy: every field, whatever fields the structure
 * gains, is the base's, and the arrays are the copy's own. NULL when memory ran out.
 */
static struct sg_conf *
conf_copy(const struct sg_conf *base)
{
	struct sg_conf *conf = malloc(sizeof(*conf));
	bool ok;

	if (conf == NULL)
		return NULL;
	*conf = *base;
	/* Nothing of the base's may be freed with the copy: own arrays first. */
	conf->policy = NULL;
	conf->spec = NULL;
	memset(conf->dataplane.eal_args, 0, sizeof(conf->dataplane.eal_args));
	/* Every array copied (or NULL) before any failure is acted on, so the free is safe. */
	ok = dup_array(&conf->subnets, base->subnets, base->n_subnets, sizeof(*conf->subnets));
	ok = dup_array(&conf->ports, base->ports, base->n_ports, sizeof(*conf->ports)) && ok;
	ok = dup_array(&conf->hosts, base->hosts, base->n_hosts, sizeof(*conf->hosts)) && ok;
	ok = dup_array(&conf->flow_logs.groups, base->flow_logs.groups, base->flow_logs.n_groups,
			     sizeof(*conf->flow_logs.groups)) && ok;
	ok = dup_array(&conf->flow_logs.ports, base->flow_logs.ports, base->flow_logs.n_ports,
			     sizeof(*conf->flow_logs.ports)) && ok;
	for (uint32_t i = 0; i < base->dataplane.n_eal_args; i++) {
		conf->dataplane.eal_args[i] = strdup(base->dataplane.eal_args[i]);
		ok &= conf->dataplane.eal_args[i] != NULL;
	}
	if (!ok) {
		sg_conf_free(conf);
		return NULL;
	}
	return conf;
}

struct sg_conf *
sg_conf_derive(const struct sg_conf *base, struct sg_spec *spec, const struct sg_conf_port *ports,
		uint32_t n_ports, struct sg_error *err)
{
	struct sg_conf *conf = conf_copy(base);
	struct sg_conf_port *copy = NULL;
	struct sg_error local;

	if (err == NULL)
		err = &local;
	if (conf == NULL || !dup_array(&copy, ports, n_ports, sizeof(*copy))) {
		sg_error_set(err, 0, "out of memory");
		sg_spec_free(spec);
		sg_conf_free(conf);
		return NULL;
	}
	/* Only what a change names differs: the policy's spec and the port devices. */
	conf->spec = spec;
	free(conf->ports);
	conf->ports = copy;
	conf->n_ports = n_ports;
	if (check_network(conf, err) < 0 || check_fleet(conf, err) < 0 ||
			check_flow_log_names(conf, true, err) < 0 ||
			(conf->policy = sg_policy_compile(conf->spec, err)) == NULL) {
		sg_conf_free(conf);
		return NULL;
	}
	return conf;
}

struct sg_conf *
sg_conf_load_file(const char *path, struct sg_error *err)
{
	struct sg_conf *conf;
	char dir[SG_PATH_MAX], *text;
	const char *slash = strrchr(path, '/');
	config_t cfg;

	/* Read once: libconfig parses this text, and its integers are checked against it. */
	text = sg_read_file(path);
	if (text == NULL) {
		int saved = errno;

		sg_error_set(err, 0, "%s: cannot open: %s", path, strerror(saved));
		errno = saved;
		return NULL;
	}
	config_init(&cfg);
	/* @include paths are relative to the including file's directory. */
	snprintf(dir, sizeof(dir), "%.*s", slash != NULL ? (int)(slash - path) : 1,
			slash != NULL ? path : ".");
	config_set_include_dir(&cfg, dir);
	conf = load(&cfg, config_read_string(&cfg, text) == CONFIG_TRUE, path, text, err);
	free(text);
	return conf;
}

struct sg_conf *
sg_conf_load_string(const char *text, const char *origin, struct sg_error *err)
{
	config_t cfg;

	config_init(&cfg);
	return load(&cfg, config_read_string(&cfg, text) == CONFIG_TRUE, origin, text, err);
}
