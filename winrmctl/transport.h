/*
 * transport.h - HTTP/1.1 POSTs of WS-Management envelopes for winrmctl
 * (libcurl): to winrmd's local admin socket (a Unix-domain socket; the
 * daemon knows the caller from SO_PEERCRED, no Authorization is sent), or
 * to a remote /wsman URL with Basic, Negotiate (Kerberos through GSS-API,
 * or NTLM) or no authentication.
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
	CTL_XFER_NOT_RUNNING, /* local: no socket, or nobody listening */
	CTL_XFER_DENIED,      /* local: no permission to connect */
	CTL_XFER_CONNECT,     /* remote: name or connection failure */
	CTL_XFER_TLS,         /* remote: TLS handshake or verification */
	CTL_XFER_TIMEOUT,
	CTL_XFER_ERROR, /* anything else */
};

struct ctl_http_reply {
	long status;     /* HTTP status */
	struct buf body; /* response body (capped, see transport.c) */
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
