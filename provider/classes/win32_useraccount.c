/*
 * win32_useraccount.c - Win32_UserAccount: the accounts of the name
 * service (getpwent: /etc/passwd, and whatever NSS lists), as local
 * accounts of this computer: Domain is the host name, Caption
 * DOMAIN\name, FullName and Description the GECOS field's first part and
 * all of it, SID the Unix-user SID Samba and winbind give uid N,
 * S-1-22-1-N (SIDType 1, a user); Disabled when the login shell refuses
 * logins (nologin, false).  The password facts (shadow) are not readable
 * by the caller and stay null.  Keys: Domain, Name.
 */
#include "autoconfig.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "provider/provider.h"

PROVIDER_PROP_ENUM(Win32_UserAccount);

static bool no_login(const char *shell)
{
	const char *base = strrchr(shell, '/');
	base = base ? base + 1 : shell;
	return strcmp(base, "nologin") == 0 || strcmp(base, "false") == 0;
}

static void write_account(struct prov_out *o, const struct passwd *pw)
{
	const char *host = sys_hostname();
	char *caption = xasprintf("%s\\%s", host, pw->pw_name);
	char *sid = xasprintf("S-1-22-1-%u", (unsigned)pw->pw_uid);
	const char *gecos = pw->pw_gecos != NULL ? pw->pw_gecos : "";
	char *full = xstrndup(gecos, strcspn(gecos, ","));
	out_begin(o);
	out_uint(o, P_AccountType, 512); /* a normal account */
	out_str(o, P_Caption, caption);
	out_str(o, P_Description, gecos);
	out_bool(o, P_Disabled, no_login(pw->pw_shell ? pw->pw_shell : ""));
	out_str(o, P_Domain, host);
	out_str(o, P_FullName, full);
	out_bool(o, P_LocalAccount, true);
	out_str(o, P_Name, pw->pw_name);
	out_str(o, P_SID, sid);
	out_uint(o, P_SIDType, 1);
	out_str(o, P_Status, "OK");
	out_end(o);
	free(caption);
	free(sid);
	free(full);
}

static int enumerate(struct prov_out *o, char **message)
{
	(void)message;
	const char *domain = prov_hint(o->req, "Domain");
	const char *name = prov_hint(o->req, "Name");
	if (domain != NULL && strcasecmp(domain, sys_hostname()) != 0)
		return 0; /* not an account of this computer */
	if (name != NULL) {
		struct passwd *pw = getpwnam(name);
		if (pw != NULL)
			write_account(o, pw);
		return 0;
	}
	setpwent();
	struct passwd *pw;
	unsigned n = 0;
	while ((pw = getpwent()) != NULL && n++ < 1000000)
		write_account(o, pw);
	endpwent();
	return 0;
}

const struct provider_class provider_Win32_UserAccount = { enumerate, NULL };
