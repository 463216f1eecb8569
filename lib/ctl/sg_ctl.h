/* sgfwctl's commands, run against a loaded config (offline) or the running switch (online).
 *
 * Usage: fill a struct sg_ctl_ctx with the policy to read and the output stream, then call
 * sg_ctl_run() with the command's words. The same code answers offline and online, so both
 * modes print exactly the same thing.
 *
 * Exit codes (SG_CTL_EXIT_*): 0 success, 1 the command failed (bad config, unknown port,
 * rejected change), 2 usage error. Errors go to 'err' as one line.
 * Thread-safety: one command at a time per context.
 */
#ifndef SG_CTL_H
#define SG_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "sg_conf.h"

enum sg_ctl_exit {
	SG_CTL_EXIT_OK = 0,
	SG_CTL_EXIT_FAIL = 1,
	SG_CTL_EXIT_USAGE = 2,
	/**
	 * Not an exit code: a response with this code carries data ('out') and more responses
	 * follow on the connection (sgfwctl capture's pcapng stream); the last has an exit code.
	 */
	SG_CTL_EXIT_STREAM = 100,
};

/** What the running switch knows of a port (online views). */
struct sg_ctl_port_state {
	bool link_up;
	uint64_t rx_packets;
	uint64_t tx_packets;
	uint64_t drops;
};

struct sg_ctl_ctx {
	const struct sg_conf *conf; /**< Config being read (policy, spec, port devices). */
	FILE *out;                  /**< Normal output. */
	FILE *err;                  /**< One-line errors. */
	bool json;                  /**< Machine-readable output. */
	/** Online only (NULL offline): the live state of port 'name'; 0 or -ENOENT. */
	int (*port_state)(void *arg, const char *name, struct sg_ctl_port_state *state);
	void *state_arg;
};

/** Run one command ("check", "effective", "explain", "ports", "groups", "audit"). */
int sg_ctl_run(struct sg_ctl_ctx *ctx, int argc, char **argv);
/** True for the commands that change the policy (group, rule, port, attach-by-tag). */
bool sg_ctl_is_change(const char *command);
/**
 * Run a change command against ctx->conf. On success (exit code 0) '*result' is the new,
 * fully validated config, for the caller to apply or save, and a summary went to ctx->out;
 * otherwise '*result' is NULL and ctx->err says what is wrong (nothing changed).
 */
int sg_ctl_change(struct sg_ctl_ctx *ctx, int argc, char **argv, struct sg_conf **result);

/**
 * "audit [--flow-logs DIR|FILE] [--log-format F] [--eni ENI=PORT]... [--eni-map FILE]
 * [--config-only] [--output DIR]": the config against its flow logs (by default the config's
 * flow_logs.directory when it exists), or against Alibaba's or AWS's exports with their
 * interfaces mapped to ports, and a tightened config (ctl_audit.c, docs/flowlogs.md).
 */
int sg_ctl_audit(struct sg_ctl_ctx *ctx, int argc, char **argv);
/**
 * "import alibaba FILE..." and "export alibaba [GROUP]" (argv[0] is the command), offline on
 * config file 'config': import merges Alibaba Cloud's JSON into it and saves it atomically, or
 * changes nothing; export prints the JSON (sg_conf_alibaba_import/export()). Exit code.
 */
int sg_ctl_alibaba(const char *config, int argc, char **argv);
/** Usage text of the commands. */
void sg_ctl_usage(FILE *out);

/* ---- The control socket: sgfwctl <-> sgfw over a UNIX stream socket ----
 *
 * One request per connection. Request: "SGC1", flags (bit 0: JSON output), argc, then each
 * argument as length and bytes. Response: "SGR1", exit code, then stdout and stderr texts as
 * length and bytes. Integers are 32-bit in host order (both ends are on one host).
 */

#define SG_CTL_MAX_ARGS 64
#define SG_CTL_MAX_TEXT (64u << 20)

struct sg_ctl_request {
	bool json;
	int argc;
	char *argv[SG_CTL_MAX_ARGS + 1];
};

/**
 * Listen on 'path', mode 0600, or 0660 with group 'gid' when 'gid' >= 0. A socket nothing
 * answers on is replaced; anything else at 'path' (a file, a link, a served socket) is
 * refused. Returns the fd or -errno with 'err'.
 */
int sg_ctl_listen(const char *path, int gid, struct sg_error *err);
/** Connect to 'path'. Returns the fd or -errno with 'err' saying why. */
int sg_ctl_connect(const char *path, struct sg_error *err);

int sg_ctl_request_send(int fd, bool json, int argc, char **argv);
/** Read a request (at most SG_CTL_MAX_ARGS arguments); free it with sg_ctl_request_free(). */
int sg_ctl_request_recv(int fd, struct sg_ctl_request *req);
void sg_ctl_request_free(struct sg_ctl_request *req);

int sg_ctl_response_send(int fd, int code, const char *out, size_t out_len, const char *err,
		size_t err_len);
/** Read a response; '*out' and '*err' are NUL-terminated and the caller frees them. */
int sg_ctl_response_recv(int fd, int *code, char **out, char **err);
/** The same, with the length of '*out' (binary data: SG_CTL_EXIT_STREAM frames). */
int sg_ctl_response_recv_len(int fd, int *code, char **out, size_t *out_len, char **err);

#endif /* SG_CTL_H */
