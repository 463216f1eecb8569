/* The error record every sgfw library fills for the boundary that reports it. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "sg_common.h"

int
sg_error_set(struct sg_error *err, int line, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -EINVAL;
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
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
	memcpy(dst, src, len + 1);
	return 0;
}
