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

#endif /* AUDIT_PRIVATE_H */
