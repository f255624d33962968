/*
 * gate.c - the one gate every request passes, in this order:
 *   1. size limits (before any byte is kept)
 *   2. authentication            (connection-bound; 401 + challenges)
 *   3. authorization             (groups; w:AccessDenied)
 *   4. decryption                (multipart/encrypted bodies)
 *   5. envelope parsing          (hardened libxml2)
 *   6. dispatch                  (action, resource URI -> handler; flags)
 *   7. rendering                 (response or fault; encryption)
 * The only way around steps 2-3 is an Identify request carrying
 * WSMANIDENTIFY: unauthenticated, which must then resolve to a dispatch
 * entry flagged DISPATCH_ANONYMOUS; anything else gets 401.  No handler
 * checks authentication itself, and a request starts unauthenticated.
 *
 * Must not: know about libmicrohttpd (listener.c), about particular auth
 * schemes or particular resources.  Entry points: gate_begin, gate_body,
 * gate_run, gate_finished.
 */
#include "autoconfig.h"

#include "listener/gate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "listener/auth/auth.h"
#include "listener/auth/seal.h"
#include "listener/helper-client.h"
#include "listener/identify-memo.h"
#include "listener/conn.h"
#include "listener/request.h"
#include "listener/dispatch.h"
#include "lib/wsman/envelope.h"
#include "lib/log.h"
#include "listener/operations.h"
#include "listener/resources/resources.h"
#include "listener/runtime.h"

/* Where a request stands in the gate; request_run resumes from here. */
enum phase {
	PHASE_START = 0,
	PHASE_AUTH_WAIT, /* the helper verifies a credential */
	PHASE_AUTHENTICATED,
	PHASE_HANDLER_WAIT, /* a handler waits (Command, Receive) */
};

void gate_finished(struct request *r, bool delivered)
{
	/* The handler that kept state for a request that waited (a Command,
	 * a Receive) hears how it ended. */
	if (r->on_finished != NULL) {
		void (*fn)(struct request *, bool) = r->on_finished;
		r->on_finished = NULL;
		fn(r, delivered);
	}
}

static size_t envelope_limit(const struct request *r)
{
	return (size_t)r->cfg->max_envelope_size_kb * 1024;
}

enum request_step gate_begin(struct request *r)
{
	if (r->has_content_length && r->content_length > envelope_limit(r)) {
		log_info("%s: request body of %llu bytes refused (limit %zu)",
			 r->conn->remote_addr,
			 (unsigned long long)r->content_length,
			 envelope_limit(r));
		request_respond_fault(r, FAULT_ENCODING_LIMIT_REQUEST, NULL,
				      WSMAN_UTF8, NULL);
		r->resp.close = true; /* the body is never read */
		return REQUEST_RESPOND;
	}
	/*
	 * Keep the body only when the answer can depend on it: an anonymous
	 * Identify, a request carrying credentials (the handshake may
	 * complete on it), or a request on an authenticated connection.
	 * Anything else is answered 401 before a byte of its body matters,
	 * so it is counted and dropped.
	 */
	r->keep_body = r->identify_unauthenticated ||
		       r->authorization != NULL ||
		       r->conn->auth.state == CONN_AUTHENTICATED ||
		       r->conn->local;
	return REQUEST_SUSPEND; /* i.e. "go on reading" */
}

void gate_body(struct request *r, const char *data, size_t len)
{
	r->body_bytes += len;
	if (r->too_large)
		return;
	if (r->body_bytes > envelope_limit(r)) {
		/* Only reachable without Content-Length (chunked uploads). */
		r->too_large = true;
		buf_release_secret(&r->body);
		return;
	}
	if (!r->keep_body)
		return;
	if (r->body.cap == 0 && r->has_content_length &&
	    r->conn->auth.state == CONN_AUTHENTICATED)
		/* The whole body in one allocation (gate_begin bounded
		 * Content-Length): growing by doubling copied it at every
		 * step and left up to half the buffer unused, for
		 * buf_release_secret to wipe anyway.  Only once the client
		 * has authenticated: a declared length costs nobody else
		 * memory before a byte of it has come. */
		buf_reserve(&r->body, r->content_length);
	buf_append(&r->body, data, len);
}

static enum request_step run_anonymous_identify(struct request *r)
{
	/* The same bytes as a request already answered below: the same
	 * answer, without parsing (identify-memo.h). */
	if (identify_memo_hit(r->content_type, r->body.data, r->body.len)) {
		r->resp.status = 200;
		r->resp.shared_identify = true;
		return REQUEST_RESPOND;
	}
	struct wsman_request req;
	enum fault_id fault = wsman_parse(r->body.data, r->body.len,
					  r->content_type, &req);
	if (fault != FAULT_NONE) {
		log_info("%s: anonymous request refused: %s",
			 r->conn->remote_addr, fault_name(fault));
		request_respond_fault(r, fault, req.message_id, WSMAN_UTF8,
				      NULL);
		wsman_request_release(&req);
		return REQUEST_RESPOND;
	}
	enum fault_id dfault;
	const struct dispatch_entry *e = dispatch_find(&req, &dfault);
	if (!req.is_identify || e == NULL || !(e->flags & DISPATCH_ANONYMOUS)) {
		/* Only Identify bypasses authentication, under any header. */
		wsman_request_release(&req);
		auth_respond_unauthorized(r);
		return REQUEST_RESPOND;
	}
	if (req.charset == WSMAN_UTF8) {
		r->resp.status = 200;
		r->resp.shared_identify = true;
		identify_memo_add(r->content_type, r->body.data, r->body.len);
	} else {
		struct buf *out = &r->resp.body;
		const struct buf *body = res_identify_anonymous_body();
		buf_append(out, body->data, body->len);
		wsman_transcode(out, req.charset);
		r->resp.status = 200;
		r->resp.content_type = wsman_content_type(req.charset);
	}
	wsman_request_release(&req);
	return REQUEST_RESPOND;
}

/* Step 7 for the handler's result: the response or the fault. */
static void finish_handler(struct request *r, const struct dispatch_entry *e,
			   enum fault_id fault)
{
	struct wsman_request *req = r->wreq;
	struct buf *out = &r->resp.body;
	if (fault == FAULT_NONE) {
		if (wsman_transcode(out, req->charset) != 0) {
			fault = FAULT_INTERNAL_ERROR;
		} else {
			r->resp.status = 200;
			r->resp.content_type = wsman_content_type(req->charset);
			return;
		}
	}
	log_debug("%s: %s %s -> %s", LOG_ESC(r->conn->remote_addr),
		  e ? e->name : "",
		  req->action ? LOG_ESC(req->action) : "(no action)",
		  fault_name(fault));
	request_respond_fault(r, fault, req->message_id, req->charset,
			      r->fault_message);
}

/* Runs (or runs again, once woken) the handler of r->wreq; returns
 * REQUEST_SUSPEND when it waits. */
static enum request_step run_handler(struct request *r)
{
	enum fault_id fault;
	const struct dispatch_entry *e = dispatch_find(r->wreq, &fault);
	if (e == NULL) {
		finish_handler(r, NULL, fault);
		return REQUEST_RESPOND;
	}
	buf_reset(&r->resp.body);
	r->handler_pending = false;
	fault = e->handler(r, r->wreq, &r->resp.body);
	if (fault == FAULT_NONE && r->handler_pending) {
		r->phase = PHASE_HANDLER_WAIT;
		return REQUEST_SUSPEND;
	}
	r->handler_pending = false;
	finish_handler(r, e, fault);
	return REQUEST_RESPOND;
}

/* Steps 5-7 for an authorized request: parse, dispatch, render. */
/* Parses r's body into r->wreq; FAULT_NONE or the parse's fault (r->wreq
 * is then set all the same, for the MessageID of the fault). */
static enum fault_id parse_envelope(struct request *r)
{
	if (r->wreq != NULL) {
		wsman_request_release(r->wreq);
		free(r->wreq);
	}
	r->wreq = xcalloc(1, sizeof(*r->wreq));
	enum fault_id fault = wsman_parse(r->body.data, r->body.len,
					  r->content_type, r->wreq);
	r->resource_uri = fault == FAULT_NONE ? r->wreq->resource_uri : NULL;
	return fault;
}

static enum request_step run_envelope(struct request *r)
{
	const struct identity *id = r->identity;
	/* Parsed already when authentication needed its resource URI (the
	 * body of such a request is never encrypted: there is no GSS
	 * context to decrypt it with). */
	enum fault_id fault = r->resource_uri != NULL && !r->encrypted
				      ? FAULT_NONE
				      : parse_envelope(r);
	struct wsman_request *req = r->wreq;
	if (fault != FAULT_NONE) {
		log_info("%s: user %s: request refused: %s",
			 LOG_ESC(r->conn->remote_addr), LOG_ESC(id->user),
			 fault_name(fault));
		request_respond_fault(r, fault, req->message_id, req->charset,
				      NULL);
		return REQUEST_RESPOND;
	}
	const struct dispatch_entry *e = dispatch_find(req, &fault);
	if (e != NULL && (e->flags & DISPATCH_ADMIN) &&
	    !(id->flags & PRIV_ID_ADMIN)) {
		log_audit_event(CONN_PEER(r->conn), "authorization",
				"user=%s result=denied reason=\"%s needs an "
				"administrator\"",
				LOG_ESC(id->user), LOG_ESC(e->name));
		request_respond_fault(r, FAULT_ACCESS_DENIED, req->message_id,
				      req->charset, NULL);
		return REQUEST_RESPOND;
	}
	int64_t limit = r->cfg->max_concurrent_operations_per_user;
	if (!operations_acquire(id->uid, limit)) {
		log_audit_event(
			CONN_PEER(r->conn), "quota",
			"user=%s result=denied reason=\"%lld operations in "
			"progress (Service.MaxConcurrentOperationsPerUser)\"",
			LOG_ESC(id->user), (long long)limit);
		request_respond_fault(r, FAULT_QUOTA_MAX_OPERATIONS,
				      req->message_id, req->charset, NULL);
		return REQUEST_RESPOND;
	}
	r->holds_operation = true;
	r->operation_uid = id->uid;
	return run_handler(r);
}

/* A body that cannot be decrypted: 400 with an empty body.  The
 * connection stays unless the security context was lost (see below). */
static void respond_undecryptable(struct request *r, const char *why)
{
	log_audit_event(CONN_PEER(r->conn), "decryption",
			"user=%s result=failure reason=\"%s\"",
			LOG_ESC(r->identity->user), LOG_ESC(why));
	response_release(&r->resp);
	buf_init(&r->resp.body);
	r->resp.status = 400;
}

/* Step 4: replaces r->body with the plaintext of a multipart/encrypted
 * body.  Returns 0, or -1 with r->resp set. */
static int decrypt_request(struct request *r, const char *protocol)
{
	struct seal_message msg;
	const char *why;
	if (seal_parse(r->body.data, r->body.len, r->content_type, &msg,
		       &why) != 0) {
		respond_undecryptable(r, why);
		return -1;
	}
	if (msg.credssp) {
		seal_message_release(&msg);
		respond_undecryptable(r, "CredSSP encryption is not supported");
		return -1;
	}
	if (msg.nparts > PRIV_MAX_PARTS) {
		seal_message_release(&msg);
		respond_undecryptable(r, "too many encrypted parts");
		return -1;
	}
	struct priv_sealed_part *parts = xcalloc(msg.nparts, sizeof(*parts));
	for (size_t i = 0; i < msg.nparts; i++) {
		parts[i].hdr = (struct priv_bytes){ msg.parts[i].hdr,
						    msg.parts[i].hdr_len };
		parts[i].sealed = (struct priv_bytes){
			msg.parts[i].sealed, msg.parts[i].sealed_len
		};
	}
	struct priv_unwrap req = { .conn = r->conn->id,
				   .n = msg.nparts,
				   .parts = parts };
	struct priv_msg reply;
	struct priv_unwrap_result res;
	int call = priv_request(PRIV_UNWRAP, &req, &reply, &why);
	free(parts);
	if (call == -2) {
		seal_message_release(&msg);
		respond_undecryptable(
			r, "the encrypted message is over the limits");
		return -1;
	}
	if (call != 0 || priv_decode_unwrap_result(&reply, &res, &why) != 0) {
		seal_message_release(&msg);
		priv_msg_release(&reply);
		request_internal_error(r);
		return -1;
	}
	struct buf plain = BUF_INIT;
	int rc = 0;
	if (res.error != 0) {
		respond_undecryptable(r, res.message);
		if (res.error == EPIPE) {
			/* the helper dropped the context (NTLM): start over on a
			 * new connection */
			identity_release(&r->conn->auth.id);
			r->conn->auth.state = CONN_UNAUTHENTICATED;
			r->resp.close = true;
		}
		rc = -1;
	} else if (res.n != msg.nparts) {
		respond_undecryptable(
			r, "the helper answered the wrong number of parts");
		rc = -1;
	} else {
		for (size_t i = 0; i < res.n && rc == 0; i++) {
			size_t len = res.plain[i].len;
			if (!seal_length_ok(msg.parts[i].original_length, len,
					    msg.parts[i].sealed_len)) {
				respond_undecryptable(
					r, "Length= does not match the "
					   "decrypted message");
				rc = -1;
				break;
			}
			buf_append(&plain, res.plain[i].data, len);
		}
	}
	if (rc == 0) {
		buf_release(&r->body); /* ciphertext: nothing to wipe */
		r->body = plain;
		buf_init(&plain);
		free(r->content_type);
		r->content_type = xstrdup(msg.content_type);
		r->encrypted = true;
		r->seal_multi = msg.multi;
		snprintf(r->seal_protocol, sizeof(r->seal_protocol), "%s",
			 protocol);
	}
	buf_release_secret(&plain);
	priv_msg_release(&reply);
	seal_message_release(&msg);
	return rc;
}

/* Seals one piece of plaintext and appends its group; 0 or -1. */
static int seal_piece(struct request *r, const uint8_t *p, size_t len,
		      const char *charset_type, struct buf *out)
{
	struct priv_wrap req = { .conn = r->conn->id, .plain = { p, len } };
	struct priv_msg reply;
	struct priv_wrap_result res;
	const char *why = NULL;
	int rc = -1;
	if (priv_request(PRIV_WRAP, &req, &reply, &why) != 0 ||
	    priv_decode_wrap_result(&reply, &res, &why) != 0) {
		log_err("%s: cannot encrypt the response: %s",
			LOG_ESC(r->conn->remote_addr),
			why != NULL ? why : "no answer from the helper");
	} else if (res.error != 0) {
		log_err("%s: cannot encrypt the response: %s",
			LOG_ESC(r->conn->remote_addr), LOG_ESC(res.message));
	} else {
		/* Length= is the sealed length: what the client's unwrap
		 * returns (plaintext, plus RC4's padding byte). */
		seal_build(out, r->seal_protocol, charset_type, res.sealed.len,
			   res.hdr.data, res.hdr.len, res.sealed.data,
			   res.sealed.len);
		rc = 0;
	}
	priv_msg_release(&reply);
	return rc;
}

/* Step 7 for encrypted requests: the answer, fault or not, is encrypted
 * the same way (Ruby's Kerberos client decrypts unconditionally), in
 * 16 KiB groups when the request came as multipart/x-multi-encrypted. */
static void encrypt_response(struct request *r)
{
	struct response *resp = &r->resp;
	if (resp->body.len == 0 || resp->shared_identify)
		return;
	const char *ct = resp->content_type ? resp->content_type
					    : wsman_content_type(WSMAN_UTF8);
	struct buf out = BUF_INIT;
	size_t step = r->seal_multi ? SEAL_CHUNK : resp->body.len;
	for (size_t off = 0; off < resp->body.len; off += step) {
		size_t n = resp->body.len - off < step ? resp->body.len - off
						       : step;
		if (seal_piece(r, resp->body.data + off, n, ct, &out) != 0) {
			buf_release(&out);
			request_internal_error(r);
			resp->close = true;
			return;
		}
	}
	seal_finish(&out);
	buf_release(&resp->body);
	resp->body = out;
	resp->content_type = seal_response_content_type(r->seal_protocol,
							r->seal_multi);
}

/* Step 3 onwards, once the caller is known. */
static enum request_step run_authenticated(struct request *r)
{
	const struct identity *id = r->identity;
	if (!(id->flags & PRIV_ID_AUTHORIZED)) {
		/* Authenticated but not authorized: Windows answers 500 with
		 * w:AccessDenied (the helper logged the decision). */
		request_respond_fault(r, FAULT_ACCESS_DENIED, NULL, WSMAN_UTF8,
				      NULL);
		return REQUEST_RESPOND;
	}
	if (r->body.len == 0) {
		/* An empty POST only sets up the security context (pywinrm,
		 * pypsrp, Ruby, Go, Windows all send one): 200, empty. */
		r->resp.status = 200;
		r->resp.content_type = NULL;
		return REQUEST_RESPOND;
	}
	char protocol[SEAL_PROTOCOL_MAX];
	if (seal_is_encrypted(r->content_type, protocol, sizeof(protocol))) {
		if (decrypt_request(r, protocol) != 0)
			return REQUEST_RESPOND;
	} else if (!r->conn->https && !r->conn->local &&
		   !r->cfg->allow_unencrypted) {
		log_audit_event(CONN_PEER(r->conn), "authorization",
				"user=%s result=denied reason=\"unencrypted "
				"message over HTTP; AllowUnencrypted is "
				"false\"",
				LOG_ESC(id->user));
		request_respond_fault(r, FAULT_UNENCRYPTED_REFUSED, NULL,
				      WSMAN_UTF8, NULL);
		return REQUEST_RESPOND;
	}
	return run_envelope(r);
}

enum request_step gate_run(struct request *r)
{
	switch ((enum phase)r->phase) {
	case PHASE_START:
		if (r->too_large) {
			log_info("%s: request body over %zu bytes refused",
				 r->conn->remote_addr, envelope_limit(r));
			request_respond_fault(r, FAULT_ENCODING_LIMIT_REQUEST,
					      NULL, WSMAN_UTF8, NULL);
			r->resp.close = true;
			return REQUEST_RESPOND;
		}
		if (r->identify_unauthenticated && r->authorization == NULL)
			return run_anonymous_identify(r);
		if (auth_wants_resource_uri(r))
			(void)parse_envelope(r); /* a bad one: refused later */
		switch (auth_authenticate(r)) {
		case AUTH_PENDING:
			r->phase = PHASE_AUTH_WAIT;
			return REQUEST_SUSPEND;
		case AUTH_OK: break;
		default: return REQUEST_RESPOND;
		}
		break;
	case PHASE_AUTH_WAIT:
		if (auth_resume(r) != AUTH_OK)
			return REQUEST_RESPOND;
		break;
	case PHASE_AUTHENTICATED: break;
	case PHASE_HANDLER_WAIT:
		if (run_handler(r) == REQUEST_SUSPEND)
			return REQUEST_SUSPEND;
		goto respond;
	}
	r->phase = PHASE_AUTHENTICATED;
	if (run_authenticated(r) == REQUEST_SUSPEND)
		return REQUEST_SUSPEND;
respond:
	if (r->encrypted)
		encrypt_response(r);
	if (r->final_auth_header != NULL)
		response_add_header(&r->resp, "WWW-Authenticate",
				    r->final_auth_header);
	return REQUEST_RESPOND;
}
