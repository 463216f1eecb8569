/* SPDX-License-Identifier: BSD-3-Clause */
/* Alibaba Cloud ECS security groups as JSON (DescribeSecurityGroupAttribute and
 * DescribeSecurityGroups responses) read into a config's groups and written from them.
 *
 * Rule fields go through sg_rule_set() under Alibaba's own names, so the JSON obeys exactly
 * the rules of the config file's Alibaba vocabulary (docs/config.md has the table). A field
 * sgfw cannot honour is refused, a field that only describes the cloud (request ids, creation
 * times, names) is skipped, and any other field is refused as unknown: nothing is changed
 * silently. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sg_conf.h"

/* Rules and groups read from JSON carry this file index in their SG_LOC line, and the index
 * of their JSON path in the import's table, so validation errors name the path. */
#define ALIBABA_LOC_FILE 0xff

/* A group an import has read, and from which responses. */
struct seen_group {
	char id[SG_NAME_MAX];
	char origin[SG_PATH_MAX];
	bool attribute; /**< Rules read from a DescribeSecurityGroupAttribute. */
	bool listed;	/**< Type and tags read from a DescribeSecurityGroups. */
};

/* What one import has read: where each group and rule came from, and which groups. */
struct import {
	char (*paths)[SG_PATH_MAX + 64];
	uint32_t n_paths;
	struct seen_group *seen;
	uint32_t n_seen;
	struct sg_error *err;
};

/* Fields that describe the cloud, not the policy: skipped wherever they appear. */
static const char *const ignored_fields[] = {
	"AvailableInstanceAmount",
	"CreateTime",
	"CreationTime",
	"DestGroupName",
	"DestGroupOwnerAccount",
	"DestGroupOwnerId",
	"DestPrefixListName",
	"EcsCount",
	"GroupToGroupRuleCount",
	"NextToken",
	"PageNumber",
	"PageSize",
	"PortRangeListName",
	"RegionId",
	"RequestId",
	"ResourceGroupId",
	"RuleCount",
	"SecurityGroupName",
	"SecurityGroupRuleId",
	"ServiceID",
	"ServiceManaged",
	"SourceGroupName",
	"SourceGroupOwnerAccount",
	"SourceGroupOwnerId",
	"SourcePrefixListName",
	"TotalCount",
	"VpcId",
};

static bool
ignored(const char *key)
{
	for (size_t i = 0; i < SG_ARRAY_SIZE(ignored_fields); i++)
		if (strcmp(key, ignored_fields[i]) == 0)
			return true;
	return false;
}

static int SG_PRINTF(4, 5)
import_fail(struct import *imp, const char *origin, const char *path, const char *fmt, ...)
{
	char msg[sizeof(imp->err->msg)], shown[sizeof(msg) * 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The JSON's text is the cloud's: a control character in it must not reach a terminal. */
	return sg_error_set(imp->err, 0, "%s: %s: %s", origin, path,
			sg_text_escape(msg, shown, sizeof(shown), false));
}

/* A line for a group or rule read at 'path': SG_LOC(ALIBABA_LOC_FILE, index + 1). */
static int
import_line(struct import *imp, const char *origin, const char *path)
{
	void *grown = realloc(imp->paths, (imp->n_paths + 1) * sizeof(*imp->paths));

	if (grown == NULL)
		return 0;
	imp->paths = grown;
	snprintf(imp->paths[imp->n_paths], sizeof(imp->paths[0]), "%s: %s", origin, path);
	imp->n_paths++;
	return SG_LOC(ALIBABA_LOC_FILE, imp->n_paths);
}

/*
 * The text of a scalar field, or NULL when it is absent or "" (Alibaba's responses give every
 * field and leave the unused ones empty). Integers are text too (Priority is a number in
 * responses and a string in requests).
 */
static int
scalar(struct import *imp, const char *origin, const char *path, const char *key, const json_t *v,
		char *buf, size_t size, const char **out)
{
	*out = NULL;
	if (json_is_string(v)) {
		if (json_string_length(v) != strlen(json_string_value(v)))
			return import_fail(imp, origin, path, "%s holds a NUL character", key);
		if (json_string_length(v) > 0)
			*out = json_string_value(v);
		return 0;
	}
	if (json_is_integer(v)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*out = buf;
		return 0;
	}
	if (json_is_null(v))
		return 0;
	return import_fail(imp, origin, path, "%s must be a string", key);
}

/* A field of an object that is itself an object holding one array: {"Permission": [...]}. */
static int
inner_array(struct import *imp, const char *origin, const char *path, const json_t *obj,
		const char *outer, const char *inner, const json_t **out)
{
	const json_t *o = json_object_get(obj, outer), *a;

	*out = NULL;
	if (o == NULL || json_is_null(o))
		return 0;
	if (!json_is_object(o) || (a = json_object_get(o, inner)) == NULL || !json_is_array(a))
		return import_fail(imp, origin, path, "%s must be {\"%s\": [...]}", outer, inner);
	if (json_object_size(o) != 1)
		return import_fail(imp, origin, path, "%s holds more than \"%s\"", outer, inner);
	*out = a;
	return 0;
}

static bool
rule_field_known(const char *key)
{
	return strcmp(sg_rule_field_name(key), key) != 0;
}

/* One Permissions.Permission[] element as a rule of 'group'. */
static int
import_rule(struct import *imp, struct sg_group *group, const char *origin, const char *path,
		const json_t *perm)
{
	const char *keys[32], *key, *text;
	struct sg_rule *rule;
	struct sg_error e;
	uint32_t n = 0;
	char num[32];
	json_t *v;
	int line;

	if (!json_is_object(perm))
		return import_fail(imp, origin, path, "a permission must be an object");
	line = import_line(imp, origin, path);
	rule = sg_group_add_rule(group, line);
	if (line == 0 || rule == NULL)
		return import_fail(imp, origin, path, "out of memory");
	json_object_foreach((json_t *)perm, key, v) {
		if (ignored(key))
			continue;
		if (strcmp(key, "NicType") == 0) {
			if (scalar(imp, origin, path, key, v, num, sizeof(num), &text) < 0)
				return -EINVAL;
			if (text != NULL && strcmp(text, "intranet") != 0)
				return import_fail(imp, origin, path,
						"NicType \"%s\": sgfw filters VPC (intranet) "
						"traffic only",
						text);
			continue;
		}
		if (strcmp(key, "PortRangeListId") == 0) {
			if (scalar(imp, origin, path, key, v, num, sizeof(num), &text) < 0)
				return -EINVAL;
			if (text != NULL)
				return import_fail(imp, origin, path,
						"PortRangeListId \"%s\": sgfw has no port lists; "
						"give "
						"the ports in PortRange",
						text);
			continue;
		}
		if (!rule_field_known(key))
			return import_fail(imp, origin, path,
					"unknown field \"%s\" (docs/config.md lists the fields "
					"sgfw "
					"reads and skips)",
					key);
		if (scalar(imp, origin, path, key, v, num, sizeof(num), &text) < 0)
			return -EINVAL;
		if (text == NULL)
			continue;
		/* Alibaba writes SourcePortRange "-1/-1" for rules without ports: no field. */
		if (strcmp(key, "SourcePortRange") == 0 && strcmp(text, "-1/-1") == 0)
			continue;
		for (uint32_t k = 0; k < n; k++)
			if (sg_field_spellings_check(keys[k], key, false, 0, &e) < 0)
				return import_fail(imp, origin, path, "%s", e.msg);
		if (n < SG_ARRAY_SIZE(keys))
			keys[n++] = key;
		if (sg_rule_set(rule, key, text, &e) < 0)
			return import_fail(imp, origin, path, "%s", e.msg);
	}
	rule->line = line;
	return 0;
}

/* The record of group 'id' in this import; NULL when memory ran out. */
static struct seen_group *
seen_group(struct import *imp, const char *id, const char *origin)
{
	void *grown;

	for (uint32_t i = 0; i < imp->n_seen; i++)
		if (strcmp(imp->seen[i].id, id) == 0)
			return &imp->seen[i];
	grown = realloc(imp->seen, (imp->n_seen + 1) * sizeof(*imp->seen));
	if (grown == NULL)
		return NULL;
	imp->seen = grown;
	memset(&imp->seen[imp->n_seen], 0, sizeof(*imp->seen));
	sg_strlcpy(imp->seen[imp->n_seen].id, id, SG_NAME_MAX);
	sg_strlcpy(imp->seen[imp->n_seen].origin, origin, SG_PATH_MAX);
	return &imp->seen[imp->n_seen++];
}

/* The group 'id' of 'spec', added when new. */
static struct sg_group *
import_group_id(struct import *imp, struct sg_spec *spec, const char *origin, const char *path,
		const json_t *obj, bool attribute)
{
	const json_t *v = json_object_get(obj, "SecurityGroupId");
	char what[SG_NAME_MAX + SG_PATH_MAX + 64];
	struct seen_group *seen;
	const char *id;
	int g, line;

	if (v == NULL || !json_is_string(v) || json_string_length(v) == 0) {
		import_fail(imp, origin, path, "SecurityGroupId is missing or not a string");
		return NULL;
	}
	id = json_string_value(v);
	what[0] = '\0';
	if (strlen(id) >= SG_NAME_MAX || sg_name_check(id, what, sizeof(what)) < 0) {
		import_fail(imp, origin, path,
				"SecurityGroupId \"%s\" must be 1..%d characters%s%s", id,
				SG_NAME_MAX - 1, what[0] ? ": " : "", what);
		return NULL;
	}
	seen = seen_group(imp, id, origin);
	if (seen == NULL) {
		import_fail(imp, origin, path, "out of memory");
		return NULL;
	}
	if (attribute ? seen->attribute : seen->listed) {
		import_fail(imp, origin, path, "security group \"%s\" is given twice (also in %s)",
				id, seen->origin);
		return NULL;
	}
	if (attribute)
		seen->attribute = true;
	else
		seen->listed = true;
	g = sg_spec_find_group(spec, id);
	if (g >= 0)
		return &spec->groups[g];
	line = import_line(imp, origin, path);
	if (line == 0 || sg_spec_add_group(spec, id, line) == NULL) {
		import_fail(imp, origin, path, "out of memory");
		return NULL;
	}
	return &spec->groups[spec->n_groups - 1];
}

/* Description and InnerAccessPolicy, where the response gives them. */
static int
import_group_fields(struct import *imp, struct sg_group *group, const char *origin,
		const char *path, const char *key, const json_t *v)
{
	struct sg_error e;
	const char *text;
	char num[32];

	if (scalar(imp, origin, path, key, v, num, sizeof(num), &text) < 0)
		return -EINVAL;
	if (text == NULL && strcmp(key, "Description") == 0) {
		group->description[0] = '\0';
		return 0;
	}
	if (text != NULL && sg_group_set(group, key, text, &e) < 0)
		return import_fail(imp, origin, path, "%s", e.msg);
	return 0;
}

/* A DescribeSecurityGroupAttribute response: one group, its rules replacing the group's. */
static int
import_attribute(struct import *imp, struct sg_spec *spec, const char *origin, const json_t *root)
{
	const json_t *perms = NULL, *v;
	struct sg_group *group;
	char path[64];
	const char *key;
	size_t i;

	group = import_group_id(imp, spec, origin, "$", root, true);
	if (group == NULL)
		return -EINVAL;
	if (inner_array(imp, origin, "$", root, "Permissions", "Permission", &perms) < 0)
		return -EINVAL;
	json_object_foreach((json_t *)root, key, v) {
		if (ignored(key) || strcmp(key, "SecurityGroupId") == 0 ||
				strcmp(key, "Permissions") == 0)
			continue;
		if (strcmp(key, "Description") != 0 && strcmp(key, "InnerAccessPolicy") != 0)
			return import_fail(imp, origin, "$",
					"unknown field \"%s\" (docs/config.md lists the fields "
					"sgfw "
					"reads and skips)",
					key);
		if (import_group_fields(imp, group, origin, "$", key, v) < 0)
			return -EINVAL;
	}
	group->n_rules = 0;
	json_array_foreach(perms, i, v) {
		snprintf(path, sizeof(path), "$.Permissions.Permission[%zu]", i);
		if (import_rule(imp, group, origin, path, v) < 0)
			return -EINVAL;
	}
	return 0;
}

/* TagKey:TagValue, or TagKey alone when the value is empty (sgfw's tags are single words). */
static int
import_tags(struct import *imp, struct sg_group *group, const char *origin, const char *path,
		const json_t *tags)
{
	const json_t *tag;
	char tpath[96];
	size_t i;

	group->n_tags = 0;
	json_array_foreach(tags, i, tag) {
		const json_t *k = json_object_get(tag, "TagKey"),
			     *val = json_object_get(tag, "TagValue");
		char name[SG_NAME_MAX * 2];

		snprintf(tpath, sizeof(tpath), "%s.Tags.Tag[%zu]", path, i);
		if (!json_is_object(tag) || !json_is_string(k) || json_string_length(k) == 0 ||
				(val != NULL && !json_is_string(val)))
			return import_fail(imp, origin, tpath,
					"a tag must be {\"TagKey\": \"...\", \"TagValue\": "
					"\"...\"}");
		if (strchr(json_string_value(k), ':') != NULL)
			return import_fail(imp, origin, tpath,
					"TagKey \"%s\" holds ':', which sgfw uses between key and "
					"value",
					json_string_value(k));
		if (val == NULL || json_string_length(val) == 0)
			snprintf(name, sizeof(name), "%s", json_string_value(k));
		else
			snprintf(name, sizeof(name), "%s:%s", json_string_value(k),
					json_string_value(val));
		if (strlen(name) >= SG_NAME_MAX)
			return import_fail(imp, origin, tpath,
					"tag \"%s\" is longer than %d characters", name,
					SG_NAME_MAX - 1);
		if (sg_group_add_tag(group, name) < 0)
			return import_fail(imp, origin, tpath, "out of memory");
	}
	return 0;
}

/* A DescribeSecurityGroups response: type, description and tags of each group listed. */
static int
import_groups(struct import *imp, struct sg_spec *spec, const char *origin, const json_t *root)
{
	const json_t *list = NULL, *sg, *v;
	const char *key;
	char path[64];
	size_t i;

	if (inner_array(imp, origin, "$", root, "SecurityGroups", "SecurityGroup", &list) < 0)
		return -EINVAL;
	json_object_foreach((json_t *)root, key, v) {
		if (!ignored(key) && strcmp(key, "SecurityGroups") != 0)
			return import_fail(imp, origin, "$",
					"unknown field \"%s\" (docs/config.md lists the fields sgfw "
					"reads and skips)",
					key);
	}
	json_array_foreach(list, i, sg) {
		struct sg_group *group;
		const json_t *tags = NULL;

		snprintf(path, sizeof(path), "$.SecurityGroups.SecurityGroup[%zu]", i);
		if (!json_is_object(sg))
			return import_fail(imp, origin, path, "a security group must be an object");
		if ((group = import_group_id(imp, spec, origin, path, sg, false)) == NULL)
			return -EINVAL;
		if (inner_array(imp, origin, path, sg, "Tags", "Tag", &tags) < 0)
			return -EINVAL;
		json_object_foreach((json_t *)sg, key, v) {
			if (ignored(key) || strcmp(key, "SecurityGroupId") == 0 ||
					strcmp(key, "Tags") == 0)
				continue;
			if (strcmp(key, "SecurityGroupType") != 0 &&
					strcmp(key, "Description") != 0 &&
					strcmp(key, "InnerAccessPolicy") != 0)
				return import_fail(imp, origin, path,
						"unknown field \"%s\" (docs/config.md lists the "
						"fields "
						"sgfw reads and skips)",
						key);
			if (import_group_fields(imp, group, origin, path, key, v) < 0)
				return -EINVAL;
		}
		if (import_tags(imp, group, origin, path, tags) < 0)
			return -EINVAL;
	}
	return 0;
}

static int
import_text(struct import *imp, struct sg_spec *spec, const char *text, const char *origin)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	int rc;

	if (root == NULL)
		return sg_error_set(
				imp->err, 0, "%s:%d: not JSON: %s", origin, jerr.line, jerr.text);
	if (!json_is_object(root))
		rc = import_fail(imp, origin, "$",
				"must be an object: a DescribeSecurityGroupAttribute "
				"or DescribeSecurityGroups response");
	else if (json_object_get(root, "SecurityGroups") != NULL)
		rc = import_groups(imp, spec, origin, root);
	else if (json_object_get(root, "SecurityGroupId") != NULL)
		rc = import_attribute(imp, spec, origin, root);
	else
		rc = import_fail(imp, origin, "$",
				"neither SecurityGroupId (DescribeSecurityGroupAttribute) nor "
				"SecurityGroups (DescribeSecurityGroups)");
	json_decref(root);
	return rc;
}

struct sg_conf *
sg_conf_alibaba_import(const struct sg_conf *conf, const char *const *texts,
		const char *const *origins, uint32_t n, struct sg_error *err)
{
	struct sg_spec *spec = sg_spec_clone(conf->spec);
	struct import imp = {.err = err};
	struct sg_conf *result = NULL;

	if (spec == NULL) {
		sg_error_set(err, 0, "out of memory");
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (import_text(&imp, spec, texts[i], origins[i]) < 0) {
			sg_spec_free(spec);
			goto out;
		}
	}
	result = sg_conf_derive(conf, spec, conf->ports, conf->n_ports, err);
	/* A rule or group read from JSON: its path instead of a line. */
	if (result == NULL && SG_LOC_FILE(err->line) == ALIBABA_LOC_FILE &&
			SG_LOC_LINE(err->line) >= 1 &&
			(uint32_t)SG_LOC_LINE(err->line) <= imp.n_paths) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		snprintf(err->msg, sizeof(err->msg), "%s: %s",
				imp.paths[SG_LOC_LINE(err->line) - 1], msg);
		err->line = 0;
	} else if (result == NULL) {
		char msg[sizeof(err->msg)];

		/* A group or rule the config had: its file and line. */
		snprintf(msg, sizeof(msg), "%s", err->msg);
		if (SG_LOC_LINE(err->line) > 0)
			snprintf(err->msg, sizeof(err->msg), "%s:%d: %s",
					sg_conf_source(conf, err->line), SG_LOC_LINE(err->line), msg);
		else
			snprintf(err->msg, sizeof(err->msg), "%s: %s", conf->path, msg);
	}
out:
	free(imp.paths);
	free(imp.seen);
	return result;
}

/* ---- Export ---- */

static int
set_str(json_t *obj, const char *key, const char *value)
{
	return json_object_set_new(obj, key, json_string(value));
}

/* TCP, UDP, ICMP, ICMPv6, GRE, ALL as Alibaba writes them; other protocols by sgfw's name. */
static void
proto_text(int proto, char *buf, size_t size)
{
	char num[16];
	const char *name = sg_proto_name(proto, num, sizeof(num));

	if (proto == IPPROTO_ICMPV6) {
		snprintf(buf, size, "ICMPv6");
		return;
	}
	snprintf(buf, size, "%s", name);
	for (char *p = buf; *p != '\0'; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
}

static void
range_text(const struct sg_range *r, char *buf, size_t size)
{
	snprintf(buf, size, "%u/%u", r->lo == 0 ? 1u : r->lo, r->hi);
}

static json_t *
export_rule(const struct sg_group *group, uint32_t index, struct sg_error *err)
{
	static const char *const peer_keys[2][4] = {
			{"", "DestCidrIp", "DestGroupId", "DestPrefixListId"},
			{"", "SourceCidrIp", "SourceGroupId", "SourcePrefixListId"},
	};
	const struct sg_rule *r = &group->rules[index];
	json_t *p = json_object();
	char buf[SG_PREFIX_STRLEN + 8];

	if (p == NULL) {
		sg_error_set(err, 0, "out of memory");
		return NULL;
	}
	if (r->fields & (SG_RULE_F_ICMP_TYPE | SG_RULE_F_ICMP_CODE)) {
		sg_error_set(err, 0,
				"security group \"%s\" rule %u: icmp_type and icmp_code have no "
				"field "
				"in Alibaba's API",
				group->id, index + 1);
		json_decref(p);
		return NULL;
	}
	if (r->fields & SG_RULE_F_DIRECTION)
		set_str(p, "Direction", sg_dir_name(r->dir));
	if (r->fields & SG_RULE_F_POLICY)
		set_str(p, "Policy", r->action == SG_ACTION_ACCEPT ? "Accept" : "Drop");
	if (r->fields & SG_RULE_F_PRIORITY)
		json_object_set_new(p, "Priority", json_integer(r->priority));
	if (r->fields & SG_RULE_F_PROTOCOL) {
		proto_text(r->proto, buf, sizeof(buf));
		set_str(p, "IpProtocol", buf);
	}
	if (r->fields & SG_RULE_F_PORT_RANGE) {
		if (r->dport_wildcard)
			snprintf(buf, sizeof(buf), "-1/-1");
		else
			range_text(&r->dport, buf, sizeof(buf));
		set_str(p, "PortRange", buf);
	}
	if (r->fields & SG_RULE_F_SOURCE_PORT_RANGE) {
		range_text(&r->sport, buf, sizeof(buf));
		set_str(p, "SourcePortRange", buf);
	}
	if (r->peer_kind == SG_PEER_CIDR) {
		char key[32];

		snprintf(key, sizeof(key), "%s%s", r->cidr.ip.family == SG_AF_INET6 ? "Ipv6" : "",
				peer_keys[r->peer_is_source][SG_PEER_CIDR]);
		set_str(p, key, sg_prefix_format(&r->cidr, buf, sizeof(buf)));
	} else if (r->peer_kind != SG_PEER_NONE) {
		set_str(p, peer_keys[r->peer_is_source][r->peer_kind], r->peer);
	}
	if (r->fields & SG_RULE_F_DESCRIPTION)
		set_str(p, "Description", r->description);
	return p;
}

static json_t *
export_attribute(const struct sg_group *group, struct sg_error *err)
{
	json_t *root = json_object(), *perms = json_object(), *list = json_array();

	if (root == NULL || perms == NULL || list == NULL) {
		sg_error_set(err, 0, "out of memory");
		goto fail;
	}
	set_str(root, "SecurityGroupId", group->id);
	if (group->description[0] != '\0')
		set_str(root, "Description", group->description);
	if (group->inner_access_given)
		set_str(root, "InnerAccessPolicy",
				group->inner_access == SG_ACTION_ACCEPT ? "Accept" : "Drop");
	for (uint32_t r = 0; r < group->n_rules; r++) {
		json_t *p = export_rule(group, r, err);

		if (p == NULL)
			goto fail;
		json_array_append_new(list, p);
	}
	json_object_set_new(perms, "Permission", list);
	json_object_set_new(root, "Permissions", perms);
	return root;
fail:
	json_decref(root);
	json_decref(perms);
	json_decref(list);
	return NULL;
}

static json_t *
export_groups(const struct sg_spec *spec)
{
	json_t *root = json_object(), *groups = json_object(), *list = json_array();

	for (uint32_t g = 0; g < spec->n_groups; g++) {
		const struct sg_group *group = &spec->groups[g];
		json_t *sg = json_object(), *tags = json_object(), *tl = json_array();

		set_str(sg, "SecurityGroupId", group->id);
		set_str(sg, "SecurityGroupType",
				group->type == SG_GROUP_ENTERPRISE ? "enterprise" : "normal");
		if (group->description[0] != '\0')
			set_str(sg, "Description", group->description);
		for (uint32_t t = 0; t < group->n_tags; t++) {
			const char *colon = strchr(group->tags[t], ':');
			json_t *tag = json_object();
			char key[SG_NAME_MAX];

			snprintf(key, sizeof(key), "%.*s",
					colon ? (int)(colon - group->tags[t]) : SG_NAME_MAX,
					group->tags[t]);
			set_str(tag, "TagKey", key);
			set_str(tag, "TagValue", colon ? colon + 1 : "");
			json_array_append_new(tl, tag);
		}
		json_object_set_new(tags, "Tag", tl);
		json_object_set_new(sg, "Tags", tags);
		json_array_append_new(list, sg);
	}
	json_object_set_new(groups, "SecurityGroup", list);
	json_object_set_new(root, "SecurityGroups", groups);
	return root;
}

int
sg_conf_alibaba_export(
		const struct sg_conf *conf, const char *group, FILE *out, struct sg_error *err)
{
	json_t *root;
	int g, rc;

	if (group == NULL) {
		root = export_groups(conf->spec);
	} else {
		g = sg_spec_find_group(conf->spec, group);
		if (g < 0)
			return sg_error_set(err, 0, "no security group \"%s\" in %s", group,
					conf->path);
		root = export_attribute(&conf->spec->groups[g], err);
	}
	if (root == NULL)
		return -EINVAL;
	rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(root);
	if (rc < 0 || fputc('\n', out) == EOF)
		return sg_error_set(err, 0, "writing the JSON failed"), -EIO;
	return 0;
}
