/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfwctl's commands, run against a loaded config (offline) or the running switch (online).
 *
 * Usage: fill a struct sg_ctl_ctx with the policy to read and the output stream, then call
 * sg_ctl_run() with the command's words. The same code answers offline and online, so both
 * modes print exactly the same thing.
 *
 * Exit codes (SG_CTL_EXIT_*): 0 success, 1 the command failed (bad config, unknown port,
 * rejected change), 2 usage error, 3 explain's flow is dropped. Errors go to 'err' as one line.
 * The command table and the machine API (JSON-RPC over the control socket) follow.
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
	SG_CTL_EXIT_DROPPED = 3, /**< explain: the flow is dropped (not a failure). */
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
	bool online; /**< Answering for the running sgfw (the API) rather than a file. */
};

/**
 * Run one command the table gives a handler (views and changes; a change only prints what it
 * would do: see sg_ctl_change()). Unknown commands are usage errors.
 */
int sg_ctl_run(struct sg_ctl_ctx *ctx, int argc, char **argv);
/** True for the commands that change the policy (group, rule, port, attach-by-tag). */
bool sg_ctl_is_change(int argc, char *const *argv);
/* The views of the table (ctl_policy.c), for the table. */
int sg_ctl_check(struct sg_ctl_ctx *ctx, int argc, char **argv);
int sg_ctl_ports(struct sg_ctl_ctx *ctx, int argc, char **argv);
int sg_ctl_groups(struct sg_ctl_ctx *ctx, int argc, char **argv);
int sg_ctl_effective(struct sg_ctl_ctx *ctx, int argc, char **argv);
int sg_ctl_explain(struct sg_ctl_ctx *ctx, int argc, char **argv);
int sg_ctl_group_show(struct sg_ctl_ctx *ctx, int argc, char **argv);
int sg_ctl_rule_list(struct sg_ctl_ctx *ctx, int argc, char **argv);
int sg_ctl_port_show(struct sg_ctl_ctx *ctx, int argc, char **argv);
int sg_ctl_version(struct sg_ctl_ctx *ctx, int argc, char **argv);
int sg_ctl_methods(struct sg_ctl_ctx *ctx, int argc, char **argv);
/** Placeholder handler of the daemon's commands in the table: offline it refuses. */
int sg_ctl_online_only(struct sg_ctl_ctx *ctx, int argc, char **argv);
/* The handler of the commands sgfwctl runs itself on a config file (import, export): asked of
 * the API, they are refused. */
int sg_ctl_file_only(struct sg_ctl_ctx *ctx, int argc, char **argv);
/**
 * Run a change command against ctx->conf. On success (exit code 0) '*result' is the new,
 * fully validated config, for the caller to apply or save, and a summary went to ctx->out;
 * otherwise '*result' is NULL and ctx->err says what is wrong (nothing changed).
 */
int sg_ctl_change(struct sg_ctl_ctx *ctx, int argc, char **argv, struct sg_conf **result);
/**
 * sg_ctl_change() with its summary held in '*summary' (to free(), NULL when the change is
 * refused) instead of printed: the caller prints it once the change is in force (the file
 * saved, the config swapped in), so a change refused at that point reports nothing made.
 */
int sg_ctl_change_held(struct sg_ctl_ctx *ctx, int argc, char **argv, struct sg_conf **result,
		char **summary);

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
/** Where the fleet is (sgfwctl --etcd ENDPOINTS [--etcd-prefix P] ...). */
struct sg_ctl_etcd_opts {
	const char *endpoints; /**< "http://a:2379,http://b:2379" */
	const char *prefix;    /**< "/sgfw/v1/" */
	const char *host;      /**< The host views are seen from (NULL: the first of hosts/) */
	const char *ca_file, *cert_file, *key_file; /**< TLS (NULL: none) */
	uint32_t timeout_ms;   /**< Each call (0: 5000) */
};

/**
 * A command against the fleet in etcd (ctl_cluster.c, docs/cluster.md): a change is read,
 * made and written as one transaction that holds only when nothing changed since the read
 * (else it is read and made again, up to 3 times: SGFWCTL_ETCD_RETRIES); a view reads the
 * fleet; cluster status, import and export. Exit code.
 */
int sg_ctl_etcd_run(const struct sg_ctl_etcd_opts *o, struct sg_ctl_ctx *ctx, int argc,
		char **argv);
/** Placeholder handler of the commands that run on etcd only: without --etcd, refused. */
int sg_ctl_etcd_only(struct sg_ctl_ctx *ctx, int argc, char **argv);
/** Usage text of the commands. */
void sg_ctl_usage(FILE *out);

/* ---- The command table: one entry per command, for dispatch, usage, the API's method list,
 * shell completion and docs/sgfwctl.md (ctl_commands.c). ---- */

enum sg_ctl_flags {
	SG_CTL_OFFLINE = 1u << 0, /**< Runs on a config file (sgfwctl -c). */
	SG_CTL_ONLINE = 1u << 1,  /**< Runs on the running sgfw (sgfwctl -s, the API). */
	SG_CTL_CHANGE = 1u << 2,  /**< Changes the config: logged online, saved offline. */
	SG_CTL_STREAM = 1u << 3,  /**< Streams notifications after its answer (capture). */
	SG_CTL_HIDDEN = 1u << 4,  /**< Not listed: the one-word form of a family ("rule ..."). */
	SG_CTL_ETCD = 1u << 5,    /**< Runs on the fleet in etcd only (sgfwctl --etcd). */
};

/** Every command, in the table's order. */
enum sg_ctl_cmd {
	SG_CTL_CMD_CHECK,
	SG_CTL_CMD_PORTS,
	SG_CTL_CMD_GROUPS,
	SG_CTL_CMD_EFFECTIVE,
	SG_CTL_CMD_EXPLAIN,
	SG_CTL_CMD_AUDIT,
	SG_CTL_CMD_GROUP_SHOW,
	SG_CTL_CMD_RULE_LIST,
	SG_CTL_CMD_PORT_SHOW,
	SG_CTL_CMD_GROUP_CREATE,
	SG_CTL_CMD_GROUP_DELETE,
	SG_CTL_CMD_GROUP_SET,
	SG_CTL_CMD_GROUP_TAG,
	SG_CTL_CMD_RULE_ADD,
	SG_CTL_CMD_RULE_REMOVE,
	SG_CTL_CMD_RULE_REPLACE,
	SG_CTL_CMD_PORT_ATTACH,
	SG_CTL_CMD_PORT_DETACH,
	SG_CTL_CMD_PORT_TAG,
	SG_CTL_CMD_PORT_MOVE,
	SG_CTL_CMD_PORT_ADD,
	SG_CTL_CMD_PORT_REMOVE,
	SG_CTL_CMD_ATTACH_BY_TAG,
	SG_CTL_CMD_GROUP,
	SG_CTL_CMD_RULE,
	SG_CTL_CMD_PORT,
	SG_CTL_CMD_IMPORT_ALIBABA,
	SG_CTL_CMD_EXPORT_ALIBABA,
	SG_CTL_CMD_CLUSTER_STATUS,
	SG_CTL_CMD_CLUSTER_IMPORT,
	SG_CTL_CMD_CLUSTER_EXPORT,
	SG_CTL_CMD_STATUS,
	SG_CTL_CMD_STATS,
	SG_CTL_CMD_RELOAD,
	SG_CTL_CMD_SAVE,
	SG_CTL_CMD_CT,
	SG_CTL_CMD_FLOWLOGS,
	SG_CTL_CMD_LOG,
	SG_CTL_CMD_CAPTURE,
	SG_CTL_CMD_VERSION,
	SG_CTL_CMD_METHODS,
	SG_CTL_CMD_COUNT,
};

typedef int (*sg_ctl_run_fn)(struct sg_ctl_ctx *ctx, int argc, char **argv);

struct sg_ctl_command {
	enum sg_ctl_cmd id;
	const char *method; /**< API method: the words joined by '.' ("rule.add"). */
	const char *words;  /**< sgfwctl's words ("rule add"). */
	const char *args;   /**< Usage of the arguments after the words. */
	const char *help;   /**< One line. */
	unsigned int flags; /**< enum sg_ctl_flags. */
	sg_ctl_run_fn run;  /**< Handler taking the words too; NULL: a change (sg_ctl_change()). */
};

extern const struct sg_ctl_command sg_ctl_commands[SG_CTL_CMD_COUNT];

/** The command an API method names, or NULL. */
const struct sg_ctl_command *sg_ctl_find_method(const char *method);
/**
 * The command sgfwctl's words name: two words ("rule add") before one ("check", or the family
 * "rule" whose handler explains a wrong subcommand). '*used' is how many words it took.
 */
const struct sg_ctl_command *sg_ctl_find_words(int argc, char *const *argv, int *used);

/** The API's version: MAJOR changes break clients, MINOR adds methods or fields. */
#define SG_CTL_API_MAJOR 1
#define SG_CTL_API_MINOR 1

/* ---- The control socket: JSON-RPC 2.0, one object per line (docs/api.md) ---- */

/** Longest request line the server reads (bytes, newline included). */
#define SG_CTL_MAX_LINE (64u * 1024u)
/** Most argument words of one request. */
#define SG_CTL_MAX_ARGS 64
/** Longest response line a client reads. */
#define SG_CTL_MAX_TEXT (96u << 20)

/** Error codes: JSON-RPC's own and sgfw's (-32000 and below). */
enum sg_ctl_rpc_error {
	SG_CTL_RPC_PARSE = -32700,     /**< Not JSON. */
	SG_CTL_RPC_INVALID = -32600,   /**< JSON, but not a request object. */
	SG_CTL_RPC_NO_METHOD = -32601, /**< No such method. */
	SG_CTL_RPC_PARAMS = -32602,    /**< Wrong params: a usage error (exit 2). */
	SG_CTL_RPC_INTERNAL = -32603,  /**< Out of memory and the like. */
	SG_CTL_RPC_FAILED = -32000,    /**< The command failed (exit 1). */
	SG_CTL_RPC_OFFLINE = -32001,   /**< The method needs the running sgfw. */
	SG_CTL_RPC_TOO_LONG = -32002,  /**< The request line exceeds SG_CTL_MAX_LINE. */
};

struct json_t;

/** A decoded request: the command and its words (owned by the call). */
struct sg_ctl_call {
	struct json_t *id; /**< The request's id (NULL: a notification). */
	const struct sg_ctl_command *cmd;
	bool text; /**< params.format "text": sgfwctl's text. */
	int argc;  /**< The words, the command's own first. */
	char *argv[SG_CTL_MAX_ARGS + 3];
};

/**
 * Decode one request line. 0 and 'call' filled, or -1 with '*error' the error response to send
 * (the call holds nothing then).
 */
int sg_ctl_call_decode(
		const char *line, size_t len, struct sg_ctl_call *call, struct json_t **error);
/** A call from sgfwctl's words (offline). Same results as sg_ctl_call_decode(). */
int sg_ctl_call_words(
		int argc, char **argv, bool text, struct sg_ctl_call *call, struct json_t **error);
void sg_ctl_call_free(struct sg_ctl_call *call);
/**
 * Run the call's command with 'ctx' (its out and err replaced by buffers) through 'run',
 * show 'after' (may be NULL) what it printed, and build the response: a result, or an error object naming the argument at fault.
 */
struct json_t *sg_ctl_call_run(struct sg_ctl_call *call, struct sg_ctl_ctx *ctx,
		int (*run)(void *arg, struct sg_ctl_call *call, struct sg_ctl_ctx *ctx),
		void (*after)(void *arg, const struct sg_ctl_call *call, int code, const char *out,
				const char *err),
		void *arg);
/** Response of a command that ran already (its exit code, output and errors). */
struct json_t *sg_ctl_call_response(const struct sg_ctl_call *call, int code, const char *out,
		size_t out_len, const char *err, size_t err_len);
/** An error response: 'field' (may be NULL) names the part of the request at fault. */
struct json_t *sg_ctl_rpc_error(
		struct json_t *id, int code, const char *message, const char *field);
/** A notification (no id): method and params (the reference to params is taken). */
struct json_t *sg_ctl_rpc_notification(const char *method, struct json_t *params);
/** Write 'msg' as one line and release it. 0 or -errno. */
int sg_ctl_send(int fd, struct json_t *msg);
/** The same within 'timeout_ms' in all, whatever the peer reads: else -ETIMEDOUT. */
int sg_ctl_send_within(int fd, struct json_t *msg, int timeout_ms);
/** Reads lines from a stream socket, at most 'max' bytes each (see sg_ctl_reader_next()). */
struct sg_ctl_reader {
	int fd;
	size_t max;
	char *buf;
	size_t len, cap, consumed;
	bool eof;
	int recv_flags; /**< MSG_DONTWAIT: never wait for a line (the daemon). */
};

void sg_ctl_reader_init(struct sg_ctl_reader *r, int fd, size_t max);
void sg_ctl_reader_free(struct sg_ctl_reader *r);
/**
 * The next line, newline stripped and NUL-terminated, valid until the next call: 1 and the
 * line, 0 at the end of the stream, -EMSGSIZE when a line exceeds 'max', -EAGAIN when a
 * non-blocking socket has no whole line yet, or -errno. A last line without a newline counts.
 */
int sg_ctl_reader_next(struct sg_ctl_reader *r, char **line, size_t *len);

/**
 * Listen on 'path', mode 0600, or 0660 with group 'gid' when 'gid' >= 0. A socket nothing
 * answers on is replaced; anything else at 'path' (a file, a link, a served socket) is
 * refused. Returns the fd or -errno with 'err'.
 */
int sg_ctl_listen(const char *path, int gid, struct sg_error *err);
/** Connect to 'path'. Returns the fd or -errno with 'err' saying why. */
int sg_ctl_connect(const char *path, struct sg_error *err);

#endif /* SG_CTL_H */
