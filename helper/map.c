/*
 * map.c - authenticated names to account names (see map.h).
 * Must not: consult NSS (the verification child does) or log.
 */
#include "autoconfig.h"

#include "helper/map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unistd.h>

#include <krb5.h>

#include "lib/util.h"

/* This machine, as map_refresh found it. */
static bool refreshed;
static char hostname[256];
static char *default_realm;

void map_refresh(void)
{
	refreshed = true;
	if (gethostname(hostname, sizeof(hostname)) != 0)
		hostname[0] = '\0';
	hostname[sizeof(hostname) - 1] = '\0';
	char *dot = strchr(hostname, '.');
	if (dot != NULL)
		*dot = '\0';
	free(default_realm);
	default_realm = NULL;
	krb5_context kc;
	if (krb5_init_context(&kc) == 0) {
		char *realm = NULL;
		if (krb5_get_default_realm(kc, &realm) == 0) {
			default_realm = xstrdup(realm);
			krb5_free_default_realm(kc, realm);
		}
		krb5_free_context(kc);
	}
}

struct map_rules map_rules_from(const struct winrmd_config *cfg)
{
	if (!refreshed)
		map_refresh();
	struct map_rules r = {
		.hostname = hostname,
		.trusted_domains = cfg->trusted_domains,
		.n_trusted_domains = cfg->n_trusted_domains,
		.default_realm = default_realm,
		.names = (enum account_names)cfg->domain_account_names,
		.basic_domain_accounts = cfg->basic_domain_accounts,
	};
	return r;
}

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

/* A domain part of an account name: n bytes at s. */
static bool domain_part_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_' || c == '$'))
			return false;
	}
	return true;
}

bool map_account_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > MAP_ACCOUNT_MAX)
		return false;
	const char *bs = strchr(name, '\\');
	const char *at = strchr(name, '@');
	char user[MAP_ACCOUNT_MAX + 1];
	if (bs != NULL && at != NULL)
		return false;
	if (bs != NULL) {
		if (!domain_part_ok(name, (size_t)(bs - name)))
			return false;
		return map_name_ok(bs + 1);
	}
	if (at != NULL) {
		if (!domain_part_ok(at + 1, strlen(at + 1)))
			return false;
		memcpy(user, name, (size_t)(at - name));
		user[at - name] = '\0';
		return map_name_ok(user);
	}
	return map_name_ok(name);
}

/* ---- domains: the two names of each (map.h) ---- */

struct domain {
	char netbios[256]; /* upper case */
	char dns[256];     /* lower case; "" when unknown */
};

static void copy_case(char *out, const char *s, size_t n, bool upper)
{
	if (n > 255)
		n = 255;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (upper && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!upper && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[i] = c;
	}
	out[n] = '\0';
}

static bool same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && strncasecmp(a, b, an) == 0;
}

/* The first label of a DNS name, as a NetBIOS name. */
static void first_label(char *out, const char *dns)
{
	const char *dot = strchr(dns, '.');
	copy_case(out, dns, dot != NULL ? (size_t)(dot - dns) : strlen(dns),
		  true);
}

/*
 * Finds the domain that d (n bytes, a NetBIOS or DNS name) names among the
 * trusted domains, and with realm_ok also the default realm.  False when
 * it is none of them.
 */
static bool find_domain(const char *d, size_t n, bool realm_ok,
			const struct map_rules *r, struct domain *out)
{
	const char *realm = r->default_realm;
	size_t rn = realm != NULL ? strlen(realm) : 0;
	out->netbios[0] = out->dns[0] = '\0';
	for (size_t i = 0; i < r->n_trusted_domains; i++) {
		const char *e = r->trusted_domains[i];
		const char *eq = strchr(e, '=');
		if (eq != NULL) {
			size_t nb = (size_t)(eq - e);
			if (same(d, n, e, nb) ||
			    same(d, n, eq + 1, strlen(eq + 1))) {
				copy_case(out->netbios, e, nb, true);
				copy_case(out->dns, eq + 1, strlen(eq + 1),
					  false);
				return true;
			}
			continue;
		}
		if (!same(d, n, e, strlen(e)))
			continue;
		if (strchr(e, '.') != NULL) {
			first_label(out->netbios, e);
			copy_case(out->dns, e, strlen(e), false);
		} else {
			copy_case(out->netbios, e, strlen(e), true);
			char label[256];
			if (realm != NULL) {
				first_label(label, realm);
				if (strcasecmp(label, out->netbios) == 0)
					copy_case(out->dns, realm, rn, false);
			}
		}
		return true;
	}
	if (!realm_ok || realm == NULL || !same(d, n, realm, rn))
		return false;
	/* The default realm: its NetBIOS name from an item that pairs one
	 * with it, else its first label. */
	for (size_t i = 0; i < r->n_trusted_domains; i++) {
		const char *e = r->trusted_domains[i];
		const char *eq = strchr(e, '=');
		if (eq != NULL && strcasecmp(eq + 1, realm) == 0) {
			copy_case(out->netbios, e, (size_t)(eq - e), true);
			copy_case(out->dns, realm, rn, false);
			return true;
		}
	}
	first_label(out->netbios, realm);
	copy_case(out->dns, realm, rn, false);
	return true;
}

/* The account name of user (n bytes) in domain dom, as rules->names
 * spells it. */
static char *domain_account(const char *user, size_t n,
			    const struct domain *dom,
			    const struct map_rules *rules,
			    const char **reason_r)
{
	char *u = xstrndup(user, n);
	char *out = NULL;
	if (!map_name_ok(u)) {
		*reason_r = "not a valid account name";
	} else if (rules->names == ACCOUNT_NAMES_QUALIFIED) {
		if (dom->dns[0] == '\0')
			*reason_r = "the DNS name of this domain is not known: "
				    "write it in Authorization.TrustedDomains "
				    "as \"NETBIOS=dns.name\"";
		else
			out = xasprintf("%s@%s", u, dom->dns);
	} else if (rules->names == ACCOUNT_NAMES_DOWNLEVEL) {
		out = xasprintf("%s\\%s", dom->netbios, u);
	} else {
		out = xstrdup(u);
	}
	free(u);
	if (out != NULL && !map_account_ok(out)) {
		*reason_r = "the account name would be too long";
		free(out);
		out = NULL;
	}
	return out;
}

/* ---- Kerberos ---- */

/* auth_to_local, as before DomainAccountNames existed. */
static char *kerberos_local(krb5_context kc, krb5_principal p,
			    const char **reason_r)
{
	char local[MAP_ACCOUNT_MAX + 1];
	if (krb5_aname_to_localname(kc, p, sizeof(local), local) != 0) {
		*reason_r =
			"no local account for this principal (auth_to_local)";
		return NULL;
	}
	if (!map_account_ok(local)) {
		*reason_r = "auth_to_local gave an unusable account name";
		return NULL;
	}
	return xstrdup(local);
}

char *map_kerberos(const char *principal, const struct map_rules *rules,
		   const char **reason_r)
{
	krb5_context kc;
	krb5_principal p = NULL;
	char *out = NULL;
	if (krb5_init_context(&kc) != 0) {
		*reason_r = "Kerberos library unavailable";
		return NULL;
	}
	if (krb5_parse_name(kc, principal, &p) != 0) {
		*reason_r = "malformed principal name";
	} else if (rules->names == ACCOUNT_NAMES_SHORT) {
		out = kerberos_local(kc, p, reason_r);
	} else if (krb5_princ_size(kc, p) != 1) {
		*reason_r = "a principal with an instance (service/host) is "
			    "no user account";
	} else {
		struct domain dom;
		const krb5_data *user = krb5_princ_component(kc, p, 0);
		const krb5_data *realm = krb5_princ_realm(kc, p);
		if (!find_domain(realm->data, realm->length, true, rules, &dom))
			*reason_r = "realm is neither the default realm nor in "
				    "Authorization.TrustedDomains";
		else
			out = domain_account(user->data, user->length, &dom,
					     rules, reason_r);
	}
	if (p != NULL)
		krb5_free_principal(kc, p);
	krb5_free_context(kc);
	return out;
}

/* ---- NTLM and Basic ---- */

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

/* A name that names a domain: DOMAIN\user (bs) or user@DOMAIN (at). */
static char *map_domain_name(const char *name, const char *bs, const char *at,
			     const struct map_rules *rules,
			     const char **reason_r)
{
	struct domain dom;
	if (bs != NULL) {
		if (!find_domain(name, (size_t)(bs - name), false, rules,
				 &dom)) {
			*reason_r =
				"domain not in Authorization.TrustedDomains";
			return NULL;
		}
		return domain_account(bs + 1, strlen(bs + 1), &dom, rules,
				      reason_r);
	}
	if (!find_domain(at + 1, strlen(at + 1), true, rules, &dom)) {
		*reason_r = "UPN suffix not in Authorization.TrustedDomains";
		return NULL;
	}
	return domain_account(name, (size_t)(at - name), &dom, rules, reason_r);
}

char *map_ntlm(const char *name, const struct map_rules *rules,
	       bool *local_account_r, const char **reason_r)
{
	*local_account_r = false;
	/* gss-ntlmssp shows a user principal name sent without a domain as
	 * "\\alice@example.com" (an enterprise name, empty domain). */
	if (name[0] == '\\' && strchr(name, '@') != NULL)
		name++;
	const char *bs = strchr(name, '\\');
	const char *at = strrchr(name, '@');
	if (bs != NULL &&
	    (bs == name || is_this_host(name, (size_t)(bs - name), rules))) {
		*local_account_r = true;
		return checked(bs + 1, reason_r);
	}
	if (bs != NULL || at != NULL)
		return map_domain_name(name, bs, bs != NULL ? NULL : at, rules,
				       reason_r);
	/* No domain at all: a workgroup (local) account. */
	*local_account_r = true;
	return checked(name, reason_r);
}

char *map_basic(const char *name, const struct map_rules *rules,
		const char **reason_r)
{
	const char *bs = strchr(name, '\\');
	const char *at = strrchr(name, '@');
	if (bs != NULL && is_this_host(name, (size_t)(bs - name), rules))
		return checked(bs + 1, reason_r);
	if (bs == NULL && at == NULL)
		return checked(name, reason_r);
	if (!rules->basic_domain_accounts) {
		*reason_r = "Basic accepts local accounts only "
			    "(Authorization.BasicDomainAccounts is false)";
		return NULL;
	}
	return map_domain_name(name, bs, bs != NULL ? NULL : at, rules,
			       reason_r);
}
