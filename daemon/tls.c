/*
 * tls.c - certificates of the HTTPS listeners (see tls.h).
 *
 * Must not: verify client certificates (the helper does that with
 * OpenSSL; GnuTLS here only asks for them).
 */
#include "autoconfig.h"

#include "tls.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "log.h"
#include "priv/x509.h"

#define MAX_CHAIN 16

struct tls_cred {
	gnutls_pcert_st pcerts[MAX_CHAIN];
	unsigned n;
	gnutls_privkey_t key;
	uint8_t digest[SHA256_DIGEST_LENGTH]; /* of the PEM texts: unchanged? */
	struct tls_cred *older;   /* the graveyard */
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
	tls_owner_fn owner_of;
} T = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void cred_free(struct tls_cred *c)
{
	for (unsigned i = 0; i < c->n; i++)
		gnutls_pcert_deinit(&c->pcerts[i]);
	if (c->key != NULL)
		gnutls_privkey_deinit(c->key);
	free(c);
}

struct tls_cred *tls_cred_new(const char *cert_pem, const char *key_pem,
			      char **error_r)
{
	struct tls_cred *c = xcalloc(1, sizeof(*c));
	gnutls_datum_t cd = { (unsigned char *)cert_pem, (unsigned)strlen(cert_pem) };
	gnutls_datum_t kd = { (unsigned char *)key_pem, (unsigned)strlen(key_pem) };
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, cert_pem, strlen(cert_pem) + 1) != 1 ||
	    EVP_DigestUpdate(md, key_pem, strlen(key_pem)) != 1 ||
	    EVP_DigestFinal_ex(md, c->digest, NULL) != 1)
		fatal("SHA-256 failed");
	EVP_MD_CTX_free(md);
	c->n = MAX_CHAIN;
	int rc = gnutls_pcert_list_import_x509_raw(c->pcerts, &c->n, &cd,
						   GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0) {
		c->n = 0;
		*error_r = xasprintf("certificate: %s", gnutls_strerror(rc));
		goto fail;
	}
	if ((rc = gnutls_privkey_init(&c->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM,
						 NULL, 0)) < 0) {
		*error_r = xasprintf("private key: %s", gnutls_strerror(rc));
		goto fail;
	}
	return c;
fail:
	cred_free(c);
	return NULL;
}

void tls_set_owner_resolver(tls_owner_fn fn)
{
	T.owner_of = fn;
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

/* The listener is known from the libmicrohttpd connection, which
 * libmicrohttpd stores as the session's pointer. */
static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn,
		    int nreqs, const gnutls_pk_algorithm_t *algos, int n_algos,
		    gnutls_pcert_st **pcert, unsigned int *pcert_length,
		    gnutls_privkey_t *pkey)
{
	(void)req_ca_dn;
	(void)nreqs;
	(void)algos;
	(void)n_algos;
	const void *owner = T.owner_of != NULL
				    ? T.owner_of(gnutls_session_get_ptr(session))
				    : NULL;
	int rc = -1;
	pthread_mutex_lock(&T.lock);
	for (size_t i = 0; owner != NULL && i < T.n; i++) {
		if (T.slots[i].owner == owner && T.slots[i].cred != NULL) {
			*pcert = T.slots[i].cred->pcerts;
			*pcert_length = T.slots[i].cred->n;
			*pkey = T.slots[i].cred->key;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&T.lock);
	return rc;
}

void *tls_cert_callback(void)
{
	return (void *)&retrieve;
}

int tls_peer_chain(void *gnutls_session, struct buf **ders_r, size_t *n_r)
{
	unsigned n = 0;
	const gnutls_datum_t *certs =
		gnutls_certificate_get_peers((gnutls_session_t)gnutls_session, &n);
	if (certs == NULL || n == 0)
		return -1;
	if (n > MAX_CHAIN)
		n = MAX_CHAIN;
	struct buf *ders = xcalloc(n, sizeof(*ders));
	for (unsigned i = 0; i < n; i++) {
		buf_init(&ders[i]);
		buf_append(&ders[i], certs[i].data, certs[i].size);
	}
	*ders_r = ders;
	*n_r = n;
	return 0;
}

int tls_end_point(void *gnutls_session, uint8_t *out, size_t *len)
{
	const gnutls_datum_t *ours =
		gnutls_certificate_get_ours((gnutls_session_t)gnutls_session);
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
