/*
 * request.c - one request as it goes through the listener (request.h):
 * its memory, its response, the hooks back to the HTTP layer, and the
 * one way for a request to call the helper and wait for the answer.
 *
 * Must not: decide anything about a request (gate.c does), or know
 * libmicrohttpd (listener.c passes its hooks in).
 */
#include "autoconfig.h"

#include "listener/request.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/wsman/envelope.h"
#include "listener/helper-client.h"
#include "listener/operations.h"
#include "listener/runtime.h"

struct request *request_new(struct conn *conn, struct winrmd_config *cfg,
			    const struct request_hooks *hooks)
{
	struct request *r = xcalloc(1, sizeof(*r));
	r->conn = conn;
	r->cfg = cfg;
	r->hooks = *hooks;
	buf_init(&r->body);
	buf_init(&r->resp.body);
	priv_msg_init(&r->auth_reply, PRIV_NONE);
	return r;
}

void response_add_header(struct response *resp, const char *name,
			 const char *value)
{
	if (resp->n_headers >= RESPONSE_MAX_HEADERS) {
		log_err("too many response headers; dropping %s", name);
		return;
	}
	resp->headers[resp->n_headers].name = name;
	resp->headers[resp->n_headers].value = xstrdup(value);
	resp->n_headers++;
}

void response_release(struct response *resp)
{
	buf_release(&resp->body);
	for (unsigned i = 0; i < resp->n_headers; i++)
		free(resp->headers[i].value);
	resp->n_headers = 0;
	resp->content_type = NULL;
	resp->shared_identify = false;
}

void request_free(struct request *r)
{
	if (r == NULL)
		return;
	if (r->on_finished !=
	    NULL) /* the request ended without gate_finished */
		r->on_finished(r, false);
	if (r->holds_operation)
		operations_release(r->operation_uid);
	free(r->content_type);
	if (r->authorization != NULL)
		free_secret(r->authorization, strlen(r->authorization));
	free(r->final_auth_header);
	free(r->fault_message);
	if (r->handler_ctx != NULL && r->handler_ctx_free != NULL)
		r->handler_ctx_free(r->handler_ctx);
	if (r->wreq != NULL) {
		wsman_request_release(r->wreq);
		free(r->wreq);
	}
	buf_release_secret(&r->body);
	response_release(&r->resp);
	priv_msg_release(&r->auth_reply);
	config_unref(r->cfg);
	free(r);
}

/* A SOAP fault, HTTP 500, in the request's charset when it is known. */
void request_respond_fault(struct request *r, enum fault_id id,
			   const char *relates_to, enum wsman_charset cs,
			   const char *message)
{
	struct response *resp = &r->resp;
	buf_reset(&resp->body);
	if (r->fault_provider)
		fault_render_provider(&resp->body, id, relates_to,
				      runtime_hostname(), message);
	else
		fault_render(&resp->body, id, relates_to, runtime_hostname(),
			     message);
	if (wsman_transcode(&resp->body, cs) != 0)
		cs = WSMAN_UTF8;
	resp->status = fault_get(id)->http_status;
	resp->content_type = wsman_content_type(cs);
}

void request_internal_error(struct request *r)
{
	response_release(&r->resp);
	buf_init(&r->resp.body);
	request_respond_fault(r, FAULT_INTERNAL_ERROR, NULL, WSMAN_UTF8, NULL);
}

void request_wake(struct request *r)
{
	r->hooks.wake(r->hooks.ctx);
}

bool request_peer_gone(struct request *r)
{
	return r->hooks.peer_gone(r->hooks.ctx);
}

/* One helper call of a request: where the answer goes. */
struct helper_wait {
	struct request *r;
	struct priv_msg *answer;
};

static void helper_answered(void *arg, struct priv_msg *reply)
{
	struct helper_wait *w = arg;
	struct request *r = w->r;
	/* Move the answer (body, arena and fds) to where the request keeps
	 * it, then wake the request; r must not be touched after that. */
	*w->answer = *reply;
	priv_msg_init(reply, PRIV_NONE);
	free(w);
	request_wake(r);
}

int request_helper_call(struct request *r, uint16_t type, const void *req,
			int fd, struct priv_msg *answer, const char **why_r)
{
	struct priv_msg m;
	priv_msg_release(answer);
	priv_msg_init(answer, PRIV_NONE);
	if (priv_encode(&m, type, req, why_r) != 0) {
		if (fd >= 0)
			close(fd);
		return -2;
	}
	if (fd >= 0 && priv_put_fd(&m, fd) != 0) { /* the message owns it now */
		close(fd);
		priv_msg_release(&m);
		return -1;
	}
	struct helper_wait *w = xmalloc(sizeof(*w));
	w->r = r;
	w->answer = answer;
	if (priv_call_async(&m, helper_answered, w) != 0) {
		free(w);
		return -1;
	}
	return 0;
}
