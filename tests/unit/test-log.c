/*
 * test-log.c - log_escape (lib/log.c): quotes, backslashes and control
 * bytes escaped, everything else kept, cuts at whole escapes; and the
 * lines log_msg writes: a forging claimed name stays inside its quotes,
 * one line, no raw control byte.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "tests/lib/tap.h"

static void test_escape(void)
{
	static const struct {
		const char *in, *want, *what;
	} cases[] = {
		{ "alice", "alice", "plain text unchanged" },
		{ "", "", "empty" },
		{ "John Smith", "John Smith", "spaces kept" },
		{ "WINRMD\\alice", "WINRMD\\\\alice", "backslash doubled" },
		{ "a\"b", "a\\\"b", "quote escaped" },
		{ "\x1b[31mok", "\\x1b[31mok", "ESC as \\x1b" },
		{ "a\nb\rc\td", "a\\x0ab\\x0dc\\x09d", "newline, CR, tab" },
		{ "\x01\x1f\x7f", "\\x01\\x1f\\x7f", "0x01, 0x1f and DEL" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac",
		  "UTF-8 bytes kept" },
		{ "x\" result=success mapped=root uid=0 reason=\"\x1b[31mok",
		  "x\\\" result=success mapped=root uid=0 reason=\\\"\\x1b[31mok",
		  "the forging Basic name" },
		{ "\\\"", "\\\\\\\"", "backslash then quote" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(LOG_ESC(cases[i].in), cases[i].want, "%s",
		       cases[i].what);
	is_str(LOG_ESC(NULL), "", "NULL is empty");

	char b[8];
	is_str(log_escape(b, sizeof(b), "1234567"), "1234567",
	       "7 bytes fit in 8");
	is_str(log_escape(b, sizeof(b), "12345678"), "1234...",
	       "8 bytes are cut");
	is_str(log_escape(b, sizeof(b), "12\"4567"), "12\\\"...",
	       "a cut keeps whole escapes (quote)");
	is_str(log_escape(b, sizeof(b), "123\"567"), "123...",
	       "an escape that does not fit is left out whole");
	is_str(log_escape(b, sizeof(b), "1\x1b"), "1\\x1b",
	       "an escape that fits exactly");
	is_str(log_escape(b, sizeof(b), "12\x1b"), "12\\x1b",
	       "an escape that fits with room");
	is_str(log_escape(b, sizeof(b), "123\x1bz"), "123...",
	       "\\xHH is never split");
	char four[4];
	is_str(log_escape(four, sizeof(four), "abc"), "abc",
	       "size 4: 3 bytes fit");
	is_str(log_escape(four, sizeof(four), "abcd"), "...",
	       "size 4: only the dots");

	char *big = malloc(5000);
	memset(big, '"', 4999);
	big[4999] = '\0';
	const char *e = LOG_ESC(big);
	size_t n = strlen(e);
	ok(n < LOG_ESC_SIZE, "a long value stays within LOG_ESC_SIZE");
	ok(n >= 5 && strcmp(e + n - 3, "...") == 0 && e[n - 4] == '"' &&
		   e[n - 5] == '\\',
	   "and ends in whole escapes then \"...\"");
	free(big);
}

/* What log_msg writes for fmt, read back from a pipe on stderr. */
static void logged(char *out, size_t n, const char *claimed)
{
	int p[2], saved = dup(STDERR_FILENO);
	if (pipe(p) != 0 || saved < 0)
		abort();
	dup2(p[1], STDERR_FILENO);
	log_init("test", LOG_LVL_DEBUG, true);
	log_audit("authentication remote=%s method=Basic claimed=\"%s\" "
		  "result=failure reason=\"%s\"",
		  "127.0.0.1", claimed, "wrong password");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	ssize_t r = read(p[0], out, n - 1);
	out[r > 0 ? r : 0] = '\0';
	close(p[0]);
}

static void test_lines(void)
{
	static const char forged[] =
		"x\" result=success mapped=root uid=0 reason=\"\x1b[31mok";
	char line[4096];
	logged(line, sizeof(line), LOG_ESC(forged));
	is_str(line,
	       "<5>audit: authentication remote=127.0.0.1 method=Basic "
	       "claimed=\"x\\\" result=success mapped=root uid=0 reason=\\\""
	       "\\x1b[31mok\" result=failure reason=\"wrong password\"\n",
	       "an escaped forging name stays one quoted value");

	/* Whatever a caller forgets to escape: one line, no control byte. */
	logged(line, sizeof(line), "a\nb\x1b[0m\x7f\tc");
	is_str(line,
	       "<5>audit: authentication remote=127.0.0.1 method=Basic "
	       "claimed=\"a b?[0m? c\" result=failure reason=\"wrong password\"\n",
	       "log_msg folds newlines and tabs, replaces other control bytes");
}

int main(void)
{
	test_escape();
	test_lines();
	return tap_done();
}
