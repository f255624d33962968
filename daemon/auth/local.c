/*
 * local.c - authentication on the local administration socket: the
 * connection's peer credentials, read by the helper itself from the
 * socket (the listener passes the descriptor, never a uid).  No
 * Authorization header is involved; one check covers the connection.
 */
#include "autoconfig.h"

#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conn.h"
#include "log.h"
#include "request.h"

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
	int fd = dup(r->conn->fd);
	if (fd < 0) {
		request_internal_error(r);
		return AUTH_RESPOND;
	}
	struct priv_msg m;
	priv_msg_init(&m, PRIV_AUTH_PEER);
	priv_put_u64(&m, r->conn->id);
	priv_put_fd(&m, fd); /* closed once sent */
	ca->helper_state = true;
	r->auth_method = &auth_method_local;
	return auth_submit(r, &m);
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
