/*
 * schema.h - the WMI classes winrmd answers, as data: each class's
 * properties (name, CIM type, key, array) in the order Windows renders
 * them, and its methods with their parameters.  The classes themselves
 * are declared once, in lib/wmi/classes.h; schema.c expands that file
 * into the tables below.
 *
 * Shared by the listener (it renders every instance from these tables,
 * checks selectors, filters and method parameters against them) and the
 * provider host winrmd-wmi (its collectors fill instances by property
 * index).  Neither side writes per-class XML.
 *
 * Everything here is const data and pure lookups: no allocation, no I/O,
 * no logging.
 */
#ifndef WINRMD_WMI_SCHEMA_H
#define WINRMD_WMI_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The WMI namespace winrmd serves, as it appears in resource URIs. */
#define WMI_URI_BASE "http://schemas.microsoft.com/wbem/wsman/1/wmi"
#define WMI_URI_CIMV2 WMI_URI_BASE "/root/cimv2"

/* CIM types (DSP0004) that the classes use. */
enum wmi_type {
	WMI_STRING = 1,
	WMI_BOOLEAN,
	WMI_UINT8,
	WMI_UINT16,
	WMI_UINT32,
	WMI_UINT64,
	WMI_SINT8,
	WMI_SINT16,
	WMI_SINT32,
	WMI_SINT64,
	WMI_REAL32,
	WMI_REAL64,
	WMI_DATETIME, /* rendered as <cim:Datetime> */
};

enum wmi_prop_flags {
	WMI_KEY = 1 << 0,   /* part of the instance's selector set */
	WMI_ARRAY = 1 << 1, /* zero or more values */
};

struct wmi_prop {
	const char *name;
	uint8_t type;  /* enum wmi_type */
	uint8_t flags; /* enum wmi_prop_flags */
};

enum wmi_member_kind { WMI_M_METHOD = 1, WMI_M_IN, WMI_M_OUT };

enum wmi_method_flags {
	WMI_STATIC = 1 << 0, /* called on the class, without selectors */
	WMI_ADMIN = 1 << 1,  /* administrators only (the listener refuses
				the others with ReturnValue 1314) */
};

/* The methods of a class as one flat list: a WMI_M_METHOD entry, then its
 * parameters (WMI_M_IN, WMI_M_OUT in alphabetical order), then the next
 * method.  Every method also returns ReturnValue (uint32). */
struct wmi_member {
	uint8_t kind;  /* enum wmi_member_kind */
	uint8_t type;  /* parameters: enum wmi_type */
	uint8_t flags; /* methods: enum wmi_method_flags */
	const char *name;
};

enum wmi_class_flags {
	WMI_SINGLETON = 1 << 0, /* one instance, addressed without selectors */
};

struct wmi_class {
	const char *name; /* canonical case, e.g. "Win32_Process" */
	unsigned flags;   /* enum wmi_class_flags */
	const struct wmi_prop *props;
	size_t n_props;
	const struct wmi_member *members;
	size_t n_members;
};

/* A method: its entry in the class's member list and its parameters. */
struct wmi_method {
	const char *name;
	unsigned flags;
	const struct wmi_member *params; /* WMI_M_IN / WMI_M_OUT entries */
	size_t n_params;
};

/* Every class, in lib/wmi/classes.h order. */
extern const struct wmi_class *const wmi_classes[];
extern const size_t wmi_n_classes;

/* The class called name (case-insensitive), or NULL. */
const struct wmi_class *wmi_class_find(const char *name);
/* The index of property name in c (case-insensitive), or -1. */
int wmi_prop_find(const struct wmi_class *c, const char *name);
/* Number of key properties of c. */
size_t wmi_class_n_keys(const struct wmi_class *c);
/* The method name of c (case-sensitive, as WMI's own lookup), or false. */
bool wmi_method_find(const struct wmi_class *c, const char *name,
		     struct wmi_method *m);
/* The parameter name of m of the given kind (case-sensitive), or NULL. */
const struct wmi_member *wmi_param_find(const struct wmi_method *m, int kind,
					const char *name);

/* "string", "uint32"... (DSP0004 names) for messages and man pages. */
const char *wmi_type_name(enum wmi_type t);

/*
 * The class of a resource URI: WMI_URI_CIMV2 "/" CLASS (the scheme and
 * the path compared case-insensitively).  Returns the class, or NULL with
 * *wildcard_r set when the URI names the namespace's "*" (WQL over every
 * class), or NULL when the URI is below WMI_URI_BASE but names no class
 * winrmd has (unknown class or namespace).  *wildcard_r is false unless
 * the URI is the wildcard.
 */
const struct wmi_class *wmi_class_of_uri(const char *uri, bool *wildcard_r);

/* Whether uri lies below WMI_URI_BASE "/" (case-insensitive). */
bool wmi_uri_is_wmi(const char *uri);

#endif
