/*
 * transport.h - HTTP/1.1 POSTs of WS-Management envelopes for winrmctl
 * (libcurl): to winrmd's local admin socket (a Unix-domain socket; the
 * daemon knows the caller from SO_PEERCRED, no Authorization is sent), or
 * to a remote /wsman URL with Basic (libcurl), Negotiate or Kerberos
 * (winrmctl/negotiate.c: Kerberos from the credential cache, or NTLM with
 * -u and -p) or no authentication.  A 401 is classified: which of a
 * refused password or ticket, Basic over HTTP, a method the service does
 * not offer, or no Kerberos ticket on this side it was.
 *
 * One handle serves every request of a command, so that Enumerate and its
 * Pulls share one connection (and its authentication).  Nothing here
 * prints or exits; failures come back as an enum and a message.
 */
#ifndef WINRMCTL_TRANSPORT_H
#define WINRMCTL_TRANSPORT_H

#include <stdbool.h>

#include "winrmctl/parse.h"
#include "lib/util.h"

struct ctl_transport_opts {
	const char *socket_path; /* admin socket, used when url is NULL */
	const char *url;         /* remote endpoint, or NULL */
	const char *username;    /* remote only; NULL for none */
	const char *password;
	enum ctl_auth auth;
	bool skip_ca_check;      /* -skipCAcheck: no chain verification */
	bool skip_cn_check;      /* -skipCNcheck: no host name check */
	bool anonymous_identify; /* send WSMANIDENTIFY: unauthenticated */
	bool utf16;              /* the body is UTF-16 (charset=UTF-16) */
	long timeout_ms;         /* whole request, 0 for none */
};

enum ctl_xfer {
	CTL_XFER_OK = 0,
	CTL_XFER_NOT_RUNNING, /* local: nobody listens on the socket */
	CTL_XFER_NO_SOCKET,   /* local: no socket (or not a socket) there */
	CTL_XFER_DENIED,      /* local: no permission to connect */
	CTL_XFER_CONNECT,     /* remote: name or connection failure */
	CTL_XFER_TLS,         /* remote: TLS handshake or verification */
	CTL_XFER_TIMEOUT,
	CTL_XFER_ERROR, /* anything else */
};

/* Why a remote service answered 401 (ctl_http_reply.denial). */
enum ctl_denial {
	CTL_DENIAL_NONE = 0,
	CTL_DENIAL_CREDENTIALS, /* it refused what was sent: user name,
	                           password, ticket, or the account */
	CTL_DENIAL_BASIC_HTTP,  /* Basic over plain HTTP, which the service
	                           does not offer there (AllowUnencrypted) */
	CTL_DENIAL_NOT_OFFERED, /* the service does not offer the method */
	CTL_DENIAL_NO_TICKET,   /* Kerberos without a ticket: nothing sent */
	CTL_DENIAL_CLIENT,      /* this side could not authenticate (detail) */
	CTL_DENIAL_NEEDS_AUTH,  /* -a:None, and the service wants a login */
};

struct ctl_http_reply {
	long status;     /* HTTP status */
	struct buf body; /* response body (capped, see transport.c) */
	/* With status 401 from a remote service: */
	enum ctl_denial denial;
	char detail[512];  /* the client side's reason (GSS-API text) */
	char offered[128]; /* the schemes the service offered, "A, B" */
};

/* Never returns NULL (exits through xmalloc on exhaustion only). */
struct ctl_transport *ctl_transport_new(const struct ctl_transport_opts *o);
void ctl_transport_free(struct ctl_transport *t);

/*
 * POSTs req.  On CTL_XFER_OK, reply holds the status and body (the caller
 * releases reply->body); otherwise err holds a one-line reason (no
 * trailing newline) such as curl's or strerror's text.
 */
enum ctl_xfer ctl_transport_post(struct ctl_transport *t, const struct buf *req,
				 struct ctl_http_reply *reply, struct buf *err);

#endif
