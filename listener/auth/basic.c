/*
 * basic.c - the Basic scheme, off by default (Service.Auth.Basic).
 *
 * As on Windows it is refused over plain HTTP unless AllowUnencrypted is
 * true, and it names local accounts only.  It is not offered there either:
 * a 401 of a plain-HTTP listener carries no Basic challenge while
 * AllowUnencrypted is false, so that no client is invited to send its
 * password in clear only to be refused.  The password goes to the
 * helper, which runs PAM in a short-lived child.  The verified result is
 * cached on the connection keyed by a SHA-256 of the header, so PAM runs
 * once per keep-alive connection and not once per request; another header
 * on the same connection is verified afresh.
 *
 * Must not: keep the password after the request, or log it.
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "listener/auth/auth.h"
#include "listener/conn.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "listener/request.h"

#define MAX_CREDENTIALS_B64 4096

static bool basic_enabled(const struct request *r)
{
	return r->cfg->auth_basic;
}

static bool basic_over_http_refused(const struct request *r)
{
	return !r->conn->https && !r->cfg->allow_unencrypted;
}

/* Offered in a 401 only where it could succeed. */
static bool basic_offered(const struct request *r)
{
	return basic_enabled(r) && !basic_over_http_refused(r);
}

static void basic_challenge(struct request *r)
{
	response_add_header(&r->resp, "WWW-Authenticate",
			    "Basic realm=\"WSMAN\"");
}

/* A refusal before the helper saw the credentials; claimed is the user
 * name they carry (NULL when they do not decode). */
static void refuse(struct request *r, const char *claimed, const char *reason)
{
	if (claimed != NULL)
		log_audit_event(CONN_PEER(r->conn), "authentication",
				"method=Basic claimed=\"%s\" result=failure "
				"reason=\"%s\"",
				LOG_ESC(claimed), LOG_ESC(reason));
	else
		log_audit_event(CONN_PEER(r->conn), "authentication",
				"method=Basic result=failure reason=\"%s\"",
				LOG_ESC(reason));
	auth_respond_unauthorized(r);
}

/* The user name of Basic credentials, for the audit line of a refusal
 * (caller frees; NULL when they do not decode).  The password is wiped. */
static char *claimed_of(const char *params)
{
	size_t len = strlen(params);
	struct buf plain = BUF_INIT;
	char *name = NULL;
	if (len > 0 && len <= MAX_CREDENTIALS_B64 &&
	    base64_decode(&plain, params, len) == 0 && plain.len > 0) {
		const char *colon = memchr(plain.data, ':', plain.len);
		if (colon != NULL &&
		    memchr(plain.data, '\0',
			   (size_t)(colon - (char *)plain.data)) == NULL)
			name = xstrndup((const char *)plain.data,
					(size_t)(colon - (char *)plain.data));
	}
	buf_release_secret(&plain);
	return name;
}

static enum auth_result basic_start(struct request *r, const char *scheme,
				    const char *params)
{
	struct conn_auth *ca = &r->conn->auth;
	if (strcasecmp(scheme, "Basic") != 0)
		return AUTH_DECLINED;
	if (!basic_enabled(r) || basic_over_http_refused(r)) {
		/* Refused before PAM: the audit line still names who. */
		char *claimed = claimed_of(params);
		refuse(r, claimed,
		       !basic_enabled(r)
			       ? "method disabled"
			       : "Basic over HTTP needs AllowUnencrypted=true");
		free(claimed);
		return AUTH_RESPOND;
	}
	size_t len = strlen(params);
	uint8_t hash[SHA256_DIGEST_LENGTH];
	SHA256((const uint8_t *)params, len, hash);
	if (ca->state == CONN_AUTHENTICATED &&
	    ca->method == &auth_method_basic &&
	    CRYPTO_memcmp(hash, ca->basic_hash, sizeof(hash)) == 0) {
		r->identity = &ca->id;
		return AUTH_OK;
	}
	/* Other credentials on this connection: whoever it was is gone. */
	identity_release(&ca->id);
	ca->state = CONN_UNAUTHENTICATED;

	struct buf plain = BUF_INIT;
	if (len == 0 || len > MAX_CREDENTIALS_B64 ||
	    base64_decode(&plain, params, len) != 0) {
		buf_release_secret(&plain);
		refuse(r, NULL, "malformed credentials");
		return AUTH_RESPOND;
	}
	char *text = (char *)plain.data;
	char *colon = text != NULL ? memchr(text, ':', plain.len) : NULL;
	if (colon == NULL || colon == text ||
	    memchr(text, '\0', plain.len) != NULL) {
		char *claimed = claimed_of(params);
		buf_release_secret(&plain);
		refuse(r, claimed, "malformed credentials");
		free(claimed);
		return AUTH_RESPOND;
	}
	*colon = '\0';
	memcpy(r->basic_hash, hash, sizeof(hash));
	struct priv_auth_basic m = {
		.conn = r->conn->id,
		.remote = r->conn->remote_addr,
		.port = r->conn->remote_port,
		.flags = r->conn->https ? PRIV_AUTH_HTTPS : 0,
		.user = text,
		.password = colon + 1,
	};
	ca->helper_state = true;
	enum auth_result res = auth_submit(r, PRIV_AUTH_BASIC, &m, -1);
	buf_release_secret(&plain);
	return res;
}

static enum auth_result basic_finish(struct request *r)
{
	bool refused;
	enum auth_result res = auth_finish_one_leg(r, &auth_method_basic,
						   "Basic", &refused);
	if (res == AUTH_OK)
		memcpy(r->conn->auth.basic_hash, r->basic_hash,
		       sizeof(r->basic_hash));
	OPENSSL_cleanse(r->basic_hash, sizeof(r->basic_hash));
	return res;
}

const struct auth_method auth_method_basic = {
	.name = "Basic",
	.enabled = basic_offered,
	.challenge = basic_challenge,
	.start = basic_start,
	.finish = basic_finish,
};
