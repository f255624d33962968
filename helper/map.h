/*
 * map.h - from an authenticated name to a local account name, the POSIX
 * version of Windows' account resolution:
 *   Kerberos principal      -> krb5_aname_to_localname (auth_to_local)
 *   NTLM HOSTNAME\user      -> local account "user" (a local account)
 *   NTLM user (no domain)   -> local account "user" (a local account)
 *   NTLM DOMAIN\user, user@DOMAIN -> "user" when DOMAIN is trusted
 *   Basic user, HOSTNAME\user, .\user -> "user" (local accounts only)
 * Anything else is unmapped and refused.  Whether the account exists is
 * checked later (with NSS, in the verification child).
 */
#ifndef WINRMD_PRIV_MAP_H
#define WINRMD_PRIV_MAP_H

#include <stdbool.h>
#include <stddef.h>

struct map_rules {
	const char *hostname;         /* this machine's short name */
	char *const *trusted_domains; /* NTLM domains / UPN suffixes */
	size_t n_trusted_domains;
	const char *default_realm; /* Kerberos default realm, may be NULL */
};

/* Each returns a newly allocated local name (caller frees) or NULL with
 * *reason_r set to a static explanation. */
char *map_kerberos(const char *principal, const char **reason_r);
char *map_ntlm(const char *name, const struct map_rules *rules,
	       bool *local_account_r, const char **reason_r);
char *map_basic(const char *name, const struct map_rules *rules,
		const char **reason_r);

/* True for names that are safe as POSIX account names (no '/', ':',
 * control characters, not "." or "..", at most 64 bytes). */
bool map_name_ok(const char *name);

#endif
