/*
 * test-map.c - authenticated names to local account names (helper/map.c):
 * map_name_ok, map_ntlm (HOSTNAME\user, .\user, \user, user, trusted and
 * untrusted DOMAIN\user, user@DOMAIN, the default realm), map_basic (local
 * accounts only) and map_kerberos through auth_to_local rules of a
 * krb5.conf written for the test (KRB5_CONFIG); map_account_ok and the
 * three spellings of domain accounts (DomainAccountNames Short, Qualified,
 * DownLevel) with the domain pairs of TrustedDomains, for Kerberos, NTLM
 * and Basic (BasicDomainAccounts).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper/map.h"
#include "tests/lib/tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_name_ok(void)
{
	char max[65], over[66];
	memset(max, 'a', 64);
	max[64] = '\0';
	memset(over, 'b', 65);
	over[65] = '\0';
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "alice", true },
		{ "a", true },
		{ "Alice.Smith", true },
		{ "a-b_c", true },
		{ "host$", true },         /* machine-account style */
		{ "...", true },           /* only "." and ".." are special */
		{ "\xc3\xa9lodie", true }, /* UTF-8 bytes are fine */
		{ "", false },
		{ ".", false },
		{ "..", false },
		{ "-rf", false }, /* would read as an option */
		{ "a/b", false },
		{ "../etc", false },
		{ "a:b", false },
		{ "a\\b", false },
		{ "a@b", false },
		{ "a b", false },
		{ "a\tb", false },
		{ "a\nb", false },
		{ "a\x01", false },
		{ "a\x1f", false },
		{ "a\x7f", false },
	};
	for (size_t i = 0; i < N(cases); i++)
		is_int(map_name_ok(cases[i].name), cases[i].ok,
		       "map_name_ok(\"%s\") is %s", cases[i].name,
		       cases[i].ok ? "true" : "false");
	ok(map_name_ok(max), "a 64-byte name is accepted");
	ok(!map_name_ok(over), "a 65-byte name is refused");
}

/* NULL want: refused with a reason containing why. */
struct ntlm_case {
	const char *name;
	const char *want;
	bool local;
	const char *why;
};

static char *trusted[] = { "WINRMD", "corp.example" };
static const struct map_rules rules = {
	.hostname = "WINHOST",
	.trusted_domains = trusted,
	.n_trusted_domains = N(trusted),
	.default_realm = "WINRMD.TEST",
};

static const char *const UNTRUSTED =
	"domain not in Authorization.TrustedDomains";
static const char *const BAD_UPN =
	"UPN suffix not in Authorization.TrustedDomains";
static const char *const BAD_NAME = "not a valid account name";

static void test_ntlm(void)
{
	const struct ntlm_case cases[] = {
		/* this machine: local accounts */
		{ "WINHOST\\alice", "alice", true, NULL },
		{ "winhost\\alice", "alice", true, NULL },
		{ "WinHost\\Alice", "Alice", true,
		  NULL }, /* case kept; NSS decides */
		{ ".\\alice", "alice", true, NULL },
		{ "\\alice", "alice", true, NULL },
		{ "alice", "alice", true, NULL }, /* workgroup: no domain */
		{ "root", "root", true, NULL },
		/* trusted domains: domain accounts */
		{ "WINRMD\\alice", "alice", false, NULL },
		{ "winrmd\\alice", "alice", false, NULL },
		{ "CORP.EXAMPLE\\bob", "bob", false, NULL },
		{ "alice@WINRMD", "alice", false, NULL },
		{ "alice@winrmd", "alice", false, NULL },
		{ "bob@Corp.Example", "bob", false, NULL },
		{ "alice@WINRMD.TEST", "alice", false,
		  NULL }, /* default realm */
		{ "alice@winrmd.test", "alice", false, NULL },
		/* untrusted */
		{ "OTHERDOM\\alice", NULL, false, UNTRUSTED },
		{ "WINRM\\alice", NULL, false,
		  UNTRUSTED }, /* prefix of a trusted one */
		{ "WINRMDX\\alice", NULL, false,
		  UNTRUSTED }, /* trusted one is a prefix */
		{ "WINHOST.lan\\alice", NULL, false,
		  UNTRUSTED }, /* not the short name */
		{ "..\\alice", NULL, false, UNTRUSTED },
		{ "alice@OTHERDOM", NULL, false, BAD_UPN },
		{ "alice@WINHOST", NULL, false,
		  BAD_UPN }, /* host is no UPN suffix */
		{ "alice@", NULL, false, BAD_UPN },
		{ "alice@WINRMD.TEST.EVIL", NULL, false, BAD_UPN },
		/* bad account names after mapping */
		{ "WINHOST\\", NULL, false, BAD_NAME },
		{ "WINRMD\\", NULL, false, BAD_NAME },
		{ "@WINRMD", NULL, false, BAD_NAME },
		{ "", NULL, false, BAD_NAME },
		{ "WINHOST\\..", NULL, false, BAD_NAME },
		{ "WINHOST\\a/b", NULL, false, BAD_NAME },
		{ "WINRMD\\-rf", NULL, false, BAD_NAME },
		{ "WINRMD\\a\\b", NULL, false, BAD_NAME },
		{ "WINRMD\\alice@WINRMD", NULL, false, BAD_NAME },
		{ "a@b@WINRMD", NULL, false, BAD_NAME },
		{ "a b", NULL, false, BAD_NAME },
		{ "alice:0", NULL, false, BAD_NAME },
		{ "WINHOST\\al\x01ice", NULL, false, BAD_NAME },
	};
	for (size_t i = 0; i < N(cases); i++) {
		const struct ntlm_case *c = &cases[i];
		bool local = !c->local;
		const char *why = NULL;
		char *got = map_ntlm(c->name, &rules, &local, &why);
		if (c->want != NULL) {
			is_str(got, c->want, "NTLM \"%s\" maps to %s", c->name,
			       c->want);
			is_int(local, c->local, "NTLM \"%s\" is a %s account",
			       c->name, c->local ? "local" : "domain");
		} else {
			ok(got == NULL, "NTLM \"%s\" is refused", c->name);
			is_str(why, c->why, "NTLM \"%s\": reason \"%s\"",
			       c->name, c->why);
		}
		free(got);
	}

	/* No trusted domains, no default realm, no host name. */
	struct map_rules none = { 0 };
	bool local = false;
	const char *why = NULL;
	char *got = map_ntlm("WINRMD\\alice", &none, &local, &why);
	ok(got == NULL, "no TrustedDomains: WINRMD\\alice refused");
	is_str(why, UNTRUSTED, "no TrustedDomains: reason");
	free(got);
	why = NULL;
	got = map_ntlm("alice@WINRMD.TEST", &none, &local, &why);
	ok(got == NULL,
	   "no TrustedDomains and no default realm: a UPN is refused");
	is_str(why, BAD_UPN, "no default realm: reason");
	free(got);
	got = map_ntlm("WINHOST\\alice", &none, &local, &why);
	ok(got == NULL,
	   "no host name known: HOST\\alice is not taken as local");
	free(got);
	got = map_ntlm(".\\alice", &none, &local, &why);
	is_str(got, "alice", "no host name known: .\\alice is still local");
	ok(local, ".\\alice is a local account");
	free(got);

	/* A trusted domain spelled like the host: the host wins (local). */
	char *host_trusted[] = { "WINHOST" };
	struct map_rules clash = { .hostname = "WINHOST",
				   .trusted_domains = host_trusted,
				   .n_trusted_domains = 1 };
	local = false;
	got = map_ntlm("WINHOST\\carol", &clash, &local, &why);
	is_str(got, "carol", "host name listed as trusted: carol");
	ok(local,
	   "host name listed as trusted: still a local account (UAC applies)");
	free(got);
}

static void test_basic(void)
{
	static const char *const LOCAL_ONLY =
		"Basic accepts local accounts only "
		"(Authorization.BasicDomainAccounts is false)";
	static const struct {
		const char *name, *want, *why;
	} cases[] = {
		{ "alice", "alice", NULL },
		{ "ALICE", "ALICE", NULL },
		{ "WINHOST\\alice", "alice", NULL },
		{ "winhost\\alice", "alice", NULL },
		{ ".\\alice", "alice", NULL },
		{ "root", "root", NULL },
		{ "WINRMD\\alice", NULL,
		  LOCAL_ONLY }, /* trusted for NTLM, not for Basic */
		{ "OTHER\\alice", NULL, LOCAL_ONLY },
		{ "\\alice", NULL, LOCAL_ONLY },
		{ "alice@WINRMD", NULL, LOCAL_ONLY },
		{ "alice@WINRMD.TEST", NULL, LOCAL_ONLY },
		{ "alice@WINHOST", NULL, LOCAL_ONLY },
		{ "", NULL, BAD_NAME },
		{ "WINHOST\\", NULL, BAD_NAME },
		{ "WINHOST\\..", NULL, BAD_NAME },
		{ ".\\-x", NULL, BAD_NAME },
		{ "WINHOST\\a\\b", NULL, BAD_NAME },
		{ "a/b", NULL, BAD_NAME },
		{ "a b", NULL, BAD_NAME },
	};
	for (size_t i = 0; i < N(cases); i++) {
		const char *why = NULL;
		char *got = map_basic(cases[i].name, &rules, &why);
		if (cases[i].want != NULL) {
			is_str(got, cases[i].want, "Basic \"%s\" maps to %s",
			       cases[i].name, cases[i].want);
		} else {
			ok(got == NULL, "Basic \"%s\" is refused",
			   cases[i].name);
			is_str(why, cases[i].why, "Basic \"%s\": reason \"%s\"",
			       cases[i].name, cases[i].why);
		}
		free(got);
	}
}

/* ---- Kerberos: auth_to_local from a krb5.conf of our own ----
 * MIT reads auth_to_local and auth_to_local_names from the DEFAULT realm's
 * section for every principal.  Profile values are taken literally: the
 * rules avoid backslashes ("[.]", "[+]"). */

static const char KRB5_CONF[] =
	"[libdefaults]\n"
	"    default_realm = EXAMPLE.TEST\n"
	"    dns_lookup_kdc = false\n"
	"    dns_lookup_realm = false\n"
	"[realms]\n"
	"    EXAMPLE.TEST = {\n"
	"        auth_to_local_names = {\n"
	"            boss = carol\n"
	"        }\n"
	"        auth_to_local = RULE:[1:$1](^svc-.*$)s/^svc-//\n"
	"        auth_to_local = RULE:[2:$1+$2](^admin[+].*$)s/^admin.//\n"
	"        auth_to_local = RULE:[1:$1](^dash$)s/^.*$/-rf/\n"
	"        auth_to_local = RULE:[1:$1](^colon$)s/^.*$/a:b/\n"
	"        auth_to_local = RULE:[1:$1](^dots$)s/^.*$/../\n"
	"        auth_to_local = RULE:[1:$1@$0](^.*@PARTNER[.]TEST$)s/@.*$//\n"
	"        auth_to_local = DEFAULT\n"
	"    }\n"
	"    OTHER.TEST = {\n"
	"        auth_to_local = RULE:[1:$1@$0](^.*$)s/@.*$//\n"
	"    }\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(99);
	}
}

static const struct map_rules krb_short = { .default_realm = "EXAMPLE.TEST" };

static void test_kerberos(void)
{
	char dir[] = "/tmp/test-map.XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(99);
	}
	char conf[64], bad[64];
	snprintf(conf, sizeof(conf), "%s/krb5.conf", dir);
	snprintf(bad, sizeof(bad), "%s/bad.conf", dir);
	write_file(conf, KRB5_CONF);
	write_file(bad, "[libdefaults\n  this is = not { a profile\n");
	setenv("KRB5_CONFIG", conf, 1);

	static const char *const NO_LOCAL =
		"no local account for this principal (auth_to_local)";
	static const char *const UNUSABLE =
		"auth_to_local gave an unusable account name";
	static const struct {
		const char *principal, *want, *why;
	} cases[] = {
		{ "alice@EXAMPLE.TEST", "alice", NULL }, /* DEFAULT */
		{ "root@EXAMPLE.TEST", "root", NULL },
		{ "alice", "alice", NULL }, /* default realm added */
		{ "svc-backup@EXAMPLE.TEST", "backup",
		  NULL }, /* RULE, prefix cut */
		{ "admin/dave@EXAMPLE.TEST", "dave",
		  NULL }, /* two components */
		{ "boss@EXAMPLE.TEST", "carol",
		  NULL }, /* auth_to_local_names */
		{ "erin@PARTNER.TEST", "erin",
		  NULL }, /* a RULE for a partner realm */
		/* only the default realm's section counts: OTHER.TEST's catch-all
		 * rule is not used */
		{ "frank@OTHER.TEST", NULL, NO_LOCAL },
		{ "host/web.example.test@EXAMPLE.TEST", NULL, NO_LOCAL },
		{ "alice/admin@EXAMPLE.TEST", NULL, NO_LOCAL },
		{ "mallory@EVIL.TEST", NULL, NO_LOCAL }, /* foreign realm */
		{ "alice@example.test", NULL,
		  NO_LOCAL }, /* realms are case-sensitive */
		{ "dash@EXAMPLE.TEST", NULL, UNUSABLE },  /* rule gives "-rf" */
		{ "colon@EXAMPLE.TEST", NULL, UNUSABLE }, /* rule gives "a:b" */
		{ "dots@EXAMPLE.TEST", NULL, UNUSABLE },  /* rule gives ".." */
		{ "a@b@EXAMPLE.TEST", NULL, "malformed principal name" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		const char *why = NULL;
		char *got = map_kerberos(cases[i].principal, &krb_short, &why);
		if (cases[i].want != NULL) {
			is_str(got, cases[i].want, "Kerberos %s maps to %s",
			       cases[i].principal, cases[i].want);
		} else {
			ok(got == NULL, "Kerberos %s is refused",
			   cases[i].principal);
			is_str(why, cases[i].why, "Kerberos %s: reason \"%s\"",
			       cases[i].principal, cases[i].why);
		}
		free(got);
	}

	/* A broken krb5.conf: the library does not start, nothing maps. */
	setenv("KRB5_CONFIG", bad, 1);
	const char *why = NULL;
	char *got = map_kerberos("alice@EXAMPLE.TEST", &krb_short, &why);
	ok(got == NULL, "unparsable krb5.conf: alice@EXAMPLE.TEST is refused");
	is_str(why, "Kerberos library unavailable",
	       "unparsable krb5.conf: reason");
	free(got);

	unsetenv("KRB5_CONFIG");
	unlink(conf);
	unlink(bad);
	rmdir(dir);
}

static void test_account_ok(void)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "alice", true },
		{ "alice@example.com", true },
		{ "EXAMPLE\\alice", true },
		{ "host$@corp-1.example.com", true },
		{ "EX_AMPLE$\\svc.backup", true },
		{ "", false },
		{ "@example.com", false },
		{ "alice@", false },
		{ "\\alice", false },
		{ "EXAMPLE\\", false },
		{ "EXAMPLE\\alice@example.com", false },
		{ "a@b@example.com", false },
		{ "EX\\AMPLE\\alice", false },
		{ "alice@exa mple.com", false },
		{ "alice@example.com/x", false },
		{ "-rf@example.com", false },
		{ "EXAMPLE\\..", false },
		{ "ex:ample\\alice", false },
	};
	for (size_t i = 0; i < N(cases); i++)
		is_int(map_account_ok(cases[i].name), cases[i].ok,
		       "map_account_ok(\"%s\") is %s", cases[i].name,
		       cases[i].ok ? "true" : "false");
	char long_name[300];
	memset(long_name, 'a', 64);
	long_name[64] = '@';
	memset(long_name + 65, 'b', 190);
	long_name[255] = '\0';
	ok(map_account_ok(long_name), "a 255-byte account name is accepted");
	long_name[255] = 'c';
	long_name[256] = '\0';
	ok(!map_account_ok(long_name), "a 256-byte account name is refused");
}

/* The three spellings: one row per authenticated name and method. */
struct form_case {
	char method; /* 'k' Kerberos, 'n' NTLM, 'b' Basic */
	const char *name;
	const char *want[3]; /* Short, Qualified, DownLevel; NULL: refused */
	const char *why;     /* reason when refused (all forms refusing) */
};

static void test_forms(void)
{
	char *trusted_ad[] = { "EXAMPLE", "CORP=corp.example.net",
			       "partner.example.org", "LEGACY" };
	struct map_rules r = {
		.hostname = "WINHOST",
		.trusted_domains = trusted_ad,
		.n_trusted_domains = N(trusted_ad),
		.default_realm = "EXAMPLE.COM",
		.basic_domain_accounts = true,
	};
	static const char *const NO_DNS =
		"the DNS name of this domain is not known: write it in "
		"Authorization.TrustedDomains as \"NETBIOS=dns.name\"";
	const struct form_case cases[] = {
		/* Kerberos: the default realm and the trusted ones */
		{ 'k',
		  "alice@EXAMPLE.COM",
		  { "alice", "alice@example.com", "EXAMPLE\\alice" },
		  NULL },
		{ 'k',
		  "bob@CORP.EXAMPLE.NET",
		  { NULL, "bob@corp.example.net", "CORP\\bob" },
		  "no local account for this principal (auth_to_local)" },
		{ 'k',
		  "carol@PARTNER.EXAMPLE.ORG",
		  { NULL, "carol@partner.example.org", "PARTNER\\carol" },
		  NULL },
		{ 'k',
		  "mallory@EVIL.EXAMPLE",
		  { NULL, NULL, NULL },
		  "realm is neither the default realm nor in "
		  "Authorization.TrustedDomains" },
		{ 'k',
		  "HTTP/host.example.com@EXAMPLE.COM",
		  { NULL, NULL, NULL },
		  "a principal with an instance (service/host) is no user "
		  "account" },
		/* NTLM: NetBIOS and DNS spellings, UPNs */
		{ 'n',
		  "EXAMPLE\\alice",
		  { "alice", "alice@example.com", "EXAMPLE\\alice" },
		  NULL },
		{ 'n',
		  "example\\Alice",
		  { "Alice", "Alice@example.com", "EXAMPLE\\Alice" },
		  NULL },
		{ 'n',
		  "alice@example.com",
		  { "alice", "alice@example.com", "EXAMPLE\\alice" },
		  NULL },
		/* gss-ntlmssp's display of a UPN sent without a domain */
		{ 'n',
		  "\\alice@example.com",
		  { "alice", "alice@example.com", "EXAMPLE\\alice" },
		  NULL },
		{ 'n',
		  "CORP\\bob",
		  { "bob", "bob@corp.example.net", "CORP\\bob" },
		  NULL },
		{ 'n',
		  "corp.example.net\\bob",
		  { "bob", "bob@corp.example.net", "CORP\\bob" },
		  NULL },
		{ 'n',
		  "bob@CORP",
		  { "bob", "bob@corp.example.net", "CORP\\bob" },
		  NULL },
		{ 'n',
		  "partner.example.org\\carol",
		  { "carol", "carol@partner.example.org", "PARTNER\\carol" },
		  NULL },
		{ 'n', "LEGACY\\dave", { "dave", NULL, "LEGACY\\dave" }, NULL },
		{ 'n',
		  "WINHOST\\erin",
		  { "erin", "erin", "erin" },
		  NULL }, /* local accounts stay short */
		{ 'n', "erin", { "erin", "erin", "erin" }, NULL },
		{ 'n',
		  "OTHER\\alice",
		  { NULL, NULL, NULL },
		  "domain not in Authorization.TrustedDomains" },
		/* Basic with BasicDomainAccounts */
		{ 'b',
		  "EXAMPLE\\alice",
		  { "alice", "alice@example.com", "EXAMPLE\\alice" },
		  NULL },
		{ 'b',
		  "alice@example.com",
		  { "alice", "alice@example.com", "EXAMPLE\\alice" },
		  NULL },
		{ 'b', "WINHOST\\alice", { "alice", "alice", "alice" }, NULL },
		{ 'b', "alice", { "alice", "alice", "alice" }, NULL },
	};
	char dir[] = "/tmp/test-map.XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(99);
	}
	char conf[64];
	snprintf(conf, sizeof(conf), "%s/krb5.conf", dir);
	write_file(conf, "[libdefaults]\n    default_realm = EXAMPLE.COM\n");
	setenv("KRB5_CONFIG", conf, 1);
	for (size_t i = 0; i < N(cases); i++) {
		const struct form_case *c = &cases[i];
		for (int f = 0; f < 3; f++) {
			r.names = (enum account_names)f;
			const char *fname = config_account_names_name(r.names);
			const char *why = NULL;
			bool local = false;
			char *got = c->method == 'k'
					    ? map_kerberos(c->name, &r, &why)
				    : c->method == 'n'
					    ? map_ntlm(c->name, &r, &local,
						       &why)
					    : map_basic(c->name, &r, &why);
			if (c->want[f] != NULL) {
				is_str(got, c->want[f], "%c %s, %s: %s",
				       c->method, c->name, fname, c->want[f]);
			} else {
				ok(got == NULL, "%c %s, %s: refused", c->method,
				   c->name, fname);
				/* Short Kerberos names are auth_to_local's. */
				const char *want_why =
					f == 0 && c->method == 'k' ? NULL
					: c->why != NULL           ? c->why
								   : NO_DNS;
				if (want_why != NULL)
					is_str(why, want_why,
					       "%c %s, %s: reason \"%s\"",
					       c->method, c->name, fname,
					       want_why);
			}
			free(got);
		}
	}
	unsetenv("KRB5_CONFIG");

	/* Without BasicDomainAccounts, Basic refuses domain names. */
	r.basic_domain_accounts = false;
	r.names = ACCOUNT_NAMES_QUALIFIED;
	const char *why = NULL;
	char *got = map_basic("EXAMPLE\\alice", &r, &why);
	ok(got == NULL, "Basic EXAMPLE\\alice refused without "
			"BasicDomainAccounts");
	is_str(why,
	       "Basic accepts local accounts only "
	       "(Authorization.BasicDomainAccounts is false)",
	       "Basic EXAMPLE\\alice: reason");
	free(got);

	/* The default realm paired with another NetBIOS name. */
	char *paired[] = { "EXCORP=example.com" };
	struct map_rules p = { .default_realm = "EXAMPLE.COM",
			       .trusted_domains = paired,
			       .n_trusted_domains = 1,
			       .names = ACCOUNT_NAMES_DOWNLEVEL };
	setenv("KRB5_CONFIG", conf, 1);
	got = map_kerberos("alice@EXAMPLE.COM", &p, &why);
	is_str(got, "EXCORP\\alice",
	       "realm EXAMPLE.COM paired with EXCORP: EXCORP\\alice");
	free(got);
	unsetenv("KRB5_CONFIG");
	unlink(conf);
	rmdir(dir);
}

int main(void)
{
	test_name_ok();
	test_account_ok();
	test_forms();
	test_ntlm();
	test_basic();
	test_kerberos();
	return tap_done();
}
