/* sgfwctl: check a config, view the combined rules of a port and explain verdicts. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_build_config.h"
#include "sg_ctl.h"
#include "sg_json.h"

#define DEFAULT_CONFIG "/etc/sgfw/sgfw.conf"

static void
usage(FILE *out)
{
	fputs("usage: sgfwctl [-c FILE] [--json] COMMAND [ARGS...]\n"
	      "  -c, --config FILE   read this config (default " DEFAULT_CONFIG ")\n"
	      "  -j, --json          machine-readable output\n"
	      "  -h, --help          this text\n"
	      "  -V, --version       print the version\n"
	      "exit status: 0 success, 1 the command failed, 2 usage error\n",
			out);
	sg_ctl_usage(out);
}

/* A config that does not load is the answer of 'check', and an error for the rest. */
static int
report_load_error(const char *command, const struct sg_error *err, bool json)
{
	if (json && strcmp(command, "check") == 0) {
		struct sg_json j;

		sg_json_init(&j, stdout, true);
		sg_json_object_open(&j, NULL);
		sg_json_bool(&j, "ok", false);
		sg_json_string(&j, "error", err->msg);
		sg_json_object_close(&j);
		sg_json_finish(&j);
	}
	fprintf(stderr, "error: %s\n", err->msg);
	return SG_CTL_EXIT_FAIL;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *config = DEFAULT_CONFIG;
	struct sg_ctl_ctx ctx = {.out = stdout, .err = stderr};
	struct sg_error err = {0};
	struct sg_conf *conf;
	int opt, rc;

	/* '+' stops at the command, so flows like "-1" or "--icmp-type" reach it intact. */
	while ((opt = getopt_long(argc, argv, "+c:jhV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 'h':
			usage(stdout);
			return SG_CTL_EXIT_OK;
		case 'V':
			printf("sgfwctl %s\n", SG_VERSION);
			return SG_CTL_EXIT_OK;
		default:
			usage(stderr);
			return SG_CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return SG_CTL_EXIT_USAGE;
	}
	conf = sg_conf_load_file(config, &err);
	if (conf == NULL)
		return report_load_error(argv[optind], &err, ctx.json);
	ctx.conf = conf;
	rc = sg_ctl_run(&ctx, argc - optind, argv + optind);
	sg_conf_free(conf);
	return rc;
}
