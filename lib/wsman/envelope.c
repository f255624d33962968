/*
 * envelope.c - hardened libxml2 parse of a WS-Management request into a
 * struct wsman_request.
 *
 * Hardening: a per-thread parser context whose SAX internalSubset hook
 * stops the parser at the first DOCTYPE, before any entity or DTD
 * declaration is read (so a billion-laughs body costs a few hundred bytes
 * of scanning); no network, no entity substitution, no DTD loading or
 * validation; libxml2's error reports go to a silent handler on that
 * context, and the calling thread's own handlers are silenced for the
 * duration of the parse only (see handlers_silence).  The encoding
 * declaration inside the document is ignored (the charset is decided here
 * from BOM, HTTP charset and the first bytes) but must name UTF-8 or
 * UTF-16.  Processing instructions (other than the XML declaration) and
 * comments are dropped, not refused: SOAP 1.2 part 1 §5 tells receivers
 * to ignore PIs, and they are harmless without XInclude or stylesheets.
 *
 * Decisions on what real clients send: only the SOAP-qualified
 * mustUnderstand counts; Identify needs no addressing headers and may omit
 * the Header; everything else needs Action, MessageID and a ReplyTo whose
 * Address is the anonymous role (as Windows, which refuses other reply
 * addresses; FaultTo likewise); a repeated single-valued header is an
 * invalid header; header, selector and option values are trimmed of XML
 * white space (pretty-printed clients; GUIDs and booleans have none); at
 * most 64 selectors and 64 options, selector names unique
 * (case-insensitively).
 *
 * Speed: the context is reused (xmlCtxtReadMemory resets it), the header
 * block is walked once, no XPath.  Documents do not share the context's
 * dictionary (XML_PARSE_NODICT), so a request may be released on any
 * thread; the context is replaced when its dictionary has grown, so
 * attacker-chosen names cannot grow it without bound.
 *
 * Must not: log, exit, call handlers, or keep pointers into the caller's
 * buffer.
 *
 * Entry points: envelope_global_init, envelope_thread_cleanup, wsman_parse,
 * wsman_request_release, wsman_selector, wsman_option.
 */
#include "autoconfig.h"

#include "lib/wsman/envelope.h"
#include "lib/wsman/ns.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#define NS_XML "http://www.w3.org/XML/1998/namespace"

/* Bounds on header content (the body cap bounds everything else). */
#define MAX_SELECTORS 64
#define MAX_OPTIONS 64
/* A context whose dictionary holds more names than this is replaced. */
#define DICT_RECYCLE 4096

#define PARSE_OPTIONS                                                          \
	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |           \
	 XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC | XML_PARSE_NODICT)

/*
 * Per-thread parser state.  Owned by the thread; freed by the key
 * destructor when the thread exits, or by envelope_thread_cleanup().
 */
struct parser_state {
	xmlParserCtxtPtr ctxt;
	bool dtd_seen;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t state_key;
static bool state_key_ok;
static _Thread_local struct parser_state *tls_state;

static void state_free(void *p)
{
	struct parser_state *st = p;
	if (st == NULL)
		return;
	if (st->ctxt != NULL)
		xmlFreeParserCtxt(st->ctxt);
	free(st);
}

static void global_init_once(void)
{
	xmlInitParser();
	/* Failure only means contexts of exiting threads are not freed. */
	state_key_ok = pthread_key_create(&state_key, state_free) == 0;
}

void envelope_global_init(void)
{
	pthread_once(&init_once, global_init_once);
}

void envelope_thread_cleanup(void)
{
	struct parser_state *st = tls_state;
	if (st == NULL)
		return;
	tls_state = NULL;
	if (state_key_ok)
		pthread_setspecific(state_key, NULL);
	state_free(st);
}

/* libxml2 reports every error here for our contexts; we only need the
 * outcome (wellFormed / the returned document). */
static void silent_error(void *ctx, xmlErrorPtr error)
{
	(void)ctx;
	(void)error;
}

static void silent_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/*
 * Errors raised without a parser context (the UTF-16 decoder's "input
 * conversion failed", I/O "encoder error") bypass the context's handler
 * and go to the calling thread's structured or generic handler, which
 * prints to stderr by default.  These handlers are per thread in libxml2;
 * they are swapped for silent ones around the parse only and restored
 * after, so nothing else in this or any other thread is affected.
 */
struct saved_handlers {
	xmlGenericErrorFunc generic;
	void *generic_ctx;
	xmlStructuredErrorFunc structured;
	void *structured_ctx;
};

static void handlers_silence(struct saved_handlers *sv)
{
	sv->generic = xmlGenericError;
	sv->generic_ctx = xmlGenericErrorContext;
	sv->structured = xmlStructuredError;
	sv->structured_ctx = xmlStructuredErrorContext;
	xmlSetGenericErrorFunc(NULL, silent_generic);
	xmlSetStructuredErrorFunc(NULL, silent_error);
}

static void handlers_restore(const struct saved_handlers *sv)
{
	xmlSetGenericErrorFunc(sv->generic_ctx, sv->generic);
	xmlSetStructuredErrorFunc(sv->structured_ctx, sv->structured);
}

/*
 * SAX hook called right after "<!DOCTYPE name ExternalID" is read, before
 * the internal subset: stopping here means no entity declaration is ever
 * parsed, let alone expanded.
 */
static void refuse_doctype(void *ctx, const xmlChar *name,
			   const xmlChar *external_id, const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parser_state *st = ctxt->_private;

	(void)name;
	(void)external_id;
	(void)system_id;
	st->dtd_seen = true;
	xmlStopParser(ctxt);
}

static xmlParserCtxtPtr ctxt_new(struct parser_state *st)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (ctxt == NULL)
		return NULL;
	xmlSAXHandlerPtr sax = ctxt->sax;
	sax->internalSubset = refuse_doctype;
	sax->externalSubset = NULL;
	sax->entityDecl = NULL;
	sax->notationDecl = NULL;
	sax->attributeDecl = NULL;
	sax->elementDecl = NULL;
	sax->unparsedEntityDecl = NULL;
	sax->processingInstruction = NULL;
	sax->comment = NULL;
	sax->warning = NULL;
	sax->error = NULL;
	sax->fatalError = NULL;
	sax->serror = silent_error;
	ctxt->vctxt.error = NULL;
	ctxt->vctxt.warning = NULL;
	ctxt->_private = st;
	return ctxt;
}

static struct parser_state *thread_state(void)
{
	struct parser_state *st = tls_state;
	if (st != NULL) {
		if (xmlDictSize(st->ctxt->dict) <= DICT_RECYCLE)
			return st;
		xmlFreeParserCtxt(st->ctxt);
		st->ctxt = ctxt_new(st);
		if (st->ctxt == NULL) {
			envelope_thread_cleanup();
			return NULL;
		}
		return st;
	}
	envelope_global_init();
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->ctxt = ctxt_new(st);
	if (st->ctxt == NULL) {
		free(st);
		return NULL;
	}
	tls_state = st;
	if (state_key_ok)
		pthread_setspecific(state_key, st);
	return st;
}

/*
 * Charset detection
 */

static bool is_ws(unsigned c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copies the charset parameter of an HTTP Content-Type (unquoted, at most
 * size-1 bytes) into out; returns false when there is none. */
static bool content_type_charset(const char *ct, char *out, size_t size)
{
	const char *p = ct;
	if (ct == NULL)
		return false;
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (is_ws((unsigned char)*p))
			p++;
		if (strncasecmp(p, "charset", 7) != 0)
			continue;
		p += 7;
		while (is_ws((unsigned char)*p))
			p++;
		if (*p != '=')
			continue;
		p++;
		while (is_ws((unsigned char)*p))
			p++;
		bool quoted = *p == '"';
		if (quoted)
			p++;
		size_t n = 0;
		while (*p != '\0' && *p != ';' && *p != '"' &&
		       !is_ws((unsigned char)*p)) {
			if (n + 1 >= size) {
				out[0] = '\0'; /* too long: no valid name */
				return true;
			}
			out[n++] = *p++;
		}
		out[n] = '\0';
		return true;
	}
	return false;
}

/* Code unit i of the body in the given charset (0 past the end). */
static unsigned unit_at(const uint8_t *p, size_t len, enum wsman_charset cs,
			size_t i)
{
	if (cs == WSMAN_UTF8)
		return i < len ? p[i] : 0;
	if (2 * i + 1 >= len)
		return 0;
	if (cs == WSMAN_UTF16LE)
		return p[2 * i] | (unsigned)p[2 * i + 1] << 8;
	return (unsigned)p[2 * i] << 8 | p[2 * i + 1];
}

static bool charset_name_ok(const char *name)
{
	static const char *const ok[] = { "UTF-8", "UTF8",     "UTF-16",
					  "UTF16", "UTF-16LE", "UTF-16BE" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (str_ieq(name, ok[i]))
			return true;
	return false;
}

/*
 * With XML_PARSE_IGNORE_ENC libxml2 ignores the encoding declaration;
 * refuse one that names something other than UTF-8/UTF-16 rather than
 * silently decode it differently from what it says.  Returns false for a
 * declaration naming another charset; anything odd is left to the parser.
 */
static bool xml_decl_charset_ok(const uint8_t *p, size_t len,
				enum wsman_charset cs)
{
	static const char prefix[] = "<?xml";
	size_t i;

	for (i = 0; i < 5; i++)
		if (unit_at(p, len, cs, i) != (unsigned char)prefix[i])
			return true;
	if (!is_ws(unit_at(p, len, cs, 5)))
		return true;
	/* Scan the declaration (bounded) for encoding = "name". */
	for (i = 6; i < 256; i++) {
		unsigned c = unit_at(p, len, cs, i);
		if (c == 0 || c == '?' || c >= 0x80)
			return true;
		static const char kw[] = "encoding";
		size_t k;
		for (k = 0; k < 8; k++)
			if (unit_at(p, len, cs, i + k) != (unsigned char)kw[k])
				break;
		if (k < 8)
			continue;
		size_t j = i + 8;
		while (is_ws(unit_at(p, len, cs, j)))
			j++;
		if (unit_at(p, len, cs, j++) != '=')
			return true;
		while (is_ws(unit_at(p, len, cs, j)))
			j++;
		unsigned q = unit_at(p, len, cs, j++);
		if (q != '"' && q != '\'')
			return true;
		char name[32];
		size_t n = 0;
		for (;; j++) {
			c = unit_at(p, len, cs, j);
			if (c == q)
				break;
			if (c == 0 || c >= 0x80 || n + 1 >= sizeof(name))
				return false;
			name[n++] = (char)c;
		}
		name[n] = '\0';
		return charset_name_ok(name);
	}
	return true;
}

/*
 * Decides the body's charset: a BOM wins, then the HTTP charset parameter,
 * then the first two bytes ("<\0" / "\0<").  *skip_r is the BOM length.
 */
static enum fault_id detect_charset(const uint8_t *p, size_t len,
				    const char *content_type,
				    enum wsman_charset *cs_r, size_t *skip_r)
{
	char name[32];

	*skip_r = 0;
	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
		*cs_r = WSMAN_UTF8;
		*skip_r = 3;
		return FAULT_NONE;
	}
	if (len >= 2 && p[0] == 0xFF && p[1] == 0xFE) {
		*cs_r = WSMAN_UTF16LE;
		*skip_r = 2;
		return FAULT_NONE;
	}
	if (len >= 2 && p[0] == 0xFE && p[1] == 0xFF) {
		*cs_r = WSMAN_UTF16BE;
		*skip_r = 2;
		return FAULT_NONE;
	}

	bool be_bytes = len >= 2 && p[0] == 0 && p[1] != 0;
	bool le_bytes = len >= 2 && p[0] != 0 && p[1] == 0;

	if (content_type_charset(content_type, name, sizeof(name))) {
		if (str_ieq(name, "UTF-8") || str_ieq(name, "UTF8"))
			*cs_r = WSMAN_UTF8;
		else if (str_ieq(name, "UTF-16") || str_ieq(name, "UTF16"))
			/* No BOM: Windows writes little-endian. */
			*cs_r = be_bytes ? WSMAN_UTF16BE : WSMAN_UTF16LE;
		else if (str_ieq(name, "UTF-16LE"))
			*cs_r = WSMAN_UTF16LE;
		else if (str_ieq(name, "UTF-16BE"))
			*cs_r = WSMAN_UTF16BE;
		else
			return FAULT_UNSUPPORTED_CHARSET;
		return FAULT_NONE;
	}
	if (be_bytes)
		*cs_r = WSMAN_UTF16BE;
	else if (le_bytes)
		*cs_r = WSMAN_UTF16LE;
	else
		*cs_r = WSMAN_UTF8;
	return FAULT_NONE;
}

/*
 * Tree helpers
 */

static bool ns_is(const xmlNode *n, const char *href)
{
	return n->ns != NULL && n->ns->href != NULL &&
	       strcmp((const char *)n->ns->href, href) == 0;
}

static bool name_is(const xmlNode *n, const char *local)
{
	return strcmp((const char *)n->name, local) == 0;
}

static xmlNode *next_element(xmlNode *n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

#define FOR_EACH_ELEMENT(child, parent)                                        \
	for (xmlNode *child = next_element((parent)->children); child != NULL; \
	     child = next_element(child->next))

/* Value of the attribute local (in namespace href, or unqualified when
 * href is NULL), or NULL.  Points into the tree. */
static const char *attr_value(const xmlNode *n, const char *local,
			      const char *href)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		if (strcmp((const char *)a->name, local) != 0)
			continue;
		if (href == NULL ? a->ns != NULL
				 : a->ns == NULL || a->ns->href == NULL ||
					   strcmp((const char *)a->ns->href,
						  href) != 0)
			continue;
		const xmlNode *t = a->children;
		if (t == NULL)
			return "";
		if (t->next == NULL && t->type == XML_TEXT_NODE &&
		    t->content != NULL)
			return (const char *)t->content;
		return NULL; /* entity references: not in our documents */
	}
	return NULL;
}

/* Trimmed copy of the text content of n's direct text children; the
 * caller frees it. */
static char *text_of(const xmlNode *n)
{
	const xmlNode *c = n->children;
	const char *s;
	size_t len;
	char *joined = NULL;

	if (c != NULL && c->next == NULL && c->type == XML_TEXT_NODE) {
		s = c->content != NULL ? (const char *)c->content : "";
		len = strlen(s);
	} else {
		struct buf b = BUF_INIT;
		for (; c != NULL; c = c->next)
			if ((c->type == XML_TEXT_NODE ||
			     c->type == XML_CDATA_SECTION_NODE) &&
			    c->content != NULL)
				buf_append_str(&b, (const char *)c->content);
		joined = buf_steal(&b);
		s = joined;
		len = strlen(s);
	}
	while (len > 0 && is_ws((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_ws((unsigned char)s[len - 1]))
		len--;
	char *r = xstrndup(s, len);
	free(joined);
	return r;
}

/* s:mustUnderstand="true"/"1" in the SOAP 1.2 namespace; an unqualified
 * mustUnderstand (pywinrm, Go, Ruby) has no SOAP meaning. */
static bool must_understand(const xmlNode *n)
{
	bool v = false;
	const char *s = attr_value(n, "mustUnderstand", NS_SOAP);
	return s != NULL && str_parse_bool(s, &v) == 0 && v;
}

/*
 * Header block
 */

enum header_kind {
	H_UNKNOWN,
	H_TO,
	H_REPLY_TO,
	H_FAULT_TO,
	H_ACTION,
	H_MESSAGE_ID,
	H_RESOURCE_URI,
	H_SELECTOR_SET,
	H_OPTION_SET,
	H_OPERATION_TIMEOUT,
	H_MAX_ENVELOPE_SIZE,
	H_LOCALE,
	H_IGNORED, /* understood, nothing to extract */
};

static enum header_kind classify(const xmlNode *n)
{
	if (n->ns == NULL || n->ns->href == NULL)
		return H_UNKNOWN;
	const char *href = (const char *)n->ns->href;

	if (strcmp(href, NS_ADDRESSING) == 0) {
		if (name_is(n, "To"))
			return H_TO;
		if (name_is(n, "ReplyTo"))
			return H_REPLY_TO;
		if (name_is(n, "Action"))
			return H_ACTION;
		if (name_is(n, "MessageID"))
			return H_MESSAGE_ID;
		if (name_is(n, "FaultTo"))
			return H_FAULT_TO;
	} else if (strcmp(href, NS_WSMAN) == 0) {
		if (name_is(n, "ResourceURI"))
			return H_RESOURCE_URI;
		if (name_is(n, "SelectorSet"))
			return H_SELECTOR_SET;
		if (name_is(n, "OptionSet"))
			return H_OPTION_SET;
		if (name_is(n, "OperationTimeout"))
			return H_OPERATION_TIMEOUT;
		if (name_is(n, "MaxEnvelopeSize"))
			return H_MAX_ENVELOPE_SIZE;
		if (name_is(n, "Locale"))
			return H_LOCALE;
	} else if (strcmp(href, NS_WSMV) == 0) {
		if (name_is(n, "DataLocale") || name_is(n, "SessionId") ||
		    name_is(n, "OperationID") || name_is(n, "SequenceId"))
			return H_IGNORED;
	} else if (strcmp(href, NS_MACHINEID) == 0) {
		if (name_is(n, "MachineID"))
			return H_IGNORED;
	}
	return H_UNKNOWN;
}

/* Stores text_of(n) in *slot; a second occurrence is an invalid header
 * (Windows: "invalid, duplicated, or too long"). */
static enum fault_id take_text(const xmlNode *n, char **slot)
{
	if (*slot != NULL)
		return FAULT_INVALID_HEADER;
	*slot = text_of(n);
	return **slot == '\0' ? FAULT_INVALID_HEADER : FAULT_NONE;
}

/* ReplyTo / FaultTo: an a:Address that is the anonymous role (the only
 * reply address a listener can honour; Windows refuses others too). */
static enum fault_id take_endpoint(const xmlNode *n, char **slot)
{
	char *addr = NULL;

	if (*slot != NULL)
		return FAULT_INVALID_HEADER;
	FOR_EACH_ELEMENT (c, n) {
		if (ns_is(c, NS_ADDRESSING) && name_is(c, "Address")) {
			if (addr != NULL) {
				free(addr);
				return FAULT_INVALID_HEADER;
			}
			addr = text_of(c);
		}
	}
	if (addr == NULL)
		return FAULT_INVALID_HEADER;
	*slot = addr;
	return strcmp(addr, ADDR_ANONYMOUS) == 0 ? FAULT_NONE
						 : FAULT_INVALID_HEADER;
}

static enum fault_id take_selectors(const xmlNode *set,
				    struct wsman_request *req)
{
	size_t count = 0;

	if (req->selectors != NULL)
		return FAULT_INVALID_HEADER;
	FOR_EACH_ELEMENT (c, set) {
		if (!ns_is(c, NS_WSMAN) || !name_is(c, "Selector"))
			return FAULT_INVALID_SELECTORS;
		if (++count > MAX_SELECTORS)
			return FAULT_INVALID_SELECTORS;
	}
	req->selectors = xcalloc(count, sizeof(*req->selectors));
	FOR_EACH_ELEMENT (c, set) {
		const char *name = attr_value(c, "Name", NULL);
		/* Selectors whose value is an EPR are not supported. */
		if (name == NULL || *name == '\0' ||
		    next_element(c->children) != NULL)
			return FAULT_INVALID_SELECTORS;
		for (size_t i = 0; i < req->n_selectors; i++)
			if (str_ieq(req->selectors[i].name, name))
				return FAULT_INVALID_SELECTORS;
		struct wsman_selector *s = &req->selectors[req->n_selectors++];
		s->name = xstrdup(name);
		s->value = text_of(c);
	}
	return FAULT_NONE;
}

static enum fault_id take_options(const xmlNode *set, struct wsman_request *req)
{
	size_t count = 0;

	if (req->options != NULL)
		return FAULT_INVALID_HEADER;
	FOR_EACH_ELEMENT (c, set) {
		if (!ns_is(c, NS_WSMAN) || !name_is(c, "Option"))
			return FAULT_INVALID_OPTIONS;
		if (++count > MAX_OPTIONS)
			return FAULT_INVALID_OPTIONS;
	}
	req->options = xcalloc(count, sizeof(*req->options));
	FOR_EACH_ELEMENT (c, set) {
		const char *name = attr_value(c, "Name", NULL);
		if (name == NULL || *name == '\0')
			return FAULT_INVALID_OPTIONS;
		struct wsman_option *o = &req->options[req->n_options++];
		o->name = xstrdup(name);
		const char *mc = attr_value(c, "MustComply", NULL);
		if (mc != NULL && str_parse_bool(mc, &o->must_comply) < 0)
			return FAULT_INVALID_OPTIONS;
		const char *nil = attr_value(c, "nil", NS_XSI);
		if (nil != NULL && str_parse_bool(nil, &o->is_nil) < 0)
			return FAULT_INVALID_OPTIONS;
		o->value = o->is_nil ? xstrdup("") : text_of(c);
	}
	return FAULT_NONE;
}

/* Decimal, optional '+', no sign otherwise; values past INT64_MAX clamp
 * (the caller clamps to its own limit anyway). */
static int parse_size(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (*s == '+')
		s++;
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		int d = *s - '0';
		v = v > (INT64_MAX - d) / 10 ? INT64_MAX : v * 10 + d;
	}
	*out = v;
	return 0;
}

static enum fault_id take_header(const xmlNode *n, enum header_kind kind,
				 struct wsman_request *req, bool *seen_timeout,
				 bool *seen_size)
{
	char *text;
	enum fault_id f = FAULT_NONE;
	char *fault_to = NULL;

	switch (kind) {
	case H_TO: return take_text(n, &req->to);
	case H_REPLY_TO: return take_endpoint(n, &req->reply_to);
	case H_FAULT_TO:
		f = take_endpoint(n, &fault_to);
		free(fault_to);
		return f;
	case H_ACTION: return take_text(n, &req->action);
	case H_MESSAGE_ID: return take_text(n, &req->message_id);
	case H_RESOURCE_URI: return take_text(n, &req->resource_uri);
	case H_SELECTOR_SET: return take_selectors(n, req);
	case H_OPTION_SET: return take_options(n, req);
	case H_OPERATION_TIMEOUT:
		if (*seen_timeout)
			return FAULT_INVALID_HEADER;
		*seen_timeout = true;
		text = text_of(n);
		if (wsman_duration_parse(text, &req->operation_timeout_ms) < 0)
			f = FAULT_INVALID_HEADER;
		free(text);
		return f;
	case H_MAX_ENVELOPE_SIZE:
		if (*seen_size)
			return FAULT_INVALID_HEADER;
		*seen_size = true;
		text = text_of(n);
		if (parse_size(text, &req->max_envelope_size) < 0)
			f = FAULT_INVALID_HEADER;
		else if (req->max_envelope_size < 8192)
			f = FAULT_ENCODING_LIMIT_MIN_ENVELOPE;
		free(text);
		return f;
	case H_LOCALE: {
		if (req->locale != NULL)
			return FAULT_INVALID_HEADER;
		const char *lang = attr_value(n, "lang", NS_XML);
		req->locale = xstrdup(lang != NULL ? lang : "");
		return FAULT_NONE;
	}
	case H_IGNORED:
	case H_UNKNOWN: break;
	}
	return FAULT_NONE;
}

/*
 * Walks the header block once.  Faults are collected rather than returned
 * at once so that a:MessageID is still picked up after an earlier bad
 * header; a mustUnderstand fault outranks the others (SOAP 1.2 processes
 * mustUnderstand before anything else).
 */
static enum fault_id walk_headers(const xmlNode *header,
				  struct wsman_request *req)
{
	enum fault_id mu_fault = FAULT_NONE, fault = FAULT_NONE;
	bool seen_timeout = false, seen_size = false;

	FOR_EACH_ELEMENT (h, header) {
		enum header_kind kind = classify(h);
		bool mu = must_understand(h);

		if (mu && mu_fault == FAULT_NONE) {
			if (kind == H_UNKNOWN)
				mu_fault = FAULT_MUST_UNDERSTAND;
			else if (kind == H_LOCALE)
				mu_fault = FAULT_UNSUPPORTED_FEATURE;
		}
		if (fault != FAULT_NONE || mu_fault != FAULT_NONE) {
			/* Only the MessageID is still of interest. */
			if (kind == H_MESSAGE_ID && req->message_id == NULL)
				req->message_id = text_of(h);
			continue;
		}
		fault = take_header(h, kind, req, &seen_timeout, &seen_size);
	}
	return mu_fault != FAULT_NONE ? mu_fault : fault;
}

/*
 * Public
 */

void wsman_request_release(struct wsman_request *req)
{
	if (req == NULL)
		return;
	if (req->doc != NULL)
		xmlFreeDoc(req->doc);
	free(req->action);
	free(req->to);
	free(req->message_id);
	free(req->reply_to);
	free(req->resource_uri);
	free(req->locale);
	for (size_t i = 0; i < req->n_selectors; i++) {
		free(req->selectors[i].name);
		free(req->selectors[i].value);
	}
	free(req->selectors);
	for (size_t i = 0; i < req->n_options; i++) {
		free(req->options[i].name);
		free(req->options[i].value);
	}
	free(req->options);
	memset(req, 0, sizeof(*req));
	req->operation_timeout_ms = -1;
	req->max_envelope_size = -1;
}

/* Releases everything but the MessageID (for the fault's RelatesTo). */
static enum fault_id fail(struct wsman_request *req, enum fault_id f)
{
	char *mid = req->message_id;
	enum wsman_charset cs = req->charset;

	req->message_id = NULL;
	wsman_request_release(req);
	req->message_id = mid;
	req->charset = cs;
	return f;
}

/* Envelope structure and headers, on a parsed document. */
static enum fault_id check_envelope(xmlDoc *doc, struct wsman_request *req)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	xmlNode *header = NULL, *body = NULL;

	if (root == NULL || !name_is(root, "Envelope"))
		return FAULT_NOT_SOAP;
	if (!ns_is(root, NS_SOAP))
		/* SOAP 1.2 §5.4.7: any other Envelope namespace, including
		 * SOAP 1.1's, is a VersionMismatch. */
		return root->ns != NULL ? FAULT_SOAP_VERSION_MISMATCH
					: FAULT_NOT_SOAP;

	/* Exactly [Header] Body, in that order, nothing else. */
	bool malformed = false;
	FOR_EACH_ELEMENT (c, root) {
		if (ns_is(c, NS_SOAP) && name_is(c, "Header") &&
		    header == NULL && body == NULL)
			header = c;
		else if (ns_is(c, NS_SOAP) && name_is(c, "Body") &&
			 body == NULL)
			body = c;
		else
			malformed = true;
	}

	enum fault_id hf = FAULT_NONE;
	if (header != NULL)
		hf = walk_headers(header, req);
	if (malformed || body == NULL)
		return FAULT_NOT_SOAP;

	req->body = next_element(body->children);
	req->is_identify = req->body != NULL && ns_is(req->body, NS_IDENTITY) &&
			   name_is(req->body, "Identify");
	if (hf != FAULT_NONE)
		return hf;
	if (req->is_identify)
		/* Identify carries no addressing; Windows clients send an
		 * empty Header, others may omit it (SOAP makes it optional). */
		return FAULT_NONE;
	if (header == NULL)
		return FAULT_NOT_SOAP;
	if (req->action == NULL || req->message_id == NULL ||
	    req->reply_to == NULL)
		return FAULT_HEADER_REQUIRED;
	return FAULT_NONE;
}

enum fault_id wsman_parse(const void *data, size_t len,
			  const char *content_type, struct wsman_request *req)
{
	const uint8_t *p = data;
	enum wsman_charset cs = WSMAN_UTF8;
	size_t skip = 0;

	memset(req, 0, sizeof(*req));
	req->operation_timeout_ms = -1;
	req->max_envelope_size = -1;

	if (len > INT_MAX)
		return FAULT_ENCODING_LIMIT_REQUEST;
	if (data == NULL || len == 0)
		return FAULT_INVALID_XML;

	enum fault_id f = detect_charset(p, len, content_type, &cs, &skip);
	req->charset = cs;
	if (f != FAULT_NONE)
		return f;
	p += skip;
	len -= skip;
	if (len == 0)
		return FAULT_INVALID_XML;
	if (cs == WSMAN_UTF8) {
		/* Keeps libxml2 from guessing UCS-4 or EBCDIC from the first
		 * bytes: a UTF-8 document starts with '<' or white space. */
		if (p[0] != '<' && !is_ws(p[0]))
			return FAULT_INVALID_XML;
	}
	if (!xml_decl_charset_ok(p, len, cs))
		return FAULT_UNSUPPORTED_CHARSET;

	struct parser_state *st = thread_state();
	if (st == NULL)
		return FAULT_INTERNAL_ERROR;
	st->dtd_seen = false;

	const char *enc = cs == WSMAN_UTF16LE   ? "UTF-16LE"
			  : cs == WSMAN_UTF16BE ? "UTF-16BE"
						: NULL;
	struct saved_handlers sv;
	handlers_silence(&sv);
	xmlDocPtr doc = xmlCtxtReadMemory(st->ctxt, (const char *)p, (int)len,
					  NULL, enc, PARSE_OPTIONS);
	handlers_restore(&sv);
	if (st->dtd_seen) {
		if (doc != NULL)
			xmlFreeDoc(doc);
		return FAULT_DTD_NOT_ALLOWED;
	}
	if (doc == NULL)
		return FAULT_INVALID_XML;
	req->doc = doc;

	f = check_envelope(doc, req);
	if (f != FAULT_NONE)
		return fail(req, f);
	return FAULT_NONE;
}

const char *wsman_selector(const struct wsman_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_selectors; i++)
		if (str_ieq(req->selectors[i].name, name))
			return req->selectors[i].value;
	return NULL;
}

const struct wsman_option *wsman_option(const struct wsman_request *req,
					const char *name)
{
	for (size_t i = 0; i < req->n_options; i++)
		if (str_ieq(req->options[i].name, name))
			return &req->options[i];
	return NULL;
}
