/*
 * transport.c - winrmctl's HTTP client (libcurl easy interface).
 *
 * Local mode: POST http://localhost/wsman over CURLOPT_UNIX_SOCKET_PATH,
 * no proxy, no authentication.  A failed connect is classified from the
 * socket's errno (ENOENT, ECONNREFUSED: the service is not running;
 * EACCES, EPERM: permission denied).
 *
 * Remote mode: the URL built from -remote, libcurl's Basic; Negotiate
 * and Kerberos driven here, one leg per POST on one connection, with the
 * tokens of winrmctl/negotiate.c (libcurl's own SPNEGO cannot do NTLM
 * with a password, nor tell why it sent nothing); TLS verification
 * unless -skipCAcheck/-skipCNcheck.  The authentication is the
 * connection's: later requests send no Authorization header, and a 401
 * on them (the connection was closed and opened again) starts over once.
 * A 401 is classified from what was sent and what the service offered
 * (its WWW-Authenticate headers).  WS-Management message encryption over
 * HTTP is not implemented (main insists on https or -unencrypted).
 *
 * Must not: print, exit, log credentials, or follow redirects.
 *
 * Entry points: ctl_transport_new, ctl_transport_post, ctl_transport_free.
 */
#include "autoconfig.h"

#include "winrmctl/transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "lib/base64.h"
#include "winrmctl/negotiate.h"

/* A response larger than this is refused (winrmd answers at most
 * MaxEnvelopeSizekb; Windows at most 4 GB, which no config needs). */
#define MAX_RESPONSE (64u * 1024 * 1024)

/* Most legs of one handshake (NTLM needs two, Kerberos one). */
#define MAX_LEGS 6

struct ctl_transport {
	CURL *curl;
	struct curl_slist *headers;
	char *socket_path; /* local mode only */
	/* remote mode */
	enum ctl_auth auth;
	bool https;
	bool gss_mode; /* Negotiate or Kerberos, driven here */
	char *host;
	char *user, *password; /* copies; the password wiped on free */
	struct ctl_gss *gss;
	bool authenticated;  /* this connection went through a handshake */
	struct buf www_auth; /* the last answer's WWW-Authenticate values,
	                        one per line */
};

/* Collects the WWW-Authenticate headers of an answer. */
static size_t on_header(char *data, size_t size, size_t nitems, void *arg)
{
	struct ctl_transport *t = arg;
	size_t n = size * nitems;
	static const char name[] = "WWW-Authenticate:";
	if (n > sizeof(name) - 1 &&
	    strncasecmp(data, name, sizeof(name) - 1) == 0 &&
	    t->www_auth.len < 65536) {
		const char *v = data + sizeof(name) - 1;
		size_t vn = n - (sizeof(name) - 1);
		while (vn > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vn--;
		}
		while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n' ||
				  v[vn - 1] == ' '))
			vn--;
		buf_append(&t->www_auth, v, vn);
		buf_append_byte(&t->www_auth, '\n');
	}
	return n;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ctl_http_reply *r = arg;
	size_t n = size * nmemb;

	if (r->body.len + n > MAX_RESPONSE)
		return 0; /* libcurl then fails with CURLE_WRITE_ERROR */
	buf_append(&r->body, data, n);
	return n;
}

struct ctl_transport *ctl_transport_new(const struct ctl_transport_opts *o)
{
	struct ctl_transport *t = xcalloc(1, sizeof(*t));

	curl_global_init(CURL_GLOBAL_DEFAULT);
	t->curl = curl_easy_init();
	if (t->curl == NULL)
		return t; /* ctl_transport_post reports it */

	t->headers = curl_slist_append(
		t->headers, o->utf16 ? "Content-Type: application/soap+xml;"
				       "charset=UTF-16"
				     : "Content-Type: application/soap+xml;"
				       "charset=UTF-8");
	t->headers = curl_slist_append(t->headers, "Expect:");
	if (o->anonymous_identify)
		t->headers = curl_slist_append(
			t->headers, "WSMANIDENTIFY: unauthenticated");

	CURL *c = t->curl;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "winrmctl/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	if (o->timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);

	if (o->url == NULL) {
		t->socket_path = xstrdup(o->socket_path);
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, t->socket_path);
		curl_easy_setopt(c, CURLOPT_URL, "http://localhost/wsman");
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
		return t;
	}

	curl_easy_setopt(c, CURLOPT_URL, o->url);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
	t->auth = o->auth;
	t->https = strncasecmp(o->url, "https:", 6) == 0;
	CURLU *u = curl_url();
	char *host = NULL;
	if (u != NULL &&
	    curl_url_set(u, CURLUPART_URL, o->url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		t->host = xstrdup(host);
		curl_free(host);
	} else {
		t->host = xstrdup("localhost");
	}
	curl_url_cleanup(u);
	if (o->skip_ca_check)
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	if (o->skip_cn_check)
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	switch (o->auth) {
	case CTL_AUTH_NONE: break;
	case CTL_AUTH_BASIC:
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		break;
	case CTL_AUTH_KERBEROS:
	case CTL_AUTH_DEFAULT:
	case CTL_AUTH_NEGOTIATE:
		/* the tokens are ours (ctl_transport_post) */
		t->gss_mode = true;
		if (o->username != NULL)
			t->user = xstrdup(o->username);
		if (o->password != NULL)
			t->password = xstrdup(o->password);
		break;
	}
	if (o->auth == CTL_AUTH_BASIC) {
		curl_easy_setopt(c, CURLOPT_USERNAME,
				 o->username != NULL ? o->username : "");
		curl_easy_setopt(c, CURLOPT_PASSWORD,
				 o->password != NULL ? o->password : "");
	}
	return t;
}

void ctl_transport_free(struct ctl_transport *t)
{
	if (t == NULL)
		return;
	if (t->curl != NULL)
		curl_easy_cleanup(t->curl);
	curl_slist_free_all(t->headers);
	free(t->socket_path);
	free(t->host);
	free(t->user);
	if (t->password != NULL)
		free_secret(t->password, strlen(t->password));
	ctl_gss_free(t->gss);
	buf_release(&t->www_auth);
	free(t);
	curl_global_cleanup();
}

/* Why connecting to the admin socket failed. */
static enum ctl_xfer local_failure(const struct ctl_transport *t, long os_errno,
				   struct buf *err)
{
	struct stat st;

	/* What is at the path decides first: a wrong -S is no stopped
	 * service. */
	if (stat(t->socket_path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			os_errno = errno;
		else if (os_errno == 0)
			os_errno = errno;
	} else if (!S_ISSOCK(st.st_mode)) {
		os_errno = ENOTSOCK;
	}
	switch (os_errno) {
	case ENOENT:
	case ENOTDIR:
		buf_append_str(err, "there is no socket at this path");
		return CTL_XFER_NO_SOCKET;
	case ENOTSOCK:
		buf_append_str(err, "this path is not a socket");
		return CTL_XFER_NO_SOCKET;
	case ECONNREFUSED:
		buf_append_str(err, "the service is not running");
		return CTL_XFER_NOT_RUNNING;
	case EACCES:
	case EPERM:
		buf_append_str(err, "permission denied");
		return CTL_XFER_DENIED;
	case 0:
		buf_append_str(err, "the connection failed");
		return CTL_XFER_ERROR;
	default:
		buf_append_str(err, strerror((int)os_errno));
		return CTL_XFER_ERROR;
	}
}

/* One POST of req with extra (an Authorization header, or NULL). */
static enum ctl_xfer perform(struct ctl_transport *t, const struct buf *req,
			     const char *extra, struct ctl_http_reply *reply,
			     struct buf *err)
{
	CURL *c = t->curl;
	CURLcode rc;
	long os_errno = 0;
	struct curl_slist *h = NULL;

	buf_release(&reply->body);
	reply->status = 0;
	buf_release(&t->www_auth);
	if (extra != NULL) {
		for (struct curl_slist *p = t->headers; p != NULL; p = p->next)
			h = curl_slist_append(h, p->data);
		h = curl_slist_append(h, extra);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)req->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
	rc = curl_easy_perform(c);
	if (extra != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
		curl_slist_free_all(h);
	}
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
		return CTL_XFER_OK;
	}
	buf_release(&reply->body);
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);

	if (t->socket_path != NULL && rc == CURLE_COULDNT_CONNECT)
		return local_failure(t, os_errno, err);
	if (rc == CURLE_WRITE_ERROR) {
		buf_printf(err, "the response is larger than %u bytes",
			   MAX_RESPONSE);
		return CTL_XFER_ERROR;
	}
	buf_append_str(err, curl_easy_strerror(rc));
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return t->socket_path != NULL ? CTL_XFER_ERROR
					      : CTL_XFER_CONNECT;
	case CURLE_OPERATION_TIMEDOUT: return CTL_XFER_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE: return CTL_XFER_TLS;
	default: return CTL_XFER_ERROR;
	}
}

/*
 * Did the last answer offer scheme?  When it carries a token under it,
 * that is decoded into token.
 */
static bool offered(const struct ctl_transport *t, const char *scheme,
		    struct buf *token)
{
	const char *p = t->www_auth.data ? (const char *)t->www_auth.data : "";
	size_t n = strlen(scheme);
	bool found = false;
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		if (len >= n && strncasecmp(p, scheme, n) == 0 &&
		    (len == n || p[n] == ' ')) {
			found = true;
			if (len > n + 1 && token != NULL && token->len == 0)
				base64_decode(token, p + n + 1, len - n - 1);
		}
		p += len + (eol != NULL ? 1 : 0);
	}
	return found;
}

/* The schemes offered, "Negotiate, Kerberos, Basic", into out. */
static void offered_list(const struct ctl_transport *t, char *out, size_t n)
{
	const char *p = t->www_auth.data ? (const char *)t->www_auth.data : "";
	size_t used = 0;
	out[0] = '\0';
	while (*p != '\0' && used + 1 < n) {
		size_t w = strcspn(p, " \n");
		int k = snprintf(out + used, n - used, "%s%.*s",
				 used > 0 ? ", " : "", (int)w, p);
		if (k < 0)
			break;
		used += (size_t)k;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
}

/* A 401 of libcurl's Basic or of no authentication, classified. */
static void classify_plain(struct ctl_transport *t, struct ctl_http_reply *r)
{
	if (r->status != 401)
		return;
	offered_list(t, r->offered, sizeof(r->offered));
	if (t->auth == CTL_AUTH_NONE)
		r->denial = CTL_DENIAL_NEEDS_AUTH;
	else if (offered(t, "Basic", NULL))
		r->denial = CTL_DENIAL_CREDENTIALS;
	else
		r->denial = t->https ? CTL_DENIAL_NOT_OFFERED
				     : CTL_DENIAL_BASIC_HTTP;
}

/* The client side failed: a 401 of our own making. */
static enum ctl_xfer client_denial(struct ctl_http_reply *r,
				   enum ctl_gss_error e, const struct buf *why)
{
	r->status = 401;
	r->denial = e == CTL_GSS_NO_TICKET ? CTL_DENIAL_NO_TICKET
					   : CTL_DENIAL_CLIENT;
	snprintf(r->detail, sizeof(r->detail), "%s",
		 why->data ? (const char *)why->data : "");
	return CTL_XFER_OK;
}

/* A Negotiate or Kerberos handshake whose last leg carries req. */
static enum ctl_xfer handshake(struct ctl_transport *t, const struct buf *req,
			       struct ctl_http_reply *reply, struct buf *err)
{
	struct buf why = BUF_INIT, tok = BUF_INIT, in = BUF_INIT;
	enum ctl_gss_error e = CTL_GSS_OK;
	enum ctl_xfer x = CTL_XFER_OK;
	bool complete = false;

	ctl_gss_free(t->gss);
	t->gss = ctl_gss_new(t->auth, t->host, t->user, t->password, &e, &why);
	if (t->gss == NULL) {
		x = client_denial(reply, e, &why);
		goto out;
	}
	const char *scheme = ctl_gss_scheme(t->gss);
	e = ctl_gss_step(t->gss, NULL, 0, &tok, &complete, &why);
	for (int leg = 0; e == CTL_GSS_OK && leg < MAX_LEGS; leg++) {
		struct buf h = BUF_INIT;
		buf_printf(&h, "Authorization: %s ", scheme);
		base64_encode(&h, tok.data, tok.len);
		buf_append_byte(&h, 0);
		buf_release(&tok);
		x = perform(t, req, (const char *)h.data, reply, err);
		buf_release_secret(&h);
		if (x != CTL_XFER_OK)
			goto out;
		buf_release(&in);
		bool has = offered(t, scheme, &in);
		if (reply->status == 401 && has && in.len > 0 && !complete) {
			e = ctl_gss_step(t->gss, in.data, in.len, &tok,
					 &complete, &why);
			if (e == CTL_GSS_OK && tok.len == 0)
				break; /* nothing more to say: refused */
			continue;
		}
		if (reply->status == 401) {
			offered_list(t, reply->offered, sizeof(reply->offered));
			reply->denial = has ? CTL_DENIAL_CREDENTIALS
					    : CTL_DENIAL_NOT_OFFERED;
			goto out;
		}
		/* Answered: the final token proves the service (Kerberos
		 * mutual authentication). */
		if (in.len > 0 && !complete) {
			e = ctl_gss_step(t->gss, in.data, in.len, &tok,
					 &complete, &why);
			if (e != CTL_GSS_OK) {
				buf_printf(err,
					   "mutual authentication failed: %s",
					   why.data ? (const char *)why.data
						    : "");
				buf_release(&reply->body);
				x = CTL_XFER_ERROR;
				goto out;
			}
		}
		if (ctl_gss_is_kerberos(t->gss) && !complete) {
			buf_append_str(err, "the service did not prove its "
					    "identity (no final Kerberos "
					    "token)");
			buf_release(&reply->body);
			x = CTL_XFER_ERROR;
			goto out;
		}
		t->authenticated = true;
		goto out;
	}
	if (e != CTL_GSS_OK) {
		x = client_denial(reply, e, &why);
		goto out;
	}
	/* Out of legs, or a step with nothing to send: refused. */
	reply->status = reply->status != 0 ? reply->status : 401;
	offered_list(t, reply->offered, sizeof(reply->offered));
	reply->denial = CTL_DENIAL_CREDENTIALS;
out:
	buf_release(&why);
	buf_release(&tok);
	buf_release(&in);
	return x;
}

enum ctl_xfer ctl_transport_post(struct ctl_transport *t, const struct buf *req,
				 struct ctl_http_reply *reply, struct buf *err)
{
	buf_init(&reply->body);
	reply->status = 0;
	reply->denial = CTL_DENIAL_NONE;
	reply->detail[0] = reply->offered[0] = '\0';
	if (t->curl == NULL) {
		buf_append_str(err, "libcurl could not be initialised");
		return CTL_XFER_ERROR;
	}
	if (!t->gss_mode) {
		enum ctl_xfer x = perform(t, req, NULL, reply, err);
		if (x == CTL_XFER_OK && t->socket_path == NULL)
			classify_plain(t, reply);
		return x;
	}
	if (t->authenticated) {
		enum ctl_xfer x = perform(t, req, NULL, reply, err);
		if (x != CTL_XFER_OK || reply->status != 401)
			return x;
		/* A new connection: authenticate it. */
		t->authenticated = false;
	}
	return handshake(t, req, reply, err);
}
