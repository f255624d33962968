/*
 * test-ntlm-users.c - the explanations of gss-ntlmssp's refusals
 * (helper/ntlm-users.c) against user files written by the test: a user in
 * the file under the domain the client sent (wrong password), only under
 * another domain (the HOST\demo vs WORKGROUP:demo case), not at all,
 * smbpasswd lines with and without a domain, user principal names (which
 * need a line with an empty domain), comments, an overlong line,
 * a missing file, no file (winbind), and that no password leaks into the
 * text.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper/ntlm-users.h"
#include "tests/lib/tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char dir[] = "/tmp/test-ntlm-users.XXXXXX";
static char path[128];

static void write_users(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(99);
	}
	snprintf(path, sizeof(path), "%s/ntlm_users", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(99);
	}
	fputs("# a comment: WORKGROUP:ghost:pw\n"
	      "WORKGROUP:demo:s3cret-demo\n"
	      "OTHER:demo:s3cret-other\n"
	      "EXAMPLE:alice:s3cret-alice\n"
	      "bob:1000:AAD3B435B51404EEAAD3B435B51404EE:"
	      "8846F7EAEE8FB117AD06BDD830B7586C:[U ]:LCT-00000000:\n"
	      "CORP\\carol:1001:AAD3B435B51404EEAAD3B435B51404EE:"
	      "8846F7EAEE8FB117AD06BDD830B7586C:[U ]:LCT-00000000:\n",
	      f);
	fputs("EXAMPLE:erin@example.com:s3cret-erin\n"
	      ":frank@example.com:s3cret-frank\n",
	      f);
	fputs("X:", f);
	for (int i = 0; i < 2000; i++)
		fputc('y', f);
	fputs(":pw\nHOST:late:s3cret-late\n", f);
	fclose(f);
}

static void test_cases(void)
{
	char unknown_ghost[300], wrong_alice[300];
	snprintf(unknown_ghost, sizeof(unknown_ghost),
		 "unknown user: the NTLM user file %s has no line for "
		 "WORKGROUP\\ghost (lines are DOMAIN:USER:PASSWORD)",
		 path);
	snprintf(wrong_alice, sizeof(wrong_alice),
		 "wrong password (the NTLM response does not match the entry "
		 "for EXAMPLE\\alice in %s)",
		 path);
	char host_demo[400];
	snprintf(host_demo, sizeof(host_demo),
		 "demo is in the NTLM user file %s only under domain "
		 "WORKGROUP, OTHER, not HOST: the domain a client sends must "
		 "be the one of the file's line (log in as WORKGROUP\\demo, "
		 "or add a line HOST:demo:PASSWORD)",
		 path);
	char no_zed[300];
	snprintf(no_zed, sizeof(no_zed),
		 "unknown user: the NTLM user file %s has no line for zed "
		 "(lines are DOMAIN:USER:PASSWORD)",
		 path);
	char wrong_bob[300], wrong_carol[300], wrong_late[300];
	snprintf(wrong_bob, sizeof(wrong_bob),
		 "wrong password (the NTLM response does not match the entry "
		 "for ANY\\BOB in %s)",
		 path);
	snprintf(wrong_carol, sizeof(wrong_carol),
		 "wrong password (the NTLM response does not match the entry "
		 "for corp\\carol in %s)",
		 path);
	snprintf(wrong_late, sizeof(wrong_late),
		 "wrong password (the NTLM response does not match the entry "
		 "for HOST\\late in %s)",
		 path);
	char carol_other[400];
	snprintf(carol_other, sizeof(carol_other),
		 "carol is in the NTLM user file %s only under domain CORP, "
		 "not EXAMPLE: the domain a client sends must be the one of "
		 "the file's line (log in as CORP\\carol, or add a line "
		 "EXAMPLE:carol:PASSWORD)",
		 path);
	char upn_erin[400], wrong_frank[300];
	snprintf(upn_erin, sizeof(upn_erin),
		 "erin@example.com is in the NTLM user file %s only under "
		 "domain EXAMPLE: a user principal name (user@domain, no "
		 "DOMAIN\\) needs a line with an empty domain, "
		 ":erin@example.com:PASSWORD",
		 path);
	snprintf(wrong_frank, sizeof(wrong_frank),
		 "wrong password (the NTLM response does not match the entry "
		 "for frank@example.com in %s)",
		 path);
	const struct {
		const char *claimed;
		long minor;
		const char *want; /* NULL: no explanation */
	} cases[] = {
		{ "HOST\\demo", EACCES, host_demo },
		{ "WORKGROUP\\demo", EINVAL,
		  NULL }, /* filled below: wrong password */
		{ "workgroup\\DEMO", EINVAL, NULL },
		{ "WORKGROUP\\ghost", EACCES, unknown_ghost }, /* comment */
		{ "zed", ENOENT, no_zed },
		{ "EXAMPLE\\alice", EINVAL, wrong_alice },
		{ "alice", EINVAL, NULL }, /* no domain: any line matches */
		{ "EXAMPLE\\alice", EACCES, NULL }, /* a MIC, not a password */
		{ "ANY\\BOB", EINVAL, wrong_bob },  /* smbpasswd, no domain */
		{ "corp\\carol", EINVAL, wrong_carol },
		{ "EXAMPLE\\carol", EACCES, carol_other },
		{ "HOST\\late", EINVAL, wrong_late }, /* after a long line */
		{ "erin@example.com", EACCES, upn_erin },
		{ "frank@example.com", EINVAL, wrong_frank },
	};
	for (size_t i = 0; i < N(cases); i++) {
		char out[512];
		memset(out, 'X', sizeof(out));
		bool got = ntlm_users_explain(path, cases[i].claimed,
					      cases[i].minor, out, sizeof(out));
		if (cases[i].want != NULL) {
			ok(got, "%s (minor %ld): explained", cases[i].claimed,
			   cases[i].minor);
			is_str(got ? out : "", cases[i].want, "%s: the text",
			       cases[i].claimed);
		} else if (cases[i].minor == EINVAL &&
			   strcmp(cases[i].claimed, "alice") != 0) {
			ok(got && strncmp(out, "wrong password", 14) == 0,
			   "%s: wrong password", cases[i].claimed);
		} else if (strcmp(cases[i].claimed, "alice") == 0) {
			ok(got && strncmp(out, "wrong password", 14) == 0,
			   "alice without a domain: wrong password");
		} else {
			ok(!got, "%s (minor %ld): nothing better than GSSAPI's",
			   cases[i].claimed, cases[i].minor);
		}
		ok(got == false || strstr(out, "s3cret") == NULL,
		   "%s: no password in the text", cases[i].claimed);
	}
}

static void test_files(void)
{
	char out[512];
	ok(ntlm_users_explain(NULL, "EXAMPLE\\alice", EACCES, out, sizeof(out)),
	   "no user file: explained");
	is_str(out,
	       "NTLM login refused: no NTLM user file "
	       "(Service.Auth.NtlmUserFile) and winbind did not accept "
	       "EXAMPLE\\alice",
	       "no user file: winbind");
	ok(ntlm_users_explain("", "alice", ENOENT, out, sizeof(out)),
	   "empty path: explained");
	ok(ntlm_users_explain("/nonexistent/ntlm_users", "alice", ENOENT, out,
			      sizeof(out)),
	   "missing file: explained");
	is_str(out,
	       "the NTLM user file /nonexistent/ntlm_users cannot be read: "
	       "No such file or directory",
	       "missing file: the reason");
	ok(!ntlm_users_explain(path, NULL, ENOENT, out, sizeof(out)),
	   "no claimed name: nothing to say");
	char small[16];
	ok(ntlm_users_explain(path, "zed", ENOENT, small, sizeof(small)),
	   "a small buffer");
	is_int((long)strlen(small), 15, "a small buffer: cut, terminated");
}

int main(void)
{
	write_users();
	test_cases();
	test_files();
	unlink(path);
	rmdir(dir);
	return tap_done();
}
