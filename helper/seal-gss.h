/*
 * seal-gss.h - WinRM message encryption with an established GSS context,
 * in winrmd-priv: unwrap one encrypted part of a request (the listener
 * parsed the framing with seal.h and sent the header/signature and the
 * sealed bytes over), wrap the plaintext of a response.
 *
 * NTLM (gss-ntlmssp, which has no IOV calls): the MS-WSMV header is the
 * 16-byte NTLMSSP signature and gss_wrap's output is signature || sealed,
 * so unwrap is gss_unwrap(signature || sealed) and wrap is gss_wrap split
 * after 16 bytes.  RC4 state and sequence numbers advance with every call:
 * parts must be unwrapped, and responses wrapped, in wire order.
 *
 * Kerberos with aes128/aes256-cts-hmac-sha1-96 (what MIT KDCs issue by
 * default): helper/krb5-cfx.c, OpenSSL's AES-NI and SHA-NI code instead of
 * libk5crypto's, same token layout as below.  Other Kerberos enctypes
 * (MIT, raw or under SPNEGO): gss_wrap_iov with HEADER|ALLOCATE,
 * DATA (in place) and PADDING|ALLOCATE and no TRAILER, as the clients and
 * Windows do; MIT folds the trailer into the header (RRC).  With AES the
 * header is 60 bytes and the padding empty.  Unwrap of an RFC 4121 (CFX)
 * token is gss_unwrap_iov with HEADER and DATA.  An RFC 1964/4757 token
 * (RC4: the header starts 0x60) goes to gss_unwrap(header || sealed)
 * instead: MIT's IOV unwrap leaves RC4's padding byte in DATA when no
 * PADDING buffer is given, and its length is only known after decryption.
 *
 * Length= of the response (seal_build's original_length) is the length
 * of sealed as returned by sealgss_wrap, padding included: the plaintext
 * length for NTLM and AES, plaintext + 1 for RC4 (one padding byte).  That
 * is what pypsrp and pyspnego-based pywinrm compare with the length their
 * MIT IOV unwrap returns (data with the padding byte still on it), and
 * what pypsrp and Ruby themselves send; for requests both spellings are
 * accepted (seal_length_ok).  Measured with MIT 1.20 and an arcfour-hmac
 * service key (tests/integration/t5000-seal-gss.py).
 *
 * Unwrap refuses tokens without confidentiality (conf_state 0: the
 * encrypted transport must not accept integrity-only messages) and
 * replays (GSS_S_DUPLICATE_TOKEN or GSS_S_OLD_TOKEN, which GSSAPI reports
 * as supplementary bits of a "successful" unwrap); gaps and reordering
 * are accepted.  Wrap always asks for, and checks, confidentiality.  On any
 * failure nothing is left in the output buffers (what was appended is
 * wiped and removed), and err receives a one-line reason (GSS status text,
 * never key material).  They never log and never exit.
 *
 * Entry points: sealgss_unwrap, sealgss_wrap.
 */
#ifndef WINRMD_SEAL_GSS_H
#define WINRMD_SEAL_GSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gssapi/gssapi.h>

#include "lib/util.h"

struct krb5_cfx;

/* The NTLMSSP message signature length (MS-NLMP 2.2.2.9). */
#define SEALGSS_NTLM_SIG_LEN 16

/*
 * Unwraps one part: hdr/hdr_len is the header or signature (H bytes after
 * the length field), sealed/sealed_len the bytes after it.  krb5 selects
 * the Kerberos path (the context's mechanism is Kerberos, raw or through
 * SPNEGO), otherwise NTLM (hdr_len must then be 16).  With krb5 and cfx
 * not NULL, the first call takes an AES-SHA1 context over (*ctx becomes
 * GSS_C_NO_CONTEXT, *cfx is set and used from then on, freed by the
 * caller with cfx_free); cfx NULL keeps MIT's calls.  Appends the
 * plaintext to plain and returns 0, or returns -1 with err filled and
 * plain unchanged.
 */
int sealgss_unwrap(gss_ctx_id_t *ctx, struct krb5_cfx **cfx, bool krb5,
		   const uint8_t *hdr, size_t hdr_len, const uint8_t *sealed,
		   size_t sealed_len, struct buf *plain, char *err,
		   size_t errlen);

/*
 * Wraps len bytes of plain with confidentiality.  Appends the header or
 * signature to hdr and the sealed data followed by any padding to sealed
 * (the wire carries LE32(hdr->len) || hdr || sealed) and returns 0, or
 * returns -1 with err filled and both buffers unchanged.
 */
int sealgss_wrap(gss_ctx_id_t *ctx, struct krb5_cfx **cfx, bool krb5,
		 const uint8_t *plain, size_t len, struct buf *hdr,
		 struct buf *sealed, char *err, size_t errlen);

#endif
