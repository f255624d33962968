/*
 * local.c - authentication on the local administration socket: the
 * connection's peer credentials, read by the helper itself from the
 * socket (the listener passes the descriptor, never a uid).  No
 * Authorization header is involved; one check covers the connection.
 */
#include "autoconfig.h"

#include <string.h>
#include <unistd.h>

#include "listener/auth/auth.h"
#include "listener/helper-client.h"
#include "listener/conn.h"
#include "lib/log.h"
#include "listener/request.h"

static bool local_enabled(const struct request *r)
{
	return false; /* never offered in a 401 */
}

static void local_challenge(struct request *r)
{
}

static enum auth_result local_start(struct request *r, const char *scheme,
				    const char *params)
{
	return AUTH_DECLINED; /* not chosen by an Authorization header */
}

enum auth_result auth_local_start(struct request *r)
{
	struct conn_auth *ca = &r->conn->auth;
	if (ca->state == CONN_AUTHENTICATED) {
		r->identity = &ca->id;
		return AUTH_OK;
	}
	/* The helper accepted this connection and gave it to us; it checks
	 * that what comes back is that very socket. */
	int fd = dup(r->conn->fd);
	if (fd < 0) {
		request_internal_error(r);
		return AUTH_RESPOND;
	}
	struct priv_msg m, *pm = &m;
	struct priv_auth_peer peer = { .conn = r->conn->id };
	if (priv_encode_auth_peer(pm, &peer, NULL) != 0 || priv_put_fd(pm, fd) != 0) {
		close(fd);
		priv_msg_release(pm);
		request_internal_error(r);
		return AUTH_RESPOND;
	}
	ca->helper_state = true;
	r->auth_method = &auth_method_local;
	priv_msg_release(&r->auth_reply);
	if (priv_call_async(pm, auth_verdict_arrived, r) != 0) { /* fd closed once sent */
		request_internal_error(r);
		return AUTH_RESPOND;
	}
	return AUTH_PENDING;
}

static enum auth_result local_finish(struct request *r)
{
	bool refused;
	enum auth_result res = auth_finish_one_leg(r, &auth_method_local,
						   "Local", &refused);
	if (refused)
		r->resp.close = true;
	return res;
}

const struct auth_method auth_method_local = {
	.name = "Local",
	.enabled = local_enabled,
	.challenge = local_challenge,
	.start = local_start,
	.finish = local_finish,
};
