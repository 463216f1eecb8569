/* sgfwctl: check a config, view the combined rules of a port and explain verdicts. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sg_build_config.h"
#include "sg_ctl.h"
#include "sg_json.h"

#define DEFAULT_CONFIG SG_DEFAULT_CONFIG
#define DEFAULT_SOCKET "/run/sgfw/sgfw.sock"

static void
usage(FILE *out)
{
	fputs("usage: sgfwctl [-c FILE | -s SOCKET] [--json] COMMAND [ARGS...]\n"
	      "  -c, --config FILE   offline: read this config (default " DEFAULT_CONFIG ")\n"
	      "  -s, --socket PATH   online: ask the running sgfw (default " DEFAULT_SOCKET
	      " when it exists)\n"
	      "  -j, --json          machine-readable output\n"
	      "  -h, --help          this text\n"
	      "  -V, --version       print the version\n"
	      "exit status: 0 success, 1 the command failed, 2 usage error\n",
			out);
	sg_ctl_usage(out);
	fputs("offline only (-c FILE):\n"
	      "  import alibaba FILE...                   merge Alibaba Cloud's security-group "
	      "JSON\n"
	      "                                           into the config file\n"
	      "  export alibaba [GROUP]                   a group (or all) as Alibaba Cloud's "
	      "JSON\n"
	      "online only:\n"
	      "  status                                   version, uptime, config\n"
	      "  stats [PORT]                             counters: packets, drops by reason, rule "
	      "hits\n"
	      "  reload                                   apply the config file again (all or "
	      "nothing)\n"
	      "  save                                     write the running config to its file\n"
	      "  ct [count] [port=P] [addr=IP] [proto=P] [state=S] [limit=N]\n"
	      "                                           tracked connections, or counts by state\n"
	      "  flowlogs                                 flow logging: directory, file, counters\n"
	      "  log [level TYPE LEVEL]                   log types and levels; set one (a glob)\n"
	      "  capture PORT [--count N] [--filter EXPR] [--passed] [--snaplen N] -w FILE\n"
	      "                                           the port's packets as pcapng (--passed:\n"
	      "                                           what sgfw sends to it, after the "
	      "firewall)\n",
			out);
}

/* Send the command to the running sgfw and relay its answer. */
static int
run_online(const char *socket_path, bool json, int argc, char **argv)
{
	struct sg_error err = {0};
	char *out = NULL, *errors = NULL;
	int fd, code = SG_CTL_EXIT_FAIL, rc;

	fd = sg_ctl_connect(socket_path, &err);
	if (fd < 0) {
		fprintf(stderr, "error: %s\n", err.msg);
		return SG_CTL_EXIT_FAIL;
	}
	rc = sg_ctl_request_send(fd, json, argc, argv);
	if (rc == 0)
		rc = sg_ctl_response_recv(fd, &code, &out, &errors);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "error: talking to sgfw at %s: %s\n", socket_path, strerror(-rc));
		return SG_CTL_EXIT_FAIL;
	}
	fputs(out, stdout);
	fputs(errors, stderr);
	free(out);
	free(errors);
	return code;
}

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/*
 * capture PORT [...] -w FILE: sgfw answers, then streams the pcapng file in frames, each
 * holding whole blocks, so the file is valid whenever sgfwctl stops writing (Ctrl-C, the
 * count reached, the port removed). "-w -" writes to stdout.
 */
static int
run_capture(const char *socket_path, int argc, char **argv)
{
	const char *file = NULL;
	char *args[SG_CTL_MAX_ARGS + 1], *out = NULL, *errors = NULL;
	struct sigaction sa = {.sa_handler = on_interrupt};
	struct sg_error err = {0};
	int n = 0, fd, code = SG_CTL_EXIT_FAIL, rc;
	unsigned long long bytes = 0;
	size_t len;
	FILE *f;

	for (int i = 0; i < argc && n < SG_CTL_MAX_ARGS; i++) {
		if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
			file = argv[++i];
		else
			args[n++] = argv[i];
	}
	if (file == NULL) {
		fprintf(stderr, "usage error: capture PORT [--count N] [--filter EXPR] [--passed] "
				"[--snaplen N] -w FILE (or -w - for stdout)\n");
		return SG_CTL_EXIT_USAGE;
	}
	f = strcmp(file, "-") == 0 ? stdout : fopen(file, "wb");
	if (f == NULL) {
		fprintf(stderr, "error: -w %s: %s\n", file, strerror(errno));
		return SG_CTL_EXIT_FAIL;
	}
	fd = sg_ctl_connect(socket_path, &err);
	if (fd < 0) {
		fprintf(stderr, "error: %s\n", err.msg);
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = sg_ctl_request_send(fd, false, n, args);
	while (rc == 0 && !interrupted) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		/* Wait in poll, so Ctrl-C ends the capture between frames. */
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		rc = sg_ctl_response_recv_len(fd, &code, &out, &len, &errors);
		if (rc < 0)
			break;
		if (code == SG_CTL_EXIT_STREAM) {
			if (fwrite(out, 1, len, f) != len || fflush(f) != 0) {
				fprintf(stderr, "error: writing %s: %s\n", file, strerror(errno));
				code = SG_CTL_EXIT_FAIL;
				break;
			}
			bytes += len;
		} else {
			/* The first answer ("capturing ..."), then the summary at the end. */
			fputs(out, stderr);
			fputs(errors, stderr);
		}
		free(out);
		free(errors);
		out = errors = NULL;
		if (code != SG_CTL_EXIT_STREAM && bytes > 0)
			break;
		if (code != SG_CTL_EXIT_STREAM && code != SG_CTL_EXIT_OK)
			break;
	}
	free(out);
	free(errors);
	close(fd);
	if (interrupted) {
		fprintf(stderr, "stopped: %llu bytes written to %s\n", bytes, file);
		code = SG_CTL_EXIT_OK;
	} else if (rc < 0 && code == SG_CTL_EXIT_STREAM) {
		fprintf(stderr, "error: sgfw ended the capture (%s); %llu bytes written to %s\n",
				strerror(-rc), bytes, file);
		code = SG_CTL_EXIT_FAIL;
	} else if (rc < 0) {
		fprintf(stderr, "error: talking to sgfw at %s: %s\n", socket_path, strerror(-rc));
		code = SG_CTL_EXIT_FAIL;
	}
out:
	if (f != stdout && fclose(f) != 0 && code == SG_CTL_EXIT_OK) {
		fprintf(stderr, "error: writing %s: %s\n", file, strerror(errno));
		code = SG_CTL_EXIT_FAIL;
	}
	return code;
}

static bool
online_only(const char *command)
{
	return strcmp(command, "stats") == 0 || strcmp(command, "status") == 0 ||
	       strcmp(command, "reload") == 0 || strcmp(command, "save") == 0 ||
	       strcmp(command, "ct") == 0 || strcmp(command, "flowlogs") == 0 ||
	       strcmp(command, "log") == 0 || strcmp(command, "capture") == 0;
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

/* Offline change: validate it whole, then rewrite the file atomically. */
static int
change_file(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	struct sg_conf *result = NULL;
	struct sg_error err = {0};
	char *text = NULL;
	size_t len = 0;
	FILE *summary;
	int rc;

	if (ctx->conf->n_sources > 1) {
		fprintf(stderr, "error: %s uses @include; sgfwctl would flatten it: change the running "
				"switch (-s SOCKET) or edit the files by hand (nothing changed)\n",
				ctx->conf->path);
		return SG_CTL_EXIT_FAIL;
	}
	/* The summary is printed once the file is written: a change not saved is not made. */
	summary = open_memstream(&text, &len);
	if (summary == NULL) {
		fprintf(stderr, "error: out of memory (nothing changed)\n");
		return SG_CTL_EXIT_FAIL;
	}
	ctx->out = summary;
	rc = sg_ctl_change(ctx, argc, argv, &result);
	ctx->out = stdout;
	fclose(summary);
	if (rc == SG_CTL_EXIT_OK && sg_conf_save(result, ctx->conf->path, &err) < 0) {
		fprintf(stderr, "error: %s (nothing changed)\n", err.msg);
		rc = SG_CTL_EXIT_FAIL;
	} else if (rc == SG_CTL_EXIT_OK) {
		fputs(text, stdout);
	}
	free(text);
	sg_conf_free(result);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *socket_path = NULL;
	struct sg_ctl_ctx ctx = {.out = stdout, .err = stderr};
	struct sg_error err = {0};
	struct sg_conf *conf;
	int opt, rc;

	/* '+' stops at the command, so flows like "-1" or "--icmp-type" reach it intact. */
	while ((opt = getopt_long(argc, argv, "+c:s:jhV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 's':
			socket_path = optarg;
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
	/* Offline only: they read and write config files, not the running switch. */
	if (strcmp(argv[optind], "import") == 0 || strcmp(argv[optind], "export") == 0) {
		if (socket_path != NULL) {
			fprintf(stderr, "error: \"%s\" works on a config file: give -c FILE\n",
					argv[optind]);
			return SG_CTL_EXIT_USAGE;
		}
		return sg_ctl_alibaba(config != NULL ? config : DEFAULT_CONFIG, argc - optind,
				argv + optind);
	}
	if (config == NULL && socket_path == NULL && access(DEFAULT_SOCKET, F_OK) == 0)
		socket_path = DEFAULT_SOCKET;
	if (socket_path != NULL && strcmp(argv[optind], "capture") == 0)
		return run_capture(socket_path, argc - optind, argv + optind);
	if (socket_path != NULL)
		return run_online(socket_path, ctx.json, argc - optind, argv + optind);
	if (online_only(argv[optind])) {
		fprintf(stderr, "error: \"%s\" asks the running sgfw: give -s SOCKET\n", argv[optind]);
		return SG_CTL_EXIT_USAGE;
	}
	if (config == NULL)
		config = DEFAULT_CONFIG;
	conf = sg_conf_load_file(config, &err);
	if (conf == NULL)
		return report_load_error(argv[optind], &err, ctx.json);
	ctx.conf = conf;
	if (sg_ctl_is_change(argv[optind]))
		rc = change_file(&ctx, argc - optind, argv + optind);
	else
		rc = sg_ctl_run(&ctx, argc - optind, argv + optind);
	sg_conf_free(conf);
	return rc;
}
