/* SPDX-License-Identifier: BSD-3-Clause */
/* Flow logs without a datapath: the line formats and their parser, rule labels, and the
 * aggregator fed by hand with the events and connection counters the datapath would report,
 * checked through the files it writes (windows, directions, rules, selection, limits, epochs,
 * rotation). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sg_flowlog.h"

/* ---- Helpers ---- */

static struct sg_ip
ip(const char *text)
{
	struct sg_ip a;

	ck_assert_int_eq(sg_ip_parse(text, &a), 0);
	return a;
}

static char *
format_record(const struct sg_flowlog_record *r, enum sg_flowlog_format format)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_int_eq(sg_flowlog_write_record(f, r, format), 0);
	fclose(f);
	return text;
}

static struct sg_flowlog_record
sample(void)
{
	struct sg_flowlog_record r;

	memset(&r, 0, sizeof(r));
	r.version = 1;
	sg_strlcpy(r.port, "db1", sizeof(r.port));
	r.dir = SG_DIR_INGRESS;
	r.proto = 6;
	r.src = ip("10.2.0.11");
	r.sport = 40000;
	r.dst = ip("10.1.0.11");
	r.dport = 5432;
	r.packets = 12;
	r.bytes = 1840;
	r.start = 1700000000;
	r.end = 1700000060;
	r.status = SG_FLOWLOG_OK;
	r.action = SG_ACTION_ACCEPT;
	r.tcp_flags = 19;
	r.rule.kind = SG_FLOWLOG_RULE_USER;
	sg_strlcpy(r.rule.group, "sg-db", sizeof(r.rule.group));
	r.rule.index = 1;
	return r;
}

static void
same_record(const struct sg_flowlog_record *a, const struct sg_flowlog_record *b)
{
	ck_assert_uint_eq(a->version, b->version);
	ck_assert_str_eq(a->port, b->port);
	ck_assert_int_eq(a->status, b->status);
	ck_assert_int_eq(a->start, b->start);
	ck_assert_int_eq(a->end, b->end);
	ck_assert_uint_eq(a->packets, b->packets);
	if (a->status != SG_FLOWLOG_OK)
		return;
	ck_assert_int_eq(a->dir, b->dir);
	ck_assert_uint_eq(a->proto, b->proto);
	ck_assert(sg_ip_equal(&a->src, &b->src));
	ck_assert(sg_ip_equal(&a->dst, &b->dst));
	ck_assert_uint_eq(a->sport, b->sport);
	ck_assert_uint_eq(a->dport, b->dport);
	ck_assert_uint_eq(a->bytes, b->bytes);
	ck_assert_int_eq(a->action, b->action);
	ck_assert_uint_eq(a->tcp_flags, b->tcp_flags);
	ck_assert_int_eq(a->rule.kind, b->rule.kind);
	ck_assert_str_eq(a->rule.group, b->rule.group);
	ck_assert_uint_eq(a->rule.index, b->rule.index);
	ck_assert_int_eq(a->rule.type, b->rule.type);
	ck_assert_int_eq(a->rule.dir, b->rule.dir);
}

/* Write in 'format', parse back, compare. */
static void
round_trip(const struct sg_flowlog_record *r, enum sg_flowlog_format format)
{
	char *text = format_record(r, format), why[160] = "";
	struct sg_flowlog_record back;

	ck_assert_msg(sg_flowlog_parse_line(text, &back, why, sizeof(why)) == 1, "%s: %s", text, why);
	same_record(r, &back);
	free(text);
}

/* ---- Formats ---- */

START_TEST(test_text_line)
{
	struct sg_flowlog_record r = sample();
	char *text = format_record(&r, SG_FLOWLOG_TEXT);

	/* The documented example line (docs/flowlogs.md): D16's fields in order, then the rule. */
	ck_assert_str_eq(text, "1 db1 10.2.0.11 40000 10.1.0.11 5432 6 ingress 12 1840 1700000000 "
			       "1700000060 OK ACCEPT 19 sg-db/1\n");
	free(text);
	round_trip(&r, SG_FLOWLOG_TEXT);
	ck_assert_str_eq(sg_flowlog_text_header,
			"version port srcaddr srcport dstaddr dstport protocol direction packets "
			"bytes start end log-status action tcp-flags rule");
}
END_TEST

START_TEST(test_json_line)
{
	struct sg_flowlog_record r = sample();
	char *text = format_record(&r, SG_FLOWLOG_JSON);

	ck_assert_str_eq(text,
			"{\"version\":1,\"port\":\"db1\",\"srcaddr\":\"10.2.0.11\",\"srcport\":40000,"
			"\"dstaddr\":\"10.1.0.11\",\"dstport\":5432,\"protocol\":6,\"direction\":"
			"\"ingress\",\"packets\":12,\"bytes\":1840,\"start\":1700000000,\"end\":"
			"1700000060,\"log_status\":\"OK\",\"action\":\"ACCEPT\",\"tcp_flags\":19,"
			"\"rule\":\"sg-db/1\",\"group\":\"sg-db\",\"rule_index\":1}\n");
	free(text);
	round_trip(&r, SG_FLOWLOG_JSON);
}
END_TEST

START_TEST(test_record_variants)
{
	struct sg_flowlog_record r = sample();
	char *text;

	for (int f = 0; f < 2; f++) {
		enum sg_flowlog_format format = (enum sg_flowlog_format)f;

		r = sample();
		r.src = ip("fd00:2::11");
		r.dst = ip("fd00:1::11");
		r.dir = SG_DIR_EGRESS;
		r.action = SG_ACTION_DROP;
		r.rule.kind = SG_FLOWLOG_RULE_DEFAULT;
		r.rule.group[0] = '\0';
		r.rule.index = 0;
		r.rule.type = SG_GROUP_ENTERPRISE;
		r.rule.dir = SG_DIR_EGRESS;
		round_trip(&r, format);
		/* ICMP: type and code in the port fields; the inner rule of a group. */
		r = sample();
		r.proto = 1;
		r.sport = 8;
		r.dport = 0;
		r.rule.kind = SG_FLOWLOG_RULE_INNER;
		r.rule.index = 0;
		round_trip(&r, format);
		/* Names with spaces, '%', '/' and the empty-field dash survive. */
		r = sample();
		sg_strlcpy(r.port, "web 1%x", sizeof(r.port));
		sg_strlcpy(r.rule.group, "team/a b", sizeof(r.rule.group));
		r.rule.index = 12;
		round_trip(&r, format);
		sg_strlcpy(r.port, "-", sizeof(r.port));
		round_trip(&r, format);
		r = sample();
		r.rule.kind = SG_FLOWLOG_RULE_NONE;
		r.rule.group[0] = '\0';
		r.rule.index = 0;
		round_trip(&r, format);
		/* NODATA and SKIPDATA. */
		memset(&r, 0, sizeof(r));
		r.version = 1;
		sg_strlcpy(r.port, "db2", sizeof(r.port));
		r.start = 60;
		r.end = 120;
		r.status = SG_FLOWLOG_NODATA;
		round_trip(&r, format);
		r.port[0] = '\0';
		r.status = SG_FLOWLOG_SKIPDATA;
		r.packets = 77;
		round_trip(&r, format);
	}
	r = sample();
	sg_strlcpy(r.port, "web 1", sizeof(r.port));
	text = format_record(&r, SG_FLOWLOG_TEXT);
	ck_assert_ptr_nonnull(strstr(text, "1 web%201 "));
	free(text);
	memset(&r, 0, sizeof(r));
	r.version = 1;
	sg_strlcpy(r.port, "db2", sizeof(r.port));
	r.start = 60;
	r.end = 120;
	r.status = SG_FLOWLOG_NODATA;
	text = format_record(&r, SG_FLOWLOG_TEXT);
	ck_assert_str_eq(text, "1 db2 - - - - - - - - 60 120 NODATA - - -\n");
	free(text);
	r.status = SG_FLOWLOG_SKIPDATA;
	r.packets = 5;
	text = format_record(&r, SG_FLOWLOG_TEXT);
	ck_assert_str_eq(text, "1 db2 - - - - - - 5 - 60 120 SKIPDATA - - -\n");
	free(text);
	round_trip(&r, SG_FLOWLOG_TEXT);
	round_trip(&r, SG_FLOWLOG_JSON);
	r.port[0] = '\0';
	text = format_record(&r, SG_FLOWLOG_TEXT);
	ck_assert_str_eq(text, "1 - - - - - - - 5 - 60 120 SKIPDATA - - -\n");
	free(text);
	round_trip(&r, SG_FLOWLOG_TEXT);
	round_trip(&r, SG_FLOWLOG_JSON);
}
END_TEST

/* ---- Cloud formats ---- */

/* What a cloud line keeps of 'r': no rule, and AWS's ICMP has no type and code. */
static struct sg_flowlog_record
cloud_view(const struct sg_flowlog_record *r, enum sg_flowlog_format format)
{
	struct sg_flowlog_record v = *r;

	memset(&v.rule, 0, sizeof(v.rule));
	if (format == SG_FLOWLOG_AWS_V5 && (r->proto == 1 || r->proto == 58)) {
		v.sport = 0;
		v.dport = 0;
	}
	return v;
}

static void
cloud_round_trip(const struct sg_flowlog_record *r, enum sg_flowlog_format format)
{
	char *text = format_record(r, format), why[160] = "";
	struct sg_flowlog_layout layout;
	struct sg_flowlog_record back, want = cloud_view(r, format);

	sg_flowlog_cloud_default(format, &layout);
	ck_assert_msg(sg_flowlog_parse_cloud(text, &layout, NULL, 0, &back, why, sizeof(why)) == 1,
			"%s: %s", text, why);
	same_record(&want, &back);
	ck_assert_int_eq(back.format, format);
	free(text);
}

/* The documented lines (docs/flowlogs.md) and headers, and every kind of record back. */
START_TEST(test_cloud_lines)
{
	struct sg_flowlog_record r = sample();
	char *text;

	ck_assert_str_eq(sg_flowlog_header(SG_FLOWLOG_ALIBABA),
			"version vswitch-id vm-id vpc-id account-id eni-id srcaddr srcport dstaddr "
			"dstport protocol direction packets bytes start end log-status action "
			"tcp-flags");
	ck_assert_str_eq(sg_flowlog_header(SG_FLOWLOG_AWS_V5),
			"version account-id interface-id srcaddr dstaddr srcport dstport protocol "
			"packets bytes start end action log-status tcp-flags flow-direction "
			"pkt-srcaddr pkt-dstaddr");
	ck_assert_str_eq(sg_flowlog_header(SG_FLOWLOG_TEXT), sg_flowlog_text_header);
	ck_assert_ptr_null(sg_flowlog_header(SG_FLOWLOG_JSON));
	text = format_record(&r, SG_FLOWLOG_ALIBABA);
	ck_assert_str_eq(text, "1 - - - - db1 10.2.0.11 40000 10.1.0.11 5432 6 in 12 1840 "
			       "1700000000 1700000060 OK ACCEPT 19\n");
	free(text);
	text = format_record(&r, SG_FLOWLOG_AWS_V5);
	ck_assert_str_eq(text, "5 - db1 10.2.0.11 10.1.0.11 40000 5432 6 12 1840 1700000000 "
			       "1700000060 ACCEPT OK 19 ingress 10.2.0.11 10.1.0.11\n");
	free(text);
	r.dir = SG_DIR_EGRESS;
	r.action = SG_ACTION_DROP;
	r.proto = 1;
	r.sport = 8;
	r.dport = 0;
	text = format_record(&r, SG_FLOWLOG_ALIBABA);
	ck_assert_str_eq(text, "1 - - - - db1 10.2.0.11 8 10.1.0.11 0 1 out 12 1840 "
			       "1700000000 1700000060 OK REJECT 19\n");
	free(text);
	text = format_record(&r, SG_FLOWLOG_AWS_V5);
	ck_assert_str_eq(text, "5 - db1 10.2.0.11 10.1.0.11 0 0 1 12 1840 1700000000 "
			       "1700000060 REJECT OK 19 egress 10.2.0.11 10.1.0.11\n");
	free(text);
	memset(&r, 0, sizeof(r));
	r.version = 1;
	sg_strlcpy(r.port, "web 2", sizeof(r.port));
	r.start = 60;
	r.end = 120;
	r.status = SG_FLOWLOG_NODATA;
	text = format_record(&r, SG_FLOWLOG_ALIBABA);
	ck_assert_str_eq(text, "1 - - - - web%202 - - - - - - - - 60 120 NODATA - -\n");
	free(text);
	text = format_record(&r, SG_FLOWLOG_AWS_V5);
	ck_assert_str_eq(text, "5 - web%202 - - - - - - - 60 120 - NODATA - - - -\n");
	free(text);
	r.status = SG_FLOWLOG_SKIPDATA;
	r.packets = 42;
	text = format_record(&r, SG_FLOWLOG_ALIBABA);
	ck_assert_str_eq(text, "1 - - - - web%202 - - - - - - 42 - 60 120 SKIPDATA - -\n");
	free(text);
	text = format_record(&r, SG_FLOWLOG_AWS_V5);
	ck_assert_str_eq(text, "5 - web%202 - - - - - 42 - 60 120 - SKIPDATA - - - -\n");
	free(text);
	for (int f = SG_FLOWLOG_ALIBABA; f <= SG_FLOWLOG_AWS_V5; f++) {
		enum sg_flowlog_format format = (enum sg_flowlog_format)f;

		cloud_round_trip(&r, format);
		r.port[0] = '\0';
		cloud_round_trip(&r, format);
		r.status = SG_FLOWLOG_NODATA;
		r.packets = 0;
		sg_strlcpy(r.port, "db2", sizeof(r.port));
		cloud_round_trip(&r, format);
		r = sample();
		cloud_round_trip(&r, format);
		r.src = ip("fd00:2::11");
		r.dst = ip("fd00:1::11");
		r.dir = SG_DIR_EGRESS;
		r.action = SG_ACTION_DROP;
		r.proto = 58;
		r.sport = 128;
		cloud_round_trip(&r, format);
		sg_strlcpy(r.port, "-", sizeof(r.port));
		cloud_round_trip(&r, format);
		r.status = SG_FLOWLOG_SKIPDATA;
	}
}
END_TEST

/* Cloud exports: columns by the header, CSV with quotes, ENI ids mapped to ports. */
START_TEST(test_cloud_exports)
{
	static const struct sg_flowlog_eni enis[] = {{"eni-0a1", "db1"}, {"eni-0b2", "web1"}};
	struct sg_flowlog_layout l;
	struct sg_flowlog_record r;
	char why[160] = "";

	/* Simple Log Service's CSV download: its own columns first, quoted values. */
	ck_assert_int_eq(sg_flowlog_cloud_header("__source__,__time__,__topic__,account-id,action,"
						 "bytes,direction,dstaddr,dstport,end,eni-id,"
						 "log-status,packets,protocol,srcaddr,srcport,"
						 "start,version,vm-id,vpc-id,vswitch-id\r\n",
				 &l, why, sizeof(why)),
			1);
	ck_assert_int_eq(l.format, SG_FLOWLOG_ALIBABA);
	ck_assert_int_eq(l.sep, ',');
	ck_assert_int_eq(sg_flowlog_parse_cloud("\"\",\"1700000061\",\"flow_log\",\"1234\","
						"\"REJECT\",\"60\",\"in\",\"10.1.0.11\",\"22\","
						"\"1700000060\",\"eni-0a1\",\"OK\",\"1\",\"6\","
						"\"198.51.100.7\",\"51000\",\"1700000000\",\"1\","
						"\"i-1\",\"vpc-1\",\"vsw-1\"\r\n",
				 &l, enis, 2, &r, why, sizeof(why)),
			1);
	ck_assert_str_eq(r.port, "db1");
	ck_assert_int_eq(r.dir, SG_DIR_INGRESS);
	ck_assert_int_eq(r.action, SG_ACTION_DROP);
	ck_assert_uint_eq(r.dport, 22);
	ck_assert_uint_eq(r.sport, 51000);
	ck_assert_uint_eq(r.bytes, 60);
	ck_assert_int_eq(r.start, 1700000000);
	ck_assert_int_eq(r.rule.kind, SG_FLOWLOG_RULE_NONE);
	/* AWS's S3 file: the header, an unmapped interface kept as it is, a SKIPDATA line
	 * without a count (at least one record lost). */
	ck_assert_int_eq(sg_flowlog_cloud_header("version account-id interface-id srcaddr dstaddr "
						 "srcport dstport protocol packets bytes start "
						 "end action log-status flow-direction tcp-flags",
				 &l, why, sizeof(why)),
			1);
	ck_assert_int_eq(l.format, SG_FLOWLOG_AWS_V5);
	ck_assert_int_eq(sg_flowlog_parse_cloud("5 123456789010 eni-0c3 10.1.0.11 10.2.0.11 5432 "
						"40000 6 10 1500 1700000000 1700000060 ACCEPT OK "
						"egress 18",
				 &l, enis, 2, &r, why, sizeof(why)),
			1);
	ck_assert_str_eq(r.port, "eni-0c3");
	ck_assert_int_eq(r.dir, SG_DIR_EGRESS);
	ck_assert_uint_eq(r.tcp_flags, 18);
	ck_assert_int_eq(sg_flowlog_parse_cloud("5 123456789010 eni-0b2 - - - - - - - 1700000000 "
						"1700000060 - SKIPDATA - -",
				 &l, enis, 2, &r, why, sizeof(why)),
			1);
	ck_assert_str_eq(r.port, "web1");
	ck_assert_int_eq(r.status, SG_FLOWLOG_SKIPDATA);
	ck_assert_uint_eq(r.packets, 1);
	/* Not headers: sgfw's own, a data line. */
	ck_assert_int_eq(sg_flowlog_cloud_header(sg_flowlog_text_header, &l, why, sizeof(why)), 0);
	ck_assert_int_eq(sg_flowlog_cloud_header("5 1 eni-0b2 10.1.0.11 10.2.0.11 1 2 6 1 1 1 2 "
						 "ACCEPT OK egress 0",
				 &l, why, sizeof(why)),
			0);
}
END_TEST

static const struct {
	const char *header;          /* NULL: the default layout of 'format'. */
	enum sg_flowlog_format format;
	const char *line;
	const char *why;
} bad_cloud[] = {
	{"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
	 "start end action log-status", SG_FLOWLOG_AWS_V5, NULL,
	 "header line: AWS flow logs without flow-direction (a version 5 field): the audit "
	 "cannot tell ingress from egress"},
	{"eni-id srcaddr dstaddr srcport dstport protocol direction packets bytes start end "
	 "log-status", SG_FLOWLOG_ALIBABA, NULL, "header line: no action field"},
	{"eni-id interface-id srcaddr", SG_FLOWLOG_ALIBABA, NULL,
	 "header line: it mixes Alibaba's (eni-id, direction) and AWS's (interface-id, "
	 "flow-direction) fields"},
	{"eni-id srcaddr srcaddr", SG_FLOWLOG_ALIBABA, NULL,
	 "header line: field \"srcaddr\" appears twice"},
	{NULL, SG_FLOWLOG_ALIBABA, "1 - - - - db1 10.2.0.11 40000 10.1.0.11 5432 6 ingress 12 1840 1 2 "
	 "OK ACCEPT 19", "direction \"ingress\" is not in or out"},
	{NULL, SG_FLOWLOG_AWS_V5, "5 - db1 10.2.0.11 10.1.0.11 40000 5432 6 12 1840 1 2 ACCEPT OK 19 "
	 "in 10.2.0.11 10.1.0.11", "flow-direction \"in\" is not ingress or egress"},
	{NULL, SG_FLOWLOG_ALIBABA, "1 - - - - db1 10.2.0.11 40000 10.1.0.11 5432 6 in 12 1840 1 2 OK",
	 "17 fields, not 19 as in the header"},
	{NULL, SG_FLOWLOG_ALIBABA, "1 - - - - - 10.2.0.11 40000 10.1.0.11 5432 6 in 12 1840 1 2 "
	 "OK ACCEPT 19", "eni-id is empty"},
	{NULL, SG_FLOWLOG_AWS_V5, "5 - db1 10.2.0.11 10.1.0.11 40000 5432 6 - 1840 1 2 ACCEPT OK 19 "
	 "egress 10.2.0.11 10.1.0.11", "packets is empty"},
	{NULL, SG_FLOWLOG_AWS_V5, "5 - db1 10.2.0.11 10.1.0.11 40000 5432 6 1 1840 1 2 DENY OK 19 "
	 "egress 10.2.0.11 10.1.0.11", "action \"DENY\" is not ACCEPT or REJECT"},
	{NULL, SG_FLOWLOG_AWS_V5, "5 - db1 10.2.0.11 10.1.0.11 40000 5432 6 1 1840 1 2 ACCEPT FINE 19 "
	 "egress 10.2.0.11 10.1.0.11", "log-status \"FINE\" is not OK, NODATA or SKIPDATA"},
	{NULL, SG_FLOWLOG_AWS_V5, "5 - db1 10.2.0.311 10.1.0.11 40000 5432 6 1 1840 1 2 ACCEPT OK 19 "
	 "egress 10.2.0.11 10.1.0.11", "srcaddr \"10.2.0.311\" is not an address"},
};

START_TEST(test_cloud_bad_lines)
{
	struct sg_flowlog_layout l;
	struct sg_flowlog_record r;
	char why[160] = "";

	if (bad_cloud[_i].header != NULL) {
		ck_assert_int_eq(sg_flowlog_cloud_header(bad_cloud[_i].header, &l, why, sizeof(why)),
				-EINVAL);
	} else {
		sg_flowlog_cloud_default(bad_cloud[_i].format, &l);
		ck_assert_int_eq(sg_flowlog_parse_cloud(bad_cloud[_i].line, &l, NULL, 0, &r, why,
						 sizeof(why)),
				-EINVAL);
	}
	ck_assert_str_eq(why, bad_cloud[_i].why);
}
END_TEST

static const struct {
	const char *line;
	const char *why;
} bad_lines[] = {
	{"1 db1 10.2.0.11 40000 10.1.0.11 5432 6 ingress 12 1840 1 2 OK ACCEPT 19", "15 fields"},
	{"2 db1 10.2.0.11 40000 10.1.0.11 5432 6 ingress 12 1840 1 2 OK ACCEPT 19 -", "version"},
	{"1 db1 10.2.0.300 40000 10.1.0.11 5432 6 ingress 12 1840 1 2 OK ACCEPT 19 -", "srcaddr"},
	{"1 db1 10.2.0.11 70000 10.1.0.11 5432 6 ingress 12 1840 1 2 OK ACCEPT 19 -", "srcport"},
	{"1 db1 10.2.0.11 4 10.1.0.11 5432 6 inbound 12 1840 1 2 OK ACCEPT 19 -", "direction"},
	{"1 db1 10.2.0.11 4 10.1.0.11 5432 6 ingress 12 1840 1 2 OK DENY 19 -", "action"},
	{"1 db1 10.2.0.11 4 10.1.0.11 5432 6 ingress 12 1840 1 2 FINE ACCEPT 19 -", "log-status"},
	{"1 db1 10.2.0.11 4 10.1.0.11 5432 6 ingress 12 1840 1 2 OK ACCEPT 19 sg-db/x", "rule"},
	{"1 db1 - 4 10.1.0.11 5432 6 ingress 12 1840 1 2 OK ACCEPT 19 sg-db/1", "srcaddr is empty"},
	{"1 db1 10.2.0.11 4 10.1.0.11 5432 6 ingress 12 1840 1 2 OK ACCEPT 19 sg-db/1 x",
			"more than 16"},
	{"{\"version\":1,\"port\":\"db1\",\"packets\":\"many\"}", "packets"},
	{"{\"version\":1,\"port\":\"db1\"", "'}' expected"},
	{"{\"version\":1,\"port\":\"db1\",\"packets\":1.5}", "not a string, an integer"},
	{"{\"version\":1,\"port\":\"db1\",\"port\":\"db2\"}", "duplicate"},
	{"{\"port\":\"db1\"}", "no version"},
};

START_TEST(test_bad_lines)
{
	struct sg_flowlog_record r;
	char why[160] = "";

	ck_assert_int_eq(sg_flowlog_parse_line(bad_lines[_i].line, &r, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, bad_lines[_i].why) != NULL, "%s: why is \"%s\", want \"%s\"",
			bad_lines[_i].line, why, bad_lines[_i].why);
}
END_TEST

START_TEST(test_skipped_lines)
{
	struct sg_flowlog_record r;

	ck_assert_int_eq(sg_flowlog_parse_line("", &r, NULL, 0), 0);
	ck_assert_int_eq(sg_flowlog_parse_line("   \n", &r, NULL, 0), 0);
	ck_assert_int_eq(sg_flowlog_parse_line("# a comment", &r, NULL, 0), 0);
	ck_assert_int_eq(sg_flowlog_parse_line(sg_flowlog_text_header, &r, NULL, 0), 0);
}
END_TEST

START_TEST(test_rule_labels)
{
	struct sg_flowlog_rule_ref r;
	char buf[128];

	ck_assert_int_eq(sg_flowlog_rule_parse("a/b/3", &r), 0);
	ck_assert_int_eq(r.kind, SG_FLOWLOG_RULE_USER);
	ck_assert_str_eq(r.group, "a/b");
	ck_assert_uint_eq(r.index, 3);
	ck_assert_int_eq(sg_flowlog_rule_parse("sg-x/inner", &r), 0);
	ck_assert_int_eq(r.kind, SG_FLOWLOG_RULE_INNER);
	ck_assert_int_eq(sg_flowlog_rule_parse("default-basic-egress", &r), 0);
	ck_assert_int_eq(r.kind, SG_FLOWLOG_RULE_DEFAULT);
	ck_assert_int_eq(r.type, SG_GROUP_BASIC);
	ck_assert_int_eq(r.dir, SG_DIR_EGRESS);
	ck_assert_str_eq(sg_flowlog_rule_label(&r, buf, sizeof(buf)), "default-basic-egress");
	ck_assert_int_eq(sg_flowlog_rule_parse("-", &r), 0);
	ck_assert_int_eq(r.kind, SG_FLOWLOG_RULE_NONE);
	ck_assert_int_eq(sg_flowlog_rule_parse("default", &r), -EINVAL);
	ck_assert_int_eq(sg_flowlog_rule_parse("sg/0", &r), -EINVAL);
	ck_assert_int_eq(sg_flowlog_rule_parse("sg/", &r), -EINVAL);
	ck_assert_int_eq(sg_flowlog_rule_parse("/2", &r), -EINVAL);
	ck_assert_int_eq(sg_flowlog_rule_parse("sg%zz/2", &r), -EINVAL);
}
END_TEST

/* ---- The aggregator ---- */

/* Ports a (10.0.0.1) and b (10.0.0.2) in sg-a and sg-b; an uplink; ids 10, 11, 12.
 * sg-b repeats its first rule, so its third rule is the second after normalisation. */
static const char lab_conf[] =
	"security_groups = (\n"
	"  { id = \"sg-a\"; rules = (\n"
	"    { direction = \"egress\"; policy = \"accept\"; protocol = \"tcp\";\n"
	"      port_range = \"1/65535\"; dest_cidr = \"10.0.0.0/8\"; },\n"
	"    { direction = \"ingress\"; policy = \"accept\"; protocol = \"tcp\";\n"
	"      port_range = \"22/22\"; source_cidr = \"10.0.0.0/8\"; } ); },\n"
	"  { id = \"sg-b\"; rules = (\n"
	"    { direction = \"ingress\"; policy = \"accept\"; protocol = \"icmp\"; source_cidr = \"10.0.0.0/8\"; },\n"
	"    { direction = \"ingress\"; policy = \"accept\"; protocol = \"icmp\"; source_cidr = \"10.0.0.0/8\"; },\n"
	"    { direction = \"ingress\"; policy = \"accept\"; protocol = \"tcp\";\n"
	"      port_range = \"5432/5432\"; source_cidr = \"10.0.0.0/8\"; } ); }\n"
	");\n"
	"ports = (\n"
	"  { name = \"a\"; type = \"null\"; mac = \"52:54:00:00:00:01\"; ips = [\"10.0.0.1\"];\n"
	"    security_groups = [\"sg-a\"]; },\n"
	"  { name = \"b\"; type = \"null\"; mac = \"52:54:00:00:00:02\"; ips = [\"10.0.0.2\"];\n"
	"    security_groups = [\"sg-b\"]; },\n"
	"  { name = \"up\"; type = \"null\"; role = \"uplink\"; peer_mac = \"52:54:00:00:00:fe\"; }\n"
	");\n"
	"flow_logs = { enabled = true; %s };\n";

static const uint16_t lab_ids[] = {10, 11, 12};

struct lab {
	char dir[128];
	struct sg_conf *conf;
	struct sg_flowlog *fl;
	struct sg_flowlog_record recs[256];
	unsigned int n;
};

static struct sg_conf *
lab_load(const char *flow_logs_fields)
{
	char text[4096];
	struct sg_error err = {0};
	struct sg_conf *conf;

	snprintf(text, sizeof(text), lab_conf, flow_logs_fields);
	conf = sg_conf_load_string(text, "lab.conf", &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	return conf;
}

/* The lines one port may have per window in the next lab_open (0: max_flows). */
static uint32_t lab_port_max_flows;

static void
lab_open(struct lab *l, const char *flow_logs_fields, uint32_t max_flows, uint64_t max_bytes,
		uint32_t max_age, enum sg_flowlog_format format)
{
	struct sg_flowlog_params p = {
		.format = format, .max_file_bytes = max_bytes, .max_file_age = max_age,
		.max_flows = max_flows, .port_max_flows = lab_port_max_flows,
	};
	struct sg_error err = {0};

	memset(l, 0, sizeof(*l));
	snprintf(l->dir, sizeof(l->dir), "/tmp/sgfw-flw-check-%d-XXXXXX", (int)getpid());
	ck_assert_ptr_nonnull(mkdtemp(l->dir));
	/* A directory below it: the aggregator creates what is missing. */
	strcat(l->dir, "/logs");
	p.directory = l->dir;
	l->conf = lab_load(flow_logs_fields);
	l->fl = sg_flowlog_create(&p, &err);
	ck_assert_msg(l->fl != NULL, "%s", err.msg);
	ck_assert_int_eq(sg_flowlog_set_epoch(l->fl, 1, l->conf, lab_ids), 0);
}

static void
remove_tree(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[512];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void
lab_close(struct lab *l)
{
	char parent[128];

	sg_flowlog_free(l->fl);
	sg_conf_free(l->conf);
	remove_tree(l->dir);
	snprintf(parent, sizeof(parent), "%s", l->dir);
	*strrchr(parent, '/') = '\0';
	rmdir(parent);
}

static int
collect(const struct sg_flowlog_record *rec, void *arg)
{
	struct lab *l = arg;

	ck_assert_uint_lt(l->n, SG_ARRAY_SIZE(l->recs));
	l->recs[l->n++] = *rec;
	return 0;
}

/* Read everything written so far. */
static void
lab_read(struct lab *l)
{
	struct sg_error err = {0};

	l->n = 0;
	ck_assert_msg(sg_flowlog_read(l->dir, collect, l, NULL, &err) == 0, "%s", err.msg);
}

/* The OK line of (port, direction, action, start) with source 'src' (and destination port
 * 'dport' unless 0); fails unless there is exactly one. */
static const struct sg_flowlog_record *
line_of(const struct lab *l, const char *port, enum sg_dir dir, enum sg_action action,
		const char *src, int64_t start, uint16_t dport)
{
	const struct sg_flowlog_record *found = NULL;
	struct sg_ip a = ip(src);

	for (unsigned int i = 0; i < l->n; i++) {
		const struct sg_flowlog_record *r = &l->recs[i];

		if (r->status != SG_FLOWLOG_OK || strcmp(r->port, port) != 0 || r->dir != dir ||
				r->action != action || r->start != start || !sg_ip_equal(&r->src, &a) ||
				(dport != 0 && r->dport != dport))
			continue;
		ck_assert_msg(found == NULL, "two lines for %s %s from %s", port, sg_dir_name(dir), src);
		found = r;
	}
	ck_assert_msg(found != NULL, "no line for %s %s %s from %s at %lld", port, sg_dir_name(dir),
			sg_action_name(action), src, (long long)start);
	return found;
}

static unsigned int
count_lines(const struct lab *l, enum sg_flowlog_status status, int64_t start)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < l->n; i++)
		n += l->recs[i].status == status && l->recs[i].start == start;
	return n;
}

/* Policy-wide id of the rule sgfwctl names 'name' ("sg-a rule 1", "sg-b inner access"). */
static uint32_t
rule_id(const struct sg_conf *conf, const char *name)
{
	char buf[128];

	for (uint32_t id = 0; id < sg_policy_rule_count(conf->policy); id++)
		if (strcmp(sg_policy_rule_name(conf->policy, id, buf, sizeof(buf)), name) == 0)
			return id;
	ck_abort_msg("no rule %s", name);
	return 0;
}

static void
expect_rule(const struct sg_flowlog_record *r, const char *label)
{
	char buf[128];

	ck_assert_str_eq(sg_flowlog_rule_label(&r->rule, buf, sizeof(buf)), label);
}

static struct sg_flowlog_conn
tcp_conn(const struct sg_conf *conf, uint32_t p0, uint32_t p1, uint64_t b0, uint64_t b1)
{
	struct sg_flowlog_conn c = {
		.family = SG_AF_INET, .proto = 6, .sport = 40000, .dport = 5432,
		.in_port = 10, .out_port = 11,
		.egress_rule = rule_id(conf, "sg-a rule 1"),
		.ingress_rule = rule_id(conf, "sg-b rule 2"),
		.epoch = 1, .packets = {p0, p1}, .bytes = {b0, b1},
	};

	c.src = ip("10.0.0.1");
	c.dst = ip("10.0.0.2");
	return c;
}

static struct sg_flowlog_event
event(const struct sg_conf *conf, uint8_t kind, const char *src, const char *dst, uint16_t sport,
		uint16_t dport, uint8_t flags)
{
	struct sg_flowlog_event ev = {
		.kind = kind, .family = SG_AF_INET, .proto = 6, .tcp_flags = flags, .ip_bytes = 60,
		.sport = sport, .dport = dport, .epoch = 1,
	};
	struct sg_ip s = ip(src), d = ip(dst);

	memcpy(ev.src, s.bytes, 16);
	memcpy(ev.dst, d.bytes, 16);
	/* From a to b, or b to a. */
	if (strcmp(src, "10.0.0.1") == 0) {
		ev.sender = 10;
		ev.receiver = 11;
		ev.sender_rule = rule_id(conf, "sg-a rule 1");
		ev.receiver_rule = rule_id(conf, "sg-b rule 2");
	} else {
		ev.sender = 11;
		ev.receiver = 10;
		ev.sender_rule = rule_id(conf, "sg-b rule 2");
		ev.receiver_rule = rule_id(conf, "sg-a rule 1");
	}
	return ev;
}

/* One TCP connection over three windows: four lines per window (each port, each direction),
 * deltas between reports, flags ORed per direction, the rule of each port's policy. */
START_TEST(test_connection_windows)
{
	struct lab l;
	struct sg_flowlog_conn c;
	struct sg_flowlog_event ev;
	const struct sg_flowlog_record *r;
	struct sg_flowlog_stats st;

	lab_open(&l, "", 4096, 1 << 20, 3600, SG_FLOWLOG_TEXT);
	/* Window 1: SYN from a, SYN-ACK from b, the walk reports 3 and 2 packets. */
	ev = event(l.conf, SG_FLOWLOG_EV_FLAGS, "10.0.0.1", "10.0.0.2", 40000, 5432, 0x02);
	sg_flowlog_add_event(l.fl, &ev);
	ev = event(l.conf, SG_FLOWLOG_EV_FLAGS, "10.0.0.2", "10.0.0.1", 5432, 40000, 0x12);
	sg_flowlog_add_event(l.fl, &ev);
	c = tcp_conn(l.conf, 3, 2, 180, 120);
	sg_flowlog_add_conn(l.fl, &c, false);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 0, 60), 0);
	/* Window 2: more data and a FIN each way. */
	ev = event(l.conf, SG_FLOWLOG_EV_FLAGS, "10.0.0.1", "10.0.0.2", 40000, 5432, 0x11);
	sg_flowlog_add_event(l.fl, &ev);
	c = tcp_conn(l.conf, 5, 3, 300, 180);
	sg_flowlog_add_conn(l.fl, &c, false);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 60, 120), 0);
	/* Window 3: the tracker deletes it with one more packet each way. */
	c = tcp_conn(l.conf, 6, 4, 340, 220);
	sg_flowlog_add_conn(l.fl, &c, true);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 120, 180), 0);
	lab_read(&l);

	r = line_of(&l, "a", SG_DIR_EGRESS, SG_ACTION_ACCEPT, "10.0.0.1", 0, 0);
	ck_assert_uint_eq(r->packets, 3);
	ck_assert_uint_eq(r->bytes, 180);
	ck_assert_uint_eq(r->tcp_flags, 2);
	ck_assert_uint_eq(r->sport, 40000);
	ck_assert_uint_eq(r->dport, 5432);
	ck_assert_int_eq(r->end, 60);
	expect_rule(r, "sg-a/1");
	r = line_of(&l, "b", SG_DIR_INGRESS, SG_ACTION_ACCEPT, "10.0.0.1", 0, 0);
	ck_assert_uint_eq(r->packets, 3);
	ck_assert_uint_eq(r->tcp_flags, 2);
	/* The normalised second rule of sg-b is the third as written. */
	expect_rule(r, "sg-b/3");
	r = line_of(&l, "b", SG_DIR_EGRESS, SG_ACTION_ACCEPT, "10.0.0.2", 0, 0);
	ck_assert_uint_eq(r->packets, 2);
	ck_assert_uint_eq(r->bytes, 120);
	ck_assert_uint_eq(r->tcp_flags, 18);
	ck_assert_uint_eq(r->sport, 5432);
	expect_rule(r, "sg-b/3");
	r = line_of(&l, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, "10.0.0.2", 0, 0);
	ck_assert_uint_eq(r->packets, 2);
	ck_assert_uint_eq(r->tcp_flags, 18);
	expect_rule(r, "sg-a/1");
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_OK, 0), 4);

	r = line_of(&l, "a", SG_DIR_EGRESS, SG_ACTION_ACCEPT, "10.0.0.1", 60, 0);
	ck_assert_uint_eq(r->packets, 2);
	ck_assert_uint_eq(r->bytes, 120);
	ck_assert_uint_eq(r->tcp_flags, 1);
	r = line_of(&l, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, "10.0.0.2", 60, 0);
	ck_assert_uint_eq(r->packets, 1);
	ck_assert_uint_eq(r->bytes, 60);
	ck_assert_uint_eq(r->tcp_flags, 0);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_OK, 60), 4);

	r = line_of(&l, "b", SG_DIR_INGRESS, SG_ACTION_ACCEPT, "10.0.0.1", 120, 0);
	ck_assert_uint_eq(r->packets, 1);
	ck_assert_uint_eq(r->bytes, 40);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_OK, 120), 4);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_NODATA, 0), 0);
	sg_flowlog_get_stats(l.fl, &st);
	ck_assert_uint_eq(st.conns, 0);
	ck_assert_uint_eq(st.conns_live, 2);
	ck_assert_uint_eq(st.conns_closed, 1);
	ck_assert_uint_eq(st.windows, 3);
	ck_assert_uint_eq(st.lines, 12);
	ck_assert_uint_eq(st.files, 1);
	lab_close(&l);
}
END_TEST

/* A connection opened and closed within one window (edge case 61), an ICMP query, and a
 * connection the walks stop seeing: forgotten after the second miss. */
START_TEST(test_short_flows_and_forgetting)
{
	struct lab l;
	struct sg_flowlog_conn c;
	struct sg_flowlog_event ev;
	const struct sg_flowlog_record *r;
	struct sg_flowlog_stats st;

	lab_open(&l, "", 4096, 1 << 20, 3600, SG_FLOWLOG_TEXT);
	ev = event(l.conf, SG_FLOWLOG_EV_FLAGS, "10.0.0.1", "10.0.0.2", 40000, 5432, 0x02);
	sg_flowlog_add_event(l.fl, &ev);
	ev = event(l.conf, SG_FLOWLOG_EV_FLAGS, "10.0.0.2", "10.0.0.1", 5432, 40000, 0x12);
	sg_flowlog_add_event(l.fl, &ev);
	ev = event(l.conf, SG_FLOWLOG_EV_FLAGS, "10.0.0.1", "10.0.0.2", 40000, 5432, 0x11);
	sg_flowlog_add_event(l.fl, &ev);
	ev = event(l.conf, SG_FLOWLOG_EV_FLAGS, "10.0.0.2", "10.0.0.1", 5432, 40000, 0x11);
	sg_flowlog_add_event(l.fl, &ev);
	c = tcp_conn(l.conf, 4, 3, 240, 180);
	sg_flowlog_add_conn(l.fl, &c, true);
	/* Echo request from a to b and its reply: type 8 out, type 0 back. */
	c = (struct sg_flowlog_conn){
		.family = SG_AF_INET, .proto = 1, .sport = 777, .dport = 8, .in_port = 10,
		.out_port = 11, .egress_rule = rule_id(l.conf, "default basic egress accept"),
		.ingress_rule = rule_id(l.conf, "sg-b rule 1"), .epoch = 1, .packets = {1, 1},
		.bytes = {84, 84},
	};
	c.src = ip("10.0.0.1");
	c.dst = ip("10.0.0.2");
	sg_flowlog_add_conn(l.fl, &c, true);
	/* A long connection seen by this walk only. */
	c = tcp_conn(l.conf, 1, 0, 60, 0);
	c.sport = 40001;
	c.dport = 5433;
	sg_flowlog_add_conn(l.fl, &c, false);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 0, 60), 0);
	lab_read(&l);
	r = line_of(&l, "a", SG_DIR_EGRESS, SG_ACTION_ACCEPT, "10.0.0.1", 0, 5432);
	ck_assert_uint_eq(r->packets, 4);
	ck_assert_uint_eq(r->tcp_flags, 3);
	r = line_of(&l, "b", SG_DIR_EGRESS, SG_ACTION_ACCEPT, "10.0.0.2", 0, 40000);
	ck_assert_uint_eq(r->tcp_flags, 19);
	ck_assert_uint_eq(r->sport, 5432);
	/* ICMP: only the lines of proto 1. */
	{
		unsigned int icmp = 0;

		for (unsigned int i = 0; i < l.n; i++) {
			if (l.recs[i].proto != 1)
				continue;
			icmp++;
			if (sg_ip_equal(&l.recs[i].src, &(struct sg_ip){SG_AF_INET, {10, 0, 0, 1}})) {
				ck_assert_uint_eq(l.recs[i].sport, 8);
			} else {
				ck_assert_uint_eq(l.recs[i].sport, 0);
			}
			ck_assert_uint_eq(l.recs[i].dport, 0);
			ck_assert_uint_eq(l.recs[i].bytes, 84);
			if (strcmp(l.recs[i].port, "a") == 0)
				expect_rule(&l.recs[i], "default-basic-egress");
			else
				expect_rule(&l.recs[i], "sg-b/1");
		}
		ck_assert_uint_eq(icmp, 4);
	}
	sg_flowlog_get_stats(l.fl, &st);
	ck_assert_uint_eq(st.conns, 1);
	/* Two windows without it in the walk: forgotten; a report after that counts from zero. */
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 60, 120), 0);
	sg_flowlog_get_stats(l.fl, &st);
	ck_assert_uint_eq(st.conns, 1);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 120, 180), 0);
	sg_flowlog_get_stats(l.fl, &st);
	ck_assert_uint_eq(st.conns, 0);
	/* NODATA for both VM ports (never the uplink) in the empty windows. */
	lab_read(&l);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_NODATA, 60), 2);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_OK, 60), 0);
	/* Fewer bytes than last reported: a new connection on the tuple, counted whole. */
	c = tcp_conn(l.conf, 10, 0, 600, 0);
	sg_flowlog_add_conn(l.fl, &c, false);
	c = tcp_conn(l.conf, 2, 0, 120, 0);
	sg_flowlog_add_conn(l.fl, &c, false);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 180, 240), 0);
	lab_read(&l);
	r = line_of(&l, "a", SG_DIR_EGRESS, SG_ACTION_ACCEPT, "10.0.0.1", 180, 0);
	ck_assert_uint_eq(r->packets, 12);
	ck_assert_uint_eq(r->bytes, 720);
	lab_close(&l);
}
END_TEST

/* Refused packets: an ingress refusal logs the sender's accept and the receiver's reject; an
 * egress refusal only the sender's reject; the uplink side logs nothing. */
START_TEST(test_rejects)
{
	struct lab l;
	struct sg_flowlog_event ev;
	const struct sg_flowlog_record *r;
	uint32_t deny_in;

	lab_open(&l, "", 4096, 1 << 20, 3600, SG_FLOWLOG_TEXT);
	deny_in = rule_id(l.conf, "default basic ingress drop");
	ev = event(l.conf, SG_FLOWLOG_EV_CHECK, "10.0.0.1", "10.0.0.2", 40000, 22, 0x02);
	ev.accepted = SG_FLOWLOG_EV_SENDER_ACCEPT;
	ev.receiver_rule = deny_in;
	sg_flowlog_add_event(l.fl, &ev);
	/* The same flow again: summed. */
	sg_flowlog_add_event(l.fl, &ev);
	/* Refused by the sender's egress (as if b's egress dropped it), then one from the uplink,
	 * which has no policy of its own. */
	ev = event(l.conf, SG_FLOWLOG_EV_CHECK, "10.0.0.2", "10.0.0.1", 50000, 80, 0x02);
	ev.accepted = 0;
	ev.sender_rule = rule_id(l.conf, "default basic egress accept");
	sg_flowlog_add_event(l.fl, &ev);
	ev = event(l.conf, SG_FLOWLOG_EV_CHECK, "192.0.2.1", "10.0.0.1", 1234, 3389, 0x02);
	ev.sender = 12;
	ev.sender_rule = SG_FLOWLOG_NO_RULE;
	ev.receiver = 10;
	ev.receiver_rule = deny_in;
	ev.accepted = 0;
	sg_flowlog_add_event(l.fl, &ev);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 0, 60), 0);
	lab_read(&l);
	r = line_of(&l, "a", SG_DIR_EGRESS, SG_ACTION_ACCEPT, "10.0.0.1", 0, 0);
	ck_assert_uint_eq(r->packets, 2);
	ck_assert_uint_eq(r->bytes, 120);
	ck_assert_uint_eq(r->tcp_flags, 2);
	expect_rule(r, "sg-a/1");
	r = line_of(&l, "b", SG_DIR_INGRESS, SG_ACTION_DROP, "10.0.0.1", 0, 0);
	ck_assert_uint_eq(r->packets, 2);
	ck_assert_uint_eq(r->dport, 22);
	expect_rule(r, "default-basic-ingress");
	/* Refused by b's egress (here the event says so): b's reject only, nothing at a. */
	r = line_of(&l, "b", SG_DIR_EGRESS, SG_ACTION_DROP, "10.0.0.2", 0, 0);
	ck_assert_uint_eq(r->packets, 1);
	r = line_of(&l, "a", SG_DIR_INGRESS, SG_ACTION_DROP, "192.0.2.1", 0, 0);
	ck_assert_uint_eq(r->dport, 3389);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_OK, 0), 4);
	lab_close(&l);
}
END_TEST

/* The writer in each format, read back by sg_flowlog_read(), which tells each file's format by
 * its first line: the same records (without the rule in cloud formats). */
START_TEST(test_writer_formats)
{
	struct sg_flowlog_record want[16];
	unsigned int n_want = 0;

	for (int f = 0; f < SG_FLOWLOG_FORMAT_COUNT; f++) {
		enum sg_flowlog_format format = (enum sg_flowlog_format)f;
		struct sg_flowlog_read_stats rs;
		struct sg_flowlog_event ev;
		struct sg_error err = {0};
		struct lab l;
		char path[256], first[256] = "";
		struct dirent **names;
		FILE *in;

		lab_open(&l, "", 4096, 1 << 20, 3600, format);
		ev = event(l.conf, SG_FLOWLOG_EV_CHECK, "10.0.0.1", "10.0.0.2", 40000, 22, 0x02);
		ev.accepted = SG_FLOWLOG_EV_SENDER_ACCEPT;
		ev.receiver_rule = rule_id(l.conf, "default basic ingress drop");
		sg_flowlog_add_event(l.fl, &ev);
		ev = event(l.conf, SG_FLOWLOG_EV_CHECK, "10.0.0.2", "10.0.0.1", 8, 0, 0);
		ev.proto = 1;
		ev.accepted = SG_FLOWLOG_EV_SENDER_ACCEPT;
		ev.receiver_rule = rule_id(l.conf, "default basic ingress drop");
		sg_flowlog_add_event(l.fl, &ev);
		sg_flowlog_add_port_lost(l.fl, 11, 3);
		ck_assert_int_eq(sg_flowlog_window_end(l.fl, 0, 60), 0);
		ck_assert_int_eq(sg_flowlog_window_end(l.fl, 60, 120), 0); /* NODATA */
		l.n = 0;
		ck_assert_msg(sg_flowlog_read_with(l.dir, NULL, collect, &l, &rs, &err) == 0, "%s",
				err.msg);
		ck_assert_uint_eq(rs.files, 1);
		ck_assert_uint_eq(rs.files_by_format[format], 1);
		ck_assert_uint_eq(rs.bad_lines, 0);
		ck_assert_int_eq(scandir(l.dir, &names, NULL, alphasort), 3);
		snprintf(path, sizeof(path), "%s/%s", l.dir, names[2]->d_name);
		for (int i = 0; i < 3; i++)
			free(names[i]);
		free(names);
		ck_assert_ptr_nonnull(in = fopen(path, "r"));
		ck_assert_ptr_nonnull(fgets(first, sizeof(first), in));
		fclose(in);
		if (format == SG_FLOWLOG_JSON) {
			ck_assert_int_eq(first[0], '{');
		} else {
			first[strcspn(first, "\n")] = '\0';
			ck_assert_str_eq(first, sg_flowlog_header(format));
		}
		if (format == SG_FLOWLOG_TEXT) {
			/* a egress ACCEPT x2 (TCP, ICMP), b ingress REJECT x2, b SKIPDATA, NODATA a, b. */
			ck_assert_uint_eq(l.n, 7);
			memcpy(want, l.recs, l.n * sizeof(want[0]));
			n_want = l.n;
		}
		ck_assert_uint_eq(l.n, n_want);
		for (unsigned int i = 0; i < l.n; i++) {
			struct sg_flowlog_record w = format >= SG_FLOWLOG_ALIBABA ?
							     cloud_view(&want[i], format) :
							     want[i];

			same_record(&w, &l.recs[i]);
			ck_assert_int_eq(l.recs[i].format, format);
		}
		lab_close(&l);
	}
}
END_TEST

/* Per-port and per-group selection: what a port does not log never appears. */
START_TEST(test_selection)
{
	struct lab l;
	struct sg_flowlog_event ev;
	struct sg_flowlog_conn c;

	lab_open(&l, "groups = ( { id = \"sg-b\"; traffic = \"reject\"; } );", 4096, 1 << 20, 3600,
			SG_FLOWLOG_TEXT);
	ev = event(l.conf, SG_FLOWLOG_EV_CHECK, "10.0.0.1", "10.0.0.2", 40000, 22, 0x02);
	ev.accepted = SG_FLOWLOG_EV_SENDER_ACCEPT;
	sg_flowlog_add_event(l.fl, &ev);
	c = tcp_conn(l.conf, 3, 2, 180, 120);
	sg_flowlog_add_conn(l.fl, &c, true);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 0, 60), 0);
	lab_read(&l);
	/* a logs all: its accept of the refused packet and both directions of the connection. */
	line_of(&l, "a", SG_DIR_EGRESS, SG_ACTION_ACCEPT, "10.0.0.1", 0, 22);
	line_of(&l, "a", SG_DIR_EGRESS, SG_ACTION_ACCEPT, "10.0.0.1", 0, 5432);
	line_of(&l, "a", SG_DIR_INGRESS, SG_ACTION_ACCEPT, "10.0.0.2", 0, 0);
	/* b logs rejects only. */
	line_of(&l, "b", SG_DIR_INGRESS, SG_ACTION_DROP, "10.0.0.1", 0, 0);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_OK, 0), 4);
	lab_close(&l);

	lab_open(&l, "ports = ( { name = \"b\"; traffic = \"none\"; } );", 4096, 1 << 20, 3600,
			SG_FLOWLOG_TEXT);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 0, 60), 0);
	lab_read(&l);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_NODATA, 0), 1);
	ck_assert_str_eq(l.recs[0].port, "a");
	lab_close(&l);
}
END_TEST

/* A full window table and records lost upstream become SKIPDATA lines with the counts: the
 * lines a's flood could not have are a's, the unattributed loss has no port. */
START_TEST(test_limits)
{
	struct lab l;
	struct sg_flowlog_stats st;
	unsigned int skip = 0;

	lab_open(&l, "", 4, 1 << 20, 3600, SG_FLOWLOG_TEXT);
	for (uint16_t i = 0; i < 6; i++) {
		struct sg_flowlog_event ev =
			event(l.conf, SG_FLOWLOG_EV_CHECK, "10.0.0.1", "10.0.0.2", 1000 + i, 22, 0x02);

		ev.accepted = 0;
		sg_flowlog_add_event(l.fl, &ev);
	}
	sg_flowlog_add_lost(l.fl, 3);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 0, 60), 0);
	lab_read(&l);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_OK, 0), 4);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_SKIPDATA, 0), 2);
	for (unsigned int i = 0; i < l.n; i++) {
		if (l.recs[i].status != SG_FLOWLOG_SKIPDATA)
			continue;
		skip++;
		ck_assert_uint_eq(l.recs[i].packets, l.recs[i].port[0] != '\0' ? 2 : 3);
		if (l.recs[i].port[0] != '\0')
			ck_assert_str_eq(l.recs[i].port, "a");
	}
	ck_assert_uint_eq(skip, 2);
	sg_flowlog_get_stats(l.fl, &st);
	/* One port alone: its share (the whole table here) ends before the table does. */
	ck_assert_uint_eq(st.port_capped, 2);
	ck_assert_uint_eq(st.lost, 3);
	ck_assert_uint_eq(st.port_lost, 2);
	/* The next window starts empty. */
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 60, 120), 0);
	lab_read(&l);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_SKIPDATA, 60), 0);
	lab_close(&l);
}
END_TEST

/* One port's flood of distinct flows takes its share of the window's lines, not the others':
 * b's lines are all there, a's excess is its own SKIPDATA line, and losses reported upstream
 * for a port (a full ring) land in that port's line. */
START_TEST(test_port_share)
{
	struct lab l;
	struct sg_flowlog_stats st;

	lab_port_max_flows = 3;
	lab_open(&l, "", 16, 1 << 20, 3600, SG_FLOWLOG_TEXT);
	lab_port_max_flows = 0;
	for (uint16_t i = 0; i < 6; i++) {
		struct sg_flowlog_event ev =
			event(l.conf, SG_FLOWLOG_EV_CHECK, "10.0.0.1", "10.0.0.2", 1000 + i, 22, 0x02);

		ev.accepted = 0;
		sg_flowlog_add_event(l.fl, &ev);
	}
	for (uint16_t i = 0; i < 2; i++) {
		struct sg_flowlog_event ev =
			event(l.conf, SG_FLOWLOG_EV_CHECK, "10.0.0.2", "10.0.0.1", 2000 + i, 22, 0x02);

		ev.accepted = 0;
		sg_flowlog_add_event(l.fl, &ev);
	}
	sg_flowlog_add_port_lost(l.fl, 11, 5);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 0, 60), 0);
	lab_read(&l);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_OK, 0), 5);
	ck_assert_uint_eq(count_lines(&l, SG_FLOWLOG_SKIPDATA, 0), 2);
	for (unsigned int i = 0; i < l.n; i++) {
		const struct sg_flowlog_record *r = &l.recs[i];

		if (r->status == SG_FLOWLOG_SKIPDATA)
			ck_assert_uint_eq(r->packets, strcmp(r->port, "a") == 0 ? 3 : 5);
	}
	{
		unsigned int b_lines = 0;

		for (unsigned int i = 0; i < l.n; i++)
			b_lines += l.recs[i].status == SG_FLOWLOG_OK && strcmp(l.recs[i].port, "b") == 0 &&
				   l.recs[i].action == SG_ACTION_DROP;
		ck_assert_uint_eq(b_lines, 2);
	}
	sg_flowlog_get_stats(l.fl, &st);
	ck_assert_uint_eq(st.port_capped, 3);
	ck_assert_uint_eq(st.flows_dropped, 0);
	ck_assert_uint_eq(st.port_lost, 8);
	lab_close(&l);
}
END_TEST

/* Reports of an older epoch keep that epoch's names: a reload that moves rule ids does not
 * relabel traffic admitted before it. */
START_TEST(test_epochs)
{
	static const char reordered[] =
		"security_groups = ( { id = \"sg-0\"; rules = (\n"
		"    { direction = \"egress\"; policy = \"drop\"; protocol = \"udp\";\n"
		"      port_range = \"53/53\"; dest_cidr = \"10.0.0.0/8\"; } ); },\n"
		"  { id = \"sg-a\"; }, { id = \"sg-b\"; } );\n"
		"ports = (\n"
		"  { name = \"a\"; type = \"null\"; mac = \"52:54:00:00:00:01\"; ips = [\"10.0.0.1\"];\n"
		"    security_groups = [\"sg-a\"]; },\n"
		"  { name = \"b\"; type = \"null\"; mac = \"52:54:00:00:00:02\"; ips = [\"10.0.0.2\"];\n"
		"    security_groups = [\"sg-b\", \"sg-0\"]; }\n"
		");\n"
		"flow_logs = { enabled = true; };\n";
	static const uint16_t ids2[] = {10, 11};
	struct sg_error err = {0};
	struct sg_conf *conf2 = sg_conf_load_string(reordered, "two.conf", &err);
	struct sg_flowlog_conn c;
	struct lab l;

	ck_assert_msg(conf2 != NULL, "%s", err.msg);
	lab_open(&l, "", 4096, 1 << 20, 3600, SG_FLOWLOG_TEXT);
	ck_assert_int_eq(sg_flowlog_set_epoch(l.fl, 2, conf2, ids2), 0);
	/* Epoch 1's rule 0 is sg-a rule 1; in epoch 2 id 0 is sg-0 rule 1. */
	c = tcp_conn(l.conf, 1, 1, 60, 60);
	ck_assert_uint_eq(c.egress_rule, 0);
	sg_flowlog_add_conn(l.fl, &c, true);
	c.sport = 40001;
	c.epoch = 2;
	sg_flowlog_add_conn(l.fl, &c, true);
	ck_assert_int_eq(sg_flowlog_window_end(l.fl, 0, 60), 0);
	lab_read(&l);
	for (unsigned int i = 0; i < l.n; i++) {
		const struct sg_flowlog_record *r = &l.recs[i];

		if (r->status != SG_FLOWLOG_OK || strcmp(r->port, "a") != 0 || r->dir != SG_DIR_EGRESS)
			continue;
		expect_rule(r, r->sport == 40000 ? "sg-a/1" : "sg-0/1");
	}
	sg_conf_free(conf2);
	lab_close(&l);
}
END_TEST

static unsigned int
count_files(const char *dir, const char *ext)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	unsigned int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "sgfw-flows-", 11) == 0 && strstr(e->d_name, ext) != NULL;
	closedir(d);
	return n;
}

/* Files rotate by size (after the window that reaches it) and by age; JSON lines too. */
START_TEST(test_rotation)
{
	struct lab l;
	struct sg_flowlog_read_stats rs;
	struct sg_error err = {0};

	/* 1 byte: every window closes its file. */
	lab_open(&l, "", 4096, 1, 3600, SG_FLOWLOG_TEXT);
	for (int w = 0; w < 3; w++)
		ck_assert_int_eq(sg_flowlog_window_end(l.fl, w * 60, w * 60 + 60), 0);
	ck_assert_uint_eq(count_files(l.dir, ".log"), 3);
	ck_assert_str_eq(sg_flowlog_current_file(l.fl), "");
	lab_close(&l);

	/* Age 120 s with 60 s windows: windows ending at 60 and 120 share a file. */
	lab_open(&l, "", 4096, 1 << 20, 120, SG_FLOWLOG_JSON);
	for (int w = 0; w < 5; w++)
		ck_assert_int_eq(sg_flowlog_window_end(l.fl, w * 60, w * 60 + 60), 0);
	ck_assert_uint_eq(count_files(l.dir, ".jsonl"), 3);
	ck_assert_ptr_nonnull(strstr(sg_flowlog_current_file(l.fl), "sgfw-flows-19700101T000400Z"));
	/* Read back in time order: 5 windows x 2 NODATA lines. */
	lab_read(&l);
	ck_assert_uint_eq(l.n, 10);
	for (unsigned int i = 1; i < l.n; i++)
		ck_assert_int_le(l.recs[i - 1].start, l.recs[i].start);
	/* A cut last line is skipped and counted; other files in the directory are ignored. */
	{
		char path[256];
		FILE *f;

		snprintf(path, sizeof(path), "%s/sgfw-flows-19700101T000500Z.jsonl", l.dir);
		f = fopen(path, "w");
		fputs("{\"version\":1,\"port\":\"a\",\"start\":300,\"end\":360,\"log_status\":\"NODATA\"}\n"
		      "{\"version\":1,\"port\":\"a\",\"sta", f);
		fclose(f);
		snprintf(path, sizeof(path), "%s/notes.txt", l.dir);
		f = fopen(path, "w");
		fputs("not a log\n", f);
		fclose(f);
	}
	ck_assert_int_eq(sg_flowlog_read(l.dir, NULL, NULL, &rs, &err), 0);
	ck_assert_uint_eq(rs.files, 4);
	ck_assert_uint_eq(rs.records, 11);
	ck_assert_uint_eq(rs.bad_lines, 1);
	ck_assert_ptr_nonnull(strstr(rs.first_bad, "sgfw-flows-19700101T000500Z.jsonl:2:"));
	ck_assert_int_eq(rs.first_start, 0);
	ck_assert_int_eq(rs.last_end, 360);
	lab_close(&l);

	/* Nothing to read. */
	ck_assert_int_lt(sg_flowlog_read("/nonexistent/sgfw-flw", NULL, NULL, NULL, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/sgfw-flw"));
}
END_TEST

/* Flow logs name a rule by its config position: sg-b's second compiled rule is its third as
 * written (the second repeats the first, D2), and there is no third. */
START_TEST(test_rule_position)
{
	struct sg_conf *conf = lab_load("");
	const struct sg_group *b = &conf->spec->groups[sg_spec_find_group(conf->spec, "sg-b")];
	uint32_t kept[8];

	ck_assert_uint_le(b->n_rules, 8);
	ck_assert_int_eq(sg_group_unique_rules(b, kept), 2);
	ck_assert_uint_eq(kept[0], 0);
	ck_assert_uint_eq(kept[1], 2);
	sg_conf_free(conf);
}
END_TEST

static double
seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What one event costs the writer thread: reported (docs/flowlogs.md), not asserted. The flows
 * are all distinct, as in a scan, the worst case for the window's table. The second window is
 * the one reported: the first also pays for the kernel mapping the tables' pages. */
START_TEST(test_writer_cost_report)
{
	const uint32_t n = 100000;
	struct sg_flowlog_stats st;
	struct sg_flowlog_event ev;
	struct lab l;
	double t0 = 0, t1 = 0, t2 = 0;

	lab_open(&l, "", 2 * n + 16, 1ull << 30, 3600, SG_FLOWLOG_TEXT);
	ev = event(l.conf, SG_FLOWLOG_EV_CHECK, "10.0.0.1", "10.0.0.2", 0, 0, 0x02);
	ev.accepted = SG_FLOWLOG_EV_SENDER_ACCEPT;
	for (int w = 0; w < 2; w++) {
		t0 = seconds_now();
		for (uint32_t i = 0; i < n; i++) {
			ev.sport = (uint16_t)(1024 + i % 60000);
			ev.dport = (uint16_t)(22 + i / 60000);
			sg_flowlog_add_event(l.fl, &ev);
		}
		t1 = seconds_now();
		ck_assert_int_eq(sg_flowlog_window_end(l.fl, w * 60, w * 60 + 60), 0);
		t2 = seconds_now();
	}
	sg_flowlog_get_stats(l.fl, &st);
	ck_assert_uint_eq(st.lines, 4 * n);
	printf("writer: %u refused-packet events (2 lines each) aggregated in %.0f ns each; the "
	       "window's %u lines sorted and written in %.0f ns each\n",
			n, (t1 - t0) * 1e9 / n, 2 * n, (t2 - t1) * 1e9 / (2 * n));
	lab_close(&l);
}
END_TEST

static Suite *
flowlog_suite(void)
{
	Suite *s = suite_create("flowlog");
	TCase *tc = tcase_create("records");

	tcase_add_test(tc, test_text_line);
	tcase_add_test(tc, test_json_line);
	tcase_add_test(tc, test_record_variants);
	tcase_add_loop_test(tc, test_bad_lines, 0, SG_ARRAY_SIZE(bad_lines));
	tcase_add_test(tc, test_skipped_lines);
	tcase_add_test(tc, test_rule_labels);
	tcase_add_test(tc, test_rule_position);
	tcase_add_test(tc, test_cloud_lines);
	tcase_add_test(tc, test_cloud_exports);
	tcase_add_loop_test(tc, test_cloud_bad_lines, 0, SG_ARRAY_SIZE(bad_cloud));
	suite_add_tcase(s, tc);

	tc = tcase_create("aggregation");
	/* The cost report moves 200,000 events through big tables on a shared machine. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_connection_windows);
	tcase_add_test(tc, test_short_flows_and_forgetting);
	tcase_add_test(tc, test_rejects);
	tcase_add_test(tc, test_writer_formats);
	tcase_add_test(tc, test_selection);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_port_share);
	tcase_add_test(tc, test_epochs);
	tcase_add_test(tc, test_rotation);
	tcase_add_test(tc, test_writer_cost_report);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(flowlog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
