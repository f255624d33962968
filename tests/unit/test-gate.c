/*
 * test-gate.c - the request gate (listener/gate.c) without HTTP and
 * without the helper: size limits, the 401 and its challenges, the only
 * way around authentication (anonymous Identify), refusals of unknown or
 * malformed schemes, and for a connection the helper had authenticated:
 * authorization, the administrators-only resources, AllowUnencrypted,
 * and a credential the helper cannot be asked about (it is not running:
 * 500, never an identity).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/priv/proto.h"
#include "listener/auth/auth.h"
#include "lib/config.h"
#include "listener/conn.h"
#include "listener/gate.h"
#include "listener/identify-memo.h"
#include "listener/request.h"
#include "listener/resources/resources.h"
#include "listener/runtime.h"
#include "tests/lib/tap.h"

#define IDENTIFY                                                               \
	"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "     \
	"xmlns:wsmid=\"http://schemas.dmtf.org/wbem/wsman/identity/1/"         \
	"wsmanidentity.xsd\"><s:Header/><s:Body><wsmid:Identify/>"             \
	"</s:Body></s:Envelope>"

#define CONFIG_GET                                                             \
	"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "     \
	"xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "        \
	"xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">"          \
	"<s:Header><a:To>http://localhost:5985/wsman</a:To>"                   \
	"<w:ResourceURI s:mustUnderstand=\"true\">http://schemas.microsoft."   \
	"com/wbem/wsman/1/config</w:ResourceURI><a:ReplyTo><a:Address>"        \
	"http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"      \
	"</a:Address></a:ReplyTo><a:Action s:mustUnderstand=\"true\">"         \
	"http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action>"        \
	"<a:MessageID>uuid:00000000-0000-0000-0000-000000000001"               \
	"</a:MessageID></s:Header><s:Body/></s:Envelope>"

static int wakes;

static void wake(void *ctx)
{
	(void)ctx;
	wakes++;
}

static bool peer_gone(void *ctx)
{
	(void)ctx;
	return false;
}

static struct conn conn;

static void use_config(const char *text)
{
	char *error = NULL;
	struct winrmd_config *cfg = config_load_string(text, "test", &error);
	if (cfg == NULL) {
		fprintf(stderr, "config: %s\n", error);
		exit(1);
	}
	runtime_set_config(cfg);
}

/* A request on conn with these headers and body, run through the gate
 * to its answer (caller frees). */
static struct request *run(const char *authorization, bool anonymous,
			   const char *body)
{
	struct request_hooks hooks = { wake, peer_gone, NULL };
	struct request *r = request_new(&conn, runtime_config(), &hooks);
	r->content_type = xstrdup("application/soap+xml;charset=UTF-8");
	r->authorization = authorization ? xstrdup(authorization) : NULL;
	r->identify_unauthenticated = anonymous;
	r->has_content_length = true;
	r->content_length = strlen(body);
	if (gate_begin(r) == REQUEST_RESPOND)
		return r;
	gate_body(r, body, strlen(body));
	enum request_step step = gate_run(r);
	ok(step == REQUEST_RESPOND, "the gate answers without waiting");
	return r;
}

static bool has_header(const struct request *r, const char *name,
		       const char *prefix)
{
	for (unsigned i = 0; i < r->resp.n_headers; i++)
		if (strcmp(r->resp.headers[i].name, name) == 0 &&
		    strncmp(r->resp.headers[i].value, prefix, strlen(prefix)) ==
			    0)
			return true;
	return false;
}

static bool body_has(const struct request *r, const char *text)
{
	return r->resp.body.data != NULL &&
	       strstr((const char *)r->resp.body.data, text) != NULL;
}

static void done(struct request *r)
{
	gate_finished(r, true);
	request_free(r);
}

static void test_unauthenticated(void)
{
	memset(&conn, 0, sizeof(conn));
	conn.id = 1;
	strcpy(conn.remote_addr, "192.0.2.1");
	use_config("Service = { MaxEnvelopeSizekb = 32; };");

	struct request_hooks hooks = { wake, peer_gone, NULL };
	struct request *r = request_new(&conn, runtime_config(), &hooks);
	r->has_content_length = true;
	r->content_length = 40 * 1024;
	is_int(gate_begin(r), REQUEST_RESPOND,
	       "a body over MaxEnvelopeSizekb is refused before it is read");
	is_int(r->resp.status, 500, "with HTTP 500");
	ok(body_has(r, "EncodingLimit"), "and w:EncodingLimit");
	ok(r->resp.close, "closing the connection");
	done(r);

	r = run(NULL, false, IDENTIFY);
	is_int(r->resp.status, 401, "no credentials: 401");
	ok(has_header(r, "WWW-Authenticate", "Negotiate"),
	   "offering Negotiate");
	ok(has_header(r, "WWW-Authenticate", "Kerberos"), "and Kerberos");
	ok(!has_header(r, "WWW-Authenticate", "Basic"),
	   "not Basic (off by default)");
	ok(r->identity == NULL, "nobody");
	done(r);

	r = run(NULL, true, IDENTIFY);
	is_int(r->resp.status, 200, "anonymous Identify: 200");
	ok(r->resp.shared_identify, "the anonymous answer");
	done(r);

	r = run(NULL, true, CONFIG_GET);
	is_int(r->resp.status, 401,
	       "the anonymous header on anything but Identify: 401");
	done(r);

	/* The Identify above is in the memo now (identify-memo.h). */
	ok(identify_memo_hit("application/soap+xml;charset=UTF-8", IDENTIFY,
			     strlen(IDENTIFY)),
	   "a valid anonymous Identify is remembered");
	r = run(NULL, true, IDENTIFY);
	ok(r->resp.status == 200 && r->resp.shared_identify,
	   "the same Identify again: the same answer");
	done(r);
	r = run(NULL, true, CONFIG_GET);
	is_int(r->resp.status, 401,
	       "with an Identify remembered, anything else anonymous: 401");
	done(r);
	char broken[] = IDENTIFY;
	broken[strlen(broken) - 3] = '!'; /* "</s:Envelope>" loses its '>' */
	r = run(NULL, true, broken);
	ok(r->resp.status == 400 || r->resp.status == 500,
	   "an Identify one byte off is parsed and refused (%d)",
	   r->resp.status);
	ok(!r->resp.shared_identify, "without the Identify answer");
	done(r);
	ok(!identify_memo_hit("application/soap+xml;charset=UTF-8", broken,
			      strlen(broken)),
	   "and is not remembered");

	r = run("Digest username=\"x\"", false, IDENTIFY);
	is_int(r->resp.status, 401, "Digest: 401");
	ok(r->resp.close, "and the connection closes, as Windows does");
	done(r);

	r = run(" ", false, IDENTIFY);
	is_int(r->resp.status, 401, "a malformed Authorization header: 401");
	done(r);

	/* The helper is not running: a credential cannot be checked. */
	r = run("Negotiate YIIB", false, IDENTIFY);
	ok(r->resp.status == 500 && r->identity == NULL,
	   "a credential without a helper: 500, no identity");
	done(r);
	ok(conn.auth.state != CONN_AUTHENTICATED,
	   "the connection stays unauthenticated");
}

/* A connection the helper authenticated (what PRIV_AUTH_RESULT OK
 * leaves behind in the listener). */
static void authenticate(unsigned flags)
{
	identity_release(&conn.auth.id);
	memset(&conn.auth, 0, sizeof(conn.auth));
	conn.auth.state = CONN_AUTHENTICATED;
	conn.auth.method = &auth_method_negotiate;
	strcpy(conn.auth.scheme, "Negotiate");
	identity_set(&conn.auth.id, "alice@TEST", "alice", 1000, 1000, flags,
		     "Kerberos");
}

static void test_authenticated(void)
{
	use_config("Service = { AllowUnencrypted = true; };");
	authenticate(PRIV_ID_AUTHORIZED);
	struct request *r = run(NULL, false, IDENTIFY);
	is_int(r->resp.status, 200, "an authorized connection: Identify 200");
	ok(body_has(r, "ProductVersion"), "with the product details");
	ok(r->identity == &conn.auth.id, "as the connection's identity");
	done(r);

	r = run(NULL, false, CONFIG_GET);
	is_int(r->resp.status, 500, "a remote user's Get of winrm/config: 500");
	ok(body_has(r, "AccessDenied"), "w:AccessDenied (administrators only)");
	done(r);

	authenticate(PRIV_ID_AUTHORIZED | PRIV_ID_ADMIN);
	r = run(NULL, false, CONFIG_GET);
	is_int(r->resp.status, 200,
	       "an administrator's Get of winrm/config: 200");
	ok(body_has(r, "MaxEnvelopeSizekb"), "with the configuration");
	done(r);

	authenticate(0);
	r = run(NULL, false, IDENTIFY);
	is_int(r->resp.status, 500, "authenticated, not authorized: 500");
	ok(body_has(r, "AccessDenied"), "w:AccessDenied");
	done(r);

	authenticate(PRIV_ID_AUTHORIZED);
	r = run(NULL, false, "");
	ok(r->resp.status == 200 && r->resp.body.len == 0,
	   "an empty POST on an authenticated connection: 200, empty");
	done(r);

	use_config("Service = { AllowUnencrypted = false; };");
	r = run(NULL, false, IDENTIFY);
	is_int(r->resp.status, 500,
	       "plaintext over HTTP with AllowUnencrypted=false: 500");
	ok(body_has(r, "2150859202") || body_has(r, "Unencrypted") ||
		   body_has(r, "unencrypted"),
	   "the unencrypted-traffic fault");
	done(r);

	conn.https = true;
	r = run(NULL, false, IDENTIFY);
	is_int(r->resp.status, 200, "the same over HTTPS: 200");
	done(r);
	identity_release(&conn.auth.id);
	is_int(wakes, 0, "nothing waited");
}

int main(void)
{
	runtime_init();
	res_identify_init();
	test_unauthenticated();
	test_authenticated();
	runtime_set_config(NULL);
	return tap_done();
}
