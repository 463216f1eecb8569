/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/common: IP, CIDR and MAC parsing, formatting and matching, sg_strlcpy,
 * the error record and the JSON writer (exact output strings). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sg_common.h"
#include "sg_json.h"

/* ---- Addresses ---- */

static const struct {
	const char *name;
	const char *text;
	int rc;
	uint8_t family;
	const char *formatted; /* sg_ip_format of the result */
} ip_rows[] = {
	{"ipv4", "10.1.2.3", 0, SG_AF_INET, "10.1.2.3"},
	{"ipv4 zero", "0.0.0.0", 0, SG_AF_INET, "0.0.0.0"},
	{"ipv4 broadcast", "255.255.255.255", 0, SG_AF_INET, "255.255.255.255"},
	{"ipv6", "2001:db8::1", 0, SG_AF_INET6, "2001:db8::1"},
	{"ipv6 long form is compressed", "2001:0db8:0000:0000:0000:0000:0000:0001", 0, SG_AF_INET6,
			"2001:db8::1"},
	{"ipv6 unspecified", "::", 0, SG_AF_INET6, "::"},
	{"ipv6 link-local", "fe80::5054:ff:fe01:b", 0, SG_AF_INET6, "fe80::5054:ff:fe01:b"},
	{"ipv4-mapped ipv6 stays ipv6", "::ffff:10.1.2.3", 0, SG_AF_INET6, "::ffff:10.1.2.3"},
	{"empty", "", -EINVAL, 0, NULL},
	{"three octets", "10.1.2", -EINVAL, 0, NULL},
	{"octet 256", "10.1.2.256", -EINVAL, 0, NULL},
	{"cidr is not an address", "10.0.0.0/8", -EINVAL, 0, NULL},
	{"leading space", " 10.1.2.3", -EINVAL, 0, NULL},
	{"junk", "web1", -EINVAL, 0, NULL},
	{"bad ipv6 hex", "2001:dg8::1", -EINVAL, 0, NULL},
	{"two ipv6 gaps", "2001::db8::1", -EINVAL, 0, NULL},
};

START_TEST(test_ip_parse_format)
{
	const __typeof__(ip_rows[0]) *row = &ip_rows[_i];
	char buf[SG_IP_STRLEN];
	struct sg_ip ip;
	int rc;

	memset(&ip, 0xaa, sizeof(ip));
	rc = sg_ip_parse(row->text, &ip);
	ck_assert_msg(rc == row->rc, "%s: sg_ip_parse(\"%s\") = %d, want %d", row->name, row->text,
			rc, row->rc);
	if (row->rc != 0)
		return;
	ck_assert_msg(ip.family == row->family, "%s: family %u, want %u", row->name, ip.family,
			row->family);
	if (ip.family == SG_AF_INET)
		for (int i = 4; i < 16; i++)
			ck_assert_msg(ip.bytes[i] == 0, "%s: IPv4 byte %d is %u, want 0", row->name,
					i, ip.bytes[i]);
	ck_assert_msg(strcmp(sg_ip_format(&ip, buf, sizeof(buf)), row->formatted) == 0,
			"%s: formatted \"%s\", want \"%s\"", row->name, buf, row->formatted);
}
END_TEST

START_TEST(test_ip_parse_null)
{
	struct sg_ip ip;

	ck_assert_int_eq(sg_ip_parse(NULL, &ip), -EINVAL);
}
END_TEST

START_TEST(test_ip_bytes_and_compare)
{
	struct sg_ip a, b, c, v6;

	ck_assert_int_eq(sg_ip_parse("10.1.2.3", &a), 0);
	ck_assert_int_eq(a.bytes[0], 10);
	ck_assert_int_eq(a.bytes[1], 1);
	ck_assert_int_eq(a.bytes[2], 2);
	ck_assert_int_eq(a.bytes[3], 3);
	ck_assert_int_eq(sg_ip_parse("10.1.2.3", &b), 0);
	ck_assert_int_eq(sg_ip_parse("10.1.2.4", &c), 0);
	ck_assert_int_eq(sg_ip_parse("::a01:203", &v6), 0);
	ck_assert(sg_ip_equal(&a, &b));
	ck_assert(!sg_ip_equal(&a, &c));
	ck_assert(!sg_ip_equal(&a, &v6));
	ck_assert_int_eq(sg_ip_cmp(&a, &b), 0);
	ck_assert_int_lt(sg_ip_cmp(&a, &c), 0);
	ck_assert_int_gt(sg_ip_cmp(&c, &a), 0);
	/* IPv4 sorts before IPv6 whatever the bytes. */
	ck_assert_int_lt(sg_ip_cmp(&a, &v6), 0);
	ck_assert_int_gt(sg_ip_cmp(&v6, &a), 0);
}
END_TEST

static const struct {
	const char *name;
	const char *text;
	int rc;
	const char *formatted; /* after sg_prefix_normalize when rc is -EDOM */
} prefix_rows[] = {
	{"ipv4 /8", "10.0.0.0/8", 0, "10.0.0.0/8"},
	{"ipv4 /24", "10.1.0.0/24", 0, "10.1.0.0/24"},
	{"ipv4 any", "0.0.0.0/0", 0, "0.0.0.0/0"},
	{"ipv4 /32", "10.1.0.5/32", 0, "10.1.0.5/32"},
	{"bare ipv4 is a host prefix", "10.1.0.5", 0, "10.1.0.5/32"},
	{"ipv4 /1", "128.0.0.0/1", 0, "128.0.0.0/1"},
	{"ipv4 /23 aligned", "192.0.2.0/23", 0, "192.0.2.0/23"},
	{"ipv4 /23 host bit", "192.0.3.0/23", -EDOM, "192.0.2.0/23"},
	{"ipv4 host bits", "10.1.0.5/24", -EDOM, "10.1.0.0/24"},
	{"ipv4 host bits /0", "10.0.0.0/0", -EDOM, "0.0.0.0/0"},
	{"ipv4 /33", "10.0.0.0/33", -EINVAL, NULL},
	{"ipv4 no length", "10.0.0.0/", -EINVAL, NULL},
	{"ipv4 negative length", "10.0.0.0/-1", -EINVAL, NULL},
	{"ipv4 length junk", "10.0.0.0/8x", -EINVAL, NULL},
	{"ipv4 length space", "10.0.0.0/ 8", -EINVAL, NULL},
	{"two slashes", "10.0.0.0/8/8", -EINVAL, NULL},
	{"no address", "/8", -EINVAL, NULL},
	{"junk", "any", -EINVAL, NULL},
	{"empty", "", -EINVAL, NULL},
	{"bad address", "10.0.0.256/32", -EINVAL, NULL},
	{"over-long address", "2001:0db8:0000:0000:0000:0000:0000:0001:0001:0001/64", -EINVAL,
			NULL},
	{"ipv6 /32", "2001:db8::/32", 0, "2001:db8::/32"},
	{"ipv6 any", "::/0", 0, "::/0"},
	{"bare ipv6 is a host prefix", "2001:db8::1", 0, "2001:db8::1/128"},
	{"ipv6 /33 aligned", "2001:db8:8000::/33", 0, "2001:db8:8000::/33"},
	{"ipv6 /33 host bit", "2001:db8:4000::/33", -EDOM, "2001:db8::/33"},
	{"ipv6 host bits", "2001:db8::1/64", -EDOM, "2001:db8::/64"},
	{"ipv6 /128", "2001:db8::1/128", 0, "2001:db8::1/128"},
	{"ipv6 /129", "2001:db8::/129", -EINVAL, NULL},
	{"ipv6 /33 is fine for ipv6", "2001:db8::/33", 0, "2001:db8::/33"},
};

START_TEST(test_prefix_parse)
{
	const __typeof__(prefix_rows[0]) *row = &prefix_rows[_i];
	char buf[SG_PREFIX_STRLEN];
	struct sg_prefix prefix;
	int rc;

	rc = sg_prefix_parse(row->text, &prefix);
	ck_assert_msg(rc == row->rc, "%s: sg_prefix_parse(\"%s\") = %d, want %d", row->name,
			row->text, rc, row->rc);
	if (row->formatted == NULL)
		return;
	if (rc == -EDOM)
		sg_prefix_normalize(&prefix);
	ck_assert_msg(strcmp(sg_prefix_format(&prefix, buf, sizeof(buf)), row->formatted) == 0,
			"%s: formatted \"%s\", want \"%s\"", row->name, buf, row->formatted);
}
END_TEST

START_TEST(test_prefix_parse_null)
{
	struct sg_prefix prefix;

	ck_assert_int_eq(sg_prefix_parse(NULL, &prefix), -EINVAL);
}
END_TEST

static struct sg_prefix
prefix_of(const char *text)
{
	struct sg_prefix prefix;

	ck_assert_msg(sg_prefix_parse(text, &prefix) == 0, "bad test prefix \"%s\"", text);
	return prefix;
}

static struct sg_ip
ip_of(const char *text)
{
	struct sg_ip ip;

	ck_assert_msg(sg_ip_parse(text, &ip) == 0, "bad test address \"%s\"", text);
	return ip;
}

static const struct {
	const char *prefix;
	const char *ip;
	bool contains;
} contains_rows[] = {
	{"10.0.0.0/8", "10.0.0.0", true},
	{"10.0.0.0/8", "10.255.255.255", true},
	{"10.0.0.0/8", "11.0.0.0", false},
	{"10.0.0.0/8", "9.255.255.255", false},
	{"192.0.2.0/25", "192.0.2.127", true},
	{"192.0.2.0/25", "192.0.2.128", false},
	{"192.0.2.128/25", "192.0.2.128", true},
	{"10.1.0.5/32", "10.1.0.5", true},
	{"10.1.0.5/32", "10.1.0.4", false},
	{"0.0.0.0/0", "203.0.113.9", true},
	{"0.0.0.0/0", "2001:db8::1", false}, /* families never mix */
	{"::/0", "2001:db8::1", true},
	{"::/0", "10.0.0.1", false},
	{"2001:db8::/32", "2001:db8:ffff::1", true},
	{"2001:db8::/32", "2001:db9::", false},
	{"2001:db8::1/128", "2001:db8::1", true},
	{"2001:db8::1/128", "2001:db8::2", false},
	{"2001:db8:8000::/33", "2001:db8:ffff::", true},
	{"2001:db8:8000::/33", "2001:db8:7fff::", false},
};

START_TEST(test_prefix_contains)
{
	const __typeof__(contains_rows[0]) *row = &contains_rows[_i];
	struct sg_prefix prefix = prefix_of(row->prefix);
	struct sg_ip ip = ip_of(row->ip);

	ck_assert_msg(sg_prefix_contains(&prefix, &ip) == row->contains,
			"%s contains %s: got %d, want %d", row->prefix, row->ip, !row->contains,
			row->contains);
}
END_TEST

static const struct {
	const char *outer;
	const char *inner;
	bool covers;
} covers_rows[] = {
	{"10.0.0.0/8", "10.1.0.0/16", true},
	{"10.0.0.0/8", "10.0.0.0/8", true},
	{"10.1.0.0/16", "10.0.0.0/8", false},
	{"10.0.0.0/16", "10.0.0.0/8", false}, /* same start, larger: not covered */
	{"10.0.0.0/8", "11.0.0.0/16", false},
	{"10.0.0.0/8", "10.1.2.3/32", true},
	{"0.0.0.0/0", "10.0.0.0/8", true},
	{"0.0.0.0/0", "2001:db8::/32", false},
	{"2001:db8::/32", "2001:db8:1::/48", true},
	{"2001:db8:1::/48", "2001:db8::/32", false},
	{"::/0", "10.0.0.0/8", false},
};

START_TEST(test_prefix_covers)
{
	const __typeof__(covers_rows[0]) *row = &covers_rows[_i];
	struct sg_prefix outer = prefix_of(row->outer), inner = prefix_of(row->inner);

	ck_assert_msg(sg_prefix_covers(&outer, &inner) == row->covers,
			"%s covers %s: got %d, want %d", row->outer, row->inner, !row->covers,
			row->covers);
}
END_TEST

START_TEST(test_prefix_host_equal_normalize)
{
	struct sg_ip v4 = ip_of("10.1.0.5"), v6 = ip_of("2001:db8::5");
	struct sg_prefix h4 = sg_prefix_host(&v4), h6 = sg_prefix_host(&v6);
	struct sg_prefix a = prefix_of("10.1.0.0/24"), b = prefix_of("10.1.0.0/24");
	struct sg_prefix c = prefix_of("10.1.0.0/25");
	struct sg_prefix raw = {.ip = ip_of("10.1.255.255"), .len = 20};
	char buf[SG_PREFIX_STRLEN];

	ck_assert_int_eq(h4.len, 32);
	ck_assert(sg_ip_equal(&h4.ip, &v4));
	ck_assert_int_eq(h6.len, 128);
	ck_assert(sg_ip_equal(&h6.ip, &v6));
	ck_assert(sg_prefix_equal(&a, &b));
	ck_assert(!sg_prefix_equal(&a, &c));
	ck_assert(!sg_prefix_equal(&h4, &h6));
	sg_prefix_normalize(&raw);
	ck_assert_str_eq(sg_prefix_format(&raw, buf, sizeof(buf)), "10.1.240.0/20");
}
END_TEST

/* ---- MAC addresses ---- */

static const struct {
	const char *name;
	const char *text;
	int rc;
	const char *formatted;
} mac_rows[] = {
	{"lower case", "52:54:00:12:34:56", 0, "52:54:00:12:34:56"},
	{"upper case formats lower", "AA:BB:CC:DD:EE:0F", 0, "aa:bb:cc:dd:ee:0f"},
	{"broadcast parses", "ff:ff:ff:ff:ff:ff", 0, "ff:ff:ff:ff:ff:ff"},
	{"five octets", "52:54:00:12:34", -EINVAL, NULL},
	{"seven octets", "52:54:00:12:34:56:78", -EINVAL, NULL},
	{"dashes", "52-54-00-12-34-56", -EINVAL, NULL},
	{"bad hex", "52:54:00:12:34:5g", -EINVAL, NULL},
	{"misplaced colon", "525:4:00:12:34:56", -EINVAL, NULL},
	{"trailing junk", "52:54:00:12:34:56x", -EINVAL, NULL},
	{"single digits", "2:54:0:12:34:56:7", -EINVAL, NULL},
	{"empty", "", -EINVAL, NULL},
};

START_TEST(test_mac_parse_format)
{
	const __typeof__(mac_rows[0]) *row = &mac_rows[_i];
	char buf[SG_MAC_STRLEN];
	uint8_t mac[6];
	int rc;

	rc = sg_mac_parse(row->text, mac);
	ck_assert_msg(rc == row->rc, "%s: sg_mac_parse(\"%s\") = %d, want %d", row->name, row->text,
			rc, row->rc);
	if (rc != 0)
		return;
	ck_assert_msg(strcmp(sg_mac_format(mac, buf, sizeof(buf)), row->formatted) == 0,
			"%s: formatted \"%s\", want \"%s\"", row->name, buf, row->formatted);
}
END_TEST

START_TEST(test_mac_bytes)
{
	uint8_t mac[6];
	const uint8_t want[6] = {0x52, 0x54, 0x00, 0x01, 0x00, 0x0b};

	ck_assert_int_eq(sg_mac_parse("52:54:00:01:00:0b", mac), 0);
	ck_assert_mem_eq(mac, want, 6);
	ck_assert_int_eq(sg_mac_parse(NULL, mac), -EINVAL);
}
END_TEST

/* ---- Strings and errors ---- */

START_TEST(test_strlcpy)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(sg_strlcpy(buf, "1234567", sizeof(buf)), 0); /* exactly fits */
	ck_assert_str_eq(buf, "1234567");
	ck_assert_int_eq(sg_strlcpy(buf, "", sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(sg_strlcpy(buf, "12345678", sizeof(buf)), -ENAMETOOLONG);
	ck_assert_str_eq(buf, ""); /* never a cut-off name */
	buf[0] = 'k';
	ck_assert_int_eq(sg_strlcpy(buf, "a", 0), -ENAMETOOLONG);
	ck_assert_int_eq(buf[0], 'k'); /* size 0: nothing written */
}
END_TEST

START_TEST(test_error_set)
{
	struct sg_error err = {0};
	char long_text[600];

	ck_assert_int_eq(sg_error_set(&err, 12, "field %s value %d", "priority", 0), -EINVAL);
	ck_assert_int_eq(err.line, 12);
	ck_assert_str_eq(err.msg, "field priority value 0");
	ck_assert_int_eq(sg_error_set(NULL, 1, "ignored"), -EINVAL);
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	sg_error_set(&err, 0, "%s", long_text);
	ck_assert_uint_eq(strlen(err.msg), sizeof(err.msg) - 1);
	/* A value from the config cannot move the cursor, colour the terminal or reorder text. */
	sg_error_set(&err, 0, "group \"%s\" is defined twice", "a\x1b[31m\nb\xe2\x80\xae" "c\\d");
	ck_assert_str_eq(err.msg, "group \"a\\x1b[31m\\nb\\u{202E}c\\d\" is defined twice");
}
END_TEST

/* ---- Text ---- */

static const struct {
	const char *name;
	const char *text;
	bool utf8;
	const char *why; /* sg_name_check, NULL when it is a valid identifier */
	const char *escaped; /* sg_text_escape with backslashes escaped */
} text_rows[] = {
	{"ascii", "sg-db_1:x", true, NULL, "sg-db_1:x"},
	{"spaces, quotes and config syntax are text", "a \"b\"; } c", true, NULL, "a \"b\"; } c"},
	{"UTF-8 letters", "caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x94\xa5", true, NULL,
			"caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x94\xa5"},
	{"newline", "a\nb", true, "holds the control character U+000A at byte 2", "a\\nb"},
	{"tab and CR", "\ta\r", true, "holds the control character U+0009 at byte 1", "\\ta\\r"},
	{"escape sequence", "\x1b[2J", true, "holds the control character U+001B at byte 1",
			"\\x1b[2J"},
	{"DEL", "a\x7f", true, "holds the control character U+007F at byte 2", "a\\x7f"},
	{"C1 control", "a\xc2\x9b", true, "holds the control character U+009B at byte 2",
			"a\\u{009B}"},
	{"right-to-left override", "db1\xe2\x80\xae" "2bd", true,
			"holds the Unicode bidirectional control U+202E at byte 4", "db1\\u{202E}2bd"},
	{"first strong isolate", "\xe2\x81\xa8x", true,
			"holds the Unicode bidirectional control U+2068 at byte 1", "\\u{2068}x"},
	{"right-to-left mark", "\xe2\x80\x8f", true,
			"holds the Unicode bidirectional control U+200F at byte 1", "\\u{200F}"},
	{"Arabic letter mark", "\xd8\x9c", true,
			"holds the Unicode bidirectional control U+061C at byte 1", "\\u{061C}"},
	{"line separator", "a\xe2\x80\xa8" "b", true,
			"holds the Unicode bidirectional control U+2028 at byte 2", "a\\u{2028}b"},
	{"a lone continuation byte", "a\x80", false, "is not valid UTF-8 (byte 2 is 0x80)",
			"a\\x80"},
	{"overlong slash", "\xc0\xaf", false, "is not valid UTF-8 (byte 1 is 0xc0)",
			"\\xc0\\xaf"},
	{"a surrogate", "\xed\xa0\x80", false, "is not valid UTF-8 (byte 1 is 0xed)",
			"\\xed\\xa0\\x80"},
	{"cut short", "ab\xe2\x80", false, "is not valid UTF-8 (byte 3 is 0xe2)", "ab\\xe2\\x80"},
	{"past U+10FFFF", "\xf4\x90\x80\x80", false, "is not valid UTF-8 (byte 1 is 0xf4)",
			"\\xf4\\x90\\x80\\x80"},
	{"backslash", "a\\n", true, NULL, "a\\\\n"},
};

START_TEST(test_text)
{
	const __typeof__(text_rows[0]) *row = &text_rows[_i];
	char why[128] = "", buf[256];
	int rc = sg_name_check(row->text, why, sizeof(why));

	ck_assert_msg(sg_utf8_valid(row->text) == row->utf8, "%s: utf8", row->name);
	if (row->why == NULL)
		ck_assert_msg(rc == 0, "%s: refused: %s", row->name, why);
	else
		ck_assert_msg(rc == -EINVAL && strcmp(why, row->why) == 0, "%s: \"%s\", want \"%s\"",
				row->name, why, row->why);
	sg_text_escape(row->text, buf, sizeof(buf), true);
	ck_assert_msg(strcmp(buf, row->escaped) == 0, "%s: escaped \"%s\", want \"%s\"", row->name,
			buf, row->escaped);
}
END_TEST

START_TEST(test_text_escape_fits)
{
	char buf[8];

	/* Cut at a whole escape, never inside one, and always terminated. */
	ck_assert_str_eq(sg_text_escape("ab\ncd", buf, sizeof(buf), true), "ab\\ncd");
	ck_assert_str_eq(sg_text_escape("abcdef\n", buf, sizeof(buf), true), "abcdef");
	ck_assert_str_eq(sg_text_escape("\xe2\x80\xae", buf, 4, true), "");
}
END_TEST

/* ---- JSON writer ---- */

struct json_buf {
	char *text;
	size_t len;
	FILE *out;
	struct sg_json j;
};

static void
json_begin(struct json_buf *b, bool pretty)
{
	b->text = NULL;
	b->out = open_memstream(&b->text, &b->len);
	ck_assert_ptr_nonnull(b->out);
	sg_json_init(&b->j, b->out, pretty);
}

/* Finish the document and compare it with 'want' exactly. */
static void
json_expect(struct json_buf *b, const char *want)
{
	sg_json_finish(&b->j);
	fclose(b->out);
	ck_assert_msg(strcmp(b->text, want) == 0, "JSON output\n[%s]\nwant\n[%s]", b->text, want);
	free(b->text);
}

START_TEST(test_json_escaping)
{
	struct json_buf b;

	json_begin(&b, false);
	sg_json_object_open(&b.j, NULL);
	sg_json_string(&b.j, "quote", "say \"hi\"");
	sg_json_string(&b.j, "backslash", "C:\\dir\\");
	sg_json_string(&b.j, "nl tab cr", "a\nb\tc\rd");
	sg_json_string(&b.j, "controls", "\x01\x08\x0c\x1f");
	sg_json_string(&b.j, "del and utf-8", "\x7f" "caf\xc3\xa9");
	sg_json_string(&b.j, "bidi, C1, not UTF-8", "a\xe2\x80\xae" "b\xc2\x85" "c\xff");
	sg_json_string(&b.j, "k\"e\\y", "v");
	sg_json_string(&b.j, "null string", NULL);
	sg_json_string(&b.j, "empty", "");
	sg_json_object_close(&b.j);
	json_expect(&b, "{\"quote\":\"say \\\"hi\\\"\","
			"\"backslash\":\"C:\\\\dir\\\\\","
			"\"nl tab cr\":\"a\\nb\\tc\\rd\","
			"\"controls\":\"\\u0001\\u0008\\u000c\\u001f\","
			"\"del and utf-8\":\"\\u007f" "caf\xc3\xa9\","
			"\"bidi, C1, not UTF-8\":\"a\\u202eb\\u0085c\\ufffd\","
			"\"k\\\"e\\\\y\":\"v\","
			"\"null string\":null,"
			"\"empty\":\"\"}\n");
}
END_TEST

START_TEST(test_json_scalars)
{
	struct json_buf b;

	json_begin(&b, false);
	sg_json_array_open(&b.j, NULL);
	sg_json_int(&b.j, NULL, 0);
	sg_json_int(&b.j, NULL, -42);
	sg_json_int(&b.j, NULL, INT64_MIN);
	sg_json_uint(&b.j, NULL, UINT64_MAX);
	sg_json_double(&b.j, NULL, 1.5);
	sg_json_double(&b.j, NULL, 0.25);
	sg_json_bool(&b.j, NULL, true);
	sg_json_bool(&b.j, NULL, false);
	sg_json_null(&b.j, NULL);
	sg_json_array_close(&b.j);
	json_expect(&b, "[0,-42,-9223372036854775808,18446744073709551615,1.5,0.25,true,false,"
			"null]\n");
}
END_TEST

START_TEST(test_json_nested_compact)
{
	struct json_buf b;

	json_begin(&b, false);
	sg_json_object_open(&b.j, NULL);
	sg_json_string(&b.j, "port", "db1");
	sg_json_array_open(&b.j, "rules");
	sg_json_object_open(&b.j, NULL);
	sg_json_uint(&b.j, "position", 1);
	sg_json_array_open(&b.j, "peers");
	sg_json_string(&b.j, NULL, "10.2.0.0/24");
	sg_json_string(&b.j, NULL, "10.1.0.0/24");
	sg_json_array_close(&b.j);
	sg_json_object_close(&b.j);
	sg_json_object_open(&b.j, NULL);
	sg_json_object_close(&b.j);
	sg_json_array_close(&b.j);
	sg_json_array_open(&b.j, "empty");
	sg_json_array_close(&b.j);
	sg_json_object_open(&b.j, "inner");
	sg_json_bool(&b.j, "ok", true);
	sg_json_object_close(&b.j);
	sg_json_object_close(&b.j);
	json_expect(&b, "{\"port\":\"db1\",\"rules\":[{\"position\":1,\"peers\":[\"10.2.0.0/24\","
			"\"10.1.0.0/24\"]},{}],\"empty\":[],\"inner\":{\"ok\":true}}\n");
}
END_TEST

START_TEST(test_json_nested_pretty)
{
	struct json_buf b;

	json_begin(&b, true);
	sg_json_object_open(&b.j, NULL);
	sg_json_string(&b.j, "port", "db1");
	sg_json_array_open(&b.j, "rules");
	sg_json_object_open(&b.j, NULL);
	sg_json_uint(&b.j, "position", 1);
	sg_json_object_close(&b.j);
	sg_json_object_open(&b.j, NULL);
	sg_json_object_close(&b.j);
	sg_json_array_close(&b.j);
	sg_json_array_open(&b.j, "empty");
	sg_json_array_close(&b.j);
	sg_json_object_close(&b.j);
	json_expect(&b, "{\n"
			"  \"port\": \"db1\",\n"
			"  \"rules\": [\n"
			"    {\n"
			"      \"position\": 1\n"
			"    },\n"
			"    {}\n"
			"  ],\n"
			"  \"empty\": []\n"
			"}\n");
}
END_TEST

START_TEST(test_json_top_level_scalar)
{
	struct json_buf b;

	json_begin(&b, true);
	sg_json_string(&b.j, NULL, "alone");
	json_expect(&b, "\"alone\"\n");
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc;

	tc = tcase_create("ip");
	tcase_add_loop_test(tc, test_ip_parse_format, 0, SG_ARRAY_SIZE(ip_rows));
	tcase_add_test(tc, test_ip_parse_null);
	tcase_add_test(tc, test_ip_bytes_and_compare);
	suite_add_tcase(s, tc);

	tc = tcase_create("prefix");
	tcase_add_loop_test(tc, test_prefix_parse, 0, SG_ARRAY_SIZE(prefix_rows));
	tcase_add_test(tc, test_prefix_parse_null);
	tcase_add_loop_test(tc, test_prefix_contains, 0, SG_ARRAY_SIZE(contains_rows));
	tcase_add_loop_test(tc, test_prefix_covers, 0, SG_ARRAY_SIZE(covers_rows));
	tcase_add_test(tc, test_prefix_host_equal_normalize);
	suite_add_tcase(s, tc);

	tc = tcase_create("mac");
	tcase_add_loop_test(tc, test_mac_parse_format, 0, SG_ARRAY_SIZE(mac_rows));
	tcase_add_test(tc, test_mac_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("strings");
	tcase_add_test(tc, test_strlcpy);
	tcase_add_test(tc, test_error_set);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_loop_test(tc, test_text, 0, SG_ARRAY_SIZE(text_rows));
	tcase_add_test(tc, test_text_escape_fits);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, test_json_escaping);
	tcase_add_test(tc, test_json_scalars);
	tcase_add_test(tc, test_json_nested_compact);
	tcase_add_test(tc, test_json_nested_pretty);
	tcase_add_test(tc, test_json_top_level_scalar);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *runner = srunner_create(addr_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed != 0;
}
