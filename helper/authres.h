/*
 * authres.h - what every authentication method of the helper does the
 * same way: throttling checks, the audit lines, the verification of the
 * mapped account, and the (possibly delayed) PRIV_AUTH_RESULT answer.
 */
#ifndef WINRMD_PRIV_AUTHRES_H
#define WINRMD_PRIV_AUTHRES_H

#include <stdbool.h>
#include <stdint.h>

#include "helper/conns.h"
#include "lib/priv/msg.h"

/* One authentication waiting for its verification child. */
struct auth_attempt {
	uint32_t seq; /* the listener's request */
	struct hconn *conn;
	struct audit_peer peer; /* the connection's, for the audit lines
	                           (its address: peer_addr) */
	char peer_addr[64];
	const char *method; /* "Negotiate", "Kerberos", "Basic" (static) */
	const char *mech;   /* "Kerberos", "NTLM", "Basic" (static) */
	char *claimed;      /* owned */
	char *account;      /* mapped local name: the throttling key (owned) */
	struct buf token;   /* final GSS token for the OK answer */
	bool ntlm_local;
	bool fold_case; /* the account may match in lower case
	                            (see verify_start) */
};

/*
 * True when the peer's address (or the account, when user is not NULL)
 * is locked out; then request seq is answered THROTTLED and the refusal
 * is audited (with claimed, the name the client gave, when not NULL).
 */
bool authres_locked(uint32_t seq, const struct audit_peer *peer,
		    const char *claimed, const char *user, const char *method);

/* Audits a failure, counts it against the address (and the account when
 * user is not NULL; a lockout that begins is audited too) and answers
 * DENIED after the throttling delay. */
void authres_refuse(uint32_t seq, const struct audit_peer *peer,
		    const char *method, const char *claimed, const char *user,
		    const char *reason);

/* A new attempt for request seq on conn (caller hands it to
 * authres_verify); claimed is taken over, method and mech are static. */
struct auth_attempt *authres_attempt_new(uint32_t seq, struct hconn *conn,
					 const char *method, const char *mech,
					 char *claimed);

/* Starts the account verification of an attempt (takes it over). */
void authres_verify(struct auth_attempt *a, const char *local_user,
		    const char *password);

void auth_attempt_free(struct auth_attempt *a);

#endif
