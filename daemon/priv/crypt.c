/*
 * crypt.c - message encryption over HTTP (MS-WSMV 2.2.9.1) in the helper,
 * where the GSS contexts live: the listener sends the parts of a
 * multipart/encrypted body and gets plaintext back, and sends a response
 * to seal.  Only a connection the helper authenticated itself by
 * Negotiate/Kerberos has a context; a failed unwrap ends it (an NTLM
 * context's RC4 stream cannot resynchronise).
 *
 * Entry points: handle_unwrap, handle_wrap.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conns.h"
#include "helper.h"
#include "log.h"
#include "seal-gss.h"

#define MAX_PARTS 4096

static struct hconn *context_of(uint64_t id, const char **why)
{
	struct hconn *c = conns_find(id);
	if (c == NULL || c->state != HCONN_AUTHENTICATED) {
		*why = "the connection is not authenticated";
		return NULL;
	}
	if (c->ctx == GSS_C_NO_CONTEXT) {
		*why = "no security context on this connection (Basic or "
		       "certificate authentication cannot encrypt)";
		return NULL;
	}
	return c;
}

void handle_unwrap(struct priv_msg *req, struct priv_msg *reply)
{
	uint64_t id = priv_get_u64(req);
	uint32_t n = priv_get_u32(req);
	if (n == 0 || n > MAX_PARTS)
		fatal("protocol violation: UNWRAP of %u parts", n);
	const char *why = NULL;
	struct hconn *c = context_of(id, &why);
	struct buf *plain = xcalloc(n, sizeof(*plain));
	char err[256] = "";
	uint32_t error = 0;
	for (uint32_t i = 0; i < n; i++) {
		size_t hl, sl;
		const uint8_t *h = priv_get_bytes(req, &hl);
		const uint8_t *s = priv_get_bytes(req, &sl);
		buf_init(&plain[i]);
		if (error != 0 || c == NULL)
			continue;
		if (sealgss_unwrap(c->ctx, c->ctx_is_krb5, h, hl, s, sl, &plain[i],
				   err, sizeof(err)) != 0)
			error = EBADMSG;
	}
	if (!priv_msg_ok(req))
		fatal("protocol violation: malformed UNWRAP");
	priv_msg_init(reply, PRIV_UNWRAP_RESULT);
	if (c == NULL) {
		priv_put_u32(reply, EACCES);
		priv_put_str(reply, why);
		priv_put_u32(reply, 0);
	} else if (error != 0) {
		log_audit("decryption remote=%s user=%s result=failure reason=\"%s\"",
			  LOG_ESC(c->remote), LOG_ESC(c->identity.user), LOG_ESC(err));
		if (!c->ctx_is_krb5) {
			/* NTLM seals with one RC4 stream per direction: after
			 * a message that did not unwrap, both sides are out
			 * of step for good.  Kerberos tokens stand alone, so
			 * that context stays usable. */
			conns_reset(c);
			error = EPIPE;
		}
		priv_put_u32(reply, error);
		priv_put_str(reply, err);
		priv_put_u32(reply, 0);
	} else {
		priv_put_u32(reply, 0);
		priv_put_str(reply, "");
		priv_put_u32(reply, n);
		for (uint32_t i = 0; i < n; i++)
			priv_put_bytes(reply, plain[i].data, plain[i].len);
	}
	for (uint32_t i = 0; i < n; i++)
		buf_release_secret(&plain[i]);
	free(plain);
}

void handle_wrap(struct priv_msg *req, struct priv_msg *reply)
{
	uint64_t id = priv_get_u64(req);
	size_t len;
	const uint8_t *data = priv_get_bytes(req, &len);
	if (!priv_msg_ok(req))
		fatal("protocol violation: malformed WRAP");
	const char *why = NULL;
	struct hconn *c = context_of(id, &why);
	struct buf hdr = BUF_INIT, sealed = BUF_INIT;
	char err[256] = "";
	priv_msg_init(reply, PRIV_WRAP_RESULT);
	if (c == NULL) {
		priv_put_u32(reply, EACCES);
		priv_put_str(reply, why);
	} else if (sealgss_wrap(c->ctx, c->ctx_is_krb5, data, len, &hdr, &sealed,
				err, sizeof(err)) != 0) {
		priv_put_u32(reply, EIO);
		priv_put_str(reply, err);
	} else {
		priv_put_u32(reply, 0);
		priv_put_str(reply, "");
	}
	priv_put_bytes(reply, hdr.data, hdr.len);
	priv_put_bytes(reply, sealed.data, sealed.len);
	buf_release(&hdr);
	buf_release(&sealed);
}
