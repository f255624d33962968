/*
 * tlsproof.h - the helper's proof that a TLS client holds the private key
 * of the certificate it sent: checks a TLS 1.2 or 1.3 handshake
 * transcript that the (untrusted) listener recorded, and the shape of
 * what the listener asks the helper to sign with the server's key.
 *
 * The argument: the listener's TLS private key lives only in the helper,
 * which signs for the listener and records, per connection, every
 * signature it made and whether its scheme is randomized.  A transcript
 * proves the client's possession of its key when
 *   (a) the server's signature message (TLS 1.3 server CertificateVerify,
 *       TLS 1.2 ServerKeyExchange) carries a randomized signature the
 *       helper made for this connection, and that signature verifies over
 *       this transcript with the server certificate's key; and
 *   (b) the client's CertificateVerify, which covers (a), verifies with
 *       the key of the leaf of the client's Certificate message.
 * A deterministic signature (RSA PKCS#1 v1.5, EdDSA) proves no freshness:
 * a hostile listener could have the same bytes signed again for an old
 * handshake and replay that handshake's transcript.
 *
 * What GnuTLS 3.7.9 gives the listener (established by
 * tests/unit/test-tlsproof.c, which runs real GnuTLS server sessions
 * against OpenSSL clients):
 *
 *  - gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_ANY,
 *    when, fn): msg is the message body, without the 4-byte handshake
 *    header; incoming is 1 for the client's messages, 0 for the server's.
 *    Every handshake message of both directions is reported, with one
 *    exception: the first ClientHello of a handshake with a
 *    HelloRetryRequest gets only the GNUTLS_HOOK_PRE call, never the
 *    GNUTLS_HOOK_POST one.  So install the hook with GNUTLS_HOOK_PRE
 *    (or GNUTLS_HOOK_BOTH and keep only when == GNUTLS_HOOK_PRE): then
 *    each message is reported exactly once, also when the transport
 *    returns EAGAIN in the middle of a flight (the test injects it on
 *    every other push and pull).  Outgoing messages are complete at PRE.
 *  - A HelloRetryRequest comes as htype GNUTLS_HANDSHAKE_HELLO_RETRY_REQUEST
 *    (1025): record it as type 2 (ServerHello, its wire type; this module
 *    recognizes it by its special random).  No ChangeCipherSpec (254) and
 *    no synthetic message_hash are reported (TLS 1.3 middlebox
 *    compatibility CCS included); this module builds the message_hash of
 *    RFC 8446 section 4.4.1 itself.  A type above 255 or 254 must not be
 *    passed on.
 *  - TLS 1.3 NewSessionTicket messages (sent inside gnutls_handshake()
 *    after the client's Finished) are reported too, and later
 *    post-handshake messages may be: harmless (nothing after the client's
 *    CertificateVerify is looked at) but they count against the caps;
 *    stop recording when gnutls_handshake() has returned 0.
 *  - OpenSSL clients (pywinrm...) send an X25519 key share; the default
 *    priorities with %SERVER_PRECEDENCE prefer secp256r1, so their TLS
 *    1.3 handshakes have a HelloRetryRequest: the common case.
 *  - The external key's callbacks get the key and its userdata, not the
 *    session: to know the connection, make one external key per session
 *    in the certificate retrieve function (gnutls_session_get_ptr is the
 *    libmicrohttpd connection), userdata the connection; GnuTLS does not
 *    free it (the test frees it after gnutls_deinit).  The callbacks are
 *    synchronous, inside gnutls_handshake().
 *  - External key (gnutls_privkey_import_ext4): for RSA, RSA-PSS and
 *    ECDSA GnuTLS calls sign_hash_func with the DIGEST only, in both
 *    versions (sign_data_func is called only for Ed25519/Ed448, with the
 *    whole content); a NULL sign_hash_func makes GnuTLS call a NULL
 *    pointer.  The algo argument names the scheme: TLS 1.3 ECDSA comes
 *    as GNUTLS_SIGN_ECDSA_SECP256R1_SHA256 etc., TLS 1.2 ECDSA as
 *    GNUTLS_SIGN_ECDSA_SHA256 etc., PSS as GNUTLS_SIGN_RSA_PSS_RSAE_SHA*
 *    (rsaEncryption key) or GNUTLS_SIGN_RSA_PSS_SHA* (RSA-PSS key).
 *    TLS 1.2 RSA PKCS#1 v1.5 comes as GNUTLS_SIGN_RSA_RAW with a DigestInfo
 *    (19-byte prefix and the digest) as data.
 *    TLS 1.3: the digest is Hash_scheme(64 x 0x20 || "TLS 1.3, server
 *    CertificateVerify" || 0x00 || Hash_suite(ClientHello .. server
 *    Certificate)); the server Certificate has been reported to the hook
 *    before sign_hash_func is called, so the listener can rebuild the
 *    content and send it whole (tlsproof_check_tbs, tlssign_sign).
 *    TLS 1.2: the digest is Hash_scheme(client_random || server_random ||
 *    ServerECDHParams or ServerDHParams); the ServerKeyExchange reaches
 *    the hook only after signing and GnuTLS has no API for the ephemeral
 *    public key, so the content cannot be rebuilt: the helper can only
 *    sign the digest (tlssign_sign_digest), and a hostile listener can
 *    get any digest signed.  tlsproof_verify detects such a signature
 *    afterwards (TLSPROOF_BAD_SERVER_SIG) when it reaches a proof.
 *  - The info_func's GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO answer is obeyed:
 *    answering 0 for GNUTLS_SIGN_RSA_SHA256/384/512 makes GnuTLS sign with
 *    RSA-PSS when the client offers it (and fail the handshake, or fall
 *    back to static RSA key exchange, when it does not).  Answer 0 for
 *    GNUTLS_SIGN_RSA_PSS_SHA* with an rsaEncryption key.
 *  - Priorities: "SECURE" includes static RSA key exchange (TLS_RSA_*),
 *    which needs decrypt_func and has no server signature: remove it
 *    ("-RSA").  DHE-RSA is fine (ServerDHParams).  Ed25519/Ed448 server
 *    keys sign deterministically: no certificate authentication over
 *    such a listener.
 *
 * Must not: log, exit, allocate anything the caller frees, keep state, or
 * leave errors on OpenSSL's per-thread error queue.  Thread-safe.
 *
 * Entry points: tlsproof_verify, tlsproof_check_tbs, tlsproof_scheme_find,
 * tlsproof_scheme_randomized, tlsproof_key_fits, tlsproof_sig_init.
 */
#ifndef WINRMD_PRIV_TLSPROOF_H
#define WINRMD_PRIV_TLSPROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "lib/x509.h"

#define TLSPROOF_TLS12 0x0303
#define TLSPROOF_TLS13 0x0304

/* Handshake messages in a transcript (post-handshake ones included) and
 * their total size in bytes of bodies. */
#define TLSPROOF_MAX_MSGS 32
#define TLSPROOF_MAX_BYTES (1024u * 1024)
/* The client's chain: its leaf and X509_MAX_INTERMEDIATES more, with the
 * sizes x509_verify_client accepts (a longer chain or a larger
 * certificate is refused here already). */
#define TLSPROOF_MAX_CHAIN (1 + X509_MAX_INTERMEDIATES)

/* One handshake message as the hook reported it. */
struct tls_hs_msg {
	uint8_t type;        /* wire type (HelloRetryRequest: 2) */
	bool from_client;    /* the hook's incoming */
	const uint8_t *body; /* without the 4-byte header */
	size_t len;
};

enum tlsproof_status {
	TLSPROOF_OK = 0,
	TLSPROOF_MALFORMED,      /* a message does not parse, is out of
				    order, over a cap, or missing */
	TLSPROOF_UNSUPPORTED,    /* version, cipher suite, key exchange,
				    signature scheme or key type */
	TLSPROOF_NO_CLIENT_CERT, /* no client Certificate/CertificateVerify:
				    none requested or sent, or a resumed
				    session */
	TLSPROOF_TOO_LARGE,      /* the client's chain is longer than
				    TLSPROOF_MAX_CHAIN, or a certificate over
				    x509.h's limits (X509_MAX_CLIENT_CERT for
				    the leaf) */
	TLSPROOF_NOT_FRESH,      /* the server's signature is not one the
				    helper made for this connection, or is
				    deterministic: replay */
	TLSPROOF_BAD_SERVER_SIG, /* a signature the helper made does not
				    verify over this transcript: the listener
				    had something else signed */
	TLSPROOF_BAD_CLIENT_SIG, /* the client's CertificateVerify does not
				    verify with its leaf's key */
	TLSPROOF_INTERNAL,       /* OpenSSL failed otherwise */
};

struct tlsproof_result {
	uint16_t version; /* TLSPROOF_TLS12 or TLSPROOF_TLS13 */
	uint16_t cipher_suite;
	uint16_t server_scheme; /* of the server's signature */
	uint16_t client_scheme; /* of the client's CertificateVerify */
	bool hello_retry;       /* TLS 1.3 with a HelloRetryRequest */
	/* The client's Certificate message's certificates, leaf first, as
	 * DER; they point into the bodies of the messages given to
	 * tlsproof_verify (valid as long as those are). */
	const uint8_t *certs[TLSPROOF_MAX_CHAIN];
	size_t cert_lens[TLSPROOF_MAX_CHAIN];
	size_t n_certs;
};

/*
 * is_fresh(arg, scheme, sig, len): true when sig is a signature the
 * helper made for this connection with a randomized scheme (it may mark
 * it used).  Called at most once per tlsproof_verify, after the
 * transcript parsed and before any signature is verified.
 */
typedef bool (*tlsproof_fresh_fn)(void *arg, uint16_t scheme,
				  const uint8_t *sig, size_t len);

/*
 * Checks the transcript msgs[0..n) of one connection (the server's view,
 * in the order the hook reported the messages) as above, and returns
 * TLSPROOF_OK with *out filled, or another enum tlsproof_status with *out
 * zeroed and the reason in why (why_len bytes, NUL-terminated; fit for a
 * log line).
 *
 * TLS 1.3: ClientHello, [HelloRetryRequest, ClientHello,] ServerHello,
 * EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify,
 * Finished from the server, then Certificate, CertificateVerify from the
 * client.  TLS 1.2: ClientHello, ServerHello, Certificate,
 * [CertificateStatus,] ServerKeyExchange (ECDHE or DHE), CertificateRequest,
 * ServerHelloDone, then Certificate, ClientKeyExchange, CertificateVerify
 * from the client.  Messages after the client's CertificateVerify are not
 * looked at.  Nothing is checked of the certificates but their sizes and
 * that the leaves parse: the chain goes to x509_verify_client.
 */
int tlsproof_verify(const struct tls_hs_msg *msgs, size_t n,
		    tlsproof_fresh_fn is_fresh, void *arg,
		    struct tlsproof_result *out, char *why, size_t why_len);

/*
 * Whether data (len bytes) has the shape of the content of a TLS server
 * signature, checked before the helper signs it:
 *   TLS 1.3: 64 x 0x20 || "TLS 1.3, server CertificateVerify" || 0x00 ||
 *            a transcript hash of 32 or 48 bytes;
 *   TLS 1.2: client_random (32) || server_random (32) || ServerECDHParams
 *            (curve_type 3 named_curve, a group of secp256r1, secp384r1,
 *            secp521r1, x25519 or x448, and its point<1..255> of that
 *            group's length) or ServerDHParams (p, g, Ys, each
 *            opaque<1..2^16-1>, g and Ys no longer than p), with nothing
 *            left over.
 * Returns TLSPROOF_TLS13 or TLSPROOF_TLS12, or -1 with the reason in why.
 */
int tlsproof_check_tbs(const uint8_t *data, size_t len, char *why,
		       size_t why_len);

/* A TLS SignatureScheme this module knows (IANA code points). */
struct tlsproof_scheme {
	uint16_t code;
	const char *name; /* IANA name, "ecdsa_secp256r1_sha256" */
	const char *key;  /* key type for EVP_PKEY_is_a: "RSA", "RSA-PSS",
			     "EC", "ED25519", "ED448" */
	const char *md;   /* digest name ("SHA256"...), NULL for EdDSA */
	int md_len;       /* its length in bytes, 0 for EdDSA */
	int padding;      /* RSA_PKCS1_PADDING, RSA_PKCS1_PSS_PADDING
			     (salt length = md_len, MGF1 with md), or 0 */
	int curve;        /* ECDSA: the curve's NID, which TLS 1.3
			     requires (TLS 1.2 does not); else 0 */
	bool randomized;  /* ECDSA and PSS as OpenSSL makes them */
	bool tls13;       /* allowed in a TLS 1.3 CertificateVerify */
};

/* The scheme of code point code, or NULL when it is not supported
 * (SHA-1, SHA-224, DSA, GOST, brainpool...). */
const struct tlsproof_scheme *tlsproof_scheme_find(uint16_t code);

/* Whether signatures of scheme are randomized (false when unknown). */
bool tlsproof_scheme_randomized(uint16_t scheme);

/* Whether key (public or private) can sign with scheme in TLS version
 * (TLSPROOF_TLS12 or TLSPROOF_TLS13): 0, or -1 with the reason. */
int tlsproof_key_fits(EVP_PKEY *key, uint16_t scheme, uint16_t version,
		      char *why, size_t why_len);

/*
 * Initializes ctx (fresh from EVP_MD_CTX_new) for one-shot EVP_DigestSign
 * (sign) or EVP_DigestVerify with key under scheme in version: the
 * digest, the RSA padding, PSS salt length and MGF1 digest.  Checks
 * tlsproof_key_fits first.  Returns 0, or -1 with the reason.
 */
int tlsproof_sig_init(EVP_MD_CTX *ctx, EVP_PKEY *key, uint16_t scheme,
		      uint16_t version, bool sign, char *why, size_t why_len);

#endif
