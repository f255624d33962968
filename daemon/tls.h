/*
 * tls.h - the HTTPS listeners' certificates (GnuTLS, inside
 * libmicrohttpd): loaded from PEM as root before the privilege drop, then
 * replaced on reload with the PEM the helper reads, without restarting
 * the listener: libmicrohttpd asks for the certificate at every handshake
 * (MHD_OPTION_HTTPS_CERT_CALLBACK), so new connections get the new one
 * while established ones keep theirs.
 */
#ifndef WINRMD_TLS_H
#define WINRMD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct tls_cred;

/* Builds credentials from PEM text (certificate chain, private key);
 * NULL with *error_r (caller frees) when they do not load. */
struct tls_cred *tls_cred_new(const char *cert_pem, const char *key_pem,
			      char **error_r);

/* Tells which owner (listener) a libmicrohttpd connection belongs to. */
typedef const void *(*tls_owner_fn)(void *mhd_connection);
void tls_set_owner_resolver(tls_owner_fn fn);

/* Makes cred (consumed) the certificate of owner.  The previous one stays
 * allocated until tls_shutdown (connections still refer to it).  Returns
 * false when cred is the same certificate and key as the current one (it
 * is then freed and nothing changes). */
bool tls_set(const void *owner, struct tls_cred *cred);

/* The libmicrohttpd certificate callback (gnutls_certificate_retrieve_
 * function2 *). */
void *tls_cert_callback(void);

/* The client's certificate chain of a TLS connection, leaf first, as DER
 * (caller releases each buf and frees the array).  0, or -1 when the
 * client sent none. */
int tls_peer_chain(void *gnutls_session, struct buf **ders_r, size_t *n_r);

/* The RFC 5929 tls-server-end-point channel-binding data of the
 * certificate this session sent (see x509_server_end_point): 0, or -1. */
int tls_end_point(void *gnutls_session, uint8_t *out, size_t *len);

void tls_shutdown(void);

#endif
