/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: a config written and loaded again is the same config.
 *
 * Invariants, for every input that loads (sg_conf_load_string): sg_conf_write() gives text
 * that loads, the result is the same configuration field for field (sg_conf_diff() finds
 * nothing), and writing that gives the same text again. This is the round-trip property test
 * (tests/unit/check_conf_roundtrip.c) on arbitrary configs: a field the writer drops, escapes
 * wrongly or writes in a form the loader reads otherwise is a finding. Starts from the config
 * corpus (corpus/conf). @include is refused, as in fuzz_conf.
 */
#include <string.h>

#include "fuzz_common.h"
#include "sg_conf.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static char *
written(const struct sg_conf *conf)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	FUZZ_CHECK(out != NULL, "open_memstream");
	FUZZ_CHECK(sg_conf_write(conf, out) == 0, "write failed");
	fclose(out);
	return text;
}

static void
print_diff(void *arg, const char *what)
{
	(void)arg;
	fprintf(stderr, "differs: %s\n", what);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_error err = {0};
	struct sg_conf *conf, *again;
	char *text, *first, *second;

	if (size > 64 * 1024)
		return -1;
	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (strcasestr(text, "@include") != NULL) {
		free(text);
		return -1;
	}
	conf = sg_conf_load_string(text, "fuzz.conf", &err);
	free(text);
	if (conf == NULL)
		return 0;
	first = written(conf);
	again = sg_conf_load_string(first, "written.conf", &err);
	if (again == NULL)
		fprintf(stderr, "%s\n", first);
	FUZZ_CHECK(again != NULL, "the written config does not load: %s", err.msg);
	if (sg_conf_diff(conf, again, print_diff, NULL) != 0)
		fprintf(stderr, "%s\n", first);
	FUZZ_CHECK(sg_conf_diff(conf, again, NULL, NULL) == 0, "loaded again, it differs");
	second = written(again);
	FUZZ_CHECK(strcmp(first, second) == 0, "written twice, two texts:\n%s\n----\n%s", first,
			second);
	free(first);
	free(second);
	sg_conf_free(again);
	sg_conf_free(conf);
	return 0;
}
