/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers the flow-log record formats share (flowlog_record.c, flowlog_cloud.c). */
#ifndef FLOWLOG_PRIVATE_H
#define FLOWLOG_PRIVATE_H

#include "sg_flowlog.h"

/** "OK", "NODATA", "SKIPDATA" by enum sg_flowlog_status. */
extern const char *const fl_status_names[3];

/** A name as the text formats write it: %XX for spaces, '%', non-printables and a lone "-". */
const char *fl_escape_name(const char *name, char *buf, size_t size);
/** Undo fl_escape_name() for 'len' bytes of 'text'; -EINVAL if malformed or empty. */
int fl_unescape_name(const char *text, size_t len, char *out, size_t size);
/** A decimal number up to 'max'; -EINVAL otherwise. */
int fl_parse_u64(const char *text, uint64_t max, uint64_t *out);
/** A decimal, possibly negative, 64-bit number; -EINVAL otherwise. */
int fl_parse_i64(const char *text, int64_t *out);
/**
 * Check and store field 'key' (the JSON format's name: srcaddr, srcport, protocol, packets,
 * start, action, tcp_flags, ...) of 'r' from its text 'value'; -EINVAL with 'why' if bad.
 */
int fl_set_field(struct sg_flowlog_record *r, const char *key, const char *value, char *why,
		size_t size);
/** Fill 'why' (printf-like) and return -EINVAL. */
int fl_bad(char *why, size_t size, const char *fmt, ...) SG_PRINTF(3, 4);

/** Alibaba's and AWS's lines (flowlog_cloud.c). */
void fl_write_cloud(FILE *out, const struct sg_flowlog_record *r, enum sg_flowlog_format format);

#endif /* FLOWLOG_PRIVATE_H */
