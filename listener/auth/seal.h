/*
 * seal.h - the byte-level framing of WinRM message encryption over HTTP
 * (MS-WSMV 2.2.9.1): parsing a multipart/encrypted (or
 * multipart/x-multi-encrypted) request body into its encrypted parts, and
 * building the response body around parts the helper has sealed.
 *
 * The listener never holds a security context: it hands each part's
 * header/signature and sealed bytes to winrmd-priv (seal-gss.h) and gets
 * plaintext back, and the other way round for the response.  This module
 * does no cryptography, no GSSAPI, no logging and never exits.
 *
 * Wire layout of one group (what seal_build writes, byte for byte):
 *
 *   --Encrypted Boundary\r\n
 *   \tContent-Type: <protocol>\r\n
 *   \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<N>\r\n
 *   --Encrypted Boundary\r\n
 *   \tContent-Type: application/octet-stream\r\n
 *   <u32 LE H><H bytes: signature/header><sealed bytes>
 *
 * and after the last group "--Encrypted Boundary--\r\n" with no CRLF
 * before it (pywinrm cuts exactly those 24 bytes off the end).
 *
 * Parsing is lenient where real clients differ and strict about lengths:
 *  - part headers with or without the leading tab (Ruby and OMI send none),
 *    header names in any case, spaces around ':' and ';', CRLF or bare LF
 *    line ends in the header lines, "--" + spaces + boundary (pypsrp's
 *    Exchange quirk), boundary compared case-insensitively;
 *  - the sealed data runs from right after H up to the next delimiter;
 *  - the body may end with "--boundary--" (all current clients) or with a
 *    plain "--boundary\r\n" (Ruby's older Kerberos transport), followed by
 *    nothing but whitespace;
 *  - CRLF before the closing delimiter: no known client sends one (pywinrm,
 *    pypsrp, Go, Ruby, OMI and the .NET clients all put the delimiter right
 *    after the sealed bytes, as MS-WSMV says "the remaining bytes MUST be
 *    the encrypted data").  A trailing CRLF is removed only when the part
 *    is an NTLM signature (H = 16, version 1) or a Kerberos RFC 4121 wrap
 *    token (05 04) - whose sealed length is always exactly Length= - and
 *    removing it makes the sealed length equal Length=.  So it can never
 *    cut a real ciphertext; a part so repaired is flagged crlf_trimmed.
 *    Never for CredSSP or RFC 1964-style (RC4) tokens, whose length is
 *    not tied to Length=;
 *  - strict: every group has both parts, the first part's Content-Type
 *    equals the protocol, OriginalContent carries Length=<decimal> (no
 *    sign, no garbage, <= SEAL_MAX_LENGTH and <= the sealed length),
 *    charset UTF-8 or UTF-16 (same in every group; absent means UTF-8),
 *    1 <= H <= SEAL_MAX_HEADER and H <= the bytes present, at most
 *    SEAL_MAX_PARTS groups, Length <= SEAL_CHUNK for x-multi-encrypted.
 * Every refusal returns a distinct static English text through error_r.
 *
 * Entry points: seal_is_encrypted, seal_parse, seal_message_release,
 * seal_length_ok, seal_build, seal_finish, seal_response_content_type.
 */
#ifndef WINRMD_SEAL_H
#define WINRMD_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#define SEAL_PROTO_SPNEGO "application/HTTP-SPNEGO-session-encrypted"
#define SEAL_PROTO_KERBEROS "application/HTTP-Kerberos-session-encrypted"
#define SEAL_PROTO_CREDSSP "application/HTTP-CredSSP-session-encrypted"
#define SEAL_BOUNDARY "Encrypted Boundary"
#define SEAL_SOAP_TYPE "application/soap+xml"

/* Room for any protocol string above, NUL included. */
#define SEAL_PROTOCOL_MAX 64
/* Plaintext bytes per group of multipart/x-multi-encrypted (CredSSP). */
#define SEAL_CHUNK 16384
/* Groups per body: 4096 x 16 KiB is far beyond any envelope size limit. */
#define SEAL_MAX_PARTS 4096
/* Largest H accepted: NTLM sends 16, Kerberos AES 60, RC4 about 45. */
#define SEAL_MAX_HEADER 1024
/* Largest Length= accepted (the body cap is far lower anyway). */
#define SEAL_MAX_LENGTH (64u * 1024 * 1024)
/* Longest boundary accepted (RFC 2046 allows 70). */
#define SEAL_BOUNDARY_MAX 128

enum seal_charset { SEAL_UTF8 = 0, SEAL_UTF16 };

/* One encrypted group.  Every pointer points into the parsed body. */
struct seal_part {
	const uint8_t *hdr;    /* the H bytes after the length field */
	size_t hdr_len;        /* H */
	const uint8_t *sealed; /* the sealed bytes after them */
	size_t sealed_len;
	size_t original_length; /* Length= */
	bool crlf_trimmed;      /* a stray CRLF before the delimiter cut */
};

/*
 * A parsed body.  parts is allocated by seal_parse and freed by
 * seal_message_release; the parts point into the caller's body, which must
 * outlive the struct.
 */
struct seal_message {
	char protocol[SEAL_PROTOCOL_MAX]; /* canonical: a SEAL_PROTO_* */
	bool multi;                       /* multipart/x-multi-encrypted */
	bool credssp;                     /* CredSSP (callers refuse it) */
	enum seal_charset charset;
	/* "application/soap+xml;charset=UTF-8" (or UTF-16): the decrypted
	 * body's content type, and what the response's OriginalContent and
	 * seal_build's charset_type take. */
	char content_type[48];
	struct seal_part *parts;
	size_t nparts;
	size_t total_length; /* sum of the original_length */
};

/*
 * True when content_type is multipart/encrypted or
 * multipart/x-multi-encrypted with a protocol parameter naming SPNEGO,
 * Kerberos or CredSSP session encryption (compared case-insensitively,
 * quoted or not).  The canonical protocol string is then copied to
 * protocol (protocol_len >= SEAL_PROTOCOL_MAX; it is "" on false).  NULL
 * content_type gives false.  protocol may be NULL.
 */
bool seal_is_encrypted(const char *content_type, char *protocol,
		       size_t protocol_len);

/*
 * Parses body (len bytes, binary) sent with content_type.  Returns 0 and
 * fills *out (caller releases it with seal_message_release), or -1 with a
 * static reason in *error_r and *out empty (releasing it is harmless).
 * Nothing is decrypted or length-checked against plaintext here: see
 * seal_length_ok once the helper has unwrapped each part.
 */
int seal_parse(const uint8_t *body, size_t len, const char *content_type,
	       struct seal_message *out, const char **error_r);

/* Frees parts; *m is empty afterwards.  NULL is a no-op. */
void seal_message_release(struct seal_message *m);

/*
 * Whether an unwrapped part's plaintext length agrees with its Length=.
 * Clients disagree for Kerberos RC4 contexts, whose wrap adds one byte of
 * padding after the data: pywinrm/pyspnego send the plaintext length,
 * pypsrp and Ruby send plaintext + padding (= the sealed length).  Both are
 * accepted; for NTLM and Kerberos AES the two are the same number.
 */
bool seal_length_ok(size_t original_length, size_t plain_len,
		    size_t sealed_len);

/*
 * Appends one group to out, byte-exact as in the file comment:
 * protocol is one of SEAL_PROTO_*, charset_type e.g.
 * "application/soap+xml;charset=UTF-8" (struct seal_message.content_type),
 * original_length the number written as Length=.  For the response that
 * must be sealed_len (what the helper's wrap returned: data plus any
 * padding), which clients compare with the length of what their unwrap
 * returns; it equals the plaintext length for NTLM and Kerberos AES and is
 * plaintext + 1 for Kerberos RC4 (seal-gss.h).
 */
void seal_build(struct buf *out, const char *protocol, const char *charset_type,
		size_t original_length, const uint8_t *hdr, size_t hdr_len,
		const uint8_t *sealed, size_t sealed_len);

/* Appends the closing "--Encrypted Boundary--\r\n" after the last group. */
void seal_finish(struct buf *out);

/*
 * The response Content-Type for protocol (one of SEAL_PROTO_*, compared
 * case-insensitively), exactly as clients look for it:
 * multipart/encrypted;protocol="<protocol>";boundary="Encrypted Boundary"
 * (multipart/x-multi-encrypted when multi).  A static string, or NULL for
 * an unknown protocol.
 */
const char *seal_response_content_type(const char *protocol, bool multi);

#endif
