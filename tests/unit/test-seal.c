/* test-seal.c - the MS-WSMV encrypted body framing (listener/auth/seal.c):
 * golden bytes of what the server sends, parsing of what each client
 * sends (pywinrm, Go, pypsrp, Ruby old and new, .NET on Linux, Exchange's
 * spacing), x-multi-encrypted, the CRLF rule, and every malformed body. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listener/auth/seal.h"
#include "tests/lib/tap.h"

#define CT_SPNEGO                                                              \
	"multipart/encrypted;protocol=\"" SEAL_PROTO_SPNEGO                    \
	"\";boundary=\"Encrypted Boundary\""
#define CT_KERBEROS                                                            \
	"multipart/encrypted;protocol=\"" SEAL_PROTO_KERBEROS                  \
	"\";boundary=\"Encrypted Boundary\""
#define CT_CREDSSP_MULTI                                                       \
	"multipart/x-multi-encrypted;protocol=\"" SEAL_PROTO_CREDSSP           \
	"\";boundary=\"Encrypted Boundary\""
#define CT_SPNEGO_MULTI                                                        \
	"multipart/x-multi-encrypted;protocol=\"" SEAL_PROTO_SPNEGO            \
	"\";boundary=\"Encrypted Boundary\""

/* An NTLM signature (version 1), a CFX header and an RC4 header start. */
static const uint8_t ntlm_sig[16] = { 1,    0,    0,    0,    0xa1, 0xa2,
				      0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
				      5,    0,    0,    0 };
static uint8_t cfx_hdr[60];
static uint8_t rc4_hdr[45];

static void le32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };
	buf_append(b, x, 4);
}

/* Sealed bytes with NULs, CRs and dashes in them. */
static void sealed_bytes(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 31 + seed * 7) ^ (i >> 3));
	if (n > 8) {
		p[1] = 0;
		p[2] = '\r';
		p[3] = '\n';
		p[4] = '-';
		p[5] = '-';
	}
}

/* One group in a client's spelling. */
struct style {
	const char *tab;    /* "\t" or "" */
	const char *eol;    /* "\r\n" or "\n" */
	const char *dashes; /* "--" or "-- " */
	const char *protocol;
	const char *charset;
	const char *boundary;
};

static const struct style pywinrm = { "\t",    "\r\n",
				      "--",    SEAL_PROTO_SPNEGO,
				      "UTF-8", "Encrypted Boundary" };

static void group(struct buf *b, const struct style *s, const char *length,
		  const uint8_t *hdr, size_t hlen, const uint8_t *sealed,
		  size_t slen)
{
	buf_printf(b, "%s%s%s", s->dashes, s->boundary, s->eol);
	buf_printf(b, "%sContent-Type: %s%s", s->tab, s->protocol, s->eol);
	buf_printf(b,
		   "%sOriginalContent: type=application/soap+xml;"
		   "charset=%s;Length=%s%s",
		   s->tab, s->charset, length, s->eol);
	buf_printf(b, "%s%s%s", s->dashes, s->boundary, s->eol);
	buf_printf(b, "%sContent-Type: application/octet-stream%s", s->tab,
		   s->eol);
	le32(b, (uint32_t)hlen);
	buf_append(b, hdr, hlen);
	buf_append(b, sealed, slen);
}

static void group_n(struct buf *b, const struct style *s, size_t n,
		    const uint8_t *hdr, size_t hlen, const uint8_t *sealed,
		    size_t slen)
{
	char len[32];
	snprintf(len, sizeof(len), "%zu", n);
	group(b, s, len, hdr, hlen, sealed, slen);
}

static int parse(const struct buf *b, const char *ct, struct seal_message *m,
		 const char **err)
{
	return seal_parse(b->data, b->len, ct, m, err);
}

static bool part_is(const struct seal_part *p, const uint8_t *hdr, size_t hlen,
		    const uint8_t *sealed, size_t slen)
{
	return p->hdr_len == hlen && memcmp(p->hdr, hdr, hlen) == 0 &&
	       p->sealed_len == slen && memcmp(p->sealed, sealed, slen) == 0;
}

static void test_golden(void)
{
	uint8_t sealed[5] = { 's', 'e', 'a', 'l', 'd' };
	struct buf b = BUF_INIT;
	static const char want[] =
		"--Encrypted Boundary\r\n"
		"\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
		"\tOriginalContent: type=application/soap+xml;charset=UTF-8;"
		"Length=5\r\n"
		"--Encrypted Boundary\r\n"
		"\tContent-Type: application/octet-stream\r\n"
		"\x10\x00\x00\x00"
		"\x01\x00\x00\x00\xa1\xa2\xa3\xa4"
		"\xa5\xa6\xa7\xa8\x05\x00\x00\x00"
		"seald"
		"--Encrypted Boundary--\r\n";

	seal_build(&b, SEAL_PROTO_SPNEGO, "application/soap+xml;charset=UTF-8",
		   5, ntlm_sig, 16, sealed, 5);
	seal_finish(&b);
	ok(b.len == sizeof(want) - 1 && memcmp(b.data, want, b.len) == 0,
	   "golden: NTLM response body byte for byte (%zu bytes)", b.len);
	ok(memcmp(b.data + b.len - 29, "seald--Encrypted Boundary--\r\n", 29) ==
		   0,
	   "golden: no CRLF between the sealed data and the closing boundary");
	ok(memmem(b.data, b.len,
		  "\r\n\tContent-Type: application/octet-stream"
		  "\r\n",
		  43) != NULL,
	   "golden: the octet-stream header has its tab");

	/* Kerberos, 60-byte header, two groups */
	buf_reset(&b);
	uint8_t big[300];
	sealed_bytes(big, sizeof(big), 1);
	seal_build(&b, SEAL_PROTO_KERBEROS,
		   "application/soap+xml;charset=UTF-16", 300, cfx_hdr, 60, big,
		   300);
	size_t first = b.len;
	seal_build(&b, SEAL_PROTO_KERBEROS,
		   "application/soap+xml;charset=UTF-16", 7, cfx_hdr, 60, big,
		   7);
	seal_finish(&b);
	struct buf want2 = BUF_INIT;
	buf_append_str(&want2,
		       "--Encrypted Boundary\r\n\tContent-Type: "
		       "application/HTTP-Kerberos-session-encrypted\r\n"
		       "\tOriginalContent: type=application/soap+xml;"
		       "charset=UTF-16;Length=300\r\n--Encrypted Boundary\r\n"
		       "\tContent-Type: application/octet-stream\r\n");
	le32(&want2, 60);
	buf_append(&want2, cfx_hdr, 60);
	buf_append(&want2, big, 300);
	ok(first == want2.len && memcmp(b.data, want2.data, first) == 0,
	   "golden: Kerberos group with Length=300 and LE32(60)");
	ok(memcmp(b.data + b.len - 31, big, 7) == 0 &&
		   memcmp(b.data + b.len - 24, "--Encrypted Boundary--\r\n",
			  24) == 0,
	   "golden: second group, then the closing boundary");

	/* what we build, we parse */
	struct seal_message m;
	const char *err;
	is_int(parse(&b, CT_KERBEROS, &m, &err), 0, "built body parses back");
	ok(m.nparts == 2 && part_is(&m.parts[0], cfx_hdr, 60, big, 300) &&
		   part_is(&m.parts[1], cfx_hdr, 60, big, 7),
	   "both parts come back with the same bytes");
	ok(m.charset == SEAL_UTF16 && m.total_length == 307,
	   "UTF-16 and a total of 307");
	is_str(m.content_type, "application/soap+xml;charset=UTF-16",
	       "decrypted content type is UTF-16");
	seal_message_release(&m);
	buf_release(&want2);
	buf_release(&b);
}

static void test_content_types(void)
{
	char proto[SEAL_PROTOCOL_MAX];

	is_str(seal_response_content_type(SEAL_PROTO_SPNEGO, false),
	       "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-"
	       "encrypted\";boundary=\"Encrypted Boundary\"",
	       "response Content-Type, SPNEGO");
	is_str(seal_response_content_type(SEAL_PROTO_KERBEROS, false),
	       CT_KERBEROS, "response Content-Type, Kerberos");
	is_str(seal_response_content_type("application/http-credssp-session-"
					  "encrypted",
					  true),
	       CT_CREDSSP_MULTI,
	       "response Content-Type, CredSSP multi (protocol in any case)");
	ok(seal_response_content_type("application/HTTP-Foo", false) == NULL &&
		   seal_response_content_type(NULL, false) == NULL,
	   "unknown protocol: no Content-Type");

	ok(seal_is_encrypted(CT_SPNEGO, proto, sizeof(proto)) &&
		   strcmp(proto, SEAL_PROTO_SPNEGO) == 0,
	   "pywinrm's Content-Type is encrypted, SPNEGO");
	ok(seal_is_encrypted("Multipart/Encrypted ; Protocol = "
			     "application/http-kerberos-session-encrypted ; "
			     "BOUNDARY=Encrypted Boundary",
			     proto, sizeof(proto)) &&
		   strcmp(proto, SEAL_PROTO_KERBEROS) == 0,
	   "unquoted, spaced, any case: Kerberos, canonical spelling");
	ok(seal_is_encrypted(CT_CREDSSP_MULTI, proto, sizeof(proto)) &&
		   strcmp(proto, SEAL_PROTO_CREDSSP) == 0,
	   "x-multi-encrypted CredSSP is recognised");
	ok(seal_is_encrypted("multipart/encrypted;protocol=\"" SEAL_PROTO_SPNEGO
			     "\"",
			     NULL, 0),
	   "no boundary parameter is fine (default boundary)");
	ok(!seal_is_encrypted("application/soap+xml;charset=UTF-8", proto,
			      sizeof(proto)) &&
		   proto[0] == '\0',
	   "SOAP is not encrypted");
	ok(!seal_is_encrypted("multipart/encrypted;protocol=\"application/"
			      "HTTP-Digest-session-encrypted\"",
			      proto, sizeof(proto)),
	   "unknown protocol is not encrypted");
	ok(!seal_is_encrypted("multipart/encrypted;boundary=x", proto,
			      sizeof(proto)),
	   "no protocol is not encrypted");
	ok(!seal_is_encrypted(NULL, proto, sizeof(proto)),
	   "no Content-Type is not encrypted");
	ok(!seal_is_encrypted(
		   "multipart/encryptedx;protocol=\"" SEAL_PROTO_SPNEGO "\"",
		   proto, sizeof(proto)),
	   "a longer media type is not encrypted");

	ok(seal_length_ok(100, 100, 100) && seal_length_ok(101, 100, 101) &&
		   seal_length_ok(100, 100, 101) &&
		   !seal_length_ok(102, 100, 101) &&
		   !seal_length_ok(99, 100, 100),
	   "Length= agrees with the plaintext or the sealed length");
}

/* Bodies as each client writes them. */
static void test_clients(void)
{
	struct buf b = BUF_INIT;
	struct seal_message m;
	const char *err;
	uint8_t s[1000];
	sealed_bytes(s, sizeof(s), 2);

	/* pywinrm / Go: tabs, closing right after the data */
	group_n(&b, &pywinrm, 1000, ntlm_sig, 16, s, 1000);
	buf_append_str(&b, "--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0, "pywinrm/Go body parses");
	ok(m.nparts == 1 && part_is(&m.parts[0], ntlm_sig, 16, s, 1000) &&
		   m.parts[0].original_length == 1000 &&
		   !m.parts[0].crlf_trimmed,
	   "pywinrm: signature, 1000 sealed bytes with CR, LF, NUL, dashes");
	ok(!m.multi && !m.credssp && m.charset == SEAL_UTF8 &&
		   strcmp(m.protocol, SEAL_PROTO_SPNEGO) == 0,
	   "pywinrm: SPNEGO, UTF-8, not multi");
	is_str(m.content_type, "application/soap+xml;charset=UTF-8",
	       "pywinrm: decrypted content type");
	seal_message_release(&m);

	/* Ruby (WinRM 2.x): no tabs, Kerberos, Length = plain + pad (RC4) */
	struct style ruby = { "",      "\r\n",
			      "--",    SEAL_PROTO_KERBEROS,
			      "UTF-8", "Encrypted Boundary" };
	buf_reset(&b);
	group_n(&b, &ruby, 501, rc4_hdr, 45, s, 501);
	buf_append_str(&b, "--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_KERBEROS, &m, &err), 0,
	       "Ruby body (no tabs) parses");
	ok(m.nparts == 1 && part_is(&m.parts[0], rc4_hdr, 45, s, 501),
	   "Ruby: 45-byte RC4 header, 501 sealed bytes");
	seal_message_release(&m);

	/* Ruby's older Kerberos transport: ends with a plain delimiter */
	buf_reset(&b);
	group_n(&b, &ruby, 300, cfx_hdr, 60, s, 300);
	buf_append_str(&b, "--Encrypted Boundary\r\n");
	is_int(parse(&b, CT_KERBEROS, &m, &err), 0,
	       "old Ruby body (no closing \"--\") parses");
	ok(m.nparts == 1 && part_is(&m.parts[0], cfx_hdr, 60, s, 300),
	   "old Ruby: the sealed data ends at the plain delimiter");
	seal_message_release(&m);

	/* pypsrp: tabs, Length = plain + padding, RC4 pywinrm-style */
	buf_reset(&b);
	group_n(&b, &pywinrm, 700, rc4_hdr, 45, s, 701);
	buf_append_str(&b, "--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0,
	       "RC4 with pywinrm's Length= (plaintext only) parses");
	ok(m.parts[0].sealed_len == 701 && m.parts[0].original_length == 700,
	   "RC4: Length=700 for 701 sealed bytes");
	seal_message_release(&m);

	/* .NET on Linux: bare LF line ends, no tabs */
	struct style dotnet = { "",      "\n",
				"--",    SEAL_PROTO_SPNEGO,
				"UTF-8", "Encrypted Boundary" };
	buf_reset(&b);
	group_n(&b, &dotnet, 64, ntlm_sig, 16, s, 64);
	buf_append_str(&b, "--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0,
	       ".NET body with LF lines parses");
	ok(m.nparts == 1 && part_is(&m.parts[0], ntlm_sig, 16, s, 64),
	   ".NET: data starts after the LF");
	seal_message_release(&m);

	/* Exchange: "-- Encrypted Boundary", mixed case header names */
	buf_reset(&b);
	buf_append_str(&b, "-- Encrypted Boundary\r\n"
			   "  content-type :  application/http-spnego-session-"
			   "encrypted \r\n"
			   "\toriginalcontent: TYPE=application/soap+xml ; "
			   "Length=10 ; CHARSET=utf-16\r\n"
			   "X-Other: ignored\r\n"
			   "-- Encrypted Boundary  \r\n"
			   "\tCONTENT-TYPE: Application/Octet-Stream\r\n");
	le32(&b, 16);
	buf_append(&b, ntlm_sig, 16);
	buf_append(&b, s, 10);
	buf_append_str(&b, "-- Encrypted Boundary--\r\n\r\n");
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0,
	       "Exchange spacing, any case, fields in any order");
	ok(m.nparts == 1 && part_is(&m.parts[0], ntlm_sig, 16, s, 10) &&
		   m.charset == SEAL_UTF16,
	   "Exchange style: 10 bytes, UTF-16");
	seal_message_release(&m);

	/* another boundary, named unquoted */
	struct style other = { "\t",    "\r\n",    "--", SEAL_PROTO_SPNEGO,
			       "UTF-8", "xyzzy-42" };
	buf_reset(&b);
	group_n(&b, &other, 20, ntlm_sig, 16, s, 20);
	buf_append_str(&b, "--xyzzy-42--\r\n");
	is_int(parse(&b,
		     "multipart/encrypted;boundary=xyzzy-42;protocol=" SEAL_PROTO_SPNEGO,
		     &m, &err),
	       0, "custom boundary from the Content-Type");
	seal_message_release(&m);

	/* the boundary text inside the ciphertext, not at a line end */
	uint8_t tricky[64];
	memcpy(tricky,
	       "x--Encrypted BoundaryX--Encrypted Boundary-y-"
	       "--Encrypted B0undary\r\n",
	       62);
	buf_reset(&b);
	group_n(&b, &pywinrm, 62, ntlm_sig, 16, tricky, 62);
	buf_append_str(&b, "--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0,
	       "boundary text inside the sealed data");
	ok(m.nparts == 1 && m.parts[0].sealed_len == 62,
	   "only a delimiter followed by -- or a line end ends the data");
	seal_message_release(&m);

	/* empty plaintext */
	buf_reset(&b);
	group_n(&b, &pywinrm, 0, ntlm_sig, 16, s, 0);
	buf_append_str(&b, "--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0, "Length=0, no sealed bytes");
	ok(m.parts[0].sealed_len == 0 && m.total_length == 0, "empty part");
	seal_message_release(&m);

	/* leading blank lines before the first delimiter */
	buf_reset(&b);
	buf_append_str(&b, "\r\n  \r\n");
	group_n(&b, &pywinrm, 5, ntlm_sig, 16, s, 5);
	buf_append_str(&b, "--Encrypted Boundary--");
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0,
	       "leading blank lines, closing without CRLF");
	seal_message_release(&m);
	buf_release(&b);
}

static void test_crlf(void)
{
	struct buf b = BUF_INIT;
	struct seal_message m;
	const char *err;
	uint8_t s[100];
	sealed_bytes(s, sizeof(s), 3);

	group_n(&b, &pywinrm, 100, ntlm_sig, 16, s, 100);
	buf_append_str(&b, "\r\n--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0,
	       "NTLM with a CRLF before the "
	       "closing boundary parses");
	ok(m.parts[0].crlf_trimmed &&
		   part_is(&m.parts[0], ntlm_sig, 16, s, 100),
	   "NTLM: the stray CRLF is cut and reported");
	seal_message_release(&m);

	struct style k = pywinrm;
	k.protocol = SEAL_PROTO_KERBEROS;
	buf_reset(&b);
	group_n(&b, &k, 100, cfx_hdr, 60, s, 100);
	buf_append_str(&b, "\r\n--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_KERBEROS, &m, &err), 0, "CFX with a stray CRLF");
	ok(m.parts[0].crlf_trimmed && m.parts[0].sealed_len == 100,
	   "CFX: the stray CRLF is cut");
	seal_message_release(&m);

	/* RC4 (RFC 1964 token): never cut */
	buf_reset(&b);
	group_n(&b, &k, 98, rc4_hdr, 45, s, 98);
	buf_append_str(&b, "\r\n--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_KERBEROS, &m, &err), 0, "RC4 with a CRLF parses");
	ok(!m.parts[0].crlf_trimmed && m.parts[0].sealed_len == 100,
	   "RC4: a trailing CRLF stays part of the sealed data");
	seal_message_release(&m);

	/* a real ciphertext ending in CRLF with the right length stays */
	uint8_t crlf_end[20];
	sealed_bytes(crlf_end, sizeof(crlf_end), 4);
	crlf_end[18] = '\r';
	crlf_end[19] = '\n';
	buf_reset(&b);
	group_n(&b, &pywinrm, 20, ntlm_sig, 16, crlf_end, 20);
	buf_append_str(&b, "--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0,
	       "sealed data that ends in CRLF");
	ok(!m.parts[0].crlf_trimmed && m.parts[0].sealed_len == 20,
	   "its own CRLF is not cut (the length matches already)");
	seal_message_release(&m);
	buf_release(&b);
}

static void test_multi(void)
{
	struct buf b = BUF_INIT;
	struct seal_message m;
	const char *err;
	static uint8_t s[SEAL_CHUNK + 64];
	sealed_bytes(s, sizeof(s), 5);

	struct style cs = pywinrm;
	cs.protocol = SEAL_PROTO_CREDSSP;
	/* pywinrm/pypsrp CredSSP: 16 KiB chunks, TLS overhead in the data */
	group_n(&b, &cs, SEAL_CHUNK, (const uint8_t *)"\x10", 1, s,
		SEAL_CHUNK + 37);
	group_n(&b, &cs, SEAL_CHUNK, (const uint8_t *)"\x10", 1, s,
		SEAL_CHUNK + 37);
	group_n(&b, &cs, 100, (const uint8_t *)"\x10", 1, s, 137);
	buf_append_str(&b, "--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_CREDSSP_MULTI, &m, &err), 0,
	       "x-multi-encrypted, 3 chunks");
	ok(m.multi && m.credssp && m.nparts == 3 &&
		   m.total_length == 2 * SEAL_CHUNK + 100 &&
		   m.parts[1].sealed_len == SEAL_CHUNK + 37 &&
		   m.parts[2].sealed_len == 137,
	   "x-multi: CredSSP, 3 parts, lengths right");
	seal_message_release(&m);

	/* a chunk over 16 KiB */
	buf_reset(&b);
	group_n(&b, &pywinrm, SEAL_CHUNK + 1, ntlm_sig, 16, s, SEAL_CHUNK + 1);
	buf_append_str(&b, "--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_SPNEGO_MULTI, &m, &err), -1,
	       "x-multi chunk of 16385 refused");
	is_str(err, "x-multi-encrypted part longer than 16384 bytes",
	       "its reason");
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0,
	       "the same group under multipart/encrypted is fine");
	seal_message_release(&m);

	/* 4096 groups are fine, 4097 are not */
	buf_reset(&b);
	for (int i = 0; i < SEAL_MAX_PARTS; i++)
		group_n(&b, &pywinrm, 3, ntlm_sig, 16, s, 3);
	size_t at = b.len;
	buf_append_str(&b, "--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0, "4096 groups parse");
	ok(m.nparts == SEAL_MAX_PARTS && m.total_length == 3 * SEAL_MAX_PARTS,
	   "4096 parts, 12288 bytes");
	seal_message_release(&m);
	b.len = at;
	group_n(&b, &pywinrm, 3, ntlm_sig, 16, s, 3);
	buf_append_str(&b, "--Encrypted Boundary--\r\n");
	is_int(parse(&b, CT_SPNEGO, &m, &err), -1, "4097 groups refused");
	is_str(err, "too many encrypted parts", "its reason");
	ok(m.parts == NULL && m.nparts == 0, "a refusal leaves *out empty");
	buf_release(&b);
}

/* --- malformed bodies --- */

enum variant {
	V_GOOD, /* the pywinrm body */
	V_EMPTY,
	V_GARBAGE,
	V_ONLY_CLOSE,
	V_ONLY_DELIM,
	V_DELIM_JUNK,
	V_META_TRUNC,
	V_META_NOCOLON,
	V_META_WRONG_PROTO,
	V_META_OC_TWICE,
	V_META_NO_CT,
	V_META_NO_OC,
	V_LEN_MISSING,
	V_LEN_EMPTY,
	V_LEN_GARBAGE,
	V_LEN_NEGATIVE,
	V_LEN_HUGE,
	V_LEN_OVER_CAP,
	V_LEN_TWICE,
	V_CHARSET_TWICE,
	V_CHARSET_BAD,
	V_TYPE_BAD,
	V_CLOSE_AFTER_META,
	V_DATA_NO_CT,
	V_DATA_CT_BAD,
	V_DATA_NOCOLON,
	V_DATA_UNTERMINATED,
	V_SIGLEN_TRUNC,
	V_SIGLEN_ZERO,
	V_SIGLEN_BIG,
	V_SIGLEN_OVER,
	V_NO_CLOSING,
	V_LEN_OVER_SEALED,
	V_TRAILING_JUNK,
	V_CHARSET_MIXED,
	V_SECOND_DELIM_JUNK,
};

static void make(struct buf *b, enum variant v)
{
	uint8_t s[64];
	sealed_bytes(s, sizeof(s), 6);
	const char *t = "\t";
	const char *ct = "Content-Type: " SEAL_PROTO_SPNEGO "\r\n";
	const char *oc = "OriginalContent: type=application/soap+xml;"
			 "charset=UTF-8;Length=64\r\n";

	buf_reset(b);
	switch (v) {
	case V_EMPTY: return;
	case V_GARBAGE: buf_append_str(b, "hello world\r\n"); return;
	case V_ONLY_CLOSE:
		buf_append_str(b, "--Encrypted Boundary--\r\n");
		return;
	case V_ONLY_DELIM:
		buf_append_str(b, "--Encrypted Boundary\r\n");
		return;
	case V_DELIM_JUNK:
		buf_append_str(b, "--Encrypted BoundaryXYZ\r\n"
				  "\tContent-Type: x\r\n");
		return;
	case V_META_TRUNC:
		buf_printf(b, "--Encrypted Boundary\r\n%s%s", t, ct);
		return;
	case V_META_NOCOLON:
		buf_printf(b, "--Encrypted Boundary\r\n%s%s\tnot a header\r\n",
			   t, ct);
		break;
	case V_META_WRONG_PROTO:
		buf_printf(b,
			   "--Encrypted Boundary\r\n\tContent-Type: %s\r\n"
			   "%s%s",
			   SEAL_PROTO_KERBEROS, t, oc);
		break;
	case V_META_OC_TWICE:
		buf_printf(b, "--Encrypted Boundary\r\n%s%s%s%s%s%s", t, ct, t,
			   oc, t, oc);
		break;
	case V_META_NO_CT:
		buf_printf(b, "--Encrypted Boundary\r\n%s%s", t, oc);
		break;
	case V_META_NO_OC:
		buf_printf(b, "--Encrypted Boundary\r\n%s%s", t, ct);
		break;
	case V_LEN_MISSING:
	case V_LEN_EMPTY:
	case V_LEN_GARBAGE:
	case V_LEN_NEGATIVE:
	case V_LEN_HUGE:
	case V_LEN_OVER_CAP:
	case V_LEN_TWICE:
	case V_CHARSET_TWICE:
	case V_CHARSET_BAD:
	case V_TYPE_BAD: {
		const char *f =
			v == V_LEN_MISSING    ? "type=application/soap+xml"
			: v == V_LEN_EMPTY    ? "charset=UTF-8;Length="
			: v == V_LEN_GARBAGE  ? "charset=UTF-8;Length=64x"
			: v == V_LEN_NEGATIVE ? "charset=UTF-8;Length=-64"
			: v == V_LEN_HUGE     ? "Length=184467440737095516160"
			: v == V_LEN_OVER_CAP ? "Length=67108865"
			: v == V_LEN_TWICE    ? "Length=64;Length=64"
			: v == V_CHARSET_TWICE
				? "charset=UTF-8;charset=UTF-8;Length=64"
			: v == V_CHARSET_BAD ? "charset=ISO-8859-1;Length=64"
					     : "type=text/xml;Length=64";
		buf_printf(b,
			   "--Encrypted Boundary\r\n\t%s\tOriginalContent: "
			   "%s\r\n",
			   ct, f);
		break;
	}
	case V_CLOSE_AFTER_META:
		buf_printf(b,
			   "--Encrypted Boundary\r\n\t%s\t%s"
			   "--Encrypted Boundary--\r\n",
			   ct, oc);
		return;
	default:
		buf_printf(b, "--Encrypted Boundary\r\n\t%s\t%s", ct, oc);
		break;
	}
	if (v == V_SECOND_DELIM_JUNK) {
		buf_append_str(b, "--Encrypted Boundary junk\r\n");
		return;
	}
	buf_append_str(b, "--Encrypted Boundary\r\n");
	switch (v) {
	case V_DATA_NO_CT:
		buf_append_str(b, "\tX-Thing: 1\r\n--Encrypted Boundary--\r\n");
		return;
	case V_DATA_CT_BAD:
		buf_append_str(b, "\tContent-Type: text/plain\r\n");
		break;
	case V_DATA_NOCOLON: buf_append_str(b, "\tjunk line\r\n"); break;
	case V_DATA_UNTERMINATED:
		buf_append_str(b, "\tContent-Type: application/octet-stream");
		return;
	default:
		buf_append_str(b,
			       "\tContent-Type: application/octet-stream\r\n");
		break;
	}
	switch (v) {
	case V_SIGLEN_TRUNC: buf_append(b, "\x10\x00", 2); return;
	case V_SIGLEN_ZERO: le32(b, 0); break;
	case V_SIGLEN_BIG: le32(b, SEAL_MAX_HEADER + 1); break;
	case V_SIGLEN_OVER: le32(b, 1000); break;
	default: le32(b, 16); break;
	}
	buf_append(b, ntlm_sig, 16);
	if (v == V_LEN_OVER_SEALED) {
		buf_append(b, s, 63);
		buf_append_str(b, "--Encrypted Boundary--\r\n");
		return;
	}
	buf_append(b, s, 64);
	if (v == V_SIGLEN_OVER) {
		buf_append_str(b, "--Encrypted Boundary--\r\n");
		return;
	}
	if (v == V_NO_CLOSING)
		return;
	if (v == V_CHARSET_MIXED) {
		struct style u16 = pywinrm;
		u16.charset = "UTF-16";
		group_n(b, &u16, 64, ntlm_sig, 16, s, 64);
	}
	buf_append_str(b, "--Encrypted Boundary--\r\n");
	if (v == V_TRAILING_JUNK)
		buf_append_str(b, "epilogue\r\n");
}

static const struct {
	enum variant v;
	const char *why;
} bad_bodies[] = {
	{ V_EMPTY, "empty encrypted body" },
	{ V_GARBAGE, "body does not start with the boundary" },
	{ V_ONLY_CLOSE, "no encrypted parts" },
	{ V_ONLY_DELIM, "boundary line has no part after it" },
	{ V_DELIM_JUNK, "boundary line has trailing characters" },
	{ V_META_TRUNC, "body ends inside the metadata part" },
	{ V_META_NOCOLON, "malformed header line in the metadata part" },
	{ V_META_WRONG_PROTO,
	  "metadata part Content-Type does not match the protocol" },
	{ V_META_OC_TWICE, "metadata part has OriginalContent twice" },
	{ V_META_NO_CT, "metadata part has no Content-Type" },
	{ V_META_NO_OC, "metadata part has no OriginalContent" },
	{ V_LEN_MISSING, "OriginalContent has no Length=" },
	{ V_LEN_EMPTY, "OriginalContent Length= is empty" },
	{ V_LEN_GARBAGE, "OriginalContent Length= is not a decimal number" },
	{ V_LEN_NEGATIVE, "OriginalContent Length= is not a decimal number" },
	{ V_LEN_HUGE, "OriginalContent Length= too large" },
	{ V_LEN_OVER_CAP, "OriginalContent Length= too large" },
	{ V_LEN_TWICE, "OriginalContent has Length= twice" },
	{ V_CHARSET_TWICE, "OriginalContent has charset= twice" },
	{ V_CHARSET_BAD, "unsupported charset in OriginalContent" },
	{ V_TYPE_BAD, "OriginalContent type is not application/soap+xml" },
	{ V_CLOSE_AFTER_META, "group ends before its data part" },
	{ V_DATA_NO_CT,
	  "data part has no application/octet-stream Content-Type" },
	{ V_DATA_CT_BAD,
	  "data part Content-Type is not application/octet-stream" },
	{ V_DATA_NOCOLON, "malformed header line in the data part" },
	{ V_DATA_UNTERMINATED, "body ends before the encrypted data" },
	{ V_SIGLEN_TRUNC, "body ends inside the signature length field" },
	{ V_SIGLEN_ZERO, "signature length is zero" },
	{ V_SIGLEN_BIG, "signature length too large" },
	{ V_SIGLEN_OVER, "signature length exceeds the data" },
	{ V_NO_CLOSING, "no boundary after the encrypted data" },
	{ V_LEN_OVER_SEALED,
	  "OriginalContent Length= exceeds the sealed data" },
	{ V_TRAILING_JUNK, "data after the closing boundary" },
	{ V_CHARSET_MIXED, "charset differs between parts" },
	{ V_SECOND_DELIM_JUNK, "boundary line has trailing characters" },
};

static void test_malformed(void)
{
	struct buf b = BUF_INIT;
	struct seal_message m;
	const char *err;
	size_t n = sizeof(bad_bodies) / sizeof(bad_bodies[0]);

	make(&b, V_GOOD);
	is_int(parse(&b, CT_SPNEGO, &m, &err), 0, "the base body parses");
	seal_message_release(&m);
	for (size_t i = 0; i < n; i++) {
		make(&b, bad_bodies[i].v);
		m.nparts = 99;
		int rc = parse(&b, CT_SPNEGO, &m, &err);
		ok(rc == -1 && err != NULL &&
			   strcmp(err, bad_bodies[i].why) == 0 &&
			   m.parts == NULL && m.nparts == 0,
		   "malformed #%d refused: %s", (int)bad_bodies[i].v,
		   bad_bodies[i].why);
		if (rc == -1 && strcmp(err, bad_bodies[i].why) != 0)
			tap_diag("got: %s", err);
		seal_message_release(&m);
	}
	/* every truncation of a good body is refused, never read past (the
	 * final "--\r\n" is optional: Ruby's old plain delimiter) */
	make(&b, V_GOOD);
	int bad = 0;
	for (size_t cut = 0; cut < b.len - 4; cut++) {
		uint8_t *copy = xmalloc(cut + 1);
		memcpy(copy, b.data, cut);
		if (seal_parse(copy, cut, CT_SPNEGO, &m, &err) == 0)
			bad++;
		seal_message_release(&m);
		free(copy);
	}
	is_int(bad, 0, "all %zu truncations of the body are refused",
	       b.len - 4);

	/* Content-Type refusals */
	static const struct {
		const char *ct, *why;
	} cts[] = {
		{ NULL, "no Content-Type" },
		{ "application/soap+xml;charset=UTF-8",
		  "Content-Type is not multipart/encrypted" },
		{ "multipart/encrypted;boundary=\"Encrypted Boundary\"",
		  "Content-Type has no protocol parameter" },
		{ "multipart/encrypted;protocol=\"application/HTTP-Foo-session-"
		  "encrypted\"",
		  "unsupported encryption protocol" },
		{ "multipart/encrypted;protocol=\"" SEAL_PROTO_SPNEGO,
		  "unterminated quoted parameter in Content-Type" },
		{ "multipart/encrypted;protocol=\"" SEAL_PROTO_SPNEGO
		  "\";boundary=\"\"",
		  "empty boundary parameter" },
		{ "multipart/encrypted;protocol=" SEAL_PROTO_SPNEGO ";boundary="
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxx",
		  "boundary parameter too long" },
		{ "multipart/encrypted;protocol",
		  "malformed Content-Type parameter" },
	};
	make(&b, V_GOOD);
	for (size_t i = 0; i < sizeof(cts) / sizeof(cts[0]); i++) {
		int rc = parse(&b, cts[i].ct, &m, &err);
		ok(rc == -1 && strcmp(err, cts[i].why) == 0,
		   "Content-Type refused: %s", cts[i].why);
		seal_message_release(&m);
	}
	/* the body's protocol must be the Content-Type's */
	is_int(parse(&b, CT_KERBEROS, &m, &err), -1,
	       "SPNEGO parts under a Kerberos Content-Type refused");
	seal_message_release(&m);
	is_int(seal_parse(NULL, 0, CT_SPNEGO, &m, &err), -1,
	       "NULL body refused");

	/* distinct reasons: one per kind of damage */
	size_t distinct = 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= strcmp(bad_bodies[i].why, bad_bodies[j].why) ==
				0;
		distinct += !seen;
	}
	for (size_t i = 0; i < sizeof(cts) / sizeof(cts[0]); i++)
		for (size_t j = 0; j < n; j++)
			if (strcmp(cts[i].why, bad_bodies[j].why) == 0)
				distinct = 0;
	is_int(distinct + sizeof(cts) / sizeof(cts[0]), n - 3 + 8,
	       "%zu distinct refusal texts", distinct + 8);
	buf_release(&b);
}

int main(void)
{
	memset(cfx_hdr, 0x5a, sizeof(cfx_hdr));
	cfx_hdr[0] = 0x05;
	cfx_hdr[1] = 0x04;
	cfx_hdr[2] = 0x06;
	memset(rc4_hdr, 0x33, sizeof(rc4_hdr));
	rc4_hdr[0] = 0x60;
	rc4_hdr[1] = 0x2b;

	test_golden();
	test_content_types();
	test_clients();
	test_crlf();
	test_multi();
	test_malformed();
	return tap_done();
}
