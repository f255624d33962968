/*
 * request.c - winrmctl's request envelopes, in the header order Windows'
 * client uses (To, ResourceURI, ReplyTo, Action, MaxEnvelopeSize,
 * MessageID, Locale, SelectorSet, OperationTimeout).
 *
 * Must not: print, exit, or build an envelope from unescaped text (every
 * value goes through xml_escape; element names are checked to be XML
 * names first).
 *
 * Entry points: ctl_build_request, ctl_build_identify, ctl_build_input,
 * ctl_input_from_file, ctl_action_uri.
 */
#include "autoconfig.h"

#include "winrmctl/call.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lib/wsman/envelope.h"
#include "lib/wsman/ns.h"

const char *ctl_action_uri(enum ctl_action act)
{
	switch (act) {
	case CTL_ACT_GET: return ACTION_GET;
	case CTL_ACT_PUT: return ACTION_PUT;
	case CTL_ACT_CREATE: return ACTION_CREATE;
	case CTL_ACT_DELETE: return ACTION_DELETE;
	case CTL_ACT_ENUMERATE: return ACTION_ENUMERATE;
	case CTL_ACT_PULL: return ACTION_PULL;
	case CTL_ACT_INVOKE: break; /* the resource's own */
	}
	return ACTION_GET;
}

static void selector_set(struct buf *out, const struct ctl_resource *res)
{
	if (res->n_selectors == 0)
		return;
	buf_append_str(out, "<w:SelectorSet>");
	for (size_t i = 0; i < res->n_selectors; i++) {
		buf_append_str(out, "<w:Selector Name=\"");
		xml_escape(out, res->selectors[i].name);
		buf_append_str(out, "\">");
		xml_escape(out, res->selectors[i].value);
		buf_append_str(out, "</w:Selector>");
	}
	buf_append_str(out, "</w:SelectorSet>");
}

void ctl_build_request(struct buf *out, enum ctl_action act,
		       const struct ctl_resource *res, const char *body,
		       const char *context, const struct ctl_req_opts *o)
{
	char guid[37];

	guid_generate(guid);
	buf_append_str(out, "<s:Envelope xmlns:s=\"" NS_SOAP "\""
			    " xmlns:a=\"" NS_ADDRESSING "\""
			    " xmlns:w=\"" NS_WSMAN "\"");
	if (act == CTL_ACT_ENUMERATE || act == CTL_ACT_PULL)
		buf_append_str(out, " xmlns:n=\"" NS_ENUMERATION "\"");
	buf_append_str(out, "><s:Header><a:To>");
	xml_escape(out, o->to);
	buf_append_str(out, "</a:To><w:ResourceURI s:mustUnderstand=\"true\">");
	xml_escape(out, res->uri);
	buf_append_str(out,
		       "</w:ResourceURI><a:ReplyTo>"
		       "<a:Address s:mustUnderstand=\"true\">" ADDR_ANONYMOUS
		       "</a:Address></a:ReplyTo>"
		       "<a:Action s:mustUnderstand=\"true\">");
	if (act == CTL_ACT_INVOKE) {
		xml_escape(out, res->uri);
		buf_append_byte(out, '/');
		xml_escape(out, o->method != NULL ? o->method : "");
	} else {
		buf_append_str(out, ctl_action_uri(act));
	}
	buf_printf(out,
		   "</a:Action><w:MaxEnvelopeSize s:mustUnderstand=\"true\">"
		   "%u</w:MaxEnvelopeSize><a:MessageID>uuid:%s</a:MessageID>"
		   "<w:Locale xml:lang=\"en-US\" s:mustUnderstand=\"false\"/>",
		   (unsigned)o->max_envelope, guid);
	selector_set(out, res);
	buf_append_str(out, "<w:OperationTimeout>");
	wsman_duration_format(out, o->timeout_ms);
	buf_append_str(out, "</w:OperationTimeout></s:Header>");

	switch (act) {
	case CTL_ACT_ENUMERATE:
		buf_printf(out,
			   "<s:Body><n:Enumerate><w:OptimizeEnumeration/>"
			   "<w:MaxElements>%d</w:MaxElements>",
			   CTL_MAX_ELEMENTS);
		if (o->mode == CTL_RET_EPR)
			buf_append_str(out, "<w:EnumerationMode>EnumerateEPR"
					    "</w:EnumerationMode>");
		else if (o->mode == CTL_RET_OBJECT_AND_EPR)
			buf_append_str(
				out, "<w:EnumerationMode>EnumerateObjectAndEPR"
				     "</w:EnumerationMode>");
		if (o->filter_xml != NULL)
			buf_append_str(out, o->filter_xml);
		buf_append_str(out, "</n:Enumerate></s:Body>");
		break;
	case CTL_ACT_PULL:
		buf_append_str(out, "<s:Body><n:Pull><n:EnumerationContext>");
		xml_escape(out, context != NULL ? context : "");
		buf_printf(out,
			   "</n:EnumerationContext><n:MaxElements>%d"
			   "</n:MaxElements></n:Pull></s:Body>",
			   CTL_MAX_ELEMENTS);
		break;
	default:
		if (body != NULL && body[0] != '\0') {
			buf_append_str(out, "<s:Body>");
			buf_append_str(out, body);
			buf_append_str(out, "</s:Body>");
		} else {
			buf_append_str(out, "<s:Body/>");
		}
		break;
	}
	buf_append_str(out, "</s:Envelope>");
}

int ctl_build_filter(struct buf *out, const char *dialect, const char *filter,
		     struct buf *err)
{
	buf_append_str(out, "<w:Filter Dialect=\"");
	xml_escape(out, dialect);
	buf_append_str(out, "\">");
	if (strcasecmp(dialect, CTL_DIALECT_SELECTOR) != 0) {
		xml_escape(out, filter);
		buf_append_str(out, "</w:Filter>");
		return 0;
	}
	struct ctl_pair *pairs = NULL;
	size_t n = 0;
	if (ctl_parse_hash(filter[0] == '@' ? filter + 1 : filter, &pairs, &n,
			   err) < 0)
		return -1;
	buf_append_str(out, "<w:SelectorSet>");
	for (size_t i = 0; i < n; i++) {
		buf_append_str(out, "<w:Selector Name=\"");
		xml_escape(out, pairs[i].name);
		buf_append_str(out, "\">");
		xml_escape(out, pairs[i].value);
		buf_append_str(out, "</w:Selector>");
	}
	buf_append_str(out, "</w:SelectorSet></w:Filter>");
	ctl_pairs_free(pairs, n);
	return 0;
}

void ctl_build_identify(struct buf *out)
{
	buf_append_str(out, "<s:Envelope xmlns:s=\"" NS_SOAP "\""
			    " xmlns:wsmid=\"" NS_IDENTITY "\">"
			    "<s:Header/><s:Body><wsmid:Identify/></s:Body>"
			    "</s:Envelope>");
}

/* An XML NCName in ASCII: what a property name may be. */
static bool xml_name(const char *s)
{
	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (const char *p = s + 1; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' &&
		    *p != '.')
			return false;
	return true;
}

int ctl_build_input(struct buf *out, const struct ctl_resource *res,
		    const struct ctl_pair *pairs, size_t n, struct buf *err)
{
	bool any_null = false;

	if (res->root == NULL || !xml_name(res->root)) {
		buf_append_str(err, "Error: Invalid URI - cannot locate last "
				    "token for root node name\n");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!xml_name(pairs[i].name)) {
			buf_printf(err,
				   "Error: Parameter name is not a valid "
				   "XML element name: %s\n",
				   pairs[i].name);
			return -1;
		}
		any_null |= pairs[i].is_null;
	}
	buf_printf(out, "<p:%s xmlns:p=\"", res->root);
	xml_escape(out, res->ns);
	buf_append_str(out, "\"");
	if (any_null)
		buf_append_str(out, " xmlns:xsi=\"" NS_XSI "\"");
	buf_append_str(out, ">");
	for (size_t i = 0; i < n; i++) {
		if (pairs[i].is_null) {
			buf_printf(out, "<p:%s xsi:nil=\"true\"/>",
				   pairs[i].name);
			continue;
		}
		buf_printf(out, "<p:%s>", pairs[i].name);
		xml_escape(out, pairs[i].value);
		buf_printf(out, "</p:%s>", pairs[i].name);
	}
	buf_printf(out, "</p:%s>", res->root);
	return 0;
}

int ctl_input_from_file(struct buf *out, const char *data, size_t len,
			const char *name, struct buf *err)
{
	const char *p = data;
	const char *end = data + len;
	xmlDoc *doc;

	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (end - p >= 5 && memcmp(p, "<?xml", 5) == 0) {
		const char *q = p;
		while (q + 1 < end && !(q[0] == '?' && q[1] == '>'))
			q++;
		if (q + 1 >= end)
			goto bad;
		p = q + 2;
	}
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (p == end || (size_t)(end - p) > INT32_MAX)
		goto bad;

	/* Well-formed, one element, no DTD: it goes inside s:Body as is. */
	doc = xmlReadMemory(p, (int)(end - p), NULL, "UTF-8",
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	if (doc == NULL || doc->intSubset != NULL ||
	    xmlDocGetRootElement(doc) == NULL) {
		xmlFreeDoc(doc);
		goto bad;
	}
	xmlFreeDoc(doc);
	buf_append(out, p, (size_t)(end - p));
	return 0;
bad:
	buf_printf(err,
		   "Error: Unable to parse XML: %s is not one "
		   "well-formed XML element\n",
		   name);
	return -1;
}
