/*
 * map.c - authenticated names to local account names (see map.h).
 * Must not: consult NSS (the verification child does) or log.
 */
#include "autoconfig.h"

#include "helper/map.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <krb5.h>

#include "lib/util.h"

bool map_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f || c == '/' || c == ':' ||
		    c == '\\' || c == '@' || c == ' ')
			return false;
	}
	return true;
}

char *map_kerberos(const char *principal, const char **reason_r)
{
	krb5_context kc;
	krb5_principal p = NULL;
	char local[256];
	char *out = NULL;
	if (krb5_init_context(&kc) != 0) {
		*reason_r = "Kerberos library unavailable";
		return NULL;
	}
	if (krb5_parse_name(kc, principal, &p) != 0) {
		*reason_r = "malformed principal name";
	} else if (krb5_aname_to_localname(kc, p, sizeof(local), local) != 0) {
		*reason_r =
			"no local account for this principal (auth_to_local)";
	} else if (!map_name_ok(local)) {
		*reason_r = "auth_to_local gave an unusable account name";
	} else {
		out = xstrdup(local);
	}
	if (p != NULL)
		krb5_free_principal(kc, p);
	krb5_free_context(kc);
	return out;
}

static bool trusted(const char *domain, size_t n, const struct map_rules *rules)
{
	for (size_t i = 0; i < rules->n_trusted_domains; i++)
		if (strlen(rules->trusted_domains[i]) == n &&
		    strncasecmp(rules->trusted_domains[i], domain, n) == 0)
			return true;
	return false;
}

static bool is_this_host(const char *domain, size_t n,
			 const struct map_rules *rules)
{
	return (n == 1 && domain[0] == '.') ||
	       (rules->hostname != NULL && strlen(rules->hostname) == n &&
		strncasecmp(rules->hostname, domain, n) == 0);
}

static char *checked(const char *user, const char **reason_r)
{
	if (!map_name_ok(user)) {
		*reason_r = "not a valid account name";
		return NULL;
	}
	return xstrdup(user);
}

char *map_ntlm(const char *name, const struct map_rules *rules,
	       bool *local_account_r, const char **reason_r)
{
	const char *bs = strchr(name, '\\');
	const char *at = strrchr(name, '@');
	*local_account_r = false;
	if (bs != NULL) {
		size_t dn = (size_t)(bs - name);
		if (dn == 0 || is_this_host(name, dn, rules)) {
			*local_account_r = true;
			return checked(bs + 1, reason_r);
		}
		if (trusted(name, dn, rules))
			return checked(bs + 1, reason_r);
		*reason_r = "domain not in Authorization.TrustedDomains";
		return NULL;
	}
	if (at != NULL) {
		size_t dn = strlen(at + 1);
		if (trusted(at + 1, dn, rules) ||
		    (rules->default_realm != NULL &&
		     strcasecmp(at + 1, rules->default_realm) == 0)) {
			char *user = xstrndup(name, (size_t)(at - name));
			char *out = checked(user, reason_r);
			free(user);
			return out;
		}
		*reason_r = "UPN suffix not in Authorization.TrustedDomains";
		return NULL;
	}
	/* No domain at all: a workgroup (local) account. */
	*local_account_r = true;
	return checked(name, reason_r);
}

char *map_basic(const char *name, const struct map_rules *rules,
		const char **reason_r)
{
	const char *bs = strchr(name, '\\');
	if (bs != NULL) {
		size_t dn = (size_t)(bs - name);
		if (!is_this_host(name, dn, rules)) {
			*reason_r = "Basic accepts local accounts only";
			return NULL;
		}
		return checked(bs + 1, reason_r);
	}
	if (strchr(name, '@') != NULL) {
		*reason_r = "Basic accepts local accounts only";
		return NULL;
	}
	return checked(name, reason_r);
}
