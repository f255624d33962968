/*
 * wql.c - the WQL parser and evaluator (wql.h).
 *
 * A hand-written lexer and recursive-descent parser whose recursion is
 * bounded by WQL_MAX_DEPTH and whose node count by WQL_MAX_NODES; the
 * text length is checked before the first token.  Evaluation is
 * three-valued (true, false, unknown for nulls).
 *
 * Must not: log, exit, or evaluate anything but the instance given.
 */
#include "autoconfig.h"

#include "lib/wmi/wql.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/wmi/value.h"

/* ---- lexer ---- */

enum tok {
	T_END = 0,
	T_IDENT,
	T_STRING,
	T_NUMBER,
	T_STAR,
	T_COMMA,
	T_LPAREN,
	T_RPAREN,
	T_OP, /* comparison operator: tok_cmp says which */
	T_BAD,
};

struct lexer {
	const char *s;
	size_t pos;
	enum tok tok;
	size_t start; /* of the current token */
	struct buf text;
	enum wql_cmp cmp;
};

static bool ident_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static void next(struct lexer *l)
{
	const char *s = l->s;
	while (s[l->pos] == ' ' || s[l->pos] == '\t' || s[l->pos] == '\n' ||
	       s[l->pos] == '\r')
		l->pos++;
	l->start = l->pos;
	buf_reset(&l->text);
	char c = s[l->pos];
	if (c == '\0') {
		l->tok = T_END;
		return;
	}
	if (ident_start(c)) {
		while (ident_char(s[l->pos]))
			buf_append_byte(&l->text, (uint8_t)s[l->pos++]);
		l->tok = T_IDENT;
		return;
	}
	if (c == '\'' || c == '"') {
		l->pos++;
		for (;;) {
			char d = s[l->pos];
			if (d == '\0') {
				l->tok = T_BAD; /* unterminated */
				return;
			}
			l->pos++;
			if (d == c)
				break;
			if (d == '\\') {
				d = s[l->pos];
				if (d == '\0') {
					l->tok = T_BAD;
					return;
				}
				l->pos++;
			}
			buf_append_byte(&l->text, (uint8_t)d);
		}
		l->tok = T_STRING;
		return;
	}
	if (digit(c) || ((c == '-' || c == '+' || c == '.') &&
			 (digit(s[l->pos + 1]) ||
			  (s[l->pos + 1] == '.' && digit(s[l->pos + 2]))))) {
		size_t p = l->pos;
		if (s[p] == '-' || s[p] == '+')
			p++;
		if (s[p] == '0' && (s[p + 1] == 'x' || s[p + 1] == 'X')) {
			/* hex: kept as its decimal value */
			p += 2;
			uint64_t v = 0;
			size_t n = 0;
			for (;; p++, n++) {
				char h = s[p];
				unsigned d;
				if (digit(h))
					d = (unsigned)(h - '0');
				else if (h >= 'a' && h <= 'f')
					d = (unsigned)(h - 'a' + 10);
				else if (h >= 'A' && h <= 'F')
					d = (unsigned)(h - 'A' + 10);
				else
					break;
				if (n >= 16) {
					l->tok = T_BAD;
					return;
				}
				v = v << 4 | d;
			}
			if (n == 0) {
				l->tok = T_BAD;
				return;
			}
			buf_printf(&l->text, "%s%llu",
				   s[l->pos] == '-' ? "-" : "",
				   (unsigned long long)v);
		} else {
			while (digit(s[p]))
				p++;
			if (s[p] == '.') {
				p++;
				while (digit(s[p]))
					p++;
			}
			if (s[p] == 'e' || s[p] == 'E') {
				size_t q = p + 1;
				if (s[q] == '+' || s[q] == '-')
					q++;
				if (digit(s[q])) {
					while (digit(s[q]))
						q++;
					p = q;
				}
			}
			if (s[l->pos] == '+')
				l->pos++;
			buf_append(&l->text, s + l->pos, p - l->pos);
		}
		l->pos = p;
		if (ident_char(s[l->pos])) {
			l->tok = T_BAD; /* 12abc */
			return;
		}
		l->tok = T_NUMBER;
		return;
	}
	l->pos++;
	switch (c) {
	case '*': l->tok = T_STAR; return;
	case ',': l->tok = T_COMMA; return;
	case '(': l->tok = T_LPAREN; return;
	case ')': l->tok = T_RPAREN; return;
	case '=':
		l->tok = T_OP;
		l->cmp = WQL_EQ;
		return;
	case '!':
		if (s[l->pos] == '=') {
			l->pos++;
			l->tok = T_OP;
			l->cmp = WQL_NE;
			return;
		}
		break;
	case '<':
		l->tok = T_OP;
		l->cmp = WQL_LT;
		if (s[l->pos] == '>') {
			l->pos++;
			l->cmp = WQL_NE;
		} else if (s[l->pos] == '=') {
			l->pos++;
			l->cmp = WQL_LE;
		}
		return;
	case '>':
		l->tok = T_OP;
		l->cmp = WQL_GT;
		if (s[l->pos] == '=') {
			l->pos++;
			l->cmp = WQL_GE;
		}
		return;
	default: break;
	}
	l->tok = T_BAD;
}

static bool is_kw(const struct lexer *l, const char *kw)
{
	return l->tok == T_IDENT &&
	       strcasecmp((const char *)l->text.data, kw) == 0;
}

/* Words that cannot name a property. */
static bool reserved(const char *w)
{
	static const char *const kw[] = { "SELECT", "FROM", "WHERE", "AND",
					  "OR",     "NOT",  "LIKE",  "IS",
					  "NULL",   "TRUE", "FALSE", NULL };
	for (size_t i = 0; kw[i] != NULL; i++)
		if (strcasecmp(w, kw[i]) == 0)
			return true;
	return false;
}

/* ---- parser ---- */

struct parser {
	struct lexer lx;
	struct wql_query *q;
	struct buf *why;
	enum wql_error err;
	int depth;
};

static int fail(struct parser *p, enum wql_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, enum wql_error e, const char *fmt, ...)
{
	if (p->err == WQL_OK) {
		p->err = e;
		va_list ap;
		va_start(ap, fmt);
		buf_vprintf(p->why, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int syntax(struct parser *p, const char *expected)
{
	if (p->lx.tok == T_END)
		return fail(p, WQL_SYNTAX,
			    "The query is not valid: %s expected at the end.",
			    expected);
	return fail(p, WQL_SYNTAX,
		    "The query is not valid: %s expected at offset %zu.",
		    expected, p->lx.start);
}

static int new_node(struct parser *p, enum wql_kind kind)
{
	struct wql_query *q = p->q;
	if (q->n_nodes >= WQL_MAX_NODES)
		return fail(p, WQL_TOO_COMPLEX,
			    "The query has more than %d conditions.",
			    WQL_MAX_NODES);
	if (q->n_nodes == 0 ||
	    (q->n_nodes >= 8 && (q->n_nodes & (q->n_nodes - 1)) == 0)) {
		size_t cap = q->n_nodes ? q->n_nodes * 2 : 8;
		q->nodes = xrealloc(q->nodes, cap * sizeof(*q->nodes));
	}
	struct wql_node *n = &q->nodes[q->n_nodes];
	memset(n, 0, sizeof(*n));
	n->kind = (uint8_t)kind;
	n->prop = -1;
	n->left = n->right = -1;
	return (int)q->n_nodes++;
}

/* A property name in the current token: its index, or -1 (error set). */
static int property(struct parser *p)
{
	if (p->lx.tok != T_IDENT || reserved((const char *)p->lx.text.data))
		return syntax(p, "a property name");
	int idx = wmi_prop_find(p->q->cls, (const char *)p->lx.text.data);
	if (idx < 0)
		return fail(p, WQL_UNKNOWN_PROPERTY,
			    "The property %s does not exist in class %s.",
			    (const char *)p->lx.text.data, p->q->cls->name);
	return idx;
}

static int expr(struct parser *p);

static enum wql_cmp flip(enum wql_cmp c)
{
	switch (c) {
	case WQL_LT: return WQL_GT;
	case WQL_GT: return WQL_LT;
	case WQL_LE: return WQL_GE;
	case WQL_GE: return WQL_LE;
	default: return c;
	}
}

/* The literal in the current token, if it is one: kind and text. */
static bool literal(struct parser *p, enum wql_lit *kind, bool *null_r)
{
	*null_r = false;
	switch (p->lx.tok) {
	case T_STRING: *kind = WQL_L_STRING; return true;
	case T_NUMBER: *kind = WQL_L_NUMBER; return true;
	case T_IDENT:
		if (is_kw(&p->lx, "TRUE") || is_kw(&p->lx, "FALSE")) {
			*kind = WQL_L_BOOL;
			return true;
		}
		if (is_kw(&p->lx, "NULL")) {
			*null_r = true;
			return true;
		}
		return false;
	default: return false;
	}
}

static bool usable_in_where(struct parser *p, int prop)
{
	if (p->q->cls->props[prop].flags & WMI_ARRAY) {
		fail(p, WQL_UNSUPPORTED,
		     "The array property %s cannot be used in WHERE.",
		     p->q->cls->props[prop].name);
		return false;
	}
	return true;
}

/* prop op literal, literal op prop, prop [NOT] LIKE s, prop IS [NOT]
 * NULL */
static int condition(struct parser *p)
{
	enum wql_lit lk;
	bool null_lit;
	if (literal(p, &lk, &null_lit)) {
		/* literal op prop */
		char *text = xstrdup((const char *)p->lx.text.data);
		next(&p->lx);
		if (p->lx.tok != T_OP) {
			free(text);
			return syntax(p, "a comparison operator");
		}
		enum wql_cmp c = flip(p->lx.cmp);
		next(&p->lx);
		int prop = property(p);
		if (prop < 0 || !usable_in_where(p, prop)) {
			free(text);
			return -1;
		}
		next(&p->lx);
		int n = new_node(p, null_lit ? WQL_NULL : WQL_CMP);
		if (n < 0) {
			free(text);
			return -1;
		}
		struct wql_node *nd = &p->q->nodes[n];
		nd->prop = prop;
		if (null_lit) {
			free(text);
			if (c != WQL_EQ && c != WQL_NE)
				return fail(p, WQL_SYNTAX,
					    "The query is not valid: NULL "
					    "compared with %s.",
					    "an ordering operator");
			nd->negate = c == WQL_NE;
		} else {
			nd->cmp = (uint8_t)c;
			nd->lit = (uint8_t)lk;
			nd->text = text;
		}
		return n;
	}
	int prop = property(p);
	if (prop < 0 || !usable_in_where(p, prop))
		return -1;
	next(&p->lx);
	if (is_kw(&p->lx, "IS")) {
		next(&p->lx);
		bool neg = false;
		if (is_kw(&p->lx, "NOT")) {
			neg = true;
			next(&p->lx);
		}
		if (!is_kw(&p->lx, "NULL"))
			return syntax(p, "NULL");
		next(&p->lx);
		int n = new_node(p, WQL_NULL);
		if (n < 0)
			return -1;
		p->q->nodes[n].prop = prop;
		p->q->nodes[n].negate = neg;
		return n;
	}
	bool neg = false;
	if (is_kw(&p->lx, "NOT")) {
		neg = true;
		next(&p->lx);
		if (!is_kw(&p->lx, "LIKE"))
			return syntax(p, "LIKE");
	}
	if (is_kw(&p->lx, "LIKE")) {
		next(&p->lx);
		if (p->lx.tok != T_STRING)
			return syntax(p, "a string pattern");
		int n = new_node(p, WQL_LIKE);
		if (n < 0)
			return -1;
		p->q->nodes[n].prop = prop;
		p->q->nodes[n].negate = neg;
		p->q->nodes[n].text = xstrdup((const char *)p->lx.text.data);
		next(&p->lx);
		return n;
	}
	if (p->lx.tok != T_OP)
		return syntax(p, "a comparison operator");
	enum wql_cmp c = p->lx.cmp;
	next(&p->lx);
	if (!literal(p, &lk, &null_lit)) {
		if (p->lx.tok == T_IDENT)
			return fail(p, WQL_UNSUPPORTED,
				    "The query is not valid: a property can "
				    "only be compared with a constant.");
		return syntax(p, "a constant");
	}
	int n = new_node(p, null_lit ? WQL_NULL : WQL_CMP);
	if (n < 0)
		return -1;
	struct wql_node *nd = &p->q->nodes[n];
	nd->prop = prop;
	if (null_lit) {
		if (c != WQL_EQ && c != WQL_NE)
			return fail(p, WQL_SYNTAX,
				    "The query is not valid: NULL compared "
				    "with %s.",
				    "an ordering operator");
		nd->negate = c == WQL_NE;
	} else {
		nd->cmp = (uint8_t)c;
		nd->lit = (uint8_t)lk;
		nd->text = xstrdup((const char *)p->lx.text.data);
	}
	next(&p->lx);
	return n;
}

static int unary(struct parser *p)
{
	if (++p->depth > WQL_MAX_DEPTH)
		return fail(p, WQL_TOO_COMPLEX,
			    "The query nests deeper than %d levels.",
			    WQL_MAX_DEPTH);
	int n;
	if (is_kw(&p->lx, "NOT")) {
		next(&p->lx);
		int sub = unary(p);
		if (sub < 0)
			return -1;
		n = new_node(p, WQL_NOT);
		if (n < 0)
			return -1;
		p->q->nodes[n].left = sub;
	} else if (p->lx.tok == T_LPAREN) {
		next(&p->lx);
		n = expr(p);
		if (n < 0)
			return -1;
		if (p->lx.tok != T_RPAREN)
			return syntax(p, "')'");
		next(&p->lx);
	} else {
		n = condition(p);
	}
	p->depth--;
	return n;
}

static int binary(struct parser *p, enum wql_kind kind, const char *kw)
{
	int left = kind == WQL_OR ? binary(p, WQL_AND, "AND") : unary(p);
	while (left >= 0 && is_kw(&p->lx, kw)) {
		next(&p->lx);
		int right = kind == WQL_OR ? binary(p, WQL_AND, "AND")
					   : unary(p);
		if (right < 0)
			return -1;
		int n = new_node(p, kind);
		if (n < 0)
			return -1;
		p->q->nodes[n].left = left;
		p->q->nodes[n].right = right;
		left = n;
	}
	return left;
}

static int expr(struct parser *p)
{
	return binary(p, WQL_OR, "OR");
}

static int select_list(struct parser *p, struct buf *names)
{
	if (p->lx.tok == T_STAR) {
		p->q->star = true;
		next(&p->lx);
		return 0;
	}
	/* Names are resolved once the class is known: kept NUL-separated. */
	size_t count = 0;
	for (;;) {
		if (p->lx.tok != T_IDENT ||
		    reserved((const char *)p->lx.text.data))
			return syntax(p, "a property name or *");
		if (++count > WQL_MAX_SELECT)
			return fail(p, WQL_TOO_COMPLEX,
				    "The query selects more than %d "
				    "properties.",
				    WQL_MAX_SELECT);
		buf_append(names, p->lx.text.data, p->lx.text.len + 1);
		next(&p->lx);
		if (p->lx.tok != T_COMMA)
			return 0;
		next(&p->lx);
	}
}

enum wql_error wql_parse(const char *text, struct wql_query *q, struct buf *why)
{
	memset(q, 0, sizeof(*q));
	q->root = -1;
	if (text == NULL || strlen(text) > WQL_MAX_LENGTH) {
		buf_printf(why, "The query is longer than %d characters.",
			   WQL_MAX_LENGTH);
		return WQL_TOO_COMPLEX;
	}
	struct parser p = { .lx = { .s = text }, .q = q, .why = why };
	buf_init(&p.lx.text);
	struct buf names = BUF_INIT;
	next(&p.lx);
	if (is_kw(&p.lx, "ASSOCIATORS") || is_kw(&p.lx, "REFERENCES")) {
		fail(&p, WQL_UNSUPPORTED,
		     "ASSOCIATORS OF and REFERENCES OF queries are not "
		     "supported.");
		goto out;
	}
	if (!is_kw(&p.lx, "SELECT")) {
		syntax(&p, "SELECT");
		goto out;
	}
	next(&p.lx);
	if (select_list(&p, &names) != 0)
		goto out;
	if (!is_kw(&p.lx, "FROM")) {
		syntax(&p, "FROM");
		goto out;
	}
	next(&p.lx);
	if (p.lx.tok != T_IDENT || reserved((const char *)p.lx.text.data)) {
		syntax(&p, "a class name");
		goto out;
	}
	q->cls = wmi_class_find((const char *)p.lx.text.data);
	if (q->cls == NULL) {
		/* WMI's own words (observed in a Windows fault) */
		fail(&p, WQL_UNKNOWN_CLASS,
		     "The specified class does not exist in the given "
		     "namespace. ");
		goto out;
	}
	next(&p.lx);
	q->selected = xcalloc(q->cls->n_props, sizeof(*q->selected));
	for (size_t off = 0; off < names.len;) {
		const char *name = (const char *)names.data + off;
		int idx = wmi_prop_find(q->cls, name);
		if (idx < 0) {
			fail(&p, WQL_UNKNOWN_PROPERTY,
			     "The property %s does not exist in class %s.",
			     name, q->cls->name);
			goto out;
		}
		q->selected[idx] = true;
		off += strlen(name) + 1;
	}
	if (q->star)
		for (size_t i = 0; i < q->cls->n_props; i++)
			q->selected[i] = true;
	if (is_kw(&p.lx, "WHERE")) {
		next(&p.lx);
		q->root = expr(&p);
		if (q->root < 0)
			goto out;
	}
	if (p.lx.tok != T_END)
		syntax(&p, p.lx.tok == T_BAD ? "a valid token" : "the end");
out:
	buf_release(&p.lx.text);
	buf_release(&names);
	return p.err;
}

enum wql_error wql_from_selectors(const struct wmi_class *cls,
				  const struct wmi_pair *sel, size_t n,
				  struct wql_query *q, struct buf *why)
{
	memset(q, 0, sizeof(*q));
	q->root = -1;
	q->cls = cls;
	q->star = true;
	q->selected = xcalloc(cls->n_props, sizeof(*q->selected));
	for (size_t i = 0; i < cls->n_props; i++)
		q->selected[i] = true;
	struct parser p = { .q = q, .why = why };
	for (size_t i = 0; i < n; i++) {
		int prop = wmi_prop_find(cls, sel[i].name);
		if (prop < 0)
			return fail(&p, WQL_UNKNOWN_PROPERTY,
				    "The property %s does not exist in class "
				    "%s.",
				    sel[i].name, cls->name),
			       p.err;
		const struct wmi_prop *pr = &cls->props[prop];
		if ((pr->flags & WMI_ARRAY) || pr->type == WMI_DATETIME)
			return fail(&p, WQL_UNSUPPORTED,
				    "The selector filter names %s, which is "
				    "an array or a datetime.",
				    pr->name),
			       p.err;
		for (size_t k = 0; k < i; k++)
			if (strcasecmp(sel[k].name, sel[i].name) == 0)
				return fail(&p, WQL_UNSUPPORTED,
					    "The selector filter names %s "
					    "twice.",
					    pr->name),
				       p.err;
		if (strpbrk(sel[i].value, "\"'") != NULL)
			return fail(&p, WQL_UNSUPPORTED,
				    "A selector filter value contains a "
				    "quote."),
			       p.err;
		int c = new_node(&p, WQL_CMP);
		if (c < 0)
			return p.err;
		q->nodes[c].prop = prop;
		q->nodes[c].cmp = WQL_EQ;
		q->nodes[c].lit = WQL_L_STRING;
		q->nodes[c].text = xstrdup(sel[i].value);
		if (q->root < 0) {
			q->root = c;
			continue;
		}
		int a = new_node(&p, WQL_AND);
		if (a < 0)
			return p.err;
		q->nodes[a].left = q->root;
		q->nodes[a].right = c;
		q->root = a;
	}
	return WQL_OK;
}

void wql_release(struct wql_query *q)
{
	for (size_t i = 0; i < q->n_nodes; i++)
		free(q->nodes[i].text);
	free(q->nodes);
	free(q->selected);
	memset(q, 0, sizeof(*q));
	q->root = -1;
}

/* ---- evaluation ---- */

enum tri { T_FALSE = 0, T_TRUE = 1, T_UNKNOWN = 2 };

static char fold(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* The character after the one at t (t not at the end): one byte, and
 * the continuation bytes of a UTF-8 sequence, never past the end. */
static const char *next_char(const char *t)
{
	unsigned char c = (unsigned char)*t++;
	if (c < 0xC0)
		return t;
	for (int k = 0; k < 3 && ((unsigned char)*t & 0xC0) == 0x80; k++)
		t++;
	return t;
}

/* Matches one [set] at pattern *pp against character c (ASCII, folded);
 * advances *pp past the set.  Returns -1 for a malformed set. */
static int match_set(const char **pp, char c)
{
	const char *p = *pp + 1;
	bool neg = false, hit = false;
	if (*p == '^') {
		neg = true;
		p++;
	}
	bool first = true;
	while (*p != '\0' && (*p != ']' || first)) {
		char lo = fold(*p), hi = lo;
		if (p[1] == '-' && p[2] != ']' && p[2] != '\0') {
			hi = fold(p[2]);
			p += 3;
		} else {
			p++;
		}
		if (fold(c) >= lo && fold(c) <= hi)
			hit = true;
		first = false;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return hit != neg;
}

bool wql_like(const char *text, const char *pattern)
{
	/* Iterative matching with one backtrack point (the last %): linear
	 * in practice, quadratic at worst, never exponential. */
	const char *t = text, *p = pattern;
	const char *star_p = NULL, *star_t = NULL;
	while (*t != '\0') {
		if (*p == '%') {
			while (*p == '%')
				p++;
			star_p = p;
			star_t = t;
			continue;
		}
		if (*p == '_') {
			p++;
			t = next_char(t);
			continue;
		}
		if (*p == '[') {
			const char *q = p;
			int m = match_set(&q, *t);
			if (m == 1) {
				p = q;
				t = next_char(t);
				continue;
			}
			if (m < 0 && fold(*p) == fold(*t)) {
				/* a lone '[' is literal */
				p++;
				t++;
				continue;
			}
		} else if (*p != '\0' && fold(*p) == fold(*t)) {
			p++;
			t++;
			continue;
		}
		if (star_p == NULL)
			return false;
		p = star_p;
		t = ++star_t;
	}
	while (*p == '%')
		p++;
	return *p == '\0';
}

/* strtold without the locale's decimal point surprises: the texts here
 * are validated numbers with '.' only, and LC_NUMERIC is "C" in every
 * process of winrmd. */
static bool to_number(const char *s, long double *v)
{
	char *end;
	if (*s == '\0')
		return false;
	*v = strtold(s, &end);
	return *end == '\0';
}

static int compare_values(const struct wmi_prop *pr, const char *have,
			  const struct wql_node *n, int *result)
{
	enum wmi_type t = (enum wmi_type)pr->type;
	if (wmi_type_is_number(t)) {
		long double a, b;
		if (n->lit == WQL_L_BOOL) {
			b = strcasecmp(n->text, "TRUE") == 0;
		} else if (!to_number(n->text, &b)) {
			return -1;
		}
		if (!to_number(have, &a))
			return -1;
		*result = a < b ? -1 : a > b;
		return 0;
	}
	if (t == WMI_BOOLEAN) {
		int a = strcmp(have, "true") == 0;
		int b;
		if (n->lit == WQL_L_BOOL || n->lit == WQL_L_STRING) {
			if (strcasecmp(n->text, "true") == 0)
				b = 1;
			else if (strcasecmp(n->text, "false") == 0)
				b = 0;
			else
				return -1;
		} else {
			long double d;
			if (!to_number(n->text, &d))
				return -1;
			b = d != 0;
		}
		*result = a - b;
		return 0;
	}
	if (t == WMI_DATETIME) {
		int64_t a, b;
		if (wmi_datetime_parse(have, &a) != 0 ||
		    wmi_datetime_parse(n->text, &b) != 0)
			return -1;
		*result = a < b ? -1 : a > b;
		return 0;
	}
	int c = strcasecmp(have, n->text);
	*result = c < 0 ? -1 : c > 0;
	return 0;
}

static enum tri eval(const struct wql_query *q, const struct wmi_instances *s,
		     size_t inst, int idx, int budget)
{
	if (idx < 0 || budget <= 0)
		return T_UNKNOWN;
	const struct wql_node *n = &q->nodes[idx];
	switch ((enum wql_kind)n->kind) {
	case WQL_AND: {
		enum tri a = eval(q, s, inst, n->left, budget - 1);
		if (a == T_FALSE)
			return T_FALSE;
		enum tri b = eval(q, s, inst, n->right, budget - 1);
		if (b == T_FALSE)
			return T_FALSE;
		return a == T_TRUE && b == T_TRUE ? T_TRUE : T_UNKNOWN;
	}
	case WQL_OR: {
		enum tri a = eval(q, s, inst, n->left, budget - 1);
		if (a == T_TRUE)
			return T_TRUE;
		enum tri b = eval(q, s, inst, n->right, budget - 1);
		if (b == T_TRUE)
			return T_TRUE;
		return a == T_FALSE && b == T_FALSE ? T_FALSE : T_UNKNOWN;
	}
	case WQL_NOT: {
		enum tri a = eval(q, s, inst, n->left, budget - 1);
		return a == T_UNKNOWN ? T_UNKNOWN
		       : a == T_TRUE  ? T_FALSE
				      : T_TRUE;
	}
	default: break;
	}
	const struct wmi_value *v = wmi_inst_value(s, inst, (size_t)n->prop);
	if (n->kind == WQL_NULL) {
		bool is_null = v->kind == WMI_V_NULL;
		return is_null != n->negate ? T_TRUE : T_FALSE;
	}
	if (v->kind != WMI_V_SCALAR)
		return T_UNKNOWN;
	const char *have = wmi_inst_str(s, v, 0);
	if (n->kind == WQL_LIKE)
		return wql_like(have, n->text) != n->negate ? T_TRUE : T_FALSE;
	int c;
	if (compare_values(&q->cls->props[n->prop], have, n, &c) != 0)
		return T_UNKNOWN;
	switch ((enum wql_cmp)n->cmp) {
	case WQL_EQ: return c == 0 ? T_TRUE : T_FALSE;
	case WQL_NE: return c != 0 ? T_TRUE : T_FALSE;
	case WQL_LT: return c < 0 ? T_TRUE : T_FALSE;
	case WQL_GT: return c > 0 ? T_TRUE : T_FALSE;
	case WQL_LE: return c <= 0 ? T_TRUE : T_FALSE;
	case WQL_GE: return c >= 0 ? T_TRUE : T_FALSE;
	}
	return T_UNKNOWN;
}

bool wql_match(const struct wql_query *q, const struct wmi_instances *set,
	       size_t i)
{
	if (q->root < 0)
		return true;
	/* The tree has at most WQL_MAX_NODES nodes and no cycles (children
	 * are always created before their parent); the budget is a second
	 * guard. */
	return eval(q, set, i, q->root, WQL_MAX_NODES + 1) == T_TRUE;
}

static size_t hints_of(const struct wql_query *q, int idx,
		       struct wmi_pair *hints, size_t n, size_t max)
{
	if (idx < 0 || n >= max)
		return n;
	const struct wql_node *nd = &q->nodes[idx];
	if (nd->kind == WQL_AND) {
		n = hints_of(q, nd->left, hints, n, max);
		return hints_of(q, nd->right, hints, n, max);
	}
	if (nd->kind == WQL_CMP && nd->cmp == WQL_EQ && nd->lit != WQL_L_BOOL) {
		hints[n].name = (char *)q->cls->props[nd->prop].name;
		hints[n].value = nd->text;
		hints[n].is_null = false;
		return n + 1;
	}
	return n;
}

size_t wql_hints(const struct wql_query *q, struct wmi_pair *hints, size_t max)
{
	return hints_of(q, q->root, hints, 0, max);
}
