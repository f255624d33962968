/*
 * seal-gss.c - unwrap and wrap of WinRM encrypted message parts with an
 * established GSS context (NTLM through gss_wrap/gss_unwrap, Kerberos
 * through the IOV calls); seal-gss.h explains the layouts.
 *
 * Must not: return partial or unauthenticated plaintext, accept a token
 * without confidentiality, leave plaintext behind in memory it frees, log
 * or exit.
 * Entry points: sealgss_unwrap, sealgss_wrap.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

#include "helper/krb5-cfx.h"
#include "helper/seal-gss.h"

/* "what: major text; minor text" into err. */
static void gss_error(char *err, size_t errlen, const char *what,
		      OM_uint32 major, OM_uint32 minor)
{
	struct buf b = BUF_INIT;
	OM_uint32 m, ctx;
	gss_buffer_desc text;

	buf_printf(&b, "%s:", what);
	ctx = 0;
	do {
		text.length = 0;
		text.value = NULL;
		if (GSS_ERROR(gss_display_status(&m, major, GSS_C_GSS_CODE,
						 GSS_C_NO_OID, &ctx, &text)))
			break;
		buf_printf(&b, " %.*s", (int)text.length,
			   (const char *)text.value);
		gss_release_buffer(&m, &text);
	} while (ctx != 0);
	if (minor != 0) {
		ctx = 0;
		text.length = 0;
		text.value = NULL;
		if (!GSS_ERROR(gss_display_status(&m, minor, GSS_C_MECH_CODE,
						  GSS_C_NO_OID, &ctx, &text))) {
			buf_printf(&b, "; %.*s", (int)text.length,
				   (const char *)text.value);
			gss_release_buffer(&m, &text);
		}
	}
	snprintf(err, errlen, "%s", (const char *)b.data);
	buf_release(&b);
}

static void set_err(char *err, size_t errlen, const char *text)
{
	snprintf(err, errlen, "%s", text);
}

/*
 * The refusals on top of GSS_ERROR: a token without confidentiality, and
 * a replay.  MIT reports duplicates and tokens too old to check only as
 * supplementary bits of a successful unwrap; gaps and reordering are let
 * through (never a replay: each token is still seen once).
 */
static const char *refusal(OM_uint32 major, int conf)
{
	if (major & (GSS_S_DUPLICATE_TOKEN | GSS_S_OLD_TOKEN))
		return "replayed message refused";
	if (!conf)
		return "message is not encrypted (integrity-only token "
		       "refused)";
	return NULL;
}

/* Wipes and drops whatever was appended to b after length keep. */
static void buf_truncate_wipe(struct buf *b, size_t keep)
{
	if (b->len > keep)
		memset(b->data + keep, 0, b->len - keep);
	b->len = keep;
	if (b->data != NULL)
		b->data[keep] = '\0';
}

/* Appends a GSS-allocated buffer to b, then wipes and releases it. */
static void take_gss_buffer(struct buf *b, gss_buffer_t g)
{
	OM_uint32 m;

	buf_append(b, g->value, g->length);
	if (g->value != NULL)
		memset(g->value, 0, g->length);
	gss_release_buffer(&m, g);
}

/* gss_unwrap(hdr || sealed) for NTLM and RFC 1964-style Kerberos tokens. */
static int unwrap_plain(gss_ctx_id_t ctx, const uint8_t *hdr, size_t hdr_len,
			const uint8_t *sealed, size_t sealed_len,
			struct buf *plain, char *err, size_t errlen)
{
	OM_uint32 major, minor, m;
	int conf = 0;
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
	struct buf token = BUF_INIT;

	buf_append(&token, hdr, hdr_len);
	buf_append(&token, sealed, sealed_len);
	in.length = token.len;
	in.value = token.data;
	major = gss_unwrap(&minor, ctx, &in, &out, &conf, NULL);
	buf_release(&token);
	if (GSS_ERROR(major)) {
		gss_error(err, errlen, "gss_unwrap", major, minor);
		gss_release_buffer(&m, &out);
		return -1;
	}
	const char *why = refusal(major, conf);
	if (why != NULL) {
		if (out.value != NULL)
			memset(out.value, 0, out.length);
		gss_release_buffer(&m, &out);
		set_err(err, errlen, why);
		return -1;
	}
	take_gss_buffer(plain, &out);
	return 0;
}

/* gss_unwrap_iov with HEADER and DATA for RFC 4121 (CFX) tokens. */
static int unwrap_cfx(gss_ctx_id_t ctx, const uint8_t *hdr, size_t hdr_len,
		      const uint8_t *sealed, size_t sealed_len,
		      struct buf *plain, char *err, size_t errlen)
{
	OM_uint32 major, minor;
	int conf = 0;
	gss_iov_buffer_desc iov[2];
	size_t keep = plain->len;
	uint8_t *h = xmalloc(hdr_len);

	/* Both buffers are decrypted in place: work on copies. */
	memcpy(h, hdr, hdr_len);
	buf_append(plain, sealed, sealed_len);
	iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
	iov[0].buffer.length = hdr_len;
	iov[0].buffer.value = h;
	iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
	iov[1].buffer.length = sealed_len;
	iov[1].buffer.value = plain->data + keep;
	major = gss_unwrap_iov(&minor, ctx, &conf, NULL, iov, 2);
	free_secret(h, hdr_len);
	if (GSS_ERROR(major)) {
		buf_truncate_wipe(plain, keep);
		gss_error(err, errlen, "gss_unwrap_iov", major, minor);
		return -1;
	}
	const char *why = refusal(major, conf);
	if (why != NULL) {
		buf_truncate_wipe(plain, keep);
		set_err(err, errlen, why);
		return -1;
	}
	if (iov[1].buffer.length > sealed_len) {
		buf_truncate_wipe(plain, keep);
		set_err(err, errlen, "gss_unwrap_iov grew the data buffer");
		return -1;
	}
	buf_truncate_wipe(plain, keep + iov[1].buffer.length);
	return 0;
}

/* For a Kerberos context: our RFC 4121 code once it has the context,
 * taking it over at the first message when it can (krb5-cfx.h). */
static struct krb5_cfx *cfx_of(gss_ctx_id_t *ctx, struct krb5_cfx **cfx)
{
	if (cfx == NULL)
		return NULL;
	if (*cfx == NULL && *ctx != GSS_C_NO_CONTEXT)
		*cfx = cfx_take_over(ctx);
	return *cfx;
}

int sealgss_unwrap(gss_ctx_id_t *ctxp, struct krb5_cfx **cfx, bool krb5,
		   const uint8_t *hdr, size_t hdr_len, const uint8_t *sealed,
		   size_t sealed_len, struct buf *plain, char *err,
		   size_t errlen)
{
	struct krb5_cfx *own = krb5 ? cfx_of(ctxp, cfx) : NULL;
	gss_ctx_id_t ctx = *ctxp;
	if (own == NULL && ctx == GSS_C_NO_CONTEXT) {
		set_err(err, errlen, "no security context");
		return -1;
	}
	if (hdr_len == 0) {
		set_err(err, errlen, "empty message header");
		return -1;
	}
	if (!krb5) {
		if (hdr_len != SEALGSS_NTLM_SIG_LEN) {
			set_err(err, errlen, "NTLM signature is not 16 bytes");
			return -1;
		}
		return unwrap_plain(ctx, hdr, hdr_len, sealed, sealed_len,
				    plain, err, errlen);
	}
	/* RFC 4121 tokens start with TOK_ID 05 04; RFC 1964 ones with the
	 * 0x60 of their GSS framing. */
	if (own != NULL)
		return cfx_unwrap(own, hdr, hdr_len, sealed, sealed_len, plain,
				  err, errlen);
	if (hdr_len >= 16 && hdr[0] == 0x05 && hdr[1] == 0x04)
		return unwrap_cfx(ctx, hdr, hdr_len, sealed, sealed_len, plain,
				  err, errlen);
	if (hdr[0] == 0x60)
		return unwrap_plain(ctx, hdr, hdr_len, sealed, sealed_len,
				    plain, err, errlen);
	set_err(err, errlen, "not a Kerberos wrap token");
	return -1;
}

static int wrap_ntlm(gss_ctx_id_t ctx, const uint8_t *plain, size_t len,
		     struct buf *hdr, struct buf *sealed, char *err,
		     size_t errlen)
{
	OM_uint32 major, minor, m;
	int conf = 0;
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;

	in.length = len;
	in.value = (void *)plain;
	major = gss_wrap(&minor, ctx, 1, GSS_C_QOP_DEFAULT, &in, &conf, &out);
	if (GSS_ERROR(major)) {
		gss_error(err, errlen, "gss_wrap", major, minor);
		gss_release_buffer(&m, &out);
		return -1;
	}
	if (!conf || out.length != len + SEALGSS_NTLM_SIG_LEN) {
		gss_release_buffer(&m, &out);
		set_err(err, errlen,
			!conf ? "gss_wrap did not encrypt"
			      : "gss_wrap output is not signature + data");
		return -1;
	}
	buf_append(hdr, out.value, SEALGSS_NTLM_SIG_LEN);
	buf_append(sealed, (const uint8_t *)out.value + SEALGSS_NTLM_SIG_LEN,
		   len);
	gss_release_buffer(&m, &out);
	return 0;
}

static int wrap_krb5(gss_ctx_id_t ctx, const uint8_t *plain, size_t len,
		     struct buf *hdr, struct buf *sealed, char *err,
		     size_t errlen)
{
	OM_uint32 major, minor, m;
	int conf = 0;
	gss_iov_buffer_desc iov[3];
	size_t keep = sealed->len;

	/* DATA is encrypted in place, inside sealed. */
	buf_append(sealed, plain, len);
	memset(iov, 0, sizeof(iov));
	iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
	iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
	iov[1].buffer.length = len;
	iov[1].buffer.value = sealed->data + keep;
	iov[2].type = GSS_IOV_BUFFER_TYPE_PADDING |
		      GSS_IOV_BUFFER_FLAG_ALLOCATE;
	major = gss_wrap_iov(&minor, ctx, 1, GSS_C_QOP_DEFAULT, &conf, iov, 3);
	if (GSS_ERROR(major) || !conf || iov[1].buffer.length != len) {
		buf_truncate_wipe(sealed, keep);
		if (GSS_ERROR(major))
			gss_error(err, errlen, "gss_wrap_iov", major, minor);
		else
			set_err(err, errlen,
				"gss_wrap_iov did not encrypt "
				"in place");
		gss_release_iov_buffer(&m, iov, 3);
		return -1;
	}
	buf_append(hdr, iov[0].buffer.value, iov[0].buffer.length);
	buf_append(sealed, iov[2].buffer.value, iov[2].buffer.length);
	gss_release_iov_buffer(&m, iov, 3);
	return 0;
}

int sealgss_wrap(gss_ctx_id_t *ctxp, struct krb5_cfx **cfx, bool krb5,
		 const uint8_t *plain, size_t len, struct buf *hdr,
		 struct buf *sealed, char *err, size_t errlen)
{
	struct krb5_cfx *own = krb5 ? cfx_of(ctxp, cfx) : NULL;
	gss_ctx_id_t ctx = *ctxp;
	if (own != NULL)
		return cfx_wrap(own, plain, len, hdr, sealed, err, errlen);
	if (ctx == GSS_C_NO_CONTEXT) {
		set_err(err, errlen, "no security context");
		return -1;
	}
	if (krb5)
		return wrap_krb5(ctx, plain, len, hdr, sealed, err, errlen);
	return wrap_ntlm(ctx, plain, len, hdr, sealed, err, errlen);
}
