/*
 * test-tlsproof.c - unit tests of helper/tlsproof.c and tlssign.c
 * over real handshakes: a GnuTLS server session set up as libmicrohttpd
 * sets up the listener's (certificate retrieve function, client
 * certificate requested), whose private key is a GnuTLS external key
 * signing through tlssign with an OpenSSL key, as the helper will; and an
 * OpenSSL client in a thread, over a socket pair.  The server records the
 * handshake messages with gnutls_handshake_set_hook_function, as the
 * listener will, and the transcripts go to tlsproof_verify.
 *
 * The listener-side plumbing here (hook, external key callbacks, the
 * TLS 1.3 content rebuilt from the recorded transcript, GnuTLS signature
 * algorithm -> TLS SignatureScheme) is what tlsproof.h's facts were
 * established with; its assertions keep them true.
 *
 * With TLSPROOF_CORPUS_DIR set, the transcripts are also written there in
 * fuzz/fuzz-tlsproof.c's framing (the seeds of fuzz/corpus/tlsproof/).
 *
 * Keys and certificates are made here with OpenSSL; nothing touches the
 * file system but the corpus.
 */
#include "autoconfig.h"

#include "tests/lib/tap.h"
#include "helper/tlsproof.h"
#include "helper/tlssign.h"
#include "lib/config-keys.h"
#include "lib/util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The project's default Service.TlsPriorities but with SECURE's group
 * order (secp256r1 first), without static RSA key exchange (no server
 * signature; it would need a decrypt callback).  OpenSSL's key share is
 * X25519, so TLS 1.3 handshakes have a HelloRetryRequest: what any
 * client whose key share is not the server's first choice gets.  The
 * project's default itself (X25519 first) is DEFAULT_PRIO. */
#define PRIO                                                                   \
	"SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE:-RSA"
#define DEFAULT_PRIO CONFIG_DEFAULT_TLS_PRIORITIES ":-RSA"

#define MAX_RECS 40
#define MAX_SIGS 4

/*
 * Keys and certificates.
 */

struct ident {
	EVP_PKEY *key;
	X509 *cert;
	uint8_t *der;
	size_t der_len;
};

static EVP_PKEY *make_key(const char *type)
{
	EVP_PKEY *k = NULL;

	if (strcmp(type, "P-256") == 0 || strcmp(type, "P-384") == 0)
		k = EVP_EC_gen(type);
	else if (strcmp(type, "RSA") == 0)
		k = EVP_RSA_gen(2048);
	else if (strcmp(type, "RSA-PSS") == 0) {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS",
							       NULL);
		if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
		    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) != 1 ||
		    EVP_PKEY_generate(ctx, &k) != 1)
			k = NULL;
		EVP_PKEY_CTX_free(ctx);
	} else
		k = EVP_PKEY_Q_keygen(NULL, NULL, type);
	if (k == NULL) {
		ERR_print_errors_fp(stderr);
		abort();
	}
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL || !X509_add_ext(x, e, -1))
		abort();
	X509_EXTENSION_free(e);
}

/* A certificate for a new key of type, signed by issuer (NULL: itself). */
static void make_ident(struct ident *id, const char *type, const char *cn,
		       const struct ident *issuer, bool ca)
{
	static long serial = 1;
	X509 *x = X509_new();
	EVP_PKEY *signer;
	const EVP_MD *md = EVP_sha256();
	unsigned char *p;
	int len;

	id->key = make_key(type);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL
					? X509_get_subject_name(issuer->cert)
					: X509_get_subject_name(x));
	X509_set_pubkey(x, id->key);
	add_ext(x, issuer != NULL ? issuer->cert : x, NID_basic_constraints,
		ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (!ca)
		add_ext(x, NULL, NID_ext_key_usage, "clientAuth,serverAuth");
	signer = issuer != NULL ? issuer->key : id->key;
	if (EVP_PKEY_is_a(signer, "ED25519") || EVP_PKEY_is_a(signer, "ED448"))
		md = NULL;
	if (!X509_sign(x, signer, md)) {
		ERR_print_errors_fp(stderr);
		abort();
	}
	id->cert = x;
	len = i2d_X509(x, NULL);
	id->der = xmalloc((size_t)len);
	p = id->der;
	i2d_X509(x, &p);
	id->der_len = (size_t)len;
}

static void free_ident(struct ident *id)
{
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	free(id->der);
}

/*
 * The listener side: a GnuTLS server session.
 */

struct rec {
	uint8_t type;
	bool from_client;
	uint8_t *body;
	size_t len;
};

struct sig {
	uint16_t scheme;
	uint8_t *data;
	size_t len;
	bool randomized;
};

struct conn {
	/* set up by the test */
	const struct ident *server;
	const char *prio;
	bool request_cert, tickets, session_db, flaky, refuse_pkcs1;

	gnutls_session_t session;
	int fd;
	unsigned flip;
	bool done;

	/* what the hook saw */
	struct rec recs[MAX_RECS];
	size_t n_recs;
	unsigned pre_calls, post_calls, ch_pre, ch_post, hrr_hooks;
	bool bad_hook; /* a type above 255 other than HRR, or 254 */

	/* what the external key was asked and signed ("the helper") */
	struct sig sigs[MAX_SIGS];
	size_t n_sigs;
	unsigned hash_calls, data_calls;
	bool tbs13_rebuilt;  /* TLS 1.3: content rebuilt, matches digest */
	struct buf data_tbs; /* what sign_data_func got (EdDSA) */
	uint8_t digest[64];  /* what sign_hash_func got (TLS 1.2) */
	size_t digest_len;
	uint16_t digest_scheme;
	char sign_error[256];

	gnutls_pcert_st pcert;
	gnutls_privkey_t pkey;
	int result; /* gnutls_handshake's */
	bool resumed;
};

static const char *gnutls_md_name(gnutls_digest_algorithm_t d)
{
	return d == GNUTLS_DIG_SHA384 ? "SHA384" : "SHA256";
}

/* The TLS SignatureScheme of a GnuTLS signature algorithm, and whether
 * it is a TLS 1.3 one (0: unknown). */
static uint16_t scheme_of(gnutls_sign_algorithm_t algo, uint16_t *version)
{
	*version = TLSPROOF_TLS12;
	switch (algo) {
	case GNUTLS_SIGN_RSA_SHA256: return 0x0401;
	case GNUTLS_SIGN_RSA_SHA384: return 0x0501;
	case GNUTLS_SIGN_RSA_SHA512: return 0x0601;
	case GNUTLS_SIGN_ECDSA_SHA256: return 0x0403;
	case GNUTLS_SIGN_ECDSA_SHA384: return 0x0503;
	case GNUTLS_SIGN_ECDSA_SHA512: return 0x0603;
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA256: return 0x0804;
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA384: return 0x0805;
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA512: return 0x0806;
	case GNUTLS_SIGN_RSA_PSS_SHA256: return 0x0809;
	case GNUTLS_SIGN_RSA_PSS_SHA384: return 0x080a;
	case GNUTLS_SIGN_RSA_PSS_SHA512: return 0x080b;
	case GNUTLS_SIGN_EDDSA_ED25519: return 0x0807;
	case GNUTLS_SIGN_EDDSA_ED448: return 0x0808;
	default: break;
	}
	*version = TLSPROOF_TLS13;
	switch (algo) {
	case GNUTLS_SIGN_ECDSA_SECP256R1_SHA256: return 0x0403;
	case GNUTLS_SIGN_ECDSA_SECP384R1_SHA384: return 0x0503;
	case GNUTLS_SIGN_ECDSA_SECP521R1_SHA512: return 0x0603;
	default: return 0;
	}
}

/* GNUTLS_SIGN_RSA_RAW data: a DigestInfo; its rsa_pkcs1 scheme and the
 * digest. */
static uint16_t digest_info(const gnutls_datum_t *d, const uint8_t **digest,
			    size_t *len)
{
	static const uint8_t prefix[] = { 0x30, 0x00, 0x30, 0x0d, 0x06,
					  0x09, 0x60, 0x86, 0x48, 0x01,
					  0x65, 0x03, 0x04, 0x02, 0x00,
					  0x05, 0x00, 0x04, 0x00 };
	static const struct {
		uint8_t id;
		size_t len;
		uint16_t scheme;
	} mds[] = { { 1, 32, 0x0401 }, { 2, 48, 0x0501 }, { 3, 64, 0x0601 } };

	for (size_t i = 0; i < 3; i++) {
		uint8_t want[sizeof(prefix)];
		memcpy(want, prefix, sizeof(want));
		want[1] = (uint8_t)(sizeof(prefix) - 2 + mds[i].len);
		want[14] = mds[i].id;
		want[18] = (uint8_t)mds[i].len;
		if (d->size == sizeof(prefix) + mds[i].len &&
		    memcmp(d->data, want, sizeof(want)) == 0) {
			*digest = d->data + sizeof(prefix);
			*len = mds[i].len;
			return mds[i].scheme;
		}
	}
	return 0;
}

static void record_sig(struct conn *c, uint16_t scheme, const struct buf *s)
{
	if (c->n_sigs == MAX_SIGS)
		abort();
	c->sigs[c->n_sigs].scheme = scheme;
	c->sigs[c->n_sigs].data = xmalloc(s->len);
	memcpy(c->sigs[c->n_sigs].data, s->data, s->len);
	c->sigs[c->n_sigs].len = s->len;
	c->sigs[c->n_sigs].randomized = tlsproof_scheme_randomized(scheme);
	c->n_sigs++;
}

static int give_sig(const struct buf *s, gnutls_datum_t *out)
{
	out->data = gnutls_malloc(s->len);
	if (out->data == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	memcpy(out->data, s->data, s->len);
	out->size = (unsigned)s->len;
	return 0;
}

static void put_header(struct buf *b, uint8_t type, size_t len)
{
	uint8_t h[4] = { type, (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			 (uint8_t)len };
	buf_append(b, h, sizeof(h));
}

/* The listener's TLS 1.3 server CertificateVerify content, rebuilt from
 * the messages recorded so far (ClientHello .. server Certificate). */
static void content13(const struct conn *c, struct buf *out)
{
	const char *md = gnutls_md_name(gnutls_prf_hash_get(c->session));
	struct buf all = BUF_INIT;
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned hlen;
	size_t start = 0;

	if (c->n_recs > 1 && c->recs[1].type == 2 &&
	    memcmp(c->recs[1].body + 2, "\xcf\x21\xad\x74", 4) == 0) {
		put_header(&all, 1, c->recs[0].len);
		buf_append(&all, c->recs[0].body, c->recs[0].len);
		EVP_Digest(all.data, all.len, h, &hlen,
			   EVP_get_digestbyname(md), NULL);
		buf_reset(&all);
		put_header(&all, 254, hlen);
		buf_append(&all, h, hlen);
		start = 1;
	}
	for (size_t i = start; i < c->n_recs; i++) {
		put_header(&all, c->recs[i].type, c->recs[i].len);
		buf_append(&all, c->recs[i].body, c->recs[i].len);
	}
	EVP_Digest(all.data, all.len, h, &hlen, EVP_get_digestbyname(md), NULL);
	buf_reset(out);
	for (int i = 0; i < 64; i++)
		buf_append_byte(out, 0x20);
	buf_append_str(out, "TLS 1.3, server CertificateVerify");
	buf_append_byte(out, 0);
	buf_append(out, h, hlen);
	buf_release(&all);
}

static int sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
		     void *userdata, unsigned int flags,
		     const gnutls_datum_t *hash, gnutls_datum_t *signature)
{
	struct conn *c = userdata;
	struct buf s = BUF_INIT, content = BUF_INIT;
	uint16_t version, scheme;
	const uint8_t *digest = hash->data;
	size_t len = hash->size;
	int rc = GNUTLS_E_PK_SIGN_FAILED;

	(void)key;
	(void)flags;
	c->hash_calls++;
	if (algo == GNUTLS_SIGN_RSA_RAW)
		scheme = digest_info(hash, &digest, &len);
	else
		scheme = scheme_of(algo, &version);
	if (scheme == 0) {
		snprintf(c->sign_error, sizeof(c->sign_error),
			 "unknown algorithm %s", gnutls_sign_get_name(algo));
		return rc;
	}
	if (gnutls_protocol_get_version(c->session) == GNUTLS_TLS1_3) {
		/* The whole content goes to the helper. */
		uint8_t h[EVP_MAX_MD_SIZE];
		unsigned hlen = 0;
		content13(c, &content);
		EVP_Digest(content.data, content.len, h, &hlen,
			   EVP_get_digestbyname(
				   tlsproof_scheme_find(scheme)->md),
			   NULL);
		c->tbs13_rebuilt = hlen == len && memcmp(h, digest, len) == 0;
		if (tlssign_sign(c->server->key, scheme, content.data,
				 content.len, &s, c->sign_error,
				 sizeof(c->sign_error)) == 0)
			rc = 0;
	} else {
		/* Only the digest exists. */
		memcpy(c->digest, digest, len);
		c->digest_len = len;
		c->digest_scheme = scheme;
		if (tlssign_sign_digest(c->server->key, scheme, digest, len, &s,
					c->sign_error,
					sizeof(c->sign_error)) == 0)
			rc = 0;
	}
	if (rc == 0) {
		record_sig(c, scheme, &s);
		rc = give_sig(&s, signature);
	}
	buf_release(&s);
	buf_release(&content);
	return rc;
}

static int sign_data(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
		     void *userdata, unsigned int flags,
		     const gnutls_datum_t *data, gnutls_datum_t *signature)
{
	struct conn *c = userdata;
	struct buf s = BUF_INIT;
	uint16_t version, scheme = scheme_of(algo, &version);
	int rc = GNUTLS_E_PK_SIGN_FAILED;

	(void)key;
	(void)flags;
	c->data_calls++;
	buf_reset(&c->data_tbs);
	buf_append(&c->data_tbs, data->data, data->size);
	if (tlssign_sign(c->server->key, scheme, data->data, data->size, &s,
			 c->sign_error, sizeof(c->sign_error)) == 0) {
		record_sig(c, scheme, &s);
		rc = give_sig(&s, signature);
	}
	buf_release(&s);
	return rc;
}

static int key_info(gnutls_privkey_t key, unsigned int flags, void *userdata)
{
	struct conn *c = userdata;
	EVP_PKEY *k = c->server->key;

	(void)key;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO) {
		gnutls_sign_algorithm_t algo = GNUTLS_FLAGS_TO_SIGN_ALGO(flags);
		uint16_t version, scheme = scheme_of(algo, &version);
		if (scheme == 0 || (c->refuse_pkcs1 && (scheme & 0xff) == 0x01))
			return 0;
		return tlsproof_key_fits(k, scheme, version, NULL, 0) == 0;
	}
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO) {
		if (EVP_PKEY_is_a(k, "RSA"))
			return GNUTLS_PK_RSA;
		if (EVP_PKEY_is_a(k, "RSA-PSS"))
			return GNUTLS_PK_RSA_PSS;
		if (EVP_PKEY_is_a(k, "EC"))
			return GNUTLS_PK_ECDSA;
		if (EVP_PKEY_is_a(k, "ED25519"))
			return GNUTLS_PK_EDDSA_ED25519;
		if (EVP_PKEY_is_a(k, "ED448"))
			return GNUTLS_PK_EDDSA_ED448;
		return GNUTLS_E_INVALID_REQUEST;
	}
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return EVP_PKEY_get_bits(k);
	if (flags & GNUTLS_PRIVKEY_INFO_SIGN_ALGO)
		return GNUTLS_SIGN_UNKNOWN;
	return GNUTLS_E_INVALID_REQUEST;
}

static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn,
		    int nreqs, const gnutls_pk_algorithm_t *algos, int n_algos,
		    gnutls_pcert_st **pcert, unsigned int *pcert_length,
		    gnutls_privkey_t *pkey)
{
	struct conn *c = gnutls_session_get_ptr(session);
	gnutls_datum_t der = { c->server->der, (unsigned)c->server->der_len };

	(void)req_ca_dn;
	(void)nreqs;
	(void)algos;
	(void)n_algos;
	if (c->pkey == NULL) {
		if (gnutls_pcert_import_x509_raw(&c->pcert, &der,
						 GNUTLS_X509_FMT_DER, 0) < 0 ||
		    gnutls_privkey_init(&c->pkey) < 0 ||
		    gnutls_privkey_import_ext4(c->pkey, c, sign_data, sign_hash,
					       NULL, NULL, key_info, 0) < 0)
			return -1;
	}
	*pcert = &c->pcert;
	*pcert_length = 1;
	*pkey = c->pkey;
	return 0;
}

static int hook(gnutls_session_t session, unsigned int htype, unsigned when,
		unsigned int incoming, const gnutls_datum_t *msg)
{
	struct conn *c = gnutls_session_get_ptr(session);
	struct rec *r;

	if (when == GNUTLS_HOOK_POST) {
		c->post_calls++;
		c->ch_post += htype == GNUTLS_HANDSHAKE_CLIENT_HELLO;
		return 0;
	}
	c->pre_calls++;
	c->ch_pre += htype == GNUTLS_HANDSHAKE_CLIENT_HELLO;
	if (htype == GNUTLS_HANDSHAKE_HELLO_RETRY_REQUEST) {
		c->hrr_hooks++;
		htype = GNUTLS_HANDSHAKE_SERVER_HELLO;
	}
	if (htype > 253) {
		c->bad_hook = true;
		return 0;
	}
	if (c->done || c->n_recs == MAX_RECS)
		return 0;
	r = &c->recs[c->n_recs++];
	r->type = (uint8_t)htype;
	r->from_client = incoming != 0;
	r->len = msg->size;
	r->body = xmalloc(msg->size + 1);
	if (msg->size > 0)
		memcpy(r->body, msg->data, msg->size);
	return 0;
}

/* The transport: the socket, or every other call EAGAIN and at most 100
 * bytes at a time when flaky. */
static ssize_t push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct conn *c = p;

	if (c->flaky) {
		if ((c->flip ^= 1) != 0) {
			gnutls_transport_set_errno(c->session, EAGAIN);
			return -1;
		}
		if (len > 100)
			len = 100;
	}
	return send(c->fd, data, len, MSG_NOSIGNAL);
}

static ssize_t pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct conn *c = p;

	if (c->flaky) {
		if ((c->flip ^= 2) & 2) {
			gnutls_transport_set_errno(c->session, EAGAIN);
			return -1;
		}
		if (len > 100)
			len = 100;
	}
	return recv(c->fd, data, len, 0);
}

/* A one-entry session cache (TLS 1.2 session-id resumption). */
static gnutls_datum_t db_key, db_data;

static int db_store(void *ptr, gnutls_datum_t key, gnutls_datum_t data)
{
	(void)ptr;
	free(db_key.data);
	free(db_data.data);
	db_key.data = xmalloc(key.size);
	memcpy(db_key.data, key.data, key.size);
	db_key.size = key.size;
	db_data.data = xmalloc(data.size);
	memcpy(db_data.data, data.data, data.size);
	db_data.size = data.size;
	return 0;
}

static gnutls_datum_t db_retrieve(void *ptr, gnutls_datum_t key)
{
	gnutls_datum_t d = { NULL, 0 };

	(void)ptr;
	if (key.size == db_key.size && key.size > 0 &&
	    memcmp(key.data, db_key.data, key.size) == 0) {
		d.data = gnutls_malloc(db_data.size);
		memcpy(d.data, db_data.data, db_data.size);
		d.size = db_data.size;
	}
	return d;
}

static int db_remove(void *ptr, gnutls_datum_t key)
{
	(void)ptr;
	(void)key;
	return 0;
}

static void conn_release(struct conn *c)
{
	for (size_t i = 0; i < c->n_recs; i++)
		free(c->recs[i].body);
	for (size_t i = 0; i < c->n_sigs; i++)
		free(c->sigs[i].data);
	buf_release(&c->data_tbs);
	memset(c, 0, sizeof(*c));
}

/*
 * The client side: OpenSSL in a thread.
 */

struct client {
	int max_version;    /* TLS1_3_VERSION, TLS1_2_VERSION */
	const char *groups; /* NULL: OpenSSL's default */
	const char *sigalgs;
	const char *ciphers; /* TLS 1.2 */
	const char *suites;  /* TLS 1.3 */
	const struct ident *cert, *chain;
	bool no_ticket, keep_session;
	SSL_SESSION *resume;  /* in */
	SSL_SESSION *session; /* out when keep_session (caller frees) */
	bool ok, reused;
	int fd;
};

static void *client_main(void *arg)
{
	struct client *cl = arg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	char b;

	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, cl->max_version);
	if (cl->groups != NULL)
		SSL_CTX_set1_groups_list(ctx, cl->groups);
	if (cl->sigalgs != NULL)
		SSL_CTX_set1_sigalgs_list(ctx, cl->sigalgs);
	if (cl->ciphers != NULL)
		SSL_CTX_set_cipher_list(ctx, cl->ciphers);
	if (cl->suites != NULL)
		SSL_CTX_set_ciphersuites(ctx, cl->suites);
	if (cl->no_ticket)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (cl->cert != NULL) {
		SSL_CTX_use_certificate(ctx, cl->cert->cert);
		SSL_CTX_use_PrivateKey(ctx, cl->cert->key);
		if (cl->chain != NULL)
			SSL_CTX_add1_chain_cert(ctx, cl->chain->cert);
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, cl->fd);
	if (cl->resume != NULL)
		SSL_set_session(ssl, cl->resume);
	if (SSL_connect(ssl) == 1 && SSL_write(ssl, "x", 1) == 1 &&
	    SSL_read(ssl, &b, 1) == 1) {
		cl->ok = true;
		cl->reused = SSL_session_reused(ssl);
		cl->session = SSL_get1_session(ssl);
		/* else SSL_free makes the session not resumable */
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	shutdown(cl->fd, SHUT_RDWR);
	close(cl->fd);
	return NULL;
}

static gnutls_datum_t ticket_key;

/* One handshake; c->result is gnutls_handshake's result. */
static void handshake(struct conn *c, struct client *cl)
{
	gnutls_certificate_credentials_t cred;
	const char *err_pos;
	pthread_t t;
	int sv[2], r;
	char b;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	c->fd = sv[0];
	cl->fd = sv[1];
	gnutls_certificate_allocate_credentials(&cred);
	gnutls_certificate_set_retrieve_function2(cred, retrieve);
	gnutls_certificate_set_known_dh_params(cred, GNUTLS_SEC_PARAM_MEDIUM);
	gnutls_init(&c->session, GNUTLS_SERVER);
	gnutls_session_set_ptr(c->session, c);
	gnutls_handshake_set_hook_function(c->session, GNUTLS_HANDSHAKE_ANY,
					   GNUTLS_HOOK_BOTH, hook);
	if (gnutls_priority_set_direct(c->session,
				       c->prio != NULL ? c->prio : PRIO,
				       &err_pos) < 0)
		abort();
	gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_certificate_server_set_request(c->session,
					      c->request_cert
						      ? GNUTLS_CERT_REQUEST
						      : GNUTLS_CERT_IGNORE);
	if (c->tickets)
		gnutls_session_ticket_enable_server(c->session, &ticket_key);
	if (c->session_db) {
		gnutls_db_set_retrieve_function(c->session, db_retrieve);
		gnutls_db_set_store_function(c->session, db_store);
		gnutls_db_set_remove_function(c->session, db_remove);
		gnutls_db_set_ptr(c->session, c);
	}
	gnutls_transport_set_ptr(c->session, c);
	gnutls_transport_set_push_function(c->session, push);
	gnutls_transport_set_pull_function(c->session, pull);
	gnutls_handshake_set_timeout(c->session, 0);

	if (pthread_create(&t, NULL, client_main, cl) != 0)
		abort();
	do
		r = gnutls_handshake(c->session);
	while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	c->result = r;
	c->done = true;
	if (r == 0) {
		c->resumed = gnutls_session_is_resumed(c->session);
		do
			r = gnutls_record_recv(c->session, &b, 1);
		while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
		do
			r = gnutls_record_send(c->session, "y", 1);
		while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
		c->flaky = false;
		gnutls_bye(c->session, GNUTLS_SHUT_WR);
	}
	shutdown(c->fd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(c->fd);
	if (!cl->keep_session) {
		SSL_SESSION_free(cl->session);
		cl->session = NULL;
	}
	gnutls_deinit(c->session);
	c->session = NULL;
	gnutls_certificate_free_credentials(cred);
	if (c->pkey != NULL) {
		gnutls_privkey_deinit(c->pkey);
		gnutls_pcert_deinit(&c->pcert);
		c->pkey = NULL;
	}
}

/*
 * Verification.
 */

static bool fresh(void *arg, uint16_t scheme, const uint8_t *sig, size_t len)
{
	const struct conn *c = arg;

	for (size_t i = 0; i < c->n_sigs; i++)
		if (c->sigs[i].scheme == scheme && c->sigs[i].len == len &&
		    memcmp(c->sigs[i].data, sig, len) == 0)
			return c->sigs[i].randomized;
	return false;
}

static size_t msgs_of(const struct conn *c, struct tls_hs_msg *m)
{
	for (size_t i = 0; i < c->n_recs; i++) {
		m[i].type = c->recs[i].type;
		m[i].from_client = c->recs[i].from_client;
		m[i].body = c->recs[i].body;
		m[i].len = c->recs[i].len;
	}
	return c->n_recs;
}

static char why[512];

/* Verifies c's transcript against the signatures of by (c itself, or
 * another connection: a replay). */
static int verify_with(const struct conn *c, const struct conn *by,
		       struct tlsproof_result *res)
{
	struct tls_hs_msg m[MAX_RECS];
	size_t n = msgs_of(c, m);

	return tlsproof_verify(m, n, fresh, (void *)by, res, why, sizeof(why));
}

/* fuzz/fuzz-tlsproof.c's framing: type, flags (1: from the client),
 * 24-bit length, body. */
static void frame(struct buf *out, const struct tls_hs_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t h[5] = { m[i].type, m[i].from_client,
				 (uint8_t)(m[i].len >> 16),
				 (uint8_t)(m[i].len >> 8), (uint8_t)m[i].len };
		buf_append(out, h, sizeof(h));
		buf_append(out, m[i].body, m[i].len);
	}
}

static void write_seed_bytes(const char *name, const uint8_t *data, size_t len)
{
	const char *dir = getenv("TLSPROOF_CORPUS_DIR");
	char *path;
	FILE *f;

	if (dir == NULL)
		return;
	path = xasprintf("%s/%s.bin", dir, name);
	if ((f = fopen(path, "wb")) != NULL) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
	free(path);
}

static void write_seed(const char *name, const struct conn *c)
{
	struct tls_hs_msg m[MAX_RECS];
	struct buf b = BUF_INIT;

	frame(&b, m, msgs_of(c, m));
	write_seed_bytes(name, b.data, b.len);
	buf_release(&b);
}

/*
 * The identities of every test.
 */

static struct ident srv_ec, srv_rsa, srv_ed, cli_rsa, cli_ec, cli_ed, cli_pss,
	cli_other, ca, inter, cli_chained;

static void setup_conn(struct conn *c, const struct ident *server)
{
	memset(c, 0, sizeof(*c));
	c->server = server;
	c->request_cert = true;
	c->refuse_pkcs1 = true;
}

static void setup_client(struct client *cl, int version,
			 const struct ident *cert)
{
	memset(cl, 0, sizeof(*cl));
	cl->max_version = version;
	cl->cert = cert;
}

/* A handshake that must succeed and prove the client's key. */
static void good_case(const char *name, struct conn *c, struct client *cl,
		      uint16_t version, bool hrr, const struct ident *leaf,
		      const struct ident *second)
{
	struct tlsproof_result res;
	int rc;

	handshake(c, cl);
	if (!ok(c->result == 0 && cl->ok, "%s: handshake", name)) {
		tap_diag("gnutls: %s; sign: %s", gnutls_strerror(c->result),
			 c->sign_error);
		return;
	}
	rc = verify_with(c, c, &res);
	is_int(rc, TLSPROOF_OK, "%s: verified (%s)", name, why);
	is_int(res.version, version, "%s: version", name);
	is_int(res.hello_retry, hrr, "%s: HelloRetryRequest", name);
	ok(res.n_certs >= 1 && res.cert_lens[0] == leaf->der_len &&
		   memcmp(res.certs[0], leaf->der, leaf->der_len) == 0,
	   "%s: the leaf is the client's certificate", name);
	if (second != NULL)
		ok(res.n_certs == 2 && res.cert_lens[1] == second->der_len &&
			   memcmp(res.certs[1], second->der, second->der_len) ==
				   0,
		   "%s: the chain's second certificate", name);
	else
		is_int(res.n_certs, 1, "%s: one certificate", name);
	ok(!c->bad_hook, "%s: no hook type above 253 but HRR", name);
	if (!c->flaky)
		write_seed(name, c);
}

/*
 * Transcript surgery for the negative cases.
 */

/* A copy of c's messages in which message i has the body b. */
static int verify_replaced(const struct conn *c, size_t i, const uint8_t *b,
			   size_t len)
{
	struct tls_hs_msg m[MAX_RECS];
	struct tlsproof_result res;
	size_t n = msgs_of(c, m);
	int rc;

	m[i].body = b;
	m[i].len = len;
	rc = tlsproof_verify(m, n, fresh, (void *)c, &res, why, sizeof(why));
	if (rc != TLSPROOF_OK && (res.n_certs != 0 || why[0] == '\0'))
		return -1; /* a refusal must be empty and say why */
	return rc;
}

/* Index of the last message of type from the given side, or -1. */
static int find_msg(const struct conn *c, uint8_t type, bool from_client)
{
	int found = -1;

	for (size_t i = 0; i < c->n_recs; i++)
		if (c->recs[i].type == type &&
		    c->recs[i].from_client == from_client)
			found = (int)i;
	return found;
}

/* Index of the first message of type from the given side, or -1. */
static int first_msg(const struct conn *c, uint8_t type, bool from_client)
{
	for (size_t i = 0; i < c->n_recs; i++)
		if (c->recs[i].type == type &&
		    c->recs[i].from_client == from_client)
			return (int)i;
	return -1;
}

static void put_u24(struct buf *b, size_t v)
{
	uint8_t x[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	buf_append(b, x, 3);
}

/* A Certificate body holding der alone. */
static void certificate_body(struct buf *b, uint16_t version,
			     const struct ident *id)
{
	if (version == TLSPROOF_TLS13)
		buf_append_byte(b, 0);
	put_u24(b, id->der_len + 3 + (version == TLSPROOF_TLS13 ? 2 : 0));
	put_u24(b, id->der_len);
	buf_append(b, id->der, id->der_len);
	if (version == TLSPROOF_TLS13)
		buf_append(b, "\0\0", 2);
}

/* Every mutation of a good transcript is refused (and none crashes). */
static void mutations(const char *name, const struct conn *c)
{
	struct tls_hs_msg m[MAX_RECS];
	struct tlsproof_result res;
	size_t n = msgs_of(c, m), tried = 0, refused = 0;
	uint8_t garbage[600];
	int cv = find_msg(c, 15, true);

	for (size_t i = 0; i < n && (int)i <= cv; i++) {
		size_t len = c->recs[i].len;
		size_t cuts[] = { 0, len / 2, len > 0 ? len - 1 : 0 };
		for (size_t k = 0; k < 3; k++) {
			if (cuts[k] == len)
				continue;
			tried++;
			refused += verify_replaced(c, i, c->recs[i].body,
						   cuts[k]) != TLSPROOF_OK;
		}
		if (len > 0) {
			size_t glen = len < sizeof(garbage) ? len
							    : sizeof(garbage);
			RAND_bytes(garbage, sizeof(garbage));
			if (memcmp(garbage, c->recs[i].body, glen) == 0)
				garbage[0] ^= 1;
			tried++;
			refused += verify_replaced(c, i, garbage, glen) !=
				   TLSPROOF_OK;
		}
		/* one bit flipped in the middle and at the end */
		for (size_t k = 0; k < 2 && len > 0; k++) {
			uint8_t *copy = xmalloc(len);
			memcpy(copy, c->recs[i].body, len);
			copy[k == 0 ? len / 2 : len - 1] ^= 0x01;
			tried++;
			refused += verify_replaced(c, i, copy, len) !=
				   TLSPROOF_OK;
			free(copy);
		}
		/* dropped, duplicated, swapped with the next */
		{
			struct tls_hs_msg mm[MAX_RECS + 1];
			memcpy(mm, m, i * sizeof(*m));
			memcpy(mm + i, m + i + 1, (n - i - 1) * sizeof(*m));
			tried++;
			refused += tlsproof_verify(mm, n - 1, fresh, (void *)c,
						   &res, why,
						   sizeof(why)) != TLSPROOF_OK;
			/* (a copy of the client's CertificateVerify would
			 * follow it, where nothing is looked at) */
			memcpy(mm, m, (i + 1) * sizeof(*m));
			memcpy(mm + i + 1, m + i, (n - i) * sizeof(*m));
			if ((int)i < cv) {
				tried++;
				refused += tlsproof_verify(mm, n + 1, fresh,
							   (void *)c, &res, why,
							   sizeof(why)) !=
					   TLSPROOF_OK;
			}
			if (i + 1 < n) {
				memcpy(mm, m, n * sizeof(*m));
				mm[i] = m[i + 1];
				mm[i + 1] = m[i];
				tried++;
				refused += tlsproof_verify(mm, n, fresh,
							   (void *)c, &res, why,
							   sizeof(why)) !=
					   TLSPROOF_OK;
			}
		}
	}
	/* cut after every message before the client's CertificateVerify */
	for (int k = 0; k <= cv; k++) {
		tried++;
		refused += tlsproof_verify(m, (size_t)k, fresh, (void *)c, &res,
					   why, sizeof(why)) != TLSPROOF_OK;
	}
	ok(tried > 20 && refused == tried,
	   "%s: %zu of %zu truncated, garbled, flipped, dropped, duplicated, "
	   "reordered and cut transcripts refused",
	   name, refused, tried);
}

/* The client CertificateVerify flipped, the client Certificate swapped,
 * and a fresh signature of other content in the server's message. */
static void forgeries(const char *name, struct conn *c, uint16_t version,
		      const struct ident *swap)
{
	int cv = find_msg(c, 15, true), cert = first_msg(c, 11, true);
	int ssig = version == TLSPROOF_TLS13 ? first_msg(c, 15, false)
					     : first_msg(c, 12, false);
	struct buf b = BUF_INIT, s = BUF_INIT, tbs = BUF_INIT;
	uint8_t *copy;
	size_t len;
	char err[256];

	if (cv < 0 || cert < 0 || ssig < 0) {
		ok(0, "%s: messages found", name);
		return;
	}
	len = c->recs[cv].len;
	copy = xmalloc(len);
	memcpy(copy, c->recs[cv].body, len);
	copy[len - 1] ^= 0x80;
	is_int(verify_replaced(c, (size_t)cv, copy, len),
	       TLSPROOF_BAD_CLIENT_SIG,
	       "%s: client CertificateVerify flipped: refused (%s)", name, why);
	free(copy);

	certificate_body(&b, version, swap);
	is_int(verify_replaced(c, (size_t)cert, b.data, b.len),
	       TLSPROOF_BAD_CLIENT_SIG,
	       "%s: another certificate than the signer's: refused (%s)", name,
	       why);

	/* The hostile listener had the helper sign other content for this
	 * connection and put that signature into the transcript. */
	for (int i = 0; i < 64; i++)
		buf_append_byte(&tbs, 0x20);
	buf_append_str(&tbs, "TLS 1.3, server CertificateVerify");
	buf_append_byte(&tbs, 0);
	for (int i = 0; i < 48; i++)
		buf_append_byte(&tbs, (uint8_t)i);
	if (tlssign_sign(c->server->key, c->sigs[0].scheme, tbs.data, tbs.len,
			 &s, err, sizeof(err)) != 0) {
		ok(0, "%s: other content signed: %s", name, err);
	} else {
		/* the signature is at the end of the message, after its u16
		 * length */
		size_t old = c->sigs[0].len;
		size_t keep = c->recs[ssig].len - old - 2;
		record_sig(c, c->sigs[0].scheme, &s);
		buf_reset(&b);
		buf_append(&b, c->recs[ssig].body, keep);
		buf_append_byte(&b, (uint8_t)(s.len >> 8));
		buf_append_byte(&b, (uint8_t)s.len);
		buf_append(&b, s.data, s.len);
		is_int(verify_replaced(c, (size_t)ssig, b.data, b.len),
		       TLSPROOF_BAD_SERVER_SIG,
		       "%s: a fresh signature of other content: refused (%s)",
		       name, why);
		free(c->sigs[--c->n_sigs].data);
	}
	buf_release(&b);
	buf_release(&s);
	buf_release(&tbs);
}

/* TLS 1.2: what sign_hash_func got is the digest of client_random ||
 * server_random || the ServerKeyExchange's params, and that content
 * passes tlsproof_check_tbs. */
static void check_tbs12(const char *name, const struct conn *c)
{
	int ch = first_msg(c, 1, true), sh = first_msg(c, 2, false);
	int ske = first_msg(c, 12, false);
	const struct tlsproof_scheme *s = tlsproof_scheme_find(
		c->digest_scheme);
	struct buf tbs = BUF_INIT;
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned hlen = 0;
	size_t params;
	char *seed;

	if (ch < 0 || sh < 0 || ske < 0 || s == NULL) {
		ok(0, "%s: messages found", name);
		return;
	}
	/* the params are the message without scheme, length and signature */
	params = c->recs[ske].len - 4 - c->sigs[0].len;
	buf_append(&tbs, c->recs[ch].body + 2, 32);
	buf_append(&tbs, c->recs[sh].body + 2, 32);
	buf_append(&tbs, c->recs[ske].body, params);
	EVP_Digest(tbs.data, tbs.len, h, &hlen, EVP_get_digestbyname(s->md),
		   NULL);
	ok(hlen == c->digest_len && memcmp(h, c->digest, hlen) == 0,
	   "%s: sign_hash_func got Hash(randoms || ServerKeyExchange params)",
	   name);
	is_int(tlsproof_check_tbs(tbs.data, tbs.len, why, sizeof(why)),
	       TLSPROOF_TLS12, "%s: that content passes the shape check (%s)",
	       name, why);
	seed = xasprintf("tbs-%s", name);
	write_seed_bytes(seed, tbs.data, tbs.len);
	free(seed);
	buf_release(&tbs);
}

/*
 * The tests.
 */

static void test_tls13(void)
{
	struct conn c, d;
	struct client cl;
	struct tlsproof_result res;

	/* OpenSSL's key share is X25519, the server prefers secp256r1. */
	setup_conn(&c, &srv_ec);
	setup_client(&cl, TLS1_3_VERSION, &cli_rsa);
	good_case("tls13-ecdsa-server-rsa-client-hrr", &c, &cl, TLSPROOF_TLS13,
		  true, &cli_rsa, NULL);
	is_int(c.hrr_hooks, 1,
	       "hook: the HelloRetryRequest comes as htype 1025");
	is_int(c.ch_pre, 2, "hook: both ClientHellos get the PRE call");
	is_int(c.ch_post, 1, "hook: the first ClientHello gets no POST call");
	is_int(c.pre_calls, c.post_calls + 1,
	       "hook: every other message gets both calls");
	is_int(c.hash_calls, 1, "ECDSA: sign_hash_func called once");
	is_int(c.data_calls, 0, "ECDSA: sign_data_func not called");
	ok(c.tbs13_rebuilt,
	   "TLS 1.3: the listener rebuilds the content GnuTLS "
	   "hashed (ClientHello .. server Certificate, message_hash)");
	is_int(c.sigs[0].scheme, 0x0403,
	       "TLS 1.3 P-256 server: ecdsa_secp256r1_sha256");
	mutations("tls13-hrr", &c);
	forgeries("tls13-hrr", &c, TLSPROOF_TLS13, &cli_other);

	/* A replay: c's transcript on a later connection d. */
	setup_conn(&d, &srv_ec);
	setup_client(&cl, TLS1_3_VERSION, &cli_rsa);
	handshake(&d, &cl);
	is_int(verify_with(&c, &d, &res), TLSPROOF_NOT_FRESH,
	       "replayed TLS 1.3 transcript: refused (%s)", why);
	ok(res.n_certs == 0, "a refusal returns no certificate");
	conn_release(&d);
	conn_release(&c);

	setup_conn(&c, &srv_ec);
	setup_client(&cl, TLS1_3_VERSION, &cli_ec);
	cl.groups = "P-256";
	good_case("tls13-ecdsa-server-ecdsa-client", &c, &cl, TLSPROOF_TLS13,
		  false, &cli_ec, NULL);
	ok(c.tbs13_rebuilt, "TLS 1.3 without HRR: content rebuilt");
	conn_release(&c);

	/* The project's default priorities: OpenSSL's X25519 share is the
	 * server's first choice, no HelloRetryRequest. */
	setup_conn(&c, &srv_ec);
	c.prio = DEFAULT_PRIO;
	setup_client(&cl, TLS1_3_VERSION, &cli_rsa);
	good_case("tls13-default-priorities", &c, &cl, TLSPROOF_TLS13, false,
		  &cli_rsa, NULL);
	is_int(c.hrr_hooks, 0,
	       "default priorities: an OpenSSL client gets no HelloRetryRequest");
	ok(c.tbs13_rebuilt, "default priorities: content rebuilt");
	mutations("tls13-default", &c);
	conn_release(&c);

	setup_conn(&c, &srv_rsa);
	setup_client(&cl, TLS1_3_VERSION, &cli_ec);
	cl.suites = "TLS_AES_128_GCM_SHA256";
	good_case("tls13-rsa-server-ecdsa-client-sha256", &c, &cl,
		  TLSPROOF_TLS13, true, &cli_ec, NULL);
	is_int(c.sigs[0].scheme, 0x0804,
	       "TLS 1.3 RSA server: rsa_pss_rsae_sha256");
	ok(c.tbs13_rebuilt, "TLS 1.3 with a SHA-256 suite: content rebuilt");
	mutations("tls13-rsa", &c);
	conn_release(&c);

	setup_conn(&c, &srv_rsa);
	setup_client(&cl, TLS1_3_VERSION, &cli_ed);
	good_case("tls13-rsa-server-ed25519-client", &c, &cl, TLSPROOF_TLS13,
		  true, &cli_ed, NULL);
	conn_release(&c);

	setup_conn(&c, &srv_ec);
	setup_client(&cl, TLS1_3_VERSION, &cli_pss);
	good_case("tls13-ecdsa-server-rsapss-client", &c, &cl, TLSPROOF_TLS13,
		  true, &cli_pss, NULL);
	conn_release(&c);

	setup_conn(&c, &srv_ec);
	setup_client(&cl, TLS1_3_VERSION, &cli_chained);
	cl.chain = &inter;
	good_case("tls13-client-chain", &c, &cl, TLSPROOF_TLS13, true,
		  &cli_chained, &inter);
	conn_release(&c);

	/* EAGAIN on every other push and pull, at most 100 bytes each. */
	setup_conn(&c, &srv_ec);
	c.flaky = true;
	setup_client(&cl, TLS1_3_VERSION, &cli_rsa);
	good_case("tls13-eagain", &c, &cl, TLSPROOF_TLS13, true, &cli_rsa,
		  NULL);
	conn_release(&c);
}

static void test_tls12(void)
{
	struct conn c, d;
	struct client cl;
	struct tlsproof_result res;

	setup_conn(&c, &srv_ec);
	setup_client(&cl, TLS1_2_VERSION, &cli_rsa);
	good_case("tls12-ecdhe-ecdsa-server-rsa-client", &c, &cl,
		  TLSPROOF_TLS12, false, &cli_rsa, NULL);
	is_int(c.hash_calls, 1, "TLS 1.2 ECDSA: sign_hash_func called once");
	is_int(c.sigs[0].scheme, 0x0403,
	       "TLS 1.2 ECDSA: ecdsa_secp256r1_sha256");
	check_tbs12("tls12-ecdhe", &c);
	mutations("tls12-ecdhe", &c);
	forgeries("tls12-ecdhe", &c, TLSPROOF_TLS12, &cli_other);

	setup_conn(&d, &srv_ec);
	setup_client(&cl, TLS1_2_VERSION, &cli_rsa);
	handshake(&d, &cl);
	is_int(verify_with(&c, &d, &res), TLSPROOF_NOT_FRESH,
	       "replayed TLS 1.2 transcript: refused (%s)", why);
	conn_release(&d);
	conn_release(&c);

	setup_conn(&c, &srv_rsa);
	setup_client(&cl, TLS1_2_VERSION, &cli_ec);
	cl.sigalgs = "RSA+SHA256:rsa_pss_rsae_sha256:ECDSA+SHA256";
	good_case("tls12-ecdhe-rsa-server-ecdsa-client", &c, &cl,
		  TLSPROOF_TLS12, false, &cli_ec, NULL);
	is_int(c.sigs[0].scheme, 0x0804,
	       "TLS 1.2 RSA server, PKCS#1 refused "
	       "by the key's info: rsa_pss_rsae_sha256 although the client "
	       "prefers rsa_pkcs1_sha256");
	check_tbs12("tls12-ecdhe-rsa", &c);
	forgeries("tls12-ecdhe-rsa", &c, TLSPROOF_TLS12, &cli_chained);
	conn_release(&c);

	setup_conn(&c, &srv_rsa);
	setup_client(&cl, TLS1_2_VERSION, &cli_rsa);
	cl.ciphers = "DHE-RSA-AES128-GCM-SHA256";
	good_case("tls12-dhe-rsa", &c, &cl, TLSPROOF_TLS12, false, &cli_rsa,
		  NULL);
	check_tbs12("tls12-dhe", &c);
	mutations("tls12-dhe", &c);
	conn_release(&c);

	setup_conn(&c, &srv_ec);
	setup_client(&cl, TLS1_2_VERSION, &cli_ed);
	good_case("tls12-ecdsa-server-ed25519-client", &c, &cl, TLSPROOF_TLS12,
		  false, &cli_ed, NULL);
	conn_release(&c);

	setup_conn(&c, &srv_rsa);
	setup_client(&cl, TLS1_2_VERSION, &cli_chained);
	cl.chain = &inter;
	good_case("tls12-client-chain", &c, &cl, TLSPROOF_TLS12, false,
		  &cli_chained, &inter);
	conn_release(&c);

	setup_conn(&c, &srv_ec);
	c.flaky = true;
	setup_client(&cl, TLS1_2_VERSION, &cli_ec);
	good_case("tls12-eagain", &c, &cl, TLSPROOF_TLS12, false, &cli_ec,
		  NULL);
	conn_release(&c);
}

/* Deterministic server signatures prove nothing. */
static void test_deterministic(void)
{
	struct conn c;
	struct client cl;
	struct tlsproof_result res;

	/* A TLS 1.2 client that offers no RSA-PSS, PKCS#1 allowed. */
	setup_conn(&c, &srv_rsa);
	c.refuse_pkcs1 = false;
	setup_client(&cl, TLS1_2_VERSION, &cli_ec);
	cl.sigalgs = "RSA+SHA256:ECDSA+SHA256";
	handshake(&c, &cl);
	ok(c.result == 0 && c.n_sigs == 1 && c.sigs[0].scheme == 0x0401,
	   "TLS 1.2 PKCS#1: GnuTLS hands sign_hash_func GNUTLS_SIGN_RSA_RAW "
	   "and a DigestInfo");
	is_int(verify_with(&c, &c, &res), TLSPROOF_NOT_FRESH,
	       "rsa_pkcs1 server signature: refused (%s)", why);
	check_tbs12("tls12-pkcs1", &c);
	conn_release(&c);

	/* The same client when the key refuses PKCS#1: no handshake. */
	setup_conn(&c, &srv_rsa);
	setup_client(&cl, TLS1_2_VERSION, &cli_ec);
	cl.sigalgs = "RSA+SHA256:ECDSA+SHA256";
	handshake(&c, &cl);
	ok(c.result < 0 && c.n_sigs == 0,
	   "PKCS#1 refused by the key, client without PSS: handshake fails "
	   "(%s)",
	   gnutls_strerror(c.result));
	conn_release(&c);

	setup_conn(&c, &srv_ed);
	setup_client(&cl, TLS1_3_VERSION, &cli_ec);
	handshake(&c, &cl);
	ok(c.result == 0 && c.data_calls == 1 && c.hash_calls == 0,
	   "Ed25519 server, TLS 1.3: sign_data_func gets the content");
	is_int(tlsproof_check_tbs(c.data_tbs.data, c.data_tbs.len, why,
				  sizeof(why)),
	       TLSPROOF_TLS13,
	       "TLS 1.3 content from GnuTLS passes the shape check (%s)", why);
	write_seed_bytes("tbs-tls13-ed25519", c.data_tbs.data, c.data_tbs.len);
	is_int(verify_with(&c, &c, &res), TLSPROOF_NOT_FRESH,
	       "ed25519 server signature (TLS 1.3): refused (%s)", why);
	conn_release(&c);

	setup_conn(&c, &srv_ed);
	setup_client(&cl, TLS1_2_VERSION, &cli_ec);
	handshake(&c, &cl);
	ok(c.result == 0 && c.data_calls == 1,
	   "Ed25519 server, TLS 1.2: sign_data_func gets the content");
	is_int(tlsproof_check_tbs(c.data_tbs.data, c.data_tbs.len, why,
				  sizeof(why)),
	       TLSPROOF_TLS12,
	       "TLS 1.2 content from GnuTLS passes the shape check (%s)", why);
	is_int(verify_with(&c, &c, &res), TLSPROOF_NOT_FRESH,
	       "ed25519 server signature (TLS 1.2): refused (%s)", why);
	conn_release(&c);
}

static void test_no_client_cert(void)
{
	struct conn c;
	struct client cl;
	struct tlsproof_result res;
	SSL_SESSION *sess;

	setup_conn(&c, &srv_ec);
	setup_client(&cl, TLS1_3_VERSION, NULL);
	handshake(&c, &cl);
	ok(c.result == 0, "TLS 1.3 without a client certificate: handshake");
	is_int(verify_with(&c, &c, &res), TLSPROOF_NO_CLIENT_CERT,
	       "TLS 1.3 without a client certificate: refused (%s)", why);
	write_seed("tls13-no-client-cert", &c);
	conn_release(&c);

	setup_conn(&c, &srv_ec);
	setup_client(&cl, TLS1_2_VERSION, NULL);
	handshake(&c, &cl);
	is_int(verify_with(&c, &c, &res), TLSPROOF_NO_CLIENT_CERT,
	       "TLS 1.2 without a client certificate: refused (%s)", why);
	conn_release(&c);

	setup_conn(&c, &srv_ec);
	c.request_cert = false;
	setup_client(&cl, TLS1_3_VERSION, &cli_ec);
	handshake(&c, &cl);
	is_int(verify_with(&c, &c, &res), TLSPROOF_NO_CLIENT_CERT,
	       "TLS 1.3, no certificate requested: refused (%s)", why);
	conn_release(&c);

	setup_conn(&c, &srv_ec);
	c.request_cert = false;
	setup_client(&cl, TLS1_2_VERSION, &cli_ec);
	handshake(&c, &cl);
	is_int(verify_with(&c, &c, &res), TLSPROOF_NO_CLIENT_CERT,
	       "TLS 1.2, no certificate requested: refused (%s)", why);
	conn_release(&c);

	/* Resumption: TLS 1.3 ticket (PSK). */
	setup_conn(&c, &srv_ec);
	c.tickets = true;
	setup_client(&cl, TLS1_3_VERSION, &cli_ec);
	cl.keep_session = true;
	handshake(&c, &cl);
	sess = cl.session;
	is_int(verify_with(&c, &c, &res), TLSPROOF_OK,
	       "TLS 1.3 full handshake with tickets: verified (%s)", why);
	conn_release(&c);
	setup_conn(&c, &srv_ec);
	c.tickets = true;
	setup_client(&cl, TLS1_3_VERSION, &cli_ec);
	cl.resume = sess;
	cl.keep_session = true;
	handshake(&c, &cl);
	ok(c.result == 0 && c.resumed && cl.reused,
	   "TLS 1.3 ticket: session resumed");
	is_int(verify_with(&c, &c, &res), TLSPROOF_NO_CLIENT_CERT,
	       "TLS 1.3 resumed session: refused (%s)", why);
	write_seed("tls13-resumed", &c);
	SSL_SESSION_free(sess);
	SSL_SESSION_free(cl.session);
	conn_release(&c);

	/* TLS 1.2 ticket. */
	setup_conn(&c, &srv_ec);
	c.tickets = true;
	setup_client(&cl, TLS1_2_VERSION, &cli_ec);
	cl.keep_session = true;
	handshake(&c, &cl);
	sess = cl.session;
	conn_release(&c);
	setup_conn(&c, &srv_ec);
	c.tickets = true;
	setup_client(&cl, TLS1_2_VERSION, &cli_ec);
	cl.resume = sess;
	cl.keep_session = true;
	handshake(&c, &cl);
	ok(c.result == 0 && c.resumed && cl.reused,
	   "TLS 1.2 ticket: session resumed");
	is_int(verify_with(&c, &c, &res), TLSPROOF_NO_CLIENT_CERT,
	       "TLS 1.2 resumed session (ticket): refused (%s)", why);
	write_seed("tls12-resumed", &c);
	SSL_SESSION_free(sess);
	SSL_SESSION_free(cl.session);
	conn_release(&c);

	/* TLS 1.2 session id. */
	setup_conn(&c, &srv_ec);
	c.session_db = true;
	setup_client(&cl, TLS1_2_VERSION, &cli_ec);
	cl.no_ticket = true;
	cl.keep_session = true;
	handshake(&c, &cl);
	sess = cl.session;
	conn_release(&c);
	setup_conn(&c, &srv_ec);
	c.session_db = true;
	setup_client(&cl, TLS1_2_VERSION, &cli_ec);
	cl.no_ticket = true;
	cl.resume = sess;
	cl.keep_session = true;
	handshake(&c, &cl);
	ok(c.result == 0 && c.resumed && cl.reused,
	   "TLS 1.2 session id: session resumed");
	is_int(verify_with(&c, &c, &res), TLSPROOF_NO_CLIENT_CERT,
	       "TLS 1.2 resumed session (session id): refused (%s)", why);
	SSL_SESSION_free(sess);
	SSL_SESSION_free(cl.session);
	conn_release(&c);
}

static void test_check_tbs(void)
{
	uint8_t b[300];
	size_t n;

	memset(b, 0x20, 64);
	memcpy(b + 64, "TLS 1.3, server CertificateVerify", 33);
	b[97] = 0;
	memset(b + 98, 0xaa, 48);
	is_int(tlsproof_check_tbs(b, 98 + 48, why, sizeof(why)), TLSPROOF_TLS13,
	       "check_tbs: TLS 1.3 content with a SHA-384 hash");
	is_int(tlsproof_check_tbs(b, 98 + 32, why, sizeof(why)), TLSPROOF_TLS13,
	       "check_tbs: TLS 1.3 content with a SHA-256 hash");
	is_int(tlsproof_check_tbs(b, 98 + 20, why, sizeof(why)), -1,
	       "check_tbs: TLS 1.3 content with a 20-byte hash refused (%s)",
	       why);
	is_int(tlsproof_check_tbs(b, 98 + 64, why, sizeof(why)), -1,
	       "check_tbs: TLS 1.3 content with a 64-byte hash refused");
	memcpy(b + 64, "TLS 1.3, client CertificateVerify", 33);
	is_int(tlsproof_check_tbs(b, 98 + 32, why, sizeof(why)), -1,
	       "check_tbs: client CertificateVerify content refused (%s)", why);

	/* TLS 1.2: randoms, then ECDH params (secp256r1) */
	RAND_bytes(b, 64);
	b[64] = 3;
	b[65] = 0x00;
	b[66] = 0x17;
	b[67] = 65;
	b[68] = 4;
	RAND_bytes(b + 69, 64);
	n = 64 + 4 + 65;
	is_int(tlsproof_check_tbs(b, n, why, sizeof(why)), TLSPROOF_TLS12,
	       "check_tbs: TLS 1.2 ECDH content (%s)", why);
	is_int(tlsproof_check_tbs(b, n + 1, why, sizeof(why)), -1,
	       "check_tbs: a byte left over refused (%s)", why);
	is_int(tlsproof_check_tbs(b, n - 1, why, sizeof(why)), -1,
	       "check_tbs: a byte missing refused");
	b[66] = 0x1d; /* x25519 wants 32 bytes */
	is_int(tlsproof_check_tbs(b, n, why, sizeof(why)), -1,
	       "check_tbs: point of the wrong length refused");
	b[66] = 0x42;
	is_int(tlsproof_check_tbs(b, n, why, sizeof(why)), -1,
	       "check_tbs: unknown group refused");
	b[66] = 0x17;
	b[64] = 1;
	is_int(tlsproof_check_tbs(b, n, why, sizeof(why)), -1,
	       "check_tbs: curve_type 1 refused");

	/* TLS 1.2 DH params: p (16 bytes), g (1), Ys (16) */
	n = 64;
	b[n++] = 0;
	b[n++] = 16;
	memset(b + n, 0xc5, 16);
	n += 16;
	b[n++] = 0;
	b[n++] = 1;
	b[n++] = 2;
	b[n++] = 0;
	b[n++] = 16;
	memset(b + n, 0x11, 16);
	n += 16;
	is_int(tlsproof_check_tbs(b, n, why, sizeof(why)), TLSPROOF_TLS12,
	       "check_tbs: TLS 1.2 DH content (%s)", why);
	b[64 + 2 + 16 + 3 + 1] = 17; /* Ys longer than p */
	is_int(tlsproof_check_tbs(b, n + 1, why, sizeof(why)), -1,
	       "check_tbs: Ys longer than p refused");
	b[64 + 1] = 0;
	is_int(tlsproof_check_tbs(b, n, why, sizeof(why)), -1,
	       "check_tbs: empty p refused");

	RAND_bytes(b, sizeof(b));
	b[64] = 0x30; /* an X.509 TBSCertificate starts like this */
	is_int(tlsproof_check_tbs(b, sizeof(b), why, sizeof(why)), -1,
	       "check_tbs: arbitrary data refused (%s)", why);
	is_int(tlsproof_check_tbs(b, 64, why, sizeof(why)), -1,
	       "check_tbs: randoms alone refused");
	is_int(tlsproof_check_tbs(b, 0, why, sizeof(why)), -1,
	       "check_tbs: nothing refused");
}

static bool sig_verifies(EVP_PKEY *key, uint16_t scheme, uint16_t version,
			 const uint8_t *tbs, size_t len, const struct buf *s)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool r = tlsproof_sig_init(ctx, key, scheme, version, false, why,
				   sizeof(why)) == 0 &&
		 EVP_DigestVerify(ctx, s->data, s->len, tbs, len) == 1;

	EVP_MD_CTX_free(ctx);
	return r;
}

static void test_sign(void)
{
	uint8_t t13[98 + 32], t12[64 + 4 + 65], d[64];
	struct buf s = BUF_INIT, s2 = BUF_INIT;
	struct ident p384;

	memset(t13, 0x20, 64);
	memcpy(t13 + 64, "TLS 1.3, server CertificateVerify", 33);
	t13[97] = 0;
	RAND_bytes(t13 + 98, 32);
	RAND_bytes(t12, 64);
	memcpy(t12 + 64, "\x03\x00\x17\x41\x04", 5);
	RAND_bytes(t12 + 69, 64);

	is_int(tlssign_sign(srv_ec.key, 0x0403, t13, sizeof(t13), &s, why,
			    sizeof(why)),
	       0, "sign: P-256, TLS 1.3 (%s)", why);
	ok(sig_verifies(srv_ec.key, 0x0403, TLSPROOF_TLS13, t13, sizeof(t13),
			&s),
	   "sign: the ECDSA signature verifies");
	is_int(tlssign_sign(srv_ec.key, 0x0403, t13, sizeof(t13), &s2, why,
			    sizeof(why)),
	       0, "sign: again");
	ok(s.len != s2.len || memcmp(s.data, s2.data, s.len) != 0,
	   "sign: ECDSA is randomized");
	buf_reset(&s);
	buf_reset(&s2);
	is_int(tlssign_sign(srv_rsa.key, 0x0804, t12, sizeof(t12), &s, why,
			    sizeof(why)),
	       0, "sign: RSA-PSS, TLS 1.2 (%s)", why);
	ok(sig_verifies(srv_rsa.key, 0x0804, TLSPROOF_TLS12, t12, sizeof(t12),
			&s),
	   "sign: the PSS signature verifies with salt = digest length");
	tlssign_sign(srv_rsa.key, 0x0804, t12, sizeof(t12), &s2, why,
		     sizeof(why));
	ok(s.len == s2.len && memcmp(s.data, s2.data, s.len) != 0,
	   "sign: PSS is randomized");
	buf_reset(&s);
	is_int(tlssign_sign(srv_rsa.key, 0x0401, t12, sizeof(t12), &s, why,
			    sizeof(why)),
	       0, "sign: rsa_pkcs1_sha256, TLS 1.2");
	buf_reset(&s);
	is_int(tlssign_sign(srv_rsa.key, 0x0401, t13, sizeof(t13), &s, why,
			    sizeof(why)),
	       -1, "sign: rsa_pkcs1 refused for TLS 1.3 (%s)", why);
	is_int(tlssign_sign(srv_ec.key, 0x0503, t13, sizeof(t13), &s, why,
			    sizeof(why)),
	       -1,
	       "sign: ecdsa_secp384r1_sha384 with a P-256 key refused in "
	       "TLS 1.3 (%s)",
	       why);
	is_int(tlssign_sign(srv_ec.key, 0x0503, t12, sizeof(t12), &s, why,
			    sizeof(why)),
	       0,
	       "sign: ecdsa_secp384r1_sha384 (SHA-384) with a P-256 key in "
	       "TLS 1.2 (%s)",
	       why);
	buf_reset(&s);
	is_int(tlssign_sign(srv_ec.key, 0x0804, t13, sizeof(t13), &s, why,
			    sizeof(why)),
	       -1, "sign: PSS with an EC key refused (%s)", why);
	is_int(tlssign_sign(srv_rsa.key, 0x0809, t13, sizeof(t13), &s, why,
			    sizeof(why)),
	       -1, "sign: rsa_pss_pss with an rsaEncryption key refused (%s)",
	       why);
	is_int(tlssign_sign(cli_pss.key, 0x0809, t13, sizeof(t13), &s, why,
			    sizeof(why)),
	       0, "sign: rsa_pss_pss with an RSA-PSS key");
	buf_reset(&s);
	is_int(tlssign_sign(srv_ec.key, 0x0203, t13, sizeof(t13), &s, why,
			    sizeof(why)),
	       -1, "sign: ecdsa_sha1 refused (%s)", why);
	is_int(tlssign_sign(srv_ec.key, 0x0403, d, 32, &s, why, sizeof(why)),
	       -1, "sign: arbitrary data refused (%s)", why);
	ok(s.len == 0, "sign: nothing appended on refusal");

	RAND_bytes(d, sizeof(d));
	is_int(tlssign_sign_digest(srv_ec.key, 0x0403, d, 32, &s, why,
				   sizeof(why)),
	       0, "sign_digest: ECDSA (%s)", why);
	buf_reset(&s);
	is_int(tlssign_sign_digest(srv_ec.key, 0x0403, d, 48, &s, why,
				   sizeof(why)),
	       -1, "sign_digest: a digest of the wrong length refused (%s)",
	       why);
	is_int(tlssign_sign_digest(srv_ed.key, 0x0807, d, 64, &s, why,
				   sizeof(why)),
	       -1, "sign_digest: EdDSA refused (%s)", why);
	is_int(tlssign_sign_digest(srv_rsa.key, 0x0805, d, 48, &s, why,
				   sizeof(why)),
	       0, "sign_digest: PSS SHA-384");

	ok(tlsproof_scheme_randomized(0x0403) &&
		   tlsproof_scheme_randomized(0x0804) &&
		   tlsproof_scheme_randomized(0x080b) &&
		   !tlsproof_scheme_randomized(0x0401) &&
		   !tlsproof_scheme_randomized(0x0807) &&
		   !tlsproof_scheme_randomized(0x0808) &&
		   !tlsproof_scheme_randomized(0x0201) &&
		   !tlsproof_scheme_randomized(0),
	   "scheme_randomized: ECDSA and PSS only");

	make_ident(&p384, "P-384", "p384", NULL, false);
	ok(tlsproof_key_fits(p384.key, 0x0503, TLSPROOF_TLS13, why,
			     sizeof(why)) == 0 &&
		   tlsproof_key_fits(p384.key, 0x0403, TLSPROOF_TLS13, why,
				     sizeof(why)) != 0 &&
		   tlsproof_key_fits(p384.key, 0x0403, TLSPROOF_TLS12, why,
				     sizeof(why)) == 0,
	   "key_fits: the curve counts in TLS 1.3 only");
	free_ident(&p384);
	buf_release(&s);
	buf_release(&s2);
}

/* Caps and odd input on a synthetic transcript. */
static void test_caps(void)
{
	struct tls_hs_msg m[TLSPROOF_MAX_MSGS + 1];
	struct tlsproof_result res;
	uint8_t z[8] = { 0 };

	for (size_t i = 0; i < TLSPROOF_MAX_MSGS + 1; i++) {
		m[i].type = 1;
		m[i].from_client = true;
		m[i].body = z;
		m[i].len = sizeof(z);
	}
	is_int(tlsproof_verify(m, TLSPROOF_MAX_MSGS + 1, fresh, NULL, &res, why,
			       sizeof(why)),
	       TLSPROOF_MALFORMED, "over %d messages refused (%s)",
	       TLSPROOF_MAX_MSGS, why);
	m[0].len = TLSPROOF_MAX_BYTES + 1;
	is_int(tlsproof_verify(m, 1, fresh, NULL, &res, why, sizeof(why)),
	       TLSPROOF_MALFORMED, "over %u bytes refused (%s)",
	       TLSPROOF_MAX_BYTES, why);
	m[0].len = 8;
	m[0].body = NULL;
	is_int(tlsproof_verify(m, 1, fresh, NULL, &res, why, sizeof(why)),
	       TLSPROOF_MALFORMED, "a NULL body refused");
	is_int(tlsproof_verify(m, 0, fresh, NULL, &res, why, sizeof(why)),
	       TLSPROOF_MALFORMED, "an empty transcript refused (%s)", why);
}

/* A chain longer than TLSPROOF_MAX_CHAIN and a leaf over 16 KiB, in the
 * place of a real client Certificate. */
static void test_chain_caps(void)
{
	struct conn c;
	struct client cl;
	struct buf b = BUF_INIT, list = BUF_INIT;
	int cert;

	setup_conn(&c, &srv_ec);
	setup_client(&cl, TLS1_3_VERSION, &cli_ec);
	handshake(&c, &cl);
	cert = first_msg(&c, 11, true);
	for (int i = 0; i < TLSPROOF_MAX_CHAIN + 1; i++) {
		put_u24(&list, cli_ec.der_len);
		buf_append(&list, cli_ec.der, cli_ec.der_len);
		buf_append(&list, "\0\0", 2);
	}
	buf_append_byte(&b, 0);
	put_u24(&b, list.len);
	buf_append(&b, list.data, list.len);
	is_int(verify_replaced(&c, (size_t)cert, b.data, b.len),
	       TLSPROOF_TOO_LARGE, "a chain of %d certificates refused (%s)",
	       TLSPROOF_MAX_CHAIN + 1, why);

	buf_reset(&b);
	buf_reset(&list);
	put_u24(&list, X509_MAX_CLIENT_CERT + 1);
	for (int i = 0; i <= X509_MAX_CLIENT_CERT; i++)
		buf_append_byte(&list, 0x30);
	buf_append(&list, "\0\0", 2);
	buf_append_byte(&b, 0);
	put_u24(&b, list.len);
	buf_append(&b, list.data, list.len);
	is_int(verify_replaced(&c, (size_t)cert, b.data, b.len),
	       TLSPROOF_TOO_LARGE, "a leaf of %d bytes refused (%s)",
	       X509_MAX_CLIENT_CERT + 1, why);
	buf_release(&b);
	buf_release(&list);
	conn_release(&c);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	gnutls_global_init();
	gnutls_session_ticket_key_generate(&ticket_key);

	make_ident(&srv_ec, "P-256", "server-ec", NULL, false);
	make_ident(&srv_rsa, "RSA", "server-rsa", NULL, false);
	make_ident(&srv_ed, "ED25519", "server-ed25519", NULL, false);
	make_ident(&cli_rsa, "RSA", "client-rsa", NULL, false);
	make_ident(&cli_ec, "P-256", "client-ec", NULL, false);
	make_ident(&cli_ed, "ED25519", "client-ed25519", NULL, false);
	make_ident(&cli_pss, "RSA-PSS", "client-rsa-pss", NULL, false);
	make_ident(&cli_other, "RSA", "client-other", NULL, false);
	make_ident(&ca, "P-256", "ca", NULL, true);
	make_ident(&inter, "P-256", "intermediate", &ca, true);
	make_ident(&cli_chained, "P-256", "client-chained", &inter, false);

	test_tls13();
	test_tls12();
	test_deterministic();
	test_no_client_cert();
	test_check_tbs();
	test_sign();
	test_caps();
	test_chain_caps();

	free_ident(&srv_ec);
	free_ident(&srv_rsa);
	free_ident(&srv_ed);
	free_ident(&cli_rsa);
	free_ident(&cli_ec);
	free_ident(&cli_ed);
	free_ident(&cli_pss);
	free_ident(&cli_other);
	free_ident(&ca);
	free_ident(&inter);
	free_ident(&cli_chained);
	free(db_key.data);
	free(db_data.data);
	gnutls_free(ticket_key.data);
	gnutls_global_deinit();
	return tap_done();
}
