/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of the config library shared by its files (not installed, not for other libraries). */
#ifndef CONF_PRIVATE_H
#define CONF_PRIVATE_H

#include <stdint.h>

#include "sg_conf.h"

/* conf_literal.c */

/** An integer literal in a config text: where it starts and how long it is (sign and L
 * suffix included). */
struct conf_literal {
	const char *text;
	size_t len;
};

/**
 * Every integer literal of 'text' (outside comments and strings), in order: the values
 * libconfig made integer settings of. '*out' is malloc'd (NULL when there are none).
 * 0 or -ENOMEM.
 */
int conf_int_literals(const char *text, struct conf_literal **out, uint32_t *n);
/** The exact value of a literal, or -ERANGE when it does not fit in 64 bits. */
int conf_literal_value(const struct conf_literal *lit, long long *value);

#endif /* CONF_PRIVATE_H */
