/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy changes: groups, rules, attachments, tags and ports. A change edits a copy of the
 * running spec and derives a new, fully validated config from it; the caller applies it (the
 * daemon swaps it into the datapath, the offline tool saves it to the file). A change that does
 * not validate produces nothing, so nothing is ever half applied (D19). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sg_ctl.h"
#include "sg_json.h"

/* What a change command is editing. */
struct change {
	struct sg_ctl_ctx *ctx;
	struct sg_spec *spec;
	struct sg_conf_port *ports;
	uint32_t n_ports;
	char summary[SG_DESC_MAX * 2];
};

static int SG_PRINTF(2, 3)
change_fail(struct change *c, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", c->ctx->err);
	va_start(ap, fmt);
	vfprintf(c->ctx->err, fmt, ap);
	va_end(ap);
	fputs(" (nothing changed)\n", c->ctx->err);
	return SG_CTL_EXIT_FAIL;
}

static int
change_usage(struct change *c, const char *usage)
{
	fprintf(c->ctx->err, "usage error: %s\n", usage);
	return SG_CTL_EXIT_USAGE;
}

/* Split "field=value"; false when there is no '='. */
static bool
split_assignment(char *arg, char **field, char **value)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		return false;
	*eq = '\0';
	*field = arg;
	*value = eq + 1;
	return true;
}

typedef int (*name_adder)(void *owner, const char *name);

/* Add each comma-separated item of 'list'. */
static int
add_each(char *list, void *owner, name_adder add)
{
	for (char *save = NULL, *item = strtok_r(list, ",", &save); item != NULL;
			item = strtok_r(NULL, ",", &save))
		if (add(owner, item) < 0)
			return -EINVAL;
	return 0;
}

static int
add_group_tag(void *group, const char *tag)
{
	return sg_group_add_tag(group, tag);
}

static void
remove_name(char (*names)[SG_NAME_MAX], uint32_t *n, const char *name)
{
	for (uint32_t i = 0; i < *n; i++) {
		if (strcmp(names[i], name) != 0)
			continue;
		memmove(names[i], names[i + 1], (*n - i - 1) * SG_NAME_MAX);
		(*n)--;
		return;
	}
}

static struct sg_group *
find_group(struct change *c, const char *id)
{
	int g = sg_spec_find_group(c->spec, id);

	return g < 0 ? NULL : &c->spec->groups[g];
}

static struct sg_spec_port *
find_port(struct change *c, const char *name)
{
	int p = sg_spec_find_port(c->spec, name);

	return p < 0 ? NULL : &c->spec->ports[p];
}

/* Two "field=value" arguments that spell one field twice (port_range and Alibaba's PortRange)
 * are refused, naming both. */
static int
check_spellings(struct change *c, int argc, char **argv, bool group)
{
	char a[SG_NAME_MAX], b[SG_NAME_MAX];
	struct sg_error err;

	for (int i = 1; i < argc; i++) {
		snprintf(b, sizeof(b), "%.*s", (int)strcspn(argv[i], "="), argv[i]);
		for (int k = 0; k < i; k++) {
			snprintf(a, sizeof(a), "%.*s", (int)strcspn(argv[k], "="), argv[k]);
			if (sg_field_spellings_check(a, b, group, 0, &err) < 0)
				return change_fail(c, "%s", err.msg);
		}
	}
	return SG_CTL_EXIT_OK;
}

/* Apply "field=value" arguments to a group (type, inner_access_policy, description, tags). */
static int
set_group_fields(struct change *c, struct sg_group *group, int argc, char **argv)
{
	struct sg_error err;
	char *field, *value;

	if (check_spellings(c, argc, argv, true) != SG_CTL_EXIT_OK)
		return SG_CTL_EXIT_FAIL;
	for (int i = 0; i < argc; i++) {
		if (!split_assignment(argv[i], &field, &value))
			return change_usage(c, "group fields are field=value");
		if (strcmp(field, "tags") == 0) {
			if (add_each(value, group, add_group_tag) < 0)
				return change_fail(c, "tags \"%s\": each tag is 1..%d characters", value,
						SG_NAME_MAX - 1);
			continue;
		}
		if (sg_group_set(group, field, value, &err) < 0)
			return change_fail(c, "%s", err.msg);
	}
	return SG_CTL_EXIT_OK;
}

static int
cmd_group(struct change *c, enum sg_ctl_cmd id, int argc, char **argv)
{
	struct sg_group *group;

	if (argc < 3)
		return change_usage(c, "group create|delete|set|tag ID ...");
	group = find_group(c, argv[2]);
	if (id == SG_CTL_CMD_GROUP_CREATE) {
		if (group != NULL)
			return change_fail(c, "security group \"%s\" already exists", argv[2]);
		if (*argv[2] == '\0' || (group = sg_spec_add_group(c->spec, argv[2], 0)) == NULL)
			return change_fail(c, "security group id \"%s\" must be 1..%d characters", argv[2],
					SG_NAME_MAX - 1);
		snprintf(c->summary, sizeof(c->summary), "created security group %s", argv[2]);
		return set_group_fields(c, group, argc - 3, argv + 3);
	}
	if (group == NULL)
		return change_fail(c, "no security group \"%s\"", argv[2]);
	if (id == SG_CTL_CMD_GROUP_DELETE) {
		char users[SG_DESC_MAX] = "";

		for (uint32_t p = 0; p < c->spec->n_ports; p++)
			if (sg_names_contain(c->spec->ports[p].groups, c->spec->ports[p].n_groups, argv[2]))
				snprintf(users + strlen(users), sizeof(users) - strlen(users), "%s%s",
						users[0] ? ", " : "", c->spec->ports[p].name);
		if (users[0] != '\0')
			return change_fail(c, "security group \"%s\" is still attached to ports %s; "
					"detach them first", argv[2], users);
		sg_spec_remove_group(c->spec, (uint32_t)sg_spec_find_group(c->spec, argv[2]));
		snprintf(c->summary, sizeof(c->summary), "deleted security group %s", argv[2]);
		return SG_CTL_EXIT_OK;
	}
	if (id == SG_CTL_CMD_GROUP_SET) {
		snprintf(c->summary, sizeof(c->summary), "changed security group %s", argv[2]);
		return set_group_fields(c, group, argc - 3, argv + 3);
	}
	if (id == SG_CTL_CMD_GROUP_TAG && argc == 5) {
		if (strcmp(argv[3], "add") == 0) {
			if (!sg_names_contain(group->tags, group->n_tags, argv[4]) &&
					sg_group_add_tag(group, argv[4]) < 0)
				return change_fail(c, "tag \"%s\" must be 1..%d characters", argv[4],
						SG_NAME_MAX - 1);
		} else if (strcmp(argv[3], "remove") == 0) {
			if (!sg_names_contain(group->tags, group->n_tags, argv[4]))
				return change_fail(c, "security group \"%s\" has no tag \"%s\"", argv[2], argv[4]);
			remove_name(group->tags, &group->n_tags, argv[4]);
		} else {
			return change_usage(c, "group tag ID add|remove TAG");
		}
		snprintf(c->summary, sizeof(c->summary), "%s tag %s %s security group %s",
				strcmp(argv[3], "add") == 0 ? "added" : "removed", argv[4],
				strcmp(argv[3], "add") == 0 ? "to" : "from", argv[2]);
		return SG_CTL_EXIT_OK;
	}
	return change_usage(c, "group create ID [field=value...] | delete ID | set ID field=value... | "
			       "tag ID add|remove TAG");
}

/* A rule from "field=value" arguments, validated field by field. */
static int
build_rule(struct change *c, struct sg_rule *rule, int argc, char **argv)
{
	struct sg_error err;
	char *field, *value;

	if (check_spellings(c, argc, argv, false) != SG_CTL_EXIT_OK)
		return SG_CTL_EXIT_FAIL;
	for (int i = 0; i < argc; i++) {
		if (!split_assignment(argv[i], &field, &value))
			return change_usage(c, "rule fields are field=value, as in the config file");
		if (sg_rule_set(rule, field, value, &err) < 0)
			return change_fail(c, "%s", err.msg);
	}
	return SG_CTL_EXIT_OK;
}

/* A 1-based rule index of 'group'. */
static int
rule_index(struct change *c, const struct sg_group *group, const char *text, uint32_t *index)
{
	char *end;
	long value = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || value < 1 || (uint32_t)value > group->n_rules)
		return change_fail(c, "security group \"%s\" has no rule %s (it has %u)", group->id, text,
				group->n_rules);
	*index = (uint32_t)value - 1;
	return SG_CTL_EXIT_OK;
}

static int
cmd_rule(struct change *c, enum sg_ctl_cmd id, int argc, char **argv)
{
	struct sg_group *group;
	struct sg_rule *rule;
	uint32_t index = 0;
	int rc;

	if (argc < 3)
		return change_usage(c, "rule add GROUP field=value... | remove GROUP INDEX | "
				       "replace GROUP INDEX field=value...");
	group = find_group(c, argv[2]);
	if (group == NULL)
		return change_fail(c, "no security group \"%s\"", argv[2]);
	if (id == SG_CTL_CMD_RULE_ADD) {
		rule = sg_group_add_rule(group, 0);
		if (rule == NULL)
			return change_fail(c, "out of memory");
		if ((rc = build_rule(c, rule, argc - 3, argv + 3)) != SG_CTL_EXIT_OK)
			return rc;
		/* D2: adding a rule identical to an existing one succeeds and adds nothing. */
		for (uint32_t i = 0; i + 1 < group->n_rules; i++) {
			if (!sg_rule_same(&group->rules[i], rule))
				continue;
			group->n_rules--;
			snprintf(c->summary, sizeof(c->summary), "%s rule %u is identical; nothing added",
					group->id, i + 1);
			return SG_CTL_EXIT_OK;
		}
		snprintf(c->summary, sizeof(c->summary), "added %s rule %u", group->id, group->n_rules);
		return SG_CTL_EXIT_OK;
	}
	if (argc < 4)
		return change_usage(c, "rule remove|replace GROUP INDEX ...");
	if ((rc = rule_index(c, group, argv[3], &index)) != SG_CTL_EXIT_OK)
		return rc;
	if (id == SG_CTL_CMD_RULE_REMOVE && argc == 4) {
		sg_group_remove_rule(group, index);
		snprintf(c->summary, sizeof(c->summary), "removed %s rule %u", group->id, index + 1);
		return SG_CTL_EXIT_OK;
	}
	if (id == SG_CTL_CMD_RULE_REPLACE) {
		struct sg_rule *fresh = sg_group_add_rule(group, 0);

		if (fresh == NULL)
			return change_fail(c, "out of memory");
		if ((rc = build_rule(c, fresh, argc - 4, argv + 4)) != SG_CTL_EXIT_OK)
			return rc;
		group->rules[index] = *fresh;
		group->n_rules--;
		snprintf(c->summary, sizeof(c->summary), "replaced %s rule %u", group->id, index + 1);
		return SG_CTL_EXIT_OK;
	}
	return change_usage(c, "rule remove GROUP INDEX | replace GROUP INDEX field=value...");
}

static int
add_port(struct change *c, int argc, char **argv)
{
	const char *name = NULL, *type = NULL, *role = NULL;
	struct sg_conf_port *dev, *grown;
	struct sg_spec_port *port = NULL;
	struct sg_error err;
	char *field, *value;

	for (int i = 2; i < argc; i++) {
		if (!split_assignment(argv[i], &field, &value))
			return change_usage(c, "port add name=NAME [type=...] field=value...");
		if (strcmp(field, "name") == 0)
			name = value;
		else if (strcmp(field, "type") == 0)
			type = value;
		else if (strcmp(field, "role") == 0)
			role = value;
		argv[i][strlen(field)] = '='; /* keep the argument whole for the second pass */
	}
	if (name == NULL)
		return change_usage(c, "port add needs name=NAME");
	for (uint32_t i = 0; i < c->n_ports; i++)
		if (strcmp(c->ports[i].name, name) == 0)
			return change_fail(c, "port \"%s\" already exists", name);
	grown = realloc(c->ports, (c->n_ports + 1) * sizeof(*c->ports));
	if (grown == NULL)
		return change_fail(c, "out of memory");
	c->ports = grown;
	dev = &c->ports[c->n_ports];
	if (sg_conf_port_init(dev, name, type, role, 0, &err) < 0)
		return change_fail(c, "%s", err.msg);
	if (!dev->uplink && (port = sg_spec_add_port(c->spec, name, 0)) == NULL)
		return change_fail(c, "out of memory");
	c->n_ports++;
	for (int i = 2; i < argc; i++) {
		split_assignment(argv[i], &field, &value);
		if (strcmp(field, "name") == 0 || strcmp(field, "type") == 0 || strcmp(field, "role") == 0)
			continue;
		/* List fields take comma-separated items, as ips=10.1.0.13,fd00:1::13. */
		for (char *save = NULL, *item = strtok_r(value, ",", &save); item != NULL;
				item = strtok_r(NULL, ",", &save))
			if (sg_conf_port_set(dev, port, field, item, &err) < 0)
				return change_fail(c, "%s", err.msg);
	}
	if (sg_conf_port_finish(dev, &err) < 0)
		return change_fail(c, "%s", err.msg);
	snprintf(c->summary, sizeof(c->summary), "added port %s", name);
	return SG_CTL_EXIT_OK;
}

static int
remove_port(struct change *c, const char *name)
{
	uint32_t i;

	for (i = 0; i < c->n_ports; i++)
		if (strcmp(c->ports[i].name, name) == 0)
			break;
	if (i == c->n_ports)
		return change_fail(c, "no port \"%s\"", name);
	memmove(&c->ports[i], &c->ports[i + 1], (c->n_ports - i - 1) * sizeof(*c->ports));
	c->n_ports--;
	if (sg_spec_find_port(c->spec, name) >= 0)
		sg_spec_remove_port(c->spec, (uint32_t)sg_spec_find_port(c->spec, name));
	snprintf(c->summary, sizeof(c->summary), "removed port %s", name);
	return SG_CTL_EXIT_OK;
}

/* A VM port to another host (its VM migrated): the loader checks the host is one of hosts.
 * On a cluster, its old host serves it until the new one confirms (docs/cluster.md). */
static int
move_port(struct change *c, const char *name, const char *host)
{
	struct sg_error err;

	for (uint32_t i = 0; i < c->n_ports; i++) {
		struct sg_conf_port *dev = &c->ports[i];

		if (strcmp(dev->name, name) != 0)
			continue;
		if (strcmp(dev->host, host) == 0)
			return change_fail(c, "port \"%s\" is on host \"%s\" already", name, host);
		if (sg_conf_port_set(dev, find_port(c, name), "host", host, &err) < 0)
			return change_fail(c, "%s", err.msg);
		snprintf(c->summary, sizeof(c->summary), "moved port %s to host %s", name, host);
		return SG_CTL_EXIT_OK;
	}
	return change_fail(c, "no VM port \"%s\"", name);
}

static int
cmd_port(struct change *c, enum sg_ctl_cmd id, int argc, char **argv)
{
	struct sg_spec_port *port;

	if (id == SG_CTL_CMD_PORT_ADD)
		return add_port(c, argc, argv);
	if (id == SG_CTL_CMD_PORT_REMOVE && argc == 3)
		return remove_port(c, argv[2]);
	if (argc < 4)
		return change_usage(c, "port add name=NAME field=value... | remove PORT | "
				       "attach|detach PORT GROUP | tag PORT add|remove TAG");
	port = find_port(c, argv[2]);
	if (port == NULL)
		return change_fail(c, "no VM port \"%s\"", argv[2]);
	if (id == SG_CTL_CMD_PORT_MOVE && argc == 4)
		return move_port(c, argv[2], argv[3]);
	if (id == SG_CTL_CMD_PORT_ATTACH && argc == 4) {
		if (sg_names_contain(port->groups, port->n_groups, argv[3]))
			return change_fail(c, "port \"%s\" is already attached to \"%s\"", argv[2], argv[3]);
		if (sg_spec_port_add_group(port, argv[3]) < 0)
			return change_fail(c, "group id \"%s\" is too long", argv[3]);
		snprintf(c->summary, sizeof(c->summary), "attached port %s to %s", argv[2], argv[3]);
		return SG_CTL_EXIT_OK;
	}
	if (id == SG_CTL_CMD_PORT_DETACH && argc == 4) {
		if (!sg_names_contain(port->groups, port->n_groups, argv[3])) {
			const struct sg_group *group = find_group(c, argv[3]);

			for (uint32_t t = 0; group != NULL && t < group->n_tags; t++)
				if (sg_names_contain(port->tags, port->n_tags, group->tags[t]))
					return change_fail(c, "port \"%s\" is attached to \"%s\" by tag \"%s\"; "
							"remove that tag from the port or the group",
							argv[2], argv[3], group->tags[t]);
			return change_fail(c, "port \"%s\" is not attached to \"%s\"", argv[2], argv[3]);
		}
		remove_name(port->groups, &port->n_groups, argv[3]);
		snprintf(c->summary, sizeof(c->summary), "detached port %s from %s", argv[2], argv[3]);
		return SG_CTL_EXIT_OK;
	}
	if (id == SG_CTL_CMD_PORT_TAG && argc == 5) {
		if (strcmp(argv[3], "add") == 0) {
			if (!sg_names_contain(port->tags, port->n_tags, argv[4]) &&
					sg_spec_port_add_tag(port, argv[4]) < 0)
				return change_fail(c, "tag \"%s\" must be 1..%d characters", argv[4],
						SG_NAME_MAX - 1);
		} else if (strcmp(argv[3], "remove") == 0) {
			if (!sg_names_contain(port->tags, port->n_tags, argv[4]))
				return change_fail(c, "port \"%s\" has no tag \"%s\"", argv[2], argv[4]);
			remove_name(port->tags, &port->n_tags, argv[4]);
		} else {
			return change_usage(c, "port tag PORT add|remove TAG");
		}
		snprintf(c->summary, sizeof(c->summary), "%s tag %s %s port %s",
				strcmp(argv[3], "add") == 0 ? "added" : "removed", argv[4],
				strcmp(argv[3], "add") == 0 ? "to" : "from", argv[2]);
		return SG_CTL_EXIT_OK;
	}
	return change_usage(c, "port attach|detach PORT GROUP | tag PORT add|remove TAG | "
			       "move PORT HOST");
}

/*
 * The seed's batch operation ("attach every instance with this tag to the group with the same
 * tag"): the group takes the tag, so every port carrying it is attached, now and later.
 */
static int
cmd_attach_by_tag(struct change *c, int argc, char **argv)
{
	struct sg_group *group;
	size_t used;

	if (argc != 3)
		return change_usage(c, "attach-by-tag TAG GROUP");
	group = find_group(c, argv[2]);
	if (group == NULL)
		return change_fail(c, "no security group \"%s\"", argv[2]);
	if (!sg_names_contain(group->tags, group->n_tags, argv[1]) && sg_group_add_tag(group, argv[1]) < 0)
		return change_fail(c, "tag \"%s\" must be 1..%d characters", argv[1], SG_NAME_MAX - 1);
	used = (size_t)snprintf(c->summary, sizeof(c->summary), "%s now carries tag %s; attached:",
			group->id, argv[1]);
	for (uint32_t p = 0; p < c->spec->n_ports && used < sizeof(c->summary); p++)
		if (sg_names_contain(c->spec->ports[p].tags, c->spec->ports[p].n_tags, argv[1]))
			used += (size_t)snprintf(c->summary + used, sizeof(c->summary) - used, " %s",
					c->spec->ports[p].name);
	return SG_CTL_EXIT_OK;
}

int
sg_ctl_change(struct sg_ctl_ctx *ctx, int argc, char **argv, struct sg_conf **result)
{
	struct change c = {.ctx = ctx};
	const struct sg_ctl_command *cmd;
	struct sg_error err = {0};
	int rc, used;

	*result = NULL;
	/* The spec as written, not the compiled policy's copy (which fills in defaults). */
	c.spec = sg_spec_clone(ctx->conf->spec);
	c.ports = malloc((ctx->conf->n_ports + 1u) * sizeof(*c.ports));
	if (c.spec == NULL || c.ports == NULL) {
		rc = change_fail(&c, "out of memory");
		goto out;
	}
	/* A config without ports has no array: memcpy from NULL is undefined, even for 0 bytes. */
	if (ctx->conf->n_ports > 0)
		memcpy(c.ports, ctx->conf->ports, ctx->conf->n_ports * sizeof(*c.ports));
	c.n_ports = ctx->conf->n_ports;
	/* The command table names the change; its words were matched there. */
	cmd = sg_ctl_find_words(argc, argv, &used);
	switch (cmd != NULL ? cmd->id : SG_CTL_CMD_COUNT) {
	case SG_CTL_CMD_GROUP:
	case SG_CTL_CMD_GROUP_CREATE:
	case SG_CTL_CMD_GROUP_DELETE:
	case SG_CTL_CMD_GROUP_SET:
	case SG_CTL_CMD_GROUP_TAG:
		rc = cmd_group(&c, cmd->id, argc, argv);
		break;
	case SG_CTL_CMD_RULE:
	case SG_CTL_CMD_RULE_ADD:
	case SG_CTL_CMD_RULE_REMOVE:
	case SG_CTL_CMD_RULE_REPLACE:
		rc = cmd_rule(&c, cmd->id, argc, argv);
		break;
	case SG_CTL_CMD_PORT:
	case SG_CTL_CMD_PORT_ADD:
	case SG_CTL_CMD_PORT_REMOVE:
	case SG_CTL_CMD_PORT_ATTACH:
	case SG_CTL_CMD_PORT_DETACH:
	case SG_CTL_CMD_PORT_TAG:
	case SG_CTL_CMD_PORT_MOVE:
		rc = cmd_port(&c, cmd->id, argc, argv);
		break;
	case SG_CTL_CMD_ATTACH_BY_TAG:
		rc = cmd_attach_by_tag(&c, argc, argv);
		break;
	default:
		rc = change_usage(&c, "not a change: see sgfwctl --help");
		break;
	}
	if (rc != SG_CTL_EXIT_OK)
		goto out;
	/* The whole result is validated like a loaded file; on any error nothing changes. */
	*result = sg_conf_derive(ctx->conf, c.spec, c.ports, c.n_ports, &err);
	c.spec = NULL;
	if (*result == NULL) {
		rc = change_fail(&c, "%s", err.msg);
		goto out;
	}
	if (ctx->json) {
		struct sg_json j;

		sg_json_init(&j, ctx->out, true);
		sg_json_object_open(&j, NULL);
		sg_json_bool(&j, "ok", true);
		sg_json_string(&j, "change", c.summary);
		sg_json_object_close(&j);
		sg_json_finish(&j);
	} else {
		fprintf(ctx->out, "%s\n", c.summary);
	}
out:
	sg_spec_free(c.spec);
	free(c.ports);
	return rc;
}

int
sg_ctl_change_held(struct sg_ctl_ctx *ctx, int argc, char **argv, struct sg_conf **result,
		char **summary)
{
	FILE *held, *out = ctx->out;
	size_t len = 0;
	int rc;

	*summary = NULL;
	*result = NULL;
	held = open_memstream(summary, &len);
	if (held == NULL) {
		fprintf(ctx->err, "error: out of memory (nothing changed)\n");
		return SG_CTL_EXIT_FAIL;
	}
	ctx->out = held;
	rc = sg_ctl_change(ctx, argc, argv, result);
	ctx->out = out;
	fclose(held);
	if (rc != SG_CTL_EXIT_OK) {
		free(*summary);
		*summary = NULL;
	}
	return rc;
}
