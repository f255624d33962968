/*
 * fuzz-wql.c - libFuzzer harness for the WQL parser and evaluator
 * (lib/wmi/wql.c): the input is a query (NUL-terminated copy); what
 * parses is evaluated against a fixed Win32_Process instance with nulls,
 * numbers, datetimes and strings, and its key hints are taken.  The
 * parser's bounds (length, depth, nodes) must hold for any input.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wmi/schema.h"
#include "lib/wmi/wire.h"
#include "lib/wmi/wql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One Win32_Process instance, built once. */
static struct wmi_instances set;
static bool ready;

static void add(struct buf *b, const struct wmi_class *c, const char *name,
		const char *value)
{
	wmi_wire_u16(b, (uint16_t)wmi_prop_find(c, name));
	wmi_wire_u8(b, WMI_V_SCALAR);
	wmi_wire_cstr(b, value);
}

static void setup(void)
{
	const struct wmi_class *c = wmi_class_find("Win32_Process");
	struct buf b = BUF_INIT;
	size_t start;
	wmi_wire_begin(&b, &start, WMI_W_INSTANCES);
	wmi_wire_u32(&b, 1);
	wmi_wire_u16(&b, 5);
	add(&b, c, "Name", "sshd");
	add(&b, c, "Handle", "1234");
	add(&b, c, "ProcessId", "1234");
	add(&b, c, "CreationDate", "2024-05-01T10:00:00.5+02:00");
	add(&b, c, "CommandLine", "/usr/sbin/sshd -D [listener] 0 of 10");
	wmi_wire_end(&b, start);
	size_t len = b.len - WMI_WIRE_HEADER;
	uint8_t *p = malloc(len);
	memcpy(p, b.data + WMI_WIRE_HEADER, len);
	buf_release(&b);
	struct wmi_result res;
	const char *why;
	if (wmi_wire_decode_reply(c, p, len, &set, &res, &why) != 0)
		abort();
	wmi_result_release(&res);
	ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct wql_query q;
	struct buf why = BUF_INIT;
	enum wql_error e = wql_parse(text, &q, &why);
	if (e == WQL_OK) {
		if (q.n_nodes > WQL_MAX_NODES)
			abort();
		if (q.cls == set.cls)
			(void)wql_match(&q, &set, 0);
		struct wmi_pair hints[8];
		size_t n = wql_hints(&q, hints, 8);
		if (n > 8)
			abort();
	} else if (why.len == 0) {
		abort(); /* every error explains itself */
	}
	wql_release(&q);
	buf_release(&why);
	/* LIKE with the input as pattern and as text */
	(void)wql_like(text, "%a_[b-c]%");
	(void)wql_like("sshd [listener] 0 of 10", text);
	free(text);
	return 0;
}
