/* SPDX-License-Identifier: BSD-3-Clause */
/* Names and defaults generated from the X-macro lists of sg_ct.h: timeouts (config keys and
 * seconds), connection states and lookup results. */
#include <string.h>

#include "ct_private.h"

const uint32_t sg_ct_timeout_defaults[SG_CT_TM_COUNT] = {
#define X(name, key, secs) [SG_CT_TM_##name] = secs,
	SG_CT_TIMEOUTS
#undef X
};

static const char *const timeout_names[SG_CT_TM_COUNT] = {
#define X(name, key, secs) [SG_CT_TM_##name] = key,
	SG_CT_TIMEOUTS
#undef X
};

static const char *const state_names[SG_CT_ST_COUNT] = {
#define X(name, text) [SG_CT_ST_##name] = text,
	SG_CT_STATES
#undef X
};

static const char *const result_names[SG_CT_RESULT_COUNT] = {
#define X(name, text) [SG_CT_##name] = #name,
	SG_CT_RESULTS
#undef X
};

const char *
sg_ct_timeout_name(enum sg_ct_timeout tm)
{
	return (unsigned int)tm < SG_CT_TM_COUNT ? timeout_names[tm] : "unknown";
}

int
sg_ct_timeout_from_name(const char *key)
{
	for (int i = 0; i < SG_CT_TM_COUNT; i++)
		if (strcmp(key, timeout_names[i]) == 0)
			return i;
	return -1;
}

const char *
sg_ct_state_name(enum sg_ct_state st)
{
	return (unsigned int)st < SG_CT_ST_COUNT ? state_names[st] : "unknown";
}

const char *
sg_ct_result_name(enum sg_ct_result r)
{
	return (unsigned int)r < SG_CT_RESULT_COUNT ? result_names[r] : "unknown";
}
