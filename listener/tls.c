/*
 * tls.c - certificates, helper-held keys and handshake transcripts of
 * the HTTPS listeners (see tls.h).
 *
 * Must not: hold or read a private key (the helper signs), or verify
 * client certificates (the helper does, with OpenSSL, from the
 * transcript kept here).
 */
#include "autoconfig.h"

#include "listener/tls.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "listener/helper-client.h"
#include "lib/log.h"
#include "lib/x509.h"

#define MAX_CHAIN 16
/* What one connection's handshake may record: a client certificate is
 * at most 16 KB (design), a whole chain and the server's fit easily. */
#define MAX_HS_MSGS PRIV_MAX_HS_MSGS
#define MAX_HS_TOTAL (128 * 1024)

struct tls_cred {
	gnutls_pcert_st pcerts[MAX_CHAIN];
	unsigned n;
	uint8_t key_id
		[SHA256_DIGEST_LENGTH]; /* of the leaf's DER: names the key */
	gnutls_pk_algorithm_t pk;
	unsigned bits;
	gnutls_ecc_curve_t curve;             /* EC keys */
	uint8_t digest[SHA256_DIGEST_LENGTH]; /* of the PEM text: unchanged? */
	struct tls_cred *older;               /* the graveyard */
};

struct tls_conn {
	gnutls_session_t session;
	uint64_t conn_id;
	const void *owner;
	const struct tls_cred *cred; /* the certificate sent */
	gnutls_privkey_t key;        /* external: signs through the helper */
	struct priv_hs_msg msgs[MAX_HS_MSGS];
	uint8_t *bodies[MAX_HS_MSGS]; /* owned copies */
	size_t n_msgs, total;
	bool overflow;    /* more than the limits: nothing kept */
	bool client_cert; /* the client sent a certificate */
	bool client_finished, server_finished;
};

/* Credentials by owner (a listener).  Replaced ones go to the graveyard,
 * not away: GnuTLS sessions keep pointing at the certificate they sent
 * (gnutls_certificate_get_ours), for as long as the connection lives. */
static struct {
	pthread_mutex_t lock;
	struct slot {
		const void *owner;
		struct tls_cred *cred;
	} slots[64];
	size_t n;
	struct tls_cred *graveyard;
	tls_conn_fn conn_of;
} T = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void cred_free(struct tls_cred *c)
{
	for (unsigned i = 0; i < c->n; i++)
		gnutls_pcert_deinit(&c->pcerts[i]);
	free(c);
}

struct tls_cred *tls_cred_new(const char *cert_pem, char **error_r)
{
	struct tls_cred *c = xcalloc(1, sizeof(*c));
	gnutls_datum_t cd = { (unsigned char *)cert_pem,
			      (unsigned)strlen(cert_pem) };
	SHA256((const unsigned char *)cert_pem, strlen(cert_pem), c->digest);
	c->n = MAX_CHAIN;
	int rc = gnutls_pcert_list_import_x509_raw(c->pcerts, &c->n, &cd,
						   GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || c->n == 0) {
		c->n = 0;
		*error_r = xasprintf("certificate: %s",
				     rc < 0 ? gnutls_strerror(rc)
					    : "none in the file");
		cred_free(c);
		return NULL;
	}
	SHA256(c->pcerts[0].cert.data, c->pcerts[0].cert.size, c->key_id);
	int pk = gnutls_pubkey_get_pk_algorithm(c->pcerts[0].pubkey, &c->bits);
	c->pk = pk > 0 ? (gnutls_pk_algorithm_t)pk : GNUTLS_PK_UNKNOWN;
	if (c->pk == GNUTLS_PK_ECDSA &&
	    gnutls_pubkey_export_ecc_raw2(c->pcerts[0].pubkey, &c->curve, NULL,
					  NULL, 0) < 0)
		c->curve = GNUTLS_ECC_CURVE_INVALID;
	return c;
}

void tls_set_conn_resolver(tls_conn_fn fn)
{
	T.conn_of = fn;
}

bool tls_set(const void *owner, struct tls_cred *cred)
{
	pthread_mutex_lock(&T.lock);
	struct slot *s = NULL;
	for (size_t i = 0; i < T.n; i++)
		if (T.slots[i].owner == owner)
			s = &T.slots[i];
	if (s != NULL && s->cred != NULL &&
	    memcmp(s->cred->digest, cred->digest, sizeof(cred->digest)) == 0) {
		pthread_mutex_unlock(&T.lock);
		cred_free(cred);
		return false;
	}
	if (s == NULL && T.n < sizeof(T.slots) / sizeof(T.slots[0])) {
		s = &T.slots[T.n++];
		s->owner = owner;
	}
	if (s != NULL) {
		if (s->cred != NULL) {
			s->cred->older = T.graveyard;
			T.graveyard = s->cred;
		}
		s->cred = cred;
	} else {
		cred_free(cred);
	}
	pthread_mutex_unlock(&T.lock);
	return s != NULL;
}

/* ---- the external key: signatures by the helper ---- */

/* The TLS SignatureScheme code point of a GnuTLS signature algorithm
 * (0: not one the helper makes). */
static uint16_t scheme_of(gnutls_sign_algorithm_t algo)
{
	switch (algo) {
	case GNUTLS_SIGN_RSA_SHA256: return 0x0401;
	case GNUTLS_SIGN_RSA_SHA384: return 0x0501;
	case GNUTLS_SIGN_RSA_SHA512: return 0x0601;
	case GNUTLS_SIGN_ECDSA_SHA256:
	case GNUTLS_SIGN_ECDSA_SECP256R1_SHA256: return 0x0403;
	case GNUTLS_SIGN_ECDSA_SHA384:
	case GNUTLS_SIGN_ECDSA_SECP384R1_SHA384: return 0x0503;
	case GNUTLS_SIGN_ECDSA_SHA512:
	case GNUTLS_SIGN_ECDSA_SECP521R1_SHA512: return 0x0603;
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA256: return 0x0804;
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA384: return 0x0805;
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA512: return 0x0806;
	case GNUTLS_SIGN_EDDSA_ED25519: return 0x0807;
	case GNUTLS_SIGN_EDDSA_ED448: return 0x0808;
	case GNUTLS_SIGN_RSA_PSS_SHA256: return 0x0809;
	case GNUTLS_SIGN_RSA_PSS_SHA384: return 0x080a;
	case GNUTLS_SIGN_RSA_PSS_SHA512: return 0x080b;
	default: return 0;
	}
}

/* Whether the key of cred can make signatures of algo.  RSA signs with
 * PSS only: PKCS#1 v1.5 signatures are deterministic and would prove no
 * freshness to the helper (a client that offers no PSS cannot connect to
 * an RSA listener; every current client offers it). */
static bool key_can(const struct tls_cred *cred, gnutls_sign_algorithm_t algo)
{
	if (scheme_of(algo) == 0 ||
	    !gnutls_sign_supports_pk_algorithm(algo, cred->pk))
		return false;
	switch (algo) {
	case GNUTLS_SIGN_RSA_SHA256:
	case GNUTLS_SIGN_RSA_SHA384:
	case GNUTLS_SIGN_RSA_SHA512: return false;
	case GNUTLS_SIGN_RSA_PSS_SHA256:
	case GNUTLS_SIGN_RSA_PSS_SHA384:
	case GNUTLS_SIGN_RSA_PSS_SHA512: return cred->pk == GNUTLS_PK_RSA_PSS;
	case GNUTLS_SIGN_ECDSA_SECP256R1_SHA256:
		return cred->curve == GNUTLS_ECC_CURVE_SECP256R1;
	case GNUTLS_SIGN_ECDSA_SECP384R1_SHA384:
		return cred->curve == GNUTLS_ECC_CURVE_SECP384R1;
	case GNUTLS_SIGN_ECDSA_SECP521R1_SHA512:
		return cred->curve == GNUTLS_ECC_CURVE_SECP521R1;
	default: return true;
	}
}

static int sign_by_helper(struct tls_conn *tc, gnutls_sign_algorithm_t algo,
			  uint32_t flags, const gnutls_datum_t *tbs,
			  gnutls_datum_t *sig)
{
	if (scheme_of(algo) == 0) {
		log_warn("TLS handshake refused: the helper makes no %s "
			 "signatures (TLS 1.0 and 1.1 are not supported)",
			 gnutls_sign_get_name(algo) ? gnutls_sign_get_name(algo)
						    : "such");
		return GNUTLS_E_PK_SIGN_FAILED;
	}
	struct priv_sign req = {
		.conn = tc->conn_id,
		.key_id = { tc->cred->key_id, sizeof(tc->cred->key_id) },
		.scheme = scheme_of(algo),
		.flags = flags,
		.tbs = { tbs->data, tbs->size },
	};
	struct priv_msg reply;
	struct priv_sign_result res;
	const char *why = NULL;
	int rc = GNUTLS_E_PK_SIGN_FAILED;
	if (priv_request(PRIV_SIGN, &req, &reply, &why) != 0 ||
	    priv_decode_sign_result(&reply, &res, &why) != 0) {
		log_err("TLS signature: no valid answer from the helper (%s)",
			why != NULL ? why : "helper gone");
	} else if (res.error != 0) {
		log_err("TLS signature refused by the helper: %s", res.message);
	} else if ((sig->data = gnutls_malloc(res.signature.len)) != NULL) {
		memcpy(sig->data, res.signature.data, res.signature.len);
		sig->size = (unsigned)res.signature.len;
		rc = 0;
	}
	priv_msg_release(&reply);
	return rc;
}

/* GnuTLS asks for signatures over whole content only with EdDSA keys. */
static int sign_data(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
		     void *userdata, unsigned int flags,
		     const gnutls_datum_t *data, gnutls_datum_t *sig)
{
	(void)key;
	(void)flags;
	return sign_by_helper(userdata, algo, 0, data, sig);
}

/* RSA-PSS and ECDSA: GnuTLS gives the digest of the content.  (In TLS 1.2
 * the content cannot be rebuilt here: GnuTLS does not expose its
 * ephemeral key.  The helper checks its signature against the transcript
 * when a certificate login uses it.) */
static int sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
		     void *userdata, unsigned int flags,
		     const gnutls_datum_t *hash, gnutls_datum_t *sig)
{
	(void)key;
	(void)flags;
	return sign_by_helper(userdata, algo, PRIV_SIGN_HASHED, hash, sig);
}

static int key_info(gnutls_privkey_t key, unsigned int flags, void *userdata)
{
	(void)key;
	const struct tls_cred *cred = ((struct tls_conn *)userdata)->cred;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return (int)cred->pk;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return (int)cred->bits;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
		return key_can(cred, (gnutls_sign_algorithm_t)
					     GNUTLS_FLAGS_TO_SIGN_ALGO(flags));
	return 0; /* no preferred algorithm */
}

/* The certificate callback: the listener's chain and, for this very
 * connection, a key that signs through the helper. */
static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn,
		    int nreqs, const gnutls_pk_algorithm_t *algos, int n_algos,
		    gnutls_pcert_st **pcert, unsigned int *pcert_length,
		    gnutls_privkey_t *pkey)
{
	(void)req_ca_dn;
	(void)nreqs;
	(void)algos;
	(void)n_algos;
	struct tls_conn *tc = T.conn_of != NULL ? T.conn_of(session) : NULL;
	if (tc == NULL)
		return -1;
	const struct tls_cred *cred = NULL;
	pthread_mutex_lock(&T.lock);
	for (size_t i = 0; i < T.n; i++)
		if (T.slots[i].owner == tc->owner)
			cred = T.slots[i].cred;
	pthread_mutex_unlock(&T.lock);
	if (cred == NULL)
		return -1;
	if (tc->key == NULL) {
		tc->cred = cred;
		if (gnutls_privkey_init(&tc->key) < 0)
			return -1;
		if (gnutls_privkey_import_ext4(tc->key, tc, sign_data,
					       sign_hash, NULL, NULL, key_info,
					       0) < 0) {
			gnutls_privkey_deinit(tc->key);
			tc->key = NULL;
			return -1;
		}
	}
	*pcert = (gnutls_pcert_st *)tc->cred->pcerts;
	*pcert_length = tc->cred->n;
	*pkey = tc->key;
	return 0;
}

void *tls_cert_callback(void)
{
	return (void *)&retrieve;
}

char *tls_priorities(const char *configured)
{
	return xasprintf("%s:-RSA", configured);
}

/* ---- the transcript ---- */

static void transcript_drop(struct tls_conn *tc)
{
	for (size_t i = 0; i < tc->n_msgs; i++)
		free(tc->bodies[i]);
	tc->n_msgs = 0;
	tc->total = 0;
}

/*
 * Every handshake message, as GnuTLS has it (body without the 4-byte
 * header), in order, once: the hook runs before each message is
 * processed or sent (GnuTLS 3.7 reports the first ClientHello of a
 * HelloRetryRequest handshake only then).  The HelloRetryRequest comes
 * as a pseudo type and is recorded under its wire type, ServerHello.
 */
static int on_handshake_msg(gnutls_session_t session, unsigned int htype,
			    unsigned when, unsigned int incoming,
			    const gnutls_datum_t *msg)
{
	(void)when;
	struct tls_conn *tc = T.conn_of != NULL ? T.conn_of(session) : NULL;
	if (htype == GNUTLS_HANDSHAKE_HELLO_RETRY_REQUEST)
		htype = GNUTLS_HANDSHAKE_SERVER_HELLO;
	if (tc == NULL || htype > 255 ||
	    htype == GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC)
		return 0;
	if (tc->client_finished && tc->server_finished)
		return 0; /* after the handshake: tickets, key updates */
	if (htype == GNUTLS_HANDSHAKE_CERTIFICATE_PKT && incoming &&
	    msg->size > 4)
		tc->client_cert =
			true; /* at least a list length and one entry */
	if (htype == GNUTLS_HANDSHAKE_FINISHED)
		*(incoming ? &tc->client_finished
			   : &tc->server_finished) = true;
	if (!tc->overflow) {
		if (tc->n_msgs >= MAX_HS_MSGS ||
		    msg->size > PRIV_MAX_HS_BYTES ||
		    tc->total + msg->size > MAX_HS_TOTAL) {
			tc->overflow = true;
			transcript_drop(tc);
		} else {
			uint8_t *copy = xmalloc(msg->size + 1);
			memcpy(copy, msg->data, msg->size);
			tc->bodies[tc->n_msgs] = copy;
			tc->msgs[tc->n_msgs].type =
				htype | (incoming ? PRIV_HS_FROM_CLIENT : 0);
			tc->msgs[tc->n_msgs].body = (struct priv_bytes){
				copy, msg->size
			};
			tc->n_msgs++;
			tc->total += msg->size;
		}
	}
	/* Handshake over without a client certificate: nothing to prove. */
	if (tc->client_finished && tc->server_finished && !tc->client_cert)
		transcript_drop(tc);
	return 0;
}

struct tls_conn *tls_conn_new(void *gnutls_session, uint64_t conn_id,
			      const void *owner)
{
	struct tls_conn *tc = xcalloc(1, sizeof(*tc));
	tc->session = (gnutls_session_t)gnutls_session;
	tc->conn_id = conn_id;
	tc->owner = owner;
	gnutls_handshake_set_hook_function((gnutls_session_t)gnutls_session,
					   GNUTLS_HANDSHAKE_ANY,
					   GNUTLS_HOOK_PRE, on_handshake_msg);
	return tc;
}

void tls_conn_free(struct tls_conn *tc)
{
	if (tc == NULL)
		return;
	transcript_drop(tc);
	if (tc->key != NULL)
		gnutls_privkey_deinit(tc->key);
	free(tc);
}

int tls_conn_transcript(struct tls_conn *tc, struct priv_hs_msg **msgs_r,
			size_t *n_r)
{
	if (tc == NULL || tc->overflow || !tc->client_cert || tc->n_msgs == 0)
		return -1;
	*msgs_r = xcalloc(tc->n_msgs, sizeof(**msgs_r));
	memcpy(*msgs_r, tc->msgs, tc->n_msgs * sizeof(**msgs_r));
	*n_r = tc->n_msgs;
	return 0;
}

int tls_conn_end_point(const struct tls_conn *tc, uint8_t *out, size_t *len)
{
	if (tc == NULL)
		return -1;
	const gnutls_datum_t *ours = gnutls_certificate_get_ours(tc->session);
	if (ours == NULL)
		return -1;
	return x509_server_end_point(ours->data, ours->size, out, len);
}

void tls_shutdown(void)
{
	pthread_mutex_lock(&T.lock);
	for (size_t i = 0; i < T.n; i++) {
		if (T.slots[i].cred != NULL)
			cred_free(T.slots[i].cred);
		T.slots[i].cred = NULL;
	}
	T.n = 0;
	while (T.graveyard != NULL) {
		struct tls_cred *c = T.graveyard;
		T.graveyard = c->older;
		cred_free(c);
	}
	pthread_mutex_unlock(&T.lock);
}
