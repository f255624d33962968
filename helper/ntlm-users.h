/*
 * ntlm-users.h - why gss-ntlmssp refused an NTLM login, in words an
 * administrator can act on.  gss-ntlmssp reports an unknown user as
 * "No such file or directory" (ENOENT) or, with a domain, as "Permission
 * denied" (EACCES, from its winbind fallback), and a wrong password as
 * "Invalid argument" (EINVAL); none says which.  The helper (root) reads
 * the NTLM user file itself, as gss-ntlmssp does, and tells the cases
 * apart: the user is not in the file, is there only under another domain
 * than the client sent, or is there and the password did not match.
 *
 * The file's format is gss-ntlmssp's: "DOMAIN:USER:PASSWORD" lines, or
 * smbpasswd lines "[DOMAIN\]USER:UID:LMHASH:NTHASH:..."; '#' starts a
 * comment line.  A line matches when its user name equals the client's
 * (without case) and its domain does too, unless either has none; a user
 * principal name (alice@example.com, sent without a domain) only matches
 * a line with an empty domain (":alice@example.com:PASSWORD"), as
 * gss-ntlmssp looks it up.
 *
 * Must not: log, or put a password or hash in the text.
 * Entry point: ntlm_users_explain.
 */
#ifndef WINRMD_PRIV_NTLM_USERS_H
#define WINRMD_PRIV_NTLM_USERS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Explains the refusal of claimed ("DOMAIN\user" or "user", as
 * ntlm_claimed gives it) by the user file at path (NULL or "": none, so
 * gss-ntlmssp asked winbind), given the failure's minor code (an errno
 * value).  Writes one line to out and returns true, or returns false when
 * it knows nothing better than the GSSAPI text.
 */
bool ntlm_users_explain(const char *path, const char *claimed, long minor,
			char *out, size_t n);

#endif
