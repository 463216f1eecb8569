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

static int
read_cb(const struct sg_flowlog_record *rec, void *arg)
{
	sg_audit_add_record(arg, rec);
	return 0;
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
		const struct sg_flowlog_read_stats *rs, const char *written)
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

static void
print_text(struct sg_ctl_ctx *ctx, const struct sg_audit *a, const char *logs,
		const struct sg_flowlog_read_stats *rs, const char *written)
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
			fputs(files[i].diff, out);
	if (written != NULL)
		fprintf(out, "written to %s\n", written);
}

int
sg_ctl_audit(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	const char *logs = NULL, *output = NULL, *main_rel;
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
		} else if (strcmp(argv[i], "--output") == 0 && i + 1 < argc) {
			output = argv[++i];
		} else if (strcmp(argv[i], "--config-only") == 0) {
			config_only = true;
		} else {
			fprintf(ctx->err, "usage error: audit [--flow-logs DIR] [--config-only] "
					  "[--output DIR]: unexpected \"%s\"\n", argv[i]);
			return SG_CTL_EXIT_USAGE;
		}
	}
	memset(&rs, 0, sizeof(rs));
	/* Without --flow-logs: where the config writes them, if there are any. */
	if (logs == NULL && !config_only && ctx->conf->flow_logs.enabled) {
		struct stat st;

		if (stat(ctx->conf->flow_logs.directory, &st) == 0)
			logs = ctx->conf->flow_logs.directory;
	}
	if (config_only)
		logs = NULL;
	a = sg_audit_create(ctx->conf);
	if (a == NULL) {
		fprintf(ctx->err, "error: out of memory\n");
		return SG_CTL_EXIT_FAIL;
	}
	if (logs != NULL) {
		if (sg_flowlog_read(logs, read_cb, a, &rs, &err) < 0) {
			fprintf(ctx->err, "error: %s\n", err.msg);
			sg_audit_free(a);
			return SG_CTL_EXIT_FAIL;
		}
		sg_audit_set_period(a, rs.first_start, rs.last_end);
	}
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
		print_json(ctx, a, logs, &rs, wrote ? written : NULL);
	else
		print_text(ctx, a, logs, &rs, wrote ? written : NULL);
	sg_audit_free(a);
	return rc;
}
