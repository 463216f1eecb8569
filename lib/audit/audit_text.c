/* SPDX-License-Identifier: BSD-3-Clause */
/* The config as text, for the audit's proposal: a small reader of libconfig's syntax that
 * finds every security group and rule in the files (following @include like libconfig), edits
 * that remove or rewrite them while leaving the rest of the files (comments, layout) alone, and
 * unified diffs of the result. The files were already loaded by lib/conf, so they are valid. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_private.h"

/* ---- Tokens ---- */

enum at_tok_kind {
	AT_EOF = 0,
	AT_PUNCT,   /* = : ; , { } ( ) [ ] */
	AT_STRING,  /* one or more adjacent "..." */
	AT_WORD,    /* a name, number, true/false */
};

struct at_tok {
	enum at_tok_kind kind;
	char c;                    /* AT_PUNCT */
	struct at_span span;
};

struct at_lexer {
	struct at_config *c;
	struct at_tok *toks;
	uint32_t n, cap;
	char main_dir[SG_PATH_MAX];
	int depth;
};

static int
push_tok(struct at_lexer *lx, enum at_tok_kind kind, char ch, uint32_t file, size_t start,
		size_t end)
{
	if (lx->n == lx->cap) {
		uint32_t cap = lx->cap == 0 ? 256 : lx->cap * 2;
		struct at_tok *grown = realloc(lx->toks, cap * sizeof(*grown));

		if (grown == NULL)
			return -ENOMEM;
		lx->toks = grown;
		lx->cap = cap;
	}
	lx->toks[lx->n++] = (struct at_tok){
		.kind = kind, .c = ch, .span = {.file = file, .start = start, .end = end},
	};
	return 0;
}

static int
read_text(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	long size;

	if (f == NULL)
		return -errno;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -EIO;
	}
	*text = malloc((size_t)size + 1);
	if (*text == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	*len = fread(*text, 1, (size_t)size, f);
	(*text)[*len] = '\0';
	fclose(f);
	return 0;
}

/* Skip blanks and comments from 'i'. */
static size_t
skip_space(const char *t, size_t len, size_t i)
{
	while (i < len) {
		if (isspace((unsigned char)t[i])) {
			i++;
		} else if (t[i] == '#' || (t[i] == '/' && i + 1 < len && t[i + 1] == '/')) {
			while (i < len && t[i] != '\n')
				i++;
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
			char *end = strstr(t + i + 2, "*/");

			i = end != NULL ? (size_t)(end - t) + 2 : len;
		} else {
			break;
		}
	}
	return i;
}

static size_t
string_end(const char *t, size_t len, size_t i)
{
	for (i++; i < len && t[i] != '"'; i++)
		if (t[i] == '\\' && i + 1 < len)
			i++;
	return i < len ? i + 1 : len;
}

static int lex_file(struct at_lexer *lx, uint32_t file);

static int
include(struct at_lexer *lx, uint32_t file, size_t start, size_t end)
{
	const struct at_file *f = &lx->c->files[file];
	char name[SG_PATH_MAX], path[SG_PATH_MAX * 2 + 2];
	size_t n = end - start - 2;
	uint32_t k;

	if (n >= sizeof(name) || lx->depth > 8)
		return -EINVAL;
	memcpy(name, f->text + start + 1, n);
	name[n] = '\0';
	/* As lib/conf: relative to the main file's directory (libconfig's include dir). */
	if (name[0] == '/' || lx->main_dir[0] == '\0')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", lx->main_dir, name);
	for (k = 0; k < lx->c->n_files; k++)
		if (strcmp(lx->c->files[k].path, path) == 0)
			break;
	if (k == lx->c->n_files) {
		struct at_file *nf;
		int rc;

		if (k == AT_MAX_FILES)
			return -E2BIG;
		nf = &lx->c->files[k];
		memset(nf, 0, sizeof(*nf));
		if (sg_strlcpy(nf->path, path, sizeof(nf->path)) < 0)
			return -ENAMETOOLONG;
		snprintf(nf->rel, sizeof(nf->rel), "%s", name);
		if ((rc = read_text(path, &nf->text, &nf->len)) < 0)
			return rc;
		lx->c->n_files++;
	}
	lx->depth++;
	k = (uint32_t)lex_file(lx, k);
	lx->depth--;
	return (int)k;
}

/* Tokens of 'file', with the tokens of its @includes spliced in where they stand. */
static int
lex_file(struct at_lexer *lx, uint32_t file)
{
	const char *t = lx->c->files[file].text;
	size_t len = lx->c->files[file].len, i = 0;
	int rc;

	for (;;) {
		i = skip_space(t, len, i);
		if (i >= len)
			return 0;
		if (strchr("=:;,{}()[]", t[i]) != NULL) {
			if ((rc = push_tok(lx, AT_PUNCT, t[i], file, i, i + 1)) < 0)
				return rc;
			i++;
		} else if (t[i] == '"') {
			size_t start = i, end = string_end(t, len, i), next;

			/* Adjacent strings are one value. */
			for (;;) {
				next = skip_space(t, len, end);
				if (next >= len || t[next] != '"')
					break;
				end = string_end(t, len, next);
			}
			if ((rc = push_tok(lx, AT_STRING, 0, file, start, end)) < 0)
				return rc;
			i = end;
		} else if (t[i] == '@' && strncmp(t + i, "@include", 8) == 0) {
			size_t s = skip_space(t, len, i + 8), e;

			if (s >= len || t[s] != '"')
				return -EINVAL;
			e = string_end(t, len, s);
			if ((rc = include(lx, file, s, e)) < 0)
				return rc;
			i = e;
		} else {
			size_t start = i;

			while (i < len && !isspace((unsigned char)t[i]) && strchr("=:;,{}()[]\"#", t[i]) == NULL)
				i++;
			if (i == start)
				i++;
			if ((rc = push_tok(lx, AT_WORD, 0, file, start, i)) < 0)
				return rc;
		}
	}
}

/* ---- Structure ---- */

struct at_parser {
	struct at_config *c;
	const struct at_tok *toks;
	uint32_t n;
	uint32_t pos;
};

static const struct at_tok *
peek(const struct at_parser *p)
{
	static const struct at_tok eof = {.kind = AT_EOF};

	return p->pos < p->n ? &p->toks[p->pos] : &eof;
}

static bool
is_punct(const struct at_tok *t, char c)
{
	return t->kind == AT_PUNCT && t->c == c;
}

static void
elem_free(struct at_elem *e)
{
	for (uint32_t i = 0; i < e->n_children; i++)
		elem_free(&e->children[i]);
	free(e->children);
	free(e->fields);
}

static int parse_settings(struct at_parser *p, char close, struct at_elem *owner, bool top);

/* A value. When 'elems' is given, the "{...}" elements of a list are kept there. */
static int
parse_value(struct at_parser *p, struct at_span *span, struct at_elem **elems, uint32_t *n_elems)
{
	const struct at_tok *t = peek(p);
	const struct at_tok *prev_comma = NULL;
	char close;
	int rc;

	*span = t->span;
	if (t->kind == AT_STRING || t->kind == AT_WORD) {
		p->pos++;
		return 0;
	}
	if (is_punct(t, '{')) {
		p->pos++;
		rc = parse_settings(p, '}', NULL, false);
		if (rc < 0 || !is_punct(peek(p), '}'))
			return rc < 0 ? rc : -EINVAL;
		span->end = peek(p)->span.end;
		p->pos++;
		return 0;
	}
	if (!is_punct(t, '(') && !is_punct(t, '['))
		return -EINVAL;
	close = t->c == '(' ? ')' : ']';
	p->pos++;
	for (;;) {
		const struct at_tok *e = peek(p);

		if (is_punct(e, close))
			break;
		if (e->kind == AT_EOF)
			return -EINVAL;
		if (elems != NULL && is_punct(e, '{')) {
			struct at_elem el, *grown;

			memset(&el, 0, sizeof(el));
			p->pos++;
			rc = parse_settings(p, '}', &el, false);
			if (rc < 0 || !is_punct(peek(p), '}')) {
				elem_free(&el);
				return rc < 0 ? rc : -EINVAL;
			}
			el.span = (struct at_span){e->span.file, e->span.start, peek(p)->span.end};
			p->pos++;
			el.comma_before = prev_comma != NULL ? prev_comma->span :
				(struct at_span){el.span.file, el.span.start, el.span.start};
			el.comma_after = is_punct(peek(p), ',') ? peek(p)->span :
				(struct at_span){el.span.file, el.span.end, el.span.end};
			grown = realloc(*elems, (*n_elems + 1) * sizeof(*grown));
			if (grown == NULL) {
				elem_free(&el);
				return -ENOMEM;
			}
			*elems = grown;
			grown[(*n_elems)++] = el;
		} else {
			struct at_span sub;

			if ((rc = parse_value(p, &sub, NULL, NULL)) < 0)
				return rc;
		}
		prev_comma = NULL;
		if (is_punct(peek(p), ',')) {
			prev_comma = peek(p);
			p->pos++;
		}
	}
	span->end = peek(p)->span.end;
	p->pos++;
	return 0;
}

/*
 * Settings up to 'close' (or the end of the tokens). At the top level the security_groups list
 * is kept in the config; inside an element ('owner') its settings are kept, and a "rules" list
 * becomes its children.
 */
static int
parse_settings(struct at_parser *p, char close, struct at_elem *owner, bool top)
{
	int rc;

	for (;;) {
		const struct at_tok *name = peek(p);
		struct at_setting s;
		struct at_elem **elems = NULL;
		uint32_t *n_elems = NULL;
		size_t n;

		if (name->kind == AT_EOF || is_punct(name, close))
			return 0;
		if (name->kind != AT_WORD)
			return -EINVAL;
		p->pos++;
		memset(&s, 0, sizeof(s));
		n = SG_MIN(name->span.end - name->span.start, sizeof(s.name) - 1);
		memcpy(s.name, p->c->files[name->span.file].text + name->span.start, n);
		if (!is_punct(peek(p), '=') && !is_punct(peek(p), ':'))
			return -EINVAL;
		p->pos++;
		if (top && strcmp(s.name, "security_groups") == 0) {
			elems = &p->c->groups;
			n_elems = &p->c->n_groups;
		} else if (owner != NULL && strcmp(s.name, "rules") == 0) {
			elems = &owner->children;
			n_elems = &owner->n_children;
		}
		if ((rc = parse_value(p, &s.value, elems, n_elems)) < 0)
			return rc;
		s.whole = (struct at_span){name->span.file, name->span.start, s.value.end};
		if (is_punct(peek(p), ';') || is_punct(peek(p), ',')) {
			s.whole.end = peek(p)->span.end;
			p->pos++;
		}
		if (owner != NULL) {
			struct at_setting *grown =
				realloc(owner->fields, (owner->n_fields + 1) * sizeof(*grown));

			if (grown == NULL)
				return -ENOMEM;
			owner->fields = grown;
			owner->fields[owner->n_fields++] = s;
		}
	}
}

const struct at_setting *
at_field(const struct at_elem *e, const char *name)
{
	for (uint32_t i = 0; i < e->n_fields; i++)
		if (strcmp(e->fields[i].name, name) == 0)
			return &e->fields[i];
	return NULL;
}

/* The string value of a setting, unquoted (simple strings only). */
static void
string_value(const struct at_config *c, const struct at_setting *s, char *buf, size_t size)
{
	const char *t = c->files[s->value.file].text + s->value.start;
	size_t n = s->value.end - s->value.start, used = 0;

	for (size_t i = 1; i + 1 < n && used + 1 < size; i++) {
		if (t[i] == '\\' && i + 2 < n)
			i++;
		buf[used++] = t[i];
	}
	buf[used] = '\0';
}

void
at_free(struct at_config *c)
{
	for (uint32_t i = 0; i < c->n_groups; i++)
		elem_free(&c->groups[i]);
	free(c->groups);
	for (uint32_t f = 0; f < c->n_files; f++)
		free(c->files[f].text);
	memset(c, 0, sizeof(*c));
}

int
at_load(struct at_config *c, const struct sg_conf *conf, struct sg_error *err)
{
	struct at_lexer lx = {.c = c};
	struct at_parser p = {.c = c};
	const struct sg_spec *spec = conf->spec;
	const char *slash = strrchr(conf->path, '/');
	int rc;

	memset(c, 0, sizeof(*c));
	if (slash != NULL)
		snprintf(lx.main_dir, sizeof(lx.main_dir), "%.*s", (int)(slash - conf->path), conf->path);
	sg_strlcpy(c->files[0].path, conf->path, sizeof(c->files[0].path));
	sg_strlcpy(c->files[0].rel, slash != NULL ? slash + 1 : conf->path, sizeof(c->files[0].rel));
	if ((rc = read_text(conf->path, &c->files[0].text, &c->files[0].len)) < 0) {
		sg_error_set(err, 0, "cannot read %s again: %s", conf->path, strerror(-rc));
		return rc;
	}
	c->n_files = 1;
	rc = lex_file(&lx, 0);
	if (rc == 0) {
		p.toks = lx.toks;
		p.n = lx.n;
		rc = parse_settings(&p, '\0', NULL, true);
	}
	free(lx.toks);
	if (rc < 0) {
		sg_error_set(err, 0, "cannot follow the text of %s (%s): the proposal needs the files as "
				"they were loaded", conf->path, strerror(-rc));
		at_free(c);
		return rc;
	}
	/* The text must say what the loader read: same groups, same rules, in order. */
	if (c->n_groups != spec->n_groups)
		goto changed;
	for (uint32_t g = 0; g < spec->n_groups; g++) {
		const struct at_setting *id = at_field(&c->groups[g], "id");
		char text[SG_NAME_MAX * 2];

		if (id == NULL || c->groups[g].n_children != spec->groups[g].n_rules)
			goto changed;
		string_value(c, id, text, sizeof(text));
		if (strcmp(text, spec->groups[g].id) != 0)
			goto changed;
	}
	return 0;
changed:
	sg_error_set(err, 0, "the security groups in the text of %s differ from what was loaded "
			"(was it changed?)", conf->path);
	at_free(c);
	return -ESTALE;
}

/* ---- Edits ---- */

static size_t
line_start(const char *t, size_t i)
{
	while (i > 0 && t[i - 1] != '\n')
		i--;
	return i;
}

static bool
blank_between(const char *t, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (!isspace((unsigned char)t[i]))
			return false;
	return true;
}

/* End of the line holding 'i' when the rest of it is blank or a comment, else 'i'. */
static size_t
rest_of_line(const char *t, size_t len, size_t i, bool *whole)
{
	size_t k = i;

	while (k < len && (t[k] == ' ' || t[k] == '\t'))
		k++;
	if (k < len && t[k] == '#') {
		while (k < len && t[k] != '\n')
			k++;
	}
	*whole = k >= len || t[k] == '\n';
	return *whole ? k : i;
}

/* Where element 'e' begins for removal: its line when only blanks precede it there. */
static size_t
elem_cut_start(const struct at_config *c, const struct at_elem *e)
{
	const char *t = c->files[e->span.file].text;
	size_t ls = line_start(t, e->span.start);

	return blank_between(t, ls, e->span.start) ? ls : e->span.start;
}

int
at_edit_remove(const struct at_config *c, const struct at_elem *list, uint32_t n, uint32_t i,
		uint32_t j, struct at_edit *out)
{
	const struct at_elem *first = &list[i], *last = &list[j];
	const struct at_file *f = &c->files[first->span.file];
	size_t start, end;
	bool whole;

	if (j + 1 < n && list[j + 1].span.file == first->span.file) {
		/* Up to the next element: the run, its commas and what lies between. */
		start = elem_cut_start(c, first);
		end = elem_cut_start(c, &list[j + 1]);
	} else if (i > 0 && list[i - 1].span.file == first->span.file) {
		/* The run ends the list: from the end of the element before it (its comma goes). */
		start = list[i - 1].span.end;
		end = rest_of_line(f->text, f->len, last->span.end, &whole);
	} else {
		/* The whole list: its lines when the elements have them alone. */
		start = elem_cut_start(c, first);
		end = rest_of_line(f->text, f->len, last->span.end, &whole);
		if (whole && start == line_start(f->text, first->span.start) && end < f->len)
			end++;
	}
	out->span = (struct at_span){first->span.file, start, end};
	out->text = strdup("");
	return out->text != NULL ? 0 : -ENOMEM;
}

void
at_indent_of(const struct at_config *c, const struct at_span *span, char *buf, size_t size)
{
	const char *t = c->files[span->file].text;
	size_t ls = line_start(t, span->start);

	if (blank_between(t, ls, span->start) && span->start - ls < size)
		snprintf(buf, size, "%.*s", (int)(span->start - ls), t + ls);
	else
		snprintf(buf, size, "  ");
}

struct at_repl {
	size_t start;
	size_t end;
	const char *text;
};

static int
cmp_repl(const void *a, const void *b)
{
	const struct at_repl *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

char *
at_elem_with(const struct at_config *c, const struct at_elem *e, const char *const *names,
		const char *const *values, uint32_t n)
{
	const char *t = c->files[e->span.file].text;
	struct at_repl repl[16];
	char *out = NULL, added[1024] = "";
	size_t len = 0, pos = e->span.start, used = 0, close = e->span.end - 1, tail = close;
	uint32_t n_repl = 0;
	FILE *m;

	for (uint32_t i = 0; i < n && n_repl < SG_ARRAY_SIZE(repl) - 1; i++) {
		const struct at_setting *s = at_field(e, names[i]);

		if (s != NULL)
			repl[n_repl++] = (struct at_repl){s->value.start, s->value.end, values[i]};
		else
			used += (size_t)snprintf(added + used, sizeof(added) - used, " %s = %s;",
					names[i], values[i]);
	}
	/* New fields go after the last one, before the closing brace and the blanks before it. */
	while (tail > e->span.start + 1 && isspace((unsigned char)t[tail - 1]))
		tail--;
	if (used > 0)
		repl[n_repl++] = (struct at_repl){tail, tail, added};
	qsort(repl, n_repl, sizeof(repl[0]), cmp_repl);
	m = open_memstream(&out, &len);
	if (m == NULL)
		return NULL;
	for (uint32_t i = 0; i < n_repl; i++) {
		fwrite(t + pos, 1, repl[i].start - pos, m);
		fputs(repl[i].text, m);
		pos = repl[i].end;
	}
	fwrite(t + pos, 1, close + 1 - pos, m);
	fclose(m);
	return out;
}

/* ---- Applying edits, and the diff ---- */

struct at_chunk {
	size_t l0;                 /* First old line (0-based). */
	size_t l1;                 /* One past the last old line. */
	char *new_text;            /* What replaces lines [l0, l1). */
};

static size_t
count_lines(const char *t, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += t[i] == '\n';
	return n + (len > 0 && t[len - 1] != '\n');
}

/* Offsets of the starts of each line, and one past the end. */
static size_t *
line_offsets(const char *t, size_t len, size_t *n_lines)
{
	size_t n = count_lines(t, len), k = 0;
	size_t *off = malloc((n + 2) * sizeof(*off));

	if (off == NULL)
		return NULL;
	off[k++] = 0;
	for (size_t i = 0; i < len; i++)
		if (t[i] == '\n' && i + 1 < len)
			off[k++] = i + 1;
	off[k] = len;
	*n_lines = n;
	return off;
}

static size_t
line_of(const size_t *off, size_t n_lines, size_t pos)
{
	size_t lo = 0, hi = n_lines;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (off[mid] <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static void
emit_lines(FILE *out, char mark, const char *t, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - (t + i)) : len - i;

		fprintf(out, "%c%.*s\n", mark, (int)n, t + i);
		i += n + (nl != NULL);
	}
}

#define DIFF_CONTEXT 3

static char *
make_diff(const struct at_file *f, const size_t *off, size_t n_lines, const struct at_chunk *ch,
		uint32_t n_ch)
{
	char *out = NULL;
	size_t len = 0;
	long delta = 0;
	FILE *m = open_memstream(&out, &len);

	if (m == NULL)
		return NULL;
	/* Paths relative to the main file's directory: apply with patch -p1 there. */
	fprintf(m, "--- a/%s\n+++ b/%s\n", f->rel, f->rel);
	for (uint32_t a = 0; a < n_ch;) {
		uint32_t b = a;
		size_t h0 = ch[a].l0 > DIFF_CONTEXT ? ch[a].l0 - DIFF_CONTEXT : 0, h1;
		size_t old_n = 0, new_n = 0, at;

		/* Chunks whose context touches go into one hunk. */
		while (b + 1 < n_ch && ch[b + 1].l0 <= ch[b].l1 + 2 * DIFF_CONTEXT)
			b++;
		h1 = SG_MIN(ch[b].l1 + DIFF_CONTEXT, n_lines);
		for (uint32_t k = a; k <= b; k++)
			new_n += count_lines(ch[k].new_text, strlen(ch[k].new_text)) -
				 (ch[k].l1 - ch[k].l0);
		old_n = h1 - h0;
		new_n += old_n;
		fprintf(m, "@@ -%zu,%zu +%ld,%zu @@\n", old_n ? h0 + 1 : h0, old_n,
				(long)(new_n ? (long)h0 + 1 + delta : (long)h0 + delta), new_n);
		at = h0;
		for (uint32_t k = a; k <= b; k++) {
			emit_lines(m, ' ', f->text + off[at], off[ch[k].l0] - off[at]);
			emit_lines(m, '-', f->text + off[ch[k].l0], off[ch[k].l1] - off[ch[k].l0]);
			emit_lines(m, '+', ch[k].new_text, strlen(ch[k].new_text));
			at = ch[k].l1;
		}
		emit_lines(m, ' ', f->text + off[at], off[h1] - off[at]);
		delta += (long)new_n - (long)old_n;
		a = b + 1;
	}
	fclose(m);
	return out;
}

static int
cmp_edit(const void *a, const void *b)
{
	const struct at_edit *x = *(const struct at_edit *const *)a;
	const struct at_edit *y = *(const struct at_edit *const *)b;

	return x->span.start < y->span.start ? -1 : x->span.start > y->span.start;
}

/* Apply the edits of file 'fi' (sorted) to its text, and diff. */
static int
apply_file(const struct at_file *f, const struct at_edit **ed, uint32_t n, char **new_text,
		char **diff)
{
	size_t n_lines, *off = line_offsets(f->text, f->len, &n_lines);
	struct at_chunk *ch = calloc(n + 1u, sizeof(*ch));
	uint32_t n_ch = 0;
	char *out = NULL;
	size_t len = 0, pos = 0;
	FILE *m;
	int rc = -ENOMEM;

	if (off == NULL || ch == NULL || (m = open_memstream(&out, &len)) == NULL)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		fwrite(f->text + pos, 1, ed[i]->span.start - pos, m);
		fputs(ed[i]->text, m);
		pos = ed[i]->span.end;
	}
	fwrite(f->text + pos, 1, f->len - pos, m);
	fclose(m);
	/* Chunks: the whole old lines each run of edits touches, and what replaces them. */
	for (uint32_t i = 0; i < n;) {
		size_t l0 = line_of(off, n_lines, ed[i]->span.start), l1, s;
		uint32_t j = i;
		char *t = NULL;
		size_t tlen = 0;
		FILE *cm;

		for (;;) {
			size_t e = ed[j]->span.end > ed[j]->span.start ? ed[j]->span.end - 1 :
								       ed[j]->span.start;

			l1 = line_of(off, n_lines, e) + 1;
			if (j + 1 < n && line_of(off, n_lines, ed[j + 1]->span.start) < l1)
				j++;
			else
				break;
		}
		if (l1 > n_lines)
			l1 = n_lines;
		cm = open_memstream(&t, &tlen);
		if (cm == NULL)
			goto out;
		s = off[l0];
		for (uint32_t k = i; k <= j; k++) {
			fwrite(f->text + s, 1, ed[k]->span.start - s, cm);
			fputs(ed[k]->text, cm);
			s = ed[k]->span.end;
		}
		if (s < off[l1])
			fwrite(f->text + s, 1, off[l1] - s, cm);
		fclose(cm);
		ch[n_ch++] = (struct at_chunk){l0, l1, t};
		i = j + 1;
	}
	*diff = make_diff(f, off, n_lines, ch, n_ch);
	*new_text = out;
	out = NULL;
	rc = *diff != NULL ? 0 : -ENOMEM;
out:
	for (uint32_t k = 0; k < n_ch; k++)
		free(ch[k].new_text);
	free(ch);
	free(off);
	free(out);
	return rc;
}

int
at_apply(const struct at_config *c, const struct at_edit *edits, uint32_t n, char **new_texts,
		char **diffs)
{
	const struct at_edit **ed = calloc(n + 1u, sizeof(*ed));
	int rc = 0;

	if (ed == NULL)
		return -ENOMEM;
	for (uint32_t f = 0; f < c->n_files && rc == 0; f++) {
		uint32_t k = 0;

		new_texts[f] = NULL;
		diffs[f] = NULL;
		for (uint32_t i = 0; i < n; i++)
			if (edits[i].span.file == f)
				ed[k++] = &edits[i];
		if (k == 0)
			continue;
		qsort(ed, k, sizeof(*ed), cmp_edit);
		rc = apply_file(&c->files[f], ed, k, &new_texts[f], &diffs[f]);
	}
	free(ed);
	return rc;
}
