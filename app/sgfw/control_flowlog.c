/* SPDX-License-Identifier: BSD-3-Clause */
/* The online "flowlogs" command: where flow logs go, the open window and the counters that say
 * whether anything was lost on the way (rings, the tracker's closed-connection rings, tables). */
#include <inttypes.h>
#include <string.h>

#include "sg_ctl.h"
#include "sg_dp.h"
#include "sg_json.h"
#include "sgfw.h"

int
sgfw_control_flowlogs(const struct sg_dp *dp, bool json, int argc, char **argv, FILE *out,
		FILE *errors)
{
	struct sg_dp_flowlog_stats fs;
	const struct sg_flowlog_stats *w = &fs.writer;

	(void)argv;
	if (argc > 1) {
		fprintf(errors, "usage error: flowlogs takes no arguments\n");
		return SG_CTL_EXIT_USAGE;
	}
	if (sg_dp_flowlog_stats(dp, &fs) < 0) {
		if (json) {
			struct sg_json j;

			sg_json_init(&j, out, true);
			sg_json_object_open(&j, NULL);
			sg_json_bool(&j, "enabled", false);
			sg_json_object_close(&j);
			sg_json_finish(&j);
		} else {
			fprintf(out, "flow logs are off (flow_logs.enabled was false when sgfw started)\n");
		}
		return SG_CTL_EXIT_OK;
	}
	if (json) {
		struct sg_json j;

		sg_json_init(&j, out, true);
		sg_json_object_open(&j, NULL);
		sg_json_bool(&j, "enabled", true);
		sg_dp_flowlog_stats_json(&fs, &j);
		sg_json_object_close(&j);
		sg_json_finish(&j);
		return SG_CTL_EXIT_OK;
	}
	fprintf(out, "flow logs: every %u s into %s\n", fs.window, fs.directory);
	fprintf(out, "  file        %s\n", fs.file[0] ? fs.file : "(none open)");
	fprintf(out, "  window      from %" PRId64 ", %u flows so far\n", fs.window_start, w->flows);
	fprintf(out, "  windows     %" PRIu64 ", %" PRIu64 " lines, %" PRIu64 " NODATA, %" PRIu64
		     " SKIPDATA\n", w->windows, w->lines, w->nodata, w->skipdata);
	fprintf(out, "  events      %" PRIu64 " from the workers, %" PRIu64 " lost to full rings\n",
			fs.events, fs.ring_lost);
	fprintf(out, "  connections %u followed, %" PRIu64 " closed ones lost, %" PRIu64
		     " not followed (table full)\n", w->conns, fs.closed_lost, w->conns_untracked);
	fprintf(out, "  flows       %" PRIu64 " dropped (window table full)\n", w->flows_dropped);
	fprintf(out, "  files       %" PRIu64 " opened, %" PRIu64 " bytes, %" PRIu64
		     " write errors\n", w->files, w->bytes_written, w->write_errors);
	fprintf(out, "  writer      %" PRIu64 " ms of CPU\n", fs.writer_cpu_ns / 1000000u);
	return SG_CTL_EXIT_OK;
}
