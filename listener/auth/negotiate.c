/*
 * negotiate.c - the Negotiate and Kerberos HTTP schemes (RFC 4559 style,
 * as WinRM uses them).
 *
 * Negotiate carries SPNEGO, raw Kerberos (pywinrm) or raw NTLMSSP
 * (requests_ntlm) tokens; Kerberos carries raw Kerberos tokens.  Each leg's
 * token goes to the helper, which owns the GSS context of this connection
 * and answers CONTINUE (a token for the 401), OK (with the identity and
 * maybe a final token for the 200: pywinrm requires it for mutual
 * authentication) or DENIED.  The answer uses the scheme word the client
 * used.  A new Authorization header on an authenticated connection starts
 * over, as OMI and Windows do.
 *
 * Must not: touch GSSAPI (the helper does).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "listener/auth/auth.h"
#include "listener/conn.h"
#include "listener/tls.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/x509.h"
#include "listener/request.h"

/* Kerberos tickets with big PACs stay far below this; anything larger is
 * refused before it reaches the helper. */
#define MAX_TOKEN_B64 (96 * 1024)

static bool negotiate_enabled(const struct request *r)
{
	return r->cfg->auth_negotiate;
}

static bool kerberos_enabled(const struct request *r)
{
	return r->cfg->auth_kerberos;
}

static void negotiate_challenge(struct request *r)
{
	response_add_header(&r->resp, "WWW-Authenticate", "Negotiate");
}

static void kerberos_challenge(struct request *r)
{
	response_add_header(&r->resp, "WWW-Authenticate", "Kerberos");
}

static enum auth_result gss_start(struct request *r, const char *scheme,
				  const char *params, bool enabled)
{
	struct conn_auth *ca = &r->conn->auth;
	if (!enabled) {
		log_audit_event(CONN_PEER(r->conn), "authentication",
				"method=%s result=failure reason=\"method "
				"disabled\"",
				LOG_ESC(scheme));
		auth_respond_unauthorized(r);
		return AUTH_RESPOND;
	}
	struct buf token = BUF_INIT;
	size_t len = strlen(params);
	if (len == 0 || len > MAX_TOKEN_B64 ||
	    base64_decode(&token, params, len) != 0 || token.len == 0) {
		log_audit_event(CONN_PEER(r->conn), "authentication",
				"method=%s result=failure reason=\"malformed "
				"token\"",
				LOG_ESC(scheme));
		buf_release(&token);
		ca->state = CONN_UNAUTHENTICATED;
		auth_respond_unauthorized(r);
		return AUTH_RESPOND;
	}
	if (ca->state == CONN_AUTHENTICATED) {
		/* Re-authentication: forget who the connection was. */
		identity_release(&ca->id);
		ca->state = CONN_UNAUTHENTICATED;
	}
	/* The word as the client wrote it is echoed ("Negotiate"/"Kerberos"
	 * in canonical case) and names the encryption protocol later. */
	strcpy(ca->scheme,
	       strcasecmp(scheme, "Kerberos") == 0 ? "Kerberos" : "Negotiate");
	/* Over HTTPS the context is bound to the certificate this
	 * connection's handshake sent (RFC 5929 tls-server-end-point). */
	uint8_t cb[X509_END_POINT_MAX];
	size_t cb_len = sizeof(cb);
	if (tls_conn_end_point(r->conn->tls, cb, &cb_len) != 0)
		cb_len = 0;
	struct priv_auth_gss m = {
		.conn = r->conn->id,
		.remote = r->conn->remote_addr,
		.port = r->conn->remote_port,
		.scheme = ca->scheme,
		.flags = r->conn->https ? PRIV_AUTH_HTTPS : 0,
		.token = { token.data, token.len },
		.end_point = { cb, cb_len },
	};
	ca->helper_state = true;
	enum auth_result res = auth_submit(r, PRIV_AUTH_GSS, &m, -1);
	buf_release_secret(&token);
	return res;
}

static enum auth_result negotiate_start(struct request *r, const char *scheme,
					const char *params)
{
	if (strcasecmp(scheme, "Negotiate") != 0)
		return AUTH_DECLINED;
	return gss_start(r, scheme, params, negotiate_enabled(r));
}

static enum auth_result kerberos_start(struct request *r, const char *scheme,
				       const char *params)
{
	if (strcasecmp(scheme, "Kerberos") != 0)
		return AUTH_DECLINED;
	return gss_start(r, scheme, params, kerberos_enabled(r));
}

static void token_header(struct request *r, const char *scheme,
			 const struct buf *token)
{
	struct buf h = BUF_INIT;
	buf_append_str(&h, scheme);
	buf_append_byte(&h, ' ');
	base64_encode(&h, token->data, token->len);
	response_add_header(&r->resp, "WWW-Authenticate", (const char *)h.data);
	buf_release(&h);
}

static enum auth_result gss_finish(struct request *r)
{
	struct conn_auth *ca = &r->conn->auth;
	struct auth_verdict v;
	enum auth_result res;
	if (auth_verdict_read(r, &v) != 0) {
		ca->state = CONN_UNAUTHENTICATED;
		request_internal_error(r);
		res = AUTH_RESPOND;
	} else if (v.status == PRIV_AUTH_CONTINUE) {
		ca->state = CONN_HANDSHAKE;
		response_release(&r->resp);
		r->resp.status = 401;
		token_header(r, ca->scheme, &v.token);
		res = AUTH_RESPOND;
	} else if (v.status == PRIV_AUTH_OK) {
		identity_set(&ca->id, v.claimed, v.user, v.uid, v.gid, v.flags,
			     v.mech);
		ca->state = CONN_AUTHENTICATED;
		ca->method = strcmp(ca->scheme, "Kerberos") == 0
				     ? &auth_method_kerberos
				     : &auth_method_negotiate;
		if (v.token.len > 0) {
			/* The final token (AP-REP) rides on whatever answer
			 * this request gets. */
			struct buf h = BUF_INIT;
			buf_printf(&h, "%s ", ca->scheme);
			base64_encode(&h, v.token.data, v.token.len);
			free(r->final_auth_header);
			r->final_auth_header = buf_steal(&h);
		}
		r->identity = &ca->id;
		res = AUTH_OK;
	} else {
		/* DENIED or THROTTLED: the helper logged the audit line. */
		identity_release(&ca->id);
		ca->state = CONN_UNAUTHENTICATED;
		auth_respond_unauthorized(r);
		res = AUTH_RESPOND;
	}
	auth_verdict_release(&v);
	priv_msg_release(&r->auth_reply);
	return res;
}

const struct auth_method auth_method_negotiate = {
	.name = "Negotiate",
	.enabled = negotiate_enabled,
	.challenge = negotiate_challenge,
	.start = negotiate_start,
	.finish = gss_finish,
};

const struct auth_method auth_method_kerberos = {
	.name = "Kerberos",
	.enabled = kerberos_enabled,
	.challenge = kerberos_challenge,
	.start = kerberos_start,
	.finish = gss_finish,
};
