/*
 * schema.c - the class tables of lib/wmi/classes.h and their lookups
 * (schema.h).
 *
 * Must not: allocate, log, or know any class by name (classes.h is the
 * only list).  Entry points: wmi_class_find, wmi_prop_find,
 * wmi_method_find, wmi_param_find, wmi_class_of_uri.
 */
#include "autoconfig.h"

#include "lib/wmi/schema.h"

#include <string.h>
#include <strings.h>

#include "lib/wmi/classes.h"

#define KEY WMI_KEY
#define ARRAY WMI_ARRAY
#define SINGLETON WMI_SINGLETON
#define STATIC WMI_STATIC
#define ADMIN WMI_ADMIN

#define PROP(n, t, f) { #n, WMI_##t, (f) },
#define MEMBER_M(n, f) { WMI_M_METHOD, 0, (f), #n },
#define MEMBER_I(n, t) { WMI_M_IN, WMI_##t, 0, #n },
#define MEMBER_O(n, t) { WMI_M_OUT, WMI_##t, 0, #n },
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* One block per class: its properties, its members (with a terminator,
 * so that a class without methods still has an array), the class. */
#define CLASS_TABLES(cls, f)                                                   \
	static const struct wmi_prop props_##cls[] = { WMI_PROPS_##cls(        \
		PROP) };                                                       \
	static const struct wmi_member members_##cls[] = { WMI_METHODS_##cls(  \
		MEMBER_M, MEMBER_I, MEMBER_O){ 0, 0, 0, NULL } };              \
	static const struct wmi_class class_##cls = {                          \
		#cls,          (f),                                            \
		props_##cls,   N_OF(props_##cls),                              \
		members_##cls, N_OF(members_##cls) - 1,                        \
	};
WMI_CLASSES(CLASS_TABLES)

#define CLASS_ENTRY(cls, f) &class_##cls,
const struct wmi_class *const wmi_classes[] = { WMI_CLASSES(CLASS_ENTRY) };
const size_t wmi_n_classes = N_OF(wmi_classes);

const struct wmi_class *wmi_class_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < wmi_n_classes; i++)
		if (strcasecmp(wmi_classes[i]->name, name) == 0)
			return wmi_classes[i];
	return NULL;
}

int wmi_prop_find(const struct wmi_class *c, const char *name)
{
	if (c == NULL || name == NULL)
		return -1;
	for (size_t i = 0; i < c->n_props; i++)
		if (strcasecmp(c->props[i].name, name) == 0)
			return (int)i;
	return -1;
}

size_t wmi_class_n_keys(const struct wmi_class *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_props; i++)
		n += (c->props[i].flags & WMI_KEY) != 0;
	return n;
}

bool wmi_method_find(const struct wmi_class *c, const char *name,
		     struct wmi_method *m)
{
	if (c == NULL || name == NULL)
		return false;
	for (size_t i = 0; i < c->n_members; i++) {
		const struct wmi_member *e = &c->members[i];
		if (e->kind != WMI_M_METHOD || strcmp(e->name, name) != 0)
			continue;
		size_t k = i + 1;
		while (k < c->n_members && c->members[k].kind != WMI_M_METHOD)
			k++;
		m->name = e->name;
		m->flags = e->flags;
		m->params = &c->members[i + 1];
		m->n_params = k - i - 1;
		return true;
	}
	return false;
}

const struct wmi_member *wmi_param_find(const struct wmi_method *m, int kind,
					const char *name)
{
	for (size_t i = 0; i < m->n_params; i++)
		if (m->params[i].kind == kind &&
		    strcmp(m->params[i].name, name) == 0)
			return &m->params[i];
	return NULL;
}

const char *wmi_type_name(enum wmi_type t)
{
	switch (t) {
	case WMI_STRING: return "string";
	case WMI_BOOLEAN: return "boolean";
	case WMI_UINT8: return "uint8";
	case WMI_UINT16: return "uint16";
	case WMI_UINT32: return "uint32";
	case WMI_UINT64: return "uint64";
	case WMI_SINT8: return "sint8";
	case WMI_SINT16: return "sint16";
	case WMI_SINT32: return "sint32";
	case WMI_SINT64: return "sint64";
	case WMI_REAL32: return "real32";
	case WMI_REAL64: return "real64";
	case WMI_DATETIME: return "datetime";
	}
	return "?";
}

bool wmi_uri_is_wmi(const char *uri)
{
	return uri != NULL && strncasecmp(uri, WMI_URI_BASE "/",
					  strlen(WMI_URI_BASE "/")) == 0;
}

const struct wmi_class *wmi_class_of_uri(const char *uri, bool *wildcard_r)
{
	const char prefix[] = WMI_URI_CIMV2 "/";
	*wildcard_r = false;
	if (uri == NULL || strncasecmp(uri, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	const char *cls = uri + sizeof(prefix) - 1;
	if (strcmp(cls, "*") == 0) {
		*wildcard_r = true;
		return NULL;
	}
	return wmi_class_find(cls);
}
