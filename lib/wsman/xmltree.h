/*
 * xmltree.h - small helpers for reading libxml2 trees: what the resource
 * handlers and winrmctl need to look at request and response bodies.
 */
#ifndef WINRMD_XMLTREE_H
#define WINRMD_XMLTREE_H

#include <stdbool.h>

#include <libxml/tree.h>

/* Whether n is the element local in namespace ns (any namespace when ns
 * is NULL). */
bool xml_is_element(const xmlNode *n, const char *ns, const char *local);
/* The first child element of parent that xml_is_element matches, or NULL. */
xmlNode *xml_child(const xmlNode *parent, const char *ns, const char *local);
/* The text content of n without surrounding blanks (caller frees). */
char *xml_trimmed_text(const xmlNode *n);
/* The same without a copy when n holds one text node or nothing: a view
 * into the tree (valid while it is), its length in *len; NULL when the
 * text is in several nodes (use xml_trimmed_text). */
const char *xml_trimmed_text_view(const xmlNode *n, size_t *len);

#endif
