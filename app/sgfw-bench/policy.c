/* SPDX-License-Identifier: BSD-3-Clause */
/* Generated policies and the config around them, written as sgfw config text so the bench loads
 * them through the same loader, policy compiler and classifier builder as sgfw.
 *
 * Each VM port gets 'rules' custom rules in groups of at most 200 (five groups at 1,000), shaped
 * like real groups: ingress and egress, accept and drop, priorities 1..99, TCP/UDP port ranges
 * and single ports, ICMP types, CIDRs of mixed lengths in both families, and group peers naming
 * other VMs' groups. None of them matches the benchmark's clients (198.18.0.0/15,
 * 2001:db8:18::/47): those are decided by the two service rules at priority 100 that accept
 * 198.18.0.0/16 and 2001:db8:18::/48, so the denied range falls to the default drop. A port with
 * "0 rules" still has these two (a VM port accepts nothing inbound without a rule).
 *
 * --overlay adds the fleet (bench.h): this node is host hv1, hv2 has BENCH_REMOTE_PORTS remote
 * ports in subnets of their own, and two more service rules (in place of two generated ones, so
 * a port keeps its rule count) accept them: 198.51.100.0/24 and 2001:db8:51::/64, which no
 * generated rule names. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define RULES_PER_GROUP 200
#define SERVICE_RULES 2
#define GROUP_PEERS_PER_GROUP 10
/* VXLAN's outer Ethernet, IPv4, UDP and VXLAN headers: overlay.mtu carries IP of mtu - 50. */
#define BENCH_VXLAN_OVERHEAD 50

struct text {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;
};

static void __attribute__((format(printf, 2, 3)))
put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < t->cap - t->len)
			break;
		char *grown = realloc(t->buf, t->cap * 2 + (size_t)n);

		if (grown == NULL) {
			t->failed = true;
			return;
		}
		t->buf = grown;
		t->cap = t->cap * 2 + (size_t)n;
	}
	t->len += (size_t)n;
}

/* A random IPv4 CIDR outside the clients' range, with host bits clear. */
static void
put_cidr4(struct text *t, uint64_t *rng)
{
	static const struct {
		uint32_t base;
		uint8_t len;
	} pools[] = {
		{0x0a000000, 8},  /* 10.0.0.0/8 */
		{0xac100000, 12}, /* 172.16.0.0/12 */
		{0x64400000, 10}, /* 100.64.0.0/10 */
		{0xc0a80000, 16}, /* 192.168.0.0/16 */
		{0xcb007100, 24}, /* 203.0.113.0/24 */
	};
	/* Prefix lengths seen in real groups: many hosts and /24s, some wide ranges. */
	static const uint8_t lens[] = {32, 32, 32, 24, 24, 24, 16, 16, 28, 20, 12, 8};
	uint64_t r = bench_rand(rng);
	unsigned int p = (unsigned int)(r % SG_ARRAY_SIZE(pools));
	uint8_t len = lens[(r >> 8) % SG_ARRAY_SIZE(lens)];
	uint32_t addr;

	if (len < pools[p].len)
		len = pools[p].len;
	addr = pools[p].base | ((uint32_t)(r >> 24) & (UINT32_MAX >> pools[p].len));
	addr &= len == 0 ? 0 : UINT32_MAX << (32 - len);
	put(t, "%u.%u.%u.%u/%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255, len);
}

/* A random IPv6 CIDR inside 2001:db8:1000::/36 (never the clients' 2001:db8:18::/47). */
static void
put_cidr6(struct text *t, uint64_t *rng)
{
	static const uint8_t lens[] = {128, 128, 64, 64, 56, 48};
	uint64_t r = bench_rand(rng);
	uint8_t len = lens[r % SG_ARRAY_SIZE(lens)];
	uint16_t w[8] = {0x2001, 0x0db8, (uint16_t)(0x1000 | ((r >> 8) & 0x0fff)),
			(uint16_t)(r >> 20), (uint16_t)(r >> 36), (uint16_t)(r >> 52),
			(uint16_t)bench_rand(rng), (uint16_t)bench_rand(rng)};

	for (int i = 0; i < 8; i++) {
		int keep = (int)len - i * 16;

		if (keep <= 0)
			w[i] = 0;
		else if (keep < 16)
			w[i] &= (uint16_t)(0xffff << (16 - keep));
	}
	put(t, "%x:%x:%x:%x:%x:%x:%x:%x/%u", w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], len);
}

static void
put_random_rule(struct text *t, uint64_t *rng, uint32_t vm, uint32_t n_vms, uint32_t *peers)
{
	static const uint16_t common_ports[] = {22, 25, 53, 123, 443, 3306, 3389, 5432, 6379, 8080,
			8443, 9090, 9200, 11211, 27017};
	uint64_t r = bench_rand(rng);
	bool ingress = r % 10 < 7;
	bool drop = (r >> 4) % 100 < 15;
	unsigned int pr = (unsigned int)((r >> 12) % 100);
	const char *proto = pr < 60 ? "tcp" : pr < 85 ? "udp" : pr < 95 ? "icmp" : "all";
	bool v6 = strcmp(proto, "icmp") != 0 && (r >> 20) % 100 < 20;

	put(t, "      { direction = \"%s\"; policy = \"%s\"; priority = %u; protocol = \"%s\"; ",
			ingress ? "ingress" : "egress", drop ? "drop" : "accept",
			(unsigned int)(1 + (r >> 28) % 99), proto);
	if (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0) {
		uint64_t q = bench_rand(rng);
		uint16_t lo, hi;

		if (q % 2 == 0) {
			lo = hi = common_ports[(q >> 8) % SG_ARRAY_SIZE(common_ports)];
		} else {
			lo = (uint16_t)(1025 + (q >> 8) % 60000);
			hi = (uint16_t)SG_MIN(65535u, lo + (q >> 24) % 2000);
		}
		put(t, "port_range = \"%u/%u\"; ", lo, hi);
	} else if (strcmp(proto, "icmp") == 0 && (r >> 40) % 2 == 0) {
		put(t, "port_range = \"-1/-1\"; icmp_type = %u; ", (unsigned int)((r >> 41) % 2 ? 8 : 0));
	} else {
		put(t, "port_range = \"-1/-1\"; ");
	}
	if (n_vms > 1 && *peers < GROUP_PEERS_PER_GROUP && (r >> 48) % 10 == 0) {
		uint32_t other = (vm + 1 + (uint32_t)(r >> 52) % (n_vms - 1)) % n_vms;

		(*peers)++;
		put(t, "%s = \"sg-vm%u-0\"; },\n", ingress ? "source_group" : "dest_group", other);
		return;
	}
	put(t, "%s = \"", ingress ? "source_cidr" : "dest_cidr");
	if (v6)
		put_cidr6(t, rng);
	else
		put_cidr4(t, rng);
	put(t, "\"; },\n");
}

static uint32_t
groups_of(uint32_t rules)
{
	uint32_t n = (rules + RULES_PER_GROUP - 1) / RULES_PER_GROUP;

	return n == 0 ? 1 : n;
}

char *
bench_config_text(const struct bench_opts *o, const struct bench_world *world,
		const char *port_kind, const char *pcap_dir)
{
	struct text t = {.cap = 1 << 16};
	uint32_t service = o->overlay ? 2 * SERVICE_RULES : SERVICE_RULES;
	uint32_t per_port = SG_MAX(o->rules, service);
	uint32_t n_groups = groups_of(per_port);
	uint64_t rng = o->seed * 7919 + 17;
	bool memif = strcmp(port_kind, "memif") == 0;

	t.buf = malloc(t.cap);
	if (t.buf == NULL)
		return NULL;
	put(&t, "# Generated by sgfw-bench: %u VM port(s) with %u custom rules each, and an uplink.\n",
			world->n_vms, per_port);
	put(&t, "limits = { groups_per_port = 10; rules_per_group = 10000; rules_per_port = 10000; "
		"group_peers_per_group = 100; };\n");
	put(&t, "security_groups = (\n");
	for (uint32_t vm = 0; vm < world->n_vms; vm++) {
		uint32_t left = per_port;

		for (uint32_t g = 0; g < n_groups; g++) {
			uint32_t here = SG_MIN(left, (uint32_t)RULES_PER_GROUP), peers = 0;

			left -= here;
			put(&t, "  { id = \"sg-vm%u-%u\"; rules = (\n", vm, g);
			if (g == 0) {
				put(&t, "      { direction = \"ingress\"; priority = 100; protocol = \"all\"; "
					"port_range = \"-1/-1\"; source_cidr = \"198.18.0.0/16\"; },\n");
				put(&t, "      { direction = \"ingress\"; priority = 100; protocol = \"all\"; "
					"port_range = \"-1/-1\"; source_cidr = \"2001:db8:18::/48\"; },\n");
				if (o->overlay)
					put(&t, "      { direction = \"ingress\"; priority = 100; "
						"protocol = \"all\"; port_range = \"-1/-1\"; "
						"source_cidr = \"198.51.100.0/24\"; },\n"
						"      { direction = \"ingress\"; priority = 100; "
						"protocol = \"all\"; port_range = \"-1/-1\"; "
						"source_cidr = \"2001:db8:51::/64\"; },\n");
				here -= service;
			}
			for (uint32_t r = 0; r < here; r++)
				put_random_rule(&t, &rng, vm, world->n_vms, &peers);
			/* libconfig lists take no trailing comma: close with the last rule. */
			if (t.len >= 2 && t.buf[t.len - 2] == ',')
				t.buf[t.len - 2] = ' ';
			bool last = vm + 1 == world->n_vms && g + 1 == n_groups && !o->overlay;

			put(&t, "  ); }%s\n", last ? "" : ",");
		}
	}
	/* --overlay: hv2's ports are members of a group of their own, without rules here (their
	 * host enforces theirs), which no generated rule names. */
	if (o->overlay)
		put(&t, "  { id = \"sg-hv2\"; rules = (); }\n");
	put(&t, ");\n");
	if (o->overlay) {
		const uint8_t(*m)[6] = world->host_mac;
		const uint8_t(*v)[4] = world->vtep;

		put(&t, "host = \"hv1\";\nhosts = (\n");
		for (int h = 0; h < 2; h++)
			put(&t, "  { name = \"hv%d\"; vtep = \"%u.%u.%u.%u\"; "
				"mac = \"%02x:%02x:%02x:%02x:%02x:%02x\"; }%s\n",
					h + 1, v[h][0], v[h][1], v[h][2], v[h][3], m[h][0], m[h][1],
					m[h][2], m[h][3], m[h][4], m[h][5], h == 0 ? "," : "");
		/* Room for the largest inner frame (IP packets of up to mtu - 50 bytes). */
		put(&t, ");\noverlay = { mtu = %u; };\n",
				SG_MAX(1500u, o->size - 14 + BENCH_VXLAN_OVERHEAD));
		put(&t, "subnets = ( { cidr = \"10.0.0.0/16\"; gateway = \"10.0.0.1\"; "
			"vni = %u; },\n"
			"            { cidr = \"fd00::/64\"; gateway = \"fd00::1\"; vni = %u; },\n"
			"            { cidr = \"198.51.100.0/24\"; gateway = \"198.51.100.1\"; "
			"vni = %u; },\n"
			"            { cidr = \"2001:db8:51::/64\"; gateway = \"2001:db8:51::1\"; "
			"vni = %u; }",
				BENCH_VNI_LOCAL4, BENCH_VNI_LOCAL6, BENCH_VNI_REMOTE4,
				BENCH_VNI_REMOTE6);
	} else {
		put(&t, "subnets = ( { cidr = \"10.0.0.0/16\"; gateway = \"10.0.0.1\"; },\n"
			"            { cidr = \"fd00::/64\"; gateway = \"fd00::1\"; }");
	}
	/* --subnets: half IPv4 /24s in 172.16.0.0/12, half IPv6 /64s in fd10::/16. */
	for (uint32_t s = 0; s < o->subnets; s++)
		if (s % 2 == 0)
			put(&t, ",\n  { cidr = \"172.%u.%u.0/24\"; gateway = \"172.%u.%u.1\"; }",
					16 + s / 512, s / 2 % 256, 16 + s / 512, s / 2 % 256);
		else
			put(&t, ",\n  { cidr = \"fd10:%x::/64\"; gateway = \"fd10:%x::1\"; }", s / 2, s / 2);
	put(&t, " );\n");
	put(&t, "router = { mac = \"%02x:%02x:%02x:%02x:%02x:%02x\"; };\n", world->router_mac[0],
			world->router_mac[1], world->router_mac[2], world->router_mac[3],
			world->router_mac[4], world->router_mac[5]);
	put(&t, "ports = (\n");
	for (uint32_t vm = 0; vm < world->n_vms; vm++) {
		const uint8_t *m = world->vm_mac[vm];

		put(&t, "  { name = \"vm%u\"; mac = \"%02x:%02x:%02x:%02x:%02x:%02x\"; ips = [", vm,
				m[0], m[1], m[2], m[3], m[4], m[5]);
		/* --prefix: the first address listed, all of them in an allowed prefix. */
		for (uint32_t a = 0; a < (o->prefix ? 1 : o->addresses); a++)
			put(&t, "%s\"10.0.%u.%u\", \"fd00::%x:%x\"", a ? ", " : "", vm + 1, a + 1, vm + 1,
					a + 1);
		if (o->prefix)
			put(&t, "];\n    allowed_prefixes = [\"10.0.%u.0/24\", \"fd00::%x:0/120\"", vm + 1,
					vm + 1);
		put(&t, "]; security_groups = [");
		for (uint32_t g = 0; g < n_groups; g++)
			put(&t, "%s\"sg-vm%u-%u\"", g ? ", " : "", vm, g);
		put(&t, "];\n    type = \"%s\";", memif ? "pci" : port_kind);
		if (strcmp(port_kind, "pcap") == 0)
			put(&t, " rx_pcap = \"%s/vm%u.pcap\"; infinite_rx = true;", pcap_dir, vm);
		/* Rate mode's ring ethdevs exist before the datapath starts: it finds them by name,
		 * as it finds the NICs EAL probed (memif: the --vdev given to sgfw's EAL). */
		if (strcmp(port_kind, "pci") == 0 || memif)
			put(&t, " pci = \"net_%s_vm%u\";", memif ? "memif" : "ring", vm);
		put(&t, " },\n");
	}
	/* --overlay: hv2's ports, group members without a device here. */
	for (uint32_t k = 0; o->overlay && k < BENCH_REMOTE_PORTS; k++) {
		uint8_t m[6];

		bench_remote_mac(k, m);
		put(&t, "  { name = \"r%u\"; host = \"hv2\"; "
			"mac = \"%02x:%02x:%02x:%02x:%02x:%02x\";\n"
			"    ips = [\"198.51.100.%u\", \"2001:db8:51::%x\"]; "
			"security_groups = [\"sg-hv2\"]; },\n",
				k, m[0], m[1], m[2], m[3], m[4], m[5], 10 + k, 10 + k);
	}
	put(&t, "  { name = \"up0\"; role = \"uplink\"; peer_mac = \"%02x:%02x:%02x:%02x:%02x:%02x\";\n"
		"    type = \"%s\";", world->uplink_mac[0], world->uplink_mac[1], world->uplink_mac[2],
			world->uplink_mac[3], world->uplink_mac[4], world->uplink_mac[5],
			memif ? "pci" : port_kind);
	if (strcmp(port_kind, "pcap") == 0)
		put(&t, " rx_pcap = \"%s/up0.pcap\"; infinite_rx = true;", pcap_dir);
	if (strcmp(port_kind, "pci") == 0 || memif)
		put(&t, " pci = \"net_%s_up0\";", memif ? "memif" : "ring");
	put(&t, " }\n);\n");
	put(&t, "dataplane = { workers = %u; burst = %u; sleep_max_us = %u; };\n", o->workers,
			o->burst, o->sleep_max_us);
	put(&t, "conntrack = { capacity = %u; };\n", o->capacity);
	put(&t, "control = { socket = \"\"; };\n");
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}
