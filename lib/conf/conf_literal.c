/* SPDX-License-Identifier: BSD-3-Clause */
/* The integer literals of a config text, in the order libconfig reads them, with their exact
 * values. libconfig 1.5 reads an integer written without an L suffix as 32 bits and keeps
 * what fits ("4294967297" becomes 1, "0x80000000" becomes negative); the loader compares each
 * integer setting with its literal here to refuse what libconfig did not read exactly.
 *
 * The scanner follows libconfig 1.5's (lib/scanner.l): comments, strings with escapes,
 * names, floats, integers and hex with optional L/LL, longest match first. It only sees text
 * libconfig parsed, so it need not diagnose anything. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "conf_private.h"

static bool
is_name_start(char c)
{
	return isalpha((unsigned char)c) || c == '*';
}

static bool
is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '*' || c == '-' || c == '_';
}

static size_t
digits(const char *p)
{
	size_t n = 0;

	while (isdigit((unsigned char)p[n]))
		n++;
	return n;
}

/* Length of an exponent "[eE][-+]?[0-9]+" at 'p', or 0. */
static size_t
exponent(const char *p)
{
	size_t sign, n;

	if (*p != 'e' && *p != 'E')
		return 0;
	sign = p[1] == '-' || p[1] == '+';
	n = digits(p + 1 + sign);
	return n > 0 ? 1 + sign + n : 0;
}

/* Length of the longest float at 'p' (after any sign), or 0. */
static size_t
float_length(const char *p)
{
	size_t whole = digits(p), best = 0;

	/* [0-9]* "." [0-9]* exponent? */
	if (p[whole] == '.') {
		size_t frac = digits(p + whole + 1);

		best = whole + 1 + frac + exponent(p + whole + 1 + frac);
	}
	/* [0-9]+ exponent (the form with a dot is covered above) */
	if (whole > 0 && exponent(p + whole) > 0)
		best = SG_MAX(best, whole + exponent(p + whole));
	return best;
}

static size_t
long_suffix(const char *p)
{
	return p[0] == 'L' ? (p[1] == 'L' ? 2 : 1) : 0;
}

/* Length of the number token at 'p' (sign included), and whether it is an integer. */
static size_t
number_token(const char *p, bool *integer)
{
	size_t sign = *p == '-' || *p == '+', n, f;

	*integer = false;
	if (sign == 0 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
			isxdigit((unsigned char)p[2])) {
		n = 2;
		while (isxdigit((unsigned char)p[n]))
			n++;
		*integer = true;
		return n + long_suffix(p + n);
	}
	n = digits(p + sign);
	f = float_length(p + sign);
	if (f > n || (n == 0 && f > 0))
		return sign + f;
	if (n == 0)
		return 0;
	*integer = true;
	return sign + n + long_suffix(p + sign + n);
}

int
conf_int_literals(const char *text, struct conf_literal **out, uint32_t *n_out)
{
	struct conf_literal *list = NULL;
	uint32_t n = 0, cap = 0;

	for (const char *p = text; *p != '\0';) {
		bool integer;
		size_t len;

		if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/'); p++)
				;
			p += *p != '\0' ? 2 : 0;
		} else if (*p == '"') {
			/* A backslash always takes the next character: \" \\ \n \x41 alike. */
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
			}
			p += *p != '\0';
		} else if (is_name_start(*p)) {
			while (is_name_char(*p))
				p++;
		} else if ((len = number_token(p, &integer)) > 0) {
			if (integer) {
				if (n == cap) {
					struct conf_literal *grown;

					cap = cap ? cap * 2 : 64;
					grown = realloc(list, cap * sizeof(*list));
					if (grown == NULL) {
						free(list);
						return -ENOMEM;
					}
					list = grown;
				}
				list[n++] = (struct conf_literal){.text = p, .len = len};
			}
			p += len;
		} else {
			p++;
		}
	}
	*out = list;
	*n_out = n;
	return 0;
}

int
conf_literal_value(const struct conf_literal *lit, long long *value)
{
	size_t len = lit->len, sign = lit->text[0] == '-' || lit->text[0] == '+';
	unsigned long long v;
	char buf[64], *end;

	while (len > 0 && lit->text[len - 1] == 'L')
		len--;
	if (len >= sizeof(buf))
		return -ERANGE;
	memcpy(buf, lit->text, len);
	buf[len] = '\0';
	/* Decimal or 0x hex, as libconfig reads them ("010" is ten, not octal). */
	errno = 0;
	v = strtoull(buf + sign, &end, buf[sign] == '0' && (buf[sign + 1] | 0x20) == 'x' ? 16 : 10);
	if (errno == ERANGE || *end != '\0')
		return -ERANGE;
	if (buf[0] == '-' ? v > (unsigned long long)LLONG_MAX + 1
			  : v > (unsigned long long)LLONG_MAX)
		return -ERANGE;
	*value = buf[0] == '-' ? (long long)(0 - v) : (long long)v;
	return 0;
}
