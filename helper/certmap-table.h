/*
 * certmap-table.h - the helper's CertMapping table (certmap-table.c).
 */
#ifndef WINRMD_PRIV_CERTMAP_TABLE_H
#define WINRMD_PRIV_CERTMAP_TABLE_H

#include "lib/certmap.h"

/* The table in use, reloaded first if the file changed; NULL with
 * *error_r (caller frees) only when no table ever loaded. */
const struct certmap *certmap_table_current(char **error_r);
/* Makes t (consumed) the table in use: it was just written. */
void certmap_table_install(struct certmap *t);

#endif
