/*
 * tls.h - the HTTPS listeners' side of TLS (GnuTLS, inside
 * libmicrohttpd), without their private keys.
 *
 * Certificates: loaded from PEM (as root at start, from the helper on a
 * reload) and replaced without restarting the listener: libmicrohttpd
 * asks for the certificate at every handshake (MHD_OPTION_HTTPS_CERT_
 * CALLBACK), so new connections get the new one while established ones
 * keep theirs.
 *
 * Private keys never enter this process: each TLS connection gets a
 * GnuTLS external key whose signatures the helper makes (PRIV_SIGN), for
 * that connection.  Every handshake message of the connection is kept
 * (struct tls_conn) while a client certificate may need proving: the
 * helper then checks, in that transcript, the signature it made and the
 * client's CertificateVerify (design.md decision 4).
 */
#ifndef WINRMD_TLS_H
#define WINRMD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/priv/msg.h"
#include "lib/util.h"

struct tls_cred;
struct tls_conn;

/* Builds credentials from a PEM certificate chain; NULL with *error_r
 * (caller frees) when it does not load. */
struct tls_cred *tls_cred_new(const char *cert_pem, char **error_r);

/* Makes cred (consumed) the certificate of owner (a listener).  The
 * previous one stays allocated until tls_shutdown (connections still
 * refer to it).  Returns false when cred is the same certificate as the
 * current one (it is then freed and nothing changes). */
bool tls_set(const void *owner, struct tls_cred *cred);

/* The TLS state of one connection, made when libmicrohttpd has created
 * its GnuTLS session and before any byte is read (caller frees with
 * tls_conn_free when the connection closes). */
struct tls_conn *tls_conn_new(void *gnutls_session, uint64_t conn_id,
			      const void *owner);
void tls_conn_free(struct tls_conn *tc);

/* Tells which tls_conn a GnuTLS session belongs to (set once). */
typedef struct tls_conn *(*tls_conn_fn)(void *gnutls_session);
void tls_set_conn_resolver(tls_conn_fn fn);

/* The libmicrohttpd certificate callback (gnutls_certificate_retrieve_
 * function2 *). */
void *tls_cert_callback(void);

/* Appends ":-RSA" to a priority string: static RSA key exchange needs
 * the key to decrypt, and only the helper holds it (caller frees). */
char *tls_priorities(const char *configured);

/*
 * The handshake of tc for the helper's proof (msgs point into tc, valid
 * until tls_conn_free; caller frees the array).  0, or -1 when nothing
 * was kept: no client certificate, a resumed session, or a handshake
 * over the recording limits.
 */
int tls_conn_transcript(struct tls_conn *tc, struct priv_hs_msg **msgs_r,
			size_t *n_r);

/* The RFC 5929 tls-server-end-point channel-binding data of the
 * certificate tc's session sent (see x509_server_end_point): 0, or -1
 * (tc NULL: not TLS). */
int tls_conn_end_point(const struct tls_conn *tc, uint8_t *out, size_t *len);

void tls_shutdown(void);

#endif
