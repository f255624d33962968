/*
 * test-certmap.c - unit tests of lib/certmap.c: field checks, loading
 * (every error message, with its line), the canonical format and the
 * atomic save, the Create/Put/Delete helpers, and Windows' selection rule;
 * then the whole path with real certificates: x509_verify_client on the
 * certificates of tests/integration/lib/pki.py (run once with
 * /usr/bin/python3 into a temporary directory; source tree from
 * $WINRMD_SRCDIR, default "."), then certmap_match.
 */
#include "autoconfig.h"

#include "lib/certmap.h"
#include "lib/lcfg.h"
#include "tests/lib/tap.h"
#include "lib/util.h"
#include "lib/x509.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"
#define ISS_A "0123456789ABCDEF0123456789ABCDEF01234567"
#define ISS_B "89ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define SHELL_URI "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
#define CMD_URI SHELL_URI "/cmd"
#define CONFIG_URI "http://schemas.microsoft.com/wbem/wsman/1/config"

static const char *srcdir = ".";
static char tmp_dir[] = "/tmp/winrmd-test-certmap-XXXXXX";

/*
 * Helpers.
 */

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmp_dir, name);
}

static char *read_text(const char *path)
{
	struct buf b = BUF_INIT;
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0)
		tap_diag("cannot write %s", path);
	if (f != NULL)
		fclose(f);
}

static struct certmap *load_ok(const char *text, const char *what)
{
	struct certmap *t = NULL;
	char *err = NULL;
	int r = certmap_load_string(text, strlen(text), "t", &t, &err);

	if (!ok(r == 0 && t != NULL && err == NULL, "%s: loads", what))
		tap_diag("%s", err != NULL ? err : "(no error text)");
	free(err);
	return t;
}

static void load_fails(const char *text, const char *want, const char *what)
{
	struct certmap *t = (struct certmap *)1;
	char *err = NULL;
	int r = certmap_load_string(text, strlen(text), "t", &t, &err);

	ok(r == -1 && t == NULL, "%s: refused", what);
	is_str(err, want, "%s: message", what);
	free(err);
	if (r == 0)
		certmap_free(t);
}

/* One entry as text, fields given (NULL: left out). */
static char *entry_text(const char *uri, const char *subject,
			const char *issuer, const char *user)
{
	struct buf b = BUF_INIT;
	buf_append_str(&b, "CertMapping = (\n{\n");
	if (uri != NULL)
		buf_printf(&b, "URI = \"%s\";\n", uri);
	if (subject != NULL)
		buf_printf(&b, "Subject = \"%s\";\n", subject);
	if (issuer != NULL)
		buf_printf(&b, "Issuer = \"%s\";\n", issuer);
	if (user != NULL)
		buf_printf(&b, "UserName = \"%s\";\n", user);
	buf_append_str(&b, "}\n);\n");
	return buf_steal(&b);
}

static bool same_tables(const struct certmap *a, const struct certmap *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct certmap_entry *x = &a->entries[i];
		const struct certmap_entry *y = &b->entries[i];
		if (strcmp(x->uri, y->uri) != 0 ||
		    strcmp(x->subject, y->subject) != 0 ||
		    strcmp(x->issuer, y->issuer) != 0 ||
		    strcmp(x->user, y->user) != 0 || x->enabled != y->enabled)
			return false;
	}
	return true;
}

/*
 * Field checks.
 */

struct check_case {
	const char *(*check)(const char *);
	const char *field, *value;
	const char *want; /* NULL: valid */
};

static void test_checks(void)
{
	static const struct check_case cases[] = {
		{ certmap_check_uri, "URI", "*", NULL },
		{ certmap_check_uri, "URI", CMD_URI, NULL },
		{ certmap_check_uri, "URI", SHELL_URI "/*", NULL },
		{ certmap_check_uri, "URI", "", "must not be empty" },
		{ certmap_check_uri, "URI", "http://x/*/cmd",
		  "may contain '*' only as the last character" },
		{ certmap_check_uri, "URI", "**",
		  "may contain '*' only as the last character" },
		{ certmap_check_uri, "URI", "*x",
		  "may contain '*' only as the last character" },
		{ certmap_check_uri, "URI", "http://x/a b",
		  "must not contain whitespace or control characters" },
		{ certmap_check_uri, "URI", "http://x/\ta",
		  "must not contain whitespace or control characters" },
		{ certmap_check_uri, "URI", "http://x/?a=b",
		  "must not contain '?'" },
		{ certmap_check_uri, "URI", "http://x/\xff",
		  "not valid UTF-8" },
		{ certmap_check_uri, "URI", "http://x/\xc0\xaf",
		  "not valid UTF-8" },
		{ certmap_check_uri, "URI", "http://x/\xed\xa0\x80",
		  "not valid UTF-8" },
		{ certmap_check_subject, "Subject", "*", NULL },
		{ certmap_check_subject, "Subject", "*@example.net", NULL },
		{ certmap_check_subject, "Subject", "alice@*", NULL },
		{ certmap_check_subject, "Subject", "alice@WINRMD.TEST", NULL },
		{ certmap_check_subject, "Subject", "CN=alice, O=x", NULL },
		{ certmap_check_subject, "Subject", "\xc3\xa9*", NULL },
		{ certmap_check_subject, "Subject", "", "must not be empty" },
		{ certmap_check_subject, "Subject", "**",
		  "may contain at most one '*'" },
		{ certmap_check_subject, "Subject", "*a*",
		  "may contain at most one '*'" },
		{ certmap_check_subject, "Subject", "a*b",
		  "may contain '*' only as the first or the last character" },
		{ certmap_check_subject, "Subject", "a\nb",
		  "must not contain control characters" },
		{ certmap_check_subject, "Subject", "\xe2\x82",
		  "not valid UTF-8" },
		{ certmap_check_issuer, "Issuer", ISS_A, NULL },
		{ certmap_check_issuer, "Issuer",
		  "0123456789abcdef0123456789abcdef01234567", NULL },
		{ certmap_check_issuer, "Issuer",
		  "0123456789ABCDEF0123456789ABCDEF0123456",
		  "must be exactly 40 hexadecimal digits (the SHA-1 "
		  "thumbprint of the issuing CA certificate)" },
		{ certmap_check_issuer, "Issuer", ISS_A "8",
		  "must be exactly 40 hexadecimal digits (the SHA-1 "
		  "thumbprint of the issuing CA certificate)" },
		{ certmap_check_issuer, "Issuer",
		  "0123456789ABCDEF0123456789ABCDEF0123456G",
		  "must be exactly 40 hexadecimal digits (the SHA-1 "
		  "thumbprint of the issuing CA certificate)" },
		{ certmap_check_issuer, "Issuer",
		  "01 23456789ABCDEF0123456789ABCDEF012345",
		  "must be exactly 40 hexadecimal digits (the SHA-1 "
		  "thumbprint of the issuing CA certificate)" },
		{ certmap_check_user, "UserName", "alice", NULL },
		{ certmap_check_user, "UserName", "svc-backup_2.x", NULL },
		{ certmap_check_user, "UserName", "HOST$", NULL },
		{ certmap_check_user, "UserName", "", "must not be empty" },
		{ certmap_check_user, "UserName", "-rf",
		  "must not start with '-'" },
		{ certmap_check_user, "UserName", ".",
		  "must not be \".\" or \"..\"" },
		{ certmap_check_user, "UserName", "..",
		  "must not be \".\" or \"..\"" },
		{ certmap_check_user, "UserName", "1000",
		  "must not be all digits (it would read as a user ID)" },
		{ certmap_check_user, "UserName", "a/b",
		  "may hold only letters, digits, '.', '_', '-' (and a final "
		  "'$')" },
		{ certmap_check_user, "UserName", "DOM\\alice",
		  "may hold only letters, digits, '.', '_', '-' (and a final "
		  "'$')" },
		{ certmap_check_user, "UserName", "alice@REALM",
		  "may hold only letters, digits, '.', '_', '-' (and a final "
		  "'$')" },
		{ certmap_check_user, "UserName", "a$b",
		  "may hold only letters, digits, '.', '_', '-' (and a final "
		  "'$')" },
		{ certmap_check_user, "UserName", "$",
		  "may hold only letters, digits, '.', '_', '-' (and a final "
		  "'$')" },
		{ certmap_check_user, "UserName",
		  "a2345678901234567890123456789012"
		  "34567890123456789012345678901234"
		  "5",
		  "longer than 64 bytes" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct check_case *c = &cases[i];
		const char *got = c->check(c->value);
		if (c->want == NULL)
			ok(got == NULL, "%s \"%s\" is valid%s%s", c->field,
			   c->value, got ? ": " : "", got ? got : "");
		else
			is_str(got != NULL ? got : "(valid)", c->want,
			       "%s \"%s\" is refused", c->field, c->value);
	}

	char *long_uri = xmalloc(CERTMAP_MAX_URI + 2);
	memset(long_uri, 'a', CERTMAP_MAX_URI + 1);
	long_uri[CERTMAP_MAX_URI + 1] = '\0';
	is_str(certmap_check_uri(long_uri), "longer than 2048 bytes",
	       "URI of 2049 bytes");
	long_uri[CERTMAP_MAX_URI] = '\0';
	ok(certmap_check_uri(long_uri) == NULL, "URI of 2048 bytes");
	long_uri[CERTMAP_MAX_SUBJECT + 1] = '\0';
	is_str(certmap_check_subject(long_uri), "longer than 1024 bytes",
	       "Subject of 1025 bytes");
	free(long_uri);
}

/*
 * Loading.
 */

static void test_load_good(void)
{
	const char *text =
		"# a comment with an @ sign\n"
		"CertMapping = (\n"
		"  {\n"
		"    URI = \"*\";\n"
		"    Subject = \"*@example.net\";\n"
		"    Issuer = \"0123456789abcdef0123456789ABCDEF01234567\";\n"
		"    UserName = \"bob\";\n"
		"  },\n"
		"  /* block @ comment */ {\n"
		"    Issuer = \"" ISS_B "\"; UserName = \"alice\";\n"
		"    URI = \"" SHELL_URI "/*\";\n"
		"    Subject = \"alice@WINRMD.TEST\";\n"
		"    Enabled = false;\n"
		"  }\n"
		"); // a final comment without a newline";
	struct certmap *t = load_ok(text, "two entries");
	if (t == NULL)
		return;
	is_int(t->n, 2, "two entries loaded");
	is_str(t->entries[0].uri, "*", "[0] URI");
	is_str(t->entries[0].subject, "*@example.net", "[0] Subject");
	is_str(t->entries[0].issuer, ISS_A, "[0] Issuer stored upper case");
	is_str(t->entries[0].user, "bob", "[0] UserName");
	ok(t->entries[0].enabled, "[0] Enabled defaults to true");
	is_int(t->entries[0].source_line, 3, "[0] source line");
	is_str(t->entries[1].uri, SHELL_URI "/*", "[1] URI");
	ok(!t->entries[1].enabled, "[1] Enabled = false");
	is_int(t->entries[1].source_line, 9, "[1] source line");
	certmap_free(t);

	t = load_ok("", "empty text");
	ok(t != NULL && t->n == 0, "empty text: empty table");
	certmap_free(t);
	t = load_ok("CertMapping = ( );", "empty list");
	ok(t != NULL && t->n == 0, "empty list: empty table");
	certmap_free(t);
	certmap_free(NULL);
	ok(1, "certmap_free(NULL) is a no-op");
}

static void test_load_errors(void)
{
	char *text;

	load_fails("Foo = 1;\n", "t:1: Foo: unknown setting",
		   "unknown top-level setting");
	load_fails("\ncertmapping = ( );\n",
		   "t:2: certmapping: unknown setting (did you mean "
		   "CertMapping?)",
		   "top-level key in the wrong case");
	load_fails("CertMapping = 5;\n",
		   "t:1: CertMapping: expected a list of groups, got an "
		   "integer",
		   "CertMapping not a list");
	load_fails("CertMapping = [ \"a\" ];\n",
		   "t:1: CertMapping: expected a list of groups, got an array",
		   "CertMapping an array");
	/* (libconfig gives a scalar the line where its item ends) */
	load_fails("CertMapping = (\n 5,\n \"x\" );\n",
		   "t:2: CertMapping.[0]: expected a group, got an integer\n"
		   "t:3: CertMapping.[1]: expected a group, got a string",
		   "list items that are not groups");

	text = entry_text("*", "*", ISS_A, NULL);
	load_fails(text, "t:2: CertMapping.[0].UserName: missing (required)",
		   "UserName missing");
	free(text);
	text = entry_text(NULL, NULL, NULL, NULL);
	load_fails(text,
		   "t:2: CertMapping.[0].URI: missing (required)\n"
		   "t:2: CertMapping.[0].Subject: missing (required)\n"
		   "t:2: CertMapping.[0].Issuer: missing (required)\n"
		   "t:2: CertMapping.[0].UserName: missing (required)",
		   "empty group: every required field");
	free(text);
	text = entry_text("*", "*", "ABC", "bob");
	load_fails(text,
		   "t:5: CertMapping.[0].Issuer: must be exactly 40 "
		   "hexadecimal digits (the SHA-1 thumbprint of the issuing "
		   "CA certificate)",
		   "short Issuer");
	free(text);
	text = entry_text("a*b", "a*b", ISS_A, "-x");
	load_fails(text,
		   "t:3: CertMapping.[0].URI: may contain '*' only as the last "
		   "character\n"
		   "t:4: CertMapping.[0].Subject: may contain '*' only as the "
		   "first or the last character\n"
		   "t:6: CertMapping.[0].UserName: must not start with '-'",
		   "three bad fields, three lines");
	free(text);
	text = entry_text("", "", ISS_A, "bob");
	load_fails(text,
		   "t:3: CertMapping.[0].URI: must not be empty\n"
		   "t:4: CertMapping.[0].Subject: must not be empty",
		   "empty URI and Subject");
	free(text);

	load_fails("CertMapping = ( {\n URI = \"*\"; Subject = \"*\";\n"
		   " Issuer = \"" ISS_A "\"; UserName = \"bob\";\n"
		   " Password = \"secret\";\n} );\n",
		   "t:4: CertMapping.[0].Password: not supported: winrmd "
		   "stores no passwords (the mapped account is checked with "
		   "PAM); remove it",
		   "Password is refused");
	load_fails("CertMapping = ( {\n uri = \"*\"; Subject = \"*\";\n"
		   " Issuer = \"" ISS_A "\"; UserName = \"bob\";\n"
		   " Color = \"red\";\n} );\n",
		   "t:1: CertMapping.[0].URI: missing (required)\n"
		   "t:2: CertMapping.[0].uri: unknown setting (did you mean "
		   "URI?)\n"
		   "t:4: CertMapping.[0].Color: unknown setting",
		   "unknown members");
	load_fails("CertMapping = ( {\n URI = 5; Subject = \"*\";\n"
		   " Issuer = \"" ISS_A "\"; UserName = \"bob\";\n"
		   " Enabled = \"yes\";\n} );\n",
		   "t:2: CertMapping.[0].URI: expected a string, got an "
		   "integer\n"
		   "t:4: CertMapping.[0].Enabled: expected a boolean, got a "
		   "string",
		   "wrong types");

	load_fails("CertMapping = (\n"
		   " { URI = \"*\"; Subject = \"*@x.net\";\n"
		   "   Issuer = \"" ISS_A "\"; UserName = \"bob\"; },\n"
		   " { URI = \"*\"; Subject = \"*@X.NET\";\n"
		   "   Issuer = \"0123456789abcdef0123456789abcdef01234567\";\n"
		   "   UserName = \"carol\"; Enabled = false; }\n"
		   ");\n",
		   "t:4: CertMapping.[1]: same URI, Subject and Issuer as the "
		   "entry on line 2",
		   "duplicate key (other case)");

	load_fails("CertMapping = (\n{ URI = ; }\n);\n", "t:2: syntax error",
		   "syntax error");
	load_fails("CertMapping = ( { URI = \"*\";\n URI = \"y\"; } );\n",
		   "t:2: syntax error: duplicate setting name",
		   "a member given twice");
	load_fails("CertMapping = ( );\n@include \"/etc/shadow\"\n",
		   "t:2: syntax error: @include is not allowed in this file",
		   "@include refused");
	load_fails("CertMapping = ( ); @include \"/etc/passwd\"\n",
		   "t:1: syntax error: @include is not allowed in this file",
		   "@include refused anywhere");
	static const char nul_text[] = "CertMapping = ( );\n\0 x\n";
	struct certmap *t = NULL;
	char *err = NULL;
	is_int(certmap_load_string(nul_text, sizeof(nul_text) - 1, "t", &t,
				   &err),
	       -1, "NUL byte refused");
	is_str(err, "t:2: syntax error: NUL byte in the file",
	       "NUL byte message");
	free(err);
	char *big = xmalloc(CERTMAP_MAX_FILE + 2);
	memset(big, ' ', CERTMAP_MAX_FILE + 1);
	big[CERTMAP_MAX_FILE + 1] = '\0';
	load_fails(big, "t: larger than 1048576 bytes", "text over 1 MiB");
	free(big);
	err = NULL;
	is_int(certmap_load_string("x", 1, NULL, &t, &err), -1,
	       "NULL name: refused");
	is_str(err, "<string>:2: syntax error", "NULL name is <string>");
	free(err);
}

static void test_load_file(void)
{
	struct certmap *t = NULL;
	char *err = NULL;
	char *missing = tmp_path("missing.conf");

	is_int(certmap_load_file(missing, &t, &err), 0,
	       "missing file: not an error");
	ok(t != NULL && t->n == 0 && err == NULL, "missing file: empty table");
	certmap_free(t);
	is_int(certmap_load_file(tmp_dir, &t, &err), -1, "directory: refused");
	char *want = xasprintf("%s: not a regular file", tmp_dir);
	is_str(err, want, "directory: message");
	free(want);
	free(err);

	char *bad = tmp_path("bad.conf");
	write_text(bad, "CertMapping = (\n{ URI = \"?\"; }\n);\n");
	is_int(certmap_load_file(bad, &t, &err), -1, "bad file: refused");
	want = xasprintf("%s:2: CertMapping.[0].URI: must not contain '?'",
			 bad);
	contains(err, want, "bad file: FILE:LINE: KEY: message");
	ok(t == NULL, "bad file: no table");
	free(want);
	free(err);
	free(bad);
	free(missing);

	/* The shipped file: loads, empty, and its example is valid once
	 * uncommented. */
	char *shipped = xasprintf("%s/conf/certmapping.conf", srcdir);
	is_int(certmap_load_file(shipped, &t, &err), 0,
	       "conf/certmapping.conf loads");
	ok(t != NULL && t->n == 0, "conf/certmapping.conf: no mapping");
	certmap_free(t);
	free(err);
	err = NULL;
	FILE *f = fopen(shipped, "r");
	struct buf example = BUF_INIT;
	char line[512];
	bool in_example = false;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "#   CertMapping = (", 19) == 0)
			in_example = true;
		if (in_example && strncmp(line, "#   ", 4) == 0)
			buf_append_str(&example, line + 4);
		else
			in_example = false;
	}
	if (f != NULL)
		fclose(f);
	ok(example.len > 0, "conf/certmapping.conf has an example");
	is_int(certmap_load_string(example.data ? (char *)example.data : "",
				   example.len, "example", &t, &err),
	       0, "the example loads");
	ok(t != NULL && t->n == 1 && strcmp(t->entries[0].user, "alice") == 0,
	   "the example maps one entry to alice");
	certmap_free(t);
	free(err);
	buf_release(&example);
	free(shipped);
}

/*
 * Format and save.
 */

static struct certmap *sample(void)
{
	struct certmap *t = certmap_new();
	certmap_add(t, "*", "*@example.net", ISS_A, "bob", true, NULL);
	certmap_add(t, "http://x/\"q\"\\*", "alice@WINRMD.TEST",
		    "89abcdef0123456789abcdef0123456789abcdef", "alice", false,
		    NULL);
	return t;
}

static const char sample_text[] =
	"# certmapping.conf - certificate mappings of winrmd\n"
	"# (winrm/config/service/certmapping): which TLS client\n"
	"# certificates authenticate as which local account.\n"
	"# Written by winrmd; keep the format when editing by hand.\n"
	"# Keys: URI, Subject, Issuer (SHA-1 thumbprint of the CA\n"
	"# that signed the client certificate), UserName, Enabled.\n"
	"CertMapping = (\n"
	"\t{\n"
	"\t\tURI = \"*\";\n"
	"\t\tSubject = \"*@example.net\";\n"
	"\t\tIssuer = \"" ISS_A "\";\n"
	"\t\tUserName = \"bob\";\n"
	"\t\tEnabled = true;\n"
	"\t},\n"
	"\t{\n"
	"\t\tURI = \"http://x/\\\"q\\\"\\\\*\";\n"
	"\t\tSubject = \"alice@WINRMD.TEST\";\n"
	"\t\tIssuer = \"" ISS_B "\";\n"
	"\t\tUserName = \"alice\";\n"
	"\t\tEnabled = false;\n"
	"\t}\n"
	");\n";

static void test_format(void)
{
	struct certmap *t = sample(), *again;
	struct buf b = BUF_INIT, b2 = BUF_INIT;

	is_int(t->n, 2, "sample table has two entries");
	certmap_format(t, &b);
	is_str((char *)b.data, sample_text, "canonical text");
	again = load_ok((char *)b.data, "canonical text");
	ok(again != NULL && same_tables(t, again), "load(format(t)) == t");
	if (again != NULL) {
		certmap_format(again, &b2);
		is_str((char *)b2.data, (char *)b.data,
		       "format(load(format(t))) is byte-identical");
		certmap_free(again);
	}
	buf_release(&b);
	buf_release(&b2);
	certmap_free(t);

	t = certmap_new();
	certmap_format(t, &b);
	contains((char *)b.data, "\nCertMapping = ( );\n", "empty table text");
	again = load_ok((char *)b.data, "empty table text");
	ok(again != NULL && again->n == 0, "empty table loads empty");
	certmap_free(again);
	certmap_free(t);
	buf_release(&b);
}

/*
 * Quoting: the canonical text quotes with lcfg_put_quoted, as winrmd.conf
 * does; quotes, backslashes and UTF-8 round-trip through the file.
 */
static void test_escapes(void)
{
	static const char *const subjects[] = {
		"a\"b@x.net",
		"back\\slash@x.net",
		"\\\"*",
		"*\"\\",
		"caf\xc3\xa9@\xc3\xa9xample.net",
		"\xf0\x9f\x98\x80\xe2\x82\xac*",
		"#@//x/*",
	};
	struct certmap *t = certmap_new(), *again = NULL;
	struct buf b = BUF_INIT, b2 = BUF_INIT;
	char *err = NULL;

	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++)
		is_int(certmap_add(t, "http://x/\"\\*", subjects[i], ISS_A,
				   "bob", true, &err),
		       CERTMAP_OK, "escapes: subject %zu added", i + 1);
	certmap_format(t, &b);
	for (size_t i = 0; i < t->n; i++) {
		char *q = lcfg_quoted(subjects[i]);
		char *line = xasprintf("\t\tSubject = %s;\n", q);
		contains((char *)b.data, line,
			 "escapes: subject %zu written "
			 "as lcfg_quoted",
			 i + 1);
		free(line);
		free(q);
	}
	contains((char *)b.data, "\t\tURI = \"http://x/\\\"\\\\*\";\n",
		 "escapes: URI with a quote and a backslash");
	contains((char *)b.data, "\xc3\xa9xample", "escapes: UTF-8 as it is");
	again = load_ok((char *)b.data, "escapes: canonical text");
	ok(again != NULL && same_tables(t, again),
	   "escapes: load(format(t)) == t");
	if (again != NULL) {
		certmap_format(again, &b2);
		is_str((char *)b2.data, (char *)b.data,
		       "escapes: format(load(format(t))) is byte-identical");
	}
	certmap_free(again);
	again = NULL;

	/* and through the file */
	char *path = tmp_path("escapes.conf");
	is_int(certmap_save_file(path, t, &err), 0, "escapes: saved");
	is_int(certmap_load_file(path, &again, &err), 0, "escapes: reloaded");
	ok(again != NULL && same_tables(t, again),
	   "escapes: the saved file loads to the same table");
	certmap_free(again);
	unlink(path);
	free(path);
	certmap_free(t);
	buf_release(&b);
	buf_release(&b2);

	/* escapes written by hand read as libconfig reads them */
	t = load_ok("CertMapping = ( { URI = \"\\x2a\"; Subject = "
		    "\"\\x41lice\\\\@x\\\"\"; Issuer = \"" ISS_A "\"; "
		    "UserName = \"bob\"; } );\n",
		    "escapes: \\x by hand");
	is_str(t != NULL && t->n == 1 ? t->entries[0].uri : NULL, "*",
	       "escapes: \\x2a is '*'");
	is_str(t != NULL && t->n == 1 ? t->entries[0].subject : NULL,
	       "Alice\\@x\"", "escapes: \\x41, \\\\ and \\\"");
	certmap_free(t);
	/* a control character escaped is still a control character */
	load_fails("CertMapping = ( { URI = \"*\"; Subject = \"a\\nb\";\n"
		   "Issuer = \"" ISS_A "\"; UserName = \"bob\"; } );\n",
		   "t:1: CertMapping.[0].Subject: must not contain control "
		   "characters",
		   "escapes: \\n in Subject");
	/* a syntax error at the end names the last line, as in winrmd.conf */
	load_fails("CertMapping = (\n", "t:2: syntax error",
		   "escapes: unterminated list");
}

static size_t count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_save(void)
{
	char *dir = tmp_path("save");
	char *path = tmp_path("save/certmapping.conf");
	struct certmap *t = sample(), *back = NULL;
	struct stat st;
	char *err = NULL, *text;

	mkdir(dir, 0755);
	is_int(certmap_save_file(path, t, &err), 0, "save: new file");
	ok(err == NULL, "save: no error text");
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	   "save: mode 0600");
	text = read_text(path);
	is_str(text, sample_text, "save: the canonical text");
	free(text);
	is_int(certmap_load_file(path, &back, &err), 0, "save: loads back");
	ok(back != NULL && same_tables(t, back), "load(save(t)) == t");
	certmap_free(back);
	is_int(count_dir(dir), 1, "save: no temporary file left");

	/* owner and group of the replaced file are kept, mode is 0600 */
	if (geteuid() == 0) {
		ok(chown(path, 4321, 8765) == 0 && chmod(path, 0644) == 0,
		   "save: test file given to 4321:8765, mode 0644");
		certmap_remove(t, "*", "*@example.net", ISS_A);
		is_int(certmap_save_file(path, t, &err), 0, "save: replace");
		ok(stat(path, &st) == 0 && st.st_uid == 4321 &&
			   st.st_gid == 8765,
		   "save: owner and group kept");
		ok((st.st_mode & 07777) == 0600, "save: mode 0600 again");
	} else {
		certmap_remove(t, "*", "*@example.net", ISS_A);
		is_int(certmap_save_file(path, t, &err), 0, "save: replace");
		ok(1, "save: owner test needs root (skipped)");
		ok(1, "save: owner test needs root (skipped)");
		ok(1, "save: owner test needs root (skipped)");
	}
	is_int(certmap_load_file(path, &back, &err), 0, "save: reload");
	ok(back != NULL && back->n == 1 && same_tables(t, back),
	   "save: reload has the one entry left");
	certmap_free(back);
	is_int(count_dir(dir), 1, "save: still no temporary file left");

	/* refusals */
	char *link = tmp_path("save/link.conf");
	ok(symlink(path, link) == 0, "a symbolic link to the file");
	is_int(certmap_save_file(link, t, &err), -1, "save: symlink refused");
	char *want = xasprintf("%s: not a regular file (refusing to replace "
			       "it)",
			       link);
	is_str(err, want, "save: symlink message");
	free(want);
	free(err);
	err = NULL;
	char *nodir = tmp_path("nodir/certmapping.conf");
	is_int(certmap_save_file(nodir, t, &err), -1,
	       "save: missing directory refused");
	contains(err, "cannot create a temporary file in", "save: message");
	contains(err, "No such file or directory", "save: says why");
	free(err);
	err = NULL;
	is_int(certmap_save_file(dir, t, &err), -1, "save: over a directory");
	contains(err, "not a regular file", "save: directory message");
	free(err);
	is_int(count_dir(dir), 2, "save: nothing left behind by refusals");

	/* relative path: the temporary file is made in "." */
	char cwd[4096];
	if (getcwd(cwd, sizeof(cwd)) != NULL && chdir(dir) == 0) {
		err = NULL;
		is_int(certmap_save_file("rel.conf", t, &err), 0,
		       "save: relative name");
		ok(access("rel.conf", F_OK) == 0, "save: relative file exists");
		if (chdir(cwd) != 0)
			tap_diag("cannot go back to %s", cwd);
	}
	free(nodir);
	free(link);
	certmap_free(t);
	free(path);
	free(dir);
}

/*
 * Create, Put, Delete.
 */

static void test_crud(void)
{
	struct certmap *t = certmap_new();
	const struct certmap_entry *e;
	char *err = NULL;

	is_int(certmap_add(t, "*", "*@example.net", ISS_A, "bob", true, &err),
	       CERTMAP_OK, "add");
	ok(err == NULL, "add: no error text");
	is_int(certmap_add(t, CMD_URI, "alice@x", ISS_A, "alice", true, NULL),
	       CERTMAP_OK, "add a second");
	is_int(certmap_add(t, "*", "*@EXAMPLE.NET",
			   "0123456789abcdef0123456789abcdef01234567", "eve",
			   true, &err),
	       CERTMAP_EEXIST, "add with the same key in other case: exists");
	is_str(err, "an entry with this URI, Subject and Issuer exists",
	       "add exists: message");
	free(err);
	is_int(certmap_add(t, "a b", "*", ISS_A, "bob", true, &err),
	       CERTMAP_EINVAL, "add with a bad URI");
	is_str(err, "URI: must not contain whitespace or control characters",
	       "add bad URI: message names the field");
	free(err);
	is_int(certmap_add(t, "*", "a*b", ISS_A, "bob", true, &err),
	       CERTMAP_EINVAL, "add with a bad Subject");
	contains(err, "Subject: ", "add bad Subject: message");
	free(err);
	is_int(certmap_add(t, "*", "*", "xyz", "bob", true, &err),
	       CERTMAP_EINVAL, "add with a bad Issuer");
	contains(err, "Issuer: must be exactly 40", "add bad Issuer: message");
	free(err);
	is_int(certmap_add(t, "*", "*", ISS_A, "a:b", true, &err),
	       CERTMAP_EINVAL, "add with a bad UserName");
	contains(err, "UserName: may hold only", "add bad user: message");
	free(err);
	is_int(t->n, 2, "refused adds change nothing");

	e = certmap_find(t, "*", "*@Example.Net",
			 "0123456789abcdef0123456789abcdef01234567");
	ok(e != NULL && strcmp(e->user, "bob") == 0, "find ignores ASCII case");
	ok(certmap_find(t, "x", "*@example.net", ISS_A) == NULL,
	   "find: no such key");

	is_int(certmap_replace(t, "*", "*@example.net", ISS_A, "robert", false,
			       &err),
	       CERTMAP_OK, "replace");
	e = certmap_find(t, "*", "*@example.net", ISS_A);
	ok(e != NULL && strcmp(e->user, "robert") == 0 && !e->enabled,
	   "replace sets UserName and Enabled");
	is_int(certmap_replace(t, "*", "nobody@x", ISS_A, "bob", true, &err),
	       CERTMAP_ENOENT, "replace a missing key");
	is_str(err, "no entry with this URI, Subject and Issuer",
	       "replace missing: message");
	free(err);
	is_int(certmap_replace(t, "*", "*@example.net", ISS_A, "", true, &err),
	       CERTMAP_EINVAL, "replace with an empty UserName");
	is_str(err, "UserName: must not be empty", "replace invalid: message");
	free(err);

	certmap_add(t, "*", "carol@x", ISS_B, "carol", true, NULL);
	is_int(certmap_remove(t, CMD_URI, "ALICE@X", ISS_A), CERTMAP_OK,
	       "remove the middle entry");
	ok(t->n == 2 && strcmp(t->entries[0].user, "robert") == 0 &&
		   strcmp(t->entries[1].user, "carol") == 0,
	   "remove keeps the order of the others");
	is_int(certmap_remove(t, CMD_URI, "alice@x", ISS_A), CERTMAP_ENOENT,
	       "remove again: no such entry");
	certmap_free(t);
}

/*
 * Matching, with hand-made client certificates.
 */

static struct x509_client client(const char *issuer, const char *upn,
				 const char *email)
{
	struct x509_client c;
	memset(&c, 0, sizeof(c));
	snprintf(c.issuer_thumbprint, sizeof(c.issuer_thumbprint), "%s",
		 issuer);
	if (upn != NULL) {
		c.upns = xcalloc(1, sizeof(char *));
		c.upns[0] = xstrdup(upn);
		c.n_upns = 1;
	}
	if (email != NULL) {
		c.emails = xcalloc(1, sizeof(char *));
		c.emails[0] = xstrdup(email);
		c.n_emails = 1;
	}
	return c;
}

/* Matches and checks the result (and the user for CERTMAP_MATCH). */
static void match(const struct certmap *t, const char *issuer, const char *upn,
		  const char *email, const char *uri, int want,
		  const char *want_user, const char *what)
{
	struct x509_client c = client(issuer, upn, email);
	const struct certmap_entry *e = (const struct certmap_entry *)1;
	int r = certmap_match(t, &c, uri, &e);

	is_int(r, want, "match %s", what);
	if (want == CERTMAP_MATCH)
		is_str(e != NULL ? e->user : "(none)", want_user,
		       "match %s: user", what);
	else
		ok(e == NULL, "match %s: no entry", what);
	x509_client_release(&c);
}

static void test_match(void)
{
	struct certmap *t = certmap_new();
	certmap_add(t, "*", "*@example.net", ISS_A, "bob", true, NULL);
	certmap_add(t, "*", "alice@WINRMD.TEST", ISS_A, "alice", true, NULL);
	certmap_add(t, SHELL_URI "/*", "alice@winrmd.test", ISS_A,
		    "alice_shell", true, NULL);
	certmap_add(t, CONFIG_URI, "alice@winrmd.test", ISS_A, "alice_config",
		    true, NULL);
	certmap_add(t, "*", "erin@WINRMD.TEST", ISS_A, "erin", false, NULL);
	certmap_add(t, "*", "dave@WINRMD.TEST", ISS_B, "dave", true, NULL);
	certmap_add(t, "*", "frank@*", ISS_A, "frank", true, NULL);
	certmap_add(t, "*", "carol@WINRMD.TEST", ISS_A, "carol_upn", true,
		    NULL);
	certmap_add(t, "*", "carol@EXAMPLE.NET", ISS_A, "carol_mail", true,
		    NULL);
	certmap_add(t, "*", "grace@*", ISS_A, "grace1", true, NULL);
	certmap_add(t, "*", "*x.test", ISS_A, "grace2", true, NULL);
	certmap_add(t, "*", "*", ISS_B, "anyone", true, NULL);
	certmap_add(t, "*", "*\xc3\xa9\xc3\xa9", ISS_A, "by_bytes", true, NULL);
	certmap_add(t, "*", "x@ab*", ISS_A, "by_chars", true, NULL);

	match(t, ISS_A, "alice@WINRMD.TEST", NULL, CMD_URI, CERTMAP_MATCH,
	      "alice_shell", "alice on the shell: the longest URI wins");
	match(t, ISS_A, "ALICE@winrmd.test", NULL, CMD_URI, CERTMAP_MATCH,
	      "alice_shell", "UPN case is ignored");
	match(t, ISS_A, "alice@WINRMD.TEST", NULL,
	      "HTTP://SCHEMAS.MICROSOFT.COM/wbem/wsman/1/windows/shell/cmd",
	      CERTMAP_MATCH, "alice_shell", "URI prefix case is ignored");
	match(t, ISS_A, "alice@WINRMD.TEST", NULL, CONFIG_URI, CERTMAP_MATCH,
	      "alice_config", "alice on config: exact URI");
	match(t, ISS_A, "alice@WINRMD.TEST", NULL, CONFIG_URI "/service",
	      CERTMAP_MATCH, "alice", "a URI without '*' is not a prefix");
	match(t, ISS_B, "alice@WINRMD.TEST", NULL, CMD_URI, CERTMAP_MATCH,
	      "anyone", "another issuer: only its entries count");
	match(t, ISS_A, NULL, "bob@example.net", CMD_URI, CERTMAP_MATCH, "bob",
	      "bob by e-mail, *@example.net");
	match(t, ISS_A, "bob@example.net", NULL, CMD_URI, CERTMAP_MATCH, "bob",
	      "a UPN matches an e-mail-style pattern too");
	match(t, ISS_A, NULL, "bob@example.network", CMD_URI, CERTMAP_NO_MATCH,
	      NULL, "*@example.net is a suffix, not a substring");
	match(t, ISS_A, NULL, "t", CMD_URI, CERTMAP_NO_MATCH, NULL,
	      "a name shorter than the pattern");
	match(t, ISS_A, "erin@WINRMD.TEST", NULL, CMD_URI, CERTMAP_NO_MATCH,
	      NULL, "erin: her only entry is disabled");
	match(t, ISS_A, "dave@WINRMD.TEST", NULL, CMD_URI, CERTMAP_NO_MATCH,
	      NULL, "dave with the wrong issuer");
	match(t, ISS_B, "dave@WINRMD.TEST", NULL, CMD_URI, CERTMAP_MATCH,
	      "dave", "dave with his issuer: longest Subject beats '*'");
	match(t, ISS_B, NULL, NULL, CMD_URI, CERTMAP_MATCH, "anyone",
	      "'*' matches a certificate without names");
	match(t, ISS_A, NULL, NULL, CMD_URI, CERTMAP_NO_MATCH, NULL,
	      "no names and no '*' entry");
	match(t, ISS_A, "frank@anywhere", NULL, CMD_URI, CERTMAP_MATCH, "frank",
	      "prefix pattern frank@*");
	match(t, ISS_A, "frankie@anywhere", NULL, CMD_URI, CERTMAP_NO_MATCH,
	      NULL, "frank@* does not match frankie@");
	match(t, ISS_A, "carol@WINRMD.TEST", "carol@example.net", CMD_URI,
	      CERTMAP_AMBIGUOUS, NULL,
	      "carol: UPN and e-mail hit entries of the same length");
	match(t, ISS_A, "carol@WINRMD.TEST", NULL, CMD_URI, CERTMAP_MATCH,
	      "carol_upn", "carol with only the UPN");
	match(t, ISS_A, "grace@x.test", NULL, CMD_URI, CERTMAP_AMBIGUOUS, NULL,
	      "grace@* and *x.test: same length, ambiguous");
	match(t, ISS_A, "x@ab\xc3\xa9\xc3\xa9", NULL, CMD_URI, CERTMAP_MATCH,
	      "by_chars", "lengths count characters, not bytes");

	struct x509_client c = client(ISS_A, "alice@WINRMD.TEST", NULL);
	const struct certmap_entry *e = NULL;
	is_int(certmap_match(t, NULL, CMD_URI, &e), CERTMAP_NO_MATCH,
	       "no client: no match");
	is_int(certmap_match(t, &c, NULL, &e), CERTMAP_NO_MATCH,
	       "no URI: no match");
	is_int(certmap_match(NULL, &c, CMD_URI, &e), CERTMAP_NO_MATCH,
	       "no table: no match");
	x509_client_release(&c);
	certmap_free(t);

	/* an empty table never matches */
	t = certmap_new();
	match(t, ISS_A, "alice@WINRMD.TEST", NULL, CMD_URI, CERTMAP_NO_MATCH,
	      NULL, "empty table");
	certmap_free(t);
}

/*
 * The whole path: verified certificates from pki.py through the table.
 */

static int run_pki(const char *out)
{
	char *script = xasprintf("%s/tests/integration/lib/pki.py", srcdir);
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execl(PYTHON, PYTHON, script, "--out", out, (char *)NULL);
		_exit(127);
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		status = WEXITSTATUS(status);
	free(script);
	return status;
}

static char *pki_thumbprint(const char *pki, const char *name)
{
	char *p = xasprintf("%s/%s.sha1", pki, name), *t = read_text(p);
	free(p);
	if (t == NULL)
		return xstrdup("");
	t[strcspn(t, "\n")] = '\0';
	return t;
}

static int verify_and_match(const struct certmap *t, const char *pki,
			    const char *name, const char *with, const char *uri,
			    const struct certmap_entry **e)
{
	struct buf d[2] = { BUF_INIT, BUF_INIT };
	const uint8_t *p[2];
	size_t lens[2];
	const char *names[2] = { name, with };
	size_t n = with != NULL ? 2 : 1;
	struct x509_client c;
	char err[512], *ca = xasprintf("%s/ca.pem", pki);
	int r;

	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s.der", pki, names[i]);
		FILE *f = fopen(path, "rb");
		char chunk[4096];
		size_t k;
		while (f != NULL && (k = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_append(&d[i], chunk, k);
		if (f != NULL)
			fclose(f);
		free(path);
		p[i] = d[i].data;
		lens[i] = d[i].len;
	}
	r = x509_verify_client(p, lens, n, ca, 0, &c, err, sizeof(err));
	if (r != X509C_OK) {
		tap_diag("%s: %s", name, err);
		r = -1;
	} else {
		r = certmap_match(t, &c, uri, e);
	}
	x509_client_release(&c);
	for (size_t i = 0; i < n; i++)
		buf_release(&d[i]);
	free(ca);
	return r;
}

static void test_end_to_end(void)
{
	char *pki = tmp_path("pki");
	if (!ok(run_pki(pki) == 0, "pki.py builds the test PKI"))
		goto out;

	char *ca = pki_thumbprint(pki, "ca");
	char *inter = pki_thumbprint(pki, "intermediate");
	struct certmap *t = certmap_new();
	certmap_add(t, "*", "alice@WINRMD.TEST", ca, "alice", true, NULL);
	certmap_add(t, "*", "*@example.net", ca, "netuser", true, NULL);
	certmap_add(t, "*", "erin@WINRMD.TEST", ca, "erin", false, NULL);
	certmap_add(t, "*", "dave@WINRMD.TEST", inter, "dave", true, NULL);
	certmap_add(t, "*", "dave@WINRMD.TEST", ca, "dave_root", true, NULL);
	certmap_add(t, SHELL_URI "/*", "*@wild.example.org", ca, "wild", true,
		    NULL);

	const struct certmap_entry *e = NULL;
	is_int(verify_and_match(t, pki, "client_alice", NULL, CMD_URI, &e),
	       CERTMAP_MATCH, "alice's certificate maps");
	is_str(e != NULL ? e->user : "", "alice", "... to alice");
	is_int(verify_and_match(t, pki, "client_bob", NULL, CMD_URI, &e),
	       CERTMAP_MATCH, "bob's e-mail certificate maps");
	is_str(e != NULL ? e->user : "", "netuser", "... with *@example.net");
	is_int(verify_and_match(t, pki, "client_both", NULL, CMD_URI, &e),
	       CERTMAP_MATCH, "carol's certificate maps by its e-mail name");
	is_int(verify_and_match(t, pki, "client_disabled", NULL, CMD_URI, &e),
	       CERTMAP_NO_MATCH, "erin's disabled mapping does not apply");
	is_int(verify_and_match(t, pki, "client_inter", "intermediate", CMD_URI,
				&e),
	       CERTMAP_MATCH, "dave (via the intermediate) maps");
	is_str(e != NULL ? e->user : "", "dave",
	       "... through the entry with the intermediate's thumbprint, not "
	       "the root's");
	is_int(verify_and_match(t, pki, "client_wild", NULL, CMD_URI, &e),
	       CERTMAP_MATCH, "client_wild maps on the shell");
	is_str(e != NULL ? e->user : "", "wild", "... with *@wild.example.org");
	is_int(verify_and_match(t, pki, "client_wild", NULL, CONFIG_URI, &e),
	       CERTMAP_NO_MATCH, "... and not outside it");
	is_int(verify_and_match(t, pki, "client_max", NULL, CMD_URI, &e),
	       CERTMAP_MATCH, "the 16384-byte certificate maps to alice");
	is_int(verify_and_match(t, pki, "client_rogue", NULL, CMD_URI, &e), -1,
	       "the rogue CA's alice does not even verify");

	/* the same table saved and loaded gives the same answers */
	char *path = tmp_path("e2e.conf");
	char *err = NULL;
	struct certmap *back = NULL;
	is_int(certmap_save_file(path, t, &err), 0, "save the table");
	is_int(certmap_load_file(path, &back, &err), 0, "load it back");
	if (back != NULL) {
		is_int(verify_and_match(back, pki, "client_inter",
					"intermediate", CMD_URI, &e),
		       CERTMAP_MATCH, "dave maps with the reloaded table");
		certmap_free(back);
	}
	free(path);
	certmap_free(t);
	free(inter);
	free(ca);
out:
	free(pki);
}

int main(void)
{
	const char *env = getenv("WINRMD_SRCDIR");
	if (env != NULL && env[0] != '\0')
		srcdir = env;
	if (mkdtemp(tmp_dir) == NULL) {
		printf("Bail out! cannot create a temporary directory\n");
		return 1;
	}

	test_checks();
	test_load_good();
	test_load_errors();
	test_load_file();
	test_format();
	test_escapes();
	test_save();
	test_crud();
	test_match();
	test_end_to_end();

	nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
