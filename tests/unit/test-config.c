/*
 * test-config.c - unit tests of the configuration loader (lib/config.c).
 *
 * Table-driven: every .conf file in tests/data/conf/good must load (values
 * checked by its entry in good_checks[], dump round trip for all); every
 * .conf file in tests/data/conf/bad must fail with exactly the lines its
 * "# expect: " comments give, in that order.  Short cases are strings fed
 * to config_load_string.  Data files are found under $WINRMD_SRCDIR
 * (default ".").  The libconfig helpers the loader shares with certmap.c
 * (lib/lcfg.c: quoting, lexing, problems in file order) are tested here
 * too.
 */
#include "autoconfig.h"

#include "lib/config.h"
#include "lib/config-keys.h"
#include "lib/lcfg.h"
#include "lib/log.h"
#include "tests/lib/tap.h"
#include "lib/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

static const char *srcdir = ".";

/* Both return text the caller frees. */
static char *dump(const struct winrmd_config *cfg)
{
	struct buf b = BUF_INIT;
	config_dump(cfg, &b);
	return buf_steal(&b);
}

static char *read_text(const char *path)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

/* dump -> load -> dump must give the same bytes. */
static void check_round_trip(const struct winrmd_config *cfg, const char *what)
{
	char *d1 = dump(cfg), *err = NULL;
	struct winrmd_config *again = config_load_string(d1, "dump", &err);
	if (!ok(again != NULL, "%s: the dump loads back", what))
		tap_diag("%s", err);
	if (again != NULL) {
		char *d2 = dump(again);
		is_str(d2, d1, "%s: the dump of the reload is identical", what);
		free(d2);
	}
	config_unref(again);
	free(err);
	free(d1);
}

static struct winrmd_config *load_string_ok(const char *text, const char *what)
{
	char *err = NULL;
	struct winrmd_config *cfg = config_load_string(text, NULL, &err);
	if (!ok(cfg != NULL && err == NULL, "%s: loads", what))
		tap_diag("%s", err ? err : "(no error text)");
	free(err);
	return cfg;
}

/* Loading text must fail with exactly this error text. */
static void load_string_fails(const char *text, const char *want,
			      const char *what)
{
	char *err = NULL;
	struct winrmd_config *cfg = config_load_string(text, NULL, &err);
	ok(cfg == NULL, "%s: refused", what);
	is_str(err, want, "%s: message", what);
	config_unref(cfg);
	free(err);
}

static void test_defaults(void)
{
	struct winrmd_config *c = config_new_defaults();

	is_int(c->max_envelope_size_kb, 500, "default MaxEnvelopeSizekb");
	is_int(c->max_request_bytes, 16384,
	       "default MaxRequestBytes (http.sys)");
	is_int(c->max_timeout_ms, 60000, "default MaxTimeoutms");
	is_int(c->max_connections, 300, "default MaxConnections");
	is_int(c->max_connections_per_address, 30,
	       "default MaxConnectionsPerAddress");
	is_int(c->header_wait_timeout_s, 20, "default HeaderWaitTimeout");
	is_int(c->max_concurrent_operations_per_user, 1500,
	       "default MaxConcurrentOperationsPerUser");
	ok(!c->allow_unencrypted, "default AllowUnencrypted false");
	ok(c->allow_remote_access, "default AllowRemoteAccess true");
	ok(!c->auth_basic, "default Basic false");
	ok(c->auth_kerberos, "default Kerberos true");
	ok(c->auth_negotiate, "default Negotiate true");
	ok(!c->auth_certificate, "default Certificate false");
	ok(!c->auth_credssp, "default CredSSP false");
	is_int(c->cbt_hardening_level, CBT_RELAXED,
	       "default CbtHardeningLevel");
	is_str(c->keytab, "/etc/krb5.keytab", "default Keytab");
	is_str(c->ntlm_user_file, "", "default NtlmUserFile");
	is_str(c->pam_service, "winrmd", "default PamService");
	is_int(c->n_listeners, 1, "one default listener");
	is_str(c->listeners[0].address, "*", "default listener address");
	is_int(c->listeners[0].port, 5985, "default listener port");
	is_int(c->listeners[0].transport, TRANSPORT_HTTP,
	       "default listener transport");
	is_str(c->listeners[0].url_prefix, "wsman", "default URLPrefix");
	is_str(c->listeners[0].certificate_file, "", "default CertificateFile");
	is_str(c->listeners[0].key_file, "", "default KeyFile");
	ok(c->listeners[0].enabled, "default listener enabled");
	is_int(c->listeners[0].source_line, 0, "default listener line 0");
	ok(c->allow_remote_shell_access, "default AllowRemoteShellAccess");
	is_int(c->idle_timeout_ms, 7200000, "default IdleTimeout");
	is_int(c->max_concurrent_users, 2147483647,
	       "default MaxConcurrentUsers");
	is_int(c->max_shell_run_time_ms, 2147483647, "default MaxShellRunTime");
	is_int(c->max_processes_per_shell, 2147483647,
	       "default MaxProcessesPerShell");
	is_int(c->max_memory_per_shell_mb, 2147483647,
	       "default MaxMemoryPerShellMB");
	is_int(c->max_shells_per_user, 2147483647, "default MaxShellsPerUser");
	is_int(c->n_admin_groups, 2, "default AdminGroups count");
	is_str(c->admin_groups[0], "sudo", "default AdminGroups[0]");
	is_str(c->admin_groups[1], "wheel", "default AdminGroups[1]");
	ok(c->admin_groups[2] == NULL, "AdminGroups is NULL-terminated");
	is_int(c->n_remote_users_groups, 1, "default RemoteUsersGroup: one");
	is_str(c->remote_users_groups[0], "winrmusers",
	       "default RemoteUsersGroup");
	is_int(c->domain_account_names, ACCOUNT_NAMES_SHORT,
	       "default DomainAccountNames: Short");
	ok(!c->basic_domain_accounts, "default BasicDomainAccounts: false");
	is_int(c->local_account_token_filter_policy, 0,
	       "default LocalAccountTokenFilterPolicy");
	is_int(c->log_level, LOG_LVL_INFO, "default log level");
	is_str(c->user, "winrmd", "default User");
	is_str(c->helper_path, WINRMD_LIBEXECDIR "/winrmd-priv",
	       "default HelperPath");
	is_str(c->certmapping_file, WINRMD_SYSCONFDIR "/certmapping.conf",
	       "default CertMappingFile");
	is_str(c->admin_socket, WINRMD_RUNSTATEDIR "/admin.sock",
	       "default AdminSocket");
	is_str(c->source, "<defaults>", "defaults: source");
	check_round_trip(c, "defaults");

	/* reference counting */
	ok(config_ref(c) == c, "config_ref returns its argument");
	config_unref(c);
	is_int(c->refcount, 1, "ref + unref leaves one reference");
	config_unref(c);
	config_unref(NULL);
	ok(config_ref(NULL) == NULL, "config_ref(NULL) is NULL");
	is_str(config_transport_name(TRANSPORT_HTTPS), "HTTPS", "HTTPS name");
	is_str(config_cbt_name(CBT_NONE), "None", "CBT None name");
}

/* Checkers for good files, by name. */
static void check_empty(const struct winrmd_config *c)
{
	struct winrmd_config *d = config_new_defaults();
	char *a = dump(c), *b = dump(d);
	is_str(a, b, "empty.conf: same as the defaults");
	free(a);
	free(b);
	config_unref(d);
}

static void check_full(const struct winrmd_config *c)
{
	is_int(c->max_envelope_size_kb, 8192, "full: MaxEnvelopeSizekb");
	is_int(c->max_request_bytes, 1048576, "full: MaxRequestBytes");
	is_int(c->max_timeout_ms, 4294967295LL, "full: 4294967295 without L");
	is_int(c->max_concurrent_operations_per_user, 4294967295LL,
	       "full: 4294967295L");
	is_int(c->max_connections, 100000, "full: MaxConnections");
	is_int(c->max_connections_per_address, 100000,
	       "full: MaxConnectionsPerAddress");
	is_int(c->header_wait_timeout_s, 3600, "full: HeaderWaitTimeout");
	ok(c->allow_unencrypted && !c->allow_remote_access, "full: bools");
	ok(c->auth_basic && !c->auth_kerberos && !c->auth_negotiate &&
		   c->auth_certificate && !c->auth_credssp,
	   "full: auth bools");
	is_int(c->cbt_hardening_level, CBT_STRICT, "full: CBT strict");
	is_str(c->keytab, "/etc/winrmd/http.keytab", "full: Keytab");
	is_str(c->ntlm_user_file, "/etc/winrmd/ntlm-users",
	       "full: NtlmUserFile");
	is_str(c->pam_service, "winrm", "full: PamService");
	is_int(c->n_listeners, 3, "full: three listeners");
	is_str(c->listeners[0].address, "127.0.0.1", "full: l0 address");
	is_int(c->listeners[0].port, 8085, "full: l0 port");
	is_str(c->listeners[0].url_prefix, "wsman-test", "full: l0 URLPrefix");
	is_int(c->listeners[0].source_line, 25, "full: l0 source line");
	is_int(c->listeners[1].transport, TRANSPORT_HTTPS, "full: l1 HTTPS");
	is_int(c->listeners[1].port, 5986, "full: HTTPS port defaults to 5986");
	is_str(c->listeners[1].certificate_file, "/etc/winrmd/cert.pem",
	       "full: l1 CertificateFile");
	is_str(c->listeners[1].key_file, "/etc/winrmd/key.pem",
	       "full: l1 KeyFile");
	ok(!c->listeners[2].enabled, "full: l2 disabled");
	is_int(c->listeners[2].port, 5985, "full: HTTP port defaults to 5985");
	ok(!c->allow_remote_shell_access, "full: AllowRemoteShellAccess");
	is_int(c->idle_timeout_ms, 60000, "full: IdleTimeout");
	is_int(c->max_concurrent_users, 10, "full: MaxConcurrentUsers");
	is_int(c->max_shell_run_time_ms, 28800000, "full: MaxShellRunTime");
	is_int(c->max_processes_per_shell, 25, "full: MaxProcessesPerShell");
	is_int(c->max_memory_per_shell_mb, 1024, "full: MaxMemoryPerShellMB");
	is_int(c->max_shells_per_user, 30, "full: MaxShellsPerUser");
	is_int(c->n_admin_groups, 3, "full: three admin groups");
	is_str(c->admin_groups[2], "domain admins", "full: admin group 2");
	is_int(c->n_remote_users_groups, 0,
	       "full: RemoteUsersGroup = \"\" is no remote users group");
	is_int(c->local_account_token_filter_policy, 1, "full: LATFP 1");
	is_int(c->log_level, LOG_LVL_DEBUG, "full: log level debug");
	is_str(c->user, "nobody", "full: User");
	is_str(c->helper_path, "/opt/winrmd/libexec/winrmd-priv",
	       "full: HelperPath");
	is_str(c->certmapping_file, "/opt/winrmd/etc/certmapping.conf",
	       "full: CertMappingFile");
	is_str(c->admin_socket, "/tmp/winrmd-test/admin.sock",
	       "full: AdminSocket");
	ok(strstr(c->source, "good/full.conf") != NULL, "full: source");
}

static void check_windows_style(const struct winrmd_config *c)
{
	is_int(c->cbt_hardening_level, CBT_STRICT, "windows: \"strict\"");
	is_int(c->max_timeout_ms, 4294967295LL, "windows: 0xFFFFFFFF");
	is_int(c->log_level, LOG_LVL_WARN, "windows: \"WARNING\"");
	is_int(c->n_listeners, 3, "windows: three listeners");
	is_str(c->listeners[0].address, "192.0.2.10", "windows: IP: dropped");
	is_int(c->listeners[0].transport, TRANSPORT_HTTPS,
	       "windows: \"https\"");
	is_int(c->listeners[0].port, 5986, "windows: HTTPS on 5986");
	is_str(c->listeners[1].address, "2001:db8::1", "windows: IP:[v6]");
	is_int(c->listeners[1].transport, TRANSPORT_HTTP, "windows: \"Http\"");
	is_str(c->listeners[2].address, "10.1.2.3", "windows: ip: prefix");
	is_int(c->listeners[2].port, 80, "windows: explicit port");
}

static void check_include(const struct winrmd_config *c)
{
	is_int(c->max_connections, 42, "include: value before the include");
	is_int(c->n_admin_groups, 1, "include: value from the included file");
	is_str(c->admin_groups[0], "from-include", "include: admin group");
	is_int(c->n_remote_users_groups, 1, "include: one remote group");
	is_str(c->remote_users_groups[0], "winrm-users",
	       "include: remote group (a string)");
	is_int(c->max_shells_per_user, 7, "include: value after the include");
}

static void check_strings(const struct winrmd_config *c)
{
	is_str(c->ntlm_user_file, "/tmp/a \"quoted\" name\\with\tbs\x01",
	       "strings: escapes");
	is_int(c->n_admin_groups, 2, "strings: list form of AdminGroups");
	is_str(c->admin_groups[1], "form", "strings: list item");
	is_str(c->remote_users_groups[0], "gr\xc3\xbcppe", "strings: UTF-8");
	is_str(c->user, "weird", "strings: adjacent strings joined");
}

static void check_no_admin_groups(const struct winrmd_config *c)
{
	is_int(c->n_admin_groups, 0, "empty AdminGroups");
	ok(c->admin_groups != NULL && c->admin_groups[0] == NULL,
	   "empty AdminGroups is an empty NULL-terminated array");
	is_int(c->n_listeners, 3, "no-admin-groups: three listeners");
}

static void check_domain_accounts(const struct winrmd_config *c)
{
	is_int(c->n_remote_users_groups, 3, "AD: three remote users groups");
	is_str(c->remote_users_groups[1], "winrm users@example.com",
	       "AD: a group as sssd names it");
	is_str(c->remote_users_groups[2], "EXAMPLE\\winrm users",
	       "AD: a group as winbind names it");
	is_int(c->n_trusted_domains, 3, "AD: three trusted domains");
	is_str(c->trusted_domains[1], "CORP=corp.example.net",
	       "AD: a NetBIOS=DNS pair");
	is_int(c->domain_account_names, ACCOUNT_NAMES_QUALIFIED,
	       "AD: DomainAccountNames = \"qualified\" (any case)");
	ok(c->basic_domain_accounts, "AD: BasicDomainAccounts");
}

static const struct {
	const char *file;
	void (*check)(const struct winrmd_config *);
} good_checks[] = {
	{ "empty.conf", check_empty },
	{ "full.conf", check_full },
	{ "windows-style.conf", check_windows_style },
	{ "include.conf", check_include },
	{ "strings.conf", check_strings },
	{ "no-admin-groups.conf", check_no_admin_groups },
	{ "domain-accounts.conf", check_domain_accounts },
};

static int is_conf(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

static void test_good_files(void)
{
	char *dir = xasprintf("%s/tests/data/conf/good", srcdir);
	struct dirent **names;
	int n = scandir(dir, &names, is_conf, alphasort);

	ok(n >= (int)(sizeof(good_checks) / sizeof(good_checks[0])),
	   "good files found in %s", dir);
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]->d_name), *err;
		struct winrmd_config *cfg = config_load_file(path, &err);
		if (!ok(cfg != NULL && err == NULL, "good %s loads",
			names[i]->d_name))
			tap_diag("%s", err);
		for (size_t j = 0;
		     cfg != NULL &&
		     j < sizeof(good_checks) / sizeof(good_checks[0]);
		     j++)
			if (strcmp(good_checks[j].file, names[i]->d_name) == 0)
				good_checks[j].check(cfg);
		if (cfg != NULL)
			check_round_trip(cfg, names[i]->d_name);
		config_unref(cfg);
		free(err);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
}

/* The "# expect: " lines of a bad file, with "@DIR@" replaced. */
static size_t expectations(const char *text, const char *dir, char ***out)
{
	static const char tag[] = "# expect: ";
	size_t n = 0;
	*out = NULL;
	for (const char *p = strstr(text, tag); p != NULL; p = strstr(p, tag)) {
		p += strlen(tag);
		size_t len = strcspn(p, "\n");
		char *line = xasprintf("%s/%.*s", dir, (int)len, p), *at;
		while ((at = strstr(line, "@DIR@")) != NULL) {
			char *repl = xasprintf("%.*s%s%s", (int)(at - line),
					       line, dir, at + 5);
			free(line);
			line = repl;
		}
		*out = xrealloc(*out, (n + 1) * sizeof(**out));
		(*out)[n++] = line;
	}
	return n;
}

static void test_bad_files(void)
{
	char *dir = xasprintf("%s/tests/data/conf/bad", srcdir);
	struct dirent **names;
	int n = scandir(dir, &names, is_conf, alphasort);

	ok(n >= 20, "bad files found in %s", dir);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char *path = xasprintf("%s/%s", dir, name), *err = NULL;
		char *text = read_text(path), **want;
		size_t n_want = expectations(text ? text : "", dir, &want);
		struct winrmd_config *cfg = config_load_file(path, &err);

		ok(cfg == NULL && err != NULL && n_want > 0,
		   "bad %s is refused", name);
		size_t n_got = 0;
		for (char *p = err, *line; p != NULL && *p != '\0'; n_got++) {
			size_t len = strcspn(p, "\n");
			line = xstrndup(p, len);
			if (n_got < n_want)
				is_str(line, want[n_got], "bad %s: error %zu",
				       name, n_got + 1);
			free(line);
			p += len + (p[len] == '\n');
		}
		if (!is_int(n_got, n_want, "bad %s: %zu error lines", name,
			    n_want))
			tap_diag("got:\n%s", err);
		for (size_t j = 0; j < n_want; j++)
			free(want[j]);
		free(want);
		config_unref(cfg);
		free(err);
		free(text);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
}

/* Short cases through config_load_string ("<string>" in messages). */
static const struct {
	const char *text;
	const char *error; /* NULL: must load */
} string_cases[] = {
	/* one wrong type per key type */
	{ "Service = { AllowUnencrypted = \"true\"; };",
	  "<string>:1: Service.AllowUnencrypted: expected a boolean, "
	  "got a string" },
	{ "Service = { MaxTimeoutms = \"60000\"; };",
	  "<string>:1: Service.MaxTimeoutms: expected an integer, "
	  "got a string" },
	{ "Service = { Auth = { Keytab = 5; }; };",
	  "<string>:1: Service.Auth.Keytab: expected a string, "
	  "got an integer" },
	{ "Logging = { Level = false; };",
	  "<string>:1: Logging.Level: expected a string, got a boolean" },
	{ "Authorization = { AdminGroups = { x = \"y\"; }; };",
	  "<string>:1: Authorization.AdminGroups: expected an array of "
	  "strings, got a group" },
	{ "Service = 1;",
	  "<string>:1: Service: expected a group, got an integer" },
	{ "Listeners = ( [ 1 ] );",
	  "<string>:1: Listeners.[0]: expected a group, got an array\n"
	  "<string>:1: Listeners: at least one listener must be enabled" },
	{ "\n\nListeners = ();",
	  "<string>:3: Listeners: at least one listener must be enabled" },
	/* Digest, everywhere, whatever the value */
	{ "Service = { Auth = { Digest = true; }; };",
	  "<string>:1: Service.Auth.Digest: Digest authentication is not "
	  "supported by this server" },
	{ "Service = { Auth = { Digest = false; }; };",
	  "<string>:1: Service.Auth.Digest: Digest authentication is not "
	  "supported by this server" },
	{ "Winrs = { digest = false; };",
	  "<string>:1: Winrs.digest: Digest authentication is not supported "
	  "by this server" },
	{ "Service = { MaxTimeoutms = ( { Digest = 1; } ); };",
	  "<string>:1: Service.MaxTimeoutms: expected an integer, got a list\n"
	  "<string>:1: Service.MaxTimeoutms.[0].Digest: Digest authentication "
	  "is not supported by this server" },
	{ "Service = { Auth = { CredSSP = true; }; };",
	  "<string>:1: Service.Auth.CredSSP: CredSSP authentication is not "
	  "supported by this server" },
	{ "Service = { Auth = { CredSSP = false; }; };", NULL },
	/* integers: 32-bit, 64-bit, with and without L, hex */
	{ "Service = { MaxTimeoutms = 4294967295; };", NULL },
	{ "Service = { MaxTimeoutms = 4294967295L; };", NULL },
	{ "Service = { MaxTimeoutms = 0xFFFFFFFF; };", NULL },
	{ "Service = { MaxTimeoutms = 4294967296; };",
	  "<string>:1: Service.MaxTimeoutms: value 4294967296 is out of range "
	  "(500..4294967295)" },
	{ "Service = { MaxTimeoutms = -9223372036854775808; };",
	  "<string>:1: Service.MaxTimeoutms: value -9223372036854775808 is out "
	  "of range (500..4294967295)" },
	{ "Service = { MaxRequestBytes = 4095; };",
	  "<string>:1: Service.MaxRequestBytes: value 4095 is out of range "
	  "(4096..1048576)" },
	{ "Service = { MaxConnections = 2147483648; };",
	  "<string>:1: Service.MaxConnections: value 2147483648 is out of "
	  "range (1..100000)" },
	{ "Service = { MaxConnections = 9223372036854775808; };",
	  "<string>:1: syntax error: integer 9223372036854775808 is out of "
	  "range" },
	/* the connection limits */
	{ "Service = { MaxConnectionsPerAddress = 1; HeaderWaitTimeout = 1; };",
	  NULL },
	{ "Service = { MaxConnectionsPerAddress = 0; };",
	  "<string>:1: Service.MaxConnectionsPerAddress: value 0 is out of "
	  "range (1..100000)" },
	{ "Service = { MaxConnectionsPerAddress = 100001; };",
	  "<string>:1: Service.MaxConnectionsPerAddress: value 100001 is out "
	  "of range (1..100000)" },
	{ "Service = { HeaderWaitTimeout = 0; };",
	  "<string>:1: Service.HeaderWaitTimeout: value 0 is out of range "
	  "(1..3600)" },
	{ "Service = { HeaderWaitTimeout = 3601; };",
	  "<string>:1: Service.HeaderWaitTimeout: value 3601 is out of range "
	  "(1..3600)" },
	{ "Service = { HeaderWaitTimeout = \"20\"; };",
	  "<string>:1: Service.HeaderWaitTimeout: expected an integer, got a "
	  "string" },
	{ "Service = { headerwaittimeout = 20; };",
	  "<string>:1: Service.headerwaittimeout: unknown setting (did you "
	  "mean Service.HeaderWaitTimeout?)" },
	{ "Authorization = { LocalAccountTokenFilterPolicy = 2; };",
	  "<string>:1: Authorization.LocalAccountTokenFilterPolicy: value 2 is "
	  "out of range (0..1)" },
	/* numbers in strings, comments and names are left alone */
	{ "Daemon = { User = \"99999999999\"; }; # 99999999999\n"
	  "/* 99999999999 */ // 99999999999",
	  NULL },
	/* libconfig 1.5 alone refuses a comment at the very end */
	{ "Winrs = {};\n# no newline after this", NULL },
	{ "Service = { MaxEnvelopeSizekb = 1.5e3; };",
	  "<string>:1: Service.MaxEnvelopeSizekb: expected an integer, "
	  "got a float" },
	/* multiple errors, in order, one per line */
	{ "Service = {\n MaxConnections = 0;\n Foo = 1;\n};\nBar = 2;\n",
	  "<string>:2: Service.MaxConnections: value 0 is out of range "
	  "(1..100000)\n"
	  "<string>:3: Service.Foo: unknown setting\n"
	  "<string>:5: Bar: unknown setting" },
	{ "Service = {\n  MaxConnections = ;\n};", "<string>:2: syntax error" },
	{ "listeners = ();",
	  "<string>:1: listeners: unknown setting (did you mean Listeners?)" },
	{ "Listeners = ( { port = 1; } );",
	  "<string>:1: Listeners.[0].port: unknown setting (did you mean "
	  "Port?)" },
	{ "Daemon = { User = \"a\\nb\"; Foo = \"x\\ny\"; };",
	  "<string>:1: Daemon.Foo: unknown setting" },
	{ "Logging = { Level = \"bad\\nlevel\"; };",
	  "<string>:1: Logging.Level: \"bad\\nlevel\" is not one of err, "
	  "warning, notice, info, debug" },
	{ "", NULL },
};

static void test_strings(void)
{
	for (size_t i = 0; i < sizeof(string_cases) / sizeof(string_cases[0]);
	     i++) {
		char what[64];
		snprintf(what, sizeof(what), "string case %zu", i + 1);
		if (string_cases[i].error == NULL) {
			struct winrmd_config *c =
				load_string_ok(string_cases[i].text, what);
			if (c != NULL)
				check_round_trip(c, what);
			config_unref(c);
		} else {
			load_string_fails(string_cases[i].text,
					  string_cases[i].error, what);
		}
	}

	/* the name given is used in messages and kept as the source */
	char *err = NULL;
	struct winrmd_config *c = config_load_string("Foo = 1;", "/etc/x.conf",
						     &err);
	is_str(err, "/etc/x.conf:1: Foo: unknown setting", "name in messages");
	free(err);
	c = config_load_string("Winrs = {};", "/etc/y.conf", &err);
	is_str(c ? c->source : NULL, "/etc/y.conf", "name is the source");
	config_unref(c);

	/* values the dump must write so that they read back */
	c = load_string_ok("Service = { MaxTimeoutms = 4294967295; };",
			   "int64 value");
	char *d = c ? dump(c) : NULL;
	contains(d, "\tMaxTimeoutms = 4294967295L;\n",
		 "int64 dumped with the L suffix");
	free(d);
	config_unref(c);
}

static void test_file_errors(void)
{
	char *err = NULL;
	struct winrmd_config *c;

	c = config_load_file("/nonexistent/winrmd.conf", &err);
	ok(c == NULL, "missing file refused");
	is_str(err,
	       "/nonexistent/winrmd.conf: cannot open: No such file or "
	       "directory",
	       "missing file message");
	free(err);

	c = config_load_file("/dev/null", &err);
	is_str(err, "/dev/null: not a regular file", "device refused");
	free(err);
	char *dir = xasprintf("%s/tests/data/conf", srcdir);
	c = config_load_file(dir, &err);
	char *want = xasprintf("%s: not a regular file", dir);
	is_str(err, want, "directory refused");
	free(want);
	free(err);
	free(dir);

	/* 1 MiB is the limit */
	char tmpl[] = "/tmp/test-config-XXXXXX";
	int fd = mkstemp(tmpl);
	ok(fd >= 0, "temporary file");
	if (fd >= 0) {
		char *big = xmalloc(1024 * 1024 + 1);
		memset(big, ' ', 1024 * 1024 + 1);
		ok(write(fd, big, 1024 * 1024) == 1024 * 1024, "1 MiB written");
		c = config_load_file(tmpl, &err);
		ok(c != NULL, "a file of exactly 1 MiB loads");
		config_unref(c);
		ok(write(fd, big, 1) == 1, "one more byte");
		c = config_load_file(tmpl, &err);
		want = xasprintf("%s: larger than 1048576 bytes", tmpl);
		is_str(err, want, "a file over 1 MiB is refused");
		free(want);
		free(err);
		big[1024 * 1024] = '\0';
		c = config_load_string(big, NULL, &err);
		ok(c != NULL, "a string of exactly 1 MiB loads");
		config_unref(c);
		free(big);
		close(fd);
		unlink(tmpl);
	}

	/* @include from a string: relative to the working directory, so use
	 * an absolute name; an error inside names the included file */
	char *inc = xasprintf("%s/tests/data/conf/bad/include-error.inc",
			      srcdir);
	char *text = xasprintf("Winrs = {};\n@include \"%s\"\n", inc);
	c = config_load_string(text, NULL, &err);
	want = xasprintf("%s:3: Service.Auth.Basic: expected a boolean, got "
			 "a string",
			 inc);
	is_str(err, want, "error inside an include names the included file");
	free(want);
	free(err);
	free(text);
	free(inc);
	load_string_fails("Winrs = {};\n@include \"\"\n",
			  "<string>:2: syntax error: @include needs a quoted "
			  "file name",
			  "@include without a name");
	load_string_fails("@include \"/dev/zero\"",
			  "<string>:1: @include: /dev/zero: not a regular file",
			  "@include of a device");
}

/* The shipped file loads, equals the defaults, and it and the man page
 * document every key of the table. */
static void test_shipped(void)
{
	char *path = xasprintf("%s/conf/winrmd.conf", srcdir), *err = NULL;
	struct winrmd_config *c = config_load_file(path, &err);
	struct winrmd_config *d = config_new_defaults();

	if (!ok(c != NULL, "conf/winrmd.conf loads"))
		tap_diag("%s", err);
	if (c != NULL) {
		char *a = dump(c), *b = dump(d);
		is_str(a, b, "conf/winrmd.conf holds the defaults");
		free(a);
		free(b);
	}
	config_unref(c);
	config_unref(d);
	free(err);

	char *conf = read_text(path);
	char *man_path = xasprintf("%s/man/winrmd.conf.5", srcdir);
	char *man = read_text(man_path);
	ok(conf != NULL && man != NULL, "conf and man page readable");
#define LEAF(p) (strrchr(p, '.') ? strrchr(p, '.') + 1 : (p))
#define DOC_CHECK(p)                                                           \
	do {                                                                   \
		char *k = xasprintf("%s =", LEAF(p));                          \
		contains(conf, k, "winrmd.conf documents %s", p);              \
		free(k);                                                       \
		k = xasprintf(".B %s\n", LEAF(p));                             \
		contains(man, k, "winrmd.conf(5) documents %s", p);            \
		free(k);                                                       \
	} while (0);
#define D_BOOL(sc, p, f, d, fl) DOC_CHECK(p)
#define D_INT(sc, p, f, d, lo, hi, fl) DOC_CHECK(p)
#define D_STR(sc, p, f, d, fl) DOC_CHECK(p)
#define D_ENUM(sc, p, f, d, v, fl) DOC_CHECK(p)
#define D_LIST(sc, p, f, n, d, fl) DOC_CHECK(p)
	CONFIG_KEYS(D_BOOL, D_INT, D_STR, D_ENUM, D_LIST)
	contains(conf, "Transport = \"HTTPS\"", "an HTTPS listener example");

	/* the example, uncommented, gives a second (HTTPS) listener */
	struct buf ex = BUF_INIT;
	for (const char *p = conf ? conf : ""; *p != '\0'; p++) {
		if (strncmp(p, "\t#, {", 5) == 0 ||
		    strncmp(p, "\t#\t", 3) == 0 || strncmp(p, "\t#}", 3) == 0) {
			buf_append_byte(&ex, '\t');
			p++; /* drop the '#' */
		} else {
			buf_append_byte(&ex, (uint8_t)*p);
		}
	}
	err = NULL;
	c = config_load_string((const char *)ex.data, "example", &err);
	if (!ok(c != NULL, "the HTTPS example loads when uncommented"))
		tap_diag("%s", err);
	ok(c != NULL && c->n_listeners == 2 &&
		   c->listeners[1].transport == TRANSPORT_HTTPS &&
		   c->listeners[1].port == 5986,
	   "the example is an HTTPS listener");
	config_unref(c);
	free(err);
	buf_release(&ex);
	free(conf);
	free(man);
	free(man_path);
	free(path);
}

/*
 * lcfg: the quoting of strings written back to files, its round trip
 * through libconfig, the lexer, problems in file order.
 */

/* lcfg_quoted(s) read back by libconfig itself must be s. */
static void quote_round_trip(const char *s, const char *what)
{
	char *q = lcfg_quoted(s);
	char *text = xasprintf("v = %s;\n", q);
	config_t lc;
	const char *back = NULL;

	config_init(&lc);
	if (!ok(config_read_string(&lc, text) &&
			config_lookup_string(&lc, "v", &back),
		"quoting %s: libconfig reads the literal", what))
		tap_diag("%s: %s", text, config_error_text(&lc));
	is_str(back, s, "quoting %s: read back unchanged", what);
	config_destroy(&lc);
	free(text);
	free(q);
}

static void test_quoting(void)
{
	static const struct {
		const char *in, *out;
	} exact[] = {
		{ "", "\"\"" },
		{ "plain", "\"plain\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "\\\"", "\"\\\\\\\"\"" },
		{ "\\x41", "\"\\\\x41\"" },
		{ "l1\nl2\r\t\f", "\"l1\\nl2\\r\\t\\f\"" },
		{ "\x01\x1b\x1f\x7f", "\"\\x01\\x1b\\x1f\\x7f\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		{ "\xff\xc3(", "\"\xff\xc3(\"" }, /* invalid UTF-8 as it is */
		{ "# not a comment /* nor this */ @include",
		  "\"# not a comment /* nor this */ @include\"" },
	};
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		char what[32];
		snprintf(what, sizeof(what), "case %zu", i + 1);
		char *q = lcfg_quoted(exact[i].in);
		is_str(q, exact[i].out, "quoting %s: literal", what);
		free(q);
		quote_round_trip(exact[i].in, what);
	}
	struct buf b = BUF_INIT;
	lcfg_put_quoted(&b, "x");
	lcfg_put_quoted(&b, "\"");
	is_str((const char *)b.data, "\"x\"\"\\\"\"", "put_quoted appends");
	buf_release(&b);

	/* every byte but NUL, alone and all together */
	char all[256], one[2] = { 0, 0 };
	int bad = 0;
	for (int c = 1; c < 256; c++) {
		all[c - 1] = (char)c;
		one[0] = (char)c;
		char *q = lcfg_quoted(one);
		char *text = xasprintf("v = %s;", q);
		config_t lc;
		const char *back = NULL;
		config_init(&lc);
		if (!config_read_string(&lc, text) ||
		    !config_lookup_string(&lc, "v", &back) ||
		    strcmp(back, one) != 0) {
			tap_diag("byte 0x%02x does not round-trip: %s", c, q);
			bad++;
		}
		config_destroy(&lc);
		free(text);
		free(q);
	}
	all[255] = '\0';
	is_int(bad, 0, "quoting: every byte alone reads back");
	quote_round_trip(all, "every byte 1..255");

	/* through the loader and the dump: a string setting keeps its bytes */
	static const char *const values[] = {
		"a\"b\\c",      "tab\there\nnewline\r\f",
		"\x01\x02\x7f", "\xc3\xa9t\xc3\xa9 \xe2\x82\xac",
		"\\\\\\\"\"",
	};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char what[48];
		snprintf(what, sizeof(what), "Keytab value %zu", i + 1);
		char *q = lcfg_quoted(values[i]);
		char *text = xasprintf("Service = { Auth = { Keytab = %s; "
				       "}; };",
				       q);
		struct winrmd_config *c = load_string_ok(text, what);
		is_str(c ? c->keytab : NULL, values[i], "%s: loaded", what);
		char *d = c ? dump(c) : NULL;
		char *line = xasprintf("\tKeytab = %s;\n", q);
		contains(d, line, "%s: dumped with the same quoting", what);
		if (c != NULL)
			check_round_trip(c, what);
		struct buf lit = BUF_INIT;
		const char *why = NULL;
		is_int(config_value_literal("Service.Auth.Keytab", values[i],
					    &lit, &why),
		       0, "%s: a Put literal", what);
		is_str((const char *)lit.data, q,
		       "%s: the Put literal is the "
		       "same quoting",
		       what);
		buf_release(&lit);
		free(line);
		free(d);
		config_unref(c);
		free(text);
		free(q);
	}
}

/* The bytes of text that are code, outside strings and comments. */
static char *code_of(const char *text)
{
	struct buf b = BUF_INIT;
	enum lcfg_lex state = LCFG_CODE;
	size_t len = strlen(text);

	for (size_t i = 0; i < len;) {
		size_t n = lcfg_lex_step(&state, text, len, i);
		if (n == 0)
			buf_append_byte(&b, (uint8_t)text[i++]);
		else
			i += n;
	}
	buf_append(&b, "", 0);
	return buf_steal(&b);
}

static void test_lexer(void)
{
	static const struct {
		const char *text, *code;
	} cases[] = {
		{ "a = 1;", "a = 1;" },
		{ "a = \"x@y\"; @b", "a = ; @b" },
		{ "a = \"q\\\"@\" @", "a =  @" }, /* escaped quote */
		{ "a = \"b\\\\\"@", "a = @" },    /* escaped backslash */
		{ "a = \"b\\\n@\"@", "a = @" },   /* backslash, newline */
		{ "# @x\n@", "@" },               /* the newline ends it */
		{ "// @x\n@", "@" },
		{ "/* @ \" */@", "@" },
		{ "/*/ @ */@", "@" }, /* not closed by "/" */
		{ "/ @", "/ @" },
		{ "a /* \n @ \n */ b", "a  b" },
		{ "\"unterminated @", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *code = code_of(cases[i].text);
		is_str(code, cases[i].code, "lexer case %zu", i + 1);
		free(code);
	}
	/* the state carries over (an @include'd file ends in a comment) */
	enum lcfg_lex state = LCFG_CODE;
	is_int((int64_t)lcfg_lex_step(&state, "/*", 2, 0), 2, "/* is one step");
	is_int(state, LCFG_BLOCK_COMMENT, "in a block comment");
	is_int((int64_t)lcfg_lex_step(&state, "x", 1, 0), 1, "comment byte");
	is_int(state, LCFG_BLOCK_COMMENT, "still in it");
	is_int((int64_t)lcfg_lex_step(&state, "*/", 2, 0), 2, "*/ closes");
	is_int(state, LCFG_CODE, "back in code");
	state = LCFG_STRING;
	is_int((int64_t)lcfg_lex_step(&state, "\\", 1, 0), 1,
	       "a backslash at the end is alone");
	is_int(state, LCFG_STRING, "and the string goes on");
}

static void test_errors(void)
{
	struct lcfg_errors e = LCFG_ERRORS_INIT;

	ok(lcfg_errors_take(&e) == NULL, "no problems: NULL");
	lcfg_error(&e, 3, "f", 3, "C", "third %d", 1);
	lcfg_error(&e, 1, "f", 1, NULL, "first");
	lcfg_error(&e, 3, "g", 7, "C", "third %d", 2);
	lcfg_error(&e, 0, "f", 0, NULL, "whole file");
	lcfg_error(&e, 2, "f", 2, "B.[0]", "second");
	char *text = lcfg_errors_take(&e);
	is_str(text,
	       "f: whole file\nf:1: first\nf:2: B.[0]: second\n"
	       "f:3: C: third 1\ng:7: C: third 2",
	       "problems sorted by order, stable, FILE:LINE: KEY: text");
	ok(e.n == 0 && e.v == NULL, "the list is empty after take");
	free(text);
	lcfg_error(&e, 1, "f", 1, NULL, "x");
	lcfg_errors_release(&e);
	ok(e.n == 0 && e.v == NULL, "release empties the list");

	config_t lc;
	int line = -1;
	char *why = NULL;
	config_init(&lc);
	is_int(lcfg_parse(&lc, "a = 1; # no newline", 19, &line, &why), 0,
	       "parse: a final comment without a newline");
	config_destroy(&lc);
	config_init(&lc);
	is_int(lcfg_parse(&lc, "a = 1;\nb = ;\nc = 2;", 19, &line, &why), -1,
	       "parse: syntax error");
	is_int(line, 2, "parse: its line");
	is_str(why, "syntax error", "parse: its text");
	free(why);
	config_destroy(&lc);
	config_init(&lc);
	why = NULL;
	is_int(lcfg_parse(&lc, "a = 1;\na = 2;\n", 14, &line, &why), -1,
	       "parse: duplicate");
	is_str(why, "syntax error: duplicate setting name",
	       "parse: libconfig's reason kept");
	free(why);
	config_destroy(&lc);
	is_str(lcfg_type_name(CONFIG_TYPE_INT64), "an integer", "type name");
	is_str(lcfg_type_name(CONFIG_TYPE_LIST), "a list", "type name list");
}

int main(void)
{
	const char *s = getenv("WINRMD_SRCDIR");
	if (s != NULL && *s != '\0')
		srcdir = s;

	test_defaults();
	test_good_files();
	test_bad_files();
	test_strings();
	test_file_errors();
	test_shipped();
	test_quoting();
	test_lexer();
	test_errors();
	return tap_done();
}
