/*
 * lcfg.c - libconfig helpers shared by the loaders of winrmd.conf and
 * certmapping.conf: lexing, quoting, parsing into "syntax error" messages,
 * problems in file order.  See lcfg.h.
 *
 * Must not: log, exit, keep global state, or know any key of either file.
 *
 * Entry points: lcfg_lex_step, lcfg_put_quoted, lcfg_quoted, lcfg_parse,
 * lcfg_type_name, lcfg_error, lcfg_verror, lcfg_errors_take,
 * lcfg_errors_release.
 */
#include "autoconfig.h"

#include "lib/lcfg.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

/*
 * Lexing: libconfig's scanner (scanner.l) for strings and comments.  In a
 * string, a backslash and the byte after it go together: "\\" and "\""
 * are escapes, anything else after a backslash is taken as it is, but
 * never ends the string.
 */
size_t lcfg_lex_step(enum lcfg_lex *state, const char *text, size_t len,
		     size_t i)
{
	char c = text[i], next = i + 1 < len ? text[i + 1] : '\0';

	switch (*state) {
	case LCFG_LINE_COMMENT:
		if (c == '\n')
			*state = LCFG_CODE;
		return 1;
	case LCFG_BLOCK_COMMENT:
		if (c == '*' && next == '/') {
			*state = LCFG_CODE;
			return 2;
		}
		return 1;
	case LCFG_STRING:
		if (c == '\\' && next != '\0')
			return 2;
		if (c == '"')
			*state = LCFG_CODE;
		return 1;
	case LCFG_CODE: break;
	}
	if (c == '"') {
		*state = LCFG_STRING;
		return 1;
	}
	if (c == '#' || (c == '/' && next == '/')) {
		*state = LCFG_LINE_COMMENT;
		return 1;
	}
	if (c == '/' && next == '*') {
		*state = LCFG_BLOCK_COMMENT;
		return 2;
	}
	return 0;
}

/*
 * Quoting.  libconfig's writer (config_write) escapes the same bytes the
 * same way, but for DEL, which it writes as it is.
 */
void lcfg_put_quoted(struct buf *out, const char *s)
{
	buf_append_byte(out, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"': buf_append_str(out, "\\\""); break;
		case '\\': buf_append_str(out, "\\\\"); break;
		case '\n': buf_append_str(out, "\\n"); break;
		case '\r': buf_append_str(out, "\\r"); break;
		case '\t': buf_append_str(out, "\\t"); break;
		case '\f': buf_append_str(out, "\\f"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(out, "\\x%02x", c);
			else
				buf_append_byte(out, c);
		}
	}
	buf_append_byte(out, '"');
}

char *lcfg_quoted(const char *s)
{
	struct buf b = BUF_INIT;
	lcfg_put_quoted(&b, s);
	return buf_steal(&b);
}

/*
 * Parsing.
 */
int lcfg_parse(struct config_t *lc, const char *text, size_t len, int *line_r,
	       char **why_r)
{
	struct buf copy = BUF_INIT;

	buf_append(&copy, text, len); /* NUL-terminated */
	if (len == 0 || text[len - 1] != '\n')
		buf_append_byte(&copy, '\n');
	int ok = config_read_string(lc, (const char *)copy.data);
	buf_release(&copy);
	if (ok)
		return 0;
	const char *why = config_error_text(lc);
	*line_r = config_error_line(lc);
	if (why == NULL || strcmp(why, "syntax error") == 0)
		*why_r = xstrdup("syntax error");
	else
		*why_r = xasprintf("syntax error: %s", why);
	return -1;
}

const char *lcfg_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	}
	return "an unknown type";
}

/*
 * Problems.
 */
void lcfg_verror(struct lcfg_errors *e, unsigned order, const char *file,
		 int line, const char *key, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;

	buf_append_str(&b, file);
	if (line > 0)
		buf_printf(&b, ":%d", line);
	buf_append_str(&b, ": ");
	if (key != NULL)
		buf_printf(&b, "%s: ", key);
	buf_vprintf(&b, fmt, ap);
	if ((e->n & (e->n - 1)) == 0) /* at 0, 1, 2, 4...: doubles */
		e->v = xrealloc(e->v,
				(e->n > 0 ? 2 * e->n : 1) * sizeof(*e->v));
	e->v[e->n] = (struct lcfg_error){ order, e->n, buf_steal(&b) };
	e->n++;
}

void lcfg_error(struct lcfg_errors *e, unsigned order, const char *file,
		int line, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lcfg_verror(e, order, file, line, key, fmt, ap);
	va_end(ap);
}

static int compare_errors(const void *a, const void *b)
{
	const struct lcfg_error *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

char *lcfg_errors_take(struct lcfg_errors *e)
{
	struct buf b = BUF_INIT;

	if (e->n == 0) {
		lcfg_errors_release(e);
		return NULL;
	}
	qsort(e->v, e->n, sizeof(*e->v), compare_errors);
	for (size_t i = 0; i < e->n; i++)
		buf_printf(&b, "%s%s", i > 0 ? "\n" : "", e->v[i].text);
	lcfg_errors_release(e);
	return buf_steal(&b);
}

void lcfg_errors_release(struct lcfg_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}
