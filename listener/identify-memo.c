/*
 * identify-memo.c - anonymous Identify requests already found valid (see
 * identify-memo.h).
 *
 * The slots are filled in order, each once, with a compare-and-swap, and
 * never replaced: a reader needs no lock and an entry it has loaded stays
 * valid until identify_memo_clear, when no request runs.
 */
#include "autoconfig.h"

#include "listener/identify-memo.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct memo_entry {
	bool has_content_type;
	size_t content_type_len;
	size_t body_len;
	char bytes[]; /* the body, then the Content-Type */
};

static _Atomic(struct memo_entry *) slots[IDENTIFY_MEMO_SLOTS];

static bool entry_is(const struct memo_entry *e, const char *content_type,
		     size_t ct_len, const void *body, size_t len)
{
	/* (memcmp with a null pointer is undefined even for 0 bytes) */
	return e->body_len == len &&
	       e->has_content_type == (content_type != NULL) &&
	       e->content_type_len == ct_len &&
	       (len == 0 || memcmp(e->bytes, body, len) == 0) &&
	       (ct_len == 0 ||
		memcmp(e->bytes + len, content_type, ct_len) == 0);
}

bool identify_memo_hit(const char *content_type, const void *body, size_t len)
{
	if (len > IDENTIFY_MEMO_MAX_BODY || (len > 0 && body == NULL))
		return false;
	size_t ct_len = content_type != NULL ? strlen(content_type) : 0;
	for (size_t i = 0; i < IDENTIFY_MEMO_SLOTS; i++) {
		const struct memo_entry *e =
			atomic_load_explicit(&slots[i], memory_order_acquire);
		if (e == NULL)
			return false; /* filled in order: none further */
		if (entry_is(e, content_type, ct_len, body, len))
			return true;
	}
	return false;
}

void identify_memo_add(const char *content_type, const void *body, size_t len)
{
	/* A full memo takes nothing: no copy made and thrown away on every
	 * parsed request.  (The caller has just missed; a twin added since
	 * by another thread is found by the loop below.) */
	if (atomic_load_explicit(&slots[IDENTIFY_MEMO_SLOTS - 1],
				 memory_order_acquire) != NULL)
		return;
	size_t ct_len = content_type != NULL ? strlen(content_type) : 0;
	if (len > IDENTIFY_MEMO_MAX_BODY ||
	    ct_len > IDENTIFY_MEMO_MAX_CONTENT_TYPE ||
	    (len > 0 && body == NULL))
		return;
	struct memo_entry *e = xmalloc(sizeof(*e) + len + ct_len);
	e->has_content_type = content_type != NULL;
	e->content_type_len = ct_len;
	e->body_len = len;
	if (len > 0)
		memcpy(e->bytes, body, len);
	if (ct_len > 0)
		memcpy(e->bytes + len, content_type, ct_len);
	for (size_t i = 0; i < IDENTIFY_MEMO_SLOTS; i++) {
		struct memo_entry *expected = NULL;
		if (atomic_compare_exchange_strong_explicit(
			    &slots[i], &expected, e, memory_order_acq_rel,
			    memory_order_acquire))
			return;
		/* Another thread may have added the same request. */
		if (entry_is(expected, content_type, ct_len, body, len))
			break;
	}
	free(e); /* full, or already there */
}

void identify_memo_clear(void)
{
	for (size_t i = 0; i < IDENTIFY_MEMO_SLOTS; i++)
		free(atomic_exchange(&slots[i], NULL));
}
