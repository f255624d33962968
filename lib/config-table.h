/*
 * config-table.h - the key table of winrmd.conf as the configuration
 * modules see it (lib/config*.c only; everyone else uses config.h).
 *
 * config.c builds config_keys[] from config-keys.h and loads files with
 * it; config-dump.c writes configurations out with it.  The helpers here
 * reach a key's field in a struct winrmd_config (SCOPE_GLOBAL) or a struct
 * listener_config (SCOPE_LISTENER).
 *
 * Must not: log, exit, or hold anything but the table's description.
 */
#ifndef WINRMD_CONFIG_TABLE_H
#define WINRMD_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "lib/config.h"

struct enum_def {
	int (*parse)(const char *s); /* value, or -1 when not a valid name */
	const char *(*name)(int v);
	const char *allowed; /* for messages */
};

enum key_type { KT_BOOL, KT_INT, KT_STR, KT_ENUM, KT_LIST };
enum key_scope { SCOPE_GLOBAL, SCOPE_LISTENER };

struct key_def {
	const char *path; /* "Service.Auth.Basic"; LISTENER: "Port" */
	enum key_type type;
	enum key_scope scope;
	unsigned flags;                /* enum config_key_flags */
	size_t offset;                 /* of the field in its struct */
	size_t size;                   /* of the field (int or int64_t) */
	size_t count_offset;           /* KT_LIST: the size_t count */
	int64_t def;                   /* KT_BOOL, KT_INT, KT_ENUM */
	int64_t min, max;              /* KT_INT */
	const char *def_str;           /* KT_STR */
	const char *const *def_list;   /* KT_LIST, NULL-terminated */
	const struct enum_def *values; /* KT_ENUM */
};

/* Every key, in the order of config-keys.h (config.c). */
extern const struct key_def config_keys[];
extern const size_t config_n_keys;

static inline void *key_field(void *base, const struct key_def *k)
{
	return (char *)base + k->offset;
}

static inline const void *key_cfield(const void *base, const struct key_def *k)
{
	return (const char *)base + k->offset;
}

/* KT_INT, KT_ENUM: the value, whatever the field's size. */
static inline int64_t key_get_int(const void *base, const struct key_def *k)
{
	return k->size == sizeof(int64_t)
		       ? *(const int64_t *)key_cfield(base, k)
		       : *(const int *)key_cfield(base, k);
}

/* The last part of a path ("Basic" for "Service.Auth.Basic"). */
static inline const char *key_leaf(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot != NULL ? dot + 1 : path;
}

/* Digest is refused wherever it appears, with a message of its own. */
static inline bool key_is_digest(const char *name)
{
	return name != NULL && strcasecmp(name, "Digest") == 0;
}

#endif
