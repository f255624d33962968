/*
 * envelope.h - parsing of WS-Management request envelopes (libxml2,
 * hardened) into a plain struct, and rendering of response envelopes from
 * fixed templates.
 *
 * Parsing is bounded before it starts: the caller has already capped the
 * body size; the parser refuses DOCTYPE/entity declarations before they are
 * processed, never touches the network, never substitutes entities and
 * never loads a DTD.  UTF-8 and UTF-16 (with BOM, or announced by the
 * charset parameter) bodies are accepted.
 *
 * This module never logs and never exits.  Thread-safe after
 * envelope_global_init() (call once, before threads start).
 */
#ifndef WINRMD_ENVELOPE_H
#define WINRMD_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/wsman/fault.h"
#include "lib/util.h"

enum wsman_charset { WSMAN_UTF8 = 0, WSMAN_UTF16LE, WSMAN_UTF16BE };

struct wsman_selector {
	char *name;
	char *value;
};

struct wsman_option {
	char *name;
	char *value;      /* "" for an empty or nil option */
	bool must_comply; /* MustComply="true" (any boolean spelling) */
	bool is_nil;      /* xsi:nil="true" */
};

/*
 * The parsed request.  Every char * is a NUL-terminated UTF-8 string owned
 * by the struct (NULL when the header was absent).  doc and body stay valid
 * until wsman_request_release; handlers read the body with libxml2.
 */
struct wsman_request {
	void *doc;                /* xmlDocPtr */
	void *body;               /* xmlNodePtr: first element child of s:Body, or NULL */
	enum wsman_charset charset;
	bool is_identify;         /* body's first child is wsmid:Identify */

	char *action;             /* a:Action */
	char *to;                 /* a:To (never validated: clients hard-code it) */
	char *message_id;         /* a:MessageID verbatim (case preserved) */
	char *reply_to;           /* a:ReplyTo/a:Address */
	char *resource_uri;       /* w:ResourceURI */
	char *locale;             /* w:Locale/@xml:lang */

	struct wsman_selector *selectors;
	size_t n_selectors;
	struct wsman_option *options;
	size_t n_options;

	int64_t operation_timeout_ms; /* w:OperationTimeout, -1 when absent */
	int64_t max_envelope_size;    /* w:MaxEnvelopeSize, -1 when absent */
};

/* Once per process, before any thread parses. */
void envelope_global_init(void);

/*
 * Frees the calling thread's cached parser context.  Optional: it is also
 * freed when the thread exits; call it before exit() in the main thread
 * (or in tests) to leave nothing reachable.
 */
void envelope_thread_cleanup(void);

/*
 * Parses data[0..len) as a request envelope.  content_type is the HTTP
 * Content-Type value (may be NULL); its charset parameter is honoured, a
 * BOM wins over it.  On success returns FAULT_NONE and fills *req (which
 * the caller releases with wsman_request_release).  On failure returns the
 * fault to send; *req is left released, but req->message_id is kept when it
 * could be read, so the fault can carry RelatesTo, and req->charset says
 * how the body was encoded (answer the fault in it).  Call
 * wsman_request_release in both cases.
 *
 * Checks done here: well-formedness, SOAP 1.2 envelope with Header and Body,
 * no DOCTYPE, s:mustUnderstand="true" only on headers winrmd understands
 * (an unqualified mustUnderstand attribute is ignored, as real clients send
 * it), Action/MessageID/ReplyTo present unless the request is Identify,
 * OperationTimeout a valid non-negative xs:duration (weeks accepted), and
 * MaxEnvelopeSize an integer >= 8192.
 */
enum fault_id wsman_parse(const void *data, size_t len,
			  const char *content_type, struct wsman_request *req);

void wsman_request_release(struct wsman_request *req);

/* Case-insensitive selector / option lookup; NULL when absent. */
const char *wsman_selector(const struct wsman_request *req, const char *name);
const struct wsman_option *wsman_option(const struct wsman_request *req,
					const char *name);

/*
 * xs:duration -> milliseconds.  Accepts PT20S, PT60.000S, PT1M30S,
 * P0DT0H0M0S, P1W..., fractional seconds.  Returns 0, or -1 for invalid or
 * negative durations and for values over ~292 million years.
 */
int wsman_duration_parse(const char *text, int64_t *ms_r);
/* Formats ms as Windows does for timeouts: "PT7200.000S". */
void wsman_duration_format(struct buf *out, int64_t ms);

/* XML-escapes s (for both text and attribute values) and appends it. */
void xml_escape(struct buf *out, const char *s);
void xml_escape_n(struct buf *out, const char *s, size_t n);

/*
 * Response envelope: <s:Envelope xml:lang="en-US" xmlns:s xmlns:a xmlns:x
 * xmlns:w xmlns:rsp xmlns:p ...><s:Header><a:Action>action</a:Action>
 * <a:MessageID>uuid:NEW-GUID</a:MessageID><a:To>anonymous</a:To>
 * <a:RelatesTo>relates_to</a:RelatesTo></s:Header><s:Body>
 * relates_to may be NULL (element omitted).
 */
void wsman_response_begin(struct buf *out, const char *action,
			  const char *relates_to);
void wsman_response_end(struct buf *out); /* </s:Body></s:Envelope> */

/* The addressing headers every response and fault carries: a:Action
 * (escaped), a fresh a:MessageID, a:To anonymous, and a:RelatesTo when
 * relates_to is not NULL.  Used by wsman_response_begin and fault_render. */
void wsman_addressing_headers(struct buf *out, const char *action,
			      const char *relates_to);

/*
 * Converts a UTF-8 response in place to the request's charset (UTF-16 with
 * a BOM, as Windows answers UTF-16 requests).  No-op for WSMAN_UTF8.
 * Returns 0, or -1 if the text is not valid UTF-8 (buffer unchanged).
 */
int wsman_transcode(struct buf *body, enum wsman_charset charset);
/* "application/soap+xml;charset=UTF-8" or ";charset=UTF-16" */
const char *wsman_content_type(enum wsman_charset charset);

#endif
