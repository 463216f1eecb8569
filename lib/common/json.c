/* SPDX-License-Identifier: BSD-3-Clause */
/* Streaming JSON writer: correct escaping, optional indentation, no allocation. */
#include <inttypes.h>

#include "sg_common.h"
#include "sg_json.h"

void
sg_json_init(struct sg_json *j, FILE *out, bool pretty)
{
	j->out = out;
	j->depth = 0;
	j->pretty = pretty;
	j->has_items[0] = false;
}

/* A JSON string. Control and bidirectional characters are written as \u escapes, so a name or
 * description shows as what it is wherever the JSON is printed, and a byte that is not UTF-8
 * as U+FFFD, so the document stays valid JSON. */
static void
write_string(FILE *out, const char *s)
{
	uint32_t cp;
	int n;

	fputc('"', out);
	for (; *s != '\0'; s += n) {
		n = sg_utf8_next(s, &cp);
		if (n == 0) {
			n = 1;
			fputs("\\ufffd", out);
		} else if (cp == '"' || cp == '\\') {
			fputc('\\', out);
			fputc((int)cp, out);
		} else if (cp == '\n') {
			fputs("\\n", out);
		} else if (cp == '\t') {
			fputs("\\t", out);
		} else if (cp == '\r') {
			fputs("\\r", out);
		} else if (sg_char_is_control(cp) || sg_char_is_bidi(cp)) {
			fprintf(out, "\\u%04x", (unsigned int)cp);
		} else {
			fwrite(s, 1, (size_t)n, out);
		}
	}
	fputc('"', out);
}

/* Separator, indentation and key before a value at the current depth. */
static void
begin_value(struct sg_json *j, const char *key)
{
	if (j->has_items[j->depth])
		fputc(',', j->out);
	j->has_items[j->depth] = true;
	if (j->pretty && j->depth > 0) {
		fputc('\n', j->out);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->out);
	}
	if (key != NULL) {
		write_string(j->out, key);
		fputs(j->pretty ? ": " : ":", j->out);
	}
}

static void
open_container(struct sg_json *j, const char *key, char c)
{
	begin_value(j, key);
	fputc(c, j->out);
	if (j->depth + 1 < SG_JSON_MAX_DEPTH)
		j->depth++;
	j->has_items[j->depth] = false;
}

static void
close_container(struct sg_json *j, char c)
{
	bool had_items = j->has_items[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (j->pretty && had_items) {
		fputc('\n', j->out);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->out);
	}
	fputc(c, j->out);
}

void
sg_json_object_open(struct sg_json *j, const char *key)
{
	open_container(j, key, '{');
}

void
sg_json_object_close(struct sg_json *j)
{
	close_container(j, '}');
}

void
sg_json_array_open(struct sg_json *j, const char *key)
{
	open_container(j, key, '[');
}

void
sg_json_array_close(struct sg_json *j)
{
	close_container(j, ']');
}

void
sg_json_string(struct sg_json *j, const char *key, const char *value)
{
	begin_value(j, key);
	if (value == NULL)
		fputs("null", j->out);
	else
		write_string(j->out, value);
}

void
sg_json_int(struct sg_json *j, const char *key, int64_t value)
{
	begin_value(j, key);
	fprintf(j->out, "%" PRId64, value);
}

void
sg_json_uint(struct sg_json *j, const char *key, uint64_t value)
{
	begin_value(j, key);
	fprintf(j->out, "%" PRIu64, value);
}

void
sg_json_double(struct sg_json *j, const char *key, double value)
{
	begin_value(j, key);
	/* JSON has no NaN or infinity: an unknown or unbounded value is null. */
	if (value != value || value > 1e308 || value < -1e308)
		fputs("null", j->out);
	else
		fprintf(j->out, "%.6g", value);
}

void
sg_json_bool(struct sg_json *j, const char *key, bool value)
{
	begin_value(j, key);
	fputs(value ? "true" : "false", j->out);
}

void
sg_json_null(struct sg_json *j, const char *key)
{
	begin_value(j, key);
	fputs("null", j->out);
}

void
sg_json_finish(struct sg_json *j)
{
	fputc('\n', j->out);
	fflush(j->out);
}
