/* test-util.c - struct buf, base64, booleans, GUIDs. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tests/lib/tap.h"
#include "lib/base64.h"
#include "lib/util.h"

static void test_buf(void)
{
	struct buf b = BUF_INIT;
	buf_append_str(&b, "abc");
	buf_printf(&b, "-%d-%s", 42, "x");
	is_str((char *)b.data, "abc-42-x", "buf_append_str + buf_printf");
	is_int(b.len, 8, "length counts bytes");
	buf_append(&b, "\0z", 2);
	is_int(b.len, 10, "binary bytes appended");
	is_int(b.data[b.len], 0, "always NUL-terminated past len");
	buf_reset(&b);
	is_int(b.len, 0, "reset empties");
	for (int i = 0; i < 10000; i++)
		buf_append_byte(&b, (uint8_t)('a' + i % 26));
	is_int(b.len, 10000, "grows past many doublings");
	char *s = buf_steal(&b);
	is_int(strlen(s), 10000, "steal hands over the text");
	ok(b.data == NULL && b.len == 0, "steal leaves the buffer empty");
	free(s);
	s = buf_steal(&b);
	is_str(s, "", "steal of an empty buffer gives \"\"");
	free(s);
	buf_release(&b);
}

static void test_base64(void)
{
	static const struct {
		const char *plain, *b64;
	} cases[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "hi\r\n", "aGkNCg==" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;
		base64_encode(&b, cases[i].plain, strlen(cases[i].plain));
		is_str((char *)b.data, cases[i].b64, "encode \"%s\"",
		       cases[i].plain);
		buf_reset(&b);
		is_int(base64_decode(&b, cases[i].b64, strlen(cases[i].b64)), 0,
		       "decode %s", cases[i].b64);
		ok(b.len == strlen(cases[i].plain) &&
			   memcmp(b.data ? (char *)b.data : "", cases[i].plain,
				  b.len) == 0,
		   "decode %s round-trips", cases[i].b64);
		buf_release(&b);
	}
	/* also what EVP_DecodeBlock alone would take: white space or '-'
	 * at either end, '=' inside, more than two '=' */
	static const char *bad[] = {
		"Zg=",      "Z===",     "Zm9v!", "Zg==Zg==",  "Zm 9v",  "=Zm9",
		"Zm9vY",    " Zm9",     "Zm9 ",  "Zm9\n",     "Zm9-",   "Zm=v",
		"Zm9vZ=9v", "AAAA-AAA", "====",  "Zm9v\tZm9", "Zm9\x80"
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b = BUF_INIT;
		buf_append_str(&b, "keep");
		is_int(base64_decode(&b, bad[i], strlen(bad[i])), -1,
		       "invalid base64 \"%s\" refused", bad[i]);
		is_str((char *)b.data, "keep", "output untouched on error");
		buf_release(&b);
	}
	/* binary round trip over all byte values */
	uint8_t bin[256];
	for (int i = 0; i < 256; i++)
		bin[i] = (uint8_t)i;
	struct buf e = BUF_INIT, d = BUF_INIT;
	base64_encode(&e, bin, sizeof(bin));
	is_int(base64_decode(&d, (char *)e.data, e.len), 0, "binary decodes");
	ok(d.len == 256 && memcmp(d.data, bin, 256) == 0, "binary round trip");
	buf_release(&e);
	buf_release(&d);
}

/* The table-driven codec against OpenSSL's: the same text for every
 * length up to 3 groups past a full table's worth of input, and back. */
static void test_base64_against_openssl(void)
{
	enum { MAX = 700 };
	uint8_t bin[MAX];
	unsigned seed = 12345;
	for (size_t i = 0; i < MAX; i++) {
		seed = seed * 1103515245 + 12345;
		bin[i] = (uint8_t)(seed >> 16);
	}
	int bad_encode = -1, bad_decode = -1;
	for (size_t n = 0; n <= MAX; n++) {
		unsigned char want[BASE64_LEN(MAX) + 1];
		int want_len = EVP_EncodeBlock(want, bin, (int)n);
		struct buf got = BUF_INIT;
		base64_encode(&got, bin, n);
		if (bad_encode < 0 &&
		    (got.len != (size_t)want_len ||
		     memcmp(got.data ? got.data : want, want, got.len) != 0))
			bad_encode = (int)n;
		struct buf back = BUF_INIT;
		if (bad_decode < 0 &&
		    (base64_decode(&back, (char *)want, (size_t)want_len) !=
			     0 ||
		     back.len != n ||
		     (n > 0 && memcmp(back.data, bin, n) != 0)))
			bad_decode = (int)n;
		buf_release(&got);
		buf_release(&back);
	}
	is_int(bad_encode, -1, "encoding of 0..%d bytes equals OpenSSL's", MAX);
	is_int(bad_decode, -1, "OpenSSL's text of 0..%d bytes decodes back",
	       MAX);

	/* a character outside the alphabet in each position of a group, in
	 * the first, a middle and the last group: refused, output kept */
	int missed = 0;
	char text[] = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY";
	for (size_t at = 0; at < strlen(text); at++) {
		const char outside[] = { '=', '-',  '_',    '.',
					 ' ', '\0', '\x80', '\xff' };
		for (size_t k = 0; k < sizeof(outside); k++) {
			if (outside[k] == '=' && at == strlen(text) - 1)
				continue; /* valid padding */
			char t[sizeof(text)];
			memcpy(t, text, sizeof(text));
			t[at] = outside[k];
			struct buf b = BUF_INIT;
			buf_append_str(&b, "keep");
			if (base64_decode(&b, t, strlen(text)) != -1 ||
			    strcmp((char *)b.data, "keep") != 0)
				missed++;
			buf_release(&b);
		}
	}
	is_int(missed, 0, "every outside character in every position refused");

	/* unused bits of the last group are dropped, as OpenSSL drops them */
	struct buf b = BUF_INIT;
	is_int(base64_decode(&b, "Zh==", 4), 0, "non-zero unused bits taken");
	is_str((char *)b.data, "f", "and dropped");
	buf_reset(&b);
	is_int(base64_decode(&b, "Zm9=", 4), 0, "one '=' with unused bits");
	is_str((char *)b.data, "fo", "two bytes");
	buf_release(&b);
}

static void test_bool(void)
{
	static const struct {
		const char *text;
		int rc;
		bool value;
	} cases[] = {
		{ "true", 0, true },   { "True", 0, true },
		{ "TRUE", 0, true },   { "1", 0, true },
		{ "false", 0, false }, { "False", 0, false },
		{ "FALSE", 0, false }, { "0", 0, false },
		{ "yes", -1, false },  { "", -1, false },
		{ "tru", -1, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool v = !cases[i].value;
		int rc = str_parse_bool(cases[i].text, &v);
		is_int(rc, cases[i].rc, "str_parse_bool(\"%s\") rc",
		       cases[i].text);
		if (rc == 0)
			is_int(v, cases[i].value,
			       "str_parse_bool(\"%s\") value", cases[i].text);
	}
	ok(str_ieq("Negotiate", "negotiate"), "str_ieq ignores case");
	ok(!str_ieq("Negotiate", NULL), "str_ieq NULL is false");
	ok(str_istarts_with("Negotiate abc", "negotiate "),
	   "prefix ignoring case");
}

static void test_guid(void)
{
	char a[37], b[37];
	guid_generate(a);
	guid_generate(b);
	is_int(strlen(a), 36, "GUID is 36 characters");
	ok(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-',
	   "GUID dashes in place");
	ok(a[14] == '4', "version 4");
	ok(strspn(a, "0123456789ABCDEF-") == 36, "upper-case hex");
	ok(strcmp(a, b) != 0, "two GUIDs differ");
}

int main(void)
{
	test_buf();
	test_base64();
	test_base64_against_openssl();
	test_bool();
	test_guid();
	return tap_done();
}
