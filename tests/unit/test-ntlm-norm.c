/*
 * test-ntlm-norm.c - the helper's own reading of NTLM messages
 * (helper/ntlm-norm.c): NEGOTIATE messages without Version padded
 * to 40 bytes, the Version flag of an AUTHENTICATE without Version
 * cleared (and nothing else touched), other tokens left alone; the
 * claimed name of AUTHENTICATE messages, Unicode and OEM, bare and
 * inside SPNEGO, and refusals of fields outside the token.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "helper/ntlm-norm.h"
#include "tests/lib/tap.h"

#define FLAGS 0xe2088235u /* Unicode, NTLM, ESS, Version, 128, 56... */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void header(struct buf *b, uint32_t type)
{
	buf_append(b, "NTLMSSP", 8);
	uint8_t t[4];
	put32(t, type);
	buf_append(b, t, 4);
}

static void field(uint8_t *desc, size_t len, size_t off)
{
	desc[0] = (uint8_t)len;
	desc[1] = (uint8_t)(len >> 8);
	desc[2] = desc[0];
	desc[3] = desc[1];
	put32(desc + 4, (uint32_t)off);
}

/* An AUTHENTICATE with domain and user (ASCII given, stored as UTF-16LE
 * when unicode), its payload after a Version field or not. */
static void authenticate(struct buf *b, const char *domain, const char *user,
			 bool version, bool unicode)
{
	header(b, 3);
	uint8_t fixed[52];
	memset(fixed, 0, sizeof(fixed));
	size_t base = version ? 72 : 64;
	struct buf payload = BUF_INIT;
	static const uint8_t nt[48] = { 1, 2, 3 };
	const char *texts[2] = { domain, user };
	size_t at[6], len[6];
	at[0] = 0, len[0] = 0;                    /* LM */
	at[1] = payload.len, len[1] = sizeof(nt); /* NT */
	buf_append(&payload, nt, sizeof(nt));
	for (int i = 0; i < 2; i++) {
		at[2 + i] = payload.len;
		for (const char *p = texts[i]; *p; p++) {
			buf_append_byte(&payload, (uint8_t)*p);
			if (unicode)
				buf_append_byte(&payload, 0);
		}
		len[2 + i] = payload.len - at[2 + i];
	}
	at[4] = payload.len, len[4] = 0; /* workstation */
	at[5] = payload.len, len[5] = 0; /* session key */
	for (int i = 0; i < 6; i++)
		field(fixed + 8 * i, len[i], base + at[i]);
	put32(fixed + 48, unicode ? FLAGS : (FLAGS & ~1u) | 2u);
	buf_append(b, fixed, sizeof(fixed));
	if (version)
		buf_append(b, "\x0a\x00\x61\x4a\x00\x00\x00\x0f", 8);
	buf_append(b, payload.data, payload.len);
	buf_release(&payload);
}

static void test_negotiate(void)
{
	for (size_t n = 12; n <= 48; n += 4) {
		struct buf b = BUF_INIT;
		header(&b, 1);
		while (b.len < n)
			buf_append_byte(&b, 0xaa);
		struct buf orig = BUF_INIT;
		buf_append(&orig, b.data, b.len);
		ntlm_normalize(&b);
		size_t want = n >= 16 && n < 40 ? 40 : n;
		bool zeros = true;
		for (size_t i = n; i < b.len; i++)
			zeros = zeros && b.data[i] == 0;
		ok(b.len == want && memcmp(b.data, orig.data, n) == 0 && zeros,
		   "NEGOTIATE of %zu bytes: %zu bytes after, zeros appended", n,
		   want);
		buf_release(&b);
		buf_release(&orig);
	}
	struct buf b = BUF_INIT;
	buf_append(&b, "NTLMSSX\0\1\0\0\0\0\0\0\0", 16);
	ntlm_normalize(&b);
	is_int(b.len, 16, "another signature: left alone");
	buf_release(&b);
}

static void test_authenticate(void)
{
	struct buf b = BUF_INIT;
	authenticate(&b, "WINRMD", "alice", false, true);
	struct buf orig = BUF_INIT;
	buf_append(&orig, b.data, b.len);
	ntlm_normalize(&b);
	is_int(get32(b.data + 60), FLAGS & ~NTLMSSP_NEGOTIATE_VERSION,
	       "AUTHENTICATE without Version: the Version flag is cleared");
	ok(b.len == orig.len && memcmp(b.data, orig.data, 60) == 0 &&
		   memcmp(b.data + 64, orig.data + 64, b.len - 64) == 0,
	   "and nothing else changes");
	buf_release(&b);
	buf_release(&orig);

	authenticate(&b, "WINRMD", "alice", true, true);
	buf_append(&orig, b.data, b.len);
	ntlm_normalize(&b);
	ok(b.len == orig.len && memcmp(b.data, orig.data, b.len) == 0,
	   "AUTHENTICATE with its Version: unchanged");
	buf_release(&b);
	buf_release(&orig);

	header(&b, 3);
	while (b.len < 63)
		buf_append_byte(&b, 0);
	ntlm_normalize(&b);
	is_int(b.len, 63, "a 63-byte AUTHENTICATE (no flags): left alone");
	buf_release(&b);
}

static void test_claimed(void)
{
	struct buf b = BUF_INIT;
	authenticate(&b, "WINRMD", "alice", false, true);
	char *s = ntlm_claimed(&b);
	is_str(s, "WINRMD\\alice", "Unicode AUTHENTICATE: DOMAIN\\user");
	free(s);
	buf_release(&b);

	authenticate(&b, "", "alice", true, true);
	s = ntlm_claimed(&b);
	is_str(s, "alice", "no domain: the bare user name");
	free(s);
	buf_release(&b);

	authenticate(&b, "DOM",
		     "b\x01o\x7f"
		     "b",
		     false, false);
	s = ntlm_claimed(&b);
	is_str(s, "DOM\\b?o?b", "OEM: control bytes become '?'");
	free(s);
	buf_release(&b);

	/* inside SPNEGO: some bytes before it, offsets relative to it */
	struct buf inner = BUF_INIT;
	authenticate(&inner, "WINRMD", "carol", false, true);
	buf_append(&b, "\xa1\x81\xff\x30\x81\xfc\xa2\x81\xf9\x04\x81\xf6", 12);
	buf_append(&b, inner.data, inner.len);
	s = ntlm_claimed(&b);
	is_str(s, "WINRMD\\carol", "inside SPNEGO");
	free(s);

	/* the user field pointing past the end */
	put32(inner.data + 36 + 4, 0xfffffff0u);
	s = ntlm_claimed(&inner);
	ok(s == NULL, "a field outside the token: no name");
	buf_release(&inner);
	buf_release(&b);

	header(&b, 1);
	while (b.len < 40)
		buf_append_byte(&b, 0);
	ok(ntlm_claimed(&b) == NULL, "a NEGOTIATE claims no name");
	buf_release(&b);
}

int main(void)
{
	test_negotiate();
	test_authenticate();
	test_claimed();
	return tap_done();
}
