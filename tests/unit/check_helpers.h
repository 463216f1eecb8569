/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the Check programs that load configs: expect a load to fail with
 * "ORIGIN:LINE: message" at the line marked "#<", and look ports up by name. */
#ifndef CHECK_HELPERS_H
#define CHECK_HELPERS_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sg_conf.h"

/* Line of the first "#<" marker in 'text' (1-based), 0 if none. */
static inline int
marker_line(const char *text)
{
	const char *mark = strstr(text, "#<");
	int line = 1;

	if (mark == NULL)
		return 0;
	for (const char *c = text; c < mark; c++)
		line += *c == '\n';
	return line;
}

struct t_load_error {
	const char *name;
	const char *text; /* the faulty line carries a "#<" comment */
	const char *want[3]; /* fragments of the message */
};

/* The load fails (NULL, errno EINVAL) with "test.conf:LINE: " and each fragment. */
static inline void
expect_load_error(const struct t_load_error *row)
{
	int line = marker_line(row->text);
	struct sg_conf *conf;
	struct sg_error err;
	char prefix[64];

	memset(&err, 0, sizeof(err));
	errno = 0;
	conf = sg_conf_load_string(row->text, "test.conf", &err);
	ck_assert_msg(conf == NULL, "%s: the config loaded", row->name);
	ck_assert_msg(errno == EINVAL, "%s: errno %d, want EINVAL", row->name, errno);
	ck_assert_msg(line > 0, "test bug: %s has no #< marker", row->name);
	snprintf(prefix, sizeof(prefix), "test.conf:%d: ", line);
	ck_assert_msg(strncmp(err.msg, prefix, strlen(prefix)) == 0,
			"%s: message\n  %s\ndoes not start with\n  %s", row->name, err.msg, prefix);
	ck_assert_int_eq(err.line, line);
	for (size_t k = 0; k < SG_ARRAY_SIZE(row->want) && row->want[k] != NULL; k++)
		ck_assert_msg(strstr(err.msg, row->want[k]) != NULL,
				"%s: message\n  %s\nlacks\n  %s", row->name, err.msg, row->want[k]);
}

/* The load fails with exactly "test.conf:LINE: " and want[0]. */
static inline void
expect_load_exact(const struct t_load_error *row)
{
	struct sg_error err;
	char want[sizeof(err.msg)];

	expect_load_error(row);
	memset(&err, 0, sizeof(err));
	sg_conf_load_string(row->text, "test.conf", &err);
	snprintf(want, sizeof(want), "test.conf:%d: %s", marker_line(row->text), row->want[0]);
	ck_assert_msg(strcmp(err.msg, want) == 0, "%s: message\n  %s\nwant\n  %s", row->name, err.msg,
			want);
}

/* Index of port 'name' in 'policy'; the test fails when there is none. */
static inline uint32_t
port_of(const struct sg_policy *policy, const char *name)
{
	int port = sg_policy_find_port(policy, name);

	ck_assert_msg(port >= 0, "no port \"%s\"", name);
	return (uint32_t)port;
}

#endif /* CHECK_HELPERS_H */
