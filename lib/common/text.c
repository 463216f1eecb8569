/* SPDX-License-Identifier: BSD-3-Clause */
/* Text an operator writes, checked and shown safely: UTF-8 decoding, the characters an
 * identifier may not hold, and escapes that keep free text (descriptions) on one visible line
 * of a terminal, a log or an error message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sg_common.h"

int
sg_utf8_next(const char *text, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t min, c;
	int len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, c = s[0] & 0x1fu, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3, c = s[0] & 0x0fu, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, c = s[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	/* Overlong forms, UTF-16 surrogates and code points past Unicode are not text. */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

bool
sg_utf8_valid(const char *text)
{
	uint32_t cp;
	int n;

	for (; *text != '\0'; text += n)
		if ((n = sg_utf8_next(text, &cp)) == 0)
			return false;
	return true;
}

bool
sg_char_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool
sg_char_is_bidi(uint32_t cp)
{
	/* Marks, embeddings, overrides and isolates: each reorders how the text around it is
	 * shown, so "db1<RLO>2bd" reads as another name than it is. Line and paragraph
	 * separators are here too: they break a line where no newline is seen. */
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

int
sg_name_check(const char *name, char *why, size_t size)
{
	uint32_t cp;
	int n;

	for (const char *p = name; *p != '\0'; p += n) {
		n = sg_utf8_next(p, &cp);
		if (n == 0)
			return snprintf(why, size, "is not valid UTF-8 (byte %zu is 0x%02x)",
					       (size_t)(p - name) + 1, (unsigned char)*p),
			       -EINVAL;
		if (sg_char_is_control(cp))
			return snprintf(why, size, "holds the control character U+%04X at byte %zu",
					       (unsigned int)cp, (size_t)(p - name) + 1),
			       -EINVAL;
		if (sg_char_is_bidi(cp))
			return snprintf(why, size,
					       "holds the Unicode bidirectional control U+%04X at "
					       "byte %zu",
					       (unsigned int)cp, (size_t)(p - name) + 1),
			       -EINVAL;
	}
	return 0;
}

/* Append 'text' to buf[*used..size), keeping room for the NUL; false when it does not fit. */
static bool
append(char *buf, size_t size, size_t *used, const char *text, size_t len)
{
	if (*used + len >= size)
		return false;
	memcpy(buf + *used, text, len);
	*used += len;
	return true;
}

const char *
sg_text_escape(const char *text, char *buf, size_t size, bool backslash)
{
	size_t used = 0;
	uint32_t cp;
	int n;

	if (size == 0)
		return buf;
	for (const char *p = text; *p != '\0'; p += n) {
		char esc[16];
		size_t len;

		n = sg_utf8_next(p, &cp);
		if (n == 0) {
			n = 1;
			len = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", (unsigned char)*p);
		} else if (cp == '\n' || cp == '\t' || cp == '\r') {
			len = (size_t)snprintf(esc, sizeof(esc), "\\%c",
					cp == '\n'   ? 'n'
					: cp == '\t' ? 't'
						     : 'r');
		} else if (cp < 0x20 || cp == 0x7f) {
			len = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", (unsigned int)cp);
		} else if (sg_char_is_control(cp) || sg_char_is_bidi(cp)) {
			len = (size_t)snprintf(esc, sizeof(esc), "\\u{%04X}", (unsigned int)cp);
		} else if (cp == '\\' && backslash) {
			len = (size_t)snprintf(esc, sizeof(esc), "\\\\");
		} else {
			memcpy(esc, p, (size_t)n);
			len = (size_t)n;
		}
		if (!append(buf, size, &used, esc, len))
			break;
	}
	buf[used] = '\0';
	return buf;
}

static const char base64_digits[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
sg_base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *text = malloc((len + 2) / 3 * 4 + 1), *o = text;

	if (text == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = base64_digits[v >> 18];
		*o++ = base64_digits[(v >> 12) & 63];
		*o++ = i + 1 < len ? base64_digits[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? base64_digits[v & 63] : '=';
	}
	*o = '\0';
	return text;
}

long
sg_base64_decode(const char *text, size_t len, unsigned char *out)
{
	long n = 0;

	if (len % 4 != 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			const char *at = text[i + k] != '\0' ? strchr(base64_digits, text[i + k]) : NULL;

			if (text[i + k] == '=' && i + 4 == len && k >= 2) {
				pad++;
				v <<= 6;
				continue;
			}
			if (at == NULL || pad > 0)
				return -EINVAL;
			v = (v << 6) | (uint32_t)(at - base64_digits);
		}
		out[n++] = (unsigned char)(v >> 16);
		if (pad < 2)
			out[n++] = (unsigned char)(v >> 8);
		if (pad < 1)
			out[n++] = (unsigned char)v;
	}
	return n;
}
