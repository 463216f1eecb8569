/* The classifier against the policy engine: for many random flows on every port, direction and
 * family, rte_acl must pick exactly the entry sg_policy_decide() picks (differential test). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_memory.h>

#include "sg_acl.h"
#include "sg_conf.h"
#include "sg_test_eal.h"

static const char *const config_text =
	"prefix_lists = ( { id = \"pl\"; entries = [\"192.0.2.0/24\", \"198.51.100.128/25\"]; } );\n"
	"security_groups = (\n"
	" { id = \"a\"; tags = [\"t\"]; rules = (\n"
	"   { direction = \"ingress\"; priority = 5; protocol = \"tcp\"; port_range = \"20/30\"; source_cidr = \"10.0.0.0/8\"; },\n"
	"   { direction = \"ingress\"; priority = 5; policy = \"drop\"; protocol = \"tcp\"; port_range = \"22/22\"; source_cidr = \"10.1.0.0/16\"; },\n"
	"   { direction = \"ingress\"; priority = 7; protocol = \"udp\"; port_range = \"53/53\"; source_port_range = \"1024/65535\"; source_prefix_list = \"pl\"; },\n"
	"   { direction = \"ingress\"; priority = 9; protocol = \"icmp\"; icmp_type = 8; source_cidr = \"0.0.0.0/0\"; },\n"
	"   { direction = \"ingress\"; priority = 9; protocol = \"icmpv6\"; icmp_type = 128; icmp_code = 0; source_cidr = \"fd00::/8\"; },\n"
	"   { direction = \"ingress\"; priority = 10; protocol = \"tcp\"; port_range = \"1/65535\"; source_group = \"b\"; },\n"
	"   { direction = \"ingress\"; priority = 11; protocol = \"gre\"; source_cidr = \"2001:db8::/32\"; },\n"
	"   { direction = \"egress\"; priority = 3; policy = \"drop\"; protocol = \"tcp\"; port_range = \"25/25\"; dest_cidr = \"0.0.0.0/0\"; },\n"
	"   { direction = \"egress\"; priority = 4; policy = \"drop\"; protocol = \"all\"; dest_cidr = \"fd00:1::/64\"; }\n"
	" ); },\n"
	" { id = \"b\"; inner_access_policy = \"drop\"; rules = (\n"
	"   { direction = \"ingress\"; priority = 1; protocol = \"all\"; source_group = \"a\"; },\n"
	"   { direction = \"egress\"; priority = 100; policy = \"drop\"; protocol = \"udp\"; port_range = \"1/1000\"; dest_cidr = \"10.0.0.0/8\"; }\n"
	" ); },\n"
	" { id = \"e\"; type = \"enterprise\"; rules = (\n"
	"   { direction = \"egress\"; priority = 1; protocol = \"tcp\"; port_range = \"443/443\"; dest_cidr = \"0.0.0.0/0\"; },\n"
	"   { direction = \"ingress\"; priority = 2; protocol = \"all\"; source_cidr = \"10.2.0.0/16\"; }\n"
	" ); }\n"
	");\n"
	"ports = (\n"
	" { name = \"p1\"; mac = \"52:54:00:00:00:01\"; ips = [\"10.1.0.1\", \"fd00::1\"]; tags = [\"t\"]; },\n"
	" { name = \"p2\"; mac = \"52:54:00:00:00:02\"; ips = [\"10.1.0.2\", \"fd00::2\"]; tags = [\"t\"]; security_groups = [\"b\"]; },\n"
	" { name = \"p3\"; mac = \"52:54:00:00:00:03\"; ips = [\"10.2.0.3\", \"fd00:1::3\"]; security_groups = [\"b\"]; },\n"
	" { name = \"p4\"; mac = \"52:54:00:00:00:04\"; ips = [\"10.3.0.4\"]; security_groups = [\"e\"]; }\n"
	");\n";

/* Addresses that hit the interesting prefixes, plus random ones. */
static void
random_ip(struct sg_ip *ip, uint8_t family, unsigned int *seed)
{
	static const char *const v4[] = {"10.1.0.1", "10.1.0.2", "10.1.2.3", "10.2.0.3", "10.9.9.9",
			"192.0.2.7", "198.51.100.200", "198.51.100.5", "8.8.8.8", "10.3.0.4"};
	static const char *const v6[] = {"fd00::1", "fd00::2", "fd00:1::3", "fd00:1::9", "fd55::1",
			"2001:db8::5", "2001:db9::5", "::1"};

	if (rand_r(seed) % 4 == 0) {
		ip->family = family;
		for (int i = 0; i < (family == SG_AF_INET ? 4 : 16); i++)
			ip->bytes[i] = (uint8_t)rand_r(seed);
		return;
	}
	if (family == SG_AF_INET)
		sg_ip_parse(v4[rand_r(seed) % SG_ARRAY_SIZE(v4)], ip);
	else
		sg_ip_parse(v6[rand_r(seed) % SG_ARRAY_SIZE(v6)], ip);
}

static uint16_t
random_port(unsigned int *seed)
{
	static const uint16_t ports[] = {0, 1, 20, 22, 25, 30, 31, 53, 443, 1000, 1001, 1023, 1024, 65535};

	return rand_r(seed) % 3 == 0 ? (uint16_t)rand_r(seed) : ports[rand_r(seed) % SG_ARRAY_SIZE(ports)];
}

START_TEST(acl_matches_engine)
{
	static const uint8_t protos[] = {6, 17, 1, 58, 47, 132, 6, 17};
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_string(config_text, "acl-test", &err);
	struct sg_acl_params params = {.socket_id = SOCKET_ID_ANY, .generation = 1};
	unsigned int seed = 12345;
	uint32_t mismatches = 0, checked = 0;
	struct sg_acl *acl;

	ck_assert_msg(conf != NULL, "config: %s", err.msg);
	acl = sg_acl_build(conf->policy, &params, &err);
	ck_assert_msg(acl != NULL, "build: %s", err.msg);
	for (int round = 0; round < 20000; round++) {
		uint32_t port = (uint32_t)rand_r(&seed) % 4;
		enum sg_dir dir = (enum sg_dir)(rand_r(&seed) % 2);
		uint8_t family = rand_r(&seed) % 2 ? SG_AF_INET : SG_AF_INET6;
		struct sg_flow flow = {.proto = protos[rand_r(&seed) % SG_ARRAY_SIZE(protos)]};
		struct sg_acl_key4 k4 = {0};
		struct sg_acl_key6 k6 = {0};
		const uint8_t *key;
		struct sg_verdict v;
		uint32_t result = 0;
		const struct sg_ip *peer;

		random_ip(&flow.src, family, &seed);
		random_ip(&flow.dst, family, &seed);
		if (flow.proto == 6 || flow.proto == 17) {
			flow.sport = random_port(&seed);
			flow.dport = random_port(&seed);
		} else if (flow.proto == 1 || flow.proto == 58) {
			flow.sport = (uint16_t)(rand_r(&seed) % 2 ? (flow.proto == 1 ? 8 : 128) : rand_r(&seed) % 256);
			flow.dport = (uint16_t)(rand_r(&seed) % 3 ? 0 : rand_r(&seed) % 256);
		}
		peer = dir == SG_DIR_INGRESS ? &flow.src : &flow.dst;
		if (family == SG_AF_INET) {
			k4.proto = flow.proto;
			memcpy(&k4.peer, peer->bytes, 4);
			k4.sport = rte_cpu_to_be_16(flow.sport);
			k4.dport = rte_cpu_to_be_16(flow.dport);
			key = (const uint8_t *)&k4;
		} else {
			k6.proto = flow.proto;
			memcpy(k6.peer, peer->bytes, 16);
			k6.sport = rte_cpu_to_be_16(flow.sport);
			k6.dport = rte_cpu_to_be_16(flow.dport);
			key = (const uint8_t *)&k6;
		}
		sg_acl_classify(acl, port, dir, family, &key, &result, 1);
		sg_policy_decide(conf->policy, port, dir, &flow, &v);
		checked++;
		if (result != v.position && mismatches++ < 10)
			fprintf(stderr, "port %u %s family %u proto %u sport %u dport %u: acl %u engine %u\n",
					port, sg_dir_name(dir), family, flow.proto, flow.sport, flow.dport,
					result, v.position);
	}
	ck_assert_uint_eq(checked, 20000);
	ck_assert_uint_eq(mismatches, 0);
	ck_assert_uint_gt(sg_acl_rule_count(acl), 20);
	sg_acl_free(acl);
	sg_conf_free(conf);
}
END_TEST

START_TEST(acl_burst_equals_single)
{
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_string(config_text, "acl-test", &err);
	struct sg_acl_params params = {.socket_id = SOCKET_ID_ANY, .generation = 2};
	struct sg_acl *acl = sg_acl_build(conf->policy, &params, &err);
	struct sg_acl_key4 keys[64];
	const uint8_t *ptrs[64];
	uint32_t burst[64], single;
	unsigned int seed = 7;

	ck_assert_msg(acl != NULL, "build: %s", err.msg);
	for (int i = 0; i < 64; i++) {
		struct sg_ip ip;

		random_ip(&ip, SG_AF_INET, &seed);
		keys[i] = (struct sg_acl_key4){.proto = i % 2 ? 6 : 17};
		memcpy(&keys[i].peer, ip.bytes, 4);
		keys[i].sport = rte_cpu_to_be_16(random_port(&seed));
		keys[i].dport = rte_cpu_to_be_16(random_port(&seed));
		ptrs[i] = (const uint8_t *)&keys[i];
	}
	sg_acl_classify(acl, 0, SG_DIR_INGRESS, SG_AF_INET, ptrs, burst, 64);
	for (int i = 0; i < 64; i++) {
		sg_acl_classify(acl, 0, SG_DIR_INGRESS, SG_AF_INET, &ptrs[i], &single, 1);
		ck_assert_uint_eq(burst[i], single);
		ck_assert_uint_ge(burst[i], 1);
	}
	sg_acl_free(acl);
	sg_conf_free(conf);
}
END_TEST

/* A rebuild after a change reuses the contexts of unchanged lists and still matches the engine. */
START_TEST(acl_rebuild_reuses_unchanged_contexts)
{
	static const char *const from = "source_cidr = \"10.2.0.0/16\"; }";
	static const char *const to = "source_cidr = \"10.4.0.0/16\"; }";
	struct sg_error err = {0};
	char *changed = strdup(config_text), *at = strstr(changed, from);
	struct sg_conf *a = sg_conf_load_string(config_text, "a", &err), *b;
	struct sg_acl_params params = {.socket_id = SOCKET_ID_ANY, .generation = 3};
	struct sg_acl *first, *second;
	uint32_t built, reused, constant;
	unsigned int seed = 99;

	/* Only group "e"'s ingress rule changes: port p4's ingress lists, nothing else. */
	ck_assert_ptr_nonnull(at);
	memcpy(at, to, strlen(to));
	b = sg_conf_load_string(changed, "b", &err);
	ck_assert_msg(a != NULL && b != NULL, "%s", err.msg);
	first = sg_acl_build(a->policy, &params, &err);
	ck_assert_ptr_nonnull(first);
	sg_acl_build_counts(first, &built, &reused, &constant);
	/* 4 ports x 2 directions x 2 families; the IPv6 lists of p3's egress and p4's egress and
	 * ingress hold only the default for IPv6: constant, no context. */
	ck_assert_uint_eq(built, 13);
	ck_assert_uint_eq(constant, 3);
	ck_assert_uint_eq(reused, 0);
	params.generation = 4;
	params.prev = first;
	second = sg_acl_build(b->policy, &params, &err);
	ck_assert_ptr_nonnull(second);
	sg_acl_build_counts(second, &built, &reused, &constant);
	/* p4's ingress changed: IPv4 rebuilt, IPv6 still constant; the 14 others shared. */
	ck_assert_uint_eq(built, 1);
	ck_assert_uint_eq(constant, 1);
	ck_assert_uint_eq(reused, 14);
	/* The shared contexts outlive the classifier they came from. */
	sg_acl_free(first);
	for (int round = 0; round < 5000; round++) {
		uint32_t port = (uint32_t)rand_r(&seed) % 4, result = 0;
		struct sg_flow flow = {.proto = 6, .sport = random_port(&seed), .dport = random_port(&seed)};
		struct sg_acl_key4 key = {.proto = 6};
		const uint8_t *ptr = (const uint8_t *)&key;
		struct sg_verdict v;

		random_ip(&flow.src, SG_AF_INET, &seed);
		random_ip(&flow.dst, SG_AF_INET, &seed);
		memcpy(&key.peer, flow.src.bytes, 4);
		key.sport = rte_cpu_to_be_16(flow.sport);
		key.dport = rte_cpu_to_be_16(flow.dport);
		sg_acl_classify(second, port, SG_DIR_INGRESS, SG_AF_INET, &ptr, &result, 1);
		sg_policy_decide(b->policy, port, SG_DIR_INGRESS, &flow, &v);
		ck_assert_uint_eq(result, v.position);
	}
	sg_acl_free(second);
	sg_conf_free(a);
	sg_conf_free(b);
	free(changed);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("classify");
	SRunner *sr;
	int failed;

	if (sg_test_eal_init("check_acl", 256, 0, NULL) < 0)
		return 1;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, acl_matches_engine);
	tcase_add_test(tc, acl_burst_equals_single);
	tcase_add_test(tc, acl_rebuild_reuses_unchanged_contexts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sg_test_eal_cleanup();
	return failed == 0 ? 0 : 1;
}
