/*
 * map.h - from an authenticated name to an account name as NSS knows it,
 * the POSIX version of Windows' account resolution:
 *   Kerberos principal      -> krb5_aname_to_localname (auth_to_local)
 *                              with DomainAccountNames = Short, else the
 *                              principal user@REALM as a domain account
 *   NTLM HOSTNAME\user      -> local account "user" (a local account)
 *   NTLM user (no domain)   -> local account "user" (a local account)
 *   NTLM DOMAIN\user, user@DOMAIN -> a domain account when DOMAIN is
 *                              trusted (or, for user@, the default realm)
 *   Basic user, HOSTNAME\user, .\user -> "user" (local accounts); domain
 *                              accounts only with BasicDomainAccounts
 * A domain account is spelled as Authorization.DomainAccountNames says:
 *   Short      alice               (sssd without fully qualified names)
 *   Qualified  alice@example.com   (sssd with use_fully_qualified_names;
 *                                   the DNS name, in lower case)
 *   DownLevel  EXAMPLE\alice       (winbind; the NetBIOS name, upper case)
 * A domain's two names come from Authorization.TrustedDomains: an item
 * "EXAMPLE=example.com" pairs them; a NetBIOS name alone gets the default
 * realm's DNS name when it is that realm's first label, a DNS name alone
 * gets its first label as NetBIOS name, and the default realm EXAMPLE.COM
 * is the pair EXAMPLE=example.com unless an item says otherwise.
 * Anything else is unmapped and refused.  Whether the account exists is
 * checked later (with NSS, in the verification child).
 * Must not: consult NSS (the verification child does) or log.
 * Entry points: map_rules_from, map_refresh, map_kerberos, map_ntlm,
 * map_basic, map_name_ok, map_account_ok.
 */
#ifndef WINRMD_PRIV_MAP_H
#define WINRMD_PRIV_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/config.h"

/* Longest mapped account name, in bytes (Linux's LOGIN_NAME_MAX - 1). */
#define MAP_ACCOUNT_MAX 255

struct map_rules {
	const char *hostname;         /* this machine's short name */
	char *const *trusted_domains; /* Authorization.TrustedDomains */
	size_t n_trusted_domains;
	const char *default_realm;  /* Kerberos default realm, may be NULL */
	enum account_names names;   /* DomainAccountNames */
	bool basic_domain_accounts; /* BasicDomainAccounts */
};

/*
 * The rules of cfg, with this machine's short host name and the Kerberos
 * default realm as map_refresh last found them (it runs on first use; the
 * helper calls it again after every configuration change).  The strings
 * stay valid until the next map_refresh or until cfg is released.
 */
struct map_rules map_rules_from(const struct winrmd_config *cfg);
void map_refresh(void);

/* Each returns a newly allocated account name (caller frees) or NULL with
 * *reason_r set to a static explanation. */
char *map_kerberos(const char *principal, const struct map_rules *rules,
		   const char **reason_r);
char *map_ntlm(const char *name, const struct map_rules *rules,
	       bool *local_account_r, const char **reason_r);
char *map_basic(const char *name, const struct map_rules *rules,
		const char **reason_r);

/* True for names that are safe as the user part of an account name (no
 * '/', ':', '\', '@', blanks or control characters, not "." or "..", not
 * starting with '-', at most 64 bytes). */
bool map_name_ok(const char *name);

/* True for a whole account name: a user part (map_name_ok), alone or as
 * user@domain or DOMAIN\user (the domain of letters, digits, '.', '-',
 * '_', '$'), at most MAP_ACCOUNT_MAX bytes.  What auth_to_local gives
 * (sssd's localauth plugin gives alice@example.com) must pass it. */
bool map_account_ok(const char *name);

#endif
