/* SPDX-License-Identifier: BSD-3-Clause */
/* The control plane of a cluster node at fleet scale, without etcd or a datapath: a generated
 * fleet of PORTS ports on HOSTS hosts in GROUPS groups is set key by key (as a sync reads it)
 * and built into the config of host hv0 (its local file plus the fleet), timed, with the
 * process's peak memory. "cluster_scale" (no arguments) is a small run checked as a unit test;
 * "cluster_scale 100000 10000 1000" is the measurement of docs/cluster.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sg_cluster.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
set(struct sg_cluster_fleet *f, const char *key, const char *value, int64_t rev)
{
	struct sg_error err = {0};

	if (sg_cluster_fleet_set(f, key, value, strlen(value), rev, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	uint32_t ports = argc > 1 ? (uint32_t)atoi(argv[1]) : 2000;
	uint32_t groups = argc > 2 ? (uint32_t)atoi(argv[2]) : 200;
	uint32_t hosts = argc > 3 ? (uint32_t)atoi(argv[3]) : 20;
	struct sg_cluster_fleet *f = sg_cluster_fleet_create(SG_CLUSTER_PREFIX);
	char local[] = "/tmp/cluster_scale_XXXXXX", key[128], value[512];
	struct sg_error err = {0};
	struct rusage ru;
	long parsed_rss;
	uint32_t n_local = 0, n_remote = 0;
	struct sg_conf *conf;
	int64_t rev = 1;
	double t0, t1, t2;
	int fd = mkstemp(local);
	FILE *out;

	if (fd < 0 || f == NULL || (out = fdopen(fd, "w")) == NULL)
		return 1;
	fputs("host = \"hv0\";\ncluster = { endpoints = [\"http://127.0.0.1:2379\"]; };\n"
	      "ports = ( { name = \"up\"; type = \"null\"; role = \"uplink\"; "
	      "peer_mac = \"02:00:00:00:00:fe\"; } );\n",
			out);
	fclose(out);
	t0 = now();
	for (uint32_t h = 0; h < hosts; h++) {
		snprintf(key, sizeof(key), SG_CLUSTER_PREFIX "hosts/hv%u", h);
		snprintf(value, sizeof(value), "{\"vtep\":\"192.168.%u.%u\"}", 1 + h / 250,
				1 + h % 250);
		set(f, key, value, rev++);
	}
	set(f, SG_CLUSTER_PREFIX "subnets/fleet",
			"{\"cidr\":\"10.0.0.0/8\",\"gateway\":\"10.0.0.1\",\"vni\":1}", rev++);
	/* Each group takes a service port from the next group's members, and all from a CIDR. */
	for (uint32_t g = 0; g < groups; g++) {
		snprintf(key, sizeof(key), SG_CLUSTER_PREFIX "groups/sg-%u", g);
		snprintf(value, sizeof(value),
				"{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"tcp\","
				"\"port_range\":\"%u/%u\",\"source_group\":\"sg-%u\"},"
				"{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"port_range\":"
				"\"443/443\",\"source_cidr\":\"172.16.0.0/12\"}]}",
				1000 + g % 50000, 1000 + g % 50000, (g + 1) % groups);
		set(f, key, value, rev++);
	}
	for (uint32_t p = 0; p < ports; p++) {
		uint32_t ip = p + 16;

		snprintf(key, sizeof(key), SG_CLUSTER_PREFIX "ports/vm%u", p);
		snprintf(value, sizeof(value),
				"{\"host\":\"hv%u\",\"type\":\"null\",\"mac\":\"52:54:%02x:%02x:%02x:%02x\","
				"\"ips\":[\"10.%u.%u.%u\"],\"security_groups\":[\"sg-%u\"]}",
				p % hosts, (p >> 24) & 0xff, (p >> 16) & 0xff, (p >> 8) & 0xff,
				p & 0xff, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff, p % groups);
		set(f, key, value, rev++);
	}
	t1 = now();
	getrusage(RUSAGE_SELF, &ru);
	parsed_rss = ru.ru_maxrss / 1024;
	conf = sg_cluster_fleet_build(f, local, &err);
	t2 = now();
	unlink(local);
	if (conf == NULL) {
		fprintf(stderr, "build failed: %s\n", err.msg);
		return 1;
	}
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		if (conf->ports[i].uplink)
			continue;
		if (conf->ports[i].remote)
			n_remote++;
		else
			n_local++;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("fleet: %u ports on %u hosts, %u groups (%zu keys)\n", ports, hosts, groups,
			sg_cluster_fleet_count(f));
	printf("keys parsed in %.3f s; built (text, load, validate, compile) in %.3f s\n", t1 - t0,
			t2 - t1);
	printf("local ports %u, remote ports %u; peak RSS %ld MiB (%ld MiB when the keys were "
	       "parsed)\n",
			n_local, n_remote, ru.ru_maxrss / 1024, parsed_rss);
	sg_conf_free(conf);
	sg_cluster_fleet_free(f);
	return n_local + n_remote == ports && n_local == (ports + hosts - 1) / hosts ? 0 : 1;
}
