/*
 * format.c - winrmctl's view of WS-Management responses: envelope parsing
 * with libxml2 and winrm.cmd's output formats.
 *
 * The text format follows what winrm.cmd prints (its WsmTxt.xsl is not
 * public; the rules below are those visible in its output): one line per
 * element, indented four spaces per level; "Name = value" for an element
 * holding text, "Name" alone for an empty one or a group (whose children
 * follow, one level deeper); consecutive siblings of the same name joined
 * on one line ("ListeningOn = 127.0.0.1, ::1"); elements carrying a Name
 * attribute listed as "Selector: Address = *, Transport = HTTP"; a Source
 * attribute shown after the value as [Source="GPO"]; other attributes,
 * namespaces and prefixes not shown.
 *
 * Must not: print, exit, load DTDs or touch the network while parsing.
 *
 * Entry points: ctl_response_parse, ctl_response_release,
 * ctl_format_element, ctl_format_fault, ctl_format_client_error,
 * ctl_enum_page, ctl_enum_page_release.
 */
#include "autoconfig.h"

#include "winrmctl/format.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "lib/wsman/envelope.h"
#include "lib/wsman/ns.h"
#include "lib/wsman/xmltree.h"

#define INDENT "    "

static xmlNode *first_elem(xmlNode *n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

static xmlNode *next_elem(xmlNode *n)
{
	return first_elem(n->next);
}

int ctl_response_parse(const void *data, size_t len, struct ctl_response *r)
{
	xmlNode *root;
	xmlNode *body;

	memset(r, 0, sizeof(*r));
	if (len == 0 || len > INT_MAX)
		return -1;
	r->doc = xmlReadMemory(data, (int)len, NULL, NULL,
			       XML_PARSE_NONET | XML_PARSE_NOERROR |
				       XML_PARSE_NOWARNING);
	if (r->doc == NULL)
		return -1;
	root = xmlDocGetRootElement(r->doc);
	if (r->doc->intSubset != NULL ||
	    !xml_is_element(root, NS_SOAP, "Envelope") ||
	    (body = xml_child(root, NS_SOAP, "Body")) == NULL) {
		ctl_response_release(r);
		return -1;
	}
	r->body = first_elem(body->children);
	r->is_fault = xml_is_element(r->body, NS_SOAP, "Fault");
	return 0;
}

void ctl_response_release(struct ctl_response *r)
{
	xmlFreeDoc(r->doc);
	memset(r, 0, sizeof(*r));
}

/* Text of n with every run of blanks made one space (caller frees). */
static char *collapsed_text(xmlNode *n)
{
	char *t = xml_trimmed_text(n);
	char *w = t;
	bool space = false;

	for (const char *p = t; *p != '\0'; p++) {
		if (isspace((unsigned char)*p)) {
			space = true;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = false;
		*w++ = *p;
	}
	*w = '\0';
	return t;
}

static bool has_elem_child(xmlNode *n)
{
	return first_elem(n->children) != NULL;
}

/* An attribute without namespace, or NULL (caller frees). */
static char *plain_attr(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, BAD_CAST name);
	char *r = v != NULL ? xstrdup((const char *)v) : NULL;
	xmlFree(v);
	return r;
}

static void line_start(struct buf *out, int depth, xmlNode *n)
{
	for (int i = 0; i < depth; i++)
		buf_append_str(out, INDENT);
	buf_append_str(out, (const char *)n->name);
}

static void line_end(struct buf *out, xmlNode *n)
{
	char *source = plain_attr(n, "Source");
	if (source != NULL)
		buf_printf(out, " [Source=\"%s\"]", source);
	free(source);
	buf_append_byte(out, '\n');
}

static bool same_name(xmlNode *a, xmlNode *b)
{
	return strcmp((const char *)a->name, (const char *)b->name) == 0;
}

static void text_element(struct buf *out, xmlNode *n, int depth);

/* xsi:nil="true" on n */
static bool is_nil(const xmlNode *n)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (a->ns != NULL &&
		    strcmp((const char *)a->ns->href, NS_XSI) == 0 &&
		    strcmp((const char *)a->name, "nil") == 0) {
			xmlChar *v = xmlNodeListGetString(n->doc, a->children,
							  1);
			bool nil = v != NULL &&
				   (strcmp((const char *)v, "true") == 0 ||
				    strcmp((const char *)v, "1") == 0);
			xmlFree(v);
			return nil;
		}
	return false;
}

/*
 * The children of a group.  Leaves with the same name next to each other
 * share one line; so do leaves with a Name attribute ("Selector: ...").
 */
static void text_children(struct buf *out, xmlNode *parent, int depth)
{
	xmlNode *c = first_elem(parent->children);

	while (c != NULL) {
		if (has_elem_child(c)) {
			text_element(out, c, depth);
			c = next_elem(c);
			continue;
		}
		char *name_attr = plain_attr(c, "Name");
		bool named = name_attr != NULL;
		size_t count = 0;
		xmlNode *run_end = c;
		free(name_attr);
		for (xmlNode *d = c;
		     d != NULL && !has_elem_child(d) && same_name(d, c);
		     d = next_elem(d)) {
			char *a = plain_attr(d, "Name");
			bool d_named = a != NULL;
			free(a);
			if (d_named != named)
				break;
			count++;
			run_end = d;
		}
		if (!named && count == 1) {
			text_element(out, c, depth);
			c = next_elem(c);
			continue;
		}
		line_start(out, depth, c);
		buf_append_str(out, named ? ": " : " = ");
		for (xmlNode *d = c;; d = next_elem(d)) {
			char *t = xml_trimmed_text(d);
			if (d != c)
				buf_append_str(out, ", ");
			if (named) {
				char *a = plain_attr(d, "Name");
				buf_printf(out, "%s = ", a);
				free(a);
			}
			buf_append_str(out, t);
			free(t);
			if (d == run_end)
				break;
		}
		line_end(out, c);
		c = next_elem(run_end);
	}
}

static void text_element(struct buf *out, xmlNode *n, int depth)
{
	line_start(out, depth, n);
	if (has_elem_child(n)) {
		line_end(out, n);
		text_children(out, n, depth + 1);
		return;
	}
	char *t = xml_trimmed_text(n);
	if (is_nil(n)) {
		/* WsmTxt.xsl, winrm.cmd's transform, writes nil as null
		 * (MicrosoftDocs win32 WinRM/scripting-in-windows-remote-
		 * management.md: "InstallDate = null") */
		buf_append_str(out, " = null");
	} else if (t[0] != '\0') {
		buf_append_str(out, " = ");
		buf_append_str(out, t);
	}
	free(t);
	line_end(out, n);
}

/* Drops whitespace-only text next to elements, so that dumps indent. */
static void strip_blanks(xmlNode *n)
{
	if (!has_elem_child(n))
		return;
	xmlNode *c = n->children;
	while (c != NULL) {
		xmlNode *next = c->next;
		if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (c->type == XML_ELEMENT_NODE) {
			strip_blanks(c);
		}
		c = next;
	}
}

/* The element alone, with the namespace declarations it needs. */
static void xml_element(struct buf *out, xmlNode *n, bool pretty)
{
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *copy = xmlDocCopyNode(n, doc, 1);
	xmlBuffer *xb = xmlBufferCreate();

	if (copy == NULL || xb == NULL) {
		xmlBufferFree(xb);
		xmlFreeDoc(doc);
		return;
	}
	xmlDocSetRootElement(doc, copy);
	xmlReconciliateNs(doc, copy);
	/* UTF-8 out as is, not as character references. */
	doc->encoding = xmlStrdup(BAD_CAST "UTF-8");
	if (pretty)
		strip_blanks(copy);
	if (xmlNodeDump(xb, doc, copy, 0, pretty ? 1 : 0) >= 0)
		buf_append(out, xmlBufferContent(xb),
			   (size_t)xmlBufferLength(xb));
	xmlBufferFree(xb);
	xmlFreeDoc(doc);
}

void ctl_format_element(struct buf *out, xmlNode *element, enum ctl_format fmt)
{
	switch (fmt) {
	case CTL_FMT_TEXT: text_element(out, element, 0); break;
	case CTL_FMT_XML:
	case CTL_FMT_PRETTY:
		xml_element(out, element, fmt == CTL_FMT_PRETTY);
		break;
	}
	buf_append_byte(out, '\n');
}

/* Depth-first search below n. */
static xmlNode *find_below(xmlNode *n, const char *ns, const char *local)
{
	for (xmlNode *c = first_elem(n->children); c != NULL;
	     c = next_elem(c)) {
		if (xml_is_element(c, ns, local))
			return c;
		xmlNode *d = find_below(c, ns, local);
		if (d != NULL)
			return d;
	}
	return NULL;
}

static void error_number(struct buf *out, uint32_t code, const char *text)
{
	buf_printf(out, "Error number:  %d 0x%X\n%s\n", (int)(int32_t)code,
		   (unsigned)code, text);
}

void ctl_format_client_error(struct buf *out, uint32_t code,
			     const char *message, enum ctl_format fmt)
{
	if (fmt == CTL_FMT_TEXT) {
		buf_printf(out, "WSManFault\n" INDENT "Message = %s\n\n",
			   message);
	} else {
		buf_printf(out,
			   "<f:WSManFault xmlns:f=\"" NS_WSMANFAULT
			   "\" Code=\"%u\"><f:Message>",
			   (unsigned)code);
		xml_escape(out, message);
		buf_append_str(out, "</f:Message></f:WSManFault>\n");
	}
	error_number(out, code, message);
}

void ctl_format_fault(struct buf *out, const struct ctl_response *r,
		      enum ctl_format fmt)
{
	xmlNode *wf = NULL;
	xmlNode *reason = NULL;

	if (r->body != NULL) {
		wf = find_below(r->body, NS_WSMANFAULT, "WSManFault");
		xmlNode *rs = xml_child(r->body, NS_SOAP, "Reason");
		if (rs != NULL)
			reason = xml_child(rs, NS_SOAP, "Text");
	}
	char *reason_text = reason != NULL ? collapsed_text(reason)
					   : xstrdup("");
	if (wf == NULL) {
		ctl_format_client_error(out, CTL_ERR_FAIL,
					reason_text[0] != '\0'
						? reason_text
						: "The server sent a fault "
						  "without a reason.",
					fmt);
		free(reason_text);
		return;
	}

	uint32_t code = CTL_ERR_FAIL;
	char *c = plain_attr(wf, "Code");
	if (c != NULL) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(c, &end, 0);
		if (errno == 0 && *end == '\0' &&
		    isdigit((unsigned char)c[0]) && v <= UINT32_MAX)
			code = (uint32_t)v;
	}
	free(c);
	xmlNode *msg = xml_child(wf, NS_WSMANFAULT, "Message");
	char *text = msg != NULL ? collapsed_text(msg) : xstrdup("");
	if (text[0] == '\0') {
		free(text);
		text = xstrdup(reason_text);
	}
	ctl_format_element(out, wf, fmt);
	error_number(out, code, text);
	free(text);
	free(reason_text);
}

static bool enum_ns(const xmlNode *n, const char *local)
{
	return xml_is_element(n, NS_ENUMERATION, local) ||
	       xml_is_element(n, NS_WSMAN, local);
}

int ctl_enum_page(const struct ctl_response *r, struct ctl_enum_page *p)
{
	memset(p, 0, sizeof(*p));
	if (!xml_is_element(r->body, NS_ENUMERATION, "EnumerateResponse") &&
	    !xml_is_element(r->body, NS_ENUMERATION, "PullResponse"))
		return -1;
	for (xmlNode *c = first_elem(r->body->children); c != NULL;
	     c = next_elem(c)) {
		if (xml_is_element(c, NS_ENUMERATION, "EnumerationContext")) {
			char *t = xml_trimmed_text(c);
			free(p->context);
			p->context = t[0] != '\0' ? t : NULL;
			if (p->context == NULL)
				free(t);
		} else if (enum_ns(c, "Items")) {
			for (xmlNode *i = first_elem(c->children); i != NULL;
			     i = next_elem(i)) {
				p->items = xrealloc(p->items,
						    (p->n_items + 1) *
							    sizeof(*p->items));
				p->items[p->n_items++] = i;
			}
		} else if (enum_ns(c, "EndOfSequence")) {
			p->end = true;
		}
	}
	if (p->context == NULL)
		p->end = true;
	return 0;
}

void ctl_enum_page_release(struct ctl_enum_page *p)
{
	free(p->items);
	free(p->context);
	memset(p, 0, sizeof(*p));
}
