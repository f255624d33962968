/*
 * win32_group.c - Win32_Group: the groups of the name service (getgrent:
 * /etc/group, and whatever NSS lists), as local groups of this computer:
 * Domain is the host name, Caption DOMAIN\name, SID the Unix-group SID
 * Samba and winbind give gid N, S-1-22-2-N, SIDType 4 (an alias, as
 * Windows' local groups).  Keys: Domain, Name.
 */
#include "autoconfig.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "provider/provider.h"

PROVIDER_PROP_ENUM(Win32_Group);

static void write_group(struct prov_out *o, const struct group *gr)
{
	const char *host = sys_hostname();
	char *caption = xasprintf("%s\\%s", host, gr->gr_name);
	char *sid = xasprintf("S-1-22-2-%u", (unsigned)gr->gr_gid);
	out_begin(o);
	out_str(o, P_Caption, caption);
	out_str(o, P_Domain, host);
	out_bool(o, P_LocalAccount, true);
	out_str(o, P_Name, gr->gr_name);
	out_str(o, P_SID, sid);
	out_uint(o, P_SIDType, 4);
	out_str(o, P_Status, "OK");
	out_end(o);
	free(caption);
	free(sid);
}

static int enumerate(struct prov_out *o, char **message)
{
	(void)message;
	const char *domain = prov_hint(o->req, "Domain");
	const char *name = prov_hint(o->req, "Name");
	if (domain != NULL && strcasecmp(domain, sys_hostname()) != 0)
		return 0; /* not a group of this computer */
	if (name != NULL) {
		struct group *gr = getgrnam(name);
		if (gr != NULL)
			write_group(o, gr);
		return 0;
	}
	setgrent();
	struct group *gr;
	unsigned n = 0;
	while ((gr = getgrent()) != NULL && n++ < 1000000)
		write_group(o, gr);
	endgrent();
	return 0;
}

const struct provider_class provider_Win32_Group = { enumerate, NULL };
