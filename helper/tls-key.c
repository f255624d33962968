/*
 * tls-key.c - the HTTPS listeners' private keys, which only the helper
 * holds, and the signatures it makes with them for the listener's TLS
 * handshakes (SIGN).
 *
 * Each signature is recorded (a digest of it, the connection, the scheme
 * and whether the scheme is randomized) so that a certificate login on
 * that connection can show the client's proof was made over a handshake
 * the helper took part in moments ago, not over an old one replayed:
 * tls_key_is_fresh, used by auth-cert.c through tlsproof_verify.  The
 * record is a bounded ring; a listener that floods SIGN only pushes out
 * its own connections' records.
 *
 * Must not: sign anything that is not a TLS server signature's content
 * (or, where GnuTLS hands over only the digest, a digest of the scheme's
 * length), or give a key to anyone.
 * Entry points: module_tls_key (SIGN; keys loaded at start and after
 * every configuration change), tls_key_is_fresh.
 */
#include "autoconfig.h"

#include "helper/tls-key.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "lib/log.h"
#include "helper/loop.h"
#include "helper/module.h"
#include "helper/tlsproof.h"
#include "helper/tlssign.h"
#include "lib/x509.h"

#define MAX_KEYS 128
#define MAX_RECORDS 8192
/* A certificate login may come with the first request of a connection
 * that stayed idle: records older than the listener's idle timeout
 * (120 s) plus a margin are of no use. */
#define RECORD_MAX_AGE_MS (10 * 60 * 1000)

static struct key {
	uint8_t id[X509_KEY_ID_LEN];
	EVP_PKEY *pkey;
	unsigned generation;
} keys[MAX_KEYS];
static size_t n_keys;
static unsigned generation;

static struct record {
	uint64_t conn;
	uint8_t sig_hash[SHA256_DIGEST_LENGTH];
	bool randomized;
	int64_t at;
} records[MAX_RECORDS];
static size_t next_record;

static struct key *key_find(const uint8_t *id, size_t len)
{
	if (len != X509_KEY_ID_LEN)
		return NULL;
	for (size_t i = 0; i < n_keys; i++)
		if (memcmp(keys[i].id, id, X509_KEY_ID_LEN) == 0)
			return &keys[i];
	return NULL;
}

/* Loads the keys of every enabled HTTPS listener.  Keys of the previous
 * generation stay one more (handshakes begun before a reload finish with
 * the certificate they started with); older ones go. */
static void load_keys(void)
{
	generation++;
	size_t kept = 0;
	for (size_t i = 0; i < n_keys; i++) {
		if (keys[i].generation + 1 >= generation)
			keys[kept++] = keys[i];
		else
			EVP_PKEY_free(keys[i].pkey);
	}
	n_keys = kept;
	const struct winrmd_config *cfg = helper_config;
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct listener_config *l = &cfg->listeners[i];
		if (l->transport != TRANSPORT_HTTPS || !l->enabled)
			continue;
		EVP_PKEY *pkey;
		uint8_t id[X509_KEY_ID_LEN];
		char err[512];
		if (x509_server_key_load(l->certificate_file, l->key_file,
					 &pkey, id, err, sizeof(err)) != 0) {
			log_err("HTTPS listener %s:%d: %s", l->address, l->port,
				err);
			continue;
		}
		struct key *k = key_find(id, sizeof(id));
		if (k != NULL) {
			EVP_PKEY_free(k->pkey);
		} else if (n_keys < MAX_KEYS) {
			k = &keys[n_keys++];
			memcpy(k->id, id, sizeof(id));
		} else {
			log_err("more than %d TLS keys; %s not loaded",
				MAX_KEYS, l->key_file);
			EVP_PKEY_free(pkey);
			continue;
		}
		k->pkey = pkey;
		k->generation = generation;
	}
}

static void free_keys(void)
{
	for (size_t i = 0; i < n_keys; i++)
		EVP_PKEY_free(keys[i].pkey);
	n_keys = 0;
}

static void record(uint64_t conn, uint16_t scheme, const struct buf *sig)
{
	struct record *r = &records[next_record];
	next_record = (next_record + 1) % MAX_RECORDS;
	r->conn = conn;
	SHA256(sig->data, sig->len, r->sig_hash);
	r->randomized = tlsproof_scheme_randomized(scheme);
	r->at = time_mono_ms();
}

bool tls_key_is_fresh(void *arg, uint16_t scheme, const uint8_t *sig,
		      size_t len)
{
	uint64_t conn = *(const uint64_t *)arg;
	uint8_t h[SHA256_DIGEST_LENGTH];
	SHA256(sig, len, h);
	int64_t now = time_mono_ms();
	for (size_t i = 0; i < MAX_RECORDS; i++) {
		const struct record *r = &records[i];
		if (r->conn == conn && r->at != 0 &&
		    now - r->at <= RECORD_MAX_AGE_MS &&
		    memcmp(r->sig_hash, h, sizeof(h)) == 0)
			return r->randomized &&
			       tlsproof_scheme_randomized(scheme);
	}
	return false;
}

static void answer(uint32_t seq, uint32_t error, const char *message,
		   const struct buf *sig)
{
	struct priv_sign_result res = { .error = error, .message = message };
	if (sig != NULL)
		res.signature = (struct priv_bytes){ sig->data, sig->len };
	helper_answer(seq, PRIV_SIGN_RESULT, &res, NULL, 0);
}

static void handle_sign(struct helper_call *call)
{
	const struct priv_sign *r = call->args;
	char why[256] = "";
	struct key *k = key_find(r->key_id.data, r->key_id.len);
	if (k == NULL || r->scheme > 0xffff) {
		log_warn("SIGN for connection %llu refused: %s",
			 (unsigned long long)r->conn,
			 k == NULL ? "no such key" : "no such scheme");
		answer(call->seq, ENOENT,
		       k == NULL ? "no such key" : "no such scheme", NULL);
		return;
	}
	struct buf sig = BUF_INIT;
	int rc;
	if (r->flags & PRIV_SIGN_HASHED) {
		rc = tlssign_sign_digest(k->pkey, (uint16_t)r->scheme,
					 r->tbs.data, r->tbs.len, &sig, why,
					 sizeof(why));
	} else {
		rc = tlsproof_check_tbs(r->tbs.data, r->tbs.len, why,
					sizeof(why)) < 0
			     ? -1
			     : tlssign_sign(k->pkey, (uint16_t)r->scheme,
					    r->tbs.data, r->tbs.len, &sig, why,
					    sizeof(why));
	}
	if (rc != 0) {
		/* A correct listener asks only what GnuTLS needs signed. */
		log_warn("SIGN for connection %llu refused: %s",
			 (unsigned long long)r->conn, why);
		answer(call->seq, EINVAL, why, NULL);
	} else {
		record(r->conn, (uint16_t)r->scheme, &sig);
		answer(call->seq, 0, "", &sig);
	}
	buf_release(&sig);
}

static const struct helper_request requests[] = {
	{ PRIV_SIGN, REQ_CONN, PRIV_SIGN_RESULT, handle_sign },
};

const struct helper_module module_tls_key = {
	.name = "tls-key",
	HELPER_REQUESTS(requests),
	.start = load_keys,
	.reconfigure = load_keys,
	.stop = free_keys,
};
