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
#include <sys/socket.h>
#include <sys/un.h>
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

/* The field named name in a native journal datagram, or NULL. */
static const char *jget(const char *d, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	for (const char *p = d; *p != '\0';) {
		const char *end = strchr(p, '\n');
		if (end == NULL)
			return NULL;
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			snprintf(out, size, "%.*s", (int)(end - p - nl - 1),
				 p + nl + 1);
			return out;
		}
		p = end + 1;
	}
	return NULL;
}

static void test_journal(void)
{
	/* A journal socket of our own: what journald would receive. */
	char dir[] = "/tmp/test-log-XXXXXX";
	if (mkdtemp(dir) == NULL)
		abort();
	char path[64];
	snprintf(path, sizeof(path), "%.32s/socket", dir);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		abort();
	log_journal_socket(path);
	log_init("winrmd-test", LOG_LVL_INFO, true);

	const struct audit_peer peer = { 42, "::1", 50123 };
	static const char forged[] = "x\" result=success\nUSER=root";
	log_audit_event(&peer, "authentication",
			"method=%s claimed=\"%s\" mapped=%s result=failure "
			"reason=\"%s\"",
			"Negotiate/NTLM", LOG_ESC(forged), "alice",
			LOG_ESC("wrong \"password\""));
	char d[8192], v[1024];
	ssize_t r = recv(s, d, sizeof(d) - 1, MSG_DONTWAIT);
	ok(r > 0, "an audit event reaches the journal socket");
	d[r > 0 ? r : 0] = '\0';
	is_str(jget(d, "MESSAGE", v, sizeof(v)),
	       "audit: authentication remote=::1 method=Negotiate/NTLM "
	       "claimed=\"x\\\" result=success\\x0aUSER=root\" mapped=alice "
	       "result=failure reason=\"wrong \\\"password\\\"\" conn=42 "
	       "port=50123",
	       "MESSAGE is the line");
	is_str(jget(d, "PRIORITY", v, sizeof(v)), "5", "PRIORITY notice");
	is_str(jget(d, "SYSLOG_FACILITY", v, sizeof(v)), "3",
	       "SYSLOG_FACILITY daemon");
	is_str(jget(d, "SYSLOG_IDENTIFIER", v, sizeof(v)), "winrmd-test",
	       "SYSLOG_IDENTIFIER the tag");
	is_str(jget(d, "WINRMD_EVENT", v, sizeof(v)), "authentication",
	       "WINRMD_EVENT");
	is_str(jget(d, "REMOTE_ADDR", v, sizeof(v)), "::1", "REMOTE_ADDR");
	is_str(jget(d, "REMOTE_PORT", v, sizeof(v)), "50123", "REMOTE_PORT");
	is_str(jget(d, "CONN_ID", v, sizeof(v)), "42", "CONN_ID");
	is_str(jget(d, "METHOD", v, sizeof(v)), "Negotiate/NTLM", "METHOD");
	is_str(jget(d, "RESULT", v, sizeof(v)), "failure",
	       "RESULT: the daemon's, not the forged one");
	is_str(jget(d, "USER", v, sizeof(v)), "alice",
	       "USER: the mapped account before the name claimed");
	is_str(jget(d, "WINRMD_CLAIMED", v, sizeof(v)),
	       "x\" result=success\\x0aUSER=root",
	       "WINRMD_CLAIMED: quotes off, \\x0a kept (no newline)");
	is_str(jget(d, "WINRMD_REASON", v, sizeof(v)), "wrong \"password\"",
	       "WINRMD_REASON unescaped");
	int lines = 0;
	for (ssize_t i = 0; i < r; i++)
		lines += d[i] == '\n';
	is_int(lines, 16, "16 fields, one a line, nothing forged");

	/* The account from user=; authpriv with AuditSyslog. */
	log_audit_syslog(true);
	log_audit_event(&peer, "shell", "user=%s action=create result=success",
			"bob");
	r = recv(s, d, sizeof(d) - 1, MSG_DONTWAIT);
	d[r > 0 ? r : 0] = '\0';
	is_str(jget(d, "USER", v, sizeof(v)), "bob", "USER from user=");
	is_str(jget(d, "SYSLOG_FACILITY", v, sizeof(v)), "10",
	       "SYSLOG_FACILITY authpriv with AuditSyslog");
	ok(jget(d, "METHOD", v, sizeof(v)) == NULL, "no METHOD when none");
	log_audit_syslog(false);

	/* No journal: the line goes to stderr. */
	close(s);
	unlink(path);
	rmdir(dir);
	int p[2], saved = dup(STDERR_FILENO);
	if (pipe(p) != 0 || saved < 0)
		abort();
	dup2(p[1], STDERR_FILENO);
	log_audit_event(&peer, "lockout", "address=%s result=locked", "::1");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	r = read(p[0], d, sizeof(d) - 1);
	d[r > 0 ? r : 0] = '\0';
	close(p[0]);
	is_str(d,
	       "<5>audit: lockout remote=::1 address=::1 result=locked "
	       "conn=42 port=50123\n",
	       "without the journal's socket: the stderr line");

	/* A buffer too small: nothing rather than a cut entry. */
	is_int((int)log_audit_journal_fields(d, 40, "audit: x", &peer, "x", "",
					     false),
	       0, "an entry that does not fit is not built");
}

static void test_time(void)
{
	int p[2], saved = dup(STDERR_FILENO);
	if (pipe(p) != 0 || saved < 0)
		abort();
	dup2(p[1], STDERR_FILENO);
	log_init("winrmd-test", LOG_LVL_INFO, false);
	const struct audit_peer peer = { 7, "127.0.0.1", 1 };
	log_audit_event(&peer, "shell", "user=%s", "u");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	char d[1024];
	ssize_t r = read(p[0], d, sizeof(d) - 1);
	d[r > 0 ? r : 0] = '\0';
	close(p[0]);
	int y, mo, da, h, mi, se, ms, zh, zm;
	char sign;
	ok(sscanf(d, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c%2d:%2d ", &y, &mo, &da, &h,
		  &mi, &se, &ms, &sign, &zh, &zm) == 10 &&
		   (sign == '+' || sign == '-'),
	   "foreground lines start with ISO 8601 local time and zone");
	ok(strstr(d, " winrmd-test[") != NULL &&
		   strstr(d, "notice: audit: shell remote=127.0.0.1 user=u "
			     "conn=7 port=1\n") != NULL,
	   "then the tag, level and the audit line");
}

int main(void)
{
	test_escape();
	test_lines();
	test_journal();
	test_time();
	return tap_done();
}
