/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfw's messages through rte_log: one log type per component (sgfw.main, sgfw.dp, ...), levels
 * from the config and from "sgfwctl log level", written to stderr (with syslog priorities when
 * stderr is the systemd journal) or to syslog. DPDK's own messages take the same way. */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <rte_log.h>

#include "sg_conf.h"
#include "sg_ctl.h"
#include "sg_json.h"
#include "sg_log.h"
#include "sgfw_private.h"

static int logtypes[SG_LOG_COMPONENT_COUNT];
static bool to_syslog;
static bool to_journal; /* stderr is the journal: prefix each line with its priority */

/*
 * The stream rte_log writes to. rte_vlog formats one message and flushes, so each call gets
 * whole messages; the level of the one being written is rte_log_cur_msg_loglevel().
 */
static ssize_t
log_write(void *cookie, const char *buf, size_t size)
{
	int priority = rte_log_cur_msg_loglevel() - 1;
	size_t done = 0;

	(void)cookie;
	if (priority < LOG_EMERG || priority > LOG_DEBUG)
		priority = LOG_INFO;
	if (to_syslog) {
		syslog(priority, "%.*s", (int)size, buf);
		return (ssize_t)size;
	}
	while (done < size) {
		const char *nl = memchr(buf + done, '\n', size - done);
		size_t len = nl != NULL ? (size_t)(nl - (buf + done)) + 1 : size - done;

		if (to_journal)
			dprintf(STDERR_FILENO, "<%d>", priority);
		if (write(STDERR_FILENO, buf + done, len) < 0)
			break;
		done += len;
	}
	return (ssize_t)size;
}

/* JOURNAL_STREAM names the journal's stream as DEVICE:INODE; is it our stderr? */
static bool
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return env != NULL && sscanf(env, "%llu:%llu", &dev, &ino) == 2 &&
	       fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

int
sgfw_log_init(void)
{
	static cookie_io_functions_t io = {.write = log_write};
	FILE *stream;

	for (int c = 0; c < SG_LOG_COMPONENT_COUNT; c++) {
		char name[32];

		snprintf(name, sizeof(name), "sgfw.%s", sg_log_component_name(c));
		logtypes[c] = rte_log_register_type_and_pick_level(name, RTE_LOG_INFO);
		if (logtypes[c] < 0)
			return -ENOMEM;
	}
	to_journal = stderr_is_journal();
	stream = fopencookie(NULL, "w", io);
	if (stream == NULL)
		return -errno;
	/* Before EAL starts, so its messages (and every library's) take the same way. */
	rte_openlog_stream(stream);
	return 0;
}

void
sgfw_log_configure(const struct sg_conf_logging *log)
{
	if (log->output == SG_LOG_OUTPUT_SYSLOG && !to_syslog) {
		openlog("sgfw", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		to_syslog = true;
	}
	rte_log_set_level_pattern("sgfw.*", log->level);
	for (uint32_t i = 0; i < log->n_levels; i++)
		rte_log_set_level_pattern(log->levels[i].pattern, log->levels[i].level);
}

void
sgfw_log_reconfigure(const struct sg_conf_logging *old, const struct sg_conf_logging *now)
{
	bool same = old->level == now->level && old->output == now->output &&
		    old->n_levels == now->n_levels;

	for (uint32_t i = 0; same && i < now->n_levels; i++)
		same = old->levels[i].level == now->levels[i].level &&
		       strcmp(old->levels[i].pattern, now->levels[i].pattern) == 0;
	/* Unchanged, the levels set online (sgfwctl log level) stay. */
	if (same)
		return;
	if (old->output != now->output)
		SGFW_LOG(MAIN, WARNING, "logging.output changes at the next start");
	sgfw_log_configure(now);
	SGFW_LOG(MAIN, NOTICE, "log levels set from the reloaded config");
}

void
sgfw_vlog(enum sg_log_component component, uint32_t level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (!rte_log_can_log((uint32_t)logtypes[component], level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* The level in words where it matters to a reader of plain stderr. */
	rte_log(level, (uint32_t)logtypes[component], "sgfw.%s: %s%s%s\n",
			sg_log_component_name(component),
			level <= RTE_LOG_WARNING ? sg_log_level_name((int)level) : "",
			level <= RTE_LOG_WARNING ? ": " : "", msg);
}

void
sgfw_log(enum sg_log_component component, uint32_t level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sgfw_vlog(component, level, fmt, ap);
	va_end(ap);
}

/* Every registered type and its level, from rte_log_dump ("id N: NAME, level is LEVEL"). */
struct logtype {
	char name[128];
	int level;
};

static int
list_types(struct logtype **types)
{
	char *dump = NULL, *line, *save = NULL;
	size_t len = 0;
	int n = 0;
	FILE *f = open_memstream(&dump, &len);

	*types = NULL;
	if (f == NULL)
		return -ENOMEM;
	rte_log_dump(f);
	fclose(f);
	for (line = strtok_r(dump, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		struct logtype t, *grown;
		char level[32];
		int id;

		if (sscanf(line, "id %d: %127[^,], level is %31s", &id, t.name, level) != 3)
			continue;
		t.level = sg_log_level_parse(level);
		grown = realloc(*types, (size_t)(n + 1) * sizeof(**types));
		if (grown == NULL)
			break;
		*types = grown;
		(*types)[n++] = t;
	}
	free(dump);
	return n;
}

int
sgfw_cmd_log(bool json, int argc, char **argv, FILE *out, FILE *errors)
{
	struct logtype *types = NULL;
	int n, level, matched = 0;

	if (argc == 1) {
		struct sg_json j;

		n = list_types(&types);
		if (json) {
			sg_json_init(&j, out, true);
			sg_json_object_open(&j, NULL);
		}
		for (int i = 0; i < n; i++) {
			if (json)
				sg_json_string(&j, types[i].name,
						sg_log_level_name(types[i].level));
			else
				fprintf(out, "%-32s %s\n", types[i].name,
						sg_log_level_name(types[i].level));
		}
		if (json) {
			sg_json_object_close(&j);
			sg_json_finish(&j);
		}
		free(types);
		return SG_CTL_EXIT_OK;
	}
	if (argc != 4 || strcmp(argv[1], "level") != 0) {
		fprintf(errors, "usage error: log [level TYPE LEVEL]\n");
		return SG_CTL_EXIT_USAGE;
	}
	level = sg_log_level_parse(argv[3]);
	if (level < 0) {
		fprintf(errors,
				"error: log level \"%s\" must be emergency, alert, critical, "
				"error, "
				"warning, notice, info or debug\n",
				argv[3]);
		return SG_CTL_EXIT_FAIL;
	}
	n = list_types(&types);
	for (int i = 0; i < n; i++)
		matched += fnmatch(argv[2], types[i].name, 0) == 0;
	free(types);
	if (matched == 0) {
		fprintf(errors, "error: no log type matches \"%s\" (sgfwctl log lists them)\n",
				argv[2]);
		return SG_CTL_EXIT_FAIL;
	}
	rte_log_set_level_pattern(argv[2], (uint32_t)level);
	SGFW_LOG(CTL, NOTICE, "log level of %s set to %s (%d type%s)", argv[2],
			sg_log_level_name(level), matched, matched == 1 ? "" : "s");
	fprintf(out, "%s: %s (%d type%s)\n", argv[2], sg_log_level_name(level), matched,
			matched == 1 ? "" : "s");
	return SG_CTL_EXIT_OK;
}
