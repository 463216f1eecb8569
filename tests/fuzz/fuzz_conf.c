/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the config loader (sg_conf_load_string) on arbitrary text.
 *
 * Invariants: a config either loads whole, and then every port's combined rules can be read,
 * or fails with one message for people that names a place ("ORIGIN:LINE: ...") and is not the
 * loader's "cannot match the numbers" (its scanner of integer literals disagreeing with
 * libconfig's). Nothing leaks
 * either way (LeakSanitizer runs after inputs that allocated more than they freed).
 *
 * @include directives are refused before loading: from a string they would read whatever file
 * the fuzzer names (/dev/zero included), which tests the file system, not the loader.
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_error err = {0};
	struct sg_conf *conf;
	char *text;

	/* Config files are small; the loader's limits, not libconfig's speed, are under test. */
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
	if (conf == NULL) {
		FUZZ_CHECK(err.msg[0] != '\0', "refused without a message");
		FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL, "message not terminated");
		FUZZ_CHECK(strncmp(err.msg, "fuzz.conf", 9) == 0, "message names no place: %s", err.msg);
		/* The integer literals of every text libconfig parses match its settings (that
		 * message has no line, so no text of the input can start it). */
		FUZZ_CHECK(strncmp(err.msg, "fuzz.conf: cannot match the ", 28) != 0, "%s", err.msg);
	} else {
		const struct sg_spec *spec = sg_policy_spec(conf->policy);

		FUZZ_CHECK(spec != NULL && spec->n_ports <= conf->n_ports, "ports %u of %u",
				spec == NULL ? 0 : spec->n_ports, conf->n_ports);
		for (uint32_t p = 0; p < spec->n_ports; p++) {
			for (int d = 0; d < SG_DIR_COUNT; d++) {
				const struct sg_eff_rule *entries;
				uint32_t n = sg_policy_effective(conf->policy, p, (enum sg_dir)d, &entries);

				for (uint32_t i = 0; i < n; i++)
					FUZZ_CHECK(entries[i].id < sg_policy_rule_count(conf->policy),
							"rule id %u out of range", entries[i].id);
			}
		}
		sg_conf_free(conf);
	}
	free(text);
	return 0;
}
