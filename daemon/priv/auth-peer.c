/*
 * auth-peer.c - who is on the local administration socket: the helper
 * reads the peer's credentials (SO_PEERCRED) from the accepted socket
 * itself, so the listener cannot claim anybody.  The account then goes
 * through the same PAM account check and group authorization as every
 * other method (winrmctl run by root or an admin-group member).
 *
 * Entry point: handle_auth_peer.
 */
#include "autoconfig.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "authres.h"
#include "conns.h"
#include "helper.h"
#include "log.h"

void handle_auth_peer(struct priv_msg *req, struct priv_msg *reply)
{
	uint64_t id = priv_get_u64(req);
	int fd = priv_take_fd(req);
	if (!priv_msg_ok(req) || id == 0 || fd < 0)
		fatal("protocol violation: malformed AUTH_PEER");
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int rc = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	int family = -1;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		family = ss.ss_family;
	close(fd);
	struct hconn *c = conns_get_for_auth(id, "AUTH_PEER");
	conns_reset(c);
	snprintf(c->remote, sizeof(c->remote), "local");
	snprintf(c->scheme, sizeof(c->scheme), "Local");
	if (rc != 0 || family != AF_UNIX) {
		authres_refuse(req->seq, "local", "Local", NULL, NULL,
			       "not a local socket or no peer credentials");
		return;
	}
	errno = 0;
	struct passwd *pw = getpwuid(cred.uid);
	char claimed[64];
	snprintf(claimed, sizeof(claimed), "uid %u", (unsigned)cred.uid);
	if (pw == NULL) {
		authres_refuse(req->seq, "local", "Local", claimed, NULL,
			       "no account for this uid");
		return;
	}
	authres_verify(authres_attempt_new(req->seq, c, "Local", "PeerCredentials",
					   xstrdup(claimed)),
		       pw->pw_name, NULL);
	(void)reply; /* answered when the verification ends */
}
