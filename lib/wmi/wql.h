/*
 * wql.h - WQL, the WMI Query Language, as WS-Management filters carry it
 * (dialect http://schemas.microsoft.com/wbem/wsman/1/WQL):
 *
 *   SELECT * | prop [, prop]... FROM class [WHERE condition]
 *   condition: condition OR condition | condition AND condition
 *            | NOT condition | ( condition )
 *            | prop op literal | literal op prop     op: = <> != < > <= >=
 *            | prop [NOT] LIKE 'pattern'            % _ [set] [^set]
 *            | prop IS [NOT] NULL
 *   literal:  'string' or "string" (backslash escapes the next character),
 *             number (decimal, sign, fraction, exponent; 0x hex),
 *             TRUE, FALSE, NULL
 *
 * Keywords, class and property names are case-insensitive, and so are
 * string comparisons and LIKE (as in WMI).  A comparison with a null
 * property is unknown, as in SQL; an instance matches when the condition
 * is true.
 *
 * The parser is bounded before it starts: the text length, the nesting
 * depth of parentheses and NOT, the number of conditions and of selected
 * properties (fuzz/fuzz-wql.c).  It resolves the class and every property
 * against the schema (schema.h), so that an unknown class or property is
 * an error of the parse, with the kind of error telling the caller which
 * fault to send.
 *
 * The SelectorFilter dialect (equality on properties, AND-ed) is parsed
 * into the same struct by the resource layer (wql_from_selectors).
 *
 * Never logs, never exits.  Ownership: struct wql_query owns everything
 * it points to; release with wql_release.
 */
#ifndef WINRMD_WMI_WQL_H
#define WINRMD_WMI_WQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "lib/wmi/schema.h"
#include "lib/wmi/wire.h"

#define WQL_MAX_LENGTH 16384
#define WQL_MAX_DEPTH 32
#define WQL_MAX_NODES 512
#define WQL_MAX_SELECT 256

enum wql_error {
	WQL_OK = 0,
	WQL_SYNTAX,           /* not a query this grammar accepts */
	WQL_UNKNOWN_CLASS,    /* FROM names no class winrmd has */
	WQL_UNKNOWN_PROPERTY, /* SELECT or WHERE names no property of it */
	WQL_TOO_COMPLEX,      /* over one of the bounds above */
	WQL_UNSUPPORTED,      /* valid WQL winrmd does not evaluate (arrays
				 in WHERE, ASSOCIATORS OF, ...) */
};

enum wql_kind { WQL_AND = 1, WQL_OR, WQL_NOT, WQL_CMP, WQL_LIKE, WQL_NULL };
enum wql_cmp { WQL_EQ = 1, WQL_NE, WQL_LT, WQL_GT, WQL_LE, WQL_GE };
enum wql_lit { WQL_L_STRING = 1, WQL_L_NUMBER, WQL_L_BOOL };

struct wql_node {
	uint8_t kind;    /* enum wql_kind */
	uint8_t cmp;     /* WQL_CMP: enum wql_cmp */
	uint8_t lit;     /* WQL_CMP: enum wql_lit */
	bool negate;     /* WQL_LIKE: NOT LIKE; WQL_NULL: IS NOT NULL */
	int prop;        /* WQL_CMP, WQL_LIKE, WQL_NULL: property index */
	char *text;      /* WQL_CMP, WQL_LIKE: the literal (owned) */
	int left, right; /* AND, OR: operands; NOT: left */
};

struct wql_query {
	const struct wmi_class *cls;
	bool star;              /* SELECT * */
	bool *selected;         /* SELECT list: cls->n_props flags */
	struct wql_node *nodes; /* the WHERE condition, root at 'root' */
	size_t n_nodes;
	int root; /* -1: no WHERE */
};

/*
 * Parses text (NUL-terminated).  Returns WQL_OK with *q filled, or the
 * error with a one-line explanation appended to why (for the fault's
 * inner message).  Release *q in both cases.
 */
enum wql_error wql_parse(const char *text, struct wql_query *q,
			 struct buf *why);

/* A query "SELECT * FROM cls WHERE p1 = v1 AND p2 = v2..." from
 * SelectorFilter selectors (names resolved, case-insensitive).  Returns
 * WQL_OK, WQL_UNKNOWN_PROPERTY, or WQL_UNSUPPORTED for an array or
 * datetime property or a duplicate (MS-WSMV 3.1.4.1.13), with why. */
enum wql_error wql_from_selectors(const struct wmi_class *cls,
				  const struct wmi_pair *sel, size_t n,
				  struct wql_query *q, struct buf *why);

void wql_release(struct wql_query *q);

/* Whether instance i of set matches q's condition. */
bool wql_match(const struct wql_query *q, const struct wmi_instances *set,
	       size_t i);

/*
 * Equalities the host may use to collect less: the "prop = literal"
 * conditions that must all hold (the top-level AND chain).  Appends at
 * most max pairs (names borrowed from the schema, values from q) to
 * hints and returns how many.
 */
size_t wql_hints(const struct wql_query *q, struct wmi_pair *hints, size_t max);

/* LIKE matching (exposed for the unit test): case-insensitive ASCII,
 * % any sequence, _ one character (UTF-8 aware), [abc] [a-z] [^...]. */
bool wql_like(const char *text, const char *pattern);

#endif
