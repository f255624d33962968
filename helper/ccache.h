/*
 * ccache.h - delegated Kerberos credentials of shells.  When a client
 * delegates (GSS_C_DELEG_FLAG: pywinrm kerberos_delegation=True, Windows'
 * "trusted for delegation"), the helper keeps the forwarded ticket with
 * the connection (conns.h) and, when that connection runs a command in a
 * shell, writes it to a credential cache of that shell, owned by the user
 * and 0600, which the shell's commands find in KRB5CCNAME; the file goes
 * when the shell ends.  The "second hop", without CredSSP.
 *
 * The files live in <directory of Daemon.AdminSocket>/krb5cc (by default
 * /run/winrmd/krb5cc, winrmd.service's RuntimeDirectory), a directory of
 * root's, 0711: a user opens the file of their shell by its name, and
 * cannot list the others.
 */
#ifndef WINRMD_PRIV_CCACHE_H
#define WINRMD_PRIV_CCACHE_H

#include <sys/types.h>

#include <gssapi/gssapi.h>

/* At start and at stop: makes the directory, and removes every cache
 * left in it (no shell survives the helper). */
void ccache_init(const char *admin_socket);
void ccache_clear(void);
/* Writes cred as the cache of shell_id (a GUID) of uid:gid, atomically
 * (a new file renamed over the old one).  Returns the file's path (the
 * caller frees it; KRB5CCNAME is "FILE:" and the path), or NULL when it
 * could not (logged). */
char *ccache_store(gss_cred_id_t cred, uid_t uid, gid_t gid,
		   const char *shell_id);
void ccache_remove(const char *path);

#endif
