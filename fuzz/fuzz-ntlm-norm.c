/*
 * fuzz-ntlm-norm.c - libFuzzer harness for the helper's own reading of
 * NTLM messages (helper/ntlm-norm.c), which runs as root on tokens
 * of clients that are not authenticated yet: ntlm_normalize and
 * ntlm_claimed over arbitrary bytes.  Besides reading nothing out of
 * bounds and leaking nothing, the normalisation must keep its promises:
 * only a short NEGOTIATE grows, to exactly 40 bytes with zeros appended;
 * otherwise at most the Version flag of an AUTHENTICATE changes; and a
 * second pass changes nothing.  A claimed name is bounded by its two
 * 512-byte fields.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "helper/ntlm-norm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void check_normalized(const uint8_t *in, size_t n, const struct buf *out)
{
	static const uint8_t zero[40];
	if (out->len != n) {
		/* Only a NEGOTIATE of 16..39 bytes, padded to 40 with zeros. */
		if (n < 16 || n >= 40 || out->len != 40 || le32(in + 8) != 1 ||
		    memcmp(out->data, in, n) != 0 ||
		    memcmp(out->data + n, zero, 40 - n) != 0)
			abort();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (out->data[i] == in[i])
			continue;
		/* Only the Version flag of an AUTHENTICATE, and only cleared. */
		if (i < 60 || i > 63 || n < 64 || le32(in + 8) != 3)
			abort();
	}
	if (n >= 64 && memcmp(out->data + 60, in + 60, 4) != 0 &&
	    (le32(in + 60) & ~NTLMSSP_NEGOTIATE_VERSION) !=
		    le32(out->data + 60))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf tok = BUF_INIT;
	buf_append(&tok, data, size);
	ntlm_normalize(&tok);
	check_normalized(data, size, &tok);

	struct buf again = BUF_INIT;
	buf_append(&again, tok.data, tok.len);
	ntlm_normalize(&again);
	if (again.len != tok.len ||
	    (tok.len > 0 && memcmp(again.data, tok.data, tok.len) != 0))
		abort(); /* idempotent */
	buf_release(&again);

	/* The name, before and after the repair (the helper reads it from
	 * the normalised token). */
	struct buf raw = BUF_INIT;
	buf_append(&raw, data, size);
	char *names[2] = { ntlm_claimed(&raw), ntlm_claimed(&tok) };
	for (int i = 0; i < 2; i++) {
		/* two fields of at most 512 bytes, 3 UTF-8 bytes per UTF-16
		 * unit at most, and the backslash */
		if (names[i] != NULL && strlen(names[i]) > 2 * 256 * 3 + 1)
			abort();
		free(names[i]);
	}
	buf_release(&raw);
	buf_release(&tok);
	return 0;
}
