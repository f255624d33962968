/*
 * authz.h - may this local account use WinRM, and as an administrator?
 *
 * The POSIX version of Windows' rules: root and members of
 * Authorization.AdminGroups are administrators (the local Administrators
 * group); members of one of the Authorization.RemoteUsersGroup groups may
 * connect without being administrators (Remote Management Users /
 * WinRMRemoteWMIUsers__).  Group names are NSS's, AD groups as sssd or
 * winbind spell them included ("winrm users@example.com").
 * With NTLM on a local account and LocalAccountTokenFilterPolicy = 0 the
 * admin groups do not count (remote UAC filtering): only root stays an
 * administrator.  Primary and supplementary groups come from NSS.  Deny by
 * default: empty lists admit nobody but root, and any lookup error denies.
 */
#ifndef WINRMD_PRIV_AUTHZ_H
#define WINRMD_PRIV_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct authz_rules {
	char *const *admin_groups;
	size_t n_admin_groups;
	char *const *remote_users_groups;
	size_t n_remote_users_groups; /* 0: none */
	int local_account_token_filter_policy;
};

/* Returns PRIV_ID_AUTHORIZED | PRIV_ID_ADMIN bits (0: refused) and writes
 * the reason ("member of sudo", "not a member of ...") to reason. */
unsigned authz_decide(const char *user, uid_t uid, gid_t gid, bool ntlm_local,
		      const struct authz_rules *rules, char *reason,
		      size_t reason_len);

#endif
