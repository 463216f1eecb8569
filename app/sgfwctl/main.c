/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfwctl: check a config, view the combined rules of a port and explain verdicts; offline on a
 * config file, online as a client of the running sgfw's machine API (docs/api.md). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "sg_build_config.h"
#include "sg_cluster.h"
#include "sg_ctl.h"

#define DEFAULT_CONFIG SG_DEFAULT_CONFIG
#define DEFAULT_SOCKET "/run/sgfw/sgfw.sock"

static void
usage(FILE *out)
{
	fputs("usage: sgfwctl [OPTIONS] COMMAND [ARGS...] (options may come anywhere; -- ends "
	      "them)\n"
	      "  -c, --config FILE   offline: read this config (default " DEFAULT_CONFIG ")\n"
	      "  -s, --socket PATH   online: ask the running sgfw (default " DEFAULT_SOCKET
	      " when it exists)\n"
	      "  --etcd ENDPOINTS    the fleet in etcd (http://h:2379,...): changes, views, cluster\n"
	      "  --etcd-prefix P     its key prefix (default " SG_CLUSTER_PREFIX ")\n"
	      "  --etcd-ca FILE, --etcd-cert FILE, --etcd-key FILE   TLS to etcd\n"
	      "  --etcd-host HOST    the host views on etcd are seen from (default: the first)\n"
	      "  -j, --json          machine-readable output: the API's result or error object\n"
	      "  -h, --help          this text\n"
	      "  -V, --version       print the version\n"
	      "exit status: 0 success, 1 the command failed, 2 usage error, 3 explain: dropped\n",
			out);
	sg_ctl_usage(out);
}

/* The exit status of an error object: the command's own, or the kind of error's. */
static int
error_exit(json_t *error)
{
	json_t *exit_code = json_object_get(json_object_get(error, "data"), "exit");
	json_int_t code = json_integer_value(json_object_get(error, "code"));

	if (json_is_integer(exit_code))
		return (int)json_integer_value(exit_code);
	return code == SG_CTL_RPC_NO_METHOD || code == SG_CTL_RPC_PARAMS ||
					       code == SG_CTL_RPC_OFFLINE
			       ? SG_CTL_EXIT_USAGE
			       : SG_CTL_EXIT_FAIL;
}

static void
put_text(json_t *text, FILE *out)
{
	if (json_is_string(text))
		fwrite(json_string_value(text), 1, json_string_length(text), out);
}

/*
 * Print a response as the user asked: with --json the result or error object itself, else the
 * command's text. Returns the exit status; releases 'msg'.
 */
static int
print_response(json_t *msg, bool json, const struct sg_ctl_command *cmd)
{
	json_t *result = json_object_get(msg, "result"), *error = json_object_get(msg, "error");
	int code = SG_CTL_EXIT_FAIL;

	if (json && (result != NULL || error != NULL)) {
		json_dumpf(result != NULL ? result : error, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	if (result != NULL && json) {
		const char *verdict = json_string_value(json_object_get(result, "verdict"));

		code = cmd != NULL && cmd->id == SG_CTL_CMD_EXPLAIN && verdict != NULL &&
						       strcmp(verdict, "drop") == 0
				       ? SG_CTL_EXIT_DROPPED
				       : SG_CTL_EXIT_OK;
	} else if (result != NULL) {
		put_text(json_object_get(result, "stdout"), stdout);
		put_text(json_object_get(result, "stderr"), stderr);
		code = (int)json_integer_value(json_object_get(result, "exit"));
	} else if (error != NULL) {
		json_t *data = json_object_get(error, "data");

		if (!json && json_object_get(data, "stderr") != NULL) {
			put_text(json_object_get(data, "stdout"), stdout);
			put_text(json_object_get(data, "stderr"), stderr);
		} else {
			fprintf(stderr, "error: %s\n",
					json_string_value(json_object_get(error, "message")));
		}
		code = error_exit(error);
	} else {
		fprintf(stderr, "error: sgfw answered neither a result nor an error\n");
	}
	json_decref(msg);
	return code;
}

/* The request for sgfwctl's words: the table's method and the remaining words as args. */
static json_t *
request(int argc, char **argv, bool json, const struct sg_ctl_command **cmd)
{
	json_t *req = json_object(), *params = json_object(), *args = json_array();
	int used = 1;

	*cmd = sg_ctl_find_words(argc, argv, &used);
	for (int i = used; i < argc; i++)
		json_array_append_new(args, json_string(argv[i]));
	json_object_set_new(params, "args", args);
	json_object_set_new(params, "format", json_string(json ? "json" : "text"));
	json_object_set_new(req, "jsonrpc", json_string("2.0"));
	json_object_set_new(req, "id", json_integer(1));
	/* Words this sgfwctl does not know go as they are: a newer sgfw may. */
	json_object_set_new(req, "method", json_string(*cmd != NULL ? (*cmd)->method : argv[0]));
	json_object_set_new(req, "params", params);
	return req;
}

/* One message from sgfw: 1 and '*msg', or -errno. */
static int
receive(struct sg_ctl_reader *r, json_t **msg)
{
	char *line;
	size_t len;
	int rc = sg_ctl_reader_next(r, &line, &len);

	if (rc == 0)
		return -ECONNRESET;
	if (rc < 0)
		return rc;
	*msg = json_loadb(line, len, 0, NULL);
	return *msg != NULL ? 1 : -EPROTO;
}

/* Send the command to the running sgfw and print its answer. */
static int
run_online(const char *socket_path, bool json, int argc, char **argv)
{
	const struct sg_ctl_command *cmd;
	struct sg_ctl_reader r;
	struct sg_error err = {0};
	json_t *msg = NULL;
	int fd, rc;

	fd = sg_ctl_connect(socket_path, &err);
	if (fd < 0) {
		fprintf(stderr, "error: %s\n", err.msg);
		return SG_CTL_EXIT_FAIL;
	}
	sg_ctl_reader_init(&r, fd, SG_CTL_MAX_TEXT);
	rc = sg_ctl_send(fd, request(argc, argv, json, &cmd));
	if (rc == 0)
		rc = receive(&r, &msg);
	sg_ctl_reader_free(&r);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "error: talking to sgfw at %s: %s\n", socket_path, strerror(-rc));
		return SG_CTL_EXIT_FAIL;
	}
	return print_response(msg, json, cmd);
}

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* A "capture.data" notification's pcapng bytes written to 'f': its size, or -errno. */
static long
write_data(json_t *msg, FILE *f)
{
	json_t *data = json_object_get(json_object_get(msg, "params"), "data");
	size_t len = json_string_length(data);
	unsigned char *bytes = malloc(len / 4 * 3 + 3);
	long n;

	if (bytes == NULL)
		return -ENOMEM;
	n = json_is_string(data) ? sg_base64_decode(json_string_value(data), len, bytes) : -EPROTO;
	if (n >= 0 && (fwrite(bytes, 1, (size_t)n, f) != (size_t)n || fflush(f) != 0))
		n = -errno;
	free(bytes);
	return n;
}

/*
 * capture PORT [...] -w FILE: sgfw answers, then streams the pcapng file in "capture.data"
 * notifications, each holding whole blocks, so the file is valid whenever sgfwctl stops writing
 * (Ctrl-C, the count reached, the port removed); "capture.end" closes it. "-w -" writes to
 * stdout.
 */
static int
run_capture(const char *socket_path, bool json, int argc, char **argv)
{
	const char *file = NULL;
	char *args[SG_CTL_MAX_ARGS + 1];
	struct sigaction sa = {.sa_handler = on_interrupt};
	const struct sg_ctl_command *cmd;
	struct sg_error err = {0};
	struct sg_ctl_reader r;
	int n = 0, fd, code = SG_CTL_EXIT_FAIL, rc;
	unsigned long long bytes = 0;
	bool answered = false, ended = false;
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
	sg_ctl_reader_init(&r, fd, SG_CTL_MAX_TEXT);
	rc = sg_ctl_send(fd, request(n, args, false, &cmd));
	while (rc == 0 && !interrupted && !ended) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		const char *method;
		json_t *msg;

		/* Wait in poll, so Ctrl-C ends the capture between messages. */
		if (r.len == r.consumed && poll(&pfd, 1, 200) <= 0)
			continue;
		if ((rc = receive(&r, &msg)) < 0)
			break;
		rc = 0;
		method = json_string_value(json_object_get(msg, "method"));
		if (method != NULL && strcmp(method, "capture.data") == 0) {
			long len = write_data(msg, f);

			json_decref(msg);
			if (len < 0) {
				fprintf(stderr, "error: writing %s: %s\n", file,
						strerror((int)-len));
				code = SG_CTL_EXIT_FAIL;
				break;
			}
			bytes += (unsigned long long)len;
		} else if (method != NULL && strcmp(method, "capture.end") == 0) {
			/* The summary at the end. */
			fprintf(stderr, "%s\n",
					json_string_value(json_object_get(
							json_object_get(msg, "params"),
							"message")));
			json_decref(msg);
			ended = true;
		} else if (!answered) {
			/* The first answer: "capturing ..." or why not. */
			answered = true;
			if (json_object_get(msg, "result") != NULL) {
				put_text(json_object_get(json_object_get(msg, "result"), "stdout"),
						stderr);
				put_text(json_object_get(json_object_get(msg, "result"), "stderr"),
						stderr);
				json_decref(msg);
				code = SG_CTL_EXIT_OK;
			} else {
				code = print_response(msg, json, NULL);
				break;
			}
		} else {
			json_decref(msg);
		}
	}
	sg_ctl_reader_free(&r);
	close(fd);
	if (interrupted) {
		fprintf(stderr, "stopped: %llu bytes written to %s\n", bytes, file);
		code = SG_CTL_EXIT_OK;
	} else if (rc < 0 && answered && code == SG_CTL_EXIT_OK) {
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

/* Offline change: validate it whole, then rewrite the file atomically. */
static int
change_file(struct sg_ctl_ctx *ctx, int argc, char **argv)
{
	struct sg_conf *result = NULL;
	struct sg_error err = {0};
	char *summary;
	int rc;

	if (ctx->conf->n_sources > 1) {
		fprintf(ctx->err,
				"error: %s uses @include; sgfwctl would flatten it: change the "
				"running switch (-s SOCKET) or edit the files by hand (nothing "
				"changed)\n",
				ctx->conf->path);
		return SG_CTL_EXIT_FAIL;
	}
	/* The summary is printed once the file is written: a change not saved is not made. */
	rc = sg_ctl_change_held(ctx, argc, argv, &result, &summary);
	if (rc == SG_CTL_EXIT_OK && sg_conf_save(result, ctx->conf->path, &err) < 0) {
		fprintf(ctx->err, "error: %s (nothing changed)\n", err.msg);
		rc = SG_CTL_EXIT_FAIL;
	} else if (rc == SG_CTL_EXIT_OK) {
		fputs(summary, ctx->out);
	}
	free(summary);
	sg_conf_free(result);
	return rc;
}

static int
run_offline_command(void *arg, struct sg_ctl_call *call, struct sg_ctl_ctx *ctx)
{
	(void)arg;
	if (call->cmd->run == NULL)
		return change_file(ctx, call->argc, call->argv);
	return call->cmd->run(ctx, call->argc, call->argv);
}

/* The same call as online, answered from the config file. */
static int
run_offline(const char *config, bool json, int argc, char **argv)
{
	struct sg_ctl_ctx ctx = {0};
	struct sg_error err = {0};
	struct sg_conf *conf = NULL;
	struct sg_ctl_call call;
	bool needs_config;
	json_t *msg;
	int rc;

	if (sg_ctl_call_words(argc, argv, !json, &call, &msg) < 0)
		return print_response(msg, json, NULL);
	needs_config = (call.cmd->flags & SG_CTL_OFFLINE) && call.cmd->id != SG_CTL_CMD_VERSION &&
		       call.cmd->id != SG_CTL_CMD_METHODS;
	if (needs_config)
		ctx.conf = conf = sg_conf_load_file(config, &err);
	if (needs_config && conf == NULL) {
		/* A config that does not load is the answer of 'check', and an error for the rest. */
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		if (f != NULL && json && call.cmd->id == SG_CTL_CMD_CHECK) {
			json_t *doc = json_object();

			json_object_set_new(doc, "ok", json_false());
			json_object_set_new(doc, "error", json_string(err.msg));
			json_dumpf(doc, f, JSON_COMPACT);
			json_decref(doc);
		}
		if (f != NULL)
			fclose(f);
		{
			char line[sizeof(err.msg) + 16];

			snprintf(line, sizeof(line), "error: %s\n", err.msg);
			msg = sg_ctl_call_response(&call, SG_CTL_EXIT_FAIL, text ? text : "",
					text ? len : 0, line, strlen(line));
		}
		free(text);
		sg_ctl_call_free(&call);
		return print_response(msg, json, NULL);
	}
	msg = sg_ctl_call_run(&call, &ctx, run_offline_command, NULL, NULL);
	rc = print_response(msg, json, call.cmd);
	sg_ctl_call_free(&call);
	sg_conf_free(conf);
	return rc;
}

/* sgfwctl's own options, wherever they are: 1 when word 'i' was one (and '*i' moved past its
 * value), 0 when it belongs to the command, -1 for a missing value. */
static int
own_option(int argc, char **argv, int *i, const char **config, const char **socket_path, bool *json,
		bool *help, bool *version)
{
	static const struct {
		const char *short_name, *long_name;
		bool has_value;
	} options[] = {
			{"-c", "--config", true},
			{"-s", "--socket", true},
			{"-j", "--json", false},
			{"-h", "--help", false},
			{"-V", "--version", false},
	};
	const char *word = argv[*i], *value = NULL;

	for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++) {
		size_t len = strlen(options[k].long_name);

		if (strcmp(word, options[k].short_name) == 0 ||
				strcmp(word, options[k].long_name) == 0) {
			if (options[k].has_value) {
				if (*i + 1 >= argc)
					return -1;
				value = argv[++*i];
			}
		} else if (options[k].has_value && strncmp(word, options[k].long_name, len) == 0 &&
				word[len] == '=') {
			value = word + len + 1;
		} else if (options[k].has_value && strncmp(word, options[k].short_name, 2) == 0 &&
				word[2] != '\0') {
			value = word + 2;
		} else {
			continue;
		}
		switch (options[k].short_name[1]) {
		case 'c':
			*config = value;
			break;
		case 's':
			*socket_path = value;
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			*help = true;
			break;
		default:
			*version = true;
		}
		return 1;
	}
	return 0;
}

/* --etcd and its companions: 1 when word 'i' was one (and '*i' moved past its value), 0 when
 * not, -1 for a missing value. */
static int
etcd_option(int argc, char **argv, int *i, struct sg_ctl_etcd_opts *o)
{
	static const char *const names[] = {"--etcd", "--etcd-prefix", "--etcd-ca", "--etcd-cert",
			"--etcd-key", "--etcd-host"};
	const char **fields[] = {&o->endpoints, &o->prefix, &o->ca_file, &o->cert_file,
			&o->key_file, &o->host};

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		size_t len = strlen(names[k]);

		if (strcmp(argv[*i], names[k]) == 0) {
			if (*i + 1 >= argc)
				return -1;
			*fields[k] = argv[++*i];
			return 1;
		}
		if (strncmp(argv[*i], names[k], len) == 0 && argv[*i][len] == '=') {
			*fields[k] = argv[*i] + len + 1;
			return 1;
		}
	}
	return 0;
}

/* A command on the fleet in etcd; its output as the offline one's. */
static int
run_etcd(const struct sg_ctl_etcd_opts *o, bool json, int argc, char **argv)
{
	struct sg_ctl_ctx ctx = {.out = stdout, .err = stderr, .json = json};

	return sg_ctl_etcd_run(o, &ctx, argc, argv);
}

int
main(int argc, char **argv)
{
	struct sg_ctl_etcd_opts etcd = {.prefix = SG_CLUSTER_PREFIX};
	const char *config = NULL, *socket_path = NULL;
	bool json = false, help = false, version = false, ended = false;
	char **words = calloc((size_t)argc + 1, sizeof(*words));
	int n = 0, rc;

	if (words == NULL)
		return SG_CTL_EXIT_FAIL;
	/*
	 * Options anywhere: sgfwctl's own (-c, -s, -j, -h, -V and their long forms) are taken
	 * wherever they stand; every other word, '-' or not ("--count", "-1", "--ipv6"), is the
	 * command's; after "--" all words are.
	 */
	for (int i = 1; i < argc; i++) {
		if (!ended && strcmp(argv[i], "--") == 0) {
			ended = true;
			continue;
		}
		rc = ended ? 0 : etcd_option(argc, argv, &i, &etcd);
		if (rc == 0 && !ended)
			rc = own_option(argc, argv, &i, &config, &socket_path, &json, &help,
					&version);
		if (rc < 0) {
			fprintf(stderr, "usage error: %s needs a value\n", argv[i]);
			usage(stderr);
			free(words);
			return SG_CTL_EXIT_USAGE;
		}
		if (rc == 0)
			words[n++] = argv[i];
	}
	rc = SG_CTL_EXIT_OK;
	if (help)
		usage(stdout);
	else if (version)
		printf("sgfwctl %s\n", SG_VERSION);
	else if (n == 0) {
		usage(stderr);
		rc = SG_CTL_EXIT_USAGE;
	} else {
		int used;
		const struct sg_ctl_command *cmd = sg_ctl_find_words(n, words, &used);
		bool file_only = cmd != NULL && cmd->run == sg_ctl_file_only;

		if (etcd.endpoints != NULL) {
			rc = run_etcd(&etcd, json, n, words);
			free(words);
			return rc;
		}
		/* import and export work on a config file, never on the running switch. */
		if (config == NULL && socket_path == NULL && access(DEFAULT_SOCKET, F_OK) == 0 &&
				!file_only)
			socket_path = DEFAULT_SOCKET;
		if (file_only && socket_path != NULL) {
			fprintf(stderr, "error: \"%s\" works on a config file: give -c FILE\n",
					words[0]);
			rc = SG_CTL_EXIT_USAGE;
		} else if (file_only || strcmp(words[0], "import") == 0 ||
				strcmp(words[0], "export") == 0) {
			rc = sg_ctl_alibaba(config != NULL ? config : DEFAULT_CONFIG, n, words);
		} else if (socket_path != NULL && strcmp(words[0], "capture") == 0)
			rc = run_capture(socket_path, json, n, words);
		else if (socket_path != NULL)
			rc = run_online(socket_path, json, n, words);
		else
			rc = run_offline(config != NULL ? config : DEFAULT_CONFIG, json, n, words);
	}
	free(words);
	return rc;
}
