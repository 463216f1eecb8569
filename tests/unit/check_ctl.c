/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of policy changes (lib/ctl change commands), writing a config back (round trip),
 * rule identity across changes (the basis of carried hit counters), and the machine API: the
 * command table, its dispatch, the JSON-RPC encoding and the docs' tables made from it. */
#include <check.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <jansson.h>

#include "sg_conf.h"
#include "sg_ctl.h"

static const char *const base_text =
	"security_groups = (\n"
	" { id = \"sg-db\"; inner_access_policy = \"drop\"; tags = [\"cluster:pg\"]; rules = (\n"
	"   { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\"; source_cidr = \"10.2.0.0/24\"; },\n"
	"   { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"2379/2379\"; source_cidr = \"10.1.0.0/24\"; }\n"
	" ); },\n"
	" { id = \"sg-web\"; inner_access_policy = \"drop\"; rules = (); },\n"
	" { id = \"sg-e\"; type = \"enterprise\"; rules = (); }\n"
	");\n"
	"subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\"; }, { cidr = \"10.2.0.0/24\"; gateway = \"10.2.0.1\"; } );\n"
	"ports = (\n"
	" { name = \"db1\"; type = \"null\"; mac = \"52:54:00:01:00:0b\"; ips = [\"10.1.0.11\"]; tags = [\"cluster:pg\"]; },\n"
	" { name = \"db2\"; type = \"null\"; mac = \"52:54:00:01:00:0c\"; ips = [\"10.1.0.12\"]; tags = [\"cluster:pg\"]; },\n"
	" { name = \"web1\"; type = \"af_packet\"; iface = \"veth1\"; mac = \"52:54:00:02:00:0b\"; ips = [\"10.2.0.11\"]; security_groups = [\"sg-web\"]; }\n"
	");\n"
	"control = { socket = \"/tmp/x.sock\"; persist = true; metrics_port = 9464; };\n"
	"conntrack = { capacity = 4096; timeouts = { tcp_established = 300; }; };\n";

static struct sg_conf *base;

static void
setup(void)
{
	struct sg_error err = {0};

	base = sg_conf_load_string(base_text, "base.conf", &err);
	ck_assert_msg(base != NULL, "%s", err.msg);
}

static void
teardown(void)
{
	sg_conf_free(base);
}

/* Run one change on 'base'; returns the exit code, the new conf and what was printed. */
static int
change(const char *line, struct sg_conf **result, char *out, size_t out_size, char *err_text,
		size_t err_size)
{
	char *words[32], *copy = strdup(line), *save = NULL;
	FILE *o = fmemopen(out, out_size, "w"), *e = fmemopen(err_text, err_size, "w");
	struct sg_ctl_ctx ctx = {.conf = base, .out = o, .err = e};
	int n = 0, rc;

	for (char *w = strtok_r(copy, " ", &save); w != NULL && n < 32; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	ck_assert(sg_ctl_is_change(n, words));
	rc = sg_ctl_change(&ctx, n, words, result);
	fclose(o);
	fclose(e);
	free(copy);
	return rc;
}

static uint32_t
effective_count(const struct sg_conf *conf, const char *port, enum sg_dir dir)
{
	const struct sg_eff_rule *rules;

	return sg_policy_effective(conf->policy, (uint32_t)sg_policy_find_port(conf->policy, port), dir,
			&rules);
}

static const struct sg_eff_rule *
entry(const struct sg_conf *conf, const char *port, enum sg_dir dir, uint32_t position)
{
	const struct sg_eff_rule *rules;

	sg_policy_effective(conf->policy, (uint32_t)sg_policy_find_port(conf->policy, port), dir, &rules);
	return &rules[position - 1];
}

/* Table of changes that succeed: the summary printed and a check of the result. */
struct good_change {
	const char *line;
	const char *summary;
	const char *port;       /* effective list checked: its ingress length */
	uint32_t ingress;
};

static const struct good_change good_changes[] = {
	{"rule add sg-db direction=ingress protocol=tcp port_range=22/22 source_cidr=10.2.0.0/24",
			"added sg-db rule 3\n", "db1", 4},
	{"rule add sg-db direction=ingress protocol=tcp port_range=5432/5432 source_cidr=10.2.0.0/24",
			"sg-db rule 1 is identical; nothing added\n", "db1", 3},
	{"rule remove sg-db 1", "removed sg-db rule 1\n", "db1", 2},
	{"rule replace sg-db 2 direction=ingress protocol=udp port_range=53/53 source_cidr=10.0.0.0/8",
			"replaced sg-db rule 2\n", "db1", 3},
	{"group create sg-new inner_access_policy=drop tags=x,y", "created security group sg-new\n", "db1", 3},
	{"group delete sg-e", "deleted security group sg-e\n", "db1", 3},
	{"group set sg-db inner_access_policy=accept", "changed security group sg-db\n", "db1", 4},
	{"group tag sg-web add cluster:pg", "added tag cluster:pg to security group sg-web\n", "db1", 3},
	{"port attach db1 sg-web", "attached port db1 to sg-web\n", "db1", 3},
	{"port detach web1 sg-web", "detached port web1 from sg-web\n", NULL, 0},
	{"port tag web1 add cluster:pg", "added tag cluster:pg to port web1\n", "web1", 3},
	{"port remove db2", "removed port db2\n", "db1", 3},
	{"port add name=db3 type=null mac=52:54:00:01:00:0d ips=10.1.0.13 tags=cluster:pg",
			"added port db3\n", "db3", 3},
	{"attach-by-tag cluster:pg sg-web", "sg-web now carries tag cluster:pg; attached: db1 db2\n",
			"db1", 3},
};

START_TEST(test_good_changes)
{
	const struct good_change *c = &good_changes[_i];
	char out[512] = "", errors[512] = "";
	struct sg_conf *result = NULL;
	int rc = change(c->line, &result, out, sizeof(out), errors, sizeof(errors));

	/* "port detach web1 sg-web" leaves web1 in no group: refused by the engine. */
	if (c->port == NULL) {
		ck_assert_int_eq(rc, SG_CTL_EXIT_FAIL);
		ck_assert_ptr_null(result);
		ck_assert_msg(strstr(errors, "port \"web1\" is in no security group") != NULL, "%s", errors);
		return;
	}
	ck_assert_msg(rc == SG_CTL_EXIT_OK, "%s: %s", c->line, errors);
	ck_assert_ptr_nonnull(result);
	ck_assert_str_eq(out, c->summary);
	ck_assert_uint_eq(effective_count(result, c->port, SG_DIR_INGRESS), c->ingress);
	/* The base is untouched: a change makes a new config. */
	ck_assert_uint_eq(effective_count(base, "db1", SG_DIR_INGRESS), 3);
	sg_conf_free(result);
}
END_TEST

START_TEST(test_change_results)
{
	char out[512], errors[512];
	struct sg_conf *result;

	/* A rule added online decides as a loaded one would. */
	ck_assert_int_eq(change("rule add sg-db direction=ingress policy=drop priority=1 protocol=tcp "
				"port_range=5432/5432 source_cidr=10.2.0.66/32",
				 &result, out, sizeof(out), errors, sizeof(errors)),
			SG_CTL_EXIT_OK);
	ck_assert_int_eq(entry(result, "db1", SG_DIR_INGRESS, 1)->action, SG_ACTION_DROP);
	ck_assert_uint_eq(entry(result, "db1", SG_DIR_INGRESS, 1)->rule, 2);
	sg_conf_free(result);
	/* attach-by-tag: db1 and db2 now have sg-web too. */
	ck_assert_int_eq(change("attach-by-tag cluster:pg sg-web", &result, out, sizeof(out), errors,
				 sizeof(errors)),
			SG_CTL_EXIT_OK);
	ck_assert(sg_policy_attached_by_tag(result->policy, 0,
			(uint32_t)sg_spec_find_group(sg_policy_spec(result->policy), "sg-web")));
	sg_conf_free(result);
	/* A port added online gets its device fields. */
	ck_assert_int_eq(change("port add name=vm9 type=af_packet iface=veth9 mac=52:54:00:09:00:01 "
				"ips=10.1.0.19 security_groups=sg-db",
				 &result, out, sizeof(out), errors, sizeof(errors)),
			SG_CTL_EXIT_OK);
	ck_assert_str_eq(sg_conf_find_port(result, "vm9")->path, "veth9");
	ck_assert_int_eq(sg_conf_find_port(result, "vm9")->kind, SG_PORT_AF_PACKET);
	sg_conf_free(result);
	/* ... and its allowed prefixes, as the file takes them, a list of them comma-separated;
	 * a group peer naming its group includes them. */
	ck_assert_int_eq(change("port add name=vm9 type=null mac=52:54:00:09:00:01 ips=10.2.0.19 "
				"allowed_prefixes=10.2.0.128/26,192.168.7.0/24 "
				"security_groups=sg-web",
				 &result, out, sizeof(out), errors, sizeof(errors)),
			SG_CTL_EXIT_OK);
	{
		const struct sg_spec *spec = sg_policy_spec(result->policy);
		const struct sg_spec_port *vm9 = &spec->ports[sg_spec_find_port(spec, "vm9")];
		char a[SG_PREFIX_STRLEN], b[SG_PREFIX_STRLEN];

		ck_assert_uint_eq(vm9->n_prefixes, 2);
		sg_prefix_format(&vm9->prefixes[0], a, sizeof(a));
		sg_prefix_format(&vm9->prefixes[1], b, sizeof(b));
		ck_assert_str_eq(a, "10.2.0.128/26");
		ck_assert_str_eq(b, "192.168.7.0/24");
	}
	/* The switch settings come from the base. */
	ck_assert_uint_eq(result->conntrack.capacity, 4096);
	ck_assert(result->control_persist);
	ck_assert_uint_eq(result->metrics_port, 9464);
	sg_conf_free(result);
}
END_TEST

/* Changes that fail: exit code, the message, and nothing produced. */
struct bad_change {
	const char *line;
	int rc;
	const char *message;
};

static const struct bad_change bad_changes[] = {
	{"rule add sg-db direction=ingress priority=0 protocol=tcp port_range=1/2 source_cidr=10.0.0.0/8",
			SG_CTL_EXIT_FAIL, "priority 0 is out of range 1..100"},
	{"rule add sg-db direction=ingress protocol=tcp port_range=443/22 source_cidr=10.0.0.0/8",
			SG_CTL_EXIT_FAIL, "port_range \"443/22\": start 443 is greater than end 22"},
	{"rule add sg-db direction=ingress protocol=tcp source_cidr=10.0.0.0/8", SG_CTL_EXIT_FAIL,
			"needs port_range"},
	{"rule add sg-e direction=ingress protocol=all source_group=sg-db", SG_CTL_EXIT_FAIL,
			"an enterprise group cannot name a group as its peer (D5)"},
	{"rule add sg-nope direction=ingress protocol=all source_cidr=0.0.0.0/0", SG_CTL_EXIT_FAIL,
			"no security group \"sg-nope\""},
	{"rule remove sg-db 3", SG_CTL_EXIT_FAIL, "security group \"sg-db\" has no rule 3 (it has 2)"},
	{"rule add sg-db direction", SG_CTL_EXIT_USAGE, "rule fields are field=value"},
	{"group create sg-db", SG_CTL_EXIT_FAIL, "security group \"sg-db\" already exists"},
	{"group create sg-x type=enterprise inner_access_policy=accept", SG_CTL_EXIT_FAIL,
			"inner_access_policy \"accept\" is not allowed on an enterprise group"},
	{"group delete sg-web", SG_CTL_EXIT_FAIL,
			"security group \"sg-web\" is still attached to ports web1; detach them first"},
	{"group delete sg-db", SG_CTL_EXIT_FAIL, "port \"db1\" is in no security group"},
	{"port attach db1 sg-e", SG_CTL_EXIT_FAIL, "mixes basic and enterprise security groups"},
	{"port attach db1 sg-zz", SG_CTL_EXIT_FAIL, "security group \"sg-zz\" is not defined"},
	{"port detach db1 sg-db", SG_CTL_EXIT_FAIL,
			"port \"db1\" is attached to \"sg-db\" by tag \"cluster:pg\""},
	{"port tag db1 remove nope", SG_CTL_EXIT_FAIL, "port \"db1\" has no tag \"nope\""},
	{"port add name=db1 type=null mac=52:54:00:01:00:99", SG_CTL_EXIT_FAIL,
			"port \"db1\" already exists"},
	{"port add name=vm9 type=null mac=52:54:00:01:00:0b security_groups=sg-db", SG_CTL_EXIT_FAIL,
			"mac 52:54:00:01:00:0b is already used by port \"db1\""},
	{"port add name=vm9 type=af_packet mac=52:54:00:09:00:01 security_groups=sg-db",
			SG_CTL_EXIT_FAIL, "port \"vm9\" (af_packet) needs iface"},
	{"port add name=vm9 type=null mac=52:54:00:09:00:01 ips=10.9.0.1 security_groups=sg-db",
			SG_CTL_EXIT_FAIL, "ip 10.9.0.1 is in no configured subnet"},
	{"port add name=vm9 type=tap", SG_CTL_EXIT_FAIL, "type \"tap\" must be vhost-user"},
	{"port remove nope", SG_CTL_EXIT_FAIL, "no port \"nope\""},
	{"port add name=vm9 type=null mac=52:54:00:09:00:01 ips=224.0.0.1 security_groups=sg-db",
			SG_CTL_EXIT_FAIL,
			"error: port \"vm9\": ip 224.0.0.1 is a multicast address, which no VM can own "
			"(nothing changed)\n"},
	{"port add name=vm9 type=null mac=52:54:00:09:00:01 ips=10.1.0.255 security_groups=sg-db",
			SG_CTL_EXIT_FAIL,
			"error: port \"vm9\": ip 10.1.0.255 is the broadcast address of subnet 10.1.0.0/24 "
			"(line 9), which no VM can own (nothing changed)\n"},
	{"port add name=vm9 type=null mac=52:54:00:09:00:01 allowed_prefixes=10.1.0.8/29 "
	 "security_groups=sg-db", SG_CTL_EXIT_FAIL,
			"error: allowed prefix 10.1.0.8/29 of port \"vm9\" holds ip 10.1.0.11 of "
			"port \"db1\"; an address belongs to one port (nothing changed)\n"},
	{"port add name=vm9 type=null mac=52:54:00:09:00:01 allowed_prefixes=10.1.0.9/29 "
	 "security_groups=sg-db", SG_CTL_EXIT_FAIL,
			"error: port \"vm9\": allowed prefix \"10.1.0.9/29\" has host bits set; "
			"the network is 10.1.0.8/29 (nothing changed)\n"},
	{"port add name=vm9 type=null mac=52:54:00:09:00:01 allowed_prefixes=10.0.0.0/8 "
	 "security_groups=sg-db", SG_CTL_EXIT_FAIL,
			"error: port \"vm9\": allowed prefix 10.0.0.0/8 covers subnet 10.1.0.0/24 "
			"(line 9); a prefix lies inside one subnet or outside all of them (nothing "
			"changed)\n"},
	{"port add name=a/b type=null mac=52:54:00:09:00:01 security_groups=sg-db", SG_CTL_EXIT_FAIL,
			"error: port name \"a/b\" holds \"/\"; a port name cannot be a path (it names the "
			"default socket /run/sgfw/NAME.sock) (nothing changed)\n"},
	{"group create sg-\x1b[2J", SG_CTL_EXIT_FAIL,
			"error: security group id \"sg-\\x1b[2J\" holds the control character U+001B at "
			"byte 4 (nothing changed)\n"},
	{"port tag db1 add \xe2\x80\xae" "gp", SG_CTL_EXIT_FAIL,
			"error: port \"db1\": tag \"\\u{202E}gp\" holds the Unicode bidirectional control "
			"U+202E at byte 1 (nothing changed)\n"},
	{"attach-by-tag t sg-nope", SG_CTL_EXIT_FAIL, "no security group \"sg-nope\""},
};

START_TEST(test_bad_changes)
{
	const struct bad_change *c = &bad_changes[_i];
	char out[512] = "", errors[512] = "";
	struct sg_conf *result = (struct sg_conf *)1;
	int rc = change(c->line, &result, out, sizeof(out), errors, sizeof(errors));

	ck_assert_msg(rc == c->rc, "%s: rc %d (%s)", c->line, rc, errors);
	ck_assert_ptr_null(result);
	ck_assert_msg(strstr(errors, c->message) != NULL, "%s: \"%s\" lacks \"%s\"", c->line, errors,
			c->message);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(effective_count(base, "db1", SG_DIR_INGRESS), 3);
}
END_TEST

/* Write, load, write: the same text and the same effective lists. */
START_TEST(test_write_round_trip)
{
	char *first = NULL, *second = NULL;
	size_t first_len = 0, second_len = 0;
	struct sg_error err = {0};
	FILE *out = open_memstream(&first, &first_len);
	struct sg_conf *again;

	ck_assert_int_eq(sg_conf_write(base, out), 0);
	fclose(out);
	again = sg_conf_load_string(first, "written.conf", &err);
	ck_assert_msg(again != NULL, "%s\n%s", err.msg, first);
	out = open_memstream(&second, &second_len);
	ck_assert_int_eq(sg_conf_write(again, out), 0);
	fclose(out);
	ck_assert_str_eq(first, second);
	for (uint32_t p = 0; p < sg_policy_spec(base->policy)->n_ports; p++) {
		for (int d = 0; d < SG_DIR_COUNT; d++) {
			const struct sg_eff_rule *a, *b;
			uint32_t na = sg_policy_effective(base->policy, p, (enum sg_dir)d, &a);
			uint32_t nb = sg_policy_effective(again->policy, p, (enum sg_dir)d, &b);

			ck_assert(sg_eff_lists_equal(a, na, b, nb, true));
		}
	}
	ck_assert_str_eq(sg_conf_find_port(again, "web1")->path, "veth1");
	ck_assert_uint_eq(again->conntrack.timeouts[0].value, 300);
	ck_assert(again->control_persist);
	sg_conf_free(again);
	free(first);
	free(second);
}
END_TEST

START_TEST(test_save_atomic)
{
	char dir[] = "/tmp/sgfw-check-ctl-XXXXXX", path[64], text[8192];
	struct sg_error err = {0};
	struct sg_conf *loaded;
	size_t n;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sgfw.conf", dir);
	ck_assert_int_eq(sg_conf_save(base, path, &err), 0);
	f = fopen(path, "r");
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	ck_assert(strstr(text, "# Written by sgfw") == text);
	loaded = sg_conf_load_file(path, &err);
	ck_assert_msg(loaded != NULL, "%s", err.msg);
	sg_conf_free(loaded);
	/* No temporary file is left behind. */
	ck_assert_int_eq(remove(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	/* A directory that does not exist: an error naming the path, and nothing written. */
	ck_assert_int_lt(sg_conf_save(base, "/nonexistent-dir/sgfw.conf", &err), 0);
	ck_assert(strstr(err.msg, "/nonexistent-dir/sgfw.conf") != NULL);
}
END_TEST

/* Counters follow rules through changes: the same rule keeps its id mapping, a removed one is gone. */
START_TEST(test_same_rule_across_changes)
{
	char out[512], errors[512];
	struct sg_conf *result;
	const struct sg_policy *old = base->policy;
	uint32_t db_rule2 = 1; /* sg-db rule 2's id: groups in file order, rules in order */
	int now;

	ck_assert_int_eq(change("rule remove sg-db 1", &result, out, sizeof(out), errors, sizeof(errors)),
			SG_CTL_EXIT_OK);
	/* Rule 1 is gone; rule 2 is now rule 1 of the new policy. */
	ck_assert_int_eq(sg_policy_same_rule(result->policy, old, 0), -ENOENT);
	now = sg_policy_same_rule(result->policy, old, db_rule2);
	ck_assert_int_eq(now, 0);
	{
		char name[64];

		ck_assert_str_eq(sg_policy_rule_name(result->policy, (uint32_t)now, name, sizeof(name)),
				"sg-db rule 1");
	}
	/* Inner rules and defaults map by group and kind. */
	ck_assert_int_eq(sg_policy_same_rule(result->policy, old, sg_policy_rule_count(old) - 1),
			(int)sg_policy_rule_count(result->policy) - 1);
	sg_conf_free(result);
}
END_TEST

/* Run a command that changes nothing on 'conf'; returns its exit code and what it printed
 * (stdout in 'out', stderr in 'run_errors'). */
static char run_errors[1024];

static int
run(struct sg_conf *conf, bool json, const char *line, char *out, size_t out_size)
{
	char *words[16], *copy = strdup(line), *save = NULL;
	FILE *o, *e;

	memset(out, 0, out_size);
	memset(run_errors, 0, sizeof(run_errors));
	o = fmemopen(out, out_size, "w");
	e = fmemopen(run_errors, sizeof(run_errors), "w");
	struct sg_ctl_ctx ctx = {.conf = conf, .out = o, .err = e, .json = json};
	int n = 0, rc;

	for (char *w = strtok_r(copy, " ", &save); w != NULL && n < 16; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	rc = sg_ctl_run(&ctx, n, words);
	fclose(o);
	fclose(e);
	free(copy);
	return rc;
}

/* A port of another host: effective and explain say where it is enforced, nothing is made up. */
START_TEST(test_remote_port_views)
{
	static const char text[] =
		"host = \"hv1\";\n"
		"hosts = ( { name = \"hv1\"; vtep = \"192.168.50.1\"; },\n"
		"  { name = \"hv2\"; vtep = \"192.168.50.2\"; } );\n"
		"subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\"; vni = 7; } );\n"
		"security_groups = ( { id = \"sg-a\"; } );\n"
		"ports = ( { name = \"up\"; type = \"ring\"; role = \"uplink\";\n"
		"    peer_mac = \"52:54:00:ff:ff:01\"; },\n"
		"  { name = \"a1\"; type = \"ring\"; mac = \"52:54:00:00:00:01\"; ips = [\"10.1.0.11\"];\n"
		"    security_groups = [\"sg-a\"]; },\n"
		"  { name = \"a2\"; host = \"hv2\"; mac = \"52:54:00:00:00:02\"; ips = [\"10.1.0.12\"];\n"
		"    security_groups = [\"sg-a\"]; } );\n";
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_string(text, "fleet.conf", &err);
	char out[8192];

	ck_assert_msg(conf != NULL, "%s", err.msg);
	ck_assert_int_ne(run(conf, false, "effective a2", out, sizeof(out)), SG_CTL_EXIT_OK);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strstr(run_errors, "port \"a2\" is on host \"hv2\": its rules are enforced "
					 "there") != NULL, "%s", run_errors);
	/* The local member's inner access holds the remote member's address. */
	ck_assert_int_eq(run(conf, false, "effective a1", out, sizeof(out)), SG_CTL_EXIT_OK);
	ck_assert_msg(strstr(out, "10.1.0.12") != NULL, "%s", out);
	/* ports: its kind is "remote", and JSON names its host. */
	ck_assert_int_eq(run(conf, false, "ports", out, sizeof(out)), SG_CTL_EXIT_OK);
	ck_assert_msg(strstr(out, "a2               remote") != NULL, "%s", out);
	ck_assert_int_eq(run(conf, true, "ports", out, sizeof(out)), SG_CTL_EXIT_OK);
	ck_assert_msg(strstr(out, "\"host\": \"hv2\",\n    \"remote\": true") != NULL, "%s", out);
	/* A VM's egress to a host's VTEP never reaches the rules (underlay_target), whatever
	 * they say; next to it, an outside address gets the rules' verdict. */
	ck_assert_int_eq(run(conf, false, "explain a1 egress tcp 10.1.0.11 192.168.50.2:2379", out,
				 sizeof(out)),
			SG_CTL_EXIT_DROPPED);
	ck_assert_str_eq(out, "a1 egress tcp 10.1.0.11:49152 -> 192.168.50.2:2379\n"
			      "  verdict: drop before the rules: the VTEP of host \"hv2\" "
			      "(underlay_target)\n");
	ck_assert_int_eq(run(conf, true, "explain a1 egress udp 10.1.0.11 192.168.50.1:4789", out,
				 sizeof(out)),
			SG_CTL_EXIT_DROPPED);
	ck_assert_msg(strstr(out, "\"verdict\": \"drop\",\n  \"reason\": \"underlay_target\",\n"
				  "  \"vtep_of\": \"hv1\"") != NULL, "%s", out);
	ck_assert_int_eq(run(conf, false, "explain a1 egress tcp 10.1.0.11 192.168.50.3:2379", out,
				 sizeof(out)),
			SG_CTL_EXIT_OK);
	ck_assert_msg(strstr(out, "verdict: accept") != NULL, "%s", out);
	sg_conf_free(conf);
}
END_TEST

/* Raw bytes a terminal would act on: ESC, a newline inside a line, a bidi override. */
static bool
has_raw_controls(const char *text)
{
	return strchr(text, '\x1b') != NULL || strstr(text, "\xe2\x80\xae") != NULL ||
	       strstr(text, "\xe2\x81\xa6") != NULL;
}

/* A description holding a newline, an escape sequence and bidi controls prints on one line,
 * escaped, in text; escaped as JSON in JSON; and in the audit's diff, escaped too. */
START_TEST(test_descriptions_escaped)
{
	/* Raw control bytes inside the strings of the file, as libconfig accepts them. */
	static const char text[] =
		"security_groups = ( { id = \"sg-d\"; inner_access_policy = \"drop\"; rules = (\n"
		"  { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"22/22\";\n"
		"    source_cidr = \"10.0.0.0/8\"; description = \"a\\nb\x1b[31mred\xe2\x80\xae" "rev\"; },\n"
		"  { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"22/22\";\n"
		"    source_cidr = \"10.0.0.0/8\"; description = \"again\x1b[2J\xe2\x81\xa6\"; } ); } );\n"
		"ports = ( { name = \"p\"; type = \"null\"; mac = \"52:54:00:00:00:01\";\n"
		"  security_groups = [\"sg-d\"]; description = \"port\\n\x1b[1m\"; } );\n";
	char dir[] = "/tmp/sgfw-check-ctl-XXXXXX", path[64], out[8192];
	struct sg_error err = {0};
	struct sg_conf *conf;
	FILE *f;
	int lines = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/d.conf", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	conf = sg_conf_load_file(path, &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	ck_assert_str_eq(conf->spec->groups[0].rules[0].description, "a\nb\x1b[31mred\xe2\x80\xae" "rev");

	ck_assert_int_eq(run(conf, false, "effective p ingress", out, sizeof(out)), SG_CTL_EXIT_OK);
	ck_assert_msg(!has_raw_controls(out), "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "sg-d rule 1 - a\\nb\\x1b[31mred\\u{202E}rev\n"));
	for (const char *c = out; *c != '\0'; c++)
		lines += *c == '\n';
	ck_assert_int_eq(lines, 4); /* title, header, the rule (D2 keeps one of the two), default */

	ck_assert_int_eq(run(conf, true, "effective p ingress", out, sizeof(out)), SG_CTL_EXIT_OK);
	ck_assert_msg(!has_raw_controls(out), "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"description\": \"a\\nb\\u001b[31mred\\u202erev\""));
	ck_assert_int_eq(run(conf, true, "ports", out, sizeof(out)), SG_CTL_EXIT_OK);
	ck_assert_ptr_nonnull(strstr(out, "\"description\": \"port\\n\\u001b[1m\""));

	/* The second rule repeats the first (D2): the proposal removes it, and its diff shows. */
	ck_assert_int_eq(run(conf, false, "audit --config-only", out, sizeof(out)), SG_CTL_EXIT_OK);
	ck_assert_msg(!has_raw_controls(out), "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "description = \"again\\x1b[2J\\u{2066}\"; } ); } );"));
	sg_conf_free(conf);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Flow logs never enabled, or holding no window: the audit says so and fails, rather than
 * report what the config says alone as if the logs had shown nothing. */
START_TEST(test_audit_without_logs)
{
	char dir[] = "/tmp/sgfw-check-ctl-XXXXXX", text[512], want[1024], out[4096];
	struct sg_error err = {0};
	struct sg_conf *conf;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(run(base, false, "audit", out, sizeof(out)), SG_CTL_EXIT_FAIL);
	ck_assert_str_eq(run_errors, "error: flow logs are not enabled in base.conf "
				     "(flow_logs.enabled), so no port's traffic is logged to audit "
				     "against; enable them and audit after a window, or use "
				     "--config-only for what the config says alone\n");
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(run(base, false, "audit --flow-logs /nonexistent", out, sizeof(out)),
			SG_CTL_EXIT_FAIL);
	ck_assert_int_eq(run(base, false, "audit --config-only", out, sizeof(out)), SG_CTL_EXIT_OK);
	ck_assert_ptr_nonnull(strstr(out, "only what the config says alone"));

	snprintf(text, sizeof(text), "%sflow_logs = { enabled = true; window = 10; directory = \"%s/flows\"; };\n",
			"security_groups = ( { id = \"g\"; } );\n"
			"ports = ( { name = \"p\"; type = \"null\"; mac = \"52:54:00:00:00:01\"; "
			"security_groups = [\"g\"]; } );\n",
			dir);
	conf = sg_conf_load_string(text, "logged.conf", &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	ck_assert_int_eq(run(conf, false, "audit", out, sizeof(out)), SG_CTL_EXIT_FAIL);
	snprintf(want, sizeof(want), "error: no flow-log window to audit against in %s/flows (it does "
				     "not exist); sgfw writes the first one flow_logs.window = 10 s after it "
				     "starts logging: audit after one, or use --config-only for what the "
				     "config says alone\n", dir);
	ck_assert_str_eq(run_errors, want);
	/* A file with no window in it yet. */
	snprintf(text, sizeof(text), "%s/flows", dir);
	ck_assert_int_eq(mkdir(text, 0700), 0);
	snprintf(text, sizeof(text), "%s/flows/sgfw-flows-1.log", dir);
	fclose(fopen(text, "w"));
	ck_assert_int_eq(run(conf, false, "audit", out, sizeof(out)), SG_CTL_EXIT_FAIL);
	ck_assert_ptr_nonnull(strstr(run_errors, "/flows (its files hold no record); sgfw writes"));
	unlink(text);
	snprintf(text, sizeof(text), "%s/flows", dir);
	rmdir(text);
	rmdir(dir);
	sg_conf_free(conf);
}
END_TEST

/* A cloud's export audited without sgfw: the config's flow logs need not be enabled, ENI ids
 * map to ports (--eni, --eni-map), an interface no port stands for is counted and named, and
 * the mapping options refuse what they cannot use. */
START_TEST(test_audit_cloud_export)
{
	static const char text[] =
		"security_groups = (\n"
		"  { id = \"sg-db\"; inner_access_policy = \"drop\"; rules = (\n"
		"    { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"5432/5432\"; source_cidr = \"10.0.0.0/8\"; },\n"
		"    { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"10.0.0.9\"; } ); },\n"
		"  { id = \"sg-web\"; inner_access_policy = \"drop\"; rules = (\n"
		"    { direction = \"ingress\"; protocol = \"tcp\"; port_range = \"80/80\"; source_cidr = \"203.0.113.0/24\"; } ); } );\n"
		"ports = ( { name = \"db1\"; type = \"null\"; mac = \"52:54:00:00:00:01\"; ips = [\"10.0.0.1\"]; security_groups = [\"sg-db\"]; },\n"
		"  { name = \"web1\"; type = \"null\"; mac = \"52:54:00:00:00:02\"; ips = [\"10.0.0.2\"]; security_groups = [\"sg-web\"]; } );\n";
	char dir[] = "/tmp/sgfw-check-ctl-XXXXXX", path[256], line[1024], want[1024];
	static char out[65536];
	const char *data = SG_SOURCE_ROOT "/tests/unit/flowlogs";
	struct sg_error err = {0};
	struct sg_conf *conf;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cloud.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	conf = sg_conf_load_file(path, &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);

	snprintf(line, sizeof(line), "audit --flow-logs %s/aws-v5-export.log --eni-map %s/eni-map.txt",
			data, data);
	ck_assert_int_eq(run(conf, false, line, out, sizeof(out)), SG_CTL_EXIT_OK);
	ck_assert_str_eq(run_errors, "");
	snprintf(want, sizeof(want),
			"audit of %s against the flow logs in %s/aws-v5-export.log\n"
			"  8 records from 2023-11-14 22:13:20 UTC to 2023-11-14 22:15:20 UTC, 6 distinct flows\n"
			"  0 Alibaba and 1 AWS flow-log files: their records name no rule; 6 were named by this config's rules\n"
			"  1 records of interfaces that are no port of this config: eni-0cache (1); map a cloud interface to its port with --eni ENI=PORT\n"
			"  1 records name a port or rule this config does not have (logged under another config?)\n"
			"  1 malformed lines skipped, the first at %s/aws-v5-export.log:10: flow-direction \"sideways\" is not ingress or egress\n"
			"\nRules that matched no traffic in the logged period (1)\n"
			"  - sg-db rule 2 (accept) matched no traffic on db1 in the 120 s logged\n",
			path, data, data);
	ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "got:\n%s\nwant:\n%s", out, want);
	ck_assert_ptr_nonnull(strstr(out, "\nAccept rules much wider than the traffic they admitted (2)\n"));
	/* The same with --eni, as JSON, and the Alibaba export. */
	snprintf(line, sizeof(line), "audit --flow-logs %s/alibaba-export.csv --eni eni-db1=db1 "
				     "--eni eni-web1=web1 --log-format auto", data);
	ck_assert_int_eq(run(conf, true, line, out, sizeof(out)), SG_CTL_EXIT_OK);
	ck_assert_ptr_nonnull(strstr(out, "\"alibaba\": 1"));
	ck_assert_ptr_nonnull(strstr(out, "\"records_rule_from_config\": 6"));
	ck_assert_ptr_nonnull(strstr(out, "\"records_unmapped\": 1"));
	ck_assert_ptr_nonnull(strstr(out, "\"interface\": \"eni-cache\""));
	ck_assert_ptr_nonnull(strstr(out, "\"unused\": 1"));
	ck_assert_ptr_nonnull(strstr(out, "\"wide\": 2"));
	/* Without the mapping, no record is of a port: nothing is judged from the logs. */
	snprintf(line, sizeof(line), "audit --flow-logs %s/alibaba-export.csv", data);
	ck_assert_int_eq(run(conf, false, line, out, sizeof(out)), SG_CTL_EXIT_FAIL);
	snprintf(want, sizeof(want), "error: none of the 8 records in %s/alibaba-export.csv is of a "
				     "port of %s (interfaces eni-web1, ...); map cloud interfaces to "
				     "ports with --eni ENI=PORT or --eni-map FILE\n", data, path);
	ck_assert_str_eq(run_errors, want);
	/* What the options refuse. */
	ck_assert_int_eq(run(conf, false, "audit --eni eni-db1", out, sizeof(out)), SG_CTL_EXIT_FAIL);
	ck_assert_str_eq(run_errors, "error: --eni \"eni-db1\" is not ENI=PORT (e.g. eni-0a1b2c=web1)\n");
	ck_assert_int_eq(run(conf, false, "audit --eni eni-db1=db9", out, sizeof(out)), SG_CTL_EXIT_FAIL);
	snprintf(want, sizeof(want), "error: --eni \"eni-db1=db9\": %s has no port \"db9\"\n", path);
	ck_assert_str_eq(run_errors, want);
	ck_assert_int_eq(run(conf, false, "audit --eni e1=db1 --eni e1=web1", out, sizeof(out)),
			SG_CTL_EXIT_FAIL);
	ck_assert_str_eq(run_errors, "error: --eni \"e1=web1\": e1 is already mapped to db1\n");
	ck_assert_int_eq(run(conf, false, "audit --log-format csv", out, sizeof(out)),
			SG_CTL_EXIT_USAGE);
	ck_assert_str_eq(run_errors, "usage error: --log-format \"csv\" must be auto, text, json, "
				     "alibaba or aws-v5\n");
	snprintf(path, sizeof(path), "%s/map.txt", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("# ok\neni-1 db1\n\neni-2\n", f);
	fclose(f);
	snprintf(line, sizeof(line), "audit --eni-map %s", path);
	ck_assert_int_eq(run(conf, false, line, out, sizeof(out)), SG_CTL_EXIT_FAIL);
	snprintf(want, sizeof(want), "error: --eni-map %s:4: \"eni-2\" is not ENI=PORT (e.g. "
				     "eni-0a1b2c=web1)\n", path);
	ck_assert_str_eq(run_errors, want);
	unlink(path);
	snprintf(line, sizeof(line), "audit --eni-map %s", path);
	ck_assert_int_eq(run(conf, false, line, out, sizeof(out)), SG_CTL_EXIT_FAIL);
	snprintf(want, sizeof(want), "error: --eni-map %s: No such file or directory\n", path);
	ck_assert_str_eq(run_errors, want);
	snprintf(path, sizeof(path), "%s/cloud.conf", dir);
	unlink(path);
	rmdir(dir);
	sg_conf_free(conf);
}
END_TEST

/* save never writes through a link nor drops one; it keeps the replaced file's mode. */
START_TEST(test_save_links)
{
	char dir[] = "/tmp/sgfw-check-ctl-XXXXXX", real[64], link[64], want[512];
	struct sg_error err = {0};
	struct stat st;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(real, sizeof(real), "%s/real.conf", dir);
	snprintf(link, sizeof(link), "%s/sgfw.conf", dir);
	f = fopen(real, "w");
	fputs("# the operator's file\n", f);
	fclose(f);
	ck_assert_int_eq(symlink(real, link), 0);
	ck_assert_int_eq(sg_conf_save(base, link, &err), -EPERM);
	snprintf(want, sizeof(want), "cannot save the configuration to %s: it is a symbolic link; "
				     "sgfw replaces only a regular file (name the file a link points to as "
				     "the config)", link);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	f = fopen(real, "r");
	ck_assert_ptr_nonnull(fgets(want, sizeof(want), f));
	fclose(f);
	ck_assert_str_eq(want, "# the operator's file\n");
	/* The real file is replaced whole, keeping its mode; no temporary file stays. */
	ck_assert_int_eq(chmod(real, 0640), 0);
	ck_assert_msg(sg_conf_save(base, real, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(stat(real, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(unlink(link), 0);
	ck_assert_int_eq(unlink(real), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* The control socket's path is taken only from a socket nothing answers on. */
START_TEST(test_listen_path)
{
	char dir[] = "/tmp/sgfw-check-ctl-XXXXXX", path[64], want[256], text[32] = "";
	struct sg_error err = {0};
	struct stat st;
	int fd, again;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sgfw.sock", dir);
	f = fopen(path, "w");
	fputs("precious", f);
	fclose(f);
	ck_assert_int_eq(sg_ctl_listen(path, -1, &err), -EEXIST);
	snprintf(want, sizeof(want), "%s exists and is not a socket; remove it or choose another "
				     "path (control.socket)", path);
	ck_assert_str_eq(err.msg, want);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
	fclose(f);
	ck_assert_str_eq(text, "precious");
	unlink(path);
	/* A live socket (a running sgfw) is refused; once closed, it is stale and replaced. */
	fd = sg_ctl_listen(path, -1, &err);
	ck_assert_msg(fd >= 0, "%s", err.msg);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(sg_ctl_listen(path, -1, &err), -EADDRINUSE);
	snprintf(want, sizeof(want), "%s is served by another process (a running sgfw?)", path);
	ck_assert_str_eq(err.msg, want);
	close(fd);
	again = sg_ctl_listen(path, (int)getgid(), &err);
	ck_assert_msg(again >= 0, "%s", err.msg);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0660);
	close(again);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* check, offline, says what sgfw would refuse at start: a control.socket that is a file. */
START_TEST(test_check_socket_path)
{
	char dir[] = "/tmp/sgfw-check-ctl-XXXXXX", text[256], want[512], out[1024];
	struct sg_error err = {0};
	struct sg_conf *conf;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(text, sizeof(text), "control = { socket = \"%s/precious\"; };\n", dir);
	conf = sg_conf_load_string(text, "sock.conf", &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	ck_assert_int_eq(run(conf, false, "check", out, sizeof(out)), SG_CTL_EXIT_OK);
	snprintf(text, sizeof(text), "%s/precious", dir);
	fclose(fopen(text, "w"));
	ck_assert_int_eq(run(conf, false, "check", out, sizeof(out)), SG_CTL_EXIT_FAIL);
	snprintf(want, sizeof(want), "error: control.socket %s exists and is not a socket; sgfw "
				     "would refuse to start (it removes only a socket)\n", text);
	ck_assert_str_eq(run_errors, want);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(run(conf, true, "check", out, sizeof(out)), SG_CTL_EXIT_FAIL);
	ck_assert_ptr_nonnull(strstr(out, "\"ok\": false"));
	unlink(text);
	rmdir(dir);
	sg_conf_free(conf);
}
END_TEST

/* ---- The command table and the API ---- */

START_TEST(test_table)
{
	char *words[3] = {"rule", "add", "sg-db"};
	char *family[2] = {"rule", "frob"};
	char *unknown[1] = {"frobnicate"};
	int used = 0;

	for (int i = 0; i < SG_CTL_CMD_COUNT; i++) {
		const struct sg_ctl_command *c = &sg_ctl_commands[i];
		char method[64];

		/* Indexed by id, the method is the words joined by dots, every one found. */
		ck_assert_int_eq(c->id, i);
		snprintf(method, sizeof(method), "%s", c->words);
		for (char *p = method; *p; p++)
			if (*p == ' ')
				*p = '.';
		ck_assert_str_eq(c->method, method);
		ck_assert_ptr_eq(sg_ctl_find_method(c->method), c);
		ck_assert_msg((c->flags & (SG_CTL_OFFLINE | SG_CTL_ONLINE | SG_CTL_ETCD)) != 0,
				"%s runs nowhere",
				c->method);
		/* Handlers: views have one, changes are sg_ctl_change()'s, but import, which
		 * sgfwctl runs on the file itself. */
		ck_assert((c->run == NULL) ==
				((c->flags & SG_CTL_CHANGE) && (c->flags & SG_CTL_OFFLINE) &&
						c->run != sg_ctl_file_only));
	}
	ck_assert_ptr_eq(sg_ctl_find_words(3, words, &used), &sg_ctl_commands[SG_CTL_CMD_RULE_ADD]);
	ck_assert_int_eq(used, 2);
	ck_assert_ptr_eq(sg_ctl_find_words(2, family, &used), &sg_ctl_commands[SG_CTL_CMD_RULE]);
	ck_assert_int_eq(used, 1);
	ck_assert_ptr_null(sg_ctl_find_words(1, unknown, &used));
	ck_assert_ptr_null(sg_ctl_find_method("rule.frob"));
	ck_assert(sg_ctl_is_change(3, words));
	words[1] = "list";
	ck_assert(!sg_ctl_is_change(3, words));
}
END_TEST

/* Decode 'line': the error response's code and data.field, or 0 when it decoded. */
static int
decode(const char *line, struct sg_ctl_call *call, char *field, size_t size)
{
	json_t *msg, *error;
	int code;

	field[0] = '\0';
	if (sg_ctl_call_decode(line, strlen(line), call, &msg) == 0)
		return 0;
	ck_assert_ptr_null(call->id);
	ck_assert_int_eq(call->argc, 0);
	ck_assert_str_eq(json_string_value(json_object_get(msg, "jsonrpc")), "2.0");
	error = json_object_get(msg, "error");
	code = (int)json_integer_value(json_object_get(error, "code"));
	ck_assert_ptr_nonnull(json_string_value(json_object_get(error, "message")));
	if (json_object_get(json_object_get(error, "data"), "field") != NULL)
		snprintf(field, size, "%s",
				json_string_value(json_object_get(
						json_object_get(error, "data"), "field")));
	json_decref(msg);
	return code;
}

static const struct {
	const char *line;
	int code;
	const char *field;
} bad_requests[] = {
		{"not json", SG_CTL_RPC_PARSE, ""},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"check\"", SG_CTL_RPC_PARSE, ""},
		{"[1]", SG_CTL_RPC_INVALID, ""},
		{"{\"id\":1,\"method\":\"check\"}", SG_CTL_RPC_INVALID, "jsonrpc"},
		{"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"check\"}", SG_CTL_RPC_INVALID,
				"jsonrpc"},
		{"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"check\"}", SG_CTL_RPC_INVALID, "id"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1}", SG_CTL_RPC_INVALID, "method"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}", SG_CTL_RPC_NO_METHOD,
				"method"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"check\",\"params\":1}",
				SG_CTL_RPC_PARAMS, "params"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"check\",\"params\":[\"a\",null]}",
				SG_CTL_RPC_PARAMS, "params[1]"},
		/* A NUL in a string is refused by the parser itself. */
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"check\",\"params\":[\"a\\u0000b\"]}",
				SG_CTL_RPC_PARSE, ""},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"check\",\"params\":{\"args\":[2]}}",
				SG_CTL_RPC_PARAMS, "params.args[0]"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"check\",\"params\":{\"x\":[]}}",
				SG_CTL_RPC_PARAMS, "params.x"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"check\",\"params\":{\"format\":"
		 "\"xml\"}}",
				SG_CTL_RPC_PARAMS, "params.format"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"check\"}", SG_CTL_RPC_PARSE,
				""},
};

START_TEST(test_bad_requests)
{
	struct sg_ctl_call call;
	char field[64];

	ck_assert_int_eq(decode(bad_requests[_i].line, &call, field, sizeof(field)),
			bad_requests[_i].code);
	ck_assert_str_eq(field, bad_requests[_i].field);
}
END_TEST

START_TEST(test_decode)
{
	struct sg_ctl_call call;
	char field[64];

	/* A \u escape keeps its whole code point (U+00E9, two bytes in UTF-8). */
	ck_assert_int_eq(decode("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"rule.add\","
				"\"params\":[\"sg-db\",\"description=caf\\u00e9\"]}",
					 &call, field, sizeof(field)),
			0);
	ck_assert_ptr_eq(call.cmd, &sg_ctl_commands[SG_CTL_CMD_RULE_ADD]);
	ck_assert_int_eq(call.argc, 4);
	ck_assert_str_eq(call.argv[0], "rule");
	ck_assert_str_eq(call.argv[1], "add");
	ck_assert_str_eq(call.argv[2], "sg-db");
	ck_assert_str_eq(call.argv[3], "description=caf\xc3\xa9");
	ck_assert_ptr_null(call.argv[4]);
	ck_assert_str_eq(json_string_value(call.id), "x");
	ck_assert(!call.text);
	sg_ctl_call_free(&call);
	ck_assert_int_eq(decode("{\"jsonrpc\":\"2.0\",\"method\":\"check\","
				"\"params\":{\"format\":\"text\"}}",
					 &call, field, sizeof(field)),
			0);
	ck_assert_ptr_null(call.id); /* a notification */
	ck_assert(call.text);
	ck_assert_int_eq(call.argc, 1);
	sg_ctl_call_free(&call);
}
END_TEST

static int
run_view(void *arg, struct sg_ctl_call *call, struct sg_ctl_ctx *ctx)
{
	struct sg_conf *result = NULL;
	int rc;

	(void)arg;
	if (call->cmd->run != NULL)
		return call->cmd->run(ctx, call->argc, call->argv);
	rc = sg_ctl_change(ctx, call->argc, call->argv, &result);
	sg_conf_free(result);
	return rc;
}

/* The response to sgfwctl's words on 'base', encoded as one line. */
static json_t *
respond(const char *line, bool text)
{
	char *words[16], *copy = strdup(line), *save = NULL, *encoded;
	struct sg_ctl_ctx ctx = {.conf = base};
	struct sg_ctl_call call;
	json_t *msg;
	int n = 0;

	for (char *w = strtok_r(copy, " ", &save); w != NULL && n < 16;
			w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	if (sg_ctl_call_words(n, words, text, &call, &msg) == 0) {
		msg = sg_ctl_call_run(&call, &ctx, run_view, NULL, NULL);
		sg_ctl_call_free(&call);
	}
	free(copy);
	encoded = json_dumps(msg, JSON_COMPACT);
	ck_assert_ptr_null(strchr(encoded, '\n'));
	free(encoded);
	return msg;
}

START_TEST(test_responses)
{
	json_t *msg, *e;

	/* A result is the command's JSON document. */
	msg = respond("port show db1", false);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(msg, "result"), "name")),
			"db1");
	ck_assert_int_eq(json_integer_value(json_object_get(msg, "id")), 1);
	json_decref(msg);
	/* A dropped flow is a result; sgfwctl's exit 3 is in the text form. */
	msg = respond("explain db1 ingress tcp 10.9.9.9 10.1.0.11:22", false);
	ck_assert_str_eq(json_string_value(json_object_get(
					 json_object_get(msg, "result"), "verdict")),
			"drop");
	json_decref(msg);
	msg = respond("explain db1 ingress tcp 10.9.9.9 10.1.0.11:22", true);
	ck_assert_int_eq(
			json_integer_value(json_object_get(json_object_get(msg, "result"), "exit")),
			SG_CTL_EXIT_DROPPED);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(
						     json_object_get(msg, "result"), "stdout")),
			"verdict: drop"));
	json_decref(msg);
	/* A failure names the argument it quotes. */
	msg = respond("effective web9", false);
	e = json_object_get(msg, "error");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "code")), SG_CTL_RPC_FAILED);
	ck_assert_str_eq(
			json_string_value(json_object_get(e, "message")), "no port named \"web9\"");
	e = json_object_get(e, "data");
	ck_assert_str_eq(json_string_value(json_object_get(e, "field")), "params[0]");
	ck_assert_str_eq(json_string_value(json_object_get(e, "argument")), "web9");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "exit")), SG_CTL_EXIT_FAIL);
	json_decref(msg);
	/* A refused change names the field=value argument whose field its message names. */
	msg = respond("rule add sg-db direction=ingress priority=0", false);
	e = json_object_get(msg, "error");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "code")), SG_CTL_RPC_FAILED);
	e = json_object_get(e, "data");
	ck_assert_str_eq(json_string_value(json_object_get(e, "field")), "params[2]");
	ck_assert_str_eq(json_string_value(json_object_get(e, "argument")), "priority=0");
	json_decref(msg);
	/* A usage error; in text form the data holds sgfwctl's streams. */
	msg = respond("effective db1 sideways", true);
	e = json_object_get(msg, "error");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "code")), SG_CTL_RPC_PARAMS);
	ck_assert_ptr_nonnull(strstr(
			json_string_value(json_object_get(json_object_get(e, "data"), "stderr")),
			"usage error: direction must be ingress or egress"));
	json_decref(msg);
	/* Offline, the daemon's methods say they need it. */
	msg = respond("stats", false);
	e = json_object_get(msg, "error");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "code")), SG_CTL_RPC_OFFLINE);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e, "data"), "field")),
			"method");
	json_decref(msg);
	msg = respond("frobnicate", false);
	e = json_object_get(msg, "error");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "code")), SG_CTL_RPC_NO_METHOD);
	json_decref(msg);
	/* methods: every listed command once, the hidden families not. */
	msg = respond("methods", false);
	ck_assert_uint_eq(json_array_size(json_object_get(msg, "result")), SG_CTL_CMD_COUNT - 3);
	json_decref(msg);
}
END_TEST

START_TEST(test_reader_and_base64)
{
	unsigned char bytes[256], back[256];
	struct sg_ctl_reader r;
	int fds[2];
	char *line, *text;
	size_t len;

	for (int i = 0; i < 256; i++)
		bytes[i] = (unsigned char)i;
	for (size_t n = 0; n < 8; n++) {
		text = sg_base64_encode(bytes + 250 - n, n);
		ck_assert_int_eq(sg_base64_decode(text, strlen(text), back), (long)n);
		ck_assert_int_eq(memcmp(back, bytes + 250 - n, n), 0);
		free(text);
	}
	ck_assert_int_lt(sg_base64_decode("A===", 4, back), 0);
	ck_assert_int_lt(sg_base64_decode("AB!=", 4, back), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ck_assert_int_eq(write(fds[1], "one\r\n\ntwo\nthreeeeeeeeeeee\nlast", 31), 31);
	close(fds[1]);
	sg_ctl_reader_init(&r, fds[0], 10);
	ck_assert_int_eq(sg_ctl_reader_next(&r, &line, &len), 1);
	ck_assert_str_eq(line, "one");
	ck_assert_int_eq(sg_ctl_reader_next(&r, &line, &len), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(sg_ctl_reader_next(&r, &line, &len), 1);
	ck_assert_str_eq(line, "two");
	ck_assert_int_eq(sg_ctl_reader_next(&r, &line, &len), -EMSGSIZE);
	sg_ctl_reader_free(&r);
	close(fds[0]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ck_assert_int_eq(write(fds[1], "a\nlast", 6), 6);
	close(fds[1]);
	sg_ctl_reader_init(&r, fds[0], 10);
	ck_assert_int_eq(sg_ctl_reader_next(&r, &line, &len), 1);
	ck_assert_int_eq(sg_ctl_reader_next(&r, &line, &len), 1);
	ck_assert_str_eq(line, "last"); /* no newline, then the end */
	ck_assert_int_eq(sg_ctl_reader_next(&r, &line, &len), 0);
	sg_ctl_reader_free(&r);
	close(fds[0]);
}
END_TEST

/* The file's text, NUL-terminated (the caller frees it). */
static char *
read_doc(const char *name)
{
	char path[512], *text;
	FILE *f;
	long size;

	snprintf(path, sizeof(path), "%s/docs/%s", SG_SOURCE_ROOT, name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s", path);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)size + 1);
	ck_assert_uint_eq(fread(text, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	return text;
}

/* '|' escaped for a markdown table cell. */
static void
cell(char *out, size_t size, const char *text)
{
	size_t n = 0;

	for (; *text != '\0' && n + 2 < size; text++) {
		if (*text == '|')
			out[n++] = '\\';
		out[n++] = *text;
	}
	out[n] = '\0';
}

/*
 * docs/api.md's method table is the command table, row for row (the block between its
 * markers; regenerate it from the rows this test prints when it fails), and every command has
 * its row in docs/sgfwctl.md.
 */
START_TEST(test_docs_tables)
{
	char *api = read_doc("api.md"), *ctl = read_doc("sgfwctl.md"), *want = NULL, *start, *end;
	size_t want_len = 0;
	FILE *f = open_memstream(&want, &want_len);

	for (int i = 0; i < SG_CTL_CMD_COUNT; i++) {
		const struct sg_ctl_command *c = &sg_ctl_commands[i];
		char args[512], help[512], row[64];

		if (c->flags & SG_CTL_HIDDEN)
			continue;
		cell(args, sizeof(args), c->args);
		cell(help, sizeof(help), c->help);
		fprintf(f, "| `%s` | %s%s%s | %s | %s | %s | %s |\n", c->method, args[0] ? "`" : "",
				args, args[0] ? "`" : "", c->flags & SG_CTL_OFFLINE ? "yes" : "",
				c->flags & SG_CTL_ONLINE ? "yes" : "",
				c->flags & SG_CTL_CHANGE ? "yes" : "", help);
		snprintf(row, sizeof(row), "| `%s", c->words);
		ck_assert_msg(strstr(ctl, row) != NULL, "docs/sgfwctl.md has no row for %s",
				c->words);
	}
	fclose(f);
	start = strstr(api, "|---|---|---|---|---|---|\n");
	end = strstr(api, "<!-- end of methods -->");
	ck_assert(start != NULL && end != NULL);
	start += strlen("|---|---|---|---|---|---|\n");
	*end = '\0';
	ck_assert_msg(strcmp(start, want) == 0, "docs/api.md's method table should be:\n%s", want);
	free(want);
	free(api);
	free(ctl);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("changes");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_good_changes, 0, (int)SG_ARRAY_SIZE(good_changes));
	tcase_add_test(tc, test_change_results);
	tcase_add_loop_test(tc, test_bad_changes, 0, (int)SG_ARRAY_SIZE(bad_changes));
	tcase_add_test(tc, test_write_round_trip);
	tcase_add_test(tc, test_save_atomic);
	tcase_add_test(tc, test_same_rule_across_changes);
	tcase_add_test(tc, test_descriptions_escaped);
	tcase_add_test(tc, test_remote_port_views);
	tcase_add_test(tc, test_audit_without_logs);
	tcase_add_test(tc, test_audit_cloud_export);
	tcase_add_test(tc, test_save_links);
	tcase_add_test(tc, test_listen_path);
	tcase_add_test(tc, test_check_socket_path);
	tcase_add_test(tc, test_table);
	tcase_add_loop_test(tc, test_bad_requests, 0, (int)SG_ARRAY_SIZE(bad_requests));
	tcase_add_test(tc, test_decode);
	tcase_add_test(tc, test_responses);
	tcase_add_test(tc, test_reader_and_base64);
	tcase_add_test(tc, test_docs_tables);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
