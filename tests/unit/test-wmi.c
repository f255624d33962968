/*
 * test-wmi.c - the WMI class schema (lib/wmi/schema.c), the value forms
 * (lib/wmi/value.c) and the provider wire protocol (lib/wmi/wire.c):
 * properties are in Windows' order (case-insensitive by name, as 719
 * captured Windows instances show), every non-singleton class has a key,
 * URIs resolve to classes, values are validated by type, datetimes
 * format and parse as Windows writes them, and the reply decoder refuses
 * every malformed or out-of-schema reply.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/wmi/schema.h"
#include "lib/wmi/value.h"
#include "lib/wmi/wire.h"
#include "tests/lib/tap.h"

static void test_schema(void)
{
	ok(wmi_n_classes >= 7, "%zu classes", wmi_n_classes);
	for (size_t i = 0; i < wmi_n_classes; i++) {
		const struct wmi_class *c = wmi_classes[i];
		bool sorted = true;
		for (size_t k = 1; k < c->n_props; k++)
			if (strcasecmp(c->props[k - 1].name,
				       c->props[k].name) >= 0) {
				sorted = false;
				tap_diag("%s: %s before %s", c->name,
					 c->props[k - 1].name,
					 c->props[k].name);
			}
		ok(sorted,
		   "%s: properties in Windows' order (case-insensitive)",
		   c->name);
		size_t keys = wmi_class_n_keys(c);
		ok((c->flags & WMI_SINGLETON) || keys > 0,
		   "%s: a key or a singleton (%zu keys)", c->name, keys);
		ok(wmi_class_find(c->name) == c, "%s found by name", c->name);
		/* method outputs are sorted too (ReturnValue goes between) */
		for (size_t k = 1; k < c->n_members; k++)
			if (c->members[k].kind == WMI_M_OUT &&
			    c->members[k - 1].kind == WMI_M_OUT)
				ok(strcasecmp(c->members[k - 1].name,
					      c->members[k].name) < 0,
				   "%s: outputs %s, %s sorted", c->name,
				   c->members[k - 1].name, c->members[k].name);
	}
	const struct wmi_class *p = wmi_class_find("win32_PROCESS");
	ok(p != NULL && strcmp(p->name, "Win32_Process") == 0,
	   "class lookup ignores case, gives the canonical name");
	ok(wmi_prop_find(p, "handle") >= 0 &&
		   (p->props[wmi_prop_find(p, "Handle")].flags & WMI_KEY),
	   "Win32_Process: Handle is its key");
	is_int(wmi_class_n_keys(p), 1, "Win32_Process has one key");
	ok(wmi_prop_find(p, "NoSuchProperty") < 0, "unknown property: -1");
	struct wmi_method m;
	ok(wmi_method_find(p, "Create", &m) && (m.flags & WMI_STATIC) &&
		   m.n_params == 3,
	   "Win32_Process.Create: static, 2 in + 1 out");
	ok(wmi_param_find(&m, WMI_M_IN, "CommandLine") != NULL &&
		   wmi_param_find(&m, WMI_M_OUT, "ProcessId") != NULL &&
		   wmi_param_find(&m, WMI_M_IN, "ProcessId") == NULL,
	   "parameters by direction");
	ok(!wmi_method_find(p, "create", &m),
	   "method names are case-sensitive");
	ok(wmi_method_find(p, "Terminate", &m) && m.n_params == 1,
	   "Terminate: Reason");
	ok(wmi_method_find(p, "GetOwner", &m) && m.n_params == 2,
	   "GetOwner: Domain, User");
	const struct wmi_class *os = wmi_class_find("Win32_OperatingSystem");
	ok(os && (os->flags & WMI_SINGLETON) &&
		   wmi_method_find(os, "Reboot", &m) && m.n_params == 0,
	   "Win32_OperatingSystem: singleton with Reboot()");

	bool wild;
	ok(wmi_class_of_uri(WMI_URI_CIMV2 "/Win32_Process", &wild) == p &&
		   !wild,
	   "class URI");
	ok(wmi_class_of_uri("HTTP://schemas.microsoft.com/WBEM/wsman/1/wmi/"
			    "ROOT/CIMV2/win32_process",
			    &wild) == p,
	   "URI and class compared without case");
	ok(wmi_class_of_uri(WMI_URI_CIMV2 "/*", &wild) == NULL && wild,
	   "the wildcard");
	ok(wmi_class_of_uri(WMI_URI_CIMV2 "/Win32_Nothing", &wild) == NULL &&
		   !wild,
	   "unknown class");
	ok(wmi_class_of_uri(WMI_URI_BASE "/root/default/Win32_Process",
			    &wild) == NULL,
	   "unknown namespace");
	ok(wmi_uri_is_wmi(WMI_URI_BASE "/root/default/X") &&
		   !wmi_uri_is_wmi("http://schemas.microsoft.com/wbem/wsman/"
				   "1/windows/shell"),
	   "wmi_uri_is_wmi");
}

static void test_values(void)
{
	static const struct {
		enum wmi_type t;
		const char *v;
		bool valid;
	} cases[] = {
		{ WMI_BOOLEAN, "true", true },
		{ WMI_BOOLEAN, "false", true },
		{ WMI_BOOLEAN, "True", false },
		{ WMI_BOOLEAN, "1", false },
		{ WMI_UINT8, "255", true },
		{ WMI_UINT8, "256", false },
		{ WMI_UINT16, "65535", true },
		{ WMI_UINT32, "4294967295", true },
		{ WMI_UINT32, "4294967296", false },
		{ WMI_UINT64, "18446744073709551615", true },
		{ WMI_UINT64, "18446744073709551616", false },
		{ WMI_UINT32, "-1", false },
		{ WMI_UINT32, "007", false },
		{ WMI_UINT32, "0", true },
		{ WMI_UINT32, "", false },
		{ WMI_UINT32, "1 ", false },
		{ WMI_SINT16, "-32768", true },
		{ WMI_SINT16, "-32769", false },
		{ WMI_SINT16, "32767", true },
		{ WMI_SINT64, "-9223372036854775808", true },
		{ WMI_SINT64, "9223372036854775808", false },
		{ WMI_SINT32, "-0", false },
		{ WMI_REAL64, "1.5", true },
		{ WMI_REAL64, "-2e10", true },
		{ WMI_REAL64, "nan", false },
		{ WMI_REAL64, ".", false },
		{ WMI_STRING, "anything <&> at all", true },
		{ WMI_DATETIME, "2013-04-15T16:28:43.488171Z", true },
		{ WMI_DATETIME, "2013-03-09T02:57:32Z", true },
		{ WMI_DATETIME, "2014-04-03T14:45:50.46875+08:00", true },
		{ WMI_DATETIME, "2014-04-03T14:45:50-05:30", true },
		{ WMI_DATETIME, "2014-04-03T14:45:50.500Z", false },
		{ WMI_DATETIME, "2014-04-03T14:45:50+00:00", false },
		{ WMI_DATETIME, "2014-02-30T14:45:50Z", false },
		{ WMI_DATETIME, "2014-04-03 14:45:50Z", false },
		{ WMI_DATETIME, "20140403144550.000000+000", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(wmi_value_valid(cases[i].t, cases[i].v,
				       strlen(cases[i].v)),
		       cases[i].valid, "%s \"%s\" %s",
		       wmi_type_name(cases[i].t), cases[i].v,
		       cases[i].valid ? "valid" : "refused");
	ok(!wmi_value_valid(WMI_STRING, "a\0b", 3), "a NUL is refused");

	static const struct {
		int64_t sec;
		long usec;
		int tz;
		const char *want;
	} fmt[] = {
		{ 1366043323, 488171, 0, "2013-04-15T16:28:43.488171Z" },
		{ 1362797852, 0, 0, "2013-03-09T02:57:32Z" },
		{ 1366043323, 500000, 0, "2013-04-15T16:28:43.5Z" },
		{ 1396507550, 468750, 480, "2014-04-03T14:45:50.46875+08:00" },
		{ 0, 0, -330, "1969-12-31T18:30:00-05:30" },
		{ 951782400, 0, 0, "2000-02-29T00:00:00Z" },
	};
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		struct buf b = BUF_INIT;
		wmi_datetime_format(&b, fmt[i].sec, fmt[i].usec, fmt[i].tz);
		is_str((const char *)b.data, fmt[i].want, "datetime %lld.%06ld",
		       (long long)fmt[i].sec, fmt[i].usec);
		int64_t back;
		ok(wmi_datetime_parse((const char *)b.data, &back) == 0 &&
			   back == fmt[i].sec * 1000000 + fmt[i].usec,
		   "  and back");
		ok(wmi_value_valid(WMI_DATETIME, (const char *)b.data, b.len),
		   "  valid");
		buf_release(&b);
	}
	int64_t a, b;
	ok(wmi_datetime_parse("20130415162843.488171+000", &a) == 0 &&
		   wmi_datetime_parse("2013-04-15T16:28:43.488171Z", &b) == 0 &&
		   a == b,
	   "DMTF form (WQL literals) parses to the same instant");
	ok(wmi_datetime_parse("20130415182843.488171+120", &a) == 0 && a == b,
	   "DMTF form with an offset");
	ok(wmi_datetime_parse("2013-13-01T00:00:00Z", &a) != 0,
	   "month 13 refused");
}

/* Builds an INSTANCES reply by hand. */
static void inst_begin(struct buf *b, size_t *start, uint32_t count)
{
	wmi_wire_begin(b, start, WMI_W_INSTANCES);
	wmi_wire_u32(b, count);
}

static int decode(const struct wmi_class *c, const struct buf *frame,
		  struct wmi_instances *set, struct wmi_result *res,
		  const char **why)
{
	size_t len = frame->len - WMI_WIRE_HEADER;
	uint8_t *p = xmalloc(len + 1);
	memcpy(p, frame->data + WMI_WIRE_HEADER, len);
	return wmi_wire_decode_reply(c, p, len, set, res, why);
}

static void test_wire(void)
{
	const struct wmi_class *c = wmi_class_find("Win32_Process");
	int handle = wmi_prop_find(c, "Handle");
	int pid = wmi_prop_find(c, "ProcessId");
	int cmd = wmi_prop_find(c, "CommandLine");

	/* a good reply: two instances */
	struct buf b = BUF_INIT;
	size_t start;
	inst_begin(&b, &start, 2);
	wmi_wire_u16(&b, 2);
	wmi_wire_u16(&b, (uint16_t)handle);
	wmi_wire_u8(&b, WMI_V_SCALAR);
	wmi_wire_cstr(&b, "1");
	wmi_wire_u16(&b, (uint16_t)pid);
	wmi_wire_u8(&b, WMI_V_SCALAR);
	wmi_wire_cstr(&b, "1");
	wmi_wire_u16(&b, 1);
	wmi_wire_u16(&b, (uint16_t)cmd);
	wmi_wire_u8(&b, WMI_V_SCALAR);
	wmi_wire_cstr(&b, "sleep 1");
	wmi_wire_end(&b, start);
	is_int(wmi_wire_frame_len(b.data), b.len - 4, "frame length patched");
	struct wmi_instances set;
	struct wmi_result res;
	const char *why = NULL;
	ok(decode(c, &b, &set, &res, &why) == 0 && set.n == 2,
	   "two instances decode (%s)", why ? why : "");
	const struct wmi_value *v = wmi_inst_value(&set, 0, (size_t)pid);
	ok(v->kind == WMI_V_SCALAR &&
		   strcmp(wmi_inst_str(&set, v, 0), "1") == 0,
	   "ProcessId of the first");
	ok(wmi_inst_value(&set, 0, (size_t)cmd)->kind == WMI_V_NULL,
	   "absent is null");
	v = wmi_inst_value(&set, 1, (size_t)cmd);
	ok(v->kind == WMI_V_SCALAR &&
		   strcmp(wmi_inst_str(&set, v, 0), "sleep 1") == 0,
	   "CommandLine of the second");
	wmi_instances_release(&set);
	wmi_result_release(&res);
	buf_release(&b);

	/* malformed replies, each refused */
	struct {
		const char *what;
		int idx, kind;
		const char *value;
		uint32_t count;
	} bad[] = {
		{ "a uint32 that is not a number", pid, WMI_V_SCALAR, "x", 1 },
		{ "an index past the properties", 5000, WMI_V_SCALAR, "1", 1 },
		{ "an array for a scalar", pid, WMI_V_ARRAY, "1", 1 },
		{ "an unknown kind", pid, 7, "1", 1 },
		{ "a count larger than the data", pid, WMI_V_SCALAR, "1",
		  1000 },
		{ "a count over the limit", pid, WMI_V_SCALAR, "1",
		  WMI_WIRE_MAX_INSTANCES + 1 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		inst_begin(&b, &start, bad[i].count);
		wmi_wire_u16(&b, 1);
		wmi_wire_u16(&b, (uint16_t)bad[i].idx);
		wmi_wire_u8(&b, (uint8_t)bad[i].kind);
		if (bad[i].kind == WMI_V_ARRAY)
			wmi_wire_u16(&b, 1);
		wmi_wire_cstr(&b, bad[i].value);
		wmi_wire_end(&b, start);
		why = NULL;
		ok(decode(c, &b, &set, &res, &why) != 0 && why != NULL,
		   "refused: %s (%s)", bad[i].what, why ? why : "");
		wmi_instances_release(&set);
		wmi_result_release(&res);
		buf_release(&b);
	}
	/* the same property twice */
	inst_begin(&b, &start, 1);
	wmi_wire_u16(&b, 2);
	for (int k = 0; k < 2; k++) {
		wmi_wire_u16(&b, (uint16_t)pid);
		wmi_wire_u8(&b, WMI_V_SCALAR);
		wmi_wire_cstr(&b, "1");
	}
	wmi_wire_end(&b, start);
	ok(decode(c, &b, &set, &res, &why) != 0, "refused: a duplicate");
	wmi_instances_release(&set);
	wmi_result_release(&res);
	buf_release(&b);
	/* a string whose NUL terminator is missing */
	inst_begin(&b, &start, 1);
	wmi_wire_u16(&b, 1);
	wmi_wire_u16(&b, (uint16_t)cmd);
	wmi_wire_u8(&b, WMI_V_SCALAR);
	wmi_wire_cstr(&b, "abc");
	b.data[b.len - 1] = 'x';
	wmi_wire_end(&b, start);
	ok(decode(c, &b, &set, &res, &why) != 0, "refused: unterminated");
	wmi_instances_release(&set);
	wmi_result_release(&res);
	buf_release(&b);
	/* trailing bytes */
	inst_begin(&b, &start, 0);
	wmi_wire_u8(&b, 0);
	wmi_wire_end(&b, start);
	ok(decode(c, &b, &set, &res, &why) != 0, "refused: trailing bytes");
	wmi_instances_release(&set);
	wmi_result_release(&res);
	buf_release(&b);

	/* encoder: NULs replaced, long strings cut at a UTF-8 boundary */
	struct buf s = BUF_INIT;
	for (size_t i = 0; i < WMI_WIRE_MAX_STRING / 2 + 10; i++)
		buf_append(&s, "\xC3\xA9", 2);
	inst_begin(&b, &start, 1);
	wmi_wire_u16(&b, 1);
	wmi_wire_u16(&b, (uint16_t)cmd);
	wmi_wire_u8(&b, WMI_V_SCALAR);
	wmi_wire_str(&b, (const char *)s.data, s.len);
	wmi_wire_end(&b, start);
	ok(decode(c, &b, &set, &res, &why) == 0,
	   "an over-long string is cut, not refused");
	v = wmi_inst_value(&set, 0, (size_t)cmd);
	ok(strlen(wmi_inst_str(&set, v, 0)) <= WMI_WIRE_MAX_STRING &&
		   strlen(wmi_inst_str(&set, v, 0)) % 2 == 0,
	   "  at a character boundary");
	wmi_instances_release(&set);
	wmi_result_release(&res);
	buf_release(&b);
	buf_release(&s);
	inst_begin(&b, &start, 1);
	wmi_wire_u16(&b, 1);
	wmi_wire_u16(&b, (uint16_t)cmd);
	wmi_wire_u8(&b, WMI_V_SCALAR);
	wmi_wire_str(&b, "a\0b", 3);
	wmi_wire_end(&b, start);
	ok(decode(c, &b, &set, &res, &why) == 0 &&
		   strcmp(wmi_inst_str(&set,
				       wmi_inst_value(&set, 0, (size_t)cmd), 0),
			  "a\xEF\xBF\xBD"
			  "b") == 0,
	   "a NUL in a value becomes U+FFFD");
	wmi_instances_release(&set);
	wmi_result_release(&res);
	buf_release(&b);

	/* results and errors */
	wmi_wire_begin(&b, &start, WMI_W_RESULT);
	wmi_wire_u32(&b, 2);
	wmi_wire_u16(&b, 1);
	wmi_wire_cstr(&b, "ProcessId");
	wmi_wire_u8(&b, 0);
	wmi_wire_cstr(&b, "42");
	wmi_wire_end(&b, start);
	ok(decode(c, &b, &set, &res, &why) == 0 && res.type == WMI_W_RESULT &&
		   res.return_value == 2 && res.n_outs == 1 &&
		   strcmp(res.out_values[0], "42") == 0,
	   "a method result");
	wmi_instances_release(&set);
	wmi_result_release(&res);
	buf_release(&b);
	wmi_wire_error(&b, WMI_E_NOT_FOUND, "no such process");
	ok(decode(c, &b, &set, &res, &why) == 0 && res.type == WMI_W_ERROR &&
		   res.error == WMI_E_NOT_FOUND &&
		   strcmp(res.message, "no such process") == 0,
	   "an error reply");
	wmi_instances_release(&set);
	wmi_result_release(&res);
	buf_release(&b);

	/* requests round trip */
	struct wmi_pair keys[] = { { "Handle", "42", false } };
	struct wmi_pair params[] = { { "Reason", "", true } };
	uint16_t wanted[] = { 3, 9 };
	wmi_wire_query(&b, "Win32_Process", WMI_Q_KEYS_ONLY, keys, 1, wanted,
		       2);
	struct wmi_request req;
	ok(wmi_wire_decode_request(b.data + 4, b.len - 4, &req, &why) == 0 &&
		   req.type == WMI_W_QUERY &&
		   strcmp(req.class_name, "Win32_Process") == 0 &&
		   req.flags == WMI_Q_KEYS_ONLY && req.n_keys == 1 &&
		   strcmp(req.keys[0].value, "42") == 0 && req.n_wanted == 2 &&
		   req.wanted[1] == 9,
	   "a query round trip");
	wmi_request_release(&req);
	ok(wmi_wire_decode_request(b.data + 4, b.len - 5, &req, &why) != 0,
	   "a truncated query is refused");
	wmi_request_release(&req);
	buf_release(&b);
	wmi_wire_invoke(&b, "Win32_Process", "Terminate", keys, 1, params, 1);
	ok(wmi_wire_decode_request(b.data + 4, b.len - 4, &req, &why) == 0 &&
		   req.type == WMI_W_INVOKE &&
		   strcmp(req.method, "Terminate") == 0 && req.n_params == 1 &&
		   req.params[0].is_null,
	   "an invoke round trip");
	wmi_request_release(&req);
	buf_release(&b);
}

int main(void)
{
	test_schema();
	test_values();
	test_wire();
	return tap_done();
}
