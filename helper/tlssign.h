/*
 * tlssign.h - the helper's signatures with an HTTPS listener's private
 * key, which only the helper holds: the listener's GnuTLS external key
 * (gnutls_privkey_import_ext4) asks for them during its handshakes.
 *
 * What GnuTLS 3.7.9 hands the external key (see tlsproof.h): for TLS 1.3
 * the listener can rebuild the whole CertificateVerify content from the
 * transcript it records, and tlssign_sign signs nothing else (the
 * signing oracle is limited to TLS 1.3 server CertificateVerify content
 * and TLS 1.2 ServerKeyExchange content); for TLS 1.2 with RSA or ECDSA
 * keys only the digest exists on the listener's side, and
 * tlssign_sign_digest signs any digest of the scheme's length (the
 * helper cannot check what it stands for; tlsproof_verify finds out
 * afterwards, for the connections that try certificate authentication).
 *
 * The caller records each signature for its connection with
 * tlsproof_scheme_randomized(scheme).
 *
 * Must not: log, exit, keep state, or leave errors on OpenSSL's
 * per-thread error queue.  Thread-safe (key is only read).
 */
#ifndef WINRMD_PRIV_TLSSIGN_H
#define WINRMD_PRIV_TLSSIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "lib/util.h"

/*
 * Signs tbs (len bytes), which must pass tlsproof_check_tbs, with key
 * under the TLS SignatureScheme scheme, which must fit the key in the
 * TLS version the content is of (tlsproof_key_fits: RSA keys sign
 * rsa_pkcs1_* (TLS 1.2 only) and rsa_pss_rsae_*, RSA-PSS keys
 * rsa_pss_pss_*, EC keys ecdsa_* (in TLS 1.3 only the scheme of their
 * curve), Ed25519/Ed448 keys their scheme).  ECDSA signatures are DER,
 * PSS ones have a salt as long as the digest.
 *
 * Appends the signature to *sig_out and returns 0, or returns -1 with
 * *sig_out unchanged and the reason in why (why_len bytes).
 */
int tlssign_sign(EVP_PKEY *key, uint16_t scheme, const uint8_t *tbs, size_t len,
		 struct buf *sig_out, char *why, size_t why_len);

/*
 * Signs a digest the listener got from GnuTLS (TLS 1.2 RSA and ECDSA
 * keys: sign_hash_func; for GNUTLS_SIGN_RSA_RAW the listener strips the
 * DigestInfo and names the rsa_pkcs1 scheme of its digest), which must be
 * as long as the scheme's digest; EdDSA schemes are refused (they sign
 * the content itself).  The key must fit the scheme as in TLS 1.2.
 * Appends the signature to *sig_out and returns 0, or -1 as above.
 */
int tlssign_sign_digest(EVP_PKEY *key, uint16_t scheme, const uint8_t *digest,
			size_t len, struct buf *sig_out, char *why,
			size_t why_len);

#endif
