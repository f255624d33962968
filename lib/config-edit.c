/*
 * config-edit.c - changes to the text of winrmd.conf that keep the rest of
 * it (see config-edit.h): one global setting set, a listener group added,
 * changed or removed.
 *
 * libconfig parses the text to say on which line a setting starts; the
 * bytes are then found by a scan that knows code from strings and
 * comments (lcfg_lex_step), so that a name inside a comment or a string
 * is never taken for a setting.
 *
 * Must not: log, exit, keep global state, or touch a file.
 *
 * Entry points: config_edit_set, config_edit_listener_add,
 * config_edit_listener_set, config_edit_listener_delete,
 * config_listener_find.
 */
#include "autoconfig.h"

#include "lib/config-edit.h"
#include "lib/config-keys.h"
#include "lib/lcfg.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

/*
 * The text as bytes of code, of strings and of comments.
 */

enum { K_CODE = 0, K_STRING, K_COMMENT };

struct scan {
	const char *s;
	size_t len;
	unsigned char *kind; /* one per byte, owned */
};

static void scan_init(struct scan *sc, const struct buf *t)
{
	sc->s = t->data != NULL ? (const char *)t->data : "";
	sc->len = t->len;
	sc->kind = xcalloc(t->len + 1, 1);
	enum lcfg_lex st = LCFG_CODE;
	for (size_t i = 0; i < sc->len;) {
		enum lcfg_lex before = st;
		size_t n = lcfg_lex_step(&st, sc->s, sc->len, i);
		if (n == 0) {
			sc->kind[i++] = K_CODE;
			continue;
		}
		unsigned char k = before == LCFG_STRING || st == LCFG_STRING
					  ? K_STRING
					  : K_COMMENT;
		for (size_t j = 0; j < n && i + j < sc->len; j++)
			sc->kind[i + j] = k;
		i += n;
	}
}

static void scan_release(struct scan *sc)
{
	free(sc->kind);
	sc->kind = NULL;
}

static bool code_at(const struct scan *sc, size_t i)
{
	return i < sc->len && sc->kind[i] == K_CODE;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

/* The first byte from i on that is code and not blank. */
static size_t skip_blank(const struct scan *sc, size_t i)
{
	while (i < sc->len && (sc->kind[i] != K_CODE || blank(sc->s[i])))
		i++;
	return i;
}

/* Offset of the start of 1-based line number line. */
static size_t line_offset(const struct scan *sc, int line)
{
	size_t off = 0;
	for (int l = 1; l < line && off < sc->len; off++)
		if (sc->s[off] == '\n')
			l++;
	return off;
}

static size_t line_start(const struct scan *sc, size_t i)
{
	while (i > 0 && sc->s[i - 1] != '\n')
		i--;
	return i;
}

/* Only spaces and tabs in [from, to)? */
static bool only_indent(const struct scan *sc, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (sc->s[i] != ' ' && sc->s[i] != '\t')
			return false;
	return true;
}

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*';
}

/* "name =" or "name :" in code within [from, to): the offset just after
 * the separator and the blanks after it, or -1. */
static long find_name(const struct scan *sc, size_t from, size_t to,
		      const char *name)
{
	size_t n = strlen(name);
	const char *s = sc->s;
	if (to > sc->len)
		to = sc->len;
	for (size_t i = from; i + n <= to; i++) {
		if (!code_at(sc, i) || strncmp(s + i, name, n) != 0 ||
		    (i > 0 && name_char(s[i - 1])) ||
		    (i + n < sc->len && name_char(s[i + n])))
			continue;
		bool code = true;
		for (size_t k = i; k < i + n; k++)
			code = code && code_at(sc, k);
		if (!code)
			continue;
		size_t j = i + n;
		while (j < to && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j < to && code_at(sc, j) && (s[j] == '=' || s[j] == ':')) {
			j++;
			while (j < to && (s[j] == ' ' || s[j] == '\t'))
				j++;
			return (long)j;
		}
	}
	return -1;
}

/* The end of the value that starts at off: a scalar, a string (adjacent
 * strings on one line too), or a bracketed array, list or group. */
static size_t value_end(const struct scan *sc, size_t off)
{
	const char *s = sc->s;
	size_t last = off;
	int depth = 0;
	bool seen = false;
	for (size_t i = off; i < sc->len; i++) {
		if (sc->kind[i] == K_STRING) {
			last = i + 1;
			seen = true;
			continue;
		}
		if (sc->kind[i] == K_COMMENT)
			continue;
		char c = s[i];
		if (depth == 0 &&
		    (c == ';' || c == ',' || c == '}' || c == ')' || c == ']'))
			break;
		if (depth == 0 && c == '\n' && seen)
			break;
		if (c == '[' || c == '(' || c == '{') {
			depth++;
		} else if (c == ']' || c == ')' || c == '}') {
			if (--depth == 0)
				return i + 1;
		}
		if (!blank(c)) {
			last = i + 1;
			seen = true;
		}
	}
	return last;
}

/* The first '{' in code from i on, or the length. */
static size_t find_brace(const struct scan *sc, size_t i)
{
	while (i < sc->len && !(code_at(sc, i) && sc->s[i] == '{'))
		i++;
	return i;
}

static void splice(struct buf *t, size_t off, size_t len, const char *with)
{
	struct buf out = BUF_INIT;
	buf_append(&out, t->data, off);
	buf_append_str(&out, with);
	buf_append(&out, t->data + off + len, t->len - off - len);
	buf_release(t);
	*t = out;
}

/* Parses the text as libconfig (includes from dir); -1 with *error_r. */
static int parse(config_t *lc, const struct buf *t, const char *dir,
		 char **error_r)
{
	config_init(lc);
	if (dir != NULL)
		config_set_include_dir(lc, dir);
	if (config_read_string(lc, t->data ? (const char *)t->data : "") !=
	    CONFIG_TRUE) {
		*error_r = xasprintf(
			"the current file does not parse: line %d: %s",
			config_error_line(lc), config_error_text(lc));
		config_destroy(lc);
		return -1;
	}
	return 0;
}

/* The text to insert for a new member "leaf = literal;" after the
 * opening brace at brace: on the next line, indented like the line after
 * the brace (a tab when there is none). */
static char *member_after_brace(const struct scan *sc, size_t brace,
				const char *member)
{
	const char *nl = memchr(sc->s + brace, '\n', sc->len - brace);
	size_t ind = 0;
	if (nl != NULL) {
		const char *p = nl + 1;
		while (p + ind < sc->s + sc->len &&
		       (p[ind] == ' ' || p[ind] == '\t'))
			ind++;
	}
	return ind > 0 ? xasprintf("\n%.*s%s", (int)ind, nl + 1, member)
		       : xasprintf("\n\t%s", member);
}

int config_edit_set(struct buf *t, const char *dir, const char *path,
		    const char *literal, char **error_r)
{
	config_t lc;
	if (parse(&lc, t, dir, error_r) != 0)
		return -1;
	struct scan sc;
	scan_init(&sc, t);
	int rc = 0;
	const char *leaf = strrchr(path, '.');
	leaf = leaf != NULL ? leaf + 1 : path;
	config_setting_t *s = config_lookup(&lc, path);
	if (s != NULL) {
		if (config_setting_source_file(s) != NULL) {
			*error_r =
				xasprintf("%s is set in the included file %s; "
					  "change it there",
					  path, config_setting_source_file(s));
			rc = -1;
			goto out;
		}
		size_t from = line_offset(&sc,
					  (int)config_setting_source_line(s));
		long v = find_name(&sc, from, sc.len, leaf);
		if (v < 0) {
			*error_r = xasprintf("cannot find %s on line %u", path,
					     config_setting_source_line(s));
			rc = -1;
			goto out;
		}
		size_t end = value_end(&sc, (size_t)v);
		splice(t, (size_t)v, end - (size_t)v, literal);
		goto out;
	}
	/* Missing: below the deepest group that exists, wrapped in the
	 * groups that do not. */
	char *group = xstrdup(path);
	char *dot = strrchr(group, '.');
	char *text = xasprintf("%s = %s;", leaf, literal);
	bool inserted = false;
	while (dot != NULL) {
		*dot = '\0';
		config_setting_t *g = config_lookup(&lc, group);
		const char *gleaf = strrchr(group, '.');
		gleaf = gleaf != NULL ? gleaf + 1 : group;
		if (g != NULL && config_setting_is_group(g)) {
			if (config_setting_source_file(g) != NULL) {
				*error_r = xasprintf(
					"%s is in the included file %s; "
					"change it there",
					group, config_setting_source_file(g));
				rc = -1;
				break;
			}
			size_t from = line_offset(
				&sc, (int)config_setting_source_line(g));
			long v = find_name(&sc, from, sc.len, gleaf);
			size_t brace = v >= 0 ? find_brace(&sc, (size_t)v)
					      : sc.len;
			if (brace >= sc.len) {
				*error_r = xasprintf("cannot find the group %s",
						     group);
				rc = -1;
				break;
			}
			char *ins = member_after_brace(&sc, brace, text);
			splice(t, brace + 1, 0, ins);
			free(ins);
			inserted = true;
			break;
		}
		char *w = xasprintf("%s = { %s };", gleaf, text);
		free(text);
		text = w;
		dot = strrchr(group, '.');
	}
	if (rc == 0 && !inserted) {
		/* No group of the path exists: at the end of the file. */
		if (t->len > 0 && t->data[t->len - 1] != '\n')
			buf_append_byte(t, '\n');
		buf_printf(t, "%s\n", text);
	}
	free(text);
	free(group);
out:
	scan_release(&sc);
	config_destroy(&lc);
	return rc;
}

/*
 * The Listeners list: where its parentheses and groups are.
 */

struct lspan {
	size_t open, close; /* the list's '(' and ')' */
	size_t n;
	size_t *start, *end; /* [start, end) of each group, braces included */
};

static void lspan_release(struct lspan *ls)
{
	free(ls->start);
	free(ls->end);
	memset(ls, 0, sizeof(*ls));
}

/* 1: found (ls filled), 0: the file has no Listeners setting, -1: error. */
static int find_list(const struct buf *t, const char *dir,
		     const struct scan *sc, struct lspan *ls, char **error_r)
{
	memset(ls, 0, sizeof(*ls));
	config_t lc;
	if (parse(&lc, t, dir, error_r) != 0)
		return -1;
	int rc = 1;
	config_setting_t *s = config_lookup(&lc, CONFIG_LISTENERS_KEY);
	if (s == NULL) {
		rc = 0;
		goto out;
	}
	if (config_setting_source_file(s) != NULL) {
		*error_r = xasprintf(CONFIG_LISTENERS_KEY
				     " is set in the included file %s; "
				     "change it there",
				     config_setting_source_file(s));
		rc = -1;
		goto out;
	}
	if (!config_setting_is_list(s)) {
		*error_r = xstrdup(CONFIG_LISTENERS_KEY " is not a list");
		rc = -1;
		goto out;
	}
	size_t expect = (size_t)config_setting_length(s);
	long v = find_name(sc,
			   line_offset(sc, (int)config_setting_source_line(s)),
			   sc->len, CONFIG_LISTENERS_KEY);
	size_t i = v >= 0 ? skip_blank(sc, (size_t)v) : sc->len;
	if (i >= sc->len || sc->s[i] != '(') {
		*error_r = xstrdup(
			"cannot find the list " CONFIG_LISTENERS_KEY);
		rc = -1;
		goto out;
	}
	ls->open = i++;
	for (;;) {
		i = skip_blank(sc, i);
		if (i < sc->len && sc->s[i] == ')') {
			ls->close = i;
			break;
		}
		if (i >= sc->len || sc->s[i] != '{')
			break;
		size_t start = i;
		int depth = 0;
		for (; i < sc->len; i++) {
			if (!code_at(sc, i))
				continue;
			char c = sc->s[i];
			if (c == '{' || c == '(' || c == '[')
				depth++;
			else if ((c == '}' || c == ')' || c == ']') &&
				 --depth == 0)
				break;
		}
		if (i >= sc->len)
			break;
		ls->start = xrealloc(ls->start, sizeof(size_t) * (ls->n + 1));
		ls->end = xrealloc(ls->end, sizeof(size_t) * (ls->n + 1));
		ls->start[ls->n] = start;
		ls->end[ls->n] = ++i;
		ls->n++;
		i = skip_blank(sc, i);
		if (i < sc->len && sc->s[i] == ',')
			i++;
	}
	if (ls->close == 0 || ls->n != expect) {
		*error_r = xstrdup("cannot find the groups of the list "
				   "Listeners (each listener must be a group "
				   "{ ... })");
		rc = -1;
	}
out:
	if (rc < 0)
		lspan_release(ls);
	config_destroy(&lc);
	return rc;
}

/* "{ A = x; B = y; }", or one member a line when multiline (members
 * indented by mind, the closing brace by ind). */
static void render_group(struct buf *out, const struct config_edit_member *m,
			 size_t n, bool multiline, const char *ind,
			 const char *mind)
{
	buf_append_str(out, "{");
	for (size_t i = 0; i < n; i++) {
		if (multiline)
			buf_printf(out, "\n%s", mind);
		else
			buf_append_byte(out, ' ');
		buf_printf(out, "%s = %s;", m[i].name, m[i].literal);
	}
	if (multiline)
		buf_printf(out, "\n%s}", ind);
	else
		buf_append_str(out, " }");
}

/* Writes cur's listeners out as a list at the end of the text (a file
 * that had none: the default listener), with the group extra (NULL:
 * none) after them. */
static void write_list(struct buf *t, const struct winrmd_config *cur,
		       const char *extra)
{
	if (t->len > 0 && t->data[t->len - 1] != '\n')
		buf_append_byte(t, '\n');
	buf_append_str(t, "\n" CONFIG_LISTENERS_KEY " = (\n");
	for (size_t i = 0; i < cur->n_listeners; i++) {
		buf_append_str(t, "\t{ ");
		config_dump_listener(&cur->listeners[i], t);
		buf_append_str(t, i + 1 < cur->n_listeners || extra != NULL
					  ? " },\n"
					  : " }\n");
	}
	if (extra != NULL)
		buf_printf(t, "\t%s\n", extra);
	buf_append_str(t, ");\n");
}

/* The indentation of the line a group starts on (when it starts the
 * line), and of its members (the line after its brace), as new strings. */
static void group_indents(const struct scan *sc, size_t start, size_t end,
			  char **ind_r, char **mind_r, bool *multiline_r)
{
	size_t ls = line_start(sc, start);
	*ind_r = only_indent(sc, ls, start) ? xstrndup(sc->s + ls, start - ls)
					    : xstrdup("\t");
	const char *nl = memchr(sc->s + start, '\n', end - start);
	*multiline_r = nl != NULL;
	if (nl != NULL) {
		size_t k = 0;
		while (nl + 1 + k < sc->s + end &&
		       (nl[1 + k] == ' ' || nl[1 + k] == '\t'))
			k++;
		*mind_r = xstrndup(nl + 1, k);
	} else {
		*mind_r = xasprintf("%s\t", *ind_r);
	}
}

int config_edit_listener_add(struct buf *t, const char *dir,
			     const struct winrmd_config *cur,
			     const struct config_edit_member *m, size_t n,
			     char **error_r)
{
	struct scan sc;
	struct lspan ls;
	scan_init(&sc, t);
	int f = find_list(t, dir, &sc, &ls, error_r);
	struct buf group = BUF_INIT;
	if (f == 0) {
		render_group(&group, m, n, false, "", "");
		write_list(t, cur, (const char *)group.data);
	} else if (f > 0 && ls.n == 0) {
		render_group(&group, m, n, false, "", "");
		char *ins = xasprintf("\n\t%s\n", (const char *)group.data);
		splice(t, ls.open + 1, 0, ins);
		free(ins);
	} else if (f > 0) {
		char *ind, *mind;
		bool multi;
		size_t s0 = ls.start[ls.n - 1], e0 = ls.end[ls.n - 1];
		group_indents(&sc, s0, e0, &ind, &mind, &multi);
		buf_printf(&group, ",\n%s", ind);
		render_group(&group, m, n, multi, ind, mind);
		splice(t, e0, 0, (const char *)group.data);
		free(ind);
		free(mind);
	}
	buf_release(&group);
	lspan_release(&ls);
	scan_release(&sc);
	return f < 0 ? -1 : 0;
}

/* Finds the list, writing it out first when the file has none; -1 with
 * *error_r, else 0 with sc and ls for the text as it is then. */
static int list_of(struct buf *t, const char *dir,
		   const struct winrmd_config *cur, size_t index,
		   struct scan *sc, struct lspan *ls, char **error_r)
{
	scan_init(sc, t);
	int f = find_list(t, dir, sc, ls, error_r);
	if (f == 0) {
		write_list(t, cur, NULL);
		scan_release(sc);
		scan_init(sc, t);
		f = find_list(t, dir, sc, ls, error_r);
	}
	if (f > 0 && index >= ls->n) {
		*error_r = xasprintf("there is no listener %zu in the list "
				     "Listeners",
				     index);
		lspan_release(ls);
		f = -1;
	}
	if (f <= 0) {
		scan_release(sc);
		return -1;
	}
	return 0;
}

int config_edit_listener_set(struct buf *t, const char *dir,
			     const struct winrmd_config *cur, size_t index,
			     const struct config_edit_member *m, size_t n,
			     char **error_r)
{
	struct buf orig = BUF_INIT;
	buf_append(&orig, t->data, t->len);
	for (size_t k = 0; k < n; k++) {
		struct scan sc;
		struct lspan ls;
		if (list_of(t, dir, cur, index, &sc, &ls, error_r) != 0) {
			buf_release(t);
			*t = orig;
			return -1;
		}
		size_t s0 = ls.start[index], e0 = ls.end[index];
		long v = find_name(&sc, s0 + 1, e0 - 1, m[k].name);
		if (v >= 0) {
			size_t end = value_end(&sc, (size_t)v);
			if (end > e0 - 1)
				end = e0 - 1;
			splice(t, (size_t)v, end - (size_t)v, m[k].literal);
		} else {
			char *member = xasprintf("%s = %s;", m[k].name,
						 m[k].literal);
			char *ins;
			if (memchr(sc.s + s0, '\n', e0 - s0) != NULL)
				ins = member_after_brace(&sc, s0, member);
			else
				ins = xasprintf(" %s", member);
			splice(t, s0 + 1, 0, ins);
			free(ins);
			free(member);
		}
		lspan_release(&ls);
		scan_release(&sc);
	}
	buf_release(&orig);
	return 0;
}

int config_edit_listener_delete(struct buf *t, const char *dir,
				const struct winrmd_config *cur, size_t index,
				char **error_r)
{
	struct scan sc;
	struct lspan ls;
	if (list_of(t, dir, cur, index, &sc, &ls, error_r) != 0)
		return -1;
	size_t s0 = ls.start[index], e0 = ls.end[index];
	size_t after = skip_blank(&sc, e0);
	size_t from, to;
	if (after < sc.len && sc.s[after] == ',') {
		/* "{...}," goes; with its lines when it had them alone */
		from = s0;
		to = after + 1;
		size_t j = to;
		while (j < sc.len && (sc.s[j] == ' ' || sc.s[j] == '\t'))
			j++;
		while (j < sc.len && sc.kind[j] == K_COMMENT && sc.s[j] != '\n')
			j++;
		size_t ls0 = line_start(&sc, s0);
		if (j < sc.len && sc.s[j] == '\n' &&
		    only_indent(&sc, ls0, s0)) {
			from = ls0;
			to = j + 1;
		}
	} else if (index > 0) {
		/* the last group: from the end of the one before it */
		from = ls.end[index - 1];
		to = e0;
	} else {
		from = s0;
		to = e0;
	}
	splice(t, from, to - from, "");
	lspan_release(&ls);
	scan_release(&sc);
	return 0;
}

/* An address as the selectors or the file write it: "*", or the bytes of
 * an IPv4 or IPv6 address ("IP:" and brackets dropped). */
static int addr_of(const char *a, unsigned char bin[16])
{
	if (strcmp(a, "*") == 0)
		return 0;
	if (strncasecmp(a, "IP:", 3) == 0)
		a += 3;
	char tmp[64];
	size_t n = strlen(a);
	if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
		a++;
		n -= 2;
	}
	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, a, n);
	tmp[n] = '\0';
	memset(bin, 0, 16);
	if (inet_pton(AF_INET, tmp, bin) == 1)
		return 4;
	if (inet_pton(AF_INET6, tmp, bin) == 1)
		return 6;
	return -1;
}

long config_listener_find(const struct winrmd_config *cfg, const char *address,
			  const char *transport)
{
	unsigned char want[16], have[16];
	int wf = addr_of(address, want);
	if (wf < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct listener_config *l = &cfg->listeners[i];
		if (strcasecmp(config_transport_name(l->transport),
			       transport) != 0)
			continue;
		int hf = addr_of(l->address, have);
		if (hf == wf && (wf == 0 || memcmp(want, have, 16) == 0))
			return (long)i;
	}
	return -1;
}
