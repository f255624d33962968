/*
 * ntlm-norm.h - what the helper itself reads in NTLM messages (MS-NLMP),
 * around gss-ntlmssp: the repair of messages that leave out the optional
 * Version field, and the name an AUTHENTICATE message claims.
 *
 * Both run as root on tokens from clients that are not authenticated yet:
 * any byte string must be safe, never read out of bounds, never make a
 * token longer than 40 bytes grow, and never change more than the Version
 * flag of a token.  Pure functions of the token, so they can be fuzzed
 * (fuzz/fuzz-ntlm-norm.c).
 */
#ifndef WINRMD_PRIV_NTLM_NORM_H
#define WINRMD_PRIV_NTLM_NORM_H

#include "lib/util.h"

/* MS-NLMP NTLMSSP_NEGOTIATE_VERSION */
#define NTLMSSP_NEGOTIATE_VERSION 0x02000000u

/*
 * Some clients (curl, the npm winrm-client) leave out the 8-byte Version
 * field, which gss-ntlmssp 1.2 mishandles; in place, tok is
 *  - a NEGOTIATE message (type 1) of 16..39 bytes: padded with zero bytes
 *    to 40 (payload offsets are absolute, and the decoder already
 *    discounts the Version when its flag is clear);
 *  - an AUTHENTICATE message (type 3) whose flags claim a Version while
 *    its first payload field starts where the Version would be: the flag
 *    is cleared (nothing covers the flags, and such a message has no room
 *    for a MIC either);
 *  - anything else: left alone.
 */
void ntlm_normalize(struct buf *tok);

/*
 * The name an NTLM AUTHENTICATE message claims, "DOMAIN\user" or "user"
 * as UTF-8 (newly allocated, caller frees), or NULL if tok holds none.
 * The message is found as is or inside SPNEGO (contiguous there, offsets
 * relative to its own start).  Fields over 512 bytes are refused.  Only
 * for throttling and the audit line: it proves nothing.
 */
char *ntlm_claimed(const struct buf *tok);

#endif
