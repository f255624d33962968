/*
 * identify-memo.h - anonymous Identify requests already found valid,
 * remembered by their exact bytes (identify-memo.c).
 *
 * Monitoring and load balancers send the same anonymous Identify again
 * and again; its answer depends on nothing but its Content-Type and body
 * (the envelope parser and the dispatch table are pure functions of
 * them), so a request byte-identical to one that was parsed and found a
 * valid UTF-8 Identify gets the same answer without being parsed again.
 * Only bodies up to IDENTIFY_MEMO_MAX_BODY bytes are kept, in at most
 * IDENTIFY_MEMO_SLOTS entries, each written once and kept until
 * identify_memo_clear: a full memo just means parsing as before.  Any
 * thread may call hit and add at any time.
 */
#ifndef WINRMD_LISTENER_IDENTIFY_MEMO_H
#define WINRMD_LISTENER_IDENTIFY_MEMO_H

#include <stdbool.h>
#include <stddef.h>

#define IDENTIFY_MEMO_SLOTS 4
#define IDENTIFY_MEMO_MAX_BODY 4096
#define IDENTIFY_MEMO_MAX_CONTENT_TYPE 256

/* Whether content_type (NULL: none) and body are exactly those of a
 * request added before. */
bool identify_memo_hit(const char *content_type, const void *body, size_t len);
/* Remembers a request the gate answered with the shared UTF-8 Identify
 * answer (copies it; ignored when too long or when the memo is full). */
void identify_memo_add(const char *content_type, const void *body, size_t len);
/* Forgets everything; no thread may be in hit or add. */
void identify_memo_clear(void);

#endif
