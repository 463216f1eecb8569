/* SPDX-License-Identifier: BSD-3-Clause */
/* Starting DPDK's EAL inside a component test: no hugepages, no PCI, a file prefix of its own. */
#ifndef SG_TEST_EAL_H
#define SG_TEST_EAL_H

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>

/* Exit status meson reads as "skipped". */
#define SG_TEST_SKIP 77

/**
 * Initialise EAL for test 'name' with 'memory_mb' of ordinary memory and the extra arguments
 * given (for example "--vdev=net_ring0"). Returns 0, or -1 after printing why.
 * Call before srunner_run_all() and run the suite with CK_NOFORK: EAL state does not
 * survive fork().
 */
static inline int
sg_test_eal_init(const char *name, int memory_mb, int n_extra, char **extra)
{
	char prefix[64], memory[16];
	/* No shared config files and no telemetry socket: a run leaves nothing in /var/run/dpdk
	 * but an empty directory, which sg_test_eal_cleanup() removes. */
	char *argv[18] = {(char *)name, "--no-huge", "--no-pci", "-l", "0", "--log-level", "lib.*:warning",
			"-m", memory, "--file-prefix", prefix, "--no-shconf", "--no-telemetry"};
	int argc = 13;

	snprintf(prefix, sizeof(prefix), "sgfw-test-%s-%d", name, (int)getpid());
	snprintf(memory, sizeof(memory), "%d", memory_mb);
	for (int i = 0; i < n_extra && argc < 17; i++)
		argv[argc++] = extra[i];
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed\n", name);
		return -1;
	}
	return 0;
}

/** Tear EAL down and remove the test's (empty) runtime directory. */
static inline void
sg_test_eal_cleanup(void)
{
	char runtime_dir[PATH_MAX];

	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(runtime_dir);
}

#endif /* SG_TEST_EAL_H */
