/*
 * classes.h - the collectors of winrmd-wmi, one per class of
 * lib/wmi/classes.h: each provider/classes/<class>.c defines
 * provider_<Class>; main.c finds them through provider_find.
 */
#ifndef WINRMD_PROVIDER_CLASSES_H
#define WINRMD_PROVIDER_CLASSES_H

#include "lib/wmi/classes.h"
#include "provider/provider.h"

#define PROVIDER_DECLARE(cls, f)                                               \
	extern const struct provider_class provider_##cls;
WMI_CLASSES(PROVIDER_DECLARE)
#undef PROVIDER_DECLARE

/* The collector of the schema class c, or NULL. */
const struct provider_class *provider_find(const struct wmi_class *c);

#endif
