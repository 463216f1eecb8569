/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfwctl audit's logic on hand-made configs and flow logs: each finding (unused, wide, shadowed,
 * redundant, conflict, inner access unused) and what it must not report, the suggested rules,
 * and the tightened config: its exact text, that it loads, and that it keeps every logged
 * verdict even when the logs and the config disagree. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_private.h"
#include "sg_audit.h"

#define MAC_A "mac = \"52:54:00:00:00:01\"; ips = [\"10.0.0.1\"];"
#define MAC_B "mac = \"52:54:00:00:00:02\"; ips = [\"10.0.0.2\"];"
#define MAC_C "mac = \"52:54:00:00:00:03\"; ips = [\"10.0.0.3\"];"
#define MAC_D "mac = \"52:54:00:00:00:04\"; ips = [\"10.0.0.4\"];"

struct t_audit {
	char dir[128];
	char files[4][160];
	unsigned int n_files;
	struct sg_conf *conf;
	struct sg_audit *a;
	const struct sg_audit_finding *f;
	uint32_t n;
	struct sg_audit_summary sum;
};

static void
write_file(struct t_audit *t, const char *name, const char *text)
{
	char path[sizeof(t->files[0])];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	memcpy(t->files[t->n_files], path, sizeof(path));
	f = fopen(t->files[t->n_files++], "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Load 'main' (and 'included', written as groups.conf when not NULL) from a scratch directory. */
static void
t_load(struct t_audit *t, const char *main, const char *included)
{
	struct sg_error err = {0};

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/sgfw-flw-audit-%d-XXXXXX", (int)getpid());
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	if (included != NULL)
		write_file(t, "groups.conf", included);
	write_file(t, "main.conf", main);
	t->conf = sg_conf_load_file(t->files[t->n_files - 1], &err);
	ck_assert_msg(t->conf != NULL, "%s", err.msg);
	t->a = sg_audit_create(t->conf);
	ck_assert_ptr_nonnull(t->a);
}

static void
t_run(struct t_audit *t, bool have_logs)
{
	struct sg_error err = {0};

	ck_assert_msg(sg_audit_run(t->a, have_logs, &err) == 0, "%s", err.msg);
	t->n = sg_audit_findings(t->a, &t->f);
	sg_audit_get_summary(t->a, &t->sum);
}

static void
t_done(struct t_audit *t)
{
	sg_audit_free(t->a);
	sg_conf_free(t->conf);
	for (unsigned int i = 0; i < t->n_files; i++)
		unlink(t->files[i]);
	rmdir(t->dir);
}

/* A flow-log line as sgfw writes it: ACCEPT or REJECT of one flow at one port. */
static void
t_rec(struct t_audit *t, const char *port, enum sg_dir dir, enum sg_action action, uint8_t proto,
		const char *src, uint16_t sport, const char *dst, uint16_t dport, const char *rule)
{
	struct sg_flowlog_record r;

	memset(&r, 0, sizeof(r));
	r.version = 1;
	sg_strlcpy(r.port, port, sizeof(r.port));
	r.dir = dir;
	r.action = action;
	r.proto = proto;
	ck_assert_int_eq(sg_ip_parse(src, &r.src), 0);
	ck_assert_int_eq(sg_ip_parse(dst, &r.dst), 0);
	r.sport = sport;
	r.dport = dport;
	r.packets = 5;
	r.bytes = 400;
	r.start = 1000;
	r.end = 1060;
	ck_assert_int_eq(sg_flowlog_rule_parse(rule, &r.rule), 0);
	sg_audit_add_record(t->a, &r);
}

static void
t_nodata(struct t_audit *t, const char *port)
{
	struct sg_flowlog_record r;

	memset(&r, 0, sizeof(r));
	r.version = 1;
	sg_strlcpy(r.port, port, sizeof(r.port));
	r.status = SG_FLOWLOG_NODATA;
	r.start = 1000;
	r.end = 1060;
	sg_audit_add_record(t->a, &r);
}

/* A SKIPDATA line: 'lost' records of 'port' ("" for none named) were lost in the window. */
static void
t_skipdata(struct t_audit *t, const char *port, uint64_t lost)
{
	struct sg_flowlog_record r;

	memset(&r, 0, sizeof(r));
	r.version = 1;
	sg_strlcpy(r.port, port, sizeof(r.port));
	r.status = SG_FLOWLOG_SKIPDATA;
	r.packets = lost;
	r.start = 1000;
	r.end = 1060;
	sg_audit_add_record(t->a, &r);
}

/* The finding of 'kind' about rule 'index' (1-based as written, 0 for a group) of 'group'. */
static const struct sg_audit_finding *
t_find(const struct t_audit *t, enum sg_audit_kind kind, const char *group, int index)
{
	for (uint32_t i = 0; i < t->n; i++) {
		const struct sg_audit_finding *f = &t->f[i];

		if (f->kind == kind && strcmp(t->conf->spec->groups[f->rule.group].id, group) == 0 &&
				f->rule.rule == index - 1)
			return f;
	}
	return NULL;
}

static const struct sg_audit_finding *
t_must(const struct t_audit *t, enum sg_audit_kind kind, const char *group, int index)
{
	const struct sg_audit_finding *f = t_find(t, kind, group, index);

	ck_assert_msg(f != NULL, "no %s finding for %s rule %d", sg_audit_kind_name(kind), group,
			index);
	return f;
}

/* The proposal's text of config file 'rel' (new, or the old one if unchanged). */
static const char *
t_text(const struct t_audit *t, const char *rel)
{
	const struct sg_audit_file *files;
	uint32_t n = sg_audit_files(t->a, &files);

	for (uint32_t i = 0; i < n; i++)
		if (strcmp(files[i].relpath, rel) == 0)
			return files[i].new_text != NULL ? files[i].new_text : files[i].old_text;
	ck_abort_msg("no file %s in the proposal", rel);
	return NULL;
}

/* ---- Unused ---- */

static const char unused_conf[] =
	"security_groups = (\n"
	"  { id = \"sg-a\"; inner_access_policy = \"drop\"; rules = (\n"
	"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"10.0.0.9\"; },\n"
	"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"8080/8080\"; source_cidr = \"10.0.0.9\"; },\n"
	"      { direction = \"ingress\"; policy = \"drop\"; priority = 50; protocol = \"udp\";\n"
	"        port_range = \"53/53\"; source_cidr = \"10.0.0.0/8\"; },\n"
	"      { direction = \"ingress\"; priority = 60; protocol = \"udp\"; port_range = \"53/54\";\n"
	"        source_cidr = \"10.0.0.0/8\"; }\n"
	"    ); },\n"
	"  { id = \"sg-lone\"; rules = (\n"
	"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"1/65535\"; source_cidr = \"10.0.0.0/8\"; } ); }\n"
	");\n"
	"ports = ( { name = \"a\"; " MAC_A " security_groups = [\"sg-a\"]; } );\n"
	"flow_logs = { enabled = true; };\n";

START_TEST(test_unused)
{
	struct t_audit t;
	const struct sg_audit_finding *f;
	const char *text;

	t_load(&t, unused_conf, NULL);
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.0.9", 40000, "10.0.0.1", 22, "sg-a/1");
	sg_audit_set_period(t.a, 1000, 4600);
	t_run(&t, true);
	ck_assert_ptr_null(t_find(&t, SG_AUDIT_UNUSED, "sg-a", 1));
	f = t_must(&t, SG_AUDIT_UNUSED, "sg-a", 2);
	ck_assert(f->in_proposal);
	ck_assert_uint_eq(f->n_ports, 1);
	ck_assert_ptr_nonnull(strstr(f->text, "sg-a rule 2 (accept) matched no traffic on a in the 3600 s logged"));
	/* An unused drop rule is reported, not removed: it may guard against what did not happen. */
	f = t_must(&t, SG_AUDIT_UNUSED, "sg-a", 3);
	ck_assert(!f->in_proposal);
	ck_assert(t_must(&t, SG_AUDIT_UNUSED, "sg-a", 4)->in_proposal);
	f = t_must(&t, SG_AUDIT_UNUSED, "sg-lone", 1);
	ck_assert_ptr_nonnull(strstr(f->text, "sg-lone is attached to no port"));
	ck_assert(!f->in_proposal);
	ck_assert_uint_eq(t.sum.counts[SG_AUDIT_UNUSED], 4);
	ck_assert(t.sum.proposal);
	ck_assert_msg(t.sum.verified, "%s", t.sum.verify_error);
	text = t_text(&t, "main.conf");
	ck_assert_ptr_null(strstr(text, "8080"));
	ck_assert_ptr_nonnull(strstr(text,
			"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"10.0.0.9\"; },\n"
			"      { direction = \"ingress\"; policy = \"drop\"; priority = 50; protocol = \"udp\";\n"
			"        port_range = \"53/53\"; source_cidr = \"10.0.0.0/8\"; }\n"
			"    ); },\n"));
	t_done(&t);
}
END_TEST

/* No record for a port: its rules are not judged (its logs may be off or elsewhere); a NODATA
 * line is a logged port that saw nothing. */
START_TEST(test_unused_needs_logs)
{
	struct t_audit t;

	t_load(&t, unused_conf, NULL);
	t_run(&t, true);
	ck_assert_uint_eq(t.sum.counts[SG_AUDIT_UNUSED], 1); /* sg-lone: no port at all */
	ck_assert(!t.sum.proposal);
	t_done(&t);

	t_load(&t, unused_conf, NULL);
	t_nodata(&t, "a");
	t_run(&t, true);
	ck_assert_uint_eq(t.sum.counts[SG_AUDIT_UNUSED], 5);
	t_done(&t);

	/* A port that logs only rejects cannot show an accept rule unused. */
	{
		char text[4096];

		snprintf(text, sizeof(text), "%.*sflow_logs = { enabled = true; traffic = \"reject\"; };\n",
				(int)(strstr(unused_conf, "flow_logs") - unused_conf), unused_conf);
		t_load(&t, text, NULL);
		t_nodata(&t, "a");
		t_run(&t, true);
		ck_assert_ptr_null(t_find(&t, SG_AUDIT_UNUSED, "sg-a", 2));
		ck_assert_ptr_nonnull(t_find(&t, SG_AUDIT_UNUSED, "sg-a", 3));
		t_done(&t);
	}
	/* Config alone: nothing about use. */
	t_load(&t, unused_conf, NULL);
	t_run(&t, false);
	ck_assert_uint_eq(t.sum.counts[SG_AUDIT_UNUSED], 0);
	t_done(&t);
}
END_TEST

/* A port whose records were lost (SKIPDATA) has incomplete logs: the rules that apply to it
 * are reported, never removed, and the report names the port and the loss. */
START_TEST(test_unused_incomplete)
{
	struct t_audit t;
	const struct sg_audit_finding *f;

	t_load(&t, unused_conf, NULL);
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.0.9", 40000, "10.0.0.1", 22, "sg-a/1");
	t_skipdata(&t, "a", 17);
	sg_audit_set_period(t.a, 1000, 4600);
	t_run(&t, true);
	ck_assert_uint_eq(sg_audit_port_lost(t.a, 0), 17);
	ck_assert_uint_eq(t.sum.records_lost, 17);
	f = t_must(&t, SG_AUDIT_UNUSED, "sg-a", 2);
	ck_assert(!f->in_proposal);
	ck_assert_str_eq(f->not_applied, "the flow logs of a are incomplete (17 records lost): no "
					 "rule is removed or narrowed on incomplete data");
	ck_assert(!t_must(&t, SG_AUDIT_UNUSED, "sg-a", 4)->in_proposal);
	ck_assert(!t.sum.proposal);
	t_done(&t);

	/* A loss that names no port makes every port's logs incomplete. */
	t_load(&t, unused_conf, NULL);
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.0.9", 40000, "10.0.0.1", 22, "sg-a/1");
	t_skipdata(&t, "", 3);
	t_run(&t, true);
	ck_assert_uint_eq(sg_audit_port_lost(t.a, 0), 3);
	ck_assert(!t_must(&t, SG_AUDIT_UNUSED, "sg-a", 2)->in_proposal);
	ck_assert(!t.sum.proposal);
	t_done(&t);
}
END_TEST

/* ---- Wide ---- */

static const char wide_conf[] =
	"security_groups = (\n"
	"  { id = \"sg-w\"; inner_access_policy = \"drop\"; rules = (\n"
	"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\"; source_cidr = \"10.0.0.0/16\"; },\n"
	"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"1/65535\"; source_cidr = \"10.9.0.1\"; },\n"
	"      { direction = \"ingress\"; protocol = \"all\"; source_cidr = \"10.8.0.1\"; },\n"
	"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"6000/6000\"; source_cidr = \"10.0.0.8/29\"; }\n"
	"    ); }\n"
	");\n"
	"ports = ( { name = \"a\"; " MAC_A " security_groups = [\"sg-w\"]; } );\n"
	"flow_logs = { enabled = true; };\n";

START_TEST(test_wide)
{
	struct t_audit t;
	const struct sg_audit_finding *f;
	const char *text;

	t_load(&t, wide_conf, NULL);
	/* Rule 1: three sources in a /16. Its replies (egress) say nothing about its width. */
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.1.1", 40000, "10.0.0.1", 5432, "sg-w/1");
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.2.2", 40001, "10.0.0.1", 5432, "sg-w/1");
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.3.3", 40002, "10.0.0.1", 5432, "sg-w/1");
	t_rec(&t, "a", SG_DIR_EGRESS, SG_ACTION_ACCEPT, 6, "10.0.0.1", 5432, "10.0.200.1", 40000, "sg-w/1");
	/* Rule 2: every port open, only 443 used. */
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.9.0.1", 50000, "10.0.0.1", 443, "sg-w/2");
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.9.0.1", 50001, "10.0.0.1", 443, "sg-w/2");
	/* Rule 3: all protocols, only TCP 22. */
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.8.0.1", 50000, "10.0.0.1", 22, "sg-w/3");
	/* Rule 4: a /29 used by two addresses: not much wider. */
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.0.9", 50000, "10.0.0.1", 6000, "sg-w/4");
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.0.10", 50000, "10.0.0.1", 6000, "sg-w/4");
	t_run(&t, true);

	f = t_must(&t, SG_AUDIT_WIDE, "sg-w", 1);
	ck_assert_ptr_nonnull(strstr(f->text, "10.0.0.0/16 where traffic came from 3 addresses"));
	ck_assert_uint_eq(f->n_suggested, 3);
	/* The fields the rule was given, as the config writer writes them. */
	ck_assert_str_eq(f->suggested[0], "{ direction = \"ingress\"; protocol = \"tcp\"; "
			"port_range = \"5432/5432\"; source_cidr = \"10.0.1.1/32\"; }");
	ck_assert(f->in_proposal);
	ck_assert_uint_eq(f->packets, 15);
	f = t_must(&t, SG_AUDIT_WIDE, "sg-w", 2);
	ck_assert_uint_eq(f->n_suggested, 1);
	ck_assert_ptr_nonnull(strstr(f->suggested[0], "port_range = \"443/443\"; source_cidr = \"10.9.0.1/32\""));
	f = t_must(&t, SG_AUDIT_WIDE, "sg-w", 3);
	ck_assert_ptr_nonnull(strstr(f->text, "protocol all"));
	ck_assert_ptr_nonnull(strstr(f->suggested[0], "protocol = \"tcp\"; port_range = \"22/22\";"));
	ck_assert_ptr_null(t_find(&t, SG_AUDIT_WIDE, "sg-w", 4));
	ck_assert_msg(t.sum.verified, "%s", t.sum.verify_error);
	text = t_text(&t, "main.conf");
	ck_assert_ptr_nonnull(strstr(text,
			"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\"; source_cidr = \"10.0.1.1\"; },\n"
			"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\"; source_cidr = \"10.0.2.2\"; },\n"
			"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\"; source_cidr = \"10.0.3.3\"; },\n"
			"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"443/443\"; source_cidr = \"10.9.0.1\"; },\n"
			"      { direction = \"ingress\"; protocol = \"tcp\"; source_cidr = \"10.8.0.1\"; port_range = \"22/22\"; },\n"
			"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"6000/6000\"; source_cidr = \"10.0.0.8/29\"; }\n"));
	t_done(&t);
}
END_TEST

/* ---- Cloud exports ---- */

static const char cloud_conf[] =
	"security_groups = (\n"
	"  { id = \"sg-db\"; inner_access_policy = \"drop\"; rules = (\n"
	"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\"; source_cidr = \"10.0.0.0/8\"; },\n"
	"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"10.0.0.9\"; } ); },\n"
	"  { id = \"sg-web\"; inner_access_policy = \"drop\"; rules = (\n"
	"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"80/80\"; source_cidr = \"203.0.113.0/24\"; } ); }\n"
	");\n"
	"ports = ( { name = \"db1\"; " MAC_A " security_groups = [\"sg-db\"]; },\n"
	"          { name = \"web1\"; " MAC_B " security_groups = [\"sg-web\"]; } );\n";

struct t_cloud_read {
	struct t_audit *t;
	struct sg_flowlog_record recs[16];
	unsigned int n;
};

static int
t_cloud_cb(const struct sg_flowlog_record *rec, void *arg)
{
	struct t_cloud_read *c = arg;

	ck_assert_uint_lt(c->n, SG_ARRAY_SIZE(c->recs));
	c->recs[c->n++] = *rec;
	sg_audit_add_record(c->t->a, rec);
	return 0;
}

/* The hand-made export 'name' (tests/unit/flowlogs) of one web1-to-db1 PostgreSQL connection
 * (both ports' views, both directions), a web request from outside, a refused RDP attempt, a
 * record of an interface no port stands for, a NODATA window and a malformed line: the same
 * findings from Alibaba's and from AWS's. */
static void
t_cloud_export(const char *name, enum sg_flowlog_format format,
		const struct sg_flowlog_eni *enis, uint32_t n_enis, const char *bad)
{
	struct sg_flowlog_read_opts o = {.format = -1, .enis = enis, .n_enis = n_enis};
	struct sg_flowlog_read_stats rs;
	struct t_cloud_read c = {.n = 0};
	struct sg_error err = {0};
	const struct sg_audit_finding *f;
	struct t_audit t;
	char path[512], label[96], want_bad[640];
	static const char *const rules[] = {
		"default-basic-egress", "sg-db/1", "sg-db/1", "default-basic-egress",
		"sg-web/1", "default-basic-ingress", "-", "-",
	};

	t_load(&t, cloud_conf, NULL);
	c.t = &t;
	snprintf(path, sizeof(path), "%s/tests/unit/flowlogs/%s", SG_SOURCE_ROOT, name);
	ck_assert_msg(sg_flowlog_read_with(path, &o, t_cloud_cb, &c, &rs, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rs.files_by_format[format], 1);
	ck_assert_uint_eq(rs.records, 8);
	ck_assert_uint_eq(rs.bad_lines, 1);
	snprintf(want_bad, sizeof(want_bad), "%s:10: %s", path, bad);
	ck_assert_str_eq(rs.first_bad, want_bad);
	ck_assert_str_eq(c.recs[0].port, "web1");
	ck_assert_str_eq(c.recs[6].port, format == SG_FLOWLOG_AWS_V5 ? "eni-0cache" : "eni-cache");
	ck_assert_int_eq(c.recs[7].status, SG_FLOWLOG_NODATA);
	sg_audit_set_period(t.a, rs.first_start, rs.last_end);
	t_run(&t, true);
	/* The rule this config decides each record with: the replies of the connection
	 * (db1's egress) are the ingress rule's that admitted it. */
	for (unsigned int i = 0; i < c.n; i++) {
		const struct sg_spec *spec = t.conf->spec;
		uint32_t pos0[4], pos1[4];
		const uint32_t *const positions[2] = {pos0, pos1};
		struct sg_flowlog_record r = c.recs[i];
		int port = sg_spec_find_port(spec, r.port);

		ck_assert_int_eq(sg_group_unique_rules(&spec->groups[0], pos0), 2);
		ck_assert_int_eq(sg_group_unique_rules(&spec->groups[1], pos1), 1);
		if (port >= 0 && r.status == SG_FLOWLOG_OK)
			audit_cloud_rule(t.conf->policy, positions, (uint32_t)port, &r);
		ck_assert_msg(strcmp(sg_flowlog_rule_label(&r.rule, label, sizeof(label)),
					      rules[i]) == 0,
				"record %u: rule %s, want %s", i + 1, label, rules[i]);
	}
	ck_assert_uint_eq(t.sum.records, 8);
	ck_assert_uint_eq(t.sum.records_cloud_named, 6);
	ck_assert_uint_eq(t.sum.records_unmatched, 1);
	ck_assert_int_eq(t.sum.first_start, 1700000000);
	ck_assert_int_eq(t.sum.last_end, 1700000120);
	f = t_must(&t, SG_AUDIT_UNUSED, "sg-db", 2);
	ck_assert_ptr_nonnull(strstr(f->text, "sg-db rule 2 (accept) matched no traffic on db1 in "
					      "the 120 s logged"));
	ck_assert(f->in_proposal);
	f = t_must(&t, SG_AUDIT_WIDE, "sg-db", 1);
	ck_assert_ptr_nonnull(strstr(f->text, "10.0.0.0/8 where traffic came from 1 address"));
	ck_assert_uint_eq(f->n_suggested, 1);
	ck_assert_str_eq(f->suggested[0], "{ direction = \"ingress\"; protocol = \"tcp\"; "
					  "port_range = \"5432/5432\"; source_cidr = \"10.0.0.2/32\"; }");
	ck_assert_uint_eq(f->packets, 10); /* Accepted by it, its replies not counted. */
	f = t_must(&t, SG_AUDIT_WIDE, "sg-web", 1);
	ck_assert_ptr_nonnull(strstr(f->text, "203.0.113.0/24 where traffic came from 1 address"));
	ck_assert_uint_eq(t.sum.counts[SG_AUDIT_UNUSED], 1);
	ck_assert_uint_eq(t.sum.counts[SG_AUDIT_WIDE], 2);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_msg(t.sum.verified, "%s", t.sum.verify_error);
	t_done(&t);
}

START_TEST(test_cloud_alibaba_export)
{
	static const struct sg_flowlog_eni enis[] = {{"eni-db1", "db1"}, {"eni-web1", "web1"}};

	t_cloud_export("alibaba-export.csv", SG_FLOWLOG_ALIBABA, enis, 2,
			"direction \"sideways\" is not in or out");
}
END_TEST

START_TEST(test_cloud_aws_export)
{
	static const struct sg_flowlog_eni enis[] = {{"eni-0db1", "db1"}, {"eni-0web1", "web1"}};

	t_cloud_export("aws-v5-export.log", SG_FLOWLOG_AWS_V5, enis, 2,
			"flow-direction \"sideways\" is not ingress or egress");
}
END_TEST

/* ---- Shadowed and redundant, from the config alone ---- */

static const char shadow_conf[] =
	"security_groups = (\n"
	"  { id = \"sg-s\"; inner_access_policy = \"drop\"; rules = (\n"
	"      { direction = \"ingress\"; policy = \"drop\"; priority = 1; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"0.0.0.0/0\"; },\n"
	"      { direction = \"ingress\"; priority = 2; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"10.0.0.0/8\"; },\n"
	"      { direction = \"ingress\"; priority = 3; protocol = \"tcp\"; port_range = \"80/80\"; source_cidr = \"10.0.0.0/8\"; },\n"
	"      { direction = \"ingress\"; priority = 4; protocol = \"tcp\"; port_range = \"80/80\"; source_cidr = \"10.1.0.0/16\"; },\n"
	"      { direction = \"ingress\"; priority = 3; protocol = \"tcp\"; port_range = \"80/80\"; source_cidr = \"10.0.0.0/8\"; },\n"
	"      { direction = \"egress\"; protocol = \"tcp\"; port_range = \"443/443\"; dest_cidr = \"0.0.0.0/0\"; },\n"
	"      { direction = \"egress\"; priority = 5; protocol = \"udp\"; port_range = \"53/53\"; dest_cidr = \"10.0.0.2\"; },\n"
	"      { direction = \"egress\"; policy = \"drop\"; priority = 9; protocol = \"udp\"; port_range = \"1/65535\"; dest_cidr = \"10.0.0.0/8\"; },\n"
	"      { direction = \"ingress\"; priority = 5; protocol = \"tcp\"; port_range = \"81/81\"; source_group = \"sg-b\"; }\n"
	"    ); },\n"
	"  { id = \"sg-b\"; inner_access_policy = \"drop\"; rules = (\n"
	"      { direction = \"ingress\"; priority = 1; protocol = \"tcp\"; port_range = \"81/81\"; source_cidr = \"10.0.0.0/8\"; } ); }\n"
	");\n"
	"ports = ( { name = \"a\"; " MAC_A " security_groups = [\"sg-s\", \"sg-b\"]; },\n"
	"          { name = \"b\"; " MAC_B " security_groups = [\"sg-b\"]; } );\n";

START_TEST(test_shadowed_and_redundant)
{
	struct t_audit t;
	const struct sg_audit_finding *f;
	const char *text;
	char name[128];

	t_load(&t, shadow_conf, NULL);
	t_run(&t, false);
	f = t_must(&t, SG_AUDIT_SHADOWED, "sg-s", 2);
	ck_assert(f->has_other);
	ck_assert_str_eq(sg_audit_rule_name(t.conf, &f->other, name, sizeof(name)), "sg-s rule 1");
	ck_assert_ptr_nonnull(strstr(f->text, "sg-s rule 2 can never match on any of its ports, a: "
			"sg-s rule 1 (drop) always decides first"));
	ck_assert(f->in_proposal);
	f = t_must(&t, SG_AUDIT_REDUNDANT, "sg-s", 4);
	ck_assert_str_eq(sg_audit_rule_name(t.conf, &f->other, name, sizeof(name)), "sg-s rule 3");
	ck_assert(f->in_proposal);
	f = t_must(&t, SG_AUDIT_REDUNDANT, "sg-s", 5);
	ck_assert_ptr_nonnull(strstr(f->text, "repeats rule 3 of its group word for word"));
	ck_assert(f->in_proposal);
	/* An egress accept before the basic default egress accept, with no drop between. */
	f = t_must(&t, SG_AUDIT_REDUNDANT, "sg-s", 6);
	ck_assert_str_eq(sg_audit_rule_name(t.conf, &f->other, name, sizeof(name)),
			"default basic egress accept");
	ck_assert(f->in_proposal);
	/* A drop between it and the default that overlaps: it matters. */
	ck_assert_ptr_null(t_find(&t, SG_AUDIT_REDUNDANT, "sg-s", 7));
	ck_assert_ptr_null(t_find(&t, SG_AUDIT_REDUNDANT, "sg-s", 8));
	ck_assert_ptr_null(t_find(&t, SG_AUDIT_REDUNDANT, "sg-s", 3));
	ck_assert_ptr_null(t_find(&t, SG_AUDIT_REDUNDANT, "sg-s", 1));
	/* Covered only through today's members of sg-b: reported, kept. */
	f = t_must(&t, SG_AUDIT_REDUNDANT, "sg-s", 9);
	ck_assert(!f->in_proposal);
	ck_assert_ptr_nonnull(strstr(f->suggestion, "depends on current group members"));
	/* sg-b rule 1 is on b too, where nothing covers it. */
	ck_assert_ptr_null(t_find(&t, SG_AUDIT_REDUNDANT, "sg-b", 1));
	ck_assert_msg(t.sum.verified, "%s", t.sum.verify_error);
	text = t_text(&t, "main.conf");
	ck_assert_ptr_null(strstr(text, "priority = 2;"));
	ck_assert_ptr_null(strstr(text, "priority = 4;"));
	ck_assert_ptr_null(strstr(text, "443/443"));
	ck_assert_ptr_nonnull(strstr(text,
			"      { direction = \"ingress\"; priority = 3; protocol = \"tcp\"; port_range = \"80/80\"; source_cidr = \"10.0.0.0/8\"; },\n"
			"      { direction = \"egress\"; priority = 5;"));
	t_done(&t);
}
END_TEST

/* Removing both of two rules that repeat each other across groups would change verdicts:
 * only the second goes. */
START_TEST(test_redundant_pair)
{
	static const char conf[] =
		"security_groups = (\n"
		"  { id = \"sg-1\"; inner_access_policy = \"drop\"; rules = ( { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"80/80\"; source_cidr = \"10.0.0.0/8\"; } ); },\n"
		"  { id = \"sg-2\"; inner_access_policy = \"drop\"; rules = ( { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"80/80\"; source_cidr = \"10.0.0.0/8\"; } ); }\n"
		");\n"
		"ports = ( { name = \"a\"; " MAC_A " security_groups = [\"sg-1\", \"sg-2\"]; } );\n";
	struct t_audit t;

	t_load(&t, conf, NULL);
	t_run(&t, false);
	ck_assert_uint_eq(t.sum.counts[SG_AUDIT_REDUNDANT], 2);
	ck_assert(t_must(&t, SG_AUDIT_REDUNDANT, "sg-1", 1)->in_proposal !=
			t_must(&t, SG_AUDIT_REDUNDANT, "sg-2", 1)->in_proposal);
	ck_assert_msg(t.sum.verified, "%s", t.sum.verify_error);
	ck_assert_ptr_nonnull(strstr(t_text(&t, "main.conf"), "80/80"));
	t_done(&t);
}
END_TEST

/* ---- Conflicts ---- */

START_TEST(test_conflict)
{
	static const char conf[] =
		"security_groups = (\n"
		"  { id = \"sg-c1\"; rules = ( { direction = \"ingress\"; policy = \"drop\"; priority = 5; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"10.0.0.0/8\"; } ); },\n"
		"  { id = \"sg-c2\"; rules = (\n"
		"      { direction = \"ingress\"; priority = 5; protocol = \"tcp\"; port_range = \"20/30\"; source_cidr = \"10.1.0.0/16\"; },\n"
		"      { direction = \"ingress\"; priority = 5; protocol = \"tcp\"; port_range = \"80/80\"; source_cidr = \"10.0.0.0/8\"; },\n"
		"      { direction = \"ingress\"; priority = 6; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"10.0.0.0/8\"; } ); }\n"
		");\n"
		"ports = ( { name = \"a\"; " MAC_A " security_groups = [\"sg-c1\", \"sg-c2\"]; },\n"
		"          { name = \"b\"; " MAC_B " security_groups = [\"sg-c2\"]; } );\n";
	struct t_audit t;
	const struct sg_audit_finding *f;
	char name[128];

	t_load(&t, conf, NULL);
	t_run(&t, false);
	ck_assert_uint_eq(t.sum.counts[SG_AUDIT_CONFLICT], 1);
	f = t_must(&t, SG_AUDIT_CONFLICT, "sg-c1", 1);
	ck_assert_str_eq(sg_audit_rule_name(t.conf, &f->other, name, sizeof(name)), "sg-c2 rule 1");
	ck_assert_uint_eq(f->n_ports, 1);
	ck_assert_str_eq(t.conf->spec->ports[f->ports[0]].name, "a");
	ck_assert_ptr_nonnull(strstr(f->text, "on a, sg-c1 rule 1 (drop) and sg-c2 rule 1 (accept) "
			"overlap at priority 5: the drop wins (D2)"));
	ck_assert(!f->in_proposal);
	/* Lower priority, overlapping: shadowed on a, where sg-c1 applies; not on b. */
	f = t_must(&t, SG_AUDIT_SHADOWED, "sg-c2", 3);
	ck_assert_ptr_nonnull(strstr(f->suggestion, "still matters on other ports"));
	t_done(&t);
}
END_TEST

/* ---- Inner access ---- */

START_TEST(test_inner_unused)
{
	static const char conf[] =
		"security_groups = (\n"
		"  { id = \"sg-in\"; rules = ( { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"80/80\"; source_cidr = \"10.9.0.1\"; } ); },\n"
		"  { id = \"sg-in2\"; inner_access_policy = \"accept\"; rules = (); },\n"
		"  { id = \"sg-in3\"; inner_access_policy = \"accept\"; }\n"
		");\n"
		"ports = ( { name = \"a\"; " MAC_A " security_groups = [\"sg-in\"]; },\n"
		"          { name = \"b\"; " MAC_B " security_groups = [\"sg-in\", \"sg-in3\"]; },\n"
		"          { name = \"c\"; " MAC_C " security_groups = [\"sg-in2\"]; },\n"
		"          { name = \"d\"; " MAC_D " security_groups = [\"sg-in2\", \"sg-in3\"]; } );\n"
		"flow_logs = { enabled = true; };\n";
	struct t_audit t;
	const char *text;

	t_load(&t, conf, NULL);
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.9.0.1", 40000, "10.0.0.1", 80, "sg-in/1");
	t_nodata(&t, "b");
	t_rec(&t, "c", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.0.4", 40000, "10.0.0.3", 22, "sg-in2/inner");
	t_rec(&t, "d", SG_DIR_EGRESS, SG_ACTION_ACCEPT, 6, "10.0.0.4", 40000, "10.0.0.3", 22, "sg-in2/inner");
	t_run(&t, true);
	ck_assert(t_must(&t, SG_AUDIT_INNER_UNUSED, "sg-in", 0)->in_proposal);
	ck_assert_ptr_nonnull(strstr(t_must(&t, SG_AUDIT_INNER_UNUSED, "sg-in", 0)->text,
			"sg-in lets its members (a, b) talk to each other (inner_access_policy accept), "
			"but none did"));
	ck_assert_ptr_null(t_find(&t, SG_AUDIT_INNER_UNUSED, "sg-in2", 0));
	/* b and d share sg-in3; d talked to c (sg-in2), not to b. */
	ck_assert(t_must(&t, SG_AUDIT_INNER_UNUSED, "sg-in3", 0)->in_proposal);
	ck_assert_msg(t.sum.verified, "%s", t.sum.verify_error);
	text = t_text(&t, "main.conf");
	ck_assert_ptr_nonnull(strstr(text, "{ id = \"sg-in\"; inner_access_policy = \"drop\"; rules = ("));
	ck_assert_ptr_nonnull(strstr(text, "{ id = \"sg-in2\"; inner_access_policy = \"accept\"; rules = (); }"));
	ck_assert_ptr_nonnull(strstr(text, "{ id = \"sg-in3\"; inner_access_policy = \"drop\"; }"));
	t_done(&t);
}
END_TEST

/* ---- The proposal ---- */

/* Narrowing a wide rule wins over removing a narrower rule it covers, which then matters. */
START_TEST(test_proposal_order)
{
	static const char conf[] =
		"security_groups = (\n"
		"  { id = \"sg-r\"; inner_access_policy = \"drop\"; rules = (\n"
		"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\"; source_cidr = \"10.2.0.11\"; },\n"
		"      { direction = \"ingress\"; priority = 2; protocol = \"all\"; source_cidr = \"10.0.0.0/8\"; } ); }\n"
		");\n"
		"ports = ( { name = \"a\"; " MAC_A " security_groups = [\"sg-r\"]; } );\n"
		"flow_logs = { enabled = true; };\n";
	struct t_audit t;
	const struct sg_audit_finding *f;

	t_load(&t, conf, NULL);
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.2.0.11", 40000, "10.0.0.1", 5432, "sg-r/1");
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.3.0.5", 40000, "10.0.0.1", 80, "sg-r/2");
	t_run(&t, true);
	ck_assert(t_must(&t, SG_AUDIT_WIDE, "sg-r", 2)->in_proposal);
	f = t_must(&t, SG_AUDIT_REDUNDANT, "sg-r", 1);
	ck_assert(!f->in_proposal);
	ck_assert_str_eq(f->not_applied, "no longer so once other suggestions are applied");
	ck_assert_msg(t.sum.verified, "%s", t.sum.verify_error);
	ck_assert_ptr_nonnull(strstr(t_text(&t, "main.conf"),
			"{ direction = \"ingress\"; priority = 2; protocol = \"tcp\"; source_cidr = \"10.3.0.5\"; port_range = \"80/80\"; }"));
	t_done(&t);
}
END_TEST

/* Logs that disagree with the config (written under another numbering): a rule that looks
 * unused still decides logged traffic, so removing it is refused, naming the flow. */
START_TEST(test_proposal_keeps_logged_verdicts)
{
	static const char conf[] =
		"security_groups = (\n"
		"  { id = \"sg-r\"; inner_access_policy = \"drop\"; rules = (\n"
		"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\"; source_cidr = \"10.2.0.11\"; },\n"
		"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"80/80\"; source_cidr = \"10.3.0.5\"; } ); }\n"
		");\n"
		"ports = ( { name = \"a\"; " MAC_A " security_groups = [\"sg-r\"]; } );\n"
		"flow_logs = { enabled = true; };\n";
	struct t_audit t;
	const struct sg_audit_finding *f;

	t_load(&t, conf, NULL);
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.2.0.11", 40000, "10.0.0.1", 5432, "sg-r/2");
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_DROP, 6, "10.4.0.1", 40000, "10.0.0.1", 22,
			"default-basic-ingress");
	t_rec(&t, "x", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.4.0.1", 40000, "10.0.0.9", 22, "sg-r/1");
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.4.0.1", 40000, "10.0.0.1", 22, "sg-q/1");
	t_run(&t, true);
	ck_assert_uint_eq(t.sum.records_unmatched, 2);
	f = t_must(&t, SG_AUDIT_UNUSED, "sg-r", 1);
	ck_assert(!f->in_proposal);
	ck_assert_ptr_nonnull(strstr(f->not_applied, "the logged ingress flow 10.2.0.11 -> 10.0.0.1:5432 "
			"(protocol 6) on a would be refused"));
	ck_assert(!t.sum.proposal);
	t_done(&t);
}
END_TEST

/* Rules in an included file, several on one line, runs of neighbours removed, the last and the
 * only rule of a list: the edits keep the rest of the text as it was, and the diff says so. */
START_TEST(test_proposal_text)
{
	static const char groups[] =
		"# Groups, included.\n"
		"security_groups = (\n"
		"  { id = \"sg-t\"; inner_access_policy = \"drop\"; rules = (\n"
		"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"10.0.0.9\"; }, { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"23/23\"; source_cidr = \"10.0.0.9\"; },\n"
		"      # the last two\n"
		"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"24/24\"; source_cidr = \"10.0.0.9\"; },\n"
		"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"25/25\"; source_cidr = \"10.0.0.9\"; }  # trailing\n"
		"  ); },\n"
		"  { id = \"sg-u\"; inner_access_policy = \"drop\"; rules = (\n"
		"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"26/26\"; source_cidr = \"10.0.0.9\"; }\n"
		"  ); }\n"
		");\n";
	static const char main[] =
		"@include \"groups.conf\"\n"
		"ports = ( { name = \"a\"; " MAC_A " security_groups = [\"sg-t\", \"sg-u\"]; } );\n"
		"flow_logs = { enabled = true; };\n";
	struct t_audit t;
	const struct sg_audit_file *files;
	uint32_t n;

	t_load(&t, main, groups);
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.0.9", 40000, "10.0.0.1", 22, "sg-t/1");
	t_run(&t, true);
	ck_assert_uint_eq(t.sum.counts[SG_AUDIT_UNUSED], 4);
	ck_assert_msg(t.sum.verified, "%s", t.sum.verify_error);
	ck_assert_str_eq(t_text(&t, "groups.conf"),
			"# Groups, included.\n"
			"security_groups = (\n"
			"  { id = \"sg-t\"; inner_access_policy = \"drop\"; rules = (\n"
			"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"10.0.0.9\"; }\n"
			"  ); },\n"
			"  { id = \"sg-u\"; inner_access_policy = \"drop\"; rules = (\n"
			"  ); }\n"
			");\n");
	n = sg_audit_files(t.a, &files);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_null(files[0].diff); /* main.conf unchanged */
	ck_assert_str_eq(files[1].relpath, "groups.conf");
	ck_assert_ptr_nonnull(strstr(files[1].diff, "@@ -1,12 +1,8 @@\n"));
	ck_assert_ptr_nonnull(strstr(files[1].diff,
			"-      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"10.0.0.9\"; }, { direction"));
	t_done(&t);
}
END_TEST

/* sg_audit_write() lays the files out so `sgfwctl check` loads them from there. */
START_TEST(test_write)
{
	struct t_audit t;
	struct sg_error err = {0};
	char out[200], path[260];
	struct sg_conf *conf;

	t_load(&t, unused_conf, NULL);
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.0.9", 40000, "10.0.0.1", 22, "sg-a/1");
	t_run(&t, true);
	snprintf(out, sizeof(out), "%s/tight", t.dir);
	ck_assert_msg(sg_audit_write(t.a, out, &err) == 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/main.conf", out);
	conf = sg_conf_load_file(path, &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	ck_assert_uint_eq(conf->spec->groups[0].n_rules, 2);
	sg_conf_free(conf);
	unlink(path);
	rmdir(out);
	t_done(&t);
}
END_TEST

/* Descriptions full of quotes, newlines and config syntax: the written proposal loads to
 * exactly the rules the audit meant (a wide rule narrowed, an unused one removed, the rest
 * untouched, every description as it was), and to no rule it did not propose. */
START_TEST(test_write_hostile_descriptions)
{
	static const char main[] =
		"security_groups = (\n"
		"  { id = \"sg-q\"; inner_access_policy = \"drop\";\n"
		"    description = \"group \\\"q\\\" ); rules = ( { direction = \\\"ingress\\\"; "
		"source_cidr = \\\"0.0.0.0/0\\\"; } ); #\";\n"
		"    rules = (\n"
		"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\";\n"
		"        source_cidr = \"10.0.0.0/16\"; description = \"wide \\\"one\\\"\\n}, { direction = "
		"\\\"ingress\\\"; protocol = \\\"all\\\"; source_cidr = \\\"0.0.0.0/0\\\"; } // \"; },\n"
		"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"22/22\";\n"
		"        source_cidr = \"10.0.0.0/8\"; description = \"unused; \\\\\\\" } ); /* */ #\"; },\n"
		"      { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"80/80\";\n"
		"        source_cidr = \"10.0.3.3\"; description = \"kept\\t\\\"80\\\"\\r\\n\"; }\n"
		"    ); }\n"
		");\n"
		"ports = ( { name = \"a\"; " MAC_A " security_groups = [\"sg-q\"]; } );\n"
		"flow_logs = { enabled = true; };\n";
	/* What the audit means: rule 1 for its two sources, rule 2 gone, rule 3 as it was. */
	static const char meant[] =
		"security_groups = ( { id = \"sg-q\"; rules = (\n"
		"  { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\";\n"
		"    source_cidr = \"10.0.1.1\"; },\n"
		"  { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\";\n"
		"    source_cidr = \"10.0.2.2\"; },\n"
		"  { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"80/80\";\n"
		"    source_cidr = \"10.0.3.3\"; } ); } );\n";
	static const char *const descriptions[] = {
		"wide \"one\"\n}, { direction = \"ingress\"; protocol = \"all\"; source_cidr = "
		"\"0.0.0.0/0\"; } // ",
		"wide \"one\"\n}, { direction = \"ingress\"; protocol = \"all\"; source_cidr = "
		"\"0.0.0.0/0\"; } // ",
		"kept\t\"80\"\r\n",
	};
	struct t_audit t;
	struct sg_error err = {0};
	char out[200], path[260];
	struct sg_conf *conf, *want;
	const struct sg_group *g;

	t_load(&t, main, NULL);
	ck_assert_str_eq(t.conf->spec->groups[0].rules[2].description, descriptions[2]);
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.1.1", 40000, "10.0.0.1", 5432, "sg-q/1");
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.2.2", 40000, "10.0.0.1", 5432, "sg-q/1");
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.3.3", 40000, "10.0.0.1", 80, "sg-q/3");
	t_run(&t, true);
	ck_assert_msg(t.sum.verified, "%s", t.sum.verify_error);
	snprintf(out, sizeof(out), "%s/tight", t.dir);
	ck_assert_msg(sg_audit_write(t.a, out, &err) == 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/main.conf", out);
	conf = sg_conf_load_file(path, &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	want = sg_conf_load_string(meant, "meant.conf", &err);
	ck_assert_msg(want != NULL, "%s", err.msg);
	ck_assert_uint_eq(conf->spec->n_groups, 1);
	g = &conf->spec->groups[0];
	ck_assert_str_eq(g->description, "group \"q\" ); rules = ( { direction = \"ingress\"; "
					  "source_cidr = \"0.0.0.0/0\"; } ); #");
	ck_assert_uint_eq(g->n_rules, want->spec->groups[0].n_rules);
	for (uint32_t r = 0; r < g->n_rules; r++) {
		ck_assert_msg(sg_rule_same(&g->rules[r], &want->spec->groups[0].rules[r]),
				"rule %u is not the one meant", r + 1);
		ck_assert_str_eq(g->rules[r].description, descriptions[r]);
	}
	sg_conf_free(want);
	sg_conf_free(conf);
	unlink(path);
	rmdir(out);
	t_done(&t);
}
END_TEST

/* The whole of a file (the test frees it). */
static char *
slurp(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *m = open_memstream(&text, &len);
	int c;

	ck_assert_ptr_nonnull(f);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return text;
}

/* --output never writes over the config it audits: not into its own directory, not through a
 * link to that directory, not through a link to its file; and never through any link. */
START_TEST(test_write_refuses_audited_config)
{
	struct t_audit t;
	struct sg_error err = {0};
	char out[200], link[260], want[768], other[200], *before, *after;

	t_load(&t, unused_conf, NULL);
	t_rec(&t, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, 6, "10.0.0.9", 40000, "10.0.0.1", 22, "sg-a/1");
	t_run(&t, true);
	before = slurp(t.files[0]);

	/* The config's own directory. */
	ck_assert_int_eq(sg_audit_write(t.a, t.dir, &err), -EEXIST);
	snprintf(want, sizeof(want), "--output %s: %s/main.conf is %s, which is being audited; "
				     "choose another directory", t.dir, t.dir, t.files[0]);
	ck_assert_str_eq(err.msg, want);
	/* A link to it. */
	snprintf(out, sizeof(out), "%s-link", t.dir);
	ck_assert_int_eq(symlink(t.dir, out), 0);
	ck_assert_int_eq(sg_audit_write(t.a, out, &err), -EEXIST);
	snprintf(want, sizeof(want), "--output %s: %s/main.conf is %s, which is being audited; "
				     "choose another directory", out, out, t.files[0]);
	ck_assert_str_eq(err.msg, want);
	unlink(out);
	/* A directory holding a link to the config file. */
	ck_assert_int_eq(mkdir(out, 0700), 0);
	snprintf(link, sizeof(link), "%s/main.conf", out);
	ck_assert_int_eq(symlink(t.files[0], link), 0);
	ck_assert_int_eq(sg_audit_write(t.a, out, &err), -EEXIST);
	ck_assert_ptr_nonnull(strstr(err.msg, "which is being audited"));
	unlink(link);
	/* A link to any other file is not written through either. */
	snprintf(other, sizeof(other), "%s/other", out);
	fclose(fopen(other, "w"));
	ck_assert_int_eq(symlink(other, link), 0);
	ck_assert_int_eq(sg_audit_write(t.a, out, &err), -EEXIST);
	snprintf(want, sizeof(want), "--output %s: %s exists and is a symbolic link; sgfwctl writes "
				     "only new or regular files there", out, link);
	ck_assert_str_eq(err.msg, want);
	after = slurp(other);
	ck_assert_str_eq(after, "");
	free(after);
	unlink(link);
	unlink(other);
	/* The config is as it was; a directory of its own takes the proposal. */
	after = slurp(t.files[0]);
	ck_assert_str_eq(after, before);
	free(after);
	ck_assert_msg(sg_audit_write(t.a, out, &err) == 0, "%s", err.msg);
	after = slurp(link);
	ck_assert_str_ne(after, before);
	free(after);
	free(before);
	unlink(link);
	rmdir(out);
	t_done(&t);
}
END_TEST

static Suite *
audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("findings");

	tcase_add_test(tc, test_unused);
	tcase_add_test(tc, test_unused_needs_logs);
	tcase_add_test(tc, test_unused_incomplete);
	tcase_add_test(tc, test_wide);
	tcase_add_test(tc, test_cloud_alibaba_export);
	tcase_add_test(tc, test_cloud_aws_export);
	tcase_add_test(tc, test_shadowed_and_redundant);
	tcase_add_test(tc, test_redundant_pair);
	tcase_add_test(tc, test_conflict);
	tcase_add_test(tc, test_inner_unused);
	suite_add_tcase(s, tc);
	tc = tcase_create("proposal");
	tcase_add_test(tc, test_proposal_order);
	tcase_add_test(tc, test_proposal_keeps_logged_verdicts);
	tcase_add_test(tc, test_proposal_text);
	tcase_add_test(tc, test_write);
	tcase_add_test(tc, test_write_hostile_descriptions);
	tcase_add_test(tc, test_write_refuses_audited_config);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(audit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
