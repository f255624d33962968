/*
 * test-envelope.c - envelope parsing (golden files), xs:duration, XML
 * escaping, response templates and UTF-16 transcoding.
 *
 * Golden files: tests/data/envelopes/NNN-name.xml is a request body and
 * NNN-name.ref lists what parsing it must give, one "key=value" per line
 * ("#" starts a comment; an empty value means "absent", "" the empty
 * string):
 *   content_type=  HTTP Content-Type handed to the parser
 *   transcode=     UTF-16LE | UTF-16BE (with BOM) | UTF-16LE-NOBOM: the
 *                  test converts the UTF-8 file first (no binary files in
 *                  the tree)
 *   fault=         fault_name() of the result ("None" for success)
 *   action= to= message_id= reply_to= resource_uri= locale=
 *   identify=      true | false
 *   charset=       UTF-8 | UTF-16LE | UTF-16BE
 *   body=          local name of the first body element, "-" for none
 *   selectors= options=          counts
 *   selector.NAME=               value (lookup is case-insensitive)
 *   option.NAME= option.NAME.must_comply= option.NAME.nil=
 *   timeout_ms= max_envelope=    integers (-1 = absent)
 *   text.LOCAL=    text of the first body descendant named LOCAL
 *   max_ms=        upper bound on the parse time
 * The files are located through $WINRMD_SRCDIR (default ".").
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lib/wsman/envelope.h"
#include "lib/wsman/ns.h"
#include "tests/lib/tap.h"
#include "lib/util.h"

static char *srcdir_path(const char *rel)
{
	const char *src = getenv("WINRMD_SRCDIR");
	return xasprintf("%s/%s", src != NULL && *src ? src : ".", rel);
}

static int read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(out, tmp, n);
	fclose(f);
	if (out->data == NULL)
		buf_append(out, "", 0);
	return 0;
}

/* UTF-8 -> UTF-16 (le/be), optionally with a BOM, via iconv. */
static int to_utf16(const struct buf *in, bool le, bool bom, struct buf *out)
{
	iconv_t cd = iconv_open(le ? "UTF-16LE" : "UTF-16BE", "UTF-8");
	if (cd == (iconv_t)-1)
		return -1;
	if (bom) {
		if (le)
			buf_append(out, "\xFF\xFE", 2);
		else
			buf_append(out, "\xFE\xFF", 2);
	}
	buf_reserve(out, in->len * 2 + 4);
	char *ip = (char *)in->data, *op = (char *)out->data + out->len;
	size_t il = in->len, ol = in->len * 2 + 2;
	size_t r = iconv(cd, &ip, &il, &op, &ol);
	iconv_close(cd);
	if (r == (size_t)-1)
		return -1;
	out->len = (size_t)((uint8_t *)op - out->data);
	out->data[out->len] = '\0';
	return 0;
}

static const char *charset_name(enum wsman_charset cs)
{
	switch (cs) {
	case WSMAN_UTF8: return "UTF-8";
	case WSMAN_UTF16LE: return "UTF-16LE";
	case WSMAN_UTF16BE: return "UTF-16BE";
	}
	return "?";
}

static xmlNode *find_descendant(xmlNode *n, const char *local)
{
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, local) == 0)
			return n;
		xmlNode *d = find_descendant(n->children, local);
		if (d != NULL)
			return d;
	}
	return NULL;
}

/* The parsed value for one .ref key, as text (NULL = absent); *known is
 * false for keys this test does not understand. */
static char *actual_value(const struct wsman_request *r, enum fault_id f,
			  const char *key, bool *known)
{
	*known = true;
	if (strcmp(key, "fault") == 0)
		return xstrdup(fault_name(f));
	if (strcmp(key, "action") == 0)
		return r->action ? xstrdup(r->action) : NULL;
	if (strcmp(key, "to") == 0)
		return r->to ? xstrdup(r->to) : NULL;
	if (strcmp(key, "message_id") == 0)
		return r->message_id ? xstrdup(r->message_id) : NULL;
	if (strcmp(key, "reply_to") == 0)
		return r->reply_to ? xstrdup(r->reply_to) : NULL;
	if (strcmp(key, "resource_uri") == 0)
		return r->resource_uri ? xstrdup(r->resource_uri) : NULL;
	if (strcmp(key, "locale") == 0)
		return r->locale ? xstrdup(r->locale) : NULL;
	if (strcmp(key, "identify") == 0)
		return xstrdup(r->is_identify ? "true" : "false");
	if (strcmp(key, "charset") == 0)
		return xstrdup(charset_name(r->charset));
	if (strcmp(key, "body") == 0) {
		const xmlNode *b = r->body;
		return xstrdup(b != NULL ? (const char *)b->name : "-");
	}
	if (strcmp(key, "selectors") == 0)
		return xasprintf("%zu", r->n_selectors);
	if (strcmp(key, "options") == 0)
		return xasprintf("%zu", r->n_options);
	if (strcmp(key, "timeout_ms") == 0)
		return xasprintf("%" PRId64, r->operation_timeout_ms);
	if (strcmp(key, "max_envelope") == 0)
		return xasprintf("%" PRId64, r->max_envelope_size);
	if (strncmp(key, "selector.", 9) == 0) {
		const char *v = wsman_selector(r, key + 9);
		return v ? xstrdup(v) : NULL;
	}
	if (strncmp(key, "option.", 7) == 0) {
		char *name = xstrdup(key + 7);
		char *attr = strchr(name, '.');
		if (attr != NULL)
			*attr++ = '\0';
		const struct wsman_option *o = wsman_option(r, name);
		char *v = NULL;
		if (o == NULL)
			v = NULL;
		else if (attr == NULL)
			v = xstrdup(o->value);
		else if (strcmp(attr, "must_comply") == 0)
			v = xstrdup(o->must_comply ? "true" : "false");
		else if (strcmp(attr, "nil") == 0)
			v = xstrdup(o->is_nil ? "true" : "false");
		else
			*known = false;
		free(name);
		return v;
	}
	if (strncmp(key, "text.", 5) == 0) {
		xmlNode *body = r->body;
		xmlNode *n = body ? find_descendant(body, key + 5) : NULL;
		if (n == NULL)
			return NULL;
		xmlChar *c = xmlNodeGetContent(n);
		char *s = xstrdup(c ? (const char *)c : "");
		xmlFree(c);
		return s;
	}
	*known = false;
	return NULL;
}

static void run_golden(const char *dir, const char *name)
{
	char *xml_path = xasprintf("%s/%s", dir, name);
	char *ref_path = xasprintf("%s/%.*s.ref", dir, (int)(strlen(name) - 4),
				   name);
	struct buf xml = BUF_INIT, ref = BUF_INIT, input = BUF_INIT;

	if (read_file(xml_path, &xml) < 0 || read_file(ref_path, &ref) < 0) {
		ok(0, "%s: read %s and its .ref", name, xml_path);
		goto out;
	}

	/* First pass: how to feed the parser. */
	char *content_type = NULL, *transcode = NULL;
	char *save = NULL;
	char *refcopy = xstrdup((const char *)ref.data);
	for (char *line = strtok_r(refcopy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "content_type=", 13) == 0)
			content_type = xstrdup(line + 13);
		else if (strncmp(line, "transcode=", 10) == 0)
			transcode = xstrdup(line + 10);
	}
	free(refcopy);

	if (transcode == NULL) {
		buf_append(&input, xml.data, xml.len);
	} else {
		bool le = strncmp(transcode, "UTF-16LE", 8) == 0;
		bool bom = strstr(transcode, "NOBOM") == NULL;
		if (to_utf16(&xml, le, bom, &input) < 0)
			ok(0, "%s: iconv to %s", name, transcode);
	}

	struct wsman_request r;
	int64_t t0 = time_mono_ms();
	enum fault_id f = wsman_parse(input.data, input.len, content_type, &r);
	int64_t elapsed = time_mono_ms() - t0;

	save = NULL;
	refcopy = xstrdup((const char *)ref.data);
	for (char *line = strtok_r(refcopy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *eq = strchr(line, '=');
		if (eq == NULL) {
			ok(0, "%s: bad .ref line '%s'", name, line);
			continue;
		}
		*eq = '\0';
		const char *key = line, *want = eq + 1;
		if (strcmp(key, "content_type") == 0 ||
		    strcmp(key, "transcode") == 0)
			continue;
		if (strcmp(key, "max_ms") == 0) {
			ok(elapsed <= strtol(want, NULL, 10),
			   "%s: parsed in %" PRId64 " ms (<= %s)", name,
			   elapsed, want);
			continue;
		}
		bool known;
		char *got = actual_value(&r, f, key, &known);
		if (!known)
			ok(0, "%s: unknown .ref key '%s'", name, key);
		else
			is_str(got,
			       strcmp(want, "\"\"") == 0 ? ""
			       : *want                   ? want
							 : NULL,
			       "%s: %s", name, key);
		free(got);
	}
	free(refcopy);
	wsman_request_release(&r);
	free(content_type);
	free(transcode);
out:
	buf_release(&xml);
	buf_release(&ref);
	buf_release(&input);
	free(xml_path);
	free(ref_path);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_golden(void)
{
	char *dir = srcdir_path("tests/data/envelopes");
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;

	if (d == NULL) {
		ok(0, "open %s: %s", dir, strerror(errno));
		free(dir);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".xml") == 0) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	ok(n >= 40, "found %zu golden envelopes", n);
	for (size_t i = 0; i < n; i++) {
		run_golden(dir, names[i]);
		free(names[i]);
	}
	free(names);
	free(dir);
}

/*
 * Generated inputs
 */

#define ENV_HEAD                                                               \
	"<s:Envelope xmlns:s=\"" NS_SOAP "\" xmlns:a=\"" NS_ADDRESSING         \
	"\" xmlns:w=\"" NS_WSMAN "\"><s:Header>"                               \
	"<a:Action>" ACTION_GET "</a:Action>"                                  \
	"<a:MessageID>uuid:00000000-0000-4000-8000-000000000001</a:MessageID>" \
	"<a:ReplyTo><a:Address>" ADDR_ANONYMOUS "</a:Address></a:ReplyTo>"
#define ENV_TAIL "</s:Header><s:Body/></s:Envelope>"

static enum fault_id parse_str(const char *s, struct wsman_request *r)
{
	return wsman_parse(s, strlen(s), NULL, r);
}

static void test_counts(void)
{
	struct buf b = BUF_INIT;
	struct wsman_request r;

	for (int n = 64; n <= 65; n++) {
		buf_reset(&b);
		buf_append_str(&b, ENV_HEAD "<w:SelectorSet>");
		for (int i = 0; i < n; i++) {
			buf_printf(&b, "<w:Selector Name=\"k%d\">", i);
			buf_printf(&b, "v%d</w:Selector>", i);
		}
		buf_append_str(&b, "</w:SelectorSet>" ENV_TAIL);
		enum fault_id f = parse_str((const char *)b.data, &r);
		if (n == 64) {
			is_int(f, FAULT_NONE, "64 selectors accepted");
			is_int(r.n_selectors, 64, "64 selectors stored");
			is_str(wsman_selector(&r, "K63"), "v63",
			       "last selector, case-insensitive name");
		} else {
			is_int(f, FAULT_INVALID_SELECTORS,
			       "65 selectors refused");
			is_str(r.message_id,
			       "uuid:00000000-0000-4000-8000-000000000001",
			       "MessageID kept after selector fault");
		}
		wsman_request_release(&r);
	}

	buf_reset(&b);
	buf_append_str(&b, ENV_HEAD "<w:SelectorSet>");
	for (int i = 0; i < 10000; i++)
		buf_append_str(&b, "<w:Selector Name=\"k\">v</w:Selector>");
	buf_append_str(&b, "</w:SelectorSet>" ENV_TAIL);
	int64_t t0 = time_mono_ms();
	is_int(parse_str((const char *)b.data, &r), FAULT_INVALID_SELECTORS,
	       "10000 selectors (360 KB) refused");
	wsman_request_release(&r);
	ok(time_mono_ms() - t0 < 2000, "10000 selectors refused quickly");

	for (int n = 64; n <= 65; n++) {
		buf_reset(&b);
		buf_append_str(&b, ENV_HEAD "<w:OptionSet>");
		for (int i = 0; i < n; i++)
			buf_printf(&b, "<w:Option Name=\"o%d\">%d</w:Option>",
				   i, i);
		buf_append_str(&b, "</w:OptionSet>" ENV_TAIL);
		enum fault_id f = parse_str((const char *)b.data, &r);
		is_int(f, n == 64 ? FAULT_NONE : FAULT_INVALID_OPTIONS,
		       "%d options", n);
		wsman_request_release(&r);
	}
	buf_release(&b);
}

static void test_misc_parse(void)
{
	struct wsman_request r;

	is_int(wsman_parse(NULL, 0, NULL, &r), FAULT_INVALID_XML,
	       "NULL body refused");
	wsman_request_release(&r);
	is_int(wsman_parse("\xEF\xBB\xBF", 3, NULL, &r), FAULT_INVALID_XML,
	       "lone UTF-8 BOM refused");
	wsman_request_release(&r);

	/* A UTF-16 BOM wins over a UTF-8 charset parameter. */
	struct buf u8 = BUF_INIT, u16 = BUF_INIT;
	buf_append_str(&u8, ENV_HEAD ENV_TAIL);
	to_utf16(&u8, true, true, &u16);
	is_int(wsman_parse(u16.data, u16.len,
			   "application/soap+xml;charset=UTF-8", &r),
	       FAULT_NONE, "BOM wins over charset=UTF-8");
	is_int(r.charset, WSMAN_UTF16LE, "charset from BOM");
	wsman_request_release(&r);
	/* An XML declaration inside UTF-16 naming UTF-8 is tolerated. */
	buf_reset(&u8);
	buf_reset(&u16);
	buf_append_str(
		&u8,
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>" ENV_HEAD ENV_TAIL);
	to_utf16(&u8, true, true, &u16);
	is_int(wsman_parse(u16.data, u16.len, NULL, &r), FAULT_NONE,
	       "UTF-16 body with a UTF-8 declaration");
	wsman_request_release(&r);
	buf_reset(&u8);
	buf_reset(&u16);
	buf_append_str(&u8,
		       "<?xml version=\"1.0\" encoding=\"UTF-16\"?>" ENV_HEAD
			       ENV_TAIL);
	to_utf16(&u8, false, true, &u16);
	is_int(wsman_parse(u16.data, u16.len, NULL, &r), FAULT_NONE,
	       "UTF-16BE body declaring UTF-16");
	is_int(r.charset, WSMAN_UTF16BE, "big-endian from the BOM");
	wsman_request_release(&r);
	is_int(wsman_parse(u8.data, u8.len, NULL, &r), FAULT_NONE,
	       "UTF-8 body declaring UTF-16 is read as what it is");
	wsman_request_release(&r);
	/* Odd Content-Type parameters. */
	static const struct {
		const char *ct;
		enum fault_id want;
	} cts[] = {
		{ "application/soap+xml; charset=\"utf-8\"", FAULT_NONE },
		{ "application/soap+xml;action=\"x;y\";charset=UTF-8",
		  FAULT_NONE },
		{ "application/soap+xml", FAULT_NONE },
		{ "application/soap+xml;charset=", FAULT_UNSUPPORTED_CHARSET },
		{ "application/soap+xml;charset=UTF-8UTF-8UTF-8UTF-8UTF-8UTF-8"
		  "UTF-8UTF-8",
		  FAULT_UNSUPPORTED_CHARSET },
		{ "application/soap+xml;charset=utf-32",
		  FAULT_UNSUPPORTED_CHARSET },
		{ "application/soap+xml;CHARSET = utf8", FAULT_NONE },
	};
	for (size_t i = 0; i < sizeof(cts) / sizeof(cts[0]); i++) {
		is_int(wsman_parse(ENV_HEAD ENV_TAIL,
				   sizeof(ENV_HEAD ENV_TAIL) - 1, cts[i].ct,
				   &r),
		       cts[i].want, "Content-Type '%s'", cts[i].ct);
		wsman_request_release(&r);
	}

	/* EBCDIC-looking start is never guessed. */
	is_int(wsman_parse("\x4C\x6F\xA7\x94", 4, NULL, &r), FAULT_INVALID_XML,
	       "EBCDIC signature refused");
	wsman_request_release(&r);
	buf_release(&u8);
	buf_release(&u16);

	/* Parser context reuse: many parses, good and bad interleaved, and
	 * enough distinct names to force a context replacement. */
	struct buf b = BUF_INIT;
	int good = 0, bad = 0;
	for (int i = 0; i < 6000; i++) {
		buf_reset(&b);
		if (i % 3 == 0) {
			buf_append_str(&b,
				       "<!DOCTYPE x [<!ENTITY e \"e\">]><x/>");
			bad += parse_str((const char *)b.data, &r) ==
			       FAULT_DTD_NOT_ALLOWED;
		} else {
			/* Distinct names and namespaces per request. */
			buf_printf(&b, ENV_HEAD "<u:N%d xmlns:u=\"urn:u%d\"/>",
				   i, i);
			buf_append_str(&b, ENV_TAIL);
			good += parse_str((const char *)b.data, &r) ==
				FAULT_NONE;
		}
		wsman_request_release(&r);
	}
	is_int(good, 4000, "reused context: 4000 good parses");
	is_int(bad, 2000, "reused context: 2000 DOCTYPEs refused");
	buf_release(&b);

	/* Lookups on an empty request. */
	memset(&r, 0, sizeof(r));
	ok(wsman_selector(&r, "ShellId") == NULL,
	   "no selector on empty request");
	ok(wsman_option(&r, "X") == NULL, "no option on empty request");
	wsman_request_release(&r);
	wsman_request_release(NULL);
	ok(1, "release(NULL) and double release are safe");
}

static void count_generic(void *ctx, const char *msg, ...)
{
	(void)msg;
	(*(int *)ctx)++;
}

/* libxml2 must print nothing, and the thread's handlers must be back in
 * place after each parse. */
static void test_silence(void)
{
	static const char *const bad[] = {
		"<a></b>",
		"<!DOCTYPE a SYSTEM \"http://x.invalid/a.dtd\"><a/>",
		"<a>\xC3</a>",
		"<a>&undefined;</a>",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a",
	};
	/* Unpaired surrogates in UTF-16LE: the decoder fails without a
	 * parser context. */
	static const char u16[] = "\xFF\xFE<\0a\0>\0\x00\xD9&\0&\0<\0/\0a\0>\0";
	struct wsman_request r;
	int calls = 0;

	xmlSetGenericErrorFunc(&calls, count_generic);
	xmlGenericErrorFunc before = xmlGenericError;
	fflush(stderr);
	int saved = dup(2);
	FILE *tmp = tmpfile();
	dup2(fileno(tmp), 2);
	int faults = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		faults += parse_str(bad[i], &r) != FAULT_NONE;
		wsman_request_release(&r);
	}
	faults += wsman_parse(u16, sizeof(u16) - 1, NULL, &r) != FAULT_NONE;
	wsman_request_release(&r);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fseek(tmp, 0, SEEK_END);
	long written = ftell(tmp);
	fclose(tmp);
	is_int(faults, 6, "bad inputs refused");
	is_int(written, 0, "nothing written to stderr");
	is_int(calls, 0, "thread's generic handler not called during parse");
	ok(xmlGenericError == before && xmlGenericErrorContext == &calls,
	   "thread's generic handler restored");
	ok(xmlStructuredError == NULL, "thread's structured handler restored");
	xmlSetGenericErrorFunc(NULL, NULL);
}

/* Parse in one thread, release in another (documents must not depend on
 * the parsing thread's context). */
static void *thread_parse(void *arg)
{
	struct wsman_request *reqs = arg;
	for (int i = 0; i < 50; i++)
		parse_str(ENV_HEAD ENV_TAIL, &reqs[i]);
	envelope_thread_cleanup();
	return NULL;
}

static void test_threads(void)
{
	enum { T = 4, N = 50 };
	static struct wsman_request reqs[T][N];
	pthread_t th[T];
	int okc = 0;

	for (int i = 0; i < T; i++)
		pthread_create(&th[i], NULL, thread_parse, reqs[i]);
	for (int i = 0; i < T; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < T; i++)
		for (int j = 0; j < N; j++) {
			okc += reqs[i][j].action != NULL &&
			       strcmp(reqs[i][j].action, ACTION_GET) == 0;
			wsman_request_release(&reqs[i][j]);
		}
	is_int(okc, T * N, "parsed in %d threads, released in another", T);
}

/*
 * xs:duration
 */

static void test_duration(void)
{
	static const struct {
		const char *in;
		int64_t ms; /* -1 = refused */
	} cases[] = {
		{ "PT20S", 20000 },
		{ "PT60S", 60000 },
		{ "PT60.000S", 60000 },
		{ "PT1M30S", 90000 },
		{ "P0DT0H0M0S", 0 },
		{ "PT0S", 0 },
		{ "P1W", 7 * 86400000LL },
		{ "P1W2DT3H", (9 * 24 + 3) * 3600000LL },
		{ "P1DT2H", 26 * 3600000LL },
		{ "PT0.5S", 500 },
		{ "PT.25S", 250 },
		{ "PT1.2345S", 1234 },
		{ "PT7200.000S", 7200000 },
		{ "P1Y", 365 * 86400000LL },
		{ "P1M", 30 * 86400000LL },
		{ "PT1M", 60000 },
		{ "\tPT5S  ", 5000 },
		{ "PT-1S", -1 },
		{ "-PT1S", -1 },
		{ "", -1 },
		{ "P", -1 },
		{ "PT", -1 },
		{ "P1DT", -1 },
		{ "T5S", -1 },
		{ "PT5", -1 },
		{ "PT5s", -1 },
		{ "20", -1 },
		{ "twenty seconds", -1 },
		{ "PT1S1M", -1 },
		{ "PT1H1H", -1 },
		{ "P1.5D", -1 },
		{ "PT1.5M", -1 },
		{ "PTT1S", -1 },
		{ "PT5S junk", -1 },
		{ "P2D1W", -1 },
		{ "PT9223372036854775807S", -1 },
		{ "PT9223372036854775S", 9223372036854775000LL },
		{ "PT9223372036854776S", -1 },
		{ "PT9223372036854775.807S", INT64_MAX },
		{ "P99999999999999999999D", -1 },
		{ "P106751991167D", 106751991167LL * 86400000LL },
		{ "P106751991168D", -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = -7;
		int rc = wsman_duration_parse(cases[i].in, &ms);
		if (cases[i].ms < 0)
			ok(rc < 0, "duration '%s' refused", cases[i].in);
		else
			ok(rc == 0 && ms == cases[i].ms,
			   "duration '%s' = %" PRId64 " ms (got %" PRId64 ")",
			   cases[i].in, cases[i].ms, ms);
	}
	ok(wsman_duration_parse(NULL, &(int64_t){ 0 }) < 0, "NULL refused");

	struct buf b = BUF_INIT;
	wsman_duration_format(&b, 7200000);
	is_str((const char *)b.data, "PT7200.000S", "format 7200000");
	buf_reset(&b);
	wsman_duration_format(&b, 1500);
	is_str((const char *)b.data, "PT1.500S", "format 1500");
	buf_reset(&b);
	wsman_duration_format(&b, -5);
	is_str((const char *)b.data, "PT0.000S", "format negative as 0");
	int64_t back = 0;
	ok(wsman_duration_parse((const char *)b.data, &back) == 0 && back == 0,
	   "formatted value parses back");
	buf_release(&b);
}

/*
 * Rendering
 */

static void test_escape(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" },
		{ "<&>\"'", "&lt;&amp;&gt;&quot;&apos;" },
		{ "a\tb\nc\rd", "a&#9;b&#10;c&#13;d" },
		{ "bell\x07", "bell\xEF\xBF\xBD" },
		{ "Gr\xC3\xBC\xC3\x9F"
		  "e",
		  "Gr\xC3\xBC\xC3\x9F"
		  "e" },
		{ "\xE6\x97\xA5\xF0\x9F\x98\x80",
		  "\xE6\x97\xA5\xF0\x9F\x98\x80" },
		{ "bad\xC3", "bad\xEF\xBF\xBD" },
		{ "\xC0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "\xEF\xBF\xBE", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
				      "\xEF\xBF\xBD" },
		{ "]]>", "]]&gt;" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;
		xml_escape(&b, cases[i].in);
		buf_append(&b, "", 0);
		is_str((const char *)b.data, cases[i].out, "escape case %zu",
		       i);
		buf_release(&b);
	}
	struct buf b = BUF_INIT;
	xml_escape_n(&b, "a\0b", 3);
	ok(b.len == 5 && memcmp(b.data, "a\xEF\xBF\xBD", 4) == 0,
	   "embedded NUL replaced");
	buf_release(&b);
	xml_escape(&b, NULL);
	ok(b.len == 0, "NULL escapes to nothing");
	buf_release(&b);
}

#define ENVELOPE_START "<s:Envelope xml:lang=\"en-US\""

static const char *node_text(xmlNode *n)
{
	return n != NULL && n->children != NULL
		       ? (const char *)n->children->content
		       : NULL;
}

static void test_response(void)
{
	struct buf b = BUF_INIT;
	wsman_response_begin(&b, ACTION_SHELL_COMMAND "Response",
			     "uuid:abc<&\">");
	buf_append_str(&b, "<rsp:CommandResponse><rsp:CommandId>X"
			   "</rsp:CommandId></rsp:CommandResponse>");
	wsman_response_end(&b);

	ok(strncmp((const char *)b.data, ENVELOPE_START,
		   sizeof(ENVELOPE_START) - 1) == 0,
	   "no XML declaration; Envelope first");
	contains((const char *)b.data, "xmlns:rsp=\"" NS_SHELL "\"",
		 "rsp declared on the Envelope");
	contains((const char *)b.data,
		 "<a:RelatesTo>uuid:abc&lt;&amp;&quot;&gt;</a:RelatesTo>",
		 "RelatesTo escaped");

	xmlDoc *doc = xmlReadMemory((const char *)b.data, (int)b.len, NULL,
				    NULL, XML_PARSE_NONET);
	ok(doc != NULL, "response is well-formed");
	if (doc != NULL) {
		xmlNode *root = xmlDocGetRootElement(doc);
		xmlNode *hdr = root->children;
		xmlNode *action = hdr->children;
		xmlNode *mid = action->next;
		xmlNode *to = mid->next;
		xmlNode *rel = to->next;
		is_str((const char *)hdr->name, "Header", "Header first");
		is_str(node_text(action), NS_SHELL "/CommandResponse",
		       "Action");
		const char *m = node_text(mid);
		ok(m != NULL && strlen(m) == 41 && strncmp(m, "uuid:", 5) == 0,
		   "MessageID is uuid:GUID");
		bool upper = m != NULL;
		for (const char *p = m ? m + 5 : ""; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				upper = false;
		ok(upper, "MessageID GUID is upper case");
		is_str(node_text(to), ADDR_ANONYMOUS, "To anonymous");
		is_str(node_text(rel), "uuid:abc<&\">", "RelatesTo round trip");
		is_str((const char *)hdr->next->name, "Body", "Body second");
		xmlFreeDoc(doc);
	}

	buf_reset(&b);
	wsman_response_begin(&b, ACTION_DELETE "Response", NULL);
	wsman_response_end(&b);
	ok(strstr((const char *)b.data, "RelatesTo") == NULL,
	   "RelatesTo omitted when NULL");
	contains((const char *)b.data,
		 "</s:Header><s:Body></s:Body></s:Envelope>",
		 "empty body shape");
	buf_release(&b);
}

static void test_transcode(void)
{
	const char *text = "<x>Gr\xC3\xBC\xC3\x9F"
			   "e \xF0\x9F\x98\x80</x>";
	struct buf b = BUF_INIT;

	buf_append_str(&b, text);
	is_int(wsman_transcode(&b, WSMAN_UTF8), 0, "UTF-8: no-op");
	is_str((const char *)b.data, text, "UTF-8 unchanged");

	is_int(wsman_transcode(&b, WSMAN_UTF16LE), 0, "to UTF-16LE");
	ok(b.len >= 2 && b.data[0] == 0xFF && b.data[1] == 0xFE, "LE BOM");
	ok(b.data[2] == '<' && b.data[3] == 0, "LE byte order");
	/* libxml2 reads it back through the BOM. */
	xmlDoc *doc = xmlReadMemory((const char *)b.data, (int)b.len, NULL,
				    NULL, XML_PARSE_NONET);
	ok(doc != NULL, "UTF-16LE output parses");
	if (doc != NULL) {
		xmlChar *c = xmlNodeGetContent(xmlDocGetRootElement(doc));
		is_str((const char *)c,
		       "Gr\xC3\xBC\xC3\x9F"
		       "e \xF0\x9F\x98\x80",
		       "UTF-16LE round trip incl. surrogate pair");
		xmlFree(c);
		xmlFreeDoc(doc);
	}

	buf_reset(&b);
	buf_append_str(&b, text);
	is_int(wsman_transcode(&b, WSMAN_UTF16BE), 0, "to UTF-16BE");
	ok(b.data[0] == 0xFE && b.data[1] == 0xFF && b.data[2] == 0 &&
		   b.data[3] == '<',
	   "BE BOM and byte order");
	is_int(b.len, 2 + 2 * 13 + 4, "BE length");

	buf_reset(&b);
	buf_append_str(&b, "ok\xC3");
	size_t before = b.len;
	is_int(wsman_transcode(&b, WSMAN_UTF16LE), -1, "invalid UTF-8 refused");
	ok(b.len == before && memcmp(b.data, "ok\xC3", 3) == 0,
	   "buffer unchanged on failure");
	buf_release(&b);

	is_int(wsman_transcode(&b, WSMAN_UTF16LE), 0, "empty body");
	is_int(b.len, 2, "empty body gives the BOM only");
	buf_release(&b);

	is_str(wsman_content_type(WSMAN_UTF8),
	       "application/soap+xml;charset=UTF-8", "content type UTF-8");
	is_str(wsman_content_type(WSMAN_UTF16LE),
	       "application/soap+xml;charset=UTF-16", "content type UTF-16LE");
	is_str(wsman_content_type(WSMAN_UTF16BE),
	       "application/soap+xml;charset=UTF-16", "content type UTF-16BE");
}

int main(void)
{
	envelope_global_init();
	test_golden();
	test_counts();
	test_misc_parse();
	test_silence();
	test_threads();
	test_duration();
	test_escape();
	test_response();
	test_transcode();
	envelope_thread_cleanup();
	xmlCleanupParser();
	return tap_done();
}
