/*
 * auth.c - the listener's authentication step: picks the method from the
 * Authorization header through the method table, keeps the identity on
 * the connection, and writes 401 challenges.
 *
 * Must not: verify credentials (the helper does), decide authorization
 * (the helper computes it, request.c enforces it), or log secrets.
 * Entry points: auth_authenticate, auth_resume, auth_respond_unauthorized,
 * auth_conn_closed.
 */
#include "autoconfig.h"

#include "listener/auth/auth.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "listener/helper-client.h"
#include "listener/conn.h"
#include "lib/log.h"
#include "listener/request.h"

/* Tried in this order; each answers AUTH_DECLINED for foreign schemes.
 * The order is also the order of the 401 challenges. */
static const struct auth_method *const methods[] = {
	&auth_method_local, &auth_method_negotiate,   &auth_method_kerberos,
	&auth_method_basic, &auth_method_certificate, NULL,
};

void auth_respond_unauthorized(struct request *r)
{
	response_release(&r->resp);
	buf_init(&r->resp.body);
	r->resp.status = 401;
	r->resp.content_type = NULL;
	for (unsigned i = 0; methods[i] != NULL; i++)
		if (methods[i]->enabled(r))
			methods[i]->challenge(r);
}

/*
 * Why a connection authenticated by Negotiate or Kerberos may no longer
 * use its identity (NULL: it may): the configuration changed since (reload
 * or Put of winrm/config/service/auth) and now refuses the scheme, or
 * Kerberos, which it was proven with.  Basic and certificates are checked
 * on every request anyway.
 */
static const char *conn_auth_revoked(const struct request *r)
{
	const struct conn_auth *ca = &r->conn->auth;
	if (!ca->method->enabled(r))
		return "method disabled since the connection authenticated";
	if (!r->cfg->auth_kerberos && ca->id.mech != NULL &&
	    strcmp(ca->id.mech, "Kerberos") == 0)
		return "Kerberos disabled since the connection authenticated";
	return NULL;
}

enum auth_result auth_authenticate(struct request *r)
{
	struct conn_auth *ca = &r->conn->auth;
	for (unsigned i = 0; methods[i] != NULL; i++) {
		if (methods[i]->claims_connection != NULL &&
		    methods[i]->claims_connection(r)) {
			enum auth_result res = methods[i]->start(r, NULL, NULL);
			if (res == AUTH_PENDING)
				r->auth_method = methods[i];
			return res;
		}
	}
	if (r->authorization == NULL) {
		/* Negotiate/Kerberos authenticate the connection; Basic
		 * credentials come with every request, and so does the
		 * certificate profile header (the mapping depends on the
		 * resource: cert.c decides per resource URI). */
		if (ca->state == CONN_AUTHENTICATED &&
		    ca->method != &auth_method_basic &&
		    ca->method != &auth_method_certificate) {
			const char *why = conn_auth_revoked(r);
			if (why == NULL) {
				r->identity = &ca->id;
				return AUTH_OK;
			}
			log_audit_event(CONN_PEER(r->conn), "authentication",
					"method=%s/%s claimed=\"%s\" "
					"result=failure reason=\"%s\"",
					LOG_ESC(ca->scheme),
					LOG_ESC(ca->id.mech),
					LOG_ESC(ca->id.claimed), why);
			identity_release(&ca->id);
			ca->state = CONN_UNAUTHENTICATED;
		}
		auth_respond_unauthorized(r);
		return AUTH_RESPOND;
	}

	/* "Scheme params": the scheme word, then everything after spaces. */
	const char *h = r->authorization;
	size_t n = strcspn(h, " \t");
	/* long enough for the certificate profile URI, which is the whole
	 * header of a certificate client */
	char scheme[128];
	if (n == 0 || n >= sizeof(scheme)) {
		log_audit_event(CONN_PEER(r->conn), "authentication",
				"method=? result=failure reason=\"malformed "
				"Authorization header\"");
		auth_respond_unauthorized(r);
		return AUTH_RESPOND;
	}
	memcpy(scheme, h, n);
	scheme[n] = '\0';
	const char *params = h + n + strspn(h + n, " \t");

	for (unsigned i = 0; methods[i] != NULL; i++) {
		if (methods[i]->claims_connection != NULL)
			continue; /* not chosen by a header */
		enum auth_result res = methods[i]->start(r, scheme, params);
		if (res == AUTH_PENDING && r->auth_method == NULL)
			r->auth_method = methods[i];
		if (res != AUTH_DECLINED)
			return res;
	}

	/* Nobody took it: Digest, the bare NTLM scheme, anything else. */
	bool ntlm = strcasecmp(scheme, "NTLM") == 0;
	/* The scheme word is the client's: escaped, and short (no space
	 * in it, see above). */
	log_audit_event(
		CONN_PEER(r->conn), "authentication",
		"method=%s result=failure reason=\"%s\"",
		log_escape((char[48]){ 0 }, 48, scheme),
		ntlm ? "the NTLM scheme is not accepted; NTLM travels under Negotiate"
		     : "unsupported authentication scheme");
	auth_respond_unauthorized(r);
	/* Windows answers an unsupported scheme with 401 and closes. */
	r->resp.close = true;
	return AUTH_RESPOND;
}

bool auth_wants_resource_uri(const struct request *r)
{
	for (unsigned i = 0; methods[i] != NULL; i++)
		if (methods[i]->wants_resource_uri != NULL &&
		    methods[i]->wants_resource_uri(r))
			return true;
	return false;
}

enum auth_result auth_resume(struct request *r)
{
	const struct auth_method *m = r->auth_method;
	r->auth_method = NULL;
	return m->finish(r);
}

enum auth_result auth_submit(struct request *r, uint16_t type, const void *req,
			     int fd)
{
	const char *why = NULL;
	switch (request_helper_call(r, type, req, fd, &r->auth_reply, &why)) {
	case 0: return AUTH_PENDING;
	case -2:
		/* Credentials no client sends (a name or token over the
		 * protocol's bounds): refused like bad ones. */
		log_audit_event(CONN_PEER(r->conn), "authentication",
				"method=%s result=failure reason=\"%s over the "
				"limit\"",
				priv_type_name(type), why);
		r->conn->auth.state = CONN_UNAUTHENTICATED;
		auth_respond_unauthorized(r);
		return AUTH_RESPOND;
	default:
		log_err("the helper is gone; refusing the request");
		request_internal_error(r);
		return AUTH_RESPOND;
	}
}

enum auth_result auth_finish_one_leg(struct request *r,
				     const struct auth_method *method,
				     const char *scheme, bool *refused_r)
{
	struct conn_auth *ca = &r->conn->auth;
	struct auth_verdict v;
	enum auth_result res = AUTH_RESPOND;
	*refused_r = false;
	if (auth_verdict_read(r, &v) != 0) {
		request_internal_error(r);
	} else if (v.status == PRIV_AUTH_OK) {
		identity_set(&ca->id, v.claimed, v.user, v.uid, v.gid, v.flags,
			     v.mech);
		ca->state = CONN_AUTHENTICATED;
		ca->method = method;
		snprintf(ca->scheme, sizeof(ca->scheme), "%s", scheme);
		r->identity = &ca->id;
		res = AUTH_OK;
	} else {
		auth_respond_unauthorized(r);
		*refused_r = true;
	}
	auth_verdict_release(&v);
	priv_msg_release(&r->auth_reply);
	return res;
}

int auth_verdict_read(struct request *r, struct auth_verdict *v)
{
	struct priv_auth_result res;
	const char *why;
	memset(v, 0, sizeof(*v));
	buf_init(&v->token);
	int rc = priv_decode_auth_result(&r->auth_reply, &res, &why);
	if (rc != 0 || res.status < PRIV_AUTH_CONTINUE ||
	    res.status > PRIV_AUTH_THROTTLED) {
		if (r->auth_reply.type != PRIV_NONE)
			log_err("malformed verdict from the helper (%s)",
				rc != 0 ? why : "status");
		memset(&res, 0, sizeof(res));
	}
	buf_append(&v->token, res.token.data, res.token.len);
	v->status = res.status;
	v->claimed = xstrdup(res.claimed ? res.claimed : "");
	v->user = xstrdup(res.user ? res.user : "");
	v->mech = xstrdup(res.mech ? res.mech : "");
	v->reason = xstrdup(res.reason ? res.reason : "");
	v->uid = res.uid;
	v->gid = res.gid;
	v->flags = res.flags;
	return v->status != 0 ? 0 : -1;
}

void auth_verdict_release(struct auth_verdict *v)
{
	buf_release_secret(&v->token);
	free(v->claimed);
	free(v->user);
	free(v->mech);
	free(v->reason);
}

static void closed_reply(void *arg, struct priv_msg *reply)
{
	(void)arg;
	(void)reply;
}

void auth_conn_closed(struct conn *c)
{
	if (c->auth.helper_state) {
		struct priv_conn_close m = { .conn = c->id };
		if (priv_request_async(PRIV_CONN_CLOSE, &m, closed_reply, NULL,
				       NULL) != 0)
			log_debug("helper gone; connection %llu not reported",
				  (unsigned long long)c->id);
	}
	identity_release(&c->auth.id);
	free(c->auth.cert_uri);
	c->auth.cert_uri = NULL;
}
