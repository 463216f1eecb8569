/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/cluster without etcd: etcd's JSON values turned into a config (errors naming the key and
 * field), the watch stream's lines across any chunking, compaction, the txn body, and the keys
 * a change writes. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sg_cluster.h"

#define P "/sgfw/v1/"

static void
set(struct sg_cluster_fleet *f, const char *key, const char *value, int64_t rev)
{
	struct sg_error err = {0};

	ck_assert_msg(sg_cluster_fleet_set(f, key, value, strlen(value), rev, &err) >= 0, "%s: %s",
			key, err.msg);
}

static struct sg_cluster_fleet *
sample(void)
{
	struct sg_cluster_fleet *f = sg_cluster_fleet_create(P);

	set(f, P "groups/sg-web",
			"{\"description\":\"web\",\"rules\":[{\"direction\":\"ingress\","
			"\"protocol\":\"tcp\",\"port_range\":\"80/80\",\"source_cidr\":\"0.0.0.0/0\"}]}",
			2);
	set(f, P "groups/sg-db", "{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"tcp\","
				 "\"port_range\":\"5432/5432\",\"source_group\":\"sg-web\"}]}",
			3);
	set(f, P "subnets/a", "{\"cidr\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\"}", 4);
	set(f, P "ports/vm1", "{\"type\":\"null\",\"mac\":\"52:54:00:00:00:01\",\"ips\":"
			      "[\"10.0.0.11\"],\"security_groups\":[\"sg-web\"]}",
			5);
	set(f, P "ports/vm2", "{\"type\":\"null\",\"mac\":\"52:54:00:00:00:02\",\"ips\":"
			      "[\"10.0.0.12\"],\"security_groups\":[\"sg-db\"]}",
			6);
	/* Presence and the epoch are not policy. */
	set(f, P "nodes/hv1", "{\"applied_revision\":6}", 7);
	set(f, P "epoch", "{}", 8);
	return f;
}

START_TEST(test_build)
{
	struct sg_cluster_fleet *f = sample();
	struct sg_error err = {0};
	struct sg_conf *conf = sg_cluster_fleet_build(f, NULL, &err);

	ck_assert_msg(conf != NULL, "%s", err.msg);
	ck_assert_uint_eq(sg_cluster_fleet_count(f), 5);
	ck_assert_uint_eq(conf->spec->n_groups, 2);
	ck_assert_uint_eq(conf->n_ports, 2);
	ck_assert_uint_eq(conf->n_subnets, 1);
	ck_assert_int_ge(sg_spec_find_group(conf->spec, "sg-web"), 0);
	ck_assert_int_ge(sg_spec_find_port(conf->spec, "vm2"), 0);
	ck_assert_int_eq(sg_cluster_fleet_mod_revision(f, "ports/vm1"), 5);
	sg_conf_free(conf);
	sg_cluster_fleet_free(f);
}
END_TEST

static const struct {
	const char *key, *value, *msg;
} bad[] = {
	{P "groups/sg-bad",
			"{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"port_range\":"
			"\"22/22\",\"source_cidr\":\"0.0.0.0/0\"},{\"direction\":\"ingress\","
			"\"protocol\":\"tcp\",\"port_range\":\"99999/99999\",\"source_cidr\":"
			"\"0.0.0.0/0\"}]}",
			"etcd key /sgfw/v1/groups/sg-bad: rules[1].port_range: "},
	{P "groups/sg-x", "{\"rules\":[", "etcd key /sgfw/v1/groups/sg-x: not JSON"},
	{P "groups/sg-y", "[1]", "etcd key /sgfw/v1/groups/sg-y: the value must be a JSON object"},
	{P "groups/sg-z", "{\"id\":\"other\"}",
			"etcd key /sgfw/v1/groups/sg-z: id differs from the key's name \"sg-z\""},
	{P "widgets/w", "{}", "etcd key /sgfw/v1/widgets/w: not a key of layout v1"},
	{P "ports/vm3", "{\"type\":\"null\",\"mac\":\"52:54:00:00:00:03\",\"ips\":[\"10.9.0.1\"]}",
			"etcd key /sgfw/v1/ports/vm3: "},
	{P "groups/sg-f", "{\"rules\":[{\"priority\":1.5}]}",
			"etcd key /sgfw/v1/groups/sg-f: a number with a fraction"},
};

START_TEST(test_errors_name_the_key)
{
	struct sg_cluster_fleet *f = sample();
	struct sg_error err = {0};
	struct sg_conf *conf;

	sg_cluster_fleet_set(f, bad[_i].key, bad[_i].value, strlen(bad[_i].value), 9, &err);
	conf = sg_cluster_fleet_build(f, NULL, &err);
	ck_assert_ptr_null(conf);
	ck_assert_msg(strncmp(err.msg, bad[_i].msg, strlen(bad[_i].msg)) == 0, "got: %s", err.msg);
	/* Deleting the bad key makes the fleet whole again. */
	ck_assert_int_eq(sg_cluster_fleet_delete(f, bad[_i].key), 1);
	conf = sg_cluster_fleet_build(f, NULL, &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	sg_conf_free(conf);
	sg_cluster_fleet_free(f);
}
END_TEST

/* A node's local file: switch settings and its uplink only. */
START_TEST(test_local_file)
{
	char path[] = "/tmp/check_cluster_XXXXXX";
	int fd = mkstemp(path);
	const char *good = "cluster = { endpoints = [\"http://127.0.0.1:2379\"]; };\n"
			   "dataplane = { workers = 1; };\n"
			   "ports = ( { name = \"up\"; type = \"null\"; role = \"uplink\"; "
			   "peer_mac = \"02:00:00:00:00:fe\"; } );\n";
	struct sg_cluster_fleet *f = sample();
	struct sg_error err = {0};
	struct sg_conf *conf;
	FILE *out;

	ck_assert_int_ge(fd, 0);
	out = fdopen(fd, "w");
	fputs(good, out);
	fclose(out);
	conf = sg_cluster_fleet_build(f, path, &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	ck_assert_uint_eq(conf->n_ports, 3);
	ck_assert_uint_eq(conf->cluster.n_endpoints, 1);
	ck_assert_str_eq(conf->path, path);
	sg_conf_free(conf);
	/* A fleet section in the local file is refused, named. */
	out = fopen(path, "w");
	fprintf(out, "%ssecurity_groups = ( { id = \"sg-local\"; } );\n", good);
	fclose(out);
	ck_assert_ptr_null(sg_cluster_fleet_build(f, path, &err));
	ck_assert_msg(strstr(err.msg, ":4: security_groups belongs to the fleet in etcd") != NULL,
			"%s", err.msg);
	unlink(path);
	sg_cluster_fleet_free(f);
}
END_TEST

struct seen {
	int calls, events;
	int64_t revision;
	char keys[8][64];
};

static void
on_events(void *arg, const struct sg_etcd_event *ev, size_t n, int64_t revision)
{
	struct seen *s = arg;

	s->calls++;
	for (size_t i = 0; i < n; i++) {
		snprintf(s->keys[s->events % 8], 64, "%s%s=%s", ev[i].deleted ? "-" : "+",
				ev[i].kv.key, ev[i].kv.value ? ev[i].kv.value : "");
		s->events++;
	}
	s->revision = revision;
}

/* Two responses: "created", then two events (a put of /a = 1 and a delete of /b). */
static const char stream_text[] =
		"{\"result\":{\"header\":{\"revision\":\"4\"},\"created\":true}}\n"
		"{\"result\":{\"header\":{\"revision\":\"7\"},\"events\":[{\"kv\":{\"key\":\"L2E=\","
		"\"create_revision\":\"5\",\"mod_revision\":\"6\",\"value\":\"MQ==\"}},{\"type\":"
		"\"DELETE\",\"kv\":{\"key\":\"L2I=\",\"mod_revision\":\"7\"}}]}}\n";

START_TEST(test_stream_chunks)
{
	/* Every chunk size, so every boundary falls inside a line, a key, a number. */
	size_t chunk = (size_t)_i + 1, len = strlen(stream_text);
	struct sg_etcd_stream *s = sg_etcd_stream_create();
	struct seen seen = {0};
	struct sg_error err = {0};
	int64_t compact = 0;
	int total = 0;

	for (size_t off = 0; off < len; off += chunk) {
		int rc = sg_etcd_stream_feed(s, stream_text + off, SG_MIN(chunk, len - off),
				on_events, &seen, &compact, &err);

		ck_assert_msg(rc >= 0, "%s", err.msg);
		total += rc;
	}
	ck_assert_int_eq(total, 2);
	ck_assert_int_eq(seen.calls, 1); /* the events of one response arrive together */
	ck_assert_int_eq(seen.revision, 7);
	ck_assert_str_eq(seen.keys[0], "+/a=1");
	ck_assert_str_eq(seen.keys[1], "-/b=");
	sg_etcd_stream_free(s);
}
END_TEST

START_TEST(test_stream_compacted)
{
	static const char text[] = "{\"result\":{\"header\":{},\"canceled\":true,"
				   "\"compact_revision\":\"42\"}}\n";
	struct sg_etcd_stream *s = sg_etcd_stream_create();
	struct seen seen = {0};
	struct sg_error err = {0};
	int64_t compact = 0;

	ck_assert_int_eq(sg_etcd_stream_feed(s, text, 10, on_events, &seen, &compact, &err), 0);
	ck_assert_int_eq(sg_etcd_stream_feed(s, text + 10, strlen(text) - 10, on_events, &seen,
					 &compact, &err),
			-ESTALE);
	ck_assert_int_eq(compact, 42);
	ck_assert_int_eq(seen.calls, 0);
	sg_etcd_stream_free(s);
}
END_TEST

START_TEST(test_txn_body)
{
	const struct sg_etcd_cmp cmps[] = {
		{.key = P "epoch", .kind = SG_ETCD_CREATE_EQUAL, .revision = 0},
		{.key = P "groups/", .prefix = true, .kind = SG_ETCD_MOD_LESS, .revision = 11},
	};
	const struct sg_etcd_op ops[] = {
		{.key = P "groups/a", .value = "{}"},
		{.key = P "ports/b"},
	};
	char *body = sg_etcd_txn_body(cmps, 2, ops, 2);

	/* Keys and values in base64: /sgfw/v1/epoch, /sgfw/v1/groups/ up to /sgfw/v1/groups0. */
	ck_assert_str_eq(body,
			"{\"compare\":[{\"create_revision\":0,\"key\":\"L3NnZncvdjEvZXBvY2g=\","
			"\"result\":\"EQUAL\",\"target\":\"CREATE\"},{\"key\":"
			"\"L3NnZncvdjEvZ3JvdXBzLw==\",\"mod_revision\":11,\"range_end\":"
			"\"L3NnZncvdjEvZ3JvdXBzMA==\",\"result\":\"LESS\",\"target\":\"MOD\"}],"
			"\"success\":[{\"request_put\":{\"key\":\"L3NnZncvdjEvZ3JvdXBzL2E=\","
			"\"value\":\"e30=\"}},{\"request_delete_range\":{\"key\":"
			"\"L3NnZncvdjEvcG9ydHMvYg==\"}}]}");
	free(body);
}
END_TEST

/* A change on the fleet's config writes exactly the keys it changed. */
START_TEST(test_change_keys)
{
	struct sg_cluster_fleet *f = sample(), *before, *after;
	struct sg_error err = {0};
	struct sg_conf *conf = sg_cluster_fleet_build(f, NULL, &err), *changed;
	struct sg_cluster_diff d;
	struct sg_spec *spec;
	int g;

	ck_assert_msg(conf != NULL, "%s", err.msg);
	before = sg_cluster_fleet_from_conf(conf, P, f, &err);
	ck_assert_msg(before != NULL, "%s", err.msg);
	ck_assert_ptr_nonnull(sg_cluster_fleet_value(before, "subnets/a"));
	/* Unchanged: nothing to write. */
	ck_assert_int_eq(sg_cluster_fleet_diff(before, before, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	spec = sg_spec_clone(conf->spec);
	g = sg_spec_find_group(spec, "sg-db");
	ck_assert_int_eq(sg_group_set(&spec->groups[g], "description", "database", &err), 0);
	sg_spec_remove_port(spec, sg_spec_find_port(spec, "vm1"));
	changed = sg_conf_derive(conf, spec, &conf->ports[1], 1, &err);
	ck_assert_msg(changed != NULL, "%s", err.msg);
	after = sg_cluster_fleet_from_conf(changed, P, f, &err);
	ck_assert_int_eq(sg_cluster_fleet_diff(before, after, &d), 0);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_str_eq(d.ops[0].key, P "groups/sg-db");
	ck_assert_ptr_nonnull(strstr(d.ops[0].value, "\"description\":\"database\""));
	ck_assert_str_eq(d.ops[1].key, P "ports/vm1");
	ck_assert_ptr_null(d.ops[1].value);
	sg_cluster_diff_free(&d);
	sg_cluster_fleet_free(after);
	sg_cluster_fleet_free(before);
	sg_conf_free(changed);
	sg_conf_free(conf);
	sg_cluster_fleet_free(f);
}
END_TEST

START_TEST(test_state_file)
{
	char path[] = "/tmp/check_cluster_state_XXXXXX";
	int fd = mkstemp(path);
	struct sg_cluster_fleet *f = sample(), *back;
	struct sg_error err = {0};
	int64_t rev = 0;

	close(fd);
	ck_assert_int_eq(sg_cluster_fleet_save(f, 17, path, &err), 0);
	back = sg_cluster_fleet_restore(path, &rev, &err);
	ck_assert_msg(back != NULL, "%s", err.msg);
	ck_assert_int_eq(rev, 17);
	ck_assert_uint_eq(sg_cluster_fleet_count(back), 5);
	ck_assert_int_eq(sg_cluster_fleet_mod_revision(back, "groups/sg-db"), 3);
	unlink(path);
	sg_cluster_fleet_free(back);
	sg_cluster_fleet_free(f);
}
END_TEST

static Suite *
cluster_suite(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("fleet");

	tcase_add_test(tc, test_build);
	tcase_add_loop_test(tc, test_errors_name_the_key, 0, SG_ARRAY_SIZE(bad));
	tcase_add_test(tc, test_local_file);
	tcase_add_test(tc, test_change_keys);
	tcase_add_test(tc, test_state_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("etcd");
	tcase_add_loop_test(tc, test_stream_chunks, 0, 40);
	tcase_add_test(tc, test_stream_compacted);
	tcase_add_test(tc, test_txn_body);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cluster_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
