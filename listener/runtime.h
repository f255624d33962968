/*
 * runtime.h - process-wide state of the listener that outlives a request:
 * the current configuration (swapped atomically on reload) and facts about
 * the host.
 */
#ifndef WINRMD_RUNTIME_H
#define WINRMD_RUNTIME_H

#include "lib/config.h"

/* Returns a reference to the current config; the caller must config_unref. */
struct winrmd_config *runtime_config(void);
/* Makes cfg current (takes over the caller's reference). */
void runtime_set_config(struct winrmd_config *cfg);

/* Host name for f:WSManFault/@Machine and the Identify reply. */
const char *runtime_hostname(void);
/* "OS: <kernel release> SP: 0.0 Stack: 3.0" (authenticated Identify). */
const char *runtime_product_version(void);
void runtime_init(void);

#endif
