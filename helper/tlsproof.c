/*
 * tlsproof.c - proof of possession of a TLS client's key from a handshake
 * transcript, and the shape check of what the helper signs.  See
 * tlsproof.h.
 *
 * The transcript comes from the listener, which the helper does not
 * trust: the only hand-written part is a small parser over bounded
 * readers (every length checked against what is left, hard caps on
 * messages, bytes, chain length and certificate sizes); every signature
 * is verified with OpenSSL.
 *
 * Must not: log, exit, keep state between calls, or leave errors on
 * OpenSSL's per-thread error queue.
 */
#include "autoconfig.h"

#include "helper/tlsproof.h"
#include "lib/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* Handshake message types (RFC 8446 section 4, RFC 5246 section 7.4). */
enum {
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_ENCRYPTED_EXTENSIONS = 8,
	HS_CERTIFICATE = 11,
	HS_SERVER_KEY_EXCHANGE = 12,
	HS_CERTIFICATE_REQUEST = 13,
	HS_SERVER_HELLO_DONE = 14,
	HS_CERTIFICATE_VERIFY = 15,
	HS_CLIENT_KEY_EXCHANGE = 16,
	HS_FINISHED = 20,
	HS_CERTIFICATE_STATUS = 22,
	HS_MESSAGE_HASH = 254,
};

#define EXT_SUPPORTED_VERSIONS 0x002b

/* The ServerHello random of a HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
	0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
	0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static const char server_context[] = "TLS 1.3, server CertificateVerify";
static const char client_context[] = "TLS 1.3, client CertificateVerify";
#define CONTEXT_LEN 33 /* both, without the NUL */
#define SIG_PREFIX_LEN (64 + CONTEXT_LEN + 1)

/* clang-format off */
static const struct tlsproof_scheme schemes[] = {
	{ 0x0401, "rsa_pkcs1_sha256", "RSA", "SHA256", 32, RSA_PKCS1_PADDING, 0, false, false },
	{ 0x0501, "rsa_pkcs1_sha384", "RSA", "SHA384", 48, RSA_PKCS1_PADDING, 0, false, false },
	{ 0x0601, "rsa_pkcs1_sha512", "RSA", "SHA512", 64, RSA_PKCS1_PADDING, 0, false, false },
	{ 0x0403, "ecdsa_secp256r1_sha256", "EC", "SHA256", 32, 0, NID_X9_62_prime256v1, true, true },
	{ 0x0503, "ecdsa_secp384r1_sha384", "EC", "SHA384", 48, 0, NID_secp384r1, true, true },
	{ 0x0603, "ecdsa_secp521r1_sha512", "EC", "SHA512", 64, 0, NID_secp521r1, true, true },
	{ 0x0804, "rsa_pss_rsae_sha256", "RSA", "SHA256", 32, RSA_PKCS1_PSS_PADDING, 0, true, true },
	{ 0x0805, "rsa_pss_rsae_sha384", "RSA", "SHA384", 48, RSA_PKCS1_PSS_PADDING, 0, true, true },
	{ 0x0806, "rsa_pss_rsae_sha512", "RSA", "SHA512", 64, RSA_PKCS1_PSS_PADDING, 0, true, true },
	{ 0x0807, "ed25519", "ED25519", NULL, 0, 0, 0, false, true },
	{ 0x0808, "ed448", "ED448", NULL, 0, 0, 0, false, true },
	{ 0x0809, "rsa_pss_pss_sha256", "RSA-PSS", "SHA256", 32, RSA_PKCS1_PSS_PADDING, 0, true, true },
	{ 0x080a, "rsa_pss_pss_sha384", "RSA-PSS", "SHA384", 48, RSA_PKCS1_PSS_PADDING, 0, true, true },
	{ 0x080b, "rsa_pss_pss_sha512", "RSA-PSS", "SHA512", 64, RSA_PKCS1_PSS_PADDING, 0, true, true },
};
/* clang-format on */

/* TLS 1.2 cipher suites with an ephemeral key exchange signed by an RSA
 * or ECDSA certificate (IANA TLS Cipher Suites registry). */
static const uint16_t ecdhe_suites[] = {
	0xc008, 0xc009, 0xc00a, 0xc012, 0xc013, 0xc014, 0xc023,
	0xc024, 0xc027, 0xc028, 0xc02b, 0xc02c, 0xc02f, 0xc030,
	0xc072, 0xc073, 0xc076, 0xc077, 0xc086, 0xc087, 0xc08a,
	0xc08b, 0xc0ac, 0xc0ad, 0xc0ae, 0xc0af, 0xcca8, 0xcca9,
};
static const uint16_t dhe_suites[] = {
	0x0016, 0x0033, 0x0039, 0x0045, 0x0067, 0x006b, 0x0088, 0x009e, 0x009f,
	0x00be, 0x00c4, 0xc07c, 0xc07d, 0xc09e, 0xc09f, 0xc0a2, 0xc0a3, 0xccaa,
};

enum kx { KX_OTHER, KX_ECDHE, KX_DHE };

/*
 * Small helpers.
 */

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

static bool in_list(uint16_t v, const uint16_t *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

static enum kx kx_of(uint16_t suite)
{
	if (in_list(suite, ecdhe_suites,
		    sizeof(ecdhe_suites) / sizeof(ecdhe_suites[0])))
		return KX_ECDHE;
	if (in_list(suite, dhe_suites,
		    sizeof(dhe_suites) / sizeof(dhe_suites[0])))
		return KX_DHE;
	return KX_OTHER;
}

/* The transcript hash of a TLS 1.3 cipher suite, NULL when unknown. */
static const char *suite13_md(uint16_t suite)
{
	switch (suite) {
	case 0x1301:
	case 0x1303:
	case 0x1304:
	case 0x1305: return "SHA256";
	case 0x1302: return "SHA384";
	default: return NULL;
	}
}

/*
 * A bounded reader: every get fails (and leaves the reader as it was)
 * when fewer bytes are left than it needs.
 */
struct rd {
	const uint8_t *p;
	size_t n;
};

static bool get_bytes(struct rd *r, size_t len, const uint8_t **p)
{
	if (len > r->n)
		return false;
	if (p != NULL)
		*p = r->p;
	r->p += len;
	r->n -= len;
	return true;
}

static bool get_uint(struct rd *r, size_t width, size_t *v)
{
	const uint8_t *p;

	if (!get_bytes(r, width, &p))
		return false;
	*v = 0;
	for (size_t i = 0; i < width; i++)
		*v = *v << 8 | p[i];
	return true;
}

static bool get_u16(struct rd *r, uint16_t *v)
{
	size_t x;

	if (!get_uint(r, 2, &x))
		return false;
	*v = (uint16_t)x;
	return true;
}

/* opaque x<min..2^(8*width)-1>: its contents into *sub. */
static bool get_vec(struct rd *r, size_t width, size_t min, struct rd *sub)
{
	struct rd save = *r;
	size_t len;

	if (!get_uint(r, width, &len) || len < min ||
	    !get_bytes(r, len, &sub->p)) {
		*r = save;
		return false;
	}
	sub->n = len;
	return true;
}

/* ServerECDHParams: named_curve of a group GnuTLS offers, a point of
 * that group's length (uncompressed for the NIST curves). */
static bool ecdh_params(struct rd *r, char *why, size_t why_len)
{
	struct rd point;
	size_t type;
	uint16_t group;
	size_t want;

	if (!get_uint(r, 1, &type) || type != 3 || !get_u16(r, &group) ||
	    !get_vec(r, 1, 1, &point)) {
		set_why(why, why_len, "malformed ServerECDHParams");
		return false;
	}
	switch (group) {
	case 0x0017: want = 65; break;  /* secp256r1 */
	case 0x0018: want = 97; break;  /* secp384r1 */
	case 0x0019: want = 133; break; /* secp521r1 */
	case 0x001d: want = 32; break;  /* x25519 */
	case 0x001e: want = 56; break;  /* x448 */
	default:
		set_why(why, why_len,
			"ServerECDHParams of unknown group 0x%04x", group);
		return false;
	}
	if (point.n != want || (group <= 0x0019 && point.p[0] != 0x04)) {
		set_why(why, why_len,
			"ServerECDHParams point of %zu bytes for group 0x%04x",
			point.n, group);
		return false;
	}
	return true;
}

/* ServerDHParams: p, g, Ys, g and Ys no longer than p. */
static bool dh_params(struct rd *r, char *why, size_t why_len)
{
	struct rd p, g, ys;

	if (!get_vec(r, 2, 1, &p) || !get_vec(r, 2, 1, &g) ||
	    !get_vec(r, 2, 1, &ys) || g.n > p.n || ys.n > p.n) {
		set_why(why, why_len, "malformed ServerDHParams");
		return false;
	}
	return true;
}

/*
 * Signature schemes and keys.
 */

const struct tlsproof_scheme *tlsproof_scheme_find(uint16_t code)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i].code == code)
			return &schemes[i];
	return NULL;
}

bool tlsproof_scheme_randomized(uint16_t scheme)
{
	const struct tlsproof_scheme *s = tlsproof_scheme_find(scheme);

	return s != NULL && s->randomized;
}

int tlsproof_key_fits(EVP_PKEY *key, uint16_t scheme, uint16_t version,
		      char *why, size_t why_len)
{
	const struct tlsproof_scheme *s = tlsproof_scheme_find(scheme);
	char group[64];

	if (s == NULL) {
		set_why(why, why_len, "unsupported signature scheme 0x%04x",
			scheme);
		return -1;
	}
	if (version == TLSPROOF_TLS13 && !s->tls13) {
		set_why(why, why_len, "%s is not allowed in TLS 1.3", s->name);
		return -1;
	}
	if (version != TLSPROOF_TLS13 && version != TLSPROOF_TLS12) {
		set_why(why, why_len, "unsupported TLS version 0x%04x",
			version);
		return -1;
	}
	if (key == NULL || !EVP_PKEY_is_a(key, s->key)) {
		set_why(why, why_len, "%s needs a%s %s key", s->name,
			s->key[0] == 'E' ? "n" : "", s->key);
		return -1;
	}
	if (s->curve != 0 && version == TLSPROOF_TLS13) {
		if (EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) !=
			    1 ||
		    OBJ_txt2nid(group) != s->curve) {
			ERR_clear_error();
			set_why(why, why_len, "%s needs a key on %s", s->name,
				OBJ_nid2sn(s->curve));
			return -1;
		}
	}
	return 0;
}

int tlsproof_sig_init(EVP_MD_CTX *ctx, EVP_PKEY *key, uint16_t scheme,
		      uint16_t version, bool sign, char *why, size_t why_len)
{
	const struct tlsproof_scheme *s;
	EVP_PKEY_CTX *pctx = NULL;
	int r;

	if (tlsproof_key_fits(key, scheme, version, why, why_len) != 0)
		return -1;
	s = tlsproof_scheme_find(scheme);
	if (sign)
		r = EVP_DigestSignInit_ex(ctx, &pctx, s->md, NULL, NULL, key,
					  NULL);
	else
		r = EVP_DigestVerifyInit_ex(ctx, &pctx, s->md, NULL, NULL, key,
					    NULL);
	if (r == 1 && s->padding != 0)
		r = EVP_PKEY_CTX_set_rsa_padding(pctx, s->padding);
	if (r == 1 && s->padding == RSA_PKCS1_PSS_PADDING) {
		r = EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
						     RSA_PSS_SALTLEN_DIGEST);
		if (r == 1)
			r = EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, s->md,
							      NULL);
	}
	if (r != 1) {
		unsigned long e = ERR_peek_last_error();
		set_why(why, why_len, "%s: %s", s->name,
			e != 0 ? ERR_reason_error_string(e) : "cannot set up");
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* Verifies sig over data with key and scheme: 1 good, 0 bad, -1 the key
 * does not fit the scheme (or OpenSSL failed); why says which. */
static int verify_sig(EVP_PKEY *key, uint16_t scheme, uint16_t version,
		      const uint8_t *data, size_t len, const uint8_t *sig,
		      size_t sig_len, char *why, size_t why_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r = -1;

	if (ctx == NULL) {
		set_why(why, why_len, "out of memory");
	} else if (tlsproof_sig_init(ctx, key, scheme, version, false, why,
				     why_len) == 0) {
		r = EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
		if (!r)
			set_why(why, why_len, "does not verify");
	}
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

/*
 * The shape of signed content.
 */

int tlsproof_check_tbs(const uint8_t *data, size_t len, char *why,
		       size_t why_len)
{
	struct rd r;
	bool spaces = len >= 64;

	set_why(why, why_len, "%s", "");
	for (size_t i = 0; spaces && i < 64; i++)
		spaces = data[i] == 0x20;
	if (spaces && len >= SIG_PREFIX_LEN &&
	    memcmp(data + 64, server_context, CONTEXT_LEN) == 0 &&
	    data[64 + CONTEXT_LEN] == 0) {
		size_t hlen = len - SIG_PREFIX_LEN;
		if (hlen != 32 && hlen != 48) {
			set_why(why, why_len,
				"TLS 1.3 server CertificateVerify "
				"content with a hash of %zu bytes",
				hlen);
			return -1;
		}
		return TLSPROOF_TLS13;
	}
	if (len <= 64) {
		set_why(why, why_len,
			"%zu bytes are no TLS server signature content", len);
		return -1;
	}
	r.p = data + 64;
	r.n = len - 64;
	if (r.p[0] == 3) {
		struct rd e = r;
		if (ecdh_params(&e, why, why_len) && e.n == 0) {
			set_why(why, why_len, "%s", "");
			return TLSPROOF_TLS12;
		}
	}
	if (dh_params(&r, why, why_len) && r.n == 0) {
		set_why(why, why_len, "%s", "");
		return TLSPROOF_TLS12;
	}
	set_why(why, why_len,
		"not TLS server signature content: neither "
		"TLS 1.3 CertificateVerify content nor randoms and "
		"ServerECDHParams or ServerDHParams");
	return -1;
}

/*
 * The transcript.
 */

struct state {
	const struct tls_hs_msg *msgs;
	size_t n, i; /* messages, the next one */
	char *why;
	size_t why_len;
};

/* The next message, which must be of type from the given side; NULL and
 * the reason when it is not (or there is none). */
static const struct tls_hs_msg *expect(struct state *st, uint8_t type,
				       bool from_client, const char *what)
{
	const struct tls_hs_msg *m;

	if (st->i >= st->n) {
		set_why(st->why, st->why_len,
			"transcript ends before the %s's %s",
			from_client ? "client" : "server", what);
		return NULL;
	}
	m = &st->msgs[st->i];
	if (m->type != type || m->from_client != from_client) {
		set_why(st->why, st->why_len,
			"message %zu is %s type %u, not the %s's %s", st->i,
			m->from_client ? "client" : "server", m->type,
			from_client ? "client" : "server", what);
		return NULL;
	}
	st->i++;
	return m;
}

/* Whether the next message is of type from the given side. */
static bool next_is(const struct state *st, uint8_t type, bool from_client)
{
	return st->i < st->n && st->msgs[st->i].type == type &&
	       st->msgs[st->i].from_client == from_client;
}

static struct rd body(const struct tls_hs_msg *m)
{
	struct rd r = { m->body, m->len };
	return r;
}

/* Extensions<0..2^16-1> filling r; *version gets supported_versions'
 * selected_version when asked for (server hellos), else 0. */
static bool extensions(struct rd *r, uint16_t *version)
{
	struct rd all, data;
	uint16_t type;
	bool seen = false;

	if (version != NULL)
		*version = 0;
	if (r->n == 0)
		return true; /* TLS 1.2 hellos may have none */
	if (!get_vec(r, 2, 0, &all) || r->n != 0)
		return false;
	while (all.n > 0) {
		if (!get_u16(&all, &type) || !get_vec(&all, 2, 0, &data))
			return false;
		if (version != NULL && type == EXT_SUPPORTED_VERSIONS) {
			if (seen || !get_u16(&data, version) || data.n != 0)
				return false;
			seen = true;
		}
	}
	return true;
}

static bool client_hello(const struct tls_hs_msg *m, const uint8_t **random)
{
	struct rd r = body(m), v;
	uint16_t legacy;

	return get_u16(&r, &legacy) && get_bytes(&r, 32, random) &&
	       get_vec(&r, 1, 0, &v) && v.n <= 32 && get_vec(&r, 2, 2, &v) &&
	       v.n % 2 == 0 && get_vec(&r, 1, 1, &v) && extensions(&r, NULL);
}

struct server_hello {
	uint16_t legacy, selected, suite;
	const uint8_t *random;
	bool hrr;
};

static bool server_hello(const struct tls_hs_msg *m, struct server_hello *sh)
{
	struct rd r = body(m), v;
	size_t comp;

	if (!get_u16(&r, &sh->legacy) || !get_bytes(&r, 32, &sh->random) ||
	    !get_vec(&r, 1, 0, &v) || v.n > 32 || !get_u16(&r, &sh->suite) ||
	    !get_uint(&r, 1, &comp) || comp != 0 ||
	    !extensions(&r, &sh->selected))
		return false;
	sh->hrr = memcmp(sh->random, hrr_random, 32) == 0;
	return true;
}

/* A certificate_request_context<0..255> (TLS 1.3) or nothing. */
static bool certificate_request(const struct tls_hs_msg *m, uint16_t version,
				struct rd *context)
{
	struct rd r = body(m), v;

	if (version == TLSPROOF_TLS13)
		return get_vec(&r, 1, 0, context) && get_vec(&r, 2, 2, &v) &&
		       r.n == 0;
	context->p = NULL;
	context->n = 0;
	return get_vec(&r, 1, 1, &v) && get_vec(&r, 2, 2, &v) &&
	       get_vec(&r, 2, 0, &v) && r.n == 0;
}

/*
 * A Certificate message: up to max certificates into certs/lens, leaf
 * first (max 1: the leaf only, the others are only parsed; more than max
 * > 1 is refused), the leaf at most leaf_max bytes, the others at most
 * X509_MAX_INTERMEDIATE_CERT.  Returns 0, or TLSPROOF_MALFORMED or
 * TLSPROOF_TOO_LARGE with the reason.
 */
static int certificate(const struct tls_hs_msg *m, uint16_t version,
		       const struct rd *want_context, const uint8_t **certs,
		       size_t *lens, size_t max, size_t leaf_max, size_t *count,
		       const char *who, char *why, size_t why_len)
{
	struct rd r = body(m), list, ctx, cert, ext;
	size_t k = 0;

	if (version == TLSPROOF_TLS13 &&
	    (!get_vec(&r, 1, 0, &ctx) || ctx.n != want_context->n ||
	     (ctx.n > 0 && memcmp(ctx.p, want_context->p, ctx.n) != 0))) {
		set_why(why, why_len, "%s Certificate: bad request context",
			who);
		return TLSPROOF_MALFORMED;
	}
	if (!get_vec(&r, 3, 0, &list) || r.n != 0) {
		set_why(why, why_len, "malformed %s Certificate", who);
		return TLSPROOF_MALFORMED;
	}
	while (list.n > 0) {
		if (!get_vec(&list, 3, 1, &cert) ||
		    (version == TLSPROOF_TLS13 &&
		     !get_vec(&list, 2, 0, &ext))) {
			set_why(why, why_len, "malformed %s Certificate", who);
			return TLSPROOF_MALFORMED;
		}
		if (k == 0 && cert.n > leaf_max) {
			/* worded as x509_verify_client words it */
			set_why(why, why_len,
				"%s certificate of %zu bytes is larger than the "
				"%zu bytes allowed",
				who, cert.n, leaf_max);
			return TLSPROOF_TOO_LARGE;
		}
		if (k > 0 && cert.n > X509_MAX_INTERMEDIATE_CERT) {
			set_why(why, why_len,
				"%s chain certificate of %zu bytes is larger than "
				"the %d bytes allowed",
				who, cert.n, X509_MAX_INTERMEDIATE_CERT);
			return TLSPROOF_TOO_LARGE;
		}
		if (k < max) {
			certs[k] = cert.p;
			lens[k] = cert.n;
		} else if (max > 1) {
			set_why(why, why_len,
				"%s chain of more than %zu certificates", who,
				max);
			return TLSPROOF_TOO_LARGE;
		}
		k++;
	}
	*count = k;
	return TLSPROOF_OK;
}

/* A CertificateVerify, or the signature part of a ServerKeyExchange:
 * scheme and signature<0..2^16-1> exactly filling r. */
static bool signature(struct rd *r, uint16_t *scheme, struct rd *sig)
{
	return get_u16(r, scheme) && get_vec(r, 2, 1, sig) && r->n == 0;
}

/* The public key of certificate der, which must be one DER certificate
 * (caller frees); NULL when it is not. */
static EVP_PKEY *leaf_key(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	EVP_PKEY *k = NULL;

	if (x != NULL && p == der + len)
		k = X509_get_pubkey(x);
	X509_free(x);
	ERR_clear_error();
	return k;
}

static void put_header(struct buf *b, uint8_t type, size_t len)
{
	uint8_t h[4] = { type, (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			 (uint8_t)len };
	buf_append(b, h, sizeof(h));
}

/*
 * The transcript msgs[0..end) with their headers: TLS 1.2 appends the
 * messages themselves to out; TLS 1.3 appends Hash(messages) with md,
 * the first ClientHello replaced by a message_hash when hrr.
 */
static int transcript(const struct tls_hs_msg *msgs, size_t end,
		      uint16_t version, const char *md_name, bool hrr,
		      struct buf *out)
{
	struct buf all = BUF_INIT;
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned hlen = 0;
	size_t start = 0;
	int rc = -1;
	EVP_MD *md = NULL;

	if (version == TLSPROOF_TLS13) {
		md = EVP_MD_fetch(NULL, md_name, NULL);
		if (md == NULL)
			goto out;
	}
	if (version == TLSPROOF_TLS13 && hrr) {
		put_header(&all, msgs[0].type, msgs[0].len);
		buf_append(&all, msgs[0].body, msgs[0].len);
		if (EVP_Digest(all.data, all.len, h, &hlen, md, NULL) != 1)
			goto out;
		buf_reset(&all);
		put_header(&all, HS_MESSAGE_HASH, hlen);
		buf_append(&all, h, hlen);
		start = 1;
	}
	for (size_t i = start; i < end; i++) {
		put_header(&all, msgs[i].type, msgs[i].len);
		buf_append(&all, msgs[i].body, msgs[i].len);
	}
	if (version == TLSPROOF_TLS13) {
		if (EVP_Digest(all.data, all.len, h, &hlen, md, NULL) != 1)
			goto out;
		buf_append(out, h, hlen);
	} else {
		buf_append(out, all.data, all.len);
	}
	rc = 0;
out:
	EVP_MD_free(md);
	buf_release(&all);
	ERR_clear_error();
	return rc;
}

/* TLS 1.3 CertificateVerify content: 64 spaces, context, 0, hash. */
static void content13(struct buf *out, const char *context,
		      const struct buf *hash)
{
	uint8_t spaces[64];

	memset(spaces, 0x20, sizeof(spaces));
	buf_append(out, spaces, sizeof(spaces));
	buf_append(out, context, CONTEXT_LEN);
	buf_append_byte(out, 0);
	buf_append(out, hash->data, hash->len);
}

/* What the parse of the transcript found. */
struct parsed {
	uint16_t version, suite;
	bool hrr;
	const uint8_t *client_random, *server_random;
	size_t server_sig_end; /* index after the server's signature
				  message (TLS 1.3: its transcript ends
				  before it) */
	size_t server_sig_msg;
	struct rd server_params; /* TLS 1.2: signed params */
	uint16_t server_scheme, client_scheme;
	struct rd server_sig, client_sig;
	size_t client_cv; /* index of the client's CertificateVerify */
	const uint8_t *server_leaf;
	size_t server_leaf_len;
	const uint8_t *certs[TLSPROOF_MAX_CHAIN];
	size_t cert_lens[TLSPROOF_MAX_CHAIN];
	size_t n_certs;
};

/* The hellos: version, suite, randoms, HelloRetryRequest. */
static int parse_hellos(struct state *st, struct parsed *p)
{
	const struct tls_hs_msg *m;
	struct server_hello sh, hrr;

	if ((m = expect(st, HS_CLIENT_HELLO, true, "ClientHello")) == NULL)
		return TLSPROOF_MALFORMED;
	if (!client_hello(m, &p->client_random)) {
		set_why(st->why, st->why_len, "malformed ClientHello");
		return TLSPROOF_MALFORMED;
	}
	if ((m = expect(st, HS_SERVER_HELLO, false, "ServerHello")) == NULL)
		return TLSPROOF_MALFORMED;
	if (!server_hello(m, &sh)) {
		set_why(st->why, st->why_len, "malformed ServerHello");
		return TLSPROOF_MALFORMED;
	}
	if (sh.hrr) {
		hrr = sh;
		if (hrr.selected != TLSPROOF_TLS13) {
			set_why(st->why, st->why_len,
				"HelloRetryRequest without TLS 1.3");
			return TLSPROOF_MALFORMED;
		}
		p->hrr = true;
		if ((m = expect(st, HS_CLIENT_HELLO, true,
				"second ClientHello")) == NULL)
			return TLSPROOF_MALFORMED;
		if (!client_hello(m, &p->client_random)) {
			set_why(st->why, st->why_len,
				"malformed second ClientHello");
			return TLSPROOF_MALFORMED;
		}
		if ((m = expect(st, HS_SERVER_HELLO, false, "ServerHello")) ==
		    NULL)
			return TLSPROOF_MALFORMED;
		if (!server_hello(m, &sh) || sh.hrr ||
		    sh.selected != TLSPROOF_TLS13 || sh.suite != hrr.suite) {
			set_why(st->why, st->why_len,
				"ServerHello after the "
				"HelloRetryRequest malformed or inconsistent");
			return TLSPROOF_MALFORMED;
		}
	}
	p->server_random = sh.random;
	p->suite = sh.suite;
	if (sh.selected != 0) {
		if (sh.selected != TLSPROOF_TLS13 ||
		    sh.legacy != TLSPROOF_TLS12) {
			set_why(st->why, st->why_len,
				"unsupported TLS version 0x%04x", sh.selected);
			return TLSPROOF_UNSUPPORTED;
		}
		p->version = TLSPROOF_TLS13;
		if (suite13_md(sh.suite) == NULL) {
			set_why(st->why, st->why_len,
				"unknown TLS 1.3 cipher suite 0x%04x",
				sh.suite);
			return TLSPROOF_UNSUPPORTED;
		}
	} else {
		if (sh.legacy != TLSPROOF_TLS12) {
			set_why(st->why, st->why_len,
				"unsupported TLS version 0x%04x", sh.legacy);
			return TLSPROOF_UNSUPPORTED;
		}
		p->version = TLSPROOF_TLS12;
	}
	return TLSPROOF_OK;
}

static int parse_server_certificate(struct state *st, struct parsed *p,
				    const struct rd *context)
{
	const struct tls_hs_msg *m;
	size_t count;
	int rc;

	if ((m = expect(st, HS_CERTIFICATE, false, "Certificate")) == NULL)
		return TLSPROOF_MALFORMED;
	rc = certificate(m, p->version, context, &p->server_leaf,
			 &p->server_leaf_len, 1, X509_MAX_INTERMEDIATE_CERT,
			 &count, "server", st->why, st->why_len);
	if (rc == TLSPROOF_TOO_LARGE)
		rc = TLSPROOF_MALFORMED; /* ours: the listener lies */
	if (rc == TLSPROOF_OK && count == 0) {
		set_why(st->why, st->why_len, "empty server Certificate");
		rc = TLSPROOF_MALFORMED;
	}
	return rc;
}

/* The client's Certificate and CertificateVerify. */
static int parse_client_auth(struct state *st, struct parsed *p,
			     const struct rd *context)
{
	const struct tls_hs_msg *m;
	struct rd r;
	int rc;

	if (!next_is(st, HS_CERTIFICATE, true)) {
		set_why(st->why, st->why_len, "the client sent no Certificate");
		return st->i < st->n ? TLSPROOF_NO_CLIENT_CERT
				     : TLSPROOF_MALFORMED;
	}
	m = expect(st, HS_CERTIFICATE, true, "Certificate");
	rc = certificate(m, p->version, context, p->certs, p->cert_lens,
			 TLSPROOF_MAX_CHAIN, X509_MAX_CLIENT_CERT, &p->n_certs,
			 "client", st->why, st->why_len);
	if (rc != TLSPROOF_OK)
		return rc;
	if (p->n_certs == 0) {
		set_why(st->why, st->why_len, "the client sent no certificate");
		return TLSPROOF_NO_CLIENT_CERT;
	}
	if (p->version == TLSPROOF_TLS12 &&
	    expect(st, HS_CLIENT_KEY_EXCHANGE, true, "ClientKeyExchange") ==
		    NULL)
		return TLSPROOF_MALFORMED;
	p->client_cv = st->i;
	if ((m = expect(st, HS_CERTIFICATE_VERIFY, true,
			"CertificateVerify")) == NULL)
		return TLSPROOF_MALFORMED;
	r = body(m);
	if (!signature(&r, &p->client_scheme, &p->client_sig)) {
		set_why(st->why, st->why_len,
			"malformed client CertificateVerify");
		return TLSPROOF_MALFORMED;
	}
	return TLSPROOF_OK;
}

static int parse13(struct state *st, struct parsed *p)
{
	const struct tls_hs_msg *m;
	struct rd context, empty = { NULL, 0 }, r;
	int rc;

	if (expect(st, HS_ENCRYPTED_EXTENSIONS, false, "EncryptedExtensions") ==
	    NULL)
		return TLSPROOF_MALFORMED;
	if (next_is(st, HS_FINISHED, false)) {
		set_why(st->why, st->why_len,
			"resumed session (PSK): no "
			"certificates were exchanged");
		return TLSPROOF_NO_CLIENT_CERT;
	}
	if (!next_is(st, HS_CERTIFICATE_REQUEST, false)) {
		set_why(st->why, st->why_len,
			"the server requested no client certificate");
		return next_is(st, HS_CERTIFICATE, false)
			       ? TLSPROOF_NO_CLIENT_CERT
			       : TLSPROOF_MALFORMED;
	}
	m = expect(st, HS_CERTIFICATE_REQUEST, false, "CertificateRequest");
	if (!certificate_request(m, p->version, &context)) {
		set_why(st->why, st->why_len, "malformed CertificateRequest");
		return TLSPROOF_MALFORMED;
	}
	if ((rc = parse_server_certificate(st, p, &empty)) != TLSPROOF_OK)
		return rc;
	p->server_sig_msg = st->i;
	if ((m = expect(st, HS_CERTIFICATE_VERIFY, false,
			"CertificateVerify")) == NULL)
		return TLSPROOF_MALFORMED;
	r = body(m);
	if (!signature(&r, &p->server_scheme, &p->server_sig)) {
		set_why(st->why, st->why_len,
			"malformed server CertificateVerify");
		return TLSPROOF_MALFORMED;
	}
	if (expect(st, HS_FINISHED, false, "Finished") == NULL)
		return TLSPROOF_MALFORMED;
	return parse_client_auth(st, p, &context);
}

static int parse12(struct state *st, struct parsed *p)
{
	const struct tls_hs_msg *m;
	struct rd context, none = { NULL, 0 }, r;
	enum kx kx = kx_of(p->suite);
	int rc;

	if (!next_is(st, HS_CERTIFICATE, false)) {
		set_why(st->why, st->why_len,
			"no server Certificate after the "
			"ServerHello: resumed session");
		return st->i < st->n ? TLSPROOF_NO_CLIENT_CERT
				     : TLSPROOF_MALFORMED;
	}
	if (kx == KX_OTHER) {
		set_why(st->why, st->why_len,
			"cipher suite 0x%04x has no signed "
			"ephemeral key exchange (ECDHE or DHE)",
			p->suite);
		return TLSPROOF_UNSUPPORTED;
	}
	if ((rc = parse_server_certificate(st, p, &none)) != TLSPROOF_OK)
		return rc;
	if (next_is(st, HS_CERTIFICATE_STATUS, false))
		st->i++;
	p->server_sig_msg = st->i;
	if ((m = expect(st, HS_SERVER_KEY_EXCHANGE, false,
			"ServerKeyExchange")) == NULL)
		return TLSPROOF_MALFORMED;
	r = body(m);
	p->server_params.p = r.p;
	if (!(kx == KX_ECDHE ? ecdh_params(&r, st->why, st->why_len)
			     : dh_params(&r, st->why, st->why_len)))
		return TLSPROOF_MALFORMED;
	p->server_params.n = (size_t)(r.p - p->server_params.p);
	if (!signature(&r, &p->server_scheme, &p->server_sig)) {
		set_why(st->why, st->why_len, "malformed ServerKeyExchange");
		return TLSPROOF_MALFORMED;
	}
	if (!next_is(st, HS_CERTIFICATE_REQUEST, false)) {
		set_why(st->why, st->why_len,
			"the server requested no client certificate");
		return next_is(st, HS_SERVER_HELLO_DONE, false)
			       ? TLSPROOF_NO_CLIENT_CERT
			       : TLSPROOF_MALFORMED;
	}
	m = expect(st, HS_CERTIFICATE_REQUEST, false, "CertificateRequest");
	if (!certificate_request(m, p->version, &context)) {
		set_why(st->why, st->why_len, "malformed CertificateRequest");
		return TLSPROOF_MALFORMED;
	}
	if ((m = expect(st, HS_SERVER_HELLO_DONE, false, "ServerHelloDone")) ==
	    NULL)
		return TLSPROOF_MALFORMED;
	if (m->len != 0) {
		set_why(st->why, st->why_len, "malformed ServerHelloDone");
		return TLSPROOF_MALFORMED;
	}
	return parse_client_auth(st, p, &context);
}

/* The server's signature: made by the helper for this connection,
 * randomized, and over this transcript. */
static int check_server(const struct tls_hs_msg *msgs, const struct parsed *p,
			tlsproof_fresh_fn is_fresh, void *arg, char *why,
			size_t why_len)
{
	const struct tlsproof_scheme *s = tlsproof_scheme_find(
		p->server_scheme);
	struct buf content = BUF_INIT, hash = BUF_INIT;
	EVP_PKEY *key = NULL;
	char reason[160];
	int rc;

	if (s == NULL || (p->version == TLSPROOF_TLS13 && !s->tls13)) {
		set_why(why, why_len,
			"server signature scheme 0x%04x is not "
			"supported in this TLS version",
			p->server_scheme);
		return TLSPROOF_UNSUPPORTED;
	}
	if (!s->randomized) {
		set_why(why, why_len,
			"the server signed with %s, which is "
			"deterministic: no proof of freshness",
			s->name);
		return TLSPROOF_NOT_FRESH;
	}
	if (!is_fresh(arg, p->server_scheme, p->server_sig.p,
		      p->server_sig.n)) {
		set_why(why, why_len,
			"the server's %s signature is not one the "
			"helper made for this connection (replayed transcript?)",
			s->name);
		return TLSPROOF_NOT_FRESH;
	}
	if ((key = leaf_key(p->server_leaf, p->server_leaf_len)) == NULL) {
		set_why(why, why_len, "the server certificate does not parse");
		return TLSPROOF_MALFORMED;
	}
	if (p->version == TLSPROOF_TLS13) {
		if (transcript(msgs, p->server_sig_msg, p->version,
			       suite13_md(p->suite), p->hrr, &hash) != 0) {
			set_why(why, why_len, "cannot hash the transcript");
			rc = TLSPROOF_INTERNAL;
			goto out;
		}
		content13(&content, server_context, &hash);
	} else {
		buf_append(&content, p->client_random, 32);
		buf_append(&content, p->server_random, 32);
		buf_append(&content, p->server_params.p, p->server_params.n);
	}
	if (verify_sig(key, p->server_scheme, p->version, content.data,
		       content.len, p->server_sig.p, p->server_sig.n, reason,
		       sizeof(reason)) == 1) {
		rc = TLSPROOF_OK;
	} else {
		set_why(why, why_len,
			"a signature the helper made for this "
			"connection is not the server's over this transcript "
			"(%s): the listener had something else signed",
			reason);
		rc = TLSPROOF_BAD_SERVER_SIG;
	}
out:
	EVP_PKEY_free(key);
	buf_release(&content);
	buf_release(&hash);
	return rc;
}

/* The client's CertificateVerify, with its leaf's key, over the
 * transcript up to it. */
static int check_client(const struct tls_hs_msg *msgs, const struct parsed *p,
			char *why, size_t why_len)
{
	struct buf content = BUF_INIT, data = BUF_INIT;
	const struct tlsproof_scheme *s = tlsproof_scheme_find(
		p->client_scheme);
	EVP_PKEY *key;
	char reason[160];
	int rc;

	if (s == NULL || (p->version == TLSPROOF_TLS13 && !s->tls13)) {
		set_why(why, why_len,
			"client signature scheme 0x%04x is not "
			"supported in this TLS version",
			p->client_scheme);
		return TLSPROOF_UNSUPPORTED;
	}
	if ((key = leaf_key(p->certs[0], p->cert_lens[0])) == NULL) {
		set_why(why, why_len, "the client certificate does not parse");
		return TLSPROOF_MALFORMED;
	}
	if (transcript(msgs, p->client_cv, p->version, suite13_md(p->suite),
		       p->hrr, &data) != 0) {
		set_why(why, why_len, "cannot hash the transcript");
		rc = TLSPROOF_INTERNAL;
		goto out;
	}
	if (p->version == TLSPROOF_TLS13)
		content13(&content, client_context, &data);
	else
		buf_append(&content, data.data, data.len);
	if (verify_sig(key, p->client_scheme, p->version, content.data,
		       content.len, p->client_sig.p, p->client_sig.n, reason,
		       sizeof(reason)) == 1) {
		rc = TLSPROOF_OK;
	} else {
		set_why(why, why_len,
			"client CertificateVerify (%s) with the leaf's key: %s",
			s->name, reason);
		rc = TLSPROOF_BAD_CLIENT_SIG;
	}
out:
	EVP_PKEY_free(key);
	buf_release(&content);
	buf_release(&data);
	return rc;
}

int tlsproof_verify(const struct tls_hs_msg *msgs, size_t n,
		    tlsproof_fresh_fn is_fresh, void *arg,
		    struct tlsproof_result *out, char *why, size_t why_len)
{
	struct state st = { msgs, n, 0, why, why_len };
	struct parsed p;
	size_t total = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	set_why(why, why_len, "%s", "");
	if (n > TLSPROOF_MAX_MSGS) {
		set_why(why, why_len, "%zu handshake messages (over %d)", n,
			TLSPROOF_MAX_MSGS);
		return TLSPROOF_MALFORMED;
	}
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].len > TLSPROOF_MAX_BYTES - total ||
		    (msgs[i].len > 0 && msgs[i].body == NULL)) {
			set_why(why, why_len,
				"handshake messages over %u bytes",
				TLSPROOF_MAX_BYTES);
			return TLSPROOF_MALFORMED;
		}
		total += msgs[i].len;
	}

	if ((rc = parse_hellos(&st, &p)) != TLSPROOF_OK)
		return rc;
	rc = p.version == TLSPROOF_TLS13 ? parse13(&st, &p) : parse12(&st, &p);
	if (rc == TLSPROOF_OK)
		rc = check_server(msgs, &p, is_fresh, arg, why, why_len);
	if (rc == TLSPROOF_OK)
		rc = check_client(msgs, &p, why, why_len);
	if (rc != TLSPROOF_OK)
		return rc;

	out->version = p.version;
	out->cipher_suite = p.suite;
	out->server_scheme = p.server_scheme;
	out->client_scheme = p.client_scheme;
	out->hello_retry = p.hrr;
	for (size_t i = 0; i < p.n_certs; i++) {
		out->certs[i] = p.certs[i];
		out->cert_lens[i] = p.cert_lens[i];
	}
	out->n_certs = p.n_certs;
	set_why(why, why_len, "%s", "");
	return TLSPROOF_OK;
}
