/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfwctl import/export alibaba: Alibaba Cloud's security-group JSON into and out of a config
 * file, offline (lib/conf/conf_alibaba.c does the conversion). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sg_ctl.h"

#define ALIBABA_USAGE "import alibaba FILE... | export alibaba [GROUP] (offline: -c CONFIG)"

/* The config to import into: the file, or an empty config when the file does not exist yet. */
static struct sg_conf *
load_target(const char *config, struct sg_error *err)
{
	if (access(config, F_OK) != 0 && errno == ENOENT)
		return sg_conf_load_string("", config, err);
	return sg_conf_load_file(config, err);
}

static int
import(const char *config, int argc, char **argv)
{
	const char **texts = calloc((size_t)argc + 1, sizeof(*texts));
	struct sg_conf *conf = NULL, *result = NULL;
	struct sg_error err = {0};
	int rc = SG_CTL_EXIT_FAIL;

	if (texts == NULL) {
		fprintf(stderr, "error: out of memory (nothing changed)\n");
		return SG_CTL_EXIT_FAIL;
	}
	for (int i = 0; i < argc; i++) {
		if ((texts[i] = sg_read_file(argv[i])) == NULL) {
			fprintf(stderr, "error: %s: cannot read: %s (nothing changed)\n", argv[i],
					strerror(errno));
			goto out;
		}
	}
	if ((conf = load_target(config, &err)) == NULL) {
		fprintf(stderr, "error: %s (nothing changed)\n", err.msg);
		goto out;
	}
	if (conf->n_sources > 1) {
		fprintf(stderr,
				"error: %s uses @include; sgfwctl would flatten it: edit the files "
				"by "
				"hand (nothing changed)\n",
				conf->path);
		goto out;
	}
	result = sg_conf_alibaba_import(
			conf, texts, (const char *const *)argv, (uint32_t)argc, &err);
	if (result == NULL || sg_conf_save(result, config, &err) < 0) {
		fprintf(stderr, "error: %s (nothing changed)\n", err.msg);
		goto out;
	}
	printf("imported %d file%s into %s: %u security groups\n", argc, argc == 1 ? "" : "s",
			config, result->spec->n_groups);
	rc = SG_CTL_EXIT_OK;
out:
	for (int i = 0; i < argc; i++)
		free((char *)texts[i]);
	free(texts);
	sg_conf_free(result);
	sg_conf_free(conf);
	return rc;
}

int
sg_ctl_alibaba(const char *config, int argc, char **argv)
{
	struct sg_error err = {0};
	struct sg_conf *conf;
	int rc;

	if (argc < 2 || strcmp(argv[1], "alibaba") != 0 ||
			(strcmp(argv[0], "import") == 0 && argc < 3) ||
			(strcmp(argv[0], "export") == 0 && argc > 3)) {
		fprintf(stderr, "usage error: %s\n", ALIBABA_USAGE);
		return SG_CTL_EXIT_USAGE;
	}
	if (strcmp(argv[0], "import") == 0)
		return import(config, argc - 2, argv + 2);
	if ((conf = sg_conf_load_file(config, &err)) == NULL) {
		fprintf(stderr, "error: %s\n", err.msg);
		return SG_CTL_EXIT_FAIL;
	}
	rc = sg_conf_alibaba_export(conf, argc == 3 ? argv[2] : NULL, stdout, &err);
	if (rc < 0)
		fprintf(stderr, "error: %s\n", err.msg);
	sg_conf_free(conf);
	return rc < 0 ? SG_CTL_EXIT_FAIL : SG_CTL_EXIT_OK;
}
