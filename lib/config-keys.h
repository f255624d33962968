/*
 * config-keys.h - the one table of winrmd.conf settings.
 *
 * Every setting is declared here once, as an X-macro list (the OpenSSH
 * servconf.h idea).  config.c expands it into the key descriptor array from
 * which defaults, parsing, validation and the dump are all generated; the
 * unit test expands it to check that the shipped winrmd.conf and the man
 * page mention every key.  Nothing else may list keys.
 *
 * CONFIG_KEYS(BOOL, INT, STR, ENUM, LIST) calls, per key, in dump order:
 *
 *   BOOL(scope, path, field, default, flags)
 *   INT (scope, path, field, default, min, max, flags)
 *        any integer field (int or int64_t); bounds are inclusive
 *   STR (scope, path, field, default, flags)         char *, owned
 *   ENUM(scope, path, field, default, values, flags)
 *        a string from a fixed set (matched case-insensitively), stored as
 *        an int; "values" names a "struct enum_def enum_<values>" in config.c
 *   LIST(scope, path, field, count field, default, flags)
 *        an array of strings: char ** + size_t, both owned; the default is a
 *        NULL-terminated array
 *
 * scope is GLOBAL (field of struct winrmd_config, path from the root) or
 * LISTENER (field of struct listener_config, path relative to one group of
 * the Listeners list).  Keys of one group must be adjacent, and all LISTENER
 * keys adjacent: the dump opens and closes groups as the paths change.
 */
#ifndef WINRMD_CONFIG_KEYS_H
#define WINRMD_CONFIG_KEYS_H

#include "lib/config.h"
#include "lib/log.h"

/* The top-level list that holds one group per listener. */
#define CONFIG_LISTENERS_KEY "Listeners"

/* Extra checks a key asks for (the flags column). */
enum config_key_flags {
	CK_NONEMPTY = 1 << 0,    /* string (each list item) must not be "" */
	CK_UNSUPPORTED = 1 << 1, /* bool: true is refused, the method is not
	                              implemented */
	CK_ADDRESS = 1 << 2,     /* "*" or literal IPv4/IPv6, "IP:" prefix
	                              accepted and dropped */
	CK_URL_SEGMENT = 1 << 3, /* only [A-Za-z0-9._-], no slashes */
	CK_PORT = 1 << 4,        /* default 0: 5985 (HTTP) or 5986 (HTTPS) */
	CK_HTTPS_ONLY = 1 << 5,  /* required for HTTPS, must be "" for HTTP */
	CK_TLS_PRIORITIES = 1 << 6, /* a GnuTLS priority string */
	CK_STRING_OK = 1 << 7,      /* list: a single string stands for a
	                               one-item list, "" for an empty one */
	CK_DOMAIN = 1 << 8,         /* list item: a domain, "NAME" or
	                               "NETBIOS=dns.name" (config_domain_ok) */
	CK_ROOT_FILE = 1 << 9,      /* a file the root helper reads: set over
	                               WS-Management, it must be "" or a
	                               regular file owned by root that
	                               group and others cannot write */
};

#define CONFIG_KEYS(BOOL, INT, STR, ENUM, LIST)                                 \
	/* Service: winrm/config and winrm/config/service */                    \
	INT(GLOBAL, "Service.MaxEnvelopeSizekb", max_envelope_size_kb, 500,     \
	    32, 65536, 0)                                                       \
	INT(GLOBAL, "Service.MaxRequestBytes", max_request_bytes, 16384, 4096,  \
	    1048576, 0)                                                         \
	INT(GLOBAL, "Service.MaxTimeoutms", max_timeout_ms, 60000, 500,         \
	    4294967295LL, 0)                                                    \
	INT(GLOBAL, "Service.MaxConnections", max_connections, 300, 1, 100000,  \
	    0)                                                                  \
	INT(GLOBAL, "Service.MaxConnectionsPerAddress",                         \
	    max_connections_per_address, 30, 1, 100000, 0)                      \
	INT(GLOBAL, "Service.HeaderWaitTimeout", header_wait_timeout_s, 20, 1,  \
	    3600, 0)                                                            \
	INT(GLOBAL, "Service.MaxConcurrentOperationsPerUser",                   \
	    max_concurrent_operations_per_user, 1500, 1, 4294967295LL, 0)       \
	INT(GLOBAL, "Service.EnumerationTimeoutms", enumeration_timeout_ms,     \
	    240000, 500, 4294967295LL, 0)                                       \
	BOOL(GLOBAL, "Service.AllowUnencrypted", allow_unencrypted, false, 0)   \
	BOOL(GLOBAL, "Service.AllowRemoteAccess", allow_remote_access, true,    \
	     0)                                                                 \
	/* Service.Auth: winrm/config/service/auth */                           \
	BOOL(GLOBAL, "Service.Auth.Basic", auth_basic, false, 0)                \
	BOOL(GLOBAL, "Service.Auth.Kerberos", auth_kerberos, true, 0)           \
	BOOL(GLOBAL, "Service.Auth.Negotiate", auth_negotiate, true, 0)         \
	BOOL(GLOBAL, "Service.Auth.Certificate", auth_certificate, false, 0)    \
	BOOL(GLOBAL, "Service.Auth.CredSSP", auth_credssp, false,               \
	     CK_UNSUPPORTED)                                                    \
	ENUM(GLOBAL, "Service.Auth.CbtHardeningLevel", cbt_hardening_level,     \
	     CBT_RELAXED, cbt, 0)                                               \
	STR(GLOBAL, "Service.Auth.Keytab", keytab, "/etc/krb5.keytab",          \
	    CK_NONEMPTY | CK_ROOT_FILE)                                         \
	STR(GLOBAL, "Service.Auth.NtlmUserFile", ntlm_user_file, "",            \
	    CK_ROOT_FILE)                                                       \
	STR(GLOBAL, "Service.Auth.PamService", pam_service, "winrmd",           \
	    CK_NONEMPTY)                                                        \
	STR(GLOBAL, "Service.Auth.ClientCAFile", client_ca_file, "", 0)         \
	STR(GLOBAL, "Service.TlsPriorities", tls_priorities,                    \
	    CONFIG_DEFAULT_TLS_PRIORITIES, CK_NONEMPTY | CK_TLS_PRIORITIES)     \
	/* Listeners: one group per listener (winrm/config/listener) */         \
	STR(LISTENER, "Address", address, "*", CK_ADDRESS)                      \
	INT(LISTENER, "Port", port, 0, 1, 65535, CK_PORT)                       \
	ENUM(LISTENER, "Transport", transport, TRANSPORT_HTTP, transport, 0)    \
	STR(LISTENER, "URLPrefix", url_prefix, "wsman",                         \
	    CK_NONEMPTY | CK_URL_SEGMENT)                                       \
	STR(LISTENER, "CertificateFile", certificate_file, "", CK_HTTPS_ONLY)   \
	STR(LISTENER, "KeyFile", key_file, "", CK_HTTPS_ONLY)                   \
	BOOL(LISTENER, "Enabled", enabled, true, 0)                             \
	/* the host name clients use for it (Windows' Hostname; winrmd -t     \
	 * warns when an HTTPS listener's certificate does not name it) */ \
	STR(LISTENER, "Hostname", hostname, "", 0)                              \
	/* Winrs: winrm/config/winrs */                                         \
	BOOL(GLOBAL, "Winrs.AllowRemoteShellAccess",                            \
	     allow_remote_shell_access, true, 0)                                \
	INT(GLOBAL, "Winrs.IdleTimeout", idle_timeout_ms, 7200000, 60000,       \
	    2147483647, 0)                                                      \
	INT(GLOBAL, "Winrs.MaxConcurrentUsers", max_concurrent_users,           \
	    2147483647, 1, 2147483647, 0)                                       \
	INT(GLOBAL, "Winrs.MaxShellRunTime", max_shell_run_time_ms,             \
	    2147483647, 60000, 2147483647, 0)                                   \
	INT(GLOBAL, "Winrs.MaxProcessesPerShell", max_processes_per_shell,      \
	    2147483647, 1, 2147483647, 0)                                       \
	INT(GLOBAL, "Winrs.MaxMemoryPerShellMB", max_memory_per_shell_mb,       \
	    2147483647, 1, 2147483647, 0)                                       \
	INT(GLOBAL, "Winrs.MaxShellsPerUser", max_shells_per_user, 2147483647,  \
	    1, 2147483647, 0)                                                   \
	LIST(GLOBAL, "Winrs.KeepEnvironment", keep_environment,                 \
	     n_keep_environment, CONFIG_DEFAULT_EMPTY_LIST, CK_NONEMPTY)        \
	/* Wmi: the WMI provider hosts (no Windows equivalent) */               \
	STR(GLOBAL, "Wmi.ProviderPath", wmi_provider_path,                      \
	    WINRMD_LIBEXECDIR "/winrmd-wmi", CK_NONEMPTY)                       \
	INT(GLOBAL, "Wmi.ProviderIdleTimeout", wmi_provider_idle_s, 60, 1,      \
	    86400, 0)                                                           \
	/* Authorization: POSIX groups standing in for Windows groups */        \
	LIST(GLOBAL, "Authorization.AdminGroups", admin_groups,                 \
	     n_admin_groups, CONFIG_DEFAULT_ADMIN_GROUPS, CK_NONEMPTY)          \
	LIST(GLOBAL, "Authorization.RemoteUsersGroup", remote_users_groups,     \
	     n_remote_users_groups, CONFIG_DEFAULT_REMOTE_USERS,                \
	     CK_NONEMPTY | CK_STRING_OK)                                        \
	INT(GLOBAL, "Authorization.LocalAccountTokenFilterPolicy",              \
	    local_account_token_filter_policy, 0, 0, 1, 0)                      \
	LIST(GLOBAL, "Authorization.TrustedDomains", trusted_domains,           \
	     n_trusted_domains, CONFIG_DEFAULT_EMPTY_LIST,                      \
	     CK_NONEMPTY | CK_DOMAIN)                                           \
	BOOL(GLOBAL, "Authorization.KerberosCaseInsensitive",                   \
	     kerberos_case_insensitive, false, 0)                               \
	/* Authorization: domain accounts as NSS names them (sssd, winbind) */  \
	ENUM(GLOBAL, "Authorization.DomainAccountNames", domain_account_names,  \
	     ACCOUNT_NAMES_SHORT, account_names, 0)                             \
	BOOL(GLOBAL, "Authorization.BasicDomainAccounts",                       \
	     basic_domain_accounts, false, 0)                                   \
	/* Throttling of failed authentications */                              \
	INT(GLOBAL, "Throttling.MaxFailures", throttle_max_failures, 10, 1,     \
	    1000000, 0)                                                         \
	INT(GLOBAL, "Throttling.FailureWindow", throttle_window_s, 300, 1,      \
	    86400, 0)                                                           \
	INT(GLOBAL, "Throttling.LockoutTime", throttle_lockout_s, 300, 0,       \
	    86400, 0)                                                           \
	INT(GLOBAL, "Throttling.MaxDelayms", throttle_max_delay_ms, 2000, 0,    \
	    60000, 0)                                                           \
	/* Logging */                                                           \
	ENUM(GLOBAL, "Logging.Level", log_level, LOG_LVL_INFO, log_level, 0)    \
	/* Logging: the audit trail also to syslog's authpriv facility */       \
	BOOL(GLOBAL, "Logging.AuditSyslog", audit_syslog, false, 0)             \
	/* Daemon: no Windows equivalent */                                     \
	STR(GLOBAL, "Daemon.User", user, "winrmd", CK_NONEMPTY)                 \
	STR(GLOBAL, "Daemon.HelperPath", helper_path,                           \
	    WINRMD_LIBEXECDIR "/winrmd-priv", CK_NONEMPTY)                      \
	STR(GLOBAL, "Daemon.CertMappingFile", certmapping_file,                 \
	    WINRMD_SYSCONFDIR "/certmapping.conf", CK_NONEMPTY)                 \
	STR(GLOBAL, "Daemon.AdminSocket", admin_socket,                         \
	    WINRMD_RUNSTATEDIR "/admin.sock", CK_NONEMPTY)

/* GnuTLS priorities of the HTTPS listeners: TLS 1.2 and 1.3 only, the
 * "SECURE" cipher set (AEAD and forward secrecy first), and SECURE's key
 * exchange groups with X25519 first.  OpenSSL clients (Python, curl,
 * Go's crypto/tls too) send a TLS 1.3 key share for X25519 alone: a
 * server preferring secp256r1 (SECURE's order) answers it with a
 * HelloRetryRequest, a second ClientHello and a second round trip, which
 * cost a third of the handshake rate (bench/run.sh tls: 725 against 1,122
 * handshakes/s with a P-256 certificate). */
#define CONFIG_DEFAULT_TLS_PRIORITIES                                          \
	"SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-GROUP-ALL:+GROUP-X25519:" \
	"+GROUP-EC-ALL:+GROUP-DH-ALL:%SERVER_PRECEDENCE"

/* An empty list default. */
#define CONFIG_DEFAULT_EMPTY_LIST ((const char *const[]){ NULL })

/* Default of Authorization.RemoteUsersGroup. */
#define CONFIG_DEFAULT_REMOTE_USERS                                            \
	((const char *const[]){ "winrmusers", NULL })

/* Default of Authorization.AdminGroups (a NULL-terminated array). */
#define CONFIG_DEFAULT_ADMIN_GROUPS                                            \
	((const char *const[]){ "sudo", "wheel", NULL })

#endif
