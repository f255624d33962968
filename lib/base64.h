/*
 * base64.h - standard base64 (RFC 4648 section 4: the '+' '/' alphabet,
 * '=' padding, no line breaks), strict on input.
 *
 * Every byte of a shell's output (rsp:Receive) and of its input
 * (rsp:Send) passes through here, so the codec works from tables built
 * once, faster than OpenSSL's general-purpose EVP_EncodeBlock and
 * EVP_DecodeBlock (which also handle PEM's line breaks and white space):
 * `bench/run.sh base64` measures both in the same run.
 *
 * Thread-safe.  Never logs, never exits.
 */
#ifndef WINRMD_BASE64_H
#define WINRMD_BASE64_H

#include <stddef.h>

#include "lib/util.h"

/* The length of the base64 text of n bytes (padded, no line breaks). */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* Writes the base64 of len bytes and a NUL to dst, which has room for
 * BASE64_LEN(len) + 1 bytes; returns the text's length. */
size_t base64_encode_to(char *dst, const void *data, size_t len);

/* Appends the base64 of len bytes to out. */
void base64_encode(struct buf *out, const void *data, size_t len);

/* Appends the decoded bytes of text to out (NUL-terminated) and returns
 * 0; or returns -1 with out unchanged when text is not padded base64:
 * a length that is not a multiple of 4, a character outside the
 * alphabet (white space included), '=' anywhere but as the last one or
 * two characters, or a text of padding only.  Unused bits of the last
 * group need not be zero: they are dropped, as OpenSSL's decoder
 * drops them. */
int base64_decode(struct buf *out, const char *text, size_t len);

#endif
