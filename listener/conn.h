/*
 * conn.h - per-TCP-connection state of the listener.
 *
 * Created when libmicrohttpd accepts a connection (MHD_CONNECTION_NOTIFY_
 * STARTED) and freed when it closes.  Authentication is bound to the
 * connection (design.md decision 2): the state of a Negotiate/Kerberos/NTLM
 * handshake, and the identity it established, live here (the GSS context
 * itself lives in the helper, named by conn->id).  A fresh connection is
 * always unauthenticated: a zeroed struct never means "somebody".
 */
#ifndef WINRMD_CONN_H
#define WINRMD_CONN_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/log.h"
#include "listener/identity.h"
#include "listener/connlimit.h"

struct listener;
struct tls_conn;

struct conn {
	uint64_t id; /* unique for the daemon's lifetime, never 0 */
	const struct listener *listener;
	char remote_addr
		[INET6_ADDRSTRLEN]; /* text form, for logs and ClientIP */
	uint16_t remote_port;
	int fd;
	bool https;                 /* arrived on an HTTPS listener */
	bool local;                 /* the local administration socket */
	struct tls_conn *tls;       /* HTTPS: keys and transcript (tls.h) */
	struct conn_auth auth;      /* zero = unauthenticated */
	struct connlimit_entry lim; /* connlimit's, open to close */
};

/* The connection as audit lines name it (lib/log.h). */
#define CONN_PEER(c)                                                           \
	(&(const struct audit_peer){ (c)->id, (c)->remote_addr,                \
				     (c)->remote_port })

#endif
