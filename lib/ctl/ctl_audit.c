/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfwctl audit: the config against its flow logs (lib/audit), for people or as JSON, with the
 * tightened config as a unified diff and, on request, written out as files. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sg_audit.h"
#include "sg_ctl.h"
#include "sg_flowlog.h"
#include "sg_json.h"

static const char *const kind_titles[SG_AUDIT_KIND_COUNT] = {
	[SG_AUDIT_UNUSED] = "Rules that matched no traffic in the logged period",
	[SG_AUDIT_WIDE] = "Accept rules much wider than the traffic they admitted",
	[SG_AUDIT_SHADOWED] = "Rules that can never match (shadowed)",
	[SG_AUDIT_REDUNDANT] = "Rules that repeat another (redundant)",
	[SG_AUDIT_CONFLICT] = "A drop and an accept at the same priority",
	[SG_AUDIT_INNER_UNUSED] = "Inner access that no member used",
};

/* Interfaces of the logs that name no port of the config, with their record counts. */
#define MAX_UNMAPPED 16

struct reading {
	struct sg_audit *audit;
	const struct sg_spec *spec;
	struct {
		char name[SG_NAME_MAX];
		uint64_t records;
	} unmapped[MAX_UNMAPPED];
	uint32_t n_unmapped;
	uint64_t unmapped_records; /* All of them, the names not listed too. */
	uint64_t mapped_records;   /* Records naming a port of the config. */
};

static int
read_cb(const struct sg_flowlog_record *rec, void *arg)
{
	struct reading *rd = arg;

	if (rec->port[0] != '\0' && sg_spec_find_port(rd->spec, rec->port) < 0) {
		uint32_t i;

		rd->unmapped_records++;
		for (i = 0; i < rd->n_unmapped && strcmp(rd->unmapped[i].name, rec->port) != 0; i++)
			;
		if (i == rd->n_unmapped && i < MAX_UNMAPPED)
			sg_strlcpy(rd->unmapped[rd->n_unmapped++].name, rec->port, SG_NAME_MAX);
		if (i < rd->n_unmapped)
			rd->unmapped[i].records++;
	} else if (rec->port[0] != '\0') {
		rd->mapped_records++;
	}
	sg_audit_add_record(rd->audit, rec);
	return 0;
}

/* One ENI=PORT mapping, from --eni or a line of --eni-map; 'where' names it in errors. */
static int
add_eni(struct sg_ctl_ctx *ctx, struct sg_flowlog_eni **enis, uint32_t *n, const char *text,
		const char *where)
{
	const char *eq = strchr(text, '=');
	struct sg_flowlog_eni e, *grown;

	if (eq == NULL || eq == text || eq[1] == '\0' || (size_t)(eq - text) >= sizeof(e.eni) ||
			sg_strlcpy(e.port, eq + 1, sizeof(e.port)) < 0) {
		fprintf(ctx->err, "error: %s \"%s\" is not ENI=PORT (e.g. eni-0a1b2c=web1)\n",
				where, text);
		return -EINVAL;
	}
	memcpy(e.eni, text, (size_t)(eq - text));
	e.eni[eq - text] = '\0';
	if (sg_spec_find_port(ctx->conf->spec, e.port) < 0) {
		fprintf(ctx->err, "error: %s \"%s\": %s has no port \"%s\"\n", where, text,
				ctx->conf->path, e.port);
		return -ENOENT;
	}
	for (uint32_t i = 0; i < *n; i++) {
		if (strcmp((*enis)[i].eni, e.eni) == 0) {
			fprintf(ctx->err, "error: %s \"%s\": %s is already mapped to %s\n", where,
					text, e.eni, (*enis)[i].port);
			return -EEXIST;
		}
	}
	grown = realloc(*enis, (*n + 1) * sizeof(**enis));
	if (grown == NULL) {
		fprintf(ctx->err, "error: out of memory\n");
		return -ENOMEM;
	}
	*enis = grown;
	(*enis)[(*n)++] = e;
	return 0;
}

/* --eni-map FILE: one "ENI PORT" or "ENI=PORT" a line; '#' starts a comment. */
static int
read_eni_map(struct sg_ctl_ctx *ctx, const char *path, struct sg_flowlog_eni **enis, uint32_t *n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, where[SG_PATH_MAX + 48];
	size_t cap = 0;
	int rc = 0;

	if (f == NULL) {
		fprintf(ctx->err, "error: --eni-map %s: %s\n", path, strerror(errno));
		return -errno;
	}
	for (unsigned int lineno = 1; rc == 0 && getline(&line, &cap, f) >= 0; lineno++) {
		char *p = line, *hash = strchr(line, '#'), *end;

		if (hash != NULL)
			*hash = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' ||
						  end[-1] == '\t'))
			*--end = '\0';
		if (*p == '\0')
			continue;
		if (strchr(p, '=') == NULL) {
			char *space = strpbrk(p, " \t");

			if (space != NULL) {
				*space = '=';
				memmove(space + 1, space + 1 + strspn(space + 1, " \t"),
						strlen(space + 1 + strspn(space + 1, " \t")) + 1);
			}
		}
		snprintf(where, sizeof(where), "--eni-map %s:%u:", path, lineno);
		rc = add_eni(ctx, enis, n, p, where);
	}
	free(line);
	fclose(f);
	return rc;
}

static const char *
utc(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

static void
rule_json(struct sg_json *j, const char *key, const struct sg_conf *conf,
		const struct sg_audit_rule_ref *r)
{
	char name[SG_NAME_MAX + 48];

	sg_json_object_open(j, key);
	sg_json_string(j, "name", sg_audit_rule_name(conf, r, name, sizeof(name)));
	sg_json_string(j, "origin", sg_origin_name(r->origin));
	if (r->group >= 0)
		sg_json_string(j, "group", conf->spec->groups[r->group].id);
	if (r->rule >= 0) {
		sg_json_uint(j, "index", (uint64_t)r->rule + 1);
		sg_json_int(j, "line", SG_LOC_LINE(conf->spec->groups[r->group].rules[r->rule].line));
	}
	sg_json_object_close(j);
}

static void
print_json(struct sg_ctl_ctx *ctx, const struct sg_audit *a, const char *logs,
		const struct sg_flowlog_read_stats *rs, const struct reading *rd,
		const char *written)
{
	const struct sg_conf *conf = ctx->conf;
	const struct sg_audit_finding *f;
	const struct sg_audit_file *files;
	uint32_t n = sg_audit_findings(a, &f), n_files = sg_audit_files(a, &files);
	struct sg_audit_summary s;
	struct sg_json j;

	sg_audit_get_summary(a, &s);
	sg_json_init(&j, ctx->out, true);
	sg_json_object_open(&j, NULL);
	sg_json_string(&j, "config", conf->path);
	if (logs != NULL)
		sg_json_string(&j, "flow_logs", logs);
	else
		sg_json_null(&j, "flow_logs");
	sg_json_uint(&j, "records", s.records);
	sg_json_uint(&j, "records_unmatched", s.records_unmatched);
	sg_json_uint(&j, "records_lost", s.records_lost);
	sg_json_array_open(&j, "incomplete");
	for (uint32_t p = 0; logs != NULL && p < conf->spec->n_ports; p++) {
		if (sg_audit_port_lost(a, p) == 0)
			continue;
		sg_json_object_open(&j, NULL);
		sg_json_string(&j, "port", conf->spec->ports[p].name);
		sg_json_uint(&j, "records_lost", sg_audit_port_lost(a, p));
		sg_json_object_close(&j);
	}
	sg_json_array_close(&j);
	sg_json_uint(&j, "bad_lines", rs->bad_lines);
	if (rs->bad_lines > 0)
		sg_json_string(&j, "first_bad_line", rs->first_bad);
	sg_json_object_open(&j, "log_files");
	for (int k = 0; k < SG_FLOWLOG_FORMAT_COUNT; k++)
		sg_json_uint(&j, sg_conf_flowlog_format_name((enum sg_flowlog_format)k),
				rs->files_by_format[k]);
	sg_json_object_close(&j);
	sg_json_uint(&j, "records_rule_from_config", s.records_cloud_named);
	sg_json_uint(&j, "records_unmapped", rd->unmapped_records);
	sg_json_array_open(&j, "unmapped_interfaces");
	for (uint32_t u = 0; u < rd->n_unmapped; u++) {
		sg_json_object_open(&j, NULL);
		sg_json_string(&j, "interface", rd->unmapped[u].name);
		sg_json_uint(&j, "records", rd->unmapped[u].records);
		sg_json_object_close(&j);
	}
	sg_json_array_close(&j);
	sg_json_int(&j, "start", s.first_start);
	sg_json_int(&j, "end", s.last_end);
	sg_json_uint(&j, "flows", s.flows);
	sg_json_object_open(&j, "counts");
	for (int k = 0; k < SG_AUDIT_KIND_COUNT; k++)
		sg_json_uint(&j, sg_audit_kind_name((enum sg_audit_kind)k), s.counts[k]);
	sg_json_object_close(&j);
	sg_json_array_open(&j, "findings");
	for (uint32_t i = 0; i < n; i++) {
		sg_json_object_open(&j, NULL);
		sg_json_string(&j, "kind", sg_audit_kind_name(f[i].kind));
		rule_json(&j, "rule", conf, &f[i].rule);
		if (f[i].has_other)
			rule_json(&j, "other", conf, &f[i].other);
		sg_json_array_open(&j, "ports");
		for (uint32_t p = 0; p < f[i].n_ports; p++)
			sg_json_string(&j, NULL, conf->spec->ports[f[i].ports[p]].name);
		sg_json_array_close(&j);
		sg_json_string(&j, "text", f[i].text);
		sg_json_string(&j, "suggestion", f[i].suggestion);
		if (f[i].kind == SG_AUDIT_WIDE) {
			sg_json_uint(&j, "packets", f[i].packets);
			sg_json_array_open(&j, "suggested_rules");
			for (uint32_t k = 0; k < f[i].n_suggested; k++)
				sg_json_string(&j, NULL, f[i].suggested[k]);
			sg_json_array_close(&j);
		}
		sg_json_bool(&j, "in_proposal", f[i].in_proposal);
		if (f[i].not_applied[0] != '\0')
			sg_json_string(&j, "not_applied", f[i].not_applied);
		sg_json_object_close(&j);
	}
	sg_json_array_close(&j);
	sg_json_object_open(&j, "proposal");
	sg_json_bool(&j, "changed", s.proposal);
	sg_json_bool(&j, "verified", s.verified);
	if (s.verify_error[0] != '\0')
		sg_json_string(&j, "error", s.verify_error);
	if (written != NULL)
		sg_json_string(&j, "written_to", written);
	sg_json_array_open(&j, "files");
	for (uint32_t i = 0; i < n_files; i++) {
		if (files[i].diff == NULL)
			continue;
		sg_json_object_open(&j, NULL);
		sg_json_string(&j, "path", files[i].path);
		sg_json_string(&j, "diff", files[i].diff);
		sg_json_object_close(&j);
	}
	sg_json_array_close(&j);
	sg_json_object_close(&j);
	sg_json_object_close(&j);
	sg_json_finish(&j);
}

/*
 * A diff for a terminal: lines and tabs as they are, any other control or bidirectional
 * character escaped, so a string in the config cannot hide or reorder what is shown. (The
 * files --output writes are exact.)
 */
static void
put_diff(FILE *out, const char *diff)
{
	uint32_t cp;
	int n;

	for (const char *p = diff; *p != '\0'; p += n) {
		char one[5] = {0}, buf[16];

		n = sg_utf8_next(p, &cp);
		n = n == 0 ? 1 : n;
		memcpy(one, p, (size_t)n);
		if (*p == '\n' || *p == '\t')
			fputc(*p, out);
		else
			fputs(sg_text_escape(one, buf, sizeof(buf), false), out);
	}
}

/* What reading cloud exports adds to the report: their files, the rules named from the
 * config, the interfaces no port stands for. */
static void
print_cloud(FILE *out, const struct sg_flowlog_read_stats *rs, const struct reading *rd,
		const struct sg_audit_summary *s)
{
	uint32_t cloud = rs->files_by_format[SG_FLOWLOG_ALIBABA] +
			 rs->files_by_format[SG_FLOWLOG_AWS_V5];
	uint64_t listed = 0;

	if (cloud > 0)
		fprintf(out, "  %u Alibaba and %u AWS flow-log files: their records name no rule; "
			     "%" PRIu64 " were named by this config's rules\n",
				rs->files_by_format[SG_FLOWLOG_ALIBABA],
				rs->files_by_format[SG_FLOWLOG_AWS_V5], s->records_cloud_named);
	if (rd->unmapped_records == 0)
		return;
	fprintf(out, "  %" PRIu64 " records of interfaces that are no port of this config:",
			rd->unmapped_records);
	for (uint32_t u = 0; u < rd->n_unmapped; u++) {
		fprintf(out, "%s %s (%" PRIu64 ")", u > 0 ? "," : "", rd->unmapped[u].name,
				rd->unmapped[u].records);
		listed += rd->unmapped[u].records;
	}
	fprintf(out, "%s; map a cloud interface to its port with --eni ENI=PORT\n",
			listed < rd->unmapped_records ? ", others" : "");
}

static void
print_text(struct sg_ctl_ctx *ctx, const struct sg_audit *a, const char *logs,
		const struct sg_flowlog_read_stats *rs, const struct reading *rd,
		const char *written)
{
	const struct sg_conf *conf = ctx->conf;
	const struct sg_audit_finding *f;
	const struct sg_audit_file *files;
	uint32_t n = sg_audit_findings(a, &f), n_files = sg_audit_files(a, &files), total = 0;
	struct sg_audit_summary s;
	char t0[40], t1[40];
	FILE *out = ctx->out;

	sg_audit_get_summary(a, &s);
	if (logs != NULL) {
		fprintf(out, "audit of %s against the flow logs in %s\n", conf->path, logs);
		if (s.records > 0)
			fprintf(out, "  %" PRIu64 " records from %s to %s, %u distinct flows\n", s.records,
					utc(s.first_start, t0, sizeof(t0)), utc(s.last_end, t1, sizeof(t1)),
					s.flows);
		else
			fprintf(out, "  no records: only what the config says alone\n");
		print_cloud(out, rs, rd, &s);
		if (s.records_unmatched > 0)
			fprintf(out, "  %" PRIu64 " records name a port or rule this config does not have "
				     "(logged under another config?)\n", s.records_unmatched);
		if (rs->bad_lines > 0)
			fprintf(out, "  %" PRIu64 " malformed lines skipped, the first at %s\n",
					rs->bad_lines, rs->first_bad);
		for (uint32_t p = 0; p < conf->spec->n_ports; p++)
			if (sg_audit_port_lost(a, p) != 0)
				fprintf(out, "  the flow logs of %s are incomplete: %" PRIu64 " records lost; "
					     "none of its rules is judged unused or too wide\n",
						conf->spec->ports[p].name, sg_audit_port_lost(a, p));
	} else {
		fprintf(out, "audit of %s (no flow logs: only what the config says alone)\n",
				conf->path);
	}
	for (int k = 0; k < SG_AUDIT_KIND_COUNT; k++) {
		if (s.counts[k] == 0)
			continue;
		fprintf(out, "\n%s (%u)\n", kind_titles[k], s.counts[k]);
		for (uint32_t i = 0; i < n; i++) {
			if ((int)f[i].kind != k)
				continue;
			total++;
			fprintf(out, "  - %s\n", f[i].text);
			if (f[i].suggestion[0] != '\0')
				fprintf(out, "    suggestion: %s%s\n", f[i].suggestion,
						f[i].in_proposal ? " (in the proposal)" : "");
			for (uint32_t v = 0; v < f[i].n_suggested; v++)
				fprintf(out, "      %s\n", f[i].suggested[v]);
			if (f[i].not_applied[0] != '\0' && f[i].suggestion[0] != '\0')
				fprintf(out, "    not in the proposal: %s\n", f[i].not_applied);
		}
	}
	if (total == 0)
		fprintf(out, "\nno findings\n");
	if (!s.proposal) {
		fprintf(out, "\nno tightened config to propose%s%s\n", s.verify_error[0] ? ": " : "",
				s.verify_error);
		return;
	}
	fprintf(out, "\nproposed tightened config (%s):\n",
			s.verified ? "it loads as `sgfwctl check` does, and every logged flow keeps its "
				     "verdict" :
				     "NOT verified");
	if (!s.verified)
		fprintf(out, "  %s\n", s.verify_error);
	for (uint32_t i = 0; i < n_files; i++)
		if (files[i].diff != NULL)
			put_diff(out, files[i].diff);
	if (written != NULL)
		fprintf(out, "written to %s\n", written);
}

/* No port is logged under this config: its own logs could show no rule unused. */
static void
not_enabled(struct sg_ctl_ctx *ctx)
{
	fprintf(ctx->err,
			"error: flow logs are not enabled in %s (flow_logs.enabled), so no port's "
			"traffic is logged to audit against; enable them and audit after a window, "
			"or use --config-only for what the config says alone\n",
			ctx->conf->path);
}

int
sg_ctl_audit(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	const char *logs = NULL, *output = NULL, *main_rel;
	struct sg_flowlog_read_opts ropts = {.format = -1};
	struct sg_flowlog_eni *enis = NULL;
	uint32_t n_enis = 0;
	struct reading rd;
	bool config_only = false;
	struct sg_flowlog_read_stats rs;
	struct sg_error err = {0};
	struct sg_audit *a;
	char written[SG_PATH_MAX * 2 + 2];
	bool wrote = false;
	int rc = SG_CTL_EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--flow-logs") == 0 && i + 1 < argc) {
			logs = argv[++i];
		} else if (strcmp(argv[i], "--log-format") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "auto") == 0) {
				ropts.format = -1;
			} else if ((ropts.format = sg_conf_flowlog_format_parse(argv[i])) < 0) {
				fprintf(ctx->err, "usage error: --log-format \"%s\" must be auto, "
						  "text, json, alibaba or aws-v5\n",
						argv[i]);
				free(enis);
				return SG_CTL_EXIT_USAGE;
			}
		} else if ((strcmp(argv[i], "--eni") == 0 || strcmp(argv[i], "--eni-map") == 0) &&
				i + 1 < argc) {
			const char *arg = argv[i + 1];
			int bad = argv[i][5] == '\0' ? add_eni(ctx, &enis, &n_enis, arg, "--eni") :
							 read_eni_map(ctx, arg, &enis, &n_enis);

			i++;
			if (bad < 0) {
				free(enis);
				return SG_CTL_EXIT_FAIL;
			}
		} else if (strcmp(argv[i], "--output") == 0 && i + 1 < argc) {
			output = argv[++i];
		} else if (strcmp(argv[i], "--config-only") == 0) {
			config_only = true;
		} else {
			fprintf(ctx->err, "usage error: audit [--flow-logs DIR|FILE] "
					  "[--log-format F] [--eni ENI=PORT]... [--eni-map FILE] "
					  "[--config-only] [--output DIR]: unexpected \"%s\"\n",
					argv[i]);
			free(enis);
			return SG_CTL_EXIT_USAGE;
		}
	}
	memset(&rs, 0, sizeof(rs));
	memset(&rd, 0, sizeof(rd));
	ropts.enis = enis;
	ropts.n_enis = n_enis;
	if (config_only) {
		logs = NULL;
	} else if (!ctx->conf->flow_logs.enabled && logs == NULL) {
		not_enabled(ctx);
		free(enis);
		return SG_CTL_EXIT_FAIL;
	} else if (logs == NULL) {
		/* Without --flow-logs: where the config writes them. */
		logs = ctx->conf->flow_logs.directory;
	}
	a = sg_audit_create(ctx->conf);
	if (a == NULL) {
		fprintf(ctx->err, "error: out of memory\n");
		free(enis);
		return SG_CTL_EXIT_FAIL;
	}
	rd.audit = a;
	rd.spec = ctx->conf->spec;
	if (logs != NULL) {
		int read = sg_flowlog_read_with(logs, &ropts, read_cb, &rd, &rs, &err);

		free(enis);
		enis = NULL;
		if (read >= 0 && !ctx->conf->flow_logs.enabled &&
				rs.files_by_format[SG_FLOWLOG_ALIBABA] +
				rs.files_by_format[SG_FLOWLOG_AWS_V5] == 0) {
			/* sgfw's own logs, of a config that logs nothing: as without them. */
			not_enabled(ctx);
			sg_audit_free(a);
			return SG_CTL_EXIT_FAIL;
		}

		if (read < 0 || rs.records == 0) {
			/* Nothing logged is not "every rule unused": say so and fail. */
			const char *why = read == -ENOENT ? "it does not exist" :
					  read < 0 ? err.msg : "its files hold no record";

			fprintf(ctx->err,
					"error: no flow-log window to audit against in %s (%s); "
					"sgfw writes the first one flow_logs.window = %u s after "
					"it starts logging: audit after one, or use --config-only "
					"for what the config says alone\n",
					logs, why, ctx->conf->flow_logs.window);
			sg_audit_free(a);
			return SG_CTL_EXIT_FAIL;
		}
		if (rd.mapped_records == 0 && rd.unmapped_records > 0) {
			/* Logs of other interfaces would read as "every rule unused". */
			fprintf(ctx->err,
					"error: none of the %" PRIu64 " records in %s is of a port "
					"of %s (interfaces %s%s); map cloud interfaces to ports "
					"with --eni ENI=PORT or --eni-map FILE\n",
					rs.records, logs, ctx->conf->path, rd.unmapped[0].name,
					rd.n_unmapped > 1 ? ", ..." : "");
			sg_audit_free(a);
			return SG_CTL_EXIT_FAIL;
		}
		sg_audit_set_period(a, rs.first_start, rs.last_end);
	}
	free(enis);
	if (sg_audit_run(a, logs != NULL, &err) < 0)
		fprintf(ctx->err, "warning: %s\n", err.msg);
	if (output != NULL) {
		const struct sg_audit_file *files;

		if (sg_audit_files(a, &files) == 0) {
			fprintf(ctx->err, "error: --output %s: there is no tightened config to write\n",
					output);
			rc = SG_CTL_EXIT_FAIL;
		} else if (sg_audit_write(a, output, &err) < 0) {
			fprintf(ctx->err, "error: %s\n", err.msg);
			rc = SG_CTL_EXIT_FAIL;
		} else {
			main_rel = files[0].relpath;
			snprintf(written, sizeof(written), "%s/%s", output, main_rel);
			wrote = true;
		}
	}
	if (ctx->json)
		print_json(ctx, a, logs, &rs, &rd, wrote ? written : NULL);
	else
		print_text(ctx, a, logs, &rs, &rd, wrote ? written : NULL);
	sg_audit_free(a);
	return rc;
}
