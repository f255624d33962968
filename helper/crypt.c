/*
 * crypt.c - message encryption over HTTP (MS-WSMV 2.2.9.1) in the helper,
 * where the GSS contexts live: the listener sends the parts of a
 * multipart/encrypted body and gets plaintext back, and sends a response
 * to seal.  Only a connection the helper authenticated itself by
 * Negotiate/Kerberos has a context; a failed unwrap ends it (an NTLM
 * context's RC4 stream cannot resynchronise).
 *
 * Entry point: module_crypt (UNWRAP, WRAP).
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helper/conns.h"
#include "lib/log.h"
#include "helper/loop.h"
#include "helper/module.h"
#include "helper/seal-gss.h"

/* c is authenticated (the request table checked it). */
static struct hconn *context_of(struct hconn *c, const char **why)
{
	if (c->ctx == GSS_C_NO_CONTEXT && c->cfx == NULL) {
		*why = "no security context on this connection (Basic or "
		       "certificate authentication cannot encrypt)";
		return NULL;
	}
	return c;
}

static void handle_unwrap(struct helper_call *call)
{
	const struct priv_unwrap *r = call->args;
	if (r->n == 0)
		fatal("protocol violation: UNWRAP of no parts");
	const char *why = NULL;
	struct hconn *c = context_of(call->conn, &why);
	if (c == NULL) {
		helper_refuse(call->seq, PRIV_UNWRAP_RESULT, EACCES, why);
		return;
	}
	struct buf *plain = xcalloc(r->n, sizeof(*plain));
	struct priv_bytes *views = xcalloc(r->n, sizeof(*views));
	char err[256] = "";
	uint32_t error = 0;
	for (size_t i = 0; i < r->n && error == 0; i++) {
		const struct priv_sealed_part *p = &r->parts[i];
		buf_init(&plain[i]);
		if (sealgss_unwrap(&c->ctx, &c->cfx, c->ctx_is_krb5,
				   p->hdr.data, p->hdr.len, p->sealed.data,
				   p->sealed.len, &plain[i], err,
				   sizeof(err)) != 0)
			error = EBADMSG;
		views[i] = (struct priv_bytes){ plain[i].data, plain[i].len };
	}
	if (error != 0) {
		log_audit_event(HCONN_PEER(c), "decryption",
				"user=%s result=failure reason=\"%s\"",
				LOG_ESC(c->identity.user), LOG_ESC(err));
		if (!c->ctx_is_krb5) {
			/* NTLM seals with one RC4 stream per direction: after
			 * a message that did not unwrap, both sides are out
			 * of step for good.  Kerberos tokens stand alone, so
			 * that context stays usable. */
			conns_reset(c);
			error = EPIPE;
		}
		helper_refuse(call->seq, PRIV_UNWRAP_RESULT, error, err);
	} else {
		struct priv_unwrap_result res = { .n = r->n, .plain = views };
		helper_answer(call->seq, PRIV_UNWRAP_RESULT, &res, NULL, 0);
	}
	for (size_t i = 0; i < r->n; i++)
		buf_release_secret(&plain[i]);
	free(plain);
	free(views);
}

static void handle_wrap(struct helper_call *call)
{
	const struct priv_wrap *r = call->args;
	const char *why = NULL;
	struct hconn *c = context_of(call->conn, &why);
	if (c == NULL) {
		helper_refuse(call->seq, PRIV_WRAP_RESULT, EACCES, why);
		return;
	}
	struct buf hdr = BUF_INIT, sealed = BUF_INIT;
	char err[256] = "";
	if (sealgss_wrap(&c->ctx, &c->cfx, c->ctx_is_krb5, r->plain.data,
			 r->plain.len, &hdr, &sealed, err, sizeof(err)) != 0) {
		helper_refuse(call->seq, PRIV_WRAP_RESULT, EIO, err);
	} else {
		struct priv_wrap_result res = {
			.hdr = { hdr.data, hdr.len },
			.sealed = { sealed.data, sealed.len },
		};
		helper_answer(call->seq, PRIV_WRAP_RESULT, &res, NULL, 0);
	}
	buf_release(&hdr);
	buf_release(&sealed);
}

static const struct helper_request requests[] = {
	{ PRIV_UNWRAP, REQ_AUTHENTICATED, PRIV_UNWRAP_RESULT, handle_unwrap },
	{ PRIV_WRAP, REQ_AUTHENTICATED, PRIV_WRAP_RESULT, handle_wrap },
};

const struct helper_module module_crypt = {
	.name = "crypt",
	HELPER_REQUESTS(requests),
};
