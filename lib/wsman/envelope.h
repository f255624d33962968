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

#include "lib/wsman/duration.h"
#include "lib/wsman/fault.h"
#include "lib/wsman/render.h"
#include "lib/util.h"

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
	void *doc;  /* xmlDocPtr */
	void *body; /* xmlNodePtr: first element child of s:Body, or NULL */
	enum wsman_charset charset;
	bool is_identify; /* body's first child is wsmid:Identify */

	char *action;       /* a:Action */
	char *to;           /* a:To (never validated: clients hard-code it) */
	char *message_id;   /* a:MessageID verbatim (case preserved) */
	char *reply_to;     /* a:ReplyTo/a:Address */
	char *resource_uri; /* w:ResourceURI */
	char *locale;       /* w:Locale/@xml:lang */

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

#endif
