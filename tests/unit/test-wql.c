/*
 * test-wql.c - the WQL parser and evaluator (lib/wmi/wql.c): a table of
 * queries with the error each must give (syntax, unknown class, unknown
 * property, over a bound, unsupported), a table of conditions evaluated
 * against instances with nulls, numbers, booleans, datetimes and
 * strings, LIKE patterns, the SelectorFilter form, and the key hints.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "lib/wmi/schema.h"
#include "lib/wmi/wire.h"
#include "lib/wmi/wql.h"
#include "tests/lib/tap.h"

static void test_parse(void)
{
	static const struct {
		const char *q;
		enum wql_error want;
	} cases[] = {
		{ "select * from Win32_Process", WQL_OK },
		{ "SELECT * FROM win32_process", WQL_OK },
		{ "select Name, ProcessId from Win32_Process", WQL_OK },
		{ "select * from Win32_Process where Name = 'sshd'", WQL_OK },
		{ "select * from Win32_Process where Name = \"sshd\"", WQL_OK },
		{ "select * from Win32_Process where ProcessId > 100 and "
		  "(Name like 's%' or not Name like 'k_' ) and CommandLine is "
		  "not null",
		  WQL_OK },
		{ "select * from Win32_Process where 100 < ProcessId", WQL_OK },
		{ "select * from Win32_Process where Name <> 'x' and Name != "
		  "'y'",
		  WQL_OK },
		{ "select * from Win32_Process where ProcessId >= 0x10",
		  WQL_OK },
		{ "select * from Win32_Process where ProcessId = -1.5e3",
		  WQL_OK },
		{ "select * from Win32_Process where CommandLine = NULL",
		  WQL_OK },
		{ "select * from Win32_Process where ExecutablePath = "
		  "'C:\\\\Windows'",
		  WQL_OK },
		{ "select * from Win32_OperatingSystem where Primary = TRUE",
		  WQL_OK },
		{ "select * from Win32_Process where Name not like '%d'",
		  WQL_OK },
		{ "", WQL_SYNTAX },
		{ "select", WQL_SYNTAX },
		{ "select * from", WQL_SYNTAX },
		{ "select * Win32_Process", WQL_SYNTAX },
		{ "select *, Name from Win32_Process", WQL_SYNTAX },
		{ "select Name, from Win32_Process", WQL_SYNTAX },
		{ "select * from Win32_Process where", WQL_SYNTAX },
		{ "select * from Win32_Process where Name = ", WQL_SYNTAX },
		{ "select * from Win32_Process where Name = 'x", WQL_SYNTAX },
		{ "select * from Win32_Process where (Name = 'x'", WQL_SYNTAX },
		{ "select * from Win32_Process where Name = 'x')", WQL_SYNTAX },
		{ "select * from Win32_Process where Name 'x'", WQL_SYNTAX },
		{ "select * from Win32_Process where Name like 5", WQL_SYNTAX },
		{ "select * from Win32_Process where Name is 'x'", WQL_SYNTAX },
		{ "select * from Win32_Process where ProcessId = 12ab",
		  WQL_SYNTAX },
		{ "select * from Win32_Process where ProcessId < NULL",
		  WQL_SYNTAX },
		{ "select * from Win32_Process where Name = 'x' garbage",
		  WQL_SYNTAX },
		{ "select * from Win32_Process where Name = 'x' ; drop",
		  WQL_SYNTAX },
		{ "delete from Win32_Process", WQL_SYNTAX },
		{ "select * from Win32_Processa where name=\"sshd.exe\"",
		  WQL_UNKNOWN_CLASS },
		{ "select * from CIM_Nothing", WQL_UNKNOWN_CLASS },
		{ "select Nope from Win32_Process", WQL_UNKNOWN_PROPERTY },
		{ "select * from Win32_Process where Nope = 1",
		  WQL_UNKNOWN_PROPERTY },
		{ "select * from Win32_Process where ProcessId = Handle",
		  WQL_UNSUPPORTED },
		{ "select * from Win32_ComputerSystem where Roles = 'NT'",
		  WQL_UNSUPPORTED },
		{ "associators of {Win32_Process.Handle=1}", WQL_UNSUPPORTED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wql_query q;
		struct buf why = BUF_INIT;
		enum wql_error e = wql_parse(cases[i].q, &q, &why);
		is_int(e, cases[i].want, "\"%s\" -> %d (%s)", cases[i].q,
		       cases[i].want, why.data ? (const char *)why.data : "");
		ok((e == WQL_OK) == (why.len == 0),
		   "  a message exactly when it fails");
		wql_release(&q);
		buf_release(&why);
	}

	/* bounds */
	struct buf big = BUF_INIT;
	buf_append_str(&big, "select * from Win32_Process where ");
	for (int i = 0; i < WQL_MAX_DEPTH + 2; i++)
		buf_append_str(&big, "(");
	buf_append_str(&big, "Name = 'x'");
	for (int i = 0; i < WQL_MAX_DEPTH + 2; i++)
		buf_append_str(&big, ")");
	struct wql_query q;
	struct buf why = BUF_INIT;
	is_int(wql_parse((const char *)big.data, &q, &why), WQL_TOO_COMPLEX,
	       "nesting over %d is refused", WQL_MAX_DEPTH);
	wql_release(&q);
	buf_reset(&why);
	buf_reset(&big);
	buf_append_str(&big, "select * from Win32_Process where ");
	for (int i = 0; i < 100; i++)
		buf_append_str(&big, "not ");
	buf_append_str(&big, "Name = 'x'");
	is_int(wql_parse((const char *)big.data, &q, &why), WQL_TOO_COMPLEX,
	       "100 NOTs are refused");
	wql_release(&q);
	buf_reset(&why);
	buf_reset(&big);
	buf_append_str(&big, "select * from Win32_Process where Name = 'a'");
	for (int i = 0; i < WQL_MAX_NODES; i++)
		buf_append_str(&big, " or Name = 'a'");
	is_int(wql_parse((const char *)big.data, &q, &why), WQL_TOO_COMPLEX,
	       "over %d conditions is refused", WQL_MAX_NODES);
	wql_release(&q);
	buf_reset(&why);
	buf_reset(&big);
	buf_append_str(&big, "select * from Win32_Process where Name = '");
	for (int i = 0; i < WQL_MAX_LENGTH; i++)
		buf_append_byte(&big, 'a');
	buf_append_str(&big, "'");
	is_int(wql_parse((const char *)big.data, &q, &why), WQL_TOO_COMPLEX,
	       "a query over %d characters is refused", WQL_MAX_LENGTH);
	wql_release(&q);
	buf_release(&why);
	buf_release(&big);

	/* the select list */
	buf_init(&why);
	ok(wql_parse("select processid, Name from Win32_Process", &q, &why) ==
			   WQL_OK &&
		   !q.star && q.selected[wmi_prop_find(q.cls, "ProcessId")] &&
		   q.selected[wmi_prop_find(q.cls, "Name")] &&
		   !q.selected[wmi_prop_find(q.cls, "Handle")],
	   "the select list marks exactly its properties");
	wql_release(&q);
	buf_release(&why);
}

/* One Win32_Process-like instance set built from name=value texts
 * (NULL value: null). */
static void make_set(struct wmi_instances *set, const char *const *nv, size_t n)
{
	const struct wmi_class *c = wmi_class_find("Win32_Process");
	struct buf b = BUF_INIT;
	size_t start;
	wmi_wire_begin(&b, &start, WMI_W_INSTANCES);
	wmi_wire_u32(&b, 1);
	size_t present = 0;
	for (size_t i = 0; i < n; i++)
		present += nv[2 * i + 1] != NULL;
	wmi_wire_u16(&b, (uint16_t)present);
	for (size_t i = 0; i < n; i++) {
		if (nv[2 * i + 1] == NULL)
			continue;
		wmi_wire_u16(&b, (uint16_t)wmi_prop_find(c, nv[2 * i]));
		wmi_wire_u8(&b, WMI_V_SCALAR);
		wmi_wire_cstr(&b, nv[2 * i + 1]);
	}
	wmi_wire_end(&b, start);
	size_t len = b.len - 4;
	uint8_t *p = xmalloc(len);
	memcpy(p, b.data + 4, len);
	buf_release(&b);
	struct wmi_result res;
	const char *why;
	if (wmi_wire_decode_reply(c, p, len, set, &res, &why) != 0)
		tap_diag("make_set: %s", why);
	wmi_result_release(&res);
}

static void test_eval(void)
{
	static const char *const inst[] = {
		"Name",           "sshd",
		"ProcessId",      "1234",
		"Handle",         "1234",
		"CommandLine",    NULL,
		"ThreadCount",    "3",
		"CreationDate",   "2024-05-01T10:00:00.5+02:00",
		"ExecutablePath", "/usr/sbin/sshd",
	};
	struct wmi_instances set;
	make_set(&set, inst, sizeof(inst) / sizeof(inst[0]) / 2);
	static const struct {
		const char *where;
		bool match;
	} cases[] = {
		{ "Name = 'sshd'", true },
		{ "Name = 'SSHD'", true },
		{ "Name <> 'sshd'", false },
		{ "Name > 'abc'", true },
		{ "ProcessId = 1234", true },
		{ "ProcessId = '1234'", true },
		{ "ProcessId = 0x4d2", true },
		{ "ProcessId = 1234.0", true },
		{ "ProcessId > 999", true },
		{ "ProcessId < 999", false },
		{ "999 < ProcessId", true },
		{ "ProcessId >= 1234 and ProcessId <= 1234", true },
		{ "Handle = 1234", true },
		{ "Handle = '01234'", false },
		{ "CommandLine is null", true },
		{ "CommandLine is not null", false },
		{ "CommandLine = NULL", true },
		{ "CommandLine = 'x'", false },
		{ "not CommandLine = 'x'", false }, /* unknown stays unknown */
		{ "CommandLine = 'x' or Name = 'sshd'", true },
		{ "CommandLine = 'x' and Name = 'sshd'", false },
		{ "not (CommandLine = 'x' and Name = 'nope')", true },
		{ "Name like 'ss%'", true },
		{ "Name like 'S_HD'", true },
		{ "Name like '%h%'", true },
		{ "Name like '[r-t]shd'", true },
		{ "Name like '[^s]shd'", false },
		{ "Name not like 'ss%'", false },
		{ "ExecutablePath like '/usr/%/sshd'", true },
		{ "CreationDate > '20240501075959.000000+000'", true },
		{ "CreationDate < '2024-05-01T08:00:01Z'", true },
		{ "CreationDate < '2024-05-01T08:00:00Z'", false },
		{ "CreationDate = '2024-05-01T08:00:00.5Z'", true },
		{ "ThreadCount = TRUE", false },
		{ "ThreadCount = 'abc'", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = xasprintf("select * from Win32_Process where %s",
				       cases[i].where);
		struct wql_query q;
		struct buf why = BUF_INIT;
		enum wql_error e = wql_parse(text, &q, &why);
		ok(e == WQL_OK && wql_match(&q, &set, 0) == cases[i].match,
		   "%s: %s", cases[i].where,
		   e != WQL_OK      ? (const char *)why.data
		   : cases[i].match ? "matches"
				    : "does not match");
		wql_release(&q);
		buf_release(&why);
		free(text);
	}

	/* hints: the top-level AND chain of equalities */
	struct wql_query q;
	struct buf why = BUF_INIT;
	wql_parse("select * from Win32_Process where Handle = '42' and "
		  "(Name = 'a' or Name = 'b') and ProcessId = 42",
		  &q, &why);
	struct wmi_pair hints[4];
	size_t n = wql_hints(&q, hints, 4);
	ok(n == 2 && strcmp(hints[0].name, "Handle") == 0 &&
		   strcmp(hints[0].value, "42") == 0 &&
		   strcmp(hints[1].name, "ProcessId") == 0,
	   "hints: the equalities that must hold");
	wql_release(&q);
	wql_parse("select * from Win32_Process where Handle = '42' or "
		  "Name = 'a'",
		  &q, &why);
	is_int(wql_hints(&q, hints, 4), 0, "no hints under OR");
	wql_release(&q);
	buf_release(&why);

	/* SelectorFilter */
	const struct wmi_class *c = wmi_class_find("Win32_Process");
	struct wmi_pair sel[] = { { "name", "SSHD", false },
				  { "ProcessId", "1234", false } };
	buf_init(&why);
	ok(wql_from_selectors(c, sel, 2, &q, &why) == WQL_OK &&
		   wql_match(&q, &set, 0),
	   "selector filter: equality, case-insensitive, AND-ed");
	wql_release(&q);
	struct wmi_pair dup[] = { { "Name", "a", false },
				  { "NAME", "b", false } };
	is_int(wql_from_selectors(c, dup, 2, &q, &why), WQL_UNSUPPORTED,
	       "selector filter: a duplicate is refused");
	wql_release(&q);
	struct wmi_pair dt[] = { { "CreationDate", "x", false } };
	is_int(wql_from_selectors(c, dt, 1, &q, &why), WQL_UNSUPPORTED,
	       "selector filter: a datetime is refused");
	wql_release(&q);
	struct wmi_pair quote[] = { { "Name", "a'b", false } };
	is_int(wql_from_selectors(c, quote, 1, &q, &why), WQL_UNSUPPORTED,
	       "selector filter: a quote in a value is refused");
	wql_release(&q);
	struct wmi_pair unknown[] = { { "Nope", "a", false } };
	is_int(wql_from_selectors(c, unknown, 1, &q, &why),
	       WQL_UNKNOWN_PROPERTY, "selector filter: unknown property");
	wql_release(&q);
	buf_release(&why);
	wmi_instances_release(&set);
}

static void test_like(void)
{
	static const struct {
		const char *text, *pattern;
		bool match;
	} cases[] = {
		{ "", "", true },
		{ "", "%", true },
		{ "a", "", false },
		{ "abc", "a%c", true },
		{ "abc", "a%%%c", true },
		{ "abc", "%b", false },
		{ "abc", "___", true },
		{ "abc", "____", false },
		{ "é", "_", true },
		{ "aé", "a_", true },
		{ "a[b", "a[b", true },
		{ "ab", "a[bc]", true },
		{ "ad", "a[bc]", false },
		{ "a]", "a[]]", true },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "%a%a%a%a%a%a%a%a%c",
		  false },
		{ "\xF0", "_", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(wql_like(cases[i].text, cases[i].pattern),
		       cases[i].match, "'%s' LIKE '%s'", cases[i].text,
		       cases[i].pattern);
}

int main(void)
{
	test_parse();
	test_eval();
	test_like();
	return tap_done();
}
