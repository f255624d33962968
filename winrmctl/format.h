/*
 * format.h - reading WS-Management responses (libxml2) and printing them
 * as winrm.cmd prints them: the indented "Key = Value" text tree, raw XML
 * or pretty XML, and faults as "WSManFault / Message = ... / Error number".
 *
 * Functions append to a caller's struct buf; nothing here prints or exits.
 */
#ifndef WINRMCTL_FORMAT_H
#define WINRMCTL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "winrmctl/parse.h"
#include "lib/util.h"

/* Client-side error codes winrm.cmd prints ("Error number:"). */
#define CTL_ERR_ACCESS_DENIED 0x80070005u  /* E_ACCESSDENIED */
#define CTL_ERR_FAIL 0x80004005u           /* E_FAIL */
#define CTL_ERR_CANNOT_CONNECT 0x80338012u /* destination unreachable */
#define CTL_ERR_TIMEOUT 0x80338126u        /* operation timed out */

/* A parsed response envelope.  The caller owns doc (and so body). */
struct ctl_response {
	xmlDoc *doc;
	xmlNode *body; /* first element child of s:Body, NULL if empty */
	bool is_fault; /* body is s:Fault */
};

/*
 * Parses a SOAP 1.2 response (UTF-8, or UTF-16 with a BOM) without
 * network access, DTD loading or entity substitution.  Returns 0, or -1
 * when the data is not an XML s:Envelope with an s:Body (r is then
 * empty).  Release with ctl_response_release in both cases.
 */
int ctl_response_parse(const void *data, size_t len, struct ctl_response *r);
void ctl_response_release(struct ctl_response *r);

/*
 * Appends element as winrm.cmd prints one response or enumerated item,
 * followed by the empty line its echo adds:
 *   text:   "Name\n    Child = value\n    Group\n        ...\n\n"
 *   xml:    the element's XML as received, "\n"
 *   pretty: the element's XML indented, "\n"
 * In text, repeated sibling values are joined ("ListeningOn = a, b"),
 * elements with a Name attribute are listed as "Selector: A = 1, B = 2",
 * and a Source attribute is shown as [Source="GPO"].
 */
void ctl_format_element(struct buf *out, xmlNode *element, enum ctl_format fmt);

/*
 * Appends the error report winrm.cmd writes for a fault response:
 *   WSManFault
 *       Message = <text>
 *
 *   Error number:  -2144108269 0x80338113
 *   <text>
 * (the WSManFault as XML instead of the text tree for -format:xml and
 * -format:pretty).  The number is the f:WSManFault Code, or E_FAIL for a
 * SOAP fault without one.
 */
void ctl_format_fault(struct buf *out, const struct ctl_response *r,
		      enum ctl_format fmt);

/* The same report for an error found by the client itself. */
void ctl_format_client_error(struct buf *out, uint32_t code,
			     const char *message, enum ctl_format fmt);

/* One Enumerate or Pull response: its items (borrowed from the
 * response's document), its context (owned) and whether it ended. */
struct ctl_enum_page {
	xmlNode **items;
	size_t n_items;
	char *context; /* NULL when absent or empty */
	bool end;      /* EndOfSequence, or no context to pull with */
};

/* Returns 0, or -1 when the body is not an EnumerateResponse or
 * PullResponse.  Release the page with ctl_enum_page_release. */
int ctl_enum_page(const struct ctl_response *r, struct ctl_enum_page *p);
void ctl_enum_page_release(struct ctl_enum_page *p);

/* Opening and closing lines around enumerated items in XML formats. */
#define CTL_RESULTS_OPEN                                                       \
	"<wsman:Results xmlns:wsman="                                          \
	"\"http://schemas.dmtf.org/wbem/wsman/1/wsman/results\">\n"
#define CTL_RESULTS_CLOSE "</wsman:Results>\n"

#endif
