/* SPDX-License-Identifier: BSD-3-Clause */
/* The classifier against the policy engine: for many random flows on every port, direction and
 * family, rte_acl must pick exactly the entry sg_policy_decide() picks (differential test). */
#include <arpa/inet.h>
#include <check.h>
#include <stdbool.h>
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

/* Classify 'rounds' random flows with 'acl' and with the policy engine; returns mismatches. */
static uint32_t
mismatches_with_engine(const struct sg_acl *acl, const struct sg_policy *policy, uint32_t n_ports,
		unsigned int seed, int rounds)
{
	static const uint8_t protos[] = {6, 17, 1, 58, 47, 132, 6, 17};
	uint32_t mismatches = 0;

	for (int round = 0; round < rounds; round++) {
		uint32_t port = (uint32_t)rand_r(&seed) % n_ports;
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
		sg_policy_decide(policy, port, dir, &flow, &v);
		if (result != v.position && mismatches++ < 10)
			fprintf(stderr, "port %u %s family %u proto %u sport %u dport %u: acl %u engine %u\n",
					port, sg_dir_name(dir), family, flow.proto, flow.sport, flow.dport,
					result, v.position);
	}
	return mismatches;
}

START_TEST(acl_matches_engine)
{
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_string(config_text, "acl-test", &err);
	struct sg_acl_params params = {.socket_id = SOCKET_ID_ANY, .generation = 1};
	struct sg_acl *acl;

	ck_assert_msg(conf != NULL, "config: %s", err.msg);
	acl = sg_acl_build(conf->policy, &params, &err);
	ck_assert_msg(acl != NULL, "build: %s", err.msg);
	ck_assert_uint_eq(mismatches_with_engine(acl, conf->policy, 4, 12345, 20000), 0);
	ck_assert_uint_gt(sg_acl_rule_count(acl), 20);
	sg_acl_free(acl);
	sg_conf_free(conf);
}
END_TEST

/* Linear matching (a changed list before its context is built) answers as the engine does. */
START_TEST(acl_linear_matches_engine)
{
	struct sg_error err = {0};
	struct sg_conf *conf = sg_conf_load_string(config_text, "acl-test", &err);
	struct sg_acl_params params = {.socket_id = SOCKET_ID_ANY, .generation = 5,
			.build = SG_ACL_LINEAR};
	struct sg_acl_counts counts;
	struct sg_acl *acl;

	ck_assert_msg(conf != NULL, "config: %s", err.msg);
	acl = sg_acl_build(conf->policy, &params, &err);
	ck_assert_msg(acl != NULL, "build: %s", err.msg);
	sg_acl_build_counts(acl, &counts);
	ck_assert_uint_eq(counts.built + counts.queued, 0);
	ck_assert_uint_eq(counts.linear, 13);
	ck_assert_uint_eq(counts.constant, 3);
	ck_assert_uint_eq(mismatches_with_engine(acl, conf->policy, 4, 777, 20000), 0);
	sg_acl_free(acl);
	sg_conf_free(conf);
}
END_TEST

/* A config of many generated rules: CIDRs of every length, port ranges, ICMP, IPv6. */
static char *
many_rules_config(unsigned int seed, int n_rules)
{
	static const char *const protos[] = {"tcp", "udp", "icmp", "icmpv6", "all", "gre"};
	size_t cap = 256 + (size_t)n_rules * 200, len = 0;
	char *text = malloc(cap);

	len += (size_t)snprintf(text + len, cap - len,
			"limits = { rules_per_group = 1000; rules_per_port = 1010; };\n"
			"security_groups = ( { id = \"big\"; rules = (\n");
	for (int i = 0; i < n_rules; i++) {
		const char *proto = protos[rand_r(&seed) % SG_ARRAY_SIZE(protos)];
		bool v6 = strcmp(proto, "icmpv6") == 0 || (strcmp(proto, "icmp") != 0 && rand_r(&seed) % 4 == 0);
		char peer[64], match[64] = "";
		int lo = rand_r(&seed) % 1100 + 1;
		bool ingress = rand_r(&seed) % 3 != 0;

		uint8_t bytes[16] = {0xfd, (uint8_t)(rand_r(&seed) % 4), 0, (uint8_t)(rand_r(&seed) % 3)};
		int plen = rand_r(&seed) % (v6 ? 129 : 33);

		if (!v6) {
			bytes[0] = 10;
			bytes[1] = (uint8_t)(rand_r(&seed) % 4);
			bytes[2] = (uint8_t)(rand_r(&seed) % 4);
			bytes[3] = (uint8_t)rand_r(&seed);
		} else {
			bytes[15] = (uint8_t)rand_r(&seed);
		}
		/* A network address: no host bits (the loader refuses them). */
		for (int b = 0; b < 16; b++)
			bytes[b] &= (uint8_t)(0xff << (8 - SG_MIN(SG_MAX(plen - 8 * b, 0), 8)));
		inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, peer, sizeof(peer));
		snprintf(peer + strlen(peer), sizeof(peer) - strlen(peer), "/%d", plen);
		if (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0)
			snprintf(match, sizeof(match), "port_range = \"%d/%d\"; ", lo,
					lo + rand_r(&seed) % 3 * (rand_r(&seed) % 40));
		else if (strncmp(proto, "icmp", 4) == 0 && rand_r(&seed) % 2)
			snprintf(match, sizeof(match), "icmp_type = %d; ", rand_r(&seed) % 2 ? 8 : 128);
		len += (size_t)snprintf(text + len, cap - len,
				"%s{ direction = \"%s\"; policy = \"%s\"; priority = %d; protocol = \"%s\"; "
				"%s%s = \"%s\"; }\n",
				i ? "," : "", ingress ? "ingress" : "egress",
				rand_r(&seed) % 4 ? "accept" : "drop", rand_r(&seed) % 100 + 1, proto, match,
				ingress ? "source_cidr" : "dest_cidr", peer);
	}
	snprintf(text + len, cap - len,
			"); } );\nports = ( { name = \"p\"; mac = \"52:54:00:00:00:01\"; "
			"ips = [\"10.0.0.1\", \"fd00::1\"]; security_groups = [\"big\"]; } );\n");
	return text;
}

/*
 * With many rules, rte_acl, the linear matcher and the engine agree on keys aimed at the
 * rules' prefixes and port edges; and a list queued for the background builder is matched
 * linearly, then by its context, with the same answers before and after.
 */
START_TEST(acl_linear_and_background_build_agree)
{
	struct sg_error err = {0};
	char *text = many_rules_config(4242, 600);
	struct sg_conf *conf = sg_conf_load_string(text, "many", &err);
	struct sg_acl_params now = {.socket_id = SOCKET_ID_ANY, .generation = 6};
	struct sg_acl_params linear = {.socket_id = SOCKET_ID_ANY, .generation = 7,
			.build = SG_ACL_LINEAR};
	struct sg_acl_params later = {.socket_id = SOCKET_ID_ANY, .generation = 8,
			.build = SG_ACL_BUILD_LATER};
	struct sg_acl *a, *b, *c;
	struct sg_acl_counts counts;
	unsigned int seed = 31337;
	uint32_t differ = 0;

	ck_assert_msg(conf != NULL, "config: %s", err.msg);
	a = sg_acl_build(conf->policy, &now, &err);
	b = sg_acl_build(conf->policy, &linear, &err);
	c = sg_acl_build(conf->policy, &later, &err);
	ck_assert_msg(a != NULL && b != NULL && c != NULL, "build: %s", err.msg);
	sg_acl_build_counts(c, &counts);
	ck_assert_uint_eq(counts.built, 0);
	ck_assert_uint_eq(counts.queued + counts.constant, 4);
	ck_assert_uint_ge(counts.queued, 3);
	for (int round = 0; round < 40000; round++) {
		const struct sg_eff_rule *entries;
		enum sg_dir dir = (enum sg_dir)(rand_r(&seed) % 2);
		uint32_t n = sg_policy_effective(conf->policy, 0, dir, &entries);
		const struct sg_eff_rule *aim = &entries[(uint32_t)rand_r(&seed) % n];
		struct sg_flow flow = {.proto = rand_r(&seed) % 4 && aim->proto != SG_PROTO_ANY
						? (uint8_t)aim->proto : 17};
		uint8_t family = rand_r(&seed) % 2 ? SG_AF_INET : SG_AF_INET6;
		struct sg_acl_key4 k4 = {.proto = flow.proto};
		struct sg_acl_key6 k6 = {.proto = flow.proto};
		struct sg_ip peer = {.family = family};
		const uint8_t *key = family == SG_AF_INET ? (const uint8_t *)&k4 : (const uint8_t *)&k6;
		uint32_t ra, rb, rc;
		struct sg_verdict v;

		/* Near the aimed rule's peer: inside, or one bit flipped somewhere. */
		if (!aim->peer_any && aim->n_peers > 0 && aim->peers[0].ip.family == family)
			peer = aim->peers[0].ip;
		for (int i = 0; i < (family == SG_AF_INET ? 4 : 16); i++)
			if (rand_r(&seed) % 8 == 0)
				peer.bytes[i] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
		flow.sport = (uint16_t)(rand_r(&seed) % 2 ? aim->sport.lo : rand_r(&seed) % 70000);
		flow.dport = (uint16_t)(rand_r(&seed) % 2 ? aim->dport.hi + rand_r(&seed) % 3 - 1
							     : aim->dport.lo + rand_r(&seed) % 3 - 1);
		if (dir == SG_DIR_INGRESS)
			flow.src = peer, flow.dst = peer;
		else
			flow.dst = peer, flow.src = peer;
		memcpy(&k4.peer, peer.bytes, 4);
		memcpy(k6.peer, peer.bytes, 16);
		k4.sport = k6.sport = rte_cpu_to_be_16(flow.sport);
		k4.dport = k6.dport = rte_cpu_to_be_16(flow.dport);
		sg_acl_classify(a, 0, dir, family, &key, &ra, 1);
		sg_acl_classify(b, 0, dir, family, &key, &rb, 1);
		sg_acl_classify(c, 0, dir, family, &key, &rc, 1);
		sg_policy_decide(conf->policy, 0, dir, &flow, &v);
		differ += ra != v.position || rb != v.position || rc != v.position;
		if (ra != v.position || rb != v.position || rc != v.position)
			fprintf(stderr, "%s family %u proto %u %u->%u: rte_acl %u linear %u later %u engine %u\n",
					sg_dir_name(dir), family, flow.proto, flow.sport, flow.dport, ra, rb, rc,
					v.position);
		ck_assert_uint_lt(differ, 10);
	}
	ck_assert_uint_eq(differ, 0);
	sg_acl_wait_builds();
	sg_acl_build_counts(c, &counts);
	ck_assert_uint_eq(counts.linear, 0);
	ck_assert_uint_eq(counts.failed, 0);
	ck_assert_uint_eq(mismatches_with_engine(c, conf->policy, 1, 99, 20000), 0);
	sg_acl_free(a);
	sg_acl_free(b);
	sg_acl_free(c);
	sg_conf_free(conf);
	free(text);
}
END_TEST

/* A classifier freed before its queued lists are built leaves nothing behind (ASan checks). */
START_TEST(acl_freed_before_build)
{
	struct sg_error err = {0};
	char *text = many_rules_config(5, 300);
	struct sg_conf *conf = sg_conf_load_string(text, "many", &err);
	struct sg_acl_params later = {.socket_id = SOCKET_ID_ANY, .generation = 9,
			.build = SG_ACL_BUILD_LATER};

	ck_assert_msg(conf != NULL, "config: %s", err.msg);
	for (int i = 0; i < 20; i++) {
		struct sg_acl *acl = sg_acl_build(conf->policy, &later, &err);

		ck_assert_msg(acl != NULL, "build: %s", err.msg);
		sg_acl_free(acl);
	}
	sg_acl_wait_builds();
	sg_conf_free(conf);
	free(text);
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
	struct sg_acl_counts counts;
	unsigned int seed = 99;

	/* Only group "e"'s ingress rule changes: port p4's ingress lists, nothing else. */
	ck_assert_ptr_nonnull(at);
	memcpy(at, to, strlen(to));
	b = sg_conf_load_string(changed, "b", &err);
	ck_assert_msg(a != NULL && b != NULL, "%s", err.msg);
	first = sg_acl_build(a->policy, &params, &err);
	ck_assert_ptr_nonnull(first);
	sg_acl_build_counts(first, &counts);
	/* 4 ports x 2 directions x 2 families; the IPv6 lists of p3's egress and p4's egress and
	 * ingress hold only the default for IPv6: constant, no context. */
	ck_assert_uint_eq(counts.built, 13);
	ck_assert_uint_eq(counts.constant, 3);
	ck_assert_uint_eq(counts.reused, 0);
	ck_assert_uint_eq(counts.queued + counts.linear + counts.failed, 0);
	params.generation = 4;
	params.prev = first;
	second = sg_acl_build(b->policy, &params, &err);
	ck_assert_ptr_nonnull(second);
	sg_acl_build_counts(second, &counts);
	/* p4's ingress changed: IPv4 rebuilt, IPv6 still constant; the 14 others shared. */
	ck_assert_uint_eq(counts.built, 1);
	ck_assert_uint_eq(counts.constant, 1);
	ck_assert_uint_eq(counts.reused, 14);
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

/* A fleet seen from hv1, where port "web" runs on the host the %s names ("hv1": here). */
static const char *const fleet_text =
	"host = \"hv1\";\n"
	"hosts = ( { name = \"hv1\"; vtep = \"192.0.2.1\"; }, { name = \"hv2\"; vtep = \"192.0.2.2\"; } );\n"
	"subnets = ( { cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.1\"; vni = 7; } );\n"
	"security_groups = ( { id = \"w\"; inner_access_policy = \"drop\"; rules = (); },\n"
	" { id = \"d\"; rules = ( { direction = \"ingress\"; priority = 1; protocol = \"tcp\";\n"
	"   port_range = \"5432/5432\"; source_group = \"w\"; } ); } );\n"
	"ports = ( { name = \"up\"; role = \"uplink\"; type = \"null\"; peer_mac = \"02:00:00:00:00:fe\"; },\n"
	" { name = \"db\"; mac = \"52:54:00:00:00:01\"; ips = [\"10.1.0.11\"]; security_groups = [\"d\"]; },\n"
	" { name = \"web\"; host = \"%s\"; mac = \"52:54:00:00:00:02\"; ips = [\"10.1.0.12\"];\n"
	"   security_groups = [\"w\"]; } );\n";

/* A port of another host that moves here (a fleet's port move) gets contexts of its own on the
 * rebuild, never the previous generation's (it had none there): it classifies as the engine. */
START_TEST(acl_rebuild_port_moved_here)
{
	struct sg_error err = {0};
	char away[2048], here[2048];
	struct sg_acl_params params = {.socket_id = SOCKET_ID_ANY, .generation = 3};
	struct sg_conf *a, *b;
	struct sg_acl *first, *second;
	int web;

	snprintf(away, sizeof(away), fleet_text, "hv2");
	snprintf(here, sizeof(here), fleet_text, "hv1");
	a = sg_conf_load_string(away, "away", &err);
	ck_assert_msg(a != NULL, "%s", err.msg);
	b = sg_conf_load_string(here, "here", &err);
	ck_assert_msg(b != NULL, "%s", err.msg);
	web = sg_policy_find_port(a->policy, "web");
	ck_assert_int_ge(web, 0);
	ck_assert(sg_policy_spec(a->policy)->ports[web].remote);
	first = sg_acl_build(a->policy, &params, &err);
	ck_assert_ptr_nonnull(first);
	params.generation = 4;
	params.prev = first;
	second = sg_acl_build(b->policy, &params, &err);
	ck_assert_ptr_nonnull(second);
	/* Only local ports' lists are compiled, so only they are counted: web's here. */
	ck_assert_uint_lt(sg_acl_rule_count(first), sg_acl_rule_count(second));
	sg_acl_free(first);
	web = sg_policy_find_port(b->policy, "web");
	ck_assert_int_ge(web, 0);
	ck_assert(!sg_policy_spec(b->policy)->ports[web].remote);
	for (int dir = 0; dir < SG_DIR_COUNT; dir++) {
		struct sg_flow flow = {.proto = 6, .sport = 40000, .dport = 5432};
		struct sg_acl_key4 key = {.proto = 6};
		const uint8_t *ptr = (const uint8_t *)&key;
		uint32_t result = 0;
		struct sg_verdict v;

		sg_ip_parse("10.1.0.11", &flow.src);
		sg_ip_parse("10.1.0.12", &flow.dst);
		memcpy(&key.peer, dir == SG_DIR_INGRESS ? flow.src.bytes : flow.dst.bytes, 4);
		key.sport = rte_cpu_to_be_16(flow.sport);
		key.dport = rte_cpu_to_be_16(flow.dport);
		sg_acl_classify(second, (uint32_t)web, (enum sg_dir)dir, SG_AF_INET, &ptr, &result, 1);
		sg_policy_decide(b->policy, (uint32_t)web, (enum sg_dir)dir, &flow, &v);
		ck_assert_uint_eq(result, v.position);
	}
	sg_acl_free(second);
	sg_conf_free(a);
	sg_conf_free(b);
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
	tcase_add_test(tc, acl_linear_matches_engine);
	tcase_add_test(tc, acl_linear_and_background_build_agree);
	tcase_add_test(tc, acl_freed_before_build);
	tcase_add_test(tc, acl_burst_equals_single);
	tcase_add_test(tc, acl_rebuild_reuses_unchanged_contexts);
	tcase_add_test(tc, acl_rebuild_port_moved_here);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sg_test_eal_cleanup();
	return failed == 0 ? 0 : 1;
}
