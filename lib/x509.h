/*
 * x509.h - the X.509 work of winrmd, all of it done with OpenSSL's
 * libcrypto (design decision 1): verifying a TLS client certificate chain
 * for certificate authentication and extracting the names the certificate
 * mapping needs, checking an HTTPS listener's certificate and key files,
 * and the RFC 5929 tls-server-end-point channel-binding data.
 *
 * No logging, no exits, no global state: every refusal comes back as a
 * code and a one-line reason in the caller's buffer (fit for a log line;
 * it never holds key material).  Thread-safe.
 */
#ifndef WINRMD_PRIV_X509_H
#define WINRMD_PRIV_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Largest client (leaf) certificate accepted, in bytes of DER: Windows'
 * MaxClientCertInfoSize default (MS-WSMAN 2.2.4.7). */
#define X509_MAX_CLIENT_CERT 16384
/* Intermediates a client may send with its certificate, and the size of
 * each (a bound on the work an unauthenticated peer can cause). */
#define X509_MAX_INTERMEDIATES 8
#define X509_MAX_INTERMEDIATE_CERT 65536
/* Longest chain accepted, leaf and trust anchor included. */
#define X509_MAX_CHAIN_DEPTH 10
/* Largest CA, certificate or key file read. */
#define X509_MAX_FILE (1024 * 1024)

/* 40 upper-case hex digits and a NUL. */
#define X509_THUMBPRINT_SIZE 41

/* "tls-server-end-point:" (21 bytes) and a digest of up to 64 bytes. */
#define X509_END_POINT_MAX (21 + 64)

enum x509_status {
	X509C_OK = 0,
	X509C_NO_CERT,    /* no certificate, or an empty one */
	X509C_TOO_LARGE,  /* leaf over X509_MAX_CLIENT_CERT (or an
	                        intermediate over its limit, or too many) */
	X509C_BAD_DER,    /* not a certificate in strict DER */
	X509C_UNTRUSTED,  /* chain verification failed (untrusted,
	                        expired, not yet valid, bad signature,
	                        bad extensions...); the reason says which */
	X509C_NOT_CLIENT, /* the leaf may not be used for TLS client
	                        authentication (no clientAuth EKU) */
	X509C_BAD_NAME,   /* a subjectAltName UPN or rfc822Name is
	                        malformed (wrong type, NUL, control char) */
	X509C_CA_FILE,    /* the CA file cannot be used (server side) */
	X509C_INTERNAL,   /* OpenSSL failed otherwise (out of memory) */
};

/*
 * What certificate mapping needs from a verified client certificate.  All
 * strings are UTF-8 without NULs or control characters, owned by the
 * struct, and freed by x509_client_release.
 */
struct x509_client {
	char **upns; /* SAN otherName 1.3.6.1.4.1.311.20.2.3 (UPN),
	                       in certificate order */
	size_t n_upns;
	char **emails; /* SAN rfc822Name, in certificate order */
	size_t n_emails;
	char *subject; /* subject DN, RFC 2253 text ("CN=alice,O=x") */
	char *issuer;  /* issuer DN, RFC 2253 text */
	char thumbprint[X509_THUMBPRINT_SIZE];        /* SHA-1 of the leaf */
	char issuer_thumbprint[X509_THUMBPRINT_SIZE]; /* SHA-1 of the
	                       certificate that signed the leaf: the verified
	                       chain's second element (Windows' CertMapping
	                       Issuer); the leaf's own for a self-signed leaf
	                       that is itself the trust anchor */
};

/*
 * Verifies a client certificate chain and fills *out.
 *
 * ders[0] (lens[0] bytes) is the leaf; ders[1..n) are the intermediates the
 * client sent, in any order (they are only candidates: the chain is built
 * by OpenSSL).  The leaf is refused before any parsing when it is larger
 * than X509_MAX_CLIENT_CERT bytes.  Each certificate must be exactly one
 * DER-encoded certificate: no trailing bytes, and parsing and re-encoding
 * it must give the same bytes (so that its thumbprint is well defined).
 *
 * The chain must end at a certificate of ca_file (PEM, one or more
 * certificates; trust anchors must be self-signed roots: an intermediate
 * alone in ca_file does not verify), pass X509_V_FLAG_X509_STRICT and the
 * SSL-client purpose, and be valid at now (0: the current time).  The leaf
 * must carry an extendedKeyUsage that includes clientAuth.  There is no
 * revocation checking (no CRL or OCSP).
 *
 * Returns X509C_OK with *out filled (caller releases it), or another
 * enum x509_status with *out empty (releasing it is harmless) and the
 * reason in err (errlen bytes, NUL-terminated; errlen 0: no text).
 */
int x509_verify_client(const uint8_t *const *ders, const size_t *lens, size_t n,
		       const char *ca_file, time_t now, struct x509_client *out,
		       char *err, size_t errlen);

/* Frees what *c holds and empties it; an empty or zeroed struct is fine. */
void x509_client_release(struct x509_client *c);

/*
 * Checks an HTTPS listener's files: cert_path holds a PEM certificate (the
 * first one is the server's; more may follow), key_path its PEM private
 * key (unencrypted), and the two belong together.
 *
 * Returns 0 when all is well (err ""), 1 when the pair is usable but
 * something deserves a warning (err says what: expired, not yet valid, no
 * serverAuth in extendedKeyUsage, key readable by others; several are
 * joined by "; "), and -1 (the certificate file) or -2 (the key file)
 * when it is not usable (err says why: missing, unreadable, not PEM, no
 * certificate or key in it, encrypted key, key not matching the
 * certificate).  Messages name the file.  With key_path NULL only the
 * certificate is checked (a process that must not read the key).
 */
/*
 * Loads an HTTPS listener's private key for the helper, which alone holds
 * it: the key must match the first certificate of cert_path.  Fills
 * *key_r (caller frees with EVP_PKEY_free) and id with the SHA-256 of
 * that certificate's DER (what the listener names the key by).  Returns
 * 0, or -1 with err.
 */
#define X509_KEY_ID_LEN 32
typedef struct evp_pkey_st EVP_PKEY;
int x509_server_key_load(const char *cert_path, const char *key_path,
			 EVP_PKEY **key_r, uint8_t id[X509_KEY_ID_LEN],
			 char *err, size_t errlen);

int x509_check_keypair(const char *cert_path, const char *key_path, char *err,
		       size_t errlen);

/*
 * Whether the first certificate of cert_path (PEM) is valid for host, a
 * DNS name (matched against its subjectAltName dNSName entries, wildcards
 * as browsers match them, or its CN when it has none) or an IP address:
 * 1 when it is, 0 when not, -1 with err when the file does not load.
 */
int x509_cert_names_host(const char *cert_path, const char *host, char *err,
			 size_t errlen);

/*
 * RFC 5929 tls-server-end-point channel-binding application data of the
 * server certificate der (len bytes): "tls-server-end-point:" followed by
 * the hash of der with the certificate's signature digest, SHA-256 when
 * that is MD5 or SHA-1 or has none (Ed25519) or is unknown.  On entry
 * *outlen is the size of out (X509_END_POINT_MAX always suffices); on
 * success it is the length written.  Returns 0, or -1 when der is not one
 * DER certificate or out is too small.
 */
int x509_server_end_point(const uint8_t *der, size_t len, uint8_t *out,
			  size_t *outlen);

#endif
