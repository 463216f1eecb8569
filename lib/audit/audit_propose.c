/* SPDX-License-Identifier: BSD-3-Clause */
/* The audit's tightened config: the findings' suggestions tried one at a time against the
 * policy and the logged flows, and the edited config files written out (sg_audit_write). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_private.h"

struct state {
	bool **removed;            /* [group][rule as written] */
	struct sg_rule ***variants;
	uint32_t **n_variants;
	bool *inner_drop;
};

static void
state_free(const struct sg_spec *spec, struct state *s)
{
	for (uint32_t g = 0; g < spec->n_groups; g++) {
		if (s->removed != NULL)
			free(s->removed[g]);
		if (s->variants != NULL)
			free(s->variants[g]);
		if (s->n_variants != NULL)
			free(s->n_variants[g]);
	}
	free(s->removed);
	free(s->variants);
	free(s->n_variants);
	free(s->inner_drop);
}

static int
state_init(const struct sg_spec *spec, struct state *s)
{
	memset(s, 0, sizeof(*s));
	s->removed = calloc(spec->n_groups + 1u, sizeof(*s->removed));
	s->variants = calloc(spec->n_groups + 1u, sizeof(*s->variants));
	s->n_variants = calloc(spec->n_groups + 1u, sizeof(*s->n_variants));
	s->inner_drop = calloc(spec->n_groups + 1u, sizeof(*s->inner_drop));
	if (s->removed == NULL || s->variants == NULL || s->n_variants == NULL ||
			s->inner_drop == NULL)
		return -ENOMEM;
	for (uint32_t g = 0; g < spec->n_groups; g++) {
		uint32_t n = spec->groups[g].n_rules + 1u;

		s->removed[g] = calloc(n, sizeof(**s->removed));
		s->variants[g] = calloc(n, sizeof(**s->variants));
		s->n_variants[g] = calloc(n, sizeof(**s->n_variants));
		if (s->removed[g] == NULL || s->variants[g] == NULL || s->n_variants[g] == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* The spec as written with the state's changes. Where each rule went: pos[r] (-1 removed). */
static struct sg_spec *
build_spec(const struct sg_spec *base, const struct state *s)
{
	struct sg_spec *spec = sg_spec_clone(base);

	if (spec == NULL)
		return NULL;
	for (uint32_t g = 0; g < spec->n_groups; g++) {
		struct sg_group *grp = &spec->groups[g];
		uint32_t cap = grp->n_rules * (MAX_VARIANTS + 1) + 16, n = 0;
		struct sg_rule *rules = malloc(cap * sizeof(*rules));

		if (rules == NULL) {
			sg_spec_free(spec);
			return NULL;
		}
		for (uint32_t r = 0; r < grp->n_rules; r++) {
			if (s->removed[g][r])
				continue;
			if (s->variants[g][r] != NULL) {
				for (uint32_t k = 0; k < s->n_variants[g][r]; k++)
					rules[n++] = s->variants[g][r][k];
				continue;
			}
			rules[n++] = grp->rules[r];
		}
		free(grp->rules);
		grp->rules = rules;
		grp->n_rules = n;
		if (s->inner_drop[g]) {
			grp->inner_access = SG_ACTION_DROP;
			grp->inner_access_given = true;
		}
	}
	return spec;
}

/* Normalised index, in the state's spec, of rule 'r' (as written) of group 'g'; -1 if gone. */
static int
norm_index(const struct sg_spec *base, const struct state *s, const struct sg_spec *cur,
		uint32_t g, uint32_t r)
{
	uint32_t pos = 0, norm = 0;

	if (s->removed[g][r] || s->variants[g][r] != NULL)
		return -1;
	for (uint32_t k = 0; k < r; k++)
		pos += s->removed[g][k] ? 0 : (s->variants[g][k] != NULL ? s->n_variants[g][k] : 1);
	(void)base;
	for (uint32_t i = 0; i < pos; i++)
		if (audit_repeat_of(&cur->groups[g], i) < 0)
			norm++;
	return audit_repeat_of(&cur->groups[g], pos) < 0 ? (int)norm : -1;
}

/* Is rule (g, norm) shadowed or redundant, statically, on every port of its group? */
static bool
still_removable(const struct sg_policy *policy, uint32_t g, int norm)
{
	const struct sg_spec *spec = sg_policy_spec(policy);
	const uint32_t *members;
	uint32_t n_members = sg_policy_group_members(policy, g, &members);

	if (norm < 0 || n_members == 0)
		return false;
	for (uint32_t m = 0; m < n_members; m++) {
		for (int d = 0; d < SG_DIR_COUNT; d++) {
			const struct sg_eff_rule *eff;
			uint32_t n = sg_policy_effective(policy, members[m], (enum sg_dir)d, &eff);

			for (uint32_t j = 0; j < n; j++) {
				enum sg_audit_kind kind;
				uint32_t other;
				bool st;

				if (eff[j].origin != SG_ORIGIN_RULE || eff[j].group != g ||
						eff[j].rule != (uint32_t)norm)
					continue;
				if (!audit_entry_relation(spec, eff, n, j, &kind, &other, &st) || !st)
					return false;
			}
		}
	}
	return true;
}

/* Every logged flow keeps its verdict under 'policy'. */
static bool
replay_ok(const struct sg_audit *a, const struct sg_policy *policy, char *why, size_t size)
{
	for (uint32_t i = 0; i < a->n_flows; i++) {
		const struct flow *fl = &a->flows[i];
		struct sg_verdict before, after;
		char src[SG_IP_STRLEN], dst[SG_IP_STRLEN];

		sg_policy_decide(a->policy, fl->port, fl->dir, &fl->f, &before);
		/* Only flows this config decided as logged (replies ride on their connection). */
		if (before.action != fl->action)
			continue;
		sg_policy_decide(policy, fl->port, fl->dir, &fl->f, &after);
		if (after.action == before.action)
			continue;
		snprintf(why, size, "the logged %s flow %s -> %s:%u (protocol %u) on %s would be %s",
				sg_dir_name(fl->dir), sg_ip_format(&fl->f.src, src, sizeof(src)),
				sg_ip_format(&fl->f.dst, dst, sizeof(dst)), fl->f.dport, fl->f.proto,
				a->conf->spec->ports[fl->port].name,
				after.action == SG_ACTION_ACCEPT ? "accepted" : "refused");
		return false;
	}
	return true;
}

/*
 * Suggestions in the order they are tried: exact repeats and rules that never match (removing
 * them changes nothing), then the tightening ones (narrower rules, unused accepts, inner
 * access), then rules that are redundant, rechecked against what was kept before them, so a
 * wide rule is narrowed rather than a narrower rule under it removed.
 */
#define ORDER_REPEAT SG_AUDIT_KIND_COUNT

static int
collect_cands(struct sg_audit *a, struct cand **out, uint32_t *n_out)
{
	static const int order[] = {
		ORDER_REPEAT, SG_AUDIT_SHADOWED, SG_AUDIT_WIDE, SG_AUDIT_UNUSED,
		SG_AUDIT_INNER_UNUSED, SG_AUDIT_REDUNDANT,
	};
	const struct sg_spec *spec = a->conf->spec;
	struct cand *c = calloc(a->n_findings + 1u, sizeof(*c));
	uint32_t n = 0;

	if (c == NULL)
		return -ENOMEM;
	for (size_t o = 0; o < SG_ARRAY_SIZE(order); o++) {
		for (uint32_t i = 0; i < a->n_findings; i++) {
			struct sg_audit_finding *f = &a->findings[i];
			const struct sg_group *grp;
			const uint32_t *members;
			uint32_t n_members;

			grp = &spec->groups[f->rule.group];
			if (f->not_applied[0] != '\0')
				continue;
			if (order[o] == ORDER_REPEAT) {
				if (f->kind != SG_AUDIT_REDUNDANT || f->rule.rule < 0 ||
						audit_repeat_of(grp, (uint32_t)f->rule.rule) < 0)
					continue;
			} else if ((int)f->kind != order[o] ||
					(f->kind == SG_AUDIT_REDUNDANT &&
							audit_repeat_of(grp, (uint32_t)f->rule.rule) >= 0)) {
				continue;
			}
			n_members = sg_policy_group_members(a->policy, (uint32_t)f->rule.group, &members);
			switch (f->kind) {
			case SG_AUDIT_REDUNDANT:
			case SG_AUDIT_SHADOWED:
				if (strncmp(f->suggestion, "remove", 6) != 0)
					continue;
				c[n++] = (struct cand){.op = CAND_REMOVE, .group = (uint32_t)f->rule.group,
						.rule = f->rule.rule, .finding = i,
						.recheck = audit_repeat_of(grp, (uint32_t)f->rule.rule) < 0};
				break;
			case SG_AUDIT_UNUSED:
				if (grp->rules[f->rule.rule].action != SG_ACTION_ACCEPT || n_members == 0)
					continue;
				c[n++] = (struct cand){.op = CAND_REMOVE, .group = (uint32_t)f->rule.group,
						.rule = f->rule.rule, .finding = i};
				break;
			case SG_AUDIT_WIDE: {
				struct sg_rule variants[MAX_VARIANTS];
				char why[256];
				uint32_t nv = audit_narrow(&grp->rules[f->rule.rule],
						&a->uses[f->rule.group][f->rule.rule], variants, why, sizeof(why));

				if (nv == 0)
					continue;
				c[n].variants = malloc(nv * sizeof(*variants));
				if (c[n].variants == NULL)
					goto nomem;
				memcpy(c[n].variants, variants, nv * sizeof(*variants));
				c[n].n_variants = nv;
				c[n].op = CAND_REPLACE;
				c[n].group = (uint32_t)f->rule.group;
				c[n].rule = f->rule.rule;
				c[n].finding = i;
				n++;
				break;
			}
			case SG_AUDIT_INNER_UNUSED:
				c[n++] = (struct cand){.op = CAND_INNER_DROP,
						.group = (uint32_t)f->rule.group, .rule = -1, .finding = i};
				break;
			default:
				break;
			}
		}
	}
	*out = c;
	*n_out = n;
	return 0;
nomem:
	for (uint32_t k = 0; k < n; k++)
		free(c[k].variants);
	free(c);
	return -ENOMEM;
}

/* Apply candidate 'c' to 's' (or undo it). */
static void
cand_set(struct state *s, const struct cand *c, bool on)
{
	switch (c->op) {
	case CAND_REMOVE:
		s->removed[c->group][c->rule] = on;
		break;
	case CAND_REPLACE:
		s->variants[c->group][c->rule] = on ? c->variants : NULL;
		s->n_variants[c->group][c->rule] = on ? c->n_variants : 0;
		break;
	case CAND_INNER_DROP:
		s->inner_drop[c->group] = on;
		break;
	}
}

/* Decide which suggestions go into the proposal. */
static int
choose(struct sg_audit *a, struct cand *cands, uint32_t n, struct state *s)
{
	const struct sg_spec *base = a->conf->spec;

	for (uint32_t i = 0; i < n; i++) {
		struct cand *c = &cands[i];
		struct sg_audit_finding *f = &a->findings[c->finding];
		struct sg_error err = {0};
		struct sg_spec *spec;
		struct sg_policy *policy;
		bool ok = true;

		/* One change per rule: the first (the most certain) wins. */
		if (c->rule >= 0 && (s->removed[c->group][c->rule] ||
					    s->variants[c->group][c->rule] != NULL)) {
			snprintf(f->not_applied, sizeof(f->not_applied), "another change of this rule "
					"is in the proposal");
			continue;
		}
		if (c->recheck) {
			/* Shadowing and redundancy are relations: an earlier removal may end them. */
			struct sg_spec *cur = build_spec(base, s);
			struct sg_policy *pol = cur != NULL ? sg_policy_compile(cur, &err) : NULL;

			ok = pol != NULL && still_removable(pol, c->group,
							norm_index(base, s, cur, c->group, (uint32_t)c->rule));
			sg_policy_free(pol);
			sg_spec_free(cur);
			if (!ok) {
				snprintf(f->not_applied, sizeof(f->not_applied), "no longer so once other "
						"suggestions are applied");
				continue;
			}
		}
		cand_set(s, c, true);
		spec = build_spec(base, s);
		if (spec == NULL)
			return -ENOMEM;
		policy = sg_policy_compile(spec, &err);
		if (policy == NULL) {
			snprintf(f->not_applied, sizeof(f->not_applied), "the config would not compile: %s",
					err.msg);
			ok = false;
		} else if (!replay_ok(a, policy, f->not_applied, sizeof(f->not_applied))) {
			ok = false;
		}
		sg_policy_free(policy);
		sg_spec_free(spec);
		if (!ok) {
			cand_set(s, c, false);
			continue;
		}
		f->in_proposal = true;
		a->sum.proposal = true;
	}
	return 0;
}

/* The text of a wide rule's replacement: the element once per narrower rule, fields changed. */
static char *
replacement_text(struct sg_audit *a, const struct cand *c)
{
	const struct at_elem *e = &a->text.groups[c->group].children[c->rule];
	const struct sg_rule *orig = &a->conf->spec->groups[c->group].rules[c->rule];
	char indent[64], *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (m == NULL)
		return NULL;
	at_indent_of(&a->text, &e->span, indent, sizeof(indent));
	for (uint32_t v = 0; v < c->n_variants; v++) {
		const struct sg_rule *r = &c->variants[v];
		const char *names[4], *vals[4];
		char values[4][SG_PREFIX_STRLEN + 4], proto[16], cidr[SG_PREFIX_STRLEN];
		bool ports = sg_proto_has_ports(r->proto);
		uint32_t nf = 0;
		char *one;

		if (r->proto != orig->proto) {
			names[nf] = "protocol";
			snprintf(values[nf++], sizeof(values[0]), "\"%s\"",
					sg_proto_name(r->proto, proto, sizeof(proto)));
		}
		if (ports && (r->proto != orig->proto || r->dport.lo != orig->dport.lo ||
					    r->dport.hi != orig->dport.hi)) {
			names[nf] = "port_range";
			if (r->dport.lo == 0 && r->dport.hi == UINT16_MAX)
				snprintf(values[nf++], sizeof(values[0]), "\"1/65535\"");
			else
				snprintf(values[nf++], sizeof(values[0]), "\"%u/%u\"", r->dport.lo,
						r->dport.hi);
		}
		if (r->peer_kind == SG_PEER_CIDR && !sg_prefix_equal(&r->cidr, &orig->cidr)) {
			bool host = r->cidr.len == (r->cidr.ip.family == SG_AF_INET ? 32 : 128);

			names[nf] = r->peer_is_source ? "source_cidr" : "dest_cidr";
			if (host)
				sg_ip_format(&r->cidr.ip, cidr, sizeof(cidr));
			else
				sg_prefix_format(&r->cidr, cidr, sizeof(cidr));
			snprintf(values[nf++], sizeof(values[0]), "\"%s\"", cidr);
		}
		for (uint32_t q = 0; q < nf; q++)
			vals[q] = values[q];
		one = at_elem_with(&a->text, e, names, vals, nf);
		if (one == NULL) {
			fclose(m);
			free(text);
			return NULL;
		}
		if (v > 0)
			fprintf(m, ",\n%s", indent);
		fputs(one, m);
		free(one);
	}
	fclose(m);
	return text;
}

/* The text edits of the suggestions in the proposal. */
static int
make_edits(struct sg_audit *a, const struct cand *cands, uint32_t n, const struct state *s,
		struct at_edit **out, uint32_t *n_out)
{
	const struct sg_spec *spec = a->conf->spec;
	uint32_t cap = n + spec->n_groups + 1u, k = 0;
	struct at_edit *ed = calloc(cap, sizeof(*ed));
	int rc = 0;

	if (ed == NULL)
		return -ENOMEM;
	/* Removals, by runs of neighbouring rules. */
	for (uint32_t g = 0; g < spec->n_groups && rc == 0; g++) {
		const struct at_elem *grp = &a->text.groups[g];

		for (uint32_t i = 0; i < grp->n_children && rc == 0;) {
			uint32_t j = i;

			if (!s->removed[g][i]) {
				i++;
				continue;
			}
			while (j + 1 < grp->n_children && s->removed[g][j + 1])
				j++;
			rc = at_edit_remove(&a->text, grp->children, grp->n_children, i, j, &ed[k++]);
			i = j + 1;
		}
	}
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		const struct cand *c = &cands[i];
		const struct at_elem *grp = &a->text.groups[c->group];

		if (!a->findings[c->finding].in_proposal || c->op == CAND_REMOVE)
			continue;
		if (c->op == CAND_REPLACE) {
			ed[k].span = grp->children[c->rule].span;
			ed[k].text = replacement_text(a, c);
		} else {
			const struct at_setting *st = at_field(grp, "inner_access_policy");
			const struct at_setting *id = at_field(grp, "id");

			if (st != NULL) {
				ed[k].span = st->value;
				ed[k].text = strdup("\"drop\"");
			} else {
				/* Next to the id, where people look for it. */
				ed[k].span = (struct at_span){id->whole.file, id->whole.end, id->whole.end};
				ed[k].text = strdup(" inner_access_policy = \"drop\";");
			}
		}
		if (ed[k++].text == NULL)
			rc = -ENOMEM;
	}
	*out = ed;
	*n_out = k;
	return rc;
}

/* Whether 'path' is, through any link, one of the files of the config being audited. */
static bool
is_audited_file(const struct sg_audit *a, const struct stat *st)
{
	for (uint32_t i = 0; i < a->n_files; i++) {
		struct stat src;

		if (stat(a->files[i].path, &src) == 0 && src.st_dev == st->st_dev &&
				src.st_ino == st->st_ino)
			return true;
	}
	return false;
}

/* 'text' as 'path': a new file of our own beside it (O_EXCL), renamed over it. */
static int
write_new(const char *path, const char *text, struct sg_error *err)
{
	char tmp[SG_PATH_MAX * 2 + 16];
	size_t len = strlen(text);
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return sg_error_set(err, 0, "%s: cannot write: %s", path, strerror(errno)), -errno;
	if (fchmod(fd, 0644) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	/* rename() replaces a link that appeared meanwhile, never the file it points to. */
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return sg_error_set(err, 0, "%s: cannot write: %s", path, strerror(-rc)), rc;
	}
	return 0;
}

/*
 * Write the files under 'dir' at their places relative to the main file. Never over the config
 * being audited (an output directory that is its directory, a link to it, or a link to one of
 * its files), and never through a link.
 */
static int
write_files(const struct sg_audit *a, const char *dir, struct sg_error *err)
{
	for (uint32_t i = 0; i < a->n_files; i++) {
		const struct sg_audit_file *f = &a->files[i];
		char path[SG_PATH_MAX * 2 + 2];
		struct stat st;

		if (f->relpath[0] == '/' || strstr(f->relpath, "..") != NULL)
			return sg_error_set(err, 0, "%s is outside the main file's directory; it cannot be "
					"written elsewhere", f->path);
		snprintf(path, sizeof(path), "%s/%s", dir, f->relpath);
		if (stat(path, &st) == 0 && is_audited_file(a, &st))
			return sg_error_set(err, 0,
					"--output %s: %s is %s, which is being audited; "
					"choose another directory",
					dir, path, f->path),
			       -EEXIST;
		if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
			return sg_error_set(err, 0,
					"--output %s: %s exists and is %s; sgfwctl writes "
					"only new or regular files there",
					dir, path,
					S_ISLNK(st.st_mode) ? "a symbolic link" : "not a file"),
			       -EEXIST;
	}
	for (uint32_t i = 0; i < a->n_files; i++) {
		const struct sg_audit_file *f = &a->files[i];
		char path[SG_PATH_MAX * 2 + 2];
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, f->relpath);
		/* Directories of nested includes. */
		for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
		rc = write_new(path, f->new_text != NULL ? f->new_text : f->old_text, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
sg_audit_write(const struct sg_audit *a, const char *dir, struct sg_error *err)
{
	if (a->n_files == 0)
		return sg_error_set(err, 0, "no proposal to write"), -ENOENT;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return sg_error_set(err, 0, "%s: cannot create: %s", dir, strerror(errno)), -errno;
	return write_files(a, dir, err);
}

static void
remove_tree(const char *dir, const struct sg_audit *a)
{
	for (uint32_t i = a->n_files; i-- > 0;) {
		char path[SG_PATH_MAX * 2 + 2];

		snprintf(path, sizeof(path), "%s/%s", dir, a->files[i].relpath);
		unlink(path);
		/* Nested directories, deepest first. */
		for (char *slash = strrchr(path, '/'); slash != NULL && slash > path + strlen(dir);
				slash = strrchr(path, '/')) {
			*slash = '\0';
			rmdir(path);
		}
	}
	rmdir(dir);
}

/* Load the tightened files as `sgfwctl check` does, from a scratch directory. */
static void
verify(struct sg_audit *a)
{
	char dir[] = "/tmp/sgfw-audit-XXXXXX", main_path[SG_PATH_MAX * 2];
	struct sg_error err = {0};
	struct sg_conf *conf;

	if (mkdtemp(dir) == NULL) {
		snprintf(a->sum.verify_error, sizeof(a->sum.verify_error),
				"no scratch directory to load the proposal from: %s", strerror(errno));
		return;
	}
	if (write_files(a, dir, &err) < 0) {
		snprintf(a->sum.verify_error, sizeof(a->sum.verify_error), "%s", err.msg);
		remove_tree(dir, a);
		return;
	}
	snprintf(main_path, sizeof(main_path), "%s/%s", dir, a->files[0].relpath);
	conf = sg_conf_load_file(main_path, &err);
	if (conf == NULL) {
		snprintf(a->sum.verify_error, sizeof(a->sum.verify_error), "%s", err.msg);
	} else if (!replay_ok(a, conf->policy, a->sum.verify_error, sizeof(a->sum.verify_error))) {
		/* The text says something else than the suggestions: never print it as verified. */
	} else {
		a->sum.verified = true;
	}
	sg_conf_free(conf);
	remove_tree(dir, a);
}

int
audit_propose(struct sg_audit *a, struct sg_error *err)
{
	const struct sg_spec *spec = a->conf->spec;
	struct cand *cands = NULL;
	uint32_t n_cands = 0, n_edits = 0;
	struct at_edit *edits = NULL;
	char *new_texts[AT_MAX_FILES] = {0}, *diffs[AT_MAX_FILES] = {0};
	struct state s;
	int rc;

	if ((rc = state_init(spec, &s)) < 0 || (rc = collect_cands(a, &cands, &n_cands)) < 0 ||
			(rc = choose(a, cands, n_cands, &s)) < 0)
		goto out;
	if (!a->sum.proposal)
		goto out;
	if ((rc = at_load(&a->text, a->conf, err)) < 0) {
		for (uint32_t i = 0; i < a->n_findings; i++)
			if (a->findings[i].in_proposal) {
				a->findings[i].in_proposal = false;
				snprintf(a->findings[i].not_applied, sizeof(a->findings[i].not_applied),
						"the config text could not be edited");
			}
		a->sum.proposal = false;
		snprintf(a->sum.verify_error, sizeof(a->sum.verify_error), "%s", err->msg);
		goto out;
	}
	a->have_text = true;
	if ((rc = make_edits(a, cands, n_cands, &s, &edits, &n_edits)) < 0 ||
			(rc = at_apply(&a->text, edits, n_edits, new_texts, diffs)) < 0)
		goto out;
	a->files = calloc(a->text.n_files, sizeof(*a->files));
	if (a->files == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	a->n_files = a->text.n_files;
	for (uint32_t f = 0; f < a->text.n_files; f++) {
		sg_strlcpy(a->files[f].path, a->text.files[f].path, sizeof(a->files[f].path));
		sg_strlcpy(a->files[f].relpath, a->text.files[f].rel, sizeof(a->files[f].relpath));
		a->files[f].old_text = a->text.files[f].text;
		a->files[f].new_text = new_texts[f];
		a->files[f].diff = diffs[f];
		new_texts[f] = diffs[f] = NULL;
	}
	verify(a);
out:
	for (uint32_t i = 0; i < n_edits; i++)
		free(edits[i].text);
	free(edits);
	for (uint32_t f = 0; f < AT_MAX_FILES; f++) {
		free(new_texts[f]);
		free(diffs[f]);
	}
	for (uint32_t i = 0; i < n_cands; i++)
		free(cands[i].variants);
	free(cands);
	state_free(spec, &s);
	return rc;
}
