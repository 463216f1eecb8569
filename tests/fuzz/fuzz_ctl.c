/* libFuzzer target: the control socket's decoder and sgfwctl's commands, as the daemon runs
 * them for whoever connects.
 *
 * The input is written to one end of a UNIX socket pair and the writing end closed; the
 * daemon's decoder, sg_ctl_request_recv(), reads the other. A request that decodes is run with
 * sg_ctl_run() against a loaded config, as the control thread does: config/sample-multi.conf,
 * or config/seed.conf when flag bit 1 is set (the decoder ignores the bits above bit 0).
 * An input that starts with the response magic goes through sg_ctl_response_recv() instead,
 * the decoder sgfwctl runs on the daemon's answer.
 *
 * Invariants: the decoder fails cleanly or yields at most SG_CTL_MAX_ARGS NUL-terminated
 * arguments; a command ends with exit code 0, 1 or 2, and a failure always explains itself on
 * the error stream. Nothing leaks.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "sg_ctl.h"

/* The socket pair must hold the whole input: bigger inputs are refused. */
#define MAX_INPUT (64 * 1024)

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

static void
run_request(struct sg_ctl_request *req, uint32_t flags)
{
	char *out_text = NULL, *err_text = NULL;
	size_t out_len = 0, err_len = 0;
	FILE *out = open_memstream(&out_text, &out_len);
	FILE *errors = open_memstream(&err_text, &err_len);
	struct sg_ctl_ctx ctx = {.conf = confs[(flags >> 1) & 1], .out = out, .err = errors,
			.json = req->json};
	int code;

	if (out == NULL || errors == NULL)
		abort();
	code = sg_ctl_run(&ctx, req->argc, req->argv);
	fclose(out);
	fclose(errors);
	FUZZ_CHECK(code == SG_CTL_EXIT_OK || code == SG_CTL_EXIT_FAIL || code == SG_CTL_EXIT_USAGE,
			"exit code %d", code);
	if (code != SG_CTL_EXIT_OK)
		FUZZ_CHECK(err_len > 0, "exit code %d without a message", code);
	free(out_text);
	free(err_text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_ctl_request req;
	uint32_t flags = 0;
	int fds[2], rc;

	if (size > MAX_INPUT)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		abort();
	if (size > 0 && write(fds[1], data, size) != (ssize_t)size)
		abort();
	close(fds[1]);
	if (size >= 4 && memcmp(data, "SGR1", 4) == 0) {
		char *out, *err;
		int code;

		rc = sg_ctl_response_recv(fds[0], &code, &out, &err);
		if (rc == 0)
			FUZZ_CHECK(out != NULL && err != NULL, "response texts missing");
		else
			FUZZ_CHECK(out == NULL && err == NULL, "failed decode left texts behind");
		free(out);
		free(err);
		close(fds[0]);
		return 0;
	}
	rc = sg_ctl_request_recv(fds[0], &req);
	close(fds[0]);
	if (rc < 0) {
		FUZZ_CHECK(req.argc == 0, "failed decode left %d arguments", req.argc);
		return 0;
	}
	FUZZ_CHECK(req.argc >= 0 && req.argc <= SG_CTL_MAX_ARGS && req.argv[req.argc] == NULL,
			"argc %d", req.argc);
	if (size >= 8)
		memcpy(&flags, data + 4, sizeof(flags));
	run_request(&req, flags);
	sg_ctl_request_free(&req);
	return 0;
}
