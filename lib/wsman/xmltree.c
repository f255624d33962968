/*
 * xmltree.c - small helpers for reading libxml2 trees.
 */
#include "autoconfig.h"

#include "lib/wsman/xmltree.h"

#include <string.h>

#include "lib/util.h"

bool xml_is_element(const xmlNode *n, const char *ns, const char *local)
{
	return n != NULL && n->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)n->name, local) == 0 &&
	       (ns == NULL || (n->ns != NULL && n->ns->href != NULL &&
			       strcmp((const char *)n->ns->href, ns) == 0));
}

xmlNode *xml_child(const xmlNode *parent, const char *ns, const char *local)
{
	for (xmlNode *c = parent != NULL ? parent->children : NULL; c != NULL;
	     c = c->next)
		if (xml_is_element(c, ns, local))
			return c;
	return NULL;
}

/* s without XML blanks at either end: where it starts, its length in
 * *len. */
static const char *trim_blanks(const char *s, size_t *len)
{
	static const char blanks[] = " \t\r\n";
	size_t a = strspn(s, blanks), end = strlen(s);
	while (end > a && strchr(blanks, s[end - 1]) != NULL)
		end--;
	*len = end - a;
	return s + a;
}

char *xml_trimmed_text(const xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	size_t len;
	const char *s = trim_blanks(t != NULL ? (const char *)t : "", &len);
	char *out = xstrndup(s, len);
	xmlFree(t);
	return out;
}

const char *xml_trimmed_text_view(const xmlNode *n, size_t *len)
{
	const xmlNode *t = n->children;
	if (t != NULL &&
	    (t->next != NULL || t->type != XML_TEXT_NODE || t->content == NULL))
		return NULL;
	return trim_blanks(t != NULL ? (const char *)t->content : "", len);
}
