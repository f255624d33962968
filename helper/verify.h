/*
 * verify.h - the blocking part of an authentication, in a short-lived
 * child of the helper: PAM (pam_authenticate for Basic, pam_acct_mgmt for
 * every method: locked or expired accounts are refused even with a valid
 * ticket), the NSS account lookup, and the group-based authorization.  A
 * slow PAM stack or directory service stalls nobody: the helper's loop
 * goes on and collects the child's verdict from a pipe.
 */
#ifndef WINRMD_PRIV_VERIFY_H
#define WINRMD_PRIV_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

struct verify_result {
	bool authenticated; /* password (if any) and account are good */
	char user[256];     /* the account's name as NSS spells it */
	uint32_t uid, gid;
	uint32_t flags;         /* enum priv_identity_flags */
	char reason[200];       /* why not authenticated */
	char authz_reason[200]; /* the authorization decision, for the audit */
};

typedef void (*verify_cb)(void *arg, const struct verify_result *res);

/*
 * Starts the verification of local account user ("#<uid>": the account
 * of that uid, looked up in the child); password is NULL when
 * the identity was already proven (GSSAPI).  fold_case: when user is no
 * account, its lower-case spelling is tried too (only where the name's
 * directory compares without case: NTLM, Basic, or Kerberos with
 * Authorization.KerberosCaseInsensitive).  cb runs once from the helper's
 * loop.  The child gets a copy of the password; the caller wipes its own.
 */
void verify_start(const struct winrmd_config *cfg, const char *user,
		  const char *password, const char *remote, bool ntlm_local,
		  bool fold_case, verify_cb cb, void *arg);

#endif
