/*
 * fuzz-envelope.c - libFuzzer harness for the request parser and the
 * response/fault templates.
 *
 * For each input: wsman_parse with no Content-Type, with charset=UTF-16
 * and with the input's first bytes as Content-Type; then the reply that would go out (a fault carrying the
 * parsed MessageID as RelatesTo, or a response envelope echoing Action and
 * MessageID) must be well-formed XML, and must survive wsman_transcode to
 * the request's charset and back unchanged.  The raw input also goes
 * through xml_escape (result must be well-formed inside an element) and
 * the xs:duration parser.
 *
 * Build (from the source tree, after configure in build-ws):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -Ibuild-ws -I. \
 *     fuzz/fuzz-envelope.c lib/wsman/envelope.c lib/wsman/render.c \
 *     lib/wsman/fault.c lib/wsman/duration.c lib/util.c \
 *     lib/log.c $(pkg-config --cflags --libs libxml-2.0 openssl) \
 *     -o fuzz-envelope
 *   ./fuzz-envelope fuzz/corpus/envelope
 */
#include "autoconfig.h"

#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "lib/wsman/envelope.h"
#include "lib/wsman/fault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "invariant failed: %s\n", what);
		abort();
	}
}

static void check_well_formed(const struct buf *b, const char *what)
{
	xmlDocPtr doc = xmlReadMemory((const char *)b->data, (int)b->len, NULL,
				      NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR |
					      XML_PARSE_NOWARNING);
	must(doc != NULL, what);
	xmlFreeDoc(doc);
}

/* UTF-16 back to UTF-8 (skipping the BOM) must give the original. */
static void check_round_trip(const struct buf *utf8, const struct buf *u16,
			     enum wsman_charset cs)
{
	must(u16->len >= 2, "BOM present");
	iconv_t cd = iconv_open("UTF-8",
				cs == WSMAN_UTF16LE ? "UTF-16LE" : "UTF-16BE");
	must(cd != (iconv_t)-1, "iconv_open");
	size_t cap = u16->len * 2 + 1;
	char *out = malloc(cap);
	char *ip = (char *)u16->data + 2, *op = out;
	size_t il = u16->len - 2, ol = cap;
	must(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1, "iconv back");
	iconv_close(cd);
	must((size_t)(op - out) == utf8->len &&
		     memcmp(out, utf8->data, utf8->len) == 0,
	     "transcode round trip");
	free(out);
}

static void reply_for(const struct wsman_request *r, enum fault_id f)
{
	struct buf b = BUF_INIT;

	if (f != FAULT_NONE) {
		fault_render(&b, f, r->message_id, "fuzz", r->action);
	} else {
		wsman_response_begin(&b, r->action ? r->action : "x",
				     r->message_id);
		for (size_t i = 0; i < r->n_selectors; i++) {
			must(wsman_selector(r, r->selectors[i].name) != NULL,
			     "selector lookup");
			xml_escape(&b, r->selectors[i].value);
		}
		for (size_t i = 0; i < r->n_options; i++) {
			must(wsman_option(r, r->options[i].name) != NULL,
			     "option lookup");
			xml_escape(&b, r->options[i].value);
		}
		wsman_response_end(&b);
	}
	check_well_formed(&b, "reply well-formed");

	struct buf copy = BUF_INIT;
	buf_append(&copy, b.data, b.len);
	must(wsman_transcode(&b, r->charset) == 0, "transcode");
	if (r->charset != WSMAN_UTF8) {
		check_round_trip(&copy, &b, r->charset);
		check_well_formed(&b, "UTF-16 reply well-formed");
	}
	buf_release(&copy);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	static const char *const types[] = {
		NULL,
		"application/soap+xml;charset=UTF-16",
	};

	if (!initialised) {
		envelope_global_init();
		initialised = 1;
	}

	/* A third Content-Type made of the input's first bytes. */
	char ct[48];
	size_t ct_len = size < sizeof(ct) - 1 ? size : sizeof(ct) - 1;
	memcpy(ct, data, ct_len);
	ct[ct_len] = '\0';

	for (size_t t = 0; t <= sizeof(types) / sizeof(types[0]); t++) {
		const char *type = t < sizeof(types) / sizeof(types[0])
					   ? types[t]
					   : ct;
		struct wsman_request r;
		enum fault_id f = wsman_parse(data, size, type, &r);
		must(f >= FAULT_NONE && f < FAULT_COUNT, "fault id in range");
		if (f == FAULT_NONE)
			must(r.doc != NULL, "doc on success");
		else
			must(r.doc == NULL && r.action == NULL &&
				     r.n_selectors == 0,
			     "released on failure");
		reply_for(&r, f);
		wsman_request_release(&r);
	}

	/* The escaper on arbitrary bytes. */
	struct buf b = BUF_INIT;
	buf_append_str(&b, "<x a=\"");
	xml_escape_n(&b, (const char *)data, size);
	buf_append_str(&b, "\">");
	xml_escape_n(&b, (const char *)data, size);
	buf_append_str(&b, "</x>");
	check_well_formed(&b, "escaped input well-formed");
	buf_release(&b);

	/* The duration parser on a bounded NUL-terminated prefix. */
	char text[64];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	int64_t ms = 0;
	if (wsman_duration_parse(text, &ms) == 0) {
		must(ms >= 0, "duration non-negative");
		struct buf d = BUF_INIT;
		wsman_duration_format(&d, ms);
		int64_t back = -1;
		must(wsman_duration_parse((const char *)d.data, &back) == 0 &&
			     back == ms,
		     "duration format round trip");
		buf_release(&d);
	}
	return 0;
}
