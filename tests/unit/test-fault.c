/*
 * test-fault.c - the fault table and fault_render: every fault id renders
 * a well-formed SOAP 1.2 fault (parsed back with libxml2) carrying its
 * code, subcode, WSManFault code, the action that matches the subcode's
 * namespace, RelatesTo and Machine escaped; UTF-16 transcoding of a fault.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "lib/wsman/envelope.h"
#include "lib/wsman/fault.h"
#include "lib/wsman/ns.h"
#include "tests/lib/tap.h"
#include "lib/util.h"

#define FAULT_XP "/s:Envelope/s:Body/s:Fault"
#define ENVELOPE_START "<s:Envelope xml:lang=\"en-US\""

static xmlDoc *parse_back(const struct buf *b)
{
	return xmlReadMemory((const char *)b->data, (int)b->len, NULL, NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR |
				     XML_PARSE_NOWARNING);
}

/* Text of the first node matching expr (caller frees), or NULL. */
static char *xp(xmlDoc *doc, const char *expr)
{
	xmlXPathContext *ctx = xmlXPathNewContext(doc);
	xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST NS_SOAP);
	xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST NS_ADDRESSING);
	xmlXPathRegisterNs(ctx, BAD_CAST "w", BAD_CAST NS_WSMAN);
	xmlXPathRegisterNs(ctx, BAD_CAST "f", BAD_CAST NS_WSMANFAULT);
	xmlXPathObject *o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	char *r = NULL;
	if (o != NULL && o->nodesetval != NULL && o->nodesetval->nodeNr > 0) {
		xmlChar *c = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
		r = xstrdup(c ? (const char *)c : "");
		xmlFree(c);
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return r;
}

/* The namespace URI a subcode/code QName's prefix resolves to on the
 * fault's Envelope. */
static char *qname_ns(xmlDoc *doc, const char *qname)
{
	const char *colon = strchr(qname, ':');
	if (colon == NULL)
		return NULL;
	char *prefix = xstrndup(qname, (size_t)(colon - qname));
	xmlNs *ns = xmlSearchNs(doc, xmlDocGetRootElement(doc),
				BAD_CAST prefix);
	free(prefix);
	return ns != NULL ? xstrdup((const char *)ns->href) : NULL;
}

static const char *expected_action(const struct fault_def *f)
{
	if (f->subcode == NULL)
		return ACTION_FAULT_ADDRESSING; /* SOAP-level faults */
	switch (f->subcode[0]) {
	case 'w': return ACTION_FAULT_WSMAN;
	case 'a': return ACTION_FAULT_ADDRESSING;
	case 'x': return ACTION_FAULT_TRANSFER;
	case 'n': return ACTION_FAULT_ENUMERATION;
	}
	return "?";
}

static void test_every_fault(void)
{
	for (int id = FAULT_NONE + 1; id < FAULT_COUNT; id++) {
		const struct fault_def *f = fault_get((enum fault_id)id);
		const char *name = fault_name((enum fault_id)id);

		ok(f->id == (enum fault_id)id && f->action != NULL &&
			   f->code != NULL && f->reason != NULL,
		   "%s: table entry %d complete", name, id);
		is_int(f->http_status, 500, "%s: HTTP 500", name);
		is_str(f->action, expected_action(f),
		       "%s: action matches subcode namespace", name);

		struct buf b = BUF_INIT;
		fault_render(&b, (enum fault_id)id,
			     "uuid:0a1b2c3d-0000-4000-8000-00000000000f",
			     "host.example", NULL);
		xmlDoc *doc = parse_back(&b);
		ok(doc != NULL, "%s: well-formed", name);
		if (doc == NULL) {
			buf_release(&b);
			continue;
		}
		char *v = xp(doc, FAULT_XP "/s:Code/s:Value");
		is_str(v, f->code, "%s: code", name);
		free(v);
		v = xp(doc, FAULT_XP "/s:Code/s:Subcode/s:Value");
		is_str(v, f->subcode, "%s: subcode", name);
		if (f->subcode != NULL) {
			char *ns = qname_ns(doc, f->subcode);
			ok(ns != NULL, "%s: subcode prefix declared", name);
			free(ns);
		}
		free(v);
		v = xp(doc, FAULT_XP "/s:Detail/f:WSManFault/@Code");
		char want[16];
		snprintf(want, sizeof(want), "%" PRIu32, f->wsman_code);
		is_str(v, want, "%s: WSManFault Code %s", name, want);
		free(v);
		v = xp(doc, "/s:Envelope/s:Header/a:Action");
		is_str(v, f->action, "%s: a:Action", name);
		free(v);
		v = xp(doc, "/s:Envelope/s:Header/a:RelatesTo");
		is_str(v, "uuid:0a1b2c3d-0000-4000-8000-00000000000f",
		       "%s: RelatesTo", name);
		free(v);
		v = xp(doc, FAULT_XP "/s:Detail/w:FaultDetail");
		is_str(v, f->detail, "%s: FaultDetail", name);
		free(v);
		xmlFreeDoc(doc);
		buf_release(&b);
	}
}

static void test_table(void)
{
	/* Names are distinct and the lookups are total. */
	int dup = 0;
	for (int i = 0; i < FAULT_COUNT; i++)
		for (int j = i + 1; j < FAULT_COUNT; j++)
			dup += strcmp(fault_name((enum fault_id)i),
				      fault_name((enum fault_id)j)) == 0;
	is_int(dup, 0, "fault names are distinct");
	is_str(fault_name(FAULT_NONE), "None", "name of FAULT_NONE");
	is_str(fault_name(FAULT_TIMED_OUT), "TimedOut", "name of TimedOut");
	ok(fault_get(FAULT_NONE)->id == FAULT_INTERNAL_ERROR,
	   "FAULT_NONE maps to InternalError");
	ok(fault_get((enum fault_id)FAULT_COUNT)->id == FAULT_INTERNAL_ERROR,
	   "out of range maps to InternalError");
	ok(fault_get((enum fault_id) - 1)->id == FAULT_INTERNAL_ERROR,
	   "negative maps to InternalError");

	const struct fault_def *t = fault_get(FAULT_TIMED_OUT);
	is_int(t->wsman_code, 2150858793u, "timeout code 2150858793");
	is_str(t->subcode, "w:TimedOut", "timeout subcode");
	is_str(t->code, "s:Receiver", "timeout is a Receiver fault");
	contains(t->reason, "OperationTimeout",
		 "timeout reason names OperationTimeout (Go client)");
	is_str(fault_get(FAULT_INVALID_HEADER)->subcode,
	       "a:InvalidMessageInformationHeader", "PT-1S subcode");
	is_int(fault_get(FAULT_INVALID_HEADER)->wsman_code, 2150858767u,
	       "PT-1S code");
	is_int(fault_get(FAULT_UNEXPECTED_SELECTORS)->wsman_code, 2150858843u,
	       "unknown ShellId code");
	is_int(fault_get(FAULT_INVALID_PARAMETER)->wsman_code, 87,
	       "InvalidParameter code 87");
	is_str(fault_get(FAULT_MUST_UNDERSTAND)->code, "s:MustUnderstand",
	       "MustUnderstand is a top-level code");
	ok(fault_get(FAULT_MUST_UNDERSTAND)->subcode == NULL,
	   "MustUnderstand has no subcode");
	is_str(fault_get(FAULT_SOAP_VERSION_MISMATCH)->code,
	       "s:VersionMismatch", "VersionMismatch code");
	is_str(fault_get(FAULT_INVALID_ENUMERATION_CONTEXT)->action,
	       ACTION_FAULT_ENUMERATION, "enumeration fault action");
	is_str(fault_get(FAULT_FILTERING_NOT_SUPPORTED)->subcode,
	       "n:FilteringNotSupported", "FilteringNotSupported subcode");
	ok(fault_get(FAULT_FILTERING_NOT_SUPPORTED)->wsman_code == 2150858776u,
	   "FilteringNotSupported code");
	is_str(fault_get(FAULT_INVALID_REPRESENTATION)->action,
	       ACTION_FAULT_TRANSFER, "transfer fault action");
}

static void test_render_details(void)
{
	struct buf b = BUF_INIT;

	fault_render(&b, FAULT_TIMED_OUT, "uuid:<&\">'", "m<&>\"",
		     "extra <detail> & \"more\"");
	contains((const char *)b.data,
		 "<a:RelatesTo>uuid:&lt;&amp;&quot;&gt;&apos;</a:RelatesTo>",
		 "RelatesTo escaped");
	contains((const char *)b.data, "Machine=\"m&lt;&amp;&gt;&quot;\"",
		 "Machine escaped");
	ok(strncmp((const char *)b.data, ENVELOPE_START,
		   sizeof(ENVELOPE_START) - 1) == 0,
	   "no XML declaration");
	contains((const char *)b.data, "xmlns:e=\"" NS_EVENTING "\"",
		 "e declared");
	contains((const char *)b.data, "xmlns:n=\"" NS_ENUMERATION "\"",
		 "n declared");
	contains((const char *)b.data, "<s:Text xml:lang=\"en-US\">",
		 "Reason Text has xml:lang");
	xmlDoc *doc = parse_back(&b);
	ok(doc != NULL, "escaped fault is well-formed");
	if (doc != NULL) {
		char *v = xp(doc, "/s:Envelope/s:Header/a:RelatesTo");
		is_str(v, "uuid:<&\">'", "RelatesTo round trip");
		free(v);
		v = xp(doc, "//f:WSManFault/@Machine");
		is_str(v, "m<&>\"", "Machine round trip");
		free(v);
		v = xp(doc, "//f:WSManFault/f:Message");
		ok(v != NULL && strstr(v, "OperationTimeout.") != NULL &&
			   strstr(v, "extra <detail> & \"more\"") != NULL,
		   "Message = reason + extra text");
		free(v);
		v = xp(doc, FAULT_XP "/s:Reason/s:Text");
		ok(v != NULL && strstr(v, "extra") == NULL,
		   "Reason carries the table text only");
		free(v);
		v = xp(doc, "/s:Envelope/s:Header/a:To");
		is_str(v, ADDR_ANONYMOUS, "To anonymous");
		free(v);
		v = xp(doc, "/s:Envelope/s:Header/a:MessageID");
		ok(v != NULL && strncmp(v, "uuid:", 5) == 0 && strlen(v) == 41,
		   "fresh MessageID");
		free(v);
		xmlFreeDoc(doc);
	}

	buf_reset(&b);
	fault_render(&b, FAULT_MUST_UNDERSTAND, NULL, NULL, NULL);
	ok(strstr((const char *)b.data, "RelatesTo") == NULL,
	   "no RelatesTo when NULL");
	ok(strstr((const char *)b.data, "s:Subcode") == NULL,
	   "no Subcode for MustUnderstand");
	ok(strstr((const char *)b.data, "w:FaultDetail") == NULL,
	   "no FaultDetail when the table has none");
	contains((const char *)b.data, "Machine=\"localhost\"",
		 "Machine defaults to localhost");
	doc = parse_back(&b);
	ok(doc != NULL, "fault without RelatesTo is well-formed");
	xmlFreeDoc(doc);

	/* Bytes that cannot appear in XML are neutralised, not passed on. */
	buf_reset(&b);
	fault_render(&b, FAULT_INTERNAL_ERROR, "id\x01\xFF", "h",
		     "bad \x02 \xC3");
	doc = parse_back(&b);
	ok(doc != NULL, "control and invalid UTF-8 bytes are neutralised");
	xmlFreeDoc(doc);

	/* Faults answer UTF-16 requests in UTF-16 like everything else. */
	buf_reset(&b);
	fault_render(&b, FAULT_UNEXPECTED_SELECTORS, "uuid:X", "h\xC3\xA9",
		     NULL);
	is_int(wsman_transcode(&b, WSMAN_UTF16LE), 0, "fault to UTF-16LE");
	doc = parse_back(&b);
	ok(doc != NULL, "UTF-16LE fault parses back");
	if (doc != NULL) {
		char *v = xp(doc, "//f:WSManFault/@Machine");
		is_str(v, "h\xC3\xA9", "UTF-16 round trip of Machine");
		free(v);
		v = xp(doc, "//s:Subcode/s:Value");
		is_str(v, "w:InvalidSelectors", "UTF-16 round trip of subcode");
		free(v);
		xmlFreeDoc(doc);
	}
	buf_release(&b);
}

int main(void)
{
	xmlInitParser();
	test_table();
	test_every_fault();
	test_render_details();
	xmlCleanupParser();
	return tap_done();
}
