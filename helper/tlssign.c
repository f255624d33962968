/*
 * tlssign.c - signatures with an HTTPS listener's private key for its
 * GnuTLS external key.  See tlssign.h.
 *
 * Must not: log, exit, keep state, sign content that is not TLS server
 * signature content (tlssign_sign), or leave errors on OpenSSL's
 * per-thread error queue.
 */
#include "autoconfig.h"

#include "helper/tlssign.h"
#include "helper/tlsproof.h"

#include <stdarg.h>
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

static void set_why(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

/* The reason of OpenSSL's last error, and the queue emptied. */
static void openssl_why(char *why, size_t why_len, const char *what)
{
	unsigned long e = ERR_peek_last_error();

	set_why(why, why_len, "%s: %s", what,
		e != 0 ? ERR_reason_error_string(e) : "failed");
	ERR_clear_error();
}

int tlssign_sign(EVP_PKEY *key, uint16_t scheme, const uint8_t *tbs, size_t len,
		 struct buf *sig_out, char *why, size_t why_len)
{
	EVP_MD_CTX *ctx;
	size_t n = 0;
	int version, rc = -1;

	set_why(why, why_len, "%s", "");
	if ((version = tlsproof_check_tbs(tbs, len, why, why_len)) < 0)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		set_why(why, why_len, "out of memory");
		return -1;
	}
	if (tlsproof_sig_init(ctx, key, scheme, (uint16_t)version, true, why,
			      why_len) != 0)
		goto out;
	if (EVP_DigestSign(ctx, NULL, &n, tbs, len) != 1) {
		openssl_why(why, why_len, "signature size");
		goto out;
	}
	buf_reserve(sig_out, n);
	if (EVP_DigestSign(ctx, sig_out->data + sig_out->len, &n, tbs, len) !=
	    1) {
		openssl_why(why, why_len, "signing");
		goto out;
	}
	sig_out->len += n;
	sig_out->data[sig_out->len] = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int tlssign_sign_digest(EVP_PKEY *key, uint16_t scheme, const uint8_t *digest,
			size_t len, struct buf *sig_out, char *why,
			size_t why_len)
{
	const struct tlsproof_scheme *s = tlsproof_scheme_find(scheme);
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD *md = NULL;
	size_t n = 0;
	int rc = -1;

	set_why(why, why_len, "%s", "");
	if (tlsproof_key_fits(key, scheme, TLSPROOF_TLS12, why, why_len) != 0)
		return -1;
	if (s->md == NULL) {
		set_why(why, why_len, "%s signs the content, not a digest",
			s->name);
		return -1;
	}
	if (len != (size_t)s->md_len) {
		set_why(why, why_len, "%s: a digest of %zu bytes, not %d",
			s->name, len, s->md_len);
		return -1;
	}
	if ((md = EVP_MD_fetch(NULL, s->md, NULL)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL ||
	    EVP_PKEY_sign_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(pctx, md) != 1 ||
	    (s->padding != 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, s->padding) != 1) ||
	    (s->padding == RSA_PKCS1_PSS_PADDING &&
	     (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) !=
		      1 ||
	      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))) {
		openssl_why(why, why_len, s->name);
		goto out;
	}
	if (EVP_PKEY_sign(pctx, NULL, &n, digest, len) != 1) {
		openssl_why(why, why_len, "signature size");
		goto out;
	}
	buf_reserve(sig_out, n);
	if (EVP_PKEY_sign(pctx, sig_out->data + sig_out->len, &n, digest,
			  len) != 1) {
		openssl_why(why, why_len, "signing");
		goto out;
	}
	sig_out->len += n;
	sig_out->data[sig_out->len] = '\0';
	rc = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	EVP_MD_free(md);
	ERR_clear_error();
	return rc;
}
