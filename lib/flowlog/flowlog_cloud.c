/* SPDX-License-Identifier: BSD-3-Clause */
/* Cloud VPC flow-log lines: Alibaba's and AWS's (version 5) fields, as sgfw writes them and as
 * the clouds export them, read through the header line that names each column. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "flowlog_private.h"
#include "sg_flowlog.h"

/* What a column holds. */
enum col {
	C_OTHER = 0, /* A field the audit does not use (vpc-id, region, ...). */
	C_VERSION,
	C_IFACE, /* eni-id, interface-id */
	C_SRCADDR,
	C_SRCPORT,
	C_DSTADDR,
	C_DSTPORT,
	C_PROTOCOL,
	C_DIRECTION, /* Alibaba's direction (in, out), AWS's flow-direction (ingress, egress) */
	C_PACKETS,
	C_BYTES,
	C_START,
	C_END,
	C_STATUS,
	C_ACTION,
	C_FLAGS,
	C_COUNT,
};

static const struct {
	const char *name;
	enum col col;
} col_names[] = {
		{"version", C_VERSION},
		{"eni-id", C_IFACE},
		{"interface-id", C_IFACE},
		{"srcaddr", C_SRCADDR},
		{"srcport", C_SRCPORT},
		{"dstaddr", C_DSTADDR},
		{"dstport", C_DSTPORT},
		{"protocol", C_PROTOCOL},
		{"direction", C_DIRECTION},
		{"flow-direction", C_DIRECTION},
		{"packets", C_PACKETS},
		{"bytes", C_BYTES},
		{"start", C_START},
		{"end", C_END},
		{"log-status", C_STATUS},
		{"action", C_ACTION},
		{"tcp-flags", C_FLAGS},
};

/* Alibaba's documented fields, in the documented order; sgfw has no vSwitch, instance, VPC or
 * account, so it writes "-" there. */
static const char alibaba_header[] = "version vswitch-id vm-id vpc-id account-id eni-id srcaddr "
				     "srcport dstaddr dstport protocol direction packets bytes "
				     "start end log-status action tcp-flags";
/* AWS's default (version 2) fields, then the version 3 and 5 ones asked for. */
static const char aws_header[] = "version account-id interface-id srcaddr dstaddr srcport dstport "
				 "protocol packets bytes start end action log-status tcp-flags "
				 "flow-direction pkt-srcaddr pkt-dstaddr";

const char *
sg_flowlog_header(enum sg_flowlog_format format)
{
	switch (format) {
	case SG_FLOWLOG_TEXT:
		return sg_flowlog_text_header;
	case SG_FLOWLOG_ALIBABA:
		return alibaba_header;
	case SG_FLOWLOG_AWS_V5:
		return aws_header;
	default:
		return NULL;
	}
}

/* ---- Writing ---- */

void
fl_write_cloud(FILE *out, const struct sg_flowlog_record *r, enum sg_flowlog_format format)
{
	char src[SG_IP_STRLEN], dst[SG_IP_STRLEN], port[SG_NAME_MAX * 3 + 1], lost[24];
	const char *eni = r->port[0] != '\0' ? fl_escape_name(r->port, port, sizeof(port)) : "-";
	const char *action = r->action == SG_ACTION_ACCEPT ? "ACCEPT" : "REJECT";
	bool aws = format == SG_FLOWLOG_AWS_V5;
	/* AWS has no ICMP type and code in its ports: it writes 0 0. */
	bool icmp = sg_proto_is_icmp(r->proto);
	unsigned int sport = aws && icmp ? 0 : r->sport, dport = aws && icmp ? 0 : r->dport;

	if (r->status != SG_FLOWLOG_OK) {
		/* NODATA and SKIPDATA: "-" where nothing applies; SKIPDATA keeps sgfw's count of
		 * lost records in packets. */
		snprintf(lost, sizeof(lost), "%" PRIu64, r->packets);
		if (r->status != SG_FLOWLOG_SKIPDATA)
			snprintf(lost, sizeof(lost), "-");
		if (aws)
			fprintf(out, "5 - %s - - - - - %s - %" PRId64 " %" PRId64 " - %s - - - -\n",
					eni, lost, r->start, r->end, fl_status_names[r->status]);
		else
			fprintf(out,
					"1 - - - - %s - - - - - - %s - %" PRId64 " %" PRId64
					" %s - -\n",
					eni, lost, r->start, r->end, fl_status_names[r->status]);
		return;
	}
	sg_ip_format(&r->src, src, sizeof(src));
	sg_ip_format(&r->dst, dst, sizeof(dst));
	if (aws)
		fprintf(out,
				"5 - %s %s %s %u %u %u %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64
				" %s OK %u %s %s %s\n",
				eni, src, dst, sport, dport, r->proto, r->packets, r->bytes,
				r->start, r->end, action, r->tcp_flags, sg_dir_name(r->dir), src,
				dst);
	else
		fprintf(out,
				"1 - - - - %s %s %u %s %u %u %s %" PRIu64 " %" PRIu64 " %" PRId64
				" %" PRId64 " OK %s %u\n",
				eni, src, sport, dst, dport, r->proto,
				r->dir == SG_DIR_INGRESS ? "in" : "out", r->packets, r->bytes,
				r->start, r->end, action, r->tcp_flags);
}

/* ---- Reading ---- */

/* Split 'line' (modified) at 'sep' (' ': runs of spaces and tabs); CSV fields lose their
 * double quotes. Returns the number of fields, or -1 if there are more than 'max'. */
static int
split(char *line, char sep, char **fields, int max)
{
	char *save = NULL, *p = line;
	int n = 0;

	if (sep == ' ') {
		for (char *t = strtok_r(line, " \t", &save); t != NULL;
				t = strtok_r(NULL, " \t", &save)) {
			if (n == max)
				return -1;
			fields[n++] = t;
		}
		return n;
	}
	for (;;) {
		char *e = strchr(p, sep);
		size_t len;

		if (n == max)
			return -1;
		if (e != NULL)
			*e = '\0';
		len = strlen(p);
		if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
			p[len - 1] = '\0';
			p++;
		}
		fields[n++] = p;
		if (e == NULL)
			return n;
		p = e + 1;
	}
}

/* A copy of 'line' without its leading and trailing space. */
static int
trimmed(const char *line, char *copy, size_t size)
{
	size_t len;

	while (isspace((unsigned char)*line))
		line++;
	len = strlen(line);
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	if (len >= size)
		return -1;
	memcpy(copy, line, len);
	copy[len] = '\0';
	return 0;
}

int
sg_flowlog_cloud_header(
		const char *line, struct sg_flowlog_layout *layout, char *why, size_t why_size)
{
	char copy[2048], *fields[SG_FLOWLOG_CLOUD_MAX_COLS];
	bool seen[C_COUNT] = {false};
	bool alibaba = false, aws = false;
	int n;

	if (trimmed(line, copy, sizeof(copy)) < 0 || strstr(copy, "srcaddr") == NULL ||
			(strstr(copy, "eni-id") == NULL && strstr(copy, "interface-id") == NULL))
		return 0;
	memset(layout, 0, sizeof(*layout));
	layout->sep = strchr(copy, ',') != NULL ? ',' : ' ';
	n = split(copy, layout->sep, fields, SG_FLOWLOG_CLOUD_MAX_COLS);
	if (n < 0)
		return fl_bad(why, why_size, "header line: more than %d fields",
				SG_FLOWLOG_CLOUD_MAX_COLS);
	for (int i = 0; i < n; i++) {
		enum col c = C_OTHER;

		for (size_t k = 0; k < SG_ARRAY_SIZE(col_names); k++)
			if (strcmp(fields[i], col_names[k].name) == 0)
				c = col_names[k].col;
		if (strcmp(fields[i], "eni-id") == 0 || strcmp(fields[i], "direction") == 0)
			alibaba = true;
		if (strcmp(fields[i], "interface-id") == 0 ||
				strcmp(fields[i], "flow-direction") == 0)
			aws = true;
		if (alibaba && aws)
			return fl_bad(why, why_size,
					"header line: it mixes Alibaba's (eni-id, "
					"direction) and AWS's (interface-id, "
					"flow-direction) fields");
		if (c != C_OTHER && seen[c])
			return fl_bad(why, why_size, "header line: field \"%s\" appears twice",
					fields[i]);
		seen[c] = true;
		layout->col[i] = (int8_t)c;
	}
	if (!seen[C_IFACE]) /* "eni-id" only inside another name: not a header. */
		return 0;
	layout->format = aws ? SG_FLOWLOG_AWS_V5 : SG_FLOWLOG_ALIBABA;
	layout->n_cols = (uint32_t)n;
	for (int c = C_VERSION; c < C_COUNT; c++) {
		if (seen[c] || c == C_FLAGS || c == C_VERSION)
			continue;
		for (size_t k = 0; k < SG_ARRAY_SIZE(col_names); k++) {
			if (col_names[k].col != (enum col)c)
				continue;
			if (c == C_DIRECTION && aws)
				return fl_bad(why, why_size,
						"header line: AWS flow logs without flow-direction "
						"(a version 5 field): the audit cannot tell "
						"ingress "
						"from egress");
			return fl_bad(why, why_size, "header line: no %s field", col_names[k].name);
		}
	}
	return 1;
}

void
sg_flowlog_cloud_default(enum sg_flowlog_format format, struct sg_flowlog_layout *layout)
{
	char why[8];
	int rc = sg_flowlog_cloud_header(format == SG_FLOWLOG_AWS_V5 ? aws_header : alibaba_header,
			layout, why, sizeof(why));

	(void)rc; /* Both headers are complete. */
}

static int
set_port(struct sg_flowlog_record *r, const char *id, const struct sg_flowlog_eni *enis,
		uint32_t n_enis)
{
	for (uint32_t i = 0; i < n_enis; i++)
		if (strcmp(enis[i].eni, id) == 0)
			return sg_strlcpy(r->port, enis[i].port, sizeof(r->port));
	/* sgfw writes port names, escaped; a cloud id is kept as it is. */
	if (fl_unescape_name(id, strlen(id), r->port, sizeof(r->port)) == 0)
		return 0;
	return sg_strlcpy(r->port, id, sizeof(r->port));
}

/* The direction, in the cloud's words. */
static int
set_direction(struct sg_flowlog_record *r, const char *v, enum sg_flowlog_format format, char *why,
		size_t size)
{
	bool aws = format == SG_FLOWLOG_AWS_V5;

	if (strcmp(v, aws ? "ingress" : "in") == 0)
		r->dir = SG_DIR_INGRESS;
	else if (strcmp(v, aws ? "egress" : "out") == 0)
		r->dir = SG_DIR_EGRESS;
	else if (aws)
		return fl_bad(why, size, "flow-direction \"%s\" is not ingress or egress", v);
	else
		return fl_bad(why, size, "direction \"%s\" is not in or out", v);
	return 0;
}

static const char *
col_name(enum col c, enum sg_flowlog_format format)
{
	if (c == C_IFACE)
		return format == SG_FLOWLOG_AWS_V5 ? "interface-id" : "eni-id";
	if (c == C_DIRECTION)
		return format == SG_FLOWLOG_AWS_V5 ? "flow-direction" : "direction";
	for (size_t k = 0; k < SG_ARRAY_SIZE(col_names); k++)
		if (col_names[k].col == c)
			return col_names[k].name;
	return "?";
}

int
sg_flowlog_parse_cloud(const char *line, const struct sg_flowlog_layout *layout,
		const struct sg_flowlog_eni *enis, uint32_t n_enis, struct sg_flowlog_record *rec,
		char *why, size_t why_size)
{
	char copy[2048], *fields[SG_FLOWLOG_CLOUD_MAX_COLS + 1];
	const char *val[C_COUNT] = {NULL};
	int n, rc;

	memset(rec, 0, sizeof(*rec));
	rec->version = SG_FLOWLOG_VERSION;
	rec->format = layout->format;
	if (trimmed(line, copy, sizeof(copy)) < 0)
		return fl_bad(why, why_size, "line too long");
	if (copy[0] == '\0' || copy[0] == '#')
		return 0;
	n = split(copy, layout->sep, fields, SG_FLOWLOG_CLOUD_MAX_COLS + 1);
	if (n < 0)
		return fl_bad(why, why_size, "more than %u fields, as many as in the header",
				layout->n_cols);
	if (n != (int)layout->n_cols)
		return fl_bad(why, why_size, "%d fields, not %u as in the header", n,
				layout->n_cols);
	for (int i = 0; i < n; i++)
		if (layout->col[i] != C_OTHER)
			val[layout->col[i]] = fields[i];
	if (val[C_STATUS] == NULL || strcmp(val[C_STATUS], "OK") == 0)
		rec->status = SG_FLOWLOG_OK;
	else if (strcmp(val[C_STATUS], "NODATA") == 0)
		rec->status = SG_FLOWLOG_NODATA;
	else if (strcmp(val[C_STATUS], "SKIPDATA") == 0)
		rec->status = SG_FLOWLOG_SKIPDATA;
	else
		return fl_bad(why, why_size, "log-status \"%s\" is not OK, NODATA or SKIPDATA",
				val[C_STATUS]);
	/* A cloud's SKIPDATA line does not say how many records it lost: at least one. */
	if (rec->status == SG_FLOWLOG_SKIPDATA)
		rec->packets = 1;
	for (int c = C_IFACE; c < C_COUNT; c++) {
		const char *v = val[c];
		bool optional = c == C_FLAGS || c == C_STATUS ||
				(rec->status != SG_FLOWLOG_OK && c != C_START && c != C_END &&
						(c != C_IFACE ||
								rec->status == SG_FLOWLOG_SKIPDATA));

		if (v == NULL || strcmp(v, "-") == 0 || *v == '\0') {
			if (!optional)
				return fl_bad(why, why_size, "%s is empty",
						col_name((enum col)c, layout->format));
			continue;
		}
		if (c == C_IFACE) {
			if (set_port(rec, v, enis, n_enis) < 0)
				return fl_bad(why, why_size, "%s \"%s\" is too long",
						col_name(C_IFACE, layout->format), v);
			continue;
		}
		if (c == C_STATUS)
			continue;
		rc = c == C_DIRECTION ? set_direction(rec, v, layout->format, why, why_size)
		     : c == C_FLAGS   ? fl_set_field(rec, "tcp_flags", v, why, why_size)
				      : fl_set_field(rec, col_name((enum col)c, layout->format), v,
							why, why_size);
		if (rc < 0)
			return rc;
	}
	return 1;
}
