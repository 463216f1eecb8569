/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of the audit: rule relations (audit_rel.c) and the config text it edits
 * (audit_text.c). */
#ifndef AUDIT_PRIVATE_H
#define AUDIT_PRIVATE_H

#include <stddef.h>

#include "sg_audit.h"

/* ---- Rule relations on merged entries (audit_rel.c) ---- */

/* Every flow 'b' matches, 'a' matches too. Entries matching nothing are covered by anything. */
bool audit_covers(const struct sg_eff_rule *a, const struct sg_eff_rule *b);
/* Some flow matches both. */
bool audit_intersects(const struct sg_eff_rule *a, const struct sg_eff_rule *b);
/* The entry matches no flow at all (a group peer without members, an empty prefix list). */
bool audit_matches_nothing(const struct sg_eff_rule *e);

/* ---- Cloud records (audit_cloud.c) ---- */

/* Name the rule of this config that decided 'rec' (an accepted or refused record of a cloud's
 * flow logs, which names none) on port 'port'; positions[g][compiled rule] is the rule's
 * place as written. Left "-" when this config would not give the logged verdict. */
void audit_cloud_rule(const struct sg_policy *policy, const uint32_t *const *positions,
		uint32_t port, struct sg_flowlog_record *rec);

/* ---- Config text (audit_text.c) ---- */

struct at_span {
	uint32_t file;
	size_t start;              /* [start, end) in the file's text. */
	size_t end;
};

/* "name = value;" inside a group. */
struct at_setting {
	char name[SG_NAME_MAX];
	struct at_span whole;      /* From the name to the terminator (';' or ','), if any. */
	struct at_span value;
};

/* A "{ ... }" element of a list, with the settings in it. */
struct at_elem {
	struct at_span span;       /* '{' to '}' inclusive. */
	struct at_span comma_after;/* The ',' after it; start == end when none. */
	struct at_span comma_before;
	struct at_setting *fields;
	uint32_t n_fields;
	struct at_elem *children;  /* A group's rules (its "rules" list). */
	uint32_t n_children;
};

struct at_file {
	char path[SG_PATH_MAX];    /* As conf->sources names it. */
	char rel[SG_PATH_MAX];     /* Relative to the main file's directory. */
	char *text;
	size_t len;
};

#define AT_MAX_FILES 16

struct at_config {
	struct at_file files[AT_MAX_FILES];
	uint32_t n_files;
	struct at_elem *groups;    /* The security_groups list; rules are each one's children. */
	uint32_t n_groups;
};

/* Read the config's files and find every group and rule in them. */
int at_load(struct at_config *c, const struct sg_conf *conf, struct sg_error *err);
void at_free(struct at_config *c);
/* The setting 'name' of an element, or NULL. */
const struct at_setting *at_field(const struct at_elem *e, const char *name);

/* Replace [start, end) of a file's text with 'text'. */
struct at_edit {
	struct at_span span;
	char *text;
};

/*
 * The edit removing elements i..j of a list of n (a run: removing neighbours one by one would
 * give overlapping edits), with their commas, and their lines when they have them alone.
 */
int at_edit_remove(const struct at_config *c, const struct at_elem *list, uint32_t n, uint32_t i,
		uint32_t j, struct at_edit *out);
/*
 * The text of element 'e' with some fields set (name -> value text, value already quoted);
 * fields it lacks are added after its '{'. Returns a malloc'ed string.
 */
char *at_elem_with(const struct at_config *c, const struct at_elem *e, const char *const *names,
		const char *const *values, uint32_t n);
/* Indentation of the line 'span' starts on, when only blanks precede it on the line. */
void at_indent_of(const struct at_config *c, const struct at_span *span, char *buf, size_t size);

/*
 * Apply edits (any order, not overlapping) to every file: new_texts[f] is NULL for a file no
 * edit touches, else a malloc'ed text; diffs[f] the unified diff. Returns 0 or -ENOMEM.
 */
int at_apply(const struct at_config *c, const struct at_edit *edits, uint32_t n, char **new_texts,
		char **diffs);

/* ---- The audit's state (audit.c builds it, audit_propose.c tightens the config from it) ---- */

#define PORT_SEEN 0x1
#define PORT_CLOUD 0x2

/* What "much wider" means: the rule's addresses or ports outnumber what is needed 16 times. */
#define WIDE_LOG2 4
/* Narrower rules per wide rule at most; hosts and ports listed one by one up to these. */
#define MAX_VARIANTS 16
#define MAX_HOSTS 4
#define MAX_PORTS 4
/* Distinct values remembered per rule. */
#define USE_PEERS 64
#define USE_SVCS 64
/* Distinct flows replayed against the proposal. */
#define MAX_FLOWS 262144

struct svc {
	uint8_t proto;
	uint16_t port;             /* TCP/UDP destination port, ICMP type; 0 otherwise. */
};

/* What the logs say a rule (as written) did. */
struct use {
	uint64_t records;
	uint64_t packets;
	/* Accepted flows in the rule's own direction (not the replies of its connections). */
	uint64_t accepted;
	struct sg_ip peers[USE_PEERS];
	uint32_t n_peers;
	bool peers_overflow;
	struct svc svcs[USE_SVCS];
	uint32_t n_svcs;
	bool svcs_overflow;
	uint8_t protos[32];
};

/* A distinct logged flow: one port's view of one direction, with the verdict logged. */
struct flow {
	uint32_t port;
	enum sg_dir dir;
	enum sg_action action;
	struct sg_flow f;
	struct sg_flowlog_rule_ref rule;
};

/* Config-alone facts about one rule as written, over the ports of its group. */
struct rel {
	enum sg_audit_kind kind;   /* SHADOWED or REDUNDANT; KIND_COUNT: neither. */
	struct sg_audit_rule_ref other;
	uint32_t holds;            /* Ports where it holds. */
	bool all_static;           /* Holds whatever group memberships become. */
	uint32_t *ports;
	uint32_t n_ports;
};

struct conflict {
	struct sg_audit_rule_ref drop;
	struct sg_audit_rule_ref accept;
	uint32_t *ports;
	uint32_t n_ports;
	int priority;
};

enum cand_op {
	CAND_REMOVE,
	CAND_REPLACE,
	CAND_INNER_DROP,
};

struct cand {
	enum cand_op op;
	uint32_t group;
	int32_t rule;
	bool recheck;              /* Removal justified by shadowing/redundancy: check it again. */
	struct sg_rule *variants;  /* CAND_REPLACE. */
	uint32_t n_variants;
	uint32_t finding;
};

struct sg_audit {
	const struct sg_conf *conf;
	const struct sg_policy *policy;
	struct use **uses;         /* [group][rule as written] */
	struct rel **rels;
	uint32_t **positions;      /* [group][compiled rule]: its config position */
	/* Any record (NODATA included) names the port: PORT_SEEN, and PORT_CLOUD for a cloud's
	 * record (a cloud's flow log is taken to log all the port's traffic). */
	uint8_t *port_seen;
	uint64_t *port_lost;       /* Records lost about the port (its SKIPDATA lines)... */
	uint64_t lost_all;         /* ... and about ports no SKIPDATA line names. */
	struct flow *flows;
	uint32_t n_flows;
	uint32_t cap_flows;
	uint32_t *flow_index;      /* Open addressing over flows, for deduplication. */
	uint32_t flow_mask;
	struct conflict *conflicts;
	uint32_t n_conflicts;
	struct sg_audit_finding *findings;
	uint32_t n_findings;
	struct at_config text;
	bool have_text;
	struct sg_audit_file *files;
	uint32_t n_files;
	struct sg_audit_summary sum;
};

/* Helpers of audit.c the proposal uses. */
bool audit_entry_relation(const struct sg_spec *spec, const struct sg_eff_rule *eff, uint32_t n,
		uint32_t j, enum sg_audit_kind *kind, uint32_t *other, bool *is_static);
int audit_repeat_of(const struct sg_group *g, uint32_t r);
uint32_t audit_narrow(const struct sg_rule *r, const struct use *u, struct sg_rule *out, char *why,
		size_t size);
/* Build, verify and keep the tightened config (a->files); 0 or -errno and 'err'. */
int audit_propose(struct sg_audit *a, struct sg_error *err);

#endif /* AUDIT_PRIVATE_H */
