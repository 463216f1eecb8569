/* SPDX-License-Identifier: BSD-3-Clause */
/* The fleet under the etcd prefix (docs/cluster.md): keys to JSON values, turned into config
 * text (JSON objects as groups, arrays as lists, scalars as scalars) with a map from each line
 * back to its key, and loaded by lib/conf as a file is; and back, from a config to keys. */
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster_private.h"
#include "sg_cluster.h"

/* The kinds of policy keys: their directory under the prefix and their config section. */
static const struct kind {
	const char *dir;     /* "groups/"; a name without '/' is one key ("router") */
	const char *section; /* the config section its values go to */
	const char *name;    /* the field the key's name fills ("id"), NULL: none */
} kinds[] = {
	{"limits", "limits", NULL},
	{"prefix_lists/", "prefix_lists", "id"},
	{"groups/", "security_groups", "id"},
	{"subnets/", "subnets", NULL},
	{"hosts/", "hosts", "name"},
	{"ports/", "ports", "name"},
	{"router", "router", NULL},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

struct sg_cluster_fleet {
	char prefix[SG_PATH_MAX];
	json_t *keys;  /* relative key -> {"v": value, "rev": n} or {"bad": message, "rev": n} */
	json_t *nodes; /* "host" -> the presence value (nodes/<host>) */
	json_t *overrides; /* relative key -> the value built in its place */
};

static bool
single(const struct kind *k)
{
	return strchr(k->dir, '/') == NULL;
}

/* The kind of relative key 'rel' and its name ("sg-web"); NULL when none. */
static const struct kind *
kind_of(const char *rel, const char **name)
{
	for (size_t i = 0; i < N_KINDS; i++) {
		size_t len = strlen(kinds[i].dir);

		if (single(&kinds[i]) ? strcmp(rel, kinds[i].dir) == 0
				      : strncmp(rel, kinds[i].dir, len) == 0) {
			*name = rel + (single(&kinds[i]) ? 0 : len);
			return &kinds[i];
		}
	}
	return NULL;
}

struct sg_cluster_fleet *
sg_cluster_fleet_create(const char *prefix)
{
	struct sg_cluster_fleet *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	snprintf(f->prefix, sizeof(f->prefix), "%s", prefix != NULL ? prefix : SG_CLUSTER_PREFIX);
	f->keys = json_object();
	f->nodes = json_object();
	f->overrides = json_object();
	if (f->keys == NULL || f->nodes == NULL || f->overrides == NULL) {
		sg_cluster_fleet_free(f);
		return NULL;
	}
	return f;
}

void
sg_cluster_fleet_free(struct sg_cluster_fleet *f)
{
	if (f == NULL)
		return;
	json_decref(f->keys);
	json_decref(f->nodes);
	json_decref(f->overrides);
	free(f);
}

const char *
sg_cluster_fleet_prefix(const struct sg_cluster_fleet *f)
{
	return f->prefix;
}

size_t
sg_cluster_fleet_count(const struct sg_cluster_fleet *f)
{
	return json_object_size(f->keys);
}

int64_t
sg_cluster_fleet_mod_revision(const struct sg_cluster_fleet *f, const char *rel)
{
	return json_integer_value(json_object_get(json_object_get(f->keys, rel), "rev"));
}

void *
sg_cluster_fleet_value(const struct sg_cluster_fleet *f, const char *rel)
{
	return json_object_get(json_object_get(f->keys, rel), "v");
}

/* Is 'name' one libconfig takes as a setting name? */
static bool
setting_name_ok(const char *name)
{
	if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') || *name == '*'))
		return false;
	for (const char *p = name + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '*'))
			return false;
	return true;
}

/* A value that cannot be turned into config text: why, or NULL when it can. */
static const char *
value_problem(const json_t *v, char *buf, size_t size)
{
	const char *key;
	size_t i;
	json_t *m;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, m) {
			const char *why;

			if (!setting_name_ok(key)) {
				snprintf(buf, size, "field name \"%.64s\" is not a config name", key);
				return buf;
			}
			if ((why = value_problem(m, buf, size)) != NULL)
				return why;
		}
		return NULL;
	case JSON_ARRAY:
		json_array_foreach(v, i, m) {
			const char *why = value_problem(m, buf, size);

			if (why != NULL)
				return why;
		}
		return NULL;
	case JSON_REAL:
		return "a number with a fraction: the config's numbers are integers";
	case JSON_NULL:
		return "null: leave the field out instead";
	default:
		return NULL;
	}
}

int
sg_cluster_fleet_set(struct sg_cluster_fleet *f, const char *key, const char *value, size_t len,
		int64_t mod_revision, struct sg_error *err)
{
	size_t plen = strlen(f->prefix);
	const char *rel = key + plen, *name = NULL, *why = NULL;
	const struct kind *k;
	json_t *entry = json_object(), *v = NULL;
	json_error_t jerr;
	char buf[160];

	if (strncmp(key, f->prefix, plen) != 0 || entry == NULL) {
		json_decref(entry);
		return 0;
	}
	if (strcmp(rel, "epoch") == 0) {
		json_decref(entry);
		return 0;
	}
	if (strncmp(rel, "nodes/", 6) == 0) {
		json_decref(entry);
		v = json_loadb(value, len, 0, &jerr);
		if (v != NULL && rel[6] != '\0')
			json_object_set_new(f->nodes, rel + 6, v);
		else
			json_decref(v);
		return 0;
	}
	k = kind_of(rel, &name);
	if (k == NULL)
		why = "not a key of layout v1 (groups/, prefix_lists/, subnets/, hosts/, ports/, "
		      "router, limits, nodes/, epoch; docs/cluster.md)";
	else if (!single(k) && (name[0] == '\0' || strchr(name, '/') != NULL))
		why = "the name after the kind's directory must be one non-empty word";
	else if ((v = json_loadb(value, len, 0, &jerr)) == NULL) {
		snprintf(buf, sizeof(buf), "not JSON: %s (at character %d)", jerr.text,
				jerr.position);
		why = buf;
	} else if (!json_is_object(v)) {
		why = "the value must be a JSON object";
	} else if ((why = value_problem(v, buf, sizeof(buf))) == NULL && k->name != NULL) {
		json_t *given = json_object_get(v, k->name);

		if (given == NULL && strcmp(k->name, "id") == 0)
			given = json_object_get(v, "SecurityGroupId");
		if (given == NULL)
			json_object_set_new(v, k->name, json_string(name));
		else if (!json_is_string(given) || strcmp(json_string_value(given), name) != 0) {
			snprintf(buf, sizeof(buf), "%s differs from the key's name \"%.64s\"",
					k->name, name);
			why = buf;
		}
	}
	json_object_set_new(entry, "rev", json_integer(mod_revision));
	if (why != NULL) {
		json_decref(v);
		json_object_set_new(entry, "bad", json_string(why));
		json_object_set_new(f->keys, rel, entry);
		return sg_error_set(err, 0, "etcd key %s: %s", key, why);
	}
	json_object_set_new(entry, "v", v);
	json_object_set_new(f->keys, rel, entry);
	return 1;
}

int
sg_cluster_fleet_delete(struct sg_cluster_fleet *f, const char *key)
{
	size_t plen = strlen(f->prefix);

	if (strncmp(key, f->prefix, plen) != 0)
		return 0;
	if (strncmp(key + plen, "nodes/", 6) == 0) {
		json_object_del(f->nodes, key + plen + 6);
		return 0;
	}
	return json_object_del(f->keys, key + plen) == 0 ? 1 : 0;
}

int
sg_cluster_fleet_load(struct sg_cluster_fleet *f, const struct sg_etcd_kvs *kvs,
		struct sg_error *err)
{
	struct sg_error first = {0};
	int rc = 0;

	json_object_clear(f->keys);
	json_object_clear(f->nodes);
	for (size_t i = 0; i < kvs->n; i++) {
		struct sg_error e;

		if (sg_cluster_fleet_set(f, kvs->kvs[i].key, kvs->kvs[i].value,
				    kvs->kvs[i].value_len, kvs->kvs[i].mod_revision, &e) < 0 &&
				rc == 0) {
			first = e;
			rc = -EINVAL;
		}
	}
	if (rc < 0 && err != NULL)
		*err = first;
	return rc;
}

void *
sg_cluster_fleet_node(const struct sg_cluster_fleet *f, const char *host)
{
	return json_object_get(f->nodes, host);
}

void
sg_cluster_fleet_override(struct sg_cluster_fleet *f, const char *rel, void *value)
{
	if (value == NULL)
		json_object_del(f->overrides, rel);
	else
		json_object_set(f->overrides, rel, value);
}

/* What a key builds as: its override, else its value. */
static json_t *
built_value(const struct sg_cluster_fleet *f, const char *rel)
{
	json_t *o = json_object_get(f->overrides, rel);

	return o != NULL ? o : sg_cluster_fleet_value(f, rel);
}

/* ---- config text with a map from its lines to keys ---- */

struct emitter {
	FILE *out;
	int line;          /* the line being written, from 1 */
	int32_t *map;      /* line -> key index (-1: the local file) */
	size_t cap;
	int32_t key;       /* the key being written */
	int target;        /* locate mode: the line whose path is wanted (0: none) */
	char path[256];    /* where the writer is: "rules[2].port_range" */
	char found[256];
	bool oom;
};

static void
newline(struct emitter *e)
{
	if (e->target != 0 && e->line == e->target && e->found[0] == '\0')
		snprintf(e->found, sizeof(e->found), "%s", e->path[0] ? e->path : "(the value)");
	if (e->map != NULL) {
		if ((size_t)e->line >= e->cap) {
			size_t cap = e->cap ? e->cap * 2 : 4096;
			int32_t *grown = realloc(e->map, cap * sizeof(*grown));

			if (grown == NULL) {
				e->oom = true;
				return;
			}
			e->map = grown;
			e->cap = cap;
		}
		e->map[e->line] = e->key;
	}
	fputc('\n', e->out);
	e->line++;
}

static void emit_value(struct emitter *e, const json_t *v);

static void
put_string(FILE *out, const char *s)
{
	sg_conf_put_string(out, s);
}

static bool
scalar(const json_t *v)
{
	return json_is_string(v) || json_is_integer(v) || json_is_boolean(v);
}

static void
emit_scalar(struct emitter *e, const json_t *v)
{
	if (json_is_string(v)) {
		put_string(e->out, json_string_value(v));
	} else if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);

		/* libconfig keeps 32 bits of a number without L. */
		fprintf(e->out, "%lld%s", (long long)n, n > INT32_MAX || n < INT32_MIN ? "L" : "");
	} else {
		fputs(json_is_true(v) ? "true" : "false", e->out);
	}
}

static void
emit_members(struct emitter *e, const json_t *obj)
{
	size_t plen = strlen(e->path);
	const char *key;
	json_t *m;

	json_object_foreach((json_t *)obj, key, m) {
		snprintf(e->path + plen, sizeof(e->path) - plen, "%s%s", plen ? "." : "", key);
		fprintf(e->out, "%s = ", key);
		emit_value(e, m);
		fputc(';', e->out);
		newline(e);
	}
	e->path[plen] = '\0';
}

static void
emit_value(struct emitter *e, const json_t *v)
{
	size_t plen = strlen(e->path), i;
	bool same = true;
	json_t *m;

	if (scalar(v)) {
		emit_scalar(e, v);
		return;
	}
	if (json_is_object(v)) {
		fputc('{', e->out);
		newline(e);
		emit_members(e, v);
		fputc('}', e->out);
		return;
	}
	/* An array of scalars of one type is an array [..], anything else a list (..). */
	json_array_foreach(v, i, m)
		same = same && scalar(m) &&
		       json_typeof(m) == json_typeof(json_array_get(v, 0)) &&
		       !(json_is_boolean(m) != json_is_boolean(json_array_get(v, 0)));
	if (same && json_array_size(v) > 0) {
		fputc('[', e->out);
		json_array_foreach(v, i, m) {
			fputs(i ? ", " : "", e->out);
			emit_scalar(e, m);
		}
		fputc(']', e->out);
		return;
	}
	fputc('(', e->out);
	json_array_foreach(v, i, m) {
		snprintf(e->path + plen, sizeof(e->path) - plen, "[%zu]", i);
		if (i > 0)
			fputc(',', e->out);
		newline(e);
		emit_value(e, m);
	}
	e->path[plen] = '\0';
	fputc(')', e->out);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The policy keys in name order (borrowed strings). */
static const char **
sorted_keys(const struct sg_cluster_fleet *f, size_t *n)
{
	const char **names = calloc(json_object_size(f->keys) + 1, sizeof(*names));
	const char *key;
	json_t *v;

	*n = 0;
	if (names == NULL)
		return NULL;
	json_object_foreach(f->keys, key, v)
		names[(*n)++] = key;
	qsort(names, *n, sizeof(*names), cmp_str);
	return names;
}

/* A libconfig setting as JSON. */
static json_t *
setting_json(const config_setting_t *s)
{
	json_t *v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		v = json_object();
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *m = config_setting_get_elem(s, (unsigned int)i);

			json_object_set_new(v, config_setting_name(m), setting_json(m));
		}
		return v;
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY:
		v = json_array();
		for (int i = 0; i < config_setting_length(s); i++)
			json_array_append_new(v, setting_json(config_setting_get_elem(s, (unsigned int)i)));
		return v;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return json_integer(config_setting_get_int64(s));
	case CONFIG_TYPE_FLOAT:
		return json_real(config_setting_get_float(s));
	case CONFIG_TYPE_BOOL:
		return json_boolean(config_setting_get_bool(s));
	default:
		return json_string(config_setting_get_string(s));
	}
}

static const char *const fleet_sections[] = {"security_groups", "prefix_lists", "subnets",
		"hosts", "router", "limits"};

/*
 * The local file of a node as JSON sections: no fleet section, only uplink ports. Errors name
 * the file and line.
 */
static json_t *
local_sections(const char *path, struct sg_error *err)
{
	config_t cfg;
	char dir[SG_PATH_MAX];
	json_t *doc = NULL;
	const config_setting_t *root;

	config_init(&cfg);
	snprintf(dir, sizeof(dir), "%s", path);
	config_set_include_dir(&cfg, dirname(dir));
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		sg_error_set(err, 0, "%s:%d: %s", config_error_file(&cfg) ? config_error_file(&cfg)
									 : path,
				config_error_line(&cfg), config_error_text(&cfg));
		goto out;
	}
	root = config_root_setting(&cfg);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned int)i);

		for (size_t k = 0; k < SG_ARRAY_SIZE(fleet_sections); k++)
			if (strcmp(config_setting_name(s), fleet_sections[k]) == 0) {
				sg_error_set(err, 0,
						"%s:%d: %s belongs to the fleet in etcd, not to a "
						"cluster node's file (docs/cluster.md)",
						path, config_setting_source_line(s),
						config_setting_name(s));
				goto out;
			}
		if (strcmp(config_setting_name(s), "ports") != 0)
			continue;
		for (int p = 0; p < config_setting_length(s); p++) {
			const config_setting_t *port = config_setting_get_elem(s, (unsigned int)p);
			const char *role = NULL, *name = "?";

			config_setting_lookup_string(port, "role", &role);
			config_setting_lookup_string(port, "name", &name);
			if (role == NULL || strcmp(role, "uplink") != 0) {
				sg_error_set(err, 0,
						"%s:%d: port \"%s\": a cluster node's file holds only "
						"its uplink; VM ports are keys ports/NAME in etcd "
						"(docs/cluster.md)",
						path, config_setting_source_line(port), name);
				goto out;
			}
		}
	}
	doc = setting_json(root);
out:
	config_destroy(&cfg);
	return doc;
}

struct text {
	char *data;
	size_t len;
	int32_t *map;
	int lines;
	const char **names; /* key index -> relative key */
	size_t n_names;
};

static void
text_free(struct text *t)
{
	free(t->data);
	free(t->map);
	free(t->names);
}

/* The config text of 'local' (JSON sections, may be NULL) and the fleet. */
static int
fleet_text(const struct sg_cluster_fleet *f, const json_t *local, struct text *t,
		struct sg_error *err)
{
	struct emitter e = {.line = 1, .key = -1};
	const char *section;
	json_t *v;

	memset(t, 0, sizeof(*t));
	t->names = sorted_keys(f, &t->n_names);
	e.out = open_memstream(&t->data, &t->len);
	e.map = malloc(4096 * sizeof(*e.map));
	e.cap = 4096;
	if (t->names == NULL || e.out == NULL || e.map == NULL) {
		if (e.out != NULL)
			fclose(e.out);
		free(e.map);
		text_free(t);
		return sg_cluster_fail(err, -ENOMEM, "out of memory");
	}
	/* A bad key refuses the fleet whole: the first one, by name. */
	for (size_t i = 0; i < t->n_names; i++) {
		json_t *entry = json_object_get(f->keys, t->names[i]);

		if (json_object_get(entry, "bad") != NULL) {
			fclose(e.out);
			free(e.map);
			sg_error_set(err, 0, "etcd key %s%s: %s", f->prefix, t->names[i],
					json_string_value(json_object_get(entry, "bad")));
			text_free(t);
			return -EINVAL;
		}
	}
	json_object_foreach((json_t *)local, section, v) {
		if (strcmp(section, "ports") == 0)
			continue;
		snprintf(e.path, sizeof(e.path), "%s", section);
		fprintf(e.out, "%s = ", section);
		emit_value(&e, v);
		fputc(';', e.out);
		newline(&e);
	}
	for (size_t k = 0; k < N_KINDS; k++) {
		const struct kind *kd = &kinds[k];
		json_t *lports = strcmp(kd->section, "ports") == 0 ? json_object_get(local, "ports")
								    : NULL;
		bool any = json_array_size(lports) > 0, first = true;
		size_t i;

		e.path[0] = '\0';
		e.key = -1;
		for (size_t n = 0; n < t->n_names && !any; n++) {
			const char *name;

			any = kind_of(t->names[n], &name) == kd;
		}
		if (!any)
			continue;
		if (single(kd)) {
			for (size_t n = 0; n < t->n_names; n++) {
				const char *name;

				if (kind_of(t->names[n], &name) != kd)
					continue;
				e.key = (int32_t)n;
				fprintf(e.out, "%s = ", kd->section);
				emit_value(&e, built_value(f, t->names[n]));
				fputc(';', e.out);
				newline(&e);
			}
			continue;
		}
		fprintf(e.out, "%s = (", kd->section);
		json_array_foreach(lports, i, v) {
			snprintf(e.path, sizeof(e.path), "ports[%zu]", i);
			fputs(first ? "" : ",", e.out);
			first = false;
			newline(&e);
			emit_value(&e, v);
		}
		for (size_t n = 0; n < t->n_names; n++) {
			const char *name;

			if (kind_of(t->names[n], &name) != kd)
				continue;
			fputs(first ? "" : ",", e.out);
			first = false;
			newline(&e);
			e.key = (int32_t)n;
			e.path[0] = '\0';
			emit_value(&e, built_value(f, t->names[n]));
		}
		e.key = -1;
		fputs(");", e.out);
		newline(&e);
	}
	fclose(e.out);
	t->map = e.map;
	t->lines = e.line;
	if (e.oom) {
		text_free(t);
		return sg_cluster_fail(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* The field at line 'line' of key 'rel''s value as written ("rules[2].port_range"). */
static void
locate(const struct sg_cluster_fleet *f, const char *rel, int line, char *path, size_t size)
{
	char *data = NULL;
	size_t len = 0;
	struct emitter e = {.line = line, .key = -1};

	path[0] = '\0';
	/* The key's value began at its own line: count from there. */
	e.out = open_memstream(&data, &len);
	if (e.out == NULL)
		return;
	e.target = line;
	e.line = 1;
	emit_value(&e, built_value(f, rel));
	newline(&e);
	fclose(e.out);
	free(data);
	snprintf(path, size, "%s", e.found);
}

#define ORIGIN "<etcd>"

/* lib/conf's "<etcd>:LINE: message" as "etcd key /sgfw/v1/groups/sg-web: rules[2]: message". */
static void
name_the_key(const struct sg_cluster_fleet *f, const struct text *t, const char *local,
		struct sg_error *err)
{
	char msg[sizeof(err->msg)], path[256];
	const char *rest;
	long line;
	int first;

	if (strncmp(err->msg, ORIGIN ":", strlen(ORIGIN) + 1) != 0)
		return;
	rest = err->msg + strlen(ORIGIN) + 1;
	line = strtol(rest, (char **)&rest, 10);
	if (*rest == ':')
		rest++;
	while (*rest == ' ')
		rest++;
	snprintf(msg, sizeof(msg), "%s", rest);
	if (line <= 0 || line >= t->lines || t->map[line] < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s (fleet state from etcd): %s",
				local != NULL ? local : "config", msg);
		return;
	}
	/* The key's first line: where its value starts. */
	for (first = (int)line; first > 1 && t->map[first - 1] == t->map[line]; first--)
		;
	locate(f, t->names[t->map[line]], (int)line - first + 1, path, sizeof(path));
	snprintf(err->msg, sizeof(err->msg), "etcd key %s%s: %s%s%s", f->prefix,
			t->names[t->map[line]], path, path[0] ? ": " : "", msg);
}

struct sg_conf *
sg_cluster_fleet_build(const struct sg_cluster_fleet *f, const char *local, struct sg_error *err)
{
	json_t *sections = NULL;
	struct sg_conf *conf;
	struct text t;

	if (local != NULL && (sections = local_sections(local, err)) == NULL)
		return NULL;
	if (fleet_text(f, sections, &t, err) < 0) {
		json_decref(sections);
		return NULL;
	}
	json_decref(sections);
	conf = sg_conf_load_string(t.data, ORIGIN, err);
	if (conf == NULL)
		name_the_key(f, &t, local, err);
	else if (local != NULL) {
		/* Reloads, saves and messages name the node's file. */
		sg_strlcpy(conf->path, local, sizeof(conf->path));
		sg_strlcpy(conf->sources[0], local, sizeof(conf->sources[0]));
	}
	text_free(&t);
	return conf;
}

struct sg_conf *
sg_cluster_fleet_build_as(const struct sg_cluster_fleet *f, const char *host, struct sg_error *err)
{
	json_t *sections = json_object(), *ports = json_array(), *up = json_object();
	struct sg_conf *conf = NULL;
	const char **names = NULL;
	struct text t;
	size_t n = 0;

	if (host == NULL && (names = sorted_keys(f, &n)) != NULL)
		for (size_t i = 0; i < n && host == NULL; i++)
			if (strncmp(names[i], "hosts/", 6) == 0)
				host = names[i] + 6;
	if (host != NULL) {
		/* A fleet config needs its host and an uplink: stand-ins that open nothing. */
		json_object_set_new(sections, "host", json_string(host));
		json_object_set_new(up, "name", json_string("uplink"));
		json_object_set_new(up, "type", json_string("null"));
		json_object_set_new(up, "role", json_string("uplink"));
		json_object_set_new(up, "peer_mac", json_string("02:00:00:00:00:01"));
		json_array_append(ports, up);
		json_object_set(sections, "ports", ports);
	}
	if (fleet_text(f, sections, &t, err) == 0) {
		conf = sg_conf_load_string(t.data, ORIGIN, err);
		if (conf == NULL)
			name_the_key(f, &t, NULL, err);
		text_free(&t);
	}
	free(names);
	json_decref(up);
	json_decref(ports);
	json_decref(sections);
	return conf;
}

int
sg_cluster_fleet_write(const struct sg_cluster_fleet *f, FILE *out)
{
	struct sg_error err;
	struct text t;
	int rc = fleet_text(f, NULL, &t, &err);

	if (rc < 0)
		return rc;
	fputs("# The fleet's sections as sgfw config (sgfwctl cluster export)\n", out);
	fwrite(t.data, 1, t.len, out);
	text_free(&t);
	return ferror(out) ? -EIO : 0;
}

/* ---- from a config to keys ---- */

static void
put_key(struct sg_cluster_fleet *f, const char *rel, json_t *v)
{
	json_t *entry = json_object();

	json_object_set_new(entry, "rev", json_integer(0));
	json_object_set_new(entry, "v", v);
	json_object_set_new(f->keys, rel, entry);
}

/* A name for a subnet: the key of 'names' with the same cidr, else the cidr ('/' as '_'). */
static void
subnet_name(const struct sg_cluster_fleet *names, const char *cidr, char *buf, size_t size)
{
	const char *key;
	json_t *entry;

	if (names != NULL)
		json_object_foreach(names->keys, key, entry) {
			const char *c = json_string_value(
					json_object_get(json_object_get(entry, "v"), "cidr"));

			if (strncmp(key, "subnets/", 8) == 0 && c != NULL && strcmp(c, cidr) == 0) {
				snprintf(buf, size, "%s", key);
				return;
			}
		}
	snprintf(buf, size, "subnets/%s", cidr);
	for (char *p = buf + 8; *p; p++)
		if (*p == '/')
			*p = '_';
}

struct sg_cluster_fleet *
sg_cluster_fleet_from_conf(const struct sg_conf *conf, const char *prefix,
		const struct sg_cluster_fleet *names, struct sg_error *err)
{
	struct sg_cluster_fleet *f = sg_cluster_fleet_create(prefix);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	config_t cfg;
	const config_setting_t *root;

	config_init(&cfg);
	if (f == NULL || out == NULL || sg_conf_write(conf, out) < 0) {
		if (out != NULL)
			fclose(out);
		goto fail;
	}
	fclose(out);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		sg_error_set(err, 0, "cannot read back the written config: line %d: %s",
				config_error_line(&cfg), config_error_text(&cfg));
		goto fail_quiet;
	}
	root = config_root_setting(&cfg);
	for (size_t k = 0; k < N_KINDS; k++) {
		const struct kind *kd = &kinds[k];
		const config_setting_t *s = config_setting_get_member(root, kd->section);
		char rel[SG_PATH_MAX];

		if (s == NULL)
			continue;
		if (single(kd)) {
			put_key(f, kd->dir, setting_json(s));
			continue;
		}
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned int)i);
			const char *name = NULL, *role = NULL;

			if (config_setting_lookup_string(e, "role", &role) && strcmp(role, "uplink") == 0)
				continue;
			if (kd->name != NULL) {
				config_setting_lookup_string(e, kd->name, &name);
				snprintf(rel, sizeof(rel), "%s%s", kd->dir, name ? name : "");
			} else {
				const char *cidr = "";

				config_setting_lookup_string(e, "cidr", &cidr);
				subnet_name(names, cidr, rel, sizeof(rel));
			}
			put_key(f, rel, setting_json(e));
		}
	}
	config_destroy(&cfg);
	free(text);
	return f;
fail:
	sg_error_set(err, 0, "out of memory");
fail_quiet:
	config_destroy(&cfg);
	free(text);
	sg_cluster_fleet_free(f);
	return NULL;
}

void
sg_cluster_diff_free(struct sg_cluster_diff *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free((char *)d->ops[i].key);
		free((char *)d->ops[i].value);
	}
	free(d->ops);
	memset(d, 0, sizeof(*d));
}

static int
diff_add(struct sg_cluster_diff *d, const char *prefix, const char *rel, const json_t *v)
{
	struct sg_etcd_op *grown = realloc(d->ops, (d->n + 1) * sizeof(*grown));
	char *key = malloc(strlen(prefix) + strlen(rel) + 1);

	if (grown == NULL || key == NULL) {
		free(key);
		if (grown != NULL)
			d->ops = grown;
		return -ENOMEM;
	}
	d->ops = grown;
	strcpy(key, prefix);
	strcat(key, rel);
	d->ops[d->n] = (struct sg_etcd_op){.key = key};
	if (v != NULL && (d->ops[d->n].value = json_dumps(v, JSON_COMPACT)) == NULL) {
		free(key);
		return -ENOMEM;
	}
	d->n++;
	return 0;
}

int
sg_cluster_fleet_diff(const struct sg_cluster_fleet *from, const struct sg_cluster_fleet *to,
		struct sg_cluster_diff *d)
{
	size_t n;
	const char **names = sorted_keys(to, &n);
	const char *key;
	json_t *entry;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	if (names == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const json_t *v = sg_cluster_fleet_value(to, names[i]);
		const json_t *old = sg_cluster_fleet_value(from, names[i]);

		if (old == NULL || !json_equal((json_t *)old, (json_t *)v))
			rc = diff_add(d, to->prefix, names[i], v);
	}
	free(names);
	json_object_foreach(from->keys, key, entry)
		if (rc == 0 && json_object_get(to->keys, key) == NULL)
			rc = diff_add(d, to->prefix, key, NULL);
	if (rc < 0)
		sg_cluster_diff_free(d);
	return rc;
}

/* ---- the node's state file ---- */

int
sg_cluster_fleet_save(const struct sg_cluster_fleet *f, int64_t revision, const char *path,
		struct sg_error *err)
{
	json_t *doc = json_object();
	char tmp[SG_PATH_MAX + 16], dir[SG_PATH_MAX];
	int fd, rc = 0;

	json_object_set_new(doc, "format", json_string("sgfw-cluster-state-1"));
	json_object_set_new(doc, "prefix", json_string(f->prefix));
	json_object_set_new(doc, "revision", json_integer(revision));
	json_object_set(doc, "keys", f->keys);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	snprintf(dir, sizeof(dir), "%s", path);
	mkdir(dirname(dir), 0700);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
	} else {
		if (json_dumpfd(doc, fd, JSON_COMPACT) != 0 || fsync(fd) != 0)
			rc = -EIO;
		close(fd);
		if (rc == 0 && rename(tmp, path) != 0)
			rc = -errno;
		if (rc < 0)
			unlink(tmp);
	}
	json_decref(doc);
	if (rc < 0)
		return sg_error_set(err, 0, "cannot save the cluster state to %s: %s", path,
				       strerror(-rc)),
		       rc;
	sg_fsync_dir_of(path);
	return 0;
}

struct sg_cluster_fleet *
sg_cluster_fleet_restore(const char *path, int64_t *revision, struct sg_error *err)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr), *keys;
	const char *format = json_string_value(json_object_get(doc, "format"));
	struct sg_cluster_fleet *f;

	if (doc == NULL) {
		sg_error_set(err, 0, "%s: %s", path, jerr.text);
		return NULL;
	}
	keys = json_object_get(doc, "keys");
	if (format == NULL || strcmp(format, "sgfw-cluster-state-1") != 0 || !json_is_object(keys)) {
		sg_error_set(err, 0, "%s: not an sgfw cluster state file", path);
		json_decref(doc);
		return NULL;
	}
	f = sg_cluster_fleet_create(json_string_value(json_object_get(doc, "prefix")));
	if (f != NULL) {
		json_decref(f->keys);
		f->keys = json_incref(keys);
		*revision = json_integer_value(json_object_get(doc, "revision"));
	}
	json_decref(doc);
	return f;
}
