/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the config loader (lib/conf): config/seed.conf from disk, the device side of
 * ports (type, path, iface, rx_pcap, tx_pcap, client, queues, pci, role, peer_mac) with their
 * errors and the uplink's restrictions, and the switch-wide sections' defaults and checks.
 * Policy errors reached through the loader are tested in check_policy.c. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_helpers.h"
#include "sg_conf.h"

#ifndef SG_SOURCE_ROOT
#error "meson passes SG_SOURCE_ROOT, the source tree holding config/seed.conf"
#endif

#define SEED_CONF SG_SOURCE_ROOT "/config/seed.conf"

/* Load 'text', which must be valid. */
static struct sg_conf *
load_ok(const char *name, const char *text)
{
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_string(text, "test.conf", &err);

	ck_assert_msg(conf != NULL, "%s: %s", name, err.msg);
	return conf;
}

/* ---- config/seed.conf ---- */

START_TEST(test_seed_file_loads)
{
	static const char *const names[] = {"db1", "db2", "web1", "web2"};
	struct sg_error err;
	struct sg_conf *conf;
	const struct sg_spec *spec;
	const uint32_t *groups;
	struct sg_ip ip;
	int db;

	memset(&err, 0, sizeof(err));
	conf = sg_conf_load_file(SEED_CONF, &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	ck_assert_str_eq(conf->path, SEED_CONF);
	ck_assert_uint_eq(conf->n_ports, 4);
	for (uint32_t i = 0; i < 4; i++) {
		const struct sg_conf_port *dev = &conf->ports[i];
		char path[64];

		snprintf(path, sizeof(path), "/run/sgfw/%s.sock", names[i]);
		ck_assert_str_eq(dev->name, names[i]);
		ck_assert_int_eq(dev->kind, SG_PORT_VHOST_USER);
		ck_assert_str_eq(dev->path, path);
		ck_assert(!dev->uplink);
		ck_assert(!dev->client);
		ck_assert_uint_eq(dev->queues, 1);
		ck_assert_ptr_eq(sg_conf_find_port(conf, names[i]), dev);
	}
	ck_assert_ptr_null(sg_conf_find_port(conf, "db3"));
	ck_assert_uint_eq(conf->n_subnets, 4);
	sg_ip_parse("fd00:2::12", &ip);
	ck_assert_ptr_nonnull(sg_conf_subnet_of(conf, &ip));

	/* The groups come from seed-groups.conf, included relative to seed.conf. */
	spec = conf->spec;
	ck_assert_uint_eq(spec->n_groups, 2);
	db = sg_spec_find_group(spec, "sg-db");
	ck_assert_int_ge(db, 0);
	ck_assert_int_eq(spec->groups[db].type, SG_GROUP_BASIC);
	ck_assert_int_eq(spec->groups[db].inner_access, SG_ACTION_DROP);
	ck_assert_str_eq(spec->groups[db].description, "PostgreSQL cluster");
	ck_assert_uint_eq(spec->groups[db].n_tags, 1);
	ck_assert_str_eq(spec->groups[db].tags[0], "cluster:PostgreSQL");
	ck_assert_str_eq(spec->groups[db].rules[0].description, "web cluster to PostgreSQL");
	ck_assert_int_eq(spec->groups[db].rules[1].dport.lo, 2379);
	ck_assert_uint_eq(spec->n_ports, 4);
	/* db1 and db2 join sg-db by its tag. */
	ck_assert_uint_eq(sg_policy_port_groups(conf->policy, port_of(conf->policy, "db1"),
				  &groups),
			1);
	ck_assert_uint_eq(groups[0], (uint32_t)db);
	ck_assert(sg_policy_attached_by_tag(conf->policy, port_of(conf->policy, "db1"),
			(uint32_t)db));
	sg_conf_free(conf);
}
END_TEST

/* The seed's questions, asked of the policy loaded from the file, over IPv4 and IPv6. */
static const struct {
	const char *name;
	const char *from, *to;
	const char *src, *dst;
	uint16_t dport;
	enum sg_action action;
	const char *ingress_rule; /* sg_policy_rule_name() of the deciding ingress entry */
} seed_rows[] = {
	{"web to db on 5432", "web1", "db1", "10.2.0.11", "10.1.0.11", 5432, SG_ACTION_ACCEPT,
			"sg-db rule 1"},
	{"web to db on 22", "web2", "db2", "10.2.0.12", "10.1.0.12", 22, SG_ACTION_DROP,
			"default basic ingress drop"},
	{"db to db on 2379", "db1", "db2", "10.1.0.11", "10.1.0.12", 2379, SG_ACTION_ACCEPT,
			"sg-db rule 2"},
	{"db to db on 5432", "db2", "db1", "10.1.0.12", "10.1.0.11", 5432, SG_ACTION_DROP,
			"default basic ingress drop"},
	{"web to web on 80", "web1", "web2", "10.2.0.11", "10.2.0.12", 80, SG_ACTION_DROP,
			"default basic ingress drop"},
	{"db to web on 80", "db1", "web1", "10.1.0.11", "10.2.0.11", 80, SG_ACTION_DROP,
			"default basic ingress drop"},
	{"web to db on 5432 over IPv6", "web2", "db1", "fd00:2::12", "fd00:1::11", 5432,
			SG_ACTION_ACCEPT, "sg-db rule 3"},
	{"db to db on 2379 over IPv6", "db2", "db1", "fd00:1::12", "fd00:1::11", 2379,
			SG_ACTION_ACCEPT, "sg-db rule 4"},
	{"db to db on 5432 over IPv6", "db2", "db1", "fd00:1::12", "fd00:1::11", 5432,
			SG_ACTION_DROP, "default basic ingress drop"},
	{"web to web over IPv6", "web2", "web1", "fd00:2::12", "fd00:2::11", 80,
			SG_ACTION_DROP, "default basic ingress drop"},
};

START_TEST(test_seed_file_questions)
{
	struct sg_error err;
	struct sg_conf *conf;
	struct sg_path_verdict v;
	struct sg_flow flow;
	char name[128];

	memset(&err, 0, sizeof(err));
	conf = sg_conf_load_file(SEED_CONF, &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	for (size_t i = 0; i < SG_ARRAY_SIZE(seed_rows); i++) {
		memset(&flow, 0, sizeof(flow));
		flow.proto = 6;
		flow.sport = 40000;
		flow.dport = seed_rows[i].dport;
		ck_assert_int_eq(sg_ip_parse(seed_rows[i].src, &flow.src), 0);
		ck_assert_int_eq(sg_ip_parse(seed_rows[i].dst, &flow.dst), 0);
		sg_policy_decide_path(conf->policy, port_of(conf->policy, seed_rows[i].from),
				port_of(conf->policy, seed_rows[i].to), &flow, &v);
		sg_policy_rule_name(conf->policy, v.ingress.rule->id, name, sizeof(name));
		ck_assert_msg(v.action == seed_rows[i].action &&
						strcmp(name, seed_rows[i].ingress_rule) == 0,
				"%s: %s by \"%s\", want %s by \"%s\"", seed_rows[i].name,
				sg_action_name(v.action), name, sg_action_name(seed_rows[i].action),
				seed_rows[i].ingress_rule);
		/* Basic egress with no rule accepts everything the seed asks about. */
		ck_assert_int_eq(v.egress.action, SG_ACTION_ACCEPT);
	}
	sg_conf_free(conf);
}
END_TEST

/* ---- @include: errors name the file that holds the line ---- */

/* A scratch directory with main.conf including groups.conf; removed by include_done(). */
struct include_dir {
	char dir[64];
	char main_path[128];
	char groups_path[128];
};

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static void
include_setup(struct include_dir *d, const char *groups_text)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/sgfw-check-conf-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d->dir));
	snprintf(d->main_path, sizeof(d->main_path), "%s/main.conf", d->dir);
	snprintf(d->groups_path, sizeof(d->groups_path), "%s/groups.conf", d->dir);
	write_file(d->main_path,
			"# main\n"
			"@include \"groups.conf\"\n"
			"ports = ( { name = \"p\"; mac = \"52:54:00:00:00:01\";\n"
			"            security_groups = [\"sg-a\"]; } );\n");
	write_file(d->groups_path, groups_text);
}

static void
include_done(struct include_dir *d)
{
	unlink(d->main_path);
	unlink(d->groups_path);
	rmdir(d->dir);
}

static const struct {
	const char *name;
	const char *groups; /* groups.conf; the faulty line carries "#<" */
	const char *want;
} include_rows[] = {
	{"a field rejected while parsing",
		"security_groups = (\n"
		"  { id = \"sg-a\";\n"
		"    rules = ( { direction = \"ingress\"; priority = 0; } ); } #<\n"
		");\n",
		"security group \"sg-a\" rule 1: priority 0 is out of range 1..100"},
	{"a rule rejected by the engine",
		"security_groups = (\n"
		"  { id = \"sg-a\";\n"
		"    rules = (\n"
		"      { direction = \"ingress\"; protocol = \"tcp\"; #<\n"
		"        source_cidr = \"0.0.0.0/0\"; }\n"
		"    ); }\n"
		");\n",
		"security group \"sg-a\" rule 1 (protocol tcp) needs port_range"},
	{"a group rejected by the engine",
		"security_groups = (\n"
		"  { id = \"sg-a\"; },\n"
		"  { id = \"sg-a\"; } #<\n"
		");\n",
		"security group \"sg-a\" is defined twice (first on line 2)"},
	{"a syntax error", "security_groups = (\n  { id = \"sg-a\"; }\n  { id = ; } #<\n);\n",
		"syntax error in \"{ id = ; } #<\""},
};

START_TEST(test_include_errors_name_the_included_file)
{
	struct include_dir d;
	struct sg_error err;
	char prefix[192];

	include_setup(&d, include_rows[_i].groups);
	memset(&err, 0, sizeof(err));
	ck_assert_msg(sg_conf_load_file(d.main_path, &err) == NULL, "%s: loaded",
			include_rows[_i].name);
	include_done(&d);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", d.groups_path,
			marker_line(include_rows[_i].groups));
	ck_assert_msg(strncmp(err.msg, prefix, strlen(prefix)) == 0 &&
					strstr(err.msg, include_rows[_i].want) != NULL,
			"%s: message\n  %s\nwant\n  %s%s", include_rows[_i].name, err.msg, prefix,
			include_rows[_i].want);
}
END_TEST

/* An @include that cannot be read names the file it names, at the line that names it; a file
 * that includes itself says so; libconfig's "syntax error" is said once. */
START_TEST(test_include_file_errors)
{
	struct include_dir d;
	struct sg_error err;
	char want[512];

	include_setup(&d, "@include \"groups.conf\"\n");
	memset(&err, 0, sizeof(err));
	ck_assert_ptr_null(sg_conf_load_file(d.main_path, &err));
	snprintf(want, sizeof(want), "%s:1: @include \"groups.conf\" nests files too deep (does a "
				     "file include itself?)", d.groups_path);
	ck_assert_str_eq(err.msg, want);
	unlink(d.groups_path);
	memset(&err, 0, sizeof(err));
	ck_assert_ptr_null(sg_conf_load_file(d.main_path, &err));
	snprintf(want, sizeof(want), "%s:2: cannot read the included file \"groups.conf\" (%s): No "
				     "such file or directory", d.main_path, d.groups_path);
	ck_assert_str_eq(err.msg, want);
	include_done(&d);
	memset(&err, 0, sizeof(err));
	ck_assert_ptr_null(sg_conf_load_string("a = 1;\nb = ;\n", "test.conf", &err));
	ck_assert_str_eq(err.msg, "test.conf:2: syntax error in \"b = ;\"");
}
END_TEST

START_TEST(test_include_loads_from_any_directory)
{
	struct include_dir d;
	struct sg_error err;
	struct sg_conf *conf;
	char cwd[512];

	include_setup(&d, "security_groups = ( { id = \"sg-a\"; } );\n");
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir("/"), 0);
	memset(&err, 0, sizeof(err));
	conf = sg_conf_load_file(d.main_path, &err);
	ck_assert_int_eq(chdir(cwd), 0);
	include_done(&d);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	ck_assert_int_eq(sg_spec_find_group(conf->spec, "sg-a"), 0);
	sg_conf_free(conf);
}
END_TEST

START_TEST(test_missing_file)
{
	struct sg_error err = {0};

	errno = 0;
	ck_assert_ptr_null(sg_conf_load_file(SG_SOURCE_ROOT "/config/no-such.conf", &err));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(err.msg, SG_SOURCE_ROOT "/config/no-such.conf: cannot open: No such file "
			"or directory");
	ck_assert_ptr_null(sg_conf_load_file(SG_SOURCE_ROOT "/config/no-such.conf", NULL));
}
END_TEST

START_TEST(test_empty_config)
{
	struct sg_conf *conf = load_ok("empty", "");

	ck_assert_uint_eq(conf->n_ports, 0);
	ck_assert_uint_eq(conf->spec->n_groups, 0);
	ck_assert_ptr_nonnull(conf->policy);
	ck_assert_ptr_null(sg_conf_uplink(conf));
	sg_conf_free(conf);
	sg_conf_free(NULL);
}
END_TEST

/* ---- Port devices ---- */

#define GROUP_A "security_groups = ( { id = \"sg-a\"; } );\n"
#define VM_FIELDS "mac = \"52:54:00:00:00:01\"; security_groups = [\"sg-a\"];"
#define UPLINK_FIELDS "role = \"uplink\"; peer_mac = \"52:54:00:ff:ff:01\";"

static const struct {
	const char *name;
	const char *port; /* the fields of port "p" besides its name */
	enum sg_port_kind kind;
	const char *path;
	const char *tx_pcap;
	bool client;
	uint16_t queues;
	bool uplink;
	bool infinite_rx;
} device_rows[] = {
	{"vhost-user by default, socket under /run/sgfw", VM_FIELDS,
			SG_PORT_VHOST_USER, "/run/sgfw/p.sock", "", false, 1, false, false},
	{"vhost-user with path, client and queues",
			VM_FIELDS " type = \"vhost-user\"; path = \"/tmp/vm1.sock\";"
			" client = true; queues = 4;",
			SG_PORT_VHOST_USER, "/tmp/vm1.sock", "", true, 4, false, false},
	{"vhost-user as server", VM_FIELDS " client = false; queues = 16;",
			SG_PORT_VHOST_USER, "/run/sgfw/p.sock", "", false, 16, false, false},
	{"af_packet iface", VM_FIELDS " type = \"af_packet\"; iface = \"veth0\";",
			SG_PORT_AF_PACKET, "veth0", "", false, 1, false, false},
	{"pcap rx and tx",
			VM_FIELDS " type = \"pcap\"; rx_pcap = \"in.pcap\";"
			" tx_pcap = \"out.pcap\";",
			SG_PORT_PCAP, "in.pcap", "out.pcap", false, 1, false, false},
	{"pcap rx only", VM_FIELDS " type = \"pcap\"; rx_pcap = \"in.pcap\";",
			SG_PORT_PCAP, "in.pcap", "", false, 1, false, false},
	{"pcap replayed in a loop",
			VM_FIELDS " type = \"pcap\"; rx_pcap = \"in.pcap\"; infinite_rx = true;",
			SG_PORT_PCAP, "in.pcap", "", false, 1, false, true},
	{"null", VM_FIELDS " type = \"null\";", SG_PORT_NULL, "", "", false, 1, false, false},
	{"ring with queues", VM_FIELDS " type = \"ring\"; queues = 2;",
			SG_PORT_RING, "", "", false, 2, false, false},
	{"pci", VM_FIELDS " type = \"pci\"; pci = \"0000:01:00.0\";",
			SG_PORT_PCI, "0000:01:00.0", "", false, 1, false, false},
	{"role vm said aloud, with a description", VM_FIELDS " role = \"vm\"; description = \"x\";",
			SG_PORT_VHOST_USER, "/run/sgfw/p.sock", "", false, 1, false, false},
	{"uplink on a NIC", "type = \"pci\"; pci = \"0000:02:00.0\"; " UPLINK_FIELDS,
			SG_PORT_PCI, "0000:02:00.0", "", false, 1, true, false},
	{"uplink on vhost-user", UPLINK_FIELDS " queues = 2;",
			SG_PORT_VHOST_USER, "/run/sgfw/p.sock", "", false, 2, true, false},
};

START_TEST(test_port_devices)
{
	const __typeof__(device_rows[0]) *row = &device_rows[_i];
	const struct sg_conf_port *dev;
	struct sg_conf *conf;
	char text[512];

	snprintf(text, sizeof(text), GROUP_A "ports = ( { name = \"p\"; %s } );\n", row->port);
	conf = load_ok(row->name, text);
	dev = sg_conf_find_port(conf, "p");
	ck_assert_ptr_nonnull(dev);
	ck_assert_msg(dev->kind == row->kind, "%s: kind %s", row->name,
			sg_port_kind_name(dev->kind));
	ck_assert_msg(strcmp(dev->path, row->path) == 0, "%s: path \"%s\"", row->name, dev->path);
	ck_assert_msg(strcmp(dev->tx_pcap, row->tx_pcap) == 0, "%s: tx_pcap \"%s\"", row->name,
			dev->tx_pcap);
	ck_assert_msg(dev->client == row->client, "%s: client %d", row->name, dev->client);
	ck_assert_msg(dev->queues == row->queues, "%s: queues %u", row->name, dev->queues);
	ck_assert_msg(dev->uplink == row->uplink, "%s: uplink %d", row->name, dev->uplink);
	ck_assert_msg(dev->infinite_rx == row->infinite_rx, "%s: infinite_rx %d", row->name,
			dev->infinite_rx);
	ck_assert_int_eq(dev->line, 2);
	if (row->uplink) {
		/* The uplink has no place in the policy. */
		ck_assert_ptr_eq(sg_conf_uplink(conf), dev);
		ck_assert_int_eq(sg_spec_find_port(conf->spec, "p"), -ENOENT);
		ck_assert_int_eq(sg_policy_find_port(conf->policy, "p"), -ENOENT);
		ck_assert(dev->has_peer_mac);
		ck_assert_uint_eq(dev->peer_mac[5], 0x01);
	} else {
		ck_assert_ptr_null(sg_conf_uplink(conf));
		ck_assert_int_eq(sg_policy_find_port(conf->policy, "p"), 0);
	}
	sg_conf_free(conf);
}
END_TEST

START_TEST(test_port_order_and_kind_names)
{
	static const char text[] = GROUP_A
		"ports = (\n"
		"  { name = \"vm1\"; " VM_FIELDS " },\n"
		"  { name = \"up\"; type = \"null\"; " UPLINK_FIELDS " },\n"
		"  { name = \"vm2\"; mac = \"52:54:00:00:00:02\"; security_groups = [\"sg-a\"]; }\n"
		");\n";
	struct sg_conf *conf = load_ok("mixed ports", text);

	/* Every port in file order; the policy sees the VM ports only. */
	ck_assert_uint_eq(conf->n_ports, 3);
	ck_assert_str_eq(conf->ports[0].name, "vm1");
	ck_assert_str_eq(conf->ports[1].name, "up");
	ck_assert_str_eq(conf->ports[2].name, "vm2");
	ck_assert_int_eq(conf->ports[2].line, 5);
	ck_assert_uint_eq(conf->spec->n_ports, 2);
	ck_assert_int_eq(sg_policy_find_port(conf->policy, "vm2"), 1);
	ck_assert_str_eq(sg_port_kind_name(SG_PORT_VHOST_USER), "vhost-user");
	ck_assert_str_eq(sg_port_kind_name(SG_PORT_AF_PACKET), "af_packet");
	ck_assert_str_eq(sg_port_kind_name(SG_PORT_PCAP), "pcap");
	ck_assert_str_eq(sg_port_kind_name(SG_PORT_NULL), "null");
	ck_assert_str_eq(sg_port_kind_name(SG_PORT_RING), "ring");
	ck_assert_str_eq(sg_port_kind_name(SG_PORT_PCI), "pci");
	sg_conf_free(conf);
}
END_TEST

#define X16 "xxxxxxxxxxxxxxxx"
#define X64 X16 X16 X16 X16
#define X256 X64 X64 X64 X64
/* A VM port "p" on line 3 whose extra 'fields' start line 4. */
#define PORT_P(fields) GROUP_A "ports = (\n  { name = \"p\"; " VM_FIELDS "\n    " fields "\n);\n"

static const struct t_load_error device_errors[] = {
	{"unknown type", PORT_P("type = \"tap\"; } #<"),
			{"port \"p\": type \"tap\" must be vhost-user, af_packet, pcap, null, "
			 "ring or pci"}},
	{"type not a string", PORT_P("type = 1; } #<"), {"type must be a string"}},
	{"unknown role", PORT_P("role = \"router\"; } #<"),
			{"port \"p\": role \"router\" must be \"vm\" or \"uplink\""}},
	{"role not a string", PORT_P("role = true; } #<"), {"role must be a string"}},
	{"client on af_packet", PORT_P("type = \"af_packet\"; iface = \"veth0\";\n"
				       "    client = true; } #<"),
			{"port \"p\": client applies to vhost-user ports only"}},
	{"client as a number", PORT_P("client = 1; } #<"),
			{"port \"p\": client must be true or false"}},
	{"queues 0", PORT_P("queues = 0; } #<"), {"port \"p\": queues 0 is out of range 1..16"}},
	{"queues 17", PORT_P("queues = 17; } #<"), {"port \"p\": queues 17 is out of range 1..16"}},
	{"queues as a string", PORT_P("queues = \"2\"; } #<"),
			{"port \"p\": queues must be a number"}},
	{"max_connections as a string", PORT_P("max_connections = \"10\"; } #<"),
			{"port \"p\": max_connections must be a number"}},
	{"max_connections negative", PORT_P("max_connections = -1; } #<"),
			{"port \"p\": max_connections -1 is out of range 0..100000000"}},
	{"new_connections_per_second too high",
		PORT_P("new_connections_per_second = 100000001; } #<"),
			{"port \"p\": new_connections_per_second 100000001 is out of range "
			 "0..100000000"}},
	{"tx_pcap on vhost-user", PORT_P("tx_pcap = \"out.pcap\"; } #<"),
			{"port \"p\": tx_pcap applies to pcap ports only"}},
	{"infinite_rx on vhost-user", PORT_P("infinite_rx = true; } #<"),
			{"port \"p\": infinite_rx applies to pcap ports only"}},
	{"infinite_rx as a number", PORT_P("type = \"pcap\"; rx_pcap = \"in.pcap\";\n"
					   "    infinite_rx = 1; } #<"),
			{"port \"p\": infinite_rx must be true or false"}},
	{"path on af_packet", PORT_P("type = \"af_packet\";\n    path = \"/tmp/x\"; } #<"),
			{"port \"p\": path does not apply to a", "af_packet port"}},
	{"iface on vhost-user", PORT_P("iface = \"veth0\"; } #<"),
			{"port \"p\": iface does not apply to a vhost-user port"}},
	{"pci on pcap", PORT_P("type = \"pcap\"; rx_pcap = \"in.pcap\";\n"
			       "    pci = \"0000:01:00.0\"; } #<"),
			{"port \"p\": pci does not apply to a pcap port"}},
	{"rx_pcap on null", PORT_P("type = \"null\"; rx_pcap = \"in.pcap\"; } #<"),
			{"port \"p\": rx_pcap does not apply to a null port"}},
	{"af_packet without iface", GROUP_A
		"ports = (\n"
		"  { name = \"p\"; " VM_FIELDS " #<\n"
		"    type = \"af_packet\"; }\n"
		");\n",
			{"port \"p\" (af_packet) needs iface"}},
	{"pcap without rx_pcap", GROUP_A
		"ports = (\n"
		"  { name = \"p\"; " VM_FIELDS " #<\n"
		"    type = \"pcap\"; tx_pcap = \"o.pcap\"; }\n"
		");\n",
			{"port \"p\" (pcap) needs rx_pcap"}},
	{"pci without pci", GROUP_A
		"ports = (\n"
		"  { name = \"p\"; type = \"pci\"; " VM_FIELDS " } #<\n"
		");\n",
			{"port \"p\" (pci) needs pci"}},
	{"empty path", PORT_P("path = \"\"; } #<"), {"port \"p\": path must be 1..255 characters"}},
	{"over-long path", PORT_P("path = \"/" X256 "\"; } #<"),
			{"port \"p\": path must be 1..255 characters"}},
	{"path not a string", PORT_P("path = 5; } #<"), {"path must be a string"}},
	{"iface not a string", PORT_P("type = \"af_packet\"; iface = [\"a\"]; } #<"),
			{"iface must be a string"}},
	{"unknown port field", PORT_P("colour = \"blue\"; } #<"),
			{"port \"p\": unknown field \"colour\" (known: name, type, role"}},
	{"ports not a list", GROUP_A "ports = { name = \"p\"; }; #<\n", {"ports must be a list"}},
	{"port entry not a group", GROUP_A "ports = ( \"p\" ); #<\n",
			{"ports entry must be a group"}},
	{"port without name", GROUP_A "ports = (\n  { " VM_FIELDS " } #<\n);\n",
			{"port has no name"}},
	{"port name not a string", GROUP_A "ports = (\n  { name = 1; " VM_FIELDS " } #<\n);\n",
			{"port name must be a string"}},
	{"empty port name", GROUP_A "ports = (\n  { name = \"\"; " VM_FIELDS " } #<\n);\n",
			{"port name \"\" must be 1..63 characters"}},
	{"over-long port name", GROUP_A
		"ports = (\n"
		"  { name = \"" X64 "\"; #<\n"
		"    " VM_FIELDS " }\n"
		");\n",
			{"port name \"" X64 "\" must be 1..63 characters"}},
	{"duplicate port name", GROUP_A
		"ports = (\n"
		"  { name = \"p\"; " VM_FIELDS " },\n"
		"  { name = \"p\"; #<\n"
		"    mac = \"52:54:00:00:00:02\"; security_groups = [\"sg-a\"]; }\n"
		");\n",
			{"port \"p\" is defined twice (first on line 3)"}},
	{"uplink named like a VM port", GROUP_A
		"ports = (\n"
		"  { name = \"p\"; " VM_FIELDS " },\n"
		"  { name = \"p\"; type = \"null\"; " UPLINK_FIELDS " } #<\n"
		");\n",
			{"port \"p\" is defined twice (first on line 3)"}},
	/* The uplink carries no policy and needs its next hop. */
	{"uplink with a mac", GROUP_A
		"ports = (\n"
		"  { name = \"up\"; " UPLINK_FIELDS "\n"
		"    mac = \"52:54:00:00:00:09\"; } #<\n"
		");\n",
			{"port \"up\" is an uplink: mac applies to VM ports only"}},
	{"uplink with ips", GROUP_A
		"ports = (\n"
		"  { name = \"up\"; " UPLINK_FIELDS " ips = [\"10.0.0.1\"]; } #<\n"
		");\n",
			{"port \"up\" is an uplink: ips applies to VM ports only"}},
	{"uplink with tags", GROUP_A
		"ports = (\n"
		"  { name = \"up\"; " UPLINK_FIELDS " tags = [\"t\"]; } #<\n"
		");\n",
			{"port \"up\" is an uplink: tags applies to VM ports only"}},
	{"uplink with security groups", GROUP_A
		"ports = (\n"
		"  { name = \"up\"; " UPLINK_FIELDS "\n"
		"    security_groups = [\"sg-a\"]; } #<\n"
		");\n",
			{"port \"up\" is an uplink: security_groups applies to VM ports only"}},
	{"two uplinks", GROUP_A
		"ports = (\n"
		"  { name = \"up1\"; type = \"null\"; " UPLINK_FIELDS " },\n"
		"  { name = \"vm\"; " VM_FIELDS " },\n"
		"  { name = \"up2\"; type = \"null\"; role = \"uplink\"; #<\n"
		"    peer_mac = \"52:54:00:ff:ff:02\"; }\n"
		");\n",
			{"port \"up2\": only one uplink port is allowed (\"up1\" is one)"}},
	{"uplink without peer_mac", GROUP_A
		"ports = (\n"
		"  { name = \"up\"; type = \"null\"; role = \"uplink\"; } #<\n"
		");\n",
			{"port \"up\" is the uplink: it needs peer_mac"}},
	{"peer_mac on a VM port", PORT_P("peer_mac = \"52:54:00:ff:ff:01\"; } #<"),
			{"port \"p\": peer_mac applies to the uplink only"}},
	{"bad peer_mac", GROUP_A
		"ports = (\n"
		"  { name = \"up\"; role = \"uplink\";\n"
		"    peer_mac = \"gateway\"; } #<\n"
		");\n",
			{"port \"up\": peer_mac \"gateway\" is not a unicast MAC like 52:54:00:12:34:56"}},
};

START_TEST(test_port_device_errors)
{
	expect_load_error(&device_errors[_i]);
}
END_TEST

/* ---- Descriptions: the loader must not cut what the spec API rejects ---- */

static const struct t_load_error description_errors[] = {
	{"rule description of 256 characters",
		"security_groups = (\n"
		"  { id = \"sg-a\";\n"
		"    rules = ( { direction = \"ingress\"; source_cidr = \"0.0.0.0/0\";\n"
		"                description = \"" X256 "\"; } ); } #<\n"
		");\n",
			{"security group \"sg-a\" rule 1: description is longer than 255 "
			 "characters"}},
	{"group description of 256 characters",
		"security_groups = (\n"
		"  { id = \"sg-a\"; description = \"" X256 "\"; } #<\n"
		");\n",
			{"group \"sg-a\": description is longer than 255 characters"}},
};

START_TEST(test_overlong_descriptions_rejected)
{
	expect_load_error(&description_errors[_i]);
}
END_TEST

/* ---- Switch-wide sections: defaults and checks ---- */

/* What a reload cannot apply: each start-only field that differs, named; live ones not. */
static void
collect_what(void *arg, const char *what)
{
	char *all = arg;

	strcat(all, all[0] ? " " : "");
	strcat(all, what);
}

START_TEST(test_restart_diff)
{
	struct sg_conf *started = load_ok("started",
			"dataplane = { workers = 1; eal_args = [\"--no-huge\"]; };\n"
			"flow_logs = { enabled = true; directory = \"/tmp/a\"; window = 5; };\n");
	struct sg_conf *live = load_ok("live",
			"dataplane = { workers = 1; eal_args = [\"--no-huge\"]; sleep_max_us = 50; };\n"
			"flow_logs = { enabled = false; directory = \"/tmp/b\"; window = 9; };\n"
			"conntrack = { share_reserve = 3; };\nlogging = { level = \"notice\"; };\n");
	struct sg_conf *pending = load_ok("pending",
			"dataplane = { workers = 2; burst = 8; eal_args = [\"--no-huge\", \"-m\"]; "
			"file_prefix = \"x\"; };\n"
			"flow_logs = { enabled = true; directory = \"/tmp/b\"; window = 5; "
			"format = \"json\"; };\n"
			"control = { socket = \"/tmp/s.sock\"; metrics_port = 9000; };\n");
	struct sg_conf *off = load_ok("off", "");
	char all[512] = "";

	ck_assert_int_eq(sg_conf_restart_diff(started, started, collect_what, all), 0);
	/* Live settings, and everything of flow logs switched off, wait for nothing. */
	ck_assert_int_eq(sg_conf_restart_diff(started, live, collect_what, all), 0);
	ck_assert_str_eq(all, "");
	ck_assert_int_eq(sg_conf_restart_diff(started, pending, collect_what, all), 8);
	ck_assert_str_eq(all, "dataplane.workers dataplane.burst dataplane.eal_args "
			      "dataplane.file_prefix control.socket control.metrics_port "
			      "flow_logs.directory flow_logs.format");
	all[0] = '\0';
	/* Flow logs off at start cannot be switched on by a reload. */
	ck_assert_int_eq(sg_conf_restart_diff(off, started, collect_what, all), 2);
	ck_assert_str_eq(all, "dataplane.eal_args flow_logs.enabled");
	sg_conf_free(started);
	sg_conf_free(live);
	sg_conf_free(pending);
	sg_conf_free(off);
}
END_TEST

START_TEST(test_switch_defaults)
{
	static const uint8_t router_mac[6] = {0x02, 0x53, 0x47, 0x00, 0x00, 0x01};
	struct sg_conf *conf = load_ok("empty", "");

	ck_assert_mem_eq(conf->router_mac, router_mac, 6);
	ck_assert_uint_eq(conf->dataplane.workers, 1);
	ck_assert_uint_eq(conf->dataplane.mbufs, 16383);
	ck_assert_uint_eq(conf->dataplane.burst, 32);
	ck_assert_uint_eq(conf->dataplane.rx_desc, 1024);
	ck_assert_uint_eq(conf->dataplane.tx_desc, 1024);
	ck_assert_uint_eq(conf->dataplane.n_eal_args, 0);
	ck_assert_uint_eq(conf->dataplane.sleep_max_us, 0);
	ck_assert_uint_eq(conf->conntrack.capacity, 1048576);
	ck_assert(conf->conntrack.tcp_loose);
	ck_assert(!conf->conntrack.tcp_be_liberal);
	ck_assert(!conf->conntrack.keep_established);
	ck_assert_str_eq(conf->control_socket, "/run/sgfw/sgfw.sock");
	ck_assert_uint_eq(conf->n_subnets, 0);
	ck_assert(!conf->flow_logs.enabled);
	ck_assert_str_eq(conf->flow_logs.directory, "/var/log/sgfw/flows");
	ck_assert_uint_eq(conf->flow_logs.window, 60);
	ck_assert_int_eq(conf->flow_logs.format, SG_FLOWLOG_TEXT);
	ck_assert_uint_eq(conf->flow_logs.max_file_mb, 64);
	ck_assert_uint_eq(conf->flow_logs.max_file_age, 3600);
	ck_assert_uint_eq(conf->flow_logs.ring_size, 8192);
	ck_assert_uint_eq(conf->flow_logs.max_flows, 262144);
	ck_assert_uint_eq(conf->flow_logs.port_max_flows, 0); /* a quarter of max_flows */
	ck_assert_uint_eq(conf->flow_logs.port_events_per_second, 100000);
	ck_assert_uint_eq(conf->flow_logs.traffic, SG_FLOWLOG_ALL);
	ck_assert_str_eq(conf->dataplane.file_prefix, "sgfw");
	ck_assert_uint_eq(conf->logging.level, 7);
	ck_assert_uint_eq(conf->logging.n_levels, 0);
	ck_assert_int_eq(conf->logging.output, SG_LOG_OUTPUT_STDERR);
	ck_assert_uint_eq(conf->vhost_user.mode, 0);
	ck_assert_str_eq(conf->vhost_user.owner, "");
	sg_conf_free(conf);
}
END_TEST

/*
 * The service settings: logging, the EAL file prefix, vhost-user socket access (the default
 * and per port, a port's own winning), and all of them written back and read again.
 */
START_TEST(test_service_sections)
{
	static const char text[] =
		"logging = { level = \"warning\"; output = \"syslog\";\n"
		"            levels = [\"sgfw.dp:debug\", \"lib.vhost.*:err\"]; };\n"
		"dataplane = { file_prefix = \"sgfw-test.1\"; };\n"
		"vhost_user = { socket_group = \"kvm\"; socket_mode = \"0660\"; };\n"
		GROUP_A
		"ports = ( { name = \"p\"; " VM_FIELDS " socket_owner = \"libvirt-qemu\"; },\n"
		"          { name = \"q\"; mac = \"52:54:00:00:00:09\"; security_groups = [\"sg-a\"];\n"
		"            socket_mode = \"0600\"; socket_group = \"107\"; } );\n";
	struct sg_conf *conf = load_ok("service", text), *again;
	struct sg_conf_socket_access a;
	struct sg_error err = {0};
	char *written = NULL;
	size_t written_len = 0;
	FILE *out;

	for (int round = 0; round < 2; round++) {
		ck_assert_uint_eq(conf->logging.level, 5);
		ck_assert_int_eq(conf->logging.output, SG_LOG_OUTPUT_SYSLOG);
		ck_assert_uint_eq(conf->logging.n_levels, 2);
		ck_assert_str_eq(conf->logging.levels[0].pattern, "sgfw.dp");
		ck_assert_uint_eq(conf->logging.levels[0].level, 8);
		ck_assert_str_eq(conf->logging.levels[1].pattern, "lib.vhost.*");
		ck_assert_uint_eq(conf->logging.levels[1].level, 4);
		ck_assert_str_eq(conf->dataplane.file_prefix, "sgfw-test.1");
		sg_conf_socket_access(conf, sg_conf_find_port(conf, "p"), &a);
		ck_assert_str_eq(a.owner, "libvirt-qemu");
		ck_assert_str_eq(a.group, "kvm");
		ck_assert_uint_eq(a.mode, 0660);
		sg_conf_socket_access(conf, sg_conf_find_port(conf, "q"), &a);
		ck_assert_str_eq(a.owner, "");
		ck_assert_str_eq(a.group, "107");
		ck_assert_uint_eq(a.mode, 0600);
		if (round == 1)
			break;
		out = open_memstream(&written, &written_len);
		ck_assert_int_eq(sg_conf_write(conf, out), 0);
		fclose(out);
		again = sg_conf_load_string(written, "written.conf", &err);
		ck_assert_msg(again != NULL, "%s\n%s", err.msg, written);
		free(written);
		sg_conf_free(conf);
		conf = again;
	}
	sg_conf_free(conf);

	/* Nothing set anywhere: owner-only. */
	conf = load_ok("no access", GROUP_A "ports = ( { name = \"p\"; " VM_FIELDS " } );\n");
	sg_conf_socket_access(conf, &conf->ports[0], &a);
	ck_assert_uint_eq(a.mode, 0600);
	ck_assert_str_eq(a.owner, "");
	sg_conf_free(conf);
}
END_TEST

/* Flow logs: every field, and the selection of each port (own entry, groups, default). */
START_TEST(test_flow_logs_section)
{
	static const char text[] =
		"security_groups = ( { id = \"sg-a\"; }, { id = \"sg-b\"; tags = [\"t\"]; },\n"
		"                    { id = \"sg-c\"; } );\n"
		"ports = (\n"
		"  { name = \"a\"; mac = \"52:54:00:00:00:01\"; security_groups = [\"sg-a\"]; },\n"
		"  { name = \"b\"; mac = \"52:54:00:00:00:02\"; security_groups = [\"sg-a\"];\n"
		"    tags = [\"t\"]; },\n"
		"  { name = \"c\"; mac = \"52:54:00:00:00:03\"; security_groups = [\"sg-c\"]; },\n"
		"  { name = \"d\"; mac = \"52:54:00:00:00:04\"; security_groups = [\"sg-b\"]; }\n"
		");\n"
		"flow_logs = { enabled = true; directory = \"/tmp/flows\"; window = 5; format = \"json\";\n"
		"  max_file_mb = 2; max_file_age = 30; ring_size = 1024; max_flows = 4096;\n"
		"  port_max_flows = 4096; port_events_per_second = 0; traffic = \"reject\";\n"
		"  groups = ( { id = \"sg-a\"; traffic = \"accept\"; },\n"
		"             { id = \"sg-b\"; traffic = \"reject\"; } );\n"
		"  ports = ( { name = \"d\"; traffic = \"none\"; } ); };\n";
	struct sg_conf *conf = load_ok("flow logs", text);
	const struct sg_conf_flowlog *fl = &conf->flow_logs;

	ck_assert(fl->enabled);
	ck_assert_str_eq(fl->directory, "/tmp/flows");
	ck_assert_uint_eq(fl->window, 5);
	ck_assert_int_eq(fl->format, SG_FLOWLOG_JSON);
	ck_assert_uint_eq(fl->max_file_mb, 2);
	ck_assert_uint_eq(fl->max_file_age, 30);
	ck_assert_uint_eq(fl->ring_size, 1024);
	ck_assert_uint_eq(fl->max_flows, 4096);
	ck_assert_uint_eq(fl->port_max_flows, 4096);
	ck_assert_uint_eq(fl->port_events_per_second, 0);
	ck_assert_uint_eq(fl->traffic, SG_FLOWLOG_REJECT);
	ck_assert_uint_eq(fl->n_groups, 2);
	ck_assert_uint_eq(fl->n_ports, 1);
	ck_assert_int_eq(fl->groups[1].line, 14);
	/* a: its group; b: the union of its groups (sg-b by tag); c: the default; d: its own. */
	ck_assert_uint_eq(sg_conf_flowlog_traffic(conf, 0), SG_FLOWLOG_ACCEPT);
	ck_assert_uint_eq(sg_conf_flowlog_traffic(conf, 1), SG_FLOWLOG_ALL);
	ck_assert_uint_eq(sg_conf_flowlog_traffic(conf, 2), SG_FLOWLOG_REJECT);
	ck_assert_uint_eq(sg_conf_flowlog_traffic(conf, 3), 0);
	ck_assert_str_eq(sg_conf_flowlog_traffic_name(SG_FLOWLOG_ALL), "all");
	ck_assert_str_eq(sg_conf_flowlog_traffic_name(0), "none");
	sg_conf_free(conf);

	/* Switched off, nothing is logged whatever the selection says. */
	conf = load_ok("flow logs off", GROUP_A "ports = ( { name = \"p\"; " VM_FIELDS " } );\n"
			"flow_logs = { enabled = false; traffic = \"all\"; };\n");
	ck_assert_uint_eq(sg_conf_flowlog_traffic(conf, 0), 0);
	sg_conf_free(conf);
}
END_TEST

START_TEST(test_switch_sections)
{
	static const char text[] =
		"subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\"; },\n"
		"            { cidr = \"2001:db8:1::/64\"; gateway = \"2001:db8:1::1\"; } );\n"
		"router = { mac = \"02:00:00:00:00:fe\"; };\n"
		"dataplane = { workers = 2; burst = 64;\n"
		"              eal_args = [\"--no-huge\", \"-m\", \"512\"]; };\n"
		"conntrack = { capacity = 4096; keep_established = true;\n"
		"              timeouts = { tcp_established = 910; };\n"
		"              port_max_connections = 1000; port_new_connections_per_second = 300;\n"
		"              share_reserve = 20; };\n"
		"control = { socket = \"/tmp/sgfw.sock\"; };\n"
		GROUP_A
		"ports = ( { name = \"p\"; " VM_FIELDS "\n"
		"            ips = [\"10.1.0.5\", \"2001:db8:1::5\"];\n"
		"            max_connections = 50; new_connections_per_second = 20; } );\n";
	struct sg_conf *conf = load_ok("all sections", text), *again;
	struct sg_error err = {0};
	char *written = NULL;
	size_t written_len = 0;
	FILE *out;
	struct sg_ip ip;

	ck_assert_uint_eq(conf->n_subnets, 2);
	ck_assert_uint_eq(conf->router_mac[5], 0xfe);
	ck_assert_uint_eq(conf->dataplane.workers, 2);
	ck_assert_uint_eq(conf->dataplane.burst, 64);
	ck_assert_uint_eq(conf->dataplane.n_eal_args, 3);
	ck_assert_str_eq(conf->dataplane.eal_args[2], "512");
	ck_assert_uint_eq(conf->conntrack.capacity, 4096);
	ck_assert(conf->conntrack.keep_established);
	ck_assert_uint_eq(conf->conntrack.n_timeouts, 1);
	ck_assert_str_eq(conf->conntrack.timeouts[0].name, "tcp_established");
	ck_assert_uint_eq(conf->conntrack.timeouts[0].value, 910);
	ck_assert_int_eq(conf->conntrack.timeouts[0].line, 7);
	ck_assert_uint_eq(conf->conntrack.port_max_connections, 1000);
	ck_assert_uint_eq(conf->conntrack.port_new_connections_per_second, 300);
	ck_assert_uint_eq(conf->conntrack.share_reserve, 20);
	ck_assert_uint_eq(sg_conf_find_port(conf, "p")->max_connections, 50);
	ck_assert_uint_eq(sg_conf_find_port(conf, "p")->new_connections_per_second, 20);
	ck_assert_str_eq(conf->control_socket, "/tmp/sgfw.sock");
	sg_ip_parse("2001:db8:1::77", &ip);
	ck_assert_ptr_eq(sg_conf_subnet_of(conf, &ip), &conf->subnets[1]);
	sg_ip_parse("10.2.0.1", &ip);
	ck_assert_ptr_null(sg_conf_subnet_of(conf, &ip));

	/* The limits survive a write (online changes persist the whole config). */
	out = open_memstream(&written, &written_len);
	ck_assert_int_eq(sg_conf_write(conf, out), 0);
	fclose(out);
	again = sg_conf_load_string(written, "written.conf", &err);
	ck_assert_msg(again != NULL, "%s\n%s", err.msg, written);
	ck_assert_uint_eq(again->conntrack.port_max_connections, 1000);
	ck_assert_uint_eq(again->conntrack.port_new_connections_per_second, 300);
	ck_assert_uint_eq(again->conntrack.share_reserve, 20);
	ck_assert_uint_eq(sg_conf_find_port(again, "p")->max_connections, 50);
	ck_assert_uint_eq(sg_conf_find_port(again, "p")->new_connections_per_second, 20);
	sg_conf_free(again);
	free(written);
	sg_conf_free(conf);
}
END_TEST

#define SUBNET_1 "subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\"; } );\n"

static const struct t_load_error switch_errors[] = {
	{"subnet with host bits",
		"subnets = (\n  { cidr = \"10.1.0.1/24\"; gateway = \"10.1.0.1\"; } #<\n);\n",
			{"subnet cidr \"10.1.0.1/24\" has host bits set; the network is "
			 "10.1.0.0/24"}},
	{"subnet gateway outside",
		"subnets = (\n  { cidr = \"10.1.0.0/24\"; gateway = \"10.2.0.1\"; } #<\n);\n",
			{"subnet gateway 10.2.0.1 is outside its subnet 10.1.0.0/24"}},
	{"subnet without gateway", "subnets = (\n  { cidr = \"10.1.0.0/24\"; } #<\n);\n",
			{"a subnet needs cidr and gateway"}},
	{"overlapping subnets name both",
		"subnets = (\n"
		"  { cidr = \"10.0.0.0/16\"; gateway = \"10.0.0.1\"; },\n"
		"  { cidr = \"10.0.1.0/24\"; gateway = \"10.0.1.1\"; } #<\n"
		");\n",
			{"subnet 10.0.1.0/24 overlaps subnet 10.0.0.0/16 (line 2)"}},
	{"port address in no subnet", SUBNET_1 GROUP_A
		"ports = (\n  { name = \"p\"; " VM_FIELDS " ips = [\"10.2.0.5\"]; } #<\n);\n",
			{"port \"p\": ip 10.2.0.5 is in no configured subnet"}},
	{"port address is a gateway", SUBNET_1 GROUP_A
		"ports = (\n  { name = \"p\"; " VM_FIELDS " ips = [\"10.1.0.1\"]; } #<\n);\n",
			{"port \"p\": ip 10.1.0.1 is the gateway of subnet on line 1"}},
	{"router mac multicast", "router = {\n  mac = \"01:00:5e:00:00:01\"; #<\n};\n",
			{"router.mac \"01:00:5e:00:00:01\" is not a unicast MAC"}},
	{"router mac all zeros", "router = {\n  mac = \"00:00:00:00:00:00\"; #<\n};\n",
			{"router.mac \"00:00:00:00:00:00\" is not a unicast MAC"}},
	{"router not a group", "router = \"02:00:00:00:00:01\"; #<\n", {"router"}},
	{"control not a group", "control = \"/tmp/s\"; #<\n", {"control"}},
	{"dataplane workers 0", "dataplane = {\n  workers = 0; #<\n};\n",
			{"dataplane.workers 0 is out of range 1.."}},
	{"dataplane burst 65", "dataplane = { burst = 65; }; #<\n",
			{"dataplane.burst 65 is out of range 1..64"}},
	{"dataplane sleep over 10 ms", "dataplane = { sleep_max_us = 10001; }; #<\n",
			{"dataplane.sleep_max_us 10001 is out of range 0..10000"}},
	{"dataplane unknown field", "dataplane = { cores = 2; }; #<\n",
			{"dataplane: unknown field \"cores\""}},
	{"conntrack capacity too small", "conntrack = { capacity = 10; }; #<\n",
			{"conntrack.capacity 10 is out of range 1024..100000000"}},
	{"conntrack port limit out of range",
		"conntrack = { port_new_connections_per_second = -5; }; #<\n",
			{"conntrack.port_new_connections_per_second -5 is out of range 0..100000000"}},
	{"conntrack share reserve over half", "conntrack = { share_reserve = 51; }; #<\n",
			{"conntrack.share_reserve 51 is out of range 0..50"}},
	{"conntrack flag not a bool", "conntrack = { tcp_loose = 1; }; #<\n",
			{"conntrack.tcp_loose must be true or false"}},
	{"conntrack timeout 0", "conntrack = { timeouts = {\n  udp = 0; }; }; #<\n",
			{"conntrack.timeouts.udp 0 is out of range 1..10000000"}},
	{"flow_logs not a group", "flow_logs = true; #<\n", {"flow_logs must be a group"}},
	{"flow_logs window 0", "flow_logs = {\n  window = 0; #<\n};\n",
			{"flow_logs.window 0 is out of range 1..3600"}},
	{"flow_logs port share over the whole",
		"flow_logs = { max_flows = 2048;\n  port_max_flows = 4096; #<\n};\n",
			{"flow_logs.port_max_flows 4096 is more than flow_logs.max_flows 2048"}},
	{"flow_logs port events out of range",
		"flow_logs = {\n  port_events_per_second = 100000001; #<\n};\n",
			{"flow_logs.port_events_per_second 100000001 is out of range 0..100000000"}},
	{"flow_logs format", "flow_logs = {\n  format = \"csv\"; #<\n};\n",
			{"flow_logs.format \"csv\" must be \"text\", \"json\", \"alibaba\" or \"aws-v5\""}},
	{"flow_logs traffic", "flow_logs = {\n  traffic = \"some\"; #<\n};\n",
			{"flow_logs.traffic \"some\" must be \"all\", \"accept\", \"reject\" or \"none\""}},
	{"flow_logs enabled not a bool", "flow_logs = {\n  enabled = 1; #<\n};\n",
			{"flow_logs.enabled must be true or false"}},
	{"flow_logs unknown field", "flow_logs = {\n  interval = 5; #<\n};\n",
			{"flow_logs: unknown field \"interval\""}},
	{"flow_logs unknown group", GROUP_A
		"flow_logs = { groups = (\n  { id = \"sg-x\"; traffic = \"all\"; } #<\n); };\n",
			{"flow_logs.groups: security group \"sg-x\" is not defined"}},
	{"flow_logs unknown port", GROUP_A "ports = ( { name = \"p\"; " VM_FIELDS " } );\n"
		"flow_logs = { ports = (\n  { name = \"q\"; traffic = \"all\"; } #<\n); };\n",
			{"flow_logs.ports: port \"q\" is not defined"}},
	{"flow_logs port twice", GROUP_A "ports = ( { name = \"p\"; " VM_FIELDS " } );\n"
		"flow_logs = { ports = ( { name = \"p\"; traffic = \"all\"; },\n"
		"  { name = \"p\"; traffic = \"none\"; } #<\n); };\n",
			{"flow_logs.ports: \"p\" is listed twice (first on line 3)"}},
	{"logging level", "logging = {\n  level = \"loud\"; #<\n};\n",
			{"logging.level \"loud\" must be emergency, alert, critical, error, warning, "
			 "notice, info or debug"}},
	{"logging levels entry", "logging = {\n  levels = [\"sgfw.dp\"]; #<\n};\n",
			{"logging.levels entry \"sgfw.dp\" must be TYPE:LEVEL"}},
	{"logging levels level", "logging = {\n  levels = [\"sgfw.dp:chatty\"]; #<\n};\n",
			{"logging.levels level \"chatty\" must be emergency"}},
	{"logging output", "logging = {\n  output = \"file\"; #<\n};\n",
			{"logging.output \"file\" must be \"stderr\" or \"syslog\""}},
	{"logging unknown field", "logging = {\n  verbose = true; #<\n};\n",
			{"logging: unknown field \"verbose\""}},
	{"file prefix", "dataplane = {\n  file_prefix = \"a/b\"; #<\n};\n",
			{"dataplane.file_prefix \"a/b\" must be 1..32 letters"}},
	{"vhost_user mode", "vhost_user = {\n  socket_mode = \"0999\"; #<\n};\n",
			{"vhost_user.socket_mode \"0999\" must be octal permissions 0001..0777"}},
	{"vhost_user owner", "vhost_user = {\n  socket_owner = \"qemu user\"; #<\n};\n",
			{"vhost_user.socket_owner \"qemu user\" is not a user or group name"}},
	{"vhost_user unknown field", "vhost_user = {\n  owner = \"x\"; #<\n};\n",
			{"vhost_user: unknown field \"owner\""}},
	{"socket access on a client port", GROUP_A
		"ports = (\n  { name = \"p\"; " VM_FIELDS " client = true; socket_mode = \"0660\"; } #<\n);\n",
			{"port \"p\": socket_owner, socket_group and socket_mode apply to server sockets "
			 "only (client = false)"}},
	{"socket access on an af_packet port", GROUP_A
		"ports = ( { name = \"p\"; " VM_FIELDS " type = \"af_packet\"; iface = \"x\";\n"
		"  socket_mode = \"0660\"; } #<\n);\n",
			{"port \"p\": socket_mode applies to vhost-user ports only"}},
	{"flow_logs selection without traffic", GROUP_A
		"flow_logs = { groups = (\n  { id = \"sg-a\"; } #<\n); };\n",
			{"flow_logs.groups entry needs id and traffic"}},
};

START_TEST(test_switch_errors)
{
	expect_load_error(&switch_errors[_i]);
}
END_TEST


/* ---- The fleet: host, hosts, subnets[].vni, ports[].host, overlay ---- */

#define FLEET_HOSTS                                                                                \
	"host = \"hv1\";\n"                                                                        \
	"hosts = ( { name = \"hv1\"; vtep = \"192.168.50.1\"; mac = \"02:00:00:00:50:01\"; },\n"    \
	"  { name = \"hv2\"; vtep = \"192.168.50.2\"; } );\n"
#define FLEET_SUBNETS                                                                              \
	"subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\"; vni = 101; },\n"            \
	"  { cidr = \"10.2.0.0/24\"; gateway = \"10.2.0.1\"; vni = 102; },\n"                      \
	"  { cidr = \"10.3.0.0/24\"; gateway = \"10.3.0.1\"; } );\n"
#define FLEET_GROUPS                                                                               \
	"security_groups = ( { id = \"sg-db\"; rules = ( { direction = \"ingress\";\n"             \
	"    protocol = \"tcp\"; port_range = \"5432/5432\"; source_group = \"sg-web\"; } ); },\n"  \
	"  { id = \"sg-web\"; } );\n"
#define FLEET_UPLINK                                                                               \
	"  { name = \"up\"; type = \"ring\"; role = \"uplink\"; peer_mac = \"52:54:00:ff:ff:01\"; },\n"
#define FLEET                                                                                      \
	FLEET_HOSTS FLEET_SUBNETS FLEET_GROUPS                                                     \
	"ports = (\n" FLEET_UPLINK                                                                 \
	"  { name = \"db1\"; type = \"ring\"; mac = \"52:54:00:00:01:01\"; ips = [\"10.1.0.11\"];\n" \
	"    security_groups = [\"sg-db\"]; host = \"hv1\"; },\n"                                   \
	"  { name = \"web9\"; type = \"af_packet\"; host = \"hv2\"; mac = \"52:54:00:00:02:09\";\n" \
	"    ips = [\"10.2.0.19\"]; allowed_prefixes = [\"10.2.0.64/26\"];\n"                       \
	"    security_groups = [\"sg-web\"]; } );\n"

START_TEST(test_fleet_loads)
{
	struct sg_conf *conf = load_ok("fleet", FLEET);
	const struct sg_spec *spec = sg_policy_spec(conf->policy);
	const struct sg_conf_port *db1 = sg_conf_find_port(conf, "db1");
	const struct sg_conf_port *web9 = sg_conf_find_port(conf, "web9");
	const struct sg_eff_rule *eff;
	uint32_t db = port_of(conf->policy, "db1"), web = port_of(conf->policy, "web9");
	char ip[SG_IP_STRLEN];
	uint32_t n;

	ck_assert_str_eq(conf->host, "hv1");
	ck_assert_uint_eq(conf->n_hosts, 2);
	ck_assert_str_eq(conf->hosts[0].name, "hv1");
	ck_assert_str_eq(sg_ip_format(&conf->hosts[0].vtep, ip, sizeof(ip)), "192.168.50.1");
	ck_assert(conf->hosts[0].has_mac);
	ck_assert_uint_eq(conf->hosts[0].mac[5], 0x01);
	ck_assert_str_eq(conf->hosts[1].name, "hv2");
	ck_assert(!conf->hosts[1].has_mac);
	ck_assert_ptr_eq(sg_conf_find_host(conf, "hv2"), &conf->hosts[1]);
	ck_assert_ptr_null(sg_conf_find_host(conf, "hv3"));
	ck_assert_uint_eq(conf->subnets[0].vni, 101);
	ck_assert_uint_eq(conf->subnets[1].vni, 102);
	ck_assert_uint_eq(conf->subnets[2].vni, 0);
	ck_assert_uint_eq(conf->overlay.mtu, SG_OVERLAY_MTU_DEFAULT);
	/* db1 names this host: local. web9 is on hv2: no device needed (no iface). */
	ck_assert_str_eq(db1->host, "hv1");
	ck_assert(!db1->remote);
	ck_assert(!spec->ports[db].remote);
	ck_assert_str_eq(web9->host, "hv2");
	ck_assert(web9->remote);
	ck_assert_str_eq(web9->path, "");
	ck_assert(spec->ports[web].remote);
	/* The remote member feeds the local port's group peer: its address and prefix. */
	n = sg_policy_effective(conf->policy, db, SG_DIR_INGRESS, &eff);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(eff[0].origin, SG_ORIGIN_INNER);
	ck_assert_int_eq(eff[1].origin, SG_ORIGIN_RULE);
	ck_assert_uint_eq(eff[1].n_peers, 2);
	ck_assert_str_eq(sg_ip_format(&eff[1].peers[0].ip, ip, sizeof(ip)), "10.2.0.19");
	ck_assert_uint_eq(eff[1].peers[1].len, 26);
	/* Nothing is compiled for the remote port: its type's defaults only. */
	for (int d = 0; d < SG_DIR_COUNT; d++) {
		n = sg_policy_effective(conf->policy, web, (enum sg_dir)d, &eff);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(eff[0].origin, SG_ORIGIN_DEFAULT);
	}
	sg_conf_free(conf);
}
END_TEST

/* Written and loaded again: the same fleet; and a fleet change waits for no restart. */
START_TEST(test_fleet_round_trip_and_live)
{
	struct sg_conf *conf = load_ok("fleet", FLEET "overlay = { mtu = 9000; };\n"), *again;
	struct sg_conf *moved;
	char *text = NULL, all[512] = "";
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	struct sg_error err = {0};

	ck_assert_int_eq(sg_conf_write(conf, out), 0);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(text, "host = \"hv1\";"));
	ck_assert_ptr_nonnull(strstr(text, "vni = 101;"));
	ck_assert_ptr_nonnull(strstr(text, "host = \"hv2\";"));
	ck_assert_ptr_nonnull(strstr(text, "mtu = 9000;"));
	again = sg_conf_load_string(text, "again.conf", &err);
	ck_assert_msg(again != NULL, "%s\n%s", err.msg, text);
	ck_assert_int_eq(sg_conf_diff(conf, again, collect_what, all), 0);
	ck_assert_str_eq(all, "");
	ck_assert(sg_conf_find_port(again, "web9")->remote);
	/* The VM moves to this host, a host is added, the vni changes: all live. */
	moved = load_ok("changed", "host = \"hv2\";\n"
			"hosts = ( { name = \"hv1\"; vtep = \"192.168.50.1\"; },\n"
			"  { name = \"hv2\"; vtep = \"192.168.50.7\"; } );\n"
			"subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\"; vni = 7; } );\n"
			"ports = ( { name = \"up\"; type = \"ring\"; role = \"uplink\";\n"
			"  peer_mac = \"52:54:00:ff:ff:01\"; } );\n");
	ck_assert_int_eq(sg_conf_restart_diff(conf, moved, collect_what, all), 0);
	ck_assert_int_gt(sg_conf_diff(conf, moved, NULL, NULL), 0);
	sg_conf_free(moved);
	sg_conf_free(again);
	sg_conf_free(conf);
	free(text);
}
END_TEST

/* sgfwctl's "port add NAME host=hv2 ...": the same field through sg_conf_port_set. */
START_TEST(test_fleet_port_set_host)
{
	struct sg_conf *conf = load_ok("fleet", FLEET), *derived;
	struct sg_spec *spec = sg_spec_clone(sg_policy_spec(conf->policy));
	struct sg_conf_port *ports = calloc(conf->n_ports + 1, sizeof(*ports));
	struct sg_spec_port *port;
	struct sg_error err = {0};
	uint32_t n = conf->n_ports;

	memcpy(ports, conf->ports, n * sizeof(*ports));
	port = sg_spec_add_port(spec, "web8", 0);
	ck_assert_int_eq(sg_conf_port_init(&ports[n], "web8", NULL, NULL, 0, &err), 0);
	ck_assert_int_eq(sg_conf_port_set(&ports[n], port, "host", "hv2", &err), 0);
	ck_assert_int_eq(sg_conf_port_set(&ports[n], port, "mac", "52:54:00:00:02:08", &err), 0);
	ck_assert_int_eq(sg_conf_port_set(&ports[n], port, "ips", "10.2.0.18", &err), 0);
	ck_assert_int_eq(sg_conf_port_set(&ports[n], port, "security_groups", "sg-web", &err), 0);
	ck_assert_int_eq(sg_conf_port_finish(&ports[n], &err), 0);
	ck_assert_int_eq(sg_conf_port_set(&ports[n], port, "host", "", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "port \"web8\": host \"\" must be 1..63 characters");
	ck_assert_int_eq(sg_conf_port_set(&ports[0], NULL, "host", "hv2", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "host applies to VM ports only"));
	derived = sg_conf_derive(conf, spec, ports, n + 1, &err);
	ck_assert_msg(derived != NULL, "%s", err.msg);
	ck_assert(sg_conf_find_port(derived, "web8")->remote);
	ck_assert(sg_policy_spec(derived->policy)->ports[port_of(derived->policy, "web8")].remote);
	sg_conf_free(derived);
	/* A remote port in a subnet without a vni is refused by the change too. */
	spec = sg_spec_clone(sg_policy_spec(conf->policy));
	port = sg_spec_add_port(spec, "web7", 0);
	ck_assert_int_eq(sg_conf_port_init(&ports[n], "web7", NULL, NULL, 0, &err), 0);
	ck_assert_int_eq(sg_conf_port_set(&ports[n], port, "host", "hv2", &err), 0);
	ck_assert_int_eq(sg_conf_port_set(&ports[n], port, "mac", "52:54:00:00:02:07", &err), 0);
	ck_assert_int_eq(sg_conf_port_set(&ports[n], port, "ips", "10.3.0.17", &err), 0);
	ck_assert_int_eq(sg_conf_port_finish(&ports[n], &err), 0);
	ck_assert_ptr_null(sg_conf_derive(conf, spec, ports, n + 1, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "port \"web7\": ip 10.3.0.17 is in subnet "
					      "10.3.0.0/24 (line 6), which has no vni"));
	free(ports);
	sg_conf_free(conf);
}
END_TEST

#define FLEET_PORTS_WITH(port)                                                                     \
	FLEET_SUBNETS "ports = (\n" FLEET_UPLINK port ");\n"

static const struct t_load_error fleet_errors[] = {
	{"host not a string", "host = 1; #<\n", {"host must be a string"}},
	{"host empty", "host = \"\"; #<\n", {"host \"\" must be 1..63 characters"}},
	{"hosts not a list", "hosts = { name = \"hv1\"; }; #<\n", {"hosts must be a list"}},
	{"host entry without vtep", "host = \"hv1\";\nhosts = (\n  { name = \"hv1\"; } #<\n);\n",
			{"hosts[0]: a host needs name and vtep"}},
	{"host unknown field",
		"hosts = ( { name = \"hv1\"; vtep = \"192.168.50.1\";\n  ip = \"x\"; } #<\n);\n",
			{"hosts[0]: unknown field \"ip\" (known: name, vtep, mac)"}},
	{"host name twice",
		"hosts = ( { name = \"hv1\"; vtep = \"192.168.50.1\"; },\n"
		"  { name = \"hv1\"; #<\n  vtep = \"192.168.50.2\"; } );\n",
			{"hosts[1].name: host \"hv1\" is defined twice (first on line 1)"}},
	{"vtep IPv6",
		"hosts = ( { name = \"hv1\";\n  vtep = \"fd00::1\"; } #<\n);\n",
			{"hosts[0].vtep \"fd00::1\" is not an IPv4 address (the underlay is IPv4)"}},
	{"vtep multicast", "hosts = ( { name = \"hv1\";\n  vtep = \"224.0.0.5\"; } #<\n);\n",
			{"hosts[0].vtep 224.0.0.5 is a multicast address, not a host's unicast address"}},
	{"vtep twice",
		"hosts = ( { name = \"hv1\"; vtep = \"192.168.50.1\"; },\n"
		"  { name = \"hv2\";\n  vtep = \"192.168.50.1\"; } #<\n);\n",
			{"hosts[1].vtep 192.168.50.1 is already the vtep of host \"hv1\" (line 1)"}},
	{"host mac multicast",
		"hosts = ( { name = \"hv1\"; vtep = \"192.168.50.1\";\n"
		"  mac = \"01:00:5e:00:00:01\"; } #<\n);\n",
			{"hosts[0].mac \"01:00:5e:00:00:01\" is not a unicast MAC"}},
	{"hosts without host", "hosts = (\n  { name = \"hv1\"; vtep = \"192.168.50.1\"; } #<\n);\n",
			{"hosts is given but not host"}},
	{"host not among hosts",
		"host = \"hv9\";\nhosts = (\n  { name = \"hv1\"; vtep = \"192.168.50.1\"; } #<\n);\n",
			{"host \"hv9\" is not one of hosts"}},
	{"hosts without uplink",
		"host = \"hv1\";\nhosts = (\n  { name = \"hv1\"; vtep = \"192.168.50.1\"; } #<\n);\n",
			{"hosts is given but no port has role = \"uplink\""}},
	{"vni zero", "subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\";\n"
		"  vni = 0; } ); #<\n",
			{"subnets[0].vni 0 is out of range 1..16777215"}},
	{"vni too big", "subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\";\n"
		"  vni = 16777216; } ); #<\n",
			{"subnets[0].vni 16777216 is out of range 1..16777215"}},
	{"vni twice", "subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\"; vni = 5; },\n"
		"  { cidr = \"10.2.0.0/24\"; gateway = \"10.2.0.1\"; vni = 5; } ); #<\n",
			{"subnets[1].vni: vni 5 is already the vni of subnet 10.1.0.0/24 (line 1)"}},
	{"port host unknown", FLEET_HOSTS FLEET_PORTS_WITH(
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; host = \"hv7\"; } #<\n"),
			{"port \"p\": host \"hv7\" is not one of hosts"}},
	{"port host without hosts", FLEET_PORTS_WITH(
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; host = \"hv2\"; } #<\n"),
			{"port \"p\": host \"hv2\" is not one of hosts"}},
	{"port host on the uplink",
		"ports = ( { name = \"up\"; type = \"ring\"; role = \"uplink\";\n"
		"  host = \"hv2\"; } ); #<\n",
			{"host applies to VM ports only"}},
	{"port host not a string", FLEET_HOSTS FLEET_PORTS_WITH(
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\";\n  host = 2; } #<\n"),
			{"host must be a string"}},
	{"remote port in a subnet without vni", FLEET_HOSTS FLEET_PORTS_WITH(
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; host = \"hv2\"; #<\n"
		"    ips = [\"10.3.0.9\"]; }\n"),
			{"port \"p\": ip 10.3.0.9 is in subnet 10.3.0.0/24 (line 6), which has no vni"}},
	{"remote port prefix in no subnet", FLEET_HOSTS FLEET_PORTS_WITH(
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; host = \"hv2\"; #<\n"
		"    allowed_prefixes = [\"172.16.0.0/24\"]; }\n"),
			{"port \"p\": allowed prefix 172.16.0.0/24 is in no subnet"}},
	{"local port still needs its device", FLEET_HOSTS FLEET_PORTS_WITH(
		"  { name = \"p\"; mac = \"52:54:00:00:00:01\"; host = \"hv1\"; type = \"af_packet\"; #<\n"
		"    ips = [\"10.3.0.9\"]; }\n"),
			{"port \"p\" (af_packet) needs iface"}},
	{"overlay mtu too small", "overlay = {\n  mtu = 1000; #<\n};\n",
			{"overlay.mtu 1000 is out of range 1330..9216"}},
	{"overlay unknown field", "overlay = {\n  vni = 1; #<\n};\n",
			{"overlay: unknown field \"vni\" (known: mtu)"}},
};

START_TEST(test_fleet_errors)
{
	expect_load_error(&fleet_errors[_i]);
}
END_TEST

/* ---- Addresses a VM cannot own, identifiers that would not show as what they are ---- */

#define SUBNETS_V4_V6                                                                              \
	"subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\"; },\n"                       \
	"  { cidr = \"fd00:1::/64\"; gateway = \"fd00:1::1\"; },\n"                                 \
	"  { cidr = \"10.9.0.0/31\"; gateway = \"10.9.0.0\"; } );\n"
#define PORT_IP(ip) GROUP_A "ports = (\n  { name = \"p\"; " VM_FIELDS " ips = [\"" ip "\"]; } #<\n);\n"

static const struct t_load_error address_errors[] = {
	{"0.0.0.0", PORT_IP("0.0.0.0"),
			{"port \"p\": ip 0.0.0.0 is the unspecified address, which no VM can own"}},
	{"255.255.255.255", PORT_IP("255.255.255.255"),
			{"port \"p\": ip 255.255.255.255 is the broadcast address, which no VM can own"}},
	{"224.0.0.1", PORT_IP("224.0.0.1"),
			{"port \"p\": ip 224.0.0.1 is a multicast address, which no VM can own"}},
	{"239.255.255.250", PORT_IP("239.255.255.250"),
			{"port \"p\": ip 239.255.255.250 is a multicast address, which no VM can own"}},
	{"127.0.0.1", PORT_IP("127.0.0.1"),
			{"port \"p\": ip 127.0.0.1 is a loopback address, which no VM can own"}},
	{"::", PORT_IP("::"), {"port \"p\": ip :: is the unspecified address, which no VM can own"}},
	{"ff02::1", PORT_IP("ff02::1"),
			{"port \"p\": ip ff02::1 is a multicast address, which no VM can own"}},
	{"::1", PORT_IP("::1"), {"port \"p\": ip ::1 is the loopback address, which no VM can own"}},
	{"multicast with subnets", SUBNETS_V4_V6 PORT_IP("224.0.0.1"),
			{"port \"p\": ip 224.0.0.1 is a multicast address, which no VM can own"}},
	{"a subnet's network address", SUBNETS_V4_V6 PORT_IP("10.1.0.0"),
			{"port \"p\": ip 10.1.0.0 is the network address of subnet 10.1.0.0/24 (line 1), "
			 "which no VM can own"}},
	{"a subnet's broadcast address", SUBNETS_V4_V6 PORT_IP("10.1.0.255"),
			{"port \"p\": ip 10.1.0.255 is the broadcast address of subnet 10.1.0.0/24 "
			 "(line 1), which no VM can own"}},
	{"an IPv6 subnet's subnet-router anycast address", SUBNETS_V4_V6 PORT_IP("fd00:1::"),
			{"port \"p\": ip fd00:1:: is the subnet-router anycast address of subnet "
			 "fd00:1::/64 (line 2), which no VM can own"}},
};

/* Allowed prefixes: what the port's addresses may not be, as a whole network; and a prefix
 * either inside one subnet, short of its edges and gateway, or outside all of them. */
#define PORT_PFX(p)                                                                                \
	GROUP_A "ports = (\n  { name = \"p\"; " VM_FIELDS " allowed_prefixes = [" p "]; } #<\n);\n"
#define SUBNETS_EDGES                                                                              \
	"subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\"; },\n"                       \
	"  { cidr = \"10.5.0.0/24\"; gateway = \"10.5.0.254\"; },\n"                               \
	"  { cidr = \"fd00:5::/64\"; gateway = \"fd00:5::ffff\"; } );\n"

static const struct t_load_error prefix_errors[] = {
	{"not a CIDR", PORT_PFX("\"10.2.0.0/33\""),
			{"port \"p\": allowed prefix \"10.2.0.0/33\" is not an IPv4 or IPv6 CIDR "
			 "like 10.2.0.128/25"}},
	{"host bits", PORT_PFX("\"10.2.0.129/25\""),
			{"port \"p\": allowed prefix \"10.2.0.129/25\" has host bits set; the "
			 "network is 10.2.0.128/25"}},
	{"IPv6 host bits", PORT_PFX("\"fd00:2::1/64\""),
			{"port \"p\": allowed prefix \"fd00:2::1/64\" has host bits set; the "
			 "network is fd00:2::/64"}},
	{"not a list", GROUP_A "ports = (\n  { name = \"p\"; " VM_FIELDS
		" allowed_prefixes = \"10.2.0.0/24\"; } #<\n);\n",
			{"port \"p\": allowed_prefixes must be a list of CIDRs, like "
			 "[\"10.2.0.128/25\"]"}},
	{"an entry not a string", PORT_PFX("24"), {"allowed prefix must be a string"}},
	{"everything", PORT_PFX("\"0.0.0.0/0\""),
			{"port \"p\": allowed prefix 0.0.0.0/0 holds the unspecified address, "
			 "which no VM can own"}},
	{"the broadcast address", PORT_PFX("\"255.255.255.0/24\""),
			{"port \"p\": allowed prefix 255.255.255.0/24 holds the broadcast address, "
			 "which no VM can own"}},
	{"over the multicast range", PORT_PFX("\"224.0.0.0/3\""),
			{"port \"p\": allowed prefix 224.0.0.0/3 overlaps the multicast addresses "
			 "224.0.0.0/4, which no VM can own"}},
	{"inside the multicast range", PORT_PFX("\"239.1.0.0/16\""),
			{"port \"p\": allowed prefix 239.1.0.0/16 overlaps the multicast addresses "
			 "224.0.0.0/4, which no VM can own"}},
	{"loopback", PORT_PFX("\"127.0.5.0/24\""),
			{"port \"p\": allowed prefix 127.0.5.0/24 overlaps the loopback addresses "
			 "127.0.0.0/8, which no VM can own"}},
	{"IPv4 link-local", PORT_PFX("\"169.254.169.0/24\""),
			{"port \"p\": allowed prefix 169.254.169.0/24 overlaps the link-local "
			 "addresses 169.254.0.0/16, which are never routed"}},
	{"IPv6 everything", PORT_PFX("\"::/0\""),
			{"port \"p\": allowed prefix ::/0 holds the unspecified address, which no "
			 "VM can own"}},
	{"IPv6 loopback, as a bare address", PORT_PFX("\"::1\""),
			{"port \"p\": allowed prefix ::1/128 holds the loopback address, which no "
			 "VM can own"}},
	{"IPv6 multicast", PORT_PFX("\"ff02::/16\""),
			{"port \"p\": allowed prefix ff02::/16 overlaps the multicast addresses "
			 "ff00::/8, which no VM can own"}},
	{"IPv6 link-local", PORT_PFX("\"fe80::/64\""),
			{"port \"p\": allowed prefix fe80::/64 overlaps the link-local addresses "
			 "fe80::/10, which are never routed (each port has its own)"}},
	{"a prefix covering a subnet", SUBNETS_EDGES PORT_PFX("\"10.0.0.0/8\""),
			{"port \"p\": allowed prefix 10.0.0.0/8 covers subnet 10.1.0.0/24 (line "
			 "1); a prefix lies inside one subnet or outside all of them"}},
	{"a prefix equal to a subnet", SUBNETS_EDGES PORT_PFX("\"fd00:5::/64\""),
			{"port \"p\": allowed prefix fd00:5::/64 covers subnet fd00:5::/64 (line "
			 "3); a prefix lies inside one subnet or outside all of them"}},
	{"a prefix holding a gateway", SUBNETS_EDGES PORT_PFX("\"10.1.0.0/30\""),
			{"port \"p\": allowed prefix 10.1.0.0/30 holds the gateway 10.1.0.1 of "
			 "subnet 10.1.0.0/24 (line 1)"}},
	{"a prefix holding a subnet's network address", SUBNETS_EDGES PORT_PFX("\"10.5.0.0/26\""),
			{"port \"p\": allowed prefix 10.5.0.0/26 holds the network address of "
			 "subnet 10.5.0.0/24 (line 2), which no VM can own"}},
	{"a prefix holding a subnet's broadcast address",
		SUBNETS_EDGES PORT_PFX("\"10.1.0.128/25\""),
			{"port \"p\": allowed prefix 10.1.0.128/25 holds the broadcast address of "
			 "subnet 10.1.0.0/24 (line 1), which no VM can own"}},
	{"a prefix holding the subnet-router anycast address",
		SUBNETS_EDGES PORT_PFX("\"fd00:5::/120\""),
			{"port \"p\": allowed prefix fd00:5::/120 holds the subnet-router anycast "
			 "address of subnet fd00:5::/64 (line 3), which no VM can own"}},
	{"on the uplink", GROUP_A "ports = (\n  { name = \"up\"; " UPLINK_FIELDS
		" allowed_prefixes = [\"10.2.0.0/24\"]; } #<\n);\n",
			{"port \"up\" is an uplink: allowed_prefixes applies to VM ports only"}},
};

START_TEST(test_prefix_errors)
{
	expect_load_exact(&prefix_errors[_i]);
}
END_TEST

/* Inside a subnet between its edges, outside every subnet (a network routed behind the VM),
 * around the port's own address, one address alone (a bare address is a host prefix). */
START_TEST(test_prefixes_allowed)
{
	struct sg_conf *conf = load_ok("prefixes", SUBNETS_EDGES GROUP_A
			"ports = ( { name = \"p\"; " VM_FIELDS " ips = [\"10.1.0.130\"];\n"
			"  allowed_prefixes = [\"10.1.0.128/26\", \"10.1.0.192/27\", "
			"\"10.5.0.4/30\",\n    \"fd00:5::100/120\", \"192.168.50.0/24\", "
			"\"2001:db8:77::/48\", \"10.1.0.77\"]; } );\n");
	const struct sg_spec_port *p = &conf->spec->ports[0];
	char text[SG_PREFIX_STRLEN];

	ck_assert_uint_eq(p->n_prefixes, 7);
	ck_assert_str_eq(sg_prefix_format(&p->prefixes[6], text, sizeof(text)), "10.1.0.77/32");
	sg_conf_free(conf);
}
END_TEST

START_TEST(test_address_errors)
{
	expect_load_exact(&address_errors[_i]);
}
END_TEST

/* The edges of a /24 are refused, what lies between them and both ends of a /31 are not. */
START_TEST(test_addresses_allowed)
{
	struct sg_conf *conf = load_ok("addresses", SUBNETS_V4_V6 GROUP_A
			"ports = ( { name = \"p\"; " VM_FIELDS
			" ips = [\"10.1.0.2\", \"10.1.0.254\", \"fd00:1::ffff:ffff:ffff:ffff\", "
			"\"10.9.0.1\"]; } );\n");

	ck_assert_uint_eq(conf->spec->ports[0].n_ips, 4);
	sg_conf_free(conf);
}
END_TEST

#define GROUP_ID(id) "security_groups = (\n  { id = \"" id "\"; } #<\n);\n"

static const struct t_load_error identifier_errors[] = {
	{"group id with an escape sequence", GROUP_ID("sg\\x1b[31mred"),
			{"security group id \"sg\\x1b[31mred\" holds the control character U+001B at "
			 "byte 3"}},
	{"group id with a newline", GROUP_ID("sg\\ndb"),
			{"security group id \"sg\\ndb\" holds the control character U+000A at byte 3"}},
	{"group id with a right-to-left override", GROUP_ID("sg-\xe2\x80\xae" "bd"),
			{"security group id \"sg-\\u{202E}bd\" holds the Unicode bidirectional control "
			 "U+202E at byte 4"}},
	{"group id that is not UTF-8", GROUP_ID("sg-\\xff"),
			{"security group id \"sg-\\xff\" is not valid UTF-8 (byte 4 is 0xff)"}},
	{"group tag with a first strong isolate",
		"security_groups = (\n  { id = \"g\"; tags = [\"a\xe2\x81\xa8" "b\"]; } #<\n);\n",
			{"security group \"g\": tag \"a\\u{2068}b\" holds the Unicode bidirectional "
			 "control U+2068 at byte 2"}},
	{"prefix list id with DEL",
		"prefix_lists = (\n  { id = \"pl\\x7f\"; entries = [\"10.0.0.0/8\"]; } #<\n);\n",
			{"prefix list id \"pl\\x7f\" holds the control character U+007F at byte 3"}},
	{"port name with a right-to-left mark", GROUP_A
		"ports = (\n  { name = \"db\xe2\x80\x8f" "1\"; " VM_FIELDS " } #<\n);\n",
			{"port name \"db\\u{200F}1\" holds the Unicode bidirectional control U+200F at "
			 "byte 3"}},
	{"uplink name with a tab", GROUP_A
		"ports = (\n  { name = \"up\\t0\"; " UPLINK_FIELDS " } #<\n);\n",
			{"port name \"up\\t0\" holds the control character U+0009 at byte 3"}},
	{"port name that is a path", GROUP_A
		"ports = (\n  { name = \"../../etc/x\"; " VM_FIELDS " } #<\n);\n",
			{"port name \"../../etc/x\" holds \"/\"; a port name cannot be a path (it names "
			 "the default socket /run/sgfw/NAME.sock)"}},
	{"port tag with a C1 control", GROUP_A
		"ports = (\n  { name = \"p\"; " VM_FIELDS " tags = [\"t\xc2\x9b\"]; } #<\n);\n",
			{"port \"p\": tag \"t\\u{009B}\" holds the control character U+009B at byte 2"}},
	{"description that is not UTF-8",
		"security_groups = (\n  { id = \"g\"; description = \"caf\\xe9\"; } #<\n);\n",
			{"group \"g\": description is not valid UTF-8 (byte 4 is 0xe9)"}},
	{"port description that is not UTF-8", GROUP_A
		"ports = (\n  { name = \"p\"; " VM_FIELDS " description = \"\\xc0\\xaf\"; } #<\n);\n",
			{"port \"p\": description is not valid UTF-8 (byte 1 is 0xc0)"}},
};

START_TEST(test_identifier_errors)
{
	expect_load_exact(&identifier_errors[_i]);
}
END_TEST

/* ---- Integers: libconfig 1.5 keeps 32 bits of a number without an L suffix ---- */

#define RULE_G(fields)                                                                             \
	"security_groups = ( { id = \"g\"; rules = (\n  { direction = \"ingress\"; "                 \
	"source_cidr = \"10.0.0.0/8\"; " fields " } #<\n); } );\n"
#define RULE_G_ERR "security group \"g\" rule 1: "

/* Each number would load as another one (4294967297 as 1, 2147483648 as -2147483648...): the
 * error names the field, the number as written and the range. */
static const struct t_load_error integer_errors[] = {
	{"priority 2^32+1 (was 1)", RULE_G("priority = 4294967297;"),
			{RULE_G_ERR "priority 4294967297 is out of range 1..100"}},
	{"priority 2^31 (was negative)", RULE_G("priority = 2147483648;"),
			{RULE_G_ERR "priority 2147483648 is out of range 1..100"}},
	{"priority -2^32+1 (was 1)", RULE_G("priority = -4294967295;"),
			{RULE_G_ERR "priority -4294967295 is out of range 1..100"}},
	{"priority past 64 bits", RULE_G("priority = 99999999999999999999;"),
			{RULE_G_ERR "priority 99999999999999999999 is out of range 1..100"}},
	{"priority past 64 bits with L", RULE_G("priority = 99999999999999999999L;"),
			{RULE_G_ERR "priority 99999999999999999999 is out of range 1..100"}},
	{"priority hex 0x100000001 (was 1)", RULE_G("priority = 0x100000001;"),
			{RULE_G_ERR "priority 4294967297 is out of range 1..100"}},
	{"priority hex 0xffffffff (was -1)", RULE_G("priority = 0xFFFFFFFF;"),
			{RULE_G_ERR "priority 4294967295 is out of range 1..100"}},
	{"icmp_type 2^32+8 (was 8)", RULE_G("protocol = \"icmp\"; icmp_type = 4294967304;"),
			{RULE_G_ERR "icmp_type 4294967304 is out of range 0..255"}},
	{"icmp_code 2^32 (was 0)", RULE_G("protocol = \"icmp\"; icmp_type = 3; icmp_code = 4294967296;"),
			{RULE_G_ERR "icmp_code 4294967296 is out of range 0..255"}},
	{"protocol 2^32+6 (was tcp)", RULE_G("protocol = 4294967302; port_range = \"22/22\";"),
			{RULE_G_ERR "protocol \"4294967302\" is not tcp, udp, icmp, icmpv6, gre, all or a "
			 "number 0..255"}},
	{"the second of two rules on one line",
		"security_groups = ( { id = \"g\"; rules = (\n"
		"  { direction = \"ingress\"; source_cidr = \"10.0.0.0/8\"; priority = 1; },"
		" { direction = \"ingress\"; source_cidr = \"10.0.0.0/8\"; priority = 4294967297; } #<\n"
		"); } );\n",
			{"security group \"g\" rule 2: priority 4294967297 is out of range 1..100"}},
	{"limits.rules_per_group 2^32+1 (was 1)",
		"limits = {\n  rules_per_group = 4294967297; #<\n};\n",
			{"limits.rules_per_group 4294967297 is out of range 1..10000"}},
	{"limits.groups_per_port 2^32+5 (was 5)",
		"limits = {\n  groups_per_port = 4294967301; #<\n};\n",
			{"limits.groups_per_port 4294967301 is out of range 1..10"}},
	{"conntrack.capacity 2^32+1024 (was 1024)",
		"conntrack = {\n  capacity = 4294968320; #<\n};\n",
			{"conntrack.capacity 4294968320 is out of range 1024..100000000"}},
	{"conntrack.port_max_connections 2^32+10",
		"conntrack = {\n  port_max_connections = 4294967306; #<\n};\n",
			{"conntrack.port_max_connections 4294967306 is out of range 0..100000000"}},
	{"conntrack.timeouts.udp 2^32+30",
		"conntrack = { timeouts = {\n  udp = 4294967326; #<\n}; };\n",
			{"conntrack.timeouts.udp 4294967326 is out of range 1..10000000"}},
	{"control.metrics_port 2^32+9464 (was 9464)",
		"control = {\n  metrics_port = 4294976760; #<\n};\n",
			{"control.metrics_port 4294976760 is out of range 0..65535"}},
	{"control.metrics_port past 64 bits in hex",
		"control = {\n  metrics_port = 0x10000000000000001; #<\n};\n",
			{"control.metrics_port 0x10000000000000001 is out of range 0..65535"}},
	{"dataplane.workers 2^32+1", "dataplane = {\n  workers = 4294967297; #<\n};\n",
			{"dataplane.workers 4294967297 is out of range 1..16"}},
	{"dataplane.burst 2^32+32", "dataplane = {\n  burst = 4294967328; #<\n};\n",
			{"dataplane.burst 4294967328 is out of range 1..64"}},
	{"flow_logs.window 2^32+60", "flow_logs = {\n  window = 4294967356; #<\n};\n",
			{"flow_logs.window 4294967356 is out of range 1..3600"}},
	{"flow_logs.max_flows -2^32+4096", "flow_logs = {\n  max_flows = -4294963200; #<\n};\n",
			{"flow_logs.max_flows -4294963200 is out of range 1024..16777216"}},
	{"port queues 2^32+2 (was 2)", PORT_P("queues = 4294967298; } #<"),
			{"port \"p\": queues 4294967298 is out of range 1..16"}},
	{"port max_connections 2^32+10", PORT_P("max_connections = 4294967306; } #<"),
			{"port \"p\": max_connections 4294967306 is out of range 0..100000000 (0: the "
			 "conntrack default)"}},
	{"port new_connections_per_second past 64 bits",
		PORT_P("new_connections_per_second = 18446744073709551617; } #<"),
			{"port \"p\": new_connections_per_second 18446744073709551617 is out of range "
			 "0..100000000 (0: the conntrack default)"}},
};

START_TEST(test_integer_errors)
{
	expect_load_exact(&integer_errors[_i]);
}
END_TEST

/* Numbers libconfig reads exactly load as written, whatever their form; a number inside a
 * string or a comment is not one. */
START_TEST(test_integers_as_written)
{
	struct sg_conf *conf = load_ok("integers",
			"# capacity = 4294967297;\n"
			"/* priority = 99999999999999999999 */\n"
			"security_groups = ( { id = \"g\"; description = \"x = 4294967297; \\\" 5\";\n"
			"  rules = (\n"
			"    { direction = \"ingress\"; source_cidr = \"10.0.0.0/8\"; priority = 100L; },\n"
			"    { direction = \"ingress\"; source_cidr = \"10.0.0.0/8\"; priority = +7; },\n"
			"    { direction = \"ingress\"; source_cidr = \"10.0.0.0/8\"; protocol = \"icmp\";\n"
			"      icmp_type = 0x8; icmp_code = 0L; } ); } );\n"
			"conntrack = { capacity = 100000000; port_max_connections = 0x5F5E100L;\n"
			"  timeouts = { udp = 10000000; }; }; // 4294967297\n"
			"dataplane = { mbufs = 16777215; };\n");
	const struct sg_group *g = &conf->spec->groups[0];

	ck_assert_int_eq(g->rules[0].priority, 100);
	ck_assert_int_eq(g->rules[1].priority, 7);
	ck_assert_int_eq(g->rules[2].icmp_type, 8);
	ck_assert_int_eq(g->rules[2].icmp_code, 0);
	ck_assert_uint_eq(conf->conntrack.capacity, 100000000);
	ck_assert_uint_eq(conf->conntrack.port_max_connections, 100000000);
	ck_assert_uint_eq(conf->conntrack.timeouts[0].value, 10000000);
	ck_assert_uint_eq(conf->dataplane.mbufs, 16777215);
	ck_assert_str_eq(g->description, "x = 4294967297; \" 5");
	sg_conf_free(conf);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc;

	tc = tcase_create("files");
	tcase_add_test(tc, test_seed_file_loads);
	tcase_add_test(tc, test_seed_file_questions);
	tcase_add_test(tc, test_missing_file);
	tcase_add_loop_test(tc, test_include_errors_name_the_included_file, 0,
			SG_ARRAY_SIZE(include_rows));
	tcase_add_test(tc, test_include_file_errors);
	tcase_add_test(tc, test_include_loads_from_any_directory);
	tcase_add_test(tc, test_empty_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("ports");
	tcase_add_loop_test(tc, test_port_devices, 0, SG_ARRAY_SIZE(device_rows));
	tcase_add_test(tc, test_port_order_and_kind_names);
	tcase_add_loop_test(tc, test_port_device_errors, 0, SG_ARRAY_SIZE(device_errors));
	tcase_add_loop_test(tc, test_overlong_descriptions_rejected, 0,
			SG_ARRAY_SIZE(description_errors));
	suite_add_tcase(s, tc);

	tc = tcase_create("switch");
	tcase_add_test(tc, test_switch_defaults);
	tcase_add_test(tc, test_restart_diff);
	tcase_add_test(tc, test_switch_sections);
	tcase_add_test(tc, test_flow_logs_section);
	tcase_add_test(tc, test_service_sections);
	tcase_add_loop_test(tc, test_switch_errors, 0, SG_ARRAY_SIZE(switch_errors));
	suite_add_tcase(s, tc);

	tc = tcase_create("fleet");
	tcase_add_test(tc, test_fleet_loads);
	tcase_add_test(tc, test_fleet_round_trip_and_live);
	tcase_add_test(tc, test_fleet_port_set_host);
	tcase_add_loop_test(tc, test_fleet_errors, 0, SG_ARRAY_SIZE(fleet_errors));
	suite_add_tcase(s, tc);

	tc = tcase_create("addresses and names");
	tcase_add_loop_test(tc, test_address_errors, 0, SG_ARRAY_SIZE(address_errors));
	tcase_add_test(tc, test_addresses_allowed);
	tcase_add_loop_test(tc, test_prefix_errors, 0, SG_ARRAY_SIZE(prefix_errors));
	tcase_add_test(tc, test_prefixes_allowed);
	tcase_add_loop_test(tc, test_identifier_errors, 0, SG_ARRAY_SIZE(identifier_errors));
	suite_add_tcase(s, tc);

	tc = tcase_create("integers");
	tcase_add_loop_test(tc, test_integer_errors, 0, SG_ARRAY_SIZE(integer_errors));
	tcase_add_test(tc, test_integers_as_written);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *runner = srunner_create(conf_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed != 0;
}
