/*
 * x509.c - client certificate verification, listener key-pair checks and
 * tls-server-end-point channel bindings, with OpenSSL's libcrypto.  See
 * x509.h.
 *
 * The client certificate arrives as DER from the listener's TLS session
 * (GnuTLS inside libmicrohttpd only requests it; nothing has checked it).
 * It is refused on size alone before OpenSSL sees a byte of it, then
 * parsed strictly (one certificate, re-encoding to the same bytes, so that
 * its thumbprint is well defined), then verified against the CA file with
 * X509_V_FLAG_X509_STRICT and the SSL-client purpose, then the leaf must
 * carry clientAuth in its extendedKeyUsage (OpenSSL accepts a certificate
 * without the extension for any purpose; Windows' mapping does not).
 *
 * Must not: log, exit, keep state between calls, prompt for a passphrase
 * (every PEM read has a callback that refuses), or leave errors on
 * OpenSSL's per-thread error queue.
 *
 * Entry points: x509_verify_client, x509_client_release,
 * x509_check_keypair, x509_server_end_point, x509_cert_names_host.
 */
#include "autoconfig.h"

#include "lib/x509.h"
#include "lib/fileio.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define END_POINT_PREFIX "tls-server-end-point:"

/*
 * Small helpers.
 */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The passphrase callback of every PEM read: there is none to give, and
 * OpenSSL's default would prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

static void hex_upper(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SHA-1 thumbprint of the bytes der (as Windows shows it). */
static int thumbprint_der(const uint8_t *der, size_t len,
			  char out[X509_THUMBPRINT_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(der, len, md, &n, EVP_sha1(), NULL) != 1 || n != 20)
		return -1;
	hex_upper(md, n, out);
	return 0;
}

static int thumbprint_x509(const X509 *x, char out[X509_THUMBPRINT_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (X509_digest(x, EVP_sha1(), md, &n) != 1 || n != 20)
		return -1;
	hex_upper(md, n, out);
	return 0;
}

/*
 * Parses exactly one certificate from der.  Returns it (caller frees), or
 * NULL with a static reason in *why_r.
 */
static X509 *parse_der(const uint8_t *der, size_t len, const char **why_r)
{
	const unsigned char *p = der;
	unsigned char *enc = NULL;
	X509 *x;
	int n;

	if (len == 0 || len > LONG_MAX) {
		*why_r = "is empty";
		return NULL;
	}
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL) {
		*why_r = "is not a DER-encoded X.509 certificate";
		return NULL;
	}
	if (p != der + len) {
		*why_r = "has bytes after the end of the certificate";
		goto fail;
	}
	/* The bytes hashed for the thumbprint must be the certificate's one
	 * DER encoding (d2i accepts some BER, e.g. long-form lengths). */
	n = i2d_X509(x, &enc);
	if (n < 0 || (size_t)n != len || memcmp(enc, der, len) != 0) {
		OPENSSL_free(enc);
		*why_r = "is not in DER (it does not re-encode to the same "
			 "bytes)";
		goto fail;
	}
	OPENSSL_free(enc);
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* RFC 2253 text of a name, UTF-8 kept, control characters escaped;
 * caller frees.  Never NULL. */
static char *name_text(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *text;
	long n;

	if (bio == NULL)
		return xstrdup("");
	if (X509_NAME_print_ex(bio, name, 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
		BIO_free(bio);
		return xstrdup("");
	}
	n = BIO_get_mem_data(bio, &data);
	text = n > 0 ? xstrndup(data, (size_t)n) : xstrdup("");
	BIO_free(bio);
	return text;
}

/*
 * Client certificates.
 */

static void add_name(char ***v, size_t *n, const char *s, size_t len)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrndup(s, len);
}

/* No NUL, no C0 control, no DEL. */
static bool clean_text(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* The UPN of an otherName entry, into c. */
static int add_upn(struct x509_client *c, const OTHERNAME *on, char *err,
		   size_t errlen)
{
	unsigned char *utf8 = NULL;
	int len;

	if (on->value == NULL || on->value->type != V_ASN1_UTF8STRING) {
		set_err(err, errlen,
			"subjectAltName UPN is not a "
			"UTF8String");
		return X509C_BAD_NAME;
	}
	len = ASN1_STRING_to_UTF8(&utf8, on->value->value.utf8string);
	if (len < 0) {
		set_err(err, errlen, "subjectAltName UPN is not valid UTF-8");
		return X509C_BAD_NAME;
	}
	if (len == 0 || !clean_text(utf8, (size_t)len)) {
		OPENSSL_free(utf8);
		set_err(err, errlen,
			"subjectAltName UPN is empty or holds a "
			"NUL or control character");
		return X509C_BAD_NAME;
	}
	add_name(&c->upns, &c->n_upns, (const char *)utf8, (size_t)len);
	OPENSSL_free(utf8);
	return X509C_OK;
}

static int add_email(struct x509_client *c, const ASN1_IA5STRING *s, char *err,
		     size_t errlen)
{
	const unsigned char *d = ASN1_STRING_get0_data(s);
	int len = ASN1_STRING_length(s);

	for (int i = 0; i < len; i++) {
		if (d[i] <= 0x20 || d[i] >= 0x7f) {
			set_err(err, errlen,
				"subjectAltName rfc822Name holds "
				"a byte that is not printable ASCII");
			return X509C_BAD_NAME;
		}
	}
	if (len <= 0) {
		set_err(err, errlen, "subjectAltName rfc822Name is empty");
		return X509C_BAD_NAME;
	}
	add_name(&c->emails, &c->n_emails, (const char *)d, (size_t)len);
	return X509C_OK;
}

/* UPNs and rfc822Names of the leaf, into c. */
static int collect_names(X509 *leaf, struct x509_client *c, char *err,
			 size_t errlen)
{
	int crit = -1, r = X509C_OK;
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name,
					       &crit, NULL);

	if (gens == NULL) {
		if (crit == -1)
			return X509C_OK; /* no subjectAltName */
		set_err(err, errlen, "subjectAltName cannot be decoded%s",
			crit == -2 ? " (it occurs more than once)" : "");
		return X509C_BAD_NAME;
	}
	for (int i = 0; r == X509C_OK && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_OTHERNAME &&
		    OBJ_obj2nid(g->d.otherName->type_id) == NID_ms_upn)
			r = add_upn(c, g->d.otherName, err, errlen);
		else if (g->type == GEN_EMAIL)
			r = add_email(c, g->d.rfc822Name, err, errlen);
	}
	GENERAL_NAMES_free(gens);
	return r;
}

/* Adds the certificates of the PEM file ca_file to store. */
static int load_ca_file(X509_STORE *store, const char *ca_file, char *err,
			size_t errlen)
{
	struct buf b = BUF_INIT;
	char *why;
	int count = 0, r = X509C_CA_FILE;
	BIO *bio;
	X509 *x;

	ERR_clear_error();
	if (ca_file == NULL || ca_file[0] == '\0') {
		set_err(err, errlen, "no CA file is configured");
		return X509C_CA_FILE;
	}
	if (file_read_regular(ca_file, X509_MAX_FILE, &b, NULL, &why) != 0) {
		set_err(err, errlen, "CA file %s: %s", ca_file, why);
		free(why);
		buf_release(&b);
		return X509C_CA_FILE;
	}
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	if (bio == NULL) {
		buf_release(&b);
		set_err(err, errlen, "out of memory");
		return X509C_INTERNAL;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL))) {
		int ok = X509_STORE_add_cert(store, x);
		X509_free(x);
		if (ok != 1) {
			set_err(err, errlen,
				"CA file %s: certificate %d "
				"cannot be added",
				ca_file, count + 1);
			goto out;
		}
		count++;
	}
	unsigned long e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE && count > 0) {
		r = X509C_OK;
	} else if (count == 0) {
		set_err(err, errlen, "CA file %s: no PEM certificate in it",
			ca_file);
	} else {
		set_err(err, errlen,
			"CA file %s: the PEM block after "
			"certificate %d is malformed",
			ca_file, count);
	}
out:
	BIO_free(bio);
	buf_release(&b);
	return r;
}

/* Why verification failed, with the certificate it failed on. */
static int chain_error(X509_STORE_CTX *ctx, char *err, size_t errlen)
{
	int e = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	char *who = cur != NULL ? name_text(X509_get_subject_name(cur))
				: xstrdup("?");
	char *by = cur != NULL ? name_text(X509_get_issuer_name(cur))
			       : xstrdup("?");

	if (e == X509_V_ERR_INVALID_PURPOSE && depth == 0) {
		set_err(err, errlen,
			"certificate %s may not be used for TLS "
			"client authentication (extendedKeyUsage without "
			"clientAuth)",
			who);
		free(who);
		free(by);
		return X509C_NOT_CLIENT;
	}
	set_err(err, errlen,
		"certificate verification failed at depth %d "
		"(%s, issuer %s): %s",
		depth, who, by, X509_verify_cert_error_string(e));
	free(who);
	free(by);
	return X509C_UNTRUSTED;
}

/* The verification proper; fills c from the verified chain. */
static int verify_chain(X509 *leaf, STACK_OF(X509) * untrusted,
			const uint8_t *leaf_der, size_t leaf_len,
			const char *ca_file, time_t now, struct x509_client *c,
			char *err, size_t errlen)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int r;

	if (store == NULL || ctx == NULL) {
		set_err(err, errlen, "out of memory");
		r = X509C_INTERNAL;
		goto out;
	}
	r = load_ca_file(store, ca_file, err, errlen);
	if (r != X509C_OK)
		goto out;
	if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1) {
		set_err(err, errlen, "cannot set up the verification");
		r = X509C_INTERNAL;
		goto out;
	}
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
	X509_VERIFY_PARAM_set_depth(param, X509_MAX_CHAIN_DEPTH - 2);
	if (now != 0)
		X509_VERIFY_PARAM_set_time(param, now);
	if (X509_verify_cert(ctx) != 1) {
		r = chain_error(ctx, err, errlen);
		goto out;
	}

	/* The SSL-client purpose lets a leaf without extendedKeyUsage pass. */
	uint32_t flags = X509_get_extension_flags(leaf);
	if (!(flags & EXFLAG_XKUSAGE)) {
		set_err(err, errlen,
			"the certificate has no extendedKeyUsage: "
			"clientAuth is required");
		r = X509C_NOT_CLIENT;
		goto out;
	}
	if (!(X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT)) {
		set_err(err, errlen,
			"the certificate's extendedKeyUsage does "
			"not include clientAuth");
		r = X509C_NOT_CLIENT;
		goto out;
	}

	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	X509 *issuer = chain != NULL && sk_X509_num(chain) > 1
			       ? sk_X509_value(chain, 1)
			       : leaf;
	if (thumbprint_der(leaf_der, leaf_len, c->thumbprint) != 0 ||
	    thumbprint_x509(issuer, c->issuer_thumbprint) != 0) {
		set_err(err, errlen, "cannot compute SHA-1 thumbprints");
		r = X509C_INTERNAL;
		goto out;
	}
	r = collect_names(leaf, c, err, errlen);
	if (r != X509C_OK)
		goto out;
	c->subject = name_text(X509_get_subject_name(leaf));
	c->issuer = name_text(X509_get_issuer_name(leaf));
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

int x509_verify_client(const uint8_t *const *ders, const size_t *lens, size_t n,
		       const char *ca_file, time_t now, struct x509_client *out,
		       char *err, size_t errlen)
{
	struct x509_client c;
	STACK_OF(X509) *untrusted = NULL;
	X509 *leaf = NULL;
	const char *why;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	set_err(err, errlen, "%s", "");
	if (n == 0 || ders == NULL || lens == NULL || ders[0] == NULL ||
	    lens[0] == 0) {
		set_err(err, errlen, "no client certificate");
		return X509C_NO_CERT;
	}
	/* Before any parsing (MaxClientCertInfoSize). */
	if (lens[0] > X509_MAX_CLIENT_CERT) {
		set_err(err, errlen,
			"client certificate of %zu bytes is "
			"larger than the %d bytes allowed",
			lens[0], X509_MAX_CLIENT_CERT);
		return X509C_TOO_LARGE;
	}
	if (n - 1 > X509_MAX_INTERMEDIATES) {
		set_err(err, errlen,
			"%zu intermediate certificates sent, at "
			"most %d are accepted",
			n - 1, X509_MAX_INTERMEDIATES);
		return X509C_TOO_LARGE;
	}
	for (size_t i = 1; i < n; i++) {
		if (ders[i] == NULL || lens[i] == 0) {
			set_err(err, errlen,
				"intermediate certificate %zu is "
				"empty",
				i);
			return X509C_NO_CERT;
		}
		if (lens[i] > X509_MAX_INTERMEDIATE_CERT) {
			set_err(err, errlen,
				"intermediate certificate %zu of "
				"%zu bytes is larger than the %d bytes "
				"allowed",
				i, lens[i], X509_MAX_INTERMEDIATE_CERT);
			return X509C_TOO_LARGE;
		}
	}

	leaf = parse_der(ders[0], lens[0], &why);
	if (leaf == NULL) {
		set_err(err, errlen, "client certificate %s", why);
		r = X509C_BAD_DER;
		goto out;
	}
	untrusted = sk_X509_new_null();
	if (untrusted == NULL) {
		set_err(err, errlen, "out of memory");
		r = X509C_INTERNAL;
		goto out;
	}
	for (size_t i = 1; i < n; i++) {
		X509 *x = parse_der(ders[i], lens[i], &why);
		if (x == NULL) {
			set_err(err, errlen, "intermediate certificate %zu %s",
				i, why);
			r = X509C_BAD_DER;
			goto out;
		}
		if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			set_err(err, errlen, "out of memory");
			r = X509C_INTERNAL;
			goto out;
		}
	}
	r = verify_chain(leaf, untrusted, ders[0], lens[0], ca_file, now, &c,
			 err, errlen);
out:
	if (r == X509C_OK)
		*out = c;
	else
		x509_client_release(&c);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	ERR_clear_error();
	return r;
}

void x509_client_release(struct x509_client *c)
{
	for (size_t i = 0; i < c->n_upns; i++)
		free(c->upns[i]);
	for (size_t i = 0; i < c->n_emails; i++)
		free(c->emails[i]);
	free(c->upns);
	free(c->emails);
	free(c->subject);
	free(c->issuer);
	memset(c, 0, sizeof(*c));
}

/*
 * Listener certificate and key.
 */

struct pem_block {
	char *name;   /* "CERTIFICATE", "PRIVATE KEY"... */
	char *header; /* "Proc-Type: 4,ENCRYPTED..." or "" */
	unsigned char *data;
	long len;
};

static void pem_block_free(struct pem_block *p)
{
	OPENSSL_free(p->name);
	OPENSSL_free(p->header);
	if (p->data != NULL)
		OPENSSL_clear_free(p->data, (size_t)p->len);
	memset(p, 0, sizeof(*p));
}

/*
 * Finds the first PEM block of text accepted by want(name).  Returns 1
 * with *found filled (caller frees with pem_block_free), 0 when there is
 * none (*first_name_r: a copy of the first block's name, or NULL when the
 * text holds no PEM at all; caller frees), -1 when a block is malformed.
 */
static int find_pem(const struct buf *text, bool (*want)(const char *),
		    struct pem_block *found, char **first_name_r)
{
	BIO *bio = BIO_new_mem_buf(text->data, (int)text->len);
	struct pem_block p = { NULL, NULL, NULL, 0 };
	int r = 0;

	*first_name_r = NULL;
	ERR_clear_error();
	if (bio == NULL)
		return -1;
	while (PEM_read_bio(bio, &p.name, &p.header, &p.data, &p.len) == 1) {
		if (want(p.name)) {
			*found = p;
			r = 1;
			break;
		}
		if (*first_name_r == NULL)
			*first_name_r = xstrdup(p.name);
		pem_block_free(&p);
	}
	if (r == 0) {
		unsigned long e = ERR_peek_last_error();
		if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
		    ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
			r = -1;
	}
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

static bool is_certificate(const char *name)
{
	return strcmp(name, "CERTIFICATE") == 0;
}

static bool is_private_key(const char *name)
{
	size_t n = strlen(name), k = strlen("PRIVATE KEY");
	return n >= k && strcmp(name + n - k, "PRIVATE KEY") == 0;
}

static X509 *load_server_cert(const char *path, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	struct pem_block p;
	char *why, *first = NULL;
	const char *derwhy;
	X509 *x = NULL;
	int r;

	if (file_read_regular(path, X509_MAX_FILE, &b, NULL, &why) != 0) {
		set_err(err, errlen, "certificate file %s: %s", path, why);
		free(why);
		buf_release(&b);
		return NULL;
	}
	r = find_pem(&b, is_certificate, &p, &first);
	if (r < 0) {
		set_err(err, errlen, "certificate file %s: malformed PEM",
			path);
	} else if (r == 0 && first == NULL) {
		set_err(err, errlen,
			"certificate file %s: not PEM (no "
			"\"-----BEGIN CERTIFICATE-----\" line)",
			path);
	} else if (r == 0) {
		set_err(err, errlen,
			"certificate file %s: no CERTIFICATE in "
			"it (it holds a %s)",
			path, first);
	} else {
		x = parse_der(p.data, (size_t)p.len, &derwhy);
		if (x == NULL)
			set_err(err, errlen,
				"certificate file %s: the "
				"certificate %s",
				path, derwhy);
		pem_block_free(&p);
	}
	free(first);
	buf_release(&b);
	return x;
}

static EVP_PKEY *load_server_key(const char *path, mode_t *mode_r, char *err,
				 size_t errlen)
{
	struct buf b = BUF_INIT;
	struct pem_block p;
	struct stat st;
	char *why, *first = NULL;
	EVP_PKEY *key = NULL;
	int r;

	if (file_read_regular(path, X509_MAX_FILE, &b, &st, &why) != 0) {
		set_err(err, errlen, "key file %s: %s", path, why);
		free(why);
		buf_release_secret(&b);
		return NULL;
	}
	if (mode_r != NULL)
		*mode_r = st.st_mode;
	r = find_pem(&b, is_private_key, &p, &first);
	if (r < 0) {
		set_err(err, errlen, "key file %s: malformed PEM", path);
	} else if (r == 0 && first == NULL) {
		set_err(err, errlen,
			"key file %s: not PEM (no \"-----BEGIN "
			"PRIVATE KEY-----\" line)",
			path);
	} else if (r == 0) {
		set_err(err, errlen,
			"key file %s: no private key in it (it "
			"holds a %s)",
			path, first);
	} else if (strcmp(p.name, "ENCRYPTED PRIVATE KEY") == 0 ||
		   strstr(p.header, "ENCRYPTED") != NULL) {
		set_err(err, errlen,
			"key file %s: the private key is "
			"encrypted; winrmd needs it unencrypted (mode 0600)",
			path);
		pem_block_free(&p);
	} else {
		/* That block alone: what was checked is what is parsed,
		 * whatever else the file holds. */
		BIO *bio = BIO_new(BIO_s_secmem());
		if (bio != NULL &&
		    PEM_write_bio(bio, p.name, p.header, p.data, p.len) > 0)
			key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
						      NULL);
		BIO_free(bio);
		pem_block_free(&p);
		if (key == NULL)
			set_err(err, errlen,
				"key file %s: the private key "
				"cannot be parsed",
				path);
	}
	free(first);
	buf_release_secret(&b);
	return key;
}

/* Appends a warning to err ("; " between two). */
static void add_warning(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_warning(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used = errlen > 0 ? strlen(err) : 0;
	va_list ap;

	if (used + 1 >= errlen)
		return;
	if (used > 0) {
		snprintf(err + used, errlen - used, "; ");
		used = strlen(err);
	}
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

/* A certificate time as text ("Jan  1 00:00:00 2002 GMT"); caller frees. */
static char *time_text(const ASN1_TIME *t)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *text;
	long n;

	if (bio == NULL || ASN1_TIME_print(bio, t) != 1) {
		BIO_free(bio);
		return xstrdup("?");
	}
	n = BIO_get_mem_data(bio, &data);
	text = n > 0 ? xstrndup(data, (size_t)n) : xstrdup("?");
	BIO_free(bio);
	return text;
}

int x509_check_keypair(const char *cert_path, const char *key_path, char *err,
		       size_t errlen)
{
	mode_t mode = 0;
	time_t now = time(NULL);
	EVP_PKEY *key = NULL;
	X509 *x;
	int r = -1;

	set_err(err, errlen, "%s", "");
	x = load_server_cert(cert_path, err, errlen);
	if (x == NULL)
		goto out;
	r = 0;
	if (key_path == NULL)
		goto cert_only;
	r = -2; /* from here on, the key is what is wrong */
	key = load_server_key(key_path, &mode, err, errlen);
	if (key == NULL)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
		set_err(err, errlen,
			"key file %s does not match the "
			"certificate in %s",
			key_path, cert_path);
		goto out;
	}
	r = 0;
cert_only:
	if (X509_cmp_time(X509_get0_notAfter(x), &now) < 0) {
		char *t = time_text(X509_get0_notAfter(x));
		add_warning(err, errlen, "the certificate in %s expired on %s",
			    cert_path, t);
		free(t);
		r = 1;
	}
	if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0) {
		char *t = time_text(X509_get0_notBefore(x));
		add_warning(err, errlen,
			    "the certificate in %s is not valid "
			    "before %s",
			    cert_path, t);
		free(t);
		r = 1;
	}
	if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) &&
	    !(X509_get_extended_key_usage(x) & XKU_SSL_SERVER)) {
		add_warning(err, errlen,
			    "the certificate in %s is not for TLS "
			    "servers (extendedKeyUsage without serverAuth)",
			    cert_path);
		r = 1;
	}
	if (key_path != NULL && (mode & S_IROTH)) {
		add_warning(err, errlen,
			    "key file %s is readable by every "
			    "user",
			    key_path);
		r = 1;
	}
out:
	EVP_PKEY_free(key);
	X509_free(x);
	ERR_clear_error();
	return r;
}

int x509_server_key_load(const char *cert_path, const char *key_path,
			 EVP_PKEY **key_r, uint8_t id[X509_KEY_ID_LEN],
			 char *err, size_t errlen)
{
	mode_t mode = 0;
	unsigned char *der = NULL;
	int r = -1, len;
	X509 *x;

	*key_r = NULL;
	set_err(err, errlen, "%s", "");
	x = load_server_cert(cert_path, err, errlen);
	if (x == NULL)
		goto out;
	*key_r = load_server_key(key_path, &mode, err, errlen);
	if (*key_r == NULL)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(x), *key_r) != 1) {
		set_err(err, errlen,
			"key file %s does not match the "
			"certificate in %s",
			key_path, cert_path);
		goto out;
	}
	len = i2d_X509(x, &der);
	if (len <= 0 ||
	    EVP_Digest(der, (size_t)len, id, NULL, EVP_sha256(), NULL) != 1) {
		set_err(err, errlen, "certificate %s: cannot encode it",
			cert_path);
		goto out;
	}
	r = 0;
out:
	if (r != 0) {
		EVP_PKEY_free(*key_r);
		*key_r = NULL;
	}
	OPENSSL_free(der);
	X509_free(x);
	ERR_clear_error();
	return r;
}

/*
 * Channel bindings.
 */

int x509_server_end_point(const uint8_t *der, size_t len, uint8_t *out,
			  size_t *outlen)
{
	const size_t plen = sizeof(END_POINT_PREFIX) - 1;
	unsigned char md_value[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	const EVP_MD *md = NULL;
	const char *why;
	int mdnid = NID_undef, r = -1;
	X509 *x = parse_der(der, len, &why);

	if (x == NULL)
		goto out;
	if (X509_get_signature_info(x, &mdnid, NULL, NULL, NULL) != 1)
		mdnid = NID_undef;
	if (mdnid != NID_undef && mdnid != NID_md5 && mdnid != NID_sha1 &&
	    mdnid != NID_md5_sha1)
		md = EVP_get_digestbynid(mdnid);
	if (md == NULL)
		md = EVP_sha256();
	if (EVP_MD_get_size(md) <= 0 ||
	    plen + (size_t)EVP_MD_get_size(md) > *outlen)
		goto out;
	if (EVP_Digest(der, len, md_value, &md_len, md, NULL) != 1)
		goto out;
	memcpy(out, END_POINT_PREFIX, plen);
	memcpy(out + plen, md_value, md_len);
	*outlen = plen + md_len;
	r = 0;
out:
	X509_free(x);
	ERR_clear_error();
	return r;
}

int x509_cert_names_host(const char *cert_path, const char *host, char *err,
			 size_t errlen)
{
	X509 *x = load_server_cert(cert_path, err, errlen);
	if (x == NULL)
		return -1;
	unsigned char bin[16];
	int r;
	if (inet_pton(AF_INET, host, bin) == 1 ||
	    inet_pton(AF_INET6, host, bin) == 1)
		r = X509_check_ip_asc(x, host, 0);
	else
		r = X509_check_host(x, host, strlen(host), 0, NULL);
	X509_free(x);
	if (r < 0) {
		set_err(err, errlen, "cannot match %s against %s", host,
			cert_path);
		return -1;
	}
	return r == 1 ? 1 : 0;
}
