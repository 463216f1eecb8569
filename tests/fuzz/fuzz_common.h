/* SPDX-License-Identifier: BSD-3-Clause */
/* What the libFuzzer targets share: EAL started once per process (no hugepages, no shared
 * files), and a check that reports a broken invariant as a crash libFuzzer keeps. */
#ifndef SG_FUZZ_COMMON_H
#define SG_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* libFuzzer's entry points. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: print it and abort, so libFuzzer saves the input as a crash. */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#ifdef SG_FUZZ_EAL
#include "sg_test_eal.h"

/*
 * Start EAL for target 'name' with 'memory_mb' of ordinary memory, once. The runtime
 * directory (empty with --no-shconf) is removed at a normal exit; run_fuzz.sh removes it
 * after a crash too.
 */
static inline void
fuzz_eal_init(const char *name, int memory_mb)
{
	char *extra[] = {"--log-level", "*:error"};

	if (sg_test_eal_init(name, memory_mb, 2, extra) < 0)
		abort();
	atexit(sg_test_eal_cleanup);
}
#endif

#endif /* SG_FUZZ_COMMON_H */
