/* SPDX-License-Identifier: BSD-3-Clause */
/* Flow logs: per-flow records aggregated over a window, with the fields of cloud VPC flow logs
 * (D16, docs/decisions.md) plus the rule that decided, written as text lines in a fixed order,
 * as JSON lines, or as Alibaba's or AWS's (version 5) flow-log records (docs/flowlogs.md).
 *
 * This library is the part of flow logging that needs no DPDK, so it is tested alone:
 *   - struct sg_flowlog_record: one log line; sg_flowlog_write_record() writes it in any format,
 *     sg_flowlog_parse_line() reads text or JSON back, sg_flowlog_parse_cloud() a cloud's line
 *     through its header's layout, sg_flowlog_read_with() reads a directory of log files of any
 *     format, sgfw's or a cloud's export (sgfwctl audit);
 *   - struct sg_flowlog, the aggregator: it takes what the datapath reports (events for
 *     packets the classifier refused and for TCP flags of accepted ones, the connection
 *     tracker's counters of live and closed connections), sums them per (port, direction,
 *     5-tuple, action, rule) over a window and, at the end of each window, writes the window's
 *     lines to files it rotates by size and age.
 * lib/dp runs the aggregator on a writer thread fed through lock-free rings (dp_flowlog.c).
 *
 * Usage of the aggregator (the writer thread):
 *   fl = sg_flowlog_create(&params, &err);
 *   sg_flowlog_set_epoch(fl, epoch, conf, port_ids) for each policy generation, before any
 *     event or connection of that epoch is added;
 *   during a window: sg_flowlog_add_event(), sg_flowlog_add_conn(..., closed = true),
 *     sg_flowlog_add_lost();
 *   at its end: sg_flowlog_add_conn(..., closed = false) for every live connection (a walk of
 *     the tracker), then sg_flowlog_window_end(fl, start, end);
 *   sg_flowlog_free(fl).
 *
 * Thread-safety: a struct sg_flowlog belongs to one thread. The record functions are
 * reentrant.
 */
#ifndef SG_FLOWLOG_H
#define SG_FLOWLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sg_common.h"
#include "sg_conf.h"
#include "sg_policy.h"

/* ---- One log line ---- */

#define SG_FLOWLOG_VERSION 1

enum sg_flowlog_status {
	SG_FLOWLOG_OK = 0,   /**< A flow's record. */
	SG_FLOWLOG_NODATA,   /**< A logged port saw no traffic in the window. */
	SG_FLOWLOG_SKIPDATA, /**< Records were lost in the window ('packets' says how many). */
};

enum sg_flowlog_rule_kind {
	SG_FLOWLOG_RULE_NONE = 0, /**< "-": not known. */
	SG_FLOWLOG_RULE_USER,     /**< "GROUP/N": rule N (1-based, as written) of a group. */
	SG_FLOWLOG_RULE_INNER,    /**< "GROUP/inner": the group's inner access (D4). */
	SG_FLOWLOG_RULE_DEFAULT,  /**< "default-TYPE-DIRECTION": the default of the group type (D3). */
};

/** The rule that decided, as the log names it. */
struct sg_flowlog_rule_ref {
	enum sg_flowlog_rule_kind kind;
	char group[SG_NAME_MAX];   /**< USER, INNER. */
	uint32_t index;            /**< USER: 1-based position in the group in the config file. */
	enum sg_group_type type;   /**< DEFAULT. */
	enum sg_dir dir;           /**< DEFAULT. */
};

/** TCP flags as flow logs report them (AWS's convention): FIN 1, SYN 2, RST 4, SYN-ACK 18. */
#define SG_FLOWLOG_TCP_FIN 0x01
#define SG_FLOWLOG_TCP_SYN 0x02
#define SG_FLOWLOG_TCP_RST 0x04
#define SG_FLOWLOG_TCP_ACK 0x10 /**< Only together with SYN. */

/** The flow-log flags of one TCP segment's flags (as on the wire). */
static inline uint8_t
sg_flowlog_tcp_flags(uint8_t wire)
{
	uint8_t f = wire & (SG_FLOWLOG_TCP_FIN | SG_FLOWLOG_TCP_SYN | SG_FLOWLOG_TCP_RST);

	if ((wire & (SG_FLOWLOG_TCP_SYN | SG_FLOWLOG_TCP_ACK)) ==
			(SG_FLOWLOG_TCP_SYN | SG_FLOWLOG_TCP_ACK))
		f |= SG_FLOWLOG_TCP_ACK;
	return f;
}

/**
 * One line: the flow of one port in one direction over one window. For ICMP and ICMPv6,
 * sport is the type and dport the code. NODATA lines carry only version, port, start, end
 * and status; SKIPDATA lines version, start, end, status and in 'packets' the number of
 * records lost.
 */
struct sg_flowlog_record {
	uint32_t version;
	char port[SG_NAME_MAX];    /**< Port name; "" in SKIPDATA lines. */
	enum sg_dir dir;           /**< Ingress: towards the port's VM. */
	uint8_t proto;
	struct sg_ip src;
	uint16_t sport;
	struct sg_ip dst;
	uint16_t dport;
	uint64_t packets;
	uint64_t bytes;            /**< IP bytes. */
	int64_t start;             /**< The window, Unix seconds: [start, end). */
	int64_t end;
	enum sg_flowlog_status status;
	enum sg_action action;     /**< ACCEPT or REJECT. */
	uint8_t tcp_flags;         /**< OR over the window, SG_FLOWLOG_TCP_* values. */
	struct sg_flowlog_rule_ref rule;
	/** The format the record was read in; cloud formats carry no rule (rule is "-"). */
	enum sg_flowlog_format format;
};

/** The text header line, the field names in order (text files start with it). */
extern const char sg_flowlog_text_header[];

/**
 * The header line of 'format' (the field names, in order, without a newline): every file of
 * the text, alibaba and aws-v5 formats starts with it. NULL for JSON.
 */
const char *sg_flowlog_header(enum sg_flowlog_format format);

/** Write 'rec' as one line (with its newline) in 'format'. Returns 0 or -EIO. */
int sg_flowlog_write_record(FILE *out, const struct sg_flowlog_record *rec,
		enum sg_flowlog_format format);

/** The log's name of a rule: "sg-db/2", "sg-db/inner", "default-basic-ingress" or "-". */
const char *sg_flowlog_rule_label(const struct sg_flowlog_rule_ref *rule, char *buf, size_t size);
/** Parse a label back; -EINVAL if it is none of the forms above. */
int sg_flowlog_rule_parse(const char *label, struct sg_flowlog_rule_ref *rule);

/**
 * Parse one line of either format (a JSON line starts with '{'). Returns 1 and fills 'rec',
 * 0 for a line that holds no record (blank, the text header, a '#' comment), or -EINVAL with
 * 'why' saying what is wrong.
 */
int sg_flowlog_parse_line(const char *line, struct sg_flowlog_record *rec, char *why,
		size_t why_size);

/* ---- Cloud exports: Alibaba's and AWS's VPC flow logs ---- */

/** A cloud interface id (Alibaba's eni-id, AWS's interface-id) and the sgfw port it stands for. */
struct sg_flowlog_eni {
	char eni[SG_NAME_MAX];
	char port[SG_NAME_MAX];
};

#define SG_FLOWLOG_CLOUD_MAX_COLS 64

/** Where each field is in a cloud file's lines, from its header line (or the default). */
struct sg_flowlog_layout {
	enum sg_flowlog_format format; /**< SG_FLOWLOG_ALIBABA or SG_FLOWLOG_AWS_V5. */
	char sep;                      /**< ',' (a CSV export) or ' ' (spaces or tabs). */
	uint32_t n_cols;
	int8_t col[SG_FLOWLOG_CLOUD_MAX_COLS]; /**< Field of each column (private codes). */
};

/**
 * Is 'line' the header of an Alibaba or AWS flow-log file (its field names, space- or
 * comma-separated, naming srcaddr and eni-id or interface-id)? Returns 1 and fills 'layout',
 * 0 when it is not a header, -EINVAL with 'why' when it is one that lacks a field the audit
 * needs.
 */
int sg_flowlog_cloud_header(const char *line, struct sg_flowlog_layout *layout, char *why,
		size_t why_size);
/** The layout of the lines sgfw writes in 'format' (for files without a header line). */
void sg_flowlog_cloud_default(enum sg_flowlog_format format, struct sg_flowlog_layout *layout);
/**
 * Parse one line of a cloud file laid out as 'layout'. The interface id becomes the record's
 * port: its entry in 'enis' if it has one, else the id itself (sgfw writes port names there).
 * Returns 1, 0 for a blank or '#' line, or -EINVAL with 'why'.
 */
int sg_flowlog_parse_cloud(const char *line, const struct sg_flowlog_layout *layout,
		const struct sg_flowlog_eni *enis, uint32_t n_enis, struct sg_flowlog_record *rec,
		char *why, size_t why_size);

/** Called for each record read; return non-zero to stop. */
typedef int (*sg_flowlog_read_cb)(const struct sg_flowlog_record *rec, void *arg);

struct sg_flowlog_read_stats {
	uint32_t files;
	uint64_t lines;
	uint64_t records;
	uint64_t bad_lines;      /**< Skipped; the first is described in 'first_bad'. */
	char first_bad[SG_PATH_MAX + 128];
	int64_t first_start;     /**< Earliest window start read (0 if none). */
	int64_t last_end;        /**< Latest window end read. */
	uint32_t files_by_format[SG_FLOWLOG_FORMAT_COUNT]; /**< Files read, by their format. */
};

/** How sg_flowlog_read_with() reads. */
struct sg_flowlog_read_opts {
	int format;              /**< -1: each file's own, told by its first line; else all in this. */
	const struct sg_flowlog_eni *enis; /**< Cloud interface ids to ports. */
	uint32_t n_enis;
};

/**
 * Read the flow logs at 'path': a file, or a directory whose log files (sgfw-flows-*.log and
 * *.jsonl) are read in name order, which is time order. Malformed lines are counted and
 * skipped (a crash can cut the last line). Returns 0, or -errno with 'err' naming the path
 * when it cannot be read or holds no log file.
 */
int sg_flowlog_read(const char *path, sg_flowlog_read_cb cb, void *arg,
		struct sg_flowlog_read_stats *stats, struct sg_error *err);

/**
 * sg_flowlog_read() for sgfw's formats and Alibaba's and AWS's exports. A file's format is
 * told by its first line (sgfw's header or a JSON object, or an Alibaba or AWS header line)
 * unless opts->format says it. A directory's files are sgfw-flows-*.log and *.jsonl, and any
 * other *.log, *.csv or *.txt file whose first line is a cloud header (or every such file,
 * with opts->format a cloud format).
 */
int sg_flowlog_read_with(const char *path, const struct sg_flowlog_read_opts *opts,
		sg_flowlog_read_cb cb, void *arg, struct sg_flowlog_read_stats *stats,
		struct sg_error *err);

/* ---- What the datapath reports ---- */

#define SG_FLOWLOG_NO_PORT UINT16_MAX
#define SG_FLOWLOG_NO_RULE UINT32_MAX

enum sg_flowlog_event_kind {
	SG_FLOWLOG_EV_CHECK = 1, /**< A packet the security groups refused, on one side or both. */
	SG_FLOWLOG_EV_FLAGS,     /**< An accepted packet with SYN, FIN or RST: its flags only. */
};

/* sg_flowlog_event.accepted */
#define SG_FLOWLOG_EV_SENDER_ACCEPT 0x01
#define SG_FLOWLOG_EV_RECEIVER_ACCEPT 0x02

/**
 * One packet the datapath reports, 64 bytes (a ring element). The sender's egress rules and
 * the receiver's ingress rules decided it; a side without policy (the uplink) has
 * SG_FLOWLOG_NO_RULE. A CHECK event counts the packet; a FLAGS event only adds its flags (the
 * tracker counts accepted packets).
 */
struct sg_flowlog_event {
	uint8_t kind;              /**< enum sg_flowlog_event_kind. */
	uint8_t family;            /**< SG_AF_INET or SG_AF_INET6. */
	uint8_t proto;
	uint8_t tcp_flags;         /**< As on the wire. */
	uint8_t accepted;          /**< CHECK: SG_FLOWLOG_EV_*_ACCEPT of the sides that accepted. */
	uint8_t reserved;
	uint16_t ip_bytes;
	uint16_t sport;            /**< As parsed: ports, or ICMP type and code. */
	uint16_t dport;
	uint16_t sender;           /**< Port ids as given to sg_flowlog_set_epoch(). */
	uint16_t receiver;
	uint32_t sender_rule;      /**< Rule ids of 'epoch'. */
	uint32_t receiver_rule;
	uint32_t epoch;
	uint32_t reserved2;        /**< Zero (pads the event to 64 bytes). */
	uint8_t src[16];
	uint8_t dst[16];
};

/**
 * A tracked connection's counters: live (read by a walk at the end of a window) or closed
 * (its final counters). The tuple is the original direction (ICMP queries: sport is the
 * identifier, dport the request type); in_port sent the first packet and its policy's egress
 * rule accepted it, out_port received it and its ingress rule accepted it.
 */
struct sg_flowlog_conn {
	uint8_t family;
	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
	uint16_t in_port;
	uint16_t out_port;
	struct sg_ip src;
	struct sg_ip dst;
	uint32_t egress_rule;
	uint32_t ingress_rule;
	uint32_t epoch;
	uint32_t packets[2];       /**< Original, reply; 32-bit, wrapping. */
	uint64_t bytes[2];
};

/* ---- The aggregator ---- */

struct sg_flowlog_params {
	const char *directory;     /**< Created (mode 0750) if missing. */
	enum sg_flowlog_format format;
	uint64_t max_file_bytes;   /**< A file is closed after the window that reaches this size... */
	uint32_t max_file_age;     /**< ...or before a window ending this many seconds after its first. */
	uint32_t max_flows;        /**< Lines per window, and connections followed, at most. */
	/**
	 * Lines one port may have in a window (0: max_flows): the table is shared, so one port's
	 * flood of distinct flows cannot take the others' lines. A port over it loses its new
	 * lines, counted in its SKIPDATA line.
	 */
	uint32_t port_max_flows;
};

/** Port ids the aggregator counts losses for (the datapath's port ids are below it). */
#define SG_FLOWLOG_MAX_PORT_IDS 4096

struct sg_flowlog_stats {
	uint64_t events;
	uint64_t conns_live;       /**< Live connection reports (walks). */
	uint64_t conns_closed;     /**< Closed connection reports. */
	uint64_t lost;             /**< Records lost before they reached the aggregator. */
	uint64_t port_lost;        /**< Records lost in all, attributed to a port (SKIPDATA). */
	uint64_t port_capped;      /**< Lines not logged: their port had its share of the window. */
	uint64_t flows_dropped;    /**< Flows not logged: the window's table was full. */
	uint64_t conns_untracked;  /**< Connections not followed: the table was full. */
	uint64_t unknown_epoch;    /**< Reports of an epoch no longer known (rule shown as "-"). */
	uint64_t windows;
	uint64_t lines;            /**< OK lines written. */
	uint64_t nodata;
	uint64_t skipdata;
	uint64_t files;            /**< Files opened. */
	uint64_t bytes_written;
	uint64_t write_errors;
	uint32_t flows;            /**< Flows in the open window. */
	uint32_t conns;            /**< Connections followed. */
};

struct sg_flowlog;

/** Create the aggregator (and its directory). NULL and 'err' (errno set) on failure. */
struct sg_flowlog *sg_flowlog_create(const struct sg_flowlog_params *p, struct sg_error *err);
/** Close the open file and free; NULL is a no-op. The open window is not written. */
void sg_flowlog_free(struct sg_flowlog *fl);

/**
 * Learn the names of policy epoch 'epoch': port_ids[i] is the id the datapath uses for
 * conf->ports[i] in events and connections. The newest epoch also gives the ports that are
 * logged (sg_conf_flowlog_traffic()) and so get NODATA lines. The last 64 epochs are kept.
 * Returns 0 or -ENOMEM.
 */
int sg_flowlog_set_epoch(struct sg_flowlog *fl, uint32_t epoch, const struct sg_conf *conf,
		const uint16_t *port_ids);

void sg_flowlog_add_event(struct sg_flowlog *fl, const struct sg_flowlog_event *ev);
/**
 * A connection's counters. Live reports give what was added since the connection's previous
 * report; a closed report gives the rest and forgets the connection.
 */
void sg_flowlog_add_conn(struct sg_flowlog *fl, const struct sg_flowlog_conn *c, bool closed);
/** 'n' records were lost upstream (a full ring): reported in the window's SKIPDATA line. */
void sg_flowlog_add_lost(struct sg_flowlog *fl, uint64_t n);
/**
 * 'n' records concerning port 'port_id' were lost upstream: the port's own SKIPDATA line says
 * its data for the window is incomplete (the audit then judges none of its rules unused).
 */
void sg_flowlog_add_port_lost(struct sg_flowlog *fl, uint16_t port_id, uint64_t n);

/**
 * End the window [start, end) (Unix seconds): connections missing from two walks in a row
 * are forgotten, the window's lines are written in one write and flushed (no fsync), files
 * are rotated. Returns 0, or -errno when writing failed (counted; the lines are lost).
 */
int sg_flowlog_window_end(struct sg_flowlog *fl, int64_t start, int64_t end);

void sg_flowlog_get_stats(const struct sg_flowlog *fl, struct sg_flowlog_stats *st);
/** The file being written, or "" when none is open. */
const char *sg_flowlog_current_file(const struct sg_flowlog *fl);

#endif /* SG_FLOWLOG_H */
