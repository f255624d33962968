/*
 * config-check.c - checks of what a loaded configuration needs beyond its
 * own text: the files it names, which loading does not read (every
 * enabled HTTPS listener's certificate and key (x509.c), the
 * ClientCAFile, the certificate mapping table (certmap.c):
 * config_check_files), and what the service needs of the host at start
 * (accounts, groups, the helper, the keytab (keytab.c), the NTLM user
 * file, settings that cannot work together: config_check_host).  See
 * config.h.
 *
 * Separate from the loader so that config.c needs neither certmap nor
 * x509: only processes that will use the files call this.  Every message
 * names the file and line that set the key (config_key_origin).
 *
 * Must not: log, exit, keep global state, or change a file.
 *
 * Entry points: config_check_files, config_check_host,
 * config_check_keytab.
 */
#include "autoconfig.h"

#include "lib/config.h"
#include "lib/certmap.h"
#include "lib/config-keys.h"
#include "lib/keytab.h"
#include "lib/x509.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The problems found so far: errors, and warnings. */
struct report {
	const struct winrmd_config *cfg;
	struct buf errs, warns;
};

static void vadd(struct report *rp, bool warning, const char *where,
		 const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void vadd(struct report *rp, bool warning, const char *where,
		 const char *fmt, va_list ap)
{
	struct buf *to = warning ? &rp->warns : &rp->errs;
	if (to->len > 0)
		buf_append_byte(to, '\n');
	buf_printf(to, "%s: %s", where, warning ? "warning: " : "");
	buf_vprintf(to, fmt, ap);
}

/* A problem of the global setting key: "FILE:LINE: KEY: ...", or "FILE:
 * KEY (default): ..." when the file does not set it. */
static void add(struct report *rp, bool warning, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add(struct report *rp, bool warning, const char *key,
		const char *fmt, ...)
{
	const char *file;
	int line = config_key_origin(rp->cfg, key, &file);
	char *where = line > 0 ? xasprintf("%s:%d: %s", file, line, key)
			       : xasprintf("%s: %s (default)", file, key);
	va_list ap;
	va_start(ap, fmt);
	vadd(rp, warning, where, fmt, ap);
	va_end(ap);
	free(where);
}

/* A problem of listener i (at its line, or the default listener). */
static void add_listener(struct report *rp, bool warning, size_t i,
			 const char *key, int line, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void add_listener(struct report *rp, bool warning, size_t i,
			 const char *key, int line, const char *fmt, ...)
{
	const char *file = rp->cfg->source;
	char *where = line > 0 ? xasprintf("%s:%d: Listeners.[%zu].%s", file,
					   line, i, key)
			       : xasprintf("%s: Listeners (default)", file);
	va_list ap;
	va_start(ap, fmt);
	vadd(rp, warning, where, fmt, ap);
	va_end(ap);
	free(where);
}

/* Ends a check: 0, or -1 with *error_r; the warnings in *warnings_r. */
static int report_end(struct report *rp, char **error_r, char **warnings_r)
{
	if (warnings_r != NULL)
		*warnings_r = rp->warns.len ? buf_steal(&rp->warns) : NULL;
	buf_release(&rp->warns);
	if (rp->errs.len == 0)
		return 0;
	*error_r = buf_steal(&rp->errs);
	return -1;
}

/*
 * Files named by the configuration must be usable: an HTTPS listener's
 * certificate and key (readable, PEM, matching), the client CA file.
 * Only for files on disk: the listener, which reloads from the helper's
 * dump after dropping privileges, cannot read root-only keys and need not.
 */
int config_check_files(const struct winrmd_config *cfg, const char *path,
		       unsigned flags, char **error_r, char **warnings_r)
{
	struct buf errs = BUF_INIT, warns = BUF_INIT;
	struct report rp = { cfg, BUF_INIT, BUF_INIT };
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct listener_config *l = &cfg->listeners[i];
		if (l->transport != TRANSPORT_HTTPS || !l->enabled)
			continue;
		char err[512];
		int r = x509_check_keypair(l->certificate_file,
					   (flags & CONFIG_CHECK_KEYS)
						   ? l->key_file
						   : NULL,
					   err, sizeof(err));
		bool key = r == -2;
		struct buf *to = r < 0 ? &errs : &warns;
		if (r != 0)
			buf_printf(to, "%s%s:%d: Listeners.[%zu].%s: %s%s",
				   to->len ? "\n" : "", path,
				   key ? l->key_line : l->certificate_line, i,
				   key ? "KeyFile" : "CertificateFile",
				   r > 0 ? "warning: " : "", err);
	}
	if (warnings_r != NULL)
		*warnings_r = warns.len ? buf_steal(&warns) : NULL;
	buf_release(&warns);
	if (cfg->client_ca_file[0] != '\0' &&
	    access(cfg->client_ca_file, R_OK) != 0) {
		add(&rp, false, "Service.Auth.ClientCAFile", "%s: %s",
		    cfg->client_ca_file, strerror(errno));
		buf_printf(&errs, "%s%s", errs.len ? "\n" : "",
			   (const char *)rp.errs.data);
	}
	buf_release(&rp.errs);
	/* The mapping table is its own file; its messages name it. */
	struct certmap *t = NULL;
	char *cm_error = NULL;
	if (certmap_load_file(cfg->certmapping_file, &t, &cm_error) != 0) {
		buf_printf(&errs, "%s%s", errs.len ? "\n" : "", cm_error);
		free(cm_error);
	}
	certmap_free(t);
	if (errs.len == 0)
		return 0;
	*error_r = buf_steal(&errs);
	return -1;
}

/*
 * The host.
 */

static bool loopback(const char *address)
{
	unsigned char b[16];
	if (inet_pton(AF_INET, address, b) == 1)
		return b[0] == 127;
	static const unsigned char one[16] = { [15] = 1 };
	return inet_pton(AF_INET6, address, b) == 1 && memcmp(b, one, 16) == 0;
}

static bool is_default_list(char *const *v, size_t n, const char *const *def)
{
	size_t i = 0;
	for (; i < n && def[i] != NULL; i++)
		if (strcmp(v[i], def[i]) != 0)
			return false;
	return i == n && def[i] == NULL;
}

static void check_groups(struct report *rp, const char *key, char *const *v,
			 size_t n, bool any_will_do)
{
	size_t missing = 0;
	struct buf names = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (getgrnam(v[i]) != NULL)
			continue;
		buf_printf(&names, "%s\"%s\"", missing ? ", " : "", v[i]);
		missing++;
	}
	if (missing > 0 && (!any_will_do || missing == n))
		add(rp, true, key,
		    "no such group: %s (NSS does not know %s; until it does, "
		    "%s)",
		    (const char *)names.data, missing > 1 ? "them" : "it",
		    strcmp(key, "Authorization.AdminGroups") == 0
			    ? "its members are not administrators"
			    : "its members cannot use WinRM");
	buf_release(&names);
}

static void check_keytab(struct report *rp)
{
	const struct winrmd_config *cfg = rp->cfg;
	const char *kt = cfg->keytab;
	const char *what = cfg->auth_kerberos
				   ? "Kerberos logins will fail"
				   : "Kerberos inside Negotiate will fail";
	struct stat st;
	if (stat(kt, &st) != 0) {
		add(rp, true, "Service.Auth.Keytab",
		    "%s: %s: %s%s (join the domain, or copy the host's "
		    "keytab there)",
		    kt, strerror(errno), what,
		    cfg->auth_negotiate ? "; Negotiate still offers NTLM" : "");
		return;
	}
	struct buf names = BUF_INIT;
	char err[512];
	int n = keytab_principals(kt, &names, err, sizeof(err));
	if (n < 0) {
		add(rp, false, "Service.Auth.Keytab", "%s", err);
		buf_release(&names);
		return;
	}
	if (st.st_mode & 044)
		add(rp, true, "Service.Auth.Keytab",
		    "%s is readable by group or others (mode %04o): it holds "
		    "the host's keys (chmod 600)",
		    kt, (unsigned)(st.st_mode & 07777));
	bool http = false;
	const char *s = names.data != NULL ? (const char *)names.data : "";
	for (const char *p = s; *p != '\0';) {
		http = http || strncasecmp(p, "HTTP/", 5) == 0;
		const char *nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (!http) {
		/* the principals, on one line */
		for (size_t i = 0; i < names.len; i++)
			if (names.data[i] == '\n')
				names.data[i] = i + 1 < names.len ? ' ' : '\0';
		add(rp, true, "Service.Auth.Keytab",
		    "%s holds no HTTP/ key (%s%s): WinRM clients ask for "
		    "HTTP/<host name>, so %s (add the key: adcli update "
		    "--add-service-principal=HTTP/<fqdn>, or ktpass on the "
		    "domain controller)",
		    kt, n == 0 ? "it is empty" : "it holds: ",
		    n == 0 ? "" : (const char *)names.data, what);
	}
	buf_release(&names);
}

int config_check_host(const struct winrmd_config *cfg, unsigned flags,
		      char **error_r, char **warnings_r)
{
	struct report rp = { cfg, BUF_INIT, BUF_INIT };
	struct stat st;

	/* the accounts and programs the start needs */
	errno = 0;
	struct passwd *pw = getpwnam(cfg->user);
	if (pw == NULL)
		add(&rp, false, "Daemon.User",
		    "no such account: \"%s\" (the listener runs as it; create "
		    "it: systemd-sysusers, or useradd --system --no-create-home "
		    "%s)",
		    cfg->user, cfg->user);
	else if (pw->pw_uid == 0)
		add(&rp, false, "Daemon.User",
		    "\"%s\" is root: the network listener never runs "
		    "privileged",
		    cfg->user);
	if (stat(cfg->helper_path, &st) != 0)
		add(&rp, false, "Daemon.HelperPath", "%s: %s", cfg->helper_path,
		    strerror(errno));
	else if (!S_ISREG(st.st_mode) || access(cfg->helper_path, X_OK) != 0)
		add(&rp, false, "Daemon.HelperPath",
		    "%s is not an executable file", cfg->helper_path);
	else if (st.st_uid != 0 || (st.st_mode & 022))
		add(&rp, true, "Daemon.HelperPath",
		    "%s runs as root but others than root may change it "
		    "(owner uid %u, mode %04o)",
		    cfg->helper_path, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777));

	/* files the helper reads */
	if (cfg->ntlm_user_file[0] != '\0') {
		int fd = open(cfg->ntlm_user_file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			add(&rp, false, "Service.Auth.NtlmUserFile", "%s: %s",
			    cfg->ntlm_user_file, strerror(errno));
		else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
			add(&rp, false, "Service.Auth.NtlmUserFile",
			    "%s is not a regular file", cfg->ntlm_user_file);
		else if (st.st_mode & 044)
			add(&rp, true, "Service.Auth.NtlmUserFile",
			    "%s is readable by group or others (mode %04o): "
			    "it holds password hashes (chmod 600)",
			    cfg->ntlm_user_file,
			    (unsigned)(st.st_mode & 07777));
		if (fd >= 0)
			close(fd);
	}
	if ((flags & CONFIG_HOST_KEYTAB) &&
	    (cfg->auth_kerberos || cfg->auth_negotiate))
		check_keytab(&rp);

	/* settings that do not work together */
	bool https = false;
	for (size_t i = 0; i < cfg->n_listeners; i++)
		https = https ||
			(cfg->listeners[i].enabled &&
			 cfg->listeners[i].transport == TRANSPORT_HTTPS);
	if (cfg->auth_certificate && !https)
		add(&rp, false, "Service.Auth.Certificate",
		    "true, but no HTTPS listener is enabled: client "
		    "certificates come only over HTTPS (winrmctl create "
		    "winrm/config/listener?Address=*+Transport=HTTPS ...)");
	if (cfg->auth_certificate && cfg->client_ca_file[0] == '\0')
		add(&rp, false, "Service.Auth.Certificate",
		    "true, but Service.Auth.ClientCAFile is not set: no "
		    "client certificate can be verified");
	if (cfg->auth_basic && cfg->allow_unencrypted) {
		for (size_t i = 0; i < cfg->n_listeners; i++) {
			const struct listener_config *l = &cfg->listeners[i];
			if (!l->enabled || l->transport != TRANSPORT_HTTP ||
			    loopback(l->address))
				continue;
			add(&rp, true, "Service.AllowUnencrypted",
			    "true with Basic: passwords cross the network in "
			    "clear text to the HTTP listener on %s port %d "
			    "(use HTTPS, or an HTTP listener on a loopback "
			    "address only)",
			    strcmp(l->address, "*") == 0 ? "every address"
							 : l->address,
			    l->port);
			break;
		}
	}
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct listener_config *l = &cfg->listeners[i];
		char err[512];
		if (l->enabled && l->transport == TRANSPORT_HTTPS &&
		    l->hostname[0] != '\0' &&
		    x509_cert_names_host(l->certificate_file, l->hostname, err,
					 sizeof(err)) == 0)
			add_listener(&rp, true, i, "Hostname", l->source_line,
				     "the certificate in %s does not name %s: "
				     "clients that check names refuse it",
				     l->certificate_file, l->hostname);
	}

	/* groups (NSS) */
	check_groups(&rp, "Authorization.AdminGroups", cfg->admin_groups,
		     cfg->n_admin_groups,
		     is_default_list(cfg->admin_groups, cfg->n_admin_groups,
				     CONFIG_DEFAULT_ADMIN_GROUPS));
	check_groups(&rp, "Authorization.RemoteUsersGroup",
		     cfg->remote_users_groups, cfg->n_remote_users_groups,
		     false);
	return report_end(&rp, error_r, warnings_r);
}

int config_check_keytab(const struct winrmd_config *cfg, char **error_r,
			char **warnings_r)
{
	struct report rp = { cfg, BUF_INIT, BUF_INIT };
	if (cfg->auth_kerberos || cfg->auth_negotiate)
		check_keytab(&rp);
	return report_end(&rp, error_r, warnings_r);
}
