/*
 * quickconfig.c - winrmctl quickconfig [-transport:https] [-force]: sets
 * this machine up as a WinRM service, as "winrm quickconfig" does on
 * Windows, the Linux way:
 *
 *   1. winrmd.conf gets an HTTP listener on every address (and, with
 *      -transport:https, an HTTPS one), written from the shipped default
 *      when there is no file yet (qc-config.c edits the text);
 *   2. for HTTPS, a self-signed certificate for this host's fully
 *      qualified name (OpenSSL; the key 0600, root's only);
 *   3. the remote-users group (Authorization.RemoteUsersGroup) exists;
 *   4. winrmd.service is enabled and running (systemd over D-Bus), and
 *      restarted when its listeners changed;
 *   5. says whether the keytab has a key for HTTP/<host> and what to do
 *      if not.
 *
 * It prints what it changed, and nothing else changes when nothing needs
 * to: running it again is harmless.  A winrmd.conf that is neither the
 * shipped default nor unchanged since quickconfig wrote it (the checksum
 * line, qc-config.h) was edited by someone: quickconfig then says what it
 * would change and stops, unless -force.  Every file is replaced
 * atomically, and the new winrmd.conf is checked by the daemon's own
 * loader (and its certificate and key) before it replaces the old one.
 *
 * Must run as root.  Must not: change a setting other than adding
 * listeners, replace a certificate it did not find unusable (or, with
 * -force, expiring or for another name), or leave a private key readable
 * by anyone but root.
 *
 * Entry points: quickconfig_wanted, quickconfig_main.
 */
#include "autoconfig.h"

#include "winrmctl/quickconfig.h"

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <krb5.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <systemd/sd-bus.h>

#include "lib/config.h"
#include "lib/fileio.h"
#include "lib/util.h"
#include "lib/x509.h"
#include "winrmctl/qc-config.h"

#define EXIT_DONE 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

#define UNIT "winrmd.service"
#define MAX_CONF (1024 * 1024)
/* A certificate quickconfig makes is good for a year; one that ends within
 * RENEW_DAYS counts as expiring (replaced with -force). */
#define CERT_DAYS 365
#define RENEW_DAYS 30
/* ECDSA P-256: every WinRM client takes it (TLS 1.2 and 1.3), and it
 * makes the cheapest handshakes for the helper, which signs one per
 * connection: an RSA 3072 signature costs a hundred times more (openssl
 * speed: 490 against 51,000 signatures a second). */
#define KEY_CURVE "P-256"

extern char **environ;

const char quickconfig_help[] =
	"winrmctl quickconfig [-transport:http|https] [-force] [-quiet]\n"
	"                     [-hostname:NAME] [-config:FILE] [-noservice]\n"
	"\n"
	"Sets this machine up to accept WinRM requests, as winrm quickconfig\n"
	"does on Windows.  Run as root.  It makes sure that:\n"
	"  - winrmd.conf has an HTTP listener on every address (port 5985);\n"
	"    with -transport:https also an HTTPS one (port 5986) with a\n"
	"    self-signed certificate for this host in /etc/winrmd/tls (the key\n"
	"    readable by root only);\n"
	"  - the remote-users group (Authorization.RemoteUsersGroup) exists;\n"
	"  - winrmd.service is enabled and running (restarted when its\n"
	"    listeners changed);\n"
	"and says whether the keytab has a key for HTTP/<this host>.  It\n"
	"prints what it changed; run again, it changes nothing.\n"
	"\n"
	"A winrmd.conf that someone edited since it was installed or since\n"
	"quickconfig wrote it is not changed: quickconfig says what it would do\n"
	"and stops.  -force goes ahead (other settings stay as they are), and\n"
	"also replaces an HTTPS certificate that is expiring or for another\n"
	"name.\n"
	"\n"
	"-hostname:NAME  the name for the certificate and the Kerberos check\n"
	"                (default: this host's fully qualified name)\n"
	"-config:FILE    the configuration file (default " CONFIG_DEFAULT_PATH
	");\n"
	"                with another file the service is left alone\n"
	"-noservice      do not enable or start winrmd.service\n"
	"-quiet          print only errors\n"
	"\n"
	"Examples:\n"
	"  winrmctl quickconfig\n"
	"  winrmctl qc -transport:https\n";

struct qc_opts {
	bool https;
	bool force;
	bool quiet;
	bool service;
	const char *config_path;
	const char *hostname;
};

/* What quickconfig found and will do. */
enum cert_action { CERT_NONE, CERT_KEEP, CERT_CREATE, CERT_REPLACE };

struct qc_plan {
	enum qc_origin origin;
	struct buf text; /* the file (or the default it starts from) */
	struct stat st;  /* of the file, when it exists */
	struct winrmd_config *cfg;
	bool add_http;
	bool add_https;
	/* the HTTPS listener's files (new or existing) */
	enum cert_action cert;
	char *cert_file;
	char *key_file;
	char *cert_problem; /* why an existing pair is not kept as it is */
};

static bool quiet;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("winrmctl quickconfig: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- command line ---- */

int quickconfig_wanted(int argc, char *const argv[])
{
	return argc > 1 &&
	       (str_ieq(argv[1], "quickconfig") || str_ieq(argv[1], "qc"));
}

/* "-name:value", "-name", "/name:value" (winrm.cmd's forms), any case;
 * returns the value ("" for none) when arg is the switch name. */
static const char *switch_value(const char *arg, const char *name)
{
	size_t n = strlen(name);

	if (arg[0] != '-' && arg[0] != '/')
		return NULL;
	arg++;
	if (arg[0] == '-')
		arg++; /* --name too */
	if (strncasecmp(arg, name, n) != 0)
		return NULL;
	if (arg[n] == '\0')
		return "";
	if (arg[n] == ':' || arg[n] == '=')
		return arg + n + 1;
	return NULL;
}

static int parse_args(int argc, char *const argv[], struct qc_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->service = true;
	o->config_path = CONFIG_DEFAULT_PATH;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v;
		if (strcmp(a, "-?") == 0 || strcmp(a, "/?") == 0 ||
		    switch_value(a, "help") != NULL) {
			fputs(quickconfig_help, stdout);
			return 1;
		} else if ((v = switch_value(a, "transport")) != NULL) {
			if (str_ieq(v, "https"))
				o->https = true;
			else if (!str_ieq(v, "http")) {
				fprintf(stderr,
					"Error: -transport takes http or "
					"https, not '%s'\n",
					v);
				return -1;
			}
		} else if (switch_value(a, "force") != NULL) {
			o->force = true;
		} else if (switch_value(a, "quiet") != NULL ||
			   switch_value(a, "q") != NULL) {
			o->quiet = true;
		} else if (switch_value(a, "noservice") != NULL) {
			o->service = false;
		} else if ((v = switch_value(a, "config")) != NULL &&
			   v[0] != '\0') {
			o->config_path = v;
		} else if ((v = switch_value(a, "hostname")) != NULL &&
			   v[0] != '\0') {
			o->hostname = v;
		} else {
			fprintf(stderr,
				"Error: Unknown switch or argument for "
				"quickconfig: %s\n"
				"Type \"winrmctl quickconfig -?\" for help.\n",
				a);
			return -1;
		}
	}
	return 0;
}

/* This host's fully qualified name (lower case), as hostname -f says it:
 * the canonical name of the host name, or the host name itself. */
static char *host_fqdn(void)
{
	char host[256];
	struct addrinfo hints, *ai = NULL;
	char *name;

	if (gethostname(host, sizeof(host)) != 0)
		return xstrdup("localhost");
	host[sizeof(host) - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(host, NULL, &hints, &ai) == 0 && ai != NULL &&
	    ai->ai_canonname != NULL && strchr(ai->ai_canonname, '.') != NULL)
		name = xstrdup(ai->ai_canonname);
	else
		name = xstrdup(host);
	if (ai != NULL)
		freeaddrinfo(ai);
	for (char *p = name; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return name;
}

/* ---- the certificate ---- */

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x;

	if (f == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

/* Is the pair at cert/key usable by winrmd, for name, for another
 * RENEW_DAYS?  NULL when it is, else why not (caller frees). */
static char *cert_problem(const char *cert, const char *key, const char *name)
{
	char err[512];
	int r = x509_check_keypair(cert, key, err, sizeof(err));

	if (r < 0)
		return xstrdup(err);
	X509 *x = read_cert(cert);
	if (x == NULL)
		return xasprintf("%s: cannot read the certificate", cert);
	char *why = NULL;
	time_t soon = time(NULL) + (time_t)RENEW_DAYS * 86400;
	if (X509_check_host(x, name, 0, 0, NULL) != 1)
		why = xasprintf("%s is not a certificate for %s", cert, name);
	else if (X509_cmp_time(X509_get0_notAfter(x), &soon) <= 0)
		why = xasprintf("%s expires within %d days (or has expired)",
				cert, RENEW_DAYS);
	X509_free(x);
	return why;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static void thumbprint(X509 *x, char out[X509_THUMBPRINT_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (X509_digest(x, EVP_sha1(), md, &n) != 1)
		return;
	for (unsigned i = 0; i < n && 2 * i + 2 < X509_THUMBPRINT_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02X", md[i]);
}

/* Writes data to path atomically with mode, owned by root.  0 or -1
 * (reported). */
static int write_file(const char *path, const void *data, size_t len,
		      mode_t mode)
{
	enum atomic_step step;
	struct stat root = { 0 }; /* uid 0, gid 0 */
	char *tmp = atomic_write_temp(path, data, len, mode, &root, &step);

	if (tmp == NULL) {
		fail("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	if (atomic_install(tmp, path) < 0) {
		fail("cannot replace %s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

static int mkdir_p(const char *dir, mode_t mode)
{
	char *p = xstrdup(dir);
	int rc = 0;

	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			fail("cannot create %s: %s", p, strerror(errno));
			rc = -1;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/*
 * A new ECDSA key and a self-signed certificate for name (CN and
 * subjectAltName DNS, the short name too), valid from five minutes ago
 * (clocks differ) for CERT_DAYS, for TLS servers only.  The key is written
 * first, 0600; then the certificate, 0644.
 */
static int make_cert(const char *name, const char *cert_path,
		     const char *key_path, char tp[X509_THUMBPRINT_SIZE])
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *kb = NULL, *cb = NULL;
	BIGNUM *serial = NULL;
	int rc = -1;
	char *san = NULL;

	key = EVP_EC_gen(KEY_CURVE);
	x = X509_new();
	serial = BN_new();
	if (key == NULL || x == NULL || serial == NULL ||
	    X509_set_version(x, 2) != 1 ||
	    BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400) ==
		    NULL ||
	    X509_set_pubkey(x, key) != 1)
		goto out;
	X509_NAME *n = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
				       (const unsigned char *)name, -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(x, n) != 1)
		goto out;
	const char *dot = strchr(name, '.');
	san = dot != NULL ? xasprintf("DNS:%s,DNS:%.*s", name,
				      (int)(dot - name), name)
			  : xasprintf("DNS:%s", name);
	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(x, NID_subject_alt_name, san) < 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
	    X509_sign(x, key, EVP_sha256()) <= 0)
		goto out;
	kb = BIO_new(BIO_s_secmem());
	cb = BIO_new(BIO_s_mem());
	if (kb == NULL || cb == NULL ||
	    PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cb, x) != 1)
		goto out;
	char *kd, *cd;
	long kl = BIO_get_mem_data(kb, &kd), cl = BIO_get_mem_data(cb, &cd);
	if (write_file(key_path, kd, (size_t)kl, 0600) < 0 ||
	    write_file(cert_path, cd, (size_t)cl, 0644) < 0) {
		rc = -2; /* reported */
		goto out;
	}
	thumbprint(x, tp);
	rc = 0;
out:
	if (rc == -1)
		fail("cannot make a certificate for %s (OpenSSL failed)", name);
	free(san);
	BIO_free(kb);
	BIO_free(cb);
	BN_free(serial);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc == 0 ? 0 : -1;
}

/* ---- the group ---- */

/* Runs argv (an absolute path first) and waits; 0 when it exited 0. */
static int run(char *const argv[])
{
	pid_t pid;
	int status;

	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int ensure_group(const char *name, bool *created)
{
	static const char *const tools[] = { "/usr/sbin/groupadd",
					     "/sbin/groupadd" };

	*created = false;
	if (name[0] == '\0' || getgrnam(name) != NULL)
		return 0;
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if (access(tools[i], X_OK) != 0)
			continue;
		char *argv[] = { (char *)tools[i], (char *)"--system",
				 (char *)name, NULL };
		if (run(argv) == 0) {
			*created = true;
			return 0;
		}
		fail("%s --system %s failed", tools[i], name);
		return -1;
	}
	fail("cannot create the group %s: no groupadd", name);
	return -1;
}

/* ---- Kerberos ---- */

/* Says whether keytab holds a key for HTTP/name (any realm). */
static void check_keytab(const char *keytab, const char *name)
{
	krb5_context ctx;
	krb5_keytab kt;
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	char *found = NULL;
	bool readable = false;
	char *want = xasprintf("HTTP/%s@", name);
	size_t wl = strlen(want);

	if (krb5_init_context(&ctx) != 0) {
		free(want);
		return;
	}
	if (krb5_kt_resolve(ctx, keytab, &kt) == 0) {
		if (krb5_kt_start_seq_get(ctx, kt, &cur) == 0) {
			readable = true;
			while (found == NULL &&
			       krb5_kt_next_entry(ctx, kt, &e, &cur) == 0) {
				char *p = NULL;
				if (krb5_unparse_name(ctx, e.principal, &p) ==
					    0 &&
				    strncasecmp(p, want, wl) == 0)
					found = xstrdup(p);
				krb5_free_unparsed_name(ctx, p);
				krb5_free_keytab_entry_contents(ctx, &e);
			}
			krb5_kt_end_seq_get(ctx, kt, &cur);
		}
		krb5_kt_close(ctx, kt);
	}
	krb5_free_context(ctx);
	if (!readable)
		say("Kerberos: there is no keytab %s (Service.Auth.Keytab), so "
		    "Kerberos logins will fail (NTLM and Basic do not need "
		    "one).  To make one: in an Active Directory domain, "
		    "\"adcli join\" (or \"realm join\") and then \"adcli "
		    "update --service-name=HTTP\"; with an MIT KDC, \"kadmin -q "
		    "'ktadd -k %s HTTP/%s'\".",
		    keytab, keytab, name);
	else if (found != NULL)
		say("Kerberos: %s has a key for %s: Kerberos and Negotiate "
		    "logins can use it.",
		    keytab, found);
	else
		say("Kerberos: %s has no key for HTTP/%s, so Kerberos logins "
		    "will fail (NTLM and Basic do not need one).  To add it: in "
		    "an Active Directory domain, \"adcli join\" (or \"realm "
		    "join\") and then \"adcli update --service-name=HTTP\"; "
		    "with an MIT KDC, \"kadmin -q 'ktadd -k %s HTTP/%s'\".",
		    keytab, name, keytab, name);
	free(found);
	free(want);
}

/* ---- systemd ---- */

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

static const char *bus_message(const sd_bus_error *e)
{
	return e->message != NULL ? e->message : "D-Bus error";
}

struct job_wait {
	char *path;
	char *result;
};

static int on_job_removed(sd_bus_message *m, void *userdata,
			  sd_bus_error *ret_error)
{
	struct job_wait *w = userdata;
	uint32_t id;
	const char *path, *unit, *result;

	(void)ret_error;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->path != NULL && w->result == NULL && strcmp(path, w->path) == 0)
		w->result = xstrdup(result);
	return 0;
}

static char *unit_property(sd_bus *bus, const char *prop)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	char *value = NULL;

	if (sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit",
			       &err, &reply, "s", UNIT) >= 0 &&
	    sd_bus_message_read(reply, "o", &path) >= 0)
		sd_bus_get_property_string(bus, SD_DEST, path,
					   "org.freedesktop.systemd1.Unit",
					   prop, &err, &value);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
	return value;
}

/* Calls method (StartUnit, RestartUnit, ReloadUnit) and waits for its
 * job.  0 when the job is "done". */
static int run_job(sd_bus *bus, const char *method)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct job_wait w = { NULL, NULL };
	sd_bus_slot *slot = NULL;
	const char *path;
	int rc = -1;

	/* Subscribe first, so that the job's end cannot be missed. */
	if (sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER,
				"JobRemoved", on_job_removed, &w) < 0 ||
	    sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe",
			       &err, NULL, "") < 0) {
		fail("systemd: cannot follow jobs: %s", bus_message(&err));
		goto out;
	}
	if (sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, method, &err,
			       &reply, "ss", UNIT, "replace") < 0 ||
	    sd_bus_message_read(reply, "o", &path) < 0) {
		fail("systemd: %s %s: %s", method, UNIT, bus_message(&err));
		goto out;
	}
	w.path = xstrdup(path);
	int64_t deadline = time_mono_ms() + 120000;
	while (w.result == NULL && time_mono_ms() < deadline) {
		int r = sd_bus_process(bus, NULL);
		if (r < 0) {
			fail("systemd: %s", strerror(-r));
			goto out;
		}
		if (r == 0)
			sd_bus_wait(bus, 1000000);
	}
	if (w.result == NULL)
		fail("systemd: %s %s did not finish in 120 s", method, UNIT);
	else if (strcmp(w.result, "done") != 0)
		fail("systemd: %s %s: %s (see: systemctl status %s; "
		     "journalctl -u %s)",
		     method, UNIT, w.result, UNIT, UNIT);
	else
		rc = 0;
out:
	sd_bus_slot_unref(slot);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
	free(w.path);
	free(w.result);
	return rc;
}

/*
 * Enables winrmd.service and makes it run the configuration: started when
 * it is not running, restarted when its listeners changed, reloaded when
 * only a certificate did.  *changed_r tells whether anything was done.
 */
static int ensure_service(bool restart, bool reload, bool *changed_r)
{
	sd_bus *bus = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *state;
	int rc = -1, r;

	*changed_r = false;
	r = sd_bus_open_system(&bus);
	if (r < 0) {
		fail("cannot reach systemd on the system bus (%s): the "
		     "configuration is in place, enable and start winrmd "
		     "yourself (or use -noservice)",
		     strerror(-r));
		return -1;
	}
	if (sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER,
			       "GetUnitFileState", &err, &reply, "s",
			       UNIT) < 0 ||
	    sd_bus_message_read(reply, "s", &state) < 0) {
		fail("systemd: %s: %s (is winrmd installed?)", UNIT,
		     bus_message(&err));
		goto out;
	}
	if (strcmp(state, "masked") == 0) {
		fail("%s is masked: systemctl unmask %s, then run quickconfig "
		     "again",
		     UNIT, UNIT);
		goto out;
	}
	if (strcmp(state, "enabled") != 0) {
		sd_bus_message *r2 = NULL;
		if (sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER,
				       "EnableUnitFiles", &err, &r2, "asbb", 1,
				       UNIT, 0, 0) < 0) {
			fail("systemd: cannot enable %s: %s", UNIT,
			     bus_message(&err));
			goto out;
		}
		sd_bus_message_unref(r2);
		/* what systemctl enable does next */
		if (sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER,
				       "Reload", &err, NULL, "") < 0) {
			fail("systemd: daemon-reload: %s", bus_message(&err));
			goto out;
		}
		say("Enabled the WinRM service (%s): it starts at boot.", UNIT);
		*changed_r = true;
	}
	char *active = unit_property(bus, "ActiveState");
	bool running = active != NULL && (strcmp(active, "active") == 0 ||
					  strcmp(active, "reloading") == 0);
	free(active);
	if (!running) {
		if (run_job(bus, "StartUnit") < 0)
			goto out;
		say("Started the WinRM service (%s).", UNIT);
		*changed_r = true;
	} else if (restart) {
		if (run_job(bus, "RestartUnit") < 0)
			goto out;
		say("Restarted the WinRM service (%s): new listeners take "
		    "effect only then.",
		    UNIT);
		*changed_r = true;
	} else if (reload) {
		if (run_job(bus, "ReloadUnit") < 0)
			goto out;
		say("Reloaded the WinRM service (%s) for the new certificate.",
		    UNIT);
		*changed_r = true;
	}
	active = unit_property(bus, "ActiveState");
	if (active == NULL || strcmp(active, "active") != 0) {
		fail("%s is %s, not active: see systemctl status %s and "
		     "journalctl -u %s",
		     UNIT, active != NULL ? active : "unknown", UNIT, UNIT);
		free(active);
		goto out;
	}
	free(active);
	rc = 0;
out:
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
	sd_bus_flush_close_unref(bus);
	return rc;
}

/* ---- the plan ---- */

static const char default_fallback[] =
	"# winrmd.conf - see winrmd.conf(5).  Every setting is optional; the\n"
	"# shipped default, with each setting documented, was not found.\n";

/* The file's text and origin, its configuration, and what is missing. */
static int make_plan(const struct qc_opts *o, const char *name,
		     struct qc_plan *p)
{
	struct buf deflt = BUF_INIT;
	char *why = NULL, *errs = NULL;
	char *dpath = xstrdup(WINRMD_DATADIR "/winrmd.conf");
	bool have_default = file_read_regular(dpath, MAX_CONF, &deflt, NULL,
					      &why) == 0;
	free(why);
	why = NULL;
	int rc = -1;

	if (file_read_regular(o->config_path, MAX_CONF, &p->text, &p->st,
			      &why) == 0) {
		p->origin = qc_classify((const char *)p->text.data, p->text.len,
					have_default ? (const char *)deflt.data
						     : NULL,
					deflt.len);
		p->cfg = config_load_file(o->config_path, &errs);
	} else if (errno == ENOENT) {
		p->origin = QC_MISSING;
		if (have_default)
			buf_append(&p->text, deflt.data, deflt.len);
		else
			buf_append_str(&p->text, default_fallback);
		p->cfg = config_load_string((const char *)p->text.data,
					    have_default ? dpath
							 : o->config_path,
					    &errs);
	} else {
		fail("cannot read %s: %s", o->config_path, why);
		goto out;
	}
	if (p->cfg == NULL) {
		fail("the configuration does not load; fix it first (winrmd "
		     "-t -c %s):\n%s",
		     o->config_path, errs != NULL ? errs : "");
		goto out;
	}

	const struct listener_config *https = NULL;
	bool http = false;
	for (size_t i = 0; i < p->cfg->n_listeners; i++) {
		const struct listener_config *l = &p->cfg->listeners[i];
		if (!l->enabled)
			continue;
		if (l->transport == TRANSPORT_HTTP)
			http = true;
		else if (https == NULL)
			https = l;
	}
	p->add_http = !http;
	if (o->https) {
		char *dir = path_dir(o->config_path);
		p->add_https = https == NULL;
		p->cert_file = https != NULL
				       ? xstrdup(https->certificate_file)
				       : xasprintf("%s/tls/cert.pem", dir);
		p->key_file = https != NULL ? xstrdup(https->key_file)
					    : xasprintf("%s/tls/key.pem", dir);
		free(dir);
		bool have_cert = access(p->cert_file, F_OK) == 0;
		bool have_key = access(p->key_file, F_OK) == 0;
		if (!have_cert && !have_key) {
			p->cert = CERT_CREATE;
		} else {
			p->cert_problem = cert_problem(p->cert_file,
						       p->key_file, name);
			p->cert = p->cert_problem == NULL ? CERT_KEEP
							  : CERT_REPLACE;
		}
	}
	rc = 0;
out:
	free(errs);
	free(why);
	free(dpath);
	buf_release(&deflt);
	return rc;
}

static void plan_release(struct qc_plan *p)
{
	buf_release(&p->text);
	config_unref(p->cfg);
	free(p->cert_file);
	free(p->key_file);
	free(p->cert_problem);
}

static bool config_changes(const struct qc_plan *p)
{
	return p->origin == QC_MISSING || p->add_http || p->add_https;
}

/* What would change, one line each (for the refusal). */
static void print_plan(const struct qc_opts *o, const struct qc_plan *p,
		       const char *name)
{
	if (p->origin == QC_MISSING)
		fprintf(stderr, "  - create %s\n", o->config_path);
	if (p->add_http)
		fprintf(stderr,
			"  - add a listener on HTTP://* (port 5985) to %s\n",
			o->config_path);
	if (p->add_https)
		fprintf(stderr,
			"  - add a listener on HTTPS://* (port 5986) to %s\n",
			o->config_path);
	if (p->cert == CERT_CREATE || p->cert == CERT_REPLACE)
		fprintf(stderr,
			"  - %s a self-signed certificate for %s: %s, %s\n",
			p->cert == CERT_CREATE ? "create" : "replace with",
			name, p->cert_file, p->key_file);
}

/* ---- writing winrmd.conf ---- */

/* The new text: the edits on the body, sealed.  0 or -1 (reported). */
static int edit_config(const struct qc_opts *o, struct qc_plan *p,
		       struct buf *out)
{
	size_t off = qc_body_offset((const char *)p->text.data, p->text.len);
	struct buf body = BUF_INIT;
	char *dir = path_dir(o->config_path), *error = NULL;
	int rc = -1;

	buf_append(&body, p->text.data + off, p->text.len - off);
	if (p->add_http) {
		struct qc_listener l = { TRANSPORT_HTTP, 5985, NULL, NULL };
		if (qc_add_listener(&body, dir, p->cfg, &l, &error) < 0)
			goto out;
	}
	if (p->add_https) {
		struct qc_listener l = { TRANSPORT_HTTPS, 5986, p->cert_file,
					 p->key_file };
		/* after an HTTP listener was added, the list exists */
		if (qc_add_listener(&body, dir, p->cfg, &l, &error) < 0)
			goto out;
	}
	qc_seal(out, (const char *)body.data, body.len);
	rc = 0;
out:
	if (error != NULL)
		fail("cannot add the listener to %s: %s", o->config_path,
		     error);
	free(error);
	free(dir);
	buf_release(&body);
	return rc;
}

/* Writes text as the configuration, checked first as winrmd would load
 * it.  0 or -1 (reported; the old file unchanged). */
static int install_config(const struct qc_opts *o, const struct qc_plan *p,
			  const struct buf *text)
{
	const char *path = o->config_path;
	char *dir = path_dir(path), *tmp = NULL, *errs = NULL, *warns = NULL;
	struct winrmd_config *cfg = NULL;
	enum atomic_step step;
	int rc = -1;

	if (mkdir_p(dir, 0755) < 0)
		goto out;
	tmp = atomic_write_temp(path, text->data, text->len,
				p->origin == QC_MISSING ? 0644
							: p->st.st_mode & 07777,
				p->origin == QC_MISSING ? NULL : &p->st, &step);
	if (tmp == NULL) {
		fail("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	/* Checked where it will live (relative @include names). */
	cfg = config_load_file(tmp, &errs);
	if (cfg == NULL || config_check_files(cfg, path, CONFIG_CHECK_KEYS,
					      &errs, &warns) < 0) {
		fail("the new %s would not work, it was not written:\n%s", path,
		     errs != NULL ? errs : "");
		goto out;
	}
	if (atomic_install(tmp, path) < 0) {
		fail("cannot replace %s: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if (warns != NULL)
		say("Warning: %s", warns);
	rc = 0;
out:
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	config_unref(cfg);
	free(errs);
	free(warns);
	free(dir);
	return rc;
}

/* ---- main ---- */

int quickconfig_main(int argc, char *const argv[])
{
	struct qc_opts o;
	struct qc_plan p;
	char *name = NULL;
	int rc = EXIT_FAILED;
	bool changed = false;

	int a = parse_args(argc, argv, &o);
	if (a != 0)
		return a > 0 ? EXIT_DONE : EXIT_USAGE;
	quiet = o.quiet;
	if (geteuid() != 0) {
		fail("run as root: it writes %s, may create a group and "
		     "manages the winrmd service",
		     o.config_path);
		return EXIT_FAILED;
	}
	memset(&p, 0, sizeof(p));
	name = o.hostname != NULL ? xstrdup(o.hostname) : host_fqdn();
	if (make_plan(&o, name, &p) < 0)
		goto out;

	/* Nothing is changed unless everything may be. */
	if (config_changes(&p) && p.origin == QC_EDITED && !o.force) {
		fail("%s was changed since it was installed or since "
		     "quickconfig wrote it, so it is left as it is.  "
		     "quickconfig would:",
		     o.config_path);
		print_plan(&o, &p, name);
		fputs("Run \"winrmctl quickconfig -force\" (with the same "
		      "switches) to make these changes anyway; the other "
		      "settings stay as they are.\n",
		      stderr);
		goto out;
	}
	if (p.cert == CERT_REPLACE && !o.force) {
		fail("%s.  Run with -force to replace the pair with a new "
		     "self-signed certificate for %s, or install a "
		     "certificate for it there.",
		     p.cert_problem, name);
		goto out;
	}

	/* The new text first (nothing is written when it cannot be made),
	 * then the certificate (the new configuration is checked with it),
	 * then the file. */
	struct buf text = BUF_INIT;
	if (config_changes(&p) && edit_config(&o, &p, &text) < 0)
		goto out;
	bool new_cert = false;
	if (p.cert == CERT_CREATE || p.cert == CERT_REPLACE) {
		char tp[X509_THUMBPRINT_SIZE];
		char *d1 = path_dir(p.cert_file), *d2 = path_dir(p.key_file);
		int r = mkdir_p(d1, 0755) < 0 || mkdir_p(d2, 0755) < 0
				? -1
				: make_cert(name, p.cert_file, p.key_file, tp);
		free(d1);
		free(d2);
		if (r < 0) {
			buf_release(&text);
			goto out;
		}
		say("%s a self-signed certificate for %s (valid %d days, "
		    "thumbprint %s): %s; its key, readable by root only: %s.",
		    p.cert == CERT_CREATE ? "Created"
					  : "Replaced the "
					    "certificate with",
		    name, CERT_DAYS, tp, p.cert_file, p.key_file);
		new_cert = changed = true;
	} else if (p.cert == CERT_KEEP) {
		X509 *x = read_cert(p.cert_file);
		char tp[X509_THUMBPRINT_SIZE] = "";
		if (x != NULL)
			thumbprint(x, tp);
		X509_free(x);
		say("The HTTPS certificate %s (thumbprint %s) is valid for %s: "
		    "kept.",
		    p.cert_file, tp, name);
	}

	bool new_listeners = false;
	if (config_changes(&p)) {
		int r = install_config(&o, &p, &text);
		buf_release(&text);
		if (r < 0)
			goto out;
		if (p.origin == QC_MISSING)
			say("Created %s from the defaults.", o.config_path);
		if (p.add_http)
			say("Created a WinRM listener on HTTP://* to accept "
			    "WS-Man requests to any IP on this machine (port "
			    "5985).");
		if (p.add_https)
			say("Created a WinRM listener on HTTPS://* to accept "
			    "WS-Man requests to any IP on this machine (port "
			    "5986).");
		new_listeners = p.add_http || p.add_https;
		changed = true;
	} else {
		say("%s already has a WinRM listener on HTTP%s.", o.config_path,
		    o.https ? " and on HTTPS" : "");
	}

	/* The remote-users group(s) that are local names (an AD group
	 * such as "winrm users@example.com" is the directory's business). */
	for (size_t g = 0; g < p.cfg->n_remote_users_groups; g++) {
		const char *group = p.cfg->remote_users_groups[g];
		bool created = false;
		if (strchr(group, '@') != NULL || strchr(group, '\\') != NULL)
			continue;
		if (ensure_group(group, &created) < 0)
			goto out;
		if (created) {
			say("Created the group %s (Authorization.RemoteUsersGroup): "
			    "its members may use WinRM without being administrators "
			    "(usermod -aG %s USER).",
			    group, group);
			changed = true;
		}
	}

	check_keytab(p.cfg->keytab, name);

	if (o.service && strcmp(o.config_path, CONFIG_DEFAULT_PATH) != 0) {
		say("The WinRM service reads %s, not %s: it was left alone.",
		    CONFIG_DEFAULT_PATH, o.config_path);
		o.service = false;
	}
	if (o.service) {
		bool svc = false;
		if (ensure_service(new_listeners || p.origin == QC_MISSING,
				   new_cert, &svc) < 0)
			goto out;
		changed = changed || svc;
	}
	if (changed)
		say("WinRM has been updated for remote management.");
	else
		say("WinRM is already set up for remote management on this "
		    "computer.");
	rc = EXIT_DONE;
out:
	plan_release(&p);
	free(name);
	return rc;
}
