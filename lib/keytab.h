/*
 * keytab.h - the principals of a Kerberos keytab file, for the checks of
 * winrmd -t and the helper's warnings at start (does Service.Auth.Keytab
 * hold an HTTP/ key?), read without libkrb5: the listener binary, which
 * runs the checks, does not link it.
 *
 * The file format is MIT's FILE: keytab (also Heimdal's and what
 * ktpass/adcli/msktutil write): version 0x0502 (big-endian) or 0x0501
 * (host order).  Only the principal names are read; the keys are not
 * looked at, and the bytes read are wiped before they are freed.
 *
 * Must not: log, exit, keep global state, or read past an entry.
 */
#ifndef WINRMD_KEYTAB_H
#define WINRMD_KEYTAB_H

#include <stddef.h>

#include "lib/util.h"

/* Largest keytab read (a host's keytab holds a few dozen entries). */
#define KEYTAB_MAX_FILE (1024 * 1024)

/*
 * Reads the keytab at path and appends each distinct principal, written
 * "comp1/comp2@REALM", followed by "\n", to names.  Returns the number of
 * key entries (0 for an empty keytab), or -1 with err (the file cannot
 * be read, is not a regular file, or is not a keytab: err says which).
 */
int keytab_principals(const char *path, struct buf *names, char *err,
		      size_t errlen);

#endif
