/*
 * fuzz-krb5-cfx.c - libFuzzer harness for the RFC 4121 token parser of
 * helper/krb5-cfx.c: cfx_unwrap over arbitrary header/sealed splits with
 * fixed keys (what a hostile client reaches in winrmd-priv before and
 * after the checksum), then a wrap of the same bytes, whose layout must be
 * the fixed one and which the acceptor must refuse to unwrap (tokens sent
 * by the acceptor).  Nothing may read out of bounds, leak, or leave
 * bytes behind in an output buffer after a refusal.
 *
 * Input: byte 0 bit 0 selects AES-128 or AES-256, bit 1 an acceptor
 * subkey; bytes 1-2 (big-endian) are the header length, capped by what
 * follows; the rest is header || sealed.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "helper/krb5-cfx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[32] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
				 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
				 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const uint8_t subkey[32] = { 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22,
				    21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
				    10, 9,  8,  7,  6,  5,  4,  3,  2,  1 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	size_t klen = data[0] & 1 ? 32 : 16;
	struct krb5_cfx *c = cfx_new(klen == 32 ? 18 : 17, key, klen,
				     data[0] & 2 ? subkey : NULL,
				     data[0] & 2 ? klen : 0, 0, 0, 0);
	if (c == NULL)
		abort();
	size_t hlen = (size_t)data[1] << 8 | data[2];
	data += 3;
	size -= 3;
	if (hlen > size)
		hlen = size;

	char err[256];
	struct buf plain = BUF_INIT;
	buf_append(&plain, "kept", 4);
	if (cfx_unwrap(c, data, hlen, data + hlen, size - hlen, &plain, err,
		       sizeof(err)) != 0 &&
	    (plain.len != 4 || memcmp(plain.data, "kept", 4) != 0))
		abort();

	struct buf hdr = BUF_INIT, sealed = BUF_INIT;
	if (cfx_wrap(c, data, size, &hdr, &sealed, err, sizeof(err)) != 0 ||
	    hdr.len != CFX_WRAP_HEADER_LEN || sealed.len != size)
		abort();
	struct buf again = BUF_INIT;
	if (cfx_unwrap(c, hdr.data, hdr.len, sealed.data, sealed.len, &again,
		       err, sizeof(err)) == 0 ||
	    again.len != 0)
		abort();
	buf_release(&again);
	buf_release(&hdr);
	buf_release(&sealed);
	buf_release_secret(&plain);
	cfx_free(c);
	return 0;
}
