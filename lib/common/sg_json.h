/* SPDX-License-Identifier: BSD-3-Clause */
/* A small streaming JSON writer for machine-readable output (sgfwctl --json, the control socket). */
#ifndef SG_JSON_H
#define SG_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SG_JSON_MAX_DEPTH 16

/**
 * Writer state. Usage: sg_json_init(), then nested open/value/close calls.
 * Inside an object every value takes a key; inside an array the key is NULL.
 * Not thread-safe: one writer per output stream.
 */
struct sg_json {
	FILE *out;
	int depth;
	bool pretty;
	bool has_items[SG_JSON_MAX_DEPTH];
};

void sg_json_init(struct sg_json *j, FILE *out, bool pretty);
void sg_json_object_open(struct sg_json *j, const char *key);
void sg_json_object_close(struct sg_json *j);
void sg_json_array_open(struct sg_json *j, const char *key);
void sg_json_array_close(struct sg_json *j);
void sg_json_string(struct sg_json *j, const char *key, const char *value);
void sg_json_int(struct sg_json *j, const char *key, int64_t value);
void sg_json_uint(struct sg_json *j, const char *key, uint64_t value);
void sg_json_double(struct sg_json *j, const char *key, double value);
void sg_json_bool(struct sg_json *j, const char *key, bool value);
void sg_json_null(struct sg_json *j, const char *key);
/** Ends the document with a newline once the outermost value is closed. */
void sg_json_finish(struct sg_json *j);

#endif /* SG_JSON_H */
