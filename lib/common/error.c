/* SPDX-License-Identifier: BSD-3-Clause */
/* The error record every sgfw library fills for the boundary that reports it. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "sg_common.h"

int
sg_error_set(struct sg_error *err, int line, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	if (err == NULL)
		return -EINVAL;
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Values from the config reach the operator's terminal through these messages. */
	sg_text_escape(msg, err->msg, sizeof(err->msg), false);
	return -EINVAL;
}

int
sg_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (len >= size) {
		if (size > 0)
			dst[0] = '\0';
		return -ENAMETOOLONG;
	}
	/* The rest zeroed too: a buffer that held a longer name compares as what it holds now. */
	memcpy(dst, src, len);
	memset(dst + len, 0, size - len);
	return 0;
}
