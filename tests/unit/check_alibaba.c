/* SPDX-License-Identifier: BSD-3-Clause */
/* Alibaba Cloud's vocabulary in the config and the change commands, and sgfwctl import/export
 * alibaba: every field and value, both spellings of one field, bad values with their exact
 * messages, Alibaba's documented JSON read into exact rules, and round trips both ways. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sg_conf.h"
#include "sg_ctl.h"

#ifndef SG_SOURCE_ROOT
#error "meson passes SG_SOURCE_ROOT"
#endif

#define DATA SG_SOURCE_ROOT "/tests/data/alibaba/"

static char *
slurp(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *m = open_memstream(&text, &len);
	int c;

	ck_assert_msg(f != NULL && m != NULL, "cannot read %s", path);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return text;
}

static char *
written(const struct sg_conf *conf)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ck_assert_int_eq(sg_conf_write(conf, out), 0);
	fclose(out);
	return text;
}

static struct diffs {
	char list[2048];
	int n;
} diffs;

static void
note_diff(void *arg, const char *what)
{
	struct diffs *d = arg;

	d->n++;
	snprintf(d->list + strlen(d->list), sizeof(d->list) - strlen(d->list), " %s", what);
}

static void
expect_same(const struct sg_conf *a, const struct sg_conf *b, const char *what)
{
	memset(&diffs, 0, sizeof(diffs));
	sg_conf_diff(a, b, note_diff, &diffs);
	ck_assert_msg(diffs.n == 0, "%s: %d differences:%s", what, diffs.n, diffs.list);
}

static struct sg_conf *
load(const char *text)
{
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_string(text, "t.conf", &err);

	ck_assert_msg(conf != NULL, "%s: %s", text, err.msg);
	return conf;
}

/* ---- The config's vocabulary ---- */

/* A config in Alibaba's names loads to the same configuration as its twin in sgfw's, and
 * writes the same text, in sgfw's names only. */
START_TEST(test_vocabulary_files)
{
	struct sg_error err = {0};
	struct sg_conf *ali = sg_conf_load_file(DATA "vocabulary-alibaba.conf", &err);
	struct sg_conf *sg = sg_conf_load_file(DATA "vocabulary-sgfw.conf", &err);
	char *a, *b;

	ck_assert_msg(ali != NULL && sg != NULL, "%s", err.msg);
	expect_same(ali, sg, "vocabulary files");
	a = written(ali);
	b = written(sg);
	ck_assert_str_eq(a, b);
	ck_assert_ptr_null(strstr(a, "Cidr"));
	ck_assert_ptr_null(strstr(a, "Accept"));
	ck_assert_ptr_null(strstr(a, "SecurityGroup"));
	free(a);
	free(b);
	sg_conf_free(ali);
	sg_conf_free(sg);
}
END_TEST

#define PL "prefix_lists = ( { id = \"pl\"; entries = [\"192.0.2.0/24\"]; } );\n"
#define GROUP(fields, rule)                                                                        \
	PL "security_groups = ( { id = \"g\"; " fields " rules = ( { " rule " } ); }, "            \
	   "{ id = \"peer\"; } );\n"

/* Each Alibaba name and value, alone, against the sgfw rule it means. */
static const struct {
	const char *alibaba, *sgfw;
} pairs[] = {
		{GROUP("", "Direction = \"ingress\"; source_cidr = \"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; source_cidr = "
					  "\"10.0.0.0/8\";")},
		{GROUP("", "Direction = \"egress\"; dest_cidr = \"10.0.0.0/8\";"),
				GROUP("", "direction = \"egress\"; dest_cidr = \"10.0.0.0/8\";")},
		{GROUP("", "direction = \"in\"; source_cidr = \"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; source_cidr = "
					  "\"10.0.0.0/8\";")},
		{GROUP("", "direction = \"out\"; dest_cidr = \"10.0.0.0/8\";"),
				GROUP("", "direction = \"egress\"; dest_cidr = \"10.0.0.0/8\";")},
		{GROUP("", "direction = \"ingress\"; Policy = \"Accept\"; source_cidr = "
			   "\"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; policy = \"accept\"; "
					  "source_cidr = \"10.0.0.0/8\";")},
		{GROUP("", "direction = \"ingress\"; Policy = \"Drop\"; source_cidr = "
			   "\"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; policy = \"drop\"; source_cidr "
					  "= \"10.0.0.0/8\";")},
		{GROUP("", "direction = \"ingress\"; policy = \"Drop\"; source_cidr = "
			   "\"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; policy = \"drop\"; source_cidr "
					  "= \"10.0.0.0/8\";")},
		{GROUP("", "direction = \"ingress\"; Priority = 100; source_cidr = "
			   "\"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; priority = 100; source_cidr = "
					  "\"10.0.0.0/8\";")},
		{GROUP("", "direction = \"ingress\"; Priority = \"1\"; source_cidr = "
			   "\"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; priority = 1; source_cidr = "
					  "\"10.0.0.0/8\";")},
		{GROUP("", "direction = \"ingress\"; IpProtocol = \"TCP\"; PortRange = \"22/22\"; "
			   "source_cidr = \"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; protocol = \"tcp\"; port_range "
					  "= \"22/22\"; "
					  "source_cidr = \"10.0.0.0/8\";")},
		{GROUP("", "direction = \"ingress\"; IpProtocol = \"UDP\"; PortRange = "
			   "\"1/65535\"; "
			   "SourcePortRange = \"53/53\"; source_cidr = \"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; protocol = \"udp\"; port_range "
					  "= \"1/65535\"; "
					  "source_port_range = \"53/53\"; source_cidr = "
					  "\"10.0.0.0/8\";")},
		{GROUP("", "direction = \"ingress\"; IpProtocol = \"ICMP\"; PortRange = \"-1/-1\"; "
			   "source_cidr = \"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; protocol = \"icmp\"; "
					  "port_range = \"-1/-1\"; "
					  "source_cidr = \"10.0.0.0/8\";")},
		{GROUP("", "direction = \"ingress\"; IpProtocol = \"ICMPv6\"; PortRange = "
			   "\"-1/-1\"; "
			   "source_cidr = \"fd00::/8\";"),
				GROUP("", "direction = \"ingress\"; protocol = \"icmpv6\"; "
					  "port_range = \"-1/-1\"; "
					  "source_cidr = \"fd00::/8\";")},
		{GROUP("", "direction = \"ingress\"; IpProtocol = \"GRE\"; source_cidr = "
			   "\"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; protocol = \"gre\"; "
					  "source_cidr = \"10.0.0.0/8\";")},
		{GROUP("", "direction = \"ingress\"; IpProtocol = \"ALL\"; PortRange = \"-1/-1\"; "
			   "source_cidr = \"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; protocol = \"all\"; port_range "
					  "= \"-1/-1\"; "
					  "source_cidr = \"10.0.0.0/8\";")},
		{GROUP("", "direction = \"ingress\"; SourceCidrIp = \"10.0.0.0/8\";"),
				GROUP("", "direction = \"ingress\"; source_cidr = "
					  "\"10.0.0.0/8\";")},
		{GROUP("", "direction = \"egress\"; DestCidrIp = \"10.0.0.1\";"),
				GROUP("", "direction = \"egress\"; dest_cidr = \"10.0.0.1\";")},
		{GROUP("", "direction = \"ingress\"; Ipv6SourceCidrIp = \"fd00::/8\";"),
				GROUP("", "direction = \"ingress\"; source_cidr = \"fd00::/8\";")},
		{GROUP("", "direction = \"egress\"; Ipv6DestCidrIp = \"::/0\";"),
				GROUP("", "direction = \"egress\"; dest_cidr = \"::/0\";")},
		{GROUP("", "direction = \"ingress\"; SourceGroupId = \"peer\";"),
				GROUP("", "direction = \"ingress\"; source_group = \"peer\";")},
		{GROUP("", "direction = \"egress\"; DestGroupId = \"peer\";"),
				GROUP("", "direction = \"egress\"; dest_group = \"peer\";")},
		{GROUP("", "direction = \"ingress\"; SourcePrefixListId = \"pl\";"),
				GROUP("", "direction = \"ingress\"; source_prefix_list = \"pl\";")},
		{GROUP("", "direction = \"egress\"; DestPrefixListId = \"pl\";"),
				GROUP("", "direction = \"egress\"; dest_prefix_list = \"pl\";")},
		{GROUP("", "direction = \"egress\"; dest_cidr = \"::/0\"; Description = \"a "
			   "\\\"b\\\"\";"),
				GROUP("", "direction = \"egress\"; dest_cidr = \"::/0\"; "
					  "description = \"a \\\"b\\\"\";")},
		{GROUP("InnerAccessPolicy = \"Accept\";",
				 "direction = \"egress\"; dest_cidr = \"::/0\";"),
				GROUP("inner_access_policy = \"accept\";",
						"direction = \"egress\"; dest_cidr = \"::/0\";")},
		{GROUP("InnerAccessPolicy = \"Drop\";",
				 "direction = \"egress\"; dest_cidr = \"::/0\";"),
				GROUP("inner_access_policy = \"drop\";",
						"direction = \"egress\"; dest_cidr = \"::/0\";")},
		{GROUP("inner_access_policy = \"Drop\";",
				 "direction = \"egress\"; dest_cidr = \"::/0\";"),
				GROUP("inner_access_policy = \"drop\";",
						"direction = \"egress\"; dest_cidr = \"::/0\";")},
		{GROUP("SecurityGroupType = \"normal\";",
				 "direction = \"egress\"; dest_cidr = \"::/0\";"),
				GROUP("type = \"basic\";",
						"direction = \"egress\"; dest_cidr = \"::/0\";")},
		{GROUP("type = \"normal\";", "direction = \"egress\"; dest_cidr = \"::/0\";"),
				GROUP("type = \"basic\";",
						"direction = \"egress\"; dest_cidr = \"::/0\";")},
		{GROUP("SecurityGroupType = \"enterprise\";",
				 "direction = \"egress\"; dest_cidr = \"::/0\";"),
				GROUP("type = \"enterprise\";",
						"direction = \"egress\"; dest_cidr = \"::/0\";")},
		{GROUP("Description = \"d\";", "direction = \"egress\"; dest_cidr = \"::/0\";"),
				GROUP("description = \"d\";",
						"direction = \"egress\"; dest_cidr = \"::/0\";")},
		{PL "security_groups = ( { SecurityGroupId = \"g\"; } );",
				PL "security_groups = ( { id = \"g\"; } );"},
};

START_TEST(test_vocabulary_pairs)
{
	struct sg_conf *a = load(pairs[_i].alibaba), *b = load(pairs[_i].sgfw);
	char *ta = written(a), *tb = written(b);

	expect_same(a, b, pairs[_i].alibaba);
	ck_assert_str_eq(ta, tb);
	free(ta);
	free(tb);
	sg_conf_free(a);
	sg_conf_free(b);
}
END_TEST

/* Two spellings of one field, and values neither vocabulary has: refused, exactly so. */
static const struct {
	const char *text, *msg;
} bad[] = {
		{GROUP("", "direction = \"ingress\"; Direction = \"ingress\"; source_cidr = "
			   "\"10.0.0.0/8\";"),
				"t.conf:2: security group \"g\" rule 1: direction and Direction "
				"name the same "
				"field (direction); give one of them"},
		{GROUP("", "direction = \"ingress\"; PortRange = \"22/22\"; protocol = \"tcp\"; "
			   "port_range = \"22/22\"; source_cidr = \"10.0.0.0/8\";"),
				"t.conf:2: security group \"g\" rule 1: PortRange and port_range "
				"name the same "
				"field (port_range); give one of them"},
		{GROUP("", "direction = \"ingress\"; SourceCidrIp = \"10.0.0.0/8\"; "
			   "Ipv6SourceCidrIp = \"fd00::/8\";"),
				"t.conf:2: security group \"g\" rule 1: SourceCidrIp and "
				"Ipv6SourceCidrIp name "
				"the same field (source_cidr); give one of them"},
		{GROUP("", "direction = \"ingress\"; source_group = \"peer\"; SourceGroupId = "
			   "\"peer\";"),
				"t.conf:2: security group \"g\" rule 1: source_group and "
				"SourceGroupId name the "
				"same field (source_group); give one of them"},
		{GROUP("", "direction = \"ingress\"; Policy = \"accept\"; policy = \"accept\"; "
			   "source_cidr = \"10.0.0.0/8\";"),
				"t.conf:2: security group \"g\" rule 1: Policy and policy name the "
				"same field "
				"(policy); give one of them"},
		{GROUP("type = \"basic\"; SecurityGroupType = \"normal\";",
				 "direction = \"egress\"; "
				 "dest_cidr = \"::/0\";"),
				"t.conf:2: security group: type and SecurityGroupType name the "
				"same field (type); "
				"give one of them"},
		{GROUP("InnerAccessPolicy = \"Drop\"; inner_access_policy = \"drop\";",
				 "direction = \"egress\"; dest_cidr = \"::/0\";"),
				"t.conf:2: security group: InnerAccessPolicy and "
				"inner_access_policy name the "
				"same field (inner_access_policy); give one of them"},
		{PL "security_groups = ( { id = \"g\"; SecurityGroupId = \"g\"; } );",
				"t.conf:2: security group: id and SecurityGroupId name the same "
				"field (id); give "
				"one of them"},
		{GROUP("", "Direction = \"inbound\"; source_cidr = \"10.0.0.0/8\";"),
				"t.conf:2: security group \"g\" rule 1: Direction \"inbound\" must "
				"be \"ingress\" "
				"or \"egress\" (or \"in\", \"out\")"},
		{GROUP("", "direction = \"ingress\"; Policy = \"Allow\"; source_cidr = "
			   "\"10.0.0.0/8\";"),
				"t.conf:2: security group \"g\" rule 1: Policy \"Allow\" must be "
				"\"accept\" or "
				"\"drop\" (or \"Accept\", \"Drop\")"},
		{GROUP("", "direction = \"ingress\"; Priority = 0; source_cidr = \"10.0.0.0/8\";"),
				"t.conf:2: security group \"g\" rule 1: Priority 0 is out of range "
				"1..100"},
		{GROUP("", "direction = \"ingress\"; Priority = \"101\"; source_cidr = "
			   "\"10.0.0.0/8\";"),
				"t.conf:2: security group \"g\" rule 1: Priority 101 is out of "
				"range 1..100"},
		{GROUP("", "direction = \"ingress\"; IpProtocol = \"ICMP6\"; source_cidr = "
			   "\"fd00::/8\";"),
				"t.conf:2: security group \"g\" rule 1: IpProtocol \"ICMP6\" is "
				"not tcp, udp, "
				"icmp, icmpv6, gre, all or a number 0..255"},
		{GROUP("", "direction = \"ingress\"; protocol = \"tcp\"; PortRange = \"22\"; "
			   "source_cidr = \"10.0.0.0/8\";"),
				"t.conf:2: security group \"g\" rule 1: PortRange \"22\" must be "
				"START/END, for "
				"example \"22/22\""},
		{GROUP("", "direction = \"ingress\"; protocol = \"tcp\"; PortRange = \"-1/-1\"; "
			   "source_cidr = \"10.0.0.0/8\";"),
				"t.conf:2: security group \"g\" rule 1: port_range \"-1/-1\" is "
				"for protocols "
				"without ports; use \"1/65535\" for every tcp port"},
		{GROUP("", "direction = \"ingress\"; SourceCidrIp = \"fd00::/8\";"),
				"t.conf:2: security group \"g\" rule 1: SourceCidrIp \"fd00::/8\" "
				"is not an IPv4 "
				"CIDR (IPv6 goes in Ipv6SourceCidrIp)"},
		{GROUP("", "direction = \"egress\"; Ipv6DestCidrIp = \"10.0.0.0/8\";"),
				"t.conf:2: security group \"g\" rule 1: Ipv6DestCidrIp "
				"\"10.0.0.0/8\" is not an "
				"IPv6 CIDR (IPv4 goes in DestCidrIp)"},
		{GROUP("", "direction = \"ingress\"; SourceCidrIp = \"10.0.0.1/8\";"),
				"t.conf:2: security group \"g\" rule 1: SourceCidrIp "
				"\"10.0.0.1/8\" has host bits "
				"set; the network is 10.0.0.0/8"},
		{GROUP("", "direction = \"ingress\"; SourceGroupId = \"\";"),
				"t.conf:2: security group \"g\" rule 1: SourceGroupId \"\" is not "
				"a valid id "
				"(1..63 characters)"},
		{GROUP("SecurityGroupType = \"Normal\";",
				 "direction = \"egress\"; dest_cidr = \"::/0\";"),
				"t.conf:2: group \"g\": SecurityGroupType \"Normal\" must be "
				"\"basic\" or "
				"\"enterprise\" (or \"normal\")"},
		{GROUP("InnerAccessPolicy = \"ACCEPT\";",
				 "direction = \"egress\"; dest_cidr = \"::/0\";"),
				"t.conf:2: group \"g\": InnerAccessPolicy \"ACCEPT\" must be "
				"\"accept\" or "
				"\"drop\" (or \"Accept\", \"Drop\")"},
		{GROUP("", "direction = \"ingress\"; SourceIp = \"10.0.0.0/8\";"),
				"t.conf:2: security group \"g\" rule 1: unknown rule field "
				"\"SourceIp\" (known: "
				"direction, policy, priority, protocol, port_range, "
				"source_port_range, icmp_type, "
				"icmp_code, source_cidr, dest_cidr, source_group, dest_group, "
				"source_prefix_list, "
				"dest_prefix_list, description; or Alibaba's Direction, Policy, "
				"Priority, "
				"IpProtocol, PortRange, SourcePortRange, SourceCidrIp, DestCidrIp, "
				"Ipv6SourceCidrIp, Ipv6DestCidrIp, SourceGroupId, DestGroupId, "
				"SourcePrefixListId, DestPrefixListId, Description)"},
};

START_TEST(test_vocabulary_errors)
{
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_string(bad[_i].text, "t.conf", &err);

	ck_assert_msg(conf == NULL, "loaded: %s", bad[_i].text);
	ck_assert_str_eq(err.msg, bad[_i].msg);
}
END_TEST

/* ---- The change commands ---- */

static int
change(const struct sg_conf *base, const char *line, struct sg_conf **result, char *errors,
		size_t size)
{
	char *words[32], *copy = strdup(line), *save = NULL, out[1024];
	FILE *o = fmemopen(out, sizeof(out), "w"), *e = fmemopen(errors, size, "w");
	struct sg_ctl_ctx ctx = {.conf = base, .out = o, .err = e};
	int n = 0, rc;

	memset(errors, 0, size);
	for (char *w = strtok_r(copy, " ", &save); w != NULL && n < 32;
			w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	rc = sg_ctl_change(&ctx, n, words, result);
	fclose(o);
	fclose(e);
	free(copy);
	return rc;
}

START_TEST(test_change_commands)
{
	static const char *const pairs2[][2] = {
			{"rule add g Direction=ingress Policy=Drop Priority=3 IpProtocol=TCP "
			 "PortRange=22/22 "
			 "SourcePortRange=1024/65535 SourceCidrIp=10.0.0.0/8 Description=ssh",
					"rule add g direction=ingress policy=drop priority=3 "
					"protocol=tcp "
					"port_range=22/22 source_port_range=1024/65535 "
					"source_cidr=10.0.0.0/8 "
					"description=ssh"},
			{"rule add g Direction=out IpProtocol=ALL PortRange=-1/-1 "
			 "Ipv6DestCidrIp=::/0",
					"rule add g direction=egress protocol=all port_range=-1/-1 "
					"dest_cidr=::/0"},
			{"rule add g direction=in SourceGroupId=peer",
					"rule add g direction=ingress source_group=peer"},
			{"group set g InnerAccessPolicy=Drop Description=x",
					"group set g inner_access_policy=drop description=x"},
			{"group create n SecurityGroupType=enterprise",
					"group create n type=enterprise"},
	};
	static const char *const refused[][2] = {
			{"rule add g direction=ingress SourceCidrIp=10.0.0.0/8 "
			 "source_cidr=10.0.0.0/8",
					"error: SourceCidrIp and source_cidr name the same field "
					"(source_cidr); give "
					"one of them (nothing changed)\n"},
			{"group set g InnerAccessPolicy=Drop inner_access_policy=accept",
					"error: InnerAccessPolicy and inner_access_policy name the "
					"same field "
					"(inner_access_policy); give one of them (nothing "
					"changed)\n"},
			{"rule add g direction=ingress Ipv6SourceCidrIp=10.0.0.0/8",
					"error: Ipv6SourceCidrIp \"10.0.0.0/8\" is not an IPv6 "
					"CIDR (IPv4 goes in "
					"SourceCidrIp) (nothing changed)\n"},
	};
	struct sg_conf *base = load(GROUP("", "direction = \"egress\"; dest_cidr = \"::/0\";"));
	char errors[512];

	for (size_t i = 0; i < SG_ARRAY_SIZE(pairs2); i++) {
		struct sg_conf *a = NULL, *b = NULL;

		ck_assert_int_eq(change(base, pairs2[i][0], &a, errors, sizeof(errors)), 0);
		ck_assert_int_eq(change(base, pairs2[i][1], &b, errors, sizeof(errors)), 0);
		expect_same(a, b, pairs2[i][0]);
		sg_conf_free(a);
		sg_conf_free(b);
	}
	for (size_t i = 0; i < SG_ARRAY_SIZE(refused); i++) {
		struct sg_conf *a = NULL;

		ck_assert_int_eq(change(base, refused[i][0], &a, errors, sizeof(errors)), 1);
		ck_assert_ptr_null(a);
		ck_assert_str_eq(errors, refused[i][1]);
	}
	sg_conf_free(base);
}
END_TEST

/* ---- import/export alibaba ---- */

static const char *const response_files[] = {
		DATA "describe-security-groups.json",
		DATA "describe-sg-attribute-db.json",
		DATA "describe-sg-attribute-web.json",
		DATA "describe-sg-attribute-bastion.json",
};

/* A config with ports attached to the imported groups by tag and by id. */
#define BASE_CONF                                                                                  \
	"security_groups = ( { id = \"sg-default\"; } );\n"                                        \
	"ports = ( { name = \"db1\"; type = \"null\"; mac = \"52:54:00:01:00:0b\"; "               \
	"ips = [\"10.1.0.11\", \"fd00:1::11\"]; tags = [\"cluster:PostgreSQL\"]; "                 \
	"security_groups = [\"sg-default\"]; }, "                                                  \
	"{ name = \"web1\"; type = \"null\"; mac = \"52:54:00:02:00:0b\"; ips = [\"10.2.0.11\"]; " \
	"tags = [\"tier:web\"]; security_groups = [\"sg-default\"]; } );\n"

static struct sg_conf *
import_files(const struct sg_conf *base, const char *const *files, uint32_t n)
{
	char *texts[8];
	struct sg_error err = {0};
	struct sg_conf *conf;

	for (uint32_t i = 0; i < n; i++)
		texts[i] = slurp(files[i]);
	conf = sg_conf_alibaba_import(base, (const char *const *)texts, files, n, &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	for (uint32_t i = 0; i < n; i++)
		free(texts[i]);
	return conf;
}

static char *
rule_text(const struct sg_rule *rule)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	sg_conf_write_rule(out, rule);
	fclose(out);
	return text;
}

static void
expect_rules(const struct sg_conf *conf, const char *id, const char *const *rules, uint32_t n)
{
	int g = sg_spec_find_group(conf->spec, id);

	ck_assert_int_ge(g, 0);
	ck_assert_uint_eq(conf->spec->groups[g].n_rules, n);
	for (uint32_t r = 0; r < n; r++) {
		char *text = rule_text(&conf->spec->groups[g].rules[r]);

		ck_assert_str_eq(text, rules[r]);
		free(text);
	}
}

/* Alibaba's documented response fields, IPv6 rules and group peers: the exact rules. */
START_TEST(test_import_documented_response)
{
	static const char *const db[] = {
			"{ direction = \"ingress\"; policy = \"accept\"; priority = 1; protocol = "
			"\"tcp\"; "
			"port_range = \"5432/5432\"; source_group = \"sg-bp1web0000000000002\"; "
			"description = \"web to PostgreSQL\"; }",
			"{ direction = \"ingress\"; policy = \"accept\"; priority = 1; protocol = "
			"\"tcp\"; "
			"port_range = \"2379/2379\"; source_group = \"sg-bp1db00000000000001\"; "
			"description = \"etcd between database hosts\"; }",
			"{ direction = \"ingress\"; policy = \"accept\"; priority = 2; protocol = "
			"\"tcp\"; "
			"port_range = \"5432/5432\"; source_cidr = \"fd00:2::/64\"; }",
			"{ direction = \"ingress\"; policy = \"accept\"; priority = 10; protocol = "
			"\"icmpv6\"; "
			"port_range = \"-1/-1\"; source_cidr = \"fd00::/8\"; }",
			"{ direction = \"ingress\"; policy = \"drop\"; priority = 100; protocol = "
			"\"all\"; "
			"port_range = \"-1/-1\"; source_cidr = \"0.0.0.0/0\"; }",
			"{ direction = \"egress\"; policy = \"accept\"; priority = 1; protocol = "
			"\"udp\"; "
			"port_range = \"53/53\"; source_port_range = \"1024/65535\"; "
			"dest_cidr = \"100.100.2.136/32\"; description = \"DNS\"; }",
			"{ direction = \"egress\"; policy = \"accept\"; priority = 5; protocol = "
			"\"tcp\"; "
			"port_range = \"443/443\"; dest_group = \"sg-bp1web0000000000002\"; }",
			"{ direction = \"egress\"; policy = \"drop\"; priority = 100; protocol = "
			"\"all\"; "
			"port_range = \"-1/-1\"; dest_cidr = \"::/0\"; }",
	};
	static const char *const web[] = {
			"{ direction = \"ingress\"; policy = \"accept\"; priority = 1; protocol = "
			"\"tcp\"; "
			"port_range = \"443/443\"; source_cidr = \"0.0.0.0/0\"; description = "
			"\"HTTPS\"; }",
			"{ direction = \"ingress\"; policy = \"accept\"; priority = 1; protocol = "
			"\"tcp\"; "
			"port_range = \"443/443\"; source_cidr = \"::/0\"; description = \"HTTPS "
			"over IPv6\"; }",
			"{ direction = \"ingress\"; policy = \"accept\"; priority = 1; protocol = "
			"\"icmp\"; "
			"port_range = \"-1/-1\"; source_cidr = \"10.0.0.0/8\"; }",
	};
	static const char *const bastion[] = {
			"{ direction = \"ingress\"; policy = \"accept\"; priority = 1; protocol = "
			"\"tcp\"; "
			"port_range = \"22/22\"; source_port_range = \"1/65535\"; "
			"source_cidr = \"203.0.113.0/24\"; }",
			"{ direction = \"egress\"; policy = \"accept\"; priority = 1; protocol = "
			"\"tcp\"; "
			"port_range = \"22/22\"; dest_cidr = \"10.0.0.0/8\"; }",
	};
	struct sg_conf *base = load(BASE_CONF);
	struct sg_conf *conf = import_files(base, response_files, 4);
	const struct sg_group *g;

	ck_assert_uint_eq(conf->spec->n_groups, 4);
	ck_assert_str_eq(conf->spec->groups[0].id, "sg-default");
	g = &conf->spec->groups[1];
	ck_assert_str_eq(g->id, "sg-bp1db00000000000001");
	ck_assert_int_eq(g->type, SG_GROUP_BASIC);
	ck_assert(g->inner_access_given && g->inner_access == SG_ACTION_DROP);
	ck_assert_str_eq(g->description, "PostgreSQL cluster");
	ck_assert_uint_eq(g->n_tags, 1);
	ck_assert_str_eq(g->tags[0], "cluster:PostgreSQL");
	g = &conf->spec->groups[2];
	ck_assert_str_eq(g->id, "sg-bp1web0000000000002");
	ck_assert(g->inner_access_given && g->inner_access == SG_ACTION_ACCEPT);
	ck_assert_str_eq(g->description, "");
	ck_assert_uint_eq(g->n_tags, 2);
	ck_assert_str_eq(g->tags[0], "tier:web");
	ck_assert_str_eq(g->tags[1], "public");
	g = &conf->spec->groups[3];
	ck_assert_str_eq(g->id, "sg-bp1ent0000000000003");
	ck_assert_int_eq(g->type, SG_GROUP_ENTERPRISE);
	ck_assert_str_eq(g->description, "jump hosts");
	ck_assert_uint_eq(g->n_tags, 0);
	expect_rules(conf, "sg-bp1db00000000000001", db, SG_ARRAY_SIZE(db));
	expect_rules(conf, "sg-bp1web0000000000002", web, SG_ARRAY_SIZE(web));
	expect_rules(conf, "sg-bp1ent0000000000003", bastion, SG_ARRAY_SIZE(bastion));
	/* The ports are in the groups by their tags: the import is a working policy. */
	ck_assert_int_ge(sg_policy_find_port(conf->policy, "db1"), 0);
	ck_assert_int_ge(sg_policy_find_port(conf->policy, "web1"), 0);
	sg_conf_free(conf);
	sg_conf_free(base);
}
END_TEST

static char *
exported(const struct sg_conf *conf, const char *group)
{
	struct sg_error err = {0};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ck_assert_msg(sg_conf_alibaba_export(conf, group, out, &err) == 0, "%s", err.msg);
	fclose(out);
	return text;
}

/* Every group exported (DescribeSecurityGroups, then each group's attribute response). */
static uint32_t
export_all(const struct sg_conf *conf, char **texts, const char **origins)
{
	uint32_t n = 0;

	texts[n] = exported(conf, NULL);
	origins[n++] = "groups.json";
	for (uint32_t g = 0; g < conf->spec->n_groups; g++) {
		texts[n] = exported(conf, conf->spec->groups[g].id);
		origins[n++] = conf->spec->groups[g].id;
	}
	return n;
}

/* import -> export -> import gives the same config; export -> import -> export the same JSON. */
static void
round_trip(const struct sg_conf *first, const struct sg_conf *base)
{
	char *texts[8], *again[8];
	const char *origins[8], *origins2[8];
	struct sg_error err = {0};
	struct sg_conf *second;
	uint32_t n, n2;

	n = export_all(first, texts, origins);
	second = sg_conf_alibaba_import(base, (const char *const *)texts, origins, n, &err);
	ck_assert_msg(second != NULL, "%s", err.msg);
	expect_same(first, second, "import, export, import");
	n2 = export_all(second, again, origins2);
	ck_assert_uint_eq(n, n2);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_str_eq(texts[i], again[i]);
		free(texts[i]);
		free(again[i]);
	}
	sg_conf_free(second);
}

START_TEST(test_round_trip_responses)
{
	struct sg_conf *base = load(BASE_CONF);
	struct sg_conf *conf = import_files(base, response_files, 4);

	round_trip(conf, base);
	sg_conf_free(conf);
	sg_conf_free(base);
}
END_TEST

/* The vocabulary config (every field) exported and imported into an empty config. */
START_TEST(test_round_trip_config)
{
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_file(DATA "vocabulary-sgfw.conf", &err);
	struct sg_conf *base = load("prefix_lists = ( { id = \"pl-office\"; entries = "
				    "[\"192.0.2.0/24\"]; } );");

	ck_assert_msg(conf != NULL, "%s", err.msg);
	round_trip(conf, base);
	sg_conf_free(conf);
	sg_conf_free(base);
}
END_TEST

/* Importing into a config that has the group replaces its rules and keeps its ports. */
START_TEST(test_import_merges)
{
	struct sg_conf *base = load(PL
			"security_groups = ( { id = \"sg-bp1web0000000000002\"; "
			"type = \"basic\"; tags = [\"old\"]; rules = ( { direction = "
			"\"ingress\"; source_cidr = \"192.0.2.1\"; } ); }, { id = \"keep\"; } );\n"
			"ports = ( { name = \"w\"; type = \"null\"; mac = "
			"\"52:54:00:02:00:0b\"; security_groups = [\"sg-bp1web0000000000002\"]; } "
			");\n");
	const char *files[] = {DATA "describe-sg-attribute-web.json"};
	struct sg_conf *conf = import_files(base, files, 1);
	const struct sg_group *g = &conf->spec->groups[0];

	ck_assert_uint_eq(conf->spec->n_groups, 2);
	ck_assert_str_eq(g->id, "sg-bp1web0000000000002");
	ck_assert_uint_eq(g->n_rules, 3);
	/* An attribute response has no tags: the group keeps its own. */
	ck_assert_uint_eq(g->n_tags, 1);
	ck_assert_str_eq(conf->spec->groups[1].id, "keep");
	ck_assert_uint_eq(conf->n_ports, 1);
	sg_conf_free(conf);
	sg_conf_free(base);
}
END_TEST

/* What the import breaks in the config's own groups or ports is named at its line there. */
START_TEST(test_import_error_in_config)
{
	struct sg_conf *base = load("security_groups = ( { id = \"a\"; }, { id = \"b\"; } );\n"
				    "ports = ( { name = \"p\"; type = \"null\"; mac = "
				    "\"52:54:00:02:00:0b\"; security_groups = [\"a\", \"b\"]; } );\n");
	const char *texts[] = {"{\"SecurityGroups\": {\"SecurityGroup\": [{\"SecurityGroupId\": "
			       "\"a\", \"SecurityGroupType\": \"enterprise\"}]}}"},
		   *origins[] = {"a.json"};
	struct sg_error err = {0};

	ck_assert_ptr_null(sg_conf_alibaba_import(base, texts, origins, 1, &err));
	ck_assert_str_eq(err.msg, "t.conf:2: port \"p\" mixes basic and enterprise security groups "
				  "(\"a\" is enterprise, \"b\" is basic); all groups of a port must be "
				  "one type (D3)");
	sg_conf_free(base);
}
END_TEST

#define ATTR(perm)                                                                                 \
	"{\"SecurityGroupId\": \"sg-a\", \"InnerAccessPolicy\": \"Accept\", \"Permissions\": "     \
	"{\"Permission\": [{\"Direction\": \"ingress\", \"Policy\": \"Accept\", \"Priority\": 1, " \
	"\"IpProtocol\": \"TCP\", \"PortRange\": \"22/22\", \"SourceCidrIp\": \"10.0.0.0/8\"}, "   \
	"{" perm "}]}}"

static const struct {
	const char *json, *msg;
} import_errors[] = {
		{"{\"SecurityGroupId\": ", "a.json:1: not JSON: unexpected token near end of file"},
		{"[]", "a.json: $: must be an object: a DescribeSecurityGroupAttribute or "
		       "DescribeSecurityGroups response"},
		{"{\"Foo\": 1}", "a.json: $: neither SecurityGroupId "
				 "(DescribeSecurityGroupAttribute) nor "
				 "SecurityGroups (DescribeSecurityGroups)"},
		{ATTR("\"Direction\": \"ingress\", \"Priority\": 0, \"SourceCidrIp\": "
		      "\"10.0.0.0/8\""),
				"a.json: $.Permissions.Permission[1]: Priority 0 is out of range "
				"1..100"},
		{ATTR("\"Direction\": \"ingress\", \"Policy\": \"allow\", \"SourceCidrIp\": "
		      "\"10.0.0.0/8\""),
				"a.json: $.Permissions.Permission[1]: Policy \"allow\" must be "
				"\"accept\" or "
				"\"drop\" (or \"Accept\", \"Drop\")"},
		{ATTR("\"Direction\": \"ingress\", \"SourceCidrIp\": \"10.0.0.0/8\", "
		      "\"Ipv6SourceCidrIp\": "
		      "\"::/0\""),
				"a.json: $.Permissions.Permission[1]: SourceCidrIp and "
				"Ipv6SourceCidrIp name the "
				"same field (source_cidr); give one of them"},
		{ATTR("\"Direction\": \"ingress\", \"SourceCidrIp\": \"10.0.0.0/8\", \"Colour\": "
		      "\"red\""),
				"a.json: $.Permissions.Permission[1]: unknown field \"Colour\" "
				"(docs/config.md "
				"lists the fields sgfw reads and skips)"},
		{ATTR("\"Direction\": \"ingress\", \"SourceCidrIp\": \"10.0.0.0/8\", "
		      "\"PortRangeListId\": "
		      "\"prl-1\""),
				"a.json: $.Permissions.Permission[1]: PortRangeListId \"prl-1\": "
				"sgfw has no port "
				"lists; give the ports in PortRange"},
		{ATTR("\"Direction\": \"ingress\", \"SourceCidrIp\": \"10.0.0.0/8\", \"NicType\": "
		      "\"internet\""),
				"a.json: $.Permissions.Permission[1]: NicType \"internet\": sgfw "
				"filters VPC "
				"(intranet) traffic only"},
		{ATTR("\"Direction\": \"ingress\", \"SourceCidrIp\": [\"10.0.0.0/8\"]"),
				"a.json: $.Permissions.Permission[1]: SourceCidrIp must be a "
				"string"},
		/* Found when the whole config is validated: the path is still named. */
		{ATTR("\"Direction\": \"ingress\", \"SourceGroupId\": \"sg-missing\""),
				"a.json: $.Permissions.Permission[1]: security group \"sg-a\" rule "
				"2: "
				"source_group \"sg-missing\" is not a defined security group"},
		{ATTR("\"Direction\": \"ingress\", \"IpProtocol\": \"TCP\", \"SourceCidrIp\": "
		      "\"10.0.0.0/8\""),
				"a.json: $.Permissions.Permission[1]: security group \"sg-a\" rule "
				"2 (protocol "
				"tcp) needs port_range, for example \"22/22\", or \"1/65535\" for "
				"every port"},
		{ATTR("\"Direction\": \"egress\", \"SourceCidrIp\": \"10.0.0.0/8\""),
				"a.json: $.Permissions.Permission[1]: security group \"sg-a\" rule "
				"2 is an egress "
				"rule, so its peer is the destination: use dest_cidr instead of "
				"source_cidr"},
		{"{\"SecurityGroups\": {\"SecurityGroup\": [{\"SecurityGroupId\": \"sg-a\", "
		 "\"Tags\": "
		 "{\"Tag\": [{\"TagKey\": \"a:b\", \"TagValue\": \"c\"}]}}]}}",
				"a.json: $.SecurityGroups.SecurityGroup[0].Tags.Tag[0]: TagKey "
				"\"a:b\" holds ':', "
				"which sgfw uses between key and value"},
		{"{\"SecurityGroups\": {\"SecurityGroup\": [{\"SecurityGroupId\": \"sg-a\", "
		 "\"SecurityGroupType\": \"basic2\"}]}}",
				"a.json: $.SecurityGroups.SecurityGroup[0]: group \"sg-a\": "
				"SecurityGroupType "
				"\"basic2\" must be \"basic\" or \"enterprise\" (or \"normal\")"},
		{"{\"SecurityGroups\": {\"SecurityGroup\": [{\"SecurityGroupId\": \"sg-a\"}, "
		 "{\"SecurityGroupId\": \"sg-a\"}]}}",
				"a.json: $.SecurityGroups.SecurityGroup[1]: security group "
				"\"sg-a\" is given twice "
				"(also in a.json)"},
		{"{\"SecurityGroupId\": \"sg-\\u001b[31m\"}",
			"a.json: $: SecurityGroupId \"sg-\\x1b[31m\" must be 1..63 characters: holds the "
			"control character U+001B at byte 4"},
	{"{\"SecurityGroupId\": \"sg-a\", \"Permissions\": {\"Permission\": {}}}",
				"a.json: $: Permissions must be {\"Permission\": [...]}"},
};

START_TEST(test_import_errors)
{
	const char *texts[] = {import_errors[_i].json}, *origins[] = {"a.json"};
	struct sg_conf *base = load(""), *conf;
	struct sg_error err = {0};

	conf = sg_conf_alibaba_import(base, texts, origins, 1, &err);
	ck_assert_msg(conf == NULL, "imported %s", import_errors[_i].json);
	ck_assert_str_eq(err.msg, import_errors[_i].msg);
	sg_conf_free(base);
}
END_TEST

START_TEST(test_export_errors)
{
	struct sg_conf *conf = load(GROUP("", "direction = \"ingress\"; protocol = \"icmp\"; "
					      "icmp_type = 8; source_cidr = \"10.0.0.0/8\";"));
	struct sg_error err = {0};
	FILE *out = fopen("/dev/null", "w");

	ck_assert_int_eq(sg_conf_alibaba_export(conf, "g", out, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "security group \"g\" rule 1: icmp_type and icmp_code have no "
				  "field in Alibaba's API");
	ck_assert_int_eq(sg_conf_alibaba_export(conf, "nope", out, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "no security group \"nope\" in t.conf");
	fclose(out);
	sg_conf_free(conf);
}
END_TEST

static Suite *
alibaba_suite(void)
{
	Suite *s = suite_create("alibaba");
	TCase *tc = tcase_create("vocabulary");

	tcase_add_test(tc, test_vocabulary_files);
	tcase_add_loop_test(tc, test_vocabulary_pairs, 0, SG_ARRAY_SIZE(pairs));
	tcase_add_loop_test(tc, test_vocabulary_errors, 0, SG_ARRAY_SIZE(bad));
	tcase_add_test(tc, test_change_commands);
	suite_add_tcase(s, tc);
	tc = tcase_create("import");
	tcase_add_test(tc, test_import_documented_response);
	tcase_add_test(tc, test_round_trip_responses);
	tcase_add_test(tc, test_round_trip_config);
	tcase_add_test(tc, test_import_merges);
	tcase_add_test(tc, test_import_error_in_config);
	tcase_add_loop_test(tc, test_import_errors, 0, SG_ARRAY_SIZE(import_errors));
	tcase_add_test(tc, test_export_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(alibaba_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
