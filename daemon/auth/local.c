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
	struct conn_auth *ca = &r->conn->auth;
	struct auth_verdict v;
	enum auth_result res;
	if (auth_verdict_read(r, &v) != 0) {
		request_internal_error(r);
		res = AUTH_RESPOND;
	} else if (v.status == PRIV_AUTH_OK) {
		auth_set_identity_from_reply(&ca->id, v.claimed, v.user, v.uid,
					     v.gid, v.flags, v.mech);
		ca->state = CONN_AUTHENTICATED;
		ca->method = &auth_method_local;
		strcpy(ca->scheme, "Local");
		r->identity = &ca->id;
		res = AUTH_OK;
	} else {
		auth_respond_unauthorized(r);
		r->resp.close = true;
		res = AUTH_RESPOND;
	}
	auth_verdict_release(&v);
	priv_msg_release(&r->auth_reply);
	return res;
}

const struct auth_method auth_method_local = {
	.name = "Local",
	.enabled = local_enabled,
	.challenge = local_challenge,
	.start = local_start,
	.finish = local_finish,
};
