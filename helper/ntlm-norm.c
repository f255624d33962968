/*
 * ntlm-norm.c - the helper's own reading of NTLM messages (see
 * ntlm-norm.h): the Version-field repair and the claimed name.
 * Must not: read outside the token, trust any length or offset in it,
 * change more of a token than ntlm-norm.h says, or call into GSSAPI.
 */
#include "autoconfig.h"

#include "helper/ntlm-norm.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* See ntlm-norm.h. */
void ntlm_normalize(struct buf *tok)
{
	static const uint8_t sig[8] = "NTLMSSP";
	if (tok->len < 12 || memcmp(tok->data, sig, 8) != 0)
		return;
	uint32_t type = le32(tok->data + 8);
	if (type == 1 && tok->len >= 16 && tok->len < 40) {
		static const uint8_t zero[40];
		buf_append(tok, zero, 40 - tok->len);
	} else if (type == 3 && tok->len >= 64) {
		uint32_t flags = le32(tok->data + 60);
		if (!(flags & NTLMSSP_NEGOTIATE_VERSION))
			return;
		uint32_t first = UINT32_MAX;
		for (size_t f = 12; f <= 52; f += 8) {
			uint16_t len = (uint16_t)(tok->data[f] |
						  tok->data[f + 1] << 8);
			uint32_t off = le32(tok->data + f + 4);
			if (len > 0 && off < first)
				first = off;
		}
		if (first < 72) {
			flags &= ~NTLMSSP_NEGOTIATE_VERSION;
			for (int i = 0; i < 4; i++)
				tok->data[60 + i] = (uint8_t)(flags >> (8 * i));
		}
	}
}

/* Appends UTF-16LE text as UTF-8 (unpaired surrogates become '?'). */
static void utf16le_to_utf8(struct buf *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t c = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
		if (c >= 0xd800 && c < 0xdc00 && i + 3 < n) {
			uint32_t lo = (uint32_t)p[i + 2] | (uint32_t)p[i + 3]
								   << 8;
			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 2;
			} else {
				c = '?';
			}
		} else if (c >= 0xd800 && c < 0xe000) {
			c = '?';
		}
		if (c < 0x80) {
			buf_append_byte(out, (uint8_t)c);
		} else if (c < 0x800) {
			buf_append_byte(out, (uint8_t)(0xc0 | c >> 6));
			buf_append_byte(out, (uint8_t)(0x80 | (c & 0x3f)));
		} else if (c < 0x10000) {
			buf_append_byte(out, (uint8_t)(0xe0 | c >> 12));
			buf_append_byte(out, (uint8_t)(0x80 | (c >> 6 & 0x3f)));
			buf_append_byte(out, (uint8_t)(0x80 | (c & 0x3f)));
		} else {
			buf_append_byte(out, (uint8_t)(0xf0 | c >> 18));
			buf_append_byte(out,
					(uint8_t)(0x80 | (c >> 12 & 0x3f)));
			buf_append_byte(out, (uint8_t)(0x80 | (c >> 6 & 0x3f)));
			buf_append_byte(out, (uint8_t)(0x80 | (c & 0x3f)));
		}
	}
}

/* One NTLM AUTHENTICATE field (8-byte descriptor at off) as UTF-8. */
static bool ntlm_field(const uint8_t *m, size_t len, size_t off, bool unicode,
		       struct buf *out)
{
	if (off + 8 > len)
		return false;
	size_t flen = (size_t)(m[off] | m[off + 1] << 8);
	size_t foff = le32(m + off + 4);
	if (flen > 512 || foff > len || flen > len - foff)
		return false;
	if (unicode) {
		utf16le_to_utf8(out, m + foff, flen);
	} else {
		for (size_t i = 0; i < flen; i++)
			buf_append_byte(out, m[foff + i] >= 0x20 &&
							     m[foff + i] < 0x7f
						     ? m[foff + i]
						     : '?');
	}
	return true;
}

/* See ntlm-norm.h. */
char *ntlm_claimed(const struct buf *tok)
{
	static const uint8_t sig[12] = "NTLMSSP\0\3\0\0";
	const uint8_t *m = NULL;
	for (size_t i = 0; i + sizeof(sig) <= tok->len; i++)
		if (memcmp(tok->data + i, sig, sizeof(sig)) == 0) {
			m = tok->data + i;
			break;
		}
	if (m == NULL)
		return NULL;
	size_t len = tok->len - (size_t)(m - tok->data);
	if (len < 64)
		return NULL;
	bool unicode = (le32(m + 60) & 1) != 0; /* NTLMSSP_NEGOTIATE_UNICODE */
	struct buf name = BUF_INIT;
	if (!ntlm_field(m, len, 28, unicode, &name))
		goto bad;
	buf_append_byte(&name, '\\');
	size_t user_at = name.len;
	if (!ntlm_field(m, len, 36, unicode, &name) || name.len == user_at)
		goto bad;
	if (user_at == 1) /* no domain */
		memmove(name.data, name.data + 1, name.len--);
	return buf_steal(&name);
bad:
	buf_release(&name);
	return NULL;
}
