/*
 * authz.c - group-based authorization (see authz.h).  Runs in the
 * verification child: NSS lookups may block on a directory service.
 * Must not: log (the caller audits the decision with the reason).
 */
#include "autoconfig.h"

#include "helper/authz.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/priv/proto.h"
#include "lib/util.h"

/* Is gid among the user's groups?  -1 on a lookup error. */
static int in_group(const char *group, const gid_t *gids, int n)
{
	errno = 0;
	struct group *g = getgrnam(group);
	if (g == NULL)
		return errno == 0 || errno == ENOENT || errno == ESRCH ? 0 : -1;
	for (int i = 0; i < n; i++)
		if (gids[i] == g->gr_gid)
			return 1;
	return 0;
}

unsigned authz_decide(const char *user, uid_t uid, gid_t gid, bool ntlm_local,
		      const struct authz_rules *rules, char *reason,
		      size_t reason_len)
{
	reason[0] = '\0';
	if (uid == 0) {
		snprintf(reason, reason_len, "root");
		return PRIV_ID_AUTHORIZED | PRIV_ID_ADMIN;
	}
	int n = 64;
	gid_t *gids = NULL;
	for (int tries = 0; tries < 8; tries++) {
		gids = xrealloc(gids, sizeof(*gids) * (size_t)n);
		int want = n;
		if (getgrouplist(user, gid, gids, &want) >= 0) {
			n = want;
			break;
		}
		if (want <= n) {
			free(gids);
			snprintf(reason, reason_len, "group lookup failed");
			return 0;
		}
		n = want;
		if (tries == 7) {
			free(gids);
			snprintf(reason, reason_len, "group lookup failed");
			return 0;
		}
	}

	unsigned flags = 0;
	for (size_t i = 0; i < rules->n_admin_groups; i++) {
		int r = in_group(rules->admin_groups[i], gids, n);
		if (r < 0) {
			free(gids);
			snprintf(reason, reason_len,
				 "lookup of group %s failed",
				 rules->admin_groups[i]);
			return 0;
		}
		if (r == 1) {
			if (ntlm_local &&
			    rules->local_account_token_filter_policy == 0) {
				/* Remote UAC: a local account proven by NTLM
				 * gets a filtered, non-admin token. */
				snprintf(
					reason, reason_len,
					"member of %s, but a local account over NTLM "
					"is not an administrator while "
					"LocalAccountTokenFilterPolicy is 0",
					rules->admin_groups[i]);
				continue;
			}
			snprintf(reason, reason_len, "member of admin group %s",
				 rules->admin_groups[i]);
			flags = PRIV_ID_AUTHORIZED | PRIV_ID_ADMIN;
			break;
		}
	}
	for (size_t i = 0; flags == 0 && i < rules->n_remote_users_groups;
	     i++) {
		const char *g = rules->remote_users_groups[i];
		int r = in_group(g, gids, n);
		if (r < 0) {
			free(gids);
			snprintf(reason, reason_len,
				 "lookup of group %s failed", g);
			return 0;
		}
		if (r == 1) {
			snprintf(reason, reason_len,
				 "member of remote users group %s", g);
			flags = PRIV_ID_AUTHORIZED;
		}
	}
	free(gids);
	if (flags == 0 &&
	    strstr(reason, "LocalAccountTokenFilterPolicy") == NULL)
		snprintf(
			reason, reason_len,
			"not root and not a member of an admin group or of the "
			"remote users group");
	return flags;
}
