/*
 * tls-key.h - the helper's record of the TLS signatures it made
 * (tls-key.c), for certificate logins.
 */
#ifndef WINRMD_PRIV_TLS_KEY_H
#define WINRMD_PRIV_TLS_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A tlsproof_fresh_fn: arg points at the connection id (uint64_t).  True
 * when sig is a signature the helper made for that connection, recently,
 * with a randomized scheme. */
bool tls_key_is_fresh(void *arg, uint16_t scheme, const uint8_t *sig,
		      size_t len);

#endif
