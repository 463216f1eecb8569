/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the control socket's JSON-RPC decoder and sgfwctl's commands, as the daemon
 * runs them for whoever connects.
 *
 * The input is written to one end of a UNIX socket pair and the writing end closed; the
 * daemon's line reader (sg_ctl_reader_next()) reads the other and each line goes through
 * sg_ctl_call_decode(). A request that decodes is run with sg_ctl_call_run() against a loaded
 * config, as the control thread does: config/sample-multi.conf, or config/seed.conf for odd
 * line lengths; changes are derived and validated, never saved; the daemon-only methods
 * answer as offline (-32001).
 *
 * Invariants: every line gets exactly one response object (jsonrpc "2.0", a result or an error
 * with a documented code), the response encodes as one line, a command ends with exit code
 * 0..3, and a failure always explains itself. Nothing leaks.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz_common.h"
#include "sg_ctl.h"

/* The socket pair must hold the whole input: bigger inputs are refused. */
#define MAX_INPUT (64 * 1024)
/* Lines longer than this are refused, as the daemon refuses SG_CTL_MAX_LINE. */
#define FUZZ_MAX_LINE 8192

static struct sg_conf *confs[2];

static struct sg_conf *
load(const char *name)
{
	char path[512];
	struct sg_error err = {0};
	struct sg_conf *conf;

	snprintf(path, sizeof(path), "%s/config/%s", SG_SOURCE_ROOT, name);
	conf = sg_conf_load_file(path, &err);
	if (conf == NULL) {
		fprintf(stderr, "fuzz_ctl: %s: %s\n", path, err.msg);
		abort();
	}
	return conf;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	confs[0] = load("sample-multi.conf");
	confs[1] = load("seed.conf");
	return 0;
}

static int
run_command(void *arg, struct sg_ctl_call *call, struct sg_ctl_ctx *ctx)
{
	struct sg_conf *result = NULL;
	int code;

	(void)arg;
	if (call->cmd->run != NULL)
		return call->cmd->run(ctx, call->argc, call->argv);
	code = sg_ctl_change(ctx, call->argc, call->argv, &result);
	FUZZ_CHECK((code == SG_CTL_EXIT_OK) == (result != NULL), "change %d with result %p", code,
			(void *)result);
	sg_conf_free(result);
	return code;
}

static void
check_exit(void *arg, const struct sg_ctl_call *call, int code, const char *out, const char *err)
{
	(void)arg;
	(void)call;
	(void)out;
	FUZZ_CHECK(code >= SG_CTL_EXIT_OK && code <= SG_CTL_EXIT_DROPPED, "exit code %d", code);
	if (code != SG_CTL_EXIT_OK && code != SG_CTL_EXIT_DROPPED)
		FUZZ_CHECK(err[0] != '\0', "exit code %d without a message", code);
}

static void
check_response(json_t *msg)
{
	json_t *error = json_object_get(msg, "error");
	char *text;

	FUZZ_CHECK(json_is_object(msg), "response not an object");
	FUZZ_CHECK(json_string_value(json_object_get(msg, "jsonrpc")) != NULL &&
					strcmp(json_string_value(json_object_get(msg, "jsonrpc")),
							"2.0") == 0,
			"no jsonrpc");
	FUZZ_CHECK((error != NULL) != (json_object_get(msg, "result") != NULL),
			"neither or both of result and error");
	if (error != NULL) {
		json_int_t code = json_integer_value(json_object_get(error, "code"));

		FUZZ_CHECK(code == SG_CTL_RPC_PARSE || code == SG_CTL_RPC_INVALID ||
						code == SG_CTL_RPC_NO_METHOD ||
						code == SG_CTL_RPC_PARAMS ||
						code == SG_CTL_RPC_FAILED ||
						code == SG_CTL_RPC_OFFLINE,
				"error code %lld", (long long)code);
		FUZZ_CHECK(json_string_value(json_object_get(error, "message")) != NULL,
				"error without a message");
	}
	text = json_dumps(msg, JSON_COMPACT);
	FUZZ_CHECK(text != NULL && strchr(text, '\n') == NULL, "response not one line");
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_ctl_reader r;
	char *line;
	size_t len;
	int fds[2], rc;

	if (size > MAX_INPUT)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		abort();
	if (size > 0 && write(fds[1], data, size) != (ssize_t)size)
		abort();
	close(fds[1]);
	sg_ctl_reader_init(&r, fds[0], FUZZ_MAX_LINE);
	while ((rc = sg_ctl_reader_next(&r, &line, &len)) > 0) {
		struct sg_ctl_ctx ctx = {.conf = confs[len & 1]};
		struct sg_ctl_call call;
		json_t *msg;

		FUZZ_CHECK(len <= FUZZ_MAX_LINE && line[len] == '\0', "line of %zu bytes", len);
		if (sg_ctl_call_decode(line, len, &call, &msg) < 0) {
			FUZZ_CHECK(call.argc == 0 && call.id == NULL, "failed decode left a call");
			check_response(msg);
			json_decref(msg);
			continue;
		}
		FUZZ_CHECK(call.argc >= 1 && call.argc <= SG_CTL_MAX_ARGS + 2 &&
						call.argv[call.argc] == NULL,
				"argc %d", call.argc);
		msg = sg_ctl_call_run(&call, &ctx, run_command, check_exit, NULL);
		check_response(msg);
		json_decref(msg);
		sg_ctl_call_free(&call);
	}
	FUZZ_CHECK(rc == 0 || rc == -EMSGSIZE, "reader ended with %d", rc);
	sg_ctl_reader_free(&r);
	close(fds[0]);
	return 0;
}
