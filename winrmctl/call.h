/*
 * request.h - WS-Management request envelopes of winrmctl: Get, Put,
 * Create, Delete, Enumerate, Pull and Identify, and the body of a Put or
 * Create built from @{...} pairs or read from a -file.
 *
 * Envelopes are rendered from fixed text with every variable value
 * XML-escaped (xml_escape from libwsman).  Functions append to a caller's
 * struct buf; nothing here prints or exits.
 */
#ifndef WINRMCTL_REQUEST_H
#define WINRMCTL_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "winrmctl/parse.h"
#include "lib/util.h"

/* Windows' client defaults. */
#define CTL_DEFAULT_TIMEOUT_MS 60000
#define CTL_MAX_ENVELOPE 512000
#define CTL_MAX_ELEMENTS 32000

enum ctl_action {
	CTL_ACT_GET,
	CTL_ACT_PUT,
	CTL_ACT_CREATE,
	CTL_ACT_DELETE,
	CTL_ACT_ENUMERATE,
	CTL_ACT_PULL,
	CTL_ACT_INVOKE, /* a method: action <resource URI>/<method> */
};

struct ctl_req_opts {
	const char *to;        /* a:To, e.g. "http://localhost/wsman" */
	int64_t timeout_ms;    /* w:OperationTimeout */
	uint32_t max_envelope; /* w:MaxEnvelopeSize */
	/* Enumerate */
	enum ctl_return mode;   /* w:EnumerationMode */
	const char *filter_xml; /* a w:Filter element (ctl_build_filter) */
	/* Invoke */
	const char *method;
};

/* The WS-Transfer / WS-Enumeration action URI of act. */
const char *ctl_action_uri(enum ctl_action act);

/*
 * Appends a request envelope: addressing headers (a:To, a:ReplyTo
 * anonymous, a:Action, a:MessageID "uuid:" + a fresh GUID), w:ResourceURI,
 * w:MaxEnvelopeSize, w:Locale, w:SelectorSet from res, w:OperationTimeout,
 * and the body: body (Put/Create, already XML; NULL for none), the
 * Enumerate request, or the Pull request for context (Pull only).
 */
void ctl_build_request(struct buf *out, enum ctl_action act,
		       const struct ctl_resource *res, const char *body,
		       const char *context, const struct ctl_req_opts *o);

/*
 * Appends the w:Filter element of an Enumerate: the filter text for most
 * dialects, a w:SelectorSet for the selector dialect, whose filter is a
 * hash {KEY="VALUE";...} (with or without '@', as winrm.cmd takes it).
 * Returns 0, or -1 with err.
 */
int ctl_build_filter(struct buf *out, const char *dialect, const char *filter,
		     struct buf *err);

/* Appends an Identify envelope (empty header, wsmid:Identify body). */
void ctl_build_identify(struct buf *out);

/*
 * Appends the Put/Create body built from @{...} pairs:
 *   <p:ROOT xmlns:p="NS"><p:KEY>VALUE</p:KEY>...</p:ROOT>
 * in the resource's namespace, $null as xsi:nil="true".  Returns 0, or -1
 * with a message in err (a key that is not an XML name, a resource without
 * a root element name).
 */
int ctl_build_input(struct buf *out, const struct ctl_resource *res,
		    const struct ctl_pair *pairs, size_t n, struct buf *err);

/*
 * Appends the body read from a -file: its one root element, without a
 * UTF-8 byte order mark or XML declaration.  Returns 0, or -1 with err
 * when the text is not one well-formed XML element.
 */
int ctl_input_from_file(struct buf *out, const char *data, size_t len,
			const char *name, struct buf *err);

#endif
