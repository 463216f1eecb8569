/* sgfwctl's commands, run against a loaded config (offline) or the running switch (online).
 *
 * Usage: fill a struct sg_ctl_ctx with the policy to read and the output stream, then call
 * sg_ctl_run() with the command's words. The same code answers offline and online, so both
 * modes print exactly the same thing.
 *
 * Exit codes (SG_CTL_EXIT_*): 0 success, 1 the command failed (bad config, unknown port,
 * rejected change), 2 usage error. Errors go to 'err' as one line.
 * Thread-safety: one command at a time per context.
 */
#ifndef SG_CTL_H
#define SG_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "sg_conf.h"

enum sg_ctl_exit {
	SG_CTL_EXIT_OK = 0,
	SG_CTL_EXIT_FAIL = 1,
	SG_CTL_EXIT_USAGE = 2,
};

struct sg_ctl_ctx {
	const struct sg_conf *conf; /**< Config being read (policy, spec, port devices). */
	FILE *out;                  /**< Normal output. */
	FILE *err;                  /**< One-line errors. */
	bool json;                  /**< Machine-readable output. */
};

/** Run one command ("check", "effective", "explain", "ports", "groups"). */
int sg_ctl_run(struct sg_ctl_ctx *ctx, int argc, char **argv);
/** Usage text of the commands. */
void sg_ctl_usage(FILE *out);

#endif /* SG_CTL_H */
