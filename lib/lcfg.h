/*
 * lcfg.h - what the readers and writers of winrmd's libconfig files share
 * (config*.c for winrmd.conf, certmap.c for certmapping.conf):
 *
 *   - libconfig's lexer, far enough to tell code from strings and
 *     comments (config splices @include there, certmap refuses '@');
 *   - the quoting of a string written back into such a file;
 *   - parsing with libconfig, its failure as a "syntax error" message;
 *   - the list of problems that comes out in file order, one line per
 *     problem, "FILE:LINE: KEY: message".
 *
 * Knows no key of either file.  Must not: log, exit or keep global state.
 * config and certmap both depend on this module, never on each other.
 */
#ifndef WINRMD_LCFG_H
#define WINRMD_LCFG_H

#include <stddef.h>
#include <stdarg.h>

#include "lib/util.h"

struct config_t; /* <libconfig.h>: config_t */

/*
 * Lexing.  The state carries over from one byte to the next (and, for the
 * @include splicer, from one file into the one it includes).
 */
enum lcfg_lex {
	LCFG_CODE,          /* outside strings and comments */
	LCFG_STRING,        /* after the opening '"' */
	LCFG_LINE_COMMENT,  /* after '#' or "//", up to the newline */
	LCFG_BLOCK_COMMENT, /* after slash-star, up to star-slash */
};

/*
 * One step of the lexer at text[i] (i < len; text[i] is not NUL: libconfig
 * cannot see one, the callers refuse it first).  Inside a string or a
 * comment, or where one starts ('"', '#', "//", slash-star), consumes the
 * byte, or the two that go together (a backslash and the byte it escapes,
 * "//", slash-star, star-slash), updates *state and returns how many (1
 * or 2; the second may be a newline, never a NUL).  Otherwise, code
 * outside any string or comment, returns 0 and leaves the byte to the
 * caller.
 */
size_t lcfg_lex_step(enum lcfg_lex *state, const char *text, size_t len,
		     size_t i);

/*
 * Quoting.  Appends s as a libconfig string literal, quotes included,
 * escaped as libconfig's own writer does: \" and \\, then \n \r \t \f,
 * and \xNN (two lower-case hex digits) for every other control byte and
 * DEL; any other byte as it is (UTF-8 stays readable, invalid UTF-8 stays
 * what it was).  libconfig reads the literal back to exactly s.  For
 * everything winrmd writes into its files or dumps, and for strings quoted
 * in messages.
 */
void lcfg_put_quoted(struct buf *out, const char *s);

/* The same as a new string (caller frees). */
char *lcfg_quoted(const char *s);

/*
 * Parsing.  Parses len bytes of text (no NUL among them) into lc, which
 * the caller has set up with config_init and destroys.  A newline is added
 * when the text does not end with one (libconfig 1.5 rejects a # or //
 * comment that ends the text).  Returns 0, or -1 with *line_r (the line
 * libconfig names; 0 when none) and *why_r, "syntax error" or "syntax
 * error: WHY" (caller frees).
 */
int lcfg_parse(struct config_t *lc, const char *text, size_t len, int *line_r,
	       char **why_r);

/* "a string", "an integer"... for a libconfig CONFIG_TYPE_* (messages). */
const char *lcfg_type_name(int libconfig_type);

/*
 * Problems.  Each is kept with an order (a line number: of the file, or
 * of the text spliced from several; 0 for the file as a whole, first) and
 * comes out sorted by it, those of one order as they were added.
 */
struct lcfg_error {
	unsigned order;
	size_t seq; /* among all added, for a stable sort */
	char *text; /* owned */
};

struct lcfg_errors {
	struct lcfg_error *v;
	size_t n;
};
#define LCFG_ERRORS_INIT                                                       \
	{                                                                      \
		NULL, 0                                                        \
	}

/*
 * Adds "FILE:LINE: KEY: message": ":LINE" only when line > 0, "KEY: "
 * only when key is not NULL.  file and key are copied into the text.
 */
void lcfg_error(struct lcfg_errors *e, unsigned order, const char *file,
		int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void lcfg_verror(struct lcfg_errors *e, unsigned order, const char *file,
		 int line, const char *key, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

/*
 * Ends a list: returns the problems in order, separated by "\n" with none
 * after the last (caller frees), or NULL when there are none; e is empty
 * again either way.
 */
char *lcfg_errors_take(struct lcfg_errors *e);

/* Frees the problems without looking at them; e is empty again. */
void lcfg_errors_release(struct lcfg_errors *e);

#endif
