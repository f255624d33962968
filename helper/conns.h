/*
 * conns.h - the helper's table of listener connections that hold
 * authentication state: the GSS context of a handshake, and the identity
 * the helper itself established.  Later requests (encryption, shells) are
 * honoured only for an identity found here, which the listener cannot
 * forge: it can only name a connection.
 */
#ifndef WINRMD_PRIV_CONNS_H
#define WINRMD_PRIV_CONNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <gssapi/gssapi.h>

#include "lib/log.h"

/* Connection ids with this bit are the helper's own: local administration
 * connections it accepted (admin-socket.c).  The listener numbers its
 * connections from 1 upwards and never reaches it. */
#define HCONN_LOCAL_BIT (1ULL << 63)

enum hconn_state {
	HCONN_NEW = 0,
	HCONN_HANDSHAKE, /* GSS context continuing */
	HCONN_VERIFYING, /* a child checks the account; no other request */
	HCONN_AUTHENTICATED,
};

struct hidentity {
	char *claimed; /* as the client named itself */
	char *user;    /* local account */
	uid_t uid;
	gid_t gid;
	unsigned flags;   /* enum priv_identity_flags */
	const char *mech; /* "Kerberos", "NTLM", "Basic" (static) */
};

struct krb5_cfx;

struct hconn {
	uint64_t id;
	enum hconn_state state;
	gss_ctx_id_t ctx; /* GSS_C_NO_CONTEXT unless GSS */
	bool ctx_is_krb5; /* Kerberos (IOV wrap) rather than NTLM */
	/* The client's forwarded Kerberos ticket (GSS_C_DELEG_FLAG), or
	 * GSS_C_NO_CREDENTIAL; goes with the identity (ccache.h). */
	gss_cred_id_t deleg;
	/* The Kerberos context once krb5-cfx.c took it over at the first
	 * encrypted message (ctx is then GSS_C_NO_CONTEXT), or NULL. */
	struct krb5_cfx *cfx;
	char scheme[16];
	char remote[64];
	unsigned port;             /* the client's (0: local) */
	struct hidentity identity; /* valid in HCONN_AUTHENTICATED */
	/* Local connections: the socket the helper accepted (its inode
	 * names it) and the peer's credentials read then. */
	bool local;
	dev_t sock_dev;
	ino_t sock_ino;
	uid_t peer_uid;
	int64_t last_used; /* monotonic ms of the last request naming it */
	unsigned commands; /* commands it spawned that still run (spawn.c) */
	struct hconn *next;
};

/* The connection as audit lines name it (lib/log.h). */
#define HCONN_PEER(c)                                                          \
	(&(const struct audit_peer){ (c)->id, (c)->remote, (c)->port })

/* Finds the connection, or NULL (also when it has just expired, see
 * conns_expire); marks it used. */
struct hconn *conns_find(uint64_t id);
/* Finds or creates (in HCONN_NEW); never NULL (evicts the least recently
 * used unauthenticated entry when the table is full). */
struct hconn *conns_get(uint64_t id);
/* Back to HCONN_NEW: deletes the GSS context and forgets the identity. */
void conns_reset(struct hconn *c);
void conns_remove(uint64_t id);
/* Unlinks and frees c itself (for an entry closed while it verified). */
void conns_discard(struct hconn *c);
void hidentity_release(struct hidentity *id);
/* Why the identity of an authenticated connection may no longer be used
 * (the configuration now disables the method that proved it), or NULL. */
const char *conns_identity_revoked(const struct hconn *c);
/* conns_get for a local connection the helper accepted (id has
 * HCONN_LOCAL_BIT): marks it local. */
struct hconn *conns_new_local(uint64_t id);
/* How many local connections the table holds. */
size_t conns_count_local(void);

/*
 * Expiry of idle entries, so that a listener that never sends CONN_CLOSE
 * cannot keep identities (and GSS contexts) for ever.  An entry expires
 * when no request has named it for longer than the idle limit, unless an
 * account verification or a command it started is still running.
 *
 * conns_idle_limit_ms: the limit for a configuration (see conns.c for
 * the reasoning); conns_set_idle_limit: the one in force (0: none, the
 * start); conns_expire: forgets every expired entry at now_ms, returns
 * how many.  conns_find forgets an expired entry it finds as well.
 */
struct winrmd_config;
int64_t conns_idle_limit_ms(const struct winrmd_config *cfg);
void conns_set_idle_limit(int64_t ms);
size_t conns_expire(int64_t now_ms);

#endif
