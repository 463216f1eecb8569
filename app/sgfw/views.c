/* SPDX-License-Identifier: BSD-3-Clause */
/* Live views of the running switch for sgfwctl: port state and connection-table listings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "sg_ct.h"
#include "sg_ctl.h"
#include "sg_dp.h"
#include "sg_json.h"
#include "sgfw_private.h"

int
sgfw_port_state(void *arg, const char *name, struct sg_ctl_port_state *state)
{
	struct sg_dp_port_stats s;

	if (sg_dp_port_stats(arg, name, &s) < 0)
		return -ENOENT;
	state->link_up = s.link_up;
	state->rx_packets = s.rx_packets;
	state->tx_packets = s.tx_packets;
	state->drops = s.drops_total;
	return 0;
}

/* Milliseconds on the clock the workers give the tracker. */
uint64_t
sgfw_now_ms(void)
{
	uint64_t per_ms = rte_get_tsc_hz() / 1000;

	return rte_get_tsc_cycles() / (per_ms != 0 ? per_ms : 1);
}

struct ct_listing {
	const struct sg_dp *dp;
	struct sg_json *json;
	FILE *out;
	uint64_t limit;
	uint64_t shown;
};

static int
print_conn(const struct sg_ct_conn_info *info, void *arg)
{
	struct ct_listing *l = arg;
	const struct sg_dp *dp = l->dp;
	const char *in = sg_dp_port_name(dp, info->origin.in_port);
	const char *out = sg_dp_port_name(dp, info->origin.out_port);
	char proto[8], src[SG_IP_STRLEN], dst[SG_IP_STRLEN];
	const char *pname;

	if (l->shown++ >= l->limit)
		return 1;
	pname = sg_proto_name(info->tuple.proto, proto, sizeof(proto));
	sg_ip_format(&info->tuple.src, src, sizeof(src));
	sg_ip_format(&info->tuple.dst, dst, sizeof(dst));
	if (l->json != NULL) {
		struct sg_json *j = l->json;

		sg_json_object_open(j, NULL);
		sg_json_string(j, "protocol", pname);
		sg_json_string(j, "src", src);
		sg_json_uint(j, "sport", info->tuple.sport);
		sg_json_string(j, "dst", dst);
		sg_json_uint(j, "dport", info->tuple.dport);
		sg_json_string(j, "state", sg_ct_state_name((enum sg_ct_state)info->state));
		sg_json_bool(j, "assured", info->assured);
		sg_json_bool(j, "blocked", info->blocked);
		sg_json_int(j, "expires_ms", info->expires_ms);
		sg_json_string(j, "in_port", in != NULL ? in : "?");
		sg_json_string(j, "out_port", out != NULL ? out : "?");
		sg_json_uint(j, "packets_orig", info->packets[0]);
		sg_json_uint(j, "packets_reply", info->packets[1]);
		sg_json_uint(j, "bytes_orig", info->bytes[0]);
		sg_json_uint(j, "bytes_reply", info->bytes[1]);
		sg_json_object_close(j);
		return 0;
	}
	fprintf(l->out, "%-6s %s:%u -> %s:%u %-11s %s%s%6.0fs %s->%s pkts %lu/%lu\n", pname, src,
			info->tuple.sport, dst, info->tuple.dport,
			sg_ct_state_name((enum sg_ct_state)info->state), info->assured ? "assured " : "",
			info->blocked ? "BLOCKED " : "", (double)info->expires_ms / 1000.0,
			in != NULL ? in : "?", out != NULL ? out : "?", info->packets[0], info->packets[1]);
	return 0;
}

/* ct [count] [port=NAME] [addr=IP] [proto=P] [state=S] [limit=N] */
int
sgfw_cmd_ct(struct sg_dp *dp, bool json, int argc, char **argv, FILE *out, FILE *errors)
{
	struct sg_ct *ct = sg_dp_ct(dp);
	struct ct_listing listing = {.dp = dp, .out = out, .limit = 1000};
	struct sg_ct_filter filter = {0};
	bool count = false;
	struct sg_json j;

	if (ct == NULL) {
		fprintf(errors, "error: this engine tracks no connections\n");
		return SG_CTL_EXIT_FAIL;
	}
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const char *value = eq != NULL ? eq + 1 : "";

		if (strcmp(argv[i], "count") == 0) {
			count = true;
		} else if (strncmp(argv[i], "port=", 5) == 0) {
			int id = sg_dp_port_id(dp, value);

			if (id < 0) {
				fprintf(errors, "error: no port named \"%s\"\n", value);
				return SG_CTL_EXIT_FAIL;
			}
			filter.by_port = true;
			filter.port = (uint16_t)id;
		} else if (strncmp(argv[i], "addr=", 5) == 0) {
			if (sg_ip_parse(value, &filter.addr) < 0) {
				fprintf(errors, "usage error: addr \"%s\" is not an address\n", value);
				return SG_CTL_EXIT_USAGE;
			}
		} else if (strncmp(argv[i], "proto=", 6) == 0) {
			int proto = sg_proto_parse(value);

			if (proto <= 0) {
				fprintf(errors, "usage error: proto \"%s\" is not a protocol\n", value);
				return SG_CTL_EXIT_USAGE;
			}
			filter.proto = (uint8_t)proto;
		} else if (strncmp(argv[i], "state=", 6) == 0) {
			int st;

			for (st = 0; st < SG_CT_ST_COUNT; st++)
				if (strcasecmp(value, sg_ct_state_name((enum sg_ct_state)st)) == 0)
					break;
			if (st == SG_CT_ST_COUNT) {
				fprintf(errors, "usage error: state \"%s\" is not a connection state\n", value);
				return SG_CTL_EXIT_USAGE;
			}
			filter.by_state = true;
			filter.state = (uint8_t)st;
		} else if (strncmp(argv[i], "limit=", 6) == 0) {
			listing.limit = strtoull(value, NULL, 10);
		} else {
			fprintf(errors, "usage error: ct [count] [port=NAME] [addr=IP] [proto=P] "
					"[state=S] [limit=N]\n");
			return SG_CTL_EXIT_USAGE;
		}
	}
	if (count) {
		uint64_t counts[SG_CT_ST_COUNT], total = 0;
		struct sg_ct_stats st;

		sg_ct_count_by_state(ct, sgfw_now_ms(), counts);
		sg_ct_stats_get(ct, &st);
		if (json) {
			sg_json_init(&j, out, true);
			sg_json_object_open(&j, NULL);
			sg_json_object_open(&j, "states");
			for (int s = 0; s < SG_CT_ST_COUNT; s++) {
				sg_json_uint(&j, sg_ct_state_name((enum sg_ct_state)s), counts[s]);
				total += counts[s];
			}
			sg_json_object_close(&j);
			sg_json_uint(&j, "total", total);
			sg_json_uint(&j, "capacity", st.capacity);
			sg_json_uint(&j, "inserts", st.inserts);
			sg_json_uint(&j, "early_drops", st.early_drops);
			sg_json_uint(&j, "share_refused", st.share_refused);
			sg_json_uint(&j, "table_full", st.table_full);
			sg_json_uint(&j, "expired", st.expired);
			sg_json_uint(&j, "populate_error", (uint64_t)st.populate_error);
			sg_json_object_close(&j);
			sg_json_finish(&j);
			return SG_CTL_EXIT_OK;
		}
		for (int s = 0; s < SG_CT_ST_COUNT; s++) {
			total += counts[s];
			if (counts[s] != 0)
				fprintf(out, "%-12s %10lu\n", sg_ct_state_name((enum sg_ct_state)s), counts[s]);
		}
		fprintf(out, "%-12s %10lu of %lu (inserts %lu, early drops %lu, share refused %lu, "
				"table full %lu, expired %lu)\n",
				"total", total, st.capacity, st.inserts, st.early_drops, st.share_refused,
				st.table_full, st.expired);
		/* Found at start, or later with the IPv6 pool's first commit: still not fatal. */
		if (st.populate_error != 0)
			fprintf(out, "connection memory not committed ahead of use: %s\n",
					strerror(st.populate_error));
		return SG_CTL_EXIT_OK;
	}
	if (json) {
		sg_json_init(&j, out, true);
		sg_json_array_open(&j, NULL);
		listing.json = &j;
	}
	sg_ct_walk(ct, &filter, sgfw_now_ms(), print_conn, &listing);
	if (json) {
		sg_json_array_close(&j);
		sg_json_finish(&j);
	} else if (listing.shown > listing.limit) {
		fprintf(out, "(more than %lu connections: narrow with filters or limit=N)\n", listing.limit);
	}
	return SG_CTL_EXIT_OK;
}

/* A ratio for people: 0 when there is nothing to divide by. */
static double
ratio(uint64_t a, uint64_t b)
{
	return b != 0 ? (double)a / (double)b : 0.0;
}

void
sgfw_stats_service_text(const struct sg_dp *dp, FILE *out)
{
	struct sg_dp_flowlog_stats fs;

	/* Lines start with spaces or capitals: scripts reading the port rows skip them. */
	fprintf(out, "\nWORKERS (a poll is one loop over the worker's rx queues; busy: it received "
		     "packets)\n");
	fprintf(out, "  %-6s %14s %14s %7s %10s %11s %14s %14s %10s\n", "WORKER", "POLLS",
			"RX_PACKETS", "BUSY%", "PKTS/POLL", "CYCLES/PKT", "BUSY_CYCLES", "IDLE_CYCLES",
			"SLEEPS");
	for (uint16_t w = 0; w < sg_dp_n_workers(dp); w++) {
		struct sg_dp_worker_stats ws;

		sg_dp_worker_stats(dp, w, &ws);
		/* Busy share of the time awake: a sleeping worker is not busy while it sleeps. */
		fprintf(out, "  %-6u %14lu %14lu %6.1f%% %10.1f %11.0f %14lu %14lu %10lu\n", w,
				ws.polls, ws.rx_packets,
				100.0 * ratio(ws.busy_cycles, ws.busy_cycles + ws.idle_cycles),
				ratio(ws.rx_packets, ws.busy_polls),
				ratio(ws.busy_cycles, ws.rx_packets), ws.busy_cycles,
				ws.idle_cycles, ws.sleeps);
	}
	if (sg_dp_flowlog_stats(dp, &fs) == 0)
		fprintf(out,
				"\nFLOW LOGS LOST: %lu events (full rings), %lu closed connections "
				"(full "
				"rings), %lu flows (max_flows), %lu write errors\n",
				fs.ring_lost, fs.closed_lost, fs.writer.flows_dropped,
				fs.writer.write_errors);
}
