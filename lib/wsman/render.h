/*
 * render.h - writing WS-Management XML (render.c): escaping, the response
 * envelope and its addressing headers, and the charset of the answer.
 */
#ifndef WINRMD_WSMAN_RENDER_H
#define WINRMD_WSMAN_RENDER_H

#include <stddef.h>

#include "lib/util.h"

enum wsman_charset { WSMAN_UTF8 = 0, WSMAN_UTF16LE, WSMAN_UTF16BE };

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
