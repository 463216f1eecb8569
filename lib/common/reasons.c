/* SPDX-License-Identifier: BSD-3-Clause */
/* Names and descriptions of the drop reasons, generated from the one X-macro list. */
#include "sg_reasons.h"

static const char *const names[SG_DROP_COUNT] = {
#define X(name, text) [SG_DROP_##name] = #name,
	SG_DROP_REASONS
#undef X
};

static const char *const texts[SG_DROP_COUNT] = {
#define X(name, text) [SG_DROP_##name] = text,
	SG_DROP_REASONS
#undef X
};

/* Lower-case names, built once before main() so readers on any thread only ever read them. */
static char lower[SG_DROP_COUNT][32];

__attribute__((constructor)) static void
build_lower_names(void)
{
	for (unsigned int r = 0; r < SG_DROP_COUNT; r++) {
		unsigned int i;

		for (i = 0; names[r][i] != '\0' && i + 1 < sizeof(lower[0]); i++) {
			char c = names[r][i];

			lower[r][i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		lower[r][i] = '\0';
	}
}

const char *
sg_drop_reason_name(enum sg_drop_reason reason)
{
	return (unsigned int)reason < SG_DROP_COUNT ? lower[reason] : "unknown";
}

const char *
sg_drop_reason_text(enum sg_drop_reason reason)
{
	return (unsigned int)reason < SG_DROP_COUNT ? texts[reason] : "unknown";
}
