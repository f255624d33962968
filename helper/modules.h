/*
 * modules.h - the modules of winrmd-priv, for helper.c's table only (no
 * module includes this file).
 */
#ifndef WINRMD_PRIV_MODULES_H
#define WINRMD_PRIV_MODULES_H

#include "helper/module.h"

extern const struct helper_module module_core;          /* helper.c */
extern const struct helper_module module_conns;         /* conns.c */
extern const struct helper_module module_auth_gss;      /* auth-gss.c */
extern const struct helper_module module_auth_basic;    /* auth-basic.c */
extern const struct helper_module module_auth_cert;     /* auth-cert.c */
extern const struct helper_module module_certmap_table; /* certmap-table.c */
extern const struct helper_module module_admin_socket;  /* admin-socket.c */
extern const struct helper_module module_tls_key;       /* tls-key.c */
extern const struct helper_module module_crypt;         /* crypt.c */
extern const struct helper_module module_spawn;         /* spawn.c */
extern const struct helper_module module_config_write;  /* config-write.c */
extern const struct helper_module module_certmap_write; /* certmap-write.c */

#endif
