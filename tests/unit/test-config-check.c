/*
 * test-config-check.c - unit tests of the checks of what the service
 * needs of the host (config_check_host, config_check_keytab in
 * lib/config-check.c) and of the keytab reader (lib/keytab.c): accounts,
 * the helper program, the NTLM user file, settings that cannot work
 * together, groups, and keytabs written byte by byte (versions 1 and 2,
 * holes, truncations); every message with the file and line that set
 * the key.  Files live in a fresh temporary directory.
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/keytab.h"
#include "lib/util.h"
#include "tests/lib/tap.h"

static char dir[64];

static char *path_of(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void write_file(const char *name, const void *data, size_t len,
		       mode_t mode)
{
	char *p = path_of(name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		tap_diag("cannot write %s", p);
	if (fd >= 0)
		close(fd);
	chmod(p, mode);
	free(p);
}

/* A keytab built byte by byte. */
struct kt {
	struct buf b;
	int version;
};

static void put16(struct buf *b, int version, unsigned v)
{
	uint8_t x[2];
	if (version == 2) {
		x[0] = (uint8_t)(v >> 8);
		x[1] = (uint8_t)v;
	} else {
		uint16_t h = (uint16_t)v;
		memcpy(x, &h, 2);
	}
	buf_append(b, x, 2);
}

static void put32(struct buf *b, int version, uint32_t v)
{
	uint8_t x[4];
	if (version == 2) {
		x[0] = (uint8_t)(v >> 24);
		x[1] = (uint8_t)(v >> 16);
		x[2] = (uint8_t)(v >> 8);
		x[3] = (uint8_t)v;
	} else {
		memcpy(x, &v, 4);
	}
	buf_append(b, x, 4);
}

static void put_counted(struct buf *b, int version, const char *s)
{
	put16(b, version, (unsigned)strlen(s));
	buf_append_str(b, s);
}

static void kt_start(struct kt *k, int version)
{
	buf_init(&k->b);
	k->version = version;
	uint8_t head[2] = { 5, (uint8_t)version };
	buf_append(&k->b, head, 2);
}

/* An entry for comps (NULL-terminated) @ realm. */
static void kt_entry(struct kt *k, const char *realm, const char *const *comps)
{
	struct buf e = BUF_INIT;
	unsigned n = 0;
	while (comps[n] != NULL)
		n++;
	put16(&e, k->version, k->version == 1 ? n + 1 : n);
	put_counted(&e, k->version, realm);
	for (unsigned i = 0; i < n; i++)
		put_counted(&e, k->version, comps[i]);
	if (k->version == 2)
		put32(&e, k->version, 1); /* KRB5_NT_PRINCIPAL */
	put32(&e, k->version, 1700000000);
	buf_append_byte(&e, 1);
	put16(&e, k->version, 18);
	put_counted(&e, k->version, "0123456789abcdef0123456789abcdef");
	put32(&e, k->version, 1);
	put32(&k->b, k->version, (uint32_t)e.len);
	buf_append(&k->b, e.data, e.len);
	buf_release(&e);
}

static void kt_hole(struct kt *k, uint32_t len)
{
	put32(&k->b, k->version, (uint32_t)0 - len);
	for (uint32_t i = 0; i < len; i++)
		buf_append_byte(&k->b, 0);
}

static void test_keytab(void)
{
	static const char *const http[] = { "HTTP", "host.example.com", NULL };
	static const char *const host[] = { "host", "host.example.com", NULL };
	struct buf names = BUF_INIT;
	char err[256];

	struct kt k;
	kt_start(&k, 2);
	kt_entry(&k, "EXAMPLE.COM", http);
	kt_hole(&k, 12);
	kt_entry(&k, "EXAMPLE.COM", host);
	kt_entry(&k, "EXAMPLE.COM", http); /* another enctype */
	write_file("v2.keytab", k.b.data, k.b.len, 0600);
	char *p = path_of("v2.keytab");
	is_int(keytab_principals(p, &names, err, sizeof(err)), 3,
	       "version 2: three entries (the hole skipped)");
	is_str((const char *)names.data,
	       "HTTP/host.example.com@EXAMPLE.COM\n"
	       "host/host.example.com@EXAMPLE.COM\n",
	       "each principal once, in order");
	buf_release(&names);

	/* truncated in the middle of the last entry */
	write_file("cut.keytab", k.b.data, k.b.len - 10, 0600);
	free(p);
	p = path_of("cut.keytab");
	is_int(keytab_principals(p, &names, err, sizeof(err)), -1,
	       "an entry past the end of the file");
	contains(err, "past the end", "says so");
	buf_release(&names);
	buf_release(&k.b);

	kt_start(&k, 1);
	kt_entry(&k, "R", host);
	write_file("v1.keytab", k.b.data, k.b.len, 0600);
	free(p);
	p = path_of("v1.keytab");
	is_int(keytab_principals(p, &names, err, sizeof(err)), 1,
	       "version 1 (host order, realm counted)");
	is_str((const char *)names.data, "host/host.example.com@R\n",
	       "version 1 principal");
	buf_release(&names);
	buf_release(&k.b);

	/* an entry whose component count lies */
	kt_start(&k, 2);
	put32(&k.b, 2, 5);
	put16(&k.b, 2, 50);
	put_counted(&k.b, 2, "R");
	write_file("bad.keytab", k.b.data, k.b.len, 0600);
	free(p);
	p = path_of("bad.keytab");
	is_int(keytab_principals(p, &names, err, sizeof(err)), -1,
	       "components beyond the entry");
	contains(err, "malformed", "a malformed entry");
	buf_release(&names);
	buf_release(&k.b);

	write_file("text.keytab", "not a keytab\n", 13, 0600);
	free(p);
	p = path_of("text.keytab");
	is_int(keytab_principals(p, &names, err, sizeof(err)), -1,
	       "not a keytab");
	contains(err, "is not a Kerberos keytab", "says so");
	buf_release(&names);
	free(p);
	p = path_of("none.keytab");
	is_int(keytab_principals(p, &names, err, sizeof(err)), -1,
	       "a missing file");
	buf_release(&names);
	free(p);
	uint8_t empty[2] = { 5, 2 };
	write_file("empty.keytab", empty, 2, 0600);
	p = path_of("empty.keytab");
	is_int(keytab_principals(p, &names, err, sizeof(err)), 0,
	       "an empty keytab: no entry");
	buf_release(&names);
	free(p);
}

/* config_check_host of text (loaded as "t.conf"); the errors and the
 * warnings in *e and *w (caller frees). */
static int host_check(const char *text, unsigned flags, char **e, char **w)
{
	char *lerr = NULL;
	*e = *w = NULL;
	struct winrmd_config *c = config_load_string(text, "t.conf", &lerr);
	if (!ok(c != NULL, "loads: %.60s", text)) {
		tap_diag("%s", lerr);
		free(lerr);
		return -2;
	}
	int rc = config_check_host(c, flags, e, w);
	config_unref(c);
	return rc;
}

/* Settings every case starts from: an account and a helper that exist,
 * Kerberos off (no keytab read), groups that exist. */
#define BASE                                                                   \
	"Daemon = { User = \"nobody\"; HelperPath = \"/bin/true\"; };\n"       \
	"Authorization = { AdminGroups = [ \"root\" ]; RemoteUsersGroup = "    \
	"\"root\"; };\n"
#define NO_GSS                                                                 \
	"Service = { Auth = { Kerberos = false; Negotiate = false; }; };\n"

static void test_host(void)
{
	char *e, *w;
	is_int(host_check(BASE NO_GSS, CONFIG_HOST_KEYTAB, &e, &w), 0,
	       "a good host: no error");
	ok(e == NULL && w == NULL, "and no warning (%s)", w ? w : "");
	free(e);
	free(w);

	is_int(host_check(NO_GSS "Daemon = {\n User = \"nosuchuser-x\";\n "
				 "HelperPath = \"/nonexistent/priv\"; };\n",
			  0, &e, &w),
	       -1, "a missing account and helper: errors");
	contains(e, "t.conf:3: Daemon.User: no such account: \"nosuchuser-x\"",
		 "the account, at its line");
	contains(e,
		 "t.conf:4: Daemon.HelperPath: /nonexistent/priv: No such file",
		 "the helper, at its line");
	free(e);
	free(w);

	is_int(host_check(NO_GSS "Daemon = { User = \"root\"; HelperPath = "
				 "\"/etc/passwd\"; };\n",
			  0, &e, &w),
	       -1, "root as the listener account, a helper not executable");
	contains(e, "Daemon.User: \"root\" is root", "root refused");
	contains(e, "/etc/passwd is not an executable file", "not executable");
	free(e);
	free(w);

	char *ntlm = path_of("ntlm");
	write_file("ntlm", "WORKGROUP:demo:pw\n", 18, 0644);
	char *text = xasprintf(BASE
			       "Service = { Auth = { Kerberos = false; "
			       "Negotiate = true;\n NtlmUserFile = \"%s\"; "
			       "}; };\n",
			       ntlm);
	is_int(host_check(text, 0, &e, &w), 0, "an NTLM user file: no error");
	contains(w, "t.conf:4: Service.Auth.NtlmUserFile: warning: ",
		 "readable by others: a warning at its line");
	contains(w, "password hashes", "which says why");
	free(e);
	free(w);
	free(text);
	text = xasprintf(BASE "Service = { Auth = { Kerberos = false; "
			      "Negotiate = true;\n NtlmUserFile = \"%s.gone\"; "
			      "}; };\n",
			 ntlm);
	is_int(host_check(text, 0, &e, &w), -1, "a missing NTLM user file");
	contains(e, "t.conf:4: Service.Auth.NtlmUserFile: ", "an error");
	free(e);
	free(w);
	free(text);
	free(ntlm);

	is_int(host_check(BASE "Service = { Auth = { Kerberos = false;\n "
			       "Negotiate = false;\n Certificate = true; }; "
			       "};\n",
			  0, &e, &w),
	       -1, "Certificate without an HTTPS listener or a CA");
	contains(e, "t.conf:5: Service.Auth.Certificate: true, but no HTTPS",
		 "no HTTPS listener");
	contains(e, "ClientCAFile is not set", "no CA");
	free(e);
	free(w);

	const char *basic = BASE "Service = { AllowUnencrypted = true;\n Auth "
				 "= { Basic = true; Kerberos = false; "
				 "Negotiate = false; }; };\n";
	is_int(host_check(basic, 0, &e, &w), 0,
	       "Basic and AllowUnencrypted: not an error");
	contains(w,
		 "t.conf:3: Service.AllowUnencrypted: warning: true with "
		 "Basic: passwords cross the network in clear text to the "
		 "HTTP listener on every address port 5985",
		 "but a warning for the listener on every address");
	free(e);
	free(w);
	text = xasprintf("%sListeners = ( { Address = \"127.0.0.1\"; }, { "
			 "Address = \"::1\"; } );\n",
			 basic);
	is_int(host_check(text, 0, &e, &w), 0, "Basic over loopback only");
	ok(w == NULL, "no warning for loopback listeners (%s)", w ? w : "");
	free(e);
	free(w);
	free(text);

	is_int(host_check("Daemon = { User = \"nobody\"; HelperPath = "
			  "\"/bin/true\"; };\n" NO_GSS
			  "Authorization = {\n AdminGroups = [ \"root\", "
			  "\"nosuchgroup-x\" ];\n RemoteUsersGroup = "
			  "\"nosuchgroup-y\"; };\n",
			  0, &e, &w),
	       0, "groups that do not exist: not errors");
	contains(w,
		 "t.conf:4: Authorization.AdminGroups: warning: no such group: "
		 "\"nosuchgroup-x\"",
		 "a warning for the missing admin group, at its line");
	contains(w,
		 "t.conf:5: Authorization.RemoteUsersGroup: warning: no "
		 "such group: \"nosuchgroup-y\"",
		 "and for the remote users' group");
	free(e);
	free(w);

	/* the keytab */
	static const char *const http[] = { "HTTP", "h.example.com", NULL };
	static const char *const host[] = { "host", "h.example.com", NULL };
	struct kt k;
	kt_start(&k, 2);
	kt_entry(&k, "EXAMPLE.COM", host);
	write_file("host.keytab", k.b.data, k.b.len, 0600);
	buf_release(&k.b);
	kt_start(&k, 2);
	kt_entry(&k, "EXAMPLE.COM", http);
	write_file("http.keytab", k.b.data, k.b.len, 0644);
	buf_release(&k.b);
	static const struct {
		const char *file;
		int rc;
		const char *error, *warning, *what;
	} kts[] = {
		{ "none.keytab", 0, NULL,
		  "t.conf:4: Service.Auth.Keytab: warning: ",
		  "a missing keytab: a warning" },
		{ "host.keytab", 0, NULL,
		  "holds no HTTP/ key (it holds: "
		  "host/h.example.com@EXAMPLE.COM)",
		  "a keytab without an HTTP/ key: a warning naming its keys" },
		{ "http.keytab", 0, NULL, "readable by group or others",
		  "an HTTP/ key in a keytab others may read: that warning "
		  "only" },
		{ "text.keytab", -1, "is not a Kerberos keytab", NULL,
		  "not a keytab: an error" },
	};
	write_file("text.keytab", "not a keytab\n", 13, 0600);
	for (size_t i = 0; i < sizeof(kts) / sizeof(kts[0]); i++) {
		char *kp = path_of(kts[i].file);
		text = xasprintf(BASE "Service = { Auth = {\n Keytab = \"%s\"; "
				      "}; };\n",
				 kp);
		is_int(host_check(text, CONFIG_HOST_KEYTAB, &e, &w), kts[i].rc,
		       "%s", kts[i].what);
		if (kts[i].error != NULL)
			contains(e, kts[i].error, "%s: the error", kts[i].what);
		if (kts[i].warning != NULL)
			contains(w, kts[i].warning, "%s: the warning",
				 kts[i].what);
		if (i == 2)
			ok(w != NULL && strstr(w, "no HTTP/") == NULL,
			   "an HTTP/ key is enough");
		free(e);
		free(w);
		free(text);
		free(kp);
	}
	/* without CONFIG_HOST_KEYTAB, or with Kerberos and Negotiate off,
	 * the keytab is not read */
	char *kp = path_of("none.keytab");
	text = xasprintf(BASE "Service = { Auth = { Keytab = \"%s\"; }; };\n",
			 kp);
	host_check(text, 0, &e, &w);
	ok(w == NULL || strstr(w, "Keytab") == NULL,
	   "the keytab is read only with CONFIG_HOST_KEYTAB");
	free(e);
	free(w);
	free(text);
	free(kp);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-config-check.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_keytab();
	test_host();
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", dir);
	free(cmd);
	return tap_done();
}
