/* test-util.c - struct buf, base64, booleans, GUIDs. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "tests/lib/tap.h"
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
	test_bool();
	test_guid();
	return tap_done();
}
