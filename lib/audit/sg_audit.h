/* SPDX-License-Identifier: BSD-3-Clause */
/* Auditing a config, against its flow logs and alone: which rules matched nothing in the logged
 * period, which accept rules admit much more than the traffic they carried (each with narrower
 * rules to use instead), which rules can never match because an earlier one always decides
 * first (shadowed) or repeat another (redundant), where a drop and an accept overlap at one
 * priority, which groups let members talk although no member talked to another; and a
 * tightened config, as edits of the config files, that loads and still accepts every logged
 * flow the config accepted (and refuses every one it refused).
 *
 * Usage:
 *   a = sg_audit_create(conf);
 *   sg_audit_add_record(a, rec) for each flow-log record (sg_flowlog_read());
 *   sg_audit_run(a, have_logs, &err): the findings and the proposal;
 *   sg_audit_findings(), sg_audit_files(), ...; sg_audit_free(a).
 * With have_logs false only the config-alone findings (shadowed, redundant, conflicts) are made.
 *
 * Rules are named as written: group and 1-based position in the config file, as flow logs name
 * them. No DPDK. Thread-safety: one audit per thread; the conf must outlive it.
 */
#ifndef SG_AUDIT_H
#define SG_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "sg_conf.h"
#include "sg_flowlog.h"
#include "sg_policy.h"

enum sg_audit_kind {
	SG_AUDIT_UNUSED = 0,   /**< Matched no logged traffic on the ports it guards. */
	SG_AUDIT_WIDE,         /**< An accept rule much wider than the traffic it admitted. */
	SG_AUDIT_SHADOWED,     /**< Never matches: an earlier rule with another action decides first. */
	SG_AUDIT_REDUNDANT,    /**< Repeats another rule: removing it changes no verdict. */
	SG_AUDIT_CONFLICT,     /**< A drop and an accept overlap at one priority on a port (D2). */
	SG_AUDIT_INNER_UNUSED, /**< inner_access_policy accept, and no member talked to another. */
	SG_AUDIT_KIND_COUNT,
};

/** A rule as findings name it. */
struct sg_audit_rule_ref {
	enum sg_origin origin;     /**< RULE, INNER (the group's inner access) or DEFAULT. */
	int32_t group;             /**< Group index in conf->spec; -1 for a default. */
	int32_t rule;              /**< RULE: 0-based position in the group as written; else -1. */
	enum sg_group_type type;   /**< DEFAULT: whose default. */
	enum sg_dir dir;           /**< DEFAULT: which direction. */
};

struct sg_audit_finding {
	enum sg_audit_kind kind;
	struct sg_audit_rule_ref rule;  /**< The rule (or, INNER_UNUSED, the group) found. */
	struct sg_audit_rule_ref other; /**< SHADOWED, REDUNDANT, CONFLICT: the other rule. */
	bool has_other;
	uint32_t *ports;           /**< Spec port indices where the finding holds. */
	uint32_t n_ports;
	char text[768];            /**< The finding, for people. */
	char suggestion[1024];     /**< What to do, for people ("" if nothing). */
	/** WIDE: the narrower rules, each as config text ("{ direction = ...; }"). */
	char **suggested;
	uint32_t n_suggested;
	bool in_proposal;          /**< The tightened config applies the suggestion. */
	char not_applied[256];     /**< Why a suggestion is not in the proposal ("" if it is or none). */
	uint64_t packets;          /**< UNUSED/WIDE: packets the rule decided in the logs. */
};

/** One config file of the tightened config. */
struct sg_audit_file {
	char path[SG_PATH_MAX];    /**< As the config names it (conf->sources). */
	char relpath[SG_PATH_MAX]; /**< Relative to the main file's directory. */
	char *old_text;
	char *new_text;            /**< NULL when unchanged. */
	char *diff;                /**< Unified diff, NULL when unchanged. */
};

struct sg_audit_summary {
	uint64_t records;          /**< Flow-log records read. */
	uint64_t records_unmatched;/**< Naming a port or rule the config does not have. */
	uint64_t records_lost;     /**< Lost before they were written (SKIPDATA lines' counts). */
	/** Cloud records (no rule in them) whose deciding rule this config's policy named. */
	uint64_t records_cloud_named;
	int64_t first_start;       /**< Logged period (Unix seconds), 0 when no logs. */
	int64_t last_end;
	uint32_t flows;            /**< Distinct flows replayed against the proposal. */
	bool proposal;             /**< The config changes at all. */
	bool verified;             /**< The tightened files load (as sgfwctl check does) and keep
				    *   every logged verdict. */
	char verify_error[SG_PATH_MAX + 512];
	uint32_t counts[SG_AUDIT_KIND_COUNT];
};

struct sg_audit;

/** An audit of 'conf' (loaded from a file: the proposal edits its files). NULL, errno ENOMEM. */
struct sg_audit *sg_audit_create(const struct sg_conf *conf);
void sg_audit_free(struct sg_audit *a);

/**
 * Take one flow-log record into account. A cloud's record (rec->format alibaba or aws-v5)
 * names no rule: the rule this config's policy decides it with is used (for an accepted one,
 * the rule that admitted its flow or, for replies, the flow they answer), or none when the
 * config would not give the logged verdict.
 */
void sg_audit_add_record(struct sg_audit *a, const struct sg_flowlog_record *rec);
/**
 * Records lost about port 'port' (spec index): its SKIPDATA lines' counts and those naming no
 * port. Not 0: the port's logs are incomplete, so no rule of it is judged unused or too wide.
 */
uint64_t sg_audit_port_lost(const struct sg_audit *a, uint32_t port);
/** Note the period the logs cover (from sg_flowlog_read()'s statistics). */
void sg_audit_set_period(struct sg_audit *a, int64_t first_start, int64_t last_end);

/**
 * Make the findings and the tightened config. Returns 0, or -errno with 'err' when the config
 * files cannot be read back or memory ran out (findings without a proposal are still made).
 */
int sg_audit_run(struct sg_audit *a, bool have_logs, struct sg_error *err);

uint32_t sg_audit_findings(const struct sg_audit *a, const struct sg_audit_finding **findings);
uint32_t sg_audit_files(const struct sg_audit *a, const struct sg_audit_file **files);
void sg_audit_get_summary(const struct sg_audit *a, struct sg_audit_summary *s);

/**
 * Write the tightened config under 'dir' (created if missing), every file at its path relative
 * to the main file, so `sgfwctl -c DIR/MAIN check` reads it. Returns 0 or -errno with 'err'.
 */
int sg_audit_write(const struct sg_audit *a, const char *dir, struct sg_error *err);

/** "unused", "wide", "shadowed", "redundant", "conflict", "inner-unused". */
const char *sg_audit_kind_name(enum sg_audit_kind kind);
/** "sg-db rule 2", "sg-db inner access", "default basic ingress drop". */
const char *sg_audit_rule_name(const struct sg_conf *conf, const struct sg_audit_rule_ref *r,
		char *buf, size_t size);

#endif /* SG_AUDIT_H */
