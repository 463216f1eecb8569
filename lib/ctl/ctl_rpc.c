/* SPDX-License-Identifier: BSD-3-Clause */
/* The machine API's requests and responses (JSON-RPC 2.0, docs/api.md): a request names a
 * command of the table and its argument words; the command runs as sgfwctl would run it and its
 * output becomes the result, or an error object with a stable code and the argument at fault. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sg_ctl.h"

/* A JSON string of command output: jansson takes only UTF-8, so other bytes become '?'. */
static json_t *
text_value(const char *text, size_t len)
{
	json_t *v = json_stringn(text, len);
	char *copy;

	if (v != NULL)
		return v;
	copy = malloc(len + 1);
	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		copy[i] = (unsigned char)text[i] < 0x80 ? text[i] : '?';
	v = json_stringn(copy, len);
	free(copy);
	return v;
}

static json_t *
response(json_t *id, const char *key, json_t *value)
{
	json_t *msg = json_object();

	json_object_set_new(msg, "jsonrpc", json_string("2.0"));
	json_object_set_new(msg, key, value);
	json_object_set(msg, "id", id != NULL ? id : json_null());
	return msg;
}

static json_t *
error_object(int code, const char *message, json_t *data)
{
	json_t *e = json_object();

	json_object_set_new(e, "code", json_integer(code));
	json_object_set_new(e, "message", text_value(message, strlen(message)));
	if (data != NULL)
		json_object_set_new(e, "data", data);
	return e;
}

json_t *
sg_ctl_rpc_error(json_t *id, int code, const char *message, const char *field)
{
	json_t *data = NULL;

	if (field != NULL) {
		data = json_object();
		json_object_set_new(data, "field", json_string(field));
	}
	return response(id, "error", error_object(code, message, data));
}

json_t *
sg_ctl_rpc_notification(const char *method, json_t *params)
{
	json_t *msg = json_object();

	json_object_set_new(msg, "jsonrpc", json_string("2.0"));
	json_object_set_new(msg, "method", json_string(method));
	json_object_set_new(msg, "params", params);
	return msg;
}

void
sg_ctl_call_free(struct sg_ctl_call *call)
{
	for (int i = 0; i < call->argc; i++)
		free(call->argv[i]);
	call->argc = 0;
	json_decref(call->id);
	call->id = NULL;
}

static int
add_word(struct sg_ctl_call *call, const char *word, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, word, len);
	copy[len] = '\0';
	call->argv[call->argc++] = copy;
	call->argv[call->argc] = NULL;
	return 0;
}

/* The command's words ("rule add") as the first arguments. */
static int
add_command_words(struct sg_ctl_call *call)
{
	const char *w = call->cmd->words, *space = strchr(w, ' ');

	if (space == NULL)
		return add_word(call, w, strlen(w));
	if (add_word(call, w, (size_t)(space - w)) < 0)
		return -ENOMEM;
	return add_word(call, space + 1, strlen(space + 1));
}

/* params: an array of argument words, or {"args": [...], "format": "json"|"text"}. */
static int
decode_params(struct sg_ctl_call *call, json_t *params, char *field, size_t size, const char **why)
{
	json_t *args = params, *value;
	const char *key;
	size_t i;

	if (json_is_object(params)) {
		args = NULL;
		json_object_foreach(params, key, value)
		{
			if (strcmp(key, "args") == 0) {
				args = value;
			} else if (strcmp(key, "format") == 0) {
				const char *f = json_string_value(value);

				if (f == NULL || (strcmp(f, "json") != 0 &&
								 strcmp(f, "text") != 0)) {
					snprintf(field, size, "params.format");
					*why = "format must be \"json\" or \"text\"";
					return -1;
				}
				call->text = strcmp(f, "text") == 0;
			} else {
				snprintf(field, size, "params.%.64s", key);
				*why = "unknown member of params (args, format)";
				return -1;
			}
		}
		if (args == NULL)
			return 0;
		snprintf(field, size, "params.args");
	} else {
		snprintf(field, size, "params");
	}
	if (!json_is_array(args)) {
		*why = "params must be an array of argument strings or an object";
		return -1;
	}
	if (json_array_size(args) > SG_CTL_MAX_ARGS) {
		*why = "too many arguments";
		return -1;
	}
	json_array_foreach(args, i, value)
	{
		const char *word = json_string_value(value);
		size_t len = json_string_length(value);

		if (word == NULL || strlen(word) != len) {
			snprintf(field + strlen(field), size - strlen(field), "[%zu]", i);
			*why = word == NULL ? "an argument must be a string"
					    : "an argument must not contain NUL";
			return -1;
		}
		if (add_word(call, word, len) < 0) {
			*why = "out of memory";
			return -1;
		}
	}
	return 0;
}

int
sg_ctl_call_decode(const char *line, size_t len, struct sg_ctl_call *call, json_t **error)
{
	json_t *req, *id, *method, *params, *version;
	json_error_t jerr;
	const char *why = NULL;
	char field[96] = "";
	int code = SG_CTL_RPC_INVALID;

	memset(call, 0, sizeof(*call));
	*error = NULL;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL) {
		char msg[200];
		json_t *data = json_object();

		snprintf(msg, sizeof(msg), "parse error: %s", jerr.text);
		json_object_set_new(data, "position", json_integer(jerr.position));
		*error = response(NULL, "error", error_object(SG_CTL_RPC_PARSE, msg, data));
		return -1;
	}
	if (!json_is_object(req)) {
		*error = sg_ctl_rpc_error(
				NULL, SG_CTL_RPC_INVALID, "a request is a JSON object", NULL);
		json_decref(req);
		return -1;
	}
	id = json_object_get(req, "id");
	version = json_object_get(req, "jsonrpc");
	method = json_object_get(req, "method");
	params = json_object_get(req, "params");
	if (id != NULL && !json_is_string(id) && !json_is_integer(id) && !json_is_null(id)) {
		snprintf(field, sizeof(field), "id");
		why = "id must be a string, an integer or null";
		id = NULL;
	} else if (version == NULL || !json_is_string(version) ||
			strcmp(json_string_value(version), "2.0") != 0) {
		snprintf(field, sizeof(field), "jsonrpc");
		why = "jsonrpc must be \"2.0\"";
	} else if (!json_is_string(method)) {
		snprintf(field, sizeof(field), "method");
		why = "method must be a string";
	} else if ((call->cmd = sg_ctl_find_method(json_string_value(method))) == NULL) {
		snprintf(field, sizeof(field), "method");
		why = "no such method (see the \"methods\" method)";
		code = SG_CTL_RPC_NO_METHOD;
	} else if (add_command_words(call) < 0) {
		why = "out of memory";
		code = SG_CTL_RPC_INTERNAL;
	} else if (params != NULL && decode_params(call, params, field, sizeof(field), &why) < 0) {
		code = SG_CTL_RPC_PARAMS;
	}
	if (why != NULL) {
		*error = sg_ctl_rpc_error(id, code, why, field[0] ? field : NULL);
		if (code == SG_CTL_RPC_NO_METHOD)
			json_object_set(json_object_get(json_object_get(*error, "error"), "data"),
					"method", method);
		sg_ctl_call_free(call);
		json_decref(req);
		return -1;
	}
	call->id = json_incref(id);
	json_decref(req);
	return 0;
}

int
sg_ctl_call_words(int argc, char **argv, bool text, struct sg_ctl_call *call, json_t **error)
{
	int used;

	memset(call, 0, sizeof(*call));
	*error = NULL;
	call->id = json_integer(1);
	call->text = text;
	call->cmd = sg_ctl_find_words(argc, argv, &used);
	if (call->cmd == NULL) {
		json_t *data = json_object();
		char msg[160];

		snprintf(msg, sizeof(msg), "unknown command \"%.100s\"", argc > 0 ? argv[0] : "");
		json_object_set_new(data, "field", json_string("method"));
		json_object_set_new(data, "exit", json_integer(SG_CTL_EXIT_USAGE));
		*error = response(call->id, "error", error_object(SG_CTL_RPC_NO_METHOD, msg, data));
		sg_ctl_call_free(call);
		return -1;
	}
	if (argc - used > SG_CTL_MAX_ARGS) {
		*error = sg_ctl_rpc_error(
				call->id, SG_CTL_RPC_PARAMS, "too many arguments", "params");
		sg_ctl_call_free(call);
		return -1;
	}
	if (add_command_words(call) < 0)
		goto nomem;
	for (int i = used; i < argc; i++)
		if (add_word(call, argv[i], strlen(argv[i])) < 0)
			goto nomem;
	return 0;
nomem:
	*error = sg_ctl_rpc_error(call->id, SG_CTL_RPC_INTERNAL, "out of memory", NULL);
	sg_ctl_call_free(call);
	return -1;
}

/* The number of words that name the command ("rule add": 2): the arguments follow. */
static int
command_words(const struct sg_ctl_call *call)
{
	return strchr(call->cmd->words, ' ') != NULL ? 2 : 1;
}

/*
 * The argument an error message is about: one it quotes ("no port named \"web9\"") or, for a
 * field=value argument, one whose field it names. -1 when none.
 */
static int
fault_argument(const struct sg_ctl_call *call, const char *message)
{
	int first = command_words(call);

	for (int i = first; i < call->argc; i++) {
		size_t len = strlen(call->argv[i]);

		for (const char *p = strchr(message, '"'); p != NULL; p = strchr(p + 1, '"'))
			if (len > 0 && strncmp(p + 1, call->argv[i], len) == 0 && p[len + 1] == '"')
				return i;
	}
	for (int i = first; i < call->argc; i++) {
		const char *eq = strchr(call->argv[i], '=');
		size_t len = eq != NULL ? (size_t)(eq - call->argv[i]) : 0;
		char name[64];

		if (len == 0 || len >= sizeof(name))
			continue;
		memcpy(name, call->argv[i], len);
		name[len] = '\0';
		/* The field as a word of the message ("priority 0 is out of range"). */
		for (const char *p = strstr(message, name); p != NULL; p = strstr(p + 1, name))
			if ((p == message || p[-1] == ' ' || p[-1] == '"') &&
					(p[len] == ' ' || p[len] == '"' || p[len] == ':' ||
							p[len] == '\0'))
				return i;
	}
	return -1;
}

/* The first line of the error stream without its "error: " or "usage error: " prefix. */
static char *
first_line(const char *err, size_t len)
{
	const char *p = err;
	size_t n;

	if (len >= 7 && strncmp(p, "error: ", 7) == 0)
		p += 7;
	else if (len >= 13 && strncmp(p, "usage error: ", 13) == 0)
		p += 13;
	n = strcspn(p, "\n");
	return n == 0 ? strdup("the command failed") : strndup(p, n);
}

static json_t *
build_response(const struct sg_ctl_call *call, int code, int rpc_code, const char *out,
		size_t out_len, const char *err, size_t err_len)
{
	bool ok = code == SG_CTL_EXIT_OK ||
		  (code == SG_CTL_EXIT_DROPPED && call->cmd->id == SG_CTL_CMD_EXPLAIN);
	json_t *doc = NULL, *data;
	char *message;
	int arg;

	if (!call->text && out_len > 0)
		doc = json_loadb(out, out_len, JSON_DECODE_ANY, NULL);
	if (ok && call->text) {
		data = json_object();
		json_object_set_new(data, "exit", json_integer(code));
		json_object_set_new(data, "stdout", text_value(out, out_len));
		json_object_set_new(data, "stderr", text_value(err, err_len));
		return response(call->id, "result", data);
	}
	if (ok && doc == NULL && out_len > 0 && (out[0] == '{' || out[0] == '[')) {
		/* A JSON form jansson cannot read (a number beyond 64 bits): a bug, said as one. */
		return sg_ctl_rpc_error(call->id, SG_CTL_RPC_INTERNAL,
				"the command's JSON output does not parse", NULL);
	}
	if (ok) {
		if (doc == NULL) {
			/* A command without a JSON form (reload, save): what it said, as a message. */
			size_t n = out_len;

			while (n > 0 && out[n - 1] == '\n')
				n--;
			doc = json_object();
			json_object_set_new(doc, "ok", json_true());
			json_object_set_new(doc, "message", text_value(out, n));
		}
		return response(call->id, "result", doc);
	}
	message = first_line(err, err_len);
	data = json_object();
	/* A command's own answer on failure (check's {"ok": false, ...}) stays in the data. */
	if (json_is_object(doc))
		json_object_update(data, doc);
	json_decref(doc);
	json_object_set_new(data, "exit", json_integer(code));
	if (rpc_code == 0)
		rpc_code = code == SG_CTL_EXIT_USAGE ? SG_CTL_RPC_PARAMS : SG_CTL_RPC_FAILED;
	arg = message != NULL ? fault_argument(call, message) : -1;
	if (arg >= 0) {
		char field[32];

		snprintf(field, sizeof(field), "params[%d]", arg - command_words(call));
		json_object_set_new(data, "field", json_string(field));
		json_object_set_new(data, "argument",
				text_value(call->argv[arg], strlen(call->argv[arg])));
	} else if (rpc_code == SG_CTL_RPC_PARAMS) {
		json_object_set_new(data, "field", json_string("params"));
	} else if (rpc_code == SG_CTL_RPC_OFFLINE) {
		json_object_set_new(data, "field", json_string("method"));
	}
	if (call->text) {
		json_object_set_new(data, "stdout", text_value(out, out_len));
		json_object_set_new(data, "stderr", text_value(err, err_len));
	}
	doc = response(call->id, "error",
			error_object(rpc_code, message != NULL ? message : "out of memory", data));
	free(message);
	return doc;
}

json_t *
sg_ctl_call_response(const struct sg_ctl_call *call, int code, const char *out, size_t out_len,
		const char *err, size_t err_len)
{
	return build_response(call, code, 0, out, out_len, err, err_len);
}

/* Run the command on copies of the words: changes edit theirs ("field=value" split in place),
 * and the error is matched against the words as they came. */
static int
run_on_copy(struct sg_ctl_call *call, struct sg_ctl_ctx *ctx,
		int (*run)(void *arg, struct sg_ctl_call *call, struct sg_ctl_ctx *ctx), void *arg)
{
	char *given[SG_CTL_MAX_ARGS + 3];
	int argc = call->argc, code = SG_CTL_EXIT_FAIL, n;

	memcpy(given, call->argv, sizeof(given));
	for (n = 0; n < argc; n++)
		if ((call->argv[n] = strdup(given[n])) == NULL)
			break;
	if (n == argc)
		code = run(arg, call, ctx);
	else
		fprintf(ctx->err, "error: out of memory\n");
	for (int i = 0; i < n; i++)
		free(call->argv[i]);
	memcpy(call->argv, given, sizeof(given));
	call->argc = argc;
	return code;
}

json_t *
sg_ctl_call_run(struct sg_ctl_call *call, struct sg_ctl_ctx *ctx,
		int (*run)(void *arg, struct sg_ctl_call *call, struct sg_ctl_ctx *ctx),
		void (*after)(void *arg, const struct sg_ctl_call *call, int code, const char *out,
				const char *err),
		void *arg)
{
	char *out_text = NULL, *err_text = NULL;
	size_t out_len = 0, err_len = 0;
	FILE *out = open_memstream(&out_text, &out_len);
	FILE *errors = open_memstream(&err_text, &err_len);
	json_t *msg = NULL;
	int code, rpc_code = 0;

	if (out != NULL && errors != NULL) {
		ctx->out = out;
		ctx->err = errors;
		ctx->json = !call->text;
		if (!ctx->online && !(call->cmd->flags & SG_CTL_OFFLINE)) {
			code = sg_ctl_online_only(ctx, call->argc, call->argv);
			rpc_code = SG_CTL_RPC_OFFLINE;
		} else {
			code = run_on_copy(call, ctx, run, arg);
		}
		fflush(out);
		fflush(errors);
		if (after != NULL)
			after(arg, call, code, out_text, err_text);
		msg = build_response(call, code, rpc_code, out_text, out_len, err_text, err_len);
	}
	if (out != NULL)
		fclose(out);
	if (errors != NULL)
		fclose(errors);
	free(out_text);
	free(err_text);
	ctx->out = ctx->err = NULL;
	return msg != NULL ? msg
			   : sg_ctl_rpc_error(call->id, SG_CTL_RPC_INTERNAL, "out of memory", NULL);
}
