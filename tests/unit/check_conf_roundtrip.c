/* SPDX-License-Identifier: BSD-3-Clause */
/* Property tests: nothing an operator writes is lost or silently changed.
 *
 *  - Every config of the project (config/, every *.conf under tests/, the fuzz corpora of the
 *    config targets) and a generated one that sets every field of every section to something
 *    other than its default: load, write (sg_conf_write, what save and control.persist write),
 *    load again gives the same configuration, compared whole with sg_conf_diff(); writing it
 *    again gives the same text.
 *  - Every kind of online change, made on the generated config, changes only what it names:
 *    every difference sg_conf_diff() finds is under the paths the change may touch, and the
 *    changed config round-trips too.
 *
 * Adding a config field: set it to a value other than its default in tests/unit/all-sections.conf
 * (and write it in lib/conf/conf_write.c); docs/testing.md says more.
 */
#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sg_conf.h"
#include "sg_ctl.h"

#ifndef SG_SOURCE_ROOT
#error "meson passes SG_SOURCE_ROOT"
#endif

#define ALL_SECTIONS SG_SOURCE_ROOT "/tests/unit/all-sections.conf"

/* tests/unit/all-sections.conf: every field of every section, none at its default. */
static char *all_sections_text;

static void
read_all_sections(void)
{
	size_t len = 0;
	FILE *f = fopen(ALL_SECTIONS, "r"), *m = open_memstream(&all_sections_text, &len);
	int c;

	ck_assert_msg(f != NULL && m != NULL, "cannot read %s", ALL_SECTIONS);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
}

static void
free_all_sections(void)
{
	free(all_sections_text);
}

/* ---- Helpers ---- */

struct diffs {
	char list[2048];
	int n;
};

static void
note_diff(void *arg, const char *what)
{
	struct diffs *d = arg;
	size_t used = strlen(d->list);

	snprintf(d->list + used, sizeof(d->list) - used, "%s%s", d->n++ ? ", " : "", what);
}

static char *
written(const struct sg_conf *conf)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(sg_conf_write(conf, out), 0);
	fclose(out);
	return text;
}

/* Load, write, load: the same configuration, and the same text when written again. */
static void
expect_round_trip(const char *name, const struct sg_conf *conf)
{
	char *first = written(conf), *second;
	struct sg_error err = {0};
	struct diffs d = {.n = 0};
	struct sg_conf *again = sg_conf_load_string(first, "written.conf", &err);

	if (again == NULL)
		fprintf(stderr, "%s\n", first);
	ck_assert_msg(again != NULL, "%s: the written config does not load: %s", name, err.msg);
	sg_conf_diff(conf, again, note_diff, &d);
	if (d.n != 0)
		fprintf(stderr, "%s\n", first);
	ck_assert_msg(d.n == 0, "%s: written and loaded again, it differs in: %.1000s", name, d.list);
	second = written(again);
	if (strcmp(first, second) != 0)
		fprintf(stderr, "%s\n----\n%s\n", first, second);
	ck_assert_msg(strcmp(first, second) == 0, "%s: written twice, two texts", name);
	free(first);
	free(second);
	sg_conf_free(again);
}

static struct sg_conf *
load_text(const char *text)
{
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_string(text, "all-sections.conf", &err);

	ck_assert_msg(conf != NULL, "%s", err.msg);
	return conf;
}

/* ---- Every config of the project ---- */

struct walk {
	int loaded;
	int refused;
};

static void
round_trip_file(struct walk *w, const char *path, bool must_load)
{
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_file(path, &err);

	if (conf == NULL) {
		ck_assert_msg(!must_load, "%s does not load: %s", path, err.msg);
		w->refused++;
		return;
	}
	expect_round_trip(path, conf);
	sg_conf_free(conf);
	w->loaded++;
}

/* *.conf under 'dir', and every file of a fuzz corpus of configs, however named. */
static void
walk_dir(struct walk *w, const char *dir, bool corpus)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_msg(d != NULL, "cannot read %s", dir);
	while ((e = readdir(d)) != NULL) {
		char path[1024];
		size_t len = strlen(e->d_name);
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			bool conf_corpus = strcmp(e->d_name, "conf") == 0 ||
					   strcmp(e->d_name, "roundtrip") == 0;

			walk_dir(w, path, corpus || (conf_corpus && strstr(dir, "corpus") != NULL));
		} else if (corpus) {
			round_trip_file(w, path, false);
		} else if (len > 5 && strcmp(e->d_name + len - 5, ".conf") == 0) {
			round_trip_file(w, path, true);
		}
	}
	closedir(d);
}

START_TEST(test_project_configs)
{
	struct walk w = {0};

	walk_dir(&w, SG_SOURCE_ROOT "/config", false);
	walk_dir(&w, SG_SOURCE_ROOT "/tests", false);
	/* config/ has 3, tests/ 5 (all-sections.conf, the pipeline's two, the Alibaba vocabulary
	 * pair), the conf corpus 7 (the seeds of the round-trip fuzz target too). */
	ck_assert_msg(w.loaded >= 12, "only %d configs found", w.loaded);
	printf("round trip: %d configs, %d corpus files that are not configs\n", w.loaded, w.refused);
}
END_TEST

/* A config written in Alibaba Cloud's names and values (docs/config.md) round-trips, is
 * written in sgfw's names, and is the same configuration as its twin in sgfw's vocabulary. */
START_TEST(test_alibaba_vocabulary)
{
	struct sg_error err = {0};
	struct sg_conf *ali = sg_conf_load_file(
			SG_SOURCE_ROOT "/tests/data/alibaba/vocabulary-alibaba.conf", &err);
	struct sg_conf *sg = sg_conf_load_file(
			SG_SOURCE_ROOT "/tests/data/alibaba/vocabulary-sgfw.conf", &err);
	struct diffs d = {.n = 0};
	char *text;

	ck_assert_msg(ali != NULL && sg != NULL, "%s", err.msg);
	expect_round_trip("vocabulary-alibaba.conf", ali);
	expect_round_trip("vocabulary-sgfw.conf", sg);
	sg_conf_diff(ali, sg, note_diff, &d);
	ck_assert_msg(d.n == 0, "the two vocabularies differ:%s", d.list);
	text = written(ali);
	ck_assert_msg(strstr(text, "IpProtocol") == NULL && strstr(text, "CidrIp") == NULL &&
					strstr(text, "\"Accept\"") == NULL &&
					strstr(text, "SecurityGroup") == NULL,
			"written with Alibaba's names:\n%s", text);
	free(text);
	sg_conf_free(ali);
	sg_conf_free(sg);
}
END_TEST

/* ---- The generated config with every section ---- */

START_TEST(test_all_sections)
{
	static const char *const sections[] = {
		"spec.limits", "spec.groups", "spec.ports", "spec.prefix_lists", "ports", "subnets",
		"dataplane", "conntrack", "flow_logs", "logging", "router, control or vhost_user",
		"hosts", "host", "overlay",
	};
	struct sg_conf *conf = load_text(all_sections_text), *empty = load_text("");
	struct diffs d = {.n = 0};

	expect_round_trip("all sections", conf);
	/* It really sets every section (a section left at its defaults would hide a lost one). */
	sg_conf_diff(conf, empty, note_diff, &d);
	for (size_t i = 0; i < SG_ARRAY_SIZE(sections); i++)
		ck_assert_msg(strstr(d.list, sections[i]) != NULL,
				"the generated config leaves %s as in an empty one", sections[i]);
	ck_assert_str_eq(conf->spec->prefix_lists[0].description,
			"office \"HQ\"\n; } ); rules = ( { direction = \"egress\"; } ); # no");
	ck_assert_str_eq(conf->ports[0].description, "primary \"db\"\nsecond line");
	ck_assert_str_eq(conf->ports[6].description, "to the router");
	sg_conf_free(conf);
	sg_conf_free(empty);
}
END_TEST

/* Every flow_logs.format value is written back as read (all-sections.conf has "json"). */
START_TEST(test_flow_log_formats)
{
	static const char *const names[] = {"text", "json", "alibaba", "aws-v5"};

	for (size_t i = 0; i < SG_ARRAY_SIZE(names); i++) {
		const char *at = strstr(all_sections_text, "format = \"json\";");
		char *text;
		struct sg_conf *conf;

		ck_assert_ptr_nonnull(at);
		ck_assert_int_gt(asprintf(&text, "%.*sformat = \"%s\";%s",
						 (int)(at - all_sections_text), all_sections_text,
						 names[i], at + strlen("format = \"json\";")),
				0);
		conf = load_text(text);
		ck_assert_int_eq(conf->flow_logs.format, (int)i);
		ck_assert_str_eq(sg_conf_flowlog_format_name(conf->flow_logs.format), names[i]);
		expect_round_trip(names[i], conf);
		sg_conf_free(conf);
		free(text);
	}
}
END_TEST

/* The comparison sees each kind of difference (it is what the properties rest on). */
START_TEST(test_diff_sees_changes)
{
	static const struct {
		const char *from, *to, *what;
	} edits[] = {
		{"window = 5;", "window = 6;", "flow_logs"},
		{"enabled = true;", "enabled = false;", "flow_logs"},
		{"{ name = \"web1\"; traffic = \"accept\"; }", "{ name = \"web1\"; traffic = \"all\"; }",
				"flow_logs.ports[0]"},
		{"capacity = 2048;", "capacity = 4096;", "conntrack"},
		{"udp = 45;", "udp = 46;", "conntrack"},
		{"\"512\"]", "\"513\"]", "dataplane.eal_args[2]"},
		{"burst = 16;", "burst = 17;", "dataplane"},
		{"metrics_port = 9464;", "metrics_port = 9465;", "router, control or vhost_user"},
		{"group = \"sgfw-ops\"", "group = \"sgfw-op\"", "router, control or vhost_user"},
		{"\"::1\"]", "\"::2\"]", "router, control or vhost_user"},
		{"02:00:00:00:00:aa", "02:00:00:00:00:ab", "router, control or vhost_user"},
		{"socket_mode = \"0660\";", "socket_mode = \"0666\";", "router, control or vhost_user"},
		{"socket_mode = \"0640\";", "socket_mode = \"0600\";", "ports[7]"},
		{"file_prefix = \"sgfw-rt\";", "file_prefix = \"sgfw-rt2\";", "dataplane"},
		{"\"lib.vhost.*:error\"", "\"lib.vhost.*:debug\"", "logging"},
		{"gateway = \"10.2.0.1\"", "gateway = \"10.2.0.2\"", "subnets[1]"},
		{"queues = 4;", "queues = 3;", "ports[0]"},
		{"to the router", "to the routers", "ports[6]"},
		{"rules_per_port = 2000;", "rules_per_port = 2001;", "spec.limits"},
		{"priority = 100;", "priority = 99;", "spec.groups[0].rules[1]"},
		{"\"tier:data\"", "\"tier:date\"", "spec.groups[0].tags[1]"},
		{"\"rack:1\"", "\"rack:2\"", "spec.ports[1].tags[0]"},
		{"\"10.1.0.12\"", "\"10.1.0.13\"", "spec.ports[1].ips[0]"},
		{"\"198.51.100.0/25\"", "\"198.51.100.0/26\"", "spec.prefix_lists[0].entries[1]"},
		{"description = \"enterprise\"", "description = \"Enterprise\"", "spec.groups[2] (sg-ent)"},
		{"vni = 4242;", "vni = 4243;", "subnets[1]"},
		{"vtep = \"192.0.2.2\"", "vtep = \"192.0.2.3\"", "hosts[1]"},
		{"mtu = 9000;", "mtu = 9001;", "overlay"},
		{"iface = \"veth9\";", "iface = \"veth9\"; host = \"hv1\";", "ports[1]"},
	};
	struct sg_conf *conf = load_text(all_sections_text);

	for (size_t i = 0; i < SG_ARRAY_SIZE(edits); i++) {
		char text[16384];
		const char *at = strstr(all_sections_text, edits[i].from);
		struct diffs d = {.n = 0};
		struct sg_conf *other;

		ck_assert_msg(at != NULL, "test bug: no \"%s\"", edits[i].from);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - all_sections_text),
				all_sections_text, edits[i].to, at + strlen(edits[i].from));
		other = load_text(text);
		sg_conf_diff(conf, other, note_diff, &d);
		ck_assert_msg(d.n == 1 && strcmp(d.list, edits[i].what) == 0,
				"%s -> %s: differences \"%s\", want \"%s\"", edits[i].from, edits[i].to,
				d.list, edits[i].what);
		sg_conf_free(other);
	}
	sg_conf_free(conf);
}
END_TEST

/* ---- Online changes change only what they name ---- */

static const struct {
	const char *command;
	const char *may_change[3]; /* path prefixes of what it may change */
} changes[] = {
	{"group create sg-new type=basic description=new tags=t:x", {"spec.groups"}},
	{"group delete sg-spare", {"spec.groups"}},
	{"group set sg-db description=changed inner_access_policy=accept", {"spec.groups[0] "}},
	{"group tag sg-db add extra:tag", {"spec.groups[0].tags"}},
	{"group tag sg-db remove tier:data", {"spec.groups[0].tags"}},
	{"rule add sg-db direction=ingress protocol=tcp port_range=80/80 source_cidr=10.9.0.0/16",
			{"spec.groups[0].rules"}},
	{"rule remove sg-db 2", {"spec.groups[0].rules"}},
	{"rule replace sg-db 1 direction=ingress protocol=udp port_range=53/53 source_cidr=10.0.0.0/8",
			{"spec.groups[0].rules[0]"}},
	{"port attach db2 sg-spare", {"spec.ports[1].security_groups"}},
	{"port detach db2 sg-web", {"spec.ports[1].security_groups"}},
	{"port tag db1 add tier:web", {"spec.ports[0].tags"}},
	{"port tag db2 remove rack:1", {"spec.ports[1].tags"}},
	{"port add name=new1 type=null mac=52:54:00:09:00:01 ips=10.1.0.50 security_groups=sg-web "
	 "description=booted",
			{"ports", "spec.ports"}},
	{"port add name=new2 type=null mac=52:54:00:09:00:02 ips=10.2.0.50 "
	 "allowed_prefixes=10.2.0.64/27,fd00:1::2:0/112 security_groups=sg-web",
			{"ports", "spec.ports"}},
	{"port remove nic", {"ports", "spec.ports"}},
	{"attach-by-tag cluster:pg sg-web", {"spec.groups[1].tags"}},
};

START_TEST(test_online_changes)
{
	struct sg_conf *base = load_text(all_sections_text), *result = NULL;
	char *words[32], *line = strdup(changes[_i].command), *save = NULL;
	char out[1024] = "", errors[1024] = "";
	FILE *o = fmemopen(out, sizeof(out), "w"), *e = fmemopen(errors, sizeof(errors), "w");
	struct sg_ctl_ctx ctx = {.conf = base, .out = o, .err = e};
	struct diffs d = {.n = 0};
	int n = 0, rc;

	for (char *w = strtok_r(line, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	rc = sg_ctl_change(&ctx, n, words, &result);
	fclose(o);
	fclose(e);
	ck_assert_msg(rc == SG_CTL_EXIT_OK && result != NULL, "%s: %s", changes[_i].command, errors);
	sg_conf_diff(base, result, note_diff, &d);
	ck_assert_msg(d.n > 0, "%s changed nothing", changes[_i].command);
	for (char *save2 = NULL, *what = strtok_r(d.list, ",", &save2); what != NULL;
			what = strtok_r(NULL, ",", &save2)) {
		bool allowed = false;

		what += *what == ' ';
		for (size_t k = 0; k < 3 && changes[_i].may_change[k] != NULL; k++)
			allowed |= strncmp(what, changes[_i].may_change[k],
						   strlen(changes[_i].may_change[k])) == 0;
		ck_assert_msg(allowed, "%s changed %s", changes[_i].command, what);
	}
	expect_round_trip(changes[_i].command, result);
	/* Flow logs in particular stay as they were (a change once turned them off). */
	ck_assert(result->flow_logs.enabled);
	ck_assert_uint_eq(result->flow_logs.window, 5);
	sg_conf_free(result);
	sg_conf_free(base);
	free(line);
}
END_TEST

/* The line of 'text' holding 'what'. */
static int
line_of(const char *text, const char *what)
{
	const char *at = strstr(text, what);
	int line = 1;

	ck_assert_ptr_nonnull(at);
	for (const char *c = text; c < at; c++)
		line += *c == '\n';
	return line;
}

/* A change that would leave flow_logs naming what no longer exists is refused. */
START_TEST(test_change_refused_for_flow_logs)
{
	struct sg_conf *base = load_text(all_sections_text), *result = (struct sg_conf *)1;
	char cmd[] = "port remove web1", *words[3] = {cmd, cmd + 5, cmd + 12};
	char out[512] = "", errors[512] = "", want[512];
	FILE *o = fmemopen(out, sizeof(out), "w"), *e = fmemopen(errors, sizeof(errors), "w");
	struct sg_ctl_ctx ctx = {.conf = base, .out = o, .err = e};

	cmd[4] = cmd[11] = '\0';
	ck_assert_int_eq(sg_ctl_change(&ctx, 3, words, &result), SG_CTL_EXIT_FAIL);
	fclose(o);
	fclose(e);
	ck_assert_ptr_null(result);
	snprintf(want, sizeof(want), "error: port \"web1\" is named in flow_logs.ports (line %d); "
				     "remove it there first (edit the config and reload) (nothing changed)\n",
			line_of(all_sections_text, "{ name = \"web1\"; traffic"));
	ck_assert_str_eq(errors, want);
	sg_conf_free(base);
}
END_TEST

static Suite *
roundtrip_suite(void)
{
	Suite *s = suite_create("conf_roundtrip");
	TCase *tc = tcase_create("round trip");

	tcase_add_unchecked_fixture(tc, read_all_sections, free_all_sections);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_project_configs);
	tcase_add_test(tc, test_all_sections);
	tcase_add_test(tc, test_alibaba_vocabulary);
	tcase_add_test(tc, test_flow_log_formats);
	tcase_add_test(tc, test_diff_sees_changes);
	suite_add_tcase(s, tc);
	tc = tcase_create("changes");
	tcase_add_unchecked_fixture(tc, read_all_sections, free_all_sections);
	tcase_add_loop_test(tc, test_online_changes, 0, SG_ARRAY_SIZE(changes));
	tcase_add_test(tc, test_change_refused_for_flow_logs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *runner = srunner_create(roundtrip_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed != 0;
}
