/*
 * config.h - the effective configuration of winrmd, loaded from a libconfig
 * file (/etc/winrmd/winrmd.conf by default).
 *
 * Every key is declared once, in config-keys.h (path, type, default,
 * bounds); defaults, parsing, validation and the dump all come from that
 * table.  A loaded struct winrmd_config is immutable and reference counted
 * so that a SIGHUP reload can swap it while requests still hold the old one.
 *
 * Implemented by lib/config.c (key table, defaults, loader and its
 * checks), lib/config-source.c (reading, @include, file:line map),
 * lib/config-dump.c (config_dump, config_value_*) and lib/config-check.c
 * (config_check_files); the libconfig helpers they share with certmap.c
 * are lib/lcfg.c's.
 *
 * This module never logs and never exits: errors go back to the caller as
 * text, one line per problem, each "FILE:LINE: KEY: message".
 */
#ifndef WINRMD_CONFIG_H
#define WINRMD_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

/* Normally set on the compiler command line (see Makefile.am). */
#ifndef WINRMD_SYSCONFDIR
#define WINRMD_SYSCONFDIR "/etc/winrmd"
#endif
/* The helper's directory, $(pkglibexecdir): LIBEXECDIR/winrmd. */
#ifndef WINRMD_LIBEXECDIR
#define WINRMD_LIBEXECDIR "/usr/libexec/winrmd"
#endif
#ifndef WINRMD_DATADIR
#define WINRMD_DATADIR "/usr/share/winrmd"
#endif
#ifndef WINRMD_RUNSTATEDIR
#define WINRMD_RUNSTATEDIR "/run/winrmd"
#endif
#define CONFIG_DEFAULT_PATH WINRMD_SYSCONFDIR "/winrmd.conf"

enum cbt_level { CBT_NONE = 0, CBT_RELAXED, CBT_STRICT };
enum listener_transport { TRANSPORT_HTTP = 0, TRANSPORT_HTTPS };
/* Authorization.DomainAccountNames: how a domain account is spelled for
 * NSS (alice, alice@example.com, EXAMPLE\alice). */
enum account_names {
	ACCOUNT_NAMES_SHORT = 0,
	ACCOUNT_NAMES_QUALIFIED,
	ACCOUNT_NAMES_DOWNLEVEL
};

struct listener_config {
	char *address; /* "*" (all, IPv6 dual stack), or a literal IPv4/IPv6
	                         address, optionally written "IP:a.b.c.d" */
	int port;      /* 1..65535; default 5985 (HTTP) / 5986 (HTTPS) */
	enum listener_transport transport;
	char *url_prefix;       /* without slashes, default "wsman" */
	char *certificate_file; /* PEM, HTTPS only; "" when unset */
	char *key_file;         /* PEM, HTTPS only; "" when unset */
	bool enabled;
	int source_line; /* line of the listener entry in the file, 0 if default */
	int certificate_line; /* of its CertificateFile setting, else source_line */
	int key_line;         /* of its KeyFile setting, else source_line */
};

struct winrmd_config {
	/* Service (Windows: winrm/config/service and winrm/config) */
	int64_t max_envelope_size_kb; /* MaxEnvelopeSizekb, default 500, 32..65536 */
	int64_t max_request_bytes; /* MaxRequestBytes: request line and headers
				      (http.sys's name), default 16384 */
	int64_t max_timeout_ms; /* MaxTimeoutms, default 60000, 500..4294967295 */
	int64_t max_connections; /* MaxConnections, default 300, 1..100000 */
	int64_t max_connections_per_address; /* default 30, 1..100000: one IPv4
	                                     address or IPv6 /64 */
	int64_t header_wait_timeout_s; /* HeaderWaitTimeout (http.sys name),
	                                     default 20, 1..3600 */
	int64_t max_concurrent_operations_per_user; /* default 1500, 1..4294967295 */
	bool allow_unencrypted;   /* AllowUnencrypted, default false */
	bool allow_remote_access; /* AllowRemoteAccess, default true */

	/* Service.Auth */
	bool auth_basic;       /* default false */
	bool auth_kerberos;    /* default true */
	bool auth_negotiate;   /* default true */
	bool auth_certificate; /* default false */
	bool auth_credssp; /* default false; true is refused (not supported) */
	enum cbt_level cbt_hardening_level; /* default Relaxed */
	char *keytab; /* Keytab, default "/etc/krb5.keytab" */
	char *ntlm_user_file; /* NtlmUserFile, default "" (gss-ntlmssp default/winbind) */
	char *pam_service;    /* PamService, default "winrmd" */
	char *client_ca_file; /* ClientCAFile, default "": CAs that client
	                             certificates must chain to (PEM) */
	char *tls_priorities; /* Service.TlsPriorities (GnuTLS syntax) */

	/* Listeners */
	struct listener_config *listeners;
	size_t n_listeners;

	/* Winrs (winrm/config/winrs) */
	bool allow_remote_shell_access; /* default true */
	int64_t idle_timeout_ms; /* IdleTimeout, default 7200000, 60000..2147483647 */
	int64_t max_concurrent_users; /* default 2147483647, 1..2147483647 */
	int64_t max_shell_run_time_ms; /* default 2147483647, 60000..2147483647 */
	int64_t max_processes_per_shell; /* default 2147483647, 1..2147483647 */
	int64_t max_memory_per_shell_mb; /* default 2147483647, 1..2147483647 */
	int64_t max_shells_per_user;     /* default 2147483647, 1..2147483647 */
	char **keep_environment; /* KeepEnvironment, default []: names of
	                                     variables of the daemon's own
	                                     environment passed to commands */
	size_t n_keep_environment;

	/* Authorization */
	char **admin_groups; /* AdminGroups, default ["sudo", "wheel"];
	                                     also NULL-terminated */
	size_t n_admin_groups;
	char **remote_users_groups; /* RemoteUsersGroup, default
	                                     ["winrmusers"]; a string in the
	                                     file is a one-item list */
	size_t n_remote_users_groups;
	int local_account_token_filter_policy; /* 0 or 1, default 0 */
	char **trusted_domains; /* TrustedDomains, default []: NTLM
	                                     domains (and UPN suffixes) whose
	                                     users are domain accounts; "NAME"
	                                     or "NETBIOS=dns.name" */
	size_t n_trusted_domains;
	bool kerberos_case_insensitive; /* KerberosCaseInsensitive, default
	                                     false: a principal's local name is
	                                     also tried in lower case */
	int domain_account_names;       /* DomainAccountNames, enum
	                                     account_names, default Short */
	bool basic_domain_accounts;     /* BasicDomainAccounts, default false:
	                                     Basic takes domain accounts too */

	/* Throttling of failed authentications */
	int64_t throttle_max_failures; /* MaxFailures, default 10 */
	int64_t throttle_window_s;     /* FailureWindow, seconds, default 300 */
	int64_t throttle_lockout_s; /* LockoutTime, seconds, default 300; 0 = never refuse */
	int64_t throttle_max_delay_ms; /* MaxDelayms, default 2000 */

	/* Logging */
	int log_level; /* Level: "err".."debug", default "info" */

	/* Daemon (no Windows equivalent) */
	char *user;        /* User, default "winrmd": listener account */
	char *helper_path; /* HelperPath, default LIBEXECDIR "/winrmd/winrmd-priv" */
	char *certmapping_file; /* CertMappingFile, default SYSCONFDIR "/certmapping.conf" */
	char *admin_socket; /* AdminSocket, default "/run/winrmd/admin.sock" */

	/* private */
	atomic_int refcount; /* see config_ref/config_unref */
	char *source; /* file name the config came from, or "<defaults>" */
};

/* Idle keep-alive HTTP connections are closed after this many seconds, as
 * http.sys does after its 2-minute idle timer (the listener; the helper
 * derives how long an idle connection's identity may live from it). */
#define WINRMD_HTTP_IDLE_TIMEOUT_S 120

/* Returns a config holding only defaults (refcount 1). */
struct winrmd_config *config_new_defaults(void);

/*
 * Loads and validates a file.  On success returns a new config (refcount 1)
 * and sets *error_r to NULL.  On failure returns NULL and sets *error_r to a
 * newly allocated text (caller frees) with one line per problem, each
 * "FILE:LINE: KEY: message" (FILE:LINE alone for syntax errors), in file
 * order, separated by "\n" with none after the last.  FILE is the file the
 * problem is in, an @include'd one included; @include names that are not
 * absolute are relative to the directory of path.  Files must be regular
 * and at most 1 MiB, all included files together too.
 */
struct winrmd_config *config_load_file(const char *path, char **error_r);

/* As config_load_file, for text held in memory; name (NULL: "<string>") is
 * used in messages and as the config's source.  Relative @include names are
 * relative to the working directory. */
struct winrmd_config *config_load_string(const char *text, const char *name,
					 char **error_r);

/*
 * Appends the effective configuration, every key with its value, in
 * libconfig syntax to out.  Loading that text gives a config whose dump is
 * byte-identical (the round trip is tested).
 */
void config_dump(const struct winrmd_config *cfg, struct buf *out);

/*
 * Checks the files a configuration names: every enabled HTTPS listener's
 * certificate and, with CONFIG_CHECK_KEYS, its key (readable, PEM,
 * matching), the ClientCAFile and the
 * CertMappingFile.  Separate from loading because only processes that
 * will use the files can read them (the listener reloads from the
 * helper's dump after dropping privileges).  Returns 0, or -1 with
 * *error_r (caller frees): one line per problem, "FILE:LINE: key:
 * message".  *warnings_r (may be NULL; caller frees; NULL when none) gets
 * what is usable but wrong (an expired certificate...), in the same form
 * with "warning: " before the message.
 */
enum config_check_flags {
	CONFIG_CHECK_KEYS = 1 << 0, /* also the private keys (never in the
				       listener: only the helper reads them) */
};
int config_check_files(const struct winrmd_config *cfg, const char *path,
		       unsigned flags, char **error_r, char **warnings_r);

/* Reference counting (atomic).  config_unref frees at zero; NULL is a no-op. */
struct winrmd_config *config_ref(struct winrmd_config *cfg);
void config_unref(struct winrmd_config *cfg);

/*
 * Single global settings by path ("Service.Auth.Basic"), for the
 * winrm/config resources.  config_value_text appends the value as
 * WS-Management writes it ("true", "500", "Relaxed"); -1 for an unknown
 * path or a list.  config_value_literal checks text as a Put body gives
 * it (booleans in any case, decimal integers, enum names) against the
 * key's type and bounds, and appends the libconfig literal; -1 with a
 * static *error_r otherwise (Digest is refused as unsupported).
 */
int config_value_text(const struct winrmd_config *cfg, const char *path,
		      struct buf *out);
int config_value_literal(const char *path, const char *text, struct buf *out,
			 const char **error_r);

/* True for the settings WS-Management clients may change (winrm set on
 * winrm/config, config/service, config/service/auth, config/winrs); the
 * helper refuses any other path, whatever the listener asks. */
bool config_ws_settable(const char *path);

/* Listener helpers. */
const char *
config_transport_name(enum listener_transport t); /* "HTTP"/"HTTPS" */
const char *config_cbt_name(enum cbt_level l); /* "None"/"Relaxed"/"Strict" */
/* "Short"/"Qualified"/"DownLevel" */
const char *config_account_names_name(enum account_names n);

/*
 * A TrustedDomains item: "NAME" (a NetBIOS name such as EXAMPLE, or a DNS
 * name such as example.com) or "NETBIOS=dns.name".  Names hold letters,
 * digits and '.', '-', '_', '$' only, at most 255 bytes; a NetBIOS name
 * has no dot.  NULL when good, else a static reason.
 */
const char *config_domain_ok(const char *item);

#endif
