/* SPDX-License-Identifier: BSD-3-Clause */
/* Log level and component names (sg_log.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sg_common.h"
#include "sg_log.h"

static const char *const component_names[] = {
#define X(id, name, text) [SG_LOG_##id] = name,
		SG_LOG_COMPONENTS
#undef X
};

/* Full names first (printed), then the short forms EAL's --log-level also takes. */
static const struct {
	const char *name;
	int level;
} level_names[] = {
		{"emergency", 1},
		{"alert", 2},
		{"critical", 3},
		{"error", 4},
		{"warning", 5},
		{"notice", 6},
		{"info", 7},
		{"debug", 8},
		{"emerg", 1},
		{"crit", 3},
		{"err", 4},
};

const char *
sg_log_component_name(enum sg_log_component component)
{
	return (unsigned int)component < SG_LOG_COMPONENT_COUNT ? component_names[component] : "?";
}

int
sg_log_level_parse(const char *name)
{
	char *end;
	long n;

	for (size_t i = 0; i < SG_ARRAY_SIZE(level_names); i++)
		if (strcmp(name, level_names[i].name) == 0)
			return level_names[i].level;
	n = strtol(name, &end, 10);
	if (*name != '\0' && *end == '\0' && n >= SG_LOG_LEVEL_MIN && n <= SG_LOG_LEVEL_MAX)
		return (int)n;
	return -EINVAL;
}

const char *
sg_log_level_name(int level)
{
	return level >= SG_LOG_LEVEL_MIN && level <= SG_LOG_LEVEL_MAX ? level_names[level - 1].name
								      : "?";
}
