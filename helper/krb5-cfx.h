/*
 * krb5-cfx.h - RFC 4121 Wrap tokens with confidentiality for the
 * aes128/aes256-cts-hmac-sha1-96 enctypes (RFC 3962), acceptor side,
 * with OpenSSL 3 (KRB5KDF, AES-CBC-CTS, HMAC-SHA1): Debian's MIT
 * libk5crypto has its own AES and SHA-1 without AES-NI or SHA-NI, and
 * took about 1.3 ms of a 256 KiB message's 1.6 ms in winrmd-priv.
 *
 * cfx_take_over turns an established Kerberos context (raw or under
 * SPNEGO) into our own state with gss_krb5_export_lucid_sec_context,
 * which deletes the GSS context: from then on every wrap and unwrap of
 * that connection goes through here, sequence numbers included.  Other
 * enctypes (RC4, the RFC 8009 aes-sha2 ones) are left to the GSSAPI.
 * The keys stay in winrmd-priv like the GSS context did.
 *
 * Unwrap accepts what MIT's gss_unwrap_iov with HEADER and DATA accepted:
 * the token header, the rotated tail (RRC = EC + 28: filler, encrypted
 * header copy, checksum) and the confounder in the header part (60 bytes
 * with EC 0, as Windows, pywinrm/pyspnego and MIT send), the data in the
 * sealed part, any EC.  It checks the encrypted header copy, compares the
 * checksum in constant time, and refuses a token from the acceptor's
 * side, one without confidentiality, any other header length or RRC,
 * a wrong key flag, replays and tokens older than a 64-token window (as
 * MIT with the replay flag; gaps and reordering within the window pass).
 * Wrap writes the layout MIT's gss_wrap_iov wrote before: a 60-byte
 * header (EC 0, RRC 28) and the ciphertext of the data, same length.
 * Failures leave nothing in the output buffers and put a one-line reason
 * in err; they never log or exit.
 *
 * Entry points: cfx_take_over, cfx_new, cfx_free, cfx_unwrap, cfx_wrap.
 */
#ifndef WINRMD_KRB5_CFX_H
#define WINRMD_KRB5_CFX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gssapi/gssapi.h>

#include "lib/util.h"

/* The header our wraps produce: token header 16, rotated tail 28 (the
 * encrypted header copy and the 12-byte checksum), confounder 16. */
#define CFX_WRAP_HEADER_LEN 60

struct krb5_cfx;

/*
 * For an established acceptor context whose key is aes128/aes256-cts-
 * hmac-sha1-96: exports it (*ctx becomes GSS_C_NO_CONTEXT) and returns
 * the state, freed by cfx_free.  Otherwise returns NULL with *ctx as it
 * was.
 */
struct krb5_cfx *cfx_take_over(gss_ctx_id_t *ctx);

/*
 * The state from its parts, for the tests and the fuzzer: enctype 17 or
 * 18, the context key, an optional acceptor subkey (NULL, 0: none),
 * the next sequence numbers each way, the expiry (0: none).  NULL on a
 * wrong enctype or key length.  Copies the keys.
 */
struct krb5_cfx *cfx_new(int32_t enctype, const uint8_t *key, size_t keylen,
			 const uint8_t *acceptor_subkey, size_t subkeylen,
			 uint64_t send_seq, uint64_t recv_seq, time_t endtime);

/* Wipes the keys and frees; NULL is a no-op. */
void cfx_free(struct krb5_cfx *c);

/* Appends the plaintext of the token hdr || sealed to plain; 0, or -1
 * with err filled and plain unchanged. */
int cfx_unwrap(struct krb5_cfx *c, const uint8_t *hdr, size_t hdr_len,
	       const uint8_t *sealed, size_t sealed_len, struct buf *plain,
	       char *err, size_t errlen);

/* Appends the 60-byte header to hdr and len bytes of ciphertext to
 * sealed; 0, or -1 with err filled and both unchanged. */
int cfx_wrap(struct krb5_cfx *c, const uint8_t *plain, size_t len,
	     struct buf *hdr, struct buf *sealed, char *err, size_t errlen);

#endif
