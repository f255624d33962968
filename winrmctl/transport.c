/*
 * transport.c - winrmctl's HTTP client (libcurl easy interface).
 *
 * Local mode: POST http://localhost/wsman over CURLOPT_UNIX_SOCKET_PATH,
 * no proxy, no authentication.  A failed connect is classified from the
 * socket's errno (ENOENT, ECONNREFUSED: the service is not running;
 * EACCES, EPERM: permission denied).
 *
 * Remote mode: the URL built from -remote, libcurl's Basic, SPNEGO
 * (GSS-API) and NTLM, TLS verification unless -skipCAcheck/-skipCNcheck.
 * WS-Management message encryption over HTTP is not implemented (main
 * insists on https or -unencrypted).
 *
 * Must not: print, exit, log credentials, or follow redirects.
 *
 * Entry points: ctl_transport_new, ctl_transport_post, ctl_transport_free.
 */
#include "autoconfig.h"

#include "winrmctl/transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

/* A response larger than this is refused (winrmd answers at most
 * MaxEnvelopeSizekb; Windows at most 4 GB, which no config needs). */
#define MAX_RESPONSE (64u * 1024 * 1024)

struct ctl_transport {
	CURL *curl;
	struct curl_slist *headers;
	char *socket_path; /* local mode only */
};

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
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_NEGOTIATE);
		break;
	case CTL_AUTH_DEFAULT:
	case CTL_AUTH_NEGOTIATE:
		curl_easy_setopt(c, CURLOPT_HTTPAUTH,
				 (long)(CURLAUTH_NEGOTIATE | CURLAUTH_NTLM));
		break;
	}
	if (o->auth != CTL_AUTH_NONE) {
		/* Negotiate needs a (possibly empty) user to be attempted. */
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
	free(t);
	curl_global_cleanup();
}

/* Why connecting to the admin socket failed. */
static enum ctl_xfer local_failure(const struct ctl_transport *t, long os_errno,
				   struct buf *err)
{
	struct stat st;

	if (os_errno == 0 && stat(t->socket_path, &st) < 0)
		os_errno = errno;
	switch (os_errno) {
	case ENOENT:
	case ENOTDIR:
	case ECONNREFUSED:
	case ENOTSOCK:
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

enum ctl_xfer ctl_transport_post(struct ctl_transport *t, const struct buf *req,
				 struct ctl_http_reply *reply, struct buf *err)
{
	CURL *c = t->curl;
	CURLcode rc;
	long os_errno = 0;

	buf_init(&reply->body);
	reply->status = 0;
	if (c == NULL) {
		buf_append_str(err, "libcurl could not be initialised");
		return CTL_XFER_ERROR;
	}
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)req->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
	rc = curl_easy_perform(c);
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
