/* SPDX-License-Identifier: BSD-3-Clause */
/* One flow-log line: its text and JSON forms, the parser that reads either back, and reading a
 * directory of log files in time order. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flowlog_private.h"
#include "sg_flowlog.h"
#include <jansson.h>

#include "sg_json.h"

const char sg_flowlog_text_header[] = "version port srcaddr srcport dstaddr dstport protocol "
				      "direction packets bytes start end log-status action "
				      "tcp-flags rule";

const char *const fl_status_names[3] = {
	[SG_FLOWLOG_OK] = "OK",
	[SG_FLOWLOG_NODATA] = "NODATA",
	[SG_FLOWLOG_SKIPDATA] = "SKIPDATA",
};

#define TEXT_FIELDS 16

/* ---- Names ---- */

/* Names are free text in the config: a space would break the text format, so bytes outside
 * printable ASCII, '%' and a lone "-" (the empty field) are written as %XX. */
const char *
fl_escape_name(const char *name, char *buf, size_t size)
{
	size_t used = 0;

	if (strcmp(name, "-") == 0)
		return snprintf(buf, size, "%%2D"), buf;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0' && used + 4 < size;
			p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '%')
			used += (size_t)snprintf(buf + used, size - used, "%%%02X", *p);
		else
			buf[used++] = (char)*p;
	}
	buf[used] = '\0';
	return buf;
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
fl_unescape_name(const char *text, size_t len, char *out, size_t size)
{
	size_t used = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)text[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len || (hi = hex_value(text[i + 1])) < 0 ||
					(lo = hex_value(text[i + 2])) < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
		}
		if (used + 1 >= size || c == 0)
			return -EINVAL;
		out[used++] = (char)c;
	}
	out[used] = '\0';
	return used > 0 ? 0 : -EINVAL;
}

static const char *
default_label(enum sg_group_type type, enum sg_dir dir)
{
	static const char *const labels[2][SG_DIR_COUNT] = {
		[SG_GROUP_BASIC] = {[SG_DIR_INGRESS] = "default-basic-ingress",
				[SG_DIR_EGRESS] = "default-basic-egress"},
		[SG_GROUP_ENTERPRISE] = {[SG_DIR_INGRESS] = "default-enterprise-ingress",
				[SG_DIR_EGRESS] = "default-enterprise-egress"},
	};

	return labels[type][dir];
}

const char *
sg_flowlog_rule_label(const struct sg_flowlog_rule_ref *rule, char *buf, size_t size)
{
	char group[SG_NAME_MAX * 3 + 1];

	switch (rule->kind) {
	case SG_FLOWLOG_RULE_USER:
		snprintf(buf, size, "%s/%u", fl_escape_name(rule->group, group, sizeof(group)),
				rule->index);
		break;
	case SG_FLOWLOG_RULE_INNER:
		snprintf(buf, size, "%s/inner", fl_escape_name(rule->group, group, sizeof(group)));
		break;
	case SG_FLOWLOG_RULE_DEFAULT:
		snprintf(buf, size, "%s", default_label(rule->type, rule->dir));
		break;
	default:
		snprintf(buf, size, "-");
	}
	return buf;
}

int
sg_flowlog_rule_parse(const char *label, struct sg_flowlog_rule_ref *rule)
{
	const char *slash = strrchr(label, '/');

	memset(rule, 0, sizeof(*rule));
	if (strcmp(label, "-") == 0)
		return 0;
	if (slash == NULL) {
		for (int t = 0; t < 2; t++) {
			for (int d = 0; d < SG_DIR_COUNT; d++) {
				if (strcmp(label, default_label((enum sg_group_type)t, (enum sg_dir)d)) ==
						0) {
					rule->kind = SG_FLOWLOG_RULE_DEFAULT;
					rule->type = (enum sg_group_type)t;
					rule->dir = (enum sg_dir)d;
					return 0;
				}
			}
		}
		return -EINVAL;
	}
	if (fl_unescape_name(label, (size_t)(slash - label), rule->group, sizeof(rule->group)) < 0)
		return -EINVAL;
	if (strcmp(slash + 1, "inner") == 0) {
		rule->kind = SG_FLOWLOG_RULE_INNER;
		return 0;
	}
	{
		char *end;
		unsigned long n = strtoul(slash + 1, &end, 10);

		if (!isdigit((unsigned char)slash[1]) || *end != '\0' || n == 0 || n > UINT32_MAX)
			return -EINVAL;
		rule->kind = SG_FLOWLOG_RULE_USER;
		rule->index = (uint32_t)n;
	}
	return 0;
}


/* ---- Writing ---- */

static void
write_json(FILE *out, const struct sg_flowlog_record *r)
{
	char buf[SG_IP_STRLEN], label[SG_NAME_MAX * 3 + 32];
	struct sg_json j;

	sg_json_init(&j, out, false);
	sg_json_object_open(&j, NULL);
	sg_json_uint(&j, "version", r->version);
	if (r->status != SG_FLOWLOG_SKIPDATA || r->port[0] != '\0')
		sg_json_string(&j, "port", r->port);
	if (r->status == SG_FLOWLOG_OK) {
		sg_json_string(&j, "srcaddr", sg_ip_format(&r->src, buf, sizeof(buf)));
		sg_json_uint(&j, "srcport", r->sport);
		sg_json_string(&j, "dstaddr", sg_ip_format(&r->dst, buf, sizeof(buf)));
		sg_json_uint(&j, "dstport", r->dport);
		sg_json_uint(&j, "protocol", r->proto);
		sg_json_string(&j, "direction", sg_dir_name(r->dir));
	}
	if (r->status != SG_FLOWLOG_NODATA)
		sg_json_uint(&j, "packets", r->packets);
	if (r->status == SG_FLOWLOG_OK)
		sg_json_uint(&j, "bytes", r->bytes);
	sg_json_int(&j, "start", r->start);
	sg_json_int(&j, "end", r->end);
	sg_json_string(&j, "log_status", fl_status_names[r->status]);
	if (r->status == SG_FLOWLOG_OK) {
		sg_json_string(&j, "action", r->action == SG_ACTION_ACCEPT ? "ACCEPT" : "REJECT");
		sg_json_uint(&j, "tcp_flags", r->tcp_flags);
		sg_json_string(&j, "rule", sg_flowlog_rule_label(&r->rule, label, sizeof(label)));
		if (r->rule.kind == SG_FLOWLOG_RULE_USER || r->rule.kind == SG_FLOWLOG_RULE_INNER)
			sg_json_string(&j, "group", r->rule.group);
		if (r->rule.kind == SG_FLOWLOG_RULE_USER)
			sg_json_uint(&j, "rule_index", r->rule.index);
	}
	sg_json_object_close(&j);
	sg_json_finish(&j);
}

static void
write_text(FILE *out, const struct sg_flowlog_record *r)
{
	char src[SG_IP_STRLEN], dst[SG_IP_STRLEN], port[SG_NAME_MAX * 3 + 1];
	char label[SG_NAME_MAX * 3 + 32];

	switch (r->status) {
	case SG_FLOWLOG_NODATA:
		fprintf(out, "%u %s - - - - - - - - %" PRId64 " %" PRId64 " NODATA - - -\n",
				r->version, fl_escape_name(r->port, port, sizeof(port)), r->start, r->end);
		return;
	case SG_FLOWLOG_SKIPDATA:
		/* The port whose records were lost, or "-" when they cannot be told apart. */
		fprintf(out, "%u %s - - - - - - %" PRIu64 " - %" PRId64 " %" PRId64
			     " SKIPDATA - - -\n",
				r->version,
				r->port[0] != '\0' ? fl_escape_name(r->port, port, sizeof(port)) : "-",
				r->packets, r->start, r->end);
		return;
	default:
		break;
	}
	fprintf(out,
			"%u %s %s %u %s %u %u %s %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64
			" OK %s %u %s\n",
			r->version, fl_escape_name(r->port, port, sizeof(port)),
			sg_ip_format(&r->src, src, sizeof(src)), r->sport,
			sg_ip_format(&r->dst, dst, sizeof(dst)), r->dport, r->proto, sg_dir_name(r->dir),
			r->packets, r->bytes, r->start, r->end,
			r->action == SG_ACTION_ACCEPT ? "ACCEPT" : "REJECT", r->tcp_flags,
			sg_flowlog_rule_label(&r->rule, label, sizeof(label)));
}

int
sg_flowlog_write_record(FILE *out, const struct sg_flowlog_record *rec,
		enum sg_flowlog_format format)
{
	if (format == SG_FLOWLOG_JSON)
		write_json(out, rec);
	else if (format == SG_FLOWLOG_ALIBABA || format == SG_FLOWLOG_AWS_V5)
		fl_write_cloud(out, rec, format);
	else
		write_text(out, rec);
	return ferror(out) ? -EIO : 0;
}

/* ---- Parsing ---- */

int
fl_bad(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int
fl_parse_u64(const char *text, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
fl_parse_i64(const char *text, int64_t *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)*text) && *text != '-')
		return -EINVAL;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

/* Field values shared by all formats, checked and stored. */
int
fl_set_field(struct sg_flowlog_record *r, const char *key, const char *value, char *why,
		size_t size)
{
	uint64_t v;

	if (strcmp(key, "version") == 0) {
		if (fl_parse_u64(value, UINT32_MAX, &v) < 0 || v != SG_FLOWLOG_VERSION)
			return fl_bad(why, size, "version \"%s\" is not %d", value, SG_FLOWLOG_VERSION);
		r->version = (uint32_t)v;
	} else if (strcmp(key, "port") == 0) {
		if (sg_strlcpy(r->port, value, sizeof(r->port)) < 0 || *value == '\0')
			return fl_bad(why, size, "port \"%s\" is not a port name", value);
	} else if (strcmp(key, "srcaddr") == 0 || strcmp(key, "dstaddr") == 0) {
		if (sg_ip_parse(value, key[0] == 's' ? &r->src : &r->dst) < 0)
			return fl_bad(why, size, "%s \"%s\" is not an address", key, value);
	} else if (strcmp(key, "srcport") == 0 || strcmp(key, "dstport") == 0) {
		if (fl_parse_u64(value, UINT16_MAX, &v) < 0)
			return fl_bad(why, size, "%s \"%s\" is not a port number", key, value);
		*(key[0] == 's' ? &r->sport : &r->dport) = (uint16_t)v;
	} else if (strcmp(key, "protocol") == 0) {
		if (fl_parse_u64(value, 255, &v) < 0)
			return fl_bad(why, size, "protocol \"%s\" is not 0..255", value);
		r->proto = (uint8_t)v;
	} else if (strcmp(key, "direction") == 0) {
		if (strcmp(value, "ingress") == 0)
			r->dir = SG_DIR_INGRESS;
		else if (strcmp(value, "egress") == 0)
			r->dir = SG_DIR_EGRESS;
		else
			return fl_bad(why, size, "direction \"%s\" is not ingress or egress", value);
	} else if (strcmp(key, "packets") == 0 || strcmp(key, "bytes") == 0) {
		if (fl_parse_u64(value, UINT64_MAX, &v) < 0)
			return fl_bad(why, size, "%s \"%s\" is not a count", key, value);
		*(key[0] == 'p' ? &r->packets : &r->bytes) = v;
	} else if (strcmp(key, "start") == 0 || strcmp(key, "end") == 0) {
		if (fl_parse_i64(value, key[0] == 's' ? &r->start : &r->end) < 0)
			return fl_bad(why, size, "%s \"%s\" is not a time", key, value);
	} else if (strcmp(key, "log_status") == 0) {
		size_t k;

		for (k = 0; k < SG_ARRAY_SIZE(fl_status_names); k++)
			if (strcmp(value, fl_status_names[k]) == 0)
				break;
		if (k == SG_ARRAY_SIZE(fl_status_names))
			return fl_bad(why, size, "log-status \"%s\" is not OK, NODATA or SKIPDATA", value);
		r->status = (enum sg_flowlog_status)k;
	} else if (strcmp(key, "action") == 0) {
		if (strcmp(value, "ACCEPT") == 0)
			r->action = SG_ACTION_ACCEPT;
		else if (strcmp(value, "REJECT") == 0)
			r->action = SG_ACTION_DROP;
		else
			return fl_bad(why, size, "action \"%s\" is not ACCEPT or REJECT", value);
	} else if (strcmp(key, "tcp_flags") == 0) {
		if (fl_parse_u64(value, 255, &v) < 0)
			return fl_bad(why, size, "tcp-flags \"%s\" is not 0..255", value);
		r->tcp_flags = (uint8_t)v;
	} else if (strcmp(key, "rule") == 0) {
		if (sg_flowlog_rule_parse(value, &r->rule) < 0)
			return fl_bad(why, size, "rule \"%s\" is not a rule label", value);
	}
	/* Other keys (group, rule_index: repeated in the label) are ignored. */
	return 0;
}

static const char *const text_keys[TEXT_FIELDS] = {
	"version", "port", "srcaddr", "srcport", "dstaddr", "dstport", "protocol", "direction",
	"packets", "bytes", "start", "end", "log_status", "action", "tcp_flags", "rule",
};

static int
parse_text(char *line, struct sg_flowlog_record *r, char *why, size_t size)
{
	char *fields[TEXT_FIELDS + 1], *save = NULL, *tok;
	int n = 0, rc;

	for (tok = strtok_r(line, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
		if (n == TEXT_FIELDS)
			return fl_bad(why, size, "more than %d fields", TEXT_FIELDS);
		fields[n++] = tok;
	}
	if (n != TEXT_FIELDS)
		return fl_bad(why, size, "%d fields, not %d", n, TEXT_FIELDS);
	if ((rc = fl_set_field(r, "log_status", fields[12], why, size)) < 0)
		return rc;
	for (int i = 0; i < TEXT_FIELDS; i++) {
		if (strcmp(fields[i], "-") == 0) {
			/* Absent: only where the status leaves the field empty. */
			bool may = (r->status == SG_FLOWLOG_NODATA && (i >= 2 && i <= 9)) ||
				   (r->status == SG_FLOWLOG_NODATA && i >= 13) ||
				   (r->status == SG_FLOWLOG_SKIPDATA && i != 0 && i != 8 && i != 10 &&
						   i != 11 && i != 12) ||
				   i == 15;
			if (!may)
				return fl_bad(why, size, "%s is empty (\"-\")", text_keys[i]);
			continue;
		}
		if (i == 1) {
			if (fl_unescape_name(fields[i], strlen(fields[i]), r->port, sizeof(r->port)) < 0)
				return fl_bad(why, size, "port \"%s\" is not a port name", fields[i]);
			continue;
		}
		if ((rc = fl_set_field(r, text_keys[i], fields[i], why, size)) < 0)
			return rc;
	}
	return 1;
}

/* A JSON record: a flat object of strings, integers, booleans and nulls (null: absent). */
static int
parse_json(const char *p, struct sg_flowlog_record *r, char *why, size_t size)
{
	json_error_t jerr;
	json_t *obj = json_loads(p, JSON_REJECT_DUPLICATES, &jerr), *value;
	const char *key;
	int rc = 1;

	if (obj == NULL)
		return fl_bad(why, size, "JSON: %s (column %d)", jerr.text, jerr.column);
	if (!json_is_object(obj))
		rc = fl_bad(why, size, "JSON: a record is an object");
	json_object_foreach(obj, key, value)
	{
		char text[SG_NAME_MAX * 4];

		if (rc < 0)
			break;
		if (json_is_null(value))
			continue;
		if (json_is_string(value)) {
			if (json_string_length(value) >= sizeof(text))
				rc = fl_bad(why, size, "JSON: value of \"%s\" too long", key);
			else if (strlen(json_string_value(value)) != json_string_length(value))
				rc = fl_bad(why, size, "JSON: value of \"%s\" holds a NUL", key);
			else
				snprintf(text, sizeof(text), "%s", json_string_value(value));
		} else if (json_is_integer(value)) {
			snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
					json_integer_value(value));
		} else if (json_is_boolean(value)) {
			snprintf(text, sizeof(text), "%s", json_is_true(value) ? "true" : "false");
		} else {
			rc = fl_bad(why, size, "JSON: \"%s\" is not a string, an integer or a boolean",
					key);
		}
		if (rc > 0 && (rc = fl_set_field(r, key, text, why, size)) >= 0)
			rc = 1;
	}
	json_decref(obj);
	if (rc < 0)
		return rc;
	if (r->version != SG_FLOWLOG_VERSION)
		return fl_bad(why, size, "JSON: no version");
	if (r->status != SG_FLOWLOG_SKIPDATA && r->port[0] == '\0')
		return fl_bad(why, size, "JSON: no port");
	return 1;
}

int
sg_flowlog_parse_line(const char *line, struct sg_flowlog_record *rec, char *why,
		size_t why_size)
{
	char copy[1024];
	size_t len;
	const char *p = line;

	memset(rec, 0, sizeof(*rec));
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#' || strncmp(p, "version ", 8) == 0)
		return 0;
	if (*p == '{')
		return parse_json(p, rec, why, why_size);
	len = strlen(p);
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	if (len >= sizeof(copy))
		return fl_bad(why, why_size, "line too long");
	memcpy(copy, p, len);
	copy[len] = '\0';
	return parse_text(copy, rec, why, why_size);
}

/* ---- Reading files ---- */

static bool
ends_with(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && strcmp(name + n - k, suffix) == 0;
}

static bool
is_log_name(const char *name)
{
	if (strncmp(name, "sgfw-flows-", 11) != 0)
		return false;
	return ends_with(name, ".log") || ends_with(name, ".jsonl");
}

/* sgfw's files, and the names cloud exports may have (read only if they are cloud files). */
static int
log_filter(const struct dirent *d)
{
	return is_log_name(d->d_name) || ends_with(d->d_name, ".log") ||
	       ends_with(d->d_name, ".csv") || ends_with(d->d_name, ".txt");
}

/* How a file's lines are read: sgfw's own formats, or a cloud's columns. */
struct file_state {
	bool told;               /* The first line has said the format. */
	bool cloud;
	struct sg_flowlog_layout layout;
};

/* Parse one line of a file; the first line that holds something tells the file's format. */
static int
parse_file_line(const char *line, const struct sg_flowlog_read_opts *o, struct file_state *fs,
		struct sg_flowlog_record *rec, char *why, size_t size)
{
	struct sg_flowlog_layout head;
	int rc = sg_flowlog_cloud_header(line, &head, why, size);

	if (rc < 0)
		return rc;
	if (rc > 0) {
		/* A header, first or repeated (concatenated exports): it sets the columns. */
		fs->told = fs->cloud = true;
		fs->layout = head;
		return 0;
	}
	if (!fs->told) {
		const char *p = line;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			return 0;
		fs->told = true;
		if (o->format == SG_FLOWLOG_ALIBABA || o->format == SG_FLOWLOG_AWS_V5) {
			fs->cloud = true;
			sg_flowlog_cloud_default((enum sg_flowlog_format)o->format, &fs->layout);
		}
	}
	if (fs->cloud)
		return sg_flowlog_parse_cloud(line, &fs->layout, o->enis, o->n_enis, rec, why, size);
	rc = sg_flowlog_parse_line(line, rec, why, size);
	if (rc > 0 && strchr(line, '{') != NULL)
		rec->format = SG_FLOWLOG_JSON;
	return rc;
}

/* Read one file; returns 1 when the callback asked to stop. A file that is not sgfw's by name
 * ('must_tell') is read only if its first line is a cloud header (or opts say its format). */
static int
read_file(const char *path, bool must_tell, const struct sg_flowlog_read_opts *o,
		sg_flowlog_read_cb cb, void *arg, struct sg_flowlog_read_stats *st,
		struct sg_error *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, why[160];
	size_t cap = 0;
	uint64_t lineno = 0;
	struct file_state fs = {.told = false};
	int stop = 0, format = -1;

	if (f == NULL)
		return sg_error_set(err, 0, "%s: cannot open: %s", path, strerror(errno)), -errno;
	while (getline(&line, &cap, f) >= 0) {
		struct sg_flowlog_record rec;
		bool was_told = fs.told;
		int rc = parse_file_line(line, o, &fs, &rec, why, sizeof(why));

		lineno++;
		if (!was_told && fs.told) {
			if (must_tell && !fs.cloud)
				break; /* Not a flow-log file. */
			format = fs.cloud ? (int)fs.layout.format :
				 strchr(line, '{') != NULL ? SG_FLOWLOG_JSON : SG_FLOWLOG_TEXT;
			st->files++;
			st->files_by_format[format]++;
		}
		st->lines++;
		if (rc < 0) {
			if (st->bad_lines++ == 0)
				snprintf(st->first_bad, sizeof(st->first_bad), "%s:%" PRIu64 ": %s", path,
						lineno, why);
			continue;
		}
		if (rc == 0)
			continue;
		st->records++;
		if (st->records == 1 || rec.start < st->first_start)
			st->first_start = rec.start;
		if (rec.end > st->last_end)
			st->last_end = rec.end;
		if (cb != NULL && cb(&rec, arg) != 0) {
			stop = 1;
			break;
		}
	}
	if (format < 0 && !must_tell)
		st->files++; /* Empty, or only blank lines and comments. */
	free(line);
	fclose(f);
	return stop;
}

int
sg_flowlog_read_with(const char *path, const struct sg_flowlog_read_opts *opts,
		sg_flowlog_read_cb cb, void *arg, struct sg_flowlog_read_stats *stats,
		struct sg_error *err)
{
	static const struct sg_flowlog_read_opts own = {.format = -1};
	const struct sg_flowlog_read_opts *o = opts != NULL ? opts : &own;
	bool cloud = o->format == SG_FLOWLOG_ALIBABA || o->format == SG_FLOWLOG_AWS_V5;
	struct sg_flowlog_read_stats local;
	struct sg_flowlog_read_stats *st = stats != NULL ? stats : &local;
	struct dirent **names = NULL;
	struct stat sb;
	int n, rc = 0;

	memset(st, 0, sizeof(*st));
	if (stat(path, &sb) != 0) {
		rc = -errno;
		sg_error_set(err, 0, "flow logs %s: %s", path, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(sb.st_mode)) {
		rc = read_file(path, false, o, cb, arg, st, err);
		return rc < 0 ? rc : 0;
	}
	n = scandir(path, &names, log_filter, alphasort);
	if (n < 0) {
		rc = -errno;
		sg_error_set(err, 0, "flow logs %s: cannot list: %s", path, strerror(errno));
		return rc;
	}
	for (int i = 0; i < n; i++) {
		char file[SG_PATH_MAX * 2];

		snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
		if (rc == 0) {
			int r = read_file(file, !cloud && !is_log_name(names[i]->d_name), o, cb, arg, st,
					err);

			if (r < 0)
				rc = r;
			else if (r > 0)
				rc = 1;
		}
		free(names[i]);
	}
	free(names);
	if (rc == 0 && st->files == 0)
		rc = sg_error_set(err, 0,
				"flow logs %s: no log files (sgfw-flows-*.log or *.jsonl, or Alibaba or "
				"AWS exports: *.log, *.csv or *.txt starting with their header line)",
				path);
	return rc < 0 ? rc : 0;
}

int
sg_flowlog_read(const char *path, sg_flowlog_read_cb cb, void *arg,
		struct sg_flowlog_read_stats *stats, struct sg_error *err)
{
	return sg_flowlog_read_with(path, NULL, cb, arg, stats, err);
}
