/*
 * cert.c - client-certificate authentication on the listener side
 * (Service.Auth.Certificate, HTTPS only).  The client sends
 * "Authorization: http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/
 * https/mutual" with every request and presents its certificate in the
 * TLS handshake.  The handshake's messages go to the helper, which finds
 * the certificate and the client's proof of its key there, verifies and
 * maps it; since a mapping can depend on the resource URI (CertMapping URI),
 * the envelope's ResourceURI goes along.  The verified identity is kept
 * per connection and URI, so the helper checks a connection once per
 * resource, not once per request.
 *
 * Must not: look at the certificate (the helper parses it, with OpenSSL).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "listener/auth/auth.h"
#include "listener/conn.h"
#include "lib/log.h"
#include "lib/wsman/ns.h"
#include "listener/request.h"
#include "listener/tls.h"

#define MUTUAL_PROFILE SECPROFILE_PREFIX "https/mutual"

static bool cert_enabled(const struct request *r)
{
	return r->cfg->auth_certificate && r->conn->https;
}

static void cert_challenge(struct request *r)
{
	/* Not an HTTP authentication scheme: nothing to offer in a 401. */
	(void)r;
}

static void refuse(struct request *r, const char *why)
{
	log_audit_event(CONN_PEER(r->conn), "authentication",
			"method=Certificate result=failure reason=\"%s\"",
			LOG_ESC(why));
	auth_respond_unauthorized(r);
}

static bool cert_wants_resource_uri(const struct request *r)
{
	const char *h = r->authorization;
	size_t n = sizeof(MUTUAL_PROFILE) - 1;
	return h != NULL && strncasecmp(h, MUTUAL_PROFILE, n) == 0 &&
	       (h[n] == '\0' || h[n] == ' ' || h[n] == '\t');
}

static enum auth_result cert_start(struct request *r, const char *scheme,
				   const char *params)
{
	(void)params;
	if (strcasecmp(scheme, MUTUAL_PROFILE) != 0)
		return AUTH_DECLINED;
	struct conn_auth *ca = &r->conn->auth;
	if (!cert_enabled(r)) {
		refuse(r, r->conn->https ? "method disabled"
					 : "client certificates need HTTPS");
		return AUTH_RESPOND;
	}
	/* The resource the request is for (mappings may depend on it): the
	 * gate parsed the envelope for it (cert_wants_resource_uri). */
	char *uri = xstrdup(r->resource_uri != NULL ? r->resource_uri : "");
	if (ca->state == CONN_AUTHENTICATED &&
	    ca->method == &auth_method_certificate && ca->cert_uri != NULL &&
	    strcmp(ca->cert_uri, uri) == 0) {
		free(uri);
		r->identity = &ca->id;
		return AUTH_OK;
	}
	/* The whole handshake: the helper finds the client's certificate and
	 * its proof (CertificateVerify) there, next to its own signature. */
	struct priv_hs_msg *msgs = NULL;
	size_t n = 0;
	if (tls_conn_transcript(r->conn->tls, &msgs, &n) != 0) {
		free(uri);
		refuse(r, "no client certificate in the TLS handshake");
		return AUTH_RESPOND;
	}
	identity_release(&ca->id);
	ca->state = CONN_UNAUTHENTICATED;
	free(ca->cert_uri);
	ca->cert_uri = uri;
	ca->helper_state = true;
	struct priv_auth_cert m = {
		.conn = r->conn->id,
		.remote = r->conn->remote_addr,
		.port = r->conn->remote_port,
		.uri = uri,
		.n_msgs = n,
		.msgs = msgs,
	};
	enum auth_result res = auth_submit(r, PRIV_AUTH_CERT, &m, -1);
	free(msgs);
	return res;
}

static enum auth_result cert_finish(struct request *r)
{
	struct conn_auth *ca = &r->conn->auth;
	bool refused;
	enum auth_result res = auth_finish_one_leg(r, &auth_method_certificate,
						   "Certificate", &refused);
	if (res != AUTH_OK) {
		free(ca->cert_uri);
		ca->cert_uri = NULL;
	}
	return res;
}

const struct auth_method auth_method_certificate = {
	.name = "Certificate",
	.wants_resource_uri = cert_wants_resource_uri,
	.enabled = cert_enabled,
	.challenge = cert_challenge,
	.start = cert_start,
	.finish = cert_finish,
};
