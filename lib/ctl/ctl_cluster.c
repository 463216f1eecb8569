/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfwctl --etcd: the change commands against the fleet in etcd, each one transaction that
 * holds only if nothing changed since it was read (else read again and redone, a few times),
 * the views on the fleet, and cluster status, import and export (docs/cluster.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sg_cluster.h"
#include "sg_ctl.h"

/* The kinds of policy keys a change compares: every one but nodes/ (presence, written by the
 * nodes all the time) and the epoch (compared on its own). */
static const char *const compared[] = {"groups/", "prefix_lists/", "subnets/", "hosts/",
		"ports/", "router", "limits"};

static struct sg_etcd *
connect_etcd(const struct sg_ctl_etcd_opts *o, struct sg_error *err)
{
	const char *eps[16];
	char *list = strdup(o->endpoints);
	struct sg_etcd_params p = {
		.endpoints = eps,
		.ca_file = o->ca_file,
		.cert_file = o->cert_file,
		.key_file = o->key_file,
		.timeout_ms = o->timeout_ms,
	};
	struct sg_etcd *e;

	if (list == NULL)
		return NULL;
	p.n_endpoints = sg_etcd_split_endpoints(list, eps, 16);
	e = sg_etcd_create(&p, err);
	free(list);
	return e;
}

/* The fleet at the newest revision: '*revision', and the epoch key's mod_revision (0: none). */
static struct sg_cluster_fleet *
read_fleet(struct sg_etcd *e, const char *prefix, int64_t *revision, int64_t *epoch, bool strict,
		struct sg_error *err)
{
	struct sg_etcd_kvs kvs;
	struct sg_cluster_fleet *f;
	size_t plen = strlen(prefix);

	if (sg_etcd_range(e, prefix, 0, 0, &kvs, err) < 0)
		return NULL;
	*revision = kvs.revision;
	*epoch = 0;
	for (size_t i = 0; i < kvs.n; i++)
		if (strncmp(kvs.kvs[i].key, prefix, plen) == 0 &&
				strcmp(kvs.kvs[i].key + plen, "epoch") == 0)
			*epoch = kvs.kvs[i].mod_revision;
	f = sg_cluster_fleet_create(prefix);
	/* Not strict (import): a bad key is kept, to be replaced or deleted. */
	if (f != NULL && sg_cluster_fleet_load(f, &kvs, err) < 0 && strict) {
		sg_cluster_fleet_free(f);
		f = NULL;
	}
	sg_etcd_kvs_free(&kvs);
	return f;
}

/*
 * Write 'diff' if nothing under the prefix changed since 'revision' and the epoch is still
 * 'epoch': one transaction that moves the epoch too. 1 written, 0 a concurrent change, -errno.
 */
static int
write_diff(struct sg_etcd *e, const char *prefix, const struct sg_cluster_diff *diff,
		int64_t revision, int64_t epoch, int64_t *written, struct sg_error *err)
{
	struct sg_etcd_cmp cmps[SG_ARRAY_SIZE(compared) + 1];
	struct sg_etcd_op *ops = calloc(diff->n + 1, sizeof(*ops));
	char keys[SG_ARRAY_SIZE(compared) + 1][SG_PATH_MAX + 32], value[160];
	size_t n = 0;
	int rc;

	if (ops == NULL)
		return -ENOMEM;
	snprintf(keys[n], sizeof(keys[n]), "%sepoch", prefix);
	cmps[n] = (struct sg_etcd_cmp){.key = keys[n],
			.kind = epoch ? SG_ETCD_MOD_EQUAL : SG_ETCD_CREATE_EQUAL,
			.revision = epoch};
	n++;
	for (size_t k = 0; k < SG_ARRAY_SIZE(compared); k++, n++) {
		snprintf(keys[n], sizeof(keys[n]), "%s%s", prefix, compared[k]);
		cmps[n] = (struct sg_etcd_cmp){.key = keys[n],
				.prefix = true,
				.kind = SG_ETCD_MOD_LESS,
				.revision = revision + 1};
	}
	memcpy(ops, diff->ops, diff->n * sizeof(*ops));
	snprintf(value, sizeof(value), "{\"by\":\"sgfwctl\",\"pid\":%d,\"time\":%lld}", (int)getpid(),
			(long long)time(NULL));
	ops[diff->n] = (struct sg_etcd_op){.key = keys[0], .value = value};
	rc = sg_etcd_txn(e, cmps, n, ops, diff->n + 1, written, err);
	free(ops);
	return rc;
}

/* For tests: SGFWCTL_ETCD_PAUSE_MS holds a change between its read and its write. */
static void
test_pause(void)
{
	const char *ms = getenv("SGFWCTL_ETCD_PAUSE_MS");

	if (ms != NULL && atoi(ms) > 0)
		usleep((useconds_t)atoi(ms) * 1000u);
}

static int
retries(void)
{
	const char *n = getenv("SGFWCTL_ETCD_RETRIES");

	return n != NULL ? atoi(n) : 3;
}

/* One change command: read, change, write the keys it changed; again when raced. */
static int
change(struct sg_etcd *e, const struct sg_ctl_etcd_opts *o, struct sg_ctl_ctx *ctx, int argc,
		char **argv)
{
	int max = retries(), rc = SG_CTL_EXIT_FAIL;

	for (int attempt = 0; attempt <= max; attempt++) {
		struct sg_cluster_fleet *fleet = NULL, *before = NULL, *after = NULL;
		struct sg_conf *conf = NULL, *result = NULL;
		struct sg_cluster_diff diff = {0};
		struct sg_error err = {0};
		int64_t revision, epoch, written = 0;
		char **words = calloc((size_t)argc + 1, sizeof(*words));
		char *summary = NULL;
		int w = -1;

		rc = SG_CTL_EXIT_FAIL;
		if (words == NULL)
			break;
		/* A change edits its words: each attempt gets its own copy. */
		for (int i = 0; i < argc; i++)
			words[i] = strdup(argv[i]);
		fleet = read_fleet(e, o->prefix, &revision, &epoch, true, &err);
		if (fleet == NULL) {
			fprintf(ctx->err, "error: %s (nothing changed)\n", err.msg);
		} else if ((conf = sg_cluster_fleet_build_as(fleet, o->host, &err)) == NULL) {
			fprintf(ctx->err, "error: the fleet in etcd is not valid: %s (nothing changed)\n",
					err.msg);
		} else {
			ctx->conf = conf;
			rc = sg_ctl_change_held(ctx, argc, words, &result, &summary);
		}
		if (rc == SG_CTL_EXIT_OK) {
			rc = SG_CTL_EXIT_FAIL;
			before = sg_cluster_fleet_from_conf(conf, o->prefix, fleet, &err);
			after = before ? sg_cluster_fleet_from_conf(result, o->prefix, fleet, &err) : NULL;
			if (after == NULL || sg_cluster_fleet_diff(before, after, &diff) < 0) {
				fprintf(ctx->err, "error: %s (nothing changed)\n",
						err.msg[0] ? err.msg : "out of memory");
			} else {
				test_pause();
				w = write_diff(e, o->prefix, &diff, revision, epoch, &written, &err);
				if (w < 0)
					fprintf(ctx->err, "error: %s (nothing changed)\n", err.msg);
			}
		}
		if (w == 1) {
			fputs(summary, ctx->out);
			fprintf(ctx->out, "written to etcd at revision %lld (%zu key%s)%s\n",
					(long long)written, diff.n, diff.n == 1 ? "" : "s",
					attempt ? " after a concurrent change: read again and redone"
						: "");
			rc = SG_CTL_EXIT_OK;
		}
		ctx->conf = NULL;
		free(summary);
		sg_cluster_diff_free(&diff);
		sg_cluster_fleet_free(after);
		sg_cluster_fleet_free(before);
		sg_conf_free(result);
		sg_conf_free(conf);
		sg_cluster_fleet_free(fleet);
		for (int i = 0; i < argc; i++)
			free(words[i]);
		free(words);
		if (w != 0)
			return w == 1 ? SG_CTL_EXIT_OK : rc;
		/* w == 0: someone changed the fleet since we read it; read it again. */
	}
	fprintf(ctx->err,
			"error: concurrent change: the fleet in etcd changed between reading and "
			"writing %d times; nothing written, try again\n",
			max + 1);
	return SG_CTL_EXIT_FAIL;
}

/* cluster import FILE: the fleet sections of a config file become the fleet (one txn). */
static int
import(struct sg_etcd *e, const struct sg_ctl_etcd_opts *o, struct sg_ctl_ctx *ctx, int argc,
		char **argv)
{
	struct sg_cluster_fleet *fleet = NULL, *want = NULL;
	struct sg_cluster_diff diff = {0};
	struct sg_error err = {0};
	struct sg_conf *conf;
	int64_t revision, epoch, written = 0;
	int rc = SG_CTL_EXIT_FAIL, w;

	if (argc != 3) {
		fprintf(ctx->err, "usage error: cluster import FILE\n");
		return SG_CTL_EXIT_USAGE;
	}
	conf = sg_conf_load_file(argv[2], &err);
	if (conf == NULL) {
		fprintf(ctx->err, "error: %s (nothing written)\n", err.msg);
		return SG_CTL_EXIT_FAIL;
	}
	/* An invalid fleet is replaced whole: its bad keys are read too. */
	fleet = read_fleet(e, o->prefix, &revision, &epoch, false, &err);
	if (fleet == NULL) {
		fprintf(ctx->err, "error: %s (nothing written)\n", err.msg);
		goto out;
	}
	want = sg_cluster_fleet_from_conf(conf, o->prefix, fleet, &err);
	if (want == NULL || sg_cluster_fleet_diff(fleet, want, &diff) < 0) {
		fprintf(ctx->err, "error: %s (nothing written)\n", err.msg);
		goto out;
	}
	w = write_diff(e, o->prefix, &diff, revision, epoch, &written, &err);
	if (w < 0)
		fprintf(ctx->err, "error: %s (nothing written)\n", err.msg);
	else if (w == 0)
		fprintf(ctx->err, "error: concurrent change: the fleet changed while it was read; "
				  "nothing written, try again\n");
	else {
		fprintf(ctx->out, "imported %s into etcd at revision %lld (%zu keys written or "
				  "deleted, %zu in the fleet)\n",
				argv[2], (long long)written, diff.n, sg_cluster_fleet_count(want));
		rc = SG_CTL_EXIT_OK;
	}
out:
	sg_cluster_diff_free(&diff);
	sg_cluster_fleet_free(want);
	sg_cluster_fleet_free(fleet);
	sg_conf_free(conf);
	return rc;
}

/* cluster export: the fleet as config text (checked first). */
static int
export(struct sg_etcd *e, const struct sg_ctl_etcd_opts *o, struct sg_ctl_ctx *ctx)
{
	struct sg_error err = {0};
	int64_t revision, epoch;
	struct sg_cluster_fleet *fleet = read_fleet(e, o->prefix, &revision, &epoch, true, &err);
	struct sg_conf *conf = fleet ? sg_cluster_fleet_build_as(fleet, o->host, &err) : NULL;
	int rc = SG_CTL_EXIT_FAIL;

	if (conf == NULL)
		fprintf(ctx->err, "error: %s\n", err.msg);
	else if (sg_cluster_fleet_write(fleet, ctx->out) == 0)
		rc = SG_CTL_EXIT_OK;
	sg_conf_free(conf);
	sg_cluster_fleet_free(fleet);
	return rc;
}

/* cluster status: each node's presence, its applied revision and lag behind the fleet. */
static int
status(struct sg_etcd *e, const struct sg_ctl_etcd_opts *o, struct sg_ctl_ctx *ctx)
{
	struct sg_etcd_kvs kvs;
	struct sg_error err = {0};
	size_t plen = strlen(o->prefix);
	int64_t fleet_rev = 0;
	json_t *nodes = json_array();
	time_t now = time(NULL);
	size_t i;
	json_t *n;

	if (sg_etcd_range(e, o->prefix, 0, 0, &kvs, &err) < 0) {
		fprintf(ctx->err, "error: %s\n", err.msg);
		json_decref(nodes);
		return SG_CTL_EXIT_FAIL;
	}
	for (i = 0; i < kvs.n; i++) {
		const char *rel = kvs.kvs[i].key + plen;

		if (strncmp(rel, "nodes/", 6) != 0) {
			/* The fleet's last change: its newest key (the epoch moves with every
			 * sgfwctl change, deletions included). */
			if (kvs.kvs[i].mod_revision > fleet_rev)
				fleet_rev = kvs.kvs[i].mod_revision;
			continue;
		}
		n = json_loads(kvs.kvs[i].value, 0, NULL);
		if (!json_is_object(n)) {
			json_decref(n);
			n = json_object();
		}
		json_object_set_new(n, "host", json_string(rel + 6));
		json_array_append_new(nodes, n);
	}
	json_array_foreach(nodes, i, n) {
		int64_t applied = json_integer_value(json_object_get(n, "applied_revision"));
		int64_t at = json_integer_value(json_object_get(n, "time"));

		json_object_set_new(n, "lag", json_integer(fleet_rev > applied ? fleet_rev - applied
										: 0));
		json_object_set_new(n, "age_seconds", json_integer(at ? (int64_t)now - at : -1));
	}
	if (ctx->json) {
		json_t *doc = json_object();

		json_object_set_new(doc, "revision", json_integer(kvs.revision));
		json_object_set_new(doc, "fleet_revision", json_integer(fleet_rev));
		json_object_set(doc, "nodes", nodes);
		json_dumpf(doc, ctx->out, JSON_INDENT(2));
		fputc('\n', ctx->out);
		json_decref(doc);
	} else {
		fprintf(ctx->out, "etcd %s: revision %lld, fleet changed last at %lld, %zu node%s\n",
				sg_etcd_endpoint(e), (long long)kvs.revision, (long long)fleet_rev,
				json_array_size(nodes), json_array_size(nodes) == 1 ? "" : "s");
		fprintf(ctx->out, "%-20s %10s %6s %-12s %6s %s\n", "NODE", "APPLIED", "LAG", "STATE",
				"AGE", "ERROR");
		json_array_foreach(nodes, i, n) {
			const char *error = json_string_value(json_object_get(n, "error"));
			const char *state = json_string_value(json_object_get(n, "state"));

			fprintf(ctx->out, "%-20s %10lld %6lld %-12s %5llds %s\n",
					json_string_value(json_object_get(n, "host")),
					(long long)json_integer_value(
							json_object_get(n, "applied_revision")),
					(long long)json_integer_value(json_object_get(n, "lag")),
					state ? state : "?",
					(long long)json_integer_value(json_object_get(n, "age_seconds")),
					error ? error : "");
		}
	}
	json_decref(nodes);
	sg_etcd_kvs_free(&kvs);
	return SG_CTL_EXIT_OK;
}

int
sg_ctl_etcd_only(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	fprintf(ctx->err, "error: \"%s %s\" works on etcd: give --etcd ENDPOINTS\n", argv[0],
			argc > 1 ? argv[1] : "");
	return SG_CTL_EXIT_USAGE;
}

int
sg_ctl_etcd_run(const struct sg_ctl_etcd_opts *o, struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	int used = 0, rc = SG_CTL_EXIT_FAIL;
	const struct sg_ctl_command *cmd = sg_ctl_find_words(argc, argv, &used);
	struct sg_error err = {0};
	struct sg_etcd *e;

	if (cmd == NULL) {
		fprintf(ctx->err, "usage error: unknown command \"%s\"\n", argv[0]);
		return SG_CTL_EXIT_USAGE;
	}
	if (!(cmd->flags & (SG_CTL_ETCD | SG_CTL_OFFLINE)) || cmd->run == sg_ctl_file_only) {
		fprintf(ctx->err, "error: \"%s\" does not work on etcd (--etcd)\n", cmd->words);
		return SG_CTL_EXIT_USAGE;
	}
	e = connect_etcd(o, &err);
	if (e == NULL) {
		fprintf(ctx->err, "error: %s\n", err.msg);
		return SG_CTL_EXIT_USAGE;
	}
	switch (cmd->id) {
	case SG_CTL_CMD_CLUSTER_STATUS:
		rc = status(e, o, ctx);
		break;
	case SG_CTL_CMD_CLUSTER_IMPORT:
		rc = import(e, o, ctx, argc, argv);
		break;
	case SG_CTL_CMD_CLUSTER_EXPORT:
		rc = export(e, o, ctx);
		break;
	default:
		if (cmd->run == NULL) {
			rc = change(e, o, ctx, argc, argv);
		} else {
			/* A view, on the fleet as etcd holds it now. */
			int64_t revision, epoch;
			struct sg_cluster_fleet *f = read_fleet(e, o->prefix, &revision, &epoch, true, &err);
			struct sg_conf *conf = f ? sg_cluster_fleet_build_as(f, o->host, &err) : NULL;

			if (conf == NULL) {
				fprintf(ctx->err, "error: %s\n", err.msg);
			} else {
				ctx->conf = conf;
				rc = cmd->run(ctx, argc, argv);
				ctx->conf = NULL;
			}
			sg_conf_free(conf);
			sg_cluster_fleet_free(f);
		}
	}
	sg_etcd_free(e);
	return rc;
}
