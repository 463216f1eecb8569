/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the flow-log readers sgfwctl audit runs on files it is given, sgfw's own
 * formats and the clouds' exports (which come from elsewhere).
 *
 * The input is a file's text: its first line is tried as an Alibaba or AWS header (or, when it
 * is none, the default layout of the format picked by the input's first byte is used), then
 * every line goes through the cloud parser and through sgfw's own one.
 *
 * Invariants: a parser returns 1, 0 or -EINVAL, and -EINVAL always says why; a record read is
 * sane (port and rule group NUL-terminated, status, direction and action in range); a record
 * of a cloud line, written in every format and read back as that format reads its files,
 * keeps its port, addresses, ports (ICMP aside in aws-v5), counts, times, status and action.
 * (sgfw's JSON reader takes an OK line with fields missing, left zero: such a record is
 * checked for sanity only.) Nothing leaks.
 */
#include <errno.h>
#include <string.h>

#include "fuzz_common.h"
#include "sg_flowlog.h"

#define MAX_INPUT (64 * 1024)

static void
check_parsed(int rc, const char *why)
{
	FUZZ_CHECK(rc == 1 || rc == 0 || rc == -EINVAL, "parser returned %d", rc);
	FUZZ_CHECK(rc != -EINVAL || why[0] != '\0', "a refusal without a reason");
}

static bool
ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* Write 'r' in 'format' and read it back as the format reads its own files. */
static void
round_trip(const struct sg_flowlog_record *r, enum sg_flowlog_format format)
{
	struct sg_flowlog_layout layout;
	struct sg_flowlog_record back;
	char *text = NULL, why[256] = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	bool cloud = format == SG_FLOWLOG_ALIBABA || format == SG_FLOWLOG_AWS_V5;
	bool no_ports = format == SG_FLOWLOG_AWS_V5 && (r->proto == 1 || r->proto == 58);
	int rc;

	FUZZ_CHECK(f != NULL, "open_memstream");
	FUZZ_CHECK(sg_flowlog_write_record(f, r, format) == 0, "write in format %d", format);
	fclose(f);
	if (cloud) {
		sg_flowlog_cloud_default(format, &layout);
		rc = sg_flowlog_parse_cloud(text, &layout, NULL, 0, &back, why, sizeof(why));
	} else {
		rc = sg_flowlog_parse_line(text, &back, why, sizeof(why));
	}
	/* JSON carries text as UTF-8: a name that is not (a byte the cloud line had raw) is
	 * written with each bad byte replaced by U+FFFD, three bytes, and may no longer fit a
	 * name. sgfw writes flow logs of its own ports only, whose names are UTF-8. */
	if (rc != 1 && format == SG_FLOWLOG_JSON && !ascii(r->port)) {
		free(text);
		return;
	}
	FUZZ_CHECK(rc == 1, "format %d: \"%s\" does not read back: %s", format, text, why);
	/* JSON carries text as UTF-8: a name that is not (a byte the cloud line had raw) is
	 * written replaced. */
	FUZZ_CHECK(strcmp(back.port, r->port) == 0 ||
					(format == SG_FLOWLOG_JSON && !ascii(r->port)),
			"format %d: port \"%s\" read as \"%s\"", format, r->port, back.port);
	FUZZ_CHECK(back.status == r->status && back.start == r->start && back.end == r->end,
			"format %d: status or window changed in \"%s\"", format, text);
	if (r->status == SG_FLOWLOG_OK) {
		FUZZ_CHECK(sg_ip_equal(&back.src, &r->src) && sg_ip_equal(&back.dst, &r->dst) &&
						back.proto == r->proto && back.dir == r->dir &&
						back.action == r->action &&
						back.packets == r->packets &&
						back.bytes == r->bytes &&
						back.tcp_flags == r->tcp_flags &&
						(no_ports || (back.sport == r->sport &&
									     back.dport == r->dport)),
				"format %d: a field changed in \"%s\"", format, text);
	}
	free(text);
}

static void
check_record(const struct sg_flowlog_record *r, bool cloud)
{
	FUZZ_CHECK(memchr(r->port, '\0', sizeof(r->port)) != NULL, "port not terminated");
	FUZZ_CHECK(memchr(r->rule.group, '\0', sizeof(r->rule.group)) != NULL,
			"rule group not terminated");
	FUZZ_CHECK(r->status <= SG_FLOWLOG_SKIPDATA && r->dir < SG_DIR_COUNT &&
					(r->action == SG_ACTION_ACCEPT ||
							r->action == SG_ACTION_DROP),
			"field out of range");
	if (!cloud)
		return;
	for (int f = 0; f < SG_FLOWLOG_FORMAT_COUNT; f++)
		round_trip(r, (enum sg_flowlog_format)f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_flowlog_layout layout;
	bool have_layout = false;
	char *text, *save = NULL;

	if (size > MAX_INPUT)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
			line = strtok_r(NULL, "\n", &save)) {
		struct sg_flowlog_record r;
		char why[256] = "";
		int rc;

		if (!have_layout) {
			rc = sg_flowlog_cloud_header(line, &layout, why, sizeof(why));
			check_parsed(rc, why);
			have_layout = true;
			if (rc == 1)
				continue;
			sg_flowlog_cloud_default(size > 0 && (data[0] & 1) ? SG_FLOWLOG_AWS_V5
									   : SG_FLOWLOG_ALIBABA,
					&layout);
		}
		why[0] = '\0';
		rc = sg_flowlog_parse_cloud(line, &layout, NULL, 0, &r, why, sizeof(why));
		check_parsed(rc, why);
		if (rc == 1)
			check_record(&r, true);
		why[0] = '\0';
		rc = sg_flowlog_parse_line(line, &r, why, sizeof(why));
		check_parsed(rc, why);
		if (rc == 1)
			check_record(&r, false);
	}
	free(text);
	return 0;
}
