/*
 * test-authz.c - group-based authorization (helper/authz.c) against
 * fake accounts: the program writes passwd and group files, then re-execs
 * itself under nss_wrapper (LD_PRELOAD=libnss_wrapper.so,
 * NSS_WRAPPER_PASSWD/GROUP), so getgrouplist and getgrnam see only them.
 *
 * Cases: root, administrators through a primary or a supplementary group,
 * the remote users group (primary or supplementary), nobody, NTLM local
 * accounts under LocalAccountTokenFilterPolicy 0 and 1, empty lists,
 * AD-style accounts and groups (alice@example.com, EXAMPLE\bob, "winrm
 * users@example.com") and a list of remote users groups,
 * groups that do not exist, a user in more groups than the first
 * getgrouplist buffer holds, and the reason texts.
 *
 * Without libnss_wrapper the whole test is skipped.
 */
#include "autoconfig.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper/authz.h"
#include "lib/priv/proto.h"
#include "tests/lib/tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define CHILD_MARK "WINRMD_TEST_AUTHZ_WRAPPED"

#define AUTH PRIV_ID_AUTHORIZED
#define ADMIN (PRIV_ID_AUTHORIZED | PRIV_ID_ADMIN)

static char dir[] = "/tmp/test-authz.XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(99);
	}
}

/*
 * uid/gid  user   primary group     supplementary groups
 * 0        root   root
 * 1001     alice  alice             winrmusers
 * 1002     bob    bob               -
 * 1003     carol  carol             sudo
 * 1004     dave   dave              wheel
 * 1005     frank  winrmusers (3001) -
 * 1006     gina   sudo (3002)       -
 * 1007     hank   hank              sudo, winrmusers
 * 1008     jill   jill              g000 .. g149, wheel (151 groups)
 * 1009     kim    kim               sudo, wheel
 * 65534    nobody nogroup           -
 */
static void write_nss_files(char *passwd, char *group, size_t n)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(99);
	}
	snprintf(passwd, n, "%s/passwd", dir);
	snprintf(group, n, "%s/group", dir);
	write_file(
		passwd,
		"root:x:0:0:root:/root:/bin/sh\n"
		"alice:x:1001:1001::/nonexistent:/bin/sh\n"
		"bob:x:1002:1002::/nonexistent:/bin/sh\n"
		"carol:x:1003:1003::/nonexistent:/bin/sh\n"
		"dave:x:1004:1004::/nonexistent:/bin/sh\n"
		"frank:x:1005:3001::/nonexistent:/bin/sh\n"
		"gina:x:1006:3002::/nonexistent:/bin/sh\n"
		"hank:x:1007:1007::/nonexistent:/bin/sh\n"
		"jill:x:1008:1008::/nonexistent:/bin/sh\n"
		"kim:x:1009:1009::/nonexistent:/bin/sh\n"
		"alice@example.com:x:1101:1101::/nonexistent:/bin/sh\n"
		"EXAMPLE\\bob:x:1102:1102::/nonexistent:/bin/sh\n"
		"carol@example.com:x:1103:1103::/nonexistent:/bin/sh\n"
		"dave@example.com:x:1104:1104::/nonexistent:/bin/sh\n"
		"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
	char *g = NULL;
	size_t glen = 0;
	FILE *f = open_memstream(&g, &glen);
	fputs("root:x:0:\n"
	      "alice:x:1001:\n"
	      "bob:x:1002:\n"
	      "carol:x:1003:\n"
	      "dave:x:1004:\n"
	      "hank:x:1007:\n"
	      "jill:x:1008:\n"
	      "kim:x:1009:\n"
	      "winrmusers:x:3001:alice,hank\n"
	      "sudo:x:3002:carol,hank,kim\n"
	      "nogroup:x:65534:\n"
	      "domain users@example.com:x:1101:\n"
	      "EXAMPLE\\domain users:x:1102:\n"
	      "carol@example.com:x:1103:\n"
	      "dave@example.com:x:1104:\n"
	      "winrm users@example.com:x:5001:alice@example.com,"
	      "dave@example.com\n"
	      "EXAMPLE\\winrm users:x:5002:EXAMPLE\\bob\n"
	      "domain admins@example.com:x:5003:carol@example.com,"
	      "dave@example.com\n",
	      f);
	for (int i = 0; i < 150; i++)
		fprintf(f, "g%03d:x:%d:jill\n", i, 4000 + i);
	/* wheel last: jill's admin group is past the first 64 entries */
	fputs("wheel:x:3003:dave,jill,kim\n", f);
	fclose(f);
	write_file(group, g);
	free(g);
}

/* Re-exec under nss_wrapper unless that is done; returns in the child. */
static void wrap(char **argv)
{
	if (getenv(CHILD_MARK) != NULL)
		return;
	char passwd[64], group[64];
	write_nss_files(passwd, group, sizeof(passwd));
	const char *old = getenv("LD_PRELOAD");
	char preload[512];
	snprintf(preload, sizeof(preload), "libnss_wrapper.so%s%s",
		 old ? ":" : "", old ? old : "");
	setenv("LD_PRELOAD", preload, 1);
	setenv("NSS_WRAPPER_PASSWD", passwd, 1);
	setenv("NSS_WRAPPER_GROUP", group, 1);
	setenv(CHILD_MARK, dir, 1);
	/* as lib/lab.py does for the ASan daemon */
	setenv("NSS_WRAPPER_DISABLE_DEEPBIND", "1", 1);
	/* An ASan build: the runtime is not first in LD_PRELOAD any more. */
	const char *asan = getenv("ASAN_OPTIONS");
	char opts[512];
	snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0",
		 asan ? asan : "", asan ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
	/* The path, not /proc/self/exe itself: under valgrind
	 * --trace-children=yes only readlink shows the program. */
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		perror("readlink /proc/self/exe");
		exit(99);
	}
	self[n] = '\0';
	fflush(stdout);
	execv(self, argv);
	perror(self);
	exit(99);
}

static void cleanup(void)
{
	const char *d = getenv(CHILD_MARK);
	char p[128];
	if (d == NULL || strncmp(d, "/tmp/test-authz.", 16) != 0)
		return;
	snprintf(p, sizeof(p), "%s/passwd", d);
	unlink(p);
	snprintf(p, sizeof(p), "%s/group", d);
	unlink(p);
	rmdir(d);
}

static char *std_admin[] = { "sudo", "wheel" };
static char *std_remote[] = { "winrmusers" };
static char *missing_remote[] = { "nosuchgroup2" };
static char *upper_remote[] = { "WINRMUSERS" };

struct rules_spec {
	const char *name;
	struct authz_rules r;
};

static const struct rules_spec R_DEFAULT = {
	"defaults", { std_admin, 2, std_remote, 1, 0 }
};
static const struct rules_spec R_POLICY1 = {
	"policy 1", { std_admin, 2, std_remote, 1, 1 }
};
static const struct rules_spec R_EMPTY = { "empty lists",
					   { NULL, 0, NULL, 0, 0 } };
static const struct rules_spec R_EMPTY_NULL = { "no lists (NULL)",
						{ NULL, 0, NULL, 0, 1 } };

static char *missing_admin[] = { "nosuchgroup" };
static const struct rules_spec R_MISSING = {
	"missing groups", { missing_admin, 1, missing_remote, 1, 1 }
};
static char *missing_then_sudo[] = { "nosuchgroup", "sudo" };
static const struct rules_spec R_MISSING_SUDO = {
	"missing, sudo", { missing_then_sudo, 2, NULL, 0, 1 }
};
static char *upper_sudo[] = { "SUDO" };
static const struct rules_spec R_UPPER = {
	"SUDO", { upper_sudo, 1, upper_remote, 1, 1 }
};
static const struct rules_spec R_NO_REMOTE = { "no remote users group",
					       { std_admin, 2, NULL, 0, 0 } };
/* AD groups as sssd (fully qualified) and winbind name them; the remote
 * users list is searched in order, the first group that holds the user
 * is the reason */
static char *ad_admin[] = { "domain admins@example.com" };
static char *ad_remote[] = { "nosuchgroup", "winrm users@example.com",
			     "EXAMPLE\\winrm users", "winrmusers" };
static const struct rules_spec R_AD = { "AD groups",
					{ ad_admin, 1, ad_remote, 4, 0 } };

static const char *const NOT_MEMBER =
	"not root and not a member of an admin group or of the remote users group";
static const char *const FILTERED_SUDO =
	"member of sudo, but a local account over NTLM is not an administrator "
	"while LocalAccountTokenFilterPolicy is 0";
static const char *const FILTERED_WHEEL =
	"member of wheel, but a local account over NTLM is not an administrator "
	"while LocalAccountTokenFilterPolicy is 0";

struct authz_case {
	const char *user;
	uid_t uid;
	gid_t gid;
	bool ntlm_local;
	const struct rules_spec *rules;
	unsigned want;
	const char *reason;
};

static void test_table(void)
{
	const struct authz_case cases[] = {
		/* root: always an administrator */
		{ "root", 0, 0, false, &R_DEFAULT, ADMIN, "root" },
		{ "root", 0, 0, true, &R_DEFAULT, ADMIN,
		  "root" }, /* exempt from UAC */
		{ "root", 0, 0, true, &R_EMPTY, ADMIN, "root" },
		{ "root", 0, 0, false, &R_EMPTY_NULL, ADMIN, "root" },
		{ "toor", 0, 0, false, &R_EMPTY, ADMIN,
		  "root" }, /* uid 0 counts */
		/* administrators */
		{ "carol", 1003, 1003, false, &R_DEFAULT, ADMIN,
		  "member of admin group sudo" },
		{ "dave", 1004, 1004, false, &R_DEFAULT, ADMIN,
		  "member of admin group wheel" },
		{ "gina", 1006, 3002, false, &R_DEFAULT, ADMIN,
		  "member of admin group sudo" },
		{ "kim", 1009, 1009, false, &R_DEFAULT, ADMIN,
		  "member of admin group sudo" },
		{ "hank", 1007, 1007, false, &R_DEFAULT, ADMIN,
		  "member of admin group sudo" },
		{ "jill", 1008, 1008, false, &R_DEFAULT, ADMIN,
		  "member of admin group wheel" },
		/* remote users */
		{ "alice", 1001, 1001, false, &R_DEFAULT, AUTH,
		  "member of remote users group winrmusers" },
		{ "frank", 1005, 3001, false, &R_DEFAULT, AUTH,
		  "member of remote users group winrmusers" },
		/* neither */
		{ "bob", 1002, 1002, false, &R_DEFAULT, 0, NOT_MEMBER },
		{ "bob", 1002, 1002, true, &R_POLICY1, 0, NOT_MEMBER },
		{ "nobody", 65534, 65534, false, &R_DEFAULT, 0, NOT_MEMBER },
		{ "ghost", 5000, 5000, false, &R_DEFAULT, 0,
		  NOT_MEMBER }, /* not in NSS */
		/* NTLM local accounts, LocalAccountTokenFilterPolicy 0: filtered */
		{ "carol", 1003, 1003, true, &R_DEFAULT, 0, FILTERED_SUDO },
		{ "dave", 1004, 1004, true, &R_DEFAULT, 0, FILTERED_WHEEL },
		{ "gina", 1006, 3002, true, &R_DEFAULT, 0, FILTERED_SUDO },
		{ "kim", 1009, 1009, true, &R_DEFAULT, 0, FILTERED_WHEEL },
		{ "hank", 1007, 1007, true, &R_DEFAULT,
		  AUTH, /* still a remote user */
		  "member of remote users group winrmusers" },
		{ "alice", 1001, 1001, true, &R_DEFAULT, AUTH,
		  "member of remote users group winrmusers" },
		{ "frank", 1005, 3001, true, &R_DEFAULT, AUTH,
		  "member of remote users group winrmusers" },
		/* ... and policy 1: not filtered */
		{ "carol", 1003, 1003, true, &R_POLICY1, ADMIN,
		  "member of admin group sudo" },
		{ "dave", 1004, 1004, true, &R_POLICY1, ADMIN,
		  "member of admin group wheel" },
		{ "alice", 1001, 1001, true, &R_POLICY1, AUTH,
		  "member of remote users group winrmusers" },
		/* empty lists admit only root */
		{ "carol", 1003, 1003, false, &R_EMPTY, 0, NOT_MEMBER },
		{ "alice", 1001, 1001, false, &R_EMPTY, 0, NOT_MEMBER },
		{ "frank", 1005, 3001, false, &R_EMPTY, 0, NOT_MEMBER },
		{ "dave", 1004, 1004, false, &R_EMPTY_NULL, 0, NOT_MEMBER },
		{ "alice", 1001, 1001, false, &R_EMPTY_NULL, 0, NOT_MEMBER },
		/* no remote users group: only administrators */
		{ "alice", 1001, 1001, false, &R_NO_REMOTE, 0, NOT_MEMBER },
		{ "carol", 1003, 1003, false, &R_NO_REMOTE, ADMIN,
		  "member of admin group sudo" },
		{ "hank", 1007, 1007, true, &R_NO_REMOTE, 0, FILTERED_SUDO },
		/* groups that do not exist deny, and do not stop the scan */
		{ "carol", 1003, 1003, false, &R_MISSING, 0, NOT_MEMBER },
		{ "alice", 1001, 1001, false, &R_MISSING, 0, NOT_MEMBER },
		{ "carol", 1003, 1003, false, &R_MISSING_SUDO, ADMIN,
		  "member of admin group sudo" },
		{ "dave", 1004, 1004, false, &R_MISSING_SUDO, 0, NOT_MEMBER },
		/* AD-style accounts and groups (names with '@', '\\' and
		 * blanks) */
		{ "alice@example.com", 1101, 1101, false, &R_AD, AUTH,
		  "member of remote users group winrm users@example.com" },
		{ "EXAMPLE\\bob", 1102, 1102, false, &R_AD, AUTH,
		  "member of remote users group EXAMPLE\\winrm users" },
		{ "carol@example.com", 1103, 1103, false, &R_AD, ADMIN,
		  "member of admin group domain admins@example.com" },
		{ "dave@example.com", 1104, 1104, false, &R_AD, ADMIN,
		  "member of admin group domain admins@example.com" },
		{ "alice", 1001, 1001, false, &R_AD, AUTH,
		  "member of remote users group winrmusers" },
		{ "bob", 1002, 1002, false, &R_AD, 0, NOT_MEMBER },
		{ "alice@example.com", 1101, 1101, false, &R_DEFAULT, 0,
		  NOT_MEMBER },
		/* group names are compared exactly (POSIX names have case) */
		{ "carol", 1003, 1003, false, &R_UPPER, 0, NOT_MEMBER },
		{ "alice", 1001, 1001, false, &R_UPPER, 0, NOT_MEMBER },
	};
	for (size_t i = 0; i < N(cases); i++) {
		const struct authz_case *c = &cases[i];
		char reason[200];
		memset(reason, 'X', sizeof(reason));
		unsigned got = authz_decide(c->user, c->uid, c->gid,
					    c->ntlm_local, &c->rules->r, reason,
					    sizeof(reason));
		const char *what = c->want == ADMIN  ? "administrator"
				   : c->want == AUTH ? "remote user"
						     : "refused";
		is_int(got, c->want, "%s%s, %s: %s", c->user,
		       c->ntlm_local ? " (NTLM local)" : "", c->rules->name,
		       what);
		is_str(reason, c->reason, "%s%s, %s: reason", c->user,
		       c->ntlm_local ? " (NTLM local)" : "", c->rules->name);
	}
}

static void test_reason_buffer(void)
{
	/* A short reason buffer is truncated, terminated, never overrun. */
	char buf[24];
	memset(buf, 'X', sizeof(buf));
	unsigned got = authz_decide("carol", 1003, 1003, true, &R_DEFAULT.r,
				    buf, 16);
	is_int(got, 0,
	       "short reason buffer: the decision is the same (refused)");
	is_int(strlen(buf), 15,
	       "short reason buffer: truncated to the buffer, NUL-terminated");
	ok(buf[16] == 'X', "short reason buffer: nothing written past it");
	got = authz_decide("dave", 1004, 1004, false, &R_DEFAULT.r, buf, 16);
	is_int(got, ADMIN,
	       "short reason buffer: dave is still an administrator");
	is_str(buf, "member of admin",
	       "short reason buffer: dave's reason truncated");
}

int main(int argc, char **argv)
{
	(void)argc;
	wrap(argv);
	if (dlsym(RTLD_DEFAULT, "nss_wrapper_enabled") == NULL) {
		cleanup();
		printf("1..0 # SKIP libnss_wrapper.so is not installed\n");
		return 0;
	}
	test_table();
	test_reason_buffer();
	cleanup();
	return tap_done();
}
