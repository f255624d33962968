/*
 * config-source.c - reads winrmd.conf and the files it @includes into the
 * one text libconfig parses, with the map from each line of that text to
 * its file and line (see config-source.h).
 *
 * A scanner that follows libconfig's lexical rules far enough to know what
 * is code, string and comment (lcfg_lex_step) copies each file into the
 * text: an "@include" line at the start of a line is replaced by the
 * included file, and integer literals outside the int32 range get an L
 * suffix, which libconfig 1.5 would otherwise silently truncate
 * (4294967295 reads as -1).
 *
 * Must not: log, exit, keep global state, or know the keys.  Problems are
 * added to src->errors, with the line of the spliced text they belong to.
 *
 * Entry points: config_source_init, config_source_release,
 * config_source_file, config_source_string, config_source_origin,
 * config_source_error, config_source_verror.
 */
#include "autoconfig.h"

#include "lib/config-source.h"
#include "lib/fileio.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns v, n items of size bytes, with room for one more: arrays are
 * allocated in powers of two, so they grow when n is one (or zero). */
static void *grow(void *v, size_t n, size_t size)
{
	if ((n & (n - 1)) != 0)
		return v;
	return xrealloc(v, (n > 0 ? 2 * n : 1) * size);
}

/* Keeps a file name for messages; returns the copy (owned by src). */
static const char *add_file(struct config_source *src, char *owned_name)
{
	src->files = grow(src->files, src->n_files, sizeof(*src->files));
	src->files[src->n_files++] = owned_name;
	return owned_name;
}

void config_source_init(struct config_source *src, const char *name)
{
	memset(src, 0, sizeof(*src));
	buf_init(&src->text);
	src->state = LCFG_CODE;
	src->name = add_file(src, xstrdup(name));
}

void config_source_release(struct config_source *src)
{
	lcfg_errors_release(&src->errors);
	buf_release(&src->text);
	free(src->lines);
	for (size_t i = 0; i < src->n_files; i++)
		free(src->files[i]);
	free(src->files);
	free(src->include_dir);
	memset(src, 0, sizeof(*src));
}

struct config_origin config_source_origin(const struct config_source *src,
					  unsigned tline)
{
	if (tline == 0 || src->n_lines == 0)
		return (struct config_origin){ src->name, 0 };
	if (tline > src->n_lines)
		tline = (unsigned)src->n_lines;
	return src->lines[tline - 1];
}

void config_source_verror(struct config_source *src, unsigned tline,
			  const char *key, const char *fmt, va_list ap)
{
	struct config_origin o = config_source_origin(src, tline);
	lcfg_verror(&src->errors, tline, o.file, o.line, key, fmt, ap);
}

void config_source_error(struct config_source *src, unsigned tline,
			 const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	config_source_verror(src, tline, key, fmt, ap);
	va_end(ap);
}

/*
 * Reads a regular file of at most CONFIG_MAX_SIZE bytes.  Returns the
 * NUL-terminated text (caller frees) and its length, or NULL with the
 * reason (caller frees).
 */
static char *read_file(const char *path, size_t *len_r, char **why_r)
{
	struct buf b = BUF_INIT;
	if (file_read_regular(path, CONFIG_MAX_SIZE, &b, NULL, why_r) != 0) {
		buf_release(&b);
		return NULL;
	}
	*len_r = b.len;
	return buf_steal(&b);
}

/*
 * Splicing.
 */

struct source {
	const char *file; /* one of src->files */
	const char *p;
	size_t len;
	size_t i;
	int line;
	bool bol; /* only blanks since the start of the line */
};

static void new_line(struct config_source *src, const char *file, int line)
{
	src->lines = grow(src->lines, src->n_lines, sizeof(*src->lines));
	src->lines[src->n_lines++] = (struct config_origin){ file, line };
}

static void put(struct config_source *src, struct source *s, char c)
{
	buf_append_byte(&src->text, (uint8_t)c);
	s->bol = c == '\n' || (s->bol && (c == ' ' || c == '\t'));
	if (c == '\n')
		new_line(src, s->file, ++s->line);
}

static void put_span(struct config_source *src, struct source *s, size_t end)
{
	while (s->i < end)
		put(src, s, s->p[s->i++]);
}

static unsigned cur_line(const struct config_source *src)
{
	return (unsigned)src->n_lines;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || is_digit(c) || c == '-' || c == '_';
}

/* An exponent ("e5", "E-3") starts at j. */
static bool exponent_at(const char *p, size_t len, size_t j)
{
	if (j >= len || (p[j] != 'e' && p[j] != 'E'))
		return false;
	j++;
	if (j < len && (p[j] == '+' || p[j] == '-'))
		j++;
	return j < len && is_digit(p[j]);
}

/* A number (libconfig: integer, integer64, hex, hex64 or float) at s->i. */
static void splice_number(struct config_source *src, struct source *s)
{
	const char *p = s->p;
	size_t start = s->i, j = start, d0, d1;
	bool neg = false, hex = false;

	if (p[j] == '+' || p[j] == '-')
		neg = p[j++] == '-';
	d0 = j;
	while (j < s->len && is_digit(p[j]))
		j++;
	if (j == d0 + 1 && p[d0] == '0' && d0 == start && j + 1 < s->len &&
	    (p[j] == 'x' || p[j] == 'X') && is_xdigit(p[j + 1])) {
		hex = true;
		d0 = ++j;
		while (j < s->len && is_xdigit(p[j]))
			j++;
	} else if ((j < s->len && p[j] == '.') ||
		   (j > d0 && exponent_at(p, s->len, j))) {
		/* a float: copied as it is */
		if (j < s->len && p[j] == '.')
			for (j++; j < s->len && is_digit(p[j]); j++)
				;
		if (exponent_at(p, s->len, j)) {
			j++;
			if (p[j] == '+' || p[j] == '-')
				j++;
			while (j < s->len && is_digit(p[j]))
				j++;
		}
		put_span(src, s, j);
		return;
	}
	d1 = j;
	bool suffix = j < s->len && p[j] == 'L';
	if (suffix && ++j < s->len && p[j] == 'L')
		j++;

	uint64_t v = 0, base = hex ? 16 : 10;
	bool overflow = false;
	for (size_t k = d0; k < d1; k++) {
		char c = (char)(p[k] | 0x20); /* lower case */
		uint64_t d = is_digit(c) ? (uint64_t)(c - '0')
					 : (uint64_t)(c - 'a' + 10);
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		else
			v = v * base + d;
	}
	if (overflow || v > (uint64_t)INT64_MAX + (neg ? 1 : 0)) {
		int n = d1 - start > 40 ? 40 : (int)(d1 - start);
		config_source_error(src, cur_line(src), NULL,
				    "syntax error: integer %.*s%s is out of "
				    "range",
				    n, p + start, d1 - start > 40 ? "..." : "");
	}
	put_span(src, s, j);
	if (!suffix && v > (neg ? (uint64_t)INT32_MAX + 1 : INT32_MAX))
		put(src, s, 'L');
}

static int splice_file(struct config_source *src, const char *file,
		       const char *text, size_t len, int depth);

/* "@include" at s->i; libconfig only knows it at the start of a line. */
static int splice_include(struct config_source *src, struct source *s,
			  int depth)
{
	const char *p = s->p + s->i;
	size_t rest = s->len - s->i, j = 8, name0;

	if (!s->bol || rest <= j || memcmp(p, "@include", j) != 0 ||
	    (p[j] != ' ' && p[j] != '\t')) {
		config_source_error(src, cur_line(src), NULL,
				    "syntax error: unexpected '@'");
		return -1;
	}
	while (j < rest && (p[j] == ' ' || p[j] == '\t'))
		j++;
	if (j == rest || p[j] != '"') {
		config_source_error(src, cur_line(src), NULL,
				    "syntax error: "
				    "@include needs a quoted file name");
		return -1;
	}
	name0 = ++j;
	while (j < rest && p[j] != '"' && p[j] != '\n' && p[j] != '\0')
		j++;
	if (j == rest || p[j] != '"' || j == name0) {
		config_source_error(src, cur_line(src), NULL,
				    "syntax error: "
				    "@include needs a quoted file name");
		return -1;
	}
	s->i += j + 1;
	s->bol = false;
	if (depth >= CONFIG_MAX_DEPTH) {
		config_source_error(src, cur_line(src), NULL,
				    "@include nested more than %d deep",
				    CONFIG_MAX_DEPTH);
		return -1;
	}

	const char *path;
	if (p[name0] != '/' && src->include_dir != NULL)
		path = add_file(src, xasprintf("%s/%.*s", src->include_dir,
					       (int)(j - name0), p + name0));
	else
		path = add_file(src, xstrndup(p + name0, j - name0));

	size_t len;
	char *why = NULL;
	char *text = read_file(path, &len, &why);
	if (text == NULL) {
		config_source_error(src, cur_line(src), "@include", "%s: %s",
				    path, why);
		free(why);
		return -1;
	}
	src->total += len;
	if (src->total > CONFIG_MAX_SIZE) {
		config_source_error(src, cur_line(src), "@include",
				    "%s: the configuration with its included "
				    "files is larger than %d bytes",
				    path, CONFIG_MAX_SIZE);
		free(text);
		return -1;
	}
	/* The included text gets lines of its own in src->text, and the
	 * rest of the @include line a line of its own after it. */
	buf_append_byte(&src->text, '\n');
	new_line(src, path, 1);
	int r = splice_file(src, path, text, len, depth + 1);
	free(text);
	if (r == 0) {
		buf_append_byte(&src->text, '\n');
		new_line(src, s->file, s->line);
	}
	return r;
}

static int splice_file(struct config_source *src, const char *file,
		       const char *text, size_t len, int depth)
{
	struct source s = { file, text, len, 0, 1, true };

	while (s.i < len) {
		char c = text[s.i];
		char next = s.i + 1 < len ? text[s.i + 1] : '\0';

		if (c == '\0') {
			config_source_error(src, cur_line(src), NULL,
					    "syntax error: NUL byte in the "
					    "file");
			return -1;
		}
		size_t n = lcfg_lex_step(&src->state, text, len, s.i);
		if (n > 0) {
			put_span(src, &s, s.i + n);
		} else if (c == '@') {
			if (splice_include(src, &s, depth) != 0)
				return -1;
		} else if (is_name_start(c)) {
			size_t j = s.i + 1;
			while (j < len && is_name_char(text[j]))
				j++;
			put_span(src, &s, j);
		} else if (is_digit(c) || c == '.' ||
			   ((c == '-' || c == '+') &&
			    (is_digit(next) || next == '.'))) {
			splice_number(src, &s);
		} else {
			put_span(src, &s, s.i + 1);
		}
	}
	/* libconfig itself reports these in the top file; an included file
	 * must not leak a string or comment into the file around it. */
	if (depth > 0 && src->state != LCFG_CODE) {
		if (src->state == LCFG_LINE_COMMENT) {
			src->state = LCFG_CODE;
			return 0;
		}
		config_source_error(src, cur_line(src), NULL,
				    "syntax error: unterminated %s",
				    src->state == LCFG_STRING ? "string"
							      : "comment");
		return -1;
	}
	return 0;
}

int config_source_string(struct config_source *src, const char *text,
			 size_t len)
{
	new_line(src, src->name, 1);
	src->total = len;
	if (len > CONFIG_MAX_SIZE) {
		config_source_error(src, 0, NULL, "larger than %d bytes",
				    CONFIG_MAX_SIZE);
		return -1;
	}
	if (splice_file(src, src->name, text, len, 0) != 0 || src->errors.n > 0)
		return -1;
	/* libconfig 1.5 rejects a # or // comment that ends the text (the
	 * line it adds is mapped as the one after the last) */
	if (src->text.len > 0 && src->text.data[src->text.len - 1] != '\n') {
		struct config_origin last = src->lines[src->n_lines - 1];
		buf_append_byte(&src->text, '\n');
		new_line(src, last.file, last.line + 1);
	}
	return 0;
}

int config_source_file(struct config_source *src)
{
	size_t len;
	char *why = NULL;
	char *text = read_file(src->name, &len, &why);

	if (text == NULL) {
		config_source_error(src, 0, NULL, "%s", why);
		free(why);
		return -1;
	}
	/* @include names are relative to the directory of the file */
	const char *name = src->name, *slash = strrchr(name, '/');
	if (slash != NULL)
		src->include_dir = xstrndup(
			name, slash == name ? 1 : (size_t)(slash - name));
	int r = config_source_string(src, text, len);
	free(text);
	return r;
}
