/*
 * fuzz-base64.c - libFuzzer harness for base64_decode (lib/util.c), which
 * reads every rsp:Send a client posts.  Differential: the input must be
 * accepted exactly when a plain per-character reading of strict base64
 * accepts it (length a multiple of 4, only the 64 letters, at most two
 * '=' and only at the end); an accepted input decodes to len / 4 * 3 -
 * padding bytes that encode back to the input when its unused bits are
 * zero; a refused one leaves the output as it was.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool letter(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* The reference: strict base64, one character at a time. */
static bool strict(const uint8_t *p, size_t n, size_t *pad)
{
	if (n % 4 != 0)
		return false;
	*pad = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '=' && i + 2 >= n)
			(*pad)++;
		else if (*pad > 0 || !letter(p[i]))
			return false;
	}
	return *pad < n || n == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	buf_append_str(&out, "keep");
	size_t pad = 0;
	bool want = strict(data, size, &pad);
	int r = base64_decode(&out, (const char *)data, size);
	if ((r == 0) != want)
		abort();
	if (r != 0) {
		if (out.len != 4 || memcmp(out.data, "keep", 4) != 0)
			abort();
	} else {
		if (out.len != 4 + size / 4 * 3 - pad)
			abort();
		struct buf again = BUF_INIT;
		base64_encode(&again, out.data + 4, out.len - 4);
		/* Equal unless the input had non-zero unused bits. */
		if (again.len != size)
			abort();
		struct buf back = BUF_INIT;
		if (base64_decode(&back, (const char *)again.data, again.len) !=
			    0 ||
		    back.len != out.len - 4 ||
		    (back.len > 0 &&
		     memcmp(back.data, out.data + 4, back.len) != 0))
			abort();
		buf_release(&again);
		buf_release(&back);
	}
	buf_release(&out);
	return 0;
}
