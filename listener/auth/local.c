/*
 * local.c - authentication on the local administration socket: the
 * helper accepted the connection itself and read its peer's credentials
 * then; the listener hands the very socket back (AUTH_PEER) and the
 * helper, finding it is the one it accepted, verifies that account.  No
 * Authorization header is involved, and one check covers the connection.
 *
 * Entry point: auth_method_local (a method of the table that claims the
 * connections of the local socket, whatever their headers).
 */
#include "autoconfig.h"

#include <unistd.h>

#include "listener/auth/auth.h"
#include "listener/conn.h"
#include "listener/request.h"

static bool local_claims(const struct request *r)
{
	return r->conn->local;
}

static bool local_enabled(const struct request *r)
{
	(void)r;
	return false; /* never offered in a 401 */
}

static void local_challenge(struct request *r)
{
	(void)r;
}

static enum auth_result local_start(struct request *r, const char *scheme,
				    const char *params)
{
	(void)params;
	if (scheme != NULL || !r->conn->local)
		return AUTH_DECLINED; /* only for the connections it claims */
	struct conn_auth *ca = &r->conn->auth;
	if (ca->state == CONN_AUTHENTICATED) {
		r->identity = &ca->id;
		return AUTH_OK;
	}
	int fd = dup(r->conn->fd);
	if (fd < 0) {
		request_internal_error(r);
		return AUTH_RESPOND;
	}
	struct priv_auth_peer peer = { .conn = r->conn->id };
	ca->helper_state = true;
	return auth_submit(r, PRIV_AUTH_PEER, &peer, fd);
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
	.claims_connection = local_claims,
	.enabled = local_enabled,
	.challenge = local_challenge,
	.start = local_start,
	.finish = local_finish,
};
